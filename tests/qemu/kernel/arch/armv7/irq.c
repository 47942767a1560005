/* SPDX-License-Identifier: MIT */
/*
 * irq.c (armv7) - interrupts through the GICv2 of QEMU's virt machine
 * (ARM Generic Interrupt Controller Architecture Specification v2, IHI
 * 0048: 4.3 distributor, 4.4 CPU interface registers), and the interrupt
 * part of the harness's OSAL.
 *
 * MSI-X: the GICv2m frame ("arm,gic-v2m-frame", the GIC node's child):
 * MSI_TYPER (0x008) gives its first SPI's INTID (bits 25:16) and how many
 * it has (bits 9:0); a write of an INTID to MSI_SETSPI_NS (0x040) raises
 * that SPI.  Vector i -> the frame's SPI base + i, edge triggered; the
 * MSI-X entry's address is the frame's MSI_SETSPI_NS, its data the INTID.
 *
 * INTx (irq=intx): the SPI the PCIe node's "interrupt-map" gives for the
 * slot and pin (<0 SPI level> cells of the GIC), level triggered.
 *
 * QEMU's virt machine without secure=on has a GIC without the Security
 * Extensions: group 0 is signalled as IRQ.  INTx and the admin vector
 * target CPU 0; with cpus=N, MSI-X vector q (I/O queue q) targets CPU
 * (q-1) mod N (GICD_ITARGETSR), as the x86 harness routes it.
 *
 * Per CPU (gic_cpu_init, on each CPU: the CPU interface and the SGI/PPI
 * registers are banked, 4.1.2 / 4.3): GICC_PMR/BPR/CTLR, the wake-up
 * SGI enabled; GICD_ITARGETSR0 read back tells the CPU interface's own
 * target bit (4.3.12: "each field returns a value that corresponds only
 * to the processor reading the register"; zero on a uniprocessor GIC).
 * smp.c's wake-up is SGI_WAKE through GICD_SGIR (4.3.15).
 */
#include "../../osal.h"
#include "../../smp.h"
#include "../../virt.h"

bool gic_init(void);
void gic_cpu_init(void);
void gic_send_wake(uint32_t hw);
void gic_handle_irq(void);
uint8_t gic_intx_line(struct pci_addr a, unsigned pin);

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_ISENABLER(n) (0x100 + 4 * ((n) / 32))
#define GICD_ICENABLER(n) (0x180 + 4 * ((n) / 32))
#define GICD_ICPENDR(n) (0x280 + 4 * ((n) / 32))
#define GICD_IPRIORITYR(n) (0x400 + (n))
#define GICD_ITARGETSR(n) (0x800 + (n))
#define GICD_ICFGR(n) (0xc00 + 4 * ((n) / 16))
#define GICD_SGIR 0xf00
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_BPR 0x08
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10
#define V2M_MSI_TYPER 0x008
#define V2M_MSI_SETSPI_NS 0x040

static uintptr_t gicd, gicc, v2m;
static uint32_t gic_phandle;
static uint32_t timer_ppi = TIMER_PPI_DEFAULT; /* arch_halt's timer (gic_init: from the DT) */
static unsigned msi_base, msi_count;           /* the v2m frame's INTIDs */
#define SGI_WAKE 1u                            /* smp.c's wake-up (ignored when taken) */
static uint8_t cpu_if[8];                      /* GICD_ITARGETSR bit of MPIDR Aff0 0..7 */

/* This CPU's interface (banked registers): priority mask, the wake-up SGI. */
void gic_cpu_init(void)
{
    uint32_t hw = smp_hwid() & 7u;
    uint8_t bit = mmio_rd8(gicd + GICD_ITARGETSR(0));
    cpu_if[hw] = bit ? bit : (uint8_t)(1u << hw);
    mmio_wr8(gicd + GICD_IPRIORITYR(SGI_WAKE), 0xa0);
    mmio_wr32(gicd + GICD_ISENABLER(SGI_WAKE), 1u << SGI_WAKE);
    mmio_wr8(gicd + GICD_IPRIORITYR(timer_ppi), 0xa0); /* arch_halt's */
    mmio_wr32(gicd + GICD_ISENABLER(timer_ppi), 1u << (timer_ppi % 32));
    mmio_wr32(gicc + GICC_PMR, 0xff);
    mmio_wr32(gicc + GICC_BPR, 0);
    mmio_wr32(gicc + GICC_CTLR, 1);
}

/* GICD_SGIR: TargetListFilter 0, CPUTargetList bits 23:16, SGIINTID. */
void gic_send_wake(uint32_t hw)
{
    mmio_wr32(gicd + GICD_SGIR, (uint32_t)cpu_if[hw & 7u] << 16 | SGI_WAKE);
}

/* Vector i's CPU interface: the admin vector CPU 0, vector q CPU (q-1) mod N. */
static uint8_t vector_target(unsigned i)
{
    unsigned n = smp_cpus();
    unsigned c = (i == 0 || n <= 1) ? 0u : (i - 1u) % n;
    return cpu_if[smp_apic_id(c) & 7u] ? cpu_if[smp_apic_id(c) & 7u] : 1u;
}

/* INTID id: level (INTx) or rising edge (v2m), priority 0xa0, CPU 0. */
static void spi_config(unsigned id, bool edge)
{
    uint32_t cfg = mmio_rd32(gicd + GICD_ICFGR(id));
    uint32_t bit = 2u << (2 * (id % 16));
    mmio_wr32(gicd + GICD_ICFGR(id), edge ? cfg | bit : cfg & ~bit);
    mmio_wr8(gicd + GICD_IPRIORITYR(id), 0xa0);
    mmio_wr8(gicd + GICD_ITARGETSR(id), 0x01);
}

static void spi_enable(unsigned intid, bool on)
{
    mmio_wr32(gicd + (on ? GICD_ISENABLER(intid) : GICD_ICENABLER(intid)), 1u << (intid % 32));
}

bool gic_init(void)
{
    struct fdt_node n;
    uint64_t b, s;
    if ((!fdt_by_compat("arm,cortex-a15-gic", &n) && !fdt_by_compat("arm,gic-400", &n)) ||
        !fdt_reg(&n, 0, &b, &s))
        return false;
    gicd = (uintptr_t)b;
    gic_phandle = fdt_u32(&n, "phandle", 0);
    timer_ppi = fdt_arm_vtimer_intid(fdt_u32(&n, "#interrupt-cells", 3), TIMER_PPI_DEFAULT);
    if (!fdt_reg(&n, 1, &b, &s))
        return false;
    gicc = (uintptr_t)b;
    unsigned lines = 32u * ((mmio_rd32(gicd + GICD_TYPER) & 0x1fu) + 1u);
    /* distributor off while the SPIs are masked and their pending state dropped */
    mmio_wr32(gicd + GICD_CTLR, 0);
    for (unsigned id = 32; id < lines; id += 32) {
        mmio_wr32(gicd + GICD_ICENABLER(id), 0xffffffffu);
        mmio_wr32(gicd + GICD_ICPENDR(id), 0xffffffffu);
    }
    mmio_wr32(gicd + GICD_CTLR, 1);
    gic_cpu_init();
    if (fdt_by_compat("arm,gic-v2m-frame", &n) && fdt_reg(&n, 0, &b, &s)) {
        v2m = (uintptr_t)b;
        uint32_t typer = mmio_rd32(v2m + V2M_MSI_TYPER);
        msi_base = (typer >> 16) & 0x3ffu;
        msi_count = typer & 0x3ffu;
        if (msi_base < 32 || msi_base + msi_count > lines)
            msi_count = 0;
        for (unsigned i = 0; i < msi_count && i < IRQ_VECTOR_MAX; i++)
            spi_config(msi_base + i, true);
    }
    kprintf("harness: GICv2 GICD 0x%lx GICC 0x%lx (%u lines), v2m 0x%lx: %u MSI SPIs from INTID "
            "%u, virtual timer INTID %u\n",
            (unsigned long)gicd, (unsigned long)gicc, lines, (unsigned long)v2m, msi_count,
            msi_base, timer_ppi);
    return true;
}

static irq_handler_fn handler;
volatile uint32_t irq_delivered[IRQ_VECTOR_MAX];
void irq_set_handler(irq_handler_fn fn) { handler = fn; }

void gic_handle_irq(void)
{
    uint32_t iar = mmio_rd32(gicc + GICC_IAR);
    unsigned intid = iar & 0x3ffu;
    if (intid >= 1020)
        return;                                    /* spurious: no EOI */
    if (intid == SGI_WAKE || intid == timer_ppi) { /* ending the wfi was all */
        if (intid == timer_ppi) /* IMASK: arch_halt's, taken before it stopped it */
            __asm__ volatile("mcr p15, 0, %0, c14, c3, 1\n\tisb" : : "r"(2u) : "memory");
        mmio_wr32(gicc + GICC_EOIR, iar);
        return;
    }
    if (g_dev.is_intx && intid == g_dev.intx_line) {
        irq_delivered[0]++;
        if (handler)
            handler(0);
    } else if (msi_count && intid >= msi_base && intid < msi_base + msi_count &&
               intid - msi_base < IRQ_VECTOR_MAX) {
        unsigned i = intid - msi_base;
        irq_delivered[i]++;
        if (handler)
            handler(i);
    }
    mmio_wr32(gicc + GICC_EOIR, iar);
}

/* INTx: the GIC INTID (SPI + 32) of the function's pin, 0xff if unknown. */
uint8_t gic_intx_line(struct pci_addr a, unsigned pin)
{
    uint32_t parent;
    const uint8_t *spec;
    unsigned cells;
    if (!gicd || !pci_intx_map(&g_pci, a, pin, &parent, &spec, &cells) || parent != gic_phandle ||
        cells != 3 || fdt_cells(spec, 1) != 0 /* SPI */ || fdt_cells(spec + 4, 1) + 32 > 0xfe)
        return 0xff;
    return (uint8_t)(fdt_cells(spec + 4, 1) + 32);
}

/* --- the OSAL's interrupt part ------------------------------------------------------- */
void arch_dev_irq(unsigned i)
{
    struct harness_dev *d = &g_dev;
    if (!d->ctrl) {
        /* before nvme_ctrl_init returned: MSI-X is edge, nothing to mask; a
         * level INTx would fire again at once */
        d->early_irqs++;
        if (d->is_intx)
            spi_enable(d->intx_line, false);
        return;
    }
    static unsigned unclaimed;
    if (nvme_ctrl_handle_irq(d->ctrl, i) == 0 && d->is_intx) {
        if (++unclaimed == 100000) {
            kprintf("harness: INTx INTID %u: 100000 interrupts nobody claimed, masking it\n",
                    d->intx_line);
            spi_enable(d->intx_line, false);
        }
    } else {
        unclaimed = 0;
    }
}

void dev_irq_arm(struct harness_dev *d)
{
    if (d->vectors && d->is_intx)
        spi_enable(d->intx_line, true);
}

static int intx_setup(struct harness_dev *d, unsigned want, bool *is_intx)
{
    unsigned id = d->intx_line;
    if (!gicd || !d->intx_pin || id < 32 || id == 0xff) {
        kprintf("harness: irq=intx asked but no usable INTx line: polling\n");
        return 0;
    }
    spi_config(id, false);
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd & ~PCI_CMD_INTX_DISABLE));
    spi_enable(id, d->ctrl != NULL); /* dev_irq_arm() unmasks after init */
    d->vectors = 1;
    d->is_intx = true;
    *is_intx = true;
    kprintf("harness: irq_setup(want=%u): INTx pin %u -> GIC SPI %u (INTID %u), level\n", want,
            d->intx_pin, id - 32, id);
    return 1;
}

/* Vector i writes its SPI's INTID to the frame's MSI_SETSPI_NS. */
static struct msix_msg v2m_msg(unsigned i)
{
    return (struct msix_msg){v2m + V2M_MSI_SETSPI_NS, msi_base + i};
}

int arch_irq_setup(void *ctx, unsigned want, bool *is_intx)
{
    struct harness_dev *d = ctx;
    *is_intx = false;
    d->vectors = 0;
    d->is_intx = false;
    if (d->mode == IRQ_MODE_POLL || want == 0)
        return 0;
    if (d->mode == IRQ_MODE_INTX)
        return intx_setup(d, want, is_intx);
    if (!msi_count || !d->msix_cap) {
        kprintf("harness: irq=msix asked but no %s: polling\n",
                msi_count ? "MSI-X capability" : "GICv2m frame");
        return 0;
    }
    unsigned n = msix_grant(d, want, msi_count);
    for (unsigned i = 0; i < n; i++) {
        mmio_wr8(gicd + GICD_ITARGETSR(msi_base + i), vector_target(i));
        spi_enable(msi_base + i, true);
    }
    msix_program(d, n, v2m_msg);
    uint64_t addr = v2m + V2M_MSI_SETSPI_NS;
    d->vectors = n;
    kprintf("harness: irq_setup(want=%u): MSI-X vectors %u granted: -> GICv2m 0x%llx -> SPI "
            "INTIDs %u..%u, edge\n",
            want, n, (unsigned long long)addr, msi_base, msi_base + n - 1);
    return (int)n;
}

void arch_irq_teardown(void *ctx)
{
    struct harness_dev *d = ctx;
    if (d->vectors && d->is_intx) {
        spi_enable(d->intx_line, false);
        uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
        pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd | PCI_CMD_INTX_DISABLE));
    } else if (d->vectors && d->msix_cap) {
        msix_off(d);
        for (unsigned i = 0; i < d->vectors; i++)
            spi_enable(msi_base + i, false);
    }
    d->vectors = 0;
}
