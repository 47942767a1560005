/* SPDX-License-Identifier: MIT */
/*
 * fdt.h - a read-only flattened device tree walker (Devicetree
 * Specification v0.4, chapter 5) for the aarch64, riscv64 and armv7 harness
 * builds: QEMU's virt machines describe everything (RAM, UART, interrupt
 * controllers, the PCIe ECAM window and its MMIO windows) only there.
 */
#ifndef HARNESS_FDT_H
#define HARNESS_FDT_H

#include <stdbool.h>
#include <stdint.h>

struct fdt_node {
    uint32_t off;     /* offset of the node's FDT_BEGIN_NODE token in the struct block */
    unsigned ac, sc;  /* #address-cells / #size-cells of the parent (for "reg") */
    unsigned own_ac;  /* the node's own #address-cells (for its children, "ranges") */
    const char *name; /* unit name, e.g. "pcie@10000000" */
};

/* Checks the header (magic, version >= 16); false if not a DTB. */
bool fdt_init(const void *blob);
uint32_t fdt_total_size(void);
/* First node whose "compatible" list holds `compat`. */
bool fdt_by_compat(const char *compat, struct fdt_node *n);
/* The one after i earlier such nodes (i = 0: fdt_by_compat). */
bool fdt_by_compat_nth(const char *compat, unsigned i, struct fdt_node *n);
/* First node at depth 1 whose name is `name` or starts with "name@". */
bool fdt_by_name(const char *name, struct fdt_node *n);
bool fdt_by_phandle(uint32_t phandle, struct fdt_node *n);
/* The parent of that node (a CPU's interrupt controller: its cpu node). */
bool fdt_parent_of_phandle(uint32_t phandle, struct fdt_node *n);
/* A property of the node (NULL if absent); *len its length in bytes. */
const void *fdt_prop(const struct fdt_node *n, const char *name, uint32_t *len);
/* `cells` big-endian 32-bit cells at p (1 or 2) as a number. */
uint64_t fdt_cells(const void *p, unsigned cells);
/* Entry i of "reg": base and size; false if absent. */
bool fdt_reg(const struct fdt_node *n, unsigned i, uint64_t *base, uint64_t *size);
/* A one-cell property, `dflt` when absent. */
uint32_t fdt_u32(const struct fdt_node *n, const char *name, uint32_t dflt);
/* The ARM generic timer's virtual timer INTID: the third entry of the
 * "arm,armv8-timer" / "arm,armv7-timer" node's "interrupts" (secure,
 * non-secure, virtual, hypervisor; Linux's arm,arch_timer binding), each
 * `icells` cells <type number flags> of the GIC binding, type 1 a PPI,
 * INTID 16 + number.  `dflt` when absent or not a PPI. */
uint32_t fdt_arm_vtimer_intid(unsigned icells, uint32_t dflt);
/* How many nodes have device_type = `type` (e.g. "cpu"). */
unsigned fdt_count_device_type(const char *type);

#endif
