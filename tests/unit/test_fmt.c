/* SPDX-License-Identifier: MIT */
/* The core's own vsnprintf (src/fmt.c): it formats every trace and all of
 * nvmectl's output without libc, so each conversion is checked here. */
#include "fixture.h"

#include <string.h>

#pragma GCC diagnostic ignored "-Wformat-security"

#include "../../libnvme-core/src/nvme_internal.h"

static void conversions_match_printf(void **state)
{
    (void)state;
    char b[128];
    nvme_snprintf(b, sizeof(b), "%d|%i|%u|%x|%X|%c|%s|%%", -42, 7, 42u, 0xbeefu, 0xbeefu, 'Z',
                  "ok");
    assert_string_equal(b, "-42|7|42|beef|BEEF|Z|ok|%");
    nvme_snprintf(b, sizeof(b), "%lld|%llu|%llx|%ld|%lu|%zu|%zd", -9223372036854775807LL - 1,
                  18446744073709551615ULL, 0x123456789abcdefULL, -5L, 6UL, (size_t)77, (size_t)78);
    assert_string_equal(b, "-9223372036854775808|18446744073709551615|123456789abcdef|-5|6|77|78");
    nvme_snprintf(b, sizeof(b), "[%5d][%-5d][%05d][%05d][%08x][%-4s][%4s]", 42, 42, 42, -42, 0xab,
                  "ab", "ab");
    assert_string_equal(b, "[   42][42   ][00042][-0042][000000ab][ab  ][  ab]");
    nvme_snprintf(b, sizeof(b), "%p %s", (void *)(uintptr_t)0x1000, (const char *)NULL);
    assert_string_equal(b, "0x1000 (null)");
    /* hh and h (a u8 or u16 field printed as it is in kernels): the int
     * the argument was promoted to is read and cut to char or short, as
     * printf does (before: "%hhx" copied and its argument left for the
     * next conversion, "%hhx|511"; a %s after it read 0x1ff as a pointer). */
    char fmt_h[48]; /* int arguments out of range: checked at run time */
    strcpy(fmt_h, "%hhx|%d");
    nvme_snprintf(b, sizeof(b), fmt_h, 0x1ff, 5);
    assert_string_equal(b, "ff|5");
    strcpy(fmt_h, "%hhu|%hhd|%hu|%hd|%04hX|%s");
    nvme_snprintf(b, sizeof(b), fmt_h, 300, 200, 70000, -2, 0xabcdef, "ok");
    assert_string_equal(b, "44|-56|4464|-2|CDEF|ok");
    /* Zero padding goes after %p's 0x, as glibc pads it (before:
     * "0000000x1000"); blanks before it, and after it with '-'. */
    char fmt_p[32];
    strcpy(fmt_p, "[%012p][%12p][%-12p]"); /* '0' with %p: not ISO C, checked at run time */
    nvme_snprintf(b, sizeof(b), fmt_p, (void *)(uintptr_t)0x1000, (void *)(uintptr_t)0x1000,
                  (void *)(uintptr_t)0x1000);
    assert_string_equal(b, "[0x0000001000][      0x1000][0x1000      ]");
    /* Unknown conversions are copied, a lone '%' at the end is dropped:
     * built at run time so the compiler's format check lets it through. */
    char fmt[16];
    strcpy(fmt, "%q and %");
    nvme_snprintf(b, sizeof(b), fmt);
    assert_string_equal(b, "%q and ");
}

static void output_is_truncated_and_terminated(void **state)
{
    (void)state;
    char b[8];
    memset(b, 'x', sizeof(b));
    int n = nvme_snprintf(b, sizeof(b), "%s", "0123456789");
    assert_int_equal(n, 10); /* the length it would have written */
    assert_string_equal(b, "0123456");
    assert_int_equal(nvme_snprintf(b, 0, "abc"), 3);
    assert_int_equal(b[0], '0'); /* size 0 writes nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conversions_match_printf),
        cmocka_unit_test(output_is_truncated_and_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
