/* SPDX-License-Identifier: MIT */
/*
 * sim_hmb.c - the Host Memory Buffer (NVMe 2.0 §8; Set/Get Features
 * 0Dh, §5.27.1.10) of a controller without DRAM: Identify HMPRE, HMMIN,
 * HMMINDS and HMMAXD from the configuration.  Set Features with EHM reads
 * the descriptor list and checks it (entries, alignment, HSIZE their sum,
 * at least HMMIN, pieces of at least HMMINDS); the device then stamps each
 * piece and, as a real one keeps its mapping tables there, touches a piece
 * at every I/O command while the buffer is enabled.  MR (memory return)
 * after a reset finds its stamps again or says the host lost them (and
 * the same pieces, else a host error, as a piece the CPU changed).  A
 * controller reset (CC.EN to 0) or EHM cleared ends the use.  Every access
 * goes through sim_dma_read / sim_dma_write: a piece the host freed while
 * the device may use it is dma_after_return, memory the OSAL never handed
 * out a violation.
 */
#include <string.h>

#include "sim_internal.h"

#define SF_INVALID_FIELD SIM_SF_GEN(NVME_SC_INVALID_FIELD)

#define STAMP 0x484d42ull /* "HMB" */

static bool stamp_write(struct nvme_sim *sim, unsigned i)
{
    uint64_t v = STAMP ^ ((uint64_t)i << 32);
    return sim_dma_write(sim, sim->hmb.badd[i], &v, sizeof(v), "host memory buffer");
}

static bool stamp_ok(struct nvme_sim *sim, unsigned i)
{
    uint64_t v = 0;
    return sim_dma_read(sim, sim->hmb.badd[i], &v, sizeof(v), "host memory buffer") &&
           v == (STAMP ^ ((uint64_t)i << 32));
}

uint16_t sim_hmb_set(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    if (!(sqe->cdw11 & NVME_HMB_EHM)) {
        sim->hmb.on = false;
        sim->st.hmb_bytes = 0;
        return 0;
    }
    if (sim->hmb.on)
        return SIM_SF_GEN(NVME_SC_CMD_SEQ_ERROR);
    uint32_t n = sqe->cdw15, hsize = sqe->cdw12;
    uint64_t list = ((uint64_t)sqe->cdw14 << 32) | sqe->cdw13;
    if (n == 0 || n > SIM_HMB_MAX || (sim->cfg.hmmaxd != 0 && n > sim->cfg.hmmaxd) ||
        (list & 15u) != 0 || (uint64_t)hsize * sim->mps < (uint64_t)sim->cfg.hmmin * 4096u)
        return SF_INVALID_FIELD;
    struct nvme_hmb_desc d[SIM_HMB_MAX];
    if (!sim_dma_read(sim, list, d, n * sizeof(d[0]), "host memory buffer descriptors"))
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (d[i].bsize == 0 || (d[i].badd & (sim->mps - 1u)) != 0 ||
            (uint64_t)d[i].bsize * sim->mps < (uint64_t)sim->cfg.hmminds * 4096u)
            return SF_INVALID_FIELD;
        sum += d[i].bsize;
    }
    if (sum != hsize)
        return SF_INVALID_FIELD;
    bool mr = (sqe->cdw11 & NVME_HMB_MR) != 0;
    if (mr && n != sim->hmb.n)
        sim_host_error(sim, "host memory buffer returned (MR) with %u pieces, %u given before", n,
                       sim->hmb.n);
    for (uint32_t i = 0; i < n; i++) {
        if (mr && i < sim->hmb.n && sim->hmb.badd[i] != d[i].badd)
            sim_host_error(sim, "host memory buffer returned (MR) with piece %u moved", i);
        sim->hmb.badd[i] = d[i].badd;
        sim->hmb.size[i] = (uint64_t)d[i].bsize * sim->mps;
    }
    sim->hmb.n = n;
    for (uint32_t i = 0; i < n; i++) {
        if (mr && !stamp_ok(sim, i)) {
            sim->st.hmb_lost++;
            sim_alarm(sim, "host memory buffer piece %u lost its contents across a reset", i);
        }
        if (!stamp_write(sim, i))
            return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    }
    if (sim->cfg.hmb_list_scribble) { /* untrusted: the list is memory the device may write */
        for (uint32_t i = 0; i < n; i++)
            d[i].bsize *= 2u;
        (void)sim_dma_write(sim, list, d, n * sizeof(d[0]), "host memory buffer descriptors");
    }
    sim->hmb.on = true;
    sim->st.hmb_enables++;
    sim->st.hmb_returns += mr ? 1u : 0u;
    sim->st.hmb_bytes = (uint64_t)hsize * sim->mps;
    return 0;
}

uint16_t sim_hmb_get(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    uint8_t attr[4096];
    memset(attr, 0, sizeof(attr));
    *dw0 = sim->hmb.on ? NVME_HMB_EHM : 0u;
    if (sim->hmb.on) { /* Host Memory Buffer Attributes: HSIZE, HMDLAL/AU, HMDLEC */
        uint32_t v[4] = {(uint32_t)(sim->st.hmb_bytes / sim->mps), 0, 0, sim->hmb.n};
        memcpy(attr, v, sizeof(v));
    }
    return sim_prp_copy(sim, sqe, attr, sizeof(attr), true);
}

void sim_hmb_touch(struct nvme_sim *sim)
{
    if (!sim->hmb.on || sim->hmb.n == 0)
        return;
    unsigned i = (unsigned)(sim->st.hmb_touches++ % sim->hmb.n);
    if (!stamp_ok(sim, i))
        sim_host_error(sim, "host memory buffer piece %u changed under the device", i);
    (void)stamp_write(sim, i);
}

void sim_hmb_reset(struct nvme_sim *sim)
{
    sim->hmb.on = false; /* a Controller Level Reset ends its use */
    sim->st.hmb_bytes = 0;
}
