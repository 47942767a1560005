/* SPDX-License-Identifier: MIT */
/*
 * ctrl.c - controller bring-up (NVMe 1.4 §7.6.1), reset (§7.3.2),
 * shutdown (§7.6.2), interrupts, and register access.
 */
#include "nvme_internal.h"

/* ------------------------------------------------------------------ */
/* Register access                                                     */
/* ------------------------------------------------------------------ */

uint32_t nvme_reg_read32(struct nvme_ctrl *ctrl, uint32_t off)
{
    uint32_t v = ctrl->osal.mmio_read32(ctrl->osal.ctx, off);
    NVME_TRACE(ctrl, NVME_TRACE_REGS, "rd32 %03x -> %08x", off, v);
    return v;
}

void nvme_reg_write32(struct nvme_ctrl *ctrl, uint32_t off, uint32_t val)
{
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
    NVME_TRACE(ctrl, NVME_TRACE_REGS, "wr64 %03x <- %016llx", off, (unsigned long long)val);
    if (ctrl->osal.mmio_write64 != NULL && !(ctrl->quirks & NVME_QUIRK_SPLIT_64BIT_MMIO)) {
        ctrl->osal.mmio_write64(ctrl->osal.ctx, off, val);
    } else {
        ctrl->osal.mmio_write32(ctrl->osal.ctx, off, (uint32_t)val);
        ctrl->osal.mmio_write32(ctrl->osal.ctx, off + 4, (uint32_t)(val >> 32));
    }
}

uint64_t nvme_now_us(struct nvme_ctrl *ctrl)
{
    return ctrl->osal.now_us(ctrl->osal.ctx);
}

int nvme_ctrl_check_csts(struct nvme_ctrl *ctrl)
{
    uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
    if (csts == 0xffffffffu)
        return NVME_ERR_GONE;
    if (csts & NVME_CSTS_CFS)
        return NVME_ERR_FATAL;
    return NVME_OK;
}

uint32_t nvme_ctrl_read_csts(struct nvme_ctrl *ctrl)
{
    return nvme_reg_read32(ctrl, NVME_REG_CSTS);
}

/* ------------------------------------------------------------------ */
/* Quirks: behaviours of particular controllers, by PCI IDs.           */
/* ------------------------------------------------------------------ */

struct nvme_quirk {
    uint16_t vendor, device;
    uint32_t quirks;
};

static const struct nvme_quirk nvme_quirk_table[] = {
    /* Some Intel DC P3xxx need time after CC.EN before CSTS.RDY is
     * meaningful (Linux NVME_QUIRK_DELAY_BEFORE_CHK_RDY). */
    {0x8086, 0x0953, NVME_QUIRK_DELAY_BEFORE_READY},
    {0x8086, 0x0a53, NVME_QUIRK_DELAY_BEFORE_READY},
    {0x8086, 0x0a54, NVME_QUIRK_DELAY_BEFORE_READY},
    /* Apple's ANS2 rejects 64-bit register accesses. */
    {0x106b, 0x2005, NVME_QUIRK_SPLIT_64BIT_MMIO},
};

static uint32_t nvme_lookup_quirks(uint16_t vendor, uint16_t device)
{
    for (size_t i = 0; i < sizeof(nvme_quirk_table) / sizeof(nvme_quirk_table[0]); i++)
        if (nvme_quirk_table[i].vendor == vendor && nvme_quirk_table[i].device == device)
            return nvme_quirk_table[i].quirks;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Enable / disable                                                    */
/* ------------------------------------------------------------------ */

/* Waits until (CSTS & mask) == want, bounded by `timeout_ms`.  CFS is a
 * failure unless we are waiting for the controller to go not-ready (a
 * disable is how CFS is cleared, §7.3.2). */
static int nvme_wait_csts(struct nvme_ctrl *ctrl, uint32_t mask, uint32_t want,
                          uint32_t timeout_ms, bool cfs_ok)
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

/* Clears CC.EN and waits for CSTS.RDY=0 (§3.1.5, §7.6.1).  `settle`: let
 * an enable in progress finish first (firmware may have just set EN);
 * error paths skip that wait so a dead controller costs one CAP.TO. */
static int nvme_ctrl_disable(struct nvme_ctrl *ctrl, bool settle)
{
    uint32_t cc = nvme_reg_read32(ctrl, NVME_REG_CC);
    uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
    if (cc == 0xffffffffu || csts == 0xffffffffu)
        return NVME_ERR_GONE;

    if (cc & NVME_CC_EN) {
        /* Changing EN while RDY has not caught up is undefined (§3.1.5):
         * let an enable in progress finish first.  A controller that
         * never gets there is disabled anyway. */
        if (settle && !(csts & NVME_CSTS_RDY) && !(csts & NVME_CSTS_CFS))
            (void)nvme_wait_csts(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, ctrl->timeout_ms, true);
        nvme_reg_write32(ctrl, NVME_REG_CC, cc & ~(NVME_CC_EN | NVME_CC_SHN_MASK));
    }
    return nvme_wait_csts(ctrl, NVME_CSTS_RDY, 0, ctrl->timeout_ms, true);
}

/* Programs the admin queue and CC, sets EN and waits for RDY (§7.6.1). */
static int nvme_ctrl_enable(struct nvme_ctrl *ctrl)
{
    struct nvme_qpair *aq = &ctrl->admin;
    uint32_t n = (uint32_t)aq->entries - 1u;

    nvme_reg_write32(ctrl, NVME_REG_AQA, n | (n << NVME_AQA_ACQS_SHIFT));
    nvme_reg_write64(ctrl, NVME_REG_ASQ, aq->sq_bus);
    nvme_reg_write64(ctrl, NVME_REG_ACQ, aq->cq_bus);

    uint32_t cc = NVME_CC_CSS_NVM | ((ctrl->page_shift - 12u) << NVME_CC_MPS_SHIFT) |
                  (0u << NVME_CC_AMS_SHIFT) /* round robin */ |
                  ((uint32_t)NVME_SQES_LOG2 << NVME_CC_IOSQES_SHIFT) |
                  ((uint32_t)NVME_CQES_LOG2 << NVME_CC_IOCQES_SHIFT);
    nvme_reg_write32(ctrl, NVME_REG_CC, cc);
    nvme_reg_write32(ctrl, NVME_REG_CC, cc | NVME_CC_EN);
    if (ctrl->quirks & NVME_QUIRK_DELAY_BEFORE_READY)
        ctrl->osal.sleep_us(ctrl->osal.ctx, 2000);

    int rc = nvme_wait_csts(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, ctrl->timeout_ms, false);
    if (rc != NVME_OK)
        nvme_log(ctrl, NVME_LOG_ERROR, "controller not ready after CC.EN=1: %s (CAP.TO %u ms)",
                 nvme_strerror(rc), ctrl->timeout_ms);
    aq->live = rc == NVME_OK;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Capabilities                                                        */
/* ------------------------------------------------------------------ */

static int nvme_read_caps(struct nvme_ctrl *ctrl)
{
    struct nvme_ctrl_info *info = &ctrl->info;
    uint64_t cap = nvme_reg_read64(ctrl, NVME_REG_CAP);
    uint32_t vs = nvme_reg_read32(ctrl, NVME_REG_VS);

    if (cap == ~(uint64_t)0 || vs == 0xffffffffu)
        return NVME_ERR_GONE;
    info->cap = cap;
    info->vs = vs;
    info->max_queue_entries = NVME_CAP_MQES(cap) + 1u;
    ctrl->dstrd = NVME_CAP_DSTRD(cap);
    info->doorbell_stride = 4u << ctrl->dstrd;

    /* CAP.TO: worst-case time to become ready, 500 ms units (§3.1.1).
     * 0 is not a valid value; assume the smallest. */
    uint32_t to = NVME_CAP_TO(cap);
    ctrl->timeout_ms = (to == 0 ? 1u : to) * NVME_CAP_TO_UNIT_MS;
    info->timeout_ms = ctrl->timeout_ms;

    if (NVME_CAP_MQES(cap) == 0) { /* MQES 0 is invalid: at least 2 entries */
        nvme_log(ctrl, NVME_LOG_ERROR, "CAP.MQES is 0");
        return NVME_ERR_PROTO;
    }
    if (!(NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM)) {
        nvme_log(ctrl, NVME_LOG_ERROR, "NVM command set not supported (CAP.CSS=%x)",
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
    ctrl->page_shift = 12u + mpsmin;
    if (ctrl->page_shift < NVME_HOST_PAGE_SHIFT)
        ctrl->page_shift = NVME_HOST_PAGE_SHIFT;
    if (ctrl->page_shift > 16u) { /* we cannot promise buffers of 128 KiB pages */
        nvme_log(ctrl, NVME_LOG_ERROR, "CAP.MPSMIN %u needs pages above 64 KiB", mpsmin);
        return NVME_ERR_UNSUPPORTED;
    }
    ctrl->page_size = 1u << ctrl->page_shift;
    info->page_size = ctrl->page_size;
    NVME_TRACE(ctrl, NVME_TRACE_INIT,
               "CAP=%016llx VS=%08x MQES=%u DSTRD=%u TO=%ums page=%u",
               (unsigned long long)cap, vs, NVME_CAP_MQES(cap), ctrl->dstrd, ctrl->timeout_ms,
               ctrl->page_size);
    return NVME_OK;
}

static uint16_t min_u16(uint32_t a, uint32_t b)
{
    return (uint16_t)(a < b ? a : b);
}

static bool nvme_osal_complete(const struct nvme_osal *o)
{
    return o != NULL && o->mmio_read32 != NULL && o->mmio_write32 != NULL &&
           o->dma_alloc != NULL && o->dma_free != NULL && o->dma_map != NULL &&
           o->mem_alloc != NULL && o->mem_free != NULL && o->now_us != NULL &&
           o->sleep_us != NULL &&
           ((o->lock_create == NULL) == (o->lock == NULL) && (o->lock == NULL) == (o->unlock == NULL));
}

/* ------------------------------------------------------------------ */
/* I/O queues                                                          */
/* ------------------------------------------------------------------ */

/* CQ interrupt vector for a queue: admin always uses vector 0 (§5.3,
 * the admin CQ uses MSI-X vector 0); I/O queues spread over the rest. */
static uint16_t nvme_qid_vector(const struct nvme_ctrl *ctrl, uint16_t qid)
{
    uint16_t nv = ctrl->info.irq_vectors;
    if (nv <= 1 || qid == 0)
        return 0;
    return (uint16_t)(1u + (uint32_t)(qid - 1u) % (uint32_t)(nv - 1u));
}

/* Creates the first `count` allocated I/O queue pairs on the controller. */
static int nvme_create_io_queues(struct nvme_ctrl *ctrl, uint16_t count)
{
    int rc = NVME_OK;
    uint16_t created = 0;

    if (count > ctrl->nr_ioq)
        count = ctrl->nr_ioq;
    for (uint16_t i = 0; i < count; i++) {
        struct nvme_qpair *qp = &ctrl->ioq[i];
        nvme_qpair_reset_rings(qp);
        qp->vector = nvme_qid_vector(ctrl, qp->qid);
        qp->irq = ctrl->info.irq_vectors > 0;
        rc = nvme_admin_create_io_qpair(ctrl, qp);
        if (rc != NVME_OK)
            break;
        created++;
    }
    if (created == 0)
        return rc == NVME_OK ? NVME_ERR_UNSUPPORTED : rc;
    if (created < count) /* run with what the controller accepted */
        nvme_log(ctrl, NVME_LOG_WARN, "only %u of %u I/O queues created: %s", created, count,
                 nvme_strerror(rc));
    ctrl->info.io_queues = created;
    return NVME_OK;
}

static int nvme_setup_io_queues(struct nvme_ctrl *ctrl)
{
    uint16_t want = ctrl->opts.io_queues ? ctrl->opts.io_queues : 1;
    uint16_t granted = 0;

    int rc = nvme_admin_set_num_queues(ctrl, want, &granted);
    if (rc != NVME_OK)
        return rc;
    if (granted < want)
        want = granted;

    /* Vectors: one for the admin queue plus one per I/O queue. */
    ctrl->info.irq_vectors = 0;
    if (!ctrl->opts.polling && ctrl->osal.irq_setup != NULL) {
        bool intx = false;
        int nv = ctrl->osal.irq_setup(ctrl->osal.ctx, (unsigned)want + 1u, &intx);
        if (nv > 0) {
            ctrl->info.irq_vectors = (uint16_t)(nv > want + 1 ? want + 1 : nv);
            ctrl->info.irq_is_intx = intx;
        }
    }

    uint16_t entries = min_u16(ctrl->opts.io_queue_entries ? ctrl->opts.io_queue_entries
                                                           : NVME_DEFAULT_IO_ENTRIES,
                               ctrl->info.max_queue_entries);
    if (entries < 2)
        entries = 2;
    ctrl->ioq = ctrl->osal.mem_alloc(ctrl->osal.ctx, sizeof(*ctrl->ioq) * want);
    if (ctrl->ioq == NULL)
        return NVME_ERR_NOMEM;
    ctrl->ioq_cap = want;
    nvme_memzero(ctrl->ioq, sizeof(*ctrl->ioq) * want);
    for (uint16_t i = 0; i < want; i++) {
        rc = nvme_qpair_alloc(ctrl, &ctrl->ioq[i], (uint16_t)(i + 1u), entries);
        if (rc != NVME_OK)
            return rc; /* caller's unwind frees what was allocated */
        ctrl->nr_ioq = (uint16_t)(i + 1u);
        rc = nvme_prp_pool_fill(&ctrl->ioq[i]);
        if (rc != NVME_OK)
            return rc;
    }
    ctrl->info.io_queue_entries = entries;
    return nvme_create_io_queues(ctrl, want);
}

static void nvme_free_io_queues(struct nvme_ctrl *ctrl)
{
    if (ctrl->ioq == NULL)
        return;
    for (uint16_t i = 0; i < ctrl->nr_ioq; i++)
        nvme_qpair_free(&ctrl->ioq[i]);
    ctrl->osal.mem_free(ctrl->osal.ctx, ctrl->ioq, sizeof(*ctrl->ioq) * ctrl->ioq_cap);
    ctrl->ioq = NULL;
    ctrl->nr_ioq = 0;
    ctrl->ioq_cap = 0;
}

struct nvme_qpair *nvme_ctrl_qpair(struct nvme_ctrl *ctrl, uint16_t qid)
{
    if (qid == 0)
        return &ctrl->admin;
    if (qid > ctrl->info.io_queues)
        return NULL;
    return &ctrl->ioq[qid - 1];
}

/* ------------------------------------------------------------------ */
/* Init / fini                                                         */
/* ------------------------------------------------------------------ */

int nvme_ctrl_init(struct nvme_ctrl **out, const struct nvme_osal *osal,
                   const struct nvme_ctrl_opts *opts)
{
    if (out == NULL)
        return NVME_ERR_INVAL;
    *out = NULL;
    if (!nvme_osal_complete(osal))
        return NVME_ERR_INVAL;

    struct nvme_ctrl *ctrl = osal->mem_alloc(osal->ctx, sizeof(*ctrl));
    if (ctrl == NULL)
        return NVME_ERR_NOMEM;
    nvme_memzero(ctrl, sizeof(*ctrl));
    ctrl->osal = *osal;
    if (opts != NULL)
        ctrl->opts = *opts;
    ctrl->trace = ctrl->opts.trace;
    ctrl->cmd_timeout_ms = ctrl->opts.command_timeout_ms ? ctrl->opts.command_timeout_ms
                                                         : NVME_DEFAULT_CMD_TIMEOUT_MS;
    ctrl->quirks = nvme_lookup_quirks(ctrl->opts.pci_vendor, ctrl->opts.pci_device);

    int rc = nvme_read_caps(ctrl);
    if (rc != NVME_OK)
        goto fail_free;

    /* Step 1 of §7.6.1: the controller may be enabled already (SeaBIOS
     * leaves it so); disable it and wait for RDY=0. */
    ctrl->info.enabled_at_start = (nvme_reg_read32(ctrl, NVME_REG_CC) & NVME_CC_EN) != 0;
    rc = nvme_ctrl_disable(ctrl, true);
    if (rc != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_ERROR, "disable failed: %s", nvme_strerror(rc));
        goto fail_free;
    }

    uint16_t aentries = min_u16(ctrl->opts.admin_queue_entries ? ctrl->opts.admin_queue_entries
                                                               : NVME_DEFAULT_ADMIN_ENTRIES,
                                ctrl->info.max_queue_entries);
    if (aentries > NVME_AQA_MAX_ENTRIES)
        aentries = NVME_AQA_MAX_ENTRIES;
    if (aentries < 2)
        aentries = 2;
    rc = nvme_qpair_alloc(ctrl, &ctrl->admin, 0, aentries);
    if (rc != NVME_OK)
        goto fail_free;
    ctrl->info.admin_queue_entries = aentries;

    rc = nvme_ctrl_enable(ctrl);
    if (rc != NVME_OK)
        goto fail_disable;
    ctrl->ready = true;

    rc = nvme_admin_identify_ctrl(ctrl);
    if (rc != NVME_OK)
        goto fail_disable;
    rc = nvme_ns_scan(ctrl);
    if (rc != NVME_OK)
        goto fail_disable;
    rc = nvme_setup_io_queues(ctrl);
    if (rc != NVME_OK)
        goto fail_ioq;

    NVME_TRACE(ctrl, NVME_TRACE_INIT, "ready: %u I/O queue(s) of %u entries, %u vector(s)%s",
               ctrl->info.io_queues, ctrl->info.io_queue_entries, ctrl->info.irq_vectors,
               ctrl->info.irq_is_intx ? " (INTx)" : "");
    ctrl->up = true;
    *out = ctrl;
    return NVME_OK;

fail_ioq:
    if (ctrl->info.irq_vectors > 0 && ctrl->osal.irq_teardown != NULL)
        ctrl->osal.irq_teardown(ctrl->osal.ctx);
    nvme_free_io_queues(ctrl);
fail_disable:
    /* Never leave the controller enabled on memory we are about to free. */
    nvme_ns_free(ctrl);
    ctrl->ready = false;
    (void)nvme_ctrl_disable(ctrl, false);
    nvme_qpair_free(&ctrl->admin);
fail_free:
    osal->mem_free(osal->ctx, ctrl, sizeof(*ctrl));
    return rc;
}

/* Normal shutdown notification (§7.6.2): CC.SHN=01b, then wait until
 * CSTS.SHST reads 10b, bounded by RTD3E (or 5 s when 0) and CAP.TO. */
static int nvme_ctrl_shutdown(struct nvme_ctrl *ctrl)
{
    uint32_t cc = nvme_reg_read32(ctrl, NVME_REG_CC);
    if (cc == 0xffffffffu)
        return NVME_ERR_GONE;
    if (!(cc & NVME_CC_EN))
        return NVME_OK;
    nvme_reg_write32(ctrl, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
    uint32_t timeout_ms = ctrl->rtd3e_us ? ctrl->rtd3e_us / 1000u + 1u : NVME_SHUTDOWN_TIMEOUT_MS;
    if (timeout_ms < ctrl->timeout_ms)
        timeout_ms = ctrl->timeout_ms;
    int rc = nvme_wait_csts(ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, timeout_ms, true);
    if (rc != NVME_OK)
        nvme_log(ctrl, NVME_LOG_WARN, "shutdown not complete: %s", nvme_strerror(rc));
    return rc;
}

int nvme_ctrl_fini(struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return NVME_OK;
    int csts = nvme_ctrl_check_csts(ctrl);
    if (ctrl->ready && csts == NVME_OK) {
        /* Delete I/O queues, SQ before its CQ (§5.5), then shut down. */
        for (uint16_t i = ctrl->info.io_queues; i-- > 0;)
            if (ctrl->ioq[i].live)
                (void)nvme_admin_delete_io_qpair(ctrl, &ctrl->ioq[i]);
        (void)nvme_ctrl_shutdown(ctrl);
    } else if (csts != NVME_ERR_GONE) {
        /* Not up (a failed reset, a fatal status): stop it before its
         * queue memory is freed. */
        (void)nvme_ctrl_disable(ctrl, false);
    }
    ctrl->ready = false;
    for (uint16_t i = 0; i < ctrl->nr_ioq; i++)
        nvme_qpair_fail_all(&ctrl->ioq[i], NVME_ERR_ABORTED);
    nvme_qpair_fail_all(&ctrl->admin, NVME_ERR_ABORTED);
    if (ctrl->info.irq_vectors > 0 && ctrl->osal.irq_teardown != NULL)
        ctrl->osal.irq_teardown(ctrl->osal.ctx);
    nvme_free_io_queues(ctrl);
    nvme_qpair_free(&ctrl->admin);
    nvme_ns_free(ctrl);
    struct nvme_osal osal = ctrl->osal;
    osal.mem_free(osal.ctx, ctrl, sizeof(*ctrl));
    return NVME_OK;
}

/* Controller reset (§7.3.2): whatever was in flight is failed back to its
 * caller, never dropped; then the controller is disabled (which also
 * clears CSTS.CFS) and rebuilt on the same queue memory. */
static int nvme_ctrl_rebuild(struct nvme_ctrl *ctrl);

int nvme_ctrl_reset(struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    if (ctrl->in_reset)
        return NVME_ERR_STATE;
    nvme_log(ctrl, NVME_LOG_WARN, "controller reset");
    ctrl->in_reset = true;
    int rc = nvme_ctrl_rebuild(ctrl);
    ctrl->in_reset = false;
    return rc;
}

static int nvme_ctrl_rebuild(struct nvme_ctrl *ctrl)
{
    ctrl->ready = false;
    for (uint16_t i = 0; i < ctrl->nr_ioq; i++) {
        nvme_qpair_fail_all(&ctrl->ioq[i], NVME_ERR_ABORTED);
        ctrl->ioq[i].live = false;
    }
    nvme_qpair_fail_all(&ctrl->admin, NVME_ERR_ABORTED);

    int rc = nvme_ctrl_disable(ctrl, false);
    if (rc != NVME_OK)
        return rc;
    nvme_qpair_reset_rings(&ctrl->admin);
    rc = nvme_ctrl_enable(ctrl);
    if (rc != NVME_OK) {
        (void)nvme_ctrl_disable(ctrl, false);
        return rc;
    }
    ctrl->ready = true;
    /* Number of Queues may only be set once per controller reset (§5.21.1.7). */
    uint16_t granted = 0;
    ctrl->info.io_queues = 0;
    rc = nvme_admin_set_num_queues(ctrl, ctrl->nr_ioq, &granted);
    if (rc != NVME_OK) {
        ctrl->ready = false;
        return rc;
    }
    rc = nvme_create_io_queues(ctrl, granted);
    if (rc != NVME_OK) {
        ctrl->ready = false;
        (void)nvme_ctrl_disable(ctrl, false);
    }
    return rc;
}

const struct nvme_ctrl_info *nvme_ctrl_get_info(const struct nvme_ctrl *ctrl)
{
    return ctrl != NULL ? &ctrl->info : NULL;
}

bool nvme_ctrl_is_ready(struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL || !ctrl->ready)
        return false;
    uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
    return csts != 0xffffffffu && (csts & (NVME_CSTS_RDY | NVME_CSTS_CFS)) == NVME_CSTS_RDY;
}

void nvme_ctrl_set_trace(struct nvme_ctrl *ctrl, uint32_t mask)
{
    if (ctrl != NULL)
        ctrl->trace = mask;
}

uint64_t nvme_ctrl_irq_count(const struct nvme_ctrl *ctrl)
{
    return ctrl != NULL ? ctrl->irq_count : 0;
}

/* Interrupt entry.  For INTx (one shared line) the controller's
 * interrupt is masked with INTMS while we reap and unmasked with INTMC
 * afterwards (§7.5.1.1); MSI-X vectors need no masking. */
unsigned nvme_ctrl_handle_irq(struct nvme_ctrl *ctrl, unsigned vector)
{
    unsigned reaped = 0;

    if (ctrl == NULL || !ctrl->ready || vector >= ctrl->info.irq_vectors)
        return 0;
    if (ctrl->info.irq_is_intx)
        nvme_reg_write32(ctrl, NVME_REG_INTMS, 1u);
    if (vector == 0) {
        int n = nvme_qpair_process(&ctrl->admin, 0);
        if (n > 0)
            reaped += (unsigned)n;
    }
    for (uint16_t i = 0; i < ctrl->info.io_queues; i++) {
        struct nvme_qpair *qp = &ctrl->ioq[i];
        if (qp->irq && qp->vector == vector) {
            int n = nvme_qpair_process(qp, 0);
            if (n > 0)
                reaped += (unsigned)n;
        }
    }
    if (ctrl->info.irq_is_intx)
        nvme_reg_write32(ctrl, NVME_REG_INTMC, 1u);
    if (reaped > 0)
        ctrl->irq_count++;
    return reaped;
}
