/* SPDX-License-Identifier: MIT */
/*
 * ctl_regs.c - show-regs: the controller registers (NVMe 2.0 §3.1.3,
 * Figure 35) through nvme_ctrl_regs_read, printed as nvme-cli 2.4's
 * show-regs prints them: one "name : hex" line each, -H the fields of
 * each decoded under it, -o json nvme-cli's keys.  Nothing is sent to the
 * controller and no register is written, so it answers in every state.
 */
#include "ctl.h"

/* Bits hi..lo of v. */
static uint32_t fld(uint64_t v, unsigned hi, unsigned lo)
{
    return (uint32_t)((v >> lo) & ((2ull << (hi - lo)) - 1u));
}

static const char *yes_no(uint32_t bit) { return bit ? "Yes" : "No"; }
static const char *supported(uint32_t bit) { return bit ? "Supported" : "Not Supported"; }

/* CAP (§3.1.3.1), field by field from CRWMS (bit 59) down to MQES. */
static void show_cap(const struct nvmectl_io *io, uint64_t cap)
{
    ctl_out(io, "\tController Ready With Media Support (CRWMS): %s\n", supported(fld(cap, 59, 59)));
    ctl_out(io, "\tController Ready Independent of Media Support (CRIMS): %s\n",
            supported(fld(cap, 60, 60)));
    ctl_out(io, "\tController Memory Buffer Supported (CMBS): The Controller Memory Buffer is %s\n",
            supported(fld(cap, 57, 57)));
    ctl_out(io, "\tPersistent Memory Region Supported (PMRS): The Persistent Memory Region is %s\n",
            supported(fld(cap, 56, 56)));
    ctl_out(io, "\tMemory Page Size Maximum         (MPSMAX): %u bytes\n",
            1u << (12u + NVME_CAP_MPSMAX(cap)));
    ctl_out(io, "\tMemory Page Size Minimum         (MPSMIN): %u bytes\n",
            1u << (12u + NVME_CAP_MPSMIN(cap)));
    ctl_out(io, "\tBoot Partition Support              (BPS): %s\n", yes_no(NVME_CAP_BPS(cap)));
    /* CSS bit 0: NVM; bit 6: I/O Command Sets; bit 7: no I/O set at all */
    uint32_t css = NVME_CAP_CSS(cap);
    ctl_out(io, "\tCommand Sets Supported              (CSS): NVM command set is %s\n",
            supported(css & NVME_CAP_CSS_NVM));
    ctl_out(io,
            "\t                                           One or more I/O Command Sets are %s\n",
            supported(css & NVME_CAP_CSS_IOCS));
    ctl_out(io, "\t                                           %s\n",
            (css & NVME_CAP_CSS_NOIO) ? "Only Admin Command Set Supported"
                                      : "I/O Command Set is Supported");
    ctl_out(io, "\tNVM Subsystem Reset Supported     (NSSRS): %s\n", yes_no(NVME_CAP_NSSRS(cap)));
    ctl_out(io, "\tDoorbell Stride                   (DSTRD): %u bytes\n",
            1u << (2u + NVME_CAP_DSTRD(cap)));
    ctl_out(io, "\tTimeout                              (TO): %u ms\n",
            NVME_CAP_TO(cap) * NVME_CAP_TO_UNIT_MS);
    /* AMS bit 17: Weighted Round Robin with Urgent Priority Class */
    ctl_out(io,
            "\tArbitration Mechanism Supported     (AMS): Weighted Round Robin with Urgent "
            "Priority Class is %s\n",
            (NVME_CAP_AMS(cap) & 1u) ? "supported" : "not supported");
    ctl_out(io, "\tContiguous Queues Required          (CQR): %s\n", yes_no(NVME_CAP_CQR(cap)));
    ctl_out(io, "\tMaximum Queue Entries Supported    (MQES): %u\n\n", NVME_CAP_MQES(cap) + 1u);
}

/* CC (§3.1.3.5), from CRIME (bit 24) down to EN. */
static void show_cc(const struct nvmectl_io *io, uint32_t cc)
{
    static const char *const shn[4] = {"No notification; no effect", "Normal shutdown notification",
                                       "Abrupt shutdown notification", "Reserved"};
    uint32_t ams = fld(cc, 13, 11), css = fld(cc, 6, 4);
    ctl_out(io, "\tController Ready Independent of Media Enable (CRIME): %s\n",
            fld(cc, 24, 24) ? "Enabled" : "Disabled");
    ctl_out(io, "\tI/O Completion Queue Entry Size (IOCQES): %u bytes\n", 1u << fld(cc, 23, 20));
    ctl_out(io, "\tI/O Submission Queue Entry Size (IOSQES): %u bytes\n", 1u << fld(cc, 19, 16));
    ctl_out(io, "\tShutdown Notification              (SHN): %s\n", shn[fld(cc, 15, 14)]);
    ctl_out(io, "\tArbitration Mechanism Selected     (AMS): %s\n",
            ams == 0   ? "Round Robin"
            : ams == 1 ? "Weighted Round Robin with Urgent Priority Class"
            : ams == 7 ? "Vendor Specific"
                       : "Reserved");
    ctl_out(io, "\tMemory Page Size                   (MPS): %u bytes\n",
            1u << (12u + fld(cc, 10, 7)));
    ctl_out(io, "\tI/O Command Set Selected           (CSS): %s\n",
            css == 0   ? "NVM Command Set"
            : css == 6 ? "All supported I/O Command Sets"
            : css == 7 ? "Admin Command Set only"
                       : "Reserved");
    ctl_out(io, "\tEnable                              (EN): %s\n\n", yes_no(cc & NVME_CC_EN));
}

/* CSTS (§3.1.3.6), from PP (bit 5) down to RDY. */
static void show_csts(const struct nvmectl_io *io, uint32_t csts)
{
    static const char *const shst[4] = {"Normal operation (no shutdown has been requested)",
                                        "Shutdown processing occurring",
                                        "Shutdown processing complete", "Reserved"};
    ctl_out(io, "\tProcessing Paused               (PP): %s\n", yes_no(csts & NVME_CSTS_PP));
    ctl_out(io, "\tNVM Subsystem Reset Occurred (NSSRO): %s\n", yes_no(csts & NVME_CSTS_NSSRO));
    ctl_out(io, "\tShutdown Status               (SHST): %s\n", shst[fld(csts, 3, 2)]);
    ctl_out(io, "\tController Fatal Status        (CFS): %s\n",
            (csts & NVME_CSTS_CFS) ? "True" : "False");
    ctl_out(io, "\tReady                          (RDY): %s\n\n", yes_no(csts & NVME_CSTS_RDY));
}

/* CMBLOC (§3.1.3.11); nvme-cli decodes it only when CMBSZ is not 0. */
static void show_cmbloc(const struct nvmectl_io *io, uint32_t cmbloc, uint32_t cmbsz)
{
    /* a set bit says the restriction is NOT enforced */
    static const char *const enf[2] = {"Enforced", "Not Enforced"};
    if (cmbsz == 0) {
        ctl_out(io, "\tController Memory Buffer feature is not supported\n\n");
        return;
    }
    ctl_out(io,
            "\tOffset                                                        (OFST): 0x%x (See "
            "cmbsz.szu for granularity)\n",
            fld(cmbloc, 31, 12));
    ctl_out(io, "\tCMB Queue Dword Alignment                                     (CQDA): %u\n",
            fld(cmbloc, 8, 8));
    ctl_out(io, "\tCMB Data Metadata Mixed Memory Support                      (CDMMMS): %s\n",
            enf[fld(cmbloc, 7, 7)]);
    ctl_out(io, "\tCMB Data Pointer and Command Independent Locations Support (CDPCILS): %s\n",
            enf[fld(cmbloc, 6, 6)]);
    ctl_out(io, "\tCMB Data Pointer Mixed Locations Support                    (CDPMLS): %s\n",
            enf[fld(cmbloc, 5, 5)]);
    ctl_out(io, "\tCMB Queue Physically Discontiguous Support                   (CQPDS): %s\n",
            enf[fld(cmbloc, 4, 4)]);
    ctl_out(io, "\tCMB Queue Mixed Memory Support                               (CQMMS): %s\n",
            enf[fld(cmbloc, 3, 3)]);
    ctl_out(io, "\tBase Indicator Register                                        (BIR): 0x%x\n\n",
            fld(cmbloc, 2, 0));
}

/* CMBSZ (§3.1.3.12). */
static void show_cmbsz(const struct nvmectl_io *io, uint32_t cmbsz)
{
    static const char *const szu[7] = {"4 KB", "64 KB", "1 MB", "16 MB", "256 MB", "4 GB", "64 GB"};
    static const struct {
        unsigned bit;
        const char *text;
    } caps[] = {
        {4, "Write Data Support       (WDS): Write Data and metadata transfer in Controller Memory "
            "Buffer"},
        {3, "Read Data Support        (RDS): Read Data and metadata transfer in Controller Memory "
            "Buffer"},
        {2, "PRP SGL List Support   (LISTS): PRP/SG Lists in Controller Memory Buffer"},
        {1, "Completion Queue Support (CQS): Admin and I/O Completion Queues in Controller Memory "
            "Buffer"},
        {0, "Submission Queue Support (SQS): Admin and I/O Submission Queues in Controller Memory "
            "Buffer"},
    };
    if (cmbsz == 0) {
        ctl_out(io, "\tController Memory Buffer feature is not supported\n\n");
        return;
    }
    uint32_t u = fld(cmbsz, 11, 8);
    ctl_out(io, "\tSize                      (SZ): %u\n", fld(cmbsz, 31, 12));
    ctl_out(io, "\tSize Units               (SZU): %s\n", u < 7 ? szu[u] : "Reserved");
    for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        ctl_out(io, "\t%s is %s\n%s", caps[i].text,
                fld(cmbsz, caps[i].bit, caps[i].bit) ? "Supported" : "Not supported",
                caps[i].bit == 0 ? "\n" : "");
}

/* BPINFO, BPRSEL, BPMBL (§3.1.3.13-15). */
static __attribute__((noinline)) void show_boot(const struct nvmectl_io *io,
                                                const struct nvme_ctrl_regs *r)
{
    static const char *const brs[4] = {
        "No Boot Partition read operation requested", "Boot Partition read in progress",
        "Boot Partition read completed successfully", "Error completing Boot Partition read"};
    ctl_out(io, "bpinfo  : %x\n", r->bpinfo);
    ctl_out(io, "\tActive Boot Partition ID      (ABPID): %u\n", fld(r->bpinfo, 31, 31));
    ctl_out(io, "\tBoot Read Status                (BRS): %s\n", brs[fld(r->bpinfo, 25, 24)]);
    ctl_out(io, "\tBoot Partition Size            (BPSZ): %u\n", fld(r->bpinfo, 14, 0));
    ctl_out(io, "bprsel  : %x\n", r->bprsel);
    ctl_out(io, "\tBoot Partition Identifier      (BPID): %u\n", fld(r->bprsel, 31, 31));
    ctl_out(io, "\tBoot Partition Read Offset    (BPROF): %x\n", fld(r->bprsel, 29, 10));
    ctl_out(io, "\tBoot Partition Read Size      (BPRSZ): %x\n", fld(r->bprsel, 9, 0));
    ctl_out(io, "bpmbl   : %llx\n", (unsigned long long)r->bpmbl);
    ctl_out(io, "\tBoot Partition Memory Buffer Base Address (BMBBA): %llx\n",
            (unsigned long long)r->bpmbl);
}

/* PMR size units of PMREBS and PMRSWTP (§3.1.3.22-23). */
static const char *pmr_unit(uint32_t u)
{
    static const char *const n[4] = {"Bytes", "One KB", "One MB", "One GB"};
    return u < 4 ? n[u] : "Reserved";
}

/* nvme-cli's %#x: 0 without the prefix. */
static void hex_alt(char *buf, size_t len, uint32_t v)
{
    if (v == 0)
        nvme_snprintf(buf, len, "0");
    else
        nvme_snprintf(buf, len, "0x%x", v);
}

/* PMRCAP .. PMRMSCU (§3.1.3.19-25). */
static __attribute__((noinline)) void show_pmr(const struct nvmectl_io *io,
                                               const struct nvme_ctrl_regs *r)
{
    static const char *const hsts[4] = {"Normal Operation", "Restore Error", "Read Only",
                                        "Unreliable"};
    char a[16], b[16];
    uint32_t cap = r->pmrcap, h = fld(r->pmrsts, 11, 9);
    ctl_out(io, "pmrcap  : %x\n", cap);
    ctl_out(io,
            "\tController Memory Space Supported                   (CMSS): Referencing PMR with "
            "host supplied addresses is %s\n",
            supported(fld(cap, 24, 24)));
    ctl_out(io, "\tPersistent Memory Region Timeout                   (PMRTO): %x\n",
            fld(cap, 23, 16));
    ctl_out(io, "\tPersistent Memory Region Write Barrier Mechanisms (PMRWBM): %x\n",
            fld(cap, 13, 10));
    ctl_out(io,
            "\tPersistent Memory Region Time Units                (PMRTU): PMR time unit is %s\n",
            fld(cap, 9, 8) ? "minutes" : "500 milliseconds");
    ctl_out(io, "\tBase Indicator Register                              (BIR): %x\n",
            fld(cap, 7, 5));
    ctl_out(io,
            "\tWrite Data Support                                   (WDS): Write data to the PMR "
            "is %s\n",
            fld(cap, 4, 4) ? "supported" : "not supported");
    ctl_out(io,
            "\tRead Data Support                                    (RDS): Read data from the "
            "PMR is %s\n",
            fld(cap, 3, 3) ? "supported" : "not supported");
    ctl_out(io, "pmrctl  : %x\n", r->pmrctl);
    ctl_out(io, "\tEnable (EN): PMR is %s\n", (r->pmrctl & 1u) ? "READY" : "Disabled");
    ctl_out(io, "pmrsts  : %x\n", r->pmrsts);
    ctl_out(io, "\tController Base Address Invalid (CBAI): %x\n", fld(r->pmrsts, 12, 12));
    ctl_out(io, "\tHealth Status                   (HSTS): %s\n", h < 4 ? hsts[h] : "Reserved");
    /* ready: NRDY (bit 8) clear while PMRCTL.EN is set */
    ctl_out(io,
            "\tNot Ready                       (NRDY): The Persistent Memory Region is %s to "
            "process PCI Express memory read and write requests\n",
            !fld(r->pmrsts, 8, 8) && (r->pmrctl & 1u) ? "READY" : "Not Ready");
    ctl_out(io, "\tError                            (ERR): %x\n", fld(r->pmrsts, 7, 0));
    ctl_out(io, "pmrebs  : %x\n", r->pmrebs);
    ctl_out(io, "\tPMR Elasticity Buffer Size Base  (PMRWBZ): %x\n", fld(r->pmrebs, 31, 8));
    ctl_out(io,
            "\tRead Bypass Behavior                     : memory reads not conflicting with "
            "memory writes in the PMR Elasticity Buffer %s bypass those memory writes\n",
            fld(r->pmrebs, 4, 4) ? "SHALL" : "MAY");
    ctl_out(io, "\tPMR Elasticity Buffer Size Units (PMRSZU): %s\n",
            pmr_unit(fld(r->pmrebs, 3, 0)));
    ctl_out(io, "pmrswtp : %x\n", r->pmrswtp);
    ctl_out(io, "\tPMR Sustained Write Throughput       (PMRSWTV): %x\n", fld(r->pmrswtp, 31, 8));
    ctl_out(io, "\tPMR Sustained Write Throughput Units (PMRSWTU): %s/second\n",
            pmr_unit(fld(r->pmrswtp, 3, 0)));
    hex_alt(a, sizeof(a), r->pmrmscl);
    ctl_out(io, "pmrmscl\t: %s\n", a);
    hex_alt(a, sizeof(a), fld(r->pmrmscl, 31, 12));
    hex_alt(b, sizeof(b), fld(r->pmrmscl, 1, 1));
    ctl_out(io, "\tController Base Address         (CBA): %s\n", a);
    ctl_out(io, "\tController Memory Space Enable (CMSE): %s\n\n", b);
    hex_alt(a, sizeof(a), r->pmrmscu);
    ctl_out(io, "pmrmscu\t: %s\n", a);
    ctl_out(io, "\tController Base Address         (CBA): %s\n", a);
}

/* show-regs -o json: nvme-cli 2.4's keys in its order, each a register of
 * struct nvme_ctrl_regs at its byte offset (4-aligned; bit 0 set: 64 bits
 * wide).  Values unsigned (nvme-cli 2.4 writes the 32-bit ones through
 * json-c's int: negative from 2^31). */
#define REG(f)                                                                                     \
    (uint8_t)(offsetof(struct nvme_ctrl_regs, f) | (sizeof(((struct nvme_ctrl_regs *)0)->f) >> 3))
NVME_STATIC_ASSERT(sizeof(struct nvme_ctrl_regs) <= 256, "REG: every offset fits a byte");
static __attribute__((noinline)) void show_json(const struct nvmectl_io *io,
                                                const struct nvme_ctrl_regs *r)
{
    static const char names[] = "cap\0vs\0intms\0intmc\0cc\0csts\0nssr\0crto\0aqa\0asq\0acq\0"
                                "cmbloc\0cmbsz\0bpinfo\0bprsel\0bpmbl\0cmbmsc\0cmbsts\0pmrcap\0"
                                "pmrctl\0pmrsts\0pmrebs\0pmrswtp\0pmrmscl\0pmrmscu";
    static const uint8_t at[] = {
        REG(cap),    REG(vs),      REG(intms),   REG(intmc),  REG(cc),     REG(csts),   REG(nssr),
        REG(crto),   REG(aqa),     REG(asq),     REG(acq),    REG(cmbloc), REG(cmbsz),  REG(bpinfo),
        REG(bprsel), REG(bpmbl),   REG(cmbmsc),  REG(cmbsts), REG(pmrcap), REG(pmrctl), REG(pmrsts),
        REG(pmrebs), REG(pmrswtp), REG(pmrmscl), REG(pmrmscu)};
    struct jw w;
    const char *n = names;
    jw_begin(&w, io);
    for (unsigned i = 0; i < sizeof(at); i++, n += nvme_strlen(n) + 1u) {
        /* byte by byte: no wider load through a cast (strict-alignment
         * targets); the core runs on little-endian hosts only */
        jw_u64(&w, n, ctl_le((const uint8_t *)r + (at[i] & ~1u), 4u << (at[i] & 1u)));
    }
    jw_end(&w);
}

/* Without -H: nvme-cli 2.4's listing, the same names and order (its tab
 * after cmbmsc, cmbsts, pmrmscl and pmrmscu included). */
static __attribute__((noinline)) void show_plain(const struct nvmectl_io *io,
                                                 const struct nvme_ctrl_regs *r)
{
    char a[16], b[16];
    ctl_out(io, "cap     : %llx\nversion : %x\ncc      : %x\ncsts    : %x\n",
            (unsigned long long)r->cap, r->vs, r->cc, r->csts);
    ctl_out(io, "nssr    : %x\ncrto    : %x\nintms   : %x\nintmc   : %x\naqa     : %x\n", r->nssr,
            r->crto, r->intms, r->intmc, r->aqa);
    ctl_out(io, "asq     : %llx\nacq     : %llx\n", (unsigned long long)r->asq,
            (unsigned long long)r->acq);
    ctl_out(io, "cmbloc  : %x\ncmbsz   : %x\nbpinfo  : %x\nbprsel  : %x\n", r->cmbloc, r->cmbsz,
            r->bpinfo, r->bprsel);
    ctl_out(io, "bpmbl   : %llx\ncmbmsc\t: %llx\ncmbsts\t: %x\n", (unsigned long long)r->bpmbl,
            (unsigned long long)r->cmbmsc, r->cmbsts);
    ctl_out(io, "pmrcap  : %x\npmrctl  : %x\npmrsts  : %x\npmrebs  : %x\npmrswtp : %x\n", r->pmrcap,
            r->pmrctl, r->pmrsts, r->pmrebs, r->pmrswtp);
    hex_alt(a, sizeof(a), r->pmrmscl);
    hex_alt(b, sizeof(b), r->pmrmscu);
    ctl_out(io, "pmrmscl\t: %s\npmrmscu\t: %s\n", a, b);
}

/* -H: each register's line, then its fields, in the listing's order. */
static __attribute__((noinline)) void show_human(const struct nvmectl_io *io,
                                                 const struct nvme_ctrl_regs *r)
{
    ctl_out(io, "cap     : %llx\n", (unsigned long long)r->cap);
    show_cap(io, r->cap);
    ctl_out(io, "version : %x\n", r->vs);
    ctl_out(io, "\tNVMe specification %u.%u\n\n", NVME_VS_MJR(r->vs), NVME_VS_MNR(r->vs));
    ctl_out(io, "cc      : %x\n", r->cc);
    show_cc(io, r->cc);
    ctl_out(io, "csts    : %x\n", r->csts);
    show_csts(io, r->csts);
    ctl_out(io, "nssr    : %x\n", r->nssr);
    ctl_out(io, "\tNVM Subsystem Reset Control (NSSRC): %u\n\n", r->nssr);
    /* CRTO (§3.1.3.21): CRIMT 31:16, CRWMT 15:0, 500 ms units, in whole seconds */
    ctl_out(io, "crto    : %x\n", r->crto);
    ctl_out(io, "\tCRIMT                               : %u secs\n", fld(r->crto, 31, 16) / 2u);
    ctl_out(io, "\tCRWMT                               : %u secs\n", fld(r->crto, 15, 0) / 2u);
    ctl_out(io, "intms   : %x\n\tInterrupt Vector Mask Set (IVMS): %x\n\n", r->intms, r->intms);
    ctl_out(io, "intmc   : %x\n\tInterrupt Vector Mask Clear (IVMC): %x\n\n", r->intmc, r->intmc);
    /* AQA (§3.1.3.8): ACQS 27:16, ASQS 11:0, 0-based */
    ctl_out(io, "aqa     : %x\n", r->aqa);
    ctl_out(io, "\tAdmin Completion Queue Size (ACQS): %u\n", fld(r->aqa, 27, 16) + 1u);
    ctl_out(io, "\tAdmin Submission Queue Size (ASQS): %u\n\n", fld(r->aqa, 11, 0) + 1u);
    ctl_out(io, "asq     : %llx\n\tAdmin Submission Queue Base (ASQB): %llx\n\n",
            (unsigned long long)r->asq, (unsigned long long)r->asq);
    ctl_out(io, "acq     : %llx\n\tAdmin Completion Queue Base (ACQB): %llx\n\n",
            (unsigned long long)r->acq, (unsigned long long)r->acq);
    ctl_out(io, "cmbloc  : %x\n", r->cmbloc);
    show_cmbloc(io, r->cmbloc, r->cmbsz);
    ctl_out(io, "cmbsz   : %x\n", r->cmbsz);
    show_cmbsz(io, r->cmbsz);
    show_boot(io, r);
    /* CMBMSC (§3.1.3.16): CBA 63:12, CMSE bit 1, CRE bit 0; CMBSTS CBAI bit 0 */
    ctl_out(io, "cmbmsc\t: %llx\n", (unsigned long long)r->cmbmsc);
    ctl_out(io, "\tController Base Address         (CBA): %llx\n",
            (unsigned long long)(r->cmbmsc >> 12));
    ctl_out(io, "\tController Memory Space Enable (CMSE): %x\n", fld(r->cmbmsc, 1, 1));
    ctl_out(io,
            "\tCapabilities Registers Enabled  (CRE): CMBLOC and CMBSZ registers are%senabled\n\n",
            (r->cmbmsc & 1u) ? " " : " NOT ");
    ctl_out(io, "cmbsts\t: %x\n", r->cmbsts);
    ctl_out(io, "\tController Base Address Invalid (CBAI): %x\n\n", fld(r->cmbsts, 0, 0));
    show_pmr(io, r);
}

int ctl_cmd_show_regs(struct ctl *c)
{
    struct nvme_ctrl_regs r;
    int rc = nvme_ctrl_regs_read(c->ctrl, &r);
    if (rc != NVME_OK)
        return ctl_fail(c, NVME_NSID_ALL, "show-regs", rc);
    if (c->o.json)
        show_json(c->io, &r);
    else if (flag(c, F_HUMAN))
        show_human(c->io, &r);
    else
        show_plain(c->io, &r);
    return NVME_OK;
}
