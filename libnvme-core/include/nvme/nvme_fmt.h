/* SPDX-License-Identifier: MIT */
/*
 * nvme_fmt.h - the core's freestanding text and byte helpers, public so
 * that front ends on top of the core (libnvmectl) and ports without a libc
 * (the QEMU harness) use the same code instead of copies.  They are part of
 * libnvme-core (src/fmt.c, src/util.c): no libc, no libgcc, no 64-bit
 * division on 32-bit hosts.
 *
 * Freestanding: only <stdarg.h>, <stddef.h> and <stdint.h>.
 */
#ifndef NVME_FMT_H
#define NVME_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A small vsnprintf: %s %c %d %i %u %x %X %p %%, the length modifiers hh,
 * h, l, ll and z, a field width, and the '0' and '-' flags.  Always
 * NUL-terminates when size > 0; returns the length it would have written
 * (like C99 vsnprintf).  Unknown conversions are copied as they are. */
int nvme_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int nvme_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Byte and string helpers (src/util.c), written so that the compiler
 * cannot turn them back into memset/memcpy/strlen calls. */
void nvme_memzero(void *p, size_t n);
void nvme_memcpy(void *dst, const void *src, size_t n);
size_t nvme_strlen(const char *s);
/* 1 when the two strings are equal, else 0. */
int nvme_streq(const char *a, const char *b);
/* Divides *v (little-endian 16-bit limbs, `limbs` of them) by 10 in
 * place and returns the remainder: 64/128-bit decimal output without
 * libgcc division helpers. */
unsigned nvme_divmod10_limbs(uint16_t *v, unsigned limbs);

#ifdef __cplusplus
}
#endif

#endif /* NVME_FMT_H */
