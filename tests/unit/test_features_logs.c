/* SPDX-License-Identifier: MIT */
/* Get/Set Features with select (current, default, saved, supported) and
 * save, features with data structures, and Get Log Page of any size,
 * offset, LSP and RAE (NVMe 2.0 §5.15, §5.16, §5.27). */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

static void select_current_default_saved_and_supported(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint32_t dw0 = 0;
    /* Arbitration: current 3, changed to 5 and saved, then 7 unsaved. */
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_CURRENT, 0, NULL, 0, &dw0),
        0);
    assert_int_equal(dw0, 3);
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, 5, 0, true, NULL, 0, NULL),
                     0);
    assert_int_equal(nvme_sim_feature_saved(f.sim, NVME_FEAT_ARBITRATION), 5);
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, 7, 0, false, NULL, 0, NULL),
                     0);
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_CURRENT, 0, NULL, 0, &dw0),
        0);
    assert_int_equal(dw0, 7);
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_SAVED, 0, NULL, 0, &dw0),
        0);
    assert_int_equal(dw0, 5);
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_DEFAULT, 0, NULL, 0, &dw0),
        0);
    assert_int_equal(dw0, 3);
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_SUPPORTED, 0,
                                      NULL, 0, &dw0),
                     0);
    assert_int_equal(dw0, NVME_FEAT_CAP_SAVEABLE | NVME_FEAT_CAP_CHANGEABLE);
    /* A controller reset brings the saved value back. */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_CURRENT, 0, NULL, 0, &dw0),
        0);
    assert_int_equal(dw0, 5);
    /* Not saveable: the controller's status, named. */
    int rc = nvme_set_feature(f.ctrl, NVME_FEAT_NUM_QUEUES, 0, 0, 0, true, NULL, 0, NULL);
    assert_true(rc > 0);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Feature Identifier Not Saveable");
    /* Bad select, unknown feature. */
    assert_int_equal(nvme_get_feature(f.ctrl, 1, 0, 4, 0, NULL, 0, &dw0), NVME_ERR_INVAL);
    assert_int_equal(nvme_get_feature(NULL, 1, 0, 0, 0, NULL, 0, &dw0), NVME_ERR_INVAL);
    assert_int_equal(nvme_set_feature(NULL, 1, 0, 0, 0, false, NULL, 0, NULL), NVME_ERR_INVAL);
    rc = nvme_get_feature(f.ctrl, 0x77, 0, 0, 0, NULL, 0, &dw0);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC(rc), NVME_SC_INVALID_FIELD);
    fx_stop(&f);
}

static void every_listed_feature_reads_back(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    static const uint8_t fids[] = {NVME_FEAT_ARBITRATION,  NVME_FEAT_POWER_MGMT,
                                   NVME_FEAT_TEMP_THRESH,  NVME_FEAT_ERROR_RECOVERY,
                                   NVME_FEAT_VOLATILE_WC,  NVME_FEAT_NUM_QUEUES,
                                   NVME_FEAT_IRQ_COALESCE, NVME_FEAT_ASYNC_EVENT};
    for (size_t i = 0; i < sizeof(fids); i++) {
        uint32_t dw0 = 0xdead;
        /* Error Recovery is namespace specific: NSID 1 (0 is Invalid
         * Namespace or Format, as on QEMU's controller). */
        uint32_t nsid = fids[i] == NVME_FEAT_ERROR_RECOVERY ? 1u : 0u;
        for (unsigned sel = 0; sel <= 3; sel++)
            assert_int_equal(nvme_get_feature(f.ctrl, fids[i], nsid, sel, 0, NULL, 0, &dw0), 0);
    }
    uint32_t dw0;
    /* Power Management: PS within NPSS. */
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_POWER_MGMT, 0, 2, 0, false, NULL, 0, NULL),
                     0);
    assert_true(nvme_set_feature(f.ctrl, NVME_FEAT_POWER_MGMT, 0, 9, 0, false, NULL, 0, NULL) > 0);
    /* Temperature threshold of sensor 1, under threshold. */
    uint32_t sel = (1u << 16) | (1u << 20);
    assert_int_equal(
        nvme_set_feature(f.ctrl, NVME_FEAT_TEMP_THRESH, 0, sel | 273, 0, false, NULL, 0, NULL), 0);
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_TEMP_THRESH, 0, 0, sel, NULL, 0, &dw0), 0);
    assert_int_equal(dw0 & 0xffff, 273);
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_TEMP_THRESH, 0, 0, 0, NULL, 0, &dw0), 0);
    assert_int_equal(dw0 & 0xffff, 343);
    /* Volatile write cache off and on. */
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_VOLATILE_WC, 0, 0, 0, false, NULL, 0, NULL),
                     0);
    assert_int_equal(nvme_sim_feature(f.sim, NVME_FEAT_VOLATILE_WC), 0);
    fx_stop(&f);
}

/* The Timestamp's milliseconds and origin (bits 3:1 of byte 6: 001b set
 * by Set Features, 000b counting from a reset) as the device holds them. */
static uint64_t sim_ts(struct fx *f, unsigned *origin)
{
    uint8_t ts[8];
    nvme_sim_timestamp(f->sim, ts);
    *origin = (ts[6] >> 1) & 7u;
    return nvme_timestamp_ms(ts);
}

/* Timestamp (NVMe 1.4 §5.21.1.14): the port's time of day (the OSAL's
 * optional wall_clock_ms) is given to a controller with ONCS bit 6 at
 * bring-up and after every reset, as Linux's nvme_configure_timestamp (a
 * reset starts the device's count from 0 again); not sent when the port
 * has no clock, gives 0 or a time past 48 bits, nor to a controller
 * without the feature; a refusal is logged and the start goes on. */
static void timestamp_set_at_every_start_from_the_port_clock(void **state)
{
    (void)state;
    struct fx f;
    unsigned origin;
    fx_config(&f);
    f.cfg.wall_clock_ms = 1796494192021ull; /* 5 December 2026 */
    fx_start_captured(&f);
    uint64_t ms = sim_ts(&f, &origin);
    assert_int_equal(origin, 1);
    assert_true(ms >= 1796494192021ull && ms < 1796494192021ull + 1000u);
    nvme_sim_set_wall_clock(f.sim, 1800000000000ull);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), NVME_OK);
    ms = sim_ts(&f, &origin);
    assert_int_equal(origin, 1);
    assert_true(ms >= 1800000000000ull && ms < 1800000000000ull + 1000u);
    /* the time unknown (0) or past the field: nothing sent, the device
     * counts from 0 after the reset */
    static const uint64_t bad[] = {0, 1ull << 48};
    for (unsigned i = 0; i < 2; i++) {
        nvme_sim_set_wall_clock(f.sim, bad[i]);
        assert_int_equal(nvme_ctrl_reset(f.ctrl), NVME_OK);
        assert_true(sim_ts(&f, &origin) < 1000u);
        assert_int_equal(origin, 0);
    }
    /* refused (the reset's third Set Features, after Number of Queues and
     * the event configuration): a warning, the controller up, I/O works */
    nvme_sim_set_wall_clock(f.sim, 1800000000000ull);
    struct nvme_sim_fault fault = {NVME_SIM_FAULT_STATUS,
                                   0,
                                   NVME_ADMIN_SET_FEATURES,
                                   NVME_SIM_ANY,
                                   NVME_SF(0, NVME_SC_INTERNAL) | NVME_SF_DNR_BIT,
                                   2,
                                   1};
    assert_int_equal(nvme_sim_inject(f.sim, &fault), 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), NVME_OK);
    assert_true(fx_log_has(&f, "Timestamp not set: "));
    assert_true(sim_ts(&f, &origin) < 1000u);
    assert_int_equal(origin, 0);
    uint8_t *buf = fx_xalloc(4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_OK);
    free(buf);
    fx_stop(&f);
    /* a controller without the feature, or a port without a clock */
    for (unsigned i = 0; i < 2; i++) {
        fx_config(&f);
        if (i == 0) {
            f.cfg.wall_clock_ms = 1796494192021ull;
            f.cfg.oncs &= (uint16_t)~NVME_ONCS_TIMESTAMP;
        }
        fx_start(&f);
        assert_true(sim_ts(&f, &origin) < 1000u);
        assert_int_equal(origin, 0);
        fx_stop(&f);
    }
}

static void data_features_move_their_structures(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    /* Timestamp: 8 bytes, milliseconds since 1970. */
    uint8_t ts[8] = {0};
    uint64_t ms = 1700000000000ull;
    for (int i = 0; i < 6; i++)
        ts[i] = (uint8_t)(ms >> (8 * i));
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_TIMESTAMP, 0, 0, 0, false, ts, 8, NULL), 0);
    uint8_t back[8];
    nvme_sim_advance(f.sim, 5000);
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_TIMESTAMP, 0, 0, 0, back, 8, NULL), 0);
    assert_true(nvme_timestamp_ms(back) >= ms + 5 && nvme_timestamp_ms(back) < ms + 1000);
    assert_int_equal((back[6] >> 1) & 7, 1); /* origin: set by Set Features */
    /* APST: 256 bytes, saved. */
    uint8_t apst[256], apst2[256];
    fx_pattern(apst, sizeof(apst), 9);
    assert_int_equal(
        nvme_set_feature(f.ctrl, NVME_FEAT_APST, 0, 1, 0, true, apst, sizeof(apst), NULL), 0);
    uint32_t dw0 = 0;
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_APST, 0, NVME_FEAT_SEL_SAVED, 0, apst2,
                                      sizeof(apst2), &dw0),
                     0);
    assert_memory_equal(apst, apst2, sizeof(apst));
    assert_int_equal(dw0, 1);
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_APST, 0, NVME_FEAT_SEL_DEFAULT, 0, apst2,
                                      sizeof(apst2), &dw0),
                     0);
    assert_int_equal(apst2[0] | apst2[255], 0);
    /* Host Behavior Support: 512 bytes. */
    uint8_t hbs[512] = {1};
    assert_int_equal(
        nvme_set_feature(f.ctrl, NVME_FEAT_HOST_BEHAVIOR, 0, 0, 0, false, hbs, 512, NULL), 0);
    assert_true(nvme_sim_acre(f.sim));
    memset(hbs, 0, sizeof(hbs));
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_HOST_BEHAVIOR, 0, 0, 0, hbs, 512, NULL), 0);
    assert_int_equal(hbs[0], 1);
    /* Sizes are checked before anything is sent. */
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_TIMESTAMP, 0, 0, 0, false, ts, 4, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_APST, 0, 0, 0, false, NULL, 256, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, 0, 0, hbs, 4, NULL),
                     NVME_ERR_INVAL);
    /* Supported capabilities move no data. */
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_APST, 0, NVME_FEAT_SEL_SUPPORTED, 0, NULL, 0, &dw0), 0);
    assert_int_equal(nvme_feature_data_len(NVME_FEAT_APST), 256);
    assert_int_equal(nvme_feature_data_len(NVME_FEAT_TIMESTAMP), 8);
    assert_int_equal(nvme_feature_data_len(NVME_FEAT_HOST_BEHAVIOR), 512);
    assert_int_equal(nvme_feature_data_len(NVME_FEAT_ARBITRATION), 0);
    fx_stop(&f);
}

/* Host Identifier (FID 81h, with reservations) moves a data structure, 8
 * bytes or 16 with EXHID (§5.27.1.25), both ways: it goes through the
 * caller's buffer, never with no buffer (the controller would write or
 * read 8-16 bytes at PRP1 0). */
static void host_identifier_moves_its_data_structure(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oncs |= NVME_ONCS_RESERVATIONS;
    fx_start(&f);
    uint8_t id[16], back[16];
    for (unsigned i = 0; i < 16; i++)
        id[i] = (uint8_t)(0xa0 + i);
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_HOST_ID, 0, NVME_FEAT_HOST_ID_EXHID, 0,
                                      false, id, sizeof(id), NULL),
                     0);
    memset(back, 0, sizeof(back));
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_HOST_ID, 0, NVME_FEAT_SEL_CURRENT,
                                      NVME_FEAT_HOST_ID_EXHID, back, sizeof(back), NULL),
                     0);
    assert_memory_equal(back, id, 16);
    /* Without a buffer: refused, nothing sent. */
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_HOST_ID, 0, NVME_FEAT_SEL_CURRENT, 0, NULL, 0, NULL),
        NVME_ERR_INVAL);
    fx_stop(&f); /* no DMA outside what the core handed out */
}

/* A feature whose data structure the core does not know (vendor specific:
 * C0h-FFh) still has the controller move it: Get and Set Features with
 * no buffer (data NULL, len 0, as nvme.h says for such features) must
 * not let it write or read at PRP1 0 (passthrough gives a page of the
 * core's for the same reason). */
static void unknown_data_feature_moves_into_a_core_page(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.vendor_fid = 0xc4;
    fx_start(&f);
    uint32_t dw0 = 0;
    assert_int_equal(nvme_set_feature(f.ctrl, 0xc4, 0, 5, 0, false, NULL, 0, NULL), 0);
    assert_int_equal(nvme_get_feature(f.ctrl, 0xc4, 0, NVME_FEAT_SEL_CURRENT, 0, NULL, 0, &dw0), 0);
    assert_int_equal(dw0, 5);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    fx_stop(&f);
}

/* A vendor-specific feature whose data structure spans three pages (12
 * KiB): the caller gives its length, and the data moves through PRP1 and
 * a PRP List (§4.3: PRP2 is a list pointer past two pages), both ways,
 * intact.  Past what one command moves (MDTS): refused, nothing sent. */
static void vendor_feature_data_past_two_pages_uses_a_prp_list(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.vendor_fid = 0xc4;
    f.cfg.vendor_feat_len = 12288;
    f.cfg.mdts = 2; /* 16 KiB per command */
    fx_start(&f);
    uint8_t *out = fx_xalloc(12288), *in = fx_xalloc(12288);
    fx_pattern(out, 12288, 44);
    uint32_t dw0 = 0;
    assert_int_equal(nvme_set_feature(f.ctrl, 0xc4, 0, 7, 0, false, out, 12288, NULL), 0);
    assert_int_equal(nvme_get_feature(f.ctrl, 0xc4, 0, NVME_FEAT_SEL_CURRENT, 0, in, 12288, &dw0),
                     0);
    assert_int_equal(dw0, 7);
    assert_memory_equal(in, out, 12288);
    uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds;
    uint8_t *big = fx_xalloc(20480);
    assert_int_equal(nvme_get_feature(f.ctrl, 0xc4, 0, NVME_FEAT_SEL_CURRENT, 0, big, 20480, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    free(big);
    free(in);
    free(out);
    fx_stop(&f);
}

static void features_the_controller_lacks_are_unsupported(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.vwc = false;
    f.cfg.oncs = NVME_ONCS_WRITE_ZEROES; /* no save, no timestamp */
    fx_start(&f);
    uint8_t ts[8] = {0};
    uint32_t dw0;
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_VOLATILE_WC, 0, 1, 0, false, NULL, 0, NULL),
                     NVME_ERR_UNSUPPORTED);
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_TIMESTAMP, 0, 0, 0, ts, 8, NULL),
                     NVME_ERR_UNSUPPORTED);
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, 1, 0, true, NULL, 0, NULL),
                     NVME_ERR_UNSUPPORTED);
    /* SEL other than current without Save and Select support (ONCS bit 4):
     * refused, not sent (the controller would ignore it). */
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_SAVED, 0, NULL, 0, &dw0),
        NVME_ERR_UNSUPPORTED);
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_CURRENT, 0, NULL, 0, &dw0),
        0);
    assert_int_equal(dw0, 3);
    fx_stop(&f);
}

/* A controller without Save and Select (ONCS bit 4 clear; NVMe 1.0, where
 * SEL is reserved) ignores SEL and answers the current value: asked for
 * supported capabilities it would return the value as capability bits,
 * and for a feature with a data structure move it with no buffer given
 * (PRP1 0).  The core must not send a SEL the controller lacks. */
static void select_needs_save_and_select_support(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oncs = NVME_ONCS_TIMESTAMP; /* Timestamp, no Save and Select */
    fx_start(&f);
    uint32_t dw0 = 0;
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, 7, 0, false, NULL, 0, NULL),
                     0);
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_SUPPORTED, 0,
                                      NULL, 0, &dw0),
                     NVME_ERR_UNSUPPORTED);
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, NVME_FEAT_SEL_DEFAULT, 0, NULL, 0, &dw0),
        NVME_ERR_UNSUPPORTED);
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_TIMESTAMP, 0, NVME_FEAT_SEL_SUPPORTED, 0, NULL, 0, &dw0),
        NVME_ERR_UNSUPPORTED);
    uint8_t ts[8];
    assert_int_equal(
        nvme_get_feature(f.ctrl, NVME_FEAT_TIMESTAMP, 0, NVME_FEAT_SEL_CURRENT, 0, ts, 8, &dw0), 0);
    fx_stop(&f); /* no DMA outside what the core handed out */
}

/* LSP is 7 bits (NVMe 2.0 §5.16, CDW10 14:8): a caller's LSP above 7Fh
 * is its error, NVME_ERR_INVAL, nothing sent.  Before: the top bit was
 * dropped and another command sent than the one asked for (81h, a
 * Telemetry Host-Initiated read with bit 7 set, went as 01h: Create
 * Telemetry Host-Initiated Data, a new capture over the old). */
static void a_log_specific_field_past_7_bits_is_refused(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *buf = calloc(1, 4096);
    uint64_t admin = nvme_sim_stats(f.sim)->admin_cmds;
    struct nvme_log_args a = {NVME_LID_TELEMETRY_HOST, 0x81, 0, 0, 0, 0, false, buf, 512};
    assert_int_equal(nvme_get_log(f.ctrl, &a), NVME_ERR_INVAL);
    a.lid = NVME_LID_SMART;
    a.lsp = 0x80;
    a.nsid = NVME_NSID_ALL;
    assert_int_equal(nvme_get_log(f.ctrl, &a), NVME_ERR_INVAL);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, admin);
    a.lsp = 0;
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    free(buf);
    fx_stop(&f);
}

static void logs_of_every_kind(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.firmware = "FW-7";
    fx_start(&f);
    /* Error log: newest first. */
    nvme_sim_error_event(f.sim, 1, 0x33, NVME_SF(0, NVME_SC_INVALID_FIELD));
    nvme_sim_error_event(f.sim, 2, 0x44, NVME_SF(0, NVME_SC_LBA_RANGE));
    struct nvme_error_log_entry e[4];
    assert_int_equal(nvme_get_error_log(f.ctrl, e, 4), 0);
    assert_int_equal(e[0].error_count, 2);
    assert_int_equal(e[0].cid, 0x44);
    assert_int_equal(e[1].sqid, 1);
    assert_int_equal(nvme_get_error_log(f.ctrl, e, 0), NVME_ERR_INVAL);
    assert_int_equal(nvme_get_error_log(f.ctrl, e, 65), NVME_ERR_INVAL);
    /* Firmware slots. */
    struct nvme_fw_slot_log fw;
    assert_int_equal(nvme_get_fw_slot_log(f.ctrl, &fw), 0);
    assert_int_equal(fw.afi & 7, 1);
    assert_memory_equal(fw.frs[0], "FW-7", 4);
    /* Changed namespace list. */
    struct nvme_sim_ns_config add = {.nsid = 5, .blocks = 64, .lba_size = 512};
    assert_int_equal(nvme_sim_ns_add(f.sim, &add), 0);
    uint32_t *list = calloc(1024, 4);
    assert_int_equal(nvme_get_changed_ns_log(f.ctrl, list), 0);
    assert_int_equal(list[0], 5);
    assert_int_equal(list[1], 0);
    free(list);
    /* Commands supported and effects. */
    struct nvme_effects_log *fx_e = calloc(1, sizeof(*fx_e));
    assert_int_equal(nvme_get_effects_log(f.ctrl, NVME_CSI_NVM, fx_e), 0);
    assert_true(fx_e->acs[NVME_ADMIN_FORMAT_NVM] & NVME_EFFECTS_CSUPP);
    assert_true(fx_e->acs[NVME_ADMIN_FORMAT_NVM] & NVME_EFFECTS_LBCC);
    assert_true(fx_e->iocs[NVME_CMD_WRITE] & NVME_EFFECTS_LBCC);
    assert_true(fx_e->iocs[NVME_CMD_VERIFY] & NVME_EFFECTS_CSUPP);
    assert_int_equal(fx_e->iocs[NVME_CMD_ZONE_APPEND], 0);
    free(fx_e);
    /* SMART: the whole structure, thermal sensor fields included. */
    struct nvme_smart_log smart;
    assert_int_equal(nvme_get_smart_log(f.ctrl, &smart), 0);
    assert_int_equal(smart.composite_temp, 308);
    assert_int_equal(nvme_get_log_page(f.ctrl, NVME_LID_SMART, NVME_NSID_ALL, NULL, 512),
                     NVME_ERR_INVAL);
    /* An unknown log page: Invalid Log Page, named. */
    uint8_t b[64];
    int rc = nvme_get_log_page(f.ctrl, 0x7f, 0, b, sizeof(b));
    assert_true(rc > 0);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Invalid Log Page");
    fx_stop(&f);
}

static void large_logs_are_split_by_offset(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 8 KiB per command: a 16 KiB log takes two */
    fx_start(&f);
    uint8_t *big = malloc(16384), *want = malloc(16384);
    for (size_t i = 0; i < 16384; i++)
        want[i] = (uint8_t)((i * 7 + i / 4096) & 0xff);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    uint64_t before = st->admin_cmds;
    struct nvme_log_args a = {0xc0, 0, 0, 0, 0, 0, false, big, 16384};
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_memory_equal(big, want, 16384);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 2);
    /* An offset: the same bytes. */
    struct nvme_log_args b = {0xc0, 0, 0, 0, 4100, 0, true, big, 1000};
    assert_int_equal(nvme_get_log(f.ctrl, &b), 0);
    assert_memory_equal(big, want + 4100, 1000);
    /* Past the end of the page: zeros (and an offset past it is refused). */
    struct nvme_log_args c = {0xc0, 0, 0, 0, 16380, 0, false, big, 8};
    assert_int_equal(nvme_get_log(f.ctrl, &c), 0);
    assert_memory_equal(big, want + 16380, 4);
    assert_int_equal(big[4] | big[7], 0);
    struct nvme_log_args d = {0xc0, 0, 0, 0, 20000, 0, false, big, 8};
    assert_true(nvme_get_log(f.ctrl, &d) > 0);
    /* Bad arguments. */
    struct nvme_log_args bad = a;
    bad.len = 6;
    assert_int_equal(nvme_get_log(f.ctrl, &bad), NVME_ERR_INVAL);
    bad = a;
    bad.offset = 2;
    assert_int_equal(nvme_get_log(f.ctrl, &bad), NVME_ERR_INVAL);
    bad = a;
    bad.len = 0;
    assert_int_equal(nvme_get_log(f.ctrl, &bad), NVME_ERR_INVAL);
    bad = a;
    bad.buf = NULL;
    assert_int_equal(nvme_get_log(f.ctrl, &bad), NVME_ERR_INVAL);
    bad = a;
    bad.offset = UINT64_MAX - 3;
    assert_int_equal(nvme_get_log(f.ctrl, &bad), NVME_ERR_INVAL);
    assert_int_equal(nvme_get_log(f.ctrl, NULL), NVME_ERR_INVAL);
    free(big);
    free(want);
    fx_stop(&f);
}

/* A log read in several commands clears its asynchronous event only with
 * the last one (RAE set on the others, as libnvme's nvme_get_log keeps the
 * data latched): a read that fails half way has cleared nothing, and the
 * controller reports the next event of that type only once all of it was
 * read (§5.16 RAE, §5.2). */
static void split_log_clears_its_event_with_the_last_piece(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 8 KiB per command: a 16 KiB log takes two */
    fx_start(&f);
    uint8_t *big = malloc(16384);
    /* Two vendor events naming log C0h: the first is reported (its type
     * is then masked), the second waits until the log is read with RAE 0. */
    assert_int_equal(nvme_sim_post_event(f.sim, 7, 1, 0xc0), 0);
    assert_int_equal(nvme_sim_post_event(f.sim, 7, 2, 0xc0), 0);
    uint64_t aers = nvme_sim_stats(f.sim)->aers_completed;
    assert_int_equal(aers, 1);
    /* The second command fails (DNR: not retried): nothing was read, the
     * event must still be retained. */
    struct nvme_sim_fault flt = {NVME_SIM_FAULT_STATUS,
                                 0,
                                 NVME_ADMIN_GET_LOG_PAGE,
                                 NVME_SIM_ANY,
                                 NVME_SF_DNR_BIT | NVME_SC_INTERNAL,
                                 1,
                                 1};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    struct nvme_log_args a = {0xc0, 0, 0, 0, 0, 0, false, big, 16384};
    assert_true(nvme_get_log(f.ctrl, &a) > 0);
    assert_int_equal(nvme_sim_stats(f.sim)->aers_completed, aers);
    /* Read whole: the event is cleared, the next one reported. */
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->aers_completed, aers + 1);
    free(big);
    fx_stop(&f);
}

/* Telemetry Host-Initiated with Create (LSP bit 0) read in several
 * commands: the data is captured once, by the first command; the others
 * read it (Create clear), or each piece would come from another capture
 * than the header that describes it (§5.16.1.8, generation number). */
static void telemetry_create_captures_once_when_split(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 8 KiB per command: the 16 KiB log takes two */
    f.cfg.lpa |= NVME_LPA_TELEMETRY;
    fx_start(&f);
    uint8_t *log = malloc(16384);
    uint64_t before = nvme_sim_stats(f.sim)->admin_cmds;
    struct nvme_log_args a = {
        NVME_LID_TELEMETRY_HOST, NVME_LOG_LSP_TELEMETRY_CREATE, 0, 0, 0, 0, false, log, 16384};
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 2);
    assert_int_equal(log[0], NVME_LID_TELEMETRY_HOST);
    /* NVMe 2.0 Figure 226: Host-Initiated Data Generation Number at byte
     * 381 (one capture); 382, Controller-Initiated Data Available: none */
    assert_int_equal(log[381], 1);
    assert_int_equal(log[382], 0);
    for (size_t i = 512; i < 16384; i++)
        assert_int_equal(log[i], log[381]);
    /* Without Create: the same capture again. */
    a.lsp = 0;
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_int_equal(log[381], 1);
    assert_int_equal(log[16383], 1);
    free(log);
    fx_stop(&f);
}

/* Every event data byte of the simulator's Persistent Event Log (31
 * events of 512 bytes after the 512-byte header, each with a 24-byte event
 * header) is the number of the context it was read from. */
static void assert_pel_data(const uint8_t *log, uint8_t gen)
{
    for (size_t e = 512; e < 16384; e += 512)
        for (size_t i = e + 24; i < e + 512; i++)
            assert_int_equal(log[i], gen);
}

/* The Persistent Event Log read in several commands (NVMe 2.0 §5.16.1.14):
 * Establish Context goes with the first piece only (a second one while
 * the context exists is a Command Sequence Error, the context a snapshot
 * every piece must come from).  Release Context returns no log data: the
 * host reads with Read Log Data, then releases "after reading the
 * persistent event log page data" (NVMe 2.1 §5.1.12.1.14), in one command
 * that succeeds whether a context exists or not. */
static void persistent_event_log_context_actions_when_split(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 8 KiB per command: the 16 KiB log takes two */
    f.cfg.lpa |= NVME_LPA_PERSISTENT_EVENT;
    fx_start(&f);
    uint8_t *log = malloc(16384);
    uint64_t before = nvme_sim_stats(f.sim)->admin_cmds;
    struct nvme_log_args a = {
        NVME_LID_PERSISTENT_EVENT, NVME_LOG_LSP_PEL_ESTABLISH, 0, 0, 0, 0, false, log, 16384};
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 2);
    assert_int_equal(log[0], NVME_LID_PERSISTENT_EVENT);
    assert_int_equal(log[372], 1); /* the first context */
    assert_pel_data(log, 1);
    /* Read Log Data: the same context, all of it. */
    a.lsp = NVME_LOG_LSP_PEL_READ;
    memset(log, 0, 16384);
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_int_equal(log[372], 1);
    assert_pel_data(log, 1);
    /* Release Context: one command (no Read before it), a buffer as
     * large as the log notwithstanding. */
    a.lsp = NVME_LOG_LSP_PEL_RELEASE;
    before = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 1);
    for (size_t i = 0; i < 16384; i++) /* no log data, no earlier bytes */
        assert_int_equal(log[i], 0);
    a.lsp = NVME_LOG_LSP_PEL_READ; /* no context left */
    int rc = nvme_get_log(f.ctrl, &a);
    assert_true(rc > 0);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Command Sequence Error");
    /* Release with no context: succeeds (nothing read first). */
    a.lsp = NVME_LOG_LSP_PEL_RELEASE;
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    a.lsp = NVME_LOG_LSP_PEL_ESTABLISH; /* a new one */
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_int_equal(log[16383], 2);
    free(log);
    fx_stop(&f);
}

/* Establish Context and Read 512 Bytes of Header (Action 11b, NVMe 2.0)
 * establishes the context like 01b: in a split it goes with the first
 * piece only, the others Read Log Data from that context (a second one
 * would be a Command Sequence Error). */
static void persistent_event_log_establish_header_when_split(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 8 KiB per command: the 16 KiB log takes two */
    f.cfg.lpa |= NVME_LPA_PERSISTENT_EVENT;
    fx_start(&f);
    uint8_t *log = malloc(16384);
    struct nvme_log_args a = {NVME_LID_PERSISTENT_EVENT, 0, 0, 0, 0, 0, false, log, 16384};
    a.lsp = NVME_LOG_LSP_PEL_ESTABLISH_HEADER;
    uint64_t before = nvme_sim_stats(f.sim)->admin_cmds;
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 2);
    assert_int_equal(log[0], NVME_LID_PERSISTENT_EVENT);
    assert_int_equal(log[372], 1);
    assert_int_equal(log[16383], 1); /* the second piece read the context */
    a.lsp = NVME_LOG_LSP_PEL_READ;   /* the context exists */
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_pel_data(log, 1);
    free(log);
    fx_stop(&f);
}

/* Without extended data (LPA bit 2) NUMDL bits 27:16 are the count
 * (§5.16): one command of up to 4096 dwords, 16 KiB, with no offset and
 * no split; more needs extended data. */
static void without_extended_data_logs_stay_within_16k(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.lpa = 0; /* no effects log, no extended data */
    fx_start(&f);
    uint8_t *big = calloc(1, 16384 + 4), *want = malloc(16384);
    for (size_t i = 0; i < 16384; i++)
        want[i] = (uint8_t)((i * 7 + i / 4096) & 0xff);
    uint64_t before = nvme_sim_stats(f.sim)->admin_cmds;
    struct nvme_log_args a = {0xc0, 0, 0, 0, 0, 0, false, big, 16384};
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_memory_equal(big, want, 16384);
    assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds - before, 1);
    a.len = 8192;
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    assert_memory_equal(big, want, 8192);
    a.len = 16384 + 4;
    assert_int_equal(nvme_get_log(f.ctrl, &a), NVME_ERR_UNSUPPORTED);
    a.len = 4096;
    a.offset = 4096;
    assert_int_equal(nvme_get_log(f.ctrl, &a), NVME_ERR_UNSUPPORTED);
    a.offset = 0;
    assert_int_equal(nvme_get_log(f.ctrl, &a), 0);
    free(want);
    struct nvme_effects_log *e = calloc(1, sizeof(*e));
    assert_int_equal(nvme_get_effects_log(f.ctrl, 0, e), NVME_ERR_UNSUPPORTED);
    assert_int_equal(nvme_get_effects_log(f.ctrl, 0, NULL), NVME_ERR_INVAL);
    free(e);
    free(big);
    fx_stop(&f);
}

/* nvme_get_features / nvme_set_features take no buffer: a feature with a
 * data structure (APST, Timestamp, Host Behavior Support, LBA Range Type,
 * Host Memory Buffer) sent through them would have the controller move
 * its structure through PRP1 = 0.  Refused, nothing sent, like
 * nvme_get_feature with a wrong length; the Host Memory Buffer is the
 * core's (nvme_set_feature and nvme_admin_passthru refuse it too). */
static void dword_feature_calls_refuse_data_features(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    /* C4h: vendor-specific, its data only its vendor knows (the simulator
     * moves 4 KiB for it: without a buffer, through PRP1 0). */
    f.cfg.vendor_fid = 0xc4;
    fx_start(&f);
    static const uint8_t fids[] = {NVME_FEAT_APST,          NVME_FEAT_TIMESTAMP,
                                   NVME_FEAT_HOST_BEHAVIOR, NVME_FEAT_LBA_RANGE,
                                   NVME_FEAT_HOST_MEM_BUF,  0xc4};
    uint32_t dw0 = 0;
    for (unsigned i = 0; i < sizeof(fids); i++) {
        uint64_t before = nvme_sim_stats(f.sim)->admin_cmds;
        if (nvme_get_features(f.ctrl, fids[i], 0, &dw0) != NVME_ERR_INVAL ||
            nvme_set_features(f.ctrl, fids[i], 1, &dw0) != NVME_ERR_INVAL)
            fail_msg("feature %02xh with a data structure taken without a buffer", fids[i]);
        assert_int_equal(nvme_sim_stats(f.sim)->admin_cmds, before);
    }
    /* The others still work; the vendor one through nvme_get_feature,
     * which gives it a page of the core's even without a length. */
    assert_int_equal(nvme_get_features(f.ctrl, NVME_FEAT_ARBITRATION, 0, &dw0), 0);
    assert_int_equal(nvme_get_feature(f.ctrl, 0xc4, 0, NVME_FEAT_SEL_CURRENT, 0, NULL, 0, &dw0), 0);
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    fx_stop(&f);
}

/* nvme_admin_passthru with a buffer longer than the command returns: the
 * PRPs describe the log's 8 KiB, never the 12 KiB buffer.  PRP2 is then
 * the second data page (§4.3: a PRP List only for more than two pages),
 * not a list pointer, or the device writes the log's second page into
 * the list and the caller gets zeros with success. */
static void admin_passthru_with_a_longer_buffer_gets_the_whole_log(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.lpa |= NVME_LPA_TELEMETRY;
    fx_start(&f);
    uint8_t *log = malloc(12288);
    memset(log, 0xee, 12288);
    struct nvme_sqe sqe;
    memset(&sqe, 0, sizeof(sqe));
    sqe.opc = NVME_ADMIN_GET_LOG_PAGE;
    sqe.nsid = NVME_NSID_ALL;
    /* LID 07h, LSP Create, NUMDL 2047: 8192 bytes */
    sqe.cdw10 = NVME_LID_TELEMETRY_HOST | (NVME_LOG_LSP_TELEMETRY_CREATE << 8) | (2047u << 16);
    assert_int_equal(nvme_admin_passthru(f.ctrl, &sqe, log, 12288, NVME_DMA_FROM_DEVICE, NULL), 0);
    assert_int_equal(log[0], NVME_LID_TELEMETRY_HOST);
    assert_int_equal(log[381], 1);
    for (size_t i = 512; i < 8192; i++)
        assert_int_equal(log[i], 1);
    free(log);
    fx_stop(&f);
}

/* Features whose data structure sits in memory (Predictable Latency
 * Mode Config 512 bytes, FDP Events up to 510, Enhanced Controller /
 * Controller / Namespace Metadata 4 KiB): the dword-only calls refuse
 * them, nothing sent (before: sent with PRP1 0, a device that has them
 * writing or reading at bus address 0), and the buffered calls take them
 * with their structure's length (before: NVME_ERR_INVAL, the feature not
 * to be read at all).  (Found by a review helper.) */
static void features_with_a_structure_in_memory_go_only_with_it(void **state)
{
    (void)state;
    static const struct {
        uint8_t fid;
        uint32_t len;
    } feats[] = {{0x13, 512}, {0x1e, 512}, {0x7d, 4096}, {0x7e, 4096}, {0x7f, 4096}};
    static uint8_t buf[4096];
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    for (unsigned i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
        uint32_t dw0 = 0;
        uint64_t admin = st->admin_cmds;
        assert_int_equal(nvme_get_features(f.ctrl, feats[i].fid, 1, &dw0), NVME_ERR_INVAL);
        assert_int_equal(nvme_set_features(f.ctrl, feats[i].fid, 1, &dw0), NVME_ERR_INVAL);
        assert_int_equal(st->admin_cmds, admin);
        /* The simulator has none of them: its status is the answer. */
        int rc = nvme_get_feature(f.ctrl, feats[i].fid, 0, NVME_FEAT_SEL_CURRENT, 1, buf,
                                  feats[i].len, &dw0);
        assert_true(rc > 0);
        assert_int_equal(st->admin_cmds, admin + 1);
        assert_int_equal(nvme_get_feature(f.ctrl, feats[i].fid, 0, NVME_FEAT_SEL_CURRENT, 1, buf,
                                          feats[i].len - 4u, &dw0),
                         NVME_ERR_INVAL);
    }
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    fx_stop(&f);
}

/* Host Behavior Support at every start (a Controller Level Reset clears
 * it): LBAFEE (byte 2) where the controller reports Extended LBA Formats
 * (CTRATT.ELBAS; §5.27.1.18: without it, no format past the
 * sixteenth and no 32b/64b Guard one), ACRE (byte 0) where it reports
 * Command Retry Delays, as Linux's nvme_configure_host_options; nothing
 * where it reports neither.  One with Extended LBA Formats that refuses
 * LBAFEE (Invalid Field: it knows no byte 2) still gets ACRE, in a second
 * command with byte 2 clear (cases 4, 5; before: the refusal lost ACRE
 * too). */
static void host_behavior_enables_what_the_controller_reports(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 6; c++) {
        bool crdt = c & 1u, refused = c >= 4u, elbas = (c & 2u) || refused;
        struct fx f;
        fx_config(&f);
        f.cfg.elbas = elbas;
        f.cfg.lbafee_refused = refused;
        f.cfg.crdt[0] = crdt ? 1 : 0;
        fx_start(&f);
        for (int pass = 0; pass < 2; pass++) {
            uint8_t hbs[512];
            memset(hbs, 0xa5, sizeof(hbs));
            assert_int_equal(
                nvme_get_feature(f.ctrl, NVME_FEAT_HOST_BEHAVIOR, 0, 0, 0, hbs, 512, NULL), 0);
            assert_int_equal(hbs[0], crdt ? 1 : 0); /* ACRE */
            assert_int_equal(hbs[1], 0);            /* ETDAS: nvmectl's, for one read */
            assert_int_equal(hbs[2], elbas && !refused ? 1 : 0); /* LBAFEE */
            assert_int_equal(nvme_sim_acre(f.sim), crdt);
            if (pass == 0)
                assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
        }
        assert_true(nvme_ctrl_is_ready(f.ctrl));
        fx_stop(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(features_with_a_structure_in_memory_go_only_with_it),
        cmocka_unit_test(host_behavior_enables_what_the_controller_reports),
        cmocka_unit_test(select_current_default_saved_and_supported),
        cmocka_unit_test(every_listed_feature_reads_back),
        cmocka_unit_test(data_features_move_their_structures),
        cmocka_unit_test(timestamp_set_at_every_start_from_the_port_clock),
        cmocka_unit_test(host_identifier_moves_its_data_structure),
        cmocka_unit_test(unknown_data_feature_moves_into_a_core_page),
        cmocka_unit_test(vendor_feature_data_past_two_pages_uses_a_prp_list),
        cmocka_unit_test(dword_feature_calls_refuse_data_features),
        cmocka_unit_test(features_the_controller_lacks_are_unsupported),
        cmocka_unit_test(select_needs_save_and_select_support),
        cmocka_unit_test(logs_of_every_kind),
        cmocka_unit_test(a_log_specific_field_past_7_bits_is_refused),
        cmocka_unit_test(large_logs_are_split_by_offset),
        cmocka_unit_test(split_log_clears_its_event_with_the_last_piece),
        cmocka_unit_test(telemetry_create_captures_once_when_split),
        cmocka_unit_test(persistent_event_log_context_actions_when_split),
        cmocka_unit_test(persistent_event_log_establish_header_when_split),
        cmocka_unit_test(admin_passthru_with_a_longer_buffer_gets_the_whole_log),
        cmocka_unit_test(without_extended_data_logs_stay_within_16k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
