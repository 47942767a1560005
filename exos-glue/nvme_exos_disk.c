/* SPDX-License-Identifier: MIT */
/*
 * nvme_exos_disk.c - EXOS disk DRIVER of the nvme-core namespaces.
 *
 * DF_DISK_READ/WRITE reach the block ops with the namespace, the LBA
 * (SectorHigh:SectorLow) and the block count of the request.  The core
 * maps caller buffers itself, page by page (no size or contiguity limit),
 * but PRP entries must be dword aligned (NVMe 1.4 §4.3): a buffer that is
 * not, or that the OSAL cannot map, goes through the controller's bounce
 * buffer in pieces of NVME_EXOS_BOUNCE_BYTES.
 *
 * Access: DISK_ACCESS_DISABLE refuses reads and writes, DISK_ACCESS_READONLY
 * refuses writes (here, before the core, and in the core through
 * nvme_ns_set_read_only()).  A namespace the device write protects
 * (Identify Namespace NSATTR bit 0, nvme_ns_info.write_protected) is read
 * only while it is, whatever DF_DISK_SETACCESS asks, and its disk follows
 * it at each rescan (nvme_exos_disk_follow).
 *
 * Durability (EXOS sends no flush request and marks no write synchronous):
 *   write-back (default)  writes are cached; everything written is on the
 *       device and covered by a Flush at most NVME_EXOS_FLUSH_MS after the
 *       first write since the previous Flush: the timer (nvme_exos_blk_tick,
 *       from EXOS's deferred-work dispatcher) and every request check the
 *       window; EXOS's shutdown and reboot sync too (nvme_exos_blk_shutdown
 *       from the PCI driver's DF_UNLOAD).
 *   write-through         each DF_DISK_WRITE reaches the device and is
 *       followed by a Flush before it returns.
 * Without a volatile write cache (VWC=0) no Flush is sent; write-back
 * still bounds the time data stays in the host's cache.
 *
 * Block cache: requests smaller than a segment go through segments of
 * NVME_EXOS_SEG_BYTES: adjacent sector writes become one write command per
 * dirty run when the segment is written back, and a read miss reads the
 * whole segment (read ahead).  Larger requests go straight to the core
 * (zero copy, split at MDTS); then the cache takes a write's data, and a
 * read the blocks the cache holds dirty (cache_after_direct).
 */
#include "nvme_exos.h"
#include "nvme/nvme_fmt.h"

/* The functions marked noinline are ones gcc -Os copied into their
 * callers at a cost: out of line, this file is 51 bytes smaller in EXOS's
 * x86-64 kernel (nvme_exos_shell.c does the same). */

char *nvme_exos_pci_name(U8 bus, U8 dev, U8 func, char *buf)
{
    nvme_snprintf(buf, 16, "%02x:%02x.%x", (unsigned)bus, (unsigned)dev & 0x1fu,
                  (unsigned)func & 7u);
    return buf;
}

U32 nvme_exos_event_log_type(enum nvme_event ev, uint32_t detail)
{
    switch (ev) {
    case NVME_EVENT_GONE:
    case NVME_EVENT_DEAD:
        return LOG_ERROR;
    case NVME_EVENT_RESET: /* the core logged why at WARNING already */
        return detail == 0 ? LOG_VERBOSE : LOG_ERROR;
    case NVME_EVENT_NS_CHANGED:
    case NVME_EVENT_SMART:
        return LOG_WARNING;
    default:
        return LOG_VERBOSE;
    }
}

U32 nvme_exos_unload_log_type(int sync_rc, int fini_rc)
{
    return sync_rc == 0 && fini_rc == 0 ? LOG_DEBUG : LOG_WARNING;
}

/* Generic and command specific status codes the mapping distinguishes
 * (NVMe 1.4 Figures 126/127). */
#define SC_GENERIC_INVALID_NS 0x0b
#define SC_GENERIC_LBA_RANGE 0x80
#define SC_GENERIC_WRITE_PROTECTED 0x20
#define SC_CMD_READ_ONLY_RANGE 0x82
/* Retries of a command failed back by a controller reset or reported as
 * transient by the device. */

UINT nvme_exos_df_result(int rc)
{
    if (rc == 0)
        return DF_RETURN_SUCCESS;
    if (rc > 0) {
        unsigned sc = NVME_SF_SC((unsigned)rc), sct = NVME_SF_SCT((unsigned)rc);
        if (sct == NVME_SCT_GENERIC && (sc == SC_GENERIC_LBA_RANGE || sc == SC_GENERIC_INVALID_NS))
            return DF_RETURN_BAD_PARAMETER;
        if ((sct == NVME_SCT_GENERIC && sc == SC_GENERIC_WRITE_PROTECTED) ||
            (sct == NVME_SCT_COMMAND_SPECIFIC && sc == SC_CMD_READ_ONLY_RANGE))
            return DF_RETURN_NO_PERMISSION;
        return DF_RETURN_INPUT_OUTPUT;
    }
    switch (rc) {
    case NVME_ERR_INVAL:
    case NVME_ERR_RANGE:
    case NVME_ERR_NOENT:
    case NVME_ERR_ALIGN:
        return DF_RETURN_BAD_PARAMETER;
    case NVME_ERR_NOMEM:
        return DF_RETURN_NO_MEMORY;
    case NVME_ERR_RDONLY:
        return DF_RETURN_NO_PERMISSION;
    case NVME_ERR_GONE:
        return DF_RETURN_HARDWARE_ABSENT;
    case NVME_ERR_UNSUPPORTED:
        return DF_RETURN_NOT_IMPLEMENTED;
    default: /* timeout, fatal, busy, proto, dma, aborted, state */
        return DF_RETURN_INPUT_OUTPUT;
    }
}

/* A holder EXOS killed outside a shutdown is not waited for, nor is its
 * lock taken over: it may have died inside a command, whose waiter is on
 * its stack, which EXOS's KernelMonitor frees (DeleteTask) within 500 ms;
 * reaped by a later command's poll, its completion would be written
 * there.  The request fails at once, said so.  Before: it waited
 * NVME_EXOS_BLK_LOCK_MS (20 min) for a task that never runs again.
 * The holder is looked at again every NVME_EXOS_LOCK_SLICE_MS of the
 * wait (EXOS's own LockMutex looks at the mutex as often), so a request
 * already waiting when the holder is killed fails then too (before: it
 * waited the 20 min out).  Slept, not LockMutex'd: EXOS logs a warning
 * at each LockMutex that times out; only the last slice is one. */
#define NVME_EXOS_LOCK_SLICE_MS 20u

/* EXOS's ID of task t, read as two words (a packed pair on x86-32). */
static uint64_t task_id(LPTASK t)
{
    uint64_t id;
    __builtin_memcpy(&id, &((LPLISTNODE)(void *)t)->ID, sizeof(id));
    return id;
}

/* LockMutex, and the caller, now m's Task, recorded as its holder. */
static __attribute__((noinline)) bool lock_take(LPMUTEX m, nvme_exos_holder *holder, UINT ms)
{
    if (LockMutex(m, ms) == 0)
        return false;
    *holder = m->Task != NULL ? task_id(m->Task) : 0; /* NULL: EXOS's first task alone */
    return true;
}

bool nvme_exos_blk_lock(struct nvme_exos_blk *blk)
{
    LPMUTEX m = &blk->bounce_mutex;
    UINT n = NVME_EXOS_BLK_LOCK_MS / NVME_EXOS_LOCK_SLICE_MS;
    for (; !nvme_exos_lock_gone(m, &blk->holder, TEXT("block cache"), false);
         Sleep(NVME_EXOS_LOCK_SLICE_MS)) {
        if (m->Task == NULL || --n == 0) {
            bool got = lock_take(m, &blk->holder, NVME_EXOS_LOCK_SLICE_MS);
            if (got || n == 0)
                return got;
        }
    }
    return false;
}

void nvme_exos_blk_unlock(struct nvme_exos_blk *blk)
{
    blk->holder = 0;
    UnlockMutex(&blk->bounce_mutex);
}

/* Never waits: held by another task (or by this one: EXOS's mutexes are
 * recursive), false; a bounded try when the check races with a taker. */
bool nvme_exos_blk_trylock(struct nvme_exos_blk *blk)
{
    return blk->bounce_mutex.Task == NULL && lock_take(&blk->bounce_mutex, &blk->holder, 0);
}

void nvme_exos_blk_init(struct nvme_exos_blk *blk, const struct nvme_exos_blk_ops *ops, void *h,
                        void *bounce, UINT bounce_bytes, bool write_through)
{
    MemorySet(blk, 0, sizeof(*blk));
    blk->ops = ops;
    blk->h = h;
    blk->bounce = bounce;
    blk->bounce_bytes = bounce_bytes;
    blk->write_through = write_through;
    blk->volatile_cache = true;
    blk->flush_ms = NVME_EXOS_FLUSH_MS;
    blk->split_budget = NVME_EXOS_SPLIT_BUDGET;
    InitMutex(&blk->bounce_mutex);

    blk->driver.TypeID = KOID_DRIVER;
    blk->driver.References = 1;
    blk->driver.Type = DRIVER_TYPE_NVME_STORAGE;
    blk->driver.VersionMajor = NVME_EXOS_VER_MAJOR;
    blk->driver.VersionMinor = NVME_EXOS_VER_MINOR;
    StringCopy(blk->driver.Designer, TEXT("nvme-core"));
    StringCopy(blk->driver.Manufacturer, TEXT("NVMe"));
    StringCopy(blk->driver.Product, TEXT("NVMe Disk (nvme-core)"));
    StringCopy(blk->driver.Alias, TEXT("nvme-disk"));
    blk->driver.Command = NVMeCoreDiskCommands;
    blk->driver.EnumDomainCount = 0;
}

void nvme_exos_blk_configure(struct nvme_exos_blk *blk, bool volatile_cache, UINT flush_ms,
                             void *cache, UINT cache_bytes)
{
    unsigned i, n = cache != NULL ? (unsigned)(cache_bytes / NVME_EXOS_SEG_BYTES) : 0u;

    blk->volatile_cache = volatile_cache;
    blk->flush_ms = flush_ms;
    if (n > NVME_EXOS_MAX_SEGS)
        n = NVME_EXOS_MAX_SEGS;
    for (i = 0; i < n; i++) {
        MemorySet(&blk->segs[i], 0, sizeof(blk->segs[i]));
        blk->segs[i].data = (U8 *)cache + (UINT)i * NVME_EXOS_SEG_BYTES;
    }
    blk->nsegs = n;
}

/* Which namespace the disk serves: its generation and identity. */
static __attribute__((noinline)) void disk_note_namespace(LPNVME_CORE_DISK disk,
                                                          const struct nvme_ns_info *ns)
{
    disk->NsGen = ns->gen;
    disk->Format = ns->format;
    MemoryCopy(disk->Nguid, ns->nguid, sizeof(disk->Nguid));
    MemoryCopy(disk->Eui64, ns->eui64, sizeof(disk->Eui64));
}

LPNVME_CORE_DISK nvme_exos_disk_create(struct nvme_exos_blk *blk, U32 nsid, U32 lba_size,
                                       uint64_t nsze, bool read_only)
{
    LPNVME_CORE_DISK disk;

    if (blk == NULL || nsid == 0 || lba_size == 0 || nsze == 0)
        return NULL;
    disk = (LPNVME_CORE_DISK)CreateKernelObject(sizeof(NVME_CORE_DISK), KOID_DISK);
    if (disk == NULL)
        return NULL;
    disk->Header.Driver = &blk->driver;
    disk->Blk = blk;
    disk->NamespaceId = nsid;
    disk->BytesPerSector = lba_size;
    disk->NumSectors = nsze;
    disk->Access = read_only ? DISK_ACCESS_READONLY : 0;
    disk->HostReadOnly = read_only;
    disk->AccessKept = 0;
    disk->WriteProtected = false; /* nvme_exos_disk_set_policy, nvme_exos_disk_follow */
    disk->Csi = NVME_CSI_NVM;     /* plain blocks until nvme_exos_disk_set_policy */
    disk->PlainIo = true;
    if (blk->ops->ns_info != NULL) { /* the namespace now under the NSID */
        const struct nvme_ns_info *ns = blk->ops->ns_info(blk->h, nsid);
        if (ns != NULL)
            disk_note_namespace(disk, ns);
    }
    return disk;
}

/* A zoned namespace (ZNS 1.1 §2.1.1) takes writes only at a zone's write
 * pointer: EXOS's file systems write anywhere, and the block cache would
 * acknowledge writes that every write-back then fails (Zone Invalid
 * Write), losing them.  Its disk is read only, as Linux's regular file
 * systems refuse a zoned disk; nvmectl still writes its zones.  So is a
 * namespace the device write protects (NSATTR bit 0, NVMe 1.4 Figure 245:
 * every write fails), as Linux makes its disk read only. */
U32 nvme_exos_ns_access(const struct nvme_ns_info *ns)
{
    U32 access = 0;
    if (ns->read_only || ns->write_protected || ns->csi == NVME_CSI_ZNS)
        access |= DISK_ACCESS_READONLY;
    /* Metadata beyond PI alone: nvme_read/nvme_write refuse the format
     * (nvme.h, plain_io) and log each refusal; EXOS would read its MBR in
     * vain.  Listed, disabled (Linux gives such a namespace capacity 0). */
    if (!ns->plain_io)
        access |= DISK_ACCESS_DISABLE;
    return access;
}

/* The read only the device's rules impose, which DF_DISK_SETACCESS cannot
 * lift: a zoned namespace's, a write protected one's. */
static U32 device_read_only(U8 csi, bool write_protected)
{
    return csi == NVME_CSI_ZNS || write_protected ? DISK_ACCESS_READONLY : 0u;
}

void nvme_exos_disk_set_policy(LPNVME_CORE_DISK disk, const struct nvme_ns_info *ns)
{
    disk->Access = nvme_exos_ns_access(ns);
    disk->AccessKept = disk->Access &
                       (DISK_ACCESS_DISABLE | device_read_only(ns->csi, ns->write_protected));
    disk->WriteProtected = ns->write_protected;
    disk->HostReadOnly = ns->read_only;
    disk->MetadataBytes = ns->ms;
    disk->Csi = ns->csi;
    disk->PiType = ns->pi_type;
    disk->MdExtended = ns->md_extended;
    disk->PlainIo = ns->plain_io;
    disk_note_namespace(disk, ns);
}

bool nvme_exos_disk_matches(const NVME_CORE_DISK *disk, const struct nvme_ns_info *ns)
{
    return ns != NULL && ns->status == 0 && ns->lba_size == disk->BytesPerSector &&
           ns->nsze == disk->NumSectors && ns->ms == disk->MetadataBytes && ns->csi == disk->Csi &&
           ns->pi_type == disk->PiType && ns->md_extended == disk->MdExtended &&
           ns->plain_io == disk->PlainIo && ns->gen == disk->NsGen;
}

static bool bytes_differ(const uint8_t *a, const uint8_t *b, unsigned n);

/* Linux keeps a namespace's disk when a rescan finds its capacity alone
 * changed (its revalidation calls set_capacity_and_notify); another
 * format or command set, or other identifiers (Identify Namespace NGUID,
 * EUI64, NVMe 1.4 Figure 245: a namespace deleted and created again under
 * its NSID), is another namespace, as there. */
bool nvme_exos_disk_resized(const NVME_CORE_DISK *disk, const struct nvme_ns_info *ns)
{
    return ns != NULL && ns->status == 0 && ns->nsze != 0 && ns->nsze != disk->NumSectors &&
           ns->lba_size == disk->BytesPerSector && ns->ms == disk->MetadataBytes &&
           ns->format == disk->Format && ns->csi == disk->Csi && ns->pi_type == disk->PiType &&
           ns->md_extended == disk->MdExtended && ns->plain_io == disk->PlainIo &&
           !bytes_differ(ns->nguid, disk->Nguid, sizeof(disk->Nguid)) &&
           !bytes_differ(ns->eui64, disk->Eui64, sizeof(disk->Eui64));
}

/* A shared namespace of an NVM subsystem with two controllers (dual-port
 * SSDs; QEMU nvme-subsys) shows up behind both.  Published twice, EXOS
 * mounts its file system twice, with two caches: files written through
 * both end up on one inode.  As Linux's native multipath (one block
 * device per namespace head: same SUBNQN and NSID, identifiers equal
 * where both give them), the second path is not published while the
 * first works. */
static bool bytes_differ(const uint8_t *a, const uint8_t *b, unsigned n)
{
    while (n-- != 0)
        if (a[n] != b[n])
            return true;
    return false;
}

static __attribute__((noinline)) bool ids_differ(const struct nvme_ns_ids *a,
                                                 const struct nvme_ns_ids *b)
{
    if (a == NULL || b == NULL)
        return false;
    return (a->has_nguid && b->has_nguid && bytes_differ(a->nguid, b->nguid, 16)) ||
           (a->has_eui64 && b->has_eui64 && bytes_differ(a->eui64, b->eui64, 8)) ||
           (a->has_uuid && b->has_uuid && bytes_differ(a->uuid, b->uuid, 16));
}

static bool text_equal(const char *a, const char *b)
{
    unsigned i;
    for (i = 0; a[i] != 0 || b[i] != 0; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Two controllers of one NVM subsystem report its Serial Number (SN is
 * the NVM subsystem's, NVMe 1.4 Figure 247; QEMU's nvme-subsys refuses
 * controllers with another one) and distinct controller IDs (CNTLID,
 * unique within the subsystem).  A SUBNQN alone is no proof: firmware of
 * some SSDs reports one SUBNQN for every drive of a model (Linux's
 * NVME_QUIRK_IGNORE_DEV_SUBNQN builds one from the serial instead), and
 * two drives taken for one would give one disk, the second drive never
 * used; without namespace identifiers nothing else tells them apart. */
bool nvme_exos_same_subsystem(const char *subnqn_a, const char *sn_a, U16 cntlid_a,
                              const char *subnqn_b, const char *sn_b, U16 cntlid_b)
{
    if (subnqn_a == NULL || subnqn_b == NULL || sn_a == NULL || sn_b == NULL || subnqn_a[0] == 0 ||
        sn_a[0] == 0)
        return false;
    return cntlid_a != cntlid_b && text_equal(subnqn_a, subnqn_b) && text_equal(sn_a, sn_b);
}

bool nvme_exos_same_namespace(const char *subnqn_a, U32 nsid_a, const struct nvme_ns_ids *ids_a,
                              const char *subnqn_b, U32 nsid_b, bool shared_b,
                              const struct nvme_ns_ids *ids_b)
{
    unsigned i;
    if (!shared_b || nsid_a != nsid_b || subnqn_a == NULL || subnqn_b == NULL || subnqn_a[0] == 0)
        return false;
    for (i = 0; subnqn_a[i] != 0 || subnqn_b[i] != 0; i++)
        if (subnqn_a[i] != subnqn_b[i])
            return false;
    return !ids_differ(ids_a, ids_b);
}

/* --- durability bookkeeping --------------------------------------------------- */

static void mark_written(struct nvme_exos_blk *blk, U32 nsid)
{
    unsigned i, free_slot = NVME_EXOS_MAX_NS;

    if (!blk->unflushed) {
        blk->dirty_since_ms = GetSystemTime();
        blk->unflushed = true;
    }
    for (i = 0; i < NVME_EXOS_MAX_NS; i++) {
        if (blk->owed_nsid[i] == nsid)
            return;
        if (blk->owed_nsid[i] == 0 && free_slot == NVME_EXOS_MAX_NS)
            free_slot = i;
    }
    if (free_slot < NVME_EXOS_MAX_NS)
        blk->owed_nsid[free_slot] = nsid;
    else
        blk->owed_nsid[0] = NVME_NSID_ALL; /* too many: flush them all */
}

static bool window_passed(const struct nvme_exos_blk *blk)
{
    return blk->unflushed && (UINT)(GetSystemTime() - blk->dirty_since_ms) >= blk->flush_ms;
}

/* --- block cache ------------------------------------------------------------------- */

static bool bit_get(const U32 *map, U32 i) { return (map[i >> 5] >> (i & 31u)) & 1u; }

static void bit_set(U32 *map, U32 i) { map[i >> 5] |= 1u << (i & 31u); }

static void bit_clear(U32 *map, U32 i) { map[i >> 5] &= ~(1u << (i & 31u)); }

static bool seg_has_dirty(const struct nvme_exos_seg *s)
{
    unsigned i;
    for (i = 0; i < NVME_EXOS_SEG_MAX_BLOCKS / 32; i++)
        if (s->dirty[i] != 0)
            return true;
    return false;
}

/* Blocks per segment for a namespace; 0: the namespace is not cached. */
static U32 seg_blocks(U32 block_bytes)
{
    U32 n;
    if (block_bytes == 0 || block_bytes > NVME_EXOS_SEG_BYTES)
        return 0;
    n = NVME_EXOS_SEG_BYTES / block_bytes;
    return n <= NVME_EXOS_SEG_MAX_BLOCKS ? n : 0;
}

/* 0 while the disk's namespace still has the format the disk was made
 * with (a new size is taken over: nvme_exos_disk_follow); NVME_ERR_BUSY
 * while a Format or Sanitize runs on it (nothing decided yet: the core
 * refuses its I/O meanwhile); NVME_ERR_GONE once the disk is out of
 * service (retired here when the namespace changed).  Caller holds the
 * blk lock. */
static int disk_check_current(LPNVME_CORE_DISK disk)
{
    const struct nvme_ns_info *ns;
    if (disk->Retired)
        return NVME_ERR_GONE;
    if (disk->Blk->ops->ns_info == NULL)
        return 0;
    ns = disk->Blk->ops->ns_info(disk->Blk->h, disk->NamespaceId);
    if (ns != NULL && ns->status == NVME_ERR_BUSY)
        return NVME_ERR_BUSY;
    return nvme_exos_disk_follow(disk, ns) ? 0 : NVME_ERR_GONE;
}

/* Whether a write that failed may have failed for some of its blocks
 * only: Media and Data Integrity Errors (NVMe 1.4 Figures 130-131: Write
 * Fault, ...) concern the blocks written.  Other failures (Namespace is
 * Write Protected, a timeout, a reset, a namespace read only in the
 * core) are the same for every part of the run. */
static bool write_failed_per_block(int rc)
{
    return rc > 0 && NVME_SF_SCT((unsigned)rc) == NVME_SCT_MEDIA;
}

/* Namespace is Write Protected (20h, NVMe 1.4 Figure 128): the device
 * refuses every write of the namespace until its write protection is
 * cleared (NVMe 1.4 §8, Namespace Write Protection).  Writes cached
 * before it was set stay cached and owed meanwhile; nothing is lost,
 * only put off. */
static bool write_protect_refusal(int rc)
{
    return rc > 0 && NVME_SF_SCT((unsigned)rc) == NVME_SCT_GENERIC &&
           NVME_SF_SC((unsigned)rc) == SC_GENERIC_WRITE_PROTECTED;
}

/* A write-back not sent: the namespace is known write protected (its
 * disk followed NSATTR bit 0 at a rescan), the device would refuse it
 * with this status. */
#define WRITE_BACK_HELD ((int)(NVME_SF_DNR_BIT | SC_GENERIC_WRITE_PROTECTED))

/* Writes blocks [i, i + n) of the segment, cleaned on success.  A run
 * that fails with a media error is written again in halves, down to
 * single blocks, while the sync's budget lasts: every block the device
 * takes is written, and a block refused alone is marked bad (it stays
 * dirty and owed, as Linux fails only the bio of a bad sector).  A run
 * of bad blocks (split false) is one command, once a sync: a device
 * that refuses a whole namespace is not sent a command per block each
 * window. */
static int seg_write_run(struct nvme_exos_blk *blk, struct nvme_exos_seg *s, U32 i, U32 n,
                         bool split)
{
    U32 k, half = n / 2u;
    int rc, r;

    rc = blk->ops->write(blk->h, s->nsid, s->first + i, n, s->data + (UINT)i * s->block_bytes);
    blk->stats.write_cmds++;
    if (rc == 0) {
        for (k = i; k < i + n; k++) {
            bit_clear(s->dirty, k);
            bit_clear(s->bad, k);
        }
        return 0;
    }
    if (!write_failed_per_block(rc))
        return rc;
    if (n == 1)
        bit_set(s->bad, i);
    if (n == 1 || !split || blk->split_budget < 2u)
        return rc;
    blk->split_budget -= 2u;
    r = seg_write_run(blk, s, i, half, true);
    rc = seg_write_run(blk, s, i + half, n - half, true);
    return r != 0 ? r : rc;
}

/* One write command per run of dirty blocks (bad ones apart); after a
 * media error the other runs go all the same.  hold_protected: none
 * while the namespace is known write protected (WRITE_BACK_HELD); the
 * shutdown's last sync sends them all the same, in case the device
 * cleared the protection without the core seeing it yet.  Blocks cached for a
 * format the namespace no longer has (a rescan changed it) are never
 * written: counts in the old block size would address other blocks and
 * make the device read past the segment; they are dropped with their
 * disk. */
static int seg_write_back(struct nvme_exos_blk *blk, struct nvme_exos_seg *s, bool hold_protected)
{
    U32 i = 0, n;
    int rc = 0, r;
    bool bad;

    if (s->disk != NULL && blk->ops->ns_info != NULL) {
        LPNVME_CORE_DISK disk = s->disk;
        r = disk_check_current(disk);
        /* Gone from this path with its retire put off (the hand-over
         * waits for another path's lock, nvme_exos_disk_retire): still
         * owed, not written.  Before, 0: an eviction reused the segment,
         * and the write was lost. */
        if (r == NVME_ERR_GONE && !disk->Retired)
            return NVME_ERR_BUSY;
        if (r == NVME_ERR_GONE)
            return 0; /* dropped (nvme_exos_disk_retire) */
        if (r != 0)
            return r;
        if (s->nsid == 0)
            return 0; /* past a new end: dropped (cache_resize) */
        if (hold_protected && disk->WriteProtected)
            return WRITE_BACK_HELD;
    }

    while (i < s->blocks) {
        if (!bit_get(s->dirty, i)) {
            i++;
            continue;
        }
        bad = bit_get(s->bad, i);
        for (n = 1; i + n < s->blocks && bit_get(s->dirty, i + n) && bit_get(s->bad, i + n) == bad;
             n++)
            ;
        r = seg_write_run(blk, s, i, n, !bad);
        if (r != 0 && rc == 0)
            rc = r;
        if (r != 0 && !write_failed_per_block(r))
            return rc;
        i += n;
    }
    return rc;
}

static struct nvme_exos_seg *seg_find(struct nvme_exos_blk *blk, U32 nsid, uint64_t first)
{
    unsigned i;
    for (i = 0; i < blk->nsegs; i++)
        if (blk->segs[i].nsid == nsid && blk->segs[i].first == first)
            return &blk->segs[i];
    return NULL;
}

/* A segment for [first, first + blocks): a free one, else the least
 * recently used clean one, else the least recently used dirty one whose
 * write-back works.  A segment whose write-back fails (a namespace that
 * refuses writes: Write Fault) stays cached and owed (nvme_exos_blk_sync
 * tries it once a window); it must not fail the other requests of the
 * controller's disks, reads included: NVME_ERR_NOMEM when every segment
 * is such a one (the request then goes to the device: disk_rw_locked). */
typedef char nvme_exos_failed_mask_fits[NVME_EXOS_MAX_SEGS <= 64u ? 1 : -1]; /* seg_get */

static int seg_get(struct nvme_exos_blk *blk, LPNVME_CORE_DISK disk, uint64_t first,
                   struct nvme_exos_seg **out)
{
    struct nvme_exos_seg *s = seg_find(blk, disk->NamespaceId, first), *victim;
    uint64_t failed = 0; /* segments whose write-back failed here */
    unsigned i;

    while (s == NULL) {
        victim = NULL;
        for (i = 0; i < blk->nsegs; i++) {
            struct nvme_exos_seg *c = &blk->segs[i];
            bool dirty = seg_has_dirty(c);
            if (c->nsid == 0) {
                victim = c;
                break;
            }
            /* held: failed at an earlier request since the last sync.
             * Before, every request tried each such segment again, one
             * refused write command per segment (up to 64) per request. */
            if (((failed >> i) & 1u) != 0 || (c->held && dirty))
                continue;
            if (victim == NULL ||
                (dirty != seg_has_dirty(victim)
                     ? !dirty
                     : (U32)(blk->stamp - c->used) > (U32)(blk->stamp - victim->used)))
                victim = c;
        }
        if (victim == NULL) /* every segment owes writes that fail */
            return NVME_ERR_NOMEM;
        if (victim->nsid != 0 && seg_has_dirty(victim)) {
            if (seg_write_back(blk, victim, true) != 0) {
                failed |= (uint64_t)1 << (unsigned)(victim - blk->segs);
                victim->held = true;
                continue;
            }
        }
        /* That write-back may have found the namespace shrunk
         * (nvme_exos_disk_follow): no segment past its end; or with
         * another format (a rescan in its write, the core's recovery):
         * this disk is retired, nothing of it is cached any more. */
        if (disk->Retired)
            return NVME_ERR_GONE;
        if (first >= disk->NumSectors)
            return NVME_ERR_RANGE;
        s = victim;
        MemorySet(s->valid, 0, sizeof(s->valid));
        MemorySet(s->dirty, 0, sizeof(s->dirty));
        MemorySet(s->bad, 0, sizeof(s->bad));
        s->held = false;
        s->nsid = disk->NamespaceId;
        s->disk = disk;
        s->first = first;
        s->block_bytes = disk->BytesPerSector;
        s->blocks = seg_blocks(disk->BytesPerSector);
        if (first + s->blocks > disk->NumSectors)
            s->blocks = (U32)(disk->NumSectors - first); /* last segment of the namespace */
    }
    s->used = ++blk->stamp;
    *out = s;
    return 0;
}

/* Reads blocks [from, to) of the segment (all of it: read ahead) around
 * its dirty blocks, one command per run of clean ones (one for a segment
 * without dirty blocks).  No write-back first: dirty blocks a device
 * refuses to write (kept owed) must not fail the reads of the other
 * blocks of their segment. */
static int seg_fill(struct nvme_exos_blk *blk, struct nvme_exos_seg *s, U32 from, U32 to)
{
    U32 i = from, n;
    int rc;

    while (i < to) {
        if (bit_get(s->dirty, i)) {
            i++;
            continue;
        }
        for (n = 1; i + n < to && !bit_get(s->dirty, i + n); n++)
            ;
        rc = blk->ops->read(blk->h, s->nsid, s->first + i, n, s->data + (UINT)i * s->block_bytes);
        blk->stats.read_cmds++;
        for (; n != 0; n--, i++) /* a failed read left the run's data undefined */
            if (rc == 0)
                bit_set(s->valid, i);
            else
                bit_clear(s->valid, i);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Copies [lba, lba + count) from/to the cache, segment by segment.  A
 * write marks its blocks valid and dirty; a read is served from valid
 * blocks or fills the segment. */
static int cache_rw(struct nvme_exos_blk *blk, LPNVME_CORE_DISK disk, bool write, uint64_t lba,
                    U32 count, U8 *buf)
{
    U32 per = seg_blocks(disk->BytesPerSector), bs = disk->BytesPerSector;
    int rc;

    while (count != 0) {
        uint64_t first = lba & ~(uint64_t)(per - 1u); /* per: a power of two */
        U32 off = (U32)(lba - first), n = per - off, i;
        struct nvme_exos_seg *s;
        bool all_valid = true;

        if (n > count)
            n = count;
        rc = seg_get(blk, disk, first, &s);
        if (rc != 0)
            return rc;
        if (off + n > s->blocks) /* cut by a shrink during this request */
            return NVME_ERR_RANGE;
        if (write) {
            MemoryCopy(s->data + (UINT)off * bs, buf, (UINT)n * bs);
            for (i = off; i < off + n; i++) { /* new data: may be split again */
                bit_set(s->valid, i);
                bit_set(s->dirty, i);
                bit_clear(s->bad, i);
            }
            blk->stats.writes_cached++;
        } else {
            for (i = off; i < off + n; i++)
                if (!bit_get(s->valid, i)) {
                    all_valid = false;
                    break;
                }
            if (all_valid) {
                blk->stats.read_hits++;
            } else {
                blk->stats.read_misses++;
                /* A read ahead that fails (an unreadable block elsewhere
                 * in the segment): the request's blocks alone, so that
                 * only a request that reads a bad block fails. */
                rc = seg_fill(blk, s, 0, s->blocks);
                if (rc != 0)
                    rc = seg_fill(blk, s, off, off + n);
                if (rc != 0)
                    return rc;
            }
            MemoryCopy(buf, s->data + (UINT)off * bs, (UINT)n * bs);
        }
        buf += (UINT)n * bs;
        lba += n;
        count -= n;
    }
    return 0;
}

/* After a transfer that bypassed the cache and worked: a write's blocks
 * replace their cached copies (valid, clean: nothing older goes out over
 * them); a read takes the blocks cached dirty, newer than the device's.
 * Nothing is written back first: a dirty block the device refuses (kept
 * owed) must not fail a request the cache can serve, no more than a
 * request through the cache (seg_fill).
 * After a write that failed (`buf` NULL): the device may have taken some
 * of it (the core's pieces at MDTS, the bounce buffer's pieces before the
 * one that failed), so the clean cached copies of its blocks may be older
 * than the device's: no longer valid, a later read goes to the device.
 * Dirty blocks stay, owed (what EXOS last wrote and was told written).
 * Before: served from the cache until evicted, then the device's data. */
static void cache_after_direct(struct nvme_exos_blk *blk, U32 nsid, uint64_t lba, U32 count,
                               U8 *buf, bool write)
{
    unsigned i;
    for (i = 0; i < blk->nsegs; i++) {
        struct nvme_exos_seg *s = &blk->segs[i];
        uint64_t k = s->first > lba ? s->first : lba;
        if (s->nsid != nsid)
            continue;
        for (; k < s->first + s->blocks && k < lba + count; k++) {
            U32 b = (U32)(k - s->first);
            U8 *c = s->data + (UINT)b * s->block_bytes;
            if (buf == NULL) {
                if (!bit_get(s->dirty, b))
                    bit_clear(s->valid, b);
            } else if (write) {
                MemoryCopy(c, buf + (UINT)(k - lba) * s->block_bytes, s->block_bytes);
                bit_set(s->valid, b);
                bit_clear(s->dirty, b);
            } else if (bit_get(s->dirty, b)) {
                MemoryCopy(buf + (UINT)(k - lba) * s->block_bytes, c, s->block_bytes);
            }
        }
    }
}

/* --- sync, timer, shutdown ---------------------------------------------------------- */

/* Whether a write-back of namespace `nsid` failed in this sync (failed[]
 * holds n of them; more than the array holds count as every namespace). */
static bool write_back_failed(const U32 *failed, unsigned n, U32 nsid)
{
    unsigned i;
    if (n > NVME_EXOS_MAX_NS || (n > 0 && nsid == NVME_NSID_ALL))
        return n > 0;
    for (i = 0; i < n; i++)
        if (failed[i] == nsid)
            return true;
    return false;
}

/* A segment of a disk whose namespace left this path and whose retire
 * waits for another path (nvme_exos_disk_retire): the hand-over writes it,
 * and says when it cannot. */
static bool seg_handed_over_later(const struct nvme_exos_seg *s)
{
    return s->disk != NULL && !s->disk->Retired && s->disk->HandOverSince != 0;
}

/* Write-backs refused as write protected (write_protect_refusal) are no
 * news after the first: one line when they start (`nsid`, nonzero), one
 * when a sync has none any more. */
static void note_write_protection(struct nvme_exos_blk *blk, U32 nsid)
{
    if ((nsid != 0) == blk->wp_refused)
        return;
    blk->wp_refused = nsid != 0;
    if (nsid != 0)
        KernelLogText(LOG_WARNING,
                      TEXT("[NVMeCoreDiskCommands] NSID=%u write protected: write-back refused, "
                           "its cached writes kept until the protection is cleared"),
                      (UINT)nsid);
    else
        KernelLogText(LOG_WARNING,
                      TEXT("[NVMeCoreDiskCommands] Write-back no longer refused as write "
                           "protected"));
}

/* Writes the dirty segments back, then Flushes the namespaces written
 * since their last Flush.  A namespace whose write-back failed stays owed
 * (its data is not all on the device yet: the next sync tries again); the
 * others are Flushed all the same, so that one failing namespace does not
 * keep every other one's acknowledged writes out of the window.
 * waiting_fails: writes that wait for a hand-over count as not written,
 * for a shutdown (lost then) and for nvmectl (nvme_exos_blk_invalidate:
 * its refusal keeps it off blocks the hand-over would write over).  The
 * window's syncs take them as owed only: no "Write-back failed" line each
 * window while the hand-over waits.  A namespace write protected (NVMe
 * 1.4 §8, Namespace Write Protection) keeps its writes cached and owed
 * likewise: the window's syncs send none while its disk knows it
 * (seg_write_back), one a sync while only the device does (its other
 * segments are not sent after the first refusal); the failure they
 * return is a write protection refusal (write_protect_refusal) unless
 * something else failed, logged once (note_write_protection), not as a
 * "Write-back failed" each window. */
static int blk_sync(struct nvme_exos_blk *blk, bool waiting_fails)
{
    U32 failed[NVME_EXOS_MAX_NS], refused[NVME_EXOS_MAX_NS];
    unsigned i, nfailed = 0, nrefused = 0;
    int rc = 0, wp_rc = 0, r;

    blk->split_budget = NVME_EXOS_SPLIT_BUDGET;
    for (i = 0; i < blk->nsegs; i++) {
        struct nvme_exos_seg *s = &blk->segs[i];
        if (s->nsid != 0 && seg_has_dirty(s)) {
            if (write_back_failed(refused, nrefused, s->nsid))
                r = WRITE_BACK_HELD; /* refused already: the rest would be */
            else
                r = seg_write_back(blk, s, !waiting_fails);
            s->held = r != 0; /* tried again at the next sync, not before */
            if (r == 0)
                continue;
            if (write_protect_refusal(r)) {
                if (!write_back_failed(refused, nrefused, s->nsid) && nrefused < NVME_EXOS_MAX_NS)
                    refused[nrefused++] = s->nsid;
                if (wp_rc == 0 && (waiting_fails || !seg_handed_over_later(s)))
                    wp_rc = r;
            } else if (rc == 0 && (waiting_fails || !seg_handed_over_later(s))) {
                rc = r;
            }
            if (!write_back_failed(failed, nfailed, s->nsid)) {
                if (nfailed < NVME_EXOS_MAX_NS)
                    failed[nfailed] = s->nsid;
                nfailed++;
            }
        }
    }
    if (!blk->unflushed) {
        note_write_protection(blk, nrefused != 0 ? refused[0] : 0u);
        return rc != 0 ? rc : wp_rc;
    }
    for (i = 0; i < NVME_EXOS_MAX_NS; i++) {
        U32 nsid = blk->owed_nsid[i];
        bool failed_here = write_back_failed(failed, nfailed, nsid);
        if (nsid == 0)
            continue;
        /* Flushed even where a write-back failed: the blocks written back
         * are clean now and never sent again, only a Flush makes them
         * durable (Base 7.1).  The entry stays while a write-back failed. */
        if (blk->volatile_cache && blk->ops->flush != NULL) {
            r = blk->ops->flush(blk->h, nsid);
            blk->stats.flushes++;
            if (r != 0) {
                if (!write_protect_refusal(r)) {
                    if (rc == 0)
                        rc = r;
                    continue;
                }
                if (wp_rc == 0)
                    wp_rc = r;
                if (!write_back_failed(refused, nrefused, nsid) && nrefused < NVME_EXOS_MAX_NS)
                    refused[nrefused++] = nsid;
                continue;
            }
        }
        if (!failed_here)
            blk->owed_nsid[i] = 0;
    }
    note_write_protection(blk, nrefused != 0 ? refused[0] : 0u);
    if (rc == 0)
        rc = wp_rc;
    if (rc == 0 && nfailed == 0) {
        blk->unflushed = false;
        blk->stats.syncs++;
    } else {
        /* Owed still, a hand-over's wait too (which answers 0): the timer
         * and the requests try again one window later, not at each of
         * their calls (every 5..50 ms: a device that refuses writes got
         * every dirty run again each time, and the log a warning each
         * time). */
        blk->dirty_since_ms = GetSystemTime();
    }
    return rc;
}

int nvme_exos_blk_sync(struct nvme_exos_blk *blk) { return blk_sync(blk, false); }

int nvme_exos_blk_tick(struct nvme_exos_blk *blk)
{
    int rc = 0;
    if (blk == NULL || blk->stopped || !window_passed(blk))
        return 0;
    /* From EXOS's dispatcher task, which also polls the USB keyboard:
     * never wait for the lock (nvmectl holds it while its output waits
     * for a key).  Held by another task: the next poll tries again. */
    if (!nvme_exos_blk_trylock(blk))
        return 0;
    if (!blk->stopped && window_passed(blk))
        rc = nvme_exos_blk_sync(blk);
    nvme_exos_blk_unlock(blk);
    if (rc != 0 && !write_protect_refusal(rc)) /* that one: note_write_protection */
        KernelLogText(LOG_WARNING, TEXT("[NVMeCoreDiskCommands] Write-back failed rc=%d, retried"),
                      (INT)rc);
    return rc;
}

/* The holder is looked at and its lock cleared in one step, interrupts
 * off: EXOS runs its tasks on one CPU (its SMP is a plan, doc/work/todo/
 * Symmetric-Multiprocessing.md) and its own LockMutex counts on that, so
 * no task runs in between.  Before, with interrupts on, a holder that let
 * go and then died between the look and the clear had the lock of the
 * task that took it meanwhile cleared, and two tasks were in.
 * A live task at the holder's address with another ID is one EXOS made
 * there after freeing the holder (GetTaskSchedulerState vouches for the
 * memory read): the holder is gone.  Before: the address alone was
 * looked at, and a request waited NVME_EXOS_BLK_LOCK_MS for a holder
 * that was dead.  A holder not yet recorded (lock_take between its
 * LockMutex and the record: 0 since the last holder let go) is looked
 * at by its address alone. */
bool nvme_exos_lock_gone(LPMUTEX m, nvme_exos_holder *holder, LPCSTR what, bool take)
{
    TASK_SCHEDULER_STATE st;
    UINT flags;
    bool gone;
    LPTASK t;
    SaveFlags(&flags);
    DisableInterrupts();
    t = m->Task;
    gone = t != NULL && (!GetTaskSchedulerState(t, &st) || st.Status == TASK_STATUS_DEAD ||
                         (*holder != 0 && task_id(t) != *holder));
    if (gone && take) {
        m->Task = NULL; /* as EXOS frees the mutexes on its list (ReleaseTaskMutexes) */
        m->Lock = 0;
        *holder = 0;
    }
    RestoreFlags(&flags);
    if (gone)
        KernelLogText(LOG_WARNING, TEXT("[NVMeCore] %s: lock held by a task that is gone, %s"),
                      what, take ? TEXT("taken over") : TEXT("request failed"));
    return gone;
}

int nvme_exos_lock_live(LPMUTEX m, nvme_exos_holder *holder, LPCSTR what)
{
    (void)nvme_exos_lock_gone(m, holder, what, true);
    if (lock_take(m, holder, NVME_EXOS_BLK_LOCK_MS))
        return 1;
    KernelLogText(LOG_WARNING, TEXT("[NVMeCore] %s: lock held by a live task, not taken"), what);
    return -1;
}

/* A live task that keeps the lock (none at DF_UNLOAD in EXOS: it killed
 * them all, nvme_exos_lock_live) is using the controller: the cache is
 * left as it is and the blk not stopped, so the caller does not free the
 * controller under it.  A dead holder's lock is taken over: the cache is
 * written back and Flushed (before: waited for 2 s, then written back
 * without the lock whoever held it, a live task's Format included). */
int nvme_exos_blk_shutdown(struct nvme_exos_blk *blk)
{
    int rc;
    if (nvme_exos_lock_live(&blk->bounce_mutex, &blk->holder, TEXT("block cache")) < 0)
        return NVME_ERR_BUSY;
    rc = blk->stopped ? 0 : blk_sync(blk, true);
    blk->stopped = true;
    nvme_exos_blk_unlock(blk);
    return rc;
}

/* Blocks whose write-back failed stay cached (and owed); every other
 * cached block is dropped all the same, so that nothing read before the
 * caller writes the device is served afterwards. */
int nvme_exos_blk_invalidate(struct nvme_exos_blk *blk)
{
    unsigned i;
    int rc = blk_sync(blk, true);
    for (i = 0; i < blk->nsegs; i++) {
        struct nvme_exos_seg *s = &blk->segs[i];
        if (s->nsid != 0 && seg_has_dirty(s)) {
            MemoryCopy(s->valid, s->dirty, sizeof(s->valid));
            continue;
        }
        s->nsid = 0;
        MemorySet(s->valid, 0, sizeof(s->valid));
    }
    return rc;
}

bool nvme_exos_blk_owes(const struct nvme_exos_blk *blk, U32 nsid)
{
    unsigned i;
    for (i = 0; i < blk->nsegs; i++)
        if (blk->segs[i].nsid == nsid && seg_has_dirty(&blk->segs[i]))
            return true;
    for (i = 0; i < NVME_EXOS_MAX_NS; i++)
        if (blk->unflushed && (blk->owed_nsid[i] == nsid || blk->owed_nsid[i] == NVME_NSID_ALL))
            return true;
    return false;
}

/* The disk's namespace now ends at `end`: cached blocks past it are
 * dropped (the dirty ones are counted: no command can write them any
 * more) and a segment across it is cut; a last segment the old end cut
 * short grows to what the new end allows (its new blocks are neither
 * valid nor dirty).  Returns the dirty blocks dropped. */
static U32 cache_resize(struct nvme_exos_blk *blk, LPNVME_CORE_DISK disk, uint64_t end)
{
    U32 per = seg_blocks(disk->BytesPerSector), dropped = 0, b;
    unsigned i;

    for (i = 0; i < blk->nsegs; i++) {
        struct nvme_exos_seg *s = &blk->segs[i];
        U32 keep = per;
        if (s->nsid != disk->NamespaceId)
            continue;
        if (s->first >= end) {
            keep = 0;
        } else if (end - s->first < per) {
            keep = (U32)(end - s->first);
        }
        for (b = keep; b < s->blocks; b++) {
            dropped += bit_get(s->dirty, b);
            bit_clear(s->valid, b);
            bit_clear(s->dirty, b);
        }
        s->blocks = keep;
        if (keep == 0) {
            s->nsid = 0;
            s->disk = NULL;
        }
    }
    return dropped;
}

/* The device's write protection (NSATTR bit 0) set or cleared since the
 * disk last looked (a Namespace Attribute Changed event's rescan): the
 * disk is read only while it is set, kept so across DF_DISK_SETACCESS;
 * once cleared, read only stays only where the host asked for it
 * (DF_DISK_SETACCESS: HostReadOnly, also where the block ops have no
 * set_read_only to tell the core; nvme_ns_set_read_only) or the
 * namespace is zoned.  Writes cached before it was set stay cached and
 * owed while it lasts, not sent (seg_write_back, blk_sync). */
static __attribute__((noinline)) void disk_follow_write_protection(LPNVME_CORE_DISK disk,
                                                                   const struct nvme_ns_info *ns)
{
    U32 ro;
    if (ns->write_protected == disk->WriteProtected)
        return;
    disk->WriteProtected = ns->write_protected;
    ro = device_read_only(disk->Csi, ns->write_protected);
    disk->AccessKept = (disk->AccessKept & ~(U32)DISK_ACCESS_READONLY) | ro;
    if (ns->read_only || disk->HostReadOnly)
        ro = DISK_ACCESS_READONLY;
    disk->Access = (disk->Access & ~(U32)DISK_ACCESS_READONLY) | ro;
    KernelLogText(LOG_WARNING,
                  TEXT("[NVMeCoreDisk] NSID=%u write protection %s by the device: disk %p %s"),
                  (UINT)disk->NamespaceId, ns->write_protected ? TEXT("set") : TEXT("cleared"),
                  (LPVOID)disk, ro != 0 ? TEXT("read only") : TEXT("writable"));
}

bool nvme_exos_disk_follow(LPNVME_CORE_DISK disk, const struct nvme_ns_info *ns)
{
    uint64_t was = disk->NumSectors;
    U32 dropped;
    bool same;

    if (disk->Retired)
        return false;
    same = nvme_exos_disk_matches(disk, ns);
    if (!same && !nvme_exos_disk_resized(disk, ns)) {
        nvme_exos_disk_retire(disk, ns);
        return false;
    }
    disk->HandOverSince = 0; /* usable (attached again) before a retire put off */
    disk_follow_write_protection(disk, ns);
    if (same)
        return true;
    dropped = cache_resize(disk->Blk, disk, ns->nsze);
    disk->NumSectors = ns->nsze;
    disk->NsGen = ns->gen;
    KernelLogText(dropped != 0 ? LOG_ERROR : LOG_WARNING,
                  TEXT("[NVMeCoreDisk] NSID=%u resized to %u blocks of %u bytes, was %u: disk %p "
                       "kept, %u cached write(s) past the new end dropped"),
                  (UINT)disk->NamespaceId, (UINT)ns->nsze, (UINT)disk->BytesPerSector, (UINT)was,
                  (LPVOID)disk, (UINT)dropped);
    return true;
}

/* The segments' own write-back, with `to`'s block calls: one namespace
 * (NVMe 1.4 §2.4.1), the same blocks through either controller.  Its
 * generation is not compared (`to`'s counts its own rescans), its format
 * is: a namespace `to` sees formatted otherwise (another host's Format
 * that this controller did not see before it failed) would take counts in
 * its new block size, read past the segments' blocks, at other offsets.
 * Nothing is written then (the disk's retire drops it, logged). */
int nvme_exos_disk_hand_over(LPNVME_CORE_DISK disk, struct nvme_exos_blk *to)
{
    struct nvme_exos_blk *blk = disk->Blk;
    const struct nvme_exos_blk_ops *ops = blk->ops;
    void *h = blk->h;
    unsigned i;
    int rc = 0, r;

    if (to->ops->ns_info != NULL) {
        const struct nvme_ns_info *ns = to->ops->ns_info(to->h, disk->NamespaceId);
        if (ns == NULL || ns->status != 0 || ns->lba_size != disk->BytesPerSector ||
            ns->ms != disk->MetadataBytes || ns->format != disk->Format || ns->csi != disk->Csi ||
            ns->pi_type != disk->PiType || ns->md_extended != disk->MdExtended ||
            ns->plain_io != disk->PlainIo)
            return NVME_ERR_GONE;
    }
    blk->ops = to->ops;
    blk->h = to->h;
    for (i = 0; i < blk->nsegs; i++) {
        struct nvme_exos_seg *s = &blk->segs[i];
        if (s->nsid != disk->NamespaceId || !seg_has_dirty(s))
            continue;
        s->disk = NULL;
        r = seg_write_back(blk, s, false);
        s->disk = disk;
        if (rc == 0)
            rc = r;
    }
    blk->ops = ops;
    blk->h = h;
    if (to->volatile_cache && to->ops->flush != NULL &&
        (r = to->ops->flush(to->h, disk->NamespaceId)) != 0 && rc == 0)
        rc = r;
    return rc;
}

void nvme_exos_disk_retire(LPNVME_CORE_DISK disk, const struct nvme_ns_info *ns)
{
    struct nvme_exos_blk *blk = disk->Blk;
    U32 dropped = 0;
    unsigned i;

    if (disk->Retired)
        return;
    /* Gone from this controller only, maybe (a shared namespace detached
     * from it): what it owes goes out through another path, if any; a
     * path busy puts the retire off, for a while. */
    if ((ns == NULL || ns->status == NVME_ERR_NOENT) && blk->ops->hand_over != NULL &&
        nvme_exos_blk_owes(blk, disk->NamespaceId) && !blk->ops->hand_over(blk->h, disk)) {
        /* In 32 bits, as HandOverSince: EXOS x86-64's clock is a 64-bit
         * count of ms, past 2^32 after 49.7 days of uptime. */
        U32 now = (U32)GetSystemTime();
        if (disk->HandOverSince == 0) {
            disk->HandOverSince = now | 1u;
            KernelLogText(LOG_WARNING,
                          TEXT("[NVMeCoreDisk] NSID=%u: gone from this path, its cached writes "
                               "wait for another path to be free (up to %u ms)"),
                          (UINT)disk->NamespaceId, (UINT)NVME_EXOS_HAND_OVER_MS);
        }
        if (now - (disk->HandOverSince & ~1u) < NVME_EXOS_HAND_OVER_MS)
            return;
        KernelLogText(LOG_ERROR,
                      TEXT("[NVMeCoreDisk] NSID=%u: no other path free for %u ms to take the "
                           "cached writes"),
                      (UINT)disk->NamespaceId, (UINT)NVME_EXOS_HAND_OVER_MS);
    }
    disk->Retired = true;
    disk->Access |= DISK_ACCESS_DISABLE;
    disk->AccessKept |= DISK_ACCESS_DISABLE;
    for (i = 0; i < blk->nsegs; i++) {
        struct nvme_exos_seg *s = &blk->segs[i];
        if (s->nsid != disk->NamespaceId)
            continue;
        for (U32 b = 0; b < s->blocks; b++)
            dropped += bit_get(s->dirty, b);
        s->nsid = 0;
        s->disk = NULL;
        MemorySet(s->valid, 0, sizeof(s->valid));
        MemorySet(s->dirty, 0, sizeof(s->dirty));
    }
    /* What was written back under the old format went with it. */
    for (i = 0; i < NVME_EXOS_MAX_NS; i++)
        if (blk->owed_nsid[i] == disk->NamespaceId)
            blk->owed_nsid[i] = 0;
    if (ns != NULL && ns->status == 0)
        KernelLogText(dropped != 0 ? LOG_ERROR : LOG_WARNING,
                      TEXT("[NVMeCoreDisk] NSID=%u now %u blocks of %u bytes (ms %u, csi %u), "
                           "was %u of %u: disk %p out of service, %u cached write(s) of the old "
                           "format dropped"),
                      (UINT)disk->NamespaceId, (UINT)ns->nsze, (UINT)ns->lba_size, (UINT)ns->ms,
                      (UINT)ns->csi, (UINT)disk->NumSectors, (UINT)disk->BytesPerSector,
                      (LPVOID)disk, (UINT)dropped);
    else
        KernelLogText(dropped != 0 ? LOG_ERROR : LOG_WARNING,
                      TEXT("[NVMeCoreDisk] NSID=%u no longer usable (%d): disk %p out of service, "
                           "%u cached write(s) dropped"),
                      (UINT)disk->NamespaceId, (INT)(ns != NULL ? ns->status : NVME_ERR_NOENT),
                      (LPVOID)disk, (UINT)dropped);
}

/* --- requests -------------------------------------------------------------------------- */

/* The unit is ours only if its driver is: check that through the common
 * STORAGE_UNIT header before reading any field of NVME_CORE_DISK (a disk
 * of another driver is smaller). */
static LPNVME_CORE_DISK disk_of(LPSTORAGE_UNIT unit)
{
    if (unit == NULL || unit->TypeID != KOID_DISK || unit->Driver == NULL ||
        unit->Driver->Command != NVMeCoreDiskCommands)
        return NULL;
    LPNVME_CORE_DISK disk = (LPNVME_CORE_DISK)unit;
    return disk->Blk != NULL ? disk : NULL;
}

/* One block-ops call.  No retry here: the core already retried what may
 * be retried (statuses with DNR clear, replays after a reset) within its
 * budget; retrying again would multiply it (nvme.h, lifecycle rule 5). */
static int blk_xfer(LPNVME_CORE_DISK disk, bool write, uint64_t lba, U32 count, void *buf)
{
    const struct nvme_exos_blk_ops *ops = disk->Blk->ops;
    if (write)
        disk->Blk->stats.write_cmds++;
    else
        disk->Blk->stats.read_cmds++;
    return write ? ops->write(disk->Blk->h, disk->NamespaceId, lba, count, buf)
                 : ops->read(disk->Blk->h, disk->NamespaceId, lba, count, buf);
}

/* Through the bounce buffer, in pieces (caller holds the lock). */
static int xfer_bounced(LPNVME_CORE_DISK disk, bool write, uint64_t lba, U32 count, U8 *buf)
{
    struct nvme_exos_blk *blk = disk->Blk;
    U32 per = (U32)(blk->bounce_bytes / disk->BytesPerSector);
    int rc = 0;

    if (blk->bounce == NULL || per == 0)
        return NVME_ERR_NOMEM;
    while (count != 0) {
        U32 n = count < per ? count : per;
        UINT bytes = (UINT)n * disk->BytesPerSector;
        if (write)
            MemoryCopy(blk->bounce, buf, bytes);
        rc = blk_xfer(disk, write, lba, n, blk->bounce);
        if (rc != 0)
            break;
        if (!write)
            MemoryCopy(buf, blk->bounce, bytes);
        buf += bytes;
        lba += n;
        count -= n;
    }
    return rc;
}

/* Straight to the core: zero copy when the buffer is dword aligned and
 * mappable, else through the bounce buffer. */
static int xfer_direct(LPNVME_CORE_DISK disk, bool write, uint64_t lba, U32 count, void *buf)
{
    int rc;
    if (((LINEAR)buf & 3u) == 0) {
        rc = blk_xfer(disk, write, lba, count, buf);
        if (rc == NVME_ERR_DMA || rc == NVME_ERR_ALIGN)
            rc = xfer_bounced(disk, write, lba, count, (U8 *)buf);
        return rc;
    }
    return xfer_bounced(disk, write, lba, count, (U8 *)buf);
}

static int disk_rw_locked(LPNVME_CORE_DISK disk, bool write, uint64_t lba, U32 count, U8 *buf)
{
    struct nvme_exos_blk *blk = disk->Blk;
    bool cached = blk->nsegs != 0 && seg_blocks(disk->BytesPerSector) != 0 &&
                  (uint64_t)count * disk->BytesPerSector < NVME_EXOS_SEG_BYTES;
    int rc = NVME_ERR_NOMEM;

    if (cached && !write) {
        rc = cache_rw(blk, disk, false, lba, count, buf);
    } else if (cached && !blk->write_through) {
        /* Owed from now on, even if the copy stops halfway (a failed
         * eviction): what did reach the cache is in the window. */
        mark_written(blk, disk->NamespaceId);
        rc = cache_rw(blk, disk, true, lba, count, buf);
    }
    /* Not for the cache, or no segment to be had (each owes writes the
     * device refuses, seg_get): straight to the core, as a large request,
     * rather than fail for writes of other blocks (the blocks of it the
     * cache did take then agree with it: cache_after_direct). */
    if (rc != NVME_ERR_NOMEM)
        return rc;
    rc = xfer_direct(disk, write, lba, count, buf);
    if (rc != 0 && write)
        cache_after_direct(blk, disk->NamespaceId, lba, count, NULL, true);
    if (rc != 0)
        return rc;
    cache_after_direct(blk, disk->NamespaceId, lba, count, buf, write);
    if (!write)
        return 0;
    mark_written(blk, disk->NamespaceId);
    if (blk->write_through)
        rc = nvme_exos_blk_sync(blk);
    return rc;
}

static UINT disk_rw(LPIOCONTROL control, bool write)
{
    LPNVME_CORE_DISK disk;
    uint64_t lba;
    U32 count;
    int rc, sync_rc = 0;

    if (control == NULL || control->Buffer == NULL)
        return DF_RETURN_BAD_PARAMETER;
    disk = disk_of(control->Disk);
    if (disk == NULL)
        return DF_RETURN_BAD_PARAMETER;
    count = control->NumSectors;
    lba = ((uint64_t)control->SectorHigh << 32) | control->SectorLow;
    if (count == 0 || (uint64_t)count * disk->BytesPerSector > control->BufferSize)
        return DF_RETURN_BAD_PARAMETER;
    if (disk->Retired) /* out of service (nvme_exos_disk_retire) */
        return DF_RETURN_HARDWARE_ABSENT;
    if ((disk->Access & DISK_ACCESS_DISABLE) != 0)
        return DF_RETURN_NO_PERMISSION;
    if (write && (disk->Access & DISK_ACCESS_READONLY) != 0)
        return DF_RETURN_NO_PERMISSION;
    if (disk->Blk->stopped)
        return DF_RETURN_HARDWARE_ABSENT;

    if (!nvme_exos_blk_lock(disk->Blk)) /* held past NVME_EXOS_BLK_LOCK_MS */
        return DF_RETURN_INPUT_OUTPUT;
    if (disk->Blk->stopped) { /* shut down while this request waited */
        nvme_exos_blk_unlock(disk->Blk);
        return DF_RETURN_HARDWARE_ABSENT;
    }
    /* The service call first (its rescan, if any, is then checked below;
     * none runs inside the block calls that follow). */
    if (disk->Blk->ops->service != NULL)
        disk->Blk->ops->service(disk->Blk->h);
    /* A rescan may have given the namespace another format (nvmectl
     * format, a Namespace Attribute Changed event): counts in this disk's
     * sectors would make the device transfer more than EXOS's buffer (or
     * a cache segment) holds, at other blocks.  The disk is then out of
     * service (logged once, when retired); the PCI side publishes the
     * namespace again as a new disk.  A controller gone or dead: no
     * command reaches it, so nothing is cached either. */
    rc = disk->Blk->down ? NVME_ERR_GONE : disk_check_current(disk);
    if (rc != 0) {
        nvme_exos_blk_unlock(disk->Blk);
        return rc == NVME_ERR_GONE ? DF_RETURN_HARDWARE_ABSENT : nvme_exos_df_result(rc);
    }
    /* Against the size now (a resize above may have moved the end), and
     * the access now: write protection the device set since (above) takes
     * no write into the cache that every write-back would then fail. */
    if (lba >= disk->NumSectors || count > disk->NumSectors - lba) {
        nvme_exos_blk_unlock(disk->Blk);
        return DF_RETURN_BAD_PARAMETER;
    }
    if (write && (disk->Access & DISK_ACCESS_READONLY) != 0) {
        nvme_exos_blk_unlock(disk->Blk);
        return DF_RETURN_NO_PERMISSION;
    }
    rc = disk_rw_locked(disk, write, lba, count, (U8 *)control->Buffer);
    /* The window is also checked here: a writer that never lets the
     * timer take the lock still gets its Flush in time. */
    if (window_passed(disk->Blk))
        sync_rc = nvme_exos_blk_sync(disk->Blk);
    nvme_exos_blk_unlock(disk->Blk);
    if (rc != 0)
        KernelLogText(LOG_WARNING,
                      TEXT("[NVMeCoreDiskCommands] %s failed NSID=%u LBA=%x:%x count=%u rc=%d"),
                      write ? TEXT("Write") : TEXT("Read"), (UINT)disk->NamespaceId,
                      (UINT)(lba >> 32), (UINT)(U32)lba, (UINT)count, (INT)rc);
    else if (sync_rc != 0 && !write_protect_refusal(sync_rc))
        KernelLogText(LOG_WARNING, TEXT("[NVMeCoreDiskCommands] Write-back failed rc=%d, retried"),
                      (INT)sync_rc);
    return nvme_exos_df_result(rc);
}

static UINT disk_get_info(LPDISKINFO info)
{
    LPNVME_CORE_DISK disk;

    if (info == NULL)
        return DF_RETURN_BAD_PARAMETER;
    disk = disk_of(info->Disk);
    if (disk == NULL)
        return DF_RETURN_BAD_PARAMETER;
    info->Type = DRIVER_TYPE_NVME_STORAGE;
    info->Removable = 0;
    info->BytesPerSector = disk->BytesPerSector;
    /* Out of service: no sectors (as Linux gives a namespace it cannot
     * use capacity 0), so `disk` does not show it as a live disk. */
    info->NumSectors = disk->Retired
                           ? U64_Make(0, 0)
                           : U64_Make((U32)(disk->NumSectors >> 32), (U32)disk->NumSectors);
    info->Access = disk->Access;
    return DF_RETURN_SUCCESS;
}

static UINT disk_set_access(LPDISKACCESS access)
{
    LPNVME_CORE_DISK disk;
    bool ro;
    int rc = 0;

    if (access == NULL)
        return DF_RETURN_BAD_PARAMETER;
    disk = disk_of(access->Disk);
    if (disk == NULL)
        return DF_RETURN_BAD_PARAMETER;
    /* A zoned disk stays read only, a metadata one disabled
     * (nvme_exos_ns_access): lifted, writes would be acknowledged that
     * every write-back fails. */
    if ((disk->AccessKept & ~access->Access) != 0)
        return DF_RETURN_NO_PERMISSION;
    ro = (access->Access & DISK_ACCESS_READONLY) != 0;
    /* Under the lock: no write of this disk is half way through the cache.
     * Writes EXOS was told succeeded go out (and are Flushed) while the
     * core still takes them: once the namespace is read-only there, every
     * write-back of them would fail with NVME_ERR_RDONLY. */
    if (!nvme_exos_blk_lock(disk->Blk))
        return DF_RETURN_INPUT_OUTPUT;
    if (disk->Blk->stopped) /* the controller is freed (nvme_ctrl_fini) */
        rc = NVME_ERR_GONE;
    else if (disk->Retired) /* its NSID may name the namespace of a new disk now */
        rc = NVME_ERR_GONE;
    else if ((disk->AccessKept & ~access->Access) != 0) {
        /* Again under the lock: the timer's poll may have run while this
         * task waited for it, and found the device's write protection set
         * (nvme_exos_disk_follow, under the lock): made writable again,
         * the disk would take writes into the cache that every write-back
         * fails. */
        nvme_exos_blk_unlock(disk->Blk);
        return DF_RETURN_NO_PERMISSION;
    } else if (ro && !disk->HostReadOnly) {
        /* Whether or not the disk is read only already: the device's
         * write protection (AccessKept) makes it so without the core
         * refusing anything, and holds the writes cached before it was
         * set (blk_sync): they must go out first, once it clears.  The
         * sync fails while they are held: the core is not told.  The
         * write-back is the controller's: another namespace's failure
         * (its writes held, write protected) leaves this one's read only
         * to be had once it owes nothing (nvme_exos_blk_owes). */
        rc = nvme_exos_blk_sync(disk->Blk);
        if (rc != 0 && !nvme_exos_blk_owes(disk->Blk, disk->NamespaceId))
            rc = 0;
    }
    if (rc == 0 && disk->Blk->ops->set_read_only != NULL)
        rc = disk->Blk->ops->set_read_only(disk->Blk->h, disk->NamespaceId, ro);
    if (rc == 0) {
        disk->Access = access->Access;
        disk->HostReadOnly = ro;
    }
    nvme_exos_blk_unlock(disk->Blk);
    return nvme_exos_df_result(rc);
}

/* Under the lock, as every call to the core here; never after the
 * shutdown, which freed the controller (nvme_ctrl_fini). */
static UINT disk_reset(LPSTORAGE_UNIT unit)
{
    LPNVME_CORE_DISK disk = disk_of(unit);
    int rc = NVME_ERR_GONE;
    if (disk == NULL)
        return DF_RETURN_BAD_PARAMETER;
    if (!nvme_exos_blk_lock(disk->Blk))
        return DF_RETURN_INPUT_OUTPUT;
    if (!disk->Blk->stopped)
        rc = disk->Blk->ops->reset != NULL ? disk->Blk->ops->reset(disk->Blk->h) : 0;
    nvme_exos_blk_unlock(disk->Blk);
    return nvme_exos_df_result(rc);
}

UINT NVMeCoreDiskCommands(UINT Function, UINT Parameter)
{
    switch (Function) {
    case DF_LOAD:
    case DF_UNLOAD:
        return DF_RETURN_SUCCESS;
    case DF_GET_VERSION:
        return MAKE_VERSION(NVME_EXOS_VER_MAJOR, NVME_EXOS_VER_MINOR);
    case DF_DISK_RESET:
        /* Parameter: the disk (as USBStorage.c takes it); resets the
         * controller behind it (nvme_ctrl_reset). */
        return disk_reset((LPSTORAGE_UNIT)Parameter);
    case DF_DISK_READ:
        return disk_rw((LPIOCONTROL)Parameter, false);
    case DF_DISK_WRITE:
        return disk_rw((LPIOCONTROL)Parameter, true);
    case DF_DISK_GETINFO:
        return disk_get_info((LPDISKINFO)Parameter);
    case DF_DISK_SETACCESS:
        return disk_set_access((LPDISKACCESS)Parameter);
    default:
        return DF_RETURN_NOT_IMPLEMENTED;
    }
}
