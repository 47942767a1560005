/* SPDX-License-Identifier: MIT */
/*
 * Reservations (NVMe 1.4 §6.10-6.13, §8) through nvmectl's resv-register,
 * resv-acquire, resv-release and resv-report (nvme-cli 2.x's options and
 * output) against the simulator's reservations (ONCS bit 5): the life of
 * a registration and a reservation, Reservation Conflict for a wrong key
 * and for I/O a reservation denies, a controller without reservations,
 * and a report whose REGCTL claims more registrants than were transferred.
 */
#include "nvmectl_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void start(struct fx *f, bool resv)
{
    fx_config(f);
    if (resv)
        f->cfg.oncs |= NVME_ONCS_RESERVATIONS;
    fx_start(f);
}

/* Register, report (key, generation), acquire Write Exclusive, report
 * (holder, type), release, unregister: nvme-cli's messages and report. */
static void register_acquire_release_unregister(void **state)
{
    (void)state;
    struct fx f;
    start(&f, true);
    ok(&f, "id-ns -n 1");
    expect("rescap  : 0xfe"); /* types 1-6 and IEKEY */
    ok(&f, "resv-report -n 1");
    expect("\nNVME Reservation status:\n\ngen       : 0\nrtype     : 0\nregctl    : 0\n"
           "ptpls     : 0\n");
    ok(&f, "resv-register -n 1 --nrkey=0xabc");
    expect("NVME Reservation  success\n");
    ok(&f, "resv-report -n 1");
    expect("gen       : 1\nrtype     : 0\nregctl    : 1\n");
    expect("regctl[0] :\n  cntlid  : 1\n  rcsts   : 0\n  hostid  : 0\n  rkey    : abc\n");
    /* Registering again with the same key changes nothing; another key
     * from a registrant is a conflict. */
    ok(&f, "resv-register -n 1 -k 0xabc");
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "resv-register -n 1 -k 0xabd")),
                     NVME_SC_RESERVATION_CONFLICT);
    ok(&f, "resv-acquire -n 1 -c 0xabc -t 1");
    expect("NVME Reservation Acquire success\n");
    ok(&f, "resv-report -n 1");
    expect("gen       : 2\nrtype     : 1\nregctl    : 1\n"); /* acquire: no new generation */
    expect("  rcsts   : 1\n");
    ok(&f, "resv-report -n 1 -o json");
    expect("\"gen\":2");
    expect("\"rtype\":1");
    expect("\"regctl\":1");
    expect("\"regctls\":[");
    expect("\"rkey\":2748");
    /* The holder writes. */
    ok(&f, "write -n 1 -s 0 -p 0x5a");
    /* Release with another type than the one held: Invalid Field. */
    int rc = fx_nvmectl(&f, &out, "resv-release -n 1 -c 0xabc -t 2");
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_FIELD);
    ok(&f, "resv-release -n 1 --crkey=0xabc --rtype=1");
    expect("NVME Reservation Release success\n");
    ok(&f, "resv-report -n 1");
    expect("rtype     : 0\nregctl    : 1\n");
    ok(&f, "resv-register -n 1 -r 1 -c 0xabc"); /* unregister */
    ok(&f, "resv-report -n 1");
    expect("gen       : 3\nrtype     : 0\nregctl    : 0\n");
    expect_not("regctl[0]");
    fx_stop(&f);
}

/* A namespace the host keeps read-only (nvme_ns_set_read_only) writes no
 * block, but reservations are no block writes: they are sent. */
static void a_read_only_namespace_takes_reservations(void **state)
{
    (void)state;
    struct fx f;
    start(&f, true);
    assert_int_equal(nvme_ns_set_read_only(f.ctrl, 1, true), 0);
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 1 -s 0 -p 0x5a"), NVME_ERR_RDONLY);
    ok(&f, "resv-register -n 1 -k 7");
    ok(&f, "resv-acquire -n 1 -c 7 -t 1");
    ok(&f, "resv-report -n 1");
    expect("rtype     : 1\nregctl    : 1\n");
    ok(&f, "resv-release -n 1 -c 7 -t 1");
    fx_stop(&f);
}

/* A wrong CRKEY is a Reservation Conflict (SCT 0h, SC 83h): nvmectl
 * returns the status (the hosted program exits 1, as nvme-cli) and names
 * it; IEKEY skips the check.  A reservation another host holds keeps this
 * one's writes out, not its reads; Preempt takes it over. */
static void wrong_key_and_non_holder_io_are_reservation_conflicts(void **state)
{
    (void)state;
    struct fx f;
    start(&f, true);
    ok(&f, "resv-register -n 1 -k 1");
    int rc = fx_nvmectl(&f, &out, "resv-acquire -n 1 -c 2 -t 1");
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SCT((unsigned)rc), NVME_SCT_GENERIC);
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_RESERVATION_CONFLICT);
    expect("nvme0n1: reservation acquire: Reservation Conflict (SCT 0 SC 83, DNR)");
    rc = fx_nvmectl(&f, &out, "resv-register -n 1 -r 2 -c 7 -k 3");
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_RESERVATION_CONFLICT);
    ok(&f, "resv-register -n 1 -r 2 -c 7 -k 3 -i"); /* replace, ignoring the key */
    ok(&f, "resv-report -n 1");
    expect("  rkey    : 3\n");
    rc = fx_nvmectl(&f, &out, "resv-release -n 1 -c 1 -t 1");
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_RESERVATION_CONFLICT);

    /* Another host holds Write Exclusive. */
    assert_int_equal(nvme_sim_resv_other(f.sim, 1, 0x77, NVME_RTYPE_WRITE_EXCLUSIVE), 0);
    rc = fx_nvmectl(&f, &out, "write -n 1 -s 0 -p 1");
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_RESERVATION_CONFLICT);
    expect("Reservation Conflict");
    ok(&f, "read -n 1 -s 0");
    ok(&f, "flush -n 1");
    rc = fx_nvmectl(&f, &out, "resv-acquire -n 1 -c 3 -t 1"); /* held by the other */
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_RESERVATION_CONFLICT);
    ok(&f, "resv-report -n 1");
    expect("rtype     : 1\nregctl    : 2\n");
    expect("regctl[1] :\n  cntlid  : 2\n  rcsts   : 1\n");
    /* Preempt with the holder's key: its registration goes, the
     * reservation (now Exclusive Access) is this host's. */
    ok(&f, "resv-acquire -n 1 -c 3 -p 0x77 -t 2 -a 1");
    ok(&f, "resv-report -n 1");
    expect("gen       : 4\nrtype     : 2\nregctl    : 1\n");
    expect("regctl[0] :\n  cntlid  : 1\n  rcsts   : 1\n");
    ok(&f, "write -n 1 -s 0 -p 1");
    /* Clear: every registration and the reservation go. */
    ok(&f, "resv-release -n 1 -c 3 -a 1");
    ok(&f, "resv-report -n 1");
    expect("gen       : 5\nrtype     : 0\nregctl    : 0\n");
    fx_stop(&f);
}

/* Registrants Only types let registrants through, keep others out. */
static void registrants_only_reservation_admits_registrants(void **state)
{
    (void)state;
    struct fx f;
    start(&f, true);
    assert_int_equal(nvme_sim_resv_other(f.sim, 1, 9, NVME_RTYPE_EA_REGISTRANTS_ONLY), 0);
    int rc = fx_nvmectl(&f, &out, "read -n 1 -s 0");
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_RESERVATION_CONFLICT);
    ok(&f, "resv-register -n 1 -k 5");
    ok(&f, "read -n 1 -s 0");
    ok(&f, "write -n 1 -s 0 -p 2");
    fx_stop(&f);
}

/* Without ONCS bit 5 nothing is sent and the reason is named; nvme-cli's
 * range checks of the actions and CPTPL, before anything is sent. */
static void without_oncs_bit_5_and_bad_options_nothing_is_sent(void **state)
{
    (void)state;
    struct fx f;
    start(&f, false);
    uint64_t io = nvme_sim_stats(f.sim)->io_cmds;
    int rc = fx_nvmectl(&f, &out, "resv-register -n 1 -k 1");
    assert_int_equal(rc, NVME_ERR_UNSUPPORTED);
    expect("nvme0: resv-register: reservations not supported by this controller (ONCS bit 5 "
           "clear)");
    assert_int_equal(fx_nvmectl(&f, &out, "resv-report -n 1"), NVME_ERR_UNSUPPORTED);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, io);
    /* The device itself: Invalid Command Opcode. */
    struct nvme_sqe sqe = {.opc = NVME_CMD_RESV_REPORT, .nsid = 1, .cdw10 = 5};
    uint8_t b[24];
    rc = nvme_io_passthru(f.ctrl, &sqe, b, sizeof(b), NVME_DMA_FROM_DEVICE, NULL);
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_OPCODE);
    fx_stop(&f);

    start(&f, true);
    io = nvme_sim_stats(f.sim)->io_cmds;
    assert_int_equal(fx_nvmectl(&f, &out, "resv-register -n 1 -k 1 -p 4"), NVME_ERR_INVAL);
    expect("invalid cptpl:4");
    assert_int_equal(fx_nvmectl(&f, &out, "resv-register -n 1 -k 1 -r 8"), NVME_ERR_INVAL);
    expect("invalid rrega:8");
    assert_int_equal(fx_nvmectl(&f, &out, "resv-acquire -n 1 -t 1 -a 9"), NVME_ERR_INVAL);
    expect("invalid racqa:9");
    assert_int_equal(fx_nvmectl(&f, &out, "resv-release -n 1 -t 256"), NVME_ERR_INVAL);
    assert_int_not_equal(fx_nvmectl(&f, &out, "resv-report"), 0);
    expect("-n NSID is required");
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, io);
    /* CPTPL 11b without Persist Through Power Loss (RESCAP bit 0): the
     * device refuses it. */
    rc = fx_nvmectl(&f, &out, "resv-register -n 1 -k 1 -p 3");
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_FIELD);
    fx_stop(&f);
}

/* REGCTL is device data: a report claiming 65535 registrants prints only
 * the entries the transfer holds ((4096 - 24) / 24 = 169), in a scratch
 * buffer of exactly the transfer (ASan: no read past it); a short -d and
 * the extended structure likewise. */
static void report_entries_are_bounded_by_the_transfer(void **state)
{
    (void)state;
    struct fx f;
    start(&f, true);
    ok(&f, "resv-register -n 1 -k 0x1234");
    assert_int_equal(nvme_sim_resv_other(f.sim, 1, 0x77, 0), 0);
    assert_int_equal(nvme_sim_resv_other(f.sim, 1, 0x78, 0), 0);
    ok(&f, "resv-report -n 1 -d 11"); /* 48 bytes: the header and one entry */
    expect("regctl    : 3\n");
    expect("regctl[0] :");
    expect_not("regctl[1]");
    expect("(2 more registrant(s) past the 48 bytes transferred)");
    ok(&f, "resv-report -n 1 -e -d 31"); /* 128 bytes: 64 + one extended entry */
    expect("regctlext[0] :\n  cntlid     : 1\n  rcsts      : 0\n  rkey       : 1234\n"
           "  hostid     : 00000000000000000000000000000000\n");
    expect_not("regctlext[1]");
    ok(&f, "resv-report -n 1 -e -o json");
    expect("\"regctlext\":[");
    expect("\"hostid\":\"a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a4\""); /* the second other host */

    assert_int_equal(nvme_sim_ns_corrupt(f.sim, 1, NVME_SIM_CORRUPT_REGCTL, 0), 0);
    ok(&f, "resv-report -n 1");
    expect("regctl    : 65535\n");
    expect("regctl[168] :");
    expect_not("regctl[169]");
    ok(&f, "resv-report -n 1 -e");
    expect("regctlext[62] :"); /* (4096 - 64) / 64 = 63 */
    expect_not("regctlext[63]");
    /* The same with a scratch buffer of exactly 4096 bytes on the heap. */
    uint8_t *buf = aligned_alloc(4096, 4096);
    assert_non_null(buf);
    struct nvmectl_io io = {fx_print, &out, buf, 4096, NULL, "nvme0", fx_write_raw, NULL};
    for (int eds = 0; eds < 2; eds++) {
        char line[64];
        snprintf(line, sizeof(line), "resv-report -n 1%s", eds ? " -e" : "");
        out.len = 0;
        out.text[0] = '\0';
        assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
        expect(eds ? "regctlext[62] :" : "regctl[168] :");
        snprintf(line, sizeof(line), "resv-report -n 1 -o json%s", eds ? " -e" : "");
        out.len = 0;
        out.text[0] = '\0';
        assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
        assert_true(json_one_value(out.text));
    }
    free(buf);
    /* -b: the 4096 bytes as read. */
    ok(&f, "resv-report -n 1 -b");
    assert_int_equal(out.bin_len, 4096);
    assert_int_equal(out.bin[5] | out.bin[6] << 8, 0xffff);
    fx_stop(&f);
}

/* get-feature -f 0x81 shows the Host Identifier the controller returns:
 * 8 bytes, 16 with EXHID (-c 1), as nvme-cli; not 8 zero bytes more. */
static void host_identifier_is_shown_at_its_length(void **state)
{
    (void)state;
    struct fx f;
    start(&f, true);
    ok(&f, "set-feature -f 0x81 -v 1 -p 0xa5");
    ok(&f, "get-feature -f 0x81 -o json");
    expect("\"data\":\"a5a5a5a5a5a5a5a5\"");
    ok(&f, "get-feature -f 0x81 -c 1 -o json");
    expect("\"data\":\"a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\"");
    fx_stop(&f);
}

/* The success lines, whole, as nvme-cli 2.4's nvme.c prints them:
 *   resv_register: printf("NVME Reservation  success\n");  (two blanks)
 *   resv_acquire:  printf("NVME Reservation Acquire success\n");
 *   resv_release:  printf("NVME Reservation Release success\n"); */
static void success_lines_are_nvme_cli_s(void **state)
{
    (void)state;
    struct fx f;
    start(&f, true);
    ok(&f, "resv-register -n 1 -k 0x12");
    assert_string_equal(out.text, "NVME Reservation  success\n");
    ok(&f, "resv-acquire -n 1 -c 0x12 -t 1");
    assert_string_equal(out.text, "NVME Reservation Acquire success\n");
    ok(&f, "resv-release -n 1 -c 0x12 -t 1");
    assert_string_equal(out.text, "NVME Reservation Release success\n");
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(register_acquire_release_unregister),
        cmocka_unit_test(success_lines_are_nvme_cli_s),
        cmocka_unit_test(a_read_only_namespace_takes_reservations),
        cmocka_unit_test(wrong_key_and_non_holder_io_are_reservation_conflicts),
        cmocka_unit_test(registrants_only_reservation_admits_registrants),
        cmocka_unit_test(without_oncs_bit_5_and_bad_options_nothing_is_sent),
        cmocka_unit_test(report_entries_are_bounded_by_the_transfer),
        cmocka_unit_test(host_identifier_is_shown_at_its_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
