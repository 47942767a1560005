/* SPDX-License-Identifier: MIT */
/*
 * pci_ecam.c - PCI configuration space through ECAM (PCIe base spec 7.2.2:
 * bus << 20 | device << 15 | function << 12 | register) at the address
 * the device tree's "pci-host-ecam-generic" node gives, and BAR
 * assignment from that node's "ranges" (QEMU's virt machines run no
 * firmware that would do it: every BAR reads 0 at boot).
 */
#include "virt.h"

struct pci_host g_pci;

static uintptr_t cfg(struct pci_addr a, uint8_t off)
{
    return (uintptr_t)(g_pci.ecam + ((uint64_t)(a.bus - g_pci.bus_lo) << 20) +
                       ((uint64_t)a.dev << 15) + ((uint64_t)a.fn << 12) + off);
}

/* Functions on a bus outside bus-range read as absent. */
static bool in_range(struct pci_addr a)
{
    return g_pci.ecam && a.bus >= g_pci.bus_lo && a.bus <= g_pci.bus_hi;
}

uint32_t pci_read32(struct pci_addr a, uint8_t off)
{
    return in_range(a) ? mmio_rd32(cfg(a, (uint8_t)(off & 0xfc))) : 0xffffffffu;
}
uint16_t pci_read16(struct pci_addr a, uint8_t off)
{
    return (uint16_t)(pci_read32(a, off) >> (8 * (off & 2)));
}
uint8_t pci_read8(struct pci_addr a, uint8_t off)
{
    return (uint8_t)(pci_read32(a, off) >> (8 * (off & 3)));
}
void pci_write32(struct pci_addr a, uint8_t off, uint32_t v)
{
    if (in_range(a))
        mmio_wr32(cfg(a, (uint8_t)(off & 0xfc)), v);
}
/* A real 16-bit write: Status (RW1C) next to Command is never written. */
void pci_write16(struct pci_addr a, uint8_t off, uint16_t v)
{
    if (in_range(a))
        mmio_wr16(cfg(a, (uint8_t)(off & 0xfe)), v);
}

bool pci_host_init(struct pci_host *h)
{
    memset(h, 0, sizeof(*h));
    if (!fdt_by_compat("pci-host-ecam-generic", &h->node)) {
        kprintf("harness: no pci-host-ecam-generic node in the device tree\n");
        return false;
    }
    if (!fdt_reg(&h->node, 0, &h->ecam, &h->ecam_size)) {
        kprintf("harness: %s has no reg\n", h->node.name);
        return false;
    }
    uint32_t len;
    const uint8_t *br = fdt_prop(&h->node, "bus-range", &len);
    h->bus_lo = br && len == 8 ? (unsigned)fdt_cells(br, 1) : 0;
    h->bus_hi = br && len == 8 ? (unsigned)fdt_cells(br + 4, 1) : 255;
    /* Bus numbers are 8 bits, and ECAM gives each 1 MiB (PCIe base 7.2.2) */
    if (h->bus_hi > 255)
        h->bus_hi = 255;
    if (h->bus_hi < h->bus_lo || h->ecam_size >> 20 == 0) {
        kprintf("harness: %s: bus-range %u-%u or ECAM size 0x%llx unusable\n", h->node.name,
                h->bus_lo, h->bus_hi, (unsigned long long)h->ecam_size);
        return false;
    }
    if (h->bus_hi - h->bus_lo >= h->ecam_size >> 20)
        h->bus_hi = h->bus_lo + (unsigned)(h->ecam_size >> 20) - 1;
    /* ranges: (child: 3 cells phys.hi/mid/lo, parent: the parent's
     * #address-cells, size: the node's #size-cells = 2) */
    const uint8_t *r = fdt_prop(&h->node, "ranges", &len);
    unsigned pac = h->node.ac, csc = fdt_u32(&h->node, "#size-cells", 2);
    uint32_t stride = 4u * (3 + pac + csc);
    for (uint32_t o = 0; r && o + stride <= len; o += stride) {
        uint32_t hi = (uint32_t)fdt_cells(r + o, 1);
        uint64_t pci = fdt_cells(r + o + 4, 2);
        uint64_t cpu = fdt_cells(r + o + 12, pac);
        uint64_t size = fdt_cells(r + o + 12 + 4 * pac, csc);
        unsigned space = (hi >> 24) & 3;
        if (space != 2 && space != 3)
            continue; /* I/O space: the harness decodes none */
        if (pci != cpu) {
            kprintf("harness: PCI window 0x%llx maps to CPU 0x%llx: not identity, skipped\n",
                    (unsigned long long)pci, (unsigned long long)cpu);
            continue;
        }
        if (space == 2 && !h->mem32_size) {
            h->mem32 = cpu;
            h->mem32_size = size;
        } else if (space == 3 && !h->mem64_size) {
            h->mem64 = cpu;
            h->mem64_size = size;
        }
    }
    g_pci = *h;
    kprintf("harness: PCIe %s: ECAM 0x%llx (%llu MiB, buses %u-%u), MMIO32 0x%llx+0x%llx, "
            "MMIO64 0x%llx+0x%llx (device tree)\n",
            h->node.name, (unsigned long long)h->ecam, (unsigned long long)(h->ecam_size >> 20),
            h->bus_lo, h->bus_hi, (unsigned long long)h->mem32, (unsigned long long)h->mem32_size,
            (unsigned long long)h->mem64, (unsigned long long)h->mem64_size);
    return h->mem32_size || h->mem64_size;
}

static uint64_t alloc_from(uint64_t *next, uint64_t end, uint64_t size)
{
    uint64_t base = (*next + size - 1) & ~(size - 1); /* BARs are naturally aligned */
    if (base < *next || base + size > end || base + size < base)
        return 0;
    *next = base + size;
    return base;
}

/* Where pci_assign_bars is in each window, and the bridge above each bus
 * it numbered (none above bus_lo): pci_intx_map swizzles through them. */
struct assign {
    struct pci_host *h;
    uint8_t (*irq_line)(struct pci_addr a, unsigned pin);
    uint64_t next32, next64;
    unsigned next_bus;
};
static struct pci_addr bus_bridge[256];
static bool bus_behind[256];

static void assign_bus(struct assign *s, unsigned bus);

static void assign_bars(struct assign *s, struct pci_addr a, unsigned nbars)
{
    struct pci_host *h = s->h;
    for (unsigned bar = 0; bar < nbars; bar++) {
        uint8_t off = (uint8_t)(0x10 + 4 * bar);
        uint32_t lo = pci_read32(a, off); /* the type bits (0 at reset: no address) */
        uint64_t size = pci_bar_size(a, bar);
        if (!size) {
            if (lo & 1) /* I/O BAR: the harness decodes no I/O space */
                pci_write32(a, off, 0);
            continue; /* or none */
        }
        bool is64 = ((lo >> 1) & 3) == 2 && bar + 1 < nbars;
        uint64_t base = alloc_from(&s->next32, h->mem32 + h->mem32_size, size);
        if (!base && is64)
            base = alloc_from(&s->next64, h->mem64 + h->mem64_size, size);
        /* No room: the BAR cannot stay at 0 once memory decode is
         * on, where it would cover PCI addresses of the BARs
         * assigned (a 1 GiB CMB over BAR0 on armv7's window at
         * 256 MiB); it goes to the top of its address space, size
         * aligned, outside every window: decoded nowhere the CPU
         * or another BAR reaches (QEMU: unmapped). */
        uint64_t park = ~(size - 1) & (is64 ? ~0ull : 0xffffffffull);
        pci_write32(a, off, (uint32_t)(base ? base : park));
        if (is64)
            pci_write32(a, (uint8_t)(off + 4), (uint32_t)((base ? base : park) >> 32));
        kprintf("harness: pci %02x:%02x.%u BAR%u %s %llu KiB -> 0x%llx\n", a.bus, a.dev, a.fn, bar,
                is64 ? "64-bit" : "32-bit", (unsigned long long)(size >> 10),
                (unsigned long long)(base ? base : park));
        if (!base)
            kprintf("harness: no room for that BAR in the device tree's windows: "
                    "left outside them, unusable\n");
        if (is64)
            bar++;
    }
}

/* A PCI-to-PCI bridge (header type 1: a PCIe root or switch port, PCI
 * Bridge spec 1.2 §3.2): the next bus number below it, the buses behind
 * it assigned, then its windows around what they took (1 MiB granules):
 * memory from the 32-bit cursor, prefetchable (64-bit) from the 64-bit
 * one; I/O closed; memory decode and bus mastering on (QEMU forwards no
 * DMA from behind a bridge without it). */
static void assign_bridge(struct assign *s, struct pci_addr a)
{
    if (s->next_bus >= s->h->bus_hi) {
        kprintf("harness: pci %02x:%02x.%u bridge: no bus number left\n", a.bus, a.dev, a.fn);
        return;
    }
    unsigned sec = ++s->next_bus;
    pci_write16(a, PCI_COMMAND, 0);
    assign_bars(s, a, 2); /* its own (pcie-pci-bridge: SHPC), in the window above it */
    pci_write32(a, 0x18, (0xffu << 16) | (sec << 8) | a.bus); /* primary, secondary, subordinate */
    bus_bridge[sec] = a;
    bus_behind[sec] = true;
    const uint64_t mib = 1u << 20;
    s->next32 = (s->next32 + mib - 1) & ~(mib - 1);
    s->next64 = (s->next64 + mib - 1) & ~(mib - 1);
    uint64_t m0 = s->next32, p0 = s->next64;
    assign_bus(s, sec);
    pci_write32(a, 0x18, (s->next_bus << 16) | (sec << 8) | a.bus);
    s->next32 = (s->next32 + mib - 1) & ~(mib - 1);
    s->next64 = (s->next64 + mib - 1) & ~(mib - 1);
    /* base > limit: the window is closed */
    if (s->next32 > m0)
        pci_write32(a, 0x20,
                    (uint32_t)(((s->next32 - 1) >> 16 & 0xfff0u) << 16 | (m0 >> 16 & 0xfff0u)));
    else
        pci_write32(a, 0x20, 0x0000fff0u);
    if (s->next64 > p0) {
        pci_write32(a, 0x24,
                    (uint32_t)(((s->next64 - 1) >> 16 & 0xfff0u) << 16 | (p0 >> 16 & 0xfff0u)));
        pci_write32(a, 0x28, (uint32_t)(p0 >> 32));
        pci_write32(a, 0x2c, (uint32_t)((s->next64 - 1) >> 32));
    } else {
        pci_write32(a, 0x24, 0x0000fff0u);
        pci_write32(a, 0x28, 0);
        pci_write32(a, 0x2c, 0);
    }
    pci_write16(a, 0x1c, 0x00f0); /* I/O base above limit: closed */
    pci_write16(a, PCI_COMMAND, (uint16_t)(PCI_CMD_MEM | 4u));
    kprintf("harness: pci %02x:%02x.%u bridge: buses %u-%u, memory 0x%llx-0x%llx, "
            "prefetchable 0x%llx-0x%llx\n",
            a.bus, a.dev, a.fn, sec, s->next_bus, (unsigned long long)m0,
            (unsigned long long)s->next32, (unsigned long long)p0, (unsigned long long)s->next64);
}

static void assign_bus(struct assign *s, unsigned bus)
{
    for (unsigned dev = 0; dev < 32; dev++) {
        struct pci_addr a = {(uint8_t)bus, (uint8_t)dev, 0};
        if (pci_read16(a, 0x00) == 0xffff)
            continue;
        unsigned nfn = (pci_read8(a, 0x0e) & 0x80) ? 8 : 1;
        for (unsigned fn = 0; fn < nfn; fn++) {
            a.fn = (uint8_t)fn;
            if (pci_read16(a, 0x00) == 0xffff)
                continue;
            uint8_t htype = pci_read8(a, 0x0e) & 0x7f;
            if (htype == 1) {
                assign_bridge(s, a);
                continue;
            }
            if (htype != 0) {
                kprintf("harness: pci %02x:%02x.%u header type %u: not configured\n", a.bus, a.dev,
                        a.fn, htype);
                continue;
            }
            uint16_t cmd = pci_read16(a, PCI_COMMAND);
            pci_write16(a, PCI_COMMAND,
                        (uint16_t)(cmd & ~(PCI_CMD_MEM | 1u))); /* decode off while sizing */
            assign_bars(s, a, 6);
            uint8_t pin = pci_read8(a, 0x3d);
            if (s->irq_line && pin)
                pci_write16(a, 0x3c, (uint16_t)((pin << 8) | s->irq_line(a, pin)));
            pci_write16(a, PCI_COMMAND, cmd);
        }
    }
}

void pci_assign_bars(struct pci_host *h, uint8_t (*irq_line)(struct pci_addr a, unsigned pin))
{
    struct assign s = {h, irq_line, h->mem32, h->mem64, h->bus_lo};
    assign_bus(&s, h->bus_lo);
}

bool pci_mmio_reachable(uint64_t addr, uint64_t len)
{
    /* in a device tree window (a BAR assign_bars found no room for is
     * left outside them all, decoded nowhere) and below 4 GiB: what
     * armv7's 32-bit pointers hold and aarch64's map covers (512 GiB,
     * QEMU's 64-bit window starts there) */
    const struct pci_host *h = &g_pci;
    bool in32 = addr >= h->mem32 && addr - h->mem32 < h->mem32_size &&
                len <= h->mem32_size - (addr - h->mem32);
    bool in64 = addr >= h->mem64 && addr - h->mem64 < h->mem64_size &&
                len <= h->mem64_size - (addr - h->mem64);
    return (in32 || in64) && len && addr < (1ull << 32) && len <= (1ull << 32) - addr;
}

uint16_t pci_requester_id(struct pci_addr a)
{
    uint16_t rid = (uint16_t)(a.bus << 8 | a.dev << 3 | a.fn);
    for (unsigned bus = a.bus; bus != g_pci.bus_lo && bus_behind[bus];) {
        struct pci_addr b = bus_bridge[bus];
        uint8_t cap = pci_find_cap(b, 0x10); /* PCI Express: device/port type 7h */
        if (cap && ((pci_read16(b, (uint8_t)(cap + 2)) >> 4) & 0xfu) == 7u)
            rid = (uint16_t)(bus << 8);
        bus = b.bus;
    }
    return rid;
}

bool pci_intx_map(const struct pci_host *h, struct pci_addr a, unsigned pin, uint32_t *parent,
                  const uint8_t **spec, unsigned *cells)
{
    uint32_t len, mlen;
    const uint8_t *map = fdt_prop(&h->node, "interrupt-map", &len);
    const uint8_t *mask = fdt_prop(&h->node, "interrupt-map-mask", &mlen);
    unsigned cac = 3, cic = fdt_u32(&h->node, "#interrupt-cells", 1);
    if (!map || !mask || cic != 1 || mlen != 4 * (cac + cic))
        return false; /* PCI: one interrupt cell, the pin (key[] holds 4) */
    /* Behind bridges: the pin each bridge raises for it (PCI-to-PCI Bridge
     * spec 1.2 §9.1, the swizzle by device number), up to the bridge on
     * the host's bus, which interrupt-map names. */
    while (a.bus != h->bus_lo && bus_behind[a.bus]) {
        pin = (pin - 1u + a.dev) % 4u + 1u;
        a = bus_bridge[a.bus];
    }
    uint32_t key[4] = {((uint32_t)a.bus << 16) | ((uint32_t)a.dev << 11) | ((uint32_t)a.fn << 8), 0,
                       0, pin};
    for (unsigned i = 0; i < cac + cic && i < 4; i++)
        key[i] &= (uint32_t)fdt_cells(mask + 4 * i, 1);
    uint32_t o = 0;
    while (o + 4 * (cac + cic + 1) <= len) {
        bool hit = true;
        for (unsigned i = 0; i < cac + cic; i++)
            hit = hit && (uint32_t)fdt_cells(map + o + 4 * i, 1) == key[i];
        uint32_t ph = (uint32_t)fdt_cells(map + o + 4 * (cac + cic), 1);
        struct fdt_node p;
        if (!fdt_by_phandle(ph, &p))
            return false;
        unsigned pac = fdt_u32(&p, "#address-cells", 0), pic = fdt_u32(&p, "#interrupt-cells", 1);
        if (pac > 3 || pic > 4 || 4 * (cac + cic + 1 + pac + pic) > len - o)
            return false; /* cells no parent binding has, or past the map's end */
        const uint8_t *ps = map + o + 4 * (cac + cic + 1 + pac);
        if (hit) {
            *parent = ph;
            *spec = ps;
            *cells = pic;
            return true;
        }
        o += 4 * (cac + cic + 1 + pac + pic);
    }
    return false;
}
