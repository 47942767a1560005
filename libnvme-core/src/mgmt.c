/* SPDX-License-Identifier: MIT */
/*
 * mgmt.c - management commands (NVMe 1.4 §5): Format NVM (§5.23),
 * Device Self-test (§5.8), Sanitize (§5.24), Firmware Image Download
 * (§5.12) and Commit (§5.11), NVM Subsystem Reset (§7.3.1, NSSR),
 * Namespace Management (§5.20) and Attachment (§5.19).
 *
 * Destructive commands run only with `confirm` == NVME_CONFIRM_DESTROY;
 * the ones that change namespaces rescan them afterwards, whatever the
 * command's result (a failed Format may have changed the format too).
 * nvme_admin_passthru is here: what it sends gets the same care
 * (mgmt_effects).
 */
#include "nvme_internal.h"

static int mgmt_ready(struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (NVME_READ_ONCE(ctrl->gone))
        return NVME_ERR_GONE;
    return NVME_OK;
}

static __attribute__((noinline)) int mgmt_unsupported(struct nvme_ctrl *ctrl, const char *what,
                                                      const char *why)
{
    nvme_log(ctrl, NVME_LOG_ERROR, "%s not supported (%s)", what, why);
    return NVME_ERR_UNSUPPORTED;
}

static __attribute__((noinline)) int mgmt_confirm(struct nvme_ctrl *ctrl, const char *what,
                                                  uint32_t confirm)
{
    if (confirm == NVME_CONFIRM_DESTROY)
        return NVME_OK;
    nvme_log(ctrl, NVME_LOG_ERROR, "%s destroys data: refused without confirmation", what);
    return NVME_ERR_INVAL;
}

/* Rescans after a command that changed namespaces (through nvme_ns_thaw
 * after a freeze); the command's result wins over the rescan's.  A rescan
 * that failed is not the last word: the table would keep the namespaces
 * as they were (after a freeze, every one NVME_ERR_BUSY) until the caller
 * thought to rescan; the next service call rescans (aer_lost, every call
 * until one works, as after a restart: aer.c nvme_aer_recheck). */
static int mgmt_rescan(struct nvme_ctrl *ctrl, int rc, bool frozen)
{
    if (!frozen && (rc == NVME_ERR_GONE || NVME_READ_ONCE(ctrl->gone)))
        return rc;
    int rs = frozen ? nvme_ns_thaw(ctrl) : nvme_ns_scan(ctrl);
    if (rs == NVME_ERR_GONE || NVME_READ_ONCE(ctrl->gone))
        return rc != NVME_OK ? rc : rs;
    if (rs != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_WARN, "rescan after the command failed: %s", nvme_strerror(rs));
        nvme_lock(&ctrl->admin);
        NVME_WRITE_ONCE(ctrl->aer_lost, true);
        nvme_unlock(&ctrl->admin);
    }
    return rc != NVME_OK ? rc : rs;
}

/* What an admin command's effects on the I/O path need (Commands
 * Supported and Effects, §5.14.1.5), as Linux's nvme_passthru_start/end.
 * MGMT_RESCAN: namespaces change (NIC, NCC), rescanned after.
 * MGMT_FREEZE: the command wants no I/O outstanding (CSE), as Format and
 * Sanitize, which change the LBA format or the data under the I/O path:
 * frozen before (nvme_ns_freeze), rescanned after. */
#define MGMT_RESCAN 1u
#define MGMT_FREEZE 2u
static __attribute__((noinline)) unsigned mgmt_effects_of(uint32_t e)
{
    if (e & NVME_EFFECTS_CSE_MASK)
        return MGMT_FREEZE;
    return (e & (NVME_EFFECTS_NIC | NVME_EFFECTS_NCC)) ? MGMT_RESCAN : 0u;
}

/* The controller's own word on an admin opcode: its entry of the
 * Commands Supported and Effects log (LID 05h, when LPA bit 1 says there
 * is one), read up to that entry (at most 1 KiB), added to `effects`.
 * < 0: the read failed on the host side, nothing was sent; a read
 * refused with DNR adds no effects, as a controller without the log; one
 * failing without DNR (retried already) tells nothing of them: the
 * command gets the most care, CSE's freeze and rescan. */
static int mgmt_logged_effects(struct nvme_ctrl *ctrl, uint8_t opc, unsigned *effects)
{
    if (!(NVME_READ_ONCE(ctrl->info.lpa) & NVME_LPA_EFFECTS))
        return NVME_OK;
    uint32_t len = ((uint32_t)opc + 1u) * 4u;
    uint32_t *acs = ctrl->osal.mem_alloc(ctrl->osal.ctx, len);
    if (acs == NULL)
        return NVME_ERR_NOMEM;
    struct nvme_log_args a = {NVME_LID_EFFECTS, 0, 0, 0, 0, NVME_CSI_NVM, false, acs, len};
    int rc = nvme_get_log(ctrl, &a);
    uint32_t e = rc == NVME_OK                          ? acs[opc]
                 : rc > 0 && !NVME_SF_DNR((uint16_t)rc) ? NVME_EFFECTS_CSE_MASK
                                                        : 0u;
    ctrl->osal.mem_free(ctrl->osal.ctx, acs, len);
    if (rc < 0)
        return rc;
    *effects |= mgmt_effects_of(e);
    if (e & NVME_EFFECTS_CCC)
        nvme_log(ctrl, NVME_LOG_WARN,
                 "admin opcode %02xh may change the controller's capabilities (CCC): "
                 "nvme_ctrl_fini() and nvme_ctrl_init() read them again",
                 opc);
    return NVME_OK;
}

/* The opcodes whose effects the core knows (Linux's
 * nvme_known_admin_effects, the namespace commands, and those that only
 * report); any other one, vendor-specific included, from the log
 * (mgmt_logged_effects), as Linux's nvme_command_effects.  The namespace
 * commands, Format NVM and Sanitize get what the log adds too (Linux ORs
 * the log's entry with what it knows; nothing the core knows is taken
 * away): a controller whose entry for them asks for CSE (no other
 * command to the namespace while it runs, §5.14.1.5) gets the freeze,
 * never writes in flight across a detach, a delete or a Sanitize's Exit
 * Failure Mode, and its CCC is told.  Sent raw
 * (nvme_admin_passthru) or by the core's own call (Firmware Commit,
 * Device Self-test), the same command gets the same care. */
static __attribute__((noinline)) int mgmt_effects(struct nvme_ctrl *ctrl,
                                                  const struct nvme_sqe *sqe, unsigned *effects)
{
    switch (sqe->opc) {
    case NVME_ADMIN_FORMAT_NVM:
        *effects = MGMT_FREEZE;
        return mgmt_logged_effects(ctrl, sqe->opc, effects);
    case NVME_ADMIN_SANITIZE: /* Exit Failure Mode changes no data */
        *effects = (sqe->cdw10 & 7u) == NVME_SANACT_EXIT_FAILURE ? 0u : MGMT_FREEZE;
        return mgmt_logged_effects(ctrl, sqe->opc, effects);
    case NVME_ADMIN_NS_MGMT:
    case NVME_ADMIN_NS_ATTACH:
        *effects = MGMT_RESCAN;
        return mgmt_logged_effects(ctrl, sqe->opc, effects);
    case NVME_ADMIN_GET_LOG_PAGE: /* commands that only report: no log to read */
    case NVME_ADMIN_IDENTIFY:
    case NVME_ADMIN_ABORT:
    case NVME_ADMIN_GET_FEATURES:
    case NVME_ADMIN_KEEP_ALIVE:
    case NVME_ADMIN_DIRECTIVE_RECV:
    case NVME_ADMIN_SECURITY_RECV:
    case NVME_ADMIN_GET_LBA_STATUS:
        *effects = 0;
        return NVME_OK;
    default:
        *effects = 0;
        return mgmt_logged_effects(ctrl, sqe->opc, effects);
    }
}

/* Runs `sqe`, waited for (with the long admin deadline for Format,
 * Sanitize and Device Self-test: admin.c), with what its effects need:
 * NVME_ERR_BUSY, nothing sent, when a scan on another CPU did not end;
 * the command's result wins over the rescan's (mgmt_rescan).  Never sent
 * again for a status (NVME_CMD_NO_RETRY): it changes the controller's
 * state and may have run (a namespace made, a format begun) whatever the
 * status says, as Linux fails its own admin commands fast. */
static int mgmt_exec_sqe(struct nvme_ctrl *ctrl, struct nvme_sqe *sqe, void *buf, uint32_t len,
                         enum nvme_dma_dir dir, uint32_t *dw0, int *cmd_rc)
{
    unsigned effects;
    int rc = mgmt_effects(ctrl, sqe, &effects);
    if (rc != NVME_OK)
        return rc;
    bool freeze = (effects & MGMT_FREEZE) != 0;
    if (freeze && (rc = nvme_ns_freeze(ctrl)) == NVME_ERR_BUSY)
        return rc;
    if (rc == NVME_OK) /* else the I/O in flight did not drain: not sent */
        rc = nvme_exec_bounce(&ctrl->admin, NVME_NS_EPOCH_ANY, sqe, buf, len, dir,
                              nvme_admin_flags(sqe->opc) | NVME_CMD_NO_RETRY, dw0);
    if (cmd_rc != NULL) /* the command's own result, whatever the rescan's */
        *cmd_rc = rc;
    /* A Firmware Commit that activated at once (CA 011b, §5.11), sent raw
     * or by nvme_fw_commit: the new firmware runs, maybe after a pause
     * (CSTS.PP); Identify read again, as Linux's nvme_passthru_end does
     * for CCC (a lower MDTS, another revision). */
    if (rc == NVME_OK && sqe->opc == NVME_ADMIN_FW_COMMIT &&
        ((sqe->cdw10 >> 3) & 7u) == NVME_FW_CA_ACTIVATE_NOW)
        nvme_refresh_identify(ctrl);
    return effects != 0 ? mgmt_rescan(ctrl, rc, freeze) : rc;
}

/* A management command without data (mgmt_exec_sqe). */
static int mgmt_exec(struct nvme_ctrl *ctrl, uint8_t opc, uint32_t nsid, uint32_t cdw10,
                     uint32_t cdw11, uint32_t *dw0)
{
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, opc, nsid);
    sqe.cdw10 = cdw10;
    sqe.cdw11 = cdw11;
    return mgmt_exec_sqe(ctrl, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, dw0, NULL);
}

/* Bytes an admin command moves that its own fields give: data in,
 * Identify (§5.15) 4 KiB, Get Log Page (§5.14) and Directive Receive
 * NUMD + 1 dwords, Get Features the feature's structure, Security Receive
 * AL, Get LBA Status MNDW + 1 dwords; data out, Firmware Image Download
 * (§5.12) and Directive Send NUMD + 1 dwords, Security Send TL.  0 for
 * any other opcode, whose length only the caller knows (a data-out one of
 * less than a page reads the bounce's zeros past the caller's bytes). */
static __attribute__((noinline)) uint64_t mgmt_bytes(const struct nvme_sqe *s)
{
    switch (s->opc) {
    case NVME_ADMIN_IDENTIFY:
        return NVME_IDENTIFY_DATA_SIZE;
    case NVME_ADMIN_GET_LOG_PAGE:
        return (((uint64_t)(s->cdw11 & 0xffffu) << 16 | s->cdw10 >> 16) + 1u) * 4u;
    case NVME_ADMIN_GET_FEATURES: /* SEL 011b (capabilities): no structure */
        return ((s->cdw10 >> NVME_FEAT_SEL_SHIFT) & 7u) == NVME_FEAT_SEL_SUPPORTED
                   ? 0u
                   : nvme_feature_data_len((uint8_t)s->cdw10);
    case NVME_ADMIN_DIRECTIVE_RECV:
    case NVME_ADMIN_DIRECTIVE_SEND:
    case NVME_ADMIN_FW_DOWNLOAD:
        return ((uint64_t)s->cdw10 + 1u) * 4u;
    case NVME_ADMIN_SECURITY_RECV:
    case NVME_ADMIN_SECURITY_SEND:
        return s->cdw11;
    case NVME_ADMIN_GET_LBA_STATUS:
        return ((uint64_t)s->cdw12 + 1u) * 4u;
    default:
        return 0;
    }
}

int nvme_admin_passthru(struct nvme_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf, uint32_t len,
                        enum nvme_dma_dir dir, uint32_t *dw0)
{
    if (ctrl == NULL || sqe == NULL ||
        (len != 0 &&
         (buf == NULL || !nvme_dma_dir_ok(dir) || !nvme_dma_dir_fits_opc(sqe->opc, dir))))
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    switch (sqe->opc) {
    case NVME_ADMIN_DELETE_SQ:
    case NVME_ADMIN_CREATE_SQ:
    case NVME_ADMIN_DELETE_CQ:
    case NVME_ADMIN_CREATE_CQ:
    case NVME_ADMIN_ASYNC_EVENT:
    case NVME_ADMIN_DBBUF_CONFIG:
    case NVME_ADMIN_CTRL_DATA_QUEUE: /* written after completion: the bounce is freed */
    case NVME_ADMIN_ABORT:           /* the CIDs are the core's: its own commands would end */
        nvme_log(ctrl, NVME_LOG_ERROR,
                 "passthrough: admin opcode %02xh manages the core's own queues, commands, "
                 "events or doorbells: refused",
                 sqe->opc);
        return NVME_ERR_INVAL;
    case NVME_ADMIN_SET_FEATURES:
        if (nvme_feat_set_refused_kato(ctrl, (uint8_t)sqe->cdw10, sqe->cdw11))
            return NVME_ERR_INVAL;
        if ((uint8_t)sqe->cdw10 != NVME_FEAT_HOST_MEM_BUF) /* its memory is the core's */
            break;
        nvme_log(ctrl, NVME_LOG_ERROR,
                 "passthrough: the Host Memory Buffer is the core's: refused");
        return NVME_ERR_INVAL;
    default:
        break;
    }
    /* Past the caller's buffer the device would write into other memory,
     * or read it; past the pages the core bounces, its PRPs would name
     * bus address 0 (PRP2 taken for a data page or a list). */
    uint64_t moves = mgmt_bytes(sqe);
    if (moves > len) {
        nvme_log(ctrl, NVME_LOG_ERROR,
                 "passthrough: admin opcode %02xh moves %llu bytes, the buffer has %u: refused",
                 sqe->opc, (unsigned long long)moves, len);
        return NVME_ERR_INVAL;
    }
    /* The PRPs describe what the command moves, not the whole buffer:
     * PRP2 is a PRP List only for a transfer of more than two pages (§4.3),
     * so a longer buffer's list pointer would be taken for a data page and
     * the data meant for it land in the list. */
    if (moves != 0)
        len = (uint32_t)moves;
    struct nvme_sqe cmd;
    struct nvme_bounce b = {buf, len, dir, 0};
    nvme_passthru_prep(&cmd, sqe, &b);
    return mgmt_exec_sqe(ctrl, &cmd, b.buf, b.len, b.dir, dw0, NULL);
}

/* Whether a Format NVM that completed (§5.23) left the namespaces it
 * formatted (`all`: every one, NSID FFFFFFFFh or FNA bit 0), as the
 * rescan found them, in the LBA format, metadata placement (MSET), PI
 * type and PI location (PIL) asked for.  Device input: a controller that
 * reports success and keeps another format would have the caller size its
 * buffers for blocks the namespace does not have, or place its PI at the
 * other end of the metadata (PIL matters only where the metadata is
 * larger than the PI).  The rescan published what it has. */
static __attribute__((noinline)) int mgmt_format_took(struct nvme_ctrl *ctrl,
                                                      const struct nvme_format_args *a, bool all)
{
    unsigned n = all ? nvme_ns_count(ctrl) : 1u;
    for (unsigned i = 0; i < n; i++) {
        const struct nvme_ns_info *ns = all ? nvme_ns_at(ctrl, i) : nvme_ns_find(ctrl, a->nsid);
        if (ns == NULL || NVME_READ_ONCE(ns->status) != NVME_OK)
            continue;
        if (ns->format != a->lbaf || (ns->ms != 0 && ns->md_extended != a->mset) ||
            (ns->ms >= 8u && ns->pi_type != a->pi) ||
            (ns->ms > ns->pi_size && ns->pi_size != 0 && ns->pi_first != a->pil)) {
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "Format NVM completed, but namespace %u has LBA format %u, MSET %u, PI "
                     "type %u (asked %u, %u, %u)",
                     ns->nsid, ns->format, ns->md_extended, ns->pi_type, a->lbaf, a->mset, a->pi);
            return NVME_ERR_PROTO;
        }
    }
    return NVME_OK;
}

int nvme_format(struct nvme_ctrl *ctrl, const struct nvme_format_args *a, uint32_t confirm)
{
    int rc = mgmt_ready(ctrl);
    if (rc != NVME_OK)
        return rc;
    if (a == NULL || a->lbaf > NVME_NLBAF_MAX_V2 || a->ses > NVME_FORMAT_SES_CRYPTO || a->pi > 3u ||
        a->nsid == 0)
        return NVME_ERR_INVAL;
    if ((rc = mgmt_confirm(ctrl, "Format NVM", confirm)) != NVME_OK)
        return rc;
    if (!(NVME_READ_ONCE(ctrl->info.oacs) & NVME_OACS_FORMAT))
        return mgmt_unsupported(ctrl, "Format NVM", "OACS bit 1 clear");
    uint8_t fna = NVME_READ_ONCE(ctrl->fna); /* one answer: a reset may change it */
    if (a->ses == NVME_FORMAT_SES_CRYPTO && !(fna & NVME_FNA_CRYPTO))
        return mgmt_unsupported(ctrl, "cryptographic erase", "FNA bit 2 clear");
    if (a->nsid != NVME_NSID_ALL) {
        const struct nvme_ns_info *ns = nvme_ns_find(ctrl, a->nsid);
        if (ns == NULL)
            return NVME_ERR_NOENT;
        if (ns->status != NVME_ERR_PROTO && a->lbaf > ns->nlbaf) {
            /* Formats 0..NLBAF + NULBAF (ns.c; NVM CS 1.0 Figure 97): the
             * controller would answer Invalid Format; said here, nothing sent. */
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "namespace %u has LBA formats 0..%u: no LBA format %u to format to", a->nsid,
                     ns->nlbaf, a->lbaf);
            return NVME_ERR_INVAL;
        }
        if (fna & NVME_FNA_FORMAT_ALL)
            nvme_log(ctrl, NVME_LOG_WARN,
                     "FNA bit 0: formatting namespace %u formats every namespace", a->nsid);
    }
    uint32_t cdw10 = (a->lbaf & 0xfu) | (a->mset ? 1u << 4 : 0u) | ((uint32_t)a->pi << 5) |
                     (a->pil ? 1u << 8 : 0u) | ((uint32_t)a->ses << 9) |
                     ((uint32_t)(a->lbaf >> 4) << 12); /* LBAFU, NVMe 2.0 */
    /* No I/O runs across the format change (mgmt_effects). */
    rc = mgmt_exec(ctrl, NVME_ADMIN_FORMAT_NVM, a->nsid, cdw10, 0, NULL);
    if (rc == NVME_OK) /* rescanned: the namespaces as they are now */
        rc = mgmt_format_took(ctrl, a, a->nsid == NVME_NSID_ALL || (fna & NVME_FNA_FORMAT_ALL));
    return rc;
}

int nvme_device_self_test(struct nvme_ctrl *ctrl, uint32_t nsid, uint8_t stc)
{
    int rc = mgmt_ready(ctrl);
    if (rc != NVME_OK)
        return rc;
    if (stc != NVME_DST_SHORT && stc != NVME_DST_EXTENDED && stc != NVME_DST_VENDOR &&
        stc != NVME_DST_ABORT)
        return NVME_ERR_INVAL;
    if (!(NVME_READ_ONCE(ctrl->info.oacs) & NVME_OACS_SELF_TEST))
        return mgmt_unsupported(ctrl, "Device Self-test", "OACS bit 4 clear");
    return mgmt_exec(ctrl, NVME_ADMIN_DEVICE_SELF_TEST, nsid, stc, 0, NULL);
}

int nvme_sanitize(struct nvme_ctrl *ctrl, const struct nvme_sanitize_args *a, uint32_t confirm)
{
    int rc = mgmt_ready(ctrl);
    if (rc != NVME_OK)
        return rc;
    if (a == NULL || a->action < NVME_SANACT_EXIT_FAILURE || a->action > NVME_SANACT_CRYPTO ||
        a->owpass > 15u)
        return NVME_ERR_INVAL;
    if (a->action != NVME_SANACT_EXIT_FAILURE &&
        (rc = mgmt_confirm(ctrl, "Sanitize", confirm)) != NVME_OK)
        return rc;
    static const uint32_t cap[5] = {0, 0, NVME_SANICAP_BLOCK, NVME_SANICAP_OVERWRITE,
                                    NVME_SANICAP_CRYPTO};
    uint32_t sanicap = NVME_READ_ONCE(ctrl->sanicap); /* one answer */
    if ((sanicap & 7u) == 0)
        return mgmt_unsupported(ctrl, "Sanitize", "SANICAP lists no method");
    if (a->action != NVME_SANACT_EXIT_FAILURE && !(sanicap & cap[a->action]))
        return mgmt_unsupported(ctrl, "this Sanitize action", "SANICAP");
    uint32_t cdw10 = a->action | (a->ause ? 1u << 3 : 0u) | ((uint32_t)a->owpass << 4) |
                     (a->oipbp ? 1u << 8 : 0u) | (a->nodas ? 1u << 9 : 0u);
    return mgmt_exec(ctrl, NVME_ADMIN_SANITIZE, 0, cdw10, a->ovrpat, NULL); /* frozen */
}

int nvme_fw_download(struct nvme_ctrl *ctrl, uint32_t offset, const void *buf, uint32_t len)
{
    int rc = mgmt_ready(ctrl);
    if (rc != NVME_OK)
        return rc;
    if (buf == NULL || len == 0 || (len & 3u) != 0 || (offset & 3u) != 0 || offset + len < offset)
        return NVME_ERR_INVAL;
    if (!(NVME_READ_ONCE(ctrl->info.oacs) & NVME_OACS_FW))
        return mgmt_unsupported(ctrl, "Firmware Image Download", "OACS bit 2 clear");
    /* Pieces (NVMe 2.0 §5.13, Figure 275): FWUG (4 KiB units) gives
     * their size and alignment; 0 (no information) and FFh (no
     * restriction: any dword size and offset) leave MDTS alone. */
    uint32_t piece = NVME_READ_ONCE(ctrl->info.mdts_bytes);
    uint8_t fwug = NVME_READ_ONCE(ctrl->fwug); /* once: a restart may change it (recovery.c) */
    if (fwug != 0 && fwug != 0xffu) {
        uint32_t g = (uint32_t)fwug * 4096u;
        /* Device input: each command's NUMD and OFST conform to FWUG
         * (NVMe 2.0 Figure 275), and none moves more than MDTS; with FWUG
         * above MDTS no piece can, and pieces of MDTS would start off
         * the granularity after part of the image went. */
        if (g > piece)
            return mgmt_unsupported(ctrl, "Firmware Image Download", "FWUG above MDTS");
        piece = g;
        if (nvme_mod32(offset, g) != 0) {
            nvme_log(ctrl, NVME_LOG_ERROR, "firmware offset %u not a multiple of FWUG (%u)", offset,
                     g);
            return NVME_ERR_INVAL;
        }
        /* Every piece but the last moves FWUG bytes from an offset that
         * is a multiple of it; the last one moves what is left.  FWUG
         * makes no exception for an image's end: a NUMD that is not a
         * multiple of it "may" abort the update (Invalid Field in
         * Command), so a controller may take it or not.  Sent as it is
         * (the image is never padded: that would change it), and told. */
        if (nvme_mod32(len, g) != 0)
            nvme_log(ctrl, NVME_LOG_WARN,
                     "firmware piece at %u of %u bytes is not a multiple of FWUG (%u): the "
                     "controller may refuse it (Invalid Field in Command)",
                     offset + len - nvme_mod32(len, g), nvme_mod32(len, g), g);
    }
    /* "If a Controller Level Reset occurs between a firmware download and
     * completion of the Firmware Commit command, then the controller shall
     * discard all portion(s), if any, of downloaded images" (NVMe 1.4
     * §5.12; 2.0 §5.13): a reset (another CPU's, a deadline's) after a
     * piece was taken, within this call or since the call whose image this
     * one continues (`offset` where that one ended), leaves the controller
     * without them; the pieces after it would make an image with a hole,
     * told as downloaded.  The count of resets is read before the first
     * piece too: a reset while a piece is in flight, after the controller
     * took it (its completion harvested by the reset's stop as done),
     * discarded that piece, the first one included.  NVME_ERR_ABORTED:
     * download it again. */
    uint64_t resets = offset != 0 && offset == NVME_READ_ONCE(ctrl->fw_next) /* pieces before */
                          ? NVME_READ_ONCE64(ctrl->fw_resets)
                          : NVME_READ_ONCE64(ctrl->stats.resets);
    NVME_WRITE_ONCE(ctrl->fw_next, 0u);
    const uint8_t *b = buf;
    for (uint32_t done = 0; done < len && rc == NVME_OK;) {
        uint32_t n = len - done < piece ? len - done : piece;
        struct nvme_sqe sqe;
        nvme_sqe_init(&sqe, NVME_ADMIN_FW_DOWNLOAD, 0);
        sqe.cdw10 = n / 4u - 1u;          /* NUMD, 0-based */
        sqe.cdw11 = (offset + done) / 4u; /* OFST, dwords */
        rc = nvme_admin_exec_bounce(ctrl, &sqe, (void *)(uintptr_t)(b + done), n,
                                    NVME_DMA_TO_DEVICE, NULL);
        uint64_t now = NVME_READ_ONCE64(ctrl->stats.resets);
        done += n;
        if (rc == NVME_OK && now != resets) {
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "firmware download: a controller reset discarded the image's pieces "
                     "before offset %u: download it again from its start",
                     offset + done);
            return NVME_ERR_ABORTED;
        }
        resets = now;
    }
    if (rc == NVME_OK) {
        NVME_WRITE_ONCE64(ctrl->fw_resets, resets);
        NVME_WRITE_ONCE(ctrl->fw_next, offset + len);
    }
    return rc;
}

int nvme_fw_commit(struct nvme_ctrl *ctrl, uint8_t slot, uint8_t action, bool bpid, uint32_t *dw0)
{
    int rc = mgmt_ready(ctrl);
    if (rc != NVME_OK)
        return rc;
    if (slot > 7u || action > 7u)
        return NVME_ERR_INVAL;
    if (!(NVME_READ_ONCE(ctrl->info.oacs) & NVME_OACS_FW))
        return mgmt_unsupported(ctrl, "Firmware Commit", "OACS bit 2 clear");
    NVME_WRITE_ONCE(ctrl->fw_next, 0u); /* the next download is another image (§5.12) */
    rc = mgmt_exec(ctrl, NVME_ADMIN_FW_COMMIT, 0,
                   slot | ((uint32_t)action << 3) | (bpid ? 1u << 31 : 0u), 0, dw0);
    if (rc > 0 && NVME_SF_SCT(rc) == NVME_SCT_COMMAND_SPECIFIC &&
        (NVME_SF_SC(rc) == NVME_SC_FW_NEEDS_CONV_RESET || NVME_SF_SC(rc) == 0x10u ||
         NVME_SF_SC(rc) == 0x11u))
        nvme_log(ctrl, NVME_LOG_INFO, "firmware committed; activation needs a reset (%s)",
                 nvme_status_name((uint16_t)rc));
    return rc;
}

int nvme_subsystem_reset(struct nvme_ctrl *ctrl, uint32_t confirm)
{
    int rc = mgmt_ready(ctrl);
    if (rc != NVME_OK)
        return rc;
    if ((rc = mgmt_confirm(ctrl, "NVM Subsystem Reset", confirm)) != NVME_OK)
        return rc;
    if (!NVME_CAP_NSSRS(ctrl->info.cap))
        return mgmt_unsupported(ctrl, "NVM Subsystem Reset", "CAP.NSSRS clear");
    if (NVME_READ_ONCE(ctrl->in_recovery) || nvme_in_callback(ctrl))
        return NVME_ERR_STATE;
    nvme_log(ctrl, NVME_LOG_WARN, "NVM Subsystem Reset");
    /* Writes NSSR once the reset is claimed; the restart's
     * nvme_ctrl_read_caps clears CSTS.NSSRO (§3.1.6) so the next one is
     * seen. */
    rc = nvme_ctrl_reset_as(ctrl, false, true);
    return mgmt_rescan(ctrl, rc, false);
}

/* --- Namespace Management (0Dh) and Attachment (15h) ------------------------ */

static __attribute__((noinline)) int mgmt_ns_ready(struct nvme_ctrl *ctrl)
{
    int rc = mgmt_ready(ctrl);
    if (rc == NVME_OK && !(NVME_READ_ONCE(ctrl->info.oacs) & NVME_OACS_NS_MGMT))
        rc = mgmt_unsupported(ctrl, "Namespace Management", "OACS bit 3 clear");
    return rc;
}

/* Runs `sqe` with the 4096 bytes at `data` (the host to controller
 * structure of both commands: Identify Namespace fields, or a Controller
 * List), then frees them; the rescan of mgmt_exec_sqe follows (`cmd_rc`,
 * if not NULL: the command's own result). */
static __attribute__((noinline)) int mgmt_ns_exec(struct nvme_ctrl *ctrl, struct nvme_sqe *sqe,
                                                  void *data, uint32_t *dw0, int *cmd_rc)
{
    int rc = mgmt_exec_sqe(ctrl, sqe, data, 4096u, NVME_DMA_TO_DEVICE, dw0, cmd_rc);
    ctrl->osal.mem_free(ctrl->osal.ctx, data, 4096u);
    return rc;
}

/* A zeroed 4096-byte structure (mem_alloc: kernel stacks are small). */
static void *mgmt_ns_data(struct nvme_ctrl *ctrl)
{
    void *p = ctrl->osal.mem_alloc(ctrl->osal.ctx, 4096u);
    if (p != NULL)
        nvme_memzero(p, 4096u);
    return p;
}

int nvme_ns_create(struct nvme_ctrl *ctrl, const struct nvme_ns_create_args *a, uint32_t *nsid)
{
    int rc = mgmt_ns_ready(ctrl);
    if (rc != NVME_OK)
        return rc;
    if (a == NULL || nsid == NULL || a->nsze == 0 || a->ncap > a->nsze ||
        a->flbas > NVME_NLBAF_MAX_V2)
        return NVME_ERR_INVAL;
    struct nvme_id_ns *id = mgmt_ns_data(ctrl);
    if (id == NULL)
        return NVME_ERR_NOMEM;
    /* The Identify Namespace fields the host sets (Namespace Management -
     * Host Software Specified Fields, NVM CS 1.0 Figure 105):
     * NSZE, NCAP, FLBAS (index bits 3:0 and 6:5, bit 4 extended data LBA:
     * NVM CS 1.0 Figure 97), DPS, NMIC, ANAGRPID, NVMSETID. */
    id->nsze = a->nsze;
    id->ncap = a->ncap != 0 ? a->ncap : a->nsze;
    id->flbas = (uint8_t)((a->flbas & 0xfu) | ((a->flbas & 0x30u) << 1) |
                          (a->md_extended ? NVME_FLBAS_EXTENDED : 0u));
    id->dps = a->dps;
    id->nmic = a->nmic ? 1u : 0u;
    id->anagrpid = a->anagrpid;
    id->nvmsetid = a->nvmsetid;
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_ADMIN_NS_MGMT, 0);
    sqe.cdw10 = 0;                      /* SEL 0h: create */
    sqe.cdw11 = (uint32_t)a->csi << 24; /* CSI */
    uint32_t dw0 = 0;
    int made = NVME_ERR_STATE;
    rc = mgmt_ns_exec(ctrl, &sqe, id, &dw0, &made);
    /* Device input: an NSID is 1..NN (NN: the highest valid NSID,
     * Identify Controller; NVMe 2.0 §3.2.1); above it no Identify, attach or
     * delete names it, as 0 and FFFFFFFFh (broadcast) name none. */
    if (made == NVME_OK &&
        (dw0 == 0 || dw0 >= NVME_NSID_ALL || dw0 > NVME_READ_ONCE(ctrl->info.nn))) {
        nvme_log(ctrl, NVME_LOG_ERROR, "Namespace Management returned NSID %u", dw0);
        return NVME_ERR_PROTO;
    }
    /* Made (Dword 0: its NSID, §5.20): the caller gets the NSID
     * even when the rescan after failed, to attach or delete it; else its
     * capacity stays held by a namespace the caller cannot name. */
    if (made == NVME_OK)
        *nsid = dw0;
    return rc;
}

int nvme_ns_delete(struct nvme_ctrl *ctrl, uint32_t nsid, uint32_t confirm)
{
    int rc = mgmt_ns_ready(ctrl);
    if (rc != NVME_OK)
        return rc;
    if (nsid == 0)
        return NVME_ERR_INVAL;
    if ((rc = mgmt_confirm(ctrl, "namespace deletion", confirm)) != NVME_OK)
        return rc;
    return mgmt_exec(ctrl, NVME_ADMIN_NS_MGMT, nsid, 1u /* SEL 1h: delete */, 0, NULL);
}

int nvme_ns_attach(struct nvme_ctrl *ctrl, uint32_t nsid, bool attach, const uint16_t *ids,
                   unsigned n)
{
    int rc = mgmt_ns_ready(ctrl);
    if (rc != NVME_OK)
        return rc;
    if (nsid == 0 || nsid == NVME_NSID_ALL || n > 2047u || (n != 0 && ids == NULL))
        return NVME_ERR_INVAL;
    uint16_t *list = mgmt_ns_data(ctrl);
    if (list == NULL)
        return NVME_ERR_NOMEM;
    /* Controller List (NVMe 2.0 §4.4): a count, then the IDs. */
    unsigned k = n != 0 ? n : 1u;
    list[0] = (uint16_t)k;
    for (unsigned i = 0; i < k; i++)
        list[1 + i] = n != 0 ? ids[i] : ctrl->info.cntlid;
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_ADMIN_NS_ATTACH, nsid);
    sqe.cdw10 = attach ? 0u : 1u; /* SEL 0h attach, 1h detach */
    return mgmt_ns_exec(ctrl, &sqe, list, NULL, NULL);
}
