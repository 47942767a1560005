/* SPDX-License-Identifier: MIT */
/*
 * ctrl.c - the controller's public life: bring-up (NVMe 1.4 §7.6.1),
 * explicit reset, the service and poll calls, interrupts, teardown
 * (§7.6.2).  Registers are regs.c's, recovery recovery.c's.
 */
#include "nvme_internal.h"

/* ------------------------------------------------------------------ */
/* Quirks: behaviours of particular controllers, by PCI IDs.           */
/* ------------------------------------------------------------------ */

struct nvme_quirk {
    uint16_t vendor, device;
    uint32_t quirks;
};

/* Each entry repeats Linux's nvme_id_table (drivers/nvme/host/pci.c) for
 * the same PCI IDs, translated to the quirks the core has; the comment
 * names the device as Linux does and the Linux flags.  Linux flags
 * without an equivalent here (STRIPE_SIZE, MEDIUM_PRIO_SQ, ...) are
 * named too, so a later port knows where to look. */
static const struct nvme_quirk nvme_quirk_table[] = {
    /* Intel 750/P3500/P3600/P3700 (0953), P3520 (0a53), Dell Express
     * Flash P4600 (0a55): STRIPE_SIZE | DEALLOCATE_ZEROES; P4500/P4600
     * (0a54) also IGNORE_DEV_SUBNQN | BOGUS_NID.  Linux gives them no
     * delay before ready. */
    {0x8086, 0x0953, NVME_QUIRK_DEALLOCATE_ZEROES},
    {0x8086, 0x0a53, NVME_QUIRK_DEALLOCATE_ZEROES},
    {0x8086, 0x0a54,
     NVME_QUIRK_DEALLOCATE_ZEROES | NVME_QUIRK_IGNORE_DEV_SUBNQN | NVME_QUIRK_BOGUS_NID},
    {0x8086, 0x0a55, NVME_QUIRK_DEALLOCATE_ZEROES},
    /* Intel 600P/P3100: NO_DEEPEST_PS | MEDIUM_PRIO_SQ | NO_TEMP_THRESH_CHANGE |
     * DISABLE_WRITE_ZEROES. */
    {0x8086, 0xf1a5, NVME_QUIRK_NO_DEEPEST_PS | NVME_QUIRK_NO_WRITE_ZEROES},
    /* QEMU's emulated controller (8086:5845): IDENTIFY_CNS | DISABLE_WRITE_ZEROES |
     * BOGUS_NID in Linux's table; only for QEMU releases older than 1.3's
     * NVMe, but matched by ID alone, as Linux does. */
    {0x8086, 0x5845,
     NVME_QUIRK_IDENTIFY_CNS | NVME_QUIRK_NO_WRITE_ZEROES | NVME_QUIRK_BOGUS_NID |
         NVME_QUIRK_MD_SECTORS},
    /* QEMU's own ID (1b36:0010), not in Linux's table: MD_SECTORS, the
     * core's finding (nvm_md_piece), for this ID and the one above. */
    {0x1b36, 0x0010, NVME_QUIRK_MD_SECTORS},
    /* Seagate Nytro Flash Storage: DELAY_BEFORE_CHK_RDY | NO_NS_DESC_LIST. */
    {0x1bb1, 0x0100, NVME_QUIRK_DELAY_BEFORE_READY | NVME_QUIRK_NO_NS_DESC_LIST},
    /* HGST adapter: DELAY_BEFORE_CHK_RDY. */
    {0x1c58, 0x0003, NVME_QUIRK_DELAY_BEFORE_READY},
    /* WDC SN200 adapter: DELAY_BEFORE_CHK_RDY. */
    {0x1c58, 0x0023, NVME_QUIRK_DELAY_BEFORE_READY},
    /* Memblaze Pblaze4 adapter: DELAY_BEFORE_CHK_RDY. */
    {0x1c5f, 0x0540, NVME_QUIRK_DELAY_BEFORE_READY},
    /* Samsung PM1725: DELAY_BEFORE_CHK_RDY; and, in nvme_pci_enable,
     * queues of 64 entries when CAP.MQES reads 0 (MQES_0_IS_64). */
    {0x144d, 0xa821, NVME_QUIRK_DELAY_BEFORE_READY | NVME_QUIRK_MQES_0_IS_64},
    /* Samsung PM1725a: DELAY_BEFORE_CHK_RDY | DISABLE_WRITE_ZEROES | IGNORE_DEV_SUBNQN;
     * the same MQES 0 in nvme_pci_enable. */
    {0x144d, 0xa822,
     NVME_QUIRK_DELAY_BEFORE_READY | NVME_QUIRK_NO_WRITE_ZEROES | NVME_QUIRK_IGNORE_DEV_SUBNQN |
         NVME_QUIRK_MQES_0_IS_64},
    /* Silicon Motion (126f:2263): NO_NS_DESC_LIST | BOGUS_NID. */
    {0x126f, 0x2263, NVME_QUIRK_NO_NS_DESC_LIST | NVME_QUIRK_BOGUS_NID},
    /* SK Hynix PC400 (1c5c:1504), Sandisk Skyhawk (15b7:2001), SPCC
     * (1d97:2263): DISABLE_WRITE_ZEROES. */
    {0x1c5c, 0x1504, NVME_QUIRK_NO_WRITE_ZEROES},
    {0x15b7, 0x2001, NVME_QUIRK_NO_WRITE_ZEROES},
    {0x1d97, 0x2263, NVME_QUIRK_NO_WRITE_ZEROES},
    /* Apple 2001: SINGLE_VECTOR; and, in nvme_pci_enable, a queue depth
     * of 2 (IO_DEPTH_2).  Apple ANS2 (2005): SINGLE_VECTOR |
     * 128_BYTES_SQES | SHARED_TAGS | SKIP_CID_GEN | IDENTIFY_CNS.  Its
     * registers also reject 64-bit accesses (the core's own finding). */
    {0x106b, 0x2001, NVME_QUIRK_SINGLE_VECTOR | NVME_QUIRK_IO_DEPTH_2},
    {0x106b, 0x2005,
     NVME_QUIRK_SPLIT_64BIT_MMIO | NVME_QUIRK_SINGLE_VECTOR | NVME_QUIRK_128_BYTES_SQES |
         NVME_QUIRK_SHARED_TAGS | NVME_QUIRK_SKIP_CID_GEN | NVME_QUIRK_IDENTIFY_CNS},
};

uint32_t nvme_quirks_lookup(uint16_t vendor, uint16_t device)
{
    for (size_t i = 0; i < sizeof(nvme_quirk_table) / sizeof(nvme_quirk_table[0]); i++)
        if (nvme_quirk_table[i].vendor == vendor && nvme_quirk_table[i].device == device)
            return nvme_quirk_table[i].quirks;
    return 0;
}

static uint16_t min_u16(uint32_t a, uint32_t b) { return (uint16_t)(a < b ? a : b); }

static bool nvme_osal_complete(const struct nvme_osal *o)
{
    return o != NULL && o->mmio_read32 != NULL && o->mmio_write32 != NULL && o->dma_alloc != NULL &&
           o->dma_free != NULL && o->dma_map != NULL && o->mem_alloc != NULL &&
           o->mem_free != NULL && o->now_us != NULL && o->sleep_us != NULL &&
           ((o->lock_create == NULL) == (o->lock == NULL) &&
            (o->lock == NULL) == (o->unlock == NULL) &&
            (o->unlock == NULL) == (o->lock_destroy == NULL)) &&
           ((o->wait == NULL) == (o->wake == NULL)) &&
           ((o->irq_setup == NULL) == (o->irq_teardown == NULL)) &&
           /* a cache line size, a power of two (nvme_osal.h): the read
            * checks mask with dma_align - 1, which for another value
            * would pass buffers that share a line */
           (o->dma_align & (o->dma_align - 1u)) == 0;
}

/* ------------------------------------------------------------------ */
/* I/O queues                                                          */
/* ------------------------------------------------------------------ */

static int nvme_setup_io_queues(struct nvme_ctrl *ctrl)
{
    uint16_t want = nvme_io_queues_wanted(ctrl);
    uint16_t granted = 0;

    if (want == 0) {
        ctrl->info.admin_only = true;
        return nvme_ctrl_start_queues(ctrl, 0);
    }
    int rc = nvme_set_num_queues(ctrl, want, &granted);
    if (rc > 0) {
        /* Like Linux (nvme_setup_io_queues), a controller that refuses
         * Number of Queues keeps running with its admin queue: identify,
         * logs, features, format work; I/O calls say why they cannot.  A
         * reset asks again (recovery.c, nvme_restart). */
        nvme_log(ctrl, NVME_LOG_WARN,
                 "Set Features Number of Queues failed (%s): admin queue only, no I/O",
                 nvme_status_name((uint16_t)rc));
        ctrl->info.admin_only = true;
        return nvme_ctrl_start_queues(ctrl, 0);
    }
    if (rc != NVME_OK)
        return rc;
    if (granted < want)
        want = granted;

    nvme_irq_vectors_setup(ctrl, want);

    rc = nvme_io_queues_alloc(ctrl, want);
    if (rc != NVME_OK)
        return rc;
    return nvme_ctrl_start_queues(ctrl, want);
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
    NVME_WRITE_ONCE(ctrl->info.io_queues, 0);
}

static void nvme_dbbuf_free(struct nvme_ctrl *ctrl) { (void)nvme_dbbuf_resize(ctrl, 0); }

/* I/O Command Set Profile (NVMe 2.0 §5.27.1.21, FID 19h): with CC.CSS =
 * 110b the controller starts with vector 0 of the I/O Command Set data
 * structure (Identify CNS 1Ch, NVMe 2.0 Figure 289).  Pick the first vector that
 * enables the Zoned Namespace command set beside NVM, if any, and select
 * it when it is not 0.  A controller without CNS 1Ch (QEMU 7.2) keeps
 * index 0. */
static void nvme_select_iocs(struct nvme_ctrl *ctrl)
{
    uint64_t v[8];
    unsigned n = 0;
    ctrl->iocs_index = 0;
    if (ctrl->cc_css != NVME_CC_CSS_IOCS || nvme_identify_iocs(ctrl, v, 8, &n) != NVME_OK)
        return;
    const uint64_t want = (1u << NVME_CSI_NVM) | (1u << NVME_CSI_ZNS);
    for (unsigned i = 0; i < n; i++) {
        if ((v[i] & want) != want)
            continue;
        if (i != 0) {
            int rc = nvme_set_features(ctrl, NVME_FEAT_IOCS_PROFILE, i, NULL);
            if (rc != NVME_OK) {
                nvme_log(ctrl, NVME_LOG_WARN, "I/O Command Set Profile %u refused: %s", i,
                         nvme_strerror(rc));
                return;
            }
        }
        ctrl->iocs_index = (uint16_t)i;
        NVME_TRACE(ctrl, NVME_TRACE_INIT, "I/O command set vector %u: %llx", i,
                   (unsigned long long)v[i]);
        return;
    }
}

/* ------------------------------------------------------------------ */
/* Init / fini                                                         */
/* ------------------------------------------------------------------ */

/* The end of a failed bring-up and of nvme_ctrl_fini, once the
 * controller no longer touches memory (rule 1): what is still in flight
 * fails with NVME_ERR_ABORTED, then everything is freed, the controller
 * structure last. */
static void nvme_ctrl_release(struct nvme_ctrl *ctrl)
{
    for (uint16_t i = 0; i < ctrl->nr_ioq; i++) {
        NVME_WRITE_ONCE(ctrl->ioq[i].live, false);
        nvme_qpair_reclaim(&ctrl->ioq[i], NVME_ERR_ABORTED, NVME_RECLAIM_ALL);
    }
    NVME_WRITE_ONCE(ctrl->admin.live, false);
    nvme_qpair_reclaim(&ctrl->admin, NVME_ERR_ABORTED, NVME_RECLAIM_ALL);
    if (ctrl->info.irq_vectors > 0 && ctrl->osal.irq_teardown != NULL)
        ctrl->osal.irq_teardown(ctrl->osal.ctx);
    nvme_free_io_queues(ctrl);
    nvme_qpair_free(&ctrl->admin);
    nvme_ns_free(ctrl);
    nvme_dbbuf_free(ctrl);
    nvme_hmb_free(ctrl);
    if (ctrl->cb_depth != NULL)
        ctrl->osal.mem_free(ctrl->osal.ctx, ctrl->cb_depth, sizeof(uint32_t) * ctrl->cb_cpus);
    void (*mem_free)(void *ctx, void *p, size_t size) = ctrl->osal.mem_free;
    void *ctx = ctrl->osal.ctx;
    mem_free(ctx, ctrl, sizeof(*ctrl));
}

/* A CAP that nvme_ctrl_read_caps refused, on a controller an earlier
 * owner (firmware, a kexec) left enabled: it may still use that owner's
 * queues and Host Memory Buffer (§3.1.5, §8), memory the port may hand
 * out again.  Stopped all the same, as Linux disables the controller
 * before it checks CAP (nvme_pci_configure_admin_queue, then
 * nvme_enable_ctrl's page size and command set checks), and cut off when
 * it will not stop (nvme_ctrl_stop).  The bound is CAP.TO (§3.1.1), which
 * the refusal came before. */
static void nvme_stop_refused(struct nvme_ctrl *ctrl, int rc)
{
    if (rc == NVME_ERR_GONE)
        return;
    uint32_t cc = nvme_reg_read32(ctrl, NVME_REG_CC);
    if (cc == 0xffffffffu || !(cc & NVME_CC_EN))
        return;
    uint32_t to = NVME_CAP_TO(nvme_reg_read64(ctrl, NVME_REG_CAP));
    ctrl->timeout_ms = (to == 0 ? 1u : to) * NVME_CAP_TO_UNIT_MS;
    ctrl->ready_timeout_ms = ctrl->timeout_ms;
    (void)nvme_ctrl_stop(ctrl);
}

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
    ctrl->ns_none.status = NVME_ERR_NOENT; /* NSID 0 (io.c, nvme_io_ns) */
    nvme_memcpy(&ctrl->osal, osal, sizeof(ctrl->osal));
    if (opts != NULL)
        nvme_memcpy(&ctrl->opts, opts, sizeof(ctrl->opts));
    nvme_set_trace(ctrl, ctrl->opts.trace);
    ctrl->quirks = nvme_quirks_lookup(ctrl->opts.pci_vendor, ctrl->opts.pci_device);
    ctrl->info.quirks = ctrl->quirks;
    ctrl->magic = NVME_CTRL_MAGIC;
    /* Bus mastering on (dma_resume) once the controller was found
     * stopped, just before the first CC.EN=1, as Linux's probe sets it:
     * an earlier nvme_ctrl_fini of this function may have cut it off. */
    ctrl->dma_cut = ctrl->osal.dma_resume != NULL;
    nvme_handle_register(ctrl, true); /* bring-up uses the public admin calls */

    int rc = NVME_ERR_NOMEM;
    if (ctrl->osal.cpu_id != NULL && ctrl->opts.cpus > 1) { /* nvme_in_callback, per CPU */
        ctrl->cb_depth = ctrl->osal.mem_alloc(ctrl->osal.ctx, sizeof(uint32_t) * ctrl->opts.cpus);
        if (ctrl->cb_depth == NULL)
            goto fail_free;
        ctrl->cb_cpus = ctrl->opts.cpus;
        nvme_memzero(ctrl->cb_depth, sizeof(uint32_t) * ctrl->cb_cpus);
    }
    rc = nvme_ctrl_read_caps(ctrl, false);
    if (rc != NVME_OK) {
        nvme_stop_refused(ctrl, rc);
        goto fail_free;
    }

    /* Step 2 of §7.6.1: the controller may be enabled already (SeaBIOS
     * leaves it so); disable it and wait for RDY=0.  One that will not stop
     * may still use an earlier owner's queues and Host Memory Buffer (§8,
     * Host Memory Buffer), memory the port may hand out again: cut off
     * (dma_stop), as nvme_ctrl_stop does. */
    ctrl->info.enabled_at_start = (nvme_reg_read32(ctrl, NVME_REG_CC) & NVME_CC_EN) != 0;
    rc = nvme_ctrl_disable(ctrl);
    if (rc != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_ERROR, "disable failed: %s", nvme_strerror(rc));
        (void)nvme_dma_cut(ctrl);
        goto fail_free;
    }

    /* CAP.MQES bounds the I/O queues only (§3.1.1: for NVMe over PCIe it
     * "applies to the I/O Submission Queues and I/O Completion Queues");
     * the admin queue's bound is AQA's, 4096 entries (§3.1.8).  Linux's
     * admin queue is 32 entries whatever MQES says. */
    uint16_t aentries = ctrl->opts.admin_queue_entries ? ctrl->opts.admin_queue_entries
                                                       : NVME_DEFAULT_ADMIN_ENTRIES;
    if (aentries > NVME_AQA_MAX_ENTRIES)
        aentries = NVME_AQA_MAX_ENTRIES;
    if (ctrl->quirks & NVME_QUIRK_SHARED_TAGS) {
        /* Admin CIDs are 0..aentries-2, the I/O queue's start at
         * aentries, below its depth (Linux: NVME_AQ_DEPTH = 32 reserved
         * tags and an I/O queue of at least 34 entries). */
        aentries = min_u16(aentries, NVME_DEFAULT_ADMIN_ENTRIES);
        if (aentries + 2u > ctrl->info.max_queue_entries)
            aentries = (uint16_t)(ctrl->info.max_queue_entries - 2u);
    }
    if (aentries < 2)
        aentries = 2;
    if (ctrl->quirks & NVME_QUIRK_SHARED_TAGS)
        ctrl->tag_shared = aentries;
    /* Linux NVME_QUIRK_128_BYTES_SQES: Apple's I/O SQ entries are 128
     * bytes (CC.IOSQES = 7), the first 64 the command, the rest zero. */
    ctrl->io_sqes = (ctrl->quirks & NVME_QUIRK_128_BYTES_SQES) ? 7u : NVME_SQES_LOG2;
    rc = nvme_qpair_alloc(ctrl, &ctrl->admin, 0, aentries);
    if (rc != NVME_OK)
        goto fail_free;
    ctrl->info.admin_queue_entries = aentries;
    nvme_recovery_init(ctrl);

    rc = nvme_ctrl_enable(ctrl);
    if (rc != NVME_OK)
        goto fail_disable;
    nvme_set_ready(ctrl, true);

    rc = nvme_admin_identify_ctrl(ctrl);
    if (rc != NVME_OK)
        goto fail_disable;
    nvme_select_iocs(ctrl);
    rc = nvme_nvm_limits(ctrl);
    if (rc != NVME_OK)
        goto fail_disable;
    nvme_hmb_alloc(ctrl); /* given with the features, nvme_ctrl_start_queues */
    rc = nvme_setup_io_queues(ctrl);
    if (rc != NVME_OK)
        goto fail_disable;
    /* The namespaces after the features (nvme_ctrl_start_queues), as a
     * restart reads them again after its own, and as Linux scans after
     * nvme_configure_host_options: a controller with Extended LBA
     * Formats reports formats past the sixteenth, and FLBAS bits 6:5,
     * only once Host Behavior Support's LBAFEE is set (NVMe 2.0
     * §5.27.1.18); before, the first scan read at most 16 formats and
     * took index & 0Fh for a namespace formatted at 16 or above. */
    rc = nvme_ns_scan(ctrl);
    if (rc != NVME_OK)
        goto fail_disable;

    /* Keep AERL+1 Asynchronous Event Requests outstanding (§5.2), leaving
     * room on the admin queue for Abort and the commands of the API. */
    ctrl->aer_max = nvme_aer_max(ctrl);
    ctrl->aer_limit = ctrl->aer_max;
    if (ctrl->aer_max == 0 && !ctrl->opts.no_async_events)
        nvme_log(ctrl, NVME_LOG_WARN,
                 "admin queue of %u entries: no event request kept, no event reported",
                 ctrl->info.admin_queue_entries);
    nvme_aer_arm(ctrl);

    NVME_TRACE(ctrl, NVME_TRACE_INIT, "ready: %u I/O queue(s) of %u entries, %u vector(s)%s",
               ctrl->info.io_queues, ctrl->info.io_queue_entries, ctrl->info.irq_vectors,
               ctrl->info.irq_is_intx ? " (INTx)" : "");
    NVME_WRITE_ONCE(ctrl->up, true);
    *out = ctrl;
    return NVME_OK;

fail_disable:
    /* Never free memory the controller may still use: stop it first. */
    nvme_set_ready(ctrl, false);
    if (!NVME_READ_ONCE(ctrl->gone))
        (void)nvme_ctrl_stop(ctrl);
fail_free:
    nvme_handle_register(ctrl, false);
    nvme_ctrl_release(ctrl);
    return rc;
}

int nvme_ctrl_fini(struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return NVME_OK;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    /* Lifecycle rule 7: nothing is freed under a callback or a reset
     * (another CPU's, or one this call would nest in); the caller tries
     * again once it returned. */
    if (nvme_in_callback(ctrl) || NVME_READ_ONCE(ctrl->in_recovery)) {
        nvme_log(ctrl, NVME_LOG_ERROR, "nvme_ctrl_fini %s: refused",
                 nvme_in_callback(ctrl) ? "from a completion callback" : "while a reset runs");
        return NVME_ERR_STATE;
    }
    nvme_handle_register(ctrl, false);
    ctrl->magic = 0;
    NVME_WRITE_ONCE(ctrl->stopping, true);
    ctrl->shutdown_rc = NVME_OK; /* a shutdown below (or in a wait's deadline) says */
    bool shut = false;
    if (NVME_READ_ONCE(ctrl->ready) && !NVME_READ_ONCE(ctrl->gone) &&
        nvme_ctrl_check_csts(ctrl) == NVME_OK) {
        /* Take the Host Memory Buffer back first, as Linux does before a
         * shutdown.  Delete I/O queues, SQ before its CQ (§5.5, §5.6): the
         * controller aborts what they held.  Then the shutdown notification. */
        if (ctrl->hmb_on)
            (void)nvme_hmb_set(ctrl, false);
        for (uint16_t i = ctrl->info.io_queues; i-- > 0;) {
            if (ctrl->ioq[i].live) /* completions still reaped: callbacks get the abort */
                (void)nvme_delete_io_qpair(ctrl, &ctrl->ioq[i]);
        }
        shut = NVME_READ_ONCE(ctrl->ready) && nvme_ctrl_shutdown(ctrl) == NVME_OK;
    }
    /* A finished shutdown (SHST=10b) has stopped the controller, and the
     * deleted queues' commands are over; anything else (a Host Memory
     * Buffer not taken back included) is stopped the hard way before
     * memory is freed (rule 1). */
    bool busy = ctrl->hmb_on; /* the controller may still use it */
    for (uint16_t i = 0; i < ctrl->nr_ioq; i++)
        busy = busy || ctrl->ioq[i].outstanding != 0;
    nvme_set_ready(ctrl, false);
    if (!NVME_READ_ONCE(ctrl->gone) && (!shut || busy)) {
        /* Stopped: the commands whose successful completions the
         * controller posted and nobody reaped end with them, as in a reset
         * (Linux's nvme_dev_disable reaps them at a shutdown too); release
         * fails back only the rest. */
        if (nvme_ctrl_stopped(nvme_ctrl_stop(ctrl))) /* dma_stop's cut-off too */
            for (uint16_t i = 0; i < ctrl->nr_ioq; i++)
                nvme_qpair_harvest(&ctrl->ioq[i]);
    } else if (!NVME_READ_ONCE(ctrl->gone) && ctrl->admin.outstanding != 0) {
        /* A shutdown does not end the Asynchronous Event Requests the
         * controller holds (only a reset aborts them, §5.2): an event
         * would complete one into the admin queue freed below.  Cut the
         * device off the bus as Linux does after a shutdown
         * (pci_disable_device); without dma_stop, reset it. */
        if (!nvme_dma_cut(ctrl))
            (void)nvme_ctrl_stop(ctrl);
    }
    /* A shutdown notification that did not complete (CSTS.SHST never
     * 10b in time, §7.6.2): everything is freed all the same, but the
     * caller learns that the volatile write cache may not be committed. */
    int rc = ctrl->shutdown_rc;
    nvme_ctrl_release(ctrl);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reset, service, poll                                                */
/* ------------------------------------------------------------------ */

int nvme_ctrl_reset(struct nvme_ctrl *ctrl) { return nvme_ctrl_reset_as(ctrl, true, false); }

int nvme_ctrl_reset_as(struct nvme_ctrl *ctrl, bool orderly, bool nssr)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (NVME_READ_ONCE(ctrl->in_recovery) || nvme_in_callback(ctrl))
        return NVME_ERR_STATE;
    /* A controller gone and hot-added again is marked back there. */
    int rc = nvme_recovery_reset_asked(ctrl, orderly, nssr);
    if (rc == NVME_OK) /* (Identify read again by the restart: nvme_refresh_identify) */
        nvme_aer_arm(ctrl);
    return rc;
}

/* NVME_ERR_GONE for a controller that vanished, NVME_ERR_FATAL for a
 * dead one, else NVME_OK. */
static __attribute__((noinline)) int nvme_ctrl_health(const struct nvme_ctrl *ctrl)
{
    return NVME_READ_ONCE(ctrl->gone)   ? NVME_ERR_GONE
           : NVME_READ_ONCE(ctrl->dead) ? NVME_ERR_FATAL
                                        : NVME_OK;
}

int nvme_ctrl_service(struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (nvme_in_callback(ctrl) || NVME_READ_ONCE(ctrl->in_recovery))
        return NVME_OK;
    for (uint16_t q = 0; q <= nvme_io_queue_count(ctrl); q++) {
        struct nvme_qpair *qp = nvme_ctrl_qpair(ctrl, q);
        if (qp == NULL) /* a reset on another CPU has fewer queues now */
            break;
        (void)nvme_qpair_process(qp, 0);
    }
    int rc = nvme_recovery_check(ctrl);
    if (rc != NVME_OK)
        return rc;
    nvme_aer_service(ctrl);
    return nvme_ctrl_health(ctrl);
}

int nvme_qpair_poll(struct nvme_ctrl *ctrl, uint16_t qid, unsigned max)
{
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    struct nvme_qpair *qp = ctrl != NULL ? nvme_ctrl_qpair(ctrl, qid) : NULL;
    if (qp == NULL) {
        int rc = ctrl != NULL ? nvme_ctrl_health(ctrl) : NVME_OK;
        return rc != NVME_OK ? rc : NVME_ERR_INVAL;
    }
    int n = nvme_qpair_process(qp, max);
    if (n > 0)
        return n;
    /* Nothing came back: deadlines and CSTS, at most once per tick. */
    if (!nvme_in_callback(ctrl)) {
        int rc = nvme_recovery_check(ctrl);
        if (rc != NVME_OK)
            return rc;
        if (__atomic_load_n(&ctrl->aer_outstanding, __ATOMIC_RELAXED) <
                NVME_READ_ONCE(ctrl->aer_limit) &&
            !NVME_READ_ONCE(ctrl->in_recovery))
            nvme_aer_arm(ctrl);
    }
    return nvme_ctrl_health(ctrl); /* 0: nothing reaped */
}

const struct nvme_ctrl_info *nvme_ctrl_get_info(const struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return NULL;
    NVME_HANDLE_CHECK(ctrl, NULL); /* after fini: not a pointer into freed memory */
    return &ctrl->info;
}

const struct nvme_ctrl_stats *nvme_ctrl_get_stats(const struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return NULL;
    NVME_HANDLE_CHECK(ctrl, NULL);
    return &ctrl->stats;
}

bool nvme_ctrl_is_ready(struct nvme_ctrl *ctrl)
{
    NVME_HANDLE_CHECK(ctrl, false);
    if (ctrl == NULL || !NVME_READ_ONCE(ctrl->ready))
        return false;
    uint32_t csts = nvme_reg_read32(ctrl, NVME_REG_CSTS);
    return csts != 0xffffffffu && (csts & (NVME_CSTS_RDY | NVME_CSTS_CFS)) == NVME_CSTS_RDY;
}

uint32_t nvme_ctrl_read_csts(struct nvme_ctrl *ctrl)
{
    /* No controller reads as a removed one: all ones (lifecycle rule 6). */
    if (ctrl == NULL)
        return 0xffffffffu;
    NVME_HANDLE_CHECK(ctrl, 0xffffffffu);
    return nvme_reg_read32(ctrl, NVME_REG_CSTS);
}

void nvme_ctrl_set_trace(struct nvme_ctrl *ctrl, uint32_t mask)
{
    if (ctrl != NULL)
        nvme_set_trace(ctrl, mask);
}

uint64_t nvme_ctrl_irq_count(const struct nvme_ctrl *ctrl)
{
    return ctrl != NULL ? ctrl->irq_count : 0;
}

/* Interrupt entry: reaps only (rule 3).  For INTx (one shared line) the
 * controller's interrupt is masked with INTMS while we reap and unmasked
 * with INTMC afterwards (§7.5.1.1); MSI-X vectors need no masking. */
unsigned nvme_ctrl_handle_irq(struct nvme_ctrl *ctrl, unsigned vector)
{
    unsigned reaped = 0;

    if (ctrl == NULL || !NVME_READ_ONCE(ctrl->ready) || vector >= ctrl->info.irq_vectors)
        return 0;
    if (ctrl->info.irq_is_intx)
        nvme_reg_write32(ctrl, NVME_REG_INTMS, 1u);
    if (vector == 0) {
        int n = nvme_qpair_process(&ctrl->admin, 0);
        if (n > 0)
            reaped += (unsigned)n;
    }
    for (uint16_t i = 0; i < nvme_io_queue_count(ctrl); i++) {
        struct nvme_qpair *qp = &ctrl->ioq[i];
        if (NVME_READ_ONCE(qp->irq) && NVME_READ_ONCE(qp->vector) == vector) {
            int n = nvme_qpair_process(qp, 0);
            if (n > 0)
                reaped += (unsigned)n;
        }
    }
    /* Unmasked again, unless a reset holds the line masked while stopped
     * queues keep completions in their CQs (recovery.c, nvme_intx_hold);
     * the flag is read after the INTMS write, a full barrier between. */
    if (ctrl->info.irq_is_intx) {
        nvme_dma_mb();
        if (!NVME_READ_ONCE(ctrl->intx_hold))
            nvme_reg_write32(ctrl, NVME_REG_INTMC, 1u);
    }
    if (reaped > 0)
        nvme_stat_inc(&ctrl->irq_count);
    return reaped;
}
