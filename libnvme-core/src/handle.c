/* SPDX-License-Identifier: MIT */
/*
 * handle.c - the controller handles that are alive, for the entry checks
 * of debug builds (nvme.h, lifecycle rule 7): with NVME_DEBUG, fini twice
 * or I/O after fini returns NVME_ERR_STATE instead of reading freed
 * memory.  At the bottom of the core: every public entry may ask.
 */
#include "nvme_internal.h"

#ifdef NVME_DEBUG
#define NVME_DEBUG_MAX_CTRLS 16u
static struct nvme_ctrl *nvme_live_ctrls[NVME_DEBUG_MAX_CTRLS];

void nvme_handle_register(struct nvme_ctrl *ctrl, bool live)
{
    for (unsigned i = 0; i < NVME_DEBUG_MAX_CTRLS; i++)
        if (nvme_live_ctrls[i] == (live ? NULL : ctrl)) {
            nvme_live_ctrls[i] = live ? ctrl : NULL;
            return;
        }
}

bool nvme_handle_ok(const struct nvme_ctrl *ctrl)
{
    for (unsigned i = 0; i < NVME_DEBUG_MAX_CTRLS; i++)
        if (nvme_live_ctrls[i] == ctrl && ctrl != NULL)
            return ctrl->magic == NVME_CTRL_MAGIC;
    return false;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int nvme_handle_unused;
#endif
