/* SPDX-License-Identifier: MIT */
/*
 * nvme_internal.h - structures shared by the core's source files.
 * Nothing here is part of the public API.
 */
#ifndef NVME_INTERNAL_H
#define NVME_INTERNAL_H

#include "nvme/nvme.h"
#include "nvme/nvme_fmt.h"

/* The core's internal functions are hidden: in a position-independent
 * build, calls and function addresses then stay PC-relative instead of
 * going through the GOT, and the archive needs no outside symbol
 * (_GLOBAL_OFFSET_TABLE_ included); the public API keeps its visibility. */
#pragma GCC visibility push(hidden)

/* The I/O path's helpers are inlined into each caller, for speed; a
 * build optimised for size (-Os, bench/size.sh) lets the compiler choose,
 * so they are not copied into every caller there. */
#ifdef __OPTIMIZE_SIZE__
#define NVME_HOT_INLINE inline
#else
#define NVME_HOT_INLINE inline __attribute__((always_inline))
#endif

/* A field other CPUs read or write without its lock (the lifecycle
 * flags, nvme_qpair_process's look at an empty queue): one load or store
 * of the whole field, never split, merged or kept in a register across a
 * loop.  As Linux's READ_ONCE/WRITE_ONCE, a volatile access, which GCC
 * and Clang make a single access to a naturally aligned field on every
 * ISA; under ThreadSanitizer (NVME_TSAN, tools/run-all-tests.sh step 2c)
 * a relaxed atomic one, so that TSan reports any other access to such a
 * field that is neither marked nor locked.  Ordering, where it matters,
 * has its own barriers or acquire/release pairs. */
#if defined(__SANITIZE_THREAD__) || defined(NVME_TSAN_BUILD)
#define NVME_READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define NVME_WRITE_ONCE(x, v) __atomic_store_n(&(x), (__typeof__(x))(v), __ATOMIC_RELAXED)
#else
#define NVME_READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define NVME_WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (__typeof__(x))(v))
#endif
/* The same for a 64-bit field, whole on 64-bit ISAs; a 32-bit one may
 * tear it (a 64-bit atomic there can be a libatomic call), which its
 * readers must tolerate. */
#if __SIZEOF_POINTER__ == 8
#define NVME_READ_ONCE64(x) NVME_READ_ONCE(x)
#define NVME_WRITE_ONCE64(x, v) NVME_WRITE_ONCE(x, v)
#else
#define NVME_READ_ONCE64(x) (*(volatile uint64_t *)&(x))
#define NVME_WRITE_ONCE64(x, v) (*(volatile uint64_t *)&(x) = (v))
#endif

/* A 64-bit statistic counted as two 32-bit atomic words: the low one,
 * then the high one when the low one wrapped.  No count is lost; a read
 * racing the carry may see the total 2^32 short for that moment.  For
 * 32-bit ISAs, where a 64-bit atomic add can be a libatomic call (gcc
 * makes it one on x86-32 with -mno-80387, as kernels build). */
typedef uint32_t __attribute__((may_alias)) nvme_u32_alias;
static inline void nvme_stat_inc_split(uint64_t *counter)
{
    nvme_u32_alias *w = (nvme_u32_alias *)(void *)counter;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    nvme_u32_alias *lo = &w[1], *hi = &w[0];
#else
    nvme_u32_alias *lo = &w[0], *hi = &w[1];
#endif
    if (__atomic_fetch_add(lo, 1u, __ATOMIC_RELAXED) == 0xffffffffu)
        __atomic_fetch_add(hi, 1u, __ATOMIC_RELAXED);
}

/* A statistic that several CPUs count. */
static inline void nvme_stat_inc(uint64_t *counter)
{
#if __SIZEOF_POINTER__ == 8 /* one instruction (or LL/SC loop) on 64-bit ISAs */
    __atomic_fetch_add(counter, 1u, __ATOMIC_RELAXED);
#else
    nvme_stat_inc_split(counter);
#endif
}

/* ------------------------------------------------------------------ */
/* Tunables                                                            */
/* ------------------------------------------------------------------ */

#define NVME_DEFAULT_ADMIN_ENTRIES 32u
#define NVME_DEFAULT_IO_ENTRIES 256u
/* At most 4096 entries per I/O queue, 4095 commands: CIDs keep 4
 * generation bits above the index, as Linux's (depth at most 4095). */
#define NVME_MAX_IO_ENTRIES 4096u
#define NVME_DEFAULT_CMD_TIMEOUT_MS 30000u   /* Linux io_timeout */
#define NVME_DEFAULT_ADMIN_TIMEOUT_MS 60000u /* Linux admin_timeout */
#define NVME_DEFAULT_LONG_TIMEOUT_MS 600000u /* Format, Sanitize, Device Self-test */
#define NVME_DEFAULT_MAX_RETRIES 5u          /* Linux nvme_max_retries */
#define NVME_NS_STALE_MAX 8u                 /* namespaces a scan names to recovery, else all */
/* Largest transfer per command when MDTS is 0 (no limit) or larger. */
#define NVME_MAX_XFER_BYTES (4u * 1024u * 1024u)
#define NVME_HOST_PAGE_SHIFT 12u   /* CC.MPS is chosen as 4 KiB when allowed */
#define NVME_BAR_MIN_SIZE 16384u   /* BAR0 mapped when the port does not say */
#define NVME_MAX_NAMESPACES 65536u /* bound on enumeration work */
/* Without the Active Namespace ID list each NSID 1..NN costs an Identify,
 * present or not: a device claiming NN = 2^32-2 would cost billions.
 * Drives old enough to lack the list have a handful of namespaces. */
#define NVME_MAX_NS_PROBE 1024u
/* Register polling back-off (enable, disable, shutdown): 1 us doubling
 * up to 1 ms.  Command waits never back off (lifecycle rule 2). */
#define NVME_POLL_MAX_SLEEP_US 1000u
/* A blocking call with interrupts and an OSAL wait() sleeps at most this
 * long before it looks at the queue itself (a lost interrupt costs that). */
#define NVME_WAIT_SLICE_US 1000u
/* PRP list pages preallocated per I/O queue: enough for this many
 * maximum-size commands in flight (prp.c). */
#define NVME_PRP_POOL_CMDS 16u
/* Shutdown: wait at most this long for CSTS.SHST when RTD3E is 0, and
 * never longer than NVME_SHUTDOWN_MAX_MS whatever RTD3E says (Linux:
 * RTD3E clamped between its shutdown_timeout of 5 s and 60 s). */
#define NVME_SHUTDOWN_TIMEOUT_MS 5000u
#define NVME_SHUTDOWN_MAX_MS 60000u
/* Recovery: restart attempts per reset before the controller is dead. */
#define NVME_RESET_ATTEMPTS 2u
/* Asynchronous Event Requests kept outstanding: AERL+1, at most this. */
#define NVME_AER_MAX 4u
#define NVME_AER_EVENTS 16u /* events queued for nvme_ctrl_service() */

/* ------------------------------------------------------------------ */
/* Command slots and queue pairs (qpair.c)                             */
/* ------------------------------------------------------------------ */

enum nvme_slot_state {
    NVME_SLOT_FREE = 0,
    NVME_SLOT_ACTIVE = 1,     /* submitted: the device owns the buffer */
    NVME_SLOT_RETRY_WAIT = 2, /* completed with a retryable status; resubmitted once its
                                 Command Retry Delay passed (recovery.c) */
    NVME_SLOT_REPLAY = 3      /* reclaimed after a stop; resubmitted once the queues are
                                 rebuilt, or failed (recovery.c) */
};

/* Internal submit flags (above the public NVME_SUBMIT_* bits) */
#define NVME_CMD_NO_TIMEOUT (1u << 8) /* Asynchronous Event Request */
#define NVME_CMD_LONG (1u << 9)       /* long admin timeout */
#define NVME_CMD_REPLAY (1u << 10)    /* may be replayed after a reset (I/O) */
#define NVME_CMD_NO_RETRY                                                                          \
    (1u << 11) /* admin passthrough, zoned write: never re-sent for a status */
/* nvme_cmd_slot.flags */
#define NVME_SLOT_F_NO_TIMEOUT 0x01u
#define NVME_SLOT_F_LONG 0x02u
#define NVME_SLOT_F_REPLAY 0x04u
#define NVME_SLOT_F_ABORTED 0x08u   /* an Abort was sent for it */
#define NVME_SLOT_F_TIMED_OUT 0x10u /* it passed a deadline at least once */
/* buf/len is one mapped piece, no PRP list: the completion unmaps it in
 * place (the fast path) */
#define NVME_SLOT_F_SIMPLE 0x20u
#define NVME_SLOT_F_NO_RETRY 0x40u
/* waiting past a shrunk queue's depth for a slot (nvme_qpair_set_entries):
 * its deadline runs from when it began to wait; on an active slot,
 * recovery.c's NVME_SLOT_F_HELD (a pause held its deadline) */
#define NVME_SLOT_F_PARKED 0x80u

/* A PRP list page from the queue pair's pool (prp.c). */
struct nvme_prp_page {
    uint64_t *va;
    uint64_t bus;
    struct nvme_prp_page *next;
};

/* Per-CID bookkeeping: the CID is the slot's index plus generation bits.
 * The SQE is kept so a retry or a replay resubmits the very same command
 * (same PRPs: the buffer stays mapped until the slot is released).  The
 * fields after the SQE are the ones a submission writes and a completion
 * reads, together.  In every free slot prp_pages is NULL (prp.c) and SQE
 * words 1, 2, 4 and 7 are zero (nvme_slot_release), so the I/O fast path
 * writes only the other four.  128 bytes: indexing is a shift. */
struct nvme_cmd_slot {
    union { /* the words, for copies without memcpy or aliasing games */
        struct nvme_sqe sqe;
        uint64_t sqe_q[8];
    };
    nvme_cmd_cb cb;
    void *arg;
    void *buf;                       /* mapped data buffer, for unmap */
    struct nvme_prp_page *prp_pages; /* list pages this command owns */
    uint32_t len;
    uint32_t expire; /* tick at which its deadline has passed, or its retry is due */
    uint32_t seq;    /* submission order, for replays */
    uint16_t cid;    /* CID of its current submission (index + generation) */
    uint16_t next_free;
    union {
        struct {
            uint8_t dir;
            uint8_t state;
            uint8_t retries; /* retries and replays so far */
            uint8_t flags;   /* NVME_SLOT_F_* */
        };
        uint32_t ctl; /* the four at once (little-endian, like the whole core) */
    };
    uint32_t stamp; /* the tick expire was counted from (nvme_slot_deadline) */
    uint8_t pad_[40u - 4u * sizeof(void *)];
};
_Static_assert(sizeof(struct nvme_cmd_slot) == 128, "slot size");
#define NVME_SLOT_CTL(dir, state, retries, flags)                                                  \
    ((uint32_t)(dir) | ((uint32_t)(state) << 8) | ((uint32_t)(retries) << 16) |                    \
     ((uint32_t)(flags) << 24))

struct nvme_qpair {
    struct nvme_ctrl *ctrl;
    uint16_t qid;
    uint16_t entries; /* ring size of both SQ and CQ */
    uint16_t vector;  /* interrupt vector of the CQ */
    bool irq;         /* CQ created with interrupts enabled */
    bool live;        /* created on the controller and accepting commands */

    struct nvme_sqe *sq;
    uint64_t sq_bus;
    struct nvme_cqe *cq;
    uint64_t cq_bus;
    uint32_t sq_tdbl; /* doorbell offsets, CAP.DSTRD applied */
    uint32_t cq_hdbl;

    /* The SQ never overflows without reading SQHD: at most nslots =
     * entries - 1 commands are in flight, each holding at most one SQ
     * entry, and every entry between the device's head and our tail
     * belongs to one of them (§4.1.2). */
    uint16_t sq_tail;
    uint16_t sq_tail_rung; /* last tail written to the doorbell */
    uint16_t cq_head;
    uint16_t cq_head_rung; /* last head written (shadow doorbells) */
    uint8_t phase;         /* expected phase tag of the next new CQE */
    uint8_t sqe_shift;     /* log2 of the SQ entry size: 6, or 7 (CC.IOSQES, Apple) */
    uint8_t cid_bits;      /* low CID bits that index the slot table */
    uint8_t sqhd_warned;   /* an SQHD past the ring was logged since the rings were reset */
    uint16_t cid_idx_mask; /* (CID - cid_base) & mask = slot index */
    uint16_t cid_base;     /* first CID: above the admin queue's with SHARED_TAGS */
    uint16_t cid_step;     /* added to a slot's CID on each (re)submission: one
                              generation (1 << cid_bits), 0 with SKIP_CID_GEN */

    struct nvme_cmd_slot *slots; /* entries - 1 slots */
    uint16_t nslots;
    uint16_t free_head;     /* NVME_NO_SLOT when none */
    uint16_t outstanding;   /* slots not FREE */
    uint32_t timeout_ticks; /* deadline of its commands, in ticks */
    uint32_t seq;           /* submission counter (slot.seq) */
    uint16_t in_callback;   /* its callbacks running, without ctrl->cb_depth (lock held) */
    const struct nvme_ns_info *ns_cache; /* namespace of the last I/O (io.c), or &ctrl->ns_none */

    struct nvme_prp_page *prp_pool; /* free PRP list pages */
    void *lock;

    /* Shadow doorbells (§5.7, Doorbell Buffer Config), NULL when unused:
     * this queue's SQ tail / CQ head entries in the shadow buffer and in
     * the controller's EventIdx buffer. */
    volatile uint32_t *sdb_sq, *sdb_cq;
    const volatile uint32_t *ei_sq, *ei_cq;

    /* As allocated: a reset after which CAP.MQES is smaller creates the
     * queue with fewer entries (nvme_qpair_set_entries); the ring memory
     * and the slot table keep their size. */
    uint16_t ring_entries;
    uint16_t nslots_alloc;
    /* Commands to replay that the smaller queue did not hold: REPLAY
     * slots from nslots up to nslots_alloc, never on the free list; each
     * slot freed below nslots goes to the oldest (nvme_qpair_unpark). */
    uint16_t parked;
};

#define NVME_NO_SLOT 0xffffu

/* ------------------------------------------------------------------ */
/* Controller                                                          */
/* ------------------------------------------------------------------ */

struct nvme_ns_table; /* ns.c */

/* A piece of the Host Memory Buffer as the core allocated it (hmb.c). */
struct nvme_hmb_chunk {
    void *mem;
    uint64_t bus;
    uint32_t len; /* bytes, a whole number of memory pages */
};

struct nvme_ctrl {
    uint32_t magic; /* NVME_CTRL_MAGIC while alive (checked with NVME_DEBUG) */
    struct nvme_osal osal;
    struct nvme_ctrl_opts opts;
    struct nvme_ctrl_info info;
    struct nvme_ctrl_stats stats;
    uint32_t trace;
    uint32_t dstrd;
    uint32_t page_shift; /* CC.MPS + 12 */
    uint32_t page_size;
    uint32_t page_mask;        /* page_size - 1, for the fast paths */
    uint32_t one_mask;         /* min(page, MDTS) - 1: PRP1 alone within MDTS (io.c) */
    uint32_t timeout_ms;       /* from CAP.TO (after quirks) */
    uint32_t ready_timeout_ms; /* CSTS.RDY 0 -> 1: CAP.TO, or CRTO.CRWMT when larger */
    uint64_t enabled_at_us;    /* our last CC.EN=1 (0: none), nvme_ctrl_disable */
    uint32_t rtd3e_us;
    uint16_t crdt[3];          /* Command Retry Delay Times, 100 ms units */
    uint16_t ocfs;             /* Optional Copy Formats Supported */
    uint16_t db_io_queues_max; /* I/O queues with their doorbells in the BAR (CAP.DSTRD) */
    uint8_t acl;               /* Abort Command Limit, 0-based */
    uint8_t aerl;              /* Asynchronous Event Request Limit, 0-based */
    uint32_t oaes;             /* Optional Asynchronous Events Supported */
    uint32_t quirks;
    uint8_t max_retries;
    uint8_t io_sqes;     /* CC.IOSQES: 6, or 7 with NVME_QUIRK_128_BYTES_SQES */
    uint16_t tag_shared; /* SHARED_TAGS: CIDs below this are the admin queue's */
    /* Issue 9: what the management and command-set calls need */
    uint32_t cc_css; /* CC.CSS written at enable: NVME_CC_CSS_NVM or _IOCS */
    uint8_t elpe;    /* Error Log Page Entries, 0-based */
    uint8_t fna, frmw, fwug;
    uint16_t mtfa; /* Maximum Time for Firmware Activation, 100 ms units, 0: not given */
    uint32_t sanicap;
    /* Firmware Image Download (mgmt.c): the byte just past the image
     * the last call sent (0: none open) and the resets counted when its
     * last piece was taken; a reset in between discards the image. */
    uint32_t fw_next;
    uint64_t fw_resets;
    uint32_t hmpre, hmmin, hmminds; /* Host Memory Buffer, 4 KiB units */
    uint16_t hmmaxd;                /* its most descriptors, 0: no limit */
    uint32_t zasl_bytes;            /* ZNS Zone Append Size Limit, 0: mdts_bytes */
    uint32_t mdts_bytes_first;      /* mdts_bytes at bring-up: a reset only lowers it */
    /* NVM Command Set Identify Controller (CNS 06h CSI 00h), read at
     * bring-up and every restart (nvme_refresh_identify); 0: no limit (or
     * not reported) */
    uint8_t vsl;         /* Verify Size Limit, 2^n * MPSMIN bytes */
    uint8_t wzsl;        /* Write Zeroes Size Limit, likewise */
    uint8_t wusl;        /* Write Uncorrectable Size Limit, likewise */
    uint8_t dmrl;        /* DSM deallocate: most ranges */
    uint32_t dmrsl;      /* DSM deallocate: most blocks in a range */
    uint64_t dmsl;       /* DSM deallocate: most blocks in all ranges */
    uint16_t iocs_index; /* I/O Command Set Profile vector in use */

    /* Lifecycle state (recovery.c) */
    bool ready;            /* queues live, commands may be submitted */
    bool up;               /* bring-up finished: errors start recovery */
    bool in_recovery;      /* a reset is running: waits do not recurse */
    unsigned recovery_cpu; /* the CPU running it (OSAL cpu_id; 0 without) */
    bool intx_hold;        /* INTx left masked: stopped queues hold completions (recovery.c) */
    bool gone;             /* registers read all ones: never write them again */
    uint32_t gone_told;    /* logged and event sent for it (atomic flag) */
    bool dead;             /* recovery failed; nvme_ctrl_reset() may revive it */
    bool dma_cut;          /* the OSAL's dma_stop ran: dma_resume before CC.EN=1 */
    bool stopping;         /* nvme_ctrl_fini: no retries, no recovery */
    int shutdown_rc;       /* the last nvme_ctrl_shutdown's result (fini's answer) */

    /* Deadlines in ticks (recovery.c): a tick passes at most every
     * tick_us, counted only by the calls that look at the clock. */
    uint32_t tick;
    uint32_t tick_us;
    uint64_t next_tick_us; /* read unlocked: NVME_READ_ONCE64 */
    uint32_t jump_from;    /* the tick before the last advance (nvme_tick_due) */
    uint32_t jump;         /* ticks that advance added beyond one */
    uint32_t io_timeout_ticks;
    uint32_t abort_ticks;
    uint32_t long_ticks;
    uint32_t aborts_outstanding; /* atomic: Abort callbacks run on any CPU */
    uint32_t checking;           /* a CPU runs a tick's checks (atomic flag) */
    uint32_t csts_seen;          /* CSTS as nvme_ctrl_check_csts last read it */
    bool paused;                 /* CSTS.PP seen set at the last tick */
    uint32_t paused_until;       /* tick after which a pause no longer holds deadlines */
    uint64_t paused_seen_us;     /* next_tick_us of the last tick that saw it */

    /* Doorbell Buffer Config (§5.7): dbbuf_bytes each (whole pages, as
     * many as the queues' entries need at CAP.DSTRD), NULL when unused. */
    uint32_t *dbbuf_db, *dbbuf_ei;
    uint64_t dbbuf_db_bus, dbbuf_ei_bus;
    uint32_t dbbuf_bytes;

    /* Host Memory Buffer (hmb.c; §8, Host Memory Buffer): hmb_count chunks,
     * hmb_bytes in all, named by the descriptor list (written from
     * hmb_chunk at each enable: the device can write it); the controller's
     * while hmb_on (and until it is stopped), so freed only by
     * nvme_ctrl_release, by a refit at a restart, or once refused. */
    struct nvme_hmb_desc *hmb_descs; /* a page; NULL: no buffer */
    uint64_t hmb_descs_bus;
    struct nvme_hmb_chunk *hmb_chunk;
    uint32_t hmb_count, hmb_cap;
    uint64_t hmb_bytes;
    bool hmb_on;    /* Set Features EHM=1 done, not yet undone */
    bool hmb_given; /* taken once: later enables return it (MR) */
    /* Identify's HMPRE/HMMIN/HMMINDS/HMMAXD changed (a new firmware):
     * the buffer is fitted to them at the next restart (nvme_hmb_refit). */
    bool hmb_recheck;

    struct nvme_qpair admin;
    struct nvme_qpair *ioq; /* ioq[i].qid == i + 1; info.io_queues are live */
    uint16_t nr_ioq;        /* allocated and initialised */
    uint16_t ioq_cap;       /* array length */
    /* With the OSAL's cpu_id and opts.cpus > 1: completion callbacks
     * running on each CPU (nvme_cb_enter), else NULL. */
    uint32_t *cb_depth;
    uint16_t cb_cpus;

    struct nvme_ns_table *ns_table;   /* active namespaces (ns.c) */
    struct nvme_ns_table *ns_retired; /* replaced tables a lookup may still read */
    /* What an I/O queue's namespace cache (qp->ns_cache, io.c) holds
     * before a lookup found one, so that it is never NULL: no namespace
     * has NSID 0 (§6.1.2), and its status says there is none. */
    struct nvme_ns_info ns_none;
    uint32_t ns_readers;          /* atomic: lookups reading a table (nvme_ns_read_begin) */
    struct nvme_ns_info **ns_all; /* every namespace object ever made */
    unsigned ns_all_count, ns_all_cap;
    uint32_t ns_gen;
    uint32_t ns_scanning; /* atomic flag: a CPU is in nvme_ns_scan */
    uint32_t ns_frozen;   /* atomic: Formats or Sanitizes running (nvme_ns_freeze): namespaces
                             kept BUSY, I/O refused under each queue's lock */
    uint32_t ns_epoch;    /* atomic: nvme_ns_epoch_read */
    uint32_t io_gate;     /* atomic: NVME_GATE_OPEN when ready, not frozen, no traces */
    /* Namespaces the scan under way found with another format or
     * identity, or gone (nvme_ns_commit; under the scan flag): their held
     * commands are dropped after it (nvme_recovery_ns_changed). */
    uint32_t ns_stale[NVME_NS_STALE_MAX];
    unsigned ns_stale_n; /* past NVME_NS_STALE_MAX: every namespace */

    /* Asynchronous events (aer.c) */
    uint32_t aer_outstanding; /* atomic: counted and completed on any CPU */
    uint32_t aer_arming;      /* atomic flag: a CPU is in nvme_aer_arm */
    uint16_t aer_limit;       /* one less per AER failed with a status, until a restart */
    uint16_t aer_max;         /* AERL+1, capped (nvme_aer_max): aer_limit at every restart */
    uint32_t aer_events[NVME_AER_EVENTS];
    uint8_t aer_head, aer_count;
    bool aer_lost;         /* events overflowed, or an event's rescan failed: rescan everything */
    bool aer_again;        /* the first queued event was put back once (its log page lost) */
    bool ns_recheck;       /* a restart: rescan at the next service (nvme_aer_service) */
    bool aer_resv_more;    /* Reservation Notification pages left at the bound: read next call */
    bool aer_resv_retried; /* that read was lost once on the host side (nvme_aer_resv) */
    uint64_t aer_resv_lpc; /* Log Page Count of the last page read before aer_resv_more */

    uint64_t irq_count;
#ifdef NVME_DEBUG
    struct nvme_ctrl *live_next; /* the live controllers (handle.c); last: same offsets above */
#endif
};

#define NVME_CTRL_MAGIC 0x4e564d45u /* "NVME" */

/* The I/O fast path's gate: ready, ns_frozen and trace in one word, so
 * that a submission looks at one field instead of three (nvme_qpair_submit_rw;
 * anything but NVME_GATE_OPEN sends it the general way, which looks at
 * each).  Written with each of them, in the same place and by atomic
 * read-modify-writes (several CPUs change its parts): ready and trace as
 * bits, and each freeze adds NVME_GATE_FROZEN until its thaw.  A zeroed
 * controller is not ready: closed. */
#define NVME_GATE_READY 0x1u
#define NVME_GATE_TRACE 0x2u
#define NVME_GATE_FROZEN 0x100u
#define NVME_GATE_OPEN NVME_GATE_READY
static inline void nvme_gate_bit(struct nvme_ctrl *ctrl, uint32_t bit, bool on)
{
    if (on)
        __atomic_fetch_or(&ctrl->io_gate, bit, __ATOMIC_RELAXED);
    else
        __atomic_fetch_and(&ctrl->io_gate, ~bit, __ATOMIC_RELAXED);
}
static inline void nvme_set_ready(struct nvme_ctrl *ctrl, bool ready)
{
    NVME_WRITE_ONCE(ctrl->ready, ready);
    nvme_gate_bit(ctrl, NVME_GATE_READY, ready);
}
static inline void nvme_set_trace(struct nvme_ctrl *ctrl, uint32_t mask)
{
    NVME_WRITE_ONCE(ctrl->trace, mask);
    nvme_gate_bit(ctrl, NVME_GATE_TRACE, mask != 0);
}

/* n / d, and n % d in *rem unless NULL (d != 0), by long division: no
 * 64-bit divide on i686 and no libgcc (util.c). */
uint64_t nvme_u64_divmod(uint64_t n, uint64_t d, uint64_t *rem);

/* x / 10 for every 32-bit x: a multiply by 2^35 / 10 rounded up and a
 * shift (Granlund and Montgomery, "Division by invariant integers using
 * multiplication", 1994).  Compilers do this themselves at -O2, but at -Os
 * 32-bit ARM calls libgcc's __aeabi_uidiv or __aeabi_idivmod, which the
 * core does not link. */
static inline uint32_t nvme_div10(uint32_t x)
{
    return (uint32_t)(((uint64_t)x * 0xCCCCCCCDu) >> 35);
}

/* n / d and n % d on 32 bits (d != 0).  ARMv7-A cores without the divide
 * extension (Cortex-A8, A9: __ARM_FEATURE_IDIV unset) have no divide
 * instruction, and the compiler would call libgcc's __aeabi_uidiv, which
 * the core does not link: there, long division (NVME_SOFT_DIVIDE, which a
 * port may also set); elsewhere the instruction. */
#if defined(__arm__) && !defined(__ARM_FEATURE_IDIV) && !defined(NVME_SOFT_DIVIDE)
#define NVME_SOFT_DIVIDE 1
#endif
static inline uint32_t nvme_div32(uint32_t n, uint32_t d)
{
#ifdef NVME_SOFT_DIVIDE
    return n < d ? 0u : (uint32_t)nvme_u64_divmod(n, d, NULL);
#else
    return n / d;
#endif
}
static inline uint32_t nvme_mod32(uint32_t n, uint32_t d)
{
#ifdef NVME_SOFT_DIVIDE
    uint64_t r = n;
    if (n >= d)
        (void)nvme_u64_divmod(n, d, &r);
    return (uint32_t)r;
#else
    return n % d;
#endif
}

/* True while a completion callback of this controller runs (on any CPU):
 * teardown and recovery do not start from inside one (recovery.c). */
bool nvme_in_callback(const struct nvme_ctrl *ctrl);

/* Around a completion callback (nvme_in_callback): counted for its
 * queue under the queue's lock, or, telling CPUs apart, for its CPU, with
 * an atomic (a callback that migrates ends on another CPU; nested calls
 * it makes there are then not caught).  Returns what nvme_cb_leave takes. */
static inline uint32_t *nvme_cb_enter(struct nvme_ctrl *ctrl, struct nvme_qpair *qp)
{
    if (__builtin_expect(ctrl->cb_depth == NULL, 1)) {
        qp->in_callback++;
        return NULL;
    }
    uint32_t *d = &ctrl->cb_depth[nvme_mod32(ctrl->osal.cpu_id(ctrl->osal.ctx), ctrl->cb_cpus)];
    __atomic_fetch_add(d, 1u, __ATOMIC_RELAXED);
    return d;
}
static inline void nvme_cb_leave(struct nvme_qpair *qp, uint32_t *d)
{
    if (__builtin_expect(d == NULL, 1))
        qp->in_callback--;
    else
        __atomic_fetch_sub(d, 1u, __ATOMIC_RELAXED);
}

/* Entry check of the public calls (nvme.h, lifecycle rule 7): with
 * NVME_DEBUG a handle that is not a live controller returns `err`. */
#ifdef NVME_DEBUG
/* handle.c */
void nvme_handle_register(struct nvme_ctrl *ctrl, bool live);
bool nvme_handle_ok(const struct nvme_ctrl *ctrl);
#define NVME_HANDLE_CHECK(ctrl, err)                                                               \
    do {                                                                                           \
        if ((ctrl) != NULL && !nvme_handle_ok(ctrl))                                               \
            return (err);                                                                          \
    } while (0)
#else
#define nvme_handle_register(ctrl, live) ((void)(ctrl), (void)(live))
#define NVME_HANDLE_CHECK(ctrl, err) ((void)(ctrl))
#endif

/* Quirks: the NVME_QUIRK_* bits are public (nvme.h), the table is ctrl.c's. */
/* Linux's NVME_QUIRK_DELAY_AMOUNT: 2.3 s after CC.EN=0 before CSTS.RDY is looked at. */
#define NVME_QUIRK_DELAY_MS 2300u

/* ------------------------------------------------------------------ */
/* Internal functions                                                  */
/* ------------------------------------------------------------------ */

/* util.c: freestanding replacements for the few libc bits we need
 * (nvme_memzero, nvme_memcpy, nvme_strlen, nvme_streq and
 * nvme_divmod10_limbs are public: nvme/nvme_fmt.h; nvme_u64_divmod is
 * above, with the 32-bit divides). */
/* Whether the n bytes at a and b are equal (no memcmp call). */
bool nvme_bytes_eq(const void *a, const void *b, size_t n);
/* Copies an Identify ASCII field, dropping trailing blanks/NULs and
 * replacing non-printable bytes with '.'; dst holds n+1 bytes. */
void nvme_copy_id_string(char *dst, const char *src, size_t n);
/* fmt.c: nvme_vsnprintf/nvme_snprintf, public in nvme/nvme_fmt.h (included above). */

/* A direction a caller gave (the passthrough calls): one of the three of
 * enum nvme_dma_dir, the only values the OSAL's dma_map takes. */
static inline bool nvme_dma_dir_ok(enum nvme_dma_dir dir)
{
    return dir == NVME_DMA_TO_DEVICE || dir == NVME_DMA_FROM_DEVICE ||
           dir == NVME_DMA_BIDIRECTIONAL;
}

/* A passthrough buffer's dir against the opcode's bits 1:0 (NVMe 2.0
 * §5, Figure 138: 01b host to controller, 10b controller to host, 11b both): the
 * device moves the data that way whatever the host mapped, so a buffer
 * mapped the other way would be written where the device may only read. */
static inline bool nvme_dma_dir_fits_opc(uint8_t opc, enum nvme_dma_dir dir)
{
    return (!(opc & 1u) || ((unsigned)dir & NVME_DMA_TO_DEVICE) != 0) &&
           (!(opc & 2u) || ((unsigned)dir & NVME_DMA_FROM_DEVICE) != 0);
}

/* Size of a feature's data structure (nvme_feature_data_len, public in
 * identify.c); here so that recovery.c's dword-only calls refuse the same
 * features without an upward call. */
static inline uint32_t nvme_feat_data_bytes(uint8_t fid)
{
    switch (fid) {
    case NVME_FEAT_LBA_RANGE:
    case NVME_FEAT_HOST_MEM_BUF: /* Get: the attributes; Set is the core's (hmb.c) */
    case NVME_FEAT_ENH_CTRL_METADATA:
    case NVME_FEAT_CTRL_METADATA:
    case NVME_FEAT_NS_METADATA:
        return 4096u;
    case NVME_FEAT_PLM_CONFIG:
    case NVME_FEAT_FDP_EVENTS:
        return 512u;
    case NVME_FEAT_APST:
        return NVME_FEAT_APST_DATA_SIZE;
    case NVME_FEAT_TIMESTAMP:
        return NVME_FEAT_TIMESTAMP_DATA_SIZE;
    case NVME_FEAT_HOST_BEHAVIOR:
        return NVME_FEAT_HOST_BEHAVIOR_DATA_SIZE;
    case NVME_FEAT_HOST_ID: /* 16 bytes with EXHID, else the first 8 */
        return NVME_FEAT_HOST_ID_DATA_SIZE;
    default:
        return 0;
    }
}

/* An SQE copied field by field: a struct assignment may become a call to
 * memcpy (clang does so at -O0), which a freestanding core must not need;
 * larger structs go through nvme_memcpy, initializers through nvme_memzero. */
static inline void nvme_sqe_copy(struct nvme_sqe *d, const struct nvme_sqe *s)
{
    d->opc = s->opc;
    d->flags = s->flags;
    d->cid = s->cid;
    d->nsid = s->nsid;
    d->cdw2 = s->cdw2;
    d->cdw3 = s->cdw3;
    d->mptr = s->mptr;
    d->prp1 = s->prp1;
    d->prp2 = s->prp2;
    d->cdw10 = s->cdw10;
    d->cdw11 = s->cdw11;
    d->cdw12 = s->cdw12;
    d->cdw13 = s->cdw13;
    d->cdw14 = s->cdw14;
    d->cdw15 = s->cdw15;
}

/* trace.c */
void nvme_log(struct nvme_ctrl *ctrl, enum nvme_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#ifdef NVME_NO_LOG
/* NVME_LOG=OFF: no message is formatted or passed to the OSAL's log();
 * the call stays in the source, dead, so its arguments still count as
 * used and are still type-checked against the format.  Errors are
 * returned as before, only their text is gone. */
#define nvme_log(ctrl, level, ...)                                                                 \
    do {                                                                                           \
        if (0)                                                                                     \
            nvme_log(ctrl, level, __VA_ARGS__);                                                    \
    } while (0)
#endif
#define nvme_trace_on(ctrl, bit) (((ctrl)->trace & (bit)) != 0 && (ctrl)->osal.log != NULL)
#ifdef NVME_NO_TRACE
#define NVME_TRACE(ctrl, bit, ...) ((void)(ctrl))
#else
#define NVME_TRACE(ctrl, bit, ...)                                                                 \
    do {                                                                                           \
        if (nvme_trace_on(ctrl, bit))                                                              \
            nvme_log(ctrl, NVME_LOG_TRACE, __VA_ARGS__);                                           \
    } while (0)
#endif
void nvme_trace_sqe(struct nvme_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *sqe);
void nvme_trace_cqe(struct nvme_ctrl *ctrl, uint16_t qid, const struct nvme_cqe *cqe);

/* Set Features Keep Alive Timer (0Fh) with a KATO other than 0: the core
 * sends no Keep Alive command, so the controller's timer would expire and
 * it would stop processing commands and set CSTS.CFS (NVMe 1.4 Keep Alive;
 * the Keep Alive Timer feature, KATO, §5.21.1.15); refused, logged (KATO 0,
 * which turns the timer off, is sent).  Every way to Set Features asks this
 * (recovery.c, identify.c, mgmt.c). */
static inline bool nvme_feat_set_refused_kato(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11)
{
    if (fid != NVME_FEAT_KEEP_ALIVE || cdw11 == 0)
        return false;
    nvme_log(ctrl, NVME_LOG_ERROR,
             "Keep Alive Timer %u ms: the core sends no Keep Alive, the controller would "
             "fail when it expires: refused",
             cdw11);
    return true;
}

/* regs.c: register access (traced), device state, enable/disable. */
uint32_t nvme_reg_read32(struct nvme_ctrl *ctrl, uint32_t off);
void nvme_reg_write32(struct nvme_ctrl *ctrl, uint32_t off, uint32_t val);
uint64_t nvme_reg_read64(struct nvme_ctrl *ctrl, uint32_t off);
void nvme_reg_write64(struct nvme_ctrl *ctrl, uint32_t off, uint64_t val);
/* Reads CSTS (kept in ctrl->csts_seen): NVME_ERR_GONE for all ones,
 * NVME_ERR_FATAL for CFS, else 0. */
int nvme_ctrl_check_csts(struct nvme_ctrl *ctrl);
uint64_t nvme_now_us(struct nvme_ctrl *ctrl);
/* Reads and checks CAP (and CRTO): bring-up, and again before each
 * enable of a reset (`again`: the page size and command sets in use must
 * still be allowed). */
int nvme_ctrl_read_caps(struct nvme_ctrl *ctrl, bool again);
/* Waits, at most timeout_ms, for CSTS to read other than all ones (the
 * link back after an NVM Subsystem Reset); NVME_ERR_GONE if it never does. */
int nvme_ctrl_wait_present(struct nvme_ctrl *ctrl, uint32_t timeout_ms);
/* recovery.c: frees the shadow doorbell and EventIdx buffers and, unless
 * `bytes` is 0, allocates both anew that large (page aligned); only while
 * the controller does not use them.  NVME_ERR_NOMEM: none left. */
int nvme_dbbuf_resize(struct nvme_ctrl *ctrl, uint32_t bytes);
/* Clears CC.EN and waits for CSTS.RDY=0, letting an enable in progress
 * finish first (§3.1.5). */
int nvme_ctrl_disable(struct nvme_ctrl *ctrl);
/* Programs AQA/ASQ/ACQ and CC, sets EN, waits for RDY. */
int nvme_ctrl_enable(struct nvme_ctrl *ctrl);
/* Stops the controller so that it no longer touches memory: disable, and
 * the OSAL's dma_stop when it will not stop or its registers read all
 * ones.  Returns 0 (stopped), NVME_ERR_GONE (registers all ones: cut off
 * when the port has dma_stop), NVME_ERR_FATAL (would not stop,
 * dma_stop cut it off: buffers safe, but CC.EN must not be set again,
 * §3.1.5), or the disable's error when there was no dma_stop. */
int nvme_ctrl_stop(struct nvme_ctrl *ctrl);
/* The OSAL's dma_stop, remembered so that nvme_ctrl_enable calls its
 * dma_resume first.  False when the port has no dma_stop. */
bool nvme_dma_cut(struct nvme_ctrl *ctrl);
/* nvme_ctrl_stop's result says the controller touches no memory any more
 * (stopped, or cut off by dma_stop), so the completion entries it posted
 * before are final: nvme_qpair_harvest may take them (a vanished one's
 * too, before its queues are failed back: nvme_recovery_gone). */
static inline bool nvme_ctrl_stopped(int stop_rc)
{
    return stop_rc == NVME_OK || stop_rc == NVME_ERR_FATAL;
}
/* CC.SHN=01b and wait for CSTS.SHST complete (§7.6.2). */
int nvme_ctrl_shutdown(struct nvme_ctrl *ctrl);

/* cmd.c: builders of the SQEs the core sends. */
void nvme_sqe_init(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid);
void nvme_sqe_create_cq(struct nvme_sqe *sqe, const struct nvme_qpair *qp);
void nvme_sqe_create_sq(struct nvme_sqe *sqe, const struct nvme_qpair *qp);
void nvme_sqe_delete_queue(struct nvme_sqe *sqe, uint8_t opc, uint16_t qid);
void nvme_sqe_abort(struct nvme_sqe *sqe, uint16_t sqid, uint16_t cid);
void nvme_sqe_get_log(struct nvme_sqe *sqe, uint8_t lid, uint32_t nsid, uint32_t len);
/* Report Zones of len bytes from the zone holding lba (Partial Report). */
void nvme_sqe_zone_report(struct nvme_sqe *sqe, uint32_t nsid, uint64_t lba, uint32_t len);
/* Read/Write (§6.9, §6.15): SLBA in CDW10-11, 0-based NLB in CDW12[15:0].
 * Every field written, no zeroing pass: it is on the I/O path. */
static inline void nvme_sqe_rw(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t lba,
                               uint32_t count)
{
    sqe->opc = opc;
    sqe->flags = 0;
    sqe->cid = 0;
    sqe->nsid = nsid;
    sqe->cdw2 = sqe->cdw3 = 0;
    sqe->mptr = sqe->prp1 = sqe->prp2 = 0;
    sqe->cdw10 = (uint32_t)lba;
    sqe->cdw11 = (uint32_t)(lba >> 32);
    sqe->cdw12 = (count - 1u) & 0xffffu;
    sqe->cdw13 = sqe->cdw14 = sqe->cdw15 = 0;
}

/* qpair.c: rings, doorbells, slots.  It never decides a reset. */
int nvme_qpair_alloc(struct nvme_ctrl *ctrl, struct nvme_qpair *qp, uint16_t qid, uint16_t entries);
void nvme_qpair_free(struct nvme_qpair *qp);
/* Resets ring indexes and zeroes the rings before a (re)creation.  Slots
 * are left alone: recovery.c reclaims or replays them. */
void nvme_qpair_reset_rings(struct nvme_qpair *qp);
/* Submission in two steps, so a command is built in place in its slot:
 * nvme_qpair_begin takes the queue lock and a free slot (NULL and *rc
 * when the queue is not live or full, lock released); the caller fills
 * slot->sqe; nvme_qpair_commit maps the buffer (PRPs), puts the SQE on
 * the ring, rings unless NVME_SUBMIT_NO_DOORBELL, and unlocks. */
struct nvme_cmd_slot *nvme_qpair_begin(struct nvme_qpair *qp, uint32_t epoch, int *rc);
int nvme_qpair_commit(struct nvme_qpair *qp, struct nvme_cmd_slot *slot, void *buf, uint32_t len,
                      enum nvme_dma_dir dir, unsigned flags, nvme_cmd_cb cb, void *arg);
/* The I/O fast path's slow half: nvme_qpair_submit_rw (below) hands it
 * every case it does not take itself; it goes through begin/commit. */
int nvme_qpair_submit_rw_slow(struct nvme_qpair *qp, uint32_t epoch, uint8_t opc, uint32_t nsid,
                              uint64_t lba, uint32_t count, void *buf, uint32_t len, unsigned flags,
                              nvme_cmd_cb cb, void *arg);
/* Submits a copy of `sqe` (CID and PRPs filled in here) with data buffer
 * buf/len (may be NULL/0).  flags: NVME_SUBMIT_NO_DOORBELL, NVME_CMD_*.
 * epoch: the namespace epoch its checks read (nvme_ns_epoch_read), or
 * NVME_NS_EPOCH_ANY (nvme_qpair_submit) for a command whose length
 * depends on no namespace's format. */
int nvme_qpair_submit_epoch(struct nvme_qpair *qp, uint32_t epoch, const struct nvme_sqe *sqe,
                            void *buf, uint32_t len, enum nvme_dma_dir dir, unsigned flags,
                            nvme_cmd_cb cb, void *arg);
int nvme_qpair_submit(struct nvme_qpair *qp, const struct nvme_sqe *sqe, void *buf, uint32_t len,
                      enum nvme_dma_dir dir, unsigned flags, nvme_cmd_cb cb, void *arg);
/* Puts a slot's kept SQE on the ring again with a new CID (retry,
 * replay).  Queue lock held; the caller rings the doorbell. */
void nvme_qpair_resubmit_locked(struct nvme_qpair *qp, uint16_t idx);
void nvme_qpair_ring_locked(struct nvme_qpair *qp);
/* Cleans the SQ entries queued since the last doorbell (every doorbell
 * does, before it is written: nvme_osal.h, non-coherent rule 2). */
void nvme_qpair_clean_sq(struct nvme_qpair *qp);
/* Reaps up to `max` completions (0: all).  Never sleeps; interrupt safe. */
int nvme_qpair_process(struct nvme_qpair *qp, unsigned max);
/* Its parts (qpair.c): a completion for no command in flight (logged);
 * the retry policy (true: the slot stays, resubmitted or waiting); the CQ
 * head doorbell after a batch; a slot's release (unmap, list pages). */
void nvme_qpair_bogus(struct nvme_qpair *qp, uint16_t cid, uint16_t sqid)
    __attribute__((noinline, cold));
bool nvme_qpair_retry(struct nvme_qpair *qp, uint16_t idx, uint16_t sf) __attribute__((noinline));
void nvme_qpair_cq_doorbell(struct nvme_qpair *qp);
void nvme_slot_release(struct nvme_qpair *qp, uint16_t idx);
/* Releases slot `idx` (unmap, PRP pages back) and runs its callback with
 * `result` outside the lock.  Only once the device no longer owns it. */
void nvme_qpair_complete_slot(struct nvme_qpair *qp, uint16_t idx, int result);
/* Only after the controller stopped: slots complete with `result`
 * (NVME_ERR_TIMEOUT instead for a command that timed out), except
 * REPLAY: I/O with retry budget left becomes REPLAY; KEEP_REPLAY: slots
 * already REPLAY stay; ALL: those complete too. */
enum nvme_reclaim { NVME_RECLAIM_REPLAY, NVME_RECLAIM_KEEP_REPLAY, NVME_RECLAIM_ALL };
void nvme_qpair_reclaim(struct nvme_qpair *qp, int result, enum nvme_reclaim mode);
/* Only after the controller stopped (nvme_ctrl_stopped: CC.EN=0 and
 * RDY=0, or cut off by dma_stop), before the reclaim: completes the
 * commands whose successful completion entries the controller had posted
 * and nobody had reaped (their data moved: a replay would do it twice),
 * with their dw0, as Linux's nvme_reap_pending_cqes does; and those
 * whose error entry the retry policy would not send again (DNR, a status
 * never retried, no budget left), with that status.  An error a retry was
 * due for is left to the reclaim (replayed or failed, as any command in
 * flight). */
void nvme_qpair_harvest(struct nvme_qpair *qp);
/* Before a stopped queue is created again (a reset, CAP.MQES re-read):
 * its ring takes `entries` (at most as allocated) and its commands
 * entries - 1; the oldest commands waiting for their replay move to the
 * slots below that, and those beyond it wait past them (parked) for a
 * slot to free.  Returns how many wait. */
unsigned nvme_qpair_set_entries(struct nvme_qpair *qp, uint16_t entries);
/* Resubmits the oldest parked commands into the free slots while the
 * queue is live, and rings.  Queue lock held. */
void nvme_qpair_unpark(struct nvme_qpair *qp) __attribute__((noinline, cold));
/* Queue `qid`: 0 the admin queue, else as nvme_io_qpair_get (NVME_QID_CPU
 * too); NULL for none. */
struct nvme_qpair *nvme_ctrl_qpair(struct nvme_ctrl *ctrl, uint16_t qid);

/* Waiting for a set of callbacks (io.c, admin.c, recovery.c). */
struct nvme_waiter {
    struct nvme_ctrl *ctrl;
    unsigned pending;
    int result; /* first non-zero result */
    uint32_t dw0;
    /* Bytes of separate metadata the command moves through MPTR
     * (nvme_exec_md), read only for a command whose MPTR is set
     * (nvme_replay_stale): io.c's waiters leave it unset. */
    uint32_t md_len;
};
void nvme_waiter_cb(void *arg, int result, uint32_t dw0);
/* pending changes from the submitter and from completions, which may be
 * reaped on another CPU or by an interrupt that cuts into a callback on
 * this one (callbacks run unlocked): every change is one atomic
 * read-modify-write, and the last completion's release pairs with the
 * waiter's acquire, so result and dw0 are seen when pending is 0 (weakly
 * ordered CPUs; aarch64 needs -mno-outline-atomics, see cmake). */
static inline void nvme_waiter_add(struct nvme_waiter *w, unsigned n)
{
    __atomic_fetch_add(&w->pending, n, __ATOMIC_RELAXED);
}
static inline void nvme_waiter_sub(struct nvme_waiter *w)
{
    __atomic_fetch_sub(&w->pending, 1u, __ATOMIC_RELAXED);
}
/* One completion: true when it was the last (w may be gone after that). */
static inline bool nvme_waiter_done(struct nvme_waiter *w, int result, uint32_t dw0)
{
    int none = 0;
    if (result != 0) /* the first error wins */
        __atomic_compare_exchange_n(&w->result, &none, result, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
    __atomic_store_n(&w->dw0, dw0, __ATOMIC_RELAXED); /* completions may race */
    return __atomic_sub_fetch(&w->pending, 1u, __ATOMIC_ACQ_REL) == 0;
}
static inline unsigned nvme_waiter_pending(const struct nvme_waiter *w)
{
    return __atomic_load_n(&w->pending, __ATOMIC_ACQUIRE);
}

/* recovery.c: deadlines, Abort, reset and replay, device gone, and the
 * waits that drive them (lifecycle rules 2-6 of nvme.h). */
void nvme_recovery_init(struct nvme_ctrl *ctrl);
/* After a scan that found namespaces ids[0..n) with another format or
 * identity, or gone (n > NVME_NS_STALE_MAX: every namespace): their I/O
 * commands the core holds are never sent again.  Runs callbacks: not
 * under a lock or the scan flag. */
void nvme_recovery_ns_changed(struct nvme_ctrl *ctrl, const uint32_t *ids, unsigned n);
/* At most once per tick: CSTS, deadlines, delayed retries, escalation.
 * Not from interrupt context.  Returns 0, GONE or FATAL (dead). */
int nvme_recovery_check(struct nvme_ctrl *ctrl);
/* *rc: what a blocking call's submission returned.  True when another
 * CPU's reset turned it away (NVME_ERR_STATE), the reset is over and the
 * call should go again; *spent (0 at the call's start) counts its wait
 * against a bound in time.  When the reset left the device gone or the
 * controller dead, *rc becomes NVME_ERR_GONE or NVME_ERR_FATAL. */
bool nvme_reset_waited(struct nvme_ctrl *ctrl, int *rc, unsigned *spent);
/* *rc: what a blocking call's submission on `qp` returned.  True when the
 * queue was full of other commands (NVME_ERR_BUSY, no Format freeze): the
 * queue was reaped, or a slice waited, and the call should go again, as
 * Linux waits for a tag; *spent bounds the wait as nvme_reset_waited's.
 * False from a completion callback, or once the bound is spent. */
bool nvme_busy_waited(struct nvme_qpair *qp, const int *rc, unsigned *spent);
/* The reset nvme_ctrl_reset asks for, a full one: stop, reclaim, restart,
 * replay (lifecycle rule 4); orderly: the I/O queues are deleted first
 * when the controller still runs.  A controller marked gone whose
 * registers answer again is marked back once the reset is claimed
 * (NVME_ERR_GONE when they still read all ones). */
int nvme_recovery_reset_asked(struct nvme_ctrl *ctrl, bool orderly, bool nssr);
/* nvme_ctrl_reset (ctrl.c); `nssr`: an NVM Subsystem Reset first, written
 * with the reset claimed, then not orderly (it stopped the controller
 * already; mgmt.c). */
int nvme_ctrl_reset_as(struct nvme_ctrl *ctrl, bool orderly, bool nssr);
/* Waits until w->pending is 0: recovery runs when the controller is up;
 * during bring-up and inside recovery a deadline stops the controller. */
int nvme_wait(struct nvme_qpair *qp, struct nvme_waiter *w);
/* Submit and wait; _epoch: as nvme_qpair_submit_epoch (NVME_ERR_BUSY,
 * nothing sent, when the namespaces changed since the checks).  A command
 * whose queue a reset dropped (NVME_ERR_REQUEUE) goes again on the calling
 * CPU's queue, up to NVME_REQUEUES times. */
int nvme_exec_epoch(struct nvme_qpair *qp, uint32_t epoch, const struct nvme_sqe *sqe, void *buf,
                    uint32_t len, enum nvme_dma_dir dir, unsigned flags, uint32_t *dw0);
int nvme_exec(struct nvme_qpair *qp, const struct nvme_sqe *sqe, void *buf, uint32_t len,
              enum nvme_dma_dir dir, unsigned flags, uint32_t *dw0);
/* nvme_exec_epoch of a command with separate metadata: md_len bytes at
 * its MPTR, what its buffer there holds (the restart's check of held
 * commands compares it with the namespace's format then). */
int nvme_exec_md(struct nvme_qpair *qp, uint32_t epoch, const struct nvme_sqe *sqe, void *buf,
                 uint32_t len, uint32_t md_len, enum nvme_dma_dir dir, unsigned flags);
/* Set Features Number of Queues: how many I/O queue pairs we may create. */
int nvme_set_num_queues(struct nvme_ctrl *ctrl, uint16_t want, uint16_t *granted);
/* The Identify Controller fields a firmware may change (OACS, ONCS, VWC,
 * NN, CRDT, ACL...): at bring-up and every restart. */
void nvme_id_ctrl_take(struct nvme_ctrl *ctrl, const struct nvme_id_ctrl *id);
/* Identify Controller again after a firmware may have changed (every
 * restart, an activation without reset): FR, ELPE, nvme_id_ctrl_take's
 * fields, a lower MDTS, the NVM limits. */
void nvme_refresh_identify(struct nvme_ctrl *ctrl);
/* How many Asynchronous Event Requests to keep outstanding: AERL + 1
 * (§5.2) as Identify Controller reports it now, at most NVME_AER_MAX and a
 * quarter of the admin queue; 0 with opts.no_async_events.  At bring-up
 * and after every reset (which dropped every request the controller held). */
uint16_t nvme_aer_max(const struct nvme_ctrl *ctrl);
/* MDTS into info (mdts_log2, mdts_reported, mdts_bytes): at bring-up, and
 * `again` from a new firmware (only ever lowered). */
void nvme_refresh_mdts(struct nvme_ctrl *ctrl, uint8_t mdts, bool again);
/* Bring-up's read of the NVM Command Set limits (VSL, WZSL, DMRL, DMRSL,
 * DMSL: CNS 06h CSI 00h); a refusal leaves none. */
int nvme_nvm_limits(struct nvme_ctrl *ctrl);
/* Interrupt vectors for `queues` I/O queues and the admin one (one each,
 * or one with NVME_QUIRK_SINGLE_VECTOR), as many as the OSAL's irq_setup
 * grants (info.irq_vectors, irq_is_intx); none with opts.polling or
 * without irq_setup.  Bring-up, and the reset that gets I/O queues bring-up
 * had none for. */
void nvme_irq_vectors_setup(struct nvme_ctrl *ctrl, uint16_t queues);
/* The I/O queue pairs bring-up asks for (Number of Queues). */
uint16_t nvme_io_queues_wanted(struct nvme_ctrl *ctrl);
/* Allocates `count` I/O queue pairs (ctrl->ioq, nr_ioq, published for
 * other CPUs) of the entries bring-up gives them; on failure nothing. */
int nvme_io_queues_alloc(struct nvme_ctrl *ctrl, uint16_t count);
/* Bring-up's second half, also run by every reset: creates I/O queue
 * pairs 1..count, then sets the features a reset clears (Asynchronous
 * Event Configuration, Host Behavior Support ACRE). */
int nvme_ctrl_start_queues(struct nvme_ctrl *ctrl, uint16_t count);
/* Delete I/O SQ, then its CQ (§5.5, §5.6): the controller ends what the
 * SQ held (Command Aborted due to SQ Deletion).  The first error. */
int nvme_delete_io_qpair(struct nvme_ctrl *ctrl, struct nvme_qpair *qp);
/* Set Features Host Memory Buffer: give hmb.c's buffer (EHM, with MR once
 * it was taken before) or take it back; hmb_on follows what worked. */
int nvme_hmb_set(struct nvme_ctrl *ctrl, bool on);
void nvme_event(struct nvme_ctrl *ctrl, enum nvme_event ev, uint32_t detail);

/* prp.c */
int nvme_prp_build(struct nvme_qpair *qp, struct nvme_cmd_slot *slot, struct nvme_sqe *sqe,
                   void *buf, uint32_t len, enum nvme_dma_dir dir);
void nvme_prp_release(struct nvme_qpair *qp, struct nvme_cmd_slot *slot);
void nvme_prp_pool_free(struct nvme_qpair *qp);
/* Preallocates the list pages of an I/O queue (none needed for admin). */
int nvme_prp_pool_fill(struct nvme_qpair *qp);
/* The admin queue's list pages for a transfer of `len` bytes from `buf`,
 * had before its lock is taken (NVME_ERR_NOMEM when they cannot be). */
int nvme_prp_reserve(struct nvme_qpair *qp, const void *buf, uint32_t len);

/* hmb.c: the Host Memory Buffer's memory, sized from Identify HMPRE,
 * HMMIN, HMMINDS, HMMAXD and the options; nothing when it cannot be had. */
void nvme_hmb_alloc(struct nvme_ctrl *ctrl);
/* Writes the descriptor list from the core's record of the chunks, for
 * the controller to read (before each enable). */
void nvme_hmb_list(struct nvme_ctrl *ctrl);
/* Only once the controller let go of it (EHM cleared, or stopped), or
 * refused it (EHM failed with a status); the next restart has one again. */
void nvme_hmb_free(struct nvme_ctrl *ctrl);
/* At a restart (the reset took the buffer back), after Identify: a buffer
 * the new HMPRE/HMMIN/HMMINDS/HMMAXD no longer take is freed and had
 * again to them, given anew (MR clear). */
void nvme_hmb_refit(struct nvme_ctrl *ctrl);

/* admin.c */
int nvme_admin_identify_ctrl(struct nvme_ctrl *ctrl);
/* Long admin deadline for Format NVM, Sanitize, Device Self-test. */
unsigned nvme_admin_flags(uint8_t opc);

/* nvm_cmds.c: what io.c asks of a namespace's format.  0 when nvme_read/
 * nvme_write may use it (CDW12 PRINFO bits to add in *prinfo), else
 * NVME_ERR_UNSUPPORTED after a log line. PRINFO: nvme_ns_prinfo. */
int nvme_ns_plain_check(struct nvme_ctrl *ctrl, const struct nvme_ns_info *ns);
/* NVME_ERR_UNSUPPORTED (logged) when the controller runs admin-only. */
int nvme_io_admin_only(struct nvme_ctrl *ctrl);
/* Adds what plain I/O on `ns` carries to a Read/Write SQE: on PI-only
 * formats PRACT and PRCHK (CDW12) and the initial reference tag (CDW14,
 * and CDW3 with the 64b Guard). */
void nvme_ns_plain_pi(const struct nvme_ns_info *ns, struct nvme_sqe *sqe);
/* Blocks from `lba` to the end of its zone (zoned namespace `ns`): the
 * blocking calls cut transfers there. */
uint64_t nvme_zone_left(const struct nvme_ns_info *ns, uint64_t lba);
/* ns.c: ZNS details of a zoned namespace (CNS 05h CSI 02h); 1 when the
 * controller refused them without DNR (the scan keeps a namespace in use
 * as it was). */
int nvme_ns_zns_parse(struct nvme_ctrl *ctrl, struct nvme_ns_info *ns, void *page);
/* recovery.c: a command whose data go through a DMA bounce of whole pages,
 * on `qp` (epoch: as nvme_exec_epoch), or (admin.c, nvme_admin_exec_bounce)
 * on the admin queue with the deadline its opcode needs. */
int nvme_exec_bounce(struct nvme_qpair *qp, uint32_t epoch, struct nvme_sqe *sqe, void *buf,
                     uint32_t len, enum nvme_dma_dir dir, unsigned flags, uint32_t *dw0);
/* Identify with CDW10 and CDW11 as given, into 4096 bytes at buf (recovery.c);
 * nvme_identify without its checks of the caller's arguments. */
int nvme_identify_dw(struct nvme_ctrl *ctrl, uint32_t cdw10, uint32_t nsid, uint32_t cdw11,
                     void *buf);
/* nvme_identify_dw into a page of the core's, returned (NULL: no memory,
 * *rc NVME_ERR_NOMEM), which the caller frees with nvme_identify_page_free
 * whatever *rc (recovery.c). */
void *nvme_identify_page(struct nvme_ctrl *ctrl, uint32_t cdw10, uint32_t nsid, uint32_t cdw11,
                         int *rc);
void nvme_identify_page_free(struct nvme_ctrl *ctrl, void *page);
int nvme_admin_exec_bounce(struct nvme_ctrl *ctrl, struct nvme_sqe *sqe, void *buf, uint32_t len,
                           enum nvme_dma_dir dir, uint32_t *dw0);
/* A passthrough's data as the caller gave them, and the page it gets
 * when it gave none (nvme_passthru_prep). */
struct nvme_bounce {
    void *buf;
    uint32_t len;
    enum nvme_dma_dir dir;
    uint32_t none;
};
/* The SQE the core sends for a caller's (admin and I/O passthrough): its
 * data pointers and PSDT the core's; a bounce page in *b for an opcode
 * that may move data sent without a buffer. */
void nvme_passthru_prep(struct nvme_sqe *cmd, const struct nvme_sqe *sqe, struct nvme_bounce *b);

/* ns.c */
int nvme_ns_scan(struct nvme_ctrl *ctrl);
/* Around a Format (ns.c): new I/O refused (NVME_ERR_BUSY) and the I/O in
 * flight drained; then the rescan that publishes the new format.  Every
 * freeze is followed by a thaw, whatever it returned but NVME_ERR_BUSY
 * (a scan on another CPU did not end: nothing frozen). */
int nvme_ns_freeze(struct nvme_ctrl *ctrl);
int nvme_ns_thaw(struct nvme_ctrl *ctrl);
void nvme_ns_free(struct nvme_ctrl *ctrl);
/* The table of active namespaces a scan publishes whole (ns.c). */
struct nvme_ns_table {
    struct nvme_ns_table *retired; /* next replaced table not freed yet (nvme_ns_free_retired) */
    unsigned count;
    struct nvme_ns_info *ns[]; /* ascending NSID */
};

/* Around a lookup's reads of the namespace table (ns.c says why); inline
 * for recovery.c, below ns.c, which reads it too (nvme_replay_ns_check). */
static inline const struct nvme_ns_table *nvme_ns_read_begin(struct nvme_ctrl *ctrl)
{
    /* Both sequentially consistent: the count goes up before the table is
     * read, as the scan swaps before it reads the count. */
    __atomic_fetch_add(&ctrl->ns_readers, 1u, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&ctrl->ns_table, __ATOMIC_SEQ_CST);
}

static inline void nvme_ns_read_end(struct nvme_ctrl *ctrl)
{
    __atomic_fetch_sub(&ctrl->ns_readers, 1u, __ATOMIC_RELEASE);
}

/* The namespace `nsid` among v[0..n), which ascend by NSID, or NULL. */
static inline struct nvme_ns_info *nvme_ns_search(struct nvme_ns_info *const *v, unsigned n,
                                                  uint32_t nsid)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2u;
        if (v[mid]->nsid == nsid)
            return v[mid];
        if (v[mid]->nsid < nsid)
            lo = mid + 1u;
        else
            hi = mid;
    }
    return NULL;
}

/* The namespace `nsid` of table `t` (sorted: the list is ascending), or NULL. */
static inline struct nvme_ns_info *nvme_ns_table_find(const struct nvme_ns_table *t, uint32_t nsid)
{
    return nvme_ns_search(t->ns, t->count, nsid);
}

/* The deadlines the port asked for in nvme_ctrl_opts, or the defaults
 * (the admin one also bounds waits for another CPU's scan or rescan). */
static inline uint32_t nvme_admin_ms(const struct nvme_ctrl *ctrl)
{
    return ctrl->opts.admin_timeout_ms ? ctrl->opts.admin_timeout_ms
                                       : NVME_DEFAULT_ADMIN_TIMEOUT_MS;
}
static inline uint32_t nvme_io_ms(const struct nvme_ctrl *ctrl)
{
    return ctrl->opts.command_timeout_ms ? ctrl->opts.command_timeout_ms
                                         : NVME_DEFAULT_CMD_TIMEOUT_MS;
}

#define NVME_LBADS_MIN 9u /* 512 bytes: smallest LBA size (§5.15.2.1, LBADS) */
/* Largest LBADS the core represents (lba_size is 32 bits); what a
 * namespace may really use is bounded by MDTS (ns.c) (QEMU offers up to
 * 2 MiB blocks). */
#define NVME_LBADS_MAX 31u

/* The last LBA format index a namespace lists: NLBAF (0-based), then
 * NULBAF (a count, byte 82) unique capability formats packed after it
 * (NVM CS 1.0 Figure 97), as nvme-cli lists lbaf[0..NLBAF + NULBAF]. */
static inline unsigned nvme_id_ns_last_lbaf(const struct nvme_id_ns *id)
{
    return (unsigned)id->nlbaf + id->nulbaf;
}

/* The format index in use: FLBAS bits 3:0, plus bits 6:5 when there are
 * more than 16 formats, unique capability ones included (NVM CS 1.0
 * Figure 97); identify.c's public nvme_id_ns_format, and the restart's
 * check of held commands. */
static inline unsigned nvme_flbas_format(const struct nvme_id_ns *id)
{
    return nvme_id_ns_last_lbaf(id) > NVME_NLBAF_MAX ? NVME_FLBAS_INDEX_V2(id->flbas)
                                                     : NVME_FLBAS_INDEX(id->flbas);
}

/* The namespace epoch: a command's length comes from its namespace's
 * format, read by the call's checks, which may run long before the
 * command is placed (a CPU preempted in between, for a whole Format).
 * ns_epoch moves by 2 with every freeze and every rescan that changes a
 * namespace (its generation), and is odd while a rescan rewrites
 * namespace objects in place (a sequence lock, as Linux's seqcount).  A
 * call reads it before the namespace's fields; its placement compares it
 * under the queue lock, and a call whose checks overlapped a change is
 * refused with NVME_ERR_BUSY, nothing sent (§5.23: count blocks of the
 * new size through a buffer sized for the old would overrun it). */
#define NVME_NS_EPOCH_ANY 1u /* odd: never read by a call; nothing to compare */
static inline uint32_t nvme_ns_epoch_read(const struct nvme_ctrl *ctrl)
{
    /* During a rewrite: the value before it, which never comes back. */
    return __atomic_load_n(&ctrl->ns_epoch, __ATOMIC_ACQUIRE) & ~1u;
}
/* (defined below the DMA barriers) */
static inline bool nvme_ns_epoch_moved(const struct nvme_ctrl *ctrl, uint32_t epoch);
/* Whether namespace object `ns` became another namespace (other NGUID or
 * EUI64: deleted and created again under its NSID, README row 35af) in a
 * rescan after epoch `e`, the one a call's checks read: the rest of the
 * call was meant for the one before (nvme_ns_commit sets ids_epoch). */
static inline bool nvme_ns_renewed_since(const struct nvme_ns_info *ns, uint32_t e)
{
    return (int32_t)(NVME_READ_ONCE(ns->ids_epoch) - e) > 0;
}
/* ns.c: for a blocking call whose checks failed with the epoch moved (they
 * read fields a rescan was rewriting): waits until the epoch is even and
 * returns it, for the checks to run again and nvme_ns_epoch_moved to say
 * whether they read a settled namespace.  It sleeps in 1 ms slices (the
 * writer may be a task preempted mid-rewrite on this very CPU), at most
 * two admin deadlines over the call (*waits, 0 at its start; from a
 * callback only NVME_NS_SETTLE_TRIES looks, no sleep); then
 * NVME_NS_EPOCH_ANY, and the call says NVME_ERR_BUSY, as during a
 * Format.  NVME_NS_SETTLE_TRIES bounds the runs of the checks. */
#define NVME_NS_SETTLE_TRIES 64u
uint32_t nvme_ns_epoch_settled(struct nvme_ctrl *ctrl, unsigned *waits);

/* aer.c: Asynchronous Event Requests (§5.2). */
void nvme_aer_arm(struct nvme_ctrl *ctrl);
void nvme_aer_service(struct nvme_ctrl *ctrl);

/* DMA memory barriers of the core (nvme_osal.h, "Memory ordering"), as
 * Linux's dma_rmb()/dma_wmb(): they order the CPU's accesses to normal
 * (DMA) memory as a device observes them, nothing about MMIO (that is the
 * OSAL's mmio_read32/mmio_write32).
 *
 * nvme_dma_rmb(): between reading a CQE's phase tag and its other fields
 * (§4.6: the phase tag tells the entry is new), so no field is read
 * before the tag that says it is valid.
 *   arm64      dmb oshld  (Linux dma_rmb; the C11 acquire fence would give
 *                          "dmb ishld": inner shareable, not the device's
 *                          outer shareable domain)
 *   arm v7     dmb osh
 *   riscv      fence r,r  (both loads are of main memory: RVWMO orders them
 *                          with the r,r sets; no device I/O involved)
 *   x86        compiler barrier (TSO keeps loads in order; Linux dma_rmb
 *                          is barrier() there)
 *   other      the C11 acquire fence
 * nvme_dma_wmb(): SQE and PRP stores before the tail update handed to
 * mmio_write32 (whose writel semantics then order it before the
 * doorbell; this fence alone would not).
 *   arm64 dmb oshst, arm v7 dmb oshst, riscv fence w,w, x86 compiler
 *   barrier, other the C11 release fence.
 * Port hook: a port that must choose (another SoC's rule, a simulator
 * that counts fences) defines NVME_PORT_DMA_RMB() and/or
 * NVME_PORT_DMA_WMB() as statements when compiling the core (e.g.
 * -D'NVME_PORT_DMA_RMB()=__asm__ volatile("dmb sy" ::: "memory")').  A
 * macro, not an OSAL field: the fence runs once per completion on the
 * hot path, where an indirect call would cost more than the fence, and
 * the right instruction is known when the port is compiled. */
#if defined(NVME_PORT_DMA_RMB)
#define NVME_DMA_RMB_() NVME_PORT_DMA_RMB()
#elif defined(__aarch64__)
#define NVME_DMA_RMB_() __asm__ volatile("dmb oshld" ::: "memory")
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
#define NVME_DMA_RMB_() __asm__ volatile("dmb osh" ::: "memory")
#elif defined(__riscv)
#define NVME_DMA_RMB_() __asm__ volatile("fence r,r" ::: "memory")
#elif defined(__x86_64__) || defined(__i386__)
#define NVME_DMA_RMB_() __asm__ volatile("" ::: "memory")
#else
#define NVME_DMA_RMB_() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
/* nvme_dma_mb(): a full barrier over memory shared with the device, for
 * store-then-load patterns (the shadow doorbell is written, then the
 * device's event index read: both sides would otherwise skip the MMIO
 * doorbell; Linux uses mb() there), and between a register store and a
 * later memory load (INTx: the INTMS write, then intx_hold, ctrl.c
 * nvme_ctrl_handle_irq; a load passing the mask would leave the line
 * masked for good behind a concurrent nvme_intx_release).
 *   arm64 and arm v7 dmb osh, riscv fence iorw,iorw (Linux's mb(): "fence
 *   rw,rw" orders no device I/O, so the INTMS store could still be in
 *   flight when intx_hold is read), x86 and other the C11 sequentially
 *   consistent fence (mfence or a locked operation on x86: TSO lets a
 *   later load pass an earlier store).  Hook: NVME_PORT_DMA_MB(). */
#if defined(NVME_PORT_DMA_MB)
#define NVME_DMA_MB_() NVME_PORT_DMA_MB()
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
#define NVME_DMA_MB_() __asm__ volatile("dmb osh" ::: "memory")
#elif defined(__riscv)
#define NVME_DMA_MB_() __asm__ volatile("fence iorw,iorw" ::: "memory")
#else
#define NVME_DMA_MB_() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#if defined(NVME_PORT_DMA_WMB)
#define NVME_DMA_WMB_() NVME_PORT_DMA_WMB()
#elif defined(__aarch64__)
#define NVME_DMA_WMB_() __asm__ volatile("dmb oshst" ::: "memory")
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
#define NVME_DMA_WMB_() __asm__ volatile("dmb oshst" ::: "memory")
#elif defined(__riscv)
#define NVME_DMA_WMB_() __asm__ volatile("fence w,w" ::: "memory")
#elif defined(__x86_64__) || defined(__i386__)
#define NVME_DMA_WMB_() __asm__ volatile("" ::: "memory")
#else
#define NVME_DMA_WMB_() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

/* nvme_dma_ldst(): the loads of the CQ entries a batch consumed before
 * the CQ head update (shadow store or register store) that hands their
 * slots back: the controller may write a new entry into a slot once it
 * sees the head past it (§4.1), so a field load still pending then would
 * read the new entry.  The OSAL's writel orders only earlier stores, and
 * Linux orders nothing here.
 *   arm64 dmb oshld (earlier loads against later loads and stores), arm v7
 *   dmb osh, riscv fence r,ow (memory loads before the shadow store and
 *   the register store), x86 compiler barrier (TSO keeps a store behind
 *   earlier loads), other the C11 acquire fence.  Hook:
 *   NVME_PORT_DMA_LDST(). */
#if defined(NVME_PORT_DMA_LDST)
#define NVME_DMA_LDST_() NVME_PORT_DMA_LDST()
#elif defined(__riscv)
#define NVME_DMA_LDST_() __asm__ volatile("fence r,ow" ::: "memory")
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7) ||      \
    defined(__x86_64__) || defined(__i386__)
#define NVME_DMA_LDST_() NVME_DMA_RMB_()
#else
#define NVME_DMA_LDST_() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif

static inline void nvme_dma_rmb(void) { NVME_DMA_RMB_(); }
static inline void nvme_dma_ldst(void) { NVME_DMA_LDST_(); }
static inline void nvme_dma_mb(void) { NVME_DMA_MB_(); }
static inline void nvme_dma_wmb(void) { NVME_DMA_WMB_(); }

/* nvme_ns_epoch_read's other half.  The fields were read before: their
 * loads are ordered before this one by a read barrier (Linux's
 * read_seqretry has smp_rmb; the DMA one, outer shareable, orders other
 * CPUs' stores as well). */
static inline bool nvme_ns_epoch_moved(const struct nvme_ctrl *ctrl, uint32_t epoch)
{
    nvme_dma_rmb();
    return NVME_READ_ONCE(ctrl->ns_epoch) != epoch;
}

/* Shadow doorbells (§5.7): after storing the new value in the shadow
 * buffer, the MMIO doorbell is needed only if the controller's event index
 * lies in [old, new) (modulo 2^16), as Linux's nvme_dbbuf_need_event. */
static inline bool nvme_dbbuf_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event_idx - 1u) < (uint16_t)(new_idx - old);
}

/* A duration in deadline ticks (recovery.c), rounded up, plus one so a
 * command submitted just before a tick still gets its full time.  tick_us
 * is whole milliseconds: 32-bit division, no libgcc helper, and no sum
 * that wraps (a caller may ask for 2^32 - 1 ms).  At most NVME_MAX_TICKS,
 * so that a deadline stays inside the half of the 32-bit tick counter
 * that nvme_tick_passed compares in (with 1 ms ticks, 12 days). */
#define NVME_MAX_TICKS 0x40000000u
static inline uint32_t nvme_ms_to_ticks(const struct nvme_ctrl *ctrl, uint32_t ms)
{
    uint32_t tick_ms = ctrl->tick_us / 1000u;
    uint32_t t = nvme_div32(ms, tick_ms) + (nvme_mod32(ms, tick_ms) != 0u ? 1u : 0u);
    return t < NVME_MAX_TICKS ? t + 1u : NVME_MAX_TICKS;
}

/* A slot's deadline (or retry time) `ticks` from now, and the tick it
 * counts from: the tick counter moves only when a call looks at the clock,
 * by every tick_us that passed (recovery.c, nvme_tick_due), so a command
 * stamped with the current tick may have been submitted at any time
 * since that tick began, up to the advance; the checks then count its
 * deadline from the advance (nvme_slot_rebase): never early. */
static inline void nvme_slot_deadline(const struct nvme_ctrl *ctrl, struct nvme_cmd_slot *s,
                                      uint32_t ticks)
{
    uint32_t t = NVME_READ_ONCE(ctrl->tick);
    s->expire = t + ticks;
    s->stamp = t;
}

/* The I/O queues live (info.io_queues), for a CPU that then indexes
 * ctrl->ioq: acquire, paired with nvme_create_io_queues' release, since a
 * reset may have allocated them just now (nvme_io_queues_alloc). */
static inline uint16_t nvme_io_queue_count(const struct nvme_ctrl *ctrl)
{
    return __atomic_load_n(&ctrl->info.io_queues, __ATOMIC_ACQUIRE);
}

/* An I/O queue a reset left behind: the controller granted (or created)
 * fewer queues this time.  A submission there answers NVME_ERR_REQUEUE
 * (nvme_qpair_begin), as its blocking waiters' commands did (nvme_replay),
 * and the blocking call goes on on the calling CPU's queue now, as Linux's
 * blk-mq requeues the requests of hardware queues that went away.  Not
 * during a teardown. */
#define NVME_REQUEUES 8u /* times a blocking call goes on elsewhere (a reset each) */
/* Internal result, never returned by a public call: a blocking waiter's
 * command a reset could not replay because its queue was dropped
 * (nvme_replay), or a submission to such a queue (nvme_qpair_begin).  Set
 * once, so a later reset that grants the queue back does not hide it; the
 * blocking paths send the command again, the asynchronous entry points
 * answer NVME_ERR_STATE (resubmit), an exhausted requeue NVME_ERR_ABORTED. */
#define NVME_ERR_REQUEUE (-100)
/* A piece of a split blocking call (`len` bytes) that failed now that
 * MDTS is below it: a reset lowered MDTS (nvme_refresh_mdts) after the
 * piece was cut, and the PRP build refuses it (NVME_ERR_INVAL); the
 * caller cuts it again at the limit now, which only goes down. */
static inline bool nvme_piece_above_mdts(const struct nvme_ctrl *ctrl, int rc, uint64_t len)
{
    return rc != NVME_OK && len > NVME_READ_ONCE(ctrl->info.mdts_bytes);
}

static inline bool nvme_qpair_dropped(const struct nvme_qpair *qp)
{
    const struct nvme_ctrl *ctrl = qp->ctrl;
    return qp->qid != 0 && !NVME_READ_ONCE(qp->live) && qp->qid > nvme_io_queue_count(ctrl) &&
           NVME_READ_ONCE(ctrl->ready) && !NVME_READ_ONCE(ctrl->stopping);
}

/* The I/O queue of `qid` (NVME_QID_CPU: the calling CPU's, as
 * nvme_ctrl_cpu_qid() says), or NULL.  Inline: it is on every I/O. */
static inline struct nvme_qpair *nvme_io_qpair_get(struct nvme_ctrl *ctrl, uint16_t qid)
{
    uint16_t n = nvme_io_queue_count(ctrl); /* a reset may change it */
    /* qid 0 wraps to the largest index, and NVME_QID_CPU to FFFEh, past
     * every queue (at most FFFEh, nvme_io_queues_wanted): one compare on
     * the usual path, and the index (callers that name NVME_QID_CPU go
     * straight to its branch) */
    unsigned i = (unsigned)qid - 1u;
    if (__builtin_expect(i >= n, 0) || (__builtin_constant_p(qid) && qid == NVME_QID_CPU)) {
        if (qid != NVME_QID_CPU)
            return NULL;
        if (ctrl->osal.cpu_id == NULL) /* every caller counts as CPU 0: queue 1 */
            return n != 0 ? &ctrl->ioq[0] : NULL;
        unsigned cpu = ctrl->osal.cpu_id(ctrl->osal.ctx); /* called with no queue too */
        if (n == 0)
            return NULL;
        i = nvme_mod32(cpu, n);
    }
    struct nvme_qpair *qp = &ctrl->ioq[i];
    if (qp == NULL) /* never: said so that callers test for NULL only above */
        __builtin_unreachable();
    return qp;
}

static inline void nvme_lock(struct nvme_qpair *qp)
{
    if (qp->lock != NULL)
        qp->ctrl->osal.lock(qp->ctrl->osal.ctx, qp->lock);
}
static inline void nvme_unlock(struct nvme_qpair *qp)
{
    if (qp->lock != NULL)
        qp->ctrl->osal.unlock(qp->ctrl->osal.ctx, qp->lock);
}
static inline void nvme_dma_sync(struct nvme_ctrl *ctrl, void *va, size_t len,
                                 enum nvme_dma_dir dir)
{
    if (ctrl->osal.dma_sync != NULL)
        ctrl->osal.dma_sync(ctrl->osal.ctx, va, len, dir);
}

/* ------------------------------------------------------------------ */
/* The I/O fast path (qpair.c's rings, inlined into io.c)              */
/* ------------------------------------------------------------------ */

/* Entry i of the SQ: 64 or 128 bytes apart (CC.IOSQES). */
static inline uint64_t *nvme_sq_entry(const struct nvme_qpair *qp, uint16_t i)
{
    return (uint64_t *)(void *)((uint8_t *)qp->sq + ((size_t)i << qp->sqe_shift));
}

/* A doorbell write: nvme_reg_write32 without the call (no register is
 * written once the device is gone; with traces on it goes through it). */
static inline void nvme_doorbell(struct nvme_ctrl *ctrl, uint32_t off, uint32_t val)
{
    if (__builtin_expect(ctrl->trace != 0, 0))
        nvme_reg_write32(ctrl, off, val);
    else if (__builtin_expect(!NVME_READ_ONCE(ctrl->gone), 1))
        ctrl->osal.mmio_write32(ctrl->osal.ctx, off, val);
}

/* nvme_qpair_ring_locked for a queue that has a new tail to ring, from
 * the fast path (traces off: it checked), which just wrote entry `last`;
 * ctrl is qp->ctrl. */
static inline void nvme_qpair_ring_new(struct nvme_ctrl *ctrl, struct nvme_qpair *qp, uint16_t last)
{
    if (__builtin_expect(qp->sdb_sq != NULL || qp->sq_tail_rung != last, 0)) {
        nvme_qpair_ring_locked(qp); /* shadow doorbell, or a batch to clean */
        return;
    }
    nvme_dma_sync(ctrl, nvme_sq_entry(qp, last), (size_t)1 << qp->sqe_shift, NVME_DMA_TO_DEVICE);
    nvme_dma_wmb();
    if (__builtin_expect(!NVME_READ_ONCE(ctrl->gone), 1)) /* lifecycle rule 6 */
        ctrl->osal.mmio_write32(ctrl->osal.ctx, qp->sq_tdbl, qp->sq_tail);
    qp->sq_tail_rung = qp->sq_tail;
}

/* The unmap of one piece mapped just now and not used (moved off its page
 * offset, nvme_map_page and prp.c; no list page for it, prp.c), where the
 * port has dma_unmap (prp.c; out of line, so that the fast paths keep no
 * second copy of len). */
void nvme_map_page_undo(struct nvme_ctrl *ctrl, void *buf, uint32_t len, enum nvme_dma_dir dir)
    __attribute__((noinline, cold));

/* Maps the `len` bytes at `buf`, inside one memory page, for a command
 * that names them with PRP1 alone (§4.3): false, with nothing left mapped,
 * when the OSAL refused or moved them off their page offset (the caller
 * then takes the slow path, nvme_qpair_submit_rw_slow, as PRP lists do). */
static NVME_HOT_INLINE bool nvme_map_page(struct nvme_ctrl *ctrl, void *buf, uint32_t len,
                                          enum nvme_dma_dir dir, uint64_t *bus)
{
    int mrc = ctrl->osal.dma_map(ctrl->osal.ctx, buf, len, dir, bus);
    if (__builtin_expect(
            mrc == 0 && (((uint32_t)*bus ^ (uint32_t)(uintptr_t)buf) & ctrl->page_mask) == 0, 1))
        return true;
    if (mrc == 0)
        nvme_map_page_undo(ctrl, buf, len, dir);
    return false;
}

/* The direction of a Read's or a Write's data. */
static inline enum nvme_dma_dir nvme_rw_dir(uint8_t opc)
{
    return opc == NVME_CMD_READ ? NVME_DMA_FROM_DEVICE : NVME_DMA_TO_DEVICE;
}

/* Builds a Read or Write (§6.9, §6.15) of `len` bytes at `buf`, checked
 * by the caller, inside one memory page and mapped at `bus`
 * (nvme_map_page), straight into free slot qp->free_head (one must be
 * free) and the ring at the SQ tail, whose index it returns; no doorbell.  The slot is SIMPLE:
 * its completion unmaps it in place (nvme_qpair_reap).  Lock held, queue
 * live. */
static NVME_HOT_INLINE uint16_t nvme_qpair_fill_rw(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                                                   uint8_t opc, uint32_t nsid, uint64_t lba,
                                                   uint32_t count, void *buf, uint32_t len,
                                                   nvme_cmd_cb cb, void *arg, uint64_t bus)
{
    const enum nvme_dma_dir dir = nvme_rw_dir(opc);
    uint16_t idx = qp->free_head;
    struct nvme_cmd_slot *s = &qp->slots[idx];
    qp->free_head = s->next_free;
    qp->outstanding++;
    s->cb = cb;
    s->arg = arg;
    s->buf = buf;
    s->len = len;
    /* Ticked on any CPU.  No stamp on this path (an instruction per I/O):
     * nvme_slot_rebase knows such a deadline by its length. */
    s->expire = NVME_READ_ONCE(ctrl->tick) + qp->timeout_ticks;
    s->seq = qp->seq++;
    uint16_t cid = (uint16_t)(s->cid + qp->cid_step);
    s->cid = cid;
    s->ctl = NVME_SLOT_CTL(dir, NVME_SLOT_ACTIVE, 0, NVME_SLOT_F_REPLAY | NVME_SLOT_F_SIMPLE);
    /* The SQE as eight words (little-endian, like the whole core): kept in
     * the slot for retries and replays (its words 1, 2, 4, 7 are zero
     * already), and written to the ring. */
    uint64_t w0 = opc | ((uint64_t)cid << 16) | ((uint64_t)nsid << 32);
    uint64_t w6 = (count - 1u) & 0xffffu;
    uint16_t tail = qp->sq_tail;
    uint64_t *dst = nvme_sq_entry(qp, tail);
    s->sqe_q[0] = dst[0] = w0;
    dst[1] = 0;
    dst[2] = 0;
    s->sqe_q[3] = dst[3] = bus;
    dst[4] = 0;
    s->sqe_q[5] = dst[5] = lba;
    s->sqe_q[6] = dst[6] = w6;
    dst[7] = 0;
    uint16_t next = (uint16_t)(tail + 1u);
    if (__builtin_expect(next == qp->entries, 0))
        next = 0;
    qp->sq_tail = next;
    return tail;
}

/* nvme_map_page, then nvme_qpair_fill_rw: false, with nothing placed,
 * when the mapping failed; else the ring entry it went into in *tail.
 * Lock held, queue live. */
static NVME_HOT_INLINE bool nvme_qpair_place_rw(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                                                uint8_t opc, uint32_t nsid, uint64_t lba,
                                                uint32_t count, void *buf, uint32_t len,
                                                nvme_cmd_cb cb, void *arg, uint16_t *tail)
{
    uint64_t bus;
    if (!nvme_map_page(ctrl, buf, len, nvme_rw_dir(opc), &bus))
        return false;
    *tail = nvme_qpair_fill_rw(ctrl, qp, opc, nsid, lba, count, buf, len, cb, arg, bus);
    return true;
}

/* One Read or Write inside one memory page (nvme_qpair_place_rw), with
 * its doorbell unless NVME_SUBMIT_NO_DOORBELL; the rest (traces, a full
 * or stopped queue, a mapping the OSAL refused or moved) goes through
 * nvme_qpair_submit_rw_slow, as PRP lists do.
 * ctrl is qp->ctrl, which the caller has at hand; epoch: what the
 * caller's checks read (nvme_ns_epoch_read).
 * keep_lock: a caller that reaps at once (nvme_qpair_reap) gets
 * NVME_SUBMITTED_LOCKED from the fast path, which then keeps the queue
 * lock; NVME_OK from the others, which do not. */
#define NVME_SUBMITTED_LOCKED 1 /* positive: no submission returns a status */
static NVME_HOT_INLINE int nvme_qpair_submit_rw(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                                                uint32_t epoch, uint8_t opc, uint32_t nsid,
                                                uint64_t lba, uint32_t count, void *buf,
                                                uint32_t len, unsigned flags, nvme_cmd_cb cb,
                                                void *arg, bool keep_lock)
{
    nvme_lock(qp);
    /* The epoch first: its fence then orders nothing this reads below.
     * The gate: ready, not frozen (under the lock, as nvme_qpair_begin
     * looks at them), traces off. */
    bool moved = nvme_ns_epoch_moved(ctrl, epoch);
    uint16_t tail = 0; /* the entry it went into (set before it is used; -O1 cannot see it) */
    if (__builtin_expect(
            moved || !qp->live || NVME_READ_ONCE(ctrl->io_gate) != NVME_GATE_OPEN ||
                qp->free_head == NVME_NO_SLOT ||
                !nvme_qpair_place_rw(ctrl, qp, opc, nsid, lba, count, buf, len, cb, arg, &tail),
            0)) {
        nvme_unlock(qp);
        return nvme_qpair_submit_rw_slow(qp, epoch, opc, nsid, lba, count, buf, len, flags, cb,
                                         arg);
    }
    if (!(flags & NVME_SUBMIT_NO_DOORBELL))
        nvme_qpair_ring_new(ctrl, qp, tail);
    if (keep_lock) /* the caller reaps next, under the same lock */
        return NVME_SUBMITTED_LOCKED;
    nvme_unlock(qp);
    return NVME_OK;
}

/* A slot's CID is its index (plus cid_base) in the low bits and a
 * generation above them; each submission adds cid_step, so the
 * generation wraps modulo 2^16 on its own. */
static inline uint16_t nvme_cid_index(const struct nvme_qpair *qp, uint16_t cid)
{
    return (uint16_t)((uint16_t)(cid - qp->cid_base) & qp->cid_idx_mask);
}

/* Whether a completion entry names a command in flight on this queue
 * (device input: CID in range, this queue's SQID, the slot active under
 * that very CID, generation included); its slot's index in *idx. */
static NVME_HOT_INLINE bool nvme_cqe_slot(const struct nvme_qpair *qp, uint16_t cid, uint16_t sqid,
                                          uint16_t *idx)
{
    *idx = nvme_cid_index(qp, cid);
    if (__builtin_expect(*idx >= qp->nslots || sqid != qp->qid, 0))
        return false;
    const struct nvme_cmd_slot *s = &qp->slots[*idx];
    return __builtin_expect(s->state == NVME_SLOT_ACTIVE && cid == s->cid, 1);
}

/* Invalidates the CQ entries from `head` that commands in flight may
 * have been completed into (at least one, up to the ring's end) before
 * their phase tags are read (nvme_osal.h, non-coherent rule 4); returns
 * how many.  Any range is safe: the CPU never writes a live CQ. */
static inline unsigned nvme_qpair_cq_invalidate(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                                                uint16_t head)
{
    if (ctrl->osal.dma_sync == NULL)
        return 0xffffu; /* coherent: nothing to do for a whole lap */
    unsigned n = qp->outstanding != 0 ? qp->outstanding : 1u;
    if (n > (unsigned)qp->entries - head)
        n = (unsigned)qp->entries - head;
    ctrl->osal.dma_sync(ctrl->osal.ctx, (void *)(uintptr_t)&qp->cq[head],
                        n * sizeof(struct nvme_cqe), NVME_DMA_FROM_DEVICE);
    return n;
}

/* nvme_qpair_process, inline: the blocking I/O path reaps its one
 * completion with it (io.c), everything else calls nvme_qpair_process.
 * runs (a constant): CQ entries are invalidated a run at a time
 * (nvme_qpair_cq_invalidate) instead of one by one.  An entry the device
 * had not written when its run was invalidated may read as the previous
 * lap's, so before it ends the loop it is invalidated again on its own
 * and read once more: no completion the device posted before the look is
 * left behind.  A stale entry never passes for a new one: it was read
 * fresh on its previous lap, and the device writes it again only after
 * the head doorbell passed it, by a lap (the phase tag differs).
 * notrace: the caller found traces off (a constant: no test here);
 * held: the caller holds the queue lock (NVME_SUBMITTED_LOCKED); ctrl is
 * qp->ctrl. */
static NVME_HOT_INLINE int nvme_qpair_reap(struct nvme_ctrl *ctrl, struct nvme_qpair *qp,
                                           unsigned max, bool notrace, bool held, bool runs)
{
    unsigned left = 0; /* runs: entries from the head invalidated, not read yet */
    bool live = held;  /* held since a submission found the queue live */

    if (!held)
        nvme_lock(qp);
    /* "All" is one lap of the ring: a device holds at most entries - 1
     * new ones for a reap (CQ full, §4.1.2); one that writes entries
     * without end (device input) would otherwise hold the call forever
     * (a hang in an interrupt handler).  The rest is the next call's.
     * Under the lock: a reset may resize the ring (nvme_qpair_set_entries). */
    const unsigned limit = max != 0 ? max : qp->entries;
    unsigned budget = limit; /* entries it may still reap: one count, not two */
    /* Callbacks called in place, counted per queue (below): the queue's
     * lock and the per-CPU counts are set up with the queue and the
     * controller (qpair.c, ctrl.c) and never change while it runs, so
     * looked at once per call in nvme_qpair_process (runs), which reaps
     * many; per entry in the blocking path, whose one is its waiter. */
    const bool direct = runs && qp->lock == NULL && __builtin_expect(ctrl->cb_depth == NULL, 1);
    /* live is looked at again on every entry: a callback runs unlocked and
     * another CPU may have started a reset meanwhile. */
    while (budget != 0 && __builtin_expect(live || qp->live, 1)) {
        live = false;
        uint16_t head = qp->cq_head;
        volatile struct nvme_cqe *vc = &qp->cq[head];
        bool fresh = true; /* invalidated just now */
        if (!runs) {
            nvme_dma_sync(ctrl, (void *)(uintptr_t)vc, sizeof(*vc), NVME_DMA_FROM_DEVICE);
        } else if (left == 0) {
            left = nvme_qpair_cq_invalidate(ctrl, qp, head);
        } else {
            fresh = false; /* in the run invalidated before */
        }
        uint16_t status = vc->status;
        /* Many entries a call (runs): the next one is usually there. */
        const bool none = NVME_CQE_PHASE(status) != qp->phase;
        if (runs ? __builtin_expect(none, 0) : none) {
            if (fresh)
                break; /* not written by the device on this lap yet */
            nvme_dma_sync(ctrl, (void *)(uintptr_t)vc, sizeof(*vc), NVME_DMA_FROM_DEVICE);
            status = vc->status; /* now, not when its run was invalidated */
            if (NVME_CQE_PHASE(status) != qp->phase)
                break;
            left = 1;
        }
        if (runs)
            left--;
        nvme_dma_rmb();
        uint32_t dw0 = vc->dw0;
        uint16_t sqhd = vc->sqhd;
        uint16_t sqid = vc->sqid;
        uint16_t cid = vc->cid;

        if (__builtin_expect(++head == qp->entries, 0)) {
            head = 0;
            NVME_WRITE_ONCE(qp->phase, qp->phase ^ 1u); /* it inverts on each lap (§4.6) */
        }
        NVME_WRITE_ONCE(qp->cq_head, head);
        budget--;
        if (!notrace && __builtin_expect(ctrl->trace != 0, 0)) {
            struct nvme_cqe cqe;
            cqe.dw0 = dw0;
            cqe.dw1 = vc->dw1;
            cqe.sqhd = sqhd;
            cqe.sqid = sqid;
            cqe.cid = cid;
            cqe.status = status;
            nvme_trace_cqe(ctrl, qp->qid, &cqe);
        }

        uint16_t idx;
        if (__builtin_expect(!nvme_cqe_slot(qp, cid, sqid, &idx), 0)) {
            nvme_qpair_bogus(qp, cid, sqid);
            continue;
        }
        struct nvme_cmd_slot *s = &qp->slots[idx];
        /* Only informative here (§4.6): logged once, not at every
         * completion of a device that always reports it so (a line per
         * I/O from an interrupt handler); Linux never looks at it. */
        if (__builtin_expect(sqhd >= qp->entries, 0) && !qp->sqhd_warned) {
            qp->sqhd_warned = 1u;
            nvme_log(ctrl, NVME_LOG_WARN, "q%u: SQHD %u past the ring (logged once)", qp->qid,
                     sqhd);
        }
        uint16_t sf = NVME_CQE_SF(status);
        if (__builtin_expect(sf != 0, 0)) {
            if ((sf & 0x7ffu) == 0) /* SCT 0 SC 0: success (§4.2.3), whatever More, CRD, DNR */
                sf = 0;
            else if (nvme_qpair_retry(qp, idx, sf))
                continue;
        }
        /* nvme_qpair_process (runs) reads them after the unmap, not
         * kept across the OSAL's call: the slot is free by then, but
         * nothing takes it before the lock is let go or
         * nvme_qpair_unpark (below). */
        nvme_cmd_cb cb = runs ? NULL : s->cb;
        void *arg = runs ? NULL : s->arg;
        if (__builtin_expect(s->flags & NVME_SLOT_F_SIMPLE, 1)) {
            /* One mapped piece, no PRP list (nvme_qpair_submit_rw): what
             * nvme_slot_release does, in place.  In nvme_qpair_process
             * (runs) the slot goes back to the free list before the
             * unmap, so that none of it is kept across the OSAL's call
             * (nothing takes the slot before the lock is let go, and its
             * fields still name the buffer); the blocking path keeps the
             * order that costs it least. */
            void *buf = s->buf;
            uint32_t len = s->len;
            enum nvme_dma_dir dir = (enum nvme_dma_dir)s->dir;
            if (!runs && ctrl->osal.dma_unmap != NULL)
                ctrl->osal.dma_unmap(ctrl->osal.ctx, buf, len, dir);
            s->state = NVME_SLOT_FREE;
            s->next_free = qp->free_head;
            qp->free_head = idx;
            qp->outstanding--;
            if (runs && ctrl->osal.dma_unmap != NULL)
                ctrl->osal.dma_unmap(ctrl->osal.ctx, buf, len, dir);
            if (runs) {
                cb = s->cb;
                arg = s->arg;
            }
            if (__builtin_expect(qp->parked != 0, 0)) /* a shrunk queue's replays wait */
                nvme_qpair_unpark(qp);
        } else {
            if (runs) {
                cb = s->cb;
                arg = s->arg;
            }
            nvme_slot_release(qp, idx);
        }
        if (!(runs && direct) && cb == nvme_waiter_cb && ctrl->osal.wake == NULL) {
            /* A blocking call's waiter (no wake() to call): nvme_waiter_cb
             * in place, under the lock, which it does not need.  Not
             * told apart where nvme_qpair_process calls every callback in
             * place (direct): nvme_waiter_cb does the same, and the
             * others are spared the test. */
            (void)nvme_waiter_done(arg, sf, dw0);
        } else if (cb != NULL &&
                   (runs ? direct
                         : qp->lock == NULL && __builtin_expect(ctrl->cb_depth == NULL, 1))) {
            /* No lock to let go and callbacks counted per queue (a port
             * without locks, or with one CPU): nvme_cb_enter and
             * nvme_cb_leave in place, two tests fewer. */
            qp->in_callback++;
            cb(arg, sf, dw0);
            qp->in_callback--;
        } else if (cb != NULL) {
            /* Callbacks run unlocked: they may submit the next command. */
            uint32_t *depth = nvme_cb_enter(ctrl, qp);
            nvme_unlock(qp);
            cb(arg, sf, dw0);
            nvme_lock(qp);
            nvme_cb_leave(qp, depth);
        }
    }
    /* One CQ head doorbell per batch (§7.5.1.1), and only for a new value: it
     * also covers entries an outer call consumed before its callback let
     * this one in (until the head is written a level INTx line stays
     * asserted: a handler reaping and acknowledging nothing would be called
     * forever), and the outer call then writes nothing twice (QEMU counts
     * each head write that empties the queue as one pending interrupt
     * served).  A full lap without a head write cannot happen: the device
     * fills at most entries - 1 slots (a full queue, §4.1.2). */
    if (qp->cq_head != qp->cq_head_rung && qp->live) {
        nvme_dma_ldst();
        if (__builtin_expect(qp->sdb_cq == NULL, 1)) { /* MMIO, as nvme_qpair_cq_doorbell */
            if (!notrace)
                nvme_doorbell(ctrl, qp->cq_hdbl, qp->cq_head);
            else if (__builtin_expect(!NVME_READ_ONCE(ctrl->gone), 1)) /* lifecycle rule 6 */
                ctrl->osal.mmio_write32(ctrl->osal.ctx, qp->cq_hdbl, qp->cq_head);
            NVME_WRITE_ONCE(qp->cq_head_rung, qp->cq_head);
        } else {
            nvme_qpair_cq_doorbell(qp);
        }
    }
    unsigned reaped = limit - budget;
    if (reaped > 0 && qp->sq_tail != qp->sq_tail_rung && qp->live)
        nvme_qpair_ring_locked(qp); /* retries queued above */
    nvme_unlock(qp);
    return (int)reaped;
}

#pragma GCC visibility pop

#endif /* NVME_INTERNAL_H */
