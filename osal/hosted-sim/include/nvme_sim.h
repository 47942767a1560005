/* SPDX-License-Identifier: MIT */
/*
 * nvme_sim.h - a simulated NVMe 1.4 controller behind a hosted OSAL.
 *
 * The simulator fakes BAR0 of one NVMe controller inside a Linux process.
 * The core reaches it only through the `struct nvme_osal` that
 * nvme_sim_osal() fills: MMIO accesses go to the register model, DMA
 * memory comes from an IOMMU-like table, time is a simulated clock.
 *
 * Typical test:
 *
 *     struct nvme_sim_config cfg;
 *     nvme_sim_config_init(&cfg);          // defaults, then change fields
 *     cfg.mdts = 2;
 *     struct nvme_sim *sim = nvme_sim_create(&cfg);
 *     struct nvme_osal osal;
 *     nvme_sim_osal(sim, &osal);
 *     struct nvme_ctrl *ctrl;
 *     assert(nvme_ctrl_init(&ctrl, &osal, NULL) == 0);
 *     nvme_sim_set_irq_handler(sim, nvme_ctrl_handle_irq, ctrl);
 *     ...
 *     nvme_ctrl_fini(ctrl);
 *     assert(nvme_sim_dma_violations(sim) == 0);
 *     assert(nvme_sim_host_errors(sim) == 0);
 *     assert(nvme_sim_dma_live(sim) == 0);
 *     nvme_sim_destroy(sim);
 *
 * Rules the simulator enforces (and counts, see nvme_sim_dma_violations):
 *  - The device touches only memory the OSAL handed out with dma_alloc
 *    (until dma_free) or registered with dma_map (until dma_unmap), within
 *    bounds, in the mapped direction (TO_DEVICE: device reads only,
 *    FROM_DEVICE: device writes only).  dma_map accepts any memory the
 *    process owns (malloc, stack, aligned_alloc...) and registers it for
 *    the duration of the transfer.  A command touching anything else fails
 *    with Data Transfer Error.
 *  - Bus addresses are host virtual addresses XOR NVME_SIM_BUS_XOR, so a
 *    core that puts a virtual address into a PRP is caught.
 *
 * Threading: every entry point takes an internal recursive mutex, so the
 * OSAL may be used from several threads.  Interrupt handlers are called
 * without that mutex held.
 *
 * This is host code (libc, pthreads); it is never linked into the core.
 */
#ifndef NVME_SIM_H
#define NVME_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme/nvme.h"

#ifdef __cplusplus
extern "C" {
#endif

/* bus address = host virtual address ^ NVME_SIM_BUS_XOR */
#define NVME_SIM_BUS_XOR 0x0f00000000000000ull

struct nvme_sim; /* opaque */

/* --- Configuration --------------------------------------------------------- */

/* Identify Namespace corruption bits (robustness tests), nvme_sim_ns_config.corrupt */
#define NVME_SIM_CORRUPT_LBADS (1u << 0) /* report LBADS = corrupt_lbads (e.g. 0 or 200) */
#define NVME_SIM_CORRUPT_NSZE0 (1u << 1) /* report NSZE = NCAP = NUSE = 0 */
#define NVME_SIM_CORRUPT_FLBAS (1u << 2) /* FLBAS index points past NLBAF */

struct nvme_sim_ns_config {
    uint32_t nsid;        /* 1 .. 0xfffffffe, any order, gaps allowed */
    uint64_t blocks;      /* NSZE in logical blocks; 0 with an image: file size / lba_size */
    uint32_t lba_size;    /* bytes, power of two 512 .. 65536; 0 means 512 */
    const char *image;    /* NULL: sparse memory (zeros); else a file used with pread/pwrite */
    bool create;          /* create the image file / extend it to blocks*lba_size if needed */
    uint32_t corrupt;     /* NVME_SIM_CORRUPT_* bits */
    uint8_t corrupt_lbads; /* LBADS reported with NVME_SIM_CORRUPT_LBADS */
};

/* SMART / Health values (§5.14.1.2).  The data unit and host command
 * counters are bases: the simulator adds the real reads and writes. */
struct nvme_sim_smart {
    uint8_t critical_warning;   /* NVME_SMART_CRIT_* bits */
    uint16_t temperature;       /* composite temperature, Kelvin */
    uint8_t avail_spare;        /* percent */
    uint8_t spare_thresh;       /* percent */
    uint8_t percent_used;
    struct nvme_u128 data_units_read;    /* base, 1000 x 512 bytes */
    struct nvme_u128 data_units_written; /* base */
    struct nvme_u128 host_reads;         /* base */
    struct nvme_u128 host_writes;        /* base */
    struct nvme_u128 busy_time;          /* minutes */
    struct nvme_u128 power_cycles;
    struct nvme_u128 power_on_hours;
    struct nvme_u128 unsafe_shutdowns;
    struct nvme_u128 media_errors;
    struct nvme_u128 err_log_entries;
    uint32_t warning_temp_time;  /* minutes */
    uint32_t critical_temp_time; /* minutes */
    uint16_t temp_sensor[8];     /* Kelvin, 0 = not implemented */
};

/* State of the controller when the simulation starts. */
enum nvme_sim_start {
    NVME_SIM_START_DISABLED = 0, /* CC = 0, CSTS = 0 (after power on) */
    NVME_SIM_START_ENABLED,      /* CC.EN = 1, CSTS.RDY = 1 with firmware's admin queue (SeaBIOS) */
    NVME_SIM_START_NEVER_READY,  /* disabled, and CSTS.RDY never becomes 1 after CC.EN = 1 */
    NVME_SIM_START_CFS,          /* enabled and ready with CSTS.CFS = 1 (cleared by a reset
                                    unless cfs_sticky) */
    NVME_SIM_START_GONE          /* every register reads 0xffffffff */
};

/* When a command submitted by an SQ tail doorbell completes. */
enum nvme_sim_timing {
    NVME_SIM_IMMEDIATE = 0, /* executed and completed inside the doorbell write */
    NVME_SIM_DEFERRED       /* executed on a later OSAL call (now_us, sleep_us, mmio read,
                               nvme_sim_run) once completion_latency_us simulated
                               microseconds passed since the doorbell */
};

/* What the OSAL's irq_setup grants. */
enum nvme_sim_irq_mode {
    NVME_SIM_IRQ_NONE = 0, /* irq_setup returns 0: the core polls */
    NVME_SIM_IRQ_MSIX,     /* min(want, irq_vectors) MSI-X vectors */
    NVME_SIM_IRQ_INTX      /* one shared INTx line, masked with INTMS/INTMC */
};

struct nvme_sim_config {
    /* CAP (§3.1.1) */
    uint16_t mqes;   /* CAP.MQES, 0-based (default 1023) */
    uint8_t dstrd;   /* CAP.DSTRD, doorbell stride 4 << dstrd (default 0) */
    uint8_t to;      /* CAP.TO, 500 ms units (default 20) */
    uint8_t mpsmin;  /* CAP.MPSMIN, page 2^(12+n) (default 0) */
    uint8_t mpsmax;  /* CAP.MPSMAX (default 4) */
    /* Identify Controller (§5.15.2.2) */
    uint8_t mdts;    /* MDTS, 2^n * MPSMIN pages, 0 = no limit (default 5: 128 KiB) */
    uint16_t vid, ssvid;     /* default 0x1b36 / 0x1af4 */
    const char *serial;      /* default "SIM0000001" */
    const char *model;       /* default "nvme-core simulated controller" */
    const char *firmware;    /* default "1.0" */
    uint32_t nn;             /* Identify NN; 0: the highest configured NSID */
    bool vwc;                /* volatile write cache present (default true) */
    uint32_t rtd3e;          /* RTD3 entry latency, us (default 0 = not reported) */
    /* Queues */
    uint16_t io_queues;      /* I/O SQ/CQ pairs the controller allocates; the Set Features
                                Number of Queues reply (default 4) */
    /* Timing of state changes, simulated microseconds */
    uint32_t ready_delay_us;    /* CC.EN 0->1 until CSTS.RDY = 1 (default 2000) */
    uint32_t disable_delay_us;  /* CC.EN 1->0 until CSTS.RDY = 0 (default 500) */
    uint32_t shutdown_delay_us; /* CC.SHN set until CSTS.SHST = 10b (default 1000) */
    enum nvme_sim_start start;  /* default NVME_SIM_START_DISABLED */
    bool cfs_sticky;            /* CSTS.CFS survives controller resets */
    /* Namespaces; NULL with ns_count 0: one namespace, NSID 1, 32768 blocks of 512 */
    const struct nvme_sim_ns_config *ns;
    unsigned ns_count;
    struct nvme_sim_smart smart;
    /* Completion timing */
    enum nvme_sim_timing timing;     /* default NVME_SIM_IMMEDIATE */
    uint32_t completion_latency_us;  /* deferred mode only (default 0: next OSAL call) */
    uint32_t now_tick_us;            /* each now_us() call advances the clock this much
                                        (default 1, so busy loops make progress) */
    /* Interrupts */
    enum nvme_sim_irq_mode irq_mode; /* default NVME_SIM_IRQ_NONE */
    unsigned irq_vectors;            /* MSI-X table size (default 8, at most 2048) */
    /* OSAL */
    bool locks;              /* provide pthread mutex lock callbacks (default false: NULL) */
    int log_level;           /* print core log lines with level <= this (default NVME_LOG_WARN) */
    bool quiet;              /* do not print the simulator's own messages to stderr */
};

/* Fill `cfg` with the defaults documented above. */
void nvme_sim_config_init(struct nvme_sim_config *cfg);
/* Create a simulated controller (cfg NULL: defaults).  Returns NULL and
 * prints why on a bad configuration or a failing image file. */
struct nvme_sim *nvme_sim_create(const struct nvme_sim_config *cfg);
/* Free everything, including what the core did not free. */
void nvme_sim_destroy(struct nvme_sim *sim);
/* Fill `osal` with the hosted OSAL bound to `sim`. */
void nvme_sim_osal(struct nvme_sim *sim, struct nvme_osal *osal);

/* --- Clock and timing (simulated microseconds) ------------------------------ */

/* Simulated time now (no tick, no side effect). */
uint64_t nvme_sim_now(const struct nvme_sim *sim);
/* Advance the clock by `us`, then process due work (like sleep_us, with
 * interrupt delivery). */
void nvme_sim_advance(struct nvme_sim *sim, uint64_t us);
/* Process due work now: state changes, deferred commands, delayed
 * completions; then deliver pending interrupts.  Returns completions posted. */
unsigned nvme_sim_run(struct nvme_sim *sim);
/* Change completion timing at run time. */
void nvme_sim_set_timing(struct nvme_sim *sim, enum nvme_sim_timing timing, uint32_t latency_us);

/* --- Interrupts ------------------------------------------------------------- */

typedef unsigned (*nvme_sim_irq_fn)(struct nvme_ctrl *ctrl, unsigned vector);
/* The function the OSAL calls when vector v fires, e.g.
 * nvme_sim_set_irq_handler(sim, nvme_ctrl_handle_irq, ctrl).  Pending
 * interrupts are delivered from sleep_us(), nvme_sim_advance(),
 * nvme_sim_run() and nvme_sim_deliver_irqs(), never from inside an MMIO
 * access or now_us() (the core may hold a queue lock there). */
void nvme_sim_set_irq_handler(struct nvme_sim *sim, nvme_sim_irq_fn fn, struct nvme_ctrl *ctrl);
/* Deliver pending interrupts now; returns how many handler calls were made. */
unsigned nvme_sim_deliver_irqs(struct nvme_sim *sim);
/* Interrupts raised by the device on vector `vector` (INTx: vector 0). */
uint64_t nvme_sim_irq_count(const struct nvme_sim *sim, unsigned vector);
/* Vectors granted by the last irq_setup (0 when none or torn down). */
unsigned nvme_sim_irq_granted(const struct nvme_sim *sim);

/* --- Fault injection ----------------------------------------------------------- */

enum nvme_sim_fault_kind {
    NVME_SIM_FAULT_BOGUS_CID = 1, /* execute, complete with CID `value` instead */
    NVME_SIM_FAULT_DUP_CQE,       /* execute, post the completion twice (duplicate CID) */
    NVME_SIM_FAULT_DROP_CQE,      /* execute, never complete (the core must time out) */
    NVME_SIM_FAULT_STATUS,        /* do not execute; complete with 15-bit status field `value` */
    NVME_SIM_FAULT_DELAY,         /* execute, post the completion `value` simulated us later */
    NVME_SIM_FAULT_CFS,           /* set CSTS.CFS instead of completing */
    NVME_SIM_FAULT_GONE           /* device disappears instead of completing */
};
#define NVME_SIM_ANY (-1)     /* any queue / opcode / CID */
#define NVME_SIM_ANY_IO (-2)  /* qid: any I/O queue (opcodes of admin and NVM overlap) */

struct nvme_sim_fault {
    enum nvme_sim_fault_kind kind;
    int qid;        /* NVME_SIM_ANY, NVME_SIM_ANY_IO, 0 (admin) or an I/O qid */
    int opcode;     /* NVME_SIM_ANY or the opcode */
    int cid;        /* NVME_SIM_ANY or the CID */
    uint32_t value; /* bogus CID, status field, or delay in us */
    unsigned skip;  /* let this many matching commands pass first */
    unsigned count; /* fire this many times (0 means 1) */
};

/* Arm a fault (up to 16 at once).  Returns 0, or -1 when the table is full. */
int nvme_sim_inject(struct nvme_sim *sim, const struct nvme_sim_fault *fault);
void nvme_sim_clear_faults(struct nvme_sim *sim);
/* How many times armed faults fired in total. */
uint64_t nvme_sim_fault_hits(const struct nvme_sim *sim);
/* Set or clear CSTS.CFS now. */
void nvme_sim_set_cfs(struct nvme_sim *sim, bool on);
/* Device gone: every register read returns 0xffffffff, writes are lost,
 * no more DMA or completions. */
void nvme_sim_set_gone(struct nvme_sim *sim, bool gone);
/* Whether CSTS.RDY ever becomes 1 after the next CC.EN 0->1. */
void nvme_sim_set_never_ready(struct nvme_sim *sim, bool never);
/* Make the N+1-th next call of an OSAL allocator fail (skip = N); -1 disarms. */
enum nvme_sim_osal_fn { NVME_SIM_FAIL_DMA_ALLOC = 0, NVME_SIM_FAIL_DMA_MAP, NVME_SIM_FAIL_MEM_ALLOC };
void nvme_sim_fail_osal(struct nvme_sim *sim, enum nvme_sim_osal_fn fn, int skip);

/* --- Namespaces ------------------------------------------------------------------ */

/* Add an active namespace at run time (then the core rescans).  0 or -1. */
int nvme_sim_ns_add(struct nvme_sim *sim, const struct nvme_sim_ns_config *ns);
/* Remove an active namespace.  0 or -1 when not found. */
int nvme_sim_ns_remove(struct nvme_sim *sim, uint32_t nsid);
/* Change Identify Namespace corruption of a namespace (NVME_SIM_CORRUPT_*). */
int nvme_sim_ns_corrupt(struct nvme_sim *sim, uint32_t nsid, uint32_t bits, uint8_t lbads);
/* Set Identify NN at run time (0: highest NSID). */
void nvme_sim_set_nn(struct nvme_sim *sim, uint32_t nn);
/* Back door to the media (not counted in SMART): 0 or -1 (no such
 * namespace, out of range, I/O error). */
int nvme_sim_ns_read(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, uint32_t count, void *buf);
int nvme_sim_ns_write(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, uint32_t count,
                      const void *buf);

/* --- SMART, statistics, register counters ----------------------------------------- */

/* The live SMART values; a test may change them at any time. */
struct nvme_sim_smart *nvme_sim_smart(struct nvme_sim *sim);

struct nvme_sim_stats {
    uint64_t mmio_reads, mmio_writes;   /* every 32-bit register access */
    uint64_t sq_doorbells, cq_doorbells; /* doorbell writes, all queues */
    uint64_t admin_cmds, io_cmds;       /* commands fetched */
    uint64_t completions;               /* CQEs posted */
    uint64_t reads, writes, flushes;    /* NVM commands completed successfully */
    uint64_t bytes_read, bytes_written; /* by those commands */
    uint64_t enables, resets, shutdowns; /* CC.EN 0->1, CC.EN 1->0, CC.SHN != 0 */
    uint64_t irqs_raised, irqs_delivered;
    uint64_t dma_violations;            /* IOMMU rule broken (device side) */
    uint64_t host_errors;               /* host broke a register/doorbell/OSAL rule */
};
const struct nvme_sim_stats *nvme_sim_stats(const struct nvme_sim *sim);
uint64_t nvme_sim_dma_violations(const struct nvme_sim *sim);
uint64_t nvme_sim_host_errors(const struct nvme_sim *sim);
/* Live dma_alloc blocks plus live dma_map registrations (0 after a clean fini). */
size_t nvme_sim_dma_live(const struct nvme_sim *sim);
/* Reads / writes of the register at BAR0 offset `off` (dword granular;
 * doorbells too). */
uint64_t nvme_sim_reg_reads(const struct nvme_sim *sim, uint32_t off);
uint64_t nvme_sim_reg_writes(const struct nvme_sim *sim, uint32_t off);
/* Doorbell writes of queue `qid` (SQ tail, or CQ head when cq). */
uint64_t nvme_sim_doorbell_writes(const struct nvme_sim *sim, uint16_t qid, bool cq);
/* Register value without side effects or counting (CC, CSTS, INTMS...). */
uint32_t nvme_sim_reg_peek(struct nvme_sim *sim, uint32_t off);
/* Whether I/O queue `qid` exists in the device (SQ, or CQ when cq). */
bool nvme_sim_queue_exists(struct nvme_sim *sim, uint16_t qid, bool cq);
/* Stored feature value (Get Features, current) of feature `fid`. */
uint32_t nvme_sim_feature(struct nvme_sim *sim, uint8_t fid);

/* --- Log capture ------------------------------------------------------------------- */

/* Capture core log lines and simulator messages into a buffer instead of
 * (capture on) printing them. */
void nvme_sim_log_capture(struct nvme_sim *sim, bool on);
/* NUL-terminated captured text, lines separated by '\n' ("" when empty). */
const char *nvme_sim_log_text(const struct nvme_sim *sim);
void nvme_sim_log_clear(struct nvme_sim *sim);

#ifdef __cplusplus
}
#endif

#endif /* NVME_SIM_H */
