/* SPDX-License-Identifier: MIT */
/*
 * trampoline.S - where an application processor starts after INIT-SIPI-SIPI.
 *
 * A Startup IPI with vector VV starts the AP in real mode at CS:IP =
 * VV00h:0000h, i.e. physical address VV000h (Intel SDM Vol. 3A, "MP
 * Initialization Protocol Algorithm" / "Startup IPI": the vector names a
 * 4-KByte page below 1 MiB).  smp.c copies the bytes between
 * smp_tramp_start and smp_tramp_end to SMP_TRAMP_BASE (0x7000, SIPI
 * vector 07h) and fills the three slots at the end (CR3, stack top, C
 * entry point) before each SIPI.  The code is therefore position
 * dependent on SMP_TRAMP_BASE only: every absolute address below is
 * T(label) = SMP_TRAMP_BASE + (label - smp_tramp_start).
 *
 * Path: real mode -> 32-bit protected mode (own GDT) -> [x86-64: PAE,
 * the BSP's page tables (CR3), EFER.LME, paging -> 64-bit mode] -> the
 * per-CPU stack -> smp_ap_main().  The GDT keeps the kernel's selector
 * layout (x86-64: 08h code64, 10h data; x86-32: 08h code32, 10h data) so
 * the kernel's IDT (selector 08h) works unchanged on the AP; x86-64 adds
 * 18h, a 32-bit code segment for the step through protected mode.
 */
#define SMP_TRAMP_BASE 0x7000
#define T(x) (SMP_TRAMP_BASE + ((x) - smp_tramp_start))

    .section .text
    .globl smp_tramp_start, smp_tramp_end
    .globl smp_tramp_cr3, smp_tramp_stack, smp_tramp_entry

    .code16
smp_tramp_start:
    cli
    cld
    mov %cs, %ax            /* CS = 0700h: the trampoline's page */
    mov %ax, %ds
    lgdtl (tramp_gdt_desc - smp_tramp_start)
    mov %cr0, %eax
    or $1, %eax             /* PE */
    mov %eax, %cr0
#ifdef __x86_64__
    ljmpl $0x18, $T(pm32)
#else
    ljmpl $0x08, $T(pm32)
#endif

    .code32
pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
#ifdef __x86_64__
    mov %cr4, %eax
    or $0x20, %eax          /* PAE */
    mov %eax, %cr4
    mov T(smp_tramp_cr3), %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx   /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax    /* PG|PE */
    mov %eax, %cr0
    ljmp $0x08, $T(lm64)

    .code64
lm64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov T(smp_tramp_stack), %rsp
    mov T(smp_tramp_entry), %rax
    call *%rax
1:  cli
    hlt
    jmp 1b
#else
    mov T(smp_tramp_stack), %esp
    mov T(smp_tramp_entry), %eax
    call *%eax
1:  cli
    hlt
    jmp 1b
#endif

    .align 8
tramp_gdt:
    .quad 0
#ifdef __x86_64__
    .quad 0x00AF9A000000FFFF  /* 0x08 code64 */
    .quad 0x00CF92000000FFFF  /* 0x10 data */
    .quad 0x00CF9A000000FFFF  /* 0x18 code32 (protected-mode step) */
#else
    .quad 0x00CF9A000000FFFF  /* 0x08 code32 */
    .quad 0x00CF92000000FFFF  /* 0x10 data */
#endif
tramp_gdt_end:
    .align 4
tramp_gdt_desc:
    .word tramp_gdt_end - tramp_gdt - 1
    .long T(tramp_gdt)
    .align 8
smp_tramp_cr3:
    .quad 0
smp_tramp_stack:
    .quad 0
smp_tramp_entry:
    .quad 0
smp_tramp_end:
