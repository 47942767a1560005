/* SPDX-License-Identifier: MIT */
/*
 * nvme_osal_exos.h - the nvme-core OSAL on the EXOS kernel.
 *
 * One `struct nvme_exos_osal` per controller holds what the callbacks
 * need (BAR0 mapping, PCI address, DMA allocations, interrupt slots, the
 * clock).  nvme_exos_osal_setup() fills it and the `struct nvme_osal`
 * handed to nvme_ctrl_init().
 *
 * What each EXOS service is used for:
 *   MMIO          MapIOMemory (uncached) + volatile 32-bit accesses
 *   DMA memory    DMABufferAllocate(contiguous) - below 4 GiB, page aligned
 *   caller bufs   MapLinearToPhysical, once per 4 KiB piece (the core maps
 *                 per piece not crossing a 4 KiB boundary)
 *   interrupts    MSI-X programmed from the PCI capability; each vector is
 *                 one DeviceInterruptRegister slot (vector 48 + slot).  The
 *                 top half runs nvme_ctrl_handle_irq() right away; the poll
 *                 callback does the same when EXOS runs in polling mode.
 *                 Any failure: 0 vectors, the core polls.
 *   time          GetSystemTime (ms) plus every wait the OSAL made itself,
 *                 because EXOS's clock stands still while interrupts are off
 *                 (PCI probe).  The time of day (the controller's
 *                 Timestamp): GetLocalTime.
 *   locks         interrupt-disabling (SaveFlags/cli/RestoreFlags): the
 *                 completion path runs from the interrupt top half.
 *   logging       KernelLogText, "[NVMeCore] message".
 */
#ifndef NVME_OSAL_EXOS_H
#define NVME_OSAL_EXOS_H

#include "nvme/nvme.h"
#include "exos_api.h"

/* Interrupt vectors asked for at most (admin + I/O queues). */
#define NVME_EXOS_MAX_VECTORS 4u
/* EXOS interrupt slots all controllers together take at most.  Each slot
 * also takes one of the deferred-work items (16) the whole kernel shares:
 * the keyboard, mouse, xHCI, AHCI and the session timer need theirs.
 * Controllers past the budget poll. */
#ifndef NVME_EXOS_IRQ_SLOTS
#define NVME_EXOS_IRQ_SLOTS 4u
#endif

struct nvme_exos_osal;

/* One granted vector: what the EXOS interrupt slot hands back. */
struct nvme_exos_vector {
    struct nvme_exos_osal *osal;
    unsigned index; /* MSI-X table entry = core vector number */
    U8 slot;        /* EXOS DeviceInterrupt slot */
};

/* A DMA allocation, kept to release it (DMABufferRelease needs the
 * descriptor, the core hands back only the address). */
struct nvme_exos_dma {
    DMA_BUFFER buffer;
    void *va; /* aligned address given to the core */
    struct nvme_exos_dma *next;
};

struct nvme_exos_osal {
    /* BAR0 */
    volatile U8 *mmio;
    UINT mmio_size;
    /* PCI address and the device object EXOS knows */
    U8 bus, dev, func;
    LPDEVICE device;

    /* The controller, once nvme_ctrl_init() returned, and the function
     * that reaps a vector (nvme_ctrl_handle_irq; a test may replace it). */
    struct nvme_ctrl *ctrl;
    unsigned (*handle_irq)(struct nvme_ctrl *ctrl, unsigned vector);

    /* DMA allocations still live */
    struct nvme_exos_dma *dma_list;

    /* MSI-X */
    U8 msix_cap;             /* config offset of the capability, 0: none */
    volatile U8 *msix_table; /* mapped table */
    LINEAR msix_map_base;    /* mapping to undo when the table is not in BAR0 */
    UINT msix_map_size;
    unsigned vectors; /* granted */
    struct nvme_exos_vector vec[NVME_EXOS_MAX_VECTORS];
    bool allow_irq; /* false: irq_setup grants nothing */

    /* Clock: see now_us() */
    uint64_t clock_us;
    uint64_t waited_us; /* OSAL waits since the system clock last moved */
    UINT last_sys_ms;
    bool clock_started;

    /* Counters (nvmectl / tests) */
    uint64_t irq_top_half;
    uint64_t irq_polled;
};

/* Fills `o` and `ops` for the controller at bus/dev/func whose BAR0 is
 * mapped at `mmio` (`mmio_size` bytes).  `device` is the EXOS object
 * interrupt slots are registered for. */
void nvme_exos_dma_stop(void *ctx);
void nvme_exos_dma_resume(void *ctx);
void nvme_exos_osal_setup(struct nvme_exos_osal *o, struct nvme_osal *ops, volatile void *mmio,
                          UINT mmio_size, U8 bus, U8 dev, U8 func, LPDEVICE device);

/* The EXOS log type of an informational line: LOG_VERBOSE (console and
 * COM2) at boot, LOG_DEBUG (COM2 only) once the console pages
 * (ConsoleGetPagingActive).  KernelLogText prints a LOG_VERBOSE line on
 * the console with the scheduler frozen (Log.c); a line that meets the
 * pager there sleeps in ConsolePagerWaitLockedRegion, and a frozen
 * Scheduler() wakes no sleeper (Schedule.c): EXOS stops for good, with
 * interrupts let in (IdleCPU: sti; hlt) under whatever lock the caller
 * held.  After boot that is a screenful of lines since the last shell
 * command (ConsoleResetPaging). */
static inline U32 nvme_exos_info_log_type(void)
{
    return ConsoleGetPagingActive() ? LOG_DEBUG : LOG_VERBOSE;
}

/* Tells the OSAL the controller exists (after nvme_ctrl_init). */
void nvme_exos_osal_bind(struct nvme_exos_osal *o, struct nvme_ctrl *ctrl);

/* Frees DMA allocations the core left (after nvme_ctrl_fini or a failed
 * init) and undoes the MSI-X setup if still active. */
void nvme_exos_osal_release(struct nvme_exos_osal *o);

/* The callbacks, exposed for the unit tests. */
uint32_t nvme_exos_mmio_read32(void *ctx, uint32_t off);
void nvme_exos_mmio_write32(void *ctx, uint32_t off, uint32_t val);
void *nvme_exos_dma_alloc(void *ctx, size_t size, size_t align, uint64_t *bus);
void nvme_exos_dma_free(void *ctx, void *va, size_t size);
int nvme_exos_dma_map(void *ctx, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus);
void *nvme_exos_mem_alloc(void *ctx, size_t size);
void nvme_exos_mem_free(void *ctx, void *p, size_t size);
int nvme_exos_irq_setup(void *ctx, unsigned want, bool *is_intx);
void nvme_exos_irq_teardown(void *ctx);
uint64_t nvme_exos_now_us(void *ctx);
uint64_t nvme_exos_wall_clock_ms(void *ctx);
void nvme_exos_sleep_us(void *ctx, uint32_t us);
void nvme_exos_log(void *ctx, enum nvme_log_level level, const char *line);
void *nvme_exos_lock_create(void *ctx);
void nvme_exos_lock_destroy(void *ctx, void *lock);
void nvme_exos_lock(void *ctx, void *lock);
void nvme_exos_unlock(void *ctx, void *lock);

/* EXOS interrupt slot callbacks (exposed for the tests). */
BOOL nvme_exos_isr(LPDEVICE device, LPVOID context);
void nvme_exos_poll(LPDEVICE device, LPVOID context);

#endif /* NVME_OSAL_EXOS_H */
