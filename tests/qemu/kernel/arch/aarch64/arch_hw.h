/* SPDX-License-Identifier: MIT */
/*
 * arch_hw.h (aarch64) - CPU primitives for hw.h.  MMIO goes through BAR
 * mappings of Device-nGnRE memory while RAM is Normal write-back
 * cacheable (mmu in arch.c), so the accessors carry the barriers of
 * Linux's writel()/readl() (arch/arm64/include/asm/io.h, __iowmb/__iormb):
 *   write: "dmb oshst" then the store - every earlier normal-memory store
 *          (an SQE, a PRP list) is observed by the device (outer
 *          shareable domain) before the register write;
 *   read:  the load then "dmb oshld" - the register read completes before
 *          any later load (a CQE, a DMA buffer) is performed.
 * Explicit ldr/str so the compiler never emits a form the device access
 * cannot take (writeback addressing, pairs).
 */
#ifndef HARNESS_ARCH_HW_H
#define HARNESS_ARCH_HW_H

#include <stdint.h>

/* kernel/smp.c runs here (cpus=N): arch/aarch64/smp.c starts the CPUs. */
#define HARNESS_ARCH_SMP 1
/* The virtual timer's interrupt when the DT names none: PPI 11, INTID 27
 * (QEMU virt's ARCH_TIMER_VIRT_IRQ; Arm BSA's recommended ID).  irq.c
 * reads it from the timer node (fdt_arm_vtimer_intid). */
#define TIMER_PPI_DEFAULT 27u

static inline void cpu_relax(void) { __asm__ volatile("yield" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

/* DAIF.I: the OSAL's locks and the console mask IRQs. */
static inline unsigned long irq_save(void)
{
    unsigned long f;
    __asm__ volatile("mrs %0, daif\n\tmsr daifset, #2" : "=r"(f) : : "memory");
    return f;
}
static inline void irq_restore(unsigned long f)
{
    __asm__ volatile("msr daif, %0" : : "r"(f) : "memory");
}
static inline void irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
/* Whether irq_save's flags had IRQs on (DAIF.I clear). */
static inline bool irq_flags_on(unsigned long f) { return (f & (1ul << 7)) == 0; }

static inline uint32_t mmio_rd32(uintptr_t a)
{
    uint32_t v;
    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    __asm__ volatile("dmb oshld" ::: "memory");
    return v;
}
static inline uint64_t mmio_rd64(uintptr_t a)
{
    uint64_t v;
    __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
    __asm__ volatile("dmb oshld" ::: "memory");
    return v;
}
static inline uint8_t mmio_rd8(uintptr_t a)
{
    uint32_t v;
    __asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    __asm__ volatile("dmb oshld" ::: "memory");
    return (uint8_t)v;
}
static inline void mmio_wr32(uintptr_t a, uint32_t v)
{
    __asm__ volatile("dmb oshst" ::: "memory");
    __asm__ volatile("str %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline void mmio_wr64(uintptr_t a, uint64_t v)
{
    __asm__ volatile("dmb oshst" ::: "memory");
    __asm__ volatile("str %x0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline void mmio_wr16(uintptr_t a, uint16_t v)
{
    __asm__ volatile("dmb oshst" ::: "memory");
    __asm__ volatile("strh %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline void mmio_wr8(uintptr_t a, uint8_t v)
{
    __asm__ volatile("dmb oshst" ::: "memory");
    __asm__ volatile("strb %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}

/* arch.c: device tree, MMU, exceptions, GICv3 + ITS, generic timer,
 * PCI BARs; returns the command line (/chosen/bootargs). */
const char *arch_init(void);
/* With interrupts off: returns once an interrupt is pending at this CPU
 * (a device's, a wake-up SGI) or `us` have passed, interrupts still off:
 * WFI with the generic timer's virtual timer armed (arch.c; its PPI,
 * TIMER_PPI, enabled in gic_cpu_init). */
void arch_halt(uint32_t us);

#endif
