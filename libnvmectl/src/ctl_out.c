/* SPDX-License-Identifier: MIT */
/*
 * ctl_out.c - output helpers shared by nvmectl's commands: printing,
 * error reports that name the namespace, sizes with units, device text,
 * hex dumps, the namespace and scratch-buffer checks.
 */
#include <stdarg.h>

#include "ctl.h"

void ctl_out(const struct nvmectl_io *io, const char *fmt, ...)
{
    char line[CTL_LINE];
    va_list ap;
    va_start(ap, fmt);
    int n = nvme_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* Cut at CTL_LINE (long device text or user words): keep the newline
     * so the next line does not run into this one. */
    size_t fl = nvme_strlen(fmt);
    if (n >= (int)sizeof(line) && fl > 0 && fmt[fl - 1] == '\n')
        line[sizeof(line) - 2] = '\n';
    io->print(io->arg, line);
}

const char *ctl_dev(const struct nvmectl_io *io)
{
    return io->dev_name != NULL ? io->dev_name : "nvme0";
}

int ctl_fail(const struct ctl *c, uint32_t nsid, const char *what, int rc)
{
    char who[40];
    if (nsid != 0 && nsid != NVME_NSID_ALL)
        nvme_snprintf(who, sizeof(who), "%sn%u", ctl_dev(c->io), nsid);
    else
        nvme_snprintf(who, sizeof(who), "%s", ctl_dev(c->io));
    if (rc > 0)
        ctl_out(c->io, "%s: %s: %s (SCT %x SC %02x%s)\n", who, what, nvme_status_name((uint16_t)rc),
                NVME_SF_SCT((unsigned)rc), NVME_SF_SC((unsigned)rc),
                NVME_SF_DNR((unsigned)rc) ? ", DNR" : "");
    else if (rc == NVME_ERR_UNSUPPORTED) /* the controller, or a namespace's format */
        ctl_out(c->io, "%s: %s: not supported by this %s\n", who, what,
                nsid != 0 && nsid != NVME_NSID_ALL ? "controller or namespace format"
                                                   : "controller");
    else
        ctl_out(c->io, "%s: %s: %s\n", who, what, nvme_strerror(rc));
    return rc != 0 ? rc : NVME_ERR_INVAL;
}

int ctl_usage_err(const struct ctl *c, const char *msg)
{
    ctl_out(c->io, "nvmectl %s: %s\n", c->cmd, msg);
    return NVME_ERR_INVAL;
}

int ctl_done(const struct ctl *c, uint32_t nsid, const char *what)
{
    char who[40];
    if (nsid != 0 && nsid != NVME_NSID_ALL)
        nvme_snprintf(who, sizeof(who), "%sn%u", ctl_dev(c->io), nsid);
    else
        nvme_snprintf(who, sizeof(who), "%s", ctl_dev(c->io));
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, c->io);
        jw_str(&w, "device", who);
        jw_str(&w, "command", c->cmd);
        jw_str(&w, "result", "success");
        jw_str(&w, "detail", what);
        jw_end(&w);
    } else {
        ctl_out(c->io, "%s: %s: success\n", who, what);
    }
    return NVME_OK;
}

/* v >> s for s < 64. */
static struct nvme_u128 shr128(struct nvme_u128 v, unsigned s)
{
    if (s != 0) {
        v.lo = (v.lo >> s) | (v.hi << (64u - s));
        v.hi >>= s;
    }
    return v;
}

struct nvme_u128 ctl_blocks_bytes(uint64_t blocks, unsigned lbads)
{
    struct nvme_u128 v;
    v.lo = blocks << lbads;
    v.hi = lbads != 0 ? blocks >> (64u - lbads) : 0u;
    return v;
}

/* Without 64-bit division (none on i686 freestanding): the whole units
 * are a shift, the tenth the next 10 bits times 10 over 1024. */
void ctl_fmt_size128(char *buf, size_t len, struct nvme_u128 bytes)
{
    static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    unsigned u = 0;
    for (;;) {
        struct nvme_u128 next = shr128(bytes, 10u * (u + 2u));
        if (u + 1 >= 5 || (next.lo | next.hi) == 0)
            break;
        u++;
    }
    unsigned frac = (unsigned)(((shr128(bytes, 10u * u).lo & 0x3ffu) * 10u) >> 10);
    char all[48], whole[48];
    nvme_u128_to_dec(bytes, all, sizeof(all));
    nvme_u128_to_dec(shr128(bytes, 10u * (u + 1u)), whole, sizeof(whole));
    nvme_snprintf(buf, len, "%s bytes (%s.%u %s)", all, whole, frac, unit[u]);
}

void ctl_hex(char *dst, size_t dlen, const uint8_t *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < n && k + 2 < dlen; i++) {
        dst[k++] = d[p[i] >> 4];
        dst[k++] = d[p[i] & 15u];
    }
    if (dlen > 0)
        dst[k] = '\0';
}

/* base + off as the dump prints an address: eight hex digits at least,
 * in 128 bits (a namespace's byte address may pass 2^64). */
static void hex_addr(char *b, size_t n, struct nvme_u128 base, uint64_t off)
{
    uint64_t lo = base.lo + off;
    uint64_t hi = base.hi + (lo < off ? 1u : 0u);
    if (hi != 0)
        nvme_snprintf(b, n, "%llx%016llx", (unsigned long long)hi, (unsigned long long)lo);
    else
        nvme_snprintf(b, n, "%08llx", (unsigned long long)lo);
}

/* hexdump -C style; identical lines collapse to '*'. */
void ctl_hexdump_at(const struct nvmectl_io *io, const uint8_t *p, size_t len,
                    struct nvme_u128 base)
{
    bool starred = false;
    char addr[40];
    for (size_t off = 0; off < len; off += 16) {
        if (off != 0 && off + 16 <= len) {
            bool same = true;
            for (unsigned i = 0; i < 16 && same; i++)
                same = p[off + i] == p[off - 16 + i];
            if (same) {
                if (!starred)
                    ctl_out(io, "*\n");
                starred = true;
                continue;
            }
        }
        starred = false;
        char line[112]; /* a 32-digit address, 16 bytes in hex and as text */
        hex_addr(addr, sizeof(addr), base, off);
        size_t n = (size_t)nvme_snprintf(line, sizeof(line), "%s ", addr);
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
            uint8_t ch = p[off + i];
            line[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
        }
        line[n++] = '|';
        line[n++] = '\n';
        line[n] = '\0';
        io->print(io->arg, line);
    }
    hex_addr(addr, sizeof(addr), base, len);
    ctl_out(io, "%s\n", addr);
}

void ctl_hexdump(const struct nvmectl_io *io, const uint8_t *p, size_t len, uint64_t base)
{
    struct nvme_u128 b;
    b.lo = base;
    b.hi = 0;
    ctl_hexdump_at(io, p, len, b);
}

int ctl_raw_check(const struct ctl *c)
{
    if (!flag(c, F_RAW) || c->io->write_raw != NULL)
        return NVME_OK;
    ctl_out(c->io, "nvmectl %s: -b (raw binary): this host's output takes text only\n", c->cmd);
    return NVME_ERR_UNSUPPORTED;
}

bool ctl_raw(const struct ctl *c, const void *p, size_t len)
{
    if (!flag(c, F_RAW))
        return false;
    if (c->io->write_raw != NULL && len != 0)
        c->io->write_raw(c->io->arg, p, len);
    return true;
}

uint32_t ctl_nsid_or(const struct ctl *c, uint32_t dflt)
{
    if (!has(c, N_NSID))
        return dflt;
    return c->o.num[N_NSID] <= 0xffffffffu ? (uint32_t)c->o.num[N_NSID] : 0;
}

uint32_t ctl_one_nsid(const struct ctl *c)
{
    uint64_t v = c->o.num[N_NSID];
    if (has(c, N_NSID) && v != 0 && v < NVME_NSID_ALL)
        return (uint32_t)v;
    ctl_usage_err(c, "-n NSID is required: one namespace, 1..0xfffffffe");
    return 0;
}

const struct nvme_ns_info *ctl_need_ns(struct ctl *c, unsigned need, int *rc)
{
    *rc = NVME_ERR_INVAL;
    if (!has(c, N_NSID) || (need == CTL_NS_SLBA && !has(c, N_SLBA))) {
        ctl_out(c->io, "nvmectl: -n NSID%s required\n",
                need == CTL_NS_SLBA ? " and -s LBA are" : " is");
        return NULL;
    }
    uint64_t nsid = c->o.num[N_NSID];
    const struct nvme_ns_info *ns = nsid <= 0xffffffffu ? nvme_ns_find(c->ctrl, (uint32_t)nsid)
                                                        : NULL;
    if (ns == NULL) {
        ctl_out(c->io, "%s: no active namespace %llu\n", ctl_dev(c->io), (unsigned long long)nsid);
        *rc = NVME_ERR_NOENT;
        return NULL;
    }
    if (ns->status != NVME_OK) {
        ctl_out(c->io, "%sn%u: unusable: %s\n", ctl_dev(c->io), ns->nsid,
                nvme_strerror(ns->status));
        *rc = ns->status;
        return NULL;
    }
    if (need != 0 && (c->o.num[N_COUNT] == 0 || c->o.num[N_COUNT] > 0xffffffffu)) {
        ctl_out(c->io, "nvmectl: -c must be 1..4294967295\n");
        return NULL;
    }
    return ns;
}

bool ctl_fits(const struct nvmectl_io *io, uint64_t offset, uint64_t count, unsigned lbads,
              unsigned copies)
{
    uint64_t room = io->buf != NULL && offset <= io->buf_len ? io->buf_len - offset : 0;
    uint64_t max = (copies == 2u ? room >> 1 : room) >> lbads; /* no 64-bit division */
    if (count > max) {
        ctl_out(io, "nvmectl: %llu block(s) do not fit: -c is at most %llu here (%u-byte blocks)\n",
                (unsigned long long)count, (unsigned long long)max, 1u << lbads);
        return false;
    }
    return true;
}

uint8_t *ctl_block_data(struct ctl *c, const struct nvme_ns_info *ns, int *rc)
{
    uint64_t count = c->o.num[N_COUNT];
    *rc = NVME_ERR_INVAL;
    if (!ctl_fits(c->io, 0, count, ns->lbads, 1))
        return NULL;
    uint8_t *b = c->io->buf;
    return ctl_fill_data(c, b, (size_t)(count << ns->lbads), rc) ? b : NULL;
}

bool ctl_fill_data(struct ctl *c, uint8_t *b, size_t bytes, int *rc)
{
    const struct ctl_opts *o = &c->o;
    bool pat = has(c, N_PATTERN);
    unsigned sources = (pat ? 1u : 0u) + (o->str[S_TEXT] ? 1u : 0u) + (o->str[S_FILE] ? 1u : 0u);
    *rc = NVME_ERR_INVAL;
    if (sources != 1) {
        /* long names, as every command has them (fw-download's -p is
         * --progress); FILE's is the command's first (set-feature's -f
         * is the feature, its file --data; fw-download's --fw) */
        const struct ctl_optdef *t = c->defs;
        while (t->lng != NULL && (t->kind != K_STR || t->slot != S_FILE))
            t++;
        ctl_out(c->io, "nvmectl: %s needs one of --pattern, --text, --%s\n", c->cmd, t->lng);
        return false;
    }
    if (pat && o->num[N_PATTERN] > 0xffu) {
        ctl_out(c->io, "nvmectl: --pattern is a byte (0..255)\n");
        return false;
    }
    /* -t: zeros after a shorter text; a longer one is refused, not cut to
     * the bytes the command sends (-c blocks, the feature's structure,
     * fw-download's -l) */
    if (o->str[S_TEXT] != NULL && nvme_strlen(o->str[S_TEXT]) > bytes) {
        ctl_out(c->io, "nvmectl %s: -t TEXT is %zu bytes, more than the %zu the command sends\n",
                c->cmd, nvme_strlen(o->str[S_TEXT]), bytes);
        return false;
    }
    /* -p's byte, 0 without it (no -p: num[N_PATTERN] is 0): also what a
     * shorter -t or file leaves (admin-passthru's --prefill under its -i
     * file, as nvme-cli) */
    for (size_t i = 0; i < bytes; i++)
        b[i] = (uint8_t)o->num[N_PATTERN];
    if (o->str[S_TEXT] != NULL) {
        nvme_memcpy(b, o->str[S_TEXT], nvme_strlen(o->str[S_TEXT]));
    } else if (o->str[S_FILE] != NULL) {
        if (c->io->read_file == NULL) {
            ctl_out(c->io, "nvmectl: this host cannot read files\n");
            *rc = NVME_ERR_UNSUPPORTED;
            return false;
        }
        /* One byte more is asked for when the scratch buffer has it after
         * the data: a file larger than what the command sends is refused,
         * not cut to it (a shorter one is followed by zeros). */
        uint8_t *start = (uint8_t *)c->io->buf, *end = start + c->io->buf_len;
        size_t ask = bytes + (b >= start && b < end && (size_t)(end - b) > bytes ? 1u : 0u);
        long n = c->io->read_file(c->io->arg, o->str[S_FILE], b, ask);
        if (n < 0) {
            ctl_out(c->io, "nvmectl: cannot read '%s'\n", o->str[S_FILE]);
            return false;
        }
        if ((unsigned long)n > bytes) {
            ctl_out(c->io, "nvmectl %s: '%s' is larger than the %zu bytes the command sends\n",
                    c->cmd, o->str[S_FILE], bytes);
            return false;
        }
    }
    *rc = NVME_OK;
    return true;
}

void *ctl_scratch(const struct ctl *c, size_t off, size_t len)
{
    uintptr_t base = (uintptr_t)c->io->buf;
    uintptr_t p = (base + 7u) & ~(uintptr_t)7u; /* structures with 64-bit fields */
    size_t skip = (size_t)(p - base) + off;
    if (c->io->buf == NULL || c->io->buf_len < skip || c->io->buf_len - skip < len) {
        ctl_out(c->io, "nvmectl %s: needs a scratch buffer of %llu bytes, this host has %llu\n",
                c->cmd, (unsigned long long)(skip + len), (unsigned long long)c->io->buf_len);
        return NULL;
    }
    return (void *)(p + off);
}

bool ctl_next_num(const char **p, uint64_t *v, bool *bad)
{
    char tok[24];
    size_t n = 0;
    if (**p == '\0')
        return false;
    while (**p != '\0' && **p != ',' && n + 1 < sizeof(tok))
        tok[n++] = *(*p)++;
    tok[n] = '\0';
    if (**p == ',')
        (*p)++;
    else if (**p != '\0')
        *bad = true; /* token too long */
    if (!nvmectl_parse_u64(tok, v))
        *bad = true;
    return !*bad;
}

const char *ctl_code_name(const char *list, size_t size, unsigned code)
{
    const char *p = list, *end = list + size - 1; /* the literal's own NUL */
    while (p < end) {
        unsigned c = (uint8_t)*p++;
        if (c == code)
            return p;
        p += nvme_strlen(p) + 1u;
    }
    return "Unknown";
}

uint64_t ctl_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* n / d and its remainder, a bit at a time: no '/' (at -Os a divide by a
 * constant becomes a call to a division helper on the ISAs without a
 * divide instruction, and the 32-bit ones have none for 64 bits). */
static uint64_t ctl_divmod(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint64_t q = 0, r = 0;
    for (unsigned i = 0; i < 64; i++) {
        r = (r << 1) | (n >> 63);
        n <<= 1;
        q <<= 1;
        if (r >= d) {
            r -= d;
            q |= 1u;
        }
    }
    if (rem != NULL)
        *rem = (uint32_t)r;
    return q;
}

static __attribute__((noinline)) uint32_t ctl_div(uint32_t n, uint32_t d)
{
    return (uint32_t)ctl_divmod(n, d, NULL);
}

void ctl_utc_time(char out[32], uint64_t ms)
{
    static const char wday[] = "SunMonTueWedThuFriSat";
    static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    uint32_t sod, wd, hh, mm, ss;
    /* a Timestamp has 48 bits: the days fit 32 */
    uint32_t days = (uint32_t)ctl_divmod(ctl_divmod(ms, 1000u, NULL), 86400u, &sod);
    /* Days to a civil date: the proleptic Gregorian calendar in eras of
     * 400 years (146097 days) from 1 March of year 0. */
    uint32_t z = days + 719468u, era = ctl_div(z, 146097u), doe = z - era * 146097u;
    uint32_t yoe = ctl_div(doe - ctl_div(doe, 1460u) + ctl_div(doe, 36524u) - ctl_div(doe, 146096u),
                           365u);
    uint32_t doy = doe - (365u * yoe + yoe / 4u - ctl_div(yoe, 100u));
    uint32_t mp = ctl_div(5u * doy + 2u, 153u);
    uint32_t d = doy - ctl_div(153u * mp + 2u, 5u) + 1u, m = mp < 10u ? mp + 3u : mp - 9u;
    uint32_t y = yoe + era * 400u + (m <= 2u ? 1u : 0u);
    (void)ctl_divmod(days + 4u, 7u, &wd); /* 1 January 1970 was a Thursday */
    hh = (uint32_t)ctl_divmod(sod, 3600u, &sod);
    mm = (uint32_t)ctl_divmod(sod, 60u, &ss);
    const char *w = &wday[3u * wd], *mo = &mon[3u * (m - 1u)];
    nvme_snprintf(out, 32, "%c%c%c %c%c%c %2u %02u:%02u:%02u %u UTC", w[0], w[1], w[2], mo[0],
                  mo[1], mo[2], d, hh, mm, ss, y);
}

int ctl_get_log(struct ctl *c, uint8_t lid, uint8_t lsp, uint16_t lsi, bool rae, void *buf,
                uint32_t len)
{
    struct nvme_log_args a;
    nvme_memzero(&a, sizeof(a));
    a.lid = lid;
    a.lsp = lsp;
    a.lsi = lsi;
    a.rae = rae;
    a.nsid = NVME_NSID_ALL;
    a.buf = buf;
    a.len = len;
    return nvme_get_log(c->ctrl, &a);
}
