/* SPDX-License-Identifier: MIT */
/*
 * ns.c - the namespace model: enumerate active namespaces with the Active
 * Namespace ID list (Identify CNS 02h, NVMe 1.4 §5.15.2.3), then Identify
 * Namespace (CNS 00h, §6.1.5) each one.  NSIDs need not be contiguous and
 * there may be more than one 1024-entry page of them.
 *
 * Identify data is untrusted: a namespace with nonsense (LBADS out of
 * range, NSZE 0, FLBAS past NLBAF, NSID above NN) is kept in the list
 * with status NVME_ERR_PROTO and refused for I/O; the rest of the
 * controller works.
 */
#include "nvme_internal.h"

#define NVME_LBADS_MIN 9u  /* 512 bytes: smallest LBA size (§6.1.5, LBADS) */
#define NVME_LBADS_MAX 16u /* 64 KiB: larger is absurd for a block device */

void nvme_ns_free(struct nvme_ctrl *ctrl)
{
    if (ctrl->ns != NULL)
        ctrl->osal.mem_free(ctrl->osal.ctx, ctrl->ns, sizeof(*ctrl->ns) * ctrl->ns_cap);
    ctrl->ns = NULL;
    ctrl->nr_ns = 0;
    ctrl->ns_cap = 0;
}

static int nvme_ns_append(struct nvme_ctrl *ctrl, uint32_t nsid)
{
    if (ctrl->nr_ns == ctrl->ns_cap) {
        unsigned cap = ctrl->ns_cap ? ctrl->ns_cap * 2u : 8u;
        struct nvme_ns_info *ns = ctrl->osal.mem_alloc(ctrl->osal.ctx, sizeof(*ns) * cap);
        if (ns == NULL)
            return NVME_ERR_NOMEM;
        nvme_memzero(ns, sizeof(*ns) * cap);
        if (ctrl->ns != NULL) {
            nvme_memcpy(ns, ctrl->ns, sizeof(*ns) * ctrl->nr_ns);
            ctrl->osal.mem_free(ctrl->osal.ctx, ctrl->ns, sizeof(*ns) * ctrl->ns_cap);
        }
        ctrl->ns = ns;
        ctrl->ns_cap = cap;
    }
    struct nvme_ns_info *ns = &ctrl->ns[ctrl->nr_ns++];
    nvme_memzero(ns, sizeof(*ns));
    ns->nsid = nsid;
    return NVME_OK;
}

/* Fills one namespace from Identify Namespace data, checking it. */
static void nvme_ns_parse(struct nvme_ctrl *ctrl, struct nvme_ns_info *ns,
                          const struct nvme_id_ns *id)
{
    ns->nsze = id->nsze;
    ns->ncap = id->ncap;
    ns->nuse = id->nuse;
    ns->flbas = id->flbas;
    ns->nlbaf = id->nlbaf;
    for (unsigned i = 0; i < 16; i++)
        ns->lbaf[i] = id->lbaf[i];

    unsigned fmt = NVME_FLBAS_INDEX(id->flbas);
    const char *why = NULL;
    if (id->nlbaf > NVME_NLBAF_MAX)
        why = "NLBAF above 15";
    else if (fmt > id->nlbaf)
        why = "FLBAS names a format past NLBAF";
    else if (id->lbaf[fmt].lbads < NVME_LBADS_MIN || id->lbaf[fmt].lbads > NVME_LBADS_MAX)
        why = "LBA data size out of range";
    else if (id->nsze == 0)
        why = "NSZE is 0";
    else if (id->ncap > id->nsze || id->nuse > id->ncap)
        why = "NCAP/NUSE exceed NSZE";
    else if (ctrl->info.nn != 0 && ns->nsid > ctrl->info.nn)
        why = "NSID above NN";

    if (why != NULL) {
        nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u unusable: %s", ns->nsid, why);
        ns->status = NVME_ERR_PROTO;
        return;
    }
    ns->lbads = id->lbaf[fmt].lbads;
    ns->lba_size = 1u << ns->lbads;
    ns->ms = id->lbaf[fmt].ms;
    ns->rp = id->lbaf[fmt].rp;
    /* Metadata would need MPTR or interleaved buffers: not supported. */
    if (ns->ms != 0) {
        nvme_log(ctrl, NVME_LOG_WARN, "namespace %u: %u metadata bytes per block unsupported",
                 ns->nsid, ns->ms);
        ns->status = NVME_ERR_UNSUPPORTED;
    } else if (ns->lba_size > ctrl->info.mdts_bytes) {
        nvme_log(ctrl, NVME_LOG_WARN, "namespace %u: LBA size above MDTS", ns->nsid);
        ns->status = NVME_ERR_UNSUPPORTED;
    }
}

static int nvme_ns_identify_all(struct nvme_ctrl *ctrl, struct nvme_id_ns *id)
{
    for (unsigned i = 0; i < ctrl->nr_ns; i++) {
        struct nvme_ns_info *ns = &ctrl->ns[i];
        int rc = nvme_identify(ctrl, NVME_CNS_NS, ns->nsid, id);
        if (rc < 0)
            return rc; /* out of memory, or the controller itself failed */
        if (rc != NVME_OK) {
            nvme_log(ctrl, NVME_LOG_ERROR, "Identify Namespace %u failed", ns->nsid);
            ns->status = rc > 0 ? NVME_ERR_PROTO : rc;
            continue;
        }
        nvme_ns_parse(ctrl, ns, id);
    }
    return NVME_OK;
}

/* Active Namespace ID list, page by page: each page lists active NSIDs
 * greater than the NSID in the command, ascending, zero-terminated when
 * not full (§5.15.2.3). */
static int nvme_ns_list_active(struct nvme_ctrl *ctrl, uint32_t *page)
{
    uint32_t start = 0;
    for (;;) {
        int rc = nvme_identify(ctrl, NVME_CNS_ACTIVE_NS_LIST, start, page);
        if (rc != NVME_OK)
            return rc;
        unsigned i;
        for (i = 0; i < NVME_ACTIVE_NS_LIST_ENTRIES && page[i] != 0; i++) {
            uint32_t nsid = page[i];
            if (nsid <= start || nsid == NVME_NSID_ALL) {
                nvme_log(ctrl, NVME_LOG_ERROR, "active NS list not ascending at %u", nsid);
                return NVME_ERR_PROTO;
            }
            if (ctrl->nr_ns >= NVME_MAX_NAMESPACES)
                return NVME_OK;
            rc = nvme_ns_append(ctrl, nsid);
            if (rc != NVME_OK)
                return rc;
            start = nsid;
        }
        if (i < NVME_ACTIVE_NS_LIST_ENTRIES)
            return NVME_OK; /* a short page is the last one */
    }
}

int nvme_ns_scan(struct nvme_ctrl *ctrl)
{
    const struct nvme_osal *o = &ctrl->osal;
    void *page = o->mem_alloc(o->ctx, NVME_IDENTIFY_DATA_SIZE);
    if (page == NULL)
        return NVME_ERR_NOMEM;

    nvme_ns_free(ctrl);
    /* CNS 02h exists since NVMe 1.1; older controllers, or ones that
     * reject it, are enumerated 1..NN, keeping namespaces with NSZE != 0. */
    bool have_list = ctrl->info.vs >= NVME_VS(1, 1, 0);
    int rc = have_list ? nvme_ns_list_active(ctrl, page) : 1;
    if (rc > 0 || rc == NVME_ERR_PROTO) {
        nvme_ns_free(ctrl);
        uint32_t nn = ctrl->info.nn < NVME_MAX_NAMESPACES ? ctrl->info.nn : NVME_MAX_NAMESPACES;
        rc = NVME_OK;
        for (uint32_t nsid = 1; nsid <= nn && rc == NVME_OK; nsid++) {
            rc = nvme_identify(ctrl, NVME_CNS_NS, nsid, page);
            if (rc > 0) { /* e.g. Invalid Namespace: not there */
                rc = NVME_OK;
                continue;
            }
            if (rc == NVME_OK && ((struct nvme_id_ns *)page)->nsze != 0)
                rc = nvme_ns_append(ctrl, nsid);
        }
    }
    if (rc == NVME_OK)
        rc = nvme_ns_identify_all(ctrl, page);
    o->mem_free(o->ctx, page, NVME_IDENTIFY_DATA_SIZE);
    if (rc != NVME_OK)
        nvme_ns_free(ctrl);
    return rc;
}

int nvme_ns_rescan(struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    return nvme_ns_scan(ctrl);
}

unsigned nvme_ns_count(const struct nvme_ctrl *ctrl)
{
    return ctrl != NULL ? ctrl->nr_ns : 0;
}

const struct nvme_ns_info *nvme_ns_at(const struct nvme_ctrl *ctrl, unsigned idx)
{
    return ctrl != NULL && idx < ctrl->nr_ns ? &ctrl->ns[idx] : NULL;
}

const struct nvme_ns_info *nvme_ns_find(const struct nvme_ctrl *ctrl, uint32_t nsid)
{
    if (ctrl == NULL)
        return NULL;
    unsigned lo = 0, hi = ctrl->nr_ns; /* sorted: the list is ascending */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2u;
        if (ctrl->ns[mid].nsid == nsid)
            return &ctrl->ns[mid];
        if (ctrl->ns[mid].nsid < nsid)
            lo = mid + 1u;
        else
            hi = mid;
    }
    return NULL;
}

int nvme_ns_set_read_only(struct nvme_ctrl *ctrl, uint32_t nsid, bool ro)
{
    struct nvme_ns_info *ns = (struct nvme_ns_info *)(uintptr_t)nvme_ns_find(ctrl, nsid);
    if (ns == NULL)
        return NVME_ERR_NOENT;
    ns->read_only = ro;
    return NVME_OK;
}
