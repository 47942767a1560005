/* SPDX-License-Identifier: MIT */
/*
 * arch.c (aarch64) - the harness kernel on QEMU's "virt" machine: console
 * (PL011), exit (semihosting), clock (generic timer), MMU, exceptions, and
 * arch_init() which reads the device tree and sets up the GICv3/ITS
 * (irq.c) and the PCIe host with its BARs (pci_ecam.c).  Every address
 * comes from the device tree QEMU passes in x0 (hw/arm/virt.c builds it).
 */
#include "../../osal.h"
#include "../../virt.h"

void arch_start(const void *dtb);
void arch_exception(unsigned idx, uint64_t *frame);
void kmain(uint32_t magic, uint32_t mbi_addr);
/* irq.c */
bool gic_init(void);
void gic_handle_irq(void);
uint8_t gic_intx_line(struct pci_addr a, unsigned pin);

static const void *g_dtb;
static uintptr_t uart; /* PL011 */
static uint64_t cnt_freq;
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

/* --- exit: Arm semihosting SYS_EXIT (0x18) with an ADP_Stopped_ApplicationExit
 * (0x20026) parameter block; QEMU (-semihosting-config enable=on,target=native)
 * exits with the block's exit code.  The code is (code << 1) | 1, the same
 * statuses isa-debug-exit gives on x86 (1 pass, 3 fail, 5 crash), so run.sh
 * reads every arch alike. */
void qemu_exit(uint8_t code)
{
    static uint64_t block[2];
    static bool exiting;
    /* Without semihosting "hlt #0xf000" is an undefined instruction: the
     * crash report calls us again; stop there, QEMU's timeout ends it. */
    if (exiting)
        for (;;)
            __asm__ volatile("msr daifset, #0xf\n\twfi");
    exiting = true;
    block[0] = 0x20026;
    block[1] = ((uint64_t)code << 1) | 1;
    register uint64_t x0 __asm__("x0") = 0x18;
    register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)block;
    __asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
    serial_write(
        "harness: semihosting exit did not stop QEMU (-semihosting-config missing?); halting\n");
    for (;;)
        __asm__ volatile("msr daifset, #0xf\n\twfi");
}

/* --- clock: the generic timer's virtual count -------------------------------------- */
static uint64_t cntvct(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
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

/* The virtual timer (CNTV_TVAL_EL0 counts down from `us` in ticks,
 * CNTV_CTL_EL0 ENABLE bit 0, IMASK bit 1) bounds the WFI; with DAIF.I
 * set a pending IRQ still ends it (Arm ARM: WFI wake-up events)
 * and is taken once the caller unmasks.  Off again after, so the
 * level-sensitive PPI drops; gic_handle_irq masks it if it came first. */
void arch_halt(uint32_t us)
{
    uint64_t t = (uint64_t)us * cnt_freq / 1000000u + 1;
    __asm__ volatile("msr cntv_tval_el0, %0\n\tmsr cntv_ctl_el0, %1\n\tisb\n\tdsb sy\n\twfi\n\t"
                     "msr cntv_ctl_el0, xzr\n\tisb"
                     :
                     : "r"(t < 0x7fffffffu ? t : 0x7fffffffu), "r"(1ul)
                     : "memory");
}

/* --- MMU: one level-1 table, 4 KiB granule, 39-bit VA, 1 GiB blocks, identity.
 * MAIR attr0 = 0x04 Device-nGnRE (everything that is not RAM: UART, GIC,
 * ECAM, PCI windows), attr1 = 0xff Normal inner/outer write-back
 * read/write-allocate (RAM, inner shareable).  With RAM cacheable and the
 * BARs device memory, the MMIO accessors' barriers are what orders the
 * device's view of queue memory against doorbells (arch_hw.h). */
uint64_t mmu_l1[512] __attribute__((aligned(4096)));
void arch_mmu_on(void); /* entry.S: on every CPU */

#define PTE_BLOCK 0x1ull
#define PTE_AF (1ull << 10)
#define PTE_ISH (3ull << 8)
#define PTE_ATTR(i) ((uint64_t)(i) << 2)
#define PTE_PXN (1ull << 53)
#define PTE_UXN (1ull << 54)

static void mmu_init(void)
{
    for (uint64_t i = 0; i < 512; i++) {
        uint64_t pa = i << 30;
        bool ram = pa + (1ull << 30) > ram_base && pa < ram_base + ram_size;
        mmu_l1[i] = pa | PTE_BLOCK | PTE_AF |
                    (ram ? (PTE_ATTR(1) | PTE_ISH) : (PTE_ATTR(0) | PTE_PXN | PTE_UXN));
    }
    /* the table was written with the MMU (and caches) off: drop any stale
     * line before the walker reads it cacheably */
    __asm__ volatile("dsb sy" ::: "memory");
    for (uintptr_t p = (uintptr_t)mmu_l1; p < (uintptr_t)mmu_l1 + sizeof(mmu_l1); p += 64)
        __asm__ volatile("dc ivac, %0" : : "r"(p) : "memory");
    arch_mmu_on();
}

/* --- exceptions ------------------------------------------------------------------- */
void arch_exception(unsigned idx, uint64_t *frame)
{
    /* 1: IRQ at EL1 with SP_EL0, 5: IRQ at EL1 with SP_ELx */
    if (idx == 5 || idx == 1) {
        gic_handle_irq();
        return;
    }
    uint64_t esr, far;
    __asm__ volatile("mrs %0, esr_el1\n\tmrs %1, far_el1" : "=r"(esr), "=r"(far));
    kprintf("\nharness: CPU exception vector %u ESR=0x%llx (EC 0x%llx) ELR=0x%llx FAR=0x%llx "
            "SPSR=0x%llx lr=0x%llx\n",
            idx, (unsigned long long)esr, (unsigned long long)(esr >> 26),
            (unsigned long long)frame[31], (unsigned long long)far, (unsigned long long)frame[32],
            (unsigned long long)frame[30]);
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
    uint64_t el, mpidr;
    __asm__ volatile("mrs %0, CurrentEL\n\tmrs %1, mpidr_el1\n\tmrs %2, cntfrq_el0"
                     : "=r"(el), "=r"(mpidr), "=r"(cnt_freq));
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
    kprintf("harness: EL%llu, MPIDR 0x%llx (%u CPU%s in the device tree; the others stay off until "
            "PSCI CPU_ON, cpus=N), MMU on: RAM Normal WB cacheable, MMIO Device-nGnRE; "
            "generic timer %llu Hz; PL011 at 0x%lx\n",
            (unsigned long long)((el >> 2) & 3), (unsigned long long)mpidr, ncpu,
            ncpu == 1 ? "" : "s", (unsigned long long)cnt_freq, (unsigned long)uart);
    if (!gic_init())
        kprintf("harness: no usable GICv3/ITS: interrupts unavailable\n");
    irq_enable();
    struct pci_host h;
    if (pci_host_init(&h))
        pci_assign_bars(&h, gic_intx_line);
    return cmdline;
}
