/* SPDX-License-Identifier: MIT */
/*
 * nvme_internal.h - structures shared by the core's source files.
 * Nothing here is part of the public API.
 */
#ifndef NVME_INTERNAL_H
#define NVME_INTERNAL_H

#include "nvme/nvme.h"

/* ------------------------------------------------------------------ */
/* Tunables                                                            */
/* ------------------------------------------------------------------ */

#define NVME_DEFAULT_ADMIN_ENTRIES 32u
#define NVME_DEFAULT_IO_ENTRIES 256u
#define NVME_DEFAULT_CMD_TIMEOUT_MS 30000u
/* Largest transfer per command when MDTS is 0 (no limit) or larger. */
#define NVME_MAX_XFER_BYTES (4u * 1024u * 1024u)
#define NVME_HOST_PAGE_SHIFT 12u /* CC.MPS is chosen as 4 KiB when allowed */
#define NVME_MAX_NAMESPACES 65536u /* bound on enumeration work */
/* Polling back-off while waiting: 1 us doubling up to 1 ms. */
#define NVME_POLL_MAX_SLEEP_US 1000u
/* With interrupts on, a waiter still polls the CQ every this often, in
 * case an interrupt was lost, and says so once. */
#define NVME_IRQ_FALLBACK_POLL_US 10000u
/* nvme_qpair_poll reads CSTS at most this often while stalled. */
#define NVME_CSTS_CHECK_US 1000u
/* PRP list pages preallocated per I/O queue: enough for this many
 * maximum-size commands in flight (prp.c). */
#define NVME_PRP_POOL_CMDS 16u
/* Shutdown: wait at most this long for CSTS.SHST when RTD3E is 0. */
#define NVME_SHUTDOWN_TIMEOUT_MS 5000u

/* ------------------------------------------------------------------ */
/* Command slots and queue pairs (qpair.c)                             */
/* ------------------------------------------------------------------ */

enum nvme_slot_state {
    NVME_SLOT_FREE = 0,
    NVME_SLOT_ACTIVE = 1,   /* submitted, waiting for its completion */
    NVME_SLOT_ORPHANED = 2  /* caller told it timed out; CID kept until the
                               device completes it or the controller resets */
};

/* A PRP list page from the queue pair's pool (prp.c). */
struct nvme_prp_page {
    uint64_t *va;
    uint64_t bus;
    struct nvme_prp_page *next;
};

/* Per-CID bookkeeping: the CID is the slot's index (ARCHITECTURE.md). */
struct nvme_cmd_slot {
    nvme_cmd_cb cb;
    void *arg;
    uint64_t deadline_us;
    struct nvme_prp_page *prp_pages; /* list pages this command owns */
    void *buf;                       /* mapped data buffer, for unmap */
    uint32_t len;
    uint8_t dir;
    uint8_t state;
    uint8_t gen;       /* bumped on each reuse; high bits of the CID */
    uint16_t next_free;
};

struct nvme_qpair {
    struct nvme_ctrl *ctrl;
    uint16_t qid;
    uint16_t entries;   /* ring size of both SQ and CQ */
    uint16_t vector;    /* interrupt vector of the CQ */
    bool irq;           /* CQ created with interrupts enabled */
    bool live;          /* created on the controller */

    struct nvme_sqe *sq;
    uint64_t sq_bus;
    struct nvme_cqe *cq;
    uint64_t cq_bus;
    uint32_t sq_tdbl;   /* doorbell offsets, CAP.DSTRD applied */
    uint32_t cq_hdbl;

    /* The SQ never overflows without reading SQHD: at most nslots =
     * entries - 1 commands are in flight, and every entry between the
     * device's head and our tail belongs to one of them (§4.1.2). */
    uint16_t sq_tail;
    uint16_t sq_tail_rung; /* last tail written to the doorbell */
    uint16_t cq_head;
    uint8_t phase;         /* expected phase tag of the next new CQE */

    struct nvme_cmd_slot *slots; /* entries - 1 slots: CID = index */
    uint16_t nslots;
    uint16_t free_head;          /* NVME_NO_SLOT when none */
    uint16_t outstanding;        /* ACTIVE + ORPHANED */

    struct nvme_prp_page *prp_pool; /* free PRP list pages */
    uint64_t csts_checked_us;       /* last CSTS look from nvme_qpair_poll */
    void *lock;
    bool warned_lost_irq;
};

#define NVME_NO_SLOT 0xffffu

/* ------------------------------------------------------------------ */
/* Controller                                                          */
/* ------------------------------------------------------------------ */

struct nvme_ctrl {
    struct nvme_osal osal;
    struct nvme_ctrl_opts opts;
    struct nvme_ctrl_info info;
    uint32_t trace;
    uint32_t dstrd;
    uint32_t page_shift;     /* CC.MPS + 12 */
    uint32_t page_size;
    uint32_t timeout_ms;     /* from CAP.TO (after quirks) */
    uint32_t cmd_timeout_ms;
    uint32_t rtd3e_us;
    uint16_t crdt[3];        /* Command Retry Delay Times, 100 ms units */
    uint32_t quirks;
    bool ready;              /* queues live, commands may be submitted */
    bool up;                 /* bring-up finished: errors may trigger a reset */
    bool in_reset;

    struct nvme_qpair admin;
    struct nvme_qpair *ioq;  /* ioq[i].qid == i + 1; info.io_queues are live */
    uint16_t nr_ioq;         /* allocated and initialised */
    uint16_t ioq_cap;        /* array length */

    struct nvme_ns_info *ns; /* sorted by NSID */
    unsigned nr_ns;
    unsigned ns_cap;

    uint64_t irq_count;
};

/* Quirks (ctrl.c): behaviours of specific controllers. */
#define NVME_QUIRK_SPLIT_64BIT_MMIO (1u << 0) /* never use mmio_*64 */
#define NVME_QUIRK_DELAY_BEFORE_READY (1u << 1) /* wait after CC.EN=1 */

/* ------------------------------------------------------------------ */
/* Internal functions                                                  */
/* ------------------------------------------------------------------ */

/* util.c: freestanding replacements for the few libc bits we need
 * (nvme_memzero, nvme_memcpy, nvme_strlen, nvme_streq and
 * nvme_divmod10_limbs are public: nvme/nvme_fmt.h). */
/* Copies an Identify ASCII field, dropping trailing blanks/NULs and
 * replacing non-printable bytes with '.'; dst holds n+1 bytes. */
void nvme_copy_id_string(char *dst, const char *src, size_t n);

/* fmt.c: nvme_vsnprintf/nvme_snprintf, public in nvme/nvme_fmt.h. */
#include "nvme/nvme_fmt.h"

/* trace.c */
void nvme_log(struct nvme_ctrl *ctrl, enum nvme_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define nvme_trace_on(ctrl, bit) (((ctrl)->trace & (bit)) != 0 && (ctrl)->osal.log != NULL)
#ifdef NVME_NO_TRACE
#define NVME_TRACE(ctrl, bit, ...) ((void)(ctrl))
#else
#define NVME_TRACE(ctrl, bit, ...)                                  \
    do {                                                            \
        if (nvme_trace_on(ctrl, bit))                               \
            nvme_log(ctrl, NVME_LOG_TRACE, __VA_ARGS__);            \
    } while (0)
#endif
void nvme_trace_sqe(struct nvme_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *sqe);
void nvme_trace_cqe(struct nvme_ctrl *ctrl, uint16_t qid, const struct nvme_cqe *cqe);

/* ctrl.c: register access (traced) and device-state checks. */
uint32_t nvme_reg_read32(struct nvme_ctrl *ctrl, uint32_t off);
void nvme_reg_write32(struct nvme_ctrl *ctrl, uint32_t off, uint32_t val);
uint64_t nvme_reg_read64(struct nvme_ctrl *ctrl, uint32_t off);
void nvme_reg_write64(struct nvme_ctrl *ctrl, uint32_t off, uint64_t val);
/* Reads CSTS: NVME_ERR_GONE for all ones, NVME_ERR_FATAL for CFS, else 0. */
int nvme_ctrl_check_csts(struct nvme_ctrl *ctrl);
uint64_t nvme_now_us(struct nvme_ctrl *ctrl);

/* qpair.c */
int nvme_qpair_alloc(struct nvme_ctrl *ctrl, struct nvme_qpair *qp, uint16_t qid,
                     uint16_t entries);
void nvme_qpair_free(struct nvme_qpair *qp);
/* Resets ring indexes and zeroes the rings (before (re)creation). */
void nvme_qpair_reset_rings(struct nvme_qpair *qp);
/* Fails every command in flight with `result` (reset, teardown). */
void nvme_qpair_fail_all(struct nvme_qpair *qp, int result);
/* Submits `sqe` (CID filled in here) with data buffer buf/len (may be
 * NULL/0).  PRPs are built from the buffer. */
int nvme_qpair_submit(struct nvme_qpair *qp, struct nvme_sqe *sqe, void *buf, uint32_t len,
                      enum nvme_dma_dir dir, unsigned flags, nvme_cmd_cb cb, void *arg);
int nvme_qpair_process(struct nvme_qpair *qp, unsigned max);
struct nvme_qpair *nvme_ctrl_qpair(struct nvme_ctrl *ctrl, uint16_t qid);
/* Blocking: submit, then wait (polling, or interrupts with a polling safety
 * net) until done or the command deadline. */
int nvme_qpair_exec(struct nvme_qpair *qp, struct nvme_sqe *sqe, void *buf, uint32_t len,
                    enum nvme_dma_dir dir, uint32_t *dw0);

/* Waiting for a set of callbacks (io.c and qpair.c). */
struct nvme_waiter {
    unsigned pending;
    int result;   /* first non-zero result */
    uint32_t dw0;
};
void nvme_waiter_cb(void *arg, int result, uint32_t dw0);
int nvme_qpair_wait(struct nvme_qpair *qp, struct nvme_waiter *w);

/* prp.c */
int nvme_prp_build(struct nvme_qpair *qp, struct nvme_cmd_slot *slot, struct nvme_sqe *sqe,
                   void *buf, uint32_t len, enum nvme_dma_dir dir);
void nvme_prp_release(struct nvme_qpair *qp, struct nvme_cmd_slot *slot);
void nvme_prp_pool_free(struct nvme_qpair *qp);
/* Preallocates the list pages of an I/O queue (none needed for admin). */
int nvme_prp_pool_fill(struct nvme_qpair *qp);

/* admin.c */
int nvme_admin_identify_ctrl(struct nvme_ctrl *ctrl);
int nvme_admin_set_num_queues(struct nvme_ctrl *ctrl, uint16_t want, uint16_t *granted);
int nvme_admin_create_io_qpair(struct nvme_ctrl *ctrl, struct nvme_qpair *qp);
int nvme_admin_delete_io_qpair(struct nvme_ctrl *ctrl, struct nvme_qpair *qp);

/* ns.c */
int nvme_ns_scan(struct nvme_ctrl *ctrl);
void nvme_ns_free(struct nvme_ctrl *ctrl);

/* Memory barrier between reading a CQE's phase tag and its other fields
 * (§4.6: the phase tag tells the entry is new).  An acquire fence: a
 * compiler barrier on x86, "dmb ishld" on arm64, "fence r,rw" on riscv. */
static inline void nvme_dma_rmb(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}
/* Orders SQE writes before the tail update we hand to mmio_write32 (the
 * OSAL's writel semantics then order it before the doorbell). */
static inline void nvme_dma_wmb(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
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

#endif /* NVME_INTERNAL_H */
