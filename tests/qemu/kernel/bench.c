/* SPDX-License-Identifier: MIT */
/*
 * bench.c - the harness's `bench NSID IOS [MODE...]` command (a benchmark,
 * never a test).  Every running CPU (cpus=N, smp.c) runs the same
 * workload at once on its own I/O queue (NVME_QID_CPU); IOS commands per
 * CPU and mode.  Modes (default: all, in this order):
 *   qd1-blocking    4 KiB random reads through nvme_read() (with interrupts
 *                   it waits in the OSAL's wait() until wake(), osal.c)
 *   qd1-async       4 KiB random reads, nvme_submit_rw() one at a time
 *   qd32-async      4 KiB random reads, 32 in flight
 *   qd128-async     4 KiB random reads, 128 in flight
 *   seq128k-qd8     128 KiB sequential reads, 8 in flight (IOS/8 commands)
 *   randwrite-qd32  4 KiB random writes, 32 in flight
 * Asynchronous modes refill the queue in batches: every submission of a
 * batch but the last one's doorbell is deferred (NVME_SUBMIT_NO_DOORBELL),
 * then nvme_qpair_ring() once.  Completions come from the interrupt
 * handler (irq=msix: vector q on CPU q-1) or, with irq=poll, from
 * nvme_qpair_poll() on the CPU's own queue; with interrupts, a CPU with
 * nothing to submit waits halted (spinning at QD1).  Latency: a TSC stamp per
 * command at submission, the difference at its completion callback, in a
 * fixed log-linear histogram per CPU (16 sub-buckets per power of two:
 * about 6% resolution, no allocation); p50/p99 over all CPUs.
 * At QD1 with interrupts, also the way back: from the completion's handling
 * in the interrupt handler (the asynchronous callback; the blocking call's
 * wake(), osal.c) to the caller running again (the bench loop seeing its
 * callback ran; nvme_read() returned), p50 over back_n commands.
 * The word "batch" among the modes refills through nvme_submit_rw_batch()
 * instead: the free slots' requests in one call, one doorbell.
 * The word "nolat" among the modes drops the per-command TSC stamps and
 * histogram (p50/p99 print 0): the driver's IOPS with no more bookkeeping
 * than rawbench.c's loop has, for the ceiling comparison.
 * Output, one line per mode:
 *   bench: mode=M cpus=N queues=Q irq=msix|intx|poll ios=I us=T iops=X p50_ns=A p99_ns=B ns_per_io=C
 *          [back_n=K back_p50_ns=D]
 * (bench/qemu-qd1.sh and bench/compare-linux.sh parse it.)
 */
#include "bench.h"

#include "hw.h"
#include "osal.h"
#include "smp.h"

#define B_MAXQD 128
#define B_BUCKETS 1024

enum bmode { B_QD1_BLOCKING, B_QD1, B_QD32, B_QD128, B_SEQ128K, B_RANDWRITE, B_NMODES };
static const char *const bmode_name[B_NMODES] = {"qd1-blocking", "qd1-async",   "qd32-async",
                                                 "qd128-async",  "seq128k-qd8", "randwrite-qd32"};

struct bslot {
    struct bcpu *owner;
    uint64_t t0;
    unsigned run; /* bench_run when submitted */
};
struct bcpu {
    uint32_t hist[B_BUCKETS];
    uint32_t back[B_BUCKETS]; /* QD1: completion handled -> caller runs again */
    uint64_t t_cb;            /* TSC in the last callback */
    struct bslot slot[B_MAXQD];
    uint16_t free_list[B_MAXQD];
    struct nvme_rw_req reqs[B_MAXQD]; /* "batch" */
    volatile unsigned nfree;
    volatile unsigned done;
    unsigned inflight; /* submitted, callback not run yet: across runs (atomic) */
    unsigned submitted;
    int err;
    uint64_t x, seq;
    uint64_t t_end;
};
struct bjob {
    struct nvme_ctrl *ctrl;
    uint32_t nsid, per4k;
    uint64_t blocks;
    enum bmode mode;
    unsigned ios, qd, xfer;
    bool write, seq, poll;
    uint8_t *buf;
    size_t buf_len;
    volatile uint64_t t_start;
};
static struct bcpu bcpus[SMP_MAX_CPUS];
static struct bjob job;
static bool bench_nolat;   /* "nolat": no per-command stamps */
static bool bench_batch;   /* "batch": refills through nvme_submit_rw_batch */
static unsigned bench_run; /* which run a completion belongs to */

static unsigned hist_idx(uint64_t v)
{
    if (v < 16)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned i = (msb - 3u) * 16u + (unsigned)((v >> (msb - 4u)) & 15u);
    return i < B_BUCKETS ? i : B_BUCKETS - 1u;
}
/* Middle of bucket i, in the histogram's unit (TSC ticks). */
static uint64_t hist_mid(unsigned i)
{
    if (i < 16)
        return i;
    unsigned msb = i / 16u + 3u, sub = i % 16u;
    uint64_t lo = (uint64_t)(16u + sub) << (msb - 4u);
    return lo + ((1ull << (msb - 4u)) >> 1);
}

static void bench_done(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    struct bslot *s = arg;
    struct bcpu *c = s->owner;
    __atomic_sub_fetch(&c->inflight, 1u, __ATOMIC_RELEASE);
    unsigned n = c->nfree;
    /* a late completion of an earlier (failed) run, or one more than
     * the slots: not this run's to count, nor its slot to free */
    if (s->run != bench_run || n >= job.qd)
        return;
    if (!bench_nolat) {
        uint64_t t = rdtsc();
        c->hist[hist_idx(t - s->t0)]++;
        c->t_cb = t;
    }
    if (result != 0 && c->err == 0)
        c->err = result;
    c->free_list[n] = (uint16_t)(s - c->slot);
    __atomic_store_n(&c->nfree, n + 1u, __ATOMIC_RELEASE);
    __atomic_store_n(&c->done, c->done + 1u, __ATOMIC_RELEASE);
}

static uint64_t bench_lba(struct bcpu *c)
{
    if (job.seq) {
        uint64_t l = c->seq;
        c->seq += job.xfer;
        if (c->seq + job.xfer > job.blocks)
            c->seq = 0;
        return l;
    }
    c->x = c->x * 6364136223846793005ull + 1442695040888963407ull;
    return ((c->x >> 33) % (job.blocks / job.per4k)) * job.per4k;
}

/* "batch": takes every free slot (up to the commands left) with
 * interrupts off once, and submits their requests in one
 * nvme_submit_rw_batch() call, which rings once; slots it did not take
 * go back.  Returns how many went in. */
static unsigned bench_refill_batch(struct bcpu *c, uint8_t opc, size_t bytes)
{
    struct nvme_rw_req *r = c->reqs;
    unsigned long f = irq_save(); /* the handler pushes onto free_list */
    unsigned k = c->nfree, left = job.ios - c->submitted;
    if (k > left)
        k = left;
    for (unsigned i = 0; i < k; i++)
        r[i].arg = &c->slot[c->free_list[c->nfree - 1u - i]];
    c->nfree -= k;
    irq_restore(f);
    for (unsigned i = 0; i < k; i++) {
        struct bslot *s = r[i].arg;
        if (!bench_nolat)
            s->t0 = rdtsc();
        s->run = bench_run;
        r[i] = (struct nvme_rw_req){.lba = bench_lba(c),
                                    .buf = job.buf + ((size_t)(s - c->slot) * bytes) % job.buf_len,
                                    .cb = bench_done,
                                    .arg = s,
                                    .count = job.xfer,
                                    .opc = opc};
    }
    unsigned in = 0;
    __atomic_add_fetch(&c->inflight, k, __ATOMIC_RELAXED);
    int rc = k ? nvme_submit_rw_batch(job.ctrl, NVME_QID_CPU, job.nsid, r, k, 0, &in) : 0;
    __atomic_sub_fetch(&c->inflight, k - in, __ATOMIC_RELAXED);
    if (rc != 0 && rc != NVME_ERR_BUSY)
        c->err = rc;
    c->submitted += in;
    if (in < k) { /* the slots of requests that did not go in */
        f = irq_save();
        for (unsigned i = in; i < k; i++)
            c->free_list[c->nfree++] = (uint16_t)((struct bslot *)r[i].arg - c->slot);
        irq_restore(f);
    }
    return in;
}

static bool bench_must_wait(struct bcpu *c, unsigned seen)
{
    return __atomic_load_n(&c->done, __ATOMIC_ACQUIRE) == seen && c->submitted > seen &&
           (c->submitted >= job.ios || __atomic_load_n(&c->nfree, __ATOMIC_ACQUIRE) == 0) &&
           c->err == 0;
}

/* A periodic local APIC timer (harness_tick, osal.c): a halted CPU wakes
 * at least every ~1 ms even if a completion interrupt never comes. */
static void bench_tick(bool on) { harness_tick(on); }

static void bench_worker(unsigned cpu, void *arg)
{
    (void)arg;
    struct bcpu *c = &bcpus[cpu];
    uint16_t qid = nvme_ctrl_cpu_qid(job.ctrl, cpu);
    memset(c->hist, 0, sizeof(c->hist));
    memset(c->back, 0, sizeof(c->back));
    c->done = 0;
    c->submitted = 0;
    c->err = 0;
    c->x = 0x9e3779b97f4a7c15ull * (cpu + 1u);
    c->seq = job.blocks / smp_cpus() * cpu / job.xfer * job.xfer;
    for (unsigned i = 0; i < job.qd; i++) {
        c->slot[i].owner = c;
        c->free_list[i] = (uint16_t)i;
    }
    c->nfree = job.qd;
    uint8_t opc = job.write ? NVME_CMD_WRITE : NVME_CMD_READ;
    size_t bytes = (size_t)job.xfer * (4096u / job.per4k);

    while (job.t_start == 0)
        cpu_relax();
    if (!job.poll)
        bench_tick(true);
    if (job.mode == B_QD1_BLOCKING) {
        for (unsigned i = 0; i < job.ios && c->err == 0; i++) {
            uint64_t t0 = bench_nolat ? 0 : rdtsc();
            int rc = nvme_read(job.ctrl, job.nsid, bench_lba(c), job.xfer, job.buf);
            if (!bench_nolat) {
                uint64_t t1 = rdtsc(), tw = job.poll ? 0 : harness_woken_tsc();
                c->hist[hist_idx(t1 - t0)]++;
                if (tw > t0 && tw <= t1) /* ended by the interrupt handler's wake() */
                    c->back[hist_idx(t1 - tw)]++;
            }
            if (rc != 0)
                c->err = rc;
            c->done++;
        }
        c->t_end = clock_now_us();
        if (!job.poll)
            bench_tick(false);
        return;
    }
    while (c->done < job.ios && c->err == 0) {
        unsigned queued = 0;
        /* completions counted before submitting: one that comes while
         * this batch is submitted or rung ends the wait below at once */
        unsigned seen = c->done;
        if (bench_batch) {
            queued = bench_refill_batch(c, opc, bytes);
            if (queued == 0 && c->err == 0 && c->submitted < job.ios && c->done == seen &&
                c->submitted == seen) {
                c->err = NVME_ERR_BUSY; /* nothing in flight and nothing went in */
                break;
            }
        }
        while (!bench_batch && c->submitted < job.ios &&
               __atomic_load_n(&c->nfree, __ATOMIC_ACQUIRE) > 0) {
            /* the free list is shared with the callback: take a slot with
             * interrupts off so the handler does not push meanwhile */
            unsigned long f = irq_save();
            unsigned n = c->nfree - 1u;
            struct bslot *s = &c->slot[c->free_list[n]];
            c->nfree = n;
            irq_restore(f);
            uint8_t *b = job.buf + ((size_t)(s - c->slot) * bytes) % job.buf_len;
            if (!bench_nolat)
                s->t0 = rdtsc();
            s->run = bench_run;
            __atomic_add_fetch(&c->inflight, 1u, __ATOMIC_RELAXED);
            int rc = nvme_submit_rw(job.ctrl, NVME_QID_CPU, opc, job.nsid, bench_lba(c), job.xfer,
                                    b, NVME_SUBMIT_NO_DOORBELL, bench_done, s);
            if (rc != 0) {
                __atomic_sub_fetch(&c->inflight, 1u, __ATOMIC_RELAXED);
                f = irq_save();
                c->free_list[c->nfree] = (uint16_t)(s - c->slot);
                c->nfree++;
                irq_restore(f);
                if (rc != NVME_ERR_BUSY)
                    c->err = rc;
                break;
            }
            c->submitted++;
            queued++;
        }
        if (queued && !bench_batch)
            nvme_qpair_ring(job.ctrl, qid);
        if (job.poll) {
            (void)nvme_qpair_poll(job.ctrl, qid, 0);
        } else {
            /* wait for a completion only while some are in flight and
             * nothing more can be submitted: halted (sti; hlt, so the
             * interrupt cannot slip in between), which under TCG gives the
             * host CPU to QEMU's device model instead of spinning; the
             * LAPIC timer (bench_tick) bounds each halt to about 1 ms */
            uint64_t until = clock_now_us() + 10000000ull;
            unsigned spins = 0;
            while (bench_must_wait(c, seen)) {
                if (job.qd == 1) { /* QD1: spin, a wake-up from hlt costs more
                                      than the command (TCG); bounded too: no
                                      one else looks at deadlines meanwhile */
                    cpu_relax();
                    if (++spins % 1024u == 0 && clock_now_us() > until) {
                        c->err = NVME_ERR_TIMEOUT;
                        break;
                    }
                    continue;
                }
                __asm__ volatile("cli" ::: "memory");
                if (bench_must_wait(c, seen))
                    __asm__ volatile("sti; hlt" ::: "memory");
                else
                    __asm__ volatile("sti" ::: "memory");
                if (clock_now_us() > until) {
                    c->err = NVME_ERR_TIMEOUT;
                    break;
                }
            }
            if (job.qd == 1 && c->done != seen && !bench_nolat)
                c->back[hist_idx(rdtsc() - c->t_cb)]++;
        }
    }
    c->t_end = clock_now_us();
    if (!job.poll)
        bench_tick(false);
}

/* Waits, at most 5 s, for this CPU's commands still in flight (a failed
 * run's): polling runs the core's deadline checks, so its timeout and
 * recovery may end them.  Until their callbacks ran their slots' buffers
 * (the caller's) belong to the device (nvme.h rule 1). */
static void bench_drain(unsigned cpu, void *arg)
{
    (void)arg;
    struct bcpu *c = &bcpus[cpu];
    uint16_t qid = nvme_ctrl_cpu_qid(job.ctrl, cpu);
    uint64_t until = clock_now_us() + 5000000ull;
    while (__atomic_load_n(&c->inflight, __ATOMIC_ACQUIRE) && clock_now_us() < until)
        if (nvme_qpair_poll(job.ctrl, qid, 0) < 0)
            break;
}

/* Drains every CPU's queue; the commands still in flight after it. */
static unsigned bench_in_flight(struct nvme_ctrl *ctrl)
{
    unsigned n = 0;
    job.ctrl = ctrl;
    smp_run(bench_drain, NULL);
    for (unsigned c = 0; c < smp_cpus(); c++)
        n += __atomic_load_n(&bcpus[c].inflight, __ATOMIC_ACQUIRE);
    if (n)
        kprintf("bench: %u command(s) of a failed run still in flight: their buffers are the "
                "device's, no I/O command until they complete\n",
                n);
    return n;
}

unsigned harness_bench_owed(struct nvme_ctrl *ctrl)
{
    for (unsigned c = 0; c < smp_cpus(); c++)
        if (__atomic_load_n(&bcpus[c].inflight, __ATOMIC_ACQUIRE))
            return bench_in_flight(ctrl);
    return 0;
}

/* Whether the space-separated words hold `w`. */
static bool has_word(const char *p, const char *w)
{
    size_t l = strlen(w);
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if ((size_t)(e - p) == l && l && !strncmp(p, w, l))
            return true;
        p = e;
    }
    return false;
}

/* Mode m is named, or no mode is ("nolat" is not one). */
static bool mode_wanted(const char *modes, enum bmode m)
{
    if (has_word(modes, bmode_name[m]))
        return true;
    for (enum bmode o = 0; o < B_NMODES; o++)
        if (has_word(modes, bmode_name[o]))
            return false;
    return true;
}

/* Every word of `modes` a mode, "nolat" or "batch": a misspelt mode must
 * not leave no mode named and so run them all.  Prints the first other. */
static bool modes_known(const char *p)
{
    for (;;) {
        while (*p == ' ')
            p++;
        size_t l = 0;
        while (p[l] && p[l] != ' ')
            l++;
        if (l == 0)
            return true;
        char w[24];
        snprintf(w, sizeof(w), "%s", p);
        if (l < sizeof(w))
            w[l] = 0;
        bool known = !strcmp(w, "nolat") || !strcmp(w, "batch");
        for (enum bmode m = 0; m < B_NMODES; m++)
            known |= l < sizeof(w) && !strcmp(w, bmode_name[m]);
        if (!known) {
            kprintf("bench: unknown mode '%s'\n", w);
            return false;
        }
        p += l;
    }
}

int harness_bench(struct nvme_ctrl *ctrl, void *buf, size_t buf_len, uint32_t nsid, unsigned ios,
                  const char *modes)
{
    if (!modes_known(modes))
        return NVME_ERR_INVAL;
    const struct nvme_ns_info *ns = nvme_ns_find(ctrl, nsid);
    if (ns == NULL || ns->status != 0)
        return NVME_ERR_NOENT;
    uint32_t per = 4096u / ns->lba_size;
    if (per == 0 || buf_len < B_MAXQD * 4096u || buf_len < 8u * 131072u || ns->nsze < 1024 ||
        ios == 0)
        return NVME_ERR_INVAL;
    if (bench_in_flight(ctrl))
        return NVME_ERR_BUSY;
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(ctrl);
    unsigned ncpu = smp_cpus();
    bench_nolat = has_word(modes, "nolat");
    bench_batch = has_word(modes, "batch");
    for (enum bmode m = 0; m < B_NMODES; m++) {
        if (!mode_wanted(modes, m))
            continue;
        memset(&job, 0, sizeof(job));
        job.ctrl = ctrl;
        job.nsid = nsid;
        job.per4k = per;
        job.blocks = ns->nsze - 256u;
        job.mode = m;
        job.ios = ios;
        job.qd = 1;
        job.xfer = per;
        job.buf = buf;
        job.buf_len = buf_len;
        job.poll = info->irq_vectors == 0;
        switch (m) {
        case B_QD32:
            job.qd = 32;
            break;
        case B_QD128:
            job.qd = 128;
            break;
        case B_SEQ128K:
            job.qd = 8;
            job.xfer = per * 32u;
            job.seq = true;
            job.ios = ios / 8u ? ios / 8u : 1u;
            break;
        case B_RANDWRITE:
            job.qd = 32;
            job.write = true;
            break;
        default:
            break;
        }
        if (info->mdts_bytes && (uint64_t)job.xfer * ns->lba_size > info->mdts_bytes)
            job.xfer = info->mdts_bytes / ns->lba_size;
        uint64_t tsc0 = rdtsc(), us0 = clock_now_us();
        bench_run++;
        job.t_start = us0;
        smp_run(bench_worker, NULL);
        uint64_t end = 0, total = 0;
        int err = 0;
        static uint32_t hist[B_BUCKETS], back[B_BUCKETS];
        memset(hist, 0, sizeof(hist));
        memset(back, 0, sizeof(back));
        uint64_t nback = 0;
        for (unsigned c = 0; c < ncpu; c++) {
            if (bcpus[c].t_end > end)
                end = bcpus[c].t_end;
            total += bcpus[c].done;
            if (bcpus[c].err && !err)
                err = bcpus[c].err;
            for (unsigned i = 0; i < B_BUCKETS; i++) {
                hist[i] += bcpus[c].hist[i];
                back[i] += bcpus[c].back[i];
                nback += bcpus[c].back[i];
            }
        }
        uint64_t tsc1 = rdtsc(), us1 = clock_now_us();
        uint64_t tpu = us1 > us0 ? (tsc1 - tsc0) / (us1 - us0) : 1;
        if (tpu == 0)
            tpu = 1;
        uint64_t us = end > us0 ? end - us0 : 1;
        uint64_t p50 = 0, p99 = 0, acc = 0;
        uint64_t want50 = (total + 1) / 2, want99 = total - total / 100;
        for (unsigned i = 0; i < B_BUCKETS; i++) {
            acc += hist[i];
            if (!p50 && acc >= want50)
                p50 = hist_mid(i);
            if (!p99 && acc >= want99) {
                p99 = hist_mid(i);
                break;
            }
        }
        uint64_t back50 = 0;
        acc = 0;
        for (unsigned i = 0; i < B_BUCKETS && nback; i++) {
            acc += back[i];
            if (acc >= (nback + 1) / 2) {
                back50 = hist_mid(i);
                break;
            }
        }
        char extra[64] = "";
        if (nback)
            snprintf(extra, sizeof(extra), " back_n=%llu back_p50_ns=%llu",
                     (unsigned long long)nback, (unsigned long long)(back50 * 1000u / tpu));
        kprintf("bench: mode=%s cpus=%u queues=%u irq=%s ios=%llu us=%llu iops=%llu p50_ns=%llu "
                "p99_ns=%llu ns_per_io=%llu%s\n",
                bmode_name[m], ncpu, info->io_queues,
                job.poll            ? "poll"
                : info->irq_is_intx ? "intx"
                                    : "msix",
                (unsigned long long)total, (unsigned long long)us,
                (unsigned long long)(total * 1000000u / us),
                (unsigned long long)(p50 * 1000u / tpu), (unsigned long long)(p99 * 1000u / tpu),
                (unsigned long long)(total ? us * 1000u / total : 0), extra);
        if (err) {
            kprintf("bench: mode=%s: a command failed: %d (%s)\n", bmode_name[m], err,
                    nvme_strerror(err));
            (void)bench_in_flight(ctrl); /* the next bench refuses while some are */
            return err;
        }
    }
    return 0;
}
