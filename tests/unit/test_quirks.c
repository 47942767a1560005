/* SPDX-License-Identifier: MIT */
/* The quirk table (Linux drivers/nvme/host/pci.c for the same PCI IDs),
 * Linux's 2.3 s delay after CC.EN=0, the RTD3E shutdown wait clamped to
 * 5 s .. 60 s, and the NVMe 2.x status names. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

/* aligned_alloc wants a size that is a multiple of the alignment. */
static void *abuf(size_t n) { return aligned_alloc(4096, (n + 4095) & ~(size_t)4095); }

static void table_matches_linux_for_the_listed_ids(void **state)
{
    (void)state;
    const uint32_t dly = NVME_QUIRK_DELAY_BEFORE_READY;
    assert_int_equal(nvme_quirks_lookup(0x1bb1, 0x0100), dly | NVME_QUIRK_NO_NS_DESC_LIST);
    assert_int_equal(nvme_quirks_lookup(0x1c58, 0x0003), dly);
    assert_int_equal(nvme_quirks_lookup(0x1c58, 0x0023), dly);
    assert_int_equal(nvme_quirks_lookup(0x1c5f, 0x0540), dly);
    assert_int_equal(nvme_quirks_lookup(0x144d, 0xa821), dly | NVME_QUIRK_MQES_0_IS_64);
    assert_int_equal(nvme_quirks_lookup(0x144d, 0xa822), dly | NVME_QUIRK_NO_WRITE_ZEROES |
                                                             NVME_QUIRK_IGNORE_DEV_SUBNQN |
                                                             NVME_QUIRK_MQES_0_IS_64);
    /* Intel P3xxx: no delay in Linux, deallocate reads zeros. */
    assert_int_equal(nvme_quirks_lookup(0x8086, 0x0953) & dly, 0);
    assert_true(nvme_quirks_lookup(0x8086, 0x0953) & NVME_QUIRK_DEALLOCATE_ZEROES);
    assert_int_equal(nvme_quirks_lookup(0x8086, 0x0a53) & dly, 0);
    assert_int_equal(nvme_quirks_lookup(0x8086, 0x0a54) & dly, 0);
    uint32_t apple = nvme_quirks_lookup(0x106b, 0x2005);
    assert_true(apple & NVME_QUIRK_128_BYTES_SQES);
    assert_true(apple & NVME_QUIRK_SHARED_TAGS);
    assert_true(apple & NVME_QUIRK_SKIP_CID_GEN);
    assert_true(apple & NVME_QUIRK_SINGLE_VECTOR);
    assert_true(apple & NVME_QUIRK_IDENTIFY_CNS);
    assert_true(apple & NVME_QUIRK_SPLIT_64BIT_MMIO);
    assert_int_equal(nvme_quirks_lookup(0x106b, 0x2001),
                     NVME_QUIRK_SINGLE_VECTOR | NVME_QUIRK_IO_DEPTH_2);
    /* QEMU's current ID: only the core's own metadata quirk. */
    assert_int_equal(nvme_quirks_lookup(0x1b36, 0x0010), NVME_QUIRK_MD_SECTORS);
    assert_int_equal(nvme_quirks_lookup(0, 0), 0);
}

/* NVME_QUIRK_MD_SECTORS (QEMU's IDs): a command moving more than 512
 * bytes of metadata, separate or interleaved, moves a multiple of 512
 * (QEMU 2.8 to 8.2 keep only length mod 512 bytes of any other); with ms
 * 16, 200 blocks go as 192 and 8, and every block's data and metadata
 * land.  Without the quirk: one command. */
static void md_sectors_cuts_metadata_to_whole_sectors(void **state)
{
    (void)state;
    const uint32_t n = 200;
    uint8_t *b = abuf(n * 512), *r = abuf(n * 512);
    uint8_t *md = malloc(n * 16), *mr = malloc(n * 16);
    fx_pattern(b, n * 512, 41);
    fx_pattern(md, n * 16, 42);
    for (int quirk = 0; quirk < 2; quirk++) {
        struct fx f;
        fx_config(&f);
        f.ns[0].ms = 16;
        if (quirk) {
            f.opts.pci_vendor = 0x1b36;
            f.opts.pci_device = 0x0010;
        }
        fx_start(&f);
        assert_int_equal((nvme_ctrl_get_info(f.ctrl)->quirks & NVME_QUIRK_MD_SECTORS) != 0, quirk);
        const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
        uint64_t w = st->writes, c = st->compares;
        assert_int_equal(nvme_write_ext(f.ctrl, 1, 7, n, b, md, 0), 0);
        assert_int_equal(st->writes - w, quirk ? 2 : 1);
        assert_int_equal(nvme_compare_ext(f.ctrl, 1, 7, n, b, md, 0), 0);
        assert_int_equal(st->compares - c, quirk ? 2 : 1);
        memset(mr, 0, n * 16);
        assert_int_equal(nvme_read_ext(f.ctrl, 1, 7, n, r, mr, 0), 0);
        assert_memory_equal(r, b, n * 512);
        assert_memory_equal(mr, md, n * 16);
        /* Under 512 bytes of metadata: one command either way. */
        w = st->writes;
        assert_int_equal(nvme_write_ext(f.ctrl, 1, 7, 31, b, md, 0), 0);
        assert_int_equal(st->writes - w, 1);
        fx_stop(&f);
    }
    free(b);
    free(r);
    free(md);
    free(mr);
    /* Extended LBAs: the metadata inside each 528-byte block. */
    const uint32_t xb = 512 + 16;
    uint8_t *x = abuf(n * xb), *xr = abuf(n * xb);
    fx_pattern(x, n * xb, 43);
    for (int quirk = 0; quirk < 2; quirk++) {
        struct fx f;
        fx_config(&f);
        f.ns[0].ms = 16;
        f.ns[0].extended = true;
        if (quirk) {
            f.opts.pci_vendor = 0x8086; /* QEMU's older ID */
            f.opts.pci_device = 0x5845;
        }
        fx_start(&f);
        const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
        uint64_t w = st->writes;
        assert_int_equal(nvme_write_ext(f.ctrl, 1, 3, n, x, NULL, 0), 0);
        assert_int_equal(st->writes - w, quirk ? 2 : 1);
        assert_int_equal(nvme_read_ext(f.ctrl, 1, 3, n, xr, NULL, 0), 0);
        assert_memory_equal(xr, x, n * xb);
        fx_stop(&f);
    }
    free(x);
    free(xr);
}

/* NVME_QUIRK_MD_SECTORS with an extended format whose block is not a
 * dword multiple (ms 6: 518 bytes): the cut to whole metadata sectors
 * keeps each piece a dword multiple, so the next piece's PRP1 stays
 * dword aligned (§4.3) and the call is not refused halfway. */
static void md_sectors_cut_keeps_the_next_piece_dword_aligned(void **state)
{
    (void)state;
    const uint32_t n = 200, xb = 512 + 6;
    uint8_t *x = abuf(n * xb), *xr = abuf(n * xb);
    fx_pattern(x, n * xb, 44);
    struct fx f;
    fx_config(&f);
    f.ns[0].ms = 6;
    f.ns[0].extended = true;
    f.opts.pci_vendor = 0x1b36;
    f.opts.pci_device = 0x0010;
    fx_start(&f);
    assert_true(nvme_ctrl_get_info(f.ctrl)->quirks & NVME_QUIRK_MD_SECTORS);
    assert_int_equal(nvme_write_ext(f.ctrl, 1, 3, n, x, NULL, 0), 0);
    assert_int_equal(nvme_read_ext(f.ctrl, 1, 3, n, xr, NULL, 0), 0);
    assert_memory_equal(xr, x, n * xb);
    fx_stop(&f);
    free(x);
    free(xr);
}

/* A write of `n` blocks of ms bytes of separate (or interleaved)
 * metadata and its read back, on QEMU's ID over a controller with QEMU's
 * metadata bug (cfg.md_sectors_bug): the write's result; on success the
 * blocks' data and metadata are asserted back whole. */
static int md_round_trip_pi(uint16_t ms, bool extended, uint32_t n, uint8_t pi)
{
    struct fx f;
    fx_config(&f);
    f.ns[0].ms = ms;
    f.ns[0].extended = extended;
    f.ns[0].pi_type = pi;
    f.cfg.md_sectors_bug = true;
    f.cfg.mdts = 0; /* no limit: the core's own cap per command */
    f.opts.pci_vendor = 0x1b36;
    f.opts.pci_device = 0x0010;
    fx_start(&f);
    assert_true(nvme_ctrl_get_info(f.ctrl)->quirks & NVME_QUIRK_MD_SECTORS);
    size_t dblk = 512u + (extended ? ms : 0u), mlen = extended ? 0u : (size_t)n * ms;
    uint8_t *b = abuf(n * dblk), *r = abuf(n * dblk);
    uint8_t *md = mlen ? malloc(mlen) : NULL, *mr = mlen ? malloc(mlen) : NULL;
    fx_pattern(b, n * dblk, 51u + ms);
    if (mlen)
        fx_pattern(md, mlen, 52u + ms);
    uint64_t w = nvme_sim_stats(f.sim)->writes;
    int rc = nvme_write_ext(f.ctrl, 1, 0, n, b, md, 0);
    if (rc == NVME_OK) {
        memset(r, 0, n * dblk);
        if (mlen)
            memset(mr, 0, mlen);
        assert_int_equal(nvme_read_ext(f.ctrl, 1, 0, n, r, mr, 0), 0);
        assert_memory_equal(r, b, n * dblk);
        if (mlen)
            assert_memory_equal(mr, md, mlen);
    } else {
        assert_int_equal(nvme_sim_stats(f.sim)->writes, w); /* nothing sent */
    }
    fx_stop(&f);
    free(b);
    free(r);
    free(md);
    free(mr);
    return rc;
}

static int md_round_trip(uint16_t ms, bool extended, uint32_t n)
{
    return md_round_trip_pi(ms, extended, n, 0);
}

/* NVME_QUIRK_MD_SECTORS over metadata sizes, separate and interleaved: 8,
 * 16, 64, 72 and 130 bytes (pieces of less than 512 bytes of metadata or
 * of whole sectors: 130 goes 3 blocks at a time below 256 blocks), 4096
 * (every piece whole sectors), interleaved too (130: 642-byte blocks, each
 * piece's buffer kept dword aligned); the separate buffer's MPTR dword aligned
 * (the simulator refuses any other).  Each block's data and metadata come
 * back whole through a controller that moves only (length mod 512) bytes
 * of any other metadata transfer above 512. */
static void md_sectors_cut_keeps_every_metadata_size_whole(void **state)
{
    (void)state;
    static const uint16_t sizes[] = {8, 16, 64, 72, 130, 4096};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(md_round_trip(sizes[i], false, 300), 0);
        assert_int_equal(md_round_trip(sizes[i], false, 7), 0);
        assert_int_equal(md_round_trip(sizes[i], true, 300), 0);
    }
}

/* A block's metadata above 512 bytes that is not a multiple of 512 (MS
 * 4100, 520): no count of blocks below 512 / gcd(MS, 512) of them (128,
 * 64) moves whole sectors, so QEMU would keep a few bytes of a piece's
 * metadata and report it written.  Before, such pieces went out (one
 * block at a time) and the write succeeded with its metadata lost; now
 * a call that cannot be cut into multiples of that many blocks fails
 * NVME_ERR_UNSUPPORTED, nothing sent, and one that can goes whole (PI
 * formats excepted: QEMU moves their metadata through its own bounce). */
static void md_sectors_refuses_metadata_it_cannot_cut_whole(void **state)
{
    (void)state;
    assert_int_equal(md_round_trip(4100, false, 1), NVME_ERR_UNSUPPORTED);
    assert_int_equal(md_round_trip(4100, false, 130), NVME_ERR_UNSUPPORTED);
    assert_int_equal(md_round_trip(4100, false, 128), 0);
    assert_int_equal(md_round_trip(520, false, 100), NVME_ERR_UNSUPPORTED);
    assert_int_equal(md_round_trip(520, false, 192), 0);
    assert_int_equal(md_round_trip(520, true, 3), NVME_ERR_UNSUPPORTED);
    assert_int_equal(md_round_trip(520, true, 64), 0);
    /* A PI format's metadata QEMU moves another way: not refused. */
    assert_int_equal(md_round_trip_pi(520, false, 3, 3), 0);
}

static void delay_before_ready_waits_after_disable(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.pci_vendor = 0x1c58;
    f.opts.pci_device = 0x0023;
    f.cfg.start = NVME_SIM_START_ENABLED; /* bring-up disables first */
    uint64_t t0;
    f.sim = nvme_sim_create(&f.cfg);
    nvme_sim_osal(f.sim, &f.osal);
    t0 = nvme_sim_now(f.sim);
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    assert_true(nvme_sim_now(f.sim) - t0 >= 2300000);
    assert_true(nvme_ctrl_get_info(f.ctrl)->quirks & NVME_QUIRK_DELAY_BEFORE_READY);
    /* Every reset waits again. */
    t0 = nvme_sim_now(f.sim);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_true(nvme_sim_now(f.sim) - t0 >= 2300000);
    fx_stop(&f);

    /* Without the quirk, a reset is quick. */
    fx_config(&f);
    fx_start(&f);
    t0 = nvme_sim_now(f.sim);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_true(nvme_sim_now(f.sim) - t0 < 1000000);
    fx_stop(&f);
}

/* CAP as a controller reports it whose MQES field reads 0 (the simulator
 * behind it takes queues up to its own 1024 entries). */
static uint32_t (*mqes0_next32)(void *ctx, uint32_t off);
static uint64_t (*mqes0_next64)(void *ctx, uint32_t off);
static uint32_t mqes0_read32(void *ctx, uint32_t off)
{
    uint32_t v = mqes0_next32(ctx, off);
    return off == NVME_REG_CAP ? v & ~0xffffu : v;
}
static uint64_t mqes0_read64(void *ctx, uint32_t off)
{
    uint64_t v = mqes0_next64(ctx, off);
    return off == NVME_REG_CAP ? v & ~(uint64_t)0xffffu : v;
}

/* Linux's nvme_pci_enable: Samsung's PM1725 (144d:a821) and PM1725a
 * (144d:a822) report CAP.MQES 0, which NVMe 1.4 §3.1.1 calls invalid;
 * Linux drives them with I/O queues of 64 entries.  The core gives them
 * the same, at bring-up and after a reset (CAP read again); before, it
 * refused them (NVME_ERR_PROTO, "CAP.MQES is 0").  Another controller
 * reporting 0 is still refused. */
static void given_a_pm1725_reporting_mqes_0_its_io_queues_get_64_entries_as_in_linux(void **state)
{
    (void)state;
    static const uint16_t ids[] = {0xa821, 0xa822, 0};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct fx f;
        fx_config(&f);
        f.opts.pci_vendor = ids[i] != 0 ? 0x144d : 0x1b36;
        f.opts.pci_device = ids[i] != 0 ? ids[i] : 0x0010;
        fx_create(&f);
        mqes0_next32 = f.osal.mmio_read32;
        mqes0_next64 = f.osal.mmio_read64;
        f.osal.mmio_read32 = mqes0_read32;
        if (f.osal.mmio_read64 != NULL)
            f.osal.mmio_read64 = mqes0_read64;
        if (ids[i] == 0) {
            assert_int_equal(fx_init(&f), NVME_ERR_PROTO);
            assert_int_equal(nvme_sim_dma_live(f.sim), 0);
            nvme_sim_destroy(f.sim);
            continue;
        }
        assert_int_equal(fx_init(&f), 0);
        const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
        assert_int_equal(info->max_queue_entries, 64);
        assert_int_equal(info->io_queue_entries, 64);
        uint8_t *b = abuf(4096);
        memset(b, 0x5a, 4096);
        assert_int_equal(nvme_write(f.ctrl, 1, 0, 8, b), 0);
        assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
        assert_int_equal(info->io_queue_entries, 64);
        assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, b), 0);
        assert_int_equal(b[4095], 0x5a);
        free(b);
        fx_stop(&f);
    }
}

static void rtd3e_is_clamped_like_linux(void **state)
{
    (void)state;
    static const struct {
        uint32_t rtd3e_us, want_ms;
    } cases[] = {{0, 5000},       {1000000, 5000},    {8000000, 8000},
                 {8000001, 8001}, {100000000, 60000}, {0xffffffffu, 60000}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        fx_config(&f);
        f.cfg.rtd3e = cases[i].rtd3e_us;
        fx_start(&f);
        assert_int_equal(nvme_ctrl_get_info(f.ctrl)->shutdown_timeout_ms, cases[i].want_ms);
        fx_stop(&f);
    }
}

/* Apple ANS2 (106b:2005), modelled by the simulator's apple_ans2 mode:
 * I/O SQ entries of 128 bytes, CIDs as tags shared by the admin and the
 * I/O queue and below the I/O queue's depth (a violation sets CSTS.CFS),
 * Identify CNS 0 and 1 only, one vector.  The AERs the core keeps on the
 * admin queue hold admin CIDs the whole time, so every I/O proves the
 * tag split. */
static void apple_config(struct fx *f)
{
    fx_config(f);
    f->cfg.apple_ans2 = true;
    f->cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    f->cfg.timing = NVME_SIM_DEFERRED;
    f->ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 64, .lba_size = 512};
    f->cfg.ns_count = 2;
    f->opts.pci_vendor = 0x106b;
    f->opts.pci_device = 0x2005;
    f->opts.io_queues = 4;
}

static void apple_done(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    int *r = arg;
    *r = result == NVME_OK ? 1 : result;
}

static void apple_ans2_runs_with_128_byte_sqes_and_shared_tags(void **state)
{
    (void)state;
    struct fx f;
    apple_config(&f);
    fx_start(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(info->io_queues, 1);   /* SHARED_TAGS: one I/O queue */
    assert_int_equal(info->irq_vectors, 1); /* SINGLE_VECTOR */
    assert_true(info->io_queue_entries >= info->admin_queue_entries + 2u);
    assert_int_equal(nvme_ns_count(f.ctrl), 2); /* found without CNS 02h */

    /* Fill the I/O queue (every slot in flight at once, CIDs from the top
     * of the tag space down to the admin queue's), twice over so slots
     * are reused, with an admin command in flight beside them. */
    enum { NB = 8 };
    uint32_t depth = info->io_queue_entries - 1u - info->admin_queue_entries;
    uint8_t *wbuf = fx_xalloc((size_t)depth * NB * 512);
    uint8_t *rbuf = fx_xalloc((size_t)depth * NB * 512);
    int *done = calloc(depth, sizeof(*done));
    fx_pattern(wbuf, (size_t)depth * NB * 512, 0xa991e);
    for (int round = 0; round < 2; round++) {
        uint8_t opc = round == 0 ? NVME_CMD_WRITE : NVME_CMD_READ;
        uint8_t *b = round == 0 ? wbuf : rbuf;
        memset(done, 0, depth * sizeof(*done));
        for (uint32_t i = 0; i < depth; i++)
            assert_int_equal(nvme_submit_rw(f.ctrl, 1, opc, 1, (uint64_t)i * NB, NB,
                                            b + (size_t)i * NB * 512, NVME_SUBMIT_NO_DOORBELL,
                                            apple_done, &done[i]),
                             NVME_OK);
        assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), depth);
        nvme_qpair_ring(f.ctrl, 1);
        struct nvme_smart_log smart;
        assert_int_equal(nvme_get_smart_log(f.ctrl, &smart), NVME_OK);
        for (int spin = 0; spin < 1000 && nvme_qpair_outstanding(f.ctrl, 1) > 0; spin++)
            nvme_qpair_poll(f.ctrl, 1, 0);
        for (uint32_t i = 0; i < depth; i++)
            assert_int_equal(done[i], 1);
    }
    assert_memory_equal(wbuf, rbuf, (size_t)depth * NB * 512);
    /* Blocking calls and a reset (queues rebuilt, tags split again). */
    assert_int_equal(nvme_ctrl_reset(f.ctrl), NVME_OK);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 8, rbuf), NVME_OK);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, NB, rbuf), NVME_OK);
    assert_memory_equal(wbuf, rbuf, NB * 512);

    const struct nvme_sim_stats *st = nvme_sim_stats(f.sim);
    assert_int_equal(st->tag_collisions, 0);
    assert_true(st->io_cmds >= 2u * depth + 2u);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    free(done);
    free(wbuf);
    free(rbuf);
    fx_stop(&f);
}

/* Apple's shared tag space (Linux SHARED_TAGS) with a small CAP.MQES
 * (§3.1.1: MQES + 1 entries per I/O queue): the admin queue gives up
 * entries so that its CIDs leave room for an I/O CID below the I/O
 * queue's depth.  MQES 15: a 16-entry I/O queue, admin CIDs below 14,
 * the I/O queue's from 14, one command at a time; every command goes and
 * no CID is out of the I/O queue's depth (the device's tag check).  With
 * the 32 admin entries kept, the I/O queue would need 34 entries, more
 * than MQES allows: no I/O queue at all. */
static void given_apple_tags_and_a_small_mqes_the_admin_queue_leaves_room_for_io_tags(void **state)
{
    (void)state;
    struct fx f;
    apple_config(&f);
    f.cfg.mqes = 15;
    fx_start(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(info->admin_queue_entries, 14);
    assert_int_equal(info->io_queue_entries, 16);
    assert_int_equal(info->io_queues, 1);
    assert_false(info->admin_only);
    uint8_t *w = abuf(3 * 4096), *r = abuf(3 * 4096);
    fx_pattern(w, 3 * 4096, 0x5a);
    int done[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) /* one slot: the second waits for the first */
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, 8u * (uint64_t)i, 8,
                                        w + i * 4096, 0, apple_done, &done[i]),
                         i == 0 ? NVME_OK : NVME_ERR_BUSY);
    for (int spin = 0; spin < 1000 && done[0] == 0; spin++) {
        nvme_qpair_poll(f.ctrl, 1, 0);
        nvme_sim_advance(f.sim, 1000); /* late completions come with time */
    }
    assert_int_equal(done[0], 1);
    assert_int_equal(nvme_write(f.ctrl, 1, 8, 16, w + 4096), NVME_OK);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 24, r), NVME_OK);
    assert_memory_equal(w, r, 3 * 4096);
    struct nvme_smart_log smart; /* admin beside the AERs, CIDs below 14 */
    assert_int_equal(nvme_get_smart_log(f.ctrl, &smart), NVME_OK);
    assert_int_equal(nvme_sim_stats(f.sim)->tag_collisions, 0);
    free(w);
    free(r);
    fx_stop(&f);
}

/* Apple's shared tags with an I/O queue size asked (8) that leaves no
 * I/O CID above the admin queue's 32: the queue gets 34 entries (the
 * admin tags, and one command above them, as Linux raises its depth to
 * NVME_AQ_DEPTH + 2), never one whose I/O CIDs would start past its
 * depth. */
static void given_apple_tags_an_io_queue_size_below_the_admin_tags_is_raised_above(void **state)
{
    (void)state;
    struct fx f;
    apple_config(&f);
    f.opts.io_queue_entries = 8;
    fx_start(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(info->admin_queue_entries, 32);
    assert_int_equal(info->io_queue_entries, 34);
    assert_int_equal(info->io_queues, 1);
    uint8_t *w = abuf(4096), *r = abuf(4096);
    fx_pattern(w, 4096, 0x5c);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 8, w), NVME_OK);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, r), NVME_OK);
    assert_memory_equal(w, r, 4096);
    assert_int_equal(nvme_sim_stats(f.sim)->tag_collisions, 0);
    free(w);
    free(r);
    fx_stop(&f);
}

/* Apple's shared tags across a reset whose CAP.MQES is smaller (a
 * firmware the reset activated): the I/O queue is created with MQES + 1
 * entries and its CIDs stay below that depth, above the admin queue's 32:
 * MQES 35, 36 entries, 3 commands at a time.  Six writes in flight at
 * the reset: three replayed, three wait for a slot, all complete once,
 * on the medium, without a tag the device refuses. */
static void given_apple_tags_a_reset_that_shrinks_mqes_keeps_io_cids_below_the_depth(void **state)
{
    (void)state;
    struct fx f;
    apple_config(&f);
    fx_start(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(info->admin_queue_entries, 32);
    enum { N = 6 };
    uint8_t *w = abuf(N * 4096);
    fx_pattern(w, N * 4096, 0x5b);
    struct nvme_sim_fault hang = {
        NVME_SIM_FAULT_HANG, NVME_SIM_ANY_IO, NVME_CMD_WRITE, NVME_SIM_ANY, 0, 0, N};
    assert_int_equal(nvme_sim_inject(f.sim, &hang), 0);
    int done[N];
    for (int i = 0; i < N; i++) {
        done[i] = 0;
        assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, 8u * (uint64_t)i, 8,
                                        w + i * 4096, 0, apple_done, &done[i]),
                         NVME_OK);
    }
    for (int spin = 0; spin < 10; spin++) /* fetched, held by the device */
        nvme_qpair_poll(f.ctrl, 1, 0);
    struct nvme_sim_cap_change c = {.mqes = 35, .to = 20, .mpsmax = 4};
    nvme_sim_cap_at_reset(f.sim, &c);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), NVME_OK);
    assert_int_equal(info->io_queue_entries, 36);
    int all = 0;
    for (int spin = 0; spin < 100000 && all < N; spin++) {
        nvme_qpair_poll(f.ctrl, 1, 0);
        all = 0;
        for (int i = 0; i < N; i++)
            all += done[i] != 0;
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(done[i], 1);
    uint8_t *media = abuf(N * 4096);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 0, N * 8, media), 0);
    assert_memory_equal(media, w, N * 4096);
    assert_int_equal(nvme_sim_stats(f.sim)->tag_collisions, 0);
    assert_true(nvme_ctrl_is_ready(f.ctrl));
    free(media);
    free(w);
    fx_stop(&f);
}

/* ... and one whose CAP.MQES leaves no I/O CID above the admin queue's 32
 * (MQES 15: 16 entries, the I/O tags would start at 32): the queues
 * cannot be laid out again, so the reset fails cleanly, as for a CAP
 * that excludes the page size: the controller left stopped (CC.EN 0),
 * the write in flight failed once, later calls NVME_ERR_FATAL at once,
 * never a tag the device would take for a fatal collision. */
static void given_apple_tags_a_reset_whose_mqes_leaves_no_io_tag_fails_cleanly(void **state)
{
    (void)state;
    struct fx f;
    apple_config(&f);
    fx_start_captured(&f);
    uint8_t *w = abuf(4096);
    struct nvme_sim_fault hang = {
        NVME_SIM_FAULT_HANG, NVME_SIM_ANY_IO, NVME_CMD_WRITE, NVME_SIM_ANY, 0, 0, 1};
    assert_int_equal(nvme_sim_inject(f.sim, &hang), 0);
    int done = 0;
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, 0, 8, w, 0, apple_done, &done),
                     NVME_OK);
    struct nvme_sim_cap_change c = {.mqes = 15, .to = 20, .mpsmax = 4};
    nvme_sim_cap_at_reset(f.sim, &c);
    assert_true(nvme_ctrl_reset(f.ctrl) < 0);
    assert_true(fx_log_has(&f, "CAP.MQES 15 after reset: too few entries"));
    assert_true(done < 0); /* failed, once (apple_done keeps the result) */
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, w), NVME_ERR_FATAL);
    assert_int_equal(nvme_sim_reg_peek(f.sim, NVME_REG_CC) & NVME_CC_EN, 0);
    assert_int_equal(nvme_sim_stats(f.sim)->tag_collisions, 0);
    free(w);
    fx_stop(&f);
}

/* The same controller without the quirks (another PCI ID): CC.IOSQES=6 is
 * refused, so bring-up fails: the simulator holds the host to the rules
 * the quirks exist for. */
static void apple_ans2_without_its_quirks_is_not_driven(void **state)
{
    (void)state;
    struct fx f;
    apple_config(&f);
    f.opts.pci_vendor = 0x1b36;
    f.opts.pci_device = 0x0010;
    assert_true(fx_try_start(&f) < 0);
    assert_null(f.ctrl);
    assert_true(nvme_sim_host_errors(f.sim) > 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), 0);
    nvme_sim_destroy(f.sim);
}

static void single_vector_quirk_asks_for_one_vector(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    f.opts.pci_vendor = 0x106b;
    f.opts.pci_device = 0x2001;
    f.opts.io_queues = 4;
    fx_start(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(info->irq_vectors, 1);
    assert_int_equal(info->io_queues, 4);
    uint8_t *b = abuf(4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, b), 0);
    free(b);
    fx_stop(&f);
}

/* Linux's nvme_pci_enable: Apple's 106b:2001 (MacBook8,1, some
 * MacBook7,1) gets a queue depth of 2 "to work around controller resets"
 * and data loss, whatever CAP.MQES and the options say; before, its I/O
 * queues had the default 256 entries. */
static void given_an_apple_2001_its_io_queues_get_2_entries_as_in_linux(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.pci_vendor = 0x106b;
    f.opts.pci_device = 0x2001;
    f.opts.io_queues = 2;
    f.opts.io_queue_entries = 1024;
    fx_start(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(info->io_queues, 2);
    assert_int_equal(info->io_queue_entries, 2);
    uint8_t *w = abuf(65536), *r = abuf(65536);
    fx_pattern(w, 65536, 7);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 128, w), 0);
    assert_int_equal(nvme_ctrl_reset(f.ctrl), 0);
    assert_int_equal(info->io_queue_entries, 2);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 128, r), 0);
    assert_memory_equal(w, r, 65536);
    free(w);
    free(r);
    fx_stop(&f);
}

static void identify_cns_quirk_probes_namespaces(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.pci_vendor = 0x8086; /* QEMU's old ID: Linux IDENTIFY_CNS */
    f.opts.pci_device = 0x5845;
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 3, .blocks = 64, .lba_size = 512};
    /* NSZE without capacity (NCAP 0): no namespace to use, left out of
     * the probe as Linux's nvme_ns_info_from_identify leaves it out
     * (before: listed, refused). */
    f.ns[2] = (struct nvme_sim_ns_config){
        .nsid = 4, .blocks = 64, .lba_size = 512, .corrupt = NVME_SIM_CORRUPT_NCAP0};
    f.cfg.ns_count = 3;
    fx_start(&f);
    assert_int_equal(nvme_ns_count(f.ctrl), 2);
    assert_non_null(nvme_ns_find(f.ctrl, 3));
    assert_null(nvme_ns_find(f.ctrl, 4));
    /* DISABLE_WRITE_ZEROES too. */
    assert_int_equal(nvme_write_zeroes(f.ctrl, 1, 0, 1, 0), NVME_ERR_UNSUPPORTED);
    fx_stop(&f);
}

static void no_ns_desc_list_quirk_keeps_namespaces_nvm(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.iocs = true;
    f.opts.pci_vendor = 0x1bb1; /* Seagate Nytro: NO_NS_DESC_LIST */
    f.opts.pci_device = 0x0100;
    f.cfg.ready_delay_us = 0;
    fx_start(&f);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->csi, NVME_CSI_NVM);
    fx_stop(&f);
}

static void nvme_2_status_codes_are_named(void **state)
{
    (void)state;
    static const struct {
        uint8_t sct, sc;
        const char *name;
    } names[] = {
        {0, 0x24, "Admin Command Media Not Ready"},
        {0, 0x2c, "Invalid I/O Command Set"},
        {1, 0x29, "I/O Command Set Not Supported"},
        {1, 0x2a, "I/O Command Set Not Enabled"},
        {1, 0x2b, "I/O Command Set Combination Rejected"},
        {1, 0x83, "Command Size Limit Exceeded"},
        {1, 0x85, "Incompatible Namespace or Format"},
        {1, 0x86, "Fast Copy Not Possible"},
        {1, 0x87, "Overlapping I/O Range"},
        {1, 0x89, "Insufficient Resources"},
        {1, 0xb6, "Invalid Zone Operation Request"},
        {1, 0xb7, "ZRWA Resources Unavailable"},
        {1, 0xb8, "Zone Boundary Error"},
        {1, 0xb9, "Zone Is Full"},
        {1, 0xba, "Zone Is Read Only"},
        {1, 0xbb, "Zone Is Offline"},
        {1, 0xbc, "Zone Invalid Write"},
        {1, 0xbd, "Too Many Active Zones"},
        {1, 0xbe, "Too Many Open Zones"},
        {1, 0xbf, "Invalid Zone State Transition"},
        {2, 0x88, "End-to-End Storage Tag Check Error"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_string_equal(nvme_status_name(NVME_SF(names[i].sct, names[i].sc)), names[i].name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_matches_linux_for_the_listed_ids),
        cmocka_unit_test(delay_before_ready_waits_after_disable),
        cmocka_unit_test(md_sectors_cuts_metadata_to_whole_sectors),
        cmocka_unit_test(md_sectors_cut_keeps_the_next_piece_dword_aligned),
        cmocka_unit_test(md_sectors_cut_keeps_every_metadata_size_whole),
        cmocka_unit_test(md_sectors_refuses_metadata_it_cannot_cut_whole),
        cmocka_unit_test(given_a_pm1725_reporting_mqes_0_its_io_queues_get_64_entries_as_in_linux),
        cmocka_unit_test(rtd3e_is_clamped_like_linux),
        cmocka_unit_test(apple_ans2_runs_with_128_byte_sqes_and_shared_tags),
        cmocka_unit_test(apple_ans2_without_its_quirks_is_not_driven),
        cmocka_unit_test(given_apple_tags_and_a_small_mqes_the_admin_queue_leaves_room_for_io_tags),
        cmocka_unit_test(given_apple_tags_an_io_queue_size_below_the_admin_tags_is_raised_above),
        cmocka_unit_test(given_apple_tags_a_reset_that_shrinks_mqes_keeps_io_cids_below_the_depth),
        cmocka_unit_test(given_apple_tags_a_reset_whose_mqes_leaves_no_io_tag_fails_cleanly),
        cmocka_unit_test(single_vector_quirk_asks_for_one_vector),
        cmocka_unit_test(given_an_apple_2001_its_io_queues_get_2_entries_as_in_linux),
        cmocka_unit_test(identify_cns_quirk_probes_namespaces),
        cmocka_unit_test(no_ns_desc_list_quirk_keeps_namespaces_nvm),
        cmocka_unit_test(nvme_2_status_codes_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
