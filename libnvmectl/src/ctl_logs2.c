/* SPDX-License-Identifier: MIT */
/*
 * ctl_logs2.c - log pages of NVMe 2.0 nvme-cli 2.x reads with commands of
 * their own: supported-log-pages (LID 00h).  Text and JSON as nvme-cli's
 * (nvme-print-stdout.c, nvme-print-json.c: the same words and keys); -b
 * writes the page as read (nvme-cli: -o binary).
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
