/* SPDX-License-Identifier: MIT */
/*
 * Shadow doorbells: Doorbell Buffer Config (admin opcode 7Ch, OACS bit 8;
 * NVMe 1.3 §5.7, NVMe 2.0 base specification "Doorbell Buffer Config
 * command").  The host stores each I/O queue's SQ tail / CQ head in the
 * Shadow Doorbell buffer and writes the MMIO doorbell only when the new
 * value passes the controller's EventIdx (Linux nvme_dbbuf_need_event:
 * EventIdx in [old, new) modulo 2^16).  The simulated controller reads
 * the shadow values whenever it processes a queue and keeps EventIdx like
 * QEMU (nvme_sim.h, sim_dbbuf.c); it only processes an SQ after an MMIO
 * tail doorbell, so a needed MMIO write the core skipped leaves commands
 * unfetched, and one it did not need shows in the doorbell counters.
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 8

static uint64_t sq_mmio(struct fx *f, uint16_t qid)
{
    return nvme_sim_doorbell_writes(f->sim, qid, false);
}

static uint64_t cq_mmio(struct fx *f, uint16_t qid)
{
    return nvme_sim_doorbell_writes(f->sim, qid, true);
}

/* Defaults plus Doorbell Buffer Config offered, polled queues. */
static void config_dbbuf(struct fx *f)
{
    fx_config(f);
    f->cfg.oacs |= NVME_OACS_DBBUF;
}

/* Creates the simulator, arms a counter of Doorbell Buffer Config
 * commands (a fault that delays nothing: every 7Ch fetched is a hit), then
 * brings the core up.  Other faults may be armed first with `pre`. */
static void start_counting(struct fx *f, const struct nvme_sim_fault *pre)
{
    fx_create(f);
    if (pre)
        assert_int_equal(nvme_sim_inject(f->sim, pre), 0);
    fx_inject(f, NVME_SIM_FAULT_DELAY, 0, NVME_ADMIN_DBBUF_CONFIG, 0, 1000);
    int rc = fx_init(f);
    if (rc != 0)
        fail_msg("nvme_ctrl_init: %d (%s)", rc, nvme_strerror(rc));
}

/* Doorbell Buffer Config commands the controller fetched (with
 * start_counting and no `pre` fault: the counter is the only fault). */
static uint64_t dbbuf_cmds(struct fx *f) { return nvme_sim_fault_hits(f->sim); }

static uint8_t *pattern_buf(unsigned blocks, uint32_t seed)
{
    uint8_t *b = fx_xalloc((size_t)blocks * 512);
    fx_pattern(b, (size_t)blocks * 512, seed);
    return b;
}

/* The medium holds `want` at [lba, lba+blocks), read both through the
 * core and behind its back. */
static void assert_media(struct fx *f, uint64_t lba, unsigned blocks, const uint8_t *want)
{
    size_t len = (size_t)blocks * 512;
    uint8_t *got = fx_xalloc(len);
    assert_int_equal(nvme_sim_ns_read(f->sim, 1, lba, blocks, got), 0);
    assert_memory_equal(got, want, len);
    memset(got, 0, len);
    assert_int_equal(nvme_read(f->ctrl, 1, lba, blocks, got), 0);
    assert_memory_equal(got, want, len);
    free(got);
}

/* Submits `n` one-block writes of buf to queue qid, one doorbell each. */
static void submit_writes(struct fx *f, uint16_t qid, uint64_t lba, unsigned n, uint8_t *buf,
                          struct fx_rec *rec)
{
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(nvme_submit_rw(f->ctrl, qid, NVME_CMD_WRITE, 1, lba + i, 1,
                                        buf + (size_t)i * 512, 0, fx_rec_cb, &rec[i]),
                         0);
}

/* Polls queue qid, a simulated 100 us at a time, until every record was
 * called (at most 2 simulated seconds); asserts each succeeded once. */
static void wait_all(struct fx *f, uint16_t qid, const struct fx_rec *rec, unsigned n)
{
    for (unsigned spin = 0; spin < 20000; spin++) {
        unsigned done = 0;
        for (unsigned i = 0; i < n; i++)
            done += rec[i].calls != 0;
        if (done == n)
            break;
        (void)nvme_qpair_poll(f->ctrl, qid, 0);
        nvme_sim_advance(f->sim, 100);
    }
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(rec[i].calls, 1);
        assert_int_equal(rec[i].result, 0);
    }
}

/* One write on queue qid that completes (the controller then drained the
 * SQ and wrote EventIdx = its tail). */
static void settle(struct fx *f, uint16_t qid, uint64_t lba, uint32_t seed)
{
    struct fx_rec r = {0};
    uint8_t *b = pattern_buf(1, seed);
    submit_writes(f, qid, lba, 1, b, &r);
    wait_all(f, qid, &r, 1);
    free(b);
}

/* --- Bring-up ------------------------------------------------------------- */

/* Offered: one Doorbell Buffer Config at bring-up, the core reports shadow
 * doorbells, the device has the buffers. */
static void given_oacs_bit_8_bringup_configures_shadow_doorbells(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    start_counting(&f, NULL);
    assert_int_equal(dbbuf_cmds(&f), 1);
    assert_int_equal(nvme_sim_stats(f.sim)->dbbuf_configs, 1);
    assert_true(nvme_sim_dbbuf_active(f.sim));
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    assert_true(info->shadow_doorbells);
    assert_true(info->oacs & NVME_OACS_DBBUF);
    fx_stop(&f);
}

/* Not offered, or refused by the option: no 7Ch at all, plain doorbells. */
static void given_no_oacs_bit_or_no_shadow_option_no_dbbuf_command_is_sent(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        struct fx f;
        config_dbbuf(&f);
        if (pass == 0)
            f.cfg.oacs &= (uint16_t)~NVME_OACS_DBBUF;
        else
            f.opts.no_shadow_doorbells = true;
        start_counting(&f, NULL);
        assert_int_equal(dbbuf_cmds(&f), 0);
        assert_int_equal(nvme_sim_stats(f.sim)->dbbuf_configs, 0);
        assert_false(nvme_sim_dbbuf_active(f.sim));
        assert_false(nvme_ctrl_get_info(f.ctrl)->shadow_doorbells);
        /* Every write rings its SQ by MMIO; the device takes nothing from a shadow. */
        uint8_t *b = pattern_buf(4, 10u + (uint32_t)pass);
        for (unsigned i = 0; i < 4; i++)
            assert_int_equal(nvme_write(f.ctrl, 1, 100 + i, 1, b + i * 512), 0);
        uint64_t mmio = 0;
        for (uint16_t q = 1; q <= nvme_ctrl_get_info(f.ctrl)->io_queues; q++)
            mmio += sq_mmio(&f, q);
        assert_int_equal(mmio, 4);
        assert_int_equal(nvme_sim_stats(f.sim)->shadow_sq_values, 0);
        assert_int_equal(nvme_sim_stats(f.sim)->eventidx_writes, 0);
        assert_media(&f, 100, 4, b);
        free(b);
        fx_stop(&f);
    }
}

/* --- I/O --------------------------------------------------------------------- */

/* Immediate controller (QEMU-like EventIdx): it drains the SQ inside each
 * doorbell and sets EventIdx to that tail, so every new tail passes it and
 * every submission must ring by MMIO; data of several sizes, on every
 * queue, lands and reads back. */
static void given_shadow_doorbells_io_is_verified_and_each_needed_doorbell_rings(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.opts.cpus = 4; /* four I/O queues */
    fx_start(&f);
    assert_true(nvme_ctrl_get_info(f.ctrl)->shadow_doorbells);
    uint16_t nq = nvme_ctrl_get_info(f.ctrl)->io_queues;
    assert_true(nq >= 2);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t io0 = st->io_cmds;

    /* Blocking calls: sizes 1..64 blocks, one command each (MDTS 128 KiB). */
    static const unsigned sizes[] = {1, 3, 8, 17, 64};
    uint64_t lba = 0;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t *b = pattern_buf(sizes[i], 100u + i);
        assert_int_equal(nvme_write(f.ctrl, 1, lba, sizes[i], b), 0);
        assert_media(&f, lba, sizes[i], b);
        free(b);
        lba += sizes[i];
    }
    /* 10 commands (5 writes, 5 reads), each rang its SQ and its CQ by MMIO. */
    uint64_t sq = 0, cq = 0;
    for (uint16_t q = 1; q <= nq; q++) {
        sq += sq_mmio(&f, q);
        cq += cq_mmio(&f, q);
    }
    assert_int_equal(st->io_cmds - io0, 10);
    assert_int_equal(sq, 10);
    assert_int_equal(cq, 10);
    assert_int_equal(st->shadow_sq_values, 0); /* the MMIO write always came first */

    /* Asynchronous writes on every queue, checked on the medium. */
    struct fx_rec rec[4] = {{0}};
    uint8_t *b = pattern_buf(4, 7);
    for (uint16_t q = 1; q <= nq && q <= 4; q++)
        submit_writes(&f, q, 500 + q, 1, b + (size_t)(q - 1) * 512, &rec[q - 1]);
    for (uint16_t q = 1; q <= nq && q <= 4; q++)
        wait_all(&f, q, &rec[q - 1], 1);
    uint8_t *got = fx_xalloc(512);
    for (uint16_t q = 1; q <= nq && q <= 4; q++) {
        assert_int_equal(nvme_sim_ns_read(f.sim, 1, 500 + q, 1, got), 0);
        assert_memory_equal(got, b + (size_t)(q - 1) * 512, 512);
    }
    free(got);
    free(b);
    assert_true(st->eventidx_writes > 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, 0);
    fx_stop(&f);
}

/* Deferred controller: after the first MMIO doorbell it has not run the
 * queue yet, so its EventIdx still holds the old tail and the next
 * BATCH-1 tails do not pass it: the core stores them in the shadow buffer
 * only.  The device takes the last tail from the shadow and runs all. */
static void given_deferred_device_host_skips_sq_doorbells_the_eventidx_allows(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 1000;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    settle(&f, 1, 0, 1);
    for (int round = 0; round < 3; round++) {
        uint64_t db0 = sq_mmio(&f, 1), sh0 = st->shadow_sq_values, io0 = st->io_cmds;
        struct fx_rec rec[BATCH] = {{0}};
        uint8_t *b = pattern_buf(BATCH, 20u + (uint32_t)round);
        uint64_t lba = 16 + (uint64_t)round * BATCH;
        submit_writes(&f, 1, lba, BATCH, b, rec);
        assert_int_equal(sq_mmio(&f, 1) - db0, 1);
        assert_int_equal(st->io_cmds - io0, 0); /* not run yet */
        wait_all(&f, 1, rec, BATCH);
        assert_int_equal(st->io_cmds - io0, BATCH);
        assert_int_equal(st->shadow_sq_values - sh0, 1); /* tail BATCH came from the shadow */
        assert_int_equal(sq_mmio(&f, 1) - db0, 1);
        assert_media(&f, lba, BATCH, b);
        free(b);
    }
    assert_int_equal(nvme_sim_shadow_doorbells(f.sim, 1, false), 3);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, 0);
    fx_stop(&f);
}

/* The same deferred controller holding EventIdx at the host's last
 * doorbell: every new tail passes it, every submission rings by MMIO. */
static void given_eventidx_held_at_last_doorbell_every_submission_rings(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 1000;
    f.cfg.eventidx = NVME_SIM_EI_EVERY;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    settle(&f, 1, 0, 1);
    uint64_t db0 = sq_mmio(&f, 1), sh0 = st->shadow_sq_values;
    struct fx_rec rec[BATCH] = {{0}};
    uint8_t *b = pattern_buf(BATCH, 30);
    submit_writes(&f, 1, 40, BATCH, b, rec);
    assert_int_equal(sq_mmio(&f, 1) - db0, BATCH);
    wait_all(&f, 1, rec, BATCH);
    assert_int_equal(st->shadow_sq_values - sh0, 0);
    assert_media(&f, 40, BATCH, b);
    free(b);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, 0);
    fx_stop(&f);
}

/* An EventIdx pinned two entries ahead: the first two tails stay below it
 * (no MMIO, the immediate device fetches nothing), the third passes it
 * and rings; the device then runs all three.  Exactly the boundary of
 * "EventIdx in [old, new)". */
static void given_pinned_eventidx_the_doorbell_rings_exactly_when_passed(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(sq_mmio(&f, 1), 0); /* the core's tail of queue 1 is 0 */
    assert_int_equal(nvme_sim_dbbuf_pin_eventidx(f.sim, 1, false, 2), 0);
    struct fx_rec rec[3] = {{0}};
    uint8_t *b = pattern_buf(3, 40);
    uint64_t io0 = st->io_cmds;
    submit_writes(&f, 1, 60, 1, b, &rec[0]); /* tail 0 -> 1: EventIdx 2 not passed */
    assert_int_equal(sq_mmio(&f, 1), 0);
    submit_writes(&f, 1, 61, 1, b + 512, &rec[1]); /* 1 -> 2: not passed */
    assert_int_equal(sq_mmio(&f, 1), 0);
    assert_int_equal(st->io_cmds - io0, 0);
    submit_writes(&f, 1, 62, 1, b + 1024, &rec[2]); /* 2 -> 3: passed, rings */
    assert_int_equal(sq_mmio(&f, 1), 1);
    assert_int_equal(st->io_cmds - io0, 3);
    wait_all(&f, 1, rec, 3);
    /* Unpinned, the device's own EventIdx (its head, 3) makes the next one ring. */
    assert_int_equal(nvme_sim_dbbuf_pin_eventidx(f.sim, 1, false, -1), 0);
    settle(&f, 1, 63, 41);
    assert_int_equal(sq_mmio(&f, 1), 2);
    assert_media(&f, 60, 3, b);
    assert_int_equal(sq_mmio(&f, 1), 3);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, 0);
    free(b);
    fx_stop(&f);
}

/* CQ side: an EventIdx pinned far away lets the host skip the CQ head
 * doorbell except when the head wraps past it (the 16-bit window of a
 * wrap covers it); the device reads each head from the shadow buffer, or
 * the 8-entry CQ would fill after seven completions and stall. */
static void given_cq_eventidx_far_away_heads_go_through_the_shadow_buffer(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.opts.io_queue_entries = 8;
    fx_start(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queue_entries, 8);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(nvme_sim_dbbuf_pin_eventidx(f.sim, 1, true, 0x8000), 0);
    enum { N = 50 };
    uint8_t *b = pattern_buf(N, 50);
    for (unsigned i = 0; i < N; i++) {
        struct fx_rec r = {0};
        submit_writes(&f, 1, 200 + i, 1, b + (size_t)i * 512, &r);
        wait_all(&f, 1, &r, 1);
    }
    /* Heads 1..50 mod 8; the head wrapped to 0 after the 8th, 16th .. 48th
     * completion: 6 MMIO writes.  The device took a new head from the
     * shadow before each later CQE unless that wrap write had brought it:
     * 49 posts after the first, minus the 6 wraps. */
    assert_int_equal(cq_mmio(&f, 1), 6);
    assert_int_equal(st->shadow_cq_values, 43);
    assert_int_equal(nvme_sim_shadow_doorbells(f.sim, 1, true), 43);
    assert_int_equal(sq_mmio(&f, 1), N); /* SQ EventIdx (device's own) wants every tail */
    assert_media(&f, 200, N, b);
    free(b);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, 0);
    fx_stop(&f);
}

/* Interrupt-driven reaping with the CQ EventIdx far away: with MSI-X the
 * head goes through the shadow buffer only; with INTx the core still
 * writes every head by MMIO (the write deasserts the line, §7.5.1.1). */
static void given_cq_eventidx_far_away_intx_still_writes_every_head(void **state)
{
    (void)state;
    for (int intx = 0; intx < 2; intx++) {
        struct fx f;
        config_dbbuf(&f);
        f.cfg.irq_mode = intx ? NVME_SIM_IRQ_INTX : NVME_SIM_IRQ_MSIX;
        fx_start(&f);
        assert_int_equal(nvme_ctrl_get_info(f.ctrl)->irq_is_intx, intx != 0);
        assert_true(nvme_ctrl_get_info(f.ctrl)->irq_vectors > 0);
        assert_true(nvme_ctrl_get_info(f.ctrl)->io_queue_entries > 10);
        uint16_t q = nvme_ctrl_cpu_qid(f.ctrl, 0);
        assert_int_equal(nvme_sim_dbbuf_pin_eventidx(f.sim, q, true, 0x8000), 0);
        uint8_t *b = pattern_buf(10, 80u + (uint32_t)intx);
        for (unsigned i = 0; i < 10; i++)
            assert_int_equal(nvme_write(f.ctrl, 1, 700 + i, 1, b + (size_t)i * 512), 0);
        assert_int_equal(sq_mmio(&f, q), 10);
        /* MSI-X: heads 1..9 reached the device through the shadow before
         * the next CQE; INTx: each by MMIO first, nothing new in the shadow. */
        assert_int_equal(cq_mmio(&f, q), intx ? 10 : 0);
        assert_int_equal(nvme_sim_shadow_doorbells(f.sim, q, true), intx ? 0 : 9);
        assert_int_equal(nvme_sim_irq_count(f.sim, intx ? 0 : 1) > 0, true);
        assert_media(&f, 700, 10, b);
        assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
        free(b);
        fx_stop(&f);
    }
}

/* Entries follow CAP.DSTRD (SQ y at 2y strides, CQ y at 2y + 1) and the
 * buffers are one memory page of CC.MPS: with 16-byte strides, or with
 * 8 KiB pages, core and controller still meet in the same entries. */
static void given_other_stride_or_page_size_shadow_entries_still_match(void **state)
{
    (void)state;
    for (int variant = 0; variant < 2; variant++) {
        struct fx f;
        config_dbbuf(&f);
        f.cfg.timing = NVME_SIM_DEFERRED;
        f.cfg.completion_latency_us = 1000;
        f.opts.cpus = 4;
        if (variant == 0)
            f.cfg.dstrd = 2;
        else
            f.cfg.mpsmin = 1;
        fx_start(&f);
        const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
        assert_int_equal(info->doorbell_stride, variant == 0 ? 16 : 4);
        assert_int_equal(info->page_size, variant == 0 ? 4096 : 8192);
        assert_true(info->shadow_doorbells);
        const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
        for (uint16_t q = 1; q <= info->io_queues; q++) {
            settle(&f, q, q, 90u + q);
            uint64_t db0 = sq_mmio(&f, q), sh0 = st->shadow_sq_values;
            struct fx_rec rec[BATCH] = {{0}};
            uint8_t *b = pattern_buf(BATCH, 91u + q);
            uint64_t lba = 1000 + (uint64_t)q * BATCH;
            submit_writes(&f, q, lba, BATCH, b, rec);
            assert_int_equal(sq_mmio(&f, q) - db0, 1);
            wait_all(&f, q, rec, BATCH);
            assert_int_equal(st->shadow_sq_values - sh0, 1);
            assert_int_equal(nvme_sim_shadow_doorbells(f.sim, q, false), 1);
            assert_media(&f, lba, BATCH, b);
            free(b);
        }
        assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
        fx_stop(&f);
    }
}

/* With CAP.DSTRD 4 (64-byte strides) a page holds the shadow entries of
 * queues 0..31 only; the controller finds queue y's at 2y strides for
 * every queue (the command names no size; QEMU indexes every queue so,
 * and Linux sizes the buffers for all its queues).  The core sizes both
 * buffers for all its queues, in whole pages, and again when a reset
 * brings another DSTRD, so every queue uses its shadow entries and the
 * device touches no memory past them (before: one page, queues 32-40 on
 * MMIO while the device read their entries past the page: DMA
 * violations). */
static void given_a_stride_that_puts_shadow_entries_past_a_page_the_buffers_hold_them(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 1000;
    f.cfg.dstrd = 4;
    f.cfg.io_queues = 40;
    f.opts.io_queues = 40;
    fx_start(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(info->io_queues, 40);
    assert_true(info->shadow_doorbells);
    for (int round = 0; round < 2; round++) {
        static const uint16_t qs[] = {1, 31, 32, 36, 40};
        for (unsigned k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
            uint16_t q = qs[k];
            uint64_t lba = 2000 + (uint64_t)(round * 64 + q) * BATCH;
            settle(&f, q, lba, 95u + q);
            struct fx_rec rec[BATCH] = {{0}};
            uint8_t *b = pattern_buf(BATCH, 96u + q);
            submit_writes(&f, q, lba + 1, BATCH - 1, b, rec);
            wait_all(&f, q, rec, BATCH - 1);
            assert_true(nvme_sim_shadow_doorbells(f.sim, q, false) >= 1);
            assert_media(&f, lba + 1, BATCH - 1, b);
            free(b);
        }
        assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
        if (round == 0) { /* a reset whose CAP has 128-byte strides */
            struct nvme_sim_cap_change c = {.mqes = 1023, .dstrd = 5, .to = 20, .mpsmax = 4};
            nvme_sim_cap_at_reset(f.sim, &c);
            assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
            assert_int_equal(info->doorbell_stride, 128);
            assert_int_equal(info->io_queues, 40);
            assert_true(info->shadow_doorbells);
        }
    }
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
    fx_stop(&f);
}

/* A reset whose CAP.DSTRD doubles needs larger buffers (every queue's
 * entries at 2y and 2y + 1 strides, §5.7); with dma_alloc failing then,
 * the restart keeps plain doorbells: the controller, stopped by the reset
 * (§7.3.2), no longer knows the old buffers, so none is configured, I/O on
 * every queue rings its MMIO doorbell for each command and lands, and the
 * next reset that finds memory configures them again. */
static void given_no_memory_for_larger_buffers_at_a_reset_plain_doorbells_serve(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 1000;
    f.cfg.dstrd = 4;
    f.cfg.io_queues = 40;
    f.opts.io_queues = 40;
    fx_start_captured(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_true(info->shadow_doorbells);
    assert_int_equal(st->dbbuf_configs, 1);

    /* 41 queues × 2 × 128 bytes: 12 KiB, past the 8 KiB of 64-byte strides. */
    struct nvme_sim_cap_change c = {.mqes = 1023, .dstrd = 5, .to = 20, .mpsmax = 4};
    nvme_sim_cap_at_reset(f.sim, &c);
    /* The restart's first dma_allocs are the bounce pages of Identify
     * Controller and Identify Namespace (recovery.c nvme_replay_ns_check),
     * the third the larger shadow doorbell buffer: that one fails. */
    nvme_sim_fail_osal(f.sim, NVME_SIM_FAIL_DMA_ALLOC, 2);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    if (!fx_log_has(&f, "no memory for 12288 bytes of shadow doorbells"))
        fail_msg("%s", nvme_sim_log_text(f.sim));
    assert_int_equal(info->doorbell_stride, 128);
    assert_int_equal(info->io_queues, 40);
    assert_false(info->shadow_doorbells);
    assert_false(nvme_sim_dbbuf_active(f.sim));
    assert_int_equal(st->dbbuf_configs, 1);

    static const uint16_t qs[] = {1, 32, 40};
    for (unsigned k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        uint16_t q = qs[k];
        uint64_t lba = 3000 + (uint64_t)q * BATCH;
        settle(&f, q, lba, 130u + q);
        uint64_t db0 = sq_mmio(&f, q), sh0 = st->shadow_sq_values;
        struct fx_rec rec[BATCH] = {{0}};
        uint8_t *b = pattern_buf(BATCH - 1, 140u + q);
        submit_writes(&f, q, lba + 1, BATCH - 1, b, rec);
        assert_int_equal(sq_mmio(&f, q) - db0, BATCH - 1);
        wait_all(&f, q, rec, BATCH - 1);
        assert_int_equal(st->shadow_sq_values, sh0);
        assert_media(&f, lba + 1, BATCH - 1, b);
        free(b);
    }
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);

    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_true(info->shadow_doorbells);
    assert_true(nvme_sim_dbbuf_active(f.sim));
    assert_int_equal(st->dbbuf_configs, 2);
    settle(&f, 40, 3500, 150);
    uint64_t db1 = sq_mmio(&f, 40);
    struct fx_rec rec[BATCH] = {{0}};
    uint8_t *b = pattern_buf(BATCH, 151);
    submit_writes(&f, 40, 3501, BATCH, b, rec);
    assert_int_equal(sq_mmio(&f, 40) - db1, 1); /* the rest through the shadow entry */
    wait_all(&f, 40, rec, BATCH);
    assert_true(nvme_sim_shadow_doorbells(f.sim, 40, false) >= 1);
    assert_media(&f, 3501, BATCH, b);
    free(b);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, 0);
    fx_stop(&f);
}

/* --- Reset and refusal ---------------------------------------------------------- */

/* nvme_ctrl_reset: the controller forgot the buffers (§7.3.2 resets it
 * all), the core configures them again and I/O keeps using them. */
static void given_reset_the_buffers_are_configured_again_and_io_works(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 1000;
    start_counting(&f, NULL);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(dbbuf_cmds(&f), 1);
    uint8_t *b = pattern_buf(4, 60);
    assert_int_equal(nvme_write(f.ctrl, 1, 300, 4, b), 0);

    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(dbbuf_cmds(&f), 2);
    assert_int_equal(st->dbbuf_configs, 2);
    assert_true(nvme_sim_dbbuf_active(f.sim));
    assert_true(nvme_ctrl_get_info(f.ctrl)->shadow_doorbells);
    assert_media(&f, 300, 4, b);

    /* The shadow entries start over from the rebuilt queues' tails. */
    settle(&f, 1, 0, 61);
    uint64_t db0 = sq_mmio(&f, 1), sh0 = st->shadow_sq_values;
    struct fx_rec rec[BATCH] = {{0}};
    uint8_t *w = pattern_buf(BATCH, 62);
    submit_writes(&f, 1, 310, BATCH, w, rec);
    assert_int_equal(sq_mmio(&f, 1) - db0, 1);
    wait_all(&f, 1, rec, BATCH);
    assert_int_equal(st->shadow_sq_values - sh0, 1);
    assert_media(&f, 310, BATCH, w);

    /* A reset by recovery (CSTS.CFS) does the same. */
    nvme_sim_set_cfs(f.sim, true);
    uint8_t *r = fx_xalloc(4 * 512);
    assert_int_equal(nvme_read(f.ctrl, 1, 300, 4, r), 0);
    assert_memory_equal(r, b, 4 * 512);
    assert_int_equal(dbbuf_cmds(&f), 3);
    assert_true(nvme_sim_dbbuf_active(f.sim));
    free(r);
    free(w);
    free(b);
    fx_stop(&f);
}

/* Another CPU during a reset, played by the OSAL's MMIO write: at every
 * admin SQ doorbell of the reset once CC.EN was 0 (after the core placed
 * its command, as a CPU running beside it could) it asks for a write on
 * queue 1, until the core takes one.  The controller reads a queue's tail
 * from its shadow entry from the queue's creation on (QEMU does); a queue
 * put live before its shadow entry was set would let that write's MMIO
 * doorbell go unread, and the write would wait for a deadline.  Here it
 * completes at once, and nothing timed out. */
static struct {
    struct nvme_ctrl *ctrl;
    void (*mmio_write32)(void *ctx, uint32_t off, uint32_t val);
    bool armed, down, taken;
    unsigned refused; /* NVME_ERR_STATE: the queue was not live yet */
    int other_rc;     /* any other refusal */
    uint8_t *buf;
    struct fx_rec rec;
} other_cpu;

static void other_cpu_mmio_write32(void *ctx, uint32_t off, uint32_t val)
{
    other_cpu.mmio_write32(ctx, off, val);
    if (off == NVME_REG_CC && !(val & NVME_CC_EN))
        other_cpu.down = true; /* before: the reset's orderly part, queues still up */
    if (off != 0x1000u || !other_cpu.armed || !other_cpu.down || other_cpu.taken)
        return; /* not the admin SQ tail doorbell of the restart */
    int rc = nvme_submit_rw(other_cpu.ctrl, 1, NVME_CMD_WRITE, 1, 500, 1, other_cpu.buf, 0,
                            fx_rec_cb, &other_cpu.rec);
    if (rc == NVME_OK)
        other_cpu.taken = true;
    else if (rc == NVME_ERR_STATE)
        other_cpu.refused++;
    else
        other_cpu.other_rc = rc;
}

static void given_reset_a_write_from_another_cpu_once_its_queue_is_back_is_not_lost(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 1000;
    f.opts.io_queues = 2; /* queue 1 is back while queue 2 is being created */
    fx_create(&f);
    memset(&other_cpu, 0, sizeof(other_cpu));
    other_cpu.mmio_write32 = f.osal.mmio_write32;
    f.osal.mmio_write32 = other_cpu_mmio_write32;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    other_cpu.ctrl = f.ctrl;
    const struct nvme_ctrl_stats *cs = nvme_ctrl_get_stats(f.ctrl);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 2);
    settle(&f, 1, 0, 70);

    other_cpu.buf = pattern_buf(1, 71);
    other_cpu.down = false;
    other_cpu.armed = true;
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    other_cpu.armed = false;
    assert_int_equal(other_cpu.other_rc, 0);
    assert_true(other_cpu.refused > 0); /* it did ask while the queue was down */
    assert_true(other_cpu.taken);       /* and was taken before the reset ended */
    assert_true(nvme_sim_dbbuf_active(f.sim));

    /* Done within 10 simulated ms (the I/O deadline is seconds away). */
    for (unsigned spin = 0; spin < 100 && other_cpu.rec.calls == 0; spin++) {
        (void)nvme_qpair_poll(f.ctrl, 1, 0);
        nvme_sim_advance(f.sim, 100);
    }
    assert_int_equal(other_cpu.rec.calls, 1);
    assert_int_equal(other_cpu.rec.result, 0);
    assert_int_equal(cs->timeouts, 0);
    assert_int_equal(cs->resets, 1);
    assert_media(&f, 500, 1, other_cpu.buf);
    free(other_cpu.buf);
    fx_stop(&f);
}

/* QEMU's admin queue hack (cfg.dbbuf_admin_copy) on a non-coherent
 * machine: the device writes every admin MMIO doorbell value into the
 * admin entries of the shadow buffer (SQ 0 tail at byte 0, CQ 0 head at
 * one stride), the same cache line as the first I/O queues' entries, and
 * reads the admin tail and head back from there.  Another CPU, played by
 * the OSAL's MMIO write, writes to queue 1 at every admin CQ head doorbell
 * of a reset once the queue is back: its shadow store and clean write the
 * whole line back.  The CPU's copy of the admin entries must be current by
 * then (set right after Doorbell Buffer Config, before any I/O queue is
 * created), or the device reads an old admin CQ head: with 8 admin
 * entries and queues 2-4 still to create, the admin CQ looks full and a
 * completion is withheld until a CQ head doorbell the core never writes
 * (a timeout and a second reset). */
static struct {
    struct nvme_ctrl *ctrl;
    void (*mmio_write32)(void *ctx, uint32_t off, uint32_t val);
    bool armed, down;
    unsigned taken, refused;
    int other_rc;
    uint8_t *buf;
    struct fx_rec rec[16];
} line_cpu;

static void line_cpu_mmio_write32(void *ctx, uint32_t off, uint32_t val)
{
    line_cpu.mmio_write32(ctx, off, val);
    if (off == NVME_REG_CC && !(val & NVME_CC_EN))
        line_cpu.down = true;
    if (off != 0x1004u || !line_cpu.armed || !line_cpu.down || line_cpu.taken == 16)
        return; /* not an admin CQ head doorbell of the restart (CAP.DSTRD 0) */
    unsigned i = line_cpu.taken;
    int rc = nvme_submit_rw(line_cpu.ctrl, 1, NVME_CMD_WRITE, 1, 600 + i, 1,
                            line_cpu.buf + (size_t)i * 512, 0, fx_rec_cb, &line_cpu.rec[i]);
    if (rc == NVME_OK)
        line_cpu.taken++;
    else if (rc == NVME_ERR_STATE)
        line_cpu.refused++;
    else
        line_cpu.other_rc = rc;
}

static void given_qemu_admin_copy_noncoherent_a_reset_reads_no_stale_admin_head(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.cfg.noncoherent = true;
    f.cfg.cache_line = 64; /* the admin entries and queues 1-7's share a line */
    f.cfg.dbbuf_admin_copy = true;
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 1000;
    f.opts.io_queues = 4;
    f.opts.admin_queue_entries = 8;
    fx_create(&f);
    memset(&line_cpu, 0, sizeof(line_cpu));
    line_cpu.mmio_write32 = f.osal.mmio_write32;
    f.osal.mmio_write32 = line_cpu_mmio_write32;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    line_cpu.ctrl = f.ctrl;
    const struct nvme_ctrl_stats *cs = nvme_ctrl_get_stats(f.ctrl);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 4);
    assert_true(nvme_ctrl_get_info(f.ctrl)->shadow_doorbells);
    settle(&f, 1, 0, 80);
    /* Bring-up: the device never read an admin value older than its own. */
    assert_int_equal(nvme_sim_shadow_doorbells(f.sim, 0, false), 0);
    assert_int_equal(nvme_sim_shadow_doorbells(f.sim, 0, true), 0);

    line_cpu.buf = pattern_buf(16, 81);
    line_cpu.armed = true;
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    line_cpu.armed = false;
    assert_int_equal(line_cpu.other_rc, 0);
    assert_true(line_cpu.refused > 0); /* it asked while queue 1 was down */
    assert_true(line_cpu.taken >= 4);  /* and wrote during queues 2-4's creation */
    assert_true(nvme_sim_dbbuf_active(f.sim));
    /* Every admin tail and head the device read was the one last rung: no
     * completion withheld, no timeout, only the reset asked for. */
    assert_int_equal(nvme_sim_shadow_doorbells(f.sim, 0, false), 0);
    assert_int_equal(nvme_sim_shadow_doorbells(f.sim, 0, true), 0);
    assert_int_equal(cs->timeouts, 0);
    assert_int_equal(cs->resets, 1);

    wait_all(&f, 1, line_cpu.rec, line_cpu.taken);
    assert_media(&f, 600, line_cpu.taken, line_cpu.buf);
    /* Admin commands still go through. */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(cs->timeouts, 0);
    free(line_cpu.buf);
    fx_stop(&f); /* no host error, no coherency violation */
}

/* The controller fails Doorbell Buffer Config: bring-up goes on with plain
 * MMIO doorbells (every submission rings, nothing from a shadow), data is
 * right; the next reset tries again and then uses them. */
static void given_failing_dbbuf_config_core_keeps_plain_mmio_doorbells(void **state)
{
    (void)state;
    struct fx f;
    config_dbbuf(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 1000;
    struct nvme_sim_fault fail = {NVME_SIM_FAULT_STATUS,
                                  0,
                                  NVME_ADMIN_DBBUF_CONFIG,
                                  NVME_SIM_ANY,
                                  NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL) | NVME_SF_DNR_BIT,
                                  0,
                                  1};
    start_counting(&f, &fail);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1); /* the failure; the counter saw none */
    assert_int_equal(st->dbbuf_configs, 0);
    assert_false(nvme_sim_dbbuf_active(f.sim));
    assert_false(nvme_ctrl_get_info(f.ctrl)->shadow_doorbells);

    settle(&f, 1, 0, 70);
    uint64_t db0 = sq_mmio(&f, 1);
    struct fx_rec rec[BATCH] = {{0}};
    uint8_t *b = pattern_buf(BATCH, 71);
    submit_writes(&f, 1, 400, BATCH, b, rec);
    assert_int_equal(sq_mmio(&f, 1) - db0, BATCH);
    wait_all(&f, 1, rec, BATCH);
    assert_int_equal(st->shadow_sq_values, 0);
    assert_int_equal(st->eventidx_writes, 0);
    assert_media(&f, 400, BATCH, b);

    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->dbbuf_configs, 1);
    assert_true(nvme_ctrl_get_info(f.ctrl)->shadow_doorbells);
    assert_media(&f, 400, BATCH, b);
    free(b);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(given_oacs_bit_8_bringup_configures_shadow_doorbells),
        cmocka_unit_test(given_no_oacs_bit_or_no_shadow_option_no_dbbuf_command_is_sent),
        cmocka_unit_test(given_shadow_doorbells_io_is_verified_and_each_needed_doorbell_rings),
        cmocka_unit_test(given_deferred_device_host_skips_sq_doorbells_the_eventidx_allows),
        cmocka_unit_test(given_eventidx_held_at_last_doorbell_every_submission_rings),
        cmocka_unit_test(given_pinned_eventidx_the_doorbell_rings_exactly_when_passed),
        cmocka_unit_test(given_cq_eventidx_far_away_heads_go_through_the_shadow_buffer),
        cmocka_unit_test(given_cq_eventidx_far_away_intx_still_writes_every_head),
        cmocka_unit_test(given_other_stride_or_page_size_shadow_entries_still_match),
        cmocka_unit_test(given_a_stride_that_puts_shadow_entries_past_a_page_the_buffers_hold_them),
        cmocka_unit_test(given_no_memory_for_larger_buffers_at_a_reset_plain_doorbells_serve),
        cmocka_unit_test(given_reset_the_buffers_are_configured_again_and_io_works),
        cmocka_unit_test(given_reset_a_write_from_another_cpu_once_its_queue_is_back_is_not_lost),
        cmocka_unit_test(given_qemu_admin_copy_noncoherent_a_reset_reads_no_stale_admin_head),
        cmocka_unit_test(given_failing_dbbuf_config_core_keeps_plain_mmio_doorbells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
