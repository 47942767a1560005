/* SPDX-License-Identifier: MIT */
/*
 * nvmectl.h - the one nvmectl front end, shared by the hosted program,
 * the QEMU harness kernel and the EXOS shell command.  Freestanding: it
 * prints through a callback and owns no memory.
 *
 * Commands (field names follow nvme-cli where one has the same meaning):
 *   info                         controller registers and Identify data
 *   ready                        whether the controller is up
 *   list                         every active namespace
 *   smart                        SMART / Health Information log
 *   read  -n NSID -s LBA [-c N]  hex dump of N blocks (default 1)
 *   write -n NSID -s LBA [-c N] (-p BYTE | -t TEXT | -f FILE)
 *                                write N blocks of a byte pattern, of a
 *                                text signature (zero padded), or of a
 *                                file's bytes (when the host can read files)
 *   flush -n NSID                Flush (volatile write cache to media)
 *   verify -n NSID -s LBA -c N [-k SEED]
 *                                write a pattern unique to each block and
 *                                SEED, read it back, compare (a self-test)
 * Unlike nvme-cli, -c counts blocks from 1, not from 0.
 */
#ifndef NVMECTL_H
#define NVMECTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme/nvme.h"

struct nvmectl_io {
    /* Prints text (may hold several lines, '\n' separated). */
    void (*print)(void *arg, const char *text);
    void *arg;
    /* Scratch buffer for read/write/verify/smart: dword aligned, mappable
     * by the OSAL's dma_map.  Transfers larger than it are refused. */
    void *buf;
    size_t buf_len;
    /* OPTIONAL: fill dst with up to len bytes of file `path`; returns the
     * bytes read or < 0.  NULL where the host has no files (write -f is
     * then refused). */
    long (*read_file)(void *arg, const char *path, void *dst, size_t len);
    /* Device name prefix used by list, e.g. "nvme0" gives nvme0n1. */
    const char *dev_name;
};

/* Runs one command.  argv[0] is the subcommand ("info", ...).  Returns 0
 * on success, else a nonzero value (the failing nvme_* result, or
 * NVME_ERR_INVAL for a usage error, which also prints the usage). */
int nvmectl_main(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, int argc, char **argv);

/* Splits `line` in place at blanks (at most 16 words) and runs it with
 * nvmectl_main().  A leading "nvmectl" word is skipped. */
int nvmectl_run_line(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, char *line);

/* Prints the usage text. */
void nvmectl_usage(const struct nvmectl_io *io);

/* Parses a decimal or 0x-prefixed hexadecimal unsigned number, the way
 * nvmectl reads its options.  Returns false (and leaves *v alone) for an
 * empty string, a stray character or a value above UINT64_MAX. */
bool nvmectl_parse_u64(const char *s, uint64_t *v);

#endif /* NVMECTL_H */
