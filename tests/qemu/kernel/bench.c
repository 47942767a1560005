/* SPDX-License-Identifier: MIT */
/*
 * bench.c - the harness's `bench` command: 4 KiB random reads on QEMU's
 * controller through the core's blocking call at queue depth 1, the
 * asynchronous call at depth 1, and batched at depth 32 (one doorbell per
 * batch).  Figures come from the TSC clock; bench/qemu-qd1.sh runs it
 * several times and compares the modes (a benchmark, never a test).
 */
#include "bench.h"

#include "hw.h"

static void bench_done(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    unsigned *n = arg;
    if (result != 0)
        kprintf("bench: command failed: %d (%s)\n", result, nvme_strerror(result));
    (*n)++;
}

static uint64_t bench_lba(uint64_t *x, uint64_t blocks)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return ((*x >> 33) % (blocks / 8u)) * 8u;
}

static void bench_report(const char *mode, unsigned ios, uint64_t us)
{
    uint64_t iops = us ? (uint64_t)ios * 1000000u / us : 0;
    uint64_t lat_ns = ios ? us * 1000u / ios : 0;
    kprintf("bench: mode=%s ios=%u us=%llu iops=%llu ns_per_io=%llu\n", mode, ios,
            (unsigned long long)us, (unsigned long long)iops, (unsigned long long)lat_ns);
}

int harness_bench(struct nvme_ctrl *ctrl, void *buf, size_t buf_len, uint32_t nsid, unsigned ios)
{
    const struct nvme_ns_info *ns = nvme_ns_find(ctrl, nsid);
    if (ns == NULL || ns->status != 0)
        return NVME_ERR_NOENT;
    uint32_t per = 4096u / ns->lba_size;
    if (per == 0 || buf_len < 32u * 4096u || ns->nsze < 64)
        return NVME_ERR_INVAL;
    uint64_t x = 1, blocks = ns->nsze - per;

    uint64_t t0 = clock_now_us();
    for (unsigned i = 0; i < ios; i++) {
        int rc = nvme_read(ctrl, nsid, bench_lba(&x, blocks), per, buf);
        if (rc != 0)
            return rc;
    }
    bench_report("qd1-blocking", ios, clock_now_us() - t0);

    unsigned done = 0;
    t0 = clock_now_us();
    for (unsigned i = 0; i < ios; i++) {
        int rc = nvme_submit_rw(ctrl, 1, NVME_CMD_READ, nsid, bench_lba(&x, blocks), per, buf, 0,
                                bench_done, &done);
        if (rc != 0)
            return rc;
        while (done <= i)
            (void)nvme_qpair_poll(ctrl, 1, 0);
    }
    bench_report("qd1-async", ios, clock_now_us() - t0);

    done = 0;
    t0 = clock_now_us();
    for (unsigned i = 0; i < ios; i += 32) {
        for (unsigned j = 0; j < 32; j++) {
            int rc = nvme_submit_rw(ctrl, 1, NVME_CMD_READ, nsid, bench_lba(&x, blocks), per,
                                    (uint8_t *)buf + j * 4096u, NVME_SUBMIT_NO_DOORBELL,
                                    bench_done, &done);
            if (rc != 0)
                return rc;
        }
        nvme_qpair_ring(ctrl, 1);
        while (done < i + 32)
            (void)nvme_qpair_poll(ctrl, 1, 0);
    }
    bench_report("qd32-async", done, clock_now_us() - t0);
    return 0;
}
