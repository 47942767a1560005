/* SPDX-License-Identifier: MIT */
/*
 * ctl_json.c - a streaming JSON writer for nvmectl's -o json.  Allocation
 * free: each member goes out through the print callback as it is made;
 * nesting is bounded (JW_DEPTH) and strings are escaped byte by byte, so
 * device text (serial numbers, firmware slots) always gives valid JSON.
 */
#include "ctl.h"

static void put(struct jw *w, const char *s) { w->io->print(w->io->arg, s); }

static void put_strn(struct jw *w, const char *s, size_t n);

/* Comma, newline, indentation, then "key": when a key is given. */
static void member(struct jw *w, const char *key)
{
    char pad[2 * JW_DEPTH + 4];
    unsigned d = w->depth;
    if (d > JW_DEPTH - 1)
        d = JW_DEPTH - 1;
    size_t n = 0;
    if (!w->first[d])
        pad[n++] = ',';
    w->first[d] = false;
    pad[n++] = '\n';
    for (unsigned i = 0; i < d; i++) {
        pad[n++] = ' ';
        pad[n++] = ' ';
    }
    pad[n] = '\0';
    put(w, pad);
    if (key != NULL) {
        put_strn(w, key, (size_t)-1);
        put(w, ":");
    }
}

void jw_begin(struct jw *w, const struct nvmectl_io *io)
{
    w->io = io;
    w->depth = 1;
    for (unsigned i = 0; i < JW_DEPTH; i++)
        w->first[i] = true;
    put(w, "{");
}

static __attribute__((noinline)) void open_(struct jw *w, const char *key, const char *brace)
{
    member(w, key);
    put(w, brace);
    if (w->depth < JW_DEPTH - 1)
        w->depth++;
    w->first[w->depth] = true;
}

static void close_(struct jw *w, const char *brace)
{
    char pad[2 * JW_DEPTH + 4];
    size_t n = 0;
    if (w->depth > 0)
        w->depth--;
    pad[n++] = '\n';
    for (unsigned i = 0; i < w->depth; i++) {
        pad[n++] = ' ';
        pad[n++] = ' ';
    }
    pad[n] = '\0';
    put(w, pad);
    put(w, brace);
}

void jw_obj(struct jw *w, const char *key) { open_(w, key, "{"); }
void jw_arr(struct jw *w, const char *key) { open_(w, key, "["); }
void jw_close_obj(struct jw *w) { close_(w, "}"); }
void jw_close_arr(struct jw *w) { close_(w, "]"); }

void jw_end(struct jw *w)
{
    while (w->depth > 1)
        jw_close_obj(w);
    put(w, "\n}\n");
    w->depth = 0;
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
    char b[24];
    member(w, key);
    nvme_snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
    put(w, b);
}

void jw_u128v(struct jw *w, const char *key, struct nvme_u128 v)
{
    char b[48];
    member(w, key);
    nvme_u128_to_dec(v, b, sizeof(b));
    put(w, b);
}

void jw_u128(struct jw *w, const char *key, const uint8_t le[16])
{
    jw_u128v(w, key, nvme_u128_from_le(le));
}

void jw_bool(struct jw *w, const char *key, bool v)
{
    member(w, key);
    put(w, v ? "true" : "false");
}

/* Escaped string of at most n bytes (stops at NUL). */
static void put_strn(struct jw *w, const char *s, size_t n)
{
    char b[64];
    size_t k = 0;
    b[k++] = '"';
    for (size_t i = 0; i < n && s[i] != '\0'; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (k + 8 >= sizeof(b)) {
            b[k] = '\0';
            put(w, b);
            k = 0;
        }
        if (ch == '"' || ch == '\\') {
            b[k++] = '\\';
            b[k++] = (char)ch;
        } else if (ch < 0x20 || ch >= 0x7f) {
            k += (size_t)nvme_snprintf(b + k, sizeof(b) - k, "\\u%04x", ch);
        } else {
            b[k++] = (char)ch;
        }
    }
    b[k++] = '"';
    b[k] = '\0';
    put(w, b);
}

void jw_strn(struct jw *w, const char *key, const char *s, size_t n)
{
    member(w, key);
    put_strn(w, s, n);
}

void jw_str(struct jw *w, const char *key, const char *s) { jw_strn(w, key, s, (size_t)-1); }

void jw_hex(struct jw *w, const char *key, const uint8_t *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    char b[66];
    size_t k = 0;
    member(w, key);
    put(w, "\"");
    for (size_t i = 0; i < n; i++) {
        b[k++] = d[p[i] >> 4];
        b[k++] = d[p[i] & 15u];
        if (k == 64) {
            b[k] = '\0';
            put(w, b);
            k = 0;
        }
    }
    b[k++] = '"';
    b[k] = '\0';
    put(w, b);
}
