/* SPDX-License-Identifier: MIT */
/*
 * nvme_osal_exos.c - struct nvme_osal on EXOS kernel services.
 * Contract: libnvme-core/include/nvme/nvme_osal.h.  Choices: nvme_osal_exos.h.
 */
#include "nvme_osal_exos.h"
#include "nvme_exos_pcicfg.h"

#define NVME_EXOS_DMA_TAG TEXT("NVMeCore")

/* MSI-X capability (PCI Local Bus 3.0 §6.8.2) */
#define MSIX_CTRL 0x02 /* Message Control, 16 bits */
#define MSIX_CTRL_ENABLE 0x8000u
#define MSIX_CTRL_FMASK 0x4000u
#define MSIX_CTRL_SIZE_MASK 0x07FFu
#define MSIX_TABLE 0x04   /* Table Offset / BIR, 32 bits */
#define MSIX_CAP_SIZE 12u /* ID .. PBA Offset/BIR */
#define PCI_CFG_SIZE 256u /* EXOS: CF8h/CFCh access only, no extended space */
#define MSIX_ENTRY_SIZE 16u
#define MSIX_ENTRY_ADDR_LO 0x0
#define MSIX_ENTRY_ADDR_HI 0x4
#define MSIX_ENTRY_DATA 0x8
#define MSIX_ENTRY_CTRL 0xC
#define MSIX_ENTRY_CTRL_MASKED 0x1u
/* x86 MSI address: 0xFEE00000 | destination APIC ID << 12 (fixed, physical) */
#define X86_MSI_ADDR_BASE 0xFEE00000u

#define X86_EFLAGS_IF 0x200u

static struct nvme_exos_osal *osal_of(void *ctx) { return (struct nvme_exos_osal *)ctx; }

/* --- MMIO ---------------------------------------------------------------- */

static inline void compiler_barrier(void) { __asm__ __volatile__("" ::: "memory"); }

uint32_t nvme_exos_mmio_read32(void *ctx, uint32_t off)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    uint32_t v = *(volatile uint32_t *)(o->mmio + off);
    compiler_barrier(); /* readl(): x86 loads are not reordered with later loads */
    return v;
}

void nvme_exos_mmio_write32(void *ctx, uint32_t off, uint32_t val)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    compiler_barrier(); /* writel(): SQE/PRP stores issued before the doorbell (x86 TSO) */
    *(volatile uint32_t *)(o->mmio + off) = val;
}

/* --- DMA ------------------------------------------------------------------ */

void *nvme_exos_dma_alloc(void *ctx, size_t size, size_t align, uint64_t *bus)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    struct nvme_exos_dma *rec;
    UINT extra = 0;
    UINT offset = 0;

    if (size == 0 || bus == NULL || (align & (align - 1)) != 0)
        return NULL;
    /* DMABufferAllocate gives whole, page-aligned pages; a larger
     * alignment is obtained by over-allocating. */
    if (align > N_4KB)
        extra = (UINT)align;
    rec = (struct nvme_exos_dma *)KernelHeapAlloc(sizeof(*rec));
    if (rec == NULL)
        return NULL;
    MemorySet(rec, 0, sizeof(*rec));
    if (!DMABufferAllocate(&rec->buffer, (UINT)size + extra, TRUE, NVME_EXOS_DMA_TAG)) {
        KernelHeapFree(rec);
        KernelLogText(LOG_WARNING,
                      TEXT("[nvme_exos_dma_alloc] DMABufferAllocate failed (%u bytes)"),
                      (UINT)size);
        return NULL;
    }
    if (rec->buffer.LinearBase == 0 || rec->buffer.PhysicalBase == 0) {
        DMABufferRelease(&rec->buffer);
        KernelHeapFree(rec);
        return NULL;
    }
    if (extra != 0)
        offset = (UINT)((align - (rec->buffer.PhysicalBase & (align - 1))) & (align - 1));
    rec->va = (void *)(rec->buffer.LinearBase + offset);
    *bus = (uint64_t)(rec->buffer.PhysicalBase + offset);
    rec->next = o->dma_list;
    o->dma_list = rec;
    return rec->va;
}

void nvme_exos_dma_free(void *ctx, void *va, size_t size)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    struct nvme_exos_dma **pp;

    (void)size;
    for (pp = &o->dma_list; *pp != NULL; pp = &(*pp)->next) {
        struct nvme_exos_dma *rec = *pp;
        if (rec->va == va) {
            *pp = rec->next;
            DMABufferRelease(&rec->buffer);
            KernelHeapFree(rec);
            return;
        }
    }
    KernelLogText(LOG_WARNING, TEXT("[nvme_exos_dma_free] Unknown DMA address %p"), va);
}

int nvme_exos_dma_map(void *ctx, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus)
{
    LINEAR lin = (LINEAR)va;
    PHYSICAL phys;

    (void)ctx;
    (void)dir; /* x86: coherent DMA, nothing to clean */
    if (va == NULL || bus == NULL || len == 0)
        return -1;
    phys = MapLinearToPhysical(lin);
    if (phys == 0)
        return -1;
    /* The core maps pieces that do not cross a controller memory page
     * boundary: 4 KiB, or more when CAP.MPSMIN asks (a 64 KiB page is 16
     * of ours).  A piece over several pages must be physically contiguous,
     * every page of it, not just its two ends. */
    if ((lin & (N_4KB - 1)) + len > N_4KB) {
        LINEAR last = lin + (LINEAR)len - 1;
        if (MapLinearToPhysical(last) != phys + (PHYSICAL)(len - 1))
            return -1;
        for (LINEAR page = (lin & ~(LINEAR)(N_4KB - 1)) + N_4KB;
             page < (last & ~(LINEAR)(N_4KB - 1)); page += N_4KB)
            if (MapLinearToPhysical(page) != phys + (PHYSICAL)(page - lin))
                return -1;
    }
    *bus = (uint64_t)phys;
    return 0;
}

/* --- Bookkeeping memory ---------------------------------------------------- */

void *nvme_exos_mem_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (size == 0)
        size = 1;
    return KernelHeapAlloc((UINT)size);
}

void nvme_exos_mem_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    if (p != NULL)
        KernelHeapFree(p);
}

/* --- Interrupts ------------------------------------------------------------- */

static void reap_vector(struct nvme_exos_osal *o, unsigned index)
{
    if (o->ctrl != NULL && o->handle_irq != NULL)
        o->handle_irq(o->ctrl, index);
}

/* Top half: MSI-X is edge triggered and needs no acknowledge, so the
 * completions are reaped here, with interrupts off (the OSAL's locks
 * disable interrupts, so the core's rings are consistent).  No bottom half
 * is needed: FALSE. */
BOOL nvme_exos_isr(LPDEVICE device, LPVOID context)
{
    struct nvme_exos_vector *v = (struct nvme_exos_vector *)context;
    (void)device;
    if (v == NULL || v->osal == NULL)
        return FALSE;
    v->osal->irq_top_half++;
    reap_vector(v->osal, v->index);
    return FALSE;
}

/* Poll callback (EXOS polling mode, or no interrupt arrived): same work. */
void nvme_exos_poll(LPDEVICE device, LPVOID context)
{
    struct nvme_exos_vector *v = (struct nvme_exos_vector *)context;
    UINT flags;
    (void)device;
    if (v == NULL || v->osal == NULL)
        return;
    SaveFlags(&flags);
    DisableInterrupts();
    v->osal->irq_polled++;
    RestoreFlags(&flags);
    reap_vector(v->osal, v->index);
}

static void msix_write_ctrl(struct nvme_exos_osal *o, U16 value)
{
    PCI_Write16(o->bus, o->dev, o->func, (U16)(o->msix_cap + MSIX_CTRL), value);
}

static U16 msix_read_ctrl(struct nvme_exos_osal *o)
{
    return PCI_Read16(o->bus, o->dev, o->func, (U16)(o->msix_cap + MSIX_CTRL));
}

static void msix_entry_write(struct nvme_exos_osal *o, unsigned entry, unsigned reg, U32 value)
{
    *(volatile U32 *)(o->msix_table + entry * MSIX_ENTRY_SIZE + reg) = value;
}

/* Whether register `bir` starts a BAR: not the upper half of a 64-bit
 * memory BAR before it, which takes two registers (PCI 3.0 §6.2.5.1).
 * A BIR naming an upper half would have its dword read as a BAR (a base
 * of a few bytes) and sized, moving the live BAR below it. */
static bool bar_starts_at(struct nvme_exos_osal *o, unsigned bir)
{
    unsigned i = 0;
    while (i < bir) {
        U32 raw = PCI_Read32(o->bus, o->dev, o->func, (U16)(PCI_CFG_BAR0 + 4 * i));
        i += !PCI_BAR_IS_IO(raw) && ((raw >> 1) & 0x3u) == 0x2u ? 2u : 1u;
    }
    return i == bir;
}

/* Find and map the MSI-X table; false when it cannot be used. */
static bool msix_map_table(struct nvme_exos_osal *o, unsigned entries)
{
    U32 table = PCI_Read32(o->bus, o->dev, o->func, (U16)(o->msix_cap + MSIX_TABLE));
    unsigned bir = table & 0x7u;
    UINT offset = (UINT)(table & ~0x7u);
    UINT span = (UINT)entries * MSIX_ENTRY_SIZE;
    PHYSICAL base, start;
    struct nvme_exos_bar bar = {0, 0, false, false};
    uint64_t bar_size;
    LINEAR lin;

    /* The table lies inside its BAR (PCI 3.0 §6.8.2): one the device puts
     * past the end would have the vectors written over other memory.
     * BAR0 is mapped (its first mmio_size bytes, nvme_exos_pci.c); another
     * BAR is sized here (decode off meanwhile, nvme_exos_pcicfg.c).  BIR 6
     * and 7 are reserved. */
    if (bir > 5 || !bar_starts_at(o, bir))
        return false;
    if (bir == 0) {
        bar_size = o->mmio_size;
    } else {
        if (!nvme_exos_bar_probe(o->bus, o->dev, o->func, bir, &bar))
            return false;
        bar_size = bar.size;
    }
    if (span > bar_size || offset > bar_size - span)
        return false;
    if (bir == 0) {
        o->msix_table = o->mmio + offset;
        return true;
    }
    /* x86-32: PHYSICAL is 32 bits, nothing above 4 GiB can be mapped. */
    if (bar.base == 0 || bar.base > (uint64_t)(PHYSICAL) ~(PHYSICAL)0 ||
        (uint64_t)offset + span - 1u > (uint64_t)(PHYSICAL) ~(PHYSICAL)0 - bar.base)
        return false;
    base = (PHYSICAL)bar.base;
    start = (base + offset) & ~(PHYSICAL)(N_4KB - 1);
    o->msix_map_size = (UINT)(((base + offset + span) - start + N_4KB - 1) & ~(N_4KB - 1));
    lin = MapIOMemory(start, o->msix_map_size);
    if (lin == 0)
        return false;
    o->msix_map_base = lin;
    o->msix_table = (volatile U8 *)(lin + (LINEAR)((base + offset) - start));
    return true;
}

static void msix_unmap_table(struct nvme_exos_osal *o)
{
    if (o->msix_map_base != 0)
        UnMapIOMemory(o->msix_map_base, o->msix_map_size);
    o->msix_map_base = 0;
    o->msix_map_size = 0;
    o->msix_table = NULL;
}

/* Slots held by every controller (NVME_EXOS_IRQ_SLOTS): at two per
 * controller, four controllers and the glue's timer left EXOS no
 * deferred-work item, and its boot stopped before the shell. */
static unsigned irq_slots_held;

/* The slots looked at, taken and counted in one step, interrupts off
 * (EXOS's one CPU, as nvme_exos_lock_gone; the PCI probe runs so): a
 * controller's reset in another task (admin only at bring-up, vectors
 * set up at a reset: recovery.c) may set up its own meanwhile, and
 * EXOS's DeviceInterruptRegister takes a free slot without a lock.
 * Before: both saw the same slots free and took them, past
 * NVME_EXOS_IRQ_SLOTS.  Nothing here sleeps; the table is mapped before
 * (and unmapped after, when no vector is had), interrupts on. */
static int irq_take_slots(struct nvme_exos_osal *o, unsigned n, U16 ctrl)
{
    unsigned i;
    U32 apic;

    if (n > NVME_EXOS_IRQ_SLOTS - irq_slots_held)
        n = NVME_EXOS_IRQ_SLOTS - irq_slots_held;
    if (n == 0) {
        KernelLogText(nvme_exos_info_log_type(),
                      TEXT("[nvme_exos_irq_setup] Interrupt slots of nvme-core used up (%u), "
                           "core polls"),
                      (UINT)NVME_EXOS_IRQ_SLOTS);
        return 0;
    }

    /* Function masked while the table is written. */
    msix_write_ctrl(o, (U16)((ctrl | MSIX_CTRL_FMASK) & ~MSIX_CTRL_ENABLE));
    apic = (U32)GetLocalAPICId();
    for (i = 0; i < n; i++) {
        DEVICE_INTERRUPT_REGISTRATION reg;
        U8 slot = DEVICE_INTERRUPT_INVALID_SLOT;

        o->vec[i].osal = o;
        o->vec[i].index = i;
        MemorySet(&reg, 0, sizeof(reg));
        reg.Device = o->device;
        reg.LegacyIRQ = 0xFF; /* message signalled: no IOAPIC routing */
        reg.TargetCPU = 0;
        reg.InterruptHandler = nvme_exos_isr;
        reg.DeferredCallback = NULL;
        reg.PollCallback = nvme_exos_poll;
        reg.Context = &o->vec[i];
        reg.Name = TEXT("nvme-core");
        if (!DeviceInterruptRegister(&reg, &slot) || slot == DEVICE_INTERRUPT_INVALID_SLOT) {
            KernelLogText(
                LOG_WARNING,
                TEXT("[nvme_exos_irq_setup] DeviceInterruptRegister failed for vector %u"),
                (UINT)i);
            break;
        }
        o->vec[i].slot = slot;
        msix_entry_write(o, i, MSIX_ENTRY_ADDR_LO, X86_MSI_ADDR_BASE | (apic << 12));
        msix_entry_write(o, i, MSIX_ENTRY_ADDR_HI, 0);
        msix_entry_write(o, i, MSIX_ENTRY_DATA, (U32)GetDeviceInterruptVector(slot));
        msix_entry_write(o, i, MSIX_ENTRY_CTRL, 0); /* unmasked */
    }
    o->vectors = i;
    irq_slots_held += o->vectors;
    if (o->vectors == 0) {
        msix_write_ctrl(o, (U16)(ctrl & ~(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK)));
        KernelLogText(LOG_WARNING, TEXT("[nvme_exos_irq_setup] No interrupt slot, core polls"));
        return 0;
    }
    /* INTx off, MSI-X on, function unmasked. */
    (void)nvme_exos_pci_command_update(o->bus, o->dev, o->func, PCI_CMD_INT_DISABLE, 0);
    msix_write_ctrl(o, (U16)((ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FMASK));
    KernelLogText(nvme_exos_info_log_type(),
                  TEXT("[nvme_exos_irq_setup] MSI-X: %u vector(s), first slot %u vector %u"),
                  (UINT)o->vectors, (UINT)o->vec[0].slot,
                  (UINT)GetDeviceInterruptVector(o->vec[0].slot));
    return (int)o->vectors;
}

/* The table is mapped (MapIOMemory, a table outside BAR 0) with
 * interrupts on: EXOS's AllocRegion may take MUTEX_MEMORY (a page table
 * or region descriptor page from AllocPhysicalPage), whose LockMutex
 * waits by turning interrupts on, which would have let another task in
 * between the look at the slots and their take.  Before: mapped inside
 * the interrupts-off step. */
int nvme_exos_irq_setup(void *ctx, unsigned want, bool *is_intx)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    unsigned table_size, n;
    UINT flags;
    U16 ctrl;

    if (is_intx != NULL)
        *is_intx = false;
    o->vectors = 0;
    if (!o->allow_irq || want == 0)
        return 0;
    if (DeferredWorkIsPollingMode()) {
        KernelLogText(nvme_exos_info_log_type(),
                      TEXT("[nvme_exos_irq_setup] EXOS runs in polling mode, core polls"));
        return 0;
    }
    o->msix_cap = PCI_FindCapability(o->bus, o->dev, o->func, PCI_CAP_ID_MSIX);
    if (o->msix_cap == 0) {
        KernelLogText(nvme_exos_info_log_type(),
                      TEXT("[nvme_exos_irq_setup] No MSI-X capability, core polls"));
        return 0;
    }
    /* Device input: the capability's 12 bytes (PCI 3.0 §6.8.2) must lie in
     * config space, which a pointer past F4h breaks.  At FCh its Table
     * Offset/BIR is at 100h, where EXOS's PCI_Read32 (offset & FCh) reads
     * the Vendor and Device IDs instead: a table where they point. */
    if ((unsigned)o->msix_cap > PCI_CFG_SIZE - MSIX_CAP_SIZE) {
        KernelLogText(LOG_WARNING,
                      TEXT("[nvme_exos_irq_setup] MSI-X capability at %x runs past config "
                           "space, core polls"),
                      (UINT)o->msix_cap);
        o->msix_cap = 0;
        return 0;
    }
    ctrl = msix_read_ctrl(o);
    table_size = (unsigned)(ctrl & MSIX_CTRL_SIZE_MASK) + 1u;
    n = want;
    if (n > table_size)
        n = table_size;
    if (n > NVME_EXOS_MAX_VECTORS)
        n = NVME_EXOS_MAX_VECTORS;
    if (!msix_map_table(o, n)) {
        KernelLogText(LOG_WARNING,
                      TEXT("[nvme_exos_irq_setup] MSI-X table not reachable, core polls"));
        return 0;
    }
    SaveFlags(&flags);
    DisableInterrupts();
    n = (unsigned)irq_take_slots(o, n, ctrl);
    RestoreFlags(&flags);
    if (n == 0)
        msix_unmap_table(o);
    return (int)n;
}

void nvme_exos_irq_teardown(void *ctx)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    unsigned i;

    if (o->vectors == 0)
        return;
    for (i = 0; i < o->vectors; i++)
        msix_entry_write(o, i, MSIX_ENTRY_CTRL, MSIX_ENTRY_CTRL_MASKED);
    msix_write_ctrl(o, (U16)(msix_read_ctrl(o) & ~MSIX_CTRL_ENABLE));
    for (i = 0; i < o->vectors; i++)
        DeviceInterruptUnregister(o->vec[i].slot);
    irq_slots_held -= o->vectors;
    o->vectors = 0;
    msix_unmap_table(o);
}

/* --- Time -------------------------------------------------------------------
 * clock_us advances by every wait the OSAL made and, when the system clock
 * moved, by whatever part of that move the waits did not already cover.
 * So it advances while GetSystemTime() stands still (PCI probe, interrupts
 * off) and never runs backwards. */

uint64_t nvme_exos_now_us(void *ctx)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    UINT flags, sys;
    uint64_t now;

    SaveFlags(&flags);
    DisableInterrupts();
    sys = GetSystemTime();
    if (!o->clock_started) {
        o->clock_started = true;
        o->last_sys_ms = sys;
    } else if (sys != o->last_sys_ms) {
        uint64_t delta = (uint64_t)(U32)(sys - o->last_sys_ms) * 1000u;
        if (delta > o->waited_us)
            o->clock_us += delta - o->waited_us;
        o->waited_us = 0;
        o->last_sys_ms = sys;
    }
    now = o->clock_us;
    RestoreFlags(&flags);
    return now;
}

static void busy_wait_us(uint32_t us)
{
    UINT ms = us / 1000u;
    UINT rest = us % 1000u;

    if (ms != 0)
        BusyWaitMilliseconds(ms);
    if (rest != 0) {
        /* EXOS calibrates loops per millisecond for its own add/sub/jnz
         * loop (about one cycle an iteration); an empty loop costs the same.
         * Not `pause`: some 140 cycles on recent Intel cores, which would
         * stretch a 50 us wait to milliseconds. */
        UINT lpm = BusyWaitGetLoopsPerMillisecond();
        /* No 64-bit division: the kernel links no libgcc (__udivdi3). */
        UINT loops = (lpm / 1000u) * rest + (lpm % 1000u) * rest / 1000u;
        if (loops == 0)
            loops = 1;
        while (loops-- != 0)
            __asm__ __volatile__("" ::: "memory");
    }
}

void nvme_exos_sleep_us(void *ctx, uint32_t us)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    UINT flags;
    unsigned i;

    busy_wait_us(us);
    SaveFlags(&flags);
    DisableInterrupts();
    o->clock_us += us;
    o->waited_us += us;
    RestoreFlags(&flags);
    /* With interrupts off (PCI probe, file system mount at boot) no MSI-X
     * message is delivered: reap the vectors here so a waiter does not sit
     * out the core's fallback poll interval. */
    if ((flags & X86_EFLAGS_IF) == 0) {
        for (i = 0; i < o->vectors; i++)
            reap_vector(o, i);
    }
}

/* --- Logging ------------------------------------------------------------------ */

void nvme_exos_log(void *ctx, enum nvme_log_level level, const char *line)
{
    U32 type;
    (void)ctx;
    if (line == NULL)
        return;
    switch (level) {
    case NVME_LOG_ERROR:
        type = LOG_ERROR;
        break;
    case NVME_LOG_WARN:
        type = LOG_WARNING;
        break;
    case NVME_LOG_INFO:
        type = nvme_exos_info_log_type();
        break;
    default: /* NVME_LOG_TRACE */
        type = LOG_DEBUG;
        break;
    }
    /* EXOS convention "[Function] message": keep a prefix the core wrote. */
    if (line[0] == '[')
        KernelLogText(type, TEXT("%s"), line);
    else
        KernelLogText(type, TEXT("[NVMeCore] %s"), line);
}

/* --- Locks ---------------------------------------------------------------------
 * EXOS runs one CPU and the completion path runs in the interrupt top half,
 * so a queue lock disables interrupts (a MUTEX would not exclude an ISR). */

struct nvme_exos_lock {
    UINT flags;
    UINT depth;
};

void *nvme_exos_lock_create(void *ctx)
{
    struct nvme_exos_lock *l;
    (void)ctx;
    l = (struct nvme_exos_lock *)KernelHeapAlloc(sizeof(*l));
    if (l != NULL)
        MemorySet(l, 0, sizeof(*l));
    return l;
}

void nvme_exos_lock_destroy(void *ctx, void *lock)
{
    (void)ctx;
    if (lock != NULL)
        KernelHeapFree(lock);
}

void nvme_exos_lock(void *ctx, void *lock)
{
    struct nvme_exos_lock *l = (struct nvme_exos_lock *)lock;
    UINT flags;
    (void)ctx;
    SaveFlags(&flags);
    DisableInterrupts();
    if (l->depth++ == 0)
        l->flags = flags;
}

void nvme_exos_unlock(void *ctx, void *lock)
{
    struct nvme_exos_lock *l = (struct nvme_exos_lock *)lock;
    UINT flags;
    (void)ctx;
    if (l->depth == 0)
        return;
    if (--l->depth == 0) {
        flags = l->flags;
        RestoreFlags(&flags);
    }
}

/* --- Last resort -------------------------------------------------------------------- */

/* "bb:dd.f", as the glue's attach line names the function (EXOS's %x
 * prefixes 0x: "%x:%x.%x" came out 0x0:0x4.0x0). */
static LPCSTR pci_address(const struct nvme_exos_osal *o, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    buf[0] = hex[(o->bus >> 4) & 0xfu];
    buf[1] = hex[o->bus & 0xfu];
    buf[2] = ':';
    buf[3] = hex[(o->dev >> 4) & 0x1u];
    buf[4] = hex[o->dev & 0xfu];
    buf[5] = '.';
    buf[6] = hex[o->func & 0x7u];
    buf[7] = 0;
    return (LPCSTR)buf;
}

/* Clear Bus Master Enable so the device cannot reach memory the core
 * hands back or frees (nvme_osal.h): a controller that will not stop, or
 * one that holds event requests after its shutdown (nvme_ctrl_fini).  The
 * core logs which. */
void nvme_exos_dma_stop(void *ctx)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    char addr[8];
    (void)nvme_exos_pci_command_update(o->bus, o->dev, o->func, 0, PCI_CMD_BUSMASTER);
    /* COM2 only: it comes at every shutdown (event requests held), when a
     * console line can stop EXOS (nvme_exos_pci.c, shutdown_all). */
    KernelLogText(LOG_DEBUG, TEXT("[NVMeCore] %s: bus mastering off"), pci_address(o, addr));
}

/* Bus Master Enable set again: the core enables a controller it cut off
 * (a reset that found it stopped, or answering again after its registers
 * read all ones), as Linux's reset work calls pci_set_master. */
void nvme_exos_dma_resume(void *ctx)
{
    struct nvme_exos_osal *o = osal_of(ctx);
    char addr[8];
    (void)nvme_exos_pci_command_update(o->bus, o->dev, o->func, PCI_CMD_BUSMASTER, 0);
    KernelLogText(LOG_DEBUG, TEXT("[NVMeCore] %s: bus mastering on again"), pci_address(o, addr));
}

/* The time of day for the controller's Timestamp (nvme_osal.wall_clock_ms):
 * GetLocalTime, EXOS's clock (the CMOS RTC read once, then kept by the
 * timer tick), taken as UTC, the RTC's zone under QEMU.  0 ("unknown") for
 * a date it cannot hold or before 1970. */
uint64_t nvme_exos_wall_clock_ms(void *ctx)
{
    DATETIME t;
    (void)ctx;
    if (!GetLocalTime(&t) || t.Year < 1970 || t.Month < 1 || t.Month > 12 || t.Day < 1 ||
        t.Day > 31 || t.Hour > 23 || t.Minute > 59 || t.Second > 59 || t.Milli > 999)
        return 0;
    /* Days since 1970 of a civil date: years from 1 March, in eras of 400
     * years (146097 days) of the proleptic Gregorian calendar. */
    U32 m = t.Month, y = t.Year - (m <= 2 ? 1u : 0u);
    U32 era = y / 400u, yoe = y - era * 400u;
    U32 doy = (153u * (m > 2 ? m - 3u : m + 9u) + 2u) / 5u + t.Day - 1u;
    U32 doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    U32 days = era * 146097u + doe - 719468u;
    return (uint64_t)days * 86400000u +
           (uint64_t)((t.Hour * 60u + t.Minute) * 60u + t.Second) * 1000u + t.Milli;
}

/* --- Setup ------------------------------------------------------------------------ */

void nvme_exos_osal_setup(struct nvme_exos_osal *o, struct nvme_osal *ops, volatile void *mmio,
                          UINT mmio_size, U8 bus, U8 dev, U8 func, LPDEVICE device)
{
    MemorySet(o, 0, sizeof(*o));
    MemorySet(ops, 0, sizeof(*ops));
    o->mmio = (volatile U8 *)mmio;
    o->mmio_size = mmio_size;
    o->bus = bus;
    o->dev = dev;
    o->func = func;
    o->device = device;
    o->handle_irq = nvme_ctrl_handle_irq;
    o->allow_irq = true;

    ops->ctx = o;
    ops->mmio_read32 = nvme_exos_mmio_read32;
    ops->mmio_write32 = nvme_exos_mmio_write32;
    ops->mmio_read64 = NULL; /* two 32-bit halves, low first */
    ops->mmio_write64 = NULL;
    ops->mmio_size = mmio_size; /* doorbells past it are not used (nvme_osal.h) */
    ops->dma_alloc = nvme_exos_dma_alloc;
    ops->dma_free = nvme_exos_dma_free;
    ops->dma_map = nvme_exos_dma_map;
    ops->dma_unmap = NULL; /* coherent */
    ops->dma_sync = NULL;
    ops->mem_alloc = nvme_exos_mem_alloc;
    ops->mem_free = nvme_exos_mem_free;
    ops->irq_setup = nvme_exos_irq_setup;
    ops->irq_teardown = nvme_exos_irq_teardown;
    ops->now_us = nvme_exos_now_us;
    ops->sleep_us = nvme_exos_sleep_us;
    ops->log = nvme_exos_log;
    ops->lock_create = nvme_exos_lock_create;
    ops->lock_destroy = nvme_exos_lock_destroy;
    ops->lock = nvme_exos_lock;
    ops->unlock = nvme_exos_unlock;
    ops->dma_stop = nvme_exos_dma_stop;
    ops->dma_resume = nvme_exos_dma_resume;
    ops->wall_clock_ms = nvme_exos_wall_clock_ms;
}

void nvme_exos_osal_bind(struct nvme_exos_osal *o, struct nvme_ctrl *ctrl)
{
    UINT flags;
    SaveFlags(&flags);
    DisableInterrupts();
    o->ctrl = ctrl;
    RestoreFlags(&flags);
}

void nvme_exos_osal_release(struct nvme_exos_osal *o)
{
    nvme_exos_irq_teardown(o);
    o->ctrl = NULL;
    while (o->dma_list != NULL)
        nvme_exos_dma_free(o, o->dma_list->va, 0);
}
