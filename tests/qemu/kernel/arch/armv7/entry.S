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
