/* SPDX-License-Identifier: MIT */
/*
 * ctl_features.c - get-feature and set-feature: any FID, the four
 * selects (current, default, saved, supported capabilities), Save, and
 * the features with a data structure (APST, Timestamp, Host Behavior
 * Support) through the scratch buffer.  -H decodes the common ones.
 */
#include "ctl.h"

static const char *feat_name(unsigned fid)
{
    switch (fid) {
    case 0x01:
        return "Arbitration";
    case 0x02:
        return "Power Management";
    case 0x03:
        return "LBA Range Type";
    case 0x04:
        return "Temperature Threshold";
    case 0x05:
        return "Error Recovery";
    case 0x06:
        return "Volatile Write Cache";
    case 0x07:
        return "Number of Queues";
    case 0x08:
        return "Interrupt Coalescing";
    case 0x09:
        return "Interrupt Vector Configuration";
    case 0x0a:
        return "Write Atomicity Normal";
    case 0x0b:
        return "Async Event Configuration";
    case 0x0c:
        return "Autonomous Power State Transition";
    case 0x0d:
        return "Host Memory Buffer";
    case 0x0e:
        return "Timestamp";
    case 0x0f:
        return "Keep Alive Timer";
    case 0x10:
        return "Host Controlled Thermal Management";
    case 0x11:
        return "Non-Operational Power State Config";
    case 0x12:
        return "Read Recovery Level";
    case 0x13:
        return "Predictable Latency Mode Config";
    case 0x14:
        return "Predictable Latency Mode Window";
    case 0x16:
        return "Host Behavior Support";
    case 0x17:
        return "Sanitize Config";
    case 0x18:
        return "Endurance Group Event Configuration";
    case 0x19:
        return "I/O Command Set Profile";
    case 0x80:
        return "Software Progress Marker";
    case 0x81:
        return "Host Identifier";
    case 0x82:
        return "Reservation Notification Mask";
    case 0x83:
        return "Reservation Persistence";
    case 0x84:
        return "Namespace Write Protection Config";
    default:
        return "Unknown";
    }
}

static const char *const sel_names[] = {"current", "default", "saved", "supported"};
static const char *const sel_titles[] = {"Current", "Default", "Saved", "Supported capabilities"};

static void decode(const struct nvmectl_io *io, unsigned fid, uint32_t v, const uint8_t *data)
{
    switch (fid) {
    case 0x01:
        /* AB 2:0: 2^AB commands, 111b no limit (NVMe 1.4 §5.21.1.1) */
        if ((v & 7u) == 7u)
            ctl_out(io, "\tArbitration Burst (AB): no limit\n");
        else
            ctl_out(io, "\tArbitration Burst (AB): %u commands\n", 1u << (v & 7u));
        ctl_out(io, "\tLow / Medium / High Priority Weight: %u / %u / %u\n",
                ((v >> 8) & 0xffu) + 1u, ((v >> 16) & 0xffu) + 1u, (v >> 24) + 1u);
        break;
    case 0x02:
        ctl_out(io, "\tWorkload Hint (WH): %u\n\tPower State (PS): %u\n", (v >> 5) & 7u, v & 31u);
        break;
    case 0x04: {
        /* THSEL 21:20: 00b over, 01b under, 10b-11b reserved (NVMe 1.4
         * §5.21.1.4); a reserved one is named so, as nvme-cli. */
        unsigned thsel = (v >> 20) & 3u;
        ctl_out(
            io,
            "\tThreshold Type Select (THSEL): %s\n\tThreshold Temperature Select (TMPSEL): %u\n",
            thsel == 0   ? "Over Temperature"
            : thsel == 1 ? "Under Temperature"
                         : "Reserved",
            (v >> 16) & 15u);
        ctl_out(io, "\tTemperature Threshold (TMPTH): %d C (%u Kelvin)\n", (int)(v & 0xffffu) - 273,
                v & 0xffffu);
        break;
    }
    case 0x05:
        ctl_out(io, "\tDeallocated or Unwritten Logical Block Error Enable (DULBE): %s\n",
                (v >> 16) & 1u ? "Enabled" : "Disabled");
        ctl_out(io, "\tTime Limited Error Recovery (TLER): %u ms\n", (v & 0xffffu) * 100u);
        break;
    case 0x06:
        ctl_out(io, "\tVolatile Write Cache Enable (WCE): %s\n", (v & 1u) ? "Enabled" : "Disabled");
        break;
    case 0x07:
        ctl_out(io, "\tNumber of IO Completion Queues Allocated (NCQA): %u\n", (v >> 16) + 1u);
        ctl_out(io, "\tNumber of IO Submission Queues Allocated (NSQA): %u\n", (v & 0xffffu) + 1u);
        break;
    case 0x08:
        ctl_out(io, "\tAggregation Time (TIME): %u usec\n\tAggregation Threshold (THR): %u\n",
                ((v >> 8) & 0xffu) * 100u, (v & 0xffu) + 1u);
        break;
    case 0x0b:
        ctl_out(io, "\tSMART / Health Critical Warnings: 0x%02x\n", v & 0xffu);
        ctl_out(io, "\tNamespace Attribute Notices: %s\n",
                (v >> 8) & 1u ? "Send async event" : "Do not send");
        ctl_out(io, "\tFirmware Activation Notices: %s\n",
                (v >> 9) & 1u ? "Send async event" : "Do not send");
        break;
    case 0x0c:
        ctl_out(io, "\tAutonomous Power State Transition Enable (APSTE): %s\n",
                (v & 1u) ? "Enabled" : "Disabled");
        if (data != NULL)
            for (unsigned i = 0; i < 32; i++) {
                const uint8_t *e = data + 8u * i;
                uint32_t lo = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
                              (uint32_t)e[3] << 24;
                if (lo != 0)
                    ctl_out(io,
                            "\tAuto PST Entry[%2u]: Idle Time Prior to Transition (ITPT): %u ms, "
                            "Idle Transition Power State (ITPS): %u\n",
                            i, lo >> 8, (lo >> 3) & 31u);
            }
        break;
    case 0x0e:
        if (data != NULL) {
            uint64_t ms = nvme_timestamp_ms(data);
            ctl_out(io, "\tTimestamp: %llu ms since 1970 (synch %u, origin %u)\n",
                    (unsigned long long)ms, data[6] & 1u, (data[6] >> 1) & 7u);
        }
        break;
    case 0x16:
        if (data != NULL)
            ctl_out(io, "\tAdvanced Command Retry Enable (ACRE): %s\n",
                    data[0] & 1u ? "True" : "False");
        break;
    default:
        break;
    }
}

static bool parse_fid(struct ctl *c, uint8_t *fid)
{
    if (!has(c, N_FID) || c->o.num[N_FID] == 0 || c->o.num[N_FID] > 0xffu)
        return false;
    *fid = (uint8_t)c->o.num[N_FID];
    return true;
}

int ctl_cmd_get_feature(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    uint8_t fid;
    if (!parse_fid(c, &fid))
        return ctl_usage_err(c, "-f FID (1..255) is required");
    unsigned sel = 0;
    const char *s = c->o.str[S_SEL];
    if (s != NULL) {
        uint64_t v;
        bool found = false;
        for (unsigned i = 0; i < 4 && !found; i++)
            if (nvme_streq(s, sel_names[i])) {
                sel = i;
                found = true;
            }
        if (!found && nvmectl_parse_u64(s, &v) && v <= 3) {
            sel = (unsigned)v;
            found = true;
        }
        if (!found)
            return ctl_usage_err(c, "-s is current, default, saved or supported (0..3)");
    }
    if (c->o.num[N_VALUE] > 0xffffffffu)
        return ctl_usage_err(c, "-c CDW11 is a 32-bit value");
    uint32_t nsid = ctl_nsid_or(c, 0);
    uint32_t cdw11 = (uint32_t)c->o.num[N_VALUE];
    /* len: what the command moves; shown: what is dumped.  -l N (nvme-cli
     * --data-len; 0: the feature's own size) is the data length: a
     * vendor-specific feature's buffer (its structure is the device's to
     * know), for a feature with a known structure the bytes shown (the
     * whole structure is read); none with supported capabilities (no
     * data, as nvme-cli). */
    uint32_t len = sel == 3 ? 0 : nvme_feature_data_len(fid), shown = len;
    /* Host Identifier: 64 bits, 128 with EXHID (CDW11 bit 0; NVMe 2.0
     * §5.27.1.25), as libnvme's nvme_get_feature_length sizes it. */
    if (fid == NVME_FEAT_HOST_ID && !(cdw11 & NVME_FEAT_HOST_ID_EXHID) && len != 0)
        shown = 8;
    if (sel != 3 && has(c, N_LEN) && c->o.num[N_LEN] != 0) {
        uint64_t l = c->o.num[N_LEN];
        uint32_t most = nvme_ctrl_get_info(c->ctrl)->mdts_bytes;
        if (len == 0 && fid < NVME_FEAT_VENDOR_FIRST) {
            ctl_out(io, "nvmectl %s: feature 0x%02x (%s) returns no data structure: no -l\n",
                    c->cmd, fid, feat_name(fid));
            return NVME_ERR_INVAL;
        }
        /* Vendor specific: one command; a known structure: the scratch
         * buffer bounds what is shown (ctl_scratch says so). */
        if (len == 0 && l > most) {
            ctl_out(io, "nvmectl %s: -l %llu: more than one command moves (%u bytes)\n", c->cmd,
                    (unsigned long long)l, most);
            return NVME_ERR_INVAL;
        }
        if (l > 0xffffffffu)
            return ctl_usage_err(c, "-l is a 32-bit length");
        shown = (uint32_t)l;
        if (len == 0)
            len = shown;
    }
    uint8_t *data = NULL;
    uint32_t room = shown > len ? shown : len;
    if (room != 0) {
        data = ctl_scratch(c, 0, room);
        if (data == NULL)
            return NVME_ERR_NOMEM;
        nvme_memzero(data, room);
    }
    uint32_t dw0 = 0;
    int rc = nvme_get_feature(c->ctrl, fid, nsid, sel, cdw11, data, len, &dw0);
    if (rc != NVME_OK) {
        char what[64]; /* the longest name (35) fits whole, its ')' too */
        nvme_snprintf(what, sizeof(what), "get-feature 0x%02x (%s)", fid, feat_name(fid));
        return ctl_fail(c, nsid, what, rc);
    }
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        jw_str(&w, "device", ctl_dev(io));
        jw_u64(&w, "feature_id", fid);
        jw_str(&w, "name", feat_name(fid));
        jw_str(&w, "sel", sel_names[sel]);
        jw_u64(&w, "nsid", nsid);
        jw_u64(&w, "value", dw0);
        if (sel == 3) {
            jw_bool(&w, "saveable", (dw0 & NVME_FEAT_CAP_SAVEABLE) != 0);
            jw_bool(&w, "namespace_specific", (dw0 & NVME_FEAT_CAP_NS_SPECIFIC) != 0);
            jw_bool(&w, "changeable", (dw0 & NVME_FEAT_CAP_CHANGEABLE) != 0);
        }
        if (data != NULL)
            jw_hex(&w, "data", data, shown);
        jw_end(&w);
        return NVME_OK;
    }
    /* nvme-cli's "%#0*x", width 10 or 8 as the value is 0: 0 prints as 00000000 */
    ctl_out(io, "get-feature:0x%02x (%s), %s value:%s%08x\n", fid, feat_name(fid), sel_titles[sel],
            dw0 != 0 ? "0x" : "", dw0);
    if (sel == 3) {
        /* nvme-cli 2.4's nvme_show_select_result(): a line per capability set */
        if (dw0 & NVME_FEAT_CAP_SAVEABLE)
            ctl_out(io, "  Feature is saveable\n");
        if (dw0 & NVME_FEAT_CAP_NS_SPECIFIC)
            ctl_out(io, "  Feature is per-namespace\n");
        if (dw0 & NVME_FEAT_CAP_CHANGEABLE)
            ctl_out(io, "  Feature is changeable\n");
        return NVME_OK;
    }
    if (flag(c, F_HUMAN))
        decode(io, fid, dw0, data);
    if (data != NULL)
        ctl_hexdump(io, data, shown, 0);
    return NVME_OK;
}

int ctl_cmd_set_feature(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    uint8_t fid;
    if (!parse_fid(c, &fid))
        return ctl_usage_err(c, "-f FID (1..255) is required");
    if (c->o.num[N_VALUE] > 0xffffffffu || c->o.num[N_CDW12] > 0xffffffffu)
        return ctl_usage_err(c, "-v and --cdw12 are 32-bit values");
    uint32_t nsid = ctl_nsid_or(c, 0);
    uint32_t len = nvme_feature_data_len(fid);
    uint8_t *data = NULL;
    bool want_data = has(c, N_PATTERN) || c->o.str[S_TEXT] != NULL || c->o.str[S_FILE] != NULL;
    if (len != 0 && !want_data)
        return ctl_usage_err(c, "this feature takes a data structure: -p BYTE, -t TEXT or -d FILE");
    if (len == 0 && want_data)
        return ctl_usage_err(c, "this feature takes no data structure");
    if (has(c, N_LEN) && c->o.num[N_LEN] != len) /* nvme-cli's --data-len: the core sizes it */
        return ctl_usage_err(c, "-l must be the feature's data structure length (0: none)");
    if (len != 0) {
        int rc;
        data = ctl_scratch(c, 0, len);
        if (data == NULL)
            return NVME_ERR_NOMEM;
        if (!ctl_fill_data(c, data, len, &rc))
            return rc;
    }
    uint32_t v = (uint32_t)c->o.num[N_VALUE], cdw12 = (uint32_t)c->o.num[N_CDW12], dw0 = 0;
    bool save = flag(c, F_SAVE);
    int rc = nvme_set_feature(c->ctrl, fid, nsid, v, cdw12, save, data, len, &dw0);
    if (rc != NVME_OK) {
        char what[64]; /* the longest name (35) fits whole, its ')' too */
        nvme_snprintf(what, sizeof(what), "set-feature 0x%02x (%s)", fid, feat_name(fid));
        return ctl_fail(c, nsid, what, rc);
    }
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        jw_str(&w, "device", ctl_dev(io));
        jw_u64(&w, "feature_id", fid);
        jw_str(&w, "name", feat_name(fid));
        jw_u64(&w, "value", v);
        jw_u64(&w, "cdw12", cdw12);
        jw_bool(&w, "save", save);
        jw_u64(&w, "result", dw0);
        jw_end(&w);
        return NVME_OK;
    }
    /* nvme-cli's "value:%#0*x, cdw12:%#0*x, save:%#x": 0 without "0x" */
    ctl_out(io, "set-feature:0x%02x (%s), value:%s%08x, cdw12:%s%08x, save:%s\n", fid,
            feat_name(fid), v != 0 ? "0x" : "", v, cdw12 != 0 ? "0x" : "", cdw12,
            save ? "0x1" : "0");
    if (dw0 != 0)
        ctl_out(io, "\tresult (Dword 0): 0x%08x\n", dw0);
    return NVME_OK;
}
