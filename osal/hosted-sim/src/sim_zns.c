/* SPDX-License-Identifier: MIT */
/*
 * sim_zns.c - a zoned namespace (NVM Express Zoned Namespace Command Set
 * Specification 1.1, "ZNS"): sequential-write-required zones with write
 * pointers and the zone state machine of §2.1.1 (Figure 7), Zone
 * Management Send (§3.4.3), Zone Management Receive (§3.4.2), Zone Append
 * (§3.4.1), and the write pointer rules Write and Write Zeroes follow.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define ZSF(sc) SIM_SF_CMD(sc)

int sim_zns_init(struct sim_ns *ns)
{
    ns->nzones = ns->blocks / ns->zone_size;
    free(ns->zones);
    ns->zones = calloc(ns->nzones ? ns->nzones : 1, sizeof(*ns->zones));
    if (!ns->zones)
        return -1;
    for (uint64_t z = 0; z < ns->nzones; z++) {
        ns->zones[z].state = NVME_ZS_EMPTY;
        ns->zones[z].wp = z * ns->zone_size;
    }
    return 0;
}

static bool is_open(uint8_t st)
{
    return st == NVME_ZS_IMPLICIT_OPEN || st == NVME_ZS_EXPLICIT_OPEN;
}

static bool is_active(uint8_t st) { return is_open(st) || st == NVME_ZS_CLOSED; }

static void count_zones(const struct sim_ns *ns, unsigned *open, unsigned *active)
{
    *open = *active = 0;
    for (uint64_t z = 0; z < ns->nzones; z++) {
        *open += is_open(ns->zones[z].state);
        *active += is_active(ns->zones[z].state);
    }
}

/* Opening zone z (implicitly or explicitly): resource limits (§2.1.1.4). */
static uint16_t open_check(const struct sim_ns *ns, uint64_t z)
{
    uint8_t st = ns->zones[z].state;
    if (is_open(st))
        return 0;
    unsigned open, active;
    count_zones(ns, &open, &active);
    if (st == NVME_ZS_EMPTY && ns->max_active && active >= ns->max_active)
        return ZSF(NVME_SC_ZONE_TOO_MANY_ACTIVE);
    if (ns->max_open && open >= ns->max_open)
        return ZSF(NVME_SC_ZONE_TOO_MANY_OPEN);
    return 0;
}

/* A write of nlb blocks at slba (Write, Write Zeroes): it must start at
 * the zone's write pointer and stay in the zone (§2.1.1.1, §3.3). */
uint16_t sim_zns_write_check(struct nvme_sim *sim, struct sim_ns *ns, uint64_t slba, uint32_t nlb)
{
    uint64_t z = slba / ns->zone_size;
    if (z >= ns->nzones)
        return SIM_SF_GEN(NVME_SC_LBA_RANGE);
    struct sim_zone *zn = &ns->zones[z];
    /* Fetched together with an earlier write to this zone: a controller
     * that runs a queue's commands in any order could have taken this one
     * first (the simulator runs them in order, and counts it). */
    if (zn->write_batch == sim->sq_batch)
        sim->st.zone_writes_together++;
    zn->write_batch = sim->sq_batch;
    switch (zn->state) {
    case NVME_ZS_FULL:
        return ZSF(NVME_SC_ZONE_FULL);
    case NVME_ZS_READ_ONLY:
        return ZSF(NVME_SC_ZONE_READ_ONLY);
    case NVME_ZS_OFFLINE:
        return ZSF(NVME_SC_ZONE_OFFLINE);
    default:
        break;
    }
    if (slba != zn->wp)
        return ZSF(NVME_SC_ZONE_INVALID_WRITE);
    if (slba + nlb > z * ns->zone_size + ns->zone_cap)
        return ZSF(NVME_SC_ZONE_BOUNDARY);
    return open_check(ns, z);
}

/* After a successful write: the write pointer moves, the zone is open
 * (implicitly, unless it was opened explicitly) or full. */
void sim_zns_written(struct sim_ns *ns, uint64_t slba, uint32_t nlb)
{
    uint64_t z = slba / ns->zone_size;
    struct sim_zone *zn = &ns->zones[z];
    zn->wp += nlb;
    if (zn->wp == z * ns->zone_size + ns->zone_cap)
        zn->state = NVME_ZS_FULL;
    else if (zn->state != NVME_ZS_EXPLICIT_OPEN)
        zn->state = NVME_ZS_IMPLICIT_OPEN;
}

/* Zone Append: CDW10-11 ZSLBA (a zone start), CDW12 NLB; written at the
 * write pointer, whose LBA Dword 0 returns (low 32 bits; Dword 1 would
 * carry the high half).  Protection information, as QEMU's model: Type 1
 * needs PIREMAP (CDW12 bit 25), Type 3 refuses it (Invalid Protection
 * Information), and with PRCHK reference tag Type 1 needs the ZSLBA's
 * low bits as ILBRT (checked as a Write's); PRACT on a PI-only format
 * (ms 8, or 16 with 64b Guard) generates the PI, the reference tags from
 * ILBRT (CDW14, and CDW3) plus, with PIREMAP, the distance from the
 * ZSLBA to where the data lands (ZNS 1.1 §3.4.1, Zone Append CDW12). */
uint16_t sim_zns_append(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    struct sim_ns *ns = sim_ns_find(sim, sqe->nsid);
    if (!ns)
        return SIM_SF_GEN(NVME_SC_INVALID_NS);
    if (!ns->zoned)
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint64_t zslba = ((uint64_t)sqe->cdw11 << 32) | sqe->cdw10;
    uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
    if (zslba >= ns->blocks)
        return SIM_SF_GEN(NVME_SC_LBA_RANGE);
    if (zslba % ns->zone_size)
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    const struct sim_zone *zn = &ns->zones[zslba / ns->zone_size];
    uint64_t wp = zn->wp;
    /* A full zone's write pointer is the next zone's start: look at the
     * state of this zone first. */
    if (zn->state == NVME_ZS_FULL)
        return ZSF(NVME_SC_ZONE_FULL);
    uint16_t sf = sim_zns_write_check(sim, ns, wp, nlb);
    if (sf)
        return sf;
    bool piremap = (sqe->cdw12 & NVME_ZA_PIREMAP) != 0;
    if ((ns->pi_type == 1 && !piremap) || (ns->pi_type == 3 && piremap))
        return SIM_SF_CMD(NVME_SC_INVALID_PI);
    if ((sf = sim_pi_flags_check(ns, sqe, zslba))) /* Type 1: ILBRT is the ZSLBA's */
        return sf;
    bool pract = ns->pi_type && ns->ms == sim_pi_size(ns) && (sqe->cdw12 & NVME_RW_PRACT);
    size_t len = (size_t)nlb * ns->lba_size;
    if (sim->cfg.mdts && len > sim_mdts_bytes(sim))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if (len > sim_size_limit_bytes(sim, sim->cfg.zasl))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD); /* above ZASL */
    uint8_t *b = malloc(len);
    if (!b)
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    sf = sim_prp_copy(sim, sqe, b, len, false);
    uint8_t *md = pract ? calloc(nlb, ns->ms) : NULL;
    if (!sf && pract && !md)
        sf = (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    for (uint32_t i = 0; !sf && pract && i < nlb; i++)
        sim_pi_put(ns, md + (size_t)i * ns->ms, b + (size_t)i * ns->lba_size,
                   sim_pi_ilbrt(ns, sqe) + (piremap ? wp - zslba : 0u) + i);
    if (!sf &&
        (sim_ns_io(ns, wp, nlb, b, true) < 0 || (md && sim_ns_md_io(ns, wp, nlb, md, true) < 0)))
        sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
    free(b);
    free(md);
    if (sf)
        return sf;
    sim_zns_written(ns, wp, nlb);
    sim->st.zone_appends++;
    sim->st.writes++;
    sim->st.bytes_written += len;
    sim->units_written += len / 512;
    *dw0 = (uint32_t)wp;
    return 0;
}

/* One Zone Send Action on zone z; status or 0 (§3.4.3, Figure 37). */
static uint16_t zone_action(struct sim_ns *ns, uint64_t z, uint8_t zsa)
{
    struct sim_zone *zn = &ns->zones[z];
    uint64_t start = z * ns->zone_size;
    uint8_t st = zn->state;
    switch (zsa) {
    case NVME_ZSA_OPEN:
        if (st == NVME_ZS_EXPLICIT_OPEN)
            return 0;
        if (st != NVME_ZS_EMPTY && st != NVME_ZS_IMPLICIT_OPEN && st != NVME_ZS_CLOSED)
            return ZSF(NVME_SC_ZONE_INVALID_TRANSITION);
        if (st != NVME_ZS_IMPLICIT_OPEN) {
            uint16_t sf = open_check(ns, z);
            if (sf)
                return sf;
        }
        zn->state = NVME_ZS_EXPLICIT_OPEN;
        return 0;
    case NVME_ZSA_CLOSE:
        if (st == NVME_ZS_CLOSED)
            return 0;
        if (!is_open(st))
            return ZSF(NVME_SC_ZONE_INVALID_TRANSITION);
        zn->state = zn->wp == start ? NVME_ZS_EMPTY : NVME_ZS_CLOSED;
        return 0;
    case NVME_ZSA_FINISH:
        if (st == NVME_ZS_FULL)
            return 0;
        if (st != NVME_ZS_EMPTY && !is_active(st))
            return ZSF(NVME_SC_ZONE_INVALID_TRANSITION);
        zn->state = NVME_ZS_FULL;
        zn->wp = start + ns->zone_cap;
        return 0;
    case NVME_ZSA_RESET:
        if (st == NVME_ZS_READ_ONLY || st == NVME_ZS_OFFLINE)
            return ZSF(NVME_SC_ZONE_INVALID_TRANSITION);
        zn->state = NVME_ZS_EMPTY;
        zn->wp = start;
        return 0;
    case NVME_ZSA_OFFLINE:
        if (st != NVME_ZS_READ_ONLY)
            return ZSF(NVME_SC_ZONE_INVALID_TRANSITION);
        zn->state = NVME_ZS_OFFLINE;
        return 0;
    default:
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    }
}

/* A reset zone's blocks are deallocated: zeros, unwritten for DULBE (ZNS
 * 1.1, Reset Zone: the zone becomes Empty, its blocks deallocated). */
static void zone_zero(struct sim_ns *ns, uint64_t z)
{
    sim_ns_dealloc(ns, z * ns->zone_size, ns->zone_size);
}

/* Zone Management Send: CDW10-11 SLBA, CDW13 ZSA 7:0, Select All bit 8. */
uint16_t sim_zns_send(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    struct sim_ns *ns = sim_ns_find(sim, sqe->nsid);
    if (!ns)
        return SIM_SF_GEN(NVME_SC_INVALID_NS);
    if (!ns->zoned)
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint8_t zsa = (uint8_t)sqe->cdw13;
    bool all = sqe->cdw13 & NVME_ZSA_SELECT_ALL;
    sim->st.zone_sends++;
    if (!all) {
        uint64_t slba = ((uint64_t)sqe->cdw11 << 32) | sqe->cdw10;
        if (slba >= ns->blocks)
            return SIM_SF_GEN(NVME_SC_LBA_RANGE);
        if (slba % ns->zone_size)
            return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
        uint64_t z = slba / ns->zone_size;
        bool had_data = ns->zones[z].wp != slba;
        uint16_t sf = zone_action(ns, z, zsa);
        if (!sf && zsa == NVME_ZSA_RESET && had_data)
            zone_zero(ns, z);
        return sf;
    }
    /* Select All (Figure 37): each action applies to the zones in the
     * states it names; others are left alone. */
    for (uint64_t z = 0; z < ns->nzones; z++) {
        uint8_t st = ns->zones[z].state;
        bool pick = (zsa == NVME_ZSA_OPEN && st == NVME_ZS_CLOSED) ||
                    (zsa == NVME_ZSA_CLOSE && is_open(st)) ||
                    (zsa == NVME_ZSA_FINISH && is_active(st)) ||
                    (zsa == NVME_ZSA_RESET && (is_active(st) || st == NVME_ZS_FULL)) ||
                    (zsa == NVME_ZSA_OFFLINE && st == NVME_ZS_READ_ONLY);
        if (zsa < NVME_ZSA_CLOSE || zsa > NVME_ZSA_OFFLINE)
            return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
        if (!pick)
            continue;
        bool had_data = ns->zones[z].wp != z * ns->zone_size;
        uint16_t sf = zone_action(ns, z, zsa);
        if (sf)
            return sf;
        if (zsa == NVME_ZSA_RESET && had_data)
            zone_zero(ns, z);
    }
    return 0;
}

/* Zone Management Receive, Report Zones (Figures 39-42): CDW10-11 SLBA,
 * CDW12 NUMD (0-based dwords), CDW13 ZRA 7:0, ZRASF 15:8, Partial 16. */
uint16_t sim_zns_recv(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    struct sim_ns *ns = sim_ns_find(sim, sqe->nsid);
    if (!ns)
        return SIM_SF_GEN(NVME_SC_INVALID_NS);
    if (!ns->zoned)
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint64_t slba = ((uint64_t)sqe->cdw11 << 32) | sqe->cdw10;
    size_t len = ((size_t)sqe->cdw12 + 1) * 4;
    uint8_t zra = (uint8_t)sqe->cdw13, zrasf = (uint8_t)(sqe->cdw13 >> 8);
    bool partial = sqe->cdw13 & NVME_ZRA_PARTIAL;
    if (zra != NVME_ZRA_REPORT || zrasf != NVME_ZRASF_ALL || len < 64)
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if (slba >= ns->blocks)
        return SIM_SF_GEN(NVME_SC_LBA_RANGE);
    if (sim->cfg.mdts && len > sim_mdts_bytes(sim))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    uint8_t *b = calloc(1, len);
    if (!b)
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    uint64_t first = slba / ns->zone_size, fit = (len - 64) / 64, n = 0;
    for (uint64_t z = first; z < ns->nzones && n < fit; z++, n++) {
        struct nvme_zone_desc d;
        memset(&d, 0, sizeof(d));
        d.zt = NVME_ZT_SEQ_WRITE;
        d.zs = (uint8_t)(ns->zones[z].state << 4);
        d.zcap = ns->zone_cap;
        d.zslba = z * ns->zone_size;
        d.wp = ns->zones[z].wp;
        memcpy(b + 64 + n * 64, &d, sizeof(d));
    }
    uint64_t nr = partial ? n : ns->nzones - first;
    memcpy(b, &nr, sizeof(nr));
    uint16_t sf = sim_prp_copy(sim, sqe, b, len, true);
    free(b);
    if (!sf)
        sim->st.zone_reports++;
    return sf;
}
