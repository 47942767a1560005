/* SPDX-License-Identifier: MIT */
/*
 * sim_dma.c - the IOMMU-like table and PRP walking.
 *
 * The device may touch host memory only inside regions the OSAL handed
 * out (dma_alloc) or registered (dma_map), in the registered direction.
 * Bus addresses are virtual addresses XOR NVME_SIM_BUS_XOR.
 *
 * Released regions are remembered (tombstones) so that a late device
 * access to memory the host handed back counts as dma_after_return, not as
 * a violation; such accesses are never performed.  After the OSAL's
 * dma_stop nothing is performed at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

uint64_t sim_va_to_bus(const void *va) { return (uint64_t)(uintptr_t)va ^ NVME_SIM_BUS_XOR; }

static uint8_t *bus_to_va(uint64_t bus) { return (uint8_t *)(uintptr_t)(bus ^ NVME_SIM_BUS_XOR); }

void *sim_region_add(struct nvme_sim *sim, void *va, size_t len, size_t asked,
                     enum nvme_dma_dir dir, enum sim_region_kind kind)
{
    if (sim->rg_count == sim->rg_cap) {
        size_t ncap = sim->rg_cap ? sim->rg_cap * 2 : 64;
        struct sim_region *n = realloc(sim->rg, ncap * sizeof(*n));
        if (!n)
            return NULL;
        sim->rg = n;
        sim->rg_cap = ncap;
    }
    sim_held_due(sim);
    sim->rg[sim->rg_count++] = (struct sim_region){
        .va = va, .len = len, .asked = asked, .dir = dir, .kind = kind, .id = ++sim->rg_next_id};
    if (sim->cfg.noncoherent && kind != SIM_RG_FIRMWARE)
        sim_cache_track(sim, va, len);
    /* The memory has a new owner: it is no longer "handed back". */
    uint8_t *p = va;
    for (size_t i = 0; i < sim->tomb_count; i++) {
        struct sim_tomb *t = &sim->tombs[i];
        if (t->len && p < t->va + t->len && t->va < p + len)
            t->len = 0;
    }
    return va;
}

/* Remove the newest region (highest id) matching exactly; -1 when none
 * does.  Several commands may map the same buffer the same way (writes of
 * one block of data): which one unmaps is not known here, so the newest
 * goes and the older ones stay, and a held command keeps a registration
 * from before its fetch (sim_region_alive) while as many as it needs are
 * live.  The array's order is no guide: removal moves the last entry into
 * the hole (before: the last match in the array went, which after such a
 * move could be the held command's, while a newer one stayed, and its
 * next transfer counted a false DMA AFTER RETURN). */
/* va is only compared, but it is the very `void *` dma_free/dma_unmap get:
 * a const here would only add casts at the callers. */
// cppcheck-suppress constParameter
int sim_region_del(struct nvme_sim *sim, void *va, size_t asked, enum nvme_dma_dir dir,
                   enum sim_region_kind kind)
{
    size_t found = sim->rg_count;
    sim_held_due(sim); /* a buffer may have been handed back */
    for (size_t i = 0; i < sim->rg_count; i++) {
        const struct sim_region *r = &sim->rg[i];
        if (r->va == va && r->kind == kind && r->asked == asked &&
            (kind != SIM_RG_MAP || r->dir == dir) &&
            (found == sim->rg_count || r->id > sim->rg[found].id))
            found = i;
    }
    if (found == sim->rg_count)
        return -1;
    struct sim_region *r = &sim->rg[found];
    sim->tombs[sim->tomb_next] = (struct sim_tomb){r->va, r->len};
    sim->tomb_next = (sim->tomb_next + 1) % SIM_TOMBS;
    if (sim->tomb_count < SIM_TOMBS)
        sim->tomb_count++;
    if (sim->cfg.noncoherent && kind != SIM_RG_FIRMWARE)
        sim_cache_untrack(sim, r->va, r->len);
    *r = sim->rg[--sim->rg_count];
    return 0;
}

size_t sim_region_live(const struct nvme_sim *sim)
{
    size_t n = 0;
    for (size_t i = 0; i < sim->rg_count; i++)
        if (sim->rg[i].kind != SIM_RG_FIRMWARE)
            n++;
    return n;
}

static bool region_holds(const struct sim_region *r, const uint8_t *p, size_t len, bool dev_write)
{
    if (dev_write ? r->dir == NVME_DMA_TO_DEVICE : r->dir == NVME_DMA_FROM_DEVICE)
        return false;
    return p >= r->va && len <= r->len && (size_t)(p - r->va) <= r->len - len;
}

bool sim_region_alive(const struct nvme_sim *sim, uint64_t id, uint64_t bus, size_t len,
                      bool dev_write)
{
    for (size_t i = 0; i < sim->rg_count; i++)
        if (sim->rg[i].id <= id && region_holds(&sim->rg[i], bus_to_va(bus), len, dev_write))
            return true;
    return false;
}

/* Id of one region holding all of [bus, bus+len), 0 when none does. */
static uint64_t region_id(const struct nvme_sim *sim, uint64_t bus, size_t len, bool dev_write)
{
    for (size_t i = 0; i < sim->rg_count; i++)
        if (region_holds(&sim->rg[i], bus_to_va(bus), len, dev_write))
            return sim->rg[i].id;
    return 0;
}

static bool in_tomb(const struct nvme_sim *sim, const uint8_t *p)
{
    for (size_t i = 0; i < sim->tomb_count; i++)
        if (sim->tombs[i].len && p >= sim->tombs[i].va && p < sim->tombs[i].va + sim->tombs[i].len)
            return true;
    return false;
}

/* A region allowing a device access of [p, p+1) in the given direction;
 * returns how many bytes from p it covers, 0 when none. */
static size_t region_cover(const struct nvme_sim *sim, const uint8_t *p, bool dev_write)
{
    size_t best = 0;
    for (size_t i = 0; i < sim->rg_count; i++) {
        const struct sim_region *r = &sim->rg[i];
        if (p < r->va || p >= r->va + r->len)
            continue;
        if (dev_write && r->dir == NVME_DMA_TO_DEVICE)
            continue;
        if (!dev_write && r->dir == NVME_DMA_FROM_DEVICE)
            continue;
        size_t left = (size_t)(r->va + r->len - p);
        if (left > best)
            best = left;
    }
    return best;
}

/* Check the whole range [bus, bus+len) against the table (adjacent
 * regions may together cover it).  NULL when the access must not happen:
 * DMA stopped (not counted), memory handed back (dma_after_return) or a
 * violation. */
static uint8_t *dma_check(struct nvme_sim *sim, uint64_t bus, size_t len, bool dev_write,
                          const char *what)
{
    uint8_t *va = bus_to_va(bus);
    uint8_t *p = va;
    size_t left = len;
    if (sim->dma_stopped)
        return NULL;
    while (left) {
        size_t c = region_cover(sim, p, dev_write);
        if (!c && in_tomb(sim, p)) {
            sim->st.dma_after_return++;
            sim_msg(sim,
                    "DMA AFTER RETURN: device %s %zu bytes at bus 0x%llx for %s: the host "
                    "freed/unmapped that memory; access skipped",
                    dev_write ? "write of" : "read of", len, (unsigned long long)bus, what);
            return NULL;
        }
        if (!c) {
            sim->st.dma_violations++;
            sim_msg(
                sim,
                "DMA VIOLATION: device %s %zu bytes at bus 0x%llx (va %p) for %s: "
                "not %s memory of the OSAL",
                dev_write ? "write of" : "read of", len, (unsigned long long)bus, (void *)va, what,
                dev_write ? "allocated or FROM_DEVICE-mapped" : "allocated or TO_DEVICE-mapped");
            return NULL;
        }
        if (c > left)
            c = left;
        p += c;
        left -= c;
    }
    return va;
}

bool sim_in_alloc(const struct nvme_sim *sim, const void *va, size_t len)
{
    const uint8_t *p = va;
    for (size_t i = 0; i < sim->rg_count; i++) {
        const struct sim_region *r = &sim->rg[i];
        if (r->kind == SIM_RG_ALLOC && p >= r->va && len <= r->len &&
            (size_t)(p - r->va) <= r->len - len)
            return true;
    }
    return false;
}

void sim_dev_copy(struct nvme_sim *sim, uint8_t *va, void *buf, size_t len, bool dev_write,
                  const char *what)
{
    if (sim->cfg.noncoherent)
        sim_cache_dev_copy(sim, va, buf, len, dev_write, what);
    else if (dev_write)
        memcpy(va, buf, len);
    else
        memcpy(buf, va, len);
}

bool sim_dma_probe(struct nvme_sim *sim, uint64_t bus, size_t len, const char *what)
{
    return dma_check(sim, bus, len, false, what) != NULL;
}

bool sim_dma_probe_write(struct nvme_sim *sim, uint64_t bus, size_t len, const char *what)
{
    return dma_check(sim, bus, len, true, what) != NULL;
}

bool sim_dma_read(struct nvme_sim *sim, uint64_t bus, void *dst, size_t len, const char *what)
{
    uint8_t *va = dma_check(sim, bus, len, false, what);
    if (!va)
        return false;
    sim_dev_copy(sim, va, dst, len, false, what);
    return true;
}

bool sim_dma_write(struct nvme_sim *sim, uint64_t bus, const void *src, size_t len,
                   const char *what)
{
    uint8_t *va = dma_check(sim, bus, len, true, what);
    if (!va)
        return false;
    sim_dev_copy(sim, va, (void *)(uintptr_t)src, len, true, what);
    return true;
}

/* One piece of a PRP-described transfer. */
struct prp_seg {
    uint64_t bus;
    size_t len;
};

#define SIM_PRP_OFFSET_INVALID SIM_SF_GEN(NVME_SC_PRP_OFFSET_INVALID)
#define SIM_DATA_XFER_ERROR ((uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR))

/*
 * Build the segment list of a transfer (NVMe 1.4 §4.3, Figures 108-109):
 *  - PRP1 may have a non-zero offset into its memory page; bits 1:0 are 0.
 *  - if the transfer ends inside PRP1's page, PRP2 is unused;
 *  - if it ends inside the next page, PRP2 is that page (offset 0);
 *  - else PRP2 points to a PRP list (qword aligned, may start at an offset
 *    in its page); every entry is a page with offset 0, and the last entry
 *    of a list page points to the next list page when more entries remain.
 *    That pointer is a list entry too, so offset 0 (only PRP2 is "a PRP
 *    List pointer in a command"), else PRP Offset Invalid, as QEMU's
 *    nvme_map_prp; a list page then gives at least ps/8 - 1 entries, so
 *    a chain that loops back still ends (before, a pointer to the last
 *    qword of a page took no entry and could point to itself forever).
 */
static uint16_t prp_walk(struct nvme_sim *sim, const struct nvme_sqe *sqe, size_t len,
                         struct prp_seg *segs, size_t maxsegs, size_t *nsegs)
{
    const uint64_t ps = sim->mps;
    size_t n = 0;
    uint64_t prp1 = sqe->prp1;

    if (prp1 & 3u)
        return SIM_PRP_OFFSET_INVALID;
    size_t first = (size_t)(ps - (prp1 & (ps - 1)));
    if (first > len)
        first = len;
    segs[n++] = (struct prp_seg){prp1, first};
    size_t left = len - first;
    if (!left)
        goto done;

    if (left <= ps) {
        if (sqe->prp2 & (ps - 1))
            return SIM_PRP_OFFSET_INVALID;
        segs[n++] = (struct prp_seg){sqe->prp2, left};
        goto done;
    }

    uint64_t list = sqe->prp2;
    if (list & 7u)
        return SIM_PRP_OFFSET_INVALID;
    size_t entries = (size_t)((left + ps - 1) / ps);
    while (entries) {
        /* Entries that fit from `list` to the end of its page. */
        size_t slots = (size_t)((ps - (list & (ps - 1))) / 8);
        size_t take = entries <= slots ? entries : slots - 1; /* last slot chains */
        uint64_t page[512 * 16];                              /* up to 64 KiB list pages */
        size_t want = entries <= slots ? take : slots;
        if (want > sizeof(page) / sizeof(page[0]))
            return SIM_DATA_XFER_ERROR;
        if (!sim_dma_read(sim, list, page, want * 8, "PRP list"))
            return SIM_DATA_XFER_ERROR;
        for (size_t i = 0; i < take; i++) {
            if (page[i] & (ps - 1))
                return SIM_PRP_OFFSET_INVALID;
            if (n == maxsegs)
                return SIM_SF_GEN(NVME_SC_INVALID_FIELD);
            size_t l = left < ps ? left : (size_t)ps;
            segs[n++] = (struct prp_seg){page[i], l};
            left -= l;
        }
        entries -= take;
        if (entries) {
            list = page[slots - 1];
            if (list & (ps - 1))
                return SIM_PRP_OFFSET_INVALID;
        }
    }
done:
    *nsegs = n;
    return 0;
}

void sim_xfer_free(struct sim_xfer *x)
{
    free(x->segs);
    free(x->data);
    memset(x, 0, sizeof(*x));
}

/* Pseudo-random bytes (xorshift32) for NVME_SIM_FAULT_GARBAGE_DATA. */
static void garbage(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed ? seed : 0x9e3779b9u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* Capture mode (a held command): check and record the segments, keep the
 * data to write again, move nothing now. */
static uint16_t capture(struct nvme_sim *sim, struct prp_seg *segs, size_t n, const void *buf,
                        size_t len, bool to_host)
{
    struct sim_xfer *x = sim->xfer_capture;
    for (size_t i = 0; i < n; i++)
        if (!dma_check(sim, segs[i].bus, segs[i].len, to_host, "held command"))
            return SIM_SF_HELD; /* nothing to repeat */
    x->segs = calloc(n, sizeof(*x->segs));
    x->data = malloc(len);
    if (!x->segs || !x->data) {
        sim_xfer_free(x);
        return SIM_SF_HELD;
    }
    for (size_t i = 0; i < n; i++)
        x->segs[i] = (struct sim_seg){
            segs[i].bus, segs[i].len,
            region_id(sim, segs[i].bus, segs[i].len, to_host) ? sim->rg_next_id : 0};
    x->nsegs = n;
    x->len = len;
    x->to_host = to_host;
    if (to_host)
        memcpy(x->data, buf, len);
    return SIM_SF_HELD;
}

uint16_t sim_prp_copy(struct nvme_sim *sim, const struct nvme_sqe *sqe, void *buf, size_t len,
                      bool to_host)
{
    if (!len)
        return sim->xfer_capture ? SIM_SF_HELD : 0;
    if (sim->dma_stopped)
        return SIM_DATA_XFER_ERROR;
    size_t maxsegs = (size_t)(len / sim->mps) + 2;
    struct prp_seg *segs = malloc(maxsegs * sizeof(*segs));
    if (!segs)
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    size_t n = 0;
    uint16_t sf = prp_walk(sim, sqe, len, segs, maxsegs, &n);
    if (!sf && sim->xfer_capture) {
        sf = capture(sim, segs, n, buf, len, to_host);
        free(segs);
        return sf;
    }
    uint8_t *junk = NULL;
    if (!sf && to_host && sim->garbage_on) {
        junk = malloc(len);
        if (!junk)
            sf = (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
        else
            garbage(junk, len, sim->garbage_seed);
        buf = junk;
    }
    size_t limit = to_host && sim->short_on ? sim->short_len : len;
    /* Check every segment before moving data, so a failing command leaves
     * host memory alone. */
    for (size_t i = 0; !sf && i < n; i++) {
        if (!dma_check(sim, segs[i].bus, segs[i].len, to_host, "data transfer"))
            sf = SIM_DATA_XFER_ERROR;
    }
    uint8_t *p = buf;
    for (size_t i = 0; !sf && i < n && limit; i++) {
        uint8_t *va = bus_to_va(segs[i].bus);
        size_t l = segs[i].len < limit ? segs[i].len : limit;
        sim_dev_copy(sim, va, p, l, to_host, "data transfer");
        p += l;
        limit -= l;
    }
    free(junk);
    free(segs);
    return sf;
}
