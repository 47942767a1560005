/* SPDX-License-Identifier: MIT */
/*
 * ctl_num.c - numbers as nvmectl reads them (nvmectl_parse_u64), apart
 * from the command table so that a shell reading an NSID off a command
 * line (EXOS's, for its owed-writes check) links this alone.
 */
#include "nvme/nvmectl.h"

/* Numbers as nvme-cli's options read them (strtoull base 0): 0x/0X hex,
 * a leading 0 octal ("010" is 8), else decimal; the whole word must be
 * the number: a stray character (a sign, a space, "08") or a value above
 * 64 bits is refused, never cut short or wrapped. */
bool nvmectl_parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    unsigned base = 10;
    if (s == NULL || *s == '\0')
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (*s == '\0')
            return false;
    } else if (s[0] == '0' && s[1] != '\0') {
        base = 8;
        s++;
    }
    for (; *s != '\0'; s++) {
        unsigned d;
        if (*s >= '0' && *s <= (base == 8 ? '7' : '9'))
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        /* Overflow checks without 64-bit division (none on i686). */
        if ((base == 16 && (x >> 60) != 0) || (base == 8 && (x >> 61) != 0))
            return false;
        if (base == 10 && (x > 0x1999999999999999ull || (x == 0x1999999999999999ull && d > 5)))
            return false;
        x = base == 16 ? (x << 4) | d : base == 8 ? (x << 3) | d : x * 10u + d;
    }
    *v = x;
    return true;
}
