/* SPDX-License-Identifier: MIT */
/*
 * ctl_logs.c - log pages: smart-log, error-log, fw-log,
 * changed-ns-list-log, effects-log, self-test-log, persistent-event-log
 * and get-log of any LID.
 * Text and JSON follow nvme-cli 2.x (same field names and JSON keys);
 * temperatures carry their unit, times theirs.  Log data is untrusted:
 * every count is clamped to the page.  -b/--raw-binary writes the page as
 * read instead (nvme-cli's d_raw), through io->write_raw; here it wins
 * over -o json.
 */
#include "ctl.h"

/* ------------------------------------------------------------------ */
/* smart-log                                                           */
/* ------------------------------------------------------------------ */

/* The "0x" of nvme-cli's "%#x": none before 0. */
static __attribute__((noinline)) const char *hx(uint64_t v) { return v != 0 ? "0x" : ""; }

/* nvme-cli's uint128_t_to_si_string(units, 512000), "%.2Lf %sB": the
 * bytes over the largest SI prefix (k .. Q) not above them, two
 * decimals, without floating point: the bytes are units * 512 * 1000, in
 * decimal digits ("0.00 B" for none).  Units * 512 may need 137 bits (a
 * 128-bit counter of 2^119 units or more): the units' digits are doubled
 * nine times instead of shifting the binary value. */
static __attribute__((noinline)) void smart_si(char *out, size_t len, const uint8_t *le)
{
    static const char pfx[] = "kMGTPEZYRQ";
    char u[48], d[56];
    nvme_u128_to_dec(nvme_u128_from_le(le), u, sizeof(u));
    size_t un = nvme_strlen(u);
    if (un == 1 && u[0] == '0') {
        nvme_snprintf(out, len, "0.00 B");
        return;
    }
    size_t n = un + 3; /* x 512 adds at most 3 digits */
    d[0] = '0', d[1] = '0', d[2] = '0';
    nvme_memcpy(d + 3, u, un);
    for (unsigned k = 0; k < 9; k++) { /* x 2, nine times */
        unsigned carry = 0;
        for (size_t i = n; i-- > 0;) {
            unsigned x = (unsigned)(d[i] - '0') * 2u + carry;
            carry = x >= 10u ? 1u : 0u;
            d[i] = (char)('0' + x - 10u * carry);
        }
    }
    size_t z = 0; /* the leading zeros left */
    while (d[z] == '0')
        z++;
    for (size_t i = z; i < n; i++)
        d[i - z] = d[i];
    n -= z;
    d[n++] = '0', d[n++] = '0', d[n++] = '0'; /* x 1000 */
    size_t e = (n - 1) / 3 * 3;               /* n >= 4: e >= 3 */
    if (e > 30)
        e = 30;
    size_t ip = n - e; /* digits before the point; at least 3 after it */
    char num[64];
    nvme_memcpy(num + 1, d, ip + 2); /* integer part and two decimals */
    num[0] = '0';                    /* room for a carry */
    if (d[ip + 2] >= '5') {          /* round half up */
        size_t k = ip + 2;
        while (num[k] == '9')
            num[k--] = '0';
        num[k]++;
    }
    char f1 = num[ip + 1], f2 = num[ip + 2];
    num[ip + 1] = '\0'; /* the integer digits end */
    nvme_snprintf(out, len, "%s.%c%c %cB", num[0] == '0' ? num + 1 : num, f1, f2, pfx[e / 3 - 1]);
}

static void smart_json(struct ctl *c, const struct nvme_smart_log *l, uint32_t nsid)
{
    struct jw w;
    char key[32];
    jw_begin(&w, c->io);
    (void)nsid;
    if (flag(c, F_HUMAN)) { /* nvme-cli -H: the bits by name (nvme-print-json.c) */
        static const char *const bit[] = {"available_spare",      "temp_threshold",
                                          "reliability_degraded", "ro",
                                          "vmbu_failed",          "pmr_ro"};
        jw_obj(&w, "critical_warning");
        jw_u64(&w, "value", l->critical_warning);
        for (unsigned b = 0; b < 6; b++)
            jw_u64(&w, bit[b], (l->critical_warning >> b) & 1u);
        jw_close_obj(&w);
    } else {
        jw_u64(&w, "critical_warning", l->critical_warning);
    }
    jw_u64(&w, "temperature", l->composite_temp);
    jw_u64(&w, "avail_spare", l->avail_spare);
    jw_u64(&w, "spare_thresh", l->avail_spare_thresh);
    jw_u64(&w, "percent_used", l->percent_used);
    jw_u64(&w, "endurance_grp_critical_warning_summary", l->endgrp_crit_warning);
    jw_u128(&w, "data_units_read", l->data_units_read);
    jw_u128(&w, "data_units_written", l->data_units_written);
    jw_u128(&w, "host_read_commands", l->host_reads);
    jw_u128(&w, "host_write_commands", l->host_writes);
    jw_u128(&w, "controller_busy_time", l->ctrl_busy_time);
    jw_u128(&w, "power_cycles", l->power_cycles);
    jw_u128(&w, "power_on_hours", l->power_on_hours);
    jw_u128(&w, "unsafe_shutdowns", l->unsafe_shutdowns);
    jw_u128(&w, "media_errors", l->media_errors);
    jw_u128(&w, "num_err_log_entries", l->num_err_log_entries);
    jw_u64(&w, "warning_temp_time", l->warning_temp_time);
    jw_u64(&w, "critical_comp_time", l->critical_comp_time);
    for (unsigned i = 0; i < 8; i++) {
        if (l->temp_sensor[i] == 0)
            continue;
        nvme_snprintf(key, sizeof(key), "temperature_sensor_%u", i + 1);
        jw_u64(&w, key, l->temp_sensor[i]);
    }
    jw_u64(&w, "thm_temp1_trans_count", l->thm_temp1_trans_count);
    jw_u64(&w, "thm_temp2_trans_count", l->thm_temp2_trans_count);
    jw_u64(&w, "thm_temp1_total_time", l->thm_temp1_total_time);
    jw_u64(&w, "thm_temp2_total_time", l->thm_temp2_total_time);
    jw_end(&w);
}

int ctl_cmd_smart_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    uint32_t nsid = ctl_nsid_or(c, NVME_NSID_ALL);
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    struct nvme_smart_log *log = ctl_scratch(c, 0, sizeof(*log));
    if (log == NULL)
        return NVME_ERR_NOMEM;
    int rc;
    if (nsid == NVME_NSID_ALL) {
        rc = nvme_get_smart_log(c->ctrl, log);
    } else {
        struct nvme_log_args a;
        nvme_memzero(&a, sizeof(a));
        a.lid = 0x02;
        a.nsid = nsid;
        a.buf = log;
        a.len = sizeof(*log);
        rc = nvme_get_log(c->ctrl, &a);
    }
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, "smart-log", rc);
    if (ctl_raw(c, log, sizeof(*log)))
        return NVME_OK;
    if (c->o.json) {
        smart_json(c, log, nsid);
        return NVME_OK;
    }
    /* nvme-cli 2.4's nvme_show_smart_log, line for line (tabs, labels,
     * "%#x", Celsius as Kelvin - 273, the data units also in SI bytes),
     * but "C" for its "°C": nvmectl prints ASCII only (a kernel console
     * need not know UTF-8; the fuzz target checks it). */
    static const char *const tabs[] = {"", "\t", "\t\t", "\t\t\t", "\t\t\t\t"};
    ctl_out(io, "Smart Log for NVME device:%s namespace-id:%x\n", ctl_dev(io), nsid);
    ctl_out(io, "critical_warning\t\t\t: %s%x\n", hx(log->critical_warning), log->critical_warning);
    if (flag(c, F_HUMAN)) {
        /* nvme-cli -H: every bit of §5.14.1.2 Critical Warning, 0 or 1 */
        static const char *const bit[] = {"Available Spare[0]",
                                          "Temp. Threshold[1]",
                                          "NVM subsystem Reliability[2]",
                                          "Read-only[3]",
                                          "Volatile mem. backup failed[4]",
                                          "Persistent Mem. RO[5]"};
        for (unsigned b = 0; b < 6; b++)
            ctl_out(io, "      %-30s : %u\n", bit[b], (log->critical_warning >> b) & 1u);
    }
    ctl_out(io, "temperature\t\t\t\t: %d C (%u K)\n", (int)log->composite_temp - 273,
            log->composite_temp);
    ctl_out(io, "available_spare\t\t\t\t: %u%%\n", log->avail_spare);
    ctl_out(io, "available_spare_threshold\t\t: %u%%\n", log->avail_spare_thresh);
    ctl_out(io, "percentage_used\t\t\t\t: %u%%\n", log->percent_used);
    ctl_out(io, "endurance group critical warning summary: %s%x\n", hx(log->endgrp_crit_warning),
            log->endgrp_crit_warning);
    static const struct {
        const char *name;
        uint8_t tabs, off;
    } u128[] = {
        {"Data Units Read", 4, offsetof(struct nvme_smart_log, data_units_read)},
        {"Data Units Written", 3, offsetof(struct nvme_smart_log, data_units_written)},
        {"host_read_commands", 3, offsetof(struct nvme_smart_log, host_reads)},
        {"host_write_commands", 3, offsetof(struct nvme_smart_log, host_writes)},
        {"controller_busy_time", 3, offsetof(struct nvme_smart_log, ctrl_busy_time)},
        {"power_cycles", 4, offsetof(struct nvme_smart_log, power_cycles)},
        {"power_on_hours", 4, offsetof(struct nvme_smart_log, power_on_hours)},
        {"unsafe_shutdowns", 3, offsetof(struct nvme_smart_log, unsafe_shutdowns)},
        {"media_errors", 4, offsetof(struct nvme_smart_log, media_errors)},
        {"num_err_log_entries", 3, offsetof(struct nvme_smart_log, num_err_log_entries)},
    };
    for (unsigned i = 0; i < sizeof(u128) / sizeof(u128[0]); i++) {
        const uint8_t *le = (const uint8_t *)log + u128[i].off;
        char dec[48], si[56];
        si[0] = '\0'; /* (an initializer is a memset call on some targets) */
        nvme_u128_to_dec(nvme_u128_from_le(le), dec, sizeof(dec));
        if (i < 2)
            smart_si(si, sizeof(si), le);
        ctl_out(io, "%s%s: %s%s%s%s\n", u128[i].name, tabs[u128[i].tabs], dec, i < 2 ? " (" : "",
                si, i < 2 ? ")" : "");
    }
    ctl_out(io, "Warning Temperature Time\t\t: %u\n", log->warning_temp_time);
    ctl_out(io, "Critical Composite Temperature Time\t: %u\n", log->critical_comp_time);
    for (unsigned i = 0; i < 8; i++) {
        uint16_t t = log->temp_sensor[i];
        if (t != 0)
            ctl_out(io, "Temperature Sensor %u           : %d C (%u K)\n", i + 1, (int)t - 273, t);
    }
    ctl_out(io, "Thermal Management T1 Trans Count\t: %u\n", log->thm_temp1_trans_count);
    ctl_out(io, "Thermal Management T2 Trans Count\t: %u\n", log->thm_temp2_trans_count);
    ctl_out(io, "Thermal Management T1 Total Time\t: %u\n", log->thm_temp1_total_time);
    ctl_out(io, "Thermal Management T2 Total Time\t: %u\n", log->thm_temp2_total_time);
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* error-log                                                           */
/* ------------------------------------------------------------------ */

int ctl_cmd_error_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    uint8_t *id = ctl_scratch(c, 0, 4096);
    if (id == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_identify(c->ctrl, 0x01, 0, id);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "error-log (identify)", rc);
    /* As nvme-cli: the ELPE of an Identify read now (a firmware
     * activation may change it), -e N cut down to ELPE + 1 entries. */
    unsigned max = (unsigned)id[262] + 1u; /* ELPE, 0-based */
    unsigned n = has(c, N_ENTRIES)
                     ? (c->o.num[N_ENTRIES] < 256 ? (unsigned)c->o.num[N_ENTRIES] : 256u)
                     : 64u;
    if (n == 0)
        return ctl_usage_err(c, "-e must be at least 1");
    if (n > max)
        n = max;
    struct nvme_error_log_entry *e = ctl_scratch(c, 0, (size_t)n * sizeof(*e));
    if (e == NULL)
        return NVME_ERR_NOMEM;
    rc = nvme_get_error_log(c->ctrl, e, n);
    if (rc == NVME_ERR_INVAL) { /* the core bounds n by the ELPE it read */
        ctl_out(io,
                "%s: error-log: the controller now reports %u entries (ELPE %u), more than "
                "when the core last read its identity: reset the controller (nvmectl reset)\n",
                ctl_dev(io), max, max - 1u);
        return rc;
    }
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "error-log", rc);
    if (ctl_raw(c, e, (size_t)n * sizeof(*e)))
        return NVME_OK;
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, io);
        jw_arr(&w, "errors");
    } else {
        ctl_out(io, "Error Log Entries for device:%s entries:%u\n", ctl_dev(io), n);
        ctl_out(io, ".................\n");
    }
    for (unsigned i = 0; i < n; i++) {
        uint16_t sf = (uint16_t)(e[i].status >> 1);
        if (c->o.json) {
            /* nvme-cli's json_error_log: every field of Figure 206 (NVMe
             * 2.0 §5.16.1.2), in its order; a table of the offset and
             * log2 of the size (bits 7:6), the keys in one string */
            static const char key[] = "error_count\0sqid\0cmdid\0status_field\0phase_tag\0"
                                      "parm_error_location\0lba\0nsid\0vs\0trtype\0csi\0opcode\0"
                                      "cs\0trtype_spec_info\0log_page_version";
            static const uint8_t at[] = {0xc0, 0x48, 0x4a, 0x4c, 0x4c, 0x4e, 0xd0, 0x98,
                                         28,   29,   30,   31,   0xe0, 0x68, 63};
            const char *k = key;
            jw_obj(&w, NULL);
            for (unsigned j = 0; j < sizeof(at); j++, k += nvme_strlen(k) + 1) {
                uint64_t v = ctl_le((const uint8_t *)&e[i] + (at[j] & 63u), 1u << (at[j] >> 6));
                jw_u64(&w, k, j == 3 ? v >> 1 : j == 4 ? v & 1u : v);
            }
            jw_close_obj(&w);
            continue;
        }
        /* nvme-cli 2.4's nvme_show_error_log, tabs and all; the status
         * by the core's name for it, not libnvme's sentence. */
        static const char *const trtype[] = {
            "The transport type is not indicated or the error is not transport related.",
            "RDMA Transport error.", "Fibre Channel Transport error.", "TCP Transport error."};
        const char *tt = e[i].trtype < 4u     ? trtype[e[i].trtype]
                         : e[i].trtype == 254 ? "Intra-host Transport error."
                                              : "Reserved";
        ctl_out(io, " Entry[%2u]   \n.................\n", i);
        ctl_out(io, "error_count\t: %llu\n", (unsigned long long)e[i].error_count);
        ctl_out(io, "sqid\t\t: %u\n", e[i].sqid);
        /* nvme-cli's "%#x" fields: 0 without "0x" */
        ctl_out(io, "cmdid\t\t: %s%x\n", hx(e[i].cid), e[i].cid);
        ctl_out(io, "status_field\t: %s%x(%s)\n", hx(sf), sf,
                sf != 0 ? nvme_status_name(sf) : "Success");
        ctl_out(io, "phase_tag\t: %s%x\n", hx(e[i].status & 1u), e[i].status & 1u);
        ctl_out(io, "parm_err_loc\t: %s%x\n", hx(e[i].param_loc), e[i].param_loc);
        ctl_out(io, "lba\t\t: %s%llx\n", hx(e[i].lba), (unsigned long long)e[i].lba);
        ctl_out(io, "nsid\t\t: %s%x\n", hx(e[i].nsid), e[i].nsid);
        ctl_out(io, "vs\t\t: %u\n", e[i].vs);
        ctl_out(io, "trtype\t\t: %s\n", tt);
        ctl_out(io, "csi\t\t: %u\n", e[i].csi);
        ctl_out(io, "opcode\t\t: %s%x\n", hx(e[i].opcode), e[i].opcode);
        ctl_out(io, "cs\t\t: %s%llx\n", hx(e[i].cs), (unsigned long long)e[i].cs);
        ctl_out(io, "trtype_spec_info: %s%x\n", hx(e[i].trtype_spec), e[i].trtype_spec);
        ctl_out(io, "log_page_version: %u\n", e[i].log_page_version);
        ctl_out(io, ".................\n");
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* fw-log, changed-ns-list-log                                         */
/* ------------------------------------------------------------------ */

int ctl_cmd_fw_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    struct nvme_fw_slot_log *log = ctl_scratch(c, 0, sizeof(*log));
    if (log == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_get_fw_slot_log(c->ctrl, log);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "fw-log", rc);
    if (ctl_raw(c, log, sizeof(*log)))
        return NVME_OK;
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, io);
        jw_obj(&w, ctl_dev(io));
        jw_u64(&w, "Active Firmware Slot (afi)", log->afi);
    } else {
        ctl_out(io, "Firmware Log for device:%s\n", ctl_dev(io));
        ctl_out(io, "afi  : %s%x\n", hx(log->afi), log->afi); /* nvme-cli: "%#x" */
    }
    for (unsigned i = 0; i < 7; i++) {
        if (log->frs[i][0] == 0)
            continue;
        uint64_t v = 0;
        for (unsigned b = 0; b < 8; b++)
            v |= (uint64_t)(uint8_t)log->frs[i][b] << (8u * b);
        /* The 8 bytes as nvme-cli's util_fw_to_string shows them: '.'
         * for any outside '!'..'~' (padding blanks and NULs too). */
        char txt[9];
        for (unsigned b = 0; b < 8; b++) {
            char ch = log->frs[i][b];
            txt[b] = ch >= '!' && ch <= '~' ? ch : '.';
        }
        txt[8] = '\0';
        if (c->o.json) {
            char val[48], key[24];
            nvme_snprintf(key, sizeof(key), "Firmware Rev Slot %u", i + 1);
            nvme_snprintf(val, sizeof(val), "%llu (%s)", (unsigned long long)v, txt);
            jw_str(&w, key, val);
        } else {
            /* nvme-cli's "%#016" PRIx64: at least 14 digits after "0x"
             * (a revision padded with NULs is below 2^56) */
            ctl_out(io, "frs%u : 0x%014llx (%s)\n", i + 1, (unsigned long long)v, txt);
        }
    }
    if (c->o.json) {
        jw_close_obj(&w);
        jw_end(&w);
    }
    return NVME_OK;
}

int ctl_cmd_changed_ns(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    uint32_t *list = ctl_scratch(c, 0, 1024 * sizeof(uint32_t));
    if (list == NULL)
        return NVME_ERR_NOMEM;
    /* With RAE (Retain Asynchronous Event, §5.16), as nvme-cli: the notice
     * the core has still to handle stays masked for its own read. */
    int rc = ctl_get_log(c, NVME_LID_CHANGED_NS, 0, 0, true, list, 1024 * sizeof(uint32_t));
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "changed-ns-list-log", rc);
    if (ctl_raw(c, list, 1024 * sizeof(uint32_t)))
        return NVME_OK;
    bool more = list[0] == 0xffffffffu;
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, io);
        jw_str(&w, "Changed Namespace List Log", ctl_dev(io));
        if (more)
            jw_bool(&w, "more_than_1024", true);
        jw_obj(&w, ctl_dev(io));
    } else {
        ctl_out(io, "Changed Namespace List Log for device:%s\n", ctl_dev(io));
        if (more)
            ctl_out(io, "more than 1024 namespaces changed\n");
        else if (list[0] == 0)
            ctl_out(io, "no changed namespaces\n");
    }
    for (unsigned i = 0; !more && i < 1024 && list[i] != 0; i++) {
        char key[16], val[16];
        /* nvme-cli: "[%4u]" of i + 1 in JSON, of i in the text */
        nvme_snprintf(key, sizeof(key), "[%4u]", i + c->o.json);
        nvme_snprintf(val, sizeof(val), "0x%x", list[i]);
        if (c->o.json)
            jw_str(&w, key, val);
        else
            ctl_out(io, "%s:%s\n", key, val);
    }
    if (c->o.json) {
        jw_close_obj(&w);
        jw_end(&w);
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* effects-log                                                         */
/* ------------------------------------------------------------------ */

/* ctl_code_name's lists: each opcode as a three-digit octal escape (one
 * that cannot swallow the name's first letter), its name, a NUL. */
static const char admin_names[] = "\000Delete I/O Submission Queue\0"
                                  "\001Create I/O Submission Queue\0"
                                  "\002Get Log Page\0"
                                  "\004Delete I/O Completion Queue\0"
                                  "\005Create I/O Completion Queue\0"
                                  "\006Identify\0"
                                  "\010Abort\0"
                                  "\011Set Features\0"
                                  "\012Get Features\0"
                                  "\014Asynchronous Event Request\0"
                                  "\015Namespace Management\0"
                                  "\020Firmware Commit\0"
                                  "\021Firmware Image Download\0"
                                  "\024Device Self-test\0"
                                  "\025Namespace Attachment\0"
                                  "\030Keep Alive\0"
                                  "\031Directive Send\0"
                                  "\032Directive Receive\0"
                                  "\034Virtualization Management\0"
                                  "\035NVMe-MI Send\0"
                                  "\036NVMe-MI Receive\0"
                                  "\174Doorbell Buffer Config\0"
                                  "\200Format NVM\0"
                                  "\201Security Send\0"
                                  "\202Security Receive\0"
                                  "\204Sanitize\0"
                                  "\206Get LBA Status\0";

const char *ctl_admin_name(unsigned op)
{
    return ctl_code_name(admin_names, sizeof(admin_names), op);
}

static const char io_names[] = "\000Flush\0"
                               "\001Write\0"
                               "\002Read\0"
                               "\004Write Uncorrectable\0"
                               "\005Compare\0"
                               "\010Write Zeroes\0"
                               "\011Dataset Management\0"
                               "\014Verify\0"
                               "\015Reservation Register\0"
                               "\016Reservation Report\0"
                               "\021Reservation Acquire\0"
                               "\025Reservation Release\0"
                               "\031Copy\0"
                               "\171Zone Management Send\0"
                               "\172Zone Management Receive\0"
                               "\175Zone Append\0";

const char *ctl_io_name(unsigned op) { return ctl_code_name(io_names, sizeof(io_names), op); }

int ctl_cmd_effects_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    if (c->o.num[N_CSI] > 0xffu)
        return ctl_usage_err(c, "--csi is 0..255");
    uint8_t csi = (uint8_t)c->o.num[N_CSI];
    struct nvme_effects_log *log = ctl_scratch(c, 0, sizeof(*log));
    if (log == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_get_effects_log(c->ctrl, csi, log);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "effects-log", rc);
    if (ctl_raw(c, log, sizeof(*log)))
        return NVME_OK;
    struct jw w;
    if (c->o.json) {
        ctl_out(io, "[");
        jw_begin(&w, io);
        jw_u64(&w, "command_set_identifier", csi);
    }
    for (unsigned set = 0; set < 2; set++) {
        const uint32_t *e = set == 0 ? log->acs : log->iocs;
        /* No heading line: the lines' ACS/IOCS tell the sets apart (the
         * README's "no page or segment headings"; nvme-cli 2.4 prints none
         * of the form "Admin Command Set" either) */
        if (c->o.json)
            jw_obj(&w, set == 0 ? "admin_cmd_set" : "io_cmd_set");
        for (unsigned op = 0; op < 256; op++) {
            if (!(e[op] & NVME_EFFECTS_CSUPP))
                continue;
            const char *name = set == 0 ? ctl_admin_name(op) : ctl_io_name(op);
            if (c->o.json) {
                char key[64];
                nvme_snprintf(key, sizeof(key), "%s_%u (%s)", set == 0 ? "ACS" : "IOCS", op, name);
                jw_u64(&w, key, e[op]);
            } else {
                ctl_out(io, set == 0 ? "ACS%-6u[%-32s] %08x\n" : "IOCS%-5u[%-32s] %08x\n", op, name,
                        e[op]);
            }
        }
        if (c->o.json)
            jw_close_obj(&w);
    }
    if (c->o.json) {
        jw_end(&w);
        ctl_out(io, "]\n");
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* self-test-log                                                       */
/* ------------------------------------------------------------------ */

static __attribute__((noinline)) const char *dst_result(unsigned r)
{
    static const char *const s[] = {"completed without error",
                                    "aborted by a Device Self-test command",
                                    "aborted by a Controller Level Reset",
                                    "aborted due to a namespace removal",
                                    "aborted due to a Format NVM command",
                                    "fatal or unknown test error",
                                    "completed with a failed segment (unknown)",
                                    "completed with one or more failed segments",
                                    "aborted for unknown reason",
                                    "aborted due to a sanitize operation"};
    return r < 10 ? s[r] : "reserved";
}

/* One line of nvme-cli's nvme_show_self_test_result: the label padded
 * to 29 columns, the value as its "%#x", -v's words after it. */
static void dst_field(const struct nvmectl_io *io, const char *name, uint64_t v, const char *words)
{
    ctl_out(io, "  %-29s: %s%llx%s%s\n", name, hx(v), (unsigned long long)v, words ? " " : "",
            words ? words : "");
}

int ctl_cmd_self_test_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    struct nvme_self_test_log *log = ctl_scratch(c, 0, sizeof(*log));
    if (log == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_get_self_test_log(c->ctrl, log);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "self-test-log", rc);
    if (ctl_raw(c, log, sizeof(*log)))
        return NVME_OK;
    struct jw w;
    if (c->o.json) {
        jw_begin(&w, io);
        /* the bytes as read, as nvme-cli's json_self_test_log and this
         * command's text ("Current operation : %#x") show them */
        jw_u64(&w, "Current Device Self-Test Operation", log->current);
        jw_u64(&w, "Current Device Self-Test Completion", log->completion);
        jw_arr(&w, "List of Valid Reports");
    } else {
        /* nvme-cli 2.4's nvme_show_self_test_log: the bytes as read,
         * "%#x" (0 without "0x"), every entry, an unused one by its
         * result alone; -v adds the words for the result and code. */
        ctl_out(io, "Device Self Test Log for NVME device:%s\n", ctl_dev(io));
        ctl_out(io, "Current operation  : %s%x\nCurrent Completion : %u%%\n", hx(log->current),
                log->current, log->completion);
    }
    bool human = flag(c, F_HUMAN);
    for (unsigned i = 0; i < 20; i++) {
        const struct nvme_self_test_result *r = &log->result[i];
        unsigned res = r->status & 0xfu, code = r->status >> 4;
        if (c->o.json) {
            jw_obj(&w, NULL);
            jw_u64(&w, "Self test result", res);
            if (res == NVME_DST_RESULT_UNUSED) {
                jw_close_obj(&w);
                continue;
            }
            jw_u64(&w, "Self test code", code);
            jw_u64(&w, "Segment number", r->segment);
            jw_u64(&w, "Valid Diagnostic Information", r->valid);
            jw_u64(&w, "Power on hours", r->poh);
            if (r->valid & 1u)
                jw_u64(&w, "Namespace Identifier", r->nsid);
            if (r->valid & 2u)
                jw_u64(&w, "Failing LBA", r->flba);
            if (r->valid & 4u)
                jw_u64(&w, "Status Code Type", r->sct);
            if (r->valid & 8u)
                jw_u64(&w, "Status Code", r->sc);
            jw_u64(&w, "Vendor Specific", r->vs);
            jw_close_obj(&w);
            continue;
        }
        ctl_out(io, "Self Test Result[%u]:\n", i);
        dst_field(io, "Operation Result", res, human ? dst_result(res) : NULL);
        if (res == NVME_DST_RESULT_UNUSED)
            continue;
        ctl_out(io, "  Self Test Code               : %x\n", code);
        if (res == 7) /* a failed segment, its number known */
            dst_field(io, "Segment Number", r->segment, NULL);
        dst_field(io, "Valid Diagnostic Information", r->valid, NULL);
        dst_field(io, "Power on hours (POH)", r->poh, NULL);
        if (r->valid & 1u)
            dst_field(io, "Namespace Identifier", r->nsid, NULL);
        if (r->valid & 2u)
            dst_field(io, "Failing LBA", r->flba, NULL);
        if (r->valid & 4u)
            dst_field(io, "Status Code Type", r->sct, NULL);
        if (r->valid & 8u)
            dst_field(io, "Status Code", r->sc, NULL);
        ctl_out(io, "  Vendor Specific              : %s%x %s%x\n", hx(r->vs & 0xffu),
                r->vs & 0xffu, hx(r->vs >> 8), r->vs >> 8);
    }
    if (c->o.json) {
        jw_close_arr(&w);
        jw_end(&w);
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* get-log                                                             */
/* ------------------------------------------------------------------ */

int ctl_cmd_get_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (!has(c, N_LID) || c->o.num[N_LID] > 0xffu)
        return ctl_usage_err(c, "-i LID (0..255) is required");
    if (!has(c, N_LEN) || c->o.num[N_LEN] == 0 || (c->o.num[N_LEN] & 3u) != 0 ||
        c->o.num[N_LEN] > 0xffffffffu)
        return ctl_usage_err(c, "-l LEN is required: a multiple of 4 bytes, > 0");
    if ((c->o.num[N_LPO] & 3u) != 0)
        return ctl_usage_err(c, "--lpo must be a multiple of 4");
    if (c->o.num[N_LSP] > 0x7fu || c->o.num[N_LSI] > 0xffffu || c->o.num[N_CSI] > 0xffu)
        return ctl_usage_err(c, "--lsp is 0..127, --lsi 0..65535, --csi 0..255");
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    struct nvme_log_args a;
    nvme_memzero(&a, sizeof(a));
    a.lid = (uint8_t)c->o.num[N_LID];
    a.lsp = (uint8_t)c->o.num[N_LSP];
    a.lsi = (uint16_t)c->o.num[N_LSI];
    a.csi = (uint8_t)c->o.num[N_CSI];
    a.nsid = ctl_nsid_or(c, NVME_NSID_ALL);
    a.offset = c->o.num[N_LPO];
    a.rae = flag(c, F_RAE);
    a.len = (uint32_t)c->o.num[N_LEN];
    a.buf = ctl_scratch(c, 0, a.len);
    if (a.buf == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_get_log(c->ctrl, &a);
    if (rc != NVME_OK)
        return ctl_fail(c, a.nsid, "get-log", rc);
    if (ctl_raw(c, a.buf, a.len)) /* nvme-cli: the bytes only, no header line */
        return NVME_OK;
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        jw_str(&w, "device", ctl_dev(io));
        jw_u64(&w, "log_id", a.lid);
        jw_u64(&w, "nsid", a.nsid);
        jw_u64(&w, "lpo", a.offset);
        jw_u64(&w, "length", a.len);
        jw_hex(&w, "data", a.buf, a.len);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(io, "Device:%s log-id:%u namespace-id:0x%x offset:%llu length:%u bytes\n", ctl_dev(io),
            a.lid, a.nsid, (unsigned long long)a.offset, a.len);
    ctl_hexdump(io, a.buf, a.len, a.offset);
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* sanitize-log (LID 81h, NVMe 2.0 §5.16.1.25)                         */
/* ------------------------------------------------------------------ */

static const char *sanitize_state(unsigned st)
{
    switch (st) {
    case 0:
        return "NVM subsystem has never been sanitized";
    case 1:
        return "Most recent sanitize operation completed successfully";
    case 2:
        return "A sanitize operation is currently in progress";
    case 3:
        return "Most recent sanitize operation failed";
    case 4:
        return "Most recent sanitize operation with No-Deallocate has completed successfully "
               "with deallocation";
    default:
        return "Reserved";
    }
}

int ctl_cmd_sanitize_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    struct nvme_sanitize_log *log = ctl_scratch(c, 0, sizeof(*log));
    if (log == NULL)
        return NVME_ERR_NOMEM;
    int rc = nvme_get_sanitize_log(c->ctrl, log);
    if (rc != NVME_OK)
        return ctl_fail(c, 0, "sanitize-log", rc);
    if (ctl_raw(c, log, sizeof(*log)))
        return NVME_OK;
    /* The estimated times, in nvme-cli's order and names. */
    static const struct {
        const char *json, *text;
    } et[6] = {
        {"time_over_write", "Estimated Time For Overwrite                   "},
        {"time_block_erase", "Estimated Time For Block Erase                 "},
        {"time_crypto_erase", "Estimated Time For Crypto Erase                "},
        {"time_over_write_no_dealloc", "Estimated Time For Overwrite (No-Deallocate)   "},
        {"time_block_erase_no_dealloc", "Estimated Time For Block Erase (No-Deallocate) "},
        {"time_crypto_erase_no_dealloc", "Estimated Time For Crypto Erase (No-Deallocate)"},
    };
    const uint32_t t[6] = {log->eto, log->etbe, log->etce, log->etond, log->etbend, log->etcend};
    unsigned st = log->sstat & 7u;
    if (c->o.json) {
        /* nvme-cli 2.4's json_sanitize_log: under the device's name,
         * SSTAT's fields in "sstat", its status "(N) words" (nvmectl's) */
        struct jw w;
        char s[112];
        jw_begin(&w, io);
        jw_obj(&w, ctl_dev(io));
        jw_u64(&w, "sprog", log->sprog);
        jw_obj(&w, "sstat");
        jw_u64(&w, "global_erased", (log->sstat >> 8) & 1u);
        jw_u64(&w, "no_cmplted_passes", (log->sstat >> 3) & 0x1fu);
        nvme_snprintf(s, sizeof(s), "(%u) %s", st, sanitize_state(st));
        jw_str(&w, "status", s);
        jw_close_obj(&w);
        jw_u64(&w, "cdw10_info", log->scdw10);
        for (unsigned i = 0; i < 6; i++)
            jw_u64(&w, et[i].json, t[i]);
        jw_close_obj(&w);
        jw_end(&w);
        return NVME_OK;
    }
    if (flag(c, F_HUMAN) && st == 2) {
        /* nvme-cli 2.4's -H while in progress (nvme_show_sanitize_log_sprog):
         * printf("\t(%f%%)\n", sprog * 100.0 / 0x10000), without floating
         * point: SPROG x 100 / 2^16 is exact in binary, its six decimals
         * rounded as printf rounds an exact tie, to even */
        uint32_t v = (uint32_t)log->sprog * 100u, whole = v >> 16;
        uint32_t m = (v & 0xffffu) * 15625u; /* x 10^6 / 2^16 = x 15625 / 2^10 */
        uint32_t frac = m >> 10, rest = m & 1023u;
        if (rest > 512u || (rest == 512u && (frac & 1u)))
            frac++;
        if (frac == 1000000u) {
            frac = 0;
            whole++;
        }
        ctl_out(io, "Sanitize Progress                      (SPROG) :  %u\t(%u.%06u%%)\n",
                log->sprog, whole, frac);
    } else {
        ctl_out(io, "Sanitize Progress                      (SPROG) :  %u\n", log->sprog);
    }
    /* nvme-cli 2.4: SSTAT's status bits 2:0 as "%#x", the rest with -H */
    ctl_out(io, "Sanitize Status                        (SSTAT) :  %s%x\n", hx(st), st);
    if (flag(c, F_HUMAN)) /* nvme-cli's layout, nvmectl's words */
        ctl_out(io,
                "\t[2:0]\t%s\n\t[7:3]\tNumber of completed passes if most recent operation was "
                "overwrite:\t%u\n\t  [8]\tGlobal Data Erased: %s\n",
                sanitize_state(st), (log->sstat >> 3) & 0x1fu,
                (log->sstat & 0x100u) ? "yes" : "no");
    ctl_out(io, "Sanitize Command Dword 10 Information (SCDW10) :  %s%x\n", hx(log->scdw10),
            log->scdw10);
    for (unsigned i = 0; i < 6; i++) {
        if (t[i] == 0xffffffffu)
            ctl_out(io, "%s:  %u (No time period reported)\n", et[i].text, t[i]);
        else
            ctl_out(io, "%s:  %u\n", et[i].text, t[i]);
    }
    return NVME_OK;
}

/* ------------------------------------------------------------------ */
/* persistent-event-log                                                */
/* ------------------------------------------------------------------ */

/* Persistent Event Log (LID 0Dh, NVMe 2.0 §5.16.1.14): a 512-byte header
 * (LID, Total Number of Events 7:4, Total Log Length 15:8, Log Revision,
 * Timestamp 27:20, Power On Hours 43:28, Power Cycle Count 51:44, VID,
 * SSVID, SN, MN, SUBNQN, Generation Number 373:372, Reporting Context
 * Information 377:374), then events, each a header (Event Type, Event Type
 * Revision, Event Header Length = header bytes - 3, Event Header
 * Additional Info, Controller Identifier 5:4, Event Timestamp 13:6,
 * Persistent Event Log Port Identifier 15:14, Vendor Specific Information
 * Length 21:20, Event Length 23:22) and Event Length bytes after it. */
#define PEL_HDR 512u
#define PEL_EVENT_HDR 24u

/* Device text (SN, MN, SUBNQN): up to the first NUL, its padding blanks
 * kept, as nvme-cli's "%-.*s" prints them (and as id-ctrl's SN and MN);
 * anything not printable shown as '.'. */
static void pel_text(char *out, const uint8_t *p, size_t n)
{
    size_t len = 0;
    while (len < n && p[len] != 0)
        len++;
    for (size_t i = 0; i < len; i++)
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '.';
    out[len] = '\0';
}

static const char *pel_event_name(uint8_t type)
{
    static const char *const names[] = {"Reserved Event",
                                        "SMART Health Log Snapshot Event",
                                        "Firmware Commit Event",
                                        "Timestamp Change Event",
                                        "Power-on or Reset Event",
                                        "NVM Subsystem Hardware Error Event",
                                        "Change Namespace Event",
                                        "Format NVM Start Event",
                                        "Format NVM Completion Event",
                                        "Sanitize Start Event",
                                        "Sanitize Completion Event",
                                        "Set Feature Event",
                                        "Telemetry Log Create Event",
                                        "Thermal Excursion Event"};
    if (type < sizeof(names) / sizeof(names[0]))
        return names[type];
    if (type == 0xde)
        return "Vendor Specific Event";
    if (type == 0xdf)
        return "TCG Defined Event";
    return "Reserved Event";
}

/* The events of a log of `len` bytes: at most Total Number of Events, and
 * only those whose header and Event Length lie inside the bytes read (both
 * counts come from the device). */
static unsigned pel_events(struct ctl *c, struct jw *w, const uint8_t *log, uint32_t len)
{
    const struct nvmectl_io *io = c->io;
    uint32_t tnev = (uint32_t)ctl_le(log + 4, 4);
    uint32_t off = PEL_HDR;
    unsigned n = 0;
    for (uint32_t i = 0; i < tnev && len - off >= PEL_EVENT_HDR; i++) {
        const uint8_t *e = log + off;
        uint32_t ehl = e[2] + 3u;
        uint32_t el = (uint32_t)ctl_le(e + 22, 2);
        uint32_t vsil = (uint32_t)ctl_le(e + 20, 2);
        if (ehl < PEL_EVENT_HDR || len - off < ehl || len - off - ehl < el)
            break;
        if (w != NULL) {
            jw_obj(w, NULL);
            jw_u64(w, "event_number", i);
            jw_str(w, "event_type", pel_event_name(e[0]));
            jw_u64(w, "event_type_rev", e[1]);
            jw_u64(w, "event_header_len", e[2]);
            jw_u64(w, "event_header_additional_info", e[3]);
            jw_u64(w, "ctrl_id", ctl_le(e + 4, 2));
            jw_u64(w, "event_time_stamp", ctl_le(e + 6, 8));
            jw_u64(w, "port_id", ctl_le(e + 14, 2));
            jw_u64(w, "vu_info_len", vsil);
            jw_u64(w, "event_len", el);
            jw_close_obj(w);
        } else {
            ctl_out(io, "Event Number: %u\n", i);
            ctl_out(io, "Event Type: %s\n", pel_event_name(e[0]));
            ctl_out(io, "Event Type Revision: %u\n", e[1]);
            ctl_out(io, "Event Header Length: %u\n", e[2]);
            ctl_out(io, "Event Header Additional Info: %u\n", e[3]);
            ctl_out(io, "Controller Identifier: %u\n", (unsigned)ctl_le(e + 4, 2));
            ctl_out(io, "Event Timestamp: %llu\n", (unsigned long long)ctl_le(e + 6, 8));
            ctl_out(io, "Port Identifier: %u\n", (unsigned)ctl_le(e + 14, 2));
            ctl_out(io, "Vendor Specific Information Length: %u\n", vsil);
            ctl_out(io, "Event Length: %u\n\n", el);
        }
        off += ehl + el;
        n++;
    }
    return n;
}

static __attribute__((noinline)) void pel_show(struct ctl *c, const uint8_t *log, uint32_t len,
                                               unsigned action)
{
    const struct nvmectl_io *io = c->io;
    char sn[21], mn[41], nqn[257];
    if (len >= PEL_HDR) {
        pel_text(sn, log + 56, 20);
        pel_text(mn, log + 76, 40);
        pel_text(nqn, log + 116, 256);
    }
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        jw_str(&w, "device", ctl_dev(io));
        jw_u64(&w, "action", action);
        if (len >= PEL_HDR) {
            jw_u64(&w, "log_id", log[0]);
            jw_u64(&w, "total_num_of_events", ctl_le(log + 4, 4));
            jw_u64(&w, "total_log_len", ctl_le(log + 8, 8));
            jw_u64(&w, "log_revision", log[16]); /* nvme-cli's key */
            jw_u64(&w, "log_header_len", ctl_le(log + 18, 2));
            jw_u64(&w, "timestamp", ctl_le(log + 20, 8));
            jw_u128(&w, "power_on_hours", log + 28);
            jw_u64(&w, "power_cycle_count", ctl_le(log + 44, 8));
            jw_u64(&w, "pci_vid", ctl_le(log + 52, 2));
            jw_u64(&w, "pci_ssvid", ctl_le(log + 54, 2));
            jw_str(&w, "sn", sn);
            jw_str(&w, "mn", mn);
            jw_str(&w, "subnqn", nqn);
            jw_u64(&w, "gen_number", ctl_le(log + 372, 2));
            jw_u64(&w, "rci", ctl_le(log + 374, 4));
            jw_arr(&w, "list_of_event_entries");
            pel_events(c, &w, log, len);
            jw_close_arr(&w);
        }
        jw_end(&w);
        return;
    }
    ctl_out(io, "Persistent Event Log for device: %s\n", ctl_dev(io));
    ctl_out(io, "Action for Persistent Event Log: %u\n", action);
    if (len < PEL_HDR) {
        ctl_out(io, "No log data can be shown with this log len at least 512 bytes is required or "
                    "can be 0 to read the complete log page after context established\n");
        return;
    }
    char poh[48];
    nvme_u128_to_dec(nvme_u128_from_le(log + 28), poh, sizeof(poh));
    ctl_out(io, "Log Identifier: %u\n", log[0]);
    ctl_out(io, "Total Number of Events: %u\n", (unsigned)ctl_le(log + 4, 4));
    ctl_out(io, "Total Log Length : %llu\n", (unsigned long long)ctl_le(log + 8, 8));
    ctl_out(io, "Log Revision: %u\n", log[16]);
    ctl_out(io, "Log Header Length: %u\n", (unsigned)ctl_le(log + 18, 2));
    ctl_out(io, "Timestamp: %llu\n", (unsigned long long)ctl_le(log + 20, 8));
    ctl_out(io, "Power On Hours (POH): %s\n", poh);
    ctl_out(io, "Power Cycle Count: %llu\n", (unsigned long long)ctl_le(log + 44, 8));
    ctl_out(io, "PCI Vendor ID (VID): %u\n", (unsigned)ctl_le(log + 52, 2));
    ctl_out(io, "PCI Subsystem Vendor ID (SSVID): %u\n", (unsigned)ctl_le(log + 54, 2));
    ctl_out(io, "Serial Number (SN): %s\n", sn);
    ctl_out(io, "Model Number (MN): %s\n", mn);
    /* up to 256 bytes of SUBNQN: printed whole, not in a CTL_LINE buffer */
    ctl_out(io, "NVM Subsystem NVMe Qualified Name (SUBNQN): ");
    io->print(io->arg, nqn);
    io->print(io->arg, "\n");
    ctl_out(io, "Generation Number: %u\n", (unsigned)ctl_le(log + 372, 2));
    ctl_out(io, "Reporting Context Information (RCI): %u\n", (unsigned)ctl_le(log + 374, 4));
    ctl_out(io, "\n\nPersistent Event Entries:\n");
    pel_events(c, NULL, log, len);
}

/* nvme-cli's persistent-event-log: -a 0 Read Log Data, 1 Establish
 * Context and Read Log Data, 2 Release Context (NVMe 2.0 §5.16.1.14).
 * The header is read with the action; Release ends there (it returns no
 * log data), so does Establish without -l.  Then -l LEN bytes (-a 0
 * without -l: the header's Total Log Length) are read with Read Log Data
 * (a second Establish would be a Command Sequence Error) and the header
 * again: a Generation Number that changed means the context was lost
 * while reading (NVMe 2.1 §5.1.12.1.14: re-read the log).  The context
 * stays until -a 2 releases it. */
int ctl_cmd_persistent_event_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    if (!has(c, N_ACTION) || c->o.num[N_ACTION] > NVME_LOG_LSP_PEL_RELEASE)
        return ctl_usage_err(c, "-a ACTION is required: 0 read, 1 establish context and read, "
                                "2 release context");
    if ((c->o.num[N_LEN] & 3u) != 0 || c->o.num[N_LEN] > 0xfffffffcu)
        return ctl_usage_err(c, "-l LEN must be a multiple of 4 bytes");
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    unsigned action = (unsigned)c->o.num[N_ACTION];
    uint8_t *hdr = ctl_scratch(c, 0, PEL_HDR);
    if (hdr == NULL)
        return NVME_ERR_NOMEM;
    struct nvme_log_args a;
    nvme_memzero(&a, sizeof(a));
    a.lid = NVME_LID_PERSISTENT_EVENT;
    a.lsp = (uint8_t)action;
    a.nsid = NVME_NSID_ALL;
    a.buf = hdr;
    a.len = PEL_HDR;
    int rc = nvme_get_log(c->ctrl, &a);
    if (rc != NVME_OK)
        return ctl_fail(c, a.nsid, "persistent-event-log", rc);
    /* Release, and Establish without -l, show no log: nvme-cli's line,
     * or with -o json one object saying it (never text in JSON). */
    uint64_t len = c->o.num[N_LEN];
    if (action == NVME_LOG_LSP_PEL_RELEASE || (len == 0 && action == NVME_LOG_LSP_PEL_ESTABLISH)) {
        const char *what = action == NVME_LOG_LSP_PEL_RELEASE
                               ? "Releasing Persistent Event Log Context"
                               : "Establishing Persistent Event Log Context";
        if (c->o.json)
            return ctl_done(c, NVME_NSID_ALL, what);
        ctl_out(io, "%s\n", what);
        return NVME_OK;
    }
    if (len == 0) {
        /* Total Log Length comes from the device: at least the header, and
         * a length one Get Log Page read can ask for (rounded up to
         * dwords), before it sizes anything. */
        len = ctl_le(hdr + 8, 8);
        if (len < PEL_HDR || len > 0xfffffffcu) {
            ctl_out(io, "persistent-event-log: Total Log Length %llu is not a log length\n",
                    (unsigned long long)len);
            return NVME_ERR_PROTO;
        }
        len = (len + 3u) & ~(uint64_t)3u;
    }
    uint8_t *log = ctl_scratch(c, PEL_HDR, (size_t)len);
    if (log == NULL)
        return NVME_ERR_NOMEM;
    a.lsp = NVME_LOG_LSP_PEL_READ;
    a.buf = log;
    a.len = (uint32_t)len;
    rc = nvme_get_log(c->ctrl, &a);
    if (rc == NVME_OK) {
        a.buf = hdr;
        a.len = PEL_HDR;
        rc = nvme_get_log(c->ctrl, &a);
    }
    if (rc != NVME_OK)
        return ctl_fail(c, a.nsid, "persistent-event-log", rc);
    if (len >= PEL_HDR && ctl_le(log + 372, 2) != ctl_le(hdr + 372, 2)) {
        ctl_out(io, "Collected Persistent Event Log may be invalid, Re-read the log is required\n");
        return NVME_ERR_PROTO;
    }
    if (ctl_raw(c, log, (size_t)len))
        return NVME_OK;
    pel_show(c, log, (uint32_t)len, NVME_LOG_LSP_PEL_READ);
    return NVME_OK;
}
