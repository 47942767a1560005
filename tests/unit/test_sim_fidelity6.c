/* SPDX-License-Identifier: MIT */
/*
 * The simulated controller against QEMU's hw/nvme (7.2/8.x) and the NVMe
 * 2.0 base / NVM command set specifications, round 6: the Deallocated or
 * Unwritten Logical Block error (DULBE), Device Self-test of an inactive
 * NSID, Error Recovery's saved value, and what the core sends that
 * QEMU answers otherwise.  Each case is what a real controller answers,
 * seen through the core's calls, so that the core's tests cannot pass on
 * behaviour QEMU refuses.
 */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#define DULBE (1u << 16) /* Error Recovery CDW11 bit 16 (NVMe 2.0 §5.27.1.5) */
#define SF_DULB ((int)NVME_SF(NVME_SCT_MEDIA, NVME_SC_DEALLOCATED_BLOCK))
#define SF_DNR(sct, sc) ((int)(NVME_SF((sct), (sc)) | NVME_SF_DNR_BIT))

static void set_dulbe(struct fx *f, uint32_t nsid, bool on)
{
    assert_int_equal(nvme_set_feature(f->ctrl, NVME_FEAT_ERROR_RECOVERY, nsid, on ? DULBE : 0, 0,
                                      false, NULL, 0, NULL),
                     0);
}

/* NSFEAT bit 2 (DAE) says the controller has the Deallocated or
 * Unwritten Logical Block error: with DULBE set (Set Features 05h, bit
 * 16), a Read, Compare, Verify or Copy source touching a block never
 * written completes with SCT 2h / SC 87h (DNR clear), as QEMU's
 * nvme_read, nvme_compare, nvme_verify and nvme_copy (nvme_check_dulbe);
 * with it clear the block reads as zeros.  Before, the simulator set DAE
 * and took DULBE, and every unwritten block read as zeros. */
static void dulbe_fails_reads_of_unwritten_blocks(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *id = fx_xalloc(4096), *b = fx_xalloc(4096), *r = fx_xalloc(4096);
    uint8_t *z = fx_xalloc(4096);
    assert_int_equal(nvme_identify(f.ctrl, NVME_CNS_NS, 1, id), 0);
    assert_int_equal(id[24] & 0x4, 0x4); /* NSFEAT DAE */
    fx_pattern(b, 4096, 6);
    assert_int_equal(nvme_write(f.ctrl, 1, 8, 8, b), 0);
    memset(r, 0xa5, 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, r), 0); /* DULBE clear: zeros */
    assert_memory_equal(r, z, 4096);
    set_dulbe(&f, 1, true);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, r), SF_DULB);
    assert_int_equal(nvme_read(f.ctrl, 1, 4, 8, r), SF_DULB); /* half written */
    assert_int_equal(nvme_read(f.ctrl, 1, 16, 1, r), SF_DULB);
    assert_int_equal(nvme_read(f.ctrl, 1, 8, 8, r), 0);
    assert_memory_equal(r, b, 4096);
    assert_int_equal(nvme_compare(f.ctrl, 1, 0, 8, z), SF_DULB);
    assert_int_equal(nvme_compare(f.ctrl, 1, 8, 8, b), 0);
    assert_int_equal(nvme_verify(f.ctrl, 1, 4, 8, 0), SF_DULB);
    assert_int_equal(nvme_verify(f.ctrl, 1, 8, 8, 0), 0);
    struct nvme_copy_src src = {.lba = 0, .count = 8};
    assert_int_equal(nvme_copy(f.ctrl, 1, 100, &src, 1, 0), SF_DULB);
    src.lba = 8;
    assert_int_equal(nvme_copy(f.ctrl, 1, 100, &src, 1, 0), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 100, 8, r), 0); /* the copy wrote them */
    assert_memory_equal(r, b, 4096);
    set_dulbe(&f, 1, false);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, r), 0);
    assert_memory_equal(r, z, 4096);
    free(id), free(b), free(r), free(z);
    fx_stop(&f);
}

/* What deallocates: Dataset Management with AD, Write Zeroes with DEAC
 * (QEMU: BDRV_REQ_MAY_UNMAP) and Format NVM; Write Zeroes without DEAC
 * writes zeros, and a write makes a deallocated block readable again.
 * Before, all of these read as zeros with DULBE set. */
static void deallocated_blocks_fail_until_written(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    const size_t len = 256u * 512u; /* two 64 KiB chunks of the model */
    uint8_t *b = fx_xalloc(len), *r = fx_xalloc(len), *z = fx_xalloc(len);
    fx_pattern(b, len, 9);
    for (uint64_t lba = 0; lba < 256; lba += 64)
        assert_int_equal(nvme_write(f.ctrl, 1, lba, 64, b + lba * 512u), 0);
    set_dulbe(&f, 1, true);
    assert_int_equal(nvme_deallocate(f.ctrl, 1, 0, 4), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 4, r), SF_DULB);
    assert_int_equal(nvme_read(f.ctrl, 1, 4, 4, r), 0);
    assert_memory_equal(r, b + 4 * 512, 4 * 512);
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 8, 4, 0), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 8, 4, r), 0);
    assert_memory_equal(r, z, 4 * 512);
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 12, 4, NVME_IO_DEALLOCATE), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 12, 1, r), SF_DULB);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 4, b), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 4, r), 0);
    assert_memory_equal(r, b, 4 * 512);
    /* A whole chunk and more deallocated: unwritten, then zeros. */
    assert_int_equal(nvme_deallocate(f.ctrl, 1, 64, 192), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 255, 1, r), SF_DULB);
    assert_int_equal(nvme_read(f.ctrl, 1, 60, 4, r), 0);
    struct nvme_format_args a = {.nsid = 1};
    assert_int_equal(nvme_format(f.ctrl, &a, NVME_CONFIRM_DESTROY), 0);
    assert_int_equal(nvme_read(f.ctrl, 1, 60, 4, r), SF_DULB);
    set_dulbe(&f, 1, false);
    memset(r, 0xa5, len);
    assert_int_equal(nvme_read(f.ctrl, 1, 64, 192, r), 0);
    assert_memory_equal(r, z, 192 * 512);
    free(b), free(r), free(z);
    fx_stop(&f);
}

/* Device Self-test (admin 14h) naming an NSID in 1..NN that no namespace
 * has: Invalid Field in Command; above NN, Invalid Namespace or Format
 * (NVMe 2.0 §5.9, Figure 170: "inactive" and "invalid" apart, as §3.2.1.5
 * for every command).  QEMU 8.x has no Device Self-test (OACS bit 4
 * clear).  Before, the simulator answered Invalid Namespace or Format for
 * both, so a host that tested an inactive namespace saw another status
 * here than on a conforming drive. */
static void self_test_of_an_inactive_nsid_is_invalid_field(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    nvme_sim_set_nn(f.sim, 8); /* namespace 1 of 8: 3 is inactive */
    struct nvme_sqe dst = {0};
    dst.opc = NVME_ADMIN_DEVICE_SELF_TEST;
    dst.cdw10 = NVME_DST_SHORT;
    dst.nsid = 3;
    assert_int_equal(nvme_admin_passthru(f.ctrl, &dst, NULL, 0, NVME_DMA_TO_DEVICE, NULL),
                     SF_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD));
    dst.nsid = 9;
    assert_int_equal(nvme_admin_passthru(f.ctrl, &dst, NULL, 0, NVME_DMA_TO_DEVICE, NULL),
                     SF_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_NS));
    dst.nsid = 1;
    assert_int_equal(nvme_admin_passthru(f.ctrl, &dst, NULL, 0, NVME_DMA_TO_DEVICE, NULL), 0);
    fx_stop(&f);
}

static uint32_t err_rec(struct fx *f, uint32_t nsid, unsigned sel)
{
    uint32_t dw0 = 0xdeadbeefu;
    assert_int_equal(
        nvme_get_feature(f->ctrl, NVME_FEAT_ERROR_RECOVERY, nsid, sel, 0, NULL, 0, &dw0), 0);
    return dw0;
}

/* Error Recovery is namespace specific (NVMe 2.0 §5.27.1), so
 * is what Set Features with SV saves: Get Features SEL 010b and a
 * controller reset give each namespace its own saved value (0 for one
 * never saved); FFFFFFFFh saves for every namespace.  (QEMU 8.x saves no
 * feature: SV is Feature Identifier Not Saveable there; the simulator
 * keeps saving with ONCS bit 4.)  Before, one saved value for the
 * controller, which a reset gave every namespace. */
static void error_recovery_is_saved_per_namespace(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 8192, .lba_size = 512};
    f.cfg.ns_count = 2;
    fx_start(&f);
    const unsigned saved = NVME_FEAT_SEL_SAVED;
    assert_int_equal(
        nvme_set_feature(f.ctrl, NVME_FEAT_ERROR_RECOVERY, 1, DULBE | 10u, 0, true, NULL, 0, NULL),
        0);
    assert_int_equal(
        nvme_set_feature(f.ctrl, NVME_FEAT_ERROR_RECOVERY, 2, 30u, 0, false, NULL, 0, NULL), 0);
    assert_int_equal(err_rec(&f, 1, saved), DULBE | 10u);
    assert_int_equal(err_rec(&f, 2, saved), 0);
    assert_int_equal(err_rec(&f, 2, NVME_FEAT_SEL_CURRENT), 30u);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(err_rec(&f, 1, NVME_FEAT_SEL_CURRENT), DULBE | 10u);
    assert_int_equal(err_rec(&f, 2, NVME_FEAT_SEL_CURRENT), 0);
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_ERROR_RECOVERY, NVME_NSID_ALL, 20u, 0, true,
                                      NULL, 0, NULL),
                     0);
    assert_int_equal(
        nvme_set_feature(f.ctrl, NVME_FEAT_ERROR_RECOVERY, 1, 5u, 0, false, NULL, 0, NULL), 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(err_rec(&f, 1, NVME_FEAT_SEL_CURRENT), 20u);
    assert_int_equal(err_rec(&f, 2, saved), 20u);
    fx_stop(&f);
}

/* QEMU 7.2/8.x marks Arbitration, Power Management, Interrupt
 * Coalescing and Interrupt Vector Configuration not changeable and no
 * feature saveable (nvme_feature_cap): Set Features of those is Feature
 * Not Changeable (SCT 1h, SC 0Eh), SV anywhere Feature Identifier Not
 * Saveable (0Dh), SEL 011b says so.  cfg.qemu_feature_caps models it, so
 * that the core's Interrupt Coalescing at bring-up meets QEMU's answer
 * here: bring-up goes on with a warning.  Before, the simulator took
 * every Set Features, and the core's path for QEMU's refusal was never
 * run. */
static void qemu_feature_caps_refuse_fixed_features(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.qemu_feature_caps = true;
    f.cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    f.opts.irq_coalesce_time = 2;
    f.opts.irq_coalesce_thr = 7;
    fx_start_captured(&f);
    assert_true(fx_log_has(&f, "interrupt coalescing not set"));
    assert_int_equal(nvme_sim_feature(f.sim, NVME_FEAT_IRQ_COALESCE), 0);
    const int not_changeable = SF_DNR(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_FEAT_NOT_CHANGEABLE);
    static const uint8_t fixed[] = {NVME_FEAT_ARBITRATION, NVME_FEAT_POWER_MGMT,
                                    NVME_FEAT_IRQ_COALESCE, NVME_FEAT_IRQ_CONFIG};
    for (size_t i = 0; i < sizeof(fixed); i++) {
        assert_int_equal(nvme_set_features(f.ctrl, fixed[i], 0, NULL), not_changeable);
        uint32_t dw0 = 0xdeadbeefu;
        assert_int_equal(
            nvme_get_feature(f.ctrl, fixed[i], 0, NVME_FEAT_SEL_SUPPORTED, 0, NULL, 0, &dw0), 0);
        assert_int_equal(dw0, 0);
    }
    uint32_t dw0 = 0;
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_TEMP_THRESH, 0, NVME_FEAT_SEL_SUPPORTED, 0,
                                      NULL, 0, &dw0),
                     0);
    assert_int_equal(dw0, NVME_FEAT_CAP_CHANGEABLE);
    assert_int_equal(
        nvme_set_feature(f.ctrl, NVME_FEAT_TEMP_THRESH, 0, 350, 0, true, NULL, 0, NULL),
        SF_DNR(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_FEAT_NOT_SAVEABLE));
    assert_int_equal(nvme_set_features(f.ctrl, NVME_FEAT_TEMP_THRESH, 350, NULL), 0);
    uint8_t *b = fx_xalloc(4096);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 8, b), 0);
    free(b);
    fx_stop(&f);
}

/* Set Features with SV of a feature that is not saveable: Feature
 * Identifier Not Saveable (SCT 1h, SC 0Dh) before the other checks, as
 * QEMU's nvme_set_feature tests SV first: Arbitration with SV under
 * QEMU's capabilities, and Number of Queues (never saveable) for one
 * namespace.  Before, the simulator answered Feature Not Changeable and
 * Feature Not Namespace Specific for them. */
static void sv_of_a_feature_not_saveable_is_checked_first(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    const int not_saveable = SF_DNR(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_FEAT_NOT_SAVEABLE);
    struct nvme_sqe setf = {0};
    setf.opc = NVME_ADMIN_SET_FEATURES;
    setf.nsid = 1;
    setf.cdw10 = NVME_FEAT_NUM_QUEUES | NVME_FEAT_SV;
    setf.cdw11 = 0;
    assert_int_equal(nvme_admin_passthru(f.ctrl, &setf, NULL, 0, NVME_DMA_TO_DEVICE, NULL),
                     not_saveable);
    fx_stop(&f);
    fx_config(&f);
    f.cfg.qemu_feature_caps = true;
    fx_start(&f);
    assert_int_equal(nvme_set_feature(f.ctrl, NVME_FEAT_ARBITRATION, 0, 3, 0, true, NULL, 0, NULL),
                     not_saveable);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dulbe_fails_reads_of_unwritten_blocks),
        cmocka_unit_test(deallocated_blocks_fail_until_written),
        cmocka_unit_test(self_test_of_an_inactive_nsid_is_invalid_field),
        cmocka_unit_test(error_recovery_is_saved_per_namespace),
        cmocka_unit_test(qemu_feature_caps_refuse_fixed_features),
        cmocka_unit_test(sv_of_a_feature_not_saveable_is_checked_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
