/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - what the files of libnvmectl share (not installed): the parsed
 * options, the per-command context, the output helpers and the JSON
 * writer.  Every file is freestanding: nvme_fmt.h instead of libc.
 */
#ifndef NVMECTL_CTL_H
#define NVMECTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme/nvme.h"
#include "nvme/nvme_fmt.h"
#include "nvme/nvmectl.h"

#define CTL_LINE 256

/* Numeric option slots. */
enum ctl_num {
    N_NSID,
    N_SLBA,
    N_COUNT,
    N_PATTERN,
    N_SEED,
    N_OFFSET,
    N_FID,
    N_VALUE,
    N_CDW12,
    N_LEN,
    N_LID,
    N_LSP,
    N_LSI,
    N_LPO,
    N_CSI,
    N_LBAF,
    N_SES,
    N_PI,
    N_PIL, /* format --pil, --ms: 0 or 1, as nvme-cli's */
    N_MSET,
    N_OWPASS,
    N_OVRPAT,
    N_SLOT,
    N_ACTION,
    N_ENTRIES,
    N_CNTID,
    N_XFER,
    N_OPCODE, /* admin-passthru's command dwords (CDW12: N_CDW12) */
    N_CDW2,
    N_CDW3,
    N_CDW10,
    N_CDW11,
    N_CDW13,
    N_CDW14,
    N_CDW15,
    N_NSZE, /* create-ns */
    N_NCAP,
    N_FLBAS,
    N_DPS,
    N_NMIC,
    N_SDLBA, /* copy */
    N_CRKEY, /* reservations: CRKEY, NRKEY or PRKEY, RTYPE, the action, CPTPL, NUMD */
    N_NRKEY,
    N_RTYPE,
    N_RACT,
    N_CPTPL,
    N_NUMD,
    N_BS,   /* create-ns --block-size */
    N_HGEN, /* telemetry-log --host-generate, --data-area */
    N_DA,
    N_ENDGID, /* endurance-log --group-id */
    N_BPID,   /* fw-commit --bpid */
    N_PRINFO, /* verify --prinfo, --ref-tag, --app-tag */
    N_REFTAG,
    N_APPTAG,
    N_APPMASK,  /* verify --app-tag-mask and --storage-tag: 0 is all the core sends */
    N_ANAGRPID, /* create-ns --anagrp-id, --nvmset-id */
    N_NVMSETID,
    N__COUNT
};
/* String option slots (names or lists, interpreted by the command). */
enum ctl_str {
    S_TEXT,
    S_FILE,
    S_SLBAS,
    S_BLOCKS,
    S_SEL,
    S_STC,
    S_SANACT,
    S_ZSA,
    S_OUTPUT,
    S_CTRLS, /* attach-ns / detach-ns: controller IDs; dsm -a: context attributes */
    S__COUNT
};
/* Flags. */
enum ctl_flag {
    F_IDR, /* dsm's three first: bits 0..2 are DSM Dword 11's IDR, IDW, AD (ctl_io.c) */
    F_IDW,
    F_AD,
    F_DEAC,
    F_FUA,
    F_LR,
    F_FORCE,
    F_SAVE,
    F_RAE,
    F_HUMAN,
    F_ALL,
    F_AUSE,
    F_NODAS,
    F_OIPBP,
    F_RAW, /* -b / --raw-binary */
    F_READ,
    F_WRITE,
    F_SHOW,
    F_DRY,
    F_IEKEY, /* reservations */
    F_EDS,
    F_CTRL_INIT, /* telemetry-log --controller-init */
    F_VS,        /* zns id-ns -v / --vendor-specific */
    F_STC,       /* verify -C / --storage-tag-check */
    F_RESET,     /* format -r / --reset */
    F_PROGRESS,  /* fw-download -p / --progress: taken, nothing shown */
    F__COUNT
};

enum ctl_kind { K_NUM, K_STR, K_FLAG };
/* The pointer first: 16 bytes on LP64 (8 on ILP32), not 24 (12) with a
 * padded char ahead of it; some 260 of them in the tables. */
struct ctl_optdef {
    const char *lng; /* long name without "--" */
    char sh;         /* short letter, 0: long only */
    uint8_t kind;    /* enum ctl_kind */
    uint8_t slot;    /* enum ctl_num / ctl_str / ctl_flag */
};

struct ctl_opts {
    uint64_t num[N__COUNT];
    uint64_t has_num; /* bit per enum ctl_num */
    const char *str[S__COUNT];
    uint32_t flags;    /* bit per enum ctl_flag */
    uint32_t dev_nsid; /* the namespace device's NSID (nvme0n1), 0: none */
    bool json;         /* -o json */
};

struct ctl {
    struct nvme_ctrl *ctrl;
    const struct nvmectl_io *io;
    struct ctl_opts o;
    const char *cmd;
    const struct ctl_optdef *defs; /* the command's options (messages name them) */
};

static inline bool has(const struct ctl *c, enum ctl_num n) { return (c->o.has_num >> n) & 1u; }
_Static_assert(N__COUNT <= 64 && F__COUNT <= 32, "option bit masks");
static inline bool flag(const struct ctl *c, enum ctl_flag f) { return (c->o.flags >> f) & 1u; }

/* Output (ctl_out.c). */
void ctl_out(const struct nvmectl_io *io, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *ctl_dev(const struct nvmectl_io *io);
/* Reports a failed call: "nvme0n1: dsm: <status name> (SCT x SC yy)", the
 * namespace named when nsid is one (0 / NVME_NSID_ALL: the controller).
 * Returns rc (NVME_ERR_INVAL when rc is 0). */
int ctl_fail(const struct ctl *c, uint32_t nsid, const char *what, int rc);
/* "134217728 bytes (128.0 MiB)" */
void ctl_fmt_size128(char *buf, size_t len, struct nvme_u128 bytes);
/* `blocks` of 2^lbads bytes (lbads < 64) in 128 bits: NSZE and NUSE are
 * 64-bit block counts, so a capacity a device reports may pass 2^64 bytes. */
struct nvme_u128 ctl_blocks_bytes(uint64_t blocks, unsigned lbads);
/* Lower-case hex of n bytes. */
void ctl_hex(char *dst, size_t dlen, const uint8_t *p, size_t n);
/* The name of `code` in a list of `size` bytes whose entries are the code
 * (one byte), the name and its NUL; "Unknown" when absent.  A switch
 * returning strings becomes a table of a pointer per code up to the
 * largest (1 KiB for opcodes up to 86h); such a list holds the names
 * alone. */
const char *ctl_code_name(const char *list, size_t size, unsigned code);
/* The n (<= 8) bytes at p as a little-endian number (device structures). */
uint64_t ctl_le(const uint8_t *p, unsigned n);
/* A Timestamp (milliseconds since 1970, NVMe 1.4 §5.21.1.14) as nvme-cli
 * prints it, strftime's "%c %Z" in the C locale, in UTC (the time zone of
 * a host without one): "Sat Dec  5 18:01:16 2026 UTC"; out holds 32. */
void ctl_utc_time(char out[32], uint64_t ms);
/* Get Log Page of `len` bytes into buf, NSID FFFFFFFFh, offset 0. */
int ctl_get_log(struct ctl *c, uint8_t lid, uint8_t lsp, uint16_t lsi, bool rae, void *buf,
                uint32_t len);
void ctl_hexdump(const struct nvmectl_io *io, const uint8_t *p, size_t len, uint64_t base);
/* The same from a 128-bit address (read: LBA x block size passes 2^64 on a
 * namespace of more than 2^(64 - LBADS) blocks). */
void ctl_hexdump_at(const struct nvmectl_io *io, const uint8_t *p, size_t len,
                    struct nvme_u128 base);
/* -b / --raw-binary: NVME_OK without -b or when the host can take binary
 * output, else NVME_ERR_UNSUPPORTED with a message (checked before the
 * command is sent). */
int ctl_raw_check(const struct ctl *c);
/* With -b: writes len bytes as they are through io->write_raw and returns
 * true (the command's output is done); without it false. */
bool ctl_raw(const struct ctl *c, const void *p, size_t len);
/* Next number of a comma-separated list at *p; false at the end or on
 * junk (*bad set). */
bool ctl_next_num(const char **p, uint64_t *v, bool *bad);
/* Requires -n (a namespace device's NSID stands for it: parse_cmd puts
 * it there), finds a usable namespace; prints why not.  need:
 * CTL_NS_RANGE also checks -c (1..2^32-1; -s defaults to 0, as nvme-cli's
 * start-block), CTL_NS_SLBA requires -s as well (the zns commands). */
#define CTL_NS_RANGE 1u
#define CTL_NS_SLBA 3u
const struct nvme_ns_info *ctl_need_ns(struct ctl *c, unsigned need, int *rc);
/* -n NSID of one namespace (1..FFFFFFFEh), which the command requires:
 * 0 (with "-n NSID is required: one namespace, 1..0xfffffffe") when
 * it is absent, 0 or FFFFFFFFh (which Identify CNS 03h, CNS 05h and
 * Namespace Attachment take as no namespace or refuse). */
uint32_t ctl_one_nsid(const struct ctl *c);
/* "-n NSID" given and plausible, 0 when absent; false on a bad value. */
uint32_t ctl_nsid_or(const struct ctl *c, uint32_t dflt);
/* Announces a usage error and returns NVME_ERR_INVAL. */
int ctl_usage_err(const struct ctl *c, const char *msg);
/* Success message of commands that move no data: text or {"result":...}. */
int ctl_done(const struct ctl *c, uint32_t nsid, const char *what);
/* Whether `count` blocks of 2^lbads bytes fit `copies` times in the
 * scratch buffer after `offset`. */
bool ctl_fits(const struct nvmectl_io *io, uint64_t offset, uint64_t count, unsigned lbads,
              unsigned copies);
/* Fills buf (len bytes) from -p / -t / -f; false (message printed) when
 * none or several are given, the text or the file is longer than len
 * (the file: when the scratch buffer has a byte after buf to tell) or the
 * file cannot be read.  After a shorter text or file: num[N_PATTERN]'s
 * byte, 0 but under the file of admin-passthru's -p (its has bit cleared). */
bool ctl_fill_data(struct ctl *c, uint8_t *buf, size_t len, int *rc);
/* The scratch buffer holding -c blocks of `ns` from -p / -t / -f (the
 * data a Compare or Zone Append sends), or NULL with *rc and a message. */
uint8_t *ctl_block_data(struct ctl *c, const struct nvme_ns_info *ns, int *rc);

/* `len` bytes at `off` of the caller's scratch buffer (8-byte aligned
 * start), or NULL with a message when it is too small. */
void *ctl_scratch(const struct ctl *c, size_t off, size_t len);

/* Identify with CDW10 `cdw10` (CNS and, in 31:16, a CNTID nvme_identify
 * does not take) for `nsid`, through the admin passthrough: its 4096
 * bytes at the scratch buffer's start, or NULL with *rc and the failure
 * printed as `what`'s (ctl_identify.c). */
uint8_t *ctl_identify_raw(struct ctl *c, uint32_t cdw10, uint32_t nsid, const char *what, int *rc);

/* JSON writer (ctl_json.c): streams through io->print, nesting at most
 * JW_DEPTH levels; strings escaped (device text may hold anything). */
#define JW_DEPTH 8
struct jw {
    const struct nvmectl_io *io;
    unsigned depth;
    bool first[JW_DEPTH];
};
void jw_begin(struct jw *w, const struct nvmectl_io *io); /* "{" */
void jw_end(struct jw *w);                                /* closes all, "}\n" */
void jw_obj(struct jw *w, const char *key);               /* key NULL inside an array */
void jw_arr(struct jw *w, const char *key);
void jw_close_obj(struct jw *w);
void jw_close_arr(struct jw *w);
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_u128(struct jw *w, const char *key, const uint8_t le[16]);
void jw_u128v(struct jw *w, const char *key, struct nvme_u128 v);
void jw_str(struct jw *w, const char *key, const char *s);
void jw_strn(struct jw *w, const char *key, const char *s, size_t n);
void jw_bool(struct jw *w, const char *key, bool v);
/* Bytes as one lower-case hex string. */
void jw_hex(struct jw *w, const char *key, const uint8_t *p, size_t n);

/* Command implementations, one file per family. */
int ctl_cmd_info(struct ctl *c);
int ctl_cmd_ready(struct ctl *c);
int ctl_cmd_list(struct ctl *c);
/* list's table over several controllers (nvmectl_list_all). */
int ctl_list_many(struct ctl *c, struct nvme_ctrl *const *ctrls, const char *const *names,
                  unsigned nctrls);
int ctl_cmd_id_ctrl(struct ctl *c);
int ctl_cmd_id_ns(struct ctl *c);
int ctl_cmd_ns_descs(struct ctl *c);
int ctl_cmd_list_ns(struct ctl *c);
int ctl_cmd_list_ctrl(struct ctl *c);
int ctl_cmd_ns_rescan(struct ctl *c);
int ctl_cmd_smart_log(struct ctl *c);
int ctl_cmd_error_log(struct ctl *c);
int ctl_cmd_fw_log(struct ctl *c);
int ctl_cmd_changed_ns(struct ctl *c);
int ctl_cmd_effects_log(struct ctl *c);
int ctl_cmd_self_test_log(struct ctl *c);
int ctl_cmd_sanitize_log(struct ctl *c);
int ctl_cmd_get_log(struct ctl *c);
int ctl_cmd_persistent_event_log(struct ctl *c);
int ctl_cmd_get_feature(struct ctl *c);
int ctl_cmd_set_feature(struct ctl *c);
int ctl_cmd_read(struct ctl *c);
int ctl_cmd_write(struct ctl *c);
int ctl_cmd_flush(struct ctl *c);
int ctl_cmd_write_verify(struct ctl *c);
int ctl_cmd_nvm_verify(struct ctl *c);
int ctl_cmd_compare(struct ctl *c);
int ctl_cmd_dsm(struct ctl *c);
int ctl_cmd_copy(struct ctl *c);
int ctl_cmd_write_zeroes(struct ctl *c);
int ctl_cmd_write_uncor(struct ctl *c);
int ctl_cmd_format(struct ctl *c);
int ctl_cmd_self_test(struct ctl *c);
int ctl_cmd_sanitize(struct ctl *c);
int ctl_cmd_fw_download(struct ctl *c);
int ctl_cmd_fw_commit(struct ctl *c);
int ctl_cmd_reset(struct ctl *c);
int ctl_cmd_subsystem_reset(struct ctl *c);
int ctl_cmd_admin_passthru(struct ctl *c);
int ctl_cmd_io_passthru(struct ctl *c);
int ctl_cmd_create_ns(struct ctl *c);
int ctl_cmd_resv_register(struct ctl *c);
int ctl_cmd_resv_acquire(struct ctl *c);
int ctl_cmd_resv_release(struct ctl *c);
int ctl_cmd_resv_report(struct ctl *c);
int ctl_cmd_delete_ns(struct ctl *c);
int ctl_cmd_attach_ns(struct ctl *c);
int ctl_cmd_detach_ns(struct ctl *c);
int ctl_cmd_virt_mgmt(struct ctl *c);
int ctl_cmd_telemetry_log(struct ctl *c); /* ctl_telemetry.c */
/* ctl_nvme2_logs.c */
int ctl_cmd_supported_log_pages(struct ctl *c);
int ctl_cmd_endurance_log(struct ctl *c);
int ctl_cmd_ana_log(struct ctl *c);
/* ctl_nvme2_identify.c */
int ctl_cmd_primary_ctrl_caps(struct ctl *c);
int ctl_cmd_list_secondary(struct ctl *c);
int ctl_cmd_id_iocs(struct ctl *c);
int ctl_cmd_nvm_id_ctrl(struct ctl *c);
int ctl_cmd_nvm_id_ns(struct ctl *c);
int ctl_cmd_show_regs(struct ctl *c); /* ctl_regs.c */
/* ctl_zns.c */
int ctl_cmd_zns_id(struct ctl *c);   /* zns id-ctrl, zns id-ns */
int ctl_cmd_zns_zone(struct ctl *c); /* zns open-zone .. offline-zone */
int ctl_cmd_report_zones(struct ctl *c);
int ctl_cmd_zone_mgmt_send(struct ctl *c);
int ctl_cmd_zone_append(struct ctl *c);
int ctl_cmd_get_ns_id(struct ctl *c); /* ctl_identify.c */
/* An admin or I/O opcode's name (ctl_logs.c), "Unknown" when the spec
 * has none. */
const char *ctl_admin_name(unsigned op);
const char *ctl_io_name(unsigned op);

#endif /* NVMECTL_CTL_H */
