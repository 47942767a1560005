/* SPDX-License-Identifier: MIT */
/*
 * test_exos_clock.c - every wait of the real core on the EXOS OSAL ends
 * when EXOS's clock does not move (the PCI probe runs before the timer
 * ticks, with interrupts off: GetSystemTime() stands still), and ends at
 * about the deadline the controller gave.  The controller is a register
 * file that never sets CSTS.RDY (NVMe 1.4 §3.1.6: the host waits CAP.TO
 * for it); EXOS's busy wait is the mock's, which counts and returns.
 */
#include <string.h>

#include "mock_exos.h"
#include "nvme_osal_exos.h"

static uint32_t regs[0x2000 / 4] __attribute__((aligned(4096)));
static struct nvme_exos_osal o;
static struct nvme_osal ops;

static int setup(void **state)
{
    (void)state;
    mock_exos_reset();
    memset(regs, 0, sizeof(regs));
    memset(&o, 0, sizeof(o));
    return 0;
}

/* CAP.TO = 2 (1 s), MQES 63, CSS NVM; VS 1.4; CSTS.RDY never 1. */
static void stuck_controller(void)
{
    regs[0] = 63u | (1u << 16) /* CQR */ | (2u << 24) /* TO */;
    regs[1] = 1u << 5; /* CAP.CSS bit 37: NVM command set */
    regs[2] = 0x10400u;
}

/* Before the timer runs and with interrupts off, CC.EN = 1 waits CAP.TO
 * (1 s) for CSTS.RDY: the init fails with a timeout after about 1 s of
 * waits the OSAL counted, not never (a clock that stood with EXOS's) and
 * not at once. */
static void test_ready_wait_ends_while_exos_clock_stands_still(void **state)
{
    struct nvme_ctrl *ctrl = NULL;
    struct nvme_ctrl_opts opts;
    PCI_DEVICE pci;
    uint64_t t0, waited;
    int rc;
    (void)state;

    stuck_controller();
    mock_exos.sys_ms = 5;            /* never moves */
    mock_exos.eflags = 0;            /* interrupts off: the PCI probe */
    mock_exos.busy_ms_limit = 60000; /* a minute of waits: it never ends */
    expect_any_always(DMABufferAllocate, Size);
    expect_any_always(DMABufferAllocate, RequireContiguous);
    will_return_always(DMABufferAllocate, 0x100000); /* TRUE, then the physical base */
    memset(&pci, 0, sizeof(pci));
    nvme_exos_osal_setup(&o, &ops, regs, sizeof(regs), 0, 4, 0, (LPDEVICE)&pci);
    memset(&opts, 0, sizeof(opts));
    opts.polling = true;
    opts.no_host_memory = true;
    t0 = ops.now_us(ops.ctx);
    rc = nvme_ctrl_init(&ctrl, &ops, &opts);
    waited = ops.now_us(ops.ctx) - t0;
    assert_int_equal(rc, NVME_ERR_TIMEOUT);
    assert_null(ctrl);
    assert_in_range(waited, 1000000u, 3000000u);
    /* waited in EXOS's busy wait, not only counted */
    assert_in_range(mock_exos.busy_ms, 500u, 3000u);
    nvme_exos_osal_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ready_wait_ends_while_exos_clock_stands_still, setup),
    };
    return cmocka_run_group_tests_name("exos_clock", tests, NULL, NULL);
}
