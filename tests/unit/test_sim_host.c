/* SPDX-License-Identifier: MIT */
/*
 * The simulated controller against a host that breaks the rules: a tiny
 * host written here (its own admin queue, SQEs and PRP lists, through the
 * simulator's OSAL) sends what the core never builds, and the simulator
 * must answer as the NVMe specification (and QEMU's hw/nvme) does, so that
 * the core's tests cannot pass on behaviour a real controller refuses.
 */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#define PS 4096u
/* A status field with DNR, as the simulator refuses a command. */
#define SF(sct, sc) ((uint16_t)(NVME_SF((sct), (sc)) | NVME_SF_DNR_BIT))

struct host {
    struct fx f;
    uint8_t *asq, *acq;
    uint64_t asq_bus, acq_bus;
    uint16_t tail, cid;
    void *mem[16]; /* every dma_alloc, freed by host_stop */
    unsigned nmem;
};

static void *host_alloc(struct host *h, uint64_t *bus)
{
    void *p = h->f.osal.dma_alloc(h->f.osal.ctx, PS, PS, bus);
    assert_non_null(p);
    assert_true(h->nmem < 16);
    h->mem[h->nmem++] = p;
    memset(p, 0, PS);
    return p;
}

/* A coherent machine, data and completions inside the doorbell write:
 * the host below does no cache maintenance and reads the CQ at once. */
static void host_config(struct host *h)
{
    memset(h, 0, sizeof(*h));
    fx_config(&h->f);
    h->f.cfg.noncoherent = false;
    h->f.cfg.dma_timing_seed = 0;
}

/* The controller of h->f.cfg (host_config), enabled. */
static void host_enable(struct host *h)
{
    fx_create(&h->f);
    const struct nvme_osal *o = &h->f.osal;
    h->asq = host_alloc(h, &h->asq_bus);
    h->acq = host_alloc(h, &h->acq_bus);
    o->mmio_write32(o->ctx, NVME_REG_AQA, 0x000f000fu); /* 16 entries each */
    o->mmio_write32(o->ctx, NVME_REG_ASQ, (uint32_t)h->asq_bus);
    o->mmio_write32(o->ctx, NVME_REG_ASQ + 4, (uint32_t)(h->asq_bus >> 32));
    o->mmio_write32(o->ctx, NVME_REG_ACQ, (uint32_t)h->acq_bus);
    o->mmio_write32(o->ctx, NVME_REG_ACQ + 4, (uint32_t)(h->acq_bus >> 32));
    o->mmio_write32(o->ctx, NVME_REG_CC,
                    NVME_CC_EN | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT));
    for (int i = 0; i < 1000 && !(o->mmio_read32(o->ctx, NVME_REG_CSTS) & NVME_CSTS_RDY); i++)
        nvme_sim_advance(h->f.sim, 1000);
    assert_true(o->mmio_read32(o->ctx, NVME_REG_CSTS) & NVME_CSTS_RDY);
}

static void host_start_iocs(struct host *h, bool iocs)
{
    host_config(h);
    h->f.cfg.iocs = iocs; /* I/O Command Set Profile, CNS 05h/06h/1Ch */
    host_enable(h);
}

static void host_start(struct host *h) { host_start_iocs(h, false); }

/* Submit one admin command; its status field (SCT/SC, bits 14:0 of the
 * CQE's status without the phase tag). */
static uint16_t host_admin(struct host *h, struct nvme_sqe sqe)
{
    const struct nvme_osal *o = &h->f.osal;
    sqe.cid = ++h->cid;
    memcpy(h->asq + (size_t)h->tail * 64u, &sqe, sizeof(sqe));
    uint16_t slot = h->tail;
    h->tail = (uint16_t)((h->tail + 1u) % 16u);
    o->mmio_write32(o->ctx, NVME_SQ_TDBL(0, 0), h->tail);
    nvme_sim_run(h->f.sim);
    struct nvme_cqe cqe;
    memcpy(&cqe, h->acq + (size_t)slot * 16u, sizeof(cqe));
    assert_int_equal(cqe.cid, sqe.cid);
    assert_int_equal(cqe.status & 1u, 1u); /* first pass: phase 1 */
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(0, 0), h->tail);
    return (uint16_t)(cqe.status >> 1);
}

/* Submit one admin command the controller may hold (an Asynchronous
 * Event Request); its slot in the admin CQ. */
static uint16_t host_submit(struct host *h, struct nvme_sqe sqe)
{
    const struct nvme_osal *o = &h->f.osal;
    sqe.cid = ++h->cid;
    memcpy(h->asq + (size_t)h->tail * 64u, &sqe, sizeof(sqe));
    uint16_t slot = h->tail;
    h->tail = (uint16_t)((h->tail + 1u) % 16u);
    o->mmio_write32(o->ctx, NVME_SQ_TDBL(0, 0), h->tail);
    nvme_sim_run(h->f.sim);
    return slot;
}

/* Whether the admin CQ's entry at `slot` was posted (first pass: phase 1). */
static bool host_posted(const struct host *h, uint16_t slot)
{
    struct nvme_cqe cqe;
    memcpy(&cqe, h->acq + (size_t)slot * 16u, sizeof(cqe));
    return (cqe.status & 1u) != 0;
}

/* Controller reset (CC.EN 1 -> 0), then enabled again on fresh, empty
 * admin queues. */
static void host_reset(struct host *h)
{
    const struct nvme_osal *o = &h->f.osal;
    uint32_t cc = o->mmio_read32(o->ctx, NVME_REG_CC);
    o->mmio_write32(o->ctx, NVME_REG_CC, 0);
    nvme_sim_advance(h->f.sim, 100000);
    assert_int_equal(o->mmio_read32(o->ctx, NVME_REG_CSTS) & NVME_CSTS_RDY, 0);
    memset(h->asq, 0, PS);
    memset(h->acq, 0, PS);
    h->tail = 0;
    o->mmio_write32(o->ctx, NVME_REG_CC, cc);
    for (int i = 0; i < 1000 && !(o->mmio_read32(o->ctx, NVME_REG_CSTS) & NVME_CSTS_RDY); i++)
        nvme_sim_advance(h->f.sim, 1000);
    assert_true(o->mmio_read32(o->ctx, NVME_REG_CSTS) & NVME_CSTS_RDY);
}

/* host_stop, with `violations` DMA violations expected (refused probes). */
static void host_stop_violations(struct host *h, uint64_t violations)
{
    const struct nvme_osal *o = &h->f.osal;
    o->mmio_write32(o->ctx, NVME_REG_CC, 0);
    nvme_sim_advance(h->f.sim, 100000); /* CSTS.RDY 0: the device has let go */
    assert_int_equal(o->mmio_read32(o->ctx, NVME_REG_CSTS) & NVME_CSTS_RDY, 0);
    for (unsigned i = 0; i < h->nmem; i++)
        o->dma_free(o->ctx, h->mem[i], PS);
    assert_int_equal(nvme_sim_host_errors(h->f.sim), 0);
    assert_int_equal(nvme_sim_dma_violations(h->f.sim), violations);
    nvme_sim_destroy(h->f.sim);
}

static void host_stop(struct host *h) { host_stop_violations(h, 0); }

/* Create I/O Completion / Submission Queue (§5.3, §5.4): QID, 0-based
 * size, PC set; IEN and IV as given. */
static struct nvme_sqe create_cq(uint16_t qid, uint32_t entries, uint64_t base, bool ien,
                                 uint16_t iv)
{
    struct nvme_sqe sqe = {0};
    sqe.opc = NVME_ADMIN_CREATE_CQ;
    sqe.prp1 = base;
    sqe.cdw10 = qid | ((entries - 1u) << 16);
    sqe.cdw11 = NVME_CREATE_CQ_PC | (ien ? NVME_CREATE_CQ_IEN : 0u) | ((uint32_t)iv << 16);
    return sqe;
}

static struct nvme_sqe create_sq(uint16_t qid, uint32_t entries, uint64_t base, uint16_t cqid)
{
    struct nvme_sqe sqe = {0};
    sqe.opc = NVME_ADMIN_CREATE_SQ;
    sqe.prp1 = base;
    sqe.cdw10 = qid | ((entries - 1u) << 16);
    sqe.cdw11 = NVME_CREATE_SQ_PC | ((uint32_t)cqid << 16);
    return sqe;
}

/* Get Log Page, Error Information, 16 KiB (NUMDL 4095): PRP1 one page,
 * the other three through PRP2's list. */
static struct nvme_sqe log_16k(uint64_t prp1, uint64_t prp2)
{
    struct nvme_sqe sqe = {0};
    sqe.opc = NVME_ADMIN_GET_LOG_PAGE;
    sqe.cdw10 = NVME_LID_ERROR | (4095u << 16);
    sqe.prp1 = prp1;
    sqe.prp2 = prp2;
    return sqe;
}

/* §4.3: only PRP2 ("a PRP List pointer in a command") may have an offset;
 * the pointer to the next list page is an entry of a list, offset 0.
 * QEMU's nvme_map_prp answers PRP Offset Invalid.  Before, the simulator
 * took any qword-aligned chain pointer, and one to the last qword of a
 * page that pointed to itself took no entry and looped forever. */
static void prp_chain_pointer_with_an_offset_is_prp_offset_invalid(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    uint64_t data_bus[4], l1_bus, l2_bus;
    uint8_t *data[4];
    for (int i = 0; i < 4; i++) {
        data[i] = host_alloc(&h, &data_bus[i]);
        memset(data[i], 0xa5, PS);
    }
    uint8_t *l1 = host_alloc(&h, &l1_bus), *l2 = host_alloc(&h, &l2_bus);
    uint64_t *e1 = (uint64_t *)(void *)l1, *e2 = (uint64_t *)(void *)l2;
    uint16_t invalid = NVME_SF(NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID) | NVME_SF_DNR_BIT;

    /* List at the last two qwords of its page: one data page, then the
     * chain pointer, to a list page at offset 8. */
    e1[510] = data_bus[1];
    e1[511] = l2_bus + 8;
    e2[1] = data_bus[2];
    e2[2] = data_bus[3];
    assert_int_equal(host_admin(&h, log_16k(data_bus[0], l1_bus + 510 * 8)), invalid);
    for (int i = 0; i < 4; i++) /* nothing moved */
        assert_int_equal(data[i][0], 0xa5);

    /* A one-slot list whose chain pointer is itself: refused, not a hang. */
    e1[511] = l1_bus + 511 * 8;
    assert_int_equal(host_admin(&h, log_16k(data_bus[0], l1_bus + 511 * 8)), invalid);

    /* The same transfer with the next list page at offset 0 is fine. */
    e1[511] = l2_bus;
    e2[0] = data_bus[2];
    e2[1] = data_bus[3];
    assert_int_equal(host_admin(&h, log_16k(data_bus[0], l1_bus + 510 * 8)), 0);
    assert_int_equal(data[1][0], 0); /* the error log's unused entries: zeros */

    host_stop(&h);
}

/* §5.3 Figure 149: IV names the queue's interrupt vector, IEN or not;
 * without MSI-X enabled (this host set up no interrupts) only vector 0
 * exists, and one past the MSI-X table is invalid in any case: Invalid
 * Interrupt Vector, as QEMU's nvme_create_cq checks IV before it looks
 * at IEN.  Before, the simulator checked IV only with IEN set, so a host
 * that put a stale vector in a polled queue passed here and failed on a
 * real controller. */
static void create_cq_checks_the_vector_without_ien(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    uint64_t cq_bus;
    (void)host_alloc(&h, &cq_bus);
    uint16_t invalid = SF(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_VECTOR);
    assert_int_equal(host_admin(&h, create_cq(1, 64, cq_bus, false, 1)), invalid);
    assert_int_equal(host_admin(&h, create_cq(1, 64, cq_bus, false, 8)), invalid);
    assert_int_equal(host_admin(&h, create_cq(1, 64, cq_bus, true, 1)), invalid);
    assert_false(nvme_sim_queue_exists(h.f.sim, 1, true));
    assert_int_equal(host_admin(&h, create_cq(1, 64, cq_bus, false, 0)), 0); /* polled, vector 0 */
    assert_true(nvme_sim_queue_exists(h.f.sim, 1, true));
    host_stop(&h);
}

/* §5.3/§5.4 PRP Entry 1: a contiguous queue's base is memory page aligned;
 * an offset in it is Invalid PRP Offset (generic 13h), as QEMU's
 * nvme_create_cq / nvme_create_sq answer.  Before, the simulator answered
 * Invalid Field in Command. */
static void unaligned_queue_base_is_prp_offset_invalid(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    uint64_t cq_bus, sq_bus;
    (void)host_alloc(&h, &cq_bus);
    (void)host_alloc(&h, &sq_bus);
    uint16_t invalid = SF(NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID);
    assert_int_equal(host_admin(&h, create_cq(1, 16, cq_bus + 512, false, 0)), invalid);
    assert_false(nvme_sim_queue_exists(h.f.sim, 1, true));
    assert_int_equal(host_admin(&h, create_cq(1, 16, cq_bus, false, 0)), 0);
    assert_int_equal(host_admin(&h, create_sq(1, 16, sq_bus + 64, 1)), invalid);
    assert_false(nvme_sim_queue_exists(h.f.sim, 1, false));
    assert_int_equal(host_admin(&h, create_sq(1, 16, sq_bus, 1)), 0);
    host_stop(&h);
}

/* A queue is one contiguous range (PC): every byte of it must be memory
 * the device may use, not only the first and the last.  Three pages with
 * the middle one never given to the device: the queue is refused (Data
 * Transfer Error) when created, not a DMA violation and CSTS.CFS at the
 * first entry in that page.  Before, the simulator probed the first and
 * last bytes alone and created both queues. */
static void queue_memory_with_a_hole_is_refused(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    const struct nvme_osal *o = &h.f.osal;
    uint8_t *mem = aligned_alloc(PS, 3 * PS);
    assert_non_null(mem);
    uint64_t bus0, bus2;
    assert_int_equal(o->dma_map(o->ctx, mem, PS, NVME_DMA_BIDIRECTIONAL, &bus0), 0);
    assert_int_equal(o->dma_map(o->ctx, mem + 2 * PS, PS, NVME_DMA_BIDIRECTIONAL, &bus2), 0);
    assert_true(bus2 == bus0 + 2 * PS); /* one range, its middle page not the device's */
    uint16_t xfer = (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
    assert_int_equal(host_admin(&h, create_cq(1, 3 * PS / 16, bus0, false, 0)), xfer);
    assert_false(nvme_sim_queue_exists(h.f.sim, 1, true));
    uint64_t cq_bus;
    (void)host_alloc(&h, &cq_bus);
    assert_int_equal(host_admin(&h, create_cq(1, 16, cq_bus, false, 0)), 0);
    assert_int_equal(host_admin(&h, create_sq(1, 3 * PS / 64, bus0, 1)), xfer);
    assert_false(nvme_sim_queue_exists(h.f.sim, 1, false));
    o->dma_unmap(o->ctx, mem, PS, NVME_DMA_BIDIRECTIONAL);
    o->dma_unmap(o->ctx, mem + 2 * PS, PS, NVME_DMA_BIDIRECTIONAL);
    free(mem);
    host_stop_violations(&h, 2); /* the two refused probes */
}

/* A controller reset (CC.EN 1 -> 0) ends the controller's internal state
 * (§7.3.2): events queued for want of an Asynchronous Event Request, and
 * the event types masked until their log page is read, go with it, as
 * QEMU's nvme_ctrl_reset empties its aer_queue and clears aer_mask.
 * Before, the simulator kept both: an event from before the reset
 * completed the first request after it, and a type reported before the
 * reset stayed masked after it, so a host that re-arms its requests
 * after a reset never heard of that type again here, and would on QEMU. */
static void a_reset_clears_queued_and_masked_events(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    struct nvme_sqe aer = {0};
    aer.opc = NVME_ADMIN_ASYNC_EVENT;

    /* Queued with no request outstanding, then the reset: nothing left. */
    assert_int_equal(nvme_sim_post_event(h.f.sim, NVME_SIM_AE_NOTICE, 0x00, 0x04), 0);
    host_reset(&h);
    uint16_t slot = host_submit(&h, aer);
    assert_false(host_posted(&h, slot));

    /* An error event completes it and masks Error status until the Error
     * Information log is read; after a reset the next error event is
     * reported. */
    assert_int_equal(nvme_sim_post_event(h.f.sim, NVME_SIM_AE_ERROR, 0x00, NVME_LID_ERROR), 0);
    assert_true(host_posted(&h, slot));
    host_reset(&h);
    slot = host_submit(&h, aer);
    assert_false(host_posted(&h, slot));
    assert_int_equal(nvme_sim_post_event(h.f.sim, NVME_SIM_AE_ERROR, 0x01, NVME_LID_ERROR), 0);
    assert_true(host_posted(&h, slot));
    struct nvme_cqe cqe;
    memcpy(&cqe, h.acq + (size_t)slot * 16u, sizeof(cqe));
    assert_int_equal(cqe.dw0, NVME_SIM_AE_ERROR | (0x01u << 8) | ((uint32_t)NVME_LID_ERROR << 16));
    host_stop(&h);
}

/* An event while the admin CQ is full: the Asynchronous Event Request's
 * completion waits for room, as QEMU's controller keeps a completion on
 * its CQ's request list until the host frees an entry.  Before, the
 * simulator dropped the completion and the event with it: the request
 * stayed outstanding in the host and no event came again. */
static void an_event_for_a_full_admin_cq_waits_for_room(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    const struct nvme_osal *o = &h.f.osal;
    struct nvme_sqe aer = {0}, getf = {0};
    aer.opc = NVME_ADMIN_ASYNC_EVENT;
    getf.opc = NVME_ADMIN_GET_FEATURES;
    getf.cdw10 = NVME_FEAT_ARBITRATION;
    uint16_t aer_cid = (uint16_t)(h.cid + 1u);
    assert_false(host_posted(&h, host_submit(&h, aer)));
    /* 15 completions fill the 16-entry CQ (entries 0-14; the AER took SQ
     * slot 0 and no CQ entry); the host reads none yet. */
    for (uint16_t i = 0; i < 15; i++) {
        (void)host_submit(&h, getf);
        assert_true(host_posted(&h, i));
    }
    assert_int_equal(nvme_sim_post_event(h.f.sim, NVME_SIM_AE_SMART, 0x01, NVME_LID_SMART), 0);
    assert_int_equal(nvme_sim_aer_outstanding(h.f.sim), 1); /* held, not lost */
    /* The host consumes the 15: the AER completes in the next entry, the
     * last of the ring, with the event. */
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(0, 0), 15);
    nvme_sim_run(h.f.sim);
    assert_int_equal(nvme_sim_aer_outstanding(h.f.sim), 0);
    assert_true(host_posted(&h, 15));
    struct nvme_cqe cqe;
    memcpy(&cqe, h.acq + 15u * 16u, sizeof(cqe));
    assert_int_equal(cqe.cid, aer_cid);
    assert_int_equal(cqe.status >> 1, 0);
    assert_int_equal(cqe.dw0, NVME_SIM_AE_SMART | (0x01u << 8) | ((uint32_t)NVME_LID_SMART << 16));
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(0, 0), 0);
    host_stop(&h);
}

/* A completion held back by NVME_SIM_FAULT_DELAY whose time comes while
 * its CQ is full waits for room, as a late command's does (a controller
 * does not lose a completion for want of room).  Before, the simulator
 * dropped it: a delay turned into a lost command, and the host's
 * timeout, not the delay, was what a test saw. */
static void a_delayed_completion_for_a_full_cq_waits_for_room(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    const struct nvme_osal *o = &h.f.osal;
    struct nvme_sim_fault delay = {.kind = NVME_SIM_FAULT_DELAY,
                                   .qid = 0,
                                   .opcode = NVME_ADMIN_GET_FEATURES,
                                   .cid = NVME_SIM_ANY,
                                   .value = 1000};
    assert_int_equal(nvme_sim_inject(h.f.sim, &delay), 0);
    struct nvme_sqe getf = {0};
    getf.opc = NVME_ADMIN_GET_FEATURES;
    getf.cdw10 = NVME_FEAT_ARBITRATION;
    uint16_t late_cid = (uint16_t)(h.cid + 1u);
    (void)host_submit(&h, getf);        /* its completion 1 ms later */
    for (uint16_t i = 0; i < 15; i++) { /* CQ entries 0-14: full */
        (void)host_submit(&h, getf);
        assert_true(host_posted(&h, i));
    }
    nvme_sim_advance(h.f.sim, 2000); /* its time came, with no room */
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(0, 0), 15);
    nvme_sim_run(h.f.sim);
    assert_true(host_posted(&h, 15));
    struct nvme_cqe cqe;
    memcpy(&cqe, h.acq + 15u * 16u, sizeof(cqe));
    assert_int_equal(cqe.cid, late_cid);
    assert_int_equal(cqe.status >> 1, 0);
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(0, 0), 0);
    host_stop(&h);
}

/* Abort (§5.1) completes the command it ends, then itself: with one free
 * entry left in the admin CQ, the aborted command's completion takes it
 * and the Abort's own waits until the host frees an entry, as in QEMU's
 * CQ request list.  Before, the simulator posted it into the full CQ,
 * which failed, and the completion was lost: the host's Abort never
 * completed. */
static void an_abort_completion_for_a_full_admin_cq_waits_for_room(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    const struct nvme_osal *o = &h.f.osal;
    struct nvme_sim_fault hang = {.kind = NVME_SIM_FAULT_HANG,
                                  .qid = 0,
                                  .opcode = NVME_ADMIN_GET_FEATURES,
                                  .cid = NVME_SIM_ANY};
    assert_int_equal(nvme_sim_inject(h.f.sim, &hang), 0);
    struct nvme_sqe getf = {0}, abort = {0};
    getf.opc = NVME_ADMIN_GET_FEATURES;
    getf.cdw10 = NVME_FEAT_ARBITRATION;
    uint16_t hung_cid = (uint16_t)(h.cid + 1u);
    (void)host_submit(&h, getf);        /* SQ slot 0: held, no CQE */
    for (uint16_t i = 0; i < 14; i++) { /* CQ entries 0-13 */
        (void)host_submit(&h, getf);
        assert_true(host_posted(&h, i));
    }
    abort.opc = NVME_ADMIN_ABORT;
    abort.cdw10 = (uint32_t)hung_cid << 16; /* SQID 0 */
    uint16_t abort_cid = (uint16_t)(h.cid + 1u);
    (void)host_submit(&h, abort);
    assert_true(host_posted(&h, 14)); /* the aborted command, in the last free entry */
    struct nvme_cqe cqe;
    memcpy(&cqe, h.acq + 14u * 16u, sizeof(cqe));
    assert_int_equal(cqe.cid, hung_cid);
    assert_int_equal(cqe.status >> 1, NVME_SF(NVME_SCT_GENERIC, NVME_SC_ABORT_REQ));
    assert_false(host_posted(&h, 15)); /* full: the Abort's completion waits */
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(0, 0), 15);
    nvme_sim_run(h.f.sim);
    assert_true(host_posted(&h, 15));
    memcpy(&cqe, h.acq + 15u * 16u, sizeof(cqe));
    assert_int_equal(cqe.cid, abort_cid);
    assert_int_equal(cqe.status >> 1, 0);
    assert_int_equal(cqe.dw0 & 1u, 0); /* aborted */
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(0, 0), 0);
    host_stop(&h);
}

/* Delete I/O SQ (§5.6) ends the commands the SQ still has in the device
 * with Command Aborted due to SQ Deletion; when their CQ is full those
 * completions wait for room (until the CQ is deleted).  Before, the
 * simulator posted into the full CQ and lost them. */
static void a_deleted_sq_completion_for_a_full_cq_waits_for_room(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    const struct nvme_osal *o = &h.f.osal;
    uint64_t cq_bus, sq_bus;
    uint8_t *cq = host_alloc(&h, &cq_bus), *sq = host_alloc(&h, &sq_bus);
    assert_int_equal(host_admin(&h, create_cq(1, 2, cq_bus, false, 0)), 0); /* room for one */
    assert_int_equal(host_admin(&h, create_sq(1, 16, sq_bus, 1)), 0);
    struct nvme_sim_fault hang = {
        .kind = NVME_SIM_FAULT_HANG, .qid = 1, .opcode = NVME_CMD_FLUSH, .cid = NVME_SIM_ANY};
    assert_int_equal(nvme_sim_inject(h.f.sim, &hang), 0);
    struct nvme_sqe flush = {0};
    flush.opc = NVME_CMD_FLUSH;
    flush.nsid = 1;
    for (uint16_t i = 0; i < 2; i++) { /* the first hangs, the second fills CQ 1 */
        flush.cid = (uint16_t)(100u + i);
        memcpy(sq + 64u * i, &flush, sizeof(flush));
    }
    o->mmio_write32(o->ctx, NVME_SQ_TDBL(1, 0), 2);
    nvme_sim_run(h.f.sim);
    struct nvme_cqe cqe;
    memcpy(&cqe, cq, sizeof(cqe));
    assert_int_equal(cqe.cid, 101);
    assert_int_equal(cqe.status, 1); /* success, phase 1 */
    struct nvme_sqe del = {0};
    del.opc = NVME_ADMIN_DELETE_SQ;
    del.cdw10 = 1;
    assert_int_equal(host_admin(&h, del), 0);
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(1, 0), 1);
    nvme_sim_run(h.f.sim);
    memcpy(&cqe, cq + 16, sizeof(cqe));
    assert_int_equal(cqe.cid, 100);
    assert_int_equal(cqe.status,
                     (uint16_t)(NVME_SF(NVME_SCT_GENERIC, NVME_SC_ABORT_SQ_DELETION) << 1) | 1u);
    host_stop(&h);
}

/* A Create I/O SQ/CQ wrong in several fields: the status QEMU answers,
 * whose nvme_create_sq checks CQID before QID, size, base and PC, and
 * whose nvme_create_cq checks the base before IV and PC.  Before, the
 * simulator checked QID and size before CQID, and PC before the base
 * and IV, so a host saw a different status here than on QEMU. */
static void create_queue_checks_in_qemus_order(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    uint64_t cq_bus, sq_bus;
    (void)host_alloc(&h, &cq_bus);
    (void)host_alloc(&h, &sq_bus);
    uint16_t cq_invalid = SF(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CQ_INVALID);
    uint16_t prp_offset = SF(NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID);
    /* CQ: no PC, vector 1 (no MSI-X) and an unaligned base: the base. */
    struct nvme_sqe c = create_cq(1, 16, cq_bus + 512, false, 1);
    c.cdw11 &= ~(uint32_t)NVME_CREATE_CQ_PC;
    assert_int_equal(host_admin(&h, c), prp_offset);
    /* Aligned, no PC and vector 1: the vector. */
    c.prp1 = cq_bus;
    assert_int_equal(host_admin(&h, c), SF(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_VECTOR));
    assert_false(nvme_sim_queue_exists(h.f.sim, 1, true));
    /* SQ: CQ 1 does not exist and QID 0 / size 1: Invalid CQ first. */
    assert_int_equal(host_admin(&h, create_sq(0, 16, sq_bus, 1)), cq_invalid);
    assert_int_equal(host_admin(&h, create_sq(1, 1, sq_bus, 1)), cq_invalid);
    assert_int_equal(host_admin(&h, create_cq(1, 16, cq_bus, false, 0)), 0);
    /* CQ 1 now exists: no PC and an unaligned base is the base. */
    struct nvme_sqe q = create_sq(1, 16, sq_bus + 64, 1);
    q.cdw11 &= ~(uint32_t)NVME_CREATE_SQ_PC;
    assert_int_equal(host_admin(&h, q), prp_offset);
    assert_false(nvme_sim_queue_exists(h.f.sim, 1, false));
    host_stop(&h);
}

/* Get Log Page with the offset (LPOL) at the log's end: QEMU refuses it
 * with Invalid Field for every log it implements (nvme_smart_info and
 * the others check off >= the log's size); before, the simulator
 * answered zeros, so a host that read one chunk too many passed here
 * and failed on QEMU.  An offset inside the log still reads its tail. */
static void a_log_offset_at_the_end_is_invalid_field(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    uint64_t bus;
    (void)host_alloc(&h, &bus);
    struct {
        uint8_t lid;
        uint32_t size;
    } logs[] = {{NVME_LID_ERROR, 64u * 64u}, /* ELPE 63 */
                {NVME_LID_SMART, 512},
                {NVME_LID_FW_SLOT, 512},
                {NVME_LID_CHANGED_NS, 4096},
                {NVME_LID_EFFECTS, 4096}};
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        struct nvme_sqe sqe = {0};
        sqe.opc = NVME_ADMIN_GET_LOG_PAGE;
        sqe.nsid = NVME_NSID_ALL;
        sqe.cdw10 = logs[i].lid | (1u << 15) | (0u << 16); /* RAE, one dword */
        sqe.cdw12 = logs[i].size;
        sqe.prp1 = bus;
        assert_int_equal(host_admin(&h, sqe), SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD));
        sqe.cdw12 = logs[i].size - 4u;
        assert_int_equal(host_admin(&h, sqe), 0);
    }
    host_stop(&h);
}

/* Abort (§5.1) naming an SQ that does not exist: Invalid Field in
 * Command, as QEMU's nvme_abort checks the SQID first; a CID the
 * controller does not hold on a live SQ is "not aborted" (DW0 bit 0 set)
 * with success.  Before, the simulator answered success and "not
 * aborted" for any SQID, so a host whose Abort named the wrong queue
 * (or one it had deleted) passed here and saw an error on QEMU. */
static void an_abort_of_a_missing_sq_is_invalid_field(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    struct nvme_sqe abort = {0};
    abort.opc = NVME_ADMIN_ABORT;
    abort.cdw10 = 5u | (7u << 16); /* SQ 5 was never created */
    assert_int_equal(host_admin(&h, abort), SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD));
    abort.cdw10 = 0u | (200u << 16); /* the admin SQ: no command 200 in the device */
    assert_int_equal(host_admin(&h, abort), 0);
    struct nvme_cqe cqe;
    memcpy(&cqe, h.acq + (size_t)((h.tail + 15u) % 16u) * 16u, sizeof(cqe));
    assert_int_equal(cqe.dw0 & 1u, 1u);
    host_stop(&h);
}

/* Set Features of a feature whose scope is the controller, with an NSID
 * naming one namespace: Feature Identifier Not Namespace Specific
 * (command specific 0Fh), as QEMU's nvme_set_feature answers; NSID 0 and
 * FFFFFFFFh are fine, and Error Recovery (namespace scope) takes one
 * namespace.  Before, the simulator ignored the NSID, so nvmectl's
 * set-feature on a namespace device (NSID of the device, as nvme-cli)
 * passed here for every feature and fails on QEMU. */
static void a_controller_feature_set_for_one_namespace_is_refused(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    struct nvme_sqe setf = {0};
    setf.opc = NVME_ADMIN_SET_FEATURES;
    setf.cdw10 = NVME_FEAT_ARBITRATION;
    setf.cdw11 = 0x3;
    setf.nsid = 1;
    assert_int_equal(host_admin(&h, setf), SF(NVME_SCT_COMMAND_SPECIFIC, 0x0f));
    setf.cdw10 = NVME_FEAT_IRQ_COALESCE;
    assert_int_equal(host_admin(&h, setf), SF(NVME_SCT_COMMAND_SPECIFIC, 0x0f));
    setf.nsid = 0;
    assert_int_equal(host_admin(&h, setf), 0);
    setf.nsid = NVME_NSID_ALL;
    assert_int_equal(host_admin(&h, setf), 0);
    setf.cdw10 = NVME_FEAT_ERROR_RECOVERY;
    setf.nsid = 1;
    assert_int_equal(host_admin(&h, setf), 0);
    host_stop(&h);
}

/* Error Recovery (05h) is namespace specific: Get Features names one
 * active namespace, Set Features one or all (FFFFFFFFh).  NSID 0,
 * FFFFFFFFh on Get and one above NN are Invalid Namespace or Format, an
 * inactive NSID within NN Invalid Field in Command, as QEMU's
 * nvme_get_feature / nvme_set_feature.  Before, the simulator took any
 * NSID, so nvmectl's get-feature -f 5 on the controller's device (NSID
 * FFFFFFFFh, as nvme-cli) passed here and fails on QEMU. */
static void error_recovery_names_one_active_namespace(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    nvme_sim_set_nn(h.f.sim, 8); /* namespace 1 of 8: 3 is inactive */
    struct nvme_sqe getf = {0};
    getf.opc = NVME_ADMIN_GET_FEATURES;
    getf.cdw10 = NVME_FEAT_ERROR_RECOVERY;
    const uint16_t invalid_ns = SF(NVME_SCT_GENERIC, NVME_SC_INVALID_NS);
    const uint16_t invalid_field = SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
    getf.nsid = 0;
    assert_int_equal(host_admin(&h, getf), invalid_ns);
    getf.nsid = NVME_NSID_ALL;
    assert_int_equal(host_admin(&h, getf), invalid_ns);
    getf.nsid = 9;
    assert_int_equal(host_admin(&h, getf), invalid_ns);
    getf.nsid = 3;
    assert_int_equal(host_admin(&h, getf), invalid_field);
    getf.nsid = 1;
    assert_int_equal(host_admin(&h, getf), 0);
    struct nvme_sqe setf = getf;
    setf.opc = NVME_ADMIN_SET_FEATURES;
    setf.cdw11 = 0x10;
    setf.nsid = 0;
    assert_int_equal(host_admin(&h, setf), invalid_ns);
    setf.nsid = 3;
    assert_int_equal(host_admin(&h, setf), invalid_field);
    setf.nsid = NVME_NSID_ALL;
    assert_int_equal(host_admin(&h, setf), 0);
    setf.nsid = 1;
    assert_int_equal(host_admin(&h, setf), 0);
    host_stop(&h);
}

/* Error Recovery's value (TLER, DULBE) belongs to the namespace named:
 * Set Features for NSID 1 leaves namespace 2's alone, FFFFFFFFh sets
 * every active one, and a controller reset brings back the saved value
 * (0 here), as QEMU's ns->features.err_rec.  Before, the simulator kept
 * one value for the controller, so a host reading namespace 2 saw what
 * it had set on namespace 1. */
static uint32_t err_rec_of(struct host *h, uint32_t nsid)
{
    struct nvme_sqe getf = {0};
    getf.opc = NVME_ADMIN_GET_FEATURES;
    getf.cdw10 = NVME_FEAT_ERROR_RECOVERY;
    getf.nsid = nsid;
    assert_int_equal(host_admin(h, getf), 0);
    struct nvme_cqe cqe;
    memcpy(&cqe, h->acq + (size_t)((h->tail + 15u) % 16u) * 16u, sizeof(cqe));
    return cqe.dw0;
}

static void error_recovery_is_kept_per_namespace(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    struct nvme_sim_ns_config ns2 = {.nsid = 2, .blocks = 8192, .lba_size = 512};
    assert_int_equal(nvme_sim_ns_add(h.f.sim, &ns2), 0);
    struct nvme_sqe setf = {0};
    setf.opc = NVME_ADMIN_SET_FEATURES;
    setf.cdw10 = NVME_FEAT_ERROR_RECOVERY;
    setf.cdw11 = (1u << 16) | 10u; /* DULBE, TLER 1 s */
    setf.nsid = 1;
    assert_int_equal(host_admin(&h, setf), 0);
    assert_int_equal(err_rec_of(&h, 1), (1u << 16) | 10u);
    assert_int_equal(err_rec_of(&h, 2), 0);
    setf.cdw11 = 20u;
    setf.nsid = NVME_NSID_ALL;
    assert_int_equal(host_admin(&h, setf), 0);
    assert_int_equal(err_rec_of(&h, 1), 20u);
    assert_int_equal(err_rec_of(&h, 2), 20u);
    setf.cdw11 = 30u;
    setf.nsid = 2;
    assert_int_equal(host_admin(&h, setf), 0);
    assert_int_equal(err_rec_of(&h, 1), 20u);
    assert_int_equal(err_rec_of(&h, 2), 30u);
    host_reset(&h);
    assert_int_equal(err_rec_of(&h, 1), 0);
    assert_int_equal(err_rec_of(&h, 2), 0);
    host_stop(&h);
}

/* Identify CNS 12h (controllers attached to NSID): an NSID no namespace
 * is allocated to (0, FFFFFFFFh, an inactive one, one above NN) is
 * Invalid Field in Command, an allocated namespace attached to no
 * controller an empty list, an active one this controller (CNTLID 1),
 * as QEMU's nvme_identify_ctrl_list.  Before, the simulator answered
 * Invalid Namespace or Format for all but the active one. */
static void attached_controller_list_of_an_inactive_nsid(void **state)
{
    (void)state;
    struct host h;
    host_config(&h);
    h.f.cfg.oacs |= NVME_OACS_NS_MGMT;
    h.f.cfg.nn = 8;
    h.f.cfg.inactive_nsids[0] = 5; /* allocated, attached to no controller */
    host_enable(&h);
    uint64_t bus;
    uint16_t *list = host_alloc(&h, &bus);
    struct nvme_sqe id = {0};
    id.opc = NVME_ADMIN_IDENTIFY;
    id.prp1 = bus;
    id.cdw10 = NVME_CNS_NS_CTRL_LIST;
    static const uint32_t unallocated[] = {0, 3, 9, NVME_NSID_ALL};
    for (size_t i = 0; i < sizeof(unallocated) / sizeof(unallocated[0]); i++) {
        id.nsid = unallocated[i];
        assert_int_equal(host_admin(&h, id), SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD));
    }
    memset(list, 0xa5, PS);
    id.nsid = 5;
    assert_int_equal(host_admin(&h, id), 0);
    for (unsigned i = 0; i < NVME_IDENTIFY_DATA_SIZE / 2; i++)
        assert_int_equal(list[i], 0);
    id.nsid = 1;
    assert_int_equal(host_admin(&h, id), 0);
    assert_int_equal(list[0], 1);
    assert_int_equal(list[1], 1);
    host_stop(&h);
}

/* Delete I/O Completion Queue of a CQ an SQ still uses: Invalid Queue
 * Deletion (command specific 0Ch) without DNR, as QEMU's nvme_del_cq:
 * the same command succeeds once the SQ is deleted.  Before, the
 * simulator set DNR, so a host that retries such a status saw "do not
 * retry" here and a retry on QEMU. */
static void a_cq_in_use_is_invalid_queue_deletion_without_dnr(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    uint64_t cq_bus, sq_bus;
    (void)host_alloc(&h, &cq_bus);
    (void)host_alloc(&h, &sq_bus);
    assert_int_equal(host_admin(&h, create_cq(1, 16, cq_bus, false, 0)), 0);
    assert_int_equal(host_admin(&h, create_sq(1, 16, sq_bus, 1)), 0);
    struct nvme_sqe del = {0};
    del.opc = NVME_ADMIN_DELETE_CQ;
    del.cdw10 = 1;
    assert_int_equal(host_admin(&h, del),
                     NVME_SF(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_QUEUE_DELETION));
    assert_true(nvme_sim_queue_exists(h.f.sim, 1, true));
    struct nvme_sqe del_sq = {0};
    del_sq.opc = NVME_ADMIN_DELETE_SQ;
    del_sq.cdw10 = 1;
    assert_int_equal(host_admin(&h, del_sq), 0);
    assert_int_equal(host_admin(&h, del), 0);
    assert_false(nvme_sim_queue_exists(h.f.sim, 1, true));
    assert_int_equal(host_admin(&h, del), SF(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_QID_INVALID));
    host_stop(&h);
}

/* A Read both above MDTS and past the namespace's end: Invalid Field in
 * Command, as QEMU's nvme_read checks the transfer size (nvme_check_mdts)
 * before the LBA range.  Before, the simulator answered LBA Out of Range,
 * so a host that built a wrong NLB saw another status here than on QEMU.
 * Within MDTS, past the end is LBA Out of Range as before. */
static void a_read_above_mdts_and_past_the_end_is_invalid_field(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    const struct nvme_osal *o = &h.f.osal;
    uint64_t cq_bus, sq_bus, buf_bus;
    uint8_t *cq = host_alloc(&h, &cq_bus), *sq = host_alloc(&h, &sq_bus);
    (void)host_alloc(&h, &buf_bus);
    assert_int_equal(host_admin(&h, create_cq(1, 16, cq_bus, false, 0)), 0);
    assert_int_equal(host_admin(&h, create_sq(1, 16, sq_bus, 1)), 0);
    uint64_t blocks = h.f.ns[0].blocks; /* namespace 1, 512-byte blocks */
    struct nvme_sqe rd = {0};
    rd.opc = NVME_CMD_READ;
    rd.nsid = 1;
    rd.prp1 = buf_bus;
    rd.cid = 1;
    rd.cdw10 = (uint32_t)(blocks - 8u);
    rd.cdw11 = (uint32_t)((blocks - 8u) >> 32);
    rd.cdw12 = 0xffff; /* 32 MiB: above MDTS, and past the end */
    memcpy(sq, &rd, sizeof(rd));
    rd.cid = 2;
    rd.cdw12 = 15; /* 8 KiB: within MDTS, past the end */
    memcpy(sq + 64, &rd, sizeof(rd));
    o->mmio_write32(o->ctx, NVME_SQ_TDBL(1, 0), 2);
    nvme_sim_run(h.f.sim);
    struct nvme_cqe cqe[2];
    memcpy(cqe, cq, sizeof(cqe));
    assert_int_equal(cqe[0].cid, 1);
    assert_int_equal(cqe[0].status >> 1, SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD));
    assert_int_equal(cqe[1].cid, 2);
    assert_int_equal(cqe[1].status >> 1, SF(NVME_SCT_GENERIC, NVME_SC_LBA_RANGE));
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(1, 0), 2);
    host_stop(&h);
}

/* Get Features, SEL 011b (supported capabilities, Figure 326): Number
 * of Queues is changeable (Set Features takes it until an I/O queue
 * exists) and Error Recovery namespace specific, as QEMU's
 * nvme_feature_cap.  Interrupt Vector Configuration names a vector the
 * controller has (without MSI-X only 0), else Invalid Field in Command,
 * as QEMU's nvme_get_feature, and reports that vector's CD.  Before:
 * Number of Queues 0, Error Recovery not per namespace, any IV taken. */
static void supported_capabilities_and_vector_configuration_as_qemu(void **state)
{
    (void)state;
    struct host h;
    host_start(&h);
    const uint16_t invalid_field = SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
    struct nvme_sqe getf = {0};
    getf.opc = NVME_ADMIN_GET_FEATURES;
    getf.cdw10 = NVME_FEAT_NUM_QUEUES | (3u << 8);
    assert_int_equal(host_admin(&h, getf), 0);
    struct nvme_cqe cqe;
    memcpy(&cqe, h.acq + (size_t)((h.tail + 15u) % 16u) * 16u, sizeof(cqe));
    assert_int_equal(cqe.dw0, NVME_FEAT_CAP_CHANGEABLE);
    getf.cdw10 = NVME_FEAT_ERROR_RECOVERY | (3u << 8);
    getf.nsid = 1;
    assert_int_equal(host_admin(&h, getf), 0);
    memcpy(&cqe, h.acq + (size_t)((h.tail + 15u) % 16u) * 16u, sizeof(cqe));
    assert_int_equal(cqe.dw0,
                     NVME_FEAT_CAP_SAVEABLE | NVME_FEAT_CAP_NS_SPECIFIC | NVME_FEAT_CAP_CHANGEABLE);
    getf.nsid = 0;
    getf.cdw10 = NVME_FEAT_IRQ_CONFIG;
    getf.cdw11 = 1; /* no MSI-X: vector 0 alone */
    assert_int_equal(host_admin(&h, getf), invalid_field);
    struct nvme_sqe setf = getf;
    setf.opc = NVME_ADMIN_SET_FEATURES;
    setf.cdw11 = (1u << 16) | 1u;
    assert_int_equal(host_admin(&h, setf), invalid_field);
    setf.cdw11 = 1u << 16; /* CD of vector 0 */
    assert_int_equal(host_admin(&h, setf), 0);
    getf.cdw11 = 0;
    assert_int_equal(host_admin(&h, getf), 0);
    memcpy(&cqe, h.acq + (size_t)((h.tail + 15u) % 16u) * 16u, sizeof(cqe));
    assert_int_equal(cqe.dw0, 1u << 16);
    host_stop(&h);
}

/* An NSID in 1..NN that no namespace has is inactive: an I/O command
 * (checked before its opcode), Format NVM and Identify's descriptor
 * list (CNS 03h) get Invalid Field in Command, Identify CNS 05h zeros
 * as CNS 00h; 0 and NSIDs above NN stay Invalid Namespace or Format.
 * As QEMU's nvme_io_cmd, nvme_format, nvme_identify_ns_descr_list and
 * nvme_identify_ns_csi; before, the simulator answered Invalid
 * Namespace or Format for an inactive NSID too. */
static void an_inactive_nsid_is_invalid_field(void **state)
{
    (void)state;
    struct host h;
    host_start_iocs(&h, true);
    nvme_sim_set_nn(h.f.sim, 8); /* namespace 1 of 8: 3 is inactive */
    const struct nvme_osal *o = &h.f.osal;
    const uint16_t invalid_ns = SF(NVME_SCT_GENERIC, NVME_SC_INVALID_NS);
    const uint16_t invalid_field = SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
    uint64_t cq_bus, sq_bus, buf_bus;
    uint8_t *cq = host_alloc(&h, &cq_bus), *sq = host_alloc(&h, &sq_bus);
    uint8_t *buf = host_alloc(&h, &buf_bus);
    assert_int_equal(host_admin(&h, create_cq(1, 16, cq_bus, false, 0)), 0);
    assert_int_equal(host_admin(&h, create_sq(1, 16, sq_bus, 1)), 0);
    static const struct {
        uint8_t opc;
        uint32_t nsid;
        uint16_t sf;
    } cmds[] = {{NVME_CMD_READ, 3, SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)},
                {NVME_CMD_WRITE, 3, SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)},
                {NVME_CMD_FLUSH, 3, SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)},
                {0x7e, 3, SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)},
                {NVME_CMD_READ, 0, SF(NVME_SCT_GENERIC, NVME_SC_INVALID_NS)},
                {NVME_CMD_READ, 9, SF(NVME_SCT_GENERIC, NVME_SC_INVALID_NS)},
                {NVME_CMD_READ, NVME_NSID_ALL, SF(NVME_SCT_GENERIC, NVME_SC_INVALID_NS)},
                {NVME_CMD_READ, 1, 0}};
    const unsigned n = sizeof(cmds) / sizeof(cmds[0]);
    for (unsigned i = 0; i < n; i++) {
        struct nvme_sqe io = {0};
        io.opc = cmds[i].opc;
        io.nsid = cmds[i].nsid;
        io.prp1 = buf_bus;
        io.cid = (uint16_t)(i + 1u);
        memcpy(sq + 64u * i, &io, sizeof(io));
    }
    o->mmio_write32(o->ctx, NVME_SQ_TDBL(1, 0), n);
    nvme_sim_run(h.f.sim);
    for (unsigned i = 0; i < n; i++) {
        struct nvme_cqe cqe;
        memcpy(&cqe, cq + 16u * i, sizeof(cqe));
        assert_int_equal(cqe.cid, i + 1u);
        assert_int_equal(cqe.status >> 1, cmds[i].sf);
    }
    o->mmio_write32(o->ctx, NVME_CQ_HDBL(1, 0), n);
    struct nvme_sqe fmt = {0};
    fmt.opc = NVME_ADMIN_FORMAT_NVM;
    fmt.nsid = 3;
    assert_int_equal(host_admin(&h, fmt), invalid_field);
    fmt.nsid = 9;
    assert_int_equal(host_admin(&h, fmt), invalid_ns);
    struct nvme_sqe id = {0};
    id.opc = NVME_ADMIN_IDENTIFY;
    id.prp1 = buf_bus;
    id.cdw10 = NVME_CNS_NS_DESC_LIST;
    id.nsid = 3;
    assert_int_equal(host_admin(&h, id), invalid_field);
    id.nsid = 9;
    assert_int_equal(host_admin(&h, id), invalid_ns);
    id.cdw10 = NVME_CNS_CS_NS;
    id.cdw11 = (uint32_t)NVME_CSI_NVM << 24;
    id.nsid = 3;
    memset(buf, 0xa5, PS);
    assert_int_equal(host_admin(&h, id), 0);
    for (unsigned i = 0; i < NVME_IDENTIFY_DATA_SIZE; i++)
        assert_int_equal(buf[i], 0);
    id.nsid = 9;
    assert_int_equal(host_admin(&h, id), invalid_ns);
    host_stop(&h);
}

struct events {
    unsigned errors;
    uint32_t detail[4];
};

static void on_event(void *arg, enum nvme_event ev, uint32_t detail)
{
    struct events *e = arg;
    if (ev == NVME_EVENT_ERROR && e->errors < 4)
        e->detail[e->errors++] = detail;
}

/* §4.1, §5.2.1 Figure 146: a doorbell write the controller cannot take
 * is an Error event while an Asynchronous Event Request is outstanding:
 * 01h Invalid Doorbell Write Value (a tail past the queue's size), 00h
 * Write to Invalid Doorbell Register (a queue never created), as QEMU's
 * nvme_process_db.  Before, the simulator only counted a host error, so
 * no test could see what the core makes of the event.  The core reads
 * the Error Information log (which unmasks the type for the next one)
 * and tells the port. */
static void an_invalid_doorbell_write_is_an_error_event(void **state)
{
    (void)state;
    struct fx f;
    struct events ev = {0};
    fx_config(&f);
    f.opts.event_cb = on_event;
    f.opts.event_arg = &ev;
    fx_start(&f);
    nvme_sim_log_capture(f.sim, true); /* the two host errors below are expected */
    assert_true(nvme_sim_aer_outstanding(f.sim) > 0);
    assert_true(nvme_sim_queue_exists(f.sim, 1, false));
    /* A buggy host's writes: SQ 1's tail past its size, then the CQ head
     * doorbell of a queue that does not exist. */
    f.osal.mmio_write32(f.osal.ctx, NVME_SQ_TDBL(1, 0), 0xfff0u);
    (void)nvme_sim_deliver_irqs(f.sim);
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0);
    assert_int_equal(ev.errors, 1);
    assert_int_equal(ev.detail[0], 0x01);
    f.osal.mmio_write32(f.osal.ctx, NVME_CQ_HDBL(100, 0), 0);
    (void)nvme_sim_deliver_irqs(f.sim);
    assert_int_equal(nvme_ctrl_service(f.ctrl), 0);
    assert_int_equal(ev.errors, 2);
    assert_int_equal(ev.detail[1], 0x00);
    /* The queue still works: the write was ignored. */
    uint8_t *b = fx_xalloc(4096);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 8, b), 0);
    free(b);
    assert_int_equal(nvme_ctrl_fini(f.ctrl), 0);
    assert_int_equal(nvme_sim_host_errors(f.sim), 2); /* those two writes, nothing else */
    assert_int_equal(nvme_sim_dma_violations(f.sim), 0);
    assert_int_equal(nvme_sim_dma_live(f.sim), 0);
    nvme_sim_destroy(f.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prp_chain_pointer_with_an_offset_is_prp_offset_invalid),
        cmocka_unit_test(an_invalid_doorbell_write_is_an_error_event),
        cmocka_unit_test(create_cq_checks_the_vector_without_ien),
        cmocka_unit_test(unaligned_queue_base_is_prp_offset_invalid),
        cmocka_unit_test(queue_memory_with_a_hole_is_refused),
        cmocka_unit_test(a_reset_clears_queued_and_masked_events),
        cmocka_unit_test(an_event_for_a_full_admin_cq_waits_for_room),
        cmocka_unit_test(a_delayed_completion_for_a_full_cq_waits_for_room),
        cmocka_unit_test(an_abort_completion_for_a_full_admin_cq_waits_for_room),
        cmocka_unit_test(a_deleted_sq_completion_for_a_full_cq_waits_for_room),
        cmocka_unit_test(create_queue_checks_in_qemus_order),
        cmocka_unit_test(a_log_offset_at_the_end_is_invalid_field),
        cmocka_unit_test(an_abort_of_a_missing_sq_is_invalid_field),
        cmocka_unit_test(a_controller_feature_set_for_one_namespace_is_refused),
        cmocka_unit_test(error_recovery_names_one_active_namespace),
        cmocka_unit_test(error_recovery_is_kept_per_namespace),
        cmocka_unit_test(attached_controller_list_of_an_inactive_nsid),
        cmocka_unit_test(a_cq_in_use_is_invalid_queue_deletion_without_dnr),
        cmocka_unit_test(an_inactive_nsid_is_invalid_field),
        cmocka_unit_test(supported_capabilities_and_vector_configuration_as_qemu),
        cmocka_unit_test(a_read_above_mdts_and_past_the_end_is_invalid_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
