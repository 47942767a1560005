/* SPDX-License-Identifier: MIT */
#ifndef HARNESS_BENCH_H
#define HARNESS_BENCH_H

#include <stddef.h>

#include "nvme/nvme.h"

/* `bench NSID IOS [MODE...]` on every running CPU at once (bench.c): one
 * "bench: mode=..." line per mode.  buf: 1 MiB at least (shared by the
 * CPUs: the data is not looked at). */
int harness_bench(struct nvme_ctrl *ctrl, void *buf, size_t buf_len, uint32_t nsid, unsigned ios,
                  const char *modes);

/* Commands of a failed bench run still in flight, after a bounded drain
 * (0 at once when none): the I/O buffer is the device's until they
 * complete (nvme.h rule 1), so no command may reuse it meanwhile. */
unsigned harness_bench_owed(struct nvme_ctrl *ctrl);

#endif
