/* SPDX-License-Identifier: MIT */
/*
 * ctl_zns.c - commands of nvme-cli's zns plugin that the zoned ones of
 * ctl_io.c do not cover: zns id-ctrl (Identify CNS 06h CSI 02h, NVMe
 * Zoned Namespace Command Set 1.1 Figure 47), zns id-ns (CNS 05h CSI
 * 02h, Figure 48) and the per-action zone commands zns open-zone ..
 * offline-zone (Zone Management Send, §3.4.3); and get-ns-id.  Text and
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
 * nvme-cli shows), then Identify Controller's one field, ZASL (Figure 47,
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
    uint32_t nsid = (uint32_t)c->o.num[N_NSID];
    /* as nvm-id-ns: nvme-cli takes a block device's NSID, a controller has none */
    if (ns && (nsid == 0 || nsid == NVME_NSID_ALL))
        return ctl_usage_err(c, "-n NSID is required");
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
    const struct nvme_ns_info *ns = ctl_need_ns(c, true, &rc);
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

/* get-ns-id: nvme-cli prints the NSID of the block device it is given,
 * "nvme0n1: namespace-id:1"; a controller has several: one such line per
 * active namespace, named as its block device (NSID order). */
int ctl_cmd_get_ns_id(struct ctl *c)
{
    unsigned n = nvme_ns_count(c->ctrl);
    struct jw w;
    if (c->o.json) { /* nvme-cli has none: {"device", "namespace-id": [NSIDs]} */
        jw_begin(&w, c->io);
        jw_str(&w, "device", ctl_dev(c->io));
        jw_arr(&w, "namespace-id");
    }
    for (unsigned i = 0; i < n; i++) {
        const struct nvme_ns_info *ns = nvme_ns_at(c->ctrl, i);
        if (ns == NULL) /* gone since the count */
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
