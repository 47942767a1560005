/* SPDX-License-Identifier: MIT */
/*
 * sim_selftest.c - checks the simulated controller on its own, with a
 * tiny register-level host written here (no core), then a few smoke runs
 * of the real core against unusual simulator configurations.
 *
 * Given a simulated controller with these properties, doing this through
 * the OSAL returns that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/nvme.h>

#include "nvme_sim.h"

static int failures;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

/* --- A minimal host ------------------------------------------------------- */

struct hq {
    struct nvme_sqe *sq;
    struct nvme_cqe *cq;
    uint64_t sqb, cqb;
    uint16_t qid, n, tail, head;
    uint8_t phase;
};

struct host {
    struct nvme_sim *sim;
    struct nvme_osal o;
    struct hq aq, ioq;
    uint16_t cid;
    uint32_t dstrd;
};

static void hq_alloc(struct host *h, struct hq *q, uint16_t qid, uint16_t n)
{
    memset(q, 0, sizeof(*q));
    q->qid = qid;
    q->n = n;
    q->phase = 1;
    q->sq = h->o.dma_alloc(h->o.ctx, n * 64u, 4096, &q->sqb);
    q->cq = h->o.dma_alloc(h->o.ctx, n * 16u, 4096, &q->cqb);
    memset(q->sq, 0, n * 64u);
    memset(q->cq, 0, n * 16u);
}

static void hq_free(struct host *h, struct hq *q)
{
    h->o.dma_free(h->o.ctx, q->sq, q->n * 64u);
    h->o.dma_free(h->o.ctx, q->cq, q->n * 16u);
}

static uint32_t rd(struct host *h, uint32_t off) { return h->o.mmio_read32(h->o.ctx, off); }
static void wr(struct host *h, uint32_t off, uint32_t v) { h->o.mmio_write32(h->o.ctx, off, v); }

static bool wait_csts(struct host *h, uint32_t mask, uint32_t val, uint32_t max_us)
{
    for (uint32_t t = 0; t <= max_us; t += 100) {
        if ((rd(h, NVME_REG_CSTS) & mask) == val)
            return true;
        h->o.sleep_us(h->o.ctx, 100);
    }
    return false;
}

static bool host_enable(struct host *h, struct nvme_sim *sim)
{
    memset(h, 0, sizeof(*h));
    h->sim = sim;
    nvme_sim_osal(sim, &h->o);
    h->dstrd = NVME_CAP_DSTRD(h->o.mmio_read64(h->o.ctx, NVME_REG_CAP));
    hq_alloc(h, &h->aq, 0, 8);
    wr(h, NVME_REG_AQA, (7u << 16) | 7u);
    h->o.mmio_write64(h->o.ctx, NVME_REG_ASQ, h->aq.sqb);
    h->o.mmio_write64(h->o.ctx, NVME_REG_ACQ, h->aq.cqb);
    wr(h, NVME_REG_CC, NVME_CC_EN | (6u << 16) | (4u << 20));
    return wait_csts(h, NVME_CSTS_RDY, NVME_CSTS_RDY, 100000);
}

static void host_disable(struct host *h)
{
    wr(h, NVME_REG_CC, 0);
    wait_csts(h, NVME_CSTS_RDY, 0, 100000);
    hq_free(h, &h->aq);
}

/* Submit one command and wait (bounded) for its completion: returns the
 * 15-bit status field, or -1 when nothing completed. */
static int host_cmd(struct host *h, struct hq *q, struct nvme_sqe *sqe, struct nvme_cqe *out)
{
    sqe->cid = h->cid++;
    q->sq[q->tail] = *sqe;
    q->tail = (uint16_t)((q->tail + 1) % q->n);
    wr(h, NVME_SQ_TDBL(q->qid, h->dstrd), q->tail);
    for (int i = 0; i < 1000; i++) {
        struct nvme_cqe *c = &q->cq[q->head];
        if (NVME_CQE_PHASE(c->status) == q->phase) {
            if (out)
                *out = *c;
            q->head = (uint16_t)((q->head + 1) % q->n);
            if (!q->head)
                q->phase ^= 1;
            wr(h, NVME_CQ_HDBL(q->qid, h->dstrd), q->head);
            return NVME_CQE_SF(c->status);
        }
        h->o.sleep_us(h->o.ctx, 10);
    }
    return -1;
}

static int admin(struct host *h, uint8_t opc, uint32_t nsid, uint32_t c10, uint32_t c11,
                 uint64_t prp1, uint64_t prp2, uint32_t *dw0)
{
    struct nvme_sqe s = {.opc = opc, .nsid = nsid, .cdw10 = c10, .cdw11 = c11, .prp1 = prp1,
                         .prp2 = prp2};
    struct nvme_cqe c;
    int sf = host_cmd(h, &h->aq, &s, &c);
    if (dw0)
        *dw0 = c.dw0;
    return sf;
}

static int create_ioq(struct host *h, uint16_t qid, uint16_t n)
{
    hq_alloc(h, &h->ioq, qid, n);
    int sf = admin(h, NVME_ADMIN_CREATE_CQ, 0, qid | ((n - 1u) << 16), NVME_CREATE_CQ_PC,
                   h->ioq.cqb, 0, NULL);
    if (sf)
        return sf;
    return admin(h, NVME_ADMIN_CREATE_SQ, 0, qid | ((n - 1u) << 16),
                 NVME_CREATE_SQ_PC | ((uint32_t)qid << 16), h->ioq.sqb, 0, NULL);
}

static int io(struct host *h, uint8_t opc, uint32_t nsid, uint64_t lba, uint32_t nlb,
              uint64_t prp1, uint64_t prp2)
{
    struct nvme_sqe s = {.opc = opc, .nsid = nsid, .cdw10 = (uint32_t)lba,
                         .cdw11 = (uint32_t)(lba >> 32), .cdw12 = nlb - 1, .prp1 = prp1,
                         .prp2 = prp2};
    return host_cmd(h, &h->ioq, &s, NULL);
}

#define GEN(sc) (NVME_SF(NVME_SCT_GENERIC, sc) | NVME_SF_DNR_BIT)
#define CMD(sc) (NVME_SF(NVME_SCT_COMMAND_SPECIFIC, sc) | NVME_SF_DNR_BIT)

/* --- Raw tests ------------------------------------------------------------- */

static void test_registers(void)
{
    struct nvme_sim_config cfg;
    nvme_sim_config_init(&cfg);
    cfg.mqes = 63;
    cfg.dstrd = 1;
    cfg.to = 3;
    cfg.ready_delay_us = 5000;
    struct nvme_sim *sim = nvme_sim_create(&cfg);
    struct host h;
    nvme_sim_osal(sim, &h.o);
    uint64_t cap = h.o.mmio_read64(h.o.ctx, NVME_REG_CAP);
    CHECK(NVME_CAP_MQES(cap) == 63 && NVME_CAP_DSTRD(cap) == 1 && NVME_CAP_TO(cap) == 3);
    CHECK(NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM);
    CHECK(h.o.mmio_read32(h.o.ctx, NVME_REG_VS) == 0x00010400);
    h.o.mmio_write32(h.o.ctx, NVME_REG_VS, 0); /* read only */
    CHECK(h.o.mmio_read32(h.o.ctx, NVME_REG_VS) == 0x00010400);
    uint64_t t0 = h.o.now_us(h.o.ctx);
    CHECK(host_enable(&h, sim));
    uint64_t t1 = h.o.now_us(h.o.ctx);
    CHECK(t1 - t0 >= 5000 && t1 - t0 < 6000); /* ready delay in simulated time */
    wr(&h, NVME_REG_INTMS, 0x5);
    wr(&h, NVME_REG_INTMC, 0x1);
    CHECK(rd(&h, NVME_REG_INTMS) == 0x4);
    /* Shutdown: SHST 01b then 10b. */
    wr(&h, NVME_REG_CC, rd(&h, NVME_REG_CC) | NVME_CC_SHN_NORMAL);
    CHECK((rd(&h, NVME_REG_CSTS) & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_OCCURRING);
    CHECK(wait_csts(&h, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE, 10000));
    host_disable(&h);
    CHECK((rd(&h, NVME_REG_CSTS) & (NVME_CSTS_SHST_MASK | NVME_CSTS_RDY)) == 0);
    CHECK(nvme_sim_reg_writes(sim, NVME_REG_CC) == 3);
    CHECK(nvme_sim_host_errors(sim) == 0 && nvme_sim_dma_violations(sim) == 0);
    CHECK(nvme_sim_dma_live(sim) == 0);
    nvme_sim_destroy(sim);

    /* Bad enable: IOSQES wrong -> never ready, counted as a host error. */
    nvme_sim_config_init(&cfg);
    cfg.quiet = true;
    sim = nvme_sim_create(&cfg);
    nvme_sim_osal(sim, &h.o);
    hq_alloc(&h, &h.aq, 0, 4);
    wr(&h, NVME_REG_AQA, 0x30003);
    h.o.mmio_write64(h.o.ctx, NVME_REG_ASQ, h.aq.sqb);
    h.o.mmio_write64(h.o.ctx, NVME_REG_ACQ, h.aq.cqb);
    wr(&h, NVME_REG_CC, NVME_CC_EN | (4u << 20));
    CHECK(!wait_csts(&h, NVME_CSTS_RDY, NVME_CSTS_RDY, 20000));
    CHECK(nvme_sim_host_errors(sim) == 1);
    hq_free(&h, &h.aq);
    nvme_sim_destroy(sim);

    /* Gone: all ones. */
    nvme_sim_config_init(&cfg);
    cfg.start = NVME_SIM_START_GONE;
    sim = nvme_sim_create(&cfg);
    nvme_sim_osal(sim, &h.o);
    CHECK(h.o.mmio_read32(h.o.ctx, NVME_REG_CSTS) == 0xffffffffu);
    CHECK(h.o.mmio_read64(h.o.ctx, NVME_REG_CAP) == ~0ull);
    nvme_sim_destroy(sim);

    /* Already enabled (SeaBIOS). */
    nvme_sim_config_init(&cfg);
    cfg.start = NVME_SIM_START_ENABLED;
    sim = nvme_sim_create(&cfg);
    nvme_sim_osal(sim, &h.o);
    CHECK(h.o.mmio_read32(h.o.ctx, NVME_REG_CC) & NVME_CC_EN);
    CHECK(h.o.mmio_read32(h.o.ctx, NVME_REG_CSTS) == NVME_CSTS_RDY);
    CHECK(h.o.mmio_read64(h.o.ctx, NVME_REG_ASQ) != 0);
    nvme_sim_destroy(sim);
}

static void test_admin(void)
{
    static const struct nvme_sim_ns_config ns[] = {
        {.nsid = 1, .blocks = 1000, .lba_size = 512},
        {.nsid = 2, .blocks = 100, .lba_size = 4096},
        {.nsid = 4, .blocks = 10, .lba_size = 1024, .corrupt = NVME_SIM_CORRUPT_LBADS,
         .corrupt_lbads = 200},
    };
    struct nvme_sim_config cfg;
    nvme_sim_config_init(&cfg);
    cfg.ns = ns;
    cfg.ns_count = 3;
    cfg.mqes = 31;
    cfg.io_queues = 2;
    cfg.smart.temperature = 310;
    cfg.smart.power_on_hours = (struct nvme_u128){.lo = 5, .hi = 1}; /* > 2^64 */
    struct nvme_sim *sim = nvme_sim_create(&cfg);
    nvme_sim_log_capture(sim, true); /* expected violations below */
    struct host h;
    CHECK(host_enable(&h, sim));
    uint64_t bus;
    uint8_t *buf = h.o.dma_alloc(h.o.ctx, 4096, 4096, &bus);

    CHECK(admin(&h, NVME_ADMIN_IDENTIFY, 0, NVME_CNS_CTRL, 0, bus, 0, NULL) == 0);
    const struct nvme_id_ctrl *idc = (const void *)buf;
    CHECK(idc->nn == 4 && idc->mdts == 5 && idc->sqes == 0x66 && idc->cqes == 0x44);
    CHECK(!memcmp(idc->sn, "SIM0000001          ", 20));
    CHECK(admin(&h, NVME_ADMIN_IDENTIFY, 0, NVME_CNS_ACTIVE_NS_LIST, 0, bus, 0, NULL) == 0);
    const uint32_t *list = (const void *)buf;
    CHECK(list[0] == 1 && list[1] == 2 && list[2] == 4 && list[3] == 0);
    CHECK(admin(&h, NVME_ADMIN_IDENTIFY, 1, NVME_CNS_ACTIVE_NS_LIST, 0, bus, 0, NULL) == 0);
    CHECK(list[0] == 2 && list[1] == 4 && list[2] == 0);
    CHECK(admin(&h, NVME_ADMIN_IDENTIFY, 2, NVME_CNS_NS, 0, bus, 0, NULL) == 0);
    const struct nvme_id_ns *idn = (const void *)buf;
    CHECK(idn->nsze == 100 && idn->lbaf[NVME_FLBAS_INDEX(idn->flbas)].lbads == 12);
    CHECK(admin(&h, NVME_ADMIN_IDENTIFY, 4, NVME_CNS_NS, 0, bus, 0, NULL) == 0);
    CHECK(idn->lbaf[NVME_FLBAS_INDEX(idn->flbas)].lbads == 200);
    CHECK(admin(&h, NVME_ADMIN_IDENTIFY, 3, NVME_CNS_NS, 0, bus, 0, NULL) == 0); /* inactive */
    CHECK(idn->nsze == 0);
    CHECK(admin(&h, NVME_ADMIN_IDENTIFY, 5, NVME_CNS_NS, 0, bus, 0, NULL) == GEN(NVME_SC_INVALID_NS));
    CHECK(admin(&h, NVME_ADMIN_IDENTIFY, 0, 0x55, 0, bus, 0, NULL) == GEN(NVME_SC_INVALID_FIELD));
    CHECK(admin(&h, 0x7f, 0, 0, 0, 0, 0, NULL) == GEN(NVME_SC_INVALID_OPCODE));

    /* Features */
    uint32_t dw0 = 0;
    CHECK(admin(&h, NVME_ADMIN_SET_FEATURES, 0, NVME_FEAT_NUM_QUEUES, 0x00070007, 0, 0, &dw0) == 0);
    CHECK(dw0 == 0x00010001); /* 2 queues, 0-based */
    CHECK(admin(&h, NVME_ADMIN_SET_FEATURES, 0, NVME_FEAT_ARBITRATION, 0x01020304, 0, 0, NULL) == 0);
    CHECK(admin(&h, NVME_ADMIN_GET_FEATURES, 0, NVME_FEAT_ARBITRATION, 0, 0, 0, &dw0) == 0);
    CHECK(dw0 == 0x01020304);
    CHECK(admin(&h, NVME_ADMIN_SET_FEATURES, 0, NVME_FEAT_VOLATILE_WC, 0, 0, 0, NULL) == 0);
    CHECK(admin(&h, NVME_ADMIN_GET_FEATURES, 0, NVME_FEAT_VOLATILE_WC, 0, 0, 0, &dw0) == 0 && dw0 == 0);
    CHECK(admin(&h, NVME_ADMIN_GET_FEATURES, 0, 0x77, 0, 0, 0, NULL) == GEN(NVME_SC_INVALID_FIELD));

    /* Queue creation errors */
    uint64_t qb;
    void *qm = h.o.dma_alloc(h.o.ctx, 64 * 64, 4096, &qb);
    CHECK(admin(&h, NVME_ADMIN_CREATE_CQ, 0, 3 | (7u << 16), 1, qb, 0, NULL) == CMD(NVME_SC_QID_INVALID));
    CHECK(admin(&h, NVME_ADMIN_CREATE_CQ, 0, 1 | (63u << 16), 1, qb, 0, NULL) == CMD(NVME_SC_QUEUE_SIZE));
    CHECK(admin(&h, NVME_ADMIN_CREATE_SQ, 0, 1 | (7u << 16), 1 | (1u << 16), qb, 0, NULL) == CMD(NVME_SC_CQ_INVALID));
    CHECK(admin(&h, NVME_ADMIN_CREATE_CQ, 0, 1 | (7u << 16), 1, qb ^ NVME_SIM_BUS_XOR, 0, NULL) ==
          NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR)); /* virtual address as PRP */
    CHECK(nvme_sim_dma_violations(sim) == 1);
    h.o.dma_free(h.o.ctx, qm, 64 * 64);
    CHECK(create_ioq(&h, 1, 16) == 0);
    CHECK(admin(&h, NVME_ADMIN_SET_FEATURES, 0, NVME_FEAT_NUM_QUEUES, 0, 0, 0, NULL) ==
          GEN(NVME_SC_CMD_SEQ_ERROR));
    CHECK(admin(&h, NVME_ADMIN_DELETE_CQ, 0, 1, 0, 0, 0, NULL) == CMD(NVME_SC_INVALID_QUEUE_DELETION));
    CHECK(nvme_sim_queue_exists(sim, 1, false) && nvme_sim_queue_exists(sim, 1, true));

    /* SMART */
    CHECK(admin(&h, NVME_ADMIN_GET_LOG_PAGE, NVME_NSID_ALL, NVME_LID_SMART | (127u << 16), 0, bus, 0, NULL) == 0);
    const struct nvme_smart_log *sl = (const void *)buf;
    CHECK(sl->composite_temp == 310 && sl->power_on_hours[0] == 5 && sl->power_on_hours[8] == 1);
    memset(buf, 0xee, 4096);
    CHECK(admin(&h, NVME_ADMIN_GET_LOG_PAGE, NVME_NSID_ALL, NVME_LID_SMART | (0u << 16), 0, bus, 0, NULL) == 0);
    CHECK(buf[1] == (310 & 0xff) && buf[4] == 0xee); /* NUMD 0: one dword */
    CHECK(admin(&h, NVME_ADMIN_GET_LOG_PAGE, 0, 0x42 | (127u << 16), 0, bus, 0, NULL) ==
          CMD(NVME_SC_INVALID_LOG_PAGE));
    CHECK(admin(&h, NVME_ADMIN_GET_LOG_PAGE, NVME_NSID_ALL, NVME_LID_ERROR | (15u << 16), 0, bus, 0, NULL) == 0);

    /* I/O: write 2 blocks from a mapped buffer, read back, errors. */
    uint8_t *data = aligned_alloc(4096, 8192);
    memset(data, 0x5a, 1024);
    uint64_t db;
    CHECK(h.o.dma_map(h.o.ctx, data, 1024, NVME_DMA_TO_DEVICE, &db) == 0);
    CHECK(db != (uint64_t)(uintptr_t)data);
    CHECK(io(&h, NVME_CMD_WRITE, 1, 10, 2, db, 0) == 0);
    CHECK(io(&h, NVME_CMD_READ, 1, 10, 2, db, 0) == NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR));
    h.o.dma_unmap(h.o.ctx, data, 1024, NVME_DMA_TO_DEVICE);
    CHECK(nvme_sim_dma_violations(sim) == 2);
    CHECK(strstr(nvme_sim_log_text(sim), "DMA VIOLATION: device write of 1024 bytes"));
    memset(data, 0, 1024);
    CHECK(h.o.dma_map(h.o.ctx, data, 1024, NVME_DMA_FROM_DEVICE, &db) == 0);
    CHECK(io(&h, NVME_CMD_READ, 1, 10, 2, db, 0) == 0);
    CHECK(data[0] == 0x5a && data[1023] == 0x5a);
    CHECK(io(&h, NVME_CMD_READ, 1, 999, 2, db, 0) == GEN(NVME_SC_LBA_RANGE));
    CHECK(io(&h, NVME_CMD_READ, 3, 0, 1, db, 0) == GEN(NVME_SC_INVALID_NS));
    CHECK(io(&h, NVME_CMD_READ, 1, 0, 1, db + 2, 0) == GEN(NVME_SC_PRP_OFFSET_INVALID));
    CHECK(io(&h, 0x55, 1, 0, 1, db, 0) == GEN(NVME_SC_INVALID_OPCODE));
    CHECK(io(&h, NVME_CMD_READ, 1, 0, 257, db, 0) == GEN(NVME_SC_INVALID_FIELD)); /* > MDTS */
    CHECK(io(&h, NVME_CMD_FLUSH, 1, 0, 1, 0, 0) == 0);
    h.o.dma_unmap(h.o.ctx, data, 1024, NVME_DMA_FROM_DEVICE);
    free(data);
    CHECK(nvme_sim_stats(sim)->reads == 1 && nvme_sim_stats(sim)->writes == 1);

    /* Fault injection: bogus CID, status, drop. */
    struct nvme_sim_fault f = {.kind = NVME_SIM_FAULT_BOGUS_CID, .qid = NVME_SIM_ANY_IO,
                               .opcode = NVME_CMD_FLUSH, .cid = NVME_SIM_ANY, .value = 0xbeef};
    nvme_sim_inject(sim, &f);
    struct nvme_sqe s = {.opc = NVME_CMD_FLUSH, .nsid = 1};
    struct nvme_cqe c;
    CHECK(host_cmd(&h, &h.ioq, &s, &c) == 0 && c.cid == 0xbeef);
    f = (struct nvme_sim_fault){.kind = NVME_SIM_FAULT_STATUS, .qid = 0, .opcode = NVME_SIM_ANY,
                                .cid = NVME_SIM_ANY, .value = NVME_SF(2, 0x81)};
    nvme_sim_inject(sim, &f);
    CHECK(admin(&h, NVME_ADMIN_GET_FEATURES, 0, NVME_FEAT_ARBITRATION, 0, 0, 0, NULL) == NVME_SF(2, 0x81));
    f = (struct nvme_sim_fault){.kind = NVME_SIM_FAULT_DROP_CQE, .qid = NVME_SIM_ANY,
                                .opcode = NVME_SIM_ANY, .cid = NVME_SIM_ANY};
    nvme_sim_inject(sim, &f);
    CHECK(admin(&h, NVME_ADMIN_GET_FEATURES, 0, NVME_FEAT_ARBITRATION, 0, 0, 0, NULL) == -1);
    CHECK(nvme_sim_fault_hits(sim) == 3);
    nvme_sim_clear_faults(sim);

    /* Delete in the right order. */
    CHECK(admin(&h, NVME_ADMIN_DELETE_SQ, 0, 1, 0, 0, 0, NULL) == 0);
    CHECK(admin(&h, NVME_ADMIN_DELETE_CQ, 0, 1, 0, 0, 0, NULL) == 0);
    CHECK(admin(&h, NVME_ADMIN_DELETE_CQ, 0, 1, 0, 0, 0, NULL) == CMD(NVME_SC_QID_INVALID));
    hq_free(&h, &h.ioq);
    h.o.dma_free(h.o.ctx, buf, 4096);
    host_disable(&h);
    CHECK(nvme_sim_host_errors(sim) == 0);
    CHECK(nvme_sim_dma_live(sim) == 0);
    nvme_sim_destroy(sim);
}

/* A PRP list that spans two list pages (chained), first entry at an offset. */
static void test_prp_chain(void)
{
    struct nvme_sim_config cfg;
    nvme_sim_config_init(&cfg);
    cfg.mdts = 0;
    struct nvme_sim *sim = nvme_sim_create(&cfg); /* nsid 1: 32768 x 512 */
    nvme_sim_log_capture(sim, true);
    struct host h;
    CHECK(host_enable(&h, sim));
    CHECK(create_ioq(&h, 1, 8) == 0);
    const uint32_t pages = 600; /* > 511 entries: needs a chained list page */
    uint32_t len = pages * 4096 - 512;
    uint8_t *data = aligned_alloc(4096, (size_t)pages * 4096);
    for (uint32_t i = 0; i < pages * 4096; i++)
        data[i] = (uint8_t)(i * 7 + i / 4096);
    uint64_t lb1, lb2, db;
    uint64_t *l1 = h.o.dma_alloc(h.o.ctx, 4096, 4096, &lb1);
    uint64_t *l2 = h.o.dma_alloc(h.o.ctx, 4096, 4096, &lb2);
    CHECK(h.o.dma_map(h.o.ctx, data, (size_t)pages * 4096, NVME_DMA_BIDIRECTIONAL, &db) == 0);
    /* PRP1 = data + 512 (offset), then pages 1..599 in the lists. */
    uint32_t e = 0;
    for (uint32_t p = 1; p < pages; p++) {
        if (e == 511) {
            l1[511] = lb2;
            e = 512;
        }
        if (e < 511)
            l1[e++] = db + p * 4096ull;
        else
            l2[e++ - 512] = db + p * 4096ull;
    }
    CHECK(io(&h, NVME_CMD_WRITE, 1, 0, len / 512, db + 512, lb1) == 0);
    uint8_t *back = malloc(len);
    CHECK(nvme_sim_ns_read(sim, 1, 0, len / 512, back) == 0);
    CHECK(!memcmp(back, data + 512, len));
    /* Read back into the same buffer after clearing it. */
    memset(data, 0, (size_t)pages * 4096);
    CHECK(io(&h, NVME_CMD_READ, 1, 0, len / 512, db + 512, lb1) == 0);
    CHECK(!memcmp(back, data + 512, len));
    /* A list entry with an offset is refused. */
    l2[3] |= 0x200;
    CHECK(io(&h, NVME_CMD_READ, 1, 0, len / 512, db + 512, lb1) == GEN(NVME_SC_PRP_OFFSET_INVALID));
    h.o.dma_unmap(h.o.ctx, data, (size_t)pages * 4096, NVME_DMA_BIDIRECTIONAL);
    free(back);
    free(data);
    h.o.dma_free(h.o.ctx, l1, 4096);
    h.o.dma_free(h.o.ctx, l2, 4096);
    /* SMART data units count the real transfers: 2 x 599.5 pages. */
    uint64_t bus;
    uint8_t *buf = h.o.dma_alloc(h.o.ctx, 512, 4096, &bus);
    CHECK(admin(&h, NVME_ADMIN_GET_LOG_PAGE, NVME_NSID_ALL, NVME_LID_SMART | (127u << 16), 0, bus, 0, NULL) == 0);
    const struct nvme_smart_log *sl = (const void *)buf;
    CHECK(sl->data_units_written[0] == (len / 512 + 999) / 1000 && sl->host_writes[0] == 1);
    CHECK(sl->data_units_read[0] == (len / 512 + 999) / 1000 && sl->host_reads[0] == 1);
    h.o.dma_free(h.o.ctx, buf, 512);
    hq_free(&h, &h.ioq);
    host_disable(&h);
    /* One host error: the whole buffer was mapped at once, crossing pages
     * (the OSAL contract wants one dma_map per memory page piece). */
    CHECK(nvme_sim_dma_violations(sim) == 0 && nvme_sim_host_errors(sim) == 1);
    CHECK(strstr(nvme_sim_log_text(sim), "crosses a 4096-byte memory page boundary"));
    nvme_sim_destroy(sim);
}

/* Deferred completion and interrupts (raw host). */
static unsigned irq_calls;
static unsigned count_irq(struct nvme_ctrl *ctrl, unsigned v)
{
    (void)ctrl, (void)v;
    irq_calls++;
    return 1;
}

static void test_deferred_irq(void)
{
    struct nvme_sim_config cfg;
    nvme_sim_config_init(&cfg);
    cfg.timing = NVME_SIM_DEFERRED;
    cfg.completion_latency_us = 50;
    cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    struct nvme_sim *sim = nvme_sim_create(&cfg);
    struct host h;
    CHECK(host_enable(&h, sim));
    bool intx = true;
    CHECK(h.o.irq_setup(h.o.ctx, 4, &intx) == 4 && !intx);
    nvme_sim_set_irq_handler(sim, count_irq, NULL);
    struct nvme_sqe s = {.opc = NVME_ADMIN_GET_FEATURES, .cdw10 = NVME_FEAT_NUM_QUEUES};
    h.aq.sq[h.aq.tail] = s;
    h.aq.tail = 1;
    wr(&h, NVME_SQ_TDBL(0, 0), 1);
    CHECK(NVME_CQE_PHASE(h.aq.cq[0].status) == 0); /* not yet */
    h.o.sleep_us(h.o.ctx, 20);
    CHECK(NVME_CQE_PHASE(h.aq.cq[0].status) == 0);
    h.o.sleep_us(h.o.ctx, 40);
    CHECK(NVME_CQE_PHASE(h.aq.cq[0].status) == 1);
    CHECK(nvme_sim_irq_count(sim, 0) == 1 && irq_calls == 1);
    h.aq.head = 1;
    wr(&h, NVME_CQ_HDBL(0, 0), 1);
    h.o.irq_teardown(h.o.ctx);
    host_disable(&h);
    CHECK(nvme_sim_host_errors(sim) == 0);
    nvme_sim_destroy(sim);
}

/* --- Smoke runs of the core ---------------------------------------------------- */

static int core_run(struct nvme_sim_config *cfg, const char *what, bool expect_ok)
{
    struct nvme_sim *sim = nvme_sim_create(cfg);
    struct nvme_osal o;
    nvme_sim_osal(sim, &o);
    struct nvme_ctrl *ctrl = NULL;
    int rc = nvme_ctrl_init(&ctrl, &o, NULL);
    if (expect_ok && rc) {
        fprintf(stderr, "core smoke %s: init failed %d (%s)\n", what, rc,
                rc < 0 ? nvme_strerror(rc) : nvme_status_name((uint16_t)rc));
        failures++;
    } else if (!expect_ok && !rc) {
        fprintf(stderr, "core smoke %s: init succeeded, expected failure\n", what);
        failures++;
    }
    if (!rc) {
        nvme_sim_set_irq_handler(sim, nvme_ctrl_handle_irq, ctrl);
        const struct nvme_ns_info *ns = nvme_ns_at(ctrl, 0);
        if (ns && !ns->status) {
            uint8_t *buf = aligned_alloc(4096, 65536);
            memset(buf, 0x3c, 65536);
            uint32_t cnt = 65536 / ns->lba_size;
            int w = nvme_write(ctrl, ns->nsid, 1, cnt, buf);
            memset(buf, 0, 65536);
            int r = nvme_read(ctrl, ns->nsid, 1, cnt, buf);
            if (w || r || buf[0] != 0x3c || buf[65535] != 0x3c) {
                fprintf(stderr, "core smoke %s: write %d read %d data %02x\n", what, w, r, buf[0]);
                failures++;
            }
            free(buf);
        }
        nvme_ctrl_fini(ctrl);
    }
    if (nvme_sim_dma_violations(sim) || nvme_sim_host_errors(sim) || nvme_sim_dma_live(sim)) {
        fprintf(stderr, "core smoke %s: %llu violations, %llu host errors, %zu live DMA\n", what,
                (unsigned long long)nvme_sim_dma_violations(sim),
                (unsigned long long)nvme_sim_host_errors(sim), nvme_sim_dma_live(sim));
        failures++;
    }
    nvme_sim_destroy(sim);
    return rc;
}

static void test_core_smoke(void)
{
    struct nvme_sim_config cfg;

    nvme_sim_config_init(&cfg);
    core_run(&cfg, "defaults", true);

    nvme_sim_config_init(&cfg);
    cfg.start = NVME_SIM_START_ENABLED;
    core_run(&cfg, "enabled at start", true);

    nvme_sim_config_init(&cfg);
    cfg.irq_mode = NVME_SIM_IRQ_MSIX;
    core_run(&cfg, "msi-x", true);

    nvme_sim_config_init(&cfg);
    cfg.irq_mode = NVME_SIM_IRQ_INTX;
    core_run(&cfg, "intx", true);

    nvme_sim_config_init(&cfg);
    cfg.timing = NVME_SIM_DEFERRED;
    cfg.completion_latency_us = 100;
    core_run(&cfg, "deferred", true);

    nvme_sim_config_init(&cfg);
    cfg.mdts = 1;
    cfg.mqes = 3;
    cfg.dstrd = 2;
    core_run(&cfg, "small mdts/mqes, dstrd 2", true);

    static struct nvme_sim_ns_config many[1500];
    for (unsigned i = 0; i < 1500; i++)
        many[i] = (struct nvme_sim_ns_config){.nsid = 3 * i + 1, .blocks = 64, .lba_size = 4096};
    nvme_sim_config_init(&cfg);
    cfg.ns = many;
    cfg.ns_count = 1500;
    core_run(&cfg, "1500 namespaces", true);

    nvme_sim_config_init(&cfg);
    cfg.start = NVME_SIM_START_NEVER_READY;
    cfg.to = 255;
    cfg.quiet = true;
    int rc = core_run(&cfg, "never ready", false);
    CHECK(rc == NVME_ERR_TIMEOUT);

    nvme_sim_config_init(&cfg);
    cfg.start = NVME_SIM_START_GONE;
    rc = core_run(&cfg, "gone", false);
    CHECK(rc == NVME_ERR_GONE);
}

int main(void)
{
    test_registers();
    test_admin();
    test_prp_chain();
    test_deferred_irq();
    test_core_smoke();
    if (failures) {
        fprintf(stderr, "sim_selftest: %d failure(s)\n", failures);
        return 1;
    }
    printf("sim_selftest: all checks passed\n");
    return 0;
}
