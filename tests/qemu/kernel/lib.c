/* SPDX-License-Identifier: MIT */
/* lib.c - the few libc functions the harness kernel (and the compiler) need. */
#include "hw.h"

#include "nvme/nvme_fmt.h"
#include "nvme/nvmectl.h"

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp < sp) {
        while (n--)
            *dp++ = *sp++;
    } else {
        while (n--)
            dp[n] = sp[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

/* Numbers and formatting come from the core and nvmectl (nvme_fmt.h,
 * nvmectl.h): the harness keeps no copy of its own. */
bool parse_u64(const char *s, uint64_t *out) { return nvmectl_parse_u64(s, out); }

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
    return nvme_vsnprintf(buf, len, fmt, ap);
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = nvme_vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n;
}
