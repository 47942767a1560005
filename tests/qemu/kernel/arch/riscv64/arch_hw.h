/* SPDX-License-Identifier: MIT */
/*
 * arch_hw.h (riscv64) - CPU primitives for hw.h.  The harness runs in
 * M-mode without paging (-bios none); MMIO ordering is that of Linux's
 * writel()/readl() on RISC-V (arch/riscv/include/asm/mmiowb.h, io.h:
 * __io_bw / __io_ar), from the RISC-V unprivileged spec's FENCE with the
 * device-I/O (i, o) and memory (r, w) sets:
 *   write: "fence w,o" then the store - every earlier memory store (an
 *          SQE, a PRP list) is ordered before the device-output store
 *          (the doorbell);
 *   read:  the load then "fence i,ir" - the device-input load (a register)
 *          is ordered before every later memory load (a CQE, a buffer)
 *          and device-input load (Linux's __io_ar, "fence i,r" before
 *          it took the input set too).
 */
#ifndef HARNESS_ARCH_HW_H
#define HARNESS_ARCH_HW_H

#include <stdint.h>

/* kernel/smp.c runs here (cpus=N): arch/riscv64/smp.c releases the harts. */
#define HARNESS_ARCH_SMP 1

static inline void cpu_relax(void) { __asm__ volatile("nop" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

/* mie: machine software, timer and external interrupt enables. */
#define MIE_MSIE (1ul << 3)
#define MIE_MTIE (1ul << 7)
#define MIE_MEIE (1ul << 11)

/* mstatus.MIE (bit 3): the OSAL's locks and the console. */
static inline unsigned long irq_save(void)
{
    unsigned long f;
    __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(f) : : "memory");
    return f;
}
static inline void irq_restore(unsigned long f)
{
    if (f & 8)
        __asm__ volatile("csrsi mstatus, 8" ::: "memory");
}
static inline void irq_enable(void) { __asm__ volatile("csrsi mstatus, 8" ::: "memory"); }
/* Whether irq_save's flags had interrupts on (mstatus.MIE). */
static inline bool irq_flags_on(unsigned long f) { return (f & 8u) != 0; }

static inline uint32_t mmio_rd32(uintptr_t a)
{
    uint32_t v;
    __asm__ volatile("lw %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
    __asm__ volatile("fence i,ir" ::: "memory");
    return v;
}
static inline uint64_t mmio_rd64(uintptr_t a)
{
    uint64_t v;
    __asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
    __asm__ volatile("fence i,ir" ::: "memory");
    return v;
}
static inline uint8_t mmio_rd8(uintptr_t a)
{
    uint8_t v;
    __asm__ volatile("lbu %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
    __asm__ volatile("fence i,ir" ::: "memory");
    return v;
}
static inline void mmio_wr32(uintptr_t a, uint32_t v)
{
    __asm__ volatile("fence w,o" ::: "memory");
    __asm__ volatile("sw %0, 0(%1)" : : "r"(v), "r"(a) : "memory");
}
static inline void mmio_wr64(uintptr_t a, uint64_t v)
{
    __asm__ volatile("fence w,o" ::: "memory");
    __asm__ volatile("sd %0, 0(%1)" : : "r"(v), "r"(a) : "memory");
}
static inline void mmio_wr16(uintptr_t a, uint16_t v)
{
    __asm__ volatile("fence w,o" ::: "memory");
    __asm__ volatile("sh %0, 0(%1)" : : "r"(v), "r"(a) : "memory");
}
static inline void mmio_wr8(uintptr_t a, uint8_t v)
{
    __asm__ volatile("fence w,o" ::: "memory");
    __asm__ volatile("sb %0, 0(%1)" : : "r"(v), "r"(a) : "memory");
}

/* arch.c: device tree, trap vector, PLIC, clock, PCI BARs; returns the
 * command line (/chosen/bootargs). */
const char *arch_init(void);
/* The CLINT ("sifive,clint0"; 0 if none): software interrupts (MSIP,
 * smp.c's kicks) and the machine timer. */
extern uintptr_t riscv_clint;
/* With interrupts off: returns once an enabled interrupt is pending (a
 * device's, a kick) or `us` have passed, interrupts still off (WFI with
 * the CLINT's timer armed). */
void arch_halt(uint32_t us);

#endif
