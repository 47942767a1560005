/* SPDX-License-Identifier: MIT */
/*
 * ctl_logs2.c - log pages of NVMe 2.0 nvme-cli 2.x reads with commands of
 * their own: supported-log-pages (LID 00h) and endurance-log (LID 09h).
 * Text and JSON as nvme-cli's (nvme-print-stdout.c, nvme-print-json.c:
 * the same words, tabs and keys); -b writes the page as read (nvme-cli:
 * -o binary).
 */
#include "ctl.h"

static uint64_t lg_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static int lg_read(struct ctl *c, uint8_t lid, uint8_t lsp, uint16_t lsi, void *buf, uint32_t len)
{
    struct nvme_log_args a;
    nvme_memzero(&a, sizeof(a));
    a.lid = lid;
    a.lsp = lsp;
    a.lsi = lsi;
    a.nsid = NVME_NSID_ALL;
    a.buf = buf;
    a.len = len;
    return nvme_get_log(c->ctrl, &a);
}

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
    int rc = lg_read(c, 0x00, 0, 0, log, 1024);
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
        uint32_t d = (uint32_t)lg_le(log + 4 * lid, 4); /* LID Supported and Effects */
        if (!(d & 1u))                                  /* LSUPP */
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
/* endurance-log (NVMe 2.0 §5.16.1.10, Figure 209)                     */
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
    int rc = lg_read(c, 0x09, 0, g, log, 512); /* the group in LSI */
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
    unsigned domain = (unsigned)lg_le(log + 6, 2);
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
