/* SPDX-License-Identifier: MIT */
/*
 * cmd.c - builders of the submission queue entries the core sends itself
 * (NVMe 1.4 §4.2 common fields; each command's section below).  They only
 * fill memory: submitting is qpair.c's, waiting recovery.c's.
 */
#include "nvme_internal.h"

__attribute__((noinline)) void nvme_sqe_init(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid)
{
    nvme_memzero(sqe, sizeof(*sqe));
    sqe->opc = opc;
    sqe->nsid = nsid;
}

/* Create I/O Completion Queue (§5.3): QID and 0-based QSIZE in CDW10;
 * physically contiguous, interrupt vector in CDW11[31:16]. */
void nvme_sqe_create_cq(struct nvme_sqe *sqe, const struct nvme_qpair *qp)
{
    nvme_sqe_init(sqe, NVME_ADMIN_CREATE_CQ, 0);
    sqe->prp1 = qp->cq_bus;
    sqe->cdw10 = qp->qid | (((uint32_t)qp->entries - 1u) << 16);
    sqe->cdw11 = NVME_CREATE_CQ_PC | (qp->irq ? NVME_CREATE_CQ_IEN : 0u) |
                 ((uint32_t)qp->vector << 16);
}

/* Create I/O Submission Queue (§5.4): CQID in CDW11[31:16], QPRIO 0. */
void nvme_sqe_create_sq(struct nvme_sqe *sqe, const struct nvme_qpair *qp)
{
    nvme_sqe_init(sqe, NVME_ADMIN_CREATE_SQ, 0);
    sqe->prp1 = qp->sq_bus;
    sqe->cdw10 = qp->qid | (((uint32_t)qp->entries - 1u) << 16);
    sqe->cdw11 = NVME_CREATE_SQ_PC | ((uint32_t)qp->qid << 16);
}

/* Delete I/O Submission / Completion Queue (§5.6, §5.5). */
void nvme_sqe_delete_queue(struct nvme_sqe *sqe, uint8_t opc, uint16_t qid)
{
    nvme_sqe_init(sqe, opc, 0);
    sqe->cdw10 = qid;
}

/* Abort (§5.1): SQID in CDW10[15:0], CID in CDW10[31:16]. */
void nvme_sqe_abort(struct nvme_sqe *sqe, uint16_t sqid, uint16_t cid)
{
    nvme_sqe_init(sqe, NVME_ADMIN_ABORT, 0);
    sqe->cdw10 = sqid | ((uint32_t)cid << 16);
}

/* Get Log Page (§5.14): NUMD, a 0-based dword count, split into NUMDL
 * (CDW10[31:16]) and NUMDU (CDW11[15:0]); RAE (CDW10 bit 15) clear, so
 * reading the page also re-enables its asynchronous event (§5.2). */
void nvme_sqe_get_log(struct nvme_sqe *sqe, uint8_t lid, uint32_t nsid, uint32_t len)
{
    uint32_t numd = len / 4u - 1u;
    nvme_sqe_init(sqe, NVME_ADMIN_GET_LOG_PAGE, nsid);
    sqe->cdw10 = lid | ((numd & 0xffffu) << 16);
    sqe->cdw11 = numd >> 16;
}

/* Zone Management Receive, Report Zones (ZNS 1.1 §3.4.2): SLBA in
 * CDW10-11, NUMD (0-based dwords) in CDW12, every zone state (ZRASF 0h),
 * Partial Report: the header counts the descriptors returned. */
void nvme_sqe_zone_report(struct nvme_sqe *sqe, uint32_t nsid, uint64_t lba, uint32_t len)
{
    nvme_sqe_init(sqe, NVME_CMD_ZONE_MGMT_RECV, nsid);
    sqe->cdw10 = (uint32_t)lba;
    sqe->cdw11 = (uint32_t)(lba >> 32);
    sqe->cdw12 = len / 4u - 1u;
    /* Field by field, zero-valued ones included (ZNS Figure 34):
     * cppcheck's "redundant |" is on purpose. */
    // cppcheck-suppress badBitmaskCheck
    sqe->cdw13 = NVME_ZRA_REPORT | (NVME_ZRASF_ALL << 8) | NVME_ZRA_PARTIAL;
}
