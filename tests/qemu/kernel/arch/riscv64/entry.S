/* SPDX-License-Identifier: MIT */
/* entry.S (riscv64) - QEMU virt with -bios none jumps from its reset
 * vector to the start of RAM (our _start, kernel.ld) in M-mode with
 * a0 = hart id, a1 = device tree address (hw/riscv/boot.c). */
    .section .text.boot, "ax"
    .globl _start
_start:
    csrw mie, zero
    csrci mstatus, 8
    bnez a0, park           /* only hart 0 runs the harness */
    la sp, stack_top
    mv s0, a1
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  la t0, trap_entry
    csrw mtvec, t0          /* direct mode: every trap to trap_entry */
    mv a0, s0
    call arch_start
park:
    wfi
    j park

/* Traps: save the caller-saved registers (and ra), call
 * arch_trap(mcause, mepc, mtval), restore, mret. */
    .section .text
    .align 4
    .globl trap_entry
trap_entry:
    addi sp, sp, -144
    sd ra, 0(sp)
    sd t0, 8(sp)
    sd t1, 16(sp)
    sd t2, 24(sp)
    sd a0, 32(sp)
    sd a1, 40(sp)
    sd a2, 48(sp)
    sd a3, 56(sp)
    sd a4, 64(sp)
    sd a5, 72(sp)
    sd a6, 80(sp)
    sd a7, 88(sp)
    sd t3, 96(sp)
    sd t4, 104(sp)
    sd t5, 112(sp)
    sd t6, 120(sp)
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    call arch_trap
    ld ra, 0(sp)
    ld t0, 8(sp)
    ld t1, 16(sp)
    ld t2, 24(sp)
    ld a0, 32(sp)
    ld a1, 40(sp)
    ld a2, 48(sp)
    ld a3, 56(sp)
    ld a4, 64(sp)
    ld a5, 72(sp)
    ld a6, 80(sp)
    ld a7, 88(sp)
    ld t3, 96(sp)
    ld t4, 104(sp)
    ld t5, 112(sp)
    ld t6, 120(sp)
    addi sp, sp, 144
    mret

    .section .bss
    .align 16
stack:
    .space 65536
    .globl stack_top
stack_top:
