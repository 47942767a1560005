/* SPDX-License-Identifier: MIT */
/*
 * smp.c - the harness on several CPUs (x86-32, x86-64; aarch64, armv7 and
 * riscv64 through kernel/arch/<isa>/smp.c, see "Other ISAs" below).
 *
 * Finding the CPUs: the ACPI MADT (ACPI 6.x §5.2.12: RSDP found by its
 * "RSD PTR " signature on a 16-byte boundary in the first KiB of the EBDA
 * or in E0000h-FFFFFh, §5.2.5.1; RSDT -> "APIC" table; Processor Local
 * APIC structures, type 0, byte 3 the APIC ID, flags bit 0 Enabled),
 * else the Intel MultiProcessor Specification 1.4 table ("_MP_" floating
 * pointer, processor entries type 0, byte 1 the local APIC ID, byte 3 bit
 * 0 CPU enabled).  QEMU's SeaBIOS provides both.
 *
 * Starting them: INIT-SIPI-SIPI through the local APIC's Interrupt Command
 * Register, as the Intel SDM Vol. 3A describes the MP initialization
 * protocol: an INIT IPI, a 10 ms wait, a Startup IPI whose vector is the
 * 4-KiB page of the real-mode entry code, a 200 us wait, a second Startup
 * IPI if the AP has not checked in.  One AP at a time: the trampoline
 * (trampoline.S, copied to 0x7000, vector 07h) takes the stack, CR3 and
 * entry point from its slots, which are rewritten for each AP.
 *
 * Per CPU: a 32 KiB stack in ap_stack[cpu]; smp_cpu_id() is derived from
 * the stack pointer (interrupts at CPL 0 stay on the current stack), so
 * it costs a subtraction and works in interrupt handlers.  CPU 0 is the
 * BSP (its stack is entry*.S's).  Idle APs wait in sti;hlt and are woken
 * by a fixed IPI on device vector index SMP_WAKE_IDX; device interrupts
 * (MSI-X vector q routed to CPU q-1) are taken there too.
 *
 * The OSAL additions (smp_osal_fill): spinlocks that disable interrupts
 * on the local CPU (the core holds a queue's lock around ring updates
 * and calls lock() from nvme_ctrl_handle_irq), cpu_id, and an interrupt
 * handler that counts deliveries per CPU and vector before calling the
 * harness's dev_irq().
 *
 * Other ISAs (aarch64, armv7, riscv64): the device tree's CPU count, hardware IDs
 * 0..n-1 (MPIDR affinity, hart ID) as QEMU's virt machines number them;
 * the ISA's arch_smp_start() (PSCI CPU_ON, the release of a parked hart)
 * brings a CPU to smp_ap_main() on its ap_stack, arch_smp_kick() ends
 * its arch_smp_idle() (a GIC SGI, a CLINT software interrupt).  The
 * rest (smp_run, the OSAL part, smp-io) is the same code as on x86.
 */
#include "smp.h"

#include "osal.h"

#define SMP_STACK (32u * 1024u)
#define SMP_WAKE_IDX (IRQ_VECTOR_MAX - 1u)

#if HARNESS_X86
#define SMP_TRAMP_BASE 0x7000u

#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_PENDING (1u << 12)
#define ICR_ASSERT (1u << 14)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)

extern char smp_tramp_start[], smp_tramp_end[];
extern char smp_tramp_cr3[], smp_tramp_stack[], smp_tramp_entry[];
#endif

static uint8_t ap_stack[SMP_MAX_CPUS][SMP_STACK] __attribute__((section(".bss.pool"), aligned(16)));

static unsigned ncpus = 1;
static uint32_t apic_of[SMP_MAX_CPUS];
static volatile uint32_t online[SMP_MAX_CPUS];
static volatile uint32_t irq_per_cpu[SMP_MAX_CPUS][IRQ_VECTOR_MAX];

static struct {
    void (*volatile fn)(unsigned cpu, void *arg);
    void *volatile arg;
    volatile uint32_t gen, done;
} work[SMP_MAX_CPUS];

unsigned smp_cpus(void) { return ncpus; }
uint32_t smp_apic_id(unsigned cpu) { return cpu < ncpus ? apic_of[cpu] : 0; }
uint32_t smp_irq_count(unsigned cpu, unsigned v)
{
    return cpu < SMP_MAX_CPUS && v < IRQ_VECTOR_MAX ? irq_per_cpu[cpu][v] : 0;
}

unsigned smp_cpu_id(void)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t off = sp - (uintptr_t)ap_stack;
    return off < sizeof(ap_stack) ? (unsigned)(off / SMP_STACK) : 0u;
}

uint32_t smp_hwid(void)
{
#if HARNESS_X86
    return lapic_id();
#else
    return arch_smp_hwid();
#endif
}

uint32_t harness_msix_dest(unsigned vector)
{
    if (ncpus <= 1)
        return smp_hwid();
    if (vector == 0)
        return apic_of[0];
    return apic_of[(vector - 1u) % ncpus];
}

#if HARNESS_X86
struct idtr {
    uint16_t limit;
    uintptr_t base;
} __attribute__((packed));
static struct idtr bsp_idtr;

/* A fixed physical address as a pointer the compiler cannot see through
 * (GCC's -Warray-bounds dislikes constant addresses). */
static void *phys(uintptr_t a)
{
    __asm__("" : "+r"(a));
    return (void *)a;
}

/* --- finding the CPUs ------------------------------------------------------------ */
static bool sum_ok(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s == 0;
}

static const uint8_t *scan_sig(uintptr_t from, uintptr_t to, const char *sig, size_t len,
                               size_t sum_len)
{
    for (uintptr_t a = from; a + 16 <= to; a += 16) {
        const uint8_t *p = (const uint8_t *)a;
        if (!memcmp(p, sig, len) && (sum_len == 0 || sum_ok(p, sum_len)))
            return p;
    }
    return NULL;
}

static const uint8_t *find_in_bios_areas(const char *sig, size_t len, size_t sum_len)
{
    uintptr_t ebda = (uintptr_t)(*(const volatile uint16_t *)phys(0x40e)) << 4; /* BDA 40:0E */
    const uint8_t *p = NULL;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        p = scan_sig(ebda, ebda + 1024, sig, len, sum_len);
    if (!p)
        p = scan_sig(0xe0000, 0x100000, sig, len, sum_len);
    if (!p && !memcmp(sig, "_MP_", 4))
        p = scan_sig(0x9fc00, 0xa0000, sig, len, sum_len);
    return p;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* APIC IDs of the enabled processors; returns how many (0: no table). */
static unsigned madt_cpus(uint32_t *ids, unsigned max)
{
    const uint8_t *rsdp = find_in_bios_areas("RSD PTR ", 8, 20);
    if (!rsdp)
        return 0;
    const uint8_t *rsdt = (const uint8_t *)(uintptr_t)rd32(rsdp + 16);
    if (!rsdt || memcmp(rsdt, "RSDT", 4))
        return 0;
    uint32_t len = rd32(rsdt + 4);
    for (uint32_t off = 36; off + 4 <= len; off += 4) {
        const uint8_t *t = (const uint8_t *)(uintptr_t)rd32(rsdt + off);
        if (!t || memcmp(t, "APIC", 4))
            continue;
        uint32_t tl = rd32(t + 4);
        unsigned n = 0;
        for (uint32_t e = 44; e + 2 <= tl && t[e + 1] >= 2; e += t[e + 1]) {
            if (t[e] == 0 && t[e + 1] >= 8 && (rd32(t + e + 4) & 1u) && n < max)
                ids[n++] = t[e + 3];
        }
        return n;
    }
    return 0;
}

static unsigned mptable_cpus(uint32_t *ids, unsigned max)
{
    const uint8_t *fp = find_in_bios_areas("_MP_", 4, 16);
    if (!fp)
        return 0;
    const uint8_t *ct = (const uint8_t *)(uintptr_t)rd32(fp + 4);
    if (!ct || memcmp(ct, "PCMP", 4))
        return 0;
    unsigned count = (unsigned)(ct[34] | ct[35] << 8), n = 0;
    const uint8_t *e = ct + 44;
    for (unsigned i = 0; i < count; i++) {
        if (e[0] == 0) {
            if ((e[3] & 1u) && n < max)
                ids[n++] = e[1];
            e += 20;
        } else {
            e += 8;
        }
    }
    return n;
}

/* --- starting them ------------------------------------------------------------------ */
/* Interrupts off: a wake() in an interrupt handler sends IPIs too, and
 * must not come between the two register writes. */
static void icr_send(uint32_t apic, uint32_t lo)
{
    uintptr_t l = lapic_base();
    unsigned long f = irq_save();
    mmio_wr32(l + LAPIC_ICR_HI, apic << 24);
    mmio_wr32(l + LAPIC_ICR_LO, lo);
    for (unsigned i = 0; i < 1000000 && (mmio_rd32(l + LAPIC_ICR_LO) & ICR_PENDING); i++)
        cpu_relax();
    irq_restore(f);
}

void smp_ap_main(void);
__attribute__((noreturn)) void smp_ap_main(void)
{
    __asm__ volatile("lidt %0" : : "m"(bsp_idtr));
    lapic_init();
    unsigned me = smp_cpu_id();
    online[me] = lapic_id() + 1u;
    uint32_t seen = 0;
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if (work[me].gen != seen) {
            seen = work[me].gen;
            irq_enable();
            work[me].fn(me, work[me].arg);
            __atomic_store_n(&work[me].done, seen, __ATOMIC_RELEASE);
            continue;
        }
        /* sti's one-instruction shadow: no wake-up IPI is lost between the
         * check above and the halt. */
        __asm__ volatile("sti; hlt" ::: "memory");
    }
}

static bool start_ap(unsigned cpu, uint32_t apic)
{
    uint8_t *t = phys(SMP_TRAMP_BASE);
    uintptr_t top = (uintptr_t)ap_stack[cpu] + SMP_STACK;
    uint64_t v;
    v = (uint64_t)top;
    memcpy(t + (smp_tramp_stack - smp_tramp_start), &v, 8);
    v = (uint64_t)(uintptr_t)smp_ap_main;
    memcpy(t + (smp_tramp_entry - smp_tramp_start), &v, 8);
    online[cpu] = 0;
    barrier();
    icr_send(apic, ICR_INIT | ICR_ASSERT);
    clock_sleep_us(10000);
    for (unsigned sipi = 0; sipi < 2 && !online[cpu]; sipi++) {
        icr_send(apic, ICR_STARTUP | ICR_ASSERT | (SMP_TRAMP_BASE >> 12));
        clock_sleep_us(200);
    }
    /* Up to 5 s (Linux waits 10 s for an AP's first sign of life): under
     * TCG on a loaded host the AP's vCPU thread may not run for a while;
     * 200 ms was once too short (qemu.i386.smp, helpers building nearby). */
    uint64_t until = clock_now_us() + 5000000;
    while (!online[cpu] && clock_now_us() < until)
        cpu_relax();
    if (online[cpu])
        return true;
    /* Given up: an INIT puts the AP back into wait-for-SIPI (SDM Vol. 3A
     * "INIT IPI"), so that it cannot come up later, while the next AP is
     * started on the same ap_stack[cpu] and trampoline slots: it took the
     * next AP's place (online[cpu] set: that AP got no SIPI) or ran on its
     * stack at once. */
    icr_send(apic, ICR_INIT | ICR_ASSERT);
    return false;
}

unsigned smp_init(unsigned want)
{
    uint32_t ids[32];
    const char *src = "ACPI MADT";
    unsigned n = madt_cpus(ids, 32);
    if (n == 0) {
        src = "MP table";
        n = mptable_cpus(ids, 32);
    }
    uint32_t bsp = lapic_id();
    char list[128];
    size_t pos = 0;
    list[0] = 0;
    for (unsigned i = 0; i < n && pos + 8 < sizeof(list); i++)
        pos += (size_t)snprintf(list + pos, sizeof(list) - pos, " %u", ids[i]);
    kprintf("harness: smp: %u CPU(s) in the %s, APIC IDs%s; BSP is APIC %u; %u wanted\n", n,
            n ? src : "(no table)", n ? list : " none", bsp, want);
    if (want > SMP_MAX_CPUS)
        want = SMP_MAX_CPUS;
    apic_of[0] = bsp;
    ncpus = 1;
    if (want <= 1 || n <= 1)
        return ncpus;

    __asm__ volatile("sidt %0" : "=m"(bsp_idtr));
    size_t tl = (size_t)(smp_tramp_end - smp_tramp_start);
    memcpy(phys(SMP_TRAMP_BASE), smp_tramp_start, tl);
    uint64_t cr3 = 0;
#ifdef __x86_64__
    uintptr_t c;
    __asm__ volatile("mov %%cr3, %0" : "=r"(c));
    cr3 = c;
#endif
    memcpy((uint8_t *)phys(SMP_TRAMP_BASE) + (smp_tramp_cr3 - smp_tramp_start), &cr3, 8);

    for (unsigned i = 0; i < n && ncpus < want; i++) {
        if (ids[i] == bsp)
            continue;
        uint64_t t0 = clock_now_us();
        if (!start_ap(ncpus, ids[i])) {
            kprintf("harness: smp: APIC %u did not come up after INIT-SIPI-SIPI\n", ids[i]);
            continue;
        }
        uint32_t got = online[ncpus] - 1u;
        kprintf("harness: smp: CPU %u up: APIC %u (reports %u), stack %p, %llu us\n", ncpus, ids[i],
                got, (void *)(ap_stack[ncpus] + SMP_STACK),
                (unsigned long long)(clock_now_us() - t0));
        apic_of[ncpus] = got;
        ncpus++;
    }
    kprintf("harness: smp: %u CPU(s) running\n", ncpus);
    return ncpus;
}

void smp_kick(unsigned cpu)
{
    if (cpu < ncpus)
        icr_send(apic_of[cpu], ICR_ASSERT | (IRQ_VECTOR_BASE + SMP_WAKE_IDX));
}

#else /* !HARNESS_X86 */

/* Runs on CPU `me` (its ap_stack) once arch_smp_start's code has set up
 * the CPU (vectors, MMU, interrupt controller); waits for smp_run's work
 * in arch_smp_idle() with interrupts off, as the x86 loop does. */
__attribute__((noreturn)) void smp_ap_main(void)
{
    unsigned me = smp_cpu_id();
    online[me] = smp_hwid() + 1u;
    uint32_t seen = 0;
    for (;;) {
        (void)irq_save();
        if (__atomic_load_n(&work[me].gen, __ATOMIC_ACQUIRE) != seen) {
            seen = work[me].gen;
            irq_enable();
            work[me].fn(me, work[me].arg);
            __atomic_store_n(&work[me].done, seen, __ATOMIC_RELEASE);
            continue;
        }
        arch_smp_idle();
    }
}

unsigned smp_init(unsigned want)
{
    unsigned n = arch_smp_cpus();
    uint32_t boot = smp_hwid();
    kprintf("harness: smp: %u CPU(s) in the device tree, hardware IDs 0..%u; boot CPU is %u; %u "
            "wanted\n",
            n, n ? n - 1u : 0u, boot, want);
    if (want > SMP_MAX_CPUS)
        want = SMP_MAX_CPUS;
    apic_of[0] = boot;
    ncpus = 1;
    for (uint32_t hw = 0; hw < n && ncpus < want; hw++) {
        if (hw == boot)
            continue;
        uint64_t t0 = clock_now_us();
        online[ncpus] = 0;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        int rc = arch_smp_start(hw, (uintptr_t)ap_stack[ncpus] + SMP_STACK);
        /* up to 5 s, as on x86 (a vCPU thread of a loaded host) */
        uint64_t until = clock_now_us() + 5000000;
        while (rc == 0 && !online[ncpus] && clock_now_us() < until)
            cpu_relax();
        if (rc != 0 || !online[ncpus]) {
            kprintf("harness: smp: CPU with hardware ID %u did not come up (start returned %d)\n",
                    hw, rc);
            /* No more: PSCI CPU_ON and a hart's release cannot be taken
             * back, so a late one would share ap_stack[ncpus] with the
             * next CPU started there (x86 sends such an AP an INIT). */
            break;
        }
        uint32_t got = online[ncpus] - 1u;
        kprintf("harness: smp: CPU %u up: hardware ID %u (reports %u), stack %p, %llu us\n", ncpus,
                hw, got, (void *)(ap_stack[ncpus] + SMP_STACK),
                (unsigned long long)(clock_now_us() - t0));
        apic_of[ncpus] = got;
        ncpus++;
    }
    kprintf("harness: smp: %u CPU(s) running\n", ncpus);
    return ncpus;
}

void smp_kick(unsigned cpu)
{
    if (cpu < ncpus)
        arch_smp_kick(apic_of[cpu]);
}

#endif /* HARNESS_X86 */

void smp_run(void (*fn)(unsigned cpu, void *arg), void *arg)
{
    for (unsigned c = 1; c < ncpus; c++) {
        work[c].fn = fn;
        work[c].arg = arg;
        __atomic_fetch_add(&work[c].gen, 1u, __ATOMIC_RELEASE);
        smp_kick(c);
    }
    fn(0, arg);
    for (unsigned c = 1; c < ncpus; c++)
        while (__atomic_load_n(&work[c].done, __ATOMIC_ACQUIRE) != work[c].gen)
            cpu_relax();
}

#ifndef HARNESS_NO_CORE

/* --- OSAL: spinlocks, cpu_id, interrupts ------------------------------------------------ */
struct spinlock {
    volatile uint32_t held;
    volatile uint32_t owner; /* CPU + 1 */
    unsigned long flags;
};

static void *spin_create(void *ctx) { return harness_mem_alloc(sizeof(struct spinlock)); }
static void spin_destroy(void *ctx, void *lock) { harness_mem_free(lock, sizeof(struct spinlock)); }
static void spin_lock(void *ctx, void *lock)
{
    struct spinlock *l = lock;
    unsigned me = smp_cpu_id() + 1u;
    unsigned long f = irq_save();
    if (l->held && l->owner == me) {
        kprintf("harness: smp: CPU %u takes lock %p it already holds (deadlock)\n", me - 1u, lock);
        qemu_exit(EXIT_CRASH);
    }
    uint64_t spins = 0;
    while (__atomic_exchange_n(&l->held, 1u, __ATOMIC_ACQUIRE)) {
        while (l->held) {
            cpu_relax();
            if (++spins == 200000000ull)
                kprintf("harness: smp: CPU %u spinning on lock %p held by CPU %u (deadlock?)\n",
                        me - 1u, lock, l->owner - 1u);
        }
    }
    l->owner = me;
    l->flags = f;
}
static void spin_unlock(void *ctx, void *lock)
{
    struct spinlock *l = lock;
    unsigned long f = l->flags;
    l->owner = 0;
    __atomic_store_n(&l->held, 0u, __ATOMIC_RELEASE);
    irq_restore(f);
}
static unsigned osal_cpu_id(void *ctx) { return smp_cpu_id(); }

static void smp_irq(unsigned i)
{
    irq_per_cpu[smp_cpu_id()][i]++;
    if (i == SMP_WAKE_IDX)
        return; /* smp_run's wake-up */
    dev_irq(i);
}

void smp_osal_fill(struct nvme_osal *o)
{
    o->lock_create = spin_create;
    o->lock_destroy = spin_destroy;
    o->lock = spin_lock;
    o->unlock = spin_unlock;
    o->cpu_id = osal_cpu_id;
    irq_set_handler(smp_irq);
}

/* --- smp-io NSID LBA SPAN ROUNDS ---------------------------------------------------------
 * CPU c owns LBAs [LBA + c*SPAN, LBA + (c+1)*SPAN).  Each round r, with
 * keys K(c, r, half) = 0x53000000 | c << 16 | r << 1 | half:
 *  - the first half through the blocking calls: nvme_write of the
 *    pattern, nvme_read back, compare;
 *  - the second half asynchronously on NVME_QID_CPU: 8-block writes, up
 *    to 16 in flight, doorbell once per batch (NVME_SUBMIT_NO_DOORBELL),
 *    then the same as reads, compared.
 * With interrupts the CPU only waits for its callbacks (MSI-X vector q is
 * routed to CPU q-1); with irq=poll it polls its own queue.  Counts per
 * CPU: commands (blocking calls + asynchronous completions), callbacks
 * that ran on another CPU, errors, blocks verified; per queue the sum of
 * its CPUs; per CPU and vector the interrupts taken.  check.py also reads
 * the last round's patterns back from the host image. */
#define SIO_SLOTS 16
#define SIO_CHUNK 8
#define SIO_BUF (256u * 1024u)

static uint8_t sio_buf[SMP_MAX_CPUS][SIO_BUF] __attribute__((section(".bss.pool"), aligned(4096)));

struct sio_cpu;
struct sio_slot {
    struct sio_cpu *owner;
    volatile bool busy;
};
struct sio_cpu {
    unsigned cpu;
    uint16_t qid;
    uint32_t apic;
    uint32_t blocking, async_done, other_cpu, errors, mismatches;
    uint32_t by_reset; /* completed by CPU 0's reset (nvme_qpair_harvest) */
    uint64_t verified;
    int first_err;
    uint64_t us;
    struct sio_slot slot[SIO_SLOTS];
};
struct sio_job {
    struct nvme_ctrl *ctrl;
    uint32_t nsid, lbs, span, rounds;
    uint32_t chunk; /* blocks per asynchronous command: SIO_CHUNK, fewer under MDTS */
    uint64_t lba0;
    bool poll;
    uint32_t resets; /* CPU 0 resets the controller before rounds 1..resets */
    uint32_t resets_done;
    volatile bool in_reset; /* CPU 0 is inside nvme_ctrl_reset */
    int reset_err;
    /* CPU 0 detaches namespace nschg from the controller before odd rounds
     * and attaches it again before even ones (nvme_ns_attach, which
     * rescans), while the others do I/O on nsid; 0: not */
    uint32_t nschg, nschg_done;
    int nschg_err;
    /* VERIFY: each round reads and compares what an earlier smp-io with
     * the same arguments wrote, writing nothing (check.py plants a
     * mismatch in the image between the two) */
    bool verify_only;
    struct sio_cpu cpu[SMP_MAX_CPUS];
};
static struct sio_job sio;

static uint32_t sio_key(unsigned cpu, unsigned round, unsigned half)
{
    return 0x53000000u | (uint32_t)cpu << 16 | (uint32_t)round << 1 | half;
}

static void sio_err(struct sio_cpu *c, int rc)
{
    __atomic_fetch_add(&c->errors, 1u, __ATOMIC_RELAXED);
    if (!c->first_err)
        c->first_err = rc;
}

static void sio_cb(void *arg, int result, uint32_t dw0)
{
    struct sio_slot *s = arg;
    struct sio_cpu *c = s->owner;
    if (result != 0)
        sio_err(c, result);
    unsigned here = smp_cpu_id();
    if (here == 0 && c->cpu != 0 && sio.in_reset) /* a completion the reset found posted */
        __atomic_fetch_add(&c->by_reset, 1u, __ATOMIC_RELAXED);
    else if (here != c->cpu)
        __atomic_fetch_add(&c->other_cpu, 1u, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->async_done, 1u, __ATOMIC_RELAXED);
    __atomic_store_n(&s->busy, false, __ATOMIC_RELEASE);
}

static void sio_verify(struct sio_cpu *c, const uint32_t *w, uint32_t key, uint64_t lba, uint32_t n)
{
    uint32_t per = sio.lbs / 4;
    for (uint32_t b = 0; b < n; b++) {
        for (uint32_t j = 0; j < per; j++) {
            if (w[(size_t)b * per + j] != pat_word(key, lba + b, j)) {
                c->mismatches++;
                break;
            }
        }
    }
    c->verified += n;
}

/* Waits until no slot is busy (or a free one when `any`); false on timeout. */
static bool sio_wait(struct sio_cpu *c, bool any)
{
    uint64_t until = clock_now_us() + 10000000ull;
    for (;;) {
        unsigned busy = 0;
        for (unsigned i = 0; i < SIO_SLOTS; i++)
            busy += __atomic_load_n(&c->slot[i].busy, __ATOMIC_ACQUIRE) ? 1u : 0u;
        if (busy == 0 || (any && busy < SIO_SLOTS))
            return true;
        if (clock_now_us() > until)
            return false;
        /* with RESETS, after 2 s also poll, as a kernel's periodic work
         * would (a command lost in a reset would then end by its deadline
         * and show in stats as a timeout, which check.py refuses) */
        if (sio.poll || (sio.resets && clock_now_us() + 8000000ull > until))
            (void)nvme_qpair_poll(sio.ctrl, c->qid, 0);
        else
            cpu_relax();
    }
}

static void sio_async(struct sio_cpu *c, uint8_t *buf, uint64_t lba, uint32_t n, uint32_t key,
                      bool write)
{
    uint8_t opc = write ? NVME_CMD_WRITE : NVME_CMD_READ;
    if (write)
        pat_fill((uint32_t *)buf, key, lba, n, sio.lbs);
    else
        memset(buf, 0, (size_t)n * sio.lbs);
    uint32_t off = 0;
    uint64_t state_until = 0, full_until = 0;
    while (off < n) {
        unsigned queued = 0;
        bool full = false;
        for (unsigned i = 0; i < SIO_SLOTS && off < n; i++) {
            struct sio_slot *s = &c->slot[i];
            if (s->busy)
                continue;
            uint32_t cnt = n - off < sio.chunk ? n - off : sio.chunk;
            s->busy = true;
            int rc = nvme_submit_rw(sio.ctrl, NVME_QID_CPU, opc, sio.nsid, lba + off, cnt,
                                    buf + (size_t)off * sio.lbs, NVME_SUBMIT_NO_DOORBELL, sio_cb,
                                    s);
            if (rc != 0) {
                s->busy = false;
                /* NVME_ERR_STATE: another CPU is resetting the controller
                 * (smp-io ... RESETS); go again, for at most 10 s */
                if (rc == NVME_ERR_STATE && state_until == 0)
                    state_until = clock_now_us() + 10000000u;
                if (rc != NVME_ERR_BUSY && (rc != NVME_ERR_STATE || clock_now_us() > state_until))
                    sio_err(c, rc);
                full = rc == NVME_ERR_BUSY;
                break;
            }
            queued++;
            off += cnt;
        }
        if (queued)
            nvme_qpair_ring(sio.ctrl, c->qid);
        /* The queue is full (qdepth= fewer entries than SIO_SLOTS): a free
         * slot of ours does not mean room in it, so sio_wait(any) returns at
         * once.  Reap (polled, nobody else does) and give up after 10 s, or
         * this loop spins for good. */
        if (full) {
            if (sio.poll)
                (void)nvme_qpair_poll(sio.ctrl, c->qid, 0);
            if (full_until == 0)
                full_until = clock_now_us() + 10000000u;
            else if (clock_now_us() > full_until && !c->errors)
                sio_err(c, NVME_ERR_TIMEOUT);
        } else if (queued) {
            full_until = 0;
        }
        if (c->errors || !sio_wait(c, true)) {
            if (!c->errors)
                sio_err(c, NVME_ERR_TIMEOUT);
            break;
        }
    }
    if (!sio_wait(c, false))
        sio_err(c, NVME_ERR_TIMEOUT);
    if (!write && !c->errors)
        sio_verify(c, (const uint32_t *)buf, key, lba, n);
}

static void sio_worker(unsigned cpu, void *arg)
{
    struct sio_cpu *c = &sio.cpu[cpu];
    uint8_t *buf = sio_buf[cpu];
    uint64_t base = sio.lba0 + (uint64_t)cpu * sio.span;
    uint32_t half = sio.span / 2;
    uint64_t t0 = clock_now_us();
    c->cpu = cpu;
    c->apic = smp_hwid();
    c->qid = nvme_ctrl_cpu_qid(sio.ctrl, smp_cpu_id());
    for (unsigned i = 0; i < SIO_SLOTS; i++)
        c->slot[i].owner = c;
    for (uint32_t r = 0; r < sio.rounds && !c->errors && !c->mismatches; r++) {
        uint32_t key = sio_key(cpu, r, 0);
        if (cpu == 0 && r > 0 && sio.resets_done < sio.resets) {
            /* the other CPUs are in the middle of their I/O */
            sio.in_reset = true;
            int rrc = nvme_ctrl_reset(sio.ctrl);
            sio.in_reset = false;
            sio.resets_done++;
            if (rrc != 0 && sio.reset_err == 0)
                sio.reset_err = rrc;
        }
        if (cpu == 0 && r > 0 && sio.nschg != 0) {
            int arc = nvme_ns_attach(sio.ctrl, sio.nschg, (r & 1u) == 0, NULL, 0);
            sio.nschg_done++;
            if (arc != 0 && sio.nschg_err == 0)
                sio.nschg_err = arc;
        }
        int rc = 0;
        if (!sio.verify_only) {
            pat_fill((uint32_t *)buf, key, base, half, sio.lbs);
            /* during another CPU's reset the core holds it (any error fails) */
            rc = nvme_write(sio.ctrl, sio.nsid, base, half, buf);
            c->blocking++;
        }
        if (rc == 0) {
            memset(buf, 0, (size_t)half * sio.lbs);
            rc = nvme_read(sio.ctrl, sio.nsid, base, half, buf);
            c->blocking++;
        }
        if (rc != 0) {
            sio_err(c, rc);
            break;
        }
        sio_verify(c, (const uint32_t *)buf, key, base, half);
        key = sio_key(cpu, r, 1);
        if (!sio.verify_only)
            sio_async(c, buf, base + half, sio.span - half, key, true);
        if (!c->errors)
            sio_async(c, buf, base + half, sio.span - half, key, false);
    }
    c->us = clock_now_us() - t0;
}

int smp_io(struct nvme_ctrl *ctrl, char *args)
{
    uint64_t v[7] = {0, 0, 0, 0, 0, 0, 0};
    for (unsigned i = 0; i < 7; i++) {
        while (*args == ' ')
            args++;
        char *w = args;
        while (*args && *args != ' ')
            args++;
        if (*args)
            *args++ = 0;
        if (i >= 4 && !*w)
            break; /* RESETS, NSCHG and VERIFY are optional */
        if (!*w || !parse_u64(w, &v[i])) {
            kprintf("smp-io: usage: smp-io NSID LBA SPAN ROUNDS [RESETS [NSCHG [VERIFY]]]\n");
            return NVME_ERR_INVAL;
        }
    }
    const struct nvme_ns_info *ns = nvme_ns_find(ctrl, (uint32_t)v[0]);
    if (!ns || ns->status) {
        kprintf("smp-io: no usable namespace %llu\n", (unsigned long long)v[0]);
        return NVME_ERR_NOENT;
    }
    if (v[2] < 2 || v[2] * ns->lba_size > SIO_BUF || v[3] == 0 || v[1] + v[2] * ncpus > ns->nsze) {
        kprintf("smp-io: SPAN 2..%u blocks, ROUNDS >= 1, LBA + SPAN x %u CPU(s) within the "
                "namespace's %llu blocks\n",
                (unsigned)(SIO_BUF / ns->lba_size), ncpus, (unsigned long long)ns->nsze);
        return NVME_ERR_INVAL;
    }
    memset(&sio, 0, sizeof(sio));
    sio.ctrl = ctrl;
    sio.nsid = (uint32_t)v[0];
    sio.lba0 = v[1];
    sio.span = (uint32_t)v[2];
    sio.rounds = (uint32_t)v[3];
    sio.resets = (uint32_t)v[4];
    sio.nschg = (uint32_t)v[5];
    sio.verify_only = v[6] != 0;
    if (sio.nschg == sio.nsid || sio.nschg > 0xfffffffeu) {
        kprintf("smp-io: NSCHG %u must be another namespace than NSID %u (the I/O's)\n", sio.nschg,
                sio.nsid);
        return NVME_ERR_INVAL;
    }
    sio.lbs = ns->lba_size;
    sio.poll = nvme_ctrl_get_info(ctrl)->irq_vectors == 0;
    /* nvme_submit_rw sends one command, at most mdts_bytes (mdts=1 and
     * 4 KiB blocks: 2 blocks), or refuses it: the pieces fit */
    uint32_t mdts = nvme_ctrl_get_info(ctrl)->mdts_bytes;
    sio.chunk = mdts / sio.lbs < SIO_CHUNK ? mdts / sio.lbs : SIO_CHUNK;
    if (sio.chunk == 0)
        sio.chunk = 1;
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(ctrl);
    kprintf(
        "smp-io: %u CPU(s), %u I/O queue(s), %u vector(s), %s; %u blocks per CPU from LBA %llu, "
        "%u round(s)\n",
        ncpus, info->io_queues, info->irq_vectors, sio.poll ? "polled" : "interrupts", sio.span,
        (unsigned long long)sio.lba0, sio.rounds);
    uint32_t irq_before[SMP_MAX_CPUS][IRQ_VECTOR_MAX];
    for (unsigned c = 0; c < SMP_MAX_CPUS; c++)
        for (unsigned i = 0; i < IRQ_VECTOR_MAX; i++)
            irq_before[c][i] = irq_per_cpu[c][i];
    uint64_t timeouts0 = nvme_ctrl_get_stats(ctrl)->timeouts;
    uint64_t t0 = clock_now_us();
    smp_run(sio_worker, NULL);
    uint64_t us = clock_now_us() - t0;

    int rc = 0;
    uint32_t per_q[SMP_MAX_CPUS + 1];
    memset(per_q, 0, sizeof(per_q));
    for (unsigned c = 0; c < ncpus; c++) {
        struct sio_cpu *s = &sio.cpu[c];
        uint32_t cmds = s->blocking + s->async_done;
        if (s->qid <= SMP_MAX_CPUS)
            per_q[s->qid] += cmds;
        kprintf("smp-io: cpu=%u apic=%u qid=%u commands=%u blocking=%u async=%u "
                "callbacks_on_other_cpu=%u completed_by_reset=%u errors=%u first_error=%d "
                "mismatches=%u verified_blocks=%llu us=%llu\n",
                c, s->apic, s->qid, cmds, s->blocking, s->async_done, s->other_cpu, s->by_reset,
                s->errors, s->first_err, s->mismatches, (unsigned long long)s->verified,
                (unsigned long long)s->us);
        if (s->errors || s->mismatches || s->verified != (uint64_t)sio.span * sio.rounds) {
            kprintf("smp-io: CPU %u failed\n", c);
            rc = s->first_err ? s->first_err : NVME_ERR_PROTO;
        }
        if (s->qid != nvme_ctrl_cpu_qid(ctrl, c) || s->apic != apic_of[c]) {
            kprintf("smp-io: CPU %u: queue %u / APIC %u, expected %u / %u\n", c, s->qid, s->apic,
                    nvme_ctrl_cpu_qid(ctrl, c), apic_of[c]);
            rc = NVME_ERR_STATE;
        }
        /* a CPU sharing a queue (fewer queues than CPUs), or whose queue
         * shares a vector (fewer vectors than queues: queue q on vector
         * 1 + (q - 1) % (vectors - 1), the core's spread), sees its
         * completions reaped wherever that vector goes */
        unsigned iov = info->irq_vectors > 1 ? info->irq_vectors - 1u : 1u;
        unsigned vec = 1u + (s->qid - 1u) % iov;
        /* Unless a deadline passed (a throttled drive): then the deadline
         * check, on whichever CPU runs it, reaps the completions it finds
         * posted ("completion(s) found at a deadline") and recovery
         * completes the rest. */
        if (!sio.poll && s->other_cpu && ncpus <= info->io_queues && (vec - 1u) % ncpus == c &&
            nvme_ctrl_get_stats(ctrl)->timeouts == timeouts0) {
            kprintf("smp-io: CPU %u: %u completions ran on another CPU (MSI-X routing)\n", c,
                    s->other_cpu);
            rc = NVME_ERR_STATE;
        }
    }
    for (unsigned q = 1; q <= info->io_queues && q <= SMP_MAX_CPUS; q++) {
        /* A queue no CPU here maps to (more queues than CPUs: ioq=64 on 4)
         * carries none; every other one must carry some. */
        bool mapped = false;
        for (unsigned c = 0; c < ncpus; c++)
            mapped = mapped || nvme_ctrl_cpu_qid(ctrl, c) == q;
        kprintf("smp-io: queue=%u commands=%u\n", q, per_q[q]);
        if (mapped && per_q[q] == 0) {
            kprintf("smp-io: queue %u carried no I/O\n", q);
            rc = NVME_ERR_STATE;
        }
    }
    for (unsigned i = 0; i < info->irq_vectors && i < IRQ_VECTOR_MAX; i++) {
        char line[160];
        size_t pos = 0;
        line[0] = 0;
        for (unsigned c = 0; c < ncpus; c++) {
            uint32_t d = irq_per_cpu[c][i] - irq_before[c][i];
            pos += (size_t)snprintf(line + pos, sizeof(line) - pos, " cpu%u=%u", c, d);
            if (i > 0 && d && c != (i - 1u) % ncpus) {
                kprintf("smp-io: vector %u was taken on CPU %u, not CPU %u\n", i, c,
                        (i - 1u) % ncpus);
                rc = NVME_ERR_STATE;
            }
        }
        kprintf("smp-io: vector=%u dest_apic=%u irqs:%s\n", i, harness_msix_dest(i), line);
        /* An I/O vector fires when a queue it serves (queue q on vector
         * 1 + (q - 1) % (vectors - 1)) carried I/O: with more vectors than
         * CPUs (ioq=64 on 4), some serve none. */
        bool used = false;
        for (unsigned q = 1; i > 0 && !used && q <= info->io_queues && q <= SMP_MAX_CPUS; q++)
            used = per_q[q] != 0 && 1u + (q - 1u) % (info->irq_vectors - 1u) == i;
        if (used && irq_per_cpu[(i - 1u) % ncpus][i] == irq_before[(i - 1u) % ncpus][i]) {
            kprintf("smp-io: vector %u never fired on CPU %u\n", i, (i - 1u) % ncpus);
            rc = NVME_ERR_STATE;
        }
    }
    if (sio.resets) {
        kprintf("smp-io: resets=%u first_error=%d\n", sio.resets_done, sio.reset_err);
        if (sio.reset_err)
            rc = sio.reset_err;
    }
    if (sio.nschg) {
        kprintf("smp-io: namespace %u detached and attached %u time(s), first_error=%d\n",
                sio.nschg, sio.nschg_done, sio.nschg_err);
        if (sio.nschg_err)
            rc = sio.nschg_err;
    }
    kprintf("smp-io: %s in %llu ms\n", rc ? "FAILED" : "ok, data verified on every CPU",
            (unsigned long long)(us / 1000));
    return rc;
}

#endif /* !HARNESS_NO_CORE */
