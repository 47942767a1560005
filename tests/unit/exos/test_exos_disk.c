/* SPDX-License-Identifier: MIT */
/*
 * test_exos_disk.c - the EXOS disk DRIVER of exos-glue with the block
 * calls mocked: what DF_DISK_* requests reach the core with, unaligned
 * buffers, access control, and nvme results mapped to DF_RETURN_* codes.
 */
#include <stdlib.h>
#include <string.h>

#include "exos_disk_calls.h"
#include "mock_exos.h"
#include "nvme_exos.h"

/* --- block ops mocked with cmocka ------------------------------------------- */

static uint8_t device_data[1024 * 512]; /* what the fake namespace holds */
static size_t mock_bs;                  /* its block size (512; 4096: a 4Kn namespace) */
/* Namespaces mock_flush was asked to flush (NVME_NSID_ALL: every one). */
static uint32_t flushed[32];
static unsigned nflushed;

static int mock_read(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    int rc;
    check_expected(h);
    check_expected(nsid);
    check_expected(lba);
    check_expected(count);
    check_expected(buf);
    rc = mock_type(int);
    if (rc == 0)
        memcpy(buf, device_data + lba * mock_bs, (size_t)count * mock_bs);
    else /* a failed read leaves the buffer undefined (part may be written) */
        memset(buf, 0xee, (size_t)count * mock_bs);
    return rc;
}

static int mock_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    int rc;
    check_expected(h);
    check_expected(nsid);
    check_expected(lba);
    check_expected(count);
    check_expected(buf);
    rc = mock_type(int);
    if (rc == 0)
        memcpy(device_data + lba * mock_bs, buf, (size_t)count * mock_bs);
    return rc;
}

static int mock_flush(void *h, uint32_t nsid)
{
    check_expected(nsid);
    if (nflushed < sizeof(flushed) / sizeof(flushed[0]))
        flushed[nflushed++] = nsid;
    (void)h;
    return mock_type(int);
}

static int mock_reset(void *h)
{
    check_expected(h);
    return mock_type(int);
}

static int mock_set_ro(void *h, uint32_t nsid, bool ro)
{
    (void)h;
    check_expected(nsid);
    check_expected(ro);
    return mock_type(int);
}

static const struct nvme_exos_blk_ops mock_ops = {
    .read = mock_read,
    .write = mock_write,
    .flush = mock_flush,
    .reset = mock_reset,
    .set_read_only = mock_set_ro,
};

#define HANDLE ((void *)0xC0FFEE)
#define BOUNCE_BYTES 8192u /* 16 blocks: small, to see the splitting */

static struct nvme_exos_blk blk;
static uint8_t *bounce;
static LPNVME_CORE_DISK disk;
static uint8_t *user; /* 4 KiB aligned caller buffer + slack */

static int setup(void **state)
{
    (void)state;
    mock_exos_reset();
    mock_bs = 512;
    nflushed = 0;
    bounce = aligned_alloc(4096, BOUNCE_BYTES);
    user = aligned_alloc(4096, 64 * 1024);
    for (size_t i = 0; i < sizeof(device_data); i++)
        device_data[i] = (uint8_t)(i * 7 + i / 512);
    nvme_exos_blk_init(&blk, &mock_ops, HANDLE, bounce, BOUNCE_BYTES, false);
    disk = nvme_exos_disk_create(&blk, 1, 512, 1000, false);
    assert_non_null(disk);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ReleaseKernelObject(disk);
    free(bounce);
    free(user);
    assert_int_equal(mock_exos.heap_live, 0);
    return 0;
}

static UINT disk_io(UINT fn, uint64_t lba, U32 count, void *buf, U32 size)
{
    IOCONTROL c;
    memset(&c, 0, sizeof(c));
    c.Disk = (LPSTORAGE_UNIT)disk;
    c.SectorLow = (U32)lba;
    c.SectorHigh = (U32)(lba >> 32);
    c.NumSectors = count;
    c.Buffer = buf;
    c.BufferSize = size;
    return NVMeCoreDiskCommands(fn, (UINT)&c);
}

static void expect_read(uint64_t lba, uint32_t count, const void *buf, int rc)
{
    expect_value(mock_read, h, HANDLE);
    expect_value(mock_read, nsid, 1);
    expect_value(mock_read, lba, lba);
    expect_value(mock_read, count, count);
    expect_value(mock_read, buf, (uintptr_t)buf);
    will_return(mock_read, rc);
}

static void expect_write(uint64_t lba, uint32_t count, const void *buf, int rc)
{
    expect_value(mock_write, h, HANDLE);
    expect_value(mock_write, nsid, 1);
    expect_value(mock_write, lba, lba);
    expect_value(mock_write, count, count);
    expect_value(mock_write, buf, (uintptr_t)buf);
    will_return(mock_write, rc);
}

/* --- the disk object ---------------------------------------------------------- */

static void test_disk_object_is_an_nvme_disk(void **state)
{
    (void)state;
    assert_int_equal(disk->Header.TypeID, KOID_DISK);
    assert_ptr_equal(disk->Header.Driver, &blk.driver);
    assert_int_equal(blk.driver.Type, DRIVER_TYPE_NVME_STORAGE); /* names it n<disk>p<part> */
    assert_int_equal(blk.driver.TypeID, KOID_DRIVER);
    assert_ptr_equal(blk.driver.Command, NVMeCoreDiskCommands);
    /* the DRIVER's generic functions, as EXOS's `drv` and loader ask them */
    assert_int_equal(NVMeCoreDiskCommands(DF_GET_VERSION, 0), MAKE_VERSION(2, 0));
    assert_int_equal(NVMeCoreDiskCommands(DF_LOAD, 0), DF_RETURN_SUCCESS);
}

static void test_getinfo_reports_namespace(void **state)
{
    DISKINFO info;
    LPNVME_CORE_DISK big;
    (void)state;
    memset(&info, 0xff, sizeof(info)); /* every field written, none left as found */
    info.Disk = (LPSTORAGE_UNIT)disk;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_GETINFO, (UINT)&info), DF_RETURN_SUCCESS);
    assert_int_equal(info.Type, DRIVER_TYPE_NVME_STORAGE);
    assert_int_equal(info.Removable, 0);
    assert_int_equal(info.BytesPerSector, 512);
    assert_int_equal(info.NumSectors, 1000);
    assert_int_equal(info.Access, 0);

    big = nvme_exos_disk_create(&blk, 2, 4096, 0x123456789ull, true);
    info.Disk = (LPSTORAGE_UNIT)big;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_GETINFO, (UINT)&info), DF_RETURN_SUCCESS);
    assert_int_equal(info.BytesPerSector, 4096);
    assert_int_equal(info.NumSectors, 0x123456789ull);
    assert_int_equal(info.Access, DISK_ACCESS_READONLY); /* the core said read-only */
    ReleaseKernelObject(big);
}

static void test_create_refuses_unusable_namespace(void **state)
{
    (void)state;
    assert_null(nvme_exos_disk_create(&blk, 0, 512, 10, false));
    assert_null(nvme_exos_disk_create(&blk, 3, 0, 10, false));
    assert_null(nvme_exos_disk_create(&blk, 3, 512, 0, false));
}

/* --- read/write dispatch --------------------------------------------------------- */

static void test_read_goes_to_core_zero_copy(void **state)
{
    (void)state;
    expect_read(0x10, 8, user, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 0x10, 8, user, 8 * 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 0x10 * 512, 8 * 512);
}

static void test_lba_is_sector_high_low(void **state)
{
    LPNVME_CORE_DISK huge;
    IOCONTROL c;
    (void)state;
    huge = nvme_exos_disk_create(&blk, 1, 512, 0x300000000ull, false);
    memset(&c, 0, sizeof(c));
    c.Disk = (LPSTORAGE_UNIT)huge;
    c.SectorLow = 0x10;
    c.SectorHigh = 0x2;
    c.NumSectors = 1;
    c.Buffer = user;
    c.BufferSize = 512;
    expect_value(mock_read, h, HANDLE);
    expect_value(mock_read, nsid, 1);
    expect_value(mock_read, lba, 0x200000010ull);
    expect_value(mock_read, count, 1);
    expect_value(mock_read, buf, (uintptr_t)user);
    will_return(mock_read, NVME_ERR_RANGE); /* (no data behind it here) */
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c), DF_RETURN_BAD_PARAMETER);
    ReleaseKernelObject(huge);
}

static void test_write_goes_to_core(void **state)
{
    (void)state;
    memset(user, 0xA5, 4 * 512);
    expect_write(7, 4, user, 0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 7, 4, user, 4 * 512), DF_RETURN_SUCCESS);
    assert_memory_equal(device_data + 7 * 512, user, 4 * 512);
}

static void test_write_through_flushes(void **state)
{
    (void)state;
    blk.write_through = true;
    expect_write(7, 1, user, 0);
    expect_value(mock_flush, nsid, 1);
    will_return(mock_flush, 0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 7, 1, user, 512), DF_RETURN_SUCCESS);
    /* a failed flush fails the write */
    expect_write(7, 1, user, 0);
    expect_value(mock_flush, nsid, 1);
    will_return(mock_flush, NVME_ERR_TIMEOUT);
    assert_int_equal(disk_io(DF_DISK_WRITE, 7, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
}

static void test_large_aligned_transfer_is_one_call(void **state)
{
    (void)state;
    /* The core splits by MDTS itself: one call for 128 blocks. */
    expect_read(0, 128, user, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 0, 128, user, 128 * 512), DF_RETURN_SUCCESS);
}

/* --- unaligned buffers --------------------------------------------------------------- */

static void test_unaligned_read_bounces(void **state)
{
    uint8_t *odd = user + 1;
    (void)state;
    expect_read(3, 2, bounce, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 3, 2, odd, 2 * 512), DF_RETURN_SUCCESS);
    assert_memory_equal(odd, device_data + 3 * 512, 2 * 512);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

static void test_unaligned_write_bounces(void **state)
{
    uint8_t *odd = user + 3;
    (void)state;
    memset(odd, 0x5A, 512);
    expect_write(9, 1, bounce, 0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, odd, 512), DF_RETURN_SUCCESS);
    assert_memory_equal(device_data + 9 * 512, odd, 512);
}

static void test_unaligned_large_transfer_is_split(void **state)
{
    uint8_t *odd = user + 2;
    (void)state;
    /* 40 blocks through a 16-block bounce buffer: 16 + 16 + 8 */
    expect_read(100, 16, bounce, 0);
    expect_read(116, 16, bounce, 0);
    expect_read(132, 8, bounce, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 100, 40, odd, 40 * 512), DF_RETURN_SUCCESS);
    assert_memory_equal(odd, device_data + 100 * 512, 40 * 512);
}

static void test_unaligned_split_stops_at_first_error(void **state)
{
    uint8_t *odd = user + 2;
    (void)state;
    expect_read(100, 16, bounce, 0);
    expect_read(116, 16, bounce, NVME_SF(2, 0x81) | NVME_SF_DNR_BIT); /* unrecovered read */
    assert_int_equal(disk_io(DF_DISK_READ, 100, 40, odd, 40 * 512), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

static void test_unmappable_buffer_falls_back_to_bounce(void **state)
{
    (void)state;
    expect_read(5, 1, user, NVME_ERR_DMA);
    expect_read(5, 1, bounce, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 5, 1, user, 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 5 * 512, 512);
    /* the core refusing the buffer's alignment (NVME_ERR_ALIGN): the same */
    memset(user, 0, 512);
    expect_read(6, 1, user, NVME_ERR_ALIGN);
    expect_read(6, 1, bounce, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 6, 1, user, 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 6 * 512, 512);
}

/* --- write-back cache, durability window, shutdown -------------------------------------- */

static uint8_t *cache_mem; /* 4 segments */

static void use_cache(void)
{
    cache_mem = aligned_alloc(4096, 4 * NVME_EXOS_SEG_BYTES);
    nvme_exos_blk_configure(&blk, true, 1000, cache_mem, 4 * NVME_EXOS_SEG_BYTES);
    assert_int_equal(blk.nsegs, 4);
}

static void done_cache(void)
{
    free(cache_mem);
    cache_mem = NULL;
}

static void expect_flush(int rc)
{
    expect_value(mock_flush, nsid, 1);
    will_return(mock_flush, rc);
}

/* A segment's blocks start at blk.segs[i].data: find the one holding lba. */
static const void *seg_data_of(uint64_t lba)
{
    for (unsigned i = 0; i < blk.nsegs; i++)
        if (blk.segs[i].nsid == 1 && lba >= blk.segs[i].first &&
            lba < blk.segs[i].first + blk.segs[i].blocks)
            return blk.segs[i].data + (lba - blk.segs[i].first) * 512;
    return NULL;
}

static void test_default_is_write_back(void **state)
{
    (void)state;
    assert_false(blk.write_through);
    assert_int_equal(blk.flush_ms, NVME_EXOS_FLUSH_MS);
    assert_int_equal(NVME_EXOS_FLUSH_MS, 1000);
}

static void test_adjacent_writes_merge_into_one_command(void **state)
{
    (void)state;
    use_cache();
    /* Eight one-sector writes, as EXOS's file systems issue them: none
     * reaches the device yet. */
    for (unsigned i = 0; i < 8; i++) {
        memset(user, 0x30 + i, 512);
        assert_int_equal(disk_io(DF_DISK_WRITE, 16 + i, 1, user, 512), DF_RETURN_SUCCESS);
    }
    assert_true(blk.unflushed);
    /* A read of them is served from the cache. */
    assert_int_equal(disk_io(DF_DISK_READ, 19, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(user[0], 0x33);
    /* The window passes: one write command of 8 blocks, then a Flush. */
    mock_exos.sys_ms += 1000;
    expect_write(16, 8, seg_data_of(16), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_false(blk.unflushed);
    assert_int_equal(device_data[16 * 512], 0x30);
    assert_int_equal(device_data[23 * 512 + 511], 0x37);
    assert_int_equal(blk.stats.flushes, 1);
    /* Nothing left: the next tick does nothing. */
    mock_exos.sys_ms += 5000;
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    done_cache();
}

static void test_window_is_not_passed_early(void **state)
{
    (void)state;
    use_cache();
    mock_exos.sys_ms = 5000;
    assert_int_equal(disk_io(DF_DISK_WRITE, 3, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms = 5999;
    assert_int_equal(nvme_exos_blk_tick(&blk), 0); /* no mock call expected */
    /* The window counts from the first write since the last Flush, not
     * from the latest one. */
    assert_int_equal(disk_io(DF_DISK_WRITE, 4, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms = 6000;
    expect_write(3, 2, seg_data_of(3), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    done_cache();
}

static void test_request_path_keeps_the_window(void **state)
{
    (void)state;
    use_cache();
    assert_int_equal(disk_io(DF_DISK_WRITE, 40, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1500;
    /* A writer that keeps the lock busy: its own request syncs. */
    expect_write(40, 2, seg_data_of(40), 0);
    expect_flush(0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 41, 1, user, 512), DF_RETURN_SUCCESS);
    assert_false(blk.unflushed);
    done_cache();
}

static void test_read_miss_reads_whole_segment_ahead(void **state)
{
    (void)state;
    use_cache();
    /* 64 KiB segments of 512-byte blocks: LBA 130 lives in [128, 256). */
    expect_value(mock_read, h, HANDLE);
    expect_value(mock_read, nsid, 1);
    expect_value(mock_read, lba, 128);
    expect_value(mock_read, count, 128);
    expect_any(mock_read, buf);
    will_return(mock_read, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 130, 1, user, 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 130 * 512, 512);
    /* the next sectors are hits: no more mock calls */
    assert_int_equal(disk_io(DF_DISK_READ, 131, 4, user, 4 * 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 131 * 512, 4 * 512);
    assert_int_equal(blk.stats.read_hits, 1);
    assert_int_equal(blk.stats.read_misses, 1);
    done_cache();
}

static void test_last_segment_is_clamped_to_namespace(void **state)
{
    (void)state;
    use_cache();
    /* The namespace has 1000 blocks: the segment [896, 1024) holds 104. */
    expect_value(mock_read, h, HANDLE);
    expect_value(mock_read, nsid, 1);
    expect_value(mock_read, lba, 896);
    expect_value(mock_read, count, 104);
    expect_any(mock_read, buf);
    will_return(mock_read, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 999, 1, user, 512), DF_RETURN_SUCCESS);
    done_cache();
}

static void test_large_requests_bypass_cache_after_dirty_overlap(void **state)
{
    (void)state;
    use_cache();
    memset(user, 0x77, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 2, 1, user, 512), DF_RETURN_SUCCESS);
    /* A 64 KiB read over it: one zero-copy read of the whole request,
     * the dirty block taken from the cache (nothing written first). */
    expect_read(0, 128, user, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 0, 128, user, 128 * 512), DF_RETURN_SUCCESS);
    assert_int_equal(user[2 * 512], 0x77);
    /* A large write goes straight out and replaces the cached copy (clean). */
    memset(user, 0x55, 128 * 512);
    expect_write(0, 128, user, 0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 0, 128, user, 128 * 512), DF_RETURN_SUCCESS);
    assert_int_equal(((const uint8_t *)seg_data_of(2))[0], 0x55);
    assert_true(blk.unflushed); /* the Flush is still owed */
    mock_exos.sys_ms += 1000;
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    done_cache();
}

/* A large write that fails half way (here its second bounce piece) has
 * reached the device in part: the clean cached copies of its blocks are
 * dropped, the next read of them goes to the device (before: the old data
 * from the cache, the device's new data after an eviction); a dirty
 * block stays as cached. */
static void test_a_large_write_failing_half_way_drops_clean_cached_copies(void **state)
{
    /* (aligned_alloc: a size that is a multiple of the alignment) */
    uint8_t *big = aligned_alloc(4096, 136 * 512), *odd = big + 2;
    uint8_t *seg;
    (void)state;
    use_cache();
    expect_read(128, 128, blk.segs[0].data, 0); /* [128, 256) cached clean */
    assert_int_equal(disk_io(DF_DISK_READ, 130, 1, user, 512), DF_RETURN_SUCCESS);
    seg = blk.segs[0].data;
    memset(user, 0x77, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 200, 1, user, 512), DF_RETURN_SUCCESS); /* dirty */
    memset(odd, 0x5a, 128 * 512);
    expect_write(128, 16, bounce, 0);
    expect_write(144, 16, bounce, NVME_SF(NVME_SCT_MEDIA, 0x80) | NVME_SF_DNR_BIT);
    assert_int_equal(disk_io(DF_DISK_WRITE, 128, 128, odd, 128 * 512), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(device_data[130 * 512], 0x5a); /* the device took the first piece */
    /* Read again: from the device, around the dirty block. */
    expect_read(128, 72, seg, 0);
    expect_read(201, 55, seg + 73 * 512, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 130, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(user[0], 0x5a);
    assert_int_equal(disk_io(DF_DISK_READ, 200, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(user[0], 0x77);
    free(big);
    done_cache();
}

/* A 4Kn namespace (LBADS 12): EXOS asks in its sectors (DF_DISK_GETINFO's
 * BytesPerSector, 4096) and every path moves whole 4 KiB blocks: a
 * segment holds 16 of them, the bounce buffer 2, a buffer of one 512-byte
 * sector is too short for one, and a request of 16 blocks (64 KiB) is a
 * large one that bypasses the cache. */
static void expect_ns2(bool write, uint64_t lba, uint32_t count, const void *buf, int rc)
{
    if (write) {
        expect_value(mock_write, h, HANDLE);
        expect_value(mock_write, nsid, 2);
        expect_value(mock_write, lba, lba);
        expect_value(mock_write, count, count);
        if (buf != NULL)
            expect_value(mock_write, buf, (uintptr_t)buf);
        else
            expect_any(mock_write, buf);
        will_return(mock_write, rc);
    } else {
        expect_value(mock_read, h, HANDLE);
        expect_value(mock_read, nsid, 2);
        expect_value(mock_read, lba, lba);
        expect_value(mock_read, count, count);
        if (buf != NULL)
            expect_value(mock_read, buf, (uintptr_t)buf);
        else
            expect_any(mock_read, buf);
        will_return(mock_read, rc);
    }
}

static void test_a_4k_namespace_moves_whole_4k_blocks(void **state)
{
    LPNVME_CORE_DISK d4;
    IOCONTROL c;
    uint8_t *odd = user + 1;
    (void)state;
    mock_bs = 4096;
    d4 = nvme_exos_disk_create(&blk, 2, 4096, 100, false); /* 400 KiB of device_data */
    assert_non_null(d4);
    memset(&c, 0, sizeof(c));
    c.Disk = (LPSTORAGE_UNIT)d4;
    c.Buffer = user;

    /* One 512-byte sector's buffer cannot hold a block: refused. */
    c.NumSectors = 1;
    c.BufferSize = 512;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c), DF_RETURN_BAD_PARAMETER);

    /* Unaligned, no cache: through the 8 KiB bounce buffer, 2 blocks a
     * piece, every byte of the 3 blocks in place. */
    expect_ns2(false, 5, 2, bounce, 0);
    expect_ns2(false, 7, 1, bounce, 0);
    c.Buffer = odd;
    c.SectorLow = 5;
    c.NumSectors = 3;
    c.BufferSize = 3 * 4096;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c), DF_RETURN_SUCCESS);
    assert_memory_equal(odd, device_data + 5 * 4096, 3 * 4096);

    use_cache();
    /* A read miss reads the 16-block segment [16, 32) ahead and serves
     * block 18 from it. */
    expect_ns2(false, 16, 16, NULL, 0);
    c.Buffer = user;
    c.SectorLow = 18;
    c.NumSectors = 1;
    c.BufferSize = 4096;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 18 * 4096, 4096);

    /* Two blocks written: cached, then one write of 2 blocks and a Flush
     * when the window passes; the block after them untouched. */
    memset(user, 0x5A, 2 * 4096);
    c.SectorLow = 20;
    c.NumSectors = 2;
    c.BufferSize = 2 * 4096;
    uint8_t after = device_data[22 * 4096];
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_WRITE, (UINT)&c), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    expect_ns2(true, 20, 2, NULL, 0);
    expect_value(mock_flush, nsid, 2);
    will_return(mock_flush, 0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    for (unsigned i = 0; i < 2 * 4096; i++)
        assert_int_equal(device_data[20 * 4096 + i], 0x5A);
    assert_int_equal(device_data[22 * 4096], after);

    /* 16 blocks (64 KiB): one zero-copy write over the cached segment,
     * whose copies of the blocks then hold the new data, block by block. */
    for (unsigned b = 0; b < 16; b++)
        memset(user + b * 4096, 0x40 + (int)b, 4096);
    expect_ns2(true, 16, 16, user, 0);
    c.SectorLow = 16;
    c.NumSectors = 16;
    c.BufferSize = 16 * 4096;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_WRITE, (UINT)&c), DF_RETURN_SUCCESS);
    memset(user, 0, 4096);
    c.SectorLow = 25; /* a hit: no device read */
    c.NumSectors = 1;
    c.BufferSize = 4096;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c), DF_RETURN_SUCCESS);
    for (unsigned i = 0; i < 4096; i++)
        assert_int_equal(user[i], 0x49);
    mock_exos.sys_ms += 1000;
    expect_value(mock_flush, nsid, 2);
    will_return(mock_flush, 0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    ReleaseKernelObject(d4);
    done_cache();
}

/* More namespaces written than the Flush bookkeeping tracks (8): every
 * one of them is Flushed at the window all the same (by NSID or by a
 * Flush of every namespace), none left out of the durability window. */
static void test_writes_to_more_namespaces_than_tracked_are_all_flushed(void **state)
{
    LPNVME_CORE_DISK d[10];
    IOCONTROL c;
    (void)state;
    for (unsigned n = 1; n <= 9; n++) {
        d[n] = n == 1 ? disk : nvme_exos_disk_create(&blk, n, 512, 1000, false);
        memset(&c, 0, sizeof(c));
        c.Disk = (LPSTORAGE_UNIT)d[n];
        c.NumSectors = 1;
        c.Buffer = user;
        c.BufferSize = 512;
        expect_value(mock_write, h, HANDLE);
        expect_value(mock_write, nsid, n);
        expect_value(mock_write, lba, 0);
        expect_value(mock_write, count, 1);
        expect_value(mock_write, buf, (uintptr_t)user);
        will_return(mock_write, 0);
        assert_int_equal(NVMeCoreDiskCommands(DF_DISK_WRITE, (UINT)&c), DF_RETURN_SUCCESS);
    }
    mock_exos.sys_ms += 1000;
    expect_any_count(mock_flush, nsid, -1);
    will_return_always(mock_flush, 0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    for (unsigned n = 1; n <= 9; n++) {
        bool covered = false;
        for (unsigned i = 0; i < nflushed; i++)
            covered |= flushed[i] == n || flushed[i] == NVME_NSID_ALL;
        assert_true(covered);
    }
    assert_false(blk.unflushed);
    for (unsigned n = 2; n <= 9; n++)
        ReleaseKernelObject(d[n]);
}

static void test_eviction_writes_back_least_recently_used(void **state)
{
    (void)state;
    use_cache();
    /* Five segments through a four-segment cache. */
    for (unsigned s = 0; s < 4; s++)
        assert_int_equal(disk_io(DF_DISK_WRITE, s * 128, 1, user, 512), DF_RETURN_SUCCESS);
    expect_write(0, 1, seg_data_of(0), 0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 4 * 128, 1, user, 512), DF_RETURN_SUCCESS);
    assert_null(seg_data_of(0));
    done_cache();
}

static void test_failed_write_back_stays_owed(void **state)
{
    (void)state;
    use_cache();
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    expect_write(9, 1, seg_data_of(9), NVME_ERR_TIMEOUT);
    expect_flush(0); /* for what did get written (none here) */
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_ERR_TIMEOUT);
    assert_true(blk.unflushed);
    mock_exos.sys_ms += 1000; /* tried again one window later */
    expect_write(9, 1, seg_data_of(9), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_false(blk.unflushed);
    done_cache();
}

static void expect_read_any(uint64_t lba, uint32_t count, int rc)
{
    expect_value(mock_read, h, HANDLE);
    expect_value(mock_read, nsid, 1);
    expect_value(mock_read, lba, lba);
    expect_value(mock_read, count, count);
    expect_any(mock_read, buf);
    will_return(mock_read, rc);
}

static void expect_segment_read(uint64_t lba)
{
    expect_value(mock_read, h, HANDLE);
    expect_value(mock_read, nsid, 1);
    expect_value(mock_read, lba, lba);
    expect_value(mock_read, count, 128);
    expect_any(mock_read, buf);
    will_return(mock_read, 0);
}

/* A namespace that refuses writes (QEMU -drive readonly=on: Write Fault)
 * keeps its cached writes owed.  Seen on EXOS x86-64 (nvme1n3 on such a
 * drive, a file written to it): once that segment was the least recently
 * used, a read of the disk evicted it, the write-back failed again, and
 * the read failed with the write's status ("Read failed NSID=3 ...
 * rc=640", cp of a 6 MB file: "Short read 0/6000000").  A clean segment
 * is the victim; with every segment dirty, one whose write-back works. */
static void test_a_segment_whose_write_back_fails_does_not_fail_other_requests(void **state)
{
    (void)state;
    use_cache();
    memset(user, 0x42, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    expect_write(9, 1, seg_data_of(9), NVME_SF(2, 0x80));
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80));
    /* Three segments read: the cache is full, the owed one the oldest. */
    for (unsigned s = 1; s < 4; s++) {
        expect_segment_read(s * 128);
        assert_int_equal(disk_io(DF_DISK_READ, s * 128, 1, user, 512), DF_RETURN_SUCCESS);
    }
    /* A fifth: a clean segment goes, no write is sent. */
    expect_segment_read(4 * 128);
    assert_int_equal(disk_io(DF_DISK_READ, 4 * 128 + 3, 1, user, 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + (4 * 128 + 3) * 512, 512);
    assert_int_equal(disk_io(DF_DISK_READ, 9, 1, user, 512), DF_RETURN_SUCCESS); /* still cached */
    assert_int_equal(user[0], 0x42);
    /* Every segment dirty: the owed one is not tried again before the
     * next sync (it failed in this window), the next oldest goes. */
    assert_int_equal(disk_io(DF_DISK_WRITE, 2 * 128, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(DF_DISK_WRITE, 3 * 128, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(DF_DISK_WRITE, 4 * 128, 1, user, 512), DF_RETURN_SUCCESS);
    expect_write(2 * 128, 1, seg_data_of(2 * 128), 0);
    expect_segment_read(5 * 128);
    assert_int_equal(disk_io(DF_DISK_READ, 5 * 128, 1, user, 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 5 * 128 * 512, 512);
    done_cache();
}

/* A read miss in a segment that holds owed writes the device refuses
 * (Write Fault): before, the segment was written back first and the read
 * failed with the write's status.  Seen on EXOS x86-64 after the fix
 * above: `cp /fs/n3p0/big.bin ...` read a block of big.bin next to the
 * blocks of a new file (`Read failed NSID=3 LBA=0x0:0x4580 count=8
 * rc=640`).  The segment is read around the dirty block, which stays
 * cached and owed. */
static void test_a_read_miss_next_to_writes_that_fail_reads_around_them(void **state)
{
    (void)state;
    use_cache();
    memset(user, 0x42, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    expect_write(9, 1, seg_data_of(9), NVME_SF(2, 0x80));
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80));
    expect_read(0, 9, seg_data_of(0), 0);
    expect_read(10, 118, seg_data_of(10), 0);
    assert_int_equal(disk_io(DF_DISK_READ, 8, 3, user, 3 * 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 8 * 512, 512);
    assert_int_equal(user[512], 0x42);
    assert_memory_equal(user + 1024, device_data + 10 * 512, 512);
    /* every block valid now: hits, no command */
    assert_int_equal(disk_io(DF_DISK_READ, 100, 1, user, 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 100 * 512, 512);
    assert_true(blk.unflushed); /* still owed */
    done_cache();
}

/* A segment read that fails leaves none of the blocks it read valid: a
 * failed command's data is undefined (the device may have written part
 * of it), over blocks cached clean too. */
static void test_a_failed_segment_read_leaves_no_block_it_read_valid(void **state)
{
    (void)state;
    use_cache();
    /* Segment [128, 256) with blocks 128..191 cached clean: a large
     * write over them (the block 200 written back by the window first). */
    assert_int_equal(disk_io(DF_DISK_WRITE, 200, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    expect_write(200, 1, seg_data_of(200), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    memset(user, 0x61, 128 * 512);
    expect_write(64, 128, user, 0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 64, 128, user, 128 * 512), DF_RETURN_SUCCESS);
    /* A miss in it whose read fails. */
    expect_value(mock_read, h, HANDLE);
    expect_value(mock_read, nsid, 1);
    expect_value(mock_read, lba, 128);
    expect_value(mock_read, count, 128);
    expect_any(mock_read, buf);
    will_return(mock_read, NVME_SF(2, 0x81));
    expect_read_any(220, 1, NVME_SF(2, 0x81)); /* the request's block alone */
    assert_int_equal(disk_io(DF_DISK_READ, 220, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    /* Block 150 is read again, not served from what the failed read left. */
    expect_segment_read(128);
    assert_int_equal(disk_io(DF_DISK_READ, 150, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(user[0], 0x61);
    done_cache();
}

/* An unreadable block (Unrecovered Read Error; QEMU blkdebug) fails the
 * read ahead of its whole 64 KiB segment: the request's own blocks are
 * then read alone, so only a request that reads the bad block fails, as
 * Linux falls back from a failed read ahead to the pages asked for.
 * Before, every block of the segment was unreadable. */
static void test_a_failed_read_ahead_reads_the_request_alone(void **state)
{
    (void)state;
    use_cache();
    expect_read_any(128, 128, NVME_SF(2, 0x81));
    expect_read_any(200, 2, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 200, 2, user, 1024), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 200 * 512, 1024);
    assert_int_equal(disk_io(DF_DISK_READ, 201, 1, user, 512), DF_RETURN_SUCCESS); /* a hit */
    assert_memory_equal(user, device_data + 201 * 512, 512);
    /* The bad block itself: an error, not data. */
    expect_read_any(128, 128, NVME_SF(2, 0x81));
    expect_read_any(130, 1, NVME_SF(2, 0x81));
    assert_int_equal(disk_io(DF_DISK_READ, 130, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    done_cache();
}

/* A device whose LBA 9 refuses writes (Write Fault) and reads well. */
static unsigned bad9_writes;
static int bad9_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h, (void)nsid;
    bad9_writes++;
    if (lba <= 9 && lba + count > 9)
        return NVME_SF(2, 0x80);
    memcpy(device_data + lba * 512, buf, (size_t)count * 512);
    return 0;
}
static int good_read(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    (void)h, (void)nsid;
    memcpy(buf, device_data + lba * 512, (size_t)count * 512);
    return 0;
}
static int good_flush(void *h, uint32_t nsid)
{
    (void)h, (void)nsid;
    return 0;
}
static const struct nvme_exos_blk_ops bad9_ops = {
    .read = good_read, .write = bad9_write, .flush = good_flush};

/* A request of a segment or more goes straight to the core.  Over a
 * segment holding a write the device refuses (kept owed), it must not
 * fail for that block's write-back, as a request through the cache does
 * not (test above): a read takes the cached block, newer than the
 * device's; a write replaces it.  Before, the owed block was written
 * back first and both failed with its Write Fault (DF_RETURN_INPUT_OUTPUT),
 * though the read's data was all there and the write never went out. */
static void test_a_large_request_over_a_refused_write_back_does_not_fail(void **state)
{
    (void)state;
    use_cache();
    blk.ops = &bad9_ops;
    memset(user, 0x42, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80)); /* owed */
    assert_int_equal(disk_io(DF_DISK_READ, 0, 128, user, 128 * 512), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data, 9 * 512);
    assert_int_equal(user[9 * 512], 0x42);
    assert_memory_equal(user + 10 * 512, device_data + 10 * 512, 118 * 512);
    /* A large write over LBA 9 (the device takes it there: a write of a
     * full run, say, that remaps the block).  Its data is what the cache
     * holds for LBA 9 from now on, clean: nothing older goes out over it. */
    blk.ops = &mock_ops;
    memset(user, 0x55, 128 * 512);
    expect_write(0, 128, user, 0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 0, 128, user, 128 * 512), DF_RETURN_SUCCESS);
    assert_int_equal(((const uint8_t *)seg_data_of(9))[0], 0x55);
    mock_exos.sys_ms += 1000;
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_false(blk.unflushed);
    done_cache();
}

/* A device that refuses writes below LBA 512 (Write Fault) and reads
 * well. */
static int low_refused_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h, (void)nsid;
    if (lba < 512)
        return NVME_SF(2, 0x80);
    memcpy(device_data + lba * 512, buf, (size_t)count * 512);
    return 0;
}
static const struct nvme_exos_blk_ops low_refused_ops = {
    .read = good_read, .write = low_refused_write, .flush = good_flush};

/* Every segment holds writes the device refuses (kept owed): a request
 * for blocks no segment holds goes to the device without the cache,
 * rather than fail.  Before, it failed with the last write-back's status
 * (DF_RETURN_INPUT_OUTPUT), reads and writes of every namespace of the
 * controller alike, for as long as the refused writes stayed owed (a
 * file of 2 MiB written to a drive that refuses writes fills the cache). */
/* A rescan inside a write-back (the core's recovery from a timed out
 * write found the namespace formatted to 4096-byte blocks) retires the
 * disk in the middle of a request that needed two evictions: the blocks
 * it had cached before are dropped with the disk (logged), the ones after
 * must not go into a segment for the retired disk.  Before: they did, the
 * request was answered DF_RETURN_SUCCESS (a write acknowledged that
 * nothing ever writes), and that segment stayed dirty for NSID 1: served
 * to the namespace's next disk, in the old block size. */
static struct nvme_ns_info fmt_ns;
static unsigned fmt_writes;
static int format_during_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count,
                               const void *buf)
{
    (void)h, (void)nsid, (void)lba, (void)count, (void)buf;
    if (++fmt_writes == 1) { /* the first write-back: the rescan comes in it */
        fmt_ns.lba_size = 4096;
        fmt_ns.lbads = 12;
        fmt_ns.nsze = 125;
        fmt_ns.gen++;
    }
    return 0;
}
static const struct nvme_ns_info *fmt_ns_info(void *h, uint32_t nsid)
{
    (void)h;
    return nsid == 1 ? &fmt_ns : NULL;
}
static const struct nvme_exos_blk_ops fmt_ops = {
    .write = format_during_write, .flush = mock_flush, .ns_info = fmt_ns_info};

static void test_a_disk_retired_during_a_request_takes_none_of_its_writes(void **state)
{
    LPNVME_CORE_DISK d;
    (void)state;
    memset(&fmt_ns, 0, sizeof(fmt_ns));
    fmt_ns.nsid = 1;
    fmt_ns.nsze = 1000;
    fmt_ns.lba_size = 512;
    fmt_ns.lbads = 9;
    fmt_ns.plain_io = true;
    fmt_ns.csi = NVME_CSI_NVM;
    fmt_writes = 0;
    nvme_exos_blk_init(&blk, &fmt_ops, HANDLE, bounce, BOUNCE_BYTES, false);
    use_cache();
    d = nvme_exos_disk_create(&blk, 1, 512, 1000, false);
    nvme_exos_disk_set_policy(d, &fmt_ns);
    ReleaseKernelObject(disk);
    disk = d;                        /* disk_io's, released by teardown */
    for (unsigned i = 0; i < 4; i++) /* four segments, all dirty */
        assert_int_equal(disk_io(DF_DISK_WRITE, i * 128u, 1, user, 512), DF_RETURN_SUCCESS);
    /* Blocks 767 and 768: two segments, two evictions. */
    assert_int_equal(disk_io(DF_DISK_WRITE, 767, 2, user, 1024), DF_RETURN_HARDWARE_ABSENT);
    assert_true(d->Retired);
    for (unsigned i = 0; i < blk.nsegs; i++)
        assert_int_equal(blk.segs[i].nsid, 0);
    assert_false(nvme_exos_blk_owes(&blk, 1));
    done_cache();
}

/* The cache over a device that refuses writes (Write Fault): four
 * segments dirty with 42h, and the sync's write-back refused. */
static void fill_cache_with_refused_writes(void)
{
    use_cache();
    blk.ops = &low_refused_ops;
    memset(user, 0x42, 512);
    for (unsigned s = 0; s < 4; s++)
        assert_int_equal(disk_io(DF_DISK_WRITE, s * 128, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80));
}

static void test_a_cache_full_of_refused_writes_does_not_fail_other_requests(void **state)
{
    (void)state;
    fill_cache_with_refused_writes();
    assert_int_equal(disk_io(DF_DISK_READ, 600, 2, user, 1024), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 600 * 512, 1024);
    /* Across a cached segment's end into an uncached one: all of it. */
    assert_int_equal(disk_io(DF_DISK_READ, 510, 4, user, 2048), DF_RETURN_SUCCESS);
    assert_memory_equal(user, device_data + 510 * 512, 2048);
    memset(user, 0x66, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 700, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(device_data[700 * 512], 0x66);
    /* The owed writes are still cached, and read from there. */
    assert_int_equal(disk_io(DF_DISK_READ, 128, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(user[0], 0x42);
    done_cache();
}

/* Write-backs that failed are tried again once a window (the sync), not
 * by every request that needs a segment: before, each such request sent
 * one refused write per segment (up to 64 with the default cache) before
 * going to the device. */
static void test_refused_write_backs_are_not_tried_again_by_each_request(void **state)
{
    uint64_t cmds;
    (void)state;
    fill_cache_with_refused_writes();
    cmds = blk.stats.write_cmds;
    for (unsigned r = 0; r < 3; r++) {
        assert_int_equal(disk_io(DF_DISK_READ, 600, 2, user, 1024), DF_RETURN_SUCCESS);
        assert_memory_equal(user, device_data + 600 * 512, 1024);
    }
    assert_int_equal(blk.stats.write_cmds, cmds); /* reads only */
    /* The next window's sync tries each of them again. */
    mock_exos.sys_ms += 1000;
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80));
    assert_int_equal(blk.stats.write_cmds, cmds + 4);
    assert_true(nvme_exos_blk_owes(&blk, 1));
    done_cache();
}

/* A device that refuses writes (QEMU -drive readonly=on: Write Fault;
 * a zoned namespace): the timer runs every 5..50 ms.  It must not send
 * every dirty run again (and log a warning) at each call, only once a
 * window; the requests' own window check likewise. */
static void test_failed_write_back_is_tried_once_a_window(void **state)
{
    (void)state;
    use_cache();
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    expect_write(9, 1, seg_data_of(9), NVME_SF(2, 0x80));
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80));
    for (unsigned i = 0; i < 19; i++) { /* no device call expected */
        mock_exos.sys_ms += 50;
        assert_int_equal(nvme_exos_blk_tick(&blk), 0);
        assert_int_equal(disk_io(DF_DISK_READ, 9, 1, user, 512), DF_RETURN_SUCCESS);
    }
    mock_exos.sys_ms += 50;
    expect_write(9, 1, seg_data_of(9), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_false(blk.unflushed);
    done_cache();
}

/* A write-back that fails for one block (a bad LBA: Write Fault, say)
 * while the namespace's other dirty blocks are written back: those are
 * clean now and never written again, so only a Flush makes them durable
 * (NVMe 2.0 Base 7.1: Flush commits the volatile write cache).  Seen on
 * EXOS with blkdebug failing one sector: 83 writes, 0 Flushes until the
 * shutdown. */
static void test_failed_write_back_still_flushes_what_was_written(void **state)
{
    (void)state;
    use_cache();
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(DF_DISK_WRITE, 500, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    expect_write(9, 1, seg_data_of(9), NVME_SF(2, 0x80));
    expect_write(500, 1, seg_data_of(500), 0);
    expect_flush(0); /* LBA 500 was written back: it is made durable */
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80));
    assert_true(blk.unflushed); /* LBA 9 stays owed */
    done_cache();
}

/* One bad block (QEMU blkdebug failing sector 20000: Write Fault) in a
 * run of dirty blocks.  Before, the whole run failed at each window and
 * was dropped at shutdown: on EXOS x86-64, 65,320 bytes of a copied
 * file never reached the medium for one bad sector.  The run is written
 * again in halves: every block the device takes is written, only the
 * bad one stays owed, tried alone once a window. */
static void test_a_failed_write_back_is_written_again_in_halves(void **state)
{
    (void)state;
    use_cache();
    memset(user, 0x5a, 8 * 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 16, 8, user, 8 * 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    expect_write(16, 8, seg_data_of(16), NVME_SF(2, 0x80));
    expect_write(16, 4, seg_data_of(16), 0);
    expect_write(20, 4, seg_data_of(20), NVME_SF(2, 0x80));
    expect_write(20, 2, seg_data_of(20), 0);
    expect_write(22, 2, seg_data_of(22), NVME_SF(2, 0x80));
    expect_write(22, 1, seg_data_of(22), NVME_SF(2, 0x80));
    expect_write(23, 1, seg_data_of(23), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80));
    assert_memory_equal(device_data + 16 * 512, user, 6 * 512);
    assert_memory_equal(device_data + 23 * 512, user, 512);
    assert_int_not_equal(device_data[22 * 512], 0x5a);
    assert_true(blk.unflushed);        /* LBA 22 still owed */
    for (unsigned w = 0; w < 2; w++) { /* then LBA 22 alone, once a window */
        mock_exos.sys_ms += 500;
        assert_int_equal(nvme_exos_blk_tick(&blk), 0);
        mock_exos.sys_ms += 500;
        expect_write(22, 1, seg_data_of(22), NVME_SF(2, 0x80));
        expect_flush(0);
        assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80));
    }
    done_cache();
}

/* Failures that are the same for every block of a run (Namespace is
 * Write Protected, a timeout) are not split: one command a window. */
static void test_a_write_back_failing_for_the_namespace_is_not_split(void **state)
{
    (void)state;
    use_cache();
    assert_int_equal(disk_io(DF_DISK_WRITE, 16, 8, user, 8 * 512), DF_RETURN_SUCCESS);
    for (unsigned w = 0; w < 2; w++) {
        mock_exos.sys_ms += 1000;
        expect_write(16, 8, seg_data_of(16), NVME_SF(0, 0x20));
        expect_flush(0);
        assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(0, 0x20));
    }
    done_cache();
}

/* A device that refuses every write with a media error: the halving
 * stops at the sync's budget, and a run found bad is one command a
 * window afterwards, not one per block. */
static void test_splitting_a_failed_write_back_is_bounded(void **state)
{
    unsigned calls = 0;
    (void)state;
    use_cache();
    assert_int_equal(disk_io(DF_DISK_WRITE, 0, 64, user, 64 * 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(DF_DISK_WRITE, 128, 64, user, 64 * 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(DF_DISK_WRITE, 256, 64, user, 64 * 512), DF_RETURN_SUCCESS);
    expect_value_count(mock_write, h, HANDLE, -1);
    expect_value_count(mock_write, nsid, 1, -1);
    expect_any_count(mock_write, lba, -1);
    expect_any_count(mock_write, count, -1);
    expect_any_count(mock_write, buf, -1);
    will_return_always(mock_write, NVME_SF(2, 0x80));
    for (unsigned w = 0; w < 6; w++) {
        unsigned before = (unsigned)blk.stats.write_cmds;
        mock_exos.sys_ms += 1000;
        expect_flush(0);
        assert_int_equal(nvme_exos_blk_tick(&blk), NVME_SF(2, 0x80));
        calls = (unsigned)blk.stats.write_cmds - before;
        assert_true(calls <= 3 + NVME_EXOS_SPLIT_BUDGET);
    }
    /* Every block found bad by now: one command per segment. */
    assert_int_equal(calls, 3);
    done_cache();
}

/* EXOS's dispatcher task runs the window (nvme_exos_blk_tick) and also
 * polls the USB keyboard.  nvmectl holds the blk lock while its output
 * waits at "-- Press a key --": a tick that waited for the lock stopped
 * the keyboard, and EXOS hung (seen with a write-back failing, the window
 * then due every second).  A held lock makes the tick skip the window
 * until the next poll. */
static void test_window_tick_does_not_wait_for_a_held_lock(void **state)
{
    static int other_task;
    unsigned locks;
    (void)state;
    use_cache();
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    blk.bounce_mutex.Task = (LPTASK)(void *)&other_task; /* nvmectl's */
    locks = mock_exos.mutex_locks;
    assert_int_equal(nvme_exos_blk_tick(&blk), 0); /* no device call expected */
    assert_int_equal(mock_exos.mutex_locks, locks);
    blk.bounce_mutex.Task = NULL; /* released: the window is kept */
    expect_write(9, 1, seg_data_of(9), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_false(blk.unflushed);
    done_cache();
}

/* A request whose controller's blk lock another task holds and never
 * lets go (a task stuck in a call, or one EXOS killed holding it): each
 * of the three requests that take it (read/write, DF_DISK_SETACCESS,
 * DF_DISK_RESET) waits NVME_EXOS_BLK_LOCK_MS at most, then fails with an
 * I/O error, nothing sent to the device and nothing unlocked it did not
 * lock.  Before: LockMutex(INFINITY), the request (and the file system
 * task behind it) waited for good. */
static UINT lock_waited_ms;
static void note_lock_wait(LPMUTEX Mutex, UINT Timeout)
{
    if (Mutex == &blk.bounce_mutex)
        lock_waited_ms = Timeout;
}

static void test_a_lock_held_for_good_fails_requests_in_bounded_time(void **state)
{
    static int other_task;
    (void)state;
    mock_exos.timed_lock_hook = note_lock_wait;
    blk.bounce_mutex.Task = (LPTASK)(void *)&other_task; /* never let go */
    mock_exos.live_task = &other_task;                   /* and runs */
    /* no device call expected; the wait: slept, then a last bounded try */
    assert_int_equal(disk_io(DF_DISK_READ, 1, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(mock_exos.slept_ms + lock_waited_ms, NVME_EXOS_BLK_LOCK_MS);
    lock_waited_ms = 0;
    mock_exos.slept_ms = 0;
    assert_int_equal(disk_io(DF_DISK_WRITE, 1, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(mock_exos.slept_ms + lock_waited_ms, NVME_EXOS_BLK_LOCK_MS);
    lock_waited_ms = 0;
    mock_exos.slept_ms = 0;
    assert_int_equal(set_access(disk, DISK_ACCESS_READONLY), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(mock_exos.slept_ms + lock_waited_ms, NVME_EXOS_BLK_LOCK_MS);
    assert_int_equal(disk->Access, 0); /* unchanged */
    lock_waited_ms = 0;
    mock_exos.slept_ms = 0;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_RESET, (UINT)disk), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(mock_exos.slept_ms + lock_waited_ms, NVME_EXOS_BLK_LOCK_MS);
    assert_int_equal(mock_exos.mutex_unlocks, 0);
    assert_false(blk.unflushed); /* the write took nothing into the cache */
    /* Longer than a Format's deadline (10 min), as a holder may keep it. */
    assert_true(NVME_EXOS_BLK_LOCK_MS > 600000u);
    blk.bounce_mutex.Task = NULL;
    mock_exos.timed_lock_hook = NULL;
    expect_read(1, 1, user, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 1, 1, user, 512), DF_RETURN_SUCCESS);
}

/* A task EXOS killed (outside a shutdown: `kill` of a process whose
 * request was in the driver) keeps the blk lock for good.  Every request
 * that needs it fails at once with an I/O error and a warning, nothing
 * sent to the device, the lock left to the dead task (not taken over:
 * the command it died in, whose waiter is on its stack, may still
 * complete).  Before: each one waited NVME_EXOS_BLK_LOCK_MS (20 min). */
static void test_a_lock_a_killed_task_kept_fails_requests_at_once(void **state)
{
    static int killed;
    (void)state;
    lock_waited_ms = 0;
    mock_exos.timed_lock_hook = note_lock_wait;
    blk.bounce_mutex.Task = (LPTASK)(void *)&killed; /* dead: not mock_exos.live_task */
    blk.bounce_mutex.Lock = 1;
    /* no device call expected */
    assert_int_equal(disk_io(DF_DISK_READ, 1, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(disk_io(DF_DISK_WRITE, 1, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(set_access(disk, DISK_ACCESS_READONLY), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_RESET, (UINT)disk), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(lock_waited_ms, 0); /* no wait */
    assert_int_equal(mock_exos.longest_held_wait, 0);
    assert_ptr_equal(blk.bounce_mutex.Task, &killed); /* left as it is */
    assert_int_equal(blk.bounce_mutex.Lock, 1);
    assert_int_equal(mock_exos.mutex_unlocks, 0);
    assert_false(blk.unflushed);
    assert_int_equal(disk->Access, 0);
    assert_non_null(strstr(mock_exos.warnings,
                           "block cache: lock held by a task that is gone, request failed"));
    mock_exos.timed_lock_hook = NULL;
    blk.bounce_mutex.Task = NULL;
    blk.bounce_mutex.Lock = 0;
}

/* A request waiting for the blk lock of a live task (a long write-back,
 * nvmectl) when EXOS kills that task (`kill` of its process): the holder
 * is looked at again while the request waits, and the request fails
 * within a slice of the kill, as one that came after it, nothing sent
 * to the device, the lock left to the dead task, and no line from EXOS's
 * LockMutex for each slice.  Before: it waited NVME_EXOS_BLK_LOCK_MS
 * (20 min) in one LockMutex, only later requests failed at once. */
static int holder_task;
static void holder_killed_after_a_second(void)
{
    if (mock_exos.slept_ms >= 1000)
        mock_exos.live_task = NULL; /* KillTask: TASK_STATUS_DEAD */
}

static void test_a_waiting_request_fails_soon_after_the_holder_is_killed(void **state)
{
    (void)state;
    lock_waited_ms = 0;
    mock_exos.timed_lock_hook = note_lock_wait;
    mock_exos.sleep_hook = holder_killed_after_a_second;
    blk.bounce_mutex.Task = (LPTASK)(void *)&holder_task;
    blk.bounce_mutex.Lock = 1;
    mock_exos.live_task = &holder_task;
    /* no device call expected */
    assert_int_equal(disk_io(DF_DISK_WRITE, 1, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    assert_in_range(mock_exos.slept_ms + lock_waited_ms, 1000, 1000 + 20);
    assert_int_equal(mock_exos.longest_held_wait, 0); /* no LockMutex timed out */
    assert_non_null(strstr(mock_exos.warnings,
                           "block cache: lock held by a task that is gone, request failed"));
    assert_ptr_equal(blk.bounce_mutex.Task, &holder_task); /* left as it is */
    assert_int_equal(mock_exos.mutex_unlocks, 0);
    assert_false(blk.unflushed);
    mock_exos.sleep_hook = NULL;
    mock_exos.timed_lock_hook = NULL;
    blk.bounce_mutex.Task = NULL;
    blk.bounce_mutex.Lock = 0;
}

/* EXOS frees a task it killed (KernelMonitor's DeleteTask) and its heap
 * may give the same block to a task it makes later: the blk lock's Task
 * then names that live task, which never took the lock.  A request
 * waiting for the lock fails within a slice of the change, as for a
 * killed holder (the ID the holder had when it took the lock is not the
 * new task's); while the holder lives, the request waits for it.  Before:
 * only the address was looked at, and the request waited
 * NVME_EXOS_BLK_LOCK_MS (20 min) for a holder that was dead. */
static LISTNODE task_block; /* one task's memory: the holder, then a new task */
static LISTNODE requester_task;
static void holder_freed_and_a_new_task_made_there(void)
{
    if (mock_exos.slept_ms >= 1000)
        task_block.ID = U64_Make(0, 0x2222); /* KillTask, DeleteTask, a CreateTask */
}

static void test_a_new_task_at_a_killed_holders_address_is_not_its_holder(void **state)
{
    (void)state;
    memset(&task_block, 0, sizeof(task_block));
    task_block.ID = U64_Make(0, 0x1111);
    mock_exos.current_task = &task_block;
    mock_exos.live_task = &task_block;
    assert_true(nvme_exos_blk_lock(&blk)); /* the holder's, left held */
    assert_ptr_equal(blk.bounce_mutex.Task, &task_block);
    mock_exos.current_task = &requester_task;
    mock_exos.sleep_hook = holder_freed_and_a_new_task_made_there;
    /* no device call expected */
    assert_int_equal(disk_io(DF_DISK_WRITE, 1, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    assert_in_range(mock_exos.slept_ms, 1000, 1000 + 20);
    assert_non_null(strstr(mock_exos.warnings,
                           "block cache: lock held by a task that is gone, request failed"));
    assert_ptr_equal(blk.bounce_mutex.Task, &task_block); /* left as it is */
    assert_false(blk.unflushed);
    /* A shutdown (nvme_exos_blk_shutdown's nvme_exos_lock_live) takes
     * such a lock over at once (before: waited 20 min, "held by a live
     * task", the cache not written back). */
    mock_exos.sleep_hook = NULL;
    assert_int_equal(nvme_exos_lock_live(&blk.bounce_mutex, &blk.holder, TEXT("block cache")), 1);
    assert_ptr_equal(blk.bounce_mutex.Task, &requester_task);
    assert_int_equal(mock_exos.longest_held_wait, 0);
    assert_null(strstr(mock_exos.warnings, "held by a live task"));
    nvme_exos_blk_unlock(&blk);
    assert_null(blk.bounce_mutex.Task);
    mock_exos.current_task = NULL;
    mock_exos.live_task = NULL;
}

/* The ID recorded is the holder's own, dropped when it lets go: a later
 * holder, seen between its LockMutex and the record, is waited for
 * while it lives (not taken for a task made at a dead holder's
 * address). */
static void other_task_lets_go_after_a_second(void)
{
    if (mock_exos.slept_ms >= 1000 && blk.bounce_mutex.Task == (LPTASK)(void *)&task_block) {
        mock_exos.current_task = &task_block;
        nvme_exos_blk_unlock(&blk);
        mock_exos.current_task = &requester_task;
    }
}

static void test_a_live_holders_lock_is_waited_for(void **state)
{
    (void)state;
    memset(&task_block, 0, sizeof(task_block));
    memset(&requester_task, 0, sizeof(requester_task));
    task_block.ID = U64_Make(0, 0x1111);
    requester_task.ID = U64_Make(0, 0x3333);
    mock_exos.current_task = &requester_task;
    assert_true(nvme_exos_blk_trylock(&blk));
    nvme_exos_blk_unlock(&blk);
    blk.bounce_mutex.Task = (LPTASK)(void *)&task_block; /* its LockMutex gave it */
    blk.bounce_mutex.Lock = 1;
    mock_exos.live_task = &task_block;
    mock_exos.sleep_hook = other_task_lets_go_after_a_second;
    expect_read(1, 1, user, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 1, 1, user, 512), DF_RETURN_SUCCESS);
    assert_in_range(mock_exos.slept_ms, 1000, 1000 + 20);
    assert_null(strstr(mock_exos.warnings, "gone"));
    assert_null(blk.bounce_mutex.Task); /* the request let go too */
    mock_exos.sleep_hook = NULL;
    mock_exos.current_task = NULL;
    mock_exos.live_task = NULL;
}

/* nvme_exos_lock_live on a lock whose holder EXOS killed: the holder had
 * let go of it and a live task taken it while the glue looked at the
 * holder (EXOS, one CPU, switched tasks there), then the holder was
 * killed.  The live task's lock must stay its own: not taken over, the
 * wait for it bounded (-1).  Before: the look and the take-over ran with
 * interrupts on, the live task's lock was cleared and taken, two tasks
 * in the block cache. */
static int killed_task, third_task;
static void holder_lets_go_and_a_third_takes(LPTASK Task)
{
    if (Task != (LPTASK)(void *)&killed_task || blk.bounce_mutex.Task != Task)
        return;
    blk.bounce_mutex.Task = (LPTASK)(void *)&third_task;
    blk.bounce_mutex.Lock = 1;
    mock_exos.live_task = &third_task;
}

static void test_a_take_over_never_clears_the_lock_of_a_live_task(void **state)
{
    int rc;
    (void)state;
    blk.bounce_mutex.Task = (LPTASK)(void *)&killed_task;
    blk.bounce_mutex.Lock = 1;
    mock_exos.task_state_hook = holder_lets_go_and_a_third_takes;
    rc = nvme_exos_lock_live(&blk.bounce_mutex, &blk.holder, TEXT("block cache"));
    mock_exos.task_state_hook = NULL;
    if (mock_exos.live_task == &third_task) { /* the switch happened: its lock kept */
        assert_ptr_equal(blk.bounce_mutex.Task, &third_task);
        assert_int_equal(blk.bounce_mutex.Lock, 1);
        assert_int_equal(rc, -1);
    } else { /* no switch: the killed holder's lock taken over */
        assert_int_equal(rc, 1);
        assert_non_null(strstr(mock_exos.warnings, "lock held by a task that is gone"));
    }
    assert_int_equal(mock_exos.eflags & 0x200u, 0x200u); /* interrupts on again */
    blk.bounce_mutex.Task = NULL;
    mock_exos.live_task = NULL;
}

/* Two namespaces written in one window; namespace 1's write-back fails
 * (a device error, say).  Namespace 2's acknowledged write must still be
 * Flushed within the window, and namespace 1 stays owed: its write-back
 * and Flush come at the next sync. */
static void test_failed_write_back_does_not_hold_other_namespaces_flush(void **state)
{
    LPNVME_CORE_DISK disk2;
    (void)state;
    use_cache();
    disk2 = nvme_exos_disk_create(&blk, 2, 512, 1000, false);
    assert_non_null(disk2);
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    LPNVME_CORE_DISK disk1 = disk;
    disk = disk2;
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    disk = disk1;
    mock_exos.sys_ms += 1000;
    expect_write(9, 1, seg_data_of(9), NVME_ERR_TIMEOUT); /* namespace 1 */
    expect_value(mock_write, h, HANDLE);                  /* namespace 2 */
    expect_value(mock_write, nsid, 2);
    expect_value(mock_write, lba, 9);
    expect_any(mock_write, count);
    expect_any(mock_write, buf);
    will_return(mock_write, 0);
    expect_flush(0); /* namespace 1 too: for what did get written */
    expect_value(mock_flush, nsid, 2);
    will_return(mock_flush, 0);
    assert_int_equal(nvme_exos_blk_tick(&blk), NVME_ERR_TIMEOUT);
    assert_true(blk.unflushed);
    /* The next sync, a window later: namespace 1 only. */
    mock_exos.sys_ms += 1000;
    expect_write(9, 1, seg_data_of(9), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_false(blk.unflushed);
    ReleaseKernelObject(disk2);
    done_cache();
}

static void test_shutdown_writes_back_flushes_and_stops(void **state)
{
    (void)state;
    use_cache();
    assert_int_equal(disk_io(DF_DISK_WRITE, 12, 2, user, 1024), DF_RETURN_SUCCESS);
    /* Before the window: shutdown does not wait for it. */
    expect_write(12, 2, seg_data_of(12), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_shutdown(&blk), 0);
    assert_true(blk.stopped);
    assert_int_equal(disk_io(DF_DISK_READ, 12, 1, user, 512), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(disk_io(DF_DISK_WRITE, 12, 1, user, 512), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
    done_cache();
}

static void test_shutdown_with_nothing_written_sends_nothing(void **state)
{
    (void)state;
    assert_int_equal(nvme_exos_blk_shutdown(&blk), 0); /* no mock call expected */
}

static void test_no_volatile_cache_no_flush(void **state)
{
    (void)state;
    cache_mem = aligned_alloc(4096, NVME_EXOS_SEG_BYTES);
    nvme_exos_blk_configure(&blk, false, 1000, cache_mem, NVME_EXOS_SEG_BYTES);
    assert_int_equal(disk_io(DF_DISK_WRITE, 1, 1, user, 512), DF_RETURN_SUCCESS);
    mock_exos.sys_ms += 1000;
    expect_write(1, 1, seg_data_of(1), 0); /* written back, no Flush */
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_false(blk.unflushed);
    done_cache();
}

static void test_write_through_with_cache_keeps_it_coherent(void **state)
{
    (void)state;
    use_cache();
    blk.write_through = true;
    expect_value(mock_read, h, HANDLE);
    expect_value(mock_read, nsid, 1);
    expect_value(mock_read, lba, 0);
    expect_value(mock_read, count, 128);
    expect_any(mock_read, buf);
    will_return(mock_read, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 5, 1, user, 512), DF_RETURN_SUCCESS);
    memset(user, 0xEE, 512);
    expect_write(5, 1, user, 0);
    expect_flush(0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 5, 1, user, 512), DF_RETURN_SUCCESS);
    memset(user, 0, 512);
    assert_int_equal(disk_io(DF_DISK_READ, 5, 1, user, 512), DF_RETURN_SUCCESS); /* a hit */
    assert_int_equal(user[0], 0xEE);
    done_cache();
}

static void test_invalidate_syncs_and_drops(void **state)
{
    (void)state;
    use_cache();
    assert_int_equal(disk_io(DF_DISK_WRITE, 7, 1, user, 512), DF_RETURN_SUCCESS);
    expect_write(7, 1, seg_data_of(7), 0);
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_invalidate(&blk), 0);
    assert_null(seg_data_of(7));
    done_cache();
}

/* nvmectl runs even when the write-back before it fails (a device that
 * refuses writes): what was not written stays cached and owed, every
 * clean block is dropped (nvmectl may write the device behind it). */
static void test_failed_invalidate_keeps_only_what_is_owed(void **state)
{
    (void)state;
    use_cache();
    expect_value(mock_read, h, HANDLE);
    expect_value(mock_read, nsid, 1);
    expect_value(mock_read, lba, 128);
    expect_value(mock_read, count, 128);
    expect_any(mock_read, buf);
    will_return(mock_read, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 130, 1, user, 512), DF_RETURN_SUCCESS);
    memset(user, 0x3C, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    expect_write(9, 1, seg_data_of(9), NVME_SF(2, 0x80));
    expect_flush(0);
    assert_int_equal(nvme_exos_blk_invalidate(&blk), NVME_SF(2, 0x80));
    assert_null(seg_data_of(130)); /* clean: dropped */
    assert_non_null(seg_data_of(9));
    assert_int_equal(((const uint8_t *)seg_data_of(9))[0], 0x3C);
    assert_true(blk.unflushed);
    /* the owed block is still served from the cache (no device read) */
    memset(user, 0, 512);
    assert_int_equal(disk_io(DF_DISK_READ, 9, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(user[0], 0x3C);
    done_cache();
}

static void test_pci_name_is_bus_device_function(void **state)
{
    char b[16];
    (void)state;
    assert_string_equal(nvme_exos_pci_name(0, 4, 0, b), "00:04.0");
    assert_string_equal(nvme_exos_pci_name(0x3a, 0x1f, 7, b), "3a:1f.7");
}

/* --- access control -------------------------------------------------------------------- */

static void test_read_only_refuses_writes(void **state)
{
    (void)state;
    expect_value(mock_set_ro, nsid, 1);
    expect_value(mock_set_ro, ro, true);
    will_return(mock_set_ro, 0);
    assert_int_equal(set_access(disk, DISK_ACCESS_READONLY), DF_RETURN_SUCCESS);
    /* no mock_write expected: refused before the core */
    assert_int_equal(disk_io(DF_DISK_WRITE, 0, 1, user, 512), DF_RETURN_NO_PERMISSION);
    /* reads still work */
    expect_read(0, 1, user, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 0, 1, user, 512), DF_RETURN_SUCCESS);
    /* and back to read-write */
    expect_value(mock_set_ro, nsid, 1);
    expect_value(mock_set_ro, ro, false);
    will_return(mock_set_ro, 0);
    assert_int_equal(set_access(disk, 0), DF_RETURN_SUCCESS);
    expect_write(0, 1, user, 0);
    assert_int_equal(disk_io(DF_DISK_WRITE, 0, 1, user, 512), DF_RETURN_SUCCESS);
}

/* DF_DISK_SETACCESS read-only while writes EXOS was told succeeded are
 * still dirty in the block cache: they must reach the device (and be
 * Flushed) before the core is told to refuse writes to the namespace.
 * Otherwise every later write-back of them fails with NVME_ERR_RDONLY
 * (io.c refuses writes to a read-only namespace), the failing segment
 * can never be evicted, and nvme_exos_blk_shutdown drops them: lost. */
static bool fake_ro;
static int ro_aware_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h, (void)nsid;
    if (fake_ro)
        return NVME_ERR_RDONLY; /* what nvme_write answers (io.c nvme_io_check) */
    memcpy(device_data + lba * 512, buf, (size_t)count * 512);
    return 0;
}
static int ro_aware_flush(void *h, uint32_t nsid)
{
    (void)h, (void)nsid;
    return 0;
}
static int ro_aware_set_ro(void *h, uint32_t nsid, bool ro)
{
    (void)h, (void)nsid;
    fake_ro = ro;
    return 0;
}
static const struct nvme_exos_blk_ops ro_aware_ops = {
    .read = mock_read,
    .write = ro_aware_write,
    .flush = ro_aware_flush,
    .set_read_only = ro_aware_set_ro,
};

static void test_read_only_writes_the_cache_back_first(void **state)
{
    (void)state;
    fake_ro = false;
    blk.ops = &ro_aware_ops;
    use_cache();
    memset(user, 0x42, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 20, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_not_equal(device_data[20 * 512], 0x42); /* in the cache only */
    assert_int_equal(set_access(disk, DISK_ACCESS_READONLY), DF_RETURN_SUCCESS);
    /* what EXOS was told is written is on the device and nothing is owed */
    assert_int_equal(device_data[20 * 512], 0x42);
    assert_false(blk.unflushed);
    assert_int_equal(nvme_exos_blk_shutdown(&blk), 0);
    assert_int_equal(device_data[20 * 512 + 511], 0x42);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
    done_cache();
}

static void test_core_read_only_maps_to_no_permission(void **state)
{
    (void)state;
    expect_write(0, 1, user, NVME_ERR_RDONLY);
    assert_int_equal(disk_io(DF_DISK_WRITE, 0, 1, user, 512), DF_RETURN_NO_PERMISSION);
}

static void test_disabled_disk_refuses_io(void **state)
{
    (void)state;
    expect_value(mock_set_ro, nsid, 1);
    expect_value(mock_set_ro, ro, false);
    will_return(mock_set_ro, 0);
    assert_int_equal(set_access(disk, DISK_ACCESS_DISABLE), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(DF_DISK_READ, 0, 1, user, 512), DF_RETURN_NO_PERMISSION);
    assert_int_equal(disk_io(DF_DISK_WRITE, 0, 1, user, 512), DF_RETURN_NO_PERMISSION);
}

/* --- bad requests ----------------------------------------------------------------------- */

static void test_bad_requests_never_reach_core(void **state)
{
    IOCONTROL c;
    DRIVER other;
    STORAGE_UNIT foreign;
    (void)state;
    assert_int_equal(disk_io(DF_DISK_READ, 0, 0, user, 512),
                     DF_RETURN_BAD_PARAMETER); /* 0 blocks */
    assert_int_equal(disk_io(DF_DISK_READ, 0, 2, user, 1000),
                     DF_RETURN_BAD_PARAMETER); /* buffer short */
    assert_int_equal(disk_io(DF_DISK_READ, 999, 2, user, 1024),
                     DF_RETURN_BAD_PARAMETER); /* past end */
    assert_int_equal(disk_io(DF_DISK_READ, 1000, 1, user, 512), DF_RETURN_BAD_PARAMETER);
    /* far past the end: NumSectors - LBA would wrap */
    assert_int_equal(disk_io(DF_DISK_READ, ~0ull, 1, user, 512), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(disk_io(DF_DISK_WRITE, 0x100000000ull, 1, user, 512), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(disk_io(DF_DISK_READ, 0, 1, NULL, 512), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_READ, 0), DF_RETURN_BAD_PARAMETER);
    /* a disk object of another driver */
    memset(&other, 0, sizeof(other));
    memset(&foreign, 0, sizeof(foreign));
    foreign.TypeID = KOID_DISK;
    foreign.Driver = &other;
    memset(&c, 0, sizeof(c));
    c.Disk = &foreign;
    c.NumSectors = 1;
    c.Buffer = user;
    c.BufferSize = 512;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(NVMeCoreDiskCommands(0x1234, 0), DF_RETURN_NOT_IMPLEMENTED);
}

/* --- errors and retries -------------------------------------------------------------------- */

/* Core events in EXOS's log: a reset that worked is routine (VERBOSE; the
 * core logged a recovery reset's reason at WARNING), a failed one, a
 * removed or a dead controller are errors. */
static void test_event_log_levels(void **state)
{
    (void)state;
    assert_int_equal(nvme_exos_event_log_type(NVME_EVENT_RESET, 0), LOG_VERBOSE);
    assert_int_equal(nvme_exos_event_log_type(NVME_EVENT_RESET, (uint32_t)-NVME_ERR_TIMEOUT),
                     LOG_ERROR);
    assert_int_equal(nvme_exos_event_log_type(NVME_EVENT_GONE, 0), LOG_ERROR);
    assert_int_equal(nvme_exos_event_log_type(NVME_EVENT_DEAD, (uint32_t)-NVME_ERR_FATAL),
                     LOG_ERROR);
    assert_int_equal(nvme_exos_event_log_type(NVME_EVENT_NS_CHANGED, 2), LOG_WARNING);
    assert_int_equal(nvme_exos_event_log_type(NVME_EVENT_SMART, 1), LOG_WARNING);
    assert_int_equal(nvme_exos_event_log_type((enum nvme_event)99, 0), LOG_VERBOSE);
}

/* EXOS prints LOG_VERBOSE lines on its console; during shutdown its pager
 * stops at a full screen and no key is read any more.  Four controllers'
 * shutdown reports (and the core's "bus mastering off") filled it: EXOS
 * never powered off.  A report that worked goes to COM2 only; a failure
 * is a warning (COM2 too). */
static void test_unload_report_stays_off_the_console(void **state)
{
    (void)state;
    assert_int_equal(nvme_exos_unload_log_type(0, 0), LOG_DEBUG);
    assert_int_equal(nvme_exos_unload_log_type(NVME_ERR_TIMEOUT, 0), LOG_WARNING);
    assert_int_equal(nvme_exos_unload_log_type(0, NVME_ERR_TIMEOUT), LOG_WARNING);
}

/* QEMU nvme-subsys with two controllers and a shared namespace (a
 * dual-port SSD): NSID 1 behind nvme0 and nvme1 is one namespace.  Both
 * were published: EXOS mounted n0p0 and n1p0, the same ext2 twice, and
 * files copied through each ended on the same inode (e2fsck: errors).
 * The second path is recognised (as Linux's multipath: SUBNQN, NSID,
 * identifiers); other namespaces are not taken for it. */
static void test_second_path_to_shared_namespace_is_recognised(void **state)
{
    const char *nqn = "nqn.2019-08.org.qemu:subsys0";
    struct nvme_ns_ids a, b;
    (void)state;
    memset(&a, 0, sizeof(a));
    a.has_uuid = true;
    memset(a.uuid, 0x11, 16);
    b = a;
    assert_true(nvme_exos_same_namespace(nqn, 1, &a, nqn, 1, true, &b));
    assert_true(nvme_exos_same_namespace(nqn, 1, NULL, nqn, 1, true, NULL)); /* no ids */
    /* not the same: another NSID, another subsystem, private, other ids */
    assert_false(nvme_exos_same_namespace(nqn, 1, &a, nqn, 2, true, &b));
    assert_false(nvme_exos_same_namespace(nqn, 1, &a, "nqn.2019-08.org.qemu:other", 1, true, &b));
    assert_false(nvme_exos_same_namespace(nqn, 1, &a, nqn, 1, false, &b));
    b.uuid[15] = 0x12;
    assert_false(nvme_exos_same_namespace(nqn, 1, &a, nqn, 1, true, &b));
    assert_false(nvme_exos_same_namespace("", 1, NULL, "", 1, true, NULL)); /* no SUBNQN */
}

static void test_error_mapping(void **state)
{
    (void)state;
    assert_int_equal(nvme_exos_df_result(0), DF_RETURN_SUCCESS);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_INVAL), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_RANGE), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_NOENT), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_ALIGN), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_NOMEM), DF_RETURN_NO_MEMORY);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_RDONLY), DF_RETURN_NO_PERMISSION);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_GONE), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_UNSUPPORTED), DF_RETURN_NOT_IMPLEMENTED);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_TIMEOUT), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_FATAL), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_PROTO), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_ABORTED), DF_RETURN_INPUT_OUTPUT);
    assert_int_equal(nvme_exos_df_result(NVME_ERR_STATE), DF_RETURN_INPUT_OUTPUT);
    /* device statuses */
    assert_int_equal(nvme_exos_df_result(NVME_SF(0, 0x80)),
                     DF_RETURN_BAD_PARAMETER); /* LBA range */
    assert_int_equal(nvme_exos_df_result(NVME_SF(0, 0x0b)),
                     DF_RETURN_BAD_PARAMETER); /* invalid NS */
    assert_int_equal(nvme_exos_df_result(NVME_SF(0, 0x20)),
                     DF_RETURN_NO_PERMISSION); /* write protected */
    assert_int_equal(nvme_exos_df_result(NVME_SF(1, 0x82)), DF_RETURN_NO_PERMISSION); /* RO range */
    assert_int_equal(nvme_exos_df_result(NVME_SF(2, 0x81)), DF_RETURN_INPUT_OUTPUT);  /* media */
    assert_int_equal(nvme_exos_df_result(NVME_SF(0, 0x06)), DF_RETURN_INPUT_OUTPUT);  /* internal */
}

/* Retries live in the core (lifecycle rule 5): the glue calls it once and
 * maps what comes back, whatever the status. */
static void test_failures_are_not_retried_twice(void **state)
{
    (void)state;
    expect_read(1, 1, user, NVME_ERR_ABORTED);
    assert_int_equal(disk_io(DF_DISK_READ, 1, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    expect_read(1, 1, user, NVME_SF(0, 0x82)); /* DNR clear: the core's budget is spent */
    assert_int_equal(disk_io(DF_DISK_READ, 1, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    expect_read(1, 1, user, NVME_ERR_TIMEOUT);
    assert_int_equal(disk_io(DF_DISK_READ, 1, 1, user, 512), DF_RETURN_INPUT_OUTPUT);
    expect_read(1, 1, user, 0);
    assert_int_equal(disk_io(DF_DISK_READ, 1, 1, user, 512), DF_RETURN_SUCCESS);
}

static void test_reset_resets_controller(void **state)
{
    (void)state;
    expect_value(mock_reset, h, HANDLE);
    will_return(mock_reset, 0);
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_RESET, (UINT)disk), DF_RETURN_SUCCESS);
    expect_value(mock_reset, h, HANDLE);
    will_return(mock_reset, NVME_ERR_GONE);
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_RESET, (UINT)disk), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_RESET, 0), DF_RETURN_BAD_PARAMETER);
}

/* A reset runs under the blk lock, as every other call the glue makes
 * to the core (nvmectl's reset too): no request of another task is half
 * way through the cache or the bounce buffer meanwhile. */
static int reset_under_the_lock(void *h)
{
    (void)h;
    assert_true(mock_exos.mutex_locks > mock_exos.mutex_unlocks);
    return 0;
}

/* After EXOS's shutdown (DF_UNLOAD: nvme_exos_blk_shutdown, then
 * nvme_ctrl_fini, which frees the controller) the disks stay listed.  A
 * DF_DISK_RESET or DF_DISK_SETACCESS then must not reach the core, as
 * reads and writes do not.  Before, both called it with the freed
 * controller (nvme_ctrl_reset, nvme_ns_set_read_only), and the reset
 * ran without the lock. */
static void test_reset_and_access_after_shutdown_stay_off_the_core(void **state)
{
    struct nvme_exos_blk_ops ops = mock_ops;
    (void)state;
    ops.reset = reset_under_the_lock;
    blk.ops = &ops;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_RESET, (UINT)disk), DF_RETURN_SUCCESS);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
    blk.ops = &mock_ops;
    assert_int_equal(nvme_exos_blk_shutdown(&blk), 0);
    /* no mock call expected from here */
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_RESET, (UINT)disk), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(set_access(disk, DISK_ACCESS_READONLY), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(disk->Access, 0);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* --- the device's write protection (NSATTR bit 0) --------------------------------- */

/* A namespace the device write protects: wp_ns is the core's view of it
 * (nvme_ns_info.write_protected, updated at its rescans), wp_dev the
 * device's, which refuses every write with Namespace is Write Protected
 * (20h, NVMe 1.4 Figure 128) while set, before the core knows it too. */
static struct nvme_ns_info wp_ns;
static bool wp_dev;
static unsigned wp_writes, wp_flushes;
static int wp_read(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    (void)h, (void)nsid;
    memcpy(buf, device_data + lba * 512, (size_t)count * 512);
    return 0;
}
static int wp_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h, (void)nsid;
    wp_writes++;
    if (wp_dev)
        return NVME_SF(0, 0x20) | NVME_SF_DNR_BIT;
    memcpy(device_data + lba * 512, buf, (size_t)count * 512);
    return 0;
}
static int wp_flush(void *h, uint32_t nsid)
{
    (void)h, (void)nsid;
    wp_flushes++;
    return 0;
}
static const struct nvme_ns_info *wp_ns_info(void *h, uint32_t nsid)
{
    (void)h;
    return nsid == 1 ? &wp_ns : NULL;
}
/* No set_read_only: a port whose host read only lives in the glue alone. */
static const struct nvme_exos_blk_ops wp_ops = {
    .read = wp_read, .write = wp_write, .flush = wp_flush, .ns_info = wp_ns_info};

static void use_wp_disk(void)
{
    LPNVME_CORE_DISK d;
    memset(&wp_ns, 0, sizeof(wp_ns));
    wp_ns.nsid = 1;
    wp_ns.nsze = 1000;
    wp_ns.lba_size = 512;
    wp_ns.lbads = 9;
    wp_ns.plain_io = true;
    wp_ns.csi = NVME_CSI_NVM;
    wp_dev = false;
    wp_writes = wp_flushes = 0;
    nvme_exos_blk_init(&blk, &wp_ops, HANDLE, bounce, BOUNCE_BYTES, false);
    d = nvme_exos_disk_create(&blk, 1, 512, 1000, false);
    assert_non_null(d);
    nvme_exos_disk_set_policy(d, &wp_ns);
    ReleaseKernelObject(disk);
    disk = d; /* disk_io's, released by teardown */
}

static U32 disk_access_now(void)
{
    DISKINFO info;
    assert_int_equal(get_info(disk, &info), DF_RETURN_SUCCESS);
    return info.Access;
}

/* The host made the disk read only (DF_DISK_SETACCESS) through block ops
 * without set_read_only, so the core's nvme_ns_info.read_only stays
 * false; the device then set its write protection and cleared it.  The
 * disk stays read only, as the host asked.  Before: the clearing rebuilt
 * the access from the core's read_only alone, the disk became writable
 * and took EXOS's writes. */
static void test_the_host_read_only_outlasts_the_device_write_protection(void **state)
{
    (void)state;
    use_wp_disk();
    assert_int_equal(set_access(disk, DISK_ACCESS_READONLY), DF_RETURN_SUCCESS);
    assert_false(wp_ns.read_only);
    wp_ns.write_protected = wp_dev = true; /* a rescan: seen by the next request */
    assert_int_equal(disk_io(DF_DISK_READ, 0, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_access_now(), DISK_ACCESS_READONLY);
    assert_int_equal(set_access(disk, 0), DF_RETURN_NO_PERMISSION);
    wp_ns.write_protected = wp_dev = false;
    assert_int_equal(disk_io(DF_DISK_READ, 0, 1, user, 512), DF_RETURN_SUCCESS);
    assert_false(disk->WriteProtected);
    assert_int_equal(disk_access_now(), DISK_ACCESS_READONLY);
    assert_int_equal(disk_io(DF_DISK_WRITE, 0, 1, user, 512), DF_RETURN_NO_PERMISSION);
    assert_int_equal(wp_writes, 0);
    /* The host lifts it: writable again. */
    assert_int_equal(set_access(disk, 0), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(DF_DISK_WRITE, 0, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(wp_writes, 1);
}

static unsigned count_lines(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = strstr(text, what); p != NULL; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Writes cached before the device set its write protection (NSATTR bit
 * 0): every write-back is refused with Namespace is Write Protected (20h,
 * NVMe 1.4 Figure 128) until it is cleared.  They stay cached and owed,
 * the refusal is logged once when it starts and once when it ends, and
 * while the disk knows the namespace protected (a rescan) no write is
 * sent; before that, one a window for the namespace, not one per dirty
 * segment.  Before: every window sent every segment and logged "Write-back
 * failed ..., retried", for as long as the protection lasted. */
static void test_write_back_refused_as_write_protected_is_logged_once_and_held(void **state)
{
    unsigned flushes;
    (void)state;
    use_wp_disk();
    use_cache();
    memset(user, 0x3c, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(DF_DISK_WRITE, 300, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(wp_writes, 0);
    wp_dev = true; /* the device's, the core does not know yet */
    mock_exos.warnings[0] = 0;
    mock_exos.sys_ms += 1000;
    assert_true(nvme_exos_blk_tick(&blk) != 0);
    assert_int_equal(wp_writes, 1);    /* the namespace refused: its other segment not sent */
    for (unsigned i = 0; i < 5; i++) { /* the windows after: one write each, no new line */
        mock_exos.sys_ms += 1000;
        assert_true(nvme_exos_blk_tick(&blk) != 0);
        assert_int_equal(disk_io(DF_DISK_READ, 9, 1, user, 512), DF_RETURN_SUCCESS);
        assert_int_equal(user[0], 0x3c); /* served from the cache */
    }
    assert_int_equal(wp_writes, 6);
    assert_int_equal(count_lines(mock_exos.warnings, "write protected: write-back refused"), 1);

    wp_ns.write_protected = true; /* the rescan: the disk knows it now */
    for (unsigned i = 0; i < 5; i++) {
        mock_exos.sys_ms += 1000;
        assert_true(nvme_exos_blk_tick(&blk) != 0);
        assert_int_equal(disk_io(DF_DISK_READ, 300, 1, user, 512), DF_RETURN_SUCCESS);
    }
    assert_int_equal(wp_writes, 6); /* held: nothing sent */
    assert_true(blk.unflushed);
    assert_true(nvme_exos_blk_owes(&blk, 1));
    assert_int_equal(count_lines(mock_exos.warnings, "write protected: write-back refused"), 1);
    assert_int_equal(count_lines(mock_exos.warnings, "Write-back failed"), 0);

    wp_ns.write_protected = wp_dev = false; /* cleared: both go out at the next window */
    flushes = wp_flushes;
    mock_exos.sys_ms += 1000;
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_int_equal(wp_writes, 8);
    assert_true(wp_flushes > flushes);
    assert_false(blk.unflushed);
    assert_false(nvme_exos_blk_owes(&blk, 1));
    assert_int_equal(device_data[9 * 512], 0x3c);
    assert_int_equal(device_data[300 * 512 + 511], 0x3c);
    assert_int_equal(count_lines(mock_exos.warnings, "no longer refused as write protected"), 1);
    assert_int_equal(count_lines(mock_exos.warnings, "write protected: write-back refused"), 1);
    assert_int_equal(count_lines(mock_exos.warnings, "Write-back failed"), 0);
    assert_int_equal(nvme_exos_blk_shutdown(&blk), 0);
    done_cache();
}

/* The shutdown's last sync sends held writes all the same (the device
 * may have cleared its protection unseen): refused, it says so. */
static void test_shutdown_tries_writes_held_as_write_protected(void **state)
{
    (void)state;
    use_wp_disk();
    use_cache();
    memset(user, 0x5d, 512); /* device_data holds 09h there */
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    wp_ns.write_protected = wp_dev = true;
    mock_exos.sys_ms += 1000;
    assert_true(nvme_exos_blk_tick(&blk) != 0);
    assert_int_equal(wp_writes, 0); /* held */
    assert_int_equal(device_data[9 * 512], 0x09);
    wp_dev = false; /* cleared, unseen by the core */
    assert_int_equal(nvme_exos_blk_shutdown(&blk), 0);
    assert_int_equal(wp_writes, 1);
    assert_int_equal(device_data[9 * 512], 0x5d);
    assert_int_equal(device_data[9 * 512 + 511], 0x5d);
    done_cache();
}

/* Block ops with the core's host read only (nvme_ns_set_read_only): a
 * write to a namespace read only there fails NVME_ERR_RDONLY (io.c),
 * whatever the device's write protection. */
static int wp_core_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    if (wp_ns.read_only)
        return NVME_ERR_RDONLY;
    return wp_write(h, nsid, lba, count, buf);
}
static int wp_core_set_ro(void *h, uint32_t nsid, bool ro)
{
    (void)h, (void)nsid;
    wp_ns.read_only = ro;
    return 0;
}
static const struct nvme_exos_blk_ops wp_core_ops = {.read = wp_read,
                                                     .write = wp_core_write,
                                                     .flush = wp_flush,
                                                     .set_read_only = wp_core_set_ro,
                                                     .ns_info = wp_ns_info};

/* Writes cached, then the device write protects the namespace (a rescan:
 * the disk is read only, the writes held), and the host asks for read
 * only too.  The core must not be made read only while they are owed
 * (as for a disk writable until then: test_read_only_writes_the_cache_
 * back_first): DF_DISK_SETACCESS fails, the writes stay owed, and go out
 * once the protection clears.  Before: the disk being read only already
 * (the device's), no sync and the core made read only; once the
 * protection cleared every write-back failed NVME_ERR_RDONLY, and the
 * shutdown dropped them. */
static void test_host_read_only_under_write_protection_keeps_the_owed_writes(void **state)
{
    (void)state;
    use_wp_disk();
    blk.ops = &wp_core_ops;
    use_cache();
    memset(user, 0x5d, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    wp_ns.write_protected = wp_dev = true; /* a rescan: seen by the next request */
    assert_int_equal(disk_io(DF_DISK_READ, 0, 1, user, 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_access_now(), DISK_ACCESS_READONLY);
    /* Held: refused as the device refuses them (Namespace is Write
     * Protected: DF_RETURN_NO_PERMISSION). */
    assert_int_equal(set_access(disk, DISK_ACCESS_READONLY), DF_RETURN_NO_PERMISSION);
    assert_false(wp_ns.read_only); /* the core still takes the write-backs */
    assert_true(nvme_exos_blk_owes(&blk, 1));
    wp_ns.write_protected = wp_dev = false; /* cleared */
    mock_exos.sys_ms += 1000;
    assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    assert_int_equal(device_data[9 * 512], 0x5d);
    assert_false(nvme_exos_blk_owes(&blk, 1));
    /* Nothing owed now: the host's read only is taken. */
    assert_int_equal(set_access(disk, DISK_ACCESS_READONLY), DF_RETURN_SUCCESS);
    assert_true(wp_ns.read_only);
    assert_int_equal(nvme_exos_blk_shutdown(&blk), 0);
    assert_null(strstr(mock_exos.warnings, "Write-back failed"));
    done_cache();
}

/* A second namespace (NSID 2) next to the write protected one, writable,
 * its own blocks (wp2_data), on the same controller (blk). */
static struct nvme_ns_info wp_ns2;
static uint8_t wp2_data[100 * 512];
static int wp2_read(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    if (nsid == 1)
        return wp_read(h, nsid, lba, count, buf);
    memcpy(buf, wp2_data + lba * 512, (size_t)count * 512);
    return 0;
}
static int wp2_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    if (nsid == 1)
        return wp_core_write(h, nsid, lba, count, buf);
    if (wp_ns2.read_only)
        return NVME_ERR_RDONLY;
    memcpy(wp2_data + lba * 512, buf, (size_t)count * 512);
    return 0;
}
static int wp2_set_ro(void *h, uint32_t nsid, bool ro)
{
    if (nsid == 1)
        return wp_core_set_ro(h, nsid, ro);
    wp_ns2.read_only = ro;
    return 0;
}
static const struct nvme_ns_info *wp2_ns_info(void *h, uint32_t nsid)
{
    (void)h;
    return nsid == 1 ? &wp_ns : nsid == 2 ? &wp_ns2 : NULL;
}
static const struct nvme_exos_blk_ops wp2_ops = {.read = wp2_read,
                                                 .write = wp2_write,
                                                 .flush = wp_flush,
                                                 .set_read_only = wp2_set_ro,
                                                 .ns_info = wp2_ns_info};

/* Writes cached on both namespaces of a controller; the device write
 * protects NSID 1 (its writes held), and the host asks for NSID 2's disk
 * read only.  NSID 2's writes go out, and its disk is read only: the
 * write-back is the controller's, and NSID 1's held writes (still owed)
 * are not NSID 2's.  Before: the sync's failure, NSID 1's, refused NSID
 * 2's read only (DF_RETURN_NO_PERMISSION) for as long as the protection
 * lasted. */
static void test_write_protection_held_on_one_namespace_lets_another_go_read_only(void **state)
{
    LPNVME_CORE_DISK d2;
    (void)state;
    use_wp_disk();
    blk.ops = &wp2_ops;
    use_cache();
    wp_ns2 = wp_ns;
    wp_ns2.nsid = 2;
    wp_ns2.nsze = 100;
    memset(wp2_data, 0, sizeof(wp2_data));
    d2 = nvme_exos_disk_create(&blk, 2, 512, 100, false);
    assert_non_null(d2);
    nvme_exos_disk_set_policy(d2, &wp_ns2);
    memset(user, 0x6e, 512);
    assert_int_equal(disk_io(DF_DISK_WRITE, 9, 1, user, 512), DF_RETURN_SUCCESS);
    {
        IOCONTROL c;
        memset(&c, 0, sizeof(c));
        c.Disk = (LPSTORAGE_UNIT)d2;
        c.SectorLow = 3;
        c.NumSectors = 1;
        c.Buffer = user;
        c.BufferSize = 512;
        assert_int_equal(NVMeCoreDiskCommands(DF_DISK_WRITE, (UINT)&c), DF_RETURN_SUCCESS);
    }
    assert_int_equal(wp2_data[3 * 512], 0); /* cached */
    wp_ns.write_protected = wp_dev = true;  /* NSID 1 only, a rescan */
    assert_int_equal(disk_io(DF_DISK_READ, 0, 1, user + 4096, 512), DF_RETURN_SUCCESS);
    assert_true(disk->WriteProtected);

    assert_int_equal(set_access(d2, DISK_ACCESS_READONLY), DF_RETURN_SUCCESS);
    assert_true(wp_ns2.read_only);
    assert_int_equal(wp2_data[3 * 512], 0x6e); /* written back first */
    assert_false(nvme_exos_blk_owes(&blk, 2));
    assert_true(nvme_exos_blk_owes(&blk, 1)); /* held, still owed */
    assert_false(wp_ns.read_only);
    ReleaseKernelObject(d2);
    done_cache();
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_disk_object_is_an_nvme_disk),
        T(test_getinfo_reports_namespace),
        T(test_create_refuses_unusable_namespace),
        T(test_read_goes_to_core_zero_copy),
        T(test_lba_is_sector_high_low),
        T(test_write_goes_to_core),
        T(test_write_through_flushes),
        T(test_large_aligned_transfer_is_one_call),
        T(test_unaligned_read_bounces),
        T(test_unaligned_write_bounces),
        T(test_unaligned_large_transfer_is_split),
        T(test_unaligned_split_stops_at_first_error),
        T(test_unmappable_buffer_falls_back_to_bounce),
        T(test_read_only_refuses_writes),
        T(test_core_read_only_maps_to_no_permission),
        T(test_read_only_writes_the_cache_back_first),
        T(test_disabled_disk_refuses_io),
        T(test_bad_requests_never_reach_core),
        T(test_a_4k_namespace_moves_whole_4k_blocks),
        T(test_writes_to_more_namespaces_than_tracked_are_all_flushed),
        T(test_a_disk_retired_during_a_request_takes_none_of_its_writes),
        T(test_event_log_levels),
        T(test_error_mapping),
        T(test_second_path_to_shared_namespace_is_recognised),
        T(test_unload_report_stays_off_the_console),
        T(test_failures_are_not_retried_twice),
        T(test_reset_resets_controller),
        T(test_reset_and_access_after_shutdown_stay_off_the_core),
        T(test_default_is_write_back),
        T(test_adjacent_writes_merge_into_one_command),
        T(test_window_is_not_passed_early),
        T(test_request_path_keeps_the_window),
        T(test_read_miss_reads_whole_segment_ahead),
        T(test_last_segment_is_clamped_to_namespace),
        T(test_large_requests_bypass_cache_after_dirty_overlap),
        T(test_a_large_write_failing_half_way_drops_clean_cached_copies),
        T(test_eviction_writes_back_least_recently_used),
        T(test_failed_write_back_stays_owed),
        T(test_failed_write_back_is_tried_once_a_window),
        T(test_a_segment_whose_write_back_fails_does_not_fail_other_requests),
        T(test_a_read_miss_next_to_writes_that_fail_reads_around_them),
        T(test_a_failed_segment_read_leaves_no_block_it_read_valid),
        T(test_a_failed_read_ahead_reads_the_request_alone),
        T(test_a_large_request_over_a_refused_write_back_does_not_fail),
        T(test_a_cache_full_of_refused_writes_does_not_fail_other_requests),
        T(test_refused_write_backs_are_not_tried_again_by_each_request),
        T(test_failed_write_back_does_not_hold_other_namespaces_flush),
        T(test_window_tick_does_not_wait_for_a_held_lock),
        T(test_a_lock_held_for_good_fails_requests_in_bounded_time),
        T(test_a_take_over_never_clears_the_lock_of_a_live_task),
        T(test_a_waiting_request_fails_soon_after_the_holder_is_killed),
        T(test_a_new_task_at_a_killed_holders_address_is_not_its_holder),
        T(test_a_live_holders_lock_is_waited_for),
        T(test_a_lock_a_killed_task_kept_fails_requests_at_once),
        T(test_failed_write_back_still_flushes_what_was_written),
        T(test_a_failed_write_back_is_written_again_in_halves),
        T(test_a_write_back_failing_for_the_namespace_is_not_split),
        T(test_splitting_a_failed_write_back_is_bounded),
        T(test_shutdown_writes_back_flushes_and_stops),
        T(test_shutdown_with_nothing_written_sends_nothing),
        T(test_no_volatile_cache_no_flush),
        T(test_write_through_with_cache_keeps_it_coherent),
        T(test_invalidate_syncs_and_drops),
        T(test_failed_invalidate_keeps_only_what_is_owed),
        T(test_pci_name_is_bus_device_function),
        T(test_the_host_read_only_outlasts_the_device_write_protection),
        T(test_write_back_refused_as_write_protected_is_logged_once_and_held),
        T(test_shutdown_tries_writes_held_as_write_protected),
        T(test_host_read_only_under_write_protection_keeps_the_owed_writes),
        T(test_write_protection_held_on_one_namespace_lets_another_go_read_only),
    };
    return cmocka_run_group_tests_name("exos_disk", tests, NULL, NULL);
}
