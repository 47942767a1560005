/* SPDX-License-Identifier: MIT */
/* Status decoding (NVMe 1.4 §4.6.1): every SCT/SC of NVMe 1.4 has its
 * spec name; DNR/More/CRD are decoded; errors have names. */
#include "fixture.h"

#include <string.h>

struct named {
    uint8_t sct, sc;
    const char *name;
};

/* Spot checks taken from Figures 127-132 of NVMe 1.4, across each table. */
static const struct named spec_names[] = {
    {0, 0x00, "Successful Completion"},
    {0, 0x01, "Invalid Command Opcode"},
    {0, 0x02, "Invalid Field in Command"},
    {0, 0x0b, "Invalid Namespace or Format"},
    {0, 0x13, "PRP Offset Invalid"},
    {0, 0x22, "Transient Transport Error"},
    {0, 0x80, "LBA Out of Range"},
    {0, 0x84, "Format In Progress"},
    {1, 0x00, "Completion Queue Invalid"},
    {1, 0x01, "Invalid Queue Identifier"},
    {1, 0x02, "Invalid Queue Size"},
    {1, 0x0c, "Invalid Queue Deletion"},
    {1, 0x25, "ANA Attach Failed"},
    {1, 0x82, "Attempted Write to Read Only Range"},
    {2, 0x80, "Write Fault"},
    {2, 0x81, "Unrecovered Read Error"},
    {2, 0x87, "Deallocated or Unwritten Logical Block"},
    {3, 0x00, "Internal Path Error"},
    {3, 0x71, "Command Aborted By Host"},
};

static void given_spec_codes_names_match_the_spec(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(spec_names) / sizeof(spec_names[0]); i++) {
        uint16_t sf = NVME_SF(spec_names[i].sct, spec_names[i].sc);
        assert_string_equal(nvme_status_name(sf), spec_names[i].name);
    }
}

/* Every defined code of NVMe 1.4 has a real name: counted per table. */
static void every_defined_code_has_a_name(void **state)
{
    (void)state;
    /* Generic 00h-16h, 18h-22h, 80h-84h; specific 00h-03h, 05h-16h,
     * 18h-25h, 80h-82h; media 80h-87h; path 00h-03h, 60h, 70h, 71h. */
    static const struct {
        uint8_t sct, lo, hi;
    } ranges[] = {{0, 0x00, 0x16}, {0, 0x18, 0x22}, {0, 0x80, 0x84}, {1, 0x00, 0x03},
                  {1, 0x05, 0x16}, {1, 0x18, 0x25}, {1, 0x80, 0x82}, {2, 0x80, 0x87},
                  {3, 0x00, 0x03}, {3, 0x60, 0x60}, {3, 0x70, 0x71}};
    unsigned named = 0;
    for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++)
        for (unsigned sc = ranges[r].lo; sc <= ranges[r].hi; sc++) {
            const char *n = nvme_status_name(NVME_SF(ranges[r].sct, sc));
            if (strcmp(n, "Reserved") == 0)
                fail_msg("SCT %u SC %02x has no name", ranges[r].sct, sc);
            named++;
        }
    assert_int_equal(named, 23 + 11 + 5 + 4 + 18 + 14 + 3 + 8 + 4 + 1 + 2);
}

static void reserved_and_vendor_codes_are_named_so(void **state)
{
    (void)state;
    assert_string_equal(nvme_status_name(NVME_SF(0, 0x17)), "Reserved");
    assert_string_equal(nvme_status_name(NVME_SF(1, 0x04)), "Reserved");
    assert_string_equal(nvme_status_name(NVME_SF(2, 0x00)), "Reserved");
    assert_string_equal(nvme_status_name(NVME_SF(0, 0xc5)), "Vendor Specific");
    assert_string_equal(nvme_status_name(NVME_SF(7, 0x01)), "Vendor Specific");
    assert_string_equal(nvme_status_name(NVME_SF(5, 0x01)), "Reserved");
    /* C0h-FFh are vendor codes of the defined types only: a reserved
     * type's codes are reserved (NVMe 2.0 §4.2.3.1, SCT 4h-6h). */
    for (unsigned sct = 4; sct <= 6; sct++)
        assert_string_equal(nvme_status_name(NVME_SF(sct, 0xc5)), "Reserved");
    assert_string_equal(nvme_sct_name(2), "Media and Data Integrity Errors");
    assert_string_equal(nvme_sct_name(6), "Reserved");
}

/* The Status Code Type names (NVMe 1.4 §4.6.1, Status Code Type values;
 * the same in 2.0): 0h Generic Command Status, 1h Command Specific
 * Status, 2h Media and Data Integrity Errors, 3h Path Related Status,
 * 4h-6h reserved, 7h Vendor Specific; anything wider than the 3-bit
 * field is no type either. */
static void every_status_code_type_has_its_spec_name(void **state)
{
    (void)state;
    static const char *const names[] = {"Generic Command Status",
                                        "Command Specific Status",
                                        "Media and Data Integrity Errors",
                                        "Path Related Status",
                                        "Reserved",
                                        "Reserved",
                                        "Reserved",
                                        "Vendor Specific"};
    for (uint16_t sct = 0; sct < 8; sct++)
        assert_string_equal(nvme_sct_name(sct), names[sct]);
    assert_string_equal(nvme_sct_name(8), "Reserved");
    assert_string_equal(nvme_sct_name(0xffff), "Reserved");
    /* The type of a status field, as nvmectl prints it. */
    assert_string_equal(nvme_sct_name(NVME_SF_SCT(NVME_SF(NVME_SCT_PATH, 0x71))),
                        "Path Related Status");
}

static void status_field_bits_decode(void **state)
{
    (void)state;
    /* CQE DW3[31:16]: P | SC<<1 | SCT<<9 | CRD<<12 | M<<14 | DNR<<15 (Figure 124). */
    uint16_t dw3_hi = (uint16_t)(1u | (0x81u << 1) | (2u << 9) | (1u << 12) | (1u << 14) |
                                 (1u << 15));
    uint16_t sf = NVME_CQE_SF(dw3_hi);
    assert_int_equal(NVME_CQE_PHASE(dw3_hi), 1);
    assert_int_equal(NVME_SF_SC(sf), 0x81);
    assert_int_equal(NVME_SF_SCT(sf), 2);
    assert_int_equal(NVME_SF_CRD(sf), 1);
    assert_int_equal(NVME_SF_MORE(sf), 1);
    assert_int_equal(NVME_SF_DNR(sf), 1);
    assert_string_equal(nvme_status_name(sf), "Unrecovered Read Error");
}

static void retry_follows_dnr_and_kind(void **state)
{
    (void)state;
    assert_true(nvme_status_retryable(NVME_SF(0, NVME_SC_NS_NOT_READY)));
    assert_false(nvme_status_retryable(NVME_SF(0, NVME_SC_NS_NOT_READY) | NVME_SF_DNR_BIT));
    assert_false(nvme_status_retryable(NVME_SF(0, NVME_SC_INVALID_OPCODE)));
    assert_false(nvme_status_retryable(NVME_SF(0, NVME_SC_LBA_RANGE)));
    assert_true(nvme_status_retryable(NVME_SF(2, NVME_SC_UNRECOVERED_READ)));
    assert_false(nvme_status_retryable(NVME_SF(2, NVME_SC_COMPARE_FAILED)));
    assert_false(nvme_status_retryable(NVME_SF(2, NVME_SC_ACCESS_DENIED)));
    assert_false(nvme_status_retryable(NVME_SF(2, NVME_SC_DEALLOCATED_BLOCK)));
    assert_false(nvme_status_retryable(0));
}

/* Success is SCT 0 SC 0 whatever else the field holds (NVMe 2.0 §4.2.3,
 * Figures 100-101: DNR "should" then be 0, More only points to the Error
 * Information log): a flush answered so is done, as Linux's
 * nvme_error_status looks at SCT and SC alone (before: the command failed
 * with the positive status 2000h, "Successful Completion"). */
static void a_success_with_more_dnr_or_crd_set_is_a_success(void **state)
{
    (void)state;
    static const uint16_t extra[] = {NVME_SF_MORE_BIT, NVME_SF_DNR_BIT, 1u << 11};
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_FLUSH, extra[i], 1);
        assert_int_equal(nvme_flush(f.ctrl, 1), 0);
        /* And such an entry posted before a reset, which the reset
         * harvests (nvme_qpair_harvest). */
        fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_FLUSH, extra[i], 1);
        struct fx_rec r = {0, -100};
        assert_int_equal(nvme_submit_flush(f.ctrl, 1, 1, 0, fx_rec_cb, &r), 0);
        assert_int_equal(r.calls, 0); /* its entry posted, not reaped */
        assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
        fx_poll_until(&f, 1, &r, 100000u);
        assert_int_equal(r.calls, 1);
        assert_int_equal(r.result, 0);
    }
    fx_stop(&f);
}

static void every_error_value_has_a_distinct_name(void **state)
{
    (void)state;
    const char *seen[32] = {0};
    for (int e = NVME_OK; e >= NVME_ERR_STATE; e--) {
        const char *n = nvme_strerror(e);
        assert_string_not_equal(n, "unknown error");
        for (int j = 0; j < -e; j++)
            assert_string_not_equal(seen[j], n);
        seen[-e] = n;
    }
    assert_string_equal(nvme_strerror(-99), "unknown error");
    assert_string_equal(nvme_strerror(NVME_SF(0, 0x80)), "LBA Out of Range");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(given_spec_codes_names_match_the_spec),
        cmocka_unit_test(every_defined_code_has_a_name),
        cmocka_unit_test(reserved_and_vendor_codes_are_named_so),
        cmocka_unit_test(every_status_code_type_has_its_spec_name),
        cmocka_unit_test(status_field_bits_decode),
        cmocka_unit_test(retry_follows_dnr_and_kind),
        cmocka_unit_test(a_success_with_more_dnr_or_crd_set_is_a_success),
        cmocka_unit_test(every_error_value_has_a_distinct_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
