/* SPDX-License-Identifier: MIT */
/* hw_common.c - the harness kernel's machine-independent pieces: kprintf
 * on the arch's serial_write, and the PCI walks on the arch's
 * configuration space accessors (x86: mechanism #1 in hw.c; aarch64 and
 * riscv64: ECAM in pci_ecam.c). */
#include "hw.h"

void kprintf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    serial_write(buf);
}

/* --- PCI -------------------------------------------------------------------------- */
bool pci_find_class(uint8_t cls, uint8_t sub, uint8_t progif, unsigned nth, struct pci_addr *out)
{
    for (unsigned bus = 0; bus < 256; bus++) {
        for (unsigned dev = 0; dev < 32; dev++) {
            struct pci_addr a = {(uint8_t)bus, (uint8_t)dev, 0};
            if (pci_read16(a, 0x00) == 0xffff)
                continue;
            unsigned nfn = (pci_read8(a, 0x0e) & 0x80) ? 8 : 1;
            for (unsigned fn = 0; fn < nfn; fn++) {
                a.fn = (uint8_t)fn;
                if (pci_read16(a, 0x00) == 0xffff)
                    continue;
                uint32_t cc = pci_read32(a, 0x08) >> 8; /* class:sub:progif */
                if (cc == (((uint32_t)cls << 16) | ((uint32_t)sub << 8) | progif) && !nth--) {
                    *out = a;
                    return true;
                }
            }
        }
    }
    return false;
}

uint8_t pci_find_cap(struct pci_addr a, uint8_t id)
{
    if (!(pci_read16(a, PCI_STATUS) & (1u << 4)))
        return 0;
    uint8_t p = pci_read8(a, 0x34) & 0xfc;
    for (unsigned guard = 0; p && guard < 48; guard++) {
        if (pci_read8(a, p) == id)
            return p;
        p = pci_read8(a, (uint8_t)(p + 1)) & 0xfc;
    }
    return 0;
}

uint64_t pci_bar_base(struct pci_addr a, unsigned bar, bool *is64)
{
    uint8_t off = (uint8_t)(0x10 + 4 * bar);
    uint32_t lo = pci_read32(a, off);
    *is64 = false;
    if (lo & 1)
        return 0; /* I/O BAR */
    uint64_t base = lo & ~0xfu;
    if (((lo >> 1) & 3) == 2) {
        *is64 = true;
        base |= (uint64_t)pci_read32(a, (uint8_t)(off + 4)) << 32;
    }
    return base;
}

uint64_t pci_bar_size(struct pci_addr a, unsigned bar)
{
    uint8_t off = (uint8_t)(0x10 + 4 * bar);
    uint16_t cmd = pci_read16(a, PCI_COMMAND);
    uint32_t lo = pci_read32(a, off), hi = 0, mlo, mhi = 0;
    bool is64 = !(lo & 1) && ((lo >> 1) & 3) == 2 && bar < 5;
    pci_write16(a, PCI_COMMAND, (uint16_t)(cmd & ~(PCI_CMD_MEM | 1u)));
    pci_write32(a, off, 0xffffffffu);
    mlo = pci_read32(a, off);
    pci_write32(a, off, lo);
    if (is64) {
        hi = pci_read32(a, (uint8_t)(off + 4));
        pci_write32(a, (uint8_t)(off + 4), 0xffffffffu);
        mhi = pci_read32(a, (uint8_t)(off + 4));
        pci_write32(a, (uint8_t)(off + 4), hi);
    }
    pci_write16(a, PCI_COMMAND, cmd);
    if (lo & 1 || mlo == 0xffffffffu)
        return 0; /* I/O, or nothing there */
    uint64_t mask = ((uint64_t)mhi << 32) | (mlo & ~0xfu);
    return mask & (~mask + 1);
}

uintptr_t pci_bar_map(struct pci_addr a, unsigned bar, uint64_t off, uint64_t len)
{
    bool is64;
    if (bar > 5)
        return 0;
    uint64_t base = pci_bar_base(a, bar, &is64), size = base ? pci_bar_size(a, bar) : 0;
    if ((is64 && bar == 5) || off > size || len > size - off ||
        !pci_mmio_reachable(base + off, len))
        return 0;
    return (uintptr_t)(base + off);
}
