/* SPDX-License-Identifier: MIT */
/*
 * handle.c - the controller handles that are alive, for the entry checks
 * of debug builds (nvme.h, lifecycle rule 7): with NVME_DEBUG, fini twice
 * or I/O after fini returns NVME_ERR_STATE instead of reading freed
 * memory.  At the bottom of the core: every public entry may ask.
 */
#include "nvme_internal.h"

#ifdef NVME_DEBUG
/* A list through the controllers themselves: no bound on how many a
 * host drives (a table of 16 failed the seventeenth's bring-up). */
static struct nvme_ctrl *nvme_live_ctrls;

void nvme_handle_register(struct nvme_ctrl *ctrl, bool live)
{
    struct nvme_ctrl **p = &nvme_live_ctrls;
    while (*p != NULL && *p != ctrl)
        p = &(*p)->live_next;
    if (live && *p == NULL) {
        ctrl->live_next = NULL;
        *p = ctrl;
    } else if (!live && *p != NULL) {
        *p = ctrl->live_next;
    }
}

bool nvme_handle_ok(const struct nvme_ctrl *ctrl)
{
    for (const struct nvme_ctrl *c = nvme_live_ctrls; c != NULL; c = c->live_next)
        if (c == ctrl)
            return ctrl->magic == NVME_CTRL_MAGIC;
    return false;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int nvme_handle_unused;
#endif
