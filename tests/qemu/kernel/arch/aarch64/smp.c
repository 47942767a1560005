/* SPDX-License-Identifier: MIT */
/*
 * smp.c (aarch64) - the secondary CPUs of QEMU's virt machine for
 * kernel/smp.c (cpus=N).  QEMU starts them powered off (the cpu nodes'
 * enable-method "psci"); PSCI CPU_ON (Arm Power State Coordination
 * Interface, DEN0022, 5.1.4: SMC64 function 0xc4000003, or the /psci
 * node's "cpu_on"; arguments target MPIDR, entry point, context_id;
 * 0 SUCCESS) through the conduit the /psci node's "method" names (QEMU:
 * "hvc" unless the machine has EL2 or EL3; SMC Calling Convention,
 * DEN0028, 2.5: x0 function, x1-x3 arguments, x0 result).
 *
 * The new CPU enters entry.S's smp_secondary_entry at EL1, MMU and
 * caches off, with context_id (its stack top) in x0; there: VBAR_EL1,
 * MMU and caches on the boot CPU's table (arch_mmu_on), then the stack
 * and arch_secondary_main(): its redistributor and CPU interface
 * (irq.c), smp_ap_main().  It reads nothing CPU 0 wrote before its MMU
 * is on, so CPU 0 cleans no cache line for it.
 *
 * Hardware IDs are MPIDR_EL1.Aff2.Aff1.Aff0 (QEMU numbers the virt
 * machine's CPUs 0..n-1 in Aff0, 16 per cluster with a GICv3).  Idle:
 * wfi with IRQs masked (ARM ARM D1.16.2: an IRQ wakes WFI whatever
 * PSTATE.I says), then IRQs on to take it; the wake-up is an SGI.
 */
#include "../../osal.h"
#include "../../psci.h"
#include "../../smp.h"
#include "../../virt.h"

void smp_secondary_entry(void); /* entry.S */
void arch_secondary_main(void);
/* irq.c */
bool gic_cpu_init(void);
void gic_send_wake(uint32_t hw);

#define PSCI_0_2_FN64_CPU_ON 0xc4000003u

static struct psci psci;

unsigned arch_smp_cpus(void) { return psci_probe(&psci, PSCI_0_2_FN64_CPU_ON); }

uint32_t arch_smp_hwid(void)
{
    uint64_t mpidr;
    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    return (uint32_t)(mpidr & 0x00ffffffu); /* Aff2.Aff1.Aff0 */
}

static int64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
    register uint64_t x0 __asm__("x0") = fn;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;
    if (psci.smc)
        __asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
    else
        __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
    return (int64_t)x0;
}

int arch_smp_start(uint32_t hw, uintptr_t stack_top)
{
    if (!psci.found)
        return -1;
    return (int)psci_call(psci.cpu_on, hw, (uint64_t)(uintptr_t)smp_secondary_entry,
                          (uint64_t)stack_top);
}

void arch_secondary_main(void)
{
    if (!gic_cpu_init())
        kprintf("harness: smp: CPU %u: no redistributor for its MPIDR\n", smp_cpu_id());
    smp_ap_main();
}

void arch_smp_kick(uint32_t hw) { gic_send_wake(hw); }

void arch_smp_idle(void) { __asm__ volatile("dsb sy\n\twfi\n\tmsr daifclr, #2" ::: "memory"); }
