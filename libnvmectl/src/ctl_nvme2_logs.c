/* SPDX-License-Identifier: MIT */
/*
 * ctl_nvme2_logs.c - log pages of NVMe 2.0 nvme-cli 2.x reads with commands of
 * their own: supported-log-pages (LID 00h), endurance-log (LID 09h) and
 * ana-log (LID 0Ch).  Text and JSON as nvme-cli's (nvme-print-stdout.c,
 * nvme-print-json.c: the same words, tabs and keys); -b writes the page
 * as read (nvme-cli: -o binary).  Counts in the ANA log come from the
 * device: descriptors are shown only as far as NANAGRPID and the bytes
 * read allow.
 */
#include "ctl.h"

/* ------------------------------------------------------------------ */
/* supported-log-pages (NVMe 2.0 §5.16.1.1, Figure 204)                */
/* ------------------------------------------------------------------ */

/* nvme-cli's names (nvme-print.c nvme_log_to_string) for the LIDs of
 * NVMe 2.0 Figure 202. */
static const char *lid_name(unsigned lid)
{
    static const char *const low[] = {"Supported Log Pages",
                                      "Error Information",
                                      "SMART / Health Information",
                                      "Firmware Slot Information",
                                      "Changed Namespace List",
                                      "Commands Supported and Effects",
                                      "Device Self-test",
                                      "Telemetry Host-Initiated",
                                      "Telemetry Controller-Initiated",
                                      "Endurance Group Information",
                                      "Predictable Latency Per NVM Set",
                                      "Predictable Latency Event Aggregate",
                                      "Asymmetric Namespace Access",
                                      "Persistent Event Log",
                                      "LBA Status Information",
                                      "Endurance Group Event Aggregate",
                                      "Media Unit Status",
                                      "Supported Capacity Configuration List",
                                      "Feature Identifiers Supported and Effects",
                                      "NVMe-MI Commands Supported and Effects",
                                      "Command and Feature Lockdown",
                                      "Boot Partition",
                                      "Rotational Media Information"};
    if (lid < sizeof(low) / sizeof(low[0]))
        return low[lid];
    switch (lid) {
    case 0x70:
        return "Discovery";
    case 0x80:
        return "Reservation Notification";
    case 0x81:
        return "Sanitize Status";
    case 0xbf:
        return "Changed Zone List";
    default:
        return "Unknown";
    }
}

int ctl_cmd_supported_log_pages(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    uint8_t *log = ctl_scratch(c, 0, 1024);
    if (log == NULL)
        return NVME_ERR_NOMEM;
    int rc = ctl_get_log(c, 0x00, 0, 0, false, log, 1024);
    if (rc != NVME_OK)
        return ctl_fail(c, NVME_NSID_ALL, "supported-log-pages", rc);
    if (ctl_raw(c, log, 1024))
        return NVME_OK;
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, io);
        jw_arr(&w, "supported_logs");
    } else {
        ctl_out(io, "Support Log Pages Details for %s:\n", ctl_dev(io));
    }
    for (unsigned lid = 0; lid < 256; lid++) {
        uint32_t d = (uint32_t)ctl_le(log + 4 * lid, 4); /* LID Supported and Effects */
        if (!(d & 1u))                                   /* LSUPP */
            continue;
        if (c->o.json) {
            char key[16];
            nvme_snprintf(key, sizeof(key), "lid_0x%x ", lid); /* nvme-cli's key, blank too */
            jw_obj(&w, NULL);
            jw_u64(&w, key, d);
            jw_close_obj(&w);
            continue;
        }
        if (lid == 0) /* printf's %#x */
            ctl_out(io, "LID 0 - %s\n", lid_name(lid));
        else
            ctl_out(io, "LID 0x%x - %s\n", lid, lid_name(lid));
        if (!flag(c, F_HUMAN))
            continue;
        static const char set[] = "supported", clr[] = "not supported";
        unsigned lidsp = d >> 16; /* LID Specific Parameter */
        ctl_out(io, "  LSUPP is %s\n  IOS is %s\n", set, (d & 2u) ? set : clr);
        if (lid == NVME_LID_TELEMETRY_HOST)
            ctl_out(io, "  Maximum Created Data Area is %s\n", (lidsp & 1u) ? set : clr);
        else if (lid == NVME_LID_PERSISTENT_EVENT)
            ctl_out(io, "  Establish Context and Read 512 Bytes of Header is %s\n",
                    (lidsp & 1u) ? set : clr);
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* endurance-log (NVMe 2.0 §5.16.1.10, Figure 217)                     */
/* ------------------------------------------------------------------ */

int ctl_cmd_endurance_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (c->o.num[N_ENDGID] > 0xffffu)
        return ctl_usage_err(c, "-g GROUP-ID is 0..65535");
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    uint16_t g = (uint16_t)c->o.num[N_ENDGID]; /* nvme-cli's default: 0 */
    uint8_t *log = ctl_scratch(c, 0, 512);
    if (log == NULL)
        return NVME_ERR_NOMEM;
    int rc = ctl_get_log(c, 0x09, 0, g, false, log, 512); /* the group in LSI */
    if (rc != NVME_OK)
        return ctl_fail(c, NVME_NSID_ALL, "endurance-log", rc);
    if (ctl_raw(c, log, 512))
        return NVME_OK;
    /* The 128-bit counters from byte 32 on, nvme-cli's names and tabs. */
    static const struct {
        const char *key, *text;
    } ctr[] = {{"endurance_estimate", "endurance_estimate\t: "},
               {"data_units_read", "data_units_read\t\t: "},
               {"data_units_written", "data_units_written\t: "},
               {"media_units_written", "media_units_written\t: "},
               {"host_read_cmds", "host_read_cmds\t\t: "},
               {"host_write_cmds", "host_write_cmds\t\t: "},
               {"media_data_integrity_err", "media_data_integrity_err: "},
               {"num_err_info_log_entries", "num_err_info_log_entries: "},
               {"total_end_grp_cap", "total_end_grp_cap\t: "},
               {"unalloc_end_grp_cap", "unalloc_end_grp_cap\t: "}};
    unsigned domain = (unsigned)ctl_le(log + 6, 2);
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        jw_u64(&w, "critical_warning", log[0]);
        jw_u64(&w, "endurance_group_features", log[1]);
        jw_u64(&w, "avl_spare", log[3]);
        jw_u64(&w, "avl_spare_threshold", log[4]);
        jw_u64(&w, "percent_used", log[5]);
        jw_u64(&w, "domain_identifier", domain);
        for (unsigned i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++)
            jw_u128(&w, ctr[i].key, log + 32 + 16 * i);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(io, "Endurance Group Log for NVME device:%s Group ID:%x\n", ctl_dev(io), g);
    ctl_out(io, "critical_warning\t: %u\nendurance_group_features: %u\n", log[0], log[1]);
    ctl_out(io, "avl_spare\t\t: %u\navl_spare_threshold\t: %u\n", log[3], log[4]);
    ctl_out(io, "percent_used\t\t: %u%%\ndomain_identifier\t: %u\n", log[5], domain);
    for (unsigned i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++) {
        char dec[48];
        nvme_u128_to_dec(nvme_u128_from_le(log + 32 + 16 * i), dec, sizeof(dec));
        ctl_out(io, "%s%s\n", ctr[i].text, dec);
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* ana-log (NVMe 2.0 §5.16.1.13, Figures 211 and 212)                  */
/* ------------------------------------------------------------------ */

#define ANA_TRIES 10u /* nvme-cli's retries */
#define ANA_HDR 16u   /* Change Count 7:0, Number of ANA Group Descriptors 9:8 */
#define ANA_DESC                                                                                   \
    32u /* ANA Group ID 3:0, Number of NSID Values 7:4, Change
                        Count 15:8, ANA State 16 (bits 3:0), then the NSIDs */

static const char *ana_state(unsigned s)
{
    switch (s & 0xfu) {
    case 0x1:
        return "optimized";
    case 0x2:
        return "non-optimized";
    case 0x3:
        return "inaccessible";
    case 0x4:
        return "persistent-loss";
    case 0xf:
        return "change";
    default:
        return "invalid state";
    }
}

/* nvme-cli's ana-log: the log's length from Identify Controller (header,
 * NANAGRPID descriptors and, without -g (Return Groups Only, LSP bit 0),
 * MNAN NSIDs, NN when MNAN is 0 or above NN), read whole. */
int ctl_cmd_ana_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    bool rgo = flag(c, F_ALL);
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    uint8_t *id = ctl_scratch(c, 0, 4096);
    if (id == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_identify(c->ctrl, NVME_CNS_CTRL, 0, id);
    if (rc != NVME_OK)
        return ctl_fail(c, NVME_NSID_ALL, "ana-log: identify-ctrl", rc);
    uint32_t nanagrpid = (uint32_t)ctl_le(id + 348, 4), mnan = (uint32_t)ctl_le(id + 540, 4);
    uint32_t nn = (uint32_t)ctl_le(id + 516, 4);
    /* The log names an NSID once and a valid NSID is at most NN (NVMe 2.0
     * §3.2.1.2): NN NSIDs when MNAN is 0h (§5.17.2.1) or, a device's
     * error, above NN (a log sized by it could pass the buffer) */
    if (mnan - 1u >= nn)
        mnan = nn;
    uint64_t want = ANA_HDR + (uint64_t)nanagrpid * ANA_DESC + (rgo ? 0u : (uint64_t)mnan * 4u);
    /* the log and its header once more (buf_len >= 4096: Identify fit) */
    if (want > io->buf_len - ANA_HDR - 8u || want > 0xfffffffcu) {
        ctl_out(io,
                "ana-log: NANAGRPID %u and %u NSIDs make a log of %llu bytes, more than this "
                "host's %llu-byte buffer takes\n",
                nanagrpid, mnan, (unsigned long long)want, (unsigned long long)io->buf_len);
        return NVME_ERR_NOMEM;
    }
    uint32_t len = (uint32_t)want;
    uint8_t *log = ctl_scratch(c, 0, len);
    uint8_t *again = ctl_scratch(c, ((size_t)len + 7u) & ~(size_t)7u, ANA_HDR);
    if (log == NULL || again == NULL)
        return NVME_ERR_NOMEM;
    /* nvme-cli's atomic read: the log, then its header again; a Change
     * Count that moved between them means the groups changed while they
     * were read: again, 10 times at most.  With RAE, as nvme-cli asks
     * (libnvme dropped it before 1.10): an ANA Change notice the core has
     * still to handle stays masked for its own read (§5.16, §5.2). */
    for (unsigned tries = 0;; tries++) {
        rc = ctl_get_log(c, 0x0c, rgo ? 1u : 0u, 0, true, log, len);
        if (rc == NVME_OK)
            rc = ctl_get_log(c, 0x0c, rgo ? 1u : 0u, 0, true, again, ANA_HDR);
        if (rc != NVME_OK)
            return ctl_fail(c, NVME_NSID_ALL, "ana-log", rc);
        if (ctl_le(log, 8) == ctl_le(again, 8))
            break;
        if (tries == ANA_TRIES - 1) {
            ctl_out(io,
                    "ana-log: the Change Count moved in each of %u reads: the log kept "
                    "changing\n",
                    ANA_TRIES);
            return NVME_ERR_BUSY;
        }
    }
    if (ctl_raw(c, log, len))
        return NVME_OK;
    unsigned ngrps = (unsigned)ctl_le(log + 8, 2);
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, io);
        jw_str(&w, "Asymmetric Namespace Access Log for NVMe device", ctl_dev(io));
        jw_u64(&w, "chgcnt", ctl_le(log, 8));
        jw_u64(&w, "ngrps", ngrps);
        jw_arr(&w, "ANA DESC LIST ");
    } else {
        ctl_out(io, "Asymmetric Namespace Access Log for NVMe device: %s\n", ctl_dev(io));
        ctl_out(io, "ANA LOG HEADER :-\nchgcnt\t:\t%llu\n", (unsigned long long)ctl_le(log, 8));
        ctl_out(io, "ngrps\t:\t%u\nANA Log Desc :-\n", ngrps);
    }
    /* At most NANAGRPID descriptors, each with its NSIDs inside the bytes
     * read (NGRPS and NNSIDS are the device's word). */
    uint32_t off = ANA_HDR;
    unsigned shown = 0;
    for (; shown < ngrps && shown < nanagrpid && len - off >= ANA_DESC; shown++) {
        const uint8_t *d = log + off;
        uint32_t nnsids = (uint32_t)ctl_le(d + 4, 4);
        if ((uint64_t)nnsids * 4u > len - off - ANA_DESC)
            break;
        if (c->o.json) {
            jw_obj(&w, NULL);
            jw_u64(&w, "grpid", ctl_le(d, 4));
            jw_u64(&w, "nnsids", nnsids);
            jw_u64(&w, "chgcnt", ctl_le(d + 8, 8));
            jw_str(&w, "state", ana_state(d[16]));
            jw_arr(&w, "NSIDS");
        } else {
            ctl_out(io, "grpid\t:\t%u\nnnsids\t:\t%u\n", (unsigned)ctl_le(d, 4), nnsids);
            ctl_out(io, "chgcnt\t:\t%llu\nstate\t:\t%s\n", (unsigned long long)ctl_le(d + 8, 8),
                    ana_state(d[16]));
        }
        for (uint32_t j = 0; j < nnsids; j++) {
            uint32_t nsid = (uint32_t)ctl_le(d + ANA_DESC + 4u * j, 4);
            if (c->o.json) {
                jw_obj(&w, NULL);
                jw_u64(&w, "nsid", nsid);
                jw_close_obj(&w);
            } else {
                ctl_out(io, "\tnsid\t:\t%u\n", nsid);
            }
        }
        if (c->o.json) {
            jw_close_arr(&w);
            jw_close_obj(&w);
        } else {
            ctl_out(io, "\n");
        }
        off += ANA_DESC + nnsids * 4u;
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    } else if (shown < ngrps) { /* nvmectl's note: nvme-cli reads on past the buffer */
        ctl_out(io, "(%u more group descriptor(s) past NANAGRPID %u or the %u bytes read)\n",
                ngrps - shown, nanagrpid, len);
    }
    return NVME_OK;
}
