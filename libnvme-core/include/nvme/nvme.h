/* SPDX-License-Identifier: MIT */
/*
 * nvme.h - public API of libnvme-core.
 *
 * Return convention (errors are values):
 *   0            success
 *   < 0          a host-side error, one of enum nvme_err
 *   > 0          the controller completed the command with an error; the
 *                value is the 15-bit status field of the CQE (SC, SCT,
 *                CRD, More, DNR: see NVME_SF_* in nvme_spec.h and
 *                nvme_status_name()).
 *
 * Threading: one controller may be driven from several threads when the
 * OSAL provides locks; otherwise from one thread plus (optionally) the
 * interrupt handler calling nvme_ctrl_handle_irq().
 *
 * The command lifecycle (every path follows it):
 *
 *  1. Ownership.  A buffer handed to the core (nvme_read/nvme_write,
 *     nvme_submit_*, admin calls) belongs to the device from submission
 *     until its completion has been consumed, or until the controller is
 *     stopped (CC.EN=0 and CSTS.RDY=0, or the device is gone, or the port's
 *     dma_stop ran).  No callback runs, no blocking call returns and no
 *     dma_unmap happens before that: not on a timeout, not in a reset.
 *  2. Waits.  Blocking calls return as soon as their completion is reaped
 *     (by themselves, or by nvme_ctrl_handle_irq and the OSAL's wake()).
 *     One that finds its queue full of other commands waits for a slot
 *     (reaping, ringing, checking deadlines), except from a callback.
 *  3. Deadlines.  Each command has one (I/O: command_timeout_ms; admin:
 *     admin_timeout_ms; Format, Sanitize, Device Self-test:
 *     long_admin_timeout_ms; Asynchronous Event Requests: none).  A
 *     command past it is aborted (Abort, §5.1, within the controller's
 *     ACL); if it still does not complete within abort_timeout_ms, or the
 *     controller reports CSTS.CFS, or an admin command times out, the
 *     controller is reset.  Deadlines are looked at, at most once per
 *     tick (an eighth of the I/O timeout, 1 ms .. 100 ms), by the calls
 *     that may sleep: blocking calls while they wait, nvme_qpair_poll()
 *     and nvme_ctrl_service(); they count in real time however seldom
 *     those calls come, a command being found late at most one interval
 *     between two of them after its deadline.  nvme_ctrl_handle_irq()
 *     only reaps.
 *  4. Reset.  The controller is stopped first, then commands are
 *     reclaimed: after the queues are rebuilt, I/O commands whose retry
 *     budget is left are replayed in submission order, transparently to
 *     their callers (each replay counts against the command's
 *     max_retries, as Linux's nvme_max_retries); the rest fail with
 *     NVME_ERR_ABORTED (admin commands, and I/O commands whose budget
 *     went on replays), NVME_ERR_TIMEOUT (budget spent on timeouts), or
 *     the reason the controller could not be restarted.  A reset that gets
 *     fewer I/O queues than before (Number of Queues, §5.21.1.7) cannot
 *     replay on the queues gone: a blocking call sends its command again
 *     on its CPU's queue now (as blk-mq requeues), an asynchronous one
 *     fails with NVME_ERR_ABORTED.  A reset asked for
 *     (nvme_ctrl_reset) on a controller that runs first deletes the I/O
 *     queues (their commands are replayed all the same).  While a reset
 *     runs, new calls find the queues stopped: with the OSAL's cpu_id, a
 *     blocking call on another CPU waits for the reset to end and goes
 *     on (through several resets, bounded in time); other calls get
 *     NVME_ERR_STATE (try again after NVME_EVENT_RESET).  A command whose
 *     successful completion the controller had posted before it stopped
 *     completes with it, from the reset, instead of being replayed.  An
 *     I/O command whose namespace a rescan found with another format or
 *     identity, or gone, while the core held it is never sent again (not
 *     replayed, not retried): NVME_ERR_ABORTED, as it was built for
 *     blocks of the old size.
 *  5. Retries.  A completion with a retryable status and DNR clear is
 *     retried within the budget (max_retries, default 5), after the
 *     Command Retry Delay it names (CRDT1-3; ACRE is enabled through Host
 *     Behavior Support where the controller reports delays).  A Write,
 *     Write Zeroes or Copy to a zoned namespace is retried only after an
 *     abort or Namespace Not Ready: another failure may have moved the
 *     write pointer, and the caller gets that status.
 *  6. Device gone.  Registers reading all ones mark the controller gone:
 *     everything in flight fails with NVME_ERR_GONE, new calls fail at
 *     once, no register is written again, and event_cb is told.
 *  7. Teardown.  nvme_ctrl_fini() shuts the controller down and frees the
 *     handle, like free(): the pointer is dead afterwards (also when it
 *     returns NVME_ERR_TIMEOUT: the shutdown did not complete).  Calling it from
 *     a completion callback or while a reset runs is refused
 *     (NVME_ERR_STATE, nothing done: call it again later); a callback
 *     running on another CPU is not (the OSAL's cpu_id tells them apart):
 *     like free(), fini wants no other call on the controller in progress
 *     on any CPU, and irq_teardown waits for interrupt handlers.  Builds with
 *     NVME_DEBUG check handles on entry, so fini twice or I/O after fini
 *     returns NVME_ERR_STATE and logs instead of touching freed memory
 *     (queue calls, namespace lookups and the getters, which return no
 *     error, answer 0 or NULL; nvme_ctrl_read_csts all ones).
 */
#ifndef NVME_H
#define NVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme_osal.h"
#include "nvme_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

enum nvme_err {
    NVME_OK = 0,
    NVME_ERR_INVAL = -1,        /* bad argument from the caller */
    NVME_ERR_NOMEM = -2,        /* OSAL allocation failed */
    NVME_ERR_TIMEOUT = -3,      /* a deadline passed (CAP.TO or command timeout) */
    NVME_ERR_FATAL = -4,        /* CSTS.CFS set: controller fatal status */
    NVME_ERR_GONE = -5,         /* registers read all ones: device removed */
    NVME_ERR_RANGE = -6,        /* LBA range outside the namespace */
    NVME_ERR_NOENT = -7,        /* no such (active, usable) namespace */
    NVME_ERR_ALIGN = -8,        /* buffer or length cannot be described by PRPs */
    NVME_ERR_BUSY = -9,         /* queue full, try again after reaping (asynchronous calls;
                                   blocking ones wait for a slot) (or a namespace scan
                                   on another CPU did not end within two admin deadlines,
                                   or I/O to a namespace while a Format runs, or an
                                   asynchronous or data-moving call whose namespace
                                   changed between its checks and its placement:
                                   nothing sent) */
    NVME_ERR_PROTO = -10,       /* the device returned nonsense (bad CID, bad identify data) */
    NVME_ERR_UNSUPPORTED = -11, /* the controller lacks what this needs */
    NVME_ERR_DMA = -12,         /* OSAL dma_map refused the buffer */
    NVME_ERR_ABORTED = -13,     /* command failed back by a controller reset or teardown */
    NVME_ERR_RDONLY = -14,      /* write to a read-only namespace */
    NVME_ERR_STATE = -15        /* controller not in a state to do this (not ready, resetting) */
};

/* What the core tells the port about, through nvme_ctrl_opts.event_cb.
 * Called from the context that noticed it (a blocking call, a poll, the
 * service call; never from nvme_ctrl_handle_irq); it must not call back
 * into the core on the same controller except nvme_ns_* lookups. */
enum nvme_event {
    NVME_EVENT_GONE = 1,       /* device gone: all I/O fails with NVME_ERR_GONE */
    NVME_EVENT_RESET = 2,      /* a controller reset ran; detail: 0 or why it failed */
    NVME_EVENT_DEAD = 3,       /* recovery failed: I/O fails until nvme_ctrl_reset() works */
    NVME_EVENT_NS_CHANGED = 4, /* namespaces rescanned after an event; detail: changed NSID,
                                  or NVME_NSID_ALL for more than one */
    NVME_EVENT_SMART = 5,      /* SMART / health event; detail: critical warning bits */
    NVME_EVENT_ERROR = 6,      /* error event; detail: the AER's event information */
    NVME_EVENT_NOTICE = 7,     /* other notice (firmware activation ...); detail: AER dword 0 */
    NVME_EVENT_RESERVATION = 8 /* a Reservation Notification log page, read (which removes it)
                                  and logged; detail: the NSID it names */
};
typedef void (*nvme_event_cb)(void *arg, enum nvme_event ev, uint32_t detail);

/* A short name for an enum nvme_err value ("timeout", ...). */
const char *nvme_strerror(int err);

/* --- Status decoding (status.c) ----------------------------------------- */

/* Name of a device status (the 15-bit status field): every generic,
 * command-specific, media and path status of NVMe 1.4, for example
 * "LBA Out of Range".  Unknown codes give "Reserved" or "Vendor Specific". */
const char *nvme_status_name(uint16_t sf);
/* Name of a Status Code Type: "Generic Command Status", ... */
const char *nvme_sct_name(uint16_t sct);
/* True when a retry of the same command may succeed: DNR clear and a
 * status that is not a property of the command itself. */
bool nvme_status_retryable(uint16_t sf);

/* --- Traces --------------------------------------------------------------- */

enum nvme_trace_mask {
    NVME_TRACE_REGS = 1u << 0,   /* register reads and writes */
    NVME_TRACE_SQE = 1u << 1,    /* each submitted command */
    NVME_TRACE_CQE = 1u << 2,    /* each completion */
    NVME_TRACE_STATUS = 1u << 3, /* completions with an error status */
    NVME_TRACE_INIT = 1u << 4    /* bring-up steps */
};

/* --- Controller ----------------------------------------------------------- */

struct nvme_ctrl; /* opaque */

struct nvme_ctrl_opts {
    uint16_t pci_vendor; /* for the quirk table; 0 when unknown */
    uint16_t pci_device;
    uint16_t instance;              /* N of the nvmeN the port calls this controller: the
                                     core's log lines start "nvmeN: "; 0 by default */
    uint16_t admin_queue_entries;   /* 0: 32; capped by 4096 (CAP.MQES: I/O queues only);
                                       a quarter of them keep Asynchronous Event Requests:
                                       below 4, no event is reported (bring-up says so) */
    uint16_t io_queue_entries;      /* 0: 256; capped by CAP.MQES+1 and 4096 (2 with
                                       NVME_QUIRK_IO_DEPTH_2) */
    uint16_t io_queues;             /* I/O queue pairs wanted; 0: one per CPU (cpus); fewer
                                       when granted fewer or memory runs out (info) */
    uint16_t cpus;                  /* CPUs that will submit I/O, numbered 0..cpus-1 as the
                                     OSAL's cpu_id() says; 0: 1.  CPU c uses I/O queue
                                     1 + c % (queues created): per-CPU queues take no
                                     shared lock; with fewer queues, CPUs share one */
    uint32_t command_timeout_ms;    /* I/O command deadline; 0: 30000 */
    uint32_t admin_timeout_ms;      /* admin command deadline; 0: 60000 */
    uint32_t long_admin_timeout_ms; /* Format, Sanitize, Device Self-test; 0: 600000 */
    uint32_t abort_timeout_ms;      /* after an Abort, until a reset; 0: a quarter of
                                     command_timeout_ms, at least 10 ms */
    uint8_t max_retries;            /* retries and replays per command; 0: 5;
                                     NVME_NO_RETRIES: none */
    uint32_t trace;                 /* enum nvme_trace_mask bits */
    bool polling;                   /* never ask the OSAL for interrupts */
    bool no_async_events;           /* do not keep Asynchronous Event Requests outstanding */
    uint8_t irq_coalesce_time;      /* Interrupt Coalescing (Set Features 08h, §5.21.1.8):
                                     aggregation time, 100 us units; with */
    uint8_t irq_coalesce_thr;       /* the aggregation threshold (0-based).  Both 0: off */
    bool no_shadow_doorbells;       /* do not use Doorbell Buffer Config (OACS bit 8) even
                                     where the controller has it */
    bool no_host_memory;            /* give no Host Memory Buffer, even to a controller that
                                     asks (Identify HMPRE) */
    uint16_t host_memory_max_mib;   /* Host Memory Buffer cap; 0: 128 MiB (Linux's
                                     max_host_mem_size_mb); below HMMIN: none */
    nvme_event_cb event_cb;         /* OPTIONAL: told about resets, removal, events */
    void *event_arg;
};
#define NVME_NO_RETRIES 0xffu

/* Counters of the lifecycle, for tests, diagnostics and nvmectl. */
struct nvme_ctrl_stats {
    uint64_t timeouts;     /* commands found past their deadline */
    uint64_t aborts_sent;  /* Abort commands submitted */
    uint64_t aborts_done;  /* ... that the controller reported as aborted */
    uint64_t resets;       /* controller resets (recovery and nvme_ctrl_reset) */
    uint64_t replays;      /* commands resubmitted after a reset */
    uint64_t retries;      /* commands resubmitted after a retryable status */
    uint64_t async_events; /* Asynchronous Event Request completions */
    uint64_t rescans;      /* namespace rescans that changed the table */
};

/* What the controller reported, decoded once at bring-up. */
struct nvme_ctrl_info {
    uint64_t cap;               /* CAP register, raw */
    uint32_t vs;                /* VS register, raw */
    uint32_t max_queue_entries; /* CAP.MQES + 1 (64: NVME_QUIRK_MQES_0_IS_64) */
    uint32_t doorbell_stride;   /* bytes: 4 << CAP.DSTRD */
    uint32_t timeout_ms;        /* CAP.TO * 500 */
    uint32_t page_size;         /* memory page size chosen, bytes (CC.MPS) */
    uint32_t mdts_bytes;        /* max bytes per command the core will send */
    uint64_t mdts_reported;     /* Identify MDTS in bytes, 0 = no limit; a limit of 2^64
                                   bytes or more reads UINT64_MAX (mdts_log2 is exact) */
    uint16_t vid, ssvid;
    uint16_t cntlid; /* Identify Controller CNTLID */
    char serial[21]; /* trailing spaces removed, NUL-terminated */
    char model[41];
    char firmware[9];
    uint32_t nn; /* Identify NN */
    uint16_t oacs, oncs;
    uint8_t vwc, lpa, sqes, cqes;
    uint16_t wctemp, cctemp;   /* Kelvin */
    uint16_t io_queues;        /* I/O queue pairs created */
    uint16_t io_queue_entries; /* entries per I/O queue */
    uint16_t admin_queue_entries;
    uint16_t irq_vectors; /* granted, 0 = polling */
    bool irq_is_intx;
    bool enabled_at_start; /* firmware had left CC.EN=1 */
    bool shadow_doorbells; /* I/O queues use shadow doorbells and event indexes */
    uint32_t hmb_kib;      /* Host Memory Buffer the controller took, KiB; 0: none */
    /* Added with issue 9 */
    bool admin_only;              /* Set Features Number of Queues failed: the controller
                                   runs with its admin queue only; I/O calls return
                                   NVME_ERR_UNSUPPORTED until a reset gets the queues */
    uint32_t quirks;              /* NVME_QUIRK_* bits that apply (by PCI IDs) */
    uint32_t shutdown_timeout_ms; /* RTD3E, clamped to 5 s .. 60 s like Linux */
    uint16_t mdts_log2;           /* the Identify MDTS limit is 2^mdts_log2 bytes
                                     (MDTS + 12 + CAP.MPSMIN, up to 282); 0 = no limit */
    uint32_t ctratt;              /* Identify Controller CTRATT (e.g. NVME_CTRATT_ELBAS) */
};

/*
 * Bring the controller up: read CAP/VS, disable it if firmware left it
 * enabled, set up the admin queue, enable, Identify Controller, Set
 * Features Number of Queues, create the I/O queues (interrupt driven if
 * the OSAL grants vectors, else polled), set the features a reset clears
 * (events, Host Behavior Support...), give a Host Memory Buffer to a
 * controller that asks (Identify HMPRE; see the options), then enumerate
 * the namespaces (CNS 02h).  `opts` may be NULL.  On failure nothing stays allocated and the
 * controller is left disabled.
 */
int nvme_ctrl_init(struct nvme_ctrl **out, const struct nvme_osal *osal,
                   const struct nvme_ctrl_opts *opts);
/* Take the Host Memory Buffer back (EHM cleared), delete I/O queues,
 * normal shutdown (CC.SHN=01b, wait for CSTS.SHST=10b,
 * bounded by RTD3E clamped to 5..60 s like Linux, or CAP.TO), then, with the controller
 * stopped, fail back whatever is in flight (NVME_ERR_ABORTED) and free
 * everything.  NULL is allowed (returns 0).  Returns 0, or, with
 * everything freed all the same, the shutdown notification's error when
 * it did not complete: NVME_ERR_TIMEOUT (SHST not 10b in time) or
 * NVME_ERR_GONE (the device vanished meanwhile), and then the volatile
 * write cache may not be committed.  A controller already dead or gone
 * gets no notification (0; NVME_EVENT_DEAD/GONE told it).  Returns
 * NVME_ERR_STATE, doing nothing, when called from a completion callback
 * or while a reset runs (another CPU's: call it again once the reset
 * ended, NVME_EVENT_RESET) (lifecycle rule 7). */
int nvme_ctrl_fini(struct nvme_ctrl *ctrl);
/* Controller reset (§7.3.2): delete the I/O queues (§5.5, §5.6) when the
 * controller runs, stop it (CC.EN=0, RDY=0), then rebuild admin and I/O
 * queues and replay or fail what was in flight (lifecycle rule 4).
 * NVME_ERR_STATE while another reset runs.  Also brings back a controller that was gone or
 * dead once its registers answer again.  Then reads the firmware revision
 * again (nvme_ctrl_info.firmware: a Firmware Commit may activate one at
 * the reset).  May sleep.  Returns 0 once the controller runs again; when
 * every attempt failed, the last one's error (NVME_ERR_TIMEOUT: CSTS.RDY
 * never came, NVME_ERR_FATAL, ...) with the controller dead
 * (NVME_EVENT_DEAD; calls, those that waited for the reset included, fail
 * with NVME_ERR_FATAL), or NVME_ERR_GONE with the device gone. */
int nvme_ctrl_reset(struct nvme_ctrl *ctrl);
/* Periodic work that may sleep: deadlines (Abort, reset), a CSTS look (a
 * fatal or vanished controller is noticed even when idle), retries whose
 * delay passed, and asynchronous events (log pages read, namespaces
 * rescanned, event_cb told).  Call it every 100 ms .. 1 s from a thread,
 * a deferred-work context or a polled main loop, never from an interrupt
 * handler.  Returns 0, NVME_ERR_GONE, or NVME_ERR_FATAL when the
 * controller is dead. */
int nvme_ctrl_service(struct nvme_ctrl *ctrl);
/* The live counters: any CPU adds to them atomically (on 32-bit ISAs as
 * two 32-bit words, so a read racing a carry out of the low word may be
 * 2^32 short for that moment).  While I/O runs on other CPUs, read them
 * with atomic loads. */
const struct nvme_ctrl_stats *nvme_ctrl_get_stats(const struct nvme_ctrl *ctrl);
/* What bring-up found.  A restart (a reset, a firmware activation) takes
 * some fields again (firmware, nn, oacs, oncs, vwc, lpa, ctratt, the MDTS
 * fields, io_queues...): while another CPU may reset, read such a field
 * once (a volatile or relaxed atomic load) and use that value; the
 * firmware string may then be mid-copy. */
const struct nvme_ctrl_info *nvme_ctrl_get_info(const struct nvme_ctrl *ctrl);
/* CSTS.RDY=1, CFS=0, and the core's queues are live. */
bool nvme_ctrl_is_ready(struct nvme_ctrl *ctrl);
/* Read CSTS (for nvmectl ready and diagnostics); all ones for NULL. */
uint32_t nvme_ctrl_read_csts(struct nvme_ctrl *ctrl);
/* The controller registers of NVMe 2.0 §3.1.3 (Figure 35), as read. */
struct nvme_ctrl_regs {
    uint64_t cap;                     /* 00h Controller Capabilities */
    uint32_t vs;                      /* 08h Version */
    uint32_t intms, intmc;            /* 0Ch, 10h Interrupt Mask Set / Clear (both read the mask);
                                         read with an INTx line only (info.irq_is_intx), else 0:
                                         §3.1.3 forbids any access with MSI-X */
    uint32_t cc;                      /* 14h Controller Configuration */
    uint32_t csts;                    /* 1Ch Controller Status */
    uint32_t nssr;                    /* 20h NVM Subsystem Reset (reads 0) */
    uint32_t aqa;                     /* 24h Admin Queue Attributes */
    uint64_t asq, acq;                /* 28h, 30h Admin Submission / Completion Queue Base */
    uint32_t cmbloc, cmbsz;           /* 38h, 3Ch Controller Memory Buffer Location, Size */
    uint32_t bpinfo, bprsel;          /* 40h, 44h Boot Partition Information, Read Select */
    uint64_t bpmbl;                   /* 48h Boot Partition Memory Buffer Location */
    uint64_t cmbmsc;                  /* 50h CMB Memory Space Control */
    uint32_t cmbsts, cmbebs, cmbswtp; /* 58h, 5Ch, 60h CMB Status, Elasticity Buffer Size,
                                         Sustained Write Throughput */
    uint32_t nssd;                    /* 64h NVM Subsystem Shutdown (reads 0) */
    uint32_t crto;                    /* 68h Controller Ready Timeouts */
    uint32_t pmrcap, pmrctl, pmrsts;  /* E00h, E04h, E08h Persistent Memory Region */
    uint32_t pmrebs, pmrswtp;         /* E0Ch, E10h */
    uint32_t pmrmscl, pmrmscu;        /* E14h, E18h PMR Memory Space Control */
};
/* Reads every register of struct nvme_ctrl_regs into *out (nvme-cli's
 * show-regs): 64-bit ones as nvme_osal.h's 64-bit reads or, without them,
 * two 32-bit reads low then high; INTMS and INTMC with INTx only (0
 * otherwise, §3.1.3: no access with MSI-X); never a write (NSSR and
 * NSSD read 0; a write to them resets or shuts down the subsystem).
 * Takes no lock, so it may be called in any state: dead, admin-only,
 * from another CPU while a reset runs (a snapshot, not atomic across
 * registers).  Returns
 * 0; NVME_ERR_INVAL for a NULL argument; NVME_ERR_GONE, *out all ones,
 * when the core marked the device gone (nothing is read then: the
 * address may belong to something else) or CAP, VS or CSTS reads all
 * ones. */
int nvme_ctrl_regs_read(struct nvme_ctrl *ctrl, struct nvme_ctrl_regs *out);
/* Called by the port when interrupt vector `vector` fires.  Reaps the
 * completion queues bound to it, runs their callbacks.  Returns how many
 * completions were reaped (0: not ours, for shared INTx). */
unsigned nvme_ctrl_handle_irq(struct nvme_ctrl *ctrl, unsigned vector);
/* Total interrupts handled that found work, per controller (for tests). */
uint64_t nvme_ctrl_irq_count(const struct nvme_ctrl *ctrl);
void nvme_ctrl_set_trace(struct nvme_ctrl *ctrl, uint32_t mask);

/* --- Quirks (ctrl.c) ---------------------------------------------------------
 * Behaviours of particular controllers, looked up by the PCI IDs given in
 * nvme_ctrl_opts; nvme_ctrl_info.quirks says which apply.  The table
 * mirrors Linux's drivers/nvme/host/pci.c for the same IDs, where the
 * core has an equivalent; ctrl.c names each entry's origin. */
#define NVME_QUIRK_SPLIT_64BIT_MMIO (1u << 0) /* never use mmio_*64 */
#define NVME_QUIRK_DELAY_BEFORE_READY                                                              \
    (1u << 1)                                /* Linux DELAY_BEFORE_CHK_RDY: wait 2.3 s
                                                  after CC.EN=0 before polling CSTS.RDY */
#define NVME_QUIRK_NO_WRITE_ZEROES (1u << 2) /* Linux DISABLE_WRITE_ZEROES */
#define NVME_QUIRK_DEALLOCATE_ZEROES                                                               \
    (1u << 3)                                /* Linux DEALLOCATE_ZEROES: deallocated blocks
                                                  read as zeros whatever DLFEAT says */
#define NVME_QUIRK_NO_NS_DESC_LIST (1u << 4) /* Linux NO_NS_DESC_LIST: no CNS 03h */
#define NVME_QUIRK_SINGLE_VECTOR (1u << 5)   /* Linux SINGLE_VECTOR: one interrupt vector */
#define NVME_QUIRK_128_BYTES_SQES (1u << 6)  /* Linux 128_BYTES_SQES (Apple): CC.IOSQES=7 */
/* Linux SHARED_TAGS (Apple): one tag space for admin and I/O CIDs: one I/O
 * queue, whose CIDs start above the admin queue's. */
#define NVME_QUIRK_SHARED_TAGS (1u << 7)
#define NVME_QUIRK_SKIP_CID_GEN (1u << 8) /* Linux SKIP_CID_GEN (Apple): CID = tag, no generation */
#define NVME_QUIRK_IDENTIFY_CNS                                                                    \
    (1u << 9)                                   /* Linux IDENTIFY_CNS: no CNS 02h list
                                                  (namespaces 1..NN are probed) */
#define NVME_QUIRK_NO_DEEPEST_PS (1u << 10)     /* Linux NO_DEEPEST_PS: recorded (no APST use) */
#define NVME_QUIRK_BOGUS_NID (1u << 11)         /* Linux BOGUS_NID: ignore EUI64/NGUID */
#define NVME_QUIRK_IGNORE_DEV_SUBNQN (1u << 12) /* Linux IGNORE_DEV_SUBNQN: recorded */
/* The core's own (QEMU 2.8 to 8.2): a command moving more than 512
 * bytes of metadata (separate or interleaved) moves whole 512-byte
 * sectors of it (nvm_cmds.c). */
#define NVME_QUIRK_MD_SECTORS (1u << 13)
/* Linux's nvme_pci_enable (beside its table): Samsung's PM1725 and PM1725a
 * report CAP.MQES 0, an invalid value (NVMe 1.4 §3.1.1); their I/O queues
 * get 64 entries. */
#define NVME_QUIRK_MQES_0_IS_64 (1u << 14)
/* Linux's nvme_pci_enable (beside its table): Apple's 106b:2001
 * (MacBook8,1, some MacBook7,1) gets I/O queues of 2 entries, "to work
 * around controller resets" and data loss. */
#define NVME_QUIRK_IO_DEPTH_2 (1u << 15)
/* Quirks of a PCI vendor/device pair (0 when none). */
uint32_t nvme_quirks_lookup(uint16_t vendor, uint16_t device);

/* --- Admin commands (admin.c) --------------------------------------------- */

/* Identify (CNS `cns`, NSID `nsid`) into `buf` (4096 bytes, any memory). */
int nvme_identify(struct nvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf);
/* Get Log Page `lid` for `nsid` into buf (len a multiple of 4, any size:
 * see nvme_get_log for offsets, LSP, RAE and how large pages are split). */
int nvme_get_log_page(struct nvme_ctrl *ctrl, uint8_t lid, uint32_t nsid, void *buf, uint32_t len);
/* SMART / Health Information (LID 02h), controller scope. */
int nvme_get_smart_log(struct nvme_ctrl *ctrl, struct nvme_smart_log *log);
/* Get / Set Features of a feature without a data structure (CDW11 in,
 * Dword 0 out); NVME_ERR_INVAL, nothing sent, for one with a structure
 * (nvme_feature_data_len != 0) and for a vendor-specific one (C0h-FFh,
 * whose data only its vendor knows): use nvme_get_feature/
 * nvme_set_feature, which never leave the device a PRP1 of 0.  Set
 * Features Keep Alive Timer (0Fh) with a KATO other than 0 is refused,
 * NVME_ERR_INVAL, nothing sent, here, by nvme_set_feature and by
 * nvme_admin_passthru: the core sends no Keep Alive, and the controller
 * would stop processing commands when its timer expired (Keep Alive;
 * the Keep Alive Timer feature, KATO, §5.21.1.15). */
int nvme_get_features(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11, uint32_t *dw0);
int nvme_set_features(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11, uint32_t *dw0);
/* Submit any admin command and wait; the SQE's CID, PRPs and MPTR are
 * the core's: the data go through a DMA bounce of whole pages, from or
 * into buf/len (buf may be NULL when len is 0; an opcode whose bits 1:0
 * say it may move data gets a page even then; with len != 0, dir is one of
 * enum nvme_dma_dir).  NVME_ERR_INVAL, nothing sent: a dir that is not,
 * or that excludes the way the opcode's bits 1:0 say its data moves
 * (§5, Figure 139: 01b to the controller, 10b from it, 11b both), the
 * opcodes that manage the core's own queues, commands, event requests,
 * shadow doorbells and host memory (Create/Delete I/O SQ/CQ, Abort (the
 * CIDs are the core's), Asynchronous Event Request, Doorbell Buffer
 * Config, Controller Data Queue (45h: the controller writes its memory
 * after the completion), Set Features Host Memory Buffer; Set Features Keep Alive
 * Timer with a KATO other than 0, see above), and a command whose length
 * the core knows from its fields (Identify, Get Log Page, Get Features,
 * Directive Send and Receive, Security Send and Receive, Get LBA Status,
 * Firmware Image Download) when `len` is short for it; a longer buffer
 * moves only that length, its tail left alone.  Commands whose
 * effects on the I/O path are known get what the core's own calls do (as
 * Linux's passthrough): Format NVM and Sanitize (not Exit Failure Mode)
 * as nvme_format does (I/O drained and refused, NVME_ERR_BUSY or
 * NVME_ERR_TIMEOUT as there), then a rescan; Namespace Management and
 * Attachment, a rescan after (and what their Commands Supported and
 * Effects entries add: CSE as Format); commands that only report (Identify, Get
 * Log Page, Get Features, Get LBA Status, Directive and Security Receive,
 * Abort, Keep Alive), nothing.
 * Any other opcode, vendor-specific ones included, gets what the
 * controller's Commands Supported and Effects log declares for it (LPA
 * bit 1; one Get Log Page before the command): CSE as Format, NIC or NCC
 * a rescan after.  The command's result wins over the rescan's; a
 * rescan that failed is retried by the next nvme_ctrl_service(). */
int nvme_admin_passthru(struct nvme_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf, uint32_t len,
                        enum nvme_dma_dir dir, uint32_t *dw0);

/* --- Namespaces (ns.c) ------------------------------------------------------ */

struct nvme_ns_info {
    uint32_t nsid;
    int status;    /* 0 usable; < 0 why not (NVME_ERR_PROTO for bad identify data) */
    uint64_t nsze; /* in logical blocks */
    uint64_t ncap;
    uint64_t nuse;
    uint32_t lba_size; /* bytes: 2^LBADS */
    uint8_t lbads;
    uint8_t flbas;
    uint8_t nlbaf;
    uint16_t ms; /* metadata bytes per block of the current format */
    uint8_t rp;
    bool read_only; /* host-side policy, set by nvme_ns_set_read_only() */
    /* The device's: Identify Namespace NSATTR bit 0 (Write Protected,
     * NVMe 1.4 Figure 245), read at every scan, so a Namespace Attribute
     * Changed event's rescan sees it set or cleared; the controller fails
     * writes while it is set (Namespace is Write Protected, status 20h).
     * Separate from read_only: neither changes the other. */
    bool write_protected;
    /* LBA formats 0..nlbaf (NVMe 2.0: up to 64; lbaf[0..15] as in 1.4;
     * nlbaf is NLBAF + NULBAF, the unique capability formats listed after
     * NLBAF included, at most 63: more makes the namespace unusable).
     * The one in use is lbaf[format]. */
    struct nvme_lbaf lbaf[NVME_LBAF_COUNT];
    /* --- Formats beyond plain blocks (nvme.h "Every namespace format") --- */
    uint8_t format;            /* index of the LBA format in use (FLBAS bits 3:0 and 6:5) */
    bool md_extended;          /* metadata interleaved with data (FLBAS bit 4): buffers hold
                          lba_size + ms bytes per block */
    uint8_t pi_type;           /* protection information type 0 (none), 1, 2, 3 (DPS 2:0) */
    bool pi_first;             /* PI in the first 8 metadata bytes (DPS bit 3) */
    bool plain_io;             /* nvme_read/nvme_write work: no metadata, or PI only (ms =
                          pi_size) which the controller inserts, checks and strips
                          (PRACT, PRCHK).  Other metadata formats (PI with ms >
                          pi_size included) need nvme_read_ext/nvme_write_ext and a
                          metadata buffer */
    uint8_t dlfeat;            /* Identify Namespace DLFEAT */
    uint8_t csi;               /* command set: NVME_CSI_NVM, NVME_CSI_ZNS */
    uint8_t zdes;              /* zoned: ZDES, zone descriptor extension in 64-byte units */
    uint64_t zone_size;        /* zoned namespaces: blocks per zone (ZNS LBAFE ZSZE) */
    uint64_t nr_zones;         /* nsze / zone_size */
    uint32_t max_open_zones;   /* MOR + 1, 0: no limit */
    uint32_t max_active_zones; /* MAR + 1, 0: no limit */
    /* Copy limits (Identify Namespace MSSRL, MCL, MSRC + 1), as reported */
    uint16_t copy_max_range;  /* blocks in one source range */
    uint16_t copy_max_ranges; /* source ranges in one command */
    uint32_t copy_max_blocks; /* blocks in one command */
    /* Identity, Identify Namespace NGUID (bytes 119:104) and EUI64
     * (127:120), zeros when not given; the UUID of its Namespace
     * Identification Descriptor list (CNS 03h, NVMe 1.3 and later), read
     * where command sets are enabled or neither NGUID nor EUI64 is given
     * (a controller may name a namespace by UUID alone), else zeros; and
     * this namespace's own
     * generation, bumped by each rescan that found it changed: another
     * status (a Format's or Sanitize's BUSY aside), size, format, zone
     * size or command set, or other identifiers (a
     * namespace deleted and created again under its NSID, which Linux
     * also takes for a new one).  A port that caches blocks compares it. */
    uint8_t nguid[16];
    uint8_t eui64[8];
    uint8_t uuid[16];
    uint32_t gen;
    /* The core's own: the namespace epoch from which this object is the
     * namespace with these identifiers (moved when they change), so that
     * a blocking call's pieces never go to two namespaces. */
    uint32_t ids_epoch;
    /* The PI's format (NVM CS 1.0 §5.2.1), from the in-use format's Extended
     * LBA Format (Identify CNS 05h CSI 00h, read for PI namespaces when
     * CTRATT.ELBAS is set; else the 16b Guard of NVMe 1.4). */
    uint8_t pif;     /* Protection Information Format: NVME_PIF_16B_GUARD, _32B_, _64B_ */
    uint8_t sts;     /* Storage Tag Size, bits */
    uint8_t pi_size; /* PI bytes per block the core builds commands for: 8 (16b Guard) or 16
                        (64b Guard, its 48-bit reference tag), no storage tag; 0 without
                        PI or for a format the core does not handle (32b Guard, a
                        storage tag, a refused CNS 05h with ms above 8): PI flags, plain
                        I/O and Write Zeroes are refused there, as Linux hides them */
};

/* Handles (the pointers below) stay valid until nvme_ctrl_fini, across
 * rescans and resets: a rescan builds its new table before it replaces
 * the old one (a failed rescan keeps the old one), updates namespaces in
 * place, and marks one that disappeared with status NVME_ERR_NOENT.  The
 * lookups take no lock and may run on any CPU during a rescan.  At most
 * 65,536 NSIDs get a namespace object over the controller's life: one new
 * to the core past that is not listed (logged). */

/* Number of active namespaces found (usable or not). */
unsigned nvme_ns_count(const struct nvme_ctrl *ctrl);
/* The idx-th active namespace, in increasing NSID order, or NULL. */
const struct nvme_ns_info *nvme_ns_at(const struct nvme_ctrl *ctrl, unsigned idx);
/* Namespace by NSID, or NULL when it is not active. */
const struct nvme_ns_info *nvme_ns_find(const struct nvme_ctrl *ctrl, uint32_t nsid);
/* Re-run namespace enumeration (CNS 02h + CNS 00h for each).  One scan
 * runs at a time: a second CPU's waits for it, then reads the device.
 * Without CNS 02h it probes NSIDs 1..NN, at most 1024 (a larger NN is
 * logged; namespaces past it are not used). */
int nvme_ns_rescan(struct nvme_ctrl *ctrl);
/* Bumped by every rescan that changed the namespace table or a namespace. */
uint32_t nvme_ns_generation(const struct nvme_ctrl *ctrl);
/* Host-side write protection of a namespace (EXOS DISK_ACCESS_READONLY). */
int nvme_ns_set_read_only(struct nvme_ctrl *ctrl, uint32_t nsid, bool ro);

/* --- I/O (io.c) ---------------------------------------------------------------
 * Buffers: any memory the OSAL can map; its address must be dword aligned
 * (§4.3: PRP entries have bits 1:0 cleared).  `count` is in logical blocks
 * of the namespace.  The blocking calls split transfers larger than MDTS,
 * and on zoned namespaces at zone boundaries, and keep several pieces in
 * flight. */

int nvme_read(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count, void *buf);
int nvme_write(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count,
               const void *buf);
/* One active namespace, or NVME_NSID_ALL: every namespace (one Flush of
 * NSID FFFFFFFFh where Identify Controller VWC bits 2:1 are 11b, else one
 * per active namespace; nvme_submit_flush then says NVME_ERR_UNSUPPORTED).
 * Namespaces unusable for read and write (nvme_ns_info.status) are flushed
 * too, by either: a Flush needs no LBA format (§6.8) and their cache may
 * hold earlier writes.  NVME_ERR_BUSY while a Format or Sanitize holds the
 * namespaces frozen. */
int nvme_flush(struct nvme_ctrl *ctrl, uint32_t nsid);

/* The I/O queue of the calling CPU (OSAL cpu_id(), CPU 0 without it). */
#define NVME_QID_CPU 0xffffu
/* I/O queue used by CPU `cpu` (1..io_queues), 0 when none. */
uint16_t nvme_ctrl_cpu_qid(const struct nvme_ctrl *ctrl, unsigned cpu);

/* Asynchronous I/O on I/O queue `qid` (1..io_queues, or NVME_QID_CPU; a
 * reset may leave fewer queues, when the controller grants fewer: a qid
 * above io_queues then is NVME_ERR_INVAL, where NVME_QID_CPU follows; no
 * queue yet, during a reset, is NVME_ERR_STATE: submit again).  One
 * command, at most mdts_bytes: above it NVME_ERR_INVAL, nothing sent, or
 * NVME_ERR_UNSUPPORTED when a reset lowered mdts_bytes below the size (a
 * new firmware's MDTS; the caller may have sized it before): cut it at
 * mdts_bytes now.  `cb` runs from nvme_qpair_poll() or
 * nvme_ctrl_handle_irq() with the result (same convention as above); a
 * read or write without one (NULL) is NVME_ERR_INVAL, nothing sent: the
 * caller would never learn that its buffer is back (rule 1).
 * With NVME_SUBMIT_NO_DOORBELL the SQ tail doorbell is left for a later
 * submission or nvme_qpair_ring(), so a batch costs one MMIO write.  It is
 * the only flag the three asynchronous calls take (a bit no NVME_IO_*
 * flag uses): any other, NVME_IO_FUA included, is NVME_ERR_INVAL, nothing
 * sent. */
typedef void (*nvme_cmd_cb)(void *arg, int result, uint32_t dw0);
#define NVME_SUBMIT_NO_DOORBELL (1u << 12)
int nvme_submit_rw(struct nvme_ctrl *ctrl, uint16_t qid, uint8_t opc, uint32_t nsid, uint64_t lba,
                   uint32_t count, void *buf, unsigned flags, nvme_cmd_cb cb, void *arg);
int nvme_submit_flush(struct nvme_ctrl *ctrl, uint16_t qid, uint32_t nsid, unsigned flags,
                      nvme_cmd_cb cb, void *arg);
/* Rings queue `qid`'s SQ tail doorbell (NVME_QID_CPU: the calling CPU's,
 * as for the submissions; so do nvme_qpair_poll and nvme_qpair_outstanding). */
void nvme_qpair_ring(struct nvme_ctrl *ctrl, uint16_t qid);
/* A batch of reads and writes on one queue and namespace: each request
 * is checked as nvme_submit_rw checks it, and they are placed in order
 * under one hold of the queue's lock, with one SQ doorbell at the end
 * (none with NVME_SUBMIT_NO_DOORBELL), as Linux's queue_rqs does.
 * Returns NVME_OK when all n went in; otherwise the error of
 * reqs[*submitted], which did not go in, nor any after it, while the
 * *submitted before it are in flight and get their callbacks. */
struct nvme_rw_req {
    uint64_t lba;
    void *buf;
    nvme_cmd_cb cb;
    void *arg;
    uint32_t count;
    uint8_t opc; /* NVME_CMD_READ or NVME_CMD_WRITE */
};
int nvme_submit_rw_batch(struct nvme_ctrl *ctrl, uint16_t qid, uint32_t nsid,
                         const struct nvme_rw_req *reqs, unsigned n, unsigned flags,
                         unsigned *submitted);
/* Reap up to `max` completions (0: all available) of queue `qid` (0 is the
 * admin queue).  When it reaps nothing it also runs the deadline and CSTS
 * checks of nvme_ctrl_service() (at most once per tick), so it may run a
 * reset and sleep: call nvme_ctrl_handle_irq() from interrupt handlers,
 * not this.  Returns the number reaped, or < 0 when the controller is
 * gone or dead. */
int nvme_qpair_poll(struct nvme_ctrl *ctrl, uint16_t qid, unsigned max);
/* Commands in flight on a queue. */
unsigned nvme_qpair_outstanding(const struct nvme_ctrl *ctrl, uint16_t qid);

/* 128-bit little-endian counter (SMART) as two 64-bit halves. */
struct nvme_u128 {
    uint64_t lo, hi;
};

/* === Identify, decoded (identify.c) ==========================================
 * Every call below copies and checks what the controller returned; raw
 * 4 KiB structures stay reachable through nvme_identify().  Structures
 * are large: allocate them, do not put them on a small kernel stack. */

/* A Power State Descriptor (Identify Controller bytes 2048+32n, NVMe 2.0
 * Figure 276), decoded. */
struct nvme_power_state {
    uint16_t mp;                /* Maximum Power, units of mxps ? 0.0001 W : 0.01 W */
    bool mxps;                  /* Max Power Scale */
    bool nops;                  /* Non-Operational State */
    uint32_t enlat;             /* Entry Latency, us */
    uint32_t exlat;             /* Exit Latency, us */
    uint8_t rrt, rrl, rwt, rwl; /* relative read/write throughput/latency */
    uint16_t idlp;              /* Idle Power, scale ips */
    uint8_t ips;                /* 0 not reported, 1: 0.0001 W, 2: 0.01 W */
    uint16_t actp;              /* Active Power, scale aps */
    uint8_t apw;                /* Active Power Workload */
    uint8_t aps;                /* Active Power Scale */
    uint32_t max_power_uw;      /* mp converted to microwatts */
};

/* Identify Controller (CNS 01h): every field as read (`raw`, in host
 * order: the core runs on little-endian hosts only), plus the decoded
 * strings, capacities and power states. */
struct nvme_ctrl_identify {
    struct nvme_id_ctrl raw;
    char serial[21]; /* trailing blanks removed, non-printables as '.' */
    char model[41];
    char firmware[9];
    char subnqn[257];
    unsigned ver_major, ver_minor, ver_tertiary; /* VER, or the VS register when 0 */
    uint64_t mdts_bytes; /* MDTS in bytes, 0 = no limit (as nvme_ctrl_info.mdts_reported) */
    struct nvme_u128 tnvmcap, unvmcap; /* bytes */
    unsigned power_states;             /* NPSS + 1 (1..32) */
    struct nvme_power_state ps[32];
};
int nvme_identify_ctrl(struct nvme_ctrl *ctrl, struct nvme_ctrl_identify *out);

/* Identify Namespace (CNS 00h) of `nsid`, checked: NLBAF <= 63, the
 * format in use within NLBAF.  Returns NVME_ERR_PROTO (with `raw` filled)
 * for nonsense, a status (> 0) for an NSID the controller refuses.
 * NVME_NSID_ALL: the capabilities common to all namespaces (the formats
 * a Namespace Management create may use), which a controller with
 * Namespace Management returns and others refuse (NVMe 1.4 §5.15.2.1). */
struct nvme_ns_identify {
    struct nvme_id_ns raw;
    unsigned formats; /* NLBAF + 1 (1..64) */
    unsigned format;  /* index in use (FLBAS bits 3:0, and 6:5 with > 16 formats) */
    bool md_extended; /* FLBAS bit 4 */
    uint8_t pi_type;  /* DPS bits 2:0 */
    bool pi_first;    /* DPS bit 3 */
    struct nvme_u128 nvmcap;
};
int nvme_identify_ns(struct nvme_ctrl *ctrl, uint32_t nsid, struct nvme_ns_identify *out);
/* The same for an allocated NSID, attached to this controller or not
 * (CNS 11h: NVMe 1.4 Figure 244; nvme-cli's id-ns --force), as after a
 * create, before an attach: CNS 00h gives zeros for a namespace not
 * attached.  An NSID not allocated gives zeros too.  NVME_ERR_UNSUPPORTED
 * (no command sent) without Namespace Management (OACS bit 3). */
int nvme_identify_ns_allocated(struct nvme_ctrl *ctrl, uint32_t nsid, struct nvme_ns_identify *out);
/* LBA format `idx` (0..63) of Identify Namespace data: NVMe 2.0 puts
 * format i at byte 128 + 4 i.  Formats past 63 read as zeros. */
struct nvme_lbaf nvme_id_ns_lbaf(const struct nvme_id_ns *id, unsigned idx);
/* The format index in use (FLBAS bits 3:0, plus bits 6:5 when NLBAF > 15). */
unsigned nvme_id_ns_format(const struct nvme_id_ns *id);

/* Namespace Identification Descriptor list (CNS 03h, NVMe 2.0 §5.17.2.3):
 * each identifier is present or not.  Malformed lists (a length that does
 * not match its type, a descriptor past 4096 bytes) give NVME_ERR_PROTO. */
struct nvme_ns_ids {
    bool has_eui64, has_nguid, has_uuid, has_csi;
    uint8_t eui64[8];
    uint8_t nguid[16];
    uint8_t uuid[16];
    uint8_t csi; /* NVME_CSI_*; NVME_CSI_NVM when the list has none */
};
int nvme_identify_ns_descs(struct nvme_ctrl *ctrl, uint32_t nsid, struct nvme_ns_ids *out);
/* Active NSIDs greater than `start` (CNS 02h), ascending: at most `max`
 * (<= 1024, one Identify) into `list`, how many in *count. */
int nvme_identify_active_ns(struct nvme_ctrl *ctrl, uint32_t start, uint32_t *list, unsigned max,
                            unsigned *count);
/* Allocated NSIDs greater than `start` (CNS 10h, §5.15.2: attached to a
 * controller or not), like nvme_identify_active_ns; NVME_ERR_UNSUPPORTED
 * (no command sent) without namespace management (OACS bit 3). */
int nvme_identify_allocated_ns(struct nvme_ctrl *ctrl, uint32_t start, uint32_t *list, unsigned max,
                               unsigned *count);
/* The same lists restricted to the namespaces of I/O Command Set `csi`
 * (NVME_CSI_*; NVMe 2.0 CNS 07h active, 1Ah allocated with `allocated`);
 * NVME_ERR_UNSUPPORTED (no command sent) for a set other than NVM when
 * the controller runs only the NVM set (nvme_ctrl_css), or for the
 * allocated list without namespace management. */
int nvme_identify_ns_list_csi(struct nvme_ctrl *ctrl, uint8_t csi, bool allocated, uint32_t start,
                              uint32_t *list, unsigned max, unsigned *count);
/* Controller identifiers >= `start` (CNS 13h: in the NVM subsystem; with
 * nsid != 0, CNS 12h: attached to that namespace), at most `max`. */
int nvme_identify_ctrl_list(struct nvme_ctrl *ctrl, uint32_t nsid, uint16_t start, uint16_t *ids,
                            unsigned max, unsigned *count);
/* I/O Command Set data structure (CNS 1Ch): the command-set vectors the
 * controller supports (bit n = CSI n), at most `max` (<= 512):
 * vectors[i] is Command Set Combination Index i, *count one past the
 * last non-zero vector (0 before it: an index not used). */
int nvme_identify_iocs(struct nvme_ctrl *ctrl, uint64_t *vectors, unsigned max, unsigned *count);
/* Command set specific Identify: CNS 05h (namespace) / 06h (controller)
 * for command set `csi` into buf (4096 bytes); NVME_ERR_UNSUPPORTED before
 * NVMe 2.0-style command sets were enabled (CC.CSS 110b). */
int nvme_identify_cs(struct nvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, uint8_t csi, void *buf);
/* CC.CSS the core enabled the controller with (NVME_CC_CSS_NVM or _IOCS). */
uint32_t nvme_ctrl_css(const struct nvme_ctrl *ctrl);

/* === Features with select and data (identify.c) ==============================
 * Get Features with SEL (current, default, saved, supported capabilities)
 * and Set Features with SV (save).  Features with a data structure (see
 * nvme_feature_data_len) move it through `data`/`len`, which must then be
 * exactly that size.  For a vendor-specific one (C0h-FFh), whose
 * structure the core cannot know, the caller gives its length, at most
 * mdts_bytes (else NVME_ERR_INVAL): the data spans pages as any transfer
 * (PRP2, a PRP List past two pages).  Without data (NULL, len 0) a
 * controller that moves a structure anyway gets a page of the core's:
 * zeros to read, what it writes dropped.  `nsid` is 0 for
 * controller-wide features.  dw0 (may be NULL) gets completion Dword 0:
 * the value (Get), or with SEL supported the NVME_FEAT_CAP_* bits.  A
 * SEL other than current, or SV, needs ONCS bit 4 (Save and Select),
 * else NVME_ERR_UNSUPPORTED.
 * Arbitration 01h, Power Management 02h, Temperature Threshold 04h (cdw11:
 * TMPTH 15:0, TMPSEL 19:16, THSEL 21:20), Error Recovery 05h, Volatile
 * Write Cache 06h (NVME_ERR_UNSUPPORTED without a cache), Number of
 * Queues 07h, Interrupt Coalescing 08h, Asynchronous Event Configuration
 * 0Bh, APST 0Ch (256 bytes), Timestamp 0Eh (8 bytes), Host Behavior
 * Support 16h (512 bytes), I/O Command Set Profile 19h, Host Identifier
 * 81h (16 bytes; 8 used without EXHID, cdw11 bit 0). */
int nvme_get_feature(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t nsid, unsigned sel,
                     uint32_t cdw11, void *data, uint32_t len, uint32_t *dw0);
int nvme_set_feature(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint32_t cdw11,
                     uint32_t cdw12, bool save, const void *data, uint32_t len, uint32_t *dw0);
/* Size of a feature's data structure: 4096 (LBA Range Type; Host Memory
 * Buffer, Get), 256 (APST), 8 (Timestamp), 512 (Host Behavior Support), 16
 * (Host Identifier), 0 for the others. */
uint32_t nvme_feature_data_len(uint8_t fid);
/* Timestamp feature data (8 bytes): milliseconds since 1970 in bits 47:0,
 * Synch bit 48, Timestamp Origin bits 51:49. */
uint64_t nvme_timestamp_ms(const uint8_t data[8]);

/* === Log pages of any size (identify.c) ======================================
 * Get Log Page with every field of NVMe 2.0 §5.16: LID, LSP, LSI, RAE,
 * CSI, a byte offset (LPOL/LPOU) and a length of any multiple of 4.  A
 * transfer above MDTS is split into several commands by offset; an
 * offset, a split, or more than 16 KiB (NUMDL bits 27:16 alone count
 * then) needs LPA bit 2 (extended data), else NVME_ERR_UNSUPPORTED. */
struct nvme_log_args {
    uint8_t lid;
    uint8_t lsp;     /* log specific field, 7 bits (in a split, Telemetry
                        Host-Initiated Create and Persistent Event Log
                        Establish Context go with the first command only,
                        the others Read; Persistent Event Log Release
                        Context is one command of at most one piece and
                        returns no log data, the rest of buf zeroed: read
                        with Read Log Data, then release) */
    uint16_t lsi;    /* log specific identifier */
    uint32_t nsid;   /* 0 or NVME_NSID_ALL for controller scope */
    uint64_t offset; /* bytes, multiple of 4 */
    uint8_t csi;
    bool rae; /* Retain Asynchronous Event: do not clear the event (a split
                 read sets RAE on every command but the last anyway) */
    void *buf;
    uint32_t len; /* bytes, multiple of 4, > 0 */
};
int nvme_get_log(struct nvme_ctrl *ctrl, const struct nvme_log_args *args);
/* Error Information (LID 01h): the newest `n` entries; n <= ELPE + 1 (the
 * log's size, §5.14.1.1), else NVME_ERR_INVAL.  ELPE as read at bring-up
 * and again after nvme_ctrl_reset or a Firmware Commit that activated at
 * once (a new firmware may change it). */
int nvme_get_error_log(struct nvme_ctrl *ctrl, struct nvme_error_log_entry *entries, unsigned n);
/* Firmware Slot Information (LID 03h). */
int nvme_get_fw_slot_log(struct nvme_ctrl *ctrl, struct nvme_fw_slot_log *log);
/* Changed Namespace List (LID 04h): up to 1024 NSIDs, entry 0 FFFFFFFFh
 * when more changed; reading it clears it and re-arms the notice. */
int nvme_get_changed_ns_log(struct nvme_ctrl *ctrl, uint32_t list[1024]);
/* Commands Supported and Effects (LID 05h) of command set `csi`
 * (NVME_ERR_UNSUPPORTED when Identify LPA bit 1 is clear). */
int nvme_get_effects_log(struct nvme_ctrl *ctrl, uint8_t csi, struct nvme_effects_log *log);
/* Device Self-test (LID 06h; NVME_ERR_UNSUPPORTED without OACS bit 4). */
int nvme_get_self_test_log(struct nvme_ctrl *ctrl, struct nvme_self_test_log *log);
/* Sanitize Status (LID 81h; NVME_ERR_UNSUPPORTED when SANICAP has no method). */
int nvme_get_sanitize_log(struct nvme_ctrl *ctrl, struct nvme_sanitize_log *log);

/* === NVM commands beyond read/write/flush (nvm_cmds.c) ========================
 * Blocking, on the calling CPU's I/O queue.  Each is gated on what the
 * controller reports (ONCS, DLFEAT, the namespace format) and returns
 * NVME_ERR_UNSUPPORTED, with a log line naming the namespace, when the
 * controller lacks it.  Ranges are checked like nvme_read's
 * (NVME_ERR_RANGE); counts of 0 are NVME_ERR_INVAL. */

/* Flags of the calls below (CDW12 bits, NVM CS Figure 63). */
#define NVME_IO_FUA (1u << 0)         /* Force Unit Access */
#define NVME_IO_LR (1u << 1)          /* Limited Retry */
#define NVME_IO_DEALLOCATE (1u << 2)  /* Write Zeroes: deallocate too (DEAC; needs DLFEAT bit 3) */
#define NVME_IO_PRCHK_GUARD (1u << 3) /* check the PI guard (PI formats) */
/* Application tag check: the calls carry no expected tag, and its mask
 * (CDW15 LBATM) is 0, so no bit is compared (NVM CS 1.0 §5.2.1.4): the
 * bit is sent, the check passes whatever the tag; use the passthrough
 * for a tag of your own. */
#define NVME_IO_PRCHK_APP (1u << 4)
#define NVME_IO_PRCHK_REF (1u << 5) /* check the reference tag: the LBA (Types 1, 2) */
#define NVME_IO_PRACT (1u << 6)     /* controller inserts/strips PI (PI formats) */

/* Dataset Management (ONCS bit 2): `nr` ranges (1..256) with attributes
 * `attr` (NVME_DSM_AD deallocates, NVME_DSM_IDR/IDW are hints).  Every
 * range is checked against the namespace first. */
int nvme_dsm(struct nvme_ctrl *ctrl, uint32_t nsid, uint32_t attr,
             const struct nvme_dsm_range *ranges, unsigned nr);
/* Deallocate (TRIM) `count` blocks from `lba`: DSM with NVME_DSM_AD,
 * split into ranges of at most 2^32-1 blocks. */
int nvme_deallocate(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count);
/* Write Zeroes (ONCS bit 3), split into 65536-block commands; flags
 * NVME_IO_DEALLOCATE, NVME_IO_FUA, NVME_IO_LR. */
int nvme_write_zeroes(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count,
                      unsigned flags);
/* Write Uncorrectable (ONCS bit 1, NVM CS 1.0 §3.2.7): marks `count`
 * blocks from `lba` invalid; reads of them fail Unrecovered Read Error
 * (SCT 2h, SC 81h) until they are written again.  Data-destroying:
 * refused on a read-only or a zoned namespace (ZNS lists no Write
 * Uncorrectable); split into commands of at most 65536 blocks and WUSL. */
int nvme_write_uncorrectable(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count);
/* Verify (ONCS bit 7, NVM CS 1.0 §3.2.5): the controller reads and checks
 * the blocks; no data moves.  A bad block is a status (> 0).  flags:
 * NVME_IO_FUA (what the volatile cache holds of them is committed first),
 * NVME_IO_LR and the PRCHK ones; NVME_IO_PRACT is NVME_ERR_INVAL (a
 * Verify takes none, Figure 55). */
int nvme_verify(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint64_t count,
                unsigned flags);
/* Compare (ONCS bit 0) the blocks with `buf`: 0 when equal, the status
 * Compare Failure (SCT 2h, SC 85h) when not.  Split at MDTS.  Data only:
 * on a format whose metadata is protection information
 * NVME_ERR_UNSUPPORTED, nothing sent (a Compare takes no PRACT, NVM CS
 * 1.0 Figure 23, so the PI comes from the caller: nvme_compare_ext). */
int nvme_compare(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count,
                 const void *buf);
/* Compare with metadata, as nvme-cli's compare with --metadata: `buf`
 * and `md` as nvme_write_ext takes them, on any format; the controller
 * compares the metadata too, PI included, which the caller supplies (as
 * nvme_read_ext returned it, say).  flags: NVME_IO_FUA, NVME_IO_LR and
 * the PRCHK ones (the stored PI checked first); NVME_IO_PRACT is
 * NVME_ERR_INVAL (NVM CS 1.0 Figure 23). */
int nvme_compare_ext(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count,
                     const void *buf, const void *md, unsigned flags);
/* Copy (ONCS bit 8, NVM CS §3.2.2; descriptor format 0h, or 1h on 32b
 * and 64b Guard PI formats, PI enabled or not, where OCFS bit 1 offers
 * it): the blocks of
 * the `nr` source ranges, in order, to consecutive blocks from `dlba`, in
 * the same namespace, without moving them through host memory.  Sent as
 * as many commands as the namespace's limits need (copy_max_range,
 * copy_max_ranges, copy_max_blocks) and, on a zoned namespace, its zone
 * boundaries (no source entry and no command's destination spans zones),
 * each with the next destination blocks.  A source range overlapping
 * the destination is NVME_ERR_INVAL (the split would read blocks already
 * copied over).  Metadata moves with its blocks; on a PI-only format
 * (16b or 64b Guard) the sources' guard is checked and the destination's
 * PI generated, as plain reads and writes do (nvme_ns_plain_flags; not
 * the sources' reference tags, whose byte order in the entries
 * implementations disagree on); PI with other metadata is
 * NVME_ERR_UNSUPPORTED.  flags: NVME_IO_FUA, NVME_IO_LR.
 * On an error the commands before the failing one have copied their
 * blocks (the destination's first ones); the rest of it is unchanged
 * or, for the failing command, as the controller left it. */
struct nvme_copy_src {
    uint64_t lba;
    uint32_t count; /* blocks, >= 1 */
};
int nvme_copy(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t dlba, const struct nvme_copy_src *src,
              unsigned nr, unsigned flags);
/* Read / Write with flags and metadata.  `buf` holds count blocks of
 * lba_size bytes, or lba_size + ms with md_extended, except with
 * NVME_IO_PRACT on a PI-only format (ms = pi_size), where the controller
 * inserts or strips the PI and `buf` holds lba_size blocks (NVM CS 1.0
 * §5.2.2); `md` (separate
 * metadata, MPTR) holds count * ms bytes and is required when the format
 * has separate metadata, unless the format is PI-only (ms = pi_size) and
 * NVME_IO_PRACT is given.  PI formats: PRACT, PRCHK as flags; the
 * reference tag sent is the LBA's low 32 bits, 48 with 64b Guard (Types 1
 * and 2); formats with pi_size 0 take no PI flag (NVME_ERR_UNSUPPORTED).
 * Split at MDTS like nvme_read. */
int nvme_read_ext(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count, void *buf,
                  void *md, unsigned flags);
int nvme_write_ext(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count,
                   const void *buf, const void *md, unsigned flags);
/* Bytes of data buffer / separate metadata buffer the calls above need
 * for `count` blocks of namespace `ns` without NVME_IO_PRACT (with it, on
 * a PI-only format: count * lba_size and none). */
uint64_t nvme_ns_data_bytes(const struct nvme_ns_info *ns, uint32_t count);
uint64_t nvme_ns_md_bytes(const struct nvme_ns_info *ns, uint32_t count);
/* The NVME_IO_* PI flags nvme_read/nvme_write give a PI-only format (ms =
 * pi_size): PRACT, PRCHK guard, and reference tag for Types 1 and 2; 0 for
 * any other format.  With them nvme_read_ext/nvme_write_ext (FUA, no
 * metadata buffer) check what nvme_read checks. */
unsigned nvme_ns_plain_flags(const struct nvme_ns_info *ns);

/* === Zoned namespaces (nvm_cmds.c; ZNS Command Set 1.1) =======================
 * Only on namespaces with csi NVME_CSI_ZNS (else NVME_ERR_UNSUPPORTED).
 * Writes must land at a zone's write pointer: a plain nvme_write elsewhere
 * completes with Zone Invalid Write (SCT 1h, SC BCh), named by
 * nvme_status_name. */

/* Submit any I/O command to namespace sqe->nsid on the calling CPU's
 * queue and wait, as nvme_admin_passthru does for admin commands: the
 * CID, PRPs and MPTR are the core's (a DMA bounce of whole pages; an
 * opcode whose bits 1:0 say it may move data gets a page even without a
 * buffer); `len` at most MDTS, with a dir of enum nvme_dma_dir when not 0;
 * NVME_ERR_INVAL, nothing sent, for a dir the opcode's bits 1:0
 * contradict (as nvme_admin_passthru), and when `len` is
 * short for a command whose length the core knows (Read, Write, Compare,
 * Zone Append: NLB + 1 blocks; Dataset Management and Copy: its ranges; Zone
 * Management Receive, Reservation Report, I/O Management Receive: NUMD + 1
 * dwords); a longer buffer moves only that
 * much (its tail is left alone).  Namespace checks as nvme_read
 * (NVME_ERR_NOENT, NVME_ERR_RDONLY for a command that may write); formats
 * with separate metadata: use the _ext calls.  Never replayed after a
 * reset. */
int nvme_io_passthru(struct nvme_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf, uint32_t len,
                     enum nvme_dma_dir dir, uint32_t *dw0);

/* Report Zones (Zone Management Receive, ZRA 00h): descriptors of the
 * zones from the one holding `lba`, at most `max`, into `zones`;
 * *count how many were returned. */
int nvme_zns_report(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba,
                    struct nvme_zone_desc *zones, unsigned max, unsigned *count);
/* Zone Management Send: action NVME_ZSA_OPEN/CLOSE/FINISH/RESET/OFFLINE on
 * the zone starting at `zslba`, or on every zone with all = true. */
int nvme_zns_mgmt_send(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t zslba, uint8_t action,
                       bool all);
/* Zone Append `count` blocks to the zone starting at `zslba`; *lba_out
 * (may be NULL) gets the LBA where the data went.  At most ZASL bytes.
 * With lba_out, the zone is reported (one Report Zones descriptor) after
 * the append for its capacity: an LBA past it is NVME_ERR_PROTO. */
int nvme_zns_append(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t zslba, uint32_t count,
                    const void *buf, uint64_t *lba_out);

/* === Management: format, self-test, sanitize, firmware, resets (mgmt.c) ========
 * Destructive calls take `confirm`, which must be NVME_CONFIRM_DESTROY
 * (anything else: NVME_ERR_INVAL, nothing sent) - the front end asks the
 * user (--force).  Format and Sanitize rescan the namespaces afterwards.
 * They run with the long admin deadline (long_admin_timeout_ms). */
#define NVME_CONFIRM_DESTROY 0x44455354u /* "DEST" */

struct nvme_format_args {
    uint32_t nsid; /* a namespace, or NVME_NSID_ALL */
    uint8_t lbaf;  /* LBA format index 0..63 (of the namespace's list) */
    uint8_t ses;   /* Secure Erase: NVME_FORMAT_SES_NONE / _USER / _CRYPTO */
    uint8_t pi;    /* protection information type 0..3 */
    bool pil;      /* PI in the first bytes of metadata */
    bool mset;     /* metadata interleaved (extended LBA) */
};
/* Format NVM (OACS bit 1).  The LBA format changes under the I/O path,
 * so, as Linux freezes the queues: the I/O in flight on every queue ends
 * first (the deadline checks run meanwhile; NVME_ERR_TIMEOUT, nothing
 * sent, if it has not after twice the I/O deadline), new I/O to any
 * namespace is refused with NVME_ERR_BUSY until the rescan after the
 * command has published the new format (a failed rescan leaves it so
 * until a rescan succeeds: the next nvme_ctrl_service() retries it, as
 * nvme_ns_rescan does).  Sanitize does the same, and so does
 * nvme_admin_passthru for both. */
int nvme_format(struct nvme_ctrl *ctrl, const struct nvme_format_args *args, uint32_t confirm);
/* Device Self-test (OACS bit 4): stc NVME_DST_SHORT / _EXTENDED / _ABORT;
 * nsid 0 (controller), a namespace, or NVME_NSID_ALL.  Returns when the
 * controller accepted it; progress and results are in the self-test log. */
int nvme_device_self_test(struct nvme_ctrl *ctrl, uint32_t nsid, uint8_t stc);
struct nvme_sanitize_args {
    uint8_t action;  /* NVME_SANACT_* */
    bool ause;       /* allow unrestricted sanitize exit */
    uint8_t owpass;  /* overwrite passes 0..15 (0 means 16) */
    bool oipbp;      /* overwrite invert pattern between passes */
    bool nodas;      /* no deallocate after sanitize */
    uint32_t ovrpat; /* overwrite pattern */
};
/* Sanitize (SANICAP lists the action; exit failure is always allowed).
 * The I/O in flight ends first and new I/O waits for the rescan after
 * it, as for nvme_format (not for exit failure, which changes no data). */
int nvme_sanitize(struct nvme_ctrl *ctrl, const struct nvme_sanitize_args *args, uint32_t confirm);
/* Firmware Image Download (OACS bit 2): `len` bytes of image at byte
 * `offset` (both multiples of 4), split into pieces (NVMe 2.0 §5.13).
 * FWUG 0 (no information) or FFh (no restriction): pieces of MDTS.
 * Else pieces of FWUG bytes: `offset` must be a multiple of FWUG
 * (NVME_ERR_INVAL, nothing sent), FWUG above MDTS is NVME_ERR_UNSUPPORTED
 * (no piece could conform); the last piece is what is left, sent as it is
 * with a warning when it is shorter than FWUG (the spec lets the
 * controller refuse it with Invalid Field in Command; pad the image to
 * FWUG to be sure).  A controller reset after a piece was taken, in the
 * call or since the call whose image it continues (`offset` where that
 * one ended, no Commit between), made the controller discard the image
 * (§5.12): NVME_ERR_ABORTED, download it again from its start. */
int nvme_fw_download(struct nvme_ctrl *ctrl, uint32_t offset, const void *buf, uint32_t len);
/* Firmware Commit: slot 0..7 (0: the controller picks), action
 * NVME_FW_CA_*, with the effects the Commands Supported and Effects log
 * declares for it, as nvme_admin_passthru (so does Device Self-test).  A
 * status asking for a reset (Firmware Activation Requires Conventional/NVM
 * Subsystem/Controller Level Reset) is returned as is: the caller decides
 * when to nvme_ctrl_reset(). */
int nvme_fw_commit(struct nvme_ctrl *ctrl, uint8_t slot, uint8_t action, bool bpid, uint32_t *dw0);
/* NVM Subsystem Reset (CAP.NSSRS, else NVME_ERR_UNSUPPORTED): writes
 * "NVMe" to NSSR, then brings the controller back like nvme_ctrl_reset()
 * (commands in flight follow lifecycle rule 4), clears CSTS.NSSRO and
 * rescans namespaces.  On PCIe the reset may take the link down: when
 * the registers then read all ones the call returns NVME_ERR_GONE and the
 * port restores the function (as after a surprise removal) before
 * calling nvme_ctrl_reset(). */
int nvme_subsystem_reset(struct nvme_ctrl *ctrl, uint32_t confirm);
/* Namespace Management and Attachment (OACS bit 3, else
 * NVME_ERR_UNSUPPORTED; §5.20, §5.19).  Each rescans the
 * namespaces after (nvme_ns_find sees the change when the call returns).
 * Create: a namespace of nsze blocks (capacity ncap, 0: nsze) in LBA
 * format `flbas` (the format index 0..63, not the FLBAS byte: the core
 * places it in FLBAS bits 3:0 and 6:5), metadata at the end of each block
 * when md_extended (FLBAS bit 4), end-to-end protection `dps` (Identify
 * Namespace DPS), shareable with other controllers when nmic, of I/O
 * Command Set `csi`; allocated, attached to no controller; *nsid gets its
 * NSID, also when the rescan after it fails (that error is returned).
 * NVME_ERR_PROTO, *nsid untouched, when the controller names an NSID no
 * command can use (0, FFFFFFFFh, above NN). */
struct nvme_ns_create_args {
    uint64_t nsze, ncap;
    uint8_t flbas, dps;
    bool nmic;
    uint8_t csi;
    bool md_extended; /* FLBAS bit 4: extended data LBA (metadata interleaved) */
    /* ANA group and NVM Set of the namespace, 0: the controller's choice
     * (Host Software Specified Fields, NVM CS 1.0 Figure 105) */
    uint32_t anagrpid;
    uint16_t nvmsetid;
};
int nvme_ns_create(struct nvme_ctrl *ctrl, const struct nvme_ns_create_args *args, uint32_t *nsid);
/* Delete namespace `nsid` (NVME_NSID_ALL: all of them) with its data;
 * needs NVME_CONFIRM_DESTROY. */
int nvme_ns_delete(struct nvme_ctrl *ctrl, uint32_t nsid, uint32_t confirm);
/* Attach `nsid` to (attach) or detach it from the controllers ids[0..n),
 * at most 2047; n 0: this controller (nvme_ctrl_info.cntlid). */
int nvme_ns_attach(struct nvme_ctrl *ctrl, uint32_t nsid, bool attach, const uint16_t *ids,
                   unsigned n);

/* --- Utilities ------------------------------------------------------------------ */

struct nvme_u128 nvme_u128_from_le(const uint8_t bytes[16]);
/* Decimal text of a 128-bit value into buf (at least 40 bytes). Returns buf. */
char *nvme_u128_to_dec(struct nvme_u128 v, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* NVME_H */
