/* SPDX-License-Identifier: MIT */
/*
 * fmt.c - a small vsnprintf for traces and nvmectl output.  Supports
 * %s %c %d %i %u %x %X %p %%, the length modifiers hh, h, l, ll and z, a field
 * width, and the '0' and '-' flags.  Always NUL-terminates; returns the
 * length it would have written.
 */
#include "nvme_internal.h"

struct out {
    char *buf;
    size_t size;
    size_t n;
};

static void put(struct out *o, char c)
{
    if (o->n + 1 < o->size)
        o->buf[o->n] = c;
    o->n++;
}

/* `s` padded to `width` with `pad`, on the left, or on the right when
 * `left` (then `pad` is a blank: the callers pass ' ' for '-'). */
static void put_padded(struct out *o, const char *s, size_t len, unsigned width, bool left,
                       char pad)
{
    size_t fill = width > len ? width - len : 0;
    if (!left && pad == '0' && len > 0 && s[0] == '-') {
        put(o, '-'); /* sign before zero padding */
        s++;
        len--;
    }
    if (!left && pad == '0' && len > 1 && s[0] == '0' && s[1] == 'x') {
        put(o, '0'); /* %p's 0x too, as glibc: 0x0000001234, not 0000000x1234 */
        put(o, 'x');
        s += 2;
        len -= 2;
    }
    for (; !left && fill > 0; fill--)
        put(o, pad);
    for (size_t i = 0; i < len; i++)
        put(o, s[i]);
    for (; fill > 0; fill--)
        put(o, pad);
}

/* Digits of a 64-bit value in base 10 or 16, written backwards so that
 * they end at `end`; returns their start.  Long division by 16-bit limbs:
 * no 64-bit division (i686 has none in hardware, the core no libgcc). */
static char *u64_digits(uint64_t v, unsigned base, bool upper, char *end)
{
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    uint16_t limbs[4] = {(uint16_t)v, (uint16_t)(v >> 16), (uint16_t)(v >> 32),
                         (uint16_t)(v >> 48)};
    do {
        uint32_t rem = 0;
        for (unsigned i = 4; i-- > 0;) {
            uint32_t cur = rem << 16 | limbs[i];
            uint32_t q = base == 16u ? cur >> 4 : nvme_div10(cur); /* no divide */
            limbs[i] = (uint16_t)q;
            rem = cur - q * base;
        }
        *--end = dig[rem];
    } while ((limbs[0] | limbs[1] | limbs[2] | limbs[3]) != 0);
    return end;
}

/* The text of number conversion `conv` (d i u x X p) of `v`, sign
 * extended for d and i, written backwards to end at `end`: '-' and the
 * magnitude, or 0x and hexadecimal digits for %p; returns its start. */
static char *fmt_number(uint64_t v, char conv, char *end)
{
    bool neg = (conv == 'd' || conv == 'i') && (int64_t)v < 0;
    char *d = u64_digits(neg ? 0 - v : v, conv == 'x' || conv == 'X' || conv == 'p' ? 16 : 10,
                         conv == 'X', end);
    if (neg)
        *--d = '-';
    if (conv == 'p') {
        *--d = 'x';
        *--d = '0';
    }
    return d;
}

int nvme_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};

    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        bool left = false;
        char pad = ' ';
        for (;; p++) {
            if (*p == '-')
                left = true;
            else if (*p == '0')
                pad = '0';
            else
                break;
        }
        unsigned width = 0;
        while (*p >= '0' && *p <= '9')
            width = width * 10u + (unsigned)(*p++ - '0');
        int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t, 4 short, 5 char */
        if (*p == 'l') {
            lng = 1;
            if (*++p == 'l') {
                lng = 2;
                p++;
            }
        } else if (*p == 'z') {
            lng = 3;
            p++;
        } else if (*p == 'h') {
            lng = 4;
            if (*++p == 'h') {
                lng = 5;
                p++;
            }
        }
        /* Each conversion gives its text (s, len) and padding; the
         * others put what they print and go on. */
        char num[26];
        const char *s = num;
        size_t len;
        char fill = ' '; /* strings and characters pad with blanks */
        switch (*p) {
        case 's':
            s = va_arg(ap, const char *);
            if (s == NULL)
                s = "(null)";
            len = nvme_strlen(s);
            break;
        case 'c':
            num[0] = (char)va_arg(ap, int);
            s = num;
            len = 1;
            break;
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'p': {
            /* One path for every number.  A signed argument is read as
             * its own type (va_arg of the unsigned one is defined only
             * for values both represent, C11 §7.16.1.1), sign-extended,
             * and printed as '-' and its magnitude.  %zd reads a size_t:
             * freestanding C has no signed type of its size. */
            bool sgn = *p == 'd' || *p == 'i';
            uint64_t v;
            if (*p == 'p')
                v = (uint64_t)(uintptr_t)va_arg(ap, void *);
            else if (lng == 2)
                v = sgn ? (uint64_t)va_arg(ap, long long) : va_arg(ap, unsigned long long);
            else if (lng == 1)
                v = sgn ? (uint64_t)(int64_t)va_arg(ap, long) : va_arg(ap, unsigned long);
            else if (lng == 3)
                v = va_arg(ap, size_t);
            else {
                /* int; h and hh passed as an int too, printed as a short
                 * or a char (C11 §7.21.6.1) */
                unsigned u = va_arg(ap, unsigned int);
                if (lng == 4)
                    u = sgn ? (unsigned)(int)(short)u : (unsigned short)u;
                else if (lng == 5)
                    u = sgn ? (unsigned)(int)(signed char)u : (unsigned char)u;
                v = sgn ? (uint64_t)(int64_t)(int)u : u;
            }
            char *d = fmt_number(v, *p, num + sizeof(num));
            s = d;
            len = (size_t)(num + sizeof(num) - d);
            fill = left ? ' ' : pad;
            break;
        }
        case '%':
            put(&o, '%');
            continue;
        case '\0':
            p--; /* lone '%' at the end */
            continue;
        default:
            put(&o, '%');
            put(&o, *p);
            continue;
        }
        put_padded(&o, s, len, width, left, fill);
    }
    if (size > 0)
        buf[o.n < size ? o.n : size - 1] = '\0';
    return (int)o.n;
}

int nvme_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = nvme_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
