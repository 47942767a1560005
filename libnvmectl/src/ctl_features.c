/* SPDX-License-Identifier: MIT */
/*
 * ctl_features.c - get-feature and set-feature: any FID, the four
 * selects (current, default, saved, supported capabilities), Save, and
 * the features with a data structure (APST, Timestamp, Host Behavior
 * Support) through the scratch buffer.  -H decodes the common ones.
 */
#include "ctl.h"

/* ctl_code_name's list: each FID as a three-digit octal escape (one that
 * cannot swallow the name's first letter), its name, a NUL.  The names
 * are nvme-cli 2.4's nvme_feature_to_string() (its "Host Behavior",
 * "Endurance Event Group Configuration", ...). */
static const char feat_names[] = "\001Arbitration\0"
                                 "\002Power Management\0"
                                 "\003LBA Range Type\0"
                                 "\004Temperature Threshold\0"
                                 "\005Error Recovery\0"
                                 "\006Volatile Write Cache\0"
                                 "\007Number of Queues\0"
                                 "\010Interrupt Coalescing\0"
                                 "\011Interrupt Vector Configuration\0"
                                 "\012Write Atomicity Normal\0"
                                 "\013Async Event Configuration\0"
                                 "\014Autonomous Power State Transition\0"
                                 "\015Host Memory Buffer\0"
                                 "\016Timestamp\0"
                                 "\017Keep Alive Timer\0"
                                 "\020Host Controlled Thermal Management\0"
                                 "\021Non-Operational Power State Config\0"
                                 "\022Read Recovery Level\0"
                                 "\023Predictable Latency Mode Config\0"
                                 "\024Predictable Latency Mode Window\0"
                                 "\025LBA Status Interval\0"
                                 "\026Host Behavior\0"
                                 "\027Sanitize\0"
                                 "\030Endurance Event Group Configuration\0"
                                 "\031I/O Command Set Profile\0"
                                 "\032Spinup Control\0"
                                 "\035Flexible Direct Placement\0"
                                 "\036Flexible Direct Placement Events\0"
                                 "\175Enhanced Controller Metadata\0"
                                 "\176Controller Metadata\0"
                                 "\177Namespace Metadata\0"
                                 "\200Software Progress\0"
                                 "\201Host Identifier\0"
                                 "\202Reservation Notification Mask\0"
                                 "\203Reservation Persistence\0"
                                 "\204Namespace Write Protect\0";

static const char *feat_name(unsigned fid)
{
    return ctl_code_name(feat_names, sizeof(feat_names), fid);
}

static const char *const sel_names[] = {"current", "default", "saved", "supported"};
static const char *const sel_titles[] = {"Current", "Default", "Saved", "Supported capabilities"};

static __attribute__((noinline)) const char *tf(uint32_t bit) { return bit ? "True" : "False"; }
static __attribute__((noinline)) const char *enabled(uint32_t bit)
{
    return bit ? "Enabled" : "Disabled";
}

/* Workload Hint (NVMe 1.4 §5.21.1.2): nvme-cli's names. */
static const char *workload_hint(uint32_t wh)
{
    return wh == 0   ? "No Workload"
           : wh == 1 ? "Extended Idle Period with a Burst of Random Writes"
           : wh == 2 ? "Heavy Sequential Writes"
                     : "Reserved";
}

static void temp_thresh(const struct nvmectl_io *io, uint32_t v)
{
    uint32_t thsel = (v >> 20) & 3u, tmpsel = (v >> 16) & 15u;
    ctl_out(io, "\tThreshold Type Select         (THSEL): %u - %s\n", thsel,
            thsel == 0   ? "Over Temperature Threshold"
            : thsel == 1 ? "Under Temperature Threshold"
                         : "Reserved");
    if (tmpsel == 0)
        ctl_out(io, "\tThreshold Temperature Select (TMPSEL): 0 - Composite Temperature\n");
    else if (tmpsel <= 8)
        ctl_out(io, "\tThreshold Temperature Select (TMPSEL): %u - Temperature Sensor %u\n", tmpsel,
                tmpsel);
    else
        ctl_out(io, "\tThreshold Temperature Select (TMPSEL): %u - Reserved\n", tmpsel);
    ctl_out(io, "\tTemperature Threshold         (TMPTH): %d C (%u K)\n", (int)(v & 0xffffu) - 273,
            v & 0xffffu);
}

static void async_event_config(const struct nvmectl_io *io, uint32_t v)
{
    /* Asynchronous Event Configuration (NVMe 1.4 §5.21.1.11; bit 31, NVMe
     * 2.0's Discovery Log Page Change), nvme-cli's order and columns */
    static const struct {
        uint8_t bit;
        const char *name;
    } notices[] = {{31, "Discovery Log Page Change Notices"},
                   {14, "Endurance Group Event Aggregate Log Change Notices"},
                   {13, "LBA Status Information Notices"},
                   {12, "Predictable Latency Event Aggregate Log Change Notices"},
                   {11, "Asymmetric Namespace Access Change Notices"},
                   {10, "Telemetry Log Notices"},
                   {9, "Firmware Activation Notices"},
                   {8, "Namespace Attribute Notices"}};
    for (unsigned i = 0; i < sizeof(notices) / sizeof(notices[0]); i++)
        ctl_out(io, "\t%-58s: %s async event\n", notices[i].name,
                (v >> notices[i].bit) & 1u ? "Send" : "Do not send");
    ctl_out(io, "\t%-58s: %s async event\n", "SMART / Health Critical Warnings",
            (v & 0xffu) ? "Send" : "Do not send");
}

/* Timestamp (NVMe 1.4 §5.21.1.14): the value, then Synch (bit 0) and the
 * Timestamp Origin (3:1) as nvme-cli words them. */
static void timestamp(const struct nvmectl_io *io, const uint8_t *data)
{
    char when[32];
    uint64_t ms = nvme_timestamp_ms(data);
    ctl_utc_time(when, ms);
    ctl_out(io, "\tThe timestamp is : %llu (%s)\n", (unsigned long long)ms, when);
    ctl_out(io, "\t%s\n",
            (data[6] & 2u) ? "The Timestamp field was initialized with a Timestamp value using "
                             "a Set Features command."
                           : "The Timestamp field was initialized to '0' by a Controller Level "
                             "Reset.");
    ctl_out(io, "\t%s\n",
            (data[6] & 1u) ? "The controller may have stopped counting during vendor specific "
                             "intervals after the Timestamp value was initialized"
                           : "The controller counted time in milliseconds continuously since "
                             "the Timestamp value was initialized.");
}

/* -H: nvme-cli 2.4's nvme_feature_show_fields() lines, in ASCII ("C" for
 * its degree sign), for features 01h-0Fh and Host Behavior Support (the
 * others: their value, and their data dumped; the lines of all of them
 * would not fit the EXOS kernel, README "Known EXOS issue").  Returns
 * whether they showed the feature's data structure; when not,
 * get-feature dumps it in hex after them. */
static __attribute__((noinline)) bool decode(const struct nvmectl_io *io, unsigned fid, uint32_t v,
                                             const uint8_t *data)
{
    switch (fid) {
    case 0x01:
        /* AB 2:0: 2^AB commands, 111b no limit (NVMe 1.4 §5.21.1.1) */
        ctl_out(io, "\tHigh Priority Weight   (HPW): %u\n", (v >> 24) + 1u);
        ctl_out(io, "\tMedium Priority Weight (MPW): %u\n", ((v >> 16) & 0xffu) + 1u);
        ctl_out(io, "\tLow Priority Weight    (LPW): %u\n", ((v >> 8) & 0xffu) + 1u);
        if ((v & 7u) == 7u)
            ctl_out(io, "\tArbitration Burst       (AB): No limit\n");
        else
            ctl_out(io, "\tArbitration Burst       (AB): %u\n", 1u << (v & 7u));
        return false;
    case 0x02:
        ctl_out(io, "\tWorkload Hint (WH): %u - %s\n", (v >> 5) & 7u, workload_hint((v >> 5) & 7u));
        ctl_out(io, "\tPower State   (PS): %u\n", v & 31u);
        return false;
    case 0x03:
        ctl_out(io, "\tNumber of LBA Ranges (NUM): %u\n", (v & 0x3fu) + 1u);
        return false;
    case 0x04:
        temp_thresh(io, v);
        return false;
    case 0x05:
        ctl_out(io, "\tDeallocated or Unwritten Logical Block Error Enable (DULBE): %s\n",
                enabled((v >> 16) & 1u));
        ctl_out(io, "\tTime Limited Error Recovery                          (TLER): %u ms\n",
                (v & 0xffffu) * 100u);
        return false;
    case 0x06:
        ctl_out(io, "\tVolatile Write Cache Enable (WCE): %s\n", enabled(v & 1u));
        return false;
    case 0x07:
        ctl_out(io, "\tNumber of IO Completion Queues Allocated (NCQA): %u\n", (v >> 16) + 1u);
        ctl_out(io, "\tNumber of IO Submission Queues Allocated (NSQA): %u\n", (v & 0xffffu) + 1u);
        return false;
    case 0x08:
        ctl_out(io, "\tAggregation Time     (TIME): %u usec\n", ((v >> 8) & 0xffu) * 100u);
        ctl_out(io, "\tAggregation Threshold (THR): %u\n", (v & 0xffu) + 1u);
        return false;
    case 0x09:
        ctl_out(io, "\tCoalescing Disable (CD): %s\n", tf((v >> 16) & 1u));
        ctl_out(io, "\tInterrupt Vector   (IV): %u\n", v & 0xffffu);
        return false;
    case 0x0a:
        ctl_out(io, "\tDisable Normal (DN): %s\n", tf(v & 1u));
        return false;
    case 0x0b:
        async_event_config(io, v);
        return false;
    case 0x0c:
        ctl_out(io, "\tAutonomous Power State Transition Enable (APSTE): %s\n", enabled(v & 1u));
        if (data == NULL)
            return false;
        /* 32 entries of 8 bytes: ITPT 31:8 (ms), ITPS 7:3 (§5.21.1.12) */
        ctl_out(io, "\tAuto PST Entries\t.................\n");
        for (unsigned i = 0; i < 32; i++) {
            uint32_t e = (uint32_t)ctl_le(data + 8u * i, 4);
            ctl_out(io, "\tEntry[%2u]   \n\t.................\n", i);
            ctl_out(io, "\tIdle Time Prior to Transition (ITPT): %u ms\n", e >> 8);
            ctl_out(io, "\tIdle Transition Power State   (ITPS): %u\n\t.................\n",
                    (e >> 3) & 31u);
        }
        return true;
    case 0x0d:
        ctl_out(io, "\tEnable Host Memory (EHM): %s\n", enabled(v & 1u));
        if (data == NULL)
            return false;
        /* Host Memory Buffer attributes (§5.21.1.13): HSIZE, HMDLAL,
         * HMDLAU, HMDLEC, a dword each */
        ctl_out(io, "\tHost Memory Descriptor List Entry Count (HMDLEC): %u\n",
                (uint32_t)ctl_le(data + 12, 4));
        ctl_out(io, "\tHost Memory Descriptor List Address     (HMDLAU): 0x%x\n",
                (uint32_t)ctl_le(data + 8, 4));
        ctl_out(io, "\tHost Memory Descriptor List Address     (HMDLAL): 0x%x\n",
                (uint32_t)ctl_le(data + 4, 4));
        ctl_out(io, "\tHost Memory Buffer Size                  (HSIZE): %u\n",
                (uint32_t)ctl_le(data, 4));
        return true;
    case 0x0e:
        if (data == NULL)
            return false;
        timestamp(io, data);
        return true;
    case 0x0f:
        ctl_out(io, "\tKeep Alive Timeout (KATO) in milliseconds: %u\n", v);
        return false;
    case 0x16:
        if (data == NULL)
            return false;
        ctl_out(io, "\tHost Behavior Support: %s\n", tf(data[0] & 1u));
        return true;
    default:
        return false;
    }
}

static __attribute__((noinline)) bool parse_fid(struct ctl *c, uint8_t *fid)
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
    /* nvme-cli on the controller: FFFFFFFFh, every namespace */
    uint32_t nsid = ctl_nsid_or(c, NVME_NSID_ALL);
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
    /* -H: the decoded lines instead of the dump (nvme-cli), the dump after
     * them for a structure they leave out */
    if (!(flag(c, F_HUMAN) && decode(io, fid, dw0, data)) && data != NULL)
        ctl_hexdump(io, data, shown, 0);
    return NVME_OK;
}

int ctl_cmd_set_feature(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    uint8_t fid;
    if (!parse_fid(c, &fid))
        return ctl_usage_err(c, "-f FID (1..255) is required");
    uint64_t v = c->o.num[N_VALUE];
    uint32_t cdw11 = (uint32_t)v;
    uint32_t nsid = ctl_nsid_or(c, NVME_NSID_ALL); /* as get-feature */
    uint32_t len = nvme_feature_data_len(fid);
    uint8_t *data = NULL;
    bool want_data = has(c, N_PATTERN) || c->o.str[S_TEXT] != NULL || c->o.str[S_FILE] != NULL;
    /* Timestamp with -v and no data: nvme-cli's convenience, the data
     * structure built from the value (its 48-bit Timestamp field, bytes
     * 7:6 cleared), CDW11 reserved (0); §5.21.1.14 */
    bool ts = fid == NVME_FEAT_TIMESTAMP && has(c, N_VALUE) && !want_data;
    if ((v >> (ts ? 48u : 32u)) != 0 || c->o.num[N_CDW12] > 0xffffffffu)
        return ctl_usage_err(c, "-v and --cdw12 are 32-bit values (a Timestamp: 48-bit)");
    if (has(c, N_LEN) && c->o.num[N_LEN] != len) /* nvme-cli's --data-len: the core sizes it */
        return ctl_usage_err(c, "-l must be the feature's data structure length (0: none)");
    if (ts) {
        data = ctl_scratch(c, 0, 8);
        if (data == NULL)
            return NVME_ERR_NOMEM;
        for (unsigned i = 0; i < 8; i++)
            data[i] = (uint8_t)(v >> (8u * i));
        cdw11 = 0;
    } else {
        if (len != 0 && !want_data)
            return ctl_usage_err(
                c, "this feature takes a data structure: -p BYTE, -t TEXT or -d FILE");
        if (len == 0 && want_data)
            return ctl_usage_err(c, "this feature takes no data structure");
        if (len != 0) {
            int rc;
            data = ctl_scratch(c, 0, len);
            if (data == NULL)
                return NVME_ERR_NOMEM;
            if (!ctl_fill_data(c, data, len, &rc))
                return rc;
        }
    }
    uint32_t cdw12 = (uint32_t)c->o.num[N_CDW12], dw0 = 0;
    bool save = flag(c, F_SAVE);
    int rc = nvme_set_feature(c->ctrl, fid, nsid, cdw11, cdw12, save, data, len, &dw0);
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
    ctl_out(io, "set-feature:0x%02x (%s), value:%s%08llx, cdw12:%s%08x, save:%s\n", fid,
            feat_name(fid), v != 0 ? "0x" : "", (unsigned long long)v, cdw12 != 0 ? "0x" : "",
            cdw12, save ? "0x1" : "0");
    if (dw0 != 0)
        ctl_out(io, "\tresult (Dword 0): 0x%08x\n", dw0);
    return NVME_OK;
}
