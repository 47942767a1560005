/* SPDX-License-Identifier: MIT */
/*
 * nvmectl (hosted) - the shared nvmectl front end (nvmectl.h) driving a
 * simulated controller (osal/hosted-sim) in this process.
 *
 *   nvmectl [host options] [subcommand [args]]
 *
 * Without a subcommand it prints the usage and runs `info` and `list`.
 * The scratch buffer is plain aligned_alloc() memory: the simulator's
 * dma_map registers any buffer the process owns for the duration of one
 * transfer, exactly as a kernel port maps a caller's buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nvme/nvme.h>
#include <nvme/nvmectl.h>

#include "nvme_sim.h"

#define MAX_NS 64
#define SCRATCH_BYTES (1u << 20) /* 1 MiB: read/write up to that per command line */
#define NS1_BYTES (128ull << 20)
#define NS2_BYTES (64ull << 20)

static void host_usage(void)
{
    fputs("usage: nvmectl [--image FILE] [--ns NSID:BLOCKS:LBA_SIZE[:FILE]]... [--lba-size N]\n"
          "               [--mdts N] [--mqes N] [--trace] [subcommand [args]]\n"
          "  Drives a simulated NVMe controller with the nvme-core driver.\n"
          "  default     nsid 1: 128 MiB of 512-byte blocks with an MBR in LBA 0,\n"
          "              nsid 2: 64 MiB of 4096-byte blocks, both in memory\n"
          "  --image F   back nsid 1 with file F (created, 128 MiB, with an MBR, if missing)\n"
          "  --ns SPEC   a namespace nsid:blocks:lba-size[:file]; repeatable, replaces the\n"
          "              default namespaces (nsid 1 stays the --image one if given)\n"
          "  --lba-size  LBA size of the default nsid 1 (512, 4096, ...)\n"
          "  --mdts N    Identify MDTS (2^N pages of 4 KiB, 0 = no limit)\n"
          "  --mqes N    CAP.MQES (0-based maximum queue entries)\n"
          "  --trace     core traces (registers, commands, completions) to stderr\n"
          "subcommands:\n",
          stdout);
}

static void print_cb(void *arg, const char *text)
{
    (void)arg;
    fputs(text, stdout);
}

/* -b/--raw-binary: the bytes as they are (NUL included). */
static void write_raw_cb(void *arg, const void *data, size_t len)
{
    (void)arg;
    fwrite(data, 1, len, stdout);
}

static long read_file_cb(void *arg, const char *path, void *dst, size_t len)
{
    (void)arg;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "nvmectl: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = fread(dst, 1, len, f);
    int err = ferror(f);
    fclose(f);
    return err ? -1 : (long)n;
}

static long write_file_cb(void *arg, const char *path, const void *data, size_t len)
{
    (void)arg;
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "nvmectl: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t n = fwrite(data, 1, len, f);
    int err = fclose(f) != 0 || n != len;
    return err ? -1 : (long)n;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* "nsid:blocks:lba-size[:file]" */
static int parse_ns(char *spec, struct nvme_sim_ns_config *ns)
{
    char *f[4] = {0};
    int n = 0;
    for (char *p = spec; n < 4; n++) {
        f[n] = p;
        p = n < 3 ? strchr(p, ':') : NULL;
        if (!p) {
            n++;
            break;
        }
        *p++ = 0;
    }
    uint64_t nsid, blocks, lba;
    /* LBA size as --lba-size takes it: a power of two, 512 .. 64 KiB (0
     * once divided the MBR's 1 MiB by zero). */
    if (n < 3 || parse_u64(f[0], &nsid) || parse_u64(f[1], &blocks) || parse_u64(f[2], &lba) ||
        nsid == 0 || nsid > 0xfffffffdull || lba < 512 || lba > 65536 || (lba & (lba - 1)) != 0)
        return -1;
    memset(ns, 0, sizeof(*ns));
    ns->nsid = (uint32_t)nsid;
    ns->blocks = blocks;
    ns->lba_size = (uint32_t)lba;
    if (n == 4 && *f[3]) {
        ns->image = f[3];
        ns->create = true;
    }
    return 0;
}

/* A DOS partition table in LBA 0: one Linux partition from 1 MiB to the end. */
static void make_mbr(uint8_t *blk, uint32_t lba_size, uint64_t blocks)
{
    memset(blk, 0, lba_size);
    uint32_t start = (uint32_t)((1u << 20) / lba_size);
    uint64_t count64 = blocks > start ? blocks - start : 0;
    uint32_t count = count64 > 0xffffffffull ? 0xffffffffu : (uint32_t)count64;
    static const uint8_t sig[4] = {'N', 'V', 'M', 'E'};
    memcpy(blk + 0x1b8, sig, 4); /* disk signature */
    uint8_t *pe = blk + 0x1be;
    pe[0] = 0x00;                             /* not bootable */
    pe[1] = 0xfe, pe[2] = 0xff, pe[3] = 0xff; /* CHS: use LBA */
    pe[4] = 0x83;                             /* Linux */
    pe[5] = 0xfe, pe[6] = 0xff, pe[7] = 0xff;
    for (int i = 0; i < 4; i++) {
        pe[8 + i] = (uint8_t)(start >> (8 * i));
        pe[12 + i] = (uint8_t)(count >> (8 * i));
    }
    blk[510] = 0x55;
    blk[511] = 0xaa;
}

int main(int argc, char **argv)
{
    struct nvme_sim_ns_config ns[MAX_NS];
    char *ns_specs[MAX_NS];
    unsigned nspecs = 0;
    const char *image = NULL;
    uint64_t lba_size = 512, v;
    bool trace = false;
    struct nvme_sim_config cfg;
    nvme_sim_config_init(&cfg);
    cfg.serial = "NVC0DE0001";
    cfg.model = "nvme-core simulated controller";
    cfg.firmware = "1.0";

    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        const char *opt = argv[i];
        bool has_arg = i + 1 < argc;
        if (!strcmp(opt, "--trace")) {
            trace = true;
        } else if (!strcmp(opt, "--help")) {
            host_usage();
            return 0;
        } else if (!strcmp(opt, "--image") && has_arg) {
            image = argv[++i];
        } else if (!strcmp(opt, "--ns") && has_arg && nspecs < MAX_NS) {
            ns_specs[nspecs++] = argv[++i];
        } else if (!strcmp(opt, "--lba-size") && has_arg && !parse_u64(argv[++i], &lba_size) &&
                   lba_size >= 512 && lba_size <= 65536 && !(lba_size & (lba_size - 1))) {
            /* parsed */
        } else if (!strcmp(opt, "--mdts") && has_arg && !parse_u64(argv[++i], &v) && v < 16) {
            cfg.mdts = (uint8_t)v;
        } else if (!strcmp(opt, "--mqes") && has_arg && !parse_u64(argv[++i], &v) && v >= 1 &&
                   v <= 0xffff) {
            cfg.mqes = (uint16_t)v;
        } else {
            fprintf(stderr, "nvmectl: bad option %s\n", opt);
            host_usage();
            return 2;
        }
    }

    /* Namespaces: the default pair, or the --ns list; --image backs nsid 1. */
    unsigned n = 0;
    bool image_fresh = false;
    if (image) {
        struct stat sb;
        image_fresh = stat(image, &sb) != 0;
    }
    if (!nspecs) {
        ns[n++] = (struct nvme_sim_ns_config){
            .nsid = 1, .blocks = NS1_BYTES / lba_size, .lba_size = (uint32_t)lba_size};
        ns[n++] = (struct nvme_sim_ns_config){
            .nsid = 2, .blocks = NS2_BYTES / 4096, .lba_size = 4096};
    }
    for (unsigned s = 0; s < nspecs; s++) {
        if (parse_ns(ns_specs[s], &ns[n]) < 0) {
            fprintf(stderr, "nvmectl: bad --ns spec (want nsid:blocks:lba-size[:file])\n");
            return 2;
        }
        n++;
    }
    struct nvme_sim_ns_config *ns1 = NULL;
    for (unsigned k = 0; k < n; k++)
        if (ns[k].nsid == 1)
            ns1 = &ns[k];
    if (image) {
        if (!ns1 && n == MAX_NS) { /* no slot left for the image's NSID 1 */
            fprintf(stderr, "nvmectl: --image is NSID 1: give at most %d other --ns\n", MAX_NS - 1);
            return 2;
        }
        if (!ns1) {
            ns1 = &ns[n++];
            *ns1 = (struct nvme_sim_ns_config){.nsid = 1, .lba_size = (uint32_t)lba_size};
        }
        ns1->image = image;
        ns1->create = true;
        if (!image_fresh)
            ns1->blocks = 0; /* size from the existing file */
        else if (!ns1->blocks)
            ns1->blocks = NS1_BYTES / ns1->lba_size;
    }
    cfg.ns = ns;
    cfg.ns_count = n;

    /* Plausible health: 35 C, a little wear, a few power cycles. */
    cfg.smart.temperature = 308;
    cfg.smart.avail_spare = 100;
    cfg.smart.spare_thresh = 10;
    cfg.smart.percent_used = 1;
    cfg.smart.power_cycles.lo = 42;
    cfg.smart.power_on_hours.lo = 1337;
    cfg.smart.unsafe_shutdowns.lo = 3;
    cfg.smart.data_units_read.lo = 123456;
    cfg.smart.data_units_written.lo = 65432;
    cfg.smart.host_reads.lo = 2345678;
    cfg.smart.host_writes.lo = 1234567;
    cfg.smart.busy_time.lo = 17;
    cfg.smart.temp_sensor[0] = 308;
    cfg.smart.temp_sensor[1] = 312;
    if (trace)
        cfg.log_level = NVME_LOG_TRACE;

    struct nvme_sim *sim = nvme_sim_create(&cfg);
    if (!sim)
        return 1;

    /* LBA 0 of nsid 1 holds an MBR, unless it is an existing image. */
    if (ns1 && (!ns1->image || image_fresh)) {
        uint8_t *blk = calloc(1, ns1->lba_size);
        if (blk) {
            make_mbr(blk, ns1->lba_size, ns1->blocks);
            nvme_sim_ns_write(sim, 1, 0, 1, blk);
            free(blk);
        }
    }

    struct nvme_osal osal;
    nvme_sim_osal(sim, &osal);
    struct nvme_ctrl_opts opts = {0};
    if (trace)
        opts.trace = NVME_TRACE_REGS | NVME_TRACE_SQE | NVME_TRACE_CQE | NVME_TRACE_STATUS |
                     NVME_TRACE_INIT;
    struct nvme_ctrl *ctrl = NULL;
    int rc = nvme_ctrl_init(&ctrl, &osal, &opts);
    if (rc) {
        fprintf(stderr, "nvmectl: controller init failed: %s (%d)\n",
                rc < 0 ? nvme_strerror(rc) : nvme_status_name((uint16_t)rc), rc);
        nvme_sim_destroy(sim);
        return 1;
    }
    nvme_sim_set_irq_handler(sim, nvme_ctrl_handle_irq, ctrl);

    void *scratch = aligned_alloc(4096, SCRATCH_BYTES);
    struct nvmectl_io io = {.print = print_cb,
                            .arg = NULL,
                            .buf = scratch,
                            .buf_len = scratch ? SCRATCH_BYTES : 0,
                            .read_file = read_file_cb,
                            .dev_name = "nvme0",
                            .write_raw = write_raw_cb,
                            .write_file = write_file_cb};
    if (i >= argc) {
        host_usage();
        nvmectl_usage(&io);
        fputs("\n", stdout);
        char info[] = "info", list[] = "list";
        char *a1[] = {info, NULL}, *a2[] = {list, NULL};
        rc = nvmectl_main(ctrl, &io, 1, a1);
        if (!rc) {
            fputs("\n", stdout);
            rc = nvmectl_main(ctrl, &io, 1, a2);
        }
    } else {
        rc = nvmectl_main(ctrl, &io, argc - i, argv + i);
    }
    /* Output that did not reach stdout (a full disk): the command failed. */
    int out_err = fflush(stdout) != 0 || ferror(stdout);
    if (out_err)
        fprintf(stderr, "nvmectl: writing the output failed\n");

    /* A shutdown that did not complete: writes may not be committed. */
    int frc = nvme_ctrl_fini(ctrl);
    if (frc != 0)
        fprintf(stderr, "nvmectl: controller shutdown not complete: %s\n", nvme_strerror(frc));
    free(scratch);
    int status = rc || frc || out_err ? 1 : 0;
    if (nvme_sim_dma_violations(sim) || nvme_sim_host_errors(sim) || nvme_sim_dma_live(sim)) {
        fprintf(stderr,
                "nvmectl: simulator found driver bugs: %llu DMA violations, %llu host "
                "errors, %zu DMA buffers not freed\n",
                (unsigned long long)nvme_sim_dma_violations(sim),
                (unsigned long long)nvme_sim_host_errors(sim), nvme_sim_dma_live(sim));
        status = 3;
    }
    nvme_sim_destroy(sim);
    return status;
}
