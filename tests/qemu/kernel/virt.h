/* SPDX-License-Identifier: MIT */
/*
 * virt.h - what the aarch64, riscv64 and armv7 harness builds share on QEMU's
 * "virt" machines: the device tree (fdt.h), the generic PCIe host
 * ("pci-host-ecam-generic": ECAM configuration space, MMIO windows in
 * "ranges", INTx routing in "interrupt-map") and BAR assignment, which no
 * firmware does there.
 */
#ifndef HARNESS_VIRT_H
#define HARNESS_VIRT_H

#include "fdt.h"
#include "hw.h"

struct pci_host {
    struct fdt_node node;
    uint64_t ecam, ecam_size;
    unsigned bus_lo, bus_hi;
    uint64_t mem32, mem32_size; /* "ranges" space code 10b (32-bit memory) */
    uint64_t mem64, mem64_size; /* space code 11b (64-bit memory) */
};
extern struct pci_host g_pci;

/* Reads the host bridge from the device tree; prints what it found. */
bool pci_host_init(struct pci_host *h);
/* Sizes and assigns every memory BAR of every function on the root bus
 * and, through the PCI-to-PCI bridges it numbers and opens windows in,
 * behind them (32-bit window first; 64-bit BARs go to the 64-bit window
 * when the 32-bit one is full), leaves I/O BARs unassigned, and writes the
 * Interrupt Line register with irq_line(a, pin) when given (what PC
 * firmware does, so osal.c's dev_probe() reads it the same way).
 * Decoding stays off: dev_probe() enables memory and bus mastering. */
void pci_assign_bars(struct pci_host *h, uint8_t (*irq_line)(struct pci_addr a, unsigned pin));
/* INTx: the parent interrupt specifier "interrupt-map" gives function a's
 * pin (1 = INTA#): pointer to its cells, their number and the parent's
 * phandle; false when no entry matches. */
bool pci_intx_map(const struct pci_host *h, struct pci_addr a, unsigned pin, uint32_t *parent,
                  const uint8_t **spec, unsigned *cells);
/* The requester ID function a's MSI writes reach the host with: its own,
 * or behind a PCI Express to PCI bridge, that bridge's secondary bus
 * number with device and function 0 (PCIe to PCI/PCI-X Bridge spec 1.0
 * §2.3, Linux's pci_for_each_dma_alias). */
uint16_t pci_requester_id(struct pci_addr a);

/* Common console line output over an arch's putc (arch.c) */
#endif
