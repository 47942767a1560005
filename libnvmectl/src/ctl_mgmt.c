/* SPDX-License-Identifier: MIT */
/*
 * ctl_mgmt.c - management: format, device-self-test, sanitize,
 * fw-download, fw-commit, subsystem-reset, the namespaces (create-ns,
 * delete-ns, attach-ns, detach-ns) and virt-mgmt.  The destructive ones
 * (format, sanitize, fw-commit, subsystem-reset) refuse to run without
 * --force, which is what hands the core NVME_CONFIRM_DESTROY.
 */
#include "ctl.h"

static bool forced(struct ctl *c, const char *what)
{
    if (flag(c, F_FORCE))
        return true;
    ctl_out(c->io, "nvmectl %s: refused: this %s; add --force to confirm\n", c->cmd, what);
    return false;
}

/* nvme-cli's --block-size (format, create-ns): the first LBA format of
 * Identify Namespace `nsid` (create-ns: FFFFFFFFh, the controller's
 * common namespace capabilities with Namespace Management, NVMe 1.4
 * §5.15.2.1) whose data size is `bs` and metadata size 0; its index, or
 * -1 with the message printed, `what` (LBAF, FLBAS) naming the option it
 * stands for.  NLBAF and LBADS are device data: at most 64 formats, LBADS
 * checked before the shift; all NLBAF + 1 formats are searched (nvme-cli
 * 2.4's format() misses the last), then the NULBAF unique capability
 * formats listed after them (byte 82, NVM CS 1.0 Figure 97), which the
 * core formats to (nvme-cli 2.4 searches neither). */
static int format_of_size(struct ctl *c, uint32_t nsid, uint64_t bs, const char *what, int *rc)
{
    *rc = NVME_ERR_INVAL;
    if (bs == 0 || (bs & (bs - 1u)) != 0) {
        ctl_out(c->io, "Invalid value for block size (%llu). Block size must be a power of two\n",
                (unsigned long long)bs);
        return -1;
    }
    /* (the passthrough's bounce is zeroed: bytes a device leaves out read 0) */
    const struct nvme_id_ns *id = (const struct nvme_id_ns *)(void *)ctl_identify_raw(
        c, NVME_CNS_NS, nsid, "identify-namespace", rc);
    if (id == NULL)
        return -1;
    unsigned last = (unsigned)id->nlbaf + id->nulbaf;
    last = last > NVME_NLBAF_MAX_V2 ? NVME_NLBAF_MAX_V2 : last;
    for (unsigned i = 0; i <= last; i++) {
        struct nvme_lbaf f = nvme_id_ns_lbaf(id, i);
        if (f.lbads < 64u && ((uint64_t)1 << f.lbads) == bs && f.ms == 0)
            return (int)i;
    }
    *rc = NVME_ERR_INVAL;
    ctl_out(c->io,
            "%s corresponding to block size %llu not found\n"
            "Please correct block size, or specify %s directly\n",
            what, (unsigned long long)bs, what);
    return -1;
}

/* nvme-cli's message for --block-size with the option it stands for */
static __attribute__((noinline)) int both_given(const struct ctl *c, const char *what)
{
    ctl_out(c->io, "Invalid specification of both %s and Block Size, please specify only one\n",
            what);
    return NVME_ERR_INVAL;
}

int ctl_cmd_format(struct ctl *c)
{
    if (!has(c, N_NSID) || c->o.num[N_NSID] == 0 || c->o.num[N_NSID] > 0xffffffffu)
        return ctl_usage_err(c, "-n NSID (or 0xffffffff for all) is required");
    uint32_t nsid = (uint32_t)c->o.num[N_NSID];
    const struct nvme_ns_info *ns = nsid != NVME_NSID_ALL ? nvme_ns_find(c->ctrl, nsid) : NULL;
    if (nsid != NVME_NSID_ALL && ns == NULL) {
        ctl_out(c->io, "%s: no active namespace %u\n", ctl_dev(c->io), nsid);
        return NVME_ERR_NOENT;
    }
    /* --pil and --ms take a value, as nvme-cli's (CDW10 PIL bit 8, MSET bit 4: §5.23).
     * SES 011b-111b and PI 100b-111b are reserved (NVMe 1.4 §5.23, CDW10): the
     * core refuses them, so they are refused here with the range, before
     * --force, not as a bare "invalid argument" after it. */
    if (c->o.num[N_LBAF] > 63 || c->o.num[N_SES] > 2 || c->o.num[N_PI] > 3 || c->o.num[N_PIL] > 1 ||
        c->o.num[N_MSET] > 1)
        return ctl_usage_err(c, "--lbaf is 0..63, --ses 0..2 (3..7 reserved), --pi 0..3 (4..7 "
                                "reserved), --pil and --ms 0 or 1");
    /* NLBAF is 0-based (NVM CS 1.0 Figure 97): a format past it is
     * Invalid Format; said with the namespace's range (a namespace whose
     * NLBAF is invalid is the core's to judge). */
    if (ns != NULL && has(c, N_LBAF) && ns->status != NVME_ERR_PROTO &&
        c->o.num[N_LBAF] > ns->nlbaf) {
        ctl_out(c->io, "nvmectl format: %sn%u has LBA formats 0..%u: no --lbaf %llu\n",
                ctl_dev(c->io), nsid, ns->nlbaf, (unsigned long long)c->o.num[N_LBAF]);
        return NVME_ERR_INVAL;
    }
    struct nvme_format_args a;
    nvme_memzero(&a, sizeof(a));
    a.nsid = nsid;
    a.lbaf = has(c, N_LBAF) ? (uint8_t)c->o.num[N_LBAF] : (ns != NULL ? ns->format : 0);
    /* -b: nvme-cli's --block-size, the namespace's format of that data
     * size and no metadata (with -n FFFFFFFFh: of Identify Namespace
     * FFFFFFFFh, where nvme-cli takes format 0); --lbaf or -b, not both */
    if (has(c, N_BS)) {
        if (has(c, N_LBAF))
            return both_given(c, "LBAF");
        int rc, idx = format_of_size(c, nsid, c->o.num[N_BS], "LBAF", &rc);
        if (idx < 0)
            return rc;
        a.lbaf = (uint8_t)idx;
    }
    a.ses = (uint8_t)c->o.num[N_SES];
    a.pi = (uint8_t)c->o.num[N_PI];
    a.pil = c->o.num[N_PIL] != 0;
    a.mset = c->o.num[N_MSET] != 0;
    /* FNA bit 0 (NVMe 2.0 Figure 275): a format of one namespace formats
     * them all; nvme-cli's format() reads FNA from an Identify
     * Controller and sends FFFFFFFFh.  The NSID is sent as given (valid
     * too, and a controller with FNA bit 3 takes no FFFFFFFFh); what
     * --force confirms says every namespace. */
    bool all = nsid == NVME_NSID_ALL;
    if (!all) {
        uint8_t *id = ctl_scratch(c, 0, 4096);
        if (id == NULL)
            return NVME_ERR_NOMEM;
        int rc = nvme_identify(c->ctrl, NVME_CNS_CTRL, 0, id);
        if (rc != NVME_OK)
            return ctl_fail(c, 0, "format (identify)", rc);
        all = (id[524] & NVME_FNA_FORMAT_ALL) != 0; /* FNA */
    }
    char what[96];
    if (all)
        nvme_snprintf(what, sizeof(what), "erases every namespace of %s%s", ctl_dev(c->io),
                      nsid != NVME_NSID_ALL ? " (FNA bit 0: a format of one formats all)" : "");
    else
        nvme_snprintf(what, sizeof(what), "erases all data of %sn%u", ctl_dev(c->io), nsid);
    if (!forced(c, what))
        return NVME_ERR_INVAL;
    int rc = nvme_format(c->ctrl, &a, NVME_CONFIRM_DESTROY);
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, "format", rc);
    /* -r: nvme-cli's --reset, a controller reset after the format */
    if (flag(c, F_RESET) && (rc = nvme_ctrl_reset(c->ctrl)) != NVME_OK)
        return ctl_fail(c, 0, "format: reset", rc);
    if (c->o.json)
        return ctl_done(c, nsid, "format");
    ctl_out(c->io, "Success formatting namespace:%x\n", nsid); /* nvme-cli's line */
    return NVME_OK;
}

int ctl_cmd_self_test(struct ctl *c)
{
    static const struct {
        const char *name;
        uint8_t stc;
    } codes[] = {{"short", NVME_DST_SHORT},
                 {"extended", NVME_DST_EXTENDED},
                 {"vendor", NVME_DST_VENDOR},
                 {"abort", NVME_DST_ABORT}};
    const char *s = c->o.str[S_STC];
    uint8_t stc = 0;
    uint64_t v;
    for (unsigned i = 0; s != NULL && i < sizeof(codes) / sizeof(codes[0]); i++)
        if (nvme_streq(s, codes[i].name))
            stc = codes[i].stc;
    if (stc == 0 && s != NULL && nvmectl_parse_u64(s, &v) &&
        (v == 1 || v == 2 || v == 0xe || v == 0xf))
        stc = (uint8_t)v;
    if (stc == 0)
        return ctl_usage_err(c, "-s is short, extended, vendor or abort (1, 2, 0xe, 0xf)");
    uint32_t nsid = ctl_nsid_or(c, NVME_NSID_ALL);
    int rc = nvme_device_self_test(c->ctrl, nsid, stc);
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, "device-self-test", rc);
    return ctl_done(c, nsid,
                    stc == NVME_DST_ABORT ? "device self-test aborted"
                                          : "device self-test started (see self-test-log)");
}

int ctl_cmd_sanitize(struct ctl *c)
{
    static const struct {
        const char *name;
        uint8_t act;
    } acts[] = {{"exit-failure", NVME_SANACT_EXIT_FAILURE}, {"block", NVME_SANACT_BLOCK},
                {"start-block-erase", NVME_SANACT_BLOCK},   {"overwrite", NVME_SANACT_OVERWRITE},
                {"start-overwrite", NVME_SANACT_OVERWRITE}, {"crypto", NVME_SANACT_CRYPTO},
                {"start-crypto-erase", NVME_SANACT_CRYPTO}};
    const char *s = c->o.str[S_SANACT];
    uint8_t act = 0;
    uint64_t v;
    for (unsigned i = 0; s != NULL && i < sizeof(acts) / sizeof(acts[0]); i++)
        if (nvme_streq(s, acts[i].name))
            act = acts[i].act;
    if (act == 0 && s != NULL && nvmectl_parse_u64(s, &v) && v >= 1 && v <= 4)
        act = (uint8_t)v;
    if (act == 0)
        return ctl_usage_err(c, "-a is exit-failure, block, overwrite or crypto (1..4)");
    if (c->o.num[N_OWPASS] > 15 || c->o.num[N_OVRPAT] > 0xffffffffu)
        return ctl_usage_err(c, "--owpass is 0..15, --ovrpat 32 bits");
    /* OWPASS, OIPBP and the Overwrite Pattern are the Overwrite action's
     * (§5.24: ignored with another SANACT), AUSE and No-Deallocate start
     * an operation Exit Failure Mode does not: given with another action
     * they are refused, as nvme-cli refuses them, not sent to be ignored */
    if (act != NVME_SANACT_OVERWRITE &&
        (c->o.num[N_OWPASS] != 0 || flag(c, F_OIPBP) || c->o.num[N_OVRPAT] != 0))
        return ctl_usage_err(c, "--owpass, --oipbp and --ovrpat are overwrite's");
    if (act == NVME_SANACT_EXIT_FAILURE && (flag(c, F_AUSE) || flag(c, F_NODAS)))
        return ctl_usage_err(c, "--ause and --no-dealloc start a sanitize: not with exit-failure");
    if (act != NVME_SANACT_EXIT_FAILURE && !forced(c, "erases every namespace of the subsystem"))
        return NVME_ERR_INVAL;
    struct nvme_sanitize_args a;
    nvme_memzero(&a, sizeof(a));
    a.action = act;
    a.ause = flag(c, F_AUSE);
    a.owpass = (uint8_t)c->o.num[N_OWPASS];
    a.oipbp = flag(c, F_OIPBP);
    a.nodas = flag(c, F_NODAS);
    a.ovrpat = (uint32_t)c->o.num[N_OVRPAT];
    int rc = nvme_sanitize(c->ctrl, &a, NVME_CONFIRM_DESTROY);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "sanitize", rc);
    /* Exit Failure Mode (SANACT 001b, §5.24) starts no operation. */
    return ctl_done(c, 0,
                    act == NVME_SANACT_EXIT_FAILURE
                        ? "sanitize: left the failure mode (exit failure mode)"
                        : "sanitize started (see get-log -i 0x81 -l 512)");
}

int ctl_cmd_fw_download(struct ctl *c)
{
    const struct ctl_opts *o = &c->o;
    size_t room = c->io->buf_len > 8 ? c->io->buf_len - 8 : 0;
    uint64_t len = o->num[N_LEN];
    if (o->str[S_FILE] != NULL) {
        if (c->io->read_file == NULL) {
            ctl_out(c->io, "nvmectl fw-download: this host has no files; give the image with "
                           "--pattern BYTE -l LEN or -t TEXT\n");
            return NVME_ERR_UNSUPPORTED;
        }
        if (len == 0 || len > room)
            len = room;
    } else if (o->str[S_TEXT] != NULL && len == 0) {
        len = (nvme_strlen(o->str[S_TEXT]) + 3u) & ~(size_t)3u;
    }
    if (len == 0 || len > room || len > 0xffffffffu)
        return ctl_usage_err(c, "the image length (-l) must fit the scratch buffer");
    /* A file's image is rounded up to a dword with zeros; without -l one
     * byte more is asked for, to tell a file larger than the buffer from
     * one that fits (room + 4 <= buf_len). */
    bool probe = o->str[S_FILE] != NULL && o->num[N_LEN] == 0;
    size_t ask = (size_t)len + (probe ? 1u : 0u);
    size_t span = o->str[S_FILE] != NULL ? ((size_t)len + 4u) & ~(size_t)3u : (size_t)len;
    uint8_t *b = ctl_scratch(c, 0, span);
    if (b == NULL)
        return NVME_ERR_NOMEM;
    if (o->str[S_FILE] != NULL) {
        nvme_memzero(b, span);
        long n = c->io->read_file(c->io->arg, o->str[S_FILE], b, ask);
        if (n <= 0 || (uint64_t)n > ask) {
            ctl_out(c->io, "nvmectl: cannot read '%s'\n", o->str[S_FILE]);
            return NVME_ERR_INVAL;
        }
        if ((uint64_t)n > len) {
            ctl_out(c->io,
                    "nvmectl fw-download: '%s' is larger than the %llu bytes the scratch "
                    "buffer holds; not sent\n",
                    o->str[S_FILE], (unsigned long long)len);
            return NVME_ERR_INVAL;
        }
        len = ((uint64_t)n + 3u) & ~(uint64_t)3u;
    } else {
        int rc;
        if (!ctl_fill_data(c, b, (size_t)len, &rc))
            return rc;
    }
    if ((len & 3u) != 0)
        return ctl_usage_err(c, "the image length must be a multiple of 4");
    /* --xfer: pieces of that many bytes, as nvme-cli sends them (the
     * core cuts each at FWUG and MDTS). */
    uint64_t step = o->num[N_XFER];
    /* --offset counts dwords, as nvme-cli's ("starting dword offset",
     * shifted left by 2) and OFST (CDW11, §5.12) */
    uint64_t off = o->num[N_OFFSET] << 2;
    if ((step & 3u) != 0 || o->num[N_OFFSET] > 0x3fffffffu || off + len > 0x100000000ull)
        return ctl_usage_err(c, "--xfer must be a multiple of 4, the image end below 4 GiB");
    if (step == 0 || step > len)
        step = len;
    int rc = NVME_OK;
    for (uint64_t done = 0; done < len && rc == NVME_OK; done += step)
        rc = nvme_fw_download(c->ctrl, (uint32_t)(off + done), b + done,
                              (uint32_t)(len - done < step ? len - done : step));
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "fw-download", rc);
    char what[64];
    nvme_snprintf(what, sizeof(what), "firmware download: %llu bytes at offset %llu",
                  (unsigned long long)len, (unsigned long long)off);
    return ctl_done(c, 0, what);
}

int ctl_cmd_fw_commit(struct ctl *c)
{
    /* Commit Action (CDW10 5:3, §5.11) 100b and 101b are reserved:
     * refused as nvme-cli refuses them, not sent; -a, -s and -b (BPID, a
     * value as nvme-cli's OPT_BYTE) 0 when not given, as nvme-cli's */
    if (c->o.num[N_SLOT] > 7 || c->o.num[N_ACTION] > 7 || c->o.num[N_ACTION] == 4 ||
        c->o.num[N_ACTION] == 5 || c->o.num[N_BPID] > 1)
        return ctl_usage_err(c, "-s SLOT is 0..7, -a ACTION 0..3, 6 or 7 (4 and 5 are reserved), "
                                "-b BPID 0 or 1");
    if (!forced(c, "replaces or activates controller firmware"))
        return NVME_ERR_INVAL;
    uint32_t dw0 = 0;
    uint8_t slot = (uint8_t)c->o.num[N_SLOT], act = (uint8_t)c->o.num[N_ACTION];
    int rc = nvme_fw_commit(c->ctrl, slot, act, c->o.num[N_BPID] != 0, &dw0);
    /* Firmware Activation Requires Conventional (0Bh), NVM Subsystem (10h)
     * or Controller Level (11h) Reset (§5.12): committed, active after
     * that kind of reset, which is named as nvme-cli names it. */
    unsigned sc = rc > 0 && NVME_SF_SCT((unsigned)rc) == 1 ? NVME_SF_SC((unsigned)rc) : 0u;
    if (sc == 0x0b || sc == 0x10 || sc == 0x11) {
        ctl_out(c->io, "%s: fw-commit: %s: the new firmware runs after that reset (%s)\n",
                ctl_dev(c->io), nvme_status_name((uint16_t)rc),
                sc == 0x11   ? "nvmectl reset"
                : sc == 0x10 ? "nvmectl subsystem-reset --force"
                             : "a power cycle or PCIe reset; nvmectl cannot do it");
        return rc;
    }
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "fw-commit", rc);
    char what[64];
    nvme_snprintf(what, sizeof(what), "firmware commit: slot %u, action %u", slot, act);
    return ctl_done(c, 0, what);
}

int ctl_cmd_subsystem_reset(struct ctl *c)
{
    if (!forced(c, "resets every controller of the NVM subsystem"))
        return NVME_ERR_INVAL;
    int rc = nvme_subsystem_reset(c->ctrl, NVME_CONFIRM_DESTROY);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "subsystem-reset", rc);
    return ctl_done(c, 0, "NVM subsystem reset");
}

/* ------------------------------------------------------------------ */
/* Namespace Management and Attachment (nvme-cli's messages)           */
/* ------------------------------------------------------------------ */

int ctl_cmd_create_ns(struct ctl *c)
{
    const uint64_t *n = c->o.num;
    if (!has(c, N_NSZE) || n[N_NSZE] == 0)
        return ctl_usage_err(c, "-s NSZE (blocks) is required");
    /* -f is the FLBAS byte, as nvme-cli's --flbas: format index bits 3:0
     * and 6:5, bit 4 extended data LBA, bit 7 reserved (NVMe 2.0 Figure
     * 276); -b, nvme-cli's --block-size, picks the format instead.  One of
     * them, not both (nvme-cli's messages). */
    if (has(c, N_FLBAS) && has(c, N_BS))
        return both_given(c, "FLBAS");
    if (!has(c, N_FLBAS) && !has(c, N_BS))
        return ctl_usage_err(c, "-f FLBAS or -b BLOCK-SIZE is required");
    if (n[N_NCAP] > n[N_NSZE] || n[N_FLBAS] > 0x7f || n[N_DPS] > 0xff || n[N_NMIC] > 1 ||
        n[N_CSI] > 0xff || n[N_ANAGRPID] > 0xffffffffu || n[N_NVMSETID] > 0xffff)
        return ctl_usage_err(c, "-c NCAP <= NSZE, -f 0..0x7f (FLBAS, bit 7 reserved), -d 0..255, "
                                "-m 0 or 1, -y 0..255, -a 32 bits, -i 16");
    struct nvme_ns_create_args a;
    nvme_memzero(&a, sizeof(a));
    if (has(c, N_BS)) {
        int rc, idx = format_of_size(c, NVME_NSID_ALL, n[N_BS], "FLBAS", &rc);
        if (idx < 0)
            return rc;
        a.flbas = (uint8_t)idx;
    } else {
        a.flbas = (uint8_t)NVME_FLBAS_INDEX_V2(n[N_FLBAS]);
        a.md_extended = (n[N_FLBAS] & NVME_FLBAS_EXTENDED) != 0;
    }
    a.nsze = n[N_NSZE];
    a.ncap = n[N_NCAP];
    a.dps = (uint8_t)n[N_DPS];
    a.nmic = n[N_NMIC] != 0;
    a.csi = (uint8_t)n[N_CSI];
    a.anagrpid = (uint32_t)n[N_ANAGRPID]; /* nvme-cli's -a, -i */
    a.nvmsetid = (uint16_t)n[N_NVMSETID];
    uint32_t nsid = 0;
    int rc = nvme_ns_create(c->ctrl, &a, &nsid);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "create-ns", rc);
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, c->io);
        jw_str(&w, "device", ctl_dev(c->io));
        jw_str(&w, "command", c->cmd);
        jw_str(&w, "result", "success");
        jw_u64(&w, "nsid", nsid);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(c->io, "create-ns: Success, created nsid:%u\n", nsid);
    return NVME_OK;
}

int ctl_cmd_delete_ns(struct ctl *c)
{
    if (!has(c, N_NSID) || c->o.num[N_NSID] == 0 || c->o.num[N_NSID] > 0xffffffffu)
        return ctl_usage_err(c, "-n NSID (or 0xffffffff for all) is required");
    uint32_t nsid = (uint32_t)c->o.num[N_NSID];
    char what[64];
    nvme_snprintf(what, sizeof(what), "deletes namespace %u and its data", nsid);
    if (!forced(c, what))
        return NVME_ERR_INVAL;
    int rc = nvme_ns_delete(c->ctrl, nsid, NVME_CONFIRM_DESTROY);
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, "delete-ns", rc);
    if (c->o.json)
        return ctl_done(c, nsid, "delete-ns");
    /* nvme-cli's %d: every namespace (FFFFFFFFh) is nsid:-1 */
    ctl_out(c->io, "delete-ns: Success, deleted nsid:%d\n", (int)nsid);
    return NVME_OK;
}

static int attach_ns(struct ctl *c, bool attach)
{
    uint32_t nsid = ctl_one_nsid(c);
    if (nsid == 0)
        return NVME_ERR_INVAL;
    uint16_t ids[16];
    unsigned k = 0;
    bool bad = false;
    uint64_t v;
    for (const char *p = c->o.str[S_CTRLS]; p != NULL && ctl_next_num(&p, &v, &bad);) {
        if (k == 16 || v > 0xffffu)
            return ctl_usage_err(c, "-c is a list of at most 16 controller IDs (0..65535)");
        ids[k++] = (uint16_t)v;
    }
    if (bad)
        return ctl_usage_err(c, "-c is a comma-separated list of controller IDs");
    int rc = nvme_ns_attach(c->ctrl, nsid, attach, ids, k); /* none: this controller */
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, c->cmd, rc);
    if (c->o.json)
        return ctl_done(c, nsid, c->cmd);
    ctl_out(c->io, "%s: Success, nsid:%u\n", c->cmd, nsid);
    return NVME_OK;
}

int ctl_cmd_attach_ns(struct ctl *c) { return attach_ns(c, true); }
int ctl_cmd_detach_ns(struct ctl *c) { return attach_ns(c, false); }

/* ------------------------------------------------------------------ */
/* virt-mgmt: Virtualization Management (NVMe 1.4 §5.22)               */
/* ------------------------------------------------------------------ */

/* nvme-cli's -c CNTLID, -r RT, -a ACT, -n NR, sent as they are (ACT 1h
 * primary flexible allocation, 7h-9h a secondary's offline, assign,
 * online: the controller judges them); CDW10 ACT bits 3:0, RT 10:8,
 * CNTLID 31:16, CDW11 NR 15:0; Dword 0 of the completion: NRM, how many
 * resources the action changed (nvme-cli's line prints all of it).  NR
 * is 0 without -n, as nvme-cli's: -n's slot, -c's of read and write,
 * holds 1 until given. */
int ctl_cmd_virt_mgmt(struct ctl *c)
{
    const uint64_t *n = c->o.num;
    uint64_t nr = has(c, N_COUNT) ? n[N_COUNT] : 0u;
    if (n[N_CNTID] > 0xffffu || nr > 0xffffu || n[N_RTYPE] > 7u || n[N_ACTION] > 15u)
        return ctl_usage_err(c, "-c CNTLID and -n NR are 0..65535, -r 0..7, -a 0..15");
    struct nvme_sqe sqe;
    nvme_memzero(&sqe, sizeof(sqe));
    sqe.opc = NVME_ADMIN_VIRT_MGMT;
    sqe.cdw10 = (uint32_t)(n[N_ACTION] | n[N_RTYPE] << 8 | n[N_CNTID] << 16);
    sqe.cdw11 = (uint32_t)nr;
    uint32_t dw0 = 0;
    int rc = nvme_admin_passthru(c->ctrl, &sqe, NULL, 0, NVME_DMA_TO_DEVICE, &dw0);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "virt-mgmt", rc);
    /* nvme-cli's %#x: no 0x before 0 */
    ctl_out(c->io, "success, Number of Controller Resources Modified (NRM):%s%x\n", dw0 ? "0x" : "",
            dw0);
    return NVME_OK;
}
