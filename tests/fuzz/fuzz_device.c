/* SPDX-License-Identifier: MIT */
/*
 * fuzz_device.c - libFuzzer target over everything an NVMe device returns
 * to libnvme-core: registers (CAP, VS, CSTS), Identify Controller /
 * Namespace / Active NS list data, log pages, and completion queue entries
 * (CID, phase, SQID, SQHD, status, DW0), plus lost, duplicated and late
 * completions, CSTS.CFS and a device that disappears.
 *
 * The device is a tiny fake controller behind its own struct nvme_osal,
 * self-contained (it does not use osal/hosted-sim).  Every decision it
 * makes comes from the input bytes; an exhausted input reads as zeros,
 * which always means "behave like a healthy controller".
 *
 * Input layout (tests/fuzz/make-seeds.py writes seeds in it):
 *   bytes 0..15   header (FH_* below): registers, start state, namespaces,
 *                 a timed fault, queue options
 *   then          the device stream, read from the front in the order the
 *                 device needs it: CAP/VS when fuzzed (12 bytes), then per
 *                 fetched command a control byte (+ fault details), and per
 *                 data command a data byte (+ patches or raw data)
 *   last bytes    the workload stream (header byte 15 says how many), read
 *                 backwards: which API calls the harness makes after a
 *                 successful nvme_ctrl_init
 *
 * What is a bug (the target calls __builtin_trap(), libFuzzer reports it;
 * ASan/UBSan report memory errors in the core themselves):
 *   - the device is asked to touch memory the core did not give it: a
 *     queue or PRP list outside dma_alloc'd memory, data outside a
 *     dma_map'ed piece or in the wrong direction, a PRP entry with an
 *     offset where none is allowed.  Bus address = host address XOR
 *     BUS_XOR, so a virtual address in a PRP or queue base is caught;
 *   - a buffer is unmapped, or DMA memory freed, while a command the
 *     device has fetched still owns it and the controller is not stopped
 *     (lifecycle rule 1 in nvme.h); an unmap only when it leaves such a
 *     command's data on no mapping made before its fetch (two commands
 *     may map one buffer, each its own: unmap_strands);
 *   - a callback, or a blocking nvme_read/nvme_write returning, while the
 *     running device still owns the buffer (rule 1);
 *   - a register write after the core saw the device gone (rule 6),
 *     a doorbell value outside the queue, a CQ head past what was posted,
 *     CC.EN set while CSTS.RDY is still 1, an I/O CQ on a vector
 *     irq_setup did not grant;
 *   - a shutdown wait longer than max(60 s, CAP.TO) (nvme_ctrl_fini doc);
 *   - an nvme_submit_rw callback run twice, or never (rule 3: every
 *     command ends), or a blocking read that returns success without the
 *     data the device wrote (unless the device lied about a CID);
 *   - nvme_ctrl_regs_read succeeding with a CAP, VS or CC the device
 *     does not hold;
 *   - after nvme_ctrl_fini: any dma_alloc not freed, dma_map not unmapped,
 *     mem_alloc not freed, or a size given back that differs;
 *   - a run that does not end: more than CALL_CAP OSAL calls or SIM_CAP
 *     microseconds of simulated time (every wait of the core is bounded).
 *
 * NVME_FUZZ_LAX=1 in the environment turns the lifecycle checks (unmap /
 * free while owned, writes after gone, shutdown bound) into "the device
 * quietly forgets that command", so a fuzzing session can look for other
 * bugs while a lifecycle bug is still open.
 *
 * The port is single threaded without locks.  irq_setup (MSI-X vectors or
 * one INTx), wait/wake, dma_stop and the 64-bit MMIO accessors are offered
 * or not as the header says; the device raises a vector when it posts to a
 * CQ created with IEN (or loses the interrupt, as the input says), and the
 * port calls nvme_ctrl_handle_irq() from sleep_us()/wait() - the points
 * where a real interrupt could arrive while the core holds no ring state.
 * Time is simulated: now_us advances by 8 per call, sleep_us/wait by their
 * argument.  NVME_FUZZ_LOG=1 prints the core's log lines and the device's
 * fetches.
 *
 * Built two ways: with -fsanitize=fuzzer (libFuzzer's main), or with
 * -DNVME_FUZZ_STANDALONE: a main() that runs each file (or each file of
 * each directory) named on the command line once.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme/nvme.h"

/* What runs between nvme_ctrl_init and nvme_ctrl_fini: the API calls of
 * run_workload() here, nvmectl command lines in fuzz_nvmectl.c (which
 * includes this file with FUZZ_WORKLOAD defined). */
#ifndef FUZZ_WORKLOAD
#define FUZZ_WORKLOAD run_workload
#else
static void FUZZ_WORKLOAD(void);
#endif

#define BUS_XOR 0xa5a5000000000000ull
#define CALL_CAP 6000000ull             /* OSAL calls per input */
#define SIM_CAP (4ull * 3600 * 1000000) /* simulated microseconds per input */
#define MAXQ 16                         /* queue IDs the fake supports: 0..15 */
#define MAX_HMB 64                      /* Host Memory Buffer pieces it takes */
#define MAX_PENDING 1024

#define TRAP(why)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_device: BUG: %s (%s:%d, at %llu us simulated)\n", why, __FILE__,     \
                __LINE__, (unsigned long long)F.now);                                              \
        __builtin_trap();                                                                          \
    } while (0)

/* Header bytes. */
enum {
    FH_REGS = 0,      /* >= 0xE0: CAP/VS from the stream; else CAP.TO 1+[1:0], DSTRD [3:2],
                      MPSMAX 4 if [4], VS 1.0 if [5] (else 1.4) */
    FH_MQES = 1,      /* CAP.MQES; 0 means 63 */
    FH_OPTS = 2,      /* [0] enabled at start [1] give mmio64 [2] give dma_stop [3] give irq_setup
                      [4] ... granting one INTx [5] give wait/wake [6] Identify HMPRE
                      256 KiB: a Host Memory Buffer wanted [7] OACS Doorbell Buffer
                      Config: shadow doorbells, EventIdx from the stream */
    FH_FAULTS = 3,    /* >= 0x80: [0] never ready [1] never stops [2] shutdown never completes
                      [3] gone at start [4] CFS at start */
    FH_RDY_DELAY = 4, /* x 10 us */
    FH_NS = 5, /* 0xff: none; else count 1+[1:0], NSID step 1+[3:2], [7:4] 4096-byte formats */
    FH_FAULT_AT_LO = 6,
    FH_FAULT_AT_HI = 7, /* timed fault this many us after start, 0: none
                                               (a healthy bring-up takes about 20 us) */
    FH_FAULT_KIND = 8,  /* [1:0] 1 CFS, 2 gone, 3 gone then back after 1 ms; [7:5] 010b:
                           CAP.MQES goes from its value to 1 + [4:2] and back at
                           each controller reset (CC.EN 1 -> 0) after the host's first
                           enable, as a firmware a reset activated may change it */
    FH_QUEUES = 9,      /* I/O queues 1+[1:0], entries 1+[7:2] (2..64; 0: 16) */
    FH_MDTS = 10,       /* Identify MDTS [2:0]; [7:3] RTD3E in seconds */
    FH_NSZE = 11,       /* NSZE = 64 << [2:0] */
    FH_NQ_DW0 = 12,     /* Set Features Number of Queues answer: 0 as asked, else (x-1) both */
    FH_CRDT = 13,       /* CRDT1..3 = [1:0] (100 ms units); [7:2] max_retries */
    FH_MISC = 14,       /* [2:0] 4+n API calls [3] CSTS.NSSRO|PP set [4] CSTS.SHST reads 11b
                      [5] all traces on [6] no AERs [7] 4-entry admin queue */
    FH_WL_LEN = 15,     /* length of the workload stream at the end of the input */
    FH_SIZE = 16
};

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

struct region {
    uint8_t *va;
    size_t len;
    int dir;     /* maps: enum nvme_dma_dir; allocs: 0 */
    uint64_t id; /* maps: 1, 2, ... in dma_map order; allocs: 0 */
};

struct seg { /* one piece of a command's data, from its PRPs */
    uint64_t bus;
    uint32_t len;
};

struct pending {
    bool used;
    bool echo;    /* a duplicate completion: no work, just the CQE */
    bool dropped; /* never completes */
    bool done;    /* a dropped command whose work was done */
    bool voided;  /* lax mode: its memory went away, do no DMA */
    uint64_t due;
    uint16_t sqid, cqid, sqhd;
    struct nvme_sqe sqe;
    /* completion as the device will post it */
    uint16_t sf;
    bool fuzz_sf;
    uint16_t cid_xor, sqhd_val;
    uint8_t sqid_xor;
    bool bad_phase, fuzz_sqhd, dup, fuzz_dw0, no_irq;
    uint32_t dw0;
    /* data */
    struct seg *segs;
    uint32_t nsegs;
    uint32_t xfer; /* bytes */
    int data_dir;  /* 0 none, 1 device reads host (write), 2 device writes host */
    /* The newest dma_map when the command was fetched: its data may only
     * rest on mappings up to this id (the host mapped it before
     * submitting; a later mapping of the same bytes is another command's). */
    uint64_t map_ceiling;
};

struct devq {
    bool live;
    uint64_t bus;
    uint16_t size;
    uint16_t head, tail; /* SQ: device head, host tail.  CQ: host head, device tail */
    uint8_t phase;       /* CQ: phase the device writes on this lap */
    uint16_t cqid;       /* SQ: its CQ */
    bool ien;            /* CQ: interrupts enabled */
    uint16_t iv;         /* CQ: interrupt vector */
};

struct fuzz {
    const uint8_t *in;
    size_t n, front, back; /* device stream from the front, workload from the back */
    size_t dev_end;        /* the device stream ends here, the workload starts */
    uint8_t h[FH_SIZE];
    bool lax;

    uint64_t now, calls;
    /* registers */
    uint64_t cap;
    uint32_t vs, cc, csts, aqa, intms;
    uint64_t asq, acq;
    bool rdy_pending;
    uint64_t rdy_due, rdy_since; /* rdy_since: the CC.EN write it answers */
    bool rdy_target;
    bool shn_pending;
    uint64_t shn_due, shn_start;
    bool gone, gone_seen, cfs;
    bool bme; /* bus mastering (dma_stop clears it) */
    bool never_ready, never_stops, shn_never;
    uint64_t fault_at, back_at;
    int fault_kind;
    uint16_t mqes0, mqes_alt; /* FH_FAULT_KIND [7:5] 010b: CAP.MQES toggles */
    bool host_enabled;        /* the host set CC.EN at least once */
    uint32_t page_size;
    uint32_t dstrd;

    struct devq sq[MAXQ], cq[MAXQ];
    /* Host Memory Buffer pieces taken (Set Features 0Dh EHM): the
     * device's until EHM is cleared or the controller resets. */
    bool hmb_on;
    /* Doorbell Buffer Config (§5.7) taken: the device polls the shadow
     * doorbells of the I/O queues and writes EventIdx values (from the
     * stream: the value it saw, or skewed by a stream byte). */
    bool dbbuf_on;
    uint64_t dbbuf_db, dbbuf_ei;
    uint32_t hmb_n;
    uint64_t hmb_bus[MAX_HMB];
    size_t hmb_len[MAX_HMB];
    struct pending pend[MAX_PENDING];
    int npend; /* pend[npend..] are all unused */

    /* namespace model */
    unsigned nr_ns;
    uint32_t nsid[4];
    uint8_t lbads[4];
    uint64_t nsze;

    /* host memory known to the device */
    struct region *allocs, *maps;
    size_t nallocs, cap_allocs, nmaps, cap_maps;
    uint64_t map_ids; /* the last dma_map's id */
    long mem_count;
    size_t mem_bytes;

    bool csts_odd_logged; /* NVME_FUZZ_LOG: CSTS's extra bits shown once */
    bool lied;            /* a CQE named a CID other than its command's */
    /* The (SQID, CID) pairs such lies named, so a command the device
     * fetches later under one of them counts as released too. */
    uint32_t lie_names[64];
    unsigned nlie_names;
    bool ops_dma_stop;    /* the OSAL offers dma_stop */
    bool diag_read;       /* the harness is calling a diagnostic read */
    unsigned irq_vectors; /* granted by irq_setup, 0: polling */
    bool intx;
    uint32_t irq_pending; /* vectors the device raised */
    bool woken;           /* wake() since the last wait() */
    bool in_irq;
    bool zombie; /* "never stops" without dma_stop: RDY=1, no more DMA */
    /* Another CPU's call while a blocking call of the workload sleeps
     * (op_side): armed for one call, run from sleep_us()/wait() once the
     * device has posted side_at I/O completions in all. */
    bool side_armed, in_side;
    uint8_t side_how;
    uint64_t io_posts, side_at;
    unsigned side_runs; /* how many ran (NVME_FUZZ_LOG) */
    struct nvme_ctrl *ctrl;
};

static struct fuzz F;
static bool g_lax;
static int g_log = -1; /* NVME_FUZZ_LOG set: print the core's log and the device's fetches */

static bool log_on(void)
{
    if (g_log < 0)
        g_log = getenv("NVME_FUZZ_LOG") != NULL;
    return g_log != 0;
}

/* ------------------------------------------------------------------ */
/* Input                                                               */
/* ------------------------------------------------------------------ */

static uint8_t dev_u8(void) { return F.front < F.dev_end ? F.in[F.front++] : 0; }
static uint16_t dev_u16(void)
{
    uint16_t lo = dev_u8();
    return (uint16_t)(lo | (uint16_t)(dev_u8() << 8));
}
static uint32_t dev_u32(void)
{
    uint32_t lo = dev_u16();
    return lo | ((uint32_t)dev_u16() << 16);
}
static uint8_t wl_u8(void) { return F.back > F.dev_end ? F.in[--F.back] : 0; }
static bool wl_more(void) { return F.back > F.dev_end; }

/* ------------------------------------------------------------------ */
/* Host memory tables                                                  */
/* ------------------------------------------------------------------ */

static void region_add(struct region **t, size_t *n, size_t *cap, uint8_t *va, size_t len, int dir)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *t = realloc(*t, *cap * sizeof(**t));
        if (*t == NULL)
            abort();
    }
    (*t)[(*n)++] = (struct region){va, len, dir, 0};
}

static bool overlaps(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return a < b + blen && b < a + alen;
}

static bool region_holds(const struct region *r, const uint8_t *va, size_t len, int dir)
{
    return va >= r->va && len <= r->len && va - r->va <= (ptrdiff_t)(r->len - len) &&
           (dir == 0 || (r->dir & dir) == dir);
}

/* The region of table t that holds [va, va+len), or NULL.  The last hit
 * and its neighbours are tried first: a transfer's pieces come in order,
 * and a core that maps a large buffer page by page would otherwise make
 * every lookup scan thousands of regions (quadratic in the transfer). */
static struct region *region_find(struct region *t, size_t n, const uint8_t *va, size_t len,
                                  int dir)
{
    static size_t hint;
    for (size_t k = 0; k < 3; k++) {
        size_t i = hint + k - 1u; /* hint-1, hint, hint+1 (wraps to huge for hint 0) */
        if (i < n && region_holds(&t[i], va, len, dir)) {
            hint = i;
            return &t[i];
        }
    }
    for (size_t i = n; i-- > 0;) {
        if (region_holds(&t[i], va, len, dir)) {
            hint = i;
            return &t[i];
        }
    }
    return NULL;
}

static uint8_t *bus_to_va(uint64_t bus) { return (uint8_t *)(uintptr_t)(bus ^ BUS_XOR); }

enum acc { ACC_QUEUE, ACC_DATA_TO_DEV, ACC_DATA_FROM_DEV };

/* Where the device may touch [bus, bus+len); traps when it may not.  In lax
 * mode returns NULL instead for memory that went away. */
static uint8_t *dev_mem(uint64_t bus, size_t len, enum acc kind, bool may_fail)
{
    uint8_t *va = bus_to_va(bus);
    struct region *r;
    if (kind == ACC_QUEUE)
        r = region_find(F.allocs, F.nallocs, va, len, 0);
    else
        r = region_find(F.maps, F.nmaps, va, len,
                        kind == ACC_DATA_TO_DEV ? NVME_DMA_TO_DEVICE : NVME_DMA_FROM_DEVICE);
    if (r == NULL) {
        if (may_fail)
            return NULL;
        TRAP(kind == ACC_QUEUE
                 ? "device access to queue/PRP-list memory not from dma_alloc"
                 : "device data access outside a dma_map'ed piece (or wrong direction)");
    }
    return va;
}

/* ------------------------------------------------------------------ */
/* The fake controller                                                 */
/* ------------------------------------------------------------------ */

static bool dev_stopped(void)
{
    return F.gone || !F.bme || F.zombie || (!(F.cc & NVME_CC_EN) && !(F.csts & NVME_CSTS_RDY)) ||
           (F.csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_COMPLETE;
}

static void pend_free(struct pending *p)
{
    free(p->segs);
    memset(p, 0, sizeof(*p));
    while (F.npend > 0 && !F.pend[F.npend - 1].used)
        F.npend--;
}

static void dev_drop_all(void)
{
    for (int i = 0; i < F.npend; i++)
        if (F.pend[i].used)
            pend_free(&F.pend[i]);
}

/* Controller reset (CC.EN 1 -> 0 took effect): queues and commands gone. */
static void dev_reset_state(void)
{
    dev_drop_all();
    F.hmb_on = false; /* a Controller Level Reset ends its use (§8) */
    F.dbbuf_on = false;
    memset(F.sq, 0, sizeof(F.sq));
    memset(F.cq, 0, sizeof(F.cq));
    F.csts &= ~(NVME_CSTS_SHST_MASK | NVME_CSTS_RDY);
    F.shn_pending = false;
    if (!F.cfs)
        F.csts &= ~NVME_CSTS_CFS;
}

static uint32_t dev_ps(void) { return F.page_size ? F.page_size : 4096u; }

/* Walks a command's PRPs (§4.3) for `len` bytes: records the data pieces.
 * PRP lists are read now (devices prefetch them) and must be dma_alloc'd. */
static void dev_walk_prps(struct pending *p, uint32_t len)
{
    const uint32_t ps = dev_ps();
    uint64_t prp1 = p->sqe.prp1, prp2 = p->sqe.prp2;
    uint32_t npieces = 2 + len / ps + 1;
    p->segs = calloc(npieces, sizeof(*p->segs));
    p->xfer = len;
    p->map_ceiling = F.map_ids;
    if (len == 0)
        return;
    if (prp1 & 3u)
        TRAP("PRP1 not dword aligned");
    uint32_t first = ps - (uint32_t)(prp1 & (ps - 1u));
    if (first > len)
        first = len;
    p->segs[p->nsegs++] = (struct seg){prp1, first};
    uint32_t left = len - first;
    if (left == 0)
        return;
    if (left <= ps) {
        if (prp2 & (ps - 1u))
            TRAP("PRP2 data pointer with a page offset");
        p->segs[p->nsegs++] = (struct seg){prp2, left};
        return;
    }
    if (prp2 & 7u)
        TRAP("PRP list pointer not qword aligned");
    uint64_t cur = prp2; /* bus address of the next list entry */
    while (left > 0) {
        uint64_t ent = *(const uint64_t *)(const void *)dev_mem(cur, 8, ACC_QUEUE, false);
        bool last_in_page = ((cur + 8u) & (ps - 1u)) == 0;
        if (last_in_page && left > ps) { /* chain to the next list page */
            if (ent & (ps - 1u))
                TRAP("PRP list chain pointer with a page offset");
            cur = ent;
            continue;
        }
        if (ent & (ps - 1u))
            TRAP("PRP list entry with a page offset");
        uint32_t piece = left < ps ? left : ps;
        if (p->nsegs == npieces)
            TRAP("more PRP pieces than the length needs");
        p->segs[p->nsegs++] = (struct seg){ent, piece};
        left -= piece;
        cur += 8u;
    }
}

/* Device writes `src` (len bytes) into the command's data pieces. */
static void dev_write_host(struct pending *p, const uint8_t *src, uint32_t len)
{
    uint32_t off = 0;
    for (uint32_t i = 0; i < p->nsegs && off < len; i++) {
        uint32_t n = p->segs[i].len;
        if (n > len - off)
            n = len - off;
        uint8_t *va = dev_mem(p->segs[i].bus, n, ACC_DATA_FROM_DEV, F.lax);
        if (va != NULL)
            memcpy(va, src + off, n);
        off += n;
    }
}

static void dev_read_host(struct pending *p)
{
    volatile uint8_t sink = 0;
    for (uint32_t i = 0; i < p->nsegs; i++) {
        uint8_t *va = dev_mem(p->segs[i].bus, p->segs[i].len, ACC_DATA_TO_DEV, F.lax);
        if (va != NULL)
            for (uint32_t j = 0; j < p->segs[i].len; j += 512)
                sink ^= va[j];
    }
    (void)sink;
}

/* Data pattern of a read: what the device returns for (nsid, byte offset). */
static uint8_t read_pattern(uint32_t nsid, uint64_t byte)
{
    return (uint8_t)(nsid * 31u + (byte >> 9) * 7u + byte);
}

static void fill_pattern(uint8_t *buf, size_t len, uint32_t nsid, uint64_t base)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = read_pattern(nsid, base + i);
}

static bool check_pattern(const uint8_t *buf, size_t len, uint32_t nsid, uint64_t base)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != read_pattern(nsid, base + i))
            return false;
    return true;
}

static int model_ns(uint32_t nsid)
{
    for (unsigned i = 0; i < F.nr_ns; i++)
        if (F.nsid[i] == nsid)
            return (int)i;
    return -1;
}

/* Command sets enabled (CC.CSS 110b): the namespaces at odd positions of
 * the model are zoned (ZNS), with 16-block zones. */
static bool dev_iocs(void) { return ((F.cc & NVME_CC_CSS_MASK) >> NVME_CC_CSS_SHIFT) == 6u; }

static void dev_payload_iocs(const struct nvme_sqe *s, uint8_t *buf)
{
    uint8_t cns = (uint8_t)s->cdw10, csi = (uint8_t)(s->cdw11 >> 24);
    int i = model_ns(s->nsid);
    if (cns == NVME_CNS_IOCS) { /* vector 0: NVM and ZNS */
        buf[0] = (1u << NVME_CSI_NVM) | (1u << NVME_CSI_ZNS);
    } else if (cns == NVME_CNS_NS_DESC_LIST && i >= 0) {
        buf[0] = 4; /* NIDT: Command Set Identifier, NIDL 1 */
        buf[1] = 1;
        buf[4] = (i & 1) ? NVME_CSI_ZNS : NVME_CSI_NVM;
    } else if (cns == NVME_CNS_CS_NS && csi == NVME_CSI_ZNS && i >= 0 && (i & 1)) {
        struct nvme_id_ns_zns *z = (void *)buf;
        z->mar = z->mor = 3;
        z->lbafe[0].zsze = z->lbafe[1].zsze = 16;
    }
}

/* Identify Controller's NN in the template: the highest active NSID. */
static uint32_t id_ctrl_nn(void)
{
    uint32_t nn = 0;
    for (unsigned i = 0; i < F.nr_ns; i++)
        nn = F.nsid[i] > nn ? F.nsid[i] : nn;
    return nn;
}

/* Payload of a data command: a template from the model, then the input's
 * patches (or raw input bytes). */
static void dev_payload(struct pending *p, uint8_t *buf, uint32_t len)
{
    memset(buf, 0, len);
    const struct nvme_sqe *s = &p->sqe;
    if (s->opc == NVME_ADMIN_IDENTIFY && (s->cdw10 & 0xff) == NVME_CNS_CTRL && len >= 4096) {
        struct nvme_id_ctrl *id = (void *)buf;
        id->vid = 0x1b36;
        id->ssvid = 0x1af4;
        memcpy(id->sn, "FUZZ0001            ", 20);
        memcpy(id->mn, "nvme-core fuzz device                   ", 40);
        memcpy(id->fr, "1.0     ", 8);
        id->mdts = F.h[FH_MDTS] & 7u;
        id->ver = F.vs;
        id->rtd3e = (uint32_t)(F.h[FH_MDTS] >> 3) * 1000000u;
        id->crdt1 = id->crdt2 = id->crdt3 = F.h[FH_CRDT] & 3u;
        id->sqes = 0x66;
        id->cqes = 0x44;
        id->nn = id_ctrl_nn();
        id->oncs = NVME_ONCS_WRITE_ZEROES | NVME_ONCS_COPY | NVME_ONCS_COMPARE | NVME_ONCS_DSM |
                   NVME_ONCS_VERIFY | NVME_ONCS_TIMESTAMP | NVME_ONCS_FEATURES_SAVE |
                   NVME_ONCS_RESERVATIONS | NVME_ONCS_WRITE_UNC;
        id->vwc = NVME_VWC_PRESENT;
        id->lpa = NVME_LPA_EFFECTS | NVME_LPA_EXTENDED;
        /* Format, firmware, namespace management, self-test, sanitize:
         * the management calls of the workload reach the device. */
        id->oacs = NVME_OACS_FORMAT | NVME_OACS_FW | NVME_OACS_NS_MGMT | NVME_OACS_SELF_TEST;
        if (F.h[FH_OPTS] & 0x80u)
            id->oacs |= NVME_OACS_DBBUF;
        id->elpe = 3;
        id->fwug = 1;
        id->sanicap = 7;
        id->hmpre = (F.h[FH_OPTS] & 0x40u) ? 64u : 0u; /* 256 KiB of host memory, 4 KiB units */
    } else if (s->opc == NVME_ADMIN_IDENTIFY && (s->cdw10 & 0xff) == NVME_CNS_NS && len >= 4096) {
        int i = model_ns(s->nsid);
        if (i >= 0) {
            struct nvme_id_ns *id = (void *)buf;
            id->nsze = id->ncap = id->nuse = F.nsze;
            id->nlbaf = 1;
            id->flbas = F.lbads[i] == 12 ? 1 : 0;
            id->lbaf[0].lbads = 9;
            id->lbaf[1].lbads = 12;
            /* Copy limits small enough that nvme_copy splits: MSSRL 1-8
             * blocks, MSRC 0-3, MCL from MSSRL to about 3 MSSRL. */
            id->mssrl = (uint16_t)(1u + (F.h[FH_CRDT] >> 2 & 7u));
            id->msrc = (uint8_t)(F.h[FH_CRDT] >> 5 & 3u);
            id->mcl = id->mssrl + (F.h[FH_MDTS] >> 3 & 15u);
        } else if (s->nsid == NVME_NSID_ALL) {
            /* Capabilities common to all namespaces: the formats
             * nvmectl create-ns -b picks from. */
            struct nvme_id_ns *id = (void *)buf;
            id->nlbaf = 1;
            id->lbaf[0].lbads = 9;
            id->lbaf[1].lbads = 12;
        }
    } else if (s->opc == NVME_ADMIN_IDENTIFY && (s->cdw10 & 0xff) == NVME_CNS_ACTIVE_NS_LIST &&
               len >= 4096) {
        uint32_t *list = (void *)buf;
        unsigned k = 0;
        for (unsigned i = 0; i < F.nr_ns; i++)
            if (F.nsid[i] > s->nsid)
                list[k++] = F.nsid[i];
    } else if (s->opc == NVME_ADMIN_IDENTIFY && dev_iocs() && len >= 4096) {
        dev_payload_iocs(s, buf);
    } else if (s->opc == NVME_ADMIN_IDENTIFY && (s->cdw10 & 0xff) == NVME_CNS_NS_DESC_LIST &&
               model_ns(s->nsid) >= 0 && len >= 4096) {
        /* Namespace Identification Descriptors (NVMe 2.0 Figure 277):
         * EUI64, NGUID, UUID, then the list's end, for nvmectl ns-descs. */
        static const uint8_t nidt[3] = {NVME_NIDT_EUI64, NVME_NIDT_EUI64 + 1u,
                                        NVME_NIDT_EUI64 + 2u};
        static const uint8_t nidl[3] = {8, 16, 16};
        uint32_t off = 0;
        for (unsigned k = 0; k < 3; k++) {
            buf[off] = nidt[k];
            buf[off + 1] = nidl[k];
            for (unsigned b = 0; b < nidl[k]; b++)
                buf[off + 4 + b] = (uint8_t)(0x10u * (k + 1u) + b + s->nsid);
            off += 4u + nidl[k];
        }
    } else if (s->opc == NVME_ADMIN_GET_FEATURES && (s->cdw10 & 0xff) == NVME_FEAT_APST) {
        /* Autonomous Power State Transition (NVMe 2.0 Figure 330): entries
         * 0-2 go to power states 3 and 4 after 100 and 2000 ms idle. */
        for (uint32_t k = 0; k < 3 && 8u * k + 4u <= len; k++) {
            uint32_t e = (k == 2 ? 2000u : 100u) << 8 | (k == 2 ? 4u : 3u) << 3;
            memcpy(buf + 8u * k, &e, 4);
        }
    } else if (s->opc == NVME_ADMIN_GET_FEATURES && (s->cdw10 & 0xff) == NVME_FEAT_TIMESTAMP &&
               len >= 8) {
        /* Timestamp (NVMe 1.4 §5.21.1.14): ms since 1970, origin 1 (set by
         * a host), synch 0. */
        uint64_t ms = 1764547200000ull;
        memcpy(buf, &ms, 6);
        buf[6] = 1u << 1;
    } else if (s->opc == NVME_CMD_ZONE_MGMT_RECV && p->sqid != 0 && len >= 64) {
        /* Report Zones (ZNS Figure 40): zones of 16 blocks from the one
         * holding SLBA, as many as fit, their states in turn every state
         * there is (ZNS Figure 44), write pointers to match. */
        static const uint8_t state[7] = {
            NVME_ZS_EMPTY, NVME_ZS_IMPLICIT_OPEN, NVME_ZS_EXPLICIT_OPEN, NVME_ZS_CLOSED,
            NVME_ZS_FULL,  NVME_ZS_READ_ONLY,     NVME_ZS_OFFLINE};
        struct nvme_zone_report *r = (void *)buf;
        struct nvme_zone_desc *z = (void *)(buf + 64);
        uint64_t slba = ((uint64_t)s->cdw11 << 32 | s->cdw10) & ~15ull;
        uint32_t n = (len - 64u) / 64u;
        for (uint32_t i = 0; i < n && slba + 16u * i < F.nsze; i++) {
            uint8_t st = state[((slba >> 4) + i) % 7u];
            z[i].zt = 2;
            z[i].zs = (uint8_t)(st << 4);
            z[i].zcap = 16;
            z[i].zslba = slba + 16u * i;
            z[i].wp = z[i].zslba + (st == NVME_ZS_FULL                               ? 16u
                                    : st == NVME_ZS_EMPTY || st >= NVME_ZS_READ_ONLY ? 0u
                                                                                     : 8u);
            r->nr_zones++;
        }
    } else if (s->opc == NVME_ADMIN_GET_LOG_PAGE && (s->cdw10 & 0xff) == NVME_LID_EFFECTS &&
               s->cdw12 == 0) {
        /* Vendor admin opcodes C0h-FFh: CSE when odd, NIC when bit 1 set
         * (what a raw command's effects are taken from, mgmt.c). */
        uint32_t *acs = (void *)buf;
        for (uint32_t opc = 0xc0; opc < 0x100 && opc * 4u + 4u <= len; opc++)
            acs[opc] = NVME_EFFECTS_CSUPP | ((opc & 1u) ? 1u << 16 : 0u) |
                       ((opc & 2u) ? NVME_EFFECTS_NIC : 0u);
    } else if (s->opc == NVME_ADMIN_GET_LOG_PAGE &&
               (s->cdw10 & 0xff) == NVME_LID_PERSISTENT_EVENT && s->cdw12 == 0 && len >= 512) {
        /* Persistent Event Log (NVMe 2.0 §5.16.1.14): a header naming
         * three events (Total Number of Events, Total Log Length, the
         * Generation Number) and the events themselves, so patches land
         * on a log whose counts and lengths the printer follows. */
        const uint32_t tnev = 3, ehl = 24, el[3] = {16, 0, 40};
        uint64_t tll = 512;
        for (unsigned i = 0; i < tnev; i++)
            tll += ehl + el[i];
        buf[0] = NVME_LID_PERSISTENT_EVENT;
        memcpy(buf + 4, &tnev, 4);
        memcpy(buf + 8, &tll, 8);
        buf[16] = 1;
        buf[18] = 0x00;
        buf[19] = 0x02;
        memcpy(buf + 56, "FUZZ0001", 8);
        buf[372] = 1;
        uint32_t off = 512;
        for (unsigned i = 0; i < tnev && off + ehl + el[i] <= len; i++) {
            buf[off] = (uint8_t)(1u + i);
            buf[off + 2] = (uint8_t)(ehl - 3u);
            buf[off + 22] = (uint8_t)el[i];
            off += ehl + el[i];
        }
    } else if (s->opc == NVME_CMD_RESV_REPORT && p->sqid != 0 && len >= 24) {
        /* Reservation Status (NVMe 1.4 Figure 394/395): a holder and a
         * second registrant, in the extended format when EDS is set. */
        bool eds = (s->cdw11 & NVME_RESV_REPORT_EDS) != 0;
        uint32_t hdr = eds ? NVME_RESV_STATUS_EXT_HDR : 24u, ent = eds ? 64u : 24u;
        buf[0] = 3; /* GEN */
        buf[4] = 1; /* RTYPE: Write Exclusive */
        buf[5] = 2; /* REGCTL */
        for (uint32_t i = 0; i < 2 && hdr + (i + 1u) * ent <= len; i++) {
            uint8_t *e = buf + hdr + i * ent;
            e[0] = (uint8_t)(1u + i); /* CNTLID */
            e[2] = i == 0 ? NVME_RESV_RCSTS_HOLDER : 0u;
            e[eds ? 8 : 16] = (uint8_t)(0x10u + i); /* RKEY */
        }
    } else if (s->opc == NVME_ADMIN_GET_LOG_PAGE && (s->cdw10 & 0xff) == NVME_LID_SMART &&
               len >= sizeof(struct nvme_smart_log)) {
        struct nvme_smart_log *l = (void *)buf;
        l->composite_temp = 310;
        l->avail_spare = 100;
        l->avail_spare_thresh = 10;
        l->power_cycles[0] = 7;
    }
    uint8_t d = dev_u8();
    if (d >= 0xf0) { /* raw: the input is the data */
        for (uint32_t i = 0; i < len && F.front < F.dev_end; i++)
            buf[i] = dev_u8();
        return;
    }
    for (unsigned k = d & 7u; k > 0; k--) {
        uint16_t off = dev_u16();
        uint8_t v = dev_u8();
        buf[off % len] = v;
    }
}

/* Posts one CQE on CQ `cqid`; false when the CQ is full (try later). */
static bool dev_post(uint16_t cqid, const struct nvme_cqe *cqe, bool bad_phase, bool no_irq)
{
    struct devq *cq = &F.cq[cqid];
    if (log_on())
        fprintf(stderr, "[%llu] device: post cq%u cid %u sqid %u status %04x%s\n",
                (unsigned long long)F.now, cqid, cqe->cid, cqe->sqid, cqe->status,
                bad_phase ? " (bad phase)" : "");
    if (!cq->live)
        return true; /* its CQ was deleted: the completion has nowhere to go */
    uint16_t next = (uint16_t)((cq->tail + 1u) % cq->size);
    if (next == cq->head)
        return false;
    struct nvme_cqe *slot = (struct nvme_cqe *)(void *)dev_mem(cq->bus + (uint64_t)cq->tail * 16u,
                                                               16, ACC_QUEUE, F.lax);
    if (slot == NULL) {
        cq->live = false;
        return true;
    }
    struct nvme_cqe c = *cqe;
    c.status = (uint16_t)((c.status & ~1u) | (bad_phase ? cq->phase ^ 1u : cq->phase));
    /* Fields first, the phase tag last, like hardware. */
    slot->dw0 = c.dw0;
    slot->dw1 = c.dw1;
    slot->sqhd = c.sqhd;
    slot->sqid = c.sqid;
    slot->cid = c.cid;
    __atomic_store_n(&slot->status, c.status, __ATOMIC_RELEASE);
    if (bad_phase)
        return true; /* a torn entry: the next CQE overwrites it */
    cq->tail = next;
    if (cq->tail == 0)
        cq->phase ^= 1u;
    if (cqid != 0)
        F.io_posts++;
    if (cq->ien && !no_irq)
        F.irq_pending |= 1u << (cq->iv % 32u);
    return true;
}

static uint16_t sf_of(uint8_t sct, uint8_t sc) { return NVME_SF(sct, sc); }

/* Set Features Host Memory Buffer: the pieces the descriptor list names
 * must be memory the core allocated; from then on they are the device's
 * (device_owns) until EHM is cleared or the controller resets. */
static uint16_t dev_hmb(const struct nvme_sqe *s, const struct pending *p)
{
    if (!(s->cdw11 & NVME_HMB_EHM)) {
        F.hmb_on = false;
        return 0;
    }
    uint32_t n = s->cdw15;
    uint64_t list = ((uint64_t)s->cdw14 << 32) | s->cdw13;
    if (n == 0 || n > MAX_HMB || (list & 15u) != 0)
        return sf_of(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT;
    const struct nvme_hmb_desc *d = (const void *)dev_mem(list, (size_t)n * sizeof(*d), ACC_QUEUE,
                                                          F.lax);
    if (d == NULL)
        return sf_of(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    for (uint32_t i = 0; i < n; i++) {
        if ((d[i].badd & (dev_ps() - 1u)) != 0 || d[i].bsize == 0)
            TRAP("Host Memory Buffer piece not page aligned or empty");
        F.hmb_bus[i] = d[i].badd;
        F.hmb_len[i] = (size_t)d[i].bsize * dev_ps();
        if (dev_mem(F.hmb_bus[i], F.hmb_len[i], ACC_QUEUE, F.lax) == NULL)
            return sf_of(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    }
    if (p->fuzz_sf && p->sf != 0)
        return 0; /* the device says it failed: it takes nothing */
    F.hmb_n = n;
    F.hmb_on = true;
    return 0;
}

/* Executes a command at its due time: its effects, its data, its CQE. */
static bool dev_execute(struct pending *p)
{
    struct nvme_sqe *s = &p->sqe;
    uint16_t sf = 0;
    uint32_t dw0 = 0;
    bool dbbuf_take = false;

    if (!p->echo && !p->voided) {
        if (p->sqid == 0) {
            switch (s->opc) {
            case NVME_ADMIN_IDENTIFY:
            case NVME_ADMIN_GET_LOG_PAGE: {
                uint8_t *buf = calloc(1, p->xfer ? p->xfer : 1);
                dev_payload(p, buf, p->xfer);
                dev_write_host(p, buf, p->xfer);
                free(buf);
                break;
            }
            case NVME_ADMIN_SET_FEATURES:
                if ((s->cdw10 & 0xff) == NVME_FEAT_NUM_QUEUES) {
                    uint8_t g = F.h[FH_NQ_DW0];
                    dw0 = g == 0 ? s->cdw11 : ((uint32_t)(g - 1u) | ((uint32_t)(g - 1u) << 16));
                }
                if ((s->cdw10 & 0xff) == NVME_FEAT_HOST_MEM_BUF)
                    sf = dev_hmb(s, p);
                dev_read_host(p);
                break;
            case NVME_ADMIN_GET_FEATURES:
                if (p->xfer != 0) { /* the structure: a template of zeros, patched */
                    uint8_t *buf = calloc(1, p->xfer);
                    dev_payload(p, buf, p->xfer);
                    dev_write_host(p, buf, p->xfer);
                    free(buf);
                }
                break;
            case NVME_ADMIN_FW_DOWNLOAD:
            case NVME_ADMIN_NS_ATTACH:
                dev_read_host(p);
                break;
            case NVME_ADMIN_NS_MGMT:
                dev_read_host(p);
                /* The NSID created: at most NN (the highest active one
                 * here), or the core refuses it (§3.2.1); reusing an
                 * active NSID is the input's kind of lie, raising NN
                 * would change every seed's enumeration. */
                if ((s->cdw10 & 0xfu) == 0)
                    dw0 = id_ctrl_nn() != 0 ? id_ctrl_nn() : 1u;
                break;
            case NVME_ADMIN_FORMAT_NVM:
            case NVME_ADMIN_SANITIZE:
            case NVME_ADMIN_DEVICE_SELF_TEST:
            case NVME_ADMIN_FW_COMMIT:
                break;
            case NVME_ADMIN_CREATE_CQ:
            case NVME_ADMIN_CREATE_SQ: {
                uint16_t qid = (uint16_t)s->cdw10, size = (uint16_t)((s->cdw10 >> 16) + 1u);
                bool is_cq = s->opc == NVME_ADMIN_CREATE_CQ;
                struct devq *q = is_cq ? &F.cq[qid % MAXQ] : &F.sq[qid % MAXQ];
                if (qid == 0 || qid >= MAXQ || q->live) {
                    sf = sf_of(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_QID_INVALID) | NVME_SF_DNR_BIT;
                    break;
                }
                if (size < 2 || size > NVME_CAP_MQES(F.cap) + 1u) {
                    sf = sf_of(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_QUEUE_SIZE) | NVME_SF_DNR_BIT;
                    break;
                }
                if (!(s->cdw11 & 1u) || (s->prp1 & (dev_ps() - 1u)))
                    TRAP("I/O queue not physically contiguous or not page aligned");
                /* the whole queue must be memory the core allocated */
                (void)dev_mem(s->prp1, (size_t)size * (is_cq ? 16u : 64u), ACC_QUEUE, false);
                if (!is_cq && !F.cq[(s->cdw11 >> 16) % MAXQ].live) {
                    sf = sf_of(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CQ_INVALID) | NVME_SF_DNR_BIT;
                    break;
                }
                if (p->fuzz_sf && p->sf != 0)
                    break; /* the device says it failed: do not create it */
                memset(q, 0, sizeof(*q));
                q->live = true;
                q->bus = s->prp1;
                q->size = size;
                q->phase = 1;
                q->cqid = (uint16_t)((s->cdw11 >> 16) % MAXQ);
                if (is_cq) {
                    q->ien = (s->cdw11 & NVME_CREATE_CQ_IEN) != 0;
                    q->iv = (uint16_t)(s->cdw11 >> 16);
                    if (q->ien && q->iv >= F.irq_vectors)
                        TRAP("Create I/O CQ with an interrupt vector irq_setup did not grant");
                }
                break;
            }
            case NVME_ADMIN_DELETE_SQ:
            case NVME_ADMIN_DELETE_CQ: {
                uint16_t qid = (uint16_t)s->cdw10;
                if (qid == 0 || qid >= MAXQ) {
                    sf = sf_of(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_QID_INVALID) | NVME_SF_DNR_BIT;
                    break;
                }
                if (p->fuzz_sf && p->sf != 0)
                    break;
                if (s->opc == NVME_ADMIN_DELETE_SQ) {
                    F.sq[qid].live = false;
                    for (int i = 0; i < F.npend; i++) /* its commands are aborted */
                        if (F.pend[i].used && F.pend[i].sqid == qid)
                            pend_free(&F.pend[i]);
                } else {
                    F.cq[qid].live = false;
                }
                break;
            }
            case NVME_ADMIN_ABORT:
                dw0 = 1; /* not aborted */
                break;
            case NVME_ADMIN_DBBUF_CONFIG: /* PRP1 shadows, PRP2 EventIdx, page aligned */
                if (!(F.h[FH_OPTS] & 0x80u) || ((s->prp1 | s->prp2) & (dev_ps() - 1u)) != 0) {
                    sf = sf_of(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT;
                    break;
                }
                F.dbbuf_db = s->prp1;
                F.dbbuf_ei = s->prp2;
                dbbuf_take = true; /* if the host hears it succeed, below */
                break;
            case NVME_ADMIN_ASYNC_EVENT: /* completes only when the input gave a DW0 */
                break;
            default: /* vendor-specific opcodes run (see the effects log) */
                if (s->opc < 0xc0)
                    sf = sf_of(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE) | NVME_SF_DNR_BIT;
                break;
            }
        } else {
            switch (s->opc) {
            case NVME_CMD_READ: {
                uint8_t *buf = malloc(p->xfer ? p->xfer : 1);
                uint64_t base = ((uint64_t)s->cdw11 << 32 | s->cdw10) *
                                (p->xfer / ((s->cdw12 & 0xffffu) + 1u));
                fill_pattern(buf, p->xfer, s->nsid, base);
                dev_write_host(p, buf, p->xfer);
                free(buf);
                break;
            }
            case NVME_CMD_WRITE:
            case NVME_CMD_COPY: /* its source range entries */
            case NVME_CMD_COMPARE:
            case NVME_CMD_DSM:
                dev_read_host(p);
                break;
            case NVME_CMD_ZONE_APPEND: /* dw0 (fuzzable): where the data went */
                dev_read_host(p);
                dw0 = s->cdw10;
                break;
            case NVME_CMD_RESV_REGISTER: /* the keys */
            case NVME_CMD_RESV_ACQUIRE:
            case NVME_CMD_RESV_RELEASE:
                dev_read_host(p);
                break;
            case NVME_CMD_RESV_REPORT: /* the status data structure, from the input */
            case NVME_CMD_ZONE_MGMT_RECV: {
                uint8_t *buf = calloc(1, p->xfer ? p->xfer : 1);
                dev_payload(p, buf, p->xfer);
                dev_write_host(p, buf, p->xfer);
                free(buf);
                break;
            }
            case NVME_CMD_FLUSH:
            case NVME_CMD_WRITE_ZEROES:
            case NVME_CMD_WRITE_UNCOR:
            case NVME_CMD_VERIFY:
            case NVME_CMD_ZONE_MGMT_SEND:
                break;
            default:
                sf = sf_of(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE) | NVME_SF_DNR_BIT;
                break;
            }
        }
    }
    if (p->dropped)
        return true;
    if (p->fuzz_sf)
        sf = p->sf;
    if (p->fuzz_dw0)
        dw0 = p->dw0;
    /* Shadow doorbells are used only when the host is told the command
     * succeeded: with a failure status, a wrong CID/SQID or phase the host
     * keeps plain doorbells and its shadows go stale (a fake that polled
     * them would write its own doorbells). */
    if (dbbuf_take && sf == 0 && p->cid_xor == 0 && p->sqid_xor == 0 && !p->bad_phase) {
        F.dbbuf_on = true;
        if (log_on())
            fprintf(stderr, "[%llu] device: shadow doorbells on\n", (unsigned long long)F.now);
    }
    struct nvme_cqe c = {0};
    c.dw0 = dw0;
    c.sqhd = p->fuzz_sqhd ? p->sqhd_val : p->sqhd;
    c.sqid = (uint16_t)(p->sqid ^ p->sqid_xor);
    c.cid = (uint16_t)(s->cid ^ p->cid_xor);
    c.status = (uint16_t)(sf << 1);
    if (p->cid_xor != 0 || p->sqid_xor != 0 || p->echo) {
        F.lied = true;
        /* A lie that names another command in flight completes THAT one
         * as far as any host can tell (its CID and generation match): the
         * device has declared it done, so it no longer owns its memory and
         * must not touch it (forgotten, as in lax mode). */
        for (int i = 0; i < F.npend; i++) {
            struct pending *o = &F.pend[i];
            if (o != p && o->used && !o->echo && o->sqid == c.sqid && o->sqe.cid == c.cid) {
                o->voided = true;
                if (log_on())
                    fprintf(stderr, "[%llu] device: a lie names sq%u cid %u in flight: forgotten\n",
                            (unsigned long long)F.now, c.sqid, c.cid);
            }
        }
        if (F.nlie_names < 64)
            F.lie_names[F.nlie_names++] = (uint32_t)c.sqid << 16 | c.cid;
    }
    return dev_post(p->cqid, &c, p->bad_phase, p->no_irq);
}

static struct pending *pend_new(void)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (!F.pend[i].used) {
            memset(&F.pend[i], 0, sizeof(F.pend[i]));
            F.pend[i].used = true;
            if (i >= F.npend)
                F.npend = i + 1;
            return &F.pend[i];
        }
    TRAP("more commands in flight than any queue allows");
}

/* The device fetched one SQE: decide from the input how it will end. */
/* Bytes a Get/Set Features moves, as the device understands the FID
 * (NVMe 2.0 §5.27.1): the features with a data structure. */
static uint32_t dev_feature_len(const struct nvme_sqe *sqe)
{
    switch (sqe->cdw10 & 0xffu) {
    case NVME_FEAT_LBA_RANGE: /* 64 entries of 64 bytes */
        return 4096;
    case NVME_FEAT_HOST_MEM_BUF: /* Get: the attributes; Set: the descriptor list in CDW13-15 */
        return sqe->opc == NVME_ADMIN_GET_FEATURES ? 4096 : 0;
    case NVME_FEAT_APST:
        return NVME_FEAT_APST_DATA_SIZE;
    case NVME_FEAT_TIMESTAMP:
        return NVME_FEAT_TIMESTAMP_DATA_SIZE;
    case NVME_FEAT_HOST_BEHAVIOR:
        return NVME_FEAT_HOST_BEHAVIOR_DATA_SIZE;
    case NVME_FEAT_HOST_ID:
        return (sqe->cdw11 & NVME_FEAT_HOST_ID_EXHID) ? 16u : 8u;
    default:
        return 0;
    }
}

static void dev_fetch(uint16_t sqid, const struct nvme_sqe *sqe)
{
    struct pending *p = pend_new();
    struct devq *sq = &F.sq[sqid];
    p->sqe = *sqe;
    p->sqid = sqid;
    p->cqid = sqid == 0 ? 0 : sq->cqid;
    p->sqhd = sq->head;
    for (unsigned i = 0; i < F.nlie_names; i++)
        if (F.lie_names[i] == ((uint32_t)sqid << 16 | sqe->cid)) {
            p->voided = true; /* the device already said it was done */
            if (log_on())
                fprintf(stderr,
                        "[%llu] device: sq%u cid %u fetched after a lie named it: forgotten\n",
                        (unsigned long long)F.now, sqid, sqe->cid);
        }

    size_t at = F.front; /* where this command's bytes start in the input */
    uint8_t c = dev_u8();
    /* NVME_FUZZ_LOG: the command as the device took it (an admin
     * command's CNS, LID or FID: what the seeds' reach markers match). */
    char what[32] = "";
    if (log_on() && sqid == 0) {
        if (sqe->opc == NVME_ADMIN_IDENTIFY)
            snprintf(what, sizeof(what), " cns %02x", sqe->cdw10 & 0xffu);
        else if (sqe->opc == NVME_ADMIN_GET_LOG_PAGE)
            snprintf(what, sizeof(what), " lid %02x", sqe->cdw10 & 0xffu);
        else if (sqe->opc == NVME_ADMIN_GET_FEATURES || sqe->opc == NVME_ADMIN_SET_FEATURES)
            snprintf(what, sizeof(what), " fid %02x", sqe->cdw10 & 0xffu);
        else if (sqe->opc == NVME_ADMIN_CREATE_SQ || sqe->opc == NVME_ADMIN_CREATE_CQ)
            snprintf(what, sizeof(what), " qid %u size %u", sqe->cdw10 & 0xffffu,
                     (sqe->cdw10 >> 16) + 1u);
    }
    if (log_on())
        fprintf(stderr, "[%llu] device: fetched sq%u opc %02x cid %u%s, control %02x (%s %zu)\n",
                (unsigned long long)F.now, sqid, sqe->opc, sqe->cid, what, c,
                at < F.dev_end ? "byte" : "stream ended at", at);
    p->due = F.now + (uint64_t)(c & 0x0fu) * 20u;
    p->no_irq = c < 0xc0 && (c & 0x30u) == 0x30u; /* a lost interrupt */
    if (c >= 0xc0) {
        uint8_t f = dev_u8();
        if (f & 0x01) {
            p->fuzz_sf = true;
            p->sf = dev_u16() & 0x7fffu;
        }
        if (f & 0x02) {
            p->cid_xor = dev_u16();
            if (p->cid_xor == 0)
                p->cid_xor = 1;
        }
        p->bad_phase = (f & 0x04) != 0;
        if (f & 0x08) {
            p->sqid_xor = dev_u8();
            if (p->sqid_xor == 0)
                p->sqid_xor = 1;
        }
        if (f & 0x10) {
            p->fuzz_sqhd = true;
            p->sqhd_val = dev_u16();
        }
        p->dropped = (f & 0x20) != 0;
        p->dup = (f & 0x40) != 0;
        if (f & 0x80) {
            p->fuzz_dw0 = true;
            p->dw0 = dev_u32();
            p->due += (uint64_t)dev_u8() * 1000u;
        }
        if (log_on()) /* the fault the input gave this command */
            fprintf(stderr,
                    "[%llu] device: sq%u opc %02x%s fault:%s%s%s%s%s%s%s%s status %04x dw0 %08x"
                    " at +%llu us\n",
                    (unsigned long long)F.now, sqid, sqe->opc, what, (f & 0x01) ? " status" : "",
                    (f & 0x02) ? " cid" : "", (f & 0x04) ? " phase" : "", (f & 0x08) ? " sqid" : "",
                    (f & 0x10) ? " sqhd" : "", (f & 0x20) ? " drop" : "",
                    (f & 0x40) ? " twice" : "", (f & 0x80) ? " dw0" : "", p->sf, p->dw0,
                    (unsigned long long)(p->due - F.now));
    }
    if (sqe->opc == NVME_ADMIN_ASYNC_EVENT && sqid == 0 && !p->fuzz_dw0)
        p->dropped = true; /* an AER completes only when the input says so */

    /* Data: length from the command, as the device understands it. */
    uint32_t len = 0;
    if (sqid == 0) {
        if (sqe->opc == NVME_ADMIN_IDENTIFY) {
            len = NVME_IDENTIFY_DATA_SIZE;
            p->data_dir = 2;
        } else if (sqe->opc == NVME_ADMIN_GET_LOG_PAGE) {
            len = (((sqe->cdw10 >> 16) | ((sqe->cdw11 & 0xffffu) << 16)) + 1u) * 4u;
            if (len > 1u << 20)
                TRAP("Get Log Page longer than the core ever asks");
            p->data_dir = 2;
        } else if (sqe->opc == NVME_ADMIN_GET_FEATURES || sqe->opc == NVME_ADMIN_SET_FEATURES) {
            len = dev_feature_len(sqe);
            p->data_dir = sqe->opc == NVME_ADMIN_GET_FEATURES ? 2 : 1;
        } else if (sqe->opc == NVME_ADMIN_FW_DOWNLOAD) {
            len = (sqe->cdw10 + 1u) * 4u;
            if (len > 1u << 20)
                TRAP("Firmware Image Download longer than the core ever sends");
            p->data_dir = 1;
        } else if ((sqe->opc == NVME_ADMIN_NS_MGMT && (sqe->cdw10 & 0xfu) == 0) ||
                   sqe->opc == NVME_ADMIN_NS_ATTACH) {
            len = 4096; /* the host software specified fields / the controller list */
            p->data_dir = 1;
        }
    } else if (sqe->opc == NVME_CMD_READ || sqe->opc == NVME_CMD_WRITE ||
               sqe->opc == NVME_CMD_COMPARE || sqe->opc == NVME_CMD_ZONE_APPEND) {
        /* The block size the core uses for this namespace: a device that
         * described the namespace inconsistently is not what we test. */
        const struct nvme_ns_info *ns = F.ctrl ? nvme_ns_find(F.ctrl, sqe->nsid) : NULL;
        if (ns == NULL || ns->lba_size == 0) {
            p->fuzz_sf = true;
            p->sf = sf_of(NVME_SCT_GENERIC, NVME_SC_INVALID_NS) | NVME_SF_DNR_BIT;
        } else {
            len = ((sqe->cdw12 & 0xffffu) + 1u) * ns->lba_size;
            /* Interleaved metadata moves with the data, except a PI-only
             * format (ms 8) with PRACT: the controller inserts/strips
             * the PI (NVM CS 5.2.1.2). */
            if (ns->md_extended && !((sqe->cdw12 & (1u << 29)) && ns->ms == 8u && ns->pi_type != 0))
                len += ((sqe->cdw12 & 0xffffu) + 1u) * ns->ms;
            p->data_dir = sqe->opc == NVME_CMD_READ ? 2 : 1;
        }
    } else if (sqe->opc == NVME_CMD_DSM) { /* NR + 1 ranges of 16 bytes */
        len = ((sqe->cdw10 & 0xffu) + 1u) * 16u;
        p->data_dir = 1;
    } else if (sqe->opc == NVME_CMD_ZONE_MGMT_RECV) { /* NUMD + 1 dwords */
        len = (sqe->cdw12 + 1u) * 4u;
        if (len > 1u << 20)
            TRAP("Zone Management Receive longer than the core ever asks");
        p->data_dir = 2;
    } else if (sqe->opc == NVME_CMD_RESV_REPORT) { /* NUMD + 1 dwords (NVMe 1.4 §6.13) */
        len = (sqe->cdw10 + 1u) * 4u;
        if (len > 1u << 20)
            TRAP("Reservation Report longer than the core ever asks");
        p->data_dir = 2;
    } else if (sqe->opc == NVME_CMD_RESV_REGISTER || sqe->opc == NVME_CMD_RESV_ACQUIRE ||
               sqe->opc == NVME_CMD_RESV_RELEASE) { /* two keys, or CRKEY alone */
        len = sqe->opc == NVME_CMD_RESV_RELEASE ? 8u : 16u;
        p->data_dir = 1;
    } else if (sqe->opc == NVME_CMD_COPY) { /* NR + 1 entries of 32 bytes (format 0h) */
        if ((sqe->cdw12 & 0xf00u) != 0)
            TRAP("Copy with a descriptor format other than 0h");
        len = ((sqe->cdw12 & 0xffu) + 1u) * 32u;
        p->data_dir = 1;
    }
    if ((sqe->flags & 0xc0u) != 0)
        TRAP("SQE asks for SGLs");
    dev_walk_prps(p, len);
}

static void dev_sq_doorbell(uint16_t qid, uint32_t val)
{
    struct devq *sq = &F.sq[qid];
    if (!sq->live)
        return; /* invalid doorbell write: a real device would raise an error event */
    if (val >= sq->size)
        TRAP("SQ tail doorbell beyond the queue size");
    sq->tail = (uint16_t)val;
    while (sq->head != sq->tail) {
        const struct nvme_sqe *e = (const void *)dev_mem(sq->bus + (uint64_t)sq->head * 64u, 64,
                                                         ACC_QUEUE, F.lax);
        if (e == NULL) {
            sq->live = false;
            return;
        }
        struct nvme_sqe sqe = *e;
        sq->head = (uint16_t)((sq->head + 1u) % sq->size);
        dev_fetch(qid, &sqe);
    }
}

static void dev_cq_doorbell(uint16_t qid, uint32_t val)
{
    struct devq *cq = &F.cq[qid];
    if (!cq->live)
        return;
    if (val >= cq->size)
        TRAP("CQ head doorbell beyond the queue size");
    /* The new head must lie in (head, tail]: the host consumed only posted entries. */
    uint32_t used = (cq->tail + cq->size - cq->head) % cq->size;
    uint32_t adv = (val + cq->size - cq->head) % cq->size;
    if (adv > used)
        TRAP("CQ head doorbell past the entries the device posted");
    cq->head = (uint16_t)val;
}

/* Shadow doorbells (§5.7): for each live I/O queue, a shadow SQ tail (at
 * 2*qid strides) or CQ head (2*qid+1) that moved is taken as that doorbell
 * write, and EventIdx is written back: the value seen (the host then rings
 * MMIO for every update), or skewed by a stream byte (it skips some). */
static void dev_dbbuf_poll(void)
{
    uint32_t stride = 4u << F.dstrd;
    for (uint16_t qid = 1; qid < MAXQ && F.dbbuf_on; qid++) {
        for (unsigned c = 0; c < 2; c++) {
            struct devq *q = c ? &F.cq[qid] : &F.sq[qid];
            if (!q->live)
                continue;
            uint64_t off = (uint64_t)(2u * qid + c) * stride;
            uint32_t *db = (uint32_t *)(void *)dev_mem(F.dbbuf_db + off, 4, ACC_QUEUE, F.lax);
            uint32_t *ei = (uint32_t *)(void *)dev_mem(F.dbbuf_ei + off, 4, ACC_QUEUE, F.lax);
            if (db == NULL || ei == NULL) {
                F.dbbuf_on = false;
                return;
            }
            uint32_t v = *db;
            if (v == (c ? q->head : q->tail))
                continue;
            if (c)
                dev_cq_doorbell(qid, v);
            else
                dev_sq_doorbell(qid, v);
            *ei = v + dev_u8();
        }
    }
}

/* Runs whatever is due: timed faults, CSTS transitions, completions. */
static void dev_step(void)
{
    if (++F.calls > CALL_CAP)
        TRAP("run did not end: too many OSAL calls (a wait without bound?)");
    if (F.now > SIM_CAP)
        TRAP("run did not end: simulated time cap reached");
    if (F.fault_at != 0 && F.now >= F.fault_at) {
        F.fault_at = 0;
        if (log_on())
            fprintf(stderr, "[%llu] device: timed fault: %s\n", (unsigned long long)F.now,
                    F.fault_kind == 1   ? "CSTS.CFS"
                    : F.fault_kind == 3 ? "gone for 1 ms"
                                        : "gone");
        if (F.fault_kind == 1) {
            F.cfs = true;
            F.csts |= NVME_CSTS_CFS;
        } else if (F.fault_kind >= 2) {
            F.gone = true;
            if (F.fault_kind == 3)
                F.back_at = F.now + 1000u;
        }
    }
    if (F.back_at != 0 && F.now >= F.back_at) { /* hot-plugged back, in reset state */
        F.back_at = 0;
        if (log_on())
            fprintf(stderr, "[%llu] device: hot-plugged back\n", (unsigned long long)F.now);
        F.gone = false;
        F.gone_seen = false;
        F.cc = 0;
        F.csts = 0;
        F.cfs = false;
        F.rdy_pending = false; /* a rise due from before the removal: not this device's */
        dev_reset_state();
    }
    if (F.gone)
        return;
    if (F.rdy_pending && F.now >= F.rdy_due) {
        F.rdy_pending = false;
        if (log_on())
            fprintf(stderr, "[%llu] device: CSTS.RDY %u, %llu us after CC.EN %u\n",
                    (unsigned long long)F.now, F.rdy_target ? 1u : 0u,
                    (unsigned long long)(F.now - F.rdy_since), F.rdy_target ? 1u : 0u);
        if (F.rdy_target) {
            F.csts |= NVME_CSTS_RDY;
        } else {
            dev_reset_state();
        }
    }
    if (F.shn_pending && F.now >= F.shn_due) {
        F.shn_pending = false;
        if (log_on())
            fprintf(stderr, "[%llu] device: CSTS.SHST 10b, %llu us after CC.SHN 01b\n",
                    (unsigned long long)F.now, (unsigned long long)(F.now - F.shn_start));
        F.csts = (F.csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_COMPLETE;
        dev_drop_all();
    }
    if (!F.bme || F.cfs || !(F.csts & NVME_CSTS_RDY) || !(F.cc & NVME_CC_EN))
        return;
    if ((F.csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_COMPLETE)
        return;
    if (F.dbbuf_on)
        dev_dbbuf_poll();
    /* Completions in order of due time, oldest first. */
    for (int guard = 0; guard < MAX_PENDING; guard++) {
        struct pending *best = NULL;
        for (int i = 0; i < F.npend; i++) {
            struct pending *p = &F.pend[i];
            if (p->used && !p->done && p->due <= F.now && (best == NULL || p->due < best->due))
                best = p;
        }
        if (best == NULL)
            return;
        if (best->dropped) { /* does its work, never completes: still owned */
            (void)dev_execute(best);
            best->done = true;
            continue;
        }
        if (!dev_execute(best)) {
            best->due = F.now + 10; /* CQ full: later */
            return;
        }
        if (best->dup && !best->echo) { /* the same CQE once more, a little later */
            best->echo = true;
            best->dup = false;
            best->due = F.now + 5;
            continue;
        }
        pend_free(best);
    }
}

/* ------------------------------------------------------------------ */
/* Registers                                                           */
/* ------------------------------------------------------------------ */

static uint32_t dev_reg_read(uint32_t off)
{
    dev_step();
    if (F.gone) {
        if (!F.diag_read)
            F.gone_seen = true;
        return 0xffffffffu;
    }
    switch (off) {
    case NVME_REG_CAP:
        return (uint32_t)F.cap;
    case NVME_REG_CAP + 4:
        return (uint32_t)(F.cap >> 32);
    case NVME_REG_VS:
        return F.vs;
    case NVME_REG_INTMS:
    case NVME_REG_INTMC:
        return F.intms;
    case NVME_REG_CC:
        return F.cc;
    case NVME_REG_CSTS:
        if (F.shn_pending) {
            uint64_t bound = 60000000u; /* RTD3E clamped to 60 s, like Linux */
            uint64_t to = (uint64_t)(NVME_CAP_TO(F.cap) ? NVME_CAP_TO(F.cap) : 1u) * 500000u;
            if (to > bound)
                bound = to;
            if (F.now - F.shn_start > bound + 1000000u) {
                if (!F.lax)
                    TRAP("shutdown wait longer than max(60 s, CAP.TO)");
                F.shn_pending = false; /* lax: let it finish */
                F.csts = (F.csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_COMPLETE;
                dev_drop_all();
            }
        }
        {
            uint32_t v = F.csts;
            if (F.h[FH_MISC] & 0x08u)
                v |= NVME_CSTS_NSSRO | NVME_CSTS_PP; /* bits the core must ignore */
            if ((F.h[FH_MISC] & 0x10u) && (v & NVME_CSTS_SHST_MASK) == 0)
                v |= 3u << NVME_CSTS_SHST_SHIFT; /* reserved SHST value */
            if (v != F.csts && (v & NVME_CSTS_RDY) && !F.csts_odd_logged && log_on()) {
                F.csts_odd_logged = true; /* the first such read the running controller answers */
                fprintf(stderr, "[%llu] device: CSTS %08x read while ready:%s%s\n",
                        (unsigned long long)F.now, v,
                        (v & ~F.csts & (NVME_CSTS_NSSRO | NVME_CSTS_PP)) ? " NSSRO and PP set" : "",
                        (v & ~F.csts & NVME_CSTS_SHST_MASK) ? " SHST 11b (reserved)" : "");
            }
            return v;
        }
    case NVME_REG_AQA:
        return F.aqa;
    case NVME_REG_ASQ:
        return (uint32_t)F.asq;
    case NVME_REG_ASQ + 4:
        return (uint32_t)(F.asq >> 32);
    case NVME_REG_ACQ:
        return (uint32_t)F.acq;
    case NVME_REG_ACQ + 4:
        return (uint32_t)(F.acq >> 32);
    default:
        if (off >= NVME_REG_DBS)
            TRAP("register read of a doorbell");
        return 0; /* reserved, reads as zero */
    }
}

static void dev_cc_write(uint32_t val)
{
    uint32_t old = F.cc;
    F.cc = val;
    if (!(old & NVME_CC_EN) && (val & NVME_CC_EN)) {
        if (F.csts & NVME_CSTS_RDY)
            TRAP("CC.EN set again before CSTS.RDY went to 0 (§3.1.5)");
        dev_drop_all(); /* a fresh controller */
        F.host_enabled = true;
        uint32_t mps = (val & NVME_CC_MPS_MASK) >> NVME_CC_MPS_SHIFT;
        if (mps < NVME_CAP_MPSMIN(F.cap) || mps > NVME_CAP_MPSMAX(F.cap))
            TRAP("CC.MPS outside CAP.MPSMIN..MPSMAX");
        /* CC.CSS (§3.1.5, NVMe 2.0): 000b NVM when CAP.CSS bit 0, 110b all
         * I/O command sets when bit 6, 111b admin only when bit 7. */
        uint32_t css = (val & NVME_CC_CSS_MASK) >> NVME_CC_CSS_SHIFT, ccss = NVME_CAP_CSS(F.cap);
        if (!((css == 0u && (ccss & 1u)) || (css == 6u && (ccss & 0x40u)) ||
              (css == 7u && (ccss & 0x80u))))
            TRAP("CC.CSS not one CAP.CSS offers");
        F.page_size = 4096u << mps;
        uint16_t sqs = (uint16_t)((F.aqa & 0xfffu) + 1u),
                 cqs = (uint16_t)(((F.aqa >> 16) & 0xfffu) + 1u);
        if (sqs < 2 || cqs < 2)
            TRAP("admin queue with fewer than 2 entries");
        if ((F.asq | F.acq) & (F.page_size - 1u))
            TRAP("ASQ/ACQ not page aligned");
        (void)dev_mem(F.asq, (size_t)sqs * 64u, ACC_QUEUE, false);
        (void)dev_mem(F.acq, (size_t)cqs * 16u, ACC_QUEUE, false);
        memset(F.sq, 0, sizeof(F.sq));
        memset(F.cq, 0, sizeof(F.cq));
        if (log_on()) /* what the host chose: CC.CSS from CAP.CSS, the admin queue's size */
            fprintf(stderr,
                    "[%llu] device: CC.EN 1: CC.CSS %u, page %u, admin SQ %u CQ %u entries\n",
                    (unsigned long long)F.now, css, F.page_size, sqs, cqs);
        F.sq[0] = (struct devq){.live = true, .bus = F.asq, .size = sqs, .phase = 1};
        F.cq[0] = (struct devq){.live = true, .bus = F.acq, .size = cqs, .phase = 1};
        F.csts &= ~NVME_CSTS_SHST_MASK;
        F.zombie = false;
        if (!F.never_ready && !F.cfs) {
            F.rdy_pending = true;
            F.rdy_target = true;
            F.rdy_since = F.now;
            F.rdy_due = F.now + (uint64_t)F.h[FH_RDY_DELAY] * 10u;
        }
    } else if ((old & NVME_CC_EN) && !(val & NVME_CC_EN)) {
        if (log_on() && !F.host_enabled)
            fprintf(stderr, "[%llu] device: CC.EN 0 before the host ever set it (firmware's)\n",
                    (unsigned long long)F.now);
        F.shn_pending = false;
        /* Another CAP.MQES for the next enable (the core reads CAP
         * again before it, §3.1.1): fewer entries than the queues had,
         * or as many again. */
        if (F.mqes_alt != 0 && F.host_enabled) {
            uint16_t now = (uint16_t)NVME_CAP_MQES(F.cap);
            F.cap = (F.cap & ~0xffffull) | (now == F.mqes_alt ? F.mqes0 : F.mqes_alt);
        }
        if (F.never_stops) {
            F.rdy_pending = false;
            if (!F.ops_dma_stop) {
                /* Without dma_stop the core may only hand buffers back and
                 * log (dma_stop in nvme_osal.h): nothing to test, so the
                 * device quietly stops touching memory, RDY stays 1. */
                dev_drop_all();
                memset(F.sq, 0, sizeof(F.sq));
                memset(F.cq, 0, sizeof(F.cq));
                F.zombie = true;
            }
        } else {
            F.rdy_pending = true;
            F.rdy_target = false;
            F.rdy_since = F.now;
            F.rdy_due = F.now + (uint64_t)F.h[FH_RDY_DELAY] * 10u;
            if (!(F.csts & NVME_CSTS_RDY)) { /* not ready yet: the reset is immediate */
                F.rdy_pending = false;
                dev_reset_state();
            }
        }
        if (F.cfs && log_on())
            fprintf(stderr, "[%llu] device: CC.EN 0 clears CSTS.CFS\n", (unsigned long long)F.now);
        F.cfs = false;
        F.csts &= ~NVME_CSTS_CFS;
    }
    if ((val & NVME_CC_EN) && (val & NVME_CC_SHN_MASK) && !(old & NVME_CC_SHN_MASK)) {
        F.csts = (F.csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_OCCURRING;
        F.shn_start = F.now;
        F.shn_pending = !F.shn_never;
        F.shn_due = F.now + 100u;
        if (F.shn_never) { /* pending forever: still checked by the CSTS bound */
            F.shn_pending = true;
            F.shn_due = ~0ull;
        }
    }
}

static void dev_reg_write(uint32_t off, uint32_t val)
{
    dev_step();
    if (F.gone_seen && !F.lax) {
        fprintf(stderr, "fuzz_device: write of %08x to register %03x\n", val, off);
        TRAP("register write after the core read all ones (device gone)");
    }
    if (F.gone)
        return;
    const uint32_t stride = 4u << F.dstrd;
    switch (off) {
    case NVME_REG_INTMS:
        F.intms |= val;
        return;
    case NVME_REG_INTMC:
        F.intms &= ~val;
        return;
    case NVME_REG_CC:
        dev_cc_write(val);
        return;
    case NVME_REG_AQA:
        F.aqa = val;
        return;
    case NVME_REG_ASQ:
        F.asq = (F.asq & ~0xffffffffull) | val;
        return;
    case NVME_REG_ASQ + 4:
        F.asq = (F.asq & 0xffffffffull) | ((uint64_t)val << 32);
        return;
    case NVME_REG_ACQ:
        F.acq = (F.acq & ~0xffffffffull) | val;
        return;
    case NVME_REG_ACQ + 4:
        F.acq = (F.acq & 0xffffffffull) | ((uint64_t)val << 32);
        return;
    case NVME_REG_NSSR:
        return;
    case NVME_REG_CSTS: /* NSSRO is write 1 to clear (§3.1.6); the rest read only */
        if (val & ~NVME_CSTS_NSSRO)
            TRAP("CSTS write of a bit other than NSSRO");
        return; /* the fake's NSSRO is the header's (FH_MISC bit 3): it stays */
    default:
        break;
    }
    if (off < NVME_REG_DBS)
        TRAP("write to a read-only or reserved register");
    if (off > 16384u - 4u) /* the port maps 16 KiB (mmio_size 0) */
        TRAP("doorbell write past the mapped BAR (CAP.DSTRD too large for it)");
    if ((off - NVME_REG_DBS) % stride != 0)
        TRAP("doorbell write not on the CAP.DSTRD stride");
    uint32_t idx = (off - NVME_REG_DBS) / stride;
    if (idx / 2u >= MAXQ)
        TRAP("doorbell of a queue the core never created");
    if (!(F.cc & NVME_CC_EN) || !(F.csts & NVME_CSTS_RDY) || F.cfs)
        return; /* not running: ignored */
    if (idx & 1u)
        dev_cq_doorbell((uint16_t)(idx / 2u), val);
    else
        dev_sq_doorbell((uint16_t)(idx / 2u), val);
    dev_step(); /* a fast device may complete at once */
}

/* ------------------------------------------------------------------ */
/* The OSAL                                                            */
/* ------------------------------------------------------------------ */

static uint32_t o_read32(void *ctx, uint32_t off)
{
    (void)ctx;
    if (off & 3u)
        TRAP("unaligned 32-bit register read");
    return dev_reg_read(off);
}
static void o_write32(void *ctx, uint32_t off, uint32_t val)
{
    (void)ctx;
    if (off & 3u)
        TRAP("unaligned 32-bit register write");
    dev_reg_write(off, val);
}
static uint64_t o_read64(void *ctx, uint32_t off)
{
    (void)ctx;
    if (off & 7u)
        TRAP("unaligned 64-bit register read");
    uint32_t lo = dev_reg_read(off);
    return lo | ((uint64_t)dev_reg_read(off + 4) << 32);
}
static void o_write64(void *ctx, uint32_t off, uint64_t val)
{
    (void)ctx;
    if (off & 7u)
        TRAP("unaligned 64-bit register write");
    if (log_on())
        fprintf(stderr, "[%llu] device: 64-bit write at %03x\n", (unsigned long long)F.now, off);
    dev_reg_write(off, (uint32_t)val);
    dev_reg_write(off + 4, (uint32_t)(val >> 32));
}

static void *o_dma_alloc(void *ctx, size_t size, size_t align, uint64_t *bus)
{
    (void)ctx;
    if (size == 0 || align == 0 || (align & (align - 1)) || align > 65536)
        TRAP("dma_alloc with a bad size or alignment");
    size_t rounded = (size + align - 1) & ~(align - 1);
    uint8_t *va = aligned_alloc(align, rounded);
    if (va == NULL)
        return NULL;
    memset(va, 0x5a, size); /* the core zeroes it itself */
    region_add(&F.allocs, &F.nallocs, &F.cap_allocs, va, size, 0);
    *bus = (uint64_t)(uintptr_t)va ^ BUS_XOR;
    return va;
}

static bool cmd_live(const struct pending *p) { return p->used && !p->voided && !p->echo; }

static void log_owner(const struct pending *p, uint32_t k, const char *how)
{
    if (log_on())
        fprintf(stderr, "[%llu] owned by sq%u cid %u opc %02x (seg %u of %u)%s\n",
                (unsigned long long)F.now, p->sqid, p->sqe.cid, p->sqe.opc, k, p->nsegs, how);
}

/* How many fetched, uncompleted commands of the running device have data
 * in [va, va+len) (each counted once). */
static unsigned data_owners(const uint8_t *va, size_t len)
{
    unsigned n = 0;
    if (dev_stopped())
        return 0;
    for (int i = 0; i < F.npend; i++) {
        const struct pending *p = &F.pend[i];
        for (uint32_t k = 0; cmd_live(p) && k < p->nsegs; k++)
            if (overlaps(bus_to_va(p->segs[k].bus), p->segs[k].len, va, len)) {
                log_owner(p, k, "");
                n++;
                break;
            }
    }
    return n;
}

/* True when the device, still running, may touch [va, va+len): a fetched
 * command's data, or a live queue. */
static bool device_owns(const uint8_t *va, size_t len, bool queues)
{
    if (dev_stopped())
        return false;
    for (int i = 0; i < F.npend; i++) {
        struct pending *p = &F.pend[i];
        if (!cmd_live(p))
            continue;
        for (uint32_t k = 0; k < p->nsegs; k++)
            if (overlaps(bus_to_va(p->segs[k].bus), p->segs[k].len, va, len)) {
                log_owner(p, k, "");
                if (!F.lax)
                    return true;
                p->voided = true;
            }
    }
    if (queues && F.hmb_on)
        for (uint32_t i = 0; i < F.hmb_n; i++)
            if (overlaps(bus_to_va(F.hmb_bus[i]), F.hmb_len[i], va, len)) {
                if (!F.lax)
                    return true;
                F.hmb_on = false;
            }
    if (queues)
        for (int q = 0; q < MAXQ; q++) {
            if (F.sq[q].live &&
                overlaps(bus_to_va(F.sq[q].bus), (size_t)F.sq[q].size * 64u, va, len)) {
                if (!F.lax)
                    return true;
                F.sq[q].live = false;
            }
            if (F.cq[q].live &&
                overlaps(bus_to_va(F.cq[q].bus), (size_t)F.cq[q].size * 16u, va, len)) {
                if (!F.lax)
                    return true;
                F.cq[q].live = false;
            }
        }
    return false;
}

static void o_dma_free(void *ctx, void *va, size_t size)
{
    (void)ctx;
    for (size_t i = F.nallocs; i-- > 0;) {
        if (F.allocs[i].va == va) {
            if (F.allocs[i].len != size)
                TRAP("dma_free with a size other than dma_alloc's");
            if (device_owns(va, size, true))
                TRAP("dma_free of memory the running device still owns (queue, command data or "
                     "host memory buffer)");
            F.allocs[i] = F.allocs[--F.nallocs];
            free(va);
            return;
        }
    }
    TRAP("dma_free of memory dma_alloc did not return");
}

static int o_dma_map(void *ctx, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus)
{
    (void)ctx;
    if (va == NULL || len == 0 || len > 65536 || dir < 1 || dir > 3)
        TRAP("dma_map with bad arguments");
    uintptr_t a = (uintptr_t)va;
    if ((a & ~(uintptr_t)(dev_ps() - 1u)) != ((a + len - 1) & ~(uintptr_t)(dev_ps() - 1u)) &&
        F.page_size != 0)
        TRAP("dma_map of a piece crossing a controller page");
    region_add(&F.maps, &F.nmaps, &F.cap_maps, va, len, (int)dir);
    F.maps[F.nmaps - 1].id = ++F.map_ids;
    *bus = (uint64_t)a ^ BUS_XOR;
    return 0;
}

/* True when unmapping F.maps[gone] leaves a fetched command's data piece
 * on no mapping the host made before that command was fetched (rule 1 of
 * nvme.h).  Another command's mapping of the same bytes keeps nothing of
 * this one alive: each command rests on its own (map_ceiling). */
static bool unmap_strands(size_t gone)
{
    const struct region *g = &F.maps[gone];
    if (dev_stopped())
        return false;
    for (int i = 0; i < F.npend; i++) {
        struct pending *p = &F.pend[i];
        int dir = p->data_dir == 1   ? NVME_DMA_TO_DEVICE
                  : p->data_dir == 2 ? NVME_DMA_FROM_DEVICE
                                     : 0;
        for (uint32_t k = 0; cmd_live(p) && k < p->nsegs; k++) {
            const uint8_t *sva = bus_to_va(p->segs[k].bus);
            uint32_t slen = p->segs[k].len;
            if (!overlaps(sva, slen, g->va, g->len))
                continue;
            bool held = false;
            for (size_t m = 0; m < F.nmaps && !held; m++)
                held = m != gone && F.maps[m].id <= p->map_ceiling &&
                       region_holds(&F.maps[m], sva, slen, dir);
            if (held) {
                if (log_on())
                    fprintf(stderr,
                            "[%llu] dma_unmap: sq%u cid %u opc %02x seg %u still rests on a "
                            "mapping of its own\n",
                            (unsigned long long)F.now, p->sqid, p->sqe.cid, p->sqe.opc, k);
                continue;
            }
            log_owner(p, k, ", its last mapping");
            if (!F.lax)
                return true;
            p->voided = true; /* lax: the device forgets the command */
        }
    }
    return false;
}

/* Several commands may map the same bytes the same way (two reads of one
 * block into one buffer): which one the host unmaps is not known, so the
 * newest identical mapping goes (as osal/hosted-sim/sim_dma.c does) and
 * the older ones stay for the commands fetched before the newer came. */
static void o_dma_unmap(void *ctx, void *va, size_t len, enum nvme_dma_dir dir)
{
    (void)ctx;
    size_t found = F.nmaps;
    for (size_t i = 0; i < F.nmaps; i++) {
        const struct region *r = &F.maps[i];
        if (r->va == va && r->len == len && r->dir == (int)dir &&
            (found == F.nmaps || r->id > F.maps[found].id))
            found = i;
    }
    if (found == F.nmaps)
        TRAP("dma_unmap that matches no dma_map");
    if (unmap_strands(found))
        TRAP("dma_unmap of a buffer a fetched command still owns, device not stopped");
    F.maps[found] = F.maps[--F.nmaps];
}

static void *o_mem_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (size == 0 || size > (64u << 20))
        TRAP("mem_alloc of an absurd size");
    size_t *p = malloc(size + 16);
    if (p == NULL)
        return NULL;
    p[0] = size;
    F.mem_count++;
    F.mem_bytes += size;
    memset(p + 2, 0xa5, size);
    return p + 2;
}

static void o_mem_free(void *ctx, void *q, size_t size)
{
    (void)ctx;
    if (q == NULL)
        TRAP("mem_free(NULL)");
    size_t *p = (size_t *)q - 2;
    if (p[0] != size)
        TRAP("mem_free with a size other than mem_alloc's");
    F.mem_count--;
    F.mem_bytes -= size;
    free(p);
}

static void deliver_irqs(void);
static void side_call(void);

static uint64_t o_now_us(void *ctx)
{
    (void)ctx;
    dev_step();
    /* A clock read costs time too: 8 us a call keeps busy-polling loops
     * (the core polls without pause for its first millisecond) cheap in
     * OSAL calls while still far finer than any deadline. */
    uint64_t t = F.now;
    F.now += 8;
    return t;
}

static void o_sleep_us(void *ctx, uint32_t us)
{
    (void)ctx;
    if (us > 10000u)
        TRAP("sleep_us longer than the 10 ms the OSAL promises to handle");
    F.now += us;
    dev_step();
    deliver_irqs();
    side_call();
}

/* Interrupts are delivered where the core may be interrupted without locks:
 * while it sleeps or waits (never in the middle of a ring update). */
static void deliver_irqs(void)
{
    if (F.ctrl == NULL || F.in_irq || F.irq_vectors == 0)
        return;
    while (F.irq_pending != 0) {
        if (F.intx && (F.intms & 1u))
            return; /* masked: stays pending */
        unsigned v = (unsigned)__builtin_ctz(F.irq_pending);
        F.irq_pending &= ~(1u << v);
        F.in_irq = true;
        (void)nvme_ctrl_handle_irq(F.ctrl, v);
        F.in_irq = false;
    }
}

/* Another CPU's call (op_side) made while the workload's blocking call
 * sleeps here, where it holds no ring state (as for an interrupt), on a
 * controller that runs (not between CC.EN and CSTS.RDY of a reset), once:
 * nvme_ns_rescan, or nvme_ctrl_service (side_how bit 3), which serves an
 * Asynchronous Event the device posted (a Namespace Attribute Changed
 * one rescans).  The device's Identify answers decide whether the
 * namespaces changed, moving the namespace epoch under the blocked call. */
static void side_call(void)
{
    if (!F.side_armed || F.in_side || F.in_irq || F.ctrl == NULL || F.io_posts < F.side_at ||
        F.gone || !(F.cc & NVME_CC_EN) || !(F.csts & NVME_CSTS_RDY) || F.rdy_pending)
        return;
    F.side_armed = false;
    F.in_side = true;
    F.side_runs++;
    if (log_on())
        fprintf(stderr, "[%llu] another CPU: %s\n", (unsigned long long)F.now,
                (F.side_how & 8u) ? "nvme_ctrl_service" : "nvme_ns_rescan");
    int rc = (F.side_how & 8u) ? nvme_ctrl_service(F.ctrl) : nvme_ns_rescan(F.ctrl);
    if (log_on())
        fprintf(stderr, "[%llu] another CPU: done (%d)\n", (unsigned long long)F.now, rc);
    F.in_side = false;
}

static int o_irq_setup(void *ctx, unsigned want, bool *is_intx)
{
    (void)ctx;
    if (want == 0 || is_intx == NULL)
        TRAP("irq_setup with bad arguments");
    F.intx = (F.h[FH_OPTS] & 0x10u) != 0;
    *is_intx = F.intx;
    F.irq_vectors = F.intx ? 1u : (want < 32u ? want : 32u);
    if (log_on())
        fprintf(stderr, "[%llu] irq_setup: %u wanted, %u %s\n", (unsigned long long)F.now, want,
                F.irq_vectors, F.intx ? "INTx" : "MSI-X");
    return (int)F.irq_vectors;
}

static void o_irq_teardown(void *ctx)
{
    (void)ctx;
    if (F.irq_vectors == 0)
        TRAP("irq_teardown without irq_setup");
    F.irq_vectors = 0;
    F.irq_pending = 0;
}

static void o_wait(void *ctx, uint32_t us)
{
    (void)ctx;
    if (F.in_irq)
        TRAP("wait() from the interrupt handler");
    for (uint32_t t = 0; t < us && !F.woken; t += 10u) {
        F.now += 10u;
        dev_step();
        deliver_irqs();
        side_call();
    }
    F.woken = false;
}

static void o_wake(void *ctx)
{
    (void)ctx;
    F.woken = true;
}

static void o_dma_stop(void *ctx)
{
    (void)ctx;
    F.bme = false;
    dev_drop_all();
}

static void o_log(void *ctx, enum nvme_log_level level, const char *line)
{
    (void)ctx;
    (void)level;
    if (line == NULL)
        TRAP("log(NULL)");
    if (log_on())
        fprintf(stderr, "[%llu] %s\n", (unsigned long long)F.now, line);
}

/* ------------------------------------------------------------------ */
/* The workload                                                        */
/* ------------------------------------------------------------------ */

struct iocb {
    int calls;
    int result;
    uint8_t *buf;
    size_t len;
    unsigned *sharing; /* requests on this buffer not yet called back; NULL: its own buffer */
};

/* The core handed a buffer back (callback, blocking call returned): the
 * device must not own it any more (lifecycle rule 1).  Lax: the device
 * forgets the command instead, so the harness may free the buffer. */
static void handed_back(const uint8_t *buf, size_t len, const char *what)
{
    if (device_owns(buf, len, false))
        TRAP(what);
}

static void io_cb(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    struct iocb *c = arg;
    if (++c->calls > 1)
        TRAP("completion callback ran twice");
    c->result = result;
    unsigned others = c->sharing != NULL ? --*c->sharing : 0;
    if (others == 0)
        handed_back(c->buf, c->len, "callback ran while the running device still owns the buffer");
    else if (data_owners(c->buf, c->len) > others && !F.lax)
        TRAP("callback ran while the running device still owns the buffer for this request too");
    if (log_on())
        fprintf(stderr, "[%llu] nvme_submit_rw callback: %d\n", (unsigned long long)F.now, result);
}

static uint8_t *buf_alloc(size_t len, unsigned off, uint8_t **base)
{
    *base = aligned_alloc(4096, (len + off + 4095) & ~(size_t)4095);
    return *base + off;
}

static const struct nvme_ns_info *pick_ns(uint8_t b)
{
    unsigned n = nvme_ns_count(F.ctrl);
    if (n == 0)
        return NULL;
    return nvme_ns_at(F.ctrl, b % n);
}

static void check_ns_table(void)
{
    unsigned n = nvme_ns_count(F.ctrl);
    uint32_t last = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct nvme_ns_info *ns = nvme_ns_at(F.ctrl, i);
        if (ns == NULL)
            TRAP("nvme_ns_at NULL below nvme_ns_count");
        if (i > 0 && ns->nsid <= last)
            TRAP("namespace table not in increasing NSID order");
        last = ns->nsid;
        if (nvme_ns_find(F.ctrl, ns->nsid) != ns)
            TRAP("nvme_ns_find disagrees with nvme_ns_at");
        /* LBA data sizes from 512 B up to what one command can carry
         * (MDTS; QEMU offers up to 2 MiB). */
        if (ns->status == NVME_OK &&
            (ns->lbads < 9 || ns->lbads > 30 || ns->lba_size != 1u << ns->lbads || ns->nsze == 0 ||
             ns->lba_size > nvme_ctrl_get_info(F.ctrl)->mdts_bytes))
            TRAP("usable namespace with nonsense geometry");
    }
}

static void op_rw(bool write)
{
    const struct nvme_ns_info *ns = pick_ns(wl_u8());
    uint8_t a = wl_u8(), b = wl_u8();
    if (ns == NULL || ns->status != NVME_OK)
        return;
    uint32_t count = 1u + (a & 0x3fu);
    /* At most 8 MiB (still pieces at MDTS): 64 blocks of 1 MiB would
     * spend the run filling and checking the read pattern. */
    while (count > 1u && ((size_t)count << ns->lbads) > (8u << 20))
        count >>= 1;
    uint64_t lba = ns->nsze > count ? (uint64_t)b * 3u % (ns->nsze - count + 1u) : 0;
    /* The block size the call is made for: another CPU's rescan
     * (op_side) may change the namespace's by the time it returns. */
    const uint32_t lbads = ns->lbads;
    size_t len = (size_t)count << lbads;
    unsigned off = (a >> 6) * 1024u + (b & 0x3u) * 4u;
    uint8_t *base, *buf = buf_alloc(len, off, &base);
    memset(buf, 0xee, len);
    bool lied = F.lied;
    int rc = write ? nvme_write(F.ctrl, ns->nsid, lba, count, buf)
                   : nvme_read(F.ctrl, ns->nsid, lba, count, buf);
    handed_back(buf, len, "nvme_read/nvme_write returned while the device still owns the buffer");
    if (log_on())
        fprintf(stderr, "[%llu] %s nsid %u lba %llu count %u: %d\n", (unsigned long long)F.now,
                write ? "nvme_write" : "nvme_read", ns->nsid, (unsigned long long)lba, count, rc);
    if (rc == NVME_OK && !write && !lied && !F.lied &&
        !check_pattern(buf, len, ns->nsid, lba << lbads))
        TRAP("nvme_read returned success without the device's data");
    free(base);
}

/* Asynchronous reads/writes on I/O queue 1.., one by one with
 * nvme_submit_rw or (bit 7 of the op's byte) as one nvme_submit_rw_batch,
 * reaped with nvme_qpair_poll.  Shared (op 2 + 12 v, v odd): every
 * request repeats the first one's LBA range, direction and buffer - two
 * reads of one block into one buffer, or two writes of the same data, are
 * legal in flight together, each with its own mappings. */
static void op_async(bool shared)
{
    const struct nvme_ns_info *ns = pick_ns(wl_u8());
    uint8_t a = wl_u8();
    if (ns == NULL || ns->status != NVME_OK)
        return;
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(F.ctrl);
    unsigned n = 1u + (a & 7u);
    struct iocb cbs[8] = {{0}};
    uint8_t *bases[8] = {0};
    bool submitted[8] = {0};
    bool batch = (a & 0x80u) != 0;
    struct nvme_rw_req reqs[8];
    unsigned batch_flags = 0, sharing = 0;
    uint16_t qid = (uint16_t)(1u + ((a >> 3) & 0x0fu) % (info->io_queues ? info->io_queues : 1u));
    for (unsigned i = 0; i < n; i++) {
        uint8_t c = wl_u8();
        uint32_t count = 1u + (c & 7u);
        if (ns->nsze < count)
            count = 1;
        while (count > 1u && ((size_t)count << ns->lbads) > (2u << 20))
            count >>= 1; /* at most 2 MiB a request (8 of them) */
        uint64_t lba = (uint64_t)c % (ns->nsze - count + 1u);
        size_t len = (size_t)count << ns->lbads;
        uint8_t opc = (c & 0x80u) ? NVME_CMD_WRITE : NVME_CMD_READ;
        uint8_t *buf;
        if (shared && i > 0) {
            count = reqs[0].count;
            lba = reqs[0].lba;
            len = cbs[0].len;
            opc = reqs[0].opc;
            buf = cbs[0].buf;
        } else {
            buf = buf_alloc(len, (c >> 4) * 256u, &bases[i]);
        }
        unsigned flags = (c & 0x08u) ? NVME_SUBMIT_NO_DOORBELL : 0;
        cbs[i].buf = buf;
        cbs[i].len = len;
        cbs[i].sharing = shared ? &sharing : NULL;
        reqs[i] = (struct nvme_rw_req){
            .lba = lba, .buf = buf, .cb = io_cb, .arg = &cbs[i], .count = count, .opc = opc};
        if (shared)
            sharing++; /* before the call: its callback may run inside it */
        if (batch) {
            batch_flags |= flags;
            continue;
        }
        int rc = nvme_submit_rw(F.ctrl, qid, opc, ns->nsid, lba, count, buf, flags, io_cb, &cbs[i]);
        submitted[i] = rc == NVME_OK;
        if (rc != NVME_OK && shared)
            sharing--;
        if (rc != NVME_OK && cbs[i].calls != 0)
            TRAP("nvme_submit_rw failed but ran the callback");
    }
    if (batch) {
        unsigned in = 99;
        int rc = nvme_submit_rw_batch(F.ctrl, qid, ns->nsid, reqs, n, batch_flags, &in);
        if ((rc == NVME_OK) != (in == n) || in > n)
            TRAP("nvme_submit_rw_batch: its result and the count it gave disagree");
        for (unsigned i = 0; i < n; i++) {
            submitted[i] = i < in;
            if (i >= in && shared)
                sharing--;
            if (i >= in && cbs[i].calls != 0)
                TRAP("nvme_submit_rw_batch refused a request but ran its callback");
        }
    }
    nvme_qpair_ring(F.ctrl, qid);
    /* Rule 3: every command ends (completion, timeout, reset or gone). */
    for (unsigned iter = 0;; iter++) {
        bool all = true;
        for (unsigned i = 0; i < n; i++)
            if (submitted[i] && cbs[i].calls == 0)
                all = false;
        if (all)
            break;
        if (iter > 200000)
            TRAP("an nvme_submit_rw command never ended (no completion, no timeout)");
        int rc = nvme_qpair_poll(F.ctrl, qid, (unsigned)(iter & 3u));
        (void)rc;
        o_sleep_us(NULL, 100);
    }
    for (unsigned i = 0; i < n; i++)
        free(bases[i]);
}

static void op_log_page(void)
{
    uint8_t lid = wl_u8(), l = wl_u8();
    uint32_t len = ((uint32_t)l * 16u + 4u) & ~3u;
    if (len > 4096)
        len = 4096;
    uint8_t *b = malloc(len);
    (void)nvme_get_log_page(F.ctrl, lid % 4u, NVME_NSID_ALL, b, len);
    free(b);
}

/* Copy: up to 4 small source ranges in the namespace's first half to its
 * second, on whatever limits the device's Identify Namespace gave (a range
 * reaching the destination is refused before anything is sent). */
static void op_copy(void)
{
    const struct nvme_ns_info *ns = pick_ns(wl_u8());
    struct nvme_copy_src src[4];
    unsigned nr = 1u + wl_u8() % 4u;
    uint64_t half = ns != NULL && ns->nsze >= 64u ? ns->nsze / 2u : 32u;
    for (unsigned i = 0; i < nr; i++) {
        src[i].lba = ((uint64_t)wl_u8() * 8u) % half;
        src[i].count = 1u + wl_u8() % 16u;
    }
    if (ns != NULL)
        (void)nvme_copy(F.ctrl, ns->nsid, half + wl_u8() % (half / 2u), src, nr, 0);
}

static void op_identify(void)
{
    uint8_t c = wl_u8(), n = wl_u8();
    uint8_t *b = malloc(4096);
    (void)nvme_identify(F.ctrl, c % 3u, n, b);
    free(b);
}

/* Further admin reads: the Identify variants and their parsing. */
static void op_identify_more(void)
{
    uint8_t c = wl_u8(), n = wl_u8();
    const struct nvme_ns_info *ns = pick_ns(n);
    uint32_t nsid = ns != NULL ? ns->nsid : 1u + n;
    unsigned count = 0;
    switch (c % 9u) {
    case 0: {
        struct nvme_ctrl_identify *id = malloc(sizeof(*id));
        (void)nvme_identify_ctrl(F.ctrl, id);
        free(id);
        break;
    }
    case 1: {
        struct nvme_ns_identify *id = malloc(sizeof(*id));
        if (c & 0x20u) /* CNS 11h: allocated, attached or not */
            (void)nvme_identify_ns_allocated(F.ctrl, nsid, id);
        else
            (void)nvme_identify_ns(F.ctrl, nsid, id);
        free(id);
        break;
    }
    case 2: {
        struct nvme_ns_ids ids;
        (void)nvme_identify_ns_descs(F.ctrl, nsid, &ids);
        break;
    }
    case 3:
    case 4: {
        uint32_t *list = malloc(1024 * sizeof(*list));
        unsigned max = 1u + (unsigned)(c >> 4) * 64u;
        if (c % 9u == 3)
            (void)nvme_identify_active_ns(F.ctrl, n, list, max, &count);
        else
            (void)nvme_identify_allocated_ns(F.ctrl, n, list, max, &count);
        if (count > max)
            TRAP("namespace list: more NSIDs than asked for");
        free(list);
        break;
    }
    case 5: {
        uint32_t *list = malloc(1024 * sizeof(*list));
        unsigned max = 1u + (unsigned)(c >> 4) * 64u;
        (void)nvme_identify_ns_list_csi(F.ctrl, (uint8_t)(n % 3u), (c & 0x10u) != 0, 0, list, max,
                                        &count);
        if (count > max)
            TRAP("namespace list: more NSIDs than asked for");
        free(list);
        break;
    }
    case 6: {
        uint16_t ids[2048];
        unsigned max = 1u + (unsigned)(c >> 4) * 128u;
        (void)nvme_identify_ctrl_list(F.ctrl, (c & 0x10u) ? nsid : 0, n, ids, max, &count);
        if (count > max)
            TRAP("controller list: more IDs than asked for");
        break;
    }
    case 7: {
        uint64_t vec[512];
        unsigned max = 1u + (unsigned)(c >> 4) * 32u;
        (void)nvme_identify_iocs(F.ctrl, vec, max, &count);
        if (count > max)
            TRAP("I/O command set list: more vectors than asked for");
        break;
    }
    default: {
        uint8_t *b = malloc(4096);
        (void)nvme_identify_cs(F.ctrl, (c & 0x10u) ? NVME_CNS_CS_CTRL : NVME_CNS_CS_NS, nsid,
                               (uint8_t)(n % 3u), b);
        free(b);
        break;
    }
    }
}

/* Log pages: the typed ones, and nvme_get_log with an offset and a length
 * that MDTS splits. */
static void op_logs(void)
{
    uint8_t c = wl_u8(), l = wl_u8();
    switch (c % 7u) {
    case 0: {
        struct nvme_error_log_entry e[4];
        (void)nvme_get_error_log(F.ctrl, e, 1u + l % 4u);
        break;
    }
    case 1: {
        struct nvme_fw_slot_log f;
        (void)nvme_get_fw_slot_log(F.ctrl, &f);
        break;
    }
    case 2: {
        uint32_t *list = malloc(1024 * sizeof(*list));
        (void)nvme_get_changed_ns_log(F.ctrl, list);
        free(list);
        break;
    }
    case 3: {
        struct nvme_effects_log *e = malloc(sizeof(*e));
        (void)nvme_get_effects_log(F.ctrl, (uint8_t)(l % 3u), e);
        free(e);
        break;
    }
    case 4: {
        struct nvme_self_test_log t;
        (void)nvme_get_self_test_log(F.ctrl, &t);
        break;
    }
    case 5: {
        struct nvme_sanitize_log z;
        (void)nvme_get_sanitize_log(F.ctrl, &z);
        break;
    }
    default: {
        uint32_t len = 4u + (uint32_t)l * 4u * ((c & 0x80u) ? 97u : 1u);
        uint8_t *b = malloc(len);
        struct nvme_log_args a = {.lid = (uint8_t)(1u + (c >> 3) % 7u),
                                  .lsp = (uint8_t)(c >> 5),
                                  .nsid = NVME_NSID_ALL,
                                  .offset = (uint64_t)(c & 0x40u) * 4u,
                                  .rae = (c & 0x08u) != 0,
                                  .buf = b,
                                  .len = len};
        (void)nvme_get_log(F.ctrl, &a);
        free(b);
        break;
    }
    }
}

/* Features with select, save and data structures. */
static void op_features(void)
{
    static const uint8_t fids[] = {
        NVME_FEAT_ARBITRATION,    NVME_FEAT_POWER_MGMT,   NVME_FEAT_TEMP_THRESH,
        NVME_FEAT_ERROR_RECOVERY, NVME_FEAT_VOLATILE_WC,  NVME_FEAT_IRQ_COALESCE,
        NVME_FEAT_ASYNC_EVENT,    NVME_FEAT_APST,         NVME_FEAT_TIMESTAMP,
        NVME_FEAT_HOST_BEHAVIOR,  NVME_FEAT_IOCS_PROFILE, NVME_FEAT_HOST_ID,
        NVME_FEAT_LBA_RANGE,      NVME_FEAT_HOST_MEM_BUF, 0xc1};
    uint8_t c = wl_u8(), v = wl_u8();
    uint8_t fid = fids[c % sizeof(fids)];
    uint32_t cdw11 = (uint32_t)v * 0x01010101u;
    uint32_t len = nvme_feature_data_len(fid);
    uint8_t *data = len ? malloc(len) : NULL;
    uint32_t dw0 = 0;
    if (data != NULL)
        memset(data, v, len);
    if (c & 0x80u) {
        (void)nvme_set_feature(F.ctrl, fid, (c & 0x40u) ? 1u : 0u, cdw11, v, (c & 0x20u) != 0, data,
                               len, &dw0);
    } else {
        (void)nvme_get_feature(F.ctrl, fid, (c & 0x40u) ? 1u : 0u, (c >> 4) & 3u, cdw11, data, len,
                               &dw0);
        if (fid == NVME_FEAT_TIMESTAMP && data != NULL)
            (void)nvme_timestamp_ms(data);
    }
    free(data);
}

/* "To the end" from lba, at most 2^18 blocks: a namespace the device says
 * has 2^64 blocks would take 2^48 commands, which is what was asked. */
static uint64_t blocks_to_end(uint64_t nsze, uint64_t lba)
{
    return nsze - lba < (1u << 18) ? nsze - lba : (1u << 18);
}

/* Dataset Management, Write Zeroes, Verify, Compare. */
static void op_nvm(void)
{
    const struct nvme_ns_info *ns = pick_ns(wl_u8());
    uint8_t c = wl_u8(), b = wl_u8();
    if (ns == NULL)
        return;
    uint64_t nsze = ns->nsze ? ns->nsze : 1u;
    uint64_t lba = (uint64_t)b * 5u % nsze;
    uint32_t count = 1u + (c >> 3);
    uint64_t rest = blocks_to_end(nsze, lba);
    switch (c % 5u) {
    case 0: {
        struct nvme_dsm_range r[4];
        unsigned nr = 1u + b % 4u;
        for (unsigned i = 0; i < nr; i++)
            r[i] = (struct nvme_dsm_range){0, 1u + i, (lba + i * 3u) % nsze};
        (void)nvme_dsm(F.ctrl, ns->nsid, NVME_DSM_AD | (c & 0x08u ? NVME_DSM_IDR : 0u), r, nr);
        break;
    }
    case 1:
        (void)nvme_deallocate(F.ctrl, ns->nsid, lba, (c & 0x80u) ? rest : count);
        break;
    case 2:
        (void)nvme_write_zeroes(F.ctrl, ns->nsid, lba, (c & 0x80u) ? rest : count,
                                (b & 0x07u) & ~NVME_IO_LR);
        break;
    case 3:
        (void)nvme_verify(F.ctrl, ns->nsid, lba, count, (unsigned)(b & 0x78u));
        break;
    default: {
        if (ns->lba_size == 0 || ns->lba_size > (1u << 20))
            break;
        size_t len = (size_t)count * ns->lba_size;
        uint8_t *base, *buf = buf_alloc(len, (b & 3u) * 512u, &base);
        memset(buf, 0, len);
        (void)nvme_compare(F.ctrl, ns->nsid, lba, count, buf);
        handed_back(buf, len, "nvme_compare returned while the device still owns the buffer");
        free(base);
        break;
    }
    }
}

/* Read/Write with flags and metadata buffers sized by the core's own
 * helpers. */
static void op_ext(void)
{
    const struct nvme_ns_info *ns = pick_ns(wl_u8());
    uint8_t c = wl_u8(), b = wl_u8();
    if (ns == NULL)
        return;
    uint32_t count = 1u + (c & 7u);
    uint64_t lba = ns->nsze > count ? (uint64_t)b % (ns->nsze - count + 1u) : 0;
    uint64_t dlen = nvme_ns_data_bytes(ns, count), mlen = nvme_ns_md_bytes(ns, count);
    if (dlen == 0 || dlen > (8u << 20) || mlen > (1u << 20))
        return;
    uint8_t *base, *buf = buf_alloc(dlen, 0, &base);
    uint8_t *md = mlen ? malloc(mlen) : NULL;
    memset(buf, 0x5a, dlen);
    if (md != NULL)
        memset(md, 0, mlen);
    unsigned flags = (unsigned)(b & 0x7bu);
    if (c & 0x80u)
        (void)nvme_write_ext(F.ctrl, ns->nsid, lba, count, buf, (c & 0x40u) ? NULL : md, flags);
    else
        (void)nvme_read_ext(F.ctrl, ns->nsid, lba, count, buf, (c & 0x40u) ? NULL : md, flags);
    handed_back(buf, dlen,
                "nvme_read_ext/_write_ext returned while the device still owns the buffer");
    free(md);
    free(base);
}

/* Zoned commands: refused on the NVM namespaces, run on a zoned one. */
static void op_zns(void)
{
    const struct nvme_ns_info *ns = pick_ns(wl_u8());
    uint8_t c = wl_u8(), b = wl_u8();
    if (ns == NULL)
        return;
    uint64_t lba = ns->nsze ? (uint64_t)b * 16u % ns->nsze : 0;
    switch (c % 3u) {
    case 0: {
        struct nvme_zone_desc *z = malloc(64 * sizeof(*z));
        unsigned count = 0, max = 1u + (c >> 2) % 64u;
        (void)nvme_zns_report(F.ctrl, ns->nsid, lba, z, max, &count);
        if (count > max)
            TRAP("nvme_zns_report: more zones than asked for");
        free(z);
        break;
    }
    case 1:
        (void)nvme_zns_mgmt_send(F.ctrl, ns->nsid, lba, (uint8_t)(1u + (c >> 2) % 5u),
                                 (c & 0x80u) != 0);
        break;
    default: {
        if (ns->lba_size == 0 || ns->lba_size > (1u << 20))
            break;
        uint32_t count = 1u + (c >> 5);
        size_t len = (size_t)count * ns->lba_size;
        uint8_t *base, *buf = buf_alloc(len, 0, &base);
        memset(buf, 0, len);
        uint64_t where = 0;
        (void)nvme_zns_append(F.ctrl, ns->nsid, lba, count, buf, &where);
        handed_back(buf, len, "nvme_zns_append returned while the device still owns the buffer");
        free(base);
        break;
    }
    }
}

/* Raw I/O commands through nvme_io_passthru. */
static void op_io_passthru(void)
{
    static const uint8_t opcs[] = {NVME_CMD_READ,    NVME_CMD_WRITE,
                                   NVME_CMD_FLUSH,   NVME_CMD_DSM,
                                   NVME_CMD_COMPARE, NVME_CMD_WRITE_ZEROES,
                                   NVME_CMD_VERIFY,  NVME_CMD_ZONE_MGMT_RECV,
                                   NVME_CMD_COPY,    0x82 /* vendor */};
    const struct nvme_ns_info *ns = pick_ns(wl_u8());
    uint8_t c = wl_u8(), b = wl_u8();
    if (ns == NULL || ns->lba_size == 0 || ns->lba_size > (1u << 20))
        return;
    struct nvme_sqe sqe;
    memset(&sqe, 0, sizeof(sqe));
    sqe.opc = opcs[c % sizeof(opcs)];
    sqe.nsid = ns->nsid;
    sqe.cdw10 = b % 8u;
    sqe.cdw12 = (uint32_t)(c >> 4) % 4u;
    uint32_t len = (uint32_t)(1u + (b >> 3) % 4u) * ns->lba_size;
    if (c & 0x08u)
        len = 0;
    uint8_t *base, *buf = len ? buf_alloc(len, 0, &base) : NULL;
    if (buf != NULL)
        memset(buf, 0, len);
    uint32_t dw0 = 0;
    enum nvme_dma_dir dir = (sqe.opc & 2u) ? NVME_DMA_FROM_DEVICE : NVME_DMA_TO_DEVICE;
    int rc = nvme_io_passthru(F.ctrl, &sqe, buf, len, dir, &dw0);
    if (log_on())
        fprintf(stderr, "[%llu] nvme_io_passthru opc %02x nsid %u blocks %u, %u-byte buffer: %d\n",
                (unsigned long long)F.now, sqe.opc, sqe.nsid, sqe.cdw12 + 1u, len, rc);
    if (buf != NULL) {
        handed_back(buf, len, "nvme_io_passthru returned while the device still owns the buffer");
        free(base);
    }
}

/* Management: format, self-test, sanitize, firmware, namespaces, NSSR. */
static void op_mgmt(void)
{
    uint8_t c = wl_u8(), b = wl_u8();
    const struct nvme_ns_info *ns = pick_ns(b);
    uint32_t nsid = ns != NULL ? ns->nsid : NVME_NSID_ALL;
    uint32_t confirm = (b & 0x80u) ? 0 : NVME_CONFIRM_DESTROY;
    switch (c % 9u) {
    case 0: {
        struct nvme_format_args a = {.nsid = (c & 0x10u) ? NVME_NSID_ALL : nsid,
                                     .lbaf = (uint8_t)((c >> 5) & 1u)};
        (void)nvme_format(F.ctrl, &a, confirm);
        break;
    }
    case 1:
        (void)nvme_device_self_test(F.ctrl, (c & 0x10u) ? 0 : nsid,
                                    (c & 0x20u) ? NVME_DST_ABORT : NVME_DST_SHORT);
        break;
    case 2: {
        struct nvme_sanitize_args a = {.action = (uint8_t)(1u + (c >> 4) % 4u)};
        (void)nvme_sanitize(F.ctrl, &a, confirm);
        break;
    }
    case 3: {
        uint32_t len = 4u + (uint32_t)(b & 0x7fu) * 512u;
        uint8_t *img = calloc(1, len);
        (void)nvme_fw_download(F.ctrl, (uint32_t)(c >> 4) * 4096u, img, len);
        free(img);
        break;
    }
    case 4: {
        uint32_t dw0;
        (void)nvme_fw_commit(F.ctrl, (uint8_t)(b & 7u), (uint8_t)((c >> 4) & 3u), false, &dw0);
        break;
    }
    case 5: {
        struct nvme_ns_create_args a = {.nsze = 64u + b, .flbas = (uint8_t)((c >> 4) & 1u)};
        uint32_t id = 0;
        (void)nvme_ns_create(F.ctrl, &a, &id);
        break;
    }
    case 6:
        (void)nvme_ns_delete(F.ctrl, (c & 0x10u) ? NVME_NSID_ALL : nsid, confirm);
        break;
    case 7: {
        uint16_t ids[2] = {1, (uint16_t)b};
        (void)nvme_ns_attach(F.ctrl, nsid, (c & 0x10u) != 0, ids, (c >> 5) % 3u);
        break;
    }
    default:
        (void)nvme_subsystem_reset(F.ctrl, confirm);
        break;
    }
}

/* Write Uncorrectable (NVM CS §3.2.7; ONCS bit 1 offered): a few blocks,
 * or to the end (at most 2^18 blocks), in commands within WUSL. */
static void op_write_uncorrectable(void)
{
    const struct nvme_ns_info *ns = pick_ns(wl_u8());
    uint8_t c = wl_u8(), b = wl_u8();
    if (ns == NULL)
        return;
    uint64_t nsze = ns->nsze ? ns->nsze : 1u;
    uint64_t lba = (uint64_t)b * 7u % nsze;
    (void)nvme_write_uncorrectable(F.ctrl, ns->nsid, lba,
                                   (c & 0x80u) ? blocks_to_end(nsze, lba) : 1u + (c & 0x7fu));
}

/* op 4 + 12 v (v >= 1): a blocking call of many commands: nvme_read,
 * nvme_write (pieces at MDTS, a queue's depth at a time), nvme_read_ext /
 * _write_ext (one piece at a time), op_nvm's calls, Write Uncorrectable;
 * with v odd, while another CPU rescans (side_call) after the device has
 * posted 1 + (s & 7) more I/O completions. */
static void op_side(unsigned v)
{
    uint8_t s = wl_u8();
    if (v & 1u) {
        F.side_armed = true;
        F.side_how = s;
        F.side_at = F.io_posts + 1u + (s & 7u);
    }
    switch ((v - 1u) / 2u % 5u) {
    case 0:
        op_rw(false);
        break;
    case 1:
        op_rw(true);
        break;
    case 2:
        op_ext();
        break;
    case 3:
        op_nvm();
        break;
    default:
        op_write_uncorrectable();
        break;
    }
    F.side_armed = false;
}

/* The small accessors: counters, trace mask, queue choice, read-only. */
static void op_misc(void)
{
    uint8_t c = wl_u8();
    (void)nvme_ctrl_get_stats(F.ctrl);
    (void)nvme_ctrl_irq_count(F.ctrl);
    (void)nvme_ctrl_cpu_qid(F.ctrl, c);
    (void)nvme_ctrl_css(F.ctrl);
    nvme_ctrl_set_trace(F.ctrl, (c & 1u) ? 0xffu : 0u);
    if (c & 4u) /* every namespace: one broadcast command (VWC bits 2:1 11b) or one each */
        (void)nvme_flush(F.ctrl, NVME_NSID_ALL);
    const struct nvme_ns_info *ns = pick_ns(c);
    if (ns != NULL)
        (void)nvme_ns_set_read_only(F.ctrl, ns->nsid, (c & 2u) != 0);
}

static void run_workload(void)
{
    unsigned nops = 4u + (F.h[FH_MISC] & 7u);
    for (unsigned i = 0; i < nops; i++) {
        uint8_t op = wl_more() ? wl_u8() : (uint8_t)i;
        switch (op % 12u) {
        case 0:
            op_rw(false);
            break;
        case 1:
            op_rw(true);
            break;
        case 2:
            op_async((op / 12u) & 1u); /* 0 in the seeds but one: own buffers */
            break;
        case 3: {
            if ((op / 12u) & 1u) { /* 0 in the seeds: Flush */
                op_copy();
                break;
            }
            const struct nvme_ns_info *ns = pick_ns(wl_u8());
            if (ns != NULL) {
                int rc = nvme_flush(F.ctrl, ns->nsid);
                if (log_on())
                    fprintf(stderr, "[%llu] nvme_flush nsid %u: %d\n", (unsigned long long)F.now,
                            ns->nsid, rc);
            }
            break;
        }
        case 4:
            if (op >= 12u) { /* 0 in the seeds: rescan */
                op_side(op / 12u);
                break;
            }
            (void)nvme_ns_rescan(F.ctrl);
            break;
        case 5: {
            struct nvme_smart_log log;
            (void)nvme_get_smart_log(F.ctrl, &log);
            break;
        }
        case 6:
            op_log_page();
            break;
        case 7:
            op_identify();
            break;
        case 8:
            (void)nvme_ctrl_reset(F.ctrl);
            break;
        case 9: {
            uint32_t dw0;
            unsigned v = op / 12u; /* 0 in the seeds: Get Features */
            if (v & 1u) {          /* a vendor command sent raw, with its logged effects */
                struct nvme_sqe sqe;
                memset(&sqe, 0, sizeof(sqe));
                sqe.opc = (uint8_t)(0xc0u | (v >> 1));
                sqe.nsid = NVME_NSID_ALL;
                (void)nvme_admin_passthru(F.ctrl, &sqe, NULL, 0, NVME_DMA_TO_DEVICE, &dw0);
            } else {
                (void)nvme_get_features(F.ctrl, NVME_FEAT_VOLATILE_WC, 0, &dw0);
            }
            break;
        }
        case 10:
            /* Diagnostics: an all-ones CSTS read here is not the core's
             * own look, so it does not arm the "no write after gone" check. */
            F.diag_read = true;
            (void)nvme_ctrl_is_ready(F.ctrl);
            (void)nvme_ctrl_read_csts(F.ctrl);
            if ((op / 12u) & 1u) { /* 0 in the seeds; else every register (show-regs) */
                struct nvme_ctrl_regs r;
                int rc = nvme_ctrl_regs_read(F.ctrl, &r);
                /* CAP changes only at a CC write, CC only by the host. */
                if (rc == NVME_OK && (r.cap != F.cap || r.vs != F.vs || r.cc != F.cc))
                    TRAP("nvme_ctrl_regs_read: CAP, VS or CC other than the device holds");
                if (rc != NVME_OK && rc != NVME_ERR_GONE)
                    TRAP("nvme_ctrl_regs_read: neither success nor device gone");
            }
            F.diag_read = false;
            break;
        default:
            /* op / 12 > 0: the calls beyond the basic I/O path, where the
             * device's answers are parsed (identify.c, mgmt.c, nvm_cmds.c). */
            switch (op / 12u % 10u) {
            case 1:
                op_identify_more();
                goto next;
            case 2:
                op_logs();
                goto next;
            case 3:
                op_features();
                goto next;
            case 4:
                op_nvm();
                goto next;
            case 5:
                op_ext();
                goto next;
            case 6:
                op_zns();
                goto next;
            case 7:
                op_io_passthru();
                goto next;
            case 8:
                op_mgmt();
                goto next;
            case 9:
                op_misc();
                goto next;
            default:
                break;
            }
            /* The periodic service call (events, deadlines, CSTS), the
             * counters, and a read of a namespace that is not there. */
            (void)nvme_ctrl_service(F.ctrl);
            (void)nvme_ctrl_get_stats(F.ctrl);
            (void)nvme_ns_generation(F.ctrl);
            {
                uint8_t b[512];
                (void)nvme_read(F.ctrl, 0xfffffff0u, 0, 1, b);
            }
            break;
        }
    next:
        check_ns_table();
        o_sleep_us(NULL, 200); /* the OS does other things between calls */
        if (log_on())
            fprintf(stderr, "[%llu] op %u (%u, byte %u) done\n", (unsigned long long)F.now, i,
                    op % 12u, op);
    }
}

/* ------------------------------------------------------------------ */
/* One input                                                           */
/* ------------------------------------------------------------------ */

static void setup(const uint8_t *data, size_t size)
{
    struct region *allocs = F.allocs, *maps = F.maps;
    size_t ca = F.cap_allocs, cm = F.cap_maps;
    memset(&F, 0, sizeof(F));
    F.allocs = allocs;
    F.maps = maps;
    F.cap_allocs = ca;
    F.cap_maps = cm;
    F.lax = g_lax;
    F.in = data;
    F.n = size;
    F.back = size;
    F.dev_end = size;
    for (int i = 0; i < FH_SIZE; i++)
        F.h[i] = dev_u8();
    size_t wl = F.h[FH_WL_LEN];
    F.dev_end = size - (wl < size - F.front ? wl : size - F.front);
    F.now = 1000;
    F.bme = true;

    uint8_t r = F.h[FH_REGS];
    if (r >= 0xe0) {
        F.cap = (uint64_t)dev_u32() | ((uint64_t)dev_u32() << 32);
        F.vs = dev_u32();
    } else {
        uint64_t mqes = F.h[FH_MQES] ? F.h[FH_MQES] : 63u;
        F.cap = mqes | (1ull << 16) /* CQR */ | ((uint64_t)(1u + (r & 3u)) << 24) |
                ((uint64_t)((r >> 2) & 3u) << 32) | (1ull << 37) /* CSS NVM */ |
                ((uint64_t)((r & 0x10u) ? 4u : 0u) << 52);
        F.vs = (r & 0x20u) ? NVME_VS(1, 0, 0) : NVME_VS(1, 4, 0);
    }
    F.dstrd = NVME_CAP_DSTRD(F.cap);

    uint8_t f = F.h[FH_FAULTS];
    if (f >= 0x80) {
        F.never_ready = f & 1u;
        F.never_stops = (f >> 1) & 1u;
        F.shn_never = (f >> 2) & 1u;
        F.gone = (f >> 3) & 1u;
        F.cfs = (f >> 4) & 1u;
    }
    if (F.h[FH_OPTS] & 1u) { /* left enabled by firmware */
        F.cc = NVME_CC_EN;
        F.csts = F.never_ready ? 0 : NVME_CSTS_RDY;
        F.aqa = 0x001f001f; /* firmware's own admin queue: never used by the fake */
    }
    if (F.cfs)
        F.csts |= NVME_CSTS_CFS;
    F.fault_at = (uint64_t)F.h[FH_FAULT_AT_LO] | (uint64_t)F.h[FH_FAULT_AT_HI] << 8;
    if (F.fault_at)
        F.fault_at += F.now;
    F.fault_kind = F.h[FH_FAULT_KIND] & 3;
    if ((F.h[FH_FAULT_KIND] >> 5) == 2u) {
        F.mqes0 = (uint16_t)NVME_CAP_MQES(F.cap);
        F.mqes_alt = (uint16_t)(1u + ((F.h[FH_FAULT_KIND] >> 2) & 7u));
        if (F.mqes_alt == F.mqes0)
            F.mqes_alt = 0; /* nothing would change */
    }

    uint8_t ns = F.h[FH_NS];
    if (ns != 0xff) {
        F.nr_ns = 1u + (ns & 3u);
        uint32_t step = 1u + ((ns >> 2) & 3u);
        for (unsigned i = 0; i < F.nr_ns; i++) {
            F.nsid[i] = 1u + i * step;
            F.lbads[i] = (ns >> (4 + i)) & 1u ? 12 : 9;
        }
    }
    F.nsze = 64ull << (F.h[FH_NSZE] & 7u);
}

static void check_after_fini(void)
{
    if (F.nallocs != 0)
        TRAP("dma_alloc'd memory not freed by nvme_ctrl_fini / failed init");
    if (F.nmaps != 0 && !F.lax) /* lax: a lifecycle bug may leave orphans mapped */
        TRAP("dma_map'ed buffer never unmapped");
    F.nmaps = 0;
    if (F.mem_count != 0 || F.mem_bytes != 0)
        TRAP("mem_alloc'd memory not freed");
}

static struct nvme_osal make_osal(void)
{
    struct nvme_osal o;
    memset(&o, 0, sizeof(o));
    o.mmio_read32 = o_read32;
    o.mmio_write32 = o_write32;
    if (F.h[FH_OPTS] & 2u) {
        o.mmio_read64 = o_read64;
        o.mmio_write64 = o_write64;
    }
    o.dma_alloc = o_dma_alloc;
    o.dma_free = o_dma_free;
    o.dma_map = o_dma_map;
    o.dma_unmap = o_dma_unmap; /* always: the map table must balance */
    o.mem_alloc = o_mem_alloc;
    o.mem_free = o_mem_free;
    o.now_us = o_now_us;
    o.sleep_us = o_sleep_us;
    o.log = o_log;
    if (F.h[FH_OPTS] & 4u)
        o.dma_stop = o_dma_stop;
    if (F.h[FH_OPTS] & 8u) {
        o.irq_setup = o_irq_setup;
        o.irq_teardown = o_irq_teardown;
    }
    if (F.h[FH_OPTS] & 0x20u) {
        o.wait = o_wait;
        o.wake = o_wake;
    }
    /* locks: NULL (one thread; interrupts arrive only while it sleeps). */
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup(data, size);
    struct nvme_osal osal = make_osal();
    F.ops_dma_stop = osal.dma_stop != NULL;

    struct nvme_ctrl_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.pci_vendor = 0x1b36;
    opts.pci_device = 0x0010;
    opts.io_queues = (uint16_t)(1u + (F.h[FH_QUEUES] & 3u));
    opts.io_queue_entries = (uint16_t)((F.h[FH_QUEUES] >> 2) ? 1u + (F.h[FH_QUEUES] >> 2) : 16u);
    opts.admin_queue_entries = (F.h[FH_MISC] & 0x80u) ? 4 : 0;
    opts.command_timeout_ms = 20;
    opts.admin_timeout_ms = 40;
    opts.long_admin_timeout_ms = 80;
    opts.abort_timeout_ms = 10;
    opts.max_retries = (uint8_t)(F.h[FH_CRDT] >> 2);
    opts.polling = false; /* interrupts when FH_OPTS offers irq_setup */
    opts.no_async_events = (F.h[FH_MISC] & 0x40u) != 0;
    opts.trace = (F.h[FH_MISC] & 0x20u) ? 0xffu : 0; /* formats what the device returned */

    struct nvme_ctrl *ctrl = NULL;
    int rc = nvme_ctrl_init(&ctrl, &osal, &opts);
    if (log_on())
        fprintf(stderr, "[%llu] nvme_ctrl_init: %d, %u namespaces, page %u\n",
                (unsigned long long)F.now, rc, rc == NVME_OK ? nvme_ns_count(ctrl) : 0u, dev_ps());
    for (unsigned i = 0; log_on() && rc == NVME_OK && i < nvme_ns_count(ctrl) && i < 8u; i++) {
        const struct nvme_ns_info *ns = nvme_ns_at(ctrl, i);
        if (ns != NULL) /* what the seeds' reach markers look for */
            fprintf(stderr,
                    "[%llu] namespace %u: status %d, %u-byte blocks, nsze %llu, ms %u%s, pi %u\n",
                    (unsigned long long)F.now, ns->nsid, ns->status, ns->lba_size,
                    (unsigned long long)ns->nsze, ns->ms, ns->md_extended ? " extended" : "",
                    ns->pi_type);
    }
    if (log_on() && rc == NVME_OK && ctrl != NULL) {
        /* The core's reading of the registers and Identify Controller:
         * the limits and clamps the seeds' reach markers look for. */
        const struct nvme_ctrl_info *in = nvme_ctrl_get_info(ctrl);
        fprintf(stderr,
                "[%llu] ctrl_info: doorbell stride %u, admin %u entries, mdts %u bytes (log2 %u "
                "reported), nn %u, shutdown timeout %u ms, enabled at start %d\n",
                (unsigned long long)F.now, in->doorbell_stride, in->admin_queue_entries,
                in->mdts_bytes, in->mdts_log2, in->nn, in->shutdown_timeout_ms,
                in->enabled_at_start ? 1 : 0);
    }
    if (rc == NVME_OK) {
        if (ctrl == NULL)
            TRAP("nvme_ctrl_init succeeded without a controller");
        F.ctrl = ctrl;
        check_ns_table();
        FUZZ_WORKLOAD();
        F.ctrl = NULL;
        /* A device that never finishes its shutdown notification (or
         * vanishes during it) is told apart: freed all the same. */
        int frc = nvme_ctrl_fini(ctrl);
        if (log_on())
            fprintf(stderr, "[%llu] nvme_ctrl_fini: %d\n", (unsigned long long)F.now, frc);
        if (frc != NVME_OK && frc != NVME_ERR_TIMEOUT && frc != NVME_ERR_GONE)
            TRAP("nvme_ctrl_fini failed");
    } else if (ctrl != NULL) {
        TRAP("nvme_ctrl_init failed but returned a controller");
    }
    check_after_fini();
    dev_drop_all();
    return 0;
}

#ifdef NVME_FUZZ_STANDALONE
#include <dirent.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */
    memcpy(copy, buf, n);
    (void)LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    g_lax = getenv("NVME_FUZZ_LAX") != NULL && getenv("NVME_FUZZ_LAX")[0] == '1';
    unsigned runs = 0;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad |= run_file(argv[i]);
            runs++;
            continue;
        }
        /* Every file of the directory, however many (a scratch corpus of a
         * campaign holds thousands): a replay that skipped some would say
         * "crashes=0" about inputs it never ran. */
        DIR *d = opendir(argv[i]);
        if (d == NULL) {
            perror(argv[i]);
            return 1;
        }
        char **names = NULL;
        size_t nn = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            if (nn == cap) {
                cap = cap != 0 ? 2 * cap : 256;
                names = realloc(names, cap * sizeof(*names));
                if (names == NULL) {
                    perror("realloc");
                    return 1;
                }
            }
            names[nn++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, nn, sizeof(names[0]), cmp_str);
        for (size_t k = 0; k < nn; k++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]);
            if (getenv("NVME_FUZZ_VERBOSE"))
                fprintf(stderr, "%s\n", path);
            bad |= run_file(path);
            runs++;
            free(names[k]);
        }
        free(names);
    }
    printf("fuzz: replayed %u inputs, crashes=0\n", runs);
    return bad;
}
#else
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_lax = getenv("NVME_FUZZ_LAX") != NULL && getenv("NVME_FUZZ_LAX")[0] == '1';
    return 0;
}
#endif
