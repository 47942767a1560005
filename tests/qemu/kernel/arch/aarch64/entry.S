/* SPDX-License-Identifier: MIT */
/* entry.S (aarch64) - a Linux arm64 "Image" header (Documentation/arch/
 * arm64/booting.rst) so that QEMU's -kernel loads us at RAM base +
 * text_offset and passes the device tree's address in x0; then the
 * exception vectors. QEMU's virt machine starts us at EL1, MMU off. */
    .section .text.boot, "ax"
    .globl _start
_head:
    b _start                /* code0 */
    .long 0                 /* code1 */
    .quad 0x200000          /* text_offset: 2 MiB above the start of RAM */
    .quad _end - _head      /* image_size, .bss and the DMA pool included */
    .quad 0x2               /* flags: little endian, 4 KiB pages */
    .quad 0, 0, 0
    .ascii "ARM\x64"        /* magic */
    .long 0
_start:
    msr daifset, #0xf
    mov x19, x0             /* device tree */
    ldr x1, =stack_top
    mov sp, x1
    ldr x1, =__bss_start
    ldr x2, =__bss_end
1:  cmp x1, x2
    b.hs 2f
    str xzr, [x1], #8
    b 1b
2:  ldr x1, =vectors
    msr vbar_el1, x1
    isb
    mov x0, x19
    bl arch_start
3:  wfi
    b 3b

/* A secondary CPU (smp.c: PSCI CPU_ON, PSCI 1.1 DEN0022 6.4.3: entered at
 * the caller's EL, MMU and caches off, x0 = context_id, here the top of
 * its stack): vectors, MMU and caches on (arch_mmu_on), only then the
 * stack - with its caches off the CPU writes no memory another CPU may
 * hold in its cache. */
    .globl smp_secondary_entry
smp_secondary_entry:
    msr daifset, #0xf
    mov x19, x0
    ldr x1, =vectors
    msr vbar_el1, x1
    isb
    bl arch_mmu_on
    mov sp, x19
    bl arch_secondary_main
4:  wfi
    b 4b

/* MMU and caches on, on the table arch.c's mmu_init() built; x0-x2 only,
 * no stack, no data (a secondary CPU calls it before it has either).
 * MAIR attr0 0x04 Device-nGnRE, attr1 0xff Normal WB RaWa; TCR: T0SZ 25
 * (39-bit VA, walk from level 1), IRGN0/ORGN0 write-back, SH0 inner
 * shareable, TG0 4 KiB, EPD1, IPS 40 bits (ECAM at 0x40_1000_0000);
 * SCTLR_EL1 M, C, I on, A off (ARM ARM D8, D17.2).  CPUECTLR_EL1.SMPEN
 * (Cortex-A57 TRM 4.3.67) is the firmware's to set before EL1 runs: at
 * EL1 it is writable only if EL3 and EL2 allow it; QEMU has no firmware
 * here and keeps that register constant. */
    .globl arch_mmu_on
arch_mmu_on:
    ldr x0, =0xff04
    msr mair_el1, x0
    ldr x0, =(25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (2 << 32))
    msr tcr_el1, x0
    ldr x0, =mmu_l1
    msr ttbr0_el1, x0
    dsb ish
    isb
    tlbi vmalle1
    dsb ish
    isb
    mrs x0, sctlr_el1
    ldr x1, =((1 << 0) | (1 << 2) | (1 << 12))
    orr x0, x0, x1
    bic x0, x0, #(1 << 1)
    msr sctlr_el1, x0
    isb
    ret

/* Vectors: 16 entries of 128 bytes.  Every entry saves x0-x30, ELR, SPSR
 * (a 272-byte frame) and calls arch_exception(index, frame). */
    .macro VEC idx
    .align 7
    sub sp, sp, #272
    stp x0, x1, [sp, #0]
    mov x0, #\idx
    b exc_common
    .endm

    .section .text
    .align 11
    .globl vectors
vectors:
    VEC 0
    VEC 1
    VEC 2
    VEC 3
    VEC 4
    VEC 5
    VEC 6
    VEC 7
    VEC 8
    VEC 9
    VEC 10
    VEC 11
    VEC 12
    VEC 13
    VEC 14
    VEC 15

exc_common:
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    mrs x1, elr_el1
    mrs x2, spsr_el1
    stp x30, x1, [sp, #240]
    str x2, [sp, #256]
    mov x1, sp
    bl arch_exception
    ldp x30, x1, [sp, #240]
    ldr x2, [sp, #256]
    msr elr_el1, x1
    msr spsr_el1, x2
    ldp x0, x1, [sp, #0]
    ldp x2, x3, [sp, #16]
    ldp x4, x5, [sp, #32]
    ldp x6, x7, [sp, #48]
    ldp x8, x9, [sp, #64]
    ldp x10, x11, [sp, #80]
    ldp x12, x13, [sp, #96]
    ldp x14, x15, [sp, #112]
    ldp x16, x17, [sp, #128]
    ldp x18, x19, [sp, #144]
    ldp x20, x21, [sp, #160]
    ldp x22, x23, [sp, #176]
    ldp x24, x25, [sp, #192]
    ldp x26, x27, [sp, #208]
    ldp x28, x29, [sp, #224]
    add sp, sp, #272
    eret

    .section .bss
    .align 16
stack:
    .space 65536
    .globl stack_top
stack_top:
