/* SPDX-License-Identifier: MIT */
/*
 * ctl_main.c - nvmectl's entry points: the command table with each
 * command's options (nvme-cli's names where they mean the same), the
 * option parser, usage, and nvmectl_run_line().  The commands live in
 * ctl_identify.c, ctl_logs.c, ctl_features.c, ctl_io.c, and in the files
 * of the groups a build may leave out: ctl_zns.c (zns), ctl_resv.c
 * (resv), ctl_telemetry.c (telemetry), ctl_nvme2_logs.c and
 * ctl_nvme2_identify.c (nvme2), ctl_passthru.c (passthru), ctl_mgmt.c
 * (mgmt), ctl_regs.c (regs).
 */
#include "ctl.h"

/* Groups of commands a build may leave out: NVMECTL_LEAVE_OUT of
 * nvme-core-sources.mk and libnvmectl/CMakeLists.txt drops each group's
 * files and defines NVMECTL_NO_<GROUP>=1; the group's commands stay in the
 * table by name only (no function, options or help), so running one says
 * it is not built in instead of "unknown command". */
#ifndef NVMECTL_NO_ZNS
#define NVMECTL_NO_ZNS 0
#endif
#ifndef NVMECTL_NO_RESV
#define NVMECTL_NO_RESV 0
#endif
#ifndef NVMECTL_NO_TELEMETRY
#define NVMECTL_NO_TELEMETRY 0
#endif
#ifndef NVMECTL_NO_NVME2
#define NVMECTL_NO_NVME2 0
#endif
#ifndef NVMECTL_NO_PASSTHRU
#define NVMECTL_NO_PASSTHRU 0
#endif
#ifndef NVMECTL_NO_MGMT
#define NVMECTL_NO_MGMT 0
#endif
#ifndef NVMECTL_NO_REGS
#define NVMECTL_NO_REGS 0
#endif
#define CTL_IN_0(fn, opts, help) fn, opts, help
#define CTL_IN_1(fn, opts, help) NULL, NULL, NULL
#define CTL_IN_(out, fn, opts, help) CTL_IN_##out(fn, opts, help)
#define CTL_IN(out, fn, opts, help) CTL_IN_(out, fn, opts, help) /* out: 0 or 1 */
#define IN_ZNS(fn, opts, help) CTL_IN(NVMECTL_NO_ZNS, fn, opts, help)
#define IN_RESV(fn, opts, help) CTL_IN(NVMECTL_NO_RESV, fn, opts, help)
#define IN_TELEMETRY(fn, opts, help) CTL_IN(NVMECTL_NO_TELEMETRY, fn, opts, help)
#define IN_NVME2(fn, opts, help) CTL_IN(NVMECTL_NO_NVME2, fn, opts, help)
#define IN_PASSTHRU(fn, opts, help) CTL_IN(NVMECTL_NO_PASSTHRU, fn, opts, help)
#define IN_MGMT(fn, opts, help) CTL_IN(NVMECTL_NO_MGMT, fn, opts, help)
#define IN_REGS(fn, opts, help) CTL_IN(NVMECTL_NO_REGS, fn, opts, help)

enum ctl_group { G_CORE, G_ZNS, G_RESV, G_TELEMETRY, G_NVME2, G_PASSTHRU, G_MGMT, G_REGS };
/* Whether any is: the default build has none of the code below that
 * names them (EXOS x86-64 counts .text bytes, README). */
#define NVMECTL_LEAVES_OUT                                                                         \
    (NVMECTL_NO_ZNS || NVMECTL_NO_RESV || NVMECTL_NO_TELEMETRY || NVMECTL_NO_NVME2 ||              \
     NVMECTL_NO_PASSTHRU || NVMECTL_NO_MGMT || NVMECTL_NO_REGS)
#if NVMECTL_LEAVES_OUT
/* Name (as NVMECTL_LEAVE_OUT spells it) and whether it is left out. */
static const struct {
    char name[10];
    bool out;
} groups[] = {{"", false},
              {"zns", NVMECTL_NO_ZNS},
              {"resv", NVMECTL_NO_RESV},
              {"telemetry", NVMECTL_NO_TELEMETRY},
              {"nvme2", NVMECTL_NO_NVME2},
              {"passthru", NVMECTL_NO_PASSTHRU},
              {"mgmt", NVMECTL_NO_MGMT},
              {"regs", NVMECTL_NO_REGS}};
#endif

/* ------------------------------------------------------------------ */
/* Option tables                                                       */
/* ------------------------------------------------------------------ */

#define NUM(s, l, slot)                                                                            \
    {                                                                                              \
        l, s, K_NUM, slot                                                                          \
    }
#define STR(s, l, slot)                                                                            \
    {                                                                                              \
        l, s, K_STR, slot                                                                          \
    }
#define FLG(s, l, slot)                                                                            \
    {                                                                                              \
        l, s, K_FLAG, slot                                                                         \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }
#define NSID NUM('n', "namespace-id", N_NSID)

/* A table that is the last n entries (END included) of another is not
 * one of its own: the order of a table's entries does not matter
 * (find_opt, find_long), and each entry is 16 bytes of the EXOS kernel. */
#define TAIL(t, n) ((t) + sizeof(t) / sizeof((t)[0]) - (n))
/* id-ns: -f, nvme-cli's --force, Identify of an allocated NSID (CNS 11h) */
static const struct ctl_optdef o_ns_human[] = {NSID, FLG('f', "force", F_FORCE),
                                               FLG('H', "human-readable", F_HUMAN), END};
#define o_human TAIL(o_ns_human, 2)
#define o_none TAIL(o_ns_human, 1)
#define RAW FLG('b', "raw-binary", F_RAW)
/* id-iocs (its tail: -H, -v, nvme-cli's -H of sanitize-log, -v of
 * self-test-log, and -b) and nvm-id-ns (its tail: smart-log's) */
static const struct ctl_optdef o_id_iocs[] = {NUM('c', "controller-id", N_CNTID),
                                              FLG('H', "human-readable", F_HUMAN),
                                              FLG('v', "verbose", F_HUMAN), RAW, END};
#define o_supported_logs TAIL(o_id_iocs, 4)
static const struct ctl_optdef o_nvm_id_ns[] = {FLG('v', "verbose", F_HUMAN), NSID, RAW,
                                                FLG('H', "human-readable", F_HUMAN), END};
#define o_smart TAIL(o_nvm_id_ns, 4)
static const struct ctl_optdef o_rw[] = {NSID,
                                         NUM('s', "start-block", N_SLBA),
                                         NUM('c', "block-count", N_COUNT),
                                         NUM('p', "pattern", N_PATTERN),
                                         STR('t', "text", S_TEXT),
                                         STR('f', "file", S_FILE),
                                         STR('d', "data", S_FILE),
                                         FLG(0, "fua", F_FUA),
                                         FLG('l', "limited-retry", F_LR),
                                         END};
/* --offset has no letter: -o is the output format only, as in every
 * nvme-cli command (nvme-cli's verify has no -o) */
static const struct ctl_optdef o_verify[] = {NSID,
                                             NUM('s', "start-block", N_SLBA),
                                             NUM('c', "block-count", N_COUNT),
                                             NUM('k', "seed", N_SEED),
                                             NUM(0, "offset", N_OFFSET),
                                             END};
/* verify and write-zeroes: nvme-cli 2.4's verify_cmd and write_zeroes
 * letters (-p/-r/-a/-m/-S/-C: ctl_io.c's range_ns; -S goes to -m's
 * slot, 0 being all the core sends of either) */
static const struct ctl_optdef o_range[] = {NUM('p', "prinfo", N_PRINFO),
                                            NUM('r', "ref-tag", N_REFTAG),
                                            NUM('a', "app-tag", N_APPTAG),
                                            NUM('m', "app-tag-mask", N_APPMASK),
                                            NUM('S', "storage-tag", N_APPMASK),
                                            FLG('C', "storage-tag-check", F_STC),
                                            FLG('f', "force-unit-access", F_FUA),
                                            FLG(0, "fua", F_FUA),
                                            FLG('l', "limited-retry", F_LR),
                                            FLG('d', "deac", F_DEAC),
                                            NUM('s', "start-block", N_SLBA),
                                            NUM('c', "block-count", N_COUNT),
                                            NSID,
                                            END};
#define o_write_uncor TAIL(o_range, 4)
#define o_ns TAIL(o_range, 2)
static const struct ctl_optdef o_dsm[] = {NSID,
                                          STR('s', "slbs", S_SLBAS),
                                          STR('b', "blocks", S_BLOCKS),
                                          FLG('d', "ad", F_AD),
                                          FLG('r', "idr", F_IDR),
                                          FLG('w', "idw", F_IDW),
                                          STR('a', "ctx-attrs", S_CTRLS),
                                          NUM('c', "cdw11", N_CDW11),
                                          END};
static const struct ctl_optdef o_copy[] = {NSID,
                                           NUM('d', "sdlba", N_SDLBA),
                                           STR('s', "slbs", S_SLBAS),
                                           STR('b', "blocks", S_BLOCKS),
                                           FLG('f', "force-unit-access", F_FUA),
                                           FLG('l', "limited-retry", F_LR),
                                           END};
static const struct ctl_optdef o_list_ns[] = {NSID, FLG('a', "all", F_ALL), NUM('y', "csi", N_CSI),
                                              END};
static const struct ctl_optdef o_list_ctrl[] = {NSID, NUM('c', "cntid", N_CNTID), END};
static const struct ctl_optdef o_get_feat[] = {NSID,
                                               NUM('f', "feature-id", N_FID),
                                               STR('s', "sel", S_SEL),
                                               NUM('c', "cdw11", N_VALUE),
                                               NUM('l', "data-len", N_LEN),
                                               FLG('H', "human-readable", F_HUMAN),
                                               END};
/* -V: nvme-cli 2.x's letter of --value (-v its older one) */
static const struct ctl_optdef o_set_feat[] = {NSID,
                                               NUM('f', "feature-id", N_FID),
                                               NUM('v', "value", N_VALUE),
                                               NUM('V', "value", N_VALUE),
                                               NUM('c', "cdw12", N_CDW12),
                                               FLG('s', "save", F_SAVE),
                                               NUM('p', "pattern", N_PATTERN),
                                               STR('t', "text", S_TEXT),
                                               STR('d', "data", S_FILE),
                                               NUM('l', "data-len", N_LEN),
                                               END};
static const struct ctl_optdef o_error_log[] = {NUM('e', "log-entries", N_ENTRIES), RAW, END};
#define o_raw TAIL(o_error_log, 2)
static const struct ctl_optdef o_effects[] = {NUM('c', "csi", N_CSI), RAW, END};
static const struct ctl_optdef o_get_log[] = {NSID,
                                              NUM('i', "log-id", N_LID),
                                              NUM('l', "log-len", N_LEN),
                                              NUM('L', "lpo", N_LPO),
                                              NUM('s', "lsp", N_LSP),
                                              NUM('S', "lsi", N_LSI),
                                              NUM('y', "csi", N_CSI),
                                              FLG('r', "rae", F_RAE),
                                              RAW,
                                              END};
static const struct ctl_optdef o_pel[] = {NUM('a', "action", N_ACTION), NUM('l', "log-len", N_LEN),
                                          RAW, END};

#if !NVMECTL_NO_ZNS
static const struct ctl_optdef o_zones[] = {NSID, NUM('s', "start-lba", N_SLBA),
                                            NUM('d', "descs", N_COUNT), END};
static const struct ctl_optdef o_zone_send[] = {STR('z', "zsa", S_ZSA), NSID,
                                                NUM('s', "start-lba", N_SLBA),
                                                FLG('a', "select-all", F_ALL), END};
/* zns open-zone .. offline-zone (no -z; nvme-cli's -t/--timeout, open-zone's -r not taken) */
#define o_zone_act TAIL(o_zone_send, 4)
static const struct ctl_optdef o_zns_id_ns[] = {NSID, FLG('v', "vendor-specific", F_VS), RAW, END};
static const struct ctl_optdef o_zone_append[] = {NSID,
                                                  NUM('s', "zslba", N_SLBA),
                                                  NUM('c', "block-count", N_COUNT),
                                                  NUM('p', "pattern", N_PATTERN),
                                                  STR('t', "text", S_TEXT),
                                                  STR('d', "data", S_FILE),
                                                  END};
#endif

#if !NVMECTL_NO_RESV
/* Reservations: nvme-cli's letters (-p is --cptpl for register, --prkey
 * for acquire; -a is --racqa or --rrela). */
static const struct ctl_optdef o_resv_register[] = {NSID,
                                                    NUM('c', "crkey", N_CRKEY),
                                                    NUM('k', "nrkey", N_NRKEY),
                                                    NUM('r', "rrega", N_RACT),
                                                    NUM('p', "cptpl", N_CPTPL),
                                                    FLG('i', "iekey", F_IEKEY),
                                                    END};
static const struct ctl_optdef o_resv_acquire[] = {NSID,
                                                   NUM('c', "crkey", N_CRKEY),
                                                   NUM('p', "prkey", N_NRKEY),
                                                   NUM('t', "rtype", N_RTYPE),
                                                   NUM('a', "racqa", N_RACT),
                                                   FLG('i', "iekey", F_IEKEY),
                                                   END};
static const struct ctl_optdef o_resv_release[] = {NSID,
                                                   NUM('c', "crkey", N_CRKEY),
                                                   NUM('t', "rtype", N_RTYPE),
                                                   NUM('a', "rrela", N_RACT),
                                                   FLG('i', "iekey", F_IEKEY),
                                                   END};
static const struct ctl_optdef o_resv_report[] = {NSID, NUM('d', "numd", N_NUMD),
                                                  FLG('e', "eds", F_EDS), RAW, END};
#endif

#if !NVMECTL_NO_TELEMETRY
static const struct ctl_optdef o_telemetry[] = {STR('O', "output-file", S_FILE),
                                                NUM('g', "host-generate", N_HGEN),
                                                FLG('c', "controller-init", F_CTRL_INIT),
                                                NUM('d', "data-area", N_DA),
                                                FLG('r', "rae", F_RAE),
                                                RAW,
                                                END};
#endif

#if !NVMECTL_NO_NVME2
static const struct ctl_optdef o_primary_caps[] = {NUM('c', "cntlid", N_CNTID),
                                                   FLG('H', "human-readable", F_HUMAN), RAW, END};
static const struct ctl_optdef o_list_secondary[] = {NUM('c', "cntid", N_CNTID),
                                                     NUM('e', "num-entries", N_ENTRIES), RAW, END};
static const struct ctl_optdef o_endurance[] = {NUM('g', "group-id", N_ENDGID), RAW, END};
static const struct ctl_optdef o_ana[] = {FLG('g', "groups", F_ALL), RAW, END};
#endif

#if !NVMECTL_NO_PASSTHRU
static const struct ctl_optdef o_passthru[] = {NUM('O', "opcode", N_OPCODE),
                                               NSID,
                                               NUM('l', "data-len", N_LEN),
                                               FLG('r', "read", F_READ),
                                               FLG('w', "write", F_WRITE),
                                               NUM('p', "prefill", N_PATTERN),
                                               STR('i', "input-file", S_FILE),
                                               NUM('2', "cdw2", N_CDW2),
                                               NUM('3', "cdw3", N_CDW3),
                                               NUM('4', "cdw10", N_CDW10),
                                               NUM('5', "cdw11", N_CDW11),
                                               NUM('6', "cdw12", N_CDW12),
                                               NUM('7', "cdw13", N_CDW13),
                                               NUM('8', "cdw14", N_CDW14),
                                               NUM('9', "cdw15", N_CDW15),
                                               FLG('s', "show-command", F_SHOW),
                                               FLG('d', "dry-run", F_DRY),
                                               RAW,
                                               END};
#endif

#if !NVMECTL_NO_MGMT
static const struct ctl_optdef o_format[] = {
    NUM('l', "lbaf", N_LBAF),   NUM('s', "ses", N_SES),
    NUM('i', "pi", N_PI),       NUM('p', "pil", N_PIL),
    NUM('m', "ms", N_MSET),     NUM('b', "block-size", N_BS),
    FLG('r', "reset", F_RESET), NSID,
    FLG(0, "force", F_FORCE),   END};
#define o_delete_ns TAIL(o_format, 3)
#define o_force TAIL(o_format, 2)
static const struct ctl_optdef o_self_test[] = {NSID, STR('s', "self-test-code", S_STC), END};
/* nvme-cli's letters: -n is OWPASS and -p the Overwrite Pattern (-p was
 * OWPASS here: nvme-cli's `-p 5` would have been 5 passes of pattern 0);
 * -D, the old letter of --no-dealloc, still works. */
static const struct ctl_optdef o_sanitize[] = {
    STR('a', "sanact", S_SANACT), FLG('u', "ause", F_AUSE),        NUM('n', "owpass", N_OWPASS),
    FLG('i', "oipbp", F_OIPBP),   FLG('d', "no-dealloc", F_NODAS), FLG('D', "no-dealloc", F_NODAS),
    NUM('p', "ovrpat", N_OVRPAT), FLG(0, "force", F_FORCE),        END};
/* -p is nvme-cli 2.4's --progress (its transfer line is not printed:
 * nothing to show for it); the fill byte has its long name alone */
static const struct ctl_optdef o_fw_dl[] = {
    STR('f', "fw", S_FILE),       NUM('o', "offset", N_OFFSET),
    NUM('x', "xfer", N_XFER),     FLG('p', "progress", F_PROGRESS),
    NUM(0, "pattern", N_PATTERN), NUM('l', "length", N_LEN),
    STR('t', "text", S_TEXT),     END};
static const struct ctl_optdef o_fw_commit[] = {
    NUM('s', "slot", N_SLOT), NUM('a', "action", N_ACTION), NUM('b', "bpid", N_BPID),
    FLG(0, "force", F_FORCE), END};
static const struct ctl_optdef o_virt_mgmt[] = {NUM('c', "cntlid", N_CNTID),
                                                NUM('r', "rt", N_RTYPE), NUM('a', "act", N_ACTION),
                                                NUM('n', "nr", N_COUNT), END};
static const struct ctl_optdef o_create_ns[] = {NUM('s', "nsze", N_NSZE),
                                                NUM('c', "ncap", N_NCAP),
                                                NUM('f', "flbas", N_FLBAS),
                                                NUM('b', "block-size", N_BS),
                                                NUM('d', "dps", N_DPS),
                                                NUM('m', "nmic", N_NMIC),
                                                NUM('y', "csi", N_CSI),
                                                NUM('a', "anagrp-id", N_ANAGRPID),
                                                NUM('i', "nvmset-id", N_NVMSETID),
                                                END};
static const struct ctl_optdef o_attach_ns[] = {NSID, STR('c', "controllers", S_CTRLS), END};
#endif

/* ctl_cmd's flags.  CMD_CLASSIC: one of the first eight, in the usage's
 * first lines.  CMD_NS: a namespace device (nvme0n1) gives the NSID when
 * -n is absent or 0, CMD_NS_UNSEEN: when -n is absent, as nvme-cli 2.4's
 * counterpart calls nvme_get_nsid() when `!cfg.namespace_id` (id-ns,
 * read, ...), or `!argconfig_parse_seen(opts, "namespace-id")` (get-feature,
 * set-feature).  The others (smart-log, get-log, list-ns, attach-ns,
 * the passthrus, ...) keep their own default on a namespace device, as
 * nvme-cli's never ask it. */
#define CMD_CLASSIC 1u
#define CMD_NS 2u
#define CMD_NS_UNSEEN 4u

struct ctl_cmd {
    const char *name;
    int (*fn)(struct ctl *c);
    const struct ctl_optdef *opts;
    const char *help; /* options, one line; '@': the file source */
    uint8_t flags;    /* CMD_* */
    /* enum ctl_group; fn NULL when it is left out.  Read only where a
     * group is (NVMECTL_LEAVES_OUT): the default build keeps the byte. */
    // cppcheck-suppress unusedStructMember
    uint8_t group;
};

static const struct ctl_cmd cmds[] = {
    {"info", ctl_cmd_info, o_none, "controller registers and identity", CMD_CLASSIC, G_CORE},
    {"ready", ctl_cmd_ready, o_none, "whether the controller is up", CMD_CLASSIC, G_CORE},
    {"list", ctl_cmd_list, o_none, "active namespaces, capacity in bytes", CMD_CLASSIC, G_CORE},
    {"smart", ctl_cmd_smart_log, o_smart, "= smart-log", CMD_CLASSIC, G_CORE},
    {"smart-log", ctl_cmd_smart_log, o_smart, "[-n NSID] [-H] [-b]  SMART / Health log", 0, G_CORE},
    {"id-ctrl", ctl_cmd_id_ctrl, o_human, "[-H]  Identify Controller", 0, G_CORE},
    {"id-ns", ctl_cmd_id_ns, o_ns_human,
     "-n NSID [-H] [-f]  Identify Namespace (-f: allocated, attached or not)", CMD_NS, G_CORE},
    {"ns-descs", ctl_cmd_ns_descs, o_ns, "-n NSID  namespace identifiers", CMD_NS, G_CORE},
    {"get-ns-id", ctl_cmd_get_ns_id, o_none, "NSID of each active namespace", CMD_NS, G_CORE},
    {"list-ns", ctl_cmd_list_ns, o_list_ns,
     "[-n START] [-a] [-y CSI]  active NSIDs (-a: allocated; -y: of one set)", 0, G_CORE},
    {"list-ctrl", ctl_cmd_list_ctrl, o_list_ctrl, "[-n NSID] [-c CNTID]  controllers", 0, G_CORE},
    {"primary-ctrl-caps",
     IN_NVME2(ctl_cmd_primary_ctrl_caps, o_primary_caps,
              "[-c CNTLID] [-H] [-b]  Primary Controller Capabilities"),
     0, G_NVME2},
    {"list-secondary",
     IN_NVME2(ctl_cmd_list_secondary, o_list_secondary,
              "[-c CNTID] [-e N] [-b]  Secondary Controller List"),
     0, G_NVME2},
    {"id-iocs",
     IN_NVME2(ctl_cmd_id_iocs, o_id_iocs, "[-c CNTID] [-v] [-b]  I/O Command Set data structure"),
     0, G_NVME2},
    {"nvm-id-ctrl",
     IN_NVME2(ctl_cmd_nvm_id_ctrl, o_raw, "[-b]  NVM Command Set Identify Controller"), 0, G_NVME2},
    {"nvm-id-ns",
     IN_NVME2(ctl_cmd_nvm_id_ns, o_nvm_id_ns,
              "-n NSID [-v] [-b]  NVM Command Set Identify Namespace"),
     CMD_NS, G_NVME2},
    {"show-regs", IN_REGS(ctl_cmd_show_regs, o_human, "[-H]  controller registers (read only)"), 0,
     G_REGS},
    {"ns-rescan", ctl_cmd_ns_rescan, o_none, "enumerate the namespaces again, then list", 0,
     G_CORE},
    {"get-feature", ctl_cmd_get_feature, o_get_feat,
     "-f FID [-s current|default|saved|supported] [-c CDW11] [-l LEN] [-n N]", CMD_NS_UNSEEN,
     G_CORE},
    {"set-feature", ctl_cmd_set_feature, o_set_feat,
     "-f FID [-v|-V V] [-c CDW12] [-s] [-n N] [-p B | -t T@d] [-l LEN]", CMD_NS_UNSEEN, G_CORE},
    {"error-log", ctl_cmd_error_log, o_error_log, "[-e ENTRIES] [-b]  Error Information log", 0,
     G_CORE},
    {"fw-log", ctl_cmd_fw_log, o_raw, "[-b]  Firmware Slot Information log", 0, G_CORE},
    {"changed-ns-list-log", ctl_cmd_changed_ns, o_raw, "[-b]  Changed Namespace List log", 0,
     G_CORE},
    {"effects-log", ctl_cmd_effects_log, o_effects,
     "[--csi CSI] [-b]  Commands Supported and Effects", 0, G_CORE},
    {"self-test-log", ctl_cmd_self_test_log, o_supported_logs, "[-v] [-b]  Device Self-test log", 0,
     G_CORE},
    {"sanitize-log", ctl_cmd_sanitize_log, o_supported_logs, "[-H] [-b]  Sanitize Status log", 0,
     G_CORE},
    {"get-log", ctl_cmd_get_log, o_get_log,
     "-i LID -l LEN [-L OFF] [-s LSP] [-S LSI] [-y CSI] [-r] [-n N] [-b]", 0, G_CORE},
    {"telemetry-log",
     IN_TELEMETRY(ctl_cmd_telemetry_log, o_telemetry,
                  "[-O FILE] [-g 0|1] [-c] [-d 1-4] [-r] [-b]  Telemetry log"),
     0, G_TELEMETRY},
    {"supported-log-pages",
     IN_NVME2(ctl_cmd_supported_log_pages, o_supported_logs,
              "[-v] [-b]  Supported Log Pages (-v: each one's support bits)"),
     0, G_NVME2},
    {"endurance-log",
     IN_NVME2(ctl_cmd_endurance_log, o_endurance,
              "-g GROUP-ID [-b]  Endurance Group Information log"),
     0, G_NVME2},
    {"ana-log", IN_NVME2(ctl_cmd_ana_log, o_ana, "[-g] [-b]  ANA log (-g: groups only)"), 0,
     G_NVME2},
    {"persistent-event-log", ctl_cmd_persistent_event_log, o_pel,
     "-a 0|1|2 [-l LEN] [-b]  Persistent Event log (read, establish, release)", 0, G_CORE},
    {"read", ctl_cmd_read, o_rw, "-n NSID [-s LBA] [-c COUNT]  hex dump", CMD_CLASSIC | CMD_NS,
     G_CORE},
    {"write", ctl_cmd_write, o_rw, "-n NSID [-s LBA] [-c COUNT] (-p BYTE | -t TEXT@f) [--fua]",
     CMD_CLASSIC | CMD_NS, G_CORE},
    {"flush", ctl_cmd_flush, o_ns, "-n NSID", CMD_CLASSIC | CMD_NS, G_CORE},
    /* nvmectl's own self-test: it overwrites the blocks */
    {"write-verify", ctl_cmd_write_verify, o_verify,
     "-n NSID [-s LBA] [-c COUNT] [-k SEED] [--offset N]  write, read back, compare",
     CMD_CLASSIC | CMD_NS, G_CORE},
    /* nvme-cli's verify (verify_cmd): the NVM Verify command (opcode
     * 0Ch), which reads and checks but transfers no data to the host;
     * nvm-verify, its old name */
    {"verify", ctl_cmd_nvm_verify, o_range,
     "-n NSID [-s LBA] [-c COUNT] [-f] [-l] [-p PRINFO]  Verify command", CMD_NS, G_CORE},
    {"nvm-verify", ctl_cmd_nvm_verify, o_range, "= verify", CMD_NS, G_CORE},
    {"compare", ctl_cmd_compare, o_rw, "-n NSID [-s LBA] [-c COUNT] (-p BYTE | -t TEXT@f)", CMD_NS,
     G_CORE},
    {"dsm", ctl_cmd_dsm, o_dsm,
     "-n NSID -s LBA[,..] -b N[,..] [-a CA,..] [-c DW11] [--ad] [--idr] [--idw]", CMD_NS, G_CORE},
    {"copy", ctl_cmd_copy, o_copy, "-n NSID -d SDLBA -s LBA[,LBA..] -b N[,N..] [-f] [-l]", CMD_NS,
     G_CORE},
    {"write-zeroes", ctl_cmd_write_zeroes, o_range, "-n NSID [-s LBA] [-c COUNT] [--deac] [--fua]",
     CMD_NS, G_CORE},
    {"write-uncor", ctl_cmd_write_uncor, o_write_uncor,
     "-n NSID [-s LBA] [-c NLB]  Write Uncorrectable (-c 0-based, as nvme-cli)", CMD_NS, G_CORE},
    {"format",
     IN_MGMT(ctl_cmd_format, o_format,
             "-n NSID [-l LBAF|-b BS] [-s SES] [-i PI] [-p 0|1] [-m 0|1] [-r] --force"),
     CMD_NS, G_MGMT},
    {"device-self-test",
     IN_MGMT(ctl_cmd_self_test, o_self_test, "[-n NSID] -s short|extended|vendor|abort"), 0,
     G_MGMT},
    {"sanitize",
     IN_MGMT(ctl_cmd_sanitize, o_sanitize,
             "-a exit-failure|block|overwrite|crypto [-u -n N -i -d -p PAT] --force"),
     0, G_MGMT},
    {"fw-download",
     IN_MGMT(ctl_cmd_fw_download, o_fw_dl, "(--pattern BYTE -l LEN | -t TEXT@f) [--offset DWORDS]"),
     0, G_MGMT},
    {"fw-commit", IN_MGMT(ctl_cmd_fw_commit, o_fw_commit, "-s SLOT -a ACTION [-b BPID] --force"), 0,
     G_MGMT},
    {"reset", ctl_cmd_reset, o_none, "controller reset", 0, G_CORE},
    {"subsystem-reset", IN_MGMT(ctl_cmd_subsystem_reset, o_force, "--force  NVM Subsystem Reset"),
     0, G_MGMT},
    {"create-ns",
     IN_MGMT(ctl_cmd_create_ns, o_create_ns,
             "-s NSZE (-f FLBAS|-b BS) [-c NCAP -d DPS -m NMIC -y CSI -a ANAGRP -i SET]"),
     0, G_MGMT},
    {"delete-ns", IN_MGMT(ctl_cmd_delete_ns, o_delete_ns, "-n NSID --force"), CMD_NS, G_MGMT},
    {"attach-ns", IN_MGMT(ctl_cmd_attach_ns, o_attach_ns, "-n NSID [-c CNTLID[,..]]"), 0, G_MGMT},
    {"detach-ns", IN_MGMT(ctl_cmd_detach_ns, o_attach_ns, "-n NSID [-c CNTLID[,..]]"), 0, G_MGMT},
    {"virt-mgmt",
     IN_MGMT(ctl_cmd_virt_mgmt, o_virt_mgmt,
             "-c CNTLID -a ACT [-r RT] [-n NR]  Virtualization Management"),
     0, G_MGMT},
    {"admin-passthru",
     IN_PASSTHRU(ctl_cmd_admin_passthru, o_passthru,
                 "-O OPC [-n N] [-l LEN] [-r|-w] [-p B@i] [-4..-9 DW10-15] [-s|-d]"),
     0, G_PASSTHRU},
    {"io-passthru",
     IN_PASSTHRU(ctl_cmd_io_passthru, o_passthru,
                 "-O OPC -n N [-l LEN] [-r|-w] [-p B@i] [-4..-9 DW10-15] [-s|-d]"),
     0, G_PASSTHRU},
    {"resv-register",
     IN_RESV(ctl_cmd_resv_register, o_resv_register,
             "-n NSID [-c CRKEY] [-k NRKEY] [-r RREGA] [-p CPTPL] [-i]"),
     CMD_NS, G_RESV},
    {"resv-acquire",
     IN_RESV(ctl_cmd_resv_acquire, o_resv_acquire,
             "-n NSID [-c CRKEY] [-p PRKEY] -t RTYPE [-a RACQA] [-i]"),
     CMD_NS, G_RESV},
    {"resv-release",
     IN_RESV(ctl_cmd_resv_release, o_resv_release, "-n NSID [-c CRKEY] -t RTYPE [-a RRELA] [-i]"),
     CMD_NS, G_RESV},
    {"resv-report", IN_RESV(ctl_cmd_resv_report, o_resv_report, "-n NSID [-d NUMD] [-e] [-b]"),
     CMD_NS, G_RESV},
    {"report-zones", IN_ZNS(ctl_cmd_report_zones, o_zones, "-n NSID [-s LBA] [-d COUNT]  (zns)"),
     CMD_NS, G_ZNS},
    {"zone-mgmt-send",
     IN_ZNS(ctl_cmd_zone_mgmt_send, o_zone_send,
            "-n NSID -s ZSLBA -z open|close|finish|reset|offline [-a]  (zns)"),
     CMD_NS, G_ZNS},
    {"zone-append",
     IN_ZNS(ctl_cmd_zone_append, o_zone_append,
            "-n NSID -s ZSLBA [-c N] (-p BYTE | -t TEXT@d)  (zns)"),
     CMD_NS, G_ZNS},
    /* nvme-cli's "zns id-ctrl" ...: "zns X" runs zns-X when there is one */
    {"zns-id-ctrl", IN_ZNS(ctl_cmd_zns_id, o_raw, "[-b]  ZNS Identify Controller"), 0, G_ZNS},
    {"zns-id-ns", IN_ZNS(ctl_cmd_zns_id, o_zns_id_ns, "-n NSID [-v] [-b]  ZNS Identify Namespace"),
     CMD_NS, G_ZNS},
    {"zns-open-zone", IN_ZNS(ctl_cmd_zns_zone, o_zone_act, "-n NSID (-s ZSLBA | -a)"), CMD_NS,
     G_ZNS},
    {"zns-close-zone", IN_ZNS(ctl_cmd_zns_zone, o_zone_act, "-n NSID (-s ZSLBA | -a)"), CMD_NS,
     G_ZNS},
    {"zns-finish-zone", IN_ZNS(ctl_cmd_zns_zone, o_zone_act, "-n NSID (-s ZSLBA | -a)"), CMD_NS,
     G_ZNS},
    {"zns-reset-zone", IN_ZNS(ctl_cmd_zns_zone, o_zone_act, "-n NSID (-s ZSLBA | -a)"), CMD_NS,
     G_ZNS},
    {"zns-offline-zone", IN_ZNS(ctl_cmd_zns_zone, o_zone_act, "-n NSID (-s ZSLBA | -a)"), CMD_NS,
     G_ZNS},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* Help text with '@x' where a file source goes (" | -x FILE"), left out
 * on hosts without files. */
static void help_line(const struct nvmectl_io *io, const char *name, const char *help)
{
    char text[CTL_LINE];
    size_t n = 0;
    for (const char *h = help; *h != '\0' && n + 16 < sizeof(text); h++) {
        if (*h != '@') {
            text[n++] = *h;
            continue;
        }
        if (h[1] != '\0' && io->read_file != NULL)
            n += (size_t)nvme_snprintf(text + n, sizeof(text) - n, " | -%c FILE", h[1]);
        if (h[1] != '\0')
            h++;
    }
    text[n] = '\0';
    /* Within 80 columns (EXOS's shell): long ones on a line of their own. */
    if (22u + n < 80u)
        ctl_out(io, "  %-19s %s\n", name, text);
    else
        ctl_out(io, "  %s\n      %s\n", name, text);
}

void nvmectl_usage(const struct nvmectl_io *io)
{
    if (io == NULL || io->print == NULL) /* nothing to print through (as nvmectl_main) */
        return;
    ctl_out(io,
            "usage: nvmectl <command> [DEVICE] [options] [-o normal|json]\n"
            "  DEVICE: %s or %sn<NSID>, /dev/ optional (its NSID where -n is left out)\n"
            "  info | ready | list | smart\n"
            "  read   -n NSID [-s LBA] [-c COUNT]\n",
            ctl_dev(io), ctl_dev(io));
    ctl_out(io,
            "  write  -n NSID [-s LBA] [-c COUNT] (-p BYTE | -t TEXT%s) [--fua]\n"
            "  flush  -n NSID\n",
            io->read_file != NULL ? " | -f FILE" : "");
    ctl_out(io, "  write-verify -n NSID [-s LBA] [-c COUNT] [-k SEED] [--offset N]\n");
    ctl_out(io, "nvme-cli commands%s:\n", io->read_file != NULL ? " (FILE: -f or -d)" : "");
    for (unsigned i = 0; i < NCMDS; i++)
        if (!(cmds[i].flags & CMD_CLASSIC) && (!NVMECTL_LEAVES_OUT || cmds[i].fn != NULL))
            help_line(io, cmds[i].name, cmds[i].help);
    ctl_out(io, "  (-c counts blocks from 1, write-uncor's from 0; numbers may be 0x hex;\n"
                "  'zns X' runs zns-X or X)\n");
#if NVMECTL_LEAVES_OUT
    bool any = false; /* the groups this build left out */
    for (unsigned g = 1; g < sizeof(groups) / sizeof(groups[0]); g++) {
        if (!groups[g].out)
            continue;
        ctl_out(io, "%s%s", any ? " " : "  not built in (NVMECTL_LEAVE_OUT): ", groups[g].name);
        any = true;
    }
    if (any)
        ctl_out(io, "\n");
#endif
}

/* ------------------------------------------------------------------ */
/* Option parsing                                                      */
/* ------------------------------------------------------------------ */

static bool starts(const char *s, const char *p)
{
    while (*p != '\0')
        if (*s++ != *p++)
            return false;
    return true;
}

static const struct ctl_optdef *find_opt(const struct ctl_optdef *t, char sh)
{
    for (; t->lng != NULL; t++)
        if (sh != 0 && t->sh == sh)
            return t;
    return NULL;
}

/* Whether the n bytes at s start name. */
static bool starts_n(const char *name, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (name[i] != s[i] || name[i] == '\0')
            return false;
    return true;
}

/* The long option named by lng (lnglen bytes), as glibc's getopt_long
 * matches it: its exact name, else a prefix of one name only (entries of
 * one slot and kind, as -v/-V --value, count once); --output-format is one
 * of the names (*is_out, NULL returned).  *found: whether one matched. */
static const struct ctl_optdef *find_long(const struct ctl_optdef *t, const char *lng,
                                          size_t lnglen, bool *is_out, bool *found)
{
    static const char out_name[] = "output-format";
    const struct ctl_optdef *pre = NULL;
    bool ambig = false;
    *found = false;
    *is_out = false;
    if (lnglen == 0)
        return NULL;
    for (; t->lng != NULL; t++) {
        if (!starts_n(t->lng, lng, lnglen))
            continue;
        if (t->lng[lnglen] == '\0') {
            *found = true;
            return t;
        }
        if (pre != NULL && (pre->slot != t->slot || pre->kind != t->kind))
            ambig = true;
        pre = t;
    }
    if (starts_n(out_name, lng, lnglen)) {
        if (lnglen != sizeof(out_name) - 1u && pre != NULL)
            return NULL; /* ambiguous */
        *found = *is_out = true;
        return NULL;
    }
    *found = pre != NULL && !ambig;
    return *found ? pre : NULL;
}

/* nvme-cli's device word (`nvme <command> <device> ...`, parse_and_open):
 * this controller, <dev> or /dev/<dev> (io->dev_name), or one of its
 * namespaces, <dev>n<NSID> (NSID 1..FFFFFFFEh in decimal, as Linux names
 * them).  *nsid: the NSID, 0 for the controller; false (reported) for
 * anything else, another controller's device included. */
static bool dev_word(const struct ctl *c, const char *word, uint32_t *nsid)
{
    const char *dev = ctl_dev(c->io), *w = word, *d = dev;
    uint64_t v = 0;
    if (starts(w, "/dev/"))
        w += 5;
    while (*d != '\0' && *d == *w) {
        d++;
        w++;
    }
    if (*d == '\0' && w[0] == 'n' && w[1] >= '1' && w[1] <= '9' && nvmectl_parse_u64(w + 1, &v) &&
        v < NVME_NSID_ALL)
        w = "";
    if (*d == '\0' && *w == '\0') {
        *nsid = (uint32_t)v;
        return true;
    }
    ctl_out(c->io, "nvmectl %s: device '%s' is not %s or %sn<NSID>\n", c->cmd, word, dev, dev);
    return false;
}

/* Option word a ("-X...", "--name..."), as nvme-cli's getopt_long_only
 * reads it: its definition in defs, or NULL for -o/--output-format
 * (*is_out) and for one the command does not have; *inl: the value
 * inside the word (-c1, --count=1), else NULL. */
static const struct ctl_optdef *opt_of(const struct ctl_optdef *defs, const char *a,
                                       const char **inl, bool *is_out)
{
    const char *lng = a[1] == '-' ? a + 2 : a + 1;
    size_t lnglen = 0;
    bool found;
    *inl = NULL;
    while (lng[lnglen] != '\0' && lng[lnglen] != '=')
        lnglen++;
    /* getopt_long_only: a word of one dash is a long option too ("-data=f"
     * is --data=f, not -d with "ata=f"), tried first unless it is one
     * short letter the command has; a short one when no long name fits */
    if (a[1] == '-' || a[2] != '\0' || (a[1] != 'o' && find_opt(defs, a[1]) == NULL)) {
        const struct ctl_optdef *d = find_long(defs, lng, lnglen, is_out, &found);
        if (found || a[1] == '-') {
            if (lng[lnglen] == '=')
                *inl = lng + lnglen + 1;
            return d;
        }
    }
    if (a[2] != '\0')
        *inl = a + 2;
    *is_out = a[1] == 'o';
    return find_opt(defs, a[1]);
}

/* getopt's group of short options after one dash ("-Hb", "-Hn1", "-Hojson"):
 * while *d is a flag with letters after it in the word, its bit goes into
 * *flags and the next letter is the option, the rest of the word (or the
 * next word) the last one's value.  false: a letter the command lacks. */
static bool short_group(const struct ctl_optdef *defs, const char *a, const struct ctl_optdef **d,
                        const char **inl, bool *is_out, uint32_t *flags)
{
    if (*inl != a + 2) /* no letters after a short option */
        return true;
    while (*d != NULL && (*d)->kind == K_FLAG && *inl != NULL) {
        const char *l = *inl;
        *flags |= 1u << (*d)->slot;
        *d = find_opt(defs, *l);
        *is_out = *l == 'o';
        *inl = l[1] != '\0' ? l + 1 : NULL;
        if (*d == NULL && !*is_out)
            return false;
    }
    return true;
}

/* A word that is no option: "-" and every word after "--" (getopt's end
 * of the options) included. */
static bool no_option(const char *a, bool ended) { return ended || a[0] != '-' || a[1] == '\0'; }

static bool parse_opts(struct ctl *c, const struct ctl_optdef *defs, int argc, char **argv)
{
    struct ctl_opts *o = &c->o;
    nvme_memzero(o, sizeof(*o));
    o->num[N_COUNT] = 1;
    bool dev_seen = false, ended = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *inl;
        bool is_out;
        if (no_option(a, ended)) {
            /* nvme-cli's device: its first word that is no option nor an
             * option's value, before the options or after them
             * (getopt_long_only moves it last; parse_and_open) */
            if (!dev_seen) {
                dev_seen = true;
                if (!dev_word(c, a, &o->dev_nsid))
                    return false;
                continue;
            }
            ctl_out(c->io, "nvmectl %s: unexpected argument '%s'\n", c->cmd, a);
            return false;
        }
        if (nvme_streq(a, "--")) {
            ended = true;
            continue;
        }
        const struct ctl_optdef *d = opt_of(defs, a, &inl, &is_out);
        if (!short_group(defs, a, &d, &inl, &is_out, &o->flags) || (d == NULL && !is_out)) {
            ctl_out(c->io, "nvmectl: unknown option '%s'\n", a);
            return false;
        }
        if (d != NULL && d->kind == K_FLAG) {
            if (inl != NULL) {
                ctl_out(c->io, "nvmectl: option '%s' takes no value\n", a);
                return false;
            }
            o->flags |= 1u << d->slot;
            continue;
        }
        const char *val = inl != NULL ? inl : (i + 1 < argc ? argv[++i] : NULL);
        if (val == NULL) {
            ctl_out(c->io, "nvmectl: option '%s' needs a value\n", a);
            return false;
        }
        if (is_out && (nvme_streq(val, "json") || nvme_streq(val, "normal"))) {
            o->json = nvme_streq(val, "json");
            continue;
        }
        if (d == NULL) {
            ctl_out(c->io, "nvmectl: bad output format '%s' (normal or json)\n", val);
            return false;
        }
        if (d->kind == K_STR) {
            o->str[d->slot] = val;
        } else {
            /* an NSID is 32 bits: refused, not cut down (the commands
             * check their other narrow fields, naming them) */
            uint64_t top = d->slot == N_NSID ? 0xffffffffu : ~(uint64_t)0;
            if (!nvmectl_parse_u64(val, &o->num[d->slot]) || o->num[d->slot] > top) {
                ctl_out(c->io,
                        "nvmectl: bad number '%s' for '%s' (decimal, 0x hex or 0 octal, "
                        "nothing after it, at most %s)\n",
                        val, a, top == ~(uint64_t)0 ? "64 bits" : "32 bits");
                return false;
            }
            o->has_num |= 1ull << d->slot;
        }
    }
    return true;
}

/* Command d's options into c->o (c->cmd names it); a bad one: its
 * message, then the command's usage line. */
static bool parse_cmd(struct ctl *c, const struct ctl_cmd *d, int argc, char **argv)
{
    c->cmd = d->name;
    c->defs = d->opts;
    if (parse_opts(c, d->opts, argc, argv)) {
        /* A namespace device's NSID where nvme-cli's would ask the device
         * for one (CMD_NS, CMD_NS_UNSEEN): -n, given, wins */
        uint32_t nsid = c->o.dev_nsid;
        if ((d->flags & (CMD_NS | CMD_NS_UNSEEN)) != 0 && nsid != 0 &&
            (!has(c, N_NSID) || ((d->flags & CMD_NS) != 0 && c->o.num[N_NSID] == 0))) {
            c->o.num[N_NSID] = nsid;
            c->o.has_num |= 1ull << N_NSID;
        }
        return true;
    }
    ctl_out(c->io, "usage: nvmectl\n");
    help_line(c->io, d->name, d->help);
    return false;
}

/* Command `cmd`; after "zns" (nvme-cli's plugin form, "zns X"), the
 * plugin's zns-X where there is one (zns id-ctrl is not id-ctrl), else X;
 * the name is cut at 24 bytes, past every zns-X.  NULL: none. */
static const struct ctl_cmd *cmd_named(const char *cmd, bool zns)
{
    char zname[24];
    nvme_snprintf(zname, sizeof(zname), "zns-%s", cmd);
    for (unsigned pass = zns ? 0u : 1u; pass < 2; pass++)
        for (unsigned i = 0; i < NCMDS; i++)
            if (nvme_streq(pass == 0 ? zname : cmd, cmds[i].name))
                return &cmds[i];
    return NULL;
}

int nvmectl_main(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, int argc, char **argv)
{
    if (io == NULL || io->print == NULL)
        return NVME_ERR_INVAL;
    if (argc < 1 || argv == NULL || argv[0] == NULL) {
        nvmectl_usage(io);
        return NVME_ERR_INVAL;
    }
    const char *cmd = argv[0];
    if (nvme_streq(cmd, "help") || nvme_streq(cmd, "--help") || nvme_streq(cmd, "-h")) {
        nvmectl_usage(io);
        return NVME_OK;
    }
    bool zns = nvme_streq(cmd, "zns");
    if (zns) { /* nvme-cli's plugin form: "zns report-zones ..." */
        if (argc < 2) {
            nvmectl_usage(io);
            return NVME_ERR_INVAL;
        }
        argc--;
        argv++;
        cmd = argv[0];
    }
    if (ctrl == NULL) {
        ctl_out(io, "nvmectl: no controller\n");
        return NVME_ERR_STATE;
    }
    const struct ctl_cmd *d = cmd_named(cmd, zns);
    if (d != NULL) {
#if NVMECTL_LEAVES_OUT
        if (d->fn == NULL) { /* its group was left out of this build */
            ctl_out(io, "nvmectl %s: not built in (NVMECTL_LEAVE_OUT %s)\n", d->name,
                    groups[d->group].name);
            return NVME_ERR_UNSUPPORTED;
        }
#endif
        struct ctl c;
        c.ctrl = ctrl;
        c.io = io;
        if (!parse_cmd(&c, d, argc, argv))
            return NVME_ERR_INVAL;
        return d->fn(&c);
    }
    ctl_out(io, "nvmectl: unknown command '%s'\n", cmd);
    nvmectl_usage(io);
    return NVME_ERR_INVAL;
}

/* What separates the words of a line. */
static bool blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/* Splits `line` in place at blanks into argv (24 words at most); a
 * leading "nvmectl" word is skipped.  Returns the word count, or -1 for a
 * 25th word (reported). */
static int split_line(const struct nvmectl_io *io, char *line, char **argv)
{
    int argc = 0;
    char *p = line;
    while (*p != '\0') {
        while (blank(*p))
            *p++ = '\0';
        if (*p == '\0')
            break;
        if (argc == 24) { /* a 25th word: refused, not glued to the 24th */
            if (io != NULL && io->print != NULL)
                ctl_out(io, "nvmectl: more than 24 words on the line\n");
            return -1;
        }
        argv[argc++] = p;
        while (*p != '\0' && !blank(*p))
            p++;
    }
    if (argc > 0 && nvme_streq(argv[0], "nvmectl")) {
        for (int i = 1; i < argc; i++)
            argv[i - 1] = argv[i];
        argc--;
    }
    return argc;
}

int nvmectl_run_line(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, char *line)
{
    char *argv[24];
    if (line == NULL)
        return NVME_ERR_INVAL;
    int argc = split_line(io, line, argv);
    if (argc < 0)
        return NVME_ERR_INVAL;
    return nvmectl_main(ctrl, io, argc, argv);
}

/* The word at or after p (split_line's blanks around it): where it
 * starts, *n its length (0 at the end of the line). */
static const char *next_word(const char *p, size_t *n)
{
    while (blank(*p))
        p++;
    for (*n = 0; p[*n] != '\0' && !blank(p[*n]); (*n)++)
        ;
    return p;
}

/* Word p (n bytes) into w, NUL-terminated, cut to CTL_WORD - 1 bytes:
 * longer than every command name and option name (24 bytes at most, with
 * zns-), so a cut word names none, as the whole word names none; an
 * option's first two bytes and the '=' after its name stay. */
#define CTL_WORD 32u
static void word_at(char *w, const char *p, size_t n)
{
    if (n >= CTL_WORD)
        n = CTL_WORD - 1u;
    nvme_memcpy(w, p, n);
    w[n] = '\0';
}

/* The words are read where they are, not split in a copy: a line of any
 * length, as nvmectl_run_line takes it, with CTL_WORD bytes on the stack
 * twice (a kernel shell's). */
const char *nvmectl_device_word(const char *line, size_t *len)
{
    char cmd[CTL_WORD], a[CTL_WORD];
    const char *p, *inl;
    size_t n, n2;
    unsigned words = 0;
    bool zns = false, ended = false, is_out;
    if (line == NULL || len == NULL) /* nothing to read, or to say its length in */
        return NULL;
    for (p = next_word(line, &n); n != 0; p = next_word(p + n, &n))
        if (++words > 24) /* split_line refuses a 25th word */
            return NULL;
    p = next_word(line, &n);
    word_at(cmd, p, n);
    if (nvme_streq(cmd, "nvmectl")) { /* skipped, as split_line skips it */
        p = next_word(p + n, &n);
        word_at(cmd, p, n);
    }
    if (nvme_streq(cmd, "zns") && *next_word(p + n, &n2) != '\0') { /* "zns X" */
        zns = true;
        p = next_word(p + n, &n);
        word_at(cmd, p, n);
    }
    const struct ctl_cmd *d = cmd_named(cmd, zns);
    if (d == NULL || d->opts == NULL) /* unknown, or left out: nvmectl says so */
        return NULL;
    for (p = next_word(p + n, &n); n != 0; p = next_word(p + n, &n)) {
        word_at(a, p, n);
        if (no_option(a, ended)) {
            *len = n;
            return p;
        }
        if (nvme_streq(a, "--")) {
            ended = true;
            continue;
        }
        const struct ctl_optdef *o = opt_of(d->opts, a, &inl, &is_out);
        uint32_t flags = 0;
        if (!short_group(d->opts, a, &o, &inl, &is_out, &flags) || (o == NULL && !is_out))
            /* nvmectl refuses the line */
            return NULL;
        if (inl == NULL && (o == NULL || o->kind != K_FLAG))
            p = next_word(p + n, &n); /* its value */
    }
    return NULL;
}

int nvmectl_list_all(struct nvme_ctrl *const *ctrls, const char *const *names, unsigned n,
                     const struct nvmectl_io *io, char *line)
{
    char *argv[24];
    struct ctl c;
    if (io == NULL || io->print == NULL || line == NULL ||
        (n != 0 && (ctrls == NULL || names == NULL)))
        return NVME_ERR_INVAL;
    int argc = split_line(io, line, argv);
    if (argc < 0)
        return NVME_ERR_INVAL;
    for (unsigned i = 0; i < NCMDS; i++) {
        if (cmds[i].fn != ctl_cmd_list)
            continue;
        if (argc < 1 || !nvme_streq(argv[0], cmds[i].name))
            break;
        c.ctrl = NULL;
        c.io = io;
        if (!parse_cmd(&c, &cmds[i], argc, argv))
            return NVME_ERR_INVAL;
        return ctl_list_many(&c, ctrls, names, n);
    }
    ctl_out(io, "nvmectl: '%s' is not list\n", argc > 0 ? argv[0] : "");
    return NVME_ERR_INVAL;
}
