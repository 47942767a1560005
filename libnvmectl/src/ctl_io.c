/* SPDX-License-Identifier: MIT */
/*
 * ctl_io.c - I/O commands: read, write (--fua), flush, the write/read
 * self-test `write-verify`, and the NVM commands Verify (verify, also
 * nvm-verify), Compare, Dataset Management, Write Zeroes, Write
 * Uncorrectable (the zoned ones are in ctl_zns.c).  Each is gated by the
 * core on what the controller reports; errors name the namespace.
 */
#include "ctl.h"

/* Success of a range command: text (after nvme-cli's line `cli` where
 * there is one), or JSON with the range. */
static int range_done(struct ctl *c, const struct nvme_ns_info *ns, const char *cli,
                      const char *verb, uint64_t slba, uint64_t count)
{
    const struct nvmectl_io *io = c->io;
    if (c->o.json) {
        char dev[32];
        struct jw w;
        nvme_snprintf(dev, sizeof(dev), "%sn%u", ctl_dev(io), ns->nsid);
        jw_begin(&w, io);
        jw_str(&w, "device", dev);
        jw_str(&w, "command", c->cmd);
        jw_str(&w, "result", "success");
        jw_u64(&w, "slba", slba);
        jw_u64(&w, "nlb", count);
        jw_u64(&w, "bytes", count << ns->lbads);
        jw_end(&w);
    } else {
        if (cli != NULL)
            ctl_out(io, "%s\n", cli);
        ctl_out(io, "%sn%u: %s %llu block(s) at LBA %llu (%llu bytes)\n", ctl_dev(io), ns->nsid,
                verb, (unsigned long long)count, (unsigned long long)slba,
                (unsigned long long)(count << ns->lbads));
    }
    return NVME_OK;
}

/* --fua and -l as NVME_IO_FUA | NVME_IO_LR (adjacent flag bits), and
 * --deac as NVME_IO_DEALLOCATE: no branch per flag. */
_Static_assert(F_LR == F_FUA + 1 && NVME_IO_FUA == 1u && NVME_IO_LR == 2u, "fua_lr");
_Static_assert(F_DEAC == 3 && NVME_IO_DEALLOCATE == 4u, "deac");
static unsigned fua_lr(const struct ctl *c) { return (c->o.flags >> F_FUA) & 3u; }

/* --fua / --lr: the flags of nvme_read_ext / nvme_write_ext, 0 without
 * them.  The buffer holds plain blocks as for nvme_read (2^LBADS bytes
 * each, ctl_fits): a format that moves metadata with the data is refused
 * as nvme_read refuses it, and a PI-only one gets PRACT and the checks
 * nvme_read gives it (nvme_ns_info.plain_io), so no metadata byte moves. */
static unsigned ctl_rw_flags(const struct ctl *c, const struct nvme_ns_info *ns, int *rc)
{
    unsigned fl = fua_lr(c);
    *rc = NVME_OK;
    if (fl == 0 || ns->ms == 0)
        return fl;
    if (!ns->plain_io) {
        ctl_out(c->io, "%sn%u: format with %u metadata bytes per block: %s not supported\n",
                ctl_dev(c->io), ns->nsid, ns->ms, c->cmd);
        *rc = NVME_ERR_UNSUPPORTED;
        return 0;
    }
    return fl | nvme_ns_plain_flags(ns); /* PI only (ms = pi_size): as nvme_read checks */
}

int ctl_cmd_read(struct ctl *c)
{
    int rc;
    /* read shares write's options (o_rw) but shows the data: -p, -t and
     * a file (nvme-cli's read -d is where it writes the data) are refused,
     * not ignored */
    if (has(c, N_PATTERN) || c->o.str[S_TEXT] != NULL || c->o.str[S_FILE] != NULL)
        return ctl_usage_err(c, "-p, -t, -f and -d are write's: read shows the data as a hex "
                                "dump (-o json: as hex), to no file");
    const struct nvme_ns_info *ns = ctl_need_ns(c, CTL_NS_RANGE, &rc);
    if (ns == NULL)
        return rc;
    uint64_t count = c->o.num[N_COUNT], slba = c->o.num[N_SLBA];
    uint64_t bytes = count << ns->lbads;
    if (!ctl_fits(c->io, 0, count, ns->lbads, 1))
        return NVME_ERR_INVAL;
    unsigned fl = ctl_rw_flags(c, ns, &rc);
    if (rc != NVME_OK)
        return rc;
    /* A device may move less than asked and complete with success (no
     * transfer count in the CQE): what it did not write reads as zeros,
     * not as an earlier command's bytes (as nvme-cli's zeroed buffer). */
    nvme_memzero(c->io->buf, (size_t)bytes);
    if (fl != 0)
        rc = nvme_read_ext(c->ctrl, ns->nsid, slba, (uint32_t)count, c->io->buf, NULL, fl);
    else
        rc = nvme_read(c->ctrl, ns->nsid, slba, (uint32_t)count, c->io->buf);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "read", rc);
    if (c->o.json) {
        struct jw w;
        char dev[32];
        nvme_snprintf(dev, sizeof(dev), "%sn%u", ctl_dev(c->io), ns->nsid);
        jw_begin(&w, c->io);
        jw_str(&w, "device", dev);
        jw_u64(&w, "slba", slba);
        jw_u64(&w, "nlb", count);
        jw_u64(&w, "bytes", bytes);
        jw_hex(&w, "data", c->io->buf, (size_t)bytes);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(c->io, "%sn%u: read %llu block(s) at LBA %llu (%llu bytes)\n", ctl_dev(c->io), ns->nsid,
            (unsigned long long)count, (unsigned long long)slba, (unsigned long long)bytes);
    ctl_hexdump_at(c->io, c->io->buf, (size_t)bytes, ctl_blocks_bytes(slba, ns->lbads));
    return NVME_OK;
}

int ctl_cmd_write(struct ctl *c)
{
    int rc;
    const struct nvme_ns_info *ns = ctl_need_ns(c, CTL_NS_RANGE, &rc);
    if (ns == NULL)
        return rc;
    uint64_t count = c->o.num[N_COUNT], slba = c->o.num[N_SLBA];
    uint64_t bytes = count << ns->lbads;
    if (!ctl_fits(c->io, 0, count, ns->lbads, 1))
        return NVME_ERR_INVAL;
    uint8_t *b = c->io->buf;
    unsigned fl = ctl_rw_flags(c, ns, &rc);
    if (rc != NVME_OK)
        return rc;
    if (!ctl_fill_data(c, b, (size_t)bytes, &rc))
        return rc;
    if (fl != 0)
        rc = nvme_write_ext(c->ctrl, ns->nsid, slba, (uint32_t)count, b, NULL, fl);
    else
        rc = nvme_write(c->ctrl, ns->nsid, slba, (uint32_t)count, b);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "write", rc);
    return range_done(c, ns, NULL, (fl & NVME_IO_FUA) ? "wrote (FUA)" : "wrote", slba, count);
}

int ctl_cmd_flush(struct ctl *c)
{
    int rc;
    uint32_t nsid = NVME_NSID_ALL; /* -n 0xffffffff: every namespace, as nvme-cli */
    if (ctl_nsid_or(c, 0) != NVME_NSID_ALL) {
        const struct nvme_ns_info *ns = ctl_need_ns(c, 0, &rc);
        if (ns == NULL)
            return rc;
        nsid = ns->nsid;
    }
    rc = nvme_flush(c->ctrl, nsid);
    if (rc != NVME_OK)
        return ctl_fail(c, nsid, "flush", rc);
    if (c->o.json)
        return ctl_done(c, nsid, "flush complete");
    ctl_out(c->io, "NVMe Flush: success\n"); /* nvme-cli 2.4's line, for one or every namespace */
    return NVME_OK;
}

/* A byte of the verify pattern: depends on the LBA, the offset and the
 * seed (all 64 bits of -k: one above 2^32 is not its low half's), so
 * misplaced blocks and cross-talk show up. */
static uint8_t verify_byte(uint64_t lba, uint32_t off, uint64_t seed)
{
    uint32_t x = (uint32_t)lba * 2654435761u ^ (uint32_t)(lba >> 32) ^ off * 40503u ^
                 (uint32_t)seed * 2246822519u ^ (uint32_t)(seed >> 32) * 3266489917u;
    x ^= x >> 15;
    return (uint8_t)(x ^ (x >> 8));
}

int ctl_cmd_write_verify(struct ctl *c)
{
    int rc;
    const struct nvme_ns_info *ns = ctl_need_ns(c, CTL_NS_RANGE, &rc);
    if (ns == NULL)
        return rc;
    const struct nvmectl_io *io = c->io;
    uint64_t count = c->o.num[N_COUNT], slba = c->o.num[N_SLBA];
    uint64_t bytes = count << ns->lbads;
    uint64_t off = c->o.num[N_OFFSET];
    if ((off & 3u) != 0) {
        ctl_out(io, "nvmectl: --offset must be a multiple of 4\n");
        return NVME_ERR_INVAL;
    }
    /* Two buffers of `bytes` each, the pair shifted by `off`. */
    if (!ctl_fits(io, off, count, ns->lbads, 2))
        return NVME_ERR_INVAL;
    uint8_t *wbuf = (uint8_t *)io->buf + off;
    uint8_t *rbuf = wbuf + bytes;
    for (uint64_t i = 0; i < bytes; i++)
        wbuf[i] = verify_byte(slba + (i >> ns->lbads), (uint32_t)(i & (ns->lba_size - 1u)),
                              c->o.num[N_SEED]);
    rc = nvme_write(c->ctrl, ns->nsid, slba, (uint32_t)count, wbuf);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "verify write", rc);
    nvme_memzero(rbuf, (size_t)bytes);
    rc = nvme_read(c->ctrl, ns->nsid, slba, (uint32_t)count, rbuf);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "verify read", rc);
    for (uint64_t i = 0; i < bytes; i++) {
        if (rbuf[i] != wbuf[i]) {
            ctl_out(io, "%sn%u: verify MISMATCH at LBA %llu byte %u: wrote %02x read %02x\n",
                    ctl_dev(io), ns->nsid, (unsigned long long)(slba + (i >> ns->lbads)),
                    (unsigned)(i & (ns->lba_size - 1u)), wbuf[i], rbuf[i]);
            return NVME_ERR_PROTO;
        }
    }
    if (c->o.json)
        return range_done(c, ns, NULL, "verified", slba, count);
    ctl_out(io, "%sn%u: verify ok: %llu block(s) at LBA %llu, %llu bytes, buffer offset %llu\n",
            ctl_dev(io), ns->nsid, (unsigned long long)count, (unsigned long long)slba,
            (unsigned long long)bytes, (unsigned long long)off);
    return NVME_OK;
}

/* verify's and write-zeroes' namespace and flags, nvme-cli 2.4's
 * verify_cmd and write_zeroes letters: -f/--fua, -l, --deac, and -p
 * PRINFO's PRCHK bits 2:0 (guard, application tag, reference tag; the
 * core's Write Zeroes takes none: invalid argument).  PRACT (bit 3) is 0
 * in a Verify (NVM CS 1.0 Figure 55).  The core builds the tags: the
 * SLBA's low 32 bits as the initial reference tag (Types 1 and 2), LBATM
 * 0 (no application tag bit compared, §5.2.1.4, so any -a goes: nothing
 * checks it), no storage tag (-S goes to -m's slot); other values are
 * refused, nothing sent. */
static const struct nvme_ns_info *range_ns(struct ctl *c, unsigned *fl, int *rc)
{
    const uint64_t *n = c->o.num;
    unsigned p = (unsigned)n[N_PRINFO];
    if (n[N_PRINFO] > 7 || (has(c, N_REFTAG) && n[N_REFTAG] != (uint32_t)n[N_SLBA]) ||
        n[N_APPMASK] != 0 || flag(c, F_STC)) {
        *rc = ctl_usage_err(c, "-p 0..7 (no PRACT), -r the -s LBA, -m and -S 0, no -C");
        return NULL;
    }
    *fl = ((c->o.flags >> 1) & NVME_IO_DEALLOCATE) | fua_lr(c) | (p & 4u) << 1 | (p & 2u) << 3 |
          (p & 1u) << 5;
    return ctl_need_ns(c, CTL_NS_RANGE, rc);
}

int ctl_cmd_nvm_verify(struct ctl *c)
{
    int rc;
    unsigned fl;
    /* o_range is write-zeroes' too: a Verify has no DEAC (NVM CS 1.0
     * Figure 55), nvme-cli's verify no --deac */
    if (flag(c, F_DEAC))
        return ctl_usage_err(c, "--deac/-d is write-zeroes': a Verify has no DEAC");
    const struct nvme_ns_info *ns = range_ns(c, &fl, &rc);
    if (ns == NULL)
        return rc;
    rc = nvme_verify(c->ctrl, ns->nsid, c->o.num[N_SLBA], c->o.num[N_COUNT], fl);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "verify (NVM Verify command)", rc);
    /* nvme-cli 2.4's verify_cmd line, then the range */
    return range_done(c, ns, "NVME Verify Success", "verified (Verify command)", c->o.num[N_SLBA],
                      c->o.num[N_COUNT]);
}

int ctl_cmd_compare(struct ctl *c)
{
    int rc;
    const struct nvme_ns_info *ns = ctl_need_ns(c, CTL_NS_RANGE, &rc);
    if (ns == NULL)
        return rc;
    uint64_t count = c->o.num[N_COUNT];
    /* --fua / -l (nvme-cli's compare has both, NVM CS 1.0 Figure 23):
     * through nvme_compare_ext, data only as the buffer holds it, so not
     * on a format with metadata (nvme_compare refuses PI-only ones too) */
    unsigned fl = fua_lr(c);
    if (fl != 0 && ns->ms != 0) {
        ctl_out(c->io,
                "%sn%u: format with %u metadata bytes per block: compare --fua/-l not "
                "supported\n",
                ctl_dev(c->io), ns->nsid, ns->ms);
        return NVME_ERR_UNSUPPORTED;
    }
    uint8_t *b = ctl_block_data(c, ns, &rc);
    if (b == NULL)
        return rc;
    if (fl != 0)
        rc = nvme_compare_ext(c->ctrl, ns->nsid, c->o.num[N_SLBA], (uint32_t)count, b, NULL, fl);
    else
        rc = nvme_compare(c->ctrl, ns->nsid, c->o.num[N_SLBA], (uint32_t)count, b);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "compare", rc);
    return range_done(c, ns, NULL, "compared equal:", c->o.num[N_SLBA], count);
}

/* The -s LBA[,LBA..] and -b COUNT[,COUNT..] lists of dsm and copy: each
 * pair to put(v, i, lba, count), at most `max`; how many, 0 after a usage
 * error (printed).  *total: the blocks of all of them. */
static unsigned ctl_range_lists(struct ctl *c, unsigned max, void *v,
                                void (*put)(void *v, unsigned i, uint64_t lba, uint32_t n),
                                uint64_t *total)
{
    const char *sl = c->o.str[S_SLBAS], *bl = c->o.str[S_BLOCKS];
    if (sl == NULL || bl == NULL) {
        ctl_usage_err(c, "-s LBA[,LBA...] and -b COUNT[,COUNT...] are required");
        return 0;
    }
    unsigned nr = 0;
    bool bad = false;
    uint64_t lba, nlb;
    *total = 0;
    while (ctl_next_num(&sl, &lba, &bad)) {
        if (nr == max) {
            ctl_out(c->io, "nvmectl: at most %u ranges\n", max);
            return 0;
        }
        if (!ctl_next_num(&bl, &nlb, &bad) || nlb == 0 || nlb > 0xffffffffu) {
            ctl_usage_err(c, "each -s needs a -b of 1..4294967295 blocks");
            return 0;
        }
        put(v, nr++, lba, (uint32_t)nlb);
        *total += nlb;
    }
    if (bad || nr == 0 || *bl != '\0') {
        ctl_usage_err(c, "-s and -b must be lists of the same length of numbers");
        return 0;
    }
    return nr;
}

/* dsm's and copy's JSON: the device, the command, one value of its own,
 * the ranges and the blocks they name. */
static int ranges_json(struct ctl *c, const struct nvme_ns_info *ns, const char *cmd,
                       const char *key, uint64_t val, unsigned nr, uint64_t total)
{
    char dev[32];
    struct jw w;
    nvme_snprintf(dev, sizeof(dev), "%sn%u", ctl_dev(c->io), ns->nsid);
    jw_begin(&w, c->io);
    jw_str(&w, "device", dev);
    jw_str(&w, "command", cmd);
    jw_str(&w, "result", "success");
    jw_u64(&w, key, val);
    jw_u64(&w, "nr_ranges", nr);
    jw_u64(&w, "blocks", total);
    jw_u64(&w, "bytes", total << ns->lbads);
    jw_end(&w);
    return NVME_OK;
}

static void dsm_put(void *v, unsigned i, uint64_t lba, uint32_t n)
{
    struct nvme_dsm_range *r = (struct nvme_dsm_range *)v + i;
    r->cattr = 0;
    r->nlb = n;
    r->slba = lba;
}

int ctl_cmd_dsm(struct ctl *c)
{
    int rc;
    if (!has(c, N_NSID))
        return ctl_usage_err(c, "-n NSID is required");
    const struct nvme_ns_info *ns = ctl_need_ns(c, 0, &rc);
    if (ns == NULL)
        return rc;
    struct nvme_dsm_range *r = ctl_scratch(c, 0, NVME_DSM_MAX_RANGES * sizeof(*r));
    if (r == NULL)
        return NVME_ERR_NOMEM;
    uint64_t total;
    unsigned nr = ctl_range_lists(c, NVME_DSM_MAX_RANGES, r, dsm_put, &total);
    if (nr == 0)
        return NVME_ERR_INVAL;
    /* -a: nvme-cli's --ctx-attrs, each range's Context Attributes (NVM CS
     * 1.0 Figure 40), 0 past the list; -c: its --cdw11, Dword 11 whole
     * in place of --ad/--idw/--idr when not 0 (AD bit 2, IDW 1, IDR 0;
     * bits 31:3 reserved: refused, as the core refuses them) */
    _Static_assert(1u << F_IDR == NVME_DSM_IDR && 1u << F_IDW == NVME_DSM_IDW &&
                       1u << F_AD == NVME_DSM_AD,
                   "dsm flags are Dword 11's bits");
    uint64_t v, cdw11 = c->o.num[N_CDW11];
    uint32_t attr = cdw11 != 0 ? (uint32_t)cdw11 : c->o.flags & 7u;
    bool bad = cdw11 > 7u;
    unsigned i = 0;
    for (const char *p = c->o.str[S_CTRLS]; p != NULL && ctl_next_num(&p, &v, &bad); i++) {
        bad = i == nr || v > 0xffffffffu;
        if (!bad)
            r[i].cattr = (uint32_t)v;
    }
    if (bad)
        return ctl_usage_err(c, "-a: 32 bits, one per range at most; -c 0..7");
    rc = nvme_dsm(c->ctrl, ns->nsid, attr, r, nr);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "dsm", rc);
    if (c->o.json)
        return ranges_json(c, ns, "dsm", "attributes", attr, nr, total);
    /* nvme-cli 2.4's line, then the ranges (as copy) */
    ctl_out(c->io, "NVMe DSM: success\n%sn%u: dsm%s%s%s: %u range(s), %llu block(s) (%llu bytes)\n",
            ctl_dev(c->io), ns->nsid, (attr & NVME_DSM_AD) ? " deallocate" : "",
            (attr & NVME_DSM_IDR) ? " idr" : "", (attr & NVME_DSM_IDW) ? " idw" : "", nr,
            (unsigned long long)total, (unsigned long long)(total << ns->lbads));
    return NVME_OK;
}

static void copy_put(void *v, unsigned i, uint64_t lba, uint32_t n)
{
    struct nvme_copy_src *r = (struct nvme_copy_src *)v + i;
    r->lba = lba;
    r->count = n;
}

/* nvme-cli's copy: -d SDLBA, -s and -b the source ranges (counts from 1
 * here, as dsm's), -l, -f; up to 256 ranges, split by nvme_copy. */
int ctl_cmd_copy(struct ctl *c)
{
    int rc;
    if (!has(c, N_NSID) || !has(c, N_SDLBA))
        return ctl_usage_err(c, "-n NSID and -d SDLBA are required");
    const struct nvme_ns_info *ns = ctl_need_ns(c, 0, &rc);
    if (ns == NULL)
        return rc;
    struct nvme_copy_src *r = ctl_scratch(c, 0, 256u * sizeof(*r));
    if (r == NULL)
        return NVME_ERR_NOMEM;
    uint64_t total, sdlba = c->o.num[N_SDLBA];
    unsigned nr = ctl_range_lists(c, 256u, r, copy_put, &total);
    if (nr == 0)
        return NVME_ERR_INVAL;
    unsigned fl = fua_lr(c);
    rc = nvme_copy(c->ctrl, ns->nsid, sdlba, r, nr, fl);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "copy", rc);
    if (c->o.json)
        return ranges_json(c, ns, "copy", "sdlba", sdlba, nr, total);
    ctl_out(c->io, "NVMe Copy: success\n%sn%u: %u range(s), %llu block(s) to LBA %llu\n",
            ctl_dev(c->io), ns->nsid, nr, (unsigned long long)total, (unsigned long long)sdlba);
    return NVME_OK;
}

int ctl_cmd_write_zeroes(struct ctl *c)
{
    int rc;
    unsigned fl;
    const struct nvme_ns_info *ns = range_ns(c, &fl, &rc);
    if (ns == NULL)
        return rc;
    rc = nvme_write_zeroes(c->ctrl, ns->nsid, c->o.num[N_SLBA], c->o.num[N_COUNT], fl);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "write-zeroes", rc);
    return range_done(c, ns, "NVME Write Zeroes Success", /* nvme-cli 2.4's */
                      (fl & NVME_IO_DEALLOCATE) ? "zeroed (deallocated)" : "zeroed",
                      c->o.num[N_SLBA], c->o.num[N_COUNT]);
}

/* nvme-cli 2.4's write-uncor: -n, -s START (default 0), -c the 0-based
 * NLB of one command (a 16-bit field: 0..65535, default 0, one block);
 * "NVME Write Uncorrectable Success" as nvme-cli prints it. */
int ctl_cmd_write_uncor(struct ctl *c)
{
    int rc;
    if (has(c, N_COUNT) && c->o.num[N_COUNT] > 0xffffu)
        return ctl_usage_err(c, "-c is the 0-based block count, 0..65535 (as nvme-cli)");
    uint64_t count = has(c, N_COUNT) ? c->o.num[N_COUNT] + 1u : 1u;
    uint64_t slba = has(c, N_SLBA) ? c->o.num[N_SLBA] : 0u;
    const struct nvme_ns_info *ns = ctl_need_ns(c, 0, &rc);
    if (ns == NULL)
        return rc;
    rc = nvme_write_uncorrectable(c->ctrl, ns->nsid, slba, count);
    if (rc != NVME_OK)
        return ctl_fail(c, ns->nsid, "write-uncor", rc);
    return range_done(c, ns, "NVME Write Uncorrectable Success", "made uncorrectable", slba, count);
}
