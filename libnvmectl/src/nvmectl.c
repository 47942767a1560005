/* SPDX-License-Identifier: MIT */
/*
 * nvmectl.c - the nvmectl front end shared by the hosted program, the
 * QEMU harness and the EXOS shell (see nvmectl.h for the commands).
 * Field names follow nvme-cli where one has the same meaning.
 *
 * A library on top of the core: it includes only public headers (nvme.h,
 * nvme_spec.h, nvme_fmt.h for the core's formatter and string helpers).
 */
#include "nvme/nvmectl.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "nvme/nvme_fmt.h"

#define NVMECTL_LINE 200

__attribute__((format(printf, 2, 3))) static void out(const struct nvmectl_io *io,
                                                      const char *fmt, ...)
{
    char line[NVMECTL_LINE];
    va_list ap;
    va_start(ap, fmt);
    nvme_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    io->print(io->arg, line);
}

static const char *dev(const struct nvmectl_io *io)
{
    return io->dev_name != NULL ? io->dev_name : "nvme0";
}

static int fail(const struct nvmectl_io *io, const char *what, int rc)
{
    if (rc > 0)
        out(io, "%s: %s: %s (SCT %x SC %02x%s)\n", dev(io), what,
            nvme_status_name((uint16_t)rc), NVME_SF_SCT((unsigned)rc), NVME_SF_SC((unsigned)rc),
            NVME_SF_DNR((unsigned)rc) ? ", DNR" : "");
    else
        out(io, "%s: %s: %s\n", dev(io), what, nvme_strerror(rc));
    return rc != 0 ? rc : NVME_ERR_INVAL;
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

static uint64_t div10(uint64_t *v)
{
    uint16_t l[4] = {(uint16_t)*v, (uint16_t)(*v >> 16), (uint16_t)(*v >> 32),
                     (uint16_t)(*v >> 48)};
    unsigned r = nvme_divmod10_limbs(l, 4);
    *v = (uint64_t)l[0] | ((uint64_t)l[1] << 16) | ((uint64_t)l[2] << 32) |
         ((uint64_t)l[3] << 48);
    return r;
}

/* "134217728 bytes (128.0 MiB)" without 64-bit division. */
static void fmt_size(char *buf, size_t len, uint64_t bytes)
{
    static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    unsigned u = 0;
    while (u + 1 < 5 && (bytes >> (10u * (u + 2))) != 0)
        u++;
    uint64_t tenths = (bytes >> (10u * (u + 1))) * 10u +
                      (((bytes >> (10u * u)) & 0x3ffu) * 10u >> 10);
    uint64_t whole = tenths;
    unsigned frac = (unsigned)div10(&whole);
    nvme_snprintf(buf, len, "%llu bytes (%llu.%u %s)", (unsigned long long)bytes,
                  (unsigned long long)whole, frac, unit[u]);
}

bool nvmectl_parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    unsigned base = 10;
    if (s == NULL || *s == '\0')
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (*s == '\0')
            return false;
    }
    for (; *s != '\0'; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        /* Overflow checks without 64-bit division (none on i686). */
        if (base == 16 && (x >> 60) != 0)
            return false;
        if (base == 10 && (x > 0x1999999999999999ull || (x == 0x1999999999999999ull && d > 5)))
            return false;
        x = base == 16 ? (x << 4) | d : x * 10u + d;
    }
    *v = x;
    return true;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

struct opts {
    uint64_t nsid, slba, count, pattern, seed, offset;
    bool has_nsid, has_slba, has_count, has_pattern, has_offset;
    const char *text, *file;
};

static bool opt_is(const char *arg, const char *s, const char *l, const char **inl)
{
    *inl = NULL;
    if (nvme_streq(arg, s) || nvme_streq(arg, l))
        return true;
    size_t n = nvme_strlen(l);
    for (size_t i = 0; i < n; i++)
        if (arg[i] != l[i])
            return false;
    if (arg[n] == '=') {
        *inl = arg + n + 1;
        return true;
    }
    return false;
}

static bool parse_opts(const struct nvmectl_io *io, int argc, char **argv, struct opts *o)
{
    nvme_memzero(o, sizeof(*o));
    o->count = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *inl, *val;
        uint64_t *num = NULL;
        bool *has = NULL;
        const char **str = NULL;
        if (opt_is(a, "-n", "--namespace-id", &inl)) {
            num = &o->nsid;
            has = &o->has_nsid;
        } else if (opt_is(a, "-s", "--start-block", &inl)) {
            num = &o->slba;
            has = &o->has_slba;
        } else if (opt_is(a, "-c", "--block-count", &inl)) {
            num = &o->count;
            has = &o->has_count;
        } else if (opt_is(a, "-p", "--pattern", &inl)) {
            num = &o->pattern;
            has = &o->has_pattern;
        } else if (opt_is(a, "-k", "--seed", &inl)) {
            num = &o->seed;
        } else if (opt_is(a, "-o", "--offset", &inl)) {
            num = &o->offset;
            has = &o->has_offset;
        } else if (opt_is(a, "-t", "--text", &inl)) {
            str = &o->text;
        } else if (opt_is(a, "-f", "--file", &inl)) {
            str = &o->file;
        } else {
            out(io, "nvmectl: unknown option '%s'\n", a);
            return false;
        }
        val = inl != NULL ? inl : (i + 1 < argc ? argv[++i] : NULL);
        if (val == NULL) {
            out(io, "nvmectl: option '%s' needs a value\n", a);
            return false;
        }
        if (str != NULL) {
            *str = val;
        } else if (!nvmectl_parse_u64(val, num)) {
            out(io, "nvmectl: bad number '%s' for '%s'\n", val, a);
            return false;
        }
        if (has != NULL)
            *has = true;
    }
    return true;
}

/* Checks -n (and -s/-c when `range`), returns the namespace; on failure
 * NULL with the error in *rc. */
static const struct nvme_ns_info *need_ns(struct nvme_ctrl *ctrl, const struct nvmectl_io *io,
                                          const struct opts *o, bool range, int *rc)
{
    *rc = NVME_ERR_INVAL;
    if (!o->has_nsid || (range && !o->has_slba)) {
        out(io, "nvmectl: -n NSID%s required\n", range ? " and -s LBA are" : " is");
        return NULL;
    }
    const struct nvme_ns_info *ns =
        o->nsid <= 0xffffffffu ? nvme_ns_find(ctrl, (uint32_t)o->nsid) : NULL;
    if (ns == NULL) {
        out(io, "%s: no active namespace %llu\n", dev(io), (unsigned long long)o->nsid);
        *rc = NVME_ERR_NOENT;
        return NULL;
    }
    if (ns->status != NVME_OK) {
        out(io, "%sn%u: unusable: %s\n", dev(io), ns->nsid, nvme_strerror(ns->status));
        *rc = ns->status;
        return NULL;
    }
    if (range && (o->count == 0 || o->count > 0xffffffffu)) {
        out(io, "nvmectl: -c must be 1..4294967295\n");
        return NULL;
    }
    return ns;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

static int cmd_info(struct nvme_ctrl *ctrl, const struct nvmectl_io *io)
{
    const struct nvme_ctrl_info *in = nvme_ctrl_get_info(ctrl);
    uint64_t cap = in->cap;
    out(io, "%s: NVMe controller\n", dev(io));
    out(io, "version         : %u.%u.%u\n", NVME_VS_MJR(in->vs), NVME_VS_MNR(in->vs),
        NVME_VS_TER(in->vs));
    out(io, "cap             : 0x%016llx\n", (unsigned long long)cap);
    out(io, "mqes            : %u (max queue depth %u)\n", NVME_CAP_MQES(cap),
        in->max_queue_entries);
    out(io, "dstrd           : %u (doorbell stride %u bytes)\n", NVME_CAP_DSTRD(cap),
        in->doorbell_stride);
    out(io, "to              : %u (timeout %u ms)\n", NVME_CAP_TO(cap), in->timeout_ms);
    out(io, "mpsmin          : %u (%u bytes), mpsmax %u, page size in use %u bytes\n",
        NVME_CAP_MPSMIN(cap), 1u << (12u + NVME_CAP_MPSMIN(cap)), NVME_CAP_MPSMAX(cap),
        in->page_size);
    if (in->mdts_reported != 0)
        out(io, "mdts            : %u bytes (max transfer per command)\n", in->mdts_reported);
    else
        out(io, "mdts            : no limit (core sends at most %u bytes)\n", in->mdts_bytes);
    out(io, "vid             : 0x%04x\n", in->vid);
    out(io, "ssvid           : 0x%04x\n", in->ssvid);
    out(io, "sn              : %s\n", in->serial);
    out(io, "mn              : %s\n", in->model);
    out(io, "fr              : %s\n", in->firmware);
    out(io, "nn              : %u (active namespaces: %u)\n", in->nn, nvme_ns_count(ctrl));
    out(io, "oacs            : 0x%04x\n", in->oacs);
    out(io, "oncs            : 0x%04x\n", in->oncs);
    out(io, "vwc             : 0x%02x (volatile write cache %s)\n", in->vwc,
        (in->vwc & NVME_VWC_PRESENT) ? "present" : "absent");
    out(io, "sqes/cqes       : 0x%02x/0x%02x\n", in->sqes, in->cqes);
    out(io, "admin queue     : %u entries\n", in->admin_queue_entries);
    out(io, "io queues       : %u x %u entries\n", in->io_queues, in->io_queue_entries);
    if (in->irq_vectors == 0)
        out(io, "interrupts      : none (polling)\n");
    else
        out(io, "interrupts      : %u vector(s), %s\n", in->irq_vectors,
            in->irq_is_intx ? "INTx" : "MSI-X/MSI");
    out(io, "irq_count       : %llu\n", (unsigned long long)nvme_ctrl_irq_count(ctrl));
    out(io, "enabled at start: %s\n", in->enabled_at_start ? "yes (CC.EN was 1)" : "no");
    return NVME_OK;
}

static int cmd_ready(struct nvme_ctrl *ctrl, const struct nvmectl_io *io)
{
    uint32_t csts = nvme_ctrl_read_csts(ctrl);
    bool up = nvme_ctrl_is_ready(ctrl);
    out(io, "%s: %s (CSTS=0x%08x: RDY=%u CFS=%u SHST=%u)\n", dev(io),
        up ? "controller is up" : "controller is NOT ready", csts, csts & 1u, (csts >> 1) & 1u,
        (csts >> 2) & 3u);
    return up ? NVME_OK : NVME_ERR_STATE;
}

static int cmd_list(struct nvme_ctrl *ctrl, const struct nvmectl_io *io)
{
    unsigned n = nvme_ns_count(ctrl);
    out(io, "%-12s %-6s %-18s %-6s %s\n", "Node", "NSID", "Capacity(sectors)", "LBA", "Size");
    for (unsigned i = 0; i < n; i++) {
        const struct nvme_ns_info *ns = nvme_ns_at(ctrl, i);
        char node[24], size[64];
        nvme_snprintf(node, sizeof(node), "%sn%u", dev(io), ns->nsid);
        if (ns->status != NVME_OK && ns->lba_size == 0) {
            out(io, "%-12s %-6u unusable: %s\n", node, ns->nsid, nvme_strerror(ns->status));
            continue;
        }
        fmt_size(size, sizeof(size), ns->nsze << ns->lbads);
        out(io, "%-12s %-6u %-18llu %-6u %s%s\n", node, ns->nsid, (unsigned long long)ns->nsze,
            ns->lba_size, size, ns->status != NVME_OK ? " (unusable)" : "");
    }
    out(io, "%u namespace(s)\n", n);
    return NVME_OK;
}

static void out_u128(const struct nvmectl_io *io, const char *name, const uint8_t *le)
{
    char dec[48];
    nvme_u128_to_dec(nvme_u128_from_le(le), dec, sizeof(dec));
    out(io, "%-36s: %s\n", name, dec);
}

static int cmd_smart(struct nvme_ctrl *ctrl, const struct nvmectl_io *io)
{
    struct nvme_smart_log log;
    int rc = nvme_get_smart_log(ctrl, &log);
    if (rc != NVME_OK)
        return fail(io, "smart-log", rc);

    out(io, "Smart Log for NVME device:%s namespace-id:ffffffff\n", dev(io));
    out(io, "%-36s: 0x%x\n", "critical_warning", log.critical_warning);
    static const char *const warn[] = {"available spare below threshold",
                                       "temperature above or below threshold",
                                       "NVM subsystem reliability degraded",
                                       "media placed in read-only mode",
                                       "volatile memory backup failed",
                                       "persistent memory region read-only"};
    for (unsigned b = 0; b < 6; b++)
        if (log.critical_warning & (1u << b))
            out(io, "  critical warning bit %u          : %s\n", b, warn[b]);
    uint16_t k = log.composite_temp;
    if (k != 0)
        out(io, "%-36s: %d C (%u Kelvin)\n", "temperature", (int)k - 273, k);
    else
        out(io, "%-36s: not reported\n", "temperature");
    out(io, "%-36s: %u%%\n", "available_spare", log.avail_spare);
    out(io, "%-36s: %u%%\n", "available_spare_threshold", log.avail_spare_thresh);
    out(io, "%-36s: %u%%\n", "percentage_used", log.percent_used);
    out(io, "%-36s: %u\n", "endurance group critical warning", log.endgrp_crit_warning);
    out_u128(io, "data_units_read", log.data_units_read);
    out_u128(io, "data_units_written", log.data_units_written);
    out_u128(io, "host_read_commands", log.host_reads);
    out_u128(io, "host_write_commands", log.host_writes);
    out_u128(io, "controller_busy_time", log.ctrl_busy_time);
    out_u128(io, "power_cycles", log.power_cycles);
    out_u128(io, "power_on_hours", log.power_on_hours);
    out_u128(io, "unsafe_shutdowns", log.unsafe_shutdowns);
    out_u128(io, "media_errors", log.media_errors);
    out_u128(io, "num_err_log_entries", log.num_err_log_entries);
    out(io, "%-36s: %u\n", "warning_temp_time", log.warning_temp_time);
    out(io, "%-36s: %u\n", "critical_comp_time", log.critical_comp_time);
    for (unsigned i = 0; i < 8; i++) {
        uint16_t t = log.temp_sensor[i];
        if (t != 0)
            out(io, "temperature_sensor_%u                : %d C (%u Kelvin)\n", i + 1,
                (int)t - 273, t);
    }
    return NVME_OK;
}

/* hexdump -C style; identical lines collapse to '*'. */
static void hexdump(const struct nvmectl_io *io, const uint8_t *p, size_t len, uint64_t base)
{
    bool starred = false;
    for (size_t off = 0; off < len; off += 16) {
        if (off != 0 && off + 16 <= len) {
            bool same = true;
            for (unsigned i = 0; i < 16 && same; i++)
                same = p[off + i] == p[off - 16 + i];
            if (same) {
                if (!starred)
                    out(io, "*\n");
                starred = true;
                continue;
            }
        }
        starred = false;
        char line[96];
        size_t n = (size_t)nvme_snprintf(line, sizeof(line), "%08llx ",
                                         (unsigned long long)(base + off));
        for (unsigned i = 0; i < 16; i++) {
            if (i == 8)
                line[n++] = ' ';
            if (off + i < len)
                n += (size_t)nvme_snprintf(line + n, sizeof(line) - n, " %02x", p[off + i]);
            else
                n += (size_t)nvme_snprintf(line + n, sizeof(line) - n, "   ");
        }
        n += (size_t)nvme_snprintf(line + n, sizeof(line) - n, "  |");
        for (unsigned i = 0; i < 16 && off + i < len; i++) {
            uint8_t c = p[off + i];
            line[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
        }
        line[n++] = '|';
        line[n++] = '\n';
        line[n] = '\0';
        io->print(io->arg, line);
    }
    out(io, "%08llx\n", (unsigned long long)(base + len));
}

/* Whether `copies` buffers of `count` blocks fit in the scratch buffer
 * after `offset`; if not, says how many blocks do. */
static bool fits(const struct nvmectl_io *io, uint64_t offset, uint64_t count, unsigned lbads,
                 unsigned copies)
{
    uint64_t room = io->buf != NULL && offset <= io->buf_len ? io->buf_len - offset : 0;
    uint64_t max = (copies == 2u ? room >> 1 : room) >> lbads; /* no 64-bit division */
    if (count > max) {
        out(io, "nvmectl: %llu block(s) do not fit: -c is at most %llu here (%u-byte blocks)\n",
            (unsigned long long)count, (unsigned long long)max, 1u << lbads);
        return false;
    }
    return true;
}

static int cmd_read(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, const struct opts *o)
{
    int rc;
    const struct nvme_ns_info *ns = need_ns(ctrl, io, o, true, &rc);
    if (ns == NULL)
        return rc;
    uint64_t bytes = o->count << ns->lbads;
    if (!fits(io, 0, o->count, ns->lbads, 1))
        return NVME_ERR_INVAL;
    rc = nvme_read(ctrl, ns->nsid, o->slba, (uint32_t)o->count, io->buf);
    if (rc != NVME_OK)
        return fail(io, "read", rc);
    out(io, "%sn%u: read %llu block(s) at LBA %llu (%llu bytes)\n", dev(io), ns->nsid,
        (unsigned long long)o->count, (unsigned long long)o->slba, (unsigned long long)bytes);
    hexdump(io, io->buf, (size_t)bytes, o->slba << ns->lbads);
    return NVME_OK;
}

static int cmd_write(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, const struct opts *o)
{
    int rc;
    const struct nvme_ns_info *ns = need_ns(ctrl, io, o, true, &rc);
    if (ns == NULL)
        return rc;
    uint64_t bytes = o->count << ns->lbads;
    if (!fits(io, 0, o->count, ns->lbads, 1))
        return NVME_ERR_INVAL;
    uint8_t *b = io->buf;
    unsigned sources = (o->has_pattern ? 1u : 0u) + (o->text ? 1u : 0u) + (o->file ? 1u : 0u);
    if (sources != 1) {
        out(io, "nvmectl: write needs one of -p BYTE, -t TEXT, -f FILE\n");
        return NVME_ERR_INVAL;
    }
    nvme_memzero(b, (size_t)bytes);
    if (o->has_pattern) {
        for (size_t i = 0; i < bytes; i++)
            b[i] = (uint8_t)o->pattern;
    } else if (o->text != NULL) {
        size_t n = nvme_strlen(o->text);
        nvme_memcpy(b, o->text, n < bytes ? n : (size_t)bytes);
    } else {
        if (io->read_file == NULL) {
            out(io, "nvmectl: this host cannot read files\n");
            return NVME_ERR_UNSUPPORTED;
        }
        long n = io->read_file(io->arg, o->file, b, (size_t)bytes);
        if (n < 0) {
            out(io, "nvmectl: cannot read '%s'\n", o->file);
            return NVME_ERR_INVAL;
        }
    }
    rc = nvme_write(ctrl, ns->nsid, o->slba, (uint32_t)o->count, b);
    if (rc != NVME_OK)
        return fail(io, "write", rc);
    out(io, "%sn%u: wrote %llu block(s) at LBA %llu (%llu bytes)\n", dev(io), ns->nsid,
        (unsigned long long)o->count, (unsigned long long)o->slba, (unsigned long long)bytes);
    return NVME_OK;
}

static int cmd_flush(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, const struct opts *o)
{
    int rc;
    const struct nvme_ns_info *ns = need_ns(ctrl, io, o, false, &rc);
    if (ns == NULL)
        return rc;
    rc = nvme_flush(ctrl, ns->nsid);
    if (rc != NVME_OK)
        return fail(io, "flush", rc);
    out(io, "%sn%u: flush complete\n", dev(io), ns->nsid);
    return NVME_OK;
}

/* A byte of the verify pattern: depends on the LBA, the offset and the
 * seed, so misplaced blocks and cross-talk show up. */
static uint8_t verify_byte(uint64_t lba, uint32_t off, uint64_t seed)
{
    uint32_t x = (uint32_t)lba * 2654435761u ^ (uint32_t)(lba >> 32) ^ off * 40503u ^
                 (uint32_t)seed * 2246822519u;
    x ^= x >> 15;
    return (uint8_t)(x ^ (x >> 8));
}

static int cmd_verify(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, const struct opts *o)
{
    int rc;
    const struct nvme_ns_info *ns = need_ns(ctrl, io, o, true, &rc);
    if (ns == NULL)
        return rc;
    uint64_t bytes = o->count << ns->lbads;
    uint64_t off = o->offset;
    if ((off & 3u) != 0) {
        out(io, "nvmectl: -o must be a multiple of 4\n");
        return NVME_ERR_INVAL;
    }
    /* Two buffers of `bytes` each, the pair shifted by `off`. */
    if (!fits(io, off, o->count, ns->lbads, 2))
        return NVME_ERR_INVAL;
    uint8_t *wbuf = (uint8_t *)io->buf + off;
    uint8_t *rbuf = wbuf + bytes;
    for (uint64_t i = 0; i < bytes; i++)
        wbuf[i] = verify_byte(o->slba + (i >> ns->lbads), (uint32_t)(i & (ns->lba_size - 1u)),
                              o->seed);
    rc = nvme_write(ctrl, ns->nsid, o->slba, (uint32_t)o->count, wbuf);
    if (rc != NVME_OK)
        return fail(io, "verify write", rc);
    nvme_memzero(rbuf, (size_t)bytes);
    rc = nvme_read(ctrl, ns->nsid, o->slba, (uint32_t)o->count, rbuf);
    if (rc != NVME_OK)
        return fail(io, "verify read", rc);
    for (uint64_t i = 0; i < bytes; i++) {
        if (rbuf[i] != wbuf[i]) {
            out(io, "%sn%u: verify MISMATCH at LBA %llu byte %u: wrote %02x read %02x\n", dev(io),
                ns->nsid, (unsigned long long)(o->slba + (i >> ns->lbads)),
                (unsigned)(i & (ns->lba_size - 1u)), wbuf[i], rbuf[i]);
            return NVME_ERR_PROTO;
        }
    }
    out(io, "%sn%u: verify ok: %llu block(s) at LBA %llu, %llu bytes, buffer offset %llu\n",
        dev(io), ns->nsid, (unsigned long long)o->count, (unsigned long long)o->slba,
        (unsigned long long)bytes, (unsigned long long)off);
    return NVME_OK;
}

void nvmectl_usage(const struct nvmectl_io *io)
{
    out(io, "usage: nvmectl <command> [options]\n"
            "  info | ready | list | smart\n"
            "  read   -n NSID -s LBA [-c COUNT]\n");
    out(io, "  write  -n NSID -s LBA [-c COUNT] (-p BYTE | -t TEXT%s)\n"
            "  flush  -n NSID\n",
        io->read_file != NULL ? " | -f FILE" : "");
    out(io, "  verify -n NSID -s LBA [-c COUNT] [-k SEED] [-o OFFSET]\n");
    out(io, "  (-c counts blocks from 1; numbers may be 0x hex)\n");
}

int nvmectl_main(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, int argc, char **argv)
{
    struct opts o;
    if (io == NULL || io->print == NULL)
        return NVME_ERR_INVAL;
    if (argc < 1 || argv == NULL || argv[0] == NULL) {
        nvmectl_usage(io);
        return NVME_ERR_INVAL;
    }
    const char *cmd = argv[0];
    if (nvme_streq(cmd, "help") || nvme_streq(cmd, "--help") || nvme_streq(cmd, "-h")) {
        nvmectl_usage(io);
        return NVME_OK;
    }
    if (ctrl == NULL) {
        out(io, "nvmectl: no controller\n");
        return NVME_ERR_STATE;
    }
    if (!parse_opts(io, argc, argv, &o))
        return NVME_ERR_INVAL;
    if (nvme_streq(cmd, "info"))
        return cmd_info(ctrl, io);
    if (nvme_streq(cmd, "ready"))
        return cmd_ready(ctrl, io);
    if (nvme_streq(cmd, "list"))
        return cmd_list(ctrl, io);
    if (nvme_streq(cmd, "smart") || nvme_streq(cmd, "smart-log"))
        return cmd_smart(ctrl, io);
    if (nvme_streq(cmd, "read"))
        return cmd_read(ctrl, io, &o);
    if (nvme_streq(cmd, "write"))
        return cmd_write(ctrl, io, &o);
    if (nvme_streq(cmd, "flush"))
        return cmd_flush(ctrl, io, &o);
    if (nvme_streq(cmd, "verify"))
        return cmd_verify(ctrl, io, &o);
    out(io, "nvmectl: unknown command '%s'\n", cmd);
    nvmectl_usage(io);
    return NVME_ERR_INVAL;
}

int nvmectl_run_line(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, char *line)
{
    char *argv[16];
    int argc = 0;
    if (line == NULL)
        return NVME_ERR_INVAL;
    char *p = line;
    while (*p != '\0' && argc < 16) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            *p++ = '\0';
        if (*p == '\0')
            break;
        argv[argc++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
    }
    int first = argc > 0 && nvme_streq(argv[0], "nvmectl") ? 1 : 0;
    return nvmectl_main(ctrl, io, argc - first, argv + first);
}
