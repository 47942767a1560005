/* SPDX-License-Identifier: MIT */
/*
 * bench_io.c - cost of the core's I/O path on the simulated controller.
 *
 * For 4 KiB reads it reports, per command:
 *   - MMIO writes (doorbells) and reads the core issued: what a real
 *     controller would see on the bus, the cost that matters on hardware;
 *   - host CPU time of core + simulator together (CLOCK_PROCESS_CPUTIME_ID),
 *     an upper bound on the core's own cost;
 * at queue depth 1 (nvme_read, one command at a time), batched at queue
 * depth 32 (nvme_submit_rw with NVME_SUBMIT_NO_DOORBELL, one doorbell per
 * batch, nvme_qpair_poll), and the same through nvme_submit_rw_batch.
 * Usage: nvme-bench [commands [qd1|qd32|batch|both]] (both: all three);
 * anything else is refused (usage on stderr, exit 2)
 * (bench/instr-per-io.sh runs one mode at a time under callgrind).
 */
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvme/nvme.h"
#include "nvme_sim.h"

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void done_cb(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    if (result != 0) {
        fprintf(stderr, "I/O failed: %d\n", result);
        exit(1);
    }
    (*(unsigned *)arg)++;
}

static void report(const char *name, struct nvme_sim *sim, struct nvme_sim_stats before, double ns,
                   unsigned n)
{
    const struct nvme_sim_stats *s = nvme_sim_stats(sim);
    printf("%-28s %8u cmds  %7.1f ns/cmd  %5.3f MMIO writes/cmd  %5.3f MMIO reads/cmd\n", name, n,
           ns / n, (double)(s->mmio_writes - before.mmio_writes) / n,
           (double)(s->mmio_reads - before.mmio_reads) / n);
}

int main(int argc, char **argv)
{
    char *end = NULL;
    unsigned long count = argc > 1 ? strtoul(argv[1], &end, 10) : 200000ul;
    const char *mode = argc > 2 ? argv[2] : "both";
    bool all = strcmp(mode, "both") == 0;
    bool qd1 = all || strcmp(mode, "qd1") == 0, qd32 = all || strcmp(mode, "qd32") == 0;
    bool batch = all || strcmp(mode, "batch") == 0;
    /* A wrong argument must not look like a run that measured nothing:
     * 0 commands is allowed (bench/instr-per-io.sh counts bring-up). */
    if (argc > 3 || (argc > 1 && (end == argv[1] || *end != '\0' || count > 100000000ul)) ||
        !(qd1 || qd32 || batch)) {
        fprintf(stderr, "usage: nvme-bench [commands (0..100000000) [qd1|qd32|batch|both]]\n");
        return 2;
    }
    unsigned n = (unsigned)count;
    struct nvme_sim_config cfg;
    struct nvme_sim_ns_config ns = {.nsid = 1, .blocks = 1u << 18, .lba_size = 512};
    nvme_sim_config_init(&cfg);
    cfg.ns = &ns;
    cfg.ns_count = 1;
    cfg.quiet = true;
    struct nvme_sim *sim = nvme_sim_create(&cfg);
    if (sim == NULL) {
        fprintf(stderr, "nvme_sim_create failed\n");
        return 1;
    }
    struct nvme_osal osal;
    nvme_sim_osal(sim, &osal);
    struct nvme_ctrl *ctrl;
    struct nvme_ctrl_opts opts = {.io_queue_entries = 64};
    if (nvme_ctrl_init(&ctrl, &osal, &opts) != 0) {
        fprintf(stderr, "bring-up failed\n");
        return 1;
    }
    uint8_t *buf = aligned_alloc(4096, 32 * 4096);
    if (buf == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    struct nvme_sim_stats before = *nvme_sim_stats(sim);
    double t0 = cpu_ns();
    for (unsigned i = 0; qd1 && i < n; i++)
        if (nvme_read(ctrl, 1, (i * 8u) & 0x3fff8u, 8, buf) != 0)
            return 1;
    if (qd1 && n > 0)
        report("read 4 KiB, QD1 (blocking)", sim, before, cpu_ns() - t0, n);

    before = *nvme_sim_stats(sim);
    t0 = cpu_ns();
    unsigned completed = 0;
    /* Batches of 32, the last one shorter: exactly n commands, as
     * bench/instr-per-io.sh divides by n. */
    for (unsigned i = 0; qd32 && i < n; i += 32) {
        unsigned k = n - i < 32 ? n - i : 32, target = completed + k;
        for (unsigned j = 0; j < k; j++)
            if (nvme_submit_rw(ctrl, 1, NVME_CMD_READ, 1, ((i + j) * 8u) & 0x3fff8u, 8,
                               buf + j * 4096, NVME_SUBMIT_NO_DOORBELL, done_cb, &completed) != 0)
                return 1;
        nvme_qpair_ring(ctrl, 1);
        while (completed < target)
            nvme_qpair_poll(ctrl, 1, 0);
    }
    if (qd32 && n > 0)
        report("read 4 KiB, QD32 batched", sim, before, cpu_ns() - t0, completed);

    before = *nvme_sim_stats(sim);
    t0 = cpu_ns();
    completed = 0;
    struct nvme_rw_req reqs[32];
    for (unsigned i = 0; batch && i < n; i += 32) {
        unsigned k = n - i < 32 ? n - i : 32, target = completed + k;
        for (unsigned j = 0; j < k; j++)
            reqs[j] = (struct nvme_rw_req){.lba = ((i + j) * 8u) & 0x3fff8u,
                                           .buf = buf + j * 4096,
                                           .cb = done_cb,
                                           .arg = &completed,
                                           .count = 8,
                                           .opc = NVME_CMD_READ};
        if (nvme_submit_rw_batch(ctrl, 1, 1, reqs, k, 0, NULL) != 0)
            return 1;
        while (completed < target)
            nvme_qpair_poll(ctrl, 1, 0);
    }
    if (batch && n > 0)
        report("read 4 KiB, QD32 submit_rw_batch", sim, before, cpu_ns() - t0, completed);

    nvme_ctrl_fini(ctrl);
    nvme_sim_destroy(sim);
    free(buf);
    return 0;
}
