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
    size_t len;   /* bytes the device may touch */
    size_t asked; /* size the caller passed (dma_free / dma_unmap must match) */
    enum nvme_dma_dir dir;
    enum sim_region_kind kind;
    uint64_t id; /* unique per registration: a held command checks its regions by id */
};

/* A released region (dma_free, dma_unmap), remembered so that a later
 * device access there counts as dma_after_return, not as a violation. */
#define SIM_TOMBS 1024
struct sim_tomb {
    uint8_t *va;
    size_t len;
};

/* One piece of a data transfer a held command repeats. */
struct sim_seg {
    uint64_t bus;
    size_t len;
    /* Newest region id when fetched, 0 = no single region covered it.
     * Any region as old still covering it will do: the region found at
     * fetch may be another command's overlapping mapping, since gone. */
    uint64_t rid;
};

/* The transfer of a held command, recorded by sim_prp_copy in capture mode. */
struct sim_xfer {
    struct sim_seg *segs;
    size_t nsegs;
    uint8_t *data; /* to_host: the bytes to write again; else scratch to read into */
    size_t len;
    bool to_host;
};

/* A command fetched and kept in flight (NVME_SIM_FAULT_HANG), or an I/O
 * Read or Write whose data moves and completion comes later
 * (cfg.dma_timing_seed: `late`). */
struct sim_held {
    uint16_t sqid, cqid, cid;
    uint8_t opc;
    bool draining; /* CC.EN 1->0 seen: one last transfer when RDY drops */
    bool warned;   /* dma_after_return message printed once */
    bool late;     /* executed (data moved again) and completed after `steps` steps */
    bool repeat;   /* late: the transfer repeats at each step before that */
    uint8_t steps;
    struct nvme_sqe sqe; /* late: the command, executed for real at completion */
    struct sim_xfer x;
};

/* An event waiting for an Asynchronous Event Request (§5.2). */
struct sim_event {
    uint8_t type, info, lid;
};
#define SIM_MAX_EVENTS 64
#define SIM_MAX_AERS 256
#define SIM_ERR_ENTRIES 64      /* Identify ELPE = 63 */
#define SIM_CHANGED_NS_MAX 1024 /* Changed Namespace List entries (§5.14.1.4) */
#define SIM_RESV_NOTIF_MAX 32   /* Reservation Notification log pages held unread */
#define SIM_MAX_PEND_ABORTS 64

/* --- Queues --- */
struct sim_sq {
    bool live;
    uint64_t bus;
    uint32_t size; /* entries */
    uint32_t head, tail;
    uint16_t cqid;
    bool due_set; /* deferred mode: work waits for due_us */
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
    uint16_t sqid, cid; /* of the command (the CQE may carry faulty values) */
    uint8_t opc;
    bool room; /* done, waiting for room in its CQ (sim_post_cqe_wait): no Abort reaches it */
};

/* --- Namespaces (sim_ns.c) --- */
#define SIM_CHUNK_SHIFT 16 /* sparse memory: 64 KiB chunks */
#define SIM_L2_SHIFT 10    /* 1024 chunks per second-level table */

/* Reservations of a namespace (sim_resv.c, NVMe 1.4 §8): registrants
 * are told apart by host identifier (the host's: sim->hostid, CNTLID 1;
 * others from nvme_sim_resv_other). */
#define SIM_RESV_REGS 8
struct sim_resv {
    struct {
        uint8_t hostid[16];
        uint16_t cntlid;
        uint64_t key;
    } reg[SIM_RESV_REGS];
    unsigned nreg;
    uint32_t gen;
    uint8_t rtype;      /* 0: no reservation */
    uint8_t holder[16]; /* host identifier of the holder (types 1-4) */
    bool ptpl;
};

struct sim_ns {
    uint32_t nsid;
    uint64_t blocks;
    uint32_t lba_size;
    uint8_t lbads;
    int fd; /* image file, or -1 for sparse memory */
    char *path;
    uint8_t ***l1; /* sparse memory: l1[i][j] = chunk, NULL = zeros */
    uint64_t l1_count;
    uint32_t corrupt;
    uint8_t corrupt_lbads;
    uint8_t ident;              /* nvme_sim_ns_config.ident */
    bool uuid_only;             /* nvme_sim_ns_config.uuid_only */
    uint8_t nlbaf, flbas_index; /* NVMe 2.0 formats, nlbaf 0: 1.4 behaviour */
    uint8_t nulbaf;             /* nvme_sim_ns_config.nulbaf */
    /* issue 9: formats, metadata, PI, zones */
    uint64_t bytes; /* capacity in bytes, kept by Format NVM */
    struct {
        uint8_t lbads;
        uint16_t ms;
    } fmt[64];
    unsigned nfmt, cur; /* listed formats, the one in use */
    uint16_t ms;
    bool extended, pi_first;
    uint8_t pi_type;
    uint8_t pif, sts; /* nvme_sim_ns_config.pif / .sts */
    uint8_t *md;      /* blocks * ms bytes of metadata, NULL when ms is 0 */
    bool zoned;
    uint64_t zone_size, nzones;
    uint64_t zone_cap; /* ZCAP: zone_size unless nvme_sim_ns_config.zone_cap */
    uint64_t zsze_reported;
    uint8_t zdes;
    uint8_t csi_reported; /* nvme_sim_ns_config.csi_reported */
    bool write_protected; /* nvme_sim_ns_config.write_protected: NSATTR bit 0 */
    uint32_t max_open, max_active;
    struct sim_zone *zones;
    /* Writes completed since this namespace's last Flush (§6.8): what its
     * volatile write cache may still hold (nvme_sim_ns_unflushed). */
    uint64_t unflushed;
    /* Error Recovery (05h, NVMe 2.0 §5.27.1.5): TLER and DULBE, kept per
     * namespace as QEMU's ns->features.err_rec; the saved value (SV) per
     * namespace too, the feature being namespace specific (§5.27.1). */
    uint32_t err_rec, err_rec_saved;
    struct sim_resv resv;
    /* Blocks a Write Uncorrectable marked (NVM CS §3.2.7): sorted,
     * disjoint, not adjacent [start, end) ranges, so a namespace of 2^36
     * blocks costs only what was marked (sim_ns_unc_*). */
    struct sim_unc_range {
        uint64_t start, end;
    } * unc;
    size_t unc_n, unc_cap;
};

struct sim_zone {
    uint8_t state; /* NVME_ZS_* */
    uint64_t wp;
    uint64_t write_batch; /* sq_batch of the last write to it (sim_zns_write_check) */
};

struct sim_fault {
    struct nvme_sim_fault f;
    unsigned skipped, fired;
};

/* Doorbell Buffer Config state (sim_dbbuf.c).  Entries are indexed like
 * the doorbells, 2 * qid + cq; queues at or past SIM_DBBUF_MAXQ keep plain
 * doorbells. */
#define SIM_DBBUF_MAXQ 1024
struct sim_dbbuf {
    bool on;         /* configured since the last controller reset */
    uint64_t db, ei; /* bus addresses: Shadow Doorbell and EventIdx pages */
    bool pinned[2 * SIM_DBBUF_MAXQ];
    uint16_t pin[2 * SIM_DBBUF_MAXQ];
    uint64_t taken[2 * SIM_DBBUF_MAXQ]; /* new values read from the shadow buffer */
    uint32_t bad[2 * SIM_DBBUF_MAXQ];   /* invalid shadow value reported, + 1 (0: none) */
};

#define SIM_DETACHED_MAX 16

/* Host Memory Buffer state (sim_hmb.c): the pieces last given. */
#define SIM_HMB_MAX 256
struct sim_hmb {
    bool on; /* EHM set since the last controller reset */
    uint32_t n;
    uint64_t badd[SIM_HMB_MAX], size[SIM_HMB_MAX];
};

struct nvme_sim {
    struct nvme_sim_config cfg;
    pthread_mutex_t mtx;

    /* Registers (§3.1) */
    uint64_t cap;
    bool cap_next_set; /* nvme_sim_cap_at_reset: applied at the next controller reset */
    unsigned nssr_down_reads, link_down_left; /* nvme_sim_nssr_link_down */
    bool nssro_stuck;                         /* nvme_sim_nssro_stuck */
    struct nvme_sim_cap_change cap_next;
    uint32_t vs, intms, cc, csts, aqa;
    uint64_t asq, acq;
    uint32_t mps;                /* memory page size in bytes, from CC.MPS at enable */
    uint32_t iosqes;             /* I/O SQ entry size in bytes, from CC.IOSQES at enable */
    uint8_t tag_busy[65536 / 8]; /* apple_ans2: CIDs in flight on any queue */
    uint8_t *cid_busy;           /* nq x 8 KiB: the CIDs each SQ has in flight */
    bool gone, never_ready;
    bool stuck;       /* CC.EN transitions ignored (nvme_sim_set_stuck) */
    bool dma_stopped; /* OSAL dma_stop: no DMA at all */
    bool woken;       /* OSAL wake flag */
    /* Pending register transitions in simulated time */
    bool rdy_pending;
    bool pp_pending; /* CSTS.PP set until pp_until (nvme_sim_pause) */
    uint64_t pp_until;
    bool rdy_target;
    uint64_t rdy_at;
    bool shst_pending;
    uint64_t shst_at;

    /* Queues: index 0 is the admin queue pair, 1..io_queues I/O queues */
    unsigned nq;
    struct sim_sq *sq;
    struct sim_cq *cq;
    bool nq_locked;           /* I/O queue created since reset: Number of Queues is fixed */
    unsigned nq_grant;        /* I/O queue pairs Number of Queues grants, 1..nq-1 */
    unsigned aer_outstanding; /* Asynchronous Event Requests held, CIDs in aer_cid[] */
    uint16_t aer_cid[SIM_MAX_AERS];
    struct sim_event evq[SIM_MAX_EVENTS];
    unsigned nev;
    bool ae_masked[8];
    uint8_t ae_mask_lid[8];
    uint8_t err_log[SIM_ERR_ENTRIES][64]; /* newest at err_log[0] */
    unsigned err_entries;                 /* Identify ELPE + 1 now; 0: SIM_ERR_ENTRIES */
    bool pel_ctx;                         /* a Persistent Event Log reporting context */
    uint8_t pel_gen;                      /* contexts established so far */
    uint64_t pel_tll;                     /* header's TLL and TNEV when tll != 0 */
    uint32_t pel_tnev;
    uint64_t err_count;
    uint32_t changed_ns[SIM_CHANGED_NS_MAX];
    /* Reservation Notification log pages not read yet, oldest first
     * (nvme_sim_resv_notify), and the count the next one gets. */
    struct sim_resv_notif {
        uint64_t count;
        uint32_t nsid;
        uint8_t type;
    } resv_notif[SIM_RESV_NOTIF_MAX];
    unsigned nresv_notif;
    uint8_t refuse_set_fid;     /* nvme_sim_refuse_set_feature: Set Features of it fails */
    uint16_t refuse_set_status; /* with this status field (0: none) */
    uint64_t resv_notif_count;
    unsigned nchanged;
    bool changed_overflow;
    uint8_t telem_gen;          /* Telemetry Host-Initiated Data Generation Number */
    uint8_t telem_ctrl_gen;     /* Controller-Initiated Data Generation Number */
    bool telem_ctrl_avail;      /* Controller-Initiated Data Available */
    bool telem_lb_set;          /* nvme_sim_telemetry_header: report telem_lb */
    uint32_t telem_lb[4];       /* Data Area 1-4 Last Block reported then */
    uint16_t ana_ngrps;         /* nvme_sim_ana_header: NGRPS and the first */
    uint32_t ana_nnsids;        /*   group's NNSIDS reported, 0: the true ones */
    unsigned ana_changing;      /* nvme_sim_ana_changing: reads left that change it */
    uint64_t ana_changes;       /* ANA changes so far (Change Count above 7) */
    uint8_t virt_numid;         /* nvme_sim_virt_numid: NUMID reported, 0: the true one */
    uint8_t hostid[16];         /* Host Identifier (FID 81h); 8 bytes used without EXHID */
    uint8_t vendor_feat[16384]; /* cfg.vendor_fid's data structure (sim_vendor_feat_len) */
    uint8_t hbs[512];           /* Host Behavior Support data (FID 16h); byte 0 = ACRE */

    /* Virtualization Management (sim_virt.c): each secondary's flexible
     * resources and state (SCS bit 0: online); the primary's after its
     * next reset (VQRFAP, VIRFAP) */
    struct {
        uint16_t nvq, nvi;
        uint8_t scs;
    } virt_sec[127]; /* SIM_SC_MAX */
    uint16_t virt_prim_vq, virt_prim_vi;

    /* Commands held in the device */
    struct sim_held *held;
    size_t nheld, held_cap;
    uint64_t held_at;  /* sim->now of their last repetition (sim_held_step) */
    bool held_due;     /* an event since: repeat at the next step */
    bool tick_idle;    /* sim_tick from a bare time step (sim_idle_tick) */
    uint32_t late_rng; /* cfg.dma_timing_seed's generator (sim_late_take) */
    struct {
        uint16_t sqid, cid;
    } pend_abort[SIM_MAX_PEND_ABORTS]; /* aborted before being fetched */
    unsigned npend_abort;
    /* Data transfer modifiers for the command being executed */
    struct sim_xfer *xfer_capture; /* non-NULL: sim_prp_copy records the transfer */
    bool short_on, garbage_on;
    uint32_t short_len, garbage_seed;
    struct sim_delayed *delayed;
    size_t ndelayed, delayed_cap;

    /* Features (§5.21), current values */
    uint32_t feat[256];
    /* issue 9: saved values (SV), data features, management state */
    uint32_t feat_saved[256];
    uint32_t temp_thresh[64];           /* TMPSEL 3:0, THSEL bit 4 */
    uint8_t iv_cd[SIM_MAX_VECTORS / 8]; /* Interrupt Vector Configuration: CD per vector */
    uint8_t apst[256], apst_saved[256];
    uint64_t ts_base_ms, ts_at_us; /* Timestamp feature: value set, when */
    bool ts_set;
    bool dst_running;
    uint8_t dst_stc;
    uint32_t dst_nsid;
    uint64_t dst_start, dst_end;
    uint8_t dst_log[20][28];
    unsigned ndst;
    uint8_t sanlog[512];
    uint8_t *fw_img;
    size_t fw_len;
    char fw_slot[8][9];
    unsigned fw_active, fw_next;

    /* Namespaces, sorted by NSID */
    struct sim_ns **ns;
    unsigned ns_count, ns_cap;
    uint32_t nn_override;
    /* nvme_sim_active_list_above */
    uint32_t active_list_above;
    bool copy_id_set;          /* nvme_sim_report_copy_limits */
    uint16_t nvm_id_ns_status; /* nvme_sim_refuse_nvm_id_ns: CNS 05h CSI 00h refused */
    uint16_t copy_id_mssrl;
    uint32_t copy_id_mcl;
    uint8_t copy_id_msrc;

    /* DMA table */
    struct sim_region *rg;
    size_t rg_count, rg_cap;
    uint64_t rg_next_id;
    struct sim_tomb tombs[SIM_TOMBS];
    size_t tomb_next, tomb_count;
    void *fw_mem; /* admin queues "firmware" left behind (START_ENABLED) */

    /* Non-coherent mode (sim_cache.c): tracked cache lines, hashed by
     * address; caller buffers the OSAL bounces (cfg.bounce_unaligned). */
    struct sim_line **lines;
    struct sim_bounce *bounces;

    /* Clock */
    uint64_t now;
    uint64_t sq_batch; /* sim_process_sq calls: commands fetched together */

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
    uint32_t reg_fixed[SIM_REG_SLOTS];  /* nvme_sim_reg_set: what unimplemented registers read */
    uint64_t *db_reads, *db_writes;     /* per doorbell index (2*qid + cq) */
    uint64_t units_read, units_written; /* 512-byte units moved by Read / Write */
    struct nvme_sim_smart smart;

    /* Strings owned by the sim */
    char serial[21], model[41], firmware[9];

    /* Log capture */
    bool capture;
    char *cap_buf;
    size_t cap_len, cap_size;

    /* Shadow doorbells (sim_dbbuf.c) */
    struct sim_dbbuf dbbuf;
    /* Host Memory Buffer (sim_hmb.c) */
    struct sim_hmb hmb;
    /* Namespaces allocated and attached to no controller (sim_nsmgmt.c) */
    struct nvme_sim_ns_config detached[SIM_DETACHED_MAX];
    unsigned ndetached;
};

/* sim_ctrl.c */
void sim_msg(struct nvme_sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_alarm(struct nvme_sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_host_error(struct nvme_sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_capture(struct nvme_sim *sim, const char *line);
void sim_tick(struct nvme_sim *sim);
void sim_idle_tick(struct nvme_sim *sim); /* a step of now_us/sleep_us/wait/nvme_sim_advance */
void sim_pause(struct nvme_sim *sim, uint64_t us);
void sim_raise_irq(struct nvme_sim *sim, struct sim_cq *cq);
void sim_update_intx(struct nvme_sim *sim);
unsigned sim_deliver_irqs_unlocked(struct nvme_sim *sim);

/* sim_regs.c */
uint32_t sim_reg_read(struct nvme_sim *sim, uint32_t off);
void sim_reg_write(struct nvme_sim *sim, uint32_t off, uint32_t val);
uint32_t sim_reg_value(struct nvme_sim *sim, uint32_t off);
void sim_reset_queues(struct nvme_sim *sim);
void sim_start_state(struct nvme_sim *sim);
void sim_controller_reset(struct nvme_sim *sim); /* what CC.EN 1->0 does */
void sim_hot_add(struct nvme_sim *sim);          /* back from gone */

/* sim_queue.c */
unsigned sim_process_sq(struct nvme_sim *sim, uint16_t qid);
bool sim_sq_overrun(const struct sim_sq *sq, uint32_t tail);
void sim_cid_done(struct nvme_sim *sim, uint16_t sqid, uint16_t cid);
unsigned sim_process_all(struct nvme_sim *sim, bool due_only);
bool sim_post_cqe(struct nvme_sim *sim, uint16_t cqid, const struct nvme_cqe *cqe);
/* Post, or keep while the CQ is full until the host frees an entry. */
void sim_post_cqe_wait(struct nvme_sim *sim, uint16_t cqid, const struct nvme_cqe *cqe,
                       uint8_t opc);
unsigned sim_post_delayed(struct nvme_sim *sim);
/* Post with the phase tag inverted (NVME_SIM_FAULT_PHASE) when bad_phase. */
bool sim_post_cqe_phase(struct nvme_sim *sim, uint16_t cqid, const struct nvme_cqe *cqe,
                        bool bad_phase);

/* sim_held.c: hung commands, their repeated DMA, Abort (§5.1) */
/* sim_prp_copy returns this (not a status) when it recorded the transfer. */
#define SIM_SF_HELD 0x7fffu
void sim_hold(struct nvme_sim *sim, uint16_t qid, const struct nvme_sqe *sqe);
/* Simulated us between two repetitions of the held transfers while the
 * host only lets time pass (sim_idle_tick). */
#define SIM_HELD_PERIOD_US 1000u
void sim_held_step(struct nvme_sim *sim);    /* every simulator step (see above) */
void sim_held_due(struct nvme_sim *sim);     /* an event: repeat at the next step */
void sim_held_disable(struct nvme_sim *sim); /* CC.EN 1->0 */
void sim_held_drain(struct nvme_sim *sim);   /* CSTS.RDY 1->0: last transfer, drop */
void sim_held_drop(struct nvme_sim *sim);    /* drop without DMA */
void sim_held_sq_deleted(struct nvme_sim *sim, uint16_t sqid); /* Delete I/O SQ */
/* cfg.dma_timing_seed: a fetched I/O Read or Write without fault that the
 * seed keeps in the device (data moved later, CQE at a later step): true
 * when taken (no CQE now). */
bool sim_late_take(struct nvme_sim *sim, uint16_t qid, const struct nvme_sqe *sqe);
bool sim_pend_abort_take(struct nvme_sim *sim, uint16_t sqid, uint16_t cid);
uint16_t sim_abort(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0);

/* sim_aer.c: asynchronous events and the log pages they name */
uint16_t sim_aer_request(struct nvme_sim *sim, const struct nvme_sqe *sqe, bool *no_cqe);
void sim_aer_dispatch(struct nvme_sim *sim);
int sim_event_post(struct nvme_sim *sim, uint8_t type, uint8_t info, uint8_t lid);
void sim_ns_changed(struct nvme_sim *sim, uint32_t nsid);
/* Fill a log page LID 01h / 04h; size in *size. */
void sim_error_log_page(struct nvme_sim *sim, uint8_t *page, size_t *size);
void sim_changed_ns_page(struct nvme_sim *sim, uint8_t *page, size_t *size);
/* After a successful Get Log Page of `lid`: clear-on-read, unmask with RAE 0. */
void sim_log_read(struct nvme_sim *sim, uint8_t lid, bool rae);
void sim_resv_notif_page(struct nvme_sim *sim, uint8_t *page, size_t *size);

/* sim_dbbuf.c: Doorbell Buffer Config, shadow doorbells, EventIdx */
uint16_t sim_dbbuf_config(struct nvme_sim *sim, const struct nvme_sqe *sqe);
void sim_dbbuf_reset(struct nvme_sim *sim); /* controller reset: back to MMIO doorbells */
/* An MMIO doorbell write the device accepted (NVME_SIM_EI_EVERY). */
void sim_dbbuf_mmio(struct nvme_sim *sim, uint16_t qid, bool cq, uint32_t val);
/* Before processing SQ qid: take its tail from the shadow buffer. */
void sim_dbbuf_sq_tail(struct nvme_sim *sim, uint16_t qid);
/* SQ qid drained (head == tail): write its EventIdx, read the shadow tail
 * again; true when that brought new entries. */
bool sim_dbbuf_sq_more(struct nvme_sim *sim, uint16_t qid);
/* Before posting to CQ cqid: write its EventIdx, take the shadow head. */
void sim_dbbuf_cq_head(struct nvme_sim *sim, uint16_t cqid);
/* CQ cqid looks full: refresh the head from the shadow; true when it has room. */
bool sim_dbbuf_cq_room(struct nvme_sim *sim, uint16_t cqid);

/* sim_hmb.c: Host Memory Buffer (Set/Get Features 0Dh) */
uint16_t sim_hmb_set(struct nvme_sim *sim, const struct nvme_sqe *sqe);
uint16_t sim_hmb_get(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0);
void sim_hmb_touch(struct nvme_sim *sim); /* an I/O command: the device uses the buffer */
void sim_hmb_reset(struct nvme_sim *sim); /* controller reset: its use ends */

/* sim_nsmgmt.c: Namespace Management (0Dh) and Attachment (15h) */
uint16_t sim_ns_mgmt(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0);
uint16_t sim_ns_attach(struct nvme_sim *sim, const struct nvme_sqe *sqe);
/* Identify Namespace NSID FFFFFFFFh: the formats Create takes (NLBAF, LBAFs). */
void sim_ns_mgmt_formats(struct nvme_id_ns *id);
/* Identify Namespace (CNS 11h) of an allocated namespace attached to no
 * controller: its size, its format (as format 0) and protection; false
 * when none has that NSID. */
bool sim_ns_mgmt_id_detached(struct nvme_sim *sim, uint32_t nsid, struct nvme_id_ns *id);

/* sim_admin.c */
uint16_t sim_admin_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0,
                        bool *no_cqe);
void sim_features_reset(struct nvme_sim *sim);

/* sim_nvm.c */
uint16_t sim_nvm_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0);

/* sim_mgmt.c: issue 9 admin commands, identify and log pages */
uint16_t sim_format(struct nvme_sim *sim, const struct nvme_sqe *sqe);
uint16_t sim_sanitize(struct nvme_sim *sim, const struct nvme_sqe *sqe);
uint16_t sim_self_test(struct nvme_sim *sim, const struct nvme_sqe *sqe);
uint16_t sim_fw_download(struct nvme_sim *sim, const struct nvme_sqe *sqe);
uint16_t sim_fw_commit(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0);
void sim_fw_reset(struct nvme_sim *sim); /* activation pending at a controller reset */
void sim_nssr(struct nvme_sim *sim);
/* CAP from cfg (mqes, to, dstrd, nssrs, iocs, mpsmin/mpsmax, crwmt). */
void sim_cap_compute(struct nvme_sim *sim);
/* Identify CNS 03h, 05h, 06h, 12h, 13h, 1Ch into buf (4096): status or 0. */
uint16_t sim_identify_extra(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint8_t *buf);
/* Log pages 05h, 06h, 81h, C0h: page (at least 16 KiB), size; false: unknown. */
bool sim_log_extra(struct nvme_sim *sim, uint8_t lid, uint8_t csi, uint8_t *page, size_t *size);
/* sim_telemetry.c: Telemetry Host- (07h) and Controller-Initiated (08h)
 * logs into page (32 KiB at least); sim_telemetry_read after a read that
 * went out (LID 08h with RAE clear releases the capture). */
uint16_t sim_telemetry_page(struct nvme_sim *sim, uint8_t lid, uint32_t cdw10, uint8_t *page,
                            size_t *size);
void sim_telemetry_read(struct nvme_sim *sim, uint8_t lid, bool rae);
/* sim_logpages.c: Supported Log Pages, Endurance Group Information and
 * ANA logs (false: not one of them, or not offered; else *sf the status)
 * into page (32 KiB), and the Identify fields that announce them. */
bool sim_logpages(struct nvme_sim *sim, uint8_t lid, const struct nvme_sqe *sqe, uint8_t *page,
                  size_t *size, uint16_t *sf);
void sim_logpages_id_ctrl(struct nvme_sim *sim, struct nvme_id_ctrl *id);
void sim_logpages_id_ns(struct nvme_sim *sim, uint32_t nsid, struct nvme_id_ns *id);
/* sim_virt.c: Identify CNS 14h and 15h into buf (4096 bytes, zeroed). */
uint16_t sim_virt_identify(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint8_t *buf);
/* sim_virt.c: Virtualization Management (1Ch); *dw0 = NRM. */
uint16_t sim_virt_mgmt(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0);
/* Effects of the simulated commands. */
void sim_dst_update(struct nvme_sim *sim);

/* sim_resv.c: Reservation Register, Report, Acquire, Release (ONCS bit 5) */
uint16_t sim_resv_exec(struct nvme_sim *sim, const struct nvme_sqe *sqe);
/* Reservation Conflict for an I/O command the reservation keeps from this
 * host (§8, command behavior in the presence of a reservation), else 0. */
uint16_t sim_resv_io_check(struct nvme_sim *sim, const struct nvme_sqe *sqe);

/* sim_zns.c */
uint16_t sim_zns_write_check(struct nvme_sim *sim, struct sim_ns *ns, uint64_t slba, uint32_t nlb);
void sim_zns_written(struct sim_ns *ns, uint64_t slba, uint32_t nlb);
uint16_t sim_zns_append(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0);
uint16_t sim_zns_send(struct nvme_sim *sim, const struct nvme_sqe *sqe);
uint16_t sim_zns_recv(struct nvme_sim *sim, const struct nvme_sqe *sqe);
int sim_zns_init(struct sim_ns *ns);

/* sim_ns.c: metadata and formats */
void sim_ns_formats(struct sim_ns *ns);
int sim_ns_set_format(struct sim_ns *ns, unsigned idx, bool extended, uint8_t pi, bool pil);
void sim_ns_erase(struct sim_ns *ns);
int sim_ns_md_io(struct sim_ns *ns, uint64_t lba, uint64_t count, uint8_t *md, bool write);
uint16_t sim_crc_t10dif(const uint8_t *p, size_t len);
uint64_t sim_crc64_nvme(const uint8_t *p, size_t len);
/* sim_nvm.c: PI of one block (16b or 64b Guard, by the namespace's PIF),
 * reference tag `ref`; the reference tag a command gives (ILBRT: CDW14,
 * with 64b Guard also CDW3 15:0 as bits 47:32). */
void sim_pi_put(const struct sim_ns *ns, uint8_t *md, const uint8_t *data, uint64_t ref);
uint64_t sim_pi_ilbrt(const struct sim_ns *ns, const struct nvme_sqe *sqe);
/* The PRINFO bits of a command on `ns` starting at `slba` (Zone Append: its
 * ZSLBA): 0 or the status that refuses them. */
uint16_t sim_pi_flags_check(const struct sim_ns *ns, const struct nvme_sqe *sqe, uint64_t slba);
/* Bytes of PI in a block's metadata: 16 with 64b Guard, else 8. */
unsigned sim_pi_size(const struct sim_ns *ns);

/* sim_dma.c */
uint64_t sim_va_to_bus(const void *va);
void *sim_region_add(struct nvme_sim *sim, void *va, size_t len, size_t asked,
                     enum nvme_dma_dir dir, enum sim_region_kind kind);
int sim_region_del(struct nvme_sim *sim, void *va, size_t asked, enum nvme_dma_dir dir,
                   enum sim_region_kind kind);
size_t sim_region_live(const struct nvme_sim *sim);
/* A region with id <= `id` still covers [va, va+len) in the direction. */
bool sim_region_alive(const struct nvme_sim *sim, uint64_t id, uint64_t bus, size_t len,
                      bool dev_write);
void sim_xfer_free(struct sim_xfer *x);
/* Device access of host memory at bus address; false (and a recorded
 * violation) when the IOMMU rule forbids it. */
bool sim_dma_read(struct nvme_sim *sim, uint64_t bus, void *dst, size_t len, const char *what);
bool sim_dma_write(struct nvme_sim *sim, uint64_t bus, const void *src, size_t len,
                   const char *what);
/* Only checks that the device may read [bus, bus+len) (queue creation). */
bool sim_dma_probe(struct nvme_sim *sim, uint64_t bus, size_t len, const char *what);
/* Only checks that the device may write [bus, bus+len). */
bool sim_dma_probe_write(struct nvme_sim *sim, uint64_t bus, size_t len, const char *what);
/* Moves bytes between the device and host memory the checks allowed:
 * through the cache model in non-coherent mode. */
void sim_dev_copy(struct nvme_sim *sim, uint8_t *va, void *buf, size_t len, bool dev_write,
                  const char *what);
/* True when [va, va+len) lies inside one dma_alloc block. */
bool sim_in_alloc(const struct nvme_sim *sim, const void *va, size_t len);
/* Data transfer described by PRP1/PRP2 (§4.3); returns a status field:
 * 0, PRP Offset Invalid, Data Transfer Error. */
uint16_t sim_prp_copy(struct nvme_sim *sim, const struct nvme_sqe *sqe, void *buf, size_t len,
                      bool to_host);

/* A dma_map piece the OSAL bounced: the device uses page+off instead of va. */
struct sim_bounce {
    struct sim_bounce *next;
    uint8_t *va; /* caller's memory */
    size_t len;
    enum nvme_dma_dir dir;
    uint8_t *page; /* bounce page; the device sees page + (va % page size) */
    uint8_t *dev;  /* page + offset */
};

/* sim_cache.c: non-coherent DMA.  track/untrack follow the region table
 * (dma_alloc, dma_map); clean/invalidate round [va, va+len) out to lines. */
void sim_cache_track(struct nvme_sim *sim, uint8_t *va, size_t len);
void sim_cache_untrack(struct nvme_sim *sim, uint8_t *va, size_t len);
void sim_cache_free(struct nvme_sim *sim);
void sim_cache_clean(struct nvme_sim *sim, const void *va, size_t len, const char *who);
void sim_cache_invalidate(struct nvme_sim *sim, const void *va, size_t len, const char *who);
/* A device access of host memory (already allowed by the region table). */
void sim_cache_dev_copy(struct nvme_sim *sim, uint8_t *va, void *buf, size_t len, bool dev_write,
                        const char *what);

/* sim_ns.c */
struct sim_ns *sim_ns_find(struct nvme_sim *sim, uint32_t nsid);
int sim_ns_insert(struct nvme_sim *sim, const struct nvme_sim_ns_config *nc);
int sim_ns_delete(struct nvme_sim *sim, uint32_t nsid);
void sim_ns_free(struct sim_ns *ns);
int sim_ns_io(struct sim_ns *ns, uint64_t lba, uint64_t count, void *buf, bool write);
/* Write Uncorrectable's marks: set on [lba, lba + count) (-1: no
 * memory), whether any of them is marked; sim_ns_io's writes and
 * sim_ns_erase clear them. */
int sim_ns_unc_mark(struct sim_ns *ns, uint64_t lba, uint64_t count);
/* Deallocates count blocks from lba (Dataset Management AD, Write Zeroes
 * DEAC, a zone reset): they read as zeros (DLFEAT 001b) and count as
 * deallocated for DULBE until written again; Write Uncorrectable marks
 * go.  Image namespaces get zeros and stay written (-1: out of range or
 * a write error). */
int sim_ns_dealloc(struct sim_ns *ns, uint64_t lba, uint64_t count);
/* Whether any of count blocks from lba is deallocated or was never
 * written (NVM CS 1.0 §3.2.3, Dataset Management): every block of a memory namespace
 * until a write reaches it, and after sim_ns_dealloc, a Format or a
 * Sanitize; never for an image namespace. */
bool sim_ns_unwritten(const struct sim_ns *ns, uint64_t lba, uint64_t count);
bool sim_ns_unc_any(const struct sim_ns *ns, uint64_t lba, uint64_t count);
int sim_ns_sync(struct sim_ns *ns);
uint32_t sim_ns_max_nsid(const struct nvme_sim *sim);
/* The active namespace `nsid` names, or NULL and *sf: Invalid Namespace
 * or Format for an invalid NSID (0, above NN, FFFFFFFFh), Invalid Field
 * in Command for an inactive one (NVMe 2.0 §3.2.1). */
struct sim_ns *sim_ns_active(struct nvme_sim *sim, uint32_t nsid, uint16_t *sf);

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

/* MDTS in bytes, 0 = no limit: 2^MDTS pages of 4 KiB << MPSMIN, a limit
 * of 2^64 bytes or more as UINT64_MAX (MDTS is 8 bits). */
static inline uint64_t sim_mdts_bytes(const struct nvme_sim *sim)
{
    unsigned shift = 12u + sim->cfg.mpsmin + sim->cfg.mdts;
    if (!sim->cfg.mdts)
        return 0;
    return shift < 64u ? 1ull << shift : ~0ull;
}

/* A size limit of the NVM or ZNS Identify Controller (VSL, WZSL, WUSL,
 * ZASL: 2^n units of CAP.MPSMIN, 0 none) in bytes, UINT64_MAX for none
 * and for 2^64 bytes or more (n is 8 bits: a plain shift would be
 * undefined there, and x86 would count it modulo 64). */
static inline uint64_t sim_size_limit_bytes(const struct nvme_sim *sim, uint8_t n)
{
    unsigned shift = 12u + sim->cfg.mpsmin + n;
    return n != 0 && shift < 64u ? 1ull << shift : ~0ull;
}

#endif /* NVME_SIM_INTERNAL_H */
