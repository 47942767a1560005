/* SPDX-License-Identifier: MIT */
/*
 * sim_regs.c - BAR0 of the simulated controller (NVMe 1.4 §3.1): CAP, VS,
 * INTMS/INTMC, CC, CSTS, AQA/ASQ/ACQ and the doorbells; CC.EN / CC.SHN
 * state changes (§7.6.1 initialization, §7.6.2 shutdown, §7.3.2 reset).
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* CC fields the host may write (§3.1.5): EN, CSS, MPS, AMS, SHN, IOSQES, IOCQES. */
#define CC_WRITABLE 0x00fffff1u

static uint32_t db_stride(const struct nvme_sim *sim) { return 4u << sim->cfg.dstrd; }

/* Forget every queue and held command: a controller reset deletes the I/O
 * queues and aborts outstanding commands (§7.3.2). */
void sim_reset_queues(struct nvme_sim *sim)
{
    memset(sim->sq, 0, sim->nq * sizeof(sim->sq[0]));
    memset(sim->cq, 0, sim->nq * sizeof(sim->cq[0]));
    memset(sim->cid_busy, 0, sim->nq * (65536u / 8));
    sim->ndelayed = 0;
    sim->aer_outstanding = 0; /* AERs are lost, the host re-arms (§7.3.2) */
    sim->npend_abort = 0;
    sim->nq_locked = false;
    sim->intx_asserted = false;
    if (sim->irq_pending)
        memset(sim->irq_pending, 0, SIM_MAX_VECTORS);
    sim_dbbuf_reset(sim);
    sim_hmb_reset(sim);
}

/* Admin queue from AQA/ASQ/ACQ (§3.1.8-3.1.10); admin CQ always has
 * interrupts enabled on vector 0 (§3.1.10). */
static void setup_admin_queues(struct nvme_sim *sim)
{
    sim->sq[0] = (struct sim_sq){
        .live = true, .bus = sim->asq, .size = (sim->aqa & NVME_AQA_ASQS_MASK) + 1, .cqid = 0};
    sim->cq[0] = (struct sim_cq){.live = true,
                                 .bus = sim->acq,
                                 .size = ((sim->aqa >> NVME_AQA_ACQS_SHIFT) & 0xfff) + 1,
                                 .phase = 1,
                                 .ien = true,
                                 .iv = 0,
                                 .nsq = 1};
}

static const char *enable_check(struct nvme_sim *sim, uint32_t cc)
{
    uint32_t mps = (cc & NVME_CC_MPS_MASK) >> NVME_CC_MPS_SHIFT;
    if (mps < sim->cfg.mpsmin || mps > sim->cfg.mpsmax)
        return "CC.MPS outside CAP.MPSMIN..MPSMAX";
    if ((cc & NVME_CC_CSS_MASK) != NVME_CC_CSS_NVM &&
        !((cc & NVME_CC_CSS_MASK) == NVME_CC_CSS_IOCS && sim->cfg.iocs))
        return sim->cfg.iocs ? "CC.CSS is neither 000b nor 110b"
                             : "CC.CSS is not the NVM command set";
    if (cc & NVME_CC_AMS_MASK)
        return "CC.AMS is not round robin";
    uint32_t iosqes = (cc & NVME_CC_IOSQES_MASK) >> NVME_CC_IOSQES_SHIFT;
    if (sim->cfg.apple_ans2 && iosqes != 7)
        return "CC.IOSQES is not 7 (128-byte I/O SQ entries on this controller)";
    if (!sim->cfg.apple_ans2 && iosqes != NVME_SQES_LOG2)
        return "CC.IOSQES is not 6";
    if (((cc & NVME_CC_IOCQES_MASK) >> NVME_CC_IOCQES_SHIFT) != NVME_CQES_LOG2)
        return "CC.IOCQES is not 4";
    if ((sim->aqa & NVME_AQA_ASQS_MASK) < 1 || ((sim->aqa >> NVME_AQA_ACQS_SHIFT) & 0xfff) < 1)
        return "AQA: admin queues need at least 2 entries";
    uint64_t page = 4096ull << mps;
    if (!sim->asq || (sim->asq & (page - 1)))
        return "ASQ not set or not aligned to the memory page size";
    if (!sim->acq || (sim->acq & (page - 1)))
        return "ACQ not set or not aligned to the memory page size";
    return NULL;
}

/* CC.EN 0 -> 1 (§7.6.1): validate, create the admin queue, become ready
 * after ready_delay_us. */
static void cc_enable(struct nvme_sim *sim, uint32_t cc)
{
    sim->st.enables++;
    if (sim->csts & NVME_CSTS_RDY)
        sim_host_error(sim, "CC.EN set while CSTS.RDY is still 1 (§7.6.1: wait for RDY=0)");
    const char *why = enable_check(sim, cc);
    if (why) {
        sim_host_error(sim, "enable refused: %s (CC=0x%08x AQA=0x%08x); RDY stays 0", why, cc,
                       sim->aqa);
        sim->rdy_pending = false;
        return;
    }
    sim->mps = 4096u << ((cc & NVME_CC_MPS_MASK) >> NVME_CC_MPS_SHIFT);
    sim->iosqes = 1u << ((cc & NVME_CC_IOSQES_MASK) >> NVME_CC_IOSQES_SHIFT);
    memset(sim->tag_busy, 0, sizeof(sim->tag_busy));
    sim_held_drop(sim);
    sim_reset_queues(sim);
    setup_admin_queues(sim);
    if (sim->never_ready) {
        sim->rdy_pending = false;
        return;
    }
    sim->rdy_pending = true;
    sim->rdy_target = true;
    sim->rdy_at = sim->now + sim->cfg.ready_delay_us;
    if (!sim->cfg.ready_delay_us)
        sim->csts |= NVME_CSTS_RDY, sim->rdy_pending = false;
}

/* CC.EN 1 -> 0: controller reset (§7.3.2).  Queues go away at once, RDY
 * drops after disable_delay_us; CFS clears unless sticky.  Hung commands
 * transfer one last time when RDY drops (sim_held_drain), then vanish. */
void sim_controller_reset(struct nvme_sim *sim)
{
    sim->st.resets++;
    sim_held_disable(sim);
    sim_reset_queues(sim);
    if (sim->cap_next_set) { /* nvme_sim_cap_at_reset: the queues are gone with the reset */
        sim->cap_next_set = false;
        sim->cfg.mqes = sim->cap_next.mqes;
        sim->cfg.dstrd = sim->cap_next.dstrd;
        sim->cfg.to = sim->cap_next.to;
        sim->cfg.mpsmin = sim->cap_next.mpsmin;
        sim->cfg.mpsmax = sim->cap_next.mpsmax;
        if (sim->cap_next.ready_delay_us != 0)
            sim->cfg.ready_delay_us = sim->cap_next.ready_delay_us;
        if (sim->cap_next.iocs != 0)
            sim->cfg.iocs = sim->cap_next.iocs > 0;
        sim_cap_compute(sim);
    }
    sim_features_reset(sim);
    sim_fw_reset(sim);
    /* Queued events and the types masked until their log is read go with
     * the reset, as QEMU's nvme_ctrl_reset (before: an event queued before
     * the reset completed the first request after it). */
    sim->nev = 0;
    memset(sim->ae_masked, 0, sizeof(sim->ae_masked));
    if (sim->cfg.resv_notif_reset) /* NVMe 2.0 §5.16.1.24: the count starts at 0 after a reset */
        sim->nresv_notif = 0, sim->resv_notif_count = 0;
    sim->intms = 0;
    sim->shst_pending = false;
    sim->pp_pending = false; /* a reset ends a pause */
    sim->csts &= ~(NVME_CSTS_SHST_MASK | NVME_CSTS_PP);
    if (!sim->cfg.cfs_sticky)
        sim->csts &= ~NVME_CSTS_CFS;
    if (sim->csts & NVME_CSTS_RDY) {
        sim->rdy_pending = true;
        sim->rdy_target = false;
        sim->rdy_at = sim->now + sim->cfg.disable_delay_us;
        if (!sim->cfg.disable_delay_us) {
            sim->csts &= ~NVME_CSTS_RDY, sim->rdy_pending = false;
            sim_held_drain(sim);
        }
    } else {
        sim->rdy_pending = false;
        sim_held_drain(sim);
    }
}

/* Back from a surprise removal (nvme_sim_set_gone false): as if hot-added
 * (power on), every command in flight dropped without DMA. */
void sim_hot_add(struct nvme_sim *sim)
{
    sim_held_drop(sim);
    sim_reset_queues(sim);
    sim_features_reset(sim);
    sim->cc = sim->csts = sim->aqa = sim->intms = 0;
    sim->asq = sim->acq = 0;
    sim->rdy_pending = sim->shst_pending = sim->pp_pending = false;
    sim->dma_stopped = false;
    sim->stuck = false;
    sim->nev = 0;
    memset(sim->ae_masked, 0, sizeof(sim->ae_masked));
}

static void cc_write(struct nvme_sim *sim, uint32_t val)
{
    uint32_t old = sim->cc;
    val &= CC_WRITABLE;
    sim->cc = val;
    if (sim->stuck && ((old ^ val) & NVME_CC_EN)) {
        sim_msg(sim, "stuck controller ignores CC.EN %u -> %u", old & 1u, val & 1u);
        return;
    }
    if (!(old & NVME_CC_EN) && (val & NVME_CC_EN)) {
        cc_enable(sim, val);
    } else if ((old & NVME_CC_EN) && !(val & NVME_CC_EN)) {
        /* EN 1 -> 0 while RDY is still 0 is undefined (§3.1.5): a host
         * may do it only once CAP.TO has passed without RDY, or on CFS. */
        if (sim->rdy_pending && sim->rdy_target && !(sim->csts & NVME_CSTS_CFS) &&
            sim->now < sim->rdy_at - sim->cfg.ready_delay_us +
                           NVME_CAP_TO(sim->cap) * (uint64_t)NVME_CAP_TO_UNIT_MS * 1000u)
            sim_host_error(sim, "CC.EN cleared while CSTS.RDY is still 0, before CAP.TO");
        sim_controller_reset(sim);
        return;
    } else if ((old & NVME_CC_EN) && ((old ^ val) & ~(NVME_CC_SHN_MASK | NVME_CC_EN))) {
        sim_host_error(sim, "CC changed (0x%08x -> 0x%08x) while enabled", old, val);
    }
    /* Shutdown notification (§7.6.2): SHST = 01b, then 10b after a delay. */
    if ((val & NVME_CC_SHN_MASK) && !(old & NVME_CC_SHN_MASK) && (val & NVME_CC_EN)) {
        sim->st.shutdowns++;
        sim->csts = (sim->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_OCCURRING;
        sim->shst_pending = true;
        sim->shst_at = sim->now + sim->cfg.shutdown_delay_us;
    }
}

/* A doorbell write the controller ignores is also told to the host, as an
 * Error event while an Asynchronous Event Request is outstanding (§4.1,
 * §5.2.1 Figure 146: 00h Write to Invalid Doorbell Register, a queue not
 * created; 01h Invalid Doorbell Write Value), as QEMU's nvme_process_db. */
#define SIM_AE_INVALID_DB_REGISTER 0x00
#define SIM_AE_INVALID_DB_VALUE 0x01
static void doorbell_event(struct nvme_sim *sim, uint8_t info)
{
    if (sim->aer_outstanding)
        sim_event_post(sim, NVME_SIM_AE_ERROR, info, NVME_LID_ERROR);
}

/* Doorbell write (§3.1.24, §3.1.25). */
static void doorbell_write(struct nvme_sim *sim, uint32_t off, uint32_t val)
{
    uint32_t rel = off - NVME_REG_DBS, stride = db_stride(sim);
    if (rel % stride) {
        sim_host_error(sim, "write 0x%x to reserved offset 0x%x between doorbells", val, off);
        return;
    }
    uint32_t idx = rel / stride;
    uint32_t qid = idx / 2;
    bool is_cq = idx & 1;
    if (qid >= sim->nq) {
        sim_host_error(sim, "doorbell of queue %u beyond the %u queues", qid, sim->nq);
        doorbell_event(sim, SIM_AE_INVALID_DB_REGISTER);
        return;
    }
    sim->db_writes[idx]++;
    if (is_cq)
        sim->st.cq_doorbells++;
    else
        sim->st.sq_doorbells++;
    if (!(sim->csts & NVME_CSTS_RDY) || (!(sim->cc & NVME_CC_EN) && !sim->stuck)) {
        sim_host_error(sim, "%s doorbell %u = %u while the controller is not ready",
                       is_cq ? "CQ head" : "SQ tail", qid, val);
        return;
    }
    if (is_cq) {
        struct sim_cq *cq = &sim->cq[qid];
        if (!cq->live || val >= cq->size) {
            sim_host_error(sim, "CQ %u head doorbell %u: invalid (queue %s, size %u)", qid, val,
                           cq->live ? "live" : "absent", cq->size);
            doorbell_event(sim, cq->live ? SIM_AE_INVALID_DB_VALUE : SIM_AE_INVALID_DB_REGISTER);
            return;
        }
        /* The new head must stay within what the device posted. */
        uint32_t used = (cq->tail + cq->size - cq->head) % cq->size;
        uint32_t adv = (val + cq->size - cq->head) % cq->size;
        if (adv > used) {
            sim_host_error(sim, "CQ %u head doorbell %u passes the tail %u (head was %u)", qid, val,
                           cq->tail, cq->head);
            doorbell_event(sim, SIM_AE_INVALID_DB_VALUE);
            return;
        }
        cq->head = val;
        sim_dbbuf_mmio(sim, (uint16_t)qid, true, val);
        sim_update_intx(sim);
        if (sim->cfg.timing == NVME_SIM_IMMEDIATE)
            sim_process_all(sim, false); /* a full CQ may have stalled SQs */
    } else {
        struct sim_sq *sq = &sim->sq[qid];
        if (sim->cc & NVME_CC_SHN_MASK) /* §7.6.2: no commands after shutdown notification */
            sim_host_error(sim, "SQ %u tail doorbell %u after CC.SHN was set", qid, val);
        if (!sq->live || val >= sq->size) {
            sim_host_error(sim, "SQ %u tail doorbell %u: invalid (queue %s, size %u)", qid, val,
                           sq->live ? "live" : "absent", sq->size);
            doorbell_event(sim, sq->live ? SIM_AE_INVALID_DB_VALUE : SIM_AE_INVALID_DB_REGISTER);
            return;
        }
        if (sim_sq_overrun(sq, val)) {
            sim_host_error(sim, "SQ %u tail doorbell %u overruns the queue (head %u, tail %u)", qid,
                           val, sq->head, sq->tail);
            doorbell_event(sim, SIM_AE_INVALID_DB_VALUE);
            return;
        }
        sq->tail = val;
        sim_dbbuf_mmio(sim, (uint16_t)qid, false, val);
        if (sim->cfg.timing == NVME_SIM_IMMEDIATE) {
            sim_process_sq(sim, (uint16_t)qid);
        } else if (!sq->due_set) {
            sq->due_set = true;
            sq->due_us = sim->now + sim->cfg.completion_latency_us;
        }
    }
}

/* Value of a register without side effects. */
uint32_t sim_reg_value(struct nvme_sim *sim, uint32_t off)
{
    if (sim->gone)
        return 0xffffffffu;
    switch (off) {
    case NVME_REG_CAP:
        return (uint32_t)sim->cap;
    case NVME_REG_CAP + 4:
        return (uint32_t)(sim->cap >> 32);
    case NVME_REG_VS:
        return sim->vs;
    case NVME_REG_INTMS:
    case NVME_REG_INTMC:
        return sim->intms;
    case NVME_REG_CC:
        return sim->cc;
    case NVME_REG_CSTS:
        return sim->csts;
    case NVME_REG_AQA:
        return sim->aqa;
    case NVME_REG_ASQ:
        return (uint32_t)sim->asq;
    case NVME_REG_ASQ + 4:
        return (uint32_t)(sim->asq >> 32);
    case NVME_REG_ACQ:
        return (uint32_t)sim->acq;
    case NVME_REG_ACQ + 4:
        return (uint32_t)(sim->acq >> 32);
    case NVME_REG_CRTO: /* NVMe 2.0: CRIMT 0 (CRIMS clear), CRWMT */
        return sim->cfg.crwmt;
    default: /* NSSR, CMB, BP, PMR registers: not implemented, read 0 or what
                nvme_sim_reg_set gave (doorbells do not come here) */
        return off < NVME_REG_DBS ? sim->reg_fixed[off / 4] : 0;
    }
}

/* §3.1.3, §3.1.4: "Host software shall not access this property when
 * configured for MSI-X" (INTMS, INTMC): a read as well as a write. */
static void intm_msix_check(struct nvme_sim *sim, uint32_t off, const char *how)
{
    if ((off == NVME_REG_INTMS || off == NVME_REG_INTMC) && sim->irq_granted && !sim->irq_intx)
        sim_host_error(sim, "INTMS/INTMC %s with MSI-X (§3.1.3: undefined)", how);
}

uint32_t sim_reg_read(struct nvme_sim *sim, uint32_t off)
{
    sim->st.mmio_reads++;
    if (off & 3u) {
        sim_host_error(sim, "unaligned register read at 0x%x", off);
        return 0;
    }
    if (off > sim->cfg.bar_size - 4u) {
        sim_host_error(sim, "register read at 0x%x, past the %u-byte BAR", off, sim->cfg.bar_size);
        return 0;
    }
    if (sim->link_down_left != 0) { /* after an NVM Subsystem Reset: no link yet */
        sim->link_down_left--;
        return 0xffffffffu;
    }
    intm_msix_check(sim, off, "read");
    if (off < NVME_REG_DBS) {
        sim->reg_reads[off / 4]++;
    } else {
        uint32_t rel = off - NVME_REG_DBS;
        if (!(rel % db_stride(sim)) && rel / db_stride(sim) < 2 * sim->nq)
            sim->db_reads[rel / db_stride(sim)]++;
        return sim->gone ? 0xffffffffu : 0; /* doorbells are write only */
    }
    return sim_reg_value(sim, off);
}

void sim_reg_write(struct nvme_sim *sim, uint32_t off, uint32_t val)
{
    sim->st.mmio_writes++;
    if (off & 3u) {
        sim_host_error(sim, "unaligned register write at 0x%x", off);
        return;
    }
    if (off > sim->cfg.bar_size - 4u) {
        sim_host_error(sim, "register write at 0x%x, past the %u-byte BAR", off, sim->cfg.bar_size);
        return;
    }
    if (off < NVME_REG_DBS)
        sim->reg_writes[off / 4]++;
    if (sim->gone || sim->link_down_left != 0)
        return;
    /* §3.5.1: the admin queue is set up once RDY is 0 (no reset in flight). */
    bool enabled = (sim->cc & NVME_CC_EN) || (sim->csts & NVME_CSTS_RDY);
    intm_msix_check(sim, off, "written");
    switch (off) {
    case NVME_REG_INTMS: /* §3.1.3: write 1 to set mask bits */
        sim->intms |= val;
        sim_update_intx(sim);
        break;
    case NVME_REG_INTMC: /* §3.1.4: write 1 to clear mask bits */
        sim->intms &= ~val;
        sim_update_intx(sim);
        break;
    case NVME_REG_CC:
        cc_write(sim, val);
        break;
    case NVME_REG_NSSR: /* §3.1.7: "NVMe" starts an NVM Subsystem Reset */
        if (val == NVME_NSSR_VALUE && (sim->cap & (1ull << 36)))
            sim_nssr(sim);
        break;
    case NVME_REG_CSTS: /* NSSRO is RW1C (§3.1.6); the rest is read only */
        if ((val & NVME_CSTS_NSSRO) && !sim->nssro_stuck) /* nvme_sim_nssro_stuck */
            sim->csts &= ~NVME_CSTS_NSSRO;
        break;
    case NVME_REG_AQA:
        if (enabled)
            sim_host_error(sim, "AQA written while CC.EN or CSTS.RDY is 1");
        sim->aqa = val & 0x0fff0fffu;
        break;
    case NVME_REG_ASQ:
    case NVME_REG_ACQ: {
        if (enabled)
            sim_host_error(sim, "%s written while CC.EN or CSTS.RDY is 1",
                           off == NVME_REG_ASQ ? "ASQ" : "ACQ");
        uint64_t *r = off == NVME_REG_ASQ ? &sim->asq : &sim->acq;
        *r = (*r & 0xffffffff00000000ull) | val;
        break;
    }
    case NVME_REG_ASQ + 4:
    case NVME_REG_ACQ + 4: {
        if (enabled)
            sim_host_error(sim, "%s written while CC.EN or CSTS.RDY is 1",
                           off == NVME_REG_ASQ + 4 ? "ASQ" : "ACQ");
        uint64_t *r = off == NVME_REG_ASQ + 4 ? &sim->asq : &sim->acq;
        *r = (*r & 0xffffffffull) | ((uint64_t)val << 32);
        break;
    }
    default:
        if (off >= NVME_REG_DBS)
            doorbell_write(sim, off, val);
        /* CAP, VS, CSTS and the rest are read only: writes are ignored. */
        break;
    }
}

void sim_cap_compute(struct nvme_sim *sim)
{
    const struct nvme_sim_config *c = &sim->cfg;
    uint64_t css = NVME_CAP_CSS_NVM | (c->iocs ? NVME_CAP_CSS_IOCS : 0);
    sim->cap = (uint64_t)c->mqes | (1ull << 16) /* CQR */ | ((uint64_t)c->to << 24) |
               ((uint64_t)(c->dstrd & 0xf) << 32) | ((uint64_t)(c->nssrs ? 1 : 0) << 36) |
               (css << 37) | ((uint64_t)(c->mpsmin & 0xf) << 48) |
               ((uint64_t)(c->mpsmax & 0xf) << 52) | (c->crwmt ? NVME_CAP_CRMS_CRWMS : 0);
}

/* Initial register state per cfg.start. */
void sim_start_state(struct nvme_sim *sim)
{
    const struct nvme_sim_config *c = &sim->cfg;
    sim_cap_compute(sim);
    sim->vs = c->iocs ? NVME_VS(2, 0, 0) : NVME_VS(1, 4, 0);
    sim->mps = 4096u << c->mpsmin;
    sim->never_ready = c->start == NVME_SIM_START_NEVER_READY;
    sim->gone = c->start == NVME_SIM_START_GONE;
    if (c->start != NVME_SIM_START_ENABLED && c->start != NVME_SIM_START_CFS)
        return;
    /* Firmware (SeaBIOS) left the controller enabled with its own 2-entry
     * admin queue in memory the core never allocated. */
    sim->fw_mem = aligned_alloc(4096, 2 * 4096);
    if (!sim->fw_mem)
        return;
    memset(sim->fw_mem, 0, 2 * 4096);
    sim_region_add(sim, sim->fw_mem, 2 * 4096, 2 * 4096, NVME_DMA_BIDIRECTIONAL, SIM_RG_FIRMWARE);
    sim->aqa = (1u << NVME_AQA_ACQS_SHIFT) | 1u;
    sim->asq = sim_va_to_bus(sim->fw_mem);
    sim->acq = sim_va_to_bus((uint8_t *)sim->fw_mem + 4096);
    sim->cc = NVME_CC_EN | ((uint32_t)c->mpsmin << NVME_CC_MPS_SHIFT) |
              (NVME_SQES_LOG2 << NVME_CC_IOSQES_SHIFT) | (NVME_CQES_LOG2 << NVME_CC_IOCQES_SHIFT);
    sim->csts = NVME_CSTS_RDY;
    setup_admin_queues(sim);
    if (c->start == NVME_SIM_START_CFS)
        sim->csts |= NVME_CSTS_CFS;
}
