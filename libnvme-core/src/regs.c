/* SPDX-License-Identifier: MIT */
/*
 * regs.c - controller registers (NVMe 1.4 §3.1): traced access, CSTS
 * checks, enable and disable (§7.6.1), stop, shutdown (§7.6.2), and the
 * read-only dump of every register (nvme_ctrl_regs_read, NVMe 2.0 §3.1.3).
 */
#include "nvme_internal.h"

/* The trace line of a register access (NVME_TRACE_REGS), one copy for
 * the four accessors below; `fmt` (theirs, literal) takes the offset
 * and the value as an unsigned long long. */
static __attribute__((noinline)) void nvme_reg_trace(struct nvme_ctrl *ctrl, const char *fmt,
                                                     uint32_t off, uint64_t v)
{
    (void)fmt, (void)off, (void)v; /* (unused with NVME_NO_TRACE) */
    NVME_TRACE(ctrl, NVME_TRACE_REGS, fmt, off, (unsigned long long)v);
}

uint32_t nvme_reg_read32(struct nvme_ctrl *ctrl, uint32_t off)
{
    uint32_t v = ctrl->osal.mmio_read32(ctrl->osal.ctx, off);
    nvme_reg_trace(ctrl, "rd32 %03x -> %08llx", off, v);
    return v;
}

/* A controller that is gone gets no more register writes (lifecycle
 * rule 6): the address may belong to something else by now. */
void nvme_reg_write32(struct nvme_ctrl *ctrl, uint32_t off, uint32_t val)
{
    if (NVME_READ_ONCE(ctrl->gone))
        return;
    nvme_reg_trace(ctrl, "wr32 %03x <- %08llx", off, val);
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
    nvme_reg_trace(ctrl, "rd64 %03x -> %016llx", off, v);
    return v;
}

void nvme_reg_write64(struct nvme_ctrl *ctrl, uint32_t off, uint64_t val)
{
    if (NVME_READ_ONCE(ctrl->gone))
        return;
    nvme_reg_trace(ctrl, "wr64 %03x <- %016llx", off, val);
    if (ctrl->osal.mmio_write64 != NULL && !(ctrl->quirks & NVME_QUIRK_SPLIT_64BIT_MMIO)) {
        ctrl->osal.mmio_write64(ctrl->osal.ctx, off, val);
    } else {
        ctrl->osal.mmio_write32(ctrl->osal.ctx, off, (uint32_t)val);
        ctrl->osal.mmio_write32(ctrl->osal.ctx, off + 4, (uint32_t)(val >> 32));
    }
}

uint64_t nvme_now_us(struct nvme_ctrl *ctrl) { return ctrl->osal.now_us(ctrl->osal.ctx); }

/* CAP (§3.1.1), at bring-up and again before every enable of a reset
 * (`again`), as Linux reads it at each enable: a firmware activated by
 * the reset may change it.  Checked the same way both times; everything
 * is taken only once it all checked out.  Again, the controller's memory
 * was laid out for the page size and the command sets in use: a CAP that
 * no longer allows them fails (the reset then fails cleanly, the
 * controller stopped); CAP.TO, CRTO, DSTRD and MQES are taken as they are
 * (nvme_restart uses them). */
int nvme_ctrl_read_caps(struct nvme_ctrl *ctrl, bool again)
{
    struct nvme_ctrl_info *info = &ctrl->info;
    uint64_t cap = nvme_reg_read64(ctrl, NVME_REG_CAP);
    uint32_t vs = nvme_reg_read32(ctrl, NVME_REG_VS);

    if (cap == ~(uint64_t)0 || vs == 0xffffffffu)
        return NVME_ERR_GONE;
    /* CSTS.NSSRO (§3.1.6, write 1 to clear): an NVM Subsystem Reset
     * occurred.  Cleared at each start, as Linux's
     * nvme_pci_configure_admin_queue does (CAP.NSSRS, VS 1.1 on), so that
     * one set is a reset since; all ones is a controller gone. */
    if (NVME_CAP_NSSRS(cap) && vs >= 0x10100u) {
        uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
        if (csts != 0xffffffffu && (csts & NVME_CSTS_NSSRO))
            nvme_reg_write32(ctrl, NVME_REG_CSTS, NVME_CSTS_NSSRO);
    }
    /* MQES 0 is invalid: at least 2 entries.  Linux's nvme_pci_enable
     * gives Samsung's PM1725(a), which report it, queues of 64 entries. */
    uint32_t max_entries = NVME_CAP_MQES(cap) + 1u;
    if (NVME_CAP_MQES(cap) == 0 && (ctrl->quirks & NVME_QUIRK_MQES_0_IS_64)) {
        max_entries = 64u;
    } else if (NVME_CAP_MQES(cap) == 0) {
        nvme_log(ctrl, NVME_LOG_ERROR, "CAP.MQES is 0");
        return NVME_ERR_PROTO;
    }
    /* Doorbells inside the mapped BAR (nvme_osal.h mmio_size): queue q's
     * two end at 1000h + (2q + 2) strides.  The admin queue's must fit. */
    uint8_t dstrd = (uint8_t)NVME_CAP_DSTRD(cap);
    uint32_t stride = 4u << dstrd;
    uint32_t bar = ctrl->osal.mmio_size != 0 ? ctrl->osal.mmio_size : NVME_BAR_MIN_SIZE;
    uint32_t pairs = bar > NVME_REG_DBS ? nvme_div32(bar - NVME_REG_DBS, 2u * stride) : 0;
    if (pairs == 0) {
        nvme_log(ctrl, NVME_LOG_ERROR, "CAP.DSTRD %u: the admin doorbells lie past the %u-byte BAR",
                 dstrd, bar);
        return NVME_ERR_PROTO;
    }
    /* Command sets (NVMe 2.0 §3.5.1 step 3, CC.CSS §3.1.3.5): with CAP.CSS
     * bit 6 the controller runs every I/O Command Set it supports when
     * CC.CSS is 110b (then the I/O Command Set Profile picks them); else
     * the NVM command set alone, 000b.  Linux nvme_enable_ctrl chooses
     * the same way. */
    uint32_t cc_css = (NVME_CAP_CSS(cap) & NVME_CAP_CSS_IOCS) ? NVME_CC_CSS_IOCS : NVME_CC_CSS_NVM;
    if (!(NVME_CAP_CSS(cap) & (NVME_CAP_CSS_NVM | NVME_CAP_CSS_IOCS))) {
        nvme_log(ctrl, NVME_LOG_ERROR, "NVM command set not supported (CAP.CSS=%x)",
                 NVME_CAP_CSS(cap));
        return NVME_ERR_UNSUPPORTED;
    }
    /* A restart keeps NVM alone while CAP.CSS still offers it: a firmware
     * that gained bit 6 runs as before with CC.CSS 000b (the namespaces
     * and their command sets stay what the scans found).  Losing bit 6
     * leaves no CC.CSS for namespaces of other command sets. */
    if (again && ctrl->cc_css == NVME_CC_CSS_NVM && (NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM))
        cc_css = NVME_CC_CSS_NVM;
    if (again && cc_css != ctrl->cc_css) {
        nvme_log(ctrl, NVME_LOG_ERROR, "CAP.CSS changed (%x): the namespaces' command sets differ",
                 NVME_CAP_CSS(cap));
        return NVME_ERR_UNSUPPORTED;
    }
    /* Memory page size: 4 KiB when the controller allows it, else its
     * minimum (CAP.MPSMIN/MPSMAX, §3.1.1; CC.MPS §3.1.5). */
    uint32_t mpsmin = NVME_CAP_MPSMIN(cap), mpsmax = NVME_CAP_MPSMAX(cap);
    if (mpsmax < mpsmin) {
        nvme_log(ctrl, NVME_LOG_ERROR, "CAP.MPSMAX %u < MPSMIN %u", mpsmax, mpsmin);
        return NVME_ERR_PROTO;
    }
    uint32_t page_shift = 12u + mpsmin;
    if (page_shift < NVME_HOST_PAGE_SHIFT)
        page_shift = NVME_HOST_PAGE_SHIFT;
    if (again) { /* queues, PRP lists and buffers are laid out in these pages */
        page_shift = ctrl->page_shift;
        if (page_shift < 12u + mpsmin || page_shift > 12u + mpsmax) {
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "CAP.MPSMIN/MPSMAX %u/%u exclude the %u-byte pages in use", mpsmin, mpsmax,
                     ctrl->page_size);
            return NVME_ERR_UNSUPPORTED;
        }
    }
    if (page_shift > 16u) { /* we cannot promise buffers of 128 KiB pages */
        nvme_log(ctrl, NVME_LOG_ERROR, "CAP.MPSMIN %u needs pages above 64 KiB", mpsmin);
        return NVME_ERR_UNSUPPORTED;
    }

    /* CAP.TO: worst-case time to become ready, 500 ms units (§3.1.1).
     * 0 is not a valid value; assume the smallest. */
    uint32_t to = NVME_CAP_TO(cap);
    uint32_t timeout_ms = (to == 0 ? 1u : to) * NVME_CAP_TO_UNIT_MS;
    /* NVMe 2.0 CAP.CRMS: with CRWMS, becoming ready after CC.EN (CC.CRIME
     * 0, which we keep) may take CRTO.CRWMT (68h), of which CAP.TO holds
     * at most FFh.  The larger of the two, as Linux nvme_enable_ctrl. */
    uint32_t ready_timeout_ms = timeout_ms;
    if (cap & NVME_CAP_CRMS_CRWMS) {
        uint32_t crto = nvme_reg_read32(ctrl, NVME_REG_CRTO);
        if (crto != 0xffffffffu && NVME_CRTO_CRWMT(crto) * NVME_CAP_TO_UNIT_MS > timeout_ms)
            ready_timeout_ms = NVME_CRTO_CRWMT(crto) * NVME_CAP_TO_UNIT_MS;
    }
    uint16_t db_max = pairs - 1u > 0xffffu ? 0xffffu : (uint16_t)(pairs - 1u);

    /* Again, other CPUs read these meanwhile (their waits' bounds, the
     * queue count): only what changed is stored, each whole. */
    if (info->cap != cap)
        NVME_WRITE_ONCE64(info->cap, cap);
    if (info->vs != vs)
        NVME_WRITE_ONCE(info->vs, vs);
    if (info->max_queue_entries != max_entries)
        NVME_WRITE_ONCE(info->max_queue_entries, max_entries);
    if (ctrl->dstrd != dstrd)
        NVME_WRITE_ONCE(ctrl->dstrd, dstrd);
    if (info->doorbell_stride != stride)
        NVME_WRITE_ONCE(info->doorbell_stride, stride);
    if (ctrl->db_io_queues_max != db_max)
        NVME_WRITE_ONCE(ctrl->db_io_queues_max, db_max);
    if (ctrl->timeout_ms != timeout_ms) {
        NVME_WRITE_ONCE(ctrl->timeout_ms, timeout_ms);
        NVME_WRITE_ONCE(info->timeout_ms, timeout_ms);
    }
    if (ctrl->ready_timeout_ms != ready_timeout_ms)
        NVME_WRITE_ONCE(ctrl->ready_timeout_ms, ready_timeout_ms);
    if (!again) { /* again, they were checked to be the same */
        ctrl->cc_css = cc_css;
        ctrl->page_shift = page_shift;
        ctrl->page_size = 1u << ctrl->page_shift;
        ctrl->page_mask = ctrl->page_size - 1u;
        info->page_size = ctrl->page_size;
    }
    NVME_TRACE(ctrl, NVME_TRACE_INIT, "CAP=%016llx VS=%08x MQES=%u DSTRD=%u TO=%ums page=%u",
               (unsigned long long)cap, vs, NVME_CAP_MQES(cap), ctrl->dstrd, ctrl->timeout_ms,
               ctrl->page_size);
    return NVME_OK;
}

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

/* How nvme_wait_csts treats what it reads besides the bits it waits for. */
#define NVME_WAIT_CFS_OK                                                                           \
    1u /* CFS is no failure: waiting for not-ready, a disable
                               is how CFS is cleared (§7.3.2) */
#define NVME_WAIT_LINK                                                                             \
    2u /* all ones is a link still down: go on waiting
                               (NVME_ERR_GONE at the bound), nvme_ctrl_wait_present */

/* Waits until (CSTS & mask) == want, bounded by `timeout_ms`, with sleeps
 * doubling up to NVME_POLL_MAX_SLEEP_US.  CSTS all ones (the device gone)
 * and CFS end it with NVME_ERR_GONE and NVME_ERR_FATAL unless `how` says
 * otherwise. */
static int nvme_wait_csts(struct nvme_ctrl *ctrl, uint32_t mask, uint32_t want, uint32_t timeout_ms,
                          unsigned how)
{
    uint64_t deadline = nvme_now_us(ctrl) + (uint64_t)timeout_ms * 1000u;
    uint32_t sleep = 1;

    for (;;) {
        uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
        bool gone = csts == 0xffffffffu;
        if (gone && !(how & NVME_WAIT_LINK))
            return NVME_ERR_GONE;
        if (!gone && (csts & NVME_CSTS_CFS) && !(how & NVME_WAIT_CFS_OK))
            return NVME_ERR_FATAL;
        if (!gone && (csts & mask) == want)
            return NVME_OK;
        if (nvme_now_us(ctrl) >= deadline)
            return gone ? NVME_ERR_GONE : NVME_ERR_TIMEOUT;
        ctrl->osal.sleep_us(ctrl->osal.ctx, sleep);
        if (sleep < NVME_POLL_MAX_SLEEP_US)
            sleep *= 2;
    }
}

/* After an NVM Subsystem Reset the PCIe link of the controller may go
 * down and its BAR read all ones until the link trains again (§7.3.1:
 * the reset may reach the PCIe layer): a register that reads back
 * something else within `timeout_ms` (CAP.TO) says it is there.
 * NVME_ERR_GONE when it never does. */
int nvme_ctrl_wait_present(struct nvme_ctrl *ctrl, uint32_t timeout_ms)
{
    return nvme_wait_csts(ctrl, 0, 0, timeout_ms, NVME_WAIT_CFS_OK | NVME_WAIT_LINK);
}

int nvme_ctrl_disable(struct nvme_ctrl *ctrl)
{
    uint32_t cc = nvme_reg_read32(ctrl, NVME_REG_CC);
    uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
    if (cc == 0xffffffffu || csts == 0xffffffffu)
        return NVME_ERR_GONE;

    if (cc & NVME_CC_EN) {
        /* Changing EN while RDY has not caught up is undefined (§3.1.5):
         * let an enable in progress finish first, within what is left of
         * CAP.TO since our CC.EN=1 (all of it for one we did not set).  A
         * controller that never gets there is disabled anyway, and so at
         * once is one that reports CFS meanwhile: its RDY will not rise
         * (§9.5). */
        uint64_t now = nvme_now_us(ctrl), at = ctrl->enabled_at_us;
        uint64_t left = (uint64_t)ctrl->ready_timeout_ms * 1000u - (at ? now - at : 0);
        if (!(csts & NVME_CSTS_RDY) && !(csts & NVME_CSTS_CFS) && (int64_t)left > 0 &&
            nvme_wait_csts(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY,
                           (uint32_t)nvme_u64_divmod(left, 1000u, NULL) + 1u, 0) == NVME_ERR_GONE)
            return NVME_ERR_GONE;
        nvme_reg_write32(ctrl, NVME_REG_CC, cc & ~(NVME_CC_EN | NVME_CC_SHN_MASK));
        /* Linux nvme_disable_ctrl: with NVME_QUIRK_DELAY_BEFORE_CHK_RDY it
         * sleeps NVME_QUIRK_DELAY_AMOUNT (2300 ms) after clearing CC.EN
         * before it waits for CSTS.RDY = 0. */
        if (ctrl->quirks & NVME_QUIRK_DELAY_BEFORE_READY)
            for (uint32_t ms = 0; ms < NVME_QUIRK_DELAY_MS; ms += 10u) /* sleeps of <= 10 ms */
                ctrl->osal.sleep_us(ctrl->osal.ctx, 10000u);
    }
    return nvme_wait_csts(ctrl, NVME_CSTS_RDY, 0, ctrl->timeout_ms, NVME_WAIT_CFS_OK);
}

bool nvme_dma_cut(struct nvme_ctrl *ctrl)
{
    if (ctrl->osal.dma_stop == NULL)
        return false;
    NVME_WRITE_ONCE(ctrl->dma_cut, true);
    ctrl->osal.dma_stop(ctrl->osal.ctx);
    return true;
}

int nvme_ctrl_enable(struct nvme_ctrl *ctrl)
{
    struct nvme_qpair *aq = &ctrl->admin;
    uint32_t n = (uint32_t)aq->entries - 1u;

    /* Cut off the bus earlier (nvme_dma_cut): a controller enabled
     * without bus mastering could fetch no command (and the reset would
     * wait out every admin deadline for nothing). */
    if (NVME_READ_ONCE(ctrl->dma_cut)) {
        if (ctrl->osal.dma_resume == NULL) {
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "cut off from memory (dma_stop) and the OSAL has no dma_resume: "
                     "not enabled again");
            return NVME_ERR_FATAL;
        }
        ctrl->osal.dma_resume(ctrl->osal.ctx);
        NVME_WRITE_ONCE(ctrl->dma_cut, false);
    }

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
    ctrl->enabled_at_us = nvme_now_us(ctrl); /* CAP.TO counts from here */
    nvme_reg_write32(ctrl, NVME_REG_CC, cc | NVME_CC_EN);

    int rc = nvme_wait_csts(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, ctrl->ready_timeout_ms, 0);
    if (rc != NVME_OK)
        nvme_log(ctrl, NVME_LOG_ERROR, "controller not ready after CC.EN=1: %s (CAP.TO/CRTO %u ms)",
                 nvme_strerror(rc), ctrl->ready_timeout_ms);
    /* Under the queue's lock, as every write of live: an interrupt's reap
     * on another CPU reads it under that lock (nvme_qpair_reap). */
    nvme_lock(aq);
    NVME_WRITE_ONCE(aq->live, rc == NVME_OK);
    nvme_unlock(aq);
    return rc;
}

/* Lifecycle rule 1: buffers go back to their callers only once this
 * returned.  CC.EN=0 with CSTS.RDY=0 stops the controller (§3.1.5,
 * §7.3.2); a controller that will not stop is cut off the bus by the
 * port's dma_stop, and so is one whose registers read all ones: that may
 * be a removal, or only reads that fail (a link retraining) while it
 * still moves data (Linux's nvme_dev_disable disables the PCI device
 * before it cancels the requests).  One marked gone was cut off then
 * (recovery.c).  An enable in progress (one whose wait a failed read
 * ended) is let finish first, as at bring-up (§3.1.5). */
int nvme_ctrl_stop(struct nvme_ctrl *ctrl)
{
    if (NVME_READ_ONCE(ctrl->gone))
        return NVME_ERR_GONE;
    int rc = nvme_ctrl_disable(ctrl);
    if (rc == NVME_OK)
        return rc;
    if (rc == NVME_ERR_GONE) {
        (void)nvme_dma_cut(ctrl);
        return rc;
    }
    if (nvme_dma_cut(ctrl)) {
        nvme_log(ctrl, NVME_LOG_ERROR, "controller did not stop (%s): DMA cut off",
                 nvme_strerror(rc));
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
    int rc = nvme_wait_csts(ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, timeout_ms,
                            NVME_WAIT_CFS_OK);
    if (rc != NVME_OK)
        nvme_log(ctrl, NVME_LOG_WARN, "shutdown not complete: %s", nvme_strerror(rc));
    return ctrl->shutdown_rc = rc;
}

/* Every register of NVMe 2.0 §3.1.3 Figure 35 that struct nvme_ctrl_regs
 * holds, in the order nvme_ctrl_regs_read reads them: its offset, where
 * the struct keeps it, and whether it is 64 bits wide. */
#define NVME_REGS_FIELD(reg, f)                                                                    \
    {                                                                                              \
        NVME_REG_##reg, offsetof(struct nvme_ctrl_regs, f),                                        \
            sizeof(((struct nvme_ctrl_regs *)0)->f) == 8u                                          \
    }
static const struct {
    uint16_t reg;
    uint8_t at, wide;
} nvme_regs_map[] = {
    NVME_REGS_FIELD(CAP, cap),         NVME_REGS_FIELD(VS, vs),
    NVME_REGS_FIELD(INTMS, intms),     NVME_REGS_FIELD(INTMC, intmc),
    NVME_REGS_FIELD(CC, cc),           NVME_REGS_FIELD(CSTS, csts),
    NVME_REGS_FIELD(NSSR, nssr),       NVME_REGS_FIELD(AQA, aqa),
    NVME_REGS_FIELD(ASQ, asq),         NVME_REGS_FIELD(ACQ, acq),
    NVME_REGS_FIELD(CMBLOC, cmbloc),   NVME_REGS_FIELD(CMBSZ, cmbsz),
    NVME_REGS_FIELD(BPINFO, bpinfo),   NVME_REGS_FIELD(BPRSEL, bprsel),
    NVME_REGS_FIELD(BPMBL, bpmbl),     NVME_REGS_FIELD(CMBMSC, cmbmsc),
    NVME_REGS_FIELD(CMBSTS, cmbsts),   NVME_REGS_FIELD(CMBEBS, cmbebs),
    NVME_REGS_FIELD(CMBSWTP, cmbswtp), NVME_REGS_FIELD(NSSD, nssd),
    NVME_REGS_FIELD(CRTO, crto),       NVME_REGS_FIELD(PMRCAP, pmrcap),
    NVME_REGS_FIELD(PMRCTL, pmrctl),   NVME_REGS_FIELD(PMRSTS, pmrsts),
    NVME_REGS_FIELD(PMREBS, pmrebs),   NVME_REGS_FIELD(PMRSWTP, pmrswtp),
    NVME_REGS_FIELD(PMRMSCL, pmrmscl), NVME_REGS_FIELD(PMRMSCU, pmrmscu),
};
#define NVME_REGS_COUNT (sizeof(nvme_regs_map) / sizeof(nvme_regs_map[0]))

/* Fills registers [from, to) of nvme_regs_map into *r: read from the
 * device, or, with `ctrl` NULL, all ones (what a dump of a device that
 * is gone holds). */
static void nvme_regs_fill(struct nvme_ctrl *ctrl, struct nvme_ctrl_regs *r, unsigned from,
                           unsigned to)
{
    for (unsigned i = from; i < to; i++) {
        void *f = (uint8_t *)r + nvme_regs_map[i].at;
        if (nvme_regs_map[i].wide)
            *(uint64_t *)f = ctrl != NULL ? nvme_reg_read64(ctrl, nvme_regs_map[i].reg)
                                          : ~(uint64_t)0;
        else
            *(uint32_t *)f = ctrl != NULL ? nvme_reg_read32(ctrl, nvme_regs_map[i].reg)
                                          : 0xffffffffu;
    }
}

/* Every register of NVMe 2.0 §3.1.3 Figure 35 (nvme-cli's show-regs).
 * Reads only: NSSR (20h) and NSSD (64h) read 0, and a write of either
 * resets or shuts down the NVM subsystem.  No lock: register reads
 * change nothing (a PMRSTS read is at most the PMR write barrier that
 * PMRCAP.PMRWBM bit 1 names), so the call works in every state, a reset
 * running on another CPU included.  Bring-up made sure the BAR reaches
 * past 1000h (nvme_ctrl_read_caps: the admin doorbells), so E00h..E1Bh
 * are inside it. */
int nvme_ctrl_regs_read(struct nvme_ctrl *ctrl, struct nvme_ctrl_regs *out)
{
    if (ctrl == NULL || out == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    /* Lifecycle rule 6: the address may be someone else's by now. */
    if (NVME_READ_ONCE(ctrl->gone)) {
        nvme_regs_fill(NULL, out, 0, NVME_REGS_COUNT);
        return NVME_ERR_GONE;
    }
    nvme_regs_fill(ctrl, out, 0, 2);                          /* CAP, VS */
    if (out->cap == ~(uint64_t)0 || out->vs == 0xffffffffu) { /* removed: read no further */
        nvme_regs_fill(NULL, out, 0, NVME_REGS_COUNT);
        return NVME_ERR_GONE;
    }
    /* §3.1.3, §3.1.4: host software shall not access INTMS or INTMC with
     * MSI-X.  The core cannot tell MSI-X from MSI (irq_setup), nor what a
     * polled port's PCI function has on: they are read with an INTx line
     * only, 0 otherwise (Linux never accesses them). */
    unsigned from = 2;
    if (!NVME_READ_ONCE(ctrl->info.irq_is_intx)) {
        out->intms = out->intmc = 0;
        from = 4;
    }
    nvme_regs_fill(ctrl, out, from, NVME_REGS_COUNT);
    /* Removed while we read (CSTS all ones, as everywhere in the core). */
    if (out->csts == 0xffffffffu) {
        nvme_regs_fill(NULL, out, 0, NVME_REGS_COUNT);
        return NVME_ERR_GONE;
    }
    return NVME_OK;
}
