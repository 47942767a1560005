/* SPDX-License-Identifier: MIT */
/*
 * prp.c - Physical Region Page entries and lists (NVMe 1.4 §4.3).
 *
 * A buffer is cut at memory-page (CC.MPS) boundaries; each piece is mapped
 * through the OSAL and becomes one PRP entry:
 *   - PRP1 is the first piece and may start at any dword-aligned offset;
 *   - two pieces: PRP2 is the second one;
 *   - more: PRP2 points to a PRP list of the remaining pieces, each with
 *     offset 0.  When a list page fills up and entries remain, its last
 *     entry points to the next list page (chaining, §4.3).
 * List pages come from a per-queue pool filled when an I/O queue is
 * created, so the I/O path never allocates: when the pool is empty the
 * submission returns NVME_ERR_BUSY, like a full queue.  The admin queue
 * (bounce buffers of at most a few pages) tops its pool up before each
 * command that needs a list (nvme_prp_reserve), outside its lock: under
 * a queue's lock the core calls no allocator (nvme_osal.h).
 */
#include "nvme_internal.h"

static struct nvme_prp_page *nvme_prp_page_new(struct nvme_qpair *qp)
{
    const struct nvme_osal *o = &qp->ctrl->osal;
    struct nvme_prp_page *pg = o->mem_alloc(o->ctx, sizeof(*pg));
    if (pg == NULL)
        return NULL;
    pg->va = o->dma_alloc(o->ctx, qp->ctrl->page_size, qp->ctrl->page_size, &pg->bus);
    if (pg->va == NULL || (pg->bus & (qp->ctrl->page_size - 1u)) != 0) {
        if (pg->va != NULL)
            o->dma_free(o->ctx, pg->va, qp->ctrl->page_size);
        o->mem_free(o->ctx, pg, sizeof(*pg));
        return NULL;
    }
    pg->next = NULL;
    return pg;
}

static struct nvme_prp_page *nvme_prp_page_get(struct nvme_qpair *qp)
{
    struct nvme_prp_page *pg = qp->prp_pool;
    if (pg != NULL) {
        qp->prp_pool = pg->next;
        pg->next = NULL;
        return pg;
    }
    return NULL;
}

int nvme_prp_reserve(struct nvme_qpair *qp, const void *buf, uint32_t len)
{
    const uint32_t ps = qp->ctrl->page_size;
    const uint32_t epp = ps / (uint32_t)sizeof(uint64_t);
    /* Pages the buffer spans (len is at most NVME_MAX_XFER_BYTES); the
     * list entries are all but the first, n - 1, and each list page but
     * the last gives one to the chain pointer: p pages hold
     * p * (epp - 1) + 1 entries (as nvme_prp_pool_fill), so a list that
     * fills its pages exactly takes no page more. */
    uint32_t n = nvme_div32((uint32_t)((uintptr_t)buf & (ps - 1u)) + len + ps - 1u, ps);
    if (n <= 2u)
        return NVME_OK;
    uint32_t need = nvme_div32(n - 2u + (epp - 2u), epp - 1u);
    for (;;) {
        uint32_t have = 0;
        nvme_lock(qp);
        for (const struct nvme_prp_page *pg = qp->prp_pool; pg != NULL && have < need;
             pg = pg->next)
            have++;
        nvme_unlock(qp);
        if (have >= need)
            return NVME_OK;
        struct nvme_prp_page *pg = nvme_prp_page_new(qp);
        if (pg == NULL)
            return NVME_ERR_NOMEM;
        nvme_lock(qp);
        pg->next = qp->prp_pool;
        qp->prp_pool = pg;
        nvme_unlock(qp);
    }
}

int nvme_prp_pool_fill(struct nvme_qpair *qp)
{
    const uint32_t ps = qp->ctrl->page_size;
    const uint32_t epp = ps / (uint32_t)sizeof(uint64_t);
    /* A command of mdts_bytes spans at most mdts/ps + 1 pages; all but the
     * first are list entries, and each list page but the last gives one
     * entry to the chain pointer. */
    uint32_t entries = nvme_div32(qp->ctrl->info.mdts_bytes, ps);
    uint32_t per_cmd = entries <= 1u ? 0u : nvme_div32(entries - 1u + (epp - 2u), epp - 1u);
    uint32_t cmds = qp->nslots < NVME_PRP_POOL_CMDS ? qp->nslots : NVME_PRP_POOL_CMDS;
    for (uint32_t i = 0; i < per_cmd * cmds; i++) {
        struct nvme_prp_page *pg = nvme_prp_page_new(qp);
        if (pg == NULL)
            return NVME_ERR_NOMEM;
        pg->next = qp->prp_pool;
        qp->prp_pool = pg;
    }
    return NVME_OK;
}

void nvme_prp_pool_free(struct nvme_qpair *qp)
{
    const struct nvme_osal *o = &qp->ctrl->osal;
    while (qp->prp_pool != NULL) {
        struct nvme_prp_page *pg = qp->prp_pool;
        qp->prp_pool = pg->next;
        o->dma_free(o->ctx, pg->va, qp->ctrl->page_size);
        o->mem_free(o->ctx, pg, sizeof(*pg));
    }
}

/* Unmaps the pieces of slot->buf (slot->len bytes) and gives the list
 * pages back to the pool. */
void nvme_prp_release(struct nvme_qpair *qp, struct nvme_cmd_slot *slot)
{
    struct nvme_ctrl *ctrl = qp->ctrl;

    /* len 0: nothing was mapped (the first piece failed, prp_build_list). */
    if (slot->buf != NULL && slot->len != 0 && ctrl->osal.dma_unmap != NULL) {
        /* Page by page, as mapped; a buffer inside one page is one call. */
        uintptr_t va = (uintptr_t)slot->buf;
        uint32_t left = slot->len;
        do {
            uint32_t piece = ctrl->page_size - (uint32_t)(va & (ctrl->page_size - 1u));
            if (piece > left)
                piece = left;
            ctrl->osal.dma_unmap(ctrl->osal.ctx, (void *)va, piece, (enum nvme_dma_dir)slot->dir);
            va += piece;
            left -= piece;
        } while (left > 0);
    }
    slot->buf = NULL;
    slot->len = 0;
    while (slot->prp_pages != NULL) {
        struct nvme_prp_page *pg = slot->prp_pages;
        slot->prp_pages = pg->next;
        pg->next = qp->prp_pool;
        qp->prp_pool = pg;
    }
}

void nvme_map_page_undo(struct nvme_ctrl *ctrl, void *buf, uint32_t len, enum nvme_dma_dir dir)
{
    if (ctrl->osal.dma_unmap != NULL)
        ctrl->osal.dma_unmap(ctrl->osal.ctx, buf, len, dir);
}

/* Maps one piece; checks the OSAL kept the offset inside the page, which
 * the PRP rules depend on. */
static inline int nvme_prp_map(struct nvme_ctrl *ctrl, uintptr_t va, uint32_t len,
                               enum nvme_dma_dir dir, uint64_t *bus)
{
    if (ctrl->osal.dma_map(ctrl->osal.ctx, (void *)va, len, dir, bus) != 0)
        return NVME_ERR_DMA;
    if ((*bus & (ctrl->page_size - 1u)) != (va & (ctrl->page_size - 1u))) {
        nvme_map_page_undo(ctrl, (void *)va, len, dir);
        nvme_log(ctrl, NVME_LOG_ERROR, "dma_map moved the offset within a page");
        return NVME_ERR_DMA;
    }
    return NVME_OK;
}

/* Any buffer: PRP2 as a second entry or a (chained) list. */
static __attribute__((noinline)) int nvme_prp_build_list(struct nvme_qpair *qp,
                                                         struct nvme_cmd_slot *slot,
                                                         struct nvme_sqe *sqe, void *buf,
                                                         uint32_t len, enum nvme_dma_dir dir)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    const uint32_t ps = ctrl->page_size;
    const uint32_t epp = ps / (uint32_t)sizeof(uint64_t); /* entries per list page */

    if (buf == NULL)
        return NVME_ERR_INVAL;
    /* PRP1 needs bits 1:0 clear (§4.3); lengths are whole dwords. */
    if (((uintptr_t)buf & 3u) != 0 || (len & 3u) != 0)
        return NVME_ERR_ALIGN;
    if (ctrl->info.mdts_bytes != 0 && len > ctrl->info.mdts_bytes)
        return NVME_ERR_INVAL;

    uintptr_t va = (uintptr_t)buf;
    uint32_t left = len;
    uint32_t piece = ps - (uint32_t)(va & (ps - 1u));
    if (piece > left)
        piece = left;

    slot->buf = buf;
    slot->len = 0; /* grows with each mapped piece so a failure unmaps just those */
    slot->dir = (uint8_t)dir;
    slot->prp_pages = NULL;

    uint64_t bus;
    int rc = nvme_prp_map(ctrl, va, piece, dir, &bus);
    if (rc != NVME_OK)
        goto fail;
    slot->len += piece;
    sqe->prp1 = bus;
    sqe->prp2 = 0;
    va += piece;
    left -= piece;
    if (left == 0)
        return NVME_OK;

    uint32_t pieces_left = nvme_div32(left + ps - 1u, ps); /* all at offset 0 from here on */
    struct nvme_prp_page *pg = NULL, *tail = NULL;
    uint32_t idx = 0;
    while (left > 0) {
        piece = left < ps ? left : ps;
        rc = nvme_prp_map(ctrl, va, piece, dir, &bus);
        if (rc != NVME_OK)
            goto fail;
        slot->len += piece;
        if (pieces_left == 1 && pg == NULL) {
            sqe->prp2 = bus; /* exactly two pieces: no list */
        } else {
            if (pg == NULL || (idx == epp - 1u && pieces_left > 1)) {
                struct nvme_prp_page *next = nvme_prp_page_get(qp);
                if (next == NULL) {
                    rc = NVME_ERR_BUSY; /* (admin: another CPU's command took the pages) */
                    nvme_map_page_undo(ctrl, (void *)va, piece, dir);
                    slot->len -= piece;
                    goto fail;
                }
                if (pg == NULL) {
                    sqe->prp2 = next->bus;
                    slot->prp_pages = next;
                } else {
                    pg->va[epp - 1u] = next->bus; /* chain to the next list page */
                    nvme_dma_sync(ctrl, pg->va, ps, NVME_DMA_TO_DEVICE);
                    tail->next = next;
                }
                pg = tail = next;
                idx = 0;
            }
            /* pg is set: the branch above runs whenever it is NULL and
             * either assigns it or jumps to fail (cppcheck 2.10 misses it). */
            // cppcheck-suppress nullPointerRedundantCheck
            pg->va[idx++] = bus;
        }
        va += piece;
        left -= piece;
        pieces_left--;
    }
    if (pg != NULL)
        nvme_dma_sync(ctrl, pg->va, idx * sizeof(uint64_t), NVME_DMA_TO_DEVICE);
    return NVME_OK;

fail:
    nvme_prp_release(qp, slot);
    return rc;
}

int nvme_prp_build(struct nvme_qpair *qp, struct nvme_cmd_slot *slot, struct nvme_sqe *sqe,
                   void *buf, uint32_t len, enum nvme_dma_dir dir)
{
    struct nvme_ctrl *ctrl = qp->ctrl;
    uintptr_t va = (uintptr_t)buf;
    uint32_t off = (uint32_t)(va & (ctrl->page_size - 1u));

    /* The common case first: one dword-aligned piece inside one memory
     * page, PRP1 alone (§4.3). */
    if (buf == NULL || (va & 3u) != 0 || (len & 3u) != 0 || len > ctrl->page_size - off)
        return nvme_prp_build_list(qp, slot, sqe, buf, len, dir);
    uint64_t bus;
    int rc = nvme_prp_map(ctrl, va, len, dir, &bus);
    if (rc != NVME_OK)
        return rc;
    slot->buf = buf;
    slot->len = len;
    slot->dir = (uint8_t)dir;
    sqe->prp1 = bus;
    sqe->prp2 = 0;
    return NVME_OK;
}
