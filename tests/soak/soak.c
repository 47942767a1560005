/* SPDX-License-Identifier: MIT */
/*
 * soak.c - reset soak of the command lifecycle on the simulated
 * controller.  Writes are kept in flight, each with a pattern unique to
 * its blocks and version, while resets are forced in rotation:
 *   0 explicit nvme_ctrl_reset()        1 CSTS.CFS raised
 *   2 a command that never completes     3 the device gone, then back
 *   4 the device running on (DMA) through the teardown
 *   5 commands that hang, DMA going on, past their timeout (Abort
 *     refused, then the reset of the timeout path)
 * A buffer whose callback ran is the caller's again: filled with a canary
 * at once, and the regions of the iteration's writes are checked for it
 * (the device read a buffer handed back: `early`).
 * Every acknowledged write is read back at the end.  It prints
 *   soak: resets=N inflight=M acked=A lost=L corrupt=C hangs=H early=E
 *         dma_after_return=D ...
 * and fails unless L, C, H, E and D are 0 and N >= the resets asked for,
 * and A and M are too (a run whose writes were refused checked nothing).
 * Usage: nvme-soak [resets wanted, default 1000] [seed, default 1: also
 * the seed of the device's data timing, cfg.dma_timing_seed; SOAK_DMA_NOW=1
 * in the environment: off] [noretry: max_retries NVME_NO_RETRIES, so a
 * reset fails back the writes the device holds instead of replaying them]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme/nvme.h"
#include "nvme_sim.h"

#define BLOCKS_PER_REGION 8u
#define REGIONS 512u
#define INFLIGHT 12u
#define MAX_WAIT_US (20u * 1000u * 1000u) /* a hang: 20 simulated seconds */

struct region {
    uint32_t acked;   /* last acknowledged version, 0: never */
    uint32_t pending; /* version in flight, 0: none */
    bool unknown;     /* a failed write may have landed partly: not checked */
};

struct write {
    struct region *r;
    uint32_t version;
    int done; /* 0 in flight, 1 ok, -1 failed */
    uint8_t *buf;
};

static struct region regions[REGIONS];
static uint64_t acked, lost, corrupt, hangs, inflight_at_reset, early;
#define CANARY 0xc3

static void pattern(uint8_t *b, uint32_t region, uint32_t version)
{
    uint32_t x = region * 2654435761u ^ version * 40503u ^ 0x9e3779b9u;
    for (size_t i = 0; i < BLOCKS_PER_REGION * 512u; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
}

static void write_done(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    struct write *w = arg;
    if (w->done != 0) {
        fprintf(stderr, "soak: callback ran twice\n");
        exit(1);
    }
    w->done = result == 0 ? 1 : -1;
    if (result == 0) {
        w->r->acked = w->version;
        w->r->unknown = false;
        acked++;
    } else {
        w->r->unknown = true; /* not acknowledged: nothing is promised */
    }
    w->r->pending = 0;
    memset(w->buf, CANARY, BLOCKS_PER_REGION * 512u); /* the caller's again */
}

static void inject(struct nvme_sim *sim, enum nvme_sim_fault_kind kind, unsigned count)
{
    struct nvme_sim_fault f = {kind, NVME_SIM_ANY_IO, NVME_CMD_WRITE, NVME_SIM_ANY, 0, 0, count};
    if (nvme_sim_inject(sim, &f) != 0)
        exit(2);
}

int main(int argc, char **argv)
{
    unsigned want = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1000u;
    unsigned seed = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 1u;
    srand(seed);

    struct nvme_sim_config cfg;
    struct nvme_sim_ns_config ns = {
        .nsid = 1, .blocks = REGIONS * BLOCKS_PER_REGION, .lba_size = 512};
    nvme_sim_config_init(&cfg);
    cfg.ns = &ns;
    cfg.ns_count = 1;
    cfg.quiet = true;
    cfg.log_level = -1;
    cfg.timing = NVME_SIM_DEFERRED;
    cfg.completion_latency_us = 40;
    cfg.disable_delay_us = 100; /* the device runs on 100 us after CC.EN=0 */
    cfg.ready_delay_us = 200;
    cfg.abort_mode = NVME_SIM_ABORT_REFUSE;
    cfg.mqes = 15;
    cfg.hmpre = 256; /* a 1 MiB Host Memory Buffer, given back at each reset (MR) */
    /* Writes whose buffers the device reads at fetch, again later and at
     * completion (nvme_sim.h): a buffer handed back before the device is
     * stopped is then read after its return (dma_after_return, `early`). */
    cfg.dma_timing_seed = getenv("SOAK_DMA_NOW") ? 0 : seed;
    struct nvme_sim *sim = nvme_sim_create(&cfg);
    struct nvme_osal osal;
    nvme_sim_osal(sim, &osal);
    struct nvme_ctrl_opts opts = {
        .command_timeout_ms = 16, .abort_timeout_ms = 10, .io_queues = 2, .admin_timeout_ms = 50};
    if (argc > 3 && strcmp(argv[3], "noretry") == 0)
        opts.max_retries = NVME_NO_RETRIES; /* a reset fails back what the device held */
    struct nvme_ctrl *ctrl;
    if (sim == NULL || nvme_ctrl_init(&ctrl, &osal, &opts) != 0) {
        fprintf(stderr, "soak: bring-up failed\n");
        return 1;
    }
    nvme_sim_set_irq_handler(sim, nvme_ctrl_handle_irq, ctrl);

    struct write w[INFLIGHT];
    for (unsigned i = 0; i < INFLIGHT; i++)
        w[i].buf = aligned_alloc(4096, BLOCKS_PER_REGION * 512u);
    uint32_t version = 0;
    unsigned iter = 0;
    while (nvme_ctrl_get_stats(ctrl)->resets < want && iter < want * 4u) {
        unsigned kind = iter++ % 6u;
        /* distinct regions in flight: no two writes overlap */
        unsigned base = (unsigned)rand() % REGIONS;
        for (unsigned i = 0; i < INFLIGHT; i++) {
            unsigned ri = (base + i * 37u) % REGIONS;
            w[i] = (struct write){&regions[ri], ++version, 0, w[i].buf};
            regions[ri].pending = version;
            pattern(w[i].buf, ri, version);
        }
        if (kind == 2)
            inject(sim, NVME_SIM_FAULT_DROP_CQE, 1);
        if (kind == 4 || kind == 5)
            inject(sim, NVME_SIM_FAULT_HANG, 3);
        for (unsigned i = 0; i < INFLIGHT; i++) {
            unsigned ri = (unsigned)(w[i].r - regions);
            int rc = nvme_submit_rw(ctrl, (uint16_t)(1u + i % 2u), NVME_CMD_WRITE, 1,
                                    (uint64_t)ri * BLOCKS_PER_REGION, BLOCKS_PER_REGION, w[i].buf,
                                    0, write_done, &w[i]);
            if (rc != 0) { /* refused at submission: never in flight */
                w[i].done = -1;
                w[i].r->pending = 0;
            }
        }
        /* Kind 4 lets the device fetch them (the hung ones then keep
         * doing DMA); the others reset before anything completed. */
        nvme_sim_advance(sim, kind == 4 || kind == 1 ? 60 : 10);
        unsigned busy = 0;
        for (unsigned i = 0; i < INFLIGHT; i++)
            busy += w[i].done == 0;
        if (kind == 0 || kind == 4) {
            inflight_at_reset += busy;
            (void)nvme_ctrl_reset(ctrl);
        } else if (kind == 1) {
            inflight_at_reset += busy;
            nvme_sim_set_cfs(sim, true);
        } else if (kind == 3) {
            inflight_at_reset += busy;
            nvme_sim_set_gone(sim, true);
        }
        uint64_t t0 = nvme_sim_now(sim);
        for (;;) {
            unsigned left = 0;
            for (unsigned i = 0; i < INFLIGHT; i++)
                left += w[i].done == 0;
            if (left == 0)
                break;
            if (nvme_sim_now(sim) - t0 > MAX_WAIT_US) {
                hangs++;
                fprintf(stderr, "soak: iteration %u (kind %u): %u writes never completed\n", iter,
                        kind, left);
                return 1;
            }
            (void)nvme_qpair_poll(ctrl, 1, 0);
            (void)nvme_qpair_poll(ctrl, 2, 0);
            nvme_sim_advance(sim, 50);
        }
        if (kind == 3) {
            nvme_sim_set_gone(sim, false); /* hot-added again */
            if (nvme_ctrl_reset(ctrl) != 0) {
                fprintf(stderr, "soak: the device came back but reset failed\n");
                return 1;
            }
        }
        /* A held command repeats its transfer once per simulated ms: one
         * the core handed back early would write the canary now. */
        nvme_sim_advance(sim, 3000);
        for (unsigned i = 0; i < INFLIGHT; i++) {
            unsigned ri = (unsigned)(w[i].r - regions);
            uint8_t got[512];
            for (unsigned b = 0; b < BLOCKS_PER_REGION; b++) {
                uint8_t canary[512];
                memset(canary, CANARY, sizeof(canary));
                if (nvme_sim_ns_read(sim, 1, (uint64_t)ri * BLOCKS_PER_REGION + b, 1, got) == 0 &&
                    memcmp(got, canary, sizeof(got)) == 0) {
                    early++;
                    fprintf(stderr,
                            "soak: iteration %u (kind %u): region %u holds the canary of a buffer "
                            "handed back\n",
                            iter, kind, ri);
                    break;
                }
            }
        }
        nvme_sim_clear_faults(sim);
        if (!nvme_ctrl_is_ready(ctrl) && nvme_ctrl_reset(ctrl) != 0) {
            fprintf(stderr, "soak: controller not usable after iteration %u\n", iter);
            return 1;
        }
    }

    /* Everything acknowledged must be on the media, whole. */
    uint8_t *got = aligned_alloc(4096, BLOCKS_PER_REGION * 512u);
    uint8_t *want_buf = aligned_alloc(4096, BLOCKS_PER_REGION * 512u);
    for (unsigned ri = 0; ri < REGIONS; ri++) {
        struct region *r = &regions[ri];
        if (r->acked == 0 || r->unknown)
            continue;
        if (nvme_read(ctrl, 1, (uint64_t)ri * BLOCKS_PER_REGION, BLOCKS_PER_REGION, got) != 0) {
            fprintf(stderr, "soak: read back of region %u failed\n", ri);
            return 1;
        }
        pattern(want_buf, ri, r->acked);
        if (memcmp(got, want_buf, BLOCKS_PER_REGION * 512u) == 0)
            continue;
        bool older = false;
        for (uint32_t v = r->acked; v-- > 1 && !older;) {
            pattern(want_buf, ri, v);
            older = memcmp(got, want_buf, BLOCKS_PER_REGION * 512u) == 0;
        }
        if (older)
            lost++;
        else
            corrupt++;
    }
    uint64_t resets = nvme_ctrl_get_stats(ctrl)->resets;
    int frc = nvme_ctrl_fini(ctrl); /* the shutdown completed: the cache is committed */
    uint64_t hmb_returns = nvme_sim_stats(sim)->hmb_returns,
             hmb_lost = nvme_sim_stats(sim)->hmb_lost;
    uint64_t dar = nvme_sim_dma_after_return(sim), herr = nvme_sim_host_errors(sim);
    uint64_t viol = nvme_sim_dma_violations(sim);
    size_t live = nvme_sim_dma_live(sim);
    nvme_sim_destroy(sim);
    printf("soak: resets=%llu inflight=%llu acked=%llu lost=%llu corrupt=%llu hangs=%llu "
           "early=%llu dma_after_return=%llu hmb_returns=%llu hmb_lost=%llu\n",
           (unsigned long long)resets, (unsigned long long)inflight_at_reset,
           (unsigned long long)acked, (unsigned long long)lost, (unsigned long long)corrupt,
           (unsigned long long)hangs, (unsigned long long)early, (unsigned long long)dar,
           (unsigned long long)hmb_returns, (unsigned long long)hmb_lost);
    for (unsigned i = 0; i < INFLIGHT; i++)
        free(w[i].buf);
    free(got);
    free(want_buf);
    if (viol != 0 || live != 0 || herr != 0)
        fprintf(stderr, "soak: %llu DMA violations, %zu DMA blocks left, %llu host errors\n",
                (unsigned long long)viol, live, (unsigned long long)herr);
    if (frc != 0)
        fprintf(stderr, "soak: nvme_ctrl_fini: %s\n", nvme_strerror(frc));
    if (hmb_returns == 0)
        fprintf(stderr, "soak: the Host Memory Buffer was never taken back\n");
    /* Writes acknowledged and in flight at a reset, at least one each per
     * reset asked (a healthy run has about 10 and 8): a core that refused
     * or failed every write would pass the checks above with nothing
     * written. */
    bool idle = acked < want || inflight_at_reset < want;
    if (idle)
        fprintf(stderr,
                "soak: %llu writes acknowledged, %llu in flight at a reset: fewer than %u\n",
                (unsigned long long)acked, (unsigned long long)inflight_at_reset, want);
    /* The exit status is the verdict (ctest reads no output): every check. */
    bool bad = (lost | corrupt | hangs | early | dar | viol | live | hmb_lost | herr) != 0 ||
               frc != 0 || hmb_returns == 0 || idle;
    return bad || resets < want ? 1 : 0;
}
