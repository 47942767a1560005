/* SPDX-License-Identifier: MIT */
#ifndef HARNESS_RAWBENCH_H
#define HARNESS_RAWBENCH_H

#include "osal.h"

/* `rawbench=IOS` (rawbench.c): the controller driven without the core,
 * 4 KiB random reads of NSID 1 at QD1 (IOS/4), QD32 and QD128, polled; one
 * "rawbench: mode=..." line per depth.  Memory from o->dma_alloc, never
 * freed (the harness exits after it).  False on any failure. */
bool rawbench_run(const struct harness_dev *d, const struct nvme_osal *o, unsigned ios);

#endif
