/* SPDX-License-Identifier: MIT */
/*
 * osal.c - the harness kernel's controller discovery and the interrupt
 * part of its struct nvme_osal: MSI-X through the local APIC or INTx
 * through the IOAPIC (other ISAs: kernel/arch/<isa>/irq.c), interrupt-flag
 * locks, wait/wake for blocking calls (wait=0 leaves them out), single
 * 64-bit MMIO on x86-64, the time of day from the ISA's RTC (rtc.c).
 * Everything else (memory, MMIO, clock, dma_stop) is osal_min.c, the
 * minimal polled port, which irq=poll uses alone.
 */
#include "osal.h"
#include "rtc.h"
#include "smp.h" /* harness_msix_dest */

struct harness_dev g_dev;

/* --- controller discovery ---------------------------------------------------------- */
bool dev_probe(struct harness_dev *d, unsigned nth)
{
    if (!pci_find_class(0x01, 0x08, 0x02, nth, &d->pci)) {
        kprintf("harness: no NVMe controller (class 01h/08h/02h) number %u on PCI\n", nth);
        return false;
    }
    uint32_t id = pci_read32(d->pci, 0x00);
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    d->bar0_phys = pci_bar_base(d->pci, 0, &d->bar0_64);
    /* registers and the first doorbells (8 KiB, as EXOS asks) */
    d->bar0 = pci_bar_map(d->pci, 0, 0, 0x2000);
    if (!d->bar0) {
        kprintf("harness: BAR0 0x%llx unusable (not assigned, smaller than 8 KiB, outside the "
                "windows or beyond the CPU's reach)\n",
                (unsigned long long)d->bar0_phys);
        return false;
    }
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd | PCI_CMD_MEM | PCI_CMD_MASTER));
    d->intx_pin = pci_read8(d->pci, 0x3d);
    d->intx_line = pci_read8(d->pci, 0x3c);
    d->msix_cap = pci_find_cap(d->pci, PCI_CAP_MSIX);
    uint32_t tbl = 0; /* Table Offset and BIR (bits 2:0: the BAR that holds it) */
    if (d->msix_cap) {
        uint16_t ctl = pci_read16(d->pci, (uint8_t)(d->msix_cap + 2));
        tbl = pci_read32(d->pci, (uint8_t)(d->msix_cap + 4));
        uint32_t pba = pci_read32(d->pci, (uint8_t)(d->msix_cap + 8));
        d->msix_entries = (ctl & 0x7ffu) + 1;
        /* the table (16 bytes an entry) and the PBA (a bit an entry) in
         * BARs 0-5 that hold them, where the CPU reaches (PCI 3.0 6.8.2.4) */
        d->msix_table = pci_bar_map(d->pci, tbl & 7, tbl & ~7u, 16ull * d->msix_entries);
        if (!d->msix_table ||
            !pci_bar_map(d->pci, pba & 7, pba & ~7u, (d->msix_entries + 63) / 64 * 8)) {
            kprintf(
                "harness: MSI-X table 0x%08x or PBA 0x%08x (offset | BIR) outside a usable BAR: "
                "no MSI-X\n",
                tbl, pba);
            d->msix_cap = 0;
            d->msix_table = 0;
        }
    }
    kprintf("harness: nvme at pci %02x:%02x.%u id %04x:%04x bar0=0x%llx (%s) cmd=0x%04x->0x%04x "
            "msix=%u entries table=0x%lx (BAR%u) intx pin=%u line=%u\n",
            d->pci.bus, d->pci.dev, d->pci.fn, d->vendor, d->device,
            (unsigned long long)d->bar0_phys, d->bar0_64 ? "64-bit" : "32-bit", cmd,
            pci_read16(d->pci, PCI_COMMAND), d->msix_cap ? d->msix_entries : 0,
            (unsigned long)d->msix_table, tbl & 7u, d->intx_pin, d->intx_line);
    return true;
}

#ifndef HARNESS_NO_CORE

/* --- wait/wake's per-CPU state, every ISA (nvme_osal.h) ------------------------------------
 * The event flag of wait/wake, whether the CPU is halted in a wait (a
 * remote wake then kicks it), x86's timer state, counts. */
struct wait_cpu {
    volatile uint32_t ev;
    volatile uint32_t halted;
    bool tick;    /* x86 harness_tick(true): periodic, the wait leaves it alone */
    bool oneshot; /* x86: LVT programmed for the wait's one-shot */
    uint32_t waits, halts, timeouts, wakes, ipis;
    uint32_t woken;     /* waits a wake() ended while they waited, or at once by the flag
                         * an interrupt handler's wake() left (WAKE_IRQ) */
    uint64_t woken_tsc; /* x86: TSC at this CPU's last wake() (bench) */
} __attribute__((aligned(64)));
static struct wait_cpu wait_cpu[SMP_MAX_CPUS];
/* ev: 1 a wake() came; WAKE_IRQ as well when it came from an interrupt
 * handler (nvme_ctrl_handle_irq), so check.py's woken= counts the waits
 * the handler ended also when it came between two of them. */
#define WAKE_IRQ 2u

/* A wait's start: false when it returns at once, because a wake() came
 * since the last wait returned, or nothing could wake it (interrupts off,
 * no controller to reap yet). */
static bool wait_begin(const struct harness_dev *d, struct wait_cpu *w)
{
    w->waits++;
    uint32_t ev = __atomic_exchange_n(&w->ev, 0u, __ATOMIC_ACQUIRE);
    if (ev & WAKE_IRQ) /* the handler's wake() came between two waits */
        w->woken++;
    if (ev)
        return false;
    unsigned long f = irq_save();
    irq_restore(f);
    return irq_flags_on(f) && d->ctrl != NULL;
}

/* --- waiting for a completion: wait/wake (nvme_osal.h) -----------------------------------
 * An event flag per CPU.  wait() takes the flag if a wake() set it since
 * the last wait returned; otherwise it spins for d->wait_spin_us (under
 * TCG a halted vCPU takes longer to wake than the command takes: see
 * bench/qemu-qd1.sh), then halts (wait_halt: the flag looked at with
 * interrupts off, then x86's `sti; hlt`, whose one-instruction shadow
 * keeps the interrupt from slipping in between, or a WFI that a pending
 * interrupt ends) until a wake or `us` has passed, the CPU's timer
 * bounding each halt.
 * wake() runs in the interrupt handler, on the CPU the vector is routed to:
 * with a queue pair and an MSI-X vector per CPU that is the waiter's own
 * CPU (vector q to CPU q-1, CPU c on queue c+1), so it sets the local flag
 * and nothing more.  Otherwise (the admin queue's vector 0, whose waiters
 * may be on any CPU; INTx, all to the boot CPU; fewer queues or vectors
 * than CPUs) it sets every CPU's flag, as the contract asks (one wake
 * releases every waiter), and kicks those halted in a wait (an IPI). */

/* The vector each CPU's handler serves now plus one, 0 outside one. */
static unsigned irq_vector_now[SMP_MAX_CPUS];

/* After a wake() on CPU me: every other CPU's flag set, and an IPI
 * (smp_kick) to each halted in a wait (wait_halt). */
static void wake_others(struct wait_cpu *w, unsigned me, uint32_t ev)
{
    for (unsigned c = 0; c < smp_cpus(); c++) {
        if (c == me)
            continue;
        /* flag, then look at halted; the waiter sets halted, then looks at
         * the flag: one of the two sees the other's store */
        __atomic_or_fetch(&wait_cpu[c].ev, ev, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&wait_cpu[c].halted, __ATOMIC_SEQ_CST)) {
            w->ipis++;
            smp_kick(c);
        }
    }
}

static bool wake_is_local(const struct harness_dev *d)
{
    unsigned n = smp_cpus();
    if (n <= 1)
        return true;
    if (d->is_intx || d->ctrl == NULL || irq_vector_now[smp_cpu_id()] <= 1u)
        return false;
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(d->ctrl);
    return info->io_queues >= n && info->irq_vectors >= n + 1u;
}

static void osal_wake(void *ctx)
{
    struct harness_dev *d = ctx;
    unsigned me = smp_cpu_id();
    struct wait_cpu *w = &wait_cpu[me];
    w->wakes++;
#if HARNESS_X86
    w->woken_tsc = rdtsc();
#endif
    uint32_t ev = irq_vector_now[me] ? 1u | WAKE_IRQ : 1u;
    __atomic_or_fetch(&w->ev, ev, __ATOMIC_RELEASE);
    if (!wake_is_local(d))
        wake_others(w, me, ev);
}

void harness_wait_stats(char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = 0;
    for (unsigned c = 0; c < smp_cpus() && pos + 80 < len; c++) {
        const struct wait_cpu *w = &wait_cpu[c];
        pos += (size_t)snprintf(buf + pos, len - pos,
                                " cpu%u: waits=%u halts=%u timeouts=%u wakes=%u ipis=%u woken=%u",
                                c, w->waits, w->halts, w->timeouts, w->wakes, w->ipis, w->woken);
    }
}

/* --- MSI-X (osal.h) ------------------------------------------------------------------------
 * Message Control (capability + 2): bit 15 MSI-X Enable, bit 14 Function
 * Mask; a table entry: message address low and high, data, vector
 * control (bit 0: masked). */
#define MSIX_ENABLE (1u << 15)
#define MSIX_FUNCTION_MASK (1u << 14)

unsigned msix_grant(const struct harness_dev *d, unsigned want, unsigned limit)
{
    unsigned n = want < d->msix_entries ? want : d->msix_entries;
    n = n < limit ? n : limit;
    return n < IRQ_DEVICE_VECTORS ? n : IRQ_DEVICE_VECTORS;
}

static void msix_control(struct harness_dev *d, uint16_t set, uint16_t clear)
{
    uint8_t off = (uint8_t)(d->msix_cap + 2);
    pci_write16(d->pci, off, (uint16_t)((pci_read16(d->pci, off) | set) & ~clear));
}

void msix_program(struct harness_dev *d, unsigned n, struct msix_msg (*msg)(unsigned i))
{
    pci_write16(d->pci, PCI_COMMAND,
                (uint16_t)(pci_read16(d->pci, PCI_COMMAND) | PCI_CMD_INTX_DISABLE));
    msix_control(d, MSIX_ENABLE | MSIX_FUNCTION_MASK, 0);
    for (unsigned i = 0; i < d->msix_entries; i++) {
        uintptr_t e = d->msix_table + 16u * i;
        if (i < n) {
            struct msix_msg m = msg(i);
            mmio_wr32(e + 0, (uint32_t)m.addr);
            mmio_wr32(e + 4, (uint32_t)(m.addr >> 32));
            mmio_wr32(e + 8, m.data);
            mmio_wr32(e + 12, 0);
        } else {
            mmio_wr32(e + 12, 1);
        }
    }
    msix_control(d, MSIX_ENABLE, MSIX_FUNCTION_MASK);
}

void msix_off(struct harness_dev *d) { msix_control(d, MSIX_FUNCTION_MASK, MSIX_ENABLE); }

#if HARNESS_X86
/* --- interrupts ---------------------------------------------------------------------- */
/* Device interrupt handlers running now, on any CPU: osal_irq_teardown
 * waits for them (nvme_osal.h), as Linux's free_irq does. */
static volatile uint32_t irq_running;

static void dev_irq_handle(struct harness_dev *d, unsigned i);

void dev_irq(unsigned i)
{
    struct harness_dev *d = &g_dev;
    /* Counted before vectors is read; teardown clears vectors before it
     * reads the count (both sequentially consistent): a handler either
     * sees vectors 0 or is waited for. */
    __atomic_add_fetch(&irq_running, 1u, __ATOMIC_SEQ_CST);
    if (i < __atomic_load_n(&d->vectors, __ATOMIC_SEQ_CST))
        dev_irq_handle(d, i);
    /* else the harness's own: timer (harness_tick, wait), IPIs */
    __atomic_sub_fetch(&irq_running, 1u, __ATOMIC_RELEASE);
}

static void dev_irq_handle(struct harness_dev *d, unsigned i)
{
    if (!d->ctrl) {
        /* Before nvme_ctrl_init() returned: nothing to hand it to.  A level
         * INTx line would fire again at once, so mask it until armed. */
        d->early_irqs++;
        if (d->is_intx)
            ioapic_mask(d->intx_line, true);
        return;
    }
    /* A level INTx line that the core keeps declining (returns 0, e.g.
     * while it resets) would fire forever: after many in a row, mask it
     * and let the core's fallback polling carry on. */
    static unsigned unclaimed;
    unsigned me = smp_cpu_id();
    irq_vector_now[me] = i + 1u; /* for osal_wake; 0 again after: a wake from a poll reaches all */
    unsigned claimed = nvme_ctrl_handle_irq(d->ctrl, i);
    irq_vector_now[me] = 0;
    if (claimed == 0 && d->is_intx) {
        if (++unclaimed == 100000) {
            kprintf("harness: INTx line %u: 100000 interrupts nobody claimed, masking it\n",
                    d->intx_line);
            ioapic_mask(d->intx_line, true);
        }
    } else {
        unclaimed = 0;
    }
}

void dev_irq_arm(struct harness_dev *d)
{
    if (d->vectors && d->is_intx)
        ioapic_mask(d->intx_line, false);
}

/* Physical destination: vector q to CPU q-1's APIC (smp.c); fixed, edge. */
static struct msix_msg lapic_msg(unsigned i)
{
    return (struct msix_msg){0xfee00000u | (harness_msix_dest(i) << 12), IRQ_VECTOR_BASE + i};
}

static int osal_irq_setup(void *ctx, unsigned want, bool *is_intx)
{
    struct harness_dev *d = ctx;
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    *is_intx = false;
    d->vectors = 0;
    d->is_intx = false;
    if (d->mode == IRQ_MODE_POLL || want == 0)
        return 0;
    if (d->mode == IRQ_MODE_MSIX) {
        if (!d->msix_cap) {
            kprintf("harness: irq=msix asked but no MSI-X capability: polling\n");
            return 0;
        }
        unsigned n = msix_grant(d, want, IRQ_DEVICE_VECTORS);
        msix_program(d, n, lapic_msg);
        d->vectors = n;
        kprintf("harness: irq_setup(want=%u): MSI-X vectors %u granted (IDT 0x%x..)\n", want, n,
                IRQ_VECTOR_BASE);
        return (int)n;
    }
    /* INTx through the IOAPIC, level triggered, active high (QEMU pc) */
    if (!d->intx_pin || d->intx_line >= ioapic_pins()) {
        kprintf("harness: irq=intx asked but no usable INTx line: polling\n");
        return 0;
    }
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd & ~PCI_CMD_INTX_DISABLE));
    ioapic_route(d->intx_line, IRQ_VECTOR_BASE, true, d->ctrl == NULL);
    d->vectors = 1;
    d->is_intx = true;
    *is_intx = true;
    kprintf("harness: irq_setup(want=%u): INTx pin %u -> IOAPIC pin %u (IDT 0x%x)\n", want,
            d->intx_pin, d->intx_line, IRQ_VECTOR_BASE);
    return 1;
}

static void osal_irq_teardown(void *ctx)
{
    struct harness_dev *d = ctx;
    if (d->vectors && d->is_intx) {
        ioapic_mask(d->intx_line, true);
    } else if (d->vectors && d->msix_cap) {
        msix_off(d);
    }
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd | PCI_CMD_INTX_DISABLE));
    __atomic_store_n(&d->vectors, 0u, __ATOMIC_SEQ_CST);
    /* Wait out handlers already past the vectors test on other CPUs
     * (nvme_osal.h: fini frees the queues next); never called from one. */
    while (__atomic_load_n(&irq_running, __ATOMIC_ACQUIRE) != 0)
        cpu_relax();
}

/* --- the local APIC timer: a periodic tick or a one-shot wait bound ---------------------
 * Both on device vector index HARNESS_TICK_IDX, which nvme_ctrl_handle_irq
 * never sees (dev_irq drops indices past the granted vectors): its only
 * job is to end a hlt.  QEMU's APIC timer counts at 1 GHz; divided by 16,
 * 62.5 counts per microsecond. */
#define LAPIC_TIMER_LVT 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3e0

void harness_tick(bool on)
{
    struct wait_cpu *w = &wait_cpu[smp_cpu_id()];
    uintptr_t l = lapic_base();
    if (on) {
        mmio_wr32(l + LAPIC_TIMER_DIV, 0x3); /* by 16 */
        mmio_wr32(l + LAPIC_TIMER_LVT,
                  (1u << 17) | (IRQ_VECTOR_BASE + HARNESS_TICK_IDX)); /* periodic */
        mmio_wr32(l + LAPIC_TIMER_INIT, 62500);                       /* 1 ms */
    } else {
        mmio_wr32(l + LAPIC_TIMER_INIT, 0);
        mmio_wr32(l + LAPIC_TIMER_LVT, 1u << 16); /* masked */
    }
    w->tick = on;
    w->oneshot = false;
}

/* One interrupt on this CPU in about `us` microseconds (restarts the count
 * if it was running; never stopped: a late one only ends a later hlt). */
static void timer_oneshot(struct wait_cpu *w, uint32_t us)
{
    if (w->tick)
        return; /* the periodic tick bounds every halt to 1 ms already */
    uintptr_t l = lapic_base();
    if (!w->oneshot) {
        mmio_wr32(l + LAPIC_TIMER_DIV, 0x3);
        mmio_wr32(l + LAPIC_TIMER_LVT, IRQ_VECTOR_BASE + HARNESS_TICK_IDX); /* one-shot */
        w->oneshot = true;
    }
    mmio_wr32(l + LAPIC_TIMER_INIT, (us < 1000000u ? us : 1000000u) * 63u);
}

/* x86's arch_halt (the virt ISAs' are in kernel/arch/<isa>/arch.c):
 * interrupts off on entry and on return; `sti; hlt` (sti's shadow keeps
 * a pending interrupt from being taken before the hlt) until an interrupt,
 * the one-shot local APIC timer's after `us` at the latest. */
static void arch_halt(uint32_t us)
{
    timer_oneshot(&wait_cpu[smp_cpu_id()], us);
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

uint64_t harness_woken_tsc(void) { return wait_cpu[smp_cpu_id()].woken_tsc; }
#else
/* aarch64 (GICv3 ITS), riscv64 (PLIC), armv7 (GICv2m): kernel/arch/<isa>/irq.c,
 * behind the same teardown rule as x86's (nvme_osal.h: once irq_teardown
 * returns no handler calls nvme_ctrl_handle_irq, none still runs on
 * another CPU, for fini frees the queues next). */
#define osal_irq_setup arch_irq_setup
static volatile uint32_t irq_running;

/* smp.c's handler calls it (with cpus=N).  Before nvme_ctrl_init returned
 * (d->ctrl NULL) the arch code masks what came early. */
void dev_irq(unsigned i)
{
    struct harness_dev *d = &g_dev;
    __atomic_add_fetch(&irq_running, 1u, __ATOMIC_SEQ_CST);
    if (!d->ctrl || i < __atomic_load_n(&d->vectors, __ATOMIC_SEQ_CST)) {
        unsigned me = smp_cpu_id();
        irq_vector_now[me] = i + 1u; /* for osal_wake, as on x86 */
        arch_dev_irq(i);
        irq_vector_now[me] = 0;
    }
    __atomic_sub_fetch(&irq_running, 1u, __ATOMIC_RELEASE);
}

static void osal_irq_teardown(void *ctx)
{
    struct harness_dev *d = ctx;
    arch_irq_teardown(ctx);
    __atomic_store_n(&d->vectors, 0u, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&irq_running, __ATOMIC_ACQUIRE) != 0)
        cpu_relax();
}

#endif /* HARNESS_X86 */

/* One halt of osal_wait (arch_halt: hlt or WFI bounded by the CPU's
 * timer), none when a wake came meanwhile: the flag looked at with
 * interrupts off, so a wake's interrupt pending by then ends the halt at
 * once and is taken when they go on again. */
static void wait_halt(struct wait_cpu *w, uint32_t left)
{
    w->halts++;
    unsigned long f = irq_save();
    __atomic_store_n(&w->halted, 1u, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&w->ev, __ATOMIC_SEQ_CST))
        arch_halt(left);
    __atomic_store_n(&w->halted, 0u, __ATOMIC_RELAXED);
    irq_restore(f);
}

/* wait (nvme_osal.h): on its CPU's flag until a wake() or `us` has
 * passed; it spins d->wait_spin_us, then halts (wait_halt). */
static void osal_wait(void *ctx, uint32_t us)
{
    struct harness_dev *d = ctx;
    struct wait_cpu *w = &wait_cpu[smp_cpu_id()];
    if (!wait_begin(d, w))
        return;
    uint64_t t0 = clock_now_us();
    for (;;) {
        if (__atomic_load_n(&w->ev, __ATOMIC_ACQUIRE)) {
            w->woken++;
            break;
        }
        uint64_t el = clock_now_us() - t0;
        if (el >= us) {
            w->timeouts++;
            break;
        }
        if (el >= (us < d->wait_spin_us ? us : d->wait_spin_us)) {
            wait_halt(w, (uint32_t)(us - el));
            continue;
        }
        cpu_relax();
    }
    __atomic_store_n(&w->ev, 0u, __ATOMIC_RELAXED);
}

/* --- the OSAL table: osal_min.c plus interrupts ---------------------------------------- */
#ifdef __x86_64__
/* x86-64 uses single 64-bit accesses; x86-32 leaves them NULL so the core
 * splits them (both paths get exercised). */
static uint64_t osal_mmio_read64(void *ctx, uint32_t off)
{
    uint64_t v = *(volatile uint64_t *)(((struct harness_dev *)ctx)->bar0 + off);
    barrier();
    return v;
}
static void osal_mmio_write64(void *ctx, uint32_t off, uint64_t val)
{
    barrier();
    *(volatile uint64_t *)(((struct harness_dev *)ctx)->bar0 + off) = val;
}
#endif

/* Locks: interrupt flag save/clear; one CPU.  Taken again by its holder,
 * or let go by none, a lock is a crash, as smp.c's spinlock: a real lock
 * would deadlock there (before, a line was printed and the boot passed,
 * the interrupt flag restored from the inner lock, off for good). */
struct hlock {
    unsigned long flags;
    int depth;
};
static void *osal_lock_create(void *ctx) { return harness_mem_alloc(sizeof(struct hlock)); }
static void osal_lock_destroy(void *ctx, void *lock)
{
    harness_mem_free(lock, sizeof(struct hlock));
}
static void osal_lock(void *ctx, void *lock)
{
    struct hlock *l = lock;
    unsigned long f = irq_save();
    if (l->depth++) {
        kprintf("harness: lock %p taken recursively\n", lock);
        qemu_exit(EXIT_CRASH);
    }
    l->flags = f;
}
static void osal_unlock(void *ctx, void *lock)
{
    struct hlock *l = lock;
    unsigned long f = l->flags;
    if (--l->depth) {
        kprintf("harness: lock %p unlock depth %d\n", lock, l->depth);
        qemu_exit(EXIT_CRASH);
    }
    irq_restore(f);
}

/* Bus Master Enable on again, for a controller the core cut off and now
 * enables (nvme_osal.h dma_resume). */
static void osal_dma_resume(void *ctx)
{
    struct harness_dev *d = ctx;
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(pci_read16(d->pci, PCI_COMMAND) | PCI_CMD_MASTER));
}

/* The time of day for the controller's Timestamp feature (nvme_osal.h
 * wall_clock_ms): the ISA's RTC (rtc.c), 0 when there is none. */
static uint64_t osal_wall_clock_ms(void *ctx)
{
    (void)ctx;
    return rtc_wall_clock_ms();
}

/* irq=poll: the minimal OSAL alone (no interrupts, no locks, no
 * dma_resume, no wall clock).  Otherwise interrupts, and locks because the
 * handler reaps completions. */
void osal_fill(struct nvme_osal *o, struct harness_dev *d)
{
    osal_min_fill(o, d);
    if (d->mode == IRQ_MODE_POLL)
        return;
    o->dma_resume = osal_dma_resume;
#ifdef __x86_64__
    o->mmio_read64 = osal_mmio_read64;
    o->mmio_write64 = osal_mmio_write64;
#endif
    o->wall_clock_ms = osal_wall_clock_ms;
    o->irq_setup = osal_irq_setup;
    o->irq_teardown = osal_irq_teardown;
    o->lock_create = osal_lock_create;
    o->lock_destroy = osal_lock_destroy;
    o->lock = osal_lock;
    o->unlock = osal_unlock;
    irq_set_handler(dev_irq);
    if (d->wait) {
        o->wait = osal_wait;
        o->wake = osal_wake;
    }
}

#endif /* !HARNESS_NO_CORE */
