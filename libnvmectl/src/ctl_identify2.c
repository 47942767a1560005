/* SPDX-License-Identifier: MIT */
/*
 * ctl_identify2.c - Identify structures of NVMe 2.0 that nvme-cli 2.x
 * shows with commands of their own: primary-ctrl-caps (CNS 14h), of the
 * Virtualization Enhancements (§8.26).
 * Text and JSON as nvme-cli's (nvme-print-stdout.c, nvme-print-json.c);
 * -b writes the 4096 bytes as read (nvme-cli: -o binary).
 */
#include "ctl.h"

static uint32_t id_le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* printf's "%#x": 0 without the prefix. */
static const char *id_hx(char *b, size_t len, uint32_t v)
{
    if (v == 0)
        nvme_snprintf(b, len, "0");
    else
        nvme_snprintf(b, len, "0x%x", v);
    return b;
}

/* Identify with CNTID (CDW10 31:16), which nvme_identify does not take,
 * through the admin passthrough: 4096 bytes into the scratch buffer. */
static uint8_t *id_cntid(struct ctl *c, uint8_t cns, uint16_t cntid, const char *what, int *rc)
{
    uint8_t *buf = ctl_scratch(c, 0, 4096);
    *rc = NVME_ERR_NOMEM;
    if (buf == NULL)
        return NULL;
    struct nvme_sqe sqe;
    nvme_memzero(&sqe, sizeof(sqe));
    sqe.opc = NVME_ADMIN_IDENTIFY;
    sqe.cdw10 = cns | ((uint32_t)cntid << 16);
    *rc = nvme_admin_passthru(c->ctrl, &sqe, buf, 4096, NVME_DMA_FROM_DEVICE, NULL);
    if (*rc != NVME_OK) {
        *rc = ctl_fail(c, NVME_NSID_ALL, what, *rc);
        return NULL;
    }
    return buf;
}

/* ------------------------------------------------------------------ */
/* primary-ctrl-caps (Figure 281)                                      */
/* ------------------------------------------------------------------ */

int ctl_cmd_primary_ctrl_caps(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (c->o.num[N_CNTID] > 0xffffu)
        return ctl_usage_err(c, "-c CNTLID is 0..65535");
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    int rc;
    const uint8_t *p = id_cntid(c, 0x14, (uint16_t)c->o.num[N_CNTID], "primary-ctrl-caps", &rc);
    if (p == NULL)
        return rc;
    if (ctl_raw(c, p, 4096))
        return NVME_OK;
    /* Name, offset, width; the 16-bit ones nvme-cli prints signed. */
    static const struct {
        const char *name;
        uint8_t off, len;
    } f[] = {{"vqfrt", 32, 4},  {"vqrfa", 36, 4},  {"vqrfap", 40, 2}, {"vqprt", 42, 2},
             {"vqfrsm", 44, 2}, {"vqgran", 46, 2}, {"vifrt", 64, 4},  {"virfa", 68, 4},
             {"virfap", 72, 2}, {"viprt", 74, 2},  {"vifrsm", 76, 2}, {"vigran", 78, 2}};
    uint32_t cntlid = id_le(p, 2), portid = id_le(p + 2, 2), crt = p[4];
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        jw_u64(&w, "cntlid", cntlid);
        jw_u64(&w, "portid", portid);
        jw_u64(&w, "crt", crt);
        for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++)
            jw_u64(&w, f[i].name, id_le(p + f[i].off, f[i].len));
        jw_end(&w);
        return NVME_OK;
    }
    char a[16], b[16], d[16];
    ctl_out(io, "NVME Identify Primary Controller Capabilities:\n");
    ctl_out(io, "cntlid    : %s\nportid    : %s\ncrt       : %s\n", id_hx(a, sizeof(a), cntlid),
            id_hx(b, sizeof(b), portid), id_hx(d, sizeof(d), crt));
    if (flag(c, F_HUMAN)) { /* CRT: bit 1 VI, bit 0 VQ resources */
        if (crt >> 2)
            ctl_out(io, "  [7:2] : %s\tReserved\n", id_hx(a, sizeof(a), crt >> 2));
        ctl_out(io, "  [1:1] %s\tVI Resources are %ssupported\n",
                id_hx(a, sizeof(a), (crt >> 1) & 1u), (crt & 2u) ? "" : "not ");
        ctl_out(io, "  [0:0] %s\tVQ Resources are %ssupported\n", id_hx(a, sizeof(a), crt & 1u),
                (crt & 1u) ? "" : "not ");
    }
    for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        ctl_out(io, "%-10s: %u\n", f[i].name, id_le(p + f[i].off, f[i].len));
    return NVME_OK;
}
