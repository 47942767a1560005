/* SPDX-License-Identifier: MIT */
/*
 * Several CPUs at once, as host threads: the OSAL's cpu_id returns each
 * thread's number and its locks are pthread mutexes (the simulator takes
 * its own mutex at every entry, nvme_sim.h), so the core runs truly in
 * parallel on the host's cores (nvme.h rules 4 and 7).  CPU 1 does
 * blocking writes, each read back; CPU 2 keeps asynchronous writes in
 * flight and polls; both also poll (re-arming event requests).  Meanwhile
 * CPU 0 either resets the controller again and again (nvme_ctrl_reset:
 * orderly, the I/O queues deleted first) or changes the namespace list
 * and rescans.  Through resets blocking calls wait and go again,
 * asynchronous writes in flight are replayed (or completed by the reset
 * when the controller had finished them), and every block written is on
 * the medium at the end (lifecycle rule 1: nothing a caller was told is
 * written is lost).  The QEMU harness runs the resets on real CPUs
 * (qemu.*.smp); this one runs under the coverage and sanitizer builds too,
 * and under ThreadSanitizer (NVME_TSAN, tsan.supp), where any data race
 * the core has on these paths fails it.  The statistics are read with
 * atomic loads: the core counts them atomically.
 */
#include "fixture.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../libnvme-core/src/nvme_internal.h" /* nvme_stat_inc_split */

#define CPUS 3
#define RESETS 100  /* or rescans: CPU 0's job, that many times */
#define BLOCKS 8    /* per command */
#define SPAN 512    /* blocks per CPU */
#define DEPTH 8     /* asynchronous writes in flight */
#define MIN_IOS 200 /* per worker, after the last reset too */

static __thread unsigned this_cpu;
static unsigned tls_cpu_id(void *ctx)
{
    (void)ctx;
    return this_cpu;
}

/* The simulator's sleep_us only advances its clock (nvme_sim.h): alone,
 * a waiting thread would run through a bound counted in sleeps (a wait
 * for another CPU's reset) in no real time, while the CPU it waits for
 * needs real time.  Here a sleep also takes the time it says, as the
 * OSAL contract asks (nvme_osal.h). */
static void (*sim_sleep_us)(void *ctx, uint32_t us);
static void real_sleep_us(void *ctx, uint32_t us)
{
    sim_sleep_us(ctx, us);
    struct timespec ts = {0, (long)us * 1000L};
    nanosleep(&ts, NULL);
}

enum cpu0_job { JOB_RESETS, JOB_RESCANS, JOB_WATCH, JOB_UNPLUG, JOB_ADMIN };
#define DROPS 3 /* JOB_WATCH: writes whose completion the controller drops */

struct smp_run {
    struct fx *f;
    enum cpu0_job job;
    volatile int resets_done;  /* CPU 0 finished its job */
    int reset_rc[RESETS];      /* its calls' results */
    unsigned long ns2_seen[2]; /* CPU 1's lookups of NSID 2: absent, present */
    unsigned long rescans1;    /* CPU 1's own rescans (JOB_RESCANS) */
    /* per worker */
    unsigned long ios[CPUS];
    unsigned long spanned[CPUS];    /* blocking calls during which a reset ran */
    unsigned long state_busy[CPUS]; /* async submissions refused meanwhile */
    int first_err[CPUS];
    uint32_t last_seed[CPUS][SPAN / BLOCKS]; /* what each chunk holds; 0: nothing */
    /* a write that failed (the device was removed) may have reached the
     * medium or not: that chunk may hold its pattern instead */
    uint32_t failed_seed[CPUS][SPAN / BLOCKS];
};

static void pause_us(long us)
{
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
}

static uint64_t resets_now(struct smp_run *r)
{
    return __atomic_load_n(&nvme_ctrl_get_stats(r->f->ctrl)->resets, __ATOMIC_RELAXED);
}

static void note_err(struct smp_run *r, unsigned cpu, int rc)
{
    if (rc != 0 && r->first_err[cpu] == 0)
        r->first_err[cpu] = rc;
}

static bool keep_going(struct smp_run *r, unsigned cpu)
{
    if (r->job == JOB_UNPLUG) /* until the removal stops it */
        return r->first_err[cpu] == 0;
    return r->first_err[cpu] == 0 &&
           (!__atomic_load_n(&r->resets_done, __ATOMIC_ACQUIRE) || r->ios[cpu] < MIN_IOS);
}

/* CPU 1: blocking writes, each read back at once. */
static void blocking_worker(struct smp_run *r, unsigned cpu)
{
    uint8_t *w = fx_xalloc(BLOCKS * 512), *rd = fx_xalloc(BLOCKS * 512);
    uint64_t base = (uint64_t)cpu * SPAN;
    for (uint32_t i = 1; keep_going(r, cpu); i++) {
        unsigned chunk = i % (SPAN / BLOCKS);
        uint32_t seed = cpu << 24 | i;
        fx_pattern(w, BLOCKS * 512, seed);
        uint64_t before = resets_now(r);
        int rc = nvme_write(r->f->ctrl, 1, base + chunk * BLOCKS, BLOCKS, w);
        note_err(r, cpu, rc);
        if (rc == 0)
            r->last_seed[cpu][chunk] = seed;
        else
            r->failed_seed[cpu][chunk] = seed;
        if (rc == 0) {
            rc = nvme_read(r->f->ctrl, 1, base + chunk * BLOCKS, BLOCKS, rd);
            note_err(r, cpu, rc);
            if (rc == 0 && memcmp(w, rd, BLOCKS * 512) != 0)
                note_err(r, cpu, -1000); /* read back something else */
        }
        r->spanned[cpu] += resets_now(r) != before;
        __atomic_add_fetch(&r->ios[cpu], 1ul, __ATOMIC_RELAXED);
        /* Also polls, as CPU 2 does: after a reset both re-arm the
         * Asynchronous Event Requests (nvme_aer_arm), never above AERL+1. */
        int pr = nvme_qpair_poll(r->f->ctrl, nvme_ctrl_cpu_qid(r->f->ctrl, cpu), 0);
        if (pr < 0 && pr != NVME_ERR_STATE)
            note_err(r, cpu, pr);
        if (r->job == JOB_ADMIN && i % 4 == 0) /* events handled on two CPUs */
            note_err(r, cpu, nvme_ctrl_service(r->f->ctrl));
        /* Rescans on two CPUs at once (CPU 0 rescans too). */
        if (r->job == JOB_RESCANS && i % 4 == 0) {
            int rs = nvme_ns_rescan(r->f->ctrl);
            note_err(r, cpu, rs);
            r->rescans1 += rs == NVME_OK;
        }
        /* The namespace table, which CPU 0 may be replacing. */
        const struct nvme_ns_info *ns2 = nvme_ns_find(r->f->ctrl, 2);
        r->ns2_seen[ns2 != NULL && ns2->nsid == 2 && ns2->status == NVME_OK]++;
        if (nvme_ns_count(r->f->ctrl) == 0 || nvme_ns_at(r->f->ctrl, 0)->nsid != 1)
            note_err(r, cpu, -1001); /* NSID 1 missing from a table */
    }
    free(w);
    free(rd);
}

/* CPU 2: DEPTH asynchronous writes in flight on its own queue, polled. */
struct aw {
    volatile bool busy;
    volatile int result;
    uint32_t seed;
    unsigned chunk;
    uint8_t *buf;
};
static unsigned long by_reset; /* asynchronous writes completed on CPU 0 (its reset) */
static void aw_cb(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    struct aw *a = arg;
    if (this_cpu == 0)
        __atomic_add_fetch(&by_reset, 1ul, __ATOMIC_RELAXED);
    a->result = result;
    __atomic_store_n(&a->busy, false, __ATOMIC_RELEASE);
}

static void async_worker(struct smp_run *r, unsigned cpu)
{
    struct aw a[DEPTH];
    bool out[DEPTH] = {false};
    uint64_t base = (uint64_t)cpu * SPAN;
    uint16_t qid = nvme_ctrl_cpu_qid(r->f->ctrl, cpu);
    uint32_t next = 1;
    for (unsigned k = 0; k < DEPTH; k++)
        a[k].buf = fx_xalloc(BLOCKS * 512);
    for (;;) {
        bool more = keep_going(r, cpu);
        unsigned busy = 0;
        for (unsigned k = 0; k < DEPTH; k++) {
            if (out[k] && !__atomic_load_n(&a[k].busy, __ATOMIC_ACQUIRE)) {
                out[k] = false;
                note_err(r, cpu, a[k].result);
                if (a[k].result == 0)
                    r->last_seed[cpu][a[k].chunk] = a[k].seed;
                else
                    r->failed_seed[cpu][a[k].chunk] = a[k].seed;
                __atomic_add_fetch(&r->ios[cpu], 1ul, __ATOMIC_RELAXED);
            }
            if (!out[k] && more) {
                /* chunks k, k + DEPTH, ...: a chunk has one write in flight */
                a[k].chunk = (k + DEPTH * next) % (SPAN / BLOCKS);
                a[k].seed = cpu << 24 | next;
                fx_pattern(a[k].buf, BLOCKS * 512, a[k].seed);
                a[k].busy = true;
                int rc = nvme_submit_rw(r->f->ctrl, NVME_QID_CPU, NVME_CMD_WRITE, 1,
                                        base + a[k].chunk * BLOCKS, BLOCKS, a[k].buf, 0, aw_cb,
                                        &a[k]);
                if (rc == NVME_ERR_STATE || rc == NVME_ERR_BUSY) {
                    r->state_busy[cpu] += rc == NVME_ERR_STATE; /* a reset runs */
                    a[k].busy = false;
                } else if (rc != 0) {
                    note_err(r, cpu, rc);
                    a[k].busy = false;
                } else {
                    out[k] = true;
                    next++;
                }
            }
            busy += out[k];
        }
        if (!more && busy == 0)
            break;
        int pr = nvme_qpair_poll(r->f->ctrl, qid, 0);
        if (pr < 0 && pr != NVME_ERR_STATE)
            note_err(r, cpu, pr);
    }
    for (unsigned k = 0; k < DEPTH; k++)
        free(a[k].buf);
}

struct smp_arg {
    struct smp_run *r;
    unsigned cpu;
};

static void *cpu_main(void *p)
{
    struct smp_arg *a = p;
    struct smp_run *r = a->r;
    this_cpu = a->cpu;
    if (a->cpu == 0 && r->job == JOB_ADMIN) {
        /* Admin commands, and error events that the service calls of CPU 0
         * and CPU 1 handle (one Get Log Page each, then a re-armed request). */
        struct nvme_ctrl_identify *id = calloc(1, sizeof(*id));
        struct nvme_smart_log *smart = calloc(1, sizeof(*smart));
        for (int k = 0; k < RESETS && id && smart; k++) {
            uint32_t dw0 = 0;
            int rc = nvme_identify_ctrl(r->f->ctrl, id);
            if (rc == 0 && strcmp(id->serial, nvme_ctrl_get_info(r->f->ctrl)->serial) != 0)
                rc = -1003; /* Identify data not what the controller said */
            if (rc == 0)
                rc = nvme_get_smart_log(r->f->ctrl, smart);
            if (rc == 0)
                rc = nvme_get_features(r->f->ctrl, NVME_FEAT_NUM_QUEUES, 0, &dw0);
            if (rc == 0 && k % 10 == 0)
                nvme_sim_error_event(r->f->sim, 1, (uint16_t)k,
                                     NVME_SF(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ));
            if (rc == 0)
                rc = nvme_ctrl_service(r->f->ctrl);
            r->reset_rc[k] = rc;
            pause_us(200);
        }
        free(id);
        free(smart);
        __atomic_store_n(&r->resets_done, 1, __ATOMIC_RELEASE);
    } else if (a->cpu == 0 && r->job == JOB_UNPLUG) {
        /* Surprise removal once both have some I/O done. */
        for (int ms = 0; ms < 20000; ms++) {
            if (__atomic_load_n(&r->ios[1], __ATOMIC_RELAXED) >= MIN_IOS &&
                __atomic_load_n(&r->ios[2], __ATOMIC_RELAXED) >= MIN_IOS)
                break;
            pause_us(1000);
        }
        nvme_sim_set_gone(r->f->sim, true);
        __atomic_store_n(&r->resets_done, 1, __ATOMIC_RELEASE);
    } else if (a->cpu == 0 && r->job == JOB_WATCH) {
        /* The recovery runs on whichever CPU's call meets the deadline
         * first; CPU 0 only waits for it (20 s at most). */
        for (int ms = 0; ms < 20000; ms++) {
            const struct nvme_ctrl_stats *st = nvme_ctrl_get_stats(r->f->ctrl);
            if (nvme_sim_fault_hits(r->f->sim) >= DROPS &&
                __atomic_load_n(&st->replays, __ATOMIC_RELAXED) >= DROPS)
                break;
            pause_us(1000);
        }
        pause_us(20000); /* then some more I/O after the last recovery */
        __atomic_store_n(&r->resets_done, 1, __ATOMIC_RELEASE);
    } else if (a->cpu == 0) {
        unsigned long seen1 = 0, seen2 = 0;
        for (int k = 0; k < RESETS; k++) {
            pause_us(300 + 100 * (k % 7)); /* let the others run in between */
            /* and make progress: a command replayed by the last reset
             * completes before the next one (each has a budget of 5
             * replays, as in Linux), even on a loaded host */
            for (int ms = 0; ms < 2000; ms++) {
                if (__atomic_load_n(&r->ios[1], __ATOMIC_RELAXED) > seen1 &&
                    __atomic_load_n(&r->ios[2], __ATOMIC_RELAXED) >= seen2 + 2 * DEPTH)
                    break;
                pause_us(100);
            }
            seen1 = __atomic_load_n(&r->ios[1], __ATOMIC_RELAXED);
            seen2 = __atomic_load_n(&r->ios[2], __ATOMIC_RELAXED);
            if (r->job == JOB_RESETS) {
                r->reset_rc[k] = nvme_ctrl_reset(r->f->ctrl);
                continue;
            }
            /* NSID 2 comes and goes (as Namespace Attachment would) */
            struct nvme_sim_ns_config ns2 = {.nsid = 2, .blocks = 4096, .lba_size = 512};
            if (k % 2 == 0 ? nvme_sim_ns_add(r->f->sim, &ns2) : nvme_sim_ns_remove(r->f->sim, 2))
                r->reset_rc[k] = -1002;
            else
                r->reset_rc[k] = nvme_ns_rescan(r->f->ctrl);
        }
        __atomic_store_n(&r->resets_done, 1, __ATOMIC_RELEASE);
    } else if (a->cpu == 1) {
        blocking_worker(r, a->cpu);
    } else {
        async_worker(r, a->cpu);
    }
    return NULL;
}

static unsigned gone_events; /* NVME_EVENT_GONE told to event_cb */
static void count_event(void *arg, enum nvme_event ev, uint32_t detail)
{
    (void)arg;
    (void)detail;
    if (ev == NVME_EVENT_GONE)
        __atomic_add_fetch(&gone_events, 1u, __ATOMIC_RELAXED);
}

/* io_queues: 0 for one per CPU; irqs: MSI-X and wait/wake, the handler
 * then runs on whichever thread the simulator delivers on (its sleeps
 * and waits), as interrupts would. */
static void start_smp_timeout(struct fx *f, uint16_t io_queues, enum nvme_sim_irq_mode irqs,
                              uint32_t timeout_ms)
{
    fx_config(f);
    f->cfg.nn = 4; /* room for NSID 2 (namespaces_change_while_cpus_do_io) */
    f->cfg.locks = true;
    f->opts.io_queues = io_queues;
    if (irqs != NVME_SIM_IRQ_NONE) {
        f->cfg.irq_mode = irqs;
        f->cfg.wait_wake = true;
    }
    /* Completions come a while after the doorbell: a reset finds some
     * commands still running (replayed) and some done but not yet reaped
     * (completed by the reset, nvme_qpair_harvest). */
    f->cfg.timing = NVME_SIM_DEFERRED;
    f->cfg.completion_latency_us = 50;
    f->opts.cpus = CPUS;
    f->opts.event_cb = count_event;
    gone_events = 0;
    f->opts.command_timeout_ms = timeout_ms; /* simulated: a lost command shows as a timeout */
    fx_create(f);
    f->osal.cpu_id = tls_cpu_id;
    sim_sleep_us = f->osal.sleep_us;
    f->osal.sleep_us = real_sleep_us;
    int rc = nvme_ctrl_init(&f->ctrl, &f->osal, &f->opts);
    if (rc != 0)
        fail_msg("nvme_ctrl_init: %d (%s)", rc, nvme_strerror(rc));
    if (irqs != NVME_SIM_IRQ_NONE)
        nvme_sim_set_irq_handler(f->sim, nvme_ctrl_handle_irq, f->ctrl);
    assert_int_equal(nvme_ctrl_get_info(f->ctrl)->io_queues, io_queues ? io_queues : CPUS);
}

/* The runs that lose nothing assert no timeout at all: 60 s of simulated
 * time, since every thread's sleep and clock read moves the one clock on
 * while a CPU the host has descheduled has its completions waiting in its
 * CQ (10 s: 8 timeouts and a reset once in 64 rescan runs on a loaded
 * host). */
static void start_smp(struct fx *f, uint16_t io_queues, enum nvme_sim_irq_mode irqs)
{
    start_smp_timeout(f, io_queues, irqs, 60000);
}

/* The medium holds what each CPU's last successful write of each chunk
 * put there (read behind the core's back), or what a later write that
 * failed with NVME_ERR_GONE may have put there before the removal. */
static void assert_media(struct smp_run *r)
{
    uint8_t *want = fx_xalloc(BLOCKS * 512), *got = fx_xalloc(BLOCKS * 512);
    unsigned checked = 0;
    for (unsigned cpu = 1; cpu < CPUS; cpu++) {
        for (unsigned c = 0; c < SPAN / BLOCKS; c++) {
            if (r->last_seed[cpu][c] == 0)
                continue;
            fx_pattern(want, BLOCKS * 512, r->last_seed[cpu][c]);
            assert_int_equal(
                nvme_sim_ns_read(r->f->sim, 1, (uint64_t)cpu * SPAN + c * BLOCKS, BLOCKS, got), 0);
            bool ok = memcmp(want, got, BLOCKS * 512) == 0;
            if (!ok && r->job == JOB_UNPLUG && r->failed_seed[cpu][c] != 0) {
                fx_pattern(want, BLOCKS * 512, r->failed_seed[cpu][c]);
                ok = memcmp(want, got, BLOCKS * 512) == 0;
            }
            if (!ok)
                fail_msg("CPU %u chunk %u: not what its last write put there", cpu, c);
            checked++;
        }
    }
    assert_true(checked >= SPAN / BLOCKS); /* the blocking CPU's chunks at least */
    free(want);
    free(got);
}

/* Runs the three CPUs; checks what every job must leave: CPU 0's calls
 * all succeeded, no worker met an error, each did MIN_IOS I/Os or more,
 * the medium holds every write, no command timed out or was aborted, and
 * the controller still holds AERL+1 (4) event requests (none was refused
 * with Asynchronous Event Request Limit Exceeded, which would have left
 * fewer). */
static struct smp_run *run_smp(struct fx *f, enum cpu0_job job)
{
    struct smp_run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->f = f;
    r->job = job;
    by_reset = 0;
    pthread_t t[CPUS];
    struct smp_arg args[CPUS];
    alarm(120); /* a hang fails the test instead of stalling ctest */
    for (unsigned c = 0; c < CPUS; c++) {
        args[c] = (struct smp_arg){r, c};
        assert_int_equal(pthread_create(&t[c], NULL, cpu_main, &args[c]), 0);
    }
    for (unsigned c = 0; c < CPUS; c++)
        assert_int_equal(pthread_join(t[c], NULL), 0);
    alarm(0);

    for (int k = 0; k < RESETS && job != JOB_WATCH; k++)
        if (r->reset_rc[k] != 0)
            fail_msg("%s %d by CPU 0: %d (%s)",
                     job == JOB_RESETS    ? "reset"
                     : job == JOB_RESCANS ? "rescan"
                                          : "admin round",
                     k, r->reset_rc[k], nvme_strerror(r->reset_rc[k]));
    for (unsigned c = 1; c < CPUS; c++) {
        if (job == JOB_UNPLUG && r->first_err[c] == NVME_ERR_GONE)
            r->first_err[c] = 0; /* what the removal must give, and nothing else */
        if (r->first_err[c] != 0)
            fail_msg("CPU %u: first error %d (%s) after %lu I/Os", c, r->first_err[c],
                     nvme_strerror(r->first_err[c]), r->ios[c]);
        assert_true(r->ios[c] >= MIN_IOS);
    }
    const struct nvme_ctrl_stats *st = nvme_ctrl_get_stats(f->ctrl);
    print_message("I/Os: blocking %lu (%lu across a reset), async %lu (%lu refused, %lu completed "
                  "on CPU 0); resets %llu, replays %llu, rescans %llu; NSID 2 seen %lu, not %lu; "
                  "timeouts %llu, aborts %llu\n",
                  r->ios[1], r->spanned[1], r->ios[2], r->state_busy[2], by_reset,
                  (unsigned long long)st->resets, (unsigned long long)st->replays,
                  (unsigned long long)st->rescans, r->ns2_seen[1], r->ns2_seen[0],
                  (unsigned long long)st->timeouts, (unsigned long long)st->aborts_sent);
    if (job == JOB_WATCH) {
        /* Each dropped completion: one timeout and one Abort at most (a
         * reset for an earlier one may replay it before its deadline). */
        assert_int_equal(nvme_sim_fault_hits(f->sim), DROPS);
        assert_in_range(st->timeouts, 1, DROPS);
        assert_in_range(st->aborts_sent, 1, st->timeouts);
        assert_true(st->resets >= 1);
    } else {
        assert_int_equal(st->timeouts, 0); /* nothing lost and found late */
        assert_int_equal(st->aborts_sent, 0);
    }
    assert_media(r);
    if (job == JOB_UNPLUG)
        return r;
    assert_true(nvme_qpair_poll(f->ctrl, 1, 0) >= 0); /* arms what a late reset took */
    nvme_sim_advance(f->sim, 1000);                   /* the controller fetches them */
    assert_int_equal(nvme_sim_aer_outstanding(f->sim), 4);
    return r;
}

/* A queue pair per CPU, polled: the runs overlapped (blocking calls ran
 * across resets, asynchronous submissions met one, commands were
 * replayed, and completions the controller had posted were completed by
 * the reset, on CPU 0). */
static void every_cpu_does_io_while_one_resets(void **state)
{
    (void)state;
    struct fx f;
    start_smp(&f, 0, NVME_SIM_IRQ_NONE);
    struct smp_run *r = run_smp(&f, JOB_RESETS);
    const struct nvme_ctrl_stats *st = nvme_ctrl_get_stats(f.ctrl);
    assert_int_equal(st->resets, RESETS);
    if (r->spanned[1] == 0 || r->state_busy[2] == 0 || st->replays == 0 || by_reset == 0)
        fail_msg("no overlap: %lu blocking calls across a reset, %lu refused submissions, "
                 "%llu replays, %lu completed by a reset",
                 r->spanned[1], r->state_busy[2], (unsigned long long)st->replays, by_reset);
    free(r);
    fx_stop(&f);
}

/* Fewer queues than CPUs (nvme.h: CPUs then share one under its lock),
 * with interrupts: the handler reaps that queue on whichever CPU it runs,
 * beside the two CPUs' own polls and blocking waits. */
static void cpus_share_a_queue_while_one_resets(bool intx)
{
    struct fx f;
    start_smp(&f, 1, intx ? NVME_SIM_IRQ_INTX : NVME_SIM_IRQ_MSIX);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->irq_is_intx, intx);
    assert_int_equal(nvme_ctrl_cpu_qid(f.ctrl, 1), nvme_ctrl_cpu_qid(f.ctrl, 2));
    struct smp_run *r = run_smp(&f, JOB_RESETS);
    const struct nvme_ctrl_stats *st = nvme_ctrl_get_stats(f.ctrl);
    assert_int_equal(st->resets, RESETS);
    assert_true(nvme_sim_stats(f.sim)->irqs_delivered > 0);
    if (r->spanned[1] == 0 || r->state_busy[2] == 0 || st->replays == 0)
        fail_msg("no overlap: %lu blocking calls across a reset, %lu refused submissions, "
                 "%llu replays",
                 r->spanned[1], r->state_busy[2], (unsigned long long)st->replays);
    free(r);
    fx_stop(&f);
}

static void cpus_sharing_a_queue_with_msix_do_io_while_one_resets(void **state)
{
    (void)state;
    cpus_share_a_queue_while_one_resets(false);
}

/* The same on one shared INTx line, masked with INTMS/INTMC around
 * each handler's reaping (§7.5.1.1), which may now run on two CPUs. */
static void cpus_sharing_a_queue_with_intx_do_io_while_one_resets(void **state)
{
    (void)state;
    cpus_share_a_queue_while_one_resets(true);
}

/* CPU 0 adds and removes NSID 2 and rescans while the others do I/O on
 * NSID 1 and look namespaces up, and CPU 1 rescans too (two scans at
 * once wait for each other): every rescan of CPU 0 changes the table
 * (stats.rescans), NSID 1 is in every table a CPU reads, and CPU 1 saw
 * NSID 2 both there and gone. */
static void namespaces_change_while_cpus_do_io(void **state)
{
    (void)state;
    struct fx f;
    start_smp(&f, 0, NVME_SIM_IRQ_NONE);
    struct smp_run *r = run_smp(&f, JOB_RESCANS);
    const struct nvme_ctrl_stats *st = nvme_ctrl_get_stats(f.ctrl);
    /* CPU 0's 100 changed the table; CPU 1's found a change or none */
    assert_in_range(st->rescans, RESETS, RESETS + r->rescans1);
    assert_true(r->rescans1 > 0);
    assert_int_equal(st->resets, 0);
    if (r->ns2_seen[0] == 0 || r->ns2_seen[1] == 0)
        fail_msg("no overlap: NSID 2 seen %lu times, missed %lu", r->ns2_seen[1], r->ns2_seen[0]);
    assert_null(nvme_ns_find(f.ctrl, 2)); /* removed last */
    free(r);
    fx_stop(&f);
}

/* The controller drops the completions of three writes (CPU 1's or CPU
 * 2's, whichever come at those points): the CPU whose call meets the
 * deadline first aborts and resets while the others go on (one CPU runs a
 * tick's checks: no command is counted or aborted twice), the writes are
 * replayed, nothing fails. */
static void lost_completions_are_recovered_once_while_cpus_do_io(void **state)
{
    (void)state;
    struct fx f;
    start_smp_timeout(&f, 0, NVME_SIM_IRQ_NONE, 100);
    for (unsigned i = 0; i < DROPS; i++) {
        struct nvme_sim_fault drop = {.kind = NVME_SIM_FAULT_DROP_CQE,
                                      .qid = NVME_SIM_ANY_IO,
                                      .opcode = NVME_CMD_WRITE,
                                      .cid = NVME_SIM_ANY,
                                      .skip = 300 + 700 * i,
                                      .count = 1};
        assert_int_equal(nvme_sim_inject(f.sim, &drop), 0);
    }
    struct smp_run *r = run_smp(&f, JOB_WATCH);
    assert_true(nvme_ctrl_get_stats(f.ctrl)->replays >= 1);
    free(r);
    fx_stop(&f);
}

/* Surprise removal while both CPUs do I/O (registers read all ones,
 * lifecycle rule 6): every call and every write in flight ends with
 * NVME_ERR_GONE and nothing else, none hangs, every write reported done
 * is on the medium, and event_cb hears of it once though each CPU meets
 * it. */
static void device_gone_while_cpus_do_io_fails_everything_once(void **state)
{
    (void)state;
    struct fx f;
    start_smp(&f, 0, NVME_SIM_IRQ_NONE);
    struct smp_run *r = run_smp(&f, JOB_UNPLUG); /* each worker stopped by NVME_ERR_GONE */
    assert_int_equal(gone_events, 1);
    uint8_t *buf = fx_xalloc(512);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_ERR_GONE);
    free(buf);
    free(r);
    fx_stop(&f);
}

/* CPU 0 sends admin commands (Identify, SMART log, Get Features) and
 * posts an error event every tenth round while the others do I/O; CPU 0
 * and CPU 1 both call nvme_ctrl_service, which reads each event's log
 * page and re-arms: every command succeeds, every event is counted. */
static void admin_commands_and_events_while_cpus_do_io(void **state)
{
    (void)state;
    struct fx f;
    start_smp(&f, 0, NVME_SIM_IRQ_NONE);
    struct smp_run *r = run_smp(&f, JOB_ADMIN);
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0); /* the last event, if still queued */
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->async_events, RESETS / 10);
    free(r);
    fx_stop(&f);
}

/* Formats between 512- and 4096-byte blocks on CPU 0 while CPUs 1 and 2
 * read 8 blocks at a time, blocking and asynchronously, into 32 KiB (room
 * for either size: the callers' side is right whatever the format).  The
 * core maps what the format its checks read makes of 8 blocks; a call
 * whose checks overlapped a Format is refused (NVME_ERR_BUSY), never sent
 * with a length of the other format (the namespace epoch), so the device
 * moves no byte outside a mapping (fx_stop: the simulator checks each
 * transfer against the mappings).  Every call ends with 0 or
 * NVME_ERR_BUSY: a call never returns a field a rescan was rewriting
 * (before: -256, -65536, -16777216, bytes of NVME_ERR_BUSY half
 * overwritten with NVME_OK).  Under ThreadSanitizer the epoch's writes
 * and the placements' looks race with nothing. */
#define FORMATS 12
static struct {
    struct fx *f;
    int stop;
    unsigned done[CPUS], busy[CPUS];
    int bad[CPUS]; /* the first result neither 0 nor NVME_ERR_BUSY */
} fmt;

static void fmt_cb(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    __atomic_store_n((int *)arg, result, __ATOMIC_RELEASE);
}

static void *fmt_reader(void *p)
{
    this_cpu = (unsigned)(uintptr_t)p;
    struct nvme_ctrl *ctrl = fmt.f->ctrl;
    uint8_t *buf = fx_xalloc(8 * 4096);
    uint16_t qid = nvme_ctrl_cpu_qid(ctrl, this_cpu);
    for (unsigned i = 0; !__atomic_load_n(&fmt.stop, __ATOMIC_ACQUIRE); i++) {
        const uint32_t count = 8;
        int rc;
        if (i % 2 == 0) {
            rc = nvme_read(ctrl, 1, 0, count, buf);
        } else {
            int result = 1;
            rc = nvme_submit_rw(ctrl, qid, NVME_CMD_READ, 1, 0, count, buf, 0, fmt_cb, &result);
            while (rc == NVME_OK && __atomic_load_n(&result, __ATOMIC_ACQUIRE) == 1)
                (void)nvme_qpair_poll(ctrl, qid, 0);
            if (rc == NVME_OK)
                rc = result;
        }
        if (rc != NVME_OK && rc != NVME_ERR_BUSY && fmt.bad[this_cpu] == 0)
            fmt.bad[this_cpu] = rc;
        if (rc == NVME_OK)
            __atomic_add_fetch(&fmt.done[this_cpu], 1, __ATOMIC_RELAXED);
        else
            fmt.busy[this_cpu]++;
    }
    free(buf);
    return NULL;
}

static void formats_while_cpus_read_move_no_byte_past_a_buffer(void **state)
{
    (void)state;
    struct fx f;
    start_smp(&f, 0, NVME_SIM_IRQ_NONE);
    memset(&fmt, 0, sizeof(fmt));
    fmt.f = &f;
    this_cpu = 0;
    pthread_t t[CPUS];
    for (unsigned c = 1; c < CPUS; c++)
        assert_int_equal(pthread_create(&t[c], NULL, fmt_reader, (void *)(uintptr_t)c), 0);
    for (unsigned k = 0; k < FORMATS; k++) {
        pause_us(2000);
        struct nvme_format_args a = {
            1, (uint8_t)(k % 2 == 0 ? 1 : 0), NVME_FORMAT_SES_NONE, 0, false, false};
        assert_int_equal(nvme_format(f.ctrl, &a, NVME_CONFIRM_DESTROY), 0);
    }
    pause_us(2000);
    /* Every reader read (a loaded machine may not have run one yet). */
    for (unsigned c = 1, w = 0; c < CPUS && w < 5000; w++)
        if (__atomic_load_n(&fmt.done[c], __ATOMIC_RELAXED) > 0)
            c++;
        else
            pause_us(2000);
    __atomic_store_n(&fmt.stop, 1, __ATOMIC_RELEASE);
    for (unsigned c = 1; c < CPUS; c++) {
        assert_int_equal(pthread_join(t[c], NULL), 0);
        assert_true(fmt.done[c] > 0);
    }
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 512);
    fx_stop(&f);
    for (unsigned c = 1; c < CPUS; c++)
        assert_int_equal(fmt.bad[c], 0);
}

/* The statistics as 32-bit ISAs count them (nvme_stat_inc_split, two
 * 32-bit atomic words): the carry into the high word is exact, and CPUs
 * counting at once across the carry lose nothing. */
#define SPLIT_ADDS 200000u
static uint64_t split_counter;
static void *split_adder(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < SPLIT_ADDS; i++)
        nvme_stat_inc_split(&split_counter);
    return NULL;
}

static void split_statistics_lose_no_count_across_a_carry(void **state)
{
    (void)state;
    split_counter = 0xfffffffeull;
    nvme_stat_inc_split(&split_counter);
    assert_true(split_counter == 0xffffffffull);
    nvme_stat_inc_split(&split_counter);
    assert_true(split_counter == 0x100000000ull);
    split_counter = 0x2ffffffffull;
    nvme_stat_inc_split(&split_counter);
    assert_true(split_counter == 0x300000000ull);

    const uint64_t start = 0x100000000ull - SPLIT_ADDS; /* the carry falls mid-run */
    split_counter = start;
    pthread_t t[CPUS];
    for (int c = 0; c < CPUS; c++)
        assert_int_equal(pthread_create(&t[c], NULL, split_adder, NULL), 0);
    for (int c = 0; c < CPUS; c++)
        assert_int_equal(pthread_join(t[c], NULL), 0);
    assert_true(split_counter == start + (uint64_t)CPUS * SPLIT_ADDS);
}

/* The entry checks' list of live controllers (handle.c, NVME_DEBUG) is
 * one for all controllers: CPUs bringing up and shutting down controllers
 * of their own at once lose none of them (a lost registration made every
 * call on that controller NVME_ERR_STATE; a walk read a controller another
 * CPU's fini had freed: ThreadSanitizer says so under NVME_TSAN). */
#define HANDLE_ROUNDS 12

static void *handle_churn(void *p)
{
    unsigned *failures = p;
    for (unsigned i = 0; i < HANDLE_ROUNDS; i++) {
        struct fx f;
        fx_config(&f);
        f.sim = nvme_sim_create(&f.cfg);
        if (f.sim == NULL) {
            (*failures)++;
            continue;
        }
        nvme_sim_osal(f.sim, &f.osal);
        if (nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts) != 0) {
            (*failures)++;
        } else {
            if (nvme_ctrl_service(f.ctrl) != NVME_OK || nvme_ns_count(f.ctrl) != 1)
                (*failures)++;
            if (nvme_ctrl_fini(f.ctrl) != NVME_OK)
                (*failures)++;
        }
        nvme_sim_destroy(f.sim);
    }
    return NULL;
}

static void controllers_brought_up_on_several_cpus_at_once_all_answer(void **state)
{
    (void)state;
    pthread_t t[CPUS];
    unsigned failures[CPUS] = {0};
    for (int c = 0; c < CPUS; c++)
        assert_int_equal(pthread_create(&t[c], NULL, handle_churn, &failures[c]), 0);
    for (int c = 0; c < CPUS; c++)
        assert_int_equal(pthread_join(t[c], NULL), 0);
    for (int c = 0; c < CPUS; c++)
        assert_int_equal(failures[c], 0);
}

/* Non-coherent rule 5 across CPUs: the CPU writes a completion queue only
 * while it is not live (a reset zeroes it: nvme_qpair_reset_rings), and
 * a cache invalidate of one of its lines then throws those stores away.
 * CPU 1 polls I/O queue 1 and finds it live and idle; before its look at
 * the head entry (an invalidate, then the phase tag) it is preempted, and
 * CPU 0 resets the controller meanwhile: the invalidate lands after the
 * reset zeroed the queue and before it cleaned it (the OSAL's dma_sync
 * and locks, wrapped here, order the two CPUs so when the look holds no
 * lock; one under the queue lock makes the reset wait for it, and there
 * is nothing to order).  The zeros of that line are lost
 * and the entries the controller posted before the reset come back with
 * the phase tag of the new first lap: after the reset, one of them passes
 * for a new completion, and the controller's own completion in that entry
 * is never seen. */
static struct {
    void (*sync)(void *ctx, void *va, size_t len, enum nvme_dma_dir dir);
    pthread_mutex_t m;
    pthread_cond_t c;
    int stage;   /* 1: CPU 1's next look waits; 2: it waits; 3: CPU 0 zeroed the CQ; 4: looked */
    bool polled; /* CPU 1's poll returned */
    pthread_t cpu1;
    uint8_t *cq;
    size_t cq_len;
} peek = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};

static void peek_wait(int stage)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    while (peek.stage < stage && !(stage == 2 && peek.polled))
        if (pthread_cond_timedwait(&peek.c, &peek.m, &ts) != 0)
            break; /* the interleaving did not happen: the test's checks say so */
}

/* Queue locks this thread holds: CPU 1 is preempted in a look made
 * without one (with one, CPU 0's reset would wait for it). */
static __thread unsigned peek_locks;
static void (*peek_lock_fn)(void *ctx, void *lock);
static void (*peek_unlock_fn)(void *ctx, void *lock);
static void peek_lock(void *ctx, void *lock)
{
    peek_lock_fn(ctx, lock);
    peek_locks++;
}
static void peek_unlock(void *ctx, void *lock)
{
    peek_locks--;
    peek_unlock_fn(ctx, lock);
}

static void peek_sync(void *ctx, void *va, size_t len, enum nvme_dma_dir dir)
{
    uint8_t *p = va;
    pthread_mutex_lock(&peek.m);
    if (peek.stage == 1 && pthread_equal(pthread_self(), peek.cpu1) && peek_locks == 0 &&
        dir == NVME_DMA_FROM_DEVICE && len == sizeof(struct nvme_cqe) && p >= peek.cq &&
        p < peek.cq + peek.cq_len) {
        peek.stage = 2; /* CPU 1, in nvme_qpair_process's look: preempted */
        pthread_cond_broadcast(&peek.c);
        peek_wait(3);
        pthread_mutex_unlock(&peek.m);
        peek.sync(ctx, va, len, dir);
        pthread_mutex_lock(&peek.m);
        peek.stage = 4;
        pthread_cond_broadcast(&peek.c);
    } else if (peek.stage == 2 && dir == NVME_DMA_TO_DEVICE && p == peek.cq && len == peek.cq_len) {
        peek.stage = 3; /* CPU 0 zeroed the ring, its clean comes next */
        pthread_cond_broadcast(&peek.c);
        peek_wait(4);
        pthread_mutex_unlock(&peek.m);
        peek.sync(ctx, va, len, dir);
        return;
    }
    pthread_mutex_unlock(&peek.m);
    peek.sync(ctx, va, len, dir);
}

static void *peek_poller(void *arg)
{
    struct fx *f = arg;
    this_cpu = 1;
    (void)nvme_qpair_poll(f->ctrl, 1, 0);
    pthread_mutex_lock(&peek.m);
    peek.polled = true;
    pthread_cond_broadcast(&peek.c);
    pthread_mutex_unlock(&peek.m);
    return NULL;
}

static void a_look_at_a_live_queue_does_not_drop_what_a_reset_wrote_into_it(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.noncoherent = true; /* whatever the run's environment */
    f.cfg.bounce_unaligned = true;
    f.cfg.locks = true;
    f.opts.io_queues = 1;
    fx_create(&f);
    f.osal.cpu_id = tls_cpu_id;
    peek.sync = f.osal.dma_sync;
    peek.stage = 0;
    peek.polled = false;
    f.osal.dma_sync = peek_sync;
    peek_lock_fn = f.osal.lock;
    peek_unlock_fn = f.osal.unlock;
    f.osal.lock = peek_lock;
    f.osal.unlock = peek_unlock;
    this_cpu = 0;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    uint8_t *buf = fx_xalloc(512);
    for (int i = 0; i < 2; i++) /* entries 0 and 1 of the first lap: phase tag 1 */
        assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);

    struct nvme_qpair *qp = &f.ctrl->ioq[0];
    peek.cq = (uint8_t *)qp->cq;
    peek.cq_len = (size_t)qp->entries * sizeof(struct nvme_cqe);
    pthread_t t;
    pthread_mutex_lock(&peek.m);
    peek.stage = 1;
    assert_int_equal(pthread_create(&t, NULL, peek_poller, &f), 0);
    peek.cpu1 = t;
    pthread_cond_broadcast(&peek.c);
    peek_wait(2); /* CPU 1 inside a look without the lock, or its poll over */
    pthread_mutex_unlock(&peek.m);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(pthread_join(t, NULL), 0);

    /* After the reset: a read completes in entry 0, a look at entry 1 finds
     * nothing (no command is in flight), the next read completes there. */
    uint64_t timeouts = nvme_ctrl_get_stats(f.ctrl)->timeouts;
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(nvme_qpair_poll(f.ctrl, 1, 0), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->timeouts, timeouts);
    free(buf);
    fx_stop(&f); /* no coherency violation */
}

/* Review (randomized workload, tests/soak/workload.c): the blocking NVM
 * commands beyond read and write (Write Zeroes, Dataset Management,
 * Compare, Verify, Copy, ...) on a CPU that meets another CPU's reset must
 * wait for it and go on, as nvme_read does (nvme.h rule 4).  CPU 1 is
 * started when the reset writes CC.EN=0 (the controller is marked not
 * ready then, until it is enabled again) and asks for Write Zeroes; CPU 0 goes on with its
 * reset once CPU 1 has either returned or gone to sleep waiting. */
static struct {
    void (*mmio_write32)(void *ctx, uint32_t off, uint32_t val);
    void (*sleep_us)(void *ctx, uint32_t us);
    struct fx *f;
    bool armed;
    bool then_gone; /* the device goes once CPU 1 waits */
    bool then_dead; /* or the controller never gets ready again */
    bool hold;      /* the reset stays stopped until CPU 1 returned */
    bool nested;    /* CPU 0 calls from inside its own reset instead */
    bool in_nested;
    unsigned nested_sleeps;
    unsigned sleeps; /* CPU 1's */
    pthread_t t;
    volatile bool started, returned, slept;
    int rc;
} mid;

static void *mid_cpu1(void *arg)
{
    (void)arg;
    this_cpu = 1;
    mid.rc = nvme_write_zeroes(mid.f->ctrl, 1, 64, 8, 0);
    __atomic_store_n(&mid.returned, true, __ATOMIC_RELEASE);
    return NULL;
}

static void mid_sleep_us(void *ctx, uint32_t us)
{
    if (this_cpu == 1) {
        __atomic_store_n(&mid.slept, true, __ATOMIC_RELEASE);
        mid.sleeps++;
    }
    if (mid.in_nested)
        mid.nested_sleeps++;
    mid.sleep_us(ctx, us);
    if (this_cpu == 1 && !mid.hold)
        pause_us(us); /* CPU 1's wait takes real time while CPU 0 resets */
}

/* Two CPUs on two queues, the simulator's OSAL with this file's cpu_id,
 * `mid` cleared and its sleep_us wrapped (the tests below wrap more
 * before nvme_ctrl_init). */
static void mid_config(struct fx *f)
{
    fx_config(f);
    f->cfg.locks = true;
    f->opts.io_queues = 2;
    f->opts.cpus = 2;
    fx_create(f);
    f->osal.cpu_id = tls_cpu_id;
    memset(&mid, 0, sizeof(mid));
    mid.f = f;
    mid.sleep_us = f->osal.sleep_us;
    f->osal.sleep_us = mid_sleep_us;
}

/* CPU 0 waits (10 s at most) until CPU 1 has returned or gone to sleep
 * waiting for CPU 0's reset. */
static void mid_wait_cpu1(void)
{
    for (int ms = 0; ms < 10000; ms++) {
        if (__atomic_load_n(&mid.returned, __ATOMIC_ACQUIRE) ||
            __atomic_load_n(&mid.slept, __ATOMIC_ACQUIRE))
            break;
        pause_us(1000);
    }
}

static void mid_mmio_write32(void *ctx, uint32_t off, uint32_t val)
{
    mid.mmio_write32(ctx, off, val);
    if (this_cpu != 0 || off != NVME_REG_CC || (val & NVME_CC_EN) || !mid.armed || mid.started)
        return; /* not the reset's CC.EN=0 */
    mid.started = true;
    if (mid.nested) { /* an OSAL call of CPU 0's reset makes a blocking call */
        mid.in_nested = true;
        mid.rc = nvme_write_zeroes(mid.f->ctrl, 1, 64, 8, 0);
        mid.in_nested = false;
        return;
    }
    assert_int_equal(pthread_create(&mid.t, NULL, mid_cpu1, NULL), 0);
    mid_wait_cpu1();
    if (mid.then_gone)
        nvme_sim_set_gone(mid.f->sim, true);
    if (mid.then_dead)
        nvme_sim_set_never_ready(mid.f->sim, true);
    for (int ms = 0; mid.hold && ms < 20000 && !__atomic_load_n(&mid.returned, __ATOMIC_ACQUIRE);
         ms++)
        pause_us(1000);
}

/* Bring-up on CPU 0 with the reset's CC.EN=0 write wrapped
 * (mid_mmio_write32), after the test set its `mid` flags. */
static void mid_start(struct fx *f)
{
    mid.mmio_write32 = f->osal.mmio_write32;
    f->osal.mmio_write32 = mid_mmio_write32;
    this_cpu = 0;
    assert_int_equal(nvme_ctrl_init(&f->ctrl, &f->osal, &f->opts), 0);
}

/* CPU 0's reset, returning `expect`, during which CPU 1 was started (or
 * the nested call made) at its CC.EN=0. */
static void mid_reset(struct fx *f, int expect)
{
    mid.armed = true;
    assert_int_equal(nvme_ctrl_reset(f->ctrl), expect);
    mid.armed = false;
    assert_true(mid.started);
}

static void nvm_commands_on_another_cpu_wait_out_a_reset(void **state)
{
    (void)state;
    struct fx f;
    mid_config(&f);
    mid_start(&f);
    uint8_t *buf = fx_xalloc(8 * 512), *zero = fx_xalloc(8 * 512);
    fx_pattern(buf, 8 * 512, 77);
    assert_int_equal(nvme_write(f.ctrl, 1, 64, 8, buf), 0);

    mid_reset(&f, 0);
    assert_int_equal(pthread_join(mid.t, NULL), 0);
    assert_int_equal(mid.rc, 0); /* before: NVME_ERR_STATE, while the reset ran */
    assert_int_equal(nvme_read(f.ctrl, 1, 64, 8, buf), 0);
    assert_memory_equal(buf, zero, 8 * 512);
    free(buf);
    free(zero);
    fx_stop(&f);
}

/* Review (randomized workload, tests/soak/workload.c): nvme_ctrl_reset of a
 * controller that was gone and answers again cleared the gone mark before
 * it claimed the reset; a blocking call on another CPU in between found
 * the controller neither gone, nor ready, nor resetting, and returned
 * NVME_ERR_STATE at once instead of waiting for the reset (nvme.h rule 4).
 * CPU 1 is started at CPU 0's first lock after the reset read CSTS
 * answering again, and writes; CPU 0 goes on once CPU 1 returned or went
 * to sleep waiting. */
static struct {
    uint32_t (*mmio_read32)(void *ctx, uint32_t off);
    void (*lock)(void *ctx, void *lock);
    bool armed, answered;
    uint8_t *buf;
} back;

static void *back_cpu1(void *arg)
{
    (void)arg;
    this_cpu = 1;
    mid.rc = nvme_write(mid.f->ctrl, 1, 64, 8, back.buf);
    __atomic_store_n(&mid.returned, true, __ATOMIC_RELEASE);
    return NULL;
}

static uint32_t back_mmio_read32(void *ctx, uint32_t off)
{
    uint32_t v = back.mmio_read32(ctx, off);
    if (this_cpu == 0 && back.armed && off == NVME_REG_CSTS && v != 0xffffffffu)
        back.answered = true;
    return v;
}

static void back_lock(void *ctx, void *lock)
{
    if (this_cpu == 0 && back.armed && back.answered && !mid.started) {
        mid.started = true;
        assert_int_equal(pthread_create(&mid.t, NULL, back_cpu1, NULL), 0);
        mid_wait_cpu1();
    }
    back.lock(ctx, lock);
}

static void a_call_during_the_reset_of_a_device_back_waits_for_it(void **state)
{
    (void)state;
    struct fx f;
    mid_config(&f);
    memset(&back, 0, sizeof(back));
    back.mmio_read32 = f.osal.mmio_read32;
    f.osal.mmio_read32 = back_mmio_read32;
    back.lock = f.osal.lock;
    f.osal.lock = back_lock;
    this_cpu = 0;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    back.buf = fx_xalloc(8 * 512);
    uint8_t *rd = fx_xalloc(8 * 512);
    fx_pattern(back.buf, 8 * 512, 78);

    nvme_sim_set_gone(f.sim, true);
    int src = 0;
    for (int i = 0; i < 100 && src != NVME_ERR_GONE; i++) { /* a CSTS look per tick */
        nvme_sim_advance(f.sim, 1000);
        src = nvme_ctrl_service(f.ctrl);
    }
    assert_int_equal(src, NVME_ERR_GONE); /* seen gone */
    nvme_sim_set_gone(f.sim, false);      /* hot-added again */
    back.armed = true;
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    back.armed = false;
    assert_true(mid.started);
    assert_int_equal(pthread_join(mid.t, NULL), 0);
    assert_int_equal(mid.rc, 0); /* before: NVME_ERR_STATE */
    assert_int_equal(nvme_read(f.ctrl, 1, 64, 8, rd), 0);
    assert_memory_equal(rd, back.buf, 8 * 512);
    free(rd);
    free(back.buf);
    fx_stop(&f);
}

/* Review (nvme-workload seed 1180, WORKLOAD_GRANT: "op zero:
 * NVME_ERR_STATE from a blocking call"): a reset whose first restart
 * created no I/O queue (its Create I/O CQ hung) restarts again; that
 * restart marks the controller ready at its enable and creates the
 * queues after Identify, with the count still 0 meanwhile.  A blocking
 * NVM command on another CPU whose checks passed before the reset and
 * that looked for its queue in that window returned NVME_ERR_STATE at
 * once instead of waiting for the reset (nvme.h rule 4), as nvme_write
 * does.  CPU 1's Copy stops in its descriptor's dma_alloc (after its
 * checks) until CPU 0's reset is in the window (the delayed Identify's
 * sleep); CPU 0 goes on once CPU 1 returned or went to sleep waiting. */
static struct {
    void (*sleep_us)(void *ctx, uint32_t us);
    void *(*dma_alloc)(void *ctx, size_t len, size_t align, uint64_t *bus);
    volatile bool in_alloc, in_window;
} win;

static void *win_cpu1(void *arg)
{
    (void)arg;
    this_cpu = 1;
    const struct nvme_copy_src r[1] = {{64, 8}};
    mid.rc = nvme_copy(mid.f->ctrl, 1, 512, r, 1, 0);
    __atomic_store_n(&mid.returned, true, __ATOMIC_RELEASE);
    return NULL;
}

static void *win_dma_alloc(void *ctx, size_t len, size_t align, uint64_t *bus)
{
    if (this_cpu == 1 && !win.in_alloc) {
        __atomic_store_n(&win.in_alloc, true, __ATOMIC_RELEASE);
        for (int ms = 0; ms < 10000 && !__atomic_load_n(&win.in_window, __ATOMIC_ACQUIRE); ms++)
            pause_us(1000);
    }
    return win.dma_alloc(ctx, len, align, bus);
}

static void win_sleep_us(void *ctx, uint32_t us)
{
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(mid.f->ctrl);
    if (this_cpu == 0 && mid.armed && !win.in_window && nvme_ctrl_is_ready(mid.f->ctrl) &&
        info->io_queues == 0 && !info->admin_only) {
        __atomic_store_n(&win.in_window, true, __ATOMIC_RELEASE);
        mid_wait_cpu1();
    }
    win.sleep_us(ctx, us);
}

static void a_blocking_nvm_command_waits_for_a_restart_to_create_its_queue(void **state)
{
    (void)state;
    struct fx f;
    mid_config(&f);
    memset(&win, 0, sizeof(win));
    f.opts.admin_timeout_ms = 1000;
    win.sleep_us = f.osal.sleep_us;
    f.osal.sleep_us = win_sleep_us;
    win.dma_alloc = f.osal.dma_alloc;
    f.osal.dma_alloc = win_dma_alloc;
    this_cpu = 0;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    uint8_t *buf = fx_xalloc(8 * 512), *rd = fx_xalloc(8 * 512);
    fx_pattern(buf, 8 * 512, 78);
    assert_int_equal(nvme_write(f.ctrl, 1, 64, 8, buf), 0);
    /* The first restart's Create I/O CQ never completes; the second
     * restart's Identify takes 5 ms, which its wait sleeps through. */
    fx_inject(&f, NVME_SIM_FAULT_HANG, 0, NVME_ADMIN_CREATE_CQ, 0, 1);
    fx_inject(&f, NVME_SIM_FAULT_DELAY, 0, NVME_ADMIN_IDENTIFY, 5000, 8);
    mid.started = true;
    assert_int_equal(pthread_create(&mid.t, NULL, win_cpu1, NULL), 0);
    for (int ms = 0; ms < 10000 && !__atomic_load_n(&win.in_alloc, __ATOMIC_ACQUIRE); ms++)
        pause_us(1000);
    assert_true(win.in_alloc); /* CPU 1's checks passed: queues there */
    mid.armed = true;
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    mid.armed = false;
    assert_int_equal(pthread_join(mid.t, NULL), 0);
    assert_true(win.in_window);
    assert_int_equal(mid.rc, 0); /* before: NVME_ERR_STATE */
    assert_int_equal(nvme_read(f.ctrl, 1, 512, 8, rd), 0);
    assert_memory_equal(rd, buf, 8 * 512);
    free(buf);
    free(rd);
    fx_stop(&f);
}

/* Review (randomized workload, tests/soak/workload.c): a blocking call on
 * another CPU that waits for a reset which ends with the device gone (or
 * the controller dead) returned NVME_ERR_STATE, "not in a state to do
 * this", instead of the reason: NVME_ERR_GONE (nvme.h rule 6: everything
 * fails with it; a port maps it to "hardware absent") or NVME_ERR_FATAL.
 * CPU 1's Write Zeroes waits in CPU 0's reset, then the device goes. */
static void a_call_waiting_for_a_reset_that_finds_the_device_gone_fails_with_gone(void **state)
{
    (void)state;
    struct fx f;
    mid_config(&f);
    mid.then_gone = true;
    mid_start(&f);

    mid_reset(&f, NVME_ERR_GONE);
    assert_int_equal(pthread_join(mid.t, NULL), 0);
    assert_true(mid.slept);                  /* it did wait for the reset */
    assert_int_equal(mid.rc, NVME_ERR_GONE); /* before: NVME_ERR_STATE */
    assert_int_equal(nvme_ctrl_fini(f.ctrl), 0);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), 0);
    nvme_sim_destroy(f.sim);
}

/* The same wait, for a reset whose every restart finds the controller
 * never ready again (CSTS.RDY stays 0 after CC.EN=1): the reset ends with
 * the controller dead (the resetting call is told NVME_ERR_TIMEOUT), and
 * CPU 1's Write Zeroes, which waited for it, fails with NVME_ERR_FATAL, as
 * a new call is told; not NVME_ERR_STATE, which would mean "try again". */
static void a_call_waiting_for_a_reset_that_ends_dead_fails_with_fatal(void **state)
{
    (void)state;
    struct fx f;
    mid_config(&f);
    mid.then_dead = true;
    mid_start(&f);

    mid_reset(&f, NVME_ERR_TIMEOUT); /* its last restart's reason */
    assert_int_equal(pthread_join(mid.t, NULL), 0);
    assert_true(mid.slept); /* it did wait for the reset */
    assert_int_equal(mid.rc, NVME_ERR_FATAL);
    uint8_t *buf = fx_xalloc(8 * 512);
    assert_int_equal(nvme_read(f.ctrl, 1, 64, 8, buf), NVME_ERR_FATAL); /* a new call: the same */
    free(buf);
    fx_stop(&f);
}

/* Every wait is bounded: a reset that stays stopped (CPU 0's, held in an
 * OSAL call after CC.EN=0) keeps CPU 1's blocking call waiting for at most
 * its budget, every attempt of every reset it may meet (NVME_RESET_WAITS 4
 * x NVME_RESET_ATTEMPTS 2 x (CAP.TO + CSTS.RDY's wait + the admin timeout),
 * in 1 ms slices), then the call returns NVME_ERR_STATE (try again) while
 * the reset still runs, having sent nothing; the reset then ends well. */
static void a_call_waiting_for_a_reset_that_does_not_end_gives_up_in_its_bound(void **state)
{
    (void)state;
    struct fx f;
    mid_config(&f);
    f.opts.admin_timeout_ms = 1000;
    mid.hold = true;
    mid_start(&f);
    const unsigned to_ms = nvme_ctrl_get_info(f.ctrl)->timeout_ms; /* CAP.TO: CSTS.RDY's wait too */
    uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;

    mid_reset(&f, 0);
    assert_int_equal(pthread_join(mid.t, NULL), 0);
    assert_true(mid.returned); /* before CPU 0's reset went on */
    assert_int_equal(mid.rc, NVME_ERR_STATE);
    const unsigned budget = 4u * 2u * (to_ms + to_ms + 1000u);
    assert_in_range(mid.sleeps, budget - 2u, budget);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds); /* nothing was sent */
    /* Called again, it goes. */
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 64, 8, 0), 0);
    fx_stop(&f);
}

/* A blocking call made on the CPU that runs a reset, from inside it (an
 * OSAL call of the reset's, here its CC.EN=0 write), cannot wait for the
 * reset to end: it returns NVME_ERR_STATE at once, without a sleep, and
 * the reset goes on and ends well. */
static void a_call_from_inside_this_cpus_reset_does_not_wait_for_it(void **state)
{
    (void)state;
    struct fx f;
    mid_config(&f);
    mid.nested = true;
    mid_start(&f);
    uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;
    uint64_t resets = nvme_ctrl_get_stats(f.ctrl)->resets;

    mid_reset(&f, 0);
    assert_int_equal(mid.rc, NVME_ERR_STATE);
    assert_int_equal(mid.nested_sleeps, 0); /* before it knew its own reset: its whole budget */
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->resets, resets + 1u);
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 64, 8, 0), 0);
    fx_stop(&f);
}

/* A controller that refused Number of Queues at bring-up (admin-only, no
 * I/O queue memory) gets its queues at a reset on CPU 0 while CPUs 1 and
 * 2 keep writing and reading back: each call is refused with
 * NVME_ERR_UNSUPPORTED until the reset has published the queues, then
 * works, on memory the resetting CPU allocated (the array and the queues
 * published before their count: ThreadSanitizer sees the order).  Before:
 * admin-only for good, no call ever worked. */
static struct {
    struct fx *f;
    int stop;
    unsigned long ok[CPUS], refused[CPUS];
    int err[CPUS];
} grant;

static void *grant_cpu(void *arg)
{
    unsigned cpu = (unsigned)(uintptr_t)arg;
    this_cpu = cpu;
    uint8_t *w = fx_xalloc(BLOCKS * 512), *rd = fx_xalloc(BLOCKS * 512);
    for (uint32_t i = 1; !__atomic_load_n(&grant.stop, __ATOMIC_ACQUIRE) && grant.err[cpu] == 0;
         i++) {
        uint64_t lba = (uint64_t)cpu * SPAN + (i % (SPAN / BLOCKS)) * BLOCKS;
        fx_pattern(w, BLOCKS * 512, cpu << 24 | i);
        int rc = nvme_write(grant.f->ctrl, 1, lba, BLOCKS, w);
        if (rc == NVME_ERR_UNSUPPORTED) {
            __atomic_add_fetch(&grant.refused[cpu], 1ul, __ATOMIC_RELAXED);
            pause_us(50);
            continue;
        }
        if (rc == 0)
            rc = nvme_read(grant.f->ctrl, 1, lba, BLOCKS, rd);
        if (rc == 0 && memcmp(w, rd, BLOCKS * 512) != 0)
            rc = -1000;
        if (rc != 0)
            grant.err[cpu] = rc;
        else
            __atomic_add_fetch(&grant.ok[cpu], 1ul, __ATOMIC_RELAXED);
    }
    free(w);
    free(rd);
    return NULL;
}

static void io_queues_a_reset_gets_are_found_by_the_other_cpus(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.locks = true;
    f.cfg.timing = NVME_SIM_DEFERRED;
    f.cfg.completion_latency_us = 50;
    f.opts.cpus = CPUS;
    fx_create(&f);
    f.osal.cpu_id = tls_cpu_id;
    sim_sleep_us = f.osal.sleep_us;
    f.osal.sleep_us = real_sleep_us;
    this_cpu = 0;
    fx_init_admin_only(&f);
    memset(&grant, 0, sizeof(grant));
    grant.f = &f;
    pthread_t t[CPUS];
    for (unsigned c = 1; c < CPUS; c++)
        assert_int_equal(pthread_create(&t[c], NULL, grant_cpu, (void *)(uintptr_t)c), 0);
    for (int ms = 0; ms < 5000; ms++) { /* both refused first */
        if (__atomic_load_n(&grant.refused[1], __ATOMIC_RELAXED) != 0 &&
            __atomic_load_n(&grant.refused[2], __ATOMIC_RELAXED) != 0)
            break;
        pause_us(1000);
    }
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    for (int ms = 0; ms < 20000; ms++) {
        if (__atomic_load_n(&grant.ok[1], __ATOMIC_RELAXED) >= MIN_IOS &&
            __atomic_load_n(&grant.ok[2], __ATOMIC_RELAXED) >= MIN_IOS)
            break;
        pause_us(1000);
    }
    __atomic_store_n(&grant.stop, 1, __ATOMIC_RELEASE);
    for (unsigned c = 1; c < CPUS; c++) {
        assert_int_equal(pthread_join(t[c], NULL), 0);
        assert_int_equal(grant.err[c], 0);
        assert_true(grant.refused[c] > 0);
        assert_true(grant.ok[c] >= MIN_IOS);
    }
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, CPUS);
    fx_stop(&f);
}

/* Review: the Identify fields a restart takes again (nvme_id_ctrl_take:
 * ONCS, OACS, VWC...) are read meanwhile by calls on other CPUs, which
 * read them with plain loads: a data race under ThreadSanitizer (before:
 * "WARNING: ThreadSanitizer: data race" on ctrl->info.oncs, read in
 * nvme_write_zeroes, written by nvme_id_ctrl_take), and a call could
 * decide on two values.  Each is now read once, marked (NVME_READ_ONCE).
 * CPU 0 resets the controller while a firmware takes Write Zeroes and
 * Dataset Management away and gives them back at each restart
 * (nvme_sim_set_support); CPU 1 meanwhile sends both: each is done,
 * refused by the core with nothing sent, or Invalid Command Opcode from a
 * device that dropped it after the core looked. */
static struct {
    struct fx *f;
    int stop;
    unsigned long done, refused, dropped, calls;
    int err;
} fw;

static void fw_note(int rc)
{
    if (rc == 0)
        fw.done++;
    else if (rc == NVME_ERR_UNSUPPORTED)
        fw.refused++;
    else if (rc > 0 && NVME_SF_SCT(rc) == NVME_SCT_GENERIC &&
             NVME_SF_SC(rc) == NVME_SC_INVALID_OPCODE)
        fw.dropped++;
    else if (fw.err == 0)
        fw.err = rc;
}

static void *fw_cpu1(void *arg)
{
    (void)arg;
    this_cpu = 1;
    for (uint64_t i = 0; !__atomic_load_n(&fw.stop, __ATOMIC_ACQUIRE); i++) {
        fw_note(nvme_write_zeroes(fw.f->ctrl, 1, (i % 64) * 8, 8, 0));
        fw_note(nvme_deallocate(fw.f->ctrl, 1, (i % 64) * 8, 8));
        __atomic_add_fetch(&fw.calls, 2ul, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void identify_fields_a_restart_takes_are_read_once_by_the_other_cpus(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.locks = true;
    f.opts.cpus = 2;
    fx_create(&f);
    f.osal.cpu_id = tls_cpu_id;
    sim_sleep_us = f.osal.sleep_us;
    f.osal.sleep_us = real_sleep_us;
    this_cpu = 0;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    const uint16_t oacs = f.cfg.oacs, oncs = f.cfg.oncs;
    const uint16_t less = (uint16_t)(oncs & ~(NVME_ONCS_WRITE_ZEROES | NVME_ONCS_DSM));
    assert_true((oncs & NVME_ONCS_WRITE_ZEROES) && (oncs & NVME_ONCS_DSM));
    memset(&fw, 0, sizeof(fw));
    fw.f = &f;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fw_cpu1, NULL), 0);
    for (int k = 0; k < RESETS; k++) {
        nvme_sim_set_support(f.sim, oacs, k % 2 == 0 ? less : oncs, f.cfg.vwc);
        assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
        /* CPU 1 calls on each firmware at least once (10 s at most). */
        unsigned long calls = __atomic_load_n(&fw.calls, __ATOMIC_ACQUIRE);
        for (int ms = 0; ms < 10000 && __atomic_load_n(&fw.calls, __ATOMIC_ACQUIRE) < calls + 4;
             ms++)
            pause_us(1000);
    }
    __atomic_store_n(&fw.stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(fw.err, 0);
    assert_true(fw.done > 0);
    assert_true(fw.refused > 0);
    /* Last: given back; then taken away, refused with nothing sent. */
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 0, 8, 0), 0);
    nvme_sim_set_support(f.sim, oacs, less, f.cfg.vwc);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 0, 8, 0), NVME_ERR_UNSUPPORTED);
    assert_int_equal(nvme_deallocate(f.ctrl, 1, 0, 8), NVME_ERR_UNSUPPORTED);
    fx_stop(&f);
}

/* Review (randomized workload, tests/soak/workload.c seed 2158 threaded,
 * WORKLOAD_LINK): a reset whose every restart found the registers all ones
 * (nvme_ctrl_read_caps: NVME_ERR_GONE, the link down for a while) while
 * the stop between them found them answering ended with the queues
 * failed with NVME_ERR_GONE but the controller not marked gone, nor dead:
 * neither gone, nor ready, nor resetting, where a blocking call returns
 * NVME_ERR_STATE at once (nvme_reset_waited) instead of saying why it
 * cannot go on (lifecycle rule 6).  VS reads all ones from the reset on. */
static struct {
    uint32_t (*mmio_read32)(void *ctx, uint32_t off);
    bool armed;
} vs_gone;

static uint32_t vs_gone_read32(void *ctx, uint32_t off)
{
    if (vs_gone.armed && off == NVME_REG_VS)
        return 0xffffffffu;
    return vs_gone.mmio_read32(ctx, off);
}

static void a_reset_whose_restarts_read_all_ones_leaves_the_controller_gone(void **state)
{
    (void)state;
    struct fx f;
    mid_config(&f);
    memset(&vs_gone, 0, sizeof(vs_gone));
    vs_gone.mmio_read32 = f.osal.mmio_read32;
    f.osal.mmio_read32 = vs_gone_read32;
    this_cpu = 0;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    uint8_t *buf = fx_xalloc(8 * 512);
    fx_pattern(buf, 8 * 512, 79);
    vs_gone.armed = true;
    assert_int_equal(nvme_ctrl_reset(f.ctrl), NVME_ERR_GONE);
    assert_int_equal(nvme_write(f.ctrl, 1, 64, 8, buf), NVME_ERR_GONE); /* before: STATE */
    vs_gone.armed = false;
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0); /* answers again: back */
    assert_int_equal(nvme_write(f.ctrl, 1, 64, 8, buf), 0);
    free(buf);
    fx_stop(&f);
}

/* A Format's thaw that gives up waiting for the scan flag (two admin
 * deadlines) while a rescan on another CPU holds it: that rescan read
 * Identify Namespace before the Format (512-byte blocks) and publishes
 * after it.  It began frozen, so it publishes the namespace still busy
 * (NVME_ERR_BUSY for I/O) and the next service call rescans, finding the
 * new 4096-byte format (before: published as 512-byte blocks and usable,
 * a one-block read mapping 512 bytes while the device wrote 4096; found
 * by a review helper).  CPU 2's Format starts CPU 1's rescan from the
 * clock read after its freeze; CPU 1 is held inside the dma_free after
 * its Identify Namespace (standing in for a wait for another CPU's
 * reset) until the Format has returned. */
static struct {
    struct fx *f;
    uint64_t (*now_us)(void *ctx);
    void (*dma_free)(void *ctx, void *va, size_t size);
    volatile int phase; /* 1 armed, 2 CPU 1 started, 3 CPU 1 held, 4 released */
    unsigned frees;
    pthread_t t1;
    int rescan_rc, format_rc;
} st;

static void *st_cpu1(void *arg)
{
    (void)arg;
    this_cpu = 1;
    st.rescan_rc = nvme_ns_rescan(st.f->ctrl);
    return NULL;
}

static void st_dma_free(void *ctx, void *va, size_t size)
{
    st.dma_free(ctx, va, size);
    /* CPU 1's second bounce: Identify Namespace 1, after the list */
    if (this_cpu == 1 && __atomic_load_n(&st.phase, __ATOMIC_ACQUIRE) == 2 && ++st.frees == 2) {
        __atomic_store_n(&st.phase, 3, __ATOMIC_RELEASE);
        while (__atomic_load_n(&st.phase, __ATOMIC_ACQUIRE) != 4)
            pause_us(1000);
    }
}

static uint64_t st_now_us(void *ctx)
{
    if (this_cpu == 2 && __atomic_load_n(&st.phase, __ATOMIC_ACQUIRE) == 1) {
        /* the freeze is done (namespaces busy, flag free), Format not sent */
        __atomic_store_n(&st.phase, 2, __ATOMIC_RELEASE);
        assert_int_equal(pthread_create(&st.t1, NULL, st_cpu1, NULL), 0);
        while (__atomic_load_n(&st.phase, __ATOMIC_ACQUIRE) != 3)
            pause_us(1000);
    }
    return st.now_us(ctx);
}

static void *st_cpu2(void *arg)
{
    (void)arg;
    this_cpu = 2;
    struct nvme_format_args a = {1, 1 /* 4096 */, NVME_FORMAT_SES_NONE, 0, false, false};
    __atomic_store_n(&st.phase, 1, __ATOMIC_RELEASE);
    st.format_rc = nvme_format(st.f->ctrl, &a, NVME_CONFIRM_DESTROY);
    return NULL;
}

static void a_rescan_that_read_before_a_format_whose_thaw_gave_up_publishes_it_busy(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.locks = true;
    f.opts.cpus = CPUS;
    f.opts.admin_timeout_ms = 50; /* the thaw's wait for the flag: 100 slices */
    fx_create(&f);
    f.osal.cpu_id = tls_cpu_id;
    sim_sleep_us = f.osal.sleep_us;
    f.osal.sleep_us = real_sleep_us;
    memset(&st, 0, sizeof(st));
    st.f = &f;
    st.now_us = f.osal.now_us;
    f.osal.now_us = st_now_us;
    st.dma_free = f.osal.dma_free;
    f.osal.dma_free = st_dma_free;
    this_cpu = 0;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 512);
    /* No Namespace Attribute Notices (as QEMU 7.2 after a Format): the
     * rescan below is the core's own doing. */
    assert_int_equal(nvme_set_features(f.ctrl, NVME_FEAT_ASYNC_EVENT, 0, NULL), 0);

    pthread_t t2;
    assert_int_equal(pthread_create(&t2, NULL, st_cpu2, NULL), 0);
    assert_int_equal(pthread_join(t2, NULL), 0); /* CPU 2's Format returned */
    __atomic_store_n(&st.phase, 4, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(st.t1, NULL), 0);
    assert_int_equal(st.format_rc, NVME_ERR_BUSY); /* its thaw gave up */
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
    uint8_t *buf = fx_xalloc(8192);
    assert_int_equal(ns->status, NVME_ERR_BUSY);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_ERR_BUSY);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    /* The next service call rescans: the device's format, usable. */
    (void)nvme_ctrl_service(f.ctrl);
    ns = nvme_ns_find(f.ctrl, 1);
    assert_int_equal(ns->status, NVME_OK);
    assert_int_equal(ns->lba_size, 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    free(buf);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_cpu_does_io_while_one_resets),
        cmocka_unit_test(a_rescan_that_read_before_a_format_whose_thaw_gave_up_publishes_it_busy),
        cmocka_unit_test(cpus_sharing_a_queue_with_msix_do_io_while_one_resets),
        cmocka_unit_test(cpus_sharing_a_queue_with_intx_do_io_while_one_resets),
        cmocka_unit_test(namespaces_change_while_cpus_do_io),
        cmocka_unit_test(lost_completions_are_recovered_once_while_cpus_do_io),
        cmocka_unit_test(device_gone_while_cpus_do_io_fails_everything_once),
        cmocka_unit_test(admin_commands_and_events_while_cpus_do_io),
        cmocka_unit_test(split_statistics_lose_no_count_across_a_carry),
        cmocka_unit_test(controllers_brought_up_on_several_cpus_at_once_all_answer),
        cmocka_unit_test(formats_while_cpus_read_move_no_byte_past_a_buffer),
        cmocka_unit_test(a_look_at_a_live_queue_does_not_drop_what_a_reset_wrote_into_it),
        cmocka_unit_test(nvm_commands_on_another_cpu_wait_out_a_reset),
        cmocka_unit_test(a_blocking_nvm_command_waits_for_a_restart_to_create_its_queue),
        cmocka_unit_test(a_call_during_the_reset_of_a_device_back_waits_for_it),
        cmocka_unit_test(a_call_waiting_for_a_reset_that_finds_the_device_gone_fails_with_gone),
        cmocka_unit_test(a_call_waiting_for_a_reset_that_ends_dead_fails_with_fatal),
        cmocka_unit_test(a_call_waiting_for_a_reset_that_does_not_end_gives_up_in_its_bound),
        cmocka_unit_test(a_call_from_inside_this_cpus_reset_does_not_wait_for_it),
        cmocka_unit_test(io_queues_a_reset_gets_are_found_by_the_other_cpus),
        cmocka_unit_test(identify_fields_a_restart_takes_are_read_once_by_the_other_cpus),
        cmocka_unit_test(a_reset_whose_restarts_read_all_ones_leaves_the_controller_gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
