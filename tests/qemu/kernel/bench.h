/* SPDX-License-Identifier: MIT */
#ifndef HARNESS_BENCH_H
#define HARNESS_BENCH_H

#include <stddef.h>

#include "nvme/nvme.h"

/* `bench NSID IOS`: 4 KiB random reads, QD1 blocking, QD1 asynchronous,
 * QD32 batched; one "bench: mode=..." line each.  buf: 128 KiB at least. */
int harness_bench(struct nvme_ctrl *ctrl, void *buf, size_t buf_len, uint32_t nsid, unsigned ios);

#endif
