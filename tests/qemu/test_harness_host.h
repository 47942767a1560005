/* SPDX-License-Identifier: MIT */
/* test_harness_host.h - forced into the host build of test_harness_fdt
 * (-include): what kernel/pci_ecam.c takes from a virt ISA's arch_hw.h
 * and x86's hw.h lacks.  Never reached by the tests. */
#include <stdint.h>
static inline void mmio_wr16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
