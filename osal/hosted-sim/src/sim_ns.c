/* SPDX-License-Identifier: MIT */
/*
 * sim_ns.c - namespaces and their backing store: sparse memory (64 KiB
 * chunks allocated on first write, zeros elsewhere) or an image file
 * accessed with pread/pwrite; metadata in an anonymous mapping without
 * reserve (pages on first write, so a namespace of 2^33 blocks fits).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"

#define CHUNK ((uint64_t)1 << SIM_CHUNK_SHIFT)
#define L2_ENTRIES ((uint64_t)1 << SIM_L2_SHIFT)
/* A memory chunk is CHUNK bytes of data, then one bit per 512-byte unit:
 * set once the unit is written, clear again when deallocated (the
 * Deallocated or Unwritten Logical Block error, DULBE: sim_ns_unwritten).
 * Blocks are 512 bytes or a power of two above, so a block covers whole
 * units; a chunk whose units are all deallocated is freed. */
#define UNITS_PER_CHUNK (CHUNK >> 9)
#define CHUNK_BYTES (CHUNK + UNITS_PER_CHUNK / 8)

struct sim_ns *sim_ns_find(struct nvme_sim *sim, uint32_t nsid)
{
    unsigned lo = 0, hi = sim->ns_count;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (sim->ns[mid]->nsid == nsid)
            return sim->ns[mid];
        if (sim->ns[mid]->nsid < nsid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

uint32_t sim_ns_max_nsid(const struct nvme_sim *sim)
{
    return sim->ns_count ? sim->ns[sim->ns_count - 1]->nsid : 0;
}

/* An NSID in 1..NN that no attached namespace has is inactive, not
 * invalid: a command that needs an active namespace gets Invalid Field
 * in Command for it, one outside that range Invalid Namespace or Format
 * (NVMe 2.0 §3.2.1), as QEMU's nvme_io_cmd, nvme_get_feature and
 * nvme_format (nvme_nsid_valid, then nvme_ns). */
struct sim_ns *sim_ns_active(struct nvme_sim *sim, uint32_t nsid, uint16_t *sf)
{
    struct sim_ns *ns = sim_ns_find(sim, nsid);
    uint32_t nn = sim->nn_override ? sim->nn_override : sim_ns_max_nsid(sim);
    if (!ns)
        *sf = nsid == 0 || nsid > nn ? SIM_SF_GEN(NVME_SC_INVALID_NS)
                                     : SIM_SF_GEN(NVME_SC_INVALID_FIELD);
    return ns;
}

/* blocks * ms bytes of zeros, or NULL (ms 0, or no room). */
static uint8_t *md_alloc(uint64_t blocks, uint16_t ms)
{
    if (!ms || !blocks || blocks > SIZE_MAX / ms)
        return NULL;
    void *p = mmap(NULL, (size_t)(blocks * ms), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void md_free(uint8_t *md, uint64_t blocks, uint16_t ms)
{
    if (md)
        munmap(md, (size_t)(blocks * ms));
}

void sim_ns_free(struct sim_ns *ns)
{
    if (!ns)
        return;
    if (ns->fd >= 0)
        close(ns->fd);
    if (ns->l1) {
        for (uint64_t i = 0; i < ns->l1_count; i++) {
            if (!ns->l1[i])
                continue;
            for (uint64_t j = 0; j < L2_ENTRIES; j++)
                free(ns->l1[i][j]);
            free(ns->l1[i]);
        }
        free(ns->l1);
    }
    free(ns->path);
    md_free(ns->md, ns->blocks, ns->ms);
    free(ns->zones);
    free(ns->unc);
    free(ns);
}

static int open_image(struct nvme_sim *sim, struct sim_ns *ns, const struct nvme_sim_ns_config *nc)
{
    int fd = open(nc->image, O_RDWR | (nc->create ? O_CREAT : 0), 0644);
    if (fd < 0) {
        sim_msg(sim, "namespace %u: cannot open %s: %s", nc->nsid, nc->image, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        close(fd);
        return -1;
    }
    uint64_t want = ns->blocks * ns->lba_size;
    if (!ns->blocks) {
        ns->blocks = (uint64_t)sb.st_size / ns->lba_size;
    } else if ((uint64_t)sb.st_size < want) {
        if (!nc->create) {
            sim_msg(sim, "namespace %u: %s holds %lld bytes, %llu needed", nc->nsid, nc->image,
                    (long long)sb.st_size, (unsigned long long)want);
            close(fd);
            return -1;
        }
        if (ftruncate(fd, (off_t)want) < 0) {
            sim_msg(sim, "namespace %u: cannot size %s: %s", nc->nsid, nc->image, strerror(errno));
            close(fd);
            return -1;
        }
    }
    if (!ns->blocks) {
        sim_msg(sim, "namespace %u: %s is empty", nc->nsid, nc->image);
        close(fd);
        return -1;
    }
    ns->fd = fd;
    ns->path = strdup(nc->image);
    return 0;
}

int sim_ns_insert(struct nvme_sim *sim, const struct nvme_sim_ns_config *nc)
{
    uint32_t lba = nc->lba_size ? nc->lba_size : 512;
    if (nc->nsid == 0 || nc->nsid > 0xfffffffeu) { /* FFFFFFFEh is the highest valid NSID */
        sim_msg(sim, "namespace id %u invalid", nc->nsid);
        return -1;
    }
    if (lba < 512 || lba > (1u << 21) || (lba & (lba - 1))) {
        sim_msg(sim, "namespace %u: LBA size %u invalid", nc->nsid, lba);
        return -1;
    }
    if (sim_ns_find(sim, nc->nsid)) {
        sim_msg(sim, "namespace %u defined twice", nc->nsid);
        return -1;
    }
    if (nc->nlbaf > 63 || nc->flbas_index > nc->nlbaf || nc->nulbaf > nc->nlbaf) {
        sim_msg(sim, "namespace %u: LBA format %u of NLBAF %u invalid", nc->nsid, nc->flbas_index,
                nc->nlbaf);
        return -1;
    }
    if (!nc->blocks && !nc->image) {
        sim_msg(sim, "namespace %u: no size", nc->nsid);
        return -1;
    }
    if (nc->pi_type > 3 || (nc->pi_type && nc->ms < (nc->pif == NVME_PIF_64B_GUARD ? 16 : 8))) {
        sim_msg(sim, "namespace %u: PI type %u needs 8 metadata bytes (16 with 64b Guard)",
                nc->nsid, nc->pi_type);
        return -1;
    }
    if (nc->pif > 3 || nc->sts > 0x7f) {
        sim_msg(sim, "namespace %u: PIF %u / STS %u out of range", nc->nsid, nc->pif, nc->sts);
        return -1;
    }
    if (nc->zoned &&
        (!nc->zone_size || (nc->zone_size & (nc->zone_size - 1)) || nc->zone_size > nc->blocks)) {
        sim_msg(sim, "namespace %u: zone size must be a power of two <= blocks", nc->nsid);
        return -1;
    }
    struct sim_ns *ns = calloc(1, sizeof(*ns));
    if (!ns)
        return -1;
    ns->nsid = nc->nsid;
    ns->blocks = nc->blocks;
    ns->lba_size = lba;
    ns->lbads = (uint8_t)__builtin_ctz(lba);
    ns->fd = -1;
    ns->corrupt = nc->corrupt;
    ns->corrupt_lbads = nc->corrupt_lbads;
    ns->ident = nc->ident;
    ns->uuid_only = nc->uuid_only;
    ns->nlbaf = nc->nlbaf;
    ns->flbas_index = nc->flbas_index;
    ns->nulbaf = nc->nulbaf;
    ns->ms = nc->ms;
    ns->extended = nc->ms && nc->extended;
    ns->pi_type = nc->pi_type;
    ns->pi_first = nc->pi_first;
    ns->pif = nc->pif;
    ns->sts = nc->sts;
    ns->zoned = nc->zoned;
    ns->zone_size = nc->zone_size;
    ns->zone_cap = nc->zone_cap && nc->zone_cap < nc->zone_size ? nc->zone_cap : nc->zone_size;
    ns->zsze_reported = nc->zsze_reported;
    ns->zdes = nc->zdes;
    ns->csi_reported = nc->csi_reported;
    ns->write_protected = nc->write_protected;
    ns->max_open = nc->max_open;
    ns->max_active = nc->max_active;
    if (ns->zoned)
        sim->cfg.iocs = true;
    if (nc->image) {
        if (open_image(sim, ns, nc) < 0) {
            free(ns);
            return -1;
        }
    } else {
        uint64_t chunks = (ns->blocks * lba + CHUNK - 1) >> SIM_CHUNK_SHIFT;
        ns->l1_count = (chunks + L2_ENTRIES - 1) >> SIM_L2_SHIFT;
        ns->l1 = calloc(ns->l1_count ? ns->l1_count : 1, sizeof(*ns->l1));
        if (!ns->l1) {
            free(ns);
            return -1;
        }
    }
    ns->bytes = ns->blocks * ns->lba_size;
    sim_ns_formats(ns);
    if ((ns->ms && !(ns->md = md_alloc(ns->blocks, ns->ms))) ||
        (ns->zoned && sim_zns_init(ns) < 0)) {
        sim_ns_free(ns);
        return -1;
    }
    if (sim->ns_count == sim->ns_cap) {
        unsigned ncap = sim->ns_cap ? sim->ns_cap * 2 : 8;
        struct sim_ns **n = realloc(sim->ns, ncap * sizeof(*n));
        if (!n) {
            sim_ns_free(ns);
            return -1;
        }
        sim->ns = n;
        sim->ns_cap = ncap;
    }
    unsigned i = sim->ns_count;
    while (i > 0 && sim->ns[i - 1]->nsid > ns->nsid) {
        sim->ns[i] = sim->ns[i - 1];
        i--;
    }
    sim->ns[i] = ns;
    sim->ns_count++;
    return 0;
}

int sim_ns_delete(struct nvme_sim *sim, uint32_t nsid)
{
    for (unsigned i = 0; i < sim->ns_count; i++) {
        if (sim->ns[i]->nsid != nsid)
            continue;
        sim_ns_free(sim->ns[i]);
        memmove(&sim->ns[i], &sim->ns[i + 1], (sim->ns_count - i - 1) * sizeof(sim->ns[0]));
        sim->ns_count--;
        return 0;
    }
    return -1;
}

static int mem_io(struct sim_ns *ns, uint64_t off, uint8_t *buf, uint64_t len, bool write)
{
    while (len) {
        uint64_t c = off >> SIM_CHUNK_SHIFT;
        uint64_t in = off & (CHUNK - 1);
        uint64_t n = CHUNK - in < len ? CHUNK - in : len;
        uint8_t ***l2 = &ns->l1[c >> SIM_L2_SHIFT];
        uint8_t *chunk = *l2 ? (*l2)[c & (L2_ENTRIES - 1)] : NULL;
        if (write) {
            if (!*l2 && !(*l2 = calloc(L2_ENTRIES, sizeof(**l2))))
                return -1;
            if (!chunk && !(chunk = (*l2)[c & (L2_ENTRIES - 1)] = calloc(1, CHUNK_BYTES)))
                return -1;
            memcpy(chunk + in, buf, n);
            for (uint64_t u = in >> 9; u < (in + n) >> 9; u++)
                chunk[CHUNK + u / 8] |= (uint8_t)(1u << (u % 8));
        } else if (chunk) {
            memcpy(buf, chunk + in, n);
        } else {
            memset(buf, 0, n);
        }
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

/* Deallocates [off, off + len) of a memory namespace: zeros, units
 * unwritten (unwritten: whether any unit there is). */
static void mem_dealloc(struct sim_ns *ns, uint64_t off, uint64_t len)
{
    while (len) {
        uint64_t c = off >> SIM_CHUNK_SHIFT;
        uint64_t in = off & (CHUNK - 1);
        uint64_t n = CHUNK - in < len ? CHUNK - in : len;
        uint8_t **l2 = ns->l1[c >> SIM_L2_SHIFT];
        uint8_t *chunk = l2 ? l2[c & (L2_ENTRIES - 1)] : NULL;
        if (chunk) {
            memset(chunk + in, 0, n);
            for (uint64_t u = in >> 9; u < (in + n) >> 9; u++)
                chunk[CHUNK + u / 8] &= (uint8_t) ~(1u << (u % 8));
            bool any = false;
            for (uint64_t i = 0; i < UNITS_PER_CHUNK / 8 && !any; i++)
                any = chunk[CHUNK + i] != 0;
            if (!any) {
                free(chunk);
                l2[c & (L2_ENTRIES - 1)] = NULL;
            }
        }
        off += n;
        len -= n;
    }
}

static bool mem_unwritten(const struct sim_ns *ns, uint64_t off, uint64_t len)
{
    while (len) {
        uint64_t c = off >> SIM_CHUNK_SHIFT;
        uint64_t in = off & (CHUNK - 1);
        uint64_t n = CHUNK - in < len ? CHUNK - in : len;
        uint8_t **l2 = ns->l1[c >> SIM_L2_SHIFT];
        const uint8_t *chunk = l2 ? l2[c & (L2_ENTRIES - 1)] : NULL;
        if (!chunk)
            return true;
        for (uint64_t u = in >> 9; u < (in + n) >> 9; u++)
            if (!(chunk[CHUNK + u / 8] & (1u << (u % 8))))
                return true;
        off += n;
        len -= n;
    }
    return false;
}

static int file_io(struct sim_ns *ns, uint64_t off, uint8_t *buf, uint64_t len, bool write)
{
    while (len) {
        ssize_t r = write ? pwrite(ns->fd, buf, len, (off_t)off)
                          : pread(ns->fd, buf, len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) { /* read past the end of a short file: zeros */
            if (write)
                return -1;
            memset(buf, 0, len);
            return 0;
        }
        off += (uint64_t)r;
        buf += r;
        len -= (uint64_t)r;
    }
    return 0;
}

/* --- Write Uncorrectable marks (NVM CS §3.2.7) ----------------------------- */

/* Room for one more mark (-1: no memory). */
static int unc_reserve(struct sim_ns *ns)
{
    if (ns->unc_n < ns->unc_cap)
        return 0;
    size_t cap = ns->unc_cap ? ns->unc_cap * 2 : 8;
    struct sim_unc_range *u = realloc(ns->unc, cap * sizeof(*u));
    if (!u)
        return -1;
    ns->unc = u;
    ns->unc_cap = cap;
    return 0;
}

/* Unmarks [lba, end): a range across it is cut, one around it split (-1:
 * no memory for the second piece). */
static int unc_clear(struct sim_ns *ns, uint64_t lba, uint64_t end)
{
    for (size_t i = 0; i < ns->unc_n; i++) {
        struct sim_unc_range *r = &ns->unc[i];
        if (r->end <= lba || r->start >= end)
            continue;
        if (r->start < lba && r->end > end) { /* split */
            if (unc_reserve(ns) < 0)
                return -1;
            r = &ns->unc[i];
            memmove(&ns->unc[i + 2], &ns->unc[i + 1], (ns->unc_n - i - 1) * sizeof(*r));
            ns->unc[i + 1].start = end;
            ns->unc[i + 1].end = r->end;
            r->end = lba;
            ns->unc_n++;
            return 0;
        }
        if (r->start >= lba && r->end <= end) { /* inside: gone */
            memmove(r, r + 1, (ns->unc_n - i - 1) * sizeof(*r));
            ns->unc_n--;
            i--;
        } else if (r->start < lba) {
            r->end = lba;
        } else {
            r->start = end;
        }
    }
    return 0;
}

int sim_ns_unc_mark(struct sim_ns *ns, uint64_t lba, uint64_t count)
{
    uint64_t end = lba + count;
    /* Ranges touching or overlapping the new one merge into it. */
    for (size_t i = 0; i < ns->unc_n; i++) {
        if (ns->unc[i].end < lba || ns->unc[i].start > end)
            continue;
        lba = ns->unc[i].start < lba ? ns->unc[i].start : lba;
        end = ns->unc[i].end > end ? ns->unc[i].end : end;
    }
    if (unc_clear(ns, lba, end) < 0 || unc_reserve(ns) < 0)
        return -1;
    size_t at = 0;
    while (at < ns->unc_n && ns->unc[at].start < lba)
        at++;
    memmove(&ns->unc[at + 1], &ns->unc[at], (ns->unc_n - at) * sizeof(ns->unc[0]));
    ns->unc[at].start = lba;
    ns->unc[at].end = end;
    ns->unc_n++;
    return 0;
}

bool sim_ns_unc_any(const struct sim_ns *ns, uint64_t lba, uint64_t count)
{
    for (size_t i = 0; i < ns->unc_n; i++)
        if (ns->unc[i].start < lba + count && ns->unc[i].end > lba)
            return true;
    return false;
}

int sim_ns_io(struct sim_ns *ns, uint64_t lba, uint64_t count, void *buf, bool write)
{
    if (lba > ns->blocks || count > ns->blocks - lba)
        return -1;
    /* A write makes the blocks readable again (NVM CS §3.2.7). */
    if (write && ns->unc_n != 0 && unc_clear(ns, lba, lba + count) < 0)
        return -1;
    uint64_t off = lba * ns->lba_size, len = count * ns->lba_size;
    return ns->fd >= 0 ? file_io(ns, off, buf, len, write) : mem_io(ns, off, buf, len, write);
}

int sim_ns_dealloc(struct sim_ns *ns, uint64_t lba, uint64_t count)
{
    if (lba > ns->blocks || count > ns->blocks - lba)
        return -1;
    if (ns->unc_n != 0 && unc_clear(ns, lba, lba + count) < 0)
        return -1;
    uint64_t off = lba * ns->lba_size, len = count * ns->lba_size;
    if (ns->fd < 0) {
        mem_dealloc(ns, off, len);
        return 0;
    }
    static uint8_t zero[65536]; /* an image holds no allocation state: zeros */
    for (uint64_t n; len; off += n, len -= n) {
        n = len < sizeof(zero) ? len : sizeof(zero);
        if (file_io(ns, off, zero, n, true) < 0)
            return -1;
    }
    return 0;
}

bool sim_ns_unwritten(const struct sim_ns *ns, uint64_t lba, uint64_t count)
{
    return ns->fd < 0 && mem_unwritten(ns, lba * ns->lba_size, count * ns->lba_size);
}

int sim_ns_sync(struct sim_ns *ns) { return ns->fd >= 0 ? fdatasync(ns->fd) : 0; }

/* --- issue 9: formats, metadata, erase ------------------------------------- */

static void fmt_add(struct sim_ns *ns, uint8_t lbads, uint16_t ms)
{
    for (unsigned i = 0; i < ns->nfmt; i++)
        if (ns->fmt[i].lbads == lbads && ns->fmt[i].ms == ms)
            return;
    if (ns->nfmt < 64) {
        ns->fmt[ns->nfmt].lbads = lbads;
        ns->fmt[ns->nfmt].ms = ms;
        ns->nfmt++;
    }
}

/* The LBA format list.  nlbaf 0: 512 and 4096 bytes, the size in use if
 * other, and with metadata (512, ms), (4096, ms) and the one in use.
 * nlbaf > 0: nlbaf + 1 formats, the one in use at flbas_index, the others
 * distinct plausible (LBADS, MS) pairs. */
void sim_ns_formats(struct sim_ns *ns)
{
    ns->nfmt = 0;
    if (ns->nlbaf) {
        static const uint8_t sizes[] = {9, 12, 10, 11, 13, 14, 15, 16};
        unsigned k = 0;
        for (unsigned i = 0; i <= ns->nlbaf; i++) {
            if (i == ns->flbas_index) {
                ns->fmt[i].lbads = ns->lbads;
                ns->fmt[i].ms = ns->ms;
                continue;
            }
            uint8_t lbads;
            uint16_t ms;
            do {
                lbads = sizes[k % 8];
                ms = (uint16_t)(8 * (k / 8));
                k++;
            } while (lbads == ns->lbads && ms == ns->ms);
            ns->fmt[i].lbads = lbads;
            ns->fmt[i].ms = ms;
        }
        ns->nfmt = ns->nlbaf + 1u;
        ns->cur = ns->flbas_index;
        return;
    }
    fmt_add(ns, 9, 0);
    fmt_add(ns, 12, 0);
    fmt_add(ns, ns->lbads, ns->ms);
    if (ns->ms) {
        fmt_add(ns, 9, ns->ms);
        fmt_add(ns, 12, ns->ms);
    }
    for (unsigned i = 0; i < ns->nfmt; i++)
        if (ns->fmt[i].lbads == ns->lbads && ns->fmt[i].ms == ns->ms)
            ns->cur = i;
}

/* All data, metadata and zones back to zeros / empty; no block
 * uncorrectable any more. */
void sim_ns_erase(struct sim_ns *ns)
{
    ns->unc_n = 0;
    if (ns->fd >= 0) {
        /* Truncating to 0 and back gives a file of zeros. */
        if (ftruncate(ns->fd, 0) < 0 || ftruncate(ns->fd, (off_t)ns->bytes) < 0)
            return;
    } else if (ns->l1) {
        for (uint64_t i = 0; i < ns->l1_count; i++) {
            if (!ns->l1[i])
                continue;
            for (uint64_t j = 0; j < L2_ENTRIES; j++)
                free(ns->l1[i][j]);
            free(ns->l1[i]);
            ns->l1[i] = NULL;
        }
    }
    if (ns->md) /* private anonymous pages read as zeros again */
        madvise(ns->md, (size_t)(ns->blocks * ns->ms), MADV_DONTNEED);
    if (ns->zoned)
        sim_zns_init(ns);
}

/* Format NVM of one namespace: format idx of its list; capacity in bytes
 * stays, the block count follows the new size. */
int sim_ns_set_format(struct sim_ns *ns, unsigned idx, bool extended, uint8_t pi, bool pil)
{
    if (idx >= ns->nfmt || (pi && ns->fmt[idx].ms < sim_pi_size(ns)) || pi > 3)
        return -1;
    uint64_t blocks = ns->bytes >> ns->fmt[idx].lbads;
    if (!blocks || (ns->zoned && blocks < ns->zone_size))
        return -1;
    uint16_t ms = ns->fmt[idx].ms;
    uint8_t *md = NULL;
    if (ms && !(md = md_alloc(blocks, ms)))
        return -1;
    /* Memory namespaces: drop the data first (chunk tables keep their size:
     * bytes did not change). */
    sim_ns_erase(ns);
    md_free(ns->md, ns->blocks, ns->ms);
    ns->md = md;
    ns->cur = idx;
    ns->lbads = ns->fmt[idx].lbads;
    ns->lba_size = 1u << ns->lbads;
    ns->blocks = blocks;
    ns->ms = ms;
    ns->extended = ms && extended;
    ns->pi_type = pi;
    ns->pi_first = pil;
    if (ns->nlbaf)
        ns->flbas_index = (uint8_t)idx;
    if (ns->zoned) {
        free(ns->zones);
        ns->zones = NULL;
        if (sim_zns_init(ns) < 0)
            return -1;
    }
    return 0;
}

int sim_ns_md_io(struct sim_ns *ns, uint64_t lba, uint64_t count, uint8_t *md, bool write)
{
    if (!ns->ms || lba > ns->blocks || count > ns->blocks - lba)
        return -1;
    uint8_t *p = ns->md + lba * ns->ms;
    if (write)
        memcpy(p, md, count * ns->ms);
    else
        memcpy(md, p, count * ns->ms);
    return 0;
}

/* CRC-16 T10-DIF (polynomial 8BB7h, initial 0, no reflection), the PI
 * guard (NVM CS §5.2.1.3). */
uint16_t sim_crc_t10dif(const uint8_t *p, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x8bb7 : crc << 1);
    }
    return crc;
}

/* CRC-64/NVME (reflected polynomial 9A6C9329AC4BC9B5h, initial value and
 * final XOR all ones), the 64b Guard (NVM CS §5.3.1.4). */
uint64_t sim_crc64_nvme(const uint8_t *p, size_t len)
{
    uint64_t crc = ~0ull;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x9a6c9329ac4bc9b5ull : crc >> 1;
    }
    return ~crc;
}
