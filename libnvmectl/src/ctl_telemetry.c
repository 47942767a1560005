/* SPDX-License-Identifier: MIT */
/*
 * ctl_telemetry.c - telemetry-log (nvme-cli 2.x): the Telemetry
 * Host-Initiated log (LID 07h; -g 1, the default, has the controller
 * capture its state first: Create Telemetry Host-Initiated Data, LSP bit
 * 0) or, with -c, the Controller-Initiated log (LID 08h), up to the end of
 * data area -d 1..4 (default 3; 4 needs LPA bit 6 and ETDAS set for the
 * command, then restored), to -O FILE (io->write_file), raw with -b, else
 * as a hex dump.  NVMe 2.0 §5.16.1.8, §5.16.1.9 and §8.24.
 *
 * The header's Data Area Last Blocks come from the device: they must
 * ascend (DA1LB <= DA2LB <= DA3LB, <= DA4LB for area 4) and the log must
 * fit the caller's scratch buffer, or nothing more is read.  Order of
 * NVMe 2.0 §8.24: the header (with Create for -g 1), then the log from
 * offset 0 (the core splits it at MDTS by LPO), then the header again; a
 * generation number that moved means a new capture came between the
 * reads.  LID 08h is read with RAE set every time, as nvme-cli 2.4 (its
 * -r cannot clear it), so that the capture stays: get-log's RAE clear
 * releases it; LID 07h with RAE clear, as libnvme's.
 */
#include "ctl.h"

#define TEL_BLOCK 512u
/* Header (Figures 226/227) */
#define TEL_DALB1 8u        /* Data Area 1/2/3 Last Block: 16 bits each */
#define TEL_DALB4 16u       /* Data Area 4 Last Block: 32 bits */
#define TEL_HOST_GEN 381u   /* Host-Initiated Data Generation Number (LID 07h) */
#define TEL_CTRL_AVAIL 382u /* Controller-Initiated Data Available */
#define TEL_CTRL_GEN 383u   /* Controller-Initiated Data Generation Number */
/* Host Behavior Support (FID 16h, §5.27.1.18) byte 1: ETDAS, Extended
 * Telemetry Data Area 4 Supported */
#define HBS_FID 0x16u
#define HBS_LEN 512u
#define HBS_ETDAS 1u

/* Sets (on) or clears ETDAS in Host Behavior Support; *changed says
 * whether it was set here (nvme-cli restores it after the read). */
static int tel_etdas(struct ctl *c, uint8_t *hbs, bool on, bool *changed)
{
    uint32_t dw0 = 0;
    int rc = nvme_get_feature(c->ctrl, HBS_FID, 0, 0, 0, hbs, HBS_LEN, &dw0);
    if (rc != NVME_OK)
        return rc;
    if ((hbs[HBS_ETDAS] != 0) == on) {
        *changed = false;
        return NVME_OK;
    }
    hbs[HBS_ETDAS] = on ? 1u : 0u;
    rc = nvme_set_feature(c->ctrl, HBS_FID, 0, 0, 0, false, hbs, HBS_LEN, &dw0);
    *changed = rc == NVME_OK;
    return rc;
}

/* The last block of data area `da` by the header in *lb; false, with a
 * message, when the header contradicts itself. */
static bool tel_last_block(struct ctl *c, const uint8_t *hdr, unsigned da, uint32_t *lb)
{
    uint32_t dalb[4];
    for (unsigned i = 0; i < 3; i++)
        dalb[i] = (uint32_t)ctl_le(hdr + TEL_DALB1 + 2 * i, 2);
    dalb[3] = (uint32_t)ctl_le(hdr + TEL_DALB4, 4);
    if (dalb[0] > dalb[1] || dalb[1] > dalb[2] || (da == 4 && dalb[2] > dalb[3])) {
        ctl_out(c->io,
                "telemetry-log: the header's Data Area Last Blocks do not ascend "
                "(DA1LB %u, DA2LB %u, DA3LB %u, DA4LB %u)\n",
                dalb[0], dalb[1], dalb[2], dalb[3]);
        return false;
    }
    *lb = dalb[da - 1];
    return true;
}

#define TEL_NO_DATA "Telemetry Controller-Initiated Data Not Available."

/* no_data: the Controller-Initiated header alone (in JSON a "warning"
 * member, so that the output stays one JSON value) */
static int tel_output(struct ctl *c, uint8_t lid, unsigned da, const uint8_t *log, uint32_t len,
                      bool no_data)
{
    const struct nvmectl_io *io = c->io;
    const char *file = c->o.str[S_FILE];
    if (file != NULL) {
        long n = io->write_file(io->arg, file, log, len);
        if (n < 0 || (unsigned long)n != len) {
            ctl_out(io, "telemetry-log: Failed to write output file %s\n", file);
            return NVME_ERR_INVAL;
        }
        return NVME_OK;
    }
    if (ctl_raw(c, log, len))
        return NVME_OK;
    unsigned gen = lid == NVME_LID_TELEMETRY_HOST ? log[TEL_HOST_GEN] : log[TEL_CTRL_GEN];
    if (c->o.json) {
        struct jw w;
        jw_begin(&w, io);
        jw_str(&w, "device", ctl_dev(io));
        jw_u64(&w, "log_id", lid);
        jw_u64(&w, "data_area", da);
        jw_u64(&w, "generation", gen);
        jw_u64(&w, "length", len);
        if (no_data)
            jw_str(&w, "warning", TEL_NO_DATA);
        jw_hex(&w, "data", log, len);
        jw_end(&w);
        return NVME_OK;
    }
    ctl_out(io, "Telemetry %s-Initiated log of %s: data area %u, generation %u, %u bytes\n",
            lid == NVME_LID_TELEMETRY_HOST ? "Host" : "Controller", ctl_dev(io), da, gen, len);
    ctl_hexdump(io, log, len, 0);
    return NVME_OK;
}

static int tel_get(struct ctl *c, uint8_t lid, unsigned da, uint8_t *hdr)
{
    const struct nvmectl_io *io = c->io;
    bool ctrl_init = lid == NVME_LID_TELEMETRY_CTRL;
    bool create = !ctrl_init && (!has(c, N_HGEN) || c->o.num[N_HGEN] != 0);
    int rc = ctl_get_log(c, lid, create ? NVME_LOG_LSP_TELEMETRY_CREATE : 0, 0, ctrl_init, hdr,
                         TEL_BLOCK);
    if (rc != NVME_OK)
        return ctl_fail(c, NVME_NSID_ALL, "telemetry-log", rc);
    if (ctrl_init && hdr[TEL_CTRL_AVAIL] == 0) {
        /* nvme-cli: the header alone */
        if (!c->o.json)
            ctl_out(io, "Warning: " TEL_NO_DATA "\n");
        return tel_output(c, lid, da, hdr, TEL_BLOCK, true);
    }
    uint32_t lb;
    if (!tel_last_block(c, hdr, da, &lb))
        return NVME_ERR_PROTO;
    if (lb == 0) {
        ctl_out(io, "ERROR: No telemetry data block\n");
        return NVME_ERR_NOENT;
    }
    /* The log, then the header again, after the first header; in 64 bits:
     * DA4LB alone may be 2^32 - 1 blocks. */
    uint64_t len = ((uint64_t)lb + 1u) * TEL_BLOCK;
    uint64_t room = io->buf_len > 2u * TEL_BLOCK + 8u ? io->buf_len - 2u * TEL_BLOCK - 8u : 0;
    if (len > room || len > 0xfffffe00u) {
        ctl_out(io,
                "telemetry-log: data area %u ends at block %u: %llu bytes, more than this "
                "host's %llu-byte buffer takes\n",
                da, lb, (unsigned long long)len, (unsigned long long)room);
        return NVME_ERR_NOMEM;
    }
    uint8_t *log = ctl_scratch(c, TEL_BLOCK, (size_t)len);
    uint8_t *again = ctl_scratch(c, TEL_BLOCK + (size_t)len, TEL_BLOCK);
    if (log == NULL || again == NULL)
        return NVME_ERR_NOMEM;
    rc = ctl_get_log(c, lid, 0, 0, ctrl_init, log, (uint32_t)len);
    if (rc == NVME_OK)
        rc = ctl_get_log(c, lid, 0, 0, ctrl_init, again, TEL_BLOCK);
    if (rc != NVME_OK)
        return ctl_fail(c, NVME_NSID_ALL, "telemetry-log", rc);
    unsigned g = ctrl_init ? TEL_CTRL_GEN : TEL_HOST_GEN;
    if (log[g] != hdr[g] || again[g] != hdr[g]) {
        ctl_out(io,
                "telemetry-log: a new capture came while the log was read (generation %u, "
                "%u, then %u): read it again\n",
                hdr[g], log[g], again[g]);
        return NVME_ERR_PROTO;
    }
    return tel_output(c, lid, da, log, (uint32_t)len, false);
}

int ctl_cmd_telemetry_log(struct ctl *c)
{
    const struct nvmectl_io *io = c->io;
    uint64_t da = has(c, N_DA) ? c->o.num[N_DA] : 3u;
    if (da < 1u || da > 4u)
        return ctl_usage_err(c, "-d DATA-AREA is 1, 2, 3 or 4");
    if (c->o.str[S_FILE] != NULL && io->write_file == NULL) {
        ctl_out(io, "nvmectl telemetry-log: -O FILE: this host has no files (without -O: a "
                    "hex dump, or -b)\n");
        return NVME_ERR_UNSUPPORTED;
    }
    if (c->o.str[S_FILE] != NULL && flag(c, F_RAW))
        return ctl_usage_err(c, "-O FILE or -b, not both");
    if (ctl_raw_check(c) != NVME_OK)
        return NVME_ERR_UNSUPPORTED;
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(c->ctrl);
    if (da == 4u && (info == NULL || !(info->lpa & NVME_LPA_TELEMETRY_DA4))) {
        ctl_out(io, "telemetry-log: Telemetry data area 4 not supported by device\n");
        return NVME_ERR_UNSUPPORTED;
    }
    uint8_t *hdr = ctl_scratch(c, 0, TEL_BLOCK);
    if (hdr == NULL)
        return NVME_ERR_NOMEM;
    bool etdas_set = false;
    if (da == 4u) {
        int rc = tel_etdas(c, hdr, true, &etdas_set);
        if (rc != NVME_OK) {
            ctl_out(io, "telemetry-log: Failed to set ETDAS bit\n");
            return ctl_fail(c, NVME_NSID_ALL, "telemetry-log", rc);
        }
    }
    uint8_t lid = flag(c, F_CTRL_INIT) ? NVME_LID_TELEMETRY_CTRL : NVME_LID_TELEMETRY_HOST;
    int rc = tel_get(c, lid, (unsigned)da, hdr);
    if (etdas_set) {
        bool cleared = false;
        /* hdr is free again: the log went out from after it */
        int rc2 = tel_etdas(c, hdr, false, &cleared);
        if (rc2 != NVME_OK) {
            ctl_out(io, "telemetry-log: Failed to clear ETDAS bit\n");
            if (rc == NVME_OK)
                rc = ctl_fail(c, NVME_NSID_ALL, "telemetry-log", rc2);
        }
    }
    return rc;
}
