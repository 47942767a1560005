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
 *     assert(nvme_sim_coherency_violations(sim) == 0);   // cfg.noncoherent
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
#define NVME_SIM_CORRUPT_NUSE (1u << 4)  /* report NCAP = NUSE = NSZE + 8 (past NSZE) */
#define NVME_SIM_CORRUPT_NLBAF (1u << 5) /* report NLBAF = 64 (above 63, NVM CS 1.0 Figure 97) */
#define NVME_SIM_CORRUPT_DPS (1u << 6)   /* report DPS PI type 5 (reserved) */
#define NVME_SIM_CORRUPT_NCAP0 (1u << 7) /* report NCAP = NUSE = 0, NSZE as it is */
/* Reservation Report (sim_resv.c) with REGCTL FFFFh, whatever the registrants */
#define NVME_SIM_CORRUPT_REGCTL (1u << 3)

struct nvme_sim_ns_config {
    uint32_t nsid;         /* 1 .. 0xfffffffe, any order, gaps allowed */
    uint64_t blocks;       /* NSZE in logical blocks; 0 with an image: file size / lba_size */
    uint32_t lba_size;     /* bytes, power of two 512 .. 2 MiB (QEMU's range); 0 means 512 */
    const char *image;     /* NULL: sparse memory (zeros); else a file used with pread/pwrite */
    bool create;           /* create the image file / extend it to blocks*lba_size if needed */
    uint32_t corrupt;      /* NVME_SIM_CORRUPT_* bits */
    uint8_t corrupt_lbads; /* LBADS reported with NVME_SIM_CORRUPT_LBADS */
    uint8_t ident;         /* varies the EUI64, NGUID and UUID derived from the NSID (a
                              namespace deleted and created again under its NSID) [0] */
    bool uuid_only;        /* named by its UUID alone: no EUI64 in Identify Namespace, no
                              EUI64 or NGUID descriptor (an older QEMU machine type, Linux's
                              nvmet by default) */
    /* NVMe 2.0 LBA formats (Identify Namespace NLBAF byte 25, FLBAS byte 26,
     * LBAF0..LBAF63 bytes 128..383 in NVMe 2.0).  nlbaf is the
     * 0-based number of formats, up to 63; 0 keeps the 1.4 behaviour (512
     * and 4096 listed, plus the size in use if other).  With nlbaf > 0,
     * format flbas_index (0..nlbaf) has LBADS = log2(lba_size) and MS = 0 and
     * is the one in use (FLBAS bits 3:0 = index bits 3:0, bits 6:5 = index
     * bits 5:4); every other format gets a distinct plausible (LBADS, MS)
     * pair.  Formats 16..63 are written by byte offset (nvme_spec.h's
     * struct nvme_id_ns declares lbaf[16] only). */
    uint8_t nlbaf;
    uint8_t flbas_index;
    /* Of the nlbaf + 1 formats, the last nulbaf (0..nlbaf) are listed as
     * unique capability formats: Identify NLBAF is nlbaf - nulbaf and
     * NULBAF (byte 82, NVM CS 1.0) nulbaf; Format NVM takes every one [0] */
    uint8_t nulbaf;
    /* Metadata and protection information of the format in use (NVM CS
     * §5.2): ms bytes per block, interleaved with the data when extended
     * (FLBAS bit 4), else through MPTR; pi_type 1..3 (DPS) needs ms >= 8,
     * PI in the last 8 metadata bytes, or the first with pi_first.  PI is
     * the 16-bit guard (CRC-16 T10-DIF of the block's data), application
     * tag, and reference tag; PRACT generates it on writes and strips it
     * on reads when ms is 8; PRCHK bits check guard (28) and reference tag
     * (26, Types 1 and 2: CDW14 + block) and fail with End-to-end Guard /
     * Reference Tag Check Error (SCT 2h, SC 82h / 84h).  The format list
     * then also offers (512, ms) and (4096, ms) so Format NVM can move
     * between formats with and without metadata. */
    uint16_t ms;
    bool extended;
    uint8_t pi_type;
    bool pi_first;
    /* Extended LBA Format of every listed format (CNS 05h CSI 00h ELBAF,
     * reported when cfg.elbas): pif 2 is the 64b Guard PI of NVM CS §5.3.1.4,
     * 16 bytes (CRC-64/NVME guard, application tag, 48-bit reference tag;
     * needs ms >= 16), whose ILBRT is CDW14 plus bits 47:32 in CDW3 15:0;
     * pif 1 (32b Guard) and sts (Storage Tag Size) are reported only: PI
     * commands on them fail with Invalid Field. */
    uint8_t pif, sts;
    /* Zoned namespace (ZNS 1.1; CSI 02h): zones of zone_size blocks (a
     * power of two; capacity = size), all sequential-write-required,
     * starting Empty.  Writes and Write Zeroes must start at the zone's
     * write pointer (else Zone Invalid Write, SCT 1h SC BCh), stay inside
     * the zone (Zone Boundary Error B8h), not hit a Full zone (Zone Is Full
     * B9h), reads too (Read Across Zone Boundaries, OZCS bit 0, is not
     * offered); Zone Append (7Dh) writes at the write pointer and returns the
     * LBA in Dword 0.  Writing opens the zone implicitly; Zone Management
     * Send opens, closes, finishes, resets (data back to zeros) and
     * offlines (Invalid Zone State Transition BFh unless read only);
     * max_open / max_active limit open and active zones (0: no limit; Too
     * Many Open Zones BEh, Too Many Active Zones BDh).  Needs the
     * controller's I/O Command Set support (cfg.iocs is forced on). */
    bool zoned;
    uint64_t zone_size;
    /* Zone capacity (ZCAP of Report Zones, ZNS 1.1 §2.1.1): the writable
     * blocks from each zone's start, fewer than zone_size or 0 for all of
     * them; a zone is Full at ZSLBA + ZCAP, a write past it fails Zone
     * Boundary Error. */
    uint64_t zone_cap;
    uint32_t max_open, max_active;
    /* ZSZE reported in Identify Namespace ZNS (CNS 05h CSI 02h) when not 0,
     * instead of zone_size; the zone model keeps zone_size (robustness
     * tests: a device reporting a zone size that is not a power of two). */
    uint64_t zsze_reported;
    /* ZDES reported in each LBA Format Extension (zone descriptor
     * extension, 64-byte units); the simulator keeps no extensions [0] */
    uint8_t zdes;
    /* Command Set Identifier reported in the Namespace Identification
     * Descriptor list (CNS 03h, NIDT 04h) when not 0, instead of the
     * namespace's own (00h NVM, 02h zoned); the namespace still executes
     * NVM commands (robustness tests: a command set the host does not
     * drive, e.g. 01h Key Value) [0] */
    uint8_t csi_reported;
    /* Identify Namespace NSATTR bit 0 (Write Protected, NVMe 1.4 Figure
     * 245): every write to the namespace (Write, Write Uncorrectable, Write
     * Zeroes, Dataset Management, Copy, Zone Append, Zone Management Send)
     * fails with Namespace is Write Protected (SCT 0h, SC 20h, DNR);
     * nvme_sim_ns_write_protect changes it at run time. [false] */
    bool write_protected;
};

/* SMART / Health values (§5.14.1.2).  The data unit and host command
 * counters are bases: the simulator adds the real reads and writes. */
struct nvme_sim_smart {
    uint8_t critical_warning; /* NVME_SMART_CRIT_* bits */
    uint16_t temperature;     /* composite temperature, Kelvin */
    uint8_t avail_spare;      /* percent */
    uint8_t spare_thresh;     /* percent */
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

/* What Abort (§5.1) does with a command still in flight in the device. */
enum nvme_sim_abort_mode {
    NVME_SIM_ABORT_WORKS = 0, /* a command still in the device (hung, completion delayed,
                                 deferred and not yet executed) completes with Command
                                 Abort Requested (SCT 0, SC 07h); Abort DW0 bit 0 = 0.
                                 Anything else (unknown, already completed): bit 0 = 1 */
    NVME_SIM_ABORT_REFUSE     /* Abort always completes with DW0 bit 0 = 1 (not aborted),
                                 which §5.1 allows */
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

/* Doorbell Buffer Config (admin opcode 7Ch, NVMe 1.3 §5.7, NVMe 2.0 base
 * specification "Doorbell Buffer Config command"), offered with
 * cfg.oacs |= NVME_OACS_DBBUF.  PRP1 is the Shadow Doorbell buffer, PRP2
 * the EventIdx buffer, memory-page aligned (the first page of each checked; else
 * Invalid Field in Command), the first readable and the second writable
 * by the device (else Data Transfer Error).  Entry of SQ y at byte
 * 2y * (4 << CAP.DSTRD), of CQ y at (2y + 1) * (4 << CAP.DSTRD), for
 * every queue, past the first page too (the command names no size; QEMU
 * indexes every queue so, and Linux sizes the buffers for all its queues:
 * a host that gave one page has the device touch memory past it, a DMA
 * violation).  Queues from SIM_DBBUF_MAXQ (1024) keep plain doorbells.  Once
 * configured (until the next controller reset) an I/O queue's SQ tail and
 * CQ head come from the shadow buffer: whenever the device processes the
 * SQ (an MMIO tail doorbell still triggers that, as on QEMU, and in
 * deferred mode its due time) it reads the tail there, and before it
 * posts a CQE (or finds the CQ full) it reads the head there.  The admin
 * queue keeps its MMIO doorbells (QEMU copies each admin MMIO value into
 * the shadow entry and reads it back: the same for a host that rings it
 * and keeps its copy of that line current; cfg.dbbuf_admin_copy models
 * it).  Otherwise the device never writes the shadow buffer; it writes EventIdx entries,
 * through the DMA checks and the non-coherent cache model, as the mode
 * says.  A host may skip the MMIO write only while the new value does not
 * pass the EventIdx (NVMe 2.0: the host rings when the new value passes
 * it; Linux nvme_dbbuf_need_event): a skipped write the device needed
 * leaves the commands unfetched until another doorbell. */
enum nvme_sim_eventidx {
    NVME_SIM_EI_DRAINED = 0, /* like QEMU: once the device has drained an SQ it
                                writes SQ EventIdx = its head (QEMU writes the tail it
                                read, the same value then) and reads the shadow tail
                                again; before each CQE it writes CQ EventIdx = the CQ
                                head it knows, then reads the shadow head.  In
                                deferred mode the host may skip MMIO writes while the
                                device has not run the queue yet */
    NVME_SIM_EI_EVERY        /* also at every MMIO doorbell write the entry is set to
                                the value written: EventIdx is held at the host's last
                                doorbell, so every new value passes it and the host
                                must ring each time */
};

struct nvme_sim_config {
    /* CAP (§3.1.1) */
    uint16_t mqes;     /* CAP.MQES, 0-based (default 1023) */
    uint8_t dstrd;     /* CAP.DSTRD, doorbell stride 4 << dstrd (default 0) */
    uint32_t bar_size; /* BAR0 bytes, told to the core as nvme_osal.mmio_size; an access past
                          it is a host error (default 16384) */
    uint8_t to;        /* CAP.TO, 500 ms units (default 20) */
    uint16_t crwmt;    /* NVMe 2.0 CAP.CRMS.CRWMS (bit 59) and CRTO.CRWMT (offset 68h, bits
                          15:0), 500 ms units: CSTS.RDY may take this long after CC.EN = 1
                          with CC.CRIME = 0, and CAP.TO holds only min(CRWMT, FFh)
                          (set `to` so); CRIMS stays 0 (default 0: no CRMS, CRTO reads 0) */
    uint8_t mpsmin;    /* CAP.MPSMIN, page 2^(12+n) (default 0) */
    uint8_t mpsmax;    /* CAP.MPSMAX (default 4) */
    /* Identify Controller (§5.15.2.2) */
    uint8_t mdts;           /* MDTS, 2^n * MPSMIN pages, 0 = no limit (default 5: 128 KiB) */
    uint16_t vid, ssvid;    /* default 0x1b36 / 0x1af4 */
    const char *serial;     /* default "SIM0000001" */
    const char *model;      /* default "nvme-core simulated controller" */
    const char *firmware;   /* default "1.0" */
    uint32_t nn;            /* Identify NN; 0: the highest configured NSID */
    bool vwc;               /* volatile write cache present (default true) */
    bool flush_no_bcast;    /* VWC bits 2:1 = 10b: Flush of NSID FFFFFFFFh refused (default
                             false: 11b, taken) */
    bool copy_format0_only; /* OCFS (byte 534) says Copy descriptor format 0h only, as
                               QEMU before 7.1 (default false: 0h and 1h, as QEMU 7.2) */
    uint32_t rtd3e;         /* RTD3 entry latency, us (default 0 = not reported) */
    uint8_t acl;            /* ACL (byte 258), 0-based outstanding Aborts (default 3).  An
                                Abort arriving while ACL+1 Aborts are still held in the
                                device (hung or with a delayed completion, see the faults)
                                fails with Abort Command Limit Exceeded (SCT 1, SC 03h) */
    /* OAES bits (byte 92) not reported, of 8 (namespace attribute
     * notices) and 9 (firmware activation), which are by default. */
    uint32_t oaes_off;
    enum nvme_sim_abort_mode abort_mode; /* default NVME_SIM_ABORT_WORKS */
    uint8_t aerl;                        /* AERL (byte 259), 0-based outstanding Asynchronous Event
                                Requests (default 3); one more fails with Asynchronous
                                Event Request Limit Exceeded (SCT 1, SC 05h, §5.2) */
    uint16_t crdt[3];                    /* CRDT1..3 (bytes 128-133), Command Retry Delay Times in
                                100 ms units (default 0).  A status field's CRD bits (12:11)
                                reach the host only while the host enabled ACRE with the
                                Host Behavior Support feature (FID 16h, §5.21.1.22, a 512-byte
                                data structure moved by Set/Get Features through the PRPs;
                                CRD: status field, §4.6.1, Figure 124): with ACRE 0 (the
                                default, and again after every controller reset) the
                                simulator clears them from every completion,
                                NVME_SIM_FAULT_STATUS values included */
    /* Queues */
    uint16_t io_queues; /* I/O SQ/CQ pairs the controller allocates; the Set Features
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
    enum nvme_sim_timing timing;    /* default NVME_SIM_IMMEDIATE */
    uint32_t completion_latency_us; /* deferred mode only (default 0: next OSAL call) */
    uint32_t now_tick_us;           /* each now_us() call advances the clock this much
                                        (default 1, so busy loops make progress) */
    /* Interrupts */
    enum nvme_sim_irq_mode irq_mode; /* default NVME_SIM_IRQ_NONE */
    unsigned irq_vectors;            /* MSI-X table size (default 8, at most 2048) */
    /* OSAL */
    bool locks;    /* provide pthread mutex lock callbacks (default false: NULL) */
    int log_level; /* print core log lines with level <= this (default NVME_LOG_WARN) */
    bool quiet;    /* do not print the simulator's own messages to stderr */
    /* QEMU 2.8 to 8.2's metadata bug (dma-helpers.c dma_blk_cb, fixed in
     * 2024), which the core's NVME_QUIRK_MD_SECTORS works around: a
     * separate metadata transfer (MPTR) longer than 512 bytes and not a
     * multiple of 512 moves only its first (length mod 512) bytes, and the
     * command succeeds (a write stores zeros for the rest). [false] */
    bool md_sectors_bug;
    /* Optional commands and capabilities (issue 9), defaults in brackets */
    uint16_t oncs;  /* Identify ONCS [Compare, DSM, Write Zeroes, Save/Select
                                features, Timestamp, Verify, Copy: 0x01dd]; without
                                bit 4 Get Features ignores SEL (NVMe 1.0: reserved) and
                                returns the current value; bit 1 (off by default, as
                                QEMU 7.2) offers Write Uncorrectable: its blocks fail
                                Read, Compare, Verify and Copy's reads with Unrecovered
                                Read Error (SCT 2h, SC 81h, DNR) until written again
                                (Write, Write Zeroes, a Copy to them, a deallocate,
                                Format, Sanitize); refused on zoned namespaces */
    uint16_t mssrl; /* Identify Namespace MSSRL, MCL, MSRC (Copy limits) [128, */
    uint32_t mcl;   /*   128, 127: QEMU's defaults] */
    uint8_t msrc;
    /* NVM Command Set Identify Controller (CNS 06h CSI 00h, answered with
     * iocs) [0: no limit]: a Dataset Management deallocate of more than
     * dmrl ranges or dmsl blocks fails Invalid Field; a range above dmrsl
     * blocks is skipped, the command still succeeding (QEMU 7.2's
     * nvme_dsm_cb; dsm_skipped counts them) */
    uint8_t dmrl;
    uint32_t dmrsl;
    uint64_t dmsl;
    /* and its Verify and Write Zeroes Size Limits, 2^n * MPSMIN bytes [0:
     * none]: a Verify or Write Zeroes of more fails Invalid Field, as
     * QEMU's vsl */
    uint8_t vsl, wzsl;
    uint8_t wusl;             /* Write Uncorrectable Size Limit, likewise [0: none] */
    uint8_t zasl;             /* ZNS Identify Controller (CNS 06h CSI 02h) byte 0, the Zone
                                Append Size Limit, 2^n * MPSMIN bytes [0: MDTS]: a Zone
                                Append of more fails Invalid Field, as QEMU's zoned.zasl */
    uint16_t oacs;            /* Identify OACS [Format, Firmware, Self-test: 0x0016]; add
                                NVME_OACS_DBBUF (bit 8) to offer Doorbell Buffer Config,
                                shadow doorbells and EventIdx (see eventidx below) */
    uint8_t lpa;              /* Identify LPA [effects log, extended data: 0x06]; bit 3
                                offers the Telemetry Host- and Controller-Initiated logs (07h,
                                08h; 16 KiB: the header's generation number, byte 381
                                or 383, in every data byte; LSP bit 0 creates a new
                                generation; bit 6: Data Area 4, 32 KiB, once the host
                                set ETDAS, Host Behavior Support byte 1); without
                                bit 2 a Get Log Page with an offset, NUMDU or NUMDL bits
                                31:28 set fails Invalid Field (the count is bits 27:16) */
    uint16_t endgidmax;       /* Endurance Groups 1..endgidmax (CTRATT bit 4, ENDGIDMAX; the
                                Endurance Group Information log, LID 09h; every namespace
                                in group 1) [0: none] */
    uint32_t nanagrpid;       /* ANA reporting (CMIC bit 3, NANAGRPID = ANAGRPMAX, MNAN 0, the
                                ANA log, LID 0Ch): namespace i in group (i - 1) % n + 1,
                                odd groups optimized, even non-optimized [0: none] */
    uint32_t mnan;            /* with nanagrpid: Identify Controller's MNAN as given (a device
                                value, maybe above NN) [0: MNAN 0, at most NN] */
    uint16_t secondary_ctrls; /* secondary controllers (virtual functions; OACS bit 7, Identify
                                CNS 14h/15h, sim_virt.c): CNTLID i + 1 on VF i, offline [0:
                                none, CNS 14h/15h Invalid Field] */
    uint32_t sanicap;         /* Identify SANICAP [crypto, block, overwrite: 0x7] */
    uint8_t fna;              /* Identify FNA [crypto erase: 0x04]; bit 0: a Format of one
                                namespace formats all */
    uint8_t frmw;             /* Identify FRMW [3 slots, activation without reset: 0x16] */
    uint8_t fwug;             /* Identify FWUG, 4 KiB units [0: no information] */
    uint16_t mtfa;            /* Identify MTFA, 100 ms units [0: not reported] */
    uint8_t dlfeat;           /* Identify Namespace DLFEAT [zeros, WZ deallocate: 0x09] */
    uint8_t npss;             /* Identify NPSS, 0-based power states [2] */
    bool nssrs;               /* CAP.NSSRS: NVM Subsystem Reset supported [true] */
    bool elbas;               /* CTRATT.ELBAS: Extended LBA Formats (CNS 05h CSI 00h answered
                                 even without iocs) [false] */
    bool resv_notif_stuck;    /* a read of the Reservation Notification log (80h) removes no
                                 page: the oldest one again and again, with more waiting
                                 (a hostile controller) [false] */
    bool resv_notif_reset;    /* a controller reset drops the Reservation Notification pages
                                 held and starts their Log Page Count at 0 again [false] */
    bool lbafee_refused;      /* Host Behavior Support with LBAFEE (byte 2) set fails with
                                 Invalid Field, as a controller that knows no byte 2 [false] */
    bool qemu_feature_caps;   /* features changeable and saveable as QEMU 7.2/8.x's
                                 nvme_feature_cap: Set Features of Arbitration, Power
                                 Management, Interrupt Coalescing and Interrupt Vector
                                 Configuration fails Feature Not Changeable, SEL 011b reports
                                 them so, and no feature is saveable (SV: Feature Identifier
                                 Not Saveable) [false: every feature changeable, the ones a
                                 power cycle keeps saveable with ONCS bit 4] */
    bool iocs;                /* CAP.CSS bit 6: I/O Command Sets (CC.CSS 110b), Identify CNS
                                1Ch/05h/06h and the I/O Command Set Profile feature [false;
                                forced on when a namespace is zoned] */
    bool iocs_gap;            /* CNS 1Ch lists NVM at index 0, no vector at 1 (an index not
                                 used), NVM + ZNS at 2; the I/O Command Set Profile feature
                                 takes 0 and 2 [false: NVM at 0, NVM + ZNS at 1] */
    uint32_t dst_short_us;    /* Device Self-test durations, simulated us [1000 / 5000] */
    uint32_t dst_extended_us;
    /* A Firmware Commit that activates at once (CA 011b) pauses processing
     * this long, as nvme_sim_pause(sim, us, false) [0] */
    uint32_t fw_act_pause_us;
    bool apple_ans2;            /* behave like Apple's ANS2 (PCI 106b:2005) as Linux's quirks for it
                                describe: I/O SQ entries are 128 bytes (CC.IOSQES must be 7,
                                Identify SQES 77h); CIDs are tags shared by the admin queue and
                                the I/O queues, so a CID already in flight on any queue, or an
                                I/O CID not below its queue's depth, is fatal (CSTS.CFS,
                                stats.tag_collisions); Identify CNS other than 0 and 1 fails
                                Invalid Field; one MSI-X vector [false] */
    uint8_t vendor_opc;         /* a vendor-specific admin opcode (C0h-FFh) completed as a no-op
                                (stats.vendor_cmds), its Commands Supported and Effects entry
                                CSUPP | vendor_effects [0: none] */
    uint32_t vendor_effects;    /* NVME_EFFECTS_* bits, CSE (bits 18:16) included [0] */
    uint32_t fw_commit_effects; /* NVME_EFFECTS_* bits ORed into Firmware Commit's (10h)
                                   Commands Supported and Effects entry (CSUPP | CCC) [0] */
    uint32_t ns_mgmt_effects;   /* NVME_EFFECTS_* bits ORed into the Namespace Management (0Dh)
                                   and Attachment (15h) Commands Supported and Effects entries [0] */
    uint32_t sanitize_effects;  /* NVME_EFFECTS_* bits ORed into Sanitize's (84h) Commands
                                   Supported and Effects entry (CSUPP | LBCC | NCC) [0] */
    uint8_t vendor_fid;         /* a vendor-specific feature (C0h-FFh) with a data structure of
                                vendor_feat_len bytes moved through the PRPs by Get Features
                                (what Set Features stored, zeros at first) and Set Features
                                [0: none] */
    uint32_t vendor_feat_len;   /* its size, up to 16 KiB [0: 4096] */
    uint32_t hmpre, hmmin;      /* Identify HMPRE / HMMIN, 4 KiB units: a Host Memory Buffer
                                wanted / needed [0: none, Set Features 0Dh unknown] */
    uint32_t hmminds;           /* Identify HMMINDS: smallest piece, 4 KiB units [0] */
    uint16_t hmmaxd;            /* Identify HMMAXD: most pieces [0: no limit; the sim takes 256] */
    bool hmb_list_scribble;     /* a broken device: after taking the buffer it writes its own
                                BSIZE (doubled) into the descriptor list [false] */
    size_t dma_alloc_max;       /* OSAL dma_alloc of more bytes fails (no contiguous memory
                                that large) [0: no limit] */
    /* With Namespace Management in oacs (bit 3): NSIDs allocated but attached
     * to no controller, listed beside the active ones by Identify CNS 10h;
     * 0 ends the list; keep them <= nn [none] */
    uint32_t inactive_nsids[8];
    /* A broken device: the Active Namespace ID list (Identify CNS 02h) is
     * these NSIDs, in this order (0 ends the list), whatever NSID the
     * command starts from, instead of the active NSIDs above it in
     * ascending order (§5.15.2.3) [active_list[0] 0: the real list] */
    uint32_t active_list[8];
    /* A hostile device: every Active Namespace ID list page (Identify CNS
     * 02h) is full, the 1024 NSIDs after the command's NSID, whatever NN
     * and the namespaces (up to FFFFFFFEh); only those above the NSID
     * nvme_sim_active_list_above set [false] */
    bool active_list_full;
    /* The Active Namespace ID list (Identify CNS 02h) answered with this
     * status, every time (a failing or an older device) [0: the list] */
    uint16_t active_list_status;
    /* A broken device: the Namespace Identification Descriptor list
     * (Identify CNS 03h) of every namespace is these ns_desc_len bytes,
     * the rest of the 4 KiB zero, instead of its EUI64, NGUID, UUID and
     * CSI descriptors [ns_desc_len 0: the real list] */
    uint8_t ns_desc[64];
    size_t ns_desc_len;
    /* A broken device: Identify Controller's SUBNQN has these bytes after
     * its NUL terminator, where the rest of the 256 is zero [NULL: none] */
    const char *subnqn_tail;
    uint64_t wall_clock_ms; /* fill the OSAL's optional wall_clock_ms, which returns this
                               time of day (ms since 1970; nvme_sim_set_wall_clock changes
                               it) (default 0: NULL, no time of day) */
    bool wait_wake;         /* fill the OSAL's optional wait/wake (default false: NULL, the
                                core polls with sleep_us).  wait(us) advances the clock 1 us
                                at a time, running due work and delivering interrupts like
                                sleep_us, and returns as soon as wake() was called (a sticky
                                flag, cleared by that return) or after `us` */
    /* Non-coherent DMA (default false: the device snoops the CPU caches, as
     * on x86).  When set, the device sees host memory only as of the last
     * clean of each cache line (dma_sync TO_DEVICE, dma_map), and the CPU
     * sees what the device wrote only after an invalidate (dma_sync
     * FROM_DEVICE, dma_unmap of a FROM_DEVICE mapping); a line the CPU
     * wrote and did not clean is written back whole at the next clean or
     * when the device writes into it, over the device's data.  The OSAL
     * rounds every range out to cache lines, does cache maintenance in
     * dma_map/dma_unmap only for caller buffers (the core syncs what it
     * allocated), and fills nvme_osal.dma_align with cache_line.  Every
     * missing or misplaced sync the model sees is counted in
     * stats.coherency_violations (see sim_cache.c for the exact rules). */
    bool noncoherent;
    uint32_t cache_line;   /* bytes, power of two 16 .. 4096 (default 64) */
    bool bounce_unaligned; /* non-coherent mode: leave dma_align 0 and bounce instead a
                                FROM_DEVICE/BIDIRECTIONAL dma_map piece that does not start
                                and end on a cache line boundary (default false) */
    /* Shadow doorbells (OACS bit 8 above): how the controller keeps its
     * EventIdx entries (default NVME_SIM_EI_DRAINED, see below). */
    enum nvme_sim_eventidx eventidx;
    /* QEMU's admin queue hack (hw/nvme/ctrl.c, "Implement shadow doorbell
     * buffer support"): with shadow doorbells configured, every MMIO
     * doorbell of the admin queue is also written by the device into the
     * admin queue's shadow entry (SQ 0 tail at byte 0, CQ 0 head one
     * stride further), as are the admin tail and head at Doorbell Buffer
     * Config; and the device takes the admin SQ tail and CQ head from
     * those entries when it fetches and before it posts, as for an I/O
     * queue.  The writes go through the DMA checks and the non-coherent
     * cache model: a CPU clean of a stale copy of that line writes back
     * old admin values over them, and the device then reads them (a CQ
     * head moved back is reported as a host error and taken as QEMU takes
     * it: the CQ may look full).  An admin value read from the shadow that
     * differs from the device's counts in nvme_sim_shadow_doorbells(sim,
     * 0, ...).  Default false: the admin queue ignores the shadow buffer. */
    bool dbbuf_admin_copy;
    /* When the data of an I/O Read or Write moves.  A controller may move
     * it at any point between fetching the SQE and posting the CQE, and
     * may read a write buffer more than once.  Nonzero: a seed that picks,
     * per fetched Read or Write without an injected fault, either data and
     * CQE inside the fetch (about 1 in 4), or a late command: checked at
     * fetch (a command that fails its checks completes then), its buffer
     * read (Write) or written with the data of that moment (Read) at fetch
     * or not, again at each of the next 0 to 3 steps or not, then executed
     * for real (the data moves once more, the media changes) and completed
     * at the step after.  A step is the device's next turn after an OSAL
     * call, an MMIO access or a CQE it posted, or each simulated ms while
     * only time passes.  Until its CQE a late command is in the device as
     * a hung one (NVME_SIM_FAULT_HANG) is: CC.EN 1->0 gives it one last
     * transfer at the end of the disable window and no CQE, Delete I/O SQ
     * and Abort complete it aborted, and a transfer into memory the host
     * freed or unmapped meanwhile counts in nvme_sim_dma_after_return.
     * Completions come out of order and after the doorbell even in
     * NVME_SIM_IMMEDIATE timing.  0: data and CQE inside the fetch. [0] */
    uint32_t dma_timing_seed;
};

/* Fill `cfg` with the defaults documented above. */
void nvme_sim_config_init(struct nvme_sim_config *cfg);
/* Create a simulated controller (cfg NULL: defaults).  Returns NULL and
 * prints why on a bad configuration or a failing image file. */
struct nvme_sim *nvme_sim_create(const struct nvme_sim_config *cfg);
/* Free everything, including what the core did not free. */
void nvme_sim_destroy(struct nvme_sim *sim);
/* Fill `osal` with the hosted OSAL bound to `sim`.  dma_stop and
 * dma_resume are always filled: after dma_stop the device performs no DMA
 * at all (no SQ fetch, no CQE, no data, hung commands stop touching
 * memory) until dma_resume (Bus Master Enable set again) or a hot add;
 * counted in stats.dma_stops and stats.dma_resumes.  wait/wake only with
 * cfg.wait_wake. */
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
    NVME_SIM_FAULT_GONE,          /* device disappears instead of completing */
    NVME_SIM_FAULT_PHASE,         /* execute, post the CQE with its phase tag inverted: the
                                     host never sees it as new, later CQEs keep the right
                                     phase, so the CQ wedges behind it (§4.6 phase tag) */
    NVME_SIM_FAULT_SQHD,          /* execute, complete with SQ Head Pointer = `value` */
    NVME_SIM_FAULT_SQID,          /* execute, complete with SQ Identifier = `value` */
    NVME_SIM_FAULT_HANG,          /* fetch the command and keep it in flight, never completed.
                                     A command with data (Read, Write, Identify, Get Log
                                     Page) keeps DMAing its buffer: at the first simulator
                                     step (OSAL call or nvme_sim_* call that runs due work)
                                     after any host MMIO, DMA call, wake or completion posted,
                                     at every nvme_sim_run, and once per simulated ms of
                                     bare now_us/sleep_us/wait/nvme_sim_advance steps:
                                     a read-type command writes its data into host memory
                                     again, a write reads it (and never reaches the media).
                                     On CC.EN 1->0 it transfers one last time when the
                                     disable window ends (CSTS.RDY -> 0), then is dropped.
                                     Abort (NVME_SIM_ABORT_WORKS) completes it with Command
                                     Abort Requested; Delete I/O SQ with Command Aborted due
                                     to SQ Deletion (§5.6).  A device gone and back drops it.
                                     See nvme_sim_dma_after_return */
    NVME_SIM_FAULT_SHORT_DATA,    /* execute; a command that returns data (Identify, Get Log
                                     Page, Get Features 16h, Read) transfers only its first
                                     `value` bytes and completes with success */
    NVME_SIM_FAULT_GARBAGE_DATA,  /* execute; a command that returns data fills all of it with
                                     pseudo-random bytes (xorshift, seed `value`) and completes
                                     with success.  Filter opcode 06h for a garbage Identify
                                     Controller/Namespace (the simulator has no separate
                                     "Identify garbage" switch) */
    NVME_SIM_FAULT_DW0            /* execute, complete with Dword 0 = `value` (a Namespace
                                     Management create naming NSID 0 or FFFFFFFFh, say) */
};
#define NVME_SIM_ANY (-1)    /* any queue / opcode / CID */
#define NVME_SIM_ANY_IO (-2) /* qid: any I/O queue (opcodes of admin and NVM overlap) */

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
/* nvme_sim_set_gone(sim, false) after a gone period brings the device back
 * as if hot-added: CC = 0, CSTS = 0, AQA/ASQ/ACQ = 0, no queues, features
 * at their defaults, every command in flight (hung, deferred, delayed
 * completions, AERs) dropped with no further DMA, queued asynchronous
 * events and their masks forgotten, dma_stop and "stuck" lifted.
 *
 * Stuck controller: while stuck, CC.EN transitions are ignored (CC reads
 * back what the host wrote, but CSTS.RDY stays 1, queues and commands keep
 * going, hung commands keep DMAing) - the case the OSAL's dma_stop exists
 * for.  Unsticking with CC.EN = 0 performs the pending reset (§7.3.2). */
void nvme_sim_set_stuck(struct nvme_sim *sim, bool stuck);
/* Whether CSTS.RDY ever becomes 1 after the next CC.EN 0->1. */
void nvme_sim_set_never_ready(struct nvme_sim *sim, bool never);
/* CAP (and the readiness time) as a firmware activated by the next
 * controller reset (CC.EN 1->0, or an NVM Subsystem Reset) may change
 * them: from that reset on, CAP.MQES, DSTRD, TO, MPSMIN/MPSMAX and CSS read as
 * given (Create I/O CQ/SQ check the new MQES, doorbells lie at the new
 * stride, shadow doorbell entries too), and CSTS.RDY takes ready_delay_us
 * after CC.EN 0->1 (0 keeps the configured delay). */
struct nvme_sim_cap_change {
    uint16_t mqes;
    uint8_t dstrd, to, mpsmin, mpsmax;
    uint32_t ready_delay_us;
    int8_t iocs; /* CAP.CSS bit 6 (I/O Command Sets, cfg.iocs) from that reset on: 1 set,
                    -1 clear, 0 as it was */
};
void nvme_sim_cap_at_reset(struct nvme_sim *sim, const struct nvme_sim_cap_change *c);
/* The PCIe link going down after an NVM Subsystem Reset (§3.7.1): after
 * each one, the next `reads` register reads return all ones and register
 * writes meanwhile are lost; then the link is back (0: off, the default). */
void nvme_sim_nssr_link_down(struct nvme_sim *sim, unsigned reads);
/* CSTS.NSSRO ignoring the host's write of 1 (a bit stuck at 1): it stays
 * set once an NVM Subsystem Reset set it (false: RW1C, the default). */
void nvme_sim_nssro_stuck(struct nvme_sim *sim, bool stuck);
/* Register reads failing now, without any reset: the next `reads` read
 * all ones and register writes meanwhile are lost (an MMIO read that
 * timed out, a link retraining), while the function goes on mastering
 * the bus: hung commands keep moving data, completions are posted.
 * What a driver sees of a removal it can only suspect. */
void nvme_sim_link_down(struct nvme_sim *sim, unsigned reads);
/* Make the N+1-th next call of an OSAL allocator fail (skip = N); -1 disarms. */
enum nvme_sim_osal_fn {
    NVME_SIM_FAIL_DMA_ALLOC = 0,
    NVME_SIM_FAIL_DMA_MAP,
    NVME_SIM_FAIL_MEM_ALLOC
};
void nvme_sim_fail_osal(struct nvme_sim *sim, enum nvme_sim_osal_fn fn, int skip);

/* --- Namespaces ------------------------------------------------------------------ */

/* Add an active namespace at run time (then the core rescans).  0 or -1. */
int nvme_sim_ns_add(struct nvme_sim *sim, const struct nvme_sim_ns_config *ns);
/* Remove an active namespace.  0 or -1 when not found. */
int nvme_sim_ns_remove(struct nvme_sim *sim, uint32_t nsid);
/* Change Identify Namespace corruption of a namespace (NVME_SIM_CORRUPT_*). */
int nvme_sim_ns_corrupt(struct nvme_sim *sim, uint32_t nsid, uint32_t bits, uint8_t lbads);
/* Set or clear a namespace's write protection (nvme_sim_ns_config
 * .write_protected) at run time, as Namespace Write Protection Config
 * (FID 84h) or another host may: the NSID goes into the Changed Namespace
 * List and a Namespace Attribute Changed notice is posted, as for
 * nvme_sim_ns_add.  0, or -1 when there is no such namespace. */
int nvme_sim_ns_write_protect(struct nvme_sim *sim, uint32_t nsid, bool wp);
/* Reservations (NVMe 1.4 §8) with cfg.oncs bit 5 (NVME_ONCS_RESERVATIONS;
 * not in the default): Identify Namespace RESCAP FEh (types 1-6, IEKEY; no
 * Persist Through Power Loss, so CPTPL 11b fails Invalid Field); Register
 * (register, unregister, replace), Acquire (acquire, preempt, preempt and
 * abort: nothing to abort here), Release (release, clear) and Report (both
 * data structures) on the namespace's registrants, at most 8; the host is
 * the one Host Identifier (FID 81h, zeros until set), CNTLID 1.  A wrong
 * CRKEY, a non-registrant, or a reservation held by another host fails
 * Reservation Conflict (SCT 0h, SC 83h, DNR), and so do Read, Compare and
 * Verify (read group) and Write, Write Zeroes, Dataset Management, Copy
 * and the zone commands (write group) that the reservation type denies
 * this host; Flush is not restricted.  The generation counts successful
 * Registers, Preempts and Clears.  Registrants and reservation are the
 * namespace's: deleting it drops them.
 * nvme_sim_resv_other: another host (host identifier 16 bytes A5h, the
 * last XOR n, CNTLID 2 + n, for the n-th other host) registers with `key`
 * on namespace nsid and, with rtype 1..6, holds a reservation of that
 * type (which must be free).  0 or -1. */
int nvme_sim_resv_other(struct nvme_sim *sim, uint32_t nsid, uint64_t key, uint8_t rtype);
/* Write commands (Write, NVM CS §3.2.6) completed on a namespace since its
 * last Flush (§6.8, its NSID or FFFFFFFFh): what the volatile write cache
 * may still hold; 0 for no such namespace. */
uint64_t nvme_sim_ns_unflushed(struct nvme_sim *sim, uint32_t nsid);
/* Asynchronous events (§5.2; completion queue entry Dword 0: event type
 * bits 2:0, event information bits 15:8, log page identifier bits 23:16).
 * Asynchronous Event Requests (opcode 0Ch) are held, at most AERL+1, and
 * completed oldest first when an event is posted.  An event of a type that
 * was reported stays masked until the host reads the log page it named
 * with Get Log Page RAE (CDW10 bit 15) clear; events posted meanwhile queue
 * up and are reported, oldest first, once their type is unmasked and a
 * request is there (at most 64 queued; an event equal to a queued one is
 * not queued twice).  A controller reset drops the outstanding AERs
 * without completing them (§7.3.2: the host re-arms); queued events and
 * the masks survive it.  (An AER hit by NVME_SIM_FAULT_HANG is not held as
 * a request: it never completes.)  Identify OAES (bytes 92-95) has bit 8
 * (namespace attribute notices) and bit 9 (firmware activation).  The
 * Asynchronous Event Configuration feature (FID 0Bh, §5.21.1.11) is
 * stored: bits 7:0 enable SMART critical warnings, bit 8 namespace
 * attribute notices; error events (type 0) cannot be disabled. */
#define NVME_SIM_AE_ERROR 0  /* Error status */
#define NVME_SIM_AE_SMART 1  /* SMART / Health status */
#define NVME_SIM_AE_NOTICE 2 /* Notice */
#define NVME_SIM_AE_IO_CMD 6 /* I/O Command specific status */
/* Post a raw event (type 0..7): 0, or -1 (event lost) when the event queue
 * is full or the device is gone. */
int nvme_sim_post_event(struct nvme_sim *sim, uint8_t type, uint8_t info, uint8_t lid);
/* Set SMART critical warning bits (NVME_SMART_CRIT_*, ORed into the live
 * SMART values) and post a SMART/Health event per information value the
 * enabled bits (feature 0Bh bits 7:0) map to (§5.2.1 SMART / Health
 * status: 00h device reliability for bits 2-4, 01h temperature threshold
 * for bit 1, 02h spare below threshold for bit 0); LID 02h.  Reading the
 * SMART log does not clear the warning bits (the condition persists). */
void nvme_sim_smart_warning(struct nvme_sim *sim, uint8_t bits);
/* Append an entry to the Error Information log (LID 01h, §5.14.1.1, 64-byte
 * entries, newest first, Error Count increasing from 1; Identify ELPE = 63)
 * and post an error event (type 0, information 00h, LID 01h).  `status` is
 * the 15-bit status field. */
void nvme_sim_error_event(struct nvme_sim *sim, uint16_t sqid, uint16_t cid, uint16_t status);
/* Queue a Reservation Notification log page (LID 80h, NVMe 2.0
 * §5.16.1.24: `type` 1 Registration Preempted, 2 Reservation Released, 3
 * Reservation Preempted; on namespace `nsid`) and post an I/O Command
 * specific event, Reservation Log Page Available (type 6, information
 * 00h, LID 80h).  A Get Log Page of LID 80h returns the oldest page and
 * removes it (an empty page, all zeros, when none is left); it needs
 * ONCS reservations.  0, or -1 when 32 pages wait unread or the event is
 * lost. */
int nvme_sim_resv_notify(struct nvme_sim *sim, uint32_t nsid, uint8_t type);
/* Asynchronous Event Requests held by the device now. */
unsigned nvme_sim_aer_outstanding(const struct nvme_sim *sim);
/* Processing paused (CSTS.PP, §3.1.6), as for a firmware activation
 * without reset: for `us` simulated microseconds the device fetches no
 * command from any SQ (commands rung meanwhile wait in their SQs); CC.EN
 * cleared ends the pause.  notice: also post a Firmware Activation
 * Starting notice (type 2, information 01h, LID 03h) first. */
void nvme_sim_pause(struct nvme_sim *sim, uint64_t us, bool notice);
/* Whether the host set ACRE in Host Behavior Support (FID 16h). */
bool nvme_sim_acre(const struct nvme_sim *sim);

/* nvme_sim_ns_add / nvme_sim_ns_remove also record the NSID in the Changed
 * Namespace List log (LID 04h, §5.14.1.4: up to 1024 NSIDs ascending, or
 * FFFFFFFFh in entry 0 after more changed; cleared when read) and post a
 * Namespace Attribute Changed notice (type 2, info 00h, LID 04h) when
 * feature 0Bh bit 8 enables it. */

/* From the next controller reset on, Number of Queues grants n I/O queue
 * pairs (1..cfg.io_queues), and creating one above n fails Invalid Queue
 * Identifier, as a controller whose resources changed (a firmware, SR-IOV
 * flexible resources). */
void nvme_sim_grant_io_queues(struct nvme_sim *sim, uint16_t n);
/* Set Identify NN at run time (0: highest NSID). */
void nvme_sim_set_nn(struct nvme_sim *sim, uint32_t nn);
/* With cfg.active_list_full: the lists name only NSIDs above `nsid` from
 * now on (a device naming other NSIDs at each rescan) [0]. */
void nvme_sim_active_list_above(struct nvme_sim *sim, uint32_t nsid);
/* Set Identify MDTS at run time (0: no limit), as a firmware activation
 * may: Identify reports it and data commands above it fail with Invalid
 * Field from now on. */
void nvme_sim_set_mdts(struct nvme_sim *sim, uint8_t mdts);
/* Set ZNS Identify Controller ZASL at run time (0: MDTS), as a firmware
 * activation may: Zone Appends above it fail with Invalid Field. */
void nvme_sim_set_zasl(struct nvme_sim *sim, uint8_t zasl);
/* Set Identify OACS, ONCS and VWC at run time, as a firmware activation
 * may: Identify reports them and the commands they no longer name fail
 * with Invalid Command Opcode from now on. */
void nvme_sim_set_support(struct nvme_sim *sim, uint16_t oacs, uint16_t oncs, bool vwc);
/* Set the time of day the OSAL's wall_clock_ms returns (with
 * cfg.wall_clock_ms set at creation; 0: "unknown"). */
void nvme_sim_set_wall_clock(struct nvme_sim *sim, uint64_t ms);
/* The Timestamp feature's 8 bytes as Get Features would return them now
 * (bytes 5:0 the milliseconds, byte 6 Synch and the origin: 2h once a
 * Set Features gave the time, 0 after a reset). */
void nvme_sim_timestamp(struct nvme_sim *sim, uint8_t out[8]);
/* Set cfg.oaes_off at run time, as a firmware activation may change the
 * optional events Identify OAES reports. */
void nvme_sim_set_oaes_off(struct nvme_sim *sim, uint32_t oaes_off);
/* Set Features of feature `fid` fails with status field `status` (15
 * bits, e.g. NVME_SF(...) | NVME_SF_DNR_BIT) from now on, the value left
 * as it was; status 0 takes them again.  One feature at a time. */
void nvme_sim_refuse_set_feature(struct nvme_sim *sim, uint8_t fid, uint16_t status);
/* Set Identify AERL at run time, as a firmware activation may: requests
 * past the new AERL + 1 are refused with Asynchronous Event Request Limit
 * Exceeded from now on. */
void nvme_sim_set_aerl(struct nvme_sim *sim, uint8_t aerl);
/* Set Identify HMPRE, HMMIN, HMMINDS and HMMAXD at run time, as a firmware
 * activation may: Set Features 0Dh checks the buffer against them from
 * now on. */
void nvme_sim_set_hmb(struct nvme_sim *sim, uint32_t hmpre, uint32_t hmmin, uint32_t hmminds,
                      uint16_t hmmaxd);
/* Set Identify ELPE at run time (0..63; default 63), as a firmware
 * activation may: the Error Information log holds ELPE + 1 entries from
 * then on (bytes past them read as zeros). */
void nvme_sim_set_elpe(struct nvme_sim *sim, uint8_t elpe);
/* From now on the NVM Command Set Identify Controller (CNS 06h CSI 00h)
 * reports these limits and the simulator holds commands to them (cfg's
 * vsl, wzsl, dmrl, dmrsl, dmsl), as a firmware activation may change them. */
void nvme_sim_set_nvm_limits(struct nvme_sim *sim, uint8_t vsl, uint8_t wzsl, uint8_t dmrl,
                             uint32_t dmrsl, uint64_t dmsl);
/* Likewise for WUSL (cfg.wusl, byte 2). */
void nvme_sim_set_wusl(struct nvme_sim *sim, uint8_t wusl);
/* From now on the NVM Command Set Identify Namespace (CNS 05h CSI 00h)
 * completes with 15-bit status field `status` (0: answered again), while
 * CTRATT.ELBAS stays as cfg.elbas says. */
void nvme_sim_refuse_nvm_id_ns(struct nvme_sim *sim, uint16_t status);
/* From now on Identify Namespace reports these Copy limits (MSSRL, MCL,
 * MSRC); Copy commands are still checked against cfg's (robustness tests:
 * a device whose Identify data changes to nonsense). */
void nvme_sim_report_copy_limits(struct nvme_sim *sim, uint16_t mssrl, uint32_t mcl, uint8_t msrc);
/* From now on the Persistent Event Log header (LPA bit 4) reports this
 * Total Log Length and Number of Events (robustness tests: a device's
 * header is untrusted); tll 0 goes back to the true ones (16 KiB, 31
 * events of 512 bytes). */
void nvme_sim_pel_header(struct nvme_sim *sim, uint64_t tll, uint32_t tnev);
/* Telemetry (LPA bit 3, sim_telemetry.c): the controller captures its
 * state for the Controller-Initiated log (LID 08h): Data Generation Number
 * up, Data Available 1 until a read with RAE clear. */
void nvme_sim_telemetry_ctrl_capture(struct nvme_sim *sim);
/* From now on both Telemetry logs' headers report these Data Area 1-4
 * Last Blocks (robustness tests: a device's header is untrusted) over a
 * log of the true size; NULL goes back to the true ones (7, 15, 31 and,
 * with LPA bit 6 and ETDAS, 63). */
void nvme_sim_telemetry_header(struct nvme_sim *sim, const uint32_t lb[4]);
/* From now on the ANA log (cfg.nanagrpid) reports these Number of ANA
 * Group Descriptors and, in the first descriptor, Number of NSID Values
 * over the true contents (robustness tests); 0 each: the true ones. */
void nvme_sim_ana_header(struct nvme_sim *sim, uint16_t ngrps, uint32_t nnsids);
/* Each of the next `reads` ANA log reads is followed by an ANA change:
 * the Change Count (log and groups, 7 at first) goes up by one after it
 * (a host reading the log and its header again sees them differ). */
void nvme_sim_ana_changing(struct nvme_sim *sim, unsigned reads);
/* From now on the Secondary Controller List (cfg.secondary_ctrls) reports
 * this NUMID over its true entries (robustness tests); 0: the true one. */
void nvme_sim_virt_numid(struct nvme_sim *sim, uint8_t numid);
/* Back door to the media (not counted in SMART): 0 or -1 (no such
 * namespace, out of range, I/O error). */
int nvme_sim_ns_read(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, uint32_t count, void *buf);
int nvme_sim_ns_write(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, uint32_t count,
                      const void *buf);

/* --- SMART, statistics, register counters ----------------------------------------- */

/* The live SMART values; a test may change them at any time. */
struct nvme_sim_smart *nvme_sim_smart(struct nvme_sim *sim);

struct nvme_sim_stats {
    uint64_t mmio_reads, mmio_writes;    /* every 32-bit register access */
    uint64_t sq_doorbells, cq_doorbells; /* doorbell writes, all queues */
    uint64_t admin_cmds, io_cmds;        /* commands fetched */
    uint64_t completions;                /* CQEs posted */
    uint64_t reads, writes, flushes;     /* NVM commands completed successfully */
    uint64_t bytes_read, bytes_written;  /* by those commands */
    uint64_t enables, resets, shutdowns; /* CC.EN 0->1, CC.EN 1->0, CC.SHN != 0 */
    uint64_t irqs_raised, irqs_delivered;
    /* INTx still asserted (and unmasked) when the handler returned: a
     * level-triggered line interrupts again at once. */
    uint64_t intx_refires;
    /* Writes to one zone fetched together: a controller that runs a
     * queue's commands in any order could miss the write pointer. */
    uint64_t zone_writes_together;
    uint64_t dma_violations;                  /* IOMMU rule broken (device side); never counts a
                                           dma_after_return access */
    uint64_t dma_after_return;                /* device accesses skipped because the memory had
                                           been handed back (see nvme_sim_dma_after_return) */
    uint64_t dma_stops;                       /* OSAL dma_stop calls */
    uint64_t dma_resumes;                     /* OSAL dma_resume calls */
    uint64_t wakes;                           /* OSAL wake calls */
    uint64_t aborts, aborts_done;             /* Abort commands received / that aborted a command */
    uint64_t aers_completed;                  /* Asynchronous Event Requests completed */
    uint64_t host_errors;                     /* host broke a register/doorbell/OSAL rule */
    uint64_t coherency_violations;            /* non-coherent mode: a missing or misplaced cache
                                           clean/invalidate (stale device read, write-back
                                           over device data, dropped CPU stores) */
    uint64_t cache_cleans, cache_invalidates; /* non-coherent mode: lines cleaned /
                                                 invalidated (tracked lines only) */
    uint64_t bounced_maps;                    /* dma_map pieces bounced (cfg.bounce_unaligned) */
    /* issue 9 */
    uint64_t fua_writes;         /* Writes with FUA (CDW12 bit 30) */
    uint64_t fua_verifies;       /* Verifies with FUA (CDW12 bit 30, NVM CS 1.0 Figure 55) */
    uint64_t fua_compares;       /* Compares with FUA (CDW12 bit 30, NVM CS 1.0 Figure 23) */
    uint64_t compares, verifies; /* completed successfully */
    uint64_t dsm_cmds, dsm_ranges, deallocated_blocks;
    uint64_t dsm_skipped;                 /* deallocate ranges above cfg.dmrsl, left as they were */
    uint64_t copies, copied_blocks;       /* Copy commands done, blocks they wrote */
    uint64_t write_zeroes, wz_deallocate; /* Write Zeroes commands, those with DEAC */
    uint64_t write_uncor, uncor_blocks;   /* Write Uncorrectable commands, blocks they marked */
    uint64_t pi_generated, pi_checked, pi_stripped; /* blocks */
    uint64_t md_bytes;                              /* separate/extended metadata bytes moved */
    uint64_t formats, sanitizes, self_tests, fw_downloads, fw_commits, nssrs;
    uint64_t vendor_cmds;                                      /* cfg.vendor_opc commands run */
    uint64_t ns_creates, ns_deletes, ns_attaches, ns_detaches; /* OACS bit 3 commands done */
    uint64_t ns_create_flbas;    /* FLBAS byte of the last create received, as sent */
    uint64_t ns_create_anagrpid; /* its ANAGRPID and NVMSETID, as sent */
    uint64_t ns_create_nvmsetid;
    uint64_t hmb_enables, hmb_returns; /* Host Memory Buffer taken (EHM); of them with MR */
    uint64_t hmb_bytes;                /* its size while enabled, else 0 */
    uint64_t hmb_touches, hmb_lost;    /* device accesses at I/O; stamps lost across a reset */
    uint64_t zone_appends, zone_sends, zone_reports;
    uint64_t tag_collisions; /* apple_ans2: CIDs reused while in flight or too large */
    uint64_t resv_cmds;      /* Reservation commands completed successfully */
    /* Shadow doorbells (Doorbell Buffer Config): commands that succeeded;
     * new SQ tails / CQ heads the device took from the shadow buffer (a
     * value an MMIO write had already given is not counted); EventIdx
     * entries the device wrote. */
    uint64_t dbbuf_configs;
    uint64_t shadow_sq_values, shadow_cq_values;
    uint64_t eventidx_writes;
};
const struct nvme_sim_stats *nvme_sim_stats(const struct nvme_sim *sim);
uint64_t nvme_sim_dma_violations(const struct nvme_sim *sim);
uint64_t nvme_sim_host_errors(const struct nvme_sim *sim);
/* Non-coherent mode: stats.coherency_violations (0 in coherent mode). */
uint64_t nvme_sim_coherency_violations(const struct nvme_sim *sim);
/* Device accesses (hung commands, deferred execution, delayed completions,
 * the last transfer of a disable window) to host memory that was allocated
 * (dma_alloc) or mapped (dma_map) and had been freed or unmapped before the
 * device touched it - what a core does wrong when it hands a buffer back
 * while the device may still use it.  Such accesses are counted and NOT
 * performed (AddressSanitizer stays quiet), and they are not counted as
 * dma_violations: the two counters are distinct.  For a hung command the
 * check is exact (the region the command used must still be the same live
 * registration); otherwise the simulator remembers the last 1024 released
 * regions (a new allocation or mapping of the memory makes it live again). */
uint64_t nvme_sim_dma_after_return(const struct nvme_sim *sim);
/* Live dma_alloc blocks plus live dma_map registrations (0 after a clean fini). */
size_t nvme_sim_dma_live(const struct nvme_sim *sim);
/* Reads / writes of the register at BAR0 offset `off` (dword granular;
 * doorbells too). */
uint64_t nvme_sim_reg_reads(const struct nvme_sim *sim, uint32_t off);
uint64_t nvme_sim_reg_writes(const struct nvme_sim *sim, uint32_t off);
/* Doorbell writes of queue `qid` (SQ tail, or CQ head when cq). */
uint64_t nvme_sim_doorbell_writes(const struct nvme_sim *sim, uint16_t qid, bool cq);
/* New doorbell values of queue `qid` the device took from the shadow buffer
 * (SQ tail, or CQ head when cq); see stats.shadow_sq_values. */
uint64_t nvme_sim_shadow_doorbells(const struct nvme_sim *sim, uint16_t qid, bool cq);
/* Whether a Doorbell Buffer Config is in force (since the last reset). */
bool nvme_sim_dbbuf_active(const struct nvme_sim *sim);
/* Pin the EventIdx entry of queue `qid` (SQ, or CQ when cq) to `value`:
 * written now and wherever the device would update it, until unpinned
 * with value < 0 (which writes the value the device keeps: the SQ head,
 * or the CQ head it knows).  For tests of the host's "passes the EventIdx" check.
 * Returns 0, or -1 when no Doorbell Buffer Config is in force or the
 * queue has no entry. */
int nvme_sim_dbbuf_pin_eventidx(struct nvme_sim *sim, uint16_t qid, bool cq, int value);
/* Register value without side effects or counting (CC, CSTS, INTMS...). */
uint32_t nvme_sim_reg_peek(struct nvme_sim *sim, uint32_t off);
/* From now on the register at BAR0 offset `off` (below 1000h, one the
 * simulator does not implement: NSSR's read, CMB, Boot Partition, NSSD,
 * PMR; 0 until then) reads `val`; writes to it still change nothing.  For
 * tests of a host that only reads them (nvme_ctrl_regs_read). */
void nvme_sim_reg_set(struct nvme_sim *sim, uint32_t off, uint32_t val);
/* Whether I/O queue `qid` exists in the device (SQ, or CQ when cq). */
bool nvme_sim_queue_exists(struct nvme_sim *sim, uint16_t qid, bool cq);
/* Stored feature value (Get Features, current) of feature `fid`. */
uint32_t nvme_sim_feature(struct nvme_sim *sim, uint8_t fid);

/* --- Issue 9: management state ----------------------------------------------------
 * Format NVM (80h) changes a namespace's format among its listed ones
 * (capacity in bytes kept), erases it, sets MSET/PI/PIL; image-backed
 * namespaces refuse it (Invalid Field).  Sanitize (84h) erases every
 * namespace (overwrite leaves zeros too; its pattern is only recorded) and
 * fills the Sanitize Status log (81h).  Device Self-test (14h) runs for
 * dst_short_us / dst_extended_us of simulated time (another one meanwhile:
 * Device Self-test In Progress), Fh aborts it; results in log 06h.
 * Firmware Image Download (11h) gathers an image (at most 1 MiB, any
 * order); Firmware Commit (10h) stores it in a slot (1..FRMW slots, slot
 * revision = the image's first 8 bytes) and activates it now (CA 3), at
 * the next controller reset (CA 1, 2), or not (CA 0).  Writing
 * 4E564D65h to NSSR with CAP.NSSRS resets the controller like CC.EN 1->0
 * and sets CSTS.NSSRO (write 1 to clear).  Log C0h (vendor) is a 16 KiB
 * pattern, byte i = (i * 7 + i / 4096) & FFh, for large-log tests. */
/* Firmware revision of slot 1..7 ("" when empty); the active slot. */
const char *nvme_sim_fw_slot(const struct nvme_sim *sim, unsigned slot);
unsigned nvme_sim_fw_active(const struct nvme_sim *sim);
/* Zone state (NVME_ZS_*) and write pointer of the zone holding lba; -1 if none. */
int nvme_sim_zone(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, uint8_t *state, uint64_t *wp);
/* Separate/interleaved metadata of one block (back door): 0 or -1. */
int nvme_sim_ns_md(struct nvme_sim *sim, uint32_t nsid, uint64_t lba, void *md);
/* Saved value (Set Features SV) of a feature; Error Recovery's is per
 * namespace (Get Features SEL 010b), 0 here. */
uint32_t nvme_sim_feature_saved(struct nvme_sim *sim, uint8_t fid);

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
