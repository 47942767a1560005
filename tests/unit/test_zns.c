/* SPDX-License-Identifier: MIT */
/* Zoned namespaces (Zoned Namespace Command Set 1.1): the command set is
 * selected (CAP.CSS -> CC.CSS 110b, I/O Command Set Profile), the
 * namespace is identified (CNS 03h CSI, CNS 05h zone size), zones are
 * reported, managed and appended to, and writes respect write pointers
 * with the ZNS statuses named. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../libnvme-core/src/nvme_internal.h" /* nvme_qpair_submit: no waiting */

/* aligned_alloc wants a size that is a multiple of the alignment. */
static void *abuf(size_t n) { return aligned_alloc(4096, (n + 4095) & ~(size_t)4095); }

#define ZS 64u /* blocks per zone */

static void zoned_config(struct fx *f)
{
    fx_config(f);
    f->ns[0].blocks = 16 * ZS;
    f->ns[0].lba_size = 4096;
    f->ns[0].zoned = true;
    f->ns[0].zone_size = ZS;
    f->ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 64, .lba_size = 512};
    f->cfg.ns_count = 2;
}

static void zoned_namespace_is_identified(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.ns[0].max_open = 2;
    f.ns[0].max_active = 3;
    fx_start(&f);
    assert_int_equal(nvme_ctrl_css(f.ctrl), NVME_CC_CSS_IOCS);
    assert_int_equal(nvme_sim_feature(f.sim, NVME_FEAT_IOCS_PROFILE), 1);
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
    assert_int_equal(ns->status, 0);
    assert_int_equal(ns->csi, NVME_CSI_ZNS);
    assert_int_equal(ns->zone_size, ZS);
    assert_int_equal(ns->nr_zones, 16);
    assert_int_equal(ns->max_open_zones, 2);
    assert_int_equal(ns->max_active_zones, 3);
    assert_int_equal(nvme_ns_find(f.ctrl, 2)->csi, NVME_CSI_NVM);
    /* A reset selects the profile again. */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_sim_feature(f.sim, NVME_FEAT_IOCS_PROFILE), 1);
    struct nvme_ns_ids ids;
    assert_int_equal(nvme_identify_ns_descs(f.ctrl, 1, &ids), 0);
    assert_int_equal(ids.csi, NVME_CSI_ZNS);
    struct nvme_effects_log *e = calloc(1, sizeof(*e));
    assert_int_equal(nvme_get_effects_log(f.ctrl, NVME_CSI_ZNS, e), 0);
    assert_true(e->iocs[NVME_CMD_ZONE_APPEND] & NVME_EFFECTS_CSUPP);
    free(e);
    fx_stop(&f);
}

static void writes_follow_the_write_pointer(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    uint8_t *b = abuf(ZS * 4096), *r = abuf(ZS * 4096);
    fx_pattern(b, ZS * 4096, 1);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 8, b), 0);
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 0, &st, &wp), 0);
    assert_int_equal(st, NVME_ZS_IMPLICIT_OPEN);
    assert_int_equal(wp, 8);
    /* Not at the write pointer: Zone Invalid Write. */
    int rc = nvme_write(f.ctrl, 1, 4, 1, b);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SCT(rc), NVME_SCT_COMMAND_SPECIFIC);
    assert_int_equal(NVME_SF_SC(rc), NVME_SC_ZONE_INVALID_WRITE);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Zone Invalid Write");
    /* One command across the zone's end: Zone Boundary Error (the
     * blocking calls cut there; a raw command is not cut). */
    struct nvme_sqe wz;
    memset(&wz, 0, sizeof(wz));
    wz.opc = NVME_CMD_WRITE_ZEROES;
    wz.nsid = 1;
    wz.cdw10 = 8;
    wz.cdw12 = ZS - 1; /* NLB, 0-based: 8 .. ZS + 7 */
    rc = nvme_io_passthru(f.ctrl, &wz, NULL, 0, NVME_DMA_BIDIRECTIONAL, NULL);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Zone Boundary Error");
    /* Fill the zone: full; one more: Zone Is Full. */
    assert_int_equal(nvme_write(f.ctrl, 1, 8, ZS - 8, b + 8 * 4096), 0);
    assert_int_equal(nvme_sim_zone(f.sim, 1, 0, &st, &wp), 0);
    assert_int_equal(st, NVME_ZS_FULL);
    rc = nvme_write(f.ctrl, 1, ZS, 0 + 1, b);
    assert_int_equal(rc, 0); /* next zone's start is its write pointer */
    rc = nvme_write(f.ctrl, 1, ZS - 1, 1, b);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Zone Is Full");
    assert_int_equal(nvme_read(f.ctrl, 1, 0, ZS, r), 0);
    assert_memory_equal(b, r, ZS * 4096);
    /* Write Zeroes follows the write pointer too. */
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, ZS + 1, 3, 0), 0);
    assert_true(nvme_write_zeroes(f.ctrl, 1, ZS + 1, 3, 0) > 0);
    free(b);
    free(r);
    fx_stop(&f);
}

static void zone_append_returns_where_the_data_went(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    uint8_t *b = abuf(4 * 4096), *r = abuf(4 * 4096);
    fx_pattern(b, 4 * 4096, 2);
    uint64_t lba = 0;
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 2 * ZS, 4, b, &lba), 0);
    assert_int_equal(lba, 2 * ZS);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 2 * ZS, 2, b, &lba), 0);
    assert_int_equal(lba, 2 * ZS + 4);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 2 * ZS, 2, b, NULL), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 2 * ZS, 4, r), 0);
    assert_memory_equal(b, r, 4 * 4096);
    assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, 3);
    /* Bad input. */
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 2 * ZS + 1, 1, b, &lba), NVME_ERR_INVAL);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 0, 0, b, &lba), NVME_ERR_INVAL);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 0, ZS + 1, b, &lba), NVME_ERR_INVAL);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 0, 1, NULL, &lba), NVME_ERR_INVAL);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 0, 1, b + 1, &lba), NVME_ERR_ALIGN);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 16 * ZS, 1, b, &lba), NVME_ERR_RANGE);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 0, 64, b, &lba), NVME_ERR_INVAL); /* > ZASL */
    void *top = (void *)(~(uintptr_t)0 & ~(uintptr_t)4095); /* wraps the address space */
    uint64_t hits = nvme_sim_stats(f.sim)->host_errors;
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 2 * ZS, 2, top, &lba), NVME_ERR_INVAL);
    assert_int_equal(nvme_sim_stats(f.sim)->host_errors, hits); /* no dma_map of it */
    /* Not zoned: unsupported. */
    assert_int_equal(nvme_zns_append(f.ctrl, 2, 0, 1, b, &lba), NVME_ERR_UNSUPPORTED);
    /* Device input: an Assigned LBA outside the zone (DW0 0 for the third
     * zone) is an error, not an LBA. */
    nvme_sim_log_capture(f.sim, true);
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_ZONE_APPEND, 0, 1);
    lba = 7;
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 2 * ZS, 1, b, &lba), NVME_ERR_PROTO);
    assert_int_equal(lba, 7);
    assert_true(fx_log_has(&f, "assigned LBA 0x0 (low half) outside the zone"));
    free(b);
    free(r);
    fx_stop(&f);
}

/* An Assigned LBA inside the zone's size but past its capacity (ZNS 1.1
 * §2.1.1: a zone is written from ZSLBA to ZSLBA + ZCAP - 1 only): zones of
 * ZS blocks with a capacity of ZS - 8.  A device answering ZSLBA + ZCAP
 * (its DW0 injected) is not believed: NVME_ERR_PROTO, the LBA not handed
 * back (before: checked against the zone size only, so it was).  The
 * core learns ZCAP from a Report Zones of the zone, sent once the append
 * has completed when the caller asks for the LBA; a true answer at the
 * capacity's last blocks is believed. */
static void zone_append_lba_past_the_zone_capacity_is_refused(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.ns[0].zone_cap = ZS - 8;
    fx_start(&f);
    nvme_sim_log_capture(f.sim, true);
    uint8_t *b = abuf(4 * 4096);
    fx_pattern(b, 4 * 4096, 3);
    uint64_t lba = 7;
    fx_inject(&f, NVME_SIM_FAULT_DW0, NVME_SIM_ANY_IO, NVME_CMD_ZONE_APPEND,
              (uint32_t)(3 * ZS + ZS - 8), 1);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 3 * ZS, 4, b, &lba), NVME_ERR_PROTO);
    assert_int_equal(lba, 7);
    assert_true(fx_log_has(&f, "past the zone's capacity"));
    /* True answers, up to the capacity's end. */
    uint64_t at = 3 * ZS + 4;
    while (at + 4 <= 3 * ZS + ZS - 8) {
        assert_int_equal(nvme_zns_append(f.ctrl, 1, 3 * ZS, 4, b, &lba), 0);
        assert_int_equal(lba, at);
        at += 4;
    }
    /* Full at ZSLBA + ZCAP: the device refuses the next one. */
    assert_true(nvme_zns_append(f.ctrl, 1, 3 * ZS, 4, b, &lba) > 0);
    free(b);
    fx_stop(&f);
}

/* Lifecycle rule 4 for an append: a Zone Append is never replayed (the
 * data would go in twice), so one the controller had completed when a
 * reset stops it is completed by the reset from its entry (the harvest),
 * once, with the entry's DW0: the LBA where the data went (ZNS 1.1
 * §3.4.1).  Submitted through the queue layer, as nvme_zns_append does,
 * but without waiting, so that its entry is still unreaped at the reset. */
struct append_rec {
    int calls;
    int result;
    uint32_t dw0;
};
static void append_cb(void *arg, int result, uint32_t dw0)
{
    struct append_rec *a = arg;
    a->calls++;
    a->result = result;
    a->dw0 = dw0;
}

static void zone_append_done_before_a_reset_completes_once_with_its_lba(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    uint8_t *b = abuf(2 * 4096), *r = abuf(2 * 4096);
    for (unsigned round = 0; round < 2; round++) {
        uint64_t zslba = (3u + round) * ZS, lba = 0;
        fx_pattern(b, 2 * 4096, 60u + round);
        assert_int_equal(nvme_zns_append(f.ctrl, 1, zslba, 1, b, &lba), 0); /* a block first */
        assert_int_equal(lba, zslba);
        struct nvme_sqe sqe;
        memset(&sqe, 0, sizeof(sqe));
        sqe.opc = NVME_CMD_ZONE_APPEND;
        sqe.nsid = 1;
        sqe.cdw10 = (uint32_t)zslba;
        sqe.cdw12 = 2 - 1; /* NLB, 0-based */
        struct append_rec a = {0, -100, 0};
        uint64_t appends0 = nvme_sim_stats(f.sim)->zone_appends;
        assert_int_equal(nvme_qpair_submit(&f.ctrl->ioq[0], &sqe, b, 2 * 4096, NVME_DMA_TO_DEVICE,
                                           0, append_cb, &a),
                         0);
        assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, appends0 + 1); /* executed */
        assert_int_equal(a.calls, 0);                                        /* not reaped */
        if (round == 1)
            nvme_sim_set_cfs(f.sim, true); /* a fault reset: no queue deletion */
        assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.result, 0);
        assert_int_equal(a.dw0, (uint32_t)(zslba + 1)); /* after the first block */
        assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, appends0 + 1); /* not again */
        assert_int_equal(nvme_read(f.ctrl, 1, zslba + 1, 2, r), 0);
        assert_memory_equal(b, r, 2 * 4096);
    }
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->replays, 0);
    free(b);
    free(r);
    fx_stop(&f);
}

/* A passthrough Set Zone Descriptor Extension (ZSA 10h) moves ZDES * 64
 * bytes to the device (ZNS 1.1 §3.4.3): a buffer short of them is
 * refused and nothing is sent (before, it went: the device read the rest
 * from past the buffer, PRP2 0 taken for a data page or a PRP list). */
static void io_passthru_set_zone_descriptor_extension_is_sized_by_zdes(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.ns[0].zdes = 255; /* 16320 bytes: four pages */
    fx_start(&f);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->zdes, 255);
    uint8_t *b = abuf(16384);
    memset(b, 0x5a, 16384);
    struct nvme_sqe sqe;
    memset(&sqe, 0, sizeof(sqe));
    sqe.opc = NVME_CMD_ZONE_MGMT_SEND;
    sqe.nsid = 1;
    sqe.cdw13 = NVME_ZSA_SET_ZDE;
    uint64_t before = nvme_sim_stats(f.sim)->zone_sends;
    assert_int_equal(nvme_io_passthru(f.ctrl, &sqe, b, 64, NVME_DMA_TO_DEVICE, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_io_passthru(f.ctrl, &sqe, b, 16316, NVME_DMA_TO_DEVICE, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_sim_stats(f.sim)->zone_sends, before);
    /* Its full length goes (the simulator keeps no extensions: a status). */
    assert_true(nvme_io_passthru(f.ctrl, &sqe, b, 16320, NVME_DMA_TO_DEVICE, NULL) > 0);
    assert_int_equal(nvme_sim_stats(f.sim)->zone_sends, before + 1);
    free(b);
    fx_stop(&f);
}

static void report_and_manage_zones(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.ns[0].max_open = 2;
    fx_start(&f);
    struct nvme_zone_desc z[32];
    unsigned n = 0;
    assert_int_equal(nvme_zns_report(f.ctrl, 1, 0, z, 32, &n), 0);
    assert_int_equal(n, 16);
    assert_int_equal(z[3].zslba, 3 * ZS);
    assert_int_equal(z[3].wp, 3 * ZS);
    assert_int_equal(z[3].zcap, ZS);
    assert_int_equal(z[3].zs >> 4, NVME_ZS_EMPTY);
    assert_int_equal(z[3].zt, NVME_ZT_SEQ_WRITE);
    /* From a zone in the middle, at most 4. */
    assert_int_equal(nvme_zns_report(f.ctrl, 1, 5 * ZS + 7, z, 4, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(z[0].zslba, 5 * ZS);
    /* Open explicitly, close, finish, reset. */
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, ZS, NVME_ZSA_OPEN, false), 0);
    assert_int_equal(nvme_zns_report(f.ctrl, 1, ZS, z, 1, &n), 0);
    assert_int_equal(z[0].zs >> 4, NVME_ZS_EXPLICIT_OPEN);
    uint8_t *b = abuf(4 * 4096);
    fx_pattern(b, 4 * 4096, 3);
    assert_int_equal(nvme_write(f.ctrl, 1, ZS, 4, b), 0);
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, ZS, NVME_ZSA_CLOSE, false), 0);
    assert_int_equal(nvme_zns_report(f.ctrl, 1, ZS, z, 1, &n), 0);
    assert_int_equal(z[0].zs >> 4, NVME_ZS_CLOSED);
    assert_int_equal(z[0].wp, ZS + 4);
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, ZS, NVME_ZSA_FINISH, false), 0);
    assert_int_equal(nvme_zns_report(f.ctrl, 1, ZS, z, 1, &n), 0);
    assert_int_equal(z[0].zs >> 4, NVME_ZS_FULL);
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, ZS, NVME_ZSA_RESET, false), 0);
    assert_int_equal(nvme_zns_report(f.ctrl, 1, ZS, z, 1, &n), 0);
    assert_int_equal(z[0].zs >> 4, NVME_ZS_EMPTY);
    assert_int_equal(z[0].wp, ZS);
    uint8_t *r = abuf(4 * 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, ZS, 4, r), 0);
    for (int i = 0; i < 4 * 4096; i++)
        assert_int_equal(r[i], 0);
    /* Resource limits: two open zones, a third is refused. */
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 0, NVME_ZSA_OPEN, false), 0);
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, ZS, NVME_ZSA_OPEN, false), 0);
    int rc = nvme_zns_mgmt_send(f.ctrl, 1, 2 * ZS, NVME_ZSA_OPEN, false);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Too Many Open Zones");
    rc = nvme_write(f.ctrl, 1, 2 * ZS, 1, b);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Too Many Open Zones");
    /* Offline only from read only. */
    rc = nvme_zns_mgmt_send(f.ctrl, 1, 0, NVME_ZSA_OFFLINE, false);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Invalid Zone State Transition");
    /* Select all: close every open zone, then reset everything. */
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 0, NVME_ZSA_CLOSE, true), 0);
    assert_int_equal(nvme_zns_report(f.ctrl, 1, 0, z, 2, &n), 0);
    assert_int_equal(z[0].zs >> 4, NVME_ZS_EMPTY); /* nothing written: empty again */
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 0, NVME_ZSA_RESET, true), 0);
    /* Select All ignores the SLBA (ZNS §3.4.3): one inside a zone or past
     * the namespace is neither checked nor sent. */
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 3, NVME_ZSA_RESET, true), 0);
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 16 * ZS + 3, NVME_ZSA_CLOSE, true), 0);
    /* Bad input. */
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 3, NVME_ZSA_OPEN, false), NVME_ERR_INVAL);
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 0, 0, false), NVME_ERR_INVAL);
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 0, 9, false), NVME_ERR_INVAL);
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 16 * ZS, NVME_ZSA_OPEN, false), NVME_ERR_RANGE);
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 2, 0, NVME_ZSA_OPEN, false), NVME_ERR_UNSUPPORTED);
    assert_int_equal(nvme_zns_report(f.ctrl, 1, 0, z, 0, &n), NVME_ERR_INVAL);
    assert_int_equal(nvme_zns_report(f.ctrl, 1, 0, NULL, 4, &n), NVME_ERR_INVAL);
    assert_int_equal(nvme_zns_report(f.ctrl, 1, 16 * ZS, z, 4, &n), NVME_ERR_RANGE);
    assert_int_equal(nvme_zns_report(f.ctrl, 2, 0, z, 4, &n), NVME_ERR_UNSUPPORTED);
    free(b);
    free(r);
    fx_stop(&f);
}

static void many_zones_report_within_mdts(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 8 KiB: 127 descriptors per report */
    f.ns[0].blocks = 4096;
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 16;
    fx_start(&f);
    struct nvme_zone_desc *z = calloc(256, sizeof(*z));
    unsigned n = 0;
    assert_int_equal(nvme_zns_report(f.ctrl, 1, 0, z, 256, &n), 0);
    assert_int_equal(n, 127);
    assert_int_equal(z[126].zslba, 126 * 16);
    /* A report claiming more than asked is refused. */
    struct nvme_sim_fault flt = {NVME_SIM_FAULT_GARBAGE_DATA,
                                 NVME_SIM_ANY_IO,
                                 NVME_CMD_ZONE_MGMT_RECV,
                                 NVME_SIM_ANY,
                                 5,
                                 0,
                                 1};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    int rc = nvme_zns_report(f.ctrl, 1, 0, z, 4, &n);
    assert_true(rc == NVME_ERR_PROTO || (rc == 0 && n <= 4));
    free(z);
    fx_stop(&f);
}

/* Device input: a ZSZE that is not a power of two, on a large namespace.
 * The zone count was found by adding ZSZE until past NSZE (2^36 / 3
 * steps here, years near 2^62, never ending within ZSZE of 2^64); it is
 * a 64-step division now.  alarm: a hang fails the test. */
static void odd_zone_size_is_counted_in_bounded_time(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].blocks = 1ull << 36; /* sparse: nothing allocated */
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 1ull << 30;
    f.ns[0].zsze_reported = 3; /* what Identify ZNS says */
    alarm(5);
    fx_start(&f);
    alarm(0);
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
    assert_non_null(ns);
    assert_int_equal(ns->zone_size, 3);
    assert_true(ns->nr_zones == (1ull << 36) / 3u);
    fx_stop(&f);
}

/* The zone arithmetic without a 64-bit divide (nvme_u64_divmod, used for
 * NR_ZONES = NSZE / ZSZE and the blocks left in a zone): the same
 * quotient and remainder as the compiler's division, for zone sizes that
 * are and are not powers of two, up to and past 2^63. */
static void zone_arithmetic_matches_64_bit_division(void **state)
{
    (void)state;
    const uint64_t n[] = {0, 1, 3, 4095, 1ull << 36, (1ull << 63) + 5, UINT64_MAX - 1, UINT64_MAX};
    const uint64_t d[] = {1,
                          2,
                          3,
                          96,
                          1ull << 20,
                          0xfffffffbull,
                          (1ull << 62) + 1,
                          1ull << 63,
                          (1ull << 63) + 3,
                          UINT64_MAX};
    for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
        for (size_t j = 0; j < sizeof(d) / sizeof(d[0]); j++) {
            uint64_t r = 7;
            assert_true(nvme_u64_divmod(n[i], d[j], &r) == n[i] / d[j]);
            assert_true(r == n[i] % d[j]);
            assert_true(nvme_u64_divmod(n[i], d[j], NULL) == n[i] / d[j]);
            struct nvme_ns_info ns;
            memset(&ns, 0, sizeof(ns));
            ns.zone_size = d[j];
            assert_true(nvme_zone_left(&ns, n[i]) == d[j] - n[i] % d[j]);
        }
    }
}

/* Zone Append's DW0 holds the low half of the Assigned LBA: for zones over
 * 2^32 blocks the call cannot tell where the data went, so it refuses to
 * say (it appends when the caller does not ask). */
static void zone_append_lba_needs_zones_of_at_most_2_32_blocks(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].blocks = 1ull << 35; /* sparse */
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 1ull << 33;
    fx_start(&f);
    nvme_sim_log_capture(f.sim, true);
    uint8_t *b = abuf(4096);
    memset(b, 0x5a, 4096);
    uint64_t lba = 7;
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 1ull << 33, 1, b, &lba), NVME_ERR_UNSUPPORTED);
    assert_true(fx_log_has(&f, "zones over 2^32 blocks"));
    assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, 0);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 1ull << 33, 1, b, NULL), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, 1);
    free(b);
    fx_stop(&f);
}

/* Zones above LBA 2^32: the ZSLBA's high half goes in CDW11 of Zone
 * Management Send and Receive and of Zone Append (ZNS 1.1 Figures 33,
 * 38, 29): each command reaches the zone named, its report the zone's
 * 64-bit ZSLBA and write pointer, the append's LBA rebuilt above 2^32.
 * (No test named a zone past 2^32 before: CDW11 left 0 went unseen.) */
static void zones_above_lba_2_32_are_named_whole(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].blocks = 1ull << 34; /* sparse */
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 1ull << 24;
    fx_start(&f);
    const uint64_t z = (1ull << 32) + (3ull << 24); /* zone 259 */
    uint8_t *b = abuf(4096);
    memset(b, 0x5a, 4096);
    uint8_t st = 0;
    uint64_t wp = 0, lba = 0;
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, z, NVME_ZSA_OPEN, false), 0);
    assert_int_equal(nvme_sim_zone(f.sim, 1, z, &st, &wp), 0);
    assert_int_equal(st, NVME_ZS_EXPLICIT_OPEN);
    assert_int_equal(nvme_sim_zone(f.sim, 1, z & 0xffffffffu, &st, &wp), 0);
    assert_int_equal(st, NVME_ZS_EMPTY); /* not the zone of its low half */
    assert_int_equal(nvme_zns_append(f.ctrl, 1, z, 2, b, &lba), 0);
    assert_true(lba == z);
    struct nvme_zone_desc d[2];
    unsigned n = 0;
    assert_int_equal(nvme_zns_report(f.ctrl, 1, z, d, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_true(d[0].zslba == z && d[0].wp == z + 2);
    assert_int_equal(d[0].zs >> 4, NVME_ZS_EXPLICIT_OPEN);
    assert_true(d[1].zslba == z + (1ull << 24));
    free(b);
    fx_stop(&f);
}

/* nvm_cmds.c nvme_zns_append: "Not replayed after a reset: a second
 * append would write the data twice".  The retry path (qpair.c
 * nvme_qpair_retry) re-sends it all the same: a Zone Append the device
 * executed but whose completion is late is aborted at its deadline
 * (Command Abort Requested, retryable) and sent again, so one call appends
 * its data twice (the write pointer moves by 2 x count) and reports the
 * second copy.  The same holds for nvme_io_passthru. */
static void zone_append_is_not_resent_after_its_abort(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].blocks = 16 * ZS;
    f.ns[0].lba_size = 4096;
    f.ns[0].zoned = true;
    f.ns[0].zone_size = ZS;
    fx_start_captured(&f);
    uint8_t *b = fx_xalloc(4 * 4096);
    fx_pattern(b, 4 * 4096, 3);
    /* Executed at once, its completion 3 s late (deadline 2 s): Abort. */
    fx_inject(&f, NVME_SIM_FAULT_DELAY, NVME_SIM_ANY_IO, NVME_CMD_ZONE_APPEND, 3000000, 1);
    uint64_t lba = 0;
    int rc = nvme_zns_append(f.ctrl, 1, 2 * ZS, 4, b, &lba);
    assert_true(nvme_ctrl_get_stats(f.ctrl)->aborts_sent >= 1);
    struct nvme_zone_desc z;
    unsigned n = 0;
    assert_int_equal(nvme_zns_report(f.ctrl, 1, 2 * ZS, &z, 1, &n), 0);
    assert_int_equal(n, 1);
    /* Whatever the call returns, the device got the append once. */
    assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, 1);
    assert_int_equal(z.wp, 2 * ZS + 4);
    if (rc == 0)
        assert_int_equal(lba, 2 * ZS);
    fx_stop(&f);
    free(b);
}

/* A blocking zoned Write (or Write Zeroes) the device executed but whose
 * completion never came (QEMU 7.2 with a throttled drive: the reset's CC.EN = 0 drains the
 * block layer and the write lands): the core times it out, resets and
 * replays it, and the replay is not at the write pointer any more (Zone
 * Invalid Write, ZNS Command Set).  The zone's write pointer (Report
 * Zones) at the end of the command says it landed before the reset: the
 * call succeeds, and a multi-piece write goes on with its next piece
 * (before: Zone Invalid Write, the rest of the transfer never sent). */
static void a_zoned_write_that_landed_before_its_reset_is_not_a_zone_invalid_write(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.opts.command_timeout_ms = 500;
    f.cfg.mdts = 1; /* 8 KiB: 2 blocks a command */
    fx_start_captured(&f);
    uint8_t *b = abuf(16 * 4096);
    uint8_t *r = abuf(16 * 4096);
    fx_pattern(b, 16 * 4096, 9);
    /* One command (one page), then 16 blocks in 8 pieces, the first one's
     * completion lost. */
    const uint32_t counts[2] = {1, 16};
    for (unsigned i = 0; i < 2; i++) {
        const uint64_t zslba = (uint64_t)(i + 1) * ZS;
        uint64_t resets = nvme_ctrl_get_stats(f.ctrl)->resets;
        fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_WRITE, 0, 1);
        assert_int_equal(nvme_write(f.ctrl, 1, zslba, counts[i], b), 0);
        assert_true(nvme_ctrl_get_stats(f.ctrl)->resets > resets);
        uint8_t st;
        uint64_t wp;
        assert_int_equal(nvme_sim_zone(f.sim, 1, zslba, &st, &wp), 0);
        assert_int_equal(wp, zslba + counts[i]);
        memset(r, 0, 16 * 4096);
        assert_int_equal(nvme_read(f.ctrl, 1, zslba, counts[i], r), 0);
        assert_memory_equal(b, r, (size_t)counts[i] * 4096);
    }
    assert_true(fx_log_has(&f, "zoned write of 2 block(s) at LBA 128 landed before the reset"));
    /* The same for a zoned Write Zeroes (8 blocks: one command). */
    uint64_t resets = nvme_ctrl_get_stats(f.ctrl)->resets;
    fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_WRITE_ZEROES, 0, 1);
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 4 * ZS, 8, 0), 0);
    assert_true(nvme_ctrl_get_stats(f.ctrl)->resets > resets);
    uint8_t zst;
    uint64_t zwp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 4 * ZS, &zst, &zwp), 0);
    assert_int_equal(zwp, 4 * ZS + 8);
    assert_true(
        fx_log_has(&f, "zoned write zeroes of 8 block(s) at LBA 256 landed before the reset"));
    /* Not after a reset: a write that is not at the write pointer is the
     * caller's Zone Invalid Write, even where the write pointer ends it. */
    assert_int_equal(nvme_write(f.ctrl, 1, 3 * ZS, 1, b), 0);
    int rc = nvme_write(f.ctrl, 1, 3 * ZS, 1, b);
    assert_true(rc > 0 && NVME_SF_SCT(rc) == NVME_SCT_COMMAND_SPECIFIC &&
                NVME_SF_SC(rc) == NVME_SC_ZONE_INVALID_WRITE);
    fx_stop(&f);
    free(b);
    free(r);
}

/* Asynchronous zoned writes held by a reset (nvme_submit_rw: the caller
 * pipelines writes into a zone): before the replay the core asks the
 * zone's write pointer (Report Zones).  A write that landed (its
 * completion lost) completes successfully and is not sent again (before:
 * its replay was a Zone Invalid Write for data on the media); one the
 * device had not run (write pointer at its start) is replayed and
 * written; one whose zone's write pointer is inside it (part of it on the
 * media) fails as a reset fails what it does not replay
 * (NVME_ERR_TIMEOUT: it timed out), not with a Zone Invalid Write, and
 * the write pointer stays where the device has it.  A zoned Copy (a
 * blocking call) that landed is done too. */
static void async_zoned_writes_held_by_a_reset_follow_the_write_pointer(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.opts.command_timeout_ms = 500;
    f.cfg.abort_mode = NVME_SIM_ABORT_REFUSE; /* the late ones stay for the reset */
    fx_start_captured(&f);
    uint8_t *b = abuf(16 * 4096);
    uint8_t *r = abuf(16 * 4096);
    fx_pattern(b, 16 * 4096, 5);
    /* Landed and not run: A (4 blocks at the zone's start) runs but its
     * completion is lost, B (the next 4) hangs in the device. */
    const uint64_t z1 = ZS;
    struct fx_rec ra = {0, 0}, rb = {0, 0};
    uint64_t resets = nvme_ctrl_get_stats(f.ctrl)->resets;
    fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_WRITE, 0, 1);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, z1, 4, b, 0, fx_rec_cb, &ra), 0);
    (void)nvme_qpair_poll(f.ctrl, 1, 0);
    fx_inject(&f, NVME_SIM_FAULT_HANG, NVME_SIM_ANY_IO, NVME_CMD_WRITE, 0, 1);
    assert_int_equal(
        nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, z1 + 4, 4, b + 4 * 4096, 0, fx_rec_cb, &rb),
        0);
    fx_poll_until(&f, 1, &ra, 10000000);
    fx_poll_until(&f, 1, &rb, 10000000);
    assert_true(nvme_ctrl_get_stats(f.ctrl)->resets > resets);
    assert_int_equal(ra.calls, 1);
    assert_int_equal(ra.result, 0);
    assert_int_equal(rb.calls, 1);
    assert_int_equal(rb.result, 0);
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, z1, &st, &wp), 0);
    assert_int_equal(wp, z1 + 8);
    memset(r, 0, 16 * 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, z1, 8, r), 0);
    assert_memory_equal(b, r, 8 * 4096);
    assert_true(fx_log_has(&f, "zoned write of 4 block(s) at LBA 64 landed before the reset"));
    /* Partly landed: C (8 blocks) hangs while 4 blocks at its start are
     * written (the write pointer inside C when the reset asks). */
    const uint64_t z2 = 2 * ZS;
    struct fx_rec rc_ = {0, 0};
    fx_inject(&f, NVME_SIM_FAULT_HANG, NVME_SIM_ANY_IO, NVME_CMD_WRITE, 0, 1);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, z2, 8, b, 0, fx_rec_cb, &rc_), 0);
    assert_int_equal(nvme_write(f.ctrl, 1, z2, 4, b), 0);
    fx_poll_until(&f, 1, &rc_, 10000000);
    assert_int_equal(rc_.calls, 1);
    assert_int_equal(rc_.result, NVME_ERR_TIMEOUT);
    assert_int_equal(nvme_sim_zone(f.sim, 1, z2, &st, &wp), 0);
    assert_int_equal(wp, z2 + 4);
    assert_true(fx_log_has(&f, "zoned write of 8 block(s) at LBA 128 partly landed before the "
                               "reset (write pointer 132)"));
    /* More held than the core looks at without memory of its own (32):
     * 40 one-block writes into zone 5, every completion lost. */
    const uint64_t z5 = 5 * ZS;
    struct fx_rec many[40];
    fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_WRITE, 0, 40);
    for (unsigned i = 0; i < 40; i++) {
        many[i] = (struct fx_rec){0, 0};
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, z5 + i, 1,
                                        b + (size_t)(i % 16) * 4096, 0, fx_rec_cb, &many[i]),
                         0);
    }
    fx_poll_until(&f, 1, &many[39], 10000000);
    for (unsigned i = 0; i < 40; i++) {
        assert_int_equal(many[i].calls, 1);
        assert_int_equal(many[i].result, 0);
    }
    assert_int_equal(nvme_sim_zone(f.sim, 1, z5, &st, &wp), 0);
    assert_int_equal(wp, z5 + 40);
    /* A zoned Copy whose completion is lost: done once landed. */
    const struct nvme_copy_src src = {z1, 8};
    fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_COPY, 0, 1);
    resets = nvme_ctrl_get_stats(f.ctrl)->resets;
    assert_int_equal(nvme_copy(f.ctrl, 1, 3 * ZS, &src, 1, 0), 0);
    assert_true(nvme_ctrl_get_stats(f.ctrl)->resets > resets);
    assert_int_equal(nvme_sim_zone(f.sim, 1, 3 * ZS, &st, &wp), 0);
    assert_int_equal(wp, 3 * ZS + 8);
    assert_int_equal(nvme_read(f.ctrl, 1, 3 * ZS, 8, r), 0);
    assert_memory_equal(b, r, 8 * 4096);
    assert_true(fx_log_has(&f, "zoned copy of 8 block(s) at LBA 192 landed before the reset"));
    fx_stop(&f);
    free(b);
    free(r);
}

/* The Report Zones the replay asks is itself lost: that restart attempt
 * fails, the held write stays held, and the next attempt's report
 * decides it; the caller hears once, bounded (a landed write: done). */
static void a_lost_report_zones_during_the_replay_is_asked_again_by_the_next_attempt(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.opts.command_timeout_ms = 500;
    f.cfg.abort_mode = NVME_SIM_ABORT_REFUSE;
    fx_start_captured(&f);
    uint8_t *b = abuf(4 * 4096);
    uint8_t *r = abuf(4 * 4096);
    fx_pattern(b, 4 * 4096, 9);
    struct fx_rec ra = {0, 0};
    uint64_t resets = nvme_ctrl_get_stats(f.ctrl)->resets;
    fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_WRITE, 0, 1);
    fx_inject(&f, NVME_SIM_FAULT_DROP_CQE, NVME_SIM_ANY_IO, NVME_CMD_ZONE_MGMT_RECV, 0, 1);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, ZS, 4, b, 0, fx_rec_cb, &ra), 0);
    fx_poll_until(&f, 1, &ra, 10000000);
    assert_int_equal(ra.calls, 1);
    assert_int_equal(ra.result, 0);
    /* The lost report ended the restart's first attempt; the second one
     * asked again and found the write landed. */
    assert_true(nvme_ctrl_get_stats(f.ctrl)->resets > resets);
    assert_true(fx_log_has(&f, "restart after reset failed: timeout"));
    assert_true(fx_log_has(&f, "zoned write of 4 block(s) at LBA 64 landed before the reset"));
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, ZS, &st, &wp), 0);
    assert_int_equal(wp, ZS + 4);
    assert_int_equal(nvme_read(f.ctrl, 1, ZS, 4, r), 0);
    assert_memory_equal(b, r, 4 * 4096);
    fx_stop(&f);
    free(b);
    free(r);
}

/* A Write, Write Zeroes or Copy to a zoned namespace that fails with a
 * media error is not sent again: the failure may have moved the write
 * pointer (QEMU 7.2 moves it over the whole command on a Write Fault), and
 * the same command again is then a Zone Invalid Write that hides the
 * status (qemu.*.zoned shows it on QEMU).  An abort is retried as any
 * write's; on a conventional namespace the Write Fault is retried. */
static void a_zoned_write_that_failed_is_not_sent_again(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    uint8_t *b = abuf(8 * 4096);
    fx_pattern(b, 8 * 4096, 5);
    const uint16_t wf = NVME_SF(NVME_SCT_MEDIA, NVME_SC_WRITE_FAULT);
    const uint64_t retries = nvme_ctrl_get_stats(f.ctrl)->retries;

    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_WRITE, wf, 1);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 8, b), wf);
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_WRITE_ZEROES, wf, 1);
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 0, 8, 0), wf);
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_COPY, wf, 1);
    const struct nvme_copy_src src = {4 * ZS, 4};
    assert_int_equal(nvme_copy(f.ctrl, 1, 0, &src, 1, 0), wf);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 3);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->retries, retries);

    /* Command Abort Requested: retried, written at the write pointer. */
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_WRITE,
              NVME_SF(0, NVME_SC_ABORT_REQ), 1);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 8, b), 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->retries, retries + 1);
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 0, &st, &wp), 0);
    assert_int_equal(wp, 8);

    /* Conventional namespace: the Write Fault once, retried. */
    fx_inject(&f, NVME_SIM_FAULT_STATUS, NVME_SIM_ANY_IO, NVME_CMD_WRITE, wf, 1);
    assert_int_equal(nvme_write(f.ctrl, 2, 0, 8, b), 0);
    assert_int_equal(nvme_ctrl_get_stats(f.ctrl)->retries, retries + 2);
    fx_stop(&f);
    free(b);
}

static unsigned cpu3(void *ctx)
{
    (void)ctx;
    return 3;
}

/* zoned_config with 4 I/O queues for 4 CPUs, brought up on CPU 3 (its
 * queue is 4, the one a reset that grants 1 takes away). */
static void start_zoned_on_cpu3(struct fx *f)
{
    zoned_config(f);
    f->opts.io_queues = 4;
    f->opts.cpus = 4;
    fx_create(f);
    f->osal.cpu_id = cpu3;
    assert_int_equal(fx_init(f), 0);
}

/* A blocking zoned write whose queue a reset took away (the controller
 * granted fewer queues: CPU 3's queue 4 is no more).  A conventional
 * write goes again, whole, on the queue the CPU has now; a zoned one
 * cannot (its pieces done before moved the write pointer, and whether
 * this one landed is not known): NVME_ERR_ABORTED, sent once (io.c
 * nvme_rw_requeue).  The zone's write pointer tells the caller where to
 * go on.  Its answer had no test (never run under coverage). */
static void a_zoned_write_whose_queue_a_reset_took_away_fails_aborted(void **state)
{
    (void)state;
    struct fx f;
    start_zoned_on_cpu3(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 4);
    uint8_t *b = abuf(8 * 4096), *back = abuf(8 * 4096);
    fx_pattern(b, 8 * 4096, 9);
    uint64_t resets = nvme_ctrl_get_stats(f.ctrl)->resets;
    fx_inject(&f, NVME_SIM_FAULT_CFS, 4, NVME_CMD_WRITE, 0, 1);
    nvme_sim_grant_io_queues(f.sim, 1);
    uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 8, b), NVME_ERR_ABORTED);
    assert_true(nvme_ctrl_get_stats(f.ctrl)->resets > resets);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 1);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds + 1); /* not sent again */
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 0, &st, &wp), 0);
    assert_int_equal(wp, 0); /* the CFS came before the write ran */
    /* Written again at the write pointer, on queue 1 now. */
    assert_int_equal(nvme_write(f.ctrl, 1, wp, 8, b), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, back), 0);
    assert_memory_equal(back, b, 8 * 4096);
    /* A conventional namespace's write in the same place goes again. */
    nvme_sim_grant_io_queues(f.sim, 4);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 4);
    fx_inject(&f, NVME_SIM_FAULT_CFS, 4, NVME_CMD_WRITE, 0, 1);
    nvme_sim_grant_io_queues(f.sim, 1);
    assert_int_equal(nvme_write(f.ctrl, 2, 0, 8, b), 0);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 8, back), 0);
    assert_memory_equal(back, b, 8 * 512);
    fx_stop(&f);
    free(b);
    free(back);
}

/* The same for Write Zeroes and Copy, which move the write pointer as a
 * Write does (recovery.c nvme_exec_epoch): NVME_ERR_ABORTED, sent once,
 * the write pointer where it was; on a conventional namespace each goes
 * again on the queue the CPU has now. */
static void a_zoned_write_zeroes_or_copy_whose_queue_a_reset_took_away_fails_aborted(void **state)
{
    (void)state;
    struct fx f;
    start_zoned_on_cpu3(&f);
    for (int copy = 0; copy < 2; copy++) {
        uint8_t opc = copy ? NVME_CMD_COPY : NVME_CMD_WRITE_ZEROES;
        for (uint32_t nsid = 1; nsid <= 2; nsid++) {
            nvme_sim_grant_io_queues(f.sim, 4);
            assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
            assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 4);
            fx_inject(&f, NVME_SIM_FAULT_CFS, 4, opc, 0, 1);
            nvme_sim_grant_io_queues(f.sim, 1);
            uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;
            const struct nvme_copy_src src = {nsid == 1 ? 4 * ZS : 16, 4};
            int rc = copy ? nvme_copy(f.ctrl, nsid, 0, &src, 1, 0)
                          : nvme_write_zeroes(f.ctrl, nsid, 0, 8, 0);
            assert_int_equal(nvme_ctrl_get_info(f.ctrl)->io_queues, 1);
            if (nsid == 2) { /* conventional: sent again */
                assert_int_equal(rc, 0);
                assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds + 2);
                continue;
            }
            assert_int_equal(rc, NVME_ERR_ABORTED);
            assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds + 1); /* not sent again */
            uint8_t st;
            uint64_t wp;
            assert_int_equal(nvme_sim_zone(f.sim, 1, 0, &st, &wp), 0);
            assert_int_equal(wp, 0); /* the CFS came before it ran */
        }
    }
    fx_stop(&f);
}

/* Zone Append on zoned namespaces with protection information (PI-only
 * format, PRACT): Type 1 needs PIREMAP, or the controller refuses the
 * append with Invalid Protection Information (QEMU 7.2 does; ZNS 1.1
 * §3.4.1); with it the reference tags count from where the data
 * landed, so reads checking them (ILBRT = the LBA) pass, Type 2 too.
 * Type 3 has no reference tag to remap: no PIREMAP. */
static void zone_append_remaps_protection_information(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.ns[0].ms = 8;
    f.ns[0].pi_type = 1;
    f.ns[1] = f.ns[0];
    f.ns[1].nsid = 2;
    f.ns[1].pi_type = 2;
    f.ns[2] = f.ns[0];
    f.ns[2].nsid = 3;
    f.ns[2].pi_type = 3;
    f.cfg.ns_count = 3;
    fx_start(&f);
    uint8_t *b = abuf(4 * 4096), *r = abuf(4 * 4096);
    for (uint32_t nsid = 1; nsid <= 3; nsid++) {
        fx_pattern(b, 4 * 4096, nsid);
        uint64_t lba = 0;
        assert_int_equal(nvme_write(f.ctrl, nsid, ZS, 2, b), 0);
        assert_int_equal(nvme_zns_append(f.ctrl, nsid, ZS, 4, b, &lba), 0);
        assert_int_equal(lba, ZS + 2);
        uint8_t pi[8];
        assert_int_equal(nvme_sim_ns_md(f.sim, nsid, ZS + 5, pi), 0);
        if (nsid != 3)
            assert_int_equal(((uint32_t)pi[4] << 24) | (pi[5] << 16) | (pi[6] << 8) | pi[7],
                             ZS + 5);
        assert_int_equal(nvme_read_ext(f.ctrl, nsid, ZS + 2, 4, r, NULL,
                                       NVME_IO_PRACT | NVME_IO_PRCHK_GUARD | NVME_IO_PRCHK_REF),
                         0);
        assert_memory_equal(b, r, 4 * 4096);
    }
    free(b);
    free(r);
    fx_stop(&f);
}

/* Zone Append on Type 1 PI with PRCHK reference tag: the ILBRT must be
 * the ZSLBA's low bits (PIREMAP then makes it the LBA the data lands at),
 * else Invalid Protection Information and nothing written (NVM CS 1.0
 * §5.3.3, as QEMU 7.2 checks the remapped tag against that LBA); CDW3
 * carries bits 47:32 with the 64b Guard.  nvme_zns_append sends it so. */
static void zone_append_checks_the_initial_reference_tag_of_type_1(void **state)
{
    (void)state;
    for (uint8_t pif = 0; pif <= NVME_PIF_64B_GUARD; pif += NVME_PIF_64B_GUARD) {
        struct fx f;
        zoned_config(&f);
        f.cfg.elbas = true;
        f.ns[0].ms = pif ? 16 : 8;
        f.ns[0].pi_type = 1;
        f.ns[0].pif = pif;
        fx_start(&f);
        uint8_t *b = abuf(2 * 4096), *r = abuf(4096); /* two 4 KiB blocks */
        fx_pattern(b, 2 * 4096, 31);
        assert_int_equal(nvme_write(f.ctrl, 1, 2 * ZS, 2, b), 0);
        struct nvme_sqe sqe;
        memset(&sqe, 0, sizeof(sqe));
        sqe.opc = NVME_CMD_ZONE_APPEND;
        sqe.nsid = 1;
        sqe.cdw10 = 2 * ZS;
        sqe.cdw12 = NVME_RW_PRACT | NVME_RW_PRCHK_GUARD | NVME_RW_PRCHK_REF | NVME_ZA_PIREMAP;
        sqe.cdw14 = 2 * ZS + 2; /* the write pointer's, not the ZSLBA's */
        int rc = nvme_io_passthru(f.ctrl, &sqe, b, 4096, NVME_DMA_TO_DEVICE, NULL);
        assert_true(rc > 0);
        assert_string_equal(nvme_status_name((uint16_t)rc), "Invalid Protection Information");
        uint8_t st;
        uint64_t wp;
        assert_int_equal(nvme_sim_zone(f.sim, 1, 2 * ZS, &st, &wp), 0);
        assert_int_equal(wp, 2 * ZS + 2); /* nothing written */
        uint64_t lba = 0;
        assert_int_equal(nvme_zns_append(f.ctrl, 1, 2 * ZS, 1, b, &lba), 0);
        assert_int_equal(lba, 2 * ZS + 2);
        assert_int_equal(nvme_read(f.ctrl, 1, lba, 1, r), 0);
        assert_memory_equal(b, r, 4096);
        free(b);
        free(r);
        fx_stop(&f);
    }
}

/* A blocking read or write that spans zones is sent as one command per
 * zone, as Linux's block layer splits at the zone size (chunk_sectors):
 * one command across a boundary is a Zone Boundary Error for writes, and
 * for reads too unless OZCS says Read Across Zone Boundaries (QEMU 7.2's
 * default, zoned.cross_read=off, does not). */
static void reads_and_writes_are_cut_at_zone_boundaries(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.ns[2] = f.ns[0];
    f.ns[2].nsid = 3;
    f.ns[2].ms = 8;
    f.cfg.ns_count = 3;
    fx_start(&f);
    uint8_t *b = abuf(3 * ZS * 4096), *r = abuf(3 * ZS * 4096);
    fx_pattern(b, 3 * ZS * 4096, 7);
    /* Zone 0 to its last 4 blocks, then 8 blocks: 4 in zone 0, 4 in zone 1. */
    assert_int_equal(nvme_write(f.ctrl, 1, 0, ZS - 4, b), 0);
    assert_int_equal(nvme_write(f.ctrl, 1, ZS - 4, 8, b + (ZS - 4) * 4096), 0);
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 0, &st, &wp), 0);
    assert_int_equal(st, NVME_ZS_FULL);
    assert_int_equal(nvme_sim_zone(f.sim, 1, ZS, &st, &wp), 0);
    assert_int_equal(wp, ZS + 4);
    /* The rest of zone 1 and all of zone 2 in one call. */
    assert_int_equal(nvme_write(f.ctrl, 1, ZS + 4, 2 * ZS - 4, b + (ZS + 4) * 4096), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, ZS - 4, 8, r), 0);
    assert_memory_equal(b + (ZS - 4) * 4096, r, 8 * 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 3 * ZS, r), 0);
    assert_memory_equal(b, r, 3 * ZS * 4096);
    /* The calls with metadata too (separate, 8 bytes a block). */
    uint8_t md[2 * ZS * 8], mr[2 * ZS * 8];
    for (size_t i = 0; i < sizeof(md); i++)
        md[i] = (uint8_t)(i * 7u + 1u);
    assert_int_equal(nvme_write_ext(f.ctrl, 3, 0, ZS - 2, b, md, 0), 0);
    assert_int_equal(
        nvme_write_ext(f.ctrl, 3, ZS - 2, ZS + 2, b + (ZS - 2) * 4096, md + (ZS - 2) * 8, 0), 0);
    assert_int_equal(nvme_read_ext(f.ctrl, 3, 0, 2 * ZS, r, mr, 0), 0);
    assert_memory_equal(b, r, 2 * ZS * 4096);
    assert_memory_equal(md, mr, sizeof(md));
    free(b);
    free(r);
    fx_stop(&f);
}

/* A write bigger than MDTS goes as several commands.  On a zoned
 * namespace each must start at the write pointer, and a controller need
 * not run a queue's commands in order: the pieces go one at a time (the
 * simulator counts writes to one zone it fetched together), and the data
 * and the write pointer come out right. */
static void zoned_write_pieces_go_one_at_a_time(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.cfg.mdts = 1; /* 8 KiB: 2 blocks a command */
    fx_start(&f);
    uint8_t *b = abuf(ZS * 4096), *r = abuf(ZS * 4096);
    fx_pattern(b, ZS * 4096, 11);
    assert_int_equal(nvme_write(f.ctrl, 1, ZS, ZS, b), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->zone_writes_together, 0);
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, ZS, &st, &wp), 0);
    assert_int_equal(st, NVME_ZS_FULL);
    assert_int_equal(nvme_read(f.ctrl, 1, ZS, ZS, r), 0); /* reads keep several in flight */
    assert_memory_equal(b, r, ZS * 4096);
    free(b);
    free(r);
    fx_stop(&f);
}

/* Write Zeroes across zone boundaries goes as one command per zone, as
 * nvme_write does and Linux's block layer splits write-zeroes requests
 * at the zone size: one command across a boundary is a Zone Boundary
 * Error, nothing written (QEMU 7.2 too).  Before, nvme_write_zeroes sent
 * one command (cut only at WZSL) and failed. */
static void write_zeroes_is_cut_at_zone_boundaries(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    uint8_t *b = abuf(3 * ZS * 4096), *r = abuf(3 * ZS * 4096);
    fx_pattern(b, 8 * 4096, 5);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 8, b), 0);
    /* The rest of zone 0, all of zone 1 and 8 blocks of zone 2. */
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 8, 2 * ZS, 0), 0);
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 0, &st, &wp), 0);
    assert_int_equal(st, NVME_ZS_FULL);
    assert_int_equal(nvme_sim_zone(f.sim, 1, ZS, &st, &wp), 0);
    assert_int_equal(st, NVME_ZS_FULL);
    assert_int_equal(nvme_sim_zone(f.sim, 1, 2 * ZS, &st, &wp), 0);
    assert_int_equal(wp, 2 * ZS + 8);
    assert_int_equal(nvme_sim_stats(f.sim)->zone_writes_together, 0);
    memset(r, 0xee, 3 * ZS * 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 2 * ZS + 8, r), 0);
    assert_memory_equal(r, b, 8 * 4096);
    for (size_t i = 8 * 4096; i < (2 * ZS + 8) * 4096; i++)
        assert_int_equal(r[i], 0);
    /* Within WZSL too (8 KiB: 2 blocks a command), from the write pointer. */
    nvme_sim_set_nvm_limits(f.sim, 0, 1, 0, 0, 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0); /* the limit is read at a restart */
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 2 * ZS + 8, ZS + 3, 0), 0);
    assert_int_equal(nvme_sim_zone(f.sim, 1, 3 * ZS, &st, &wp), 0);
    assert_int_equal(wp, 3 * ZS + 11);
    free(b);
    free(r);
    fx_stop(&f);
}

/* Copy to a zoned namespace: the destination blocks of one command must
 * lie in one zone (ZNS 1.1 §3.3: a write, Copy included, that crosses a
 * zone boundary fails Zone Boundary Error, QEMU 7.2 too), so a copy whose
 * destination crosses one goes as one command per zone, as nvme_write
 * and nvme_write_zeroes cut.  Before, nvme_copy cut only at the
 * namespace's copy limits: one command across the boundary, refused. */
static void copy_is_cut_at_the_destination_s_zone_boundaries(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    uint8_t *b = abuf(2 * ZS * 4096), *r = abuf(2 * ZS * 4096);
    fx_pattern(b, ZS * 4096, 11);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, ZS, b), 0);          /* zone 0: sources */
    assert_int_equal(nvme_write(f.ctrl, 1, 2 * ZS, ZS - 4, b), 0); /* zone 2 but 4 */
    const struct nvme_copy_src src[2] = {{0, 6}, {10, 4}};
    assert_int_equal(nvme_copy(f.ctrl, 1, 3 * ZS - 4, src, 2, 0), 0); /* into zone 3 */
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 2 * ZS, &st, &wp), 0);
    assert_int_equal(st, NVME_ZS_FULL);
    assert_int_equal(nvme_sim_zone(f.sim, 1, 3 * ZS, &st, &wp), 0);
    assert_int_equal(wp, 3 * ZS + 6);
    assert_int_equal(nvme_read(f.ctrl, 1, 3 * ZS - 4, 10, r), 0);
    assert_memory_equal(r, b, 6 * 4096);
    assert_memory_equal(r + 6 * 4096, b + 10 * 4096, 4 * 4096);
    free(b);
    free(r);
    fx_stop(&f);
}

/* The simulator reads a Copy's source ranges as a Read reads: a range
 * across a zone boundary is a Zone Boundary Error (SCT 1h, SC B8h), as
 * QEMU's nvme_copy checks each range (nvme_check_zone_read; OZCS bit 0,
 * Read Across Zone Boundaries, is clear here).  Before, the simulator
 * copied it, so a host that sent such a range passed here and failed on
 * QEMU. */
static void sim_copy_source_across_zones_is_a_zone_boundary_error(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    uint8_t *b = abuf(2 * ZS * 4096);
    fx_pattern(b, 2 * ZS * 4096, 12);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 2 * ZS, b), 0);
    struct nvme_copy_range *e = abuf(4096);
    memset(e, 0, 4096);
    e[0].slba = ZS - 2;
    e[0].nlb = 3; /* 4 blocks: 2 in zone 0, 2 in zone 1 */
    struct nvme_sqe sqe;
    memset(&sqe, 0, sizeof(sqe));
    sqe.opc = NVME_CMD_COPY;
    sqe.nsid = 1;
    sqe.cdw10 = 2 * ZS; /* SDLBA: zone 2's write pointer */
    sqe.cdw12 = 0;      /* one range, format 0h */
    int rc = nvme_io_passthru(f.ctrl, &sqe, e, 32, NVME_DMA_TO_DEVICE, NULL);
    assert_int_equal(rc,
                     NVME_SF(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ZONE_BOUNDARY) | NVME_SF_DNR_BIT);
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 2 * ZS, &st, &wp), 0);
    assert_int_equal(wp, 2 * ZS); /* nothing written */
    free(e);
    free(b);
    fx_stop(&f);
}

/* nvme_copy on a zoned namespace: a source range that spans zones goes
 * as one descriptor per zone (a range across a boundary is a Zone
 * Boundary Error where the controller does not read across zone
 * boundaries, OZCS bit 0; QEMU's nvme_copy and the simulator check each
 * range so).  Before, nvm_copy_entries cut ranges only at MSSRL, and the
 * call failed with nothing copied. */
static void copy_source_ranges_are_cut_at_zone_boundaries(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    uint8_t *b = abuf(3 * ZS * 4096), *r = abuf(3 * ZS * 4096);
    fx_pattern(b, 3 * ZS * 4096, 13);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 3 * ZS, b), 0);
    /* 4 blocks across zones 0/1, then ZS + 4 blocks across zones 0/1 and 1/2. */
    const struct nvme_copy_src src[2] = {{ZS - 2, 4}, {ZS - 2, ZS + 4}};
    assert_int_equal(nvme_copy(f.ctrl, 1, 4 * ZS, src, 2, 0), 0);
    memset(r, 0, 3 * ZS * 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 4 * ZS, ZS + 8, r), 0);
    assert_memory_equal(r, b + (ZS - 2) * 4096, 4 * 4096);
    assert_memory_equal(r + 4 * 4096, b + (ZS - 2) * 4096, (ZS + 4) * 4096);
    free(b);
    free(r);
    fx_stop(&f);
}

/* An extended format whose blocks are not whole dwords (512 + 2 bytes
 * here): every piece's buffer must start dword aligned (PRP1, §4.3).
 * The MDTS cut keeps it so; a cut at a zone boundary may not, and then
 * nvme_write_ext refuses the call (NVME_ERR_ALIGN) before sending
 * anything.  Before, the pieces up to the zone's last MDTS cut were
 * written first: the write pointer moved 56 blocks for a call that
 * failed. */
static void a_zone_cut_that_would_misalign_refuses_before_writing(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 8 KiB: 14 blocks of 514 bytes a command */
    f.ns[0].blocks = 16 * ZS;
    f.ns[0].zoned = true;
    f.ns[0].zone_size = ZS;
    f.ns[0].ms = 2;
    f.ns[0].extended = true;
    fx_start(&f);
    uint8_t *b = abuf(2 * ZS * 514), *r = abuf(2 * ZS * 514);
    fx_pattern(b, 2 * ZS * 514, 9);
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 0, 1, 0), 0); /* write pointer 1 */
    uint64_t writes = nvme_sim_stats(f.sim)->writes;
    /* From LBA 1, 70 blocks: pieces of 14 to LBA 57, then the 7 left in
     * zone 0 (3598 bytes: the next piece would start 2 bytes into a
     * dword). */
    assert_int_equal(nvme_write_ext(f.ctrl, 1, 1, 70, b, NULL, 0), NVME_ERR_ALIGN);
    uint8_t st;
    uint64_t wp;
    assert_int_equal(nvme_sim_zone(f.sim, 1, 0, &st, &wp), 0);
    assert_int_equal(wp, 1);
    assert_int_equal(nvme_sim_stats(f.sim)->writes, writes);
    /* Not crossing the boundary: done, in pieces of 14. */
    assert_int_equal(nvme_write_ext(f.ctrl, 1, 1, ZS - 2, b, NULL, 0), 0);
    assert_int_equal(nvme_sim_zone(f.sim, 1, 0, &st, &wp), 0);
    assert_int_equal(wp, ZS - 1);
    assert_int_equal(nvme_read_ext(f.ctrl, 1, 0, ZS, r, NULL, 0), 0);
    assert_memory_equal(b, r + 514, (ZS - 2) * 514);
    free(b);
    free(r);
    fx_stop(&f);
}

/* ZASL (ZNS Identify Controller, CNS 06h CSI 02h, byte 0) is asked at the
 * first Zone Append.  An Identify that got no answer (here the controller
 * fails, CSTS.CFS, and is reset under it) says nothing about ZASL: the
 * next append asks again.  Before, the failure left MDTS (128 KiB) as the
 * limit for the controller's life, and an append of 16 KiB went to a
 * controller whose ZASL is 8 KiB (Invalid Field, QEMU's zoned.zasl). */
static void zasl_unknown_after_a_failed_identify_is_asked_again(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.cfg.zasl = 1; /* 2 pages of 4 KiB: 2 blocks */
    fx_start_captured(&f);
    uint8_t *b = abuf(4 * 4096);
    fx_pattern(b, 4 * 4096, 41);
    fx_inject(&f, NVME_SIM_FAULT_CFS, 0, NVME_ADMIN_IDENTIFY, 0, 1);
    uint64_t lba = 0;
    int rc = nvme_zns_append(f.ctrl, 1, ZS, 4, b, &lba);
    assert_true(rc < 0); /* the Identify failed with the controller */
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, 0);
    /* Asked again: above ZASL, refused before anything is sent. */
    assert_int_equal(nvme_zns_append(f.ctrl, 1, ZS, 4, b, &lba), NVME_ERR_INVAL);
    assert_true(fx_log_has(&f, "zone append of 4 blocks above ZASL (8192 bytes)"));
    assert_int_equal(nvme_zns_append(f.ctrl, 1, ZS, 2, b, &lba), 0);
    assert_int_equal(lba, ZS);
    assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, 1);
    free(b);
    fx_stop(&f);
}

/* ZASL 0 (ZASL is MDTS) with MDTS 0 (no limit), as QEMU with mdts=0: the
 * only limit left is the core's 4 MiB per command, which an append cannot
 * be split under.  The refusal names it; before, it said "above ZASL
 * (4194304 bytes)", a limit the controller never reported. */
static void zone_append_above_the_core_cap_names_the_core_not_zasl(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.ns[0].zone_size = 2048; /* 8 MiB zones of 4096-byte blocks */
    f.ns[0].blocks = 4 * 2048;
    f.cfg.mdts = 0;
    f.cfg.zasl = 0;
    fx_start_captured(&f);
    uint8_t *b = abuf(1025 * 4096);
    fx_pattern(b, 1025 * 4096, 43);
    uint64_t lba = 0;
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 0, 1025, b, &lba), NVME_ERR_INVAL);
    assert_true(fx_log_has(&f, "zone append of 1025 blocks above the core's cap per command "
                               "(4194304 bytes)"));
    assert_false(fx_log_has(&f, "above ZASL"));
    assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, 0);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 0, 1024, b, &lba), 0); /* 4 MiB: sent */
    assert_int_equal(lba, 0);
    free(b);
    fx_stop(&f);
}

/* ZASL 16 KiB, read at the first append; then a firmware whose ZASL is
 * 8 KiB becomes active: through a reset (`at_once` false: the rescan
 * after the restart forgets ZASL), or at once (Firmware Commit CA 011b,
 * which no reset and no rescan follows: Identify Controller read again
 * forgets it with MDTS and the NVM limits).  The next append asks again:
 * one of 16 KiB is refused before it is sent, one of 8 KiB goes.
 * Before: ZASL was read once for the controller's life, and the 16 KiB
 * append went to the controller (Invalid Field, 0x4002, a status for a
 * call the core could have refused). */
static void zasl_asked_again_after(bool at_once)
{
    struct fx f;
    zoned_config(&f);
    f.cfg.zasl = 2; /* 4 pages of 4 KiB: 4 blocks */
    fx_start_captured(&f);
    uint8_t *b = abuf(4 * 4096);
    fx_pattern(b, 4 * 4096, 53);
    uint64_t lba = 0;
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 0, 4, b, &lba), 0);
    assert_int_equal(lba, 0);
    nvme_sim_set_zasl(f.sim, 1); /* the new firmware's: 8 KiB */
    if (at_once) {
        uint8_t img[4096] = {0};
        memcpy(img, "FW2.0.00", 8);
        assert_int_equal(nvme_fw_download(f.ctrl, 0, img, sizeof(img)), 0);
        assert_int_equal(nvme_fw_commit(f.ctrl, 2, NVME_FW_CA_ACTIVATE_NOW, false, NULL), 0);
    } else {
        assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
        assert_int_equal(nvme_ctrl_service(f.ctrl), 0); /* the rescan after the restart */
    }
    uint64_t sent = nvme_sim_stats(f.sim)->zone_appends;
    assert_int_equal(nvme_zns_append(f.ctrl, 1, ZS, 4, b, &lba), NVME_ERR_INVAL);
    assert_true(fx_log_has(&f, "zone append of 4 blocks above ZASL (8192 bytes)"));
    assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, sent);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, ZS, 2, b, &lba), 0);
    assert_int_equal(lba, ZS);
    free(b);
    fx_stop(&f);
}

static void zasl_is_asked_again_after_a_reset(void **state)
{
    (void)state;
    zasl_asked_again_after(false);
}

static void zasl_is_asked_again_after_an_activation_without_reset(void **state)
{
    (void)state;
    zasl_asked_again_after(true);
}

/* ZASL 0 (ZNS 1.1 Figure 52: the Zone Append limit is MDTS), read at the
 * first append; then a reset activates a firmware whose MDTS is lower
 * (128 KiB to 16 KiB: nvme_refresh_mdts takes it).  An append above the
 * new MDTS is refused before it is sent, naming MDTS, as every other
 * data command is cut at it; one within goes.  Before: the limit kept
 * the 128 KiB MDTS of the first append for the controller's life, and a
 * 32 KiB append went to the controller (Invalid Field). */
static void zone_append_after_a_reset_that_lowers_mdts_keeps_within_it(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    f.cfg.zasl = 0;
    fx_start_captured(&f);
    uint8_t *b = abuf(8 * 4096);
    fx_pattern(b, 8 * 4096, 47);
    uint64_t lba = 0;
    assert_int_equal(nvme_zns_append(f.ctrl, 1, 0, 8, b, &lba), 0); /* 32 KiB: asks ZASL */
    assert_int_equal(lba, 0);
    nvme_sim_set_mdts(f.sim, 2); /* 4 pages: 16 KiB */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->mdts_bytes, 16384);
    uint64_t sent = nvme_sim_stats(f.sim)->zone_appends;
    assert_int_equal(nvme_zns_append(f.ctrl, 1, ZS, 8, b, &lba), NVME_ERR_INVAL);
    assert_true(fx_log_has(&f, "zone append of 8 blocks above MDTS (16384 bytes)"));
    assert_int_equal(nvme_sim_stats(f.sim)->zone_appends, sent);
    assert_int_equal(nvme_zns_append(f.ctrl, 1, ZS, 4, b, &lba), 0);
    assert_int_equal(lba, ZS);
    free(b);
    fx_stop(&f);
}

/* Under CC.CSS 110b the Namespace Identification Descriptor list (CNS
 * 03h) names each namespace's command set (NVMe 2.0 Figure 278, the CSI
 * descriptor).  A list that is refused (Invalid Field, DNR) or names none
 * (empty) says nothing of it: as Linux's nvme_scan_ns ("Command set not
 * reported"), a zoned namespace in use stays as it was (zoned, usable,
 * same object and generation), and a new zoned one is not taken for an
 * NVM namespace (unusable).  Before: both were NVM namespaces (csi 0,
 * status 0), NSID 1's generation moved (a port's disk retired), and
 * writes anywhere in their zones were let through. */
static void a_list_without_the_command_set_does_not_make_a_namespace_nvm(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        struct fx f;
        zoned_config(&f);
        f.cfg.nn = 4; /* room for NSID 3 */
        fx_start(&f);
        const struct nvme_ns_info *ns1 = nvme_ns_find(f.ctrl, 1);
        uint32_t gen = ns1->gen;
        /* A rescan's Identify commands: CNS 02h; NSID 1: 00h, 03h, 05h;
         * NSID 2: 00h, 03h; NSID 3: 00h, 03h (05h). */
        struct nvme_sim_fault flt = {k == 0 ? NVME_SIM_FAULT_STATUS : NVME_SIM_FAULT_SHORT_DATA,
                                     0,
                                     NVME_ADMIN_IDENTIFY,
                                     NVME_SIM_ANY,
                                     k == 0 ? NVME_SF(0, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT
                                            : 0,
                                     2,
                                     1};
        assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
        assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
        assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
        assert_ptr_equal(nvme_ns_find(f.ctrl, 1), ns1);
        assert_int_equal(ns1->csi, NVME_CSI_ZNS);
        assert_int_equal(ns1->status, 0);
        assert_int_equal(ns1->zone_size, ZS);
        assert_int_equal(ns1->gen, gen);
        nvme_sim_clear_faults(f.sim);

        struct nvme_sim_ns_config ns3 = {
            .nsid = 3, .blocks = 4 * ZS, .lba_size = 4096, .zoned = true, .zone_size = ZS};
        assert_int_equal(nvme_sim_ns_add(f.sim, &ns3), 0);
        flt.skip = 7;
        assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
        assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
        assert_int_equal(nvme_sim_fault_hits(f.sim), 2);
        const struct nvme_ns_info *ns3i = nvme_ns_find(f.ctrl, 3);
        assert_non_null(ns3i);
        assert_int_not_equal(ns3i->status, 0);
        uint8_t *buf = abuf(4096);
        memset(buf, 0x5a, 4096);
        assert_int_equal(nvme_write(f.ctrl, 3, 5, 1, buf), ns3i->status);
        free(buf);
        nvme_sim_clear_faults(f.sim);
        /* Once the list names it, it is the zoned namespace it is. */
        assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
        assert_int_equal(ns3i->status, 0);
        assert_int_equal(ns3i->csi, NVME_CSI_ZNS);
        assert_int_equal(ns1->gen, gen);
        fx_stop(&f);
    }
}

/* The same list refused (CNS 03h, Invalid Field with DNR) for an NVM
 * namespace in use whose Identify Namespace now gives half its size
 * (shrunk, same format and identifiers): it stays as it was, in the
 * size the device gives now, and its generation moves as for any new
 * NSZE; I/O past the new end is refused by the core.  Before: the old
 * NSZE (64 blocks) was kept, and a read of block 40 was sent (LBA Out
 * of Range from the device). */
static void a_namespace_kept_as_it_was_takes_its_new_size(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    const struct nvme_ns_info *ns2 = nvme_ns_find(f.ctrl, 2);
    assert_int_equal(ns2->csi, NVME_CSI_NVM);
    assert_int_equal(ns2->nsze, 64);
    uint32_t gen = ns2->gen;
    assert_int_equal(nvme_sim_ns_remove(f.sim, 2), 0);
    struct nvme_sim_ns_config n2 = f.ns[1];
    n2.blocks = 32;
    assert_int_equal(nvme_sim_ns_add(f.sim, &n2), 0);
    /* A rescan's Identify commands: CNS 02h; NSID 1: 00h, 03h, 05h;
     * NSID 2: 00h, 03h (this one). */
    struct nvme_sim_fault flt = {NVME_SIM_FAULT_STATUS,
                                 0,
                                 NVME_ADMIN_IDENTIFY,
                                 NVME_SIM_ANY,
                                 NVME_SF(0, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT,
                                 5,
                                 1};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_ptr_equal(nvme_ns_find(f.ctrl, 2), ns2);
    assert_int_equal(ns2->status, 0);
    assert_int_equal(ns2->csi, NVME_CSI_NVM);
    assert_int_equal(ns2->nsze, 32);
    assert_int_not_equal(ns2->gen, gen);
    uint8_t *buf = abuf(4096);
    uint64_t io = nvme_sim_stats(f.sim)->io_cmds;
    assert_int_equal(nvme_read(f.ctrl, 2, 40, 1, buf), NVME_ERR_RANGE);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, io);
    assert_int_equal(nvme_read(f.ctrl, 2, 31, 1, buf), 0);
    free(buf);
    fx_stop(&f);
}

/* The same list refused for a namespace in use whose Identify Namespace
 * now gives other blocks (deleted and made again by another host with
 * 512-byte blocks instead of 4096): it is not kept in its old format,
 * where commands would be sized for 4096-byte blocks the device no
 * longer has, but unusable until a rescan says what it is.  (Before
 * this rule the kept namespace still had 4096-byte blocks.) */
static void a_namespace_of_other_blocks_is_not_kept_in_its_old_format(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    const struct nvme_ns_info *ns1 = nvme_ns_find(f.ctrl, 1);
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    struct nvme_sim_ns_config again = {
        .nsid = 1, .blocks = 64 * ZS, .lba_size = 512, .zoned = true, .zone_size = ZS};
    assert_int_equal(nvme_sim_ns_add(f.sim, &again), 0);
    struct nvme_sim_fault flt = {NVME_SIM_FAULT_STATUS,
                                 0,
                                 NVME_ADMIN_IDENTIFY,
                                 NVME_SIM_ANY,
                                 NVME_SF(0, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT,
                                 2, /* CNS 02h, NSID 1's 00h, then its 03h */
                                 1};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_ptr_equal(nvme_ns_find(f.ctrl, 1), ns1);
    assert_int_equal(ns1->status, NVME_ERR_PROTO);
    uint8_t *buf = abuf(4096);
    memset(buf, 0x5a, 4096);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 1, buf), NVME_ERR_PROTO);
    free(buf);
    nvme_sim_clear_faults(f.sim);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(ns1->status, 0);
    assert_int_equal(ns1->lba_size, 512);
    assert_int_equal(ns1->csi, NVME_CSI_ZNS);
    fx_stop(&f);
}

/* A rescan whose zoned Identify Namespace (CNS 05h CSI 02h) of a zoned
 * namespace in use fails with a status without DNR (Internal Error,
 * retried already) leaves it as it was, as the core does for Identify
 * Namespace itself and Linux's nvme_validate_ns for any such status; one
 * with DNR makes it unusable.  Before: unusable (NVME_ERR_PROTO, "without
 * a valid zone size") for both, its generation moved. */
static void a_zoned_identify_failing_without_dnr_keeps_the_namespace(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    const struct nvme_ns_info *ns1 = nvme_ns_find(f.ctrl, 1);
    uint32_t gen = ns1->gen;
    /* A rescan's Identify commands: CNS 02h; NSID 1: 00h, 03h, 05h, ... */
    struct nvme_sim_fault flt = {
        NVME_SIM_FAULT_STATUS,        0, NVME_ADMIN_IDENTIFY,          NVME_SIM_ANY,
        NVME_SF(0, NVME_SC_INTERNAL), 3, 1u + NVME_DEFAULT_MAX_RETRIES};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1u + NVME_DEFAULT_MAX_RETRIES);
    assert_int_equal(ns1->status, 0);
    assert_int_equal(ns1->csi, NVME_CSI_ZNS);
    assert_int_equal(ns1->zone_size, ZS);
    assert_int_equal(ns1->gen, gen);
    nvme_sim_clear_faults(f.sim);

    flt.value = NVME_SF(0, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT;
    flt.count = 1;
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 2u + NVME_DEFAULT_MAX_RETRIES);
    assert_int_equal(ns1->status, NVME_ERR_PROTO);
    fx_stop(&f);
}

/* A zoned namespace made again under its NSID with the same identifiers
 * and LBA format but another zone size (ZSZE of the format's LBAFE, ZNS
 * 1.1 Figure 50, is the namespace's): a rescan takes the new zone size
 * as a change of the namespace, as it takes another NSZE or block size:
 * its generation moves (a port that keeps the zone layout drops it), and
 * the fields are rewritten inside the namespace epoch, so a call that
 * cut its pieces at the old zone boundaries is not sent on with them.
 * Before: zone_size went from 64 to 128 blocks with the generation kept. */
static void a_new_zone_size_is_a_change_of_the_namespace(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
    assert_int_equal(ns->zone_size, ZS);
    uint32_t gen = ns->gen, ctrl_gen = nvme_ns_generation(f.ctrl);
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    struct nvme_sim_ns_config z = f.ns[0];
    z.zone_size = 2 * ZS;
    assert_int_equal(nvme_sim_ns_add(f.sim, &z), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_ptr_equal(nvme_ns_find(f.ctrl, 1), ns); /* the same object */
    assert_int_equal(ns->status, 0);
    assert_int_equal(ns->zone_size, 2 * ZS);
    assert_int_equal(ns->nr_zones, 8);
    assert_int_not_equal(ns->gen, gen);
    assert_int_not_equal(nvme_ns_generation(f.ctrl), ctrl_gen);
    fx_stop(&f);
}

/* A namespace in use made again under its NSID by another host (a rescan
 * reads it anew) whose zoned Identify (CNS 05h) then fails without DNR is
 * not kept as it was: NSID 2, an NVM namespace of 512-byte blocks, made
 * again zoned with the same blocks, would stay NVM and get writes anywhere
 * (Linux's nvme_validate_ns compares the command set and identifiers,
 * nvme_ns_ids_equal, before it leaves a namespace alone); NSID 1, zoned,
 * made again with other identifiers (NGUID, EUI64) and the same blocks,
 * is another namespace, not the one in use.  Both unusable until a rescan
 * says what they are, then usable as what they are now. */
static void a_namespace_made_again_is_not_kept_when_its_zoned_identify_fails(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    const struct nvme_ns_info *ns1 = nvme_ns_find(f.ctrl, 1), *ns2 = nvme_ns_find(f.ctrl, 2);
    assert_int_equal(ns2->csi, NVME_CSI_NVM);
    uint32_t gen1 = ns1->gen, gen2 = ns2->gen;
    assert_int_equal(nvme_sim_ns_remove(f.sim, 2), 0);
    struct nvme_sim_ns_config z2 = {
        .nsid = 2, .blocks = 64, .lba_size = 512, .zoned = true, .zone_size = 16};
    assert_int_equal(nvme_sim_ns_add(f.sim, &z2), 0);
    /* A rescan's Identify commands: CNS 02h; NSID 1: 00h, 03h, 05h; NSID
     * 2: 00h, 03h, 05h (this one, each of its tries). */
    struct nvme_sim_fault flt = {
        NVME_SIM_FAULT_STATUS,        0, NVME_ADMIN_IDENTIFY,          NVME_SIM_ANY,
        NVME_SF(0, NVME_SC_INTERNAL), 6, 1u + NVME_DEFAULT_MAX_RETRIES};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1u + NVME_DEFAULT_MAX_RETRIES);
    assert_int_equal(ns1->status, 0);
    assert_int_equal(ns1->gen, gen1);
    assert_int_equal(ns2->status, NVME_ERR_PROTO);
    assert_int_not_equal(ns2->gen, gen2);
    nvme_sim_clear_faults(f.sim);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(ns2->status, 0);
    assert_int_equal(ns2->csi, NVME_CSI_ZNS);
    assert_int_equal(ns2->zone_size, 16);

    /* NSID 1 made again, same blocks, other identifiers; its CNS 05h (the
     * fourth Identify) fails without DNR. */
    gen1 = ns1->gen;
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    struct nvme_sim_ns_config z1 = f.ns[0];
    z1.ident = 1;
    assert_int_equal(nvme_sim_ns_add(f.sim, &z1), 0);
    flt.skip = 3;
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 2u + 2u * NVME_DEFAULT_MAX_RETRIES);
    assert_int_equal(ns1->status, NVME_ERR_PROTO);
    assert_int_not_equal(ns1->gen, gen1);
    assert_int_equal(ns2->status, 0);
    nvme_sim_clear_faults(f.sim);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(ns1->status, 0);
    assert_int_equal(ns1->zone_size, ZS);
    fx_stop(&f);
}

/* A reset that lowers MDTS (128 KiB to 8 KiB) while a Zone Management
 * Receive sized for the old limit (200 descriptors: 12864 bytes) is in
 * flight (CSTS.CFS at it: the reset replays it): it is not sent again
 * above the limit, and the report is asked again within it (at most 127
 * descriptors), all 16 zones.  Before: NVME_ERR_INVAL (the resend's PRP
 * build refuses it), a caller's error for a right call. */
static void a_zone_report_in_flight_at_a_reset_that_lowers_mdts_is_sized_again(void **state)
{
    (void)state;
    struct fx f;
    zoned_config(&f);
    fx_start(&f);
    struct nvme_zone_desc z[200];
    unsigned n = 0;
    nvme_sim_set_mdts(f.sim, 1);
    fx_inject(&f, NVME_SIM_FAULT_CFS, NVME_SIM_ANY_IO, NVME_CMD_ZONE_MGMT_RECV, 0, 1);
    assert_int_equal(nvme_zns_report(f.ctrl, 1, 0, z, 200, &n), 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->mdts_bytes, 8192);
    assert_int_equal(n, 16);
    assert_int_equal(z[15].zslba, 15 * ZS);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zoned_namespace_is_identified),
        cmocka_unit_test(zone_append_above_the_core_cap_names_the_core_not_zasl),
        cmocka_unit_test(writes_follow_the_write_pointer),
        cmocka_unit_test(zone_append_returns_where_the_data_went),
        cmocka_unit_test(zone_append_lba_past_the_zone_capacity_is_refused),
        cmocka_unit_test(zone_append_done_before_a_reset_completes_once_with_its_lba),
        cmocka_unit_test(report_and_manage_zones),
        cmocka_unit_test(io_passthru_set_zone_descriptor_extension_is_sized_by_zdes),
        cmocka_unit_test(many_zones_report_within_mdts),
        cmocka_unit_test(odd_zone_size_is_counted_in_bounded_time),
        cmocka_unit_test(zone_arithmetic_matches_64_bit_division),
        cmocka_unit_test(zone_append_lba_needs_zones_of_at_most_2_32_blocks),
        cmocka_unit_test(zones_above_lba_2_32_are_named_whole),
        cmocka_unit_test(zone_append_is_not_resent_after_its_abort),
        cmocka_unit_test(a_zoned_write_that_failed_is_not_sent_again),
        cmocka_unit_test(zone_append_remaps_protection_information),
        cmocka_unit_test(zone_append_checks_the_initial_reference_tag_of_type_1),
        cmocka_unit_test(reads_and_writes_are_cut_at_zone_boundaries),
        cmocka_unit_test(zoned_write_pieces_go_one_at_a_time),
        cmocka_unit_test(zasl_unknown_after_a_failed_identify_is_asked_again),
        cmocka_unit_test(zone_append_after_a_reset_that_lowers_mdts_keeps_within_it),
        cmocka_unit_test(zasl_is_asked_again_after_a_reset),
        cmocka_unit_test(zasl_is_asked_again_after_an_activation_without_reset),
        cmocka_unit_test(write_zeroes_is_cut_at_zone_boundaries),
        cmocka_unit_test(copy_is_cut_at_the_destination_s_zone_boundaries),
        cmocka_unit_test(sim_copy_source_across_zones_is_a_zone_boundary_error),
        cmocka_unit_test(copy_source_ranges_are_cut_at_zone_boundaries),
        cmocka_unit_test(a_zone_cut_that_would_misalign_refuses_before_writing),
        cmocka_unit_test(a_list_without_the_command_set_does_not_make_a_namespace_nvm),
        cmocka_unit_test(a_namespace_of_other_blocks_is_not_kept_in_its_old_format),
        cmocka_unit_test(a_namespace_kept_as_it_was_takes_its_new_size),
        cmocka_unit_test(a_zoned_identify_failing_without_dnr_keeps_the_namespace),
        cmocka_unit_test(a_namespace_made_again_is_not_kept_when_its_zoned_identify_fails),
        cmocka_unit_test(a_new_zone_size_is_a_change_of_the_namespace),
        cmocka_unit_test(a_zone_report_in_flight_at_a_reset_that_lowers_mdts_is_sized_again),
        cmocka_unit_test(a_zoned_write_whose_queue_a_reset_took_away_fails_aborted),
        cmocka_unit_test(a_zoned_write_zeroes_or_copy_whose_queue_a_reset_took_away_fails_aborted),
        cmocka_unit_test(a_zoned_write_that_landed_before_its_reset_is_not_a_zone_invalid_write),
        cmocka_unit_test(async_zoned_writes_held_by_a_reset_follow_the_write_pointer),
        cmocka_unit_test(a_lost_report_zones_during_the_replay_is_asked_again_by_the_next_attempt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
