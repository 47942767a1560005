/* SPDX-License-Identifier: MIT */
/*
 * nvm_cmds.c - NVM commands beyond Read/Write/Flush (NVM Command Set
 * Specification 1.0, "NVM CS"): Dataset Management, Write Zeroes, Verify,
 * Copy, Compare, Read/Write with FUA, PI and metadata (separate through MPTR or
 * interleaved), and the Zoned Namespace Command Set 1.1 ("ZNS"): Zone
 * Management Send/Receive and Zone Append.
 *
 * Each call checks the caller's input and what the controller reports
 * before anything is sent, then runs its commands one at a time on the
 * calling CPU's I/O queue (io.c keeps the pipelined fast path).  I/O
 * commands may be replayed after a reset (lifecycle rule 4).
 */
#include "nvme_internal.h"

int nvme_io_admin_only(struct nvme_ctrl *ctrl)
{
    if (!NVME_READ_ONCE(ctrl->info.admin_only))
        return NVME_OK;
    nvme_log(ctrl, NVME_LOG_ERROR,
             "no I/O queues (Number of Queues or Create I/O Queue refused; a reset "
             "asks again)");
    return NVME_ERR_UNSUPPORTED;
}

int nvme_ns_plain_check(struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns)
{
    if (ns->plain_io)
        return NVME_OK;
    nvme_log(ctrl, NVME_LOG_ERROR,
             "namespace %u: format %u has %u metadata bytes per block%s: use nvme_read_ext/"
             "nvme_write_ext",
             ns->nsid, ns->format, ns->ms, ns->md_extended ? " (extended LBA)" : "");
    return NVME_ERR_UNSUPPORTED;
}

/* CDW12 bits of the NVME_IO_* flags. */
static uint32_t nvm_cdw12_flags(unsigned flags)
{
    return ((flags & NVME_IO_FUA) ? NVME_RW_FUA : 0u) | ((flags & NVME_IO_LR) ? NVME_RW_LR : 0u) |
           ((flags & NVME_IO_PRACT) ? NVME_RW_PRACT : 0u) |
           ((flags & NVME_IO_PRCHK_GUARD) ? NVME_RW_PRCHK_GUARD : 0u) |
           ((flags & NVME_IO_PRCHK_APP) ? NVME_RW_PRCHK_APP : 0u) |
           ((flags & NVME_IO_PRCHK_REF) ? NVME_RW_PRCHK_REF : 0u);
}

/* PRINFO bits `prinfo` (CDW12), and for Types 1 and 2 the SLBA as the
 * initial reference tag (ILBRT): its low 32 bits in CDW14, with the 64b
 * Guard also bits 47:32 in CDW3 15:0, as the reference tag has 48 bits
 * there (NVM CS 1.0 §5.2.1.4.1, Figure 125; Linux
 * nvme_set_ref_tag). */
static __attribute__((noinline)) void nvme_pi_fields(const struct nvme_ns_info *ns,
                                                     struct nvme_sqe *sqe, uint32_t prinfo)
{
    sqe->cdw12 |= prinfo;
    if (ns->pi_type == 1u || ns->pi_type == 2u) {
        sqe->cdw14 = sqe->cdw10;
        if (ns->pif == NVME_PIF_64B_GUARD)
            sqe->cdw3 = sqe->cdw11 & 0xffffu;
    }
}

/* PI-only formats (ms = pi_size): PRACT, so the controller inserts the
 * PI on writes and strips it on reads, and the checks Linux asks for
 * (nvme_setup_rw): the guard, and the reference tag of Types 1 and 2 (a
 * Type 3 tag is not the LBA's).  So a block whose data no longer match
 * its PI fails with an End-to-end error (SCT 2h) instead of reaching the
 * caller. */
unsigned nvme_ns_plain_flags(const struct nvme_ns_info *ns)
{
    if (ns == NULL || ns->pi_size == 0 || ns->ms != ns->pi_size)
        return 0;
    return NVME_IO_PRACT | NVME_IO_PRCHK_GUARD | (ns->pi_type != 3u ? NVME_IO_PRCHK_REF : 0u);
}

void nvme_ns_plain_pi(const struct nvme_ns_info *ns, struct nvme_sqe *sqe)
{
    unsigned flags = nvme_ns_plain_flags(ns);
    if (flags != 0)
        nvme_pi_fields(ns, sqe, nvm_cdw12_flags(flags));
}

static int nvm_ns_check(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count,
                        bool write, const struct nvme_ns_info **out)
{
    if (NVME_READ_ONCE(ctrl->gone))
        return NVME_ERR_GONE;
    const struct nvme_ns_info *ns = nvme_ns_find(ctrl, nsid);
    if (ns == NULL)
        return NVME_ERR_NOENT;
    int st = NVME_READ_ONCE(ns->status);
    if (st != NVME_OK)
        return st;
    if (count == 0)
        return NVME_ERR_INVAL;
    if (lba >= ns->nsze || count > ns->nsze - lba)
        return NVME_ERR_RANGE;
    if (write && ns->read_only)
        return NVME_ERR_RDONLY;
    int rc = nvme_io_admin_only(ctrl);
    if (rc != NVME_OK)
        return rc;
    if (NVME_READ_ONCE(ctrl->dead))
        return NVME_ERR_FATAL;
    if (!NVME_READ_ONCE(ctrl->ready) || nvme_io_queue_count(ctrl) == 0)
        return NVME_ERR_STATE;
    *out = ns;
    return NVME_OK;
}

/* nvm_ns_check from a settled namespace epoch (nvme_ns_epoch_settled):
 * fields read while a rescan rewrote them are read again, as io.c's
 * checks do.  *epoch: the one the checks that passed read, for the
 * commands to be placed under (a rescan after the checks, which may have
 * shrunk the namespace or made it another under its NSID, then refuses
 * them and the checks run again: nvm_exec_built, nvm_data_recheck). */
static int nvm_ns_check_settled(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count,
                                bool write, const struct nvme_ns_info **out, uint32_t *epoch)
{
    for (unsigned tries = 0, waits = 0; tries < NVME_NS_SETTLE_TRIES; tries++) {
        uint32_t e = nvme_ns_epoch_settled(ctrl, &waits);
        if (e == NVME_NS_EPOCH_ANY)
            break;
        int rc = nvm_ns_check(ctrl, nsid, lba, count, write, out);
        if (rc == NVME_OK || !nvme_ns_epoch_moved(ctrl, e)) {
            *epoch = e;
            return rc;
        }
    }
    return NVME_ERR_BUSY;
}

/* The checks every call below starts with (like io.c's for Read).  A
 * controller another CPU is resetting is waited for, and the namespace
 * looked up again after it, as nvme_read does (nvme.h rule 4: a blocking
 * call on another CPU waits for the reset to end and goes on). */
static int nvm_ns(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count, bool write,
                  const struct nvme_ns_info **out, uint32_t *epoch)
{
    *out = NULL;
    *epoch = NVME_NS_EPOCH_ANY;
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    int rc = nvm_ns_check_settled(ctrl, nsid, lba, count, write, out, epoch);
    for (unsigned spent = 0; nvme_reset_waited(ctrl, &rc, &spent);)
        rc = nvm_ns_check_settled(ctrl, nsid, lba, count, write, out, epoch);
    return rc;
}

static int nvm_unsupported(struct nvme_ctrl *ctrl, uint32_t nsid, const char *what, const char *why)
{
    nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u: %s not supported (%s)", nsid, what, why);
    return NVME_ERR_UNSUPPORTED;
}

/* The calling CPU's I/O queue for a blocking command whose checks
 * passed, or NULL with *rc.  None there: a reset since the checks left
 * the controller admin-only (Number of Queues or Create I/O Queue
 * refused), which the checks now answer with nvme_io_admin_only until a
 * later reset gets queues; or a restart on another CPU has not created
 * them yet (ready at its enable, the count a failed attempt left at 0
 * meanwhile: recovery.c), which is waited out as nvme_read waits
 * (nvme_reset_waited; NVME_ERR_STATE where it cannot wait). */
static struct nvme_qpair *nvm_queue(struct nvme_ctrl *ctrl, int *rc)
{
    for (unsigned spent = 0;;) {
        struct nvme_qpair *qp = nvme_io_qpair_get(ctrl, NVME_QID_CPU);
        if (qp != NULL)
            return qp;
        *rc = NVME_READ_ONCE(ctrl->info.admin_only) ? nvme_io_admin_only(ctrl) : NVME_ERR_STATE;
        if (!nvme_reset_waited(ctrl, rc, &spent))
            return NULL;
    }
}

/* The submission flags of I/O command opc to ns: replayed after a reset;
 * one that moves a zone's write pointer (Write, Write Zeroes, Copy) is
 * not sent again for a status that may have moved it (qpair.c
 * nvme_zoned_write_failed). */
static unsigned nvm_flags(const struct nvme_ns_info *ns, uint8_t opc)
{
    bool moves_wp = opc == NVME_CMD_WRITE || opc == NVME_CMD_WRITE_ZEROES || opc == NVME_CMD_COPY;
    if (opc == NVME_CMD_ZONE_APPEND)
        return 0; /* never replayed: a second append writes the data twice */
    return NVME_CMD_REPLAY | (moves_wp && ns->zone_size != 0 ? NVME_CMD_NO_RETRY : 0u);
}

/* One I/O command, blocking; epoch: read before the checks whose
 * namespace fields sized its data (nvm_ns's), or
 * NVME_NS_EPOCH_ANY when its length depends on no format; flags:
 * nvm_flags. */
static int nvm_exec(struct nvme_ctrl *ctrl, uint32_t epoch, const struct nvme_sqe *sqe, void *buf,
                    uint32_t len, enum nvme_dma_dir dir, unsigned flags, uint32_t *dw0)
{
    int rc;
    struct nvme_qpair *qp = nvm_queue(ctrl, &rc);
    if (qp == NULL)
        return rc;
    return nvme_exec_epoch(qp, epoch, sqe, buf, len, dir, flags, dw0);
}

/* nvm_exec of a command with md_len bytes of separate metadata at its
 * MPTR (0: none). */
static int nvm_exec_md(struct nvme_ctrl *ctrl, uint32_t epoch, const struct nvme_sqe *sqe,
                       void *buf, uint32_t len, uint32_t md_len, enum nvme_dma_dir dir,
                       unsigned flags)
{
    int rc;
    struct nvme_qpair *qp = nvm_queue(ctrl, &rc);
    if (qp == NULL)
        return rc;
    return nvme_exec_md(qp, epoch, sqe, buf, len, md_len, dir, flags);
}

static uint32_t nvm_data_block(const struct nvme_ns_info *ns, unsigned flags);
static uint32_t nvm_md_block(const struct nvme_ns_info *ns, unsigned flags);
static uint16_t nvm_pi_key(const struct nvme_ns_info *ns);
static int nvm_data_recheck(struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns, bool write,
                            uint64_t lba, uint64_t count, unsigned flags, uint32_t dblk,
                            uint32_t mblk, uint16_t pi, uint32_t *epoch);

/* What the commands of a call that names blocks were built for: the
 * namespace as the call's checks found it, the epoch those checks read
 * (nvm_ns's, read before them: a rescan between the checks and a command
 * then refuses the command), its block sizes and protection then
 * (nvm_data_recheck compares them), and whether the call writes. */
struct nvm_built {
    const struct nvme_ns_info *ns;
    uint32_t epoch;
    uint32_t dblk, mblk;
    uint16_t pi;
    bool write;
    uint32_t dw0; /* the command's Dword 0 (Zone Append's LBA) */
    /* Blocks the command names besides [lba, lba + count) of
     * nvm_exec_built (Dataset Management's ranges, Copy's sources):
     * checked again with them after a refusal, since a rescan may have
     * shrunk the namespace under them; NULL: none. */
    int (*also)(const struct nvme_ns_info *ns, const void *arg);
    const void *also_arg;
};

static void nvm_built_take(struct nvm_built *b, uint32_t epoch, const struct nvme_ns_info *ns,
                           bool write)
{
    b->epoch = epoch; /* nvm_ns's: the one its checks read */
    b->ns = ns;
    b->dblk = nvm_data_block(ns, 0);
    b->mblk = nvm_md_block(ns, 0);
    b->pi = nvm_pi_key(ns);
    b->write = write;
    b->also = NULL;
    b->also_arg = NULL;
}

/* nvm_exec of a command that names blocks of b->ns ([lba, lba + count):
 * what the call has still to do).  Refused because the namespaces
 * changed since the call's checks (a rescan, a Format, the namespace
 * made again under its NSID), it goes again once they pass again for the
 * same namespace with the same block sizes and protection
 * (nvm_data_recheck); else NVME_ERR_BUSY, as nvme_write's pieces
 * (nvme_rw_recheck): the caller's LBAs name blocks that are no more, or
 * another namespace's. */
static int nvm_exec_built(struct nvme_ctrl *ctrl, struct nvm_built *b, uint64_t lba, uint64_t count,
                          struct nvme_sqe *sqe, void *buf, uint32_t len, enum nvme_dma_dir dir,
                          unsigned bounce)
{
    for (;;) {
        int rc;
        struct nvme_qpair *qp;
        /* bounce 2: a passthrough, never replayed (nvme_io_passthru) */
        unsigned flags = bounce > 1u ? 0u : nvm_flags(b->ns, sqe->opc);
        if (!bounce)
            rc = nvm_exec(ctrl, b->epoch, sqe, buf, len, dir, flags, &b->dw0);
        else if ((qp = nvm_queue(ctrl, &rc)) != NULL) /* caller memory: a buffer of the core */
            rc = nvme_exec_bounce(qp, b->epoch, sqe, buf, len, dir, flags, &b->dw0);
        if (rc != NVME_ERR_BUSY || !nvme_ns_epoch_moved(ctrl, b->epoch))
            return rc;
        rc = nvm_data_recheck(ctrl, b->ns, b->write, lba, count, 0, b->dblk, b->mblk, b->pi,
                              &b->epoch);
        if (rc == NVME_OK && b->also != NULL)
            rc = b->also(b->ns, b->also_arg); /* (a change since: refused again, above) */
        if (rc != NVME_OK)
            return rc;
    }
}

#define NVME_IO_PI_FLAGS                                                                           \
    (NVME_IO_PRACT | NVME_IO_PRCHK_GUARD | NVME_IO_PRCHK_APP | NVME_IO_PRCHK_REF)
#define NVME_IO_ALL_FLAGS (NVME_IO_FUA | NVME_IO_LR | NVME_IO_DEALLOCATE | NVME_IO_PI_FLAGS)

static __attribute__((noinline)) int
nvm_pi_flags_check(struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns, unsigned flags)
{
    if ((flags & ~NVME_IO_ALL_FLAGS) != 0)
        return NVME_ERR_INVAL;
    if ((flags & NVME_IO_PI_FLAGS) != 0 && ns->pi_type == 0)
        return nvm_unsupported(ctrl, ns->nsid, "protection information", "the format has none");
    if ((flags & NVME_IO_PI_FLAGS) != 0 && ns->pi_size == 0)
        return nvm_unsupported(ctrl, ns->nsid, "protection information",
                               "its format (32b Guard or a storage tag) is not handled");
    return NVME_OK;
}

/* A command with a block range of at most 65536 blocks: SLBA in CDW10-11,
 * NLB (0-based) in CDW12[15:0], like Read and Write (NVMe 1.4 §6.9, §6.15).
 * These calls are not the I/O fast path: the zeroing pass of
 * nvme_sqe_init is fine here (nvme_sqe_rw is io.c's). */
static void nvm_sqe_range(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t lba,
                          uint32_t n)
{
    nvme_sqe_init(sqe, opc, nsid);
    sqe->cdw10 = (uint32_t)lba;
    sqe->cdw11 = (uint32_t)(lba >> 32);
    sqe->cdw12 = (n - 1u) & 0xffffu;
}

/* ------------------------------------------------------------------ */
/* Dataset Management (NVM CS §3.2.3)                                   */
/* ------------------------------------------------------------------ */

/* Dataset Management's ranges within the namespace (a range of 0 blocks
 * names nothing, NVM CS Figure 41). */
struct nvm_dsm_ranges {
    const struct nvme_dsm_range *r;
    unsigned nr;
};

static int nvm_dsm_ranges_fit(const struct nvme_ns_info *ns, const void *arg)
{
    const struct nvm_dsm_ranges *a = arg;
    uint64_t nsze = NVME_READ_ONCE64(ns->nsze);
    for (unsigned i = 0; i < a->nr; i++)
        if (a->r[i].nlb != 0 && (a->r[i].slba >= nsze || a->r[i].nlb > nsze - a->r[i].slba))
            return NVME_ERR_RANGE;
    return NVME_OK;
}

/* Dataset Management of `ranges` on b->ns, checked as nvme_dsm says. */
static int nvm_dsm(struct nvme_ctrl *ctrl, struct nvm_built *b, uint32_t attr,
                   const struct nvme_dsm_range *ranges, unsigned nr)
{
    const struct nvme_ns_info *ns = b->ns;
    uint32_t nsid = ns->nsid;
    if (!(NVME_READ_ONCE(ctrl->info.oncs) & NVME_ONCS_DSM))
        return nvm_unsupported(ctrl, nsid, "Dataset Management", "ONCS bit 2 clear");
    const struct nvm_dsm_ranges fit = {ranges, nr};
    if (nvm_dsm_ranges_fit(ns, &fit) != NVME_OK)
        return NVME_ERR_RANGE;
    uint64_t total = 0;
    uint32_t most = 0;
    for (unsigned i = 0; i < nr; i++) {
        total += ranges[i].nlb;
        most = ranges[i].nlb > most ? ranges[i].nlb : most;
    }
    /* The deallocate limits of the NVM Identify Controller (DMRL, DMRSL,
     * DMSL; CNS 06h CSI 00h, NVM CS 1.0): a controller may skip a range
     * above them and still report success (QEMU 7.2 does), so they are
     * refused here, clearly; nvme_deallocate splits within them. */
    if (attr & NVME_DSM_AD) {
        uint8_t dmrl = NVME_READ_ONCE(ctrl->dmrl);
        uint32_t dmrsl = NVME_READ_ONCE(ctrl->dmrsl);
        uint64_t dmsl = NVME_READ_ONCE64(ctrl->dmsl);
        if ((dmrl != 0 && nr > dmrl) || (dmrsl != 0 && most > dmrsl) ||
            (dmsl != 0 && total > dmsl)) {
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "namespace %u: deallocate of %u range(s), %llu blocks, up to %u in one: "
                     "above DMRL %u / DMRSL %u / DMSL %llu (0: none)",
                     nsid, nr, (unsigned long long)total, most, dmrl, dmrsl,
                     (unsigned long long)dmsl);
            return NVME_ERR_INVAL;
        }
    }
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_CMD_DSM, nsid);
    sqe.cdw10 = nr - 1u; /* NR, 0-based */
    sqe.cdw11 = attr;
    /* The ranges (at most a page) go through a buffer of the core: any
     * caller memory works. */
    b->also = nvm_dsm_ranges_fit;
    b->also_arg = &fit;
    int rc = nvm_exec_built(ctrl, b, 0, 1, &sqe, (void *)(uintptr_t)ranges,
                            (uint32_t)nr * (uint32_t)sizeof(*ranges), NVME_DMA_TO_DEVICE, true);
    b->also = NULL;
    b->also_arg = NULL;
    return rc;
}

int nvme_dsm(struct nvme_ctrl *ctrl, uint32_t nsid, uint32_t attr,
             const struct nvme_dsm_range *ranges, unsigned nr)
{
    const struct nvme_ns_info *ns;
    if (ranges == NULL || nr == 0 || nr > NVME_DSM_MAX_RANGES ||
        (attr & ~(uint32_t)(NVME_DSM_IDR | NVME_DSM_IDW | NVME_DSM_AD)) != 0)
        return NVME_ERR_INVAL;
    uint32_t epoch;
    int rc = nvm_ns(ctrl, nsid, 0, 1, (attr & NVME_DSM_AD) != 0, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    struct nvm_built b;
    nvm_built_take(&b, epoch, ns, (attr & NVME_DSM_AD) != 0);
    return nvm_dsm(ctrl, &b, attr, ranges, nr);
}

__attribute__((noinline)) int nvme_deallocate(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba,
                                              uint64_t count)
{
    const struct nvme_ns_info *ns;
    uint32_t epoch;
    int rc = nvm_ns(ctrl, nsid, lba, count, true, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    /* One build for all the commands: a namespace that changes between
     * two of them stops the call (nvm_exec_built). */
    struct nvm_built b;
    nvm_built_take(&b, epoch, ns, true);
    struct nvme_dsm_range r[16];
    while (count != 0 && rc == NVME_OK) {
        /* Ranges of at most FFFFFFFFh blocks, 16 per command, within the
         * controller's DMRSL, DMRL and DMSL (nvme_dsm), each read once
         * per command: a firmware activation may change them meanwhile
         * (nvme_refresh_identify), and a second look at 0 would loop. */
        uint32_t dmrsl = NVME_READ_ONCE(ctrl->dmrsl);
        uint8_t dmrl = NVME_READ_ONCE(ctrl->dmrl);
        uint64_t dmsl = NVME_READ_ONCE64(ctrl->dmsl);
        uint32_t range = dmrsl != 0 ? dmrsl : 0xffffffffu;
        unsigned ranges = dmrl != 0 && dmrl < 16u ? dmrl : 16u;
        uint64_t left = dmsl != 0 ? dmsl : ~(uint64_t)0, at = lba, todo = count;
        unsigned n = 0;
        while (todo != 0 && n < ranges && left != 0) {
            uint64_t len = todo < range ? todo : range;
            len = len < left ? len : left;
            left -= len;
            r[n].cattr = 0;
            r[n].nlb = (uint32_t)len;
            r[n].slba = at;
            at += len;
            todo -= len;
            n++;
        }
        rc = nvm_dsm(ctrl, &b, NVME_DSM_AD, r, n);
        /* Changed while the command went (a reset between the cut and the
         * controller, or one that replayed it): a controller skips a range
         * above DMRSL and still says success (nvme_dsm), and nvm_dsm or
         * the controller refuse the others.  The same blocks again, cut
         * within the limits now: a block deallocated twice is still
         * deallocated. */
        if (dmrsl != NVME_READ_ONCE(ctrl->dmrsl) || dmrl != NVME_READ_ONCE(ctrl->dmrl) ||
            dmsl != NVME_READ_ONCE64(ctrl->dmsl)) {
            rc = NVME_OK;
            continue;
        }
        lba = at;
        count = todo;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Write Zeroes, Write Uncorrectable, Verify (NVM CS §3.2.8, §3.2.7, §3.2.5) */
/* ------------------------------------------------------------------ */

/* Blocks of `ns` a command may name under a size limit of the NVM
 * Identify Controller (VSL, WZSL: 2^sl units of CAP.MPSMIN, 0 none; NVM
 * CS 1.0, CNS 06h CSI 00h), counted as the data the blocks hold (with
 * interleaved metadata, as MDTS); at most 65536 (NLB), 0 when one block
 * is above the limit. */
static uint32_t nvm_size_limit_blocks(const struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns,
                                      uint8_t sl)
{
    unsigned shift = 12u + NVME_CAP_MPSMIN(ctrl->info.cap) + sl;
    uint64_t blk = ns->lba_size + (ns->md_extended ? ns->ms : 0u), rem;
    if (sl == 0 || shift >= 64u || ((uint64_t)1 << shift) >> 16 >= blk)
        return 65536u;
    return (uint32_t)nvme_u64_divmod((uint64_t)1 << shift, blk, &rem);
}

/* One command per piece within the size limit of its opcode (WZSL,
 * WUSL, VSL: nvm_size_limit_blocks), waited for before the next (on a
 * zoned namespace each must start at the write pointer); on a zoned
 * namespace no piece spans zones, as nvme_write cuts: one Write Zeroes
 * across a zone boundary is a Zone Boundary Error (ZNS 1.1 Figure 11;
 * QEMU 7.2 says so), and Linux's block layer splits write-zeroes
 * requests at the zone size (chunk_sectors) too.  The limit is read for
 * each piece: a reset may lower it meanwhile (nvme_refresh_identify), and
 * a piece that failed above the limit now (refused, or replayed at its
 * old size) is cut again and sent, as nvm_data does at MDTS. */
static __attribute__((noinline)) uint8_t nvm_size_limit(const struct nvme_ctrl *ctrl, uint8_t opc)
{
    return opc == NVME_CMD_WRITE_ZEROES  ? NVME_READ_ONCE(ctrl->wzsl)
           : opc == NVME_CMD_WRITE_UNCOR ? NVME_READ_ONCE(ctrl->wusl)
                                         : NVME_READ_ONCE(ctrl->vsl);
}

static int nvm_range_cmd(struct nvme_ctrl *ctrl, struct nvm_built *b, uint8_t opc, uint64_t lba,
                         uint64_t count, uint32_t cdw12)
{
    const struct nvme_ns_info *ns = b->ns;
    int rc = NVME_OK;
    while (count != 0 && rc == NVME_OK) {
        uint32_t max = nvm_size_limit_blocks(ctrl, ns, nvm_size_limit(ctrl, opc));
        if (max == 0)
            return nvm_unsupported(ctrl, ns->nsid, "a command", "a block is above its size limit");
        uint32_t n = count > max ? max : (uint32_t)count;
        if (ns->zone_size != 0 && n > nvme_zone_left(ns, lba))
            n = (uint32_t)nvme_zone_left(ns, lba);
        struct nvme_sqe sqe;
        nvm_sqe_range(&sqe, opc, ns->nsid, lba, n);
        sqe.cdw12 |= cdw12;
        if (cdw12 & (NVME_RW_PRACT | NVME_RW_PRCHK_GUARD | NVME_RW_PRCHK_APP | NVME_RW_PRCHK_REF))
            nvme_pi_fields(ns, &sqe, 0);
        rc = nvm_exec_built(ctrl, b, lba, count, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, false);
        if (rc != NVME_OK && n > nvm_size_limit_blocks(ctrl, ns, nvm_size_limit(ctrl, opc))) {
            rc = NVME_OK; /* cut again, within the limit now */
            continue;
        }
        lba += n;
        count -= n;
    }
    return rc;
}

int nvme_write_zeroes(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count,
                      unsigned flags)
{
    const struct nvme_ns_info *ns;
    uint32_t epoch;
    int rc = nvm_ns(ctrl, nsid, lba, count, true, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    struct nvm_built b;
    nvm_built_take(&b, epoch, ns, true);
    if ((flags & ~(unsigned)(NVME_IO_FUA | NVME_IO_LR | NVME_IO_DEALLOCATE)) != 0)
        return NVME_ERR_INVAL;
    uint16_t oncs = NVME_READ_ONCE(ctrl->info.oncs); /* one answer: a reset may change it */
    bool wz = (oncs & NVME_ONCS_WRITE_ZEROES) && !(ctrl->quirks & NVME_QUIRK_NO_WRITE_ZEROES);
    /* Linux NVME_QUIRK_DEALLOCATE_ZEROES: deallocated blocks read as
     * zeros, so Dataset Management deallocate zeroes them (no FUA). */
    if (!wz && (ctrl->quirks & NVME_QUIRK_DEALLOCATE_ZEROES) && (oncs & NVME_ONCS_DSM) &&
        !(flags & NVME_IO_FUA) && ns->pi_type == 0)
        return nvme_deallocate(ctrl, nsid, lba, count);
    if (!(oncs & NVME_ONCS_WRITE_ZEROES))
        return nvm_unsupported(ctrl, nsid, "Write Zeroes", "ONCS bit 3 clear");
    if (ctrl->quirks & NVME_QUIRK_NO_WRITE_ZEROES)
        return nvm_unsupported(ctrl, nsid, "Write Zeroes", "quirk: broken on this device");
    if ((flags & NVME_IO_DEALLOCATE) && !(ns->dlfeat & NVME_DLFEAT_WZ_DEAC))
        return nvm_unsupported(ctrl, nsid, "Write Zeroes with deallocate", "DLFEAT bit 3 clear");
    uint32_t cdw12 = nvm_cdw12_flags(flags) | ((flags & NVME_IO_DEALLOCATE) ? NVME_WZ_DEAC : 0u);
    /* PI formats: the controller generates the PI of the zeroed blocks
     * (no PRCHK: QEMU refuses it there); one whose reference tag the
     * core cannot build would get wrong tags. */
    if (ns->pi_type != 0 && ns->pi_size == 0)
        return nvm_unsupported(ctrl, nsid, "Write Zeroes",
                               "its PI format (32b Guard or a storage tag) is not handled");
    if (ns->pi_type != 0)
        cdw12 |= NVME_RW_PRACT;
    /* Each command within the Write Zeroes Size Limit (Linux caps its
     * write-zeroes requests at WZSL as well). */
    uint32_t max = nvm_size_limit_blocks(ctrl, ns, NVME_READ_ONCE(ctrl->wzsl));
    if (max == 0)
        return nvm_unsupported(ctrl, nsid, "Write Zeroes", "a block is above WZSL");
    return nvm_range_cmd(ctrl, &b, NVME_CMD_WRITE_ZEROES, lba, count, cdw12);
}

/* Write Uncorrectable (NVM CS 1.0 §3.2.7): the blocks read as
 * Unrecovered Read Error until written again; no data, no PI fields.
 * The ZNS Command Set 1.1 takes the NVM commands it lists (Flush, Write,
 * Read, Compare, Write Zeroes, DSM, Verify, Copy, ...) and Write
 * Uncorrectable is not among them: refused on a zoned namespace. */
int nvme_write_uncorrectable(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count)
{
    const struct nvme_ns_info *ns;
    uint32_t epoch;
    int rc = nvm_ns(ctrl, nsid, lba, count, true, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    struct nvm_built b;
    nvm_built_take(&b, epoch, ns, true);
    if (!(NVME_READ_ONCE(ctrl->info.oncs) & NVME_ONCS_WRITE_UNC))
        return nvm_unsupported(ctrl, nsid, "Write Uncorrectable", "ONCS bit 1 clear");
    if (ns->csi == NVME_CSI_ZNS)
        return nvm_unsupported(ctrl, nsid, "Write Uncorrectable",
                               "a zoned namespace (not a ZNS command)");
    /* Each command within the Write Uncorrectable Size Limit (WUSL, NVM
     * Identify Controller byte 2), as Write Zeroes within WZSL. */
    uint32_t max = nvm_size_limit_blocks(ctrl, ns, NVME_READ_ONCE(ctrl->wusl));
    if (max == 0)
        return nvm_unsupported(ctrl, nsid, "Write Uncorrectable", "a block is above WUSL");
    return nvm_range_cmd(ctrl, &b, NVME_CMD_WRITE_UNCOR, lba, count, 0);
}

int nvme_verify(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count, unsigned flags)
{
    const struct nvme_ns_info *ns;
    uint32_t epoch;
    int rc = nvm_ns(ctrl, nsid, lba, count, false, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    struct nvm_built b;
    nvm_built_take(&b, epoch, ns, false);
    /* PRACT is "cleared to 0 by the host" (NVM CS 1.0 Figure 55). */
    if ((flags & (NVME_IO_DEALLOCATE | NVME_IO_PRACT)) ||
        (rc = nvm_pi_flags_check(ctrl, ns, flags)) != NVME_OK)
        return rc != NVME_OK ? rc : NVME_ERR_INVAL;
    if (!(NVME_READ_ONCE(ctrl->info.oncs) & NVME_ONCS_VERIFY))
        return nvm_unsupported(ctrl, nsid, "Verify", "ONCS bit 7 clear");
    /* Each command within the Verify Size Limit (QEMU's vsl: Invalid
     * Field above it). */
    uint32_t max = nvm_size_limit_blocks(ctrl, ns, NVME_READ_ONCE(ctrl->vsl));
    if (max == 0)
        return nvm_unsupported(ctrl, nsid, "Verify", "a block is above VSL");
    return nvm_range_cmd(ctrl, &b, NVME_CMD_VERIFY, lba, count, nvm_cdw12_flags(flags));
}

/* ------------------------------------------------------------------ */
/* Copy (NVM CS §3.2.2): source ranges to consecutive destination blocks */
/* ------------------------------------------------------------------ */

/* Fills `page` with the next source range entries, `esize` bytes each
 * (descriptor format 0h: 32, 1h: 40; both have SLBA at byte 8 and NLB at
 * byte 16, NVM CS 1.0 §3.2.2, and the rest left 0), from src[*i] on,
 * *off blocks of it already taken: at most `max` entries, `range` blocks
 * each and `limit` in all (the namespace's copy_max_range and
 * copy_max_blocks as nvme_copy read them once: a rescan updates the
 * namespace in place, and a 0 there would name NLB FFFFh and never move
 * on); on a zoned `ns`, none across a zone boundary.  Returns how many;
 * *blocks how many blocks they name. */
static unsigned nvm_copy_entries(const struct nvme_ns_info *ns, uint32_t range, uint32_t limit,
                                 const struct nvme_copy_src *src, unsigned nr, unsigned *i,
                                 uint32_t *off, uint8_t *page, uint32_t esize, unsigned max,
                                 uint32_t *blocks)
{
    unsigned n = 0;
    *blocks = 0;
    nvme_memzero(page, (size_t)max * esize);
    while (*i < nr && n < max && *blocks < limit) {
        uint32_t piece = src[*i].count - *off;
        if (piece > range)
            piece = range;
        if (piece > limit - *blocks)
            piece = limit - *blocks;
        /* Zoned: no entry spans zones (read as a Read is, ZNS 1.1 OZCS
         * bit 0; QEMU's nvme_copy checks each range so). */
        if (ns->zone_size != 0 && piece > nvme_zone_left(ns, src[*i].lba + *off))
            piece = (uint32_t)nvme_zone_left(ns, src[*i].lba + *off);
        /* (entries of 8-byte multiples: the fields are aligned) */
        struct nvme_copy_range *e = (struct nvme_copy_range *)(void *)(page + n * esize);
        e->slba = src[*i].lba + *off;
        e->nlb = (uint16_t)(piece - 1u);
        n++;
        *blocks += piece;
        *off += piece;
        if (*off == src[*i].count) {
            (*i)++;
            *off = 0;
        }
    }
    return n;
}

/* The source range entries of one Copy (format 0h or 1h: SLBA at byte 8,
 * NLB 0-based at byte 16) within the namespace. */
struct nvm_copy_srcs {
    const uint8_t *e;
    unsigned n;
    uint32_t esize;
};

static int nvm_copy_srcs_fit(const struct nvme_ns_info *ns, const void *arg)
{
    const struct nvm_copy_srcs *a = arg;
    uint64_t nsze = NVME_READ_ONCE64(ns->nsze);
    for (unsigned i = 0; i < a->n; i++) {
        const struct nvme_copy_range
            *r = (const struct nvme_copy_range *)(const void *)(a->e + i * a->esize);
        if (r->slba >= nsze || (uint64_t)r->nlb + 1u > nsze - r->slba)
            return NVME_ERR_RANGE;
    }
    return NVME_OK;
}

/* Copy's PRINFO (NVM CS 1.0 §3.2.2, Figure 30, CDW12: PRINFOR 15:12, PRINFOW 29:26).
 * Metadata moves with its blocks inside the controller, so a format with
 * metadata but no PI needs nothing.  A PI-only format (ms = pi_size) gets
 * what plain I/O gets (nvme_ns_plain_flags): the destination's PI
 * generated (PRACT) with its own reference tags, since a Type 1 tag is
 * its LBA's and a copied one would fail every later check, and the
 * sources' guard checked as a Read checks it.  Not their reference tags:
 * those would be checked against each entry's EILBRT, whose byte order
 * implementations disagree on (QEMU 7.2 reads format 0h's little endian
 * and 1h's big endian; libnvme changed both more than once, nvme-cli
 * issue 2975), so a controller reading it the other way would fail every
 * Copy.  PRINFOR's PRACT is PRINFOW's: QEMU 7.2 refuses a Copy whose two
 * PRACT bits differ (Invalid Field). */
static int nvm_copy_prinfo(struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns, uint32_t *prinfo)
{
    *prinfo = 0;
    if (ns->pi_type == 0)
        return NVME_OK;
    if (ns->pi_size == 0)
        return nvm_unsupported(ctrl, ns->nsid, "Copy",
                               "its PI format (32b Guard or a storage tag) is not handled");
    unsigned pi = nvme_ns_plain_flags(ns);
    if (pi == 0)
        return nvm_unsupported(ctrl, ns->nsid, "Copy", "PI with other metadata");
    uint32_t w = nvm_cdw12_flags(pi);                                         /* PRINFOW: 29:26 */
    *prinfo = w | nvm_cdw12_flags(NVME_IO_PRACT | NVME_IO_PRCHK_GUARD) >> 14; /* PRINFOR: 15:12 */
    return NVME_OK;
}

int nvme_copy(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t dlba, const struct nvme_copy_src *src,
              unsigned nr, unsigned flags)
{
    if (src == NULL || nr == 0 || (flags & ~(unsigned)(NVME_IO_FUA | NVME_IO_LR)) != 0)
        return NVME_ERR_INVAL;
    uint64_t total = 0;
    for (unsigned i = 0; i < nr; i++) {
        if (src[i].count == 0)
            return NVME_ERR_INVAL;
        if (src[i].count > ~(uint64_t)0 - total)
            return NVME_ERR_RANGE;
        total += src[i].count;
    }
    const struct nvme_ns_info *ns;
    uint32_t epoch;
    int rc = nvm_ns(ctrl, nsid, dlba, total, true, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    struct nvm_built b;
    nvm_built_take(&b, epoch, ns, true);
    for (unsigned i = 0; i < nr; i++) {
        uint64_t lba = src[i].lba, n = src[i].count;
        if (lba >= ns->nsze || n > ns->nsze - lba)
            return NVME_ERR_RANGE;
        if (lba < dlba + total && dlba < lba + n) { /* all below nsze: no overflow */
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "namespace %u: Copy: source range %u overlaps the destination", nsid, i);
            return NVME_ERR_INVAL;
        }
    }
    if (!(NVME_READ_ONCE(ctrl->info.oncs) & NVME_ONCS_COPY))
        return nvm_unsupported(ctrl, nsid, "Copy", "ONCS bit 8 clear");
    /* Descriptor format 1h for the 32b and 64b Guard PI formats, 0h for
     * the 16b Guard one (NVM CS 1.0 §3.2.2: else Invalid Format), by the
     * format's PIF whether PI is enabled or not, as QEMU's nvme_copy
     * checks it.  OCFS came after Copy itself: 0 is read as format 0h
     * only. */
    bool f1 = ns->pif != NVME_PIF_16B_GUARD;
    uint16_t ocfs = NVME_READ_ONCE(ctrl->ocfs);
    if (f1 && !(ocfs & NVME_OCFS_FORMAT1))
        return nvm_unsupported(ctrl, nsid, "Copy",
                               "32b/64b Guard PI format: OCFS has no descriptor format 1h");
    if (!f1 && ocfs != 0 && !(ocfs & NVME_OCFS_FORMAT0))
        return nvm_unsupported(ctrl, nsid, "Copy", "OCFS: no descriptor format 0h");
    const uint32_t esize = f1 ? (uint32_t)sizeof(struct nvme_copy_range_f1)
                              : (uint32_t)sizeof(struct nvme_copy_range);
    uint32_t prinfo;
    if ((rc = nvm_copy_prinfo(ctrl, ns, &prinfo)) != NVME_OK)
        return rc;
    /* The limits, read once: a rescan on another CPU rewrites the
     * namespace object in place while the commands run. */
    uint32_t range = NVME_READ_ONCE(ns->copy_max_range);
    uint32_t limit = NVME_READ_ONCE(ns->copy_max_blocks);
    unsigned ranges = NVME_READ_ONCE(ns->copy_max_ranges);
    if (range == 0 || limit == 0 || ranges == 0)
        return nvm_unsupported(ctrl, nsid, "Copy", "MSSRL or MCL is 0");

    /* One page of entries per command, at most MSRC + 1 of them. */
    const struct nvme_osal *o = &ctrl->osal;
    /* (each a division by a constant: no libgcc helper on 32-bit ARM) */
    unsigned max = f1 ? ctrl->page_size / (uint32_t)sizeof(struct nvme_copy_range_f1)
                      : ctrl->page_size / (uint32_t)sizeof(struct nvme_copy_range);
    if (max > ranges)
        max = ranges;
    uint64_t bus;
    uint8_t *e = o->dma_alloc(o->ctx, ctrl->page_size, ctrl->page_size, &bus);
    if (e == NULL)
        return NVME_ERR_NOMEM;
    unsigned i = 0;
    uint32_t off = 0, blocks;
    while (i < nr && rc == NVME_OK) {
        /* Zoned: one command's destination stays in one zone (ZNS 1.1: a
         * Copy across a boundary is a Zone Boundary Error), as nvme_write
         * and nvm_range_cmd cut. */
        uint32_t most = limit;
        if (ns->zone_size != 0 && nvme_zone_left(ns, dlba) < most)
            most = (uint32_t)nvme_zone_left(ns, dlba);
        unsigned n = nvm_copy_entries(ns, range, most, src, nr, &i, &off, e, esize, max, &blocks);
        uint32_t len = n * esize;
        nvme_dma_sync(ctrl, e, len, NVME_DMA_TO_DEVICE);
        struct nvme_sqe sqe;
        nvme_sqe_init(&sqe, NVME_CMD_COPY, nsid);
        sqe.cdw10 = (uint32_t)dlba;
        sqe.cdw11 = (uint32_t)(dlba >> 32);
        sqe.cdw12 = (n - 1u) | (f1 ? 1u << NVME_COPY_FORMAT_SHIFT : 0u) | nvm_cdw12_flags(flags);
        if (prinfo != 0)
            nvme_pi_fields(ns, &sqe, prinfo); /* ILBRT: the destination's first LBA */
        /* Replayed after a reset like a write: the sources are not the
         * destination, so a second run copies the same blocks. */
        const struct nvm_copy_srcs srcs = {e, n, esize};
        b.also = nvm_copy_srcs_fit;
        b.also_arg = &srcs;
        rc = nvm_exec_built(ctrl, &b, dlba, blocks, &sqe, e, len, NVME_DMA_TO_DEVICE, false);
        dlba += blocks;
    }
    o->dma_free(o->ctx, e, ctrl->page_size);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Data commands: Compare, Read/Write with flags and metadata           */
/* ------------------------------------------------------------------ */

/* Whether a command on `ns` with `flags` moves metadata: not when the
 * format has none, nor for PI-only formats with PRACT. */
static bool nvm_moves_md(const struct nvme_ns_info *ns, unsigned flags)
{
    return ns->ms != 0 && !(ns->pi_size != 0 && ns->ms == ns->pi_size && (flags & NVME_IO_PRACT));
}

static uint32_t nvm_data_block(const struct nvme_ns_info *ns, unsigned flags)
{
    return ns->lba_size + (ns->md_extended && nvm_moves_md(ns, flags) ? ns->ms : 0u);
}

static uint32_t nvm_md_block(const struct nvme_ns_info *ns, unsigned flags)
{
    return !ns->md_extended && nvm_moves_md(ns, flags) ? ns->ms : 0u;
}

uint64_t nvme_ns_data_bytes(const struct nvme_ns_info *ns, uint32_t count)
{
    return ns != NULL ? (uint64_t)count * (ns->lba_size + (ns->md_extended ? ns->ms : 0u)) : 0u;
}

uint64_t nvme_ns_md_bytes(const struct nvme_ns_info *ns, uint32_t count)
{
    return ns != NULL && !ns->md_extended ? (uint64_t)count * ns->ms : 0u;
}

/* Blocks from `lba` to the end of its zone (zoned namespaces).  Zone
 * sizes are powers of two on every known device (a mask, on the I/O
 * path); otherwise the remainder by long division (i686 has no 64-bit
 * divide in hardware, and the core no libgcc). */
uint64_t nvme_zone_left(const struct nvme_ns_info *ns, uint64_t lba)
{
    uint64_t z = ns->zone_size, r;
    if ((z & (z - 1u)) == 0)
        return z - (lba & (z - 1u));
    (void)nvme_u64_divmod(lba, z, &r);
    return z - r;
}

/* The protection a call's commands were built for: PI type and size. */
static uint16_t nvm_pi_key(const struct nvme_ns_info *ns)
{
    return (uint16_t)(ns->pi_type | (unsigned)ns->pi_size << 8);
}

/* A piece of nvm_data refused because the namespaces changed since the
 * call's checks (nvm_ns's epoch: a rescan of this namespace or of
 * another, a Format to the format in use): the rest of the transfer is
 * checked again from a settled epoch, and goes on under it when the
 * namespace still has the data and metadata block sizes and the
 * protection its buffers were cut for, and is the namespace it was (not
 * created again under the NSID: nvme_ns_renewed_since), as io.c's
 * nvme_rw_recheck lets nvme_read go on; else NVME_ERR_BUSY, as during a
 * Format.  *epoch: the one the new checks read. */
static int nvm_data_recheck_once(struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns, bool write,
                                 uint64_t lba, uint64_t count, unsigned flags, uint32_t dblk,
                                 uint32_t mblk, uint16_t pi, uint32_t *epoch)
{
    for (unsigned tries = 0, waits = 0; tries < NVME_NS_SETTLE_TRIES; tries++) {
        uint32_t e = nvme_ns_epoch_settled(ctrl, &waits);
        if (e == NVME_NS_EPOCH_ANY)
            break;
        const struct nvme_ns_info *now;
        int rc = nvm_ns_check(ctrl, ns->nsid, lba, count, write, &now);
        if (rc == NVME_OK &&
            (now != ns || nvm_data_block(now, flags) != dblk || nvm_md_block(now, flags) != mblk ||
             nvm_pi_key(now) != pi || nvme_ns_renewed_since(now, *epoch)))
            rc = NVME_ERR_BUSY;
        if (!nvme_ns_epoch_moved(ctrl, e)) {
            if (rc == NVME_OK)
                *epoch = e;
            return rc;
        }
    }
    return NVME_ERR_BUSY;
}

/* A reset on another CPU since the refusal (NVME_ERR_STATE from the
 * checks) is waited out, as nvm_ns waits before the call's first
 * command (nvme.h lifecycle rule 4).  Before, the blocking call got
 * NVME_ERR_STATE (threaded workload seeds 8009, 8123). */
static __attribute__((noinline, cold)) int
nvm_data_recheck(struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns, bool write, uint64_t lba,
                 uint64_t count, unsigned flags, uint32_t dblk, uint32_t mblk, uint16_t pi,
                 uint32_t *epoch)
{
    int rc = nvm_data_recheck_once(ctrl, ns, write, lba, count, flags, dblk, mblk, pi, epoch);
    for (unsigned spent = 0; nvme_reset_waited(ctrl, &rc, &spent);)
        rc = nvm_data_recheck_once(ctrl, ns, write, lba, count, flags, dblk, mblk, pi, epoch);
    return rc;
}

/* Blocks of dblk bytes in one command: within MDTS as it is now (a
 * reset may lower it between two pieces: nvme_refresh_mdts) and NLB, and
 * whole dwords, so the next piece's PRP1 stays dword aligned (§4.3): an
 * extended block (lba_size + ms) need not be.  0: a block above MDTS. */
static __attribute__((noinline)) uint32_t nvm_piece_max(const struct nvme_ctrl *ctrl, uint32_t dblk)
{
    uint32_t max = nvme_div32(NVME_READ_ONCE(ctrl->info.mdts_bytes), dblk);
    if (max > 65536u)
        max = 65536u;
    while (max != 0 && ((max * dblk) & 3u) != 0)
        max--;
    return max;
}

/* The blocks of a piece with metadata (ms bytes each, separate or
 * interleaved) under NVME_QUIRK_MD_SECTORS: QEMU 2.8 to 8.2 moves only
 * the first (length mod 512) bytes of a metadata transfer longer than
 * 512 bytes that is not a multiple of 512 (dma-helpers.c's dma_blk_cb,
 * fixed in 2024), and
 * completes it successfully: the rest of the metadata is never written,
 * or read as zeros (QEMU's PI formats go another way; the cut costs
 * them a command at most).  So a piece moves less than 512 bytes of
 * metadata, or a multiple of 512 (one block's own above 512 bytes, not
 * a multiple of 512, cannot: nvm_md_unit). */
static uint32_t nvm_md_piece(const struct nvme_ctrl *ctrl, uint32_t n, uint32_t ms, uint32_t dblk)
{
    if (ms == 0 || !(ctrl->quirks & NVME_QUIRK_MD_SECTORS))
        return n;
    uint32_t m = n;
    while (m > 1u && (uint64_t)m * ms > 512u && (((uint64_t)m * ms) & 511u) != 0)
        m--;
    /* Cut: the rest starts a piece whose PRP1 must stay dword aligned
     * (§4.3, nvm_piece_max), which an extended block (ms 6: 518 bytes)
     * need not keep; below 512 bytes of metadata it stays below. */
    while (m < n && m > 1u && ((m * dblk) & 3u) != 0)
        m--;
    return m;
}

/* The blocks each piece must be a multiple of under NVME_QUIRK_MD_SECTORS
 * (nvm_md_piece) with ms bytes of metadata a block above 512 that are not
 * a multiple of 512 (MS is 16 bits: 520, 4100...): 512 / gcd(ms, 512),
 * so that the piece's metadata is whole sectors; 1 for any other ms
 * (below 512 bytes a piece of one block is one that moves), and for PI
 * formats, whose metadata QEMU moves another way (nvm_md_piece). */
static __attribute__((noinline)) uint32_t nvm_md_unit(const struct nvme_ctrl *ctrl,
                                                      const struct nvme_ns_info *ns, uint32_t ms)
{
    if (!(ctrl->quirks & NVME_QUIRK_MD_SECTORS) || ns->pi_type != 0 || ms <= 512u ||
        (ms & 511u) == 0)
        return 1;
    uint32_t k = 512u;
    for (; (ms & 1u) == 0; ms >>= 1)
        k >>= 1;
    return k;
}

/* Read, Write or Compare of count blocks, cut at MDTS; separate metadata
 * through a DMA buffer of the core whose bus address goes in MPTR (one
 * contiguous buffer, NVM CS §5.8.3). */
static __attribute__((noinline)) int nvm_data(struct nvme_ctrl *ctrl, uint32_t epoch,
                                              const struct nvme_ns_info *ns, uint8_t opc,
                                              uint64_t lba, uint32_t count, uint8_t *buf,
                                              uint8_t *md, unsigned flags)
{
    bool to_dev = opc != NVME_CMD_READ;
    enum nvme_dma_dir dir = to_dev ? NVME_DMA_TO_DEVICE : NVME_DMA_FROM_DEVICE;
    uint32_t dblk = nvm_data_block(ns, flags), mblk = nvm_md_block(ns, flags);
    const uint16_t pi = nvm_pi_key(ns); /* as the call's checks read it (epoch) */
    uint32_t max = nvm_piece_max(ctrl, dblk);
    if (max == 0)
        return NVME_ERR_UNSUPPORTED; /* a block above MDTS: ns.c refuses it earlier */
    uint64_t bytes = (uint64_t)count * dblk;
    if ((((uintptr_t)buf | bytes) & 3u) != 0)
        return NVME_ERR_ALIGN;
    if (bytes - 1u > (uint64_t)(uintptr_t)-1 - (uintptr_t)buf ||
        (md != NULL && mblk != 0 &&
         (uint64_t)count * mblk - 1u > (uint64_t)(uintptr_t)-1 - (uintptr_t)md))
        return NVME_ERR_INVAL; /* would wrap the address space (either buffer) */
    /* A buffer the device writes owns whole cache lines on a port that
     * declares them (nvme_osal.h, non-coherent rule 8), as in nvme_read. */
    if (!to_dev && ctrl->osal.dma_align > 1u &&
        (((uintptr_t)buf | bytes) & (ctrl->osal.dma_align - 1u)) != 0)
        return NVME_ERR_ALIGN;
    /* Zoned: no piece spans zones (nvme_rw), so a piece starts at each
     * zone boundary the range crosses; its buffer must be dword aligned
     * too, which an extended block (lba_size + ms) need not keep.
     * Checked before anything is sent: a write refused halfway would
     * have moved the write pointer. */
    if (ns->zone_size != 0 && count > nvme_zone_left(ns, lba)) {
        uint64_t left = nvme_zone_left(ns, lba);
        if (((left * dblk) & 3u) != 0 ||
            (count - left > ns->zone_size && ((ns->zone_size * dblk) & 3u) != 0))
            return NVME_ERR_ALIGN;
    }
    /* A metadata size whose pieces must be a multiple of `unit` blocks
     * (nvm_md_unit: QEMU would move a few bytes of each block's metadata
     * and report the rest written): a call that cannot be cut so (its
     * count, MDTS, a zone boundary) is refused before anything is sent,
     * NVME_ERR_UNSUPPORTED, not one piece that loses its metadata. */
    uint32_t unit = nvm_md_unit(ctrl, ns, mblk != 0 ? mblk : dblk - ns->lba_size);
    if (unit > 1u && ((count & (unit - 1u)) != 0 || max < unit ||
                      (ns->zone_size != 0 && count > nvme_zone_left(ns, lba)))) {
        nvme_log(ctrl, NVME_LOG_ERROR,
                 "namespace %u: %u blocks of %u metadata bytes: QEMU's metadata bug "
                 "(NVME_QUIRK_MD_SECTORS) moves them whole only in multiples of %u blocks",
                 ns->nsid, count, ns->ms, unit);
        return NVME_ERR_UNSUPPORTED;
    }
    const struct nvme_osal *o = &ctrl->osal;
    uint32_t first = count < max ? count : max;
    uint8_t *mdma = NULL;
    uint64_t mbus = 0;
    if (mblk != 0) {
        mdma = o->dma_alloc(o->ctx, first * mblk, 4u, &mbus);
        if (mdma == NULL)
            return NVME_ERR_NOMEM;
    }
    int rc = NVME_OK;
    uint32_t done = 0;
    while (done < count && rc == NVME_OK) {
        /* MDTS again for each piece: a reset since the last may have
         * lowered it (nvme_refresh_mdts never raises it; the metadata
         * buffer holds `first` blocks all the same). */
        max = nvm_piece_max(ctrl, dblk);
        if (max == 0) {
            rc = NVME_ERR_UNSUPPORTED;
            break;
        }
        uint32_t n = count - done < max ? count - done : max;
        if (n > first)
            n = first;
        /* Zoned: no piece spans zones (nvme_rw); the buffers stay dword
         * aligned (checked above). */
        if (ns->zone_size != 0 && n > nvme_zone_left(ns, lba + done))
            n = (uint32_t)nvme_zone_left(ns, lba + done);
        n = nvm_md_piece(ctrl, n, mblk != 0 ? mblk : dblk - ns->lba_size, dblk); /* or extended */
        if ((n & (unit - 1u)) != 0) { /* an MDTS a reset lowered below `unit` blocks */
            rc = NVME_ERR_UNSUPPORTED;
            break;
        }
        struct nvme_sqe sqe;
        nvm_sqe_range(&sqe, opc, ns->nsid, lba + done, n);
        sqe.cdw12 |= nvm_cdw12_flags(flags);
        if (flags & NVME_IO_PI_FLAGS)
            nvme_pi_fields(ns, &sqe, 0);
        if (mdma != NULL) {
            sqe.mptr = mbus;
            if (to_dev)
                nvme_memcpy(mdma, md + (uintptr_t)done * mblk, (size_t)n * mblk);
            nvme_dma_sync(ctrl, mdma, (size_t)n * mblk, dir);
        }
        rc = nvm_exec_md(ctrl, epoch, &sqe, buf + (uintptr_t)done * dblk, n * dblk, n * mblk, dir,
                         nvm_flags(ns, opc));
        if (nvme_piece_above_mdts(ctrl, rc, (uint64_t)n * dblk)) {
            rc = NVME_OK; /* cut again, at the new MDTS */
            continue;
        }
        if (rc == NVME_ERR_BUSY && nvme_ns_epoch_moved(ctrl, epoch)) {
            /* Checked again: the same piece goes again, or the call ends. */
            rc = nvm_data_recheck(ctrl, ns, opc == NVME_CMD_WRITE, lba + done, count - done, flags,
                                  dblk, mblk, pi, &epoch);
            continue;
        }
        if (rc == NVME_OK && mdma != NULL && !to_dev) {
            nvme_dma_sync(ctrl, mdma, (size_t)n * mblk, dir);
            nvme_memcpy(md + (uintptr_t)done * mblk, mdma, (size_t)n * mblk);
        }
        done += n;
    }
    if (mdma != NULL)
        o->dma_free(o->ctx, mdma, first * mblk);
    return rc;
}

/* Read or Write with flags and metadata; Compare with them (`ext`), or
 * data only (on the formats nvme_read takes that carry no PI). */
static int nvm_rw_ext(struct nvme_ctrl *ctrl, uint8_t opc, uint32_t nsid, uint64_t lba,
                      uint32_t count, void *buf, void *md, unsigned flags, bool ext)
{
    const struct nvme_ns_info *ns;
    if (buf == NULL || (flags & NVME_IO_DEALLOCATE))
        return NVME_ERR_INVAL;
    uint32_t epoch;
    int rc = nvm_ns(ctrl, nsid, lba, count, opc == NVME_CMD_WRITE, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    if (opc == NVME_CMD_COMPARE) {
        if (!(NVME_READ_ONCE(ctrl->info.oncs) & NVME_ONCS_COMPARE))
            return nvm_unsupported(ctrl, nsid, "Compare", "ONCS bit 0 clear");
        /* "The Protection Information Action (PRACT) bit shall be
         * cleared to 0" (NVM CS 1.0 Figure 23): the metadata, PI
         * included, comes from the caller and is compared too. */
        if (ext && (flags & NVME_IO_PRACT) != 0)
            return NVME_ERR_INVAL;
    }
    if (opc == NVME_CMD_COMPARE && !ext) {
        if ((rc = nvme_ns_plain_check(ctrl, ns)) != NVME_OK)
            return rc;
        /* A Compare takes no PRACT (NVM CS 1.0 Figure 23: "shall be
         * cleared to 0"): on a format whose metadata is its PI the host
         * would send the PI with the data, which a data-only call has not
         * (nvme_read strips it with PRACT). */
        if (nvme_ns_plain_flags(ns) != 0)
            return nvm_unsupported(ctrl, nsid, "Compare",
                                   "PI format: a Compare takes the PI from the host, no PRACT");
        flags = 0;
    }
    if ((rc = nvm_pi_flags_check(ctrl, ns, flags)) != NVME_OK)
        return rc;
    /* Separate metadata needs a buffer; none is taken when nothing moves. */
    if ((nvm_md_block(ns, flags) != 0) != (md != NULL))
        return NVME_ERR_INVAL;
    return nvm_data(ctrl, epoch, ns, opc, lba, count, buf, md, flags);
}

int nvme_compare(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count,
                 const void *buf)
{
    return nvm_rw_ext(ctrl, NVME_CMD_COMPARE, nsid, lba, count, (void *)(uintptr_t)buf, NULL, 0,
                      false);
}

int nvme_compare_ext(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count,
                     const void *buf, const void *md, unsigned flags)
{
    return nvm_rw_ext(ctrl, NVME_CMD_COMPARE, nsid, lba, count, (void *)(uintptr_t)buf,
                      (void *)(uintptr_t)md, flags, true);
}

int nvme_read_ext(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count, void *buf,
                  void *md, unsigned flags)
{
    return nvm_rw_ext(ctrl, NVME_CMD_READ, nsid, lba, count, buf, md, flags, true);
}

int nvme_write_ext(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count,
                   const void *buf, const void *md, unsigned flags)
{
    return nvm_rw_ext(ctrl, NVME_CMD_WRITE, nsid, lba, count, (void *)(uintptr_t)buf,
                      (void *)(uintptr_t)md, flags, true);
}

/* ------------------------------------------------------------------ */
/* Zoned namespaces (ZNS 1.1 §3.4)                                      */
/* ------------------------------------------------------------------ */

static int nvm_zoned(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, bool write,
                     const struct nvme_ns_info **out, uint32_t *epoch)
{
    int rc = nvm_ns(ctrl, nsid, lba, 1, write, out, epoch);
    if (rc != NVME_OK)
        return rc;
    if ((*out)->csi != NVME_CSI_ZNS)
        return nvm_unsupported(ctrl, nsid, "zone command", "not a zoned namespace");
    return NVME_OK;
}

/* Whether lba starts a zone (zone sizes are powers of two on every known
 * device; others are left to the controller to check). */
static bool nvm_zone_start(const struct nvme_ns_info *ns, uint64_t lba)
{
    uint64_t zs = ns->zone_size;
    return (zs & (zs - 1u)) != 0 || (lba & (zs - 1u)) == 0;
}

int nvme_zns_report(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba,
                    struct nvme_zone_desc *zones, unsigned max, unsigned *count)
{
    const struct nvme_ns_info *ns;
    if (zones == NULL || count == NULL || max == 0)
        return NVME_ERR_INVAL;
    *count = 0;
    uint32_t epoch; /* unused: a report's length depends on no format (NVME_NS_EPOCH_ANY) */
    int rc = nvm_zoned(ctrl, nsid, lba, false, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    const struct nvme_osal *o = &ctrl->osal;
    for (;;) {
        /* Within MDTS, read at each try: a report sized for an MDTS a
         * reset lowered meanwhile is sized again (nvme_piece_above_mdts,
         * as nvm_data's pieces). */
        uint32_t fit = (NVME_READ_ONCE(ctrl->info.mdts_bytes) -
                        (uint32_t)sizeof(struct nvme_zone_report)) /
                       (uint32_t)sizeof(struct nvme_zone_desc);
        if (max > fit)
            max = fit;
        uint32_t len = (uint32_t)sizeof(struct nvme_zone_report) + max * (uint32_t)sizeof(*zones);
        uint64_t bus;
        uint8_t *dma = o->dma_alloc(o->ctx, len, ctrl->page_size, &bus);
        if (dma == NULL)
            return NVME_ERR_NOMEM;
        nvme_memzero(dma, len);
        /* Clean the zeroes before the device writes over them (nvme_osal.h,
         * non-coherent DMA rule 3). */
        nvme_dma_sync(ctrl, dma, len, NVME_DMA_TO_DEVICE);
        struct nvme_sqe sqe;
        nvme_sqe_zone_report(&sqe, nsid, lba, len);
        rc = nvm_exec(ctrl, NVME_NS_EPOCH_ANY, &sqe, dma, len, NVME_DMA_FROM_DEVICE,
                      NVME_CMD_REPLAY, NULL);
        bool again = nvme_piece_above_mdts(ctrl, rc, len);
        if (rc == NVME_OK) {
            nvme_dma_sync(ctrl, dma, len, NVME_DMA_FROM_DEVICE);
            const struct nvme_zone_report *h = (const void *)dma;
            if (h->nr_zones > max) {
                nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u: report of %llu zones for %u asked",
                         nsid, (unsigned long long)h->nr_zones, max);
                rc = NVME_ERR_PROTO;
            } else {
                *count = (unsigned)h->nr_zones;
                nvme_memcpy(zones, dma + sizeof(*h), (size_t)*count * sizeof(*zones));
            }
        }
        o->dma_free(o->ctx, dma, len);
        if (!again)
            return rc;
    }
}

int nvme_zns_mgmt_send(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t zslba, uint8_t action,
                       bool all)
{
    const struct nvme_ns_info *ns;
    if (action < NVME_ZSA_CLOSE || action > NVME_ZSA_OFFLINE)
        return NVME_ERR_INVAL;
    if (all)
        zslba = 0; /* SLBA ignored with Select All */
    uint32_t epoch;
    int rc = nvm_zoned(ctrl, nsid, zslba, true, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    struct nvm_built b;
    nvm_built_take(&b, epoch, ns, true);
    if (!nvm_zone_start(ns, zslba))
        return NVME_ERR_INVAL;
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_CMD_ZONE_MGMT_SEND, nsid);
    sqe.cdw10 = (uint32_t)zslba;
    sqe.cdw11 = (uint32_t)(zslba >> 32);
    sqe.cdw13 = action | (all ? NVME_ZSA_SELECT_ALL : 0u);
    return nvm_exec_built(ctrl, &b, zslba, 1, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, false);
}

/* Whether an append's Assigned LBA leaves its `count` blocks within the
 * zone's capacity: a zone takes writes from ZSLBA to ZSLBA + ZCAP - 1 only
 * (ZNS 1.1 §2.1.1), and ZCAP, which may be anything up to ZSZE and differ
 * from zone to zone (and, with ZOC.VZCAP, from one Zone Reset to the
 * next), is in no Identify data: only a Report Zones descriptor tells it.
 * So the zone is reported (one descriptor, Partial Report) once the
 * append has completed: a command more for a caller that asks where its
 * data went.  When that report fails or describes another zone, the zone
 * size bound that nvme_zns_append checked first is all that is known,
 * and the LBA is taken on it: the data is written either way. */
static bool nvm_append_in_cap(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t zslba, uint64_t alba,
                              uint32_t count)
{
    struct nvme_zone_desc d;
    unsigned n = 0;
    if (nvme_zns_report(ctrl, nsid, zslba, &d, 1, &n) != NVME_OK || n != 1 || d.zslba != zslba)
        return true;
    return d.zcap >= count && alba - zslba <= d.zcap - count;
}

/* Zone Append (ZNS §3.4.1): the completion carries the LBA of the first
 * block written in Dwords 0-1.  The core's completion path hands back
 * Dword 0 only, so the high half is rebuilt from the zone: the LBA lies in
 * [zslba, zslba + zone size) and zones are far smaller than 2^32 blocks. */
int nvme_zns_append(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t zslba, uint32_t count,
                    const void *buf, uint64_t *lba_out)
{
    const struct nvme_ns_info *ns;
    if (buf == NULL || count == 0 || ((uintptr_t)buf & 3u) != 0)
        return buf == NULL || count == 0 ? NVME_ERR_INVAL : NVME_ERR_ALIGN;
    uint32_t epoch;
    int rc = nvm_zoned(ctrl, nsid, zslba, true, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    if (!nvm_zone_start(ns, zslba) || count > ns->zone_size ||
        (rc = nvme_ns_plain_check(ctrl, ns)) != NVME_OK)
        return rc != NVME_OK ? rc : NVME_ERR_INVAL;
    /* ZASL (CNS 06h CSI 02h byte 0), once answered; asked again after a
     * rescan (nvme_ns_zns_parse forgets it: a reset may have activated
     * another firmware).  Read once: a rescan may forget it meanwhile. */
    uint32_t zasl = NVME_READ_ONCE(ctrl->zasl_bytes);
    if (zasl == 0) {
        uint8_t *id = ctrl->osal.mem_alloc(ctrl->osal.ctx, NVME_IDENTIFY_DATA_SIZE);
        if (id == NULL)
            return NVME_ERR_NOMEM;
        rc = nvme_identify_cs(ctrl, NVME_CNS_CS_CTRL, 0, NVME_CSI_ZNS, id);
        /* id[0] only once answered: else the page holds what mem_alloc left */
        uint32_t shift = 12u + NVME_CAP_MPSMIN(ctrl->info.cap) + (rc == NVME_OK ? id[0] : 0u);
        uint32_t mdts = NVME_READ_ONCE(ctrl->info.mdts_bytes);
        /* Not sent or not answered (rc < 0: a reset, a timeout): ZASL is
         * still unknown, asked again by the next append, not MDTS for
         * good.  A refusal (a status) leaves MDTS (ZASL 0's meaning). */
        if (rc >= 0) {
            zasl = rc == NVME_OK && id[0] != 0 && shift < 32u && (1u << shift) < mdts ? 1u << shift
                                                                                      : mdts;
            NVME_WRITE_ONCE(ctrl->zasl_bytes, zasl);
        }
        ctrl->osal.mem_free(ctrl->osal.ctx, id, NVME_IDENTIFY_DATA_SIZE);
        if (rc < 0)
            return rc;
    }
    if (lba_out != NULL && ns->zone_size > ((uint64_t)1 << 32))
        return nvm_unsupported(ctrl, nsid, "Zone Append's LBA",
                               "zones over 2^32 blocks: DW0 holds its low half only");
    /* Within MDTS as it is now, too: a reset may have lowered it since
     * ZASL was read (nvme_refresh_mdts), as Linux's block layer keeps the
     * zone append limit within max_hw_sectors. */
    uint32_t mdts = NVME_READ_ONCE(ctrl->info.mdts_bytes);
    bool by_mdts = mdts <= zasl; /* equal: ZASL 0 or not below MDTS, read as MDTS */
    uint32_t limit = by_mdts ? mdts : zasl;
    if ((uint64_t)count * ns->lba_size > limit) {
        /* At the core's cap, ZASL and MDTS set no lower limit (both 0 on
         * QEMU with mdts=0): the limit is the core's, not the device's. */
        nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u: zone append of %u blocks above %s (%u bytes)",
                 nsid, count,
                 limit == NVME_MAX_XFER_BYTES ? "the core's cap per command"
                 : by_mdts                    ? "MDTS"
                                              : "ZASL",
                 limit);
        return NVME_ERR_INVAL;
    }
    /* ZASL is 32 bits, so the length is: a buffer that would wrap the
     * address space is refused, as nvme_read does, before any dma_map. */
    if ((uintptr_t)(count * ns->lba_size - 1u) > (uintptr_t)-1 - (uintptr_t)buf)
        return NVME_ERR_INVAL;
    struct nvme_sqe sqe;
    nvm_sqe_range(&sqe, NVME_CMD_ZONE_APPEND, nsid, zslba, count);
    nvme_ns_plain_pi(ns, &sqe);
    /* ILBRT is the ZSLBA's tag: PIREMAP has the controller count the
     * reference tags from where the data lands, as Type 1 requires (ZNS
     * 1.1 §3.4.1: refused as Invalid Protection Information without
     * it) and Linux does for Type 2 as well; Type 3 has no tag to remap. */
    if (ns->pi_type == 1u || ns->pi_type == 2u)
        sqe.cdw12 |= NVME_ZA_PIREMAP;
    /* Not replayed after a reset (nvm_flags); refused because the
     * namespaces changed since the checks, it goes once they pass again
     * for the same namespace (nvm_exec_built), as Zone Management Send. */
    struct nvm_built b;
    nvm_built_take(&b, epoch, ns, true);
    rc = nvm_exec_built(ctrl, &b, zslba, 1, &sqe, (void *)(uintptr_t)buf, count << ns->lbads,
                        NVME_DMA_TO_DEVICE, false);
    uint32_t dw0 = b.dw0;
    if (rc == NVME_OK && lba_out != NULL) {
        /* The Assigned LBA (ZNS 1.1 §3.4.1) from DW0, its low half: the
         * zone's start gives the rest, for zones of up to 2^32 blocks
         * (refused above otherwise).  Device input: inside the zone, with
         * room for the blocks, or the data's place is unknown. */
        uint64_t alba = (zslba & ~(uint64_t)0xffffffffu) | dw0;
        if (alba < zslba)
            alba += (uint64_t)1 << 32;
        if (alba - zslba > ns->zone_size - count) {
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "namespace %u: zone append: assigned LBA 0x%x (low half) outside the zone",
                     nsid, dw0);
            return NVME_ERR_PROTO;
        }
        if (!nvm_append_in_cap(ctrl, nsid, zslba, alba, count)) {
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "namespace %u: zone append: assigned LBA 0x%x (low half) past the zone's "
                     "capacity",
                     nsid, dw0);
            return NVME_ERR_PROTO;
        }
        *lba_out = alba;
    }
    return rc;
}

/* --- I/O passthrough ---------------------------------------------------------- */

/* Bytes a command of the NVM and Zoned sets moves that the core can tell
 * from the command and the namespace (NVM CS §3.2): the data commands
 * (Read, Write, Compare, Zone Append: `blocks`) NLB + 1 blocks, with the
 * interleaved metadata of an extended format unless PRACT strips a
 * PI-only one (`flags`, nvm_moves_md); Dataset Management NR + 1 ranges of
 * 16 bytes; Copy NR + 1 descriptors; ZNS Zone Management Receive,
 * Reservation Report (§6.13) and I/O Management Receive (NVMe 2.0c FDP,
 * NUMD in CDW11) NUMD + 1 dwords; Zone Management Send's Set Zone
 * Descriptor Extension ZDES * 64 bytes; Reservation Register (§6.11) and
 * Acquire (§6.10) 16 bytes (CRKEY, then NRKEY or PRKEY), Release (§6.12)
 * 8 (CRKEY); 0 for any other opcode. */
static __attribute__((noinline)) uint64_t
nvm_raw_bytes(const struct nvme_ns_info *ns, const struct nvme_sqe *s, bool blocks, unsigned flags)
{
    if (blocks)
        return ((uint64_t)(s->cdw12 & 0xffffu) + 1u) * nvm_data_block(ns, flags);
    switch (s->opc) {
    case NVME_CMD_DSM:
        return ((uint64_t)(s->cdw10 & 0xffu) + 1u) * sizeof(struct nvme_dsm_range);
    case NVME_CMD_COPY: /* NR + 1 entries: 32 bytes (formats 0h, 2h), 40 (1h, 3h) */
        return ((uint64_t)(s->cdw12 & 0xffu) + 1u) * ((s->cdw12 & 0x100u) ? 40u : 32u);
    case NVME_CMD_ZONE_MGMT_RECV:
        return ((uint64_t)s->cdw12 + 1u) * 4u;
    case NVME_CMD_RESV_REPORT:
        return ((uint64_t)s->cdw10 + 1u) * 4u;
    case NVME_CMD_IO_MGMT_RECV:
        return ((uint64_t)s->cdw11 + 1u) * 4u;
    default: /* (not cases: a jump table would cost 136 bytes) */
        if (s->opc == NVME_CMD_RESV_REGISTER || s->opc == NVME_CMD_RESV_ACQUIRE)
            return 16;
        /* Set Zone Descriptor Extension (ZSA 10h, ZNS 1.1 §3.4.3): ZDES
         * 64-byte units from the host (the format's LBA Format Extension) */
        if (s->opc == NVME_CMD_ZONE_MGMT_SEND && (s->cdw13 & 0xffu) == NVME_ZSA_SET_ZDE)
            return (uint64_t)ns->zdes * 64u;
        return s->opc == NVME_CMD_RESV_RELEASE ? 8u : 0u;
    }
}

int nvme_io_passthru(struct nvme_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf, uint32_t len,
                     enum nvme_dma_dir dir, uint32_t *dw0)
{
    const struct nvme_ns_info *ns;
    if (sqe == NULL || (len != 0 && (buf == NULL || !nvme_dma_dir_ok(dir) ||
                                     !nvme_dma_dir_fits_opc(sqe->opc, dir))))
        return NVME_ERR_INVAL;
    uint32_t epoch;
    int rc = nvm_ns(ctrl, sqe->nsid, 0, 1, false, &ns, &epoch);
    if (rc != NVME_OK)
        return rc;
    uint8_t opc = sqe->opc;
    /* What a read-only namespace still takes: commands that write no
     * block, reservations included (§6.10-6.13: they change who may
     * write, not the medium), I/O Management Receive too (a report). */
    bool reads_only = opc == NVME_CMD_READ || opc == NVME_CMD_COMPARE || opc == NVME_CMD_VERIFY ||
                      opc == NVME_CMD_ZONE_MGMT_RECV || opc == NVME_CMD_IO_MGMT_RECV ||
                      opc == NVME_CMD_FLUSH || opc == NVME_CMD_RESV_REGISTER ||
                      opc == NVME_CMD_RESV_REPORT || opc == NVME_CMD_RESV_ACQUIRE ||
                      opc == NVME_CMD_RESV_RELEASE;
    if (ns->read_only && !reads_only)
        return NVME_ERR_RDONLY;
    /* The data commands: separate metadata goes through MPTR, which stays
     * the core's (0): the _ext calls move it. */
    bool data = opc == NVME_CMD_READ || opc == NVME_CMD_WRITE || opc == NVME_CMD_COMPARE ||
                opc == NVME_CMD_ZONE_APPEND;
    unsigned flags = (sqe->cdw12 & NVME_RW_PRACT) ? NVME_IO_PRACT : 0u;
    if (data && nvm_md_block(ns, flags) != 0)
        return nvm_unsupported(ctrl, sqe->nsid, "passthrough with separate metadata",
                               "use nvme_read_ext/nvme_write_ext");
    uint64_t need = nvm_raw_bytes(ns, sqe, data, flags);
    if (need > len || len > ctrl->info.mdts_bytes) {
        nvme_log(ctrl, NVME_LOG_ERROR,
                 "namespace %u: passthrough: opcode %02xh moves %llu bytes, the buffer has %u "
                 "(MDTS %u): refused",
                 sqe->nsid, opc, (unsigned long long)need, len, ctrl->info.mdts_bytes);
        return NVME_ERR_INVAL;
    }
    /* The PRPs describe what the command moves, not the whole buffer:
     * PRP2 is a PRP List only for a transfer of more than two pages (§4.3),
     * so a longer buffer's list pointer would be taken for a data page
     * (its bus addresses written to the blocks, a Read's data landing in
     * it).  The buffer's tail is left alone. */
    if (need != 0)
        len = (uint32_t)need;
    struct nvme_sqe cmd;
    struct nvme_bounce b = {buf, len, dir, 0};
    nvme_passthru_prep(&cmd, sqe, &b);
    /* Not replayed after a reset: what an unknown command does twice is
     * unknown (Zone Append's rule).  Refused because the namespaces
     * changed since the checks, it goes once they pass again for the same
     * namespace in the same format (nvm_exec_built): another namespace's
     * rescan is no reason for NVME_ERR_BUSY (a namespace made read-only
     * since: the device's refusal). */
    struct nvm_built nb;
    nvm_built_take(&nb, epoch, ns, false);
    rc = nvm_exec_built(ctrl, &nb, 0, 1, &cmd, b.buf, b.len, b.dir, 2);
    if (dw0 != NULL && rc >= 0) /* the completion's, status or not */
        *dw0 = nb.dw0;
    return rc;
}
