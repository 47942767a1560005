/* SPDX-License-Identifier: MIT */
/*
 * sim_internal.h - state of the simulated controller, shared by the
 * simulator's files.  Every function here expects sim->mtx held.
 */
#ifndef NVME_SIM_INTERNAL_H
#define NVME_SIM_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme_sim.h"

#define SIM_MAX_FAULTS 16
#define SIM_MAX_VECTORS 2048
#define SIM_REG_SLOTS (0x1000 / 4) /* counters for offsets below the doorbells */

/* --- DMA table (sim_dma.c) --- */
enum sim_region_kind { SIM_RG_ALLOC, SIM_RG_MAP, SIM_RG_FIRMWARE };

struct sim_region {
    uint8_t *va;
    size_t len;  /* bytes the device may touch */
    size_t asked; /* size the caller passed (dma_free / dma_unmap must match) */
    enum nvme_dma_dir dir;
    enum sim_region_kind kind;
};

/* --- Queues --- */
struct sim_sq {
    bool live;
    uint64_t bus;
    uint32_t size; /* entries */
    uint32_t head, tail;
    uint16_t cqid;
    bool due_set;    /* deferred mode: work waits for due_us */
    uint64_t due_us;
};

struct sim_cq {
    bool live;
    uint64_t bus;
    uint32_t size;
    uint32_t head, tail; /* head: host's last doorbell; tail: next slot the device fills */
    uint8_t phase;
    bool ien;
    uint16_t iv;
    unsigned nsq; /* SQs bound to it */
};

/* A completion held back by NVME_SIM_FAULT_DELAY. */
struct sim_delayed {
    uint16_t cqid;
    uint64_t due_us;
    struct nvme_cqe cqe;
};

/* --- Namespaces (sim_ns.c) --- */
#define SIM_CHUNK_SHIFT 16 /* sparse memory: 64 KiB chunks */
#define SIM_L2_SHIFT 10    /* 1024 chunks per second-level table */

struct sim_ns {
    uint32_t nsid;
    uint64_t blocks;
    uint32_t lba_size;
    uint8_t lbads;
    int fd;        /* image file, or -1 for sparse memory */
    char *path;
    uint8_t ***l1; /* sparse memory: l1[i][j] = chunk, NULL = zeros */
    uint64_t l1_count;
    uint32_t corrupt;
    uint8_t corrupt_lbads;
};

struct sim_fault {
    struct nvme_sim_fault f;
    unsigned skipped, fired;
};

struct nvme_sim {
    struct nvme_sim_config cfg;
    pthread_mutex_t mtx;

    /* Registers (§3.1) */
    uint64_t cap;
    uint32_t vs, intms, cc, csts, aqa;
    uint64_t asq, acq;
    uint32_t mps; /* memory page size in bytes, from CC.MPS at enable */
    bool gone, never_ready;
    /* Pending register transitions in simulated time */
    bool rdy_pending;
    bool rdy_target;
    uint64_t rdy_at;
    bool shst_pending;
    uint64_t shst_at;

    /* Queues: index 0 is the admin queue pair, 1..io_queues I/O queues */
    unsigned nq;
    struct sim_sq *sq;
    struct sim_cq *cq;
    bool nq_locked;           /* I/O queue created since reset: Number of Queues is fixed */
    unsigned aer_outstanding; /* Asynchronous Event Requests held */
    struct sim_delayed *delayed;
    size_t ndelayed, delayed_cap;

    /* Features (§5.21), current values */
    uint32_t feat[256];

    /* Namespaces, sorted by NSID */
    struct sim_ns **ns;
    unsigned ns_count, ns_cap;
    uint32_t nn_override;

    /* DMA table */
    struct sim_region *rg;
    size_t rg_count, rg_cap;
    void *fw_mem; /* admin queues "firmware" left behind (START_ENABLED) */

    /* Clock */
    uint64_t now;

    /* Interrupts */
    unsigned irq_granted;
    bool irq_intx;
    bool intx_asserted; /* level: some IEN CQ holds entries */
    uint8_t *irq_pending;
    uint64_t *irq_raised;
    nvme_sim_irq_fn irq_fn;
    struct nvme_ctrl *irq_ctrl;
    bool delivering;

    /* Faults */
    struct sim_fault faults[SIM_MAX_FAULTS];
    unsigned nfaults;
    uint64_t fault_hits;
    long fail_skip[3];

    /* Statistics */
    struct nvme_sim_stats st;
    uint64_t reg_reads[SIM_REG_SLOTS], reg_writes[SIM_REG_SLOTS];
    uint64_t *db_reads, *db_writes; /* per doorbell index (2*qid + cq) */
    uint64_t units_read, units_written; /* 512-byte units moved by Read / Write */
    struct nvme_sim_smart smart;

    /* Strings owned by the sim */
    char serial[21], model[41], firmware[9];

    /* Log capture */
    bool capture;
    char *cap_buf;
    size_t cap_len, cap_size;
};

/* sim_ctrl.c */
void sim_msg(struct nvme_sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_host_error(struct nvme_sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_capture(struct nvme_sim *sim, const char *line);
void sim_tick(struct nvme_sim *sim);
void sim_raise_irq(struct nvme_sim *sim, struct sim_cq *cq);
void sim_update_intx(struct nvme_sim *sim);
unsigned sim_deliver_irqs_unlocked(struct nvme_sim *sim);

/* sim_regs.c */
uint32_t sim_reg_read(struct nvme_sim *sim, uint32_t off);
void sim_reg_write(struct nvme_sim *sim, uint32_t off, uint32_t val);
uint32_t sim_reg_value(struct nvme_sim *sim, uint32_t off);
void sim_reset_queues(struct nvme_sim *sim);
void sim_start_state(struct nvme_sim *sim);

/* sim_queue.c */
unsigned sim_process_sq(struct nvme_sim *sim, uint16_t qid);
unsigned sim_process_all(struct nvme_sim *sim, bool due_only);
bool sim_post_cqe(struct nvme_sim *sim, uint16_t cqid, const struct nvme_cqe *cqe);
unsigned sim_post_delayed(struct nvme_sim *sim);

/* sim_admin.c */
uint16_t sim_admin_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0,
                        bool *no_cqe);
void sim_features_reset(struct nvme_sim *sim);

/* sim_nvm.c */
uint16_t sim_nvm_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0);

/* sim_dma.c */
uint64_t sim_va_to_bus(const void *va);
void *sim_region_add(struct nvme_sim *sim, void *va, size_t len, size_t asked,
                     enum nvme_dma_dir dir, enum sim_region_kind kind);
int sim_region_del(struct nvme_sim *sim, void *va, size_t asked, enum nvme_dma_dir dir,
                   enum sim_region_kind kind);
size_t sim_region_live(const struct nvme_sim *sim);
/* Device access of host memory at bus address; false (and a recorded
 * violation) when the IOMMU rule forbids it. */
bool sim_dma_read(struct nvme_sim *sim, uint64_t bus, void *dst, size_t len, const char *what);
bool sim_dma_write(struct nvme_sim *sim, uint64_t bus, const void *src, size_t len,
                   const char *what);
/* Data transfer described by PRP1/PRP2 (§4.3); returns a status field:
 * 0, PRP Offset Invalid, Data Transfer Error. */
uint16_t sim_prp_copy(struct nvme_sim *sim, const struct nvme_sqe *sqe, void *buf, size_t len,
                      bool to_host);

/* sim_ns.c */
struct sim_ns *sim_ns_find(struct nvme_sim *sim, uint32_t nsid);
int sim_ns_insert(struct nvme_sim *sim, const struct nvme_sim_ns_config *nc);
int sim_ns_delete(struct nvme_sim *sim, uint32_t nsid);
void sim_ns_free(struct sim_ns *ns);
int sim_ns_io(struct sim_ns *ns, uint64_t lba, uint64_t count, void *buf, bool write);
int sim_ns_sync(struct sim_ns *ns);
uint32_t sim_ns_max_nsid(const struct nvme_sim *sim);

/* Status field helpers: DNR set for errors that are properties of the command. */
#define SIM_SF_GEN(sc) ((uint16_t)(NVME_SF(NVME_SCT_GENERIC, (sc)) | NVME_SF_DNR_BIT))
#define SIM_SF_CMD(sc) ((uint16_t)(NVME_SF(NVME_SCT_COMMAND_SPECIFIC, (sc)) | NVME_SF_DNR_BIT))

static inline void sim_put_u128(uint8_t out[16], uint64_t lo, uint64_t hi)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(lo >> (8 * i));
        out[8 + i] = (uint8_t)(hi >> (8 * i));
    }
}

#endif /* NVME_SIM_INTERNAL_H */
