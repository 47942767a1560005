/* SPDX-License-Identifier: MIT */
/*
 * sim_nvm.c - NVM command set of the simulated controller (NVMe 1.4 §6):
 * Read, Write, Flush, Write Zeroes.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Namespace of an I/O command: Invalid Namespace or Format when NSID is
 * not an active namespace (§6, Figure 346 common fields). */
static struct sim_ns *io_ns(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint16_t *sf)
{
    struct sim_ns *ns = sim_ns_find(sim, sqe->nsid);
    if (!ns)
        *sf = SIM_SF_GEN(NVME_SC_INVALID_NS);
    return ns;
}

/* Starting LBA (CDW10-11) and block count (CDW12 NLB, 0-based). */
static uint16_t lba_range(const struct sim_ns *ns, const struct nvme_sqe *sqe, uint64_t *slba,
                          uint32_t *nlb)
{
    *slba = ((uint64_t)sqe->cdw11 << 32) | sqe->cdw10;
    *nlb = (sqe->cdw12 & 0xffff) + 1;
    if (*slba >= ns->blocks || *nlb > ns->blocks - *slba)
        return SIM_SF_GEN(NVME_SC_LBA_RANGE);
    return 0;
}

/* Read (§6.9) and Write (§6.15). */
static uint16_t read_write(struct nvme_sim *sim, const struct nvme_sqe *sqe, bool write)
{
    uint16_t sf = 0;
    struct sim_ns *ns = io_ns(sim, sqe, &sf);
    if (!ns)
        return sf;
    uint64_t slba;
    uint32_t nlb;
    if ((sf = lba_range(ns, sqe, &slba, &nlb)))
        return sf;
    size_t len = (size_t)nlb * ns->lba_size;
    if (sim->cfg.mdts && len > ((4096ull << sim->cfg.mpsmin) << sim->cfg.mdts))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD); /* above MDTS (§5.15.2.2) */
    uint8_t *bounce = malloc(len);
    if (!bounce)
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    if (write) {
        sf = sim_prp_copy(sim, sqe, bounce, len, false);
        if (!sf && sim_ns_io(ns, slba, nlb, bounce, true) < 0)
            sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
    } else {
        if (sim_ns_io(ns, slba, nlb, bounce, false) < 0)
            sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ);
        else
            sf = sim_prp_copy(sim, sqe, bounce, len, true);
    }
    free(bounce);
    if (sf)
        return sf;
    /* SMART counters (§5.14.1.2): data in 512-byte units, commands. */
    if (write) {
        sim->st.writes++;
        sim->st.bytes_written += len;
        sim->units_written += len / 512;
    } else {
        sim->st.reads++;
        sim->st.bytes_read += len;
        sim->units_read += len / 512;
    }
    return 0;
}

/* Flush (§6.8): NSID FFFFFFFFh flushes every namespace (Identify VWC 2:1 = 11b). */
static uint16_t flush(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    if (sqe->nsid == NVME_NSID_ALL) {
        for (unsigned i = 0; i < sim->ns_count; i++)
            sim_ns_sync(sim->ns[i]);
    } else {
        uint16_t sf = 0;
        struct sim_ns *ns = io_ns(sim, sqe, &sf);
        if (!ns)
            return sf;
        if (sim_ns_sync(ns) < 0)
            return (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
    }
    sim->st.flushes++;
    return 0;
}

/* Write Zeroes (§6.16): no data transfer, so no MDTS limit. */
static uint16_t write_zeroes(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t sf = 0;
    struct sim_ns *ns = io_ns(sim, sqe, &sf);
    if (!ns)
        return sf;
    uint64_t slba;
    uint32_t nlb;
    if ((sf = lba_range(ns, sqe, &slba, &nlb)))
        return sf;
    uint8_t *zero = calloc(nlb, ns->lba_size);
    if (!zero)
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    if (sim_ns_io(ns, slba, nlb, zero, true) < 0)
        sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
    free(zero);
    return sf;
}

uint16_t sim_nvm_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    (void)dw0;
    if (sqe->flags & 0xc3) /* fused operations and SGLs are not supported */
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    switch (sqe->opc) {
    case NVME_CMD_READ: return read_write(sim, sqe, false);
    case NVME_CMD_WRITE: return read_write(sim, sqe, true);
    case NVME_CMD_FLUSH: return flush(sim, sqe);
    case NVME_CMD_WRITE_ZEROES: return write_zeroes(sim, sqe);
    default: return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    }
}
