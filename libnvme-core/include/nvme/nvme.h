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
 *  3. Deadlines.  Each command has one (I/O: command_timeout_ms; admin:
 *     admin_timeout_ms; Format, Sanitize, Device Self-test:
 *     long_admin_timeout_ms; Asynchronous Event Requests: none).  A
 *     command past it is aborted (Abort, §5.1, within the controller's
 *     ACL); if it still does not complete within abort_timeout_ms, or the
 *     controller reports CSTS.CFS, or an admin command times out, the
 *     controller is reset.  Deadlines are looked at, at most once per
 *     tick (an eighth of the I/O timeout, 1 ms .. 1 s), by the calls that
 *     may sleep: blocking calls while they wait, nvme_qpair_poll() and
 *     nvme_ctrl_service().  nvme_ctrl_handle_irq() only reaps.
 *  4. Reset.  The controller is stopped first, then commands are
 *     reclaimed: after the queues are rebuilt, I/O commands whose retry
 *     budget is left are replayed in submission order, transparently to
 *     their callers; the rest fail with NVME_ERR_ABORTED (admin
 *     commands), NVME_ERR_TIMEOUT (budget spent on timeouts), or the
 *     reason the controller could not be restarted.
 *  5. Retries.  A completion with a retryable status and DNR clear is
 *     retried within the budget (max_retries, default 5), after the
 *     Command Retry Delay it names (CRDT1-3; ACRE is enabled through Host
 *     Behavior Support where the controller reports delays).
 *  6. Device gone.  Registers reading all ones mark the controller gone:
 *     everything in flight fails with NVME_ERR_GONE, new calls fail at
 *     once, no register is written again, and event_cb is told.
 *  7. Teardown.  nvme_ctrl_fini() shuts the controller down and frees the
 *     handle, like free(): the pointer is dead afterwards.  Calling it from
 *     a completion callback is refused (NVME_ERR_STATE).  Builds with
 *     NVME_DEBUG check handles on entry, so fini twice or I/O after fini
 *     returns NVME_ERR_STATE and logs instead of touching freed memory.
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
    NVME_ERR_INVAL = -1,       /* bad argument from the caller */
    NVME_ERR_NOMEM = -2,       /* OSAL allocation failed */
    NVME_ERR_TIMEOUT = -3,     /* a deadline passed (CAP.TO or command timeout) */
    NVME_ERR_FATAL = -4,       /* CSTS.CFS set: controller fatal status */
    NVME_ERR_GONE = -5,        /* registers read all ones: device removed */
    NVME_ERR_RANGE = -6,       /* LBA range outside the namespace */
    NVME_ERR_NOENT = -7,       /* no such (active, usable) namespace */
    NVME_ERR_ALIGN = -8,       /* buffer or length cannot be described by PRPs */
    NVME_ERR_BUSY = -9,        /* queue full, try again after reaping */
    NVME_ERR_PROTO = -10,      /* the device returned nonsense (bad CID, bad identify data) */
    NVME_ERR_UNSUPPORTED = -11,/* the controller lacks what this needs */
    NVME_ERR_DMA = -12,        /* OSAL dma_map refused the buffer */
    NVME_ERR_ABORTED = -13,    /* command failed back by a controller reset or teardown */
    NVME_ERR_RDONLY = -14,     /* write to a read-only namespace */
    NVME_ERR_STATE = -15       /* controller not in a state to do this (not ready, resetting) */
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
    NVME_EVENT_NOTICE = 7      /* other notice (firmware activation ...); detail: AER dword 0 */
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
    NVME_TRACE_REGS = 1u << 0, /* register reads and writes */
    NVME_TRACE_SQE = 1u << 1,  /* each submitted command */
    NVME_TRACE_CQE = 1u << 2,  /* each completion */
    NVME_TRACE_STATUS = 1u << 3, /* completions with an error status */
    NVME_TRACE_INIT = 1u << 4  /* bring-up steps */
};

/* --- Controller ----------------------------------------------------------- */

struct nvme_ctrl; /* opaque */

struct nvme_ctrl_opts {
    uint16_t pci_vendor;      /* for the quirk table; 0 when unknown */
    uint16_t pci_device;
    uint16_t admin_queue_entries; /* 0: 32; capped by CAP.MQES+1 and 4096 */
    uint16_t io_queue_entries;    /* 0: 256; capped by CAP.MQES+1 */
    uint16_t io_queues;           /* I/O queue pairs wanted; 0: one per CPU (cpus) */
    uint16_t cpus;                /* CPUs that will submit I/O, numbered 0..cpus-1 as the
                                     OSAL's cpu_id() says; 0: 1.  CPU c uses I/O queue
                                     1 + c % (queues created): per-CPU queues take no
                                     shared lock; with fewer queues, CPUs share one */
    uint32_t command_timeout_ms;  /* I/O command deadline; 0: 30000 */
    uint32_t admin_timeout_ms;    /* admin command deadline; 0: 60000 */
    uint32_t long_admin_timeout_ms; /* Format, Sanitize, Device Self-test; 0: 600000 */
    uint32_t abort_timeout_ms;    /* after an Abort, until a reset; 0: a quarter of
                                     command_timeout_ms, at least 10 ms */
    uint8_t max_retries;          /* retries and replays per command; 0: 5;
                                     NVME_NO_RETRIES: none */
    uint32_t trace;               /* enum nvme_trace_mask bits */
    bool polling;                 /* never ask the OSAL for interrupts */
    bool no_async_events;         /* do not keep Asynchronous Event Requests outstanding */
    uint8_t irq_coalesce_time;    /* Interrupt Coalescing (Set Features 08h, §5.21.1.8):
                                     aggregation time, 100 us units; with */
    uint8_t irq_coalesce_thr;     /* the aggregation threshold (0-based).  Both 0: off */
    bool no_shadow_doorbells;     /* do not use Doorbell Buffer Config (OACS bit 8) even
                                     where the controller has it */
    nvme_event_cb event_cb;       /* OPTIONAL: told about resets, removal, events */
    void *event_arg;
};
#define NVME_NO_RETRIES 0xffu

/* Counters of the lifecycle, for tests, diagnostics and nvmectl. */
struct nvme_ctrl_stats {
    uint64_t timeouts;        /* commands found past their deadline */
    uint64_t aborts_sent;     /* Abort commands submitted */
    uint64_t aborts_done;     /* ... that the controller reported as aborted */
    uint64_t resets;          /* controller resets (recovery and nvme_ctrl_reset) */
    uint64_t replays;         /* commands resubmitted after a reset */
    uint64_t retries;         /* commands resubmitted after a retryable status */
    uint64_t async_events;    /* Asynchronous Event Request completions */
    uint64_t rescans;         /* namespace rescans that changed the table */
};

/* What the controller reported, decoded once at bring-up. */
struct nvme_ctrl_info {
    uint64_t cap;            /* CAP register, raw */
    uint32_t vs;             /* VS register, raw */
    uint32_t max_queue_entries; /* CAP.MQES + 1 */
    uint32_t doorbell_stride;   /* bytes: 4 << CAP.DSTRD */
    uint32_t timeout_ms;        /* CAP.TO * 500 */
    uint32_t page_size;         /* memory page size chosen, bytes (CC.MPS) */
    uint32_t mdts_bytes;        /* max bytes per command the core will send */
    uint32_t mdts_reported;     /* Identify MDTS in bytes, 0 = no limit */
    uint16_t vid, ssvid;
    char serial[21];            /* trailing spaces removed, NUL-terminated */
    char model[41];
    char firmware[9];
    uint32_t nn;                /* Identify NN */
    uint16_t oacs, oncs;
    uint8_t vwc, lpa, sqes, cqes;
    uint16_t wctemp, cctemp;    /* Kelvin */
    uint16_t io_queues;         /* I/O queue pairs created */
    uint16_t io_queue_entries;  /* entries per I/O queue */
    uint16_t admin_queue_entries;
    uint16_t irq_vectors;       /* granted, 0 = polling */
    bool irq_is_intx;
    bool enabled_at_start;      /* firmware had left CC.EN=1 */
    bool shadow_doorbells;      /* I/O queues use shadow doorbells and event indexes */
};

/*
 * Bring the controller up: read CAP/VS, disable it if firmware left it
 * enabled, set up the admin queue, enable, Identify Controller, enumerate
 * namespaces (CNS 02h), Set Features Number of Queues, create the I/O
 * queues (interrupt driven if the OSAL grants vectors, else polled).
 * `opts` may be NULL.  On failure nothing stays allocated and the
 * controller is left disabled.
 */
int nvme_ctrl_init(struct nvme_ctrl **out, const struct nvme_osal *osal,
                   const struct nvme_ctrl_opts *opts);
/* Delete I/O queues, normal shutdown (CC.SHN=01b, wait for CSTS.SHST=10b,
 * bounded by RTD3E, at most 10 s, or CAP.TO), then, with the controller
 * stopped, fail back whatever is in flight (NVME_ERR_ABORTED) and free
 * everything.  NULL is allowed (returns 0).  Returns NVME_ERR_STATE,
 * doing nothing, when called from a completion callback (lifecycle
 * rule 7). */
int nvme_ctrl_fini(struct nvme_ctrl *ctrl);
/* Controller reset (§7.3.2): stop the controller (CC.EN=0, RDY=0), then
 * rebuild admin and I/O queues and replay or fail what was in flight
 * (lifecycle rule 4).  Also brings back a controller that was gone or
 * dead once its registers answer again.  May sleep. */
int nvme_ctrl_reset(struct nvme_ctrl *ctrl);
/* Periodic work that may sleep: deadlines (Abort, reset), a CSTS look (a
 * fatal or vanished controller is noticed even when idle), retries whose
 * delay passed, and asynchronous events (log pages read, namespaces
 * rescanned, event_cb told).  Call it every 100 ms .. 1 s from a thread,
 * a deferred-work context or a polled main loop, never from an interrupt
 * handler.  Returns 0, NVME_ERR_GONE, or NVME_ERR_FATAL when the
 * controller is dead. */
int nvme_ctrl_service(struct nvme_ctrl *ctrl);
const struct nvme_ctrl_stats *nvme_ctrl_get_stats(const struct nvme_ctrl *ctrl);
const struct nvme_ctrl_info *nvme_ctrl_get_info(const struct nvme_ctrl *ctrl);
/* CSTS.RDY=1, CFS=0, and the core's queues are live. */
bool nvme_ctrl_is_ready(struct nvme_ctrl *ctrl);
/* Read CSTS (for nvmectl ready and diagnostics). */
uint32_t nvme_ctrl_read_csts(struct nvme_ctrl *ctrl);
/* Called by the port when interrupt vector `vector` fires.  Reaps the
 * completion queues bound to it, runs their callbacks.  Returns how many
 * completions were reaped (0: not ours, for shared INTx). */
unsigned nvme_ctrl_handle_irq(struct nvme_ctrl *ctrl, unsigned vector);
/* Total interrupts handled that found work, per controller (for tests). */
uint64_t nvme_ctrl_irq_count(const struct nvme_ctrl *ctrl);
void nvme_ctrl_set_trace(struct nvme_ctrl *ctrl, uint32_t mask);

/* --- Admin commands (admin.c) --------------------------------------------- */

/* Identify (CNS `cns`, NSID `nsid`) into `buf` (4096 bytes, any memory). */
int nvme_identify(struct nvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf);
/* Get Log Page `lid` for `nsid` into buf (len a multiple of 4, ≤ 4096). */
int nvme_get_log_page(struct nvme_ctrl *ctrl, uint8_t lid, uint32_t nsid, void *buf, uint32_t len);
/* SMART / Health Information (LID 02h), controller scope. */
int nvme_get_smart_log(struct nvme_ctrl *ctrl, struct nvme_smart_log *log);
int nvme_get_features(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11, uint32_t *dw0);
int nvme_set_features(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t cdw11, uint32_t *dw0);
/* Submit any admin command and wait; the SQE's CID and PRPs are filled
 * by the core from buf/len (buf may be NULL when len is 0). */
int nvme_admin_passthru(struct nvme_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf,
                        uint32_t len, enum nvme_dma_dir dir, uint32_t *dw0);

/* --- Namespaces (ns.c) ------------------------------------------------------ */

struct nvme_ns_info {
    uint32_t nsid;
    int status;        /* 0 usable; < 0 why not (NVME_ERR_PROTO for bad identify data) */
    uint64_t nsze;     /* in logical blocks */
    uint64_t ncap;
    uint64_t nuse;
    uint32_t lba_size; /* bytes: 2^LBADS */
    uint8_t lbads;
    uint8_t flbas;
    uint8_t nlbaf;
    uint16_t ms;       /* metadata bytes per block of the current format */
    uint8_t rp;
    bool read_only;    /* host-side policy, set by nvme_ns_set_read_only() */
    struct nvme_lbaf lbaf[16];
};

/* Handles (the pointers below) stay valid until nvme_ctrl_fini, across
 * rescans and resets: a rescan builds its new table before it replaces
 * the old one (a failed rescan keeps the old one), updates namespaces in
 * place, and marks one that disappeared with status NVME_ERR_NOENT. */

/* Number of active namespaces found (usable or not). */
unsigned nvme_ns_count(const struct nvme_ctrl *ctrl);
/* The idx-th active namespace, in increasing NSID order, or NULL. */
const struct nvme_ns_info *nvme_ns_at(const struct nvme_ctrl *ctrl, unsigned idx);
/* Namespace by NSID, or NULL when it is not active. */
const struct nvme_ns_info *nvme_ns_find(const struct nvme_ctrl *ctrl, uint32_t nsid);
/* Re-run namespace enumeration (CNS 02h + CNS 00h for each). */
int nvme_ns_rescan(struct nvme_ctrl *ctrl);
/* Bumped by every rescan that changed the namespace table or a namespace. */
uint32_t nvme_ns_generation(const struct nvme_ctrl *ctrl);
/* Host-side write protection of a namespace (EXOS DISK_ACCESS_READONLY). */
int nvme_ns_set_read_only(struct nvme_ctrl *ctrl, uint32_t nsid, bool ro);

/* --- I/O (io.c) ---------------------------------------------------------------
 * Buffers: any memory the OSAL can map; its address must be dword aligned
 * (§4.3: PRP entries have bits 1:0 cleared).  `count` is in logical blocks
 * of the namespace.  The blocking calls split transfers larger than MDTS
 * and keep several pieces in flight. */

int nvme_read(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count, void *buf);
int nvme_write(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count,
               const void *buf);
int nvme_flush(struct nvme_ctrl *ctrl, uint32_t nsid);

/* The I/O queue of the calling CPU (OSAL cpu_id(), CPU 0 without it). */
#define NVME_QID_CPU 0xffffu
/* I/O queue used by CPU `cpu` (1..io_queues), 0 when none. */
uint16_t nvme_ctrl_cpu_qid(const struct nvme_ctrl *ctrl, unsigned cpu);

/* Asynchronous I/O on I/O queue `qid` (1..io_queues, or NVME_QID_CPU).  One command, at
 * most mdts_bytes.  `cb` runs from nvme_qpair_poll() or
 * nvme_ctrl_handle_irq() with the result (same convention as above).
 * With NVME_SUBMIT_NO_DOORBELL the SQ tail doorbell is left for a later
 * submission or nvme_qpair_ring(), so a batch costs one MMIO write. */
typedef void (*nvme_cmd_cb)(void *arg, int result, uint32_t dw0);
#define NVME_SUBMIT_NO_DOORBELL (1u << 0)
int nvme_submit_rw(struct nvme_ctrl *ctrl, uint16_t qid, uint8_t opc, uint32_t nsid,
                   uint64_t lba, uint32_t count, void *buf, unsigned flags, nvme_cmd_cb cb,
                   void *arg);
int nvme_submit_flush(struct nvme_ctrl *ctrl, uint16_t qid, uint32_t nsid, unsigned flags,
                      nvme_cmd_cb cb, void *arg);
void nvme_qpair_ring(struct nvme_ctrl *ctrl, uint16_t qid);
/* Reap up to `max` completions (0: all available) of queue `qid` (0 is the
 * admin queue).  When it reaps nothing it also runs the deadline and CSTS
 * checks of nvme_ctrl_service() (at most once per tick), so it may run a
 * reset and sleep: call nvme_ctrl_handle_irq() from interrupt handlers,
 * not this.  Returns the number reaped, or < 0 when the controller is
 * gone or dead. */
int nvme_qpair_poll(struct nvme_ctrl *ctrl, uint16_t qid, unsigned max);
/* Commands in flight on a queue. */
unsigned nvme_qpair_outstanding(const struct nvme_ctrl *ctrl, uint16_t qid);

/* --- Utilities ------------------------------------------------------------------ */

/* 128-bit little-endian counter (SMART) as two 64-bit halves. */
struct nvme_u128 {
    uint64_t lo, hi;
};
struct nvme_u128 nvme_u128_from_le(const uint8_t bytes[16]);
/* Decimal text of a 128-bit value into buf (at least 40 bytes). Returns buf. */
char *nvme_u128_to_dec(struct nvme_u128 v, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* NVME_H */
