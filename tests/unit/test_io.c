/* SPDX-License-Identifier: MIT */
/* Steps 5-6: read and write through every PRP shape (NVMe 1.4 §4.3),
 * MDTS splitting, and every invalid caller input returning its error.
 * The simulator only lets the device touch memory the OSAL mapped, so a
 * wrong PRP shows up as a DMA violation (checked in fx_stop) or bad data. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *xalloc(size_t len, size_t align)
{
    uint8_t *p = aligned_alloc(align, (len + align - 1) / align * align);
    assert_non_null(p);
    return p;
}

/* Writes `blocks` blocks from buf+offset at lba, reads them back into a
 * buffer with the same offset, and checks both ways against the media. */
static void roundtrip(struct fx *f, uint32_t nsid, uint64_t lba, uint32_t blocks, size_t offset,
                      uint32_t seed)
{
    const struct nvme_ns_info *ns = nvme_ns_find(f->ctrl, nsid);
    assert_non_null(ns);
    size_t len = (size_t)blocks * ns->lba_size;
    uint8_t *w = xalloc(len + offset, 4096), *r = xalloc(len + offset, 4096);
    uint8_t *media = malloc(len);
    fx_pattern(w + offset, len, seed);
    memset(r, 0, len + offset);

    assert_int_equal(nvme_write(f->ctrl, nsid, lba, blocks, w + offset), 0);
    assert_int_equal(nvme_sim_ns_read(f->sim, nsid, lba, blocks, media), 0);
    assert_memory_equal(media, w + offset, len);
    assert_int_equal(nvme_read(f->ctrl, nsid, lba, blocks, r + offset), 0);
    assert_memory_equal(r + offset, w + offset, len);
    free(w);
    free(r);
    free(media);
}

static void mbr_on_lba0_reads_back_with_its_signature(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t mbr[512] = {0};
    mbr[0x1be + 4] = 0x83; /* one Linux partition entry */
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    assert_int_equal(nvme_sim_ns_write(f.sim, 1, 0, 1, mbr), 0);
    uint8_t *buf = xalloc(512, 4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(buf[510], 0x55);
    assert_int_equal(buf[511], 0xaa);
    assert_memory_equal(buf, mbr, 512);
    assert_int_equal(nvme_sim_stats(f.sim)->reads, 1);
    free(buf);
    fx_stop(&f);
}

/* PRP1 only; PRP1+PRP2; a PRP list; each with and without an offset in
 * the first page. */
static void every_prp_shape_moves_the_right_bytes(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 5; /* 128 KiB */
    fx_start(&f);
    static const struct {
        uint32_t blocks;
        size_t offset;
    } shapes[] = {
        {1, 0},    /* 512 B in one page: PRP1 */
        {8, 0},    /* exactly one page: PRP1 */
        {8, 512},  /* one page's worth across two pages: PRP1+PRP2 */
        {16, 0},   /* two pages: PRP1+PRP2 */
        {2, 4092}, /* first entry 4 bytes before a page end: PRP1+PRP2 */
        {24, 0},   /* three pages: PRP list */
        {3, 4},    /* dword offset: PRP1+PRP2 */
        {255, 12}, /* 31.9 pages from offset 12: PRP list of 32 entries */
        {256, 0},  /* 32 pages: PRP1 + list of 31 */
    };
    for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        roundtrip(&f, 1, 100 + i * 300, shapes[i].blocks, shapes[i].offset, i + 1);
    fx_stop(&f);
}

/* More entries than one list page holds (512 per 4 KiB page): the last
 * entry must chain to the next list page (§4.3). */
static void large_transfer_uses_chained_prp_list_pages(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 0;         /* no device limit: the core sends up to 4 MiB per command */
    f.ns[0].blocks = 16384; /* 8 MiB */
    fx_start(&f);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(f.ctrl);
    assert_int_equal(info->mdts_reported, 0);
    assert_int_equal(info->mdts_bytes, 4u << 20);
    uint64_t before = nvme_sim_stats(f.sim)->writes;
    /* 4 MiB from offset 512: 1025 pages, PRP1 + 1024 list entries over
     * three chained list pages. */
    roundtrip(&f, 1, 0, 8192, 512, 7);
    assert_int_equal(nvme_sim_stats(f.sim)->writes - before, 1); /* one command, no split */
    /* 2 MiB + 4 KiB aligned: 513 pages, a list of exactly 512 entries that
     * fills one list page with no chain (the edge of the rule). */
    roundtrip(&f, 1, 8192, 4104, 0, 8);
    fx_stop(&f);
}

static void transfers_above_mdts_are_split_with_contents_intact(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 2^1 * 4 KiB = 8 KiB per command */
    fx_start(&f);
    assert_int_equal(nvme_ctrl_get_info(f.ctrl)->mdts_bytes, 8192);
    uint64_t w0 = nvme_sim_stats(f.sim)->writes, r0 = nvme_sim_stats(f.sim)->reads;
    roundtrip(&f, 1, 10, 130, 4, 3); /* 65 KiB, unaligned start: 9 commands each way */
    assert_int_equal(nvme_sim_stats(f.sim)->writes - w0, 9);
    assert_int_equal(nvme_sim_stats(f.sim)->reads - r0, 9);
    /* The async call refuses more than MDTS: callers split or use nvme_write. */
    uint8_t *buf = xalloc(16384, 4096);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 17, buf, 0, NULL, NULL),
                     NVME_ERR_INVAL);
    free(buf);
    fx_stop(&f);
}

static void a_4096_byte_lba_namespace_reads_and_writes(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1].nsid = 2;
    f.ns[1].blocks = 1024;
    f.ns[1].lba_size = 4096;
    f.cfg.ns_count = 2;
    fx_start(&f);
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 2);
    assert_non_null(ns);
    assert_int_equal(ns->lba_size, 4096);
    assert_int_equal(ns->lbads, 12);
    assert_int_equal(ns->nsze, 1024);
    roundtrip(&f, 2, 1, 1, 0, 11);
    roundtrip(&f, 2, 1000, 24, 8, 12);
    assert_int_equal(nvme_read(f.ctrl, 2, 1023, 2, (void *)(uintptr_t)4096), NVME_ERR_RANGE);
    fx_stop(&f);
}

/* NSID 0 names no namespace (§3.2.1.2): refused with NVME_ERR_NOENT on a
 * queue that has seen no namespace yet (its namespace cache starts at
 * the controller's placeholder of NSID 0), after an unknown NSID, and
 * after a good one, by the blocking, asynchronous and batch calls alike;
 * and the placeholder never keeps a good NSID from its namespace. */
static void nsid_0_is_no_namespace_whatever_the_queue_saw_before(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *buf = xalloc(4096, 4096);
    uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;
    struct nvme_rw_req req = {0, buf, NULL, NULL, 1, NVME_CMD_READ};

    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 0, 0, 1, buf, 0, NULL, NULL),
                     NVME_ERR_NOENT); /* the queue's first I/O */
    assert_int_equal(nvme_read(f.ctrl, 0, 0, 1, buf), NVME_ERR_NOENT);
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 0, &req, 1, 0, NULL), NVME_ERR_NOENT);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds); /* nothing reached the device */
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_OK);
    assert_int_equal(nvme_write(f.ctrl, 0, 0, 1, buf), NVME_ERR_NOENT); /* after a good one */
    assert_int_equal(nvme_read(f.ctrl, 9, 0, 1, buf), NVME_ERR_NOENT);  /* an unknown one */
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 0, 0, 1, buf, 0, NULL, NULL),
                     NVME_ERR_NOENT);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), NVME_OK); /* and a good one again */
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds + 2);
    free(buf);
    fx_stop(&f);
}

static void bad_caller_input_gets_a_clear_error_and_reaches_no_device(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *buf = xalloc(8192, 4096);
    uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;

    assert_int_equal(nvme_read(f.ctrl, 1, 0, 0, buf), NVME_ERR_INVAL);          /* count 0 */
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, NULL), NVME_ERR_INVAL);         /* NULL buffer */
    assert_int_equal(nvme_read(NULL, 1, 0, 1, buf), NVME_ERR_INVAL);            /* no controller */
    assert_int_equal(nvme_read(f.ctrl, 9, 0, 1, buf), NVME_ERR_NOENT);          /* unknown NSID */
    assert_int_equal(nvme_read(f.ctrl, 0, 0, 1, buf), NVME_ERR_NOENT);          /* NSID 0 */
    assert_int_equal(nvme_read(f.ctrl, 1, 8192, 1, buf), NVME_ERR_RANGE);       /* LBA = NSZE */
    assert_int_equal(nvme_read(f.ctrl, 1, 8191, 2, buf), NVME_ERR_RANGE);       /* runs past end */
    assert_int_equal(nvme_read(f.ctrl, 1, UINT64_MAX, 2, buf), NVME_ERR_RANGE); /* wraps */
    assert_int_equal(nvme_read(f.ctrl, 1, 1, UINT32_MAX, buf), NVME_ERR_RANGE);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf + 2), NVME_ERR_ALIGN); /* not dword aligned */
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 1, buf + 1), NVME_ERR_ALIGN);
    assert_int_equal(nvme_flush(f.ctrl, 5), NVME_ERR_NOENT);
    assert_int_equal(nvme_flush(NULL, 1), NVME_ERR_INVAL); /* no controller */
    assert_int_equal(nvme_submit_rw(NULL, 1, NVME_CMD_READ, 1, 0, 1, buf, 0, NULL, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_submit_rw(f.ctrl, 0, NVME_CMD_READ, 1, 0, 1, buf, 0, NULL, NULL),
                     NVME_ERR_INVAL); /* qid 0 is the admin queue */
    assert_int_equal(nvme_submit_rw(f.ctrl, 9, NVME_CMD_READ, 1, 0, 1, buf, 0, NULL, NULL),
                     NVME_ERR_INVAL); /* no such I/O queue */
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_FLUSH, 1, 0, 1, buf, 0, NULL, NULL),
                     NVME_ERR_INVAL); /* not a read or write */
    /* The asynchronous calls take NVME_SUBMIT_NO_DOORBELL alone: an I/O
     * flag is refused, not taken for "no doorbell" (the write would sit
     * in the ring unrung, without its FUA). */
    const unsigned io_flags[] = {NVME_IO_FUA, NVME_IO_LR, NVME_IO_PRACT};
    struct nvme_rw_req req = {0, buf, NULL, NULL, 1, NVME_CMD_WRITE};
    for (size_t i = 0; i < sizeof(io_flags) / sizeof(io_flags[0]); i++) {
        assert_int_equal(
            nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, 0, 1, buf, io_flags[i], NULL, NULL),
            NVME_ERR_INVAL);
        assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 1, &req, 1, io_flags[i], NULL),
                         NVME_ERR_INVAL);
        assert_int_equal(nvme_submit_flush(f.ctrl, 1, 1, io_flags[i], NULL, NULL), NVME_ERR_INVAL);
    }
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds); /* nothing reached the device */

    /* Read-only namespace (host policy): writes refused, reads work. */
    assert_int_equal(nvme_ns_set_read_only(f.ctrl, 1, true), 0);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 1, buf), NVME_ERR_RDONLY);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(nvme_ns_set_read_only(f.ctrl, 1, false), 0);
    assert_int_equal(nvme_write(f.ctrl, 1, 0, 1, buf), 0);
    assert_int_equal(nvme_ns_set_read_only(f.ctrl, 3, true), NVME_ERR_NOENT);
    free(buf);
    fx_stop(&f);
}

static void dma_map_failure_is_reported_and_unwound(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *buf = xalloc(16384, 4096);
    /* Third page of a 4-page transfer cannot be mapped. */
    nvme_sim_fail_osal(f.sim, NVME_SIM_FAIL_DMA_MAP, 2);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 32, buf), NVME_ERR_DMA);
    nvme_sim_fail_osal(f.sim, NVME_SIM_FAIL_DMA_MAP, -1);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 32, buf), 0);
    free(buf);
    fx_stop(&f); /* no mapping left behind */
}

/* An OSAL whose dma_map moves the next `moved` one-page mappings 8 bytes
 * off their page offset (an IOMMU may map at another offset): a PRP1
 * alone would then name the wrong bytes (§4.3). */
static struct {
    int (*map)(void *ctx, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus);
    int moved;
} g_shift;

static int shifted_dma_map(void *ctx, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus)
{
    int rc = g_shift.map(ctx, va, len, dir, bus);
    if (rc == 0 && len <= 4096 && g_shift.moved > 0) {
        g_shift.moved--;
        *bus += 8;
    }
    return rc;
}

static void a_one_page_mapping_moved_off_its_offset_is_unmapped_and_sent_again(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_create(&f);
    g_shift.map = f.osal.dma_map;
    g_shift.moved = 0;
    f.osal.dma_map = shifted_dma_map;
    assert_int_equal(fx_init(&f), 0);
    uint8_t *w = xalloc(4096, 4096), *r = xalloc(4096, 4096);
    uint8_t media[512];
    fx_pattern(w, 512, 11);
    memset(r, 0, 512);
    /* The fast path's mapping is moved: it is unmapped (fx_stop: none
     * left), and the command goes through the general path, which maps
     * the buffer again (not moved this time). */
    g_shift.moved = 1;
    assert_int_equal(nvme_write(f.ctrl, 1, 5, 1, w), 0);
    assert_int_equal(g_shift.moved, 0);
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 5, 1, media), 0);
    assert_memory_equal(media, w, 512);
    g_shift.moved = 1;
    assert_int_equal(nvme_read(f.ctrl, 1, 5, 1, r), 0);
    assert_int_equal(g_shift.moved, 0);
    assert_memory_equal(r, w, 512);
    free(w);
    free(r);
    fx_stop(&f); /* no mapping left behind */
}

static void device_status_comes_back_as_the_status_field(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    struct nvme_sqe sqe;
    memset(&sqe, 0, sizeof(sqe));
    sqe.opc = 0xc7; /* a vendor opcode the controller does not know */
    int rc = nvme_admin_passthru(f.ctrl, &sqe, NULL, 0, NVME_DMA_TO_DEVICE, NULL);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SCT(rc), NVME_SCT_GENERIC);
    assert_int_equal(NVME_SF_SC(rc), NVME_SC_INVALID_OPCODE);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Invalid Command Opcode");
    /* Identify with a CNS the controller does not support: Invalid Field. */
    uint8_t id[4096];
    rc = nvme_identify(f.ctrl, 0x1f, 0, id);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC(rc), NVME_SC_INVALID_FIELD);
    fx_stop(&f);
}

static void flush_completes_on_the_io_queue(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint64_t before = nvme_sim_stats(f.sim)->flushes;
    uint64_t db = nvme_sim_doorbell_writes(f.sim, 1, false);
    assert_int_equal(nvme_flush(f.ctrl, 1), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->flushes - before, 1);
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false) - db, 1); /* on I/O SQ 1 */
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    fx_stop(&f);
}

/* Flush of every namespace (nvmectl flush -n 0xffffffff, the EXOS glue's
 * window over many namespaces): one command of NSID FFFFFFFFh where VWC
 * bits 2:1 are 11b, else one per namespace; the asynchronous call, which
 * sends one command, refuses it there. */
static void flush_of_every_namespace(void **state)
{
    (void)state;
    for (int bcast = 1; bcast >= 0; bcast--) {
        struct fx f;
        fx_config(&f);
        f.cfg.flush_no_bcast = !bcast;
        f.ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 64, .lba_size = 512};
        f.cfg.ns_count = 2;
        fx_start(&f);
        assert_int_equal(nvme_ns_count(f.ctrl), 2);
        uint64_t before = nvme_sim_stats(f.sim)->flushes;
        assert_int_equal(nvme_flush(f.ctrl, NVME_NSID_ALL), 0);
        assert_int_equal(nvme_sim_stats(f.sim)->flushes - before, bcast ? 1 : 2);
        struct fx_rec r = {0, -100};
        int rc = nvme_submit_flush(f.ctrl, 1, NVME_NSID_ALL, 0, fx_rec_cb, &r);
        if (bcast) {
            assert_int_equal(rc, 0);
            fx_poll_until(&f, 1, &r, 100000);
            assert_int_equal(r.result, 0);
        } else {
            assert_int_equal(rc, NVME_ERR_UNSUPPORTED);
        }
        fx_stop(&f);
    }
}

static void count_cb(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    assert_int_equal(result, 0);
    (*(unsigned *)arg)++;
}

/* nvme_submit_rw_batch: one-page requests go in through the batch loop,
 * the others (a PRP list) one by one, all in order and under one SQ
 * doorbell; the bytes land where each request said. */
static void a_batch_moves_the_right_bytes_with_one_doorbell(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    enum { N = 12 };
    uint8_t *w = xalloc(N * 8192, 4096), *r = xalloc(N * 8192, 4096);
    struct nvme_rw_req req[N];
    struct fx_rec rec[N];
    memset(rec, 0, sizeof(rec));
    memset(r, 0, N * 8192);
    fx_pattern(w, N * 8192, 77);
    /* Request k writes at LBA 64k: k blocks at offset 4*k of its own
     * 8 KiB, so k = 9..11 cross a page (PRP2) and k = 0..7 do not. */
    for (unsigned k = 0; k < N; k++)
        req[k] = (struct nvme_rw_req){.lba = 64u * k,
                                      .buf = w + 8192u * k + 4u * k,
                                      .cb = fx_rec_cb,
                                      .arg = &rec[k],
                                      .count = k + 1u,
                                      .opc = NVME_CMD_WRITE};
    uint64_t db = nvme_sim_doorbell_writes(f.sim, 1, false);
    uint64_t sdb = nvme_sim_shadow_doorbells(f.sim, 1, false);
    uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;
    unsigned in = 99;
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 1, req, N, 0, &in), NVME_OK);
    assert_int_equal(in, N);
    /* One doorbell: an MMIO write, or a shadow value the device took. */
    uint64_t rung = nvme_sim_doorbell_writes(f.sim, 1, false) - db;
    assert_true(rung <= 1);
    assert_true(rung + nvme_sim_shadow_doorbells(f.sim, 1, false) - sdb >= 1);
    for (unsigned k = 0; k < N; k++)
        fx_poll_until(&f, 1, &rec[k], 1000000);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds - cmds, N);
    uint8_t *media = xalloc(8192, 4096);
    for (unsigned k = 0; k < N; k++) {
        assert_int_equal(rec[k].calls, 1);
        assert_int_equal(rec[k].result, 0);
        assert_int_equal(nvme_sim_ns_read(f.sim, 1, 64u * k, k + 1u, media), 0);
        assert_memory_equal(media, w + 8192u * k + 4u * k, 512u * (k + 1u));
    }
    /* And back, as reads into the same layout, with NO_DOORBELL: nothing
     * reaches the device until nvme_qpair_ring. */
    memset(rec, 0, sizeof(rec));
    for (unsigned k = 0; k < N; k++) {
        req[k].opc = NVME_CMD_READ;
        req[k].buf = r + 8192u * k + 4u * k;
    }
    db = nvme_sim_doorbell_writes(f.sim, 1, false);
    cmds = nvme_sim_stats(f.sim)->io_cmds;
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 1, req, N, NVME_SUBMIT_NO_DOORBELL, NULL),
                     NVME_OK);
    assert_int_equal(nvme_sim_doorbell_writes(f.sim, 1, false) - db, 0);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds - cmds, 0);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), N);
    nvme_qpair_ring(f.ctrl, 1);
    for (unsigned k = 0; k < N; k++) {
        fx_poll_until(&f, 1, &rec[k], 1000000);
        assert_int_equal(rec[k].calls, 1);
        assert_int_equal(rec[k].result, 0);
        assert_memory_equal(r + 8192u * k + 4u * k, w + 8192u * k + 4u * k, 512u * (k + 1u));
    }
    free(media);
    free(w);
    free(r);
    fx_stop(&f);
}

/* A batch stops at its first bad request: that one's error comes back,
 * with how many went in before it; those complete, nothing after it
 * reaches the device. */
static void a_batch_stops_at_its_first_bad_request(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *buf = xalloc(8 * 4096, 4096);
    struct fx_rec rec[4];
    struct nvme_rw_req req[4];
    unsigned in;
    const struct {
        int err;
        struct nvme_rw_req bad;
    } cases[] = {
        {NVME_ERR_RANGE, {.lba = 8192, .buf = buf, .count = 1, .opc = NVME_CMD_READ}},
        {NVME_ERR_RANGE, {.lba = 8191, .buf = buf, .count = 2, .opc = NVME_CMD_READ}},
        {NVME_ERR_RANGE, {.lba = UINT64_MAX, .buf = buf, .count = 2, .opc = NVME_CMD_READ}},
        {NVME_ERR_INVAL, {.lba = 0, .buf = buf, .count = 0, .opc = NVME_CMD_READ}},
        {NVME_ERR_INVAL, {.lba = 0, .buf = NULL, .count = 1, .opc = NVME_CMD_WRITE}},
        {NVME_ERR_INVAL, {.lba = 0, .buf = buf, .count = 1, .opc = NVME_CMD_FLUSH}},
        {NVME_ERR_ALIGN, {.lba = 0, .buf = buf + 2, .count = 1, .opc = NVME_CMD_WRITE}},
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memset(rec, 0, sizeof(rec));
        for (unsigned k = 0; k < 4; k++)
            req[k] = (struct nvme_rw_req){.lba = k,
                                          .buf = buf + 4096u * k,
                                          .count = 1,
                                          .opc = NVME_CMD_READ,
                                          .cb = fx_rec_cb,
                                          .arg = &rec[k]};
        req[2] = cases[c].bad;
        req[2].cb = fx_rec_cb;
        req[2].arg = &rec[2];
        uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;
        assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 1, req, 4, 0, &in), cases[c].err);
        assert_int_equal(in, 2);
        fx_poll_until(&f, 1, &rec[0], 1000000); /* completions in any order */
        fx_poll_until(&f, 1, &rec[1], 1000000);
        assert_int_equal(rec[0].calls + rec[1].calls, 2);
        assert_int_equal(rec[2].calls + rec[3].calls, 0);
        assert_int_equal(nvme_sim_stats(f.sim)->io_cmds - cmds, 2);
    }
    /* A write to a namespace the host made read-only. */
    assert_int_equal(nvme_ns_set_read_only(f.ctrl, 1, true), 0);
    memset(rec, 0, sizeof(rec));
    req[0] = (struct nvme_rw_req){
        .buf = buf, .count = 1, .opc = NVME_CMD_READ, .cb = fx_rec_cb, .arg = &rec[0]};
    req[1] = (struct nvme_rw_req){
        .buf = buf, .count = 1, .opc = NVME_CMD_WRITE, .cb = fx_rec_cb, .arg = &rec[1]};
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 1, req, 2, 0, &in), NVME_ERR_RDONLY);
    assert_int_equal(in, 1);
    fx_poll_until(&f, 1, &rec[0], 1000000);
    assert_int_equal(rec[1].calls, 0);
    assert_int_equal(nvme_ns_set_read_only(f.ctrl, 1, false), 0);
    /* Whole-batch errors: what nvme_submit_rw says of its first request. */
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, 9, 1, req, 2, 0, &in), NVME_ERR_INVAL);
    assert_int_equal(in, 0);
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 7, req, 2, 0, &in), NVME_ERR_NOENT);
    assert_int_equal(in, 0);
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 1, NULL, 2, 0, &in), NVME_ERR_INVAL);
    assert_int_equal(nvme_submit_rw_batch(NULL, 1, 1, req, 2, 0, &in), NVME_ERR_INVAL);
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 1, req, 0, 0, &in), NVME_OK);
    assert_int_equal(in, 0);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    free(buf);
    fx_stop(&f);
}

/* A read or write lends its buffer to the device until its callback
 * says it is back (lifecycle rule 1): without a callback the caller never
 * learns when that is, nor whether the data moved.  Refused like any bad
 * argument (NVME_ERR_INVAL), nothing sent; in a batch, the request
 * without one is reqs[*submitted], the ones before it went in. */
static void a_read_or_write_without_a_callback_is_refused_and_sends_nothing(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *buf = xalloc(4 * 4096, 4096);
    uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf, 0, NULL, NULL),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_WRITE, 1, 0, 16, buf + 512, 0, NULL, NULL),
                     NVME_ERR_INVAL); /* a PRP list: the general path */
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds);
    /* In a batch: a one-page request (the batch's own placement), then
     * one that needs a PRP list (nvme_submit_rw's). */
    for (unsigned c = 0; c < 2; c++) {
        struct fx_rec rec[3];
        memset(rec, 0, sizeof(rec));
        struct nvme_rw_req req[3];
        for (unsigned k = 0; k < 3; k++)
            req[k] = (struct nvme_rw_req){.lba = k,
                                          .buf = buf + 4096u * k,
                                          .count = 1,
                                          .opc = NVME_CMD_READ,
                                          .cb = fx_rec_cb,
                                          .arg = &rec[k]};
        req[1].cb = NULL;
        if (c == 1) {
            req[1].buf = buf + 512;
            req[1].count = 16;
        }
        unsigned in = 99;
        cmds = nvme_sim_stats(f.sim)->io_cmds;
        assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 1, req, 3, 0, &in), NVME_ERR_INVAL);
        assert_int_equal(in, 1);
        fx_poll_until(&f, 1, &rec[0], 1000000);
        assert_int_equal(rec[0].calls, 1);
        assert_int_equal(rec[2].calls, 0);
        assert_int_equal(nvme_sim_stats(f.sim)->io_cmds - cmds, 1);
        assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    }
    free(buf);
    fx_stop(&f);
}

/* More requests than the queue has slots: it fills, the rest is refused
 * with NVME_ERR_BUSY, and what went in all completes once rung. */
static void a_batch_larger_than_the_queue_fills_it_and_says_busy(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.io_queue_entries = 16;
    fx_start(&f);
    enum { N = 40 };
    uint8_t *buf = xalloc(4096, 4096);
    struct nvme_rw_req req[N];
    unsigned calls = 0, in = 0;
    for (unsigned k = 0; k < N; k++)
        req[k] = (struct nvme_rw_req){
            .lba = k, .buf = buf, .count = 1, .opc = NVME_CMD_READ, .cb = count_cb, .arg = &calls};
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, 1, 1, req, N, NVME_SUBMIT_NO_DOORBELL, &in),
                     NVME_ERR_BUSY);
    assert_true(in > 0 && in < N);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), in);
    nvme_qpair_ring(f.ctrl, 1);
    for (int i = 0; i < 1000 && calls < in; i++) {
        nvme_qpair_poll(f.ctrl, 1, 0);
        nvme_sim_advance(f.sim, 1000); /* late completions come with time */
    }
    assert_int_equal(calls, in);
    assert_int_equal(nvme_qpair_outstanding(f.ctrl, 1), 0);
    free(buf);
    fx_stop(&f);
}

/* Review finding: nvme_read refuses a buffer whose range wraps the
 * address space (NVME_ERR_INVAL); nvme_compare handed its pieces to
 * dma_map, the second one at address 0. */
static void compare_refuses_a_buffer_that_wraps_the_address_space(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    void *top = (void *)(~(uintptr_t)0 & ~(uintptr_t)4095); /* the last 4 KiB page */
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 16, top), NVME_ERR_INVAL);
    assert_int_equal(nvme_compare(f.ctrl, 1, 0, 16, top), NVME_ERR_INVAL);
    fx_stop(&f); /* no dma_map of a wrapped address (host error) */
}

/* A callback that polls its own queue until another command's callback
 * ran, the two completions posted together: the nested poll reaps the
 * second, since the reap hands each completion to its callback before it
 * takes the next (nvme_qpair_reap).  A reap that collected a pass's
 * callbacks to run after it (one unlock for many) would leave the second
 * to the outer pass, and a callback waiting for it would wait forever
 * (helper F measured such batching: no fewer core instructions here, and
 * this case broken). */
struct nested_poll {
    struct nvme_ctrl *ctrl;
    unsigned b_done, a_saw_b;
};

static void nested_b_cb(void *arg, int result, uint32_t dw0)
{
    (void)result;
    (void)dw0;
    ((struct nested_poll *)arg)->b_done++;
}

static void nested_a_cb(void *arg, int result, uint32_t dw0)
{
    (void)result;
    (void)dw0;
    struct nested_poll *n = arg;
    for (int i = 0; i < 100 && n->b_done == 0; i++)
        (void)nvme_qpair_poll(n->ctrl, 1, 0);
    n->a_saw_b = n->b_done;
}

static void a_callback_polling_for_a_later_completion_gets_it(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.dma_timing_seed = 0; /* both entries posted inside the doorbell, in order */
    fx_start(&f);
    uint8_t *buf = xalloc(8192, 4096);
    struct nested_poll n = {f.ctrl, 0, 0};
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, buf, NVME_SUBMIT_NO_DOORBELL,
                                    nested_a_cb, &n),
                     0);
    assert_int_equal(nvme_submit_rw(f.ctrl, 1, NVME_CMD_READ, 1, 8, 1, buf + 4096,
                                    NVME_SUBMIT_NO_DOORBELL, nested_b_cb, &n),
                     0);
    nvme_qpair_ring(f.ctrl, 1); /* both posted before the first poll */
    for (int i = 0; i < 1000 && n.b_done == 0; i++)
        (void)nvme_qpair_poll(f.ctrl, 1, 0);
    assert_int_equal(n.b_done, 1);
    assert_int_equal(n.a_saw_b, 1);
    free(buf);
    fx_stop(&f);
}

/* A batch that looked for its queue before another CPU's reset created
 * it (the OSAL's cpu_id, called between the look and the checks, runs
 * that reset): nothing is sent and the call says so, NVME_ERR_STATE
 * ("submit again"), *submitted 0, no callback (before: reqs[0] sent by
 * the "say why" path, NVME_OK returned with *submitted 0, reqs[1] never
 * sent: a caller waiting for its callback would wait for ever).  (Found
 * by a review helper.) */
static struct fx *batch_fx;
static int batch_resets;
static unsigned cpu_id_resetting(void *ctx)
{
    (void)ctx;
    if (batch_resets > 0) {
        batch_resets--;
        assert_int_equal(nvme_ctrl_reset(batch_fx->ctrl), 0);
    }
    return 0;
}

static void a_batch_whose_queue_a_reset_made_after_its_look_sends_nothing(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_create(&f);
    batch_fx = &f;
    batch_resets = 0;
    f.osal.cpu_id = cpu_id_resetting;
    fx_init_admin_only(&f);
    uint8_t *buf = fx_xalloc(2 * 4096);
    fx_pattern(buf, 2 * 4096, 51);
    struct fx_rec r[2] = {{0, -100}, {0, -100}};
    struct nvme_rw_req reqs[2] = {{0, buf, fx_rec_cb, &r[0], 8, NVME_CMD_WRITE},
                                  {16, buf + 4096, fx_rec_cb, &r[1], 8, NVME_CMD_WRITE}};
    unsigned done = 99;
    batch_resets = 1;
    int rc = nvme_submit_rw_batch(f.ctrl, NVME_QID_CPU, 1, reqs, 2, 0, &done);
    assert_int_equal(batch_resets, 0); /* the reset ran inside the call */
    assert_false(nvme_ctrl_get_info(f.ctrl)->admin_only);
    assert_int_equal(rc, NVME_ERR_STATE);
    assert_int_equal(done, 0);
    for (int i = 0; i < 100; i++) {
        (void)nvme_qpair_poll(f.ctrl, 1, 0);
        nvme_sim_advance(f.sim, 100);
    }
    assert_int_equal(r[0].calls, 0);
    assert_int_equal(r[1].calls, 0);
    /* Submitted again, both go. */
    assert_int_equal(nvme_submit_rw_batch(f.ctrl, NVME_QID_CPU, 1, reqs, 2, 0, &done), 0);
    assert_int_equal(done, 2);
    fx_poll_until(&f, 1, &r[1], 100000);
    fx_poll_until(&f, 1, &r[0], 100000);
    assert_int_equal(r[0].calls, 1);
    assert_int_equal(r[1].calls, 1);
    fx_stop(&f);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mbr_on_lba0_reads_back_with_its_signature),
        cmocka_unit_test(every_prp_shape_moves_the_right_bytes),
        cmocka_unit_test(large_transfer_uses_chained_prp_list_pages),
        cmocka_unit_test(transfers_above_mdts_are_split_with_contents_intact),
        cmocka_unit_test(a_4096_byte_lba_namespace_reads_and_writes),
        cmocka_unit_test(bad_caller_input_gets_a_clear_error_and_reaches_no_device),
        cmocka_unit_test(nsid_0_is_no_namespace_whatever_the_queue_saw_before),
        cmocka_unit_test(dma_map_failure_is_reported_and_unwound),
        cmocka_unit_test(a_one_page_mapping_moved_off_its_offset_is_unmapped_and_sent_again),
        cmocka_unit_test(device_status_comes_back_as_the_status_field),
        cmocka_unit_test(flush_completes_on_the_io_queue),
        cmocka_unit_test(flush_of_every_namespace),
        cmocka_unit_test(a_batch_moves_the_right_bytes_with_one_doorbell),
        cmocka_unit_test(a_batch_stops_at_its_first_bad_request),
        cmocka_unit_test(a_read_or_write_without_a_callback_is_refused_and_sends_nothing),
        cmocka_unit_test(a_batch_larger_than_the_queue_fills_it_and_says_busy),
        cmocka_unit_test(compare_refuses_a_buffer_that_wraps_the_address_space),
        cmocka_unit_test(a_callback_polling_for_a_later_completion_gets_it),
        cmocka_unit_test(a_batch_whose_queue_a_reset_made_after_its_look_sends_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
