/* SPDX-License-Identifier: MIT */
/*
 * arch.c (riscv64) - the harness kernel on QEMU's "virt" machine in
 * M-mode: console (NS16550A), exit (SiFive test device), clock (the time
 * CSR at the device tree's timebase-frequency), traps, and arch_init(),
 * which reads the device tree (hw/riscv/virt.c builds it) and sets up the
 * PLIC or the IMSIC (irq.c) and the PCIe host with its BARs (pci_ecam.c).
 */
#include "../../osal.h"
#include "../../virt.h"

void arch_start(const void *dtb);
void arch_trap(uint64_t cause, uint64_t epc, uint64_t tval);
void kmain(uint32_t magic, uint32_t mbi_addr);
/* irq.c */
bool plic_init(void);
void plic_handle_irq(void);
uint8_t plic_intx_line(struct pci_addr a, unsigned pin);
bool imsic_init(void);
void imsic_handle_irq(void);
static bool have_imsic;

static const void *g_dtb;
static uintptr_t uart, test_dev;
uintptr_t riscv_clint;
static uint64_t timebase;
static uint64_t ram_base, ram_size;

/* --- console: NS16550A, byte registers (THR/RBR 0, LSR 5: THRE bit 5, DR bit 0) ----- */
void serial_init(void) {}

static void serial_putc(char c)
{
    for (unsigned i = 0; i < 1000000 && !(mmio_rd8(uart + 5) & 0x20); i++)
        cpu_relax();
    mmio_wr8(uart, (uint8_t)c);
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
    if (!uart || !(mmio_rd8(uart + 5) & 1))
        return false;
    *c = (char)mmio_rd8(uart);
    return true;
}

/* --- exit: the SiFive test device ("sifive,test0" in the device tree):
 * 0x3333 | status << 16 makes QEMU exit with that status
 * (hw/misc/sifive_test.c).  status = (code << 1) | 1, the statuses
 * isa-debug-exit gives on x86 (1 pass, 3 fail, 5 crash). */
void qemu_exit(uint8_t code)
{
    if (test_dev)
        mmio_wr32(test_dev, 0x3333u | ((((uint32_t)code << 1) | 1u) << 16));
    serial_write("harness: the SiFive test device did not stop QEMU; halting\n");
    for (;;)
        __asm__ volatile("csrci mstatus, 8\n\twfi");
}

/* --- clock ------------------------------------------------------------------------------ */
static uint64_t rdtime(void)
{
    uint64_t v;
    __asm__ volatile("csrr %0, time" : "=r"(v) : : "memory");
    return v;
}

uint64_t clock_now_us(void)
{
    uint64_t t = rdtime();
    return t / timebase * 1000000u + t % timebase * 1000000u / timebase;
}

void clock_sleep_us(uint32_t us)
{
    uint64_t end = rdtime() + (uint64_t)us * timebase / 1000000u + 1;
    while (rdtime() < end)
        cpu_relax();
}

/* The CLINT's machine timer (SiFive CLINT, RISC-V ACLINT spec MTIMER):
 * hart h's mtimecmp at +0x4000 + 8h; MTIP is pending while the time
 * (mtime, the time CSR) is at or past it.  mie.MTIE and MSIE on around
 * the WFI only: with mstatus.MIE off neither traps (privileged spec
 * 3.3.3), they end the WFI; after it, the compare at its maximum clears
 * MTIP and MSIP is cleared (a kick taken). */
void arch_halt(uint32_t us)
{
    uint64_t hart;
    __asm__ volatile("csrr %0, mhartid" : "=r"(hart));
    if (!riscv_clint)
        return; /* osal_wait spins on */
    uintptr_t cmp = riscv_clint + 0x4000u + 8u * (uintptr_t)hart;
    mmio_wr64(cmp, rdtime() + (uint64_t)us * timebase / 1000000u + 1);
    __asm__ volatile("csrs mie, %0\n\twfi\n\tcsrc mie, %0" : : "r"(MIE_MSIE | MIE_MTIE) : "memory");
    mmio_wr64(cmp, ~0ull);
    mmio_wr32(riscv_clint + 4u * (uintptr_t)hart, 0);
}

/* --- traps ------------------------------------------------------------------------------- */
void arch_trap(uint64_t cause, uint64_t epc, uint64_t tval)
{
    if ((cause >> 63) && (cause & 0xff) == 11) { /* machine external interrupt */
        if (have_imsic)
            imsic_handle_irq();
        else
            plic_handle_irq();
        return;
    }
    kprintf("\nharness: CPU trap mcause=0x%llx mepc=0x%llx mtval=0x%llx\n",
            (unsigned long long)cause, (unsigned long long)epc, (unsigned long long)tval);
    kprintf("harness: RESULT CRASH\n");
    qemu_exit(EXIT_CRASH);
}

/* --- boot -------------------------------------------------------------------------------- */
void arch_start(const void *dtb)
{
    g_dtb = dtb;
    if (fdt_init(dtb)) {
        struct fdt_node n;
        uint64_t s;
        if (fdt_by_compat("ns16550a", &n) && fdt_reg(&n, 0, &ram_base, &s))
            uart = (uintptr_t)ram_base;
        if (fdt_by_compat("sifive,test0", &n) && fdt_reg(&n, 0, &ram_base, &s))
            test_dev = (uintptr_t)ram_base;
        if ((fdt_by_compat("sifive,clint0", &n) || fdt_by_compat("riscv,clint0", &n)) &&
            fdt_reg(&n, 0, &ram_base, &s))
            riscv_clint = (uintptr_t)ram_base;
        ram_base = 0;
        if (fdt_by_name("memory", &n))
            fdt_reg(&n, 0, &ram_base, &ram_size);
        if (fdt_by_name("cpus", &n))
            timebase = fdt_u32(&n, "timebase-frequency", 0);
    }
    if (!timebase)
        timebase = 10000000; /* only if the device tree lacks it */
    kmain(0, 0);
    qemu_exit(EXIT_CRASH);
}

static char cmdline[4096];

const char *arch_init(void)
{
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
    uint64_t misa;
    __asm__ volatile("csrr %0, misa" : "=r"(misa));
    kprintf("harness: memory %llu KiB at 0x%llx, device tree at %p (%u bytes), command line: ",
            (unsigned long long)(ram_size >> 10), (unsigned long long)ram_base, g_dtb,
            fdt_total_size());
    serial_write(cmdline);
    serial_write("\n");
    unsigned ncpu = fdt_count_device_type("cpu");
    kprintf("harness: M-mode, no paging, misa 0x%llx (%u CPU%s in the device tree; the other "
            "harts stay parked until cpus=N releases them); time CSR at %llu Hz; NS16550A at "
            "0x%lx, SiFive test at 0x%lx\n",
            (unsigned long long)misa, ncpu, ncpu == 1 ? "" : "s", (unsigned long long)timebase,
            (unsigned long)uart, (unsigned long)test_dev);
    /* -M virt,aia=aplic-imsic has an IMSIC (MSI-X) and no PLIC (irq.c) */
    have_imsic = imsic_init();
    if (!have_imsic && !plic_init())
        kprintf("harness: no usable PLIC or IMSIC: interrupts unavailable\n");
    irq_enable();
    struct pci_host h;
    if (pci_host_init(&h))
        pci_assign_bars(&h, plic_intx_line);
    return cmdline;
}
