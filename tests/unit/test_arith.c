/* SPDX-License-Identifier: MIT */
/* The core's 32-bit divides on CPUs without a divide instruction
 * (ARMv7-A without the divide extension: NVME_SOFT_DIVIDE, set here as
 * such a build sets it): the same quotient and remainder as the
 * compiler's division, around the shortcuts (n < d, n == d) and at the
 * ends of the range. */
#include "fixture.h"

#define NVME_SOFT_DIVIDE 1
#include "../../libnvme-core/src/nvme_internal.h"

static void soft_divides_match_the_instruction(void **state)
{
    (void)state;
    const uint32_t n[] = {0,    1,     2,           3,           7,           4095,       4096,
                          4097, 65535, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
    const uint32_t d[] = {1, 2, 3, 7, 10, 16, 4096, 4097, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
        for (size_t j = 0; j < sizeof(d) / sizeof(d[0]); j++) {
            assert_true(nvme_div32(n[i], d[j]) == n[i] / d[j]);
            assert_true(nvme_mod32(n[i], d[j]) == n[i] % d[j]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(soft_divides_match_the_instruction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
