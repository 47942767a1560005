/* SPDX-License-Identifier: MIT */
/*
 * sim_mgmt.c - the simulated controller's management commands (NVMe 2.0
 * §5): Format NVM (§5.23), Sanitize (§5.24), Device Self-test (§5.9),
 * Firmware Image Download / Commit (§5.13, §5.12), NVM Subsystem Reset
 * (§3.7.1); the Identify data structures of NVMe 2.0 and ZNS beyond CNS
 * 00h-02h; log pages 05h, 06h, 81h and a large vendor page C0h.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define SF_INVALID_FIELD SIM_SF_GEN(NVME_SC_INVALID_FIELD)
#define SIM_FW_MAX (1u << 20)
#define SIM_VENDOR_LOG 0xc0
#define SIM_VENDOR_LOG_SIZE 16384u

/* --- Format NVM: CDW10 LBAF 3:0, MSET 4, PI 7:5, PIL 8, SES 11:9, LBAFU 13:12 */
uint16_t sim_format(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    if (!(sim->cfg.oacs & NVME_OACS_FORMAT))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint32_t c = sqe->cdw10;
    unsigned idx = (c & 0xfu) | (((c >> 12) & 0x3u) << 4);
    bool mset = c & (1u << 4), pil = c & (1u << 8);
    uint8_t pi = (uint8_t)((c >> 5) & 0x7u), ses = (uint8_t)((c >> 9) & 0x7u);
    if (ses > 2 || (ses == 2 && !(sim->cfg.fna & NVME_FNA_CRYPTO)) || pi > 3)
        return SF_INVALID_FIELD;
    bool all = sqe->nsid == NVME_NSID_ALL;
    uint16_t sf = 0; /* inactive: Invalid Field, as QEMU's nvme_format */
    if (!all && !sim_ns_active(sim, sqe->nsid, &sf))
        return sf;
    /* FNA bit 0: a format of any namespace formats them all (Identify
     * Controller, Format NVM Attributes). */
    all = all || (sim->cfg.fna & NVME_FNA_FORMAT_ALL);
    for (unsigned i = 0; i < sim->ns_count; i++) {
        struct sim_ns *ns = sim->ns[i];
        if (!all && ns->nsid != sqe->nsid)
            continue;
        if (idx >= ns->nfmt || (pi && ns->fmt[idx].ms < 8))
            return SIM_SF_CMD(NVME_SC_INVALID_FORMAT);
        if (sim_ns_set_format(ns, idx, mset, pi, pil) < 0)
            return SIM_SF_CMD(NVME_SC_INVALID_FORMAT);
        sim_ns_changed(sim, ns->nsid);
    }
    sim->st.formats++;
    return 0;
}

/* --- Sanitize: CDW10 SANACT 2:0, AUSE 3, OWPASS 7:4, OIPBP 8, NDAS 9 ---- */
uint16_t sim_sanitize(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    uint8_t act = (uint8_t)(sqe->cdw10 & 7u);
    static const uint32_t need[5] = {0, 0, NVME_SANICAP_BLOCK, NVME_SANICAP_OVERWRITE,
                                     NVME_SANICAP_CRYPTO};
    if (!(sim->cfg.sanicap & 7u))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    if (act < NVME_SANACT_EXIT_FAILURE || act > NVME_SANACT_CRYPTO ||
        (act != NVME_SANACT_EXIT_FAILURE && !(sim->cfg.sanicap & need[act])))
        return SF_INVALID_FIELD;
    struct nvme_sanitize_log *l = (struct nvme_sanitize_log *)(void *)sim->sanlog;
    if (act == NVME_SANACT_EXIT_FAILURE)
        return 0;
    for (unsigned i = 0; i < sim->ns_count; i++) {
        sim_ns_erase(sim->ns[i]);
        sim_ns_changed(sim, sim->ns[i]->nsid);
    }
    memset(l, 0, sizeof(*l));
    l->sprog = 0xffff;
    l->sstat = 1u | (1u << 8); /* completed; global data erased */
    l->scdw10 = sqe->cdw10;
    l->eto = l->etbe = l->etce = 0xffffffffu;
    sim->st.sanitizes++;
    return 0;
}

/* --- Device Self-test: CDW10 STC 3:0 ------------------------------------- */
static void dst_push(struct nvme_sim *sim, uint8_t result)
{
    memmove(sim->dst_log[1], sim->dst_log[0], sizeof(sim->dst_log[0]) * 19);
    uint8_t *e = sim->dst_log[0];
    memset(e, 0, 28);
    e[0] = (uint8_t)(result | (sim->dst_stc << 4));
    e[2] = sim->dst_nsid ? 1u : 0u; /* NSID valid */
    uint64_t poh = sim->smart.power_on_hours.lo;
    memcpy(e + 4, &poh, 8);
    memcpy(e + 12, &sim->dst_nsid, 4);
    if (sim->ndst < 20)
        sim->ndst++;
    sim->dst_running = false;
}

void sim_dst_update(struct nvme_sim *sim)
{
    if (sim->dst_running && sim->now >= sim->dst_end) {
        dst_push(sim, 0); /* completed without error */
        sim->st.self_tests++;
    }
}

uint16_t sim_self_test(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    if (!(sim->cfg.oacs & NVME_OACS_SELF_TEST))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    uint8_t stc = (uint8_t)(sqe->cdw10 & 0xfu);
    sim_dst_update(sim);
    /* An NSID neither 0 nor FFFFFFFFh names one active namespace: an
     * inactive one is Invalid Field in Command, one above NN Invalid
     * Namespace or Format (NVMe 2.0 §5.9, Figure 170; §3.2.1.5).
     * Before: Invalid Namespace or Format for both. */
    uint16_t sf = 0;
    if (sqe->nsid && sqe->nsid != NVME_NSID_ALL && !sim_ns_active(sim, sqe->nsid, &sf))
        return sf;
    if (stc == NVME_DST_ABORT) {
        if (sim->dst_running)
            dst_push(sim, 1); /* aborted by a Device Self-test command */
        return 0;
    }
    if (stc != NVME_DST_SHORT && stc != NVME_DST_EXTENDED)
        return SF_INVALID_FIELD;
    if (sim->dst_running)
        return SIM_SF_CMD(NVME_SC_SELF_TEST_IN_PROGRESS);
    sim->dst_running = true;
    sim->dst_stc = stc;
    sim->dst_nsid = sqe->nsid;
    sim->dst_start = sim->now;
    sim->dst_end = sim->now +
                   (stc == NVME_DST_SHORT ? sim->cfg.dst_short_us : sim->cfg.dst_extended_us);
    return 0;
}

/* --- Firmware ----------------------------------------------------------- */

/* Firmware Image Download: CDW10 NUMD (0-based dwords), CDW11 OFST (dwords). */
uint16_t sim_fw_download(struct nvme_sim *sim, const struct nvme_sqe *sqe)
{
    if (!(sim->cfg.oacs & NVME_OACS_FW))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    size_t len = ((size_t)sqe->cdw10 + 1) * 4, off = (size_t)sqe->cdw11 * 4;
    if (off + len > SIM_FW_MAX || (sim->cfg.mdts && len > sim_mdts_bytes(sim))) /* §5.13 */
        return SF_INVALID_FIELD;
    size_t gran = sim->cfg.fwug && sim->cfg.fwug != 0xff ? sim->cfg.fwug * 4096u : 0;
    if (gran && off % gran)
        return SF_INVALID_FIELD;
    if (!sim->fw_img && !(sim->fw_img = calloc(1, SIM_FW_MAX)))
        return (uint16_t)NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
    uint16_t sf = sim_prp_copy(sim, sqe, sim->fw_img + off, len, false);
    if (sf)
        return sf;
    if (off + len > sim->fw_len)
        sim->fw_len = off + len;
    sim->st.fw_downloads++;
    return 0;
}

static void fw_activate(struct nvme_sim *sim, unsigned slot)
{
    sim->fw_active = slot;
    memcpy(sim->firmware, sim->fw_slot[slot], sizeof(sim->firmware));
}

/* Firmware Commit: CDW10 FS 2:0, CA 5:3 (§5.12, Figure 186). */
uint16_t sim_fw_commit(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint32_t *dw0)
{
    if (!(sim->cfg.oacs & NVME_OACS_FW))
        return SIM_SF_GEN(NVME_SC_INVALID_OPCODE);
    unsigned fs = sqe->cdw10 & 7u, ca = (sqe->cdw10 >> 3) & 7u;
    unsigned slots = NVME_FRMW_SLOTS(sim->cfg.frmw);
    *dw0 = 0;
    if (ca > NVME_FW_CA_ACTIVATE_NOW)
        return SF_INVALID_FIELD;
    if (fs == 0) /* the controller picks: the next slot after the active one */
        fs = sim->fw_active % (slots ? slots : 1) + 1;
    if (fs > slots)
        return SIM_SF_CMD(NVME_SC_INVALID_FW_SLOT);
    bool replace = ca != NVME_FW_CA_ACTIVATE;
    if (replace) {
        if ((sim->cfg.frmw & NVME_FRMW_SLOT1_RO) && fs == 1)
            return SIM_SF_CMD(NVME_SC_INVALID_FW_SLOT);
        if (sim->fw_len < 8)
            return SIM_SF_CMD(NVME_SC_INVALID_FW_IMAGE);
        memset(sim->fw_slot[fs], 0, sizeof(sim->fw_slot[fs]));
        memcpy(sim->fw_slot[fs], sim->fw_img, 8);
        sim->fw_len = 0;
        memset(sim->fw_img, 0, SIM_FW_MAX);
    } else if (!sim->fw_slot[fs][0]) {
        return SIM_SF_CMD(NVME_SC_INVALID_FW_IMAGE);
    }
    sim->st.fw_commits++;
    if (ca == NVME_FW_CA_ACTIVATE_NOW) {
        if (!(sim->cfg.frmw & NVME_FRMW_NO_RESET))
            return SIM_SF_CMD(NVME_SC_FW_NEEDS_CONV_RESET);
        fw_activate(sim, fs);
        if (sim->cfg.fw_act_pause_us) /* processing paused meanwhile (CSTS.PP) */
            sim_pause(sim, sim->cfg.fw_act_pause_us);
    } else if (ca != NVME_FW_CA_REPLACE) {
        sim->fw_next = fs;
    }
    return 0;
}

void sim_fw_reset(struct nvme_sim *sim)
{
    /* A Controller Level Reset between a download and its Commit discards
     * the pieces downloaded (NVMe 1.4 §5.12). */
    sim->fw_len = 0;
    if (sim->fw_img)
        memset(sim->fw_img, 0, SIM_FW_MAX);
    if (sim->fw_next) {
        fw_activate(sim, sim->fw_next);
        sim->fw_next = 0;
    }
}

/* NVM Subsystem Reset: like a controller reset of every controller, and
 * CSTS.NSSRO set (§3.1.6). */
void sim_nssr(struct nvme_sim *sim)
{
    sim->st.nssrs++;
    if (sim->cc & NVME_CC_EN)
        sim_controller_reset(sim);
    sim->cc = 0;
    sim->csts |= NVME_CSTS_NSSRO;
    sim->link_down_left = sim->nssr_down_reads; /* nvme_sim_nssr_link_down */
}

/* --- Identify beyond CNS 00h-02h ------------------------------------------ */

static void put_desc(uint8_t *buf, size_t *off, uint8_t type, const void *id, uint8_t len)
{
    buf[*off] = type;
    buf[*off + 1] = len;
    memcpy(buf + *off + 4, id, len);
    *off += 4u + len;
}

/* Namespace ID lists of NVMe 2.0 Figure 273: allocated (CNS 10h) the
 * active NSIDs and cfg.inactive_nsids, only with Namespace Management
 * (OACS bit 3); active (CNS 07h) or allocated (CNS 1Ah) of I/O Command
 * Set csi >= 0 (zoned namespaces are ZNS, the rest and every inactive
 * NSID NVM; another CSI is Invalid Field, as in QEMU's model); greater
 * than CDW1.NSID, ascending, each once.  Namespaces that Namespace
 * Management created, or that were detached, count as allocated too. */
static uint16_t id_ns_list(struct nvme_sim *sim, uint32_t start, bool allocated, int csi,
                           uint32_t *list)
{
    if (allocated && !(sim->cfg.oacs & NVME_OACS_NS_MGMT))
        return SF_INVALID_FIELD;
    if (csi >= 0 && (!sim->cfg.iocs || (csi != NVME_CSI_NVM && csi != NVME_CSI_ZNS)))
        return SF_INVALID_FIELD;
    if (start >= 0xfffffffeu)
        return SIM_SF_GEN(NVME_SC_INVALID_NS);
    uint32_t inactive[8 + SIM_DETACHED_MAX];
    unsigned n_inactive = 0;
    while (allocated && n_inactive < 8 && sim->cfg.inactive_nsids[n_inactive] != 0) {
        inactive[n_inactive] = sim->cfg.inactive_nsids[n_inactive];
        n_inactive++;
    }
    for (unsigned i = 0; allocated && i < sim->ndetached; i++) /* sim_nsmgmt.c */
        inactive[n_inactive++] = sim->detached[i].nsid;
    for (unsigned n = 0; n < NVME_ACTIVE_NS_LIST_ENTRIES; n++) {
        uint32_t next = 0; /* the smallest listed NSID above start */
        for (unsigned i = 0; i < sim->ns_count + n_inactive; i++) {
            bool active = i < sim->ns_count;
            uint32_t id = active ? sim->ns[i]->nsid : inactive[i - sim->ns_count];
            int c = active && sim->ns[i]->zoned ? NVME_CSI_ZNS : NVME_CSI_NVM;
            if (id > start && (next == 0 || id < next) && (csi < 0 || c == csi))
                next = id;
        }
        if (next == 0)
            break;
        list[n] = start = next;
    }
    return 0;
}

uint16_t sim_identify_extra(struct nvme_sim *sim, const struct nvme_sqe *sqe, uint8_t *buf)
{
    uint8_t cns = (uint8_t)sqe->cdw10, csi = (uint8_t)(sqe->cdw11 >> 24);
    switch (cns) {
    case NVME_CNS_NS_DESC_LIST: { /* Namespace Identification Descriptor list, NVMe 2.0 */
        uint16_t sf = 0; /* inactive: Invalid Field, as QEMU's nvme_identify_ns_descr_list */
        struct sim_ns *ns = sim_ns_active(sim, sqe->nsid, &sf);
        if (!ns)
            return sf;
        if (sim->cfg.ns_desc_len != 0) { /* a broken device: the list as configured */
            memcpy(buf, sim->cfg.ns_desc,
                   sim->cfg.ns_desc_len < sizeof(sim->cfg.ns_desc) ? sim->cfg.ns_desc_len
                                                                   : sizeof(sim->cfg.ns_desc));
            return 0;
        }
        uint8_t eui[8], nguid[16], uuid[16];
        for (int i = 0; i < 8; i++)
            eui[i] = (uint8_t)(i < 4 ? 0x4e564d45u >> (8 * (3 - i)) : ns->nsid >> (8 * (7 - i)));
        for (int i = 0; i < 16; i++) {
            nguid[i] = (uint8_t)(0xa0 + i + ns->nsid);
            uuid[i] = (uint8_t)(0x10 * (i & 15) + ns->nsid);
        }
        eui[4] ^= ns->ident;
        nguid[0] ^= ns->ident;
        uuid[0] ^= ns->ident;
        uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40); /* version 4 */
        uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80); /* variant */
        size_t off = 0;
        uint8_t c = ns->csi_reported ? ns->csi_reported : ns->zoned ? NVME_CSI_ZNS : NVME_CSI_NVM;
        if (!ns->uuid_only) {
            put_desc(buf, &off, NVME_NIDT_EUI64, eui, 8);
            put_desc(buf, &off, NVME_NIDT_NGUID, nguid, 16);
        }
        put_desc(buf, &off, NVME_NIDT_UUID, uuid, 16);
        put_desc(buf, &off, NVME_NIDT_CSI, &c, 1);
        return 0;
    }
    case NVME_CNS_CS_NS: { /* CSI 00h: NVM CS Figure 114 (ELBAF); CSI 02h: ZNS Figure 48 */
        if (!sim->cfg.iocs && !(sim->cfg.elbas && csi == NVME_CSI_NVM))
            return SF_INVALID_FIELD;
        /* an inactive NSID gets zeros, as CNS 00h (QEMU's nvme_identify_ns_csi) */
        uint16_t sf = 0;
        struct sim_ns *ns = sim_ns_active(sim, sqe->nsid, &sf);
        if (!ns)
            return sf == SIM_SF_GEN(NVME_SC_INVALID_NS) ? sf : 0;
        if (csi == NVME_CSI_NVM && sim->nvm_id_ns_status != 0)
            return sim->nvm_id_ns_status;
        if (csi == NVME_CSI_NVM) {
            struct nvme_id_ns_nvm *n = (struct nvme_id_ns_nvm *)(void *)buf;
            for (unsigned i = 0; sim->cfg.elbas && i < ns->nfmt; i++)
                n->elbaf[i] = (uint32_t)ns->sts | (uint32_t)ns->pif << 7;
            return 0;
        }
        if (csi != NVME_CSI_ZNS || !ns->zoned)
            return SIM_SF_GEN(0x2c); /* Invalid I/O Command Set */
        struct nvme_id_ns_zns *z = (struct nvme_id_ns_zns *)(void *)buf;
        z->mar = ns->max_active ? ns->max_active - 1 : 0xffffffffu;
        z->mor = ns->max_open ? ns->max_open - 1 : 0xffffffffu;
        for (unsigned i = 0; i < ns->nfmt; i++) {
            z->lbafe[i].zsze = ns->zsze_reported ? ns->zsze_reported : ns->zone_size;
            z->lbafe[i].zdes = ns->zdes;
        }
        return 0;
    }
    case NVME_CNS_CS_CTRL: /* ZNS Figure 47: ZASL 0 = MDTS */
        if (!sim->cfg.iocs)
            return SF_INVALID_FIELD;
        if (csi != NVME_CSI_NVM && csi != NVME_CSI_ZNS)
            return SIM_SF_GEN(0x2c);
        if (csi ==
            NVME_CSI_NVM) { /* NVM CS 1.0: VSL byte 0, WZSL 1, DMRL 3, DMRSL 7:4, DMSL 15:8 */
            struct nvme_id_ctrl_nvm *n = (struct nvme_id_ctrl_nvm *)(void *)buf;
            n->vsl = sim->cfg.vsl;
            n->wzsl = sim->cfg.wzsl;
            n->wusl = sim->cfg.wusl; /* byte 2 */
            n->dmrl = sim->cfg.dmrl;
            n->dmrsl = sim->cfg.dmrsl;
            n->dmsl = sim->cfg.dmsl;
        } else {
            buf[0] = sim->cfg.zasl; /* ZNS Figure 47: ZASL */
        }
        return 0;
    case NVME_CNS_NS_CTRL_LIST:
        /* Controllers attached to NSID (NVMe 2.0 Figure 273, CNS 12h): one no
         * namespace is allocated to (FFFFFFFFh, 0 among them) is Invalid
         * Field in Command, an allocated one attached to no controller an
         * empty list, as QEMU's nvme_identify_ctrl_list (before: Invalid
         * Namespace or Format for both). */
        if (!sim_ns_find(sim, sqe->nsid)) {
            bool allocated = sim_ns_mgmt_id_detached(sim, sqe->nsid,
                                                     (struct nvme_id_ns *)(void *)buf);
            for (unsigned i = 0; i < 8 && sim->cfg.inactive_nsids[i] != 0; i++)
                allocated |= sim->cfg.inactive_nsids[i] == sqe->nsid;
            memset(buf, 0, NVME_IDENTIFY_DATA_SIZE);
            return allocated && sqe->nsid != NVME_NSID_ALL ? 0 : SF_INVALID_FIELD;
        }
        /* the one controller is attached to every active namespace */
        __attribute__((fallthrough));
    case NVME_CNS_CTRL_LIST: { /* NVMe 2.0 §4.4.1: count, then CNTIDs >= CDW10.CNTID */
        uint16_t start = (uint16_t)(sqe->cdw10 >> 16);
        if (start <= 1) {
            buf[0] = 1;
            buf[2] = 1; /* CNTID 1 */
        }
        return 0;
    }
    case 0x14: /* Primary Controller Capabilities, Secondary Controller List */
    case 0x15:
        return sim_virt_identify(sim, sqe, buf); /* sim_virt.c */
    case NVME_CNS_ALLOCATED_NS_LIST:
        return id_ns_list(sim, sqe->nsid, true, -1, (uint32_t *)(void *)buf);
    case NVME_CNS_CS_ACTIVE_NS_LIST:
        return id_ns_list(sim, sqe->nsid, false, csi, (uint32_t *)(void *)buf);
    case NVME_CNS_CS_ALLOCATED_NS_LIST:
        return id_ns_list(sim, sqe->nsid, true, csi, (uint32_t *)(void *)buf);
    case NVME_CNS_IOCS: { /* Figure 291: vector 0 NVM; vector 1 NVM + ZNS */
        if (!sim->cfg.iocs)
            return SF_INVALID_FIELD;
        uint64_t v[3] = {1u << NVME_CSI_NVM, (1u << NVME_CSI_NVM) | (1u << NVME_CSI_ZNS), 0};
        if (sim->cfg.iocs_gap) { /* index 1 not used */
            v[2] = v[1];
            v[1] = 0;
        }
        memcpy(buf, v, sizeof(v));
        return 0;
    }
    default:
        return SF_INVALID_FIELD;
    }
}

/* --- Log pages 05h, 06h, 81h, C0h ------------------------------------------ */

static void effects(struct nvme_sim *sim, uint8_t csi, uint32_t *acs, uint32_t *iocs)
{
    static const uint8_t admin[] = {0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09,
                                    0x0a, 0x0c, 0x10, 0x11, 0x14, 0x80, 0x84};
    for (size_t i = 0; i < sizeof(admin); i++)
        acs[admin[i]] = NVME_EFFECTS_CSUPP;
    acs[0x80] |= NVME_EFFECTS_LBCC | NVME_EFFECTS_NCC | NVME_EFFECTS_NIC | NVME_EFFECTS_CCC;
    acs[0x84] |= NVME_EFFECTS_LBCC | NVME_EFFECTS_NCC | sim->cfg.sanitize_effects;
    acs[0x10] |= NVME_EFFECTS_CCC | sim->cfg.fw_commit_effects;
    acs[0x0d] |= sim->cfg.ns_mgmt_effects;
    acs[0x15] |= sim->cfg.ns_mgmt_effects;
    if (sim->cfg.vendor_opc >= 0xc0)
        acs[sim->cfg.vendor_opc] = NVME_EFFECTS_CSUPP | sim->cfg.vendor_effects;
    if (sim->cfg.secondary_ctrls != 0)
        acs[NVME_ADMIN_VIRT_MGMT] = NVME_EFFECTS_CSUPP;
    iocs[NVME_CMD_FLUSH] = iocs[NVME_CMD_READ] = NVME_EFFECTS_CSUPP;
    iocs[NVME_CMD_WRITE] = NVME_EFFECTS_CSUPP | NVME_EFFECTS_LBCC;
    uint16_t oncs = sim->cfg.oncs;
    if (oncs & NVME_ONCS_COMPARE)
        iocs[NVME_CMD_COMPARE] = NVME_EFFECTS_CSUPP;
    if (oncs & NVME_ONCS_WRITE_ZEROES)
        iocs[NVME_CMD_WRITE_ZEROES] = NVME_EFFECTS_CSUPP | NVME_EFFECTS_LBCC;
    if ((oncs & NVME_ONCS_WRITE_UNC) && csi == NVME_CSI_NVM)
        iocs[NVME_CMD_WRITE_UNCOR] = NVME_EFFECTS_CSUPP | NVME_EFFECTS_LBCC;
    if (oncs & NVME_ONCS_DSM)
        iocs[NVME_CMD_DSM] = NVME_EFFECTS_CSUPP | NVME_EFFECTS_LBCC;
    if (oncs & NVME_ONCS_VERIFY)
        iocs[NVME_CMD_VERIFY] = NVME_EFFECTS_CSUPP;
    if (oncs & NVME_ONCS_COPY)
        iocs[NVME_CMD_COPY] = NVME_EFFECTS_CSUPP | NVME_EFFECTS_LBCC;
    if (oncs & NVME_ONCS_RESERVATIONS)
        iocs[NVME_CMD_RESV_REGISTER] = iocs[NVME_CMD_RESV_REPORT] = iocs
            [NVME_CMD_RESV_ACQUIRE] = iocs[NVME_CMD_RESV_RELEASE] = NVME_EFFECTS_CSUPP;
    if (csi == NVME_CSI_ZNS) {
        iocs[NVME_CMD_ZONE_APPEND] = NVME_EFFECTS_CSUPP | NVME_EFFECTS_LBCC;
        iocs[NVME_CMD_ZONE_MGMT_SEND] = NVME_EFFECTS_CSUPP | NVME_EFFECTS_LBCC;
        iocs[NVME_CMD_ZONE_MGMT_RECV] = NVME_EFFECTS_CSUPP;
    }
}

bool sim_log_extra(struct nvme_sim *sim, uint8_t lid, uint8_t csi, uint8_t *page, size_t *size)
{
    switch (lid) {
    case NVME_LID_EFFECTS: {
        if (!(sim->cfg.lpa & NVME_LPA_EFFECTS))
            return false;
        struct nvme_effects_log *e = (struct nvme_effects_log *)(void *)page;
        effects(sim, csi, e->acs, e->iocs);
        *size = sizeof(*e);
        return true;
    }
    case NVME_LID_SELF_TEST: {
        if (!(sim->cfg.oacs & NVME_OACS_SELF_TEST))
            return false;
        sim_dst_update(sim);
        struct nvme_self_test_log *l = (struct nvme_self_test_log *)(void *)page;
        if (sim->dst_running) {
            uint64_t span = sim->dst_end - sim->dst_start;
            l->current = sim->dst_stc;
            l->completion = (uint8_t)(span ? (sim->now - sim->dst_start) * 100 / span : 0);
        }
        for (unsigned i = 0; i < 20; i++) {
            if (i < sim->ndst)
                memcpy(&l->result[i], sim->dst_log[i], 28);
            else
                l->result[i].status = NVME_DST_RESULT_UNUSED;
        }
        *size = sizeof(*l);
        return true;
    }
    case NVME_LID_SANITIZE:
        if (!(sim->cfg.sanicap & 7u))
            return false;
        memcpy(page, sim->sanlog, 512);
        *size = 512;
        return true;
    case SIM_VENDOR_LOG:
        for (size_t i = 0; i < SIM_VENDOR_LOG_SIZE; i++)
            page[i] = (uint8_t)((i * 7 + i / 4096) & 0xff);
        *size = SIM_VENDOR_LOG_SIZE;
        return true;
    default:
        return false;
    }
}
