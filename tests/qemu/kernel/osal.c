/* SPDX-License-Identifier: MIT */
/*
 * osal.c - the harness kernel's struct nvme_osal: identity-mapped DMA
 * memory from a page allocator, a small heap, TSC clock, interrupt-flag
 * locks, MSI-X through the local APIC or INTx through the IOAPIC.
 */
#include "osal.h"

struct harness_dev g_dev;

/* --- memory -------------------------------------------------------------------- */
#define PAGE 4096u
#define DMA_POOL_SIZE (16u << 20)
#define DMA_PAGES (DMA_POOL_SIZE / PAGE)
#define HEAP_SIZE (4u << 20)
#define XFER_BUF_SIZE (2u << 20)

static uint8_t dma_pool[DMA_POOL_SIZE] __attribute__((section(".bss.pool"), aligned(4096)));
static uint8_t heap[HEAP_SIZE] __attribute__((section(".bss.pool"), aligned(4096)));
static uint8_t xfer_buf[XFER_BUF_SIZE] __attribute__((section(".bss.pool"), aligned(4096)));
static uint32_t dma_bitmap[DMA_PAGES / 32];
static size_t dma_in_use, heap_in_use;

void *harness_buffer(size_t *len)
{
    *len = sizeof(xfer_buf);
    return xfer_buf;
}
size_t dma_bytes_in_use(void) { return dma_in_use; }
size_t heap_bytes_in_use(void) { return heap_in_use; }

static bool page_used(unsigned p) { return dma_bitmap[p / 32] & (1u << (p % 32)); }
static void page_set(unsigned p, bool used)
{
    if (used)
        dma_bitmap[p / 32] |= 1u << (p % 32);
    else
        dma_bitmap[p / 32] &= ~(1u << (p % 32));
}

__attribute__((unused)) static void *dma_alloc_pages(size_t size, size_t align)
{
    if (!size || (align & (align - 1)))
        return NULL;
    unsigned n = (unsigned)((size + PAGE - 1) / PAGE);
    unsigned step = align > PAGE ? (unsigned)(align / PAGE) : 1;
    for (unsigned p = 0; p + n <= DMA_PAGES; p += step) {
        unsigned i = 0;
        while (i < n && !page_used(p + i))
            i++;
        if (i == n) {
            for (i = 0; i < n; i++)
                page_set(p + i, true);
            dma_in_use += (size_t)n * PAGE;
            return dma_pool + (size_t)p * PAGE;
        }
    }
    return NULL;
}

__attribute__((unused)) static void dma_free_pages(void *va, size_t size)
{
    uintptr_t off = (uintptr_t)va - (uintptr_t)dma_pool;
    if (!va || off >= DMA_POOL_SIZE || (off % PAGE)) {
        kprintf("harness: dma_free of a bad pointer %p\n", va);
        return;
    }
    unsigned p = (unsigned)(off / PAGE), n = (unsigned)((size + PAGE - 1) / PAGE);
    for (unsigned i = 0; i < n && p + i < DMA_PAGES; i++) {
        if (!page_used(p + i))
            kprintf("harness: dma_free of a free page %p (size %lu)\n", va, (unsigned long)size);
        page_set(p + i, false);
    }
    dma_in_use -= (size_t)n * PAGE;
}

/* First-fit heap: [hdr][payload] blocks covering the whole arena. */
struct heap_hdr {
    uint32_t size; /* block size, header included */
    uint32_t used;
    uint32_t asked;
    uint32_t magic;
};
#define HEAP_MAGIC 0x4e564d45u
static bool heap_ready;

__attribute__((unused)) static void *heap_alloc(size_t size)
{
    if (!heap_ready) {
        struct heap_hdr *h = (struct heap_hdr *)heap;
        h->size = HEAP_SIZE;
        h->used = 0;
        h->magic = HEAP_MAGIC;
        heap_ready = true;
    }
    if (!size || size > HEAP_SIZE)
        return NULL;
    uint32_t need = (uint32_t)(((size + 15) & ~(size_t)15) + sizeof(struct heap_hdr));
    for (uint32_t off = 0; off < HEAP_SIZE;) {
        struct heap_hdr *h = (struct heap_hdr *)(heap + off);
        if (!h->used) { /* merge following free blocks */
            for (;;) {
                uint32_t nx = off + h->size;
                if (nx >= HEAP_SIZE)
                    break;
                struct heap_hdr *n = (struct heap_hdr *)(heap + nx);
                if (n->used)
                    break;
                h->size += n->size;
            }
        }
        if (!h->used && h->size >= need) {
            if (h->size - need >= 64) {
                struct heap_hdr *rest = (struct heap_hdr *)(heap + off + need);
                rest->size = h->size - need;
                rest->used = 0;
                rest->magic = HEAP_MAGIC;
                h->size = need;
            }
            h->used = 1;
            h->asked = (uint32_t)size;
            heap_in_use += size;
            void *p = h + 1;
            memset(p, 0, size);
            return p;
        }
        off += h->size;
    }
    return NULL;
}

__attribute__((unused)) static void heap_free(void *p, size_t size)
{
    if (!p)
        return;
    struct heap_hdr *h = (struct heap_hdr *)p - 1;
    if ((uint8_t *)h < heap || (uint8_t *)h >= heap + HEAP_SIZE || h->magic != HEAP_MAGIC || !h->used) {
        kprintf("harness: mem_free of a bad pointer %p\n", p);
        return;
    }
    if (h->asked != size)
        kprintf("harness: mem_free(%p) size %lu, allocated %u\n", p, (unsigned long)size, h->asked);
    h->used = 0;
    heap_in_use -= h->asked;
}

/* --- controller discovery ---------------------------------------------------------- */
bool dev_probe(struct harness_dev *d)
{
    if (!pci_find_class(0x01, 0x08, 0x02, &d->pci)) {
        kprintf("harness: no NVMe controller (class 01h/08h/02h) on PCI\n");
        return false;
    }
    uint32_t id = pci_read32(d->pci, 0x00);
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    d->bar0_phys = pci_bar_base(d->pci, 0, &d->bar0_64);
    if (!d->bar0_phys || d->bar0_phys >= (1ull << 32) - 0x4000) {
        kprintf("harness: BAR0 0x%llx unusable (not assigned or above 4 GiB)\n",
                (unsigned long long)d->bar0_phys);
        return false;
    }
    d->bar0 = (uintptr_t)d->bar0_phys;
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd | PCI_CMD_MEM | PCI_CMD_MASTER));
    d->intx_pin = pci_read8(d->pci, 0x3d);
    d->intx_line = pci_read8(d->pci, 0x3c);
    d->msix_cap = pci_find_cap(d->pci, PCI_CAP_MSIX);
    if (d->msix_cap) {
        uint16_t ctl = pci_read16(d->pci, (uint8_t)(d->msix_cap + 2));
        uint32_t tbl = pci_read32(d->pci, (uint8_t)(d->msix_cap + 4));
        bool is64;
        uint64_t base = pci_bar_base(d->pci, tbl & 7, &is64);
        d->msix_entries = (ctl & 0x7ffu) + 1;
        d->msix_table = base ? (uintptr_t)(base + (tbl & ~7u)) : 0;
        if (!base)
            d->msix_cap = 0;
    }
    kprintf("harness: nvme at pci %02x:%02x.%u id %04x:%04x bar0=0x%llx (%s) cmd=0x%04x->0x%04x "
            "msix=%u entries table=0x%lx intx pin=%u line=%u\n",
            d->pci.bus, d->pci.dev, d->pci.fn, d->vendor, d->device,
            (unsigned long long)d->bar0_phys, d->bar0_64 ? "64-bit" : "32-bit", cmd,
            pci_read16(d->pci, PCI_COMMAND), d->msix_cap ? d->msix_entries : 0,
            (unsigned long)d->msix_table, d->intx_pin, d->intx_line);
    return true;
}

#ifndef HARNESS_NO_CORE

/* --- interrupts ---------------------------------------------------------------------- */
static void dev_irq(unsigned i)
{
    struct harness_dev *d = &g_dev;
    if (!d->ctrl) {
        /* Before nvme_ctrl_init() returned: nothing to hand it to.  A level
         * INTx line would fire again at once, so mask it until armed. */
        d->early_irqs++;
        if (d->is_intx)
            ioapic_mask(d->intx_line, true);
        return;
    }
    /* A level INTx line that the core keeps declining (returns 0, e.g.
     * while it resets) would fire forever: after many in a row, mask it
     * and let the core's fallback polling carry on. */
    static unsigned unclaimed;
    if (nvme_ctrl_handle_irq(d->ctrl, i) == 0 && d->is_intx) {
        if (++unclaimed == 100000) {
            kprintf("harness: INTx line %u: 100000 interrupts nobody claimed, masking it\n",
                    d->intx_line);
            ioapic_mask(d->intx_line, true);
        }
    } else {
        unclaimed = 0;
    }
}

void dev_irq_arm(struct harness_dev *d)
{
    if (d->vectors && d->is_intx)
        ioapic_mask(d->intx_line, false);
}

static void msix_program(struct harness_dev *d, unsigned n)
{
    uint8_t ctl_off = (uint8_t)(d->msix_cap + 2);
    uint16_t ctl = pci_read16(d->pci, ctl_off);
    /* enable with the function masked while the table is written */
    pci_write16(d->pci, ctl_off, (uint16_t)(ctl | (1u << 15) | (1u << 14)));
    uint32_t apic = lapic_id();
    for (unsigned i = 0; i < d->msix_entries; i++) {
        uintptr_t e = d->msix_table + 16u * i;
        if (i < n) {
            mmio_wr32(e + 0, 0xfee00000u | (apic << 12)); /* physical destination */
            mmio_wr32(e + 4, 0);
            mmio_wr32(e + 8, IRQ_VECTOR_BASE + i); /* fixed, edge */
            mmio_wr32(e + 12, 0);                  /* unmasked */
        } else {
            mmio_wr32(e + 12, 1);
        }
    }
    ctl = pci_read16(d->pci, ctl_off);
    pci_write16(d->pci, ctl_off, (uint16_t)((ctl | (1u << 15)) & ~(1u << 14)));
}

static int osal_irq_setup(void *ctx, unsigned want, bool *is_intx)
{
    struct harness_dev *d = ctx;
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    *is_intx = false;
    d->vectors = 0;
    d->is_intx = false;
    if (d->mode == IRQ_MODE_POLL || want == 0)
        return 0;
    if (d->mode == IRQ_MODE_MSIX) {
        if (!d->msix_cap) {
            kprintf("harness: irq=msix asked but no MSI-X capability: polling\n");
            return 0;
        }
        unsigned n = want;
        if (n > d->msix_entries)
            n = d->msix_entries;
        if (n > IRQ_VECTOR_MAX)
            n = IRQ_VECTOR_MAX;
        pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd | PCI_CMD_INTX_DISABLE));
        msix_program(d, n);
        d->vectors = n;
        kprintf("harness: irq_setup(want=%u): MSI-X vectors %u granted (IDT 0x%x..)\n", want, n,
                IRQ_VECTOR_BASE);
        return (int)n;
    }
    /* INTx through the IOAPIC, level triggered, active high (QEMU pc) */
    if (!d->intx_pin || d->intx_line >= ioapic_pins()) {
        kprintf("harness: irq=intx asked but no usable INTx line: polling\n");
        return 0;
    }
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd & ~PCI_CMD_INTX_DISABLE));
    ioapic_route(d->intx_line, IRQ_VECTOR_BASE, true, d->ctrl == NULL);
    d->vectors = 1;
    d->is_intx = true;
    *is_intx = true;
    kprintf("harness: irq_setup(want=%u): INTx pin %u -> IOAPIC pin %u (IDT 0x%x)\n", want,
            d->intx_pin, d->intx_line, IRQ_VECTOR_BASE);
    return 1;
}

static void osal_irq_teardown(void *ctx)
{
    struct harness_dev *d = ctx;
    if (d->vectors && d->is_intx) {
        ioapic_mask(d->intx_line, true);
    } else if (d->vectors && d->msix_cap) {
        uint8_t ctl_off = (uint8_t)(d->msix_cap + 2);
        uint16_t ctl = pci_read16(d->pci, ctl_off);
        pci_write16(d->pci, ctl_off, (uint16_t)((ctl | (1u << 14)) & ~(1u << 15)));
    }
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd | PCI_CMD_INTX_DISABLE));
    d->vectors = 0;
}

/* --- the OSAL table -------------------------------------------------------------------- */
static uint32_t osal_mmio_read32(void *ctx, uint32_t off)
{
    return mmio_rd32(((struct harness_dev *)ctx)->bar0 + off);
}
static void osal_mmio_write32(void *ctx, uint32_t off, uint32_t val)
{
    mmio_wr32(((struct harness_dev *)ctx)->bar0 + off, val);
}
#ifdef __x86_64__
/* x86-64 uses single 64-bit accesses; x86-32 leaves them NULL so the core
 * splits them (both paths get exercised). */
static uint64_t osal_mmio_read64(void *ctx, uint32_t off)
{
    uint64_t v = *(volatile uint64_t *)(((struct harness_dev *)ctx)->bar0 + off);
    barrier();
    return v;
}
static void osal_mmio_write64(void *ctx, uint32_t off, uint64_t val)
{
    barrier();
    *(volatile uint64_t *)(((struct harness_dev *)ctx)->bar0 + off) = val;
}
#endif

static void *osal_dma_alloc(void *ctx, size_t size, size_t align, uint64_t *bus)
{
    void *p = dma_alloc_pages(size, align);
    if (p)
        *bus = (uintptr_t)p;
    return p;
}
static void osal_dma_free(void *ctx, void *va, size_t size) { dma_free_pages(va, size); }

static int osal_dma_map(void *ctx, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus)
{
    /* identity mapped; everything the kernel owns is below 4 GiB */
    *bus = (uintptr_t)va;
    return 0;
}

static void *osal_mem_alloc(void *ctx, size_t size) { return heap_alloc(size); }
static void osal_mem_free(void *ctx, void *p, size_t size) { heap_free(p, size); }

static uint64_t osal_now_us(void *ctx) { return clock_now_us(); }
static void osal_sleep_us(void *ctx, uint32_t us) { clock_sleep_us(us); }

static void osal_log(void *ctx, enum nvme_log_level level, const char *line)
{
    static const char *const names[] = { "error", "warn", "info", "trace" };
    kprintf("nvme %s: %s\n", (unsigned)level < 4 ? names[level] : "?", line);
}

/* Locks: interrupt flag save/clear; one CPU. */
struct hlock {
    unsigned long flags;
    int depth;
};
static void *osal_lock_create(void *ctx) { return heap_alloc(sizeof(struct hlock)); }
static void osal_lock_destroy(void *ctx, void *lock) { heap_free(lock, sizeof(struct hlock)); }
static void osal_lock(void *ctx, void *lock)
{
    struct hlock *l = lock;
    unsigned long f = irq_save();
    if (l->depth++)
        kprintf("harness: lock %p taken recursively\n", lock);
    l->flags = f;
}
static void osal_unlock(void *ctx, void *lock)
{
    struct hlock *l = lock;
    unsigned long f = l->flags;
    if (--l->depth)
        kprintf("harness: lock %p unlock depth %d\n", lock, l->depth);
    irq_restore(f);
}

void osal_fill(struct nvme_osal *o, struct harness_dev *d)
{
    memset(o, 0, sizeof(*o));
    o->ctx = d;
    o->mmio_read32 = osal_mmio_read32;
    o->mmio_write32 = osal_mmio_write32;
#ifdef __x86_64__
    o->mmio_read64 = osal_mmio_read64;
    o->mmio_write64 = osal_mmio_write64;
#endif
    o->dma_alloc = osal_dma_alloc;
    o->dma_free = osal_dma_free;
    o->dma_map = osal_dma_map;
    o->mem_alloc = osal_mem_alloc;
    o->mem_free = osal_mem_free;
    o->irq_setup = osal_irq_setup;
    o->irq_teardown = osal_irq_teardown;
    o->now_us = osal_now_us;
    o->sleep_us = osal_sleep_us;
    o->log = osal_log;
    o->lock_create = osal_lock_create;
    o->lock_destroy = osal_lock_destroy;
    o->lock = osal_lock;
    o->unlock = osal_unlock;
    irq_set_handler(dev_irq);
}

#endif /* !HARNESS_NO_CORE */
