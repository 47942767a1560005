/* SPDX-License-Identifier: MIT */
/*
 * hmb.c - the Host Memory Buffer's memory (NVMe 1.4 §8, Host Memory
 * Buffer): controllers without DRAM of their own ask for host memory
 * (Identify HMPRE, at least HMMIN, in pieces of at least HMMINDS, at most
 * HMMAXD pieces; all in 4 KiB units).  Here: chunks of DMA memory and the
 * descriptor list that names them.  recovery.c gives them to the
 * controller (Set Features 0Dh) at every start and takes them back at
 * nvme_ctrl_fini; they are freed with the controller
 * (nvme_ctrl_release), once it let go of them, or when it refused them.
 * The CPU never reads or writes the chunks.  As Linux's
 * nvme_alloc_host_mem: chunks of 2 MiB (larger when HMMINDS or HMMAXD
 * need them), halved while the memory cannot be had (back to 2 MiB, and
 * to the least that still makes HMMIN in HMMAXD chunks), and no buffer
 * rather than one below HMMIN.
 */
#include "nvme_internal.h"

#define NVME_HMB_CHUNK_MAX (2u * 1024u * 1024u)
#define NVME_HMB_DEFAULT_MIB 128u

static void nvme_hmb_free_chunks(struct nvme_ctrl *ctrl)
{
    const struct nvme_osal *o = &ctrl->osal;
    /* Sizes from the core's own record, not the descriptor list's BSIZE:
     * the list is memory the device can write (untrusted). */
    for (uint32_t i = 0; i < ctrl->hmb_count; i++)
        o->dma_free(o->ctx, ctrl->hmb_chunk[i].mem, ctrl->hmb_chunk[i].len);
    ctrl->hmb_count = 0;
    ctrl->hmb_bytes = 0;
}

/* Chunks of `chunk` bytes, at most `want` bytes in all (the cap, HMPRE)
 * and hmb_cap chunks, the last one cut to what is left as Linux's
 * nvme_alloc_host_mem_multi does, or, when it would leave less than a
 * piece (HMMINDS), the last two cut to a piece and the rest (or the rest
 * with the one before), since HMPRE is in 4 KiB units: rounded
 * up to a memory page (HSIZE and BSIZE count pages; with pages above
 * 4 KiB a page more than HMPRE, never less than HMMIN), at least `least`
 * bytes (HMMINDS); kept when they make at least `min` bytes, else given
 * back. */
static bool nvme_hmb_try(struct nvme_ctrl *ctrl, uint32_t chunk, uint64_t want, uint64_t min,
                         uint64_t least)
{
    const struct nvme_osal *o = &ctrl->osal;
    uint64_t have = 0;
    while (have < want && ctrl->hmb_count < ctrl->hmb_cap) { /* never past the cap */
        /* What a piece of `chunk` would leave, when below HMMINDS (a piece
         * that small is no usable piece: HMMINDS, Identify Controller,
         * Figure 247), takes what it lacks from this one when this one
         * stays a piece and a descriptor is left for it (4.5 MiB in pieces
         * of at least 1.25 MiB is 2 + 1.25 + 1.25 MiB: no piece above the
         * chunk, which the allocator may not give), else goes with it (5
         * MiB in pieces of at least 2 MiB is 2 + 3 MiB). */
        uint64_t left = want - have;
        uint32_t len = chunk;
        if (left <= chunk || (left - chunk < least && left <= 0x80000000u)) {
            len = ((uint32_t)left + ctrl->page_size - 1u) & ~(ctrl->page_size - 1u);
            if (len > chunk && left - least >= least && ctrl->hmb_count + 2u <= ctrl->hmb_cap)
                len = (uint32_t)(left - least) & ~(ctrl->page_size - 1u); /* least..chunk */
        }
        if (len < least) /* HMMINDS: less than a piece is no piece */
            break;
        uint64_t bus;
        void *p = o->dma_alloc(o->ctx, len, ctrl->page_size, &bus);
        if (p == NULL)
            break;
        if ((bus & (ctrl->page_size - 1u)) != 0) { /* BADD: memory page aligned */
            o->dma_free(o->ctx, p, len);
            break;
        }
        /* Never written by the CPU: cleaned once, so no dirty line of an
         * earlier owner lands on the controller's data later (nvme_osal.h,
         * non-coherent rule 2). */
        nvme_dma_sync(ctrl, p, len, NVME_DMA_TO_DEVICE);
        ctrl->hmb_chunk[ctrl->hmb_count++] = (struct nvme_hmb_chunk){p, bus, len};
        have += len;
        ctrl->hmb_bytes = have;
    }
    if (have != 0 && have >= min)
        return true;
    nvme_hmb_free_chunks(ctrl);
    return false;
}

void nvme_hmb_alloc(struct nvme_ctrl *ctrl)
{
    const struct nvme_osal *o = &ctrl->osal;
    if (ctrl->hmpre == 0 || ctrl->opts.no_host_memory || ctrl->hmb_descs != NULL)
        return;
    uint64_t cap = (uint64_t)(ctrl->opts.host_memory_max_mib != 0 ? ctrl->opts.host_memory_max_mib
                                                                  : NVME_HMB_DEFAULT_MIB)
                   << 20;
    uint64_t want = (uint64_t)ctrl->hmpre << 12, min = (uint64_t)ctrl->hmmin << 12;
    if (want > cap)
        want = cap;
    if (want < min) {
        nvme_log(ctrl, NVME_LOG_INFO,
                 "Host Memory Buffer: the controller needs %llu KiB, %llu KiB allowed: none given",
                 (unsigned long long)(min >> 10), (unsigned long long)(want >> 10));
        return;
    }
    uint32_t cap_desc = ctrl->page_size / (uint32_t)sizeof(struct nvme_hmb_desc);
    uint16_t hmmaxd = NVME_READ_ONCE(ctrl->hmmaxd); /* once: a firmware's notice may change it */
    if (hmmaxd != 0 && hmmaxd < cap_desc)
        cap_desc = hmmaxd;
    ctrl->hmb_descs = o->dma_alloc(o->ctx, ctrl->page_size, ctrl->page_size, &ctrl->hmb_descs_bus);
    ctrl->hmb_chunk = o->mem_alloc(o->ctx, sizeof(*ctrl->hmb_chunk) * cap_desc);
    ctrl->hmb_cap = cap_desc;
    if (ctrl->hmb_descs == NULL || ctrl->hmb_chunk == NULL ||
        (ctrl->hmb_descs_bus & 15u) != 0) { /* HMDLLA: 16-byte aligned */
        nvme_hmb_free(ctrl);
        return;
    }
    /* The smallest chunk: a memory page, or HMMINDS when larger, in whole
     * pages (BSIZE counts them).  The largest: 2 MiB, or that smallest
     * one when HMMINDS asks for more (Linux starts at 4 MiB and never
     * goes below HMMINDS); none when even one such piece is past HMPRE. */
    uint64_t least = (uint64_t)ctrl->hmminds << 12;
    if (least < ctrl->page_size)
        least = ctrl->page_size;
    least = (least + ctrl->page_size - 1u) & ~(uint64_t)(ctrl->page_size - 1u);
    uint32_t chunk = NVME_HMB_CHUNK_MAX < ctrl->page_size ? ctrl->page_size : NVME_HMB_CHUNK_MAX;
    if (least > chunk && least <= want && least <= 0x80000000u)
        chunk = (uint32_t)least;
    while (chunk / 2u >= least && chunk > want) /* no 2 MiB for a 64 KiB (or 3 MiB) buffer */
        chunk /= 2u;
    /* At most cap_desc pieces (HMMAXD, a page of descriptors): when that
     * many of this size hold less than the buffer, larger ones, in whole
     * pages, so that cap_desc of them hold it (at most 2 GiB each; Linux
     * starts at 4 MiB): 2 MiB pieces would give a controller needing
     * 8 MiB in 2 of them none. */
    uint64_t fit = nvme_u64_divmod(want + cap_desc - 1u, cap_desc, NULL);
    fit = (fit + ctrl->page_size - 1u) & ~(uint64_t)(ctrl->page_size - 1u);
    if (fit > 0x80000000u)
        fit = 0x80000000u;
    if (fit > chunk)
        chunk = (uint32_t)fit;
    /* Halved in whole pages (BSIZE counts them): a piece of 3 pages is
     * tried as 1 next, never as 1.5.  Pieces grown past 2 MiB that cannot
     * be had fall back to 2 MiB, not to half their size; and a half of
     * which cap_desc pieces make less than HMMIN (none ever would) to the
     * smallest piece of which cap_desc make it: 36 MiB in 12 pieces of
     * 3 MiB, then 1.5 MiB (18 MiB) below an HMMIN of 20 MiB gave none
     * where the memory was there in 2 MiB (24 MiB) or 1.67 MiB pieces.
     * HMMINDS itself is tried last. */
    uint64_t need = nvme_u64_divmod(min + cap_desc - 1u, cap_desc, NULL);
    need = (need + ctrl->page_size - 1u) & ~(uint64_t)(ctrl->page_size - 1u);
    while (chunk >= least && !nvme_hmb_try(ctrl, chunk, want, min, least)) {
        uint32_t next = (chunk / 2u) & ~(ctrl->page_size - 1u);
        if (chunk > NVME_HMB_CHUNK_MAX && next < NVME_HMB_CHUNK_MAX)
            next = NVME_HMB_CHUNK_MAX;
        if ((uint64_t)next * cap_desc < min && need > next && need < chunk)
            next = (uint32_t)need;         /* below chunk: at most 2 GiB */
        if (next < least && chunk > least) /* the smallest piece, last */
            next = (uint32_t)least;
        chunk = next;
    }
    if (ctrl->hmb_count == 0) {
        nvme_log(ctrl, NVME_LOG_WARN, "Host Memory Buffer: %llu KiB of DMA memory not had: none",
                 (unsigned long long)(want >> 10));
        nvme_hmb_free(ctrl);
    }
}

/* The list (§5.21.1.13, Host Memory Buffer Descriptor Entry: BADD, BSIZE
 * in memory pages) from the core's record, never from what the list
 * holds: a device that wrote it (memory it can write, so untrusted) would
 * be handed pieces of other sizes or places at the next enable.  The
 * device may have written it: invalidate, then write, then clean
 * (nvme_osal.h, non-coherent rules 3-4). */
void nvme_hmb_list(struct nvme_ctrl *ctrl)
{
    nvme_dma_sync(ctrl, ctrl->hmb_descs, ctrl->page_size, NVME_DMA_FROM_DEVICE);
    nvme_memzero(ctrl->hmb_descs, ctrl->page_size);
    for (uint32_t i = 0; i < ctrl->hmb_count; i++) {
        ctrl->hmb_descs[i].badd = ctrl->hmb_chunk[i].bus;
        ctrl->hmb_descs[i].bsize = nvme_div32(ctrl->hmb_chunk[i].len, ctrl->page_size);
    }
    nvme_dma_sync(ctrl, ctrl->hmb_descs, ctrl->page_size, NVME_DMA_TO_DEVICE);
}

/* Also a buffer the controller refused (Set Features 0Dh with EHM
 * completed with a status: a failed Set Features changes nothing, so it
 * stays disabled as a start left it, NVMe 2.0 §5.27.1.10), memory it cannot
 * own: back to the port at once, as Linux's nvme_setup_host_mem frees it
 * (before: up to 128 MiB held until the controller was stopped, and a
 * refused MR=1 sent again at every reset).  Memory freed is none the
 * controller can get back (MR): the next restart has one again (as
 * Linux's next reset), given MR clear (nvme_hmb_refit). */
void nvme_hmb_free(struct nvme_ctrl *ctrl)
{
    const struct nvme_osal *o = &ctrl->osal;
    if (ctrl->hmb_chunk != NULL) {
        nvme_hmb_free_chunks(ctrl);
        o->mem_free(o->ctx, ctrl->hmb_chunk, sizeof(*ctrl->hmb_chunk) * ctrl->hmb_cap);
    }
    if (ctrl->hmb_descs != NULL)
        o->dma_free(o->ctx, ctrl->hmb_descs, ctrl->page_size);
    ctrl->hmb_chunk = NULL;
    ctrl->hmb_descs = NULL;
    ctrl->hmb_on = false;
    ctrl->hmb_given = false;
    ctrl->info.hmb_kib = 0;
    NVME_WRITE_ONCE(ctrl->hmb_recheck, true);
}

/* Whether the buffer is one the controller's Identify fields take now
 * (Identify Controller, Figure 247): HMPRE not 0, at least HMMIN, at most
 * HMMAXD pieces of at least HMMINDS each. */
static bool nvme_hmb_fits(const struct nvme_ctrl *ctrl)
{
    if (ctrl->hmpre == 0 || ctrl->hmb_bytes < (uint64_t)ctrl->hmmin << 12 ||
        (ctrl->hmmaxd != 0 && ctrl->hmb_count > ctrl->hmmaxd))
        return false;
    for (uint32_t i = 0; i < ctrl->hmb_count; i++)
        if (ctrl->hmb_chunk[i].len < (uint64_t)ctrl->hmminds << 12)
            return false;
    return true;
}

/* A new firmware (activated by the reset, or earlier without one) may
 * want another buffer: one below its HMMIN, in more pieces than its
 * HMMAXD or smaller than its HMMINDS, would be refused at every enable
 * (Invalid Field), the controller left without one until the next
 * bring-up; one it no longer asks for (HMPRE 0) is memory for nothing.
 * As Linux's nvme_setup_host_mem at each reset (it frees one below the
 * new HMMIN and allocates again): freed, the reset having taken it back
 * (the caller's rule), and had again to the new fields, given with MR
 * clear (new memory, §5.27.1.10).  A buffer they still take is kept and
 * returned (MR). */
void nvme_hmb_refit(struct nvme_ctrl *ctrl)
{
    if (!NVME_READ_ONCE(ctrl->hmb_recheck))
        return;
    if (ctrl->hmb_count != 0 && nvme_hmb_fits(ctrl)) {
        NVME_WRITE_ONCE(ctrl->hmb_recheck, false);
        return;
    }
    if (ctrl->hmb_count != 0)
        nvme_log(ctrl, NVME_LOG_INFO,
                 "Host Memory Buffer: HMPRE %u HMMIN %u HMMINDS %u HMMAXD %u now: had again",
                 ctrl->hmpre, ctrl->hmmin, ctrl->hmminds, ctrl->hmmaxd);
    /* Checked again at the next restart until one is had that fits (as
     * Linux's nvme_setup_host_mem at every reset). */
    nvme_hmb_free(ctrl);
    nvme_hmb_alloc(ctrl);
}
