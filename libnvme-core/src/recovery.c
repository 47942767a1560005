/* SPDX-License-Identifier: MIT */
/*
 * recovery.c - the command lifecycle above the rings (nvme.h, rules 2-6):
 * waits that end on completion, deadlines counted in ticks, Abort (§5.1),
 * controller reset (§7.3.2) with replay, and a device that is gone.
 *
 * Also the setup a restart repeats after bring-up: Number of Queues, the
 * I/O queue pairs, the features the core sets, and with them the public
 * nvme_get_features/nvme_set_features (recovery sits below admin.c).
 *
 * Recovery has this one home.  It runs from calls that may sleep: the
 * blocking calls while they wait, nvme_qpair_poll() and
 * nvme_ctrl_service(); never from nvme_ctrl_handle_irq().
 *
 * Deadlines cost nothing per command: a command stores the tick at which
 * its deadline passes (a load and an add at submission; off the I/O fast
 * path also the tick it counts from), and the tick counter advances when
 * one of the calls above looks at the clock, by the tick_us periods that
 * passed since it last did (nvme_tick_due).  A tick is an eighth of the
 * I/O timeout (1 ms to 100 ms), so a command is declared late between
 * one timeout and one timeout plus a tick, or plus the time between two
 * looks at the clock when that is longer, after submission; never early
 * (nvme_slot_rebase).  CSTS is read once per look.
 */
#include "nvme_internal.h"

/* A command in the controller whose deadline a pause held (its stamp:
 * the tick that hold ends, nvme_scan_queue); never parked, which only a
 * reclaimed one is (qpair.c clears it then). */
#define NVME_SLOT_F_HELD NVME_SLOT_F_PARKED

/* True while a completion callback of this controller runs (on any CPU):
 * teardown and recovery do not start from inside one.  Out of line: only
 * cold paths ask (teardown, resets, scans, waits). */
bool nvme_in_callback(const struct nvme_ctrl *ctrl)
{
    /* Telling CPUs apart: only the calling CPU's callbacks count (another
     * CPU completing its I/O does not make this call a nested one). */
    if (ctrl->cb_depth != NULL)
        return __atomic_load_n(
                   &ctrl->cb_depth[nvme_mod32(ctrl->osal.cpu_id(ctrl->osal.ctx), ctrl->cb_cpus)],
                   __ATOMIC_RELAXED) != 0;
    if (ctrl->admin.in_callback != 0)
        return true;
    /* Acquire: a reset may have allocated the queues (nvme_io_queues_alloc). */
    uint16_t n = __atomic_load_n(&ctrl->nr_ioq, __ATOMIC_ACQUIRE);
    for (uint16_t i = 0; i < n; i++)
        if (ctrl->ioq[i].in_callback != 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* Ticks and events                                                    */
/* ------------------------------------------------------------------ */

void nvme_recovery_init(struct nvme_ctrl *ctrl)
{
    const struct nvme_ctrl_opts *o = &ctrl->opts;
    uint32_t io_ms = nvme_io_ms(ctrl);
    uint32_t admin_ms = nvme_admin_ms(ctrl);
    uint32_t long_ms = o->long_admin_timeout_ms ? o->long_admin_timeout_ms
                                                : NVME_DEFAULT_LONG_TIMEOUT_MS;
    uint32_t abort_ms = o->abort_timeout_ms ? o->abort_timeout_ms : io_ms / 4u;
    if (abort_ms < 10u)
        abort_ms = 10u;

    uint32_t tick_ms = io_ms / 8u;
    ctrl->tick_us = tick_ms < 1u ? 1000u : tick_ms > 100u ? 100000u : tick_ms * 1000u;
    NVME_WRITE_ONCE(ctrl->tick, 0);
    NVME_WRITE_ONCE64(ctrl->next_tick_us, nvme_now_us(ctrl) + ctrl->tick_us);
    ctrl->io_timeout_ticks = nvme_ms_to_ticks(ctrl, io_ms);
    ctrl->admin.timeout_ticks = nvme_ms_to_ticks(ctrl, admin_ms);
    ctrl->long_ticks = nvme_ms_to_ticks(ctrl, long_ms);
    ctrl->abort_ticks = nvme_ms_to_ticks(ctrl, abort_ms);
    ctrl->max_retries = o->max_retries == NVME_NO_RETRIES ? 0u
                        : o->max_retries                  ? o->max_retries
                                                          : (uint8_t)NVME_DEFAULT_MAX_RETRIES;
}

/* The ticks an advance at `now` adds (0: not due yet). */
static uint32_t nvme_ticks_due(const struct nvme_ctrl *ctrl, uint64_t now)
{
    uint64_t next = NVME_READ_ONCE64(ctrl->next_tick_us);
    if (now < next)
        return 0;
    uint64_t late = now - next;
    if (late < ctrl->tick_us)
        return 1u;
    uint64_t q = nvme_u64_divmod(late, ctrl->tick_us, NULL); /* (no libgcc helper) */
    return q >= NVME_MAX_TICKS - 1u ? NVME_MAX_TICKS : (uint32_t)q + 1u;
}

/* Advances the tick counter when tick_us passed; true when it did.  The
 * caller holds ctrl->checking (nvme_tick_take).  By every tick_us that
 * passed, not by one: a caller that looks seldom (nvme_ctrl_service once
 * a second, as README asks at the least, against ticks of 100 ms) would
 * otherwise stretch every deadline by the ratio (a 30 s I/O timeout
 * found after 301 s).  At most NVME_MAX_TICKS at a time, so that a
 * deadline not passed before stays comparable (nvme_tick_passed); the
 * checks that follow act on, or start again, every one passed. */
static __attribute__((noinline)) bool nvme_tick_due(struct nvme_ctrl *ctrl, uint64_t now)
{
    uint32_t n = nvme_ticks_due(ctrl, now);
    if (n == 0)
        return false;
    NVME_WRITE_ONCE(ctrl->jump_from, ctrl->tick);
    NVME_WRITE_ONCE(ctrl->jump, n - 1u);
    NVME_WRITE_ONCE(ctrl->tick, ctrl->tick + n);
    NVME_WRITE_ONCE64(ctrl->next_tick_us, now + ctrl->tick_us);
    return true;
}

/* The length of an active command's deadline as last set: the Abort
 * window once an Abort went, else its own. */
static uint32_t nvme_slot_span(const struct nvme_ctrl *ctrl, const struct nvme_qpair *qp,
                               const struct nvme_cmd_slot *s)
{
    return (s->flags & NVME_SLOT_F_ABORTED) ? ctrl->abort_ticks
           : (s->flags & NVME_SLOT_F_LONG)  ? ctrl->long_ticks
                                            : qp->timeout_ticks;
}

/* A slot whose deadline (or retry time) was counted from the tick an
 * advance of more than one tick left (nvme_tick_due) may have been
 * submitted just before that advance: its time counts from the advance,
 * as if set then, later by at most the time between two looks at the
 * clock, never early.  Such a slot has the tick in its stamp
 * (nvme_slot_deadline), or, set by the I/O fast path, which writes no
 * stamp, an active one has a deadline exactly its length past that tick
 * (one set before is nearer).  A stale stamp that matches by chance only
 * makes a deadline later.  Once per advance (the deadline is then longer
 * than its length past the tick); under the queue lock, from the checks
 * that follow the advance. */
static void nvme_slot_rebase(const struct nvme_ctrl *ctrl, const struct nvme_qpair *qp,
                             struct nvme_cmd_slot *s)
{
    uint32_t from = NVME_READ_ONCE(ctrl->jump_from), jump = NVME_READ_ONCE(ctrl->jump);
    /* (Nor one a pause held: set at a look, its stamp the hold's end.) */
    if (jump == 0 || (s->state == NVME_SLOT_ACTIVE && (s->flags & NVME_SLOT_F_HELD)))
        return;
    if (s->stamp == from ||
        (s->state == NVME_SLOT_ACTIVE && s->expire - from == nvme_slot_span(ctrl, qp, s))) {
        s->expire += jump;
        s->stamp = from - 1u;
    }
}

/* nvme_tick_due for a caller that does not hold ctrl->checking (a wait
 * inside bring-up or a reset): false when another CPU has the tick. */
static bool nvme_tick_take(struct nvme_ctrl *ctrl, uint64_t now)
{
    uint32_t idle = 0;
    if (!__atomic_compare_exchange_n(&ctrl->checking, &idle, 1u, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return false;
    bool due = nvme_tick_due(ctrl, now);
    __atomic_store_n(&ctrl->checking, 0u, __ATOMIC_RELEASE);
    return due;
}

static bool nvme_tick_passed(const struct nvme_ctrl *ctrl, uint32_t t)
{
    return (int32_t)(NVME_READ_ONCE(ctrl->tick) - t) >= 0;
}

void nvme_event(struct nvme_ctrl *ctrl, enum nvme_event ev, uint32_t detail)
{
    if (ctrl->opts.event_cb != NULL)
        ctrl->opts.event_cb(ctrl->opts.event_arg, ev, detail);
}

/* A command in flight past its deadline (one it has: not NO_TIMEOUT). */
static __attribute__((noinline)) bool nvme_slot_late(const struct nvme_ctrl *ctrl,
                                                     const struct nvme_cmd_slot *s)
{
    return s->state == NVME_SLOT_ACTIVE && !(s->flags & NVME_SLOT_F_NO_TIMEOUT) &&
           nvme_tick_passed(ctrl, s->expire);
}

/* ------------------------------------------------------------------ */
/* Stopping and reclaiming                                             */
/* ------------------------------------------------------------------ */

static void nvme_queues_quiesce(struct nvme_ctrl *ctrl)
{
    nvme_set_ready(ctrl, false);
    for (uint16_t i = 0; i <= ctrl->nr_ioq; i++) {
        struct nvme_qpair *qp = i == 0 ? &ctrl->admin : &ctrl->ioq[i - 1u];
        nvme_lock(qp);
        NVME_WRITE_ONCE(qp->live, false); /* no submission, no reaping, no retry from here on */
        nvme_unlock(qp);
    }
}

static void nvme_reclaim_all(struct nvme_ctrl *ctrl, int result, enum nvme_reclaim io_mode)
{
    nvme_qpair_reclaim(&ctrl->admin, result,
                       io_mode == NVME_RECLAIM_ALL ? NVME_RECLAIM_ALL : NVME_RECLAIM_KEEP_REPLAY);
    for (uint16_t i = 0; i < ctrl->nr_ioq; i++)
        nvme_qpair_reclaim(&ctrl->ioq[i], result, io_mode);
}

/* Lifecycle rule 6: a device whose registers read all ones is taken for
 * gone; everything fails at once and no register is written again.  All
 * ones is no proof that it stopped mastering the bus (an MMIO read that
 * timed out, a link retraining): the port's dma_stop cuts it off before
 * the buffers go back, as Linux's nvme_dev_disable disables the PCI
 * device before it cancels the requests (on every CPU that gets here:
 * each reclaims).  The commands whose completion entries it posted
 * before and nobody reaped end with them first (nvme_qpair_harvest), as
 * Linux's nvme_dev_disable reaps the pending entries after the disable
 * (nvme_reap_pending_cqes): a write that landed is not reported failed
 * (written again by its caller; a Zone Append appended twice).  Without
 * dma_stop the entries it posted are still its own answers, taken as a
 * reap takes them. */
static void nvme_recovery_gone(struct nvme_ctrl *ctrl)
{
    NVME_WRITE_ONCE(ctrl->gone, true);
    /* One CPU tells, when several find the registers gone at once. */
    bool first = __atomic_exchange_n(&ctrl->gone_told, 1u, __ATOMIC_ACQ_REL) == 0;
    nvme_queues_quiesce(ctrl);
    (void)nvme_dma_cut(ctrl);
    nvme_qpair_harvest(&ctrl->admin);
    for (uint16_t i = 0; i < ctrl->nr_ioq; i++)
        nvme_qpair_harvest(&ctrl->ioq[i]);
    nvme_reclaim_all(ctrl, NVME_ERR_GONE, NVME_RECLAIM_ALL);
    if (first) {
        nvme_log(ctrl, NVME_LOG_ERROR, "device gone (registers read all ones)");
        nvme_event(ctrl, NVME_EVENT_GONE, 0);
    }
}

/* Stops the controller, completes the I/O commands it had finished
 * (nvme_qpair_harvest) and fails the admin queue's commands, keeping the
 * other I/O commands as `io_mode` says.  After this no buffer is the
 * device's. */
static int nvme_stop_and_reclaim(struct nvme_ctrl *ctrl, int result, enum nvme_reclaim io_mode)
{
    nvme_queues_quiesce(ctrl);
    int rc = nvme_ctrl_stop(ctrl);
    if (rc == NVME_ERR_GONE) {
        nvme_recovery_gone(ctrl);
        return rc;
    }
    /* Stopped, or cut off by the port's dma_stop: it writes no completion
     * entry any more (rule 1), and those it posted are the commands' own
     * (a write that landed is not reported failed nor replayed). */
    if (nvme_ctrl_stopped(rc)) {
        /* The admin queue's too: an Asynchronous Event Request the
         * controller completed (an NVM Subsystem Reset, say, came before
         * anyone reaped it) reported an event and masked its type until
         * its log page is read; failed back instead, the event is lost and
         * its type stays masked after the reset (§5.2). */
        nvme_qpair_harvest(&ctrl->admin);
        for (uint16_t i = 0; i < ctrl->nr_ioq; i++)
            nvme_qpair_harvest(&ctrl->ioq[i]);
    }
    nvme_reclaim_all(ctrl, result, io_mode);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Deadlines                                                           */
/* ------------------------------------------------------------------ */

struct nvme_abort_req {
    uint16_t sqid, cid;
};
#define NVME_ABORTS_PER_CHECK 8u

/* One queue: resubmits retries whose delay passed, marks commands past
 * their deadline and collects Aborts for them, at most `max_ab` (what the
 * Abort Command Limit leaves; the others wait for a later tick).  Returns
 * true when only a reset can help: an admin command late, or a command
 * still late once its Abort window passed. */
static __attribute__((noinline)) bool nvme_scan_queue(struct nvme_qpair *qp,
                                                      struct nvme_abort_req *ab, unsigned *nab,
                                                      unsigned max_ab, bool paused)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    bool need_reset = false;

    nvme_lock(qp);
    for (uint16_t i = 0; i < qp->nslots && qp->live && qp->outstanding != 0; i++) {
        struct nvme_cmd_slot *s = &qp->slots[i];
        nvme_slot_rebase(ctrl, qp, s);
        if (s->state == NVME_SLOT_RETRY_WAIT && nvme_tick_passed(ctrl, s->expire)) {
            nvme_qpair_resubmit_locked(qp, i);
            continue;
        }
        if (!nvme_slot_late(ctrl, s))
            continue;
        /* Processing paused: its time starts again (nvme_processing_paused),
         * up to the end of the MTFA of the pause that first held it (kept
         * in its stamp, NVME_SLOT_F_HELD).  Not of every pause: a
         * controller whose PP flickers (set 600 ms, clear 100 ms) has a
         * new pause, with a new MTFA, at each sight, and held a late
         * command for ever, neither aborted nor reset (rule 2). */
        uint32_t until = (s->flags & NVME_SLOT_F_HELD) ? s->stamp : ctrl->paused_until;
        if (paused && !nvme_tick_passed(ctrl, until)) {
            nvme_slot_deadline(
                ctrl, s, (s->flags & NVME_SLOT_F_LONG) ? ctrl->long_ticks : qp->timeout_ticks);
            s->stamp = until;
            s->flags |= NVME_SLOT_F_HELD;
            continue;
        }
        if (!(s->flags & NVME_SLOT_F_TIMED_OUT)) {
            nvme_stat_inc(&ctrl->stats.timeouts);
            nvme_log(ctrl, NVME_LOG_ERROR, "q%u: command cid %u (opcode %02x) timed out", qp->qid,
                     s->sqe.cid, s->sqe.opc);
        }
        s->flags |= NVME_SLOT_F_TIMED_OUT;
        if (qp->qid == 0 || (s->flags & NVME_SLOT_F_ABORTED)) {
            need_reset = true;
            continue;
        }
        if (*nab >= max_ab)
            continue; /* ACL reached (§5.1): its Abort goes at a later tick */
        s->flags |= NVME_SLOT_F_ABORTED;
        nvme_slot_deadline(ctrl, s, ctrl->abort_ticks);
        ab[*nab].sqid = qp->qid;
        ab[*nab].cid = s->sqe.cid;
        (*nab)++;
    }
    /* Parked past a shrunk queue's depth, waiting for a slot
     * (nvme_qpair_set_entries): not in the controller, nothing to abort;
     * one past its deadline fails (rule 2), marked here and failed once
     * the tick let go of ctrl->checking (nvme_fail_parked): its callback
     * may make a blocking call, whose wait must be able to tick. */
    for (uint16_t i = qp->nslots; i < qp->nslots_alloc && qp->parked != 0 && qp->live; i++) {
        struct nvme_cmd_slot *s = &qp->slots[i];
        if (s->state == NVME_SLOT_REPLAY)
            nvme_slot_rebase(ctrl, qp, s);
        if (s->state != NVME_SLOT_REPLAY || !nvme_tick_passed(ctrl, s->expire))
            continue;
        if (paused) {
            nvme_slot_deadline(ctrl, s, qp->timeout_ticks);
            continue;
        }
        if (s->flags & NVME_SLOT_F_TIMED_OUT)
            continue;
        s->flags |= NVME_SLOT_F_TIMED_OUT;
        nvme_stat_inc(&ctrl->stats.timeouts);
        nvme_log(ctrl, NVME_LOG_ERROR, "q%u: command (opcode %02x) timed out waiting for a slot",
                 qp->qid, s->sqe.opc);
    }
    if (qp->live)
        nvme_qpair_ring_locked(qp);
    nvme_unlock(qp);
    return need_reset;
}

/* A command of this I/O queue is past its deadline at the tick about to
 * begin (the current one plus `n`, what the advance will add, a slot
 * stamped with the current tick counted from the advance as
 * nvme_slot_rebase counts it) and not yet marked, or at its Abort
 * window's end (Linux's nvme_timeout polls before it resets for one). */
static __attribute__((noinline)) bool nvme_queue_late(struct nvme_qpair *qp, uint32_t n)
{
    const struct nvme_ctrl *ctrl = qp->ctrl;
    uint32_t tick = NVME_READ_ONCE(ctrl->tick);
    bool late = false;
    nvme_lock(qp);
    for (uint16_t i = 0; i < qp->nslots && qp->outstanding != 0 && !late; i++) {
        const struct nvme_cmd_slot *s = &qp->slots[i];
        uint32_t expire = s->expire;
        if (s->stamp == tick || s->expire - tick == nvme_slot_span(ctrl, qp, s))
            expire += n - 1u; /* as nvme_slot_rebase will count it */
        late = s->state == NVME_SLOT_ACTIVE && !(s->flags & NVME_SLOT_F_NO_TIMEOUT) &&
               (int32_t)(tick + n - expire) >= 0 &&
               (s->flags & (NVME_SLOT_F_TIMED_OUT | NVME_SLOT_F_ABORTED)) != NVME_SLOT_F_TIMED_OUT;
    }
    nvme_unlock(qp);
    return late;
}

/* Before a tick's checks, and without ctrl->checking: a late command's
 * completion already in its I/O queue (an interrupt lost, or a queue
 * nobody polled) is reaped here, as Linux's nvme_timeout polls first.
 * Its callback may make a blocking call, whose wait must be able to tick
 * (rule 2).  This is what any poller of an I/O queue does, safe beside a
 * reset (the queue is not live then).  The admin queue is not: a reset
 * rebuilds its ring while it stays live, so the tick reaps it in its
 * checks, under the flag and, as every reap, the queue's lock, which the
 * rebuild takes too (nvme_qpair_reset_rings); its callbacks are the
 * core's: Abort, AER, none blocking. */
static void nvme_recovery_reap_late(struct nvme_ctrl *ctrl, uint64_t now)
{
    uint32_t ahead = nvme_ticks_due(ctrl, now);
    for (uint16_t i = 1; i <= nvme_io_queue_count(ctrl) && ahead != 0; i++) {
        struct nvme_qpair *qp = nvme_ctrl_qpair(ctrl, i);
        if (qp == NULL) /* a reset on another CPU has fewer queues now */
            break;
        if (nvme_queue_late(qp, ahead)) {
            int n = nvme_qpair_process(qp, 0);
            if (n > 0)
                nvme_log(ctrl, NVME_LOG_WARN,
                         "q%u: %d completion(s) found at a deadline (interrupt lost?)", qp->qid, n);
        }
    }
}

/* Abort's DW0 bit 0: 0 = the command was aborted (it then completes
 * with Command Abort Requested and is retried), 1 = it was not (§5.1). */
static void nvme_abort_done(void *arg, int result, uint32_t dw0)
{
    struct nvme_ctrl *ctrl = arg;
    __atomic_fetch_sub(&ctrl->aborts_outstanding, 1u, __ATOMIC_RELAXED);
    if (result == NVME_OK && !(dw0 & 1u))
        nvme_stat_inc(&ctrl->stats.aborts_done);
}

/* Processing paused (CSTS.PP, §3.1.6; valid with CSTS.RDY), as during a
 * firmware activation without reset (Firmware Commit CA 011b, §5.11, or
 * the Firmware Activation Starting notice, §5.2.1): a command late then
 * waits, its deadline started again, rather than being aborted, for up to
 * MTFA (Identify Controller bytes 271:270, 100 ms units; 0: the admin
 * timeout), at most the long timeout, as Linux's nvme_fw_act_work waits.
 * Returns true while a pause holds deadlines; a longer one is a timeout
 * (*reset_why), which resets the controller, as Linux does.  Called from
 * a tick (ctrl->checking held). */
#define NVME_PAUSE_GAP_US 2000000u
static bool nvme_processing_paused(struct nvme_ctrl *ctrl, int *reset_why)
{
    uint32_t csts = NVME_READ_ONCE(ctrl->csts_seen);
    if ((csts & (NVME_CSTS_PP | NVME_CSTS_RDY)) != (NVME_CSTS_PP | NVME_CSTS_RDY)) {
        if (ctrl->paused)
            nvme_log(ctrl, NVME_LOG_INFO, "command processing resumed (CSTS.PP clear)");
        ctrl->paused = false;
        return false;
    }
    /* A tick that saw it last long ago (no call looked at the clock
     * between): maybe a new pause, timed from now.  Long ago is more than
     * two ticks and more than two seconds: a caller that looks at the
     * clock as seldom as README allows (nvme_ctrl_service() once a
     * second) while the controller keeps CSTS.PP set would otherwise
     * start the pause again at every look, and a late command would wait
     * for as long as the pause lasts, forever for a controller stuck so
     * (rule 2). */
    uint64_t at = NVME_READ_ONCE64(ctrl->next_tick_us);
    uint64_t long_ago = 2u * (uint64_t)ctrl->tick_us;
    if (long_ago < NVME_PAUSE_GAP_US)
        long_ago = NVME_PAUSE_GAP_US;
    if (at - ctrl->paused_seen_us > long_ago)
        ctrl->paused = false;
    ctrl->paused_seen_us = at;
    if (!ctrl->paused) {
        uint32_t span = ctrl->mtfa != 0 ? nvme_ms_to_ticks(ctrl, ctrl->mtfa * 100u)
                                        : ctrl->admin.timeout_ticks;
        if (span > ctrl->long_ticks)
            span = ctrl->long_ticks;
        ctrl->paused = true;
        ctrl->paused_until = NVME_READ_ONCE(ctrl->tick) + span;
        nvme_log(ctrl, NVME_LOG_WARN,
                 "command processing paused (CSTS.PP): deadlines wait up to %llu ms (MTFA %u)",
                 (unsigned long long)span * (ctrl->tick_us / 1000u), ctrl->mtfa);
    }
    if (!nvme_tick_passed(ctrl, ctrl->paused_until))
        return true;
    nvme_log(ctrl, NVME_LOG_ERROR, "command processing paused past MTFA: resetting");
    ctrl->paused = false;
    *reset_why = NVME_ERR_TIMEOUT;
    return false;
}

static bool nvme_recovery_claim(struct nvme_ctrl *ctrl);

/* An Abort that found the admin queue full (the queue holds, say,
 * Aborts of this tick and AERs): its command is unmarked and late still,
 * so that a later tick sends it, once a slot was reaped; a reset for want
 * of a slot would end every command in flight for one that is slow. */
static void nvme_abort_unmark(struct nvme_ctrl *ctrl, const struct nvme_abort_req *ab)
{
    struct nvme_qpair *qp = nvme_ctrl_qpair(ctrl, ab->sqid);
    if (qp == NULL) /* a reset on another CPU has fewer queues now */
        return;
    nvme_lock(qp);
    uint16_t i = nvme_cid_index(qp, ab->cid);
    struct nvme_cmd_slot *s = i < qp->nslots ? &qp->slots[i] : NULL;
    if (s != NULL && s->state == NVME_SLOT_ACTIVE && s->cid == ab->cid &&
        (s->flags & NVME_SLOT_F_ABORTED)) {
        s->flags &= (uint8_t)~NVME_SLOT_F_ABORTED;
        nvme_slot_deadline(ctrl, s, 0); /* late at the next tick */
    }
    nvme_unlock(qp);
}

/* One tick's checks (nvme_recovery_check_at): CSTS, deadlines, Aborts;
 * a reset needed is left to the caller, in *reset_why. */
static int nvme_recovery_tick(struct nvme_ctrl *ctrl, int *reset_why)
{
    if (NVME_READ_ONCE(ctrl->dead))
        return NVME_ERR_FATAL;

    /* Admin completions nobody else reaps when polling (Abort, AER); the
     * I/O queues' late ones were reaped first (nvme_recovery_reap_late). */
    (void)nvme_qpair_process(&ctrl->admin, 0);
    /* A fatal or vanished controller completes nothing (§9.5): look even
     * when no command is late, so it is noticed while idle. */
    int rc = nvme_ctrl_check_csts(ctrl);
    if (rc == NVME_ERR_GONE) {
        /* Recovery's, as a reset is: one at a time (nvme_recovery_claim).
         * A reset on another CPU, begun since this tick looked at
         * in_recovery, may enable the controller (dma_resume) and replay
         * its commands between this cut-off and this reclaim, which would
         * then hand back buffers the device holds (lifecycle rule 1).
         * That reset reads the registers itself and decides. */
        if (!nvme_recovery_claim(ctrl))
            return NVME_OK;
        nvme_recovery_gone(ctrl);
        __atomic_store_n(&ctrl->in_recovery, false, __ATOMIC_RELEASE);
        return rc;
    }
    if (rc == NVME_ERR_FATAL) {
        nvme_log(ctrl, NVME_LOG_ERROR, "controller fatal status (CSTS.CFS)");
        *reset_why = NVME_ERR_FATAL;
        return NVME_OK;
    }
    /* An NVM Subsystem Reset another host or the device made (NVMe 2.0
     * §3.7.1: every controller reset, CC.EN 0; CSTS.NSSRO set, 1.4 §3.1.6)
     * completes nothing of ours: reset now, while idle too, rather than at
     * the next command's deadline, as Linux's nvme_should_reset looks at
     * NSSRO.  With RDY 0 as well: a bit stuck at 1 on a controller that
     * runs is no reset storm.  The restart clears NSSRO (write 1,
     * nvme_ctrl_read_caps).  The CSTS read above: no other. */
    if ((NVME_READ_ONCE(ctrl->csts_seen) & (NVME_CSTS_NSSRO | NVME_CSTS_RDY)) == NVME_CSTS_NSSRO) {
        nvme_log(ctrl, NVME_LOG_ERROR, "NVM Subsystem Reset (CSTS.NSSRO)");
        *reset_why = NVME_ERR_ABORTED;
        return NVME_OK;
    }

    bool paused = nvme_processing_paused(ctrl, reset_why);
    if (*reset_why != NVME_OK)
        return NVME_OK;

    struct nvme_abort_req ab[NVME_ABORTS_PER_CHECK];
    unsigned nab = 0;
    unsigned acl = (unsigned)ctrl->acl + 1u; /* ACL is 0-based (§5.15.2.2) */
    unsigned out = __atomic_load_n(&ctrl->aborts_outstanding, __ATOMIC_RELAXED);
    unsigned max_ab = acl > out ? acl - out : 0u;
    if (max_ab > NVME_ABORTS_PER_CHECK)
        max_ab = NVME_ABORTS_PER_CHECK;
    bool need_reset = false;
    for (uint16_t i = 0; i <= nvme_io_queue_count(ctrl); i++) {
        struct nvme_qpair *qp = nvme_ctrl_qpair(ctrl, i);
        if (qp == NULL) /* a reset on another CPU has fewer queues now */
            break;
        if (nvme_scan_queue(qp, ab, &nab, max_ab, paused))
            need_reset = true;
    }
    for (unsigned i = 0; i < nab && !need_reset; i++) {
        struct nvme_sqe sqe;
        nvme_sqe_abort(&sqe, ab[i].sqid, ab[i].cid);
        /* Counted first: its callback may run at once, on any CPU. */
        __atomic_fetch_add(&ctrl->aborts_outstanding, 1u, __ATOMIC_RELAXED);
        /* With the admin deadline, as Linux's: a lost Abort completion
         * would hold its ACL place for good, and a command late after it,
         * with no Abort to be had, would never end (rule 2). */
        int sub = nvme_qpair_submit(&ctrl->admin, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, 0,
                                    nvme_abort_done, ctrl);
        if (sub != NVME_OK) {
            __atomic_fetch_sub(&ctrl->aborts_outstanding, 1u, __ATOMIC_RELAXED);
            if (sub != NVME_ERR_BUSY) {
                need_reset = true;
                break;
            }
            for (unsigned j = i; j < nab; j++)
                nvme_abort_unmark(ctrl, &ab[j]);
            break;
        }
        nvme_stat_inc(&ctrl->stats.aborts_sent);
    }
    if (need_reset)
        *reset_why = NVME_ERR_TIMEOUT;
    return NVME_OK;
}

static int nvme_recovery_run(struct nvme_ctrl *ctrl, int why, bool orderly);

/* Fails the commands a tick found past their deadline while waiting for a
 * slot (nvme_scan_queue marked them), without ctrl->checking: their
 * callbacks may make blocking calls (rule 2), as the late completions
 * nvme_recovery_reap_late reaps.  Only on a live queue: a reset sorts
 * them again (nvme_qpair_set_entries), keeping the mark. */
static void nvme_fail_parked(struct nvme_ctrl *ctrl)
{
    for (uint16_t q = 1; q <= nvme_io_queue_count(ctrl); q++) {
        struct nvme_qpair *qp = nvme_ctrl_qpair(ctrl, q);
        if (qp == NULL) /* a reset on another CPU has fewer queues now */
            break;
        if (NVME_READ_ONCE(qp->parked) == 0)
            continue; /* the usual case: no lock taken (looked at again under it) */
        nvme_lock(qp);
        for (uint16_t i = qp->nslots; i < qp->nslots_alloc && qp->parked != 0 && qp->live; i++) {
            const struct nvme_cmd_slot *s = &qp->slots[i];
            if (s->state == NVME_SLOT_REPLAY && (s->flags & NVME_SLOT_F_TIMED_OUT))
                nvme_qpair_complete_slot(qp, i, NVME_ERR_TIMEOUT); /* unlocked meanwhile */
        }
        nvme_unlock(qp);
    }
}

/* At most one CPU runs a tick's checks: two would send an Abort twice
 * and count them wrong, or reset twice. */
static int nvme_recovery_check_at(struct nvme_ctrl *ctrl, uint64_t now)
{
    if (NVME_READ_ONCE(ctrl->gone))
        return NVME_ERR_GONE;
    int rc = NVME_READ_ONCE(ctrl->dead) ? NVME_ERR_FATAL : NVME_OK;
    if (!NVME_READ_ONCE(ctrl->up) || NVME_READ_ONCE(ctrl->in_recovery) ||
        NVME_READ_ONCE(ctrl->stopping) || now < NVME_READ_ONCE64(ctrl->next_tick_us))
        return rc; /* (a torn read on a 32-bit CPU: looked at again next time) */
    /* Callbacks run here, not under the flag below (rule 2). */
    nvme_recovery_reap_late(ctrl, now);
    uint32_t idle = 0;
    if (!__atomic_compare_exchange_n(&ctrl->checking, &idle, 1u, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return rc; /* another CPU has this tick */
    int why = NVME_OK;
    bool ticked = nvme_tick_due(ctrl, now);
    if (ticked)
        rc = nvme_recovery_tick(ctrl, &why);
    /* A reset needed is claimed under the flag (no other CPU's tick can
     * decide it again) and run without it: its own waits tick
     * (nvme_tick_take).  Not claimed: another CPU's reset has it. */
    bool reset = why != NVME_OK && nvme_recovery_claim(ctrl);
    __atomic_store_n(&ctrl->checking, 0u, __ATOMIC_RELEASE);
    /* With a level-triggered INTx line, orderly (the I/O queues deleted
     * first), as Linux's nvme_dev_disable does for every reset of a live
     * controller: a command the controller still completes after CC.EN=0
     * can leave the line asserted, with no CQ left whose head doorbell
     * would lower it (QEMU 7.2 keeps it pending: 40,004 interrupts
     * delivered, 5 claimed, in qemu.x86_64.recovery-throttle's INTx
     * boot).  MSI-X has no level to keep: the quicker CC.EN=0. */
    bool orderly = ctrl->info.irq_is_intx && ctrl->info.irq_vectors != 0;
    if (reset && nvme_recovery_run(ctrl, why, orderly) != NVME_OK)
        rc = NVME_READ_ONCE(ctrl->gone) ? NVME_ERR_GONE : NVME_ERR_FATAL;
    if (ticked)
        nvme_fail_parked(ctrl);
    return rc;
}

int nvme_recovery_check(struct nvme_ctrl *ctrl)
{
    return nvme_recovery_check_at(ctrl, nvme_now_us(ctrl));
}

/* ------------------------------------------------------------------ */
/* Waiting                                                             */
/* ------------------------------------------------------------------ */

/* Bring-up, teardown and recovery itself cannot recurse into a reset: a
 * late command there stops the controller, and the caller sees the
 * error.  Returns true when the queue was reclaimed. */
static __attribute__((noinline)) bool nvme_wait_raw_check(struct nvme_qpair *qp)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    int rc = nvme_ctrl_check_csts(ctrl);
    if (rc == NVME_ERR_GONE) {
        nvme_recovery_gone(ctrl);
        return true;
    }
    bool late = rc == NVME_ERR_FATAL;
    nvme_lock(qp);
    for (uint16_t i = 0; i < qp->nslots; i++) {
        struct nvme_cmd_slot *s = &qp->slots[i];
        nvme_slot_rebase(ctrl, qp, s);
        if (!late && s->state == NVME_SLOT_RETRY_WAIT && qp->live &&
            nvme_tick_passed(ctrl, s->expire)) {
            nvme_qpair_resubmit_locked(qp, i); /* its Command Retry Delay passed */
        } else if (nvme_slot_late(ctrl, s)) {
            /* Each one counted, as a tick's check counts them
             * (nvme_scan_queue). */
            if (!(s->flags & NVME_SLOT_F_TIMED_OUT))
                nvme_stat_inc(&ctrl->stats.timeouts);
            s->flags |= NVME_SLOT_F_TIMED_OUT;
            late = true;
        }
    }
    if (qp->live)
        nvme_qpair_ring_locked(qp);
    nvme_unlock(qp);
    if (!late)
        return false;
    nvme_log(ctrl, NVME_LOG_ERROR, "q%u: %s while %s", qp->qid,
             rc == NVME_ERR_FATAL ? "fatal status" : "command timed out",
             NVME_READ_ONCE(ctrl->in_recovery) ? "recovering"
             : NVME_READ_ONCE(ctrl->up)        ? "shutting down"
                                               : "starting");
    /* Teardown (nvme_ctrl_fini) of a controller that still runs: the
     * shutdown notification first, as Linux's nvme_timeout does for a
     * command late while the controller is deleted (nvme_dev_disable with
     * shutdown): the notification is what has the controller commit its
     * volatile write cache before power goes (§7.6.2), CC.EN=0 is only a
     * reset, and fini will not get to its own shutdown now. */
    if (rc == NVME_OK && NVME_READ_ONCE(ctrl->stopping) && NVME_READ_ONCE(ctrl->up) &&
        !NVME_READ_ONCE(ctrl->in_recovery))
        (void)nvme_ctrl_shutdown(ctrl);
    /* Inside this CPU's reset (an orderly one deleting its queues, or a
     * restart): the I/O in flight is that reset's to replay (rule 4), not
     * failed for an admin command's deadline.  Elsewhere (bring-up,
     * teardown) nothing is replayed. */
    (void)nvme_stop_and_reclaim(ctrl, rc == NVME_ERR_FATAL ? rc : NVME_ERR_TIMEOUT,
                                NVME_READ_ONCE(ctrl->in_recovery) ? NVME_RECLAIM_REPLAY
                                                                  : NVME_RECLAIM_KEEP_REPLAY);
    return true;
}

/* A reset runs on another CPU (known only with the OSAL's cpu_id), from
 * one look at in_recovery (`resetting`): a reset that ends between two
 * looks would pass for this CPU's own (as in nvme_reset_waited). */
static bool nvme_other_cpu_resets(struct nvme_ctrl *ctrl, bool resetting)
{
    return resetting && ctrl->osal.cpu_id != NULL &&
           NVME_READ_ONCE(ctrl->recovery_cpu) != ctrl->osal.cpu_id(ctrl->osal.ctx);
}

/* Passes of a polled wait's first millisecond that may find the clock
 * where it was before nvme_wait sleeps a microsecond per pass in that
 * millisecond: a clock that moves only when slept (against PORTING.md 7,
 * which asks for one that runs by itself) would otherwise never reach the
 * deadline (rule 2). */
#define NVME_WAIT_STILL_PASSES 256u

int nvme_wait(struct nvme_qpair *qp, struct nvme_waiter *w)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    uint64_t start = 0, last = 0;
    unsigned still = 0;

    for (;;) {
        (void)nvme_qpair_process(qp, 0);
        if (nvme_waiter_pending(w) == 0)
            break;
        uint64_t now = nvme_now_us(ctrl);
        bool resetting = __atomic_load_n(&ctrl->in_recovery, __ATOMIC_ACQUIRE);
        if (!NVME_READ_ONCE(ctrl->up) || resetting || NVME_READ_ONCE(ctrl->stopping)) {
            /* Another CPU's reset replays or fails this command: only wait
             * (a check here would stop the controller under that reset, or
             * after it, with no restart to follow). */
            if (!nvme_other_cpu_resets(ctrl, resetting) && nvme_tick_take(ctrl, now) &&
                nvme_wait_raw_check(qp))
                continue;
        } else {
            (void)nvme_recovery_check_at(ctrl, now);
            if (nvme_waiter_pending(w) == 0)
                break;
        }
        /* Lifecycle rule 2.  With interrupts and wait(), the handler reaps
         * and wake() ends the wait.  Otherwise poll: without pause for the
         * first millisecond (the latency of nearly every command), then
         * pausing a sixteenth of the time already waited (at most 1 ms),
         * so a completion is seen within about 6% of its latency and a
         * long command does not spin the CPU. */
        if (NVME_READ_ONCE(qp->irq) && ctrl->osal.wait != NULL) {
            ctrl->osal.wait(ctrl->osal.ctx, NVME_WAIT_SLICE_US);
            if (nvme_waiter_pending(w) == 0)
                break; /* the handler reaped it: no need to look at the queue */
            continue;
        }
        if (start == 0)
            start = now;
        uint64_t waited = now - start;
        if (still < NVME_WAIT_STILL_PASSES) /* once so, for the rest of the wait */
            still = now == last ? still + 1u : 0u;
        last = now;
        if (waited >= NVME_WAIT_SLICE_US)
            ctrl->osal.sleep_us(ctrl->osal.ctx, waited / 16u > NVME_WAIT_SLICE_US
                                                    ? NVME_WAIT_SLICE_US
                                                    : (uint32_t)(waited / 16u));
        else if (still >= NVME_WAIT_STILL_PASSES)
            ctrl->osal.sleep_us(ctrl->osal.ctx, 1u);
    }
    return w->result;
}

static int nvme_exec_once(struct nvme_qpair *qp, uint32_t epoch, const struct nvme_sqe *sqe,
                          void *buf, uint32_t len, uint32_t md_len, enum nvme_dma_dir dir,
                          unsigned flags, uint32_t *dw0)
{
    struct nvme_waiter w = {qp->ctrl, 1, 0, 0, md_len};
    int rc = nvme_qpair_submit_epoch(qp, epoch, sqe, buf, len, dir, flags, nvme_waiter_cb, &w);
    /* Namespaces changed since the checks: no waiting for a slot. */
    for (unsigned spent = 0, busy = 0;
         nvme_reset_waited(qp->ctrl, &rc, &spent) ||
         ((epoch == NVME_NS_EPOCH_ANY || !nvme_ns_epoch_moved(qp->ctrl, epoch)) &&
          nvme_busy_waited(qp, &rc, &busy));)
        rc = nvme_qpair_submit_epoch(qp, epoch, sqe, buf, len, dir, flags, nvme_waiter_cb, &w);
    if (rc != NVME_OK)
        return rc;
    rc = nvme_wait(qp, &w);
    if (dw0 != NULL)
        *dw0 = w.dw0;
    return rc;
}

/* Again on the calling CPU's queue when a reset dropped the queue of a
 * command to replay (nvme_qpair_dropped), except a zoned write (Write
 * Zeroes, Copy: NO_RETRY on an I/O queue, nvm_cmds.c nvm_flags): whether
 * it moved the write pointer is not known, as for a zoned Write (io.c
 * nvme_rw_requeue), so it fails NVME_ERR_ABORTED. */
static int nvme_exec_run(struct nvme_qpair *qp, uint32_t epoch, const struct nvme_sqe *sqe,
                         void *buf, uint32_t len, uint32_t md_len, enum nvme_dma_dir dir,
                         unsigned flags, uint32_t *dw0)
{
    int rc = nvme_exec_once(qp, epoch, sqe, buf, len, md_len, dir, flags, dw0);
    for (unsigned n = 0;
         rc == NVME_ERR_REQUEUE && n < NVME_REQUEUES && !(flags & NVME_CMD_NO_RETRY); n++) {
        qp = nvme_io_qpair_get(qp->ctrl, NVME_QID_CPU);
        if (qp == NULL)
            break;
        rc = nvme_exec_once(qp, epoch, sqe, buf, len, md_len, dir, flags, dw0);
    }
    return rc == NVME_ERR_REQUEUE ? NVME_ERR_ABORTED : rc;
}

int nvme_exec_epoch(struct nvme_qpair *qp, uint32_t epoch, const struct nvme_sqe *sqe, void *buf,
                    uint32_t len, enum nvme_dma_dir dir, unsigned flags, uint32_t *dw0)
{
    return nvme_exec_run(qp, epoch, sqe, buf, len, 0, dir, flags, dw0);
}

int nvme_exec_md(struct nvme_qpair *qp, uint32_t epoch, const struct nvme_sqe *sqe, void *buf,
                 uint32_t len, uint32_t md_len, enum nvme_dma_dir dir, unsigned flags)
{
    return nvme_exec_run(qp, epoch, sqe, buf, len, md_len, dir, flags, NULL);
}

int nvme_exec(struct nvme_qpair *qp, const struct nvme_sqe *sqe, void *buf, uint32_t len,
              enum nvme_dma_dir dir, unsigned flags, uint32_t *dw0)
{
    return nvme_exec_epoch(qp, NVME_NS_EPOCH_ANY, sqe, buf, len, dir, flags, dw0);
}

/* Runs a command on `qp` whose data lands in a DMA buffer of the core,
 * copied to/from `buf`.  The buffer is whole pages, all of them given to
 * the device: a command that moves more than `len` (a passthrough whose
 * length is short for what it asks) writes into the rest of the bounce,
 * never past it. */
int nvme_exec_bounce(struct nvme_qpair *qp, uint32_t epoch, struct nvme_sqe *sqe, void *buf,
                     uint32_t len, enum nvme_dma_dir dir, unsigned flags, uint32_t *dw0)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    const struct nvme_osal *o = &ctrl->osal;
    uint64_t bus;
    void *dma = NULL;
    uint32_t whole = 0;

    if (len != 0) {
        if (buf == NULL || len > NVME_MAX_XFER_BYTES)
            return NVME_ERR_INVAL;
        whole = (len + ctrl->page_size - 1u) & ~(ctrl->page_size - 1u);
        dma = o->dma_alloc(o->ctx, whole, ctrl->page_size, &bus);
        if (dma == NULL)
            return NVME_ERR_NOMEM;
        nvme_memzero(dma, whole);
        if (dir & NVME_DMA_TO_DEVICE)
            nvme_memcpy(dma, buf, len);
        /* Clean what the CPU just wrote before the device reads it or
         * writes over it: a dirty line evicted later would land on the
         * device's data (nvme_osal.h, non-coherent DMA rules 2 and 3). */
        nvme_dma_sync(ctrl, dma, whole, NVME_DMA_TO_DEVICE);
    }
    /* The bounce buffer is core memory: it is mapped like a caller's, so
     * ports with an IOMMU see every device access announced.  It is freed
     * only once the command completed or the controller stopped. */
    int rc = nvme_exec_epoch(qp, epoch, sqe, dma, whole, dir, flags, dw0);
    if (dma != NULL) {
        if (rc == NVME_OK && (dir & NVME_DMA_FROM_DEVICE)) {
            /* Invalidate once completed, before the CPU reads the data (rule 4). */
            nvme_dma_sync(ctrl, dma, whole, NVME_DMA_FROM_DEVICE);
            nvme_memcpy(buf, dma, len);
        }
        o->dma_free(o->ctx, dma, whole);
    }
    return rc;
}

/* Identify (§5.15): CDW10 CNS[7:0], CNTID[31:16]; CDW11 CSI[31:24] (NVMe
 * 2.0); always 4096 bytes. */
int nvme_identify_dw(struct nvme_ctrl *ctrl, uint32_t cdw10, uint32_t nsid, uint32_t cdw11,
                     void *buf)
{
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_ADMIN_IDENTIFY, nsid);
    sqe.cdw10 = cdw10;
    sqe.cdw11 = cdw11;
    return nvme_exec_bounce(&ctrl->admin, NVME_NS_EPOCH_ANY, &sqe, buf, NVME_IDENTIFY_DATA_SIZE,
                            NVME_DMA_FROM_DEVICE, 0, NULL);
}

void *nvme_identify_page(struct nvme_ctrl *ctrl, uint32_t cdw10, uint32_t nsid, uint32_t cdw11,
                         int *rc)
{
    void *page = ctrl->osal.mem_alloc(ctrl->osal.ctx, NVME_IDENTIFY_DATA_SIZE);
    *rc = page == NULL ? NVME_ERR_NOMEM : nvme_identify_dw(ctrl, cdw10, nsid, cdw11, page);
    return page;
}

void nvme_identify_page_free(struct nvme_ctrl *ctrl, void *page)
{
    if (page != NULL)
        ctrl->osal.mem_free(ctrl->osal.ctx, page, NVME_IDENTIFY_DATA_SIZE);
}

/* ------------------------------------------------------------------ */
/* Queues and features: bring-up and every restart                     */
/* ------------------------------------------------------------------ */

/* An admin command without data, waited for. */
static int nvme_admin_run(struct nvme_ctrl *ctrl, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    return nvme_exec(&ctrl->admin, sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, 0, dw0);
}

/* Get/Set Features (§5.13, §5.21): FID in CDW10[7:0].  Public (nvme.h), and
 * what bring-up and every restart set features with. */
static __attribute__((noinline)) int nvme_features(struct nvme_ctrl *ctrl, uint8_t opc, uint8_t fid,
                                                   uint32_t cdw11, uint32_t *dw0)
{
    struct nvme_sqe sqe;
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    /* No buffer here: a feature with a data structure (§5.21.1) would
     * have the controller move it through PRP1 = 0 (nvme_get_feature and
     * nvme_set_feature take one; the Host Memory Buffer is the core's).
     * So would a vendor-specific one (C0h-FFh, NVMe 2.0 Figure 316) whose
     * structure only its vendor knows: those go through nvme_get_feature/
     * nvme_set_feature too, which give it a page of the core's. */
    if (nvme_feat_data_bytes(fid) != 0 || fid >= NVME_FEAT_VENDOR_FIRST) {
        nvme_log(ctrl, NVME_LOG_ERROR,
                 "feature %02xh has a data structure: use nvme_get_feature/"
                 "nvme_set_feature",
                 fid);
        return NVME_ERR_INVAL;
    }
    if (opc == NVME_ADMIN_SET_FEATURES && nvme_feat_set_refused_kato(ctrl, fid, cdw11))
        return NVME_ERR_INVAL;
    nvme_sqe_init(&sqe, opc, 0);
    sqe.cdw10 = fid;
    sqe.cdw11 = cdw11;
    return nvme_admin_run(ctrl, &sqe, dw0);
}

int nvme_get_features(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11, uint32_t *dw0)
{
    return nvme_features(ctrl, NVME_ADMIN_GET_FEATURES, fid, cdw11, dw0);
}

int nvme_set_features(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11, uint32_t *dw0)
{
    return nvme_features(ctrl, NVME_ADMIN_SET_FEATURES, fid, cdw11, dw0);
}

/* Number of Queues (§5.21.1.7): NSQR/NCQR 0-based in CDW11; the
 * controller answers NSQA/NCQA (0-based) in DW0, maybe fewer or more. */
int nvme_set_num_queues(struct nvme_ctrl *ctrl, uint16_t want, uint16_t *granted)
{
    uint32_t n = (uint32_t)want - 1u, dw0 = 0;
    int rc = nvme_set_features(ctrl, NVME_FEAT_NUM_QUEUES, n | (n << 16), &dw0);
    if (rc != NVME_OK)
        return rc;
    uint32_t nsqa = (dw0 & 0xffffu) + 1u, ncqa = (dw0 >> 16) + 1u;
    uint32_t g = nsqa < ncqa ? nsqa : ncqa;
    *granted = (uint16_t)(g < want ? g : want);
    NVME_TRACE(ctrl, NVME_TRACE_INIT, "number of queues: asked %u, NSQA %u NCQA %u", want, nsqa,
               ncqa);
    return NVME_OK;
}

/* The shadow doorbell and EventIdx buffers, page aligned, `bytes` each
 * (0: freed), with the size they were had with. */
int nvme_dbbuf_resize(struct nvme_ctrl *ctrl, uint32_t bytes)
{
    const struct nvme_osal *o = &ctrl->osal;
    if (ctrl->dbbuf_db != NULL)
        o->dma_free(o->ctx, ctrl->dbbuf_db, ctrl->dbbuf_bytes);
    if (ctrl->dbbuf_ei != NULL)
        o->dma_free(o->ctx, ctrl->dbbuf_ei, ctrl->dbbuf_bytes);
    ctrl->dbbuf_db = ctrl->dbbuf_ei = NULL;
    ctrl->dbbuf_bytes = bytes;
    if (bytes == 0)
        return NVME_OK;
    ctrl->dbbuf_db = o->dma_alloc(o->ctx, bytes, ctrl->page_size, &ctrl->dbbuf_db_bus);
    ctrl->dbbuf_ei = o->dma_alloc(o->ctx, bytes, ctrl->page_size, &ctrl->dbbuf_ei_bus);
    if (ctrl->dbbuf_db == NULL || ctrl->dbbuf_ei == NULL ||
        ((ctrl->dbbuf_db_bus | ctrl->dbbuf_ei_bus) & (ctrl->page_size - 1u)) != 0) {
        (void)nvme_dbbuf_resize(ctrl, 0);
        return NVME_ERR_NOMEM;
    }
    return NVME_OK;
}

/* Puts a queue in service: its shadow doorbells first, when the
 * controller took the buffer, then live, under one hold of its lock.  A
 * controller with shadow doorbells reads a queue's tail from its shadow
 * entry from the queue's creation on (QEMU does), so a submission another
 * CPU made on a live queue before its shadow was set would sit in the ring
 * unseen until the next doorbell on that queue. */
static void nvme_qpair_start(struct nvme_ctrl *ctrl, struct nvme_qpair *qp)
{
    uint32_t stride = ctrl->info.doorbell_stride / 4u; /* in dwords */
    nvme_lock(qp);
    if (ctrl->info.shadow_doorbells && 2u * (qp->qid + 1u) * stride <= ctrl->dbbuf_bytes / 4u) {
        qp->sdb_sq = ctrl->dbbuf_db + 2u * qp->qid * stride;
        qp->sdb_cq = ctrl->dbbuf_db + (2u * qp->qid + 1u) * stride;
        qp->ei_sq = ctrl->dbbuf_ei + 2u * qp->qid * stride;
        qp->ei_cq = ctrl->dbbuf_ei + (2u * qp->qid + 1u) * stride;
        *qp->sdb_sq = qp->sq_tail_rung;
        *qp->sdb_cq = qp->cq_head_rung;
        nvme_dma_sync(ctrl, (void *)(uintptr_t)qp->sdb_sq, 8u * stride, NVME_DMA_TO_DEVICE);
    }
    if (qp->qid != 0) /* the admin queue is live from CC.EN on (regs.c) */
        NVME_WRITE_ONCE(qp->live, true);
    nvme_unlock(qp);
}

/* Doorbell Buffer Config (§5.7): PRP1 the shadow doorbells, PRP2 the
 * EventIdx buffer, both dbbuf_bytes; then every queue keeps its shadow
 * entries current (SQ tail at 2*qid, CQ head at 2*qid+1, in doorbell
 * strides).  A controller that refuses it keeps plain doorbells. */
static void nvme_dbbuf_config(struct nvme_ctrl *ctrl)
{
    struct nvme_sqe sqe;
    ctrl->info.shadow_doorbells = false;
    /* OACS bit 8 as the firmware running now reports it: one a reset
     * activated may no longer have the command, or may have it now. */
    if (ctrl->opts.no_shadow_doorbells || !(ctrl->info.oacs & NVME_OACS_DBBUF))
        return;
    /* The controller finds queue y's entries at 2y and 2y + 1 strides into
     * each buffer, for every queue: the command names no size (QEMU
     * indexes them so; Linux sizes the buffers for all its queues).  Whole
     * pages for the I/O queues there are, at the CAP.DSTRD now in force
     * (a reset may change it); a controller stopped (bring-up, or a reset
     * that ended the previous configuration, §7.3.2) no longer uses the
     * old ones.  Without memory that large: plain doorbells until a
     * restart finds it (Linux's nvme_dbbuf_dma_alloc tries at each). */
    uint32_t need = ((uint32_t)ctrl->nr_ioq + 1u) * 2u * ctrl->info.doorbell_stride;
    need = (need + ctrl->page_size - 1u) & ~(ctrl->page_size - 1u);
    if (need > ctrl->dbbuf_bytes && nvme_dbbuf_resize(ctrl, need) != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_WARN, "no memory for %u bytes of shadow doorbells", need);
        return;
    }
    /* The controller wrote EventIdx (and may have read the shadows) before
     * a reset: invalidate, then zero, then clean (nvme_osal.h, rules 3-4). */
    nvme_dma_sync(ctrl, ctrl->dbbuf_ei, ctrl->dbbuf_bytes, NVME_DMA_FROM_DEVICE);
    nvme_memzero(ctrl->dbbuf_db, ctrl->dbbuf_bytes);
    nvme_memzero(ctrl->dbbuf_ei, ctrl->dbbuf_bytes);
    nvme_dma_sync(ctrl, ctrl->dbbuf_db, ctrl->dbbuf_bytes, NVME_DMA_TO_DEVICE);
    nvme_dma_sync(ctrl, ctrl->dbbuf_ei, ctrl->dbbuf_bytes, NVME_DMA_TO_DEVICE);
    nvme_sqe_init(&sqe, NVME_ADMIN_DBBUF_CONFIG, 0);
    sqe.prp1 = ctrl->dbbuf_db_bus;
    sqe.prp2 = ctrl->dbbuf_ei_bus;
    int rc = nvme_admin_run(ctrl, &sqe, NULL);
    if (rc != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_WARN, "shadow doorbells refused: %s", nvme_strerror(rc));
        return;
    }
    ctrl->info.shadow_doorbells = true;
    /* The admin queue's entries now, before any I/O queue is created.  A
     * controller may write them: QEMU stores each existing queue's tail/
     * head there at this command and copies every admin MMIO doorbell
     * into them, then reads the admin tail/head back from them.  On a
     * non-coherent machine every later clean of an I/O queue's entries
     * writes their whole cache line back, the admin entries with it, so
     * the CPU's copy of those must be the values last rung from here on,
     * or the controller reads an old admin CQ head (a CQ that looks full:
     * a completion withheld) or SQ tail.  Nothing of the CPU's is in the
     * buffer since the clean above: invalidate what the controller wrote,
     * then store (nvme_osal.h, non-coherent rules 3-4). */
    nvme_dma_sync(ctrl, ctrl->dbbuf_db, ctrl->dbbuf_bytes, NVME_DMA_FROM_DEVICE);
    nvme_qpair_start(ctrl, &ctrl->admin);
}

int nvme_hmb_set(struct nvme_ctrl *ctrl, bool on)
{
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_ADMIN_SET_FEATURES, 0);
    sqe.cdw10 = NVME_FEAT_HOST_MEM_BUF;
    if (on) {
        /* Only at a start: the controller holds no buffer now (a reset, or
         * a deadline, which stops it, took it back); its answer gives it. */
        ctrl->hmb_on = false;
        nvme_hmb_list(ctrl);
        sqe.cdw11 = NVME_HMB_EHM | (ctrl->hmb_given ? NVME_HMB_MR : 0u);
        sqe.cdw12 = (uint32_t)(ctrl->hmb_bytes >> ctrl->page_shift); /* HSIZE, pages */
        sqe.cdw13 = (uint32_t)ctrl->hmb_descs_bus;                   /* HMDLLA */
        sqe.cdw14 = (uint32_t)(ctrl->hmb_descs_bus >> 32);           /* HMDLUA */
        sqe.cdw15 = ctrl->hmb_count;                                 /* HMDLEC */
    }
    int rc = nvme_admin_run(ctrl, &sqe, NULL);
    if (rc == NVME_OK) {
        ctrl->hmb_on = on;
        ctrl->hmb_given = ctrl->hmb_given || on;
    }
    ctrl->info.hmb_kib = ctrl->hmb_on ? (uint32_t)(ctrl->hmb_bytes >> 10) : 0u;
    return rc;
}

/* Create I/O CQ (§5.3) then SQ (§5.4). */
static __attribute__((noinline)) int nvme_create_io_qpair(struct nvme_ctrl *ctrl,
                                                          struct nvme_qpair *qp)
{
    struct nvme_sqe sqe;
    nvme_sqe_create_cq(&sqe, qp);
    int rc = nvme_admin_run(ctrl, &sqe, NULL);
    if (rc != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_ERROR, "create I/O CQ %u failed: %s", qp->qid, nvme_strerror(rc));
        return rc;
    }
    nvme_sqe_create_sq(&sqe, qp);
    rc = nvme_admin_run(ctrl, &sqe, NULL);
    if (rc != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_ERROR, "create I/O SQ %u failed: %s", qp->qid, nvme_strerror(rc));
        nvme_sqe_delete_queue(&sqe, NVME_ADMIN_DELETE_CQ, qp->qid);
        (void)nvme_admin_run(ctrl, &sqe, NULL);
        return rc;
    }
    nvme_qpair_start(ctrl, qp);
    NVME_TRACE(ctrl, NVME_TRACE_INIT, "I/O queue %u: %u entries, vector %u%s", qp->qid, qp->entries,
               qp->vector, qp->irq ? "" : " (polled)");
    return NVME_OK;
}

int nvme_delete_io_qpair(struct nvme_ctrl *ctrl, struct nvme_qpair *qp)
{
    struct nvme_sqe sqe;
    nvme_sqe_delete_queue(&sqe, NVME_ADMIN_DELETE_SQ, qp->qid);
    int rc = nvme_admin_run(ctrl, &sqe, NULL);
    /* What the SQ held was aborted into the CQ (§5.6): reaped now, as
     * Linux polls the CQ between the two deletions; then the queue is no
     * longer live, so no reaper (an interrupt handler, another CPU) writes
     * the head doorbell of a CQ Delete I/O CQ removed (an Invalid Doorbell
     * Write, §5.2.1).  Entries posted later are the stop's to harvest. */
    if (NVME_READ_ONCE(qp->live)) {
        (void)nvme_qpair_process(qp, 0);
        nvme_lock(qp);
        NVME_WRITE_ONCE(qp->live, false);
        nvme_unlock(qp);
    }
    nvme_sqe_delete_queue(&sqe, NVME_ADMIN_DELETE_CQ, qp->qid);
    int crc = nvme_admin_run(ctrl, &sqe, NULL);
    return rc != NVME_OK ? rc : crc;
}

void nvme_irq_vectors_setup(struct nvme_ctrl *ctrl, uint16_t queues)
{
    if (ctrl->opts.polling || ctrl->osal.irq_setup == NULL)
        return;
    bool intx = false;
    unsigned nvec = (ctrl->quirks & NVME_QUIRK_SINGLE_VECTOR) ? 1u : (unsigned)queues + 1u;
    int nv = ctrl->osal.irq_setup(ctrl->osal.ctx, nvec, &intx);
    if (nv > 0) {
        NVME_WRITE_ONCE(ctrl->info.irq_is_intx, intx);
        /* Published last: a handler takes vectors below it only. */
        __atomic_store_n(&ctrl->info.irq_vectors, (uint16_t)(nv > queues + 1 ? queues + 1 : nv),
                         __ATOMIC_RELEASE);
    }
}

/* CQ interrupt vector: the admin CQ uses vector 0 (§5.3); I/O queues
 * spread over the rest. */
static uint16_t nvme_qid_vector(const struct nvme_ctrl *ctrl, uint16_t qid)
{
    uint16_t nv = ctrl->info.irq_vectors;
    if (nv <= 1 || qid == 0)
        return 0;
    return (uint16_t)(1u + nvme_mod32((uint32_t)(qid - 1u), (uint32_t)(nv - 1u)));
}

/* The I/O queue pairs bring-up asks for in Number of Queues, and a reset
 * that finds none allocated: the options' count (else one per CPU), one
 * with tags shared with the admin queue, at most as many as the BAR holds
 * doorbells for (CAP.DSTRD, nvme_ctrl_read_caps). */
uint16_t nvme_io_queues_wanted(struct nvme_ctrl *ctrl)
{
    uint16_t want = ctrl->opts.io_queues ? ctrl->opts.io_queues
                    : ctrl->opts.cpus    ? ctrl->opts.cpus
                                         : 1;
    if (ctrl->quirks & NVME_QUIRK_SHARED_TAGS)
        want = 1; /* one tag space shared with the admin queue: one I/O queue */
    /* QIDs up to FFFFh exist (§5.21.1.7), but FFFFh is NVME_QID_CPU, and
     * the loops over the queues count in 16 bits up to io_queues. */
    if (want > NVME_QID_CPU - 1u)
        want = NVME_QID_CPU - 1u;
    if (want > ctrl->db_io_queues_max) {
        nvme_log(ctrl, NVME_LOG_WARN, "CAP.DSTRD %u: doorbells for %u I/O queue(s) in the BAR",
                 ctrl->dstrd, ctrl->db_io_queues_max);
        want = ctrl->db_io_queues_max;
    }
    return want;
}

int nvme_io_queues_alloc(struct nvme_ctrl *ctrl, uint16_t count)
{
    const struct nvme_osal *o = &ctrl->osal;
    uint32_t want = ctrl->opts.io_queue_entries ? ctrl->opts.io_queue_entries
                                                : NVME_DEFAULT_IO_ENTRIES;
    uint16_t entries = (uint16_t)(want < ctrl->info.max_queue_entries
                                      ? want
                                      : ctrl->info.max_queue_entries);
    if (entries > NVME_MAX_IO_ENTRIES) /* 12 index bits: 4 CID generation bits (qpair.c) */
        entries = NVME_MAX_IO_ENTRIES;
    if (ctrl->quirks & NVME_QUIRK_IO_DEPTH_2) /* Linux's nvme_pci_enable: Apple 106b:2001 */
        entries = 2;
    if (entries < ctrl->tag_shared + 2u) /* room above the admin tags */
        entries = (uint16_t)(ctrl->tag_shared + 2u);
    if (entries < 2)
        entries = 2;
    struct nvme_qpair *q = o->mem_alloc(o->ctx, sizeof(*q) * count);
    if (q == NULL)
        return NVME_ERR_NOMEM;
    nvme_memzero(q, sizeof(*q) * count);
    int rc = NVME_OK;
    uint16_t n = 0;
    while (n < count && rc == NVME_OK) {
        rc = nvme_qpair_alloc(ctrl, &q[n], (uint16_t)(n + 1u), entries);
        if (rc != NVME_OK)
            break; /* it freed its own */
        /* Once, before other CPUs can see the queue: their polls read it
         * under the queue lock during a reset (nvme_queue_late). */
        q[n].timeout_ticks = ctrl->io_timeout_ticks;
        rc = nvme_prp_pool_fill(&q[n++]);
        if (rc != NVME_OK)
            nvme_qpair_free(&q[--n]);
    }
    if (rc == NVME_ERR_NOMEM && n != 0) {
        /* Fewer queues than granted rather than none: a controller may
         * have fewer I/O queues created than Number of Queues allocated
         * (NVMe 1.4 §5.21.1.7), and Linux runs with the queues it had
         * memory for (nvme_create_io_queues). */
        nvme_log(ctrl, NVME_LOG_WARN,
                 "no memory for I/O queue %u of %u (%u entries): running with %u", n + 1u, count,
                 entries, n);
        rc = NVME_OK;
    }
    if (rc != NVME_OK) {
        while (n-- > 0)
            nvme_qpair_free(&q[n]);
        o->mem_free(o->ctx, q, sizeof(*q) * count);
        return rc;
    }
    /* The array before its count, the count before info.io_queues
     * (nvme_create_io_queues): a CPU that finds them indexes memory that
     * is all there (nvme_io_queue_count, nvme_in_callback). */
    ctrl->ioq_cap = count;
    ctrl->ioq = q;
    __atomic_store_n(&ctrl->nr_ioq, n, __ATOMIC_RELEASE);
    NVME_WRITE_ONCE(ctrl->info.io_queue_entries, entries); /* (read by nvme_ctrl_get_info) */
    return NVME_OK;
}

static int nvme_create_io_queues(struct nvme_ctrl *ctrl, uint16_t count)
{
    int rc = NVME_OK;
    uint16_t created = 0;

    if (count > ctrl->nr_ioq)
        count = ctrl->nr_ioq;
    for (uint16_t i = 0; i < count; i++) {
        struct nvme_qpair *qp = &ctrl->ioq[i];
        nvme_qpair_reset_rings(qp);
        NVME_WRITE_ONCE(qp->vector, nvme_qid_vector(ctrl, qp->qid)); /* nvme_ctrl_handle_irq */
        NVME_WRITE_ONCE(qp->irq, ctrl->info.irq_vectors > 0);
        rc = nvme_create_io_qpair(ctrl, qp);
        if (rc != NVME_OK)
            break;
        created++;
    }
    /* Release: the queues' memory before their count (nvme_io_queue_count). */
    __atomic_store_n(&ctrl->info.io_queues, created, __ATOMIC_RELEASE);
    if (created != 0 && ctrl->info.admin_only) { /* a reset got them at last */
        nvme_log(ctrl, NVME_LOG_INFO, "%u I/O queue(s) created: I/O possible again", created);
        NVME_WRITE_ONCE(ctrl->info.admin_only, false);
    }
    if (created == 0 && rc > 0) {
        /* Refused with a status: like Linux (nvme_create_io_queues) and
         * like a refused Number of Queues, run with the admin queue. */
        nvme_log(ctrl, NVME_LOG_WARN, "no I/O queue created (%s): admin queue only, no I/O",
                 nvme_strerror(rc));
        NVME_WRITE_ONCE(ctrl->info.admin_only, true);
        return NVME_OK;
    }
    if (created == 0)
        return rc == NVME_OK ? NVME_ERR_UNSUPPORTED : rc;
    if (created < count) /* run with what the controller accepted */
        nvme_log(ctrl, NVME_LOG_WARN, "only %u of %u I/O queues created: %s", created, count,
                 nvme_strerror(rc));
    return NVME_OK;
}

/* Asynchronous Event Configuration (§5.21.1.11): SMART critical
 * warnings (bits 4:0), and the notices OAES says the controller has (bit
 * 8 namespace attribute, bit 9 firmware activation).  At every restart,
 * and when a firmware activated without a reset changed OAES
 * (nvme_refresh_identify). */
static __attribute__((noinline)) void nvme_aec_set(struct nvme_ctrl *ctrl)
{
    if (ctrl->opts.no_async_events)
        return;
    uint32_t aec = 0x1fu | (NVME_READ_ONCE(ctrl->oaes) & ((1u << 8) | (1u << 9)));
    int rc = nvme_set_features(ctrl, NVME_FEAT_ASYNC_EVENT, aec, NULL);
    if (rc != NVME_OK)
        nvme_log(ctrl, NVME_LOG_WARN, "asynchronous event configuration %03x not set: %s", aec,
                 nvme_strerror(rc));
}

/* Timestamp (§5.21.1.14): the port's time of day at every start, as
 * Linux's nvme_configure_timestamp, when the controller has the feature
 * (ONCS bit 6): a reset starts its count from 0 again, and its logs
 * (Error Information, Persistent Event, telemetry) carry this time.  A
 * refusal is logged and the start goes on. */
static void nvme_timestamp_set(struct nvme_ctrl *ctrl)
{
    if (ctrl->osal.wall_clock_ms == NULL ||
        !(NVME_READ_ONCE(ctrl->info.oncs) & NVME_ONCS_TIMESTAMP))
        return;
    uint64_t ms = ctrl->osal.wall_clock_ms(ctrl->osal.ctx);
    if (ms == 0 || (ms >> 48) != 0) /* unknown, or past the field's 48 bits */
        return;
    uint8_t ts[NVME_FEAT_TIMESTAMP_DATA_SIZE]; /* bytes 5:0, then 0 (the host sets no attribute) */
    for (unsigned i = 0; i < sizeof(ts); i++)
        ts[i] = (uint8_t)(i < 6 ? ms >> (8u * i) : 0u);
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_ADMIN_SET_FEATURES, 0);
    sqe.cdw10 = NVME_FEAT_TIMESTAMP;
    int rc = nvme_exec_bounce(&ctrl->admin, NVME_NS_EPOCH_ANY, &sqe, ts, sizeof(ts),
                              NVME_DMA_TO_DEVICE, 0, NULL);
    if (rc != NVME_OK)
        nvme_log(ctrl, NVME_LOG_WARN, "Timestamp not set: %s", nvme_strerror(rc));
}

/* Features a controller reset sets back to their defaults. */
static void nvme_configure_features(struct nvme_ctrl *ctrl)
{
    struct nvme_sqe sqe;

    nvme_aec_set(ctrl);
    nvme_timestamp_set(ctrl);
    /* Interrupt Coalescing (§5.21.1.8): at most THR+1 completions or TIME
     * x 100 us per interrupt; admin completions are never coalesced. */
    if (ctrl->info.irq_vectors > 0 &&
        (ctrl->opts.irq_coalesce_time | ctrl->opts.irq_coalesce_thr)) {
        int rc = nvme_set_features(
            ctrl, NVME_FEAT_IRQ_COALESCE,
            ctrl->opts.irq_coalesce_thr | ((uint32_t)ctrl->opts.irq_coalesce_time << 8), NULL);
        if (rc != NVME_OK)
            nvme_log(ctrl, NVME_LOG_WARN, "interrupt coalescing not set: %s", nvme_strerror(rc));
    }
    /* Host Memory Buffer (§8, Host Memory Buffer): given at every start; a
     * reset took it back (a Controller Level Reset ends its use) with its
     * contents kept. */
    if (ctrl->hmb_count != 0) {
        int rc = nvme_hmb_set(ctrl, true);
        /* A status: not enabled, so freed (hmb.c); but Command Sequence
         * Error says it is enabled already (NVMe 2.0 §5.27.1.10): kept. */
        if (rc > 0 && (rc & 0x7ff) != NVME_SF(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR))
            nvme_hmb_free(ctrl);
        if (rc != NVME_OK)
            nvme_log(ctrl, NVME_LOG_WARN, "Host Memory Buffer refused: %s", nvme_strerror(rc));
        else
            NVME_TRACE(ctrl, NVME_TRACE_INIT, "Host Memory Buffer: %u KiB in %u piece(s)%s",
                       ctrl->info.hmb_kib, ctrl->hmb_count,
                       ctrl->hmb_given && ctrl->up ? ", returned" : "");
    }
    /* Host Behavior Support (FID 16h): ACRE (byte 0), as the controller
     * reports Command Retry Delays only when the host asks, worthwhile
     * when it has some; LBAFEE (byte 2), as a controller with Extended
     * LBA Formats (CTRATT.ELBAS) may report formats past the sixteenth and
     * the 32b/64b Guard ones only when the host enables them (Host Behavior
     * Support, NVMe 2.0 §5.27.1.18).  Linux's nvme_configure_host_options sets both so. */
    uint8_t hbs[3]; /* element by element: clang makes an initializer a memset call */
    hbs[0] = ctrl->crdt[0] != 0 || ctrl->crdt[1] != 0 || ctrl->crdt[2] != 0;
    hbs[1] = 0;
    hbs[2] = (NVME_READ_ONCE(ctrl->info.ctratt) & NVME_CTRATT_ELBAS) != 0;
    /* The 512-byte structure, all zero but these, from a zeroed page of
     * the core's (nvme_exec_bounce).  A controller that refuses it with
     * both set (a status: one that knows no byte 2, say) gets ACRE alone,
     * since one field's refusal fails the whole command. */
    while (hbs[0] != 0 || hbs[2] != 0) {
        nvme_sqe_init(&sqe, NVME_ADMIN_SET_FEATURES, 0);
        sqe.cdw10 = NVME_FEAT_HOST_BEHAVIOR;
        int rc = nvme_exec_bounce(&ctrl->admin, NVME_NS_EPOCH_ANY, &sqe, hbs, sizeof(hbs),
                                  NVME_DMA_TO_DEVICE, 0, NULL);
        if (rc != NVME_OK && rc != NVME_ERR_NOMEM) /* (no memory: nothing sent, as before) */
            nvme_log(ctrl, NVME_LOG_WARN, "Host Behavior Support (ACRE %u, LBAFEE %u) not set: %s",
                     hbs[0], hbs[2], nvme_strerror(rc));
        if (rc <= 0 || hbs[0] == 0 || hbs[2] == 0) /* once: ACRE alone */
            break;
        hbs[2] = 0;
    }
}

int nvme_ctrl_start_queues(struct nvme_ctrl *ctrl, uint16_t count)
{
    nvme_dbbuf_config(ctrl);
    int rc = count == 0 && ctrl->info.admin_only ? NVME_OK : nvme_create_io_queues(ctrl, count);
    if (rc == NVME_OK) {
        nvme_configure_features(ctrl);
        /* A feature's command that timed out stopped the controller
         * (nvme_wait_raw_check): not a start, or the controller would stay
         * stopped with nothing left to notice it. */
        if (!NVME_READ_ONCE(ctrl->ready))
            rc = NVME_READ_ONCE(ctrl->gone) ? NVME_ERR_GONE : NVME_ERR_TIMEOUT;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reset                                                               */
/* ------------------------------------------------------------------ */

/* A queue's doorbells at the CAP.DSTRD now in force (read under the
 * queue's lock). */
static void nvme_qpair_doorbells(struct nvme_ctrl *ctrl, struct nvme_qpair *qp)
{
    nvme_lock(qp);
    qp->sq_tdbl = NVME_SQ_TDBL(qp->qid, ctrl->dstrd);
    qp->cq_hdbl = NVME_CQ_HDBL(qp->qid, ctrl->dstrd);
    nvme_unlock(qp);
}

/* The queues as the CAP read before this enable has them (a firmware the
 * reset activated may change it): doorbells at its DSTRD, as many I/O
 * queues as the BAR then holds doorbells for (*want, to ask for), and at
 * most MQES + 1 entries each, fewer than allocated when MQES shrank (the
 * ring memory stays, larger), the allocated count again when it grew
 * back. */
static int nvme_restart_layout(struct nvme_ctrl *ctrl, uint16_t *want)
{
    nvme_qpair_doorbells(ctrl, &ctrl->admin);
    *want = ctrl->nr_ioq < ctrl->db_io_queues_max ? ctrl->nr_ioq : ctrl->db_io_queues_max;
    for (uint16_t i = 0; i < ctrl->nr_ioq; i++) {
        struct nvme_qpair *qp = &ctrl->ioq[i];
        uint32_t entries = qp->ring_entries;
        if (entries > ctrl->info.max_queue_entries)
            entries = ctrl->info.max_queue_entries;
        if (entries < ctrl->tag_shared + 2u) { /* no room above the admin tags */
            nvme_log(ctrl, NVME_LOG_ERROR, "CAP.MQES %u after reset: too few entries",
                     ctrl->info.max_queue_entries - 1u);
            return NVME_ERR_UNSUPPORTED;
        }
        nvme_qpair_doorbells(ctrl, qp);
        unsigned parked = nvme_qpair_set_entries(qp, (uint16_t)entries);
        if (parked != 0)
            nvme_log(ctrl, NVME_LOG_WARN,
                     "q%u: %u entries after reset (CAP.MQES): %u command(s) wait for a slot",
                     qp->qid, (unsigned)entries, parked);
        if (ctrl->info.io_queue_entries != entries)
            NVME_WRITE_ONCE(ctrl->info.io_queue_entries, (uint16_t)entries);
    }
    if (*want < ctrl->nr_ioq)
        nvme_log(ctrl, NVME_LOG_WARN, "CAP.DSTRD %u after reset: doorbells for %u I/O queue(s)",
                 ctrl->dstrd, *want);
    return NVME_OK;
}

/* The NVM Command Set's own Identify Controller (CNS 06h CSI 00h, NVM CS
 * 1.0 §4.1.5.4), which NVMe 2.0 controllers and those with I/O Command
 * Sets (CC.CSS 110b) answer, as Linux's nvme_init_non_mdts_limits asks it
 * at every start: the Verify, Write Zeroes and Write Uncorrectable Size
 * Limits (VSL, WZSL, WUSL) and the Dataset Management deallocate limits
 * (DMRL, DMRSL, DMSL).  A refusal
 * (a status) at bring-up leaves no limit, as there; again (a restart, an
 * activation), a refusal or a failure to send keeps what was known (caps
 * only: more splitting at worst).  Only caps: an I/O path reading them while a firmware activation
 * changes them builds a command within either firmware's limits, or one
 * the new firmware refuses with a status. */
static int nvme_nvm_limits_read(struct nvme_ctrl *ctrl, void *page, bool again)
{
    const struct nvme_id_ctrl_nvm *id = page;
    uint8_t vsl = 0, wzsl = 0, wusl = 0, dmrl = 0;
    uint32_t dmrsl = 0;
    uint64_t dmsl = 0;
    if ((ctrl->info.vs >= NVME_VS(2, 0, 0) || ctrl->cc_css == NVME_CC_CSS_IOCS) &&
        !(ctrl->quirks & NVME_QUIRK_IDENTIFY_CNS)) {
        int rc = nvme_identify_dw(ctrl, NVME_CNS_CS_CTRL, 0, (uint32_t)NVME_CSI_NVM << 24, page);
        if (rc < 0 || (rc > 0 && again))
            return rc < 0 ? rc : NVME_OK; /* kept: a transient refusal drops no cap */
        if (rc == NVME_OK) {
            vsl = id->vsl;
            wzsl = id->wzsl;
            wusl = id->wusl;
            dmrl = id->dmrl;
            dmrsl = id->dmrsl;
            dmsl = id->dmsl;
        }
    }
    if (!again)
        NVME_TRACE(ctrl, NVME_TRACE_INIT,
                   "NVM limits: VSL %u WZSL %u DMRL %u DMRSL %u DMSL %llu WUSL %u", vsl, wzsl, dmrl,
                   dmrsl, (unsigned long long)dmsl, wusl);
    else if (vsl != ctrl->vsl || wzsl != ctrl->wzsl || wusl != ctrl->wusl || dmrl != ctrl->dmrl ||
             dmrsl != ctrl->dmrsl || dmsl != ctrl->dmsl)
        nvme_log(ctrl, NVME_LOG_INFO,
                 "NVM limits now VSL %u WZSL %u DMRL %u DMRSL %u DMSL %llu WUSL %u", vsl, wzsl,
                 dmrl, dmrsl, (unsigned long long)dmsl, wusl);
    NVME_WRITE_ONCE(ctrl->vsl, vsl);
    NVME_WRITE_ONCE(ctrl->wzsl, wzsl);
    NVME_WRITE_ONCE(ctrl->wusl, wusl);
    NVME_WRITE_ONCE(ctrl->dmrl, dmrl);
    NVME_WRITE_ONCE(ctrl->dmrsl, dmrsl);
    /* Torn for a 32-bit reader during an activation: at worst a command
     * the device refuses (Invalid Field). */
    NVME_WRITE_ONCE64(ctrl->dmsl, dmsl);
    return NVME_OK;
}

int nvme_nvm_limits(struct nvme_ctrl *ctrl)
{
    void *page = ctrl->osal.mem_alloc(ctrl->osal.ctx, NVME_IDENTIFY_DATA_SIZE);
    if (page == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_nvm_limits_read(ctrl, page, false);
    ctrl->osal.mem_free(ctrl->osal.ctx, page, NVME_IDENTIFY_DATA_SIZE);
    return rc;
}

/* MDTS (§5.15.2.2): 2^MDTS units of CAP.MPSMIN pages, 0 no limit;
 * reported exactly (2^(MDTS + 12 + MPSMIN) bytes may pass 2^32, even
 * 2^64), the limit in use (mdts_bytes) at most NVME_MAX_XFER_BYTES.
 * Bring-up (nvme_admin_identify_ctrl; the fields still 0) starts from
 * that; a new firmware's (`again`) is taken when it is lower than the
 * limit in use, as Linux's nvme_init_identify keeps the lower
 * (min_not_zero) at each reset; never raised (the PRP list pools were
 * sized for the limit in use).  Before: commands of the old size, which
 * the controller refuses with Invalid Field. */
void nvme_refresh_mdts(struct nvme_ctrl *ctrl, uint8_t mdts, bool again)
{
    struct nvme_ctrl_info *info = &ctrl->info;
    uint32_t shift = mdts != 0u ? (uint32_t)mdts + 12u + NVME_CAP_MPSMIN(info->cap) : 0u;
    uint64_t reported = shift == 0u ? 0u : shift < 64u ? 1ull << shift : ~0ull;
    if (!again)
        info->mdts_bytes = NVME_MAX_XFER_BYTES;
    if (info->mdts_reported != reported) {
        NVME_WRITE_ONCE(info->mdts_log2, (uint16_t)shift);
        NVME_WRITE_ONCE64(info->mdts_reported, reported);
        if (reported != 0u && reported < info->mdts_bytes) {
            if (again)
                nvme_log(ctrl, NVME_LOG_WARN, "MDTS now %llu bytes (was %u): transfers cut there",
                         (unsigned long long)reported, info->mdts_bytes);
            NVME_WRITE_ONCE(info->mdts_bytes, (uint32_t)reported);
        }
    }
    if (!again)
        ctrl->mdts_bytes_first = info->mdts_bytes; /* nvme_submit_rw's answers */
    uint32_t one = info->mdts_bytes < ctrl->page_size ? info->mdts_bytes : ctrl->page_size;
    NVME_WRITE_ONCE(ctrl->one_mask, one - 1u); /* both powers of two */
}

/* Written only when it changed: calls on other CPUs read these meanwhile,
 * each with one NVME_READ_ONCE. */
#define NVME_TAKE(dst, v)                                                                          \
    do {                                                                                           \
        if ((dst) != (v))                                                                          \
            NVME_WRITE_ONCE(dst, v);                                                               \
    } while (0)

/* The Identify Controller fields (§5.15.2.2) that decide what the core
 * sends and how long it waits, which a new firmware may change: taken at
 * bring-up (nvme_admin_identify_ctrl) and at every restart, as Linux's
 * nvme_init_identify takes OACS, ONCS, VWC, ACL, CRDT, OAES, MTFA... at
 * each start; AERL, the number of Asynchronous Event Requests kept after
 * a reset (nvme_aer_max: more than AERL + 1 are refused with Asynchronous
 * Event Request Limit Exceeded, §5.2, which turns events off).  Not here:
 * the identity, and what bring-up sized memory or queues by (SQES/CQES;
 * the HMB sizes, which nvme_refresh_identify takes for nvme_hmb_refit). */
void nvme_id_ctrl_take(struct nvme_ctrl *ctrl, const struct nvme_id_ctrl *id)
{
    struct nvme_ctrl_info *info = &ctrl->info;
    NVME_TAKE(info->nn, id->nn);
    NVME_TAKE(info->oacs, id->oacs);
    NVME_TAKE(info->oncs, id->oncs);
    NVME_TAKE(info->ctratt, id->ctratt);
    NVME_TAKE(info->vwc, id->vwc);
    NVME_TAKE(info->lpa, id->lpa);
    NVME_TAKE(info->wctemp, id->wctemp);
    NVME_TAKE(info->cctemp, id->cctemp);
    NVME_TAKE(ctrl->crdt[0], id->crdt1);
    NVME_TAKE(ctrl->crdt[1], id->crdt2);
    NVME_TAKE(ctrl->crdt[2], id->crdt3);
    NVME_TAKE(ctrl->acl, id->acl);
    NVME_TAKE(ctrl->aerl, id->aerl); /* (the requests kept after a reset: nvme_aer_max) */
    NVME_TAKE(ctrl->ocfs, id->ocfs);
    NVME_TAKE(ctrl->oaes, id->oaes);
    NVME_TAKE(ctrl->fna, id->fna);
    NVME_TAKE(ctrl->frmw, id->frmw);
    NVME_TAKE(ctrl->mtfa, id->mtfa);
    NVME_TAKE(ctrl->fwug, id->fwug);
    NVME_TAKE(ctrl->sanicap, id->sanicap);
    /* Shutdown deadline: RTD3E (us) in ms, clamped between 5 s and 60 s
     * as Linux does (nvme_init_identify: clamp of rtd3e against the
     * shutdown_timeout parameter, 5 s, and 60 s). */
    NVME_TAKE(ctrl->rtd3e_us, id->rtd3e);
    uint32_t rtd3e_ms = id->rtd3e / 1000u + (id->rtd3e % 1000u != 0);
    NVME_TAKE(info->shutdown_timeout_ms, rtd3e_ms < NVME_SHUTDOWN_TIMEOUT_MS
                                             ? NVME_SHUTDOWN_TIMEOUT_MS
                                         : rtd3e_ms > NVME_SHUTDOWN_MAX_MS ? NVME_SHUTDOWN_MAX_MS
                                                                           : rtd3e_ms);
}

/* (nvme_internal.h; here, below ctrl.c and the restart, which use it.) */
uint16_t nvme_aer_max(const struct nvme_ctrl *ctrl)
{
    uint16_t aers = (uint16_t)(ctrl->aerl + 1u);
    if (aers > NVME_AER_MAX)
        aers = NVME_AER_MAX;
    if (aers > ctrl->info.admin_queue_entries / 4u)
        aers = (uint16_t)(ctrl->info.admin_queue_entries / 4u);
    return ctrl->opts.no_async_events ? 0u : aers;
}

/* Identify Controller again at every restart, as Linux's
 * nvme_init_identify runs at every start, and after a firmware activation
 * without reset (CA 011b, the Firmware Activation Starting notice): the
 * firmware revision (FR); the fields nvme_id_ctrl_take keeps, so that a
 * firmware that drops a command (ONCS, OACS) gets none of it and one that
 * adds a volatile write cache (VWC) is told of the Flushes; ELPE, which
 * bounds nvme_get_error_log (reading past the log is not asked for); the
 * NVM Command Set limits (nvme_nvm_limits_read); and a lower MDTS
 * (nvme_refresh_mdts).  Queues and namespaces have their own paths (the
 * rescan after a reset takes a new NN).  A failure keeps the old values.
 * Here, below admin.c, since every reset path runs it. */
void nvme_refresh_identify(struct nvme_ctrl *ctrl)
{
    int rc;
    struct nvme_id_ctrl *id = nvme_identify_page(ctrl, NVME_CNS_CTRL, 0, 0, &rc);
    if (rc == NVME_OK) {
        struct nvme_ctrl_info *info = &ctrl->info;
        if (id->elpe != ctrl->elpe)
            nvme_log(ctrl, NVME_LOG_INFO, "%u error log entries (ELPE was %u)", id->elpe + 1u,
                     ctrl->elpe);
        NVME_WRITE_ONCE(ctrl->elpe, id->elpe);
        char fr[sizeof(info->firmware)];
        nvme_copy_id_string(fr, id->fr, sizeof(id->fr));
        if (!nvme_streq(fr, info->firmware)) {
            nvme_log(ctrl, NVME_LOG_INFO, "firmware revision %s (was %s)", fr, info->firmware);
            nvme_memcpy(info->firmware, fr, sizeof(fr));
        }
        if (id->oacs != info->oacs || id->oncs != info->oncs || id->vwc != info->vwc)
            nvme_log(ctrl, NVME_LOG_INFO, "OACS %04x ONCS %04x VWC %02x (were %04x %04x %02x)",
                     id->oacs, id->oncs, id->vwc, info->oacs, info->oncs, info->vwc);
        uint32_t oaes_was = ctrl->oaes;
        nvme_id_ctrl_take(ctrl, id);
        /* The Host Memory Buffer's fields (Identify Controller HMPRE,
         * HMMIN, HMMINDS, HMMAXD: Figure 247), which a new firmware
         * may change: the buffer follows at the next restart, once a
         * reset took it back (nvme_hmb_refit), never while the
         * controller may use it (an activation without a reset). */
        if (id->hmpre != ctrl->hmpre || id->hmmin != ctrl->hmmin || id->hmminds != ctrl->hmminds ||
            id->hmmaxd != ctrl->hmmaxd) {
            NVME_WRITE_ONCE(ctrl->hmpre, id->hmpre);
            NVME_WRITE_ONCE(ctrl->hmmin, id->hmmin);
            NVME_WRITE_ONCE(ctrl->hmminds, id->hmminds);
            NVME_WRITE_ONCE(ctrl->hmmaxd, id->hmmaxd);
            NVME_WRITE_ONCE(ctrl->hmb_recheck, true);
        }
        /* A firmware activated without a reset that reports other
         * optional notices (OAES): the configuration follows (a restart
         * sets it anyway, nvme_configure_features). */
        if (((oaes_was ^ ctrl->oaes) & ((1u << 8) | (1u << 9))) != 0 &&
            !NVME_READ_ONCE(ctrl->in_recovery))
            nvme_aec_set(ctrl);
        /* AERL holds from the activation on, without a reset too (§5.2):
         * requests past the new AERL + 1 would be refused with
         * Asynchronous Event Request Limit Exceeded, each refusal one
         * request fewer (aer.c).  A limit that refusals brought to 0
         * stays so (a restart gives it back). */
        uint16_t aers = nvme_aer_max(ctrl);
        NVME_WRITE_ONCE(ctrl->aer_max, aers);
        if (NVME_READ_ONCE(ctrl->aer_limit) != 0)
            NVME_WRITE_ONCE(ctrl->aer_limit, aers);
        /* MDTS before the NVM Command Set's Identify Controller (CNS 06h)
         * reuses the page: its byte 77 is reserved, 0. */
        nvme_refresh_mdts(ctrl, id->mdts, true);
        (void)nvme_nvm_limits_read(ctrl, id, true);
        /* ZASL (ZNS Identify Controller) with them: the next Zone Append
         * asks again (nvme_zns_append), after an activation without a
         * reset too, which no rescan follows. */
        NVME_WRITE_ONCE(ctrl->zasl_bytes, 0u);
    }
    nvme_identify_page_free(ctrl, id);
}

static bool nvme_opc_names_blocks(uint8_t opc);

/* A namespace of held commands as Identify Namespace (CNS 00h) has it
 * after a restart (nvme_replay_ns_check). */
struct nvme_ns_now {
    uint32_t nsid;
    bool known;  /* the Identify answered */
    bool gone;   /* not active now (refused with a status, NSZE 0), unusable, or another */
    bool ext;    /* metadata interleaved with the data (FLBAS bit 4), else separate */
    uint8_t pit; /* protection information type (DPS bits 2:0; 0: none) */
    uint32_t data;
    uint16_t ms; /* bytes of a block, and of its metadata (LBAF MS; 0: none) */
    /* PI format and storage tag size of its format (ELBAF PIF, STS: NVM CS
     * 1.0 Figure 100), when the controller reports them (CTRATT.ELBAS);
     * else 16b Guard, no tag, as ns.c takes it.  pif NVME_NOW_PIF_UNKNOWN:
     * the controller reports them but its answer was lost. */
    uint8_t pif, sts;
    /* A PI layout (nvme_pi_layout) other than the one the held commands
     * were built for, the namespace model's (the rescan that takes the new
     * format comes after the restart), one lost, or no model. */
    bool pi_moved;
    /* The block size they were built for, the model's (0: no model). */
    uint32_t data_was;
};

#define NVME_NOW_PIF_UNKNOWN 0xffu

/* Type, PI format and storage tag size in one key (nvme_replay_pi_changed). */
static uint16_t nvme_pi_layout(uint8_t pit, uint8_t pif, uint8_t sts)
{
    if (pit == 0) /* no PI: PIF and STS mean nothing */
        return 0;
    return (uint16_t)((unsigned)pit | (unsigned)(pif & 3u) << 3 | (unsigned)(sts & 0x7fu) << 5);
}

/* PRINFO bits a held command carries (NVM CS 1.0 Figure 9: CDW12 29:26
 * of Read, Write, Compare, Write Zeroes, Verify; Copy has PRINFOW there
 * and PRINFOR in 15:12, and descriptor format 1h for the 64b Guard in
 * 11:8, §3.2.2), or whether it is built for a PI format in another way. */
static __attribute__((noinline)) bool nvme_cmd_has_pi_fields(const struct nvme_sqe *sqe)
{
    const uint32_t prinfo = 0xfu << 26;
    switch (sqe->opc) {
    case NVME_CMD_READ:
    case NVME_CMD_WRITE:
    case NVME_CMD_COMPARE:
    case NVME_CMD_WRITE_ZEROES:
    case NVME_CMD_VERIFY:
        return (sqe->cdw12 & prinfo) != 0;
    case NVME_CMD_COPY:
        return (sqe->cdw12 & (prinfo | 0xfu << 12 | 0xfu << 8)) != 0;
    default:
        return false;
    }
}

/* Whether a held command's PI fields (its guard check, the reference tag
 * in CDW14 and, for the 64b Guard, CDW3, NVM CS 1.0 §5.2.1.4) were built
 * for a PI layout other than the one its namespace has now: another PI
 * type, another guard (PIF), another storage tag size (STS), or one the
 * controller reports but whose Identify (CNS 05h) was lost.  Sent again,
 * its write would be protected with the wrong guard or tag, or its read
 * checked against them.  (An MS of 16 with PRACT moves no metadata for a
 * 64b Guard PI and 16 bytes for a 16b Guard one: NVM CS 1.0 §5.2.2.) */
static __attribute__((noinline)) bool nvme_replay_pi_changed(const struct nvme_cmd_slot *s,
                                                             const struct nvme_ns_now *n)
{
    return nvme_cmd_has_pi_fields(&s->sqe) && n->pi_moved;
}

/* Metadata bytes of a block a command moves on the namespace as it is
 * now: none without metadata, nor with PRACT on a PI-only format (MS the
 * PI's size: 8 for the 16b Guard, 16 for the 32b and 64b), where the
 * controller inserts and strips the PI and transfers no metadata (NVM CS
 * 1.0 §5.2.2).  An MS of 16 holding a 16b Guard PI does move 16 bytes
 * with PRACT; without the PIF (no ELBAF, or lost), a command with PRACT
 * is one nvme_replay_pi_changed judges. */
static uint32_t nvme_now_md(const struct nvme_ns_now *n, uint32_t cdw12)
{
    uint32_t pi = n->pif == NVME_PIF_16B_GUARD ? 8u : 16u;
    if (n->pif == NVME_NOW_PIF_UNKNOWN)
        pi = n->ms;
    if (n->ms == 0 || ((cdw12 & NVME_RW_PRACT) && n->pit != 0 && n->ms == pi))
        return 0;
    return n->ms;
}

/* Whether a held command would act on other blocks or move another
 * count of bytes than its buffers hold: any command naming blocks
 * (nvme_opc_names_blocks: Write Zeroes, Dataset Management, Copy, Write
 * Uncorrectable, Verify, the zone commands too) built for blocks of
 * another size than the namespace has now, since its LBAs and counts
 * then name other bytes (a Write Zeroes of 8 blocks at LBA 8 built for
 * 512-byte blocks would zero 32 KiB at 32 KiB on 4 KiB ones), as a
 * rescan fails them (nvme_recovery_ns_changed); a Read, Write or Compare
 * of NLB + 1 blocks (CDW12[15:0]) built for another metadata size; or
 * its namespace is gone.  The data buffer holds NLB blocks with their
 * metadata when interleaved; the separate metadata goes through MPTR
 * (NVM CS 1.0 §5.8.3, NLB times MS), whose buffer holds what the command
 * was built to move (nvme_exec_md's md_len, on its waiter): a Format that
 * kept LBADS but changed MS would have the controller move NLB times the
 * new MS through a buffer sized for the old one, past its end, and one
 * that gave a format without metadata some would have it move to MPTR 0
 * (a command built without). */
static bool nvme_replay_stale(const struct nvme_cmd_slot *s, const struct nvme_ns_now *n)
{
    if (n->gone || nvme_replay_pi_changed(s, n) || (n->data_was != 0 && n->data_was != n->data))
        return true;
    uint8_t opc = s->sqe.opc;
    if (opc != NVME_CMD_READ && opc != NVME_CMD_WRITE && opc != NVME_CMD_COMPARE)
        return false;
    uint64_t nlb = (uint64_t)(s->sqe.cdw12 & 0xffffu) + 1u;
    uint32_t md = nvme_now_md(n, s->sqe.cdw12);
    if (s->len != nlb * (n->data + (n->ext ? md : 0u)))
        return true;
    uint32_t held = 0;
    if (s->sqe.mptr != 0) {
        if (s->cb != nvme_waiter_cb) /* only nvme_exec_md's have MPTR set */
            return true;
        held = ((const struct nvme_waiter *)s->arg)->md_len;
        if (held == 0)
            return true;
    }
    return nlb * (n->ext ? 0u : md) != held;
}

/* Namespaces nvme_replay_ns_check asks about at a time (struct
 * nvme_ns_now on the stack: 24 bytes each). */
#define NVME_NS_CHECK_BATCH 8u

/* Places nsid among now[0..*n) (ascending NSIDs, at most
 * NVME_NS_CHECK_BATCH: the largest drops off when full). */
static void nvme_replay_ns_pick(struct nvme_ns_now *now, unsigned *n, uint32_t nsid)
{
    unsigned k = 0; /* its place among the smallest so far */
    while (k < *n && now[k].nsid < nsid)
        k++;
    if ((k < *n && now[k].nsid == nsid) || k == NVME_NS_CHECK_BATCH)
        return;
    if (*n < NVME_NS_CHECK_BATCH)
        ++*n;
    for (unsigned j = *n - 1u; j > k; j--)
        now[j].nsid = now[j - 1u].nsid;
    now[k].nsid = nsid;
}

/* The namespaces above `floor` of the held commands and of the model's
 * usable ones (new I/O goes out on its format: nvme_replay_ns_check), the
 * smallest first, at most NVME_NS_CHECK_BATCH of them, into now[]
 * (ascending NSIDs): one pass over the slots of every I/O queue, one over
 * the table.  Returns how many. */
static unsigned nvme_replay_ns_batch(struct nvme_ctrl *ctrl, uint32_t floor, bool from_0,
                                     struct nvme_ns_now *now)
{
    unsigned n = 0;
    for (uint16_t q = 0; q < ctrl->nr_ioq; q++) {
        struct nvme_qpair *qp = &ctrl->ioq[q];
        nvme_lock(qp);
        for (uint16_t i = 0; i < qp->nslots_alloc; i++) {
            const struct nvme_cmd_slot *s = &qp->slots[i];
            if (s->state == NVME_SLOT_REPLAY && nvme_opc_names_blocks(s->sqe.opc) &&
                (from_0 || s->sqe.nsid > floor))
                nvme_replay_ns_pick(now, &n, s->sqe.nsid);
        }
        nvme_unlock(qp);
    }
    const struct nvme_ns_table *t = nvme_ns_read_begin(ctrl);
    for (unsigned i = 0; t != NULL && i < t->count; i++)
        if (t->ns[i]->nsid > floor && NVME_READ_ONCE(t->ns[i]->status) == NVME_OK)
            nvme_replay_ns_pick(now, &n, t->ns[i]->nsid);
    nvme_ns_read_end(ctrl);
    /* The rest field by field, once the NSIDs are placed: a struct
     * assignment may become a memcpy call (clang -Os on mipsel and
     * riscv32), a compound literal a memset call (gcc -Os, armv7
     * thumb2), which the freestanding core has none of. */
    for (unsigned k = 0; k < n; k++) {
        now[k].known = now[k].gone = now[k].ext = false;
        now[k].pit = now[k].pif = now[k].sts = 0;
        now[k].data = 0;
        now[k].ms = 0;
        now[k].pi_moved = true;
        now[k].data_was = 0;
    }
    return n;
}

/* A namespace of the model another format, identity or none now (or
 * not known): new I/O would go out on the old one until the rescan the
 * restart asks for publishes it (nvme_restarted), so it is refused
 * NVME_ERR_BUSY, as while a Format runs (ns.c nvme_ns_freeze), and calls
 * checked before are not sent (the namespace epoch).  The rescan writes
 * every status. */
static __attribute__((noinline)) void nvme_replay_ns_busy(struct nvme_ctrl *ctrl, uint32_t nsid)
{
    const struct nvme_ns_table *t = nvme_ns_read_begin(ctrl);
    /* (An object stays until nvme_ctrl_fini, ns_all: used after the read.) */
    struct nvme_ns_info *was = t != NULL ? nvme_ns_table_find(t, nsid) : NULL;
    nvme_ns_read_end(ctrl);
    if (was != NULL && NVME_READ_ONCE(was->status) == NVME_OK) {
        nvme_log(ctrl, NVME_LOG_WARN, "namespace %u changed during the reset: busy", nsid);
        NVME_WRITE_ONCE(was->status, NVME_ERR_BUSY);
        __atomic_fetch_add(&ctrl->ns_epoch, 2u, __ATOMIC_RELEASE);
    }
}

/* The PI a namespace's held commands were built for, from the model
 * (ns.c), and the one of its format now: its Extended LBA Format (CNS 05h
 * CSI 00h) where the controller reports them, as ns.c nvme_ns_elbaf
 * asks, on the page CNS 00h was read into.  A refusal or a lost answer
 * leaves the PIF unknown: the commands with PI fields fail rather than
 * go out with a guard the format may not have.  Other NGUID or EUI64 in
 * that CNS 00h than the model's make the namespace gone: another one
 * created under its NSID (§5.15.2.1, Figure 245; ns.c
 * nvme_ns_same_identity), the held commands were the old one's. */
static void nvme_replay_ns_pi(struct nvme_ctrl *ctrl, void *page, unsigned fmt,
                              struct nvme_ns_now *n)
{
    const struct nvme_id_ns *id = page;
    const struct nvme_ns_table *t = nvme_ns_read_begin(ctrl);
    const struct nvme_ns_info *was = t != NULL ? nvme_ns_table_find(t, n->nsid) : NULL;
    bool moved = false;
    uint16_t pi_was = 0xffffu; /* no model: another layout */
    if (was != NULL) {
        pi_was = nvme_pi_layout(NVME_READ_ONCE(was->pi_type), NVME_READ_ONCE(was->pif),
                                NVME_READ_ONCE(was->sts));
        n->data_was = NVME_READ_ONCE(was->lba_size);
        moved = n->data_was != n->data || NVME_READ_ONCE(was->ms) != n->ms ||
                NVME_READ_ONCE(was->md_extended) != (n->ext && n->ms != 0);
        for (unsigned b = 0; b < 16u && !(ctrl->quirks & NVME_QUIRK_BOGUS_NID); b++)
            n->gone |= NVME_READ_ONCE(was->nguid[b]) != id->nguid[b] ||
                       (b < 8u && NVME_READ_ONCE(was->eui64[b]) != id->eui64[b]);
    }
    nvme_ns_read_end(ctrl);
    if ((NVME_READ_ONCE(ctrl->info.ctratt) & NVME_CTRATT_ELBAS) && n->pit != 0 &&
        !(ctrl->quirks & NVME_QUIRK_IDENTIFY_CNS)) {
        int rc = nvme_identify_dw(ctrl, NVME_CNS_CS_NS, n->nsid, (uint32_t)NVME_CSI_NVM << 24,
                                  page);
        if (rc != NVME_OK) { /* said below, or by the commands failed */
            n->pif = NVME_NOW_PIF_UNKNOWN;
        } else {
            uint32_t e = ((const struct nvme_id_ns_nvm *)page)->elbaf[fmt];
            n->pif = (uint8_t)NVME_ELBAF_PIF(e);
            n->sts = (uint8_t)NVME_ELBAF_STS(e);
        }
    }
    n->pi_moved = n->pif == NVME_NOW_PIF_UNKNOWN ||
                  nvme_pi_layout(n->pit, n->pif, n->sts) != pi_was;
    if (was != NULL && (moved || n->gone || n->pi_moved))
        nvme_replay_ns_busy(ctrl, n->nsid);
}

/* Identify Namespace for now[0..n) (nvme_replay_ns_check). */
static void nvme_replay_ns_identify(struct nvme_ctrl *ctrl, struct nvme_id_ns *id,
                                    struct nvme_ns_now *now, unsigned n)
{
    for (unsigned k = 0; k < n && NVME_READ_ONCE(ctrl->ready); k++) {
        int rc = nvme_identify_dw(ctrl, NVME_CNS_NS, now[k].nsid, 0, id);
        if ((rc > 0 && !NVME_SF_DNR((unsigned)rc)) || (rc < 0 && rc != NVME_ERR_NOMEM))
            continue; /* not known: as before (a status without DNR: row 32a;
                       * a timeout: this restart fails, the next replays) */
        unsigned fmt = nvme_flbas_format(id);
        uint8_t lbads = fmt <= nvme_id_ns_last_lbaf(id) ? id->lbaf[fmt].lbads : 0u;
        now[k].known = true;
        /* What ns.c nvme_ns_parse would refuse the namespace for (an
         * inactive NSID reads all zeroes, §5.15.2.1, or is refused
         * Invalid Namespace: deleted or detached by another host), or no
         * memory for the bounce buffer (nothing checked, nothing trusted): gone. */
        now[k].gone = rc != NVME_OK || id->nsze == 0 || id->ncap == 0 || lbads < NVME_LBADS_MIN ||
                      lbads > NVME_LBADS_MAX;
        if (now[k].gone) {
            nvme_replay_ns_busy(ctrl, now[k].nsid);
            continue;
        }
        now[k].data = 1u << lbads;
        now[k].ms = id->lbaf[fmt].ms;
        now[k].ext = (id->flbas & NVME_FLBAS_EXTENDED) != 0;
        now[k].pit = now[k].ms >= 8u ? (uint8_t)NVME_DPS_PI_TYPE(id->dps) : 0u;
        nvme_replay_ns_pi(ctrl, id, fmt, &now[k]);
    }
}

/* Fails the held commands of now[0..n) that nvme_replay_stale finds
 * built for another format (nvme_replay_ns_check). */
static void nvme_replay_ns_fail(struct nvme_ctrl *ctrl, const struct nvme_ns_now *now, unsigned n)
{
    for (uint16_t q = 0; q < ctrl->nr_ioq; q++) {
        struct nvme_qpair *qp = &ctrl->ioq[q];
        nvme_lock(qp);
        for (uint16_t i = 0; i < qp->nslots_alloc; i++) {
            struct nvme_cmd_slot *s = &qp->slots[i];
            if (s->state != NVME_SLOT_REPLAY || !nvme_opc_names_blocks(s->sqe.opc))
                continue;
            unsigned k = 0;
            while (k < n && now[k].nsid != s->sqe.nsid)
                k++;
            if (k == n || !now[k].known || !nvme_replay_stale(s, &now[k]))
                continue;
            nvme_log(ctrl, NVME_LOG_WARN,
                     "q%u: a command (opcode %02x) of namespace %u not sent again: the "
                     "namespace changed during the reset",
                     qp->qid, s->sqe.opc, s->sqe.nsid);
            s->flags &= (uint8_t)~NVME_SLOT_F_REPLAY;
            /* (The queue is not live yet: the slot freed takes no parked
             * command, nvme_qpair_unpark.) */
            nvme_qpair_complete_slot(qp, i, NVME_ERR_ABORTED); /* unlocked meanwhile */
        }
        nvme_unlock(qp);
    }
}

/* Another host may have formatted, deleted or created a namespace again
 * while the controller was reset, and the notice of it (§5.2, Namespace
 * Attribute Changed) is one the reset ended, so no rescan has seen it
 * (nvme_recovery_ns_changed): the I/O commands held for the replay were
 * built for blocks of the old size.  Sent again, a read of 8 blocks of
 * 512 bytes would have the controller write 8 blocks of 4 KiB through
 * its 4 KiB buffer, past its end, and so would a new read until that
 * rescan (the next service call's).  So before the I/O queues run again,
 * Identify Namespace for every namespace of the held commands and every
 * usable one of the model: a command whose data no longer matches its
 * buffer, whose LBAs count blocks of another size, or whose namespace is
 * gone, fails NVME_ERR_ABORTED, as a rescan would have it, and a
 * namespace of another format or identity is NVME_ERR_BUSY until the
 * rescan the restart asks for (nvme_restarted) takes the new one; the
 * others stay usable.
 *
 * Memory: NVME_NS_CHECK_BATCH namespaces on the stack and one Identify
 * page, whatever the count of namespaces: they go in batches of that
 * many, in ascending NSID order (each batch the smallest NSIDs above the
 * last one's), so a batch needs no record of the ones before.  Work:
 * per batch one pass over the slots and one over the table to pick it,
 * its Identify commands (one per namespace, two with PI under
 * CTRATT.ELBAS), one pass to fail; at most ((held commands + namespaces)
 * / NVME_NS_CHECK_BATCH) + 1 batches, each namespace asked once.  Time:
 * the Identify commands' (tens of ms for a thousand namespaces on a drive
 * answering in tens of microseconds); one that times out stops the controller
 * (nvme_wait_raw_check), which ends the check and fails this restart. */
static void nvme_replay_ns_check(struct nvme_ctrl *ctrl)
{
    struct nvme_ns_now now[NVME_NS_CHECK_BATCH];
    struct nvme_id_ns *id = NULL;
    uint32_t floor = 0;
    for (bool from_0 = true; NVME_READ_ONCE(ctrl->ready); from_0 = false) {
        unsigned n = nvme_replay_ns_batch(ctrl, floor, from_0, now);
        if (n == 0)
            break;
        if (id == NULL)
            id = ctrl->osal.mem_alloc(ctrl->osal.ctx, NVME_IDENTIFY_DATA_SIZE);
        if (id != NULL) {
            nvme_replay_ns_identify(ctrl, id, now, n);
        } else {
            /* No page: nothing can be checked, so nothing is taken on
             * trust: every namespace busy until the rescan, and the held
             * commands naming blocks fail, as for a namespace gone. */
            for (unsigned k = 0; k < n; k++) {
                now[k].known = now[k].gone = true;
                nvme_replay_ns_busy(ctrl, now[k].nsid);
            }
        }
        nvme_replay_ns_fail(ctrl, now, n);
        floor = now[n - 1u].nsid;
        if (floor == 0xffffffffu)
            break;
    }
    if (id != NULL)
        ctrl->osal.mem_free(ctrl->osal.ctx, id, NVME_IDENTIFY_DATA_SIZE);
}

/* Enable again and rebuild the queues on the same memory. */
static __attribute__((noinline)) int nvme_restart(struct nvme_ctrl *ctrl)
{
    /* CAP again before the enable, as at bring-up (Linux reads it at each
     * enable): its TO and CRTO bound the wait, its DSTRD places the
     * doorbells, its MQES sizes the queues. */
    uint16_t want = 0;
    int rc = nvme_ctrl_read_caps(ctrl, true);
    if (rc == NVME_OK)
        rc = nvme_restart_layout(ctrl, &want);
    if (rc != NVME_OK)
        return rc;
    nvme_qpair_reset_rings(&ctrl->admin);
    rc = nvme_ctrl_enable(ctrl);
    if (rc != NVME_OK)
        return rc;
    nvme_set_ready(ctrl, true);
    nvme_refresh_identify(ctrl); /* a firmware the reset activated */
    nvme_hmb_refit(ctrl);        /* stopped since: the controller holds no buffer */
    /* Number of Queues may be set once per controller reset (§5.21.1.7). */
    uint16_t granted = 0;
    /* The I/O Command Set Profile goes back to vector 0 with a reset;
     * select ours again before any I/O queue exists (NVMe 2.0 §5.27.1.21). */
    if (ctrl->iocs_index != 0)
        (void)nvme_set_features(ctrl, NVME_FEAT_IOCS_PROFILE, ctrl->iocs_index, NULL);
    /* Once the profile makes the namespaces of its command sets active
     * again, before any I/O queue runs. */
    nvme_replay_ns_check(ctrl);
    /* Admin-only with no I/O queue memory (Number of Queues refused at
     * bring-up, or no doorbell in the BAR then): ask for what bring-up
     * wanted, as Linux's reset work sets the I/O queues up at every reset
     * (nvme_setup_io_queues), and allocate what is granted. */
    bool none = ctrl->nr_ioq == 0;
    if (none)
        want = nvme_io_queues_wanted(ctrl);
    rc = want != 0 ? nvme_set_num_queues(ctrl, want, &granted) : NVME_OK;
    if (rc > 0) { /* admin queue only, as at bring-up (ctrl.c) */
        nvme_log(ctrl, NVME_LOG_WARN, "Number of Queues failed after reset: admin queue only");
        NVME_WRITE_ONCE(ctrl->info.admin_only, true);
        NVME_WRITE_ONCE(ctrl->info.io_queues, 0);
        granted = 0;
        rc = NVME_OK;
    }
    /* Vectors, when bring-up had no queue to set them up for (Number of
     * Queues refused there), as it would have. */
    if (rc == NVME_OK && none && granted != 0 && ctrl->info.irq_vectors == 0)
        nvme_irq_vectors_setup(ctrl, granted);
    if (rc == NVME_OK && none && granted != 0 && nvme_io_queues_alloc(ctrl, granted) != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_WARN, "no memory for %u I/O queue(s): admin queue only", granted);
        granted = 0;
    }
    /* No I/O queue to make (a CAP.DSTRD, §3.1.1, that leaves the BAR no doorbell
     * for one, nvme_restart_layout): admin queue only, as bring-up runs
     * such a controller (ctrl.c nvme_setup_io_queues), not a failed
     * restart that leaves one that answers dead. */
    if (rc == NVME_OK && granted == 0 && !ctrl->info.admin_only) {
        nvme_log(ctrl, NVME_LOG_WARN, "no I/O queue after reset: admin queue only");
        NVME_WRITE_ONCE(ctrl->info.admin_only, true);
        NVME_WRITE_ONCE(ctrl->info.io_queues, 0);
    }
    /* info.io_queues keeps its value until the queues are created again:
     * other CPUs pick their queue by it meanwhile (nvme_io_qpair_get),
     * and find it stopped (NVME_ERR_STATE), not missing. */
    if (rc == NVME_OK)
        rc = nvme_ctrl_start_queues(ctrl, granted);
    return rc;
}

/* Reclaimed commands whose data is above MDTS now (a firmware the reset
 * activated lowered it: nvme_refresh_mdts) are not sent again, since the
 * controller would refuse them (§5.15.2.2, Invalid Field in Command): a
 * blocking call's piece goes back to its call (NVME_ERR_REQUEUE), which
 * cuts it again at the new limit (nvme_piece_above_mdts, or its whole
 * transfer again: nvme_rw_requeue); an asynchronous command, sized by
 * its caller, fails NVME_ERR_ABORTED (nvme_submit_rw refuses it at that
 * size now, NVME_ERR_UNSUPPORTED: the caller cuts it).  Waiting ones (parked) included.  Lock
 * held. */
static void nvme_replay_above_mdts(struct nvme_ctrl *ctrl, struct nvme_qpair *qp)
{
    uint32_t mdts = NVME_READ_ONCE(ctrl->info.mdts_bytes);
    for (uint16_t i = 0; i < qp->nslots_alloc; i++) {
        const struct nvme_cmd_slot *s = &qp->slots[i];
        if (s->state != NVME_SLOT_REPLAY || s->len <= mdts)
            continue;
        nvme_log(ctrl, NVME_LOG_WARN,
                 "queue %u: a command of %u bytes not sent again: MDTS is %u bytes now", qp->qid,
                 s->len, mdts);
        nvme_qpair_complete_slot(qp, i,
                                 s->cb == nvme_waiter_cb ? NVME_ERR_REQUEUE : NVME_ERR_ABORTED);
    }
}

/* Flush and the reservation commands name no blocks (§6.8, §6.10-6.13):
 * the same command whatever the namespace's format. */
static bool nvme_opc_names_blocks(uint8_t opc)
{
    return opc != NVME_CMD_FLUSH && opc != NVME_CMD_RESV_REGISTER && opc != NVME_CMD_RESV_REPORT &&
           opc != NVME_CMD_RESV_ACQUIRE && opc != NVME_CMD_RESV_RELEASE;
}

/* A scan found namespaces with another format or identity, or gone
 * (another host's Format, a namespace deleted and created again, a
 * device that changed its Identify data): the I/O commands of theirs the
 * core holds were built for what the namespace was.  Sent again, a
 * replay or a retry would have the controller move its count of blocks
 * of the new size through a buffer described for the old one, past its
 * end, or act on another namespace's blocks.  So those in the controller
 * are neither replayed after a reset nor retried (NVME_SLOT_F_REPLAY
 * cleared: their end is the controller's, or the reset's
 * NVME_ERR_ABORTED), and those waiting to be sent again (reclaimed by a
 * reset, parked past a smaller queue, or in a Command Retry Delay) fail
 * NVME_ERR_ABORTED here.  A Format of the core's own drains the queues
 * first (nvme_ns_freeze): none is held then. */
void nvme_recovery_ns_changed(struct nvme_ctrl *ctrl, const uint32_t *ids, unsigned n)
{
    for (uint16_t q = 1; q <= nvme_io_queue_count(ctrl); q++) {
        struct nvme_qpair *qp = nvme_ctrl_qpair(ctrl, q);
        if (qp == NULL) /* a reset on another CPU has fewer queues now */
            break;
        if (qp->slots == NULL)
            continue;
        nvme_lock(qp);
        /* Only those submitted before (a callback below unlocks the queue:
         * one submitted meanwhile is built on the new format). */
        uint32_t before = qp->seq;
        for (uint16_t i = 0; i < qp->nslots_alloc; i++) {
            struct nvme_cmd_slot *s = &qp->slots[i];
            bool named = n > NVME_NS_STALE_MAX;
            for (unsigned k = 0; k < n && !named; k++)
                named = s->sqe.nsid == ids[k];
            if (s->state == NVME_SLOT_FREE || !named || !nvme_opc_names_blocks(s->sqe.opc) ||
                (int32_t)(s->seq - before) >= 0)
                continue;
            s->flags &= (uint8_t)~NVME_SLOT_F_REPLAY;
            if (s->state == NVME_SLOT_REPLAY || s->state == NVME_SLOT_RETRY_WAIT) {
                nvme_log(ctrl, NVME_LOG_WARN,
                         "q%u: a command (opcode %02x) of namespace %u not sent again: the "
                         "namespace changed",
                         qp->qid, s->sqe.opc, s->sqe.nsid);
                nvme_qpair_complete_slot(qp, i, NVME_ERR_ABORTED); /* unlocked meanwhile */
            }
        }
        nvme_unlock(qp);
    }
}

/* Zoned writes held across a reset (nvme_replay_zoned): this many of a
 * queue are looked at when no memory for all of them is to be had (the
 * rest are replayed as before), and a reset remembers this many zones. */
#define NVME_ZONED_HELD_MIN 32u
#define NVME_ZONED_ZONES 8u /* a power of two */

/* A zone as Report Zones had it after the restart; wp moves past the
 * writes the replay sends into it. */
struct nvme_zone_now {
    uint32_t nsid;
    uint8_t zs; /* NVME_ZS_* */
    uint64_t zslba, zcap, wp;
};

/* A held zoned write not sent again: its slot (and submission, seq) and
 * the result it completes with after the queue's replay. */
struct nvme_zoned_held {
    uint16_t idx;
    uint32_t seq;
    int result;
};

/* The blocks a held zoned write (Write, Write Zeroes, Copy) moves its
 * zone's write pointer over: *n from *lba; false when not known. */
static bool nvme_zoned_span(const struct nvme_cmd_slot *s, uint64_t *lba, uint64_t *n)
{
    *lba = (uint64_t)s->sqe.cdw10 | (uint64_t)s->sqe.cdw11 << 32;
    if (s->sqe.opc == NVME_CMD_WRITE || s->sqe.opc == NVME_CMD_WRITE_ZEROES) {
        *n = (uint64_t)(s->sqe.cdw12 & 0xffffu) + 1u;
        return true;
    }
    if (s->sqe.opc != NVME_CMD_COPY || s->buf == NULL)
        return false;
    /* Copy (SDLBA in CDW10-11): NR + 1 source ranges (CDW12[7:0]) in the
     * range list the core wrote (nvme_copy), NLB (0-based) at bytes 17:16
     * of each, 32 bytes a range in formats 0h and 2h, 40 in 1h and 3h. */
    uint32_t nr = (s->sqe.cdw12 & 0xffu) + 1u;
    uint32_t esize = ((s->sqe.cdw12 >> NVME_COPY_FORMAT_SHIFT) & 1u) ? 40u : 32u;
    if ((uint64_t)nr * esize > s->len)
        return false;
    *n = 0;
    for (uint32_t i = 0; i < nr; i++) {
        const struct nvme_copy_range *r = (const void *)((const uint8_t *)s->buf +
                                                         (size_t)i * esize);
        *n += (uint64_t)r->nlb + 1u;
    }
    return true;
}

/* The zone holding lba (Report Zones, one descriptor), asked on the first
 * live I/O queue from `first` on that has a slot free (the held commands
 * fill slots until their replay). */
static int nvme_zone_report_now(struct nvme_ctrl *ctrl, uint16_t first, uint32_t nsid, uint64_t lba,
                                struct nvme_zone_desc *z)
{
    const struct nvme_osal *o = &ctrl->osal;
    const uint32_t len = (uint32_t)(sizeof(struct nvme_zone_report) + sizeof(*z));
    uint64_t bus;
    uint8_t *dma = o->dma_alloc(o->ctx, len, ctrl->page_size, &bus);
    if (dma == NULL)
        return NVME_ERR_NOMEM;
    nvme_memzero(dma, len);
    nvme_dma_sync(ctrl, dma, len, NVME_DMA_TO_DEVICE); /* (non-coherent DMA rule 3) */
    struct nvme_sqe sqe;
    nvme_sqe_zone_report(&sqe, nsid, lba, len);
    int rc = NVME_ERR_BUSY;
    for (uint16_t k = 0; k < ctrl->nr_ioq && rc != NVME_OK; k++) {
        unsigned at = (unsigned)first + k; /* (no division: 32-bit targets lack one) */
        struct nvme_qpair *qp = &ctrl->ioq[at >= ctrl->nr_ioq ? at - ctrl->nr_ioq : at];
        struct nvme_waiter w = {ctrl, 1, 0, 0, 0};
        if (nvme_qpair_submit(qp, &sqe, dma, len, NVME_DMA_FROM_DEVICE, 0, nvme_waiter_cb, &w) !=
            NVME_OK)
            continue;
        rc = nvme_wait(qp, &w);
        if (rc == NVME_OK) {
            nvme_dma_sync(ctrl, dma, len, NVME_DMA_FROM_DEVICE); /* (rule 4) */
            const struct nvme_zone_report *h = (const void *)dma;
            if (h->nr_zones == 1)
                nvme_memcpy(z, dma + sizeof(*h), sizeof(*z));
            else
                rc = NVME_ERR_PROTO;
        }
        break;
    }
    o->dma_free(o->ctx, dma, len);
    return rc;
}

/* A zoned write the reset holds for its replay (Write, Write Zeroes or
 * Copy to a zoned namespace: NO_RETRY on an I/O queue, nvm_flags,
 * nvme_rw_submit) may have run before the reset: its completion lost, or
 * run while CC.EN went to 0 (QEMU 7.2 completes what its block layer held
 * then: a throttled write lands).  Sent again it is not at the write
 * pointer any more: Zone Invalid Write (ZNS Command Set) for a write that
 * is on the media.  So, before the queue's replay, the zone's write
 * pointer (Report Zones, as Linux's zone write plugging resyncs it after
 * a zoned write error, disk_zone_wplug_handle_error), in submission
 * order:
 *   - at or past the command's end (or the zone Full over it): it
 *     landed, and completes successfully without a replay;
 *   - at its start (or before it: the controller's answer then): replayed,
 *     and the zone's write pointer taken as past it for the next one;
 *   - inside it: part of it landed; sent again it would be a Zone Invalid
 *     Write, so it fails as a reset fails a command it does not replay
 *     (NVME_ERR_TIMEOUT when it timed out, else NVME_ERR_ABORTED), and the
 *     caller learns the write pointer from Report Zones, as Linux fails
 *     the write and the writes plugged behind it.
 * A zone Read Only or Offline, a report that fails: replayed as before.
 * (A write the caller sent below the write pointer, or into a zone
 * already Full, and that the reset held, passes for landed: the write
 * pointer cannot tell it from one that ran.)
 * Only the commands of the queue's slots (the parked ones are replayed as
 * before, nvme_qpair_unpark).  Returns how many held[] has; the caller
 * completes them after the queue's replay, so that a callback's next
 * write to the zone goes after the replayed ones. */
static unsigned nvme_replay_zoned(struct nvme_ctrl *ctrl, uint16_t q, struct nvme_zone_now *zones,
                                  unsigned *nz, struct nvme_zoned_held *held, unsigned max)
{
    struct nvme_qpair *qp = &ctrl->ioq[q];
    unsigned n = 0;
    nvme_lock(qp);
    uint32_t base = qp->seq; /* every held one is older */
    bool live = qp->live;
    nvme_unlock(qp);
    int32_t last = INT32_MIN;
    while (live && n < max && NVME_READ_ONCE(ctrl->ready)) {
        nvme_lock(qp);
        uint16_t best = NVME_NO_SLOT;
        int32_t key = 0;
        for (uint16_t i = 0; i < qp->nslots; i++) {
            const struct nvme_cmd_slot *s = &qp->slots[i];
            int32_t k = (int32_t)(s->seq - base);
            if (s->state == NVME_SLOT_REPLAY && (s->flags & NVME_SLOT_F_NO_RETRY) && k > last &&
                (best == NVME_NO_SLOT || k < key)) {
                best = i;
                key = k;
            }
        }
        if (best == NVME_NO_SLOT) {
            nvme_unlock(qp);
            break;
        }
        last = key;
        const struct nvme_cmd_slot *s = &qp->slots[best];
        uint32_t nsid = s->sqe.nsid, seq = s->seq;
        uint8_t opc = s->sqe.opc;
        bool timed_out = (s->flags & NVME_SLOT_F_TIMED_OUT) != 0;
        uint64_t lba, blocks;
        bool known = nvme_zoned_span(s, &lba, &blocks);
        nvme_unlock(qp);
        if (!known)
            continue;
        struct nvme_zone_now *z = NULL;
        for (unsigned k = 0; k < *nz && k < NVME_ZONED_ZONES && z == NULL; k++)
            if (zones[k].nsid == nsid && zones[k].zslba <= lba &&
                lba - zones[k].zslba < zones[k].zcap)
                z = &zones[k];
        if (z == NULL) {
            struct nvme_zone_desc d;
            /* Device input: a descriptor whose zone does not hold the
             * command's first block within its capacity (Report Zones, ZNS
             * 1.1 §3.4.2) says nothing of it: replayed as before, never
             * taken for landed. */
            if (nvme_zone_report_now(ctrl, q, nsid, lba, &d) != NVME_OK || d.zslba > lba ||
                lba - d.zslba >= d.zcap)
                continue;
            z = &zones[(*nz)++ & (NVME_ZONED_ZONES - 1u)];
            *z = (struct nvme_zone_now){nsid, (uint8_t)(d.zs >> 4), d.zslba, d.zcap, d.wp};
        }
        uint64_t end = lba + blocks;
        bool writable = z->zs == NVME_ZS_EMPTY || z->zs == NVME_ZS_IMPLICIT_OPEN ||
                        z->zs == NVME_ZS_EXPLICIT_OPEN || z->zs == NVME_ZS_CLOSED;
        int result;
        if (z->zs == NVME_ZS_FULL && end <= z->zslba + z->zcap)
            result = NVME_OK;
        else if (!writable || z->wp <= lba) {
            if (writable && z->wp == lba)
                z->wp = end; /* replayed: the next one starts there */
            continue;
        } else
            result = z->wp >= end ? NVME_OK : timed_out ? NVME_ERR_TIMEOUT : NVME_ERR_ABORTED;
        const char *what = opc == NVME_CMD_WRITE          ? "write"
                           : opc == NVME_CMD_WRITE_ZEROES ? "write zeroes"
                                                          : "copy";
        if (result == NVME_OK)
            nvme_log(ctrl, NVME_LOG_WARN,
                     "namespace %u: zoned %s of %llu block(s) at LBA %llu landed before the "
                     "reset (write pointer %llu): done, not sent again",
                     nsid, what, (unsigned long long)blocks, (unsigned long long)lba,
                     (unsigned long long)z->wp);
        else
            nvme_log(ctrl, NVME_LOG_WARN,
                     "namespace %u: zoned %s of %llu block(s) at LBA %llu partly landed before "
                     "the reset (write pointer %llu): failed, not sent again",
                     nsid, what, (unsigned long long)blocks, (unsigned long long)lba,
                     (unsigned long long)z->wp);
        held[n++] = (struct nvme_zoned_held){best, seq, result};
    }
    return n;
}

/* Held zoned writes in the slots of a live queue (nvme_replay_zoned). */
static unsigned nvme_zoned_held_count(struct nvme_qpair *qp)
{
    unsigned n = 0;
    nvme_lock(qp);
    for (uint16_t i = 0; qp->live && i < qp->nslots; i++)
        n += qp->slots[i].state == NVME_SLOT_REPLAY && (qp->slots[i].flags & NVME_SLOT_F_NO_RETRY);
    nvme_unlock(qp);
    return n;
}

static bool nvme_zoned_held_has(const struct nvme_zoned_held *held, unsigned n, uint16_t idx,
                                uint32_t seq)
{
    for (unsigned k = 0; k < n; k++)
        if (held[k].idx == idx && held[k].seq == seq)
            return true;
    return false;
}

/* Resubmits reclaimed I/O commands, each queue in its submission order
 * (the controller orders nothing, within a queue or across queues:
 * Command Ordering Requirements, §6.3); held zoned writes that landed, or
 * partly, complete after (nvme_replay_zoned). */
static void nvme_replay(struct nvme_ctrl *ctrl)
{
    struct nvme_zone_now zones[NVME_ZONED_ZONES];
    unsigned nz = 0;
    for (uint16_t q = 0; q < ctrl->nr_ioq; q++) {
        struct nvme_qpair *qp = &ctrl->ioq[q];
        struct nvme_zoned_held some[NVME_ZONED_HELD_MIN], *held = some;
        unsigned max = nvme_zoned_held_count(qp), nh = 0;
        size_t bytes = (size_t)max * sizeof(*held);
        if (max > NVME_ZONED_HELD_MIN &&
            (held = ctrl->osal.mem_alloc(ctrl->osal.ctx, bytes)) == NULL) {
            held = some;
            max = NVME_ZONED_HELD_MIN;
        }
        bool ready = NVME_READ_ONCE(ctrl->ready);
        if (max != 0)
            nh = nvme_replay_zoned(ctrl, q, zones, &nz, held, max);
        if (ready && !NVME_READ_ONCE(ctrl->ready)) {
            if (held != some)
                ctrl->osal.mem_free(ctrl->osal.ctx, held, bytes);
            return; /* a report timed out and stopped it: the next restart replays */
        }
        nvme_lock(qp);
        nvme_replay_above_mdts(ctrl, qp);
        /* Live: those in the slots the queue holds (the oldest); the rest
         * wait for a slot (nvme_qpair_unpark).  Else every one. */
        uint16_t end = qp->live ? qp->nslots : qp->nslots_alloc;
        for (;;) {
            uint16_t best = NVME_NO_SLOT;
            for (uint16_t i = 0; i < end; i++)
                if (qp->slots[i].state == NVME_SLOT_REPLAY &&
                    (best == NVME_NO_SLOT ||
                     (int32_t)(qp->slots[i].seq - qp->slots[best].seq) < 0) &&
                    (nh == 0 || !nvme_zoned_held_has(held, nh, i, qp->slots[i].seq)))
                    best = i;
            /* Stopped meanwhile (a callback's wait, nvme_wait_raw_check):
             * the rest wait for the next restart's replay. */
            if (best == NVME_NO_SLOT || !NVME_READ_ONCE(ctrl->ready))
                break;
            if (qp->live) {
                qp->slots[best].retries++;
                nvme_stat_inc(&ctrl->stats.replays);
                nvme_qpair_resubmit_locked(qp, best);
            } else { /* the controller granted fewer queues this time: a
                        * blocking call sends it again elsewhere, unless
                        * its namespace changed (nvme_recovery_ns_changed) */
                const struct nvme_cmd_slot *s = &qp->slots[best];
                nvme_qpair_complete_slot(qp, best,
                                         s->cb == nvme_waiter_cb && (s->flags & NVME_SLOT_F_REPLAY)
                                             ? NVME_ERR_REQUEUE
                                             : NVME_ERR_ABORTED);
            }
        }
        if (qp->live && qp->parked != 0) /* (a slot freed meanwhile) */
            nvme_qpair_unpark(qp);
        if (qp->live)
            nvme_qpair_ring_locked(qp);
        for (unsigned k = 0; k < nh; k++) { /* (the callbacks unlock it meanwhile) */
            const struct nvme_cmd_slot *s = &qp->slots[held[k].idx];
            if (s->state == NVME_SLOT_REPLAY && s->seq == held[k].seq)
                nvme_qpair_complete_slot(qp, held[k].idx, held[k].result);
        }
        nvme_unlock(qp);
        if (held != some)
            ctrl->osal.mem_free(ctrl->osal.ctx, held, bytes);
    }
}

/* Linux holds the requests that arrive while its queues are quiesced for
 * a reset; here a blocking call on another CPU waits the reset out, then
 * goes again, as often as resets turn it away.  Never on the resetting
 * CPU or from a callback (the reset's own event_cb, say), and not without
 * cpu_id (the caller could be an interrupt handler on the CPU the reset
 * runs on): those get NVME_ERR_STATE.  Bounded in time, not in resets met
 * (a CPU kept off the processor may meet many short ones): the call's
 * budget is NVME_RESET_WAITS resets at their longest (attempts, each two
 * CAP.TO waits and an admin deadline), in slices of NVME_WAIT_SLICE_US
 * (1 ms) slept, and each try costs a slice too (a try after the first
 * that finds no reset to wait for sleeps one), so that a queue that stays
 * stopped after a reset (fewer queues granted) ends it as well. */
#define NVME_RESET_WAITS 4u
/* The bound of a blocking call's waits for other CPUs (a reset, a full
 * queue), in slices of NVME_WAIT_SLICE_US: every attempt of every reset
 * it may meet, each with its commands' deadlines and an admin one. */
static __attribute__((noinline)) uint64_t nvme_wait_budget(const struct nvme_ctrl *ctrl)
{
    uint32_t admin_ms = nvme_admin_ms(ctrl);
    return (uint64_t)NVME_RESET_WAITS * NVME_RESET_ATTEMPTS *
           ((uint64_t)ctrl->timeout_ms + ctrl->ready_timeout_ms + admin_ms);
}

/* Ready for calls: no reset runs, the controller neither dead, gone nor
 * stopping. */
static __attribute__((noinline)) bool nvme_reset_over(const struct nvme_ctrl *ctrl)
{
    return NVME_READ_ONCE(ctrl->ready) && !NVME_READ_ONCE(ctrl->dead) &&
           !NVME_READ_ONCE(ctrl->gone) && !NVME_READ_ONCE(ctrl->stopping);
}

bool nvme_reset_waited(struct nvme_ctrl *ctrl, int *rc, unsigned *spent)
{
    if (*rc != NVME_ERR_STATE || ctrl->osal.cpu_id == NULL || nvme_in_callback(ctrl))
        return false;
    uint64_t budget = nvme_wait_budget(ctrl);
    for (;;) {
        if (++*spent > budget)
            return false;
        bool slept = false;
        while (__atomic_load_n(&ctrl->in_recovery, __ATOMIC_ACQUIRE)) {
            /* (Not nvme_other_cpu_resets: a reset that ends between its two
             * looks at in_recovery would pass for this CPU's own.) */
            if (NVME_READ_ONCE(ctrl->recovery_cpu) == ctrl->osal.cpu_id(ctrl->osal.ctx))
                return false; /* this CPU's own reset: its event callback, say */
            if (++*spent > budget)
                return false;
            ctrl->osal.sleep_us(ctrl->osal.ctx, NVME_WAIT_SLICE_US);
            slept = true;
        }
        if (!slept && *spent > 1) /* turned away again with no reset to wait for: no spinning */
            ctrl->osal.sleep_us(ctrl->osal.ctx, NVME_WAIT_SLICE_US);
        /* Over, or just ended when the call was turned away. */
        if (nvme_reset_over(ctrl))
            return true;
        /* Not ready: stopped for good, or the next reset began since the
         * last one ended (it stops the queues first): wait for it too.
         * Stopped for good says why, as a new call would be told: the
         * device gone (rule 6) or the controller dead.  A whole reset may
         * have run between the look at ready and this one: ready again,
         * the call goes again. */
        if (!__atomic_load_n(&ctrl->in_recovery, __ATOMIC_ACQUIRE)) {
            if (nvme_reset_over(ctrl))
                return true;
            if (NVME_READ_ONCE(ctrl->gone))
                *rc = NVME_ERR_GONE;
            else if (NVME_READ_ONCE(ctrl->dead))
                *rc = NVME_ERR_FATAL;
            return false;
        }
    }
}

bool nvme_busy_waited(struct nvme_qpair *qp, const int *rc, unsigned *spent)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    /* From a callback the queue's own reaping is what it would wait for;
     * during a Format, BUSY is the freeze's answer (nvme_ns_freeze). */
    if (*rc != NVME_ERR_BUSY || nvme_in_callback(ctrl) ||
        (qp->qid != 0 && NVME_READ_ONCE(ctrl->ns_frozen) != 0))
        return false;
    uint64_t budget = nvme_wait_budget(ctrl);
    if (++*spent > budget)
        return false;
    /* Commands placed without their doorbell (NVME_SUBMIT_NO_DOORBELL)
     * would hold their slots until their submitter rings: ring now. */
    nvme_qpair_ring(ctrl, qp->qid);
    if (nvme_qpair_process(qp, 0) > 0)
        return true; /* slots freed: go again */
    /* Nothing yet: the commands in the way have deadlines, which this
     * wait checks as nvme_wait does (not under a reset or a teardown). */
    if (NVME_READ_ONCE(ctrl->up) && !NVME_READ_ONCE(ctrl->in_recovery) &&
        !NVME_READ_ONCE(ctrl->stopping))
        (void)nvme_recovery_check(ctrl);
    ctrl->osal.sleep_us(ctrl->osal.ctx, NVME_WAIT_SLICE_US);
    return true;
}

/* An orderly reset stops reaping the I/O queues before it deletes them;
 * what the controller ends meanwhile (Command Aborted due to SQ Deletion)
 * stays in their CQs for the replay, and with INTx those entries hold the
 * level-triggered line up: every interrupt would be one nobody claims.
 * The line stays masked (INTMS, §3.1.3) until the controller has stopped;
 * nvme_ctrl_handle_irq leaves it so meanwhile.  The admin commands of the
 * reset then complete to their waits' own polling. */
static void nvme_intx_hold(struct nvme_ctrl *ctrl)
{
    if (!ctrl->info.irq_is_intx || ctrl->info.irq_vectors == 0)
        return;
    NVME_WRITE_ONCE(ctrl->intx_hold, true);
    nvme_reg_write32(ctrl, NVME_REG_INTMS, 1u);
}

/* Unmasks the line nvme_intx_hold masked.  The flag is cleared before the
 * INTMC write, with a full barrier between: a handler that masked the line
 * and then still read the flag set (nvme_ctrl_handle_irq) masked it before
 * this INTMC, so the line never ends masked. */
static void nvme_intx_release(struct nvme_ctrl *ctrl)
{
    if (!NVME_READ_ONCE(ctrl->intx_hold))
        return;
    NVME_WRITE_ONCE(ctrl->intx_hold, false);
    nvme_dma_mb();
    if (!NVME_READ_ONCE(ctrl->gone))
        nvme_reg_write32(ctrl, NVME_REG_INTMC, 1u);
}

/* An orderly reset of a controller that still answers, as Linux's
 * nvme_dev_disable does: each I/O queue stops taking commands, then is
 * deleted, so that nothing is in flight inside the controller when CC.EN
 * goes to 0.  (QEMU 7.2 can crash when CC.EN goes to 0 with reads and
 * writes still in its block layer.)  What the queues held is reclaimed
 * after the stop, as in any reset; the first failure ends the deletions. */
static void nvme_delete_io_queues(struct nvme_ctrl *ctrl)
{
    nvme_intx_hold(ctrl);
    for (uint16_t i = ctrl->info.io_queues; i-- > 0;) {
        struct nvme_qpair *qp = &ctrl->ioq[i];
        nvme_lock(qp);
        bool live = qp->live;
        NVME_WRITE_ONCE(qp->live, false); /* other CPUs: NVME_ERR_STATE from here on */
        nvme_unlock(qp);
        if (live && nvme_delete_io_qpair(ctrl, qp) != NVME_OK)
            return;
    }
}

/* One reset at a time: false when one runs already. */
static bool nvme_recovery_claim(struct nvme_ctrl *ctrl)
{
    nvme_lock(&ctrl->admin);
    if (NVME_READ_ONCE(ctrl->in_recovery)) {
        nvme_unlock(&ctrl->admin);
        return false;
    }
    NVME_WRITE_ONCE(ctrl->recovery_cpu,
                    ctrl->osal.cpu_id != NULL ? ctrl->osal.cpu_id(ctrl->osal.ctx) : 0u);
    __atomic_store_n(&ctrl->in_recovery, true, __ATOMIC_RELEASE);
    nvme_unlock(&ctrl->admin);
    return true;
}

/* A restart that worked, before its replay. */
static void nvme_restarted(struct nvme_ctrl *ctrl)
{
    NVME_WRITE_ONCE(ctrl->dead, false);
    /* The reset dropped every AER the controller held, and with them the
     * reason an error status stopped the core asking (aer.c): AERL+1 are
     * armed again (nvme_aer_arm, after the reset). */
    NVME_WRITE_ONCE(ctrl->aer_max, nvme_aer_max(ctrl)); /* AERL now */
    NVME_WRITE_ONCE(ctrl->aer_limit, ctrl->aer_max);
    /* A change while the controller was stopped posted no event (its
     * Asynchronous Event Configuration is back to default), and one it
     * held is gone: the namespaces are scanned again at the next service
     * call, as Linux's nvme_start_ctrl queues a scan. */
    nvme_lock(&ctrl->admin);
    NVME_WRITE_ONCE(ctrl->ns_recheck, true);
    ctrl->aer_resv_lpc = 0; /* Log Page Count restarts at a reset (NVMe 2.0 §5.16.1.24) */
    nvme_unlock(&ctrl->admin);
}

/* The reset nvme_recovery_claim gave this CPU. */
static int nvme_recovery_run(struct nvme_ctrl *ctrl, int why, bool orderly)
{
    nvme_stat_inc(&ctrl->stats.resets);
    if (why == NVME_OK)
        nvme_log(ctrl, NVME_LOG_INFO, "controller reset");
    else
        nvme_log(ctrl, NVME_LOG_WARN, "controller reset after: %s", nvme_strerror(why));

    /* Orderly, and the controller runs (RDY=1, no CFS). */
    if (orderly && NVME_READ_ONCE(ctrl->ready) && !NVME_READ_ONCE(ctrl->gone) &&
        (nvme_reg_read32(ctrl, NVME_REG_CSTS) & (NVME_CSTS_RDY | NVME_CSTS_CFS)) == NVME_CSTS_RDY)
        nvme_delete_io_queues(ctrl);
    /* Stop first (rule 1), then reclaim: I/O with budget left waits for
     * its replay, the rest fails back. */
    /* A controller that did not stop (RDY still 1) must not see CC.EN=1
     * again (§3.1.5): it is dead until a reset finds it stopped. */
    int rc = nvme_stop_and_reclaim(ctrl, NVME_ERR_ABORTED, NVME_RECLAIM_REPLAY);
    bool stopped = rc == NVME_OK;
    if (stopped) /* CC.EN=0 ended the queues, and the entries with them */
        nvme_intx_release(ctrl);
    for (unsigned attempt = 0; stopped && attempt < NVME_RESET_ATTEMPTS; attempt++) {
        rc = nvme_restart(ctrl);
        if (rc == NVME_OK) {
            /* The replay fails back some commands (a queue not granted
             * again, a transfer above a lower MDTS): a blocking call from
             * one of their callbacks whose command timed out stopped the
             * controller again (nvme_wait_raw_check, RECLAIM_REPLAY) and
             * took back what the replay had sent: start it again, or
             * those would wait for a replay that never comes. */
            nvme_restarted(ctrl);
            nvme_replay(ctrl);
            if (NVME_READ_ONCE(ctrl->ready) || NVME_READ_ONCE(ctrl->gone))
                break;
            rc = NVME_ERR_TIMEOUT;
        }
        nvme_log(ctrl, NVME_LOG_ERROR, "restart after reset failed: %s", nvme_strerror(rc));
        int src = nvme_stop_and_reclaim(ctrl, NVME_ERR_ABORTED, NVME_RECLAIM_KEEP_REPLAY);
        stopped = src == NVME_OK;
        if (src == NVME_ERR_GONE)
            rc = src;
    }
    if (rc == NVME_OK && NVME_READ_ONCE(ctrl->gone))
        rc = NVME_ERR_GONE; /* (a wait during the replay found it gone: all reclaimed) */
    if (rc == NVME_ERR_GONE && !NVME_READ_ONCE(ctrl->gone)) {
        /* A restart read all ones (nvme_ctrl_read_caps) where the stop
         * after it found the registers answering: gone all the same
         * (lifecycle rule 6), never left neither gone, nor ready, nor
         * dead, where blocking calls could not tell why (nvme_reset_waited). */
        nvme_recovery_gone(ctrl);
    } else if (rc != NVME_OK) {
        nvme_queues_quiesce(ctrl);
        nvme_reclaim_all(ctrl, rc, NVME_RECLAIM_ALL);
        if (rc != NVME_ERR_GONE) {
            NVME_WRITE_ONCE(ctrl->dead, true);
            nvme_log(ctrl, NVME_LOG_ERROR, "controller dead: %s", nvme_strerror(rc));
            nvme_event(ctrl, NVME_EVENT_DEAD, (uint32_t)-rc);
        }
    }
    __atomic_store_n(&ctrl->in_recovery, false, __ATOMIC_RELEASE); /* nvme_reset_waited */
    nvme_event(ctrl, NVME_EVENT_RESET, rc == NVME_OK ? 0u : (uint32_t)-rc);
    return rc;
}

int nvme_recovery_reset_asked(struct nvme_ctrl *ctrl, bool orderly, bool nssr)
{
    if (!nvme_recovery_claim(ctrl))
        return NVME_ERR_STATE;
    /* NVM Subsystem Reset (§7.3.1), written with the reset claimed: no
     * other CPU's check reads the registers meanwhile (they wait for the
     * reset).  On PCIe the link goes down and the BAR reads all ones for
     * a while: not a device gone before CAP.TO passed without an answer
     * (the reset below then finds it gone). */
    if (nssr && !NVME_READ_ONCE(ctrl->gone)) {
        nvme_reg_write32(ctrl, NVME_REG_NSSR, NVME_NSSR_VALUE);
        if (nvme_ctrl_wait_present(ctrl, ctrl->timeout_ms) != NVME_OK)
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "registers read all ones for CAP.TO (%u ms) after the NVM Subsystem Reset",
                     ctrl->timeout_ms);
    }
    /* Hot-added again?  Only if the registers answer.  Marked back only
     * with the reset claimed: a blocking call on another CPU must never
     * find the controller neither gone, nor ready, nor resetting, or it
     * returns NVME_ERR_STATE instead of waiting (nvme_reset_waited). */
    if (NVME_READ_ONCE(ctrl->gone)) {
        if (nvme_reg_read32(ctrl, NVME_REG_CSTS) == 0xffffffffu) {
            __atomic_store_n(&ctrl->in_recovery, false, __ATOMIC_RELEASE);
            return NVME_ERR_GONE;
        }
        NVME_WRITE_ONCE(ctrl->gone, false);
        __atomic_store_n(&ctrl->gone_told, 0u, __ATOMIC_RELAXED);
        /* Back from a removal (a power cycle, for all the core knows): it
         * keeps nothing of the Host Memory Buffer, which it gets anew, MR
         * clear (§5.21.1.13: MR returns memory whose contents the controller
         * still counts on), as Linux's probe of a re-added device does. */
        ctrl->hmb_given = false;
        nvme_log(ctrl, NVME_LOG_INFO, "device answers again");
    }
    return nvme_recovery_run(ctrl, NVME_OK, orderly);
}
