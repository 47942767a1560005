/* SPDX-License-Identifier: MIT */
/*
 * trace.c - log lines through the OSAL.  Traces cost one mask test when
 * off (NVME_TRACE in nvme_internal.h); define NVME_NO_TRACE to compile
 * them out entirely.
 */
#include "nvme_internal.h"

#define NVME_LOG_LINE 160

/* The name in parentheses: with NVME_NO_LOG, nvme_log is also a macro
 * (nvme_internal.h) whose calls are dead; the function stays, so the
 * archive links whatever the compiler keeps of them. */
void(nvme_log)(struct nvme_ctrl *ctrl, enum nvme_log_level level, const char *fmt, ...)
{
    char line[NVME_LOG_LINE];
    va_list ap;

    if (ctrl == NULL || ctrl->osal.log == NULL)
        return;
    /* Which controller: the port's nvmeN (nvme_ctrl_opts.instance). */
    int n = nvme_snprintf(line, sizeof(line), "nvme%u: ", ctrl->opts.instance);
    va_start(ap, fmt);
    nvme_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    ctrl->osal.log(ctrl->osal.ctx, level, line);
}

void nvme_trace_sqe(struct nvme_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *sqe)
{
    NVME_TRACE(ctrl, NVME_TRACE_SQE,
               "sq%u sqe opc=%02x cid=%u nsid=%u prp1=%llx prp2=%llx cdw10=%08x cdw11=%08x "
               "cdw12=%08x",
               qid, sqe->opc, sqe->cid, sqe->nsid, (unsigned long long)sqe->prp1,
               (unsigned long long)sqe->prp2, sqe->cdw10, sqe->cdw11, sqe->cdw12);
}

void nvme_trace_cqe(struct nvme_ctrl *ctrl, uint16_t qid, const struct nvme_cqe *cqe)
{
    uint16_t sf = NVME_CQE_SF(cqe->status);
    /* An error is SCT or SC not 0; More, CRD and DNR beside SCT 0 SC 0
     * are a success (NVMe 2.0 §4.2.3), as the reap takes them. */
    if ((sf & 0x7ffu) != 0 && (ctrl->trace & (NVME_TRACE_CQE | NVME_TRACE_STATUS)) != 0 &&
        ctrl->osal.log != NULL)
        nvme_log(ctrl, NVME_LOG_TRACE,
                 "cq%u cqe cid=%u sqid=%u sqhd=%u dw0=%08x status=%04x (%s%s)", qid, cqe->cid,
                 cqe->sqid, cqe->sqhd, cqe->dw0, sf, nvme_status_name(sf),
                 NVME_SF_DNR(sf) ? ", DNR" : "");
    else
        NVME_TRACE(ctrl, NVME_TRACE_CQE, "cq%u cqe cid=%u sqid=%u sqhd=%u dw0=%08x status=%x", qid,
                   cqe->cid, cqe->sqid, cqe->sqhd, cqe->dw0, sf);
}
