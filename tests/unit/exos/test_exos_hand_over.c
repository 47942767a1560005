/* SPDX-License-Identifier: MIT */
/*
 * test_exos_hand_over.c - the block cache (nvme_exos_disk.c) of a disk
 * whose namespace left its controller while the hand-over of its cached
 * writes to another path waits for that path's lock: evictions, the
 * durability window and a shutdown meanwhile.  The block calls of both
 * controllers are faked here (found by a review helper).
 */
#include <stdlib.h>
#include <string.h>

#include "mock_exos.h"
#include "nvme_exos.h"

#define HANDLE ((void *)0xC0FFEE)
#define OTHER ((void *)0xBEEF)
#define BOUNCE_BYTES 8192u

static uint8_t dev[2][4096 * 512];    /* namespaces 1 and 2 of this controller */
static uint8_t other_dev[4096 * 512]; /* namespace 1 through another controller */
static unsigned other_writes, other_flushes;
static struct nvme_ns_info ns1, ns2;
static bool ns1_gone;  /* NSID 1 detached from this controller (a rescan found it gone) */
static bool path_busy; /* the other controller's lock is held by another task */
static unsigned hand_overs;

static struct nvme_exos_blk blk, other;
static uint8_t *bounce, *cache_mem;
static LPNVME_CORE_DISK disk1, disk2;
static uint8_t user[64 * 1024] __attribute__((aligned(4096)));

static int f_read(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    (void)h;
    memcpy(buf, dev[nsid - 1] + lba * 512, (size_t)count * 512);
    return 0;
}
static int f_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h;
    if (nsid == 1 && ns1_gone)
        return NVME_ERR_NOENT;
    memcpy(dev[nsid - 1] + lba * 512, buf, (size_t)count * 512);
    return 0;
}
static int f_flush(void *h, uint32_t nsid)
{
    (void)h, (void)nsid;
    return 0;
}
static const struct nvme_ns_info *f_ns_info(void *h, uint32_t nsid)
{
    (void)h;
    if (nsid == 1)
        return ns1_gone ? NULL : &ns1;
    return nsid == 2 ? &ns2 : NULL;
}
/* core_hand_over's contract: false while the other path's lock is held. */
static bool f_hand_over(void *h, struct tag_NVME_CORE_DISK *d)
{
    (void)h;
    if (path_busy)
        return false;
    hand_overs++;
    (void)nvme_exos_disk_hand_over(d, &other);
    return true;
}
static const struct nvme_exos_blk_ops ops = {.read = f_read,
                                             .write = f_write,
                                             .flush = f_flush,
                                             .ns_info = f_ns_info,
                                             .hand_over = f_hand_over};

static int o_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h;
    assert_int_equal(nsid, 1);
    other_writes++;
    memcpy(other_dev + lba * 512, buf, (size_t)count * 512);
    return 0;
}
static int o_read(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    (void)h, (void)nsid;
    memcpy(buf, other_dev + lba * 512, (size_t)count * 512);
    return 0;
}
static int o_flush(void *h, uint32_t nsid)
{
    (void)h, (void)nsid;
    other_flushes++;
    return 0;
}
static const struct nvme_exos_blk_ops other_ops = {
    .read = o_read, .write = o_write, .flush = o_flush};

static void ns_init(struct nvme_ns_info *ns, uint32_t nsid)
{
    memset(ns, 0, sizeof(*ns));
    ns->nsid = nsid;
    ns->nsze = 4096;
    ns->lba_size = 512;
    ns->lbads = 9;
    ns->plain_io = true;
    ns->csi = NVME_CSI_NVM;
}

static int setup(void **state)
{
    (void)state;
    mock_exos_reset();
    memset(dev, 0, sizeof(dev));
    memset(other_dev, 0, sizeof(other_dev));
    other_writes = other_flushes = hand_overs = 0;
    ns1_gone = path_busy = false;
    ns_init(&ns1, 1);
    ns_init(&ns2, 2);
    bounce = aligned_alloc(4096, BOUNCE_BYTES);
    nvme_exos_blk_init(&blk, &ops, HANDLE, bounce, BOUNCE_BYTES, false);
    nvme_exos_blk_init(&other, &other_ops, OTHER, NULL, 0, false);
    disk1 = nvme_exos_disk_create(&blk, 1, 512, 4096, false);
    disk2 = nvme_exos_disk_create(&blk, 2, 512, 4096, false);
    nvme_exos_disk_set_policy(disk1, &ns1);
    nvme_exos_disk_set_policy(disk2, &ns2);
    cache_mem = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ReleaseKernelObject(disk1);
    ReleaseKernelObject(disk2);
    free(bounce);
    free(cache_mem);
    return 0;
}

static void use_cache(unsigned segs)
{
    cache_mem = aligned_alloc(4096, segs * NVME_EXOS_SEG_BYTES);
    nvme_exos_blk_configure(&blk, true, 1000, cache_mem, segs * NVME_EXOS_SEG_BYTES);
    assert_int_equal(blk.nsegs, segs);
}

static UINT disk_io(LPNVME_CORE_DISK d, UINT fn, uint64_t lba, U32 count, void *buf)
{
    IOCONTROL c;
    memset(&c, 0, sizeof(c));
    c.Disk = (LPSTORAGE_UNIT)d;
    c.SectorLow = (U32)lba;
    c.SectorHigh = (U32)(lba >> 32);
    c.NumSectors = count;
    c.Buffer = buf;
    c.BufferSize = count * 512u;
    return NVMeCoreDiskCommands(fn, (UINT)&c);
}

/* A rescan that no longer finds NSID 1 on this controller, as the PCI
 * side's poll makes it (under the blk lock): whether disk 1 stays in
 * service (false: retired, or its retire put off for the hand-over). */
static bool disk1_kept_at_a_rescan(void)
{
    bool kept;
    nvme_exos_blk_lock(&blk);
    kept = nvme_exos_disk_follow(disk1, NULL);
    nvme_exos_blk_unlock(&blk);
    return kept;
}

/* A write cached for disk 1 (LBA 3, 0x42) in a cache of `segs` segments,
 * whose namespace then leaves this controller while the other path's
 * lock is held: the hand-over is put off, the disk kept. */
static void cache_a_write_and_put_off_its_hand_over(unsigned segs)
{
    use_cache(segs);
    memset(user, 0x42, 512);
    assert_int_equal(disk_io(disk1, DF_DISK_WRITE, 3, 1, user), DF_RETURN_SUCCESS);
    ns1_gone = true;                        /* detached from this controller */
    path_busy = true;                       /* the other path's lock is held */
    assert_false(disk1_kept_at_a_rescan()); /* put off */
    assert_false(disk1->Retired);
}

/* NSID 1 detached from this controller alone while the other path's lock
 * is held: the retire of disk 1 is put off (NVME_EXOS_HAND_OVER_MS), its
 * cached write kept for the hand-over.  A request of disk 2 (another
 * namespace of the same controller) then needs a segment: the eviction's
 * write-back of disk 1's segment finds it "gone" (disk_check_current ->
 * NVME_ERR_GONE, retire put off) and seg_write_back answers 0 as if it had
 * been written or dropped; seg_get reuses the segment and clears its
 * dirty bits.  The write EXOS was told is done is lost silently: once the
 * other path is free the hand-over finds nothing to write ("0 cached
 * write(s) dropped" is logged). */
static void test_eviction_during_a_put_off_hand_over_keeps_the_owed_write(void **state)
{
    (void)state;
    cache_a_write_and_put_off_its_hand_over(1);

    /* Disk 2 writes: the only segment holds disk 1's owed block. */
    memset(user, 0x77, 512);
    assert_int_equal(disk_io(disk2, DF_DISK_WRITE, 5, 1, user), DF_RETURN_SUCCESS);
    assert_false(disk1->Retired);

    /* The other path is free: the hand-over. */
    path_busy = false;
    assert_false(disk1_kept_at_a_rescan());
    assert_true(disk1->Retired);
    assert_int_equal(hand_overs, 1);
    assert_int_equal(other_writes, 1); /* LBA 3 went out through the other path */
    assert_int_equal(other_dev[3 * 512], 0x42);
    /* and disk 2's write is not lost either */
    mock_exos.sys_ms += 2000;
    (void)nvme_exos_blk_tick(&blk);
    assert_int_equal(dev[1][5 * 512], 0x77);
}

/* While the hand-over waits, the durability window's syncs keep the write
 * owed and say nothing (the hand-over has its own bound and error line):
 * a guard for the eviction fix above, whose write-back answers
 * NVME_ERR_BUSY here, which would otherwise log "Write-back failed" each
 * window for as long as the hand-over waits (up to 10 min). */
static void test_the_window_keeps_a_waiting_write_owed_without_a_warning(void **state)
{
    (void)state;
    cache_a_write_and_put_off_its_hand_over(2);
    for (unsigned k = 0; k < 5; k++) {
        mock_exos.sys_ms += 2000;
        assert_int_equal(nvme_exos_blk_tick(&blk), 0);
    }
    assert_null(strstr(mock_exos.warnings, "Write-back failed"));
    assert_true(nvme_exos_blk_owes(&blk, 1));
    path_busy = false;
    assert_false(disk1_kept_at_a_rescan());
    assert_int_equal(other_writes, 1);
    assert_int_equal(other_dev[3 * 512], 0x42);
}

/* A shutdown while the hand-over still waits (the other lock held): the
 * write is lost and the shutdown says so (EXOS logs it as an error,
 * nvme_exos_unload_log_type), not 0. */
static void test_a_shutdown_while_a_hand_over_waits_says_the_write_is_lost(void **state)
{
    (void)state;
    cache_a_write_and_put_off_its_hand_over(2);
    assert_int_not_equal(nvme_exos_blk_shutdown(&blk), 0);
    assert_int_equal(other_writes, 0);
}

/* EXOS x86-64's GetSystemTime() is a 64-bit millisecond count that
 * passes 2^32 after 49.7 days of uptime; HandOverSince keeps 32 bits of
 * it.  The hand-over put off then still waits its NVME_EXOS_HAND_OVER_MS
 * (before: the 64-bit now minus the 32-bit start was 2^32 ms or more, so
 * the first put-off dropped the cached write at once, logged as "no other
 * path free for 600000 ms").  On x86-32 the clock wraps at 2^32 itself. */
static void test_a_hand_over_put_off_after_49_days_still_waits(void **state)
{
    (void)state;
    mock_exos.sys_ms = (UINT)0xFFFFFFFFu;
    mock_exos.sys_ms += 5000u; /* 2^32 + 4999 ms where UINT has 64 bits */
    cache_a_write_and_put_off_its_hand_over(2);
    assert_null(strstr(mock_exos.warnings, "no other path free"));
    assert_true(nvme_exos_blk_owes(&blk, 1));
    mock_exos.sys_ms += NVME_EXOS_HAND_OVER_MS / 2u; /* still within the bound */
    assert_false(disk1_kept_at_a_rescan());
    assert_false(disk1->Retired);
    path_busy = false;
    assert_false(disk1_kept_at_a_rescan());
    assert_true(disk1->Retired);
    assert_int_equal(other_writes, 1);
    assert_int_equal(other_dev[3 * 512], 0x42);
}

/* A write whose hand-over the window's sync put off (its sync answers 0:
 * the wait is no failure), then the namespace attached again to this
 * controller (the rescan keeps disk 1, HandOverSince 0): the write still
 * gets its windows, and the timer writes it back (before: the sync had
 * closed the window, so it stayed in RAM alone until some other write
 * came; found by a review helper). */
static void test_a_write_owed_after_a_hand_over_wait_still_gets_its_window(void **state)
{
    (void)state;
    cache_a_write_and_put_off_its_hand_over(2);
    mock_exos.sys_ms += 2000;
    assert_int_equal(nvme_exos_blk_tick(&blk), 0); /* the window: put off, owed */
    assert_true(nvme_exos_blk_owes(&blk, 1));
    assert_false(disk1->Retired);
    ns1_gone = false; /* attached again */
    path_busy = false;
    nvme_exos_blk_lock(&blk); /* the rescan finds NSID 1 again */
    assert_true(nvme_exos_disk_follow(disk1, &ns1));
    nvme_exos_blk_unlock(&blk);
    assert_false(disk1->Retired);
    for (unsigned k = 0; k < 30; k++) { /* 60 s of timer polls */
        mock_exos.sys_ms += 2000;
        (void)nvme_exos_blk_tick(&blk);
    }
    assert_int_equal(dev[0][3 * 512], 0x42); /* on the device by now */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_eviction_during_a_put_off_hand_over_keeps_the_owed_write, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_the_window_keeps_a_waiting_write_owed_without_a_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_shutdown_while_a_hand_over_waits_says_the_write_is_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_hand_over_put_off_after_49_days_still_waits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_a_write_owed_after_a_hand_over_wait_still_gets_its_window, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
