/* SPDX-License-Identifier: MIT */
/*
 * nvmectl.h - the one nvmectl front end, shared by the hosted program,
 * the QEMU harness kernel and the EXOS shell command.  Freestanding: it
 * prints through a callback and owns no memory.
 *
 * Commands (nvme-cli 2.x names, options and JSON keys where one has the
 * same meaning; `nvmectl help` lists them with their options, README.md
 * sets them beside nvme-cli's):
 *   info, ready, list, smart          the first eight, kept as they were,
 *   read, write [--fua], flush,       `write-verify` is nvmectl's
 *   write-verify                      write/read-back self-test
 *   id-ctrl [-H], id-ns -n [-H], ns-descs, list-ns [--all], list-ctrl,
 *   get-ns-id, ns-rescan, show-regs [-H]
 *   get-feature -f FID [-s SEL], set-feature -f FID [-v V] [--save]
 *   smart-log [-H], error-log, fw-log, changed-ns-list-log, effects-log,
 *   self-test-log [-v], sanitize-log [-H], get-log -i LID -l LEN [--lpo OFF] [--rae],
 *   persistent-event-log -a 0|1|2
 *   telemetry-log [-O FILE] [-g 0|1] [-c] [-d 1-4] [-r] [-b]
 *   supported-log-pages [-v], endurance-log -g ID, ana-log [-g] (NVMe 2.0)
 *   primary-ctrl-caps, list-secondary, id-iocs, nvm-id-ctrl, nvm-id-ns -n
 *   (Identify CNS 14h, 15h, 1Ch, 06h, 05h)
 *   (-b/--raw-binary on every log command above, resv-report, the
 *   Identify commands of NVMe 2.0 and zns, and the passthru ones: the
 *   raw data through io->write_raw)
 *   verify (also nvm-verify), compare, dsm --ad -s LBAS -b COUNTS, copy, write-zeroes
 *   [--deac], write-uncor
 *   format, device-self-test, sanitize, fw-download, fw-commit, reset,
 *   subsystem-reset, create-ns, delete-ns, attach-ns, detach-ns (format,
 *   sanitize but for exit-failure, fw-commit, subsystem-reset and
 *   delete-ns refuse without --force, which passes NVME_CONFIRM_DESTROY)
 *   admin-passthru, io-passthru
 *   resv-register, resv-acquire, resv-release, resv-report (ONCS bit 5)
 *   report-zones, zone-mgmt-send, zone-append (also as "zns <cmd>"),
 *   zns id-ctrl, zns id-ns -n (Identify CNS 06h, 05h CSI 02h), zns
 *   open-zone, close-zone, finish-zone, reset-zone, offline-zone ("zns X"
 *   runs zns-X where there is one, else X)
 * As nvme-cli's, the first word after the command (after both words of
 * "zns X") that is no option nor an option's value, before the options or
 * after them, may name the device: the controller, io->dev_name or
 * /dev/<dev_name>, or one of its namespaces, <dev_name>n<NSID>.  A
 * namespace device gives the NSID where nvme-cli 2.4 asks the device for
 * one when -n is left out (id-ns, read, write, ..., get-feature), -n given
 * winning; other commands run as on the controller.  Another controller's
 * device or a malformed word is a usage error.
 * Every command takes -o normal|json.  Unlike nvme-cli, -c counts blocks
 * from 1, not from 0 (write-uncor aside, which keeps nvme-cli's 0-based
 * NLB).  Freestanding and allocation free: structures and
 * data go through the caller's scratch buffer (io->buf).
 */
#ifndef NVMECTL_H
#define NVMECTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvme/nvme.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvmectl_io {
    /* Prints text (may hold several lines, '\n' separated). */
    void (*print)(void *arg, const char *text);
    void *arg;
    /* Scratch buffer for data and for the structures the commands read
     * (Identify, logs; id-ctrl needs about 6 KiB): dword aligned, mappable
     * by the OSAL's dma_map.  Transfers larger than it are refused. */
    void *buf;
    size_t buf_len;
    /* OPTIONAL: fill dst with up to len bytes of file `path`; returns the
     * bytes read or < 0.  NULL where the host has no files (write -f is
     * then refused). */
    long (*read_file)(void *arg, const char *path, void *dst, size_t len);
    /* Device name prefix used by list, e.g. "nvme0" gives nvme0n1. */
    const char *dev_name;
    /* OPTIONAL: writes `len` bytes as they are (NUL bytes included) where
     * print would write text: -b/--raw-binary (raw log pages, like
     * nvme-cli's).  NULL where the output takes text only (-b is then
     * refused before any command is sent). */
    void (*write_raw)(void *arg, const void *data, size_t len);
    /* OPTIONAL: creates or truncates file `path` and writes the `len`
     * bytes of data; returns the bytes written or < 0.  NULL where the
     * host has no files (telemetry-log -O is then refused). */
    long (*write_file)(void *arg, const char *path, const void *data, size_t len);
};

/* Runs one command.  argv[0] is the subcommand ("info", ...).  Returns 0
 * on success, else a nonzero value (the failing nvme_* result, or
 * NVME_ERR_INVAL for a usage error, which prints what is wrong, and the
 * usage for an unknown command or option). */
int nvmectl_main(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, int argc, char **argv);

/* Splits `line` in place at blanks (at most 24 words) and runs it with
 * nvmectl_main().  A leading "nvmectl" word is skipped. */
int nvmectl_run_line(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, char *line);

/* nvme-cli's `nvme list` over several controllers: one table (one
 * header, one total; -o json: one "Devices" array) of every namespace of
 * ctrls[0..n), the rows of ctrls[i] named after names[i] ("nvme1" gives
 * nvme1n1, ...; a NULL name, "nvme<i>"); NULL controllers are skipped.
 * `line` as nvmectl_run_line's, its command "list" (nvmectl_main's list
 * is this for one controller). */
int nvmectl_list_all(struct nvme_ctrl *const *ctrls, const char *const *names, unsigned n,
                     const struct nvmectl_io *io, char *line);

/* Where the device word of a command line (as nvmectl_run_line takes
 * it, of any length, left unchanged) starts: the first word that is no
 * option nor an option's value of its command, as nvmectl_main reads
 * them; *len its length.  NULL when there is none (or no line or len),
 * or when the command is unknown or left out of the build, an option
 * unknown or the line more than 24 words (nvmectl_main then says what is
 * wrong).  For a shell that picks the controller of the device before it
 * runs nvmectl. */
const char *nvmectl_device_word(const char *line, size_t *len);

/* Prints the usage text (nothing without io or io->print). */
void nvmectl_usage(const struct nvmectl_io *io);

/* Parses an unsigned number the way nvmectl reads its options, as
 * nvme-cli's (strtoull base 0): 0x-prefixed hexadecimal, 0-prefixed octal
 * ("010" is 8), else decimal.  Returns false (and leaves *v alone) for an
 * empty string, a stray character (a sign, a space, "08", "12k") or a
 * value above UINT64_MAX. */
bool nvmectl_parse_u64(const char *s, uint64_t *v);

#ifdef __cplusplus
}
#endif

#endif /* NVMECTL_H */
