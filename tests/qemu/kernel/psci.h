/* SPDX-License-Identifier: MIT */
/* psci.h - the device tree's /psci node (Arm Power State Coordination
 * Interface, DEN0022) for the Arm harnesses' secondary CPUs
 * (kernel/arch/aarch64/smp.c, kernel/arch/armv7/smp.c). */
#ifndef HARNESS_PSCI_H
#define HARNESS_PSCI_H

#include <stdbool.h>
#include <stdint.h>

struct psci {
    bool found;      /* a /psci node with a "method" */
    bool smc;        /* conduit: "smc", else "hvc" (SMC Calling Convention, DEN0028) */
    uint32_t cpu_on; /* CPU_ON's function ID: the node's "cpu_on", else the ISA's */
};

/* Fills p from /psci (cpu_on_default: DEN0022 5.1.4's ID for the ISA),
 * logs it, and returns the CPUs to run: the device tree's cpu nodes,
 * 1 without PSCI (nothing to start them with). */
unsigned psci_probe(struct psci *p, uint32_t cpu_on_default);

#endif
