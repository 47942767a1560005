/* SPDX-License-Identifier: MIT */
/*
 * ctl_resv.c - reservations as nvme-cli 2.x has them: resv-register,
 * resv-acquire, resv-release, resv-report (NVMe 1.4 §6.10-6.13, §8),
 * with its options, defaults and messages, through nvme_io_passthru.
 * The report is device data: the entries printed are bounded by the
 * bytes transferred, whatever REGCTL claims.
 */
#include "ctl.h"

/* Identify Controller ONCS bit 5: without it the commands are not sent. */
static bool resv_supported(struct ctl *c)
{
    if (nvme_ctrl_get_info(c->ctrl)->oncs & NVME_ONCS_RESERVATIONS)
        return true;
    ctl_out(c->io, "%s: %s: reservations not supported by this controller (ONCS bit 5 clear)\n",
            ctl_dev(c->io), c->cmd);
    return false;
}

static __attribute__((noinline)) void put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8u * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 8; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Register, Acquire, Release: CDW10 the action, IEKEY and `hi` (RTYPE
 * or CPTPL, already shifted); the data one or two keys.  `act_name` names
 * the action option for nvme-cli's range check (0..7). */
static int resv_send(struct ctl *c, uint8_t opc, const char *act_name, uint32_t hi, unsigned keys,
                     const char *what, const char *ok)
{
    int rc;
    if (!resv_supported(c))
        return NVME_ERR_UNSUPPORTED;
    const struct nvme_ns_info *ns = ctl_need_ns(c, 0, &rc);
    if (ns == NULL)
        return rc;
    if (c->o.num[N_RACT] > 7) {
        ctl_out(c->io, "invalid %s:%llu\n", act_name, (unsigned long long)c->o.num[N_RACT]);
        return NVME_ERR_INVAL;
    }
    uint8_t *d = ctl_scratch(c, 0, 16);
    if (d == NULL)
        return NVME_ERR_NOMEM;
    put_le64(d, c->o.num[N_CRKEY]);
    put_le64(d + 8, c->o.num[N_NRKEY]);
    struct nvme_sqe sqe;
    nvme_memzero(&sqe, sizeof(sqe));
    sqe.opc = opc;
    sqe.nsid = ns->nsid;
    sqe.cdw10 = (uint32_t)c->o.num[N_RACT] | (flag(c, F_IEKEY) ? NVME_RESV_IEKEY : 0u) | hi;
    rc = nvme_io_passthru(c->ctrl, &sqe, d, 8u * keys, NVME_DMA_TO_DEVICE, NULL);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, what, rc);
    if (c->o.json)
        return ctl_done(c, ns->nsid, what);
    ctl_out(c->io, "%s\n", ok);
    return NVME_OK;
}

/* RTYPE is a byte (nvme-cli's OPT_BYTE); 0 and 7..FFh go to the device. */
static bool rtype_ok(struct ctl *c)
{
    if (c->o.num[N_RTYPE] <= 0xffu)
        return true;
    ctl_usage_err(c, "-t RTYPE is a byte (1..6 the reservation types)");
    return false;
}

int ctl_cmd_resv_register(struct ctl *c)
{
    if (c->o.num[N_CPTPL] > 3) {
        ctl_out(c->io, "invalid cptpl:%llu\n", (unsigned long long)c->o.num[N_CPTPL]);
        return NVME_ERR_INVAL;
    }
    /* nvme-cli's line, its two blanks included */
    return resv_send(c, NVME_CMD_RESV_REGISTER, "rrega",
                     (uint32_t)c->o.num[N_CPTPL] << NVME_RESV_CPTPL_SHIFT, 2,
                     "reservation register", "NVME Reservation  success");
}

int ctl_cmd_resv_acquire(struct ctl *c)
{
    if (!rtype_ok(c))
        return NVME_ERR_INVAL;
    return resv_send(c, NVME_CMD_RESV_ACQUIRE, "racqa",
                     (uint32_t)c->o.num[N_RTYPE] << NVME_RESV_RTYPE_SHIFT, 2, "reservation acquire",
                     "NVME Reservation Acquire success");
}

int ctl_cmd_resv_release(struct ctl *c)
{
    if (!rtype_ok(c))
        return NVME_ERR_INVAL;
    return resv_send(c, NVME_CMD_RESV_RELEASE, "rrela",
                     (uint32_t)c->o.num[N_RTYPE] << NVME_RESV_RTYPE_SHIFT, 1, "reservation release",
                     "NVME Reservation Release success");
}

/* nvme-cli's report: -d NUMD (0 or 1024 and more: 4 KiB; at least 3),
 * -e the extended data structure, -b raw.  Text and JSON as nvme-cli
 * 2.x prints them (gen, rtype, regctl, ptpls, then each registrant). */
int ctl_cmd_resv_report(struct ctl *c)
{
    int rc;
    if (!resv_supported(c))
        return NVME_ERR_UNSUPPORTED;
    const struct nvme_ns_info *ns = ctl_need_ns(c, 0, &rc);
    if (ns == NULL)
        return rc;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    uint64_t numd = c->o.num[N_NUMD];
    if (numd == 0 || numd >= 4096u / 4u)
        numd = 4096u / 4u - 1u;
    if (numd < 3)
        numd = 3;
    uint32_t len = (uint32_t)(numd + 1u) * 4u;
    bool eds = flag(c, F_EDS);
    uint8_t *b = ctl_scratch(c, 0, len);
    if (b == NULL)
        return NVME_ERR_NOMEM;
    nvme_memzero(b, len); /* what the device does not write reads as zeros */
    struct nvme_sqe sqe;
    nvme_memzero(&sqe, sizeof(sqe));
    sqe.opc = NVME_CMD_RESV_REPORT;
    sqe.nsid = ns->nsid;
    sqe.cdw10 = (uint32_t)numd;
    sqe.cdw11 = eds ? NVME_RESV_REPORT_EDS : 0u;
    rc = nvme_io_passthru(c->ctrl, &sqe, b, len, NVME_DMA_FROM_DEVICE, NULL);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "reservation report", rc);
    if (ctl_raw(c, b, len))
        return NVME_OK;
    /* Header fields all lie in the first 16 bytes (the least transferred). */
    uint32_t gen = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                   (uint32_t)b[3] << 24;
    unsigned rtype = b[4], regctl = (unsigned)b[5] | (unsigned)b[6] << 8, ptpls = b[9];
    /* Entries: REGCTL, but only as many as the transfer holds. */
    uint32_t hdr = eds ? NVME_RESV_STATUS_EXT_HDR : (uint32_t)sizeof(struct nvme_resv_status);
    uint32_t ent = eds ? (uint32_t)sizeof(struct nvme_resv_ctrl_ext)
                       : (uint32_t)sizeof(struct nvme_resv_ctrl);
    /* Divided by each constant: no divide call on CPUs without one (ARMv7-A). */
    uint32_t fit = len < hdr ? 0u
                   : eds     ? (len - hdr) / (uint32_t)sizeof(struct nvme_resv_ctrl_ext)
                             : (len - hdr) / (uint32_t)sizeof(struct nvme_resv_ctrl);
    unsigned cut = regctl > fit ? regctl - fit : 0u, shown = regctl - cut;
    const char *list = eds ? "regctlext" : "regctl";
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, c->io);
        jw_u64(&w, "gen", gen);
        jw_u64(&w, "rtype", rtype);
        jw_u64(&w, "regctl", regctl);
        jw_u64(&w, "ptpls", ptpls);
        jw_arr(&w, eds ? "regctlext" : "regctls");
    } else {
        ctl_out(c->io, "\nNVME Reservation status:\n\ngen       : %u\nrtype     : %u\n", gen,
                rtype);
        ctl_out(c->io, "regctl    : %u\nptpls     : %u\n", regctl, ptpls);
    }
    for (unsigned i = 0; i < shown; i++) {
        const uint8_t *e = b + hdr + i * ent;
        unsigned cntlid = (unsigned)e[0] | (unsigned)e[1] << 8, rcsts = e[2];
        uint64_t rkey = get_le64(e + (eds ? 8 : 16));
        char hid[33];
        if (eds)
            ctl_hex(hid, sizeof(hid), e + 16, 16);
        if (c->o.json) {
            jw_obj(&w, NULL);
            jw_u64(&w, "cntlid", cntlid);
            jw_u64(&w, "rcsts", rcsts);
            if (eds) {
                jw_u64(&w, "rkey", rkey);
                jw_str(&w, "hostid", hid);
            } else {
                jw_u64(&w, "hostid", get_le64(e + 8));
                jw_u64(&w, "rkey", rkey);
            }
            jw_close_obj(&w);
        } else if (eds) {
            ctl_out(c->io, "%s[%u] :\n  cntlid     : %x\n  rcsts      : %x\n", list, i, cntlid,
                    rcsts);
            ctl_out(c->io, "  rkey       : %llx\n  hostid     : %s\n", (unsigned long long)rkey,
                    hid);
        } else {
            ctl_out(c->io, "%s[%u] :\n  cntlid  : %x\n  rcsts   : %x\n", list, i, cntlid, rcsts);
            ctl_out(c->io, "  hostid  : %llx\n  rkey    : %llx\n",
                    (unsigned long long)get_le64(e + 8), (unsigned long long)rkey);
        }
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
        return NVME_OK;
    }
    if (cut != 0) /* nvmectl's note: nvme-cli stops there silently */
        ctl_out(c->io, "(%u more registrant(s) past the %u bytes transferred)\n", cut, len);
    ctl_out(c->io, "\n");
    return NVME_OK;
}
