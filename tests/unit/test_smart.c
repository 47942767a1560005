/* SPDX-License-Identifier: MIT */
/* SMART / Health Information (Get Log Page 02h, NVMe 1.4 §5.14.1.2):
 * every field decoded, 128-bit counters exact, host I/O counted. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

static void smart_log_fields_match_the_device(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.smart.critical_warning = NVME_SMART_CRIT_SPARE | NVME_SMART_CRIT_TEMPERATURE;
    f.cfg.smart.temperature = 318;
    f.cfg.smart.avail_spare = 7;
    f.cfg.smart.spare_thresh = 10;
    f.cfg.smart.percent_used = 42;
    f.cfg.smart.power_cycles = (struct nvme_u128){12, 0};
    f.cfg.smart.power_on_hours = (struct nvme_u128){9000, 0};
    f.cfg.smart.unsafe_shutdowns = (struct nvme_u128){3, 0};
    f.cfg.smart.media_errors = (struct nvme_u128){UINT64_MAX, 1}; /* 2^65 - 1 */
    f.cfg.smart.err_log_entries = (struct nvme_u128){5, 0};
    f.cfg.smart.temp_sensor[0] = 300;
    fx_start(&f);

    struct nvme_smart_log log;
    assert_int_equal(nvme_get_smart_log(f.ctrl, &log), 0);
    assert_int_equal(log.critical_warning, 0x3);
    assert_int_equal(log.composite_temp, 318);
    assert_int_equal(log.avail_spare, 7);
    assert_int_equal(log.avail_spare_thresh, 10);
    assert_int_equal(log.percent_used, 42);
    assert_int_equal(nvme_u128_from_le(log.power_cycles).lo, 12);
    assert_int_equal(nvme_u128_from_le(log.power_on_hours).lo, 9000);
    assert_int_equal(nvme_u128_from_le(log.unsafe_shutdowns).lo, 3);
    struct nvme_u128 me = nvme_u128_from_le(log.media_errors);
    assert_true(me.lo == UINT64_MAX && me.hi == 1);
    assert_int_equal(log.temp_sensor[0], 300);
    fx_stop(&f);
}

static void host_commands_and_data_units_count_real_io(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    struct nvme_smart_log a, b;
    uint8_t *buf = aligned_alloc(4096, 1u << 20);
    assert_int_equal(nvme_get_smart_log(f.ctrl, &a), 0);
    /* 2000 blocks of 512 read in one call: data units are thousands of
     * 512-byte units, rounded up (§5.14.1.2) -> +2; MDTS 128 KiB splits
     * 1000 KiB into 8 commands. */
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 2000, buf), 0);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(nvme_get_smart_log(f.ctrl, &b), 0);
    assert_int_equal(nvme_u128_from_le(b.host_reads).lo - nvme_u128_from_le(a.host_reads).lo, 8);
    assert_int_equal(nvme_u128_from_le(b.host_writes).lo - nvme_u128_from_le(a.host_writes).lo, 1);
    assert_int_equal(
        nvme_u128_from_le(b.data_units_read).lo - nvme_u128_from_le(a.data_units_read).lo, 2);
    free(buf);
    fx_stop(&f);
}

static void u128_counters_print_exactly(void **state)
{
    (void)state;
    char s[48];
    assert_string_equal(nvme_u128_to_dec((struct nvme_u128){0, 0}, s, sizeof(s)), "0");
    assert_string_equal(nvme_u128_to_dec((struct nvme_u128){UINT64_MAX, 0}, s, sizeof(s)),
                        "18446744073709551615");
    assert_string_equal(nvme_u128_to_dec((struct nvme_u128){0, 1}, s, sizeof(s)),
                        "18446744073709551616");
    assert_string_equal(nvme_u128_to_dec((struct nvme_u128){UINT64_MAX, UINT64_MAX}, s, sizeof(s)),
                        "340282366920938463463374607431768211455");
    uint8_t le[16] = {0x01, 0x02, 0, 0, 0, 0, 0, 0, 0x03};
    struct nvme_u128 v = nvme_u128_from_le(le);
    assert_true(v.lo == 0x0201 && v.hi == 0x03);
    assert_string_equal(nvme_u128_to_dec(v, s, 8), "5534023"); /* truncated to the buffer */
}

static void smart_log_into_an_unaligned_buffer_works(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.smart.temperature = 310;
    fx_start(&f);
    uint8_t raw[600];
    struct nvme_smart_log *log = (struct nvme_smart_log *)(void *)(raw + 1);
    assert_int_equal(nvme_get_smart_log(f.ctrl, log), 0);
    assert_int_equal(raw[1 + 1] | raw[1 + 2] << 8, 310);
    assert_int_equal(nvme_get_log_page(f.ctrl, NVME_LID_SMART, NVME_NSID_ALL, raw, 6),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_get_log_page(f.ctrl, NVME_LID_SMART, NVME_NSID_ALL, NULL, 512),
                     NVME_ERR_INVAL);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(smart_log_fields_match_the_device),
        cmocka_unit_test(host_commands_and_data_units_count_real_io),
        cmocka_unit_test(u128_counters_print_exactly),
        cmocka_unit_test(smart_log_into_an_unaligned_buffer_works),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
