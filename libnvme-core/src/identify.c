/* SPDX-License-Identifier: MIT */
/*
 * identify.c - decoded Identify data (NVMe 2.0 §5.17), Get/Set Features
 * with select and data structures (NVMe 2.0 §5.15, §5.27), and Get Log
 * Page of any size and offset (NVMe 2.0 §5.16).  Everything the
 * controller returns is copied out of the DMA bounce buffer first, then
 * checked: a malformed structure is NVME_ERR_PROTO, never a read past
 * the data.
 */
#include "nvme_internal.h"

/* ------------------------------------------------------------------ */
/* Identify                                                            */
/* ------------------------------------------------------------------ */

static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16_at(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* NVME_ERR_UNSUPPORTED, with a line naming what the controller lacks. */
static __attribute__((noinline)) int id_unsupported(struct nvme_ctrl *ctrl, const char *what)
{
    nvme_log(ctrl, NVME_LOG_INFO, "%s", what);
    return NVME_ERR_UNSUPPORTED;
}

/* Power State Descriptor (NVMe 2.0 Figure 276): MP 15:0, MXPS bit 24, NOPS
 * bit 25, ENLAT 63:32, EXLAT 95:64, RRT 100:96, RRL 108:104, RWT 116:112,
 * RWL 124:120, IDLP 143:128, IPS 151:150, ACTP 175:160, APW 178:176, APS
 * 183:182. */
static void nvme_decode_psd(const uint8_t *d, struct nvme_power_state *ps)
{
    ps->mp = le16_at(d);
    ps->mxps = (d[3] & 1u) != 0;
    ps->nops = (d[3] & 2u) != 0;
    ps->enlat = le32_at(d + 4);
    ps->exlat = le32_at(d + 8);
    ps->rrt = d[12] & 0x1fu;
    ps->rrl = d[13] & 0x1fu;
    ps->rwt = d[14] & 0x1fu;
    ps->rwl = d[15] & 0x1fu;
    ps->idlp = le16_at(d + 16);
    ps->ips = (uint8_t)(d[18] >> 6);
    ps->actp = le16_at(d + 20);
    ps->apw = d[22] & 0x7u;
    ps->aps = (uint8_t)(d[22] >> 6);
    ps->max_power_uw = ps->mxps ? (uint32_t)ps->mp * 100u : (uint32_t)ps->mp * 10000u;
}

int nvme_identify_ctrl(struct nvme_ctrl *ctrl, struct nvme_ctrl_identify *out)
{
    if (ctrl == NULL || out == NULL)
        return NVME_ERR_INVAL;
    nvme_memzero(out, sizeof(*out));
    int rc = nvme_identify(ctrl, NVME_CNS_CTRL, 0, &out->raw);
    if (rc != NVME_OK)
        return rc;
    const struct nvme_id_ctrl *id = &out->raw;
    nvme_copy_id_string(out->serial, id->sn, sizeof(id->sn));
    nvme_copy_id_string(out->model, id->mn, sizeof(id->mn));
    nvme_copy_id_string(out->firmware, id->fr, sizeof(id->fr));
    nvme_copy_id_string(out->subnqn, id->subnqn, sizeof(id->subnqn));
    uint32_t ver = id->ver != 0 ? id->ver : ctrl->info.vs;
    out->ver_major = NVME_VS_MJR(ver);
    out->ver_minor = NVME_VS_MNR(ver);
    out->ver_tertiary = NVME_VS_TER(ver);
    out->mdts_bytes = ctrl->info.mdts_reported;
    out->tnvmcap = nvme_u128_from_le(id->tnvmcap);
    out->unvmcap = nvme_u128_from_le(id->unvmcap);
    /* NPSS is 0-based; 32 descriptors fit (bytes 2048-3071). */
    unsigned n = (unsigned)id->npss + 1u;
    if (n > 32u) {
        nvme_log(ctrl, NVME_LOG_WARN, "Identify NPSS %u: only 32 power states exist", id->npss);
        n = 32u;
    }
    out->power_states = n;
    for (unsigned i = 0; i < n; i++)
        nvme_decode_psd(id->psd[i].raw, &out->ps[i]);
    return NVME_OK;
}

struct nvme_lbaf nvme_id_ns_lbaf(const struct nvme_id_ns *id, unsigned idx)
{
    struct nvme_lbaf f;
    nvme_memzero(&f, sizeof(f));
    if (id == NULL || idx >= NVME_LBAF_COUNT)
        return f;
    const uint8_t *p = (const uint8_t *)(const void *)id + 128u + 4u * idx;
    f.ms = le16_at(p);
    f.lbads = p[2];
    f.rp = p[3] & 3u;
    return f;
}

unsigned nvme_id_ns_format(const struct nvme_id_ns *id)
{
    if (id == NULL)
        return 0;
    return nvme_flbas_format(id);
}

/* Identify Namespace of CNS 00h or 11h, checked and decoded. */
static int nvme_identify_ns_cns(struct nvme_ctrl *ctrl, uint8_t cns, uint32_t nsid,
                                struct nvme_ns_identify *out)
{
    if (ctrl == NULL || out == NULL || nsid == 0)
        return NVME_ERR_INVAL;
    nvme_memzero(out, sizeof(*out));
    int rc = nvme_identify(ctrl, cns, nsid, &out->raw);
    if (rc != NVME_OK)
        return rc;
    const struct nvme_id_ns *id = &out->raw;
    out->formats = (unsigned)id->nlbaf + 1u;
    out->format = nvme_id_ns_format(id);
    out->md_extended = (id->flbas & NVME_FLBAS_EXTENDED) != 0;
    out->pi_type = (uint8_t)NVME_DPS_PI_TYPE(id->dps);
    out->pi_first = (id->dps & NVME_DPS_PI_FIRST) != 0;
    out->nvmcap = nvme_u128_from_le(id->nvmcap);
    unsigned last = nvme_id_ns_last_lbaf(id); /* NULBAF's formats included */
    if (last > NVME_NLBAF_MAX_V2 || out->format > last) {
        nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u: NLBAF %u / FLBAS %02x invalid", nsid,
                 id->nlbaf, id->flbas);
        out->formats = out->formats > NVME_LBAF_COUNT ? NVME_LBAF_COUNT : out->formats;
        return NVME_ERR_PROTO;
    }
    return NVME_OK;
}

int nvme_identify_ns(struct nvme_ctrl *ctrl, uint32_t nsid, struct nvme_ns_identify *out)
{
    return nvme_identify_ns_cns(ctrl, NVME_CNS_NS, nsid, out);
}

int nvme_identify_ns_allocated(struct nvme_ctrl *ctrl, uint32_t nsid, struct nvme_ns_identify *out)
{
    if (ctrl == NULL || out == NULL || nsid == 0)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (!(NVME_READ_ONCE(ctrl->info.oacs) & NVME_OACS_NS_MGMT))
        return id_unsupported(ctrl, "Namespace Management not supported (OACS bit 3)");
    return nvme_identify_ns_cns(ctrl, NVME_CNS_ALLOCATED_NS, nsid, out);
}

/* Namespace Identification Descriptors (Identify CNS 03h, NVMe 2.0
 * §5.17.2.3, Figure 277): NIDT, NIDL, 2 reserved bytes, NIDL bytes of
 * identifier.  The host reads a NIDL of 0 as the end of the list (and
 * so the zero-filled rest) and ignores types it does not know (reserved
 * 0h too, as Linux's nvme_process_ns_desc).  Types
 * 1h-4h (EUI64, NGUID, UUID, CSI): the length each one has, and where
 * nvme_ns_ids keeps it and its has_ flag. */
static const struct {
    uint8_t len, at, has;
} nvme_nidt[] = {
    {8, offsetof(struct nvme_ns_ids, eui64), offsetof(struct nvme_ns_ids, has_eui64)},
    {16, offsetof(struct nvme_ns_ids, nguid), offsetof(struct nvme_ns_ids, has_nguid)},
    {16, offsetof(struct nvme_ns_ids, uuid), offsetof(struct nvme_ns_ids, has_uuid)},
    {1, offsetof(struct nvme_ns_ids, csi), offsetof(struct nvme_ns_ids, has_csi)},
};

int nvme_identify_ns_descs(struct nvme_ctrl *ctrl, uint32_t nsid, struct nvme_ns_ids *out)
{
    if (ctrl == NULL || out == NULL || nsid == 0 || nsid == NVME_NSID_ALL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    nvme_memzero(out, sizeof(*out));
    int rc;
    uint8_t *page = nvme_identify_page(ctrl, NVME_CNS_NS_DESC_LIST, nsid, 0, &rc);
    unsigned off = 0;
    while (rc == NVME_OK && off + 4u <= NVME_IDENTIFY_DATA_SIZE && page[off + 1u] != 0) {
        uint8_t type = page[off], len = page[off + 1u];
        const uint8_t *nid = page + off + 4u;
        unsigned t = type - (unsigned)NVME_NIDT_EUI64; /* reserved types are skipped */
        bool known = t < sizeof(nvme_nidt) / sizeof(nvme_nidt[0]);
        /* One descriptor per type ("shall not return multiple descriptors
         * with the same NIDT"): a second one that says otherwise, e.g. a
         * CSI of NVM after one of ZNS, leaves no answer to believe. */
        bool bad = off + 4u + len > NVME_IDENTIFY_DATA_SIZE || (known && len != nvme_nidt[t].len);
        bool other = !bad && known && ((uint8_t *)out)[nvme_nidt[t].has] &&
                     !nvme_bytes_eq((uint8_t *)out + nvme_nidt[t].at, nid, len);
        if (bad || other) {
            nvme_log(ctrl, NVME_LOG_ERROR, "namespace %u: namespace descriptor type %u length %u%s",
                     nsid, type, len, other ? ", a second one that differs" : "");
            rc = NVME_ERR_PROTO;
            break;
        }
        if (known) {
            nvme_memcpy((uint8_t *)out + nvme_nidt[t].at, nid, len);
            ((uint8_t *)out)[nvme_nidt[t].has] = true;
        }
        off += 4u + len;
    }
    if (rc == NVME_OK && (ctrl->quirks & NVME_QUIRK_BOGUS_NID)) {
        /* Linux NVME_QUIRK_BOGUS_NID: these devices report the same
         * EUI64/NGUID for every namespace or device; ignore both. */
        out->has_eui64 = out->has_nguid = false;
        nvme_memzero(out->eui64, sizeof(out->eui64));
        nvme_memzero(out->nguid, sizeof(out->nguid));
    }
    nvme_identify_page_free(ctrl, page);
    return rc;
}

/* Namespace ID list (CNS 02h active, 10h allocated; §5.15.2, Figure 244;
 * of one I/O Command Set, csi >= 0: NVMe 2.0 CNS 07h, 1Ah, CSI in CDW11
 * 31:24): up to 1024 NSIDs > start, ascending, the first 0 ends the list. */
static int ns_id_list(struct nvme_ctrl *ctrl, uint8_t cns, int csi, uint32_t start, uint32_t *list,
                      unsigned max, unsigned *count)
{
    if (ctrl == NULL || list == NULL || count == NULL || max > NVME_ACTIVE_NS_LIST_ENTRIES ||
        start >= 0xfffffffeu)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    *count = 0;
    int rc;
    uint32_t *page = nvme_identify_page(ctrl, cns, start, csi >= 0 ? (uint32_t)csi << 24 : 0u, &rc);
    uint32_t prev = start;
    for (unsigned i = 0; rc == NVME_OK && i < max && page[i] != 0; i++) {
        /* FFFFFFFEh is the highest NSID (it ends a list); FFFFFFFFh none */
        if (page[i] <= prev || page[i] == NVME_NSID_ALL) {
            nvme_log(ctrl, NVME_LOG_ERROR, "NS list (CNS %02xh) not ascending at %u", cns, page[i]);
            rc = NVME_ERR_PROTO;
            break;
        }
        list[i] = prev = page[i];
        *count = i + 1u;
    }
    nvme_identify_page_free(ctrl, page);
    return rc;
}

/* The NSID lists of the public calls: active (CNS 02h) or allocated (10h)
 * NSIDs, of every command set (csi < 0) or of one (CNS 07h, 1Ah).  The
 * allocated ones need Namespace Management (OACS bit 3); a command set
 * other than NVM needs CC.CSS 110b (as nvme_identify_cs). */
static int ns_list_of(struct nvme_ctrl *ctrl, bool allocated, int csi, uint32_t start,
                      uint32_t *list, unsigned max, unsigned *count)
{
    static const uint8_t cns[2][2] = {
        {NVME_CNS_ACTIVE_NS_LIST, NVME_CNS_ALLOCATED_NS_LIST},
        {NVME_CNS_CS_ACTIVE_NS_LIST, NVME_CNS_CS_ALLOCATED_NS_LIST},
    };
    if (allocated || csi >= 0) {
        if (ctrl == NULL)
            return NVME_ERR_INVAL;
        NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
        if (count != NULL)
            *count = 0;
        if (allocated && !(NVME_READ_ONCE(ctrl->info.oacs) & NVME_OACS_NS_MGMT))
            return id_unsupported(ctrl, "Namespace Management not supported (OACS bit 3)");
        if (csi >= 0 && csi != NVME_CSI_NVM && ctrl->cc_css != NVME_CC_CSS_IOCS)
            return NVME_ERR_UNSUPPORTED;
    }
    return ns_id_list(ctrl, cns[csi >= 0][allocated], csi, start, list, max, count);
}

int nvme_identify_active_ns(struct nvme_ctrl *ctrl, uint32_t start, uint32_t *list, unsigned max,
                            unsigned *count)
{
    return ns_list_of(ctrl, false, -1, start, list, max, count);
}

int nvme_identify_allocated_ns(struct nvme_ctrl *ctrl, uint32_t start, uint32_t *list, unsigned max,
                               unsigned *count)
{
    return ns_list_of(ctrl, true, -1, start, list, max, count);
}

int nvme_identify_ns_list_csi(struct nvme_ctrl *ctrl, uint8_t csi, bool allocated, uint32_t start,
                              uint32_t *list, unsigned max, unsigned *count)
{
    return ns_list_of(ctrl, allocated, csi, start, list, max, count);
}

int nvme_identify_ctrl_list(struct nvme_ctrl *ctrl, uint32_t nsid, uint16_t start, uint16_t *ids,
                            unsigned max, unsigned *count)
{
    if (ctrl == NULL || ids == NULL || count == NULL || max > NVME_CTRL_LIST_MAX ||
        nsid == NVME_NSID_ALL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    *count = 0;
    int rc;
    /* CDW10: CNS 7:0, CNTID 31:16 (the first identifier wanted). */
    uint16_t *page = nvme_identify_page(
        ctrl, (nsid != 0 ? NVME_CNS_NS_CTRL_LIST : NVME_CNS_CTRL_LIST) | ((uint32_t)start << 16),
        nsid, 0, &rc);
    if (rc == NVME_OK) {
        unsigned n = page[0];
        if (n > NVME_CTRL_LIST_MAX) {
            nvme_log(ctrl, NVME_LOG_ERROR, "controller list of %u identifiers", n);
            rc = NVME_ERR_PROTO;
        } else {
            for (unsigned i = 0; i < n && i < max; i++)
                ids[i] = page[1u + i];
            *count = n < max ? n : max;
        }
    }
    nvme_identify_page_free(ctrl, page);
    return rc;
}

int nvme_identify_iocs(struct nvme_ctrl *ctrl, uint64_t *vectors, unsigned max, unsigned *count)
{
    if (ctrl == NULL || vectors == NULL || count == NULL || max > NVME_IOCS_VECTORS)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    *count = 0;
    if (ctrl->cc_css != NVME_CC_CSS_IOCS)
        return NVME_ERR_UNSUPPORTED;
    int rc;
    uint64_t *page = nvme_identify_page(ctrl, NVME_CNS_IOCS, 0, 0, &rc);
    if (rc == NVME_OK) {
        /* vectors[i] is Command Set Combination Index i; a zero vector is
         * an index not used, and may come before used ones (NVMe 2.0,
         * I/O Command Set data structure, as the I/O Command Set Profile
         * feature names a vector by its index): count ends after the last
         * non-zero one. */
        for (unsigned i = 0; i < max; i++)
            if ((vectors[i] = page[i]) != 0)
                *count = i + 1u;
    }
    nvme_identify_page_free(ctrl, page);
    return rc;
}

int nvme_identify_cs(struct nvme_ctrl *ctrl, uint8_t cns, uint32_t nsid, uint8_t csi, void *buf)
{
    if (ctrl == NULL || buf == NULL || (cns != NVME_CNS_CS_NS && cns != NVME_CNS_CS_CTRL))
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (ctrl->cc_css != NVME_CC_CSS_IOCS && csi != NVME_CSI_NVM)
        return NVME_ERR_UNSUPPORTED;
    return nvme_identify_dw(ctrl, cns, nsid, (uint32_t)csi << 24, buf); /* CSI, CDW11 31:24 */
}

uint32_t nvme_ctrl_css(const struct nvme_ctrl *ctrl) { return ctrl != NULL ? ctrl->cc_css : 0u; }

/* ------------------------------------------------------------------ */
/* Features                                                            */
/* ------------------------------------------------------------------ */

uint32_t nvme_feature_data_len(uint8_t fid) { return nvme_feat_data_bytes(fid); }

uint64_t nvme_timestamp_ms(const uint8_t data[8])
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 6; i++)
        v |= (uint64_t)data[i] << (8u * i);
    return v;
}

static int nvme_feature_check(struct nvme_ctrl *ctrl, uint8_t fid, const void *data, uint32_t len,
                              bool set)
{
    if (set && fid == NVME_FEAT_HOST_MEM_BUF) {
        nvme_log(ctrl, NVME_LOG_ERROR, "the Host Memory Buffer is the core's: refused");
        return NVME_ERR_INVAL;
    }
    uint32_t want = nvme_feature_data_len(fid);
    if (len != 0 && data == NULL)
        return NVME_ERR_INVAL;
    if (want == 0 && len != 0 && fid >= NVME_FEAT_VENDOR_FIRST) {
        /* A vendor-specific feature (C0h-FFh, NVMe 2.0 Figure 316): the
         * structure is the caller's to know, its length taken, in one
         * command.  The bounce covers all of it, so a transfer past one
         * page gets PRP2, past two a PRP List (§4.3, prp.c). */
        if (len > ctrl->info.mdts_bytes) {
            nvme_log(ctrl, NVME_LOG_ERROR,
                     "feature %02xh: %u bytes of data, more than one command moves (%u)", fid, len,
                     ctrl->info.mdts_bytes);
            return NVME_ERR_INVAL;
        }
    } else if (len != want) {
        return NVME_ERR_INVAL;
    }
    if (fid == NVME_FEAT_VOLATILE_WC && !(NVME_READ_ONCE(ctrl->info.vwc) & NVME_VWC_PRESENT))
        return id_unsupported(ctrl, "no volatile write cache (Identify VWC bit 0)");
    if (fid == NVME_FEAT_TIMESTAMP && !(NVME_READ_ONCE(ctrl->info.oncs) & NVME_ONCS_TIMESTAMP))
        return id_unsupported(ctrl, "Timestamp feature not supported (ONCS bit 6)");
    return NVME_OK;
}

int nvme_get_feature(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t nsid, unsigned sel,
                     uint32_t cdw11, void *data, uint32_t len, uint32_t *dw0)
{
    if (ctrl == NULL || sel > NVME_FEAT_SEL_SUPPORTED)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    /* A Select other than current needs ONCS bit 4 (§5.13, Save and Select
     * Feature Support): a controller without it (NVMe 1.0: SEL reserved)
     * would answer the current value, read as the default or as
     * capabilities, and for SEL 011b move the feature's data structure
     * with no buffer given. */
    if (sel != NVME_FEAT_SEL_CURRENT &&
        !(NVME_READ_ONCE(ctrl->info.oncs) & NVME_ONCS_FEATURES_SAVE)) {
        nvme_log(ctrl, NVME_LOG_INFO, "Get Features select %u not supported (ONCS bit 4)", sel);
        return NVME_ERR_UNSUPPORTED;
    }
    /* SEL 011b returns capabilities in Dword 0 and no data structure. */
    if (sel == NVME_FEAT_SEL_SUPPORTED) {
        data = NULL;
        len = 0;
    } else {
        int rc = nvme_feature_check(ctrl, fid, data, len, false);
        if (rc != NVME_OK)
            return rc;
    }
    /* A feature whose data structure the core does not know (vendor
     * specific, newer than nvme_feature_data_len) given without a length
     * still gets a page of the core's, as passthrough (nvme_passthru_prep):
     * a controller that moves one writes there, never at PRP1 0. */
    uint32_t none = 0;
    if (len == 0) {
        data = &none;
        len = sizeof(none);
    }
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_ADMIN_GET_FEATURES, nsid);
    sqe.cdw10 = fid | (sel << NVME_FEAT_SEL_SHIFT);
    sqe.cdw11 = cdw11;
    return nvme_admin_exec_bounce(ctrl, &sqe, data, len, NVME_DMA_FROM_DEVICE, dw0);
}

int nvme_set_feature(struct nvme_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint32_t cdw11,
                     uint32_t cdw12, bool save, const void *data, uint32_t len, uint32_t *dw0)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    int rc = nvme_feature_check(ctrl, fid, data, len, true);
    if (rc != NVME_OK)
        return rc;
    if (nvme_feat_set_refused_kato(ctrl, fid, cdw11))
        return NVME_ERR_INVAL;
    if (save && !(NVME_READ_ONCE(ctrl->info.oncs) & NVME_ONCS_FEATURES_SAVE))
        return id_unsupported(ctrl, "saving features not supported (ONCS bit 4)");
    /* As nvme_get_feature: a structure the core does not know, given
     * without a length, is read from a page of zeros of the core's, never
     * at PRP1 0. */
    uint32_t none = 0;
    if (len == 0) {
        data = &none;
        len = sizeof(none);
    }
    struct nvme_sqe sqe;
    nvme_sqe_init(&sqe, NVME_ADMIN_SET_FEATURES, nsid);
    sqe.cdw10 = fid | (save ? NVME_FEAT_SV : 0u);
    sqe.cdw11 = cdw11;
    sqe.cdw12 = cdw12;
    return nvme_admin_exec_bounce(ctrl, &sqe, (void *)(uintptr_t)data, len, NVME_DMA_TO_DEVICE,
                                  dw0);
}

/* ------------------------------------------------------------------ */
/* Log pages                                                           */
/* ------------------------------------------------------------------ */

/* Get Log Page (NVMe 2.0 §5.16, Figures 197-200): NUMD 0-based dwords
 * split in NUMDL (CDW10 31:16) and NUMDU (CDW11 15:0); LPOL/LPOU the
 * byte offset. */
static int nvme_get_log_piece(struct nvme_ctrl *ctrl, const struct nvme_log_args *a, uint8_t lsp,
                              bool rae, uint64_t offset, uint8_t *buf, uint32_t len)
{
    struct nvme_sqe sqe;
    uint32_t numd = len / 4u - 1u;
    nvme_sqe_init(&sqe, NVME_ADMIN_GET_LOG_PAGE, a->nsid);
    sqe.cdw10 = a->lid | ((uint32_t)(lsp & 0x7fu) << 8) | (rae ? NVME_LOG_RAE : 0u) |
                ((numd & 0xffffu) << 16);
    sqe.cdw11 = (numd >> 16) | ((uint32_t)a->lsi << 16);
    sqe.cdw12 = (uint32_t)offset;
    sqe.cdw13 = (uint32_t)(offset >> 32);
    sqe.cdw14 = (uint32_t)a->csi << 24;
    return nvme_admin_exec_bounce(ctrl, &sqe, buf, len, NVME_DMA_FROM_DEVICE, NULL);
}

/* The LSP of one piece of a split read.  An LSP that acts, rather than
 * selects, goes with the one piece where one command would act:
 * - Telemetry Host-Initiated Create (LSP bit 0) captures the data at the
 *   command that carries it (NVMe 2.0 §5.16.1.8): the first piece, the
 *   others read that capture;
 * - Persistent Event Log (NVMe 2.0 §5.16.1.14): Establish Context and Read
 *   Log Data, and Establish Context and Read 512 Bytes of Header, create
 *   the reporting context the rest reads (a second Establish while it
 *   exists is a Command Sequence Error), so the first piece establishes
 *   and the others Read Log Data.  Release Context is never split
 *   (nvme_get_log). */
static uint8_t nvme_log_piece_lsp(const struct nvme_log_args *a, bool first)
{
    uint8_t lsp = a->lsp;
    unsigned action = lsp & NVME_LOG_LSP_PEL_ACTION_MASK;
    if (a->lid == NVME_LID_TELEMETRY_HOST && !first)
        return (uint8_t)(lsp & ~NVME_LOG_LSP_TELEMETRY_CREATE);
    if (a->lid == NVME_LID_PERSISTENT_EVENT && !first &&
        (action == NVME_LOG_LSP_PEL_ESTABLISH || action == NVME_LOG_LSP_PEL_ESTABLISH_HEADER))
        return (uint8_t)((lsp & ~NVME_LOG_LSP_PEL_ACTION_MASK) | NVME_LOG_LSP_PEL_READ);
    return lsp;
}

int nvme_get_log(struct nvme_ctrl *ctrl, const struct nvme_log_args *a)
{
    /* LSP is 7 bits (CDW10 14:8): one wider would go as another action. */
    if (ctrl == NULL || a == NULL || a->buf == NULL || a->len == 0 || (a->len & 3u) != 0 ||
        (a->offset & 3u) != 0 || a->offset + a->len < a->offset || a->lsp > 0x7fu)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    /* Pieces of at most MDTS.  A controller without extended data (LPA
     * bit 2) has no NUMDU and no offset, and NUMDL bits 27:16 are the
     * whole count (NVMe 2.0 §5.16, Figure 197): one command of up to
     * 4096 dwords. */
    uint32_t piece = ctrl->info.mdts_bytes & ~3u;
    bool ext = (NVME_READ_ONCE(ctrl->info.lpa) & NVME_LPA_EXTENDED) != 0;
    /* Persistent Event Log Release Context (NVMe 2.0 §5.16.1.14) ends the
     * reporting context and is no read: the host releases it "after reading
     * the persistent event log page data" (NVMe 2.1 §5.1.12.1.14), with Read
     * Log Data.  One command (as nvme-cli's persistent-event-log -a 2): a
     * split would Read before it, and lose the data of the piece that
     * releases, or fail with Command Sequence Error where no context is
     * left to release.  What it moves into buf is no log data; the rest
     * of buf is zeroed (no earlier contents passed off as its answer). */
    uint32_t len = a->len;
    if (a->lid == NVME_LID_PERSISTENT_EVENT &&
        (a->lsp & NVME_LOG_LSP_PEL_ACTION_MASK) == NVME_LOG_LSP_PEL_RELEASE) {
        if (len > piece)
            len = piece;
        if (len > NVME_LOG_NOEXT_MAX_BYTES && !ext)
            len = NVME_LOG_NOEXT_MAX_BYTES;
    }
    if ((a->offset != 0 || len > piece || len > NVME_LOG_NOEXT_MAX_BYTES) && !ext) {
        nvme_log(ctrl, NVME_LOG_WARN,
                 "log page %02x: an offset, a split or over 16 KiB needs LPA bit 2 "
                 "(extended data)",
                 a->lid);
        return NVME_ERR_UNSUPPORTED;
    }
    uint8_t *b = a->buf;
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < piece ? len - done : piece;
        /* RAE set on all pieces but the last (as libnvme's nvme_get_log):
         * the event is cleared, and the controller free to change the log,
         * only once the whole of it was read (§5.14 RAE, §5.2). */
        bool last = done + n == len;
        uint8_t lsp = nvme_log_piece_lsp(a, done == 0);
        int rc = nvme_get_log_piece(ctrl, a, lsp, a->rae || !last, a->offset + done, b + done, n);
        if (rc != NVME_OK)
            return rc;
        done += n;
    }
    if (len < a->len)
        nvme_memzero(b + len, a->len - len);
    return NVME_OK;
}

static int nvme_log_simple(struct nvme_ctrl *ctrl, uint8_t lid, uint32_t nsid, uint8_t csi,
                           void *buf, uint32_t len)
{
    struct nvme_log_args a = {lid, 0, 0, nsid, 0, csi, false, buf, len};
    return nvme_get_log(ctrl, &a);
}

int nvme_get_log_page(struct nvme_ctrl *ctrl, uint8_t lid, uint32_t nsid, void *buf, uint32_t len)
{
    return nvme_log_simple(ctrl, lid, nsid, 0, buf, len);
}

int nvme_get_smart_log(struct nvme_ctrl *ctrl, struct nvme_smart_log *log)
{
    /* Controller-wide: NSID FFFFFFFFh (§5.14.1.2). */
    return nvme_get_log_page(ctrl, NVME_LID_SMART, NVME_NSID_ALL, log, sizeof(*log));
}

int nvme_get_error_log(struct nvme_ctrl *ctrl, struct nvme_error_log_entry *entries, unsigned n)
{
    if (ctrl == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (entries == NULL || n == 0)
        return NVME_ERR_INVAL;
    /* The log holds ELPE + 1 entries (§5.14.1.1): no read past it.  ELPE
     * as read at bring-up and again after a reset or an immediate firmware
     * activation (nvme_refresh_identify). */
    unsigned elpe = NVME_READ_ONCE(ctrl->elpe);
    if (n > elpe + 1u) {
        nvme_log(ctrl, NVME_LOG_ERROR, "error log: %u entries asked, the log has %u (ELPE)", n,
                 elpe + 1u);
        return NVME_ERR_INVAL;
    }
    return nvme_log_simple(ctrl, NVME_LID_ERROR, NVME_NSID_ALL, 0, entries,
                           (uint32_t)n * (uint32_t)sizeof(*entries));
}

int nvme_get_fw_slot_log(struct nvme_ctrl *ctrl, struct nvme_fw_slot_log *log)
{
    return nvme_log_simple(ctrl, NVME_LID_FW_SLOT, NVME_NSID_ALL, 0, log, sizeof(*log));
}

int nvme_get_changed_ns_log(struct nvme_ctrl *ctrl, uint32_t list[1024])
{
    return nvme_log_simple(ctrl, NVME_LID_CHANGED_NS, NVME_NSID_ALL, 0, list, 4096u);
}

int nvme_get_effects_log(struct nvme_ctrl *ctrl, uint8_t csi, struct nvme_effects_log *log)
{
    if (ctrl == NULL || log == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (!(NVME_READ_ONCE(ctrl->info.lpa) & NVME_LPA_EFFECTS))
        return id_unsupported(ctrl, "no Commands Supported and Effects log (LPA bit 1)");
    return nvme_log_simple(ctrl, NVME_LID_EFFECTS, 0, csi, log, sizeof(*log));
}

int nvme_get_self_test_log(struct nvme_ctrl *ctrl, struct nvme_self_test_log *log)
{
    if (ctrl == NULL || log == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if (!(NVME_READ_ONCE(ctrl->info.oacs) & NVME_OACS_SELF_TEST))
        return id_unsupported(ctrl, "Device Self-test not supported (OACS bit 4)");
    /* 564 bytes: a multiple of 4. */
    return nvme_log_simple(ctrl, NVME_LID_SELF_TEST, NVME_NSID_ALL, 0, log, sizeof(*log));
}

int nvme_get_sanitize_log(struct nvme_ctrl *ctrl, struct nvme_sanitize_log *log)
{
    if (ctrl == NULL || log == NULL)
        return NVME_ERR_INVAL;
    NVME_HANDLE_CHECK(ctrl, NVME_ERR_STATE);
    if ((NVME_READ_ONCE(ctrl->sanicap) & 7u) == 0)
        return id_unsupported(ctrl, "Sanitize not supported (SANICAP)");
    return nvme_log_simple(ctrl, NVME_LID_SANITIZE, NVME_NSID_ALL, 0, log, sizeof(*log));
}
