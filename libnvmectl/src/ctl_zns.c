/* SPDX-License-Identifier: MIT */
/*
 * ctl_zns.c - the zoned commands, nvme-cli's zns plugin: zns id-ctrl
 * (Identify CNS 06h CSI 02h, NVMe Zoned Namespace Command Set 1.1 Figure
 * 50), zns id-ns (CNS 05h CSI 02h, Figure 48), the per-action zone
 * commands zns open-zone .. offline-zone (Zone Management Send, §3.4.3),
 * report-zones, zone-mgmt-send and zone-append.  Text and
 * JSON keys as nvme-cli 2.x's (plugins/zns/zns.c, nvme.c,
 * nvme-print-stdout.c, nvme-print-json.c); no -H (EXOS's kernel has
 * little room left).  Every value comes from the device: printed as
 * numbers, the LBA Format Extensions bounded by the 64 the structure
 * holds whatever NLBAF says.
 */
#include "ctl.h"

/* printf's "%#x" prefix: none for 0. */
#define HX(v) ((v) != 0 ? "0x" : "")

/* Identify Namespace's fields before the LBA Format Extensions (ZNS 1.1
 * Figure 48, bytes 0..52, with the later revisions' RRL1..ZRWACAP that
 * nvme-cli shows), then Identify Controller's one field, ZASL (Figure 50,
 * byte 0): name, width (offsets follow one another), and whether nvme-cli
 * prints it as %#x. */
static const struct {
    char name[8];
    uint8_t len, hex;
} zns_f[] = {{"zoc", 2, 0},     {"ozcs", 2, 0},   {"mar", 4, 1},    {"mor", 4, 1},
             {"rrl", 4, 0},     {"frl", 4, 0},    {"rrl1", 4, 0},   {"rrl2", 4, 0},
             {"rrl3", 4, 0},    {"frl1", 4, 0},   {"frl2", 4, 0},   {"frl3", 4, 0},
             {"numzrwa", 4, 1}, {"zrwafg", 2, 0}, {"zrwasz", 2, 0}, {"zrwacap", 1, 0},
             {"zasl", 1, 0}};
#define ZNS_NS_FIELDS 16u /* then ZASL */

/* zns id-ctrl (CNS 06h) and zns id-ns -n NSID (CNS 05h), both CSI 02h. */
int ctl_cmd_zns_id(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    bool ns = c->cmd[7] == 'n'; /* "zns-id-ns" */
    /* as nvm-id-ns: nvme-cli takes a block device's NSID, a controller has none */
    uint32_t nsid = ns ? ctl_one_nsid(c) : 0;
    if (ns && nsid == 0)
        return NVME_ERR_INVAL;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    uint8_t *p = ctl_scratch(c, 0, 4096);
    struct nvme_ns_identify *id = ns && p != NULL ? ctl_scratch(c, 4096, sizeof(*id)) : NULL;
    if (p == NULL || (ns && id == NULL)) /* id-ctrl: 4 KiB are enough */
        return NVME_ERR_NOMEM;
    /* Identify Namespace first, as nvme-cli: NLBAF and FLBAS say which
     * LBA Format Extensions there are and which is in use.  NVME_ERR_PROTO
     * (NLBAF past 63, a format in use past NLBAF) still fills it, with
     * formats cut down to 64. */
    int rc = ns ? nvme_identify_ns(c->ctrl, nsid, id) : NVME_OK;
    if (rc == NVME_OK || rc == NVME_ERR_PROTO)
        rc = nvme_identify_cs(c->ctrl, ns ? NVME_CNS_CS_NS : NVME_CNS_CS_CTRL, nsid, NVME_CSI_ZNS,
                              p);
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, c->cmd, rc);
    if (ctl_raw(c, p, 4096))
        return NVME_OK;
    struct jw w;
    if (c->o.json)
        jw_begin(&w, io);
    else
        ctl_out(io,
                ns ? "ZNS Command Set Identify Namespace:\n" : "NVMe ZNS Identify Controller:\n");
    unsigned off = 0;
    for (unsigned i = ns ? 0 : ZNS_NS_FIELDS; i < ZNS_NS_FIELDS + !ns; i++) {
        uint32_t v = (uint32_t)ctl_le(p + off, zns_f[i].len);
        off += zns_f[i].len;
        if (c->o.json)
            jw_u64(&w, zns_f[i].name, v);
        else
            ctl_out(io, zns_f[i].hex ? "%-8s: %s%x\n" : "%-8s: %s%u\n", zns_f[i].name,
                    zns_f[i].hex ? HX(v) : "", v);
    }
    if (!ns) {
        if (c->o.json)
            jw_end(&w);
        return NVME_OK;
    }
    if (c->o.json)
        jw_arr(&w, "lbafe");
    for (unsigned i = 0; i < id->formats; i++) { /* LBAFE i: 16 bytes at 2816 + 16 i */
        const uint8_t *e = p + offsetof(struct nvme_id_ns_zns, lbafe) + 16u * i;
        unsigned long long zsze = ctl_le(e, 8);
        if (c->o.json) {
            jw_obj(&w, NULL);
            jw_u64(&w, "zsze", zsze);
            jw_u64(&w, "zdes", e[8]);
            jw_close_obj(&w);
        } else {
            ctl_out(io, "lbafe %2u: zsze:%s%llx zdes:%u%s\n", i, HX(zsze), zsze, e[8],
                    i == id->format ? " (in use)" : "");
        }
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    } else if (flag(c, F_VS)) { /* -v: the vendor-specific bytes 3840..4095 */
        ctl_out(io, "vs[]    :\n");
        ctl_hexdump(io, p + offsetof(struct nvme_id_ns_zns, vs), 256, 0);
    }
    return NVME_OK;
}

/* zns close-zone, finish-zone, open-zone, reset-zone, offline-zone: Zone
 * Management Send with ZSA 1h..5h in that order (§3.4.3), the action
 * named by the 5th and 6th letters of "zns-<action>-zone"; -s required
 * unless -a, as zone-mgmt-send (nvme-cli: 0 by default). */
int ctl_cmd_zns_zone(struct ctl *c)
{
    static const char acts[] = "clfiopreof";
    unsigned zsa = 1;
    while (zsa < 5 && (c->cmd[4] != acts[2 * zsa - 2] || c->cmd[5] != acts[2 * zsa - 1]))
        zsa++;
    bool all = flag(c, F_ALL);
    if (all) /* -s may be left out with -a (Select All: SLBA ignored) */
        c->o.has_num |= 1ull << N_SLBA;
    int rc;
    const struct nvme_ns_info *ns = ctl_need_ns(c, CTL_NS_SLBA, &rc);
    if (ns == NULL)
        return rc;
    unsigned long long slba = c->o.num[N_SLBA];
    rc = nvme_zns_mgmt_send(c->ctrl, ns->nsid, slba, (uint8_t)zsa, all);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, c->cmd, rc);
    /* nvme-cli's lines, less "zcapc:" (Dword 0, which the core's call
     * does not return) */
    char msg[96];
    if (zsa == NVME_ZSA_OPEN)
        nvme_snprintf(msg, sizeof(msg), "%s: Success zone slba:%llx nsid:%u", c->cmd, slba,
                      ns->nsid);
    else
        nvme_snprintf(msg, sizeof(msg), "%s: Success, action:%u zone:%llx all:%u nsid:%u", c->cmd,
                      zsa, slba, (unsigned)all, ns->nsid);
    if (c->o.json)
        return ctl_done(c, ns->nsid, msg);
    ctl_out(c->io, "%s\n", msg);
    return NVME_OK;
}

/* report-zones, zone-mgmt-send, zone-append (Zone Management Receive,
 * Send, Zone Append: ZNS 1.1 §3.4) */
static const char *zone_state(unsigned zs)
{
    switch (zs) {
    case NVME_ZS_EMPTY:
        return "EMPTY";
    case NVME_ZS_IMPLICIT_OPEN:
        return "IMP_OPENED";
    case NVME_ZS_EXPLICIT_OPEN:
        return "EXP_OPENED";
    case NVME_ZS_CLOSED:
        return "CLOSED";
    case NVME_ZS_READ_ONLY:
        return "READONLY";
    case NVME_ZS_FULL:
        return "FULL";
    case NVME_ZS_OFFLINE:
        return "OFFLINE";
    default:
        return "Unknown";
    }
}

/* Zones from *lba into z, at most max: as many Report Zones as MDTS needs
 * (nvme_zns_report returns what one fits), each from the zone after the
 * last one reported, as nvme-cli does; *lba becomes the next zone's.
 * *more: false at the namespace's end or an empty report. */
static int zones_get(struct ctl *c, const struct nvme_ns_info *ns, uint64_t *lba,
                     struct nvme_zone_desc *z, unsigned max, unsigned *count, bool *more)
{
    *count = 0;
    *more = true;
    while (*count < max) {
        unsigned got = 0;
        int rc = nvme_zns_report(c->ctrl, ns->nsid, *lba, z + *count, max - *count, &got);
        if (rc != NVME_OK)
            return ctl_fail(c, ns->nsid, "report-zones", rc);
        if (got > max - *count)
            got = max - *count;
        if (got == 0) {
            *more = false;
            break;
        }
        *count += got;
        uint64_t next = z[*count - 1].zslba + ns->zone_size;
        if (next <= *lba || next >= ns->nsze) { /* device input: it must move on */
            *more = false;
            break;
        }
        *lba = next;
    }
    return NVME_OK;
}

static void zones_show(struct ctl *c, struct jw *w, const struct nvme_zone_desc *z, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const char *st = zone_state(z[i].zs >> 4);
        const char *ty = (z[i].zt & 0xfu) == NVME_ZT_SEQ_WRITE ? "SEQWRITE_REQ" : "Unknown";
        if (c->o.json) {
            jw_obj(w, NULL);
            jw_u64(w, "slba", z[i].zslba);
            jw_u64(w, "wp", z[i].wp);
            jw_u64(w, "cap", z[i].zcap);
            jw_str(w, "state", st);
            jw_str(w, "type", ty);
            jw_u64(w, "attrs", z[i].za);
            jw_u64(w, "attrs_info", z[i].zai);
            jw_close_obj(w);
        } else {
            ctl_out(c->io,
                    "SLBA: 0x%-10llx WP: 0x%-10llx Cap: 0x%-10llx State: %-10s Type: %s "
                    "Attrs: 0x%x\n",
                    (unsigned long long)z[i].zslba, (unsigned long long)z[i].wp,
                    (unsigned long long)z[i].zcap, st, ty, z[i].za);
        }
    }
}

/* nvme-cli's report-zones: every zone from -s's on, or -d of them.  What
 * the scratch buffer does not hold at once is counted first (the count
 * leads the output), then read again a bufferful at a time. */
int ctl_cmd_report_zones(struct ctl *c)
{
    int rc;
    c->o.has_num |= 1ull << N_SLBA; /* -s defaults to 0 */
    const struct nvme_ns_info *ns = ctl_need_ns(c, 0, &rc);
    if (ns == NULL)
        return rc;
    /* Descriptors from ctl_scratch's 8-byte aligned start: the buffer is
     * only dword aligned (nvmectl.h). */
    uintptr_t base = (uintptr_t)c->io->buf;
    size_t skip = (size_t)(((base + 7u) & ~(uintptr_t)7u) - base);
    size_t room = c->io->buf_len > skip ? (c->io->buf_len - skip) / sizeof(struct nvme_zone_desc)
                                        : 0;
    unsigned max = room > 1024 ? 1024u : (unsigned)room;
    uint64_t want = has(c, N_COUNT) ? c->o.num[N_COUNT] : ~(uint64_t)0;
    if (want == 0)
        return ctl_usage_err(c, "-d must be at least 1");
    /* No more than the namespace holds (NSZE / ZSZE, one more for a short
     * last zone), whatever the descriptors say: a device whose reports
     * creep forward cannot keep the count going past that. */
    if (ns->nr_zones < ~(uint64_t)0 && want > ns->nr_zones + 1u)
        want = ns->nr_zones + 1u;
    if (want < max)
        max = (unsigned)want;
    struct nvme_zone_desc *z = ctl_scratch(c, 0, (size_t)(max != 0 ? max : 1u) * sizeof(*z));
    if (z == NULL)
        return NVME_ERR_NOMEM;
    uint64_t lba = c->o.num[N_SLBA], total = 0;
    unsigned n = 0;
    bool more = true;
    while (more && total < want) { /* the first bufferful stays when it is all */
        uint64_t left = want - total;
        rc = zones_get(c, ns, &lba, z, left < max ? (unsigned)left : max, &n, &more);
        if (rc != NVME_OK)
            return rc;
        total += n;
    }
    bool again = total > n;
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, c->io);
        jw_u64(&w, "nr_zones", total);
        jw_arr(&w, "zone_list");
    } else {
        ctl_out(c->io, "nr_zones: %llu (zone size %llu blocks)\n", (unsigned long long)total,
                (unsigned long long)ns->zone_size);
    }
    if (!again) {
        zones_show(c, &w, z, n);
    } else {
        lba = c->o.num[N_SLBA];
        for (uint64_t shown = 0; shown < total; shown += n) {
            uint64_t left = total - shown;
            rc = zones_get(c, ns, &lba, z, left < max ? (unsigned)left : max, &n, &more);
            if (rc != NVME_OK)
                return rc;
            zones_show(c, &w, z, n);
            if (n == 0 || (!more && shown + n < total))
                break; /* fewer than counted: the device changed its mind */
        }
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    }
    return NVME_OK;
}

int ctl_cmd_zone_mgmt_send(struct ctl *c)
{
    static const struct {
        const char *name;
        uint8_t zsa;
    } acts[] = {{"open", NVME_ZSA_OPEN},
                {"close", NVME_ZSA_CLOSE},
                {"finish", NVME_ZSA_FINISH},
                {"reset", NVME_ZSA_RESET},
                {"offline", NVME_ZSA_OFFLINE}};
    int rc;
    bool all = flag(c, F_ALL);
    if (all)
        c->o.has_num |= 1ull << N_SLBA;
    const struct nvme_ns_info *ns = ctl_need_ns(c, CTL_NS_SLBA, &rc);
    if (ns == NULL)
        return rc;
    /* -z by name, or as nvme-cli takes it (its OPT_BYTE): the Zone Send
     * Action's value, 1h close .. 5h offline (ZNS 1.1 §3.4.3) */
    const char *z = c->o.str[S_ZSA];
    const unsigned n_acts = sizeof(acts) / sizeof(acts[0]);
    uint64_t v = 0;
    bool num = z != NULL && nvmectl_parse_u64(z, &v);
    unsigned k = n_acts;
    for (unsigned i = 0; z != NULL && i < n_acts; i++)
        if (nvme_streq(z, acts[i].name) || (num && v == acts[i].zsa))
            k = i;
    if (k == n_acts)
        return ctl_usage_err(c, "-z is open, close, finish, reset or offline (or nvme-cli's "
                                "1 close, 2 finish, 3 open, 4 reset, 5 offline)");
    uint8_t zsa = acts[k].zsa;
    rc = nvme_zns_mgmt_send(c->ctrl, ns->nsid, c->o.num[N_SLBA], zsa, all);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "zone-mgmt-send", rc);
    char what[64];
    nvme_snprintf(what, sizeof(what), "zone %s of %s%llx", acts[k].name,
                  all ? "all zones, from 0x" : "0x", (unsigned long long)c->o.num[N_SLBA]);
    return ctl_done(c, ns->nsid, what);
}

int ctl_cmd_zone_append(struct ctl *c)
{
    int rc;
    const struct nvme_ns_info *ns = ctl_need_ns(c, CTL_NS_SLBA, &rc);
    if (ns == NULL)
        return rc;
    uint64_t count = c->o.num[N_COUNT];
    uint8_t *b = ctl_block_data(c, ns, &rc);
    if (b == NULL)
        return rc;
    uint64_t lba = 0;
    rc = nvme_zns_append(c->ctrl, ns->nsid, c->o.num[N_SLBA], (uint32_t)count, b, &lba);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "zone-append", rc);
    if (c->o.json) {
        char dev[32];
        struct jw w;
        nvme_snprintf(dev, sizeof(dev), "%sn%u", ctl_dev(c->io), ns->nsid);
        jw_begin(&w, c->io);
        jw_str(&w, "device", dev);
        jw_str(&w, "command", "zone-append");
        jw_str(&w, "result", "success");
        jw_u64(&w, "zslba", c->o.num[N_SLBA]);
        jw_u64(&w, "lba", lba);
        jw_u64(&w, "nlb", count);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(c->io, "%sn%u: zone-append: success, %llu block(s) written at LBA 0x%llx\n",
            ctl_dev(c->io), ns->nsid, (unsigned long long)count, (unsigned long long)lba);
    return NVME_OK;
}
