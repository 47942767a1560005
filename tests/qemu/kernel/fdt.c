/* SPDX-License-Identifier: MIT */
/* fdt.c - see fdt.h.  Structure block tokens (DT spec 5.4): BEGIN_NODE 1
 * (name, padded to 4), END_NODE 2, PROP 3 (len, nameoff, value padded),
 * NOP 4, END 9; every number big-endian. */
#include "fdt.h"
#include "hw.h"

#define FDT_MAGIC 0xd00dfeedu
#define TOK_BEGIN 1u
#define TOK_END 2u
#define TOK_PROP 3u
#define TOK_NOP 4u
#define TOK_FEND 9u

static const uint8_t *blob;
static const uint8_t *structs;
static const char *strings;
static uint32_t struct_size, total;

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

uint64_t fdt_cells(const void *p, unsigned cells)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (unsigned i = 0; i < cells; i++)
        v = (v << 32) | be32(b + 4 * i);
    return v;
}

bool fdt_init(const void *b)
{
    if (!b || be32(b) != FDT_MAGIC || be32((const uint8_t *)b + 20) < 16)
        return false;
    uint32_t t = be32((const uint8_t *)b + 4), so = be32((const uint8_t *)b + 8);
    uint32_t ss = be32((const uint8_t *)b + 36);
    if (so > t || ss > t - so)
        return false; /* the structure block runs past the blob */
    blob = b;
    total = t;
    structs = blob + so;
    strings = (const char *)blob + be32(blob + 12);
    struct_size = ss;
    return true;
}

uint32_t fdt_total_size(void) { return total; }

static uint32_t align4(uint32_t x) { return (x + 3u) & ~3u; }

/* The length of the property at off; false when its header or value runs
 * past the structure block (a length near 2^32 would wrap the offset). */
static bool prop_len(uint32_t off, uint32_t *len)
{
    if (struct_size - off < 12u)
        return false;
    *len = be32(structs + off + 4);
    return *len <= struct_size - off - 12u;
}

enum match { M_COMPAT, M_NAME, M_PHANDLE, M_PARENT_OF_PHANDLE };

/* Does the string list `list` (len bytes) hold `s`? */
static bool strlist_has(const char *list, uint32_t len, const char *s)
{
    uint32_t i = 0;
    while (i < len) {
        if (!strcmp(list + i, s))
            return true;
        i += (uint32_t)strlen(list + i) + 1;
    }
    return false;
}

static bool name_is(const char *node, const char *want)
{
    size_t n = strlen(want);
    return !strncmp(node, want, n) && (node[n] == 0 || node[n] == '@');
}

/* One pass over the structure block; tracks each depth's #address-cells
 * and #size-cells (defaults 2 and 1, DT spec 2.3.5).  M_COMPAT: the node
 * after `skip` earlier matches. */
static bool walk(enum match m, const char *s, uint32_t ph, unsigned skip, struct fdt_node *out)
{
    unsigned ac[16], sc[16];
    int depth = -1;
    uint32_t off = 0;
    uint32_t node_off[16];
    const char *node_name[16];
    while (off + 4 <= struct_size) {
        uint32_t tok = be32(structs + off);
        if (tok == TOK_BEGIN) {
            const char *name = (const char *)structs + off + 4;
            if (depth + 1 >= 16)
                return false;
            depth++;
            ac[depth] = 2;
            sc[depth] = 1;
            node_off[depth] = off;
            node_name[depth] = name;
            off += 4 + align4((uint32_t)strlen(name) + 1);
            if (m == M_NAME && depth == 1 && name_is(name, s))
                goto found;
        } else if (tok == TOK_END) {
            depth--;
            off += 4;
        } else if (tok == TOK_PROP) {
            uint32_t len;
            if (!prop_len(off, &len))
                return false;
            const char *pname = strings + be32(structs + off + 8);
            const uint8_t *val = structs + off + 12;
            off += 12 + align4(len);
            if (depth < 0)
                continue;
            if (!strcmp(pname, "#address-cells") && len == 4)
                ac[depth] = be32(val);
            else if (!strcmp(pname, "#size-cells") && len == 4)
                sc[depth] = be32(val);
            else if (m == M_COMPAT && !strcmp(pname, "compatible") &&
                     strlist_has((const char *)val, len, s) && skip-- == 0)
                goto found;
            else if ((m == M_PHANDLE || m == M_PARENT_OF_PHANDLE) && !strcmp(pname, "phandle") &&
                     len == 4 && be32(val) == ph)
                goto found;
        } else if (tok == TOK_NOP) {
            off += 4;
        } else {
            return false; /* FDT_END or junk */
        }
        continue;
    found:
        if (m == M_PARENT_OF_PHANDLE && --depth < 0)
            return false;
        out->off = node_off[depth];
        out->name = node_name[depth];
        out->ac = depth > 0 ? ac[depth - 1] : 2;
        out->sc = depth > 0 ? sc[depth - 1] : 1;
        /* the node's own cells may come after the matching property */
        out->own_ac = fdt_u32(out, "#address-cells", 2);
        return true;
    }
    return false;
}

bool fdt_by_compat(const char *compat, struct fdt_node *n)
{
    return walk(M_COMPAT, compat, 0, 0, n);
}
bool fdt_by_compat_nth(const char *compat, unsigned i, struct fdt_node *n)
{
    return walk(M_COMPAT, compat, 0, i, n);
}
bool fdt_by_name(const char *name, struct fdt_node *n) { return walk(M_NAME, name, 0, 0, n); }
bool fdt_by_phandle(uint32_t ph, struct fdt_node *n) { return walk(M_PHANDLE, "", ph, 0, n); }
bool fdt_parent_of_phandle(uint32_t ph, struct fdt_node *n)
{
    return walk(M_PARENT_OF_PHANDLE, "", ph, 0, n);
}

const void *fdt_prop(const struct fdt_node *n, const char *name, uint32_t *len)
{
    uint32_t off = n->off + 4 + align4((uint32_t)strlen((const char *)structs + n->off + 4) + 1);
    while (off + 4 <= struct_size) {
        uint32_t tok = be32(structs + off);
        if (tok == TOK_NOP) {
            off += 4;
            continue;
        }
        uint32_t l;
        if (tok != TOK_PROP || !prop_len(off, &l))
            return NULL; /* a child node or the node's end: no more properties */
        if (!strcmp(strings + be32(structs + off + 8), name)) {
            if (len)
                *len = l;
            return structs + off + 12;
        }
        off += 12 + align4(l);
    }
    return NULL;
}

bool fdt_reg(const struct fdt_node *n, unsigned i, uint64_t *base, uint64_t *size)
{
    uint32_t len;
    const uint8_t *p = fdt_prop(n, "reg", &len);
    uint32_t stride = 4u * (n->ac + n->sc);
    if (!p || !stride || (i + 1) * stride > len)
        return false;
    p += i * stride;
    *base = fdt_cells(p, n->ac);
    *size = n->sc ? fdt_cells(p + 4 * n->ac, n->sc) : 0;
    return true;
}

uint32_t fdt_u32(const struct fdt_node *n, const char *name, uint32_t dflt)
{
    uint32_t len;
    const void *p = fdt_prop(n, name, &len);
    return p && len == 4 ? be32(p) : dflt;
}

uint32_t fdt_arm_vtimer_intid(unsigned icells, uint32_t dflt)
{
    struct fdt_node n;
    uint32_t len;
    if (!fdt_by_compat("arm,armv8-timer", &n) && !fdt_by_compat("arm,armv7-timer", &n))
        return dflt;
    const uint8_t *p = fdt_prop(&n, "interrupts", &len);
    if (!p || icells < 2 || len < 3u * 4u * icells)
        return dflt;
    p += 2u * 4u * icells;
    return be32(p) == 1 && be32(p + 4) < 16 ? 16u + be32(p + 4) : dflt;
}

unsigned fdt_count_device_type(const char *type)
{
    unsigned n = 0;
    uint32_t off = 0;
    while (off + 4 <= struct_size) {
        uint32_t tok = be32(structs + off);
        if (tok == TOK_BEGIN) {
            off += 4 + align4((uint32_t)strlen((const char *)structs + off + 4) + 1);
        } else if (tok == TOK_PROP) {
            uint32_t len;
            if (!prop_len(off, &len))
                break;
            if (!strcmp(strings + be32(structs + off + 8), "device_type") &&
                !strcmp((const char *)structs + off + 12, type))
                n++;
            off += 12 + align4(len);
        } else if (tok == TOK_END || tok == TOK_NOP) {
            off += 4;
        } else {
            break;
        }
    }
    return n;
}
