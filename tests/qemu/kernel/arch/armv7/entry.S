/* SPDX-License-Identifier: MIT */
/* entry.S (armv7) - QEMU's -kernel loads a raw (non-ELF) image on 32-bit
 * ARM as a Linux zImage would be: at RAM base + 0x10000 (kernel.ld), and
 * enters it with r0 = 0, r1 = the machine type, r2 = the device tree's
 * address (Linux Documentation/arch/arm/booting.rst), in SVC mode with
 * IRQ/FIQ masked and the MMU off.  Then the exception vectors (ARM
 * Architecture Reference Manual ARMv7-A/R, B1.8): every exception is
 * handled in SVC mode on the one stack (srsdb/cps/rfeia), so IRQ, abort
 * and undefined modes need no stack of their own. */
    .syntax unified
    .arm
    .section .text.boot, "ax"
    .globl _start
_start:
    cpsid if
    mov r4, r2              /* device tree */
    ldr sp, =stack_top
    ldr r0, =__bss_start
    ldr r1, =__bss_end
    mov r3, #0
1:  cmp r0, r1
    strlo r3, [r0], #4
    blo 1b
    ldr r0, =vectors
    mcr p15, 0, r0, c12, c0, 0  /* VBAR */
    mrc p15, 0, r0, c1, c0, 0   /* SCTLR.V = 0: vectors at VBAR, not 0xffff0000 */
    bic r0, r0, #(1 << 13)
    mcr p15, 0, r0, c1, c0, 0
    isb
    mov r0, r4
    bl arch_start
2:  wfi
    b 2b

/* A secondary CPU (smp.c: PSCI CPU_ON, PSCI 1.1 DEN0022 6.4.3: entered in
 * the caller's mode, SVC, MMU and caches off, r0 = context_id, here the
 * top of its stack): vectors, MMU and caches on (arch_mmu_on, which sets
 * ACTLR.SMP first), only then the stack - with its caches not yet
 * coherent the CPU writes no memory another CPU may hold in its cache. */
    .globl smp_secondary_entry
smp_secondary_entry:
    cpsid if
    mov r4, r0
    ldr r0, =vectors
    mcr p15, 0, r0, c12, c0, 0  /* VBAR */
    mrc p15, 0, r0, c1, c0, 0   /* SCTLR.V = 0 */
    bic r0, r0, #(1 << 13)
    mcr p15, 0, r0, c1, c0, 0
    isb
    bl arch_mmu_on
    mov sp, r4
    bl arch_secondary_main
3:  wfi
    b 3b

/* MMU and caches on, on the table arch.c's mmu_init() built; r0-r3 only,
 * no stack and no data (a secondary CPU calls it before it has either).
 *  - ACTLR.SMP (bit 6) first: Cortex-A15 TRM 4.3.28, Cortex-A7 TRM 4.3.31:
 *    "You must ensure this bit is set to 1 before the caches and MMU are
 *    enabled, or any cache and TLB maintenance operations are performed"
 *    (without it the CPU takes no part in coherency: it neither snoops nor
 *    receives the other CPUs' broadcast maintenance).  QEMU keeps ACTLR
 *    constant and ignores the write; real parts need it.
 *  - TTBCR 0 (short descriptors, TTBR0 for every address), TTBR0 = the
 *    table | IRGN WBWA (bit 6), RGN WBWA (bits 4:3 = 01), S (bit 1); DACR
 *    domain 0 client; TLBIALL, ICIALLU (ARM ARM B3.5, B4.1.153).
 *  - SCTLR: M, A, C, Z, I on; TRE, AFE off. */
    .globl arch_mmu_on
arch_mmu_on:
    mrc p15, 0, r0, c1, c0, 1   /* ACTLR */
    orr r0, r0, #(1 << 6)
    mcr p15, 0, r0, c1, c0, 1
    isb
    mov r0, #0
    ldr r1, =mmu_l1
    orr r1, r1, #((1 << 6) | (1 << 3) | (1 << 1))
    mov r2, #1
    dsb
    mcr p15, 0, r0, c2, c0, 2   /* TTBCR */
    mcr p15, 0, r1, c2, c0, 0   /* TTBR0 */
    mcr p15, 0, r2, c3, c0, 0   /* DACR */
    mcr p15, 0, r0, c8, c7, 0   /* TLBIALL */
    mcr p15, 0, r0, c7, c5, 0   /* ICIALLU */
    dsb
    isb
    mrc p15, 0, r0, c1, c0, 0
    ldr r1, =((1 << 0) | (1 << 1) | (1 << 2) | (1 << 11) | (1 << 12))
    orr r0, r0, r1
    bic r0, r0, #((1 << 28) | (1 << 29))
    mcr p15, 0, r0, c1, c0, 0
    isb
    bx lr

/* Vector table: 8 words, 32-byte aligned (VBAR's low 5 bits are 0). */
    .section .text
    .align 5
    .globl vectors
vectors:
    b exc_reset
    b exc_undef
    b exc_svc
    b exc_pabt
    b exc_dabt
    b exc_unused
    b irq_entry
    b exc_fiq

/* IRQ: return address lr_irq - 4 and SPSR_irq pushed on the SVC stack,
 * caller-saved registers saved, the stack 8-byte aligned for the AAPCS
 * call, arch_irq(), back with rfeia (restores CPSR from the saved SPSR). */
irq_entry:
    sub lr, lr, #4
    srsdb sp!, #0x13
    cps #0x13
    push {r0-r3, r12, lr}
    and r1, sp, #4
    sub sp, sp, r1
    push {r1, r2}
    bl arch_irq
    pop {r1, r2}
    add sp, sp, r1
    pop {r0-r3, r12, lr}
    rfeia sp!

/* Everything else is a crash: frame r0-r12, lr_svc, the faulting
 * instruction's address (lr of the mode, less the ARM ARM's offset),
 * SPSR; arch_exception(index, frame) reports and exits. */
    .macro EXC name, idx, adj
\name:
    sub lr, lr, #\adj
    srsdb sp!, #0x13
    cps #0x13
    push {r0-r12, lr}
    mov r0, #\idx
    mov r1, sp
    bic sp, sp, #7
    bl arch_exception
3:  b 3b
    .endm
    EXC exc_reset, 0, 0
    EXC exc_undef, 1, 4
    EXC exc_svc, 2, 4
    EXC exc_pabt, 3, 4
    EXC exc_dabt, 4, 8
    EXC exc_unused, 5, 0
    EXC exc_fiq, 7, 4

    .section .bss
    .align 4
stack:
    .space 65536
    .globl stack_top
stack_top:
