/* SPDX-License-Identifier: MIT */
/*
 * Log pages nvme-cli 2.x has and nvmectl's older commands did not, through
 * nvmectl against the simulator: telemetry-log (NVMe 2.0 §5.16.1.8,
 * §5.16.1.9, §8.24), supported-log-pages (§5.16.1.1), endurance-log
 * (§5.16.1.10), ana-log (§5.16.1.13); and the Identify structures
 * nvme-cli shows by commands of their own: primary-ctrl-caps (CNS 14h),
 * list-secondary (CNS 15h), id-iocs (CNS 1Ch), nvm-id-ctrl (CNS 06h CSI
 * 00h), nvm-id-ns (CNS 05h CSI 00h); and virt-mgmt, Virtualization
 * Management (1Ch), whose work those two show.  Expected values come from the spec's layouts and the
 * simulator's documented contents; hostile headers (nvme_sim_telemetry_
 * header) must stop the command before it reads or prints past what it
 * may (under ASan the bounds are checked too).
 */
#include "nvmectl_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void start(struct fx *f, uint8_t lpa)
{
    fx_config(f);
    f->cfg.lpa |= lpa;
    fx_start(f);
}

static unsigned le16(const uint8_t *p) { return p[0] | (unsigned)p[1] << 8; }

/* Bytes [from, to) of the raw output all equal v. */
static void bin_all(size_t from, size_t to, uint8_t v)
{
    for (size_t i = from; i < to; i++)
        if (out.bin[i] != v)
            fail_msg("byte %zu is %u, not %u", i, out.bin[i], v);
}

/* ------------------------------------------------------------------ */
/* telemetry-log                                                       */
/* ------------------------------------------------------------------ */

/* Host-Initiated: -g 1 (the default) creates a capture (Host-Initiated
 * Data Generation Number, byte 381, goes up; every simulated data byte is
 * it), -g 0 reads the last one; -d picks the end: the simulator's Data
 * Area 1/2/3 Last Blocks are 7, 15 and 31, so 4096, 8192, 16384 bytes. */
static void telemetry_host_initiated_reads_up_to_the_data_area(void **state)
{
    (void)state;
    struct fx f;
    start(&f, NVME_LPA_TELEMETRY);
    ok(&f, "telemetry-log -b");
    assert_int_equal(out.bin_len, 16384);
    assert_int_equal(out.bin[0], NVME_LID_TELEMETRY_HOST);
    assert_int_equal(le16(out.bin + 8), 7);
    assert_int_equal(le16(out.bin + 10), 15);
    assert_int_equal(le16(out.bin + 12), 31);
    assert_int_equal(out.bin[381], 1);
    bin_all(512, 16384, 1);
    ok(&f, "telemetry-log --host-generate=0 --data-area=1 -b");
    assert_int_equal(out.bin_len, 4096);
    assert_int_equal(out.bin[381], 1); /* no new capture */
    bin_all(512, 4096, 1);
    ok(&f, "telemetry-log -g 1 -d 2 -b");
    assert_int_equal(out.bin_len, 8192);
    assert_int_equal(out.bin[381], 2);
    bin_all(512, 8192, 2);
    /* Text: a line, then the hex dump of the whole log. */
    ok(&f, "telemetry-log -g 0 -d 1");
    expect("Telemetry Host-Initiated log of nvme0: data area 1, generation 2, 4096 bytes\n"
           "00000000  07 00 00 00 00 00 00 00  07 00 0f 00 1f 00 00 00  |................|\n");
    expect("00000170  00 00 00 00 00 00 00 00  00 00 00 00 00 02 00 00  |................|\n"
           "00000180  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"
           "*\n"
           "00000200  02 02 02 02 02 02 02 02  02 02 02 02 02 02 02 02  |................|\n"
           "*\n");
    ok(&f, "telemetry-log -g 0 -d 1 -o json");
    expect("  \"log_id\":7,\n  \"data_area\":1,\n  \"generation\":2,\n  \"length\":4096,\n"
           "  \"data\":\"070000000000000007000f001f00");
    fx_stop(&f);
}

static struct {
    char path[64];
    uint8_t data[65536];
    size_t len;
    int calls;
} file;

static long write_file(void *arg, const char *path, const void *data, size_t len)
{
    (void)arg;
    file.calls++;
    snprintf(file.path, sizeof(file.path), "%s", path);
    if (len > sizeof(file.data))
        return -1;
    memcpy(file.data, data, len);
    file.len = len;
    return (long)len;
}

static long broken_write_file(void *arg, const char *path, const void *data, size_t len)
{
    (void)arg, (void)path, (void)data, (void)len;
    return -1;
}

/* -O FILE: the log, header included, goes to io->write_file and nothing
 * is printed (nvme-cli); a host without files refuses -O before sending
 * anything, and a write that fails is an error. */
static void telemetry_output_file(void **state)
{
    (void)state;
    struct fx f;
    start(&f, NVME_LPA_TELEMETRY);
    static uint8_t buf[1u << 16] __attribute__((aligned(4096)));
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), NULL, "nvme0", NULL, write_file};
    char line[] = "telemetry-log --output-file=/tmp/tel.bin -d 1";
    out.len = 0;
    out.text[0] = '\0';
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
    assert_int_equal(file.calls, 1);
    assert_string_equal(file.path, "/tmp/tel.bin");
    assert_int_equal(file.len, 4096);
    assert_int_equal(file.data[0], NVME_LID_TELEMETRY_HOST);
    assert_int_equal(file.data[381], 1);
    assert_int_equal(file.data[4095], 1);
    assert_string_equal(out.text, "");
    io.write_file = broken_write_file;
    char line2[] = "telemetry-log -O /tmp/tel.bin -d 1";
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line2), NVME_ERR_INVAL);
    assert_non_null(strstr(out.text, "telemetry-log: Failed to write output file /tmp/tel.bin\n"));
    /* fx_nvmectl's host has no files. */
    fails(&f, "telemetry-log -O /tmp/tel.bin", NVME_ERR_UNSUPPORTED, 0);
    expect("-O FILE: this host has no files");
    fails(&f, "telemetry-log -d 0", NVME_ERR_INVAL, 0);
    fails(&f, "telemetry-log -d 5", NVME_ERR_INVAL, 0);
    fx_stop(&f);
}

/* Controller-Initiated (-c, LID 08h): nothing captured reads the header
 * alone, once, with nvme-cli's warning; a capture (Data Available, byte
 * 382, 1; Data Generation Number, byte 383) stays over reads with and
 * without -r: nvme-cli 2.4 reads LID 08h with RAE set always (nvme.c:
 * get_telemetry_log's .rae = true, line 794, which its -r flag cannot
 * clear; __get_telemetry_log_ctrl's header read with true, line 714),
 * so that it does not release the capture (before: the last header read
 * without -r cleared RAE, released the capture, and nothing captured was
 * read a second time with RAE clear).  get-log's RAE clear releases it. */
static void telemetry_controller_initiated_keeps_rae_set(void **state)
{
    (void)state;
    struct fx f;
    start(&f, NVME_LPA_TELEMETRY);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t admin = st->admin_cmds;
    ok(&f, "telemetry-log -c -b");
    assert_int_equal(st->admin_cmds - admin, 1); /* the header, once */
    expect("Warning: Telemetry Controller-Initiated Data Not Available.\n");
    assert_int_equal(out.bin_len, 512);
    assert_int_equal(out.bin[0], NVME_LID_TELEMETRY_CTRL);
    assert_int_equal(out.bin[382], 0);
    ok(&f, "telemetry-log -c -o json"); /* the warning inside the one JSON value */
    expect("\"warning\":\"Telemetry Controller-Initiated Data Not Available.\"");
    nvme_sim_telemetry_ctrl_capture(f.sim);
    ok(&f, "telemetry-log --controller-init -r -b");
    assert_int_equal(out.bin_len, 16384);
    assert_int_equal(out.bin[0], NVME_LID_TELEMETRY_CTRL);
    assert_int_equal(out.bin[382], 1);
    assert_int_equal(out.bin[383], 1);
    bin_all(512, 16384, 1);
    ok(&f, "telemetry-log -c -d 1 -b"); /* without -r: RAE set all the same */
    assert_int_equal(out.bin_len, 4096);
    assert_int_equal(out.bin[382], 1);
    ok(&f, "telemetry-log -c -d 1 -b");
    assert_int_equal(out.bin_len, 4096);
    assert_int_equal(out.bin[382], 1);
    ok(&f, "get-log -i 8 -l 512"); /* RAE clear: released */
    ok(&f, "telemetry-log -c -b");
    expect("Not Available");
    assert_int_equal(out.bin_len, 512);
    /* The Host-Initiated header reports the controller's capture too. */
    ok(&f, "telemetry-log -g 0 -d 1 -b");
    assert_int_equal(out.bin[382], 0);
    assert_int_equal(out.bin[383], 1);
    fx_stop(&f);
}

/* changed-ns-list-log reads with RAE set, as nvme-cli (its
 * nvme_get_log_changed_ns_list(rae = true)): the Namespace Attribute
 * Notice the core has not handled yet stays masked (§5.27.1.1: RAE set
 * leaves the event type masked), so a second change waits for the core's
 * own read instead of completing another of its AERs under it. */
static void changed_ns_list_log_keeps_the_event_for_the_core(void **state)
{
    (void)state;
    struct fx f;
    start(&f, 0);
    unsigned armed = nvme_sim_aer_outstanding(f.sim);
    assert_true(armed >= 2);
    struct nvme_sim_ns_config add = {.nsid = 2, .blocks = 64, .lba_size = 512};
    assert_int_equal(nvme_sim_ns_add(f.sim, &add), 0); /* the notice: one AER completes */
    assert_int_equal(nvme_sim_aer_outstanding(f.sim), armed - 1u);
    ok(&f, "changed-ns-list-log");
    expect("[   0]:0x2\n"); /* nvme-cli's 0-based index (below) */
    add.nsid = 3;
    assert_int_equal(nvme_sim_ns_add(f.sim, &add), 0);
    assert_int_equal(nvme_sim_aer_outstanding(f.sim), armed - 1u); /* still masked */
    fx_stop(&f);
}

/* changed-ns-list-log's text indexes the entries from 0, as nvme-cli
 * 2.4's nvme_show_changed_ns_list_log (nvme-print.c):
 *   printf("[%4u]:%#x\n", i, nsid);
 * (its list-ns and list-ctrl do the same), its JSON from 1
 * (json_changed_ns_list_log: snprintf(fmt, sizeof(fmt), "[%4u]", i + 1));
 * before, the text counted from 1 as the JSON does. */
static void changed_ns_list_log_text_counts_from_0_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f, 0);
    struct nvme_sim_ns_config add = {.nsid = 2, .blocks = 64, .lba_size = 512};
    assert_int_equal(nvme_sim_ns_add(f.sim, &add), 0);
    ok(&f, "changed-ns-list-log -o json");
    expect("\"[   1]\":\"0x2\"");
    add.nsid = 3;
    assert_int_equal(nvme_sim_ns_add(f.sim, &add), 0);
    ok(&f, "changed-ns-list-log");
    expect("[   0]:0x3\n");
    if (strstr(out.text, "[   1]") != NULL)
        fail_msg("a second entry the log does not hold:\n%s", out.text);
    fx_stop(&f);
}

/* -d 4 needs LPA bit 6 (refused before any command without it); with it,
 * ETDAS (Host Behavior Support byte 1) is set for the read, which then
 * reaches Data Area 4 (the simulator's ends at block 63: 32 KiB), and
 * cleared again afterwards. */
static void telemetry_data_area_4_sets_and_restores_etdas(void **state)
{
    (void)state;
    struct fx f;
    start(&f, NVME_LPA_TELEMETRY);
    fails(&f, "telemetry-log -d 4 -b", NVME_ERR_UNSUPPORTED, 0);
    expect("telemetry-log: Telemetry data area 4 not supported by device\n");
    fx_stop(&f);

    start(&f, NVME_LPA_TELEMETRY | NVME_LPA_TELEMETRY_DA4);
    ok(&f, "telemetry-log -d 3 -b"); /* ETDAS clear: no Data Area 4 */
    assert_int_equal(out.bin_len, 16384);
    assert_int_equal(out.bin[16] | out.bin[17] << 8, 0);
    ok(&f, "telemetry-log -d 4 -b");
    assert_int_equal(out.bin_len, 32768);
    assert_int_equal(out.bin[16] | out.bin[17] << 8 | out.bin[18] << 16 | out.bin[19] << 24, 63);
    bin_all(512, 32768, 2);
    uint8_t *hbs = fx_xalloc(512);
    uint32_t dw0;
    assert_int_equal(nvme_get_feature(f.ctrl, 0x16, 0, 0, 0, hbs, 512, &dw0), 0);
    assert_int_equal(hbs[1], 0); /* restored */
    /* Set by the host already: left set. */
    hbs[1] = 1;
    assert_int_equal(nvme_set_feature(f.ctrl, 0x16, 0, 0, 0, false, hbs, 512, &dw0), 0);
    ok(&f, "telemetry-log -d 4 -b");
    assert_int_equal(out.bin_len, 32768);
    assert_int_equal(nvme_get_feature(f.ctrl, 0x16, 0, 0, 0, hbs, 512, &dw0), 0);
    assert_int_equal(hbs[1], 1);
    free(hbs);
    fx_stop(&f);
}

/* Headers that lie: Last Blocks that do not ascend, a data area past the
 * scratch buffer (DA3LB 65535: 32 MiB; DA4LB FFFFFFFFh: 2 TiB, beyond 32
 * bits), none at all; each stops after the header (one command for 07h),
 * with a message. */
static void telemetry_hostile_headers_are_bounded(void **state)
{
    (void)state;
    struct fx f;
    start(&f, NVME_LPA_TELEMETRY | NVME_LPA_TELEMETRY_DA4);
    const uint32_t descending[4] = {7, 3, 31, 0};
    nvme_sim_telemetry_header(f.sim, descending);
    fails(&f, "telemetry-log -d 1 -b", NVME_ERR_PROTO, 1);
    expect("telemetry-log: the header's Data Area Last Blocks do not ascend (DA1LB 7, DA2LB 3, "
           "DA3LB 31, DA4LB 0)\n");
    assert_int_equal(out.bin_len, 0);
    const uint32_t da4_below_da3[4] = {7, 15, 31, 30};
    nvme_sim_telemetry_header(f.sim, da4_below_da3);
    fails(&f, "telemetry-log -d 4 -b", NVME_ERR_PROTO, 5); /* ETDAS get/set/get/set */
    ok(&f, "telemetry-log -d 3 -b");                       /* DA4LB does not matter for area 3 */
    assert_int_equal(out.bin_len, 16384);
    const uint32_t huge3[4] = {7, 15, 65535, 0};
    nvme_sim_telemetry_header(f.sim, huge3);
    fails(&f, "telemetry-log -b", NVME_ERR_NOMEM, 1);
    expect("telemetry-log: data area 3 ends at block 65535: 33554432 bytes, more than this "
           "host's 1047544-byte buffer takes\n");
    ok(&f, "telemetry-log -d 2 -b");
    assert_int_equal(out.bin_len, 8192);
    const uint32_t huge4[4] = {7, 15, 31, 0xffffffffu};
    nvme_sim_telemetry_header(f.sim, huge4);
    fails(&f, "telemetry-log -d 4 -b", NVME_ERR_NOMEM, 5);
    expect("data area 4 ends at block 4294967295: 2199023255552 bytes");
    const uint32_t none[4] = {0, 0, 0, 0};
    nvme_sim_telemetry_header(f.sim, none);
    fails(&f, "telemetry-log -b", NVME_ERR_NOENT, 1);
    expect("ERROR: No telemetry data block\n");
    /* A small scratch buffer: 8 KiB holds both headers and a 7160-byte log
     * at most. */
    nvme_sim_telemetry_header(f.sim, NULL);
    uint8_t *buf = aligned_alloc(4096, 8192);
    assert_non_null(buf);
    struct nvmectl_io io = {fx_print, &out, buf, 8192, NULL, "nvme0", fx_write_raw, NULL};
    char line[] = "telemetry-log -d 2 -b";
    out.len = 0;
    out.text[0] = '\0';
    out.bin_len = 0;
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), NVME_ERR_NOMEM);
    expect("data area 2 ends at block 15: 8192 bytes, more than this host's 7160-byte buffer");
    char line1[] = "telemetry-log -d 1 -b";
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line1), 0);
    assert_int_equal(out.bin_len, 4096);
    free(buf);
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* supported-log-pages, endurance-log, ana-log                         */
/* ------------------------------------------------------------------ */

/* LID 00h: one LSUPP dword per LID the simulator answers (error, SMART,
 * firmware, changed namespaces, effects with LPA bit 1, self-test with
 * OACS bit 4, the telemetry pair with LPA bit 3, Endurance Group and ANA
 * when configured, Persistent Event Log with ECRH, sanitize, vendor C0h);
 * nvme-cli's text, -v bits, JSON keys. */
static void supported_log_pages_lists_what_the_controller_answers(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.lpa |= NVME_LPA_TELEMETRY | NVME_LPA_PERSISTENT_EVENT;
    f.cfg.endgidmax = 1;
    fx_start(&f);
    ok(&f, "supported-log-pages");
    assert_string_equal(out.text, "Support Log Pages Details for nvme0:\n"
                                  "LID 0 - Supported Log Pages\n"
                                  "LID 0x1 - Error Information\n"
                                  "LID 0x2 - SMART / Health Information\n"
                                  "LID 0x3 - Firmware Slot Information\n"
                                  "LID 0x4 - Changed Namespace List\n"
                                  "LID 0x5 - Commands Supported and Effects\n"
                                  "LID 0x6 - Device Self-test\n"
                                  "LID 0x7 - Telemetry Host-Initiated\n"
                                  "LID 0x8 - Telemetry Controller-Initiated\n"
                                  "LID 0x9 - Endurance Group Information\n"
                                  "LID 0xd - Persistent Event Log\n"
                                  "LID 0x81 - Sanitize Status\n"
                                  "LID 0xc0 - Unknown\n");
    ok(&f, "supported-log-pages --verbose");
    expect("LID 0xd - Persistent Event Log\n  LSUPP is supported\n  IOS is not supported\n"
           "  Establish Context and Read 512 Bytes of Header is supported\n");
    expect("LID 0x7 - Telemetry Host-Initiated\n  LSUPP is supported\n  IOS is not supported\n"
           "  Maximum Created Data Area is not supported\n");
    ok(&f, "supported-log-pages -o json");
    expect("\"supported_logs\":[");
    expect("\"lid_0xd \":65537");
    expect("\"lid_0xc0 \":1");
    ok(&f, "supported-log-pages -b");
    assert_int_equal(out.bin_len, 1024);
    assert_int_equal(out.bin[4 * 0x0d], 1);
    assert_int_equal(out.bin[4 * 0x0d + 2], 1);
    assert_int_equal(out.bin[4 * 0x0c], 0);
    fx_stop(&f);
}

/* LID 09h, group in LSI: the simulator's group g reports Available Spare
 * 100, threshold 10, Percentage Used g, Endurance Estimate 1000 g, the
 * five counters after it (i + 2) g, Total Endurance Group Capacity the
 * namespaces' bytes (group 1: 8192 x 512). */
static void endurance_log_reads_the_group(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.endgidmax = 2;
    fx_start(&f);
    ok(&f, "endurance-log -g 1");
    assert_string_equal(out.text, "Endurance Group Log for NVME device:nvme0 Group ID:1\n"
                                  "critical_warning\t: 0\n"
                                  "endurance_group_features: 0\n"
                                  "avl_spare\t\t: 100\n"
                                  "avl_spare_threshold\t: 10\n"
                                  "percent_used\t\t: 1%\n"
                                  "domain_identifier\t: 0\n"
                                  "endurance_estimate\t: 1000\n"
                                  "data_units_read\t\t: 2\n"
                                  "data_units_written\t: 3\n"
                                  "media_units_written\t: 4\n"
                                  "host_read_cmds\t\t: 5\n"
                                  "host_write_cmds\t\t: 6\n"
                                  "media_data_integrity_err: 0\n"
                                  "num_err_info_log_entries: 0\n"
                                  "total_end_grp_cap\t: 4194304\n"
                                  "unalloc_end_grp_cap\t: 0\n");
    ok(&f, "endurance-log --group-id=2 -o json");
    expect("\"percent_used\":2");
    expect("\"endurance_estimate\":2000");
    expect("\"host_write_cmds\":12");
    ok(&f, "endurance-log -g 2 -b");
    assert_int_equal(out.bin_len, 512);
    assert_int_equal(out.bin[5], 2);
    /* nvme-cli's default group 0 and a group past ENDGIDMAX: Invalid Field. */
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "endurance-log")),
                     NVME_SC_INVALID_FIELD);
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "endurance-log -g 3")),
                     NVME_SC_INVALID_FIELD);
    fails(&f, "endurance-log -g 65536", NVME_ERR_INVAL, 0);
    fx_stop(&f);
}

static void start_ana(struct fx *f)
{
    fx_config(f);
    f->cfg.nanagrpid = 2;
    for (unsigned i = 1; i < 3; i++) { /* NSIDs 1, 2, 3: groups 1, 2, 1 */
        f->ns[i] = f->ns[0];
        f->ns[i].nsid = i + 1;
    }
    f->cfg.ns_count = 3;
    fx_start(f);
}

/* LID 0Ch: header (Change Count 7, two groups), group 1 optimized with
 * NSIDs 1 and 3, group 2 non-optimized with NSID 2; -g (RGO) lists no
 * NSIDs; nvme-cli's text and JSON. */
static void ana_log_lists_groups_and_namespaces(void **state)
{
    (void)state;
    struct fx f;
    start_ana(&f);
    ok(&f, "ana-log");
    assert_string_equal(out.text, "Asymmetric Namespace Access Log for NVMe device: nvme0\n"
                                  "ANA LOG HEADER :-\n"
                                  "chgcnt\t:\t7\n"
                                  "ngrps\t:\t2\n"
                                  "ANA Log Desc :-\n"
                                  "grpid\t:\t1\n"
                                  "nnsids\t:\t2\n"
                                  "chgcnt\t:\t7\n"
                                  "state\t:\toptimized\n"
                                  "\tnsid\t:\t1\n"
                                  "\tnsid\t:\t3\n"
                                  "\n"
                                  "grpid\t:\t2\n"
                                  "nnsids\t:\t1\n"
                                  "chgcnt\t:\t7\n"
                                  "state\t:\tnon-optimized\n"
                                  "\tnsid\t:\t2\n"
                                  "\n");
    ok(&f, "ana-log --groups");
    expect("grpid\t:\t1\nnnsids\t:\t0\nchgcnt\t:\t7\nstate\t:\toptimized\n\ngrpid");
    ok(&f, "ana-log -o json");
    expect("\"Asymmetric Namespace Access Log for NVMe device\":\"nvme0\"");
    expect("\"ANA DESC LIST \":[");
    expect("\"state\":\"non-optimized\"");
    expect("\"NSIDS\":[");
    /* Length from Identify: 16 + 2 x 32 + NN (MNAN 0) x 4. */
    ok(&f, "ana-log -b");
    assert_int_equal(out.bin_len, 16 + 64 + 3 * 4);
    ok(&f, "id-ns -n 3");
    expect("anagrpid: 1\n");
    /* nvme-cli's atomic read: a change between the log and its header read
     * again reads both once more (Identify, then two pairs); changing at
     * every read, it gives up after 10 pairs. */
    nvme_sim_ana_changing(f.sim, 1);
    uint64_t before = nvme_sim_stats(f.sim)->admin_cmds;
    ok(&f, "ana-log");
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 5);
    expect("ANA LOG HEADER :-\nchgcnt\t:\t8\n");
    nvme_sim_ana_changing(f.sim, 1000);
    fails(&f, "ana-log", NVME_ERR_BUSY, 21);
    expect("ana-log: the Change Count moved in each of 10 reads: the log kept changing\n");
    fx_stop(&f);
}

/* A header claiming more groups than NANAGRPID, a descriptor claiming
 * more NSIDs than the bytes read: shown as far as they hold, with a note,
 * never read past the log (ASan). */
static void ana_log_counts_are_bounded(void **state)
{
    (void)state;
    struct fx f;
    start_ana(&f);
    nvme_sim_ana_header(f.sim, 60000, 0);
    ok(&f, "ana-log");
    expect("ngrps\t:\t60000\n");
    expect("\tnsid\t:\t2\n\n(59998 more group descriptor(s) past NANAGRPID 2 or the 92 "
           "bytes read)\n");
    ok(&f, "ana-log -o json");
    nvme_sim_ana_header(f.sim, 0, 0x40000000u);
    ok(&f, "ana-log");
    expect("ngrps\t:\t2\nANA Log Desc :-\n(2 more group descriptor(s)");
    ok(&f, "ana-log -o json");
    expect("\"ANA DESC LIST \":[\n  ]");
    /* MNAN 0 and an NN of 2^24: a log of 64 MiB is refused after the
     * Identify, nothing read; -g (no NSIDs) still reads its 80 bytes. */
    nvme_sim_ana_header(f.sim, 0, 0);
    nvme_sim_set_nn(f.sim, 0x01000000u);
    fails(&f, "ana-log", NVME_ERR_NOMEM, 1);
    expect("ana-log: NANAGRPID 2 and 16777216 NSIDs make a log of 67108944 bytes, more than "
           "this host's 1048576-byte buffer takes\n"); /* NN, not labelled MNAN (0) */
    ok(&f, "ana-log -g -b");
    assert_int_equal(out.bin_len, 16 + 64);
    nvme_sim_set_nn(f.sim, 0);
    fx_stop(&f);
}

/* MNAN is the device's word: one above NN (no valid NSID is, §3.2.1.2)
 * sizes the log by NN, as MNAN 0h does; one at most NN is used as given
 * (the log then holds fewer NSIDs than the groups claim: shown as far as
 * read). */
static void ana_log_mnan_above_nn_is_bounded_by_nn(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.nanagrpid = 2;
    f.cfg.mnan = 0xffffffffu;
    fx_start(&f); /* NN 1 namespace */
    ok(&f, "ana-log -b");
    assert_int_equal(out.bin_len, 16 + 64 + nvme_ctrl_get_info(f.ctrl)->nn * 4);
    ok(&f, "ana-log");
    expect("grpid\t:\t1\nnnsids\t:\t1\nchgcnt\t:\t7\nstate\t:\toptimized\n\tnsid\t:\t1\n");
    fx_stop(&f);
    fx_config(&f);
    f.cfg.nanagrpid = 2;
    f.cfg.mnan = 1;
    f.ns[1] = f.ns[0];
    f.ns[1].nsid = 2;
    f.cfg.ns_count = 2;
    fx_start(&f);
    ok(&f, "ana-log -b");
    assert_int_equal(out.bin_len, 16 + 64 + 4);
    fx_stop(&f);
}

/* ana-log reads with RAE set, as nvme-cli 2.4 (nvme.c get_ana_log:
 * nvme_cli_get_log_ana(dev, lsp, true, ...)): an ANA Change notice
 * (§5.2.1, Notice 03h, LID 0Ch) the core has not handled yet stays masked
 * (§5.16: RAE clear would clear the event), as for changed-ns-list-log. */
static void ana_log_keeps_the_event_for_the_core(void **state)
{
    (void)state;
    struct fx f;
    start_ana(&f);
    unsigned armed = nvme_sim_aer_outstanding(f.sim);
    assert_true(armed >= 2);
    assert_int_equal(nvme_sim_post_event(f.sim, NVME_SIM_AE_NOTICE, 0x03, 0x0c), 0);
    assert_int_equal(nvme_sim_aer_outstanding(f.sim), armed - 1u);
    ok(&f, "ana-log");
    ok(&f, "ana-log -g");
    assert_int_equal(nvme_sim_post_event(f.sim, NVME_SIM_AE_NOTICE, 0x03, 0x0c), 0);
    assert_int_equal(nvme_sim_aer_outstanding(f.sim), armed - 1u); /* still masked */
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* primary-ctrl-caps, list-secondary                                   */
/* ------------------------------------------------------------------ */

/* CNS 14h against the simulator's three secondary controllers (CRT 3,
 * VQFRT 8 per secondary, VIFRT 4 per secondary, VQPRT 2, VQFRSM 8, VIPRT
 * 1, VIFRSM 4, granularities 1); nvme-cli's '%#x' (0 without 0x). */
static void primary_ctrl_caps_shows_the_structure(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.secondary_ctrls = 3;
    fx_start(&f);
    ok(&f, "primary-ctrl-caps");
    assert_string_equal(out.text, "NVME Identify Primary Controller Capabilities:\n"
                                  "cntlid    : 0x1\n"
                                  "portid    : 0\n"
                                  "crt       : 0x3\n"
                                  "vqfrt     : 24\n"
                                  "vqrfa     : 0\n"
                                  "vqrfap    : 0\n"
                                  "vqprt     : 2\n"
                                  "vqfrsm    : 8\n"
                                  "vqgran    : 1\n"
                                  "vifrt     : 12\n"
                                  "virfa     : 0\n"
                                  "virfap    : 0\n"
                                  "viprt     : 1\n"
                                  "vifrsm    : 4\n"
                                  "vigran    : 1\n");
    ok(&f, "primary-ctrl-caps -H");
    expect("crt       : 0x3\n  [1:1] 0x1\tVI Resources are supported\n"
           "  [0:0] 0x1\tVQ Resources are supported\nvqfrt     : 24\n");
    ok(&f, "primary-ctrl-caps -o json");
    expect("\"crt\":3");
    expect("\"vifrt\":12");
    ok(&f, "primary-ctrl-caps -b");
    assert_int_equal(out.bin_len, 4096);
    fails(&f, "primary-ctrl-caps -c 65536", NVME_ERR_INVAL, 0);
    fx_stop(&f);
    /* Without Virtualization Enhancements: the device's Invalid Field. */
    fx_config(&f);
    fx_start(&f);
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "primary-ctrl-caps")),
                     NVME_SC_INVALID_FIELD);
    fx_stop(&f);
}

/* CNS 15h: secondary controllers from CNTID -c on (CNTLID i + 1 on VF i,
 * PCID 1, offline), at most -e shown; a NUMID above the 127 entries the
 * structure holds shows 127. */
static void list_secondary_is_bounded_by_the_structure(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.secondary_ctrls = 3;
    fx_start(&f);
    ok(&f, "list-secondary");
    expect("Identify Secondary Controller List:\n"
           "   NUMID       : Number of Identifiers           : 3\n"
           "   SCEntry[0  ]:\n"
           "................\n"
           "     SCID      : Secondary Controller Identifier : 0x0002\n"
           "     PCID      : Primary Controller Identifier   : 0x0001\n"
           "     SCS       : Secondary Controller State      : 0x0000 (Offline)\n"
           "     VFN       : Virtual Function Number         : 0x0001\n"
           "     NVQ       : Num VQ Flex Resources Assigned  : 0x0000\n"
           "     NVI       : Num VI Flex Resources Assigned  : 0x0000\n"
           "   SCEntry[1  ]:\n");
    expect("     SCID      : Secondary Controller Identifier : 0x0004\n");
    ok(&f, "list-secondary --cntid=3 --num-entries=1");
    expect("Number of Identifiers           : 2\n");
    expect("Secondary Controller Identifier : 0x0003\n");
    expect_not("SCEntry[1  ]");
    ok(&f, "list-secondary -o json");
    expect("\"num\":3");
    expect("\"secondary-controller-identifier\":4");
    expect("\"virtual-function-number\":3");
    fails(&f, "list-secondary -e 0", NVME_ERR_INVAL, 0);
    expect("non-zero num-entries is required param");
    fx_stop(&f);

    fx_config(&f);
    f.cfg.secondary_ctrls = 200;
    fx_start(&f);
    nvme_sim_virt_numid(f.sim, 255);
    ok(&f, "list-secondary");
    expect("Number of Identifiers           : 255\n");
    expect("   SCEntry[126]:\n");
    expect("Secondary Controller Identifier : 0x0080\n"); /* entry 126: CNTLID 128 */
    expect_not("SCEntry[127]");
    ok(&f, "list-secondary -e 1000 -o json");
    expect("\"num\":127");
    fx_stop(&f);
}

/* virt-mgmt: nvme-cli's options into CDW10 (ACT 3:0, RT 10:8, CNTLID
 * 31:16) and CDW11 (NR), nvme-cli's line with Dword 0 (NRM, '%#x': 0
 * without 0x); what it did shows in list-secondary and primary-ctrl-caps
 * (NVMe 1.4 §5.22: assign to an offline secondary, online with resources,
 * offline; the primary's allocation pending its reset).  The device's
 * refusals reach the caller named; values beyond the fields are refused
 * before anything is sent. */
static void virt_mgmt_assigns_and_sets_state(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.secondary_ctrls = 3;
    fx_start(&f);
    ok(&f, "virt-mgmt -c 3 -a 8 -r 0 -n 4");
    assert_string_equal(out.text, "success, Number of Controller Resources Modified (NRM):0x4\n");
    ok(&f, "virt-mgmt --cntlid=3 --act=8 --rt=1 --nr=1");
    expect("(NRM):0x1\n");
    ok(&f, "list-secondary -c 3 -e 1");
    expect("     SCID      : Secondary Controller Identifier : 0x0003\n"
           "     PCID      : Primary Controller Identifier   : 0x0001\n"
           "     SCS       : Secondary Controller State      : 0x0000 (Offline)\n"
           "     VFN       : Virtual Function Number         : 0x0002\n"
           "     NVQ       : Num VQ Flex Resources Assigned  : 0x0004\n"
           "     NVI       : Num VI Flex Resources Assigned  : 0x0001\n");
    ok(&f, "virt-mgmt -c 3 -a 9");
    assert_string_equal(out.text, "success, Number of Controller Resources Modified (NRM):0\n");
    ok(&f, "list-secondary -c 3 -e 1");
    expect("     SCS       : Secondary Controller State      : 0x0001 (Online)\n");
    /* online: no assignment; none to a controller that is not a secondary */
    assert_int_equal(fx_nvmectl(&f, &out, "virt-mgmt -c 3 -a 8 -n 2"),
                     NVME_SF(NVME_SCT_COMMAND_SPECIFIC, 0x20) | NVME_SF_DNR_BIT);
    expect("nvme0: virt-mgmt: Invalid Secondary Controller State (SCT 1 SC 20, DNR)\n");
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "virt-mgmt -c 9 -a 8 -n 2")), 0x1f);
    expect("Invalid Controller Identifier");
    ok(&f, "virt-mgmt -c 3 -a 7");
    ok(&f, "list-secondary -c 3 -e 1");
    expect("(Offline)\n");
    expect("Num VQ Flex Resources Assigned  : 0x0004\n"); /* kept while offline */
    /* beyond VQFRSM (8); online without resources; an RT of neither kind */
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "virt-mgmt -c 2 -a 8 -n 9")), 0x21);
    expect("Invalid Number of Controller Resources");
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "virt-mgmt -c 2 -a 9")), 0x20);
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "virt-mgmt -c 2 -a 8 -r 2")), 0x22);
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "virt-mgmt -c 2 -a 3")),
                     NVME_SC_INVALID_FIELD);
    /* the primary's flexible resources, pending its next reset */
    ok(&f, "virt-mgmt -c 1 -a 1 -r 0 -n 5");
    expect("(NRM):0x5\n");
    ok(&f, "primary-ctrl-caps");
    expect("vqrfap    : 5\n");
    /* without -n, NR 0 as nvme-cli's (before: 1, one resource not asked for) */
    ok(&f, "virt-mgmt -c 1 -a 1 -r 0");
    expect("(NRM):0\n");
    ok(&f, "primary-ctrl-caps");
    expect("vqrfap    : 0\n");
    /* fields the values do not fit: refused, nothing sent */
    fails(&f, "virt-mgmt -c 65536 -a 8", NVME_ERR_INVAL, 0);
    expect("nvmectl virt-mgmt: -c CNTLID and -n NR are 0..65535, -r 0..7, -a 0..15\n");
    fails(&f, "virt-mgmt -c 2 -a 8 -n 65536", NVME_ERR_INVAL, 0);
    fails(&f, "virt-mgmt -c 2 -a 8 -r 8", NVME_ERR_INVAL, 0);
    fails(&f, "virt-mgmt -c 2 -a 16", NVME_ERR_INVAL, 0);
    fx_stop(&f);
    /* A controller without Virtualization Enhancements: its Invalid Opcode. */
    fx_config(&f);
    fx_start(&f);
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "virt-mgmt -c 2 -a 8 -n 1")),
                     NVME_SC_INVALID_OPCODE);
    fx_stop(&f);
}

/* CNS 1Ch: the simulator's two combinations (Figure 291: vector 0 NVM,
 * vector 1 NVM and Zoned Namespace, bits 0 and 2), nvme-cli's text, -v
 * bits and JSON; without I/O Command Sets the device's Invalid Field. */
static void id_iocs_lists_the_combinations(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.iocs = true;
    fx_start(&f);
    ok(&f, "id-iocs");
    assert_string_equal(out.text, "NVMe Identify I/O Command Set:\n"
                                  "I/O Command Set Combination[0]:1\n"
                                  "I/O Command Set Combination[1]:5\n");
    ok(&f, "id-iocs --verbose");
    expect("I/O Command Set Combination[1]:5\n"
           "  [4:4] : 0\tComputational Programs Namespace Command Set Not Selected\n"
           "  [3:3] : 0\tSubsystem Local Memory Command Set Not Selected\n"
           "  [2:2] : 0x1\tZoned Namespace Command Set Selected\n"
           "  [1:1] : 0\tKey Value Command Set Not Selected\n"
           "  [0:0] : 0x1\tNVM Command Set Selected\n\n");
    ok(&f, "id-iocs -c 1 -o json");
    expect("\"I/O Command Set Combination[1]\":5");
    expect("\"IOCSC1\":{");
    expect("\"Zoned Namespace Command Set\":\"Selected\"");
    ok(&f, "id-iocs -b");
    assert_int_equal(out.bin_len, 4096);
    assert_int_equal(out.bin[8], 5);
    fx_stop(&f);
    fx_config(&f);
    fx_start(&f);
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "id-iocs")), NVME_SC_INVALID_FIELD);
    fx_stop(&f);
}

/* CNS 06h CSI 00h: the simulator's limits (cfg.vsl, wzsl, dmrl, dmrsl,
 * dmsl) at NVM CS Figure 102's offsets (VSL 0, WZSL 1, DMRL 3, DMRSL 7:4,
 * DMSL 15:8); nvme-cli's eleven fields, ver in hex; the device's Invalid
 * Field before NVMe 2.0 command sets. */
static void nvm_id_ctrl_shows_the_nvm_fields(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.iocs = true;
    f.cfg.vsl = 3;
    f.cfg.wzsl = 4;
    f.cfg.dmrl = 5;
    f.cfg.dmrsl = 100000;
    f.cfg.dmsl = 0x123456789ull;
    fx_start(&f);
    ok(&f, "nvm-id-ctrl");
    assert_string_equal(out.text, "NVMe Identify Controller NVM:\n"
                                  "vsl    : 3\n"
                                  "wzsl   : 4\n"
                                  "wusl   : 0\n"
                                  "dmrl   : 5\n"
                                  "dmrsl  : 100000\n"
                                  "dmsl   : 4886718345\n"
                                  "kpiocap: 0\n"
                                  "wzdsl  : 0\n"
                                  "aocs   : 0\n"
                                  "ver    : 0x0\n"
                                  "lbamqf : 0\n");
    ok(&f, "nvm-id-ctrl -o json");
    expect("\"dmsl\":4886718345,\n  \"kpiocap\":0");
    ok(&f, "nvm-id-ctrl -b");
    assert_int_equal(out.bin_len, 4096);
    fx_stop(&f);
    fx_config(&f);
    fx_start(&f);
    assert_int_equal(NVME_SF_SC((unsigned)fx_nvmectl(&f, &out, "nvm-id-ctrl")),
                     NVME_SC_INVALID_FIELD);
    fx_stop(&f);
}

/* Lines of out.text that start with `prefix`. */
static unsigned lines_starting(const char *prefix)
{
    unsigned n = 0;
    size_t k = strlen(prefix);
    for (const char *l = out.text; *l != '\0';) {
        if (strncmp(l, prefix, k) == 0)
            n++;
        const char *nl = strchr(l, '\n');
        if (nl == NULL)
            break;
        l = nl + 1;
    }
    return n;
}

/* CNS 05h CSI 00h (NVM CS 1.0 Figure 114): with cfg.elbas the simulator
 * reports every listed format's ELBAF from the namespace's pif and sts
 * (bits 8:7 and 6:0).  Namespace 1: four formats (NLBAF 3), 64b Guard
 * (PIF 2) in all, format 2 in use; namespace 2: the two formats of
 * NLBAF 0 with 32b Guard (PIF 1) and a 20-bit storage tag; namespace 3:
 * PIF 3, which without PIC.QPIFS (bit 3) is Reserved.  nvme-cli's text
 * ("elbaf %2d : qpif:%d pif:%d sts:%-2d %s", "(in use)" from FLBAS),
 * -v names and JSON keys; -b the 4096 bytes as read. */
static void nvm_id_ns_shows_the_extended_formats(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.elbas = true;
    f.ns[0].nlbaf = 3;
    f.ns[0].flbas_index = 2;
    f.ns[0].ms = 16;
    f.ns[0].pi_type = 1;
    f.ns[0].pif = NVME_PIF_64B_GUARD;
    f.ns[1] = (struct nvme_sim_ns_config){
        .nsid = 2, .blocks = 1024, .lba_size = 512, .pif = NVME_PIF_32B_GUARD, .sts = 20};
    f.ns[2] = (struct nvme_sim_ns_config){.nsid = 3, .blocks = 1024, .lba_size = 512, .pif = 3};
    f.cfg.ns_count = 3;
    fx_start(&f);
    ok(&f, "nvm-id-ns -n 1");
    assert_string_equal(out.text, "NVMe NVM Identify Namespace 1:\n"
                                  "lbstm : 0\n"
                                  "pic   : 0\n"
                                  "pifa  : 0\n"
                                  "elbaf  0 : qpif:0 pif:2 sts:0  \n"
                                  "elbaf  1 : qpif:0 pif:2 sts:0  \n"
                                  "elbaf  2 : qpif:0 pif:2 sts:0  (in use)\n"
                                  "elbaf  3 : qpif:0 pif:2 sts:0  \n"
                                  "nprg  : 0\n"
                                  "npra  : 0\n"
                                  "nors  : 0\n"
                                  "npdal : 0\n"
                                  "lbapss: 0\n"
                                  "tlbaag: 0\n");
    ok(&f, "nvm-id-ns --namespace-id=2 -v");
    expect("pic   : 0\n"
           "  [3:3] : 0\tQualified Protection Information Format Not Supported\n"
           "  [2:2] : 0\tStorage Tag Check Read Not Supported\n"
           "  [1:1] : 0\t16b Guard Protection Information Storage Tag Mask\n"
           "  [0:0] : 0\t16b Guard Protection Information Storage Tag Not Supported\n\n"
           "pifa  : 0\n"
           "  [2:0] : 0\tStorage Tag Masking Level Attribute : Bit Granularity Masking\n\n");
    expect("Extended LBA Format  0 : Qualified Protection Information Format: 16b Guard(0) - "
           "Protection Information Format: 32b Guard(1) - Storage Tag Size (MSB): 20 (in use)\n"
           "Extended LBA Format  1 : Qualified Protection Information Format: 16b Guard(0) - "
           "Protection Information Format: 32b Guard(1) - Storage Tag Size (MSB): 20 \n"
           "nprg  : 0\n");
    ok(&f, "nvm-id-ns -n 3 -H");
    expect("Protection Information Format: Reserved(3) - Storage Tag Size (MSB): 0  (in use)\n");
    ok(&f, "nvm-id-ns -n 1 -o json");
    expect("\"lbstm\":0,\n  \"pic\":0,\n  \"pifa\":0,\n  \"elbafs\":[\n    {\n"
           "      \"sts\":0,\n      \"pif\":2,\n      \"qpif\":0\n    },");
    expect("\"tlbaag\":0");
    expect_not("npdgl"); /* NSFEAT bit 5 clear */
    ok(&f, "nvm-id-ns -n 2 -o json");
    expect("\"sts\":20,\n      \"pif\":1,");
    ok(&f, "nvm-id-ns -n 1 -b");
    assert_int_equal(out.bin_len, 4096);
    assert_int_equal(out.len, 0);
    for (unsigned i = 0; i < 4; i++) /* ELBAF i at 12 + 4i: PIF 2 in bits 8:7 */
        assert_int_equal(out.bin[12 + 4 * i] | out.bin[13 + 4 * i] << 8, 2u << 7);
    bin_all(28, 4096, 0);
    fx_stop(&f);
}

/* No namespace, or NSID 0 / FFFFFFFFh: refused with nothing sent (nvme-cli
 * takes a block device's NSID; a controller has none).  A namespace that
 * does not exist: Identify Namespace's status, CNS 05h not sent.  A
 * controller without Extended LBA Formats or I/O Command Sets: the
 * device's Invalid Field for CNS 05h, named as the other commands do. */
static void nvm_id_ns_refusals(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    fails(&f, "nvm-id-ns", NVME_ERR_INVAL, 0);
    expect("nvmectl nvm-id-ns: -n NSID is required: one namespace, 1..0xfffffffe\n");
    fails(&f, "nvm-id-ns -n 0", NVME_ERR_INVAL, 0);
    fails(&f, "nvm-id-ns -n 0xffffffff -o json", NVME_ERR_INVAL, 0);
    int rc = fx_nvmectl(&f, &out, "nvm-id-ns -n 5");
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_NS);
    uint64_t before = nvme_sim_stats(f.sim)->admin_cmds;
    rc = fx_nvmectl(&f, &out, "nvm-id-ns -n 1");
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 2);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_FIELD);
    assert_string_equal(out.text,
                        "nvme0n1: nvm-id-ns: Invalid Field in Command (SCT 0 SC 02, DNR)\n");
    rc = fx_nvmectl(&f, &out, "nvm-id-ns -n 1 -b");
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_FIELD);
    assert_int_equal(out.bin_len, 0);
    fx_stop(&f);
}

/* Identify data of pseudo-random bytes for both commands: NLBAF + 1 +
 * NULBAF (bytes 25 and 82, the device's) is well past the 64 ELBAFs of
 * Figure 114, so exactly 64 are shown (nvme-cli trusts the sum and
 * reads on into the fields after the list); JSON stays one value. */
static void nvm_id_ns_counts_are_bounded(void **state)
{
    (void)state;
    for (int json = 0; json < 2; json++) {
        struct fx f;
        fx_config(&f);
        f.cfg.elbas = true;
        fx_start(&f);
        fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, 11, 2);
        ok(&f, json ? "nvm-id-ns -n 1 -o json" : "nvm-id-ns -n 1");
        assert_int_equal(nvme_sim_fault_hits(f.sim), 2);
        assert_int_equal(lines_starting(json ? "    {" : "elbaf "), 64);
        fx_stop(&f);
    }
}

/* ------------------------------------------------------------------ */
/* persistent-event-log                                                */
/* ------------------------------------------------------------------ */

/* The header as nvme-cli 2.4 shows it (nvme_show_persistent_event_log,
 * json_persistent_event_log): SN and MN whole, their padding blanks too
 * (printf "%-.*s"), and the Log Revision under nvme-cli's JSON key:
 *   json_object_add_value_uint(root, "log_revision", pevent_log_head->rv);
 * The simulator's header holds Identify's SN and MN, blank-padded
 * (before: trimmed, and the key "log_rev"). */
static void persistent_event_log_header_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f, NVME_LPA_PERSISTENT_EVENT);
    ok(&f, "persistent-event-log -a 1 -l 512");
    expect("Serial Number (SN): SIM0000001          \n");
    expect("Model Number (MN): nvme-core simulated controller          \n");
    ok(&f, "persistent-event-log -a 0 -o json");
    expect("\"log_revision\":0,");
    expect_not("\"log_rev\":");
    expect("\"sn\":\"SIM0000001          \",");
    expect("\"mn\":\"nvme-core simulated controller          \",");
    ok(&f, "persistent-event-log -a 2");
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* sanitize-log                                                        */
/* ------------------------------------------------------------------ */

/* sanitize-log -H while a sanitize is in progress (SSTAT bits 2:0 = 2h)
 * shows the progress in percent after SPROG, as nvme-cli 2.4's
 * nvme_show_sanitize_log_sprog: printf("\t(%f%%)\n", sprog * 100.0 /
 * 0x10000); the expected line here is made by the host's printf.  The
 * simulator's sanitize completes at once, so the page comes from its
 * garbage data (each seed the same bytes): the seeds whose SSTAT says "in
 * progress" (before: no percentage). */
static void sanitize_log_human_shows_the_progress_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f, 0);
    unsigned seen = 0;
    for (uint32_t seed = 1; seed < 4000 && seen < 24; seed++) {
        struct nvme_sim_fault g = {NVME_SIM_FAULT_GARBAGE_DATA, 0, 0x02, NVME_SIM_ANY, seed, 0, 1};
        assert_int_equal(nvme_sim_inject(f.sim, &g), 0);
        ok(&f, "sanitize-log -b");
        nvme_sim_clear_faults(f.sim);
        assert_int_equal(out.bin_len, 512);
        if ((out.bin[2] & 7u) != 2u)
            continue;
        seen++;
        unsigned sprog = le16(out.bin);
        char want[128];
        snprintf(want, sizeof(want),
                 "Sanitize Progress                      (SPROG) :  %u\t(%f%%)\n"
                 "Sanitize Status                        (SSTAT) :  0x2\n",
                 sprog, (double)sprog * 100 / 0x10000);
        assert_int_equal(nvme_sim_inject(f.sim, &g), 0);
        ok(&f, "sanitize-log -H");
        nvme_sim_clear_faults(f.sim);
        expect(want);
        /* without -H the number alone, as nvme-cli */
        assert_int_equal(nvme_sim_inject(f.sim, &g), 0);
        ok(&f, "sanitize-log");
        nvme_sim_clear_faults(f.sim);
        snprintf(want, sizeof(want), "(SPROG) :  %u\nSanitize Status ", sprog);
        expect(want);
    }
    assert_int_equal(seen, 24);
    /* not in progress: no percentage with -H either */
    ok(&f, "sanitize-log -H");
    expect("(SPROG) :  0\nSanitize Status ");
    fx_stop(&f);
}

/* ------------------------------------------------------------------ */
/* self-test-log                                                       */
/* ------------------------------------------------------------------ */

/* self-test-log -o json gives the Current Device Self-Test Operation and
 * Completion bytes as read, as nvme-cli's json_self_test_log:
 *   json_object_add_value_int(root, "Current Device Self-Test Operation",
 *                             self_test->current_operation);
 * and as nvmectl's own text does ("Current operation  : %#x", "Current
 * Completion : %u%%"); a device's reserved bits (7:4, 7) included (before:
 * the JSON masked them, the text did not). */
static void self_test_log_json_current_bytes_as_read(void **state)
{
    (void)state;
    struct fx f;
    start(&f, 0);
    uint32_t seed = 1;
    for (; seed < 1000; seed++) {
        struct nvme_sim_fault g = {NVME_SIM_FAULT_GARBAGE_DATA, 0, 0x02, NVME_SIM_ANY, seed, 0, 1};
        assert_int_equal(nvme_sim_inject(f.sim, &g), 0);
        ok(&f, "self-test-log -b");
        nvme_sim_clear_faults(f.sim);
        if ((out.bin[0] & 0xf0u) != 0 && (out.bin[1] & 0x80u) != 0)
            break;
    }
    assert_true(seed < 1000);
    unsigned cur = out.bin[0], comp = out.bin[1];
    struct nvme_sim_fault g = {NVME_SIM_FAULT_GARBAGE_DATA, 0, 0x02, NVME_SIM_ANY, seed, 0, 2};
    assert_int_equal(nvme_sim_inject(f.sim, &g), 0);
    char want[128];
    ok(&f, "self-test-log");
    snprintf(want, sizeof(want), "Current operation  : %#x\nCurrent Completion : %u%%\n", cur,
             comp);
    expect(want);
    ok(&f, "self-test-log -o json");
    nvme_sim_clear_faults(f.sim);
    snprintf(want, sizeof(want),
             "\"Current Device Self-Test Operation\":%u,\n"
             "  \"Current Device Self-Test Completion\":%u,",
             cur, comp);
    expect(want);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(telemetry_host_initiated_reads_up_to_the_data_area),
        cmocka_unit_test(telemetry_output_file),
        cmocka_unit_test(telemetry_controller_initiated_keeps_rae_set),
        cmocka_unit_test(changed_ns_list_log_keeps_the_event_for_the_core),
        cmocka_unit_test(changed_ns_list_log_text_counts_from_0_as_nvme_cli),
        cmocka_unit_test(telemetry_data_area_4_sets_and_restores_etdas),
        cmocka_unit_test(telemetry_hostile_headers_are_bounded),
        cmocka_unit_test(supported_log_pages_lists_what_the_controller_answers),
        cmocka_unit_test(endurance_log_reads_the_group),
        cmocka_unit_test(ana_log_lists_groups_and_namespaces),
        cmocka_unit_test(ana_log_counts_are_bounded),
        cmocka_unit_test(ana_log_mnan_above_nn_is_bounded_by_nn),
        cmocka_unit_test(ana_log_keeps_the_event_for_the_core),
        cmocka_unit_test(primary_ctrl_caps_shows_the_structure),
        cmocka_unit_test(list_secondary_is_bounded_by_the_structure),
        cmocka_unit_test(virt_mgmt_assigns_and_sets_state),
        cmocka_unit_test(id_iocs_lists_the_combinations),
        cmocka_unit_test(nvm_id_ctrl_shows_the_nvm_fields),
        cmocka_unit_test(nvm_id_ns_shows_the_extended_formats),
        cmocka_unit_test(nvm_id_ns_refusals),
        cmocka_unit_test(nvm_id_ns_counts_are_bounded),
        cmocka_unit_test(persistent_event_log_header_as_nvme_cli),
        cmocka_unit_test(sanitize_log_human_shows_the_progress_as_nvme_cli),
        cmocka_unit_test(self_test_log_json_current_bytes_as_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
