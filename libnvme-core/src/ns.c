/* SPDX-License-Identifier: MIT */
/*
 * ns.c - the namespace model: enumerate active namespaces with the Active
 * Namespace ID list (Identify CNS 02h, NVMe 1.4 §5.15.2.3), then Identify
 * Namespace (CNS 00h, §5.15.2.1) each one.  NSIDs need not be contiguous and
 * there may be more than one 1024-entry page of them.
 *
 * Identify data is untrusted: a namespace with nonsense (LBADS out of
 * range, NSZE or NCAP 0, FLBAS past NLBAF, NSID above NN) is kept in the list
 * with status NVME_ERR_PROTO and refused for I/O; the rest of the
 * controller works.
 *
 * Handles stay valid (nvme.h): every namespace is its own object, kept
 * until nvme_ctrl_fini.  A scan gathers everything first and only then
 * replaces the table of active namespaces in one pointer store; the table
 * it replaced is freed one scan later, so a lookup that raced with the
 * swap never reads freed memory.  A failed scan changes nothing.
 */
#include "nvme_internal.h"

static void *nvme_ns_alloc(struct nvme_ctrl *ctrl, size_t size)
{
    void *p = ctrl->osal.mem_alloc(ctrl->osal.ctx, size);
    if (p != NULL)
        nvme_memzero(p, size);
    return p;
}

static void nvme_ns_table_free(struct nvme_ctrl *ctrl, struct nvme_ns_table *t)
{
    if (t != NULL)
        ctrl->osal.mem_free(ctrl->osal.ctx, t, sizeof(*t) + sizeof(t->ns[0]) * t->count);
}

/* Lookups (nvme_ns_count, nvme_ns_at, nvme_ns_find) read the table
 * between nvme_ns_read_begin and nvme_ns_read_end, without a lock and
 * without sleeping; a scan replaces the table whole, so a lookup that
 * began before the swap may still read the old one.  The old one is
 * freed only once no lookup runs (ns_readers seen at 0 after the swap:
 * any lookup that begins later reads the new table), as Linux's SRCU
 * readers; until then it waits on the retired list.  What a lookup
 * returns, a namespace object, lives until nvme_ctrl_fini.  (The two
 * are inline in nvme_internal.h: recovery.c, below this file, reads the
 * table too.) */
static __attribute__((noinline)) void nvme_ns_retired_free_all(struct nvme_ctrl *ctrl)
{
    while (ctrl->ns_retired != NULL) {
        struct nvme_ns_table *t = ctrl->ns_retired;
        ctrl->ns_retired = t->retired;
        nvme_ns_table_free(ctrl, t);
    }
}

/* Frees the retired tables when no lookup runs: a few looks, 1 ms
 * apart (a lookup is a binary search); else they wait for the next scan
 * or nvme_ctrl_fini.  Scan flag held. */
static void nvme_ns_free_retired(struct nvme_ctrl *ctrl, unsigned looks)
{
    for (unsigned i = 0; ctrl->ns_retired != NULL; i++) {
        if (__atomic_load_n(&ctrl->ns_readers, __ATOMIC_SEQ_CST) == 0) {
            nvme_ns_retired_free_all(ctrl);
            return;
        }
        if (i + 1u >= looks)
            return;
        ctrl->osal.sleep_us(ctrl->osal.ctx, NVME_WAIT_SLICE_US);
    }
}

void nvme_ns_free(struct nvme_ctrl *ctrl)
{
    nvme_ns_retired_free_all(ctrl); /* nvme_ctrl_fini: no lookup runs any more */
    nvme_ns_table_free(ctrl, ctrl->ns_table);
    ctrl->ns_table = NULL;
    for (unsigned i = 0; i < ctrl->ns_all_count; i++)
        ctrl->osal.mem_free(ctrl->osal.ctx, ctrl->ns_all[i], sizeof(*ctrl->ns_all[i]));
    if (ctrl->ns_all != NULL)
        ctrl->osal.mem_free(ctrl->osal.ctx, ctrl->ns_all, sizeof(*ctrl->ns_all) * ctrl->ns_all_cap);
    ctrl->ns_all = NULL;
    ctrl->ns_all_count = ctrl->ns_all_cap = 0;
}

/* What the core does with the namespace's PI (NVM CS 1.0 §5.2.1): it
 * builds commands for the 16b Guard (8 bytes) and, as Linux, the 64b
 * Guard (16 bytes), neither with a storage tag.  Plain nvme_read/
 * nvme_write move data only: fine without metadata, and for PI-only
 * formats (ms = the PI's size) with PRACT, since then the controller
 * inserts and strips the PI and transfers no metadata (NVM CS §5.2.2).
 * known: the PIF is the controller's word (else only ms 8 has a PI the
 * core can name: 16b Guard). */
static void nvme_ns_pi_setup(struct nvme_ns_info *ns, bool known)
{
    unsigned size = ns->pif == NVME_PIF_64B_GUARD ? 16u : ns->pif == NVME_PIF_16B_GUARD ? 8u : 0u;
    if (!known)
        size = ns->ms == 8u ? 8u : 0u;
    ns->pi_size = (uint8_t)(ns->pi_type != 0 && ns->sts == 0 && size <= ns->ms ? size : 0u);
    ns->plain_io = ns->ms == 0 || (ns->pi_size != 0 && ns->ms == ns->pi_size);
}

/* Fills one namespace from Identify Namespace data, checking it.  The
 * in-use format is FLBAS bits 3:0, plus bits 6:5 when there are more than
 * 16 formats (NVMe 2.0, NVM CS Figure 97); format i is at byte 128 + 4 i. */
static __attribute__((noinline)) void nvme_ns_parse(struct nvme_ctrl *ctrl, struct nvme_ns_info *ns,
                                                    const struct nvme_id_ns *id)
{
    if (!(ctrl->quirks & NVME_QUIRK_BOGUS_NID)) { /* as nvme_identify_ns_descs */
        nvme_memcpy(ns->nguid, id->nguid, sizeof(ns->nguid));
        nvme_memcpy(ns->eui64, id->eui64, sizeof(ns->eui64));
    }
    ns->nsze = id->nsze;
    ns->ncap = id->ncap;
    ns->nuse = id->nuse;
    ns->flbas = id->flbas;
    /* The device's write protection, at every scan (nvme.h): a namespace
     * a Namespace Attribute Changed event says became (or stopped being)
     * write protected is told so by its rescan. */
    ns->write_protected = (id->nsattr & NVME_NSATTR_WRITE_PROTECTED) != 0;
    /* Within lbaf[] whatever the device says (above 63 the namespace is
     * refused below): a caller walks lbaf[0..nlbaf] (nvme.h), the unique
     * capability formats (NULBAF) included. */
    unsigned last = nvme_id_ns_last_lbaf(id);
    ns->nlbaf = last < NVME_LBAF_COUNT ? (uint8_t)last : (uint8_t)(NVME_LBAF_COUNT - 1u);
    /* `ns` is zeroed (nvme_ns_scan_one): formats past the last stay 0. */
    for (unsigned i = 0; i <= ns->nlbaf; i++)
        ns->lbaf[i] = nvme_id_ns_lbaf(id, i);

    unsigned fmt = nvme_id_ns_format(id); /* below NVME_LBAF_COUNT (6 bits) */
    struct nvme_lbaf lbaf = ns->lbaf[fmt];
    const char *why = NULL;
    uint32_t nn = NVME_READ_ONCE(ctrl->info.nn); /* a reset may take a new NN */
    if (last > NVME_NLBAF_MAX_V2)
        why = "NLBAF above 63";
    else if (fmt > last)
        why = "FLBAS names a format past NLBAF";
    else if (lbaf.lbads < NVME_LBADS_MIN || lbaf.lbads > NVME_LBADS_MAX)
        why = "LBA data size out of range";
    else if (id->nsze == 0)
        why = "NSZE is 0";
    else if (id->ncap == 0) /* "an inactive namespace ID" (NVMe 1.3 Figure 114, NCAP) */
        why = "NCAP is 0: not available for use";
    else if (nn != 0 && ns->nsid > nn)
        why = "NSID above NN";

    if (why != NULL) {
        nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u unusable: %s", ns->nsid, why);
        ns->status = NVME_ERR_PROTO;
        return;
    }
    /* NCAP <= NSZE and NUSE <= NCAP (NVM CS 1.0 §2.1.1) are reports on
     * space, not bounds: I/O is checked against NSZE alone, so a firmware
     * that gets them wrong keeps its namespace, as under Linux.  An NCAP
     * of 0 is no such report but a namespace that has no capacity to
     * use (refused above; Linux makes no disk of it either). */
    if (id->ncap > id->nsze || id->nuse > id->ncap)
        nvme_log(ctrl, NVME_LOG_WARN,
                 "namespace %u: NCAP/NUSE out of order (NUSE <= NCAP <= NSZE; ignored: I/O "
                 "stays within NSZE)",
                 ns->nsid);
    ns->status = NVME_OK;
    ns->format = (uint8_t)fmt;
    ns->lbads = lbaf.lbads;
    ns->lba_size = 1u << ns->lbads;
    ns->ms = lbaf.ms;
    ns->rp = lbaf.rp;
    ns->md_extended = ns->ms != 0 && (id->flbas & NVME_FLBAS_EXTENDED) != 0;
    ns->pi_type = ns->ms >= 8u ? (uint8_t)NVME_DPS_PI_TYPE(id->dps) : 0u;
    ns->pi_first = (id->dps & NVME_DPS_PI_FIRST) != 0;
    ns->dlfeat = id->dlfeat;
    ns->copy_max_range = id->mssrl;
    ns->copy_max_ranges = (uint16_t)(id->msrc + 1u);
    ns->copy_max_blocks = id->mcl;
    if (ns->pi_type > 3u) {
        nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u: reserved PI type %u", ns->nsid, ns->pi_type);
        ns->status = NVME_ERR_PROTO;
        return;
    }
    nvme_ns_pi_setup(ns, true); /* 16b Guard (NVMe 1.4) unless nvme_ns_elbaf says otherwise */
    uint64_t block = (uint64_t)ns->lba_size + (ns->md_extended ? ns->ms : 0u);
    if (block > ctrl->info.mdts_bytes) {
        nvme_log(ctrl, NVME_LOG_WARN, "namespace %u: %llu-byte blocks above MDTS (%u bytes)",
                 ns->nsid, (unsigned long long)block, ctrl->info.mdts_bytes);
        ns->status = NVME_ERR_UNSUPPORTED;
    }
}

/* nvme_ns_command_set, nvme_ns_zns_parse, nvme_ns_elbaf: the controller
 * did not say what the namespace is (its command set not reported, its
 * zoned or NVM Identify refused for now): one in use stays as it was, a
 * new one is unusable. */
#define NVME_NS_UNDECIDED 1

/* Whether `a` and `b` carry the same NGUID, EUI64 and UUID (one run of
 * bytes in struct nvme_ns_info). */
NVME_STATIC_ASSERT(offsetof(struct nvme_ns_info, eui64) ==
                           offsetof(struct nvme_ns_info, nguid) + 16 &&
                       offsetof(struct nvme_ns_info, uuid) ==
                           offsetof(struct nvme_ns_info, eui64) + 8,
                   "identifiers in one run");
#define NVME_NS_IDS(ns) ((const uint8_t *)(ns) + offsetof(struct nvme_ns_info, nguid))
static __attribute__((noinline)) bool nvme_ns_same_ids(const struct nvme_ns_info *a,
                                                       const struct nvme_ns_info *b)
{
    return nvme_bytes_eq(NVME_NS_IDS(a), NVME_NS_IDS(b), 40);
}

/* Which command set a namespace uses: the CSI descriptor of CNS 03h, only
 * asked when command sets are enabled (CC.CSS 110b); the UUID of the same
 * list, asked also (NVMe 1.3 and later) of a namespace Identify Namespace
 * gives neither NGUID nor EUI64 for, which a controller may name by UUID
 * alone (Linux's nvme_ns_ids_equal compares it too): a list failing
 * (or, where sets are enabled, without the CSI descriptor) leaves the
 * UUID the namespace had (`was`).  A zoned namespace then gets its zone
 * size from CNS 05h CSI 02h; other sets than NVM and
 * ZNS are listed but refused.  A list refused, malformed or without the
 * CSI descriptor (Identify CNS 03h, NVMe 2.0) says nothing of the set: never
 * taken for NVM (a zoned namespace would get writes anywhere), but
 * NVME_NS_UNDECIDED, as Linux's nvme_identify_ns_descs fails
 * with "Command set not reported" when several sets are enabled. */
static int nvme_ns_command_set(struct nvme_ctrl *ctrl, struct nvme_ns_info *ns, void *page,
                               const struct nvme_ns_info *was)
{
    static const uint8_t none[24];
    ns->csi = NVME_CSI_NVM;
    bool iocs = ctrl->cc_css == NVME_CC_CSS_IOCS;
    bool unnamed = NVME_READ_ONCE(ctrl->info.vs) >= NVME_VS(1, 3, 0) &&
                   nvme_bytes_eq(NVME_NS_IDS(ns), none, 24); /* NGUID, EUI64 */
    if ((!iocs && !unnamed) || (ctrl->quirks & NVME_QUIRK_NO_NS_DESC_LIST) || ns->status != NVME_OK)
        return NVME_OK;
    struct nvme_ns_ids ids;
    int rc = nvme_identify_ns_descs(ctrl, ns->nsid, &ids);
    if (rc < 0 && rc != NVME_ERR_PROTO)
        return rc;
    /* (A list without the CSI where sets are enabled says nothing.) */
    const uint8_t *uuid = rc == NVME_OK && (ids.has_csi || !iocs) ? ids.uuid
                          : was != NULL                           ? was->uuid
                                                                  : none;
    nvme_memcpy(ns->uuid, uuid, sizeof(ns->uuid));
    if (!iocs)
        return NVME_OK;
    if (rc != NVME_OK || !ids.has_csi) {
        nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u: command set not reported (%s)", ns->nsid,
                 rc != NVME_OK ? nvme_strerror(rc) : "no CSI descriptor");
        return NVME_NS_UNDECIDED;
    }
    ns->csi = ids.csi;
    if (ids.csi == NVME_CSI_ZNS)
        return nvme_ns_zns_parse(ctrl, ns, page);
    if (ids.csi != NVME_CSI_NVM) {
        nvme_log(ctrl, NVME_LOG_WARN, "namespace %u: command set %u unsupported", ns->nsid,
                 ids.csi);
        ns->status = NVME_ERR_UNSUPPORTED;
    }
    return NVME_OK;
}

/* The PI format of the namespace's format in use: its Extended LBA
 * Format (CNS 05h CSI 00h, NVM CS 1.0 Figure 100), when CTRATT.ELBAS says
 * the controller reports them, as Linux's nvme_init_ms (whether PI is
 * enabled or not: the Copy descriptor format follows the PIF even without
 * PI, nvme_copy).  A refusal with DNR leaves the 16b Guard only where it
 * is the one that fits (ms 8); one without DNR (retried already) is
 * NVME_NS_UNDECIDED, as for the zoned Identify (nvme_ns_zns_parse) and
 * Linux's nvme_validate_ns, which keeps the namespace; a host-side
 * failure fails the scan. */
static int nvme_ns_elbaf(struct nvme_ctrl *ctrl, struct nvme_ns_info *ns, void *page)
{
    if (!(NVME_READ_ONCE(ctrl->info.ctratt) & NVME_CTRATT_ELBAS) || ns->status != NVME_OK ||
        (ctrl->quirks & NVME_QUIRK_IDENTIFY_CNS))
        return NVME_OK;
    int rc = nvme_identify_cs(ctrl, NVME_CNS_CS_NS, ns->nsid, NVME_CSI_NVM, page);
    if (rc < 0)
        return rc;
    if (rc > 0 && !NVME_SF_DNR((uint16_t)rc)) {
        nvme_log(ctrl, NVME_LOG_WARN, "namespace %u: NVM Identify Namespace failed (%s)", ns->nsid,
                 nvme_strerror(rc));
        return NVME_NS_UNDECIDED;
    }
    if (rc != NVME_OK) {
        nvme_log(ctrl, NVME_LOG_WARN, "namespace %u: NVM Identify Namespace refused (%s)%s",
                 ns->nsid, nvme_strerror(rc),
                 ns->pi_type == 0 || ns->ms == 8u ? "" : ": its PI format is unknown");
    } else {
        uint32_t e = ((const struct nvme_id_ns_nvm *)page)->elbaf[ns->format];
        ns->pif = (uint8_t)NVME_ELBAF_PIF(e);
        ns->sts = (uint8_t)NVME_ELBAF_STS(e);
    }
    nvme_ns_pi_setup(ns, rc == NVME_OK);
    if (rc == NVME_OK && ns->pi_type != 0 && ns->pi_size == 0)
        nvme_log(ctrl, NVME_LOG_WARN,
                 "namespace %u: protection information format %u with a %u-bit storage tag: "
                 "no PI flags, nvme_read_ext/nvme_write_ext carry its metadata as it is",
                 ns->nsid, ns->pif, ns->sts);
    return NVME_OK;
}

/* A refusal with DNR, or data without a zone size, makes the namespace
 * unusable; one without DNR (retried already) is NVME_NS_UNDECIDED, as
 * Linux's nvme_validate_ns drops a namespace only for a status with DNR
 * and otherwise leaves it as it was. */
int nvme_ns_zns_parse(struct nvme_ctrl *ctrl, struct nvme_ns_info *ns, void *page)
{
    /* The controller's ZASL (CNS 06h CSI 02h) goes with its zoned
     * namespaces' data: forgotten at each scan, asked again by the next
     * Zone Append (nvme_zns_append), as a firmware a reset activated may
     * have another (a rescan follows each restart, aer.c). */
    NVME_WRITE_ONCE(ctrl->zasl_bytes, 0u);
    int rc = nvme_identify_cs(ctrl, NVME_CNS_CS_NS, ns->nsid, NVME_CSI_ZNS, page);
    if (rc < 0)
        return rc;
    if (rc > 0 && !NVME_SF_DNR((uint16_t)rc)) {
        nvme_log(ctrl, NVME_LOG_WARN, "namespace %u: zoned Identify Namespace failed (%s)",
                 ns->nsid, nvme_strerror(rc));
        return NVME_NS_UNDECIDED;
    }
    const struct nvme_id_ns_zns *z = page;
    uint64_t zsze = rc == NVME_OK ? z->lbafe[ns->format].zsze : 0u;
    if (zsze == 0 || zsze > ns->nsze) {
        nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u: zoned namespace without a valid zone size",
                 ns->nsid);
        ns->status = NVME_ERR_PROTO;
        return NVME_OK;
    }
    ns->zone_size = zsze;
    ns->zdes = z->lbafe[ns->format].zdes;
    /* Zone sizes are powers of two on every known device, but not by rule:
     * NSZE / ZSZE without a 64-bit division (i686 has none in hardware). */
    ns->nr_zones = nvme_u64_divmod(ns->nsze, zsze, NULL);
    ns->max_open_zones = z->mor == 0xffffffffu ? 0u : z->mor + 1u;
    ns->max_active_zones = z->mar == 0xffffffffu ? 0u : z->mar + 1u;
    return NVME_OK;
}

/* A growable list of NSIDs (the scan's first phase). */
struct nvme_nsid_list {
    uint32_t *id;
    unsigned count, cap;
};

static int nvme_nsid_add(struct nvme_ctrl *ctrl, struct nvme_nsid_list *l, uint32_t nsid)
{
    if (l->count == l->cap) {
        unsigned cap = l->cap ? l->cap * 2u : 64u;
        uint32_t *id = nvme_ns_alloc(ctrl, sizeof(*id) * cap);
        if (id == NULL)
            return NVME_ERR_NOMEM;
        if (l->id != NULL) {
            nvme_memcpy(id, l->id, sizeof(*id) * l->count);
            ctrl->osal.mem_free(ctrl->osal.ctx, l->id, sizeof(*id) * l->cap);
        }
        l->id = id;
        l->cap = cap;
    }
    l->id[l->count++] = nsid;
    return NVME_OK;
}

/* Active Namespace ID list, page by page: each page lists active NSIDs
 * greater than the NSID in the command, ascending, zero-terminated when
 * not full (§5.15.2.3).  A valid NSID is at most NN (NVMe 2.0 §3.2.1):
 * no page is asked for after one that reaches NN, so a hostile list of
 * full pages costs at most NN + 1024 NSIDs (one Identify Namespace
 * each) and NN / 1024 + 1 pages, not NVME_MAX_NAMESPACES (the bound
 * when NN is 0).  Those above NN on the last page are listed unusable
 * (nvme_ns_parse). */
static int nvme_ns_list_active(struct nvme_ctrl *ctrl, uint32_t *page, struct nvme_nsid_list *l)
{
    uint32_t start = 0, nn = NVME_READ_ONCE(ctrl->info.nn);
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
            if (l->count >= NVME_MAX_NAMESPACES)
                return NVME_OK;
            rc = nvme_nsid_add(ctrl, l, nsid);
            if (rc != NVME_OK)
                return rc;
            start = nsid;
        }
        /* A short page is the last one; so is a full one that ends at
         * FFFFFFFEh, the highest NSID: a list of NSIDs above it is
         * refused with Invalid Namespace or Format (§5.15.2, CNS 02h);
         * and one that reaches NN: no valid NSID is above it. */
        if (i < NVME_ACTIVE_NS_LIST_ENTRIES || start == NVME_NSID_ALL - 1u)
            return NVME_OK;
        if (nn != 0 && start >= nn) {
            if (start > nn)
                nvme_log(ctrl, NVME_LOG_WARN, "active NS list above NN %u (to %u): last page", nn,
                         start);
            return NVME_OK;
        }
    }
}

/* CNS 02h exists since NVMe 1.1; older controllers, or ones that reject
 * it, are enumerated 1..NN (at most NVME_MAX_NS_PROBE), keeping
 * namespaces with NSZE and NCAP != 0 (an inactive NSID reads as zeros;
 * NCAP 0 is no capacity to use: Linux's nvme_ns_info_from_identify
 * leaves such a namespace out too).  A list failing with a status
 * without DNR (retried already) fails the scan, the table kept, as
 * Linux's nvme_scan_work probes only after one with DNR: the probe
 * cannot see NSIDs past its bound.  The first scan, with no namespace to
 * lose, probes. */
static int nvme_ns_list(struct nvme_ctrl *ctrl, uint32_t *page, struct nvme_nsid_list *l)
{
    int rc = ctrl->info.vs >= NVME_VS(1, 1, 0) && !(ctrl->quirks & NVME_QUIRK_IDENTIFY_CNS)
                 ? nvme_ns_list_active(ctrl, page, l)
                 : (int)NVME_SF_DNR_BIT;
    if (rc <= 0 && rc != NVME_ERR_PROTO)
        return rc;
    if (rc > 0 && !NVME_SF_DNR((uint16_t)rc) && ctrl->ns_all_count != 0)
        return rc;
    l->count = 0;
    uint32_t nn = NVME_READ_ONCE(ctrl->info.nn);
    if (nn > NVME_MAX_NS_PROBE) {
        nvme_log(ctrl, NVME_LOG_WARN, "NN %u: NSIDs past %u not probed", nn, NVME_MAX_NS_PROBE);
        nn = NVME_MAX_NS_PROBE;
    }
    for (uint32_t nsid = 1; nsid <= nn; nsid++) {
        rc = nvme_identify(ctrl, NVME_CNS_NS, nsid, page);
        const struct nvme_id_ns *id = (const struct nvme_id_ns *)(const void *)page;
        if (rc > 0) {
            /* A status (e.g. Invalid Namespace) is "not there", but one
             * without DNR (retried already) of a namespace in use is
             * listed, for nvme_ns_identify_all to keep it as it was, as
             * Linux's sequential scan leaves one whose Identify fails. */
            const struct nvme_ns_info *was = nvme_ns_search(ctrl->ns_all, ctrl->ns_all_count, nsid);
            if (NVME_SF_DNR((uint16_t)rc) || was == NULL || NVME_READ_ONCE(was->status) != NVME_OK)
                continue;
        } else if (rc != NVME_OK) {
            return rc;
        } else if (id->nsze == 0 || id->ncap == 0) {
            continue;
        }
        if ((rc = nvme_nsid_add(ctrl, l, nsid)) != NVME_OK)
            return rc;
    }
    return NVME_OK;
}

/* ns_all keeps an object for every NSID ever listed until
 * nvme_ctrl_fini (handles stay valid, nvme.h), and a valid NSID is any
 * up to FFFFFFFEh (NVMe 2.0 §3.2.1): a device that names other NSIDs at
 * each rescan would have it grow without end, one object per NSID, past
 * the bound on one scan.  It holds at most NVME_MAX_NAMESPACES: NSIDs
 * new to the core past that are left out of the table (and get no
 * Identify), as a list past that bound is.  Both lists ascend: one
 * merge walk. */
static void nvme_ns_list_bound(struct nvme_ctrl *ctrl, struct nvme_nsid_list *l)
{
    unsigned m = ctrl->ns_all_count, k = 0, left_out = 0;
    unsigned room = m < NVME_MAX_NAMESPACES ? NVME_MAX_NAMESPACES - m : 0u;
    for (unsigned i = 0, a = 0; i < l->count; i++) {
        while (a < m && ctrl->ns_all[a]->nsid < l->id[i])
            a++;
        if (!(a < m && ctrl->ns_all[a]->nsid == l->id[i])) {
            if (room == 0) {
                left_out++;
                continue;
            }
            room--;
        }
        l->id[k++] = l->id[i];
    }
    if (left_out != 0)
        nvme_log(ctrl, NVME_LOG_ERROR,
                 "%u new NSIDs not tracked: %u namespace objects already made (the bound)",
                 left_out, m);
    l->count = k;
}

/* The object for `nsid`: the one this controller already had, else NULL.
 * ns_all ascends by NSID (nvme_ns_commit keeps it so). */
static struct nvme_ns_info *nvme_ns_object(struct nvme_ctrl *ctrl, uint32_t nsid)
{
    return nvme_ns_search(ctrl->ns_all, ctrl->ns_all_count, nsid);
}

/* Whether `a` and `b` (just parsed) have the same blocks: data and
 * metadata sizes, where the metadata goes, the PI. */
static __attribute__((noinline)) bool nvme_ns_same_format(const struct nvme_ns_info *a,
                                                          const struct nvme_ns_info *b)
{
    return a->format == b->format && a->lba_size == b->lba_size && a->ms == b->ms &&
           a->md_extended == b->md_extended && a->pi_type == b->pi_type &&
           a->pi_first == b->pi_first;
}

/* Whether `b` (just parsed) can still be the namespace `a` was: the same
 * NGUID and EUI64 from Identify Namespace and UUID (nvme_ns_command_set)
 * (other ones: deleted and made again, §5.15.2.1, Figure 245), and the
 * same command set when the controller reported one (only a zoned
 * namespace's refused CNS 05h gets here with one; a list without the CSI
 * descriptor leaves NVM, the default).  Linux's nvme_validate_ns compares the identifiers and the
 * CSI (nvme_ns_ids_equal) before it leaves a namespace alone. */
static bool nvme_ns_same_identity(const struct nvme_ns_info *a, const struct nvme_ns_info *b)
{
    return (b->csi == NVME_CSI_NVM || a->csi == b->csi) && nvme_ns_same_ids(a, b);
}

/* `info` (just parsed) kept as the namespace `was` (same format and
 * identity), but with the size its Identify Namespace gives now (NSZE,
 * NCAP, NUSE, §5.15.2.1): the device's, never a size it no longer has
 * (I/O past the new end, LBA Out of Range) nor short of one it grew to.
 * A zoned one keeps its zone size: its zones counted again, unusable
 * when not one fits. */
static __attribute__((noinline)) void nvme_ns_keep_resized(struct nvme_ns_info *info,
                                                           const struct nvme_ns_info *was)
{
    uint64_t nsze = info->nsze, ncap = info->ncap, nuse = info->nuse;
    bool wp = info->write_protected; /* Identify Namespace's too, as the size */
    nvme_memcpy(info, was, sizeof(*info));
    info->nsze = nsze;
    info->ncap = ncap;
    info->nuse = nuse;
    info->write_protected = wp;
    if (info->zone_size != 0) {
        info->nr_zones = nvme_u64_divmod(nsze, info->zone_size, NULL);
        if (info->nr_zones == 0)
            info->status = NVME_ERR_PROTO;
    }
}

/* Second phase: Identify each namespace into `info`.  A namespace whose
 * Identify the controller refuses is kept as unusable, except one in use
 * refused with a status without DNR (retried already): that one stays
 * as it was, as Linux's scan leaves a namespace alone when its Identify
 * fails and removes one only for a status with DNR (nvme_scan_ns,
 * nvme_validate_ns).  Not one frozen for a Format (its old format must
 * not come back).  One whose command set is not reported (CNS 03h),
 * whatever the failure, stays as it was too when in use and Identify
 * Namespace still gives its format (Linux's nvme_scan_ns returns before
 * it looks at the namespace), in the size Identify Namespace now gives
 * (nvme_ns_keep_resized), and so does one whose zoned or NVM Identify
 * (CNS 05h) fails without DNR; a new one is unusable.  A
 * host-side failure (memory, timeout, reset, device gone) fails the scan. */
static int nvme_ns_identify_all(struct nvme_ctrl *ctrl, const struct nvme_nsid_list *l,
                                struct nvme_ns_info *info, struct nvme_id_ns *id)
{
    for (unsigned i = 0; i < l->count; i++) {
        info[i].nsid = l->id[i];
        int rc = nvme_identify(ctrl, NVME_CNS_NS, l->id[i], id);
        if (rc < 0)
            return rc;
        const struct nvme_ns_info *was = nvme_ns_object(ctrl, l->id[i]);
        if (rc != NVME_OK && !NVME_SF_DNR((uint16_t)rc) && was != NULL &&
            NVME_READ_ONCE(was->status) == NVME_OK) { /* (only scans write it: ours) */
            nvme_log(ctrl, NVME_LOG_WARN, "Identify Namespace %u failed (%s): kept as it was",
                     l->id[i], nvme_strerror(rc));
            nvme_memcpy(&info[i], was, sizeof(info[i]));
            continue;
        }
        if (rc != NVME_OK) {
            nvme_log(ctrl, NVME_LOG_ERROR, "Identify Namespace %u failed", l->id[i]);
            info[i].status = NVME_ERR_PROTO;
            continue;
        }
        nvme_ns_parse(ctrl, &info[i], id);
        rc = nvme_ns_command_set(ctrl, &info[i], id, was);
        if (rc == NVME_OK)
            rc = nvme_ns_elbaf(ctrl, &info[i], id);
        if (rc == NVME_NS_UNDECIDED) {
            /* Kept only in the format it had: one Identify Namespace now
             * reports otherwise (another host's Format, a namespace made
             * again) would have commands sized for the old blocks; and
             * only while it is the same namespace (identifiers, command
             * set): one made again zoned would get writes anywhere. */
            if (was != NULL && NVME_READ_ONCE(was->status) == NVME_OK &&
                nvme_ns_same_format(was, &info[i]) && nvme_ns_same_identity(was, &info[i])) {
                nvme_log(ctrl, NVME_LOG_WARN, "namespace %u kept as it was", l->id[i]);
                nvme_ns_keep_resized(&info[i], was);
            } else {
                info[i].status = NVME_ERR_PROTO;
            }
            continue;
        }
        if (rc < 0)
            return rc;
    }
    return NVME_OK;
}

/* Third phase: objects for new NSIDs, the new table, then the swap. */
/* What the I/O commands of a namespace are built on (block size,
 * metadata, protection information, command set, zones): one of them
 * sent again after it changed would count blocks of the new size into a
 * buffer described for the old (nvme_recovery_ns_changed). */
static bool nvme_ns_format_differs(const struct nvme_ns_info *ns, const struct nvme_ns_info *info)
{
    return ns->lba_size != info->lba_size || ns->ms != info->ms || ns->format != info->format ||
           ns->csi != info->csi || ns->md_extended != info->md_extended ||
           ns->pi_type != info->pi_type || (ns->pi_type != 0 && ns->pi_first != info->pi_first) ||
           ns->pif != info->pif || ns->sts != info->sts || ns->pi_size != info->pi_size ||
           ns->zone_size != info->zone_size;
}

/* Whether a rescan changes namespace object `ns` into `info` (its
 * generation moves): a freeze's BUSY (Format, Sanitize, a command with
 * CSE effects) is no change of the namespace itself, so a Format to the
 * format in use leaves it the one it was, as in Linux; one that moves the
 * PI within the metadata (DPS bit 3) does not, nor another zone size
 * (ZSZE, ZNS 1.1 Figure 49: the I/O path cuts pieces at zone ends). */
static bool nvme_ns_differs(const struct nvme_ns_info *ns, const struct nvme_ns_info *info)
{
    bool status_moved = ns->status != info->status && ns->status != NVME_ERR_BUSY;
    return status_moved || ns->nsze != info->nsze || nvme_ns_format_differs(ns, info) ||
           !nvme_ns_same_ids(ns, info);
}

/* A namespace whose held commands recovery drops after this scan. */
static __attribute__((noinline)) void nvme_ns_note_stale(struct nvme_ctrl *ctrl, uint32_t nsid)
{
    if (ctrl->ns_stale_n < NVME_NS_STALE_MAX)
        ctrl->ns_stale[ctrl->ns_stale_n] = nsid;
    if (ctrl->ns_stale_n <= NVME_NS_STALE_MAX)
        ctrl->ns_stale_n++; /* past the array: every namespace */
}

/* The objects of the new table, in one merge walk: info[] and ns_all
 * both ascend by NSID, so each NSID finds its object, or gets a new one
 * put in its place in a new ns_all (`all`, sized for the new ones when
 * there are: `fresh`), in O(n + m), never a search of ns_all per
 * namespace (before: 4.3 billion steps per scan at the 65,536-namespace
 * bound).  A new object's nsid stays 0 until nvme_ns_commit publishes
 * it, which tells the ones made here for an undo. */
static int nvme_ns_objects(struct nvme_ctrl *ctrl, const struct nvme_ns_info *info, unsigned n,
                           struct nvme_ns_table *t)
{
    struct nvme_ns_info **old = ctrl->ns_all;
    unsigned m = ctrl->ns_all_count, fresh = 0;
    for (unsigned i = 0, a = 0; i < n; i++) {
        while (a < m && old[a]->nsid < info[i].nsid)
            a++;
        fresh += !(a < m && old[a]->nsid == info[i].nsid);
    }
    struct nvme_ns_info **all = old;
    unsigned cap = ctrl->ns_all_cap;
    if (fresh != 0) {
        cap = m + fresh + 8u;
        all = nvme_ns_alloc(ctrl, sizeof(*all) * cap);
        if (all == NULL)
            return NVME_ERR_NOMEM;
    }
    unsigned a = 0, k = 0; /* k == a while nothing is new: all is old */
    for (unsigned i = 0; i < n; i++) {
        while (a < m && old[a]->nsid < info[i].nsid)
            all[k++] = old[a++];
        struct nvme_ns_info *ns = a < m && old[a]->nsid == info[i].nsid ? old[a++] : NULL;
        if (ns == NULL && (ns = nvme_ns_alloc(ctrl, sizeof(*ns))) == NULL) {
            /* Undo: the objects made here were not published yet. */
            for (unsigned j = 0; j < i; j++)
                if (t->ns[j]->nsid == 0)
                    ctrl->osal.mem_free(ctrl->osal.ctx, t->ns[j], sizeof(*ns));
            if (all != old)
                ctrl->osal.mem_free(ctrl->osal.ctx, all, sizeof(*all) * cap);
            return NVME_ERR_NOMEM;
        }
        all[k++] = ns;
        t->ns[i] = ns;
    }
    while (a < m)
        all[k++] = old[a++];
    if (all != old) {
        if (old != NULL)
            ctrl->osal.mem_free(ctrl->osal.ctx, old, sizeof(*old) * ctrl->ns_all_cap);
        ctrl->ns_all = all;
        ctrl->ns_all_cap = cap;
    }
    ctrl->ns_all_count = k;
    return NVME_OK;
}

static int nvme_ns_commit(struct nvme_ctrl *ctrl, struct nvme_ns_info *info, unsigned n,
                          bool frozen_at_start)
{
    struct nvme_ns_table *t = nvme_ns_alloc(ctrl, sizeof(*t) + sizeof(t->ns[0]) * n);
    if (t == NULL)
        return NVME_ERR_NOMEM;
    t->count = n;
    int rc = nvme_ns_objects(ctrl, info, n, t);
    if (rc != NVME_OK) {
        nvme_ns_table_free(ctrl, t);
        return rc;
    }

    /* Publish: update objects in place (keeping the host's read-only
     * policy, and a Format's freeze), mark vanished ones, swap the table.
     * Where a namespace changed, inside a write of the namespace epoch
     * (nvme_ns_epoch_read): a call that read any field meanwhile is never
     * sent with it. */
    /* Frozen when the scan began (its Identify data may be from before a
     * Format whose thaw gave up waiting for this scan) or now. */
    bool frozen = frozen_at_start || __atomic_load_n(&ctrl->ns_frozen, __ATOMIC_ACQUIRE) != 0;
    bool changed = ctrl->ns_table == NULL || ctrl->ns_table->count != n;
    bool rewrite = false;
    for (unsigned i = 0; i < n; i++)
        rewrite = rewrite || nvme_ns_differs(t->ns[i], &info[i]);
    uint32_t epoch = ctrl->ns_epoch; /* only scans and freezes write it: under the scan flag */
    if (rewrite) {
        __atomic_store_n(&ctrl->ns_epoch, epoch + 1u, __ATOMIC_RELAXED); /* odd */
        __atomic_thread_fence(__ATOMIC_RELEASE);                         /* before the fields */
    }
    for (unsigned i = 0; i < n; i++) {
        struct nvme_ns_info *ns = t->ns[i];
        uint32_t gen = ns->gen;
        bool other = !nvme_ns_same_ids(ns, &info[i]);
        if (other && ns->nsid != 0) /* not new to the core */
            nvme_log(ctrl, NVME_LOG_WARN, "namespace %u: identifiers changed: a new namespace",
                     info[i].nsid);
        if (ns->nsid != 0 && (other || nvme_ns_format_differs(ns, &info[i])))
            nvme_ns_note_stale(ctrl, ns->nsid);
        bool differs = nvme_ns_differs(ns, &info[i]);
        /* Write protection set or cleared is no other namespace (its
         * generation stays) but a change the port is told of (ns_gen). */
        changed = changed || differs || ns->status != info[i].status ||
                  ns->write_protected != info[i].write_protected || ctrl->ns_table->ns[i] != ns;
        /* Copied byte by byte (no struct copy: it would call memcpy), so
         * the fields other CPUs read unlocked get their final values in
         * the copy (gen) or in one store after it (status): none reads
         * half old, half new.  read_only is the host's, not the device's:
         * never copied, so a nvme_ns_set_read_only() on another CPU during
         * the scan is not undone. */
        int status = info[i].status;
        if (frozen && status == NVME_OK)
            status = NVME_ERR_BUSY; /* a Format runs (nvme_ns_freeze) */
        info[i].status = ns->status;
        info[i].gen = gen + (differs ? 1u : 0u);
        /* A call checked before this epoch is not sent on to another
         * namespace (nvme_ns_renewed_since; `other`: rewrite is set). */
        info[i].ids_epoch = other && ns->nsid != 0 ? epoch + 2u : ns->ids_epoch;
        const size_t ro_at = offsetof(struct nvme_ns_info, read_only);
        nvme_memcpy(ns, &info[i], ro_at);
        nvme_memcpy((uint8_t *)ns + ro_at + sizeof(ns->read_only),
                    (const uint8_t *)&info[i] + ro_at + sizeof(ns->read_only),
                    sizeof(*ns) - ro_at - sizeof(ns->read_only));
        NVME_WRITE_ONCE(ns->status, status);
    }
    if (rewrite) /* even again, after the fields */
        __atomic_store_n(&ctrl->ns_epoch, epoch + 2u, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < ctrl->ns_all_count; i++) {
        struct nvme_ns_info *ns = ctrl->ns_all[i];
        if (nvme_ns_table_find(t, ns->nsid) == NULL && ns->status != NVME_ERR_NOENT) {
            NVME_WRITE_ONCE(ns->status, NVME_ERR_NOENT); /* detached or deleted */
            nvme_ns_note_stale(ctrl, ns->nsid);
            changed = true;
        }
    }
    struct nvme_ns_table *old = ctrl->ns_table;
    __atomic_store_n(&ctrl->ns_table, t, __ATOMIC_SEQ_CST); /* nvme_ns_read_begin */
    if (old != NULL) {
        old->retired = ctrl->ns_retired;
        ctrl->ns_retired = old;
    }
    nvme_ns_free_retired(ctrl, 10);
    if (changed) {
        ctrl->ns_gen++;
        if (NVME_READ_ONCE(ctrl->up)) /* bring-up's own scan is not a rescan */
            nvme_stat_inc(&ctrl->stats.rescans);
    }
    return NVME_OK;
}

static int nvme_ns_scan_one(struct nvme_ctrl *ctrl)
{
    struct nvme_nsid_list l;
    nvme_memzero(&l, sizeof(l));
    struct nvme_ns_info *info = NULL;
    bool frozen_at_start = __atomic_load_n(&ctrl->ns_frozen, __ATOMIC_ACQUIRE) != 0;
    void *page = nvme_ns_alloc(ctrl, NVME_IDENTIFY_DATA_SIZE);
    if (page == NULL)
        return NVME_ERR_NOMEM;

    int rc = nvme_ns_list(ctrl, page, &l);
    if (rc == NVME_OK)
        nvme_ns_list_bound(ctrl, &l);
    if (rc == NVME_OK && l.count != 0) {
        info = nvme_ns_alloc(ctrl, sizeof(*info) * l.count);
        rc = info == NULL ? NVME_ERR_NOMEM : nvme_ns_identify_all(ctrl, &l, info, page);
    }
    if (rc == NVME_OK)
        rc = nvme_ns_commit(ctrl, info, l.count, frozen_at_start);
    else
        nvme_log(ctrl, NVME_LOG_ERROR, "namespace scan failed (%s): table kept", nvme_strerror(rc));
    if (info != NULL)
        ctrl->osal.mem_free(ctrl->osal.ctx, info, sizeof(*info) * l.count);
    if (l.id != NULL)
        ctrl->osal.mem_free(ctrl->osal.ctx, l.id, sizeof(*l.id) * l.cap);
    ctrl->osal.mem_free(ctrl->osal.ctx, page, NVME_IDENTIFY_DATA_SIZE);
    return rc;
}

/* One scan at a time: two CPUs' scans (a rescan, an event's, a Format's)
 * would both grow ns_all and swap tables, and the older list could be
 * published last.  A second one waits for the first (bounded: two admin
 * deadlines, in 1 ms slices; then NVME_ERR_BUSY), then reads the device
 * afresh.  A Format's freeze holds it while it marks the namespaces. */
static int nvme_ns_scan_take(struct nvme_ctrl *ctrl)
{
    uint32_t admin_ms = nvme_admin_ms(ctrl);
    for (uint64_t slices = 0;; slices++) {
        uint32_t idle = 0;
        if (__atomic_compare_exchange_n(&ctrl->ns_scanning, &idle, 1u, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return NVME_OK;
        if (slices >= 2u * (uint64_t)admin_ms)
            return NVME_ERR_BUSY;
        ctrl->osal.sleep_us(ctrl->osal.ctx, NVME_WAIT_SLICE_US);
    }
}

/* One scan under the scan flag; `thaw`: a freeze (nvme_ns_freeze) ended
 * once the flag is held, so that a scan on another CPU that read the
 * namespaces before a Format ran publishes while they are still frozen
 * (NVME_ERR_BUSY), never their old format as usable after it. */
static int nvme_ns_scan_thawing(struct nvme_ctrl *ctrl, bool thaw)
{
    int rc = nvme_ns_scan_take(ctrl);
    if (thaw) {
        __atomic_fetch_sub(&ctrl->ns_frozen, 1u, __ATOMIC_RELEASE);
        __atomic_fetch_sub(&ctrl->io_gate, NVME_GATE_FROZEN, __ATOMIC_RELEASE);
        /* The scan holding the flag publishes them still frozen (it began
         * frozen, nvme_ns_commit); the next service call rescans (the
         * flag under the admin lock, as nvme_aer_service clears it). */
        if (rc != NVME_OK) {
            nvme_lock(&ctrl->admin);
            NVME_WRITE_ONCE(ctrl->aer_lost, true);
            nvme_unlock(&ctrl->admin);
        }
    }
    if (rc != NVME_OK)
        return rc;
    ctrl->ns_stale_n = 0;
    rc = NVME_READ_ONCE(ctrl->gone) ? NVME_ERR_GONE : nvme_ns_scan_one(ctrl);
    /* Taken while the flag is held: the next scan writes them. */
    uint32_t stale[NVME_NS_STALE_MAX];
    unsigned nstale = rc == NVME_OK ? ctrl->ns_stale_n : 0u;
    for (unsigned i = 0; i < nstale && i < NVME_NS_STALE_MAX; i++)
        stale[i] = ctrl->ns_stale[i];
    __atomic_store_n(&ctrl->ns_scanning, 0u, __ATOMIC_RELEASE);
    if (nstale != 0)
        nvme_recovery_ns_changed(ctrl, stale, nstale);
    return rc;
}

int nvme_ns_scan(struct nvme_ctrl *ctrl) { return nvme_ns_scan_thawing(ctrl, false); }

/* I/O commands in flight (or waiting to be retried) on the I/O queues. */
static __attribute__((noinline)) unsigned nvme_io_in_flight(struct nvme_ctrl *ctrl)
{
    unsigned n = 0;
    for (uint16_t q = 1; q <= nvme_io_queue_count(ctrl); q++)
        n += nvme_qpair_outstanding(ctrl, q);
    return n;
}

/* A Format changes the LBA format under the I/O path (§5.23): a command
 * built on the old one and run after it would have the controller move
 * count blocks of the new size through a buffer described for the old,
 * past its end.  As Linux freezes the queues around a command whose
 * effects change the LBA format (Commands Supported and Effects, LBCC):
 * every usable namespace is marked NVME_ERR_BUSY, which each I/O call
 * checks, and scans keep it so (nvme_ns_commit) until nvme_ns_thaw; the
 * I/O in flight drains, with the deadline checks running (bounded: twice
 * the I/O deadline, in 1 ms slices; then NVME_ERR_TIMEOUT, and
 * nvme_ns_thaw must still be called).  A call that read the status just
 * before it changed is refused under its queue's lock (ns_frozen, looked
 * at wherever a command takes a slot; and one that stalled through the
 * whole Format by the namespace epoch, nvme_ns_epoch_read); the drain
 * counts each queue under that lock after ns_frozen was set, so a count
 * of zero is final.  A
 * Sanitize freezes the same way (mgmt.c, mgmt_effects). */
int nvme_ns_freeze(struct nvme_ctrl *ctrl)
{
    int rc = nvme_ns_scan_take(ctrl); /* no scan publishes while the statuses change */
    if (rc != NVME_OK)
        return rc;
    __atomic_fetch_add(&ctrl->ns_frozen, 1u, __ATOMIC_RELAXED);
    __atomic_fetch_add(&ctrl->io_gate, NVME_GATE_FROZEN, __ATOMIC_RELAXED);
    const struct nvme_ns_table *t = ctrl->ns_table; /* only a scan swaps it: held */
    for (unsigned i = 0; t != NULL && i < t->count; i++)
        if (t->ns[i]->status == NVME_OK)
            NVME_WRITE_ONCE(t->ns[i]->status, NVME_ERR_BUSY);
    /* A call that read a namespace before is not sent after the thaw,
     * even when the rescan finds nothing changed (nvme_ns_epoch_read). */
    __atomic_fetch_add(&ctrl->ns_epoch, 2u, __ATOMIC_RELEASE);
    __atomic_store_n(&ctrl->ns_scanning, 0u, __ATOMIC_RELEASE);

    uint32_t io_ms = nvme_io_ms(ctrl);
    for (uint64_t slices = 0; slices <= 2u * (uint64_t)io_ms; slices++) {
        for (uint16_t i = 0; i < nvme_io_queue_count(ctrl); i++)
            (void)nvme_qpair_process(&ctrl->ioq[i], 0);
        (void)nvme_recovery_check(ctrl);
        if (nvme_io_in_flight(ctrl) == 0)
            return NVME_OK;
        ctrl->osal.sleep_us(ctrl->osal.ctx, NVME_WAIT_SLICE_US);
    }
    nvme_log(ctrl, NVME_LOG_ERROR, "I/O still in flight after %u ms: command not sent", 2u * io_ms);
    return NVME_ERR_TIMEOUT;
}

uint32_t nvme_ns_epoch_settled(struct nvme_ctrl *ctrl, unsigned *waits)
{
    uint32_t admin_ms = nvme_admin_ms(ctrl);
    uint64_t slices = nvme_in_callback(ctrl) ? NVME_NS_SETTLE_TRIES : 2u * (uint64_t)admin_ms;
    for (;;) {
        uint32_t e = __atomic_load_n(&ctrl->ns_epoch, __ATOMIC_ACQUIRE);
        if (!(e & 1u))
            return e;
        if (*waits >= slices)
            return NVME_NS_EPOCH_ANY;
        ++*waits;
        if (!nvme_in_callback(ctrl)) /* the writer may be a task preempted on this CPU */
            ctrl->osal.sleep_us(ctrl->osal.ctx, NVME_WAIT_SLICE_US);
    }
}

/* After the command nvme_ns_freeze prepared: the rescan publishes the
 * new formats and statuses (a failed one leaves the namespaces
 * NVME_ERR_BUSY until a rescan succeeds). */
int nvme_ns_thaw(struct nvme_ctrl *ctrl) { return nvme_ns_scan_thawing(ctrl, true); }

int nvme_ns_rescan(struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (NVME_READ_ONCE(ctrl->gone))
        return NVME_ERR_GONE;
    return nvme_ns_scan(ctrl);
}

uint32_t nvme_ns_generation(const struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return 0;
    NVME_HANDLE_CHECK(ctrl, 0u);
    return ctrl->ns_gen;
}

/* The public lookups take a const handle; the reader count is the one
 * field they change. */
static struct nvme_ctrl *nvme_ns_reader(const struct nvme_ctrl *ctrl)
{
    return (struct nvme_ctrl *)(uintptr_t)ctrl;
}

unsigned nvme_ns_count(const struct nvme_ctrl *ctrl)
{
    if (ctrl == NULL)
        return 0;
    NVME_HANDLE_CHECK(ctrl, 0u); /* lifecycle rule 7: the count is the controller's */
    const struct nvme_ns_table *t = nvme_ns_read_begin(nvme_ns_reader(ctrl));
    unsigned n = t != NULL ? t->count : 0;
    nvme_ns_read_end(nvme_ns_reader(ctrl));
    return n;
}

const struct nvme_ns_info *nvme_ns_at(const struct nvme_ctrl *ctrl, unsigned idx)
{
    if (ctrl == NULL)
        return NULL;
    NVME_HANDLE_CHECK(ctrl, NULL);
    const struct nvme_ns_table *t = nvme_ns_read_begin(nvme_ns_reader(ctrl));
    const struct nvme_ns_info *ns = t != NULL && idx < t->count ? t->ns[idx] : NULL;
    nvme_ns_read_end(nvme_ns_reader(ctrl));
    return ns;
}

const struct nvme_ns_info *nvme_ns_find(const struct nvme_ctrl *ctrl, uint32_t nsid)
{
    if (ctrl == NULL)
        return NULL;
    NVME_HANDLE_CHECK(ctrl, NULL);
    const struct nvme_ns_table *t = nvme_ns_read_begin(nvme_ns_reader(ctrl));
    const struct nvme_ns_info *ns = t != NULL ? nvme_ns_table_find(t, nsid) : NULL;
    nvme_ns_read_end(nvme_ns_reader(ctrl));
    return ns;
}

int nvme_ns_set_read_only(struct nvme_ctrl *ctrl, uint32_t nsid, bool ro)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    struct nvme_ns_info *ns = (struct nvme_ns_info *)(uintptr_t)nvme_ns_find(ctrl, nsid);
    if (ns == NULL)
        return NVME_ERR_NOENT;
    NVME_WRITE_ONCE(ns->read_only, ro); /* never copied by a scan (nvme_ns_commit) */
    return NVME_OK;
}
