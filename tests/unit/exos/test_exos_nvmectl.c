/* SPDX-License-Identifier: MIT */
/*
 * test_exos_nvmectl.c - nvmectl as EXOS's shell runs it (no files, the
 * glue's 64 KiB scratch buffer, an 80-column console), against the
 * simulated controller: the usage offers only what works there, the
 * messages give the real limits, `list` fits 80 columns.
 */
#include "exos_disk_calls.h"
#include "fixture.h"
#include "mock_exos.h"
#include "nvme_exos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NVME_EXOS_BOUNCE_BYTES (nvme_exos.h, not included: EXOS types) */
#define EXOS_SCRATCH_BYTES (64u * 1024u)

static struct fx_out out;

/* nvmectl with the io the EXOS shell command builds (nvme_exos_shell.c). */
static int exos_nvmectl(struct fx *f, const char *line)
{
    static char buf[EXOS_SCRATCH_BYTES] __attribute__((aligned(4096)));
    char copy[256];
    struct nvmectl_io io;
    memset(&io, 0, sizeof(io));
    io.print = fx_print;
    io.arg = &out;
    io.buf = buf;
    io.buf_len = sizeof(buf);
    io.read_file = NULL;
    io.dev_name = "nvme0";
    out.len = 0;
    out.text[0] = 0;
    snprintf(copy, sizeof(copy), "%s", line);
    return nvmectl_run_line(f->ctrl, &io, copy);
}

static void start(struct fx *f)
{
    fx_config(f);
    f->ns[0].nsid = 1;
    f->ns[0].blocks = 262144; /* 128 MiB of 512, as QEMU's disk in the README */
    f->ns[1].nsid = 4;
    f->ns[1].blocks = 16384;
    f->ns[1].lba_size = 4096;
    f->cfg.ns_count = 2;
    fx_start(f);
}

static void test_usage_offers_no_file_source(void **state)
{
    struct fx f;
    (void)state;
    start(&f);
    assert_int_not_equal(exos_nvmectl(&f, "frobnicate"), 0);
    assert_non_null(strstr(out.text, "write  -n NSID [-s LBA] [-c COUNT] (-p BYTE | -t TEXT)"));
    assert_null(strstr(out.text, "-f FILE"));
    assert_non_null(strstr(out.text, "write-verify"));
    assert_non_null(strstr(out.text, "flush"));
    fx_stop(&f);
}

static void test_list_fits_80_columns(void **state)
{
    struct fx f;
    (void)state;
    start(&f);
    assert_int_equal(exos_nvmectl(&f, "list"), 0);
    assert_non_null(strstr(out.text, "nvme0n1"));
    assert_non_null(strstr(out.text, "134217728 bytes (128.0 MiB)"));
    for (const char *p = out.text; *p != 0;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (len >= 80)
            fail_msg("line of %zu columns: %.*s", len, (int)len, p);
        p += len + (nl != NULL ? 1 : 0);
    }
    fx_stop(&f);
}

static void test_limits_are_the_real_ones(void **state)
{
    struct fx f;
    (void)state;
    start(&f);
    /* write-verify needs two buffers: 64 blocks of 512 fit 64 KiB, not 127 */
    assert_int_not_equal(exos_nvmectl(&f, "write-verify -n 1 -s 0 -c 127"), 0);
    assert_non_null(strstr(out.text, "-c is at most 64 here"));
    assert_int_equal(exos_nvmectl(&f, "write-verify -n 1 -s 0 -c 64"), 0);
    /* read: one buffer, 128 blocks of 512 or 16 of 4096 */
    assert_int_not_equal(exos_nvmectl(&f, "read -n 1 -s 0 -c 129"), 0);
    assert_non_null(strstr(out.text, "-c is at most 128 here"));
    assert_int_not_equal(exos_nvmectl(&f, "write -n 4 -s 0 -c 17 -p 1"), 0);
    assert_non_null(strstr(out.text, "-c is at most 16 here (4096-byte blocks)"));
    assert_int_equal(exos_nvmectl(&f, "write -n 4 -s 0 -c 16 -p 1"), 0);
    fx_stop(&f);
}

/* The lines EXOS's shell hands nvmectl for a namespace device
 * (`nvmectl nvme0n4 read -c 16`, `nvmectl id-ns nvme1n1`): the device
 * after the command, its NSID taken; another controller's refused in one
 * line within 80 columns. */
static void test_a_namespace_device_from_the_shell(void **state)
{
    struct fx f;
    (void)state;
    start(&f);
    assert_int_equal(exos_nvmectl(&f, "read nvme0n4 -c 16"), 0);
    assert_non_null(strstr(out.text, "nvme0n4: read 16 block(s) at LBA 0 (65536 bytes)"));
    assert_int_not_equal(exos_nvmectl(&f, "read nvme0n4 -c 17"), 0);
    assert_non_null(strstr(out.text, "-c is at most 16 here (4096-byte blocks)"));
    assert_int_equal(exos_nvmectl(&f, "get-ns-id /dev/nvme0n4"), 0);
    assert_string_equal(out.text, "nvme0n4: namespace-id:4\n");
    assert_int_equal(exos_nvmectl(&f, "zns-offline-zone nvme1n1 -a"), NVME_ERR_INVAL);
    const char *nl = strchr(out.text, '\n');
    assert_non_null(nl);
    assert_true(nl - out.text < 80);
    assert_string_equal(out.text,
                        "nvmectl zns-offline-zone: device 'nvme1n1' is not nvme0 or nvme0n<NSID>\n"
                        "usage: nvmectl\n"
                        "  zns-offline-zone    -n NSID (-s ZSLBA | -a)\n");
    fx_stop(&f);
}

/* An EXOS disk is published with the namespace's LBA size (512 here).
 * `nvmectl format --lbaf 1` moves the namespace to 4096-byte blocks; the
 * core rescans it, the disk object keeps 512.  EXOS's next one-sector
 * read (a 512-byte buffer) must not make the device write 4096 bytes into
 * it: the disk refuses I/O whose block size is no longer the namespace's.
 * (The glue's block ops bound to the core, nvme_exos_core_ops.) */
static void test_format_to_other_block_size_overruns_no_buffer(void **state)
{
    static uint8_t bounce[EXOS_SCRATCH_BYTES] __attribute__((aligned(4096)));
    static uint8_t user[8192] __attribute__((aligned(4096)));
    static struct nvme_exos_blk blk;
    struct fx f;
    LPNVME_CORE_DISK disk;
    IOCONTROL c;
    (void)state;
    mock_exos_reset();
    start(&f);
    nvme_exos_blk_init(&blk, &nvme_exos_core_ops, f.ctrl, bounce, sizeof(bounce), false);
    disk = nvme_exos_disk_create(&blk, 1, nvme_ns_find(f.ctrl, 1)->lba_size,
                                 nvme_ns_find(f.ctrl, 1)->nsze, false);
    assert_non_null(disk);
    assert_int_equal(disk->BytesPerSector, 512);

    assert_int_equal(exos_nvmectl(&f, "format -n 1 --lbaf 1 --force"), 0);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->lba_size, 4096);

    memset(user, 0xCC, sizeof(user));
    memset(&c, 0, sizeof(c));
    c.Disk = (LPSTORAGE_UNIT)disk;
    c.SectorLow = 0;
    c.NumSectors = 1;
    c.Buffer = user;
    c.BufferSize = 512;
    (void)NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c);
    for (size_t i = 512; i < sizeof(user); i++)
        if (user[i] != 0xCC)
            fail_msg("byte %zu past the 512-byte buffer was written by the device", i);
    ReleaseKernelObject(disk);
    fx_stop(&f);
}

/* With the core: a namespace resized on the device (here removed and
 * added again with the same identifiers and format, another NSZE; the
 * core's rescan moves its gen for the size) keeps its EXOS disk, which
 * reports the new size and refuses requests past its end with the range
 * error.  Another format (nvmectl format to 4096-byte blocks) still takes
 * it out of service.  Before: the grown namespace's disk was retired
 * (DF_RETURN_HARDWARE_ABSENT, 0 sectors). */
static UINT core_disk_read(LPNVME_CORE_DISK disk, U32 lba, void *buf)
{
    IOCONTROL c;
    memset(&c, 0, sizeof(c));
    c.Disk = (LPSTORAGE_UNIT)disk;
    c.SectorLow = lba;
    c.NumSectors = 1;
    c.Buffer = buf;
    c.BufferSize = 512;
    return NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c);
}

static uint64_t core_disk_sectors(LPNVME_CORE_DISK disk)
{
    DISKINFO info;
    assert_int_equal(get_info(disk, &info), DF_RETURN_SUCCESS);
    return info.NumSectors;
}

static void test_resized_namespace_keeps_its_disk_with_the_core(void **state)
{
    static uint8_t bounce[EXOS_SCRATCH_BYTES] __attribute__((aligned(4096)));
    static uint8_t user[512] __attribute__((aligned(4096)));
    static struct nvme_exos_blk blk;
    struct nvme_sim_ns_config grown;
    const struct nvme_ns_info *ns;
    LPNVME_CORE_DISK disk;
    uint32_t gen;
    struct fx f;
    (void)state;
    mock_exos_reset();
    start(&f);
    nvme_exos_blk_init(&blk, &nvme_exos_core_ops, f.ctrl, bounce, sizeof(bounce), false);
    ns = nvme_ns_find(f.ctrl, 1);
    disk = nvme_exos_disk_create(&blk, 1, ns->lba_size, ns->nsze, false);
    assert_non_null(disk);
    nvme_exos_disk_set_policy(disk, ns);
    gen = ns->gen;

    grown = f.ns[0];
    grown.blocks = 300000;
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    assert_int_equal(nvme_sim_ns_add(f.sim, &grown), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    ns = nvme_ns_find(f.ctrl, 1);
    assert_int_equal(ns->nsze, 300000);
    assert_int_not_equal(ns->gen, gen); /* the core moved it */

    assert_int_equal(core_disk_read(disk, 299999, user), DF_RETURN_SUCCESS);
    assert_int_equal(core_disk_sectors(disk), 300000);
    assert_int_equal(core_disk_read(disk, 300000, user), DF_RETURN_BAD_PARAMETER);
    assert_false(disk->Retired);

    grown.blocks = 1000; /* shrinks */
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    assert_int_equal(nvme_sim_ns_add(f.sim, &grown), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(core_disk_read(disk, 1000, user), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(core_disk_sectors(disk), 1000);
    assert_int_equal(core_disk_read(disk, 999, user), DF_RETURN_SUCCESS);

    assert_int_equal(exos_nvmectl(&f, "format -n 1 --lbaf 1 --force"), 0);
    assert_int_equal(core_disk_read(disk, 0, user), DF_RETURN_HARDWARE_ABSENT);
    assert_true(disk->Retired);
    ReleaseKernelObject(disk);
    fx_stop(&f);
}

/* More namespaces written within one durability window than the glue
 * tracks (NVME_EXOS_MAX_NS, 8): it then owes a Flush of "all of them"
 * (NVME_NSID_ALL).  That Flush must work with the core, or the window is
 * never kept again: every sync (each later disk request, the timer, each
 * nvmectl command, which syncs first and then does not run) fails. */
static void test_nine_namespaces_written_in_one_window(void **state)
{
    static struct nvme_sim_ns_config many[9];
    static uint8_t bounce[EXOS_SCRATCH_BYTES] __attribute__((aligned(4096)));
    static uint8_t user[512] __attribute__((aligned(4096)));
    static struct nvme_exos_blk blk;
    LPNVME_CORE_DISK disks[9];
    struct fx f;
    IOCONTROL c;
    (void)state;
    mock_exos_reset();
    fx_config(&f);
    memset(many, 0, sizeof(many));
    for (unsigned i = 0; i < 9; i++) {
        many[i].nsid = i + 1;
        many[i].blocks = 1024;
        many[i].lba_size = 512;
    }
    f.cfg.ns = many;
    f.cfg.ns_count = 9;
    fx_start(&f);
    nvme_exos_blk_init(&blk, &nvme_exos_core_ops, f.ctrl, bounce, sizeof(bounce), false);
    memset(user, 0x5A, sizeof(user));
    for (unsigned i = 0; i < 9; i++) {
        disks[i] = nvme_exos_disk_create(&blk, i + 1, 512, 1024, false);
        assert_non_null(disks[i]);
        memset(&c, 0, sizeof(c));
        c.Disk = (LPSTORAGE_UNIT)disks[i];
        c.SectorLow = 3;
        c.NumSectors = 1;
        c.Buffer = user;
        c.BufferSize = 512;
        assert_int_equal(NVMeCoreDiskCommands(DF_DISK_WRITE, (UINT)&c), DF_RETURN_SUCCESS);
    }
    assert_true(blk.unflushed);
    assert_int_equal(nvme_exos_blk_sync(&blk), 0);
    assert_false(blk.unflushed);
    for (unsigned i = 0; i < 9; i++)
        ReleaseKernelObject(disks[i]);
    fx_stop(&f);
}

/* A zoned namespace of 4096 blocks (zones of 1024) behind a block cache
 * and its disk, with the access publish_namespaces gives it. */
static uint8_t zoned_bounce[EXOS_SCRATCH_BYTES] __attribute__((aligned(4096)));
static uint8_t zoned_user[512] __attribute__((aligned(4096)));
static uint8_t zoned_cache[2 * 64 * 1024] __attribute__((aligned(4096)));
static struct nvme_exos_blk zoned_blk;

static LPNVME_CORE_DISK zoned_disk_start(struct fx *f)
{
    const struct nvme_ns_info *ns;
    LPNVME_CORE_DISK disk;
    mock_exos_reset();
    fx_config(f);
    f->ns[0].nsid = 1;
    f->ns[0].blocks = 4096;
    f->ns[0].zoned = true;
    f->ns[0].zone_size = 1024;
    f->cfg.ns_count = 1;
    fx_start(f);
    ns = nvme_ns_find(f->ctrl, 1);
    assert_non_null(ns);
    assert_int_equal(ns->status, 0);
    nvme_exos_blk_init(&zoned_blk, &nvme_exos_core_ops, f->ctrl, zoned_bounce, sizeof(zoned_bounce),
                       false);
    nvme_exos_blk_configure(&zoned_blk, true, 1000, zoned_cache, sizeof(zoned_cache)); /* Attach */
    disk = nvme_exos_disk_create(&zoned_blk, 1, ns->lba_size, ns->nsze, ns->read_only);
    assert_non_null(disk);
    nvme_exos_disk_set_policy(disk, ns); /* as publish_namespaces */
    return disk;
}

/* A one-sector write at LBA 3 (not a write pointer) through the disk:
 * DF_RETURN_NO_PERMISSION, or a failure when it was acknowledged into the
 * cache and its write-back then failed (a lost write). */
static UINT zoned_write_not_at_the_pointer(LPNVME_CORE_DISK disk, const char *when)
{
    IOCONTROL c;
    UINT rc;
    int sync_rc;
    memset(zoned_user, 0x5A, sizeof(zoned_user));
    memset(&c, 0, sizeof(c));
    c.Disk = (LPSTORAGE_UNIT)disk;
    c.SectorLow = 3;
    c.NumSectors = 1;
    c.Buffer = zoned_user;
    c.BufferSize = 512;
    rc = NVMeCoreDiskCommands(DF_DISK_WRITE, (UINT)&c);
    sync_rc = nvme_exos_blk_sync(&zoned_blk);
    if (rc == DF_RETURN_SUCCESS && sync_rc != 0)
        fail_msg("write acknowledged%s, its write-back failed (%d): lost", when, sync_rc);
    return rc;
}

/* A zoned namespace (QEMU: -device nvme-ns,zoned=true) published as an
 * EXOS disk the way publish_namespaces does it.  EXOS's file systems
 * write anywhere; the device takes writes only at a zone's write pointer.
 * A sector write into the block cache must not be acknowledged when its
 * write-back can only fail (Zone Invalid Write): the disk refuses writes. */
static void test_zoned_namespace_acknowledges_no_lost_write(void **state)
{
    struct fx f;
    IOCONTROL c;
    LPNVME_CORE_DISK disk;
    (void)state;
    disk = zoned_disk_start(&f);
    assert_int_equal(zoned_write_not_at_the_pointer(disk, ""), DF_RETURN_NO_PERMISSION);
    memset(&c, 0, sizeof(c)); /* reads work */
    c.Disk = (LPSTORAGE_UNIT)disk;
    c.NumSectors = 1;
    c.Buffer = zoned_user;
    c.BufferSize = 512;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c), DF_RETURN_SUCCESS);
    ReleaseKernelObject(disk);
    fx_stop(&f);
}

/* The zoned disk's read-only access is the glue's rule, not a setting:
 * DF_DISK_SETACCESS without DISK_ACCESS_READONLY (EXOS's "disk rw" path)
 * must not lift it, or a sector write is acknowledged into the cache
 * again and its write-back can only fail (Zone Invalid Write): lost. */
static void test_zoned_disk_stays_read_only_after_set_access(void **state)
{
    struct fx f;
    DISKACCESS a;
    LPNVME_CORE_DISK disk;
    (void)state;
    disk = zoned_disk_start(&f);
    memset(&a, 0, sizeof(a));
    a.Disk = (LPSTORAGE_UNIT)disk;
    a.Access = 0; /* read-write asked for */
    (void)NVMeCoreDiskCommands(DF_DISK_SETACCESS, (UINT)&a);
    assert_int_equal(zoned_write_not_at_the_pointer(disk, " after SETACCESS"),
                     DF_RETURN_NO_PERMISSION);
    ReleaseKernelObject(disk);
    fx_stop(&f);
}

/* A namespace formatted with 8 metadata bytes per block and no PI (QEMU:
 * nvme-ns,ms=8): nvme_read/nvme_write refuse it, logging an error each
 * time.  Its disk is listed disabled: EXOS's partition scan is refused
 * before the core (no error per scan, no read that cannot work). */
static void test_metadata_namespace_disk_is_disabled(void **state)
{
    static uint8_t bounce[EXOS_SCRATCH_BYTES] __attribute__((aligned(4096)));
    static uint8_t user[512] __attribute__((aligned(4096)));
    static struct nvme_exos_blk blk;
    const struct nvme_ns_info *ns;
    LPNVME_CORE_DISK disk;
    struct fx f;
    IOCONTROL c;
    (void)state;
    mock_exos_reset();
    fx_config(&f);
    f.ns[0].nsid = 1;
    f.ns[0].blocks = 4096;
    f.ns[0].ms = 8;
    f.cfg.ns_count = 1;
    fx_start(&f);
    ns = nvme_ns_find(f.ctrl, 1);
    assert_non_null(ns);
    assert_int_equal(ns->status, 0);
    assert_false(ns->plain_io);
    nvme_exos_blk_init(&blk, &nvme_exos_core_ops, f.ctrl, bounce, sizeof(bounce), false);
    disk = nvme_exos_disk_create(&blk, 1, ns->lba_size, ns->nsze, ns->read_only);
    assert_non_null(disk);
    disk->Access = nvme_exos_ns_access(ns); /* as publish_namespaces */
    memset(&c, 0, sizeof(c));
    c.Disk = (LPSTORAGE_UNIT)disk;
    c.NumSectors = 1;
    c.Buffer = user;
    c.BufferSize = 512;
    assert_int_equal(NVMeCoreDiskCommands(DF_DISK_READ, (UINT)&c), DF_RETURN_NO_PERMISSION);
    assert_int_not_equal(mock_exos.last_log_type, LOG_ERROR);
    ReleaseKernelObject(disk);
    fx_stop(&f);
}

/* show-regs as the shell runs it: nvme-cli's listing in 80 columns, JSON,
 * and offered by the usage (it needs only the core's register reads). */
static void test_show_regs_lists_the_registers(void **state)
{
    struct fx f;
    (void)state;
    start(&f);
    uint64_t writes = nvme_sim_stats(f.sim)->mmio_writes;
    assert_int_equal(exos_nvmectl(&f, "show-regs"), 0);
    assert_non_null(strstr(out.text, "cap     : "));
    assert_non_null(strstr(out.text, "\ncsts    : 1\n"));
    assert_non_null(strstr(out.text, "\naqa     : 1f001f\n"));
    assert_non_null(strstr(out.text, "\npmrmscu\t: 0\n"));
    for (const char *p = out.text; *p != 0;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (len >= 80)
            fail_msg("line of %zu columns: %.*s", len, (int)len, p);
        p += len + (nl != NULL ? 1 : 0);
    }
    assert_int_equal(exos_nvmectl(&f, "show-regs -o json"), 0);
    assert_non_null(strstr(out.text, "\"csts\":1,"));
    assert_int_equal(exos_nvmectl(&f, "show-regs -H"), 0);
    assert_non_null(strstr(out.text, "(RDY): Yes"));
    assert_int_equal(nvme_sim_stats(f.sim)->mmio_writes, writes);
    assert_int_equal(exos_nvmectl(&f, "help"), 0);
    assert_non_null(strstr(out.text, "show-regs"));
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_offers_no_file_source),
        cmocka_unit_test(test_list_fits_80_columns),
        cmocka_unit_test(test_limits_are_the_real_ones),
        cmocka_unit_test(test_a_namespace_device_from_the_shell),
        cmocka_unit_test(test_format_to_other_block_size_overruns_no_buffer),
        cmocka_unit_test(test_resized_namespace_keeps_its_disk_with_the_core),
        cmocka_unit_test(test_nine_namespaces_written_in_one_window),
        cmocka_unit_test(test_zoned_namespace_acknowledges_no_lost_write),
        cmocka_unit_test(test_metadata_namespace_disk_is_disabled),
        cmocka_unit_test(test_zoned_disk_stays_read_only_after_set_access),
        cmocka_unit_test(test_show_regs_lists_the_registers),
    };
    return cmocka_run_group_tests_name("exos_nvmectl", tests, NULL, NULL);
}
