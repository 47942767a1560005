/* SPDX-License-Identifier: MIT */
/*
 * Robustness (seed plan step 8): the device is untrusted.  Bogus and
 * duplicate completions (§4.6: CID names a command in flight), lost
 * completions and timeouts, error statuses and retries (§4.6.1, DNR),
 * controller fatal status and reset (§7.3.2, §9.5), surprise removal,
 * explicit resets with commands in flight, and broken Identify Namespace
 * data or namespace lists (§5.15.2).  No crash, hang, leak or DMA outside
 * what the OSAL handed out (fx_stop checks the last two).
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS 1000ull

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void seed_media(struct fx *f, uint32_t nsid, uint64_t lba, uint32_t count, uint32_t seed)
{
    uint8_t *b = fx_xalloc((size_t)count * 512);
    fx_pattern(b, (size_t)count * 512, seed);
    assert_int_equal(nvme_sim_ns_write(f->sim, nsid, lba, count, b), 0);
    free(b);
}

/* Reads blocks through the core and compares them with a pattern. */
static void assert_reads_pattern(struct fx *f, uint32_t nsid, uint64_t lba, uint32_t count,
                                 uint32_t seed)
{
    size_t len = (size_t)count * 512;
    uint8_t *got = fx_xalloc(len), *want = fx_xalloc(len);
    fx_pattern(want, len, seed);
    assert_int_equal(nvme_read(f->ctrl, nsid, lba, count, got), 0);
    assert_memory_equal(got, want, len);
    free(got);
    free(want);
}

/* buf holds the pattern seed_media wrote for one range with `seed`. */
static void assert_pattern(const uint8_t *buf, size_t len, uint64_t lba, uint32_t seed)
{
    (void)lba;
    uint8_t *want = fx_xalloc(len);
    fx_pattern(want, len, seed);
    assert_memory_equal(buf, want, len);
    free(want);
}

static void assert_roundtrip(struct fx *f, uint32_t nsid, uint64_t lba, uint32_t count,
                             uint32_t seed)
{
    size_t len = (size_t)count * 512;
    uint8_t *w = fx_xalloc(len);
    fx_pattern(w, len, seed);
    assert_int_equal(nvme_write(f->ctrl, nsid, lba, count, w), 0);
    free(w);
    assert_reads_pattern(f, nsid, lba, count, seed);
}

/* ------------------------------------------------------------------ */
/* Completions naming no command                                       */
/* ------------------------------------------------------------------ */

static void given_bogus_cid_0xffff_completion_is_dropped_and_read_times_out(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f); /* command_timeout_ms 2000: ticks of 100 ms, Abort window 500 ms */
    f.opts.max_retries = 1;
    fx_start_captured(&f);
    seed_media(&f, 1, 10, 4, 31);
    /* twice: the first attempt and its one replay after the reset */
    fx_inject(&f, NVME_SIM_FAULT_BOGUS_CID, NVME_SIM_ANY_IO, NVME_CMD_READ, 0xffff, 2);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t resets = st->resets, t0 = nvme_sim_now(f.sim);
    uint8_t *buf = fx_xalloc(2048);
    double w0 = wall_s();
    assert_int_equal(nvme_read(f.ctrl, 1, 10, 4, buf), NVME_ERR_TIMEOUT);
    uint64_t took = nvme_sim_now(f.sim) - t0;
    /* each attempt: its deadline, then the Abort window, then a reset */
    assert_true(took >= 2 * (2000 + 500) * MS);
    assert_true(took <= 2 * (2000 + 500 + 3 * 100 + 100) * MS);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 2);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->replays, 1);
    assert_true(wall_s() - w0 < 5.0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 2);
    assert_true(fx_log_has(&f, "no command in flight"));
    assert_true(fx_log_has(&f, "65535"));
    /* it recovered by resetting; the next read works */
    assert_true(st->resets > resets);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    assert_reads_pattern(&f, 1, 10, 4, 31);
    free(buf);
    fx_stop(&f);
}

static void given_bogus_cid_5000_once_blocking_read_is_redone_after_reset(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    seed_media(&f, 1, 0, 8, 32);
    fx_inject(&f, NVME_SIM_FAULT_BOGUS_CID, NVME_SIM_ANY_IO, NVME_CMD_READ, 5000, 1);
    uint64_t resets = nvme_sim_stats(f.sim)->resets, t0 = nvme_sim_now(f.sim);
    assert_reads_pattern(&f, 1, 0, 8, 32);
    assert_true(nvme_sim_now(f.sim) - t0 >= 2000 * MS); /* it did wait for the timeout */
    assert_true(fx_log_has(&f, "5000"));
    assert_true(nvme_sim_stats(f.sim)->resets > resets);
    fx_stop(&f);
}

static void given_bogus_cid_async_command_is_replayed_after_reset_and_called_once(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    seed_media(&f, 1, 0, 1, 33);
    fx_inject(&f, NVME_SIM_FAULT_BOGUS_CID, NVME_SIM_ANY_IO, NVME_CMD_READ, 5000, 1);
    uint8_t *buf = fx_xalloc(512);
    struct fx_rec r = {0, -100};
    uint64_t t0 = nvme_sim_now(f.sim);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf, 0, fx_rec_cb, &r), 0);
    uint64_t resets = nvme_sim_stats(f.sim)->resets;
    fx_poll_until(&f, 1, &r, 10000 * MS);
    /* timeout -> Abort (the device says nothing to abort) -> window ->
     * reset -> replay: the caller only sees its data, late */
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, 0);
    assert_pattern(buf, 512, 0, 33);
    uint64_t took = nvme_sim_now(f.sim) - t0;
    assert_true(took >= 2500 * MS && took <= 2900 * MS);
    assert_true(fx_log_has(&f, "no command in flight"));
    assert_int_equal(nvme_sim_stats(f.sim)->resets, resets + 1);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->aborts_sent, 1);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->replays, 1);
    for (int i = 0; i < 50; i++) { /* never called again */
        (void)nvme_qpair_poll(f.ctrl, 1, 0);
        nvme_sim_advance(f.sim, 1 * MS);
    }
    assert_int_equal(r.calls, 1);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    free(buf);
    fx_stop(&f);
}

static void given_bogus_cid_on_admin_command_it_times_out_and_reset_recovers(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    fx_inject(&f, NVME_SIM_FAULT_BOGUS_CID, 0, NVME_ADMIN_GET_FEATURES, 0xffff, 1);
    uint64_t resets = nvme_sim_stats(f.sim)->resets;
    uint32_t dw0 = 0;
    assert_int_equal(nvme_get_features(f.ctrl, NVME_FEAT_NUM_QUEUES, 0, &dw0), NVME_ERR_TIMEOUT);
    assert_true(fx_log_has(&f, "no command in flight"));
    assert_true(nvme_sim_stats(f.sim)->resets > resets);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    assert_int_equal(nvme_get_features(f.ctrl, NVME_FEAT_NUM_QUEUES, 0, &dw0), 0);
    assert_int_equal(dw0, nvme_sim_feature(f.sim, NVME_FEAT_NUM_QUEUES));
    assert_roundtrip(&f, 1, 40, 3, 34);
    fx_stop(&f);
}

/* A duplicate of A's completion arrives after A completed and A's
 * callback already submitted B (which may reuse A's slot): the duplicate
 * must not complete B. */
struct dup_ctx {
    struct fx *f;
    struct fx_rec a, b;
    int b_submit;
    uint8_t *bbuf;
};

static void dup_b_cb(void *arg, int result, uint32_t dw0)
{
    struct dup_ctx *c = arg;
    fx_rec_cb(&c->b, result, dw0);
}

static void dup_a_cb(void *arg, int result, uint32_t dw0)
{
    struct dup_ctx *c = arg;
    fx_rec_cb(&c->a, result, dw0);
    c->b_submit = nvme_submit_rw(c->f->ctrl, 1, NVME_CMD_READ, 1, 100, 1, c->bbuf,
                                 NVME_SUBMIT_NO_DOORBELL, dup_b_cb, c);
}

/* Also on queues of any depth: I/O queues are capped at 4096 entries, so
 * 4 CID generation bits are always left (before: a 65535-entry queue,
 * MQES 65535, had none, and the duplicate ended B with A's status while
 * the device had B's buffer; found by a review helper). */
static void duplicate_cqe_and_the_next_command(uint16_t mqes, uint16_t entries, uint16_t expect)
{
    struct fx f;
    fx_config(&f);
    f.cfg.mqes = mqes;
    f.opts.io_queue_entries = entries;
    fx_start_captured(&f);
    seed_media(&f, 1, 50, 1, 35);
    seed_media(&f, 1, 100, 1, 36);
    fx_inject(&f, NVME_SIM_FAULT_DUP_CQE, NVME_SIM_ANY_IO, NVME_CMD_READ, 0, 1);
    struct dup_ctx c = {&f, {0, -100}, {0, -100}, -100, fx_xalloc(512)};
    uint8_t *abuf = fx_xalloc(512), *want = fx_xalloc(512);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 50, 1, abuf, 0, dup_a_cb, &c), 0);
    (void)nvme_qpair_poll(f.ctrl, 1, 0); /* A's CQE, then its duplicate */
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_int_equal(c.a.calls, 1);
    assert_int_equal(c.a.result, 0);
    assert_int_equal(c.b_submit, 0);
    assert_int_equal(c.b.calls, 0); /* B never reached the device */
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 1);
    assert_true(fx_log_has(&f, "no command in flight"));
    nvme_qpair_ring(f.ctrl, 1);
    fx_poll_until(&f, 1, &c.b, 100000); /* B may complete late */
    assert_int_equal(c.a.calls, 1);
    assert_int_equal(c.b.calls, 1);
    assert_int_equal(c.b.result, 0);
    fx_pattern(want, 512, 35);
    assert_memory_equal(abuf, want, 512);
    fx_pattern(want, 512, 36);
    assert_memory_equal(c.bbuf, want, 512);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queue_entries, expect);
    free(abuf);
    free(want);
    free(c.bbuf);
    fx_stop(&f);
}

static void given_duplicate_cqe_it_does_not_complete_the_next_command(void **state)
{
    (void)state;
    duplicate_cqe_and_the_next_command(1023, 0, 256);
    duplicate_cqe_and_the_next_command(65535, 65535, 4096);
    duplicate_cqe_and_the_next_command(65535, 4097, 4096);
}

static void given_duplicate_cqes_blocking_io_keeps_working(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mqes = 3; /* duplicates also eat CQ slots of a tiny ring */
    fx_start_captured(&f);
    fx_inject(&f, NVME_SIM_FAULT_DUP_CQE, NVME_SIM_ANY_IO, NVME_SIM_ANY, 0, 5);
    for (uint32_t i = 0; i < 6; i++)
        assert_roundtrip(&f, 1, 8u * i, 2, 40 + i);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 5);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* Lost and late completions                                           */
/* ------------------------------------------------------------------ */

static void given_dropped_completions_read_times_out_bounded_and_data_survive(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.command_timeout_ms = 1000; /* ticks of 100 ms, Abort window 250 ms */
    f.opts.max_retries = 1;
    fx_start_captured(&f);
    uint8_t *w = fx_xalloc(16 * 512), *r = fx_xalloc(16 * 512);
    fx_pattern(w, 16 * 512, 50);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 16, w), 0);
    fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_READ, 0, 2);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t resets = st->resets, enables = st->enables, t0 = nvme_sim_now(f.sim);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 16, r), NVME_ERR_TIMEOUT);
    uint64_t took = nvme_sim_now(f.sim) - t0;
    assert_true(took >= 2 * (1000 + 250) * MS);       /* both attempts waited it out */
    assert_true(took <= 2 * (1000 + 250 + 400) * MS); /* and not much longer */
    assert_true(st->resets > resets);
    assert_true(st->enables > enables);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    memset(r, 0, 16 * 512);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 16, r), 0);
    assert_memory_equal(w, r, 16 * 512);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 0, 16, r), 0);
    assert_memory_equal(w, r, 16 * 512);
    free(w);
    free(r);
    fx_stop(&f);
}

static void given_dropped_completion_once_blocking_write_is_redone_after_reset(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.command_timeout_ms = 500;
    fx_start_captured(&f);
    fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_WRITE, 0, 1);
    uint64_t resets = nvme_sim_stats(f.sim)->resets;
    assert_roundtrip(&f, 1, 77, 5, 51);
    assert_true(nvme_sim_stats(f.sim)->resets > resets);
    assert_true(fx_log_has(&f, "timed out"));
    fx_stop(&f);
}

/* A timeout reset with a level-triggered INTx line deletes the I/O
 * queues before CC.EN=0 (as Linux's nvme_dev_disable does for a live
 * controller): a command the controller completes after CC.EN=0 can
 * leave the line asserted with no CQ left to lower it (QEMU 7.2: ~100,000
 * interrupts nobody claims, tests/qemu recovery-throttle-intx).  With
 * MSI-X the reset goes straight to CC.EN=0.  Counted: the admin commands
 * between the timeout and the restart's CC.EN=1 (Delete I/O SQ and CQ per
 * queue, and the Abort), and the write is redone either way. */
static void given_intx_a_timeout_reset_deletes_the_io_queues_first(void **state)
{
    (void)state;
    uint64_t admin[2];
    for (int intx = 0; intx < 2; intx++) {
        struct fx f;
        fx_config(&f);
        f.cfg.irq_mode = intx ? NVME_SIM_IRQ_INTX : NVME_SIM_IRQ_MSIX;
        f.opts.command_timeout_ms = 500;
        f.opts.io_queues = 2;
        fx_start_captured(&f);
        assert_int_equal(nvme_ctrl_get_info(f.ctrl)->irq_is_intx, intx != 0);
        fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_WRITE, 0, 1);
        const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
        uint64_t resets = st->resets, a0 = st->admin_cmds;
        assert_roundtrip(&f, 1, 77, 5, 51);
        assert_true(st->resets > resets);
        admin[intx] = st->admin_cmds - a0;
        assert_true(nvme_ctrl_is_ready(f.ctrl));
        fx_stop(&f);
    }
    /* Two I/O queue pairs: two Delete SQ and two Delete CQ more. */
    if (admin[1] != admin[0] + 4)
        fail_msg("admin commands: INTx %llu, MSI-X %llu (want 4 more with INTx)",
                 (unsigned long long)admin[1], (unsigned long long)admin[0]);
}

/* Late, but inside the Abort window (2 s deadline + 500 ms): the
 * completion is the command's, no reset, called once. */
static void given_completion_after_timeout_callback_still_runs_once(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.abort_mode = NVME_SIM_ABORT_REFUSE; /* "not aborted": the window runs */
    fx_start_captured(&f);
    seed_media(&f, 1, 3, 1, 52);
    fx_inject(&f, NVME_SIM_FAULT_DELAY, NVME_SIM_ANY_IO, NVME_CMD_READ, 2300 * MS, 1);
    size_t live0 = nvme_sim_dma_live(f.sim);
    uint64_t resets = nvme_sim_stats(f.sim)->resets;
    uint8_t *buf = fx_xalloc(512);
    struct fx_rec r = {0, -100};
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 3, 1, buf, 0, fx_rec_cb, &r), 0);
    size_t live1 = nvme_sim_dma_live(f.sim);
    for (int i = 0; i < 2250; i++) { /* past the deadline: owned by the device still */
        (void)nvme_qpair_poll(f.ctrl, 1, 0);
        nvme_sim_advance(f.sim, 1 * MS);
    }
    assert_int_equal(r.calls, 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), live1); /* still mapped */
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 1);
    fx_poll_until(&f, 1, &r, 1000 * MS); /* the late CQE arrives at 2.3 s */
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, 0);
    assert_pattern(buf, 512, 3, 52);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), live0); /* buffer unmapped by then */
    assert_int_equal(nvme_sim_stats(f.sim)->resets, resets);
    assert_reads_pattern(&f, 1, 3, 1, 52);
    free(buf);
    fx_stop(&f);
}

/* Three reads late at once, with an admin queue of 4 entries (one AER,
 * room for two more): the third Abort finds no slot.  It waits for a
 * later tick (§5.1 puts no bound on when an Abort goes) instead of a
 * reset that would end every command for want of an admin slot. */
static void abort_finding_the_admin_queue_full_waits_for_a_slot_instead_of_resetting(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.admin_queue_entries = 4;
    fx_start_captured(&f);
    for (uint32_t i = 0; i < 3; i++)
        seed_media(&f, 1, i, 1, 61 + i);
    fx_inject(&f, NVME_SIM_FAULT_DELAY, NVME_SIM_ANY_IO, NVME_CMD_READ, 60000 * MS, 3);
    uint64_t resets = nvme_sim_stats(f.sim)->resets;
    uint8_t *buf[3];
    struct fx_rec r[3];
    for (int i = 0; i < 3; i++) {
        buf[i] = fx_xalloc(512);
        r[i] = (struct fx_rec){0, -100};
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, (uint64_t)i, 1, buf[i], 0,
                                        fx_rec_cb, &r[i]),
                         0);
    }
    for (int i = 0; i < 3; i++)
        fx_poll_until(&f, 1, &r[i], 10000 * MS);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].result, 0); /* aborted, then retried (§5.1) */
        assert_pattern(buf[i], 512, (uint64_t)i, 61u + (uint32_t)i);
        free(buf[i]);
    }
    assert_int_equal(nvme_sim_stats(f.sim)->resets, resets);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->aborts_sent, 3);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* Error statuses                                                      */
/* ------------------------------------------------------------------ */

static void given_media_error_with_dnr_read_returns_status_without_retry(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    uint16_t sf = (uint16_t)(NVME_SF(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ) | NVME_SF_DNR_BIT);
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_READ, sf, 1);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t io0 = st->io_cmds, resets = st->resets;
    uint8_t *buf = fx_xalloc(512);
    int rc = nvme_read(f.ctrl, 1, 0, 1, buf);
    assert_true(rc > 0);
    assert_int_equal(rc, sf);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Unrecovered Read Error");
    assert_int_equal(NVME_SF_DNR((uint16_t)rc), 1);
    assert_int_equal(NVME_SF_SCT((uint16_t)rc), NVME_SCT_MEDIA);
    assert_int_equal(st->io_cmds, io0 + 1); /* DNR: not retried */
    assert_int_equal(st->resets, resets);   /* a status is no reason to reset */
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    free(buf);
    fx_stop(&f);
}

static void given_retryable_status_without_dnr_read_succeeds_after_retry(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    seed_media(&f, 1, 20, 2, 60);
    uint16_t sf = NVME_SF(NVME_SCT_GENERIC, NVME_SC_NS_NOT_READY); /* DNR clear */
    assert_true(nvme_status_retryable(sf));
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_READ, sf, 1);
    uint64_t io0 = nvme_sim_stats(f.sim)->io_cmds;
    assert_reads_pattern(&f, 1, 20, 2, 60);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, io0 + 2);
    fx_stop(&f);
}

static void given_retryable_status_every_time_read_gives_up_after_few_tries(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    uint16_t sf = NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_READ, sf, 1000);
    uint64_t io0 = nvme_sim_stats(f.sim)->io_cmds;
    uint8_t *buf = fx_xalloc(512);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), sf);
    uint64_t tries = nvme_sim_stats(f.sim)->io_cmds - io0;
    assert_int_equal(tries, 1 + 5); /* the first try and the default budget of 5 */
    nvme_sim_clear_faults(f.sim);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    free(buf);
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* Controller fatal status, surprise removal                           */
/* ------------------------------------------------------------------ */

static void given_cfs_during_read_core_resets_and_the_read_succeeds(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    seed_media(&f, 1, 30, 4, 70);
    fx_inject(&f, NVME_SIM_FAULT_CFS, NVME_SIM_ANY_IO, NVME_CMD_READ, 0, 1);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t resets = st->resets, enables = st->enables;
    double w0 = wall_s();
    assert_reads_pattern(&f, 1, 30, 4, 70);
    assert_true(wall_s() - w0 < 5.0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_int_equal(nvme_sim_reg_peek(f.sim, NVME_REG_CSTS) & NVME_CSTS_CFS, 0);
    assert_true(st->resets > resets);
    assert_true(st->enables > enables);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    assert_roundtrip(&f, 1, 90, 2, 71);
    fx_stop(&f);
}

static void given_cfs_set_while_idle_next_read_resets_and_succeeds(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    seed_media(&f, 1, 0, 1, 72);
    nvme_sim_set_cfs(f.sim, true);
    assert_false(nvme_ctrl_is_ready(f.ctrl));
    uint64_t resets = nvme_sim_stats(f.sim)->resets;
    assert_reads_pattern(&f, 1, 0, 1, 72);
    assert_true(nvme_sim_stats(f.sim)->resets > resets);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    fx_stop(&f);
}

static void given_sticky_cfs_during_read_it_fails_clearly_and_fini_returns(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.cfs_sticky = true;
    fx_start_captured(&f);
    fx_inject(&f, NVME_SIM_FAULT_CFS, NVME_SIM_ANY_IO, NVME_CMD_READ, 0, 1);
    uint8_t *buf = fx_xalloc(512);
    double w0 = wall_s();
    uint64_t t0 = nvme_sim_now(f.sim);
    int rc = nvme_read(f.ctrl, 1, 0, 1, buf);
    /* a host error, not success and not a made-up device status */
    assert_true(rc == NVME_ERR_FATAL || rc == NVME_ERR_ABORTED);
    assert_false(nvme_ctrl_is_ready(f.ctrl));
    assert_true(nvme_sim_now(f.sim) - t0 < 30000 * MS);
    rc = nvme_read(f.ctrl, 1, 0, 1, buf);
    assert_true(rc < 0);
    assert_true(wall_s() - w0 < 5.0);
    assert_true(fx_log_has(&f, "fatal"));
    free(buf);
    fx_stop(&f);
}

static void given_device_gone_mid_read_it_returns_gone_quickly_and_fini_returns(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    fx_inject(&f, NVME_SIM_FAULT_GONE, NVME_SIM_ANY_IO, NVME_CMD_READ, 0, 1);
    uint8_t *buf = fx_xalloc(4096);
    double w0 = wall_s();
    uint64_t t0 = nvme_sim_now(f.sim);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, buf), NVME_ERR_GONE);
    assert_true(nvme_sim_now(f.sim) - t0 < 250 * MS); /* a tick or two, not a timeout */
    assert_false(nvme_ctrl_is_ready(f.ctrl));
    assert_true(nvme_read(f.ctrl, 1, 0, 8, buf) < 0);
    assert_true(nvme_write(f.ctrl, 1, 0, 8, buf) < 0);
    assert_true(nvme_flush(f.ctrl, 1) < 0);
    uint32_t dw0;
    assert_true(nvme_get_features(f.ctrl, NVME_FEAT_NUM_QUEUES, 0, &dw0) < 0);
    assert_true(wall_s() - w0 < 5.0);
    free(buf);
    fx_stop(&f); /* fini returns, nothing leaked */
}

static void given_device_gone_while_idle_next_read_returns_gone(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    fx_start_captured(&f);
    nvme_sim_set_gone(f.sim, true);
    assert_false(nvme_ctrl_is_ready(f.ctrl));
    uint8_t *buf = fx_xalloc(512);
    uint64_t t0 = nvme_sim_now(f.sim);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_ERR_GONE);
    assert_true(nvme_sim_now(f.sim) - t0 < 250 * MS);
    free(buf);
    fx_stop(&f);
}

/* Writes the controller completed (their entries posted to queue 2, not
 * reaped: no interrupt handled yet) before its registers read all ones:
 * the poll of queue 1 finds the device gone.  Once the port's dma_stop
 * cut it off (or with it truly gone) those entries are final, and each
 * command ends with its own status, as Linux's nvme_dev_disable reaps
 * the pending entries (nvme_reap_pending_cqes) after it disabled the PCI
 * device: the write landed, so it is not reported failed (a caller would
 * write it again, a Zone Append twice), nor is its dw0 lost.  The one the
 * device still holds fails NVME_ERR_GONE.  Likewise when a reset asked
 * for finds the device gone. */
static void given_device_gone_writes_it_had_completed_end_with_their_status(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        struct fx f;
        fx_config(&f);
        f.cfg.dma_timing_seed = 0; /* entries posted inside the doorbell */
        f.opts.io_queues = 2;
        fx_start_captured(&f);
        /* The third write stays in the device. */
        fx_inject(&f, NVME_SIM_FAULT_HANG, 2, NVME_CMD_WRITE, 0, 1);
        uint8_t *buf = fx_xalloc(3 * 4096);
        fx_pattern(buf, 3 * 4096, 80u + (uint32_t)round);
        struct fx_rec r[3];
        for (int i = 0; i < 3; i++) {
            r[i] = (struct fx_rec){0, -100};
            int at = i; /* the hung one first */
            assert_int_equal(nvme_submit_rw(f.ctrl, 2, NVME_CMD_WRITE, 1, (uint64_t)at * 8, 8,
                                            buf + at * 4096, 0, fx_rec_cb, &r[at]),
                             0);
        }
        for (int i = 0; i < 3; i++)
            assert_int_equal(r[i].calls, 0); /* nobody reaped */
        nvme_sim_set_gone(f.sim, true);
        if (round == 0) {
            for (int i = 0; i < 300 && r[0].calls == 0; i++) {
                int rc = nvme_qpair_poll(f.ctrl, 1, 0);
                assert_true(rc == 0 || rc == NVME_ERR_GONE);
                nvme_sim_advance(f.sim, 1 * MS);
            }
        } else {
            assert_int_equal(nvme_ctrl_reset(f.ctrl), NVME_ERR_GONE);
        }
        assert_int_equal(r[0].calls, 1);
        assert_int_equal(r[0].result, NVME_ERR_GONE); /* still the device's */
        for (int i = 1; i < 3; i++) {
            assert_int_equal(r[i].calls, 1);
            assert_int_equal(r[i].result, 0); /* done before it went */
        }
        nvme_sim_set_gone(f.sim, false);
        nvme_sim_clear_faults(f.sim);
        assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
        uint8_t *got = fx_xalloc(2 * 4096);
        assert_int_equal(nvme_read(f.ctrl, 1, 8, 16, got), 0);
        assert_memory_equal(got, buf + 4096, 2 * 4096); /* on the medium */
        free(got);
        free(buf);
        fx_stop(&f);
    }
}

/* nvme.h, nvme_qpair_poll: "Returns the number reaped, or < 0 on a
 * controller error (CFS, device gone)."  An asynchronous user that only
 * polls must learn about it well before the command timeout. */
static void given_device_gone_nvme_qpair_poll_reports_it(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 100;
    fx_start_captured(&f);
    uint8_t *buf = fx_xalloc(512);
    struct fx_rec r = {0, -100};
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf, 0, fx_rec_cb, &r), 0);
    nvme_sim_set_gone(f.sim, true);
    int worst = 0;
    for (int i = 0; i < 250 && worst >= 0; i++) { /* 2.5 ticks; the timeout is 2 s */
        int rc = nvme_qpair_poll(f.ctrl, 1, 0);
        if (rc < worst)
            worst = rc;
        nvme_sim_advance(f.sim, 1 * MS);
    }
    assert_int_equal(worst, NVME_ERR_GONE);
    fx_stop(&f);
    assert_int_equal(r.calls, 1); /* failed back by then, exactly once */
    free(buf);
}

/* CSTS.CFS seen by a poller: the next poll resets the controller (a
 * disable clears CFS, §7.3.2) and the command is replayed; the poller
 * sees its completion, once, well before the command timeout. */
static void given_cfs_while_polling_controller_is_reset_and_command_replayed(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 100;
    fx_start_captured(&f);
    seed_media(&f, 1, 0, 1, 73);
    uint8_t *buf = fx_xalloc(512);
    struct fx_rec r = {0, -100};
    uint64_t resets = nvme_sim_stats(f.sim)->resets;
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf, 0, fx_rec_cb, &r), 0);
    nvme_sim_set_cfs(f.sim, true);
    for (int i = 0; i < 250 && r.calls == 0; i++) { /* 2.5 ticks; the timeout is 2 s */
        assert_true(nvme_qpair_poll(f.ctrl, 1, 0) >= 0);
        nvme_sim_advance(f.sim, 1 * MS);
    }
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, 0);
    assert_pattern(buf, 512, 0, 73);
    assert_int_equal(nvme_sim_stats(f.sim)->resets, resets + 1);
    assert_true(fx_log_has(&f, "fatal"));
    fx_stop(&f);
    free(buf);
}

/* An NVM Subsystem Reset another host makes (NSSR written behind the
 * core's back) resets our controller too (NVMe 2.0 §3.7.1): CC.EN 0,
 * CSTS.RDY 0, CSTS.NSSRO set.  While the driver is idle it was noticed
 * only at the next command's deadline; now the next service call's tick,
 * whose CSTS read sees NSSRO with RDY 0, resets at once, as Linux's
 * nvme_should_reset looks at NSSRO, and the restart clears the bit. */
static void an_nvm_subsystem_reset_while_idle_is_handled_at_the_next_service_call(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    uint64_t resets = nvme_ctrl_get_stats(f.ctrl)->resets;
    f.osal.mmio_write32(f.osal.ctx, NVME_REG_NSSR, NVME_NSSR_VALUE); /* another host's */
    nvme_sim_advance(f.sim, 1000 * MS);
    assert_int_equal(nvme_sim_reg_peek(f.sim, NVME_REG_CSTS) & (NVME_CSTS_RDY | NVME_CSTS_NSSRO),
                     NVME_CSTS_NSSRO); /* stopped */
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, resets + 1);
    assert_int_equal(nvme_ctrl_read_csts(f.ctrl) & NVME_CSTS_NSSRO, 0); /* cleared */
    assert_true(fx_log_has(&f, "NVM Subsystem Reset"));
    uint8_t *buf = fx_xalloc(512);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    /* A second service call: no second reset (the bit was cleared). */
    nvme_sim_advance(f.sim, 1000 * MS);
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, resets + 1);
    free(buf);
    fx_stop(&f);
}

/* The same with a read in flight: the subsystem reset dropped it, and the
 * first tick (an eighth of the 2 s timeout) resets and replays it, long
 * before its deadline, with no timeout counted.  A CSTS.NSSRO stuck at 1
 * on a controller that runs (RDY 1) starts no reset. */
static void
an_nvm_subsystem_reset_with_a_read_in_flight_replays_it_before_its_deadline(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 100;
    fx_start_captured(&f);
    seed_media(&f, 1, 0, 1, 41);
    uint8_t *buf = fx_xalloc(512);
    struct fx_rec r = {0, -100};
    uint64_t resets = nvme_ctrl_get_stats(f.ctrl)->resets;
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf, 0, fx_rec_cb, &r), 0);
    f.osal.mmio_write32(f.osal.ctx, NVME_REG_NSSR, NVME_NSSR_VALUE);
    for (int i = 0; i < 600 && r.calls == 0; i++) { /* 0.6 s; the timeout is 2 s */
        assert_true(nvme_qpair_poll(f.ctrl, 1, 0) >= 0);
        nvme_sim_advance(f.sim, 1 * MS);
    }
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, 0);
    assert_pattern(buf, 512, 0, 41);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, resets + 1);
    /* NSSRO that will not clear: one reset for the subsystem reset, none
     * at the ticks after it, the controller running. */
    nvme_sim_nssro_stuck(f.sim, true);
    f.osal.mmio_write32(f.osal.ctx, NVME_REG_NSSR, NVME_NSSR_VALUE);
    for (int i = 0; i < 4; i++) {
        nvme_sim_advance(f.sim, 1000 * MS);
        assert_int_equal(nvme_ctrl_service(f.ctrl), 0);
    }
    assert_int_equal(nvme_ctrl_read_csts(f.ctrl) & NVME_CSTS_NSSRO, NVME_CSTS_NSSRO);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, resets + 2);
    fx_stop(&f);
    free(buf);
}

/* ------------------------------------------------------------------ */
/* Explicit reset                                                      */
/* ------------------------------------------------------------------ */

/* A Write Zeroes, a Deallocate (Dataset Management) or a Write
 * Uncorrectable of namespace 1 (512-byte blocks) held by a reset (a fatal
 * status, CSTS.CFS, before it ran) while another host formatted the
 * namespace with 4096-byte blocks: no notice tells (the reset ends it),
 * so the restart's Identify Namespace for the held commands (recovery.c
 * nvme_replay_ns_check) is what sees it.  Their LBA and block count are
 * counted in the old blocks: sent again they would zero, deallocate or
 * mark bad 4 KiB blocks 8..15, 32 KiB of other data, where the caller
 * meant 4 KiB.  They fail NVME_ERR_ABORTED, as a rescan fails every
 * command naming blocks of a namespace whose format changed
 * (nvme_recovery_ns_changed), and the data stay. */
static void a_reset_does_not_replay_a_block_command_counted_in_the_old_block_size(void **state)
{
    (void)state;
    static const uint8_t opc[3] = {NVME_CMD_WRITE_ZEROES, NVME_CMD_DSM, NVME_CMD_WRITE_UNCOR};
    for (int round = 0; round < 3; round++) {
        struct fx f;
        fx_config(&f);
        f.cfg.oncs |= NVME_ONCS_WRITE_UNC;
        fx_start_captured(&f);
        struct nvme_sim_ns_config again = f.ns[0];
        again.lba_size = 4096;
        again.blocks = 1024;
        assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
        assert_int_equal(nvme_sim_ns_add(f.sim, &again), 0);
        uint8_t *want = fx_xalloc(8 * 4096), *got = fx_xalloc(8 * 4096);
        fx_pattern(want, 8 * 4096, 90u + (uint32_t)round);
        assert_int_equal(nvme_sim_ns_write(f.sim, 1, 8, 8, want), 0);
        fx_inject(&f, NVME_SIM_FAULT_CFS, NVME_SIM_ANY_IO, opc[round], 0, 1);
        const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
        uint64_t resets = st->resets, uncor = st->uncor_blocks;
        int rc = round == 0   ? nvme_write_zeroes(f.ctrl, 1, 8, 8, 0)
                 : round == 1 ? nvme_deallocate(f.ctrl, 1, 8, 8)
                              : nvme_write_uncorrectable(f.ctrl, 1, 8, 8);
        assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
        assert_true(st->resets > resets);
        assert_int_equal(rc, NVME_ERR_ABORTED);
        assert_int_equal(nvme_sim_ns_read(f.sim, 1, 8, 8, got), 0);
        assert_memory_equal(got, want, 8 * 4096);  /* not zeroed nor deallocated */
        assert_int_equal(st->uncor_blocks, uncor); /* nor marked bad */
        free(want);
        free(got);
        fx_stop(&f);
    }
}

/* Another host makes namespace 1 again with 4096-byte blocks (was 512)
 * while the controller is reset, with no command of it held: the
 * restart's Identify Namespace (recovery.c nvme_replay_ns_check) covers
 * every namespace of the model, so a read of 8 blocks into a 4 KiB buffer
 * right after the reset, before any rescan, fails NVME_ERR_BUSY rather
 * than go out on the old format (32 KiB through the 4 KiB buffer).  The
 * unchanged namespace 2 stays usable; the next service call's rescan
 * publishes 4096 and the namespace works again. */
static void a_reset_marks_a_namespace_formatted_meanwhile_busy_until_the_rescan(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 1000, .lba_size = 512};
    f.cfg.ns_count = 2;
    fx_start_captured(&f);
    struct nvme_sim_ns_config again = f.ns[0];
    again.lba_size = 4096;
    again.blocks = 1024;
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    assert_int_equal(nvme_sim_ns_add(f.sim, &again), 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    uint8_t *buf = fx_xalloc(4096);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 512); /* no rescan yet */
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, buf), NVME_ERR_BUSY);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 8, buf), 0); /* unchanged: usable */
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    free(buf);
    fx_stop(&f);
}

/* Another host deletes (or detaches) namespace 1 while our controller
 * resets: the restart's Identify Namespace of it reads all zeroes (an
 * inactive NSID, §5.15.2.1).  The model kept it usable with its old size
 * until the rescan; now it is NVME_ERR_BUSY from the restart on, as one
 * formatted meanwhile (row 35jv), and the rescan removes it.  The same for
 * an NSID the controller refuses Invalid Namespace. */
static void a_reset_marks_a_namespace_deleted_meanwhile_busy_until_the_rescan(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 1000, .lba_size = 512};
    f.cfg.ns_count = 2;
    fx_start_captured(&f);
    uint8_t *buf = fx_xalloc(4096);
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_non_null(nvme_ns_find(f.ctrl, 1)); /* no rescan yet */
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->status, NVME_ERR_BUSY);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_ERR_BUSY);
    assert_int_equal(nvme_ns_find(f.ctrl, 2)->status, NVME_OK);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 8, buf), 0); /* unchanged: usable */
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0);
    const struct nvme_ns_info *ns1 = nvme_ns_find(f.ctrl, 1);
    assert_true(ns1 == NULL || ns1->status != NVME_OK);
    assert_int_not_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    /* Invalid Namespace (with DNR) for NSID 2: the restart's second
     * Identify, after Identify Controller's. */
    struct nvme_sim_fault inv = {NVME_SIM_FAULT_STATUS,
                                 0,
                                 NVME_ADMIN_IDENTIFY,
                                 NVME_SIM_ANY,
                                 NVME_SF(NVME_SCT_GENERIC, NVME_SC_INVALID_NS) | NVME_SF_DNR_BIT,
                                 1,
                                 1};
    assert_int_equal(nvme_sim_inject(f.sim, &inv), 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_true(fx_log_has(&f, "namespace 2 changed during the reset: busy"));
    assert_int_equal(nvme_ns_find(f.ctrl, 2)->status, NVME_ERR_BUSY);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 1, buf), NVME_ERR_BUSY);
    free(buf);
    fx_stop(&f);
}

/* The restart's namespace check without memory for its Identify page
 * (the second allocation of the restart, after Identify Controller's):
 * nothing can be checked, so every namespace is NVME_ERR_BUSY until the
 * rescan, rather than namespace 1, formatted with 4 KiB blocks meanwhile,
 * taking an 8-block read on its old 512-byte format (32 KiB through the
 * 4 KiB buffer).  The same when only the bounce buffer of its Identify
 * (DMA memory) is missing: that namespace is busy, the other checked. */
static void a_reset_without_memory_for_the_namespace_check_marks_them_busy(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 1000, .lba_size = 512};
    f.cfg.ns_count = 2;
    fx_start_captured(&f);
    uint8_t *buf = fx_xalloc(4096);
    struct nvme_sim_ns_config again = f.ns[0];
    again.lba_size = 4096;
    again.blocks = 1024;
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    assert_int_equal(nvme_sim_ns_add(f.sim, &again), 0);
    nvme_sim_fail_osal(f.sim, NVME_SIM_FAIL_MEM_ALLOC, 1);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    nvme_sim_fail_osal(f.sim, NVME_SIM_FAIL_MEM_ALLOC, -1);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, buf), NVME_ERR_BUSY);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 8, buf), NVME_ERR_BUSY);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0); /* the rescan */
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 8, buf), 0);
    /* Namespace 1 formatted back to 512-byte blocks during the next reset,
     * whose Identify of it finds no DMA memory for its bounce buffer. */
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    assert_int_equal(nvme_sim_ns_add(f.sim, &f.ns[0]), 0);
    nvme_sim_fail_osal(f.sim, NVME_SIM_FAIL_DMA_ALLOC, 1);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    nvme_sim_fail_osal(f.sim, NVME_SIM_FAIL_DMA_ALLOC, -1);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_ERR_BUSY);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 8, buf), 0);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 512);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, buf), 0);
    free(buf);
    fx_stop(&f);
}

static void given_commands_in_flight_reset_replays_each_once_and_io_works_after(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 10000;
    f.opts.io_queues = 2;
    fx_start_captured(&f);
    /* q1's reads hang (their completions would come 1 s later, and the
     * queue's deletion drops them): none is done when the reset stops the
     * controller (a done one completes instead: test_lifecycle). */
    fx_inject(&f, NVME_SIM_FAULT_DELAY, 1, NVME_CMD_READ, 1000 * MS, 4);
    uint8_t *buf = fx_xalloc(6 * 512);
    struct fx_rec r[6];
    size_t live0 = nvme_sim_dma_live(f.sim);
    for (int i = 0; i < 6; i++) {
        r[i] = (struct fx_rec){0, -100};
        uint16_t q = i < 4 ? 1 : 2; /* q1 rung, q2 still waiting for its doorbell */
        unsigned flags = i < 4 ? 0 : NVME_SUBMIT_NO_DOORBELL;
        assert_int_equal(nvme_submit_rw(f.ctrl, q, NVME_CMD_READ, 1, (uint64_t)i, 1, buf + i * 512,
                                        flags, fx_rec_cb, &r[i]),
                         0);
    }
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 4);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 2), 2);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t resets = st->resets, enables = st->enables;

    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);

    /* Lifecycle rule 4: the controller was stopped, then the commands
     * were replayed on the new queues: nobody sees an error. */
    assert_int_equal(st->resets, resets + 1);
    assert_int_equal(st->enables, enables + 1);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->replays, 6);
    nvme_qpair_ring(f.ctrl, 2);
    for (int i = 0; i < 100; i++) {
        (void)nvme_qpair_poll(f.ctrl, 1, 0);
        (void)nvme_qpair_poll(f.ctrl, 2, 0);
        nvme_sim_advance(f.sim, 1 * MS);
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].result, 0);
    }
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 2), 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), live0); /* buffers unmapped */
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 2);
    for (uint16_t q = 1; q <= 2; q++) {
        assert_true(nvme_sim_queue_exists(f.sim, q, false));
        assert_true(nvme_sim_queue_exists(f.sim, q, true));
    }
    nvme_sim_advance(f.sim, 50 * MS); /* nothing of the old commands comes back */
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 0);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 2, 0), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(r[i].calls, 1);
    assert_roundtrip(&f, 1, 500, 16, 80);
    struct fx_rec fl = {0, -100};
    assert_int_equal(nvme_submit_flush(f.ctrl, 2, 1, 0, fx_rec_cb, &fl), 0);
    fx_poll_until(&f, 2, &fl, 100 * MS);
    assert_int_equal(fl.calls, 1);
    assert_int_equal(fl.result, 0);
    free(buf);
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* Untrusted namespace data                                            */
/* ------------------------------------------------------------------ */

static void three_namespaces(struct fx *f, uint32_t corrupt2, uint8_t lbads2)
{
    fx_config(f);
    for (int i = 0; i < 3; i++) {
        f->ns[i] = (struct nvme_sim_ns_config){
            .nsid = (uint32_t)i + 1, .blocks = 2048, .lba_size = 512};
    }
    f->ns[1].corrupt = corrupt2;
    f->ns[1].corrupt_lbads = lbads2;
    f->cfg.ns_count = 3;
}

static void assert_ns_refused(struct fx *f, uint32_t nsid)
{
    const struct nvme_ns_info *ns = nvme_ns_find(f->ctrl, nsid);
    assert_non_null(ns);
    assert_int_equal(ns->status, NVME_ERR_PROTO);
    uint8_t *buf = fx_xalloc(65536);
    uint64_t io0 = nvme_sim_stats(f->sim)->io_cmds;
    assert_int_equal(nvme_read(f->ctrl, nsid, 0, 1, buf), NVME_ERR_PROTO);
    assert_int_equal(nvme_write(f->ctrl, nsid, 0, 1, buf), NVME_ERR_PROTO);
    assert_int_equal(nvme_submit_rw(f->ctrl, 1, NVME_CMD_READ, nsid, 0, 1, buf, 0, fx_rec_cb, NULL),
                     NVME_ERR_PROTO);
    assert_int_equal(nvme_sim_stats(f->sim)->io_cmds, io0); /* nothing sent */
    /* Still active: a Flush needs no LBA format (§6.8). */
    uint64_t flushes = nvme_sim_stats(f->sim)->flushes;
    assert_int_equal(nvme_flush(f->ctrl, nsid), 0);
    assert_int_equal(nvme_sim_stats(f->sim)->flushes, flushes + 1);
    free(buf);
}

static void assert_ns_usable(struct fx *f, uint32_t nsid, uint64_t blocks, uint32_t seed)
{
    const struct nvme_ns_info *ns = nvme_ns_find(f->ctrl, nsid);
    assert_non_null(ns);
    assert_int_equal(ns->status, 0);
    assert_int_equal(ns->lba_size, 512);
    assert_true(ns->nsze == blocks);
    assert_roundtrip(f, nsid, blocks - 4, 4, seed);
}

static void given_corrupt_identify_namespace_only_that_namespace_is_refused(void **state)
{
    (void)state;
    static const struct {
        uint32_t bits;
        uint8_t lbads;
        uint16_t ms; /* namespace 2's metadata bytes per block */
        const char *says;
    } cases[] = {
        {NVME_SIM_CORRUPT_LBADS, 0, 0, "namespace 2 unusable: LBA data size out of range"},
        {NVME_SIM_CORRUPT_LBADS, 200, 0, "namespace 2 unusable: LBA data size out of range"},
        {NVME_SIM_CORRUPT_NSZE0, 0, 0, "namespace 2 unusable: NSZE is 0"},
        /* NSZE as it is, NCAP 0: no capacity (NVMe 1.3 Figure 114, an
         * inactive NSID), not a namespace to send I/O to. */
        {NVME_SIM_CORRUPT_NCAP0, 0, 0, "namespace 2 unusable: NCAP is 0: not available for use"},
        {NVME_SIM_CORRUPT_FLBAS, 0, 0, "namespace 2 unusable: FLBAS names a format past NLBAF"},
        {NVME_SIM_CORRUPT_NLBAF, 0, 0, "namespace 2 unusable: NLBAF above 63"},
        /* DPS counts only with 8 metadata bytes or more (PI fits). */
        {NVME_SIM_CORRUPT_DPS, 0, 8, "namespace 2: reserved PI type 5"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct fx f;
        three_namespaces(&f, cases[k].bits, cases[k].lbads);
        f.ns[1].ms = cases[k].ms;
        f.ns[1].extended = cases[k].ms != 0;
        fx_start_captured(&f);
        assert_int_equal(nvme_ns_count(f.ctrl), 3);
        assert_ns_refused(&f, 2);
        assert_true(fx_log_has(&f, cases[k].says));
        /* nlbaf indexes lbaf[] (nvme.h), whatever NLBAF the device gave */
        assert_true(nvme_ns_find(f.ctrl, 2)->nlbaf < NVME_LBAF_COUNT);
        assert_ns_usable(&f, 1, 2048, 90 + (uint32_t)k);
        assert_ns_usable(&f, 3, 2048, 95 + (uint32_t)k);
        fx_stop(&f);
    }
}

/* NCAP and NUSE past NSZE (against NUSE <= NCAP <= NSZE, NVMe 1.4
 * §5.15.2.1, Figure 245: the Identify Namespace fields) say
 * nothing about which blocks I/O may reach: the namespace is kept, with a
 * warning, as Linux keeps it, and I/O stays within NSZE. */
static void given_ncap_and_nuse_past_nsze_the_namespace_is_used_within_nsze(void **state)
{
    (void)state;
    struct fx f;
    three_namespaces(&f, NVME_SIM_CORRUPT_NUSE, 0);
    fx_start_captured(&f);
    assert_ns_usable(&f, 2, 2048, 106);
    assert_true(fx_log_has(&f, "namespace 2: NCAP/NUSE out of order"));
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 2);
    assert_true(ns->ncap == 2048 + 8 && ns->nuse == 2048 + 8);
    uint8_t *buf = fx_xalloc(512);
    assert_int_equal(nvme_read(f.ctrl, 2, 2048, 1, buf), NVME_ERR_RANGE); /* NSZE bounds it */
    free(buf);
    fx_stop(&f);
}

static void given_namespace_corrupted_later_rescan_refuses_only_it(void **state)
{
    (void)state;
    struct fx f;
    three_namespaces(&f, 0, 0);
    fx_start_captured(&f);
    assert_ns_usable(&f, 3, 2048, 100);
    assert_int_equal(nvme_sim_ns_corrupt(f.sim, 3, NVME_SIM_CORRUPT_LBADS, 200), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(nvme_ns_count(f.ctrl), 3);
    assert_ns_refused(&f, 3);
    assert_ns_usable(&f, 1, 2048, 101);
    assert_ns_usable(&f, 2, 2048, 102);
    fx_stop(&f);
}

static void given_nn_below_an_active_nsid_that_namespace_is_refused(void **state)
{
    (void)state;
    struct fx f;
    three_namespaces(&f, 0, 0);
    f.ns[2].nsid = 5;
    f.cfg.nn = 4;
    fx_start_captured(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->nn, 4);
    assert_int_equal(nvme_ns_count(f.ctrl), 3);
    assert_ns_refused(&f, 5);
    assert_ns_usable(&f, 1, 2048, 103);
    assert_ns_usable(&f, 2, 2048, 104);
    fx_stop(&f);
}

static struct nvme_sim_ns_config many_ns[1500];

static void given_1500_namespaces_with_gaps_all_are_found_in_order(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    for (uint32_t i = 0; i < 1500; i++)
        many_ns[i] = (struct nvme_sim_ns_config){.nsid = 2 * i + 1, .blocks = 64, .lba_size = 512};
    f.cfg.ns = many_ns;
    f.cfg.ns_count = 1500;
    fx_start(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->nn, 2999);
    assert_int_equal(nvme_ns_count(f.ctrl), 1500);
    for (unsigned i = 0; i < 1500; i++) {
        const struct nvme_ns_info *ns = nvme_ns_at(f.ctrl, i);
        assert_non_null(ns);
        assert_int_equal(ns->nsid, 2 * i + 1);
        assert_int_equal(ns->status, 0);
        assert_true(ns->nsze == 64);
    }
    assert_null(nvme_ns_at(f.ctrl, 1500));
    assert_null(nvme_ns_find(f.ctrl, 2));
    assert_null(nvme_ns_find(f.ctrl, 3001));
    assert_non_null(nvme_ns_find(f.ctrl, 2049)); /* first of the second list page */
    uint8_t *buf = fx_xalloc(512);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 1, buf), NVME_ERR_NOENT);
    free(buf);
    assert_roundtrip(&f, 2049, 60, 4, 110);
    assert_roundtrip(&f, 2999, 0, 4, 111);
    fx_stop(&f);
}

/* A full page of the Active Namespace ID list (1024 entries) whose last
 * NSID is FFFFFFFEh, the highest a namespace can have: no list can follow
 * it, and CNS 02h with NSID FFFFFFFEh is refused with Invalid Namespace or
 * Format (NVMe 1.4 §5.15.2, Figure 245).  The list read so far is the
 * whole list (before: the refusal threw it away for the probe of NSIDs
 * 1..1024, which lost every namespace above 1024: 512 of 1024 found). */
static void a_full_list_page_ending_at_the_last_nsid_is_the_whole_list(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    for (uint32_t i = 0; i < 1023; i++)
        many_ns[i] = (struct nvme_sim_ns_config){.nsid = 2 * i + 1, .blocks = 64, .lba_size = 512};
    many_ns[1023] = (struct nvme_sim_ns_config){.nsid = 0xfffffffeu, .blocks = 64, .lba_size = 512};
    f.cfg.ns = many_ns;
    f.cfg.ns_count = 1024;
    fx_start(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->nn, 0xfffffffeu);
    assert_int_equal(nvme_ns_count(f.ctrl), 1024);
    assert_int_equal(nvme_ns_at(f.ctrl, 1022)->nsid, 2045);
    assert_int_equal(nvme_ns_at(f.ctrl, 1023)->nsid, 0xfffffffeu);
    assert_roundtrip(&f, 2045, 60, 4, 112);
    assert_roundtrip(&f, 0xfffffffeu, 0, 4, 113);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0); /* a rescan reads the same list */
    assert_int_equal(nvme_ns_count(f.ctrl), 1024);
    assert_non_null(nvme_ns_find(f.ctrl, 0xfffffffeu));
    fx_stop(&f);
}

/* FFFFFFFEh is a valid NSID (the highest, NVMe 1.4 §6.1.2), so the Active
 * Namespace ID list the public call returns (nvmectl list-ns) holds it,
 * as the scan above does; only FFFFFFFFh cannot be in a list.  Before:
 * nvme_identify_active_ns refused the list as not ascending
 * (NVME_ERR_PROTO, count 1). */
static void the_active_list_call_returns_the_last_nsid(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 0xfffffffeu, .blocks = 64, .lba_size = 512};
    f.cfg.ns_count = 2;
    fx_start(&f);
    assert_int_equal(nvme_ns_count(f.ctrl), 2);
    uint32_t list[1024];
    unsigned count = 99;
    assert_int_equal(nvme_identify_active_ns(f.ctrl, 0, list, 1024, &count), 0);
    assert_int_equal(count, 2);
    assert_int_equal(list[0], 1);
    assert_int_equal(list[1], 0xfffffffeu);
    assert_int_equal(nvme_identify_active_ns(f.ctrl, 1, list, 1024, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(list[0], 0xfffffffeu);
    fx_stop(&f);
}

/* prp.c nvme_prp_build_list: when the very first piece of a multi-page
 * buffer cannot be mapped, the error path must not dma_unmap anything
 * (nothing was mapped).  The simulator counts an unmap of memory that is
 * not mapped as a host error. */
static void first_piece_map_failure_unmaps_nothing(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *buf = fx_xalloc(16384);
    nvme_sim_fail_osal(f.sim, NVME_SIM_FAIL_DMA_MAP, 0); /* the first dma_map fails */
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 32, buf), NVME_ERR_DMA);
    nvme_sim_fail_osal(f.sim, NVME_SIM_FAIL_DMA_MAP, -1);
    assert_int_equal(nvme_sim_host_errors(f.sim), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 32, buf), 0);
    fx_stop(&f);
    free(buf);
}

/* A broken device that writes completion entries without end: each one
 * the core takes (here: each time it drops one naming no command, and
 * logs so) is followed by the next, with the right phase tag, whatever
 * the CQ head doorbell says (CQ full, §4.1.2).  A conforming device has
 * at most a queue's depth of new entries for a reap; one call that reaps
 * for as long as entries come never returns (an interrupt handler, a
 * poll loop: a hang).  Each call stops after one lap of the ring; the
 * rest is the next call's.  The device's writes go straight to the CQ
 * (the test writes them), so its head doorbells are kept from the
 * simulator, which posted none of them. */
static struct {
    void *(*dma_alloc)(void *ctx, size_t size, size_t align, uint64_t *bus);
    void (*mmio_write32)(void *ctx, uint32_t off, uint32_t val);
    void (*log)(void *ctx, enum nvme_log_level level, const char *line);
    struct nvme_cqe *cq; /* I/O CQ 1: the first dma_alloc of its size */
    unsigned next, posted, max;
    uint16_t phase;
} g_flood;

#define FLOOD_ENTRIES 64u

static void *flood_dma_alloc(void *ctx, size_t size, size_t align, uint64_t *bus)
{
    void *p = g_flood.dma_alloc(ctx, size, align, bus);
    if (size == FLOOD_ENTRIES * sizeof(struct nvme_cqe) && g_flood.cq == NULL)
        g_flood.cq = p;
    return p;
}

static void flood_post(void)
{
    struct nvme_cqe *e = &g_flood.cq[g_flood.next];
    e->dw0 = 0;
    e->dw1 = 0;
    e->sqhd = 0;
    e->sqid = 1;
    e->cid = 0x0ffe; /* no command in flight */
    __atomic_store_n(&e->status, g_flood.phase, __ATOMIC_RELEASE);
    if (++g_flood.next == FLOOD_ENTRIES) {
        g_flood.next = 0;
        g_flood.phase ^= 1u;
    }
    g_flood.posted++;
}

static void flood_mmio_write32(void *ctx, uint32_t off, uint32_t val)
{
    if (off != NVME_CQ_HDBL(1, 0))
        g_flood.mmio_write32(ctx, off, val);
}

static void flood_log(void *ctx, enum nvme_log_level level, const char *line)
{
    if (strstr(line, "no command in flight") != NULL && g_flood.posted < g_flood.max)
        flood_post();
    if (g_flood.log != NULL)
        g_flood.log(ctx, level, line);
}

static void given_a_device_that_posts_without_end_a_poll_reaps_at_most_a_lap(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.noncoherent = false; /* the test writes the CQ as the device would */
    f.cfg.oacs &= (uint16_t)~NVME_OACS_DBBUF;
    f.opts.io_queues = 1;
    f.opts.io_queue_entries = FLOOD_ENTRIES;
    f.opts.polling = true;
    fx_create(&f);
    memset(&g_flood, 0, sizeof(g_flood));
    g_flood.dma_alloc = f.osal.dma_alloc;
    g_flood.mmio_write32 = f.osal.mmio_write32;
    g_flood.log = f.osal.log;
    f.osal.dma_alloc = flood_dma_alloc;
    f.osal.mmio_write32 = flood_mmio_write32;
    f.osal.log = flood_log;
    assert_int_equal(fx_init(&f), 0);
    assert_non_null(g_flood.cq);
    g_flood.phase = 1;
    g_flood.max = 100 * FLOOD_ENTRIES; /* "without end", and the test still ends */
    flood_post();
    int n = nvme_qpair_poll(f.ctrl, 1, 0);
    assert_true(n > 0);
    assert_true(n <= (int)FLOOD_ENTRIES);
    n = nvme_qpair_poll(f.ctrl, 1, 0); /* the next call goes on */
    assert_true(n > 0);
    assert_true(n <= (int)FLOOD_ENTRIES);
    g_flood.max = g_flood.posted; /* the device stops */
    while (nvme_qpair_poll(f.ctrl, 1, 0) > 0)
        ;
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(given_bogus_cid_0xffff_completion_is_dropped_and_read_times_out),
        cmocka_unit_test(given_bogus_cid_5000_once_blocking_read_is_redone_after_reset),
        cmocka_unit_test(given_bogus_cid_async_command_is_replayed_after_reset_and_called_once),
        cmocka_unit_test(given_bogus_cid_on_admin_command_it_times_out_and_reset_recovers),
        cmocka_unit_test(given_duplicate_cqe_it_does_not_complete_the_next_command),
        cmocka_unit_test(given_duplicate_cqes_blocking_io_keeps_working),
        cmocka_unit_test(given_dropped_completions_read_times_out_bounded_and_data_survive),
        cmocka_unit_test(given_dropped_completion_once_blocking_write_is_redone_after_reset),
        cmocka_unit_test(given_intx_a_timeout_reset_deletes_the_io_queues_first),
        cmocka_unit_test(given_completion_after_timeout_callback_still_runs_once),
        cmocka_unit_test(abort_finding_the_admin_queue_full_waits_for_a_slot_instead_of_resetting),
        cmocka_unit_test(given_media_error_with_dnr_read_returns_status_without_retry),
        cmocka_unit_test(given_retryable_status_without_dnr_read_succeeds_after_retry),
        cmocka_unit_test(given_retryable_status_every_time_read_gives_up_after_few_tries),
        cmocka_unit_test(given_cfs_during_read_core_resets_and_the_read_succeeds),
        cmocka_unit_test(given_cfs_set_while_idle_next_read_resets_and_succeeds),
        cmocka_unit_test(given_sticky_cfs_during_read_it_fails_clearly_and_fini_returns),
        cmocka_unit_test(given_device_gone_mid_read_it_returns_gone_quickly_and_fini_returns),
        cmocka_unit_test(given_device_gone_while_idle_next_read_returns_gone),
        cmocka_unit_test(given_device_gone_nvme_qpair_poll_reports_it),
        cmocka_unit_test(given_device_gone_writes_it_had_completed_end_with_their_status),
        cmocka_unit_test(given_cfs_while_polling_controller_is_reset_and_command_replayed),
        cmocka_unit_test(an_nvm_subsystem_reset_while_idle_is_handled_at_the_next_service_call),
        cmocka_unit_test(
            an_nvm_subsystem_reset_with_a_read_in_flight_replays_it_before_its_deadline),
        cmocka_unit_test(given_commands_in_flight_reset_replays_each_once_and_io_works_after),
        cmocka_unit_test(a_reset_does_not_replay_a_block_command_counted_in_the_old_block_size),
        cmocka_unit_test(a_reset_marks_a_namespace_formatted_meanwhile_busy_until_the_rescan),
        cmocka_unit_test(a_reset_marks_a_namespace_deleted_meanwhile_busy_until_the_rescan),
        cmocka_unit_test(a_reset_without_memory_for_the_namespace_check_marks_them_busy),
        cmocka_unit_test(given_corrupt_identify_namespace_only_that_namespace_is_refused),
        cmocka_unit_test(given_ncap_and_nuse_past_nsze_the_namespace_is_used_within_nsze),
        cmocka_unit_test(given_namespace_corrupted_later_rescan_refuses_only_it),
        cmocka_unit_test(given_nn_below_an_active_nsid_that_namespace_is_refused),
        cmocka_unit_test(given_1500_namespaces_with_gaps_all_are_found_in_order),
        cmocka_unit_test(a_full_list_page_ending_at_the_last_nsid_is_the_whole_list),
        cmocka_unit_test(the_active_list_call_returns_the_last_nsid),
        cmocka_unit_test(first_piece_map_failure_unmaps_nothing),
        cmocka_unit_test(given_a_device_that_posts_without_end_a_poll_reaps_at_most_a_lap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
