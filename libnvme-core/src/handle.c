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
/* The list is shared by every controller, which the port's locks (one per
 * queue) do not cover: two bring-ups on two CPUs lost a registration, and
 * a walk read a controller another CPU's fini had freed.  A spinlock of
 * its own, held for a list walk (a 32-bit word, which every target
 * exchanges without a library call).  Bounded: an entry check from an
 * interrupt on the CPU that holds it would spin for ever, so after
 * NVME_LIVE_SPINS it goes unchecked (false: nothing taken). */
#define NVME_LIVE_SPINS (1u << 20)
static uint32_t nvme_live_lock;

static bool nvme_live_take(void)
{
    for (uint32_t n = 0; n < NVME_LIVE_SPINS; n++)
        if (__atomic_load_n(&nvme_live_lock, __ATOMIC_RELAXED) == 0 &&
            __atomic_exchange_n(&nvme_live_lock, 1u, __ATOMIC_ACQUIRE) == 0)
            return true;
    return false;
}

static void nvme_live_give(bool taken)
{
    if (taken)
        __atomic_store_n(&nvme_live_lock, 0u, __ATOMIC_RELEASE);
}

/* A change of the list waits for the lock and never goes on without it
 * (before: after NVME_LIVE_SPINS it did, beside another CPU's walk or
 * change, losing a registration or an unlink, and a walk then read the
 * freed controller).  Bring-up and fini never run in an interrupt, so
 * the holder is another CPU's walk or change, which ends. */
void nvme_handle_register(struct nvme_ctrl *ctrl, bool live)
{
    bool taken = false;
    while (!taken)
        taken = nvme_live_take();
    struct nvme_ctrl **p = &nvme_live_ctrls;
    while (*p != NULL && *p != ctrl)
        p = &(*p)->live_next;
    if (live && *p == NULL) {
        ctrl->live_next = NULL;
        *p = ctrl;
    } else if (!live && *p != NULL) {
        *p = ctrl->live_next;
    }
    nvme_live_give(true);
}

bool nvme_handle_ok(const struct nvme_ctrl *ctrl)
{
    bool ok = false, taken = nvme_live_take();
    if (!taken)
        return true; /* see NVME_LIVE_SPINS */
    for (const struct nvme_ctrl *c = nvme_live_ctrls; c != NULL; c = c->live_next)
        if (c == ctrl) {
            ok = ctrl->magic == NVME_CTRL_MAGIC;
            break;
        }
    nvme_live_give(true);
    return ok;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int nvme_handle_unused;
#endif
