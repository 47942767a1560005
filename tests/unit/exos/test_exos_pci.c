/* SPDX-License-Identifier: MIT */
/*
 * test_exos_pci.c - the PCI side of exos-glue (nvme_exos_pci.c: Attach,
 * the disks it publishes, the deferred-work timer, DF_UNLOAD) with EXOS
 * mocked (mock_exos.c) and the core faked here: each controller is a
 * `struct nvme_ctrl` of this file whose namespaces, identifiers and
 * events a test sets, and whose calls it counts.
 *
 * The glue keeps its controllers and published namespaces in static
 * tables that nothing empties (EXOS never detaches a PCI driver): each
 * test runs in a process of its own (main forks one per test).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exos_disk_calls.h"
#include "mock_exos.h"
#include "nvme_exos.h"
#include "nvme/nvme_fmt.h"

/* --- the core, faked ---------------------------------------------------------- */

#define FAKE_MAX_CTRL 4
#define FAKE_MAX_NS 4

struct nvme_ctrl {
    struct nvme_ctrl_info info;
    char subnqn[256];
    struct nvme_ns_info ns[FAKE_MAX_NS];
    uint8_t nmic[FAKE_MAX_NS];
    struct nvme_ns_ids ids[FAKE_MAX_NS];
    bool ids_given[FAKE_MAX_NS];
    unsigned ns_count;
    uint32_t gen;
    nvme_event_cb event_cb;
    void *event_arg;
    bool finied;
    bool in_reset; /* a reset runs (in another task): nvme_ctrl_fini refuses */
    unsigned fini_refusals;
    bool gone;          /* surprise removal: every command fails */
    bool id_ctrl_fails; /* Identify Controller fails (a timeout) */
    bool id_ns_fails;   /* Identify Namespace fails (a timeout) */
    int write_rc;       /* writes fail with it (0: they do not) */
    unsigned services, finis, flushes;
    unsigned reads, writes;
    uint64_t last_lba;
    uint32_t last_count, last_nsid;
    uint32_t last_lba_size;                  /* the namespace's block size when the last I/O came */
    void (*on_service)(struct nvme_ctrl *c); /* what happens while service runs */
};

static struct nvme_ctrl fakes[FAKE_MAX_CTRL];
static unsigned fakes_attached;

int nvme_ctrl_init(struct nvme_ctrl **out, const struct nvme_osal *osal,
                   const struct nvme_ctrl_opts *opts)
{
    struct nvme_ctrl *c;
    (void)osal;
    assert_true(fakes_attached < FAKE_MAX_CTRL);
    c = &fakes[fakes_attached++];
    c->event_cb = opts->event_cb;
    c->event_arg = opts->event_arg;
    *out = c;
    return 0;
}

/* The controller whose blk lock a test's task holds at DF_UNLOAD. */
static LPNVME_CORE_DEVICE resetting_dev;

int nvme_ctrl_fini(struct nvme_ctrl *c)
{
    assert_false(c->finied);
    /* Like free(): never under a task that still uses the controller. */
    if (mock_exos.live_task != NULL && resetting_dev->Blk.bounce_mutex.Task == mock_exos.live_task)
        fail_msg("nvme_ctrl_fini while a live task holds the controller's lock");
    if (c->in_reset) { /* nvme.h lifecycle rule 7: nothing done, call again later */
        c->fini_refusals++;
        return NVME_ERR_STATE;
    }
    c->finied = true;
    c->finis++;
    return 0;
}

/* The core's rule (nvme.h): nothing else runs on a controller while or
 * after nvme_ctrl_fini tears it down. */
int nvme_ctrl_service(struct nvme_ctrl *c)
{
    if (c->finied)
        fail_msg("nvme_ctrl_service on a controller nvme_ctrl_fini tore down");
    c->services++;
    if (c->on_service != NULL)
        c->on_service(c);
    if (c->finied)
        fail_msg("nvme_ctrl_fini ran while nvme_ctrl_service was running");
    return 0;
}

const struct nvme_ctrl_info *nvme_ctrl_get_info(const struct nvme_ctrl *c) { return &c->info; }
int nvme_ctrl_reset(struct nvme_ctrl *c)
{
    (void)c;
    return 0;
}
unsigned nvme_ns_count(const struct nvme_ctrl *c) { return c->ns_count; }
const struct nvme_ns_info *nvme_ns_at(const struct nvme_ctrl *c, unsigned idx)
{
    return idx < c->ns_count ? &c->ns[idx] : NULL;
}
const struct nvme_ns_info *nvme_ns_find(const struct nvme_ctrl *c, uint32_t nsid)
{
    for (unsigned i = 0; i < c->ns_count; i++)
        if (c->ns[i].nsid == nsid)
            return &c->ns[i];
    return NULL;
}
uint32_t nvme_ns_generation(const struct nvme_ctrl *c) { return c->gen; }
int nvme_ns_set_read_only(struct nvme_ctrl *c, uint32_t nsid, bool ro)
{
    struct nvme_ns_info *ns = (struct nvme_ns_info *)nvme_ns_find(c, nsid);
    if (ns != NULL)
        ns->read_only = ro;
    return 0;
}

static int fake_io(struct nvme_ctrl *c, uint32_t nsid, uint64_t lba, uint32_t count)
{
    const struct nvme_ns_info *ns = nvme_ns_find(c, nsid);
    assert_false(c->finied);
    c->last_lba = lba;
    c->last_count = count;
    c->last_nsid = nsid;
    c->last_lba_size = ns != NULL ? ns->lba_size : 0;
    if (c->gone)
        return NVME_ERR_GONE;
    if (ns == NULL || ns->status != 0)
        return NVME_ERR_NOENT;
    if (lba + count > ns->nsze)
        return 0x80; /* LBA Out of Range */
    return 0;
}

int nvme_read(struct nvme_ctrl *c, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    (void)buf;
    c->reads++;
    return fake_io(c, nsid, lba, count);
}

int nvme_write(struct nvme_ctrl *c, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)buf;
    c->writes++;
    if (c->write_rc != 0)
        return c->write_rc;
    return fake_io(c, nsid, lba, count);
}

int nvme_flush(struct nvme_ctrl *c, uint32_t nsid)
{
    (void)nsid;
    assert_false(c->finied);
    c->flushes++;
    return 0;
}

int nvme_identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid, void *buf)
{
    memset(buf, 0, 4096);
    if (c->gone)
        return NVME_ERR_GONE;
    if (cns == NVME_CNS_CTRL) {
        struct nvme_id_ctrl *id = buf;
        if (c->id_ctrl_fails)
            return NVME_ERR_TIMEOUT;
        memcpy(id->subnqn, c->subnqn, sizeof(id->subnqn));
        id->cntlid = c->info.cntlid;
        return 0;
    }
    if (cns == NVME_CNS_NS) {
        struct nvme_id_ns *id = buf;
        if (c->id_ns_fails)
            return NVME_ERR_TIMEOUT;
        for (unsigned i = 0; i < c->ns_count; i++)
            if (c->ns[i].nsid == nsid) {
                id->nmic = c->nmic[i];
                return 0;
            }
        return 0x0b; /* Invalid Namespace or Format */
    }
    return 0x02;
}

int nvme_identify_ns_descs(struct nvme_ctrl *c, uint32_t nsid, struct nvme_ns_ids *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < c->ns_count; i++)
        if (c->ns[i].nsid == nsid && c->ids_given[i]) {
            *out = c->ids[i];
            return 0;
        }
    return 0x02; /* no list */
}

/* nvme_exos_pci_name's formatting (the core's fmt.c): the host's. */
int nvme_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

const char *nvme_strerror(int err)
{
    (void)err;
    return "error";
}
const char *nvme_status_name(uint16_t sf)
{
    (void)sf;
    return "status";
}

/* The EXOS OSAL (osal/exos), faked: registers are never read here. */
void nvme_exos_osal_setup(struct nvme_exos_osal *o, struct nvme_osal *ops, volatile void *mmio,
                          UINT mmio_size, U8 bus, U8 dev, U8 func, LPDEVICE device)
{
    (void)o, (void)ops, (void)mmio, (void)mmio_size, (void)bus, (void)dev, (void)func, (void)device;
}
void nvme_exos_osal_bind(struct nvme_exos_osal *o, struct nvme_ctrl *ctrl) { (void)o, (void)ctrl; }
void nvme_exos_osal_release(struct nvme_exos_osal *o) { (void)o; }
uint32_t nvme_exos_mmio_read32(void *ctx, uint32_t off)
{
    (void)ctx, (void)off;
    return 0x9; /* CSTS: RDY, SHST 10b */
}

/* --- set-up ---------------------------------------------------------------------- */

/* Controller `i` before its Attach: one namespace of 512-byte blocks. */
static struct nvme_ctrl *fake_ctrl(unsigned i, const char *serial)
{
    struct nvme_ctrl *c = &fakes[i];
    memset(c, 0, sizeof(*c));
    c->info.vwc = 1;
    c->info.cntlid = (uint16_t)(i + 1);
    snprintf(c->info.serial, sizeof(c->info.serial), "%s", serial);
    snprintf(c->subnqn, sizeof(c->subnqn), "nqn.2024-01.test:%s", serial);
    c->ns_count = 1;
    c->ns[0].nsid = 1;
    c->ns[0].nsze = 262144;
    c->ns[0].lba_size = 512;
    c->ns[0].lbads = 9;
    c->ns[0].plain_io = true;
    c->ns[0].csi = NVME_CSI_NVM;
    return c;
}

static void fake_ns_ids(struct nvme_ctrl *c, unsigned idx, uint8_t nguid_seed)
{
    c->ids_given[idx] = true;
    c->ids[idx].has_nguid = true;
    memset(c->ids[idx].nguid, nguid_seed, sizeof(c->ids[idx].nguid));
}

static uint8_t mmio_regs[0x4000] __attribute__((aligned(4096)));

/* EXOS's PCI scan: DF_PROBE, DF_LOAD, Attach with a PCI_DEVICE on its
 * stack.  `cache`: the block cache's DMA buffer is granted (2 MiB). */
static LPNVME_CORE_DEVICE attach_next(bool cache)
{
    PCI_DEVICE pci;
    LPPCI_DEVICE got;
    U32 bar0 = 0xFEBF4000u;

    memset(&pci, 0, sizeof(pci));
    pci.TypeID = KOID_PCIDEVICE;
    pci.Info.Bus = 0;
    pci.Info.Dev = (U8)(4 + fakes_attached);
    memcpy(&mock_exos.cfg[PCI_CFG_BAR0], &bar0, 4);
    mock_exos.ioremap_base = (LINEAR)mmio_regs;
    assert_int_equal(NVMeCorePCIDriver.Command(DF_PROBE, (UINT)&pci.Info), DF_RETURN_SUCCESS);
    assert_int_equal(NVMeCorePCIDriver.Command(DF_LOAD, 0), DF_RETURN_SUCCESS);
    expect_value(DMABufferAllocate, Size, NVME_EXOS_BOUNCE_BYTES);
    expect_value(DMABufferAllocate, RequireContiguous, TRUE);
    will_return(DMABufferAllocate, TRUE);
    will_return(DMABufferAllocate, 0x100000);
    if (cache) {
        expect_value(DMABufferAllocate, Size, NVME_EXOS_CACHE_BYTES);
        expect_value(DMABufferAllocate, RequireContiguous, FALSE);
        will_return(DMABufferAllocate, TRUE);
        will_return(DMABufferAllocate, 0x200000);
    } else {
        for (UINT want = NVME_EXOS_CACHE_BYTES; want >= NVME_EXOS_SEG_BYTES; want /= 2u) {
            expect_value(DMABufferAllocate, Size, want);
            expect_value(DMABufferAllocate, RequireContiguous, FALSE);
            will_return(DMABufferAllocate, FALSE);
        }
    }
    got = NVMeCorePCIDriver.Attach(&pci);
    assert_non_null(got);
    return (LPNVME_CORE_DEVICE)got;
}

/* EXOS's deferred-work dispatcher calls the glue's poll callback. */
static void timer_poll(void)
{
    assert_non_null(mock_exos.deferred_poll);
    mock_exos.deferred_poll(mock_exos.deferred_ctx);
}

/* The timer's poll at ms. */
static void poll_at(U32 ms)
{
    mock_exos.sys_ms = ms;
    timer_poll();
}

/* --- the service call and the controller's teardown ------------------------------- */

/* EXOS's `shutdown` (DF_UNLOAD) runs in the shell's task; it holds the
 * controller's blk lock while it writes the cache back and Flushes, then
 * tears the controller down (nvme_ctrl_fini).  The dispatcher task's poll
 * may run in between (EXOS preempts): it must not call nvme_ctrl_service
 * on a controller whose teardown has begun.  Before: the poll checked
 * only Blk.stopped, unlocked, and called nvme_ctrl_service while the
 * shutdown held the lock (and could be inside nvme_ctrl_fini). */
static void test_service_waits_out_a_teardown_in_progress(void **state)
{
    LPNVME_CORE_DEVICE d;
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    d = attach_next(false);
    poll_at(5000);
    assert_int_equal(c->services, 1); /* once a second, when nothing holds the lock */

    mock_exos.sys_ms = 7000;
    d->Blk.bounce_mutex.Task = (LPVOID)0x5a5a; /* the shutdown task holds it */
    timer_poll();
    assert_int_equal(c->services, 1);

    /* The shutdown goes on: stopped, then torn down; the poll after it
     * sees the controller stopped. */
    d->Blk.bounce_mutex.Task = NULL;
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_int_equal(c->finis, 1);
    poll_at(9000);
    assert_int_equal(c->services, 1);
}

/* A service call in progress (it sleeps, reading a log page) when the
 * shutdown comes: the shutdown's lock waits for it, so nvme_ctrl_fini
 * comes after it returns.  Here the shutdown task's steps run from inside
 * the service call, as EXOS would interleave them; the lock the service
 * call holds makes nvme_exos_blk_shutdown's LockMutex wait in EXOS, which
 * the fake mutex cannot do: the test checks the service call holds it. */
static unsigned locks_held_at_service;
static void note_locks_held(struct nvme_ctrl *c)
{
    (void)c;
    locks_held_at_service = mock_exos.mutex_locks - mock_exos.mutex_unlocks;
}

static void test_service_runs_under_the_lock_the_teardown_takes(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    (void)attach_next(false);
    c->on_service = note_locks_held;
    poll_at(5000);
    assert_int_equal(c->services, 1);
    assert_int_equal(locks_held_at_service, 1);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* --- a namespace that changes format under its disk ------------------------------ */

static UINT disk_io(LPVOID disk, UINT fn, U32 lba, U32 count, void *buf, U32 size)
{
    IOCONTROL c;
    memset(&c, 0, sizeof(c));
    c.Disk = (LPSTORAGE_UNIT)disk;
    c.SectorLow = lba;
    c.NumSectors = count;
    c.Buffer = buf;
    c.BufferSize = size;
    return NVMeCoreDiskCommands(fn, (UINT)&c);
}

static void disk_info(LPVOID disk, DISKINFO *info)
{
    assert_int_equal(get_info(disk, info), DF_RETURN_SUCCESS);
}

/* What the core's rescan after a Format NVM to LBA format 1 (4096-byte
 * blocks, NVMe 1.4 §5.23: the namespace's capacity in the new block size)
 * leaves in the namespace table. */
static void rescan_to_4096(struct nvme_ctrl *c)
{
    c->ns[0].lba_size = 4096;
    c->ns[0].lbads = 12;
    c->ns[0].nsze = 32768;
    c->gen++;
}

static uint8_t io_buf[8192] __attribute__((aligned(4096)));

/* nvmectl format to 4096-byte blocks (or a Namespace Attribute Changed
 * event and its rescan): the EXOS disk published with 512-byte sectors
 * must not stay in service with them, and the namespace must come back
 * as a disk with its new geometry.  Before: one disk, still 262144
 * sectors of 512, no new disk. */
static void test_format_to_another_lba_size_republishes_the_disk(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    DISKINFO info;
    LPVOID old;
    (void)state;
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 1);
    mock_exos_mount(mock_exos.disks[0], false); /* a partition EXOS mounted: stays listed */
    old = mock_exos.disks[0];
    disk_info(old, &info);
    assert_int_equal(info.BytesPerSector, 512);

    rescan_to_4096(c);
    poll_at(5000);

    assert_int_equal(mock_exos.disk_count, 2);
    disk_info(mock_exos.disks[1], &info);
    assert_int_equal(info.BytesPerSector, 4096);
    assert_int_equal(info.NumSectors, 32768); /* U64: a 64-bit integer on x86-64 */
    assert_int_equal(info.Access, 0);
    /* The old disk refuses I/O before the core; the new one reaches it. */
    assert_int_equal(disk_io(old, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(c->reads, 0);
    disk_info(old, &info);
    assert_true((info.Access & DISK_ACCESS_DISABLE) != 0);
    assert_int_equal(disk_io(mock_exos.disks[1], DF_DISK_READ, 7, 1, io_buf, 4096),
                     DF_RETURN_SUCCESS);
    assert_int_equal(c->reads, 1);
    assert_int_equal(c->last_lba, 7);
    assert_int_equal(c->last_count, 1);
    /* Nothing changes at the next poll: published once. */
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 2);
}

/* The disk a Format retired stays listed (a file system was mounted on
 * it) and may still be given DF_DISK_SETACCESS (EXOS's `disk` command):
 * it must not reach the core, whose NSID now names the namespace of the
 * new disk.  Before, read only on the old disk made the namespace read
 * only in the core (nvme_ns_set_read_only): the new disk, still writable
 * for EXOS, took writes into its cache that every write-back then failed. */
static void test_access_of_a_retired_disk_leaves_the_new_disk_alone(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    LPVOID old;
    (void)state;
    (void)attach_next(false);
    mock_exos_mount(mock_exos.disks[0], false); /* a partition EXOS mounted: stays listed */
    old = mock_exos.disks[0];
    rescan_to_4096(c);
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);

    assert_int_not_equal(set_access(old, DISK_ACCESS_DISABLE | DISK_ACCESS_READONLY),
                         DF_RETURN_SUCCESS);
    assert_false(c->ns[0].read_only);
}

/* Writes cached for 512-byte blocks, then a rescan (a Namespace Attribute
 * Changed event after another host's Format) finds 4096-byte blocks.  The
 * window's write-back must not send them: a write of 1 block at LBA 8 is
 * now 4096 bytes at byte 32768, read from a segment slot of 512 bytes.
 * Before: the timer's write-back sent it (1 write reached the core). */
static void test_writes_cached_for_the_old_format_are_never_written(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    (void)attach_next(true);
    mock_exos_mount(mock_exos.disks[0], false); /* a partition EXOS mounted: stays listed */
    memset(io_buf, 0x5a, 512);
    assert_int_equal(disk_io(mock_exos.disks[0], DF_DISK_WRITE, 8, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 0); /* in the block cache */

    rescan_to_4096(c);
    poll_at(5000); /* the durability window has passed */
    assert_int_equal(c->writes, 0);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(mock_exos.last_log_type, LOG_VERBOSE); /* the new disk's line */
    /* The shutdown writes back nothing of it either. */
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 0);
}

/* The service call of the disk path is where a rescan runs (a Namespace
 * Attribute Changed event after a Format to 4096-byte blocks): a read of
 * 16 sectors of 512 bytes sized before it must not reach the core after
 * it, where 16 blocks are 64 KiB for an 8 KiB buffer.  The disk is then
 * out of service, as when the timer's rescan came first.  Before: the
 * service ran inside the block call, after the disk's check, and the
 * read went out (1 read of 16 blocks of 4096 bytes). */
static void test_a_format_found_by_the_disk_path_service_sends_nothing_of_the_old(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    (void)attach_next(false);
    mock_exos_mount(mock_exos.disks[0], false); /* a partition EXOS mounted: stays listed */
    c->on_service = rescan_to_4096;
    mock_exos.sys_ms = 5000; /* the service call is due */
    UINT r = disk_io(mock_exos.disks[0], DF_DISK_READ, 0, 16, io_buf, sizeof(io_buf));
    assert_int_equal(c->services, 1);
    assert_int_equal(c->reads, 0);
    assert_int_equal(r, DF_RETURN_HARDWARE_ABSENT);
}

/* The same in the write-back of the durability window (the timer's): a
 * block cached for 512-byte blocks is written while the namespace still
 * has them, never after the service call found 4096-byte blocks (4096
 * bytes read from a 512-byte slot of the segment).  Before: the service
 * ran inside the write-back's block call, and its 1 write reached the
 * core with the namespace at 4096-byte blocks. */
static void test_a_format_found_during_a_write_back_writes_nothing_of_the_old(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    (void)attach_next(true);
    mock_exos_mount(mock_exos.disks[0], false);
    memset(io_buf, 0x5a, 512);
    assert_int_equal(disk_io(mock_exos.disks[0], DF_DISK_WRITE, 8, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 0); /* in the block cache */
    c->on_service = rescan_to_4096;
    poll_at(5000); /* the window has passed, the service call is due */
    assert_int_equal(c->services, 1);
    assert_int_equal(c->writes, 1);
    assert_int_equal(c->last_lba_size, 512);
    assert_int_equal(c->last_lba, 8);
    assert_int_equal(c->last_count, 1);
    poll_at(7000);
    assert_int_equal(c->writes, 1);
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 1);
}

/* A namespace deleted and created again under its NSID with the same
 * size and format (nvme_ns_info.gen moved, as the core's rescan does for
 * other EUI64/NGUID): the blocks cached for the old one are never written
 * into the new one, which gets a disk of its own.  Before: the write-back
 * went to the new namespace (1 write) and no new disk. */
static void test_a_namespace_created_again_gets_a_new_disk_and_no_old_writes(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    (void)attach_next(true);
    mock_exos_mount(mock_exos.disks[0], false); /* a partition EXOS mounted: stays listed */
    memset(io_buf, 0x5a, 512);
    assert_int_equal(disk_io(mock_exos.disks[0], DF_DISK_WRITE, 8, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
    c->ns[0].gen++;
    c->gen++;
    poll_at(5000);
    assert_int_equal(c->writes, 0);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(disk_io(mock_exos.disks[0], DF_DISK_READ, 0, 1, io_buf, 512),
                     DF_RETURN_HARDWARE_ABSENT);
    {
        DISKINFO info;
        disk_info(mock_exos.disks[0], &info); /* out of service: no sectors shown */
        assert_int_equal(info.NumSectors, 0);
        disk_info(mock_exos.disks[1], &info);
        assert_int_equal(info.NumSectors, c->ns[0].nsze);
    }
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 0);
}

/* A zoned namespace (command set changed by a rescan) is published read
 * only, one with metadata the block calls cannot carry disabled (the rules
 * of Attach); a namespace that went away keeps no disk in service. */
static void test_rescan_applies_the_disk_rules_of_the_new_format(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    DISKINFO info;
    (void)state;
    c->ns_count = 2;
    c->ns[1] = c->ns[0];
    c->ns[1].nsid = 2;
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 2);
    mock_exos_mount(mock_exos.disks[0], false); /* partitions EXOS mounted: stay listed */
    mock_exos_mount(mock_exos.disks[1], false);

    c->ns[0].csi = NVME_CSI_ZNS;
    c->ns[0].zone_size = 4096;
    c->ns[1].ms = 16;
    c->ns[1].plain_io = false;
    c->gen++;
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 4);
    disk_info(mock_exos.disks[2], &info);
    assert_int_equal(info.Access, DISK_ACCESS_READONLY);
    disk_info(mock_exos.disks[3], &info);
    assert_int_equal(info.Access, DISK_ACCESS_DISABLE);
    mock_exos_mount(mock_exos.disks[3], false);

    c->ns_count = 1; /* NSID 2 detached */
    c->gen++;
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 4);
    assert_int_equal(disk_io(mock_exos.disks[3], DF_DISK_READ, 0, 1, io_buf, 512),
                     DF_RETURN_HARDWARE_ABSENT);
}

/* A namespace the device write protects (Identify Namespace NSATTR bit
 * 0, NVMe 1.4 Figure 245: every write fails) is published read only, kept
 * so across DF_DISK_SETACCESS, and its disk follows the attribute at the
 * rescans after (a Namespace Attribute Changed event): the same disk,
 * read only once set, writable once cleared, unless the host made it
 * read only itself (nvme_ns_set_read_only), which the device's clearing
 * does not undo.  Before: published writable, EXOS's writes acknowledged
 * into the cache and failed at the device. */
static void test_a_write_protected_namespace_is_published_read_only(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    DISKINFO info;
    LPVOID d0, d1;
    (void)state;
    c->ns_count = 2;
    c->ns[1] = c->ns[0];
    c->ns[1].nsid = 2;
    c->ns[0].write_protected = true;
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 2);
    d0 = mock_exos.disks[0];
    d1 = mock_exos.disks[1];
    disk_info(d0, &info);
    assert_int_equal(info.Access, DISK_ACCESS_READONLY);
    disk_info(d1, &info);
    assert_int_equal(info.Access, 0);
    assert_int_equal(disk_io(d0, DF_DISK_WRITE, 0, 1, io_buf, 512), DF_RETURN_NO_PERMISSION);
    assert_int_equal(c->writes, 0);
    assert_int_equal(set_access(d0, 0), DF_RETURN_NO_PERMISSION); /* the device's: kept */
    assert_false(c->ns[0].read_only);
    assert_int_equal(set_access(d1, DISK_ACCESS_READONLY), DF_RETURN_SUCCESS); /* the host's */
    assert_true(c->ns[1].read_only);

    /* NSID 1's cleared, NSID 2's set: the same disks follow. */
    c->ns[0].write_protected = false;
    c->ns[1].write_protected = true;
    c->gen++;
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    disk_info(d0, &info);
    assert_int_equal(info.Access, 0);
    assert_int_equal(disk_io(d0, DF_DISK_WRITE, 0, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 1);
    disk_info(d1, &info);
    assert_int_equal(info.Access, DISK_ACCESS_READONLY);
    assert_int_equal(set_access(d1, 0), DF_RETURN_NO_PERMISSION);
    assert_true(c->ns[1].read_only);

    /* NSID 2's cleared: still read only, as the host asked; the host may
     * lift it now.  NSID 1's set again: read only, by the request path
     * before the timer's poll. */
    c->ns[1].write_protected = false;
    c->ns[0].write_protected = true;
    c->gen++;
    assert_int_equal(disk_io(d0, DF_DISK_WRITE, 0, 1, io_buf, 512), DF_RETURN_NO_PERMISSION);
    assert_int_equal(c->writes, 1);
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 2);
    disk_info(d1, &info);
    assert_int_equal(info.Access, DISK_ACCESS_READONLY);
    assert_int_equal(set_access(d1, 0), DF_RETURN_SUCCESS);
    assert_false(c->ns[1].read_only);
    assert_int_equal(disk_io(d1, DF_DISK_WRITE, 0, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 2);
    disk_info(d0, &info);
    assert_int_equal(info.Access, DISK_ACCESS_READONLY);
}

/* DF_DISK_SETACCESS waits for the controller's lock while the timer's
 * poll holds it and follows the device's write protection, set since
 * (a Namespace Attribute Changed event's rescan): the disk is read only
 * once the lock is had, and stays so (NSATTR bit 0, NVMe 1.4 Figure 245).
 * Before: the request checked what the device imposes before the lock
 * only, made the disk writable again after the poll, and EXOS's write was
 * acknowledged into the cache, every write-back of it failed. */
static LPMUTEX SetAccessWaitsFor;
static void poll_while_set_access_waits(LPMUTEX m, UINT timeout)
{
    (void)timeout;
    if (m != SetAccessWaitsFor)
        return;
    mock_exos.timed_lock_hook = NULL;
    poll_at(5000);
}

static void test_set_access_does_not_lift_write_protection_the_poll_found(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    DISKINFO info;
    LPVOID d0;
    (void)state;
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 1);
    d0 = mock_exos.disks[0];
    disk_info(d0, &info);
    assert_int_equal(info.Access, 0);

    c->ns[0].write_protected = true;
    c->gen++;
    SetAccessWaitsFor = &((LPNVME_CORE_DISK)d0)->Blk->bounce_mutex;
    mock_exos.timed_lock_hook = poll_while_set_access_waits; /* a bounded wait */
    assert_int_equal(set_access(d0, 0), DF_RETURN_NO_PERMISSION);
    assert_null(mock_exos.timed_lock_hook); /* the poll ran while the request waited */
    assert_false(c->ns[0].read_only);
    disk_info(d0, &info);
    assert_int_equal(info.Access, DISK_ACCESS_READONLY);
    assert_int_equal(disk_io(d0, DF_DISK_WRITE, 0, 1, io_buf, 512), DF_RETURN_NO_PERMISSION);
    poll_at(10000);
    assert_int_equal(c->writes, 0);
}

/* A namespace whose format has metadata the block calls cannot carry is
 * published disabled (its reads refused): EXOS is not asked to mount it,
 * at Attach or after a rescan.  Before: MountDiskPartitions ran on it,
 * and on EXOS aac7ac84 (nvmectl nvme1 format -n 1 --lbaf 1 --force) read
 * the MBR in vain and logged "[MountDiskPartitions] MBR read failed
 * result=0x6" and "[NVMeCoreAttach] Partition mount failed NSID=1"
 * (here: 2 mounts at Attach, 3 after the rescan). */
static void test_a_disabled_disk_is_not_mounted(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    DISKINFO info;
    (void)state;
    c->ns_count = 2;
    c->ns[1] = c->ns[0];
    c->ns[1].nsid = 2;
    c->ns[1].ms = 16;
    c->ns[1].plain_io = false;
    mock_exos.fs_ready = TRUE;
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 2);
    disk_info(mock_exos.disks[1], &info);
    assert_int_equal(info.Access, DISK_ACCESS_DISABLE);
    assert_int_equal(mock_exos.mounts, 1); /* NSID 1 only */

    c->ns[0].ms = 8; /* NSID 1 formatted with metadata */
    c->ns[0].plain_io = false;
    c->gen++;
    poll_at(5000);
    disk_info(mock_exos.disks[mock_exos.disk_count - 1], &info);
    assert_int_equal(info.Access, DISK_ACCESS_DISABLE);
    assert_int_equal(mock_exos.mounts, 1);
}

/* EXOS's MountDiskPartitions reads the MBR through the disk's driver
 * (DF_DISK_READ takes the controller's blk lock) and mounts what it
 * finds.  Called under that lock, the read took it again in the same
 * task: EXOS's mutexes count that, but LockMutex frees a mutex held twice
 * once another task has waited 5 s for it (sync/Mutex.c), letting that
 * task into the block cache with the read.  So the glue mounts with none
 * of its locks held, at Attach and after a rescan.  Before: the rescan's
 * mount ran under the lock (mounts_locked 1). */
static void test_a_published_disk_is_mounted_with_no_lock_held(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    mock_exos.fs_ready = TRUE;
    mock_exos.mount_reads = TRUE;
    (void)attach_next(false);
    assert_int_equal(mock_exos.mounts, 1);
    assert_int_equal(mock_exos.mount_read_result, DF_RETURN_SUCCESS);
    assert_int_equal(c->reads, 1);
    mock_exos_mount(mock_exos.disks[0], false); /* what it mounted: stays listed */

    rescan_to_4096(c);
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(mock_exos.mounts, 2);
    assert_int_equal(mock_exos.mount_read_result, DF_RETURN_SUCCESS);
    assert_int_equal(c->reads, 2);
    assert_int_equal(c->last_lba_size, 4096); /* the new disk's MBR */
    assert_int_equal(mock_exos.mounts_locked, 0);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
    poll_at(7000);
    assert_int_equal(mock_exos.mounts, 2); /* once */
}

/* --- retired disks leave EXOS's disk list ----------------------------------------- */

/* A retired disk no file system uses leaves EXOS's disk list (`disk` no
 * longer shows it with 0 sectors), under MUTEX_KERNEL (the mock's
 * ListRemove checks it is held), at the first poll that finds the mutex
 * free; the object stays valid for a reader that still holds it.  Before:
 * listed forever (2 disks). */
static void test_a_retired_disk_nothing_uses_leaves_the_disk_list(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    DISKINFO info;
    LPVOID old;
    long live;
    (void)state;
    (void)attach_next(false);
    old = mock_exos.disks[0];
    rescan_to_4096(c);
    KernelMutex.Task = (LPVOID)0x5a5a; /* another task holds it: no wait */
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(mock_exos.disks_removed, 0);

    KernelMutex.Task = NULL;
    live = mock_exos.heap_live;
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 1);
    assert_int_equal(mock_exos.disks_removed, 1);
    assert_ptr_not_equal(mock_exos.disks[0], old);
    assert_ptr_equal(GetDiskList()->First, mock_exos.disks[0]);
    assert_int_equal(GetDiskList()->NumItems, 1);
    disk_info(mock_exos.disks[0], &info);
    assert_int_equal(info.BytesPerSector, 4096);
    assert_non_null(strstr(mock_exos.last_log, "withdrawn from the disk list"));
    assert_int_equal(mock_exos.kernel_mutex_held, 0);
    /* not freed: a reader holding it reads a retired disk */
    assert_int_equal(mock_exos.heap_live, live);
    assert_int_equal(disk_io(old, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    poll_at(9000);
    assert_int_equal(mock_exos.disks_removed, 1);
}

/* A file system on the retired disk (mounted, or found and left unused)
 * would read through a disk that is gone: it stays listed, and leaves
 * once none is left. */
static void test_a_retired_disk_with_a_file_system_stays_listed(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    LPVOID old;
    (void)state;
    (void)attach_next(false);
    old = mock_exos.disks[0];
    mock_exos_mount(old, false);
    mock_exos_mount(old, true);
    rescan_to_4096(c);
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    mock_exos_unmount(old);
    mock_exos_mount(old, true); /* the unused list alone */
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 2);
    mock_exos_unmount(old);
    poll_at(9000);
    assert_int_equal(mock_exos.disk_count, 1);
    assert_ptr_not_equal(mock_exos.disks[0], old);
}

/* EXOS names partitions n<rank>p<part>, the rank among listed NVMe disks
 * counted at mount time: a retired disk listed before a mounted NVMe disk
 * stays, or a disk published later would get that file system's name.
 * One listed after a mounted disk leaves. */
static void test_a_retired_disk_before_a_mounted_nvme_disk_stays_listed(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    LPVOID ns1, ns2;
    (void)state;
    c->ns_count = 2;
    c->ns[1] = c->ns[0];
    c->ns[1].nsid = 2;
    (void)attach_next(false);
    ns1 = mock_exos.disks[0];
    ns2 = mock_exos.disks[1];
    mock_exos_mount(ns2, false); /* n1p0 */
    c->ns[0].nsze = 1000;        /* ns1 retired: */
    c->ns[0].nguid[0] = 1;       /* another namespace under NSID 1 */
    c->ns[0].gen++;
    c->gen++;
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 3);
    assert_ptr_equal(mock_exos.disks[0], ns1);

    /* ns2 retired too: nothing mounted after it (its new disk is blank) */
    c->ns[1].ms = 16;
    c->ns[1].plain_io = false;
    c->gen++;
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 4); /* ns2 is still mounted */
    mock_exos_unmount(ns2);
    poll_at(9000);
    assert_int_equal(mock_exos.disk_count, 2); /* both retired ones left */
    assert_ptr_not_equal(mock_exos.disks[0], ns1);
    assert_ptr_not_equal(mock_exos.disks[1], ns2);
    assert_ptr_not_equal(mock_exos.disks[0], ns2);
}

/* --- a namespace whose size alone changes ---------------------------------------- */

/* What the core's rescan leaves after a namespace's NSZE changed (a
 * namespace resized on the device, a Namespace Attribute Changed event):
 * the new size, its own generation moved (ns.c moves it for a size
 * change too), the table's generation moved. */
static void rescan_to_size(struct nvme_ctrl *c, uint64_t nsze)
{
    c->ns[0].nsze = nsze;
    c->ns[0].gen++;
    c->gen++;
}

/* Controller c attached with no volatile write cache (VWC bit 0 clear)
 * and a block cache; its one disk. */
static LPVOID attach_without_vwc(struct nvme_ctrl *c)
{
    c->info.vwc = 0;
    (void)attach_next(true);
    return mock_exos.disks[0];
}

/* One block written into the cache at `lba`, then the timer at `ms`, past
 * the durability window: written back (and flushed where the disk has a
 * volatile cache to flush). */
static void write_back_one(LPVOID disk, U32 lba, UINT ms)
{
    memset(io_buf, 0x5a, 512);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, lba, 1, io_buf, 512), DF_RETURN_SUCCESS);
    poll_at(ms);
}

/* A controller without a volatile write cache gets a firmware with one
 * at a reset (Identify VWC bit 0 set when the restart reads it again):
 * from then on the cached writes written back are followed by a Flush,
 * or a power loss could drop writes EXOS was told are written.  Before:
 * the disk kept the attach-time choice, no Flush (flushes 0). */
static void test_a_cache_a_reset_brings_gets_flushes(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    LPVOID disk = attach_without_vwc(c);
    write_back_one(disk, 8, 5000);
    assert_int_equal(c->writes, 1);
    assert_int_equal(c->flushes, 0);

    c->info.vwc = 1;
    c->event_cb(c->event_arg, NVME_EVENT_RESET, 0);
    write_back_one(disk, 9, 10000);
    assert_int_equal(c->writes, 2);
    assert_int_equal(c->flushes, 1);
    /* A failed reset says nothing about the firmware: nothing changes. */
    c->info.vwc = 0;
    c->event_cb(c->event_arg, NVME_EVENT_RESET, (uint32_t)-NVME_ERR_TIMEOUT);
    c->event_cb(c->event_arg, NVME_EVENT_RESET, 0);
    write_back_one(disk, 10, 15000);
    assert_int_equal(c->flushes, 2); /* never turned off */
}

/* The same cache brought by a firmware activated without a reset (Commit
 * Action 011b: the core reads Identify again, no reset event): the next
 * service call notices it.  Before: no Flush (flushes 0 != 1). */
static void test_a_cache_an_activation_brings_gets_flushes(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    LPVOID disk = attach_without_vwc(c);
    c->info.vwc = 1;
    mock_exos.sys_ms = 2000;
    timer_poll(); /* the service call */
    write_back_one(disk, 8, 8000);
    assert_int_equal(c->writes, 1);
    assert_int_equal(c->flushes, 1);
}

/* EXOS has no deferred-work slot left (16 items, shared with its other
 * drivers): no timer keeps the durability window, so a write cached after
 * the last disk request would stay owed until the next request or a
 * shutdown, however long.  The controller's disks then write through:
 * the write reaches the device and is Flushed before DF_DISK_WRITE
 * returns.  Before: cached, no write and no Flush (writes 0). */
static void test_no_deferred_work_slot_writes_through(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    mock_exos.deferred_refused = TRUE;
    (void)attach_next(true);
    LPVOID disk = mock_exos.disks[0];
    assert_null(mock_exos.deferred_poll);
    memset(io_buf, 0x5a, 512);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 8, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 1);
    assert_int_equal(c->flushes, 1);
    assert_non_null(strstr(mock_exos.warnings, "no deferred-work slot for the durability window"));
}

/* Attach turns the controller's INTx off (Command register bit 10): the
 * OSAL gives the core MSI-X vectors or none, never the pin, and a polled
 * controller would assert it at each admin completion, on a line EXOS may
 * share with a device it then stops hearing.  Memory space and bus
 * mastering on, the other bits as found.  Before: INTx left on. */
static void test_attach_turns_the_unused_intx_pin_off(void **state)
{
    U16 cmd = 0x0100; /* SERR# enable, set by the firmware */
    (void)state;
    (void)fake_ctrl(0, "S0");
    memcpy(&mock_exos.cfg[PCI_CFG_COMMAND], &cmd, 2);
    (void)attach_next(true);
    memcpy(&cmd, &mock_exos.cfg[PCI_CFG_COMMAND], 2);
    assert_int_equal(cmd, 0x0100 | PCI_CMD_INT_DISABLE | PCI_CMD_MEM | PCI_CMD_BUSMASTER);
}

/* A previous owner of the function (EXOS's own driver: MSI-X entry 0
 * set to its slot's vector, MSI-X enabled; or MSI) left message
 * interrupts on.  Attach turns both off before the core runs: a polled
 * controller (no vector granted, NVME_EXOS_POLLING, EXOS's polling mode,
 * the slots used up) would otherwise signal the old vector, which EXOS
 * may have given another device, at each admin completion.  The other
 * bits of Message Control are kept.  Before: both left on. */
static void test_attach_turns_a_previous_owners_msi_and_msix_off(void **state)
{
    U16 msi = 0x0081;  /* 64-bit capable, MSI Enable */
    U16 msix = 0xC007; /* MSI-X Enable, Function Mask, 8 entries */
    U16 got;
    (void)state;
    (void)fake_ctrl(0, "S0");
    mock_exos.msi_cap = 0x50;
    mock_exos.cfg[0x50] = 0x05;
    memcpy(&mock_exos.cfg[0x52], &msi, 2);
    mock_exos.msix_cap = 0x70;
    mock_exos.cfg[0x70] = PCI_CAP_ID_MSIX;
    memcpy(&mock_exos.cfg[0x72], &msix, 2);
    (void)attach_next(true);
    memcpy(&got, &mock_exos.cfg[0x52], 2);
    assert_int_equal(got, 0x0080);
    memcpy(&got, &mock_exos.cfg[0x72], 2);
    assert_int_equal(got, 0x4007);
    assert_int_equal(mock_exos.cfg[0x70], PCI_CAP_ID_MSIX); /* the header untouched */
}

static int setup(void **state);

/* Attach of the next controller, which a bad BAR0 refuses: nothing is
 * mapped and the log says why. */
static void attach_refused(const char *why)
{
    PCI_DEVICE pci;
    memset(&pci, 0, sizeof(pci));
    pci.TypeID = KOID_PCIDEVICE;
    pci.Info.Dev = 4;
    mock_exos.ioremap_base = (LINEAR)mmio_regs;
    assert_null(NVMeCorePCIDriver.Attach(&pci));
    assert_int_equal(mock_exos.ioremaps, 0);
    assert_int_equal(fakes_attached, 0);
    if (strstr(mock_exos.warnings, why) == NULL)
        fail_msg("log \"%s\" lacks \"%s\"", mock_exos.warnings, why);
}

/* Attach's Command register update (Memory Space, Bus Master, Interrupt
 * Disable) keeps what the Status register reports: its error bits are
 * RW1C (PCI 3.0 §6.2.3), and EXOS's PCI_Write16 writes back the Status it
 * read, which cleared them.  And the register is read and written with
 * interrupts off, so a task EXOS switched to in between cannot have its
 * change undone.  Before: Status 2010h became 0010h; read with interrupts
 * on. */
static void test_attach_keeps_the_status_errors_and_updates_command_atomically(void **state)
{
    U16 cmd = 0x0100, status = 0x2010; /* SERR# enable; Received Master Abort, cap list */
    (void)state;
    (void)fake_ctrl(0, "S0");
    memcpy(&mock_exos.cfg[PCI_CFG_COMMAND], &cmd, 2);
    memcpy(&mock_exos.cfg[PCI_CFG_COMMAND + 2], &status, 2);
    (void)attach_next(true);
    memcpy(&cmd, &mock_exos.cfg[PCI_CFG_COMMAND], 2);
    memcpy(&status, &mock_exos.cfg[PCI_CFG_COMMAND + 2], 2);
    assert_int_equal(cmd, 0x0100 | PCI_CMD_INT_DISABLE | PCI_CMD_MEM | PCI_CMD_BUSMASTER);
    assert_int_equal(status, 0x2010);
    assert_int_equal(mock_exos.cmd_rmw_preemptible, 0);
}

/* PCI 3.0 §6.2.5.1: decode (Command bits 0/1) is off while a BAR holds all
 * ones, then restored after the BAR.  Before: sized with Memory Space on
 * (EXOS's PCI_GetBARSize), so the device answered at FFFFC000h meanwhile. */
static void test_bar0_is_sized_with_decode_off(void **state)
{
    U16 cmd = PCI_CMD_MEM | PCI_CMD_BUSMASTER;
    int off_at = -1, ones_at = -1, restored_at = -1, on_at = -1;
    (void)state;
    (void)fake_ctrl(0, "S0");
    memcpy(&mock_exos.cfg[PCI_CFG_COMMAND], &cmd, 2);
    (void)attach_next(true);
    assert_int_equal(mock_exos.bar_sized_decoding, 0);
    for (unsigned i = 0; i < mock_exos.cfg_write_count; i++) {
        const struct mock_cfg_write *w = &mock_exos.cfg_writes[i];
        if (w->off == PCI_CFG_COMMAND && (w->value & 0x3u) == 0 && off_at < 0)
            off_at = (int)i;
        else if (w->off == PCI_CFG_BAR0 && w->value == 0xFFFFFFFFu && ones_at < 0)
            ones_at = (int)i;
        else if (w->off == PCI_CFG_BAR0 && w->value == 0xFEBF4000u && restored_at < 0)
            restored_at = (int)i;
        else if (w->off == PCI_CFG_COMMAND && (w->value & PCI_CMD_MEM) != 0 && on_at < 0)
            on_at = (int)i;
    }
    assert_true(off_at >= 0 && off_at < ones_at && ones_at < restored_at && restored_at < on_at);
    assert_int_equal(mock_exos.ioremap_phys, 0xFEBF4000u);
    assert_int_equal(mock_exos.ioremap_size, 0x4000);
    assert_int_equal(mock_exos.eflags & 0x200u, 0x200u); /* interrupts back on */
}

/* A 64-bit BAR0 of 8 GiB above 4 GiB (NVMe 1.4 §2.1.10-11, MLBAR/MUBAR):
 * sized through both registers and its first MiB mapped.  Before: EXOS's
 * PCI_GetBARSize gave the low 32 bits of the size, 0, and the controller
 * was refused. */
static void test_a_64_bit_bar0_of_8_gib_is_sized_and_mapped(void **state)
{
    U32 lo = 0x0000000Cu, hi = 0x00000004u; /* 64-bit, prefetchable, at 4_0000_0000h */
    PCI_DEVICE pci;
    (void)state;
    if (sizeof(PHYSICAL) < 8)
        skip();
    (void)fake_ctrl(0, "S0");
    mock_exos.bar_mask[0] = 0;           /* no low address bit below 4 GiB sticks */
    mock_exos.bar_mask[1] = 0xFFFFFFFEu; /* 8 GiB */
    memcpy(&mock_exos.cfg[PCI_CFG_BAR0], &lo, 4);
    memcpy(&mock_exos.cfg[PCI_CFG_BAR0 + 4], &hi, 4);
    memset(&pci, 0, sizeof(pci));
    pci.TypeID = KOID_PCIDEVICE;
    pci.Info.Dev = 4;
    mock_exos.ioremap_base = (LINEAR)mmio_regs;
    expect_value(DMABufferAllocate, Size, NVME_EXOS_BOUNCE_BYTES);
    expect_value(DMABufferAllocate, RequireContiguous, TRUE);
    will_return(DMABufferAllocate, TRUE);
    will_return(DMABufferAllocate, 0x100000);
    expect_value(DMABufferAllocate, Size, NVME_EXOS_CACHE_BYTES);
    expect_value(DMABufferAllocate, RequireContiguous, FALSE);
    will_return(DMABufferAllocate, TRUE);
    will_return(DMABufferAllocate, 0x200000);
    assert_non_null(NVMeCorePCIDriver.Attach(&pci));
    assert_true(mock_exos.ioremap_phys == (PHYSICAL)0x400000000ull);
    assert_int_equal(mock_exos.ioremap_size, 0x100000);
    memcpy(&lo, &mock_exos.cfg[PCI_CFG_BAR0], 4);
    memcpy(&hi, &mock_exos.cfg[PCI_CFG_BAR0 + 4], 4);
    assert_int_equal(lo, 0x0000000Cu); /* both halves restored */
    assert_int_equal(hi, 0x00000004u);
}

/* Device input: a BAR0 that cannot hold the controller's registers gets
 * an attach error naming the reason, nothing mapped: I/O space, not
 * implemented (no bit sticks), smaller than the registers and doorbells,
 * no address.  Before: one "Unusable BAR0" line for all; an unimplemented
 * BAR that reads back its own address was sized from it (~addr + 1). */
static void test_an_unusable_bar0_is_refused_with_its_reason(void **state)
{
    static const struct {
        U32 bar0, mask;
        const char *why;
    } cases[] = {
        {0x0000C001u, 0xFFFFFF00u, "I/O space"},
        {0x00000000u, 0x00000000u, "no size"},
        {0xFEBFF000u, 0xFFFFF000u, "smaller than the controller registers"},
        {0x00000000u, 0xFFFFC000u, "no address"},
    };
    (void)state;
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        setup(NULL);
        fakes_attached = 0;
        mock_exos.bar_mask[0] = cases[k].mask;
        memcpy(&mock_exos.cfg[PCI_CFG_BAR0], &cases[k].bar0, 4);
        attach_refused(cases[k].why);
    }
}

/* The published-namespace table comes from the heap at the first attach
 * (not .bss: README, "Known EXOS issue"): without it the attach is
 * refused with nothing mapped or allocated, and the next one works. */
static void test_attach_without_heap_for_the_published_table_is_refused(void **state)
{
    (void)state;
    PCI_DEVICE pci;
    memset(&pci, 0, sizeof(pci));
    pci.TypeID = KOID_PCIDEVICE;
    pci.Info.Dev = 4;
    mock_exos.ioremap_base = (LINEAR)mmio_regs;
    mock_exos.heap_fail_from = 1; /* every allocation fails */
    long live = mock_exos.heap_live;
    assert_null(NVMeCorePCIDriver.Attach(&pci));
    assert_int_equal(mock_exos.heap_live, live);
    assert_int_equal(mock_exos.ioremaps, 0);
    mock_exos.heap_fail_from = 0;
    (void)fake_ctrl(0, "S0");
    assert_non_null(attach_next(true)); /* with the heap back: attached */
}

/* A reset's "ok" line after boot goes to COM2 only (LOG_DEBUG): on the
 * console EXOS prints it with the scheduler frozen, where a full screen's
 * pager sleeps for good (nvme_exos_info_log_type).  At boot, LOG_VERBOSE.
 * Before: LOG_VERBOSE always. */
static void test_a_reset_line_after_boot_stays_off_the_console(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    (void)attach_next(true);
    c->event_cb(c->event_arg, NVME_EVENT_RESET, 0);
    assert_int_equal(mock_exos.last_log_type, LOG_VERBOSE);
    mock_exos.paging_active = TRUE;
    c->event_cb(c->event_arg, NVME_EVENT_RESET, 0);
    assert_non_null(strstr(mock_exos.last_log, "reset: ok"));
    assert_int_equal(mock_exos.last_log_type, LOG_DEBUG);
}

/* A namespace that grows: Linux keeps its disk and changes its capacity
 * (set_capacity_and_notify); a mounted file system stays.  The disk stays
 * listed and in service with the new sector count, takes requests up to
 * the new end and refuses them past it, and a last cache segment the old
 * end cut short (1000 blocks: segment 896 held 104) serves the new blocks
 * (a write there is written back; a read fills the whole segment).
 * Before: the disk was retired (HARDWARE_ABSENT) and a new one listed. */
static void test_a_namespace_that_grows_keeps_its_disk(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    DISKINFO info;
    LPVOID disk;
    (void)state;
    c->ns[0].nsze = 1000;
    (void)attach_next(true);
    assert_int_equal(mock_exos.disk_count, 1);
    disk = mock_exos.disks[0];
    assert_int_equal(disk_io(disk, DF_DISK_READ, 999, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c->last_lba, 896);
    assert_int_equal(c->last_count, 104); /* the last segment, cut at the end */

    rescan_to_size(c, 2000);
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 1);
    assert_non_null(
        strstr(mock_exos.last_log, "NSID=1 resized to 2000 blocks of 512 bytes, was 1000"));
    assert_int_equal(mock_exos.last_log_type, LOG_WARNING);
    disk_info(disk, &info);
    assert_int_equal(info.NumSectors, 2000);
    assert_int_equal(info.BytesPerSector, 512);
    assert_int_equal(info.Access, 0);

    /* in the grown part: a write into the old last segment, written back
     * at the window; reads */
    memset(io_buf, 0x5a, 512);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 1000, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 0);
    poll_at(7000);
    assert_int_equal(c->writes, 1);
    assert_int_equal(c->last_lba, 1000);
    assert_int_equal(c->last_count, 1);
    assert_int_equal(disk_io(disk, DF_DISK_READ, 1001, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c->last_lba, 896);
    assert_int_equal(c->last_count, 128);
    assert_int_equal(disk_io(disk, DF_DISK_READ, 1999, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c->last_lba, 1920);
    assert_int_equal(c->last_count, 80);
    /* past the new end: the range error, before the core */
    c->reads = 0;
    assert_int_equal(disk_io(disk, DF_DISK_READ, 2000, 1, io_buf, 512), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(disk_io(disk, DF_DISK_READ, 1999, 2, io_buf, 1024), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(c->reads, 0);
    assert_int_equal(mock_exos.disk_count, 1);
}

/* A namespace that shrinks: the disk stays with the new sector count;
 * blocks cached past the new end cannot be written any more: dropped with
 * an error line, never sent (the core would refuse them, LBA Out of
 * Range, at every window); those before it are written as usual.  The
 * request path sees a shrink before the timer does: a request past the
 * new end gets the range error.  Before: the disk was retired with its
 * cached writes (the one at LBA 8 too). */
static void test_a_namespace_that_shrinks_keeps_its_disk(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    DISKINFO info;
    LPVOID disk;
    (void)state;
    (void)attach_next(true);
    disk = mock_exos.disks[0];
    memset(io_buf, 0x5a, 512);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 8, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 200000, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 99999, 2, io_buf, 1024), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 0); /* all in the block cache */

    rescan_to_size(c, 100000);
    poll_at(5000); /* the window has passed too */
    assert_int_equal(mock_exos.disk_count, 1);
    assert_int_equal(mock_exos.last_log_type, LOG_ERROR);
    assert_non_null(strstr(mock_exos.last_log, "NSID=1 resized to 100000 blocks of 512 bytes, "
                                               "was 262144"));
    assert_non_null(strstr(mock_exos.last_log, "2 cached write(s) past the new end dropped"));
    /* LBA 8 and 99999 went out, 100000 and 200000 did not */
    assert_int_equal(c->writes, 2);
    assert_int_equal(c->last_lba, 99999);
    assert_int_equal(c->last_count, 1);
    disk_info(disk, &info);
    assert_int_equal(info.NumSectors, 100000);

    c->reads = 0;
    assert_int_equal(disk_io(disk, DF_DISK_READ, 100000, 1, io_buf, 512), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(disk_io(disk, DF_DISK_READ, 99990, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c->reads, 1);
    assert_int_equal(c->last_lba, 99968); /* the segment across the new end, cut there */
    assert_int_equal(c->last_count, 32);

    /* Shrunk again; a request comes before the timer's poll. */
    rescan_to_size(c, 50000);
    assert_int_equal(disk_io(disk, DF_DISK_READ, 60000, 1, io_buf, 512), DF_RETURN_BAD_PARAMETER);
    disk_info(disk, &info);
    assert_int_equal(info.NumSectors, 50000);
    assert_int_equal(disk_io(disk, DF_DISK_READ, 49999, 1, io_buf, 512), DF_RETURN_SUCCESS);
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 1);
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 2); /* nothing past an end, ever */
}

/* A new size with other identifiers (NGUID) is another namespace under
 * the NSID (deleted and created again): retired as before, a new disk. */
static void test_a_new_size_with_other_identifiers_is_a_new_disk(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    (void)attach_next(false);
    mock_exos_mount(mock_exos.disks[0], false); /* a partition EXOS mounted: stays listed */
    memset(c->ns[0].nguid, 0x11, sizeof(c->ns[0].nguid));
    rescan_to_size(c, 100000);
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(disk_io(mock_exos.disks[0], DF_DISK_READ, 0, 1, io_buf, 512),
                     DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(disk_io(mock_exos.disks[1], DF_DISK_READ, 0, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
}

/* --- multipath ------------------------------------------------------------------- */

/* Controllers 0 and 1 of one NVM subsystem (one SUBNQN and serial number,
 * CNTLIDs 1 and 2) sharing NSID 1 (NMIC bit 0) with the same NGUID, as a
 * dual-port SSD or QEMU's nvme-subsys. */
static void two_paths(struct nvme_ctrl **c0, struct nvme_ctrl **c1)
{
    *c0 = fake_ctrl(0, "S0");
    *c1 = fake_ctrl(1, "S0");
    (*c0)->nmic[0] = (*c1)->nmic[0] = 1;
    fake_ns_ids(*c0, 0, 0xab);
    fake_ns_ids(*c1, 0, 0xab);
}

/* two_paths, both attached (with or without their block caches). */
static void two_paths_attached(struct nvme_ctrl **c0, struct nvme_ctrl **c1, bool cache)
{
    two_paths(c0, c1);
    (void)attach_next(cache);
    (void)attach_next(cache);
}

/* Controller c removed by surprise (NVME_EVENT_GONE). */
static void path_goes(struct nvme_ctrl *c)
{
    c->gone = true;
    c->event_cb(c->event_arg, NVME_EVENT_GONE, 0);
}

/* c got the one write the tests cache: NSID 1, LBA 3, one block. */
static void assert_wrote_lba_3(const struct nvme_ctrl *c)
{
    assert_int_equal(c->writes, 1);
    assert_int_equal(c->last_nsid, 1);
    assert_int_equal(c->last_lba, 3);
    assert_int_equal(c->last_count, 1);
}

/* Two drives (serial numbers S0 and S1) whose firmware reports one SUBNQN,
 * NMIC bit 0 set on NSID 1. */
static void two_drives_one_subnqn(struct nvme_ctrl **c0, struct nvme_ctrl **c1)
{
    *c0 = fake_ctrl(0, "S0");
    *c1 = fake_ctrl(1, "S1");
    memcpy((*c1)->subnqn, (*c0)->subnqn, sizeof((*c1)->subnqn));
    (*c0)->nmic[0] = (*c1)->nmic[0] = 1;
}

/* The shared namespace is published once, through controller 0.  Then
 * controller 0 goes (surprise removal: NVME_EVENT_GONE, its disk fails
 * with DF_RETURN_HARDWARE_ABSENT): the namespace must be reachable again
 * through controller 1.  Before: still 1 disk, the one that fails. */
static void test_shared_namespace_fails_over_when_its_first_controller_goes(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID first;
    (void)state;
    two_paths_attached(&c0, &c1, false);
    assert_int_equal(mock_exos.disk_count, 1); /* one disk per namespace */
    first = mock_exos.disks[0];
    mock_exos_mount(mock_exos.disks[0], false); /* a partition EXOS mounted: stays listed */

    path_goes(c0);
    assert_int_equal(disk_io(first, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    poll_at(5000);

    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(disk_io(mock_exos.disks[1], DF_DISK_READ, 3, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
    assert_int_equal(c1->reads, 1);
    assert_int_equal(c1->last_lba, 3);
    /* The failed path's disk stays out of service, even if the controller
     * comes back (two disks, two caches, one namespace otherwise). */
    c0->gone = false;
    c0->event_cb(c0->event_arg, NVME_EVENT_RESET, 0);
    assert_int_equal(disk_io(first, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 2);
}

/* The disk a failover publishes through the other controller is mounted
 * with no lock held either (test_a_published_disk_is_mounted_with_no_lock_held).
 * Before: under controller 1's lock (publish_on_live_paths). */
static void test_a_failover_mounts_with_no_lock_held(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    mock_exos.fs_ready = TRUE;
    mock_exos.mount_reads = TRUE;
    two_paths_attached(&c0, &c1, false);
    assert_int_equal(mock_exos.mounts, 1);
    mock_exos_mount(mock_exos.disks[0], false); /* what it mounted: stays listed */
    path_goes(c0);
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(mock_exos.mounts, 2);
    assert_int_equal(mock_exos.mount_read_result, DF_RETURN_SUCCESS);
    assert_int_equal(c1->reads, 1);
    assert_int_equal(mock_exos.mounts_locked, 0);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* The same failover with a write EXOS made through the first path still
 * in its block cache (acknowledged, not yet written back when the path
 * went).  The namespace is the same through the other controller: the
 * write goes out there, and a Flush after it, before the old disk is
 * retired.  Before, the retire dropped it ("1 cached write(s) dropped"):
 * a write EXOS was told succeeded was lost though the namespace was
 * reachable. */
static void test_a_failover_writes_the_cached_writes_through_the_other_path(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID first;
    (void)state;
    two_paths_attached(&c0, &c1, true);
    first = mock_exos.disks[0];
    mock_exos_mount(first, false); /* a partition EXOS mounted: stays listed */
    assert_int_equal(disk_io(first, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c0->writes, 0); /* cached */

    path_goes(c0);
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_wrote_lba_3(c1);
    assert_int_equal(c1->flushes, 1);
}

/* The shared namespace is published once, through controller 0; then it
 * is detached from controller 0 alone (nvmectl nvme2 detach-ns -n 1 on
 * QEMU's nvme-subsys: Namespace Attachment, NVMe 1.4 §5.22), controller 1
 * still reaching it.  Its disk through controller 0 is retired and the
 * namespace must be published again through controller 1, at the same
 * poll, as when controller 0 goes.  Before: retired and not published
 * again (EXOS aac7ac84: `disk` listed no disk for it, `nvmectl list`
 * still showed nvme3n1); here 1 disk, the retired one. */
static void
test_a_shared_namespace_detached_from_its_path_is_published_through_another(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID first;
    (void)state;
    two_paths_attached(&c0, &c1, false);
    assert_int_equal(mock_exos.disk_count, 1);
    first = mock_exos.disks[0];
    mock_exos_mount(first, false); /* a partition EXOS mounted: stays listed */

    c0->ns_count = 0; /* detached from controller 0, and rescanned */
    c0->gen++;
    poll_at(5000);

    assert_int_equal(disk_io(first, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(disk_io(mock_exos.disks[1], DF_DISK_READ, 5, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
    assert_int_equal(c1->reads, 1);
    assert_int_equal(c1->last_lba, 5);
    assert_int_equal(c0->reads, 0);
    /* Published once: nothing more at the next poll. */
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 2);
}

/* The same detach (from controller 0 alone, by another host or through
 * controller 1: nothing wrote controller 0's cache back first) with a
 * write EXOS made through controller 0 still in its block cache.  The
 * namespace is still reached through controller 1: the write goes out
 * there, and a Flush, as at a failover.  Before, the retire found the
 * namespace gone and dropped it ("1 cached write(s) dropped", c1 0
 * writes): a write EXOS was told succeeded was lost though the namespace
 * was reachable. */
static void test_a_detach_from_its_path_writes_the_cached_writes_through_another(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID first;
    (void)state;
    two_paths_attached(&c0, &c1, true);
    first = mock_exos.disks[0];
    mock_exos_mount(first, false); /* a partition EXOS mounted: stays listed */
    assert_int_equal(disk_io(first, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c0->writes, 0); /* cached */

    c0->ns_count = 0; /* detached from controller 0, and rescanned */
    c0->gen++;
    poll_at(5000); /* the window has passed too */

    assert_int_equal(c0->writes, 0);
    assert_wrote_lba_3(c1);
    assert_int_equal(c1->flushes, 1);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(disk_io(first, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
}

/* A write EXOS made through controller 0 cached, a partition mounted on
 * its disk (stays listed once retired), then namespace 1 detached from
 * controller 0 alone while another task holds controller 1's lock. */
static LPVOID detach_with_a_cached_write_and_path_1_busy(struct nvme_ctrl **c0,
                                                         struct nvme_ctrl **c1)
{
    LPVOID first;
    two_paths_attached(c0, c1, true);
    first = mock_exos.disks[0];
    mock_exos_mount(first, false);
    assert_int_equal(disk_io(first, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    (*c0)->ns_count = 0; /* detached from controller 0, and rescanned */
    (*c0)->gen++;
    nvme_exos_controller(1)->Blk.bounce_mutex.Task = (LPVOID)0x5a5a; /* another task's */
    return first;
}

/* The same detach while controller 1's lock is held (a disk request of
 * another task, nvmectl): the hand-over never waits for a second lock
 * (a deadlock against nvmectl's, taken in index order), so it is put
 * off, the disk left as it is, and done at the next poll that finds the
 * lock free.  Before: the write was dropped ("1 cached write(s)
 * dropped") though the namespace was reachable through controller 1. */
static void test_a_detach_while_the_other_path_is_busy_hands_the_writes_over_later(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID first;
    (void)state;
    first = detach_with_a_cached_write_and_path_1_busy(&c0, &c1);
    poll_at(5000);
    poll_at(6000);
    assert_int_equal(c1->writes, 0);
    assert_int_equal(mock_exos.disk_count, 1); /* not yet published through controller 1 */
    assert_null(strstr(mock_exos.warnings, "dropped"));
    assert_int_equal(disk_io(first, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);

    nvme_exos_controller(1)->Blk.bounce_mutex.Task = NULL;
    poll_at(7000);
    assert_int_equal(c0->writes, 0);
    assert_wrote_lba_3(c1);
    assert_int_equal(c1->flushes, 1);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_non_null(strstr(mock_exos.warnings, "its cached writes go out through nvme1"));
    assert_int_equal(disk_io(mock_exos.disks[1], DF_DISK_READ, 3, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
}

/* The other path busy for a minute: a reset of a drive whose CAP.TO is
 * 30 s (two ready waits) under a disk request of another task.  Said once
 * at the first put-off; the write goes out once the lock is free.  Before
 * (a 5 s bound): "1 cached write(s) dropped", a write EXOS was told is
 * done lost though the namespace stayed reachable. */
static void test_a_detach_whose_other_path_resets_for_a_minute_keeps_the_writes(void **state)
{
    struct nvme_ctrl *c0, *c1;
    const char *said;
    (void)state;
    (void)detach_with_a_cached_write_and_path_1_busy(&c0, &c1);
    for (UINT t = 5000; t <= 65000; t += 10000)
        poll_at(t);
    assert_null(strstr(mock_exos.warnings, "dropped"));
    said = strstr(mock_exos.warnings, "NSID=1: gone from this path, its cached writes wait for "
                                      "another path to be free");
    assert_non_null(said);
    assert_null(strstr(said + 12, "gone from this path")); /* once */
    assert_int_equal(c1->writes, 0);

    nvme_exos_controller(1)->Blk.bounce_mutex.Task = NULL; /* the reset is over */
    poll_at(66000);
    assert_wrote_lba_3(c1);
    assert_int_equal(c1->flushes, 1);
    assert_non_null(strstr(mock_exos.warnings, "0 cached write(s) dropped"));
    assert_int_equal(mock_exos.disk_count, 2);
}

/* The other path stays busy: the disk waits NVME_EXOS_HAND_OVER_MS for
 * it, then is retired with its writes dropped, said as an error; the
 * namespace is published through controller 1 once its lock is free. */
static void test_a_detach_whose_other_path_stays_busy_drops_the_writes_in_time(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    (void)detach_with_a_cached_write_and_path_1_busy(&c0, &c1);
    poll_at(5000);
    poll_at(5000 + NVME_EXOS_HAND_OVER_MS - 100);
    assert_null(strstr(mock_exos.warnings, "dropped"));
    poll_at(5000 + NVME_EXOS_HAND_OVER_MS + 100);
    assert_non_null(strstr(mock_exos.warnings, "no other path free for"));
    assert_non_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
    assert_int_equal(c1->writes, 0);
    assert_int_equal(c0->writes, 0);

    nvme_exos_controller(1)->Blk.bounce_mutex.Task = NULL;
    poll_at(5000 + NVME_EXOS_HAND_OVER_MS + 1100);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(c1->writes, 0);
}

/* Controller 0 a drive of its own (serial SA), published first;
 * controllers 1 and 2 two paths to one shared namespace (SB, one NGUID),
 * published once, through controller 1, whose disk then takes a write
 * into its cache; then controller 0's namespace is reformatted (the next
 * poll retires its disk, ahead in the table, and publishes a new one).
 * Returns the shared namespace's disk. */
static LPVOID a_drive_then_two_paths_with_a_cached_write(struct nvme_ctrl **c0,
                                                         struct nvme_ctrl **c1,
                                                         struct nvme_ctrl **c2)
{
    LPVOID shared;
    *c0 = fake_ctrl(0, "SA");
    *c1 = fake_ctrl(1, "SB");
    *c2 = fake_ctrl(2, "SB");
    (*c1)->nmic[0] = (*c2)->nmic[0] = 1;
    fake_ns_ids(*c1, 0, 0xab);
    fake_ns_ids(*c2, 0, 0xab);
    (void)attach_next(false);
    (void)attach_next(true);
    (void)attach_next(true);
    assert_int_equal(mock_exos.disk_count, 2); /* nvme0n1, nvme1n1 */
    shared = mock_exos.disks[1];
    assert_int_equal(disk_io(shared, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal((*c1)->writes, 0); /* cached */
    rescan_to_4096(*c0);
    return shared;
}

/* EXOS switches from the task in the glue to its dispatcher task at the
 * glue's next KernelHeapAlloc of an Identify buffer (4 KiB; a switch may
 * come anywhere, the Identify commands that follow take milliseconds):
 * the timer's poll runs there, 10 ms later, while another task holds
 * controller SwitchBusy's lock. */
static unsigned SwitchBusy;
static void switch_to_the_timer(UINT size)
{
    LPNVME_CORE_DEVICE busy = nvme_exos_controller(SwitchBusy);
    if (size != 4096)
        return;
    mock_exos.heap_alloc_hook = NULL;
    busy->Blk.bounce_mutex.Task = (LPVOID)0x5a5a;
    poll_at(mock_exos.sys_ms + 10);
    busy->Blk.bounce_mutex.Task = NULL;
}

static void switch_to_the_timer_with_lock_held(unsigned busy)
{
    SwitchBusy = busy;
    mock_exos.heap_alloc_hook = switch_to_the_timer;
}

/* The table of published namespaces changes under a hand-over in
 * progress: a disk request of another task (controller 1's lock held)
 * finds namespace 1 detached from controller 1 and hands its cached write
 * over (core_hand_over); EXOS switches to its dispatcher task meanwhile,
 * whose poll retires controller 0's reformatted disk, ahead in the table,
 * and publishes its new one: the entries move down and the new one takes
 * the slot the hand-over was reading.  The hand-over goes on with the
 * entry it found, a copy (before: with the slot, now controller 0's
 * namespace of another subsystem, which no other controller reaches: "no
 * other path", the write dropped though controller 2 still reached the
 * namespace). */
static void test_a_hand_over_keeps_its_entry_while_the_timer_moves_the_table(void **state)
{
    struct nvme_ctrl *c0, *c1, *c2;
    LPVOID first;
    (void)state;
    first = a_drive_then_two_paths_with_a_cached_write(&c0, &c1, &c2);
    c1->ns_count = 0; /* namespace 1 detached from controller 1 alone */
    c1->gen++;
    mock_exos.sys_ms = 5000;               /* the disk path's service call is due */
    switch_to_the_timer_with_lock_held(1); /* the request's task holds it */
    assert_int_equal(disk_io(first, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    assert_null(mock_exos.heap_alloc_hook); /* the switch happened */
    assert_wrote_lba_3(c2);
    assert_int_equal(c2->flushes, 1);
    assert_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
}

/* The glue's mutex that guards its table of published namespaces: one
 * that is no controller's (blk or PCI device) and not the kernel's. */
static bool the_table_lock(LPMUTEX m)
{
    for (unsigned i = 0; i < nvme_exos_controller_count(); i++) {
        LPNVME_CORE_DEVICE d = nvme_exos_controller(i);
        if (m == &d->Blk.bounce_mutex || m == &d->Pci.Mutex)
            return false;
    }
    return m != MUTEX_KERNEL;
}

/* EXOS's timer interrupt switches from a task in the middle of its search
 * of the published table (no call there: anywhere) to the dispatcher
 * task, whose poll waits for the table's lock that task holds: the poll
 * runs, 10 ms later, once the task releases it, while the task holds
 * controller SwitchBusy's lock (as switch_to_the_timer). */
static void poll_when_the_table_is_free(LPMUTEX m)
{
    LPNVME_CORE_DEVICE busy = nvme_exos_controller(SwitchBusy);
    if (!the_table_lock(m))
        return;
    mock_exos.unlock_hook = NULL;
    busy->Blk.bounce_mutex.Task = (LPVOID)0x5a5a;
    poll_at(mock_exos.sys_ms + 10);
    busy->Blk.bounce_mutex.Task = NULL;
}

/* The hand-over's search of the table (test_a_hand_over_keeps_its_entry_
 * while_the_timer_moves_the_table) preempted before it copies the entry
 * it found, by the poll that retires controller 0's reformatted disk,
 * ahead in the table, and moves the entries down.  The search and the
 * copy are made under the table's lock, which the poll waits for: the
 * entry is found whole, the write goes out through controller 2 at once,
 * and the poll does its work after it (controller 0's new disk).  Before:
 * no lock, the poll moved the slot under the search (another entry read,
 * or the disk not found and its hand-over put off); the mock switches
 * tasks at calls only, and the search made none, so the switch could not
 * come there (hook never called). */
static void test_a_hand_over_preempted_in_its_search_finds_its_entry(void **state)
{
    struct nvme_ctrl *c0, *c1, *c2;
    LPVOID first, formatted;
    (void)state;
    first = a_drive_then_two_paths_with_a_cached_write(&c0, &c1, &c2);
    formatted = mock_exos.disks[0];
    c1->ns_count = 0; /* namespace 1 detached from controller 1 alone */
    c1->gen++;
    mock_exos.sys_ms = 5000;
    SwitchBusy = 1; /* the request's task holds controller 1's lock */
    mock_exos.unlock_hook = poll_when_the_table_is_free;
    assert_int_equal(disk_io(first, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    assert_null(mock_exos.unlock_hook); /* the poll ran, after the search */
    assert_wrote_lba_3(c2);
    assert_int_equal(c2->flushes, 1);
    assert_null(strstr(mock_exos.warnings, "wait for another path"));
    assert_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
    assert_true(((LPNVME_CORE_DISK)first)->Retired);
    assert_true(((LPNVME_CORE_DISK)formatted)->Retired); /* by the poll */
    assert_int_equal(mock_exos.disks_removed, 1);        /* withdrawn, its new disk listed: */
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(((LPNVME_CORE_DISK)mock_exos.disks[1])->BytesPerSector, 4096);
}

/* A hand-over that does not find its disk in the published table.  The
 * table's lock keeps a search from missing an entry the timer's poll
 * moves (the real race: test_a_hand_over_preempted_in_its_search_finds_
 * its_entry), and a disk is listed and entered under its controller's
 * lock, which a request needs too: no EXOS disk reaches this now.  The
 * answer stays the safe one, shown with a disk made on controller 0's
 * block device (NSID 2) that never had an entry.  Its namespace
 * leaves controller 0 with a write cached: the hand-over is put off, the
 * write kept for a later rescan, and dropped only once
 * NVME_EXOS_HAND_OVER_MS has passed.  Before: "not found" answered true
 * ("handed over") and the write was dropped at once. */
static void test_a_hand_over_that_does_not_find_its_disk_puts_it_off(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPNVME_CORE_DEVICE d0;
    LPNVME_CORE_DISK unlisted;
    (void)state;
    two_paths_attached(&c0, &c1, true);
    d0 = nvme_exos_controller(0);
    c0->ns[1] = c0->ns[0];
    c0->ns[1].nsid = 2;
    c0->ns_count = 2; /* no rescan: not published */
    unlisted = nvme_exos_disk_create(&d0->Blk, 2, 512, c0->ns[1].nsze, false);
    assert_non_null(unlisted);
    nvme_exos_disk_set_policy(unlisted, &c0->ns[1]);
    assert_int_equal(disk_io(unlisted, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c0->writes, 0); /* cached */

    c0->ns_count = 1; /* NSID 2 gone from controller 0 */
    mock_exos.sys_ms = 5000;
    assert_int_equal(disk_io(unlisted, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    assert_false(unlisted->Retired);
    assert_true(nvme_exos_blk_owes(&d0->Blk, 2));
    assert_null(strstr(mock_exos.warnings, "dropped"));
    assert_non_null(strstr(mock_exos.warnings, "NSID=2: gone from this path, its cached writes "
                                               "wait for another path"));

    mock_exos.sys_ms = 5000 + NVME_EXOS_HAND_OVER_MS + 1; /* bounded */
    assert_int_equal(disk_io(unlisted, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    assert_true(unlisted->Retired);
    assert_non_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
    assert_int_equal(c0->writes + c1->writes, 0);
    ReleaseKernelObject(unlisted);
}

/* A detach whose hand-over was put off (controller 1's lock held), then
 * EXOS's shutdown before the next poll, the other task done: the
 * shutdown's write-back of controller 0 finds the namespace gone and
 * hands the write over (nvme_exos_disk_retire), not dropped. */
static void test_a_shutdown_hands_over_what_a_busy_path_put_off(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    (void)detach_with_a_cached_write_and_path_1_busy(&c0, &c1);
    poll_at(5000);
    assert_int_equal(c1->writes, 0);

    nvme_exos_controller(1)->Blk.bounce_mutex.Task = NULL; /* the other task is done */
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_wrote_lba_3(c1);
    assert_int_equal(c1->flushes, 1);
    assert_non_null(strstr(mock_exos.warnings, "0 cached write(s) dropped"));
}

/* A detach whose hand-over was put off (controller 1's lock
 * held), then controller 0 goes (surprise removal) before the next poll;
 * the other task is done by then.  Controller 1 still reaches the
 * namespace: the cached write must go out through it (fail_over), not be
 * dropped.  core_hand_over answers true for a path that is down ("fail_over
 * hands over"), so the retire the poll's tick or update_namespaces makes
 * first goes ahead at once and drops the write; fail_over then skips the
 * retired disk. */
static void test_a_put_off_hand_over_whose_path_then_goes_still_hands_over(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    (void)detach_with_a_cached_write_and_path_1_busy(&c0, &c1);
    poll_at(5000);
    assert_int_equal(c1->writes, 0);
    assert_null(strstr(mock_exos.warnings, "dropped"));

    path_goes(c0);
    nvme_exos_controller(1)->Blk.bounce_mutex.Task = NULL; /* the other task is done */
    poll_at(6000);
    assert_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
    assert_wrote_lba_3(c1);
    assert_int_equal(mock_exos.disk_count, 2); /* published through controller 1 */
}

/* A namespace detached while the other path was busy, then attached again
 * before the hand-over: the disk stays, and a later detach waits for the
 * other path afresh (the first wait is not counted against it). */
static void test_a_namespace_back_before_its_hand_over_waits_afresh_at_the_next(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID first;
    (void)state;
    first = detach_with_a_cached_write_and_path_1_busy(&c0, &c1);
    poll_at(5000);
    c0->ns_count = 1; /* attached again */
    c0->gen++;
    poll_at(6000);
    assert_int_equal(disk_io(first, DF_DISK_READ, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(first, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);

    c0->ns_count = 0; /* and detached again, 20 s later */
    c0->gen++;
    poll_at(26000);
    assert_null(strstr(mock_exos.warnings, "dropped"));
    assert_int_equal(mock_exos.disk_count, 1);
    nvme_exos_controller(1)->Blk.bounce_mutex.Task = NULL;
    poll_at(27000);
    assert_wrote_lba_3(c1);
    assert_int_equal(mock_exos.disk_count, 2);
}

/* EXOS shuts down (DF_UNLOAD) after controller 0 went and before the
 * timer's next poll failed its shared namespace over: the write EXOS made
 * through controller 0, still in its block cache, goes out through
 * controller 1 (and a Flush) before controller 1 is shut down, as the
 * poll would have sent it.  Before: controller 0's write-back failed
 * (gone), controller 1 got 0 writes, and the write was lost. */
static void
test_a_shutdown_before_the_failover_writes_the_cached_writes_through_another(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID first;
    (void)state;
    two_paths_attached(&c0, &c1, true);
    first = mock_exos.disks[0];
    assert_int_equal(disk_io(first, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c0->writes, 0); /* cached */

    path_goes(c0);
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_wrote_lba_3(c1);
    assert_true(c1->flushes >= 1);
    assert_true(c1->finied);
}

/* The same at EXOS's shutdown (DF_UNLOAD, the shell's task), whose
 * failover of a path that went is switched out of at its KernelHeapAlloc
 * for the dispatcher's poll (controller 2's lock held meanwhile, by a
 * request of another task, so the poll does not fail the path over
 * itself), which retires controller 0's reformatted disk, ahead in the
 * table, and publishes its new one in the slot the failover was reading.
 * The failover goes on with the entry it found (before: with controller
 * 0's new namespace, of another subsystem: no other path, and the write
 * went to the gone controller at its write-back, lost). */
static void test_a_shutdown_failover_keeps_its_entry_while_the_timer_moves_the_table(void **state)
{
    struct nvme_ctrl *c0, *c1, *c2;
    (void)state;
    (void)a_drive_then_two_paths_with_a_cached_write(&c0, &c1, &c2);
    path_goes(c1);
    mock_exos.sys_ms = 5000;
    switch_to_the_timer_with_lock_held(2);
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_null(mock_exos.heap_alloc_hook); /* the switch happened */
    assert_wrote_lba_3(c2);
    assert_true(c2->flushes >= 1);
}

/* Namespace 2 of controller c: as namespace 1, shared (NMIC bit 0), its
 * NGUID from `seed`. */
static void fake_second_shared_ns(struct nvme_ctrl *c, uint8_t seed)
{
    c->ns[1] = c->ns[0];
    c->ns[1].nsid = 2;
    c->ns_count = 2;
    c->nmic[1] = 1;
    fake_ns_ids(c, 1, seed);
}

/* Controller 0 (its own subsystem) and two paths, 1 and 2, to two
 * shared namespaces; a write cached for each through controller 1's
 * disks; controller 0's namespace rescanned to 4096-byte blocks (its disk
 * retired by the next poll, the table's entries to move down behind it)
 * and controller 1 gone, at 5 s.  Returns controller 2. */
static struct nvme_ctrl *a_path_gone_owing_two_shared_writes(void)
{
    struct nvme_ctrl *c0, *c1, *c2;
    c0 = fake_ctrl(0, "SA");
    c1 = fake_ctrl(1, "SB");
    c2 = fake_ctrl(2, "SB");
    c1->nmic[0] = c2->nmic[0] = 1;
    fake_ns_ids(c1, 0, 0xab);
    fake_ns_ids(c2, 0, 0xab);
    fake_second_shared_ns(c1, 0xcd);
    fake_second_shared_ns(c2, 0xcd);
    (void)attach_next(false);
    (void)attach_next(true);
    (void)attach_next(true);
    assert_int_equal(mock_exos.disk_count, 3); /* nvme0n1, nvme1n1, nvme1n2 */
    assert_int_equal(disk_io(mock_exos.disks[1], DF_DISK_WRITE, 3, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
    assert_int_equal(disk_io(mock_exos.disks[2], DF_DISK_WRITE, 5, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
    assert_int_equal(c1->writes, 0); /* cached */

    rescan_to_4096(c0);
    path_goes(c1);
    mock_exos.sys_ms = 5000;
    return c2;
}

/* The shutdown's failover of two disks of a path that went (controller
 * 1's NSIDs 1 and 2, each with a write cached; controller 2 reaches
 * both), switched out at the first one's KernelHeapAlloc for the poll,
 * which retires controller 0's reformatted disk, ahead of both in the
 * table: the entries move down one slot.  The failover goes on after the
 * entry it handled, wherever that is now, and fails the second disk over
 * too (before: it went on at the next index, past the second disk's new
 * slot, and that write went to the gone controller at the write-back,
 * lost). */
static void test_a_shutdown_failover_misses_no_entry_when_the_timer_moves_the_table(void **state)
{
    struct nvme_ctrl *c2 = a_path_gone_owing_two_shared_writes();
    (void)state;
    switch_to_the_timer_with_lock_held(2);
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_null(mock_exos.heap_alloc_hook); /* the switch happened */
    assert_int_equal(c2->writes, 2);        /* both, through controller 2 */
    assert_int_equal(c2->last_nsid, 2);
    assert_int_equal(c2->last_lba, 5);
    assert_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
}

/* The same at EXOS's shutdown: the failover's scan of the table
 * (test_a_shutdown_failover_misses_no_entry_when_the_timer_moves_the_table)
 * preempted by the poll that moves the entries down, controller 2's lock
 * held by another task meanwhile.  Both of the path's disks fail over
 * through controller 2.  Before: no lock, the switch could not come
 * there (hook never called). */
static void test_a_shutdown_failover_preempted_in_its_scan_misses_no_entry(void **state)
{
    struct nvme_ctrl *c2 = a_path_gone_owing_two_shared_writes();
    (void)state;
    SwitchBusy = 2;
    mock_exos.unlock_hook = poll_when_the_table_is_free;
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_null(mock_exos.unlock_hook); /* the poll ran, after the scan */
    assert_int_equal(c2->writes, 2);    /* both, through controller 2 */
    assert_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
}

/* A mutex EXOS's shutdown finds held by a task it killed (Task set):
 * LockMutex with INFINITY never returns there (EXOS releases only the
 * mutexes on its own list, not the glue's). */
static LPMUTEX TableMutex; /* the table's lock, as a poll took it */
static void no_endless_wait(LPMUTEX Mutex)
{
    if (Mutex->Task != NULL)
        fail_msg("a wait without end for a mutex a killed task holds");
}
static void find_the_table_lock(LPMUTEX Mutex, UINT Timeout)
{
    (void)Timeout;
    if (the_table_lock(Mutex))
        TableMutex = Mutex;
}

/* EXOS kills its kernel tasks before DF_UNLOAD (PrepareForPowerTransition):
 * the timer's task, killed inside a window's write-back, keeps the blk
 * lock, and inside a poll's look at the published table, the table's
 * lock.  The shutdown waits for each a bounded time, says so, and goes
 * on: the cached write is written back and Flushed, the controller shut
 * down.  Before: LockMutex(INFINITY) on both, EXOS never powered off. */
static void test_a_shutdown_goes_on_past_locks_a_killed_task_kept(void **state)
{
    LPNVME_CORE_DEVICE d;
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    d = attach_next(true);
    mock_exos.timed_lock_hook = find_the_table_lock;
    poll_at(5000);
    mock_exos.timed_lock_hook = NULL;
    assert_non_null(TableMutex);
    assert_int_equal(disk_io(mock_exos.disks[0], DF_DISK_WRITE, 8, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 0); /* cached */

    d->Blk.bounce_mutex.Task = (LPVOID)0x5a5a; /* the killed timer task's */
    TableMutex->Task = (LPVOID)0x5a5a;
    mock_exos.lock_hook = no_endless_wait;
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_int_equal(c->writes, 1);
    assert_int_equal(c->finis, 1);
    assert_non_null(strstr(mock_exos.warnings, "block cache: lock held by a task that is gone"));
    assert_non_null(
        strstr(mock_exos.warnings, "published namespaces: lock held by a task that is gone"));
    /* Dead holders are not waited for (before: 2 s each). */
    assert_int_equal(mock_exos.longest_held_wait, 0);
}

/* A disk request's task killed (EXOS `kill` of its process) while
 * preempted in a hand-over's search of the published table: it keeps the
 * table's lock for good, EXOS releasing only the mutexes on its list.
 * The dispatcher's poll takes the lock over and goes on, and so do the
 * later ones, with no second warning.  Before: LockMutex(INFINITY), the
 * poll (EXOS's deferred work, the keyboard's too) stuck for good. */
static void test_a_poll_takes_over_the_table_lock_a_killed_task_kept(void **state)
{
    fake_ctrl(0, "S0");
    (void)state;
    (void)attach_next(true);
    mock_exos.timed_lock_hook = find_the_table_lock;
    poll_at(5000);
    mock_exos.timed_lock_hook = NULL;
    assert_non_null(TableMutex);
    TableMutex->Task = (LPVOID)0x5a5a; /* the killed task's */
    mock_exos.lock_hook = no_endless_wait;
    poll_at(7000);
    assert_non_null(
        strstr(mock_exos.warnings, "published namespaces: lock held by a task that is gone"));
    assert_int_equal(mock_exos.longest_held_wait, 0);
    mock_exos.warnings[0] = 0;
    poll_at(9000);
    assert_null(strstr(mock_exos.warnings, "lock held"));
}

/* A task that holds the controller's blk lock at DF_UNLOAD and still
 * runs (none in EXOS, which kills every task but the caller first, but
 * the glue must not rely on it): a Format from nvmectl, minutes long.
 * The shutdown waits for it as a disk request would (bounded, past a
 * Format's deadline), then writes the cache back and shuts the
 * controller down with the lock held.  Before: it stopped waiting after
 * 2 s, wrote back and freed the controller (nvme_ctrl_fini) under the
 * Format. */
static void format_ends_during_a_long_wait(LPMUTEX Mutex, UINT Timeout)
{
    if (Mutex != &resetting_dev->Blk.bounce_mutex)
        return;
    if (Timeout >= NVME_EXOS_HAND_OVER_MS) /* the Format ends meanwhile */
        Mutex->Task = NULL;
}

static void test_a_shutdown_waits_for_a_live_task_before_fini(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    resetting_dev = attach_next(false);
    poll_at(5000);
    resetting_dev->Blk.bounce_mutex.Task = (LPVOID)0x5a5a; /* nvmectl format's task */
    mock_exos.live_task = (LPVOID)0x5a5a;
    mock_exos.timed_lock_hook = format_ends_during_a_long_wait;
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_true(c->finied); /* shut down once the Format was over */
    assert_int_equal(c->fini_refusals, 0);
    assert_null(resetting_dev->Ctrl);
    assert_null(strstr(mock_exos.warnings, "FAILED"));
}

/* The same with a live task that never lets go: the controller is left
 * to it (not written back, not freed), said so.  Before: freed under it
 * after 2 s. */
static void test_a_shutdown_leaves_a_controller_a_live_task_keeps(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    resetting_dev = attach_next(false);
    poll_at(5000);
    resetting_dev->Blk.bounce_mutex.Task = (LPVOID)0x5a5a;
    mock_exos.live_task = (LPVOID)0x5a5a;
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_false(c->finied);
    assert_int_equal(c->fini_refusals, 0);
    assert_non_null(resetting_dev->Ctrl);
    assert_false(resetting_dev->Blk.stopped);
    assert_true(mock_exos.longest_held_wait >= NVME_EXOS_HAND_OVER_MS); /* bounded */
    assert_non_null(strstr(mock_exos.warnings, "block cache: lock held by a live task"));
}

/* A reset whose task EXOS killed (a disk request's recovery, the timer's
 * service call) before DF_UNLOAD: it never ends, nvme_ctrl_fini refuses
 * (NVME_ERR_STATE).  The dead task's lock is taken over at once and the
 * refusal logged FAILED, with no wait.  Before: 2 s, then 60 s more for
 * a task that would never let go. */
static void test_a_shutdown_during_a_reset_that_never_ends_goes_on(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    (void)state;
    resetting_dev = attach_next(false);
    poll_at(5000);
    resetting_dev->Blk.bounce_mutex.Task = (LPVOID)0x5a5a; /* dead: EXOS killed it */
    c->in_reset = true;                                    /* for good */
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_int_equal(c->fini_refusals, 1);
    assert_false(c->finied);
    assert_non_null(strstr(mock_exos.warnings, "FAILED"));
    assert_int_equal(mock_exos.longest_held_wait, 0);
}

/* The shared namespace is published once, through controller 0.  A
 * rescan on controller 1 (a Namespace Attribute Changed event) publishes
 * its namespaces again, and reads its SUBNQN again: that Identify
 * Controller fails (a timeout).  Controller 1 must keep the subsystem it
 * was found in: else it is no second path any more, and the namespace is
 * published a second time (two disks, two caches, one namespace: EXOS
 * mounts its file system twice).  Before: 2 disks. */
static void test_a_failed_identify_at_a_rescan_does_not_publish_a_second_path(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    two_paths_attached(&c0, &c1, false);
    assert_int_equal(mock_exos.disk_count, 1);

    c1->id_ctrl_fails = true;
    c1->gen++;
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 1);
}

/* The same at controller 1's first publish (its Attach): its Identify
 * Controller fails, so its subsystem is unknown and it cannot tell that
 * NSID 1 is the namespace controller 0 publishes.  Nothing of it is
 * published until an Identify answers; then it is known for a second
 * path.  A controller of no other's subsystem gets its disk then.
 * Before: published at once, as if in no subsystem (2 disks). */
static void test_a_failed_identify_at_the_first_publish_waits_for_the_subsystem(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    two_paths(&c0, &c1);
    (void)attach_next(false);
    c1->id_ctrl_fails = true;
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 1);
    assert_non_null(strstr(mock_exos.warnings, "nvme1: Identify Controller failed"));
    poll_at(2000);
    assert_int_equal(mock_exos.disk_count, 1);
    c1->id_ctrl_fails = false;
    poll_at(4000); /* with the service call: the subsystem read, a second path */
    assert_int_equal(mock_exos.disk_count, 1);

    struct nvme_ctrl *c2 = fake_ctrl(2, "S2"); /* another drive */
    c2->id_ctrl_fails = true;
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 1);
    c2->id_ctrl_fails = false;
    poll_at(6000);
    assert_int_equal(mock_exos.disk_count, 2);
}

/* The same with Identify Namespace failing at controller 1's rescan: its
 * NMIC (shared or not) and identifiers are unknown, and the namespace of
 * that NSID is already published through another controller of the
 * subsystem: not published again through controller 1.  Before: taken
 * for a private namespace and published (2 disks). */
static void test_a_failed_identify_namespace_does_not_publish_a_second_path(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    two_paths_attached(&c0, &c1, false);
    assert_int_equal(mock_exos.disk_count, 1);

    c1->id_ns_fails = true;
    c1->gen++;
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 1);
    /* Once it answers again, still one disk; an unshared namespace of
     * another drive is published as before. */
    c1->id_ns_fails = false;
    c1->gen++;
    poll_at(7000);
    assert_int_equal(mock_exos.disk_count, 1);
}

/* The failover with the shared namespace formatted to 4096-byte blocks
 * meanwhile (another host, or nvmectl through controller 1): controller 0
 * went before it rescanned, its cache holds a write of one 512-byte
 * block.  Sent through controller 1, "1 block at LBA 3" is 4096 bytes at
 * byte 12288, read from a 512-byte slot of the segment: it must not be
 * sent (dropped with the disk, logged), as the rescan of a single path
 * drops it.  Before: controller 1 got that write (4096-byte blocks). */
static void test_a_failover_to_a_path_that_sees_another_format_writes_nothing(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID first;
    (void)state;
    two_paths_attached(&c0, &c1, true);
    first = mock_exos.disks[0];
    mock_exos_mount(first, false); /* a partition EXOS mounted: stays listed */
    assert_int_equal(disk_io(first, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);

    rescan_to_4096(c1);
    path_goes(c0);
    poll_at(5000);
    assert_int_equal(c1->writes, 0);
    assert_int_equal(disk_io(first, DF_DISK_READ, 0, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
}

/* A namespace without a second path keeps its disk when its controller
 * dies: a reset may bring it back (the disk fails until then). */
static void test_unshared_namespace_keeps_its_disk_when_the_path_fails(void **state)
{
    struct nvme_ctrl *c0 = fake_ctrl(0, "S0");
    (void)state;
    (void)fake_ctrl(1, "S1");
    (void)attach_next(false);
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 2);
    c0->event_cb(c0->event_arg, NVME_EVENT_DEAD, (uint32_t)-NVME_ERR_TIMEOUT);
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    assert_int_equal(disk_io(mock_exos.disks[0], DF_DISK_READ, 0, 1, io_buf, 512),
                     DF_RETURN_HARDWARE_ABSENT);
    c0->event_cb(c0->event_arg, NVME_EVENT_RESET, 0);
    assert_int_equal(disk_io(mock_exos.disks[0], DF_DISK_READ, 0, 1, io_buf, 512),
                     DF_RETURN_SUCCESS);
}

/* Surprise removal (NVME_EVENT_GONE) or a failed recovery
 * (NVME_EVENT_DEAD): no command reaches the device until a reset works
 * (nvme.h), and the disk answers DF_RETURN_HARDWARE_ABSENT, the requests
 * the block cache would serve too.  Before, a 512-byte write went into
 * the cache and was answered DF_RETURN_SUCCESS (its data never written:
 * each write-back failed, and the shutdown dropped it), and a cached
 * block was read from a controller that was gone.  A reset that works
 * brings the disk back, the writes cached before still owed. */
static void test_a_removed_controller_takes_no_write_into_the_cache(void **state)
{
    struct nvme_ctrl *c = fake_ctrl(0, "S0");
    LPVOID disk;
    (void)state;
    (void)attach_next(true);
    disk = mock_exos.disks[0];
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 8, 1, io_buf, 512), DF_RETURN_SUCCESS);

    c->gone = true;
    c->event_cb(c->event_arg, NVME_EVENT_GONE, 0);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 9, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(disk_io(disk, DF_DISK_READ, 8, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    c->gone = false;
    c->event_cb(c->event_arg, NVME_EVENT_RESET, 0);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 9, 1, io_buf, 512), DF_RETURN_SUCCESS);

    c->event_cb(c->event_arg, NVME_EVENT_DEAD, (uint32_t)-NVME_ERR_TIMEOUT);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 10, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    /* a reset that fails (nvmectl reset) brings nothing back */
    c->event_cb(c->event_arg, NVME_EVENT_RESET, (uint32_t)-NVME_ERR_TIMEOUT);
    assert_int_equal(disk_io(disk, DF_DISK_WRITE, 10, 1, io_buf, 512), DF_RETURN_HARDWARE_ABSENT);
    c->event_cb(c->event_arg, NVME_EVENT_RESET, 0);
    assert_int_equal(c->writes, 0);
    poll_at(5000); /* the window: LBAs 8 and 9, one command */
    assert_int_equal(c->writes, 1);
    assert_int_equal(c->last_lba, 8);
    assert_int_equal(c->last_count, 2);
}

/* A fifth NVMe function (NVME_EXOS_MAX_CTRL is 4): refused before
 * anything is mapped or brought up, with a warning; the four keep their
 * slots (before it is refused, nothing past Controllers[3] is written). */
static void test_a_controller_past_the_maximum_is_refused(void **state)
{
    PCI_DEVICE pci;
    char serial[8];
    (void)state;
    for (unsigned i = 0; i < NVME_EXOS_MAX_CTRL; i++) {
        snprintf(serial, sizeof(serial), "S%u", i);
        (void)fake_ctrl(i, serial);
        (void)attach_next(false);
    }
    assert_int_equal(nvme_exos_controller_count(), NVME_EXOS_MAX_CTRL);
    memset(&pci, 0, sizeof(pci));
    pci.TypeID = KOID_PCIDEVICE;
    pci.Info.Dev = 12;
    assert_int_equal(NVMeCorePCIDriver.Command(DF_PROBE, (UINT)&pci.Info), DF_RETURN_SUCCESS);
    assert_null(NVMeCorePCIDriver.Attach(&pci));
    assert_int_equal(mock_exos.ioremaps, NVME_EXOS_MAX_CTRL);
    assert_int_equal(nvme_exos_controller_count(), NVME_EXOS_MAX_CTRL);
    assert_null(nvme_exos_controller(NVME_EXOS_MAX_CTRL));
    assert_non_null(strstr(mock_exos.warnings, "More than 4 controllers"));
}

/* Two drives whose firmware reports one SUBNQN (Linux's
 * NVME_QUIRK_IGNORE_DEV_SUBNQN), NMIC bit 0 set, no namespace identifiers:
 * their serial numbers differ, they are two subsystems and two disks.
 * Before: 1 disk, the second drive never published. */
static void test_one_subnqn_on_two_drives_without_identifiers_gives_two_disks(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    two_drives_one_subnqn(&c0, &c1);
    (void)attach_next(false);
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 2);
}

/* The same with serial numbers of which one begins the other ("S0",
 * "S01"): still two subsystems, two disks (the serials compared whole,
 * not up to the shorter one's end). */
static void test_one_subnqn_on_two_drives_with_prefix_serials_gives_two_disks(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    two_drives_one_subnqn(&c0, &c1);
    snprintf(c1->info.serial, sizeof(c1->info.serial), "%s", "S01");
    (void)attach_next(false);
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 2);
}

/* The same two drives with equal (bogus) NGUIDs.  Before: 1 disk. */
static void test_one_subnqn_on_two_drives_with_equal_identifiers_gives_two_disks(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    two_drives_one_subnqn(&c0, &c1);
    fake_ns_ids(c0, 0, 0xab);
    fake_ns_ids(c1, 0, 0xab);
    (void)attach_next(false);
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 2);
}

/* One subsystem (one SUBNQN and serial, CNTLIDs 1 and 2) sharing NSID 1
 * without namespace identifiers: QEMU 7.2's nvme-subsys with an nvme-ns
 * given no uuid/eui64/nguid (NMIC 1, a descriptor list with the CSI only).
 * The NSID names one namespace there: one disk, else EXOS mounts it twice
 * with two caches.  With one CNTLID on both, two controllers of one
 * subsystem they cannot be: two disks. */
static void test_subsystem_without_identifiers_is_one_disk(void **state)
{
    struct nvme_ctrl *c0, *c1, *c2;
    (void)state;
    two_paths(&c0, &c1);
    c0->ids_given[0] = c1->ids_given[0] = false;
    c2 = fake_ctrl(2, "S0");
    c2->nmic[0] = 1;
    c2->info.cntlid = c0->info.cntlid;
    (void)attach_next(false);
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 1);
    (void)attach_next(false);
    assert_int_equal(mock_exos.disk_count, 2);
}

/* --- runner: one process per test ----------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    mock_exos_reset();
    return 0;
}

#define T(f) cmocka_unit_test_setup(f, setup)

/* The reverse of test_a_shutdown_hands_over_what_a_busy_path_put_off:
 * the shared namespace published through controller 1 (detached from
 * controller 0 and handed over, then attached to 0 again), a write
 * cached through 1, then the namespace gone from 1 while 0's lock is
 * held: the hand-over is put off.  EXOS's shutdown comes with 0 free
 * again: every cache is written back before any controller stops, so
 * the write goes out through controller 0 (before: 0 was shut down
 * first, and 1's last write-back found no live path and dropped the
 * write; found by a review helper). */
static void test_a_shutdown_hands_over_to_a_lower_index_path(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID second;
    (void)state;
    two_paths_attached(&c0, &c1, true);
    mock_exos_mount(mock_exos.disks[0], false); /* stays listed */
    c0->ns_count = 0; /* detached from controller 0: published through 1 */
    c0->gen++;
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    second = mock_exos.disks[1];
    c0->ns_count = 1; /* attached to controller 0 again (not published twice) */
    c0->gen++;
    poll_at(6000);
    assert_int_equal(disk_io(second, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c1->writes, 0); /* cached in controller 1's block cache */
    c1->ns_count = 0;                /* detached from controller 1 while 0's lock is held */
    c1->gen++;
    nvme_exos_controller(0)->Blk.bounce_mutex.Task = (LPVOID)0x5a5a;
    poll_at(6500);
    assert_int_equal(c0->writes, 0);
    assert_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
    nvme_exos_controller(0)->Blk.bounce_mutex.Task = NULL; /* the other task is done */
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
    assert_wrote_lba_3(c0);
}

/* The same, but EXOS killed a task that held controller 1's lock (its
 * `nvmectl nvme1 ...`, say) before the shutdown.  The shutdown takes that
 * lock over before its write-backs: controller 1's cache is written back
 * while controller 0 still runs, and the write goes out through it.
 * Before: the first write-back only tried the lock and passed controller
 * 1 by; its last write-back came after controller 0's shutdown, found no
 * path, and dropped the write EXOS was told is done. */
static void test_a_shutdown_hands_over_from_a_path_a_killed_task_kept(void **state)
{
    struct nvme_ctrl *c0, *c1;
    LPVOID second;
    (void)state;
    two_paths_attached(&c0, &c1, true);
    mock_exos_mount(mock_exos.disks[0], false); /* stays listed */
    c0->ns_count = 0; /* detached from controller 0: published through 1 */
    c0->gen++;
    poll_at(5000);
    assert_int_equal(mock_exos.disk_count, 2);
    second = mock_exos.disks[1];
    c0->ns_count = 1; /* attached to controller 0 again (not published twice) */
    c0->gen++;
    poll_at(6000);
    assert_int_equal(disk_io(second, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    assert_int_equal(c1->writes, 0); /* cached in controller 1's block cache */
    c1->ns_count = 0;                /* detached from controller 1 while 0's lock is held */
    c1->gen++;
    nvme_exos_controller(0)->Blk.bounce_mutex.Task = (LPVOID)0x5a5a;
    mock_exos.live_task = (LPVOID)0x5a5a;
    poll_at(6500);
    assert_int_equal(c0->writes, 0);
    nvme_exos_controller(0)->Blk.bounce_mutex.Task = NULL; /* the other task is done */
    mock_exos.live_task = NULL;
    nvme_exos_controller(1)->Blk.bounce_mutex.Task = (LPVOID)0x6b6b; /* killed, kept it */
    nvme_exos_controller(1)->Blk.bounce_mutex.Lock = 1;
    assert_int_equal(NVMeCorePCIDriver.Command(DF_UNLOAD, 0), DF_RETURN_SUCCESS);
    assert_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
    assert_wrote_lba_3(c0);
    assert_true(c0->finied && c1->finied);
}

/* Two paths to namespace 1, a write to block 3 cached through controller
 * 0, then the namespace detached from controller 0 alone (seen at the
 * next poll). */
static void cached_then_gone_from_0(struct nvme_ctrl **c0, struct nvme_ctrl **c1)
{
    LPVOID first;
    two_paths_attached(c0, c1, true);
    first = mock_exos.disks[0];
    mock_exos_mount(first, false);
    assert_int_equal(disk_io(first, DF_DISK_WRITE, 3, 1, io_buf, 512), DF_RETURN_SUCCESS);
    (*c0)->ns_count = 0;
    (*c0)->gen++;
}

/* A write cached through controller 0, namespace 1 then detached from
 * controller 0 alone, and controller 1's Identify Namespace (`identify`)
 * or write timing out once at that poll: the hand-over is put off as for
 * a busy path, and a later poll hands the write over through controller
 * 1 (before: the failed Identify was taken for "not this namespace", the
 * failed write not looked at, and the retire dropped a write EXOS was
 * told is done; found by a review helper). */
static void hand_over_after_a_timeout(bool identify)
{
    struct nvme_ctrl *c0, *c1;
    unsigned tried;
    cached_then_gone_from_0(&c0, &c1);
    c1->id_ns_fails = identify;
    c1->write_rc = identify ? 0 : NVME_ERR_TIMEOUT;
    poll_at(5000);
    assert_true(identify || c1->writes >= 1); /* tried, timed out */
    assert_null(strstr(mock_exos.warnings, "dropped"));
    c1->id_ns_fails = false;
    c1->write_rc = 0;
    tried = c1->writes;
    poll_at(6000);
    poll_at(7000);
    assert_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
    assert_int_equal(c1->writes, tried + 1); /* handed over once */
    assert_int_equal(c1->last_nsid, 1);
    assert_int_equal(c1->last_lba, 3);
    assert_int_equal(c1->last_count, 1);
}

static void test_a_hand_over_whose_identify_times_out_keeps_the_write(void **state)
{
    (void)state;
    hand_over_after_a_timeout(true);
}

static void test_a_hand_over_whose_write_times_out_keeps_the_write(void **state)
{
    (void)state;
    hand_over_after_a_timeout(false);
}

/* A failure that cannot pass (a status with DNR: Write Fault) lets the
 * retire drop the write at once, said so, rather than wait out
 * NVME_EXOS_HAND_OVER_MS. */
static void test_a_hand_over_whose_write_fails_with_dnr_drops_it(void **state)
{
    struct nvme_ctrl *c0, *c1;
    (void)state;
    cached_then_gone_from_0(&c0, &c1);
    c1->write_rc = NVME_SF(NVME_SCT_MEDIA, 0x80) | NVME_SF_DNR_BIT;
    poll_at(5000);
    assert_int_equal(c1->writes, 1);
    assert_non_null(strstr(mock_exos.warnings, "1 cached write(s) dropped"));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_service_waits_out_a_teardown_in_progress),
        T(test_a_shutdown_goes_on_past_locks_a_killed_task_kept),
        T(test_attach_turns_a_previous_owners_msi_and_msix_off),
        T(test_a_poll_takes_over_the_table_lock_a_killed_task_kept),
        T(test_a_shutdown_waits_for_a_live_task_before_fini),
        T(test_a_shutdown_leaves_a_controller_a_live_task_keeps),
        T(test_a_shutdown_during_a_reset_that_never_ends_goes_on),
        T(test_service_runs_under_the_lock_the_teardown_takes),
        T(test_format_to_another_lba_size_republishes_the_disk),
        T(test_writes_cached_for_the_old_format_are_never_written),
        T(test_access_of_a_retired_disk_leaves_the_new_disk_alone),
        T(test_rescan_applies_the_disk_rules_of_the_new_format),
        T(test_a_disabled_disk_is_not_mounted),
        T(test_a_write_protected_namespace_is_published_read_only),
        T(test_set_access_does_not_lift_write_protection_the_poll_found),
        T(test_a_published_disk_is_mounted_with_no_lock_held),
        T(test_a_namespace_created_again_gets_a_new_disk_and_no_old_writes),
        T(test_a_format_found_by_the_disk_path_service_sends_nothing_of_the_old),
        T(test_a_format_found_during_a_write_back_writes_nothing_of_the_old),
        T(test_a_retired_disk_nothing_uses_leaves_the_disk_list),
        T(test_a_retired_disk_with_a_file_system_stays_listed),
        T(test_a_retired_disk_before_a_mounted_nvme_disk_stays_listed),
        T(test_a_cache_a_reset_brings_gets_flushes),
        T(test_no_deferred_work_slot_writes_through),
        T(test_attach_turns_the_unused_intx_pin_off),
        T(test_bar0_is_sized_with_decode_off),
        T(test_attach_keeps_the_status_errors_and_updates_command_atomically),
        T(test_a_64_bit_bar0_of_8_gib_is_sized_and_mapped),
        T(test_an_unusable_bar0_is_refused_with_its_reason),
        T(test_attach_without_heap_for_the_published_table_is_refused),
        T(test_a_reset_line_after_boot_stays_off_the_console),
        T(test_a_failed_identify_at_the_first_publish_waits_for_the_subsystem),
        T(test_a_cache_an_activation_brings_gets_flushes),
        T(test_a_namespace_that_grows_keeps_its_disk),
        T(test_a_namespace_that_shrinks_keeps_its_disk),
        T(test_a_new_size_with_other_identifiers_is_a_new_disk),
        T(test_shared_namespace_fails_over_when_its_first_controller_goes),
        T(test_a_failover_mounts_with_no_lock_held),
        T(test_a_failover_writes_the_cached_writes_through_the_other_path),
        T(test_a_failover_to_a_path_that_sees_another_format_writes_nothing),
        T(test_a_shared_namespace_detached_from_its_path_is_published_through_another),
        T(test_a_detach_from_its_path_writes_the_cached_writes_through_another),
        T(test_a_detach_while_the_other_path_is_busy_hands_the_writes_over_later),
        T(test_a_detach_whose_other_path_resets_for_a_minute_keeps_the_writes),
        T(test_a_detach_whose_other_path_stays_busy_drops_the_writes_in_time),
        T(test_a_shutdown_hands_over_what_a_busy_path_put_off),
        T(test_a_shutdown_hands_over_to_a_lower_index_path),
        T(test_a_shutdown_hands_over_from_a_path_a_killed_task_kept),
        T(test_a_hand_over_whose_identify_times_out_keeps_the_write),
        T(test_a_hand_over_whose_write_times_out_keeps_the_write),
        T(test_a_hand_over_whose_write_fails_with_dnr_drops_it),
        T(test_a_hand_over_keeps_its_entry_while_the_timer_moves_the_table),
        T(test_a_hand_over_preempted_in_its_search_finds_its_entry),
        T(test_a_hand_over_that_does_not_find_its_disk_puts_it_off),
        T(test_a_put_off_hand_over_whose_path_then_goes_still_hands_over),
        T(test_a_namespace_back_before_its_hand_over_waits_afresh_at_the_next),
        T(test_a_failed_identify_at_a_rescan_does_not_publish_a_second_path),
        T(test_a_failed_identify_namespace_does_not_publish_a_second_path),
        T(test_a_shutdown_before_the_failover_writes_the_cached_writes_through_another),
        T(test_a_shutdown_failover_keeps_its_entry_while_the_timer_moves_the_table),
        T(test_a_shutdown_failover_misses_no_entry_when_the_timer_moves_the_table),
        T(test_a_shutdown_failover_preempted_in_its_scan_misses_no_entry),
        T(test_unshared_namespace_keeps_its_disk_when_the_path_fails),
        T(test_a_removed_controller_takes_no_write_into_the_cache),
        T(test_a_controller_past_the_maximum_is_refused),
        T(test_one_subnqn_on_two_drives_without_identifiers_gives_two_disks),
        T(test_one_subnqn_on_two_drives_with_equal_identifiers_gives_two_disks),
        T(test_subsystem_without_identifiers_is_one_disk),
        T(test_one_subnqn_on_two_drives_with_prefix_serials_gives_two_disks),
    };
    const unsigned n = sizeof(tests) / sizeof(tests[0]);
    int failed = 0;

    if (argc > 1) { /* one test, in this process */
        cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("exos_pci", tests, NULL, NULL);
    }
    for (unsigned i = 0; i < n; i++) {
        int status = 0;
        pid_t pid;
        fflush(NULL);
        pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            cmocka_set_test_filter(tests[i].name);
            exit(cmocka_run_group_tests_name("exos_pci", tests, NULL, NULL));
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "exos_pci: %s FAILED\n", tests[i].name);
            failed++;
        }
    }
    printf("exos_pci: %u tests, %d failed\n", n, failed);
    return failed != 0;
}
