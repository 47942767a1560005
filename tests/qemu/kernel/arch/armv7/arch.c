/* SPDX-License-Identifier: MIT */
/*
 * arch.c (armv7) - the harness kernel on QEMU's "virt" machine for 32-bit
 * ARM (qemu-system-arm -M virt,highmem=off: the ECAM and the PCI MMIO
 * window below 4 GiB, no LPAE needed): console (PL011), exit
 * (semihosting), clock (generic timer), MMU, exceptions, and arch_init()
 * which reads the device tree and sets up the GICv2 with its v2m MSI frame
 * (irq.c) and the PCIe host with its BARs (pci_ecam.c).  Every address
 * comes from the device tree QEMU passes in r2 (hw/arm/virt.c builds it).
 */
#include "../../osal.h"
#include "../../virt.h"

void arch_start(const void *dtb);
void arch_exception(unsigned idx, uint32_t *frame);
void arch_irq(void);
void kmain(uint32_t magic, uint32_t mbi_addr);
/* irq.c */
bool gic_init(void);
void gic_handle_irq(void);
uint8_t gic_intx_line(struct pci_addr a, unsigned pin);

static const void *g_dtb;
static uintptr_t uart; /* PL011 */
static uint32_t cnt_freq;
static uint64_t ram_base, ram_size;

/* --- console: PL011 (DR 0x00, FR 0x18: TXFF bit 5, RXFE bit 4) ---------------------- */
void serial_init(void) {}

static void serial_putc(char c)
{
    for (unsigned i = 0; i < 1000000 && (mmio_rd32(uart + 0x18) & (1u << 5)); i++)
        cpu_relax();
    mmio_wr32(uart, (uint8_t)c);
}

void serial_write(const char *s)
{
    if (!uart)
        return;
    unsigned long f = irq_save();
    while (*s)
        serial_putc(*s++);
    irq_restore(f);
}

bool serial_getc(char *c)
{
    if (!uart || (mmio_rd32(uart + 0x18) & (1u << 4)))
        return false;
    *c = (char)(mmio_rd32(uart) & 0xff);
    return true;
}

/* --- exit: Arm semihosting (svc 0x123456 in ARM state).  The A32 SYS_EXIT
 * (0x18) takes only a reason, no status; SYS_EXIT_EXTENDED (0x20, semihosting
 * v2) takes the A64-style block {ADP_Stopped_ApplicationExit 0x20026, code}
 * and QEMU (-semihosting-config enable=on,target=native) exits with the
 * code: (code << 1) | 1, the statuses isa-debug-exit gives on x86 (1 pass,
 * 3 fail, 5 crash), so run.sh reads every arch alike. */
void qemu_exit(uint8_t code)
{
    static uint32_t block[2];
    static bool exiting;
    /* Without semihosting the svc is an SVC exception: the crash report
     * calls us again; stop there, QEMU's timeout ends it. */
    if (exiting)
        for (;;)
            __asm__ volatile("cpsid if\n\twfi");
    exiting = true;
    block[0] = 0x20026;
    block[1] = ((uint32_t)code << 1) | 1u;
    register uint32_t r0 __asm__("r0") = 0x20;
    register uint32_t r1 __asm__("r1") = (uint32_t)(uintptr_t)block;
    __asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory", "lr");
    serial_write(
        "harness: semihosting exit did not stop QEMU (-semihosting-config missing?); halting\n");
    for (;;)
        __asm__ volatile("cpsid if\n\twfi");
}

/* --- clock: the generic timer's virtual count (CNTVCT, 64 bits) ---------------------- */
static uint64_t cntvct(void)
{
    uint32_t lo, hi;
    __asm__ volatile("isb\n\tmrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

uint64_t clock_now_us(void)
{
    uint64_t t = cntvct();
    return t / cnt_freq * 1000000u + t % cnt_freq * 1000000u / cnt_freq;
}

void clock_sleep_us(uint32_t us)
{
    uint64_t end = cntvct() + (uint64_t)us * cnt_freq / 1000000u + 1;
    while (cntvct() < end)
        cpu_relax();
}

/* The virtual timer (CNTV_TVAL counts down from `us` in ticks, CNTV_CTL
 * ENABLE bit 0, IMASK bit 1: the ARM ARM's generic timer registers)
 * bounds the WFI; with CPSR.I set a pending IRQ still ends it (WFI
 * wake-up events) and is taken once the caller unmasks.  Off again after, so the
 * level-sensitive PPI drops; gic_handle_irq masks it if it came first. */
void arch_halt(uint32_t us)
{
    uint64_t t = (uint64_t)us * cnt_freq / 1000000u + 1;
    __asm__ volatile("mcr p15, 0, %0, c14, c3, 0\n\tmcr p15, 0, %1, c14, c3, 1\n\tisb\n\t"
                     "dsb\n\twfi\n\tmcr p15, 0, %2, c14, c3, 1\n\tisb"
                     :
                     : "r"((uint32_t)(t < 0x7fffffffu ? t : 0x7fffffffu)), "r"(1u), "r"(0u)
                     : "memory");
}

/* --- MMU: the short-descriptor format (ARM ARM B3.5), one first-level table
 * of 4096 1 MiB sections, identity.  RAM: Normal, inner/outer write-back
 * write-allocate (TEX 001 C 1 B 1), shareable; everything else (UART, GIC,
 * ECAM, the PCI window): Shareable Device (TEX 000 C 0 B 1), execute never.
 * Domain 0 client, AP 0b011 (read/write at PL1).  SCTLR.A = 1: alignment
 * checking on.  Everything is built with -mno-unaligned-access, so the
 * compiler never means a misaligned access; one that happens anyway (a
 * misaligned pointer cast in the core, nvmectl or the harness) is a data
 * abort, the boot a CRASH, as on a CPU without unaligned support.
 * entry.S's arch_mmu_on() turns it on, on every CPU (ACTLR.SMP first). */
uint32_t mmu_l1[4096] __attribute__((aligned(16384)));
void arch_mmu_on(void);

#define SECT 0x2u
#define SECT_B (1u << 2)
#define SECT_C (1u << 3)
#define SECT_XN (1u << 4)
#define SECT_AP_RW (3u << 10)
#define SECT_TEX(x) ((uint32_t)(x) << 12)
#define SECT_S (1u << 16)

static void mmu_init(void)
{
    for (uint32_t i = 0; i < 4096; i++) {
        uint64_t pa = (uint64_t)i << 20;
        bool ram = pa + (1u << 20) > ram_base && pa < ram_base + ram_size;
        mmu_l1[i] = (uint32_t)pa | SECT | SECT_AP_RW |
                    (ram ? (SECT_TEX(1) | SECT_C | SECT_B | SECT_S) : (SECT_B | SECT_XN));
    }
    /* the table was written with the MMU (and caches) off: drop any stale
     * line before the walker reads it cacheably (DCIMVAC) */
    __asm__ volatile("dsb" ::: "memory");
    for (uintptr_t p = (uintptr_t)mmu_l1; p < (uintptr_t)mmu_l1 + sizeof(mmu_l1); p += 32)
        __asm__ volatile("mcr p15, 0, %0, c7, c6, 1" : : "r"(p) : "memory");
    arch_mmu_on();
}

/* --- exceptions ------------------------------------------------------------------- */
void arch_irq(void) { gic_handle_irq(); }

/* frame: r0-r12, lr_svc, the faulting address, SPSR (entry.S) */
void arch_exception(unsigned idx, uint32_t *frame)
{
    static const char *const names[] = {
        "reset", "undefined instruction", "svc", "prefetch abort", "data abort", "unused", "irq",
        "fiq"};
    uint32_t dfsr, dfar, ifsr, ifar;
    __asm__ volatile("mrc p15, 0, %0, c5, c0, 0\n\t"
                     "mrc p15, 0, %1, c6, c0, 0\n\t"
                     "mrc p15, 0, %2, c5, c0, 1\n\t"
                     "mrc p15, 0, %3, c6, c0, 2"
                     : "=r"(dfsr), "=r"(dfar), "=r"(ifsr), "=r"(ifar));
    kprintf("\nharness: CPU exception %u (%s) at PC=0x%x SPSR=0x%x lr=0x%x DFSR=0x%x DFAR=0x%x "
            "IFSR=0x%x IFAR=0x%x\n",
            idx, names[idx & 7], (unsigned)frame[14], (unsigned)frame[15], (unsigned)frame[13],
            (unsigned)dfsr, (unsigned)dfar, (unsigned)ifsr, (unsigned)ifar);
    kprintf("harness: RESULT CRASH\n");
    qemu_exit(EXIT_CRASH);
}

/* --- boot ---------------------------------------------------------------------------- */
void arch_start(const void *dtb)
{
    g_dtb = dtb;
    if (fdt_init(dtb)) {
        struct fdt_node n;
        if (fdt_by_compat("arm,pl011", &n)) {
            uint64_t b, s;
            if (fdt_reg(&n, 0, &b, &s))
                uart = (uintptr_t)b;
        }
        if (fdt_by_name("memory", &n))
            fdt_reg(&n, 0, &ram_base, &ram_size);
    }
    if (!ram_size) { /* no device tree: nothing to print on, nowhere to go */
        qemu_exit(EXIT_CRASH);
    }
    mmu_init();
    kmain(0, 0);
    qemu_exit(EXIT_CRASH);
}

static char cmdline[4096];

const char *arch_init(void)
{
    uint32_t cpsr, mpidr, midr, actlr;
    __asm__ volatile("mrs %0, cpsr\n\t"
                     "mrc p15, 0, %1, c0, c0, 5\n\t"  /* MPIDR */
                     "mrc p15, 0, %2, c0, c0, 0\n\t"  /* MIDR */
                     "mrc p15, 0, %3, c14, c0, 0\n\t" /* CNTFRQ */
                     "mrc p15, 0, %4, c1, c0, 1"      /* ACTLR */
                     : "=r"(cpsr), "=r"(mpidr), "=r"(midr), "=r"(cnt_freq), "=r"(actlr));
    if (!cnt_freq)
        cnt_freq = 62500000;
    struct fdt_node n;
    if (fdt_by_name("chosen", &n)) {
        uint32_t len;
        const char *b = fdt_prop(&n, "bootargs", &len);
        if (b) {
            size_t k = 0;
            while (k < len && b[k] && k + 1 < sizeof(cmdline)) {
                cmdline[k] = b[k];
                k++;
            }
            cmdline[k] = 0;
        }
    }
    kprintf("harness: memory %llu KiB at 0x%llx, device tree at %p (%u bytes), command line: ",
            (unsigned long long)(ram_size >> 10), (unsigned long long)ram_base, g_dtb,
            fdt_total_size());
    serial_write(cmdline);
    serial_write("\n");
    unsigned ncpu = fdt_count_device_type("cpu");
    kprintf("harness: mode 0x%x, MIDR 0x%x, MPIDR 0x%x, ACTLR 0x%x (%u CPU%s in the device "
            "tree; the others stay off until PSCI CPU_ON, cpus=N), MMU on: RAM Normal WB "
            "cacheable, MMIO Device, alignment checked; generic timer %u Hz; PL011 at 0x%lx\n",
            (unsigned)(cpsr & 0x1f), (unsigned)midr, (unsigned)mpidr, (unsigned)actlr, ncpu,
            ncpu == 1 ? "" : "s", (unsigned)cnt_freq, (unsigned long)uart);
    if (!gic_init())
        kprintf("harness: no usable GICv2: interrupts unavailable\n");
    irq_enable();
    struct pci_host h;
    if (pci_host_init(&h))
        pci_assign_bars(&h, gic_intx_line);
    return cmdline;
}
