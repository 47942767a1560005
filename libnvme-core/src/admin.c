/* SPDX-License-Identifier: MIT */
/*
 * admin.c - the admin commands of the public API (NVMe 1.4 §5): Identify,
 * Get Log Page, passthrough; Identify Controller at bring-up.  They wait
 * through recovery.c like every blocking call.  (Get/Set Features without
 * a data structure are recovery.c's: it sets features at every restart.)
 *
 * Data for the caller goes through a DMA bounce page allocated for the
 * command, so callers may pass any memory (even an unaligned, packed
 * struct) and nothing they own is handed to the device.
 */
#include "nvme_internal.h"

/* Format NVM, Sanitize and Device Self-test may take minutes: they get
 * the long admin deadline. */
unsigned nvme_admin_flags(uint8_t opc)
{
    return opc == NVME_ADMIN_FORMAT_NVM || opc == NVME_ADMIN_SANITIZE ||
                   opc == NVME_ADMIN_DEVICE_SELF_TEST
               ? NVME_CMD_LONG
               : 0u;
}

int nvme_admin_exec_bounce(struct nvme_ctrl *ctrl, struct nvme_sqe *sqe, void *buf, uint32_t len,
                           enum nvme_dma_dir dir, uint32_t *dw0)
{
    return nvme_exec_bounce(&ctrl->admin, NVME_NS_EPOCH_ANY, sqe, buf, len, dir,
                            nvme_admin_flags(sqe->opc), dw0);
}

void nvme_passthru_prep(struct nvme_sqe *cmd, const struct nvme_sqe *sqe, struct nvme_bounce *b)
{
    nvme_sqe_copy(cmd, sqe);
    cmd->flags = 0; /* PSDT 00b: PRPs, no fused operation */
    cmd->mptr = 0;  /* the data pointers are the core's, from buf and len */
    cmd->prp1 = 0;
    cmd->prp2 = 0;
    /* An opcode that may move data (bits 1:0, §5 Figure 139; the NVM command set
     * likewise) sent without a buffer still gets a bounce page: a device
     * that moves data the caller did not announce reads zeros or writes
     * into the core's page. */
    if (b->len == 0 && (cmd->opc & 3u) != 0) {
        b->buf = &b->none;
        b->len = sizeof(b->none);
        b->dir = (cmd->opc & 2u) ? NVME_DMA_FROM_DEVICE : NVME_DMA_TO_DEVICE;
    }
}

/* Identify (§5.15), checked: nvme_identify_dw (recovery.c) runs it. */
int nvme_identify(struct nvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf)
{
    if (ctrl == NULL || buf == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    return nvme_identify_dw(ctrl, cns, nsid, 0, buf);
}

/* Identify Controller (§5.15.2.2): keep what the core and nvmectl use,
 * and check what the core depends on. */
int nvme_admin_identify_ctrl(struct nvme_ctrl *ctrl)
{
    struct nvme_ctrl_info *info = &ctrl->info;
    int rc;
    struct nvme_id_ctrl *id = nvme_identify_page(ctrl, NVME_CNS_CTRL, 0, 0, &rc);
    if (id == NULL)
        return rc;
    if (rc != NVME_OK) {
        /* nvme_strerror names a status (rc > 0) as nvme_status_name does. */
        nvme_log(ctrl, NVME_LOG_ERROR, "Identify Controller failed: %s", nvme_strerror(rc));
        goto out;
    }
    info->vid = id->vid;
    info->ssvid = id->ssvid;
    info->cntlid = id->cntlid;
    nvme_copy_id_string(info->serial, id->sn, sizeof(id->sn));
    nvme_copy_id_string(info->model, id->mn, sizeof(id->mn));
    nvme_copy_id_string(info->firmware, id->fr, sizeof(id->fr));
    info->sqes = id->sqes;
    info->cqes = id->cqes;
    ctrl->elpe = id->elpe;
    ctrl->hmpre = id->hmpre;
    ctrl->hmmin = id->hmmin;
    ctrl->hmminds = id->hmminds;
    ctrl->hmmaxd = id->hmmaxd;
    nvme_id_ctrl_take(ctrl, id); /* and again at every restart */

    /* SQES/CQES (§5.15.2.2): [3:0] required, [7:4] maximum, log2.  We
     * use 16-byte CQEs and 64-byte SQEs (128 with the Apple quirk, which
     * like Linux trusts the quirk over the field); a controller whose
     * range excludes them cannot be driven.  0 (pre-1.0) is tolerated. */
    if (id->sqes != 0 && !(ctrl->quirks & NVME_QUIRK_128_BYTES_SQES) &&
        ((id->sqes & 0xfu) > ctrl->io_sqes || (id->sqes >> 4) < ctrl->io_sqes)) {
        nvme_log(ctrl, NVME_LOG_ERROR, "SQES %02x excludes %u-byte entries", id->sqes,
                 1u << ctrl->io_sqes);
        rc = NVME_ERR_UNSUPPORTED;
        goto out;
    }
    if (id->cqes != 0 && ((id->cqes & 0xfu) > NVME_CQES_LOG2 || (id->cqes >> 4) < NVME_CQES_LOG2)) {
        nvme_log(ctrl, NVME_LOG_ERROR, "CQES %02x excludes 16-byte entries", id->cqes);
        rc = NVME_ERR_UNSUPPORTED;
        goto out;
    }

    nvme_refresh_mdts(ctrl, id->mdts, false);
    NVME_TRACE(ctrl, NVME_TRACE_INIT, "identify: sn '%s' mn '%s' fr '%s' nn %u mdts %u bytes",
               info->serial, info->model, info->firmware, info->nn, info->mdts_bytes);
    rc = NVME_OK;
out:
    nvme_identify_page_free(ctrl, id);
    return rc;
}
