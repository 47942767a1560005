/* SPDX-License-Identifier: MIT */
/*
 * nvmectl at nvme-cli 2.x parity (issue 9): every subcommand in normal
 * and JSON output against the simulator, the JSON parsed here and its
 * values checked against what the simulator was configured with, and the
 * status and usage paths (unsupported command, bad arguments, missing
 * --force, errors naming the namespace).
 */
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

static void expect_not(const char *needle)
{
    if (strstr(out.text, needle) != NULL)
        fail_msg("did not expect \"%s\" in:\n%s", needle, out.text);
}

/* ---- JSON: one value (json_check.h), and a path lookup ------------------ */

static void json_valid(void)
{
    if (!json_one_value(out.text))
        fail_msg("not one valid JSON value:\n%s", out.text);
}

/* Value at path "a.b.0.c" (keys without dots; numbers index arrays) as
 * text (strings without their quotes), or NULL. */
static const char *json_get(const char *path)
{
    static char res[40000];
    const char *p = json_ws(out.text);
    char key[128];
    while (*path != '\0') {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        path += n + (path[n] == '.');
        if (*p == '{') {
            p = json_ws(p + 1);
            for (;;) {
                if (*p != '"')
                    return NULL;
                const char *k = p + 1, *ke = json_string(p);
                bool match = (size_t)(ke - 1 - k) == strlen(key) && !strncmp(k, key, strlen(key));
                p = json_ws(json_ws(ke) + 1); /* past ':' */
                if (match)
                    break;
                p = json_ws(json_value(p, 0));
                if (*p != ',')
                    return NULL;
                p = json_ws(p + 1);
            }
        } else if (*p == '[') {
            long idx = strtol(key, NULL, 10);
            p = json_ws(p + 1);
            for (long i = 0; i < idx; i++) {
                p = json_ws(json_value(p, 0));
                if (*p != ',')
                    return NULL;
                p = json_ws(p + 1);
            }
            if (*p == ']')
                return NULL;
        } else {
            return NULL;
        }
    }
    const char *e = json_value(p, 0);
    if (*p == '"') {
        p++;
        e--;
    }
    snprintf(res, sizeof(res), "%.*s", (int)(e - p), p);
    return res;
}

static unsigned long long jnum(const char *path)
{
    const char *v = json_get(path);
    if (v == NULL)
        fail_msg("no \"%s\" in:\n%s", path, out.text);
    return strtoull(v, NULL, 10);
}

static const char *jstr(const char *path)
{
    const char *v = json_get(path);
    if (v == NULL)
        fail_msg("no \"%s\" in:\n%s", path, out.text);
    return v;
}

static int run(struct fx *f, const char *line)
{
    int rc = fx_nvmectl(f, &out, line);
    if (strstr(line, "-o json") != NULL && rc == 0)
        json_valid();
    return rc;
}

static void ok(struct fx *f, const char *line)
{
    int rc = run(f, line);
    if (rc != 0)
        fail_msg("'%s' returned %d:\n%s", line, rc, out.text);
}

static void start(struct fx *f)
{
    fx_config(f);
    f->cfg.mdts = 3;
    f->cfg.serial = "SN-PARITY-7";
    f->cfg.model = "Parity Model";
    f->cfg.firmware = "FW9.1";
    f->ns[0].nsid = 1;
    f->ns[0].blocks = 262144;
    f->ns[1].nsid = 4;
    f->ns[1].blocks = 16384;
    f->ns[1].lba_size = 4096;
    f->cfg.ns_count = 2;
    f->cfg.smart.temperature = 310;
    f->cfg.smart.avail_spare = 97;
    f->cfg.smart.spare_thresh = 10;
    f->cfg.smart.percent_used = 4;
    f->cfg.smart.power_cycles = (struct nvme_u128){42, 0};
    f->cfg.smart.power_on_hours = (struct nvme_u128){1337, 0};
    f->cfg.smart.temp_sensor[0] = 305;
    f->cfg.smart.temp_sensor[1] = 312;
    fx_start(f);
}

/* ---- identify ------------------------------------------------------------ */

static void id_ctrl_every_field_json_and_text(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "id-ctrl -o json");
    /* SN, MN, FR as nvme-cli 2.4's json_nvme_id_ctrl (nvme-print-json.c)
     * gives them, the whole field with its padding blanks:
     *   snprintf(sn, sizeof(sn), "%-.*s", (int)sizeof(ctrl->sn), ctrl->sn);
     *   json_object_add_value_string(root, "sn", sn);
     * as its text does (before: trimmed) */
    assert_string_equal(jstr("sn"), "SN-PARITY-7         ");
    assert_string_equal(jstr("mn"), "Parity Model                            ");
    assert_string_equal(jstr("fr"), "FW9.1   ");
    assert_int_equal(jnum("vid"), 0x1b36);
    assert_int_equal(jnum("ssvid"), 0x1af4);
    assert_int_equal(jnum("mdts"), 3);
    assert_int_equal(jnum("oncs"), 0x1dd);
    assert_int_equal(jnum("oacs"), 0x16);
    assert_int_equal(jnum("npss"), 2);
    assert_int_equal(jnum("nn"), 4);
    assert_int_equal(jnum("elpe"), 63);
    assert_non_null(json_get("wctemp"));
    assert_non_null(json_get("cctemp"));
    assert_non_null(json_get("subnqn"));
    assert_non_null(json_get("tnvmcap"));
    assert_non_null(json_get("sanicap"));
    assert_non_null(json_get("ofcs"));
    assert_non_null(json_get("psds.2.max_power"));
    assert_non_null(json_get("psds.0.entry_lat"));
    assert_null(json_get("psds.3"));
    /* nvme-cli 2.4's "flags" key, byte 3 of the descriptor (MXPS bit 0,
     * NOPS bit 1: the simulator's state 2 has both), after max_power
     * (before: "max_power_scale" and "non-operational_state", the keys
     * of nvme-cli releases after 2.4) */
    assert_int_equal(jnum("psds.0.flags"), 0);
    assert_int_equal(jnum("psds.2.flags"), 3);
    assert_null(json_get("psds.2.max_power_scale"));
    assert_null(json_get("psds.2.non-operational_state"));
    ok(&f, "id-ctrl");
    expect("sn        : SN-PARITY-7");
    expect("oncs      : 0x1dd");
    /* Power in the unit each descriptor names (Power State Descriptor: MXPS,
     * IPS, APS), as nvme-cli prints it, in its columns (8, then 12: as
     * nvme-cli 2.3 prints QEMU's controller's), with the workload line. */
    expect("ps      0 : mp:25.00W operational enlat:0 exlat:0");
    expect("ps      1 : mp:12.50W operational");
    expect("ps      2 : mp:0.0833W non-operational enlat:20 exlat:40");
    expect("\n            rwt:");
    expect("idle_power:0.16W active_power:0.32W\n            active_power_workload:");
    expect("subnqn    : ");
    assert_null(strstr(out.text, "Dataset Management: supported"));
    ok(&f, "id-ctrl -H");
    expect("Dataset Management: supported");
    expect("Write Uncorrectable: not supported");
    expect("32768 bytes per command");
    fx_stop(&f);
}

/* FGUID (Identify Controller bytes 127:112) as nvme-cli 2.4 shows it,
 * text and JSON: a UUID string (util_uuid_to_string: 8-4-4-4-12 hex
 * digits, the bytes in order), not 32 bare digits.  The bytes come from
 * a garbage Identify (the same each time for one seed), read raw through
 * admin-passthru for the expected value. */
static void id_ctrl_shows_fguid_as_a_uuid_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "id-ctrl");
    expect("fguid     : 00000000-0000-0000-0000-000000000000\n");
    ok(&f, "id-ctrl -o json");
    assert_string_equal(jstr("fguid"), "00000000-0000-0000-0000-000000000000");
    fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, 77, 1);
    ok(&f, "admin-passthru -O 6 -4 1 -l 4096 -r -b");
    const uint8_t *g = out.bin + 112;
    char want[40];
    snprintf(want, sizeof(want),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[0], g[1],
             g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14],
             g[15]);
    char line[64];
    snprintf(line, sizeof(line), "fguid     : %s\n", want);
    fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, 77, 1);
    ok(&f, "id-ctrl");
    expect(line);
    fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, 77, 1);
    ok(&f, "id-ctrl -o json");
    assert_string_equal(jstr("fguid"), want);
    fx_stop(&f);
}

/* FNA bit 3 (NVMe 2.0 §5.15.2.2, FNVMBS) set means the controller does
 * NOT support Format NVM with NSID FFFFFFFFh; -H printed it as
 * "supported" (nvme-cli: "Format NVM Broadcast NSID (FFFFFFFFh) Not
 * Supported"). */
static void id_ctrl_human_reads_fna_bit_3_as_broadcast_format_not_supported(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.fna = 0x08;
    fx_start(&f);
    ok(&f, "id-ctrl -H");
    expect("[ 3] Format NVM with NSID FFFFFFFFh: not supported\n");
    fx_stop(&f);
    fx_config(&f);
    f.cfg.fna = 0x04;
    fx_start(&f);
    ok(&f, "id-ctrl -H");
    expect("[ 3] Format NVM with NSID FFFFFFFFh: supported\n");
    expect("[ 2] cryptographic erase: supported\n");
    fx_stop(&f);
}

/* VWC bits 2:1 (Flush Behavior, since NVMe 1.4) are one two-bit field:
 * 11b a Flush to NSID FFFFFFFFh is supported, 10b it is not; -H showed
 * bit 0 alone (nvme-cli: "[2:1] : 0x3 The Flush command supports NSID
 * set to FFFFFFFFh"). */
static void id_ctrl_human_reads_vwc_bits_2_1_as_the_flush_behavior(void **state)
{
    (void)state;
    struct fx f;
    start(&f); /* the simulator's VWC: 07h */
    ok(&f, "id-ctrl -H");
    expect("[ 0] volatile write cache present: supported\n");
    expect("[2:1] Flush with NSID FFFFFFFFh: supported\n");
    fx_stop(&f);
    fx_config(&f);
    f.cfg.flush_no_bcast = true; /* VWC 05h */
    fx_start(&f);
    ok(&f, "id-ctrl -H");
    expect("[2:1] Flush with NSID FFFFFFFFh: not supported\n");
    fx_stop(&f);
}

static void id_ns_lists_formats_and_marks_the_one_in_use(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "id-ns -n 1 -o json");
    assert_int_equal(jnum("nsze"), 262144);
    assert_int_equal(jnum("ncap"), 262144);
    assert_int_equal(jnum("flbas"), 0);
    unsigned nlbaf = (unsigned)jnum("nlbaf");
    char path[32];
    snprintf(path, sizeof(path), "lbafs.%u.ds", nlbaf);
    assert_non_null(json_get(path));
    snprintf(path, sizeof(path), "lbafs.%u", nlbaf + 1);
    assert_null(json_get(path));
    assert_int_equal(jnum("lbafs.0.ds"), 9);
    ok(&f, "id-ns -n 4");
    expect("nsze    : 0x4000");
    expect("lbads:12 rp:0 (in use)");
    ok(&f, "id-ns -n 4 -H");
    expect("Data Size: 4096 bytes");
    expect("(in use)");
    /* errors name the namespace, with the NVMe status name */
    assert_int_not_equal(run(&f, "id-ns -n 99"), 0);
    expect("nvme0n99: id-ns: Invalid Namespace or Format");
    assert_int_not_equal(run(&f, "id-ns"), 0);
    expect("-n NSID is required");
    fx_stop(&f);
}

/* Identify Namespace whose NLBAF passes 63 or whose FLBAS points past
 * NLBAF (the core's NVME_ERR_PROTO, which still fills the structure):
 * id-ns shows it, 64 formats at most and none marked in use, as
 * nvm-id-ns and zns id-ns do and as nvme-cli shows what the device
 * returned; it printed only "protocol error" before, hiding the very
 * fields that are wrong. */
static void id_ns_shows_a_namespace_whose_nlbaf_or_flbas_is_invalid(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_equal(nvme_sim_ns_corrupt(f.sim, 1, NVME_SIM_CORRUPT_NLBAF, 0), 0);
    ok(&f, "id-ns -n 1");
    expect("nlbaf   : 64\n");
    expect("lbaf 63 : ");
    assert_null(strstr(out.text, "lbaf 64 : "));
    ok(&f, "id-ns -n 1 -H -o json");
    assert_int_equal(jnum("nlbaf"), 64);
    assert_non_null(json_get("lbafs.63.ds"));
    assert_null(json_get("lbafs.64"));
    assert_int_equal(nvme_sim_ns_corrupt(f.sim, 1, NVME_SIM_CORRUPT_FLBAS, 0), 0);
    ok(&f, "id-ns -n 1 -H");
    expect("flbas   : 0x2\n");
    expect("nsze    : 0x40000\n  (the format in use, 2, is not among the 2 listed)\n");
    expect("LBA Format  1 : ");
    assert_null(strstr(out.text, "(in use)"));
    fx_stop(&f);
}

/* NULBAF (Identify Namespace byte 82, NVMe 2.0) as nvme-cli 2.4 shows it:
 * "nulbaf  : N" after msrc, and the "nulbaf" JSON key; id-ns had
 * neither.  The value is the byte the device returned (a garbage
 * Identify, read raw through admin-passthru for the expected value). */
static void id_ns_shows_nulbaf_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "id-ns -n 1");
    expect("msrc    : 127\nnulbaf  : 0\nanagrpid: ");
    ok(&f, "id-ns -n 1 -o json");
    assert_int_equal(jnum("nulbaf"), 0);
    fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, 5, 1);
    ok(&f, "admin-passthru -O 6 -n 1 -l 4096 -r -b");
    unsigned want = out.bin[82];
    char line[32];
    snprintf(line, sizeof(line), "\nnulbaf  : %u\n", want);
    fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, 5, 1);
    ok(&f, "id-ns -n 1");
    expect(line);
    fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, 5, 1);
    ok(&f, "id-ns -n 1 -o json");
    assert_int_equal(jnum("nulbaf"), want);
    fx_stop(&f);
}

/* NPWG, NPWA, NPDG, NPDA and NOWS are defined only with NSFEAT bit 4
 * (OPTPERF, NVM CS 1.0 Figure 97); nvme-cli 2.4's id-ns shows them, text
 * and JSON, only then.  nvmectl showed them always.  Identify data from
 * garbage (read raw through admin-passthru for NSFEAT), seeds with the
 * bit set and clear. */
static void id_ns_shows_the_optimal_io_fields_only_with_nsfeat_optperf(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "id-ns -n 1"); /* the simulator: NSFEAT 4h */
    expect("nsfeat  : 0x4\n");
    assert_null(strstr(out.text, "npwg"));
    assert_null(strstr(out.text, "nows"));
    expect("noiob   : 0\nnvmcap  : ");
    expect("mssrl   : ");
    /* nvme-cli 2.4's nvme_show_id_ns: NVMCAP as the number alone (before:
     * "... bytes"), NSATTR's label with a tab (before: spaces) */
    assert_null(strstr(out.text, " bytes"));
    expect("anagrpid: 0\nnsattr\t: 0\nnvmsetid: 0\n");
    ok(&f, "id-ns -n 1 -o json");
    assert_null(json_get("npwg"));
    assert_null(json_get("nows"));
    assert_non_null(json_get("mssrl"));
    unsigned seen[2] = {0, 0};
    for (uint32_t seed = 1; seed <= 16; seed++) {
        nvme_sim_clear_faults(f.sim);
        fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, seed, 1);
        ok(&f, "admin-passthru -O 6 -n 1 -l 4096 -r -b");
        bool optperf = (out.bin[24] & 0x10u) != 0;
        unsigned npwg = out.bin[64] | (unsigned)out.bin[65] << 8;
        unsigned nows = out.bin[72] | (unsigned)out.bin[73] << 8;
        seen[optperf]++;
        nvme_sim_clear_faults(f.sim);
        fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, seed, 1);
        ok(&f, "id-ns -n 1");
        char line[32];
        snprintf(line, sizeof(line), "\nnpwg    : %u\n", npwg);
        assert_int_equal(strstr(out.text, line) != NULL, optperf);
        snprintf(line, sizeof(line), "\nnows    : %u\n", nows);
        assert_int_equal(strstr(out.text, line) != NULL, optperf);
        nvme_sim_clear_faults(f.sim);
        fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, seed, 1);
        ok(&f, "id-ns -n 1 -o json");
        assert_int_equal(json_get("npwg") != NULL, optperf);
        assert_int_equal(json_get("npda") != NULL, optperf);
        if (optperf)
            assert_int_equal(jnum("nows"), nows);
    }
    assert_true(seen[0] > 0 && seen[1] > 0);
    fx_stop(&f);
}

static void id_ns_shows_64_formats_with_index_above_16_in_use(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nlbaf = 63;
    f.ns[0].flbas_index = 40;
    fx_start(&f);
    ok(&f, "id-ns -n 1 -o json");
    assert_int_equal(jnum("nlbaf"), 63);
    assert_int_equal(jnum("lbafs.40.ds"), 9);
    assert_int_equal(jnum("lbafs.40.ms"), 0);
    assert_non_null(json_get("lbafs.63.ds"));
    assert_null(json_get("lbafs.64"));
    ok(&f, "id-ns -n 1");
    expect("lbaf 63 : ");
    expect("lbaf 40 : ms:0   lbads:9  rp:0 (in use)");
    char *first = strstr(out.text, "(in use)");
    assert_non_null(first);
    assert_null(strstr(first + 1, "(in use)"));
    fx_stop(&f);
}

static void ns_descs_list_ns_list_ctrl(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    /* nvme-cli 2.x: an "ns-descs" array, each descriptor with its offset,
     * NIDT, NIDL, type and value (the simulator lists EUI64, NGUID, UUID,
     * CSI: 12 + 20 + 20 + 5 bytes). */
    ok(&f, "ns-descs -n 1 -o json");
    assert_string_equal(jstr("ns-descs.0.type"), "eui64");
    assert_int_equal(strlen(jstr("ns-descs.0.eui64")), 16);
    assert_int_equal(jnum("ns-descs.0.nidl"), 8);
    assert_int_equal(jnum("ns-descs.1.loc"), 12);
    assert_int_equal(strlen(jstr("ns-descs.1.nguid")), 32);
    assert_int_equal(jnum("ns-descs.2.nidt"), 3);
    assert_int_equal(strlen(jstr("ns-descs.2.uuid")), 36);
    assert_int_equal(jnum("ns-descs.3.loc"), 52);
    assert_string_equal(jstr("ns-descs.3.type"), "csi");
    assert_string_equal(jstr("ns-descs.3.csi"), "0");
    assert_null(json_get("ns-descs.4"));
    ok(&f, "ns-descs -n 1");
    expect("csi     : 0\n");
    ok(&f, "list-ns -o json");
    assert_int_equal(jnum("nsid_list.0.nsid"), 1);
    assert_int_equal(jnum("nsid_list.1.nsid"), 4);
    assert_null(json_get("nsid_list.2"));
    ok(&f, "list-ns");
    expect("[   0]:0x1");
    expect("[   1]:0x4");
    ok(&f, "list-ns -n 2");
    expect("[   0]:0x4");
    ok(&f, "list-ns -n 0xfffffffe"); /* NSIDs from FFFFFFFEh on: none */
    assert_null(strstr(out.text, "[   0]"));
    /* -n 0 (nvme-cli: invalid nsid parameter; it listed from 1) and
     * FFFFFFFFh (a list from FFFFFFFEh, which CNS 02h refuses; it said
     * "invalid argument") are refused with the range, nothing sent */
    uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_equal(run(&f, "list-ns -n 0"), NVME_ERR_INVAL);
    expect("nvmectl list-ns: -n is the first NSID listed, 1..0xfffffffe\n");
    assert_int_equal(run(&f, "list-ns -n 0xffffffff"), NVME_ERR_INVAL);
    expect("nvmectl list-ns: -n is the first NSID listed, 1..0xfffffffe\n");
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin);
    /* NSID FFFFFFFFh where the Identify names one namespace: the range,
     * nothing sent (text: the core's bare "invalid argument"; JSON: the
     * device's Invalid Namespace or Format) */
    assert_int_equal(run(&f, "ns-descs -n 0xffffffff"), NVME_ERR_INVAL);
    expect("nvmectl ns-descs: -n NSID is required: one namespace, 1..0xfffffffe\n");
    assert_int_equal(run(&f, "ns-descs -n 0xffffffff -o json"), NVME_ERR_INVAL);
    expect("nvmectl ns-descs: -n NSID is required: one namespace, 1..0xfffffffe\n");
    assert_int_equal(run(&f, "list-ctrl -n 0xffffffff"), NVME_ERR_INVAL);
    expect("nvmectl list-ctrl: -n is one namespace (1..0xfffffffe); without it (or 0) the "
           "subsystem's controllers are listed\n");
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin);
    ok(&f, "list-ctrl -o json");
    assert_int_equal(jnum("num_ctrl"), 1);
    assert_non_null(json_get("ctrl_list.0.ctrl_id"));
    ok(&f, "list-ctrl");
    expect("num of ctrls present: 1");
    assert_int_not_equal(run(&f, "list-ns --all"), 0);
    expect("not supported");
    fx_stop(&f);
}

/* list-ns --all (nvme-cli -a): Identify CNS 10h, the allocated NSIDs, attached or not. */
static void list_ns_all_lists_allocated_namespaces(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oacs = NVME_OACS_FORMAT | NVME_OACS_FW | NVME_OACS_SELF_TEST | NVME_OACS_NS_MGMT;
    f.ns[1].nsid = 4;
    f.ns[1].blocks = 8192;
    f.cfg.ns_count = 2;
    f.cfg.nn = 8;
    f.cfg.inactive_nsids[0] = 6; /* allocated, attached to no controller */
    f.cfg.inactive_nsids[1] = 2;
    fx_start(&f);
    ok(&f, "list-ns");
    assert_string_equal(out.text, "[   0]:0x1\n[   1]:0x4\n");
    ok(&f, "list-ns --all");
    assert_string_equal(out.text, "[   0]:0x1\n[   1]:0x2\n[   2]:0x4\n[   3]:0x6\n");
    ok(&f, "list-ns -a -o json");
    assert_int_equal(jnum("nsid_list.0.nsid"), 1);
    assert_int_equal(jnum("nsid_list.1.nsid"), 2);
    assert_int_equal(jnum("nsid_list.2.nsid"), 4);
    assert_int_equal(jnum("nsid_list.3.nsid"), 6);
    assert_null(json_get("nsid_list.4"));
    ok(&f, "list-ns --all -n 3"); /* nvme-cli: NSIDs from -n on */
    assert_string_equal(out.text, "[   0]:0x4\n[   1]:0x6\n");
    /* the core call behind it */
    uint32_t list[1024];
    unsigned count = 99;
    assert_int_equal(nvme_identify_allocated_ns(f.ctrl, 2, list, 1024, &count), 0);
    assert_int_equal(count, 2);
    assert_int_equal(list[0], 4);
    assert_int_equal(list[1], 6);
    assert_int_equal(nvme_identify_allocated_ns(f.ctrl, 0, list, 3, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(list[2], 4);
    fx_stop(&f);
}

/* nvme-cli's ns-rescan: enumerated again, then listed. */
static void ns_rescan_finds_a_namespace_added_since(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.nn = 8;
    fx_start(&f);
    struct nvme_sim_ns_config ns = {.nsid = 3, .blocks = 4096};
    assert_int_equal(nvme_sim_ns_add(f.sim, &ns), 0);
    ok(&f, "list"); /* the core's table, not the device */
    expect("1 namespace(s)");
    ok(&f, "ns-rescan");
    expect("nvme0n3      3      4096 ");
    expect("2 namespace(s)");
    ok(&f, "ns-rescan -o json");
    assert_int_equal(jnum("Devices.1.NameSpace"), 3);
    fx_stop(&f);
}

static void list_ns_all_refused_without_namespace_management(void **state)
{
    (void)state;
    struct fx f;
    start(&f); /* OACS 16h: no Namespace Management */
    uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_equal(run(&f, "list-ns --all"), NVME_ERR_UNSUPPORTED);
    expect("nvme0: list-ns --all: not supported: the controller has no Namespace Management "
           "(OACS bit 3)");
    assert_int_equal(run(&f, "list-ns -a -o json"), NVME_ERR_UNSUPPORTED);
    expect("OACS bit 3");
    uint32_t list[4];
    unsigned count = 99;
    assert_int_equal(nvme_identify_allocated_ns(f.ctrl, 0, list, 4, &count), NVME_ERR_UNSUPPORTED);
    assert_int_equal(count, 0);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin); /* nothing sent */
    /* the simulator too refuses CNS 10h without OACS bit 3 */
    uint8_t *id = fx_xalloc(4096);
    int rc = nvme_identify(f.ctrl, NVME_CNS_ALLOCATED_NS_LIST, 0, id);
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_FIELD);
    free(id);
    ok(&f, "list-ns");
    expect("[   1]:0x4");
    fx_stop(&f);
}

/* list-ns --csi (nvme-cli -y): Identify CNS 07h (active) and 1Ah
 * (allocated, with --all) list only the namespaces of that I/O Command
 * Set. */
static void list_ns_csi_lists_one_command_set(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oacs = NVME_OACS_FORMAT | NVME_OACS_NS_MGMT;
    f.ns[1] = (struct nvme_sim_ns_config){
        .nsid = 3, .blocks = 1024, .lba_size = 4096, .zoned = true, .zone_size = 64};
    f.ns[2] = (struct nvme_sim_ns_config){.nsid = 5, .blocks = 4096, .lba_size = 512};
    f.cfg.ns_count = 3;
    f.cfg.nn = 8;
    f.cfg.inactive_nsids[0] = 4; /* allocated, NVM, attached to no controller */
    fx_start(&f);
    ok(&f, "list-ns --csi 2");
    assert_string_equal(out.text, "[   0]:0x3\n");
    ok(&f, "list-ns -y 0");
    assert_string_equal(out.text, "[   0]:0x1\n[   1]:0x5\n");
    ok(&f, "list-ns -y 0 --all");
    assert_string_equal(out.text, "[   0]:0x1\n[   1]:0x4\n[   2]:0x5\n");
    ok(&f, "list-ns -y 0 -a -n 2"); /* NSIDs from 2 on */
    assert_string_equal(out.text, "[   0]:0x4\n[   1]:0x5\n");
    ok(&f, "list-ns -y 2 -a -o json");
    assert_int_equal(jnum("nsid_list.0.nsid"), 3);
    assert_null(json_get("nsid_list.1"));
    ok(&f, "list-ns"); /* no --csi: every command set (CNS 02h) */
    assert_string_equal(out.text, "[   0]:0x1\n[   1]:0x3\n[   2]:0x5\n");
    /* A set the controller does not have: its status, as nvme-cli shows. */
    int rc = run(&f, "list-ns --csi 1");
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_FIELD);
    assert_int_not_equal(run(&f, "list-ns --csi 256"), 0);
    expect("--csi is 0..255");
    /* the core call behind it */
    uint32_t list[1024];
    unsigned count = 99;
    assert_int_equal(nvme_identify_ns_list_csi(f.ctrl, NVME_CSI_NVM, false, 1, list, 1024, &count),
                     0);
    assert_int_equal(count, 1);
    assert_int_equal(list[0], 5);
    assert_int_equal(nvme_identify_ns_list_csi(f.ctrl, NVME_CSI_ZNS, true, 0, list, 1024, &count),
                     0);
    assert_int_equal(count, 1);
    assert_int_equal(list[0], 3);
    assert_int_equal(
        nvme_identify_ns_list_csi(f.ctrl, NVME_CSI_NVM, false, 0xfffffffeu, list, 1024, &count),
        NVME_ERR_INVAL);
    fx_stop(&f);
}

/* Without the I/O Command Set profile (CC.CSS NVM only), another set is
 * refused before anything is sent. */
static void list_ns_csi_other_than_nvm_refused_on_an_nvm_only_controller(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_not_equal(nvme_ctrl_css(f.ctrl), NVME_CC_CSS_IOCS);
    uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_equal(run(&f, "list-ns --csi 2"), NVME_ERR_UNSUPPORTED);
    expect("nvme0: list-ns --csi 2: not supported: the controller runs only the NVM command set");
    uint32_t list[4];
    unsigned count = 99;
    assert_int_equal(nvme_identify_ns_list_csi(f.ctrl, NVME_CSI_ZNS, false, 0, list, 4, &count),
                     NVME_ERR_UNSUPPORTED);
    assert_int_equal(count, 0);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin); /* nothing sent */
    fx_stop(&f);
}

/* ---- features -------------------------------------------------------------- */

static void get_and_set_features(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "get-feature -f 6");
    expect("get-feature:0x06 (Volatile Write Cache), Current value:0x00000001");
    ok(&f, "get-feature -f 6 -o json");
    assert_int_equal(jnum("feature_id"), 6);
    assert_int_equal(jnum("value"), nvme_sim_feature(f.sim, 6));
    assert_string_equal(jstr("sel"), "current");
    /* nvme-cli 2.4 prints values with "%#0*x", width 10, or 8 for a 0 (no "0x"
     * before 0), and save with "%#x". */
    ok(&f, "set-feature -f 6 -v 1 --save");
    expect("set-feature:0x06 (Volatile Write Cache), value:0x00000001, cdw12:00000000, save:0x1\n");
    ok(&f, "set-feature -f 6 -v 0");
    expect("set-feature:0x06 (Volatile Write Cache), value:00000000, cdw12:00000000, save:0\n");
    assert_int_equal(nvme_sim_feature(f.sim, 6), 0);
    ok(&f, "get-feature -f 6");
    expect("get-feature:0x06 (Volatile Write Cache), Current value:00000000\n");
    /* -s supported: nvme-cli 2.4's nvme_show_select_result() lines */
    ok(&f, "get-feature -f 5 -n 1 -s supported");
    expect("Supported capabilities value:");
    expect("value:0x00000007\n  Feature is saveable\n  Feature is per-namespace\n"
           "  Feature is changeable\n");
    ok(&f, "get-feature -f 6 -H");
    expect("Volatile Write Cache Enable (WCE): Disabled");
    ok(&f, "set-feature -f 6 -v 1 --save -o json");
    assert_string_equal(jstr("save"), "true");
    assert_int_equal(nvme_sim_feature_saved(f.sim, 6), 1);
    ok(&f, "get-feature -f 6 -s saved -o json");
    assert_int_equal(jnum("value"), 1);
    ok(&f, "get-feature -f 6 -s supported");
    expect("Supported capabilities value");
    expect("  Feature is saveable\n");
    ok(&f, "get-feature -f 6 -s default -o json");
    assert_string_equal(jstr("sel"), "default");
    /* temperature threshold: a value, decoded */
    ok(&f, "set-feature -f 4 -v 350");
    ok(&f, "get-feature -f 4 -H");
    expect("\tTemperature Threshold         (TMPTH): 77 C (350 K)\n");
    /* number of queues, arbitration */
    ok(&f, "get-feature -f 7 -H");
    expect("Number of IO Submission Queues Allocated (NSQA)");
    /* data features: Timestamp (8 bytes), Host Behavior Support (512) */
    ok(&f, "get-feature -f 0xe -o json");
    assert_int_equal(strlen(jstr("data")), 16);
    ok(&f, "set-feature -f 0x16 -p 0");
    ok(&f, "get-feature -f 0x16 -o json");
    assert_int_equal(strlen(jstr("data")), 1024);
    assert_int_not_equal(run(&f, "set-feature -f 0xe"), 0);
    expect("takes a data structure");
    assert_int_not_equal(run(&f, "set-feature -f 6 -v 1 -p 3"), 0);
    expect("takes no data structure");
    /* -l (nvme-cli's --data-len): the structure's own length or refused,
     * never a length the command then does not move (a vendor feature
     * with -l 64 was sent with no data, "success"). */
    uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_not_equal(run(&f, "set-feature -f 0xc0 -v 1 -l 64"), 0);
    expect("-l must be the feature's data structure length (0: none)");
    assert_int_not_equal(run(&f, "set-feature -f 0x16 -p 0 -l 64"), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin);
    ok(&f, "set-feature -f 0x16 -p 0 -l 512");
    /* status path: an unknown feature, named */
    assert_int_not_equal(run(&f, "get-feature -f 0x7f"), 0);
    expect("nvme0: get-feature 0x7f (Namespace Metadata): Invalid Field in Command");
    /* the long names whole (QEMU 7.2 refuses APST: the name was cut to
     * "(Autonomous Power State Transi: Invalid Field ...", no ')') */
    const uint16_t inval = NVME_SF(0, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT;
    fx_inject(&f, NVME_SIM_FAULT_STATUS, 0, NVME_ADMIN_GET_FEATURES, inval, 1);
    assert_int_not_equal(run(&f, "get-feature -f 0xc"), 0);
    expect("nvme0: get-feature 0x0c (Autonomous Power State Transition): Invalid Field in Command");
    fx_inject(&f, NVME_SIM_FAULT_STATUS, 0, NVME_ADMIN_SET_FEATURES, inval, 1);
    assert_int_not_equal(run(&f, "set-feature -f 0x18 -v 0"), 0);
    expect(
        "nvme0: set-feature 0x18 (Endurance Event Group Configuration): Invalid Field in Command");
    assert_int_not_equal(run(&f, "get-feature"), 0);
    expect("-f FID (1..255) is required");
    assert_int_not_equal(run(&f, "get-feature -f 6 -s sometimes"), 0);
    expect("-s is current, default, saved or supported");
    fx_stop(&f);
}

/* get-feature -l (nvme-cli --data-len): a vendor-specific feature's data
 * of that length (8 KiB here: PRP1 and PRP2), a known structure shown to
 * that length, supported capabilities without data; refused past one
 * command (MDTS 3: 32 KiB) and for a feature without a data structure,
 * nothing sent. */
static void get_feature_data_len_is_the_data_length(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 3;
    f.cfg.vendor_fid = 0xc4;
    f.cfg.vendor_feat_len = 8192;
    fx_start(&f);
    static uint8_t pat[8192];
    fx_pattern(pat, sizeof(pat), 9);
    assert_int_equal(nvme_set_feature(f.ctrl, 0xc4, 0, 0, 0, false, pat, sizeof(pat), NULL), 0);
    ok(&f, "get-feature -f 0xc4 -l 8192 -o json");
    const char *hex = jstr("data");
    assert_int_equal(strlen(hex), 2 * sizeof(pat));
    for (size_t i = 0; i < sizeof(pat); i++) {
        char two[3];
        snprintf(two, sizeof(two), "%02x", pat[i]);
        if (memcmp(hex + 2 * i, two, 2) != 0)
            fail_msg("data byte %zu: %.2s, the device's is %s", i, hex + 2 * i, two);
    }
    ok(&f, "get-feature -f 0xc4 --data-len=8192"); /* the dump ends with its length */
    expect("00001ff0 ");
    expect("00002000\n");
    ok(&f, "get-feature -f 0xc -l 16"); /* APST: 256 bytes read, 16 shown */
    expect("00000000 ");
    expect("00000010\n");
    assert_null(strstr(out.text, "00000100"));
    ok(&f, "get-feature -f 0xc4 -s supported -l 64 -o json");
    assert_null(json_get("data"));
    uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_not_equal(run(&f, "get-feature -f 0xc4 -l 0x10000"), 0);
    expect("-l 65536: more than one command moves (32768 bytes)");
    assert_int_not_equal(run(&f, "get-feature -f 0xc -l 0x200000"), 0); /* past the scratch */
    expect("needs a scratch buffer of");
    assert_int_not_equal(run(&f, "get-feature -f 1 -l 16"), 0);
    expect("feature 0x01 (Arbitration) returns no data structure");
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin);
    fx_stop(&f);
}

/* ---- logs ------------------------------------------------------------------ */

static void smart_log_every_field(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "smart-log -o json");
    assert_int_equal(jnum("critical_warning"), 0);
    assert_int_equal(jnum("temperature"), 310);
    assert_int_equal(jnum("avail_spare"), 97);
    assert_int_equal(jnum("spare_thresh"), 10);
    assert_int_equal(jnum("percent_used"), 4);
    assert_int_equal(jnum("power_cycles"), 42);
    assert_int_equal(jnum("power_on_hours"), 1337);
    assert_int_equal(jnum("temperature_sensor_1"), 305);
    assert_int_equal(jnum("temperature_sensor_2"), 312);
    assert_null(json_get("temperature_sensor_3"));
    assert_int_equal(jnum("warning_temp_time"), 0);
    assert_int_equal(jnum("critical_comp_time"), 0);
    assert_non_null(json_get("thm_temp1_trans_count"));
    assert_non_null(json_get("thm_temp2_total_time"));
    assert_non_null(json_get("endurance_grp_critical_warning_summary"));
    ok(&f, "smart-log");
    /* nvme-cli 2.4's nvme_show_smart_log, tabs, labels and units */
    expect("critical_warning\t\t\t: 0\n"); /* nvme-cli's "%#x" of 0 */
    expect("endurance group critical warning summary: 0\n");
    expect("temperature\t\t\t\t: 37 C (310 K)\n");
    expect("Temperature Sensor 2           : 39 C (312 K)\n");
    expect("power_cycles\t\t\t\t: 42\n");
    expect("Warning Temperature Time\t\t: 0\n");
    expect("Critical Composite Temperature Time\t: 0\n");
    expect("Thermal Management T1 Total Time\t: 0\n");
    ok(&f, "smart -o json");
    assert_int_equal(jnum("temperature"), 310);
    /* Critical Warning and the Endurance Group Critical Warning Summary
     * (bit fields) in hex as nvme-cli's "%#x", EGCWS under its name (was
     * decimal): a page of pseudo-random bytes, the same twice, whose
     * values read differently in decimal and hex */
    unsigned long long cw = 0, egcws = 0;
    for (uint32_t seed = 1; seed < 200 && (cw <= 9 || egcws <= 9); seed++) {
        fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_GET_LOG_PAGE, seed, 2);
        ok(&f, "smart-log -o json");
        cw = jnum("critical_warning");
        egcws = jnum("endurance_grp_critical_warning_summary");
        ok(&f, "smart-log");
    }
    assert_true(cw > 9 && egcws > 9);
    char line[64];
    snprintf(line, sizeof(line), "critical_warning\t\t\t: %#llx\n", cw);
    expect(line);
    snprintf(line, sizeof(line), "endurance group critical warning summary: %#llx\n", egcws);
    expect(line);
    fx_stop(&f);
}

static void error_log_shows_the_entries(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    nvme_sim_error_event(f.sim, 1, 0x23, 0x0281); /* Unrecovered Read Error */
    ok(&f, "error-log -o json");
    assert_int_equal(jnum("errors.0.error_count"), 1);
    assert_int_equal(jnum("errors.0.sqid"), 1);
    assert_int_equal(jnum("errors.0.cmdid"), 0x23);
    assert_int_equal(jnum("errors.0.status_field"), 0x0281);
    assert_non_null(json_get("errors.63"));
    assert_null(json_get("errors.64"));
    ok(&f, "error-log -e 2");
    expect("entries:2");
    /* nvme-cli 2.4's layout (tabs, "%#x(%s)", the NVMe 2.0 fields, the
     * transport type as text), the status by the core's name for it */
    expect("status_field\t: 0x281(Unrecovered Read Error)");
    expect("cmdid\t\t: 0x23\n");
    expect("trtype_spec_info: 0\nlog_page_version: 1\n"); /* entry 0's */
    /* an empty entry as nvme-cli's "%#x" prints 0 (was "0x0") */
    expect(" Entry[ 1]   \n.................\nerror_count\t: 0\nsqid\t\t: 0\n"
           "cmdid\t\t: 0\nstatus_field\t: 0(Success)\nphase_tag\t: 0\n"
           "parm_err_loc\t: 0\nlba\t\t: 0\nnsid\t\t: 0\nvs\t\t: 0\n"
           "trtype\t\t: The transport type is not indicated or the error is not transport "
           "related.\ncsi\t\t: 0\nopcode\t\t: 0\ncs\t\t: 0\ntrtype_spec_info: 0\n"
           "log_page_version: 0\n.................\n");
    expect(" Entry[ 1]");
    assert_null(strstr(out.text, " Entry[ 2]"));
    assert_int_not_equal(run(&f, "error-log -e 0"), 0);
    fx_stop(&f);
}

/* error-log -o json: every field of an entry (NVMe 2.0 Figure 206) under
 * nvme-cli's key, CSI, Opcode and Log Page Version too (they were left
 * out): an entry of pseudo-random bytes read as JSON and raw (-b), the
 * same twice, each key's value the bytes at its offset. */
static void error_log_json_has_every_field(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    uint8_t raw[64];
    fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_GET_LOG_PAGE, 7, 1);
    ok(&f, "error-log -e 1 -b");
    assert_int_equal(out.bin_len, 64);
    memcpy(raw, out.bin, 64);
    fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_GET_LOG_PAGE, 7, 1);
    ok(&f, "error-log -e 1 -o json");
    static const struct {
        const char *key;
        unsigned off, n;
    } k[] = {{"error_count", 0, 8},
             {"sqid", 8, 2},
             {"cmdid", 10, 2},
             {"parm_error_location", 14, 2},
             {"lba", 16, 8},
             {"nsid", 24, 4},
             {"vs", 28, 1},
             {"trtype", 29, 1},
             {"csi", 30, 1},
             {"opcode", 31, 1},
             {"cs", 32, 8},
             {"trtype_spec_info", 40, 2},
             {"log_page_version", 63, 1}};
    unsigned nonzero = 0;
    char path[64];
    for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        unsigned long long v = 0;
        for (unsigned b = k[i].n; b-- > 0;)
            v = (v << 8) | raw[k[i].off + b];
        nonzero += v != 0;
        snprintf(path, sizeof(path), "errors.0.%s", k[i].key);
        if (jnum(path) != v)
            fail_msg("%s: %llu, the entry has %llu:\n%s", k[i].key, jnum(path), v, out.text);
    }
    assert_true(nonzero >= 10); /* the page is not zeros */
    unsigned sts = raw[12] | (unsigned)raw[13] << 8;
    assert_int_equal(jnum("errors.0.status_field"), sts >> 1);
    assert_int_equal(jnum("errors.0.phase_tag"), sts & 1u);
    assert_null(json_get("errors.1"));
    fx_stop(&f);
}

/* error-log -e N as nvme-cli: N cut down to ELPE + 1 of an Identify read
 * now.  ELPE may change with the firmware (nvme_sim_set_elpe): the core
 * reads it again at a reset, never reads past the log (§5.14.1.1: ELPE + 1
 * entries), and before the reset nvmectl says why it stops. */
static void error_log_follows_an_elpe_change(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_equal(nvme_ctrl_fini(f.ctrl), 0); /* brought up again with 4 entries */
    nvme_sim_set_elpe(f.sim, 3);
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    ok(&f, "error-log -o json");
    assert_non_null(json_get("errors.3"));
    assert_null(json_get("errors.4"));
    nvme_sim_set_elpe(f.sim, 15); /* a firmware keeping 16 entries */
    assert_int_not_equal(run(&f, "error-log -e 16"), 0);
    expect("nvme0: error-log: the controller now reports 16 entries (ELPE 15)");
    expect("reset the controller");
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    ok(&f, "error-log -e 16");
    expect("entries:16");
    expect(" Entry[15]");
    nvme_sim_set_elpe(f.sim, 3); /* and back to 4 */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    static struct nvme_error_log_entry e[16];
    assert_int_equal(nvme_get_error_log(f.ctrl, e, 16), NVME_ERR_INVAL);
    assert_int_equal(nvme_get_error_log(f.ctrl, e, 4), 0);
    ok(&f, "error-log -e 16");
    expect("entries:4");
    fx_stop(&f);
}

static void fw_changed_ns_effects_self_test_logs(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.firmware = "FW9.1";
    f.cfg.dst_short_us = 1000000000u; /* still running when the log is read */
    fx_start(&f);
    ok(&f, "fw-log -o json");
    assert_int_equal(jnum("nvme0.Active Firmware Slot (afi)") & 7u, 1);
    /* The revision's 8 bytes as nvme-cli's util_fw_to_string shows them,
     * padding as '.' (before: "(FW9.1)"); AFI as its "%#x" alone
     * (before: with "(active slot 1, ...)"). */
    assert_string_equal(jstr("nvme0.Firmware Rev Slot 1"), "211228907334 (FW9.1...)");
    ok(&f, "fw-log");
    expect("Firmware Log for device:nvme0\nafi  : 0x1\n");
    /* nvme-cli's "%#016" PRIx64: "FW9.1" padded with NULs is 312e395746h */
    expect("frs1 : 0x0000312e395746 (FW9.1...)\n");
    ok(&f, "changed-ns-list-log");
    expect("no changed namespaces");
    ok(&f, "changed-ns-list-log -o json");
    assert_string_equal(jstr("Changed Namespace List Log"), "nvme0");
    ok(&f, "effects-log -o json"); /* nvme-cli's array of pages */
    assert_int_equal(jnum("0.command_set_identifier"), 0);
    assert_int_equal(jnum("0.admin_cmd_set.ACS_6 (Identify)") & 1u, 1);
    assert_int_equal(jnum("0.io_cmd_set.IOCS_9 (Dataset Management)") & 3u, 3);
    ok(&f, "effects-log");
    expect("IOCS8    [Write Zeroes");
    ok(&f, "device-self-test -s short");
    expect("device self-test started");
    ok(&f, "self-test-log -o json");
    assert_int_equal(jnum("Current Device Self-Test Operation"), 1);
    ok(&f, "device-self-test -s abort -o json");
    assert_string_equal(jstr("result"), "success");
    ok(&f, "self-test-log -o json");
    assert_int_equal(jnum("Current Device Self-Test Operation"), 0);
    assert_int_equal(jnum("List of Valid Reports.0.Self test result"), 1); /* aborted */
    assert_int_equal(jnum("List of Valid Reports.0.Self test code"), 1);
    ok(&f, "self-test-log -v"); /* -v: the result in words */
    expect("aborted by a Device Self-test command");
    ok(&f, "device-self-test -s extended -n 1");
    assert_int_not_equal(run(&f, "device-self-test -s short -n 1"), 0);
    expect("nvme0n1: device-self-test: Device Self-test In Progress");
    assert_int_not_equal(run(&f, "device-self-test -s long"), 0);
    expect("-s is short, extended, vendor or abort");
    fx_stop(&f);
}

/* self-test-log -o json as nvme-cli 2.4's json_self_test_log: all 20
 * result entries in "List of Valid Reports", an unused one (result Fh)
 * as {"Self test result":15} alone, so each report keeps its place. */
static void self_test_log_json_lists_all_20_entries_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "self-test-log -o json");
    assert_int_equal(jnum("List of Valid Reports.0.Self test result"), 15);
    assert_int_equal(jnum("List of Valid Reports.19.Self test result"), 15);
    assert_null(json_get("List of Valid Reports.20"));
    assert_null(json_get("List of Valid Reports.0.Self test code"));
    ok(&f, "device-self-test -s short");
    ok(&f, "device-self-test -s abort");
    ok(&f, "self-test-log -o json");
    assert_int_equal(jnum("List of Valid Reports.0.Self test result"), 1);
    assert_int_equal(jnum("List of Valid Reports.0.Self test code"), 1);
    assert_int_equal(jnum("List of Valid Reports.1.Self test result"), 15);
    assert_int_equal(jnum("List of Valid Reports.19.Self test result"), 15);
    assert_null(json_get("List of Valid Reports.20"));
    fx_stop(&f);
}

/* self-test-log as nvme-cli 2.4's nvme_show_self_test_log (nvme-print.c):
 *   printf("Current operation  : %#x\n", self_test->current_operation);
 *   for (i = 0; i < num_entries; i++) {  (num_entries: 20 by default)
 *     printf("Self Test Result[%d]:\n", i);
 *   and nvme_show_self_test_result:
 *   printf("  Operation Result             : %#x", op); (-v: its words)
 *   if (op == NVME_ST_RESULT_NOT_USED) return;
 *   printf("  Self Test Code               : %x", code);
 *   printf("  Valid Diagnostic Information : %#x\n", res->vdi);
 *   printf("  Power on hours (POH)         : %#"PRIx64"\n", ...poh);
 *   printf("  Namespace Identifier         : %#x\n", ...nsid);
 *   printf("  Vendor Specific              : %#x %#x\n", res->vs[0], res->vs[1]);
 * (before: decimal values with nvmectl's words, the POH in decimal
 * "hours", no Vendor Specific line, unused entries left out). */
static void self_test_log_text_is_nvme_cli_2_4s(void **state)
{
    (void)state;
    struct fx f;
    start(&f); /* Power On Hours 1337: 539h */
    f.cfg.dst_short_us = 1000000000u;
    ok(&f, "device-self-test -s short -n 1");
    ok(&f, "self-test-log");
    expect("Device Self Test Log for NVME device:nvme0\n"
           "Current operation  : 0x1\n"
           "Current Completion : 0%\n"
           "Self Test Result[0]:\n"
           "  Operation Result             : 0xf\n"
           "Self Test Result[1]:\n");
    ok(&f, "device-self-test -s abort");
    ok(&f, "self-test-log");
    char want[4096];
    int n = snprintf(want, sizeof(want), "%s",
                     "Device Self Test Log for NVME device:nvme0\n"
                     "Current operation  : 0\n"
                     "Current Completion : 0%\n"
                     "Self Test Result[0]:\n"
                     "  Operation Result             : 0x1\n"
                     "  Self Test Code               : 1\n"
                     "  Valid Diagnostic Information : 0x1\n"
                     "  Power on hours (POH)         : 0x539\n"
                     "  Namespace Identifier         : 0x1\n"
                     "  Vendor Specific              : 0 0\n");
    for (int i = 1; i < 20; i++)
        n += snprintf(want + n, sizeof(want) - (size_t)n,
                      "Self Test Result[%d]:\n  Operation Result             : 0xf\n", i);
    assert_string_equal(out.text, want);
    ok(&f, "self-test-log -v");
    expect("  Operation Result             : 0x1 aborted by a Device Self-test command\n");
    fx_stop(&f);
}

/* effects-log as nvme-cli 2.4's nvme_print_effects_log_page and
 * nvme_print_effects_entry (nvme-print.c):
 *   printf("NVM Command Set Log Page\n"); printf("%-.80s\n", dash);
 *   nvme_print_effects_log_segment(1, 0, 0xbf, effects, "Admin Commands", human);
 *   nvme_print_effects_log_segment(1, 0xc0, 0xff, ..., "Vendor Specific Admin Commands", ...);
 *   format_string = admin ? "ACS%-6d[%-32s] %08x" : "IOCS%-5d[%-32s] %08x";
 *   if (human) nvme_show_effects_log_human(stream, effect); else fprintf(stream, "\n");
 * each segment's header only when it has a supported opcode and a blank
 * line after it; -o json (json_effects_log_list) an array of the pages
 * (before: "Admin Command Set", "ACS6   [", the effect bits named on
 * every line without -H, and a JSON object; then still the "Admin Command
 * Set" and "NVM Command Set" lines, which neither nvme-cli nor the
 * README's "no page or segment headings" has). */
static void effects_log_text_and_json_are_nvme_cli_2_4s(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.vendor_opc = 0xc1;
    f.cfg.vendor_effects = NVME_EFFECTS_LBCC;
    fx_start(&f);
    ok(&f, "effects-log");
    expect("ACS0     [Delete I/O Submission Queue     ] 00000001\n"
           "ACS1     [Create I/O Submission Queue     ] 00000001\n");
    expect("ACS132   [Sanitize                        ] 00000007\n");
    expect("ACS193   [Unknown                         ] 00000003\n");
    expect("IOCS0    [Flush                           ] 00000001\n"
           "IOCS1    [Write                           ] 00000003\n");
    expect_not("LBCC");
    /* no heading of nvmectl's own ("Admin Command Set", "NVM Command
     * Set"): the text is the opcodes' lines alone */
    expect_not("Command Set");
    assert_true(strncmp(out.text, "ACS0     [", 10) == 0);
    expect("] 00000003\nIOCS0    [Flush ");
    ok(&f, "effects-log -o json");
    assert_int_equal(jnum("0.command_set_identifier"), 0);
    assert_int_equal(jnum("0.admin_cmd_set.ACS_6 (Identify)"), 1);
    assert_int_equal(jnum("0.io_cmd_set.IOCS_1 (Write)"), 3);
    assert_null(json_get("1"));
    fx_stop(&f);
}

/* get-feature and set-feature without -n: NSID FFFFFFFFh, as nvme-cli
 * 2.4 sends them on the controller's device (nvme.c, get_feature and
 * set_feature):
 *   err = nvme_get_nsid(dev_fd(dev), &cfg.namespace_id);
 *   if (err < 0) { if (errno != ENOTTY) {...} cfg.namespace_id = NVME_NSID_ALL; }
 * so that a namespace-specific feature (Error Recovery, 05h) is set for
 * every namespace, where NSID 0 is Invalid Namespace or Format on QEMU's
 * controller (before: NSID 0). */
static void get_set_feature_default_to_every_namespace_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start_captured(&f);
    nvme_ctrl_set_trace(f.ctrl, NVME_TRACE_SQE);
    ok(&f, "set-feature -f 5 -v 10");
    assert_true(fx_log_has(&f, "sqe opc=09 cid="));
    assert_true(fx_log_has(&f, "nsid=4294967295 prp1="));
    assert_false(fx_log_has(&f, "nsid=0 prp1="));
    /* Get Features of it names one namespace: FFFFFFFFh is Invalid
     * Namespace or Format, as QEMU answers nvme-cli's get-feature -f 5 on
     * the controller's device; with -n 1 it reads. */
    int rc = run(&f, "get-feature -f 5");
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC((unsigned)rc), NVME_SC_INVALID_NS);
    assert_true(fx_log_has(&f, "sqe opc=0a cid="));
    assert_false(fx_log_has(&f, "nsid=0 prp1="));
    ok(&f, "get-feature -f 5 -n 1 -o json");
    assert_true(fx_log_has(&f, "nsid=1 prp1="));
    fx_stop(&f);
}

static void get_log_any_lid_length_offset(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "get-log -i 2 -l 512 -o json");
    assert_int_equal(jnum("log_id"), 2);
    assert_int_equal(jnum("length"), 512);
    assert_int_equal(strlen(jstr("data")), 1024);
    assert_memory_equal(jstr("data"), "003601", 6); /* warning 0, 310 K = 0x136 */
    /* vendor log C0h: byte i = (i * 7 + i / 4096) & FFh, 16 KiB */
    ok(&f, "get-log -i 0xc0 -l 16 --lpo 4096 --rae");
    expect("00001000  01 08 0f 16 1d 24 2b 32  39 40 47 4e 55 5c 63 6a");
    ok(&f, "get-log -i 0xc0 -l 16384 -o json");
    assert_int_equal(strlen(jstr("data")), 32768);
    assert_int_not_equal(run(&f, "get-log -i 2"), 0);
    expect("-l LEN is required");
    assert_int_not_equal(run(&f, "get-log -i 2 -l 6"), 0);
    assert_int_not_equal(run(&f, "get-log -i 2 -l 8 --lpo 2"), 0);
    expect("--lpo must be a multiple of 4");
    fx_stop(&f);
}

/* admin-passthru and io-passthru as nvme-cli's: the direction from the
 * opcode's bits 1:0 (or -r / -w), the result line, the data read as a hex
 * dump, -s / -d showing the command (-d sending nothing), and the core's
 * refusals. */
static void admin_passthru_sends_what_it_is_given(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "admin-passthru -O 6 --cdw10=1 -l 4096");
    expect("Admin Command Identify is Success and result: 0x00000000");
    expect("00000000  36 1b f4 1a 53 4e 2d 50  41 52 49 54 59 2d 37 20  |6...SN-PARITY-7 |");
    ok(&f, "admin-passthru -O 0x0a -4 7 -o json"); /* Number of Queues: no data */
    assert_string_equal(jstr("command"), "Get Features");
    assert_true(jnum("result") != 0);
    ok(&f, "admin-passthru -O 2 -n 0xffffffff -4 0x007f0002 -l 512 -o json");
    assert_int_equal(strlen(jstr("data")), 1024);
    assert_memory_equal(jstr("data"), "003601", 6); /* SMART: warning 0, 310 K */
    /* -p prefills a read's buffer too, as nvme-cli's --prefill: the 512
     * bytes past the log's show it. */
    ok(&f, "admin-passthru -O 2 -n 0xffffffff -4 0x007f0002 -l 1024 -p 0xee");
    expect("00000200  ee ee ee ee ee ee ee ee  ee ee ee ee ee ee ee ee");
    expect("00000000  00 36 01");
    /* -p is a byte whatever the direction: 0x1ee refused, nothing sent
     * (it was cut to 0xee for a read) */
    uint64_t sent = st->admin_cmds;
    assert_int_equal(run(&f, "admin-passthru -O 2 -n 0xffffffff -4 0x007f0002 -l 1024 -p 0x1ee"),
                     NVME_ERR_INVAL);
    expect("-p/--prefill is a byte (0..255)");
    assert_int_equal(run(&f, "admin-passthru -O 0x11 -4 1 -l 8 -p 0x1ab"), NVME_ERR_INVAL);
    assert_int_equal(st->admin_cmds, sent);
    /* A write (bits 01b): Firmware Image Download of 8 bytes from -p. */
    uint64_t fw = st->fw_downloads;
    ok(&f, "admin-passthru -O 0x11 -4 1 -l 8 -p 0xab");
    expect("Admin Command Firmware Image Download is Success");
    assert_int_equal(st->fw_downloads, fw + 1);
    /* -d shows and sends nothing; -s shows and sends. */
    uint64_t admin = st->admin_cmds;
    ok(&f, "admin-passthru -O 0x0a -4 7 -d");
    expect("opcode       : 0a\n");
    expect("cdw10        : 00000007\n");
    assert_int_equal(st->admin_cmds, admin);
    ok(&f, "admin-passthru -O 0x0a -4 7 -s");
    expect("data_len     : 00000000\n");
    expect("Admin Command Get Features is Success");
    assert_int_equal(st->admin_cmds, admin + 1);
    /* What the device rejects, and what the core refuses to send. */
    assert_int_not_equal(run(&f, "admin-passthru -O 0xc3"), 0);
    expect("nvme0: admin-passthru: Invalid Command Opcode");
    assert_int_not_equal(run(&f, "admin-passthru -O 6 -4 1 -l 512"), 0);
    expect("admin-passthru: invalid argument");
    assert_int_not_equal(run(&f, "admin-passthru -O 5 -4 0x3f0009"), 0);
    assert_int_not_equal(run(&f, "admin-passthru -4 1"), 0);
    expect("-O OPCODE (0..255) is required");
    assert_int_not_equal(run(&f, "admin-passthru -O 6 -4 0x100000000"), 0);
    expect("32-bit values");
    /* io-passthru: a raw Write of one block, read back plain and raw. */
    ok(&f, "io-passthru -O 1 -n 1 -4 100 -l 512 -p 0x3c");
    expect("IO Command Write is Success and result: 0x00000000");
    ok(&f, "read -n 1 -s 100");
    expect("0000c800  3c 3c 3c 3c");
    ok(&f, "io-passthru -O 2 -n 1 -4 100 -l 512");
    expect("IO Command Read is Success");
    expect("00000000  3c 3c 3c 3c");
    assert_int_not_equal(run(&f, "io-passthru -O 2 -n 1 -4 100 -6 1 -l 512"), 0);
    expect("nvme0n1: io-passthru: invalid argument"); /* 2 blocks into 512 bytes */
    assert_int_not_equal(run(&f, "io-passthru -O 2 -l 512"), 0);
    expect("-n NSID is required");
    fx_stop(&f);
}

/* The passthrough's direction as nvme-cli's: -r / -w add to the opcode's
 * bits 1:0 (they replaced them: -w on Identify mapped its buffer to the
 * device and the core refused it, -r on a Write sent the prefill, not
 * -p's data, then was refused too), and data with no direction at all
 * (bits 00b, no -r / -w) is refused, nothing sent (it went as a write of
 * zeros, the buffer mapped to the device whatever the command does). */
static void passthru_direction_adds_to_the_opcode_bits(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    /* -w on Identify (10b): both ways, the data read shown */
    ok(&f, "admin-passthru -O 6 --cdw10=1 -l 4096 -w");
    expect("Admin Command Identify is Success");
    expect("00000000  36 1b f4 1a 53 4e 2d 50  41 52 49 54 59 2d 37 20  |6...SN-PARITY-7 |");
    /* -r on a Write (01b): -p's bytes written, the buffer shown after */
    ok(&f, "io-passthru -O 1 -n 1 -4 200 -l 512 -p 0x5a -r");
    expect("IO Command Write is Success");
    ok(&f, "read -n 1 -s 200");
    expect("00019000  5a 5a 5a 5a");
    /* bits 00b with data and neither -r nor -w: refused, nothing sent */
    uint64_t admin = st->admin_cmds;
    assert_int_equal(run(&f, "admin-passthru -O 0xc0 -l 512"), NVME_ERR_INVAL);
    expect("data direction not given");
    assert_int_equal(run(&f, "admin-passthru -O 0xc0 -l 512 -d"), NVME_ERR_INVAL);
    expect("data direction not given");
    assert_int_equal(st->admin_cmds, admin);
    /* ... and sent with -r (after the effects log the core reads for an
     * opcode it does not know) */
    assert_int_not_equal(run(&f, "admin-passthru -O 0xc0 -l 512 -r"), 0);
    expect("Invalid Command Opcode");
    assert_true(st->admin_cmds > admin);
    fx_stop(&f);
}

/* -s / -d print nvme-cli 2.x's 17 lines: hex without "0x", flags,
 * rsvd1, metadata_len, addr, metadata and timeout_ms among them (before:
 * 11 lines, "opcode       : 0x0a"). */
static void passthru_show_command_is_nvme_clis(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "admin-passthru -O 0x0a -n 1 -4 7 -5 0x10 -d");
    assert_string_equal(out.text, "opcode       : 0a\n"
                                  "flags        : 00\n"
                                  "rsvd1        : 0000\n"
                                  "nsid         : 00000001\n"
                                  "cdw2         : 00000000\n"
                                  "cdw3         : 00000000\n"
                                  "data_len     : 00000000\n"
                                  "metadata_len : 00000000\n"
                                  "addr         : 0\n"
                                  "metadata     : 0\n"
                                  "cdw10        : 00000007\n"
                                  "cdw11        : 00000010\n"
                                  "cdw12        : 00000000\n"
                                  "cdw13        : 00000000\n"
                                  "cdw14        : 00000000\n"
                                  "cdw15        : 00000000\n"
                                  "timeout_ms   : 00000000\n");
    /* with data: its length, the buffer's address (nonzero) */
    ok(&f, "admin-passthru -O 6 -4 1 -l 4096 -d");
    expect("data_len     : 00001000\n");
    expect_not("addr         : 0\n");
    fx_stop(&f);
}

/* -s/--show-command and -d/--dry-run with -o json: the command's dwords
 * go into the JSON object, so the output stays one JSON value (run()
 * checks it) instead of the text listing followed by (or without) JSON. */
static void passthru_show_command_with_json_is_one_json_value(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t admin = st->admin_cmds;
    ok(&f, "admin-passthru -O 0x0a -4 7 -s -o json");
    assert_string_equal(jstr("command"), "Get Features");
    assert_int_equal(jnum("sqe.opcode"), 0x0a);
    assert_int_equal(jnum("sqe.cdw10"), 7);
    assert_int_equal(st->admin_cmds, admin + 1);
    ok(&f, "admin-passthru -O 0x0a -4 7 -5 3 -l 0 -d -o json");
    assert_int_equal(jnum("sqe.cdw11"), 3);
    assert_int_equal(jnum("sqe.data_len"), 0);
    assert_string_equal(jstr("result"), "dry run: not sent");
    assert_int_equal(st->admin_cmds, admin + 1);
    ok(&f, "io-passthru -O 2 -n 1 -4 100 -l 512 -s -o json");
    assert_int_equal(jnum("sqe.nsid"), 1);
    assert_int_equal(jnum("sqe.data_len"), 512);
    assert_int_equal(strlen(jstr("data")), 1024);
    fx_stop(&f);
}

/* create-ns, attach-ns, detach-ns, delete-ns with nvme-cli's messages;
 * delete-ns needs --force; the device's refusals named; id-ns --force
 * (CNS 11h) shows a namespace created and not attached, which plain id-ns
 * (CNS 00h) does not. */
static void namespace_management_commands(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oacs |= NVME_OACS_NS_MGMT;
    f.cfg.nn = 8;
    fx_start(&f);
    ok(&f, "create-ns -s 2048 -f 1");
    expect("create-ns: Success, created nsid:2");
    ok(&f, "id-ns -n 2 --force");
    expect("NVME Identify Namespace 2:\nnsze    : 0x800\n");
    expect("lbaf  0 : ms:0   lbads:12 rp:0 (in use)\n");
    ok(&f, "id-ns -n 2 -f -o json");
    assert_int_equal(jnum("nsze"), 2048);
    ok(&f, "id-ns -n 2"); /* not attached: zeros (NVMe 1.4 §5.15.2.1) */
    expect("NVME Identify Namespace 2:\nnsze    : 0\n");
    ok(&f, "attach-ns -n 2");
    expect("attach-ns: Success, nsid:2");
    ok(&f, "list");
    expect("nvme0n2");
    ok(&f, "id-ns -n 2 -o json");
    assert_int_equal(jnum("nsze"), 2048);
    ok(&f, "detach-ns -n 2 -c 1 -o json");
    assert_string_equal(jstr("result"), "success");
    assert_int_not_equal(run(&f, "delete-ns -n 2"), 0);
    expect("add --force");
    ok(&f, "delete-ns -n 2 --force");
    expect("delete-ns: Success, deleted nsid:2");
    ok(&f, "create-ns -s 100 -c 50 -f 0 -o json");
    assert_int_equal(jnum("nsid"), 2);
    assert_int_not_equal(run(&f, "attach-ns -n 3"), 0);
    expect("nvme0n3: attach-ns: Invalid Namespace or Format");
    assert_int_not_equal(run(&f, "create-ns -c 5"), 0);
    expect("-s NSZE (blocks) is required");
    assert_int_not_equal(run(&f, "create-ns -s 100"), 0); /* nvme-cli: -f or --block-size */
    expect("-f FLBAS or -b BLOCK-SIZE is required");
    assert_int_not_equal(run(&f, "attach-ns -n 2 -c 1,x"), 0);
    expect("comma-separated list");
    assert_int_equal(run(&f, "attach-ns -n 0xffffffff"), NVME_ERR_INVAL);
    expect("nvmectl attach-ns: -n NSID is required: one namespace, 1..0xfffffffe\n");
    /* every namespace: nvme-cli 2.4's nvme.c delete_ns()
     *   printf("%s: Success, deleted nsid:%d\n", cmd->name, cfg.namespace_id);
     * a __u32 through %d: FFFFFFFFh is -1 (before: 4294967295) */
    ok(&f, "delete-ns -n 0xffffffff --force");
    assert_string_equal(out.text, "delete-ns: Success, deleted nsid:-1\n");
    fx_stop(&f);
}

/* create-ns -f is nvme-cli's --flbas: the FLBAS byte of the host's
 * Identify Namespace data (NVM CS 1.0 Figure 97: format index bits 3:0,
 * extended data LBA bit 4, index bits 5:4 in bits 6:5), sent as given;
 * bit 7 is reserved: refused, nothing sent. */
static void create_ns_takes_the_flbas_byte(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oacs |= NVME_OACS_NS_MGMT;
    f.cfg.nn = 8;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "create-ns -s 2048 -f 0x11"); /* format 1, extended data LBA */
    expect("create-ns: Success, created nsid:2");
    assert_int_equal(st->ns_create_flbas, 0x11);
    ok(&f, "create-ns -s 2048 --flbas=1");
    assert_int_equal(st->ns_create_flbas, 0x01);
    /* Format 16 is FLBAS 0x20; the simulator has three formats: refused by
     * the device, after the byte went as given. */
    assert_int_not_equal(run(&f, "create-ns -s 2048 -f 0x20"), 0);
    expect("create-ns: Invalid Format");
    assert_int_equal(st->ns_create_flbas, 0x20);
    uint64_t creates = st->ns_creates;
    assert_int_not_equal(run(&f, "create-ns -s 2048 -f 0x80"), 0);
    expect("bit 7 reserved");
    assert_int_equal(st->ns_create_flbas, 0x20); /* nothing sent */
    assert_int_equal(st->ns_creates, creates);
    fx_stop(&f);
}

/* -b / --raw-binary: the page's bytes as read, nothing else (nvme-cli d_raw). */
static void raw_binary_writes_the_log_bytes(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    /* vendor log C0h, byte i = (i * 7 + i / 4096) & FFh: NUL bytes at 0,
     * 256, 512 ... must survive */
    ok(&f, "get-log -i 0xc0 -l 16384 -b");
    assert_int_equal(out.len, 0);
    assert_int_equal(out.bin_len, 16384);
    uint8_t *want = fx_xalloc(16384);
    struct nvme_log_args a;
    memset(&a, 0, sizeof(a));
    a.lid = 0xc0;
    a.nsid = NVME_NSID_ALL;
    a.buf = want;
    a.len = 16384;
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_memory_equal(out.bin, want, 16384);
    assert_int_equal(out.bin[0], 0x00);
    assert_int_equal(out.bin[1], 0x07);
    assert_int_equal(out.bin[256], 0x00);
    assert_int_equal(out.bin[4097], 0x08);
    ok(&f, "get-log --log-id=0xc0 --log-len=16 --lpo 4096 --raw-binary");
    static const uint8_t at4096[16] = {0x01, 0x08, 0x0f, 0x16, 0x1d, 0x24, 0x2b, 0x32,
                                       0x39, 0x40, 0x47, 0x4e, 0x55, 0x5c, 0x63, 0x6a};
    assert_int_equal(out.bin_len, 16);
    assert_memory_equal(out.bin, at4096, 16);
    /* -b wins over -o json */
    assert_int_equal(fx_nvmectl(&f, &out, "get-log -i 2 -l 512 -b -o json"), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(out.bin_len, 512);
    /* smart-log -b: the 512-byte page; warning 0, 310 K = 0x0136 */
    ok(&f, "smart-log -b");
    assert_int_equal(out.len, 0);
    assert_int_equal(out.bin_len, 512);
    struct nvme_smart_log *smart = (struct nvme_smart_log *)(void *)want;
    assert_int_equal(nvme_get_smart_log(f.ctrl, smart), 0);
    assert_memory_equal(out.bin, smart, 512);
    assert_int_equal(out.bin[0], 0x00);
    assert_int_equal(out.bin[1], 0x36);
    assert_int_equal(out.bin[2], 0x01);
    assert_int_equal(out.bin[3], 97);
    /* error-log -b: -e entries of 64 bytes */
    nvme_sim_error_event(f.sim, 1, 0x23, 0x0281);
    ok(&f, "error-log -e 2 -b");
    assert_int_equal(out.len, 0);
    assert_int_equal(out.bin_len, 128);
    struct nvme_error_log_entry *e = (struct nvme_error_log_entry *)(void *)want;
    assert_int_equal(nvme_get_error_log(f.ctrl, e, 2), 0);
    assert_memory_equal(out.bin, e, 128);
    assert_int_equal(out.bin[0], 1);     /* Error Count */
    assert_int_equal(out.bin[10], 0x23); /* CID */
    /* fw-log -b: 512 bytes, AFI slot 1, FRS1 "FW9.1" */
    ok(&f, "fw-log -b");
    assert_int_equal(out.len, 0);
    assert_int_equal(out.bin_len, 512);
    assert_int_equal(out.bin[0] & 7u, 1);
    assert_memory_equal(out.bin + 8, "FW9.1", 5);
    /* effects-log -b: 4 KiB; Identify (06h) supported in the admin set */
    ok(&f, "effects-log -b");
    assert_int_equal(out.len, 0);
    assert_int_equal(out.bin_len, 4096);
    struct nvme_effects_log *fx_eff = (struct nvme_effects_log *)(void *)want;
    assert_int_equal(nvme_get_effects_log(f.ctrl, 0, fx_eff), 0);
    assert_memory_equal(out.bin, fx_eff, 4096);
    assert_true(fx_eff->acs[NVME_ADMIN_IDENTIFY] & NVME_EFFECTS_CSUPP);
    /* self-test-log -b: 564 bytes; changed-ns-list-log -b: 1024 NSIDs */
    ok(&f, "self-test-log -b");
    assert_int_equal(out.len, 0);
    assert_int_equal(out.bin_len, sizeof(struct nvme_self_test_log));
    ok(&f, "changed-ns-list-log -b");
    assert_int_equal(out.len, 0);
    assert_int_equal(out.bin_len, 4096);
    free(want);
    fx_stop(&f);
}

/* A host whose output takes text only (EXOS's shell): -b refused, nothing sent. */
static void raw_binary_refused_where_the_host_has_no_binary_output(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    static char buf[1u << 16] __attribute__((aligned(4096)));
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), NULL, "nvme0", NULL, NULL};
    const char *lines[] = {
        "get-log -i 2 -l 512 -b", "smart-log -b",     "error-log -b",          "fw-log -b",
        "effects-log -b",         "self-test-log -b", "changed-ns-list-log -b"};
    uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds;
    for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        char copy[64];
        snprintf(copy, sizeof(copy), "%s", lines[i]);
        out.len = 0;
        out.text[0] = '\0';
        out.bin_len = 0;
        assert_int_equal(nvmectl_run_line(f.ctrl, &io, copy), NVME_ERR_UNSUPPORTED);
        expect("-b (raw binary): this host's output takes text only");
        assert_int_equal(out.bin_len, 0);
    }
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin);
    fx_stop(&f);
}

/* Data Units Read/Written as nvme-cli's uint128_t_to_si_string(units,
 * 512000), "%.2Lf %sB" (SI prefixes, two decimals), worked in decimal
 * digits without floating point: the values nvme-cli prints, a rounding
 * that carries into a fourth digit, a count past 2^64, and counts whose
 * bytes pass 2^137 (nvme-cli's long double: "174224571863520.49 QB" for
 * 2^128 - 1 units, as here). */
static void smart_log_data_units_in_si_bytes_as_nvme_cli(void **state)
{
    (void)state;
    static const struct {
        uint64_t lo, hi;
        const char *dec, *si;
    } cases[] = {
        {0, 0, "0", "0.00 B"},
        {1, 0, "1", "512.00 kB"},
        {2, 0, "2", "1.02 MB"},
        {1953, 0, "1953", "999.94 MB"},
        {1954, 0, "1954", "1.00 GB"},
        {123456789, 0, "123456789", "63.21 TB"},
        {1953120000, 0, "1953120000", "1000.00 TB"},
        {0, 1, "18446744073709551616", "9.44 YB"},
        /* from 2^119 units on, units x 512 needs more than 128 bits (before:
         * cut to 2^128 - 1, "340282366920.94 QB" for every such count) */
        {~0ull, (1ull << 55) - 1, "664613997892457936451903530140172287", "340282366920.94 QB"},
        {0, 1ull << 55, "664613997892457936451903530140172288", "340282366920.94 QB"},
        {~0ull, ~0ull, "340282366920938463463374607431768211455", "174224571863520.49 QB"},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        fx_config(&f);
        f.cfg.smart.data_units_written = (struct nvme_u128){cases[i].lo, cases[i].hi};
        fx_start(&f);
        ok(&f, "smart-log");
        char line[96];
        snprintf(line, sizeof(line), "Data Units Written\t\t\t: %s (%s)\n", cases[i].dec,
                 cases[i].si);
        expect(line);
        fx_stop(&f);
    }
}

/* smart-log -H (nvme-cli --human-readable): the Critical Warning bits. */
static void smart_log_human_decodes_critical_warning(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.smart.critical_warning = NVME_SMART_CRIT_SPARE | NVME_SMART_CRIT_READ_ONLY |
                                   NVME_SMART_CRIT_PMR_READ_ONLY;
    f.cfg.smart.temperature = 300;
    fx_start(&f);
    ok(&f, "smart-log -H");
    expect("critical_warning\t\t\t: 0x29\n"
           "      Available Spare[0]             : 1\n"
           "      Temp. Threshold[1]             : 0\n"
           "      NVM subsystem Reliability[2]   : 0\n"
           "      Read-only[3]                   : 1\n"
           "      Volatile mem. backup failed[4] : 0\n"
           "      Persistent Mem. RO[5]          : 1\n"
           "temperature\t");
    ok(&f, "smart-log --human-readable -o json");
    assert_int_equal(jnum("critical_warning.value"), 0x29);
    assert_int_equal(jnum("critical_warning.available_spare"), 1);
    assert_int_equal(jnum("critical_warning.temp_threshold"), 0);
    assert_int_equal(jnum("critical_warning.reliability_degraded"), 0);
    assert_int_equal(jnum("critical_warning.ro"), 1);
    assert_int_equal(jnum("critical_warning.vmbu_failed"), 0);
    assert_int_equal(jnum("critical_warning.pmr_ro"), 1);
    assert_int_equal(jnum("temperature"), 300);
    /* without -H: the number, as before */
    ok(&f, "smart-log -o json");
    assert_int_equal(jnum("critical_warning"), 0x29);
    assert_null(json_get("critical_warning.value"));
    ok(&f, "smart-log");
    assert_null(strstr(out.text, "Available Spare[0]"));
    expect("critical_warning\t\t\t: 0x29\ntemperature\t"); /* nvme-cli: no bit lines */
    /* a warning raised at run time shows at the next read */
    nvme_sim_smart_warning(f.sim, NVME_SMART_CRIT_TEMPERATURE | NVME_SMART_CRIT_VOLATILE_MEMORY);
    ok(&f, "smart -H -o json");
    assert_int_equal(jnum("critical_warning.value"), 0x3b);
    assert_int_equal(jnum("critical_warning.temp_threshold"), 1);
    assert_int_equal(jnum("critical_warning.vmbu_failed"), 1);
    assert_int_equal(jnum("critical_warning.reliability_degraded"), 0);
    ok(&f, "smart -H");
    expect("      Temp. Threshold[1]             : 1\n");
    expect("      Volatile mem. backup failed[4] : 1\n");
    expect("      NVM subsystem Reliability[2]   : 0\n");
    fx_stop(&f);
}

/* ---- I/O --------------------------------------------------------------------- */

static void dsm_deallocates_ranges(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "dsm -n 1 --ad -s 0 -b 8");
    expect("NVMe DSM: success\nnvme0n1: dsm deallocate: 1 range(s), 8 block(s) (4096 bytes)\n");
    assert_int_equal(st->deallocated_blocks, 8);
    ok(&f, "dsm -n 4 --ad -s 0,100,200 -b 1,2,3 -o json");
    assert_int_equal(jnum("nr_ranges"), 3);
    assert_int_equal(jnum("blocks"), 6);
    assert_int_equal(jnum("bytes"), 6 * 4096);
    assert_string_equal(jstr("device"), "nvme0n4");
    assert_int_equal(st->dsm_ranges, 4);
    assert_int_not_equal(run(&f, "dsm -n 1 --ad -s 0,8 -b 8"), 0);
    expect("each -s needs a -b");
    assert_int_not_equal(run(&f, "dsm -n 1 --ad -s 0 -b 8,9"), 0);
    expect("same length");
    assert_int_not_equal(run(&f, "dsm -n 1 --ad -b 8"), 0);
    expect("are required");
    assert_int_not_equal(run(&f, "dsm -n 1 --ad -s 262140 -b 100"), 0);
    expect("nvme0n1: dsm:");
    fx_stop(&f);
}

/* nvme-cli 2.4's dsm -a/--ctx-attrs (each range's Context Attributes, NVM
 * CS 1.0 Figure 40, 0 past the list) and -c/--cdw11 (Dword 11 whole, in
 * place of --ad/--idw/--idr when not 0); observed: the ranges nvmectl
 * hands the core (its scratch buffer) and Dword 11 in the SQE trace
 * (before: both unknown options). */
static void dsm_takes_context_attributes_and_cdw11(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    nvme_sim_log_capture(f.sim, true);
    nvme_ctrl_set_trace(f.ctrl, NVME_TRACE_SQE);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    static uint8_t buf[1u << 16] __attribute__((aligned(4096)));
    struct nvmectl_io io = {fx_print, &out, buf, sizeof(buf), NULL, "nvme0", NULL, NULL};
    char line[] = "dsm -n 1 -s 0,16,32 -b 8,8,8 --ctx-attrs=0x11,0x2000001 --idr --idw";
    memset(buf, 0xee, sizeof(buf));
    out.len = 0;
    nvme_sim_log_clear(f.sim);
    assert_int_equal(nvmectl_run_line(f.ctrl, &io, line), 0);
    const struct nvme_dsm_range *r = (const struct nvme_dsm_range *)(const void *)buf;
    assert_int_equal(r[0].cattr, 0x11);
    assert_int_equal(r[1].cattr, 0x2000001);
    assert_int_equal(r[2].cattr, 0);
    assert_int_equal(r[2].slba, 32);
    assert_non_null(strstr(nvme_sim_log_text(f.sim), "cdw10=00000002 cdw11=00000003"));
    /* -c replaces the flags: 4 is AD alone, --idr not sent */
    uint64_t dealloc = st->deallocated_blocks;
    nvme_sim_log_clear(f.sim);
    ok(&f, "dsm -n 1 -s 0 -b 8 -c 4 --idr");
    assert_non_null(strstr(nvme_sim_log_text(f.sim), "cdw10=00000000 cdw11=00000004"));
    assert_int_equal(st->deallocated_blocks, dealloc + 8);
    expect("dsm deallocate: 1 range(s)");
    ok(&f, "dsm -n 1 -s 0 -b 8 -a 5");
    /* refused, nothing sent: a reserved Dword 11 bit, more attributes
     * than ranges, an attribute past 32 bits */
    uint64_t dsms = st->dsm_cmds;
    assert_int_equal(run(&f, "dsm -n 1 -s 0 -b 8 -c 8"), NVME_ERR_INVAL);
    expect("-c 0..7");
    assert_int_equal(run(&f, "dsm -n 1 -s 0 -b 8 -a 1,2"), NVME_ERR_INVAL);
    expect("one per range at most");
    assert_int_equal(run(&f, "dsm -n 1 -s 0 -b 8 -a 0x100000000"), NVME_ERR_INVAL);
    assert_int_equal(run(&f, "dsm -n 1 -s 0 -b 8 -a 1,x"), NVME_ERR_INVAL);
    assert_int_equal(st->dsm_cmds, dsms);
    fx_stop(&f);
}

/* nvme-cli's copy: -d SDLBA, -s/-b lists (counts from 1, as dsm's). */
static void copy_moves_blocks_on_the_device(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "write -n 1 -s 10 -c 1 -p 0x11");
    ok(&f, "write -n 1 -s 20 -c 2 -p 0x22");
    ok(&f, "copy -n 1 -d 300 -s 10,20 -b 1,2");
    expect("NVMe Copy: success\nnvme0n1: 2 range(s), 3 block(s) to LBA 300");
    assert_int_equal(st->copies, 1);
    ok(&f, "read -n 1 -s 300 -c 3 -o json");
    const char *d = jstr("data");
    assert_int_equal(strspn(d, "1"), 1024);
    assert_int_equal(strspn(d + 1024, "2"), 2048);
    ok(&f, "copy -n 1 -d 400 -s 300 -b 3 -f -l -o json");
    assert_string_equal(jstr("command"), "copy");
    assert_int_equal(jnum("sdlba"), 400);
    assert_int_equal(jnum("nr_ranges"), 1);
    assert_int_equal(jnum("blocks"), 3);
    assert_int_equal(run(&f, "copy -n 1 -s 0 -b 1"), NVME_ERR_INVAL);
    expect("-d SDLBA");
    assert_int_not_equal(run(&f, "copy -n 1 -d 300 -s 299 -b 2"), 0);
    expect("nvme0n1: copy:");
    assert_int_equal(st->copies, 2);
    fx_stop(&f);
}

/* -s is optional where nvme-cli 2.4 defaults it to 0 (nvme.c: submit_io's
 * .start_block = 0, line 7295, for read, write and compare; write_zeroes,
 * 6439; verify_cmd, 7644): each command starts at LBA 0 without it (before:
 * "-n NSID and -s LBA are required", nothing sent).  The zns commands
 * still require it (README: nvme-cli's 0 is not a default to reset). */
static void io_commands_start_at_lba_0_without_s(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "write -n 1 -c 2 -p 0x33");
    expect("nvme0n1: wrote 2 block(s) at LBA 0 (1024 bytes)");
    uint8_t blk[512 * 3];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 0, 3, blk), 0);
    assert_int_equal(blk[0], 0x33);
    assert_int_equal(blk[1023], 0x33);
    assert_int_equal(blk[1024], 0);
    ok(&f, "read -n 1 -o json");
    assert_int_equal(jnum("slba"), 0);
    assert_int_equal(strspn(jstr("data"), "3"), 1024);
    ok(&f, "compare -n 1 -p 0x33");
    assert_int_equal(st->compares, 1);
    ok(&f, "nvm-verify -n 1 -o json");
    assert_int_equal(jnum("slba"), 0);
    assert_int_equal(st->verifies, 1);
    ok(&f, "verify -n 1 -o json");
    assert_int_equal(jnum("slba"), 0);
    assert_int_equal(st->verifies, 2);
    ok(&f, "write-verify -n 1 -o json");
    assert_int_equal(jnum("slba"), 0);
    ok(&f, "write-zeroes -n 1 -o json");
    assert_int_equal(jnum("slba"), 0);
    assert_int_equal(jnum("nlb"), 1);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 0, 1, blk), 0);
    for (unsigned i = 0; i < 512; i++)
        assert_int_equal(blk[i], 0);
    assert_int_equal(run(&f, "write -s 0 -p 0x33"), NVME_ERR_INVAL);
    expect("nvmectl: -n NSID is required\n");
    fx_stop(&f);
}

/* The success lines nvme-cli 2.4 prints (nvme.c: flush 6872, dsm 6643,
 * write_zeroes 6538, verify_cmd 7740), exactly, first; nvmectl's line
 * with the range after them, as copy's and write-uncor's (before:
 * nvmectl's own lines alone, "nvme0n1: flush complete", "...: success"). */
static void success_lines_are_nvme_clis(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "flush -n 1");
    assert_string_equal(out.text, "NVMe Flush: success\n");
    ok(&f, "flush -n 0xffffffff");
    assert_string_equal(out.text, "NVMe Flush: success\n");
    ok(&f, "dsm -n 1 --ad -s 0 -b 8");
    assert_string_equal(out.text, "NVMe DSM: success\n"
                                  "nvme0n1: dsm deallocate: 1 range(s), 8 block(s) (4096 bytes)\n");
    ok(&f, "write-zeroes -n 1 -s 8 -c 2");
    assert_string_equal(out.text, "NVME Write Zeroes Success\n"
                                  "nvme0n1: zeroed 2 block(s) at LBA 8 (1024 bytes)\n");
    ok(&f, "nvm-verify -n 1 -s 8 -c 2");
    assert_string_equal(out.text,
                        "NVME Verify Success\n"
                        "nvme0n1: verified (Verify command) 2 block(s) at LBA 8 (1024 bytes)\n");
    ok(&f, "write-zeroes -n 1 -s 8 -c 2 -o json"); /* one JSON value, no line before it */
    assert_int_equal(out.text[0], '{');
    fx_stop(&f);
}

/* nvme-cli 2.4's verify (verify_cmd) sends the NVM Verify command
 * (opcode 0Ch), which moves no data: `verify -n 1 -s 0 -c 7` leaves the
 * blocks as they were (before: verify was nvmectl's write/read-back
 * self-test and wrote its pattern over them).  nvm-verify is its other
 * name; write-verify is the self-test. */
static void verify_is_the_verify_command_and_leaves_the_data(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint8_t blk[512 * 8], pat[512 * 8];
    memset(pat, 0xa5, sizeof(pat));
    ok(&f, "write -n 1 -s 0 -c 8 -p 0xa5");
    uint64_t writes = st->writes, verifies = st->verifies;
    ok(&f, "verify -n 1 -s 0 -c 7");
    expect("NVME Verify Success");
    assert_int_equal(st->verifies, verifies + 1);
    assert_int_equal(st->writes, writes);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 0, 8, blk), 0);
    assert_memory_equal(blk, pat, sizeof(blk));
    ok(&f, "nvm-verify -n 1 -s 0 -c 7");
    expect("NVME Verify Success");
    assert_int_equal(st->verifies, verifies + 2);
    assert_int_equal(st->writes, writes);
    /* the self-test writes, reads back and compares; sends no Verify */
    ok(&f, "write-verify -n 1 -s 0 -c 7 -k 3");
    expect("nvme0n1: verify ok: 7 block(s) at LBA 0, 3584 bytes");
    assert_true(st->writes > writes);
    assert_int_equal(st->verifies, verifies + 2);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 0, 8, blk), 0);
    assert_memory_not_equal(blk, pat, 7 * 512);
    assert_memory_equal(blk + 7 * 512, pat, 512);
    fx_stop(&f);
}

/* CDW12 of the last I/O command of opcode `opc` the simulator traced. */
static unsigned long last_cdw12(struct fx *f, unsigned opc)
{
    char key[32];
    const char *log = nvme_sim_log_text(f->sim), *hit = NULL;
    snprintf(key, sizeof(key), "sqe opc=%02x cid=", opc);
    for (const char *p = log; (p = strstr(p, key)) != NULL; p++)
        if (!(p - log >= 4 && strncmp(p - 4, "sq0 ", 4) == 0))
            hit = p;
    if (hit == NULL)
        fail_msg("no opcode %02x sent:\n%s", opc, log);
    const char *c = strstr(hit, "cdw12=");
    assert_non_null(c);
    return strtoul(c + 6, NULL, 16);
}

/* nvme-cli 2.4's verify_cmd (and write_zeroes) letters: -p/--prinfo,
 * -r/--ref-tag, -a/--app-tag, -m/--app-tag-mask, -S/--storage-tag,
 * -C/--storage-tag-check.  -p's PRCHK bits go out in CDW12 29:26, so a
 * block whose data no longer match its guard fails the Verify that asks
 * for the check; the tags the core cannot send are refused, nothing sent
 * (before: every one of them an unknown option). */
static void verify_takes_nvme_clis_protection_information_options(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].ms = 8;
    f.ns[0].pi_type = 1; /* PI only: plain writes get PRACT */
    fx_start_captured(&f);
    nvme_ctrl_set_trace(f.ctrl, NVME_TRACE_SQE);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "write -n 1 -s 0 -c 8 -p 0x11");
    uint8_t blk[512];
    memset(blk, 0x22, sizeof(blk)); /* block 3's data changed, its PI not */
    assert_int_equal(nvme_sim_ns_write(f.sim, 1, 3, 1, blk), 0);
    nvme_sim_log_clear(f.sim);
    ok(&f, "verify -n 1 -s 0 -c 8"); /* no check asked for */
    assert_int_equal(last_cdw12(&f, 0x0c), 7);
    assert_int_not_equal(run(&f, "verify -n 1 -s 0 -c 8 -p 4"), 0); /* PRCHK guard */
    expect("Guard");
    assert_int_equal(last_cdw12(&f, 0x0c), (4ul << 26) | 7);
    uint64_t verifies = st->verifies;
    ok(&f, "verify -n 1 -s 4 -c 4 --prinfo=7 -r 4 -a 0x1234 -m 0 -S 0");
    expect("NVME Verify Success");
    assert_int_equal(last_cdw12(&f, 0x0c), (7ul << 26) | 3);
    ok(&f, "verify -n 1 -s 0 -c 3 -p 1 -f -l"); /* ref check, FUA, LR */
    assert_int_equal(last_cdw12(&f, 0x0c), (1ul << 26) | (3ul << 30) | 2);
    assert_int_equal(st->verifies, verifies + 2);
    /* PRACT (bit 3), a reference tag other than the one the core sends
     * (the SLBA's), a mask, a storage tag or its check: refused, nothing sent */
    uint64_t io_cmds = st->io_cmds;
    const char *bad[] = {"verify -n 1 -s 4 -c 4 -p 8",      "verify -n 1 -s 4 -c 4 -p 1 -r 5",
                         "verify -n 1 -s 4 -c 4 -m 0xffff", "verify -n 1 -s 4 -c 4 -S 1",
                         "verify -n 1 -s 4 -c 4 -C",        "write-zeroes -n 1 -s 4 -c 4 -r 0"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(run(&f, bad[i]), NVME_ERR_INVAL);
        expect("-p 0..7 (no PRACT), -r the -s LBA, -m and -S 0, no -C");
    }
    /* write-zeroes takes the letters; the core's Write Zeroes no PRCHK */
    assert_int_equal(run(&f, "write-zeroes -n 1 -s 4 -c 4 -p 4"), NVME_ERR_INVAL);
    assert_int_equal(st->io_cmds, io_cmds);
    fx_stop(&f);
}

static void write_zeroes_nvm_verify_compare_fua(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "write -n 1 -s 0 -c 8 -p 0x5a --fua");
    expect("wrote (FUA) 8 block(s)");
    assert_true(st->fua_writes >= 1);
    ok(&f, "write-zeroes -n 1 -s 0 -c 7");
    expect("nvme0n1: zeroed 7 block(s) at LBA 0 (3584 bytes)");
    uint8_t blk[512 * 8];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 0, 8, blk), 0);
    for (unsigned i = 0; i < 7 * 512; i++)
        assert_int_equal(blk[i], 0);
    assert_int_equal(blk[7 * 512], 0x5a);
    ok(&f, "write-zeroes -n 1 -s 100 -c 16 --deac -o json");
    assert_int_equal(jnum("nlb"), 16);
    assert_int_equal(jnum("bytes"), 8192);
    assert_int_equal(st->wz_deallocate, 1);
    ok(&f, "nvm-verify -n 1 -s 0 -c 8");
    expect("verified (Verify command) 8 block(s)");
    assert_int_equal(st->verifies, 1);
    ok(&f, "nvm-verify -n 1 -s 0 -c 8 -f"); /* nvme-cli's --force-unit-access */
    assert_int_equal(st->fua_verifies, 1);
    /* options of the shared tables a command does not use: refused, not
     * taken and dropped (nothing sent) */
    uint64_t io_cmds = st->io_cmds;
    assert_int_equal(run(&f, "nvm-verify -n 1 -s 0 -c 8 --deac"), NVME_ERR_INVAL);
    expect("nvmectl nvm-verify: --deac/-d is write-zeroes': a Verify has no DEAC\n");
    assert_int_equal(run(&f, "read -n 1 -s 0 -d out.bin"), NVME_ERR_INVAL);
    expect("nvmectl read: -p, -t, -f and -d are write's: read shows the data as a hex dump");
    assert_int_equal(run(&f, "read -n 1 -s 0 -p 0x11"), NVME_ERR_INVAL);
    assert_int_equal(run(&f, "read -n 1 -s 0 -t abc"), NVME_ERR_INVAL);
    assert_int_equal(st->io_cmds, io_cmds);
    ok(&f, "write -n 4 -s 3 -t HELLO");
    ok(&f, "compare -n 4 -s 3 -t HELLO -o json");
    assert_string_equal(jstr("result"), "success");
    assert_int_not_equal(run(&f, "compare -n 4 -s 3 -t WORLD"), 0);
    expect("nvme0n4: compare: Compare Failure");
    /* --fua and -l are sent (nvme-cli's compare has both; they were
     * taken and dropped): the Compare carries FUA */
    ok(&f, "compare -n 4 -s 3 -t HELLO --fua -l");
    assert_int_equal(st->fua_compares, 1);
    assert_int_equal(st->compares, 2);
    assert_int_not_equal(run(&f, "write-zeroes -n 4 -s 16384"), 0);
    expect("nvme0n4: write-zeroes:");
    fx_stop(&f);
}

/* write-uncor as nvme-cli 2.4's: -c is the command's 0-based NLB
 * (default 0: one block), -s defaults to 0, "NVME Write Uncorrectable
 * Success"; the blocks then fail read with Unrecovered Read Error, their
 * neighbours read; a write makes them readable; refused without ONCS
 * bit 1, nothing sent. */
static void write_uncor_counts_blocks_from_0_as_nvme_cli(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oncs |= NVME_ONCS_WRITE_UNC;
    f.ns[0].blocks = 262144;
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 4, .blocks = 16384, .lba_size = 4096};
    f.cfg.ns_count = 2;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "write -n 1 -s 0 -c 16 -p 0x5a");
    ok(&f, "write-uncor -n 1 -s 4 -c 1");
    expect("NVME Write Uncorrectable Success\n");
    expect("nvme0n1: made uncorrectable 2 block(s) at LBA 4 (1024 bytes)");
    assert_int_equal(st->uncor_blocks, 2);
    assert_int_not_equal(run(&f, "read -n 1 -s 5 -c 1"), 0);
    expect("Unrecovered Read Error (SCT 2 SC 81");
    assert_int_not_equal(run(&f, "read -n 1 -s 4 -c 1"), 0);
    ok(&f, "read -n 1 -s 3 -c 1");
    ok(&f, "read -n 1 -s 6 -c 1");
    ok(&f, "write -n 1 -s 4 -c 2 -p 0x11");
    ok(&f, "read -n 1 -s 0 -c 16");
    /* Defaults: -s 0, -c 0 (one block); JSON as the range commands'. */
    ok(&f, "write-uncor -n 4 -o json");
    assert_int_equal(jnum("slba"), 0);
    assert_int_equal(jnum("nlb"), 1);
    assert_int_equal(jnum("bytes"), 4096);
    assert_int_not_equal(run(&f, "read -n 4 -s 0 -c 1"), 0);
    ok(&f, "read -n 4 -s 1 -c 1");
    ok(&f, "write-uncor -n 1 -s 100 -c 65535");
    expect("made uncorrectable 65536 block(s) at LBA 100");
    uint64_t cmds = st->write_uncor;
    assert_int_equal(cmds, 3);
    assert_int_equal(run(&f, "write-uncor -n 1 -s 0 -c 65536"), NVME_ERR_INVAL);
    expect("-c is the 0-based block count, 0..65535");
    assert_int_not_equal(run(&f, "write-uncor -n 4 -s 16383 -c 1"), 0);
    expect("nvme0n4: write-uncor:");
    assert_int_not_equal(run(&f, "write-uncor -s 0"), 0);
    expect("-n NSID is required");
    assert_int_equal(st->write_uncor, cmds);
    fx_stop(&f);
    /* The default simulator, as QEMU 7.2: ONCS bit 1 clear. */
    start(&f);
    st = nvme_sim_stats(f.sim);
    assert_int_not_equal(run(&f, "write-uncor -n 1 -s 0"), 0);
    expect("nvme0n1: write-uncor: not supported");
    assert_int_equal(st->io_cmds, 0);
    fx_stop(&f);
}

static void unsupported_commands_are_named(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oncs = 0; /* no Compare, DSM, Write Zeroes, Verify */
    f.cfg.oacs = 0; /* no Format, Firmware, Self-test */
    f.cfg.nssrs = false;
    fx_start(&f);
    assert_int_not_equal(run(&f, "write-zeroes -n 1 -s 0 -c 7"), 0);
    expect("nvme0n1: write-zeroes: not supported");
    assert_int_not_equal(run(&f, "dsm -n 1 --ad -s 0 -b 8"), 0);
    expect("nvme0n1: dsm: not supported");
    assert_int_not_equal(run(&f, "nvm-verify -n 1 -s 0"), 0);
    expect("not supported");
    assert_int_not_equal(run(&f, "self-test-log"), 0);
    expect("nvme0: self-test-log: not supported");
    assert_int_not_equal(run(&f, "subsystem-reset --force"), 0);
    expect("nvme0: subsystem-reset: not supported");
    fx_stop(&f);
}

/* ---- management ------------------------------------------------------------------ */

/* format's --pil and --ms take 0 or 1, as nvme-cli 2.4's (OPT_BYTE): "--ms 1"
 * is extended metadata (CDW10 MSET bit 4), "--pil 1" PI in the first 8 bytes
 * (bit 8), 0 turns them off; a bare --ms or a 2 is a usage error. */
/* nvme-cli's letters: get-log -s LSP and -y CSI, set-feature -c CDW12 and
 * -V VALUE (nvme-cli 2.x; -v still works); before they were unknown
 * options, an nvme-cli command line refused. */
static void get_log_and_set_feature_take_nvme_clis_letters(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.lpa |= NVME_LPA_PERSISTENT_EVENT;
    f.cfg.oncs |= NVME_ONCS_WRITE_UNC; /* in CSI 0's effects, not CSI 2's */
    fx_start(&f);
    /* LSP 1 of the Persistent Event Log establishes the context: without
     * it the read is a Command Sequence Error */
    assert_int_not_equal(run(&f, "get-log -i 0xd -l 512"), 0);
    ok(&f, "get-log -i 0xd -l 512 -s 1 -o json");
    assert_memory_equal(jstr("data"), "0d", 2);
    /* CSI in CDW14: the effects of I/O opcode 04h (Write Uncorrectable),
     * byte 1024 + 16 of the log */
    const size_t at = (1024u + 4u * NVME_CMD_WRITE_UNCOR) * 2u;
    ok(&f, "get-log -i 5 -l 4096 -y 0 -o json");
    assert_memory_equal(jstr("data") + at, "03", 2);
    ok(&f, "get-log -i 5 -l 4096 -y 2 -o json");
    assert_memory_equal(jstr("data") + at, "00", 2);
    ok(&f, "set-feature -f 4 -V 340 -c 0 -o json");
    assert_int_equal(jnum("value"), 340);
    ok(&f, "get-feature -f 4 -H");
    expect("(TMPTH): 67 C (340 K)\n");
    ok(&f, "set-feature -f 6 -v 1 -c 0x5 -o json");
    assert_int_equal(jnum("cdw12"), 5);
    fx_stop(&f);
}

/* Fields nvme-cli prints in another base than nvmectl did: id-ns NMIC
 * ("%#x", was decimal) and each format's RP ("%#x": 0x1, was 1); id-ctrl
 * ANACAP ("%d", was hex).  Identify data of pseudo-random bytes (the same
 * seed twice: the same bytes for the JSON and the text) gives values other
 * than 0 to compare. */
static void id_ns_nmic_rp_and_id_ctrl_anacap_in_nvme_clis_base(void **state)
{
    (void)state;
    struct fx f;
    char line[64];
    start(&f);
    fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, 7, 2);
    ok(&f, "id-ns -n 1 -o json");
    unsigned long long nmic = jnum("nmic");
    unsigned rps[64], nrp = 0;
    for (; nrp < 64; nrp++) {
        char path[32];
        snprintf(path, sizeof(path), "lbafs.%u.rp", nrp);
        const char *v = json_get(path);
        if (v == NULL)
            break;
        rps[nrp] = (unsigned)strtoul(v, NULL, 10);
    }
    ok(&f, "id-ns -n 1");
    assert_int_not_equal(nmic, 0);
    snprintf(line, sizeof(line), "nmic    : %#llx\n", nmic);
    expect(line);
    bool nonzero = false;
    for (unsigned i = 0; i < nrp; i++) {
        snprintf(line, sizeof(line), "lbaf %2u : ", i);
        const char *at = strstr(out.text, line);
        assert_non_null(at);
        snprintf(line, sizeof(line), rps[i] != 0 ? " rp:%#x" : " rp:0", rps[i]);
        const char *eol = strchr(at, '\n');
        const char *rp = strstr(at, " rp:");
        assert_true(rp != NULL && rp < eol);
        assert_memory_equal(rp, line, strlen(line));
        nonzero |= rps[i] != 0;
    }
    assert_true(nrp > 0 && nonzero);
    /* the first seed whose ANACAP reads differently in decimal and hex */
    unsigned long long anacap = 0;
    for (uint32_t seed = 1; seed < 100 && anacap <= 9; seed++) {
        fx_inject(&f, NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, seed, 2);
        ok(&f, "id-ctrl -o json");
        anacap = jnum("anacap");
        ok(&f, "id-ctrl");
    }
    assert_true(anacap > 9);
    snprintf(line, sizeof(line), "anacap    : %llu\n", anacap);
    expect(line);
    fx_stop(&f);
}

static void format_pil_and_ms_take_a_value(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nsid = 1;
    f.ns[0].blocks = 4096;
    f.ns[0].ms = 8; /* formats 512, 4096, 512+8, 4096+8 */
    f.cfg.ns_count = 1;
    fx_start(&f);
    ok(&f, "format -n 1 --lbaf 2 --pi 1 --pil 1 --ms 1 --force");
    ok(&f, "id-ns -n 1");
    expect("flbas   : 0x12\n");
    expect("dps     : 0x9\n");
    ok(&f, "format -n 1 --lbaf 2 --pi 1 --pil 0 --ms 0 --force");
    ok(&f, "id-ns -n 1");
    expect("flbas   : 0x2\n");
    expect("dps     : 0x1\n");
    assert_int_not_equal(run(&f, "format -n 1 --lbaf 2 --ms 2 --force"), 0);
    expect("--pil and --ms 0 or 1");
    assert_int_not_equal(run(&f, "format -n 1 --lbaf 2 --force --ms"), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->formats, 2);
    fx_stop(&f);
}

/* SES 3..7 and PI 4..7 are reserved (Format NVM CDW10) and an LBA format
 * past NLBAF does not exist: refused with the range, before --force and
 * with nothing sent (before: "0..7" accepted, then the core's bare
 * "format: invalid argument"). */
static void format_reserved_values_are_refused_with_their_range(void **state)
{
    (void)state;
    struct fx f;
    start(&f); /* namespace 1: formats 512 and 4096, NLBAF 1 */
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(run(&f, "format -n 1 --ses 3 --force"), NVME_ERR_INVAL);
    expect("--ses 0..2 (3..7 reserved)");
    expect_not("invalid argument");
    assert_int_equal(run(&f, "format -n 1 --pi 4 --force"), NVME_ERR_INVAL);
    expect("--pi 0..3 (4..7 reserved)");
    assert_int_equal(run(&f, "format -n 1 --lbaf 5 --force"), NVME_ERR_INVAL);
    expect("nvme0n1 has LBA formats 0..1: no --lbaf 5");
    /* before --force: the range, not "add --force" */
    assert_int_equal(run(&f, "format -n 1 --ses 7"), NVME_ERR_INVAL);
    expect("--ses 0..2");
    expect_not("add --force");
    assert_int_equal(st->formats, 0);
    ok(&f, "format -n 1 --lbaf 1 --ses 2 --pi 0 --force"); /* the top of each range */
    assert_int_equal(st->formats, 1);
    fx_stop(&f);
}

/* nvme-cli 2.4's format -b/--block-size (the format of that data size
 * and no metadata, here of all NLBAF + 1: nvme-cli's loop misses the
 * last) and -r/--reset (a controller reset after the format); before:
 * both unknown options. */
static void format_takes_block_size_and_reset(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nlbaf = 4; /* 512 (in use), 4096, 1024, 2048, 8192: sim_ns_formats */
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t resets = st->resets;
    ok(&f, "format -n 1 -b 8192 --force"); /* format 4, the last */
    expect("Success formatting namespace:1");
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 8192);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->format, 4);
    assert_int_equal(st->resets, resets);
    ok(&f, "format -n 1 --block-size=2048 -r --force");
    expect("Success formatting namespace:1");
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 2048);
    assert_int_equal(st->resets, resets + 1);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    /* refused with nvme-cli's messages, nothing formatted */
    uint64_t formats = st->formats;
    assert_int_equal(run(&f, "format -n 1 -b 4096 --lbaf 1 --force"), NVME_ERR_INVAL);
    expect("Invalid specification of both LBAF and Block Size, please specify only one\n");
    assert_int_equal(run(&f, "format -n 1 -b 3000 --force"), NVME_ERR_INVAL);
    expect("Invalid value for block size (3000)");
    assert_int_equal(run(&f, "format -n 1 -b 65536 --force"), NVME_ERR_INVAL);
    expect("LBAF corresponding to block size 65536 not found\n"
           "Please correct block size, or specify LBAF directly\n");
    assert_int_equal(st->formats, formats);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 2048);
    fx_stop(&f);
}

/* format -b (and create-ns -b, the same search) takes the unique
 * capability formats Identify Namespace byte 82 (NULBAF, NVM CS 1.0
 * Figure 97) lists after NLBAF, as the core formats to them (row 35jf);
 * -l takes them too, and stops at NLBAF + NULBAF (before: -b searched
 * formats 0..NLBAF only: "LBAF corresponding to block size 32768 not
 * found"). */
static void format_block_size_finds_the_unique_capability_formats(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nlbaf = 7; /* 512 (in use), 4096, 1024, 2048, 8192, 16384 | 32768, 65536 */
    f.ns[0].nulbaf = 2;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "id-ns -n 1 -o json");
    assert_int_equal(jnum("nlbaf"), 5);
    assert_int_equal(jnum("nulbaf"), 2);
    ok(&f, "format -n 1 -b 32768 --force"); /* format 6: the first unique one */
    expect("Success formatting namespace:1");
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->format, 6);
    ok(&f, "format -n 1 --lbaf 7 --force"); /* the last one */
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->format, 7);
    ok(&f, "format -n 1 -b 512 --force");
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->format, 0);
    uint64_t formats = st->formats;
    assert_int_equal(run(&f, "format -n 1 --lbaf 8 --force"), NVME_ERR_INVAL);
    expect("nvme0n1 has LBA formats 0..7: no --lbaf 8");
    assert_int_equal(run(&f, "format -n 1 -b 131072 --force"), NVME_ERR_INVAL);
    expect("LBAF corresponding to block size 131072 not found\n");
    assert_int_equal(st->formats, formats);
    fx_stop(&f);
}

/* format's success line as nvme-cli 2.4's (nvme.c format()):
 *   printf("Success formatting namespace:%x\n", cfg.namespace_id);
 * the NSID in hex, every namespace as ffffffff (before: "nvme0n1: format
 * with LBA format 1, ses 0, pi 0: success"). */
static void format_success_line_is_nvme_clis(void **state)
{
    (void)state;
    struct fx f;
    start(&f); /* namespace 1: formats 512 and 4096 */
    ok(&f, "format -n 1 --lbaf 1 --force");
    assert_string_equal(out.text, "Success formatting namespace:1\n");
    ok(&f, "format -n 0xffffffff --force");
    assert_string_equal(out.text, "Success formatting namespace:ffffffff\n");
    ok(&f, "format -n 1 --force -o json");
    assert_string_equal(jstr("result"), "success");
    fx_stop(&f);
}

/* sanitize-log as nvme-cli 2.4's nvme_show_sanitize_log (nvme-print.c):
 *   printf("Sanitize Status                        (SSTAT) :  %#x\n",
 *          le16_to_cpu(sanitize->sstat) & NVME_SANITIZE_SSTAT_STATUS_MASK);
 *   if (human) nvme_show_sanitize_log_sstat(...);
 *   nvme_show_estimate_sanitize_time("Estimated Time For Block Erase                 ", ...);
 *   nvme_show_estimate_sanitize_time("Estimated Time For Block Erase (No-Deallocate) ", ...);
 * SSTAT is its status bits 2:0 alone, the bits decoded only with -H, and
 * the labels say "Block Erase" (before: SSTAT 0x101 whole, the decoding
 * always, "Block Erasure"). */
static void sanitize_log_text_is_nvme_cli_2_4s(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "sanitize -a block --force");
    ok(&f, "sanitize-log");
    assert_string_equal(
        out.text,
        "Sanitize Progress                      (SPROG) :  65535\n"
        "Sanitize Status                        (SSTAT) :  0x1\n"
        "Sanitize Command Dword 10 Information (SCDW10) :  0x2\n"
        "Estimated Time For Overwrite                   :  4294967295 (No time period reported)\n"
        "Estimated Time For Block Erase                 :  4294967295 (No time period reported)\n"
        "Estimated Time For Crypto Erase                :  4294967295 (No time period reported)\n"
        "Estimated Time For Overwrite (No-Deallocate)   :  0\n"
        "Estimated Time For Block Erase (No-Deallocate) :  0\n"
        "Estimated Time For Crypto Erase (No-Deallocate):  0\n");
    ok(&f, "sanitize-log -H");
    expect("Sanitize Status                        (SSTAT) :  0x1\n\t[2:0]\t");
    fx_stop(&f);
}

/* FNA bit 0 (NVMe 2.0 Figure 275): a format of one namespace formats
 * every namespace, so nvme-cli's format() reads FNA and formats all.
 * What --force confirms says so; the NSID goes out as given (a
 * controller with FNA bit 3 takes no FFFFFFFFh) and every namespace is
 * formatted (before: "erases all data of nvme0n1" while namespace 4 went
 * too). */
static void format_under_fna_bit_0_says_every_namespace_goes(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nsid = 1;
    f.ns[0].blocks = 1024;
    f.ns[1].nsid = 4;
    f.ns[1].blocks = 1024;
    f.cfg.ns_count = 2;
    f.cfg.fna |= NVME_FNA_FORMAT_ALL;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_not_equal(run(&f, "format -n 1"), 0);
    expect("refused: this erases every namespace of nvme0 (FNA bit 0: a format of one formats "
           "all); add --force");
    assert_int_equal(st->formats, 0);
    ok(&f, "write -n 4 -s 3 -p 0x77");
    ok(&f, "format -n 1 --force");
    assert_string_equal(out.text, "Success formatting namespace:1\n");
    uint8_t blk[512];
    assert_int_equal(nvme_sim_ns_read(f.sim, 4, 3, 1, blk), 0);
    assert_int_equal(blk[0], 0); /* namespace 4 formatted too */
    fx_stop(&f);
}

static void destructive_commands_need_force(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_not_equal(run(&f, "format -n 1"), 0);
    expect("refused: this erases all data of nvme0n1; add --force");
    assert_int_not_equal(run(&f, "sanitize -a block"), 0);
    expect("add --force");
    assert_int_not_equal(run(&f, "fw-commit -s 2 -a 1"), 0);
    expect("add --force");
    assert_int_not_equal(run(&f, "subsystem-reset"), 0);
    expect("add --force");
    assert_int_equal(st->formats + st->sanitizes + st->fw_commits + st->nssrs, 0);

    ok(&f, "write -n 1 -s 5 -p 0x77");
    ok(&f, "format -n 1 --ses 1 --force -o json");
    assert_string_equal(jstr("result"), "success");
    assert_int_equal(st->formats, 1);
    uint8_t blk[512];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 5, 1, blk), 0);
    assert_int_equal(blk[0], 0);
    ok(&f, "sanitize -a block --force");
    expect("sanitize started");
    assert_int_equal(st->sanitizes, 1);
    ok(&f, "get-log -i 0x81 -l 512 -o json");
    /* -o json as nvme-cli 2.4's json_sanitize_log: an object under the
     * device's name, SSTAT's fields in an "sstat" object (global_erased,
     * no_cmplted_passes, status "(N) words"); before: flat keys, "sstat"
     * the number, "global_data_erased", "overwrite_passes" */
    ok(&f, "sanitize-log -o json");
    assert_int_equal(jnum("nvme0.sprog"), 0xffff);
    assert_int_equal(jnum("nvme0.sstat.global_erased"), 1);
    assert_int_equal(jnum("nvme0.sstat.no_cmplted_passes"), 0);
    assert_string_equal(jstr("nvme0.sstat.status"),
                        "(1) Most recent sanitize operation completed successfully");
    assert_int_equal(jnum("nvme0.cdw10_info") & 7, NVME_SANACT_BLOCK);
    assert_int_equal(jnum("nvme0.time_over_write"), 0xffffffffu);
    assert_int_equal(jnum("nvme0.time_crypto_erase"), 0xffffffffu);
    assert_null(json_get("sprog"));
    assert_null(json_get("nvme0.global_data_erased"));
    ok(&f, "sanitize-log -H");
    expect("Sanitize Status                        (SSTAT) :  0x1\n"
           "\t[2:0]\tMost recent sanitize operation completed successfully\n");
    expect(
        "Estimated Time For Overwrite                   :  4294967295 (No time period reported)");
    expect("\t  [8]\tGlobal Data Erased: yes");
    /* Exit Failure Mode (SANACT 001b) starts no sanitize operation. */
    ok(&f, "sanitize -a exit-failure");
    if (strstr(out.text, "sanitize started") != NULL)
        fail_msg("exit-failure reported as a started sanitize:\n%s", out.text);
    expect("exit failure mode");
    assert_int_not_equal(run(&f, "sanitize -a shred --force"), 0);
    expect("-a is exit-failure, block, overwrite or crypto");
    /* overwrite's options with another action, AUSE / No-Deallocate with
     * exit-failure: refused as nvme-cli, nothing sent (they were sent,
     * for the controller to ignore) */
    uint64_t sent = st->admin_cmds;
    assert_int_equal(run(&f, "sanitize -a block --owpass 3 --force"), NVME_ERR_INVAL);
    expect("nvmectl sanitize: --owpass, --oipbp and --ovrpat are overwrite's\n");
    assert_int_equal(run(&f, "sanitize -a crypto --ovrpat 0x5a5a --force"), NVME_ERR_INVAL);
    assert_int_equal(run(&f, "sanitize -a block --oipbp --force"), NVME_ERR_INVAL);
    assert_int_equal(run(&f, "sanitize -a exit-failure --ause"), NVME_ERR_INVAL);
    expect("nvmectl sanitize: --ause and --no-dealloc start a sanitize: not with exit-failure\n");
    assert_int_equal(run(&f, "sanitize -a exit-failure --no-dealloc"), NVME_ERR_INVAL);
    assert_int_equal(st->admin_cmds, sent);
    /* nvme-cli's letters (sanitize_cmd): -n OWPASS, -p the Overwrite
     * Pattern, -i OIPBP, -d No-Deallocate, -u AUSE; -p on another action
     * is refused as --ovrpat is, -n above 15 as OWPASS is 4 bits.  Before:
     * -p was OWPASS, -n and -d unknown options. */
    assert_int_equal(run(&f, "sanitize -a block -p 5 --force"), NVME_ERR_INVAL);
    expect("are overwrite's");
    assert_int_equal(run(&f, "sanitize -a overwrite -n 16 --force"), NVME_ERR_INVAL);
    expect("--owpass is 0..15");
    assert_int_equal(st->admin_cmds, sent);
    ok(&f, "sanitize -a overwrite -u -n 3 -i -d -p 0x5a5a5a5a --force");
    ok(&f, "sanitize-log -o json");
    assert_int_equal(jnum("nvme0.cdw10_info"), 3u | 8u | (3u << 4) | (1u << 8) | (1u << 9));

    /* firmware: download a buffer, commit it to slot 2, activate */
    ok(&f, "fw-download -t FWNEW001");
    expect("firmware download: 8 bytes at offset 0: success");
    int rc = run(&f, "fw-commit -s 2 -a 3 --force");
    (void)rc;
    assert_int_equal(st->fw_commits, 1);
    assert_string_equal(nvme_sim_fw_slot(f.sim, 2), "FWNEW001");
    ok(&f, "fw-log -o json");
    assert_non_null(strstr(jstr("nvme0.Firmware Rev Slot 2"), "(FWNEW001)"));
    /* --xfer: pieces of that many bytes (nvme-cli's), here 2 of 4. */
    uint64_t dl = st->fw_downloads;
    ok(&f, "fw-download -t FWNEW002 --xfer 4");
    expect("firmware download: 8 bytes at offset 0: success");
    assert_int_equal(st->fw_downloads - dl, 2);
    (void)run(&f, "fw-commit -s 3 -a 1 --force");
    assert_string_equal(nvme_sim_fw_slot(f.sim, 3), "FWNEW002");
    assert_int_not_equal(run(&f, "fw-download -t FWNEW003 --xfer 6"), 0);
    expect("--xfer must be a multiple of 4");
    assert_int_not_equal(run(&f, "fw-download -t FWNEW003 --offset 4294967292"), 0);
    expect("the image end below 4 GiB");
    assert_int_not_equal(run(&f, "fw-download -t FWNEW003 --offset 0x3fffffff"), 0);
    expect("the image end below 4 GiB");
    assert_int_equal(st->fw_downloads - dl, 2);
    /* --offset counts dwords, as nvme-cli 2.4's ("starting dword offset",
     * cfg.offset <<= 2): the image's second half at dword 1 is byte 4
     * (before: bytes, so nvme-cli's -o 1 was refused and -o 4 went to
     * byte 4 instead of 16) */
    ok(&f, "fw-download -t FWNE");
    ok(&f, "fw-download -t W004 --offset 1");
    expect("firmware download: 4 bytes at offset 4: success");
    (void)run(&f, "fw-commit -s 3 -a 1 --force");
    assert_string_equal(nvme_sim_fw_slot(f.sim, 3), "FWNEW004");
    assert_int_not_equal(run(&f, "fw-download -f image.bin"), 0);
    expect("this host has no files");
    assert_int_not_equal(run(&f, "fw-commit -s 9 -a 1 --force"), 0);
    expect("-s SLOT is 0..7");
    /* Commit Actions 4 and 5 are reserved: refused, nothing sent (as
     * nvme-cli; they went to the device) */
    uint64_t admin = st->admin_cmds;
    assert_int_equal(run(&f, "fw-commit -s 1 -a 4 --force"), NVME_ERR_INVAL);
    expect("nvmectl fw-commit: -s SLOT is 0..7, -a ACTION 0..3, 6 or 7 (4 and 5 are reserved), "
           "-b BPID 0 or 1\n");
    assert_int_equal(run(&f, "fw-commit -s 1 -a 5 --force"), NVME_ERR_INVAL);
    assert_int_equal(st->admin_cmds, admin);

    ok(&f, "reset -o json");
    assert_string_equal(jstr("result"), "success");
    ok(&f, "subsystem-reset --force");
    expect("NVM subsystem reset: success");
    assert_int_equal(st->nssrs, 1);
    ok(&f, "read -n 1 -s 0");
    fx_stop(&f);
}

/* fw-commit's options as nvme-cli 2.4's (nvme.c fw_commit()):
 *   struct config cfg = { .slot = 0, .action = 0, .bpid = 0, };
 *   OPT_BYTE("bpid",   'b', &cfg.bpid,   bpid),
 *   if (cfg.bpid > 1) { fprintf(stderr, "invalid boot partition id:%d\n", cfg.bpid);
 * -a defaults to 0 (replace, no activation) and -b takes the Boot
 * Partition ID as a value (before: -a required, and -b a flag, so
 * nvme-cli's "-b 1" or "-b 0" was an unexpected argument). */
static void fw_commit_takes_nvme_clis_action_default_and_bpid_value(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "fw-download -t FWNEW009");
    ok(&f, "fw-commit -s 2 --force"); /* action 0: replace */
    assert_int_equal(st->fw_commits, 1);
    assert_string_equal(nvme_sim_fw_slot(f.sim, 2), "FWNEW009");
    /* -b BPID: sent (the simulator has no boot partitions: Invalid Field) */
    uint64_t admin = st->admin_cmds;
    int rc = run(&f, "fw-commit -s 0 -a 6 -b 1 --force");
    assert_true(rc > 0);
    expect("fw-commit: Invalid Field in Command");
    expect_not("unexpected argument");
    assert_true(st->admin_cmds > admin);
    admin = st->admin_cmds;
    rc = run(&f, "fw-commit -s 0 -a 7 -b 0 --force");
    assert_true(rc > 0);
    assert_true(st->admin_cmds > admin);
    admin = st->admin_cmds;
    /* above 1: refused, nothing sent */
    assert_int_equal(run(&f, "fw-commit -s 0 -a 6 -b 2 --force"), NVME_ERR_INVAL);
    expect("-b BPID 0 or 1");
    assert_int_equal(st->admin_cmds, admin);
    fx_stop(&f);
}

/* nvme-cli 2.4's fw-download -p is --progress, a flag (taken here, its
 * transfer line not printed); the fill byte is --pattern alone.  Before:
 * -p took the fill byte, so nvme-cli's `fw-download -p -t X` read "-t"
 * as its value. */
static void fw_download_p_is_nvme_clis_progress(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "fw-download -p -t FWNEW0P1");
    expect("firmware download: 8 bytes at offset 0: success");
    (void)run(&f, "fw-commit -s 2 -a 3 --force");
    assert_string_equal(nvme_sim_fw_slot(f.sim, 2), "FWNEW0P1");
    ok(&f, "fw-download --progress --pattern 0x41 -l 8");
    expect("firmware download: 8 bytes at offset 0: success");
    (void)run(&f, "fw-commit -s 2 -a 3 --force");
    assert_string_equal(nvme_sim_fw_slot(f.sim, 2), "AAAAAAAA");
    /* -p takes no value: the old `-p BYTE` is refused, nothing sent */
    uint64_t dl = st->fw_downloads;
    assert_int_not_equal(run(&f, "fw-download -p 0x41 -l 8"), 0);
    assert_int_equal(st->fw_downloads, dl);
    fx_stop(&f);
}

/* nvme-cli 2.4's create-ns -a/--anagrp-id and -i/--nvmset-id: ANAGRPID
 * (bytes 95:92) and NVMSETID (101:100) of the host's Identify Namespace
 * data (Host Software Specified Fields, NVM CS 1.0 Figure 105), 0 when
 * not given; wider values refused, nothing sent.  Before: unknown
 * options. */
static void create_ns_takes_anagrp_id_and_nvmset_id(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oacs |= NVME_OACS_NS_MGMT;
    f.cfg.nn = 8;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "create-ns -s 2048 -f 0 -a 3 -i 2");
    expect("create-ns: Success, created nsid:2");
    assert_int_equal(st->ns_create_anagrpid, 3);
    assert_int_equal(st->ns_create_nvmsetid, 2);
    ok(&f, "create-ns -s 2048 -f 0 --anagrp-id=0xfffffffe --nvmset-id=0xffff");
    assert_int_equal(st->ns_create_anagrpid, 0xfffffffe);
    assert_int_equal(st->ns_create_nvmsetid, 0xffff);
    ok(&f, "create-ns -s 2048 -f 0");
    assert_int_equal(st->ns_create_anagrpid, 0);
    assert_int_equal(st->ns_create_nvmsetid, 0);
    uint64_t creates = st->ns_creates;
    assert_int_equal(run(&f, "create-ns -s 2048 -f 0 -i 0x10000"), NVME_ERR_INVAL);
    assert_int_equal(run(&f, "create-ns -s 2048 -f 0 -a 0x100000000"), NVME_ERR_INVAL);
    expect("-a 32 bits, -i 16");
    assert_int_equal(st->ns_creates, creates);
    fx_stop(&f);
}

/* A Firmware Commit that completes with "Firmware Activation Requires
 * ... Reset" (NVMe 2.0 §5.12, SCT 1h SC 0Bh, 10h, 11h) committed the image;
 * the message says which reset activates it, as nvme-cli names the reset
 * type: `reset` (a Controller Level Reset) only for 11h, `subsystem-reset`
 * for 10h, and for 0Bh a Conventional Reset (power cycle or PCIe reset)
 * that nvmectl does not do.  It told all three to run `nvmectl reset`. */
static void fw_commit_names_the_reset_the_status_asks_for(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    static const struct {
        uint8_t sc;
        const char *want;
    } cases[] = {{0x11, "(nvmectl reset)"},
                 {0x10, "(nvmectl subsystem-reset --force)"},
                 {0x0b, "(a power cycle or PCIe reset; nvmectl cannot do it)"}};
    for (unsigned i = 0; i < 3; i++) {
        struct nvme_sim_fault st = {NVME_SIM_FAULT_STATUS,
                                    0,
                                    NVME_ADMIN_FW_COMMIT,
                                    NVME_SIM_ANY,
                                    NVME_SF(1, cases[i].sc),
                                    0,
                                    1};
        assert_int_equal(nvme_sim_inject(f.sim, &st), 0);
        assert_int_not_equal(run(&f, "fw-commit -s 2 -a 1 --force"), 0);
        expect(cases[i].want);
        if (cases[i].sc != 0x11 && strstr(out.text, "(nvmectl reset)") != NULL)
            fail_msg("SC %02x: a controller reset does not activate it:\n%s", cases[i].sc,
                     out.text);
        nvme_sim_clear_faults(f.sim);
    }
    fx_stop(&f);
}

/* ---- zoned namespaces ------------------------------------------------------------- */

static void zns_report_send_append(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nsid = 1;
    f.ns[0].blocks = 1024;
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 256;
    fx_start(&f);
    ok(&f, "zns report-zones -n 1 -o json");
    assert_int_equal(jnum("nr_zones"), 4);
    assert_int_equal(jnum("zone_list.1.slba"), 256);
    assert_string_equal(jstr("zone_list.0.state"), "EMPTY");
    assert_string_equal(jstr("zone_list.0.type"), "SEQWRITE_REQ");
    ok(&f, "zone-append -n 1 -s 256 -c 2 -p 0x11 -o json");
    assert_int_equal(jnum("lba"), 256);
    ok(&f, "zone-append -n 1 -s 256 -c 1 -t Z");
    expect("written at LBA 0x102");
    ok(&f, "report-zones -n 1 -s 256 -d 1");
    expect("nr_zones: 1");
    expect("WP: 0x103");
    expect("IMP_OPENED");
    ok(&f, "zns zone-mgmt-send -n 1 -s 256 -z finish");
    uint8_t zs;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 256, &zs, &wp), 0);
    assert_int_equal(zs, NVME_ZS_FULL);
    ok(&f, "zone-mgmt-send -n 1 -s 0 -z reset -a");
    assert_int_equal(nvme_sim_zone(f.sim, 1, 256, &zs, &wp), 0);
    assert_int_equal(zs, NVME_ZS_EMPTY);
    ok(&f, "zone-mgmt-send -n 1 -s 512 -z open -o json");
    assert_int_equal(nvme_sim_zone(f.sim, 1, 512, &zs, &wp), 0);
    assert_int_equal(zs, NVME_ZS_EXPLICIT_OPEN);
    assert_int_not_equal(run(&f, "zone-mgmt-send -n 1 -s 0 -z explode"), 0);
    expect("-z is open, close, finish, reset or offline");
    assert_int_not_equal(run(&f, "write -n 1 -s 700 -p 1"), 0);
    expect("nvme0n1: write: Zone Invalid Write");
    fx_stop(&f);
}

/* More zones than one Report Zones fits in MDTS (8 KiB: 127 descriptors):
 * reported in as many commands as it takes, as nvme-cli's report-zones
 * does, not cut at the first command's worth. */
static void zns_report_spans_several_commands(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1;
    f.ns[0].nsid = 1;
    f.ns[0].blocks = 1024;
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 4;
    fx_start(&f);
    ok(&f, "report-zones -n 1 -o json");
    assert_int_equal(jnum("nr_zones"), 256);
    assert_int_equal(jnum("zone_list.200.slba"), 800);
    ok(&f, "report-zones -n 1 -s 400 -d 200 -o json");
    assert_int_equal(jnum("nr_zones"), 156);
    assert_int_equal(jnum("zone_list.155.slba"), 1020);
    ok(&f, "report-zones -n 1 -s 8 -d 130");
    expect("nr_zones: 130");
    fx_stop(&f);
}

/* report-zones' output of 2048 zones is past fx_out's 64 KiB: the head
 * kept, every zone line counted (one print each), the last one seen. */
struct zone_lines {
    unsigned n;
    bool last;
};
static void zone_lines_print(void *arg, const char *s)
{
    struct zone_lines *z = arg;
    if (strncmp(s, "SLBA: ", 6) == 0) {
        z->n++;
        z->last = z->last || strncmp(s, "SLBA: 0x1ffc ", 13) == 0;
    } else {
        fx_print(&out, s);
    }
}

/* nvmectl.h asks for a dword-aligned scratch buffer; nvmectl starts its
 * structures on the next 8-byte boundary.  report-zones sized its
 * descriptor array from the whole buffer, so a 64 KiB buffer 4 bytes into
 * a page (1024 descriptors' worth, 1023 after the 4 skipped bytes) failed
 * with "needs a scratch buffer of 65540 bytes" instead of reporting (all
 * 2048 zones, a bufferful at a time: test_nvmectl_zns.c). */
static void zns_report_fits_a_dword_aligned_scratch_buffer(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nsid = 1;
    f.ns[0].blocks = 8192;
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 4; /* 2048 zones */
    fx_start(&f);
    static uint8_t page[65536 + 4096] __attribute__((aligned(4096)));
    struct zone_lines z = {0, false};
    struct nvmectl_io io = {zone_lines_print, &z, page + 4, 65536, NULL, "nvme0", NULL, NULL};
    char line[] = "report-zones -n 1";
    out.len = 0;
    out.text[0] = '\0';
    int rc = nvmectl_run_line(f.ctrl, &io, line);
    if (rc != 0)
        fail_msg("report-zones with a 64 KiB buffer at +4 returned %d:\n%.400s", rc, out.text);
    expect("nr_zones: 2048");
    assert_int_equal(z.n, 2048); /* every zone (the output was cut at 64 KiB, unseen) */
    assert_true(z.last);         /* the last one, SLBA 8188 */
    fx_stop(&f);
}

static void zns_commands_refuse_plain_namespaces(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_not_equal(run(&f, "report-zones -n 1"), 0);
    expect("nvme0n1: report-zones: not supported");
    fx_stop(&f);
}

/* ---- every command speaks JSON; usage errors -------------------------------------- */

/* get-feature -H, Temperature Threshold (NVMe 1.4 §5.21.1.4): THSEL,
 * Dword 0 bits 21:20, is 00b over, 01b under, 10b and 11b reserved; a
 * controller answering a reserved one (the simulator echoes the THSEL
 * asked) was shown as an under-temperature threshold.  nvme-cli names it
 * "Reserved". */
static void get_feature_h_names_a_reserved_threshold_type(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    ok(&f, "get-feature -f 4 -c 0x100000 -H");
    expect("\tThreshold Type Select         (THSEL): 1 - Under Temperature Threshold\n");
    ok(&f, "get-feature -f 4 -c 0x200000 -H");
    expect("get-feature:0x04 (Temperature Threshold), Current value:0x0020");
    expect("\tThreshold Type Select         (THSEL): 2 - Reserved\n");
    ok(&f, "get-feature -f 4 -c 0x300000 -H");
    expect("\tThreshold Type Select         (THSEL): 3 - Reserved\n");
    fx_stop(&f);
}

/* Feature names as nvme-cli 2.4's nvme_feature_to_string() (nvme-print.c)
 * gives them to get-feature's "get-feature:%#0*x (%s), ..." line:
 *   case NVME_FEAT_FID_LBA_STS_INTERVAL:	return "LBA Status Interval";
 *   case NVME_FEAT_FID_HOST_BEHAVIOR:	return "Host Behavior";
 *   case NVME_FEAT_FID_SANITIZE:	return "Sanitize";
 *   case NVME_FEAT_FID_ENDURANCE_EVT_CFG:	return "Endurance Event Group Configuration";
 *   case NVME_FEAT_FID_SPINUP_CONTROL:	return "Spinup Control";
 *   case NVME_FEAT_FID_SW_PROGRESS:	return "Software Progress";
 *   case NVME_FEAT_FID_WRITE_PROTECT:	return "Namespace Write Protect";
 * (before: "Host Behavior Support", "Sanitize Config", "Endurance Group
 * Event Configuration", "Software Progress Marker", "Namespace Write
 * Protection Config", and 15h and 1Ah "Unknown"); and
 *   case NVME_FEAT_FID_ENH_CTRL_METADATA:	return "Enhanced Controller Metadata";
 *   case NVME_FEAT_FID_CTRL_METADATA:	return "Controller Metadata";
 *   case NVME_FEAT_FID_NS_METADATA: return "Namespace Metadata";
 *   case NVME_FEAT_FID_FDP:		return "Flexible Direct Placement";
 *   case NVME_FEAT_FID_FDP_EVENTS:	return "Flexible Direct Placement Events";
 * (before: "Unknown" for all five). */
static void get_feature_names_are_nvme_clis(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    ok(&f, "get-feature -f 0x16");
    expect("get-feature:0x16 (Host Behavior), Current value:");
    static const struct {
        const char *cmd, *name;
    } names[] = {{"get-feature -f 0x15", "(LBA Status Interval)"},
                 {"get-feature -f 0x17", "(Sanitize)"},
                 {"get-feature -f 0x18", "(Endurance Event Group Configuration)"},
                 {"get-feature -f 0x1a", "(Spinup Control)"},
                 {"get-feature -f 0x80", "(Software Progress)"},
                 {"get-feature -f 0x1d", "(Flexible Direct Placement)"},
                 {"get-feature -f 0x1e", "(Flexible Direct Placement Events)"},
                 {"get-feature -f 0x7d", "(Enhanced Controller Metadata)"},
                 {"get-feature -f 0x7e", "(Controller Metadata)"},
                 {"get-feature -f 0x7f", "(Namespace Metadata)"},
                 {"get-feature -f 0x84 -n 1", "(Namespace Write Protect)"}};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        (void)run(&f, names[i].cmd); /* read or refused: either line names it */
        expect(names[i].name);
    }
    fx_stop(&f);
}

/* get-feature -H, Arbitration (NVMe 1.4 §5.21.1.1): AB, bits 2:0, is
 * 2^n commands, and 111b no limit at all, not 128 (nvme-cli: "No
 * limit"). */
static void get_feature_h_shows_arbitration_burst_111b_as_no_limit(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    ok(&f, "get-feature -f 1 -H"); /* the simulator's default: AB 3 */
    expect("\tArbitration Burst       (AB): 8\n");
    ok(&f, "set-feature -f 1 -v 7");
    ok(&f, "get-feature -f 1 -H");
    expect("\tArbitration Burst       (AB): No limit\n");
    assert_null(strstr(out.text, "128"));
    fx_stop(&f);
}

/* get-feature -H prints nvme-cli 2.4's nvme_feature_show_fields() lines
 * (ASCII: "C" for its degree sign): a Timestamp as its value and its date
 * in UTC (strftime's "%c %Z"), with Synch and the origin in words, the
 * Asynchronous Event Configuration a line per notice, APST its 32 entries;
 * a structure the lines show is not dumped after them, one they leave out
 * is. */
static void get_feature_h_prints_nvme_clis_fields(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.vendor_fid = 0xc4;
    f.cfg.vendor_feat_len = 64;
    fx_start(&f);
    static const struct {
        const char *pattern, *when;
    } ts[] = {{"0", "The timestamp is : 0 (Thu Jan  1 00:00:00 1970 UTC)\n"},
              {"0x11", "The timestamp is : 18764998447377 (Tue Aug 21 11:34:07 2564 UTC)\n"},
              {"0xfe", "The timestamp is : 280371153272574 (Mon Aug 10 11:54:32 10854 UTC)\n"}};
    for (unsigned i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "set-feature -f 0xe -p %s", ts[i].pattern);
        ok(&f, cmd);
        ok(&f, "get-feature -f 0xe -H");
        expect(ts[i].when);
        expect("\tThe Timestamp field was initialized with a Timestamp value using a Set Features "
               "command.\n\tThe controller counted time in milliseconds continuously since the "
               "Timestamp value was initialized.\n");
        assert_null(strstr(out.text, "00000000  ")); /* shown, not dumped */
    }
    /* 29 February of a leap century year: 951782400 s */
    assert_int_equal(nvme_set_feature(f.ctrl, 0x0e, 0, 0, 0, false,
                                      (const uint8_t[8]){0x00, 0xe0, 0xa6, 0x9a, 0xdd, 0x00}, 8,
                                      NULL),
                     0);
    ok(&f, "get-feature -f 0xe -H");
    expect("The timestamp is : 951782400000 (Tue Feb 29 00:00:00 2000 UTC)\n");
    /* set-feature -f 0xe -v MS: nvme-cli's convenience, the structure
     * built from the value (it was refused: "takes a data structure"),
     * its 48 bits at most; the value printed whole, CDW11 (reserved for
     * Timestamp, §5.21.1.14) sent 0: the simulator refuses a reserved
     * bit set with Invalid Field. */
    ok(&f, "set-feature -f 0xe -v 1765324800123");
    expect("set-feature:0x0e (Timestamp), value:0x19b058ec07b, cdw12:00000000, save:0\n");
    ok(&f, "get-feature -f 0xe -H");
    expect("The timestamp is : 1765324800123 (Wed Dec 10 00:00:00 2025 UTC)\n");
    assert_int_equal(run(&f, "set-feature -f 0xe -v 0x1000000000000"), NVME_ERR_INVAL);
    expect("-v and --cdw12 are 32-bit values (a Timestamp: 48-bit)");
    ok(&f, "set-feature -f 0xe -v 0 -o json");
    assert_int_equal(jnum("value"), 0);
    ok(&f, "get-feature -f 0xe -H");
    expect("The timestamp is : 0 (Thu Jan  1 00:00:00 1970 UTC)\n");
    ok(&f, "set-feature -f 0xb -v 0x101");
    ok(&f, "get-feature -f 0xb -H");
    expect(
        "value:0x00000101\n"
        "\tDiscovery Log Page Change Notices                         : Do not send async event\n");
    expect("\tFirmware Activation Notices                               : Do not send async event\n"
           "\tNamespace Attribute Notices                               : Send async event\n"
           "\tSMART / Health Critical Warnings                          : Send async event\n");
    ok(&f, "set-feature -f 0xc -v 1 -p 0");
    ok(&f, "get-feature -f 0xc -H");
    expect("\tAutonomous Power State Transition Enable (APSTE): Enabled\n"
           "\tAuto PST Entries\t.................\n\tEntry[ 0]   \n\t.................\n"
           "\tIdle Time Prior to Transition (ITPT): 0 ms\n"
           "\tIdle Transition Power State   (ITPS): 0\n\t.................\n");
    expect("\tEntry[31]   \n");
    assert_null(strstr(out.text, "00000000  "));
    ok(&f, "get-feature -f 2 -H");
    expect("\tWorkload Hint (WH): 0 - No Workload\n\tPower State   (PS): 0\n");
    ok(&f, "get-feature -f 0x16 -H");
    expect("\tHost Behavior Support: ");
    assert_null(strstr(out.text, "00000000  "));
    /* a vendor feature: no lines, its data dumped */
    ok(&f, "get-feature -f 0xc4 -l 64 -H");
    expect("00000000  ");
    fx_stop(&f);
}

static void classic_commands_speak_json(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    ok(&f, "info -o json");
    assert_string_equal(jstr("sn"), "SN-PARITY-7");
    assert_int_equal(jnum("active_namespaces"), 2);
    ok(&f, "ready -o json");
    assert_string_equal(jstr("ready"), "true");
    ok(&f, "list -o json");
    assert_string_equal(jstr("Devices.1.DevicePath"), "nvme0n4");
    assert_int_equal(jnum("Devices.1.PhysicalSize"), 64ull << 20);
    assert_int_equal(jnum("Devices.1.SectorSize"), 4096);
    ok(&f, "list");
    expect("Capacity");
    expect("67108864 bytes (64.0 MiB)");
    ok(&f, "write -n 1 -s 9 -t JSON -o json");
    assert_int_equal(jnum("nlb"), 1);
    ok(&f, "read -n 1 -s 9 -o json");
    assert_memory_equal(jstr("data"), "4a534f4e00", 10);
    ok(&f, "flush -n 1 -o json");
    ok(&f, "write-verify -n 1 -s 0 -c 4 -o json");
    assert_int_equal(jnum("nlb"), 4);
    ok(&f, "write-verify -n 1 -s 0 -c 4 --offset 8");
    expect("buffer offset 8");
    /* -o is the output format only (nvme-cli's verify has no -o; before:
     * any value but json and normal was the buffer offset): nothing sent */
    uint64_t w0 = nvme_sim_stats(f.sim)->writes;
    assert_int_not_equal(run(&f, "write-verify -n 1 -s 0 -c 4 -o 8"), 0);
    expect("nvmectl: bad output format '8' (normal or json)");
    assert_int_equal(nvme_sim_stats(f.sim)->writes, w0);
    ok(&f, "smart --output-format=json");
    assert_int_equal(jnum("avail_spare"), 97);
    fx_stop(&f);
}

static void usage_errors(void **state)
{
    (void)state;
    struct fx f;
    start(&f);
    assert_int_not_equal(run(&f, "frobnicate -o json"), 0);
    expect("unknown command 'frobnicate'");
    assert_int_not_equal(run(&f, "id-ctrl -o xml"), 0);
    expect("bad output format 'xml'");
    assert_int_not_equal(run(&f, "id-ctrl --bogus"), 0);
    expect("unknown option '--bogus'");
    assert_int_not_equal(run(&f, "write-zeroes -n 1 -s 0 --deac=1"), 0);
    expect("takes no value");
    assert_int_not_equal(run(&f, "write-zeroes -s 0"), 0);
    expect("-n NSID is required");
    assert_int_not_equal(run(&f, "write-zeroes -n 9 -s 0"), 0);
    expect("no active namespace 9");
    /* the first word that is no option nor a value is nvme-cli's device,
     * before the options or after them; a second one is stray */
    assert_int_not_equal(run(&f, "id-ctrl -H stray"), 0);
    expect("nvmectl id-ctrl: device 'stray' is not nvme0 or nvme0n<NSID>\n");
    assert_int_not_equal(run(&f, "id-ctrl stray"), 0);
    expect("nvmectl id-ctrl: device 'stray' is not nvme0 or nvme0n<NSID>\n");
    assert_int_not_equal(run(&f, "id-ctrl nvme0 -H stray"), 0);
    expect("unexpected argument 'stray'");
    assert_int_not_equal(run(&f, "zns"), 0);
    assert_int_equal(run(&f, "help"), 0);
    expect("id-ctrl");
    expect("zone-append");
    for (const char *p = out.text; *p != '\0';) { /* EXOS's shell: 80 columns */
        size_t len = strcspn(p, "\n");
        if (len >= 80)
            fail_msg("usage line of %zu columns: %.*s", len, (int)len, p);
        p += len + (p[len] == '\n');
    }
    fx_stop(&f);
}

/* create-ns -b is nvme-cli's --block-size: the first format of Identify
 * Namespace NSID FFFFFFFFh (the simulator's: 512, 4096, 2048 with 8
 * metadata bytes) with that data size and no metadata; -f and -b together,
 * a size that is not a power of two, or one no format has without
 * metadata: refused with nvme-cli's messages, nothing created. */
static void create_ns_block_size_picks_the_format(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oacs |= NVME_OACS_NS_MGMT;
    f.cfg.nn = 8;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    ok(&f, "create-ns -s 2048 -b 4096");
    expect("create-ns: Success, created nsid:2");
    assert_int_equal(st->ns_create_flbas, 1);
    ok(&f, "create-ns -s 2048 --block-size=512 -o json");
    assert_int_equal(jnum("nsid"), 3);
    assert_int_equal(st->ns_create_flbas, 0);
    ok(&f, "attach-ns -n 2");
    assert_non_null(nvme_ns_find(f.ctrl, 2));
    assert_int_equal(nvme_ns_find(f.ctrl, 2)->lba_size, 4096);
    uint64_t creates = st->ns_creates;
    assert_int_not_equal(run(&f, "create-ns -s 2048 -b 4096 -f 1"), 0);
    expect("Invalid specification of both FLBAS and Block Size, please specify only one");
    assert_int_not_equal(run(&f, "create-ns -s 2048 -b 1000"), 0);
    expect("Invalid value for block size (1000). Block size must be a power of two");
    /* 2048 is there only with metadata (format 2); 1024 not at all. */
    assert_int_not_equal(run(&f, "create-ns -s 2048 -b 2048"), 0);
    expect("FLBAS corresponding to block size 2048 not found\n"
           "Please correct block size, or specify FLBAS directly\n");
    assert_int_not_equal(run(&f, "create-ns -s 2048 -b 1024"), 0);
    expect("FLBAS corresponding to block size 1024 not found");
    assert_int_equal(st->ns_creates, creates);
    ok(&f, "create-ns -s 64 -f 2"); /* the format itself can be asked for */
    expect("created nsid:4");
    assert_int_equal(st->ns_create_flbas, 2);
    ok(&f, "attach-ns -n 4");
    assert_non_null(nvme_ns_find(f.ctrl, 4));
    assert_int_equal(nvme_ns_find(f.ctrl, 4)->lba_size, 2048);
    assert_int_equal(nvme_ns_find(f.ctrl, 4)->ms, 8);
    fx_stop(&f);

    /* Without Namespace Management the common capabilities are refused. */
    fx_config(&f);
    fx_start(&f);
    assert_int_not_equal(run(&f, "create-ns -s 2048 -b 4096"), 0);
    expect("nvme0: identify-namespace: Invalid Namespace or Format");
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(id_ctrl_every_field_json_and_text),
        cmocka_unit_test(id_ctrl_shows_fguid_as_a_uuid_as_nvme_cli),
        cmocka_unit_test(id_ctrl_human_reads_fna_bit_3_as_broadcast_format_not_supported),
        cmocka_unit_test(id_ctrl_human_reads_vwc_bits_2_1_as_the_flush_behavior),
        cmocka_unit_test(id_ns_lists_formats_and_marks_the_one_in_use),
        cmocka_unit_test(id_ns_shows_a_namespace_whose_nlbaf_or_flbas_is_invalid),
        cmocka_unit_test(id_ns_shows_nulbaf_as_nvme_cli),
        cmocka_unit_test(id_ns_shows_the_optimal_io_fields_only_with_nsfeat_optperf),
        cmocka_unit_test(id_ns_shows_64_formats_with_index_above_16_in_use),
        cmocka_unit_test(ns_descs_list_ns_list_ctrl),
        cmocka_unit_test(list_ns_all_lists_allocated_namespaces),
        cmocka_unit_test(ns_rescan_finds_a_namespace_added_since),
        cmocka_unit_test(list_ns_all_refused_without_namespace_management),
        cmocka_unit_test(list_ns_csi_lists_one_command_set),
        cmocka_unit_test(list_ns_csi_other_than_nvm_refused_on_an_nvm_only_controller),
        cmocka_unit_test(get_and_set_features),
        cmocka_unit_test(get_feature_data_len_is_the_data_length),
        cmocka_unit_test(smart_log_every_field),
        cmocka_unit_test(error_log_shows_the_entries),
        cmocka_unit_test(error_log_follows_an_elpe_change),
        cmocka_unit_test(error_log_json_has_every_field),
        cmocka_unit_test(fw_changed_ns_effects_self_test_logs),
        cmocka_unit_test(effects_log_text_and_json_are_nvme_cli_2_4s),
        cmocka_unit_test(get_set_feature_default_to_every_namespace_as_nvme_cli),
        cmocka_unit_test(self_test_log_json_lists_all_20_entries_as_nvme_cli),
        cmocka_unit_test(self_test_log_text_is_nvme_cli_2_4s),
        cmocka_unit_test(get_log_any_lid_length_offset),
        cmocka_unit_test(admin_passthru_sends_what_it_is_given),
        cmocka_unit_test(passthru_show_command_with_json_is_one_json_value),
        cmocka_unit_test(passthru_direction_adds_to_the_opcode_bits),
        cmocka_unit_test(passthru_show_command_is_nvme_clis),
        cmocka_unit_test(namespace_management_commands),
        cmocka_unit_test(create_ns_takes_the_flbas_byte),
        cmocka_unit_test(create_ns_block_size_picks_the_format),
        cmocka_unit_test(get_log_and_set_feature_take_nvme_clis_letters),
        cmocka_unit_test(id_ns_nmic_rp_and_id_ctrl_anacap_in_nvme_clis_base),
        cmocka_unit_test(format_pil_and_ms_take_a_value),
        cmocka_unit_test(format_reserved_values_are_refused_with_their_range),
        cmocka_unit_test(format_takes_block_size_and_reset),
        cmocka_unit_test(format_block_size_finds_the_unique_capability_formats),
        cmocka_unit_test(format_success_line_is_nvme_clis),
        cmocka_unit_test(fw_commit_takes_nvme_clis_action_default_and_bpid_value),
        cmocka_unit_test(raw_binary_writes_the_log_bytes),
        cmocka_unit_test(raw_binary_refused_where_the_host_has_no_binary_output),
        cmocka_unit_test(smart_log_data_units_in_si_bytes_as_nvme_cli),
        cmocka_unit_test(smart_log_human_decodes_critical_warning),
        cmocka_unit_test(dsm_deallocates_ranges),
        cmocka_unit_test(dsm_takes_context_attributes_and_cdw11),
        cmocka_unit_test(copy_moves_blocks_on_the_device),
        cmocka_unit_test(io_commands_start_at_lba_0_without_s),
        cmocka_unit_test(success_lines_are_nvme_clis),
        cmocka_unit_test(verify_is_the_verify_command_and_leaves_the_data),
        cmocka_unit_test(verify_takes_nvme_clis_protection_information_options),
        cmocka_unit_test(write_zeroes_nvm_verify_compare_fua),
        cmocka_unit_test(write_uncor_counts_blocks_from_0_as_nvme_cli),
        cmocka_unit_test(unsupported_commands_are_named),
        cmocka_unit_test(destructive_commands_need_force),
        cmocka_unit_test(format_under_fna_bit_0_says_every_namespace_goes),
        cmocka_unit_test(sanitize_log_text_is_nvme_cli_2_4s),
        cmocka_unit_test(fw_download_p_is_nvme_clis_progress),
        cmocka_unit_test(create_ns_takes_anagrp_id_and_nvmset_id),
        cmocka_unit_test(fw_commit_names_the_reset_the_status_asks_for),
        cmocka_unit_test(zns_report_send_append),
        cmocka_unit_test(zns_report_spans_several_commands),
        cmocka_unit_test(zns_report_fits_a_dword_aligned_scratch_buffer),
        cmocka_unit_test(zns_commands_refuse_plain_namespaces),
        cmocka_unit_test(get_feature_h_names_a_reserved_threshold_type),
        cmocka_unit_test(get_feature_h_shows_arbitration_burst_111b_as_no_limit),
        cmocka_unit_test(get_feature_h_prints_nvme_clis_fields),
        cmocka_unit_test(get_feature_names_are_nvme_clis),
        cmocka_unit_test(classic_commands_speak_json),
        cmocka_unit_test(usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
