/* SPDX-License-Identifier: MIT */
/*
 * The register dump (nvme_ctrl_regs_read, NVMe 2.0 §3.1.4 Figure 35) and
 * nvmectl's show-regs (nvme-cli 2.4's output): every register as the
 * simulator holds it, read once and never written, in every state of
 * the controller (running, admin-only, dead, during a reset), and
 * NVME_ERR_GONE for a device that is gone.
 */
#include "fixture.h"
#include "json_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fx_out out;

/* Distinct values for the registers the simulator does not implement
 * (nvme_sim_reg_set), so that a register read at the wrong offset shows. */
static const struct {
    uint32_t off, val;
} fixed[] = {
    {NVME_REG_CMBLOC, 0x00042158u},  /* OFST 42h, CQDA, CDPMLS not enforced, BIR 0 */
    {NVME_REG_CMBSZ, 0x0001021du},   /* SZ 10h, SZU 2 (1 MB), WDS RDS LISTS SQS */
    {NVME_REG_BPINFO, 0x81000007u},  /* ABPID 1, BRS 01b, BPSZ 7 */
    {NVME_REG_BPRSEL, 0x00000c05u},  /* BPROF 3, BPRSZ 5 */
    {NVME_REG_BPMBL, 0x12345000u},   /* 48h low half */
    {NVME_REG_BPMBL + 4, 0x9u},      /* 4Ch high half */
    {NVME_REG_CMBMSC, 0xabcde003u},  /* CBA, CMSE, CRE */
    {NVME_REG_CMBMSC + 4, 0x1u},     /* high half */
    {NVME_REG_CMBSTS, 0x1u},         /* CBAI */
    {NVME_REG_CMBEBS, 0x5c5c5c5cu},  /* not shown (nvme-cli 2.4 neither) */
    {NVME_REG_CMBSWTP, 0x60606060u}, /* not shown */
    {NVME_REG_PMRCAP, 0x01070918u},  /* CMSS, PMRTO 7, PMRWBM 2, PMRTU 1, BIR 0, WDS, RDS */
    {NVME_REG_PMRCTL, 0x1u},         /* EN */
    {NVME_REG_PMRSTS, 0x00000403u},  /* HSTS 2 (Read Only), ERR 3 */
    {NVME_REG_PMREBS, 0x00001212u},  /* PMRWBZ 12h, read bypass SHALL, 1 MB units */
    {NVME_REG_PMRSWTP, 0x00000303u}, /* 3 GB per second */
    {NVME_REG_PMRMSCL, 0x00fed002u}, /* CBA fedh, CMSE */
    {NVME_REG_PMRMSCU, 0x00000000u},
};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))

static void set_fixed(struct fx *f)
{
    for (unsigned i = 0; i < NFIXED; i++)
        nvme_sim_reg_set(f->sim, fixed[i].off, fixed[i].val);
}

static uint64_t peek64(struct fx *f, uint32_t off)
{
    return nvme_sim_reg_peek(f->sim, off) | ((uint64_t)nvme_sim_reg_peek(f->sim, off + 4) << 32);
}

/* Every field of r against the simulator's registers. */
static void expect_sim(struct fx *f, const struct nvme_ctrl_regs *r)
{
    assert_int_equal(r->cap, peek64(f, NVME_REG_CAP));
    assert_int_equal(r->vs, nvme_sim_reg_peek(f->sim, NVME_REG_VS));
    assert_int_equal(r->intms, nvme_sim_reg_peek(f->sim, NVME_REG_INTMS));
    assert_int_equal(r->intmc, nvme_sim_reg_peek(f->sim, NVME_REG_INTMC));
    assert_int_equal(r->cc, nvme_sim_reg_peek(f->sim, NVME_REG_CC));
    assert_int_equal(r->csts, nvme_sim_reg_peek(f->sim, NVME_REG_CSTS));
    assert_int_equal(r->nssr, 0);
    assert_int_equal(r->aqa, nvme_sim_reg_peek(f->sim, NVME_REG_AQA));
    assert_int_equal(r->asq, peek64(f, NVME_REG_ASQ));
    assert_int_equal(r->acq, peek64(f, NVME_REG_ACQ));
    assert_int_equal(r->cmbloc, 0x00042158u);
    assert_int_equal(r->cmbsz, 0x0001021du);
    assert_int_equal(r->bpinfo, 0x81000007u);
    assert_int_equal(r->bprsel, 0x00000c05u);
    assert_int_equal(r->bpmbl, 0x912345000ull);
    assert_int_equal(r->cmbmsc, 0x1abcde003ull);
    assert_int_equal(r->cmbsts, 1);
    assert_int_equal(r->cmbebs, 0x5c5c5c5cu);
    assert_int_equal(r->cmbswtp, 0x60606060u);
    assert_int_equal(r->nssd, 0);
    assert_int_equal(r->crto, nvme_sim_reg_peek(f->sim, NVME_REG_CRTO));
    assert_int_equal(r->pmrcap, 0x01070918u);
    assert_int_equal(r->pmrctl, 1);
    assert_int_equal(r->pmrsts, 0x00000403u);
    assert_int_equal(r->pmrebs, 0x00001212u);
    assert_int_equal(r->pmrswtp, 0x00000303u);
    assert_int_equal(r->pmrmscl, 0x00fed002u);
    assert_int_equal(r->pmrmscu, 0);
}

static void expect_all_ones(const struct nvme_ctrl_regs *r)
{
    const uint64_t *w64[] = {&r->cap, &r->asq, &r->acq, &r->bpmbl, &r->cmbmsc};
    const uint32_t *w32[] = {&r->vs,      &r->intms,   &r->intmc,  &r->cc,      &r->csts,
                             &r->nssr,    &r->aqa,     &r->cmbloc, &r->cmbsz,   &r->bpinfo,
                             &r->bprsel,  &r->cmbsts,  &r->cmbebs, &r->cmbswtp, &r->nssd,
                             &r->crto,    &r->pmrcap,  &r->pmrctl, &r->pmrsts,  &r->pmrebs,
                             &r->pmrswtp, &r->pmrmscl, &r->pmrmscu};
    for (unsigned i = 0; i < sizeof(w64) / sizeof(w64[0]); i++)
        assert_int_equal(*w64[i], ~(uint64_t)0);
    for (unsigned i = 0; i < sizeof(w32) / sizeof(w32[0]); i++)
        assert_int_equal(*w32[i], 0xffffffffu);
}

/* The registers of Figure 35 this reads: each dword once (INTMS and
 * INTMC with INTx only: regs_read_with_msix_does_not_access_intms_intmc). */
static const uint32_t every_dword[] = {0x00,  0x04,  0x08,  0x14,  0x1c,  0x20,  0x24, 0x28,
                                       0x2c,  0x30,  0x34,  0x38,  0x3c,  0x40,  0x44, 0x48,
                                       0x4c,  0x50,  0x54,  0x58,  0x5c,  0x60,  0x64, 0x68,
                                       0xe00, 0xe04, 0xe08, 0xe0c, 0xe10, 0xe14, 0xe18};

static void regs_read_returns_every_register_as_the_controller_holds_it(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.crwmt = 30; /* CRTO.CRWMT 15 s, CAP.CRMS.CRWMS */
    f.cfg.to = 30;
    fx_start(&f);
    set_fixed(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    uint64_t reads[sizeof(every_dword) / sizeof(every_dword[0])];
    for (unsigned i = 0; i < sizeof(every_dword) / sizeof(every_dword[0]); i++)
        reads[i] = nvme_sim_reg_reads(f.sim, every_dword[i]);
    uint64_t writes = nvme_sim_stats(f.sim)->mmio_writes;
    uint64_t all_reads = nvme_sim_stats(f.sim)->mmio_reads;

    struct nvme_ctrl_regs r;
    memset(&r, 0x5a, sizeof(r));
    assert_int_equal(nvme_ctrl_regs_read(f.ctrl, &r), NVME_OK);
    expect_sim(&f, &r);
    /* and what bring-up set up: CAP and VS as the core read them, CC.EN
     * with the NVM command set, 4 KiB pages, 64/16-byte entries; RDY; AQA
     * from the admin queue's 32 entries (0-based); ASQ/ACQ page aligned */
    assert_int_equal(r.cap, info->cap);
    assert_int_equal(r.vs, NVME_VS(1, 4, 0));
    assert_true(r.cap & NVME_CAP_CRMS_CRWMS);
    assert_int_equal(NVME_CRTO_CRWMT(r.crto), 30);
    assert_int_equal(r.cc,
                     NVME_CC_EN | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT));
    assert_int_equal(r.csts, NVME_CSTS_RDY);
    assert_int_equal(info->admin_queue_entries, 32);
    assert_int_equal(r.aqa, 31u | (31u << NVME_AQA_ACQS_SHIFT));
    assert_true(r.asq != 0 && r.acq != 0 && (r.asq & 4095u) == 0 && (r.acq & 4095u) == 0);
    /* read: each of those dwords once, nothing else; written: nothing */
    for (unsigned i = 0; i < sizeof(every_dword) / sizeof(every_dword[0]); i++)
        if (nvme_sim_reg_reads(f.sim, every_dword[i]) != reads[i] + 1)
            fail_msg("register %xh read %llu times", every_dword[i],
                     (unsigned long long)(nvme_sim_reg_reads(f.sim, every_dword[i]) - reads[i]));
    assert_int_equal(nvme_sim_stats(f.sim)->mmio_reads - all_reads,
                     sizeof(every_dword) / sizeof(every_dword[0]));
    assert_int_equal(nvme_sim_stats(f.sim)->mmio_writes, writes);
    assert_int_equal(nvme_sim_reg_writes(f.sim, NVME_REG_NSSR), 0);
    assert_int_equal(nvme_sim_reg_writes(f.sim, NVME_REG_NSSD), 0);

    assert_int_equal(nvme_ctrl_regs_read(NULL, &r), NVME_ERR_INVAL);
    assert_int_equal(nvme_ctrl_regs_read(f.ctrl, NULL), NVME_ERR_INVAL);
    fx_stop(&f);
}

/* 64-bit registers without the port's 64-bit reads: two 32-bit reads. */
static void regs_read_without_mmio_read64_reads_both_halves(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_create(&f);
    f.osal.mmio_read64 = NULL;
    f.osal.mmio_write64 = NULL;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    set_fixed(&f);
    struct nvme_ctrl_regs r;
    assert_int_equal(nvme_ctrl_regs_read(f.ctrl, &r), NVME_OK);
    expect_sim(&f, &r);
    fx_stop(&f);
}

static void regs_read_of_a_gone_device_is_gone_and_writes_nothing(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    struct nvme_ctrl_regs r;
    /* removed, and the core has not noticed yet: all ones read */
    nvme_sim_set_gone(f.sim, true);
    uint64_t writes = nvme_sim_stats(f.sim)->mmio_writes;
    memset(&r, 0, sizeof(r));
    assert_int_equal(nvme_ctrl_regs_read(f.ctrl, &r), NVME_ERR_GONE);
    expect_all_ones(&r);
    assert_int_equal(nvme_sim_stats(f.sim)->mmio_writes, writes);
    /* the core noticed (a read failed): nothing is read any more */
    uint8_t *buf = fx_xalloc(512);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_ERR_GONE);
    nvme_sim_set_gone(f.sim, false); /* back at the same address, but not reset */
    uint64_t reads = nvme_sim_stats(f.sim)->mmio_reads;
    writes = nvme_sim_stats(f.sim)->mmio_writes;
    memset(&r, 0, sizeof(r));
    assert_int_equal(nvme_ctrl_regs_read(f.ctrl, &r), NVME_ERR_GONE);
    expect_all_ones(&r);
    assert_int_equal(nvme_sim_stats(f.sim)->mmio_reads, reads);
    assert_int_equal(nvme_sim_stats(f.sim)->mmio_writes, writes);
    /* a reset brings it back, and the registers with it */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_ctrl_regs_read(f.ctrl, &r), NVME_OK);
    assert_true(r.csts & NVME_CSTS_RDY);
    free(buf);
    fx_stop(&f);
}

/* A dead controller (its reset failed: CFS stays) and an admin-only one
 * (every Create I/O CQ refused) still show their registers. */
static void regs_read_works_on_a_dead_and_an_admin_only_controller(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.cfs_sticky = true;
    fx_start_captured(&f);
    nvme_sim_set_cfs(f.sim, true);
    assert_true(nvme_ctrl_reset(f.ctrl) < 0);
    assert_false(nvme_ctrl_is_ready(f.ctrl));
    struct nvme_ctrl_regs r;
    assert_int_equal(nvme_ctrl_regs_read(f.ctrl, &r), NVME_OK);
    assert_true(r.csts & NVME_CSTS_CFS);
    assert_int_equal(r.csts, nvme_sim_reg_peek(f.sim, NVME_REG_CSTS));
    assert_int_equal(r.cc, nvme_sim_reg_peek(f.sim, NVME_REG_CC));
    nvme_sim_set_cfs(f.sim, false);
    fx_stop(&f);

    fx_config(&f);
    f.sim = nvme_sim_create(&f.cfg);
    assert_non_null(f.sim);
    struct nvme_sim_fault flt = {NVME_SIM_FAULT_STATUS,
                                 0,
                                 NVME_ADMIN_CREATE_CQ,
                                 NVME_SIM_ANY,
                                 NVME_SF(1, 0x08) | NVME_SF_DNR_BIT,
                                 0,
                                 64};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    nvme_sim_osal(f.sim, &f.osal);
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    assert_true(nvme_ctrl_get_info(f.ctrl)->admin_only);
    set_fixed(&f);
    assert_int_equal(nvme_ctrl_regs_read(f.ctrl, &r), NVME_OK);
    expect_sim(&f, &r);
    assert_int_equal(r.csts, NVME_CSTS_RDY);
    fx_stop(&f);
}

/* Called from inside a reset (the port's sleep_us while the core waits
 * for CSTS.RDY): it answers there, with the controller as it is then. */
static struct {
    struct nvme_ctrl *ctrl;
    void (*sleep_us)(void *ctx, uint32_t us);
    unsigned calls, ok, saw_disabled;
} in_reset;

static void sleep_and_read_regs(void *ctx, uint32_t us)
{
    if (in_reset.ctrl != NULL) {
        struct nvme_ctrl_regs r;
        in_reset.calls++;
        if (nvme_ctrl_regs_read(in_reset.ctrl, &r) == NVME_OK) {
            in_reset.ok++;
            if (!(r.cc & NVME_CC_EN))
                in_reset.saw_disabled++;
        }
    }
    in_reset.sleep_us(ctx, us);
}

static void regs_read_answers_while_a_reset_runs(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.disable_delay_us = 3000; /* RDY takes 3 ms to drop, 2 ms to rise */
    fx_create(&f);
    memset(&in_reset, 0, sizeof(in_reset));
    in_reset.sleep_us = f.osal.sleep_us;
    f.osal.sleep_us = sleep_and_read_regs;
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    in_reset.ctrl = f.ctrl;
    uint64_t writes = nvme_sim_stats(f.sim)->mmio_writes;
    uint64_t resets = nvme_sim_stats(f.sim)->resets;
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    in_reset.ctrl = NULL;
    assert_true(in_reset.calls > 0);
    assert_int_equal(in_reset.ok, in_reset.calls);
    assert_true(in_reset.saw_disabled > 0); /* CC.EN 0 between the disable and the enable */
    assert_int_equal(nvme_sim_stats(f.sim)->resets, resets + 1);
    assert_true(nvme_sim_stats(f.sim)->mmio_writes > writes); /* the reset's own */
    fx_stop(&f);
}

/* ---- nvmectl show-regs ---------------------------------------------------- */

static void expect(const char *needle)
{
    if (strstr(out.text, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%s", needle, out.text);
}

static void ok(struct fx *f, const char *line)
{
    int rc = fx_nvmectl(f, &out, line);
    if (rc != 0)
        fail_msg("'%s' returned %d:\n%s", line, rc, out.text);
}

/* "key":value of the flat JSON object, or fail. */
static unsigned long long jnum(const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(out.text, pat);
    if (p == NULL)
        fail_msg("no %s in:\n%s", pat, out.text);
    return strtoull(p + strlen(pat), NULL, 10);
}

static void show_regs_lists_every_register_as_nvme_cli_2_4(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    set_fixed(&f);
    uint64_t writes = nvme_sim_stats(f.sim)->mmio_writes;
    ok(&f, "show-regs");
    char want[2048];
    snprintf(want, sizeof(want),
             "cap     : %llx\nversion : %x\ncc      : %x\ncsts    : %x\nnssr    : 0\n"
             "crto    : 0\nintms   : 0\nintmc   : 0\naqa     : 1f001f\nasq     : %llx\n"
             "acq     : %llx\ncmbloc  : 42158\ncmbsz   : 1021d\nbpinfo  : 81000007\n"
             "bprsel  : c05\nbpmbl   : 912345000\ncmbmsc\t: 1abcde003\ncmbsts\t: 1\n"
             "pmrcap  : 1070918\npmrctl  : 1\npmrsts  : 403\npmrebs  : 1212\n"
             "pmrswtp : 303\npmrmscl\t: 0xfed002\npmrmscu\t: 0\n",
             (unsigned long long)peek64(&f, NVME_REG_CAP), nvme_sim_reg_peek(f.sim, NVME_REG_VS),
             nvme_sim_reg_peek(f.sim, NVME_REG_CC), nvme_sim_reg_peek(f.sim, NVME_REG_CSTS),
             (unsigned long long)peek64(&f, NVME_REG_ASQ),
             (unsigned long long)peek64(&f, NVME_REG_ACQ));
    assert_string_equal(out.text, want);

    ok(&f, "show-regs -o json");
    if (!json_one_value(out.text))
        fail_msg("not one JSON value:\n%s", out.text);
    assert_int_equal(jnum("cap"), peek64(&f, NVME_REG_CAP));
    assert_int_equal(jnum("vs"), 0x10400);
    assert_int_equal(jnum("cc"), nvme_sim_reg_peek(f.sim, NVME_REG_CC));
    assert_int_equal(jnum("csts"), 1);
    assert_int_equal(jnum("aqa"), 0x1f001f);
    assert_int_equal(jnum("asq"), peek64(&f, NVME_REG_ASQ));
    assert_int_equal(jnum("acq"), peek64(&f, NVME_REG_ACQ));
    assert_int_equal(jnum("bpinfo"), 0x81000007u); /* unsigned (nvme-cli 2.4: json-c int) */
    assert_int_equal(jnum("bpmbl"), 0x912345000ull);
    assert_int_equal(jnum("cmbmsc"), 0x1abcde003ull);
    assert_int_equal(jnum("pmrmscl"), 0xfed002);
    /* nvme-cli 2.4's 25 keys, in its order, and no other */
    static const char *const keys[] = {
        "cap",    "vs",     "intms",  "intmc",  "cc",      "csts",    "nssr",   "crto",   "aqa",
        "asq",    "acq",    "cmbloc", "cmbsz",  "bpinfo",  "bprsel",  "bpmbl",  "cmbmsc", "cmbsts",
        "pmrcap", "pmrctl", "pmrsts", "pmrebs", "pmrswtp", "pmrmscl", "pmrmscu"};
    const char *p = out.text;
    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char pat[32];
        snprintf(pat, sizeof(pat), "\"%s\":", keys[i]);
        const char *q = strstr(p, pat);
        if (q == NULL)
            fail_msg("key %s missing or out of order:\n%s", keys[i], out.text);
        p = q + 1;
    }
    unsigned n = 0;
    for (p = out.text; (p = strstr(p, "\":")) != NULL; p++)
        n++;
    assert_int_equal(n, 25);
    /* byte for byte: ctl_regs.c's show_json reads each register from the
     * table of its offsets and widths */
    snprintf(want, sizeof(want),
             "{\n  \"cap\":%llu,\n  \"vs\":66560,\n  \"intms\":0,\n  \"intmc\":0,\n  \"cc\":%u,\n"
             "  \"csts\":1,\n  \"nssr\":0,\n  \"crto\":0,\n  \"aqa\":%u,\n  \"asq\":%llu,\n"
             "  \"acq\":%llu,\n  \"cmbloc\":%u,\n  \"cmbsz\":%u,\n  \"bpinfo\":%u,\n"
             "  \"bprsel\":%u,\n  \"bpmbl\":%llu,\n  \"cmbmsc\":%llu,\n  \"cmbsts\":1,\n"
             "  \"pmrcap\":%u,\n  \"pmrctl\":1,\n  \"pmrsts\":%u,\n  \"pmrebs\":%u,\n"
             "  \"pmrswtp\":%u,\n  \"pmrmscl\":%u,\n  \"pmrmscu\":0\n}\n",
             (unsigned long long)peek64(&f, NVME_REG_CAP), nvme_sim_reg_peek(f.sim, NVME_REG_CC),
             0x1f001fu, (unsigned long long)peek64(&f, NVME_REG_ASQ),
             (unsigned long long)peek64(&f, NVME_REG_ACQ), 0x42158u, 0x1021du, 0x81000007u, 0xc05u,
             0x912345000ull, 0x1abcde003ull, 0x1070918u, 0x403u, 0x1212u, 0x303u, 0xfed002u);
    assert_string_equal(out.text, want);
    assert_int_equal(nvme_sim_stats(f.sim)->mmio_writes, writes);
    fx_stop(&f);
}

static void show_regs_h_decodes_the_fields_as_nvme_cli_2_4(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mqes = 2047;
    f.cfg.to = 40;
    f.cfg.dstrd = 1;
    f.cfg.mpsmax = 2;
    fx_start(&f);
    set_fixed(&f);
    ok(&f, "show-regs -H");
    const char *const lines[] = {
        /* CAP */
        "\tController Memory Buffer Supported (CMBS): The Controller Memory Buffer is Not "
        "Supported\n",
        "\tMemory Page Size Maximum         (MPSMAX): 16384 bytes\n",
        "\tMemory Page Size Minimum         (MPSMIN): 4096 bytes\n",
        "\tCommand Sets Supported              (CSS): NVM command set is Supported\n",
        "\t                                           I/O Command Set is Supported\n",
        "\tNVM Subsystem Reset Supported     (NSSRS): Yes\n",
        "\tDoorbell Stride                   (DSTRD): 8 bytes\n",
        "\tTimeout                              (TO): 20000 ms\n",
        "\tContiguous Queues Required          (CQR): Yes\n",
        "\tMaximum Queue Entries Supported    (MQES): 2048\n\nversion : 10400\n",
        /* VS, CC, CSTS */
        "\tNVMe specification 1.4\n\ncc      : 460001\n",
        "\tI/O Completion Queue Entry Size (IOCQES): 16 bytes\n",
        "\tI/O Submission Queue Entry Size (IOSQES): 64 bytes\n",
        "\tShutdown Notification              (SHN): No notification; no effect\n",
        "\tArbitration Mechanism Selected     (AMS): Round Robin\n",
        "\tMemory Page Size                   (MPS): 4096 bytes\n",
        "\tI/O Command Set Selected           (CSS): NVM Command Set\n",
        "\tEnable                              (EN): Yes\n\ncsts    : 1\n",
        "\tShutdown Status               (SHST): Normal operation (no shutdown has been "
        "requested)\n",
        "\tController Fatal Status        (CFS): False\n",
        "\tReady                          (RDY): Yes\n\nnssr    : 0\n",
        "\tCRWMT                               : 0 secs\nintms   : 0\n",
        /* AQA, ASQ, ACQ */
        "aqa     : 1f001f\n\tAdmin Completion Queue Size (ACQS): 32\n"
        "\tAdmin Submission Queue Size (ASQS): 32\n\nasq     : ",
        "\tAdmin Submission Queue Base (ASQB): ",
        "\tAdmin Completion Queue Base (ACQB): ",
        /* CMBLOC, CMBSZ */
        "cmbloc  : 42158\n\tOffset                                                        (OFST): "
        "0x42 (See cmbsz.szu for granularity)\n",
        "\tCMB Queue Dword Alignment                                     (CQDA): 1\n",
        "\tCMB Data Metadata Mixed Memory Support                      (CDMMMS): Enforced\n",
        "\tCMB Data Pointer and Command Independent Locations Support (CDPCILS): Not Enforced\n",
        "\tCMB Data Pointer Mixed Locations Support                    (CDPMLS): Enforced\n",
        "\tCMB Queue Physically Discontiguous Support                   (CQPDS): Not Enforced\n",
        "\tCMB Queue Mixed Memory Support                               (CQMMS): Not Enforced\n",
        "\tBase Indicator Register                                        (BIR): 0x0\n\n",
        "cmbsz   : 1021d\n\tSize                      (SZ): 16\n",
        "\tSize Units               (SZU): 1 MB\n",
        "\tWrite Data Support       (WDS): Write Data and metadata transfer in Controller Memory "
        "Buffer is Supported\n",
        "\tCompletion Queue Support (CQS): Admin and I/O Completion Queues in Controller Memory "
        "Buffer is Not supported\n",
        "\tSubmission Queue Support (SQS): Admin and I/O Submission Queues in Controller Memory "
        "Buffer is Supported\n\nbpinfo  : 81000007\n",
        /* boot partitions, CMBMSC, CMBSTS */
        "\tActive Boot Partition ID      (ABPID): 1\n",
        "\tBoot Read Status                (BRS): Boot Partition read in progress\n",
        "\tBoot Partition Size            (BPSZ): 7\nbprsel  : c05\n",
        "\tBoot Partition Read Offset    (BPROF): 3\n",
        "\tBoot Partition Memory Buffer Base Address (BMBBA): 912345000\ncmbmsc\t: 1abcde003\n",
        "\tController Base Address         (CBA): 1abcde\n",
        "\tCapabilities Registers Enabled  (CRE): CMBLOC and CMBSZ registers are enabled\n\n",
        "cmbsts\t: 1\n\tController Base Address Invalid (CBAI): 1\n\npmrcap  : 1070918\n",
        /* PMR */
        "\tController Memory Space Supported                   (CMSS): Referencing PMR with "
        "host supplied addresses is Supported\n",
        "\tPersistent Memory Region Timeout                   (PMRTO): 7\n",
        "\tPersistent Memory Region Write Barrier Mechanisms (PMRWBM): 2\n",
        "\tPersistent Memory Region Time Units                (PMRTU): PMR time unit is "
        "minutes\n",
        "\tWrite Data Support                                   (WDS): Write data to the PMR is "
        "supported\n",
        "\tRead Data Support                                    (RDS): Read data from the PMR "
        "is supported\npmrctl  : 1\n\tEnable (EN): PMR is READY\n",
        "\tHealth Status                   (HSTS): Read Only\n",
        "\tNot Ready                       (NRDY): The Persistent Memory Region is READY to "
        "process PCI Express memory read and write requests\n",
        "\tError                            (ERR): 3\npmrebs  : 1212\n",
        "\tPMR Elasticity Buffer Size Base  (PMRWBZ): 12\n",
        "in the PMR Elasticity Buffer SHALL bypass those memory writes\n",
        "\tPMR Elasticity Buffer Size Units (PMRSZU): One MB\n",
        "\tPMR Sustained Write Throughput Units (PMRSWTU): One GB/second\n",
        "pmrmscl\t: 0xfed002\n\tController Base Address         (CBA): 0xfed\n"
        "\tController Memory Space Enable (CMSE): 0x1\n\n",
        "pmrmscu\t: 0\n\tController Base Address         (CBA): 0\n",
    };
    for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        expect(lines[i]);
    /* the ASQ/ACQ lines carry the addresses */
    char asq[64];
    snprintf(asq, sizeof(asq), "(ASQB): %llx\n\n", (unsigned long long)peek64(&f, NVME_REG_ASQ));
    expect(asq);
    /* CMBSZ 0: nvme-cli's one line for both */
    nvme_sim_reg_set(f.sim, NVME_REG_CMBSZ, 0);
    ok(&f, "show-regs -H");
    expect("cmbloc  : 42158\n\tController Memory Buffer feature is not supported\n\n"
           "cmbsz   : 0\n\tController Memory Buffer feature is not supported\n\n");
    /* -o json wins over -H, as in nvme-cli */
    ok(&f, "show-regs -H -o json");
    assert_true(json_one_value(out.text));
    fx_stop(&f);
}

static void show_regs_of_a_gone_device_says_so(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    nvme_sim_set_gone(f.sim, true);
    assert_int_equal(fx_nvmectl(&f, &out, "show-regs"), NVME_ERR_GONE);
    assert_null(strstr(out.text, "cap "));
    expect("show-regs: ");
    assert_int_equal(fx_nvmectl(&f, &out, "show-regs -o json"), NVME_ERR_GONE);
    assert_null(strchr(out.text, '{'));
    nvme_sim_set_gone(f.sim, false);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    fx_stop(&f);
}

/* NVMe 2.0 §3.1.3, §3.1.4: "Host software shall not access this property
 * when configured for MSI-X" (INTMS, INTMC; the simulator counts a read
 * or a write then as a host error): with MSI-X, or polled (the core does
 * not know what the port's PCI function has on), both are 0, unread, and
 * show-regs shows 0; with an INTx line they are read. */
static void regs_read_with_msix_does_not_access_intms_intmc(void **state)
{
    (void)state;
    static const enum nvme_sim_irq_mode modes[] = {NVME_SIM_IRQ_MSIX, NVME_SIM_IRQ_INTX,
                                                   NVME_SIM_IRQ_NONE};
    for (unsigned m = 0; m < 3; m++) {
        struct fx f;
        fx_config(&f);
        f.cfg.irq_mode = modes[m];
        fx_start(&f);
        set_fixed(&f);
        assert_int_equal(nvme_ctrl_get_info(f.ctrl)->irq_vectors != 0, m < 2);
        uint64_t ms = nvme_sim_reg_reads(f.sim, NVME_REG_INTMS);
        uint64_t mc = nvme_sim_reg_reads(f.sim, NVME_REG_INTMC);
        struct nvme_ctrl_regs r;
        memset(&r, 0x5a, sizeof(r));
        assert_int_equal(nvme_ctrl_regs_read(f.ctrl, &r), NVME_OK);
        expect_sim(&f, &r); /* the simulator's mask is 0 */
        assert_int_equal(nvme_sim_reg_reads(f.sim, NVME_REG_INTMS), ms + (m == 1));
        assert_int_equal(nvme_sim_reg_reads(f.sim, NVME_REG_INTMC), mc + (m == 1));
        ok(&f, "show-regs");
        expect("intms   : 0\nintmc   : 0\n");
        fx_stop(&f); /* no host error */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(regs_read_returns_every_register_as_the_controller_holds_it),
        cmocka_unit_test(regs_read_without_mmio_read64_reads_both_halves),
        cmocka_unit_test(regs_read_of_a_gone_device_is_gone_and_writes_nothing),
        cmocka_unit_test(regs_read_works_on_a_dead_and_an_admin_only_controller),
        cmocka_unit_test(regs_read_answers_while_a_reset_runs),
        cmocka_unit_test(regs_read_with_msix_does_not_access_intms_intmc),
        cmocka_unit_test(show_regs_lists_every_register_as_nvme_cli_2_4),
        cmocka_unit_test(show_regs_h_decodes_the_fields_as_nvme_cli_2_4),
        cmocka_unit_test(show_regs_of_a_gone_device_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
