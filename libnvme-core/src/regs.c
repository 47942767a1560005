/* SPDX-License-Identifier: MIT */
/*
 * regs.c - controller registers (NVMe 1.4 §3.1): traced access, CSTS
 * checks, enable and disable (§7.6.1), stop, and shutdown (§7.6.2).
 */
#include "nvme_internal.h"

uint32_t nvme_reg_read32(struct nvme_ctrl *ctrl, uint32_t off)
{
    uint32_t v = ctrl->osal.mmio_read32(ctrl->osal.ctx, off);
    NVME_TRACE(ctrl, NVME_TRACE_REGS, "rd32 %03x -> %08x", off, v);
    return v;
}

/* A controller that is gone gets no more register writes (lifecycle
 * rule 6): the address may belong to something else by now. */
void nvme_reg_write32(struct nvme_ctrl *ctrl, uint32_t off, uint32_t val)
{
    if (NVME_READ_ONCE(ctrl->gone))
        return;
    NVME_TRACE(ctrl, NVME_TRACE_REGS, "wr32 %03x <- %08x", off, val);
    ctrl->osal.mmio_write32(ctrl->osal.ctx, off, val);
}

/* 64-bit registers may be accessed as two 32-bit halves, low first
 * (NVMe 1.4 §3.1). */
uint64_t nvme_reg_read64(struct nvme_ctrl *ctrl, uint32_t off)
{
    uint64_t v;
    if (ctrl->osal.mmio_read64 != NULL && !(ctrl->quirks & NVME_QUIRK_SPLIT_64BIT_MMIO)) {
        v = ctrl->osal.mmio_read64(ctrl->osal.ctx, off);
    } else {
        uint32_t lo = ctrl->osal.mmio_read32(ctrl->osal.ctx, off);
        uint32_t hi = ctrl->osal.mmio_read32(ctrl->osal.ctx, off + 4);
        v = ((uint64_t)hi << 32) | lo;
    }
    NVME_TRACE(ctrl, NVME_TRACE_REGS, "rd64 %03x -> %016llx", off, (unsigned long long)v);
    return v;
}

void nvme_reg_write64(struct nvme_ctrl *ctrl, uint32_t off, uint64_t val)
{
    if (NVME_READ_ONCE(ctrl->gone))
        return;
    NVME_TRACE(ctrl, NVME_TRACE_REGS, "wr64 %03x <- %016llx", off, (unsigned long long)val);
    if (ctrl->osal.mmio_write64 != NULL && !(ctrl->quirks & NVME_QUIRK_SPLIT_64BIT_MMIO)) {
        ctrl->osal.mmio_write64(ctrl->osal.ctx, off, val);
    } else {
        ctrl->osal.mmio_write32(ctrl->osal.ctx, off, (uint32_t)val);
        ctrl->osal.mmio_write32(ctrl->osal.ctx, off + 4, (uint32_t)(val >> 32));
    }
}

uint64_t nvme_now_us(struct nvme_ctrl *ctrl) { return ctrl->osal.now_us(ctrl->osal.ctx); }

int nvme_ctrl_check_csts(struct nvme_ctrl *ctrl)
{
    uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
    NVME_WRITE_ONCE(ctrl->csts_seen, csts);
    if (csts == 0xffffffffu)
        return NVME_ERR_GONE;
    if (csts & NVME_CSTS_CFS)
        return NVME_ERR_FATAL;
    return NVME_OK;
}

/* Waits until (CSTS & mask) == want, bounded by `timeout_ms`.  CFS is a
 * failure unless we are waiting for the controller to go not-ready (a
 * disable is how CFS is cleared, §7.3.2). */
static int nvme_wait_csts(struct nvme_ctrl *ctrl, uint32_t mask, uint32_t want, uint32_t timeout_ms,
                          bool cfs_ok)
{
    uint64_t deadline = nvme_now_us(ctrl) + (uint64_t)timeout_ms * 1000u;
    uint32_t sleep = 1;

    for (;;) {
        uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
        if (csts == 0xffffffffu)
            return NVME_ERR_GONE;
        if ((csts & NVME_CSTS_CFS) && !cfs_ok)
            return NVME_ERR_FATAL;
        if ((csts & mask) == want)
            return NVME_OK;
        if (nvme_now_us(ctrl) >= deadline)
            return NVME_ERR_TIMEOUT;
        ctrl->osal.sleep_us(ctrl->osal.ctx, sleep);
        if (sleep < NVME_POLL_MAX_SLEEP_US)
            sleep *= 2;
    }
}

int nvme_ctrl_disable(struct nvme_ctrl *ctrl, bool settle)
{
    uint32_t cc = nvme_reg_read32(ctrl, NVME_REG_CC);
    uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
    if (cc == 0xffffffffu || csts == 0xffffffffu)
        return NVME_ERR_GONE;

    if (cc & NVME_CC_EN) {
        /* Changing EN while RDY has not caught up is undefined (§3.1.5):
         * let an enable in progress finish first.  A controller that
         * never gets there is disabled anyway. */
        if (settle && !(csts & NVME_CSTS_RDY) && !(csts & NVME_CSTS_CFS) &&
            nvme_wait_csts(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, ctrl->ready_timeout_ms, true) ==
                NVME_ERR_GONE)
            return NVME_ERR_GONE;
        nvme_reg_write32(ctrl, NVME_REG_CC, cc & ~(NVME_CC_EN | NVME_CC_SHN_MASK));
        /* Linux nvme_disable_ctrl: with NVME_QUIRK_DELAY_BEFORE_CHK_RDY it
         * sleeps NVME_QUIRK_DELAY_AMOUNT (2300 ms) after clearing CC.EN
         * before it waits for CSTS.RDY = 0. */
        if (ctrl->quirks & NVME_QUIRK_DELAY_BEFORE_READY)
            for (uint32_t ms = 0; ms < NVME_QUIRK_DELAY_MS; ms += 10u) /* sleeps of <= 10 ms */
                ctrl->osal.sleep_us(ctrl->osal.ctx, 10000u);
    }
    return nvme_wait_csts(ctrl, NVME_CSTS_RDY, 0, ctrl->timeout_ms, true);
}

int nvme_ctrl_enable(struct nvme_ctrl *ctrl)
{
    struct nvme_qpair *aq = &ctrl->admin;
    uint32_t n = (uint32_t)aq->entries - 1u;

    nvme_reg_write32(ctrl, NVME_REG_AQA, n | (n << NVME_AQA_ACQS_SHIFT));
    nvme_reg_write64(ctrl, NVME_REG_ASQ, aq->sq_bus);
    nvme_reg_write64(ctrl, NVME_REG_ACQ, aq->cq_bus);

    /* Field by field as §3.1.5 lists them, zero-valued ones included (NVM
     * command set, round robin): cppcheck's "redundant |" is on purpose. */
    // cppcheck-suppress badBitmaskCheck
    uint32_t cc = ctrl->cc_css | ((ctrl->page_shift - 12u) << NVME_CC_MPS_SHIFT) |
                  (0u << NVME_CC_AMS_SHIFT) /* round robin */ |
                  ((uint32_t)ctrl->io_sqes << NVME_CC_IOSQES_SHIFT) |
                  ((uint32_t)NVME_CQES_LOG2 << NVME_CC_IOCQES_SHIFT);
    nvme_reg_write32(ctrl, NVME_REG_CC, cc);
    nvme_reg_write32(ctrl, NVME_REG_CC, cc | NVME_CC_EN);

    int rc = nvme_wait_csts(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, ctrl->ready_timeout_ms, false);
    if (rc != NVME_OK)
        nvme_log(ctrl, NVME_LOG_ERROR, "controller not ready after CC.EN=1: %s (CAP.TO/CRTO %u ms)",
                 nvme_strerror(rc), ctrl->ready_timeout_ms);
    NVME_WRITE_ONCE(aq->live, rc == NVME_OK);
    return rc;
}

/* Lifecycle rule 1: buffers go back to their callers only once this
 * returned.  CC.EN=0 with CSTS.RDY=0 stops the controller (§3.1.5,
 * §7.3.2); a controller that will not stop is cut off the bus by the
 * port's dma_stop. */
int nvme_ctrl_stop(struct nvme_ctrl *ctrl)
{
    if (NVME_READ_ONCE(ctrl->gone))
        return NVME_ERR_GONE;
    int rc = nvme_ctrl_disable(ctrl, false);
    if (rc == NVME_OK || rc == NVME_ERR_GONE)
        return rc;
    if (ctrl->osal.dma_stop != NULL) {
        nvme_log(ctrl, NVME_LOG_ERROR, "controller did not stop (%s): DMA cut off",
                 nvme_strerror(rc));
        ctrl->osal.dma_stop(ctrl->osal.ctx);
        return NVME_ERR_FATAL; /* buffers safe, controller not usable */
    }
    nvme_log(ctrl, NVME_LOG_ERROR,
             "controller did not stop (%s) and the OSAL has no dma_stop: it may still write "
             "buffers handed back",
             nvme_strerror(rc));
    return rc;
}

/* Normal shutdown notification (§7.6.2): CC.SHN=01b, then wait until
 * CSTS.SHST reads 10b, bounded by RTD3E clamped to 5 s .. 60 s (Linux's
 * clamp; some controllers report absurd values), and at least CAP.TO. */
int nvme_ctrl_shutdown(struct nvme_ctrl *ctrl)
{
    uint32_t cc = nvme_reg_read32(ctrl, NVME_REG_CC);
    if (cc == 0xffffffffu)
        return ctrl->shutdown_rc = NVME_ERR_GONE;
    if (!(cc & NVME_CC_EN))
        return ctrl->shutdown_rc = NVME_OK;
    nvme_reg_write32(ctrl, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
    uint32_t timeout_ms = ctrl->info.shutdown_timeout_ms ? ctrl->info.shutdown_timeout_ms
                                                         : NVME_SHUTDOWN_TIMEOUT_MS;
    if (timeout_ms < ctrl->timeout_ms)
        timeout_ms = ctrl->timeout_ms;
    int rc = nvme_wait_csts(ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, timeout_ms, true);
    if (rc != NVME_OK)
        nvme_log(ctrl, NVME_LOG_WARN, "shutdown not complete: %s", nvme_strerror(rc));
    return ctrl->shutdown_rc = rc;
}
