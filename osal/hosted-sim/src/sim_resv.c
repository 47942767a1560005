/* SPDX-License-Identifier: MIT */
/*
 * sim_resv.c - reservations of the simulated controller (NVMe 1.4 §8):
 * Reservation Register (§6.11, 0Dh), Report (§6.13, 0Eh), Acquire (§6.10,
 * 11h) and Release (§6.12, 15h), and the Reservation Conflict an I/O command gets from
 * a reservation it is not allowed past.  Offered with ONCS bit 5.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define SF_CONFLICT SIM_SF_GEN(NVME_SC_RESERVATION_CONFLICT)
#define SF_INVALID_FIELD SIM_SF_GEN(NVME_SC_INVALID_FIELD)

/* Types 5 and 6: every registrant is a reservation holder (§8). */
static bool all_registrants(uint8_t rtype)
{
    return rtype == NVME_RTYPE_WE_ALL_REGISTRANTS || rtype == NVME_RTYPE_EA_ALL_REGISTRANTS;
}

static int reg_find(const struct sim_resv *r, const uint8_t hostid[16])
{
    for (unsigned i = 0; i < r->nreg; i++)
        if (memcmp(r->reg[i].hostid, hostid, 16) == 0)
            return (int)i;
    return -1;
}

static bool holds(const struct sim_resv *r, const uint8_t hostid[16])
{
    if (r->rtype == 0)
        return false;
    if (all_registrants(r->rtype))
        return reg_find(r, hostid) >= 0;
    return memcmp(r->holder, hostid, 16) == 0;
}

/* Drops registrant i; a reservation whose holder is gone is released
 * (types 1-4), one of types 5-6 when no registrant is left (§8). */
static void reg_drop(struct sim_resv *r, unsigned i)
{
    bool was_holder = !all_registrants(r->rtype) && r->rtype != 0 &&
                      memcmp(r->holder, r->reg[i].hostid, 16) == 0;
    r->reg[i] = r->reg[--r->nreg];
    if (was_holder || (all_registrants(r->rtype) && r->nreg == 0))
        r->rtype = 0;
}

static uint16_t reg_add(struct sim_resv *r, const uint8_t hostid[16], uint16_t cntlid, uint64_t key)
{
    if (r->nreg == SIM_RESV_REGS)
        return SIM_SF_GEN(NVME_SC_INTERNAL);
    memcpy(r->reg[r->nreg].hostid, hostid, 16);
    r->reg[r->nreg].cntlid = cntlid;
    r->reg[r->nreg].key = key;
    r->nreg++;
    return 0;
}

static uint64_t le64_at(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Reservation Register (§6.11): RREGA 000b register with NRKEY (again with
 * the same key: no change), 001b unregister, 010b replace with NRKEY; the
 * key held must equal CRKEY unless IEKEY (not for register). */
static uint16_t resv_register(struct nvme_sim *sim, struct sim_ns *ns, const struct nvme_sqe *sqe)
{
    struct sim_resv *r = &ns->resv;
    uint8_t d[16];
    unsigned act = NVME_RESV_ACTION(sqe->cdw10), cptpl = sqe->cdw10 >> NVME_RESV_CPTPL_SHIFT;
    if (act > NVME_RREGA_REPLACE || cptpl == 1 || cptpl == NVME_CPTPL_SET) /* no PTPL here */
        return SF_INVALID_FIELD;
    uint16_t sf = sim_prp_copy(sim, sqe, d, sizeof(d), false);
    if (sf)
        return sf;
    uint64_t crkey = le64_at(d), nrkey = le64_at(d + 8);
    bool iekey = (sqe->cdw10 & NVME_RESV_IEKEY) != 0;
    int me = reg_find(r, sim->hostid);
    switch (act) {
    case NVME_RREGA_REGISTER:
        if (me >= 0 && r->reg[me].key != nrkey)
            return SF_CONFLICT;
        if (me < 0 && (sf = reg_add(r, sim->hostid, 1, nrkey)) != 0)
            return sf;
        break;
    case NVME_RREGA_UNREGISTER:
        if (me < 0 || (!iekey && r->reg[me].key != crkey))
            return SF_CONFLICT;
        reg_drop(r, (unsigned)me);
        break;
    default: /* replace */
        if (me < 0 || (!iekey && r->reg[me].key != crkey))
            return SF_CONFLICT;
        r->reg[me].key = nrkey;
        break;
    }
    if (cptpl == NVME_CPTPL_CLEAR)
        r->ptpl = false;
    r->gen++;
    sim->st.resv_cmds++;
    return 0;
}

/* Reservation Acquire (§6.10): RACQA 000b acquire, 001b preempt, 010b
 * preempt and abort (no other host's commands to abort here). */
static uint16_t resv_acquire(struct nvme_sim *sim, struct sim_ns *ns, const struct nvme_sqe *sqe)
{
    struct sim_resv *r = &ns->resv;
    uint8_t d[16];
    unsigned act = NVME_RESV_ACTION(sqe->cdw10);
    uint8_t rtype = (uint8_t)(sqe->cdw10 >> NVME_RESV_RTYPE_SHIFT);
    if (act > NVME_RACQA_PREEMPT_ABORT || rtype == 0 || rtype > NVME_RTYPE_EA_ALL_REGISTRANTS)
        return SF_INVALID_FIELD;
    uint16_t sf = sim_prp_copy(sim, sqe, d, sizeof(d), false);
    if (sf)
        return sf;
    uint64_t crkey = le64_at(d), prkey = le64_at(d + 8);
    int me = reg_find(r, sim->hostid);
    if (me < 0 || (!(sqe->cdw10 & NVME_RESV_IEKEY) && r->reg[me].key != crkey))
        return SF_CONFLICT;
    if (act == NVME_RACQA_ACQUIRE) {
        if (r->rtype == 0) {
            r->rtype = rtype;
            memcpy(r->holder, sim->hostid, 16);
        } else if (!holds(r, sim->hostid) || r->rtype != rtype) {
            return SF_CONFLICT;
        }
        sim->st.resv_cmds++;
        return 0;
    }
    /* Preempt (§8): the registrants with PRKEY lose their registration
     * (not this host); a reservation held by PRKEY's owner, or any one of
     * types 5-6 with PRKEY 0 (every other registrant dropped), becomes
     * this host's, of RTYPE. */
    bool take;
    if (r->rtype == 0)
        take = false;
    else if (all_registrants(r->rtype))
        take = prkey == 0;
    else
        take = reg_find(r, r->holder) >= 0 && r->reg[reg_find(r, r->holder)].key == prkey;
    if (!take && prkey == 0 && r->rtype != 0)
        return SF_INVALID_FIELD;
    unsigned dropped = 0;
    for (unsigned i = r->nreg; i-- > 0;) {
        if (memcmp(r->reg[i].hostid, sim->hostid, 16) == 0)
            continue;
        if (r->reg[i].key == prkey || (take && prkey == 0)) {
            r->reg[i] = r->reg[--r->nreg]; /* the reservation is decided below */
            dropped++;
        }
    }
    if (!take && dropped == 0)
        return SF_CONFLICT;
    if (take) {
        r->rtype = rtype;
        memcpy(r->holder, sim->hostid, 16);
    } else if (r->rtype != 0 && !all_registrants(r->rtype) && reg_find(r, r->holder) < 0) {
        r->rtype = 0;
    }
    r->gen++;
    sim->st.resv_cmds++;
    return 0;
}

/* Reservation Release (§6.12): RRELA 000b release (no effect unless this
 * host holds it; RTYPE must be the reservation's), 001b clear (every
 * registration and the reservation go). */
static uint16_t resv_release(struct nvme_sim *sim, struct sim_ns *ns, const struct nvme_sqe *sqe)
{
    struct sim_resv *r = &ns->resv;
    uint8_t d[8];
    unsigned act = NVME_RESV_ACTION(sqe->cdw10);
    uint8_t rtype = (uint8_t)(sqe->cdw10 >> NVME_RESV_RTYPE_SHIFT);
    if (act > NVME_RRELA_CLEAR)
        return SF_INVALID_FIELD;
    uint16_t sf = sim_prp_copy(sim, sqe, d, sizeof(d), false);
    if (sf)
        return sf;
    int me = reg_find(r, sim->hostid);
    if (me < 0 || (!(sqe->cdw10 & NVME_RESV_IEKEY) && r->reg[me].key != le64_at(d)))
        return SF_CONFLICT;
    if (act == NVME_RRELA_CLEAR) {
        r->nreg = 0;
        r->rtype = 0;
        r->gen++;
    } else if (holds(r, sim->hostid)) {
        if (rtype != r->rtype)
            return SF_INVALID_FIELD;
        r->rtype = 0;
    }
    sim->st.resv_cmds++;
    return 0;
}

/* Reservation Report (§6.13): NUMD + 1 dwords of the Reservation Status
 * data structure, EDS (CDW11 bit 0) the extended one; what does not fit
 * is cut off, REGCTL still counts every registrant. */
static uint16_t resv_report(struct nvme_sim *sim, struct sim_ns *ns, const struct nvme_sqe *sqe)
{
    const struct sim_resv *r = &ns->resv;
    bool eds = (sqe->cdw11 & NVME_RESV_REPORT_EDS) != 0;
    uint64_t len = ((uint64_t)sqe->cdw10 + 1u) * 4u;
    if (sim->cfg.mdts && len > sim_mdts_bytes(sim))
        return SF_INVALID_FIELD;
    size_t hdr = eds ? NVME_RESV_STATUS_EXT_HDR : sizeof(struct nvme_resv_status);
    size_t ent = eds ? sizeof(struct nvme_resv_ctrl_ext) : sizeof(struct nvme_resv_ctrl);
    size_t full = hdr + r->nreg * ent, n = full > len ? full : (size_t)len;
    uint8_t *buf = calloc(1, n);
    if (!buf)
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    struct nvme_resv_status *h = (struct nvme_resv_status *)(void *)buf;
    unsigned regctl = (ns->corrupt & NVME_SIM_CORRUPT_REGCTL) ? 0xffffu : r->nreg;
    h->gen = r->gen;
    h->rtype = r->rtype;
    h->regctl[0] = (uint8_t)regctl;
    h->regctl[1] = (uint8_t)(regctl >> 8);
    h->ptpls = r->ptpl;
    for (unsigned i = 0; i < r->nreg; i++) {
        uint8_t rcsts = holds(r, r->reg[i].hostid) ? NVME_RESV_RCSTS_HOLDER : 0;
        if (eds) {
            struct nvme_resv_ctrl_ext *e = (struct nvme_resv_ctrl_ext *)(void *)(buf + hdr) + i;
            e->cntlid = r->reg[i].cntlid;
            e->rcsts = rcsts;
            e->rkey = r->reg[i].key;
            memcpy(e->hostid, r->reg[i].hostid, 16);
        } else {
            struct nvme_resv_ctrl *e = (struct nvme_resv_ctrl *)(void *)(buf + hdr) + i;
            e->cntlid = r->reg[i].cntlid;
            e->rcsts = rcsts;
            e->hostid = le64_at(r->reg[i].hostid);
            e->rkey = r->reg[i].key;
        }
    }
    uint16_t sf = sim_prp_copy(sim, sqe, buf, (size_t)len, true);
    free(buf);
    if (!sf)
        sim->st.resv_cmds++;
    return sf;
}

uint16_t sim_resv_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    if (!(sim->cfg.oncs & NVME_ONCS_RESERVATIONS))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    struct sim_ns *ns = sim_ns_find(sim, sqe->nsid);
    if (!ns)
        return SIM_SF_GEN(NVME_SC_INVALID_NS);
    switch (sqe->opc) {
    case NVME_CMD_RESV_REGISTER:
        return resv_register(sim, ns, sqe);
    case NVME_CMD_RESV_ACQUIRE:
        return resv_acquire(sim, ns, sqe);
    case NVME_CMD_RESV_RELEASE:
        return resv_release(sim, ns, sqe);
    default:
        return resv_report(sim, ns, sqe);
    }
}

/* Command behavior in the presence of a reservation (§8): for a host
 * that does not hold it, types 1 (Write Exclusive) and 3/5 (... Registrants
 * Only / All Registrants, unless registered) deny the write group, types 2
 * (Exclusive Access) and 4/6 (unless registered) both groups. */
uint16_t sim_resv_io_check(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    struct sim_ns *ns = sim_ns_find(sim, sqe->nsid);
    if (!ns || ns->resv.rtype == 0 || holds(&ns->resv, sim->hostid))
        return 0;
    uint8_t opc = sqe->opc;
    bool rd = opc == NVME_CMD_READ || opc == NVME_CMD_COMPARE || opc == NVME_CMD_VERIFY;
    bool wr = opc == NVME_CMD_WRITE || opc == NVME_CMD_WRITE_UNCOR ||
              opc == NVME_CMD_WRITE_ZEROES || opc == NVME_CMD_DSM || opc == NVME_CMD_COPY ||
              opc == NVME_CMD_ZONE_APPEND || opc == NVME_CMD_ZONE_MGMT_SEND;
    bool registered = reg_find(&ns->resv, sim->hostid) >= 0;
    switch (ns->resv.rtype) {
    case NVME_RTYPE_WRITE_EXCLUSIVE:
        return wr ? SF_CONFLICT : 0;
    case NVME_RTYPE_EXCLUSIVE_ACCESS:
        return rd || wr ? SF_CONFLICT : 0;
    case NVME_RTYPE_WE_REGISTRANTS_ONLY:
    case NVME_RTYPE_WE_ALL_REGISTRANTS:
        return wr && !registered ? SF_CONFLICT : 0;
    default: /* 4, 6 */
        return (rd || wr) && !registered ? SF_CONFLICT : 0;
    }
}

int nvme_sim_resv_other(struct nvme_sim *sim, uint32_t nsid, uint64_t key, uint8_t rtype)
{
    int rc = -1;
    pthread_mutex_lock(&sim->mtx);
    struct sim_ns *ns = sim_ns_find(sim, nsid);
    if (ns && rtype <= NVME_RTYPE_EA_ALL_REGISTRANTS && (rtype == 0 || ns->resv.rtype == 0)) {
        struct sim_resv *r = &ns->resv;
        unsigned n = 0; /* other hosts registered before */
        for (unsigned i = 0; i < r->nreg; i++)
            n += r->reg[i].cntlid != 1;
        uint8_t id[16];
        memset(id, 0xa5, sizeof(id));
        id[15] ^= (uint8_t)n;
        if (reg_add(r, id, (uint16_t)(2u + n), key) == 0) {
            r->gen++;
            if (rtype != 0) {
                r->rtype = rtype;
                memcpy(r->holder, id, 16);
            }
            rc = 0;
        }
    }
    pthread_mutex_unlock(&sim->mtx);
    return rc;
}
