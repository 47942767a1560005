/* SPDX-License-Identifier: MIT */
/*
 * test_osal_contract.c - the core keeps the promises nvme_osal.h and
 * PORTING.md make to a port: which callbacks run inside
 * nvme_ctrl_handle_irq(), no sleep or wait with a lock held, sleeps of at
 * most 10 ms, dma_alloc alignments a power of two no larger than the
 * controller page, frees with the size that was asked, no allocation on
 * the I/O path nor with a lock held, irq_teardown paired with irq_setup, nothing left at
 * nvme_ctrl_fini, locks let go in the reverse order of taking (a port
 * that saves the interrupt state per lock, as EXOS's does, restores it
 * right only then).  A checking OSAL wraps the simulator's.
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 256

static struct chk {
    struct nvme_osal in; /* the simulator's */
    struct nvme_ctrl *ctrl;
    int in_irq;
    int locks_held;
    void *held[8]; /* the locks held, in the order taken */
    char bad[512]; /* first violations, for the failure message */
    unsigned violations;
    unsigned allocs; /* mem_alloc + dma_alloc calls */
    unsigned irq_setups, irq_teardowns, lock_objs;
    unsigned cpu;      /* what cpu_id returns */
    unsigned nvec;     /* MSI-X table size (0: 4) */
    bool shift_bus;    /* dma_map moves the page offset (a misplaced bounce) */
    bool fini_in_wait; /* call nvme_ctrl_fini from the next sleep or wait */
    int fini_rc;
    struct {
        void *p;
        size_t size;
        bool dma;
    } blk[MAX_BLOCKS];
} C;

/* Another CPU's nvme_ctrl_fini while this one waits inside the core. */
static void fini_meanwhile(void)
{
    if (C.fini_in_wait) {
        C.fini_in_wait = false;
        C.fini_rc = nvme_ctrl_fini(C.ctrl);
    }
}

static void bad(const char *what)
{
    if (C.violations++ < 8) {
        size_t n = strlen(C.bad);
        snprintf(C.bad + n, sizeof(C.bad) - n, "%s; ", what);
    }
}

/* Callbacks nvme_osal.h ("Calling context") allows in interrupt context,
 * and, but for dma_map, under a queue pair's lock. */
static void not_in_irq(const char *fn)
{
    char m[64];
    if (C.in_irq) {
        snprintf(m, sizeof(m), "%s in irq", fn);
        bad(m);
    }
    if (C.locks_held != 0 && strcmp(fn, "dma_map") != 0) {
        snprintf(m, sizeof(m), "%s with a lock held", fn);
        bad(m);
    }
}

static void track(void *p, size_t size, bool dma)
{
    for (int i = 0; i < MAX_BLOCKS; i++)
        if (C.blk[i].p == NULL) {
            C.blk[i].p = p;
            C.blk[i].size = size;
            C.blk[i].dma = dma;
            return;
        }
    bad("too many blocks");
}

static void untrack(void *p, size_t size, bool dma)
{
    for (int i = 0; i < MAX_BLOCKS; i++)
        if (C.blk[i].p == p && C.blk[i].dma == dma) {
            if (C.blk[i].size != size)
                bad(dma ? "dma_free size differs" : "mem_free size differs");
            C.blk[i].p = NULL;
            return;
        }
    bad(dma ? "dma_free of unknown block" : "mem_free of unknown block");
}

static uint32_t w_rd32(void *x, uint32_t off) { return C.in.mmio_read32(x, off); }
static void w_wr32(void *x, uint32_t off, uint32_t v) { C.in.mmio_write32(x, off, v); }

static void *w_dma_alloc(void *x, size_t size, size_t align, uint64_t *bus)
{
    not_in_irq("dma_alloc");
    if (C.locks_held > 0)
        bad("dma_alloc with a lock held");
    C.allocs++;
    if (align == 0 || (align & (align - 1)) != 0 || align > 4096)
        bad("dma_alloc align not a power of two <= 4096 (MPS 4 KiB)");
    void *p = C.in.dma_alloc(x, size, align, bus);
    if (p)
        track(p, size, true);
    return p;
}

static void w_dma_free(void *x, void *va, size_t size)
{
    not_in_irq("dma_free");
    untrack(va, size, true);
    C.in.dma_free(x, va, size);
}

static int w_dma_map(void *x, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus)
{
    not_in_irq("dma_map");
    if (((uintptr_t)va & 4095u) + len > 4096u)
        bad("dma_map piece crosses a 4 KiB page");
    int rc = C.in.dma_map(x, va, len, dir, bus);
    if (rc == 0 && C.shift_bus)
        *bus ^= 8u;
    return rc;
}

static void w_dma_unmap(void *x, void *va, size_t len, enum nvme_dma_dir dir)
{
    C.in.dma_unmap(x, va, len, dir);
}

static void w_dma_sync(void *x, void *va, size_t len, enum nvme_dma_dir dir)
{
    C.in.dma_sync(x, va, len, dir);
}

static void *w_mem_alloc(void *x, size_t size)
{
    not_in_irq("mem_alloc");
    if (C.locks_held > 0)
        bad("mem_alloc with a lock held");
    C.allocs++;
    void *p = C.in.mem_alloc(x, size);
    if (p)
        track(p, size, false);
    return p;
}

static void w_mem_free(void *x, void *p, size_t size)
{
    not_in_irq("mem_free");
    untrack(p, size, false);
    C.in.mem_free(x, p, size);
}

static int w_irq_setup(void *x, unsigned want, bool *is_intx)
{
    not_in_irq("irq_setup");
    C.irq_setups++;
    return C.in.irq_setup(x, want, is_intx);
}

static void w_irq_teardown(void *x)
{
    not_in_irq("irq_teardown");
    C.irq_teardowns++;
    C.in.irq_teardown(x);
}

static uint64_t w_now(void *x)
{
    not_in_irq("now_us");
    return C.in.now_us(x);
}

static void w_sleep(void *x, uint32_t us)
{
    not_in_irq("sleep_us");
    if (C.locks_held != 0)
        bad("sleep_us with a lock held");
    if (us > 10000u)
        bad("sleep_us over 10 ms");
    fini_meanwhile();
    C.in.sleep_us(x, us);
}

static void w_log(void *x, enum nvme_log_level l, const char *line)
{
    if (C.in.log)
        C.in.log(x, l, line);
}

static void *w_lock_create(void *x)
{
    (void)x;
    not_in_irq("lock_create");
    C.lock_objs++;
    return calloc(1, sizeof(int));
}

static void w_lock_destroy(void *x, void *l)
{
    (void)x;
    not_in_irq("lock_destroy");
    C.lock_objs--;
    free(l);
}

/* One host thread: a held lock taken again would deadlock a spinlock. */
static void w_lock(void *x, void *l)
{
    (void)x;
    if (*(int *)l != 0)
        bad("lock taken twice");
    *(int *)l = 1;
    if (C.locks_held < 8)
        C.held[C.locks_held] = l;
    C.locks_held++;
}

static void w_unlock(void *x, void *l)
{
    (void)x;
    if (*(int *)l != 1)
        bad("unlock of a free lock");
    else if (C.locks_held <= 8 && C.held[C.locks_held - 1] != l)
        bad("unlock of a lock not the last taken");
    *(int *)l = 0;
    C.locks_held--;
}

static void w_wait(void *x, uint32_t us)
{
    not_in_irq("wait");
    if (C.locks_held != 0)
        bad("wait with a lock held");
    fini_meanwhile();
    C.in.wait(x, us);
}

static void w_wake(void *x) { C.in.wake(x); }

static void w_dma_stop(void *x)
{
    not_in_irq("dma_stop");
    C.in.dma_stop(x);
}

static void w_dma_resume(void *x)
{
    not_in_irq("dma_resume");
    C.in.dma_resume(x);
}

static unsigned w_cpu_id(void *x)
{
    (void)x;
    return C.cpu;
}

static unsigned w_irq(struct nvme_ctrl *ctrl, unsigned vector)
{
    C.in_irq++;
    unsigned n = nvme_ctrl_handle_irq(ctrl, vector);
    C.in_irq--;
    return n;
}

static void chk_start(struct fx *f, enum nvme_sim_irq_mode mode)
{
    unsigned nvec = C.nvec ? C.nvec : 4u;
    fx_config(f);
    f->cfg.irq_mode = mode;
    f->cfg.irq_vectors = nvec;
    f->cfg.wait_wake = true;
    f->cfg.io_queues = 2;
    f->opts.cpus = 2;
    fx_create(f);
    memset(&C, 0, sizeof(C));
    C.in = f->osal;
    struct nvme_osal *o = &f->osal;
    o->mmio_read32 = w_rd32;
    o->mmio_write32 = w_wr32;
    o->mmio_read64 = NULL;
    o->mmio_write64 = NULL;
    o->dma_alloc = w_dma_alloc;
    o->dma_free = w_dma_free;
    o->dma_map = w_dma_map;
    o->dma_unmap = w_dma_unmap;
    o->dma_sync = w_dma_sync;
    o->mem_alloc = w_mem_alloc;
    o->mem_free = w_mem_free;
    o->irq_setup = w_irq_setup;
    o->irq_teardown = w_irq_teardown;
    o->now_us = w_now;
    o->sleep_us = w_sleep;
    o->log = w_log;
    o->lock_create = w_lock_create;
    o->lock_destroy = w_lock_destroy;
    o->lock = w_lock;
    o->unlock = w_unlock;
    o->wait = w_wait;
    o->wake = w_wake;
    o->dma_stop = w_dma_stop;
    o->dma_resume = w_dma_resume;
    o->cpu_id = w_cpu_id;
    assert_int_equal(nvme_ctrl_init(&f->ctrl, &f->osal, &f->opts), 0);
    C.ctrl = f->ctrl;
    nvme_sim_set_irq_handler(f->sim, w_irq, f->ctrl);
}

static void chk_end(struct fx *f)
{
    assert_int_equal(nvme_ctrl_fini(f->ctrl), 0);
    f->ctrl = NULL;
    for (int i = 0; i < MAX_BLOCKS; i++)
        if (C.blk[i].p != NULL)
            bad(C.blk[i].dma ? "dma block left after fini" : "mem block left after fini");
    if (C.lock_objs != 0)
        bad("lock left after fini");
    if (C.irq_setups != C.irq_teardowns)
        bad("irq_setup without irq_teardown");
    if (C.locks_held != 0)
        bad("lock held after fini");
    if (C.violations != 0)
        fail_msg("%u contract violations: %s", C.violations, C.bad);
    assert_int_equal(nvme_sim_dma_violations(f->sim), 0);
    assert_int_equal(nvme_sim_host_errors(f->sim), 0);
    assert_int_equal(nvme_sim_dma_live(f->sim), 0);
    nvme_sim_destroy(f->sim);
}

/* The life of a port: bring-up, I/O, an asynchronous event and an error
 * event handled by nvme_ctrl_service(), a reset, I/O again, fini. */
static void run_life(struct fx *f)
{
    uint8_t *buf = fx_xalloc(8192);
    uint8_t *back = fx_xalloc(8192);
    fx_pattern(buf, 8192, 7);
    assert_true(C.irq_setups == 1);

    /* The I/O path allocates nothing (nvme_osal.h: never on the I/O path). */
    unsigned before = C.allocs;
    assert_int_equal(nvme_write(f->ctrl, 1, 0, 16, buf), 0);
    assert_int_equal(nvme_read(f->ctrl, 1, 0, 16, back), 0);
    assert_memory_equal(buf, back, 8192);
    assert_int_equal(nvme_flush(f->ctrl, 1), 0);
    assert_int_equal(nvme_write_zeroes(f->ctrl, 1, 64, 8, 0), 0);
    struct fx_rec r = {0};
    assert_int_equal(
        nvme_submit_rw(f->ctrl, NVME_QID_CPU, NVME_CMD_READ, 1, 0, 16, back, 0, fx_rec_cb, &r), 0);
    fx_poll_until(f, 1, &r, 100000);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, 0);
    assert_int_equal(C.allocs, before);

    /* SMART warning: an AER completes inside the interrupt handler. */
    nvme_sim_smart_warning(f->sim, 0x02);
    nvme_sim_advance(f->sim, 1000);
    (void)nvme_ctrl_service(f->ctrl);
    nvme_sim_error_event(f->sim, 1, 0x10, 0x0002);
    nvme_sim_advance(f->sim, 1000);
    (void)nvme_ctrl_service(f->ctrl);
    assert_int_equal(nvme_sim_post_event(f->sim, 2, 0, 0x02), 0);
    nvme_sim_advance(f->sim, 1000);
    (void)nvme_ctrl_service(f->ctrl);

    /* An admin command whose data needs a PRP list (16 KiB, four pages):
     * its list pages are allocated before the admin queue's lock is
     * taken (before: mem_alloc and dma_alloc under it), and kept for the
     * next one. */
    uint8_t *logbuf = fx_xalloc(16384);
    assert_int_equal(nvme_get_log_page(f->ctrl, 0x01, 0xffffffffu, logbuf, 16384), 0);
    before = C.allocs;
    assert_int_equal(nvme_get_log_page(f->ctrl, 0x01, 0xffffffffu, logbuf, 16384), 0);
    assert_int_equal(C.allocs - before, 1); /* the bounce, as for any admin data */
    free(logbuf);

    /* A command that fails inside the interrupt handler. */
    fx_inject(f, NVME_SIM_FAULT_STATUS, 1, NVME_CMD_READ, 0x4281, 1);
    assert_true(nvme_read(f->ctrl, 1, 0, 1, back) != 0);

    assert_int_equal(nvme_ctrl_reset(f->ctrl), 0);
    before = C.allocs;
    assert_int_equal(nvme_read(f->ctrl, 1, 0, 16, back), 0);
    assert_memory_equal(buf, back, 8192);
    assert_int_equal(C.allocs, before);
    /* The handler ran: what it called was checked. */
    assert_true(nvme_ctrl_irq_count(f->ctrl) > 0);
    free(buf);
    free(back);
}

static void given_msix_port_when_driven_then_osal_contract_holds(void **state)
{
    (void)state;
    struct fx f;
    chk_start(&f, NVME_SIM_IRQ_MSIX);
    run_life(&f);
    chk_end(&f);
}

static void given_intx_port_when_driven_then_osal_contract_holds(void **state)
{
    (void)state;
    struct fx f;
    chk_start(&f, NVME_SIM_IRQ_INTX);
    run_life(&f);
    chk_end(&f);
}

/* nvme.h: nvme_ctrl_fini while a reset runs (another CPU's) does nothing
 * and returns NVME_ERR_STATE; its message says why. */
static void given_reset_running_when_fini_then_state_and_nothing_freed(void **state)
{
    (void)state;
    struct fx f;
    chk_start(&f, NVME_SIM_IRQ_INTX); /* orderly reset: admin commands waited for */
    nvme_sim_log_capture(f.sim, true);
    C.fini_in_wait = true;
    C.fini_rc = 1;
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_false(C.fini_in_wait);
    assert_int_equal(C.fini_rc, NVME_ERR_STATE);
    assert_true(fx_log_has(&f, "nvme_ctrl_fini while a reset runs: refused"));
    uint8_t *buf = fx_xalloc(4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, buf), 0);
    free(buf);
    chk_end(&f);
}

/* nvme_osal.h dma_map: a bus address off va's offset in the page (a
 * bounce buffer placed at another offset) fails the request with
 * NVME_ERR_DMA before the device sees it, everything unmapped. */
static void given_dma_map_moves_page_offset_when_read_then_dma_error(void **state)
{
    (void)state;
    struct fx f;
    chk_start(&f, NVME_SIM_IRQ_MSIX);
    uint8_t *buf = fx_xalloc(8192);
    uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;
    C.shift_bus = true;
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_ERR_DMA);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 16, buf), NVME_ERR_DMA);
    C.shift_bus = false;
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 16, buf), 0);
    free(buf);
    chk_end(&f);
}

/* nvme_osal.h cpu_id: with fewer vectors than I/O queues + 1, vector 1
 * serves both I/O queues; CPU 1's blocking read completes through it. */
static void given_two_vectors_two_queues_when_cpu1_reads_then_vector1_serves_it(void **state)
{
    (void)state;
    struct fx f;
    C.nvec = 2;
    chk_start(&f, NVME_SIM_IRQ_MSIX);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 2);
    assert_int_equal(nvme_sim_irq_granted(f.sim), 2);
    assert_int_equal(nvme_ctrl_cpu_qid(f.ctrl, 1), 2);
    uint8_t *buf = fx_xalloc(4096);
    uint64_t v1 = nvme_sim_irq_count(f.sim, 1);
    uint64_t q2 = nvme_sim_doorbell_writes(f.sim, 2, false);
    C.cpu = 1;
    nvme_sim_set_timing(f.sim, NVME_SIM_DEFERRED, 50);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, buf), 0);
    C.cpu = 0;
    assert_true(nvme_sim_doorbell_writes(f.sim, 2, false) > q2);
    assert_true(nvme_sim_irq_count(f.sim, 1) > v1);
    free(buf);
    chk_end(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(given_msix_port_when_driven_then_osal_contract_holds),
        cmocka_unit_test(given_intx_port_when_driven_then_osal_contract_holds),
        cmocka_unit_test(given_reset_running_when_fini_then_state_and_nothing_freed),
        cmocka_unit_test(given_dma_map_moves_page_offset_when_read_then_dma_error),
        cmocka_unit_test(given_two_vectors_two_queues_when_cpu1_reads_then_vector1_serves_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
