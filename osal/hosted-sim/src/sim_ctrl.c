/* SPDX-License-Identifier: MIT */
/*
 * sim_ctrl.c - life cycle of the simulated controller, simulated clock,
 * interrupt raising/delivery, fault table and the test-facing accessors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define LOCK(sim) pthread_mutex_lock(&((struct nvme_sim *)(sim))->mtx)
#define UNLOCK(sim) pthread_mutex_unlock(&((struct nvme_sim *)(sim))->mtx)

/* --- Messages -------------------------------------------------------------- */

void sim_capture(struct nvme_sim *sim, const char *line)
{
    size_t l = strlen(line);
    if (sim->cap_len + l + 2 > sim->cap_size) {
        size_t n = (sim->cap_size + l + 2) * 2;
        char *b = realloc(sim->cap_buf, n);
        if (!b)
            return;
        sim->cap_buf = b;
        sim->cap_size = n;
    }
    memcpy(sim->cap_buf + sim->cap_len, line, l);
    sim->cap_len += l;
    sim->cap_buf[sim->cap_len++] = '\n';
    sim->cap_buf[sim->cap_len] = 0;
}

/* alarm: a broken rule (host error, coherency violation), printed even
 * when quiet, so that a rare failure says which rule. */
static void vmsg(struct nvme_sim *sim, bool alarm, const char *fmt, va_list ap)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "nvme-sim: ");
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    if (sim->capture)
        sim_capture(sim, line);
    else if (!sim->cfg.quiet || alarm)
        fprintf(stderr, "%s\n", line);
}

void sim_msg(struct nvme_sim *sim, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(sim, false, fmt, ap);
    va_end(ap);
}

void sim_alarm(struct nvme_sim *sim, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(sim, true, fmt, ap);
    va_end(ap);
}

void sim_host_error(struct nvme_sim *sim, const char *fmt, ...)
{
    va_list ap;
    sim->st.host_errors++;
    va_start(ap, fmt);
    vmsg(sim, true, fmt, ap);
    va_end(ap);
}

/* --- Clock ------------------------------------------------------------------ */

/* Apply the state changes and deferred work whose time came. */
void sim_tick(struct nvme_sim *sim)
{
    if (sim->gone)
        return;
    if (sim->rdy_pending && sim->now >= sim->rdy_at) {
        sim->rdy_pending = false;
        if (sim->rdy_target) {
            sim->csts |= NVME_CSTS_RDY;
        } else {
            sim->csts &= ~NVME_CSTS_RDY;
            sim_held_drain(sim); /* end of the disable window */
        }
    }
    sim_held_step(sim);
    if (sim->pp_pending && sim->now >= sim->pp_until) {
        sim->pp_pending = false;
        sim->csts &= ~NVME_CSTS_PP; /* SQs stalled meanwhile are due now */
    }
    if (sim->shst_pending && sim->now >= sim->shst_at) {
        sim->shst_pending = false;
        sim->csts = (sim->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_COMPLETE;
    }
    sim_process_all(sim, true);
}

/* sim_tick for a step in which the host only lets time pass: the held
 * transfers may skip it (sim_held_step). */
void sim_idle_tick(struct nvme_sim *sim)
{
    sim->tick_idle = true;
    sim_tick(sim);
    sim->tick_idle = false;
}

/* --- Interrupts (MSI-X per vector; INTx level with INTMS/INTMC §7.5.1) ---- */

void sim_raise_irq(struct nvme_sim *sim, struct sim_cq *cq)
{
    if (!cq->ien || !sim->irq_granted)
        return;
    if (sim->irq_intx) {
        sim_update_intx(sim);
        return;
    }
    if (cq->iv >= sim->irq_granted) {
        sim_host_error(sim, "CQ uses vector %u but only %u were granted", cq->iv, sim->irq_granted);
        return;
    }
    sim->irq_pending[cq->iv] = 1;
    sim->irq_raised[cq->iv]++;
    sim->st.irqs_raised++;
}

/* INTx level: some IEN CQ holds entries the host has not consumed. */
static bool sim_intx_level(const struct nvme_sim *sim)
{
    for (unsigned q = 0; q < sim->nq; q++)
        if (sim->cq[q].live && sim->cq[q].ien && sim->cq[q].head != sim->cq[q].tail)
            return true;
    return false;
}

/* INTx: asserted while some IEN CQ holds unconsumed entries; a new
 * assertion (unmasked) raises the line once. */
void sim_update_intx(struct nvme_sim *sim)
{
    if (!sim->irq_intx || !sim->irq_granted)
        return;
    bool level = sim_intx_level(sim);
    bool fire = level && !(sim->intms & 1u);
    if (fire && !sim->intx_asserted) {
        sim->irq_pending[0] = 1;
        sim->irq_raised[0]++;
        sim->st.irqs_raised++;
    }
    sim->intx_asserted = fire;
    if (!level)
        sim->irq_pending[0] = 0;
}

/* Call the handler for each pending vector; expects the mutex held once,
 * drops it around the calls.  Never nests. */
unsigned sim_deliver_irqs_unlocked(struct nvme_sim *sim)
{
    unsigned calls = 0;
    if (!sim->irq_fn || sim->delivering || !sim->irq_granted)
        return 0;
    sim->delivering = true;
    for (unsigned v = 0; v < sim->irq_granted; v++) {
        if (!sim->irq_pending[v] || (sim->irq_intx && (sim->intms & 1u)))
            continue;
        sim->irq_pending[v] = 0;
        nvme_sim_irq_fn fn = sim->irq_fn;
        struct nvme_ctrl *ctrl = sim->irq_ctrl;
        sim->st.irqs_delivered++;
        calls++;
        UNLOCK(sim);
        fn(ctrl, v);
        LOCK(sim);
        /* A level-triggered line the handler left asserted and unmasked
         * (entries it did not consume) interrupts again as soon as the
         * host acknowledges it: pending for the next delivery. */
        if (sim->irq_intx && !(sim->intms & 1u) && sim_intx_level(sim)) {
            sim->irq_pending[0] = 1;
            sim->irq_raised[0]++;
            sim->st.irqs_raised++;
            sim->st.intx_refires++;
        }
    }
    sim->delivering = false;
    return calls;
}

/* --- Life cycle --------------------------------------------------------------- */

void nvme_sim_config_init(struct nvme_sim_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mqes = 1023;
    cfg->to = 20;
    cfg->mpsmax = 4;
    cfg->mdts = 5;
    cfg->vid = 0x1b36;
    cfg->ssvid = 0x1af4;
    cfg->serial = "SIM0000001";
    cfg->model = "nvme-core simulated controller";
    cfg->firmware = "1.0";
    cfg->vwc = true;
    cfg->io_queues = 4;
    cfg->ready_delay_us = 2000;
    cfg->disable_delay_us = 500;
    cfg->shutdown_delay_us = 1000;
    cfg->smart.temperature = 308;
    cfg->smart.avail_spare = 100;
    cfg->smart.spare_thresh = 10;
    cfg->now_tick_us = 1;
    cfg->irq_vectors = 8;
    cfg->log_level = NVME_LOG_WARN;
    cfg->acl = 3;
    cfg->aerl = 3;
    cfg->cache_line = 64;
    cfg->oncs = NVME_ONCS_COMPARE | NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES |
                NVME_ONCS_FEATURES_SAVE | NVME_ONCS_TIMESTAMP | NVME_ONCS_VERIFY | NVME_ONCS_COPY;
    cfg->bar_size = 16384;
    cfg->mssrl = 128;
    cfg->mcl = 128;
    cfg->msrc = 127;
    cfg->oacs = NVME_OACS_FORMAT | NVME_OACS_FW | NVME_OACS_SELF_TEST;
    cfg->lpa = NVME_LPA_EFFECTS | NVME_LPA_EXTENDED;
    cfg->sanicap = NVME_SANICAP_CRYPTO | NVME_SANICAP_BLOCK | NVME_SANICAP_OVERWRITE;
    cfg->fna = NVME_FNA_CRYPTO;
    cfg->frmw = (3u << 1) | NVME_FRMW_NO_RESET;
    cfg->dlfeat = NVME_DLFEAT_READ_ZEROES | NVME_DLFEAT_WZ_DEAC;
    cfg->npss = 2;
    cfg->nssrs = true;
    cfg->dst_short_us = 1000;
    cfg->dst_extended_us = 5000;
}

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

struct nvme_sim *nvme_sim_create(const struct nvme_sim_config *cfg)
{
    struct nvme_sim_config def;
    if (!cfg) {
        nvme_sim_config_init(&def);
        cfg = &def;
    }
    struct nvme_sim *sim = calloc(1, sizeof(*sim));
    if (!sim)
        return NULL;
    sim->cfg = *cfg;
    copy_str(sim->serial, sizeof(sim->serial), cfg->serial);
    copy_str(sim->model, sizeof(sim->model), cfg->model);
    copy_str(sim->firmware, sizeof(sim->firmware), cfg->firmware);
    sim->cfg.serial = sim->serial;
    sim->cfg.model = sim->model;
    sim->cfg.firmware = sim->firmware;
    sim->cfg.ns = NULL;
    sim->cfg.ns_count = 0;
    if (cfg->noncoherent && (cfg->cache_line < 16 || cfg->cache_line > 4096 ||
                             (cfg->cache_line & (cfg->cache_line - 1)))) {
        free(sim);
        return NULL;
    }
    sim->smart = cfg->smart;
    sim->nn_override = cfg->nn;
    memcpy(sim->fw_slot[1], sim->firmware, sizeof(sim->fw_slot[1]));
    sim->fw_active = 1;
    for (unsigned f = 0; f < 256; f++) /* saved values start as the defaults */
        sim->feat_saved[f] = f == NVME_FEAT_ARBITRATION   ? 0x3
                             : f == NVME_FEAT_TEMP_THRESH ? 343
                             : f == NVME_FEAT_VOLATILE_WC ? (cfg->vwc ? 1u : 0u)
                                                          : 0u;
    for (int i = 0; i < 3; i++)
        sim->fail_skip[i] = -1;

    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&sim->mtx, &ma);
    pthread_mutexattr_destroy(&ma);

    const char *bad = NULL;
    if (cfg->apple_ans2)
        sim->cfg.irq_vectors = 1; /* Linux NVME_QUIRK_SINGLE_VECTOR */
    if (cfg->mpsmin > cfg->mpsmax || cfg->mpsmax > 15)
        bad = "MPSMIN > MPSMAX";
    else if (cfg->mqes < 1)
        bad = "MQES must be at least 1";
    else if (cfg->dstrd > 15)
        bad = "DSTRD above 15";
    else if (cfg->bar_size < 16384 || (cfg->bar_size & (cfg->bar_size - 1u)) != 0)
        bad = "BAR size not a power of two of at least 16 KiB";
    else if (cfg->irq_vectors > SIM_MAX_VECTORS)
        bad = "more than 2048 interrupt vectors";
    if (bad) {
        sim_msg(sim, "bad configuration: %s", bad);
        nvme_sim_destroy(sim);
        return NULL;
    }

    sim->nq = (unsigned)cfg->io_queues + 1;
    sim->nq_grant = cfg->io_queues;
    sim->sq = calloc(sim->nq, sizeof(*sim->sq));
    sim->cq = calloc(sim->nq, sizeof(*sim->cq));
    sim->db_reads = calloc(2 * sim->nq, sizeof(uint64_t));
    sim->db_writes = calloc(2 * sim->nq, sizeof(uint64_t));
    sim->irq_pending = calloc(SIM_MAX_VECTORS, 1);
    sim->irq_raised = calloc(SIM_MAX_VECTORS, sizeof(uint64_t));
    sim->cid_busy = calloc(sim->nq, 65536 / 8);
    if (!sim->sq || !sim->cq || !sim->db_reads || !sim->db_writes || !sim->irq_pending ||
        !sim->irq_raised || !sim->cid_busy) {
        nvme_sim_destroy(sim);
        return NULL;
    }

    static const struct nvme_sim_ns_config def_ns = {.nsid = 1, .blocks = 32768, .lba_size = 512};
    const struct nvme_sim_ns_config *ns = cfg->ns;
    unsigned n = cfg->ns_count;
    if (!ns && !n) {
        ns = &def_ns;
        n = 1;
    }
    for (unsigned i = 0; i < n; i++) {
        if (sim_ns_insert(sim, &ns[i]) < 0) {
            nvme_sim_destroy(sim);
            return NULL;
        }
    }
    sim_features_reset(sim);
    sim_start_state(sim);
    return sim;
}

void nvme_sim_destroy(struct nvme_sim *sim)
{
    if (!sim)
        return;
    sim_held_drop(sim);
    free(sim->held);
    for (unsigned i = 0; i < sim->ns_count; i++)
        sim_ns_free(sim->ns[i]);
    free(sim->ns);
    free(sim->fw_img);
    /* Memory the core did not give back (dma_alloc regions we own). */
    for (size_t i = 0; i < sim->rg_count; i++)
        if (sim->rg[i].kind == SIM_RG_ALLOC)
            free(sim->rg[i].va);
    free(sim->rg);
    while (sim->bounces) {
        struct sim_bounce *b = sim->bounces;
        sim->bounces = b->next;
        free(b->page);
        free(b);
    }
    sim_cache_free(sim);
    free(sim->fw_mem);
    free(sim->sq);
    free(sim->cq);
    free(sim->db_reads);
    free(sim->db_writes);
    free(sim->cid_busy);
    free(sim->irq_pending);
    free(sim->irq_raised);
    free(sim->delayed);
    free(sim->cap_buf);
    pthread_mutex_destroy(&sim->mtx);
    free(sim);
}

/* --- Clock and timing API ----------------------------------------------------- */

uint64_t nvme_sim_now(const struct nvme_sim *sim)
{
    LOCK(sim);
    uint64_t t = sim->now;
    UNLOCK(sim);
    return t;
}

void sim_pause(struct nvme_sim *sim, uint64_t us)
{
    sim->csts |= NVME_CSTS_PP;
    sim->pp_pending = true;
    sim->pp_until = sim->now + us;
}

void nvme_sim_pause(struct nvme_sim *sim, uint64_t us, bool notice)
{
    LOCK(sim);
    if (notice) /* Firmware Activation Starting (§5.2.1), Firmware Slot Information */
        (void)sim_event_post(sim, NVME_SIM_AE_NOTICE, 0x01, NVME_LID_FW_SLOT);
    sim_pause(sim, us);
    UNLOCK(sim);
}

void nvme_sim_advance(struct nvme_sim *sim, uint64_t us)
{
    LOCK(sim);
    sim->now += us;
    sim_idle_tick(sim); /* time passing, as sleep_us: no event of the host's */
    sim_deliver_irqs_unlocked(sim);
    UNLOCK(sim);
}

unsigned nvme_sim_run(struct nvme_sim *sim)
{
    LOCK(sim);
    unsigned n = 0;
    if (!sim->gone) {
        sim_tick(sim);
        n = sim_process_all(sim, false);
    }
    sim_deliver_irqs_unlocked(sim);
    UNLOCK(sim);
    return n;
}

void nvme_sim_set_timing(struct nvme_sim *sim, enum nvme_sim_timing timing, uint32_t latency_us)
{
    LOCK(sim);
    sim->cfg.timing = timing;
    sim->cfg.completion_latency_us = latency_us;
    UNLOCK(sim);
}

/* --- Interrupt API --------------------------------------------------------------- */

void nvme_sim_set_irq_handler(struct nvme_sim *sim, nvme_sim_irq_fn fn, struct nvme_ctrl *ctrl)
{
    LOCK(sim);
    sim->irq_fn = fn;
    sim->irq_ctrl = ctrl;
    UNLOCK(sim);
}

unsigned nvme_sim_deliver_irqs(struct nvme_sim *sim)
{
    LOCK(sim);
    unsigned n = sim_deliver_irqs_unlocked(sim);
    UNLOCK(sim);
    return n;
}

uint64_t nvme_sim_irq_count(const struct nvme_sim *sim, unsigned vector)
{
    return vector < SIM_MAX_VECTORS ? sim->irq_raised[vector] : 0;
}

unsigned nvme_sim_irq_granted(const struct nvme_sim *sim) { return sim->irq_granted; }

/* --- Faults ------------------------------------------------------------------------ */

int nvme_sim_inject(struct nvme_sim *sim, const struct nvme_sim_fault *fault)
{
    LOCK(sim);
    int rc = -1;
    if (sim->nfaults < SIM_MAX_FAULTS) {
        sim->faults[sim->nfaults++] = (struct sim_fault){.f = *fault};
        rc = 0;
    }
    UNLOCK(sim);
    return rc;
}

void nvme_sim_clear_faults(struct nvme_sim *sim)
{
    LOCK(sim);
    sim->nfaults = 0;
    UNLOCK(sim);
}

uint64_t nvme_sim_fault_hits(const struct nvme_sim *sim)
{
    LOCK(sim);
    uint64_t n = sim->fault_hits;
    UNLOCK(sim);
    return n;
}

void nvme_sim_set_cfs(struct nvme_sim *sim, bool on)
{
    LOCK(sim);
    if (on)
        sim->csts |= NVME_CSTS_CFS;
    else
        sim->csts &= ~NVME_CSTS_CFS;
    UNLOCK(sim);
}

void nvme_sim_set_gone(struct nvme_sim *sim, bool gone)
{
    LOCK(sim);
    if (sim->gone && !gone)
        sim_hot_add(sim);
    sim->gone = gone;
    UNLOCK(sim);
}

void nvme_sim_set_stuck(struct nvme_sim *sim, bool stuck)
{
    LOCK(sim);
    sim->stuck = stuck;
    /* The reset the host asked for while stuck happens now. */
    if (!stuck && !sim->gone && !(sim->cc & NVME_CC_EN) && (sim->csts & NVME_CSTS_RDY) &&
        !sim->rdy_pending)
        sim_controller_reset(sim);
    UNLOCK(sim);
}

void nvme_sim_set_never_ready(struct nvme_sim *sim, bool never)
{
    LOCK(sim);
    sim->never_ready = never;
    UNLOCK(sim);
}

void nvme_sim_cap_at_reset(struct nvme_sim *sim, const struct nvme_sim_cap_change *c)
{
    LOCK(sim);
    sim->cap_next = *c;
    sim->cap_next_set = true;
    UNLOCK(sim);
}

void nvme_sim_nssro_stuck(struct nvme_sim *sim, bool stuck)
{
    LOCK(sim);
    sim->nssro_stuck = stuck;
    UNLOCK(sim);
}

void nvme_sim_nssr_link_down(struct nvme_sim *sim, unsigned reads)
{
    LOCK(sim);
    sim->nssr_down_reads = reads;
    UNLOCK(sim);
}

void nvme_sim_link_down(struct nvme_sim *sim, unsigned reads)
{
    LOCK(sim);
    sim->link_down_left = reads;
    UNLOCK(sim);
}

void nvme_sim_fail_osal(struct nvme_sim *sim, enum nvme_sim_osal_fn fn, int skip)
{
    LOCK(sim);
    if ((unsigned)fn < 3)
        sim->fail_skip[fn] = skip;
    UNLOCK(sim);
}

/* --- Namespaces ----------------------------------------------------------------------- */

int nvme_sim_ns_add(struct nvme_sim *sim, const struct nvme_sim_ns_config *ns)
{
    LOCK(sim);
    int rc = sim_ns_insert(sim, ns);
    if (!rc)
        sim_ns_changed(sim, ns->nsid);
    UNLOCK(sim);
    return rc;
}

int nvme_sim_ns_remove(struct nvme_sim *sim, uint32_t nsid)
{
    LOCK(sim);
    int rc = sim_ns_delete(sim, nsid);
    if (!rc)
        sim_ns_changed(sim, nsid);
    UNLOCK(sim);
    return rc;
}

int nvme_sim_ns_corrupt(struct nvme_sim *sim, uint32_t nsid, uint32_t bits, uint8_t lbads)
{
    LOCK(sim);
    struct sim_ns *ns = sim_ns_find(sim, nsid);
    if (ns) {
        ns->corrupt = bits;
        ns->corrupt_lbads = lbads;
    }
    UNLOCK(sim);
    return ns ? 0 : -1;
}

int nvme_sim_ns_write_protect(struct nvme_sim *sim, uint32_t nsid, bool wp)
{
    LOCK(sim);
    struct sim_ns *ns = sim_ns_find(sim, nsid);
    if (ns) {
        ns->write_protected = wp;
        sim_ns_changed(sim, nsid);
    }
    UNLOCK(sim);
    return ns ? 0 : -1;
}

uint64_t nvme_sim_ns_unflushed(struct nvme_sim *sim, uint32_t nsid)
{
    LOCK(sim);
    struct sim_ns *ns = sim_ns_find(sim, nsid);
    uint64_t n = ns ? ns->unflushed : 0;
    UNLOCK(sim);
    return n;
}

void nvme_sim_set_nn(struct nvme_sim *sim, uint32_t nn)
{
    LOCK(sim);
    sim->nn_override = nn;
    UNLOCK(sim);
}

void nvme_sim_active_list_above(struct nvme_sim *sim, uint32_t nsid)
{
    LOCK(sim);
    sim->active_list_above = nsid;
    UNLOCK(sim);
}

void nvme_sim_set_mdts(struct nvme_sim *sim, uint8_t mdts)
{
    LOCK(sim);
    sim->cfg.mdts = mdts;
    UNLOCK(sim);
}

void nvme_sim_set_zasl(struct nvme_sim *sim, uint8_t zasl)
{
    LOCK(sim);
    sim->cfg.zasl = zasl;
    UNLOCK(sim);
}

void nvme_sim_set_support(struct nvme_sim *sim, uint16_t oacs, uint16_t oncs, bool vwc)
{
    LOCK(sim);
    sim->cfg.oacs = oacs;
    sim->cfg.oncs = oncs;
    sim->cfg.vwc = vwc;
    UNLOCK(sim);
}

void nvme_sim_set_wall_clock(struct nvme_sim *sim, uint64_t ms)
{
    LOCK(sim);
    sim->cfg.wall_clock_ms = ms;
    UNLOCK(sim);
}

void nvme_sim_set_oaes_off(struct nvme_sim *sim, uint32_t oaes_off)
{
    LOCK(sim);
    sim->cfg.oaes_off = oaes_off;
    UNLOCK(sim);
}

void nvme_sim_refuse_set_feature(struct nvme_sim *sim, uint8_t fid, uint16_t status)
{
    LOCK(sim);
    sim->refuse_set_fid = fid;
    sim->refuse_set_status = status;
    UNLOCK(sim);
}

void nvme_sim_set_aerl(struct nvme_sim *sim, uint8_t aerl)
{
    LOCK(sim);
    sim->cfg.aerl = aerl;
    UNLOCK(sim);
}

void nvme_sim_set_hmb(struct nvme_sim *sim, uint32_t hmpre, uint32_t hmmin, uint32_t hmminds,
                      uint16_t hmmaxd)
{
    LOCK(sim);
    sim->cfg.hmpre = hmpre;
    sim->cfg.hmmin = hmmin;
    sim->cfg.hmminds = hmminds;
    sim->cfg.hmmaxd = hmmaxd;
    UNLOCK(sim);
}

void nvme_sim_set_elpe(struct nvme_sim *sim, uint8_t elpe)
{
    LOCK(sim);
    sim->err_entries = elpe < SIM_ERR_ENTRIES ? elpe + 1u : SIM_ERR_ENTRIES;
    UNLOCK(sim);
}

void nvme_sim_pel_header(struct nvme_sim *sim, uint64_t tll, uint32_t tnev)
{
    LOCK(sim);
    sim->pel_tll = tll;
    sim->pel_tnev = tnev;
    UNLOCK(sim);
}

void nvme_sim_grant_io_queues(struct nvme_sim *sim, uint16_t n)
{
    LOCK(sim);
    if (n >= 1 && n < sim->nq)
        sim->nq_grant = n;
    UNLOCK(sim);
}

void nvme_sim_set_nvm_limits(struct nvme_sim *sim, uint8_t vsl, uint8_t wzsl, uint8_t dmrl,
                             uint32_t dmrsl, uint64_t dmsl)
{
    LOCK(sim);
    sim->cfg.vsl = vsl;
    sim->cfg.wzsl = wzsl;
    sim->cfg.dmrl = dmrl;
    sim->cfg.dmrsl = dmrsl;
    sim->cfg.dmsl = dmsl;
    UNLOCK(sim);
}

void nvme_sim_set_wusl(struct nvme_sim *sim, uint8_t wusl)
{
    LOCK(sim);
    sim->cfg.wusl = wusl;
    UNLOCK(sim);
}

void nvme_sim_report_copy_limits(struct nvme_sim *sim, uint16_t mssrl, uint32_t mcl, uint8_t msrc)
{
    LOCK(sim);
    sim->copy_id_set = true;
    sim->copy_id_mssrl = mssrl;
    sim->copy_id_mcl = mcl;
    sim->copy_id_msrc = msrc;
    UNLOCK(sim);
}

void nvme_sim_refuse_nvm_id_ns(struct nvme_sim *sim, uint16_t status)
{
    LOCK(sim);
    sim->nvm_id_ns_status = status;
    UNLOCK(sim);
}

static int backdoor(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, uint32_t count, void *buf,
                    bool write)
{
    LOCK(sim);
    struct sim_ns *ns = sim_ns_find(sim, nsid);
    int rc = ns ? sim_ns_io(ns, lba, count, buf, write) : -1;
    UNLOCK(sim);
    return rc;
}

int nvme_sim_ns_read(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    return backdoor(sim, nsid, lba, count, buf, false);
}

int nvme_sim_ns_write(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, uint32_t count,
                      const void *buf)
{
    return backdoor(sim, nsid, lba, count, (void *)(uintptr_t)buf, true);
}

/* --- Statistics and registers ---------------------------------------------------------- */

struct nvme_sim_smart *nvme_sim_smart(struct nvme_sim *sim) { return &sim->smart; }

const struct nvme_sim_stats *nvme_sim_stats(const struct nvme_sim *sim) { return &sim->st; }

uint64_t nvme_sim_dma_violations(const struct nvme_sim *sim) { return sim->st.dma_violations; }

uint64_t nvme_sim_host_errors(const struct nvme_sim *sim) { return sim->st.host_errors; }

uint64_t nvme_sim_coherency_violations(const struct nvme_sim *sim)
{
    return sim->st.coherency_violations;
}

uint64_t nvme_sim_dma_after_return(const struct nvme_sim *sim) { return sim->st.dma_after_return; }

size_t nvme_sim_dma_live(const struct nvme_sim *sim)
{
    LOCK(sim);
    size_t n = sim_region_live(sim);
    UNLOCK(sim);
    return n;
}

static uint64_t reg_count(const struct nvme_sim *sim, uint32_t off, const uint64_t *regs,
                          const uint64_t *dbs)
{
    if (off < NVME_REG_DBS)
        return regs[off / 4];
    uint32_t rel = off - NVME_REG_DBS, stride = 4u << sim->cfg.dstrd;
    if (rel % stride || rel / stride >= 2 * sim->nq)
        return 0;
    return dbs[rel / stride];
}

uint64_t nvme_sim_reg_reads(const struct nvme_sim *sim, uint32_t off)
{
    return reg_count(sim, off, sim->reg_reads, sim->db_reads);
}

uint64_t nvme_sim_reg_writes(const struct nvme_sim *sim, uint32_t off)
{
    return reg_count(sim, off, sim->reg_writes, sim->db_writes);
}

uint64_t nvme_sim_doorbell_writes(const struct nvme_sim *sim, uint16_t qid, bool cq)
{
    return qid < sim->nq ? sim->db_writes[2u * qid + (cq ? 1u : 0u)] : 0;
}

uint32_t nvme_sim_reg_peek(struct nvme_sim *sim, uint32_t off)
{
    LOCK(sim);
    uint32_t v = sim_reg_value(sim, off);
    UNLOCK(sim);
    return v;
}

void nvme_sim_reg_set(struct nvme_sim *sim, uint32_t off, uint32_t val)
{
    LOCK(sim);
    if (off < NVME_REG_DBS && !(off & 3u))
        sim->reg_fixed[off / 4] = val;
    UNLOCK(sim);
}

bool nvme_sim_queue_exists(struct nvme_sim *sim, uint16_t qid, bool cq)
{
    LOCK(sim);
    bool live = qid < sim->nq && (cq ? sim->cq[qid].live : sim->sq[qid].live);
    UNLOCK(sim);
    return live;
}

uint32_t nvme_sim_feature(struct nvme_sim *sim, uint8_t fid)
{
    LOCK(sim);
    uint32_t v = sim->feat[fid];
    UNLOCK(sim);
    return v;
}

/* --- Log capture ------------------------------------------------------------------------- */

void nvme_sim_log_capture(struct nvme_sim *sim, bool on)
{
    LOCK(sim);
    sim->capture = on;
    UNLOCK(sim);
}

const char *nvme_sim_log_text(const struct nvme_sim *sim)
{
    return sim->cap_buf ? sim->cap_buf : "";
}

void nvme_sim_log_clear(struct nvme_sim *sim)
{
    LOCK(sim);
    sim->cap_len = 0;
    if (sim->cap_buf)
        sim->cap_buf[0] = 0;
    UNLOCK(sim);
}

/* --- issue 9 accessors ------------------------------------------------------- */

const char *nvme_sim_fw_slot(const struct nvme_sim *sim, unsigned slot)
{
    return slot >= 1 && slot <= 7 ? sim->fw_slot[slot] : "";
}

unsigned nvme_sim_fw_active(const struct nvme_sim *sim) { return sim->fw_active; }

int nvme_sim_zone(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, uint8_t *state, uint64_t *wp)
{
    LOCK(sim);
    struct sim_ns *ns = sim_ns_find(sim, nsid);
    int rc = -1;
    if (ns && ns->zoned && lba < ns->blocks && lba / ns->zone_size < ns->nzones) {
        const struct sim_zone *z = &ns->zones[lba / ns->zone_size];
        *state = z->state;
        *wp = z->wp;
        rc = 0;
    }
    UNLOCK(sim);
    return rc;
}

int nvme_sim_ns_md(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, void *md)
{
    LOCK(sim);
    struct sim_ns *ns = sim_ns_find(sim, nsid);
    int rc = ns ? sim_ns_md_io(ns, lba, 1, md, false) : -1;
    UNLOCK(sim);
    return rc;
}

uint32_t nvme_sim_feature_saved(struct nvme_sim *sim, uint8_t fid)
{
    LOCK(sim);
    uint32_t v = sim->feat_saved[fid];
    UNLOCK(sim);
    return v;
}
