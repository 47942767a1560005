/* SPDX-License-Identifier: MIT */
/* entry32.S - x86-32 entry: multiboot puts us in flat 32-bit protected
 * mode without paging; load our own GDT, set a stack, call kmain. */
#include "multiboot.inc"

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov %eax, %ebp          /* multiboot magic */
    mov %ebx, %esi          /* multiboot info (physical) */
    lgdt gdt_desc
    ljmp $0x08, $1f
1:  mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $__bss_start, %edi  /* zero .bss (not the big .bss.pool) */
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
    mov $stack_top, %esp
    push %esi
    push %ebp
    call kmain
2:  cli
    hlt
    jmp 2b

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
    pusha
    cld
    push %esp
    call isr_dispatch
    add $4, %esp
    popa
    add $8, %esp            /* vector, error code */
    iret

    .section .rodata
    .align 16
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF  /* 0x08 code32 */
    .quad 0x00CF92000000FFFF  /* 0x10 data */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .align 16
stack:
    .skip 65536
stack_top:
