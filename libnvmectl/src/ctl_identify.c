/* SPDX-License-Identifier: MIT */
/*
 * ctl_identify.c - the controller and namespace views: info, ready, list,
 * ns-rescan, reset, get-ns-id, id-ctrl, id-ns, ns-descs, list-ns,
 * list-ctrl.  Field names and JSON keys
 * are nvme-cli 2.x's (nvme-print-stdout.c / nvme-print-json.c); -H adds
 * decodes.  Identify data is untrusted: counts are clamped, text is
 * copied with bounds and non-printables replaced.
 */
#include "ctl.h"

/* ------------------------------------------------------------------ */
/* info, ready, list                                                   */
/* ------------------------------------------------------------------ */

int ctl_cmd_info(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    const struct nvme_ctrl_info *in = nvme_ctrl_get_info(c->ctrl);
    uint64_t cap = in->cap;
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        jw_str(&w, "device", ctl_dev(io));
        jw_u64(&w, "version", in->vs);
        jw_u64(&w, "cap", cap);
        jw_u64(&w, "mqes", NVME_CAP_MQES(cap));
        jw_u64(&w, "max_queue_entries", in->max_queue_entries);
        jw_u64(&w, "dstrd", NVME_CAP_DSTRD(cap));
        jw_u64(&w, "to", NVME_CAP_TO(cap));
        jw_u64(&w, "timeout_ms", in->timeout_ms);
        jw_u64(&w, "mpsmin", NVME_CAP_MPSMIN(cap));
        jw_u64(&w, "mpsmax", NVME_CAP_MPSMAX(cap));
        jw_u64(&w, "page_size", in->page_size);
        jw_u64(&w, "mdts_bytes", in->mdts_reported); /* UINT64_MAX: 2^64 or more */
        jw_u64(&w, "mdts_log2", in->mdts_log2);
        jw_u64(&w, "vid", in->vid);
        jw_u64(&w, "ssvid", in->ssvid);
        jw_str(&w, "sn", in->serial);
        jw_str(&w, "mn", in->model);
        jw_str(&w, "fr", in->firmware);
        jw_u64(&w, "nn", in->nn);
        jw_u64(&w, "active_namespaces", nvme_ns_count(c->ctrl));
        jw_u64(&w, "oacs", in->oacs);
        jw_u64(&w, "oncs", in->oncs);
        jw_u64(&w, "vwc", in->vwc);
        jw_u64(&w, "io_queues", in->io_queues);
        jw_u64(&w, "io_queue_entries", in->io_queue_entries);
        jw_u64(&w, "irq_vectors", in->irq_vectors);
        jw_u64(&w, "hmb_kib", in->hmb_kib);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(io, "%s: NVMe controller\n", ctl_dev(io));
    ctl_out(io, "version         : %u.%u.%u\n", NVME_VS_MJR(in->vs), NVME_VS_MNR(in->vs),
            NVME_VS_TER(in->vs));
    ctl_out(io, "cap             : 0x%016llx\n", (unsigned long long)cap);
    ctl_out(io, "mqes            : %u (max queue depth %u)\n", NVME_CAP_MQES(cap),
            in->max_queue_entries);
    ctl_out(io, "dstrd           : %u (doorbell stride %u bytes)\n", NVME_CAP_DSTRD(cap),
            in->doorbell_stride);
    ctl_out(io, "to              : %u (timeout %u ms)\n", NVME_CAP_TO(cap), in->timeout_ms);
    ctl_out(io,
            "mpsmin          : %u (%u bytes), mpsmax %u (%u bytes), page size in use %u bytes\n",
            NVME_CAP_MPSMIN(cap), 1u << (12u + NVME_CAP_MPSMIN(cap)), NVME_CAP_MPSMAX(cap),
            1u << (12u + NVME_CAP_MPSMAX(cap)), in->page_size);
    /* MDTS 0 alone is no limit (§5.15.2.2); 2^64 bytes and more as a power. */
    if (in->mdts_log2 == 0)
        ctl_out(io, "mdts            : no limit (core sends at most %u bytes)\n", in->mdts_bytes);
    else if (in->mdts_log2 < 64u)
        ctl_out(io, "mdts            : %llu bytes (max transfer per command)\n",
                (unsigned long long)in->mdts_reported);
    else
        ctl_out(io, "mdts            : 2^%u bytes (max transfer per command)\n", in->mdts_log2);
    ctl_out(io, "vid             : 0x%04x\n", in->vid);
    ctl_out(io, "ssvid           : 0x%04x\n", in->ssvid);
    ctl_out(io, "sn              : %s\n", in->serial);
    ctl_out(io, "mn              : %s\n", in->model);
    ctl_out(io, "fr              : %s\n", in->firmware);
    ctl_out(io, "nn              : %u (active namespaces: %u)\n", in->nn, nvme_ns_count(c->ctrl));
    ctl_out(io, "oacs            : 0x%04x\n", in->oacs);
    ctl_out(io, "oncs            : 0x%04x\n", in->oncs);
    ctl_out(io, "vwc             : 0x%02x (volatile write cache %s)\n", in->vwc,
            (in->vwc & NVME_VWC_PRESENT) ? "present" : "absent");
    ctl_out(io, "sqes/cqes       : 0x%02x/0x%02x\n", in->sqes, in->cqes);
    ctl_out(io, "admin queue     : %u entries\n", in->admin_queue_entries);
    ctl_out(io, "io queues       : %u x %u entries\n", in->io_queues, in->io_queue_entries);
    if (in->irq_vectors == 0)
        ctl_out(io, "interrupts      : none (polling)\n");
    else
        ctl_out(io, "interrupts      : %u vector(s), %s\n", in->irq_vectors,
                in->irq_is_intx ? "INTx" : "MSI-X/MSI");
    ctl_out(io, "irq_count       : %llu\n", (unsigned long long)nvme_ctrl_irq_count(c->ctrl));
    if (in->hmb_kib != 0)
        ctl_out(io, "host memory buf : %u KiB (Set Features 0Dh)\n", in->hmb_kib);
    ctl_out(io, "enabled at start: %s\n", in->enabled_at_start ? "yes (CC.EN was 1)" : "no");
    return NVME_OK;
}

int ctl_cmd_ready(struct ctl *c)
{
    uint32_t csts = nvme_ctrl_read_csts(c->ctrl);
    bool up = nvme_ctrl_is_ready(c->ctrl);
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, c->io);
        jw_str(&w, "device", ctl_dev(c->io));
        jw_bool(&w, "ready", up);
        jw_u64(&w, "csts", csts);
        jw_end(&w);
    } else {
        ctl_out(c->io, "%s: %s (CSTS=0x%08x: RDY=%u CFS=%u SHST=%u)\n", ctl_dev(c->io),
                up ? "controller is up" : "controller is NOT ready", csts, csts & 1u,
                (csts >> 1) & 1u, (csts >> 2) & 3u);
    }
    return up ? NVME_OK : NVME_ERR_STATE;
}

/* Columns: name, NSID, size in logical blocks, block size in bytes,
 * capacity in bytes with the binary unit (fits 80 columns).  The rows of
 * ctrls[i] are named after names[i] (NULL entries skipped): one table for
 * every controller, as nvme-cli's `nvme list` (ctl_list_many). */
int ctl_list_many(struct ctl *c, struct nvme_ctrl *const *ctrls, const char *const *names,
                  unsigned nctrls)
{
    const struct nvmectl_io *io = c->io;
    unsigned total = 0;
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, io);
        jw_arr(&w, "Devices");
    } else {
        ctl_out(io, "%-12s %-6s %-18s %-6s %s\n", "Node", "NSID", "Blocks(LBAs)", "LBA(B)",
                "Capacity");
    }
    for (unsigned k = 0; k < nctrls; k++) {
        struct nvme_ctrl *ctrl = ctrls[k];
        if (ctrl == NULL)
            continue;
        unsigned n = nvme_ns_count(ctrl);
        const struct nvme_ctrl_info *in = nvme_ctrl_get_info(ctrl);
        for (unsigned i = 0; i < n; i++) {
            /* NULL past the count a rescan on another CPU left meanwhile
             * (lookups take no lock): no row, as nvme_flush skips it */
            const struct nvme_ns_info *ns = nvme_ns_at(ctrl, i);
            if (ns == NULL)
                continue;
            total++;
            char node[24], size[64];
            if (names[k] != NULL)
                nvme_snprintf(node, sizeof(node), "%sn%u", names[k], ns->nsid);
            else /* unnamed: by its place, as "nvme1" names ctrls[1] */
                nvme_snprintf(node, sizeof(node), "nvme%un%u", k, ns->nsid);
            if (c->o.json) {
                /* nvme-cli 2.x `list -o json` keys */
                jw_obj(&w, NULL);
                jw_u64(&w, "NameSpace", ns->nsid);
                jw_str(&w, "DevicePath", node);
                jw_str(&w, "Firmware", in->firmware);
                jw_str(&w, "ModelNumber", in->model);
                jw_str(&w, "SerialNumber", in->serial);
                /* NUSE and NSZE times the block size: past 2^64 bytes
                 * when the device says so, in 128 bits */
                jw_u128v(&w, "UsedBytes", ctl_blocks_bytes(ns->nuse, ns->lbads));
                jw_u64(&w, "MaximumLBA", ns->nsze);
                jw_u128v(&w, "PhysicalSize", ctl_blocks_bytes(ns->nsze, ns->lbads));
                jw_u64(&w, "SectorSize", ns->lba_size);
                if (ns->status != NVME_OK)
                    jw_str(&w, "Unusable", nvme_strerror(ns->status));
                jw_close_obj(&w);
                continue;
            }
            if (ns->status != NVME_OK && ns->lba_size == 0) {
                ctl_out(io, "%-12s %-6u unusable: %s\n", node, ns->nsid, nvme_strerror(ns->status));
                continue;
            }
            ctl_fmt_size128(size, sizeof(size), ctl_blocks_bytes(ns->nsze, ns->lbads));
            ctl_out(io, "%-12s %-6u %-18llu %-6u %s%s\n", node, ns->nsid,
                    (unsigned long long)ns->nsze, ns->lba_size, size,
                    ns->status != NVME_OK ? " (unusable)" : "");
        }
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    } else {
        ctl_out(io, "%u namespace(s)\n", total);
    }
    return NVME_OK;
}

int ctl_cmd_list(struct ctl *c)
{
    const char *name = ctl_dev(c->io);
    return ctl_list_many(c, &c->ctrl, &name, 1);
}

/* nvme-cli's ns-rescan: the namespaces enumerated again (nvme_ns_rescan),
 * then what list prints. */
int ctl_cmd_ns_rescan(struct ctl *c)
{
    int rc = nvme_ns_rescan(c->ctrl);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "ns-rescan", rc);
    return ctl_cmd_list(c);
}

/* reset: a Controller Level Reset (nvme_ctrl_reset), which also brings
 * back a dead controller. */
int ctl_cmd_reset(struct ctl *c)
{
    int rc = nvme_ctrl_reset(c->ctrl);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "reset", rc);
    return ctl_done(c, 0, "controller reset");
}

/* get-ns-id: nvme-cli prints the NSID of the block device it is given,
 * "nvme0n1: namespace-id:1"; a controller has several: one such line per
 * active namespace, named as its block device (NSID order). */
int ctl_cmd_get_ns_id(struct ctl *c)
{
    unsigned n = nvme_ns_count(c->ctrl);
    struct jw w;
    /* -n is not taken: an NSID is a namespace device's (0 without one),
     * whose line alone is printed (nvme-cli's get_ns_id: "nvme0n1:
     * namespace-id:1") */
    uint32_t one = (uint32_t)c->o.num[N_NSID];
    if (one != 0 && nvme_ns_find(c->ctrl, one) == NULL)
        return ctl_fail(c, one, c->cmd, NVME_ERR_NOENT);
    if (c->o.json) { /* nvme-cli has none: {"device", "namespace-id": [NSIDs]} */
        jw_begin(&w, c->io);
        jw_str(&w, "device", ctl_dev(c->io));
        jw_arr(&w, "namespace-id");
    }
    for (unsigned i = 0; i < n; i++) {
        const struct nvme_ns_info *ns = nvme_ns_at(c->ctrl, i);
        if (ns == NULL || (one != 0 && ns->nsid != one)) /* gone since the count; another */
            continue;
        if (c->o.json)
            jw_u64(&w, NULL, ns->nsid);
        else
            ctl_out(c->io, "%sn%u: namespace-id:%u\n", ctl_dev(c->io), ns->nsid, ns->nsid);
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* id-ctrl                                                             */
/* ------------------------------------------------------------------ */

enum { H = 1, D = 0 }; /* printed in hex / decimal by nvme-cli */
struct field {
    const char *name;
    uint16_t off;
    uint8_t size; /* 1, 2, 4 bytes; 16: 128-bit */
    uint8_t hex;
};
#define F(n, sz, hx)                                                                               \
    {                                                                                              \
#n, (uint16_t)offsetof(struct nvme_id_ctrl, n), sz, hx                                     \
    }

static const struct field ctrl_fields[] = {
    F(vid, 2, H),
    F(ssvid, 2, H),
    {"sn", 0, 0, 0},
    {"mn", 0, 0, 0},
    {"fr", 0, 0, 0},
    F(rab, 1, D),
    {"ieee", 0, 0, 0},
    F(cmic, 1, H),
    F(mdts, 1, D),
    F(cntlid, 2, H),
    F(ver, 4, H),
    F(rtd3r, 4, H),
    F(rtd3e, 4, H),
    F(oaes, 4, H),
    F(ctratt, 4, H),
    F(rrls, 2, H),
    F(cntrltype, 1, D),
    {"fguid", 0, 0, 0},
    F(crdt1, 2, D),
    F(crdt2, 2, D),
    F(crdt3, 2, D),
    F(nvmsr, 1, D),
    F(vwci, 1, D),
    F(mec, 1, D),
    F(oacs, 2, H),
    F(acl, 1, D),
    F(aerl, 1, D),
    F(frmw, 1, H),
    F(lpa, 1, H),
    F(elpe, 1, D),
    F(npss, 1, D),
    F(avscc, 1, H),
    F(apsta, 1, H),
    F(wctemp, 2, D),
    F(cctemp, 2, D),
    F(mtfa, 2, D),
    F(hmpre, 4, D),
    F(hmmin, 4, D),
    F(tnvmcap, 16, D),
    F(unvmcap, 16, D),
    F(rpmbs, 4, H),
    F(edstt, 2, D),
    F(dsto, 1, D),
    F(fwug, 1, D),
    F(kas, 2, D),
    F(hctma, 2, H),
    F(mntmt, 2, D),
    F(mxtmt, 2, D),
    F(sanicap, 4, H),
    F(hmminds, 4, D),
    F(hmmaxd, 2, D),
    F(nsetidmax, 2, D),
    F(endgidmax, 2, D),
    F(anatt, 1, D),
    F(anacap, 1, D), /* nvme-cli's "%d" */
    F(anagrpmax, 4, D),
    F(nanagrpid, 4, D),
    F(pels, 4, D),
    F(domainid, 2, D),
    F(megcap, 16, D),
    F(sqes, 1, H),
    F(cqes, 1, H),
    F(maxcmd, 2, D),
    F(nn, 4, D),
    F(oncs, 2, H),
    F(fuses, 2, H),
    F(fna, 1, H),
    F(vwc, 1, H),
    F(awun, 2, D),
    F(awupf, 2, D),
    {"icsvscc", 530, 1, D},
    F(nwpc, 1, D),
    F(acwu, 2, D),
    F(ocfs, 2, H),
    F(sgls, 4, H),
    F(mnan, 4, D),
    F(maxdna, 16, D),
    F(maxcna, 4, D),
    {"subnqn", 0, 0, 0},
    /* NVMe over Fabrics fields (bytes 1792..1805), zero on PCIe */
    {"ioccsz", 1792, 4, D},
    {"iorcsz", 1796, 4, D},
    {"icdoff", 1800, 2, D},
    {"fcatt", 1802, 1, H},
    {"msdbd", 1803, 1, D},
    {"ofcs", 1804, 2, D},
};
#undef F

/* Bit names for -H, bit n = names[n] (NULL: not named); a bit set in
 * `inverted` says "not supported" when it is set. */
struct bits {
    const char *field;
    const char *names[12];
    uint16_t inverted;
};
static const struct bits ctrl_bits[] = {
    {"cmic", {"multiple ports", "multiple controllers", "SR-IOV", "ANA reporting"}, 0},
    {"oacs",
     {"Security Send/Receive", "Format NVM", "Firmware Download/Commit", "Namespace Management",
      "Device Self-test", "Directives", "NVMe-MI Send/Receive", "Virtualization Management",
      "Doorbell Buffer Config", "Get LBA Status", "Command and Feature Lockdown"},
     0},
    {"frmw",
     {"slot 1 read only", NULL, NULL, NULL, "activation without reset",
      "multiple update detection"},
     0},
    {"lpa",
     {"SMART per namespace", "Commands Supported and Effects log", "extended data for Get Log Page",
      "Telemetry", "Persistent Event log", "supported log pages", "Telemetry Data Area 4"},
     0},
    {"oncs",
     {"Compare", "Write Uncorrectable", "Dataset Management", "Write Zeroes",
      "Save/Select in features", "Reservations", "Timestamp", "Verify", "Copy"},
     0},
    /* FNA bit 3 (FNVMBS, §5.15.2.2): set when Format NVM with NSID
     * FFFFFFFFh is NOT supported. */
    {"fna",
     {"format applies to all namespaces", "secure erase applies to all namespaces",
      "cryptographic erase", "Format NVM with NSID FFFFFFFFh"},
     1u << 3},
    {"vwc", {"volatile write cache present"}, 0},
    {"sanicap", {"Crypto Erase", "Block Erase", "Overwrite"}, 0},
    {"apsta", {"autonomous power state transitions"}, 0},
};

static __attribute__((noinline)) void decode_bits(const struct nvmectl_io *io, const char *field,
                                                  uint32_t v)
{
    for (unsigned i = 0; i < sizeof(ctrl_bits) / sizeof(ctrl_bits[0]); i++) {
        if (!nvme_streq(ctrl_bits[i].field, field))
            continue;
        for (unsigned b = 0; b < 12; b++)
            if (ctrl_bits[i].names[b] != NULL)
                ctl_out(io, "  [%2u] %s: %s\n", b, ctrl_bits[i].names[b],
                        (((v ^ ctrl_bits[i].inverted) >> b) & 1u) ? "supported" : "not supported");
    }
}

/* A UUID as libnvme's nvme_uuid_to_string: 8-4-4-4-12 hex digits, the bytes
 * in order (ns-descs; id-ctrl's FGUID, as nvme-cli 2.4 prints it). */
static void fmt_uuid(char *b, size_t n, const uint8_t u[16])
{
    nvme_snprintf(b, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                  u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                  u[13], u[14], u[15]);
}

static void ps_power(char *b, size_t n, uint32_t val, uint8_t scale)
{
    /* scale 1: 0.0001 W, 2: 0.01 W; 0: not reported, 3: reserved (IPS,
     * APS: NVMe 2.0 Figure 276), as nvme-cli names them.  The point goes
     * into the decimal digits: no divide, which 32-bit ARM lacks and the
     * core's libraries never take from libgcc. */
    unsigned frac = scale == 1 ? 4u : scale == 2 ? 2u : 0u;
    if (frac == 0) {
        nvme_snprintf(b, n, scale == 0 ? "-" : "reserved");
        return;
    }
    char d[16], f[5];
    int len = nvme_snprintf(d, sizeof d, frac == 4 ? "%05u" : "%03u", val); /* > frac digits */
    for (unsigned i = 0; i <= frac; i++)
        f[i] = d[(unsigned)len - frac + i]; /* the fraction and its NUL */
    d[(unsigned)len - frac] = '\0';
    nvme_snprintf(b, n, "%s.%sW", d, f);
}

/* SN, MN, FR: nvme-cli prints the field as the device filled it, up to
 * its first NUL (its "%-.*s"), so the blanks that pad it too.  The core's
 * decoded string `s` (non-printables as '.', trailing blanks and NULs
 * trimmed, a NUL inside kept as '.') gives the characters, cut at that
 * NUL; the blanks after it come back.  Into t (at least 41 bytes); NULL
 * for another field. */
static const char *id_ctrl_string(char *t, const struct nvme_id_ctrl *raw, const char *name,
                                  const char *s)
{
    const char *f;
    size_t size, n = 0, have = nvme_strlen(s);
    if (nvme_streq(name, "sn"))
        f = raw->sn, size = sizeof(raw->sn);
    else if (nvme_streq(name, "mn"))
        f = raw->mn, size = sizeof(raw->mn);
    else if (nvme_streq(name, "fr"))
        f = raw->fr, size = sizeof(raw->fr);
    else
        return NULL;
    while (n < size && f[n] != 0)
        n++;
    for (size_t i = 0; i < n; i++) /* past `have`: the trimmed blanks */
        t[i] = i < have ? s[i] : ' ';
    t[n] = '\0';
    return t;
}

static void id_ctrl_text(struct ctl *c, const struct nvme_ctrl_identify *id)
{
    const struct nvmectl_io *io = c->io;
    const uint8_t *raw = (const uint8_t *)&id->raw;
    bool human = flag(c, F_HUMAN);
    char t[300];
    ctl_out(io, "NVME Identify Controller:\n");
    for (unsigned i = 0; i < sizeof(ctrl_fields) / sizeof(ctrl_fields[0]); i++) {
        const struct field *f = &ctrl_fields[i];
        if (f->size == 0) {
            const char *s = "";
            if (nvme_streq(f->name, "sn"))
                s = id->serial;
            else if (nvme_streq(f->name, "mn"))
                s = id->model;
            else if (nvme_streq(f->name, "fr"))
                s = id->firmware;
            else if (nvme_streq(f->name, "subnqn"))
                s = id->subnqn;
            else if (nvme_streq(f->name, "ieee")) {
                nvme_snprintf(t, sizeof(t), "%02x%02x%02x", id->raw.ieee[2], id->raw.ieee[1],
                              id->raw.ieee[0]);
                s = t;
            } else if (nvme_streq(f->name, "fguid")) {
                fmt_uuid(t, sizeof(t), id->raw.fguid);
                s = t;
            }
            const char *field = id_ctrl_string(t, &id->raw, f->name, s);
            /* s may be the 256-byte SUBNQN: printed whole, not in a
             * CTL_LINE buffer. */
            ctl_out(io, "%-10s: ", f->name);
            io->print(io->arg, field != NULL ? field : s);
            io->print(io->arg, "\n");
            continue;
        }
        if (f->size == 16) {
            char dec[48];
            nvme_u128_to_dec(nvme_u128_from_le(raw + f->off), dec, sizeof(dec));
            ctl_out(io, "%-10s: %s\n", f->name, dec); /* nvme-cli: the number alone */
            continue;
        }
        uint32_t v = (uint32_t)ctl_le(raw + f->off, f->size);
        if (f->hex) /* nvme-cli's "%#x": no "0x" before 0 */
            ctl_out(io, "%-10s: %s%x\n", f->name, v != 0 ? "0x" : "", v);
        else
            ctl_out(io, "%-10s: %u\n", f->name, v);
        if (!human)
            continue;
        if (nvme_streq(f->name, "wctemp") || nvme_streq(f->name, "cctemp"))
            ctl_out(io, "  [15:0] %d C (%u K)\n", (int)v - 273, v);
        else if (nvme_streq(f->name, "mdts")) {
            /* 2^MDTS pages of CAP.MPSMIN (§5.15.2.2), from the field: a
             * limit of 2^64 bytes or more is shown as a power of two. */
            unsigned shift = v + 12u + NVME_CAP_MPSMIN(nvme_ctrl_get_info(c->ctrl)->cap);
            if (v == 0)
                ctl_out(io, "  no limit\n");
            else if (shift < 64u)
                ctl_out(io, "  %llu bytes per command\n", 1ull << shift);
            else
                ctl_out(io, "  2^%u bytes per command\n", shift);
        } else if (nvme_streq(f->name, "ver"))
            ctl_out(io, "  NVMe %u.%u.%u\n", id->ver_major, id->ver_minor, id->ver_tertiary);
        else if (nvme_streq(f->name, "sqes") || nvme_streq(f->name, "cqes"))
            ctl_out(io, "  [7:4] max %u bytes, [3:0] required %u bytes\n", 1u << ((v >> 4) & 15u),
                    1u << (v & 15u));
        else if (nvme_streq(f->name, "frmw"))
            ctl_out(io, "  [3:1] %u firmware slot(s)\n", (v >> 1) & 7u);
        else
            decode_bits(io, f->name, v);
        /* VWC bits 2:1, Flush Behavior (Identify Controller byte 525,
         * since NVMe 1.4): a two-bit field, not two flags. */
        if (nvme_streq(f->name, "vwc")) {
            static const char *const flush_bcast[] = {"not indicated", "reserved", "not supported",
                                                      "supported"};
            ctl_out(io, "  [2:1] Flush with NSID FFFFFFFFh: %s\n", flush_bcast[(v >> 1) & 3u]);
        }
    }
    for (unsigned p = 0; p < id->power_states && p < 32; p++) {
        const struct nvme_power_state *ps = &id->ps[p];
        char mp[24], idle[24], act[24];
        ps_power(mp, sizeof(mp), ps->mp, ps->mxps ? 1 : 2);
        ps_power(idle, sizeof(idle), ps->idlp, ps->ips);
        ps_power(act, sizeof(act), ps->actp, ps->aps);
        /* APW (Figure 276, bits 2:0): nvme-cli's names of workloads 1 and 2 */
        static const char *const apw[] = {"-", "1MiB 32 RW, 30s idle", "80K 128KiB SW"};
        /* nvme-cli's layout, as 2.3 (Debian 12's) prints it on QEMU's
         * controller: "ps" and the index in 8 columns, the rest in 12 */
        ctl_out(io, "ps   %4u : mp:%s %soperational enlat:%u exlat:%u rrt:%u rrl:%u\n", p, mp,
                ps->nops ? "non-" : "", ps->enlat, ps->exlat, ps->rrt, ps->rrl);
        ctl_out(io, "            rwt:%u rwl:%u idle_power:%s active_power:%s\n", ps->rwt, ps->rwl,
                idle, act);
        ctl_out(io, "            active_power_workload:%s\n",
                ps->apw < 3 ? apw[ps->apw] : "reserved");
        if (human)
            ctl_out(io, "            (enlat/exlat in microseconds, power in watts)\n");
    }
}

static void id_ctrl_json(struct ctl *c, const struct nvme_ctrl_identify *id)
{
    const uint8_t *raw = (const uint8_t *)&id->raw;
    struct jw w;
    char t[40];
    jw_begin(&w, c->io);
    for (unsigned i = 0; i < sizeof(ctrl_fields) / sizeof(ctrl_fields[0]); i++) {
        const struct field *f = &ctrl_fields[i];
        if (f->size == 0) {
            /* SN, MN, FR: the field up to a NUL, its padding blanks too,
             * as nvme-cli's "%-.*s" (and the text) */
            if (nvme_streq(f->name, "sn"))
                jw_strn(&w, "sn", id->raw.sn, sizeof(id->raw.sn));
            else if (nvme_streq(f->name, "mn"))
                jw_strn(&w, "mn", id->raw.mn, sizeof(id->raw.mn));
            else if (nvme_streq(f->name, "fr"))
                jw_strn(&w, "fr", id->raw.fr, sizeof(id->raw.fr));
            else if (nvme_streq(f->name, "subnqn"))
                jw_str(&w, "subnqn", id->subnqn);
            else if (nvme_streq(f->name, "ieee"))
                jw_u64(&w, "ieee",
                       (uint32_t)id->raw.ieee[2] << 16 | (uint32_t)id->raw.ieee[1] << 8 |
                           id->raw.ieee[0]);
            else if (nvme_streq(f->name, "fguid")) {
                fmt_uuid(t, sizeof(t), id->raw.fguid);
                jw_str(&w, "fguid", t);
            }
            continue;
        }
        if (f->size == 16)
            jw_u128(&w, f->name, raw + f->off);
        else
            jw_u64(&w, f->name, (uint32_t)ctl_le(raw + f->off, f->size));
    }
    jw_arr(&w, "psds");
    for (unsigned p = 0; p < id->power_states && p < 32; p++) {
        const struct nvme_power_state *ps = &id->ps[p];
        jw_obj(&w, NULL);
        jw_u64(&w, "max_power", ps->mp);
        /* nvme-cli 2.4's "flags": the descriptor's byte 3 as read (MXPS
         * bit 0, NOPS bit 1); its later releases split it in two */
        jw_u64(&w, "flags", id->raw.psd[p].raw[3]);
        jw_u64(&w, "entry_lat", ps->enlat);
        jw_u64(&w, "exit_lat", ps->exlat);
        jw_u64(&w, "read_tput", ps->rrt);
        jw_u64(&w, "read_lat", ps->rrl);
        jw_u64(&w, "write_tput", ps->rwt);
        jw_u64(&w, "write_lat", ps->rwl);
        jw_u64(&w, "idle_power", ps->idlp);
        jw_u64(&w, "idle_scale", ps->ips);
        jw_u64(&w, "active_power", ps->actp);
        jw_u64(&w, "active_power_work", ps->apw);
        jw_u64(&w, "active_scale", ps->aps);
        jw_close_obj(&w);
    }
    jw_close_arr(&w);
    jw_end(&w);
}

int ctl_cmd_id_ctrl(struct ctl *c)
{
    struct nvme_ctrl_identify *id = ctl_scratch(c, 0, sizeof(*id));
    if (id == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_identify_ctrl(c->ctrl, id);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "id-ctrl", rc);
    if (c->o.json)
        id_ctrl_json(c, id);
    else
        id_ctrl_text(c, id);
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* id-ns                                                               */
/* ------------------------------------------------------------------ */

#define G(n, sz, hx)                                                                               \
    {                                                                                              \
#n, (uint16_t)offsetof(struct nvme_id_ns, n), sz, hx                                       \
    }
/* NULBAF, NVMe 2.0 byte 82 (not in struct nvme_id_ns): after msrc, as
 * nvme-cli shows it. */
#define NULBAF                                                                                     \
    {                                                                                              \
        "nulbaf", 82, 1, D                                                                         \
    }
static const struct field ns_fields[] = {
    {"nsze", 0, 8, H}, {"ncap", 8, 8, H}, {"nuse", 16, 8, H}, G(nsfeat, 1, H), G(nlbaf, 1, D),
    G(flbas, 1, H),    G(mc, 1, H),       G(dpc, 1, H),       G(dps, 1, H),    G(nmic, 1, H),
    G(rescap, 1, H),   G(fpi, 1, H),      G(dlfeat, 1, D),    G(nawun, 2, D),  G(nawupf, 2, D),
    G(nacwu, 2, D),    G(nabsn, 2, D),    G(nabo, 2, D),      G(nabspf, 2, D), G(noiob, 2, D),
    G(nvmcap, 16, D),  G(npwg, 2, D),     G(npwa, 2, D),      G(npdg, 2, D),   G(npda, 2, D),
    G(nows, 2, D),     G(mssrl, 2, D),    G(mcl, 4, D),       G(msrc, 1, D),   NULBAF,
    G(anagrpid, 4, D), G(nsattr, 1, D),   G(nvmsetid, 2, D),  G(endgid, 2, D),
};
#undef G
#undef NULBAF

/* NPWG, NPWA, NPDG, NPDA, NOWS (bytes 64..73) are defined only with NSFEAT
 * bit 4, OPTPERF (NVM CS 1.0 Figure 97): nvme-cli shows them only then. */
static bool ns_field_shown(const struct field *f, const struct nvme_id_ns *id)
{
    return f->off < 64u || f->off > 73u || (id->nsfeat & 0x10u) != 0;
}

static __attribute__((noinline)) uint64_t get_le64(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8u * i);
    return v;
}

int ctl_cmd_id_ns(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (!has(c, N_NSID) || c->o.num[N_NSID] == 0 || c->o.num[N_NSID] > 0xffffffffu)
        return ctl_usage_err(c, "-n NSID is required");
    uint32_t nsid = (uint32_t)c->o.num[N_NSID];
    struct nvme_ns_identify *id = ctl_scratch(c, 0, sizeof(*id));
    if (id == NULL)
        return NVME_ERR_NOMEM;
    /* NVME_ERR_PROTO (NLBAF past 63, a format in use past NLBAF, logged by
     * the core) still fills it: shown, as nvm-id-ns and zns id-ns show it
     * and nvme-cli shows what the device returned, at most 64 formats. */
    int rc = flag(c, F_FORCE) ? nvme_identify_ns_allocated(c->ctrl, nsid, id)
                              : nvme_identify_ns(c->ctrl, nsid, id);
    if (rc != NVME_OK && rc != NVME_ERR_PROTO)
        return ctl_fail(c, nsid, "id-ns", rc);
    const uint8_t *raw = (const uint8_t *)&id->raw;
    unsigned nf = id->formats;
    if (nf > 64)
        nf = 64;
    char eui[20], nguid[36];
    ctl_hex(eui, sizeof(eui), id->raw.eui64, 8);
    ctl_hex(nguid, sizeof(nguid), id->raw.nguid, 16);
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        for (unsigned i = 0; i < sizeof(ns_fields) / sizeof(ns_fields[0]); i++) {
            const struct field *f = &ns_fields[i];
            if (!ns_field_shown(f, &id->raw))
                continue;
            if (f->size == 16)
                jw_u128(&w, f->name, raw + f->off);
            else
                jw_u64(&w, f->name, get_le64(raw + f->off, f->size));
        }
        jw_str(&w, "eui64", eui);
        jw_str(&w, "nguid", nguid);
        jw_arr(&w, "lbafs");
        for (unsigned i = 0; i < nf; i++) {
            struct nvme_lbaf l = nvme_id_ns_lbaf(&id->raw, i);
            jw_obj(&w, NULL);
            jw_u64(&w, "ms", l.ms);
            jw_u64(&w, "ds", l.lbads);
            jw_u64(&w, "rp", l.rp);
            jw_close_obj(&w);
        }
        jw_close_arr(&w);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(io, "NVME Identify Namespace %u:\n", nsid);
    for (unsigned i = 0; i < sizeof(ns_fields) / sizeof(ns_fields[0]); i++) {
        const struct field *f = &ns_fields[i];
        if (!ns_field_shown(f, &id->raw))
            continue;
        if (f->size == 16) {
            char dec[48];
            nvme_u128_to_dec(nvme_u128_from_le(raw + f->off), dec, sizeof(dec));
            ctl_out(io, "%-8s: %s\n", f->name, dec); /* nvme-cli: the number alone */
            continue;
        }
        uint64_t v = get_le64(raw + f->off, f->size);
        if (f->hex) /* nvme-cli's "%#x": no "0x" before 0 */
            ctl_out(io, "%-8s: %s%llx\n", f->name, v != 0 ? "0x" : "", (unsigned long long)v);
        else if (f->off == offsetof(struct nvme_id_ns, nsattr)) /* nvme-cli 2.4: a tab */
            ctl_out(io, "nsattr\t: %llu\n", (unsigned long long)v);
        else
            ctl_out(io, "%-8s: %llu\n", f->name, (unsigned long long)v);
        if (!flag(c, F_HUMAN))
            continue;
        if (nvme_streq(f->name, "flbas"))
            ctl_out(io, "  format in use %u, metadata %s\n", id->format,
                    id->md_extended ? "at the end of each block (extended LBA)"
                                    : "in a separate buffer");
        else if (nvme_streq(f->name, "dps"))
            ctl_out(io, "  protection information type %u%s\n", id->pi_type,
                    id->pi_first ? ", in the first 8 metadata bytes" : "");
        else if (nvme_streq(f->name, "dlfeat"))
            ctl_out(io, "  deallocated blocks read %s; Write Zeroes %s deallocate\n",
                    (v & 7u) == 1   ? "as zeros"
                    : (v & 7u) == 2 ? "as ones"
                                    : "not reported",
                    (v & 8u) ? "can" : "cannot");
        else if (id->format >= nf && (nvme_streq(f->name, "nsze") || nvme_streq(f->name, "ncap") ||
                                      nvme_streq(f->name, "nuse")))
            ctl_out(io, "  (the format in use, %u, is not among the %u listed)\n", id->format, nf);
        else if (nvme_streq(f->name, "nsze") || nvme_streq(f->name, "ncap") ||
                 nvme_streq(f->name, "nuse")) {
            char sz[96]; /* up to 2^127 bytes: 39 digits and the units */
            struct nvme_lbaf l = nvme_id_ns_lbaf(&id->raw, id->format);
            struct nvme_u128 b = {0, 0}; /* LBADS of 64 and more: shown as 0 */
            if (l.lbads < 64)
                b = ctl_blocks_bytes(v, l.lbads);
            ctl_fmt_size128(sz, sizeof(sz), b);
            ctl_out(io, "  %s\n", sz);
        }
    }
    ctl_out(io, "nguid   : %s\n", nguid);
    ctl_out(io, "eui64   : %s\n", eui);
    /* The text lists NLBAF + 1 formats, then the NULBAF (Identify
     * Namespace byte 82, NVMe 2.0) unique attribute formats after them,
     * as nvme-cli 2.3 and later print them (its JSON only NLBAF + 1);
     * device data: at most the 64 formats the structure holds. */
    unsigned nt = (unsigned)id->raw.nlbaf + 1u + raw[82];
    if (nt > 64u)
        nt = 64u;
    for (unsigned i = 0; i < nt; i++) {
        struct nvme_lbaf l = nvme_id_ns_lbaf(&id->raw, i);
        static const char *const rp[] = {"Best", "Better", "Good", "Degraded"};
        /* RP as nvme-cli's "%#x": 0, 0x1, 0x2, 0x3 */
        char rps[8];
        nvme_snprintf(rps, sizeof(rps), (l.rp & 3u) != 0 ? "0x%x" : "%u", l.rp & 3u);
        /* nvme-cli's "... %s\n" with "(in use)" or "": a blank ends the
         * others (nvme-cli 2.3, Debian 12's, on QEMU's controller) */
        if (flag(c, F_HUMAN))
            ctl_out(io,
                    "LBA Format %2u : Metadata Size: %-3u bytes - Data Size: %u bytes - "
                    "Relative Performance: %s %s %s\n",
                    i, l.ms, l.lbads < 32 ? 1u << l.lbads : 0u, rps, rp[l.rp & 3u],
                    i == id->format ? "(in use)" : "");
        else
            ctl_out(io, "lbaf %2u : ms:%-3u lbads:%-2u rp:%s %s\n", i, l.ms, l.lbads, rps,
                    i == id->format ? "(in use)" : "");
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* ns-descs, list-ns, list-ctrl                                        */
/* ------------------------------------------------------------------ */

uint8_t *ctl_identify_raw(struct ctl *c, uint32_t cdw10, uint32_t nsid, const char *what, int *rc)
{
    uint8_t *buf = ctl_scratch(c, 0, 4096);
    *rc = NVME_ERR_NOMEM;
    if (buf == NULL)
        return NULL;
    struct nvme_sqe sqe;
    nvme_memzero(&sqe, sizeof(sqe));
    sqe.opc = NVME_ADMIN_IDENTIFY;
    sqe.nsid = nsid;
    sqe.cdw10 = cdw10;
    *rc = nvme_admin_passthru(c->ctrl, &sqe, buf, 4096, NVME_DMA_FROM_DEVICE, NULL);
    if (*rc != NVME_OK) {
        *rc = ctl_fail(c, nsid, what, *rc);
        return NULL;
    }
    return buf;
}

/* ns-descs -o json as nvme-cli 2.x prints it: an "ns-descs" array (none
 * for an empty list), one object per descriptor of a known type in the
 * list's order, with its byte offset ("loc"), NIDT, NIDL, "type" and its
 * value under the type's name (the CSI as "%#x").  The list is read raw
 * (Identify CNS 03h, NVMe 2.0 §5.17.2.4) for the offsets: a descriptor
 * whose length does not fit in the page ends it, one of a known type
 * with another length is skipped. */
static int ns_descs_json(struct ctl *c, uint32_t nsid)
{
    int rc;
    const uint8_t *page = ctl_identify_raw(c, NVME_CNS_NS_DESC_LIST, nsid, "ns-descs", &rc);
    if (page == NULL)
        return rc;
    struct jw w;
    jw_begin(&w, c->io);
    bool any = false;
    for (uint32_t pos = 0; pos + 4u <= 4096u;) {
        uint8_t nidt = page[pos], nidl = page[pos + 1u];
        if (nidl == 0 || pos + 4u + nidl > 4096u) /* the list's end */
            break;
        const uint8_t *v = page + pos + 4u;
        const char *name = NULL;
        char val[40];
        if (nidt == NVME_NIDT_EUI64 && nidl == 8u) {
            ctl_hex(val, sizeof(val), v, 8);
            name = "eui64";
        } else if (nidt == NVME_NIDT_NGUID && nidl == 16u) {
            ctl_hex(val, sizeof(val), v, 16);
            name = "nguid";
        } else if (nidt == NVME_NIDT_UUID && nidl == 16u) {
            fmt_uuid(val, sizeof(val), v);
            name = "uuid";
        } else if (nidt == NVME_NIDT_CSI && nidl == 1u) {
            nvme_snprintf(val, sizeof(val), v[0] != 0 ? "0x%x" : "0", v[0]);
            name = "csi";
        }
        if (name != NULL) {
            if (!any)
                jw_arr(&w, "ns-descs");
            any = true;
            jw_obj(&w, NULL);
            jw_u64(&w, "loc", pos);
            jw_u64(&w, "nidt", nidt);
            jw_u64(&w, "nidl", nidl);
            jw_str(&w, "type", name);
            jw_str(&w, name, val);
            jw_close_obj(&w);
        }
        pos += 4u + nidl;
    }
    if (any)
        jw_close_arr(&w);
    jw_end(&w);
    return NVME_OK;
}

int ctl_cmd_ns_descs(struct ctl *c)
{
    /* CNS 03h names one namespace: FFFFFFFFh is Invalid Namespace or
     * Format (§5.17.2.4), which the core refuses before sending */
    uint32_t nsid = ctl_one_nsid(c);
    if (nsid == 0)
        return NVME_ERR_INVAL;
    if (c->o.json)
        return ns_descs_json(c, nsid);
    struct nvme_ns_ids ids;
    int rc = nvme_identify_ns_descs(c->ctrl, nsid, &ids);
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, "ns-descs", rc);
    char eui[20], nguid[36], uuid[40];
    ctl_hex(eui, sizeof(eui), ids.eui64, 8);
    ctl_hex(nguid, sizeof(nguid), ids.nguid, 16);
    fmt_uuid(uuid, sizeof(uuid), ids.uuid);
    ctl_out(c->io, "NVME Namespace Identification Descriptors NS %u:\n", nsid);
    if (ids.has_eui64)
        ctl_out(c->io, "eui64   : %s\n", eui);
    if (ids.has_nguid)
        ctl_out(c->io, "nguid   : %s\n", nguid);
    if (ids.has_uuid)
        ctl_out(c->io, "uuid    : %s\n", uuid);
    if (ids.has_csi) /* an NVMe 1.3/1.4 list has no CSI descriptor; nvme-cli's "%#x" */
        ctl_out(c->io, "csi     : %s%x\n", ids.csi != 0 ? "0x" : "", ids.csi);
    return NVME_OK;
}

/* list-ns: active NSIDs (Identify CNS 02h), with -a/--all the allocated
 * ones (CNS 10h: attached or not), which needs Namespace Management;
 * with -y/--csi only those of one I/O Command Set (CNS 07h, 1Ah). */
int ctl_cmd_list_ns(struct ctl *c)
{
    bool all = flag(c, F_ALL), csi = has(c, N_CSI);
    if (csi && c->o.num[N_CSI] > 0xffu)
        return ctl_usage_err(c, "--csi is 0..255");
    if (all && !(nvme_ctrl_get_info(c->ctrl)->oacs & NVME_OACS_NS_MGMT)) {
        ctl_out(c->io,
                "%s: list-ns --all: not supported: the controller has no Namespace "
                "Management (OACS bit 3), hence no allocated NSID list (Identify CNS 10h)\n",
                ctl_dev(c->io));
        return NVME_ERR_UNSUPPORTED;
    }
    /* nvme-cli: NSIDs from -n on, the list asked for from -n - 1; 0 is
     * its "invalid nsid parameter", and FFFFFFFFh would ask from
     * FFFFFFFEh, which CNS 02h/10h refuse (§5.17.2.2, Invalid Namespace
     * or Format) */
    if (has(c, N_NSID) && (c->o.num[N_NSID] == 0 || c->o.num[N_NSID] == NVME_NSID_ALL))
        return ctl_usage_err(c, "-n is the first NSID listed, 1..0xfffffffe");
    uint32_t start = has(c, N_NSID) ? ctl_nsid_or(c, 0) - 1u : 0;
    uint32_t *list = ctl_scratch(c, 0, 1024 * sizeof(uint32_t));
    if (list == NULL)
        return NVME_ERR_NOMEM;
    unsigned count = 0;
    int rc = csi   ? nvme_identify_ns_list_csi(c->ctrl, (uint8_t)c->o.num[N_CSI], all, start, list,
                                               1024, &count)
             : all ? nvme_identify_allocated_ns(c->ctrl, start, list, 1024, &count)
                   : nvme_identify_active_ns(c->ctrl, start, list, 1024, &count);
    if (rc == NVME_ERR_UNSUPPORTED && csi) {
        ctl_out(c->io,
                "%s: list-ns --csi %u: not supported: the controller runs only the NVM "
                "command set (CC.CSS)\n",
                ctl_dev(c->io), (unsigned)c->o.num[N_CSI]);
        return rc;
    }
    if (rc != NVME_OK)
        return ctl_fail(c, 0, all ? "list-ns --all" : "list-ns", rc);
    if (count > 1024)
        count = 1024;
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, c->io);
        jw_arr(&w, "nsid_list");
    }
    for (unsigned i = 0; i < count; i++) {
        if (c->o.json) {
            jw_obj(&w, NULL);
            jw_u64(&w, "nsid", list[i]);
            jw_close_obj(&w);
        } else {
            ctl_out(c->io, "[%4u]:0x%x\n", i, list[i]);
        }
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    }
    return NVME_OK;
}

int ctl_cmd_list_ctrl(struct ctl *c)
{
    uint32_t nsid = ctl_nsid_or(c, 0);
    /* CNS 12h takes one namespace; FFFFFFFFh is refused (§5.17.2.8) */
    if (nsid == NVME_NSID_ALL)
        return ctl_usage_err(c, "-n is one namespace (1..0xfffffffe); without it (or 0) the "
                                "subsystem's controllers are listed");
    if (c->o.num[N_CNTID] > 0xffffu)
        return ctl_usage_err(c, "-c CNTID is 0..65535");
    uint16_t start = (uint16_t)c->o.num[N_CNTID];
    uint16_t *ids = ctl_scratch(c, 0, NVME_CTRL_LIST_MAX * sizeof(uint16_t));
    if (ids == NULL)
        return NVME_ERR_NOMEM;
    unsigned count = 0;
    int rc = nvme_identify_ctrl_list(c->ctrl, nsid, start, ids, NVME_CTRL_LIST_MAX, &count);
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, "list-ctrl", rc);
    if (count > NVME_CTRL_LIST_MAX)
        count = NVME_CTRL_LIST_MAX;
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, c->io);
        jw_u64(&w, "num_ctrl", count);
        jw_arr(&w, "ctrl_list");
        for (unsigned i = 0; i < count; i++) {
            jw_obj(&w, NULL);
            jw_u64(&w, "ctrl_id", ids[i]);
            jw_close_obj(&w);
        }
        jw_close_arr(&w);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(c->io, "num of ctrls present: %u\n", count);
    for (unsigned i = 0; i < count; i++) {
        if (ids[i] != 0)
            ctl_out(c->io, "[%4u]:0x%x\n", i, ids[i]);
        else /* nvme-cli's "%#x": QEMU's first controller of a subsystem */
            ctl_out(c->io, "[%4u]:0\n", i);
    }
    return NVME_OK;
}
