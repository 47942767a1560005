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

static DATETIME date(U32 y, U32 mo, U32 d, U32 h, U32 mi, U32 s, U32 ms)
{
    DATETIME t;
    memset(&t, 0, sizeof(t));
    t.Year = y;
    t.Month = mo;
    t.Day = d;
    t.Hour = h;
    t.Minute = mi;
    t.Second = s;
    t.Milli = ms;
    return t;
}

/* The OSAL's time of day (the controller's Timestamp, NVMe 1.4
 * §5.21.1.14): GetLocalTime's date as milliseconds since 1970 (the same
 * figures as `date -u -d ... +%s`), leap days and the 400-year rule
 * included; 0, "unknown", when GetLocalTime fails or gives a date that
 * is not one or is before 1970. */
static void test_wall_clock_is_exos_local_time_in_ms_since_1970(void **state)
{
    static const struct {
        DATETIME t;
        uint64_t ms;
    } good[] = {
        {{1970, 1, 1, 0, 0, 0, 0}, 0},
        {{2026, 12, 5, 18, 9, 52, 21}, 1796494192021ull},
        {{2000, 2, 29, 0, 0, 0, 0}, 951782400000ull},
        {{2100, 3, 1, 12, 0, 0, 999}, 4107585600999ull},
        {{2024, 12, 31, 23, 59, 59, 0}, 1735689599000ull},
    };
    (void)state;
    nvme_exos_osal_setup(&o, &ops, regs, sizeof(regs), 0, 4, 0, NULL);
    assert_ptr_equal(ops.wall_clock_ms, nvme_exos_wall_clock_ms);
    for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        mock_exos.local_time = date(good[i].t.Year, good[i].t.Month, good[i].t.Day, good[i].t.Hour,
                                    good[i].t.Minute, good[i].t.Second, good[i].t.Milli);
        assert_int_equal(ops.wall_clock_ms(ops.ctx), good[i].ms);
    }
    mock_exos.local_time = date(1969, 12, 31, 23, 59, 59, 0);
    assert_int_equal(ops.wall_clock_ms(ops.ctx), 0);
    mock_exos.local_time = date(2026, 13, 1, 0, 0, 0, 0);
    assert_int_equal(ops.wall_clock_ms(ops.ctx), 0);
    mock_exos.local_time = date(2026, 1, 0, 0, 0, 0, 0);
    assert_int_equal(ops.wall_clock_ms(ops.ctx), 0);
    mock_exos.local_time = date(2026, 1, 1, 24, 0, 0, 0);
    assert_int_equal(ops.wall_clock_ms(ops.ctx), 0);
    mock_exos.local_time = date(2026, 12, 5, 18, 9, 52, 21);
    mock_exos.local_time_fails = TRUE;
    assert_int_equal(ops.wall_clock_ms(ops.ctx), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ready_wait_ends_while_exos_clock_stands_still, setup),
        cmocka_unit_test_setup(test_wall_clock_is_exos_local_time_in_ms_since_1970, setup),
    };
    return cmocka_run_group_tests_name("exos_clock", tests, NULL, NULL);
}
