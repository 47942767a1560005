/* SPDX-License-Identifier: MIT */
/*
 * ctl_nvme2_identify.c - Identify structures of NVMe 2.0 that nvme-cli 2.x
 * shows with commands of their own: primary-ctrl-caps (CNS 14h) and
 * list-secondary (CNS 15h), the Virtualization Enhancements' (NVMe 2.0 §8.26),
 * id-iocs (CNS 1Ch), nvm-id-ctrl (CNS 06h, CSI 00h) and nvm-id-ns (CNS
 * 05h, CSI 00h).  Text and JSON as nvme-cli's (nvme-print-stdout.c,
 * nvme-print-json.c); -b writes the 4096 bytes as read (nvme-cli: -o
 * binary).  Counts in the structures come from the device and are clamped
 * to the structure.
 */
#include "ctl.h"

/* printf's "%#x": 0 without the prefix. */
static const char *id_hx(char *b, size_t len, uint64_t v)
{
    if (v == 0)
        nvme_snprintf(b, len, "0");
    else
        nvme_snprintf(b, len, "0x%llx", (unsigned long long)v);
    return b;
}

/* Identify with CNTID (CDW10 31:16), which nvme_identify does not take. */
static uint8_t *id_cntid(struct ctl *c, uint8_t cns, uint16_t cntid, const char *what, int *rc)
{
    return ctl_identify_raw(c, cns | ((uint32_t)cntid << 16), 0, what, rc);
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
    uint32_t cntlid = (uint32_t)ctl_le(p, 2), portid = (uint32_t)ctl_le(p + 2, 2), crt = p[4];
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        jw_u64(&w, "cntlid", cntlid);
        jw_u64(&w, "portid", portid);
        jw_u64(&w, "crt", crt);
        for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++)
            jw_u64(&w, f[i].name, (uint32_t)ctl_le(p + f[i].off, f[i].len));
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
        ctl_out(io, "%-10s: %u\n", f[i].name, (uint32_t)ctl_le(p + f[i].off, f[i].len));
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* list-secondary (Figure 282)                                         */
/* ------------------------------------------------------------------ */

#define SC_MAX 127u /* entries of 32 bytes after a 32-byte header */

int ctl_cmd_list_secondary(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (c->o.num[N_CNTID] > 0xffffu)
        return ctl_usage_err(c, "-c CNTID is 0..65535");
    if (has(c, N_ENTRIES) && c->o.num[N_ENTRIES] == 0)
        return ctl_usage_err(c, "non-zero num-entries is required param");
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    int rc;
    const uint8_t *p = id_cntid(c, 0x15, (uint16_t)c->o.num[N_CNTID], "list-secondary", &rc);
    if (p == NULL)
        return rc;
    if (ctl_raw(c, p, 4096))
        return NVME_OK;
    unsigned numid = (uint32_t)ctl_le(p, 1); /* NUMID: the device's count, at most 127 fit */
    unsigned n = numid > SC_MAX ? SC_MAX : numid;
    /* cppcheck takes NUMID, device data read through the passthrough, for
     * 0 (knownConditionTrueFalse here and at the loop below) */
    // cppcheck-suppress knownConditionTrueFalse
    if (has(c, N_ENTRIES) && c->o.num[N_ENTRIES] < n) /* -e, default 127 */
        n = (unsigned)c->o.num[N_ENTRIES];
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, io);
        jw_u64(&w, "num", n);
        jw_arr(&w, "secondary-controllers");
    } else {
        ctl_out(io, "Identify Secondary Controller List:\n");
        ctl_out(io, "   NUMID       : Number of Identifiers           : %u\n", numid);
    }
    // cppcheck-suppress knownConditionTrueFalse
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *e = p + 32 + 32 * i;
        uint32_t scid = (uint32_t)ctl_le(e, 2), pcid = (uint32_t)ctl_le(e + 2, 2), scs = e[4];
        uint32_t vfn = (uint32_t)ctl_le(e + 8, 2), nvq = (uint32_t)ctl_le(e + 10, 2),
                 nvi = (uint32_t)ctl_le(e + 12, 2);
        if (c->o.json) {
            jw_obj(&w, NULL);
            jw_u64(&w, "secondary-controller-identifier", scid);
            jw_u64(&w, "primary-controller-identifier", pcid);
            jw_u64(&w, "secondary-controller-state", scs);
            jw_u64(&w, "virtual-function-number", vfn);
            jw_u64(&w, "num-virtual-queues", nvq);
            jw_u64(&w, "num-virtual-interrupts", nvi);
            jw_close_obj(&w);
            continue;
        }
        /* nvme-cli's "0x%.04x": 0x0000 for 0 too (as nvme-cli 2.3, Debian
         * 12's, prints QEMU's controller's) */
        ctl_out(io, "   SCEntry[%-3u]:\n................\n", i);
        ctl_out(io, "     SCID      : Secondary Controller Identifier : 0x%04x\n", scid);
        ctl_out(io, "     PCID      : Primary Controller Identifier   : 0x%04x\n", pcid);
        ctl_out(io, "     SCS       : Secondary Controller State      : 0x%04x (%s)\n", scs,
                (scs & 1u) ? "Online" : "Offline");
        ctl_out(io, "     VFN       : Virtual Function Number         : 0x%04x\n", vfn);
        ctl_out(io, "     NVQ       : Num VQ Flex Resources Assigned  : 0x%04x\n", nvq);
        ctl_out(io, "     NVI       : Num VI Flex Resources Assigned  : 0x%04x\n", nvi);
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* id-iocs (CNS 1Ch, Figure 289)                                       */
/* ------------------------------------------------------------------ */

/* The I/O Command Set Combination bits nvme-cli names (NVMe 2.0 Figure
 * 291 with NVMe 2.1's bits 3 and 4), highest first. */
static const struct {
    uint8_t bit;
    const char *name;
} iocsc_bits[] = {{4, "Computational Programs Namespace Command Set"},
                  {3, "Subsystem Local Memory Command Set"},
                  {2, "Zoned Namespace Command Set"},
                  {1, "Key Value Command Set"},
                  {0, "NVM Command Set"}};
#define IOCSC_N (sizeof(iocsc_bits) / sizeof(iocsc_bits[0]))

int ctl_cmd_id_iocs(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    uint64_t cntid = has(c, N_CNTID) ? c->o.num[N_CNTID] : 0xffffu; /* nvme-cli's default */
    if (cntid > 0xffffu)
        return ctl_usage_err(c, "-c CONTROLLER-ID is 0..65535");
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    int rc;
    const uint8_t *p = id_cntid(c, 0x1c, (uint16_t)cntid, "id-iocs", &rc);
    if (p == NULL)
        return rc;
    if (ctl_raw(c, p, 4096))
        return NVME_OK;
    struct jw w;
    if (c->o.json)
        jw_begin(&w, io);
    else
        ctl_out(io, "NVMe Identify I/O Command Set:\n"); /* nvme-cli's line before them */
    /* 512 vectors of 64 bits */
    for (unsigned i = 0; i < 512; i++) {
        uint64_t v = ctl_le(p + 8 * i, 8);
        if (v == 0)
            continue;
        if (c->o.json) {
            char key[40];
            nvme_snprintf(key, sizeof(key), "I/O Command Set Combination[%u]", i);
            jw_u64(&w, key, v);
            nvme_snprintf(key, sizeof(key), "IOCSC%u", i);
            jw_obj(&w, key);
            for (unsigned b = 0; b < IOCSC_N; b++)
                jw_str(&w, iocsc_bits[b].name,
                       (v >> iocsc_bits[b].bit) & 1u ? "Selected" : "Not selected");
            jw_close_obj(&w);
            continue;
        }
        ctl_out(io, "I/O Command Set Combination[%u]:%llx\n", i, (unsigned long long)v);
        if (!flag(c, F_HUMAN))
            continue;
        for (unsigned b = 0; b < IOCSC_N; b++) {
            unsigned on = (unsigned)(v >> iocsc_bits[b].bit) & 1u;
            ctl_out(io, "  [%u:%u] : %s\t%s %sSelected\n", iocsc_bits[b].bit, iocsc_bits[b].bit,
                    on ? "0x1" : "0", iocsc_bits[b].name, on ? "" : "Not ");
        }
        ctl_out(io, "\n");
    }
    if (c->o.json)
        jw_end(&w);
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* nvm-id-ctrl (CNS 06h, CSI 00h: NVM Command Set Specification 1.0     */
/* §4.1.5.4 Figure 102, with 1.1's fields from byte 16)                 */
/* ------------------------------------------------------------------ */

int ctl_cmd_nvm_id_ctrl(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    uint8_t *p = ctl_scratch(c, 0, 4096);
    if (p == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_identify_cs(c->ctrl, NVME_CNS_CS_CTRL, 0, NVME_CSI_NVM, p);
    if (rc != NVME_OK)
        return ctl_fail(c, NVME_NSID_ALL, "nvm-id-ctrl", rc);
    if (ctl_raw(c, p, 4096))
        return NVME_OK;
    /* VSL, WZSL, WUSL, DMRL, DMRSL, DMSL, KPIOCAP, WZDSL, AOCS, VER, LBAMQF */
    static const struct {
        const char *name;
        uint8_t off, len;
    } f[] = {{"vsl", 0, 1},   {"wzsl", 1, 1}, {"wusl", 2, 1},     {"dmrl", 3, 1},
             {"dmrsl", 4, 4}, {"dmsl", 8, 8}, {"kpiocap", 16, 1}, {"wzdsl", 17, 1},
             {"aocs", 18, 2}, {"ver", 20, 4}, {"lbamqf", 24, 1}};
    struct jw w;
    if (c->o.json)
        jw_begin(&w, io);
    else
        ctl_out(io, "NVMe Identify Controller NVM:\n");
    for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        uint64_t v = ctl_le(p + f[i].off, f[i].len);
        if (c->o.json)
            jw_u64(&w, f[i].name, v);
        else if (f[i].off == 20) /* ver: nvme-cli's 0x%x */
            ctl_out(io, "%-7s: 0x%llx\n", f[i].name, (unsigned long long)v);
        else
            ctl_out(io, "%-7s: %llu\n", f[i].name, (unsigned long long)v);
    }
    if (c->o.json)
        jw_end(&w);
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* nvm-id-ns (CNS 05h, CSI 00h: NVM Command Set Specification 1.0      */
/* Figure 100, with 1.1's PIFA, QPIF and the fields from byte 268)     */
/* ------------------------------------------------------------------ */

/* A PIF or QPIF value's name (ELBAF bits 8:7, 12:9): 3 in PIF is the
 * Qualified Type only when PIC.QPIFS (bit 3) says the namespace has it. */
static const char *pif_name(unsigned v, bool qpifs, bool pif_field)
{
    static const char *const guard[] = {"16b Guard", "32b Guard", "64b Guard"};
    if (v < 3)
        return guard[v];
    return v == 3 && pif_field && qpifs ? "Qualified Type" : "Reserved";
}

/* -v: PIC's bits (byte 8) as nvme-cli names them. */
static __attribute__((noinline)) void nvm_ns_pic(const struct nvmectl_io *io, unsigned pic)
{
    char h[24];
    if (pic >> 4)
        ctl_out(io, "  [7:4] : %s\tReserved\n", id_hx(h, sizeof(h), pic >> 4));
    ctl_out(io, "  [3:3] : %s\tQualified Protection Information Format %sSupported\n",
            id_hx(h, sizeof(h), (pic >> 3) & 1u), (pic & 8u) ? "" : "Not ");
    ctl_out(io, "  [2:2] : %s\tStorage Tag Check Read %sSupported\n",
            id_hx(h, sizeof(h), (pic >> 2) & 1u), (pic & 4u) ? "" : "Not ");
    ctl_out(io, "  [1:1] : %s\t16b Guard Protection Information Storage Tag Mask\n",
            id_hx(h, sizeof(h), (pic >> 1) & 1u));
    ctl_out(io, "  [0:0] : %s\t16b Guard Protection Information Storage Tag %sSupported\n\n",
            id_hx(h, sizeof(h), pic & 1u), (pic & 1u) ? "" : "Not ");
}

/* -v: PIFA (byte 9, NVM CS 1.1): the Storage Tag Masking Level Attribute. */
static void nvm_ns_pifa(const struct nvmectl_io *io, unsigned pifa)
{
    static const char *const stmla[] = {"Bit Granularity Masking", "Byte Granularity Masking",
                                        "Masking Not Supported"};
    char h[24];
    if (pifa >> 3)
        ctl_out(io, "  [7:3] : %s\tReserved\n", id_hx(h, sizeof(h), pifa >> 3));
    ctl_out(io, "  [2:0] : %s\tStorage Tag Masking Level Attribute : %s\n\n",
            id_hx(h, sizeof(h), pifa & 7u), (pifa & 7u) < 3 ? stmla[pifa & 7u] : "Reserved");
}

/* NPRG .. TLBAAG (NVM CS 1.1, bytes 272..295), after NPDGL (268). */
static const char *const nvm_ns_tail[] = {"nprg", "npra", "nors", "npdal", "lbapss", "tlbaag"};

int ctl_cmd_nvm_id_ns(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    /* as id-ns: nvme-cli takes a block device's NSID, a controller has none */
    uint32_t nsid = ctl_one_nsid(c);
    if (nsid == 0)
        return NVME_ERR_INVAL;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    uint8_t *p = ctl_scratch(c, 0, 4096);
    struct nvme_ns_identify *id = ctl_scratch(c, 4096, sizeof(*id));
    if (p == NULL || id == NULL)
        return NVME_ERR_NOMEM;
    /* Identify Namespace first, as nvme-cli: NLBAF, NULBAF, FLBAS and
     * NSFEAT say what the ELBAF list holds.  NVME_ERR_PROTO (NLBAF past
     * 63, a format in use past NLBAF, logged by the core) still fills raw:
     * shown, with the count clamped below. */
    int rc = nvme_identify_ns(c->ctrl, nsid, id);
    if (rc != NVME_OK && rc != NVME_ERR_PROTO)
        return ctl_fail(c, nsid, "nvm-id-ns (Identify Namespace)", rc);
    rc = nvme_identify_cs(c->ctrl, NVME_CNS_CS_NS, nsid, NVME_CSI_NVM, p);
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, "nvm-id-ns", rc);
    if (ctl_raw(c, p, 4096))
        return NVME_OK;
    const uint8_t *raw = (const uint8_t *)&id->raw;
    /* NLBAF + 1 formats, then NULBAF (byte 82, NVMe 2.1) of unique
     * capabilities: both from the device, at most the 64 ELBAFs there are */
    unsigned nf = (unsigned)id->raw.nlbaf + 1u + raw[82];
    if (nf > 64)
        nf = 64;
    unsigned pic = p[8], pifa = p[9];
    bool npdgl = (id->raw.nsfeat & 0x20u) != 0; /* nvme-cli shows NPDGL with NSFEAT bit 5 */
    const unsigned elbaf0 = offsetof(struct nvme_id_ns_nvm, elbaf);
    struct jw w;
    char h[24];
    if (c->o.json) {
        jw_begin(&w, io);
        jw_u64(&w, "lbstm", ctl_le(p, 8));
        jw_u64(&w, "pic", pic);
        jw_u64(&w, "pifa", pifa);
        jw_arr(&w, "elbafs");
    } else {
        ctl_out(io, "NVMe NVM Identify Namespace %u:\n", nsid);
        ctl_out(io, "lbstm : %s\n", id_hx(h, sizeof(h), ctl_le(p, 8)));
        ctl_out(io, "pic   : %s\n", id_hx(h, sizeof(h), pic));
        if (flag(c, F_HUMAN))
            nvm_ns_pic(io, pic);
        ctl_out(io, "pifa  : %s\n", id_hx(h, sizeof(h), pifa));
        if (flag(c, F_HUMAN))
            nvm_ns_pifa(io, pifa);
    }
    for (unsigned i = 0; i < nf; i++) {
        uint32_t e = (uint32_t)ctl_le(p + elbaf0 + 4 * i, 4);
        unsigned sts = NVME_ELBAF_STS(e), pif = NVME_ELBAF_PIF(e), qpif = (e >> 9) & 0xfu;
        if (c->o.json) {
            jw_obj(&w, NULL);
            jw_u64(&w, "sts", sts);
            jw_u64(&w, "pif", pif);
            jw_u64(&w, "qpif", qpif);
            jw_close_obj(&w);
            continue;
        }
        const char *in_use = i == id->format ? "(in use)" : "";
        if (flag(c, F_HUMAN))
            ctl_out(io,
                    "Extended LBA Format %2u : Qualified Protection Information Format: "
                    "%s(%u) - Protection Information Format: %s(%u) - Storage Tag Size "
                    "(MSB): %-2u %s\n",
                    i, pif_name(qpif, (pic & 8u) != 0, false), qpif,
                    pif_name(pif, (pic & 8u) != 0, true), pif, sts, in_use);
        else
            ctl_out(io, "elbaf %2u : qpif:%u pif:%u sts:%-2u %s\n", i, qpif, pif, sts, in_use);
    }
    if (c->o.json)
        jw_close_arr(&w);
    if (npdgl) {
        if (c->o.json)
            jw_u64(&w, "npdgl", ctl_le(p + 268, 4));
        else
            ctl_out(io, "npdgl : %s\n", id_hx(h, sizeof(h), ctl_le(p + 268, 4)));
    }
    for (unsigned i = 0; i < sizeof(nvm_ns_tail) / sizeof(nvm_ns_tail[0]); i++) {
        uint64_t v = ctl_le(p + 272 + 4 * i, 4);
        if (c->o.json)
            jw_u64(&w, nvm_ns_tail[i], v);
        else
            ctl_out(io, "%-6s: %s\n", nvm_ns_tail[i], id_hx(h, sizeof(h), v));
    }
    if (c->o.json)
        jw_end(&w);
    return NVME_OK;
}
