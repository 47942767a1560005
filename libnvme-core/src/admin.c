/* SPDX-License-Identifier: MIT */
/*
 * admin.c - admin command builders (NVMe 1.4 §5): Identify, Get Log Page,
 * Get/Set Features, Create/Delete I/O queues.
 *
 * Data for the caller goes through a DMA bounce page allocated for the
 * command, so callers may pass any memory (even an unaligned, packed
 * struct) and nothing they own is handed to the device.
 */
#include "nvme_internal.h"

static void nvme_sqe_init(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid)
{
    nvme_memzero(sqe, sizeof(*sqe));
    sqe->opc = opc;
    sqe->nsid = nsid;
}

/* Runs an admin command whose data (len ≤ one page... or more) lands in a
 * DMA buffer of the core, copied to/from `buf`. */
static int nvme_admin_exec_bounce(struct nvme_ctrl *ctrl, struct nvme_sqe *sqe, void *buf,
                                  uint32_t len, enum nvme_dma_dir dir, uint32_t *dw0)
{
    const struct nvme_osal *o = &ctrl->osal;
    uint64_t bus;

    if (len == 0)
        return nvme_qpair_exec(&ctrl->admin, sqe, NULL, 0, dir, dw0);
    if (buf == NULL)
        return NVME_ERR_INVAL;
    void *dma = o->dma_alloc(o->ctx, len, ctrl->page_size, &bus);
    if (dma == NULL)
        return NVME_ERR_NOMEM;
    nvme_memzero(dma, len);
    if (dir & NVME_DMA_TO_DEVICE)
        nvme_memcpy(dma, buf, len);
    /* The bounce buffer is core memory: it is mapped like a caller's, so
     * ports with an IOMMU see every device access announced. */
    int rc = nvme_qpair_exec(&ctrl->admin, sqe, dma, len, dir, dw0);
    if (rc == NVME_OK && (dir & NVME_DMA_FROM_DEVICE)) {
        nvme_dma_sync(ctrl, dma, len, NVME_DMA_FROM_DEVICE);
        nvme_memcpy(buf, dma, len);
    }
    o->dma_free(o->ctx, dma, len);
    return rc;
}

int nvme_admin_passthru(struct nvme_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf,
                        uint32_t len, enum nvme_dma_dir dir, uint32_t *dw0)
{
    if (ctrl == NULL || sqe == NULL || (len != 0 && buf == NULL))
        return NVME_ERR_INVAL;
    struct nvme_sqe cmd = *sqe;
    return nvme_admin_exec_bounce(ctrl, &cmd, buf, len, dir, dw0);
}

/* Identify (§5.15): CDW10 CNS[7:0], CNTID[31:16]; always 4096 bytes. */
int nvme_identify(struct nvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf)
{
    struct nvme_sqe sqe;
    if (ctrl == NULL || buf == NULL)
        return NVME_ERR_INVAL;
    nvme_sqe_init(&sqe, NVME_ADMIN_IDENTIFY, nsid);
    sqe.cdw10 = cns;
    return nvme_admin_exec_bounce(ctrl, &sqe, buf, NVME_IDENTIFY_DATA_SIZE,
                                  NVME_DMA_FROM_DEVICE, NULL);
}

/* Get Log Page (§5.14): NUMD is a 0-based dword count split into NUMDL
 * (CDW10[31:16]) and NUMDU (CDW11[15:0]). */
int nvme_get_log_page(struct nvme_ctrl *ctrl, uint8_t lid, uint32_t nsid, void *buf, uint32_t len)
{
    struct nvme_sqe sqe;
    if (ctrl == NULL || buf == NULL || len == 0 || (len & 3u) != 0 || len > 4096u)
        return NVME_ERR_INVAL;
    uint32_t numd = len / 4u - 1u;
    nvme_sqe_init(&sqe, NVME_ADMIN_GET_LOG_PAGE, nsid);
    sqe.cdw10 = lid | ((numd & 0xffffu) << 16);
    sqe.cdw11 = numd >> 16;
    return nvme_admin_exec_bounce(ctrl, &sqe, buf, len, NVME_DMA_FROM_DEVICE, NULL);
}

int nvme_get_smart_log(struct nvme_ctrl *ctrl, struct nvme_smart_log *log)
{
    /* Controller-wide: NSID FFFFFFFFh (§5.14.1.2). */
    return nvme_get_log_page(ctrl, NVME_LID_SMART, NVME_NSID_ALL, log, sizeof(*log));
}

/* Get/Set Features (§5.9, §5.21): FID in CDW10[7:0]. */
int nvme_get_features(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11, uint32_t *dw0)
{
    struct nvme_sqe sqe;
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    nvme_sqe_init(&sqe, NVME_ADMIN_GET_FEATURES, 0);
    sqe.cdw10 = fid;
    sqe.cdw11 = cdw11;
    return nvme_qpair_exec(&ctrl->admin, &sqe, NULL, 0, NVME_DMA_FROM_DEVICE, dw0);
}

int nvme_set_features(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11, uint32_t *dw0)
{
    struct nvme_sqe sqe;
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    nvme_sqe_init(&sqe, NVME_ADMIN_SET_FEATURES, 0);
    sqe.cdw10 = fid;
    sqe.cdw11 = cdw11;
    return nvme_qpair_exec(&ctrl->admin, &sqe, NULL, 0, NVME_DMA_TO_DEVICE, dw0);
}

/* Number of Queues (§5.21.1.7): NSQR/NCQR are 0-based in CDW11, and the
 * controller answers NSQA/NCQA (0-based) in DW0, possibly fewer or more
 * than asked. */
int nvme_admin_set_num_queues(struct nvme_ctrl *ctrl, uint16_t want, uint16_t *granted)
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

/* Create I/O CQ (§5.3) then SQ (§5.4); both physically contiguous. */
int nvme_admin_create_io_qpair(struct nvme_ctrl *ctrl, struct nvme_qpair *qp)
{
    struct nvme_sqe sqe;
    uint32_t qsize = (uint32_t)qp->entries - 1u;

    nvme_sqe_init(&sqe, NVME_ADMIN_CREATE_CQ, 0);
    sqe.prp1 = qp->cq_bus;
    sqe.cdw10 = qp->qid | (qsize << 16);
    sqe.cdw11 = NVME_CREATE_CQ_PC | (qp->irq ? NVME_CREATE_CQ_IEN : 0u) |
                ((uint32_t)qp->vector << 16);
    int rc = nvme_qpair_exec(&ctrl->admin, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, NULL);
    if (rc != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_ERROR, "create I/O CQ %u failed: %s", qp->qid,
                 rc > 0 ? nvme_status_name((uint16_t)rc) : nvme_strerror(rc));
        return rc;
    }

    nvme_sqe_init(&sqe, NVME_ADMIN_CREATE_SQ, 0);
    sqe.prp1 = qp->sq_bus;
    sqe.cdw10 = qp->qid | (qsize << 16);
    sqe.cdw11 = NVME_CREATE_SQ_PC | ((uint32_t)qp->qid << 16); /* CQID, QPRIO 0 */
    rc = nvme_qpair_exec(&ctrl->admin, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, NULL);
    if (rc != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_ERROR, "create I/O SQ %u failed: %s", qp->qid,
                 rc > 0 ? nvme_status_name((uint16_t)rc) : nvme_strerror(rc));
        nvme_sqe_init(&sqe, NVME_ADMIN_DELETE_CQ, 0);
        sqe.cdw10 = qp->qid;
        (void)nvme_qpair_exec(&ctrl->admin, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, NULL);
        return rc;
    }
    qp->live = true;
    NVME_TRACE(ctrl, NVME_TRACE_INIT, "I/O queue %u: %u entries, vector %u%s", qp->qid,
               qp->entries, qp->vector, qp->irq ? "" : " (polled)");
    return NVME_OK;
}

/* Delete I/O SQ before its CQ (§5.5, §5.6). */
int nvme_admin_delete_io_qpair(struct nvme_ctrl *ctrl, struct nvme_qpair *qp)
{
    struct nvme_sqe sqe;

    nvme_sqe_init(&sqe, NVME_ADMIN_DELETE_SQ, 0);
    sqe.cdw10 = qp->qid;
    int rc = nvme_qpair_exec(&ctrl->admin, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, NULL);
    /* The SQ is gone (or the controller is failing): its commands are
     * aborted by the controller (§5.5), fail back what is left. */
    qp->live = false;
    nvme_qpair_fail_all(qp, NVME_ERR_ABORTED);
    nvme_sqe_init(&sqe, NVME_ADMIN_DELETE_CQ, 0);
    sqe.cdw10 = qp->qid;
    int rc2 = nvme_qpair_exec(&ctrl->admin, &sqe, NULL, 0, NVME_DMA_BIDIRECTIONAL, NULL);
    return rc != NVME_OK ? rc : rc2;
}

/* Identify Controller (§5.15.2.2): keep what the core and nvmectl use,
 * and check what the core depends on. */
int nvme_admin_identify_ctrl(struct nvme_ctrl *ctrl)
{
    struct nvme_ctrl_info *info = &ctrl->info;
    const struct nvme_osal *o = &ctrl->osal;
    struct nvme_id_ctrl *id = o->mem_alloc(o->ctx, sizeof(*id));
    if (id == NULL)
        return NVME_ERR_NOMEM;

    int rc = nvme_identify(ctrl, NVME_CNS_CTRL, 0, id);
    if (rc != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_ERROR, "Identify Controller failed: %s",
                 rc > 0 ? nvme_status_name((uint16_t)rc) : nvme_strerror(rc));
        goto out;
    }
    info->vid = id->vid;
    info->ssvid = id->ssvid;
    nvme_copy_id_string(info->serial, id->sn, sizeof(id->sn));
    nvme_copy_id_string(info->model, id->mn, sizeof(id->mn));
    nvme_copy_id_string(info->firmware, id->fr, sizeof(id->fr));
    info->nn = id->nn;
    info->oacs = id->oacs;
    info->oncs = id->oncs;
    info->vwc = id->vwc;
    info->lpa = id->lpa;
    info->sqes = id->sqes;
    info->cqes = id->cqes;
    info->wctemp = id->wctemp;
    info->cctemp = id->cctemp;
    ctrl->rtd3e_us = id->rtd3e;
    ctrl->crdt[0] = id->crdt1;
    ctrl->crdt[1] = id->crdt2;
    ctrl->crdt[2] = id->crdt3;

    /* SQES/CQES (§5.15.2.2): [3:0] required, [7:4] maximum, log2.  We
     * use 64/16-byte entries; a controller whose range excludes them
     * cannot be driven.  0 (pre-1.0 devices) is tolerated. */
    if (id->sqes != 0 && ((id->sqes & 0xfu) > NVME_SQES_LOG2 || (id->sqes >> 4) < NVME_SQES_LOG2)) {
        nvme_log(ctrl, NVME_LOG_ERROR, "SQES %02x excludes 64-byte entries", id->sqes);
        rc = NVME_ERR_UNSUPPORTED;
        goto out;
    }
    if (id->cqes != 0 && ((id->cqes & 0xfu) > NVME_CQES_LOG2 || (id->cqes >> 4) < NVME_CQES_LOG2)) {
        nvme_log(ctrl, NVME_LOG_ERROR, "CQES %02x excludes 16-byte entries", id->cqes);
        rc = NVME_ERR_UNSUPPORTED;
        goto out;
    }

    /* MDTS (§5.15.2.2): 2^MDTS units of CAP.MPSMIN pages; 0 = no limit.
     * We never send more than NVME_MAX_XFER_BYTES in one command. */
    uint32_t mpsmin_shift = 12u + NVME_CAP_MPSMIN(info->cap);
    uint32_t max = NVME_MAX_XFER_BYTES;
    info->mdts_reported = 0;
    if (id->mdts != 0) {
        if ((uint32_t)id->mdts + mpsmin_shift < 32u) {
            info->mdts_reported = 1u << (id->mdts + mpsmin_shift);
            if (info->mdts_reported < max)
                max = info->mdts_reported;
        }
    }
    info->mdts_bytes = max;
    NVME_TRACE(ctrl, NVME_TRACE_INIT, "identify: sn '%s' mn '%s' fr '%s' nn %u mdts %u bytes",
               info->serial, info->model, info->firmware, info->nn, info->mdts_bytes);
    rc = NVME_OK;
out:
    o->mem_free(o->ctx, id, sizeof(*id));
    return rc;
}
