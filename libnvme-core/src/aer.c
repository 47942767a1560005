/* SPDX-License-Identifier: MIT */
/*
 * aer.c - Asynchronous Event Requests (NVMe 1.4 §5.2).  AERL+1 of them
 * (at most NVME_AER_MAX) stay outstanding on the admin queue without a
 * deadline.  A completion only queues its DW0 (it may come from the
 * interrupt handler); nvme_ctrl_service() then reads the log page the
 * event names, which also re-enables that event type (§5.2: RAE clear),
 * acts on it and re-arms.
 */
#include "nvme_internal.h"

static void nvme_aer_done(void *arg, int result, uint32_t dw0)
{
    struct nvme_ctrl *ctrl = arg;
    /* Counted before it was submitted (nvme_aer_arm): never below 0. */
    __atomic_sub_fetch(&ctrl->aer_outstanding, 1u, __ATOMIC_RELAXED);
    if (result != NVME_OK) {
        /* Failed back by a reset or teardown (re-armed after a restart),
         * or refused by the controller (a status: a moment's failure, or
         * Asynchronous Event Request Limit Exceeded from one that holds
         * fewer, §5.2): that one is not replaced, the limit one lower
         * (until a restart), so the others are still armed again after
         * their events, and a device that refuses every request gets
         * AERL+1 of them, then none. */
        uint16_t limit = NVME_READ_ONCE(ctrl->aer_limit);
        if (result > 0 && limit != 0)
            NVME_WRITE_ONCE(ctrl->aer_limit, (uint16_t)(limit - 1u));
        return;
    }
    nvme_stat_inc(&ctrl->stats.async_events);
    /* The admin queue's lock guards the event queue: completions may come
     * from the interrupt handler while nvme_ctrl_service() reads it. */
    nvme_lock(&ctrl->admin);
    if (ctrl->aer_count == NVME_AER_EVENTS) {
        NVME_WRITE_ONCE(ctrl->aer_lost, true);
    } else {
        ctrl->aer_events[(ctrl->aer_head + ctrl->aer_count) % NVME_AER_EVENTS] = dw0;
        NVME_WRITE_ONCE(ctrl->aer_count, ctrl->aer_count + 1u); /* nvme_aer_service looks */
    }
    nvme_unlock(&ctrl->admin);
}

/* Puts back an event just taken (nvme_aer_pop), first in line, marked
 * as put back once (aer_again) or not. */
static void nvme_aer_unpop(struct nvme_ctrl *ctrl, uint32_t dw0, bool again)
{
    nvme_lock(&ctrl->admin);
    if (ctrl->aer_count == NVME_AER_EVENTS) {
        NVME_WRITE_ONCE(ctrl->aer_lost, true);
    } else {
        ctrl->aer_head = (uint8_t)((ctrl->aer_head + NVME_AER_EVENTS - 1u) % NVME_AER_EVENTS);
        ctrl->aer_events[ctrl->aer_head] = dw0;
        NVME_WRITE_ONCE(ctrl->aer_count, ctrl->aer_count + 1u);
        ctrl->aer_again = again;
    }
    nvme_unlock(&ctrl->admin);
}

/* Takes the oldest queued event, *again when it was put back before;
 * false when none. */
static bool nvme_aer_pop(struct nvme_ctrl *ctrl, uint32_t *dw0, bool *again)
{
    bool got = false;
    nvme_lock(&ctrl->admin);
    if (ctrl->aer_count != 0) {
        *dw0 = ctrl->aer_events[ctrl->aer_head];
        *again = ctrl->aer_again;
        ctrl->aer_again = false;
        ctrl->aer_head = (uint8_t)((ctrl->aer_head + 1u) % NVME_AER_EVENTS);
        NVME_WRITE_ONCE(ctrl->aer_count, ctrl->aer_count - 1u);
        got = true;
    }
    nvme_unlock(&ctrl->admin);
    return got;
}

/* One CPU at a time: two that both saw room would send more than AERL+1,
 * and the controller refuses the extra one with Asynchronous Event
 * Request Limit Exceeded (§5.2), which costs a request until the next
 * restart (nvme_aer_done).  Each request
 * is counted before it is submitted: its completion may come first, on
 * another CPU.  At most AERL+1 per call: a device that completes each
 * one at once (a storm; §5.2 completes one only on an event) would keep
 * the count below the limit, and the call sending, for as long as it
 * answers. */
void nvme_aer_arm(struct nvme_ctrl *ctrl)
{
    uint32_t idle = 0;
    if (!__atomic_compare_exchange_n(&ctrl->aer_arming, &idle, 1u, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return; /* another CPU arms them */
    for (uint32_t sent = 0; sent < NVME_AER_MAX && NVME_READ_ONCE(ctrl->ready) &&
                            __atomic_load_n(&ctrl->aer_outstanding, __ATOMIC_RELAXED) <
                                NVME_READ_ONCE(ctrl->aer_limit);
         sent++) {
        struct nvme_sqe sqe;
        nvme_sqe_init(&sqe, NVME_ADMIN_ASYNC_EVENT, 0);
        __atomic_add_fetch(&ctrl->aer_outstanding, 1u, __ATOMIC_RELAXED);
        if (nvme_qpair_submit(&ctrl->admin, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL,
                              NVME_CMD_NO_TIMEOUT, nvme_aer_done, ctrl) != NVME_OK) {
            __atomic_sub_fetch(&ctrl->aer_outstanding, 1u, __ATOMIC_RELAXED);
            break;
        }
    }
    __atomic_store_n(&ctrl->aer_arming, 0u, __ATOMIC_RELEASE);
}

/* Reads log page `lid` (clearing the event) into a scratch buffer. */
static int nvme_aer_read_log(struct nvme_ctrl *ctrl, uint8_t lid, void *buf, uint32_t len)
{
    struct nvme_sqe sqe;
    nvme_sqe_get_log(&sqe, lid, NVME_NSID_ALL, len);
    return nvme_admin_exec_bounce(ctrl, &sqe, buf, len, NVME_DMA_FROM_DEVICE, NULL);
}

/* The rescan a namespace change asks for (or lost events might hide),
 * then NVME_EVENT_NS_CHANGED for `nsid`.  When it fails on the host side
 * (its Identify lost to a deadline or a reset, memory, a scan on another
 * CPU that did not end), the controller will not tell again (its log
 * page was read), so nvme_aer_service scans again at its next call. */
static int nvme_aer_rescan(struct nvme_ctrl *ctrl, uint32_t nsid)
{
    int rc = nvme_ns_rescan(ctrl);
    if (rc == NVME_OK) {
        nvme_event(ctrl, NVME_EVENT_NS_CHANGED, nsid);
    } else if (rc != NVME_ERR_GONE && !NVME_READ_ONCE(ctrl->gone)) {
        nvme_lock(&ctrl->admin);
        NVME_WRITE_ONCE(ctrl->aer_lost, true);
        nvme_unlock(&ctrl->admin);
    }
    return rc;
}

/* The log page that unmasks an event's type (§5.2: each event names it;
 * read with RAE clear): Changed Namespace List 04h,
 * SMART / Health Information 02h, Error Information 01h, else the one
 * the completion names (0: none).  *len: the bytes read. */
static uint8_t nvme_aer_lid(uint32_t dw0, uint32_t *len)
{
    uint32_t type = NVME_AER_TYPE(dw0), info = NVME_AER_INFO(dw0);
    *len = 512;
    if (type == NVME_AER_TYPE_NOTICE && info == NVME_AER_NOTICE_NS_CHANGED) {
        *len = 4096; /* up to 1024 NSIDs (§5.14.1.4) */
        return NVME_LID_CHANGED_NS;
    }
    if (type == NVME_AER_TYPE_SMART) {
        *len = sizeof(struct nvme_smart_log);
        return NVME_LID_SMART;
    }
    if (type == NVME_AER_TYPE_ERROR) {
        *len = 64; /* the newest entry (§5.14.1.1) */
        return NVME_LID_ERROR;
    }
    if (type == NVME_AER_TYPE_IO_CMD && info == NVME_AER_IO_RESV_LOG) {
        *len = 64; /* one page (NVMe 2.0 §5.16.1.24) */
        return NVME_LID_RESV_NOTIF;
    }
    return (uint8_t)NVME_AER_LID(dw0);
}

/* A log page read that failed before it was sent (no DMA memory for its
 * bounce, a mapping or a slot refused, the controller resetting): it cost
 * nothing and read nothing, so it is tried at every call, not counted as
 * the one more try a lost read gets (§5.2: until the page is read the
 * event's type stays masked). */
static bool nvme_aer_unsent(int rc)
{
    return rc == NVME_ERR_NOMEM || rc == NVME_ERR_DMA || rc == NVME_ERR_BUSY ||
           rc == NVME_ERR_STATE;
}

/* Reservation Notification pages read for one event at most: each read
 * takes the oldest page away and says how many more wait (at most 255).
 * The rest are read at the next nvme_ctrl_service() (aer_resv_more): the
 * controller reports the event again only for a page added after the
 * reads unmasked it (§5.2), so pages already waiting would stay unread
 * until another notification came, maybe never. */
#define NVME_AER_RESV_READS 16u

/* Reservation Log Page Available (§5.2.1, I/O Command specific status):
 * `page` holds the first page read (rc its status).  Each read of LID 80h
 * removes the page it returns (NVMe 2.0 §5.16.1.24), so what it says is
 * logged and told here (NVME_EVENT_RESERVATION, the NSID), or no one
 * would ever see it; the pages waiting after it are read too, up to
 * NVME_AER_RESV_READS.  A page with Log Page Count 0 is empty.
 * `carried`: a read the bound left to this call (aer_resv_more), after
 * the page whose Log Page Count is aer_resv_lpc (0 after a restart).  The
 * count grows with every page the controller makes, so a page whose count
 * does not pass the one before it in these reads ends them: a controller
 * that always says more of the same page would otherwise have it told 16
 * times per event, and read 16 times more at every call, for ever.  (Not
 * across events: the count starts again at 0 after a controller reset,
 * which may keep older pages.)  A read after the first one lost on the host
 * side (a deadline, memory: nvme_aer_handle retries the first) would
 * leave the rest unread, the type unmasked by the reads before it: it is
 * tried at the next call, once (one never sent, nvme_aer_unsent: at each
 * call until it is). */
static void nvme_aer_resv(struct nvme_ctrl *ctrl, uint8_t *page, int rc, bool carried)
{
    static const char *const what[] = {"registration preempted", "reservation released",
                                       "reservation preempted"};
    nvme_lock(&ctrl->admin);
    uint64_t last = carried ? ctrl->aer_resv_lpc : 0;
    bool retried = ctrl->aer_resv_retried;
    nvme_unlock(&ctrl->admin);
    bool retry = false;
    for (unsigned n = 0;; n++) {
        if (rc != NVME_OK) {
            retry = (carried || n != 0) && rc < 0 && (!retried || nvme_aer_unsent(rc)) &&
                    !NVME_READ_ONCE(ctrl->gone) && !NVME_READ_ONCE(ctrl->dead);
            nvme_log(ctrl, NVME_LOG_WARN, "reservation notification: log page not read (%s)%s",
                     nvme_strerror(rc), retry ? ": again at the next call" : "");
            break;
        }
        uint64_t count = 0;
        for (unsigned i = 0; i < 8u; i++)
            count |= (uint64_t)page[i] << (8u * i);
        if (count == 0)
            break;
        if (count <= last) {
            nvme_log(ctrl, NVME_LOG_WARN,
                     "reservation notification %llu after %llu: not a new page, reads stop",
                     (unsigned long long)count, (unsigned long long)last);
            break;
        }
        last = count;
        uint8_t t = page[8], more = page[9];
        uint32_t nsid = (uint32_t)page[12] | (uint32_t)page[13] << 8 | (uint32_t)page[14] << 16 |
                        (uint32_t)page[15] << 24;
        if (t >= 1u && t <= 3u)
            nvme_log(ctrl, NVME_LOG_INFO, "reservation notification %llu: namespace %u: %s",
                     (unsigned long long)count, nsid, what[t - 1u]);
        else
            nvme_log(ctrl, NVME_LOG_INFO, "reservation notification %llu: namespace %u: type %u",
                     (unsigned long long)count, nsid, t);
        nvme_event(ctrl, NVME_EVENT_RESERVATION, nsid);
        if (more == 0)
            break;
        if (n + 1u == NVME_AER_RESV_READS) {
            nvme_log(ctrl, NVME_LOG_WARN,
                     "reservation notification: %u more left for the next call", more);
            retry = true;
            break;
        }
        rc = nvme_aer_read_log(ctrl, NVME_LID_RESV_NOTIF, page, 64);
    }
    nvme_lock(&ctrl->admin);
    if (retry) {
        NVME_WRITE_ONCE(ctrl->aer_resv_more, true);
        /* (a lost read: once; one never sent: at every call) */
        ctrl->aer_resv_retried = nvme_aer_unsent(rc) ? retried : rc != NVME_OK;
        ctrl->aer_resv_lpc = last;
    } else {
        ctrl->aer_resv_retried = false;
    }
    nvme_unlock(&ctrl->admin);
}

/* False: the event's log page was lost on the host side (a deadline and
 * the reset it caused, memory), not refused by the device.  The
 * controller may never have run that Get Log Page, and then the event's
 * type stays masked (a reset does not unmask it): no event of the type
 * would be reported again.  So it is read again, and the event told, at
 * the next nvme_ctrl_service(); once (not `again`; *again set), so that a
 * page that always times out costs one reset more, not one per call.  A
 * read never sent (nvme_aer_unsent) is tried at every call, `again` left
 * as it was: never told without its page for want of memory twice. */
static bool nvme_aer_handle(struct nvme_ctrl *ctrl, uint32_t dw0, uint8_t *page, bool *again)
{
    uint32_t type = NVME_AER_TYPE(dw0), info = NVME_AER_INFO(dw0);
    uint32_t len;
    uint8_t lid = nvme_aer_lid(dw0, &len);
    int rc = lid != 0 ? nvme_aer_read_log(ctrl, lid, page, len) : NVME_OK;
    bool unsent = nvme_aer_unsent(rc);
    if ((!*again || unsent) && rc < 0 && rc != NVME_ERR_GONE && !NVME_READ_ONCE(ctrl->gone) &&
        !NVME_READ_ONCE(ctrl->dead)) {
        nvme_log(ctrl, NVME_LOG_WARN,
                 "asynchronous event %08x: log page %02xh not read (%s): again", dw0, lid,
                 nvme_strerror(rc));
        *again = *again || !unsent;
        return false;
    }

    if (type == NVME_AER_TYPE_NOTICE && info == NVME_AER_NOTICE_NS_CHANGED) {
        /* Changed Namespace List (§5.14.1.4): up to 1024 NSIDs, or
         * FFFFFFFFh first when more changed.  We rescan all of them. */
        uint32_t nsid = NVME_NSID_ALL;
        if (rc == NVME_OK) {
            const uint32_t *list = (const uint32_t *)(const void *)page;
            if (list[0] != 0 && list[1] == 0)
                nsid = list[0];
        }
        int rs = nvme_aer_rescan(ctrl, nsid);
        nvme_log(ctrl, NVME_LOG_INFO, "namespace change (nsid %u): rescan %s", nsid,
                 nvme_strerror(rs));
        return true;
    }
    if (type == NVME_AER_TYPE_SMART) {
        /* Critical Warning (§5.14.1.2): never told as 0 (nothing wrong)
         * for a page that was not read, but once it was read again. */
        const struct nvme_smart_log *smart = (const struct nvme_smart_log *)(const void *)page;
        if (rc != NVME_OK)
            nvme_log(ctrl, NVME_LOG_WARN, "SMART/health event %u: log page not read (%s)", info,
                     nvme_strerror(rc));
        else
            nvme_log(ctrl, NVME_LOG_WARN, "SMART/health event %u: critical warning %02x", info,
                     smart->critical_warning);
        nvme_event(ctrl, NVME_EVENT_SMART, rc == NVME_OK ? smart->critical_warning : 0u);
        return true;
    }
    if (type == NVME_AER_TYPE_ERROR) {
        /* Error Information (§5.14.1.1): 64-byte entries, newest first. */
        const uint8_t *e = page;
        nvme_log(ctrl, NVME_LOG_WARN,
                 "error event %u: error count %llu, sqid %u cid %u status %04x (%s)", info,
                 rc == NVME_OK ? (unsigned long long)(e[0] | (uint64_t)e[1] << 8 |
                                                      (uint64_t)e[2] << 16 | (uint64_t)e[3] << 24)
                               : 0ull,
                 (unsigned)(e[8] | e[9] << 8), (unsigned)(e[10] | e[11] << 8),
                 (unsigned)(e[12] | e[13] << 8), nvme_strerror(rc));
        /* Persistent Internal Error: "the host should perform a reset"
         * (§5.2.1), CSTS.CFS set or not, as Linux's
         * nvme_handle_aer_persistent_error. */
        if (info == NVME_AER_ERROR_PERSISTENT)
            (void)nvme_recovery_reset_asked(ctrl, true, false);
        nvme_event(ctrl, NVME_EVENT_ERROR, info);
        return true;
    }
    if (type == NVME_AER_TYPE_IO_CMD && info == NVME_AER_IO_RESV_LOG) {
        nvme_aer_resv(ctrl, page, rc, false);
        return true;
    }
    /* Other notices and vendor events: their page was read above. */
    nvme_log(ctrl, NVME_LOG_INFO, "asynchronous event %08x", dw0);
    /* Firmware Activation Starting (§5.2.1): processing pauses (CSTS.PP,
     * deadlines wait: recovery.c); the Identify waits it out and reads the
     * revision now running. */
    if (type == NVME_AER_TYPE_NOTICE && info == NVME_AER_NOTICE_FW_ACT)
        nvme_refresh_identify(ctrl);
    nvme_event(ctrl, NVME_EVENT_NOTICE, dw0);
    return true;
}

/* After a restart (ns_recheck): the namespaces scanned again, and
 * NVME_EVENT_NS_CHANGED only when the table changed; a scan that fails
 * on the host side is left to aer_lost's (every service call until one
 * works). */
static void nvme_aer_recheck(struct nvme_ctrl *ctrl)
{
    uint32_t gen = nvme_ns_generation(ctrl);
    int rc = nvme_ns_rescan(ctrl);
    if (rc == NVME_OK && nvme_ns_generation(ctrl) != gen) {
        nvme_log(ctrl, NVME_LOG_INFO, "namespaces changed across the reset");
        nvme_event(ctrl, NVME_EVENT_NS_CHANGED, NVME_NSID_ALL);
    } else if (rc != NVME_OK && rc != NVME_ERR_GONE && !NVME_READ_ONCE(ctrl->gone)) {
        nvme_lock(&ctrl->admin);
        NVME_WRITE_ONCE(ctrl->aer_lost, true);
        nvme_unlock(&ctrl->admin);
    }
}

void nvme_aer_service(struct nvme_ctrl *ctrl)
{
    if (NVME_READ_ONCE(ctrl->aer_count) != 0 || NVME_READ_ONCE(ctrl->aer_lost) ||
        NVME_READ_ONCE(ctrl->ns_recheck) || NVME_READ_ONCE(ctrl->aer_resv_more)) {
        uint8_t *page = ctrl->osal.mem_alloc(ctrl->osal.ctx, 4096);
        if (page == NULL) {
            /* The events wait for the next call; the requests need no
             * memory, and without them the controller reports nothing. */
            nvme_aer_arm(ctrl);
            return;
        }
        /* At most a queue of events per call: each log page read lets
         * more completions in, and requests armed on another CPU meanwhile
         * (nvme_qpair_poll) keep a storm going; the rest wait for the next
         * call. */
        uint32_t dw0;
        bool again;
        /* Taken before the events: a drain that stops at its bound in
         * this call goes on at the next one, not in this one. */
        nvme_lock(&ctrl->admin);
        bool resv_more = ctrl->aer_resv_more;
        NVME_WRITE_ONCE(ctrl->aer_resv_more, false);
        nvme_unlock(&ctrl->admin);
        for (unsigned n = 0; n < NVME_AER_EVENTS && nvme_aer_pop(ctrl, &dw0, &again); n++) {
            nvme_memzero(page, 4096);
            if (!nvme_aer_handle(ctrl, dw0, page, &again)) {
                nvme_aer_unpop(ctrl, dw0, again);
                break;
            }
        }
        nvme_lock(&ctrl->admin); /* (no byte-wide exchange on every ISA) */
        bool lost = ctrl->aer_lost, recheck = ctrl->ns_recheck;
        NVME_WRITE_ONCE(ctrl->aer_lost, false);
        NVME_WRITE_ONCE(ctrl->ns_recheck, false);
        nvme_unlock(&ctrl->admin);
        if (lost)
            (void)nvme_aer_rescan(ctrl, NVME_NSID_ALL);
        else if (recheck)
            nvme_aer_recheck(ctrl);
        if (resv_more) { /* (an empty page if an event's reads took them) */
            nvme_memzero(page, 64);
            nvme_aer_resv(ctrl, page, nvme_aer_read_log(ctrl, NVME_LID_RESV_NOTIF, page, 64), true);
        }
        ctrl->osal.mem_free(ctrl->osal.ctx, page, 4096);
    }
    nvme_aer_arm(ctrl);
}
