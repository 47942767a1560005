/* SPDX-License-Identifier: MIT */
/*
 * io.c - NVM command set I/O (NVMe 1.4 §6): Read (02h), Write (01h),
 * Flush (00h).  Caller input is checked before anything reaches the
 * device: namespace, range (overflow-safe), count, buffer.
 *
 * The blocking calls cut a transfer at MDTS and keep as many pieces in
 * flight as the queue holds, ringing the doorbell once per batch.  Retries
 * (CRD), Abort, resets and replays happen underneath (recovery.c), so a
 * piece either completes or fails for good.
 */
#include "nvme_internal.h"

/* The namespace of an I/O: the queue remembers the last one (namespace
 * objects live until fini and keep their NSID, so the cache cannot point
 * at the wrong one; a detached one says NVME_ERR_NOENT in its status).
 * The cache is never NULL: ctrl->ns_none (NSID 0) until a lookup finds
 * one, and after one finds none; a call for NSID 0 gets it, whose status
 * refuses it (nvme_io_check_run answers NVME_ERR_NOENT, as for NULL). */
static inline const struct nvme_ns_info *nvme_io_ns(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                                                    uint32_t nsid)
{
    if (qp == NULL)
        return nvme_ns_find(ctrl, nsid);
    /* CPUs that share the queue share the cache, unlocked: one pointer */
    const struct nvme_ns_info *ns = NVME_READ_ONCE(qp->ns_cache);
    if (ns->nsid != nsid) {
        ns = nvme_ns_find(ctrl, nsid);
        NVME_WRITE_ONCE(qp->ns_cache, ns != NULL ? ns : &ctrl->ns_none);
    }
    return ns;
}

struct nvme_io_checked;
static int nvme_io_check_noqueue(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba,
                                 uint32_t count, const void *buf, bool write, uint16_t qid);

/* What nvme_io_check found: the namespace, the epoch its fields were
 * read under (the placement compares it: nvme_ns_epoch_read), its block
 * size then, the transfer's bytes in it (count << lbads; a command's
 * length, within MDTS, once the caller has checked that), and whether
 * the buffer lies inside one memory page. */
struct nvme_io_checked {
    const struct nvme_ns_info *ns;
    uint32_t epoch;
    uint32_t lbads;
    uint32_t len;
    bool one_page;
};

/* Nothing checked yet.  The checks set every field before they answer
 * NVME_OK, which gcc -O1 and -Og cannot see (maybe-uninitialized); at -O2
 * these stores are dead and go.  Field by field: "= {0}" becomes a call
 * to memset at -Os and in cold functions, which the core does not link. */
static inline void nvme_io_checked_none(struct nvme_io_checked *c)
{
    c->ns = NULL;
    c->epoch = 0;
    c->lbads = 0;
    c->len = 0;
    c->one_page = false;
}

/* Every check a read or write needs, once per call (the pieces of a
 * blocking transfer are not checked again), in the order they report.
 * Without an I/O queue the same checks run out of line (the first that
 * fails is still the error), so the usual case tests qp once.  A check
 * of the namespace's fields that fails while a rescan rewrites them (the
 * epoch moved) is no answer: NVME_ERR_BUSY, which a blocking call takes
 * to nvme_io_check_settled; `settled`: this is its run. */
static NVME_HOT_INLINE int nvme_io_check_run(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                                             uint16_t qid, uint32_t nsid, uint64_t lba,
                                             uint32_t count, const void *buf, bool write,
                                             struct nvme_io_checked *out, bool settled)
{
    if (__builtin_expect(qp == NULL, 0) && out != NULL) {
        int rc = nvme_io_check_noqueue(ctrl, nsid, lba, count, buf, write, qid);
        return rc != NVME_OK ? rc : NVME_ERR_INVAL; /* never OK: said so that *out is not read */
    }
    if (buf == NULL || count == 0)
        return NVME_ERR_INVAL;
    if (NVME_READ_ONCE(ctrl->gone))
        return NVME_ERR_GONE;
    int rc;
    uint32_t e = nvme_ns_epoch_read(ctrl); /* before the namespace's fields */
    const struct nvme_ns_info *ns = nvme_io_ns(ctrl, qp, nsid);
    if (ns == NULL)
        return NVME_ERR_NOENT;
    rc = NVME_READ_ONCE(ns->status);
    if (rc != NVME_OK)
        goto refused;
    /* lba + count past NSZE, or past 2^64: with count >= 1 (above) the
     * same as lba >= NSZE || count > NSZE - lba, in one add and compare. */
    uint64_t end;
    if (__builtin_add_overflow(lba, count, &end) || end > ns->nsze) {
        rc = NVME_ERR_RANGE;
        goto refused;
    }
    if (write && ns->read_only) {
        rc = NVME_ERR_RDONLY;
        goto refused;
    }
    if (NVME_READ_ONCE(ctrl->info.admin_only) || !ns->plain_io) { /* nvm_cmds.c says why */
        rc = nvme_io_admin_only(ctrl);                            /* no I/O queues */
        if (rc == NVME_OK)
            rc = nvme_ns_plain_check(ctrl, ns); /* a format that needs metadata */
        if (rc != NVME_OK)
            goto refused;
    }
    if (((uintptr_t)buf & 3u) != 0)
        return NVME_ERR_ALIGN;
    /* A buffer the device writes must own whole cache lines on a
     * non-coherent port that declares them (nvme_osal.h, non-coherent rule
     * 8).  Admin data always goes through the core's own bounce buffers. */
    uint64_t len = (uint64_t)count << ns->lbads;
    if (!write && ctrl->osal.dma_align > 1u &&
        (((uintptr_t)buf | len) & (ctrl->osal.dma_align - 1u)) != 0) {
        rc = NVME_ERR_ALIGN;
        goto refused;
    }
    /* Inside one memory page (PRP1 alone) and within MDTS, which a reset
     * that lowers CAP.MPSMIN may put below the page in use (35aj): such a
     * range cannot wrap the address space. */
    uint32_t one_mask = NVME_READ_ONCE(ctrl->one_mask);
    bool one = len <= one_mask + 1u - ((uint32_t)(uintptr_t)buf & one_mask);
    if (__builtin_expect(!one, 0) && len - 1u > (uint64_t)(uintptr_t)-1 - (uintptr_t)buf) {
        rc = NVME_ERR_INVAL; /* would wrap the address space */
        goto refused;
    }
    if (qp == NULL)
        return NVME_OK; /* every check passed: nvme_io_noqueue answers */
    out->ns = ns;
    out->epoch = e;
    out->lbads = ns->lbads;
    out->len = (uint32_t)len;
    out->one_page = one;
    return NVME_OK;
refused:
    if (ns == &ctrl->ns_none) /* NSID 0: no namespace, as when none is found */
        return NVME_ERR_NOENT;
    if (!settled && nvme_ns_epoch_moved(ctrl, e))
        return NVME_ERR_BUSY;
    return rc;
}

/* qp: what nvme_io_qpair_get(ctrl, qid) found. */
static NVME_HOT_INLINE int nvme_io_check(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                                         uint16_t qid, uint32_t nsid, uint64_t lba, uint32_t count,
                                         const void *buf, bool write, struct nvme_io_checked *out)
{
    return nvme_io_check_run(ctrl, qp, qid, nsid, lba, count, buf, write, out, false);
}

/* No queue `qid` when the call looked, and every other check passed:
 * none by that number (the caller's error), or none yet.  Ready with no
 * I/O queue and not admin-only is never a settled state: a restart marks
 * the controller ready at its enable and creates the queues after
 * Identify and Set Features, with the count a failed attempt left (0)
 * meanwhile; and a reset may have created the queue since the call
 * looked.  Both: submit again (blocking calls wait it out, nvme_rw_again). */
static int nvme_io_noqueue(struct nvme_ctrl *ctrl, uint16_t qid)
{
    if (NVME_READ_ONCE(ctrl->dead))
        return NVME_ERR_FATAL;
    if (!NVME_READ_ONCE(ctrl->ready) || nvme_io_queue_count(ctrl) == 0 ||
        nvme_io_qpair_get(ctrl, qid) != NULL)
        return NVME_ERR_STATE;
    return NVME_ERR_INVAL;
}

static __attribute__((noinline)) int nvme_io_check_noqueue(struct nvme_ctrl *ctrl, uint32_t nsid,
                                                           uint64_t lba, uint32_t count,
                                                           const void *buf, bool write,
                                                           uint16_t qid)
{
    int rc = nvme_io_check(ctrl, NULL, qid, nsid, lba, count, buf, write, NULL);
    return rc != NVME_OK ? rc : nvme_io_noqueue(ctrl, qid);
}

/* A blocking call's checks, from a settled namespace epoch (even when
 * read, the same after them: nvme_ns_epoch_settled); NVME_ERR_BUSY, as a
 * call during a Format, when it does not settle. */
static __attribute__((noinline, cold)) int
nvme_io_check_settled(struct nvme_ctrl *ctrl, struct nvme_qpair *qp, uint16_t qid, uint32_t nsid,
                      uint64_t lba, uint32_t count, const void *buf, bool write,
                      struct nvme_io_checked *out)
{
    for (unsigned tries = 0, waits = 0; tries < NVME_NS_SETTLE_TRIES; tries++) {
        uint32_t e = nvme_ns_epoch_settled(ctrl, &waits);
        if (e == NVME_NS_EPOCH_ANY)
            break;
        int rc = nvme_io_check_run(ctrl, qp, qid, nsid, lba, count, buf, write, out, true);
        if (rc == NVME_OK || !nvme_ns_epoch_moved(ctrl, e))
            return rc;
    }
    return NVME_ERR_BUSY;
}

/* Blocks of 2^lbads bytes in one command: within MDTS (a reset may lower
 * it) and NLB (16 bits). */
static uint32_t nvme_max_blocks_of(const struct nvme_ctrl *ctrl, uint32_t lbads)
{
    uint32_t max = NVME_READ_ONCE(ctrl->info.mdts_bytes) >> lbads;
    return max > 65536u ? 65536u : max;
}

static uint32_t nvme_max_blocks(const struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns)
{
    return nvme_max_blocks_of(ctrl, ns->lbads);
}

/* A read or write on a namespace with protection information: PRACT and
 * the reference tag (nvm_cmds.c), through begin/commit. */
static __attribute__((noinline)) int nvme_rw_submit_pi(struct nvme_qpair *qp, uint32_t epoch,
                                                       const struct nvme_ns_info *ns, uint8_t opc,
                                                       uint64_t lba, uint32_t count, void *buf,
                                                       unsigned flags, nvme_cmd_cb cb, void *arg)
{
    int rc;
    struct nvme_cmd_slot *s = nvme_qpair_begin(qp, epoch, &rc);
    if (s == NULL)
        return rc;
    nvme_sqe_rw(&s->sqe, opc, ns->nsid, lba, count);
    nvme_ns_plain_pi(ns, &s->sqe);
    return nvme_qpair_commit(
        qp, s, buf, count << ns->lbads,
        opc == NVME_CMD_READ ? NVME_DMA_FROM_DEVICE : NVME_DMA_TO_DEVICE,
        (flags & (NVME_SUBMIT_NO_DOORBELL | NVME_CMD_NO_RETRY)) | NVME_CMD_REPLAY, cb, arg);
}

/* One checked read or write, built in place in its slot; one_page: the
 * buffer lies inside one memory page (the fast path); epoch: what the
 * checks read; nsid and len: ns->nsid and count << ns->lbads, as the
 * caller has them at hand; flags: 0 or NVME_SUBMIT_NO_DOORBELL (every
 * caller's is one of the two: nvme_submit_rw refuses others). */
static NVME_HOT_INLINE int nvme_rw_submit(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                                          uint32_t epoch, const struct nvme_ns_info *ns,
                                          uint32_t nsid, uint8_t opc, uint64_t lba, uint32_t count,
                                          void *buf, uint32_t len, unsigned flags, nvme_cmd_cb cb,
                                          void *arg, bool one_page, bool keep_lock)
{
    /* A zoned write is not sent again for a status that may have moved
     * the write pointer (qpair.c nvme_zoned_write_failed): through the
     * general path, which keeps NO_RETRY in the slot.  Told by the opcode
     * (a constant) and the zone, not by testing flags again: a read never
     * has it. */
    const bool no_retry = opc == NVME_CMD_WRITE && ns->zone_size != 0;
    if (__builtin_expect(no_retry, 0))
        flags |= NVME_CMD_NO_RETRY;
    if (__builtin_expect(ns->pi_type != 0, 0))
        return nvme_rw_submit_pi(qp, epoch, ns, opc, lba, count, buf, flags, cb, arg);
    if (__builtin_expect(!one_page || no_retry, 0)) {
        int rc = nvme_qpair_submit_rw_slow(qp, epoch, opc, nsid, lba, count, buf, len, flags, cb,
                                           arg);
        /* Refused above MDTS at the PRP build: a reset lowered it after
         * the checks (as nvme_rw_above_mdts answers; the blocking path
         * cuts the piece again: nvme_piece_above_mdts). */
        return rc == NVME_ERR_INVAL && nvme_piece_above_mdts(ctrl, rc, len) ? NVME_ERR_UNSUPPORTED
                                                                            : rc;
    }
    return nvme_qpair_submit_rw(ctrl, qp, epoch, opc, nsid, lba, count, buf, len, flags, cb, arg,
                                keep_lock);
}

/* An asynchronous read or write above MDTS: one the controller took at
 * bring-up, refused since a reset lowered the limit (nvme_refresh_mdts),
 * is NVME_ERR_UNSUPPORTED (the caller cuts it at mdts_bytes now; it may
 * have sized it by the limit before the reset); above that, a caller's
 * error. */
static __attribute__((noinline, cold)) int
nvme_rw_above_mdts(const struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns, uint32_t count)
{
    uint32_t first = ctrl->mdts_bytes_first >> ns->lbads;
    return count <= (first > 65536u ? 65536u : first) ? NVME_ERR_UNSUPPORTED : NVME_ERR_INVAL;
}

static NVME_HOT_INLINE int nvme_submit_rw_op(struct nvme_ctrl *ctrl, uint16_t qid, uint8_t opc,
                                             uint32_t nsid, uint64_t lba, uint32_t count, void *buf,
                                             unsigned flags, nvme_cmd_cb cb, void *arg)
{
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    struct nvme_io_checked c;
    nvme_io_checked_none(&c);
    struct nvme_qpair *qp = nvme_io_qpair_get(ctrl, qid);
    int rc = nvme_io_check(ctrl, qp, qid, nsid, lba, count, buf, opc == NVME_CMD_WRITE, &c);
    if (rc != NVME_OK)
        return rc;
    if (cb == NULL) /* the caller would never learn its buffer is back (rule 1) */
        return NVME_ERR_INVAL;
    if (!c.one_page && count > nvme_max_blocks(ctrl, c.ns))
        return nvme_rw_above_mdts(ctrl, c.ns, count);
    rc = nvme_rw_submit(ctrl, qp, c.epoch, c.ns, nsid, opc, lba, count, buf, c.len, flags, cb, arg,
                        c.one_page, false);
    return __builtin_expect(rc == NVME_ERR_REQUEUE, 0) ? NVME_ERR_STATE : rc; /* resubmit */
}

int nvme_submit_rw(struct nvme_ctrl *ctrl, uint16_t qid, uint8_t opc, uint32_t nsid, uint64_t lba,
                   uint32_t count, void *buf, unsigned flags, nvme_cmd_cb cb, void *arg)
{
    if (ctrl == NULL || (flags & ~NVME_SUBMIT_NO_DOORBELL) != 0) /* NVME_IO_FUA is no flag here */
        return NVME_ERR_INVAL;
    /* One copy per opcode: the direction and its checks are constants. */
    if (opc == NVME_CMD_READ)
        return nvme_submit_rw_op(ctrl, qid, NVME_CMD_READ, nsid, lba, count, buf, flags, cb, arg);
    if (opc == NVME_CMD_WRITE)
        return nvme_submit_rw_op(ctrl, qid, NVME_CMD_WRITE, nsid, lba, count, buf, flags, cb, arg);
    return NVME_ERR_INVAL;
}

/* Places reqs[i..n) while each is a plain one-page read or write that
 * passes nvme_io_check's per-command checks (the per-batch ones are the
 * caller's); returns the index of the first it left, for nvme_submit_rw
 * to take or refuse.  Lock held. */
static unsigned nvme_rw_batch_place(struct nvme_ctrl *ctrl, struct nvme_qpair *qp, uint32_t epoch,
                                    const struct nvme_ns_info *ns, const struct nvme_rw_req *reqs,
                                    unsigned i, unsigned n)
{
    /* The namespace's fields in locals: the stores into the ring below
     * would make the compiler load them again for every request. */
    const uint64_t nsze = ns->nsze;
    const uint32_t nsid = ns->nsid, lbads = ns->lbads;
    /* Zoned writes are left to nvme_submit_rw (NVME_CMD_NO_RETRY). */
    const bool writable = !ns->read_only && ns->zone_size == 0;
    const uint32_t page_mask = ctrl->page_size - 1u;
    /* A read's buffer and length: dword aligned (§4.3) and, on a
     * non-coherent port that declares them, whole cache lines
     * (nvme_io_check); a write's length is whole blocks, dwords. */
    const uintptr_t read_mask = (ctrl->osal.dma_align > 1u ? ctrl->osal.dma_align - 1u : 0u) | 3u;

    if (!qp->live || !NVME_READ_ONCE(ctrl->ready) || NVME_READ_ONCE(ctrl->ns_frozen) != 0 ||
        nvme_ns_epoch_moved(ctrl, epoch))
        return i; /* one by one: nvme_submit_rw says why */
    /* A pointer to the request, not an index: one count fewer to keep
     * across the OSAL's call. */
    const struct nvme_rw_req *r = &reqs[i], *const end = &reqs[n];
    for (; r != end && qp->free_head != NVME_NO_SLOT; r++) {
        uintptr_t buf = (uintptr_t)r->buf;
        uint64_t lba = r->lba;
        uint32_t count = r->count;
        uint8_t opc = r->opc;
        /* count << lbads cannot wrap in 64 bits: 0 blocks (len - 1
         * wraps), blocks past the buffer's page (a PRP list, §4.3), and
         * a block larger than a page all fail the one compare. */
        uint64_t len = (uint64_t)count << lbads;
        uint64_t last = lba + count; /* past NSZE, or past 2^64 (last < lba) */
        if (buf == 0 || len - 1u >= page_mask + 1u - ((uint32_t)buf & page_mask) || last < lba ||
            last > nsze || r->cb == NULL)
            break;
        if (opc == NVME_CMD_READ) {
            if (((buf | len) & read_mask) != 0)
                break;
        } else if (opc != NVME_CMD_WRITE || !writable || (buf & 3u) != 0) {
            break;
        }
        uint64_t bus;
        if (!nvme_map_page(ctrl, (void *)buf, (uint32_t)len, nvme_rw_dir(opc), &bus))
            break;
        /* cb (checked above) and arg read after the OSAL's call, not
         * saved around it. */
        (void)nvme_qpair_fill_rw(ctrl, qp, opc, nsid, lba, count, (void *)buf, (uint32_t)len, r->cb,
                                 r->arg, bus);
    }
    return (unsigned)(r - reqs);
}

int nvme_submit_rw_batch(struct nvme_ctrl *ctrl, uint16_t qid, uint32_t nsid,
                         const struct nvme_rw_req *reqs, unsigned n, unsigned flags,
                         unsigned *submitted)
{
    unsigned i = 0;
    int rc = NVME_OK;

    if (submitted != NULL)
        *submitted = 0;
    if (ctrl == NULL || (reqs == NULL && n != 0) || (flags & ~NVME_SUBMIT_NO_DOORBELL) != 0)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    struct nvme_qpair *qp = nvme_io_qpair_get(ctrl, qid);
    /* No queue: reqs[0]'s checks say why, never NVME_OK, nothing sent (a
     * reset may have made the queue since the look: NVME_ERR_STATE,
     * submit again; before, reqs[0] went in while *submitted said 0). */
    if (qp == NULL)
        return n == 0 ? NVME_OK
               : reqs[0].opc != NVME_CMD_READ && reqs[0].opc != NVME_CMD_WRITE
                   ? NVME_ERR_INVAL
                   : nvme_io_check_noqueue(ctrl, nsid, reqs[0].lba, reqs[0].count, reqs[0].buf,
                                           reqs[0].opc == NVME_CMD_WRITE, qid);
    /* The per-batch half of nvme_io_check: what does not change between
     * the requests.  Anything else (PI, metadata, traces, an MDTS a reset
     * lowered below the page: nvme_io_check's `one`) goes one by one. */
    uint32_t epoch = nvme_ns_epoch_read(ctrl); /* before the namespace's fields */
    const struct nvme_ns_info *ns = nvme_io_ns(ctrl, qp, nsid);
    bool fast = ns != NULL && ns->status == NVME_OK && !NVME_READ_ONCE(ctrl->gone) &&
                !NVME_READ_ONCE(ctrl->info.admin_only) && ns->plain_io && ns->pi_type == 0 &&
                ctrl->trace == 0 && NVME_READ_ONCE(ctrl->info.mdts_bytes) >= ctrl->page_size;
    nvme_lock(qp);
    while (i < n) {
        if (fast)
            i = nvme_rw_batch_place(ctrl, qp, epoch, ns, reqs, i, n);
        if (i == n)
            break;
        /* One the loop left (a PRP list, a full queue, an error, ...):
         * as a command of its own, on the same queue; not when the
         * namespaces changed since this call read them: its requests
         * count blocks of the format it saw (nvme_ns_epoch_read). */
        if (nvme_ns_epoch_moved(ctrl, epoch)) {
            rc = NVME_ERR_BUSY;
            break;
        }
        nvme_unlock(qp);
        const struct nvme_rw_req *r = &reqs[i];
        rc = nvme_submit_rw(ctrl, qp->qid, r->opc, nsid, r->lba, r->count, r->buf,
                            flags | NVME_SUBMIT_NO_DOORBELL, r->cb, r->arg);
        nvme_lock(qp);
        if (rc == NVME_ERR_INVAL && qid == NVME_QID_CPU && qp->qid > nvme_io_queue_count(ctrl))
            rc = NVME_ERR_STATE; /* a reset dropped this CPU's queue: submit again */
        if (rc != NVME_OK)
            break;
        i++;
    }
    if (!(flags & NVME_SUBMIT_NO_DOORBELL) && qp->live)
        nvme_qpair_ring_locked(qp); /* one doorbell for the batch */
    nvme_unlock(qp);
    if (submitted != NULL)
        *submitted = i;
    return rc;
}

/* Flush of NSID FFFFFFFFh, every namespace at once: only where Identify
 * Controller VWC (byte 525) bits 2:1 are 11b, since NVMe 1.4; 10b says
 * the controller refuses it, 00b says nothing (§6.8). */
static bool nvme_flush_broadcast(const struct nvme_ctrl *ctrl)
{
    return ((NVME_READ_ONCE(ctrl->info.vwc) >> 1) & 3u) == 3u;
}

/* A namespace whose format the core cannot read or write with (status
 * NVME_ERR_PROTO or NVME_ERR_UNSUPPORTED, after a Format say) is still
 * active, and its volatile write cache may hold writes acknowledged
 * before: Flush depends on no LBA format (§6.8), so it is flushed too.
 * Inactive ones (NOENT) have nothing to flush; frozen ones (BUSY) answer
 * BUSY. */
static int nvme_flush_submit(struct nvme_ctrl *ctrl, uint16_t qid, uint32_t nsid, unsigned flags,
                             nvme_cmd_cb cb, void *arg, struct nvme_qpair **used)
{
    if (NVME_READ_ONCE(ctrl->gone))
        return NVME_ERR_GONE;
    if (nsid != NVME_NSID_ALL) {
        const struct nvme_ns_info *ns = nvme_ns_find(ctrl, nsid);
        if (ns == NULL)
            return NVME_ERR_NOENT;
        int st = NVME_READ_ONCE(ns->status);
        if (st == NVME_ERR_NOENT || st == NVME_ERR_BUSY)
            return st;
    } else if (!nvme_flush_broadcast(ctrl)) {
        return NVME_ERR_UNSUPPORTED; /* nvme_flush goes namespace by namespace */
    }
    if (NVME_READ_ONCE(ctrl->info.admin_only)) /* issue 9 */
        return nvme_io_admin_only(ctrl);
    struct nvme_qpair *qp = nvme_io_qpair_get(ctrl, qid);
    if (qp == NULL)
        return nvme_io_noqueue(ctrl, qid);
    if (used != NULL)
        *used = qp; /* the queue to wait on */
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_CMD_FLUSH, nsid);
    return nvme_qpair_submit(qp, &sqe, NULL, 0, NVME_DMA_TO_DEVICE,
                             (flags & NVME_SUBMIT_NO_DOORBELL) | NVME_CMD_REPLAY, cb, arg);
}

int nvme_submit_flush(struct nvme_ctrl *ctrl, uint16_t qid, uint32_t nsid, unsigned flags,
                      nvme_cmd_cb cb, void *arg)
{
    if (ctrl == NULL || (flags & ~NVME_SUBMIT_NO_DOORBELL) != 0)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    int rc = nvme_flush_submit(ctrl, qid, nsid, flags, cb, arg, NULL);
    return rc == NVME_ERR_REQUEUE ? NVME_ERR_STATE : rc; /* its queue dropped: resubmit */
}

/* A piece refused because the namespaces changed since the call's
 * checks (nvme_ns_epoch_read; a rescan, a Format to the same format, a
 * resize): the rest of the transfer is checked again and goes on under
 * the new epoch when it is the same namespace with the same block size;
 * with another, the caller's buffer was sized for blocks that are no
 * more, and a namespace created again under the NSID (other identifiers)
 * is not the one the data was for: NVME_ERR_BUSY, as during a Format. */
static __attribute__((noinline, cold)) int nvme_rw_recheck(struct nvme_ctrl *ctrl,
                                                           struct nvme_qpair *qp,
                                                           struct nvme_io_checked *c, uint8_t opc,
                                                           uint64_t lba, uint32_t count, void *buf)
{
    struct nvme_io_checked now;
    int rc = nvme_io_check_settled(ctrl, qp, qp->qid, c->ns->nsid, lba, count, buf,
                                   opc == NVME_CMD_WRITE, &now);
    if (rc != NVME_OK)
        return rc;
    if (now.ns != c->ns || now.lbads != c->lbads || nvme_ns_renewed_since(now.ns, c->epoch))
        return NVME_ERR_BUSY;
    c->epoch = now.epoch;
    return NVME_OK;
}

/* One pass over the whole transfer: submit pieces until the queue is
 * full, ring once, wait, repeat.  Returns the first error.  *spent: the
 * call's budget for other CPUs' resets (nvme_reset_waited), shared with
 * nvme_rw_again so that the call has one bound.  ns, epoch, lbads:
 * what the checks found (nvme_io_checked; by value, so that the caller's
 * stay in registers); lbads cuts the buffer, whatever the namespace says
 * by now. */
static int nvme_rw_pass(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                        const struct nvme_ns_info *ns, uint32_t epoch, uint32_t lbads, uint8_t opc,
                        uint64_t lba, uint32_t count, uint8_t *buf, unsigned *spent)
{
    struct nvme_io_checked cc = {ns, epoch, lbads, 0, false};
    struct nvme_io_checked *c = &cc;
    struct nvme_waiter w = {ctrl, 0, 0, 0, 0};
    /* Pieces in the block size the checks found (c->lbads), not the
     * namespace's as a rescan may have rewritten it since: a piece cut in
     * a smaller new size is above MDTS in the old, and the MDTS branch
     * below would cut it again, the same, without end (no OSAL call in
     * between); the placement refuses it all the same (the epoch moved),
     * so nvme_rw_recheck looks. */
    uint32_t max = nvme_max_blocks_of(ctrl, c->lbads);
    uint32_t done = 0;
    unsigned busy = 0; /* nvme_busy_waited's count */
    int rc = NVME_OK;
    /* Zoned writes go one at a time: each must start at the zone's write
     * pointer (ZNS Command Set), and a controller need not run the commands
     * of a queue in order, so a second piece in flight could reach the
     * zone first (Zone Invalid Write).  Linux keeps one write per zone in
     * flight for the same reason (zone write locking). */
    const bool serial = ns->zone_size != 0 && opc == NVME_CMD_WRITE;

    /* A block above MDTS, which a reset lowered (nvme_refresh_identify)
     * before the rescan marks the namespace so (ns.c): no command. */
    if (__builtin_expect(max == 0, 0))
        return NVME_ERR_UNSUPPORTED;
    while (done < count && rc == NVME_OK) {
        /* For each piece: a reset may have lowered MDTS. */
        max = nvme_max_blocks_of(ctrl, c->lbads);
        if (max == 0) {
            rc = NVME_ERR_UNSUPPORTED;
            break;
        }
        uint32_t n = count - done < max ? count - done : max;
        /* Zoned: no piece spans zones (nvme_rw). */
        if (ns->zone_size != 0 && n > nvme_zone_left(ns, lba + done))
            n = (uint32_t)nvme_zone_left(ns, lba + done);
        nvme_waiter_add(&w, 1); /* before submit: a completion may arrive inside it */
        uint8_t *p = buf + ((uintptr_t)done << c->lbads);
        bool one = (n << c->lbads) <=
                   ctrl->page_size - ((uint32_t)(uintptr_t)p & (ctrl->page_size - 1u));
        rc = nvme_rw_submit(ctrl, qp, c->epoch, ns, ns->nsid, opc, lba + done, n, p, n << c->lbads,
                            NVME_SUBMIT_NO_DOORBELL, nvme_waiter_cb, &w, one, false);
        if (rc == NVME_OK) {
            done += n;
            if (serial) {
                nvme_qpair_ring(ctrl, qp->qid);
                rc = nvme_wait(qp, &w);
            }
            continue;
        }
        nvme_waiter_sub(&w);
        if (nvme_piece_above_mdts(ctrl, rc, (uint64_t)n << c->lbads)) {
            rc = NVME_OK; /* cut before a reset lowered MDTS: cut again */
        } else if (rc == NVME_ERR_BUSY && nvme_ns_epoch_moved(ctrl, c->epoch)) {
            rc = nvme_rw_recheck(ctrl, qp, c, opc, lba + done, count - done, p);
        } else if (rc == NVME_ERR_BUSY && nvme_waiter_pending(&w) > 0) { /* queue full: drain */
            nvme_qpair_ring(ctrl, qp->qid);
            rc = nvme_wait(qp, &w);
        } else if (nvme_reset_waited(ctrl, &rc, spent) || nvme_busy_waited(qp, &rc, &busy)) {
            rc = NVME_OK; /* another CPU's reset (replays what went before), or a
                             queue full of other commands: go on */
        }
    }
    nvme_qpair_ring(ctrl, qp->qid);
    int wrc = nvme_wait(qp, &w);
    return rc != NVME_OK ? rc : wrc;
}

/* A blocking read or write its checks turned away for a passing state:
 * another CPU's reset (NVME_ERR_STATE: once it is over,
 * nvme_reset_waited) or a namespace read while a rescan rewrote it
 * (NVME_ERR_BUSY: once it is settled, nvme_io_check_settled, which says
 * BUSY again for a frozen one), or whose queue a reset dropped (NVME_OK);
 * checked again and sent through the general path. */
static __attribute__((noinline, cold)) int nvme_rw_again(struct nvme_ctrl *ctrl, uint8_t opc,
                                                         uint32_t nsid, uint64_t lba,
                                                         uint32_t count, void *buf, int rc)
{
    unsigned spent = 0, requeues = 0;
    if (rc == NVME_ERR_STATE && !nvme_reset_waited(ctrl, &rc, &spent))
        return rc;
    for (;;) {
        struct nvme_io_checked c;
        nvme_io_checked_none(&c);
        struct nvme_qpair *qp = nvme_io_qpair_get(ctrl, NVME_QID_CPU);
        rc = nvme_io_check_settled(ctrl, qp, NVME_QID_CPU, nsid, lba, count, buf,
                                   opc == NVME_CMD_WRITE, &c);
        if (rc == NVME_OK)
            rc = nvme_rw_pass(ctrl, qp, c.ns, c.epoch, c.lbads, opc, lba, count, buf, &spent);
        if (rc == NVME_ERR_REQUEUE) { /* dropped again by the next reset */
            if (++requeues <= NVME_REQUEUES && (c.ns->zone_size == 0 || opc != NVME_CMD_WRITE))
                continue;
            return NVME_ERR_ABORTED;
        }
        if (!nvme_reset_waited(ctrl, &rc, &spent))
            return rc;
    }
}

/* A blocking read's or write's arguments for the paths that follow its
 * one-command submission (a full queue, another CPU's reset, a requeue):
 * stored once, and read from memory there, so that none of them holds a
 * register across the submission and the reap, whose OSAL calls need
 * every register a call keeps (x86-64 has six).  ns and lbads: what the
 * checks found (nvme_io_checked); the NSID is ns->nsid, since the checks
 * found ns by it and namespace objects keep their NSID. */
struct nvme_rw_args {
    const struct nvme_ns_info *ns;
    uint64_t lba;
    void *buf;
    uint32_t count;
    uint8_t lbads;
};

/* A blocking read or write whose queue a reset dropped (NVME_ERR_REQUEUE):
 * the whole transfer again on this CPU's queue now (pieces done twice
 * write the same bytes), except a zoned write, whose write pointer moved
 * on. */
static __attribute__((noinline, cold)) int nvme_rw_requeue(struct nvme_ctrl *ctrl, uint8_t opc,
                                                           const struct nvme_rw_args *a)
{
    if (a->ns->zone_size == 0 || opc != NVME_CMD_WRITE)
        return nvme_rw_again(ctrl, opc, a->ns->nsid, a->lba, a->count, a->buf, NVME_OK);
    return NVME_ERR_ABORTED;
}

static NVME_HOT_INLINE int nvme_rw(struct nvme_ctrl *ctrl, uint8_t opc, uint32_t nsid, uint64_t lba,
                                   uint32_t count, void *buf)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    struct nvme_io_checked c;
    nvme_io_checked_none(&c);
    struct nvme_qpair *qp = nvme_io_qpair_get(ctrl, NVME_QID_CPU);
    int rc = nvme_io_check(ctrl, qp, NVME_QID_CPU, nsid, lba, count, buf, opc == NVME_CMD_WRITE,
                           &c);
    if (rc != NVME_OK)
        goto refused;
    const struct nvme_ns_info *ns = c.ns;
    struct nvme_rw_args a = {ns, lba, buf, count, (uint8_t)c.lbads};
    /* A transfer that spans zones goes as one command per zone, as Linux's
     * block layer cuts at the zone size: one command across a boundary is
     * a Zone Boundary Error for a write, and for a read unless the
     * namespace reads across zone boundaries (ZNS 1.1, OZCS bit 0). */
    if (__builtin_expect(!c.one_page || (ns->zone_size != 0 && (opc == NVME_CMD_WRITE ||
                                                                count > nvme_zone_left(ns, lba))),
                         0)) { /* PRP lists, pieces, zones, zoned writes (nvme_rw_pass) */
        unsigned spent = 0;
        rc = nvme_rw_pass(ctrl, qp, c.ns, c.epoch, c.lbads, opc, lba, count, buf, &spent);
        goto done;
    }
    /* One command: submit it with its doorbell and reap one completion at
     * once (a fast controller has answered already: ours, when nothing
     * else is in flight); nvme_wait, which reaps everything, if it has not.
     * With traces on, the submission's gate sends it the general way
     * (nvme_qpair_submit_rw), traced, and the reap is nvme_qpair_process's. */
    struct nvme_waiter w; /* dw0 unused here: left alone */
    w.ctrl = ctrl;
    w.pending = 1;
    w.result = 0;
    rc = nvme_rw_submit(ctrl, qp, c.epoch, ns, nsid, opc, lba, count, buf, c.len, 0, nvme_waiter_cb,
                        &w, true, true);
    if (__builtin_expect(rc == NVME_SUBMITTED_LOCKED, 1)) { /* the fast path kept the lock */
        (void)nvme_qpair_reap(ctrl, qp, 1, true, true, false);
    } else if (rc == NVME_OK) {
        (void)nvme_qpair_process(qp, 1);
    } else if (rc == NVME_ERR_BUSY) { /* a full queue: the general path waits for a slot */
        unsigned spent = 0;
        rc = nvme_rw_pass(ctrl, qp, a.ns, c.epoch, a.lbads, opc, a.lba, a.count, a.buf, &spent);
        goto done;
    } else { /* as refused below, with the arguments from memory */
        return rc == NVME_ERR_STATE || rc == NVME_ERR_REQUEUE
                   ? nvme_rw_again(ctrl, opc, a.ns->nsid, a.lba, a.count, a.buf,
                                   rc == NVME_ERR_STATE ? rc : NVME_OK)
                   : rc;
    }
    rc = nvme_waiter_pending(&w) == 0 ? w.result : nvme_wait(qp, &w);
done: /* its queue gone at a reset? */
    if (__builtin_expect(rc == NVME_ERR_REQUEUE, 0))
        return nvme_rw_requeue(ctrl, opc, &a);
    return rc;
refused: /* BUSY: read mid-rewrite, or frozen (nvme_io_check_settled says which) */
    if (rc == NVME_ERR_STATE || rc == NVME_ERR_BUSY)
        return nvme_rw_again(ctrl, opc, nsid, lba, count, buf, rc);
    return rc;
}

int nvme_read(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    return nvme_rw(ctrl, NVME_CMD_READ, nsid, lba, count, buf);
}

int nvme_write(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    /* The device only reads the buffer (DMA TO_DEVICE). */
    return nvme_rw(ctrl, NVME_CMD_WRITE, nsid, lba, count, (void *)(uintptr_t)buf);
}

/* BUSY from the namespace itself (a Format froze it, or the rescan after
 * one failed: nvme_ns_thaw) is the caller's answer, as for read and
 * write; only a full queue is waited out (nvme_busy_waited). */
static bool nvme_flush_ns_busy(struct nvme_ctrl *ctrl, uint32_t nsid)
{
    const struct nvme_ns_info *ns = nsid != NVME_NSID_ALL ? nvme_ns_find(ctrl, nsid) : NULL;
    return ns != NULL && NVME_READ_ONCE(ns->status) == NVME_ERR_BUSY;
}

/* One Flush, waited for (nvme_flush). */
static int nvme_flush_one(struct nvme_ctrl *ctrl, uint32_t nsid)
{
    int rc = NVME_OK;
    /* Its queue gone at a reset (NVME_ERR_REQUEUE): again, on this CPU's
     * queue now; the queue is looked up at each try for that reason.  The
     * wait is on the queue the Flush went to (`used`): the lookup may have
     * found none before a reset created the first ones (after an
     * admin-only bring-up), which nvme_flush_submit then found. */
    for (unsigned requeues = 0; requeues <= NVME_REQUEUES; requeues++) {
        struct nvme_waiter w = {ctrl, 1, 0, 0, 0};
        struct nvme_qpair *qp = nvme_io_qpair_get(ctrl, NVME_QID_CPU), *used = NULL;
        rc = nvme_flush_submit(ctrl, qp != NULL ? qp->qid : 1u, nsid, 0, nvme_waiter_cb, &w, &used);
        for (unsigned spent = 0, busy = 0; nvme_reset_waited(ctrl, &rc, &spent) ||
                                           (used != NULL && !nvme_flush_ns_busy(ctrl, nsid) &&
                                            nvme_busy_waited(used, &rc, &busy));) {
            qp = nvme_io_qpair_get(ctrl, NVME_QID_CPU);
            used = NULL;
            rc = nvme_flush_submit(ctrl, qp != NULL ? qp->qid : 1u, nsid, 0, nvme_waiter_cb, &w,
                                   &used);
        }
        if (rc == NVME_OK)
            rc = nvme_wait(used, &w);
        if (rc != NVME_ERR_REQUEUE)
            break;
    }
    return rc == NVME_ERR_REQUEUE ? NVME_ERR_ABORTED : rc;
}

/* Flush (§6.8): commits the volatile write cache for the namespace;
 * NVME_NSID_ALL: for every namespace, in one command where the controller
 * takes NSID FFFFFFFFh, else one per active namespace (nvme_flush_submit;
 * the first error returned, the others flushed all the same; a frozen one
 * says BUSY). */
int nvme_flush(struct nvme_ctrl *ctrl, uint32_t nsid)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (nsid == NVME_NSID_ALL && !nvme_flush_broadcast(ctrl)) {
        int rc = NVME_OK;
        unsigned n = nvme_ns_count(ctrl);
        for (unsigned i = 0; i < n; i++) {
            const struct nvme_ns_info *ns = nvme_ns_at(ctrl, i);
            if (ns == NULL)
                continue;
            int r = nvme_flush_one(ctrl, ns->nsid);
            if (r == NVME_ERR_NOENT) /* detached meanwhile: inactive, nothing to flush */
                continue;
            if (r != NVME_OK && rc == NVME_OK)
                rc = r;
        }
        return rc;
    }
    return nvme_flush_one(ctrl, nsid);
}
