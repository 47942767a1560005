/* SPDX-License-Identifier: MIT */
/*
 * test_nvmectl_nsdev.c - nvme-cli's device word in nvmectl: `nvme <command>
 * <device> [options]` (the device may follow the options, as
 * getopt_long_only's order), the device this controller (nvme0, /dev/nvme0) or one
 * of its namespaces (nvme0n4, /dev/nvme0n4).  A namespace device gives the
 * NSID to the commands whose nvme-cli 2.4 counterpart asks the device for
 * one (nvme_get_nsid() when its -n is left at 0, or, get-feature and
 * set-feature, not given), -n given wins there; the others keep their own
 * default (smart-log and get-log FFFFFFFFh, list-ns from 1, attach-ns
 * requires -n).  Another controller's device and a malformed word are
 * refused before any command is sent.  Observed: the NSID of the commands
 * sent (the core's SQE trace) and what nvmectl prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmectl_check.h"

/* Namespaces 1 (512-byte blocks) and 4 (4096), reservations, Write
 * Uncorrectable, Format and Namespace Management; the SQE trace on. */
static void start(struct fx *f)
{
    fx_config(f);
    f->ns[0].nsid = 1;
    f->ns[0].blocks = 8192;
    f->ns[1].nsid = 4;
    f->ns[1].blocks = 4096;
    f->ns[1].lba_size = 4096;
    f->cfg.ns_count = 2;
    f->cfg.oncs |= NVME_ONCS_RESERVATIONS | NVME_ONCS_WRITE_UNC;
    f->cfg.oacs |= NVME_OACS_FORMAT | NVME_OACS_NS_MGMT | NVME_OACS_SELF_TEST;
    fx_start_captured(f);
    nvme_ctrl_set_trace(f->ctrl, NVME_TRACE_SQE);
}

/* The NSID every command of opcode `opc` sent by `line` carried (admin:
 * submission queue 0, else an I/O queue); fails when there was none or
 * they differ.  The line's result is not checked. */
static uint32_t nsid_sent(struct fx *f, const char *line, bool admin, unsigned opc)
{
    char key[32];
    long long seen = -1;
    nvme_sim_log_clear(f->sim);
    (void)fx_nvmectl(f, &out, line);
    snprintf(key, sizeof(key), "sqe opc=%02x cid=", opc);
    const char *log = nvme_sim_log_text(f->sim);
    for (const char *p = log; (p = strstr(p, key)) != NULL; p++) {
        /* "sq%u sqe opc=..." (trace.c): sq0 is the admin queue */
        if ((p - log >= 4 && strncmp(p - 4, "sq0 ", 4) == 0) != admin)
            continue;
        const char *n = strstr(p, "nsid=");
        assert_non_null(n);
        long long v = strtoll(n + 5, NULL, 10);
        if (seen >= 0 && v != seen)
            fail_msg("'%s': opcode %02x sent with NSID %lld and %lld", line, opc, seen, v);
        seen = v;
    }
    if (seen < 0)
        fail_msg("'%s' sent no opcode %02x (%s):\n%s\n%s", line, opc, admin ? "admin" : "I/O",
                 out.text, nvme_sim_log_text(f->sim));
    return (uint32_t)seen;
}

/* nvme-cli's submit_io, flush, write_zeroes, write_uncor, dsm, copy and
 * verify_cmd ask the device for the NSID when -n is 0: the I/O commands
 * reach namespace 4 through nvme0n4 or /dev/nvme0n4 (verify: the Verify
 * command, as nvme-cli's; write-verify writes). */
static void io_commands_reach_the_namespace_of_the_device(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        unsigned opc;
    } cases[] = {
        {"write nvme0n4 -p 0x5a -c 1", 0x01},
        {"read nvme0n4 -c 1", 0x02},
        {"compare /dev/nvme0n4 -p 0x5a -c 1", 0x05},
        {"flush nvme0n4", 0x00},
        {"write-zeroes nvme0n4 -s 1 -c 1", 0x08},
        {"write-uncor nvme0n4 -s 2 -c 0", 0x04},
        {"nvm-verify nvme0n4 -c 1", 0x0c},
        {"dsm nvme0n4 --ad -s 3 -b 1", 0x09},
        {"copy nvme0n4 -d 8 -s 0 -b 1", 0x19},
        {"write-verify nvme0n4 -s 16 -c 1", 0x01},
        {"resv-register nvme0n4 -k 0xabc", 0x0d},
        {"resv-report nvme0n4", 0x0e},
        {"verify nvme0n4 -c 1", 0x0c},
    };
    struct fx f;
    start(&f);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (nsid_sent(&f, cases[i].line, false, cases[i].opc) != 4)
            fail_msg("'%s' did not reach namespace 4:\n%s", cases[i].line, out.text);
    /* what was written through nvme0n4 is namespace 4's */
    ok(&f, "read -n 4 -c 1");
    expect("nvme0n4: read 1 block(s) at LBA 0 (4096 bytes)");
    expect("5a 5a 5a 5a");
    ok(&f, "read nvme0n4 -c 1");
    expect("nvme0n4: read 1 block(s)");
    /* -n given wins (nvme-cli reads the device only when -n is 0) ... */
    assert_int_equal(nsid_sent(&f, "read nvme0n4 -n 1 -c 1", false, 0x02), 1);
    expect("nvme0n1: read 1 block(s)");
    /* ... and -n 0 is nvme-cli's "not given" */
    assert_int_equal(nsid_sent(&f, "read nvme0n4 -n 0 -c 1", false, 0x02), 4);
    /* the controller's device gives none: -n is required, as it was */
    assert_int_equal(fx_nvmectl(&f, &out, "read nvme0 -c 1"), NVME_ERR_INVAL);
    expect("nvmectl: -n NSID is required\n");
    assert_int_equal(nsid_sent(&f, "read /dev/nvme0 -n 4 -c 1", false, 0x02), 4);
    fx_stop(&f);
}

/* id-ns, ns-descs, nvm-id-ns (nvme-cli's id_ns, ns_descs, nvm_id_ns):
 * Identify of the device's namespace; -n wins. */
static void identify_commands_name_the_namespace_of_the_device(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_equal(nsid_sent(&f, "id-ns nvme0n4", true, 0x06), 4);
    expect("NVME Identify Namespace 4:");
    assert_int_equal(nsid_sent(&f, "id-ns /dev/nvme0n4 -o json", true, 0x06), 4);
    assert_int_equal(nsid_sent(&f, "id-ns nvme0n4 -n 1", true, 0x06), 1);
    expect("NVME Identify Namespace 1:");
    assert_int_equal(nsid_sent(&f, "id-ns nvme0n4 -n 0", true, 0x06), 4);
    assert_int_equal(nsid_sent(&f, "ns-descs nvme0n4", true, 0x06), 4);
    assert_int_equal(nsid_sent(&f, "nvm-id-ns nvme0n4", true, 0x06), 4);
    /* the controller's device: -n still required */
    assert_int_equal(fx_nvmectl(&f, &out, "ns-descs nvme0"), NVME_ERR_INVAL);
    expect("nvmectl ns-descs: -n NSID is required: one namespace, 1..0xfffffffe\n");
    fx_stop(&f);
}

/* get-feature and set-feature ask the device when -n is not given
 * (nvme-cli's argconfig_parse_seen): -n 0 given is sent as 0; on the
 * controller's device FFFFFFFFh, as before. */
static void features_take_the_namespace_of_the_device_unless_n_is_given(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_equal(nsid_sent(&f, "get-feature nvme0n4 -f 5", true, 0x0a), 4);
    assert_int_equal(nsid_sent(&f, "set-feature nvme0n4 -f 5 -v 3", true, 0x09), 4);
    assert_int_equal(nsid_sent(&f, "get-feature nvme0n4 -f 5 -n 1", true, 0x0a), 1);
    assert_int_equal(nsid_sent(&f, "get-feature nvme0n4 -f 5 -n 0", true, 0x0a), 0);
    assert_int_equal(nsid_sent(&f, "get-feature nvme0 -f 5", true, 0x0a), NVME_NSID_ALL);
    fx_stop(&f);
}

/* Commands whose nvme-cli counterpart never asks the device keep their
 * own NSID on a namespace device (smart-log, get-log: FFFFFFFFh; list-ns:
 * from 1; device-self-test: FFFFFFFFh), controller commands run as on the
 * controller (nvme-cli's id-ctrl on /dev/nvme0n1), and attach-ns and
 * io-passthru still require -n. */
static void controller_commands_run_on_a_namespace_device_as_nvme_cli(void **state)
{
    (void)state;
    char ctrl_text[sizeof(out.text)];
    struct fx f;
    start(&f);
    ok(&f, "id-ctrl");
    snprintf(ctrl_text, sizeof(ctrl_text), "%s", out.text);
    ok(&f, "id-ctrl nvme0n4");
    assert_string_equal(out.text, ctrl_text);
    ok(&f, "id-ctrl /dev/nvme0");
    assert_string_equal(out.text, ctrl_text);
    assert_int_equal(nsid_sent(&f, "smart-log nvme0n4", true, 0x02), NVME_NSID_ALL);
    assert_int_equal(nsid_sent(&f, "get-log nvme0n4 -i 2 -l 512", true, 0x02), NVME_NSID_ALL);
    assert_int_equal(nsid_sent(&f, "error-log nvme0n4", true, 0x02), NVME_NSID_ALL);
    assert_int_equal(nsid_sent(&f, "device-self-test nvme0n4 -s short", true, 0x14), NVME_NSID_ALL);
    assert_int_equal(nsid_sent(&f, "list-ns nvme0n4", true, 0x06), 0); /* CNS 02h from 0 */
    expect("[   0]:0x1\n[   1]:0x4\n");
    assert_int_equal(fx_nvmectl(&f, &out, "attach-ns nvme0n4"), NVME_ERR_INVAL);
    expect("nvmectl attach-ns: -n NSID is required");
    assert_int_equal(fx_nvmectl(&f, &out, "io-passthru nvme0n4 -O 0"), NVME_ERR_INVAL);
    expect("-n NSID is required");
    fx_stop(&f);
}

/* format and delete-ns (nvme-cli's format without FNA bit 0, delete_ns)
 * act on the device's namespace. */
static void format_and_delete_ns_take_the_namespace_of_the_device(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_equal(nsid_sent(&f, "format nvme0n4 --force", true, 0x80), 4);
    assert_int_equal(nsid_sent(&f, "delete-ns /dev/nvme0n4 --force", true, 0x0d), 4);
    expect("delete-ns: Success, deleted nsid:4\n");
    ok(&f, "get-ns-id");
    assert_string_equal(out.text, "nvme0n1: namespace-id:1\n");
    fx_stop(&f);
}

/* The zns plugin's commands (nvme-cli's zns.c asks the device when -n is
 * 0), the device after both words. */
static void zns_commands_take_the_namespace_of_the_device(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0] = (struct nvme_sim_ns_config){.nsid = 1, .blocks = 1024, .lba_size = 512};
    f.ns[1] = (struct nvme_sim_ns_config){
        .nsid = 2, .blocks = 1024, .lba_size = 512, .zoned = true, .zone_size = 256};
    f.cfg.ns_count = 2;
    fx_start_captured(&f);
    nvme_ctrl_set_trace(f.ctrl, NVME_TRACE_SQE);
    assert_int_equal(nsid_sent(&f, "zns id-ns nvme0n2", true, 0x06), 2);
    assert_int_equal(nsid_sent(&f, "zns report-zones nvme0n2", false, 0x7a), 2);
    assert_int_equal(nsid_sent(&f, "report-zones /dev/nvme0n2 -d 1", false, 0x7a), 2);
    assert_int_equal(nsid_sent(&f, "zns zone-append nvme0n2 -s 0 -p 7", false, 0x7d), 2);
    assert_int_equal(nsid_sent(&f, "zns reset-zone nvme0n2 -s 0", false, 0x79), 2);
    assert_int_equal(nsid_sent(&f, "zone-mgmt-send nvme0n2 -s 0 -z open", false, 0x79), 2);
    assert_int_equal(nsid_sent(&f, "zns finish-zone nvme0n1 -n 2 -s 0", false, 0x79), 2);
    assert_int_equal(nsid_sent(&f, "zns report-zones -d 1 nvme0n2", false, 0x7a), 2);
    fx_stop(&f);
}

/* get-ns-id on a namespace device: that namespace's line alone, as
 * nvme-cli's "nvme0n4: namespace-id:4"; on the controller every active
 * namespace's, as before; an inactive one is refused. */
static void get_ns_id_of_a_namespace_device_prints_its_line(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "get-ns-id nvme0n4");
    assert_string_equal(out.text, "nvme0n4: namespace-id:4\n");
    ok(&f, "get-ns-id /dev/nvme0n1");
    assert_string_equal(out.text, "nvme0n1: namespace-id:1\n");
    ok(&f, "get-ns-id nvme0n4 -o json");
    expect("\"namespace-id\":[\n    4\n  ]");
    ok(&f, "get-ns-id nvme0");
    assert_string_equal(out.text, "nvme0n1: namespace-id:1\nnvme0n4: namespace-id:4\n");
    assert_int_equal(fx_nvmectl(&f, &out, "get-ns-id nvme0n2"), NVME_ERR_NOENT);
    assert_string_equal(out.text, "nvme0n2: get-ns-id: no such namespace\n");
    fx_stop(&f);
}

/* Another controller's device, or a word that is not a device of this
 * one, is a usage error naming what is expected; nothing is sent. */
static void other_devices_and_malformed_words_are_refused(void **state)
{
    (void)state;
    static const char *const words[] = {
        "nvme1n1",     "/dev/nvme1",       "nvme1",    "nvme0n",   "nvme0n0",
        "nvme0n01",    "nvme0n4294967295", "nvme0n1x", "nvme0n-1", "nvme01",
        "dev/nvme0n1", "/dev//nvme0",      "nvme",     "/dev/",    "nvme0 n1",
        "nvme0n0x1",   "nvme0nn1",         "stray",
    };
    char line[96], want[160];
    struct fx f;
    start(&f);
    for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        snprintf(line, sizeof(line), "read %s -c 1", words[i]);
        uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds, io = nvme_sim_stats(f.sim)->io_cmds;
        int rc = fx_nvmectl(&f, &out, line);
        if (strchr(words[i], ' ') != NULL) { /* two words: the second is stray */
            assert_int_equal(rc, NVME_ERR_INVAL);
            expect("unexpected argument 'n1'");
            continue;
        }
        if (rc != NVME_ERR_INVAL)
            fail_msg("'%s' returned %d:\n%s", line, rc, out.text);
        snprintf(want, sizeof(want), "nvmectl read: device '%s' is not nvme0 or nvme0n<NSID>\n",
                 words[i]);
        expect(want);
        assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin);
        assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, io);
    }
    /* the zns plugin's device comes after both words */
    assert_int_equal(fx_nvmectl(&f, &out, "zns report-zones nvme1n1"), NVME_ERR_INVAL);
    expect("nvmectl report-zones: device 'nvme1n1' is not nvme0 or nvme0n<NSID>\n");
    /* one device word only, wherever it stands */
    assert_int_equal(fx_nvmectl(&f, &out, "read nvme0n1 nvme0n4 -c 1"), NVME_ERR_INVAL);
    expect("unexpected argument 'nvme0n4'");
    assert_int_equal(fx_nvmectl(&f, &out, "read -c 1 nvme0n1 -s 0 nvme0n4"), NVME_ERR_INVAL);
    expect("unexpected argument 'nvme0n4'");
    /* the controller is a device word too: a namespace after it is stray */
    assert_int_equal(fx_nvmectl(&f, &out, "read nvme0 -s 0 nvme0n4"), NVME_ERR_INVAL);
    expect("unexpected argument 'nvme0n4'");
    /* a bad device after the options is refused as one before them */
    uint64_t io = nvme_sim_stats(f.sim)->io_cmds;
    assert_int_equal(fx_nvmectl(&f, &out, "read -c 1 nvme1n1"), NVME_ERR_INVAL);
    expect("nvmectl read: device 'nvme1n1' is not nvme0 or nvme0n<NSID>\n");
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, io);
    fx_stop(&f);
}

/* nvme-cli parses with getopt_long_only, which moves the words that are
 * no option to the end, and parse_and_open takes the first of them: the
 * device may follow the options (`nvme smart-log -o json /dev/nvme0`), or
 * stand between them; an option's value is never taken for it. */
static void the_device_may_follow_the_options_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_equal(nsid_sent(&f, "write -p 0x6b -c 1 nvme0n4", false, 0x01), 4);
    assert_int_equal(nsid_sent(&f, "read -c 1 /dev/nvme0n4", false, 0x02), 4);
    expect("nvme0n4: read 1 block(s)");
    expect("6b 6b 6b 6b");
    assert_int_equal(nsid_sent(&f, "read -s 0 nvme0n4 -c 1", false, 0x02), 4);
    assert_int_equal(nsid_sent(&f, "id-ns -o json nvme0n4", true, 0x06), 4);
    /* -n given still wins, before or after the device */
    assert_int_equal(nsid_sent(&f, "read -c 1 -n 1 nvme0n4", false, 0x02), 1);
    /* the value of -p is the option's, not the device: -p nvme0n4 is a
     * bad byte, and no device was given */
    assert_int_equal(fx_nvmectl(&f, &out, "write -c 1 -p nvme0n4"), NVME_ERR_INVAL);
    expect("bad number 'nvme0n4' for '-p'");
    /* the controller's device, after the options */
    ok(&f, "smart-log -o json nvme0");
    expect("\"critical_warning\"");
    ok(&f, "get-ns-id nvme0n4");
    fx_stop(&f);
}

/* "--" ends the options, as getopt's: every word after it is no option,
 * the first the device (before: "unknown option '--'"). */
static void a_double_dash_ends_the_options_as_getopt(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_equal(nsid_sent(&f, "write -p 0x5c -c 1 -- nvme0n4", false, 0x01), 4);
    assert_int_equal(nsid_sent(&f, "read -s 0 -- /dev/nvme0n4", false, 0x02), 4);
    expect("5c 5c 5c 5c");
    assert_int_equal(fx_nvmectl(&f, &out, "read -c 1 -- -s"), NVME_ERR_INVAL);
    expect("device '-s' is not nvme0 or nvme0n<NSID>");
    assert_int_equal(fx_nvmectl(&f, &out, "read -c 1 -- nvme0n4 -s 0"), NVME_ERR_INVAL);
    expect("unexpected argument '-s'");
    /* an option's value may be "--", as getopt takes it */
    assert_int_equal(fx_nvmectl(&f, &out, "write -c 1 -t -- nvme0n4"), NVME_OK);
    fx_stop(&f);
}

/* nvmectl_device_word finds the word parse_opts takes for the device,
 * for a shell that picks the controller first (EXOS's): the first word
 * that is no option nor an option's value of that command; none where
 * nvmectl would refuse the line for another reason. */
static void the_device_word_is_found_as_nvmectl_reads_the_options(void **state)
{
    (void)state;
    static const struct {
        const char *line, *word; /* word: NULL for none */
    } cases[] = {
        {"read -c 1 nvme0n4", "nvme0n4"},
        {"read nvme1 -s 0 nvme1n2", "nvme1"},
        {"id-ctrl -H nvme1", "nvme1"}, /* a flag takes no value */
        {"id-ctrl --human-readable nvme1", "nvme1"},
        {"format -n 1 --force nvme1n1", "nvme1n1"},
        {"write -c 1 -t nvme1", NULL},    /* -t's text */
        {"write -c1 nvme1n1", "nvme1n1"}, /* the value in the word */
        {"smart-log --output-format=json /dev/nvme1", "/dev/nvme1"},
        {"smart-log -o json nvme1", "nvme1"}, /* -o takes the next word */
        {"read -- -s", "-s"},
        {"read -s -- nvme1", "nvme1"}, /* "--" as -s's value */
        {"zns report-zones -d 1 nvme1n1", "nvme1n1"},
        {"zns id-ctrl nvme1", "nvme1"},
        {"nvmectl read\tnvme2", "nvme2"},
        {"read -X nvme1", NULL}, /* unknown option */
        {"no-such-command nvme1", NULL},
        {"read", NULL},
        {"", NULL},
        {"  ", NULL},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = 999;
        const char *w = nvmectl_device_word(cases[i].line, &len);
        if (cases[i].word == NULL) {
            if (w != NULL)
                fail_msg("'%s': found '%s'", cases[i].line, w);
            continue;
        }
        if (w == NULL)
            fail_msg("'%s': no device word", cases[i].line);
        /* inside the line given, not a copy */
        assert_true(w >= cases[i].line && w < cases[i].line + strlen(cases[i].line));
        assert_int_equal(len, strlen(cases[i].word));
        assert_memory_equal(w, cases[i].word, len);
    }
    assert_null(nvmectl_device_word(NULL, NULL));
    /* no len to say the length in: NULL, not a write through NULL */
    assert_null(nvmectl_device_word("read nvme1", NULL));
    /* 25 words: nvmectl_run_line refuses the line */
    char line[400];
    size_t len = 0;
    strcpy(line, "read nvme1");
    for (unsigned i = 0; i < 23; i++)
        strcat(line, " -H");
    assert_null(nvmectl_device_word(line, &len)); /* 25 words */
    strcpy(line, "id-ctrl nvme1");
    for (unsigned i = 0; i < 22; i++)
        strcat(line, " -H");
    assert_non_null(nvmectl_device_word(line, &len)); /* 24 */
}

/* nvmectl_run_line takes a line of any length: past 255 characters too,
 * nvmectl_device_word finds the device word it takes (before: NULL past
 * 255 characters, a copy's size, while nvmectl ran the line on the
 * device after a long -t text). */
static void the_device_word_of_a_long_line_is_the_one_nvmectl_takes(void **state)
{
    (void)state;
    struct fx f;
    char line[400];
    size_t len = 0;
    strcpy(line, "write -c 1 -t ");
    memset(line + 14, 'x', 270);
    strcpy(line + 284, " nvme0n4");
    assert_int_equal(strlen(line), 292);
    start(&f);
    assert_int_equal(nsid_sent(&f, line, false, 0x01), 4);
    fx_stop(&f);
    const char *w = nvmectl_device_word(line, &len);
    assert_ptr_equal(w, line + 285);
    assert_int_equal(len, 7);
    /* a long word cut for the lookups names no option nor command */
    strcpy(line, "read --");
    memset(line + 7, 'h', 40);
    strcpy(line + 47, " nvme1");
    assert_null(nvmectl_device_word(line, &len));
    strcpy(line, "read --output-format=");
    memset(line + 21, 'j', 40);
    strcpy(line + 61, " nvme1");
    assert_ptr_equal(nvmectl_device_word(line, &len), line + 62);
}

static struct fx_out named_out;

/* The device is io->dev_name's: a host naming its controller nvme3 takes
 * nvme3n4 and refuses nvme0n4. */
static void the_device_is_the_hosts_name_for_the_controller(void **state)
{
    (void)state;
    static char buf[1u << 16] __attribute__((aligned(4096)));
    struct nvmectl_io io = {fx_print, &named_out, buf, sizeof(buf), NULL, "nvme3", NULL, NULL};
    char line[64];
    struct fx f;
    start(&f);
    snprintf(line, sizeof(line), "get-ns-id /dev/nvme3n4");
    named_out.len = 0;
    named_out.text[0] = 0;
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
    assert_string_equal(named_out.text, "nvme3n4: namespace-id:4\n");
    snprintf(line, sizeof(line), "id-ns nvme0n4");
    named_out.len = 0;
    named_out.text[0] = 0;
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), NVME_ERR_INVAL);
    assert_non_null(
        strstr(named_out.text, "nvmectl id-ns: device 'nvme0n4' is not nvme3 or nvme3n<NSID>\n"));
    fx_stop(&f);
}

/* Occurrences of `needle` in out.text. */
static unsigned count_of(const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(out.text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Lines of out.text that start with `prefix`. */
static unsigned lines_starting(const char *prefix)
{
    unsigned n = 0;
    size_t len = strlen(prefix);
    for (const char *p = out.text; p != NULL && *p != '\0';) {
        if (strncmp(p, prefix, len) == 0)
            n++;
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    return n;
}

/* The next Identify returns garbage (xorshift, seed `seed`): the fault
 * table cleared first, as it keeps faults that fired. */
static void garbage_identify(struct fx *f, uint32_t seed)
{
    nvme_sim_clear_faults(f->sim);
    fx_inject(f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, seed, 1);
}

/* A garbage Identify Namespace (seed `seed`) read raw: its NLBAF and
 * NULBAF (bytes 25 and 82). */
static void garbage_nlbaf(struct fx *f, uint32_t seed, unsigned *nlbaf, unsigned *nulbaf)
{
    garbage_identify(f, seed);
    ok(f, "admin-passthru -O 6 -n 1 -l 4096 -r -b");
    assert_int_equal(out.bin_len, 4096);
    *nlbaf = out.bin[25];
    *nulbaf = out.bin[82];
}

/* id-ns lists the LBA formats as nvme-cli 2.3 and later: NLBAF + 1, then
 * the NULBAF unique attribute formats after them (Identify Namespace byte
 * 82), at most the 64 the structure holds; its JSON NLBAF + 1.  Before,
 * the text stopped at NLBAF and left the unique ones out. */
static void id_ns_lists_the_unique_attribute_formats_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "id-ns -n 1"); /* the simulator's namespace: NULBAF 0 */
    assert_int_equal(lines_starting("lbaf "), 2);
    uint32_t within = 0, past = 0; /* seeds: NLBAF + NULBAF below 64, and above */
    unsigned a = 0, b = 0;
    for (uint32_t seed = 1; seed < 4000 && (within == 0 || past == 0); seed++) {
        garbage_nlbaf(&f, seed, &a, &b);
        if (a < 63 && b != 0 && a + b < 63 && within == 0)
            within = seed;
        else if (a < 63 && a + b > 63 && past == 0)
            past = seed;
    }
    assert_true(within != 0 && past != 0);
    garbage_nlbaf(&f, within, &a, &b);
    garbage_identify(&f, within);
    (void)fx_nvmectl(&f, &out, "id-ns -n 1");
    assert_int_equal(lines_starting("lbaf "), a + b + 1u);
    char last[16];
    snprintf(last, sizeof(last), "\nlbaf %2u : ", a + b);
    expect(last);
    garbage_identify(&f, within);
    (void)fx_nvmectl(&f, &out, "id-ns -n 1 -H");
    assert_int_equal(lines_starting("LBA Format "), a + b + 1u);
    garbage_identify(&f, within);
    (void)fx_nvmectl(&f, &out, "id-ns -n 1 -o json");
    assert_true(json_one_value(out.text));
    assert_int_equal(count_of("\"ds\""), a + 1u); /* nvme-cli's JSON: NLBAF + 1 */
    garbage_identify(&f, past);
    (void)fx_nvmectl(&f, &out, "id-ns -n 1");
    assert_int_equal(lines_starting("lbaf "), 64);
    expect("\nlbaf 63 : ");
    fx_stop(&f);
}

/* id-ctrl's SN, MN and FR as nvme-cli's "%-.*s": the field up to its
 * first NUL, its padding blanks kept (as the JSON has it); a NUL inside
 * the field ends the text there.  Before, the text went on past the NUL
 * (the core's string shows it as '.') to the field's end. */
static void id_ctrl_strings_end_at_a_nul_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    uint32_t seed = 0;
    unsigned n = 0;
    for (uint32_t s = 1; s < 4000 && seed == 0; s++) {
        garbage_identify(&f, s);
        ok(&f, "admin-passthru -O 6 --cdw10=1 -l 4096 -r -b");
        assert_int_equal(out.bin_len, 4096);
        const uint8_t *sn = out.bin + 4; /* SN: bytes 23:4 */
        for (n = 0; n < 20 && sn[n] != 0; n++)
            ;
        /* a NUL inside, something not blank nor NUL after it */
        for (unsigned i = n + 1; n < 20 && i < 20 && seed == 0; i++)
            if (sn[i] != 0 && sn[i] != ' ')
                seed = s;
    }
    assert_true(seed != 0);
    garbage_identify(&f, seed);
    ok(&f, "id-ctrl");
    const char *line = strstr(out.text, "\nsn        : ");
    assert_non_null(line);
    line += strlen("\nsn        : ");
    assert_int_equal(strchr(line, '\n') - line, n);
    /* the simulator's own: padded with blanks to 20, no NUL */
    ok(&f, "id-ctrl");
    expect("\nsn        : SIM0000001          \n");
    fx_stop(&f);
}

/* id-ctrl's power states: an Idle or Active Power Scale of 11b (reserved,
 * NVMe 2.0 Figure 276) is nvme-cli's "reserved"; 00b, not reported, its
 * "-".  Before, both showed as "-". */
static void id_ctrl_reserved_power_scale_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    uint32_t seed = 0;
    for (uint32_t s = 1; s < 4000 && seed == 0; s++) {
        garbage_identify(&f, s);
        ok(&f, "admin-passthru -O 6 --cdw10=1 -l 4096 -r -b");
        const uint8_t *psd0 = out.bin + 2048; /* IPS byte 18, APS byte 22: bits 7:6 */
        if (psd0[18] >> 6 == 3 && psd0[22] >> 6 == 0)
            seed = s;
    }
    assert_true(seed != 0);
    garbage_identify(&f, seed);
    ok(&f, "id-ctrl");
    const char *ps0 = strstr(out.text, "\nps      0 : ");
    assert_non_null(ps0);
    const char *idle = strstr(ps0, "idle_power:");
    assert_non_null(idle);
    const char want[] = "idle_power:reserved active_power:-\n";
    assert_int_equal(strncmp(idle, want, sizeof(want) - 1), 0);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(io_commands_reach_the_namespace_of_the_device),
        cmocka_unit_test(identify_commands_name_the_namespace_of_the_device),
        cmocka_unit_test(features_take_the_namespace_of_the_device_unless_n_is_given),
        cmocka_unit_test(controller_commands_run_on_a_namespace_device_as_nvme_cli),
        cmocka_unit_test(format_and_delete_ns_take_the_namespace_of_the_device),
        cmocka_unit_test(zns_commands_take_the_namespace_of_the_device),
        cmocka_unit_test(get_ns_id_of_a_namespace_device_prints_its_line),
        cmocka_unit_test(other_devices_and_malformed_words_are_refused),
        cmocka_unit_test(the_device_may_follow_the_options_as_nvme_cli),
        cmocka_unit_test(a_double_dash_ends_the_options_as_getopt),
        cmocka_unit_test(the_device_word_is_found_as_nvmectl_reads_the_options),
        cmocka_unit_test(the_device_word_of_a_long_line_is_the_one_nvmectl_takes),
        cmocka_unit_test(the_device_is_the_hosts_name_for_the_controller),
        cmocka_unit_test(id_ns_lists_the_unique_attribute_formats_as_nvme_cli),
        cmocka_unit_test(id_ctrl_strings_end_at_a_nul_as_nvme_cli),
        cmocka_unit_test(id_ctrl_reserved_power_scale_as_nvme_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
