/* SPDX-License-Identifier: MIT */
/*
 * nvme_exos_pci.c - the nvme-core PCI driver for EXOS.
 *
 * Matches any mass storage / NVM / NVMe I/O controller (class 01h, 08h,
 * 02h).  EXOS's PCI scan calls Command(DF_PROBE), Command(DF_LOAD), then
 * Attach() with a PCI_DEVICE on its stack; Attach returns our own heap
 * object that starts with a copy of it.  Attach: BAR0 -> MapIOMemory,
 * memory space + bus mastering on, OSAL set up, nvme_ctrl_init() (which
 * asks the OSAL for MSI-X vectors), then one EXOS disk per usable
 * namespace, listed in GetDiskList() and mounted when the file system is
 * already up (otherwise EXOS mounts them when it comes up).
 *
 * Shutdown and reboot: EXOS's ShutdownKernel/RebootKernel unload the
 * drivers of its startup list in reverse order (UnloadAllDrivers).  With
 * NVMeCoreGetDriver() registered there right after PCIGetDriver() (README,
 * EXOS step 3), DF_UNLOAD comes after the file systems and before PCI and
 * the interrupt drivers: each controller's cache is written back, Flushed,
 * and the controller is shut down (nvme_ctrl_fini: CC.SHN=01b, wait for
 * CSTS.SHST=10b).
 *
 * Timer: a deferred-work poll callback (EXOS's dispatcher task, every
 * 5..50 ms) runs the durability window (nvme_exos_blk_tick) and
 * nvme_ctrl_service() once a second.
 */
#include "nvme_exos.h"
#include "nvme_exos_pcicfg.h"

/* The functions marked noinline are ones gcc -Os copied into their
 * callers at a cost: out of line, this file is 84 bytes smaller in EXOS's
 * x86-64 kernel (nvme_exos_shell.c does the same). */

/* Options; a kernel build may override them with -D. */
#ifndef NVME_EXOS_IO_QUEUES
#define NVME_EXOS_IO_QUEUES 1 /* EXOS schedules one CPU */
#endif
#ifndef NVME_EXOS_HMB_MAX_MIB /* Host Memory Buffer for DRAM-less SSDs; 0: none */
#define NVME_EXOS_HMB_MAX_MIB 32
#endif
#ifndef NVME_EXOS_POLLING
#define NVME_EXOS_POLLING 0 /* 1: never ask for interrupts */
#endif
#ifndef NVME_EXOS_WRITE_THROUGH
#define NVME_EXOS_WRITE_THROUGH                                                                    \
    0 /* 1: each write followed by a Flush; 0: write-back,
                                     durable within NVME_EXOS_FLUSH_MS (nvme_exos.h) */
#endif
#ifndef NVME_EXOS_TRACE
#define NVME_EXOS_TRACE 0 /* enum nvme_trace_mask bits */
#endif

static UINT NVMeCoreCommands(UINT Function, UINT Parameter);
static LPPCI_DEVICE NVMeCoreAttach(LPPCI_DEVICE PciDevice);

static DRIVER_MATCH NVMeCoreMatchTable[] = {
    {PCI_ANY_ID, PCI_ANY_ID, 0x01, 0x08, 0x02}, /* mass storage, NVM, NVMe I/O */
};

PCI_DRIVER DATA_SECTION NVMeCorePCIDriver = {
    .TypeID = KOID_DRIVER,
    .References = 1,
    .Next = NULL,
    .Prev = NULL,
    .Type = DRIVER_TYPE_NVME_STORAGE,
    .VersionMajor = NVME_EXOS_VER_MAJOR,
    .VersionMinor = NVME_EXOS_VER_MINOR,
    .Designer = "nvme-core",
    .Manufacturer = "",
    .Product = "NVMe Controller (nvme-core)",
    .Alias = "nvme",
    .Command = NVMeCoreCommands,
    .Matches = NVMeCoreMatchTable,
    .MatchCount = sizeof(NVMeCoreMatchTable) / sizeof(NVMeCoreMatchTable[0]),
    .Attach = NVMeCoreAttach,
};

static LPNVME_CORE_DEVICE Controllers[NVME_EXOS_MAX_CTRL];
static unsigned ControllerCount;

LPDRIVER NVMeCoreGetDriver(void) { return (LPDRIVER)&NVMeCorePCIDriver; }

LPNVME_CORE_DEVICE nvme_exos_controller(unsigned idx)
{
    return idx < ControllerCount ? Controllers[idx] : NULL;
}

unsigned nvme_exos_controller_count(void) { return ControllerCount; }

/* --- Lifecycle: events and the periodic service call ------------------------ */

/* A firmware a reset or an activation without reset (CA 011b) brought
 * may have a volatile write cache (Identify VWC bit 0, which the core
 * reads again then), whose writes only a Flush makes durable: the block
 * cache sends Flushes from then on.  Never turned off: a Flush without a
 * cache completes with nothing to do (§6.8).  At a reset's event and
 * after each service call (which handles the activation's notice). */
static void note_cache(LPNVME_CORE_DEVICE d)
{
    /* Read once: shutdown_all clears it after nvme_ctrl_fini, outside the
     * blk lock (a test between two reads could pass and the second read
     * NULL). */
    struct nvme_ctrl *c = d->Ctrl;
    if (c != NULL && (nvme_ctrl_get_info(c)->vwc & 1u) != 0)
        d->Blk.volatile_cache = true;
}

/* What the core tells EXOS (nvme.h, enum nvme_event).  A removed
 * controller is reported in the kernel log and its disks stay listed,
 * answering DF_RETURN_HARDWARE_ABSENT from then on. */
static void NVMeCoreEvent(void *arg, enum nvme_event ev, uint32_t detail)
{
    LPNVME_CORE_DEVICE d = (LPNVME_CORE_DEVICE)arg;
    U32 level = nvme_exos_event_log_type(ev, detail);
    if (level == LOG_VERBOSE) /* after boot: COM2 only (nvme_exos_info_log_type) */
        level = nvme_exos_info_log_type();
    /* A path that fails: its shared namespaces fail over to another
     * controller at the next poll (fail_over). */
    if (ev == NVME_EVENT_GONE || ev == NVME_EVENT_DEAD)
        d->Blk.down = true;
    else if (ev == NVME_EVENT_RESET && detail == 0) {
        d->Blk.down = false;
        note_cache(d); /* the restart read Identify again */
    }
    /* One call per kind of argument (smaller in EXOS's kernel). */
    LPCSTR fmt;
    switch (ev) {
    case NVME_EVENT_GONE:
        KernelLogText(level, TEXT("[NVMeCore] nvme%u removed: its disks fail from now on"),
                      (UINT)d->Index);
        return;
    case NVME_EVENT_NS_CHANGED:
        fmt = TEXT("[NVMeCore] nvme%u namespaces changed (nsid %x): disks follow at the next poll");
        break;
    case NVME_EVENT_SMART:
        fmt = TEXT("[NVMeCore] nvme%u SMART critical warning %x");
        break;
    case NVME_EVENT_DEAD:
    case NVME_EVENT_RESET:
        KernelLogText(
            level,
            ev == NVME_EVENT_DEAD ? TEXT("[NVMeCore] nvme%u dead after a failed reset (%s)")
                                  : TEXT("[NVMeCore] nvme%u reset: %s"),
            (UINT)d->Index,
            (LPCSTR)(ev == NVME_EVENT_RESET && detail == 0 ? "ok" : nvme_strerror(-(int)detail)));
        return;
    default:
        KernelLogText(level, TEXT("[NVMeCore] nvme%u event %u (%x)"), (UINT)d->Index, (UINT)ev,
                      (UINT)detail);
        return;
    }
    KernelLogText(level, fmt, (UINT)d->Index, (UINT)detail);
}

/* nvme_ctrl_service() wants a call every 100 ms .. 1 s from a context that
 * may sleep: the timer below makes it once a second, and so does the disk
 * path (the window's timer may have found no deferred-work slot).
 *
 * It never runs on a controller being torn down: DF_UNLOAD (shutdown_all)
 * sets Blk.stopped under the controller's blk lock, and only then calls
 * nvme_ctrl_fini, which frees the controller.  The service call runs under
 * that lock and only while Blk.stopped is clear, so a shutdown waits for a
 * service call in progress (one that sleeps, reading a log page), and one
 * after it sees the controller stopped.  `locked`: the caller holds the
 * lock (the disk path, on its own controller); else it is only tried (the
 * timer runs in EXOS's dispatcher task, which must not wait), and a held
 * lock puts the call off to the next poll. */
#define NVME_EXOS_SERVICE_MS 1000u
static void service_one(LPNVME_CORE_DEVICE d, bool locked)
{
    UINT now = GetSystemTime();
    if (now - d->LastServiceMs < NVME_EXOS_SERVICE_MS)
        return;
    if (!locked && !nvme_exos_blk_trylock(&d->Blk))
        return;
    if (!d->Blk.stopped && d->Ctrl != NULL) {
        d->LastServiceMs = now;
        (void)nvme_ctrl_service(d->Ctrl);
        note_cache(d);
    }
    if (!locked)
        nvme_exos_blk_unlock(&d->Blk);
}

static bool update_namespaces(LPNVME_CORE_DEVICE d);
static void publish_namespaces(LPNVME_CORE_DEVICE d);
static bool fail_over(void);
static void publish_on_live_paths(void);
static bool PublishOwed; /* publish_on_live_paths found a controller's lock held */
static void mount_owed(LPNVME_CORE_DEVICE d);
static void withdraw_retired(void);

/* The disk path (a request to a disk of controller h, its blk lock held,
 * before the disk is checked: nvme_exos_blk_ops.service). */
static void service_from_disk_path(void *h)
{
    for (unsigned i = 0; i < ControllerCount; i++)
        if (Controllers[i]->Ctrl == (struct nvme_ctrl *)h)
            service_one(Controllers[i], true);
}

/* Deferred-work poll callback: the durability window and the service
 * call, from EXOS's dispatcher task (may sleep, never in an interrupt). */
static BOOL DeferredRegistered = FALSE;
static void NVMeCoreTimer(LPVOID Context)
{
    bool retired = false;
    (void)Context;
    for (unsigned i = 0; i < ControllerCount; i++) {
        LPNVME_CORE_DEVICE d = Controllers[i];
        UINT served = d->LastServiceMs;
        (void)nvme_exos_blk_tick(&d->Blk);
        service_one(d, false);
        /* Disks follow the namespaces the last rescans found (under the
         * lock, as the service call; a held lock: the next poll). */
        if (nvme_exos_blk_trylock(&d->Blk)) {
            if (!d->Blk.stopped && d->Ctrl != NULL && update_namespaces(d))
                retired = true;
            /* A first publish that waits for its subsystem: again with
             * the service call, once a second (an Identify may time out). */
            if (!d->Blk.stopped && d->Ctrl != NULL && !d->SubsysRead && d->LastServiceMs != served)
                publish_namespaces(d);
            nvme_exos_blk_unlock(&d->Blk);
        }
    }
    /* A shared namespace whose disk went with its path (failed, or the
     * namespace detached from that controller alone) is published again
     * through a controller that still reaches it. */
    if (fail_over() || retired || PublishOwed)
        publish_on_live_paths();
    for (unsigned i = 0; i < ControllerCount; i++)
        mount_owed(Controllers[i]); /* the locks above released */
    withdraw_retired();
}

/* Registers NVMeCoreTimer with EXOS's deferred work: TRUE when EXOS took
 * it (a U32 handle up to aac7ac84, a DEFERRED_WORK_TOKEN after it). */
static BOOL register_timer(void)
{
#if NVME_EXOS_DEFERRED_TOKEN
    return DeferredWorkTokenIsValid(
        DeferredWorkRegisterPollOnly(NVMeCoreTimer, NULL, TEXT("nvme-core")));
#else
    return DeferredWorkRegisterPollOnly(NVMeCoreTimer, NULL, TEXT("nvme-core")) !=
           DEFERRED_WORK_INVALID_HANDLE;
#endif
}

/* EXOS shutdown or reboot (DF_UNLOAD): write back, Flush, CC.SHN.  The
 * report goes to COM2 only (nvme_exos_unload_log_type): four controllers'
 * lines filled the console, whose pager then waited for a key that never
 * came, and EXOS did not power off.  EXOS has killed every other task by
 * then (nvme_exos_lock_live): a lock one of them kept is taken over at
 * once, never waited for. */

static __attribute__((noinline)) void shutdown_all(void)
{
    /* First the locks the killed tasks kept, so that the fail-over and
     * the write-backs below, which only try them, do not pass such a
     * controller by: its write-back came after a lower index's shutdown,
     * and what its cache owed a namespace gone from it alone found no
     * path to go through (before: dropped). */
    for (unsigned i = 0; i < ControllerCount; i++)
        (void)nvme_exos_lock_gone(&Controllers[i]->Blk.bounce_mutex, &Controllers[i]->Blk.holder,
                                  TEXT("block cache"), true);
    /* A path that went since the last poll: the writes its cache owes a
     * shared namespace go out through another controller first (the
     * poll's fail_over), not dropped by its failing write-back. */
    (void)fail_over();
    /* Every cache written back while every controller is still a path: a
     * namespace gone from one hands its writes over to another, which a
     * shutdown of a lower index would already have stopped.  A lock held
     * leaves that cache to its shutdown below. */
    for (unsigned i = 0; i < ControllerCount; i++) {
        LPNVME_CORE_DEVICE d = Controllers[i];
        if (d->Ctrl != NULL && nvme_exos_blk_trylock(&d->Blk)) {
            if (!d->Blk.stopped)
                (void)nvme_exos_blk_sync(&d->Blk);
            nvme_exos_blk_unlock(&d->Blk);
        }
    }
    for (unsigned i = 0; i < ControllerCount; i++) {
        LPNVME_CORE_DEVICE d = Controllers[i];
        int rc, frc;
        U32 csts;
        if (d->Ctrl == NULL)
            continue;
        rc = nvme_exos_blk_shutdown(&d->Blk);
        /* Not stopped: a live task keeps the lock (a Format), the
         * controller is left to it, not freed under it.  Refused
         * (NVME_ERR_STATE): a reset whose task EXOS killed, which no one
         * ends (every reset runs under the blk lock, which a live task
         * would have let go of): no CC.SHN to be had, logged FAILED. */
        if (!d->Blk.stopped)
            continue;
        frc = nvme_ctrl_fini(d->Ctrl);
        d->Ctrl = NULL;
        csts = nvme_exos_mmio_read32(&d->Osal, NVME_REG_CSTS);
        KernelLogText(nvme_exos_unload_log_type(rc, frc),
                      TEXT("[NVMeCoreUnload] nvme%u: cache written back and flushed (%d), shutdown "
                           "%s (%d), CSTS=%x SHST=%u"),
                      (UINT)d->Index, (INT)rc, (LPCSTR)(frc == 0 ? "complete" : "FAILED"), (INT)frc,
                      (UINT)csts, (UINT)((csts >> 2) & 3u));
        /* The disks' counts: nvmectl's commands go to the core directly. */
        KernelLogText(
            LOG_DEBUG,
            TEXT("[NVMeCoreUnload] nvme%u: disks: %u read and %u write command(s), %u Flush(es), "
                 "%u cached write(s), read hits %u misses %u"),
            (UINT)d->Index, (UINT)d->Blk.stats.read_cmds, (UINT)d->Blk.stats.write_cmds,
            (UINT)d->Blk.stats.flushes, (UINT)d->Blk.stats.writes_cached,
            (UINT)d->Blk.stats.read_hits, (UINT)d->Blk.stats.read_misses);
        /* Interrupts EXOS delivered (the core's irq_count counts only those
         * that found a completion: a blocking call reaps its own first). */
        KernelLogText(LOG_DEBUG,
                      TEXT("[NVMeCoreUnload] nvme%u: %u interrupt(s) taken, %u poll(s) by EXOS"),
                      (UINT)d->Index, (UINT)d->Osal.irq_top_half, (UINT)d->Osal.irq_polled);
    }
}

/* --- Block ops bound to the core ------------------------------------------- */

/* The block calls make no service call: one there could rescan between
 * the disk layer's check of the namespace and the count it sends, sized
 * for a format the namespace no longer has (the disk path services first:
 * .service). */
static int core_read(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    return nvme_read((struct nvme_ctrl *)h, nsid, lba, count, buf);
}

static int core_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    return nvme_write((struct nvme_ctrl *)h, nsid, lba, count, buf);
}

/* NVME_NSID_ALL (the disk layer owes more namespaces than it tracks):
 * nvme_flush covers every namespace, in one command or one per namespace. */
static int core_flush(void *h, uint32_t nsid) { return nvme_flush((struct nvme_ctrl *)h, nsid); }

static int core_reset(void *h) { return nvme_ctrl_reset((struct nvme_ctrl *)h); }

static int core_set_read_only(void *h, uint32_t nsid, bool ro)
{
    return nvme_ns_set_read_only((struct nvme_ctrl *)h, nsid, ro);
}

static const struct nvme_ns_info *core_ns_info(void *h, uint32_t nsid)
{
    return nvme_ns_find((struct nvme_ctrl *)h, nsid);
}

struct published_ns;
static LPNVME_CORE_DEVICE live_second_path(const struct published_ns *p, void *id, bool *busy);
static bool core_hand_over(void *h, LPNVME_CORE_DISK disk);

const struct nvme_exos_blk_ops nvme_exos_core_ops = {
    .read = core_read,
    .write = core_write,
    .flush = core_flush,
    .reset = core_reset,
    .set_read_only = core_set_read_only,
    .ns_info = core_ns_info,
    .service = service_from_disk_path,
    .hand_over = core_hand_over,
};

/* --- PCI driver ------------------------------------------------------------------ */

static UINT NVMeCoreCommands(UINT Function, UINT Parameter)
{
    switch (Function) {
    case DF_LOAD:
        /* From the PCI scan before each Attach, and from EXOS's startup
         * list (LoadAllDrivers), which wants the READY flag. */
        NVMeCorePCIDriver.Flags |= DRIVER_FLAG_READY;
        return DF_RETURN_SUCCESS;
    case DF_UNLOAD:
        /* EXOS's shutdown and reboot (UnloadAllDrivers). */
        if ((NVMeCorePCIDriver.Flags & DRIVER_FLAG_READY) != 0)
            shutdown_all();
        NVMeCorePCIDriver.Flags &= ~(U32)DRIVER_FLAG_READY;
        return DF_RETURN_SUCCESS;
    case DF_GET_VERSION:
        return MAKE_VERSION(NVME_EXOS_VER_MAJOR, NVME_EXOS_VER_MINOR);
    case DF_GET_LAST_FUNCTION:
        return DF_PROBE;
    case DF_PROBE:
        /* The match table already checked the class triple. */
        return Parameter != 0 ? DF_RETURN_SUCCESS : DF_RETURN_BAD_PARAMETER;
    default:
        return DF_RETURN_NOT_IMPLEMENTED;
    }
}

/* BAR0 (NVMe 1.4 §2.1.10-11, MLBAR/MUBAR) is device input: sized with
 * decode off (nvme_exos_pcicfg.c), then refused with a reason rather than
 * mapped wrong.  The core needs the registers and the admin queue's
 * doorbells plus at least one I/O pair (the first 8 KiB); of a larger BAR
 * only the first NVME_EXOS_BAR0_MAP_MAX bytes are mapped (doorbells past
 * that are not used, nvme_osal.h mmio_size).  Returns NULL or why not. */
#define NVME_EXOS_BAR0_MIN 0x2000u
#define NVME_EXOS_BAR0_MAP_MAX 0x100000u
static LPCSTR get_bar0(LPNVME_CORE_DEVICE d, PHYSICAL *base, UINT *size)
{
    struct nvme_exos_bar bar;
    uint64_t map, limit = (uint64_t)(PHYSICAL) ~(PHYSICAL)0;

    if (!nvme_exos_bar_probe(d->Pci.Info.Bus, d->Pci.Info.Dev, d->Pci.Info.Func, 0, &bar)) {
        if (bar.io)
            return TEXT("an I/O space BAR, not memory");
        return TEXT("no size (not implemented)");
    }
    if (bar.base == 0)
        return TEXT("no address assigned");
    if (bar.size < NVME_EXOS_BAR0_MIN)
        return TEXT("smaller than the controller registers and doorbells (8 KiB)");
    map = bar.size < NVME_EXOS_BAR0_MAP_MAX ? bar.size : NVME_EXOS_BAR0_MAP_MAX;
    /* x86-32: PHYSICAL is 32 bits, a BAR above 4 GiB cannot be mapped. */
    if (bar.base > limit || map - 1u > limit - bar.base)
        return TEXT("above the physical addresses this kernel can map");
    *base = (PHYSICAL)bar.base;
    *size = (UINT)map;
    return NULL;
}

/* Namespaces published so far: a shared namespace behind a second
 * controller of the same NVM subsystem is not published again
 * (nvme_exos_same_namespace). */
struct published_ns {
    LPNVME_CORE_DEVICE dev;
    U32 nsid;
    bool has_ids;
    struct nvme_ns_ids ids;
    LPNVME_CORE_DISK disk;
    bool mount; /* published with the file system up: mount_owed mounts it */
};
#define NVME_EXOS_MAX_PUBLISHED (NVME_EXOS_MAX_CTRL * 16u)
/* The table (5 KiB on x86-64) comes from the heap at the first attach
 * (NVMeCoreAttach) and stays: in .bss it moved the end of EXOS's x86-64
 * kernel image that much closer to the kernel base + 2 MiB, where EXOS
 * stops working (README, "Known EXOS issue").  Nothing reads an entry at
 * or past PublishedCount, 0 until the table is there. */
static struct published_ns *Published;
static unsigned PublishedCount;

/* The table's lock.  EXOS preempts a kernel task anywhere (its timer
 * interrupt), and the timer's poll (EXOS's dispatcher task) moves the
 * entries while a disk request's hand-over or DF_UNLOAD's fail_over reads
 * them: every read and write of Published[] and PublishedCount is made
 * under it, and an entry is used outside it only as a copy.  A leaf lock:
 * held over scans and copies of entries alone, which call nothing that
 * sleeps, logs or takes a lock, so a wait for it (the dispatcher's too)
 * lasts until its holder runs again.  Order: a controller's blk lock (or
 * MUTEX_KERNEL) may be held when it is taken; nothing is taken while it
 * is held.  Statically made, as EXOS makes its own (Mutex.c). */
static struct {
    MUTEX m;
    nvme_exos_holder holder; /* nvme_exos_lock_gone */
} PublishedMutex = {.m = {.TypeID = KOID_MUTEX, .References = 1}};
/* Bounded as every wait: a live holder lets go as soon as it runs again,
 * one EXOS killed (a disk request's task in a hand-over's search, the
 * dispatcher at a shutdown) is not waited for (nvme_exos_lock_live).
 * Past NVME_EXOS_BLK_LOCK_MS (a holder killed while this waited) every
 * caller goes on as with the lock: its holder never runs again.  Before:
 * LockMutex(INFINITY), the dispatcher's poll stuck for good. */
static void table_lock(void)
{
    (void)nvme_exos_lock_live(&PublishedMutex.m, &PublishedMutex.holder,
                              TEXT("published namespaces"));
}

static void table_unlock(void)
{
    PublishedMutex.holder = 0;
    (void)UnlockMutex(&PublishedMutex.m);
}

/* Retired disks still in EXOS's disk list, withdrawn from it once no
 * file system uses them (withdraw_retired).  Past the table's size a
 * retired disk stays listed, disabled, as before. */
static LPNVME_CORE_DISK RetiredListed[NVME_EXOS_MAX_PUBLISHED];
static unsigned RetiredListedCount;

/* A retired disk leaves the published table: nothing in the glue points
 * to it any more (its cache segments went at nvme_exos_disk_retire). */
static __attribute__((noinline)) void note_retired(LPNVME_CORE_DISK disk)
{
    if (RetiredListedCount < NVME_EXOS_MAX_PUBLISHED)
        RetiredListed[RetiredListedCount++] = disk;
}

/* Whether a namespace is published through another controller of d's
 * subsystem (a copy of its entry into *out): d's namespace nsid (shared,
 * ids), or, `by_nsid`, one under NSID nsid (maybe d's, when d's Identify
 * Namespace failed: nothing tells them apart then). */
static bool second_path_of(LPNVME_CORE_DEVICE d, U32 nsid, bool shared,
                           const struct nvme_ns_ids *ids, bool by_nsid, struct published_ns *out)
{
    bool found = false;
    table_lock();
    for (unsigned i = 0; i < PublishedCount && !found; i++) {
        const struct published_ns *p = &Published[i];
        if (p->dev != d && !p->disk->Retired &&
            nvme_exos_same_subsystem(p->dev->SubNqn, p->dev->Serial, p->dev->Cntlid, d->SubNqn,
                                     d->Serial, d->Cntlid) &&
            (by_nsid
                 ? p->nsid == nsid
                 : nvme_exos_same_namespace(p->dev->SubNqn, p->nsid, p->has_ids ? &p->ids : NULL,
                                            d->SubNqn, nsid, shared, ids))) {
            *out = *p;
            found = true;
        }
    }
    table_unlock();
    return found;
}

/* SUBNQN (Identify Controller) into d->SubNqn; "" when it was never
 * read.  An Identify that fails at a later publish (a rescan's) keeps
 * what the earlier one gave: cleared, the controller would be in no
 * subsystem, and the shared namespaces it is a second path to would be
 * published again through it. */
static void read_subnqn(LPNVME_CORE_DEVICE d, struct nvme_id_ctrl *id)
{
    unsigned i;
    if (id == NULL || nvme_identify(d->Ctrl, NVME_CNS_CTRL, 0, id) != 0)
        return;
    d->SubsysRead = true;
    d->Cntlid = id->cntlid;
    StringCopy((LPSTR)d->Serial, (LPCSTR)nvme_ctrl_get_info(d->Ctrl)->serial);
    for (i = 0; i < sizeof(id->subnqn) && id->subnqn[i] != 0; i++)
        d->SubNqn[i] = id->subnqn[i];
    d->SubNqn[i] = 0;
}

static bool bytes_zero(const uint8_t *b, unsigned n)
{
    while (n-- != 0)
        if (b[n] != 0)
            return false;
    return true;
}

/* Whether namespace nsid of d may be shared (Identify Namespace NMIC bit
 * 0) and its identifiers: the Namespace Identification Descriptor list
 * (CNS 03h), else Identify Namespace NGUID and EUI64 (NVMe 1.4 Figure
 * 245; all zeros: not given), for devices without the list.  `id`: 4096
 * bytes.  False when that is unknown (Identify Namespace failed, or no
 * memory for it) for a controller of a known subsystem. */
static bool ns_identity(LPNVME_CORE_DEVICE d, U32 nsid, void *id, bool *shared, bool *has_ids,
                        struct nvme_ns_ids *ids)
{
    const struct nvme_id_ns *idns = (const struct nvme_id_ns *)id;
    *shared = false;
    *has_ids = false;
    if (d->SubNqn[0] == 0)
        return true; /* in no subsystem known: no second path */
    if (id == NULL || nvme_identify(d->Ctrl, NVME_CNS_NS, nsid, id) != 0)
        return false; /* shared or not: unknown */
    *shared = (idns->nmic & 1u) != 0;
    if (!*shared)
        return true;
    MemorySet(ids, 0, sizeof(*ids));
    ids->has_nguid = !bytes_zero(idns->nguid, sizeof(idns->nguid));
    ids->has_eui64 = !bytes_zero(idns->eui64, sizeof(idns->eui64));
    MemoryCopy(ids->nguid, idns->nguid, sizeof(ids->nguid));
    MemoryCopy(ids->eui64, idns->eui64, sizeof(ids->eui64));
    *has_ids = ids->has_nguid || ids->has_eui64;
    {
        struct nvme_ns_ids descs;
        if (nvme_identify_ns_descs(d->Ctrl, nsid, &descs) == 0 &&
            (descs.has_nguid || descs.has_eui64 || descs.has_uuid)) {
            *ids = descs;
            *has_ids = true;
        }
    }
    return true;
}

/* Whether d publishes nsid; *full: the table has no free entry. */
static bool published_by(LPNVME_CORE_DEVICE d, U32 nsid, bool *full)
{
    bool found = false;
    table_lock();
    for (unsigned i = 0; i < PublishedCount && !found; i++)
        found = Published[i].dev == d && Published[i].nsid == nsid;
    *full = PublishedCount >= NVME_EXOS_MAX_PUBLISHED;
    table_unlock();
    return found;
}

static void publish_namespaces(LPNVME_CORE_DEVICE d)
{
    unsigned i, n;
    void *id;

    if (d->Blk.down) /* gone or dead: its namespaces cannot be identified */
        return;
    n = nvme_ns_count(d->Ctrl);
    id = KernelHeapAlloc(4096); /* Identify data */

    read_subnqn(d, (struct nvme_id_ctrl *)id);
    /* Its subsystem never read (the first Identify Controller failed):
     * which of its namespaces another controller already publishes is
     * unknown, so none is published now; the timer's poll tries again. */
    if (!d->SubsysRead) {
        KernelLogText(LOG_WARNING,
                      TEXT("[NVMeCoreAttach] nvme%u: Identify Controller failed, "
                           "its disks wait for the next poll"),
                      (UINT)d->Index);
        if (id != NULL)
            KernelHeapFree(id);
        return;
    }

    for (i = 0; i < n; i++) {
        const struct nvme_ns_info *ns = nvme_ns_at(d->Ctrl, i);
        LPNVME_CORE_DISK disk;
        LPLIST list;
        U32 access;
        struct published_ns entry;
        bool full;

        if (ns == NULL || published_by(d, ns->nsid, &full))
            continue;
        if (full) {
            KernelLogText(LOG_WARNING,
                          TEXT("[NVMeCoreAttach] NSID=%u: more than %u disks, skipped"),
                          (UINT)ns->nsid, (UINT)NVME_EXOS_MAX_PUBLISHED);
            continue;
        }
        if (ns->status != 0) {
            KernelLogText(LOG_WARNING, TEXT("[NVMeCoreAttach] NSID=%u unusable (%d), skipped"),
                          (UINT)ns->nsid, (INT)ns->status);
            continue;
        }
        {
            struct published_ns other;
            struct nvme_ns_ids ids;
            bool shared, has_ids, known;
            known = ns_identity(d, ns->nsid, id, &shared, &has_ids, &ids);
            /* Unknown (not now: a later publish decides): one published
             * under the NSID through another controller of the
             * subsystem may be it. */
            if (second_path_of(d, ns->nsid, shared, has_ids ? &ids : NULL, false, &other) ||
                (!known && second_path_of(d, ns->nsid, false, NULL, true, &other))) {
                KernelLogText(nvme_exos_info_log_type(),
                              TEXT("[NVMeCoreAttach] nvme%un%u: another path to nvme%un%u "
                                   "(subsystem %s), not published"),
                              (UINT)d->Index, (UINT)ns->nsid, (UINT)other.dev->Index,
                              (UINT)other.nsid, (LPCSTR)d->SubNqn);
                continue;
            }
            entry.dev = d;
            entry.nsid = ns->nsid;
            entry.has_ids = has_ids;
            if (has_ids)
                entry.ids = ids;
        }
        access = nvme_exos_ns_access(ns);
        disk = nvme_exos_disk_create(&d->Blk, ns->nsid, ns->lba_size, ns->nsze,
                                     (access & DISK_ACCESS_READONLY) != 0);
        if (disk == NULL) {
            KernelLogText(LOG_WARNING, TEXT("[NVMeCoreAttach] No disk object for NSID=%u"),
                          (UINT)ns->nsid);
            continue;
        }
        nvme_exos_disk_set_policy(disk, ns); /* access, kept across DF_DISK_SETACCESS */
        list = GetDiskList();
        if (list == NULL || !ListAddItem(list, disk)) {
            KernelLogText(LOG_ERROR, TEXT("[NVMeCoreAttach] Cannot list disk NSID=%u"),
                          (UINT)ns->nsid);
            ReleaseKernelObject(disk);
            continue;
        }
        d->Disks++;
        /* Recorded once listed: a namespace whose disk could not be made
         * does not hide its other path.  A disabled disk refuses every
         * read (nvme_exos_ns_access): its MBR would be read in vain, each
         * time with a warning. */
        entry.disk = disk;
        entry.mount = (access & DISK_ACCESS_DISABLE) == 0 && FileSystemReady();
        /* Free still: only the poll (and Attach, before it) appends. */
        table_lock();
        Published[PublishedCount++] = entry;
        table_unlock();
        KernelLogText(nvme_exos_info_log_type(),
                      TEXT("[NVMeCoreAttach] nvme%un%u: %u blocks of %u bytes%s (disk %p)"),
                      (UINT)d->Index, (UINT)ns->nsid, (UINT)ns->nsze, (UINT)ns->lba_size,
                      ns->csi == NVME_CSI_ZNS ? TEXT(", zoned: read only")
                      : ns->write_protected   ? TEXT(", write protected: read only")
                                              : TEXT(""),
                      (LPVOID)disk);
    }
    if (id != NULL)
        KernelHeapFree(id);
}

/* After a rescan (nvmectl format, sanitize or a namespace command; a
 * Namespace Attribute Changed event in the service call): a disk whose
 * namespace changed in size alone keeps serving it with the new size
 * (nvme_exos_disk_follow); one whose namespace has another format now
 * (or is another namespace, or is gone) is taken out of service, its
 * cached writes of the old format dropped, never written in the new one
 * (nvme_exos_disk_retire; nvmectl writes the cache back before its
 * commands and runs none that change data while writes are owed), and
 * the namespace is published again as a new disk, as are namespaces that
 * appeared.  EXOS has no call to change a listed disk's geometry: file
 * systems mounted on it keep their offsets (a new size only moves the
 * end DF_DISK_GETINFO reports and requests are checked against).  Caller
 * holds d's blk lock.  True when a disk was retired. */
static __attribute__((noinline)) bool update_namespaces(LPNVME_CORE_DEVICE d)
{
    uint32_t gen = nvme_ns_generation(d->Ctrl);
    bool changed = gen != d->NsGeneration, busy = false, retired = false;
    unsigned i, kept = 0;

    /* d's disks follow their namespaces, each from a copy of its entry
     * (a retire hands over, which reads the table); only this poll moves
     * the entries, so the index still holds its place. */
    for (i = 0;; i++) {
        struct published_ns entry = {0}; /* set below; gcc -O2 with ASan sees a path it is not */
        const struct nvme_ns_info *ns;
        bool more;
        table_lock();
        while (i < PublishedCount && Published[i].dev != d)
            i++;
        more = i < PublishedCount;
        if (more)
            entry = Published[i];
        table_unlock();
        if (!more)
            break;
        ns = nvme_ns_find(d->Ctrl, entry.nsid);
        if (ns != NULL && ns->status == NVME_ERR_BUSY)
            busy = true; /* a Format runs: decided once it is done */
        else if (changed && !entry.disk->Retired && !nvme_exos_disk_follow(entry.disk, ns) &&
                 !entry.disk->Retired)
            busy = true; /* its retire put off (a hand-over): the next poll */
    }
    /* Retired here, or by a request that saw it first: out of the table. */
    table_lock();
    for (i = 0; i < PublishedCount; i++) {
        if (Published[i].dev == d && Published[i].disk->Retired) {
            retired = true;
            note_retired(Published[i].disk);
            continue;
        }
        Published[kept++] = Published[i];
    }
    PublishedCount = kept;
    table_unlock();
    if (busy)
        return retired;
    d->NsGeneration = gen;
    if (changed || retired)
        publish_namespaces(d);
    return retired;
}

/* Another controller that works and reaches namespace p (a second path
 * publish_namespaces did not publish); NULL when none does, *busy set
 * when a controller of its subsystem could not be asked (its lock held,
 * or its Identify failed where its model has the namespace: a timeout
 * says nothing of whether it is the same one). */
static LPNVME_CORE_DEVICE live_second_path(const struct published_ns *p, void *id, bool *busy)
{
    *busy = false;
    for (unsigned i = 0; i < ControllerCount; i++) {
        LPNVME_CORE_DEVICE b = Controllers[i];
        const struct nvme_ns_info *ns;
        struct nvme_ns_ids ids;
        bool shared, has_ids, same, usable;
        if (b == p->dev || b->Blk.down || b->Blk.stopped || b->Ctrl == NULL ||
            !nvme_exos_same_subsystem(p->dev->SubNqn, p->dev->Serial, p->dev->Cntlid, b->SubNqn,
                                      b->Serial, b->Cntlid))
            continue;
        if (!nvme_exos_blk_trylock(&b->Blk)) {
            *busy = true;
            continue;
        }
        /* Under the lock, looked at again: a shutdown (shutdown_all) marks
         * the controller stopped under it, then frees it. */
        ns = b->Blk.stopped || b->Ctrl == NULL ? NULL : nvme_ns_find(b->Ctrl, p->nsid);
        usable = ns != NULL && ns->status == 0;
        if (usable && !ns_identity(b, p->nsid, id, &shared, &has_ids, &ids)) {
            *busy = true;
            usable = false;
        }
        nvme_exos_blk_unlock(&b->Blk);
        if (!usable)
            continue;
        same = nvme_exos_same_namespace(p->dev->SubNqn, p->nsid, p->has_ids ? &p->ids : NULL,
                                        b->SubNqn, p->nsid, shared, has_ids ? &ids : NULL);
        if (same)
            return b;
    }
    return NULL;
}

/* The disk fail_over retires, its writes handed over.  One for all
 * controllers, not one per disk: two fail_overs may overlap (the timer's
 * and DF_UNLOAD's, in two tasks), but it is non-NULL only while the
 * fail_over that set it last is in its retire, holding that disk's
 * controller lock, and every retire (a rescan, a request, a write-back,
 * fail_over) runs under its disk's controller lock: no other retire of
 * that disk can read it then, a retire of another disk never matches it,
 * and that retire makes none nested (the shortcut answers at once).  It
 * is read before that retire can switch tasks (nothing between the store
 * and the test in core_hand_over sleeps or logs).  Should a preemption
 * there let the other fail_over overwrite it, that retire only misses
 * the shortcut: it hands over again (nothing left dirty: an Identify and
 * a Flush through the other path) or is put off to the next poll;
 * nothing is dropped that was not handed over. */
static LPNVME_CORE_DISK FailingOver;

/* A shared namespace that left controller h alone (detached from it, by
 * another host or through another controller, whose nvmectl wrote back
 * its own cache only): the writes the disk's cache owes go out through a
 * controller that still reaches it, as at a failover (fail_over), before
 * nvme_exos_disk_retire drops what is left.  Other locks are only tried
 * (h's is held: waiting could deadlock against nvmectl's, in index
 * order); one held puts the hand-over off (false), to a later rescan.
 * So does a disk not in the table (none should be: the table's lock
 * keeps a search from missing an entry the poll moves, and a disk is
 * listed and entered under its controller's lock): true would drop
 * writes another path may still take; the retire is tried again at the
 * next rescan and waits no longer than NVME_EXOS_HAND_OVER_MS. */
static bool core_hand_over(void *h, LPNVME_CORE_DISK disk)
{
    struct published_ns entry;
    const struct published_ns *p = &entry;
    LPNVME_CORE_DEVICE b;
    bool found = false, busy = false;
    void *id;
    int rc;
    /* fail_over's own retire, after its hand-over: known from the disk
     * (its controller down, its Blk), whatever the table holds.  Any other
     * retire of a failed path's disk (a tick's write-back, a rescan before
     * this poll's fail_over) hands over below like a live path's: answered
     * true, the writes would be dropped before fail_over got to them. */
    if (disk->Blk->down && disk == FailingOver)
        return true;
    /* The entry, found and copied under the table's lock: the caller's
     * task may be switched out anywhere (and an Identify takes ms), the
     * timer's poll move the table meanwhile. */
    table_lock(); /* after h's lock (the order at PublishedMutex) */
    for (unsigned i = 0; i < PublishedCount && !found; i++) {
        if (Published[i].disk == disk && Published[i].dev->Ctrl == (struct nvme_ctrl *)h) {
            entry = Published[i];
            found = true;
        }
    }
    table_unlock();
    if (!found)
        return false; /* not published: put off (above) */
    id = KernelHeapAlloc(4096);
    b = id != NULL ? live_second_path(p, id, &busy) : NULL;
    if (id != NULL)
        KernelHeapFree(id);
    if (b == NULL)
        return !busy;
    if (!nvme_exos_blk_trylock(&b->Blk))
        return false;
    rc = 0;
    if (!b->Blk.stopped) {
        KernelLogText(LOG_WARNING,
                      TEXT("[NVMeCore] nvme%un%u: namespace gone from this path, its cached "
                           "writes go out through nvme%u"),
                      (UINT)p->dev->Index, (UINT)p->nsid, (UINT)b->Index);
        rc = nvme_exos_disk_hand_over(disk, &b->Blk);
    }
    nvme_exos_blk_unlock(&b->Blk);
    /* A failure that may pass (a timeout, a reset, a status without DNR)
     * puts the retire off as a busy path does; one that cannot (another
     * format there, the device gone, a status with DNR) lets it drop. */
    return rc == 0 || rc == NVME_ERR_GONE || (rc > 0 && NVME_SF_DNR((unsigned)rc));
}

/* fail_over of one published namespace (p, a copy), its controller
 * down: true when its disk was retired, its writes handed over. */
static __attribute__((noinline)) bool fail_over_one(const struct published_ns *p, void *id)
{
    LPNVME_CORE_DEVICE a = p->dev, b;
    bool busy;
    if ((b = live_second_path(p, id, &busy)) == NULL)
        return false; /* none, or busy: the next poll */
    if (!nvme_exos_blk_trylock(&a->Blk))
        return false; /* the next poll */
    if (!nvme_exos_blk_trylock(&b->Blk)) {
        nvme_exos_blk_unlock(&a->Blk);
        return false;
    }
    KernelLogText(LOG_WARNING,
                  TEXT("[NVMeCore] nvme%un%u: path down, the namespace fails over to nvme%u"),
                  (UINT)a->Index, (UINT)p->nsid, (UINT)b->Index);
    /* The writes its cache owes go through b (b is live: checked
     * above, and its lock keeps a shutdown out), not dropped. */
    if (!b->Blk.stopped)
        (void)nvme_exos_disk_hand_over(p->disk, &b->Blk);
    nvme_exos_blk_unlock(&b->Blk);
    FailingOver = p->disk;
    nvme_exos_disk_retire(p->disk, NULL);
    FailingOver = NULL;
    nvme_exos_blk_unlock(&a->Blk);
    return true;
}

/* Where the table goes on after disk's entry: the timer's poll may have
 * moved it while this task was switched out (DF_UNLOAD's fail_over, an
 * Identify takes ms).  Its compactions keep the entries' order and a
 * publish appends, so what followed the entry still follows it; an
 * entry gone (its disk retired, dropped from the table) means from the
 * start again, the disks failed over since then skipped as retired. */
static unsigned published_after(LPNVME_CORE_DISK disk) /* caller holds the table's lock */
{
    for (unsigned i = 0; i < PublishedCount; i++)
        if (Published[i].disk == disk)
            return i + 1;
    return 0;
}

/* Multipath: a controller that is gone or dead (its disks fail) and
 * published a shared namespace another controller also reaches: the
 * writes its disk's cache owes go out through that controller (and a
 * Flush), as Linux's multipath sends a failed path's I/O down another;
 * then the disk is retired (blocks that controller refuses too are
 * dropped, logged) and publish_on_live_paths publishes the namespace
 * through the other controller, as a new disk (EXOS cannot move a
 * listed disk).  A
 * namespace with no other path keeps its disk: a reset may bring the
 * controller back.  True when a disk was retired. */
static bool fail_over(void)
{
    bool retired = false;
    void *id = NULL;
    LPNVME_CORE_DISK after = NULL; /* the last entry handled (NULL: none yet) */
    for (;;) {
        struct published_ns entry;
        bool found = false;
        /* The next entry of a path that is down, after the last one
         * handled, found and copied under the table's lock (DF_UNLOAD's
         * task may be switched out anywhere, the poll move the table). */
        table_lock();
        for (unsigned i = published_after(after); i < PublishedCount && !found; i++) {
            const struct published_ns *p = &Published[i];
            if (p->dev->Blk.down && !p->disk->Retired && !p->dev->Blk.stopped) {
                entry = *p;
                found = true;
            }
        }
        table_unlock();
        if (!found)
            break;
        if (id == NULL)
            id = KernelHeapAlloc(4096);
        if (id != NULL && fail_over_one(&entry, id))
            retired = true;
        after = entry.disk;
    }
    if (id != NULL)
        KernelHeapFree(id);
    return retired;
}

/* Drops retired disks from the table and publishes, on every controller
 * that works, what is no longer published elsewhere; a controller whose
 * lock is held is done at the next poll (PublishOwed). */
static void publish_on_live_paths(void)
{
    unsigned i, kept = 0;
    PublishOwed = false;
    table_lock();
    for (i = 0; i < PublishedCount; i++) {
        if (!Published[i].disk->Retired)
            Published[kept++] = Published[i];
        else
            note_retired(Published[i].disk);
    }
    PublishedCount = kept;
    table_unlock();
    for (i = 0; i < ControllerCount; i++) {
        LPNVME_CORE_DEVICE b = Controllers[i];
        if (b->Blk.down || b->Ctrl == NULL)
            continue;
        if (!nvme_exos_blk_trylock(&b->Blk)) {
            PublishOwed = true;
            continue;
        }
        if (!b->Blk.stopped)
            publish_namespaces(b);
        nvme_exos_blk_unlock(&b->Blk);
    }
}

/* MountDiskPartitions for the disks of d publish_namespaces listed with
 * the file system up, called with none of our locks held: it reads the
 * disk through DF_DISK_READ, which would take d's blk lock again in this
 * task, and EXOS's LockMutex frees a mutex held twice once another task
 * has waited 5 s for it (Mutex.c, "Force unlock after reentrant hold
 * timeout"), letting that task into the block cache with us (a read that
 * times out takes 30 s).  Each disk is claimed under d's lock (held by
 * another task: the next poll).  A listed disk is never freed
 * (withdraw_retired); one retired meanwhile is not mounted. */
static void mount_owed(LPNVME_CORE_DEVICE d)
{
    for (;;) {
        LPNVME_CORE_DISK disk = NULL;
        if (!nvme_exos_blk_trylock(&d->Blk))
            return;
        table_lock(); /* after d's lock (the order at PublishedMutex) */
        for (unsigned i = 0; i < PublishedCount && disk == NULL; i++) {
            struct published_ns *p = &Published[i];
            if (p->dev != d || !p->mount)
                continue;
            p->mount = false;
            if (!d->Blk.stopped && !p->disk->Retired &&
                (p->disk->Access & DISK_ACCESS_DISABLE) == 0)
                disk = p->disk;
        }
        table_unlock();
        nvme_exos_blk_unlock(&d->Blk);
        if (disk == NULL)
            return;
        if (!MountDiskPartitions((LPSTORAGE_UNIT)disk, NULL, 0))
            KernelLogText(LOG_WARNING, TEXT("[NVMeCoreAttach] Partition mount failed NSID=%u"),
                          (UINT)disk->NamespaceId);
    }
}

/* Whether a file system EXOS made for a partition, mounted or not (the
 * unused list), reads through `unit`. */
static bool has_file_system(LPSTORAGE_UNIT unit)
{
    LPLIST lists[2];
    lists[0] = GetFileSystemList();
    lists[1] = GetUnusedFileSystemList();
    for (unsigned k = 0; k < 2; k++) {
        if (lists[k] == NULL)
            continue;
        for (LPLISTNODE n = lists[k]->First; n != NULL; n = n->Next)
            if (FileSystemGetStorageUnit((LPFILESYSTEM)n) == unit)
                return true;
    }
    return false;
}

/* 1: `disk` may leave EXOS's disk list now; 0: not yet; -1: it is not
 * listed.  A file system on it would read through a disk that is gone.
 * EXOS names partitions n<i>p<j>, i the disk's rank among the listed
 * disks of its driver type, computed at mount time (FileSystem.c,
 * GetDefaultFileSystemName): taking a disk out lowers the rank of every
 * NVMe disk listed after it, and a disk published later would be given a
 * name a mounted file system already has.  So no file system may use it
 * nor an NVMe disk after it.  Caller holds MUTEX_KERNEL. */
static int may_withdraw(LPNVME_CORE_DISK disk)
{
    LPLIST list = GetDiskList();
    bool after = false;
    if (list == NULL)
        return -1;
    for (LPLISTNODE n = list->First; n != NULL; n = n->Next) {
        LPSTORAGE_UNIT unit = (LPSTORAGE_UNIT)n;
        if (unit == &disk->Header)
            after = true;
        if (after && unit->Driver != NULL && unit->Driver->Type == DRIVER_TYPE_NVME_STORAGE &&
            has_file_system(unit))
            return 0;
    }
    return after ? 1 : -1;
}

/* Retired disks leave EXOS's disk list (`disk` stops showing them with 0
 * sectors) once nothing uses them (may_withdraw), as USBStorage.c takes
 * an unplugged disk out.  Not through ReleaseKernelObject: EXOS would
 * free the object (KernelMonitor, DeleteUnreferencedObjects), and its
 * readers of the disk list (GetDefaultFileSystemName, the `disk`
 * command's script handles) take no lock: the object is only unlinked
 * (ListRemove, under MUTEX_KERNEL as DeleteUnreferencedObjects edits the
 * list) and kept, disabled, so a reader that still holds it reads a
 * retired disk.  MUTEX_KERNEL held by another task: the next poll (the
 * dispatcher task never waits). */
static void withdraw_retired(void)
{
    unsigned i, kept = 0;
    if (RetiredListedCount == 0 || MUTEX_KERNEL->Task != NULL || LockMutex(MUTEX_KERNEL, 0) == 0)
        return;
    for (i = 0; i < RetiredListedCount; i++) {
        LPNVME_CORE_DISK disk = RetiredListed[i];
        int may = may_withdraw(disk);
        if (may == 0) {
            RetiredListed[kept++] = disk;
            continue;
        }
        if (may > 0) {
            (void)ListRemove(GetDiskList(), disk);
            KernelLogText(LOG_WARNING,
                          TEXT("[NVMeCoreDisk] NSID=%u: retired disk %p withdrawn from the disk "
                               "list"),
                          (UINT)disk->NamespaceId, (LPVOID)disk);
        }
    }
    RetiredListedCount = kept;
    UnlockMutex(MUTEX_KERNEL);
}

static LPPCI_DEVICE NVMeCoreAttach(LPPCI_DEVICE PciDevice)
{
    LPNVME_CORE_DEVICE d;
    struct nvme_ctrl_opts opts;
    const struct nvme_ctrl_info *info;
    PHYSICAL bar = 0;
    UINT bar_size = 0;
    LINEAR mmio;
    LPCSTR why;
    int rc;
    char bdf[16];

    if (PciDevice == NULL)
        return NULL;
    if (ControllerCount >= NVME_EXOS_MAX_CTRL) {
        KernelLogText(LOG_WARNING, TEXT("[NVMeCoreAttach] More than %u controllers, ignored"),
                      (UINT)NVME_EXOS_MAX_CTRL);
        return NULL;
    }
    if (Published == NULL &&
        (Published = KernelHeapAlloc(sizeof(*Published) * NVME_EXOS_MAX_PUBLISHED)) == NULL)
        return NULL;
    d = (LPNVME_CORE_DEVICE)KernelHeapAlloc(sizeof(NVME_CORE_DEVICE));
    if (d == NULL)
        return NULL;
    MemorySet(d, 0, sizeof(NVME_CORE_DEVICE));
    MemoryCopy(&d->Pci, PciDevice, sizeof(PCI_DEVICE));
    InitMutex(&d->Pci.Mutex);
    d->Pci.Next = NULL;
    d->Pci.Prev = NULL;
    d->Pci.References = 1;
    d->Index = ControllerCount;

    why = get_bar0(d, &bar, &bar_size);
    if (why != NULL) {
        KernelLogText(
            LOG_ERROR, TEXT("[NVMeCoreAttach] Controller %s: BAR0 unusable: %s"),
            (LPCSTR)nvme_exos_pci_name(d->Pci.Info.Bus, d->Pci.Info.Dev, d->Pci.Info.Func, bdf),
            why);
        goto fail_free;
    }
    mmio = MapIOMemory(bar, bar_size);
    if (mmio == 0) {
        KernelLogText(LOG_ERROR, TEXT("[NVMeCoreAttach] MapIOMemory failed for %p size %u"),
                      (LPVOID)bar, (UINT)bar_size);
        goto fail_free;
    }
    /* INTx off (Interrupt Disable, PCI 3.0 §6.2.2): the OSAL takes MSI-X
     * or polls, never the pin.  Left on, a polled controller asserts it
     * for every admin completion (the admin CQ is on vector 0 with no IEN
     * bit, NVMe 1.4 §3.1.10) until reaped, up to a service period for an
     * event's, on a line EXOS may share with a device whose handler it
     * turns off after 64 stray signals (DeviceInterrupt.c,
     * DeviceInterruptHandler). */
    (void)nvme_exos_pci_command_update(d->Pci.Info.Bus, d->Pci.Info.Dev, d->Pci.Info.Func,
                                       PCI_CMD_MEM | PCI_CMD_BUSMASTER | PCI_CMD_INT_DISABLE, 0);
    /* Nor a previous owner's MSI or MSI-X (EXOS's own driver programs
     * MSI-X entry 0 with the vector of its slot): left on, a polled
     * controller would signal a vector EXOS may have given another
     * device since, once per admin completion. */
    nvme_exos_pci_msi_off(d->Pci.Info.Bus, d->Pci.Info.Dev, d->Pci.Info.Func);

    nvme_exos_osal_setup(&d->Osal, &d->OsalOps, (volatile void *)mmio, bar_size, d->Pci.Info.Bus,
                         d->Pci.Info.Dev, d->Pci.Info.Func, (LPDEVICE)&d->Pci);
    MemorySet(&opts, 0, sizeof(opts));
    opts.pci_vendor = d->Pci.Info.VendorID;
    opts.pci_device = d->Pci.Info.DeviceID;
    opts.instance = (uint16_t)d->Index; /* the core's log lines say nvme<Index> */
    opts.io_queues = NVME_EXOS_IO_QUEUES;
    opts.host_memory_max_mib = NVME_EXOS_HMB_MAX_MIB;
    opts.no_host_memory = NVME_EXOS_HMB_MAX_MIB == 0;
    opts.trace = NVME_EXOS_TRACE;
    opts.polling = NVME_EXOS_POLLING != 0;
    opts.event_cb = NVMeCoreEvent;
    opts.event_arg = d;
    rc = nvme_ctrl_init(&d->Ctrl, &d->OsalOps, &opts);
    if (rc != 0) {
        KernelLogText(
            LOG_ERROR, TEXT("[NVMeCoreAttach] Controller %s init failed: %s (%d)"),
            (LPCSTR)nvme_exos_pci_name(d->Pci.Info.Bus, d->Pci.Info.Dev, d->Pci.Info.Func, bdf),
            (LPCSTR)(rc < 0 ? nvme_strerror(rc) : nvme_status_name((uint16_t)rc)), (INT)rc);
        goto fail_unmap;
    }
    nvme_exos_osal_bind(&d->Osal, d->Ctrl);
    info = nvme_ctrl_get_info(d->Ctrl);

    if (!DMABufferAllocate(&d->Bounce, NVME_EXOS_BOUNCE_BYTES, TRUE, TEXT("NVMeCoreBounce"))) {
        KernelLogText(LOG_WARNING,
                      TEXT("[NVMeCoreAttach] No bounce buffer: unaligned I/O will fail"));
        MemorySet(&d->Bounce, 0, sizeof(d->Bounce));
    }
    nvme_exos_blk_init(&d->Blk, &nvme_exos_core_ops, d->Ctrl, (void *)d->Bounce.LinearBase,
                       d->Bounce.LinearBase != 0 ? NVME_EXOS_BOUNCE_BYTES : 0,
                       NVME_EXOS_WRITE_THROUGH != 0);
    /* Block cache: page-aligned, mapped by the core page by page (need
     * not be contiguous); halved until EXOS can give it, or none. */
    for (UINT want = NVME_EXOS_CACHE_BYTES; want >= NVME_EXOS_SEG_BYTES; want /= 2u) {
        if (DMABufferAllocate(&d->Cache, want, FALSE, TEXT("NVMeCoreCache"))) {
            if (d->Cache.LinearBase != 0)
                break;
            DMABufferRelease(&d->Cache);
        }
        MemorySet(&d->Cache, 0, sizeof(d->Cache));
    }
    nvme_exos_blk_configure(&d->Blk, (info->vwc & 1u) != 0, NVME_EXOS_FLUSH_MS,
                            (void *)d->Cache.LinearBase,
                            d->Cache.LinearBase != 0 ? (UINT)d->Cache.Size : 0);

    KernelLogText(
        LOG_VERBOSE,
        TEXT("[NVMeCoreAttach] nvme%u at %s BAR0=%p size=%u VS=%x model \"%s\" "
             "serial \"%s\" fw \"%s\""),
        (UINT)d->Index,
        (LPCSTR)nvme_exos_pci_name(d->Pci.Info.Bus, d->Pci.Info.Dev, d->Pci.Info.Func, bdf),
        (LPVOID)bar, (UINT)bar_size, (UINT)info->vs, (LPCSTR)info->model, (LPCSTR)info->serial,
        (LPCSTR)info->firmware);
    KernelLogText(LOG_VERBOSE,
                  TEXT("[NVMeCoreAttach] nvme%u: %u I/O queue(s) x %u entries, %u irq vector(s)%s, "
                       "MDTS %u bytes, %u namespace(s)"),
                  (UINT)d->Index, (UINT)info->io_queues, (UINT)info->io_queue_entries,
                  (UINT)info->irq_vectors, info->irq_vectors == 0 ? TEXT(" (polling)") : TEXT(""),
                  (UINT)info->mdts_bytes, (UINT)nvme_ns_count(d->Ctrl));

    KernelLogText(LOG_VERBOSE,
                  TEXT("[NVMeCoreAttach] nvme%u: %s, volatile write cache %s, block cache %u KiB"),
                  (UINT)d->Index,
                  (LPCSTR)(NVME_EXOS_WRITE_THROUGH != 0 ? "write-through (Flush after each write)"
                                                        : "write-back, Flush within the window"),
                  (LPCSTR)((info->vwc & 1u) != 0 ? "present" : "absent"),
                  (UINT)(d->Blk.nsegs * (NVME_EXOS_SEG_BYTES / 1024u)));
    if (NVME_EXOS_WRITE_THROUGH == 0)
        KernelLogText(LOG_VERBOSE, TEXT("[NVMeCoreAttach] nvme%u: durability window %u ms"),
                      (UINT)d->Index, (UINT)NVME_EXOS_FLUSH_MS);

    Controllers[ControllerCount++] = d;
    if (!DeferredRegistered)
        DeferredRegistered = register_timer();
    /* No timer keeps the durability window: a write cached after the
     * last disk request would wait for the next one, or for a shutdown,
     * for as long as there is none.  So this controller's disks write
     * through (each write to the device and Flushed), slower but never
     * owing a write for an unbounded time; its disks are not published
     * yet, so nothing is cached. */
    if (!DeferredRegistered && !d->Blk.write_through) {
        d->Blk.write_through = true;
        KernelLogText(LOG_WARNING,
                      TEXT("[NVMeCoreAttach] nvme%u: no deferred-work slot for the "
                           "durability window: write-through"),
                      (UINT)d->Index);
    }
    d->NsGeneration = nvme_ns_generation(d->Ctrl);
    publish_namespaces(d);
    mount_owed(d);
    return (LPPCI_DEVICE)d;

fail_unmap:
    nvme_exos_osal_release(&d->Osal);
    UnMapIOMemory(mmio, bar_size);
fail_free:
    KernelHeapFree(d);
    return NULL;
}
