/* SPDX-License-Identifier: MIT */
/*
 * sim_virt.c - Virtualization Enhancements of the simulated controller
 * (NVMe 2.0 §8.26), with cfg.secondary_ctrls: Identify Primary Controller
 * Capabilities (CNS 14h, Figure 281) and Secondary Controller List (CNS
 * 15h, Figure 282); OACS bit 7 (Virtualization Management) is reported.
 * The primary controller (CNTLID 1) has VQ and VI resources (CRT 3);
 * secondary controller i (1-based) is CNTLID i + 1 on virtual function i,
 * offline, with no resources assigned.  Virtualization Management itself
 * is not simulated.
 */
#include <string.h>

#include "sim_internal.h"

#define SIM_SC_MAX 127u /* entries of a Secondary Controller List */

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
    }
    buf[0] = sim->virt_numid ? sim->virt_numid : (uint8_t)cnt; /* NUMID */
    return 0;
}

void nvme_sim_virt_numid(struct nvme_sim *sim, uint8_t numid)
{
    pthread_mutex_lock(&sim->mtx);
    sim->virt_numid = numid;
    pthread_mutex_unlock(&sim->mtx);
}
