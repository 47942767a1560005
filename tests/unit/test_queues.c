/* SPDX-License-Identifier: MIT */
/*
 * I/O queues (seed plan step 4) and queue-pair mechanics: Create I/O
 * CQ/SQ (§5.3, §5.4) and Number of Queues (§5.21.1.7); the harmless
 * command (Flush, §6.8) completing on the I/O CQ polled, with MSI-X and
 * with INTx (INTMS/INTMC, §7.5.1); ring wrap and phase tags (§4.1, §4.6);
 * CID uniqueness (§4.2); doorbell batching, queue full, outstanding
 * counts and deferred completions.
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rec {
    int calls;
    int result;
};

static void rec_cb(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    struct rec *r = arg;
    r->calls++;
    r->result = result;
}

static uint8_t *xalloc(size_t len)
{
    uint8_t *p = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);
    assert_non_null(p);
    memset(p, 0, len);
    return p;
}

/* Puts a known pattern on the medium behind the core's back. */
static void seed_media(struct fx *f, uint32_t nsid, uint64_t lba, uint32_t count, uint32_t seed)
{
    uint8_t *b = xalloc((size_t)count * 512);
    fx_pattern(b, (size_t)count * 512, seed);
    assert_int_equal(nvme_sim_ns_write(f->sim, nsid, lba, count, b), 0);
    free(b);
}

static void assert_matches_pattern(const uint8_t *buf, size_t len, uint32_t seed)
{
    uint8_t *want = xalloc(len);
    fx_pattern(want, len, seed);
    assert_memory_equal(buf, want, len);
    free(want);
}

/* CIDs of the SQEs traced on queue `qid` in the captured log, in order. */
static unsigned traced_cids(struct fx *f, unsigned qid, unsigned *cids, unsigned max)
{
    char key[32];
    unsigned n = 0;
    snprintf(key, sizeof(key), "sq%u sqe opc=", qid);
    const char *log = nvme_sim_log_text(f->sim);
    for (const char *p = strstr(log, key); p != NULL && n < max; p = strstr(p + 1, key)) {
        const char *c = strstr(p, "cid=");
        unsigned v;
        if (c != NULL && sscanf(c, "cid=%u", &v) == 1)
            cids[n++] = v;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Creation                                                            */
/* ------------------------------------------------------------------ */

static void given_io_queues_1_2_4_they_exist_on_the_device_and_take_commands(void **state)
{
    (void)state;
    static const uint16_t wants[] = {1, 2, 4};
    for (size_t k = 0; k < 3; k++) {
        struct fx f;
        uint16_t n = wants[k];
        fx_config(&f);
        f.cfg.io_queues = 4;
        f.opts.io_queues = n;
        fx_start(&f);
        assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, n);
        for (uint16_t q = 1; q <= 4; q++) {
            assert_int_equal(nvme_sim_queue_exists(f.sim, q, false), q <= n);
            assert_int_equal(nvme_sim_queue_exists(f.sim, q, true), q <= n);
        }
        for (uint16_t q = 1; q <= n; q++) {
            struct rec r = {0, -100};
            uint64_t before = nvme_sim_doorbell_writes(f.sim, q, true);
            assert_int_equal(nvme_submit_flush(f.ctrl, q, 1, 0, rec_cb, &r), 0);
            assert_int_equal(nvme_qpair_poll(f.ctrl, q, 0), 1);
            assert_int_equal(r.calls, 1);
            assert_int_equal(r.result, 0);
            /* reaped from that queue's own CQ */
            assert_int_equal(nvme_sim_doorbell_writes(f.sim, q, true), before + 1);
        }
        assert_int_equal(nvme_submit_flush(f.ctrl, (uint16_t)(n + 1), 1, 0, rec_cb, NULL),
                         NVME_ERR_INVAL);
        fx_stop(&f);
    }
}

static void given_device_grants_fewer_queues_info_reports_the_grant(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.io_queues = 2;
    f.opts.io_queues = 4;
    fx_start(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 2);
    assert_true(nvme_sim_queue_exists(f.sim, 1, false));
    assert_true(nvme_sim_queue_exists(f.sim, 2, false));
    assert_int_equal(nvme_submit_flush(f.ctrl, 3, 1, 0, NULL, NULL), NVME_ERR_INVAL);
    assert_int_equal(nvme_flush(f.ctrl, 1), 0);
    fx_stop(&f);
}

/* Create I/O Submission Queue refused for the third queue (§5.4; a
 * controller short of resources): its Completion Queue is deleted again,
 * the core runs with the two created, as Linux's nvme_create_io_queues
 * keeps what it got, and says so; a reset asks again and gets all four. */
static void given_third_sq_refused_two_queues_run_and_its_cq_is_deleted(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.io_queues = 4;
    f.sim = nvme_sim_create(&f.cfg);
    assert_non_null(f.sim);
    nvme_sim_log_capture(f.sim, true);
    struct nvme_sim_fault refuse = {NVME_SIM_FAULT_STATUS,
                                    0,
                                    NVME_ADMIN_CREATE_SQ,
                                    NVME_SIM_ANY,
                                    NVME_SF_DNR_BIT |
                                        NVME_SF(NVME_SCT_COMMAND_SPECIFIC, 0x01) /* Invalid QID */,
                                    2,
                                    1};
    assert_int_equal(nvme_sim_inject(f.sim, &refuse), 0);
    nvme_sim_osal(f.sim, &f.osal);
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 2);
    assert_true(nvme_sim_queue_exists(f.sim, 2, false));
    assert_false(nvme_sim_queue_exists(f.sim, 3, false));
    assert_false(nvme_sim_queue_exists(f.sim, 3, true)); /* its CQ deleted again */
    assert_false(nvme_sim_queue_exists(f.sim, 4, true));
    assert_non_null(strstr(nvme_sim_log_text(f.sim), "only 2 of 4 I/O queues created"));
    uint8_t *buf = xalloc(4096);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 8, buf), 0);
    assert_int_equal(nvme_submit_flush(f.ctrl, 3, 1, 0, NULL, NULL), NVME_ERR_INVAL);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 4);
    assert_true(nvme_sim_queue_exists(f.sim, 4, false));
    free(buf);
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* The harmless command on the I/O CQ: polled, MSI-X, INTx             */
/* ------------------------------------------------------------------ */

static void given_polling_flush_completes_on_io_cq_without_interrupts(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->irq_vectors, 0);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t flushes = st->flushes, sqdb = nvme_sim_doorbell_writes(f.sim, 1, false),
             cqdb = nvme_sim_doorbell_writes(f.sim, 1, true);
    assert_int_equal(nvme_flush(f.ctrl, 1), 0);
    assert_int_equal(st->flushes, flushes + 1);
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false), sqdb + 1);
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, true), cqdb + 1);

    /* async: the completion waits in the CQ until polled, and only there */
    struct rec r = {0, -100};
    assert_int_equal(nvme_submit_flush(f.ctrl, 1, 1, 0, rec_cb, &r), 0);
    assert_int_equal(st->flushes, flushes + 2); /* executed (immediate timing) */
    assert_int_equal(r.calls, 0);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 0, 0), 0);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, 0);
    assert_int_equal(nvme_ctrl_irq_count(f.ctrl), 0);
    fx_stop(&f);
}

static void given_msix_flush_completion_is_delivered_by_the_queue_vector(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 50;
    f.opts.io_queues = 2;
    fx_start(&f);
    const struct nvme_ctrl_info *in = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(in->irq_vectors, 3); /* admin + one per I/O queue */
    assert_false(in->irq_is_intx);
    nvme_sim_log_capture(f.sim, true);

    /* A blocking call reaps its own completion while it polls (it does
     * not sleep for the first millisecond): the device still signalled. */
    assert_int_equal(nvme_flush(f.ctrl, 1), 0);
    assert_true(nvme_sim_irq_count(f.sim, 1) > 0);

    /* Without any poll: the interrupt alone runs the callback. */
    struct rec r = {0, -100};
    uint64_t irq2 = nvme_sim_irq_count(f.sim, 2), handled = nvme_ctrl_irq_count(f.ctrl);
    assert_int_equal(nvme_submit_flush(f.ctrl, 2, 1, 0, rec_cb, &r), 0);
    assert_int_equal(r.calls, 0);
    nvme_sim_advance(f.sim, 100);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, 0);
    assert_true(nvme_sim_irq_count(f.sim, 2) > irq2);
    assert_true(nvme_ctrl_irq_count(f.ctrl) > handled);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 2), 0);
    assert_null(strstr(nvme_sim_log_text(f.sim), "interrupt lost"));
    fx_stop(&f);
}

/* Interrupt coalescing (§5.21.1.8) is set at bring-up and again after a
 * reset (a reset clears features), and only when interrupts are used. */
static void given_coalescing_options_set_features_08h_at_bringup_and_reset(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    f.opts.irq_coalesce_time = 2;
    f.opts.irq_coalesce_thr = 7;
    fx_start(&f);
    assert_int_equal(nvme_sim_feature(f.sim, NVME_FEAT_IRQ_COALESCE), 7u | (2u << 8));
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_sim_feature(f.sim, NVME_FEAT_IRQ_COALESCE), 7u | (2u << 8));
    fx_stop(&f);

    fx_config(&f); /* polled: nothing to coalesce */
    f.opts.irq_coalesce_time = 2;
    fx_start(&f);
    assert_int_equal(nvme_sim_feature(f.sim, NVME_FEAT_IRQ_COALESCE), 0);
    fx_stop(&f);
}

static void given_intx_flush_completes_with_intms_intmc_masking(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.irq_mode = NVME_SIM_IRQ_INTX;
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 50;
    fx_start(&f);
    const struct nvme_ctrl_info *in = nvme_ctrl_get_info(f.ctrl);
    assert_true(in->irq_is_intx);
    assert_int_equal(in->irq_vectors, 1);
    nvme_sim_log_capture(f.sim, true);
    uint64_t ms = nvme_sim_reg_writes(f.sim, NVME_REG_INTMS),
             mc = nvme_sim_reg_writes(f.sim, NVME_REG_INTMC);

    assert_int_equal(nvme_flush(f.ctrl, 1), 0);
    assert_true(nvme_sim_irq_count(f.sim, 0) > 0);

    /* Without any poll: the interrupt handler reaps, masking around it. */
    struct rec r = {0, -100};
    assert_int_equal(nvme_submit_flush(f.ctrl, 1, 1, 0, rec_cb, &r), 0);
    nvme_sim_advance(f.sim, 100);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, 0);
    assert_true(nvme_ctrl_irq_count(f.ctrl) > 0);
    assert_true(nvme_sim_reg_writes(f.sim, NVME_REG_INTMS) > ms);
    assert_true(nvme_sim_reg_writes(f.sim, NVME_REG_INTMC) > mc);
    assert_int_equal(nvme_sim_reg_peek(f.sim, NVME_REG_INTMS) & 1u, 0); /* left unmasked */
    assert_null(strstr(nvme_sim_log_text(f.sim), "interrupt lost"));
    fx_stop(&f);
}

/* An orderly reset deletes the I/O queues first; the commands still in
 * the device then complete with Command Aborted due to SQ Deletion into a
 * CQ the core no longer reaps (they are replayed).  With INTx those
 * entries hold the level-triggered line up: the handler must not unmask
 * it while they sit there, or it is called again and again for nothing
 * (on QEMU about 10,000 times per reset; a kernel that counts unclaimed
 * interrupts disables the line).  The reads are replayed and complete. */
static void given_intx_an_orderly_reset_with_io_in_flight_raises_no_interrupt_storm(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.irq_mode = NVME_SIM_IRQ_INTX;
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 5000; /* admin waits sleep: interrupts are delivered */
    fx_start_captured(&f);
    fx_inject(&f, NVME_SIM_FAULT_HANG, NVME_SIM_ANY_IO, NVME_CMD_READ, 0, 4);
    uint8_t *buf = fx_xalloc(4 * 4096);
    struct rec r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct rec){0, -100};
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, (uint64_t)i * 8, 8,
                                        buf + i * 4096, 0, rec_cb, &r[i]),
                         0);
    }
    (void)nvme_sim_run(f.sim); /* fetched: they hang in the device */
    nvme_sim_advance(f.sim, 1000);
    uint64_t refires = nvme_sim_stats(f.sim)->intx_refires;
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    refires = nvme_sim_stats(f.sim)->intx_refires - refires;
    if (refires > 2)
        fail_msg("%llu interrupts for nothing during the reset", (unsigned long long)refires);
    assert_int_equal(nvme_sim_reg_peek(f.sim, NVME_REG_INTMS) & 1u, 0); /* unmasked again */
    for (int i = 0; i < 4; i++) {
        for (int t = 0; t < 1000 && r[i].calls == 0; t++)
            nvme_sim_advance(f.sim, 100); /* no poll: the interrupt handler reaps */
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].result, 0);
    }
    free(buf);
    fx_stop(&f);
}

static void given_msix_reads_and_writes_complete_by_interrupt(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 30;
    f.cfg.mdts = 2; /* 16 KiB: a 64 KiB transfer is 4 commands */
    fx_start(&f);
    uint8_t *w = xalloc(65536), *r = xalloc(65536);
    fx_pattern(w, 65536, 77);
    assert_int_equal(nvme_write(f.ctrl, 1, 1000, 128, w), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 1000, 128, r), 0);
    assert_memory_equal(w, r, 65536);
    assert_true(nvme_sim_irq_count(f.sim, 1) > 0);
    free(w);
    free(r);
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* Rings: wrap, phase, CIDs                                            */
/* ------------------------------------------------------------------ */

static void given_4_entry_queues_many_laps_keep_data_and_phase_right(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mqes = 3; /* 4 entries: the phase flips every 4 completions */
    f.opts.admin_queue_entries = 4;
    fx_start(&f);
    const struct nvme_ctrl_info *in = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(in->admin_queue_entries, 4);
    assert_int_equal(in->io_queue_entries, 4);

    /* I/O: 2 x 20 commands, 10 laps of the ring. */
    uint8_t *w = xalloc(512), *r = xalloc(512);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t io0 = st->io_cmds;
    for (uint32_t i = 0; i < 20; i++) {
        fx_pattern(w, 512, 1000 + i);
        memset(r, 0, 512);
        assert_int_equal(nvme_write(f.ctrl, 1, i * 7u, 1, w), 0);
        assert_int_equal(nvme_read(f.ctrl, 1, i * 7u, 1, r), 0);
        assert_memory_equal(w, r, 512);
    }
    assert_int_equal(st->io_cmds, io0 + 40);
    for (uint32_t i = 0; i < 20; i++) { /* everything landed where it should */
        assert_int_equal(nvme_sim_ns_read(f.sim, 1, i * 7u, 1, r), 0);
        assert_matches_pattern(r, 512, 1000 + i);
    }

    /* Admin: 17 commands (4+ laps), each answered correctly. */
    uint64_t adm0 = st->admin_cmds;
    for (int i = 0; i < 16; i++) {
        uint32_t dw0 = 0xdeadbeef;
        assert_int_equal(nvme_get_features(f.ctrl, NVME_FEAT_NUM_QUEUES, 0, &dw0), 0);
        assert_int_equal(dw0, nvme_sim_feature(f.sim, NVME_FEAT_NUM_QUEUES));
    }
    struct nvme_id_ctrl *id = calloc(1, sizeof(*id));
    assert_non_null(id);
    assert_int_equal(nvme_identify(f.ctrl, NVME_CNS_CTRL, 0, id), 0);
    assert_memory_equal(id->sn, "SIM0000001", 10);
    free(id);
    assert_int_equal(st->admin_cmds, adm0 + 17);
    free(w);
    free(r);
    fx_stop(&f); /* no host error: CQ head doorbells stayed within the tail */
}

static void given_full_small_queue_repeatedly_cids_stay_unique_and_data_right(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0; /* one poll reaps all 3: completions inside the doorbell */
    f.cfg.mqes = 3;            /* 4 entries, 3 commands in flight at most */
    fx_start(&f);
    seed_media(&f, 1, 0, 64, 5);
    uint8_t *ref = xalloc(64 * 512);
    fx_pattern(ref, 64 * 512, 5);
    uint8_t *buf[3];
    for (int k = 0; k < 3; k++)
        buf[k] = xalloc(512);
    nvme_sim_log_capture(f.sim, true);
    nvme_ctrl_set_trace(f.ctrl, NVME_TRACE_SQE);

    uint64_t sqdb0 = nvme_sim_doorbell_writes(f.sim, 1, false);
    for (uint32_t lap = 0; lap < 10; lap++) {
        struct rec r[3] = {{0, -100}, {0, -100}, {0, -100}};
        nvme_sim_log_clear(f.sim);
        for (uint32_t k = 0; k < 3; k++)
            assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, lap * 3 + k, 1, buf[k],
                                            NVME_SUBMIT_NO_DOORBELL, rec_cb, &r[k]),
                             0);
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 63, 1, buf[0],
                                        NVME_SUBMIT_NO_DOORBELL, rec_cb, NULL),
                         NVME_ERR_BUSY);
        assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 3);
        unsigned cids[8];
        assert_int_equal(traced_cids(&f, 1, cids, 8), 3);
        assert_true(cids[0] != cids[1] && cids[0] != cids[2] && cids[1] != cids[2]);
        nvme_qpair_ring(f.ctrl, 1);
        assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 3);
        for (uint32_t k = 0; k < 3; k++) {
            assert_int_equal(r[k].calls, 1);
            assert_int_equal(r[k].result, 0);
            assert_memory_equal(buf[k], ref + (size_t)(lap * 3 + k) * 512, 512);
        }
        assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    }
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false), sqdb0 + 10);
    for (int k = 0; k < 3; k++)
        free(buf[k]);
    free(ref);
    fx_stop(&f);
}

/* A queue of 257 entries holds 256 commands: slot indexes 0..255 need 8
 * bits, but the CID keeps 9 for them, so index 255 never meets generation
 * all ones in CID FFFFh, which names no command in the Error Information
 * log (§5.14.1.1; the simulator counts it as a host error, which fx_stop
 * asserts).  256 laps of a full queue: every slot at every generation,
 * and as many as 8 index bits would have. */
static void given_every_slot_at_every_generation_no_cid_is_ffffh(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mqes = 256;
    f.opts.io_queue_entries = 257;
    fx_start(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queue_entries, 257);
    uint8_t *buf = xalloc(512);
    for (uint32_t lap = 0; lap < 256; lap++) {
        struct fx_rec r = {0, -100};
        for (uint32_t k = 0; k < 256; k++)
            assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, k, 1, buf,
                                            NVME_SUBMIT_NO_DOORBELL, fx_rec_cb, &r),
                             0);
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf,
                                        NVME_SUBMIT_NO_DOORBELL, fx_rec_cb, &r),
                         NVME_ERR_BUSY); /* all 256 slots taken */
        nvme_qpair_ring(f.ctrl, 1);
        for (int i = 0; i < 1000 && nvme_qpair_outstanding(f.ctrl, 1) != 0; i++)
            (void)nvme_qpair_poll(f.ctrl, 1, 0);
        assert_int_equal(r.calls, 256);
        assert_int_equal(r.result, 0);
    }
    free(buf);
    fx_stop(&f);
}

static void given_small_queues_with_interrupts_and_latency_laps_complete(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mqes = 3;
    f.cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 20;
    f.cfg.mdts = 1; /* 8 KiB pieces: a 64 KiB read is 8 commands, > 2 laps */
    fx_start(&f);
    uint8_t *w = xalloc(65536), *r = xalloc(65536);
    for (uint32_t i = 0; i < 4; i++) {
        fx_pattern(w, 65536, 300 + i);
        memset(r, 0, 65536);
        assert_int_equal(nvme_write(f.ctrl, 1, 128 * i, 128, w), 0);
        assert_int_equal(nvme_read(f.ctrl, 1, 128 * i, 128, r), 0);
        assert_memory_equal(w, r, 65536);
    }
    free(w);
    free(r);
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* Asynchronous path                                                   */
/* ------------------------------------------------------------------ */

static void given_batch_without_doorbell_one_sq_doorbell_and_one_cq_doorbell(void **state)
{
    (void)state;
    enum { N = 8 };
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0; /* one poll, one CQ doorbell: completions inside the doorbell */
    fx_start(&f);
    seed_media(&f, 1, 200, N * 2, 42);
    uint8_t *ref = xalloc(N * 2 * 512);
    fx_pattern(ref, N * 2 * 512, 42);
    uint8_t *buf = xalloc(N * 2 * 512);
    struct rec r[N];
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t sqdb = nvme_sim_doorbell_writes(f.sim, 1, false);
    uint64_t cqdb = nvme_sim_doorbell_writes(f.sim, 1, true);
    uint64_t io0 = st->io_cmds;

    for (int i = 0; i < N; i++) {
        r[i] = (struct rec){0, -100};
        unsigned flags = i < N - 1 ? NVME_SUBMIT_NO_DOORBELL : 0;
        if (i == N - 1) { /* nothing reached the device yet */
            assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false), sqdb);
            assert_int_equal(st->io_cmds, io0);
            assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), N - 1);
        }
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 200 + 2u * i, 2,
                                        buf + (size_t)i * 1024, flags, rec_cb, &r[i]),
                         0);
    }
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false), sqdb + 1);
    assert_int_equal(st->io_cmds, io0 + N);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), N);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].calls, 0); /* callbacks only from poll */
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), N);
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, true), cqdb + 1);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].result, 0);
    }
    assert_memory_equal(buf, ref, N * 2 * 512);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 0);
    free(buf);
    free(ref);
    fx_stop(&f);
}

/* Batches of 5 on an 8-entry queue: every other batch wraps the SQ end,
 * so the entries cleaned before its doorbell are two ranges (the
 * non-coherent variant of this program sees a stale SQE otherwise). */
static void given_batches_that_wrap_the_sq_end_every_command_reaches_the_device(void **state)
{
    (void)state;
    enum { N = 5, ROUNDS = 7 };
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0; /* one poll reaps each batch: completions inside the doorbell */
    f.opts.io_queue_entries = 8;
    fx_start(&f);
    seed_media(&f, 1, 0, N * ROUNDS * 2, 77);
    uint8_t *ref = xalloc(N * ROUNDS * 2 * 512);
    fx_pattern(ref, N * ROUNDS * 2 * 512, 77);
    uint8_t *buf = xalloc(N * ROUNDS * 2 * 512);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t io0 = st->io_cmds;
    for (int k = 0; k < ROUNDS; k++) {
        struct rec r[N];
        for (int i = 0; i < N; i++) {
            unsigned b = (unsigned)(k * N + i);
            r[i] = (struct rec){0, -100};
            assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 2u * b, 2,
                                            buf + (size_t)b * 1024, NVME_SUBMIT_NO_DOORBELL, rec_cb,
                                            &r[i]),
                             0);
        }
        nvme_qpair_ring(f.ctrl, 1);
        assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), N);
        for (int i = 0; i < N; i++) {
            assert_int_equal(r[i].calls, 1);
            assert_int_equal(r[i].result, 0);
        }
    }
    assert_int_equal(st->io_cmds, io0 + N * ROUNDS);
    assert_memory_equal(buf, ref, N * ROUNDS * 2 * 512);
    free(buf);
    free(ref);
    fx_stop(&f);
}

static void given_batch_nvme_qpair_ring_writes_the_doorbell_once(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0; /* one poll reaps the batch: completions inside the doorbell */
    fx_start(&f);
    uint8_t *buf = xalloc(4 * 512);
    struct rec r[4];
    uint64_t sqdb = nvme_sim_doorbell_writes(f.sim, 1, false);
    uint64_t writes = nvme_sim_stats(f.sim)->writes;
    for (int i = 0; i < 4; i++) {
        r[i] = (struct rec){0, -100};
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, 10u + (unsigned)i, 1,
                                        buf + i * 512, NVME_SUBMIT_NO_DOORBELL, rec_cb, &r[i]),
                         0);
    }
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false), sqdb);
    nvme_qpair_ring(f.ctrl, 1);
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false), sqdb + 1);
    nvme_qpair_ring(f.ctrl, 1); /* nothing new: no doorbell */
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false), sqdb + 1);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(r[i].calls, 1);
    assert_int_equal(nvme_sim_stats(f.sim)->writes, writes + 4);
    free(buf);
    fx_stop(&f);
}

/* A poll reaps what the controller posts while it runs, as Linux's
 * nvme_process_cq loops while nvme_cqe_pending: here the second read's
 * entry lands during the first one's callback.  On a non-coherent
 * machine the poll invalidated both entries when it began (two commands
 * in flight), so the second reads as the last lap's until it is
 * invalidated once more (nvme_qpair_reap); without that re-read this poll
 * answers 1 and the completion waits for the next look. */
struct posts_next {
    struct rec r;
    struct nvme_sim *sim;
};

static void post_next_cb(void *arg, int result, uint32_t dw0)
{
    struct posts_next *p = arg;
    rec_cb(&p->r, result, dw0);
    nvme_sim_advance(p->sim, 100); /* the second read completes now */
}

static void given_a_completion_posted_while_a_poll_runs_that_poll_reaps_it(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0; /* completion times set by the deferred latency alone */
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 100;
    fx_start(&f);
    seed_media(&f, 1, 0, 2, 9);
    uint8_t *buf = xalloc(1024);
    struct posts_next first = {{0, -100}, f.sim};
    struct rec second = {0, -100};
    assert_int_equal(
        nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf, 0, post_next_cb, &first), 0);
    nvme_sim_advance(f.sim, 100); /* the first read is posted */
    assert_int_equal(
        nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 1, 1, buf + 512, 0, rec_cb, &second),
        0); /* the second due 100 us from now */
    assert_int_equal(first.r.calls, 0);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 2);
    assert_int_equal(first.r.calls, 1);
    assert_int_equal(first.r.result, 0);
    assert_int_equal(second.calls, 1);
    assert_int_equal(second.result, 0);
    assert_matches_pattern(buf, 1024, 9);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    free(buf);
    fx_stop(&f);
}

static void given_full_queue_submit_returns_busy_then_drains(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0;   /* one poll reaps each read: completions inside the doorbell */
    f.opts.io_queue_entries = 8; /* 7 commands in flight at most (§4.1.2) */
    fx_start(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queue_entries, 8);
    uint8_t *buf = xalloc(512);
    struct rec r[7];
    for (int i = 0; i < 7; i++) {
        r[i] = (struct rec){0, -100};
        assert_int_equal(nvme_submit_flush(f.ctrl, 1, 1, NVME_SUBMIT_NO_DOORBELL, rec_cb, &r[i]),
                         0);
    }
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 7);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf, 0, rec_cb, NULL),
                     NVME_ERR_BUSY);
    assert_int_equal(nvme_submit_flush(f.ctrl, 1, 1, 0, rec_cb, NULL), NVME_ERR_BUSY);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 7); /* BUSY took no slot */
    nvme_qpair_ring(f.ctrl, 1);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 7);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].result, 0);
    }
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    struct rec again = {0, -100};
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf, 0, rec_cb, &again), 0);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 1);
    assert_int_equal(again.calls, 1);
    assert_int_equal(again.result, 0);
    free(buf);
    fx_stop(&f);
}

/* A blocking call whose queue is full of other commands (asynchronous
 * ones, here placed without their doorbell; another CPU's on a shared
 * queue) waits for a slot, as Linux waits for a tag, instead of failing
 * with NVME_ERR_BUSY: it rings, reaps (their callbacks run) and goes on.
 * The asynchronous calls still answer NVME_ERR_BUSY at once. */
static void given_full_queue_a_blocking_call_waits_for_a_slot(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.io_queue_entries = 8;
    fx_start(&f);
    uint8_t *buf = xalloc(8192);
    for (int round = 0; round < 3; round++) {
        struct rec r[7];
        for (int i = 0; i < 7; i++) {
            r[i] = (struct rec){0, -100};
            assert_int_equal(
                nvme_submit_flush(f.ctrl, 1, 1, NVME_SUBMIT_NO_DOORBELL, rec_cb, &r[i]), 0);
        }
        assert_int_equal(nvme_submit_flush(f.ctrl, 1, 1, 0, rec_cb, NULL), NVME_ERR_BUSY);
        int rc = round == 0   ? nvme_read(f.ctrl, 1, 0, 1, buf)  /* one page */
                 : round == 1 ? nvme_read(f.ctrl, 1, 0, 16, buf) /* a PRP list */
                              : nvme_flush(f.ctrl, 1);           /* nvme_exec-like */
        assert_int_equal(rc, 0);
        for (int i = 0; i < 7; i++) {
            assert_int_equal(r[i].calls, 1);
            assert_int_equal(r[i].result, 0);
        }
        assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    }
    free(buf);
    fx_stop(&f);
}

/* The admin queue tops its PRP list pool up before a command that needs
 * a list (nvme_prp_reserve) with the pages the list takes (§4.3): each
 * list page but the last gives its last entry to the chain pointer, so
 * p pages hold p * (epp - 1) + 1 entries, and a list that fills its pages
 * exactly takes no page more.  MPS 4 KiB (512 entries a page): bounces
 * of 512, 513, 514, 1023 and 1024 pages (511, 512, 513, 1022 and 1023
 * entries) leave the pool at 1, 1, 2, 2 and 2 pages; MPS 8 KiB (1024
 * entries): 3 pages and the largest bounce, 4 MiB (512 pages, 511
 * entries), 1.  Every command goes through: none is a page short (the
 * list would fail NVME_ERR_BUSY).  Before: 1, 2, 2, 2, 3 at 4 KiB, a page
 * too many where the entries fill the list pages exactly. */
static void admin_prp_reserve_takes_the_list_pages_a_command_needs(void **state)
{
    (void)state;
    static const unsigned pages[2][5] = {{512, 513, 514, 1023, 1024}, {3, 512}};
    static const unsigned pool[2][5] = {{1, 1, 2, 2, 2}, {1, 1}};
    uint8_t *buf = xalloc(4u << 20);
    for (unsigned mps = 0; mps <= 1; mps++) {
        struct fx f;
        fx_config(&f);
        f.cfg.mdts = 0; /* the core's 4 MiB per command */
        f.cfg.mpsmin = (uint8_t)mps;
        f.cfg.vendor_opc = 0xc2; /* a no-op moving data to the host (opcode bits 1:0 10b) */
        f.opts.no_async_events = true;
        fx_start(&f);
        const uint32_t ps = 4096u << mps;
        assert_int_equal(nvme_ctrl_get_info(f.ctrl)->page_size, ps);
        size_t base = nvme_sim_dma_live(f.sim);
        for (unsigned i = 0; i < 5 && pages[mps][i] != 0; i++) {
            struct nvme_sqe sqe;
            memset(&sqe, 0, sizeof(sqe));
            sqe.opc = 0xc2;
            assert_int_equal(nvme_admin_passthru(f.ctrl, &sqe, buf, pages[mps][i] * ps,
                                                 NVME_DMA_FROM_DEVICE, NULL),
                             0);
            assert_int_equal(nvme_sim_dma_live(f.sim) - base, pool[mps][i]);
        }
        assert_int_equal(nvme_sim_stats(f.sim)->vendor_cmds, mps == 0 ? 5 : 2);
        fx_stop(&f);
    }
    free(buf);
}

/* Every PRP list page of an I/O queue comes from its pool, filled at
 * bring-up for 16 commands of MDTS (nvme_prp_pool_fill): a 17th command
 * needing a list finds it empty.  Asynchronous: NVME_ERR_BUSY, what it
 * had mapped unmapped, nothing sent; blocking: it waits for a page as
 * for a slot.  Data right either way. */
static void given_prp_pool_empty_submit_returns_busy_and_a_blocking_call_waits(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    enum { N = 16, BLOCKS = 24 }; /* 12 KiB page-aligned: PRP1 and a list of 2 */
    seed_media(&f, 1, 0, (N + 2) * BLOCKS, 77);
    uint8_t *buf = xalloc((size_t)(N + 2) * BLOCKS * 512);
    struct rec r[N + 1];
    size_t live = nvme_sim_dma_live(f.sim);
    for (int i = 0; i < N; i++) {
        r[i] = (struct rec){0, -100};
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, (uint64_t)i * BLOCKS, BLOCKS,
                                        buf + (size_t)i * BLOCKS * 512, NVME_SUBMIT_NO_DOORBELL,
                                        rec_cb, &r[i]),
                         0);
    }
    size_t full = nvme_sim_dma_live(f.sim);
    assert_true(full > live);
    r[N] = (struct rec){0, -100};
    uint8_t *last = buf + (size_t)N * BLOCKS * 512;
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, (uint64_t)N * BLOCKS, BLOCKS, last,
                                    NVME_SUBMIT_NO_DOORBELL, rec_cb, &r[N]),
                     NVME_ERR_BUSY);
    assert_int_equal(nvme_sim_dma_live(f.sim), full); /* its pieces unmapped again */
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), N);
    /* Blocking: waits for the others (it rings and reaps), then reads. */
    assert_int_equal(nvme_read(f.ctrl, 1, (uint64_t)(N + 1) * BLOCKS, BLOCKS, last + BLOCKS * 512),
                     0);
    for (int n = 0; n < 1000 && nvme_qpair_outstanding(f.ctrl, 1) != 0; n++) {
        (void)nvme_qpair_poll(f.ctrl, 1, 0); /* late ones: in any order, after */
        nvme_sim_advance(f.sim, 1000);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].result, 0);
    }
    assert_int_equal(r[N].calls, 0);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, (uint64_t)N * BLOCKS, BLOCKS, last,
                                    0, rec_cb, &r[N]),
                     0);
    for (int n = 0; n < 1000 && r[N].calls == 0; n++) {
        (void)nvme_qpair_poll(f.ctrl, 1, 0);
        nvme_sim_advance(f.sim, 1000);
    }
    assert_int_equal(r[N].calls, 1);
    assert_int_equal(r[N].result, 0);
    assert_matches_pattern(buf, (size_t)(N + 2) * BLOCKS * 512, 77);
    assert_int_equal(nvme_sim_dma_live(f.sim), live);
    free(buf);
    fx_stop(&f);
}

/* NVME_QID_CPU names the calling CPU's queue for every queue call, not
 * only the submissions: commands placed there without their doorbell are
 * counted, rung and reaped through it.  Before: nvme_qpair_ring did
 * nothing, nvme_qpair_outstanding said 0 and nvme_qpair_poll
 * NVME_ERR_INVAL, so the commands sat unrung until their deadline. */
static void given_qid_cpu_ring_poll_and_outstanding_name_the_cpus_queue(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0; /* one poll reaps all 3: completions inside the doorbell */
    f.opts.io_queues = 2;
    fx_start(&f);
    uint8_t *buf = xalloc(3 * 4096);
    struct rec r[3];
    for (int i = 0; i < 3; i++) {
        r[i] = (struct rec){0, -100};
        assert_int_equal(nvme_submit_rw(f.ctrl, NVME_QID_CPU, NVME_CMD_READ, 1, 8u * (unsigned)i, 8,
                                        buf + i * 4096, NVME_SUBMIT_NO_DOORBELL, rec_cb, &r[i]),
                         0);
    }
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, NVME_QID_CPU), 3);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 3); /* CPU 0 without cpu_id: queue 1 */
    uint64_t rung = nvme_sim_doorbell_writes(f.sim, 1, false);
    nvme_qpair_ring(f.ctrl, NVME_QID_CPU);
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false), rung + 1);
    assert_int_equal(nvme_qpair_poll(f.ctrl, NVME_QID_CPU, 0), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r[i].result, 0);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, NVME_QID_CPU), 0);
    free(buf);
    fx_stop(&f);
}

static void given_poll_max_reaps_at_most_max(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    struct rec r[5];
    for (int i = 0; i < 5; i++) {
        r[i] = (struct rec){0, -100};
        assert_int_equal(nvme_submit_flush(f.ctrl, 1, 1, 0, rec_cb, &r[i]), 0);
    }
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 2), 2);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 3);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 3);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r[i].calls, 1);
    fx_stop(&f);
}

static void given_deferred_completions_outstanding_counts_until_time_passes(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0; /* completion times set by the deferred latency alone */
    fx_start(&f);
    nvme_sim_set_timing(f.sim, NVME_SIM_DEFERRED, 1000);
    seed_media(&f, 1, 0, 5, 8);
    uint8_t *buf = xalloc(5 * 512);
    struct rec r[5];
    for (int i = 0; i < 5; i++) {
        r[i] = (struct rec){0, -100};
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, (uint64_t)i, 1, buf + i * 512,
                                        0, rec_cb, &r[i]),
                         0);
    }
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 5);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 0); /* not due yet */
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r[i].calls, 0);
    nvme_sim_advance(f.sim, 1000);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 5);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].result, 0);
    }
    assert_matches_pattern(buf, 5 * 512, 8);
    free(buf);
    fx_stop(&f);
}

static void given_four_queues_each_completion_lands_on_its_own_cq(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0; /* one poll reaps each read: completions inside the doorbell */
    f.opts.io_queues = 4;
    fx_start(&f);
    seed_media(&f, 1, 0, 4, 99);
    uint8_t *buf = xalloc(4 * 512);
    struct rec r[4];
    for (uint16_t q = 1; q <= 4; q++) {
        r[q - 1] = (struct rec){0, -100};
        assert_int_equal(nvme_submit_rw(f.ctrl, q, NVME_CMD_READ, 1, q - 1u, 1, buf + (q - 1) * 512,
                                        0, rec_cb, &r[q - 1]),
                         0);
        assert_int_equal(nvme_qpair_outstanding(f.ctrl, q), 1);
    }
    for (uint16_t q = 1; q <= 4; q++) {
        assert_int_equal(nvme_qpair_poll(f.ctrl, q, 0), 1);
        assert_int_equal(r[q - 1].calls, 1);
        assert_int_equal(r[q - 1].result, 0);
        for (uint16_t o = q + 1; o <= 4; o++) /* others untouched */
            assert_int_equal(r[o - 1].calls, 0);
    }
    assert_matches_pattern(buf, 4 * 512, 99);
    free(buf);
    fx_stop(&f);
}

static void given_deferred_timing_blocking_io_waits_for_completion(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 300;
    fx_start(&f);
    uint8_t *w = xalloc(32768), *r = xalloc(32768);
    fx_pattern(w, 32768, 12);
    uint64_t t0 = nvme_sim_now(f.sim);
    assert_int_equal(nvme_write(f.ctrl, 1, 64, 64, w), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 64, 64, r), 0);
    assert_true(nvme_sim_now(f.sim) - t0 >= 600);
    assert_memory_equal(w, r, 32768);
    free(w);
    free(r);
    fx_stop(&f);
}

/* Lines of the captured log that contain `key`. */
static unsigned log_count(struct fx *f, const char *key)
{
    unsigned n = 0;
    const char *log = nvme_sim_log_text(f->sim);
    for (const char *p = strstr(log, key); p != NULL; p = strstr(p + 1, key))
        n++;
    return n;
}

/* NVME_TRACE_STATUS traces completions with an error.  SCT 0 SC 0 is a
 * success whatever DNR, More and CRD say (NVMe 2.0 §4.2.3): the read
 * returns 0, and its entry is no error line (before: "status=4000
 * (Successful Completion, DNR)" among the errors); a real error is. */
static void given_status_trace_a_success_with_dnr_is_not_traced_as_an_error(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    uint8_t *buf = fx_xalloc(4096);
    nvme_ctrl_set_trace(f.ctrl, NVME_TRACE_STATUS);
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_READ, 0x4000u, 1);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(log_count(&f, " cqe cid="), 0);
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_READ, 0x4281u, 1);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0x4281);
    assert_int_equal(log_count(&f, " cqe cid="), 1);
    assert_int_equal(log_count(&f, "status=4281 (Unrecovered Read Error, DNR)"), 1);
    nvme_ctrl_set_trace(f.ctrl, 0);
    free(buf);
    fx_stop(&f);
}

/* A device that reports an SQ Head Pointer past the ring in every
 * completion entry (§4.6; the core does not use it, nor does Linux): the
 * reads work and it is logged once, not once per completion (before: 16
 * lines for 16 reads, a line per I/O from an interrupt handler). */
static void given_sqhd_past_the_ring_in_every_completion_it_is_logged_once(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    uint8_t *buf = fx_xalloc(4096);
    fx_inject(&f, NVME_SIM_FAULT_SQHD, NVME_SIM_ANY_IO, NVME_CMD_READ, 0xfff0u, 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(nvme_read(f.ctrl, 1, (uint64_t)i, 1, buf), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 16);
    assert_int_equal(log_count(&f, "SQHD 65520 past the ring"), 1);
    free(buf);
    fx_stop(&f);
}

static void given_bad_async_arguments_nothing_is_submitted(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *buf = xalloc(4096);
    uint64_t io0 = nvme_sim_stats(f.sim)->io_cmds;
    assert_int_equal(nvme_submit_rw(f.ctrl, 0, NVME_CMD_READ, 1, 0, 1, buf, 0, rec_cb, NULL),
                     NVME_ERR_INVAL); /* qid 0 is the admin queue */
    assert_int_equal(nvme_submit_rw(f.ctrl, 9, NVME_CMD_READ, 1, 0, 1, buf, 0, rec_cb, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_FLUSH, 1, 0, 1, buf, 0, rec_cb, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 7, 0, 1, buf, 0, rec_cb, NULL),
                     NVME_ERR_NOENT);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 8192, 1, buf, 0, rec_cb, NULL),
                     NVME_ERR_RANGE);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 5, 0), NVME_ERR_INVAL);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, io0);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    free(buf);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(given_io_queues_1_2_4_they_exist_on_the_device_and_take_commands),
        cmocka_unit_test(given_device_grants_fewer_queues_info_reports_the_grant),
        cmocka_unit_test(given_third_sq_refused_two_queues_run_and_its_cq_is_deleted),
        cmocka_unit_test(given_polling_flush_completes_on_io_cq_without_interrupts),
        cmocka_unit_test(given_msix_flush_completion_is_delivered_by_the_queue_vector),
        cmocka_unit_test(given_coalescing_options_set_features_08h_at_bringup_and_reset),
        cmocka_unit_test(given_intx_flush_completes_with_intms_intmc_masking),
        cmocka_unit_test(given_intx_an_orderly_reset_with_io_in_flight_raises_no_interrupt_storm),
        cmocka_unit_test(given_msix_reads_and_writes_complete_by_interrupt),
        cmocka_unit_test(given_4_entry_queues_many_laps_keep_data_and_phase_right),
        cmocka_unit_test(given_full_small_queue_repeatedly_cids_stay_unique_and_data_right),
        cmocka_unit_test(given_every_slot_at_every_generation_no_cid_is_ffffh),
        cmocka_unit_test(given_small_queues_with_interrupts_and_latency_laps_complete),
        cmocka_unit_test(given_batch_without_doorbell_one_sq_doorbell_and_one_cq_doorbell),
        cmocka_unit_test(given_batches_that_wrap_the_sq_end_every_command_reaches_the_device),
        cmocka_unit_test(given_batch_nvme_qpair_ring_writes_the_doorbell_once),
        cmocka_unit_test(given_a_completion_posted_while_a_poll_runs_that_poll_reaps_it),
        cmocka_unit_test(given_full_queue_submit_returns_busy_then_drains),
        cmocka_unit_test(given_full_queue_a_blocking_call_waits_for_a_slot),
        cmocka_unit_test(given_prp_pool_empty_submit_returns_busy_and_a_blocking_call_waits),
        cmocka_unit_test(admin_prp_reserve_takes_the_list_pages_a_command_needs),
        cmocka_unit_test(given_qid_cpu_ring_poll_and_outstanding_name_the_cpus_queue),
        cmocka_unit_test(given_poll_max_reaps_at_most_max),
        cmocka_unit_test(given_deferred_completions_outstanding_counts_until_time_passes),
        cmocka_unit_test(given_four_queues_each_completion_lands_on_its_own_cq),
        cmocka_unit_test(given_deferred_timing_blocking_io_waits_for_completion),
        cmocka_unit_test(given_status_trace_a_success_with_dnr_is_not_traced_as_an_error),
        cmocka_unit_test(given_sqhd_past_the_ring_in_every_completion_it_is_logged_once),
        cmocka_unit_test(given_bad_async_arguments_nothing_is_submitted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
