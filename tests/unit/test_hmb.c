/* SPDX-License-Identifier: MIT */
/* Host Memory Buffer (NVMe 2.0 §8, Set Features 0Dh): a controller
 * without DRAM asks for host memory (Identify HMPRE, HMMIN, HMMINDS,
 * HMMAXD).  The simulator checks the descriptor list, stamps each piece,
 * touches one at every I/O command while enabled, checks the stamps when
 * a reset returns the buffer (MR), and counts any access to memory the
 * core freed (dma_after_return, asserted by fx_stop). */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#define MIB (1024u * 1024u)

static void config(struct fx *f, uint32_t hmpre_mib, uint32_t hmmin_mib)
{
    fx_config(f);
    f->cfg.hmpre = hmpre_mib * 256u; /* 4 KiB units */
    f->cfg.hmmin = hmmin_mib * 256u;
}

static void io(struct fx *f, unsigned n)
{
    uint8_t *b = fx_xalloc(4096);
    for (unsigned i = 0; i < n; i++) {
        fx_pattern(b, 4096, i);
        assert_int_equal(nvme_write(f->ctrl, 1, (uint64_t)i * 8u, 8, b), 0);
        assert_int_equal(nvme_read(f->ctrl, 1, (uint64_t)i * 8u, 8, b), 0);
    }
    free(b);
}

/* Taken at bring-up, used during I/O, taken back before the shutdown,
 * freed after: no device access to freed memory. */
static void a_controller_that_asks_gets_its_host_memory_buffer(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 8, 2);
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_enables, 1);
    assert_int_equal(st->hmb_returns, 0);
    assert_int_equal(st->hmb_bytes, 8u * MIB);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 8192);
    static struct fx_out out;
    assert_int_equal(fx_nvmectl(&f, &out, "info"), 0);
    assert_non_null(strstr(out.text, "host memory buf : 8192 KiB"));
    io(&f, 8);
    assert_true(st->hmb_touches >= 16);
    /* Get Features 0Dh: EHM in Dword 0, the attributes (HSIZE in pages,
     * the descriptor count) in its 4096 bytes. */
    uint32_t *attr = (uint32_t *)(void *)fx_xalloc(4096), dw0 = 0;
    assert_int_equal(nvme_get_feature(f.ctrl, NVME_FEAT_HOST_MEM_BUF, 0, NVME_FEAT_SEL_CURRENT, 0,
                                      attr, 4096, &dw0),
                     0);
    assert_int_equal(dw0 & NVME_HMB_EHM, NVME_HMB_EHM);
    assert_int_equal(attr[0], 2048);
    assert_int_equal(attr[3], 4); /* 2 MiB pieces */
    free(attr);
    /* The core's alone: Set Features 0Dh refused, plain or raw. */
    assert_int_equal(
        nvme_set_feature(f.ctrl, NVME_FEAT_HOST_MEM_BUF, 0, 0, 0, false, NULL, 0, NULL),
        NVME_ERR_INVAL);
    struct nvme_sqe sqe;
    memset(&sqe, 0, sizeof(sqe));
    sqe.opc = NVME_ADMIN_SET_FEATURES;
    sqe.cdw10 = NVME_FEAT_HOST_MEM_BUF;
    assert_int_equal(nvme_admin_passthru(f.ctrl, &sqe, NULL, 0, NVME_DMA_TO_DEVICE, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(st->hmb_bytes, 8u * MIB);
    /* fini: EHM cleared before the shutdown (hmb_bytes 0 with no
     * controller reset: the shutdown alone ends the controller's work),
     * then freed. */
    uint64_t touches = st->hmb_touches, resets = st->resets;
    assert_int_equal(nvme_ctrl_fini(f.ctrl), 0);
    f.ctrl = NULL;
    assert_int_equal(st->hmb_bytes, 0);
    assert_int_equal(st->resets, resets);
    assert_int_equal(st->shutdowns, 1);
    assert_int_equal(st->hmb_touches, touches);
    fx_stop(&f);
}

/* A reset ends the controller's use; the restart gives the same pieces
 * back with MR, their contents kept (the stamps the device left). */
static void a_reset_returns_the_same_buffer_with_mr(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 4, 0);
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    io(&f, 4);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
        io(&f, 4);
    }
    assert_int_equal(st->hmb_enables, 4);
    assert_int_equal(st->hmb_returns, 3);
    assert_int_equal(st->hmb_lost, 0);
    assert_int_equal(st->hmb_bytes, 4u * MIB);
    /* Removed and added again (power cycled): the buffer is given anew,
     * MR clear, not returned as if the device had kept its contents. */
    uint8_t *b = fx_xalloc(4096);
    nvme_sim_set_gone(f.sim, true);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, b), NVME_ERR_GONE);
    free(b);
    nvme_sim_set_gone(f.sim, false);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    io(&f, 2);
    assert_int_equal(st->hmb_enables, 5);
    assert_int_equal(st->hmb_returns, 3);
    assert_int_equal(st->hmb_lost, 0);
    fx_stop(&f);
}

/* The cap (128 MiB, or host_memory_max_mib), HMMIN above it (none given),
 * no_host_memory, and chunks halved while DMA memory that large is not
 * to be had, within HMMAXD pieces. */
static void the_buffer_follows_the_cap_hmmin_and_the_memory_there_is(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 64, 8);
    f.opts.host_memory_max_mib = 16;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 16u * MIB);
    fx_stop(&f);

    config(&f, 64, 32);
    f.opts.host_memory_max_mib = 16; /* below what the controller needs */
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_enables, 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 0);
    io(&f, 2);
    fx_stop(&f);

    config(&f, 8, 0);
    f.opts.no_host_memory = true;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_enables, 0);
    fx_stop(&f);

    /* Review: a cap that is not a multiple of the 2 MiB pieces is a cap
     * all the same (4 MiB were given for 3), and HMPRE is not exceeded. */
    config(&f, 64, 0);
    f.opts.host_memory_max_mib = 3;
    fx_start(&f);
    assert_true(nvme_sim_stats(f.sim)->hmb_bytes != 0);
    assert_true(nvme_sim_stats(f.sim)->hmb_bytes <= 3u * MIB);
    fx_stop(&f);
    config(&f, 0, 0);
    f.cfg.hmpre = 768; /* 3 MiB */
    f.cfg.hmmin = 768;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 3u * MIB); /* 1 MiB pieces */
    io(&f, 2);
    fx_stop(&f);

    /* Pieces of at most 512 KiB to be had, at most 4 of them: 2 MiB. */
    config(&f, 8, 1);
    f.cfg.dma_alloc_max = 512u * 1024u;
    f.cfg.hmmaxd = 4;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 2u * MIB);
    io(&f, 2);
    fx_stop(&f);

    /* ... and HMMIN above what such pieces make: none, I/O still works. */
    config(&f, 8, 4);
    f.cfg.dma_alloc_max = 512u * 1024u;
    f.cfg.hmmaxd = 4;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_enables, 0);
    io(&f, 2);
    fx_stop(&f);
}

/* HMPRE need not be a multiple of the pieces (4 KiB units, NVMe 2.0
 * Identify HMPRE/HMMIN): the last piece is smaller, as Linux's
 * nvme_alloc_host_mem_multi cuts it.  A controller that needs all of a
 * 2 MiB + 4 KiB buffer (HMMIN = HMPRE), or 100 KiB in at most 4 pieces
 * (HMMAXD), was given none. */
static void an_hmpre_that_is_no_multiple_of_the_pieces_is_given_whole(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 0, 0);
    f.cfg.hmpre = 513; /* 2 MiB + 4 KiB */
    f.cfg.hmmin = 513;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_bytes, 2u * MIB + 4096u);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 2048 + 4);
    io(&f, 2);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0); /* given back with MR, same pieces */
    assert_int_equal(st->hmb_returns, 1);
    assert_int_equal(st->hmb_bytes, 2u * MIB + 4096u);
    io(&f, 2);
    fx_stop(&f);

    /* 8 KiB memory pages (HSIZE, BSIZE in pages): a page more than HMPRE
     * rather than less than HMMIN. */
    config(&f, 0, 0);
    f.cfg.hmpre = 513;
    f.cfg.hmmin = 513;
    f.cfg.mpsmin = 1;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 2u * MIB + 8192u);
    io(&f, 2);
    fx_stop(&f);

    config(&f, 0, 0);
    f.cfg.hmpre = 25; /* 100 KiB */
    f.cfg.hmmin = 25;
    f.cfg.hmmaxd = 4;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 100u * 1024u);
    io(&f, 2);
    fx_stop(&f);
}

/* HMMINDS (4 KiB units) may ask for pieces above the 2 MiB the core
 * starts with: then the pieces are that large (Linux starts at 4 MiB,
 * MAX_ORDER, and never goes below HMMINDS).  A controller wanting 16 MiB
 * in pieces of at least 4 MiB was given none. */
static void an_hmminds_above_2_mib_gets_pieces_that_large(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 16, 4);
    f.cfg.hmminds = 1024; /* 4 MiB */
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 16u * MIB);
    io(&f, 2);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 16u * MIB);
    fx_stop(&f);
}

/* HMMINDS that does not divide HMPRE: cut in pieces of the chunk size, the
 * last one would be below HMMINDS (no usable piece, Identify Controller)
 * and the buffer below HMMIN.  What is left below a piece goes with the
 * piece before it (5 MiB as 2 + 3 MiB), within HMPRE (before: no buffer at
 * all; Linux gives one, its last piece below HMMINDS). */
static void a_rest_below_hmminds_goes_with_the_piece_before_it(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 5, 5);
    f.cfg.hmminds = 512; /* 2 MiB */
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_enables, 1);
    assert_int_equal(st->hmb_bytes, 5u * MIB);
    io(&f, 2);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0); /* given back with MR, same pieces */
    assert_int_equal(st->hmb_returns, 1);
    assert_int_equal(st->hmb_bytes, 5u * MIB);
    io(&f, 2);
    fx_stop(&f);

    /* 2 MiB + 4 KiB in pieces of at least 12 KiB: 2 MiB - 8 KiB and
     * 12 KiB (a piece of 4 KiB is below HMMINDS). */
    config(&f, 0, 0);
    f.cfg.hmpre = 513;
    f.cfg.hmmin = 513;
    f.cfg.hmminds = 3;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 2u * MIB + 4096u);
    io(&f, 2);
    fx_stop(&f);
}

/* Review: a rest below HMMINDS grown into the piece before it makes a
 * piece larger than the chunk, which an allocator that gives no more
 * than the chunk refuses, at every size tried.  5220 KiB (HMMIN too) in
 * pieces of at least 1448 KiB, DMA memory in at most 2 MiB: 2048 + 3172
 * KiB, then 1448 x 2 + 2324 KiB could not be had, so no buffer at all;
 * 2048 + 1724 + 1448 KiB can.  The rest takes from the piece before it
 * what makes it a piece when that one stays one. */
static void a_rest_below_hmminds_takes_from_the_piece_before_it(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 0, 0);
    f.cfg.hmpre = 1305; /* 5220 KiB */
    f.cfg.hmmin = 1305;
    f.cfg.hmminds = 362; /* 1448 KiB */
    f.cfg.dma_alloc_max = 2u * MIB;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_enables, 1);
    assert_int_equal(st->hmb_bytes, 1305u * 4096u);
    io(&f, 2);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0); /* given back with MR, same pieces */
    assert_int_equal(st->hmb_returns, 1);
    assert_int_equal(st->hmb_bytes, 1305u * 4096u);
    io(&f, 2);
    fx_stop(&f);
}

/* HMMAXD (most descriptors) times 2 MiB below HMMIN: the pieces grow so
 * that HMMAXD of them hold the buffer, as HMMINDS makes them grow (Linux
 * starts at 4 MiB pieces).  A controller needing 8 MiB in at most 2
 * pieces, or 16 MiB in one, was given none. */
static void an_hmmaxd_too_few_for_2_mib_pieces_gets_larger_ones(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 8, 8);
    f.cfg.hmmaxd = 2;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_enables, 1);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 8u * MIB);
    io(&f, 2);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 8u * MIB);
    fx_stop(&f);

    config(&f, 16, 16);
    f.cfg.hmmaxd = 1;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 16u * MIB);
    io(&f, 2);
    fx_stop(&f);

    /* HMPRE above what HMMAXD pieces of that size hold: HMMIN is met. */
    config(&f, 64, 12);
    f.cfg.hmmaxd = 3;
    fx_start(&f);
    assert_true(nvme_sim_stats(f.sim)->hmb_bytes >= 12u * MIB);
    assert_true(nvme_sim_stats(f.sim)->hmb_bytes <= 64u * MIB);
    io(&f, 2);
    fx_stop(&f);
}

/* Review: pieces grown for HMMAXD (36 MiB in at most 12: 3 MiB each)
 * that cannot be had were halved to 1.5 MiB, 12 of which (18 MiB) are
 * below HMMIN (20 MiB), and so on down: no buffer at all, although the
 * memory was there in the 2 MiB pieces the core otherwise uses (24 MiB),
 * or in pieces just large enough that 12 make HMMIN.  The sizes tried
 * after a failure include both, and HMMINDS itself. */
static void grown_pieces_not_to_be_had_fall_back_to_ones_that_still_make_hmmin(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 36, 20);
    f.cfg.hmmaxd = 12;
    f.cfg.dma_alloc_max = 2u * MIB;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_enables, 1);
    assert_int_equal(st->hmb_bytes, 24u * MIB); /* 12 pieces of 2 MiB */
    io(&f, 2);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0); /* given back with MR, same pieces */
    assert_int_equal(st->hmb_returns, 1);
    assert_int_equal(st->hmb_bytes, 24u * MIB);
    io(&f, 2);
    fx_stop(&f);

    /* Not even 2 MiB to be had, 1 MiB pieces too few: the smallest piece
     * of which 12 make HMMIN (20 MiB / 12, in whole pages). */
    config(&f, 36, 20);
    f.cfg.hmmaxd = 12;
    f.cfg.dma_alloc_max = 1792u * 1024u;
    fx_start(&f);
    st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_enables, 1);
    assert_true(st->hmb_bytes >= 20u * MIB);
    assert_true(st->hmb_bytes <= 12u * 1792u * 1024u);
    io(&f, 2);
    fx_stop(&f);

    /* Pieces of HMMINDS itself (1.125 MiB) when the memory is there in
     * no size the halving meets (2 MiB refused, 1 MiB below HMMINDS). */
    config(&f, 8, 1);
    f.cfg.hmminds = 288;
    f.cfg.hmmaxd = 4;
    f.cfg.dma_alloc_max = 1536u * 1024u;
    fx_start(&f);
    st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_enables, 1);
    assert_int_equal(st->hmb_bytes, 4u * MIB + MIB / 2u);
    io(&f, 2);
    fx_stop(&f);
}

/* Review: a firmware activated by a reset may ask for another buffer
 * (Identify HMPRE/HMMIN/HMMINDS/HMMAXD).  The core returned the old one
 * (MR) at every start: one below the new HMMIN was refused (Invalid
 * Field) and the controller ran without any until the next bring-up,
 * where Linux allocates again at the reset.  Now a buffer the new fields
 * no longer take is freed (the reset took it back) and had again, given
 * with MR clear; one they still take is returned; none when HMPRE is 0.
 * An activation without a reset leaves the controller the buffer it holds
 * until the next reset. */
static void a_new_firmware_that_wants_another_buffer_gets_it_at_the_reset(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 4, 2);
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_bytes, 4u * MIB);
    io(&f, 2);
    /* HMMIN 8 MiB (HMPRE 16 MiB), activated without a reset: the
     * controller keeps the buffer it holds (used at every I/O command,
     * none of it freed) until a reset takes it back. */
    nvme_sim_set_hmb(f.sim, 16u * 256u, 8u * 256u, 0, 0);
    uint8_t img[4096];
    memset(img, 0x5a, sizeof(img));
    memcpy(img, "FW2.0.00", 8);
    assert_int_equal(nvme_fw_download(f.ctrl, 0, img, sizeof(img)), 0);
    assert_int_equal(nvme_fw_commit(f.ctrl, 2, NVME_FW_CA_ACTIVATE_NOW, false, NULL), 0);
    assert_string_equal(nvme_ctrl_get_info(f.ctrl)->firmware, "FW2.0.00");
    uint64_t touches = st->hmb_touches;
    io(&f, 2);
    assert_true(st->hmb_touches > touches);
    assert_int_equal(st->hmb_enables, 1);
    assert_int_equal(st->hmb_bytes, 4u * MIB);
    /* The reset: a new buffer, MR clear. */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->hmb_enables, 2);
    assert_int_equal(st->hmb_returns, 0);
    assert_int_equal(st->hmb_bytes, 16u * MIB);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 16u * 1024u);
    io(&f, 2);
    /* Fields the buffer still meets (HMMIN lower): returned as it is. */
    nvme_sim_set_hmb(f.sim, 16u * 256u, 1u * 256u, 0, 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->hmb_enables, 3);
    assert_int_equal(st->hmb_returns, 1);
    assert_int_equal(st->hmb_lost, 0);
    assert_int_equal(st->hmb_bytes, 16u * MIB);
    /* At most 2 pieces of at least 4 MiB (HMMAXD, HMMINDS): again. */
    nvme_sim_set_hmb(f.sim, 16u * 256u, 8u * 256u, 1024u, 2);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->hmb_enables, 4);
    assert_int_equal(st->hmb_returns, 1);
    assert_int_equal(st->hmb_bytes, 16u * MIB);
    io(&f, 2);
    /* None wanted any more: none given, the memory freed. */
    nvme_sim_set_hmb(f.sim, 0, 0, 0, 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->hmb_enables, 4);
    assert_int_equal(st->hmb_bytes, 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 0);
    io(&f, 2);
    fx_stop(&f); /* no device access to freed memory, nothing leaked */
}

/* The descriptor list is memory the device can write (untrusted, as all
 * it hands back): a device that rewrites BSIZE there must not decide the
 * size the pieces are freed with (dma_free of another size than
 * dma_alloc's is a host error in the simulator; on a port, a wrong free). */
static void pieces_are_freed_with_the_sizes_they_were_had_with(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 0, 0);
    f.cfg.hmpre = 513; /* 2 MiB + 4 KiB: a smaller last piece */
    f.cfg.hmmin = 513;
    f.cfg.hmb_list_scribble = true;
    fx_start(&f);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 2u * MIB + 4096u);
    io(&f, 2);
    fx_stop(&f); /* host_errors == 0 */
}

/* The same device across a reset: the buffer is given back (MR=1) with
 * the list the core keeps, not the one the device rewrote, so HSIZE
 * matches the pieces and the controller keeps its buffer (before: the
 * doubled BSIZEs sent back, refused Invalid Field, the controller ran on
 * without it; one that took them would have been told of memory twice the
 * size the host gave). */
static void a_list_the_device_rewrote_is_written_again_before_a_reset_returns_it(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 0, 0);
    f.cfg.hmpre = 513;
    f.cfg.hmmin = 513;
    f.cfg.hmb_list_scribble = true;
    fx_start(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_bytes, 2u * MIB + 4096u);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
        assert_int_equal(st->hmb_enables, 2u + (unsigned)i);
        assert_int_equal(st->hmb_returns, 1u + (unsigned)i);
        assert_int_equal(st->hmb_bytes, 2u * MIB + 4096u);
        assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 2u * 1024u + 4u);
        io(&f, 2);
    }
    fx_stop(&f); /* host_errors == 0: pieces returned in place, freed with their sizes */
}

/* A controller that refuses the buffer runs without it; one that does not
 * answer the take-back at fini is stopped before the memory is freed. */
static void refusals_leave_the_memory_safe(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 4, 0);
    f.sim = nvme_sim_create(&f.cfg);
    assert_non_null(f.sim);
    nvme_sim_log_capture(f.sim, true);
    /* Set Features calls of bring-up: Number of Queues, then the
     * features of nvme_ctrl_start_queues: Asynchronous Event
     * Configuration, then the Host Memory Buffer. */
    struct nvme_sim_fault flt = {NVME_SIM_FAULT_STATUS,
                                 0,
                                 NVME_ADMIN_SET_FEATURES,
                                 NVME_SIM_ANY,
                                 NVME_SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT,
                                 2,
                                 1};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    nvme_sim_osal(f.sim, &f.osal);
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_true(fx_log_has(&f, "Host Memory Buffer refused"));
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_enables, 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 0);
    io(&f, 2);
    fx_stop(&f);

    config(&f, 4, 0);
    fx_start(&f);
    io(&f, 2);
    /* The take-back at fini fails: the controller is stopped (CC.EN 0)
     * before the pieces are freed, so it never touches them after. */
    fx_inject(&f, NVME_SIM_FAULT_STATUS, 0, NVME_ADMIN_SET_FEATURES,
              NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL) | NVME_SF_DNR_BIT, 1);
    uint64_t resets = nvme_sim_stats(f.sim)->resets;
    assert_int_equal(nvme_ctrl_fini(f.ctrl), 0);
    f.ctrl = NULL;
    assert_int_equal(nvme_sim_stats(f.sim)->resets, resets + 1);
    fx_stop(&f);
}

/* Review: the Host Memory Buffer's Set Features is lost (no completion)
 * during the features phase of a start: its wait stops the controller
 * (nvme_wait_raw_check).  That start must fail (a reset tries again), not
 * pass for one that left the controller stopped, refusing all I/O with
 * NVME_ERR_STATE for ever while nvme_ctrl_service() says all is well. */
static void a_lost_hmb_set_features_at_a_start_does_not_leave_it_stopped(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 4, 0);
    f.opts.admin_timeout_ms = 1000;
    fx_start_captured(&f);
    io(&f, 2);
    /* The restart's Set Features: Number of Queues, Asynchronous Event
     * Configuration, then the Host Memory Buffer (skip 2). */
    struct nvme_sim_fault flt = {
        NVME_SIM_FAULT_DROP_CQE, 0, NVME_ADMIN_SET_FEATURES, NVME_SIM_ANY, 0, 2, 1};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    nvme_sim_advance(f.sim, 1000000);
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0);
    io(&f, 2); /* was NVME_ERR_STATE for ever */
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_bytes, 4u * MIB);
    fx_stop(&f);

    /* The same at bring-up: the init fails (nothing leaked, fx_stop's
     * checks) rather than handing back a stopped controller. */
    config(&f, 4, 0);
    f.opts.admin_timeout_ms = 1000;
    f.sim = nvme_sim_create(&f.cfg);
    assert_non_null(f.sim);
    nvme_sim_log_capture(f.sim, true);
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    nvme_sim_osal(f.sim, &f.osal);
    int rc = nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts);
    if (rc == NVME_OK)
        io(&f, 2);
    fx_stop(&f);
}

/* DMA blocks live with a buffer of `mib` MiB in 2 MiB pieces given (or,
 * `given` false, with none): from a bring-up of the same configuration. */
static size_t live_with(uint32_t mib, bool given)
{
    struct fx f;
    config(&f, mib, 0);
    f.opts.no_host_memory = !given;
    fx_start(&f);
    size_t live = nvme_sim_dma_live(f.sim);
    fx_stop(&f);
    return live;
}

/* Review: a buffer the controller refuses (Set Features 0Dh with EHM
 * completed with a status: not enabled, NVMe 2.0 §5.27.1.10) is memory
 * it cannot own; as Linux's nvme_setup_host_mem (nvme_free_host_mem when
 * nvme_set_host_mem fails) it goes back to the port at once, and the
 * next restart has one again and gives it, MR clear.  Before: kept (up
 * to 128 MiB) until the controller was stopped. */
static void a_refused_buffer_is_freed_at_once_and_had_again_at_the_next_reset(void **state)
{
    (void)state;
    size_t none = live_with(4, false), with = live_with(4, true);
    assert_int_equal(with, none + 3u); /* 2 pieces and the descriptor list */
    struct fx f;
    config(&f, 4, 0);
    fx_create(&f);
    nvme_sim_log_capture(f.sim, true);
    nvme_sim_refuse_set_feature(f.sim, NVME_FEAT_HOST_MEM_BUF,
                                NVME_SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT);
    assert_int_equal(fx_init(&f), 0);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_true(fx_log_has(&f, "Host Memory Buffer refused"));
    assert_int_equal(st->hmb_enables, 0);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), none); /* was none + 3 */
    io(&f, 2);
    /* Refused again at a reset: freed again, nothing had twice. */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->hmb_enables, 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), none);
    /* Command Sequence Error says a buffer is enabled already (§5.27.1.10):
     * one the device may own is kept. */
    nvme_sim_refuse_set_feature(f.sim, NVME_FEAT_HOST_MEM_BUF,
                                NVME_SF(NVME_SCT_GENERIC, NVME_SC_CMD_SEQ_ERROR));
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->hmb_enables, 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), with);
    /* Taken at the next one, MR clear (never taken before). */
    nvme_sim_refuse_set_feature(f.sim, NVME_FEAT_HOST_MEM_BUF, 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->hmb_enables, 1);
    assert_int_equal(st->hmb_returns, 0);
    assert_int_equal(st->hmb_bytes, 4u * MIB);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 4096);
    assert_int_equal(nvme_sim_dma_live(f.sim), with);
    io(&f, 2);
    fx_stop(&f); /* no device access to freed memory, nothing leaked */
}

/* Review: a controller that refuses the buffer returned with MR=1 at a
 * reset (Memory Return: "the same contents as before"; one that lost them
 * may say no).  Linux frees it (nvme_setup_host_mem) and its next reset
 * gives fresh memory, MR clear.  Before: kept, and MR=1 sent again at
 * every reset, never MR=0, so a controller that insists on fresh memory
 * never had a buffer again. */
static void a_refused_return_gives_fresh_memory_without_mr_at_the_next_reset(void **state)
{
    (void)state;
    size_t none = live_with(4, false), with = live_with(4, true);
    struct fx f;
    config(&f, 4, 0);
    fx_start_captured(&f);
    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(st->hmb_enables, 1);
    io(&f, 2);
    nvme_sim_refuse_set_feature(f.sim, NVME_FEAT_HOST_MEM_BUF,
                                NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL) | NVME_SF_DNR_BIT);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_true(fx_log_has(&f, "Host Memory Buffer refused"));
    assert_int_equal(st->hmb_enables, 1);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->hmb_kib, 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), none); /* was with */
    io(&f, 2);
    nvme_sim_refuse_set_feature(f.sim, NVME_FEAT_HOST_MEM_BUF, 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->hmb_enables, 2);
    assert_int_equal(st->hmb_returns, 0); /* was 1: MR=1 again */
    assert_int_equal(st->hmb_bytes, 4u * MIB);
    assert_int_equal(nvme_sim_dma_live(f.sim), with);
    /* That one is returned (MR) at the reset after. */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(st->hmb_enables, 3);
    assert_int_equal(st->hmb_returns, 1);
    assert_int_equal(st->hmb_lost, 0);
    io(&f, 2);
    fx_stop(&f);
}

/* Review: a controller an earlier owner left enabled (firmware, or the
 * system before a kexec) may hold that owner's queues and Host Memory
 * Buffer (§8: until CC.EN=0 ends its use; §3.1.5), memory the port may
 * hand out again.  When it does not stop (CSTS.RDY still 1 a CAP.TO after
 * CC.EN=0), bring-up gave up without cutting it off the bus (dma_stop),
 * as every other path does with a controller that will not stop.  Once
 * it stops, a new bring-up sets bus mastering again (dma_resume). */
static void a_controller_left_enabled_that_will_not_stop_is_cut_off(void **state)
{
    (void)state;
    struct fx f;
    config(&f, 4, 0);
    f.cfg.start = NVME_SIM_START_ENABLED;
    fx_create(&f);
    nvme_sim_log_capture(f.sim, true);
    nvme_sim_set_stuck(f.sim, true);
    assert_int_equal(fx_init(&f), NVME_ERR_TIMEOUT);
    assert_null(f.ctrl);
    assert_int_equal(nvme_sim_stats(f.sim)->dma_stops, 1);
    nvme_sim_set_stuck(f.sim, false);
    assert_int_equal(fx_init(&f), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->hmb_enables, 1);
    io(&f, 2);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_controller_that_asks_gets_its_host_memory_buffer),
        cmocka_unit_test(a_reset_returns_the_same_buffer_with_mr),
        cmocka_unit_test(the_buffer_follows_the_cap_hmmin_and_the_memory_there_is),
        cmocka_unit_test(an_hmpre_that_is_no_multiple_of_the_pieces_is_given_whole),
        cmocka_unit_test(an_hmminds_above_2_mib_gets_pieces_that_large),
        cmocka_unit_test(a_rest_below_hmminds_goes_with_the_piece_before_it),
        cmocka_unit_test(a_rest_below_hmminds_takes_from_the_piece_before_it),
        cmocka_unit_test(an_hmmaxd_too_few_for_2_mib_pieces_gets_larger_ones),
        cmocka_unit_test(grown_pieces_not_to_be_had_fall_back_to_ones_that_still_make_hmmin),
        cmocka_unit_test(a_new_firmware_that_wants_another_buffer_gets_it_at_the_reset),
        cmocka_unit_test(pieces_are_freed_with_the_sizes_they_were_had_with),
        cmocka_unit_test(a_list_the_device_rewrote_is_written_again_before_a_reset_returns_it),
        cmocka_unit_test(refusals_leave_the_memory_safe),
        cmocka_unit_test(a_lost_hmb_set_features_at_a_start_does_not_leave_it_stopped),
        cmocka_unit_test(a_refused_buffer_is_freed_at_once_and_had_again_at_the_next_reset),
        cmocka_unit_test(a_refused_return_gives_fresh_memory_without_mr_at_the_next_reset),
        cmocka_unit_test(a_controller_left_enabled_that_will_not_stop_is_cut_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
