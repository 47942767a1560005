/* SPDX-License-Identifier: MIT */
/*
 * sim_osal.c - the hosted OSAL (struct nvme_osal, see nvme_osal.h) bound
 * to a simulated controller: MMIO into the register model, DMA memory
 * through the IOMMU table, simulated time, malloc, stderr logging,
 * optional pthread locks, optional wait/wake, dma_stop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define SIM(ctx) ((struct nvme_sim *)(ctx))

/* Consume one armed failure of an OSAL allocator: true = fail this call. */
static bool fail_now(struct nvme_sim *sim, enum nvme_sim_osal_fn fn)
{
    if (sim->fail_skip[fn] < 0)
        return false;
    if (sim->fail_skip[fn]-- == 0)
        return true;
    return false;
}

/* --- MMIO ------------------------------------------------------------------ */

static uint32_t osal_mmio_read32(void *ctx, uint32_t off)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    sim_held_due(sim);
    sim_tick(sim);
    uint32_t v = sim_reg_read(sim, off);
    pthread_mutex_unlock(&sim->mtx);
    return v;
}

static void osal_mmio_write32(void *ctx, uint32_t off, uint32_t val)
{
    struct nvme_sim *sim = SIM(ctx);
    /* writel(): the SQE the core wrote is visible before the doorbell. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    pthread_mutex_lock(&sim->mtx);
    sim_held_due(sim);
    sim_reg_write(sim, off, val);
    pthread_mutex_unlock(&sim->mtx);
}

/* 64-bit accesses are two 32-bit accesses, low half first (§3.1). */
static uint64_t osal_mmio_read64(void *ctx, uint32_t off)
{
    uint64_t lo = osal_mmio_read32(ctx, off);
    return lo | ((uint64_t)osal_mmio_read32(ctx, off + 4) << 32);
}

static void osal_mmio_write64(void *ctx, uint32_t off, uint64_t val)
{
    osal_mmio_write32(ctx, off, (uint32_t)val);
    osal_mmio_write32(ctx, off + 4, (uint32_t)(val >> 32));
}

/* --- DMA --------------------------------------------------------------------- */

static void *osal_dma_alloc(void *ctx, size_t size, size_t align, uint64_t *bus)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    void *va = NULL;
    if (!size || !align || (align & (align - 1))) {
        sim_host_error(sim, "dma_alloc(size %zu, align %zu): bad arguments", size, align);
    } else if (sim->cfg.dma_alloc_max != 0 && size > sim->cfg.dma_alloc_max) {
        /* no contiguous memory that large: a NULL, as a kernel's allocator */
    } else if (!fail_now(sim, NVME_SIM_FAIL_DMA_ALLOC)) {
        /* Whole cache lines: a block shares no line with other memory. */
        size_t a = align < 64 ? 64 : align;
        if (sim->cfg.noncoherent && a < sim->cfg.cache_line)
            a = sim->cfg.cache_line;
        size_t rounded = (size + a - 1) & ~(a - 1);
        va = aligned_alloc(a, rounded);
        if (va) {
            /* Not zeroed on purpose: the contract says the core zeroes it. */
            memset(va, 0xa5, rounded);
            if (!sim_region_add(sim, va, size, size, NVME_DMA_BIDIRECTIONAL, SIM_RG_ALLOC)) {
                free(va);
                va = NULL;
            } else {
                *bus = sim_va_to_bus(va);
            }
        }
    }
    pthread_mutex_unlock(&sim->mtx);
    return va;
}

static void osal_dma_free(void *ctx, void *va, size_t size)
{
    struct nvme_sim *sim = SIM(ctx);
    if (!va)
        return;
    pthread_mutex_lock(&sim->mtx);
    if (sim_region_del(sim, va, size, NVME_DMA_BIDIRECTIONAL, SIM_RG_ALLOC) < 0)
        sim_host_error(sim,
                       "dma_free(%p, %zu) of memory dma_alloc did not return (or another size)", va,
                       size);
    else
        free(va);
    pthread_mutex_unlock(&sim->mtx);
}

/* dma_map registers the caller's buffer (any memory the process owns) for
 * the duration of the transfer; dma_unmap removes it.
 *
 * Non-coherent mode, as nvme_osal.h asks of a port: cache maintenance for
 * caller buffers only (memory of dma_alloc, the core's bounce buffers, is
 * the core's to sync): dma_map cleans the range rounded out to cache lines
 * in every direction, dma_unmap of a FROM_DEVICE or BIDIRECTIONAL mapping
 * invalidates it.  With cfg.bounce_unaligned a FROM_DEVICE piece that does
 * not own whole lines goes through a bounce page instead. */

static bool needs_bounce(const struct nvme_sim *sim, const void *va, size_t len,
                         enum nvme_dma_dir dir)
{
    uintptr_t m = sim->cfg.cache_line - 1u;
    return sim->cfg.noncoherent && sim->cfg.bounce_unaligned && (dir & NVME_DMA_FROM_DEVICE) &&
           (((uintptr_t)va | len) & m) != 0 && !sim_in_alloc(sim, va, len);
}

/* Returns the address the device uses, NULL on failure. */
static uint8_t *bounce_map(struct nvme_sim *sim, uint8_t *va, size_t len, enum nvme_dma_dir dir)
{
    size_t ps = sim->mps ? sim->mps : 4096;
    struct sim_bounce *b = calloc(1, sizeof(*b));
    uint8_t *page = aligned_alloc(ps, ps);
    if (!b || !page) {
        free(b);
        free(page);
        return NULL;
    }
    memset(page, 0x5a, ps);
    *b = (struct sim_bounce){sim->bounces, va, len, dir, page, page + ((uintptr_t)va & (ps - 1u))};
    if (dir & NVME_DMA_TO_DEVICE)
        memcpy(b->dev, va, len);
    if (!sim_region_add(sim, b->dev, len, len, dir, SIM_RG_MAP)) {
        free(page);
        free(b);
        return NULL;
    }
    sim->bounces = b;
    sim->st.bounced_maps++;
    /* page is kept in b->page (the compound literal above) and b in
     * sim->bounces; bounce_unmap frees both: not a leak. */
    // cppcheck-suppress memleak
    return b->dev;
}

static int osal_dma_map(void *ctx, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus)
{
    struct nvme_sim *sim = SIM(ctx);
    int rc = -1;
    pthread_mutex_lock(&sim->mtx);
    if (!va || !len || dir < NVME_DMA_TO_DEVICE || dir > NVME_DMA_BIDIRECTIONAL) {
        sim_host_error(sim, "dma_map(%p, %zu, dir %d): bad arguments", va, len, (int)dir);
    } else if (!fail_now(sim, NVME_SIM_FAIL_DMA_MAP)) {
        uintptr_t a = (uintptr_t)va, ps = sim->mps;
        if ((a & ~(ps - 1)) != ((a + len - 1) & ~(ps - 1)))
            sim_host_error(sim, "dma_map(%p, %zu) crosses a %zu-byte memory page boundary", va, len,
                           (size_t)ps);
        if (needs_bounce(sim, va, len, dir)) {
            uint8_t *dev = bounce_map(sim, va, len, dir);
            if (dev) {
                *bus = sim_va_to_bus(dev);
                rc = 0;
            }
        } else if (sim_region_add(sim, va, len, len, dir, SIM_RG_MAP)) {
            if (sim->cfg.noncoherent && !sim_in_alloc(sim, va, len))
                sim_cache_clean(sim, va, len, "dma_map");
            *bus = sim_va_to_bus(va);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&sim->mtx);
    return rc;
}

static void osal_dma_unmap(void *ctx, void *va, size_t len, enum nvme_dma_dir dir)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    struct sim_bounce **pp = &sim->bounces;
    while (*pp && !((*pp)->va == va && (*pp)->len == len && (*pp)->dir == dir))
        pp = &(*pp)->next;
    if (*pp) {
        struct sim_bounce *b = *pp;
        *pp = b->next;
        sim_cache_invalidate(sim, b->dev, len, "dma_unmap (bounce)");
        if (dir & NVME_DMA_FROM_DEVICE)
            memcpy(va, b->dev, len);
        sim_region_del(sim, b->dev, len, dir, SIM_RG_MAP);
        free(b->page);
        free(b);
    } else {
        if (sim->cfg.noncoherent && (dir & NVME_DMA_FROM_DEVICE) && !sim_in_alloc(sim, va, len))
            sim_cache_invalidate(sim, va, len, "dma_unmap");
        if (sim_region_del(sim, va, len, dir, SIM_RG_MAP) < 0)
            sim_host_error(sim, "dma_unmap(%p, %zu, dir %d) of a buffer that is not mapped so", va,
                           len, (int)dir);
    }
    pthread_mutex_unlock(&sim->mtx);
}

/* Core-owned memory only (dma_alloc): clean for TO_DEVICE, invalidate for
 * FROM_DEVICE, both for BIDIRECTIONAL, each rounded out to whole lines. */
static void osal_dma_sync(void *ctx, void *va, size_t len, enum nvme_dma_dir dir)
{
    struct nvme_sim *sim = SIM(ctx);
    if (!sim->cfg.noncoherent)
        return; /* coherent host */
    pthread_mutex_lock(&sim->mtx);
    sim_held_due(sim); /* the core takes (or hands) its memory */
    if (!va || !len || dir < NVME_DMA_TO_DEVICE || dir > NVME_DMA_BIDIRECTIONAL ||
        !sim_in_alloc(sim, va, len)) {
        sim_host_error(sim, "dma_sync(%p, %zu, dir %d): not inside one dma_alloc block", va, len,
                       (int)dir);
    } else {
        if (dir & NVME_DMA_TO_DEVICE)
            sim_cache_clean(sim, va, len, "dma_sync TO_DEVICE");
        if (dir & NVME_DMA_FROM_DEVICE)
            sim_cache_invalidate(sim, va, len, "dma_sync FROM_DEVICE");
    }
    pthread_mutex_unlock(&sim->mtx);
}

/* --- Bookkeeping memory ------------------------------------------------------- */

static void *osal_mem_alloc(void *ctx, size_t size)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    bool fail = fail_now(sim, NVME_SIM_FAIL_MEM_ALLOC);
    pthread_mutex_unlock(&sim->mtx);
    void *p = fail ? NULL : malloc(size ? size : 1);
    /* Not zeroed, as kmalloc's (fresh heap pages would read as zeroes,
     * and ASan fills only the first 4 KiB): the core initializes it. */
    if (p)
        memset(p, 0x5a, size);
    return p;
}

static void osal_mem_free(void *ctx, void *p, size_t size)
{
    (void)ctx, (void)size;
    free(p);
}

/* --- Interrupts ----------------------------------------------------------------- */

static int osal_irq_setup(void *ctx, unsigned want, bool *is_intx)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    unsigned n = 0;
    bool intx = false;
    switch (sim->cfg.irq_mode) {
    case NVME_SIM_IRQ_MSIX:
        n = want < sim->cfg.irq_vectors ? want : sim->cfg.irq_vectors;
        break;
    case NVME_SIM_IRQ_INTX:
        n = want ? 1 : 0;
        intx = true;
        break;
    case NVME_SIM_IRQ_NONE:
        break;
    }
    sim->irq_granted = n;
    sim->irq_intx = intx && n;
    memset(sim->irq_pending, 0, SIM_MAX_VECTORS);
    pthread_mutex_unlock(&sim->mtx);
    if (is_intx)
        *is_intx = intx && n;
    return (int)n;
}

static void osal_irq_teardown(void *ctx)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    sim->irq_granted = 0;
    sim->irq_intx = false;
    pthread_mutex_unlock(&sim->mtx);
}

/* --- Time --------------------------------------------------------------------------
 * Simulated: now_us advances by cfg.now_tick_us per call so busy loops make
 * progress; sleep_us advances by `us` without sleeping.  Both run the
 * controller's due work; sleep_us also delivers pending interrupts. */

static uint64_t osal_now_us(void *ctx)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    sim->now += sim->cfg.now_tick_us;
    sim_idle_tick(sim);
    uint64_t t = sim->now;
    pthread_mutex_unlock(&sim->mtx);
    return t;
}

static void osal_sleep_us(void *ctx, uint32_t us)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    if (us > 10000)
        sim_host_error(sim, "sleep_us(%u): the contract caps a sleep at 10 ms", us);
    sim->now += us ? us : 1;
    sim_idle_tick(sim);
    sim_deliver_irqs_unlocked(sim);
    pthread_mutex_unlock(&sim->mtx);
}

/* --- Waiting for a completion (cfg.wait_wake) ---------------------------------
 * wait(us) is sleep_us in 1 us steps that returns as soon as the sticky
 * wake flag is set (by wake(), typically from the interrupt handler run by
 * the delivery inside the loop); the return clears it.  The simulator's
 * mutex is released between steps so other threads can submit meanwhile. */

static void osal_wait(void *ctx, uint32_t us)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    for (uint32_t t = 0; t < us && !sim->woken; t++) {
        sim->now++;
        sim_idle_tick(sim);
        sim_deliver_irqs_unlocked(sim);
        pthread_mutex_unlock(&sim->mtx);
        pthread_mutex_lock(&sim->mtx);
    }
    sim->woken = false;
    pthread_mutex_unlock(&sim->mtx);
}

static void osal_wake(void *ctx)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    sim_held_due(sim);
    sim->woken = true;
    sim->st.wakes++;
    pthread_mutex_unlock(&sim->mtx);
}

/* --- Last resort: Bus Master Enable cleared --------------------------------------- */

static void osal_dma_stop(void *ctx)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    sim->dma_stopped = true;
    sim->st.dma_stops++;
    pthread_mutex_unlock(&sim->mtx);
}

/* Bus Master Enable set again. */
static void osal_dma_resume(void *ctx)
{
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    sim->dma_stopped = false;
    sim->st.dma_resumes++;
    pthread_mutex_unlock(&sim->mtx);
}

/* --- Logging ------------------------------------------------------------------------- */

static void osal_log(void *ctx, enum nvme_log_level level, const char *line)
{
    static const char *const names[] = {"error", "warn", "info", "trace"};
    struct nvme_sim *sim = SIM(ctx);
    pthread_mutex_lock(&sim->mtx);
    if ((int)level <= sim->cfg.log_level || sim->capture) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "[%s] %s", (unsigned)level < 4 ? names[level] : "?", line);
        if (sim->capture)
            sim_capture(sim, buf);
        else
            fprintf(stderr, "%s\n", buf);
    }
    pthread_mutex_unlock(&sim->mtx);
}

/* --- Locks ----------------------------------------------------------------------------- */

/* Error-checking mutexes, as a kernel's lock debugging: a lock taken
 * again by its holder (a spinlock's deadlock) or let go by a thread that
 * does not hold it is a host error, not a silent hang or corruption. */
static void *osal_lock_create(void *ctx)
{
    (void)ctx;
    pthread_mutex_t *m = malloc(sizeof(*m));
    pthread_mutexattr_t a;
    if (m &&
        (pthread_mutexattr_init(&a) || pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK) ||
         pthread_mutex_init(m, &a))) {
        free(m);
        m = NULL;
    }
    return m;
}

static void lock_misuse(struct nvme_sim *sim, const char *what, int rc)
{
    pthread_mutex_lock(&sim->mtx);
    sim_host_error(sim, "%s of a core lock failed (%d): %s", what, rc,
                   rc == EDEADLK ? "already held by this thread (a deadlock)"
                                 : "not held by this thread");
    pthread_mutex_unlock(&sim->mtx);
}

static void osal_lock_destroy(void *ctx, void *lock)
{
    (void)ctx;
    if (!lock)
        return;
    pthread_mutex_destroy(lock);
    free(lock);
}

static void osal_lock(void *ctx, void *lock)
{
    int rc = pthread_mutex_lock(lock);
    if (rc != 0) {
        lock_misuse(SIM(ctx), "lock", rc);
        abort(); /* a spinlock would spin here for ever */
    }
}

static void osal_unlock(void *ctx, void *lock)
{
    int rc = pthread_mutex_unlock(lock);
    if (rc != 0)
        lock_misuse(SIM(ctx), "unlock", rc);
}

static uint64_t osal_wall_clock_ms(void *ctx)
{
    struct nvme_sim *sim = ctx;
    pthread_mutex_lock(&sim->mtx);
    uint64_t ms = sim->cfg.wall_clock_ms;
    pthread_mutex_unlock(&sim->mtx);
    return ms;
}

void nvme_sim_osal(struct nvme_sim *sim, struct nvme_osal *osal)
{
    memset(osal, 0, sizeof(*osal));
    osal->ctx = sim;
    osal->mmio_read32 = osal_mmio_read32;
    osal->mmio_write32 = osal_mmio_write32;
    osal->mmio_read64 = osal_mmio_read64;
    osal->mmio_write64 = osal_mmio_write64;
    osal->mmio_size = sim->cfg.bar_size;
    osal->dma_alloc = osal_dma_alloc;
    osal->dma_free = osal_dma_free;
    osal->dma_map = osal_dma_map;
    osal->dma_unmap = osal_dma_unmap;
    osal->dma_sync = osal_dma_sync;
    if (sim->cfg.noncoherent && !sim->cfg.bounce_unaligned)
        osal->dma_align = sim->cfg.cache_line;
    osal->mem_alloc = osal_mem_alloc;
    osal->mem_free = osal_mem_free;
    osal->irq_setup = osal_irq_setup;
    osal->irq_teardown = osal_irq_teardown;
    osal->now_us = osal_now_us;
    osal->sleep_us = osal_sleep_us;
    osal->log = osal_log;
    osal->dma_stop = osal_dma_stop;
    osal->dma_resume = osal_dma_resume;
    if (sim->cfg.wall_clock_ms != 0)
        osal->wall_clock_ms = osal_wall_clock_ms;
    if (sim->cfg.wait_wake) {
        osal->wait = osal_wait;
        osal->wake = osal_wake;
    }
    if (sim->cfg.locks) {
        osal->lock_create = osal_lock_create;
        osal->lock_destroy = osal_lock_destroy;
        osal->lock = osal_lock;
        osal->unlock = osal_unlock;
    }
}
