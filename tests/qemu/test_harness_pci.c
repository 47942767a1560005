/* SPDX-License-Identifier: MIT */
/*
 * test_harness_pci.c - the harness's BAR sizing and MSI-X setup
 * (kernel/hw_common.c, dev_probe in kernel/osal.c) built for the host
 * against one emulated NVMe function's configuration space: what a
 * device's capability says is input the harness checks, a table it cannot
 * reach leaves MSI-X off (the harness then takes INTx or polls).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "osal.h"

/* One function at 00:01.0: class 01h/08h/02h, an MSI-X capability at 40h. */
static uint32_t cfg[64];
static uint64_t bar_mask[6]; /* address bits a BAR implements (0: none) */
static const uint64_t window = 0x80000000u, window_size = 256u << 20;

void serial_write(const char *s) { (void)s; }

/* The virt rule (pci_ecam.c): in the device tree's window. */
bool pci_mmio_reachable(uint64_t addr, uint64_t len)
{
    return addr >= window && addr - window < window_size && len <= window_size - (addr - window);
}

static bool here(struct pci_addr a) { return a.bus == 0 && a.dev == 1 && a.fn == 0; }

uint32_t pci_read32(struct pci_addr a, uint8_t off) { return here(a) ? cfg[off / 4] : 0xffffffffu; }
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
    if (!here(a))
        return;
    unsigned i = off / 4;
    if (off >= 0x10 && off < 0x28) { /* a BAR: only its implemented bits, type bits fixed */
        unsigned bar = (off - 0x10) / 4;
        bool upper = bar > 0 && ((cfg[i - 1] >> 1) & 3) == 2 && bar_mask[bar] == 0;
        uint64_t m = upper ? bar_mask[bar - 1] >> 32 : bar_mask[bar];
        cfg[i] = upper ? (uint32_t)(v & m) : ((v & (uint32_t)m) | (cfg[i] & 0xfu));
        return;
    }
    cfg[i] = v;
}
void pci_write16(struct pci_addr a, uint8_t off, uint16_t v)
{
    if (!here(a))
        return;
    unsigned sh = 8 * (off & 2);
    cfg[off / 4] = (cfg[off / 4] & ~(0xffffu << sh)) | ((uint32_t)v << sh);
}

/* BAR0: 64-bit, 16 KiB at the window's start; BAR4: 64-bit, 16 KiB at
 * base4; the MSI-X table at tbl, its PBA at pba (offset | BIR). */
static void device(uint64_t base4, uint32_t tbl, uint32_t pba, unsigned entries)
{
    memset(cfg, 0, sizeof(cfg));
    memset(bar_mask, 0, sizeof(bar_mask));
    cfg[0] = 0x00108086u;
    cfg[1] = 1u << 20; /* Status: capability list */
    cfg[2] = 0x01080200u;
    cfg[4] = (uint32_t)window | 4u;
    cfg[5] = (uint32_t)(window >> 32);
    bar_mask[0] = ~0x3fffull;
    cfg[8] = (uint32_t)base4 | 4u;
    cfg[9] = (uint32_t)(base4 >> 32);
    bar_mask[4] = ~0x3fffull;
    cfg[10] = (uint32_t)window + 0x2000u; /* CardBus CIS pointer (what a BIR 6 reads) */
    cfg[11] = (uint32_t)window + 0x3000u; /* subsystem IDs (BIR 7) */
    cfg[13] = 0x40;
    cfg[16] = ((entries - 1u) << 16) | PCI_CAP_MSIX;
    cfg[17] = tbl;
    cfg[18] = pba;
}

static bool msix(void)
{
    struct harness_dev d;
    memset(&d, 0, sizeof(d));
    assert_true(dev_probe(&d, 0));
    assert_int_equal(d.bar0, (uintptr_t)window);
    return d.msix_cap != 0 && d.msix_table != 0;
}

/* The layouts QEMU's NVMe gives: table and PBA in BAR0 or in BAR4. */
static void msix_in_a_bar_that_holds_it_is_used(void **state)
{
    (void)state;
    device(window + 0x4000, 0x2000, 0x3000, 65);
    assert_true(msix());
    device(window + 0x4000, 0x0004, 0x0804, 65);
    assert_true(msix());
}

/* BIR 6 and 7 are reserved (PCI 3.0 6.8.2.4: BARs 0-5 only); before,
 * the registers past BAR5 were read as a BAR and the table put there. */
static void msix_bir_6_or_7_is_refused(void **state)
{
    (void)state;
    device(window + 0x4000, 0x0006, 0x3000, 65);
    assert_false(msix());
    device(window + 0x4000, 0x0007, 0x3000, 65);
    assert_false(msix());
    device(window + 0x4000, 0x2000, 0x0006, 65);
    assert_false(msix());
}

/* The table (16 bytes an entry) or the PBA past the end of its BAR:
 * before, entries were written past the BAR. */
static void msix_table_or_pba_past_its_bar_is_refused(void **state)
{
    (void)state;
    device(window + 0x4000, 0x3c00, 0x1000, 65); /* 0x3c00 + 65 * 16 > 16 KiB */
    assert_false(msix());
    device(window + 0x4000, 0x3bf0, 0x1000, 65); /* just fits */
    assert_true(msix());
    device(window + 0x4000, 0x0000, 0x3ffc, 65); /* PBA: 16 bytes for 65 entries */
    assert_false(msix());
    device(window + 0x4000, 0x0000, 0x3ff0, 65);
    assert_true(msix());
}

/* A BAR pci_assign_bars found no room for sits outside every window,
 * decoded nowhere: before, the table was written there. */
static void msix_in_a_parked_bar_is_refused(void **state)
{
    (void)state;
    device(0xffffffffffffc000ull, 0x0004, 0x0804, 65);
    assert_false(msix());
}

/* A size mask with holes (a bit below the lowest one clear above it):
 * the size is its lowest set bit, as Linux's pci_size() (before: ~mask +
 * 1, 0x34000 here). */
static void bar_size_is_the_lowest_implemented_bit(void **state)
{
    (void)state;
    struct pci_addr a = {0, 1, 0};
    device(window + 0x4000, 0x2000, 0x3000, 65);
    bar_mask[4] = ~0x3fffull & ~0x30000ull;
    assert_int_equal(pci_bar_size(a, 4), 0x4000);
    assert_int_equal(cfg[8], (uint32_t)(window + 0x4000) | 4u); /* restored */
    assert_int_equal(pci_bar_size(a, 0), 0x4000);
    bar_mask[2] = 0; /* none */
    assert_int_equal(pci_bar_size(a, 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(msix_in_a_bar_that_holds_it_is_used),
        cmocka_unit_test(msix_bir_6_or_7_is_refused),
        cmocka_unit_test(msix_table_or_pba_past_its_bar_is_refused),
        cmocka_unit_test(msix_in_a_parked_bar_is_refused),
        cmocka_unit_test(bar_size_is_the_lowest_implemented_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
