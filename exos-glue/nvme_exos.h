/* SPDX-License-Identifier: MIT */
/*
 * nvme_exos.h - exos-glue: nvme-core as EXOS's NVMe driver.
 *
 *   nvme_exos_pci.c    PCI driver (class 01h/08h/02h): Attach brings the
 *                      controller up with the core and publishes one EXOS
 *                      disk per usable namespace.
 *   nvme_exos_disk.c   the disk DRIVER: DF_DISK_* translated to block calls
 *                      through `struct nvme_exos_blk_ops` (the core in the
 *                      kernel, a mock in the unit tests).
 *   nvme_exos_shell.c  the `nvmectl` shell command (shared front end).
 *
 * Registration in EXOS (see README): NVMeCorePCIDriver in PCI.c's driver
 * list, NVMeCoreGetDriver() in KernelData.c, CMD_nvmectl in COMMANDS[].
 */
#ifndef NVME_EXOS_H
#define NVME_EXOS_H

#include "nvme/nvme.h"
#include "exos_api.h"
#include "nvme_osal_exos.h"

#define NVME_EXOS_VER_MAJOR 2
#define NVME_EXOS_VER_MINOR 0

/* Controllers handled at most (the shell command looks them up here). */
#define NVME_EXOS_MAX_CTRL 4u
/* Bounce buffer for buffers the core cannot take directly (not dword
 * aligned or not mappable) and scratch buffer of nvmectl. */
#define NVME_EXOS_BOUNCE_BYTES (64u * 1024u)

/* Durability window (write-back mode): data EXOS wrote is written to the
 * device and a Flush completes at most this long after the first write
 * since the previous Flush (plus the time of that write-back).  Build
 * option, like NVME_EXOS_WRITE_THROUGH (nvme_exos_pci.c). */
#ifndef NVME_EXOS_FLUSH_MS
#define NVME_EXOS_FLUSH_MS 1000u
#endif
/* How long a disk whose namespace left its controller waits for another
 * path's lock to hand its cached writes over (nvme_exos_blk_ops.hand_over)
 * before it is retired with them dropped: as long as one command may
 * hold that lock, the core's deadline for Format and Sanitize (10 min,
 * nvmectl) and about what a disk request waits out the path's resets.
 * (It was 5 s: a reset of a drive with a long CAP.TO on the other path
 * would have lost them.) */
#ifndef NVME_EXOS_HAND_OVER_MS
#define NVME_EXOS_HAND_OVER_MS 600000u
#endif
/* How long a disk request or nvmectl waits for a controller's blk lock
 * (ms): past the longest one holder keeps it, a Format's deadline (10
 * min, NVME_EXOS_HAND_OVER_MS) and the reset after it.  Then the request
 * fails (DF_RETURN_INPUT_OUTPUT): every wait is bounded. */
#ifndef NVME_EXOS_BLK_LOCK_MS
#define NVME_EXOS_BLK_LOCK_MS (2u * NVME_EXOS_HAND_OVER_MS)
#endif
/* Block cache: segments of NVME_EXOS_SEG_BYTES (aligned LBA ranges) that
 * merge EXOS's sector-sized writes into one command per run of dirty
 * blocks and read a whole segment ahead on a miss.  Requests of a segment
 * or more bypass it (zero copy, split at MDTS by the core). */
#define NVME_EXOS_SEG_BYTES (64u * 1024u)
#ifndef NVME_EXOS_CACHE_BYTES
#define NVME_EXOS_CACHE_BYTES (2u * 1024u * 1024u) /* 0: no cache */
#endif
#define NVME_EXOS_MAX_SEGS 64u
#define NVME_EXOS_SEG_MAX_BLOCKS 128u /* 64 KiB of 512-byte blocks */
/* Commands a sync (and the requests until the next one) may spend on
 * writing failed write-backs again in halves: one bad block among 128
 * costs 14. */
#define NVME_EXOS_SPLIT_BUDGET (2u * NVME_EXOS_SEG_MAX_BLOCKS)
/* Namespaces whose Flush is owed, tracked at most. */
#define NVME_EXOS_MAX_NS 8u

struct tag_NVME_CORE_DISK;

/* What the disk layer needs from a block device: the core's calls, or a
 * mock.  Return values follow nvme.h (0, < 0 enum nvme_err, > 0 status). */
struct nvme_exos_blk_ops {
    int (*read)(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf);
    int (*write)(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf);
    int (*flush)(void *h, uint32_t nsid); /* NVME_NSID_ALL: every namespace */
    int (*reset)(void *h);
    /* OPTIONAL: tell the core the host's read only (nvme_ns_set_read_only);
     * without it the disk alone refuses writes (HostReadOnly). */
    int (*set_read_only)(void *h, uint32_t nsid, bool ro);
    /* OPTIONAL: the namespace as the core knows it now (NULL when it is
     * not active).  A rescan (a Format from nvmectl, a Namespace Attribute
     * Changed event) may give it another format under a published disk:
     * the disk is then taken out of service (nvme_exos_disk_matches). */
    const struct nvme_ns_info *(*ns_info)(void *h, uint32_t nsid);
    /* OPTIONAL: the controller's periodic service call (nvme_ctrl_service),
     * made by each request under the blk lock before the disk is checked
     * against ns_info: a rescan it runs (a Namespace Attribute Changed
     * event) is seen before any block count is sent, never between the
     * check and a read or write sized for the old format. */
    void (*service)(void *h);
    /* OPTIONAL: the namespace of `disk` is no longer on controller h (a
     * rescan does not find it: detached from h alone) and the disk's cache
     * owes it writes: hand them to another controller that still reaches
     * the namespace (nvme_exos_disk_hand_over), before the disk is retired
     * and the rest dropped.  Caller holds the blk lock; never waits for
     * another (only for the glue's table lock, a leaf taken after it).
     * False: put off, a controller that may reach the namespace is busy
     * (its lock held), or the disk is not among the published ones; the disk is
     * retired at a later try, or after NVME_EXOS_HAND_OVER_MS with what
     * it owes dropped. */
    bool (*hand_over)(void *h, struct tag_NVME_CORE_DISK *disk);
};

/* One cache segment: blocks [first, first + blocks) of namespace nsid. */
struct nvme_exos_seg {
    U8 *data;                        /* NVME_EXOS_SEG_BYTES, mappable by the core */
    U32 nsid;                        /* 0: free */
    struct tag_NVME_CORE_DISK *disk; /* whose format the blocks have */
    uint64_t first;
    U32 blocks; /* blocks per segment for this namespace */
    U32 block_bytes;
    U32 valid[NVME_EXOS_SEG_MAX_BLOCKS / 32]; /* bit per block */
    U32 dirty[NVME_EXOS_SEG_MAX_BLOCKS / 32];
    U32 bad[NVME_EXOS_SEG_MAX_BLOCKS / 32]; /* dirty, refused alone (seg_write_run) */
    U32 used;                               /* LRU stamp */
    /* Its write-back failed since the last sync: no eviction tries it
     * again before the next sync (seg_get), which does, once a window. */
    bool held;
};

/* Counters (nvmectl-free diagnostics, unit tests). */
struct nvme_exos_blk_stats {
    uint64_t read_hits, read_misses, writes_cached, write_cmds, read_cmds, flushes, syncs;
};

/* EXOS's ID (Base.h OBJECT_FIELDS: a UUID's 64 bits CreateKernelObject
 * gives each object) of the task that took a glue lock, recorded by the
 * glue after the take, 0 before it lets go (none recorded).  EXOS frees a
 * killed task (DeleteTask) and may make a later one at the same address:
 * only the ID tells them apart. */
typedef uint64_t nvme_exos_holder;

/* One block device (a controller) as the disk layer sees it. */
struct nvme_exos_blk {
    const struct nvme_exos_blk_ops *ops;
    void *h;             /* passed to ops (struct nvme_ctrl *) */
    bool write_through;  /* write + Flush in each DF_DISK_WRITE */
    bool volatile_cache; /* the controller has a volatile write cache: Flush needed */
    bool stopped;        /* shut down: every request fails */
    /* The controller is gone or dead (NVME_EVENT_GONE/DEAD) until a reset
     * works: requests fail, none is cached (nothing could write it). */
    volatile bool down;
    void *bounce; /* NVME_EXOS_BOUNCE_BYTES, dword aligned */
    UINT bounce_bytes;
    MUTEX bounce_mutex;      /* one user of the blk (cache, bounce) at a time (tasks) */
    nvme_exos_holder holder; /* the task that took it (nvme_exos_lock_gone) */
    DRIVER driver;           /* the disk DRIVER shared by its disks */
    /* Durability window */
    UINT flush_ms;
    volatile bool unflushed; /* written (cache or device) since the last Flush */
    volatile UINT dirty_since_ms;
    U32 owed_nsid[NVME_EXOS_MAX_NS]; /* namespaces written since their last Flush */
    /* Block cache */
    struct nvme_exos_seg segs[NVME_EXOS_MAX_SEGS];
    unsigned nsegs; /* 0: no cache */
    U32 stamp;
    U32 split_budget; /* write-back commands left for splitting, until the next sync */
    /* Write-backs refused as write protected (Namespace is Write
     * Protected, 20h): logged once when the refusals start and once when
     * they end, not at each window (blk_sync). */
    bool wp_refused;
    struct nvme_exos_blk_stats stats;
};

/* EXOS disk object of one namespace. */
typedef struct tag_NVME_CORE_DISK {
    STORAGE_UNIT Header;
    struct nvme_exos_blk *Blk;
    U32 NamespaceId;
    U32 BytesPerSector;
    uint64_t NumSectors;
    U32 Access;          /* DISK_ACCESS_* */
    U32 AccessKept;      /* of them, the glue's rules DF_DISK_SETACCESS cannot lift */
    bool WriteProtected; /* nvme_ns_info.write_protected the disk last followed */
    /* The host's read only (DF_DISK_SETACCESS, nvme_ns_info.read_only at
     * publication): kept here too, for block ops without set_read_only. */
    bool HostReadOnly;
    /* The namespace's format when the disk was made (nvme_exos_disk_matches) */
    U16 MetadataBytes;
    U8 Csi;
    U8 PiType;
    bool MdExtended;
    bool PlainIo;
    U32 NsGen; /* nvme_ns_info.gen: another namespace under the NSID moves it */
    U8 Format; /* nvme_ns_info.format, the LBA format in use */
    U8 Nguid[16];
    U8 Eui64[8];
    /* Out of service: its namespace changed format or went away after a
     * rescan; every request fails (DF_RETURN_HARDWARE_ABSENT). */
    bool Retired;
    /* GetSystemTime() | 1 of the first hand-over put off (0: none): the
     * retire waits for another path's lock up to NVME_EXOS_HAND_OVER_MS. */
    U32 HandOverSince;
} NVME_CORE_DISK, *LPNVME_CORE_DISK;

/* Controller object handed back to EXOS's PCI layer.  PCI_DEVICE first, so
 * EXOS sees a PCI_DEVICE (its KOID, its list node). */
typedef struct tag_NVME_CORE_DEVICE {
    PCI_DEVICE Pci;
    struct nvme_exos_osal Osal;
    struct nvme_osal OsalOps;
    struct nvme_ctrl *Ctrl;
    struct nvme_exos_blk Blk;
    DMA_BUFFER Bounce;
    DMA_BUFFER Cache; /* the block cache's segments */
    unsigned Index;   /* nvme<Index> */
    unsigned Disks;
    UINT LastServiceMs;    /* nvme_ctrl_service() last called (GetSystemTime) */
    uint32_t NsGeneration; /* nvme_ns_generation() the disks were checked at */
    char SubNqn[257];      /* Identify Controller SUBNQN, "" when not read */
    bool SubsysRead;       /* an Identify Controller gave SubNqn, Cntlid, Serial */
    U16 Cntlid;            /* Identify Controller CNTLID */
    char Serial[21];       /* Identify Controller SN (the NVM subsystem's) */
} NVME_CORE_DEVICE, *LPNVME_CORE_DEVICE;

/* --- nvme_exos_disk.c ------------------------------------------------------ */

/* Fills blk->driver (DRIVER_TYPE_NVME_STORAGE, Command = NVMeCoreDiskCommands).
 * Write-back by default (write_through false): see NVME_EXOS_FLUSH_MS. */
void nvme_exos_blk_init(struct nvme_exos_blk *blk, const struct nvme_exos_blk_ops *ops, void *h,
                        void *bounce, UINT bounce_bytes, bool write_through);
/* Options after init: whether Flush is needed at all (VWC), the window,
 * and the cache memory (`bytes` / NVME_EXOS_SEG_BYTES segments, at most
 * NVME_EXOS_MAX_SEGS; NULL or 0: no cache). */
void nvme_exos_blk_configure(struct nvme_exos_blk *blk, bool volatile_cache, UINT flush_ms,
                             void *cache, UINT cache_bytes);
/* Write back what the cache holds and Flush what is owed, now (caller
 * holds the blk lock). */
int nvme_exos_blk_sync(struct nvme_exos_blk *blk);
/* The timer: syncs when the window has passed (takes the lock only then).
 * Returns what the sync returned, 0 when nothing was due. */
int nvme_exos_blk_tick(struct nvme_exos_blk *blk);
/* Shutdown/reboot: sync, then refuse every later request. */
int nvme_exos_blk_shutdown(struct nvme_exos_blk *blk);
/* Whether m is held by a task EXOS killed (or by no task any more, or
 * by a task made later at the address of the one `holder` recorded,
 * freed since), which never lets go: EXOS lets go only of the mutexes
 * on its own list (Task.c, ReleaseTaskMutexes), which the glue's are
 * not, and never runs a dead task again.  Then, warned with `what`:
 * `take`, the mutex is taken over from it (cleared, in one step with
 * the look); else left.
 * At DF_UNLOAD every holder but the caller is dead: EXOS kills its
 * userland processes and kernel tasks (the dispatcher's timer, the
 * shells, nvmectl among them) before it unloads the drivers (Kernel.c,
 * PrepareForPowerTransition); its KernelMonitor, which frees a dead
 * task's stack, is killed too. */
bool nvme_exos_lock_gone(LPMUTEX m, nvme_exos_holder *holder, LPCSTR what, bool take);
/* Takes m unless a live task keeps it past NVME_EXOS_BLK_LOCK_MS (-1,
 * with a warning naming `what`): 1, the caller recorded in `holder`.  A
 * holder EXOS killed is not waited for: its lock is taken over
 * (nvme_exos_lock_gone). */
int nvme_exos_lock_live(LPMUTEX m, nvme_exos_holder *holder, LPCSTR what);
/* Sync and drop every cached block (before something writes the device
 * behind the cache's back: nvmectl); blocks whose write-back failed stay,
 * still owed, and the sync's error is returned.  Caller holds the lock. */
int nvme_exos_blk_invalidate(struct nvme_exos_blk *blk);
/* Whether namespace nsid is owed something by the cache: blocks not yet
 * written back (a write-back that failed), or a Flush (one that failed;
 * owed_nsid NVME_NSID_ALL: every namespace).  Caller holds the lock. */
bool nvme_exos_blk_owes(const struct nvme_exos_blk *blk, U32 nsid);
/* Creates the disk object of one namespace (not yet listed). */
LPNVME_CORE_DISK nvme_exos_disk_create(struct nvme_exos_blk *blk, U32 nsid, U32 lba_size,
                                       uint64_t nsze, bool read_only);
/* The DISK_ACCESS_* a namespace's disk starts with (publish_namespaces):
 * its read-only policy, read only for a zoned or a write protected
 * namespace (NSATTR bit 0), disabled for a format with metadata the
 * block calls cannot carry. */
U32 nvme_exos_ns_access(const struct nvme_ns_info *ns);
/* Gives a new disk that access (publish_namespaces); its zoned or write
 * protected read only and its metadata disable are kept across
 * DF_DISK_SETACCESS. */
void nvme_exos_disk_set_policy(LPNVME_CORE_DISK disk, const struct nvme_ns_info *ns);
/* Whether a disk still describes its namespace as the core knows it now
 * (ns from nvme_ns_find, NULL when not active): usable, same size, LBA
 * size, metadata, protection, command set (zoned) and plain_io (the
 * disabled metadata disk), generation unmoved.  Not the host's read-only
 * policy.  A size alone changed: nvme_exos_disk_resized. */
bool nvme_exos_disk_matches(const NVME_CORE_DISK *disk, const struct nvme_ns_info *ns);
/* Whether ns (nvme_ns_find) is the disk's namespace with its size alone
 * changed (NSZE grown or shrunk; Linux keeps the disk and changes its
 * capacity): usable, another NSZE (not 0), the same LBA size, metadata,
 * LBA format, protection, command set, plain_io and identifiers (NGUID,
 * EUI64).  The core moves ns->gen on a size change too, so the fields
 * decide. */
bool nvme_exos_disk_resized(const NVME_CORE_DISK *disk, const struct nvme_ns_info *ns);
/* After a rescan (caller holds the blk lock): a disk whose namespace is
 * unchanged stays as it is, but for the device's write protection set or
 * cleared (read only while it is set); one whose size alone changed
 * (nvme_exos_disk_resized) stays in service with the new sector count,
 * its cached blocks past a new end dropped (dirty ones with an error
 * line: they can no longer be written); any other change retires it
 * (nvme_exos_disk_retire).  False when the disk is (now) retired, or
 * its retire is put off (Retired still clear: a later rescan decides). */
bool nvme_exos_disk_follow(LPNVME_CORE_DISK disk, const struct nvme_ns_info *ns);
/* Takes a disk out of service (caller holds the blk lock): its requests
 * fail from now on, its cached blocks are dropped (dirty ones too: they
 * belong to a format the namespace no longer has; logged as an error)
 * and its namespace is no longer owed a Flush.  It stays listed,
 * disabled, until the PCI side takes it out of EXOS's disk list (once no
 * file system uses it: nvme_exos_pci.c, withdraw_retired).  A namespace
 * gone from this controller alone has its cached writes handed over
 * first (ops->hand_over); while that is put off, up to
 * NVME_EXOS_HAND_OVER_MS, the disk is left as it is. */
void nvme_exos_disk_retire(LPNVME_CORE_DISK disk, const struct nvme_ns_info *ns);
/* Before a disk whose path failed is retired (fail_over, both blk locks
 * held): its cached writes go out through `to`, another controller's
 * path to the same namespace, and a Flush there after them.  Blocks `to`
 * refuses stay dirty (the retire drops them, logged).  Returns 0 or the
 * first failure. */
int nvme_exos_disk_hand_over(LPNVME_CORE_DISK disk, struct nvme_exos_blk *to);
/* Whether namespace b (NSID nsid_b of the NVM subsystem subnqn_b, shared:
 * Identify Namespace NMIC bit 0; identifiers ids_b, NULL when the device
 * gives none) is namespace a, already published through another
 * controller of the same subsystem: a second path to it (NVMe 1.4 §2.4.1).
 * The caller checks first that the two controllers are of one subsystem
 * (nvme_exos_same_subsystem). */
bool nvme_exos_same_namespace(const char *subnqn_a, U32 nsid_a, const struct nvme_ns_ids *ids_a,
                              const char *subnqn_b, U32 nsid_b, bool shared_b,
                              const struct nvme_ns_ids *ids_b);
/* Whether two controllers (SUBNQN, Identify Controller SN and CNTLID)
 * belong to one NVM subsystem: same SUBNQN (not empty) and serial number,
 * distinct CNTLIDs.  One SUBNQN on two drives (a firmware fault) is two
 * subsystems. */
bool nvme_exos_same_subsystem(const char *subnqn_a, const char *sn_a, U16 cntlid_a,
                              const char *subnqn_b, const char *sn_b, U16 cntlid_b);
/* DRVFUNC of the disks. */
UINT NVMeCoreDiskCommands(UINT Function, UINT Parameter);
/* nvme.h result -> DF_RETURN_*. */
UINT nvme_exos_df_result(int rc);
/* The EXOS log level of a core event (nvme.h, enum nvme_event): errors
 * for a removed or dead controller and a failed reset, warnings for a
 * namespace change or a SMART warning, VERBOSE for a reset that worked
 * (the core logs the reason for a recovery reset itself, at WARNING). */
U32 nvme_exos_event_log_type(enum nvme_event ev, uint32_t detail);
/* The EXOS log level of a controller's shutdown report (DF_UNLOAD):
 * LOG_DEBUG (COM2 only) when the write-back and the shutdown worked, else
 * LOG_WARNING.  Not LOG_VERBOSE: EXOS prints those on the console, whose
 * pager stops the shutdown at a full screen, with no key to read. */
U32 nvme_exos_unload_log_type(int sync_rc, int fini_rc);
/* "bb:dd.f" (hex, as lspci prints it) into buf (16 bytes); returns buf. */
char *nvme_exos_pci_name(U8 bus, U8 dev, U8 func, char *buf);
/* Serialises the users of a blk's bounce/scratch buffer: waits at most
 * NVME_EXOS_BLK_LOCK_MS, false when the lock was not had by then (the
 * caller fails its request; EXOS logs the timeout), or as soon as a task
 * EXOS killed is seen holding it, at once or within 20 ms of the kill
 * (nvme_exos_lock_gone, not taken over).  Not recursive. */
bool nvme_exos_blk_lock(struct nvme_exos_blk *blk);
void nvme_exos_blk_unlock(struct nvme_exos_blk *blk);
/* Takes the lock only if no task holds it, without waiting (EXOS's
 * dispatcher task): true when taken. */
bool nvme_exos_blk_trylock(struct nvme_exos_blk *blk);

/* --- nvme_exos_pci.c ---------------------------------------------------------- */

/* The block ops bound to the core (nvme_read, nvme_write, ...). */
extern const struct nvme_exos_blk_ops nvme_exos_core_ops;
extern PCI_DRIVER NVMeCorePCIDriver;
LPDRIVER NVMeCoreGetDriver(void);
/* Controller number `idx` (nvme<idx>), NULL when absent. */
LPNVME_CORE_DEVICE nvme_exos_controller(unsigned idx);
unsigned nvme_exos_controller_count(void);

/* --- nvme_exos_shell.c ----------------------------------------------------------- */

/* Shell entry: `nvmectl [nvmeN] <subcommand> [args]` (`list` without
 * nvmeN: every controller). */
U32 CMD_nvmectl(LPSHELLCONTEXT Context);
/* The same with the argument text (what follows "nvmectl"). */
U32 nvme_exos_shell_run(LPCSTR arguments);

#endif /* NVME_EXOS_H */
