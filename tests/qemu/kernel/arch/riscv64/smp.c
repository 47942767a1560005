/* SPDX-License-Identifier: MIT */
/*
 * smp.c (riscv64) - the other harts of QEMU's virt machine for
 * kernel/smp.c (cpus=N).  With -bios none every hart starts at the reset
 * vector at once (QEMU hw/riscv/boot.c: a0 = mhartid); entry.S parks
 * all but hart 0 until smp_hart_sp[hart] holds a stack top.  Release:
 * that store, then the hart's machine software interrupt pending bit
 * (the CLINT's MSIP register at base + 4 * hart ID, "sifive,clint0",
 * SiFive CLINT / RISC-V ACLINT spec 3.1 MSWI) to end its WFI;
 * mmio_wr32's "fence w,o" orders the store before it.
 *
 * Hardware IDs are hart IDs (QEMU's virt machine numbers them 0..n-1,
 * the cpu nodes' "reg").  Idle: WFI with mie.MSIE on and mstatus.MIE
 * off (a pending enabled interrupt ends WFI without a trap, privileged
 * spec 3.3.3), then MSIP cleared and MIE on (arch_smp_idle).
 * Interrupts: polled; INTx through the PLIC to hart 0's context only
 * (irq.c): a hart waiting for its queue's completions gets them from
 * hart 0's handler; or, with
 * aia=aplic-imsic, MSI-X vector q to CPU q-1's own IMSIC interrupt file
 * (each hart sets its file up in arch_hart_main).
 */
#include "../../osal.h"
#include "../../smp.h"
#include "../../virt.h"

void arch_hart_main(uint64_t hart);
bool imsic_cpu_init(void);               /* irq.c */
extern volatile uint64_t smp_hart_sp[8]; /* entry.S */

unsigned arch_smp_cpus(void)
{
    kprintf("harness: smp: CLINT at 0x%lx\n", (unsigned long)riscv_clint);
    return riscv_clint ? fdt_count_device_type("cpu") : 1u;
}

uint32_t arch_smp_hwid(void)
{
    uint64_t h;
    __asm__ volatile("csrr %0, mhartid" : "=r"(h));
    return (uint32_t)h;
}

static void msip(uint32_t hw, uint32_t v) { mmio_wr32(riscv_clint + 4u * hw, v); }

int arch_smp_start(uint32_t hw, uintptr_t stack_top)
{
    if (!riscv_clint || hw >= 8)
        return -1;
    __atomic_store_n(&smp_hart_sp[hw], (uint64_t)stack_top, __ATOMIC_RELEASE);
    msip(hw, 1);
    return 0;
}

/* entry.S's parked hart, released: MSIE off again (it is on only inside
 * arch_smp_idle, or a kick would trap once smp_run's work turns MIE on). */
void arch_hart_main(uint64_t hart)
{
    __asm__ volatile("csrc mie, %0" : : "r"(MIE_MSIE) : "memory");
    msip((uint32_t)hart, 0);
    imsic_cpu_init(); /* its own interrupt file, when the machine has an IMSIC */
    smp_ap_main();
}

void arch_smp_kick(uint32_t hw) { msip(hw, 1); }

/* Then mstatus.MIE on, as the ARM ports' "cpsie i" after their WFI: an
 * MSI-X vector routed to this idle hart (another CPU's queue sharing it)
 * is taken here, or it would stay pending while that CPU waits for it. */
void arch_smp_idle(void)
{
    __asm__ volatile("csrs mie, %0\n\twfi\n\tcsrc mie, %0" : : "r"(MIE_MSIE) : "memory");
    msip(arch_smp_hwid(), 0);
    __asm__ volatile("fence iorw, iorw" ::: "memory");
    irq_enable();
}
