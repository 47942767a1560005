/* SPDX-License-Identifier: MIT */
/*
 * sim_virt.c - Virtualization Enhancements of the simulated controller
 * (NVMe 2.0 §8.26), with cfg.secondary_ctrls: Identify Primary Controller
 * Capabilities (CNS 14h, Figure 281) and Secondary Controller List (CNS
 * 15h, Figure 282); OACS bit 7 (Virtualization Management) is reported.
 * The primary controller (CNTLID 1) has VQ and VI resources (CRT 3);
 * secondary controller i (1-based) is CNTLID i + 1 on virtual function i,
 * offline, with no resources assigned until Virtualization Management
 * (1Ch, NVMe 1.4 §5.22) assigns them and puts it online (sim_virt_mgmt).
 */
#include <string.h>

#include "sim_internal.h"

#define SIM_SC_MAX 127u /* entries of a Secondary Controller List; virt_sec[] */

static void put_le(uint8_t *p, uint32_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t sim_virt_identify(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint8_t *buf)
{
    uint32_t n = sim->cfg.secondary_ctrls;
    uint8_t cns = (uint8_t)sqe->cdw10;
    if (n == 0)
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if (cns == 0x14) {
        put_le(buf, 1, 2);          /* CNTLID */
        buf[4] = 0x03;              /* CRT: VQ and VI resources */
        put_le(buf + 32, 8 * n, 4); /* VQFRT: flexible VQ resources */
        put_le(buf + 36, 0, 4);     /* VQRFA: none assigned */
        put_le(buf + 42, 2, 2);     /* VQPRT: private to the primary */
        put_le(buf + 44, 8, 2);     /* VQFRSM: at most per secondary */
        put_le(buf + 46, 1, 2);     /* VQGRAN */
        put_le(buf + 64, 4 * n, 4); /* VIFRT */
        put_le(buf + 74, 1, 2);     /* VIPRT */
        put_le(buf + 76, 4, 2);     /* VIFRSM */
        put_le(buf + 78, 1, 2);     /* VIGRAN */
        /* the primary's flexible resources after its next reset */
        put_le(buf + 40, sim->virt_prim_vq, 2); /* VQRFAP */
        put_le(buf + 72, sim->virt_prim_vi, 2); /* VIRFAP */
        return 0;
    }
    /* CNS 15h: secondary controllers with CNTLID >= CDW10.CNTID */
    uint16_t start = (uint16_t)(sqe->cdw10 >> 16);
    unsigned cnt = 0;
    for (uint32_t i = 1; i <= n && cnt < SIM_SC_MAX; i++) {
        if (i + 1 < start)
            continue;
        uint8_t *e = buf + 32 + 32 * cnt++;
        put_le(e, i + 1, 2); /* SCID */
        put_le(e + 2, 1, 2); /* PCID */
        put_le(e + 8, i, 2); /* VFN */
        /* SCS, NVQ, NVI of the ones sim_virt_mgmt manages */
        if (i <= SIM_SC_MAX) {
            e[4] = sim->virt_sec[i - 1].scs;
            put_le(e + 10, sim->virt_sec[i - 1].nvq, 2);
            put_le(e + 12, sim->virt_sec[i - 1].nvi, 2);
        }
    }
    buf[0] = sim->virt_numid ? sim->virt_numid : (uint8_t)cnt; /* NUMID */
    return 0;
}

/* Virtualization Management: CDW10 ACT 3:0, RT 10:8 (0 VQ, 1 VI),
 * CNTLID 31:16, CDW11 NR 15:0.  ACT 1h sets the primary's flexible
 * resources after its next reset (VQRFAP/VIRFAP); 8h assigns NR to an
 * offline secondary (at most VQFRSM/VIFRSM, and what the others leave of
 * VQFRT/VIFRT); 9h puts a secondary with 2 VQ and 1 VI resources or more
 * online (an admin and an I/O queue, an interrupt), 7h offline, its
 * resources kept.  Dword 0: NRM, the resources the action changed. */
uint16_t sim_virt_mgmt(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    uint32_t n = sim->cfg.secondary_ctrls, act = sqe->cdw10 & 0xfu, rt = (sqe->cdw10 >> 8) & 7u;
    uint16_t cntlid = (uint16_t)(sqe->cdw10 >> 16), nr = (uint16_t)sqe->cdw11;
    if (n == 0)
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    if (n > SIM_SC_MAX)
        n = SIM_SC_MAX;
    if (act != 1 && act != 7 && act != 8 && act != 9)
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if ((act == 1 || act == 8) && rt > 1)
        return SIM_SF_CMD(0x22); /* Invalid Resource Identifier */
    if (act == 1) {
        if (cntlid != 1)
            return SIM_SF_CMD(0x1f); /* Invalid Controller Identifier */
        if (nr > (rt == 0 ? 8 * n : 4 * n))
            return SIM_SF_CMD(0x21); /* Invalid Number of Controller Resources */
        *(rt == 0 ? &sim->virt_prim_vq : &sim->virt_prim_vi) = nr;
        *dw0 = nr;
        return 0;
    }
    if (cntlid < 2 || cntlid > n + 1)
        return SIM_SF_CMD(0x1f);
    unsigned i = cntlid - 2u;
    if (act == 7 || act == 9) {
        if (act == 9 && (sim->virt_sec[i].nvq < 2 || sim->virt_sec[i].nvi < 1))
            return SIM_SF_CMD(0x20); /* Invalid Secondary Controller State */
        sim->virt_sec[i].scs = act == 9;
        *dw0 = 0;
        return 0;
    }
    if (sim->virt_sec[i].scs != 0)
        return SIM_SF_CMD(0x20);
    uint32_t used = 0;
    for (unsigned k = 0; k < n; k++)
        used += k == i ? 0u : rt == 0 ? sim->virt_sec[k].nvq : sim->virt_sec[k].nvi;
    if (nr > (rt == 0 ? 8u : 4u) || used + nr > (rt == 0 ? 8 * n : 4 * n))
        return SIM_SF_CMD(0x21);
    *(rt == 0 ? &sim->virt_sec[i].nvq : &sim->virt_sec[i].nvi) = nr;
    *dw0 = nr;
    return 0;
}

void nvme_sim_virt_numid(struct nvme_sim *sim, uint8_t numid)
{
    pthread_mutex_lock(&sim->mtx);
    sim->virt_numid = numid;
    pthread_mutex_unlock(&sim->mtx);
}
