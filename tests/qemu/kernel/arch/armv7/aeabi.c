/* SPDX-License-Identifier: MIT */
/*
 * aeabi.c (armv7) - the integer division helpers of the Run-time ABI for
 * the Arm Architecture (IHI 0043, 4.3.1 "Integer (32/32 -> 32) division
 * functions", 4.2 "The long long helper functions") that GCC calls for
 * the harness's own divides on ARMv7-A without the divide instruction.
 * Debian's arm-linux-gnueabihf libgcc cannot be linked into this soft-float
 * image (its objects use VFP register arguments), and the core needs none
 * of them (nvme_div32/nvme_mod32; the freestanding-armv7 test checks it).
 * Plain shift-and-subtract; a divide by zero gives all ones (no trap).
 */
#include <stdint.h>

uint64_t harness_udivmod64(uint64_t n, uint64_t d, uint64_t *rem);
int64_t harness_sdivmod64(int64_t n, int64_t d, int64_t *rem);
unsigned __aeabi_uidiv(unsigned n, unsigned d);
uint64_t __aeabi_uidivmod(unsigned n, unsigned d);
int __aeabi_idiv(int n, int d);
uint64_t __aeabi_idivmod(int n, int d);
void __aeabi_uldivmod(void);
void __aeabi_ldivmod(void);

uint64_t harness_udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
    uint64_t q = 0, r = 0;
    if (d == 0) {
        *rem = n;
        return ~0ull;
    }
    if ((n >> 32) == 0 && (d >> 32) == 0) {
        /* 32-bit operands: 32 steps instead of 64 (the clock's divides) */
        uint32_t n32 = (uint32_t)n, d32 = (uint32_t)d, q32 = 0, r32 = 0;
        for (int i = 31; i >= 0; i--) {
            uint32_t top = r32 >> 31;
            r32 = (r32 << 1) | ((n32 >> i) & 1u);
            if (top || r32 >= d32) {
                r32 -= d32;
                q32 |= 1u << i;
            }
        }
        *rem = r32;
        return q32;
    }
    for (int i = 63; i >= 0; i--) {
        uint64_t top = r >> 63;
        r = (r << 1) | ((n >> i) & 1u);
        if (top || r >= d) {
            r -= d;
            q |= 1ull << i;
        }
    }
    *rem = r;
    return q;
}

/* C semantics: the quotient rounds toward zero, the remainder has n's sign */
int64_t harness_sdivmod64(int64_t n, int64_t d, int64_t *rem)
{
    uint64_t un = n < 0 ? -(uint64_t)n : (uint64_t)n, ud = d < 0 ? -(uint64_t)d : (uint64_t)d, ur;
    uint64_t uq = harness_udivmod64(un, ud, &ur);
    *rem = n < 0 ? -(int64_t)ur : (int64_t)ur;
    return (n < 0) != (d < 0) ? -(int64_t)uq : (int64_t)uq;
}

unsigned __aeabi_uidiv(unsigned n, unsigned d)
{
    uint64_t r;
    return (unsigned)harness_udivmod64(n, d, &r);
}

/* quotient in r0, remainder in r1: a uint64_t's low and high words */
uint64_t __aeabi_uidivmod(unsigned n, unsigned d)
{
    uint64_t r, q = harness_udivmod64(n, d, &r);
    return (uint32_t)q | r << 32;
}

int __aeabi_idiv(int n, int d)
{
    int64_t r;
    return (int)harness_sdivmod64(n, d, &r);
}

uint64_t __aeabi_idivmod(int n, int d)
{
    int64_t r, q = harness_sdivmod64(n, d, &r);
    return (uint32_t)q | (uint64_t)(uint32_t)r << 32;
}

/* 64-bit: n in r0:r1, d in r2:r3; quotient back in r0:r1, remainder in
 * r2:r3 - four result registers, which no C return type gives: the C
 * function's fifth argument (on the stack) points at the remainder. */
__attribute__((naked)) void __aeabi_uldivmod(void)
{
    __asm__ volatile("push {r11, lr}\n\t"
                     "sub sp, sp, #16\n\t"
                     "add r12, sp, #8\n\t"
                     "str r12, [sp]\n\t"
                     "bl harness_udivmod64\n\t"
                     "ldr r2, [sp, #8]\n\t"
                     "ldr r3, [sp, #12]\n\t"
                     "add sp, sp, #16\n\t"
                     "pop {r11, pc}");
}

__attribute__((naked)) void __aeabi_ldivmod(void)
{
    __asm__ volatile("push {r11, lr}\n\t"
                     "sub sp, sp, #16\n\t"
                     "add r12, sp, #8\n\t"
                     "str r12, [sp]\n\t"
                     "bl harness_sdivmod64\n\t"
                     "ldr r2, [sp, #8]\n\t"
                     "ldr r3, [sp, #12]\n\t"
                     "add sp, sp, #16\n\t"
                     "pop {r11, pc}");
}
