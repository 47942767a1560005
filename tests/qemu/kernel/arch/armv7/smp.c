/* SPDX-License-Identifier: MIT */
/*
 * smp.c (armv7) - the secondary CPUs of QEMU's virt machine for
 * kernel/smp.c (cpus=N).  QEMU starts them powered off (the cpu nodes'
 * enable-method "psci"); PSCI CPU_ON (Arm Power State Coordination
 * Interface, DEN0022, 5.1.4: SMC32 function 0x84000003, or the /psci
 * node's "cpu_on"; arguments target MPIDR, entry point, context_id;
 * 0 SUCCESS) through the conduit the /psci node's "method" names (QEMU:
 * "hvc" unless the machine has EL2 or EL3, SMC Calling Convention,
 * DEN0028, 2.5: r0 function, r1-r3 arguments, r0 result).
 *
 * The new CPU enters entry.S's smp_secondary_entry in SVC mode, MMU and
 * caches off, with context_id (its stack top) in r0; there: VBAR,
 * ACTLR.SMP, MMU and caches on the boot CPU's table, then the stack and
 * arch_secondary_main(): its GIC CPU interface (irq.c), smp_ap_main().
 * It reads nothing CPU 0 wrote before its MMU is on, so CPU 0 cleans no
 * cache line for it.
 *
 * Hardware IDs are MPIDR.Aff0 (QEMU numbers the virt machine's CPUs
 * 0..n-1 in Aff0 up to 8 per cluster: the GICv2's 8 CPU interfaces).
 * Idle: wfi with IRQs masked (ARM ARM B1.8.13: an IRQ wakes WFI whatever
 * CPSR.I says), then IRQs on to take it; the wake-up is an SGI.
 */
#include "../../osal.h"
#include "../../psci.h"
#include "../../smp.h"
#include "../../virt.h"

void smp_secondary_entry(void); /* entry.S */
void arch_secondary_main(void);
/* irq.c */
void gic_cpu_init(void);
void gic_send_wake(uint32_t hw);

#define PSCI_0_2_FN_CPU_ON 0x84000003u

static struct psci psci;

unsigned arch_smp_cpus(void) { return psci_probe(&psci, PSCI_0_2_FN_CPU_ON); }

uint32_t arch_smp_hwid(void)
{
    uint32_t mpidr;
    __asm__ volatile("mrc p15, 0, %0, c0, c0, 5" : "=r"(mpidr));
    return mpidr & 0x00ffffffu; /* Aff2.Aff1.Aff0 */
}

static int32_t psci_call(uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3)
{
    register uint32_t r0 __asm__("r0") = fn;
    register uint32_t r1 __asm__("r1") = a1;
    register uint32_t r2 __asm__("r2") = a2;
    register uint32_t r3 __asm__("r3") = a3;
    if (psci.smc)
        __asm__ volatile(".arch_extension sec\n\tsmc #0"
                         : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3)
                         :
                         : "memory");
    else
        __asm__ volatile(".arch_extension virt\n\thvc #0"
                         : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3)
                         :
                         : "memory");
    return (int32_t)r0;
}

int arch_smp_start(uint32_t hw, uintptr_t stack_top)
{
    if (!psci.found)
        return -1;
    return psci_call(psci.cpu_on, hw, (uint32_t)(uintptr_t)smp_secondary_entry,
                     (uint32_t)stack_top);
}

void arch_secondary_main(void)
{
    gic_cpu_init();
    smp_ap_main();
}

void arch_smp_kick(uint32_t hw) { gic_send_wake(hw); }

void arch_smp_idle(void) { __asm__ volatile("dsb\n\twfi\n\tcpsie i" ::: "memory"); }
