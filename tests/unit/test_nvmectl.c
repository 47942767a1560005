/* SPDX-License-Identifier: MIT */
/* The shared nvmectl front end, against the seed's success criteria:
 * info prints version and max queue depth (step 1), ready (step 2), list
 * every namespace with its capacity (steps 3 and 7), read returns the MBR
 * bytes (step 5), write + read back a signature (step 6), smart (step 10). */
#include "fixture.h"
#include "json_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fx_out out;

static void expect(const char *needle)
{
    if (strstr(out.text, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%s", needle, out.text);
}

static void start_two_namespaces(struct fx *f)
{
    fx_config(f);
    f->cfg.mqes = 255;
    f->cfg.dstrd = 1;
    f->cfg.to = 30;
    f->cfg.mdts = 3;
    f->cfg.serial = "SN-TEST-42";
    f->cfg.model = "Test Model X";
    f->cfg.firmware = "FW9.1";
    f->ns[0].nsid = 1;
    f->ns[0].blocks = 262144; /* 128 MiB of 512 */
    f->ns[1].nsid = 4;        /* not contiguous */
    f->ns[1].blocks = 16384;  /* 64 MiB of 4096 */
    f->ns[1].lba_size = 4096;
    f->cfg.ns_count = 2;
    fx_start(f);
}

static void info_prints_version_queue_depth_and_identity(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "nvmectl info"), 0);
    expect("version         : 1.4.0");
    expect("max queue depth 256");
    expect("doorbell stride 8 bytes");
    expect("timeout 15000 ms");
    expect("mdts            : 32768 bytes");
    expect("sn              : SN-TEST-42");
    expect("mn              : Test Model X");
    expect("fr              : FW9.1");
    expect("(active namespaces: 2)");
    fx_stop(&f);
}

static void ready_reports_the_controller_up(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "ready"), 0);
    expect("nvme0: controller is up (CSTS=0x00000001: RDY=1 CFS=0");
    nvme_sim_set_cfs(f.sim, true);
    assert_int_not_equal(fx_nvmectl(&f, &out, "ready"), 0);
    expect("controller is NOT ready");
    nvme_sim_set_cfs(f.sim, false);
    fx_stop(&f);
}

static void list_shows_every_namespace_with_its_capacity(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "list"), 0);
    expect("nvme0n1      1      262144             512    134217728 bytes (128.0 MiB)");
    expect("nvme0n4      4      16384              4096   67108864 bytes (64.0 MiB)");
    expect("2 namespace(s)");
    fx_stop(&f);
}

/* nvme-cli's `nvme list`: every namespace of every controller in one
 * table (nvmectl_list_all; the EXOS shell's `nvmectl list`).  A NULL
 * controller has no rows; a command other than list is refused. */
static void list_all_is_one_table_of_every_controller(void **state)
{
    static char buf[4096] __attribute__((aligned(4096)));
    (void)state;
    struct fx a, b;
    start_two_namespaces(&a);
    fx_config(&b);
    b.ns[0].nsid = 2;
    b.ns[0].blocks = 8192;
    b.cfg.ns_count = 1;
    fx_start(&b);
    struct nvme_ctrl *ctrls[3] = {a.ctrl, NULL, b.ctrl};
    const char *names[3] = {"nvme0", "nvme1", "nvme2"};
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), NULL, "nvme0", NULL, NULL};
    char line[64];

    out.len = 0;
    out.text[0] = 0;
    snprintf(line, sizeof(line), "list");
    assert_int_equal(nvmectl_list_all(ctrls, names, 3, &io, line), 0);
    expect("Node         NSID   Blocks(LBAs)       LBA(B) Capacity\n"
           "nvme0n1      1      262144             512    134217728 bytes (128.0 MiB)\n"
           "nvme0n4      4      16384              4096   67108864 bytes (64.0 MiB)\n"
           "nvme2n2      2      8192               512    4194304 bytes (4.0 MiB)\n"
           "3 namespace(s)\n");
    assert_null(strstr(out.text, "nvme1n"));

    out.len = 0;
    out.text[0] = 0;
    snprintf(line, sizeof(line), "nvmectl list -o json");
    assert_int_equal(nvmectl_list_all(ctrls, names, 3, &io, line), 0);
    assert_non_null(strstr(out.text, "\"DevicePath\":\"nvme2n2\""));
    assert_non_null(strstr(out.text, "\"DevicePath\":\"nvme0n4\""));
    assert_null(strstr(strstr(out.text, "\"Devices\"") + 1, "\"Devices\""));

    /* A controller the port gave no name: its place names it (before:
     * "(null)n2"). */
    names[2] = NULL;
    out.len = 0;
    out.text[0] = 0;
    snprintf(line, sizeof(line), "list");
    assert_int_equal(nvmectl_list_all(ctrls, names, 3, &io, line), 0);
    assert_non_null(strstr(out.text, "\nnvme2n2      2 "));
    assert_null(strstr(out.text, "null"));
    names[2] = "nvme2";

    snprintf(line, sizeof(line), "info");
    assert_int_not_equal(nvmectl_list_all(ctrls, names, 3, &io, line), 0);
    snprintf(line, sizeof(line), "list -n 1");
    assert_int_not_equal(nvmectl_list_all(ctrls, names, 3, &io, line), 0);
    fx_stop(&b);
    fx_stop(&a);
}

/* The namespace table may shrink while list prints it: lookups take no
 * lock and a rescan may run on another CPU meanwhile (nvme.h: "may run on
 * any CPU during a rescan"; here, a detach the controller reported,
 * rescanned from the print callback once the first row is out), and
 * nvme_ns_at then says NULL for an index past the new count.  The row is
 * skipped, as nvme_flush and the EXOS glue skip it; the total counts the
 * rows printed.  Before: nvmectl dereferenced the NULL (SIGSEGV). */
static struct {
    struct fx *f;
    int fired;
} shrink;

static void shrink_print(void *arg, const char *s)
{
    fx_print(arg, s);
    if (!shrink.fired && strstr(s, "nvme0n1 ") != NULL) {
        shrink.fired = 1;
        assert_int_equal(nvme_sim_ns_remove(shrink.f->sim, 4), 0);
        assert_int_equal(nvme_ns_rescan(shrink.f->ctrl), 0);
    }
}

static void list_skips_a_namespace_a_rescan_removed_meanwhile(void **state)
{
    static char buf[4096] __attribute__((aligned(4096)));
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    shrink.f = &f;
    shrink.fired = 0;
    struct nvmectl_io io = {shrink_print, &out, buf, sizeof(buf), NULL, "nvme0", NULL, NULL};
    char line[16];
    out.len = 0;
    out.text[0] = 0;
    snprintf(line, sizeof(line), "list");
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
    assert_int_equal(shrink.fired, 1);
    expect("nvme0n1      1      262144");
    assert_null(strstr(out.text, "nvme0n4"));
    expect("1 namespace(s)");
    fx_stop(&f);
}

/* A namespace of more than 2^64 bytes (NSZE = NUSE = 2^52 + 1 blocks of
 * 4096: 2^64 + 4096 bytes): list's UsedBytes and PhysicalSize (nvme-cli
 * 2.x `list -o json`: NUSE and NSZE times the block size), its Capacity
 * column and id-ns -H give the bytes as they are, not modulo 2^64.
 * Before: "UsedBytes":4096, "PhysicalSize":4096 and "4096 bytes (4.0
 * KiB)". */
static void list_shows_a_capacity_past_2_64_bytes_exactly(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nsid = 1;
    f.ns[0].blocks = (1ull << 52) + 1u;
    f.ns[0].lba_size = 4096;
    f.cfg.ns_count = 1;
    fx_start(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "list -o json"), 0);
    expect("\"UsedBytes\":18446744073709555712,");
    expect("\"MaximumLBA\":4503599627370497,");
    expect("\"PhysicalSize\":18446744073709555712,");
    assert_int_equal(fx_nvmectl(&f, &out, "list"), 0);
    expect("nvme0n1      1      4503599627370497   4096   18446744073709555712 bytes "
           "(16384.0 PiB)\n");
    assert_int_equal(fx_nvmectl(&f, &out, "id-ns -n 1 -H"), 0);
    expect("nuse    : 0x10000000000001\n  18446744073709555712 bytes (16384.0 PiB)\n");
    fx_stop(&f);
}

/* id-ctrl and id-ns print their hex fields as nvme-cli 2.x does, with
 * printf's "%#x" (stdout_id_ctrl, stdout_id_ns): "0x" before a value
 * that is not 0, a 0 alone.  Before: "cmic      : 0x0", "flbas   : 0x0".
 * SN, MN and FR whole, with the blanks that pad them (nvme-cli's "%-.*s";
 * before: trimmed), TNVMCAP as the number alone (before: "... bytes"),
 * the formats not in use ended by a blank (nvme-cli's "%s" of ""), as
 * nvme-cli 2.3 prints them on QEMU's controller. */
static void id_ctrl_and_id_ns_print_zero_hex_fields_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "id-ctrl"), 0);
    expect("\nsn        : SIM0000001          \n"); /* 20 bytes */
    expect("\nfr        : ");
    expect("\ntnvmcap   : 4194304\n"); /* the namespace, 8192 blocks of 512 */
    expect("\ncmic      : 0\n");
    expect("\nrtd3r     : 0\n");
    expect("\nsgls      : 0\n");
    expect("\noncs      : 0x1dd\n");
    assert_int_equal(fx_nvmectl(&f, &out, "id-ns -n 1"), 0);
    expect("\nnsze    : 0x2000\n");
    expect("\nflbas   : 0\n");
    expect("\ndps     : 0\n");
    expect("\nrescap  : 0\n");
    expect("\nmc      : 0x3\n");
    fx_stop(&f);
}

static void read_dumps_the_mbr_with_its_signature(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    uint8_t mbr[512] = {0xeb, 0x63, 0x90};
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    assert_int_equal(nvme_sim_ns_write(f.sim, 1, 0, 1, mbr), 0);
    assert_int_equal(fx_nvmectl(&f, &out, "read -n 1 -s 0"), 0);
    expect("nvme0n1: read 1 block(s) at LBA 0 (512 bytes)");
    expect("00000000  eb 63 90 00 00 00 00 00  00 00 00 00 00 00 00 00  |.c..............|");
    expect("*\n");
    expect("000001f0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 55 aa  |..............U.|");
    fx_stop(&f);
}

static void write_a_signature_flush_and_read_it_back(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 4 -s 7 -t NVMECORE-SIG"), 0);
    expect("nvme0n4: wrote 1 block(s) at LBA 7 (4096 bytes)");
    assert_int_equal(fx_nvmectl(&f, &out, "flush -n 4"), 0);
    expect("NVMe Flush: success\n"); /* nvme-cli 2.4's */
    uint64_t flushes = nvme_sim_stats(f.sim)->flushes;
    assert_int_equal(fx_nvmectl(&f, &out, "flush -n 0xffffffff"), 0); /* as nvme-cli */
    expect("NVMe Flush: success\n");
    assert_int_equal(nvme_sim_stats(f.sim)->flushes - flushes, 1); /* VWC 2:1 = 11b: one */
    uint8_t media[4096];
    assert_int_equal(nvme_sim_ns_read(f.sim, 4, 7, 1, media), 0);
    assert_memory_equal(media, "NVMECORE-SIG", 12);
    assert_int_equal(media[12], 0);
    assert_int_equal(fx_nvmectl(&f, &out, "read -n 4 -s 7"), 0);
    expect("|NVMECORE-SIG....|");
    /* A byte pattern over several blocks. */
    assert_int_equal(fx_nvmectl(&f, &out, "write --namespace-id=1 --start-block=100 -c 3 -p 0xa5"),
                     0);
    uint8_t m[1536];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 100, 3, m), 0);
    for (unsigned i = 0; i < sizeof(m); i++)
        assert_int_equal(m[i], 0xa5);
    fx_stop(&f);
}

/* nvme-cli parses with getopt_long_only: a word of one dash is a long
 * option first ("-text=X" is --text=X, not -t with "ext=X"), a unique
 * prefix names its option (--namespace=1), an ambiguous one is refused. */
static void one_dash_long_options_and_prefixes_as_getopt_long_only(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    uint8_t m[512];
    /* before: -t with "ext=SIG0", written */
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 1 -s 8 -text=SIG0"), 0);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 8, 1, m), 0);
    assert_memory_equal(m, "SIG0", 5);
    assert_int_equal(fx_nvmectl(&f, &out, "write -namespace-id=1 -start-block=9 -text=SIG1"), 0);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 9, 1, m), 0);
    assert_memory_equal(m, "SIG1", 5);
    assert_int_equal(fx_nvmectl(&f, &out, "write --namespace=1 --start=10 -text SIG2"), 0);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 10, 1, m), 0);
    assert_memory_equal(m, "SIG2", 5);
    /* short letters still take their value inside the word */
    assert_int_equal(fx_nvmectl(&f, &out, "write -n1 -s11 -tSIG3"), 0);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 11, 1, m), 0);
    assert_memory_equal(m, "SIG3", 5);
    assert_int_equal(fx_nvmectl(&f, &out, "smart-log -output-format=json"), 0);
    assert_non_null(strstr(out.text, "{"));
    assert_int_equal(fx_nvmectl(&f, &out, "smart-log --output=json"), 0);
    assert_non_null(strstr(out.text, "{"));
    /* --f: --file or --fua */
    assert_int_not_equal(fx_nvmectl(&f, &out, "write -n 1 -s 12 -t X --f"), 0);
    expect("unknown option '--f'");
    fx_stop(&f);
}

/* getopt's group of short options after one dash, as nvme-cli takes it:
 * flags, then at most one option that takes a value (before: refused). */
static void grouped_short_options_as_getopt(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "id-ns -H -n 1"), 0);
    char *sep = strdup(out.text);
    assert_non_null(sep);
    assert_int_equal(fx_nvmectl(&f, &out, "id-ns -Hn1"), 0);
    assert_string_equal(out.text, sep);
    assert_int_equal(fx_nvmectl(&f, &out, "id-ns -Hn 1"), 0);
    assert_string_equal(out.text, sep);
    free(sep);
    assert_int_equal(fx_nvmectl(&f, &out, "smart-log -Hojson"), 0);
    assert_non_null(strstr(out.text, "{"));
    assert_int_not_equal(fx_nvmectl(&f, &out, "id-ns -n 1 -Hx"), 0);
    expect("unknown option '-Hx'");
    fx_stop(&f);
}

static void verify_writes_reads_and_compares(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    uint64_t w0 = nvme_sim_stats(f.sim)->writes;
    assert_int_equal(fx_nvmectl(&f, &out, "write-verify -n 1 -s 1000 -c 200 -k 9 --offset 12"), 0);
    expect("nvme0n1: verify ok: 200 block(s) at LBA 1000, 102400 bytes, buffer offset 12");
    /* 100 KiB with 32 KiB MDTS from offset 12: split into 4 commands. */
    assert_int_equal(nvme_sim_stats(f.sim)->writes - w0, 4);
    /* -k is 64 bits: a seed above 2^32 writes another pattern than its
     * low half (it was cut to 32 bits) */
    uint8_t a[512], b[512];
    assert_int_equal(fx_nvmectl(&f, &out, "write-verify -n 1 -s 20 -k 9"), 0);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 20, 1, a), 0);
    assert_int_equal(fx_nvmectl(&f, &out, "write-verify -n 1 -s 20 -k 0x100000009"), 0);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 20, 1, b), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    fx_stop(&f);
}

static void smart_prints_health_fields(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.smart.critical_warning = NVME_SMART_CRIT_READ_ONLY;
    f.cfg.smart.temperature = 308;
    f.cfg.smart.avail_spare = 100;
    f.cfg.smart.spare_thresh = 10;
    f.cfg.smart.percent_used = 3;
    f.cfg.smart.power_cycles = (struct nvme_u128){10, 1};
    f.cfg.smart.power_on_hours = (struct nvme_u128){1234, 0};
    f.cfg.smart.unsafe_shutdowns = (struct nvme_u128){2, 0};
    f.cfg.smart.media_errors = (struct nvme_u128){0, 0};
    f.cfg.smart.err_log_entries = (struct nvme_u128){6, 0};
    fx_start(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "smart"), 0);
    expect("critical_warning\t\t\t: 0x8\n");
    expect("temperature\t\t\t\t: 35 C (308 K)\n");
    expect("available_spare\t\t\t\t: 100%\n");
    expect("available_spare_threshold\t\t: 10%\n");
    expect("percentage_used\t\t\t\t: 3%\n");
    expect("power_cycles\t\t\t\t: 18446744073709551626\n");
    expect("power_on_hours\t\t\t\t: 1234\n");
    expect("unsafe_shutdowns\t\t\t: 2\n");
    expect("media_errors\t\t\t\t: 0\n");
    expect("num_err_log_entries\t\t\t: 6\n");
    expect("Data Units Read\t\t\t\t: ");
    expect("host_write_commands\t\t\t: ");
    fx_stop(&f);
}

static void usage_errors_are_reported(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_not_equal(fx_nvmectl(&f, &out, "frobnicate"), 0);
    expect("unknown command 'frobnicate'");
    expect("usage: nvmectl");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -s 0"), 0);
    expect("nvmectl: -n NSID is required\n"); /* -s defaults to 0, as nvme-cli's */
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 3 -s 0"), 0);
    expect("no active namespace 3");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 262144"), 0);
    expect("read: LBA out of range");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 0 -c 4096"), 0);
    expect("do not fit");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 0x"), 0);
    expect("bad number '0x'");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 99999999999999999999"), 0);
    expect("bad number");
    assert_int_not_equal(fx_nvmectl(&f, &out, "write -n 1 -s 0"), 0);
    expect("write needs one of");
    assert_int_not_equal(fx_nvmectl(&f, &out, "write -n 1 -s 0 -f /etc/hostname"), 0);
    expect("cannot read files");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n"), 0);
    expect("needs a value");
    assert_int_not_equal(fx_nvmectl(&f, &out, "write-verify -n 1 -s 0 --offset 3"), 0);
    expect("--offset must be a multiple of 4");
    assert_int_equal(fx_nvmectl(&f, &out, "help"), 0);
    expect("write-verify -n NSID");
    fx_stop(&f);
}

/* nvmectl_run_line splits at most 24 words; a 25th must not be glued to
 * the 24th (here it would become part of the -t text written to media). */
static void a_line_of_more_than_24_words_is_refused(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    /* write -n 1 -s 0 + 17 x --fua + -t ABC = 24 words, then DEF */
    const char *line = "write -n 1 -s 0 --fua --fua --fua --fua --fua --fua --fua --fua --fua "
                       "--fua --fua --fua --fua --fua --fua --fua --fua -t ABC DEF";
    int rc = fx_nvmectl(&f, &out, line);
    uint8_t media[512];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 0, 1, media), 0);
    if (memcmp(media, "ABC DEF", 7) == 0)
        fail_msg("25th word glued into the 24th: wrote \"ABC DEF\" (rc %d)", rc);
    assert_int_not_equal(rc, 0);
    fx_stop(&f);
}

/* A device's 256-byte SUBNQN (no NUL) in id-ctrl's text: the line must
 * keep its newline (ctl_out's 256-byte line), not run into "ioccsz". */
static void id_ctrl_text_keeps_a_newline_after_a_256_byte_subnqn(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    for (uint32_t seed = 1; seed <= 4; seed++) {
        struct nvme_sim_fault flt = {
            NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, NVME_SIM_ANY, seed, 0, 1};
        assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
        assert_int_equal(fx_nvmectl(&f, &out, "id-ctrl"), 0);
        nvme_sim_clear_faults(f.sim);
        const char *l = strstr(out.text, "\nsubnqn    : ");
        assert_non_null(l);
        const char *nl = strchr(l + 1, '\n');
        assert_non_null(nl);
        if (strncmp(nl + 1, "ioccsz", 6) != 0)
            fail_msg("subnqn line not ended by a newline (seed %u): %.300s", seed, l + 1);
    }
    fx_stop(&f);
}

/* A message cut at CTL_LINE keeps its newline: a 300-character unknown
 * option, then the usage starts a line of its own. */
static void a_long_word_in_a_message_keeps_the_newline(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    char line[400] = "read -n 1 -s 0 --";
    memset(line + strlen(line), 'x', 300);
    assert_int_not_equal(fx_nvmectl(&f, &out, line), 0);
    expect("unknown option");
    expect("\nusage: nvmectl\n");
    fx_stop(&f);
}

/* Option values too large for their field are refused, not cut: -p 0x1a5
 * is not the byte 0xa5, get-feature -c 0x100000001 is not CDW11 0. */
static void option_values_wider_than_their_field_are_refused(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 1 -s 5 -p 0x11"), 0);
    int rc = fx_nvmectl(&f, &out, "write -n 1 -s 5 -p 0x1a5");
    uint8_t m[512];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 5, 1, m), 0);
    if (rc == 0 || m[0] != 0x11)
        fail_msg("-p 0x1a5 accepted: block written with 0x%02x (rc %d)", m[0], rc);
    assert_int_not_equal(fx_nvmectl(&f, &out, "get-feature -f 7 -c 0x100000001"), 0);
    /* An NSID above 32 bits is not namespace 0 (ctl_nsid_or) */
    assert_int_not_equal(fx_nvmectl(&f, &out, "smart-log -n 0x100000001"), 0);
    assert_int_not_equal(fx_nvmectl(&f, &out, "get-log -i 2 -l 512 -n 0x100000001"), 0);
    assert_int_not_equal(fx_nvmectl(&f, &out, "effects-log --csi 0x102"), 0);
    assert_int_not_equal(fx_nvmectl(&f, &out, "list-ctrl -c 0x10001"), 0);
    fx_stop(&f);
}

/* Numbers read as nvme-cli reads its options (strtoull base 0): "010" is
 * octal 8, "0x10" hex 16, "10" decimal; a word that is not all number
 * ("08", "12k", "-1", " 5") or above 64 bits is refused with a message
 * naming it.  Before: "010" was decimal 10 (the write went to LBA 10). */
static void numbers_are_read_as_nvme_cli_reads_them(void **state)
{
    (void)state;
    uint64_t v = 99;
    assert_true(nvmectl_parse_u64("010", &v) && v == 8);
    assert_true(nvmectl_parse_u64("0x10", &v) && v == 16);
    assert_true(nvmectl_parse_u64("0X1f", &v) && v == 31);
    assert_true(nvmectl_parse_u64("10", &v) && v == 10);
    assert_true(nvmectl_parse_u64("0", &v) && v == 0);
    assert_true(nvmectl_parse_u64("00", &v) && v == 0);
    assert_true(nvmectl_parse_u64("01777777777777777777777", &v) && v == ~(uint64_t)0);
    assert_true(nvmectl_parse_u64("18446744073709551615", &v) && v == ~(uint64_t)0);
    v = 99;
    static const char *const bad[] = {"08",
                                      "019",
                                      "02000000000000000000000",
                                      "12k",
                                      "0x",
                                      "-1",
                                      "+1",
                                      " 5",
                                      "5 ",
                                      "0x1g",
                                      "18446744073709551616",
                                      "0x10000000000000000",
                                      ""};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (nvmectl_parse_u64(bad[i], &v) || v != 99)
            fail_msg("'%s' accepted (%llu)", bad[i], (unsigned long long)v);
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 1 -s 010 -p 0x22"), 0);
    uint8_t m[512];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 8, 1, m), 0);
    assert_int_equal(m[0], 0x22);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 10, 1, m), 0);
    assert_int_not_equal(m[0], 0x22);
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 09"), 0);
    expect("bad number '09' for '-s'");
    expect("octal");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 0x10000000000000000"), 0);
    expect("at most 64 bits");
    fx_stop(&f);
}

/* -t TEXT longer than the data a command sends is refused, nothing sent
 * (it was cut to that length): Timestamp's 8 bytes, fw-download -l 4, a
 * 512-byte block; a text of exactly that length, or shorter (zeros
 * after it), is sent. */
static void text_longer_than_the_data_sent_is_refused(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t admin = st->admin_cmds, io_cmds = st->io_cmds;
    assert_int_equal(fx_nvmectl(&f, &out, "set-feature -f 0x0e -t 0123456789"), NVME_ERR_INVAL);
    expect("nvmectl set-feature: -t TEXT is 10 bytes, more than the 8 the command sends\n");
    assert_int_equal(fx_nvmectl(&f, &out, "fw-download -t abcdefgh -l 4"), NVME_ERR_INVAL);
    expect("-t TEXT is 8 bytes, more than the 4 the command sends");
    assert_int_equal(st->admin_cmds, admin);
    /* a block's 512 bytes and one more: a line longer than fx_nvmectl's */
    static char line[700];
    int k = snprintf(line, sizeof(line), "write -n 1 -s 7 -c 1 -t ");
    memset(line + k, 'T', 513);
    line[k + 513] = '\0';
    static uint8_t buf[1u << 16] __attribute__((aligned(4096)));
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), NULL, "nvme0", NULL, NULL};
    out.len = 0;
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), NVME_ERR_INVAL);
    expect("nvmectl write: -t TEXT is 513 bytes, more than the 512 the command sends");
    assert_int_equal(st->io_cmds, io_cmds);
    assert_int_equal(fx_nvmectl(&f, &out, "set-feature -f 0x0e -t 01234567"), 0);
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 1 -s 7 -c 1 -t short"), 0);
    uint8_t m[512];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 7, 1, m), 0);
    assert_memory_equal(m, "short\0\0\0", 8);
    fx_stop(&f);
}

/* "needs one of" and "is a byte" name options the command has, by their
 * long names: fw-download's -p is --progress, set-feature's -f the
 * feature (its file --data), fw-download's file --fw; nothing is sent
 * (before: "-p BYTE, -t TEXT, -f FILE" and "-p is a byte" for every
 * command). */
static void data_source_messages_name_the_commands_own_options(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t admin = st->admin_cmds;
    assert_int_equal(fx_nvmectl(&f, &out, "fw-download -l 4"), NVME_ERR_INVAL);
    expect("nvmectl: fw-download needs one of --pattern, --text, --fw\n");
    assert_int_equal(fx_nvmectl(&f, &out, "fw-download --pattern 256 -l 4"), NVME_ERR_INVAL);
    expect("nvmectl: --pattern is a byte (0..255)\n");
    assert_int_equal(fx_nvmectl(&f, &out, "set-feature -f 0x0e -p 1 -t ab"), NVME_ERR_INVAL);
    expect("nvmectl: set-feature needs one of --pattern, --text, --data\n");
    assert_int_equal(fx_nvmectl(&f, &out, "set-feature -f 0x0e -p 256"), NVME_ERR_INVAL);
    expect("nvmectl: --pattern is a byte (0..255)\n");
    assert_int_equal(st->admin_cmds, admin);
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 1 -s 0"), NVME_ERR_INVAL);
    expect("nvmectl: write needs one of --pattern, --text, --file\n");
    fx_stop(&f);
}

/* fw-download -f with -l not a multiple of 4: the image is rounded up to
 * a dword; the pad bytes must be zeros, not what the scratch buffer held. */
static long five_byte_file(void *arg, const char *path, void *dst, size_t len)
{
    (void)arg;
    (void)path;
    static const uint8_t img[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t n = len < sizeof(img) ? len : sizeof(img);
    memcpy(dst, img, n);
    return (long)n;
}

static void fw_download_pads_a_short_image_with_zeros(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    static uint8_t buf[1u << 16] __attribute__((aligned(4096)));
    memset(buf, 0xee, sizeof(buf)); /* what an earlier command left */
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), five_byte_file, "nvme0", NULL, NULL};
    char line[] = "fw-download -f img -l 5";
    out.len = 0;
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
    /* The core sent 8 bytes from buf: 1 2 3 4 5 and 3 pad bytes. */
    for (unsigned i = 5; i < 8; i++)
        if (buf[i] != 0)
            fail_msg("pad byte %u of the firmware image is 0x%02x, not 0", i, buf[i]);
    fx_stop(&f);
}

/* fw-download -f without -l: a file larger than the scratch buffer must
 * be refused, not cut to the buffer and sent as if it were the image. */
static long big_file(void *arg, const char *path, void *dst, size_t len)
{
    (void)arg;
    (void)path;
    memset(dst, 0x5a, len); /* the file has more bytes than asked for */
    return (long)len;
}

static void fw_download_refuses_a_file_larger_than_the_buffer(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    static uint8_t buf[1u << 16] __attribute__((aligned(4096)));
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), big_file, "nvme0", NULL, NULL};
    char line[] = "fw-download -f big.img";
    out.len = 0;
    uint64_t before = nvme_sim_stats(f.sim)->fw_downloads;
    int rc = nvmectl_run_line(f.ctrl, &io, line);
    if (rc == 0 || nvme_sim_stats(f.sim)->fw_downloads != before)
        fail_msg("a truncated image was downloaded (rc %d): %s", rc, out.text);
    fx_stop(&f);
}

/* write -f (and every -f / -i data source): a file larger than the
 * blocks written is refused, nothing sent (its first -c blocks were
 * written); one of exactly that size is written, a shorter one followed
 * by zeros. */
static long block_file(void *arg, const char *path, void *dst, size_t len)
{
    (void)arg;
    (void)path;
    size_t n = len < 512 ? len : 512; /* a 512-byte file */
    memset(dst, 0x3c, n);
    return (long)n;
}

static void write_refuses_a_file_larger_than_the_blocks(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    static uint8_t buf[1u << 16] __attribute__((aligned(4096)));
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), big_file, "nvme0", NULL, NULL};
    char line[] = "write -n 1 -s 9 -c 1 -f big.img";
    out.len = 0;
    uint64_t io_cmds = nvme_sim_stats(f.sim)->io_cmds;
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), NVME_ERR_INVAL);
    expect("nvmectl write: 'big.img' is larger than the 512 bytes the command sends\n");
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, io_cmds);
    io.read_file = block_file;
    char exact[] = "write -n 1 -s 9 -c 1 -f blk.img";
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, exact), 0);
    char shorter[] = "write -n 1 -s 9 -c 2 -f blk.img";
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, shorter), 0);
    uint8_t m[1024];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 9, 2, m), 0);
    assert_int_equal(m[511], 0x3c);
    assert_int_equal(m[512], 0);
    fx_stop(&f);
}

static struct {
    char path[64];
    uint8_t data[4096];
    size_t len;
    int calls;
} saved;

static long save_file(void *arg, const char *path, const void *data, size_t len)
{
    (void)arg;
    saved.calls++;
    snprintf(saved.path, sizeof(saved.path), "%s", path);
    if (len > sizeof(saved.data))
        return -1;
    memcpy(saved.data, data, len);
    saved.len = len;
    return (long)len;
}

static long broken_save_file(void *arg, const char *path, const void *data, size_t len)
{
    (void)arg, (void)path, (void)data, (void)len;
    return -1;
}

/* admin-passthru / io-passthru -i FILE with a read: the data read goes to
 * the file, not dumped, as nvme-cli's "data input or output file" (it was
 * ignored: the dump printed, no file); a host without files refuses it
 * before sending, a failed write is an error.  With a write, -i is still
 * what is sent. */
static void passthru_read_with_input_file_writes_the_data_there(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    static uint8_t buf[1u << 16] __attribute__((aligned(4096)));
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), NULL, "nvme0", NULL, save_file};
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 1 -s 7 -t FILE-DATA"), 0);
    char line[] = "io-passthru -O 2 -n 1 -4 7 -l 512 -i /tmp/blk.bin";
    out.len = 0;
    out.text[0] = '\0';
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
    assert_int_equal(saved.calls, 1);
    assert_string_equal(saved.path, "/tmp/blk.bin");
    assert_int_equal(saved.len, 512);
    assert_memory_equal(saved.data, "FILE-DATA", 9);
    assert_string_equal(out.text, "IO Command Read is Success and result: 0x00000000\n");
    io.write_file = broken_save_file;
    char line2[] = "admin-passthru -O 6 -4 1 -l 4096 -i /tmp/id.bin";
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line2), NVME_ERR_INVAL);
    expect("admin-passthru: failed to write data buffer to '/tmp/id.bin'\n");
    /* fx_nvmectl's host has no files: refused, nothing sent */
    uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_equal(fx_nvmectl(&f, &out, "admin-passthru -O 6 -4 1 -l 4096 -i /tmp/id.bin"),
                     NVME_ERR_UNSUPPORTED);
    expect("-i FILE with a read: this host has no files");
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin);
    fx_stop(&f);
}

/* admin-passthru / io-passthru -p BYTE with -i FILE on a write: as
 * nvme-cli's (memset with --prefill, then the file read over it), the
 * file's bytes first and -p's byte after a shorter file (it was refused:
 * "needs one of -p BYTE, -t TEXT, -f FILE"); without -p zeros after it,
 * and -p alone still sends its byte. */
static void passthru_write_prefills_then_reads_the_input_file(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    static uint8_t buf[1u << 16] __attribute__((aligned(4096)));
    memset(buf, 0xee, sizeof(buf)); /* what an earlier command left */
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), five_byte_file, "nvme0", NULL, NULL};
    char line[] = "io-passthru -O 1 -n 1 -4 9 -l 512 -p 0x5a -i img";
    out.len = 0;
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
    uint8_t m[512], want[512];
    memset(want, 0x5a, sizeof(want));
    for (unsigned i = 0; i < 8; i++) /* the file's 8 bytes */
        want[i] = (uint8_t)(i + 1);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 9, 1, m), 0);
    assert_memory_equal(m, want, sizeof(want));
    char line2[] = "io-passthru -O 1 -n 1 -4 10 -l 512 -i img";
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line2), 0);
    memset(want + 8, 0, sizeof(want) - 8);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 10, 1, m), 0);
    assert_memory_equal(m, want, sizeof(want));
    char line3[] = "io-passthru -O 1 -n 1 -4 11 -l 512 -p 0x3c";
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line3), 0);
    memset(want, 0x3c, sizeof(want));
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 11, 1, m), 0);
    assert_memory_equal(m, want, sizeof(want));
    char line4[] = "io-passthru -O 1 -n 1 -4 12 -l 512";
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line4), 0);
    memset(want, 0, sizeof(want));
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 12, 1, m), 0);
    assert_memory_equal(m, want, sizeof(want));
    fx_stop(&f);
}

/* read --fua goes through nvme_read_ext, which moves lba_size + ms bytes
 * per block on an extended-LBA format: the scratch buffer must be
 * checked for that size, not 2^LBADS per block. */
/* A device may move fewer bytes than a Read asks for and still complete
 * it with success (nothing in NVMe tells the host).  read must then not
 * print what the scratch buffer held from an earlier command as the
 * block's data: nvme-cli reads into a zeroed buffer, as nvmectl's verify,
 * passthru and get-feature do. */
static void read_does_not_show_an_earlier_command_s_bytes_as_block_data(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 1 -s 0 -t EARLIER-COMMAND"), 0);
    struct nvme_sim_fault short_read = {
        NVME_SIM_FAULT_SHORT_DATA, NVME_SIM_ANY_IO, 0x02, NVME_SIM_ANY, 0, 0, 1};
    assert_int_equal(nvme_sim_inject(f.sim, &short_read), 0);
    assert_int_equal(fx_nvmectl(&f, &out, "read -n 1 -s 9"), 0); /* LBA 9: zeros */
    if (strstr(out.text, "EARLIER") != NULL)
        fail_msg("read printed the previous command's bytes as LBA 9:\n%s", out.text);
    expect("00001200  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|");
    nvme_sim_clear_faults(f.sim);
    fx_stop(&f);
}

/* MDTS is 2^MDTS minimum pages (Identify byte 77, §5.15.2.2): 20 with
 * 4 KiB pages is a 4 GiB limit, past 32 bits.  id-ctrl -H must not call
 * it no limit. */
static void id_ctrl_shows_a_4_gib_mdts_as_a_limit(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 20;
    fx_start(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "id-ctrl -H"), 0);
    expect("mdts      : 20\n  4294967296 bytes per command\n");
    fx_stop(&f);
}

/* info shows the MDTS limit exactly, however large (MDTS 20: 4 GiB, MDTS
 * 255: 2^267 bytes), and only MDTS 0 as no limit (§5.15.2.2). */
static void info_shows_a_large_mdts_exactly(void **state)
{
    (void)state;
    static const struct {
        uint8_t mdts;
        const char *text;
        uint64_t json_bytes;
        unsigned log2;
    } cases[] = {
        {20, "mdts            : 4294967296 bytes (max transfer per command)", 1ull << 32, 32},
        {51, "mdts            : 9223372036854775808 bytes", 1ull << 63, 63},
        {255, "mdts            : 2^267 bytes (max transfer per command)", UINT64_MAX, 267},
        {0, "mdts            : no limit (core sends at most 4194304 bytes)", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        fx_config(&f);
        f.cfg.mdts = cases[i].mdts;
        fx_start(&f);
        assert_int_equal(fx_nvmectl(&f, &out, "info"), 0);
        expect(cases[i].text);
        const struct nvme_ctrl_info *in = nvme_ctrl_get_info(f.ctrl);
        assert_true(in->mdts_reported == cases[i].json_bytes);
        assert_int_equal(in->mdts_log2, cases[i].log2);
        assert_int_equal(fx_nvmectl(&f, &out, "info -o json"), 0);
        char key[64];
        snprintf(key, sizeof(key), "\"mdts_bytes\":%llu", (unsigned long long)cases[i].json_bytes);
        expect(key);
        fx_stop(&f);
    }
}

/* read's hex dump is addressed by byte (LBA x block size), as list and
 * id-ns show capacities past 2^64 bytes exactly: NSZE is 64 bits, so on a
 * namespace of more than 2^55 blocks of 512 bytes an LBA's byte address
 * passes 2^64 and must not wrap to a small one. */
static void read_dump_addresses_past_2_64_bytes_do_not_wrap(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nsid = 1;
    f.ns[0].blocks = 1ull << 60; /* sparse: zeros */
    f.cfg.ns_count = 1;
    fx_start(&f);
    /* LBA 2^55 + 1: byte 2^64 + 512 */
    assert_int_equal(fx_nvmectl(&f, &out, "read -n 1 -s 0x80000000000001"), 0);
    expect("read 1 block(s) at LBA 36028797018963969 (512 bytes)\n"
           "10000000000000200  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  "
           "|................|\n"
           "*\n"
           "10000000000000400\n");
    if (strstr(out.text, "\n00000200  ") != NULL)
        fail_msg("the dump's addresses wrapped at 2^64:\n%s", out.text);
    /* below 2^32 bytes: the usual eight digits */
    assert_int_equal(fx_nvmectl(&f, &out, "read -n 1 -s 1"), 0);
    expect("\n00000200  00 00");
    expect("\n00000400\n");
    fx_stop(&f);
}

/* ns-descs shows the descriptors the list holds (NVMe 2.0 §5.17.2.4,
 * Figure 280), as nvme-cli prints only those present: a list without a
 * Command Set Identifier descriptor (NIDT 04h, an NVMe 1.3/1.4 device,
 * here the list cut after the UUID) has no csi line and no "csi" member,
 * not a CSI of 0 the device never reported. */
static void ns_descs_shows_no_csi_the_list_does_not_hold(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    for (unsigned json = 0; json < 2; json++) {
        /* EUI64, NGUID and UUID descriptors: 12 + 20 + 20 bytes */
        fx_inject(&f, NVME_SIM_FAULT_SHORT_DATA, 0, NVME_ADMIN_IDENTIFY, 52, 1);
        assert_int_equal(fx_nvmectl(&f, &out, json ? "ns-descs -n 1 -o json" : "ns-descs -n 1"), 0);
        nvme_sim_clear_faults(f.sim);
        expect("uuid");
        if (strstr(out.text, "csi") != NULL)
            fail_msg("a CSI the list does not hold:\n%s", out.text);
        if (json)
            assert_true(json_one_value(out.text));
    }
    /* with the descriptor (the simulator's full list): shown */
    assert_int_equal(fx_nvmectl(&f, &out, "ns-descs -n 1"), 0);
    expect("csi     : 0\n");
    assert_int_equal(fx_nvmectl(&f, &out, "ns-descs -n 1 -o json"), 0);
    expect("\"loc\":52,\n      \"nidt\":4,\n      \"nidl\":1,\n      \"type\":\"csi\",\n"
           "      \"csi\":\"0\"");
    fx_stop(&f);
}

static void read_fua_on_an_extended_format_stays_in_the_buffer(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].ms = 8;
    f.ns[0].extended = true;
    f.ns[1] = f.ns[0];
    f.ns[1].nsid = 2;
    f.ns[1].pi_type = 1;
    f.cfg.ns_count = 2;
    fx_start(&f);
    static uint8_t buf[8192 + 4096] __attribute__((aligned(4096)));
    memset(buf, 0xee, sizeof(buf));
    struct nvmectl_io io = {fx_print, &out, buf, 8192, NULL, "nvme0", NULL, NULL};
    char line[] = "read -n 1 -s 0 -c 16 --fua"; /* 16 * 512 = 8192, 16 * 520 = 8320 */
    out.len = 0;
    (void)nvmectl_run_line(f.ctrl, &io, line);
    for (size_t i = 8192; i < sizeof(buf); i++)
        if (buf[i] != 0xee)
            fail_msg("read --fua wrote byte %zu, past the %u-byte scratch buffer", i, 8192u);
    /* PI only (ms 8): plain blocks as plain read gives them (PRACT). */
    char line2[] = "read -n 2 -s 0 -c 16 --fua";
    out.len = 0;
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line2), 0);
    for (size_t i = 8192; i < sizeof(buf); i++)
        if (buf[i] != 0xee)
            fail_msg("read --fua (PI) wrote byte %zu, past the scratch buffer", i);
    fx_stop(&f);
}

/* nvmectl_usage takes what nvmectl_main takes: no io, or one without a
 * print callback, prints nothing (nvmectl_main returns NVME_ERR_INVAL for
 * them) instead of calling through NULL. */
static void usage_without_a_print_callback_prints_nothing(void **state)
{
    (void)state;
    struct nvmectl_io io = {NULL, NULL, NULL, 0, NULL, "nvme0", NULL, NULL};
    nvmectl_usage(NULL);
    nvmectl_usage(&io);
    assert_int_equal(nvmectl_main(NULL, &io, 0, NULL), NVME_ERR_INVAL);
}

/* persistent-event-log as nvme-cli's (NVMe 2.0 §5.16.1.14): -a 1 without
 * -l establishes the context only; -a 0 reads the header, then Total Log
 * Length bytes with Read Log Data, then the header again; -a 2 releases
 * the context and shows no log (Release returns no log data), and
 * succeeds with no context left. */
static void persistent_event_log_establish_read_release(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 8 KiB per command: the 16 KiB log takes two */
    f.cfg.lpa |= NVME_LPA_PERSISTENT_EVENT;
    fx_start(&f);
    assert_int_not_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0"), 0);
    expect("Command Sequence Error");
    assert_int_not_equal(fx_nvmectl(&f, &out, "persistent-event-log"), 0); /* -a required */
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 1"), 0);
    expect("Establishing Persistent Event Log Context");
    uint64_t before = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0"), 0);
    /* header, the log in two pieces, the header again */
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 4);
    expect("Action for Persistent Event Log: 0\n");
    expect("Total Number of Events: 31\n");
    expect("Total Log Length : 16384\n");
    expect("Generation Number: 1\n");
    expect("Event Number: 30\nEvent Type: Vendor Specific Event\n");
    expect("Event Timestamp: 30\n");
    expect("Event Length: 488\n");
    assert_null(strstr(out.text, "Event Number: 31"));
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0 -b"), 0);
    assert_int_equal(out.bin_len, 16384);
    assert_int_equal(out.bin[0], NVME_LID_PERSISTENT_EVENT);
    assert_int_equal(out.bin[16383], 1);
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0 -o json"), 0);
    assert_true(json_one_value(out.text));
    expect("\"total_log_len\":16384");
    expect("\"event_time_stamp\":30");
    before = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 2"), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 1);
    expect("Releasing Persistent Event Log Context");
    assert_null(strstr(out.text, "Persistent Event Entries"));
    assert_int_not_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0"), 0);
    expect("Command Sequence Error");
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 2"), 0);
    /* Establish with a length: the header establishes, the rest reads. */
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 1 -l 16384"), 0);
    expect("Generation Number: 2\n");
    expect("Event Number: 30\n");
    fx_stop(&f);
}

/* The Persistent Event Log header's SUBNQN (bytes 371:116) is 256 bytes
 * of device text: printed whole, as id-ctrl prints Identify's, not cut at
 * nvmectl's 256-byte line with the 44 bytes before it.  The simulator's
 * garbage with seed 4 has no NUL in those bytes (every Get Log Page gets
 * the same bytes, so the Generation Numbers agree).  Before: 210 of the
 * 256 characters, the line ended "...(SUBNQN): .....2.l;CNw..O:...." cut
 * short. */
static void persistent_event_log_prints_a_256_byte_subnqn_whole(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.lpa |= NVME_LPA_PERSISTENT_EVENT;
    fx_start(&f);
    struct nvme_sim_fault garbage = {NVME_SIM_FAULT_GARBAGE_DATA, 0, 0x02, NVME_SIM_ANY, 4, 0, 3};
    assert_int_equal(nvme_sim_inject(f.sim, &garbage), 0);
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 1 -l 512"), 0);
    nvme_sim_clear_faults(f.sim);
    const char *key = "NVM Subsystem NVMe Qualified Name (SUBNQN): ";
    const char *v = strstr(out.text, key);
    assert_non_null(v);
    v += strlen(key);
    const char *nl = strchr(v, '\n');
    assert_non_null(nl);
    if (nl - v != 256)
        fail_msg("SUBNQN of %d characters, not 256:\n%s", (int)(nl - v), out.text);
    assert_memory_equal(v, ".....2.l;CNw..O:", 16);
    assert_memory_equal(nl - 5, "}+...", 5);
    expect("\nGeneration Number: ");
    fx_stop(&f);
}

/* The header's Total Log Length and Number of Events come from the device:
 * a length that is no log length (below the 512-byte header, above what
 * one read can ask for: 2^32 + 16 KiB is not 16 KiB) is refused before it
 * sizes a read, and the events shown stop at the bytes read whatever
 * Number of Events says. */
static void persistent_event_log_header_counts_are_bounded(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.lpa |= NVME_LPA_PERSISTENT_EVENT;
    fx_start(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 1"), 0);
    static const uint64_t bad[] = {4, 100, 511, (1ull << 32) + 16384, 1ull << 40, ~0ull};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        nvme_sim_pel_header(f.sim, bad[i], 31);
        uint64_t before = nvme_sim_stats(f.sim)->admin_cmds;
        assert_int_not_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0"), 0);
        expect("is not a log length");
        assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 1); /* the header only */
    }
    nvme_sim_pel_header(f.sim, 16384, 0xffffffffu);
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0"), 0);
    expect("Total Number of Events: 4294967295\n");
    expect("Event Number: 30\n");
    assert_null(strstr(out.text, "Event Number: 31"));
    /* 8000 bytes claimed: the 14 events inside them; the 15th, whose
     * header is inside but its Event Length past the end, not shown. */
    nvme_sim_pel_header(f.sim, 8000, 31);
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0"), 0);
    expect("Event Number: 13\n");
    assert_null(strstr(out.text, "Event Number: 14"));
    /* Not a multiple of 4: read rounded up to dwords. */
    nvme_sim_pel_header(f.sim, 8190, 31);
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0 -b"), 0);
    assert_int_equal(out.bin_len, 8192);
    fx_stop(&f);
}

/* -o json is one JSON value for every action: Establish without -l and
 * Release read no log, and said so in text (nvme-cli's printf) even with
 * -o json; found by nvme-fuzz-nvmectl. */
static void persistent_event_log_context_actions_with_json_are_one_json_value(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.lpa |= NVME_LPA_PERSISTENT_EVENT;
    fx_start(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 1 -o json"), 0);
    assert_true(json_one_value(out.text));
    expect("\"detail\":\"Establishing Persistent Event Log Context\"");
    assert_int_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 2 -o json"), 0);
    assert_true(json_one_value(out.text));
    expect("\"detail\":\"Releasing Persistent Event Log Context\"");
    /* the context was released: a read is a Command Sequence Error */
    assert_int_not_equal(fx_nvmectl(&f, &out, "persistent-event-log -a 0"), 0);
    expect("Command Sequence Error");
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(info_prints_version_queue_depth_and_identity),
        cmocka_unit_test(ready_reports_the_controller_up),
        cmocka_unit_test(list_shows_every_namespace_with_its_capacity),
        cmocka_unit_test(list_all_is_one_table_of_every_controller),
        cmocka_unit_test(list_skips_a_namespace_a_rescan_removed_meanwhile),
        cmocka_unit_test(list_shows_a_capacity_past_2_64_bytes_exactly),
        cmocka_unit_test(id_ctrl_and_id_ns_print_zero_hex_fields_as_nvme_cli),
        cmocka_unit_test(read_dumps_the_mbr_with_its_signature),
        cmocka_unit_test(write_a_signature_flush_and_read_it_back),
        cmocka_unit_test(verify_writes_reads_and_compares),
        cmocka_unit_test(one_dash_long_options_and_prefixes_as_getopt_long_only),
        cmocka_unit_test(grouped_short_options_as_getopt),
        cmocka_unit_test(smart_prints_health_fields),
        cmocka_unit_test(usage_errors_are_reported),
        cmocka_unit_test(numbers_are_read_as_nvme_cli_reads_them),
        cmocka_unit_test(a_line_of_more_than_24_words_is_refused),
        cmocka_unit_test(id_ctrl_text_keeps_a_newline_after_a_256_byte_subnqn),
        cmocka_unit_test(a_long_word_in_a_message_keeps_the_newline),
        cmocka_unit_test(option_values_wider_than_their_field_are_refused),
        cmocka_unit_test(text_longer_than_the_data_sent_is_refused),
        cmocka_unit_test(data_source_messages_name_the_commands_own_options),
        cmocka_unit_test(fw_download_pads_a_short_image_with_zeros),
        cmocka_unit_test(fw_download_refuses_a_file_larger_than_the_buffer),
        cmocka_unit_test(write_refuses_a_file_larger_than_the_blocks),
        cmocka_unit_test(passthru_read_with_input_file_writes_the_data_there),
        cmocka_unit_test(passthru_write_prefills_then_reads_the_input_file),
        cmocka_unit_test(read_fua_on_an_extended_format_stays_in_the_buffer),
        cmocka_unit_test(id_ctrl_shows_a_4_gib_mdts_as_a_limit),
        cmocka_unit_test(info_shows_a_large_mdts_exactly),
        cmocka_unit_test(read_does_not_show_an_earlier_command_s_bytes_as_block_data),
        cmocka_unit_test(read_dump_addresses_past_2_64_bytes_do_not_wrap),
        cmocka_unit_test(ns_descs_shows_no_csi_the_list_does_not_hold),
        cmocka_unit_test(usage_without_a_print_callback_prints_nothing),
        cmocka_unit_test(persistent_event_log_establish_read_release),
        cmocka_unit_test(persistent_event_log_header_counts_are_bounded),
        cmocka_unit_test(persistent_event_log_prints_a_256_byte_subnqn_whole),
        cmocka_unit_test(persistent_event_log_context_actions_with_json_are_one_json_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
