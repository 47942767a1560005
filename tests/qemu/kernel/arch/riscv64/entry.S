/* SPDX-License-Identifier: MIT */
/* entry.S (riscv64) - QEMU virt with -bios none jumps from its reset
 * vector to the start of RAM (our _start, kernel.ld) in M-mode with
 * a0 = hart id, a1 = device tree address (hw/riscv/boot.c), every hart
 * at once.  Hart 0 runs the harness; the others park until smp.c
 * releases them (cpus=N). */
    .equ SMP_HARTS, 8       /* smp_hart_sp's entries (SMP_MAX_CPUS) */
    .section .text.boot, "ax"
    .globl _start
_start:
    csrw mie, zero
    csrci mstatus, 8
    bnez a0, hart_park
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

/* A hart other than 0 waits for its stack top in smp_hart_sp[hart id]
 * (.data: loaded with the image, never zeroed under it), woken by a
 * machine software interrupt (the CLINT's MSIP, mie.MSIE on with
 * mstatus.MIE off: WFI resumes on a pending enabled interrupt, privileged
 * spec 3.3.3, without a trap).  WFI may return at any time: the loop
 * looks again.  "fence r,rw" then (an acquire): whatever hart 0 wrote
 * before its release is seen.  Hart IDs beyond the table stay parked. */
hart_park:
    li t0, SMP_HARTS
    bgeu a0, t0, park
    li t0, 8
    csrw mie, t0            /* MSIE */
    la t1, smp_hart_sp
    slli t2, a0, 3
    add t1, t1, t2
1:  ld t0, 0(t1)
    bnez t0, 2f
    wfi
    j 1b
2:  fence r, rw
    mv sp, t0
    la t0, trap_entry
    csrw mtvec, t0
    call arch_hart_main     /* a0: hart id */
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

/* smp.c (riscv64) writes a hart's stack top here to release it. */
    .section .data
    .align 3
    .globl smp_hart_sp
smp_hart_sp:
    .zero 8 * SMP_HARTS

    .section .bss
    .align 16
stack:
    .space 65536
    .globl stack_top
stack_top:
