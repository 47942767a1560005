/* SPDX-License-Identifier: MIT */
/*
 * util.c - the few byte and string helpers the core needs, written so the
 * archive needs no libc (memset/memcpy/strlen) and no libgcc (64-bit
 * division on 32-bit hosts).
 */
#include "nvme_internal.h"

/* volatile stores keep the compiler from turning the loops into a memset
 * call under any build flags; aligned memory (SQEs, identify pages) is
 * cleared a 64-bit word at a time. */
void nvme_memzero(void *p, size_t n)
{
    volatile uint8_t *b = p;
    while (n != 0 && ((uintptr_t)b & 7u) != 0) {
        *b++ = 0;
        n--;
    }
    volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)b;
    for (; n >= 8; n -= 8)
        *w++ = 0;
    b = (volatile uint8_t *)w;
    while (n-- != 0)
        *b++ = 0;
}

void nvme_memcpy(void *dst, const void *src, size_t n)
{
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    while (n-- != 0)
        *d++ = *s++;
}

size_t nvme_strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

bool nvme_bytes_eq(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    while (n-- != 0)
        if (x[n] != y[n])
            return false;
    return true;
}

int nvme_streq(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Identify strings are ASCII, space padded, not NUL terminated
 * (NVMe 1.4 §5.15.2.2, SN/MN/FR); SUBNQN is a NUL-terminated string
 * (Figure 247), and what follows its NUL is no part of it: the text ends
 * at the first NUL, as Linux's nvme_init_subnqn (strnlen) and nvme-cli
 * ("%.*s") read it, its blanks at the end dropped.  A faulty device may
 * put anything there. */
void nvme_copy_id_string(char *dst, const char *src, size_t n)
{
    size_t end = 0; /* past the last character that is not a blank */
    for (size_t i = 0; i < n && src[i] != '\0'; i++) {
        char c = src[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? c : '.';
        if (c != ' ')
            end = i + 1;
    }
    dst[end] = '\0';
}

unsigned nvme_divmod10_limbs(uint16_t *v, unsigned limbs)
{
    uint32_t rem = 0;
    for (unsigned i = limbs; i-- > 0;) {
        uint32_t cur = (rem << 16) | v[i];
        uint32_t q = nvme_div10(cur);
        v[i] = (uint16_t)q;
        rem = cur - q * 10u;
    }
    return rem;
}

uint64_t nvme_u64_divmod(uint64_t n, uint64_t d, uint64_t *rem)
{
    uint64_t q = 0, r = 0;
    for (unsigned b = 64; b-- > 0;) {
        bool over = (r >> 63) != 0; /* r << 1 passes 2^64 (only when d > 2^63) */
        r = r << 1 | (n >> b & 1u);
        if (over || r >= d) {
            r -= d; /* modulo 2^64: the true r - d is below d */
            q |= (uint64_t)1 << b;
        }
    }
    if (rem != NULL)
        *rem = r;
    return q;
}

struct nvme_u128 nvme_u128_from_le(const uint8_t bytes[16])
{
    struct nvme_u128 v;
    v.lo = 0;
    v.hi = 0;
    for (int i = 7; i >= 0; i--) {
        v.lo = (v.lo << 8) | bytes[i];
        v.hi = (v.hi << 8) | bytes[i + 8];
    }
    return v;
}

char *nvme_u128_to_dec(struct nvme_u128 v, char *buf, size_t len)
{
    uint16_t limbs[8];
    char tmp[40]; /* 2^128 has 39 digits */
    char *d = tmp + sizeof(tmp);

    if (buf == NULL || len == 0)
        return buf;
    for (unsigned i = 0; i < 4; i++) {
        limbs[i] = (uint16_t)(v.lo >> (16 * i));
        limbs[i + 4] = (uint16_t)(v.hi >> (16 * i));
    }
    unsigned left; /* digits written backwards, until the quotient is 0 */
    do {
        *--d = (char)('0' + nvme_divmod10_limbs(limbs, 8));
        left = 0;
        for (unsigned i = 0; i < 8; i++)
            left |= limbs[i];
    } while (left != 0);
    size_t i = 0;
    while (d < tmp + sizeof(tmp) && i + 1 < len)
        buf[i++] = *d++;
    buf[i] = '\0';
    return buf;
}
