/* SPDX-License-Identifier: MIT */
/*
 * osal_min.c - the smallest complete port of nvme-core (PORTING.md): a
 * polled, single-CPU struct nvme_osal.  Memory is identity mapped below
 * 4 GiB (bus address == virtual address), so DMA memory is pages from a
 * static pool and dma_map is one assignment.  No interrupts (irq_setup
 * NULL: the core polls), no locks (one CPU, nothing runs behind the core's
 * back), DMA is cache coherent on x86 and QEMU virt (no dma_sync).  The
 * harness's irq=poll mode runs on this file alone; osal.c adds interrupts
 * and locks on top.
 */
#include "osal.h"

#define PAGE 4096u
#define POOL_SIZE (16u << 20)
#define POOL_PAGES (POOL_SIZE / PAGE)
#define XFER_BUF_SIZE (8u << 20)

/* .bss.pool is not zeroed at boot (kernel.ld): the allocators zero. */
static uint8_t pool[POOL_SIZE] __attribute__((section(".bss.pool"), aligned(4096)));
static uint8_t xfer_buf[XFER_BUF_SIZE] __attribute__((section(".bss.pool"), aligned(4096)));
static uint32_t used[POOL_PAGES / 32]; /* one bit per pool page */
static size_t dma_in_use, heap_in_use;

void *harness_buffer(size_t *len) { return *len = sizeof(xfer_buf), xfer_buf; }
size_t dma_bytes_in_use(void) { return dma_in_use; }
size_t heap_bytes_in_use(void) { return heap_in_use; }

static bool page_used(unsigned p) { return (used[p / 32] >> (p % 32)) & 1u; }
static void page_mark(unsigned p, bool on)
{
    used[p / 32] = on ? used[p / 32] | 1u << (p % 32) : used[p / 32] & ~(1u << (p % 32));
}

/* First fit, whole pages, at an address aligned to `align` (a power of two). */
static void *pages_alloc(size_t size, size_t align)
{
    if (!size || (align & (align - 1)))
        return NULL;
    unsigned n = (unsigned)((size + PAGE - 1) / PAGE);
    unsigned step = align > PAGE ? (unsigned)(align / PAGE) : 1;
    for (unsigned p = (unsigned)((-(uintptr_t)pool & (align - 1)) / PAGE); p + n <= POOL_PAGES;
         p += step) {
        unsigned i = 0;
        while (i < n && !page_used(p + i))
            i++;
        if (i < n)
            continue;
        while (i-- > 0)
            page_mark(p + i, true);
        return memset(pool + (size_t)p * PAGE, 0, (size_t)n * PAGE);
    }
    return NULL;
}

/* Freeing pages not allocated (outside the pool, twice, too many) crashes:
 * byte counts alone would balance a double free against a leak. */
static void pages_free(void *va, size_t size)
{
    uintptr_t off = (uintptr_t)va - (uintptr_t)pool;
    unsigned p = (unsigned)(off / PAGE), n = (unsigned)((size + PAGE - 1) / PAGE), i = 0;
    if (va && off < POOL_SIZE && !(off % PAGE) && n <= POOL_PAGES - p)
        while (i < n && page_used(p + i))
            page_mark(p + i++, false);
    if (!n || i < n) {
        kprintf("harness: free of pages not allocated: %p, %lu bytes\n", va, (unsigned long)size);
        qemu_exit(EXIT_CRASH);
    }
}

/* Bookkeeping memory: pages too (the core allocates a few blocks, at init). */
void *harness_mem_alloc(size_t size)
{
    void *p = pages_alloc(size, PAGE);
    if (p)
        heap_in_use += size;
    return p;
}
void harness_mem_free(void *p, size_t size)
{
    if (p)
        pages_free(p, size), heap_in_use -= size;
}

/* BAR0 identity mapped, uncached; mmio_rd32/wr32 are writel()/readl(). */
static uint32_t mmio_read32(void *ctx, uint32_t off)
{
    return mmio_rd32(((struct harness_dev *)ctx)->bar0 + off);
}
static void mmio_write32(void *ctx, uint32_t off, uint32_t val)
{
    mmio_wr32(((struct harness_dev *)ctx)->bar0 + off, val);
}

static void *dma_alloc(void *ctx, size_t size, size_t align, uint64_t *bus)
{
    void *p = pages_alloc(size, align);
    if (p) {
        *bus = (uintptr_t)p; /* identity mapped */
        dma_in_use += (size + PAGE - 1) / PAGE * PAGE;
    }
    return p;
}
static void dma_free(void *ctx, void *va, size_t size)
{
    pages_free(va, size);
    dma_in_use -= (size + PAGE - 1) / PAGE * PAGE;
}

static int dma_map(void *ctx, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus)
{
    *bus = (uintptr_t)va; /* identity mapped, everything below 4 GiB */
    return 0;
}

static void *mem_alloc(void *ctx, size_t size) { return harness_mem_alloc(size); }
static void mem_free(void *ctx, void *p, size_t size) { harness_mem_free(p, size); }
/* TSC calibrated against the PIT at boot: runs with interrupts off too. */
static uint64_t now_us(void *ctx) { return clock_now_us(); }
static void sleep_us(void *ctx, uint32_t us) { clock_sleep_us(us); }

static void log_line(void *ctx, enum nvme_log_level level, const char *line)
{
    static const char *const names[] = {"error", "warn", "info", "trace"};
    kprintf("nvme %s: %s\n", (unsigned)level < 4 ? names[level] : "?", line);
}

/* Cut a controller that would not stop off from memory (Bus Master Enable). */
static void dma_stop(void *ctx)
{
    struct harness_dev *d = ctx;
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(pci_read16(d->pci, PCI_COMMAND) & ~PCI_CMD_MASTER));
}

void osal_min_fill(struct nvme_osal *o, struct harness_dev *d)
{
    memset(o, 0, sizeof(*o));
    o->ctx = d;
    o->mmio_read32 = mmio_read32;
    o->mmio_write32 = mmio_write32;
    o->dma_alloc = dma_alloc;
    o->dma_free = dma_free;
    o->dma_map = dma_map;
    o->mem_alloc = mem_alloc;
    o->mem_free = mem_free;
    o->now_us = now_us;
    o->sleep_us = sleep_us;
    o->log = log_line;
    o->dma_stop = dma_stop;
}
