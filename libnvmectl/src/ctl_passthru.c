/* SPDX-License-Identifier: MIT */
/*
 * ctl_passthru.c - admin-passthru and io-passthru: any command, as nvme-cli's
 * (--opcode, --cdw10..15 as -4..-9, --data-len, --read/--write, the
 * command shown with -s or only shown with -d).  The core decides what it
 * may send and what the command needs around it (nvme_admin_passthru:
 * its own queue commands refused, lengths checked, Format-like effects
 * frozen and rescanned; nvme_io_passthru: the namespace's checks);
 * this file only builds the SQE and prints.
 */
#include "ctl.h"

/* The command as nvme-cli 2.x's -s shows it: its 17 lines, hex without
 * "0x" ("opcode       : 0a"), what nvmectl has no option for (flags,
 * rsvd1, metadata, the timeout) as nvme-cli prints it 0, addr the
 * buffer's address (0: none).  With `w`, the command's dwords as an "sqe"
 * member of its JSON object instead, so the output stays one JSON value. */
static void show_command(const struct ctl *c, struct jw *w, const struct nvme_sqe *s, uint32_t len,
                         const void *buf)
{
    /* nvme-cli's order; fixed[k]: text only, nvme-cli's 0 ("": the address) */
    static const char *const name[] = {
        "opcode",   "flags", "rsvd1", "nsid",  "cdw2",  "cdw3",  "data_len", "metadata_len", "addr",
        "metadata", "cdw10", "cdw11", "cdw12", "cdw13", "cdw14", "cdw15",    "timeout_ms"};
    static const char *const fixed[] = {NULL, "00", "0000", NULL, NULL, NULL, NULL, "00000000", "",
                                        "0",  NULL, NULL,   NULL, NULL, NULL, NULL, "00000000"};
    const uint32_t v[] = {s->opc, 0,        0,        s->nsid,  s->cdw2,  s->cdw3,  len,      0, 0,
                          0,      s->cdw10, s->cdw11, s->cdw12, s->cdw13, s->cdw14, s->cdw15, 0};
    if (w != NULL)
        jw_obj(w, "sqe");
    for (unsigned k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
        if (w != NULL) {
            if (fixed[k] == NULL)
                jw_u64(w, name[k], v[k]);
        } else if (fixed[k] == NULL) {
            ctl_out(c->io, k == 0 ? "%-13s: %02x\n" : "%-13s: %08x\n", name[k], v[k]);
        } else if (fixed[k][0] == '\0') {
            ctl_out(c->io, "%-13s: %llx\n", name[k], (unsigned long long)(uintptr_t)buf);
        } else {
            ctl_out(c->io, "%-13s: %s\n", name[k], fixed[k]);
        }
    }
    if (w != NULL)
        jw_close_obj(w);
}

static int passthru(struct ctl *c, bool io)
{
    const struct nvmectl_io *out = c->io;
    const uint64_t *n = c->o.num;
    if (!has(c, N_OPCODE) || n[N_OPCODE] > 0xffu)
        return ctl_usage_err(c, "-O OPCODE (0..255) is required");
    if (io && (!has(c, N_NSID) || n[N_NSID] == 0))
        return ctl_usage_err(c, "-n NSID is required");
    static const uint8_t dw[] = {N_NSID,  N_CDW2,  N_CDW3,  N_CDW10, N_CDW11,
                                 N_CDW12, N_CDW13, N_CDW14, N_CDW15};
    for (unsigned k = 0; k < sizeof(dw); k++)
        if (n[dw[k]] > 0xffffffffu)
            return ctl_usage_err(c, "-n and the command dwords are 32-bit values");
    if (n[N_LEN] > 4u * 1024u * 1024u)
        return ctl_usage_err(c, "-l is at most 4 MiB");
    /* -p is a byte in either direction (nvme-cli's --prefill, OPT_BYTE):
     * a wider value is refused, not cut to its low byte */
    if (has(c, N_PATTERN) && n[N_PATTERN] > 0xffu)
        return ctl_usage_err(c, "-p/--prefill is a byte (0..255)");
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    struct nvme_sqe sqe;
    nvme_memzero(&sqe, sizeof(sqe));
    sqe.opc = (uint8_t)n[N_OPCODE];
    sqe.nsid = (uint32_t)n[N_NSID];
    sqe.cdw2 = (uint32_t)n[N_CDW2];
    sqe.cdw3 = (uint32_t)n[N_CDW3];
    sqe.cdw10 = (uint32_t)n[N_CDW10];
    sqe.cdw11 = (uint32_t)n[N_CDW11];
    sqe.cdw12 = (uint32_t)n[N_CDW12];
    sqe.cdw13 = (uint32_t)n[N_CDW13];
    sqe.cdw14 = (uint32_t)n[N_CDW14];
    sqe.cdw15 = (uint32_t)n[N_CDW15];
    uint32_t len = (uint32_t)n[N_LEN];
    /* Direction: the opcode's bits 1:0 (NVMe 1.4 §5, Figure 138: 01b
     * host to controller, 10b controller to host, 11b both) and -r / -w
     * added to them, as nvme-cli's (-w on a read opcode: both ways); with
     * data and neither, nvme-cli's "data direction not given": a buffer
     * mapped to the device would be written by a command that reads. */
    bool rd = flag(c, F_READ) || (sqe.opc & 2u) != 0;
    bool wr = flag(c, F_WRITE) || (sqe.opc & 1u) != 0;
    if (len != 0 && !rd && !wr)
        return ctl_usage_err(c, "data direction not given: -r (read) or -w (write) with -l");
    /* -i with a read (no write): nvme-cli's --input-file is the "data
     * input or output file", where the data read goes instead of the
     * dump; a host without files refuses it before anything is sent. */
    const char *to_file = rd && !wr && len != 0 ? c->o.str[S_FILE] : NULL;
    if (to_file != NULL && out->write_file == NULL) {
        ctl_out(out, "nvmectl %s: -i FILE with a read: this host has no files\n", c->cmd);
        return NVME_ERR_UNSUPPORTED;
    }
    bool show = rd && len != 0 && to_file == NULL; /* the data read, shown */
    enum nvme_dma_dir dir = rd && wr ? NVME_DMA_BIDIRECTIONAL
                            : rd     ? NVME_DMA_FROM_DEVICE
                                     : NVME_DMA_TO_DEVICE;
    uint8_t *buf = NULL;
    if (len != 0) {
        buf = ctl_scratch(c, 0, len);
        if (buf == NULL)
            return NVME_ERR_NOMEM;
        /* nvme-cli's --prefill (0 without it) fills the buffer whatever
         * the direction: what a read leaves of it shows in the dump; a
         * write's -i file is read over it (-p no source of its own then,
         * the byte ctl_fill_data fills with). */
        for (uint32_t i = 0; i < len; i++)
            buf[i] = (uint8_t)n[N_PATTERN];
        int rc;
        c->o.has_num &= ~(1ull << N_PATTERN);
        if (wr && c->o.str[S_FILE] != NULL && !ctl_fill_data(c, buf, len, &rc))
            return rc;
    }
    if ((flag(c, F_SHOW) || flag(c, F_DRY)) && !c->o.json)
        show_command(c, NULL, &sqe, len, buf);
    if (flag(c, F_DRY)) {
        if (c->o.json) {
            struct jw w;
            jw_begin(&w, out);
            jw_str(&w, "device", ctl_dev(out));
            show_command(c, &w, &sqe, len, buf);
            jw_str(&w, "result", "dry run: not sent");
            jw_end(&w);
        }
        return NVME_OK;
    }
    uint32_t dw0 = 0;
    int rc = io ? nvme_io_passthru(c->ctrl, &sqe, buf, len, dir, &dw0)
                : nvme_admin_passthru(c->ctrl, &sqe, buf, len, dir, &dw0);
    if (rc != NVME_OK)
        return ctl_fail(c, sqe.nsid, c->cmd, rc);
    const char *name = io ? ctl_io_name(sqe.opc) : ctl_admin_name(sqe.opc);
    if (nvme_streq(name, "Unknown"))
        name = "Vendor Specific"; /* nvme-cli's word */
    if (to_file != NULL) {
        long wn = out->write_file(out->arg, to_file, buf, len);
        if (wn < 0 || (unsigned long)wn != len) {
            ctl_out(out, "%s: failed to write data buffer to '%s'\n", c->cmd, to_file);
            return NVME_ERR_INVAL;
        }
    }
    if (show && ctl_raw(c, buf, len))
        return NVME_OK;
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, out);
        jw_str(&w, "device", ctl_dev(out));
        jw_u64(&w, "opcode", sqe.opc);
        jw_str(&w, "command", name);
        jw_u64(&w, "result", dw0);
        if (flag(c, F_SHOW))
            show_command(c, &w, &sqe, len, buf);
        if (show)
            jw_hex(&w, "data", buf, len);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(out, "%s Command %s is Success and result: 0x%08x\n", io ? "IO" : "Admin", name, dw0);
    if (show)
        ctl_hexdump(out, buf, len, 0);
    return NVME_OK;
}

int ctl_cmd_admin_passthru(struct ctl *c) { return passthru(c, false); }
int ctl_cmd_io_passthru(struct ctl *c) { return passthru(c, true); }
