/* SPDX-License-Identifier: MIT */
/*
 * sim_cache.c - non-coherent DMA (cfg.noncoherent): a write-back CPU data
 * cache that the device does not snoop, modelled per cache line
 * (cfg.cache_line bytes) over every line of memory the OSAL handed out
 * (dma_alloc blocks, dma_map'd buffers).
 *
 * The process memory is what the CPU sees (its cache); each tracked line
 * also keeps
 *   ram[]  - what the device sees (main memory): device reads come from it,
 *            device writes go to it and nowhere else;
 *   snap[] - the CPU's view at the last clean or invalidate of the line:
 *            a line whose CPU bytes differ from snap holds CPU writes not
 *            yet written back ("dirty");
 *   dev_wrote - the device wrote ram since the CPU last synced the line,
 *            so the CPU's copy is stale.
 * Pessimistic, like the worst real machine: every line the CPU touched is
 * in its cache and may be evicted at any moment.
 *   clean (dma_sync TO_DEVICE, dma_map): a dirty line is written back whole
 *            (ram = CPU bytes).
 *   invalidate (dma_sync FROM_DEVICE, dma_unmap FROM_DEVICE): the CPU's copy
 *            is dropped; the CPU then reads ram.
 * Both work on whole lines: the OSAL rounds every range out, as a port
 * must.  Counted as coherency violations (with a message):
 *   - the device reads bytes the CPU wrote after the line's last clean
 *     (a missing clean before the doorbell: the device sees stale data);
 *   - the device writes a line the CPU holds dirty (a missing clean after
 *     the CPU wrote memory the device is about to write, e.g. zeroing a
 *     buffer the device fills): the line is evicted at once, its write-back
 *     overwrites what the device wrote, and the CPU reads its own stale
 *     bytes later;
 *   - a clean writes back a dirty line the device had written (the CPU
 *     wrote device-written memory without invalidating it first);
 *   - an invalidate drops a dirty line (CPU writes lost: the CPU wrote
 *     memory the device owns, or a line it shares with such memory).
 * Not modelled: a CPU read cannot be seen, so a missing invalidate shows
 * up as stale data (an old phase tag, zeroed identify data), not as a
 * count; a CPU store of the value already there does not make a line dirty.
 * Lines outside every region (the firmware's admin queue) stay coherent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define SIM_CACHE_BUCKETS (1u << 16)

struct sim_line {
    struct sim_line *next; /* hash chain */
    uintptr_t addr;        /* first byte of the line */
    unsigned refs;         /* regions covering part of the line */
    uint32_t lo, hi;       /* bytes [lo, hi) of the line lie in some region: the only
                              CPU bytes the model reads or writes */
    bool dev_wrote;
    uint8_t bytes[]; /* ram[line], then snap[line] */
};

static size_t line_size(const struct nvme_sim *sim) { return sim->cfg.cache_line; }

static uint8_t *ram(struct sim_line *l) { return l->bytes; }

static uint8_t *snap(const struct nvme_sim *sim, struct sim_line *l)
{
    return l->bytes + line_size(sim);
}

static uint8_t *cpu(struct sim_line *l) { return (uint8_t *)l->addr; }

static size_t bucket(const struct nvme_sim *sim, uintptr_t addr)
{
    uint64_t h = (uint64_t)(addr / line_size(sim)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 48) & (SIM_CACHE_BUCKETS - 1u);
}

static struct sim_line *line_find(const struct nvme_sim *sim, uintptr_t addr)
{
    if (!sim->lines)
        return NULL;
    for (struct sim_line *l = sim->lines[bucket(sim, addr)]; l; l = l->next)
        if (l->addr == addr)
            return l;
    return NULL;
}

static bool dirty(const struct nvme_sim *sim, struct sim_line *l)
{
    return memcmp(cpu(l) + l->lo, snap(sim, l) + l->lo, l->hi - l->lo) != 0;
}

static uintptr_t first_line(const struct nvme_sim *sim, const void *va)
{
    return (uintptr_t)va & ~(uintptr_t)(line_size(sim) - 1u);
}

/* Visit every line of [va, va+len) rounded out to lines. */
#define FOR_LINES(sim, va, len, a)                                                                 \
    for (uintptr_t a = first_line(sim, va), a##_end = (uintptr_t)(va) + (len); a < a##_end;        \
         a += line_size(sim))

static void violation(struct nvme_sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void violation(struct nvme_sim *sim, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    sim->st.coherency_violations++;
    sim_alarm(sim, "COHERENCY VIOLATION: %s", line);
}

void sim_cache_track(struct nvme_sim *sim, uint8_t *va, size_t len)
{
    size_t ls = line_size(sim);
    if (!sim->lines) {
        sim->lines = calloc(SIM_CACHE_BUCKETS, sizeof(*sim->lines));
        if (!sim->lines)
            abort();
    }
    FOR_LINES(sim, va, len, a)
    {
        uint32_t lo = (uintptr_t)va > a ? (uint32_t)((uintptr_t)va - a) : 0u;
        uint32_t hi = (uintptr_t)va + len < a + ls ? (uint32_t)((uintptr_t)va + len - a)
                                                   : (uint32_t)ls;
        struct sim_line *l = line_find(sim, a);
        if (!l) {
            /* New to the device: the port cleaned (and invalidated) it when
             * it handed the memory out, so both views agree. */
            l = calloc(1, sizeof(*l) + 2 * ls);
            if (!l)
                abort();
            l->addr = a;
            l->lo = lo;
            l->hi = hi;
            memcpy(ram(l) + lo, cpu(l) + lo, hi - lo);
            memcpy(snap(sim, l) + lo, cpu(l) + lo, hi - lo);
            size_t b = bucket(sim, a);
            l->next = sim->lines[b];
            sim->lines[b] = l;
        } else {
            /* Bytes newly covered start in agreement too. */
            for (uint32_t i = lo; i < hi; i++)
                if (i < l->lo || i >= l->hi)
                    ram(l)[i] = snap(sim, l)[i] = cpu(l)[i];
            if (lo < l->lo)
                l->lo = lo;
            if (hi > l->hi)
                l->hi = hi;
        }
        l->refs++;
    }
}

void sim_cache_untrack(struct nvme_sim *sim, uint8_t *va, size_t len)
{
    FOR_LINES(sim, va, len, a)
    {
        struct sim_line **pp = sim->lines ? &sim->lines[bucket(sim, a)] : NULL;
        while (pp && *pp && (*pp)->addr != a)
            pp = &(*pp)->next;
        if (!pp || !*pp)
            continue;
        struct sim_line *l = *pp;
        if (--l->refs == 0) {
            *pp = l->next;
            free(l);
        }
    }
}

void sim_cache_free(struct nvme_sim *sim)
{
    if (!sim->lines)
        return;
    for (size_t b = 0; b < SIM_CACHE_BUCKETS; b++) {
        while (sim->lines[b]) {
            struct sim_line *l = sim->lines[b];
            sim->lines[b] = l->next;
            free(l);
        }
    }
    free(sim->lines);
    sim->lines = NULL;
}

void sim_cache_clean(struct nvme_sim *sim, const void *va, size_t len, const char *who)
{
    FOR_LINES(sim, va, len, a)
    {
        struct sim_line *l = line_find(sim, a);
        if (!l)
            continue;
        sim->st.cache_cleans++;
        if (!dirty(sim, l))
            continue; /* nothing to write back; a stale clean copy stays stale */
        if (l->dev_wrote)
            violation(sim,
                      "%s: clean of line %p writes back CPU stores over data the device "
                      "wrote there (the CPU wrote device-written memory without invalidating "
                      "it first)",
                      who, (void *)a);
        memcpy(ram(l) + l->lo, cpu(l) + l->lo, l->hi - l->lo);
        memcpy(snap(sim, l) + l->lo, cpu(l) + l->lo, l->hi - l->lo);
        l->dev_wrote = false;
    }
}

void sim_cache_invalidate(struct nvme_sim *sim, const void *va, size_t len, const char *who)
{
    FOR_LINES(sim, va, len, a)
    {
        struct sim_line *l = line_find(sim, a);
        if (!l)
            continue;
        sim->st.cache_invalidates++;
        if (dirty(sim, l))
            violation(sim,
                      "%s: invalidate of line %p drops CPU stores not written back (the "
                      "CPU wrote memory the device owns, or a line shared with it)",
                      who, (void *)a);
        memcpy(cpu(l) + l->lo, ram(l) + l->lo, l->hi - l->lo);
        memcpy(snap(sim, l) + l->lo, ram(l) + l->lo, l->hi - l->lo);
        l->dev_wrote = false;
    }
}

/* One device access, split at line boundaries. */
void sim_cache_dev_copy(struct nvme_sim *sim, uint8_t *va, void *buf, size_t len, bool dev_write,
                        const char *what)
{
    size_t ls = line_size(sim);
    uint8_t *p = buf;
    bool stale = false, clobbered = false;
    uintptr_t stale_at = 0, clobbered_at = 0;
    while (len) {
        uintptr_t a = first_line(sim, va);
        size_t off = (size_t)((uintptr_t)va - a);
        size_t n = ls - off < len ? ls - off : len;
        struct sim_line *l = line_find(sim, a);
        if (!l) {
            if (dev_write)
                memcpy(va, p, n);
            else
                memcpy(p, va, n);
        } else if (!dev_write) {
            if (!stale && memcmp(va, snap(sim, l) + off, n) != 0) {
                stale = true;
                stale_at = (uintptr_t)va;
            }
            memcpy(p, ram(l) + off, n);
        } else {
            memcpy(ram(l) + off, p, n);
            if (dirty(sim, l)) {
                /* The dirty line is evicted: its write-back lands over what
                 * the device just wrote. */
                if (!clobbered) {
                    clobbered = true;
                    clobbered_at = a;
                }
                memcpy(ram(l) + l->lo, cpu(l) + l->lo, l->hi - l->lo);
                memcpy(snap(sim, l) + l->lo, cpu(l) + l->lo, l->hi - l->lo);
                l->dev_wrote = false;
            } else {
                l->dev_wrote = true;
            }
        }
        va += n;
        p += n;
        len -= n;
    }
    if (stale)
        violation(sim,
                  "device read for %s sees stale memory at %p: the CPU wrote it after its "
                  "last clean (dma_sync TO_DEVICE missing before the doorbell)",
                  what, (void *)stale_at);
    if (clobbered)
        violation(sim,
                  "device write for %s into line %p, which the CPU holds dirty: its "
                  "write-back overwrote the device's data (clean missing after the CPU "
                  "wrote memory the device then writes)",
                  what, (void *)clobbered_at);
}
