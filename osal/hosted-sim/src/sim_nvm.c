/* SPDX-License-Identifier: MIT */
/*
 * sim_nvm.c - NVM command set of the simulated controller (NVMe 1.4 §6):
 * Read, Write, Flush, Write Zeroes, Write Uncorrectable (reservations:
 * sim_resv.c).
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Namespace of an I/O command: Invalid Namespace or Format when NSID is
 * invalid, Invalid Field in Command when it is inactive (sim_ns_active). */
static struct sim_ns *io_ns(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint16_t *sf)
{
    return sim_ns_active(sim, sqe->nsid, sf);
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

/* Blocks a Write Uncorrectable marked read as this (NVM CS §3.2.7):
 * Unrecovered Read Error, DNR (reading again cannot help). */
#define SIM_SF_UNCOR                                                                               \
    ((uint16_t)(NVME_SF(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ) | NVME_SF_DNR_BIT))

/* Error Recovery's DULBE (CDW11 bit 16, NVMe 2.0 §5.27.1.5) set for the
 * namespace: a Read, Compare, Verify or a Copy's source range touching a
 * deallocated or unwritten block (sim_ns_unwritten) completes with
 * Deallocated or Unwritten Logical Block (NVM CS 1.0 §3.2.3, Dataset
 * Management: deallocated or unwritten blocks), DNR
 * clear, as QEMU's nvme_check_dulbe (NVME_DULB); with it clear such a
 * block reads as zeros.  Before: NSFEAT's DAE was set and DULBE taken,
 * but every block read as zeros. */
#define SIM_SF_DULB ((uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_DEALLOCATED_BLOCK))
#define SIM_ERR_REC_DULBE (1u << 16)

static bool dulbe_hit(const struct sim_ns *ns, uint64_t slba, uint64_t nlb)
{
    return (ns->err_rec & SIM_ERR_REC_DULBE) && sim_ns_unwritten(ns, slba, nlb);
}

/* --- Metadata and protection information (NVM CS §5.2) --------------- */

unsigned sim_pi_size(const struct sim_ns *ns) { return ns->pif == NVME_PIF_64B_GUARD ? 16u : 8u; }

/* Whether this command moves metadata: not for PI-only formats (ms the
 * PI's size) with PRACT, where the controller inserts / strips the PI. */
static bool moves_md(const struct sim_ns *ns, uint32_t cdw12)
{
    return ns->ms && !(ns->pi_type && ns->ms == sim_pi_size(ns) && (cdw12 & NVME_RW_PRACT));
}

/* The PI bytes of a block's metadata (NVM CS §5.3.1): 16b Guard: guard
 * (2 bytes, big endian), application tag (2), reference tag (4); 64b
 * Guard: guard (8), application tag (2), reference tag (6, STS 0). */
static uint8_t *pi_of(const struct sim_ns *ns, uint8_t *md)
{
    return ns->pi_first ? md : md + ns->ms - sim_pi_size(ns);
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* The reference tag's bits: 48 with the 64b Guard (STS 0), else 32. */
static uint64_t ref_mask(const struct sim_ns *ns)
{
    return ns->pif == NVME_PIF_64B_GUARD ? 0xffffffffffffull : 0xffffffffull;
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

uint64_t sim_pi_ilbrt(const struct sim_ns *ns, const struct nvme_sqe *sqe)
{
    if (ns->pif == NVME_PIF_64B_GUARD)
        return (uint64_t)(sqe->cdw3 & 0xffffu) << 32 | sqe->cdw14;
    return sqe->cdw14;
}

void sim_pi_put(const struct sim_ns *ns, uint8_t *md, const uint8_t *data, uint64_t ref)
{
    uint8_t *pi = pi_of(ns, md);
    if (ns->pif == NVME_PIF_64B_GUARD) {
        put_be(pi, sim_crc64_nvme(data, ns->lba_size), 8);
        put_be(pi + 8, 0, 2);
        put_be(pi + 10, ref & 0xffffffffffffull, 6);
        return;
    }
    put_be(pi, sim_crc_t10dif(data, ns->lba_size), 2);
    put_be(pi + 2, 0, 2);
    put_be(pi + 4, (uint32_t)ref, 4);
}

/* PRCHK (CDW12 28 guard, 26 reference tag) of one block.  Checking is
 * disabled (§5.3.1.5) by an application tag of FFFFh for Types 1 and 2,
 * and for Type 3 only when the reference tag is all ones as well (as
 * QEMU's nvme_dif_prchk); and by the PI of a block never written (PI
 * and data all zeros here), as QEMU's model gives the blocks that read
 * as zeros a PI of FFh bytes: a block written over a PI of zeros is
 * checked. */
static uint16_t pi_check(struct nvme_sim *sim, const struct sim_ns *ns, uint8_t *md,
                         const uint8_t *data, uint64_t ref, uint32_t cdw12)
{
    uint8_t *pi = pi_of(ns, md);
    bool g64 = ns->pif == NVME_PIF_64B_GUARD;
    unsigned gsz = g64 ? 8u : 2u, rsz = g64 ? 6u : 4u, zero = 0;
    uint64_t mask = ref_mask(ns);
    for (unsigned i = 0; i < sim_pi_size(ns); i++)
        zero += pi[i] == 0;
    for (unsigned i = 0; zero == sim_pi_size(ns) && i < ns->lba_size; i++)
        zero = data[i] == 0 ? zero : 0;
    bool escape = get_be(pi + gsz, 2) == 0xffff &&
                  (ns->pi_type != 3 || get_be(pi + gsz + 2, rsz) == mask);
    if (escape || zero == sim_pi_size(ns))
        return 0;
    sim->st.pi_checked++;
    uint64_t guard = g64 ? sim_crc64_nvme(data, ns->lba_size) : sim_crc_t10dif(data, ns->lba_size);
    if ((cdw12 & NVME_RW_PRCHK_GUARD) && get_be(pi, gsz) != guard)
        return (uint16_t)(NVME_SF(NVME_SCT_MEDIA, NVME_SC_GUARD_CHECK) | NVME_SF_DNR_BIT);
    if ((cdw12 & NVME_RW_PRCHK_REF) && ns->pi_type != 3 &&
        get_be(pi + gsz + 2, rsz) != (ref & mask))
        return (uint16_t)(NVME_SF(NVME_SCT_MEDIA, NVME_SC_REFTAG_CHECK) | NVME_SF_DNR_BIT);
    return 0;
}

/* PRINFO a namespace can take: none without PI, none on the PI formats
 * this model only reports (32b Guard, storage tags); with Type 1 and
 * PRCHK reference tag, the ILBRT must be the SLBA's low bits (Zone
 * Append: the ZSLBA's), else Invalid Protection Information (NVM CS
 * §5.3.3), as QEMU's model checks. */
uint16_t sim_pi_flags_check(const struct sim_ns *ns, const struct nvme_sqe *sqe, uint64_t slba)
{
    uint32_t pi = sqe->cdw12 &
                  (NVME_RW_PRACT | NVME_RW_PRCHK_GUARD | NVME_RW_PRCHK_APP | NVME_RW_PRCHK_REF);
    if (pi == 0)
        return 0;
    if (!ns->pi_type || ns->sts || ns->pif == NVME_PIF_32B_GUARD || ns->pif > NVME_PIF_64B_GUARD)
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    uint64_t mask = ref_mask(ns);
    if (ns->pi_type == 1 && (pi & NVME_RW_PRCHK_REF) && (slba & mask) != sim_pi_ilbrt(ns, sqe))
        return SIM_SF_CMD(NVME_SC_INVALID_PI);
    return 0;
}

/* Bytes of a separate metadata transfer of len bytes that move
 * (cfg.md_sectors_bug: QEMU's, only length mod 512 above 512; not on PI
 * formats, whose metadata QEMU moves through its own bounce buffer). */
static size_t sim_md_moved(const struct nvme_sim *sim, const struct sim_ns *ns, size_t len)
{
    return sim->cfg.md_sectors_bug && !ns->pi_type && len > 512u && (len & 511u) != 0 ? len & 511u
                                                                                      : len;
}

/* Host buffers <-> per-block data and metadata: with an extended format
 * the host's blocks are lba_size + ms bytes (data then metadata), else
 * the metadata comes through MPTR, one contiguous buffer (§5.2.1.1). */
static uint16_t md_from_host(struct nvme_sim *sim, const struct sim_ns *ns,
                             const struct nvme_sqe *sqe, uint8_t *host, uint8_t *data, uint8_t *md,
                             uint32_t nlb)
{
    if (ns->extended) {
        size_t stride = ns->lba_size + ns->ms;
        for (uint32_t i = 0; i < nlb; i++) {
            memcpy(data + (size_t)i * ns->lba_size, host + i * stride, ns->lba_size);
            memcpy(md + (size_t)i * ns->ms, host + i * stride + ns->lba_size, ns->ms);
        }
        return 0;
    }
    memcpy(data, host, (size_t)nlb * ns->lba_size);
    if (sqe->mptr & 3u) /* "shall be dword aligned" (§4.2, MPTR) */
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
    if (!sim_dma_read(sim, sqe->mptr, md, sim_md_moved(sim, ns, (size_t)nlb * ns->ms),
                      "metadata (MPTR)"))
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    return 0;
}

static uint16_t md_to_host(struct nvme_sim *sim, const struct sim_ns *ns,
                           const struct nvme_sqe *sqe, uint8_t *host, const uint8_t *data,
                           const uint8_t *md, uint32_t nlb)
{
    if (ns->extended) {
        size_t stride = ns->lba_size + ns->ms;
        for (uint32_t i = 0; i < nlb; i++) {
            memcpy(host + i * stride, data + (size_t)i * ns->lba_size, ns->lba_size);
            memcpy(host + i * stride + ns->lba_size, md + (size_t)i * ns->ms, ns->ms);
        }
        return 0;
    }
    memcpy(host, data, (size_t)nlb * ns->lba_size);
    if (sqe->mptr & 3u) /* "shall be dword aligned" (§4.2, MPTR) */
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
    if (!sim_dma_write(sim, sqe->mptr, md, sim_md_moved(sim, ns, (size_t)nlb * ns->ms),
                       "metadata (MPTR)"))
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    return 0;
}

/* Read (§6.9), Write (§6.15) and Compare (NVM CS 1.0 §3.2.1): data
 * through the PRPs, metadata interleaved or through MPTR, PI generated
 * (PRACT on writes), checked (PRCHK) and stripped (PRACT with ms 8 on
 * reads). */
static uint16_t read_write(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint8_t opc)
{
    bool write = opc == NVME_CMD_WRITE;
    uint16_t sf = 0;
    struct sim_ns *ns = io_ns(sim, sqe, &sf);
    if (!ns)
        return sf;
    uint64_t slba;
    uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
    uint32_t cdw12 = sqe->cdw12;
    bool md_xfer = moves_md(ns, cdw12);
    size_t dlen = (size_t)nlb * ns->lba_size;
    size_t hlen = dlen + (md_xfer && ns->extended ? (size_t)nlb * ns->ms : 0);
    /* Above MDTS (§5.15.2.2) before the LBA range, as QEMU's nvme_read,
     * nvme_write and nvme_compare check (nvme_check_mdts, then
     * nvme_check_bounds): a command wrong in both is Invalid Field. */
    if (sim->cfg.mdts && hlen > sim_mdts_bytes(sim))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if ((sf = lba_range(ns, sqe, &slba, &nlb)))
        return sf;
    /* "The Protection Information Action (PRACT) bit shall be cleared to
     * 0" in a Compare (NVM CS 1.0 Figure 23); QEMU 7.2 refuses it so. */
    if (opc == NVME_CMD_COMPARE && ns->pi_type && (cdw12 & NVME_RW_PRACT))
        return SIM_SF_CMD(NVME_SC_INVALID_PI);
    if ((sf = sim_pi_flags_check(ns, sqe, slba)))
        return sf;
    if (write && ns->zoned && (sf = sim_zns_write_check(sim, ns, slba, nlb)))
        return sf;
    /* OZCS bit 0 (Read Across Zone Boundaries) is 0 here, as QEMU's
     * default: a read that spans zones fails (ZNS 1.1, I/O Command Set
     * specific Identify Namespace OZCS). */
    if (!write && ns->zoned && slba / ns->zone_size != (slba + nlb - 1) / ns->zone_size)
        return SIM_SF_CMD(NVME_SC_ZONE_BOUNDARY);
    if (!write && sim_ns_unc_any(ns, slba, nlb)) /* Read, Compare */
        return SIM_SF_UNCOR;
    if (!write && dulbe_hit(ns, slba, nlb))
        return SIM_SF_DULB;
    uint8_t *host = malloc(hlen), *data = malloc(dlen);
    uint8_t *md = ns->ms ? calloc(nlb, ns->ms) : NULL;
    if (!host || !data || (ns->ms && !md)) {
        free(host), free(data), free(md);
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    }
    uint64_t ref = sim_pi_ilbrt(ns, sqe);
    if (opc != NVME_CMD_READ) { /* Write, Compare: data from the host */
        sf = sim_prp_copy(sim, sqe, host, hlen, false);
        if (!sf && md_xfer)
            sf = md_from_host(sim, ns, sqe, host, data, md, nlb);
        else if (!sf)
            memcpy(data, host, dlen);
        if (!sf && md_xfer)
            sim->st.md_bytes += (size_t)nlb * ns->ms;
        for (uint32_t i = 0; !sf && ns->pi_type && opc == NVME_CMD_WRITE && i < nlb; i++) {
            uint8_t *bmd = md + (size_t)i * ns->ms;
            const uint8_t *bd = data + (size_t)i * ns->lba_size;
            if (cdw12 & NVME_RW_PRACT) {
                sim_pi_put(ns, bmd, bd, ref + i);
                sim->st.pi_generated++;
            } else {
                sf = pi_check(sim, ns, bmd, bd, ref + i, cdw12);
            }
        }
        if (!sf && opc == NVME_CMD_WRITE) {
            if (sim_ns_io(ns, slba, nlb, data, true) < 0 ||
                (ns->ms && sim_ns_md_io(ns, slba, nlb, md, true) < 0))
                sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
        } else if (!sf) {
            /* Compare: the stored blocks' PI checked as a Read checks it
             * (PRCHK), then the data compared, and the metadata when the
             * host sent it (PI included, as QEMU 7.2 compares it). */
            uint8_t *media = malloc(dlen), *mmd = ns->ms ? calloc(nlb, ns->ms) : NULL;
            if (!media || (ns->ms && !mmd) || sim_ns_io(ns, slba, nlb, media, false) < 0 ||
                (ns->ms && sim_ns_md_io(ns, slba, nlb, mmd, false) < 0))
                sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ);
            for (uint32_t i = 0; !sf && ns->pi_type && i < nlb; i++)
                sf = pi_check(sim, ns, mmd + (size_t)i * ns->ms, media + (size_t)i * ns->lba_size,
                              ref + i, cdw12);
            if (!sf &&
                (memcmp(media, data, dlen) || (md_xfer && memcmp(mmd, md, (size_t)nlb * ns->ms))))
                sf = (uint16_t)(NVME_SF(NVME_SCT_MEDIA, NVME_SC_COMPARE_FAILED) | NVME_SF_DNR_BIT);
            free(media), free(mmd);
        }
    } else {
        if (sim_ns_io(ns, slba, nlb, data, false) < 0 ||
            (ns->ms && sim_ns_md_io(ns, slba, nlb, md, false) < 0))
            sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ);
        for (uint32_t i = 0; !sf && ns->pi_type && i < nlb; i++) {
            sf = pi_check(sim, ns, md + (size_t)i * ns->ms, data + (size_t)i * ns->lba_size,
                          ref + i, cdw12);
            if (!md_xfer)
                sim->st.pi_stripped++;
        }
        if (!sf && md_xfer) {
            sf = md_to_host(sim, ns, sqe, host, data, md, nlb);
            sim->st.md_bytes += (size_t)nlb * ns->ms;
        } else if (!sf) {
            memcpy(host, data, dlen);
        }
        if (!sf)
            sf = sim_prp_copy(sim, sqe, host, hlen, true);
    }
    free(host), free(data), free(md);
    if (sf)
        return sf;
    if (opc == NVME_CMD_COMPARE) {
        sim->st.compares++;
        sim->st.fua_compares += (cdw12 & NVME_RW_FUA) != 0;
        return 0;
    }
    /* SMART counters (§5.14.1.2): data in 512-byte units, commands. */
    if (write) {
        if (ns->zoned)
            sim_zns_written(ns, slba, nlb);
        ns->unflushed++;
        sim->st.writes++;
        sim->st.fua_writes += (cdw12 & NVME_RW_FUA) != 0;
        sim->st.bytes_written += dlen;
        sim->units_written += dlen / 512;
    } else {
        sim->st.reads++;
        sim->st.bytes_read += dlen;
        sim->units_read += dlen / 512;
    }
    return 0;
}

/* Flush (§6.8): NSID FFFFFFFFh flushes every namespace (Identify VWC 2:1 = 11b). */
static uint16_t flush(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    if (sqe->nsid == NVME_NSID_ALL) {
        if (sim->cfg.flush_no_bcast)
            return SIM_SF_GEN(NVME_SC_INVALID_NS);
        for (unsigned i = 0; i < sim->ns_count; i++) {
            sim_ns_sync(sim->ns[i]);
            sim->ns[i]->unflushed = 0;
        }
    } else {
        uint16_t sf = 0;
        struct sim_ns *ns = io_ns(sim, sqe, &sf);
        if (!ns)
            return sf;
        if (sim_ns_sync(ns) < 0)
            return (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
        ns->unflushed = 0;
    }
    sim->st.flushes++;
    return 0;
}

/* Write Zeroes (NVM CS §3.2.8): no data transfer, so no MDTS limit.
 * DEAC (CDW12 bit 25) deallocates too; with PI, PRACT generates the PI
 * of the zeroed blocks, else their metadata is zeros. */
static uint16_t write_zeroes(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t sf = 0;
    struct sim_ns *ns = io_ns(sim, sqe, &sf);
    if (!ns)
        return sf;
    if (!(sim->cfg.oncs & NVME_ONCS_WRITE_ZEROES))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint64_t slba;
    uint32_t nlb;
    if ((sf = lba_range(ns, sqe, &slba, &nlb)))
        return sf;
    if ((sqe->cdw12 & NVME_WZ_DEAC) && !(sim->cfg.dlfeat & NVME_DLFEAT_WZ_DEAC))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if ((uint64_t)nlb * ns->lba_size > sim_size_limit_bytes(sim, sim->cfg.wzsl))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if (ns->zoned && (sf = sim_zns_write_check(sim, ns, slba, nlb)))
        return sf;
    if ((sf = sim_pi_flags_check(ns, sqe, slba)))
        return sf;
    /* No PRCHK: the field is cleared in Write Zeroes (there is no PI to
     * check, PRACT generates it); QEMU refuses it so. */
    if (sqe->cdw12 & (NVME_RW_PRCHK_GUARD | NVME_RW_PRCHK_APP | NVME_RW_PRCHK_REF))
        return SIM_SF_CMD(NVME_SC_INVALID_PI);
    uint8_t *zero = calloc(nlb, ns->lba_size);
    uint8_t *md = ns->ms ? calloc(nlb, ns->ms) : NULL;
    if (!zero || (ns->ms && !md)) {
        free(zero), free(md);
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    }
    uint64_t ref = sim_pi_ilbrt(ns, sqe);
    for (uint32_t i = 0; ns->pi_type && (sqe->cdw12 & NVME_RW_PRACT) && i < nlb; i++)
        sim_pi_put(ns, md + (size_t)i * ns->ms, zero, ref + i);
    /* DEAC deallocates (QEMU: BDRV_REQ_MAY_UNMAP), else zeros are written. */
    if (((sqe->cdw12 & NVME_WZ_DEAC) ? sim_ns_dealloc(ns, slba, nlb)
                                     : sim_ns_io(ns, slba, nlb, zero, true)) < 0 ||
        (ns->ms && sim_ns_md_io(ns, slba, nlb, md, true) < 0))
        sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
    free(zero), free(md);
    if (sf)
        return sf;
    if (ns->zoned)
        sim_zns_written(ns, slba, nlb);
    sim->st.write_zeroes++;
    if (sqe->cdw12 & NVME_WZ_DEAC) {
        sim->st.wz_deallocate++;
        sim->st.deallocated_blocks += nlb;
    }
    return 0;
}

/* Write Uncorrectable (NVM CS 1.0 §3.2.7): no data; the blocks are
 * marked invalid and read as Unrecovered Read Error until written again.
 * Above WUSL (NVM Identify Controller byte 2): Invalid Field, as QEMU's
 * vsl / wzsl checks.  Not a ZNS command: Invalid Opcode on a zoned
 * namespace. */
static uint16_t write_uncor(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t sf = 0;
    struct sim_ns *ns = io_ns(sim, sqe, &sf);
    if (!ns)
        return sf;
    if (!(sim->cfg.oncs & NVME_ONCS_WRITE_UNC) || ns->zoned)
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint64_t slba;
    uint32_t nlb;
    if ((sf = lba_range(ns, sqe, &slba, &nlb)))
        return sf;
    if ((uint64_t)nlb * ns->lba_size > sim_size_limit_bytes(sim, sim->cfg.wusl))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if (sim_ns_unc_mark(ns, slba, nlb) < 0)
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    sim->st.write_uncor++;
    sim->st.uncor_blocks += nlb;
    return 0;
}

/* Verify (NVM CS 1.0 §3.2.5): reads the blocks, checks PI when asked,
 * moves no data. */
static uint16_t verify(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t sf = 0;
    struct sim_ns *ns = io_ns(sim, sqe, &sf);
    if (!ns)
        return sf;
    if (!(sim->cfg.oncs & NVME_ONCS_VERIFY))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint64_t slba;
    uint32_t nlb;
    if ((sf = lba_range(ns, sqe, &slba, &nlb)))
        return sf;
    if ((uint64_t)nlb * ns->lba_size > sim_size_limit_bytes(sim, sim->cfg.vsl))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    /* "If the PRACT bit is not cleared to 0 then the controller shall
     * abort the command with a status of Invalid Field in Command" (NVM
     * CS 1.0 Figure 55). */
    if (sqe->cdw12 & NVME_RW_PRACT)
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if ((sf = sim_pi_flags_check(ns, sqe, slba))) /* as a Read's (§5.3.3) */
        return sf;
    if (sim_ns_unc_any(ns, slba, nlb))
        return SIM_SF_UNCOR;
    if (dulbe_hit(ns, slba, nlb))
        return SIM_SF_DULB;
    if (ns->pi_type && (sqe->cdw12 & (NVME_RW_PRCHK_GUARD | NVME_RW_PRCHK_REF))) {
        uint8_t *data = malloc(ns->lba_size), *md = malloc(ns->ms);
        for (uint32_t i = 0; !sf && data && md && i < nlb; i++) {
            if (sim_ns_io(ns, slba + i, 1, data, false) < 0 ||
                sim_ns_md_io(ns, slba + i, 1, md, false) < 0)
                sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ);
            else
                sf = pi_check(sim, ns, md, data, sim_pi_ilbrt(ns, sqe) + i, sqe->cdw12);
        }
        free(data), free(md);
    }
    if (!sf) {
        sim->st.verifies++;
        sim->st.fua_verifies += (sqe->cdw12 & NVME_RW_FUA) != 0;
    }
    return sf;
}

/* Dataset Management (NVM CS §3.2.3): NR+1 16-byte ranges through the
 * PRPs; with AD (CDW11 bit 2) the blocks are deallocated and read back
 * as zeros (DLFEAT 001b). */
static uint16_t dsm(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t sf = 0;
    struct sim_ns *ns = io_ns(sim, sqe, &sf);
    if (!ns)
        return sf;
    if (!(sim->cfg.oncs & NVME_ONCS_DSM))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    unsigned nr = (sqe->cdw10 & 0xff) + 1;
    struct nvme_dsm_range r[256];
    if ((sf = sim_prp_copy(sim, sqe, r, nr * sizeof(r[0]), false)))
        return sf;
    for (unsigned i = 0; i < nr; i++)
        if (r[i].nlb && (r[i].slba >= ns->blocks || r[i].nlb > ns->blocks - r[i].slba))
            return SIM_SF_GEN(NVME_SC_LBA_RANGE);
    uint64_t total = 0;
    for (unsigned i = 0; i < nr; i++)
        total += r[i].nlb;
    if ((sqe->cdw11 & NVME_DSM_AD) &&
        ((sim->cfg.dmrl && nr > sim->cfg.dmrl) || (sim->cfg.dmsl && total > sim->cfg.dmsl)))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    sim->st.dsm_cmds++;
    sim->st.dsm_ranges += nr;
    if (!(sqe->cdw11 & NVME_DSM_AD))
        return 0;
    for (unsigned i = 0; i < nr; i++) {
        if (sim->cfg.dmrsl && r[i].nlb > sim->cfg.dmrsl) {
            sim->st.dsm_skipped++; /* as QEMU 7.2: skipped, no error */
            continue;
        }
        for (uint64_t done = 0; done < r[i].nlb;) {
            uint64_t n = r[i].nlb - done < 64 ? r[i].nlb - done : 64;
            sim_ns_dealloc(ns, r[i].slba + done, n);
            if (ns->ms) {
                uint8_t *md = calloc(n, ns->ms);
                if (md)
                    sim_ns_md_io(ns, r[i].slba + done, n, md, true);
                free(md);
            }
            done += n;
        }
        sim->st.deallocated_blocks += r[i].nlb;
    }
    return 0;
}

/* Copy's PRINFOR and PRINFOW moved to a Read's and Write's CDW12 bits
 * (29:26), and its initial reference tag. */
struct sim_copy_pi {
    uint32_t r, w;
    uint64_t ilbrt;
};

/* A Source Range Entry of either descriptor format, as read. */
struct sim_copy_src {
    uint64_t slba, eilbrt;
    uint32_t nlb; /* 1-based */
};

/* Format 0h (32 bytes) or 1h (40 bytes) entries: SLBA and NLB alike; the
 * EILBRT of 0h little endian at byte 24, of 1h the low 48 bits of the
 * 80-bit field at bytes 35:26 taken big endian, as QEMU 7.2 reads them
 * (nvme_copy_source_range_parse). */
static void copy_entries_parse(const uint8_t *raw, unsigned nr, bool f1, struct sim_copy_src *r)
{
    const size_t esize = f1 ? sizeof(struct nvme_copy_range_f1) : sizeof(struct nvme_copy_range);
    for (unsigned i = 0; i < nr; i++) {
        const uint8_t *e = raw + i * esize;
        struct nvme_copy_range f0;
        memcpy(&f0, e, sizeof(f0)); /* the first 18 bytes are the same in 1h */
        r[i].slba = f0.slba;
        r[i].nlb = (uint32_t)f0.nlb + 1u;
        r[i].eilbrt = f0.eilbrt;
        if (f1) {
            r[i].eilbrt = 0;
            for (unsigned b = 30; b < 36; b++)
                r[i].eilbrt = r[i].eilbrt << 8 | e[b];
        }
    }
}

/* Each PRINFO as sim_pi_flags_check takes a Read's or a Write's: the
 * sources' with their entries' EILBRT, the destination's with ILBRT. */
static uint16_t copy_prinfo_check(const struct sim_ns *ns, const struct nvme_sqe *sqe,
                                  const struct sim_copy_pi *cp, const struct sim_copy_src *r,
                                  unsigned nr, uint64_t dlba)
{
    struct nvme_sqe one = *sqe;
    one.cdw12 = cp->w;
    uint16_t sf = sim_pi_flags_check(ns, &one, dlba);
    one.cdw12 = cp->r;
    for (unsigned i = 0; i < nr && !sf; i++) {
        one.cdw14 = (uint32_t)r[i].eilbrt;
        one.cdw3 = (uint32_t)(r[i].eilbrt >> 32) & 0xffffu;
        sf = sim_pi_flags_check(ns, &one, r[i].slba);
    }
    return sf;
}

/* Copy (NVM CS §3.3.1): NR + 1 Source Range Entries of descriptor format
 * 0h (32 bytes) or 1h (40 bytes, cfg.copy_format0_only clear) through the
 * PRPs, each range at most MSSRL blocks, at
 * most MSRC + 1 of them and MCL blocks in all (else Command Size Limit
 * Exceeded, as QEMU answers); on a zoned namespace a source range across
 * a zone boundary is a Zone Boundary Error; every source is read before the
 * destination is written, metadata with its blocks. */
static uint16_t copy(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint16_t sf = 0;
    struct sim_ns *ns = io_ns(sim, sqe, &sf);
    if (!ns)
        return sf;
    if (!(sim->cfg.oncs & NVME_ONCS_COPY))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    const uint16_t limit = (uint16_t)(NVME_SF(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CMD_SIZE_LIMIT) |
                                      NVME_SF_DNR_BIT);
    unsigned format = (sqe->cdw12 >> 8) & 0xfu;
    if (format > (sim->cfg.copy_format0_only ? 0u : 1u))
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    /* Format 1h is for the 32b and 64b Guard PI formats, 0h for the
     * 16b Guard one, PI enabled or not: else Invalid Format, as QEMU's
     * nvme_copy answers. */
    if ((format == 1u) != (ns->pif != NVME_PIF_16B_GUARD))
        return (uint16_t)(NVME_SF(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_FORMAT) |
                          NVME_SF_DNR_BIT);
    unsigned nr = (sqe->cdw12 & 0xffu) + 1u;
    if (nr > sim->cfg.msrc + 1u)
        return limit;
    uint8_t raw[256 * sizeof(struct nvme_copy_range_f1)];
    const size_t esize = format ? sizeof(struct nvme_copy_range_f1)
                                : sizeof(struct nvme_copy_range);
    if ((sf = sim_prp_copy(sim, sqe, raw, nr * esize, false)))
        return sf;
    struct sim_copy_src r[256];
    copy_entries_parse(raw, nr, format == 1u, r);
    uint64_t total = 0;
    for (unsigned i = 0; i < nr; i++) {
        uint64_t nlb = r[i].nlb;
        if (nlb > sim->cfg.mssrl)
            return limit;
        if (r[i].slba >= ns->blocks || nlb > ns->blocks - r[i].slba)
            return SIM_SF_GEN(NVME_SC_LBA_RANGE);
        if (dulbe_hit(ns, r[i].slba, nlb)) /* as QEMU's nvme_copy, per range */
            return SIM_SF_DULB;
        /* A source range is read as a Read is: across zones it is a Zone
         * Boundary Error (OZCS bit 0 clear), as QEMU's nvme_copy checks
         * each range (nvme_check_zone_read). */
        if (ns->zoned && r[i].slba / ns->zone_size != (r[i].slba + nlb - 1) / ns->zone_size)
            return SIM_SF_CMD(NVME_SC_ZONE_BOUNDARY);
        total += nlb;
    }
    if (total > sim->cfg.mcl)
        return limit;
    uint64_t dlba = ((uint64_t)sqe->cdw11 << 32) | sqe->cdw10;
    if (dlba >= ns->blocks || total > ns->blocks - dlba)
        return SIM_SF_GEN(NVME_SC_LBA_RANGE);
    if (ns->zoned && (sf = sim_zns_write_check(sim, ns, dlba, (uint32_t)total)))
        return sf;
    /* PRINFOR (CDW12 15:12) is the sources' PRINFO as a Read's, PRINFOW
     * (29:26) the destination's as a Write's (NVM CS 1.0 §3.2.6), checked
     * as those are, the reference tags from each entry's EILBRT and from
     * ILBRT.  QEMU 7.2 also refuses two PRACT bits that differ. */
    const struct sim_copy_pi cp = {(sqe->cdw12 >> 12 & 0xfu) << 26, sqe->cdw12 & 0xfu << 26,
                                   sim_pi_ilbrt(ns, sqe)};
    if (ns->pi_type && (cp.r & NVME_RW_PRACT) != (cp.w & NVME_RW_PRACT)) /* as QEMU 7.2 */
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    if ((sf = copy_prinfo_check(ns, sqe, &cp, r, nr, dlba)))
        return sf;
    uint8_t *data = malloc((size_t)total * ns->lba_size);
    uint8_t *md = ns->ms ? malloc((size_t)total * ns->ms) : NULL;
    if (!data || (ns->ms && !md)) {
        free(data), free(md);
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    }
    uint64_t at = 0;
    for (unsigned i = 0; i < nr && !sf; i++) {
        uint32_t nlb = r[i].nlb;
        if (sim_ns_unc_any(ns, r[i].slba, nlb))
            sf = SIM_SF_UNCOR;
        else if (sim_ns_io(ns, r[i].slba, nlb, data + at * ns->lba_size, false) < 0 ||
                 (ns->ms && sim_ns_md_io(ns, r[i].slba, nlb, md + at * ns->ms, false) < 0))
            sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ);
        for (uint32_t k = 0; !sf && ns->pi_type && cp.r != 0 && k < nlb; k++)
            sf = pi_check(sim, ns, md + (at + k) * ns->ms, data + (at + k) * ns->lba_size,
                          r[i].eilbrt + k, cp.r);
        at += nlb;
    }
    for (uint64_t k = 0; !sf && ns->pi_type && k < total; k++) {
        uint8_t *bmd = md + k * ns->ms, *bd = data + k * ns->lba_size;
        if (cp.w & NVME_RW_PRACT) {
            sim_pi_put(ns, bmd, bd, cp.ilbrt + k);
            sim->st.pi_generated++;
        } else {
            sf = pi_check(sim, ns, bmd, bd, cp.ilbrt + k, cp.w);
        }
    }
    if (!sf && (sim_ns_io(ns, dlba, (uint32_t)total, data, true) < 0 ||
                (ns->ms && sim_ns_md_io(ns, dlba, (uint32_t)total, md, true) < 0)))
        sf = (uint16_t)NVME_SF(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
    free(data), free(md);
    if (sf)
        return sf;
    if (ns->zoned)
        sim_zns_written(ns, dlba, (uint32_t)total);
    sim->st.copies++;
    sim->st.copied_blocks += total;
    return 0;
}

uint16_t sim_nvm_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    if (sqe->flags & 0xc3) /* fused operations and SGLs are not supported */
        return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    /* Every I/O command but Flush (which also takes FFFFFFFFh) names one
     * active namespace, checked before its opcode, as QEMU's nvme_io_cmd:
     * an inactive NSID is Invalid Field in Command (before: Invalid
     * Namespace or Format, as for an invalid one). */
    uint16_t sf = 0;
    if (sqe->opc != NVME_CMD_FLUSH && !sim_ns_active(sim, sqe->nsid, &sf))
        return sf;
    sf = sim_resv_io_check(sim, sqe);
    if (sf)
        return sf;
    /* NSATTR bit 0: "all write access to the namespace shall fail"
     * (NVMe 1.4 Figure 245), Namespace is Write Protected (Figure 126). */
    uint8_t o = sqe->opc;
    if (o == NVME_CMD_WRITE || o == NVME_CMD_WRITE_UNCOR || o == NVME_CMD_WRITE_ZEROES ||
        o == NVME_CMD_DSM || o == NVME_CMD_COPY || o == NVME_CMD_ZONE_APPEND ||
        o == NVME_CMD_ZONE_MGMT_SEND) {
        const struct sim_ns *wns = sim_ns_find(sim, sqe->nsid);
        if (wns && wns->write_protected)
            return SIM_SF_GEN(NVME_SC_NS_WRITE_PROTECTED);
    }
    switch (sqe->opc) {
    case NVME_CMD_READ:
        return read_write(sim, sqe, NVME_CMD_READ);
    case NVME_CMD_WRITE:
        return read_write(sim, sqe, NVME_CMD_WRITE);
    case NVME_CMD_COMPARE:
        if (!(sim->cfg.oncs & NVME_ONCS_COMPARE))
            return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
        return read_write(sim, sqe, NVME_CMD_COMPARE);
    case NVME_CMD_FLUSH:
        return flush(sim, sqe);
    case NVME_CMD_WRITE_ZEROES:
        return write_zeroes(sim, sqe);
    case NVME_CMD_VERIFY:
        return verify(sim, sqe);
    case NVME_CMD_WRITE_UNCOR:
        return write_uncor(sim, sqe);
    case NVME_CMD_DSM:
        return dsm(sim, sqe);
    case NVME_CMD_COPY:
        return copy(sim, sqe);
    case NVME_CMD_ZONE_APPEND:
        return sim_zns_append(sim, sqe, dw0);
    case NVME_CMD_ZONE_MGMT_SEND:
        return sim_zns_send(sim, sqe);
    case NVME_CMD_ZONE_MGMT_RECV:
        return sim_zns_recv(sim, sqe);
    case NVME_CMD_RESV_REGISTER:
    case NVME_CMD_RESV_REPORT:
    case NVME_CMD_RESV_ACQUIRE:
    case NVME_CMD_RESV_RELEASE:
        return sim_resv_exec(sim, sqe);
    default:
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    }
}
