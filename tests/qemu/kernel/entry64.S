/* SPDX-License-Identifier: MIT */
/* entry64.S - x86-64 entry.  Multiboot starts us in 32-bit protected
 * mode; build page tables that identity map the first 4 GiB with 2 MiB
 * pages (RAM, BAR0, the IOAPIC at 0xfec00000 and the LAPIC at 0xfee00000;
 * 3-4 GiB uncached), enable PAE + long mode + paging, jump to 64-bit code.
 * The ELF is linked as x86-64 and converted to elf32-i386 for QEMU's
 * multiboot loader. */
#include "multiboot.inc"

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %eax, %ebp          /* multiboot magic */
    mov %ebx, %esi          /* multiboot info (physical) */
    mov $__bss_start, %edi  /* zero .bss (page tables, stack) */
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
    mov $stack_top, %esp

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD[0..3]; PD: 2048 x 2 MiB pages */
    mov $pdpt, %eax
    or $0x3, %eax
    mov %eax, pml4
    mov $pd, %eax
    or $0x3, %eax
    xor %ecx, %ecx
1:  mov %eax, pdpt(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jb 1b
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax          /* present, writable, 2 MiB */
    cmp $1536, %ecx
    jb 3f
    or $0x18, %eax          /* PCD|PWT above 3 GiB: MMIO */
3:  mov %eax, pd(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    mov %cr4, %eax
    or $0x20, %eax          /* PAE */
    mov %eax, %cr4
    mov $pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx   /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax    /* PG|PE */
    mov %eax, %cr0
    lgdt gdt_desc
    ljmp $0x08, $long_mode

    .code64
long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $stack_top, %rsp
    mov %ebp, %edi          /* zero-extends */
    mov %esi, %esi
    call kmain
4:  cli
    hlt
    jmp 4b

    .section .text
    .globl isr_stubs
    .align 16
isr_stubs:
    .set i, 0
    .rept 256
    ISR_STUB i
    .set i, i + 1
    .endr

isr_common:
    /* CPU pushed SS, RSP, RFLAGS, CS, RIP (RSP was 16-byte aligned
     * before), the stub pushed error and vector: 15 registers more
     * leave RSP 16-byte aligned for the call. */
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    call isr_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

    .section .rodata
    .align 16
gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF  /* 0x08 code64 */
    .quad 0x00CF92000000FFFF  /* 0x10 data */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .align 4096
pml4:
    .skip 4096
pdpt:
    .skip 4096
pd:
    .skip 4 * 4096
    .align 16
stack:
    .skip 65536
stack_top:
