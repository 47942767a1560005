/* SPDX-License-Identifier: MIT */
/* Decoded Identify data (NVMe 2.0 §5.17): controller with power states,
 * namespaces with up to 64 LBA formats, Namespace Identification
 * Descriptors, active namespace and controller lists, I/O Command Set
 * data; bad input and malformed data never crash. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

static void identify_ctrl_decodes_strings_versions_and_power_states(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.npss = 3;
    f.cfg.serial = "SER-42";
    fx_start(&f);
    struct nvme_ctrl_identify *id = calloc(1, sizeof(*id));
    assert_int_equal(nvme_identify_ctrl(f.ctrl, id), 0);
    assert_string_equal(id->serial, "SER-42");
    assert_string_equal(id->model, "nvme-core simulated controller");
    assert_string_equal(id->firmware, "1.0");
    assert_string_equal(id->subnqn, "nqn.2024-01.org.nvme-core:sim:SER-42");
    assert_int_equal(id->ver_major, 1);
    assert_int_equal(id->ver_minor, 4);
    assert_int_equal(id->mdts_bytes, 128 * 1024);
    assert_int_equal(id->power_states, 4);
    /* Power state n: 25.00 W / (n+1), 0.01 W units; latencies 10n / 20n us. */
    assert_int_equal(id->ps[0].mp, 2500);
    assert_int_equal(id->ps[0].max_power_uw, 25000000u);
    assert_false(id->ps[0].mxps);
    assert_int_equal(id->ps[2].mp, 833);
    assert_int_equal(id->ps[2].enlat, 20);
    assert_int_equal(id->ps[2].exlat, 40);
    assert_int_equal(id->ps[2].rrt, 2);
    assert_int_equal(id->ps[1].idlp, 16);
    assert_int_equal(id->ps[1].ips, 2);
    assert_int_equal(id->ps[1].actp, 32);
    assert_int_equal(id->ps[1].apw, 2);
    assert_int_equal(id->ps[1].aps, 2);
    assert_true(id->ps[3].nops);
    assert_false(id->ps[2].nops);
    assert_int_equal(id->raw.wctemp, 343);
    assert_int_equal(id->raw.cctemp, 358);
    assert_int_equal(id->raw.oacs, NVME_OACS_FORMAT | NVME_OACS_FW | NVME_OACS_SELF_TEST);
    assert_int_equal(id->raw.sanicap, 7);
    assert_true(id->tnvmcap.lo == 8192u * 512u && id->tnvmcap.hi == 0);
    free(id);
    assert_int_equal(nvme_identify_ctrl(NULL, NULL), NVME_ERR_INVAL);
    assert_int_equal(nvme_identify_ctrl(f.ctrl, NULL), NVME_ERR_INVAL);
    fx_stop(&f);
}

/* SUBNQN is a NUL-terminated string (NVMe 1.4 Figure 247): what a device
 * leaves after the NUL is no part of it (Linux: strnlen; nvme-cli: "%.*s"),
 * not shown as '.' and text behind the name. */
static void identify_ctrl_subnqn_ends_at_its_nul(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.serial = "SER-42";
    f.cfg.subnqn_tail = "junk  ";
    fx_start(&f);
    struct nvme_ctrl_identify *id = calloc(1, sizeof(*id));
    assert_int_equal(nvme_identify_ctrl(f.ctrl, id), 0);
    assert_int_equal(id->raw.subnqn[37], 'j'); /* the device did put it there */
    assert_string_equal(id->subnqn, "nqn.2024-01.org.nvme-core:sim:SER-42");
    assert_string_equal(id->serial, "SER-42"); /* blank padded: as before */
    free(id);
    fx_stop(&f);
}

static void identify_ctrl_reports_a_failing_identify(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    struct nvme_sim_fault flt = {NVME_SIM_FAULT_STATUS,
                                 0,
                                 NVME_ADMIN_IDENTIFY,
                                 NVME_SIM_ANY,
                                 NVME_SF(0, NVME_SC_INTERNAL) | NVME_SF_DNR_BIT,
                                 0,
                                 1};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    struct nvme_ctrl_identify *id = calloc(1, sizeof(*id));
    int rc = nvme_identify_ctrl(f.ctrl, id);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC(rc), NVME_SC_INTERNAL);
    free(id);
    fx_stop(&f);
}

static void identify_ns_lists_64_formats_and_the_one_in_use(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].nlbaf = 63;
    f.ns[0].flbas_index = 41;
    f.ns[0].lba_size = 4096;
    fx_start(&f);
    struct nvme_ns_identify *id = calloc(1, sizeof(*id));
    assert_int_equal(nvme_identify_ns(f.ctrl, 1, id), 0);
    assert_int_equal(id->formats, 64);
    assert_int_equal(id->format, 41);
    assert_int_equal(nvme_id_ns_format(&id->raw), 41);
    struct nvme_lbaf l = nvme_id_ns_lbaf(&id->raw, 41);
    assert_int_equal(l.lbads, 12);
    assert_int_equal(l.ms, 0);
    assert_int_equal(id->raw.lbaf[41].lbads, 12);
    /* Every format listed, distinct; past 63 reads as zeros. */
    for (unsigned i = 0; i < 64; i++)
        assert_true(nvme_id_ns_lbaf(&id->raw, i).lbads >= 9);
    assert_int_equal(nvme_id_ns_lbaf(&id->raw, 64).lbads, 0);
    assert_int_equal(nvme_id_ns_lbaf(NULL, 0).lbads, 0);
    assert_int_equal(nvme_id_ns_format(NULL), 0);
    /* The namespace model keeps them too. */
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
    assert_non_null(ns);
    assert_int_equal(ns->status, 0);
    assert_int_equal(ns->nlbaf, 63);
    assert_int_equal(ns->format, 41);
    assert_int_equal(ns->lba_size, 4096);
    assert_int_equal(ns->lbaf[63].lbads, nvme_id_ns_lbaf(&id->raw, 63).lbads);
    /* Bad input. */
    assert_int_equal(nvme_identify_ns(f.ctrl, 0, id), NVME_ERR_INVAL);
    /* NSID FFFFFFFFh without Namespace Management: the controller's
     * Invalid Namespace or Format (§5.15.2.1), not a refusal of the core. */
    int all = nvme_identify_ns(f.ctrl, NVME_NSID_ALL, id);
    assert_true(all > 0);
    assert_int_equal(NVME_SF_SC(all), NVME_SC_INVALID_NS);
    assert_int_equal(nvme_identify_ns(f.ctrl, 1, NULL), NVME_ERR_INVAL);
    /* An NSID above NN: Invalid Namespace or Format. */
    int rc = nvme_identify_ns(f.ctrl, 7, id);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC(rc), NVME_SC_INVALID_NS);
    free(id);
    fx_stop(&f);
}

static void identify_ns_refuses_a_format_past_nlbaf(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].corrupt = NVME_SIM_CORRUPT_FLBAS;
    fx_start(&f);
    struct nvme_ns_identify *id = calloc(1, sizeof(*id));
    assert_int_equal(nvme_identify_ns(f.ctrl, 1, id), NVME_ERR_PROTO);
    assert_true(id->format > id->raw.nlbaf);
    free(id);
    fx_stop(&f);
}

/* FLBAS bits 6:5 are the format index's bits 5:4 only with more than 16
 * formats (NVM CS 1.0 Figure 97: with 16 or fewer the host ignores them):
 * NLBAF 15 with bits 6:5 01b and bits 3:0 0 is format 0, in use; NLBAF 16
 * (17 formats) with the same FLBAS is format 16. */
static void identify_ns_reads_flbas_bits_6_5_only_past_16_formats(void **state)
{
    (void)state;
    for (unsigned nlbaf = 15; nlbaf <= 16; nlbaf++) {
        struct fx f;
        fx_config(&f);
        f.ns[0].nlbaf = (uint8_t)nlbaf;
        f.ns[0].flbas_index = (uint8_t)(nlbaf == 15 ? 0 : 16);
        f.ns[0].lba_size = 4096;
        /* NLBAF 15: the simulator encodes index 16 (NLBAF + 1) */
        f.ns[0].corrupt = nlbaf == 15 ? NVME_SIM_CORRUPT_FLBAS : 0u;
        fx_start(&f);
        struct nvme_ns_identify *id = calloc(1, sizeof(*id));
        assert_int_equal(nvme_identify_ns(f.ctrl, 1, id), NVME_OK);
        assert_int_equal(id->raw.flbas & 0x6fu, 0x20u);
        unsigned want = nlbaf == 15 ? 0u : 16u;
        assert_int_equal(id->format, want);
        assert_int_equal(nvme_id_ns_format(&id->raw), want);
        const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
        assert_int_equal(ns->status, NVME_OK);
        assert_int_equal(ns->format, want);
        assert_int_equal(ns->lba_size, 1u << nvme_id_ns_lbaf(&id->raw, want).lbads);
        free(id);
        fx_stop(&f);
    }
}

/* A controller with Extended LBA Formats (CTRATT.ELBAS) lists formats
 * past the sixteenth only once the host set LBAFEE (Host Behavior
 * Support, NVMe 2.0 §5.27.1.18; QEMU's controller reports NLBAF 15
 * before).  Bring-up scans after the features, as Linux: namespace 1,
 * formatted at 17 of 21, is usable with 4096-byte blocks from the start
 * (before: the first scan saw FLBAS past NLBAF and left it unusable
 * until a rescan). */
static void an_elbas_namespace_formatted_past_16_is_usable_after_bring_up(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.elbas = true;
    f.ns[0].nlbaf = 20;
    f.ns[0].flbas_index = 17;
    f.ns[0].lba_size = 4096;
    fx_start(&f);
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
    assert_non_null(ns);
    assert_int_equal(ns->status, NVME_OK);
    assert_int_equal(ns->nlbaf, 20);
    assert_int_equal(ns->format, 17);
    assert_int_equal(ns->lba_size, 4096);
    uint8_t *b = aligned_alloc(4096, 4096), *r = aligned_alloc(4096, 4096);
    memset(b, 0x6b, 4096);
    assert_int_equal(nvme_write(f.ctrl, 1, 3, 1, b), NVME_OK);
    assert_int_equal(nvme_read(f.ctrl, 1, 3, 1, r), NVME_OK);
    assert_memory_equal(b, r, 4096);
    free(b);
    free(r);
    fx_stop(&f);
}

/* NSID FFFFFFFFh with Namespace Management (OACS bit 3): the formats a
 * create may use, common to all namespaces (NVMe 1.4 §5.15.2.1), as
 * nvme-cli's `id-ns -n 0xffffffff` and `create-ns -b` read them. */
static void identify_ns_of_nsid_all_gives_the_common_formats(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.oacs |= NVME_OACS_NS_MGMT;
    fx_start(&f);
    struct nvme_ns_identify *id = calloc(1, sizeof(*id));
    assert_int_equal(nvme_identify_ns(f.ctrl, NVME_NSID_ALL, id), NVME_OK);
    assert_int_equal(id->formats, 3); /* the simulator's: 512, 4096, 2048+8 */
    assert_int_equal(nvme_id_ns_lbaf(&id->raw, 1).lbads, 12);
    assert_int_equal(nvme_id_ns_lbaf(&id->raw, 2).ms, 8);
    assert_int_equal(id->raw.nsze, 0); /* no namespace's size */
    static struct fx_out out;
    assert_int_equal(fx_nvmectl(&f, &out, "id-ns -n 0xffffffff"), 0);
    assert_non_null(strstr(out.text, "NVME Identify Namespace 4294967295:\n"));
    assert_non_null(strstr(out.text, "lbaf  2 : ms:8   lbads:11 rp:0 \n"));
    free(id);
    fx_stop(&f);
}

static void ns_descriptors_give_eui64_nguid_uuid_and_csi(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 3, .blocks = 64, .lba_size = 4096};
    f.cfg.ns_count = 2;
    fx_start(&f);
    struct nvme_ns_ids ids;
    assert_int_equal(nvme_identify_ns_descs(f.ctrl, 3, &ids), 0);
    assert_true(ids.has_eui64 && ids.has_nguid && ids.has_uuid && ids.has_csi);
    static const uint8_t eui[8] = {0x4e, 0x56, 0x4d, 0x45, 0, 0, 0, 3};
    assert_memory_equal(ids.eui64, eui, 8);
    assert_int_equal(ids.nguid[0], 0xa3);
    assert_int_equal(ids.uuid[6] >> 4, 4); /* version 4 */
    assert_int_equal(ids.csi, NVME_CSI_NVM);
    /* Same EUI64 as Identify Namespace. */
    struct nvme_ns_identify *id = calloc(1, sizeof(*id));
    assert_int_equal(nvme_identify_ns(f.ctrl, 3, id), 0);
    assert_memory_equal(id->raw.eui64, eui, 8);
    free(id);
    /* NSID 2 is inactive (within NN 3): Invalid Field in Command, as
     * QEMU's nvme_identify_ns_descr_list; above NN, Invalid Namespace. */
    int rc = nvme_identify_ns_descs(f.ctrl, 2, &ids);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC(rc), NVME_SC_INVALID_FIELD);
    rc = nvme_identify_ns_descs(f.ctrl, 4, &ids);
    assert_true(rc > 0);
    assert_int_equal(NVME_SF_SC(rc), NVME_SC_INVALID_NS);
    assert_int_equal(nvme_identify_ns_descs(f.ctrl, 0, &ids), NVME_ERR_INVAL);
    assert_int_equal(nvme_identify_ns_descs(f.ctrl, 1, NULL), NVME_ERR_INVAL);
    fx_stop(&f);
}

static void malformed_ns_descriptors_are_protocol_errors(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    struct nvme_ns_ids ids;
    /* Random bytes for the descriptor list: never a crash, never a read
     * past 4096 bytes; a wrong length is NVME_ERR_PROTO. */
    for (uint32_t seed = 1; seed <= 40; seed++) {
        struct nvme_sim_fault flt = {
            NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, NVME_SIM_ANY, seed, 0, 1};
        assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
        int rc = nvme_identify_ns_descs(f.ctrl, 1, &ids);
        assert_true(rc == 0 || rc == NVME_ERR_PROTO);
        nvme_sim_clear_faults(f.sim);
    }
    /* A controller without the descriptor list: a status, not a crash. */
    struct nvme_sim_fault st = {NVME_SIM_FAULT_STATUS,
                                0,
                                NVME_ADMIN_IDENTIFY,
                                NVME_SIM_ANY,
                                NVME_SF(0, NVME_SC_INVALID_FIELD) | NVME_SF_DNR_BIT,
                                0,
                                1};
    assert_int_equal(nvme_sim_inject(f.sim, &st), 0);
    assert_true(nvme_identify_ns_descs(f.ctrl, 1, &ids) > 0);
    fx_stop(&f);
}

/* NVMe 2.0 §5.17.2.3 (CNS 03h): the host reads a NIDL of 0 as the end
 * of the list, whatever its NIDT; nothing after it is a descriptor. */
static void ns_descriptor_list_ends_at_a_zero_nidl(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    /* CSI (NVM); EUI64 with NIDL 0: the end; a UUID after it */
    uint8_t *d = f.cfg.ns_desc;
    memset(d, 0, sizeof(f.cfg.ns_desc));
    d[0] = NVME_NIDT_CSI;
    d[1] = 1;
    d[4] = NVME_CSI_NVM;
    d[5] = NVME_NIDT_EUI64;
    d[9] = NVME_NIDT_UUID;
    d[10] = 16;
    d[13] = 1;
    f.cfg.ns_desc_len = 29;
    fx_start(&f);
    struct nvme_ns_ids ids;
    assert_int_equal(nvme_identify_ns_descs(f.ctrl, 1, &ids), 0);
    assert_true(ids.has_csi);
    assert_int_equal(ids.csi, NVME_CSI_NVM);
    assert_false(ids.has_eui64);
    assert_false(ids.has_uuid);
    fx_stop(&f);
}

/* NVMe 2.0 §5.17.2.3: "The host shall ignore any Namespace
 * Identification Descriptor with a Namespace Identifier Type not
 * supported by the host", reserved type 0h too (Linux's
 * nvme_process_ns_desc skips it by its NIDL): the CSI after one is read
 * (before: a NIDT of 0 ended the list, so with command sets enabled the
 * namespace's command set went unreported and it was unusable). */
static void ns_descriptor_of_reserved_type_0_is_skipped(void **state)
{
    (void)state;
    static const uint8_t list[] = {0, 4, 0, 0,           0xde, 0xad, 0xbe, 0xef, NVME_NIDT_CSI,
                                   1, 0, 0, NVME_CSI_NVM};
    struct fx f;
    fx_config(&f);
    f.cfg.iocs = true;
    memcpy(f.cfg.ns_desc, list, sizeof(list));
    f.cfg.ns_desc_len = sizeof(list);
    fx_start(&f);
    struct nvme_ns_ids ids;
    assert_int_equal(nvme_identify_ns_descs(f.ctrl, 1, &ids), 0);
    assert_true(ids.has_csi);
    assert_int_equal(ids.csi, NVME_CSI_NVM);
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
    assert_non_null(ns);
    assert_int_equal(ns->status, NVME_OK);
    fx_stop(&f);
}

/* "The controller shall not return multiple descriptors with the same
 * NIDT" (§5.17.2.3): a second CSI that names another set is no answer (a
 * zoned namespace read as NVM would take writes anywhere); the same one
 * twice is harmless. */
static void ns_descriptors_of_one_type_that_differ_are_refused(void **state)
{
    (void)state;
    static const uint8_t differ[] = {NVME_NIDT_CSI, 1, 0, 0, NVME_CSI_ZNS,
                                     NVME_NIDT_CSI, 1, 0, 0, NVME_CSI_NVM};
    static const uint8_t same[] = {NVME_NIDT_CSI, 1, 0, 0, NVME_CSI_ZNS,
                                   NVME_NIDT_CSI, 1, 0, 0, NVME_CSI_ZNS};
    struct fx f;
    fx_config(&f);
    memcpy(f.cfg.ns_desc, differ, sizeof(differ));
    f.cfg.ns_desc_len = sizeof(differ);
    fx_start(&f);
    struct nvme_ns_ids ids;
    assert_int_equal(nvme_identify_ns_descs(f.ctrl, 1, &ids), NVME_ERR_PROTO);
    fx_stop(&f);

    fx_config(&f);
    memcpy(f.cfg.ns_desc, same, sizeof(same));
    f.cfg.ns_desc_len = sizeof(same);
    fx_start(&f);
    assert_int_equal(nvme_identify_ns_descs(f.ctrl, 1, &ids), 0);
    assert_true(ids.has_csi);
    assert_int_equal(ids.csi, NVME_CSI_ZNS);
    fx_stop(&f);

    /* At the scan, with command sets enabled: the zoned namespace whose
     * list says ZNS, then NVM, is not taken for an NVM one. */
    fx_config(&f);
    f.ns[0].blocks = 1024;
    f.ns[0].lba_size = 4096;
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 64;
    memcpy(f.cfg.ns_desc, differ, sizeof(differ));
    f.cfg.ns_desc_len = sizeof(differ);
    fx_start_captured(&f);
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
    assert_non_null(ns);
    assert_int_not_equal(ns->status, NVME_OK);
    assert_true(fx_log_has(&f, "namespace 1: command set not reported"));
    uint8_t *buf = fx_xalloc(4096);
    uint64_t cmds = nvme_sim_stats(f.sim)->io_cmds;
    assert_true(nvme_write(f.ctrl, 1, 5, 1, buf) < 0);
    assert_int_equal(nvme_sim_stats(f.sim)->io_cmds, cmds);
    free(buf);
    fx_stop(&f);
}

static void bogus_nid_quirk_drops_eui64_and_nguid(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.opts.pci_vendor = 0x126f; /* Silicon Motion: NO_NS_DESC_LIST | BOGUS_NID in Linux */
    f.opts.pci_device = 0x2263;
    fx_start(&f);
    struct nvme_ns_ids ids;
    assert_int_equal(nvme_identify_ns_descs(f.ctrl, 1, &ids), 0);
    assert_false(ids.has_eui64);
    assert_false(ids.has_nguid);
    assert_true(ids.has_uuid);
    /* Nor does the namespace keep them: other bogus values after a
     * namespace is created again do not make it a new one. */
    const struct nvme_ns_info *ns = nvme_ns_find(f.ctrl, 1);
    uint8_t zero[16] = {0};
    assert_memory_equal(ns->eui64, zero, sizeof(ns->eui64));
    assert_memory_equal(ns->nguid, zero, sizeof(ns->nguid));
    uint32_t gen = ns->gen;
    struct nvme_sim_ns_config again = f.ns[0];
    again.ident = 1;
    assert_int_equal(nvme_sim_ns_remove(f.sim, 1), 0);
    assert_int_equal(nvme_sim_ns_add(f.sim, &again), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(ns->gen, gen);
    fx_stop(&f);
}

static void active_ns_list_pages_from_a_start_nsid(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    for (unsigned i = 0; i < 5; i++)
        f.ns[i] = (struct nvme_sim_ns_config){.nsid = 2 * i + 1, .blocks = 64, .lba_size = 512};
    f.cfg.ns_count = 5;
    fx_start(&f);
    uint32_t list[1024];
    unsigned n = 0;
    assert_int_equal(nvme_identify_active_ns(f.ctrl, 0, list, 1024, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(list[4], 9);
    assert_int_equal(nvme_identify_active_ns(f.ctrl, 3, list, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0], 5);
    assert_int_equal(list[1], 7);
    assert_int_equal(nvme_identify_active_ns(f.ctrl, 0, list, 1025, &n), NVME_ERR_INVAL);
    assert_int_equal(nvme_identify_active_ns(f.ctrl, 0xfffffffe, list, 8, &n), NVME_ERR_INVAL);
    assert_int_equal(nvme_identify_active_ns(f.ctrl, 0, NULL, 8, &n), NVME_ERR_INVAL);
    /* Garbage: a list that is not ascending is NVME_ERR_PROTO. */
    struct nvme_sim_fault flt = {
        NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, NVME_SIM_ANY, 7, 0, 1};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    int rc = nvme_identify_active_ns(f.ctrl, 0, list, 1024, &n);
    assert_true(rc == NVME_ERR_PROTO || rc == 0);
    fx_stop(&f);
}

static void controller_lists_name_the_one_controller(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint16_t ids[8];
    unsigned n = 0;
    assert_int_equal(nvme_identify_ctrl_list(f.ctrl, 0, 0, ids, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 1);
    assert_int_equal(nvme_identify_ctrl_list(f.ctrl, 1, 0, ids, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(nvme_identify_ctrl_list(f.ctrl, 0, 2, ids, 8, &n), 0);
    assert_int_equal(n, 0);
    assert_true(nvme_identify_ctrl_list(f.ctrl, 9, 0, ids, 8, &n) > 0);
    assert_int_equal(nvme_identify_ctrl_list(f.ctrl, 0, 0, ids, 2048, &n), NVME_ERR_INVAL);
    assert_int_equal(nvme_identify_ctrl_list(f.ctrl, NVME_NSID_ALL, 0, ids, 8, &n), NVME_ERR_INVAL);
    /* Device input: a Controller List (Identify CNS 12h/13h) holds at
     * most 2047 identifiers (Number of Identifiers, 2 bytes, then
     * Identifier 1..2047).  Garbage whose count reads 867 (xorshift
     * seed 3) is a count the page can hold: at most `max` taken; one
     * that reads 2345 (seed 9) is refused, NVME_ERR_PROTO, nothing
     * reported. */
    struct nvme_sim_fault flt = {
        NVME_SIM_FAULT_GARBAGE_DATA, 0, NVME_ADMIN_IDENTIFY, NVME_SIM_ANY, 3, 0, 1};
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    assert_int_equal(nvme_identify_ctrl_list(f.ctrl, 0, 0, ids, 8, &n), 0);
    assert_int_equal(n, 8);
    flt.value = 9;
    nvme_sim_clear_faults(f.sim);
    assert_int_equal(nvme_sim_inject(f.sim, &flt), 0);
    n = 99;
    assert_int_equal(nvme_identify_ctrl_list(f.ctrl, 0, 0, ids, 8, &n), NVME_ERR_PROTO);
    assert_int_equal(n, 0);
    assert_int_equal(nvme_identify_ctrl_list(f.ctrl, 0, 0, ids, 8, &n), 0); /* answered rightly */
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 1);
    fx_stop(&f);
}

/* The NSID lists (nvme_identify_active_ns, _allocated_ns, _ns_list_csi):
 * allocated NSIDs need Namespace Management (OACS bit 3), a command set
 * other than NVM needs CC.CSS 110b; either refusal zeroes the count and
 * sends nothing.  With both, the per-set lists (CNS 07h, 1Ah) name the
 * namespaces of that set. */
static void ns_lists_need_ns_management_and_the_command_set(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint32_t list[16];
    unsigned n = 7;
    assert_int_equal(nvme_identify_allocated_ns(f.ctrl, 0, list, 16, &n), NVME_ERR_UNSUPPORTED);
    assert_int_equal(n, 0);
    n = 7;
    assert_int_equal(nvme_identify_ns_list_csi(f.ctrl, NVME_CSI_NVM, true, 0, list, 16, &n),
                     NVME_ERR_UNSUPPORTED);
    assert_int_equal(n, 0);
    n = 7;
    assert_int_equal(nvme_identify_ns_list_csi(f.ctrl, NVME_CSI_ZNS, false, 0, list, 16, &n),
                     NVME_ERR_UNSUPPORTED);
    assert_int_equal(n, 0);
    assert_int_equal(nvme_identify_active_ns(NULL, 0, list, 16, &n), NVME_ERR_INVAL);
    assert_int_equal(nvme_identify_allocated_ns(NULL, 0, list, 16, &n), NVME_ERR_INVAL);
    assert_int_equal(nvme_identify_ns_list_csi(NULL, NVME_CSI_NVM, true, 0, list, 16, &n),
                     NVME_ERR_INVAL);
    assert_int_equal(nvme_identify_ns_list_csi(f.ctrl, NVME_CSI_NVM, false, 0, NULL, 16, &n),
                     NVME_ERR_INVAL);
    fx_stop(&f);

    fx_config(&f);
    f.cfg.iocs = true;
    f.cfg.oacs |= NVME_OACS_NS_MGMT;
    fx_start(&f);
    n = 0;
    assert_int_equal(nvme_identify_ns_list_csi(f.ctrl, NVME_CSI_NVM, false, 0, list, 16, &n), 0);
    assert_true(n >= 1);
    assert_int_equal(list[0], 1);
    assert_int_equal(nvme_identify_allocated_ns(f.ctrl, 0, list, 16, &n), 0);
    assert_true(n >= 1);
    assert_int_equal(list[0], 1);
    fx_stop(&f);
}

static void command_set_identify_needs_cc_css_110b(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint64_t v[4];
    unsigned n;
    uint8_t *buf = calloc(1, 4096);
    assert_int_equal(nvme_ctrl_css(f.ctrl), NVME_CC_CSS_NVM);
    assert_int_equal(nvme_identify_iocs(f.ctrl, v, 4, &n), NVME_ERR_UNSUPPORTED);
    assert_int_equal(nvme_identify_cs(f.ctrl, NVME_CNS_CS_NS, 1, NVME_CSI_ZNS, buf),
                     NVME_ERR_UNSUPPORTED);
    assert_int_equal(nvme_identify_cs(f.ctrl, 0x01, 1, NVME_CSI_NVM, buf), NVME_ERR_INVAL);
    fx_stop(&f);

    fx_config(&f);
    f.cfg.iocs = true;
    fx_start(&f);
    assert_int_equal(nvme_ctrl_css(f.ctrl), NVME_CC_CSS_IOCS);
    assert_int_equal(nvme_identify_iocs(f.ctrl, v, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0], 1);
    assert_int_equal(v[1], 5);
    assert_int_equal(nvme_identify_iocs(f.ctrl, v, 513, &n), NVME_ERR_INVAL);
    /* The core picked the vector with ZNS (index 1). */
    assert_int_equal(nvme_sim_feature(f.sim, NVME_FEAT_IOCS_PROFILE), 1);
    assert_int_equal(nvme_identify_cs(f.ctrl, NVME_CNS_CS_NS, 1, NVME_CSI_NVM, buf), 0);
    assert_int_equal(nvme_identify_cs(f.ctrl, NVME_CNS_CS_CTRL, 0, NVME_CSI_ZNS, buf), 0);
    /* NVM namespace asked for ZNS data: Invalid I/O Command Set, named. */
    int rc = nvme_identify_cs(f.ctrl, NVME_CNS_CS_NS, 1, NVME_CSI_ZNS, buf);
    assert_true(rc > 0);
    assert_string_equal(nvme_status_name((uint16_t)rc), "Invalid I/O Command Set");
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->csi, NVME_CSI_NVM);
    free(buf);
    fx_stop(&f);
}

/* The I/O Command Set data structure (CNS 1Ch) is indexed by the Command
 * Set Combination Index, which the I/O Command Set Profile feature takes:
 * a zero vector is an index not used, and used ones may follow it.  NVM
 * at 0, nothing at 1, NVM + ZNS at 2: all three come back, in place, and
 * the core selects profile 2 for ZNS.  A `max` that ends on the zero
 * vector gives count 1.  Before: the list ended at index 1 (count 1),
 * and the core stayed on profile 0, without ZNS. */
static void identify_iocs_keeps_vectors_after_an_unused_index(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.iocs = true;
    f.cfg.iocs_gap = true;
    fx_start(&f);
    uint64_t v[4] = {9, 9, 9, 9};
    unsigned n = 99;
    assert_int_equal(nvme_identify_iocs(f.ctrl, v, 4, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0], 1);
    assert_int_equal(v[1], 0);
    assert_int_equal(v[2], 5);
    assert_int_equal(nvme_sim_feature(f.sim, NVME_FEAT_IOCS_PROFILE), 2);
    v[2] = 9;
    assert_int_equal(nvme_identify_iocs(f.ctrl, v, 2, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[1], 0);
    assert_int_equal(v[2], 9); /* past max: not written */
    fx_stop(&f);
}

static void raw_identify_stays(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    uint8_t *buf = calloc(1, 4096);
    assert_int_equal(nvme_identify(f.ctrl, NVME_CNS_CTRL, 0, buf), 0);
    assert_int_equal(((struct nvme_id_ctrl *)(void *)buf)->vid, 0x1b36);
    assert_int_equal(nvme_identify(f.ctrl, NVME_CNS_CTRL, 0, NULL), NVME_ERR_INVAL);
    free(buf);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identify_ctrl_decodes_strings_versions_and_power_states),
        cmocka_unit_test(identify_ctrl_subnqn_ends_at_its_nul),
        cmocka_unit_test(identify_ctrl_reports_a_failing_identify),
        cmocka_unit_test(identify_ns_lists_64_formats_and_the_one_in_use),
        cmocka_unit_test(identify_ns_refuses_a_format_past_nlbaf),
        cmocka_unit_test(identify_ns_reads_flbas_bits_6_5_only_past_16_formats),
        cmocka_unit_test(an_elbas_namespace_formatted_past_16_is_usable_after_bring_up),
        cmocka_unit_test(identify_ns_of_nsid_all_gives_the_common_formats),
        cmocka_unit_test(ns_descriptors_give_eui64_nguid_uuid_and_csi),
        cmocka_unit_test(malformed_ns_descriptors_are_protocol_errors),
        cmocka_unit_test(ns_descriptor_list_ends_at_a_zero_nidl),
        cmocka_unit_test(ns_descriptor_of_reserved_type_0_is_skipped),
        cmocka_unit_test(ns_descriptors_of_one_type_that_differ_are_refused),
        cmocka_unit_test(bogus_nid_quirk_drops_eui64_and_nguid),
        cmocka_unit_test(active_ns_list_pages_from_a_start_nsid),
        cmocka_unit_test(controller_lists_name_the_one_controller),
        cmocka_unit_test(ns_lists_need_ns_management_and_the_command_set),
        cmocka_unit_test(command_set_identify_needs_cc_css_110b),
        cmocka_unit_test(identify_iocs_keeps_vectors_after_an_unused_index),
        cmocka_unit_test(raw_identify_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
