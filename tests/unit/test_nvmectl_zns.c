/* SPDX-License-Identifier: MIT */
/*
 * nvme-cli's zns plugin commands in nvmectl (ctl_zns.c) against the
 * simulator's zoned namespaces: zns id-ctrl (Identify CNS 06h CSI 02h,
 * ZNS 1.1 Figure 47: ZASL), zns id-ns (CNS 05h CSI 02h, Figure 48: MAR
 * and MOR 0-based, the LBA Format Extensions), their values checked
 * against the simulator's configuration and, for every field, against the
 * bytes the device returned (-b); hostile Identify data bounded; "zns X"
 * picking the plugin's command over the base one; zns open-zone ..
 * offline-zone (Zone Management Send, §3.4.3, ZSA 1h..5h) moving the
 * simulator's zones, with nvme-cli's lines; get-ns-id (ctl_zns.c too).
 */
#include "nvmectl_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned count_of(const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(out.text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    while (n-- > 0)
        v = v << 8 | p[n];
    return v;
}

/* Namespace 1: 1024 blocks in zones of 256, three LBA formats (NLBAF 2),
 * format 1 in use, at most 3 open and 5 active zones; namespace 2 zoned
 * without limits (the simulator's NVMe 1.4 pair of formats, 512 and 4096
 * bytes, the second in use); namespace 3 not zoned.  ZASL 5. */
static void start(struct fx *f)
{
    fx_config(f);
    f->cfg.zasl = 5;
    f->ns[0] = (struct nvme_sim_ns_config){.nsid = 1,
                                           .blocks = 1024,
                                           .lba_size = 512,
                                           .nlbaf = 2,
                                           .flbas_index = 1,
                                           .zoned = true,
                                           .zone_size = 256,
                                           .max_open = 3,
                                           .max_active = 5};
    f->ns[1] = (struct nvme_sim_ns_config){
        .nsid = 2, .blocks = 2048, .lba_size = 4096, .zoned = true, .zone_size = 64};
    f->ns[2] = (struct nvme_sim_ns_config){.nsid = 3, .blocks = 1024, .lba_size = 512};
    f->cfg.ns_count = 3;
    fx_start(f);
}

/* zns id-ctrl: nvme-cli's two lines, JSON {"zasl"}, -b the 4096 bytes;
 * "id-ctrl" without "zns" is still Identify Controller. */
static void zns_id_ctrl_shows_zasl(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "zns id-ctrl");
    assert_string_equal(out.text, "NVMe ZNS Identify Controller:\nzasl    : 5\n");
    ok(&f, "zns-id-ctrl -o json");
    assert_string_equal(out.text, "{\n  \"zasl\":5\n}\n");
    ok(&f, "zns id-ctrl -b");
    assert_int_equal(out.bin_len, 4096);
    assert_int_equal(out.len, 0);
    assert_int_equal(out.bin[0], 5);
    /* 4 KiB of scratch hold the structure (id-ns needs Identify
     * Namespace's beside it) */
    static uint8_t page[4096] __attribute__((aligned(4096)));
    struct nvmectl_io io = {fx_print, &out, page, sizeof(page), NULL, "nvme0", NULL, NULL};
    char line[] = "zns id-ctrl";
    out.len = 0;
    out.text[0] = '\0';
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
    assert_string_equal(out.text, "NVMe ZNS Identify Controller:\nzasl    : 5\n");
    ok(&f, "id-ctrl");
    expect("vid     : ");
    ok(&f, "zns report-zones -n 1 -d 1"); /* no zns-report-zones: the base command */
    expect("nr_zones: 1");
    fx_stop(&f);
}

/* zns id-ns: MAR and MOR 0-based (max_active - 1, max_open - 1; FFFFFFFFh
 * without a limit) as nvme-cli's %#x, one LBA Format Extension per format
 * (NLBAF + 1) with the zone size, the one in use marked; JSON keys as
 * nvme-cli's; -v adds the vendor-specific bytes. */
static void zns_id_ns_shows_the_namespace(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "zns id-ns -n 1");
    assert_string_equal(out.text, "ZNS Command Set Identify Namespace:\n"
                                  "zoc     : 0\n"
                                  "ozcs    : 0\n"
                                  "mar     : 0x4\n"
                                  "mor     : 0x2\n"
                                  "rrl     : 0\n"
                                  "frl     : 0\n"
                                  "rrl1    : 0\n"
                                  "rrl2    : 0\n"
                                  "rrl3    : 0\n"
                                  "frl1    : 0\n"
                                  "frl2    : 0\n"
                                  "frl3    : 0\n"
                                  "numzrwa : 0\n"
                                  "zrwafg  : 0\n"
                                  "zrwasz  : 0\n"
                                  "zrwacap : 0\n"
                                  "lbafe  0: zsze:0x100 zdes:0\n"
                                  "lbafe  1: zsze:0x100 zdes:0 (in use)\n"
                                  "lbafe  2: zsze:0x100 zdes:0\n");
    ok(&f, "zns id-ns --namespace-id=2 -o json");
    assert_string_equal(out.text, "{\n  \"zoc\":0,\n  \"ozcs\":0,\n  \"mar\":4294967295,\n"
                                  "  \"mor\":4294967295,\n  \"rrl\":0,\n  \"frl\":0,\n"
                                  "  \"rrl1\":0,\n  \"rrl2\":0,\n  \"rrl3\":0,\n  \"frl1\":0,\n"
                                  "  \"frl2\":0,\n  \"frl3\":0,\n  \"numzrwa\":0,\n"
                                  "  \"zrwafg\":0,\n  \"zrwasz\":0,\n  \"zrwacap\":0,\n"
                                  "  \"lbafe\":[\n    {\n      \"zsze\":64,\n      \"zdes\":0\n"
                                  "    },\n    {\n      \"zsze\":64,\n      \"zdes\":0\n"
                                  "    }\n  ]\n}\n");
    ok(&f, "zns id-ns -n 2");
    expect("mar     : 0xffffffff\nmor     : 0xffffffff\n");
    expect("lbafe  0: zsze:0x40 zdes:0\nlbafe  1: zsze:0x40 zdes:0 (in use)\n");
    ok(&f, "zns id-ns -n 1 -v");
    expect("lbafe  2: zsze:0x100 zdes:0\nvs[]    :\n00000000  00 00 00 00");
    ok(&f, "zns id-ns -n 1 -b");
    assert_int_equal(out.bin_len, 4096);
    assert_int_equal(le(out.bin + 4, 4), 4);           /* MAR */
    assert_int_equal(le(out.bin + 2816 + 16, 8), 256); /* LBAFE 1 ZSZE */
    fx_stop(&f);
}

/* Every field at its offset of Figure 48 (and RRL1..ZRWACAP, ZDES after
 * it): the CNS 05h data are pseudo-random bytes (the same seed for -b and
 * for the text), Identify Namespace is left alone (NLBAF 2); each printed
 * value must be the one the spec's layout puts in those bytes. */
static void zns_id_ns_reads_each_field_where_the_spec_puts_it(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    static const struct {
        const char *name;
        unsigned off, len;
    } fld[] = {{"zoc", 0, 2},      {"ozcs", 2, 2},    {"mar", 4, 4},     {"mor", 8, 4},
               {"rrl", 12, 4},     {"frl", 16, 4},    {"rrl1", 20, 4},   {"rrl2", 24, 4},
               {"rrl3", 28, 4},    {"frl1", 32, 4},   {"frl2", 36, 4},   {"frl3", 40, 4},
               {"numzrwa", 44, 4}, {"zrwafg", 48, 2}, {"zrwasz", 50, 2}, {"zrwacap", 52, 1}};
    uint8_t raw[4096];
    const char *lines[] = {"zns id-ns -n 1 -b", "zns id-ns -n 1 -o json", "zns id-ns -n 1"};
    for (unsigned k = 0; k < 3; k++) {
        struct nvme_sim_fault g = {.kind = NVME_SIM_FAULT_GARBAGE_DATA,
                                   .qid = 0,
                                   .opcode = NVME_ADMIN_IDENTIFY,
                                   .cid = NVME_SIM_ANY,
                                   .value = 77,
                                   .skip = 1, /* Identify Namespace as it is */
                                   .count = 1};
        assert_int_equal(nvme_sim_inject(f.sim, &g), 0);
        ok(&f, lines[k]);
        nvme_sim_clear_faults(f.sim);
        if (k == 0) {
            assert_int_equal(out.bin_len, 4096);
            memcpy(raw, out.bin, sizeof(raw));
            continue;
        }
        char want[128];
        for (unsigned i = 0; i < sizeof(fld) / sizeof(fld[0]); i++) {
            unsigned long long v = le(raw + fld[i].off, fld[i].len);
            bool hex = i == 2 || i == 3 || i == 12; /* mar, mor, numzrwa: nvme-cli's %#x */
            if (k == 1)
                snprintf(want, sizeof(want), "\"%s\":%llu,", fld[i].name, v);
            else
                snprintf(want, sizeof(want), hex && v ? "\n%-8s: %#llx\n" : "\n%-8s: %llu\n",
                         fld[i].name, v);
            expect(want);
        }
        for (unsigned i = 0; i < 3; i++) { /* LBAFE i: ZSZE 8 bytes, ZDES byte 8 */
            const uint8_t *e = raw + 2816 + 16 * i;
            unsigned long long zsze = le(e, 8);
            if (k == 1)
                snprintf(want, sizeof(want), "{\n      \"zsze\":%llu,\n      \"zdes\":%u\n    }",
                         zsze, e[8]);
            else
                snprintf(want, sizeof(want), "lbafe %2u: zsze:%#llx zdes:%u%s\n", i, zsze, e[8],
                         i == 1 ? " (in use)" : "");
            expect(want);
        }
        assert_int_equal(count_of(k == 1 ? "\"zsze\"" : "lbafe "), 3);
    }
    fx_stop(&f);
}

/* Both Identify commands of pseudo-random bytes: NLBAF (byte 25) past
 * 63, so the core answers NVME_ERR_PROTO with at most 64 formats; exactly
 * the 64 LBA Format Extensions of the structure are shown, text or JSON
 * (one value). */
static void zns_id_ns_counts_are_bounded(void **state)
{
    (void)state;
    for (int json = 0; json < 2; json++) {
        struct fx f;
        start(&f);
        fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, 11, 2);
        ok(&f, json ? "zns id-ns -n 1 -o json" : "zns id-ns -n 1");
        assert_int_equal(nvme_sim_fault_hits(f.sim), 2);
        assert_int_equal(count_of(json ? "\"zsze\"" : "lbafe "), 64);
        fx_stop(&f);
    }
}

/* Refusals: no -n (nothing sent), a namespace that does not exist (the
 * device's Invalid Namespace), one that is not zoned (Invalid I/O Command
 * Set, named), -v with -b's binary; a controller that runs the NVM set
 * alone (no zoned namespace, CC.CSS 000b): not supported, nothing sent. */
static void zns_id_refusals(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    fails(&f, "zns id-ns", NVME_ERR_INVAL, 0);
    expect("nvmectl zns-id-ns: -n NSID is required: one namespace, 1..0xfffffffe\n");
    fails(&f, "zns id-ns -n 0xffffffff", NVME_ERR_INVAL, 0);
    fails(&f, "zns id-ns -n 1 -H", NVME_ERR_INVAL, 0); /* no -H (see README) */
    fails(&f, "zns id-ctrl -n 1", NVME_ERR_INVAL, 0);
    int rc = fx_nvmectl(&f, &out, "zns id-ns -n 9");
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_NS);
    rc = fx_nvmectl(&f, &out, "zns id-ns -n 3");
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC((unsigned)rc), 0x2c);
    expect("nvme0n3: zns-id-ns: ");
    fx_stop(&f);

    fx_config(&f);
    fx_start(&f);
    fails(&f, "zns id-ctrl", NVME_ERR_UNSUPPORTED, 0);
    assert_string_equal(out.text, "nvme0: zns-id-ctrl: not supported by this controller\n");
    fails(&f, "zns id-ns -n 1 -o json", NVME_ERR_UNSUPPORTED, 1);
    fx_stop(&f);
}

static uint8_t zone_state(struct fx *f, uint32_t nsid, uint64_t lba)
{
    uint8_t zs;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f->sim, nsid, lba, &zs, &wp), 0);
    return zs;
}

/* Runs a zone action that must send one Zone Management Send and print
 * `text` exactly. */
static void zone_ok(struct fx *f, const char *line, const char *text)
{
    uint64_t before = nvme_sim_stats(f->sim)->zone_sends;
    ok(f, line);
    assert_int_equal(nvme_sim_stats(f->sim)->zone_sends - before, 1);
    if (text != NULL)
        assert_string_equal(out.text, text);
}

/* Each action moves the zone as ZNS 1.1 §2.1.1's state machine says
 * (open: Explicitly Opened, close: Closed once written, finish: Full,
 * reset: Empty);
 * nvme-cli's lines (open-zone's own, the others' with the action's ZSA,
 * the ZSLBA in hex, Select All); -o json: the device, command and
 * nvme-cli's line as the detail. */
static void zns_zone_actions_move_the_zones(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    zone_ok(&f, "zns open-zone -n 1 -s 256", "zns-open-zone: Success zone slba:100 nsid:1\n");
    assert_int_equal(zone_state(&f, 1, 256), NVME_ZS_EXPLICIT_OPEN);
    ok(&f, "write -n 1 -s 256 -p 1"); /* else closing leaves it Empty (§2.1.1.4) */
    zone_ok(&f, "zns close-zone -n 1 --start-lba=0x100",
            "zns-close-zone: Success, action:1 zone:100 all:0 nsid:1\n");
    assert_int_equal(zone_state(&f, 1, 256), NVME_ZS_CLOSED);
    zone_ok(&f, "zns finish-zone -n 1 -s 256",
            "zns-finish-zone: Success, action:2 zone:100 all:0 nsid:1\n");
    assert_int_equal(zone_state(&f, 1, 256), NVME_ZS_FULL);
    zone_ok(&f, "zns-open-zone -n 1 -s 512 -o json", NULL);
    assert_string_equal(out.text,
                        "{\n  \"device\":\"nvme0n1\",\n  \"command\":\"zns-open-zone\",\n"
                        "  \"result\":\"success\",\n"
                        "  \"detail\":\"zns-open-zone: Success zone slba:200 nsid:1\"\n}\n");
    assert_int_equal(zone_state(&f, 1, 512), NVME_ZS_EXPLICIT_OPEN);
    zone_ok(&f, "zns reset-zone -n 1 -a",
            "zns-reset-zone: Success, action:4 zone:0 all:1 nsid:1\n");
    assert_int_equal(zone_state(&f, 1, 256), NVME_ZS_EMPTY);
    assert_int_equal(zone_state(&f, 1, 512), NVME_ZS_EMPTY);
    zone_ok(&f, "zns finish-zone -n 2 -s 64", NULL);
    assert_int_equal(zone_state(&f, 2, 64), NVME_ZS_FULL);
    zone_ok(&f, "zns reset-zone -n 2 -s 64", NULL);
    assert_int_equal(zone_state(&f, 2, 64), NVME_ZS_EMPTY);
    /* Offline only from Read Only (§2.1.1.7): an Empty zone's answer is
     * the device's Invalid Zone State Transition, named */
    uint64_t before = nvme_sim_stats(f.sim)->zone_sends;
    int rc = fx_nvmectl(&f, &out, "zns offline-zone -n 1 -s 0");
    assert_int_equal(nvme_sim_stats(f.sim)->zone_sends - before, 1);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SCT((unsigned)rc), 1);
    assert_int_equal(NVME_SF_SC((unsigned)rc), 0xbf);
    expect("nvme0n1: zns-offline-zone: Invalid Zone State Transition");
    assert_int_equal(zone_state(&f, 1, 0), NVME_ZS_EMPTY);
    fx_stop(&f);
}

/* Usage paths send nothing: no -s without -a (as zone-mgmt-send), -z
 * (the action is the command's), no -n, a namespace that is not zoned
 * (the core refuses it), a ZSLBA that is not a zone's start. */
static void zns_zone_action_refusals(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    uint64_t before = nvme_sim_stats(f.sim)->zone_sends;
    assert_int_equal(fx_nvmectl(&f, &out, "zns reset-zone -n 1"), NVME_ERR_INVAL);
    expect("-n NSID and -s LBA are required");
    assert_int_equal(fx_nvmectl(&f, &out, "zns open-zone -s 0"), NVME_ERR_INVAL);
    assert_int_equal(fx_nvmectl(&f, &out, "zns open-zone -n 1 -s 0 -z close"), NVME_ERR_INVAL);
    expect("unknown option '-z'");
    assert_int_equal(fx_nvmectl(&f, &out, "zns reset-zone -n 3 -s 0"), NVME_ERR_UNSUPPORTED);
    expect("nvme0n3: zns-reset-zone: not supported");
    assert_int_equal(fx_nvmectl(&f, &out, "zns close-zone -n 1 -s 100"), NVME_ERR_INVAL);
    assert_int_equal(nvme_sim_stats(f.sim)->zone_sends, before);
    fx_stop(&f);
}

/* zone-mgmt-send's -z as nvme-cli takes it, the Zone Send Action's value
 * (its OPT_BYTE: 1h close, 2h finish, 3h open, 4h reset, 5h offline, ZNS
 * 1.1 §3.4.3), besides the names; another value is refused and nothing
 * sent.  Before, "-z 3" was a usage error. */
static void zone_mgmt_send_takes_nvme_clis_action_values(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "zone-mgmt-send -n 1 -s 256 -z 3");
    assert_int_equal(zone_state(&f, 1, 256), NVME_ZS_EXPLICIT_OPEN);
    expect("nvme0n1: zone open of 0x100: success\n");
    ok(&f, "zone-append -n 1 -s 256 -c 1 -p 1");
    ok(&f, "zone-mgmt-send -n 1 -s 256 -z 1");
    assert_int_equal(zone_state(&f, 1, 256), NVME_ZS_CLOSED);
    ok(&f, "zone-mgmt-send -n 1 -s 256 -z 0x2");
    assert_int_equal(zone_state(&f, 1, 256), NVME_ZS_FULL);
    ok(&f, "zone-mgmt-send -n 1 -a -z 4");
    assert_int_equal(zone_state(&f, 1, 256), NVME_ZS_EMPTY);
    expect("zone reset of all zones");
    /* 5h, Offline: only a read-only zone goes offline (ZNS 1.1 Figure 35) */
    int rc = fx_nvmectl(&f, &out, "zone-mgmt-send -n 1 -s 512 --zsa=5");
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC((unsigned)rc), 0xbf);
    assert_int_equal(zone_state(&f, 1, 512), NVME_ZS_EMPTY);
    uint64_t before = nvme_sim_stats(f.sim)->zone_sends;
    const char *bad[] = {"zone-mgmt-send -n 1 -s 0 -z 0", "zone-mgmt-send -n 1 -s 0 -z 6",
                         "zone-mgmt-send -n 1 -s 0 -z 0x10", "zone-mgmt-send -n 1 -s 0 -z 259",
                         "zone-mgmt-send -n 1 -s 0 -z 3x"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fx_nvmectl(&f, &out, bad[i]), NVME_ERR_INVAL);
        expect("-z is open, close, finish, reset or offline");
    }
    assert_int_equal(nvme_sim_stats(f.sim)->zone_sends, before);
    fx_stop(&f);
}

/* Output too long for `out`: kept whole here. */
static struct {
    char text[1u << 20];
    size_t len;
} big;

static void big_print(void *arg, const char *s)
{
    (void)arg;
    size_t n = strlen(s);
    assert_true(big.len + n < sizeof(big.text));
    memcpy(big.text + big.len, s, n + 1);
    big.len += n;
}

static unsigned big_count(const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(big.text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void big_run(struct fx *f, void *buf, const char *line)
{
    struct nvmectl_io io = {big_print, NULL, buf, 65536, NULL, "nvme0", NULL, NULL};
    char copy[128];
    snprintf(copy, sizeof(copy), "%s", line);
    big.len = 0;
    big.text[0] = '\0';
    int rc = nvmectl_run_line(f->ctrl, &io, copy);
    if (rc != 0)
        fail_msg("'%s' returned %d:\n%.400s", line, rc, big.text);
}

static void big_expect(const char *needle)
{
    if (strstr(big.text, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%.600s\n...\n%s", needle, big.text,
                 big.len > 600 ? big.text + big.len - 600 : "");
}

/* More zones than the scratch buffer holds at once (2048 zones of 4
 * blocks; 1024 descriptors' worth of a 64 KiB buffer): every zone listed,
 * the buffer reused, as nvme-cli's report-zones lists all of them by
 * default.  Cut at 1024 (1023 at +4), silently, before. */
static void report_zones_lists_every_zone_past_the_scratch_buffer(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nsid = 1;
    f.ns[0].blocks = 8192;
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 4;
    fx_start(&f);
    static uint8_t page[65536 + 4096] __attribute__((aligned(4096)));
    for (unsigned at = 0; at <= 4; at += 4) {
        big_run(&f, page + at, "report-zones -n 1");
        big_expect("nr_zones: 2048 (zone size 4 blocks)\n");
        assert_int_equal(big_count("SLBA: "), 2048);
        big_expect("SLBA: 0x1ffc       WP: 0x1ffc"); /* the last zone */
        big_run(&f, page + at, "report-zones -n 1 -s 4000 -o json");
        assert_true(json_one_value(big.text));
        big_expect("\"nr_zones\":1048");
        assert_int_equal(big_count("\"slba\":"), 1048);
        big_expect("\"slba\":8188");
        /* -d still bounds it, across chunks too */
        big_run(&f, page + at, "report-zones -n 1 -s 8 -d 1500");
        big_expect("nr_zones: 1500 ");
        assert_int_equal(big_count("SLBA: "), 1500);
        big_expect("SLBA: 0x1774 ");
        assert_null(strstr(big.text, "SLBA: 0x1778 "));
    }
    fx_stop(&f);
}

/* report-zones -o json: each zone with nvme-cli 2.x's keys, in its order
 * (nvme-print-json.c json_nvme_zns_report_zones: slba, wp, cap, state,
 * type, attrs, attrs_info: the descriptor's ZA and ZAI, ZNS 1.1 Figure
 * 37); attrs_info was left out before. */
static void report_zones_json_has_nvme_clis_keys(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "write -n 1 -s 256 -p 1");
    ok(&f, "report-zones -n 1 -s 256 -d 1 -o json");
    assert_string_equal(out.text, "{\n  \"nr_zones\":1,\n  \"zone_list\":[\n    {\n"
                                  "      \"slba\":256,\n      \"wp\":257,\n      \"cap\":256,\n"
                                  "      \"state\":\"IMP_OPENED\",\n"
                                  "      \"type\":\"SEQWRITE_REQ\",\n      \"attrs\":0,\n"
                                  "      \"attrs_info\":0\n    }\n  ]\n}\n");
    fx_stop(&f);
}

/* get-ns-id: nvme-cli's "<block device>: namespace-id:N", one line per
 * active namespace of the controller in NSID order, a namespace added at
 * run time (NSID 9, after a rescan) included; -o json one value; no
 * options (nvme-cli's has none). */
static void get_ns_id_names_each_active_namespace(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "get-ns-id");
    assert_string_equal(out.text, "nvme0n1: namespace-id:1\nnvme0n2: namespace-id:2\n"
                                  "nvme0n3: namespace-id:3\n");
    struct nvme_sim_ns_config ns9 = {.nsid = 9, .blocks = 64, .lba_size = 512};
    assert_int_equal(nvme_sim_ns_add(f.sim, &ns9), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), NVME_OK);
    ok(&f, "get-ns-id -o json");
    assert_string_equal(out.text,
                        "{\n  \"device\":\"nvme0\",\n  \"namespace-id\":[\n    1,\n    2,\n"
                        "    3,\n    9\n  ]\n}\n");
    assert_int_equal(fx_nvmectl(&f, &out, "get-ns-id -n 1"), NVME_ERR_INVAL);
    expect("unknown option '-n'");
    fx_stop(&f);
}

/* ns-descs of a zoned namespace: the CSI as nvme-cli 2.4's
 * nvme_show_id_ns_descs prints it (nvme-print.c),
 *   printf("csi     : %#x\n", csi);
 * "0x2" for ZNS, "0" for NVM, no words after it (before: "2 (Zoned)",
 * "0 (NVM)", which no nvme-cli version prints). */
static void ns_descs_csi_is_nvme_clis_hex(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "ns-descs -n 1");
    expect("\ncsi     : 0x2\n");
    ok(&f, "ns-descs -n 3");
    expect("\ncsi     : 0\n");
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zns_id_ctrl_shows_zasl),
        cmocka_unit_test(zns_id_ns_shows_the_namespace),
        cmocka_unit_test(zns_id_ns_reads_each_field_where_the_spec_puts_it),
        cmocka_unit_test(zns_id_ns_counts_are_bounded),
        cmocka_unit_test(zns_id_refusals),
        cmocka_unit_test(zns_zone_actions_move_the_zones),
        cmocka_unit_test(zns_zone_action_refusals),
        cmocka_unit_test(zone_mgmt_send_takes_nvme_clis_action_values),
        cmocka_unit_test(report_zones_lists_every_zone_past_the_scratch_buffer),
        cmocka_unit_test(report_zones_json_has_nvme_clis_keys),
        cmocka_unit_test(get_ns_id_names_each_active_namespace),
        cmocka_unit_test(ns_descs_csi_is_nvme_clis_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
