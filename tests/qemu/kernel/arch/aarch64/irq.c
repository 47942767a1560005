/* SPDX-License-Identifier: MIT */
/*
 * irq.c (aarch64) - MSI-X through the GICv3 ITS (GICv3/v4 architecture
 * specification, IHI 0069: chapters 5 "Locality-specific Peripheral
 * Interrupts and the ITS", 12 registers), and the interrupt part of the
 * harness's OSAL.
 *
 * Set-up: distributor with affinity routing; this CPU's redistributor
 * awake, its LPI configuration and pending tables, LPIs enabled; CPU
 * interface through the ICC_* system registers; the ITS with a device
 * table, a collection table and a command queue.  Per granted vector i:
 * MAPTI (DeviceID = the requester ID its writes carry, pci_requester_id(), as the PCIe node's
 * "msi-map" <0 &its 0 0x10000> says; EventID i) -> LPI 8192 + i in
 * collection 0 -> this CPU.  The MSI-X entry's address is the ITS's
 * GITS_TRANSLATER and its data the EventID.
 *
 * INTx (irq=intx): the SPI the PCIe node's "interrupt-map" gives for the
 * slot and pin (<0 SPI level> cells of the GIC), group 1, level
 * triggered, routed to this CPU through GICD_IROUTER.
 *
 * Several CPUs (cpus=N, smp.c): gic_cpu_init() on each CPU sets up its
 * own redistributor (found by its GICR_TYPER affinity, 12.11.39: the
 * LPI configuration table shared, a pending table each, 5.1.1) and CPU
 * interface, and enables the wake-up SGI (group 1, GICR_IGROUPR0 /
 * GICR_ISENABLER0 in the SGI frame); the kick is ICC_SGI1R_EL1 (12.2.22).
 * Collection c is mapped (MAPC) to CPU c's redistributor, and EventID q
 * (I/O queue q) goes to collection (q-1) mod N, 0 (admin) to collection
 * 0: MSI-X vector q taken on CPU q-1, as on x86.
 */
#include "../../osal.h"
#include "../../smp.h"
#include "../../virt.h"

bool gic_init(void);
bool gic_cpu_init(void);
void gic_send_wake(uint32_t hw);
void gic_handle_irq(void);
uint8_t gic_intx_line(struct pci_addr a, unsigned pin);

#define GICD_CTLR 0x0000
#define GICD_IGROUPR(n) (0x0080 + 4 * ((n) / 32))
#define GICD_ISENABLER(n) (0x0100 + 4 * ((n) / 32))
#define GICD_ICENABLER(n) (0x0180 + 4 * ((n) / 32))
#define GICD_IPRIORITYR(n) (0x0400 + (n))
#define GICD_ICFGR(n) (0x0c00 + 4 * ((n) / 16))
#define GICD_IROUTER(n) (0x6000 + 8 * (n))
#define GICR_CTLR 0x0000
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078
#define GICR_SGI 0x10000 /* the SGI and PPI frame */
#define GICR_IGROUPR0 (GICR_SGI + 0x0080)
#define GICR_ISENABLER0 (GICR_SGI + 0x0100)
#define GICR_IPRIORITYR(n) (GICR_SGI + 0x0400 + (n))
#define GITS_CTLR 0x0000
#define GITS_TYPER 0x0008
#define GITS_CBASER 0x0080
#define GITS_CWRITER 0x0088
#define GITS_CREADR 0x0090
#define GITS_BASER(n) (0x0100 + 8 * (n))
#define GITS_TRANSLATER 0x10040

#define LPI_BASE 8192u
#define LPI_IDBITS 14u /* INTIDs below 16384 */
#define SGI_WAKE 1u    /* smp.c's wake-up (ignored when taken) */

static uintptr_t gicd, gicr_base, gicr_size, its;
static uint32_t gic_phandle;
static uint32_t timer_ppi = TIMER_PPI_DEFAULT; /* arch_halt's timer (gic_init: from the DT) */
static uint64_t its_typer;
static bool its_ok;
/* Per CPU (smp_cpu_id): its redistributor, the ITS's name for it (MAPC's
 * RDbase), its affinity for ICC_SGI1R_EL1 (by hardware ID). */
static uintptr_t gicr_of[SMP_MAX_CPUS];
static uint64_t rdbase_of[SMP_MAX_CPUS];
static unsigned colls_mapped = 1;
/* LPI configuration table: one byte per LPI (priority, enable bit 0);
 * pending tables: one bit per INTID, 64 KiB aligned, one per CPU. */
static uint8_t lpi_prop[(1u << LPI_IDBITS) - LPI_BASE] __attribute__((aligned(4096)));
static uint8_t lpi_pend[SMP_MAX_CPUS][65536] __attribute__((aligned(65536)));
/* Flat device table of ITS_DT_PAGES 4 KiB pages: with QEMU's 8-byte
 * entries, DeviceIDs (requester IDs) of buses 0-31, behind bridges too;
 * one page held buses 0 and 1 only. */
#define ITS_DT_PAGES 16u
static uint8_t its_dev_table[ITS_DT_PAGES * 4096] __attribute__((aligned(4096)));
static uint8_t its_coll_table[4096] __attribute__((aligned(4096)));
static uint64_t its_cmdq[4096 / 8] __attribute__((aligned(4096)));
static uint8_t its_itt[4096] __attribute__((aligned(4096)));
static uint64_t cmd_wr;

#define SYSREG_W(name, v)                                                                          \
    __asm__ volatile("msr " name ", %0\n\tisb" : : "r"((uint64_t)(v)) : "memory")
#define SYSREG_R(name, v) __asm__ volatile("mrs %0, " name : "=r"(v) : : "memory")
/* ICC_* by encoding, so any assembler takes them */
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_BPR1_EL1 "S3_0_C12_C12_3"
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"

/* 64-byte lines out to the point of coherency: the GIC reads its tables
 * and commands from memory, which is cacheable for the CPU. */
static void clean(const void *p, size_t len)
{
    for (uintptr_t a = (uintptr_t)p & ~63ul; a < (uintptr_t)p + len; a += 64)
        __asm__ volatile("dc cvac, %0" : : "r"(a) : "memory");
    __asm__ volatile("dsb sy" ::: "memory");
}

static bool its_cmd(uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3)
{
    uint64_t *c = &its_cmdq[(cmd_wr % sizeof(its_cmdq)) / 8];
    c[0] = d0;
    c[1] = d1;
    c[2] = d2;
    c[3] = d3;
    clean(c, 32);
    cmd_wr = (cmd_wr + 32) % sizeof(its_cmdq);
    mmio_wr64(its + GITS_CWRITER, cmd_wr);
    for (unsigned i = 0; i < 1000000; i++) {
        if (mmio_rd64(its + GITS_CREADR) == cmd_wr)
            return true;
        cpu_relax();
    }
    kprintf("harness: ITS command 0x%llx not consumed (CREADR 0x%llx)\n",
            (unsigned long long)(d0 & 0xff), (unsigned long long)mmio_rd64(its + GITS_CREADR));
    return false;
}

/* SYNC on every CPU's redistributor that a collection names */
static bool its_sync(void)
{
    for (unsigned c = 0; c < colls_mapped; c++)
        if (!its_cmd(0x05, 0, rdbase_of[c] << 16, 0))
            return false;
    return true;
}

/* This CPU's redistributor (the one whose GICR_TYPER affinity is MPIDR's):
 * awake, LPI tables, LPIs on; its CPU interface; the wake-up SGI. */
bool gic_cpu_init(void)
{
    unsigned me = smp_cpu_id();
    uint64_t mpidr;
    SYSREG_R("mpidr_el1", mpidr);
    uint32_t aff = (uint32_t)(((mpidr >> 8) & 0xff000000u) | (mpidr & 0xffffffu));
    uintptr_t gicr = 0;
    for (uintptr_t r = gicr_base; r < gicr_base + gicr_size;) {
        uint64_t typer = mmio_rd64(r + GICR_TYPER);
        if ((uint32_t)(typer >> 32) == aff) {
            gicr = r;
            break;
        }
        if (typer & (1u << 4)) /* Last */
            break;
        r += (typer & (1u << 1)) ? 0x40000 : 0x20000; /* VLPIS: 4 frames, else 2 */
    }
    if (!gicr)
        return false;
    mmio_wr32(gicr + GICR_WAKER, mmio_rd32(gicr + GICR_WAKER) & ~(1u << 1));
    for (unsigned i = 0; i < 100000 && (mmio_rd32(gicr + GICR_WAKER) & (1u << 2)); i++)
        cpu_relax();
    uint64_t gicr_typer = mmio_rd64(gicr + GICR_TYPER);
    if (!(gicr_typer & 1)) {
        kprintf("harness: redistributor without LPIs (GICR_TYPER.PLPIS=0)\n");
        return false;
    }
    clean(lpi_pend[me], sizeof(lpi_pend[me]));
    /* InnerCache 0b111 (WB RaWa) bits 9:7, Shareability inner 10:11 = 01 */
    mmio_wr64(gicr + GICR_PROPBASER,
              (uint64_t)(uintptr_t)lpi_prop | (7u << 7) | (1u << 10) | (LPI_IDBITS - 1));
    mmio_wr64(gicr + GICR_PENDBASER,
              (uint64_t)(uintptr_t)lpi_pend[me] | (7u << 7) | (1u << 10) | (1ull << 62));
    mmio_wr32(gicr + GICR_CTLR, mmio_rd32(gicr + GICR_CTLR) | 1u);
    /* the wake-up SGI: group 1, priority 0xa0, enabled */
    mmio_wr32(gicr + GICR_IGROUPR0, mmio_rd32(gicr + GICR_IGROUPR0) | 1u << SGI_WAKE);
    mmio_wr8(gicr + GICR_IPRIORITYR(SGI_WAKE), 0xa0);
    mmio_wr32(gicr + GICR_ISENABLER0, 1u << SGI_WAKE);
    /* the virtual timer's PPI (arch_halt), the same way */
    mmio_wr32(gicr + GICR_IGROUPR0, mmio_rd32(gicr + GICR_IGROUPR0) | 1u << timer_ppi);
    mmio_wr8(gicr + GICR_IPRIORITYR(timer_ppi), 0xa0);
    mmio_wr32(gicr + GICR_ISENABLER0, 1u << timer_ppi);
    /* CPU interface */
    uint64_t sre;
    SYSREG_R(ICC_SRE_EL1, sre);
    SYSREG_W(ICC_SRE_EL1, sre | 1);
    SYSREG_W(ICC_PMR_EL1, 0xff);
    SYSREG_W(ICC_BPR1_EL1, 0);
    SYSREG_W(ICC_IGRPEN1_EL1, 1);
    gicr_of[me] = gicr;
    /* MAPC/SYNC name a redistributor by address (PTA=1) or by processor
     * number (its_typer is read before any CPU but 0 runs this) */
    rdbase_of[me] = (its_typer & (1u << 19)) ? (uint64_t)gicr >> 16 : (gicr_typer >> 8) & 0xffff;
    return true;
}

/* ICC_SGI1R_EL1: INTID bits 27:24, Aff3 55:48, Aff2 39:32, Aff1 23:16,
 * TargetList 15:0 (Aff0 0..15), IRM 0. */
void gic_send_wake(uint32_t hw)
{
    uint64_t v = (uint64_t)SGI_WAKE << 24 | (uint64_t)((hw >> 16) & 0xff) << 32 |
                 (uint64_t)((hw >> 8) & 0xff) << 16 | (1u << (hw & 15));
    __asm__ volatile("dsb ishst" ::: "memory"); /* smp_run's work before the SGI */
    SYSREG_W("S3_0_C12_C11_5", v);              /* ICC_SGI1R_EL1 */
}

bool gic_init(void)
{
    struct fdt_node n;
    uint64_t b, s;
    if (!fdt_by_compat("arm,gic-v3", &n) || !fdt_reg(&n, 0, &b, &s))
        return false;
    gicd = (uintptr_t)b;
    gic_phandle = fdt_u32(&n, "phandle", 0);
    timer_ppi = fdt_arm_vtimer_intid(fdt_u32(&n, "#interrupt-cells", 3), TIMER_PPI_DEFAULT);
    if (!fdt_reg(&n, 1, &b, &s))
        return false;
    gicr_base = (uintptr_t)b;
    gicr_size = (uintptr_t)s;
    /* Distributor: affinity routing, group 1 on; wait for RWP */
    mmio_wr32(gicd + GICD_CTLR, (1u << 4) | (1u << 1));
    for (unsigned i = 0; i < 100000 && (mmio_rd32(gicd + GICD_CTLR) & (1u << 31)); i++)
        cpu_relax();
    /* GITS_TYPER.PTA decides how gic_cpu_init names the redistributor */
    if (fdt_by_compat("arm,gic-v3-its", &n) && fdt_reg(&n, 0, &b, &s)) {
        its = (uintptr_t)b;
        its_typer = mmio_rd64(its + GITS_TYPER);
    }
    if (!gic_cpu_init())
        return false;

    /* ITS */
    if (!its) {
        kprintf("harness: GICv3 at 0x%lx without an ITS (-M virt,its=on): no MSI-X\n",
                (unsigned long)gicd);
        return false;
    }
    mmio_wr32(its + GITS_CTLR, 0);
    for (unsigned i = 0; i < 8; i++) {
        uint64_t v = mmio_rd64(its + GITS_BASER(i));
        unsigned type = (unsigned)(v >> 56) & 7;
        uint64_t keep = v & ((7ull << 56) | (0x1full << 48)); /* Type, Entry_Size */
        uint64_t wb = (7ull << 59) | (1ull << 10); /* InnerCache RaWaWb, inner shareable */
        if (type == 1)                             /* devices */
            mmio_wr64(its + GITS_BASER(i), keep | wb | (1ull << 63) |
                                               (uint64_t)(uintptr_t)its_dev_table |
                                               (ITS_DT_PAGES - 1u)); /* Size: pages - 1 */
        else if (type == 4)                                          /* collections */
            mmio_wr64(its + GITS_BASER(i),
                      keep | wb | (1ull << 63) | (uint64_t)(uintptr_t)its_coll_table);
    }
    clean(its_dev_table, sizeof(its_dev_table));
    clean(its_coll_table, sizeof(its_coll_table));
    clean(its_cmdq, sizeof(its_cmdq));
    mmio_wr64(its + GITS_CBASER,
              (1ull << 63) | (7ull << 59) | (1ull << 10) | (uint64_t)(uintptr_t)its_cmdq);
    cmd_wr = 0;
    mmio_wr64(its + GITS_CWRITER, 0);
    mmio_wr32(its + GITS_CTLR, 1);
    /* MAPC: collection 0 -> this redistributor */
    its_ok = its_cmd(0x09, 0, (1ull << 63) | (rdbase_of[0] << 16) | 0, 0) && its_sync();
    kprintf("harness: GICv3 GICD 0x%lx GICR 0x%lx, ITS 0x%lx (TYPER 0x%llx, %s): LPIs from %u, "
            "virtual timer INTID %u\n",
            (unsigned long)gicd, (unsigned long)gicr_of[0], (unsigned long)its,
            (unsigned long long)its_typer, its_ok ? "collection 0 mapped" : "MAPC failed", LPI_BASE,
            timer_ppi);
    return its_ok;
}

static irq_handler_fn handler;
volatile uint32_t irq_delivered[IRQ_VECTOR_MAX];
void irq_set_handler(irq_handler_fn fn) { handler = fn; }

void gic_handle_irq(void)
{
    uint64_t intid;
    SYSREG_R(ICC_IAR1_EL1, intid);
    intid &= 0xffffff;
    if (intid >= 1020 && intid < 1024)
        return;                                    /* spurious */
    if (intid == SGI_WAKE || intid == timer_ppi) { /* ending the wfi was all */
        if (intid == timer_ppi)
            SYSREG_W("cntv_ctl_el0", 2); /* IMASK: arch_halt's, taken before it stopped it */
        SYSREG_W(ICC_EOIR1_EL1, intid);
        return;
    }
    if (g_dev.is_intx && intid == g_dev.intx_line) {
        irq_delivered[0]++;
        if (handler)
            handler(0);
    } else if (intid >= LPI_BASE && intid < LPI_BASE + IRQ_VECTOR_MAX) {
        unsigned i = (unsigned)(intid - LPI_BASE);
        irq_delivered[i]++;
        if (handler)
            handler(i);
    }
    SYSREG_W(ICC_EOIR1_EL1, intid);
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

static void spi_enable(unsigned intid, bool on)
{
    mmio_wr32(gicd + (on ? GICD_ISENABLER(intid) : GICD_ICENABLER(intid)), 1u << (intid % 32));
}

/* --- the OSAL's interrupt part ------------------------------------------------------- */
static unsigned events_mapped;

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
    uint64_t mpidr;
    SYSREG_R("mpidr_el1", mpidr);
    mmio_wr32(gicd + GICD_IGROUPR(id), mmio_rd32(gicd + GICD_IGROUPR(id)) | 1u << (id % 32));
    mmio_wr8(gicd + GICD_IPRIORITYR(id), 0xa0);
    mmio_wr32(gicd + GICD_ICFGR(id),
              mmio_rd32(gicd + GICD_ICFGR(id)) & ~(2u << (2 * (id % 16)))); /* level */
    mmio_wr64(gicd + GICD_IROUTER(id), mpidr & 0xff00ffffffull); /* Aff3.Aff2.Aff1.Aff0, IRM=0 */
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd & ~PCI_CMD_INTX_DISABLE));
    spi_enable(id, d->ctrl != NULL); /* dev_irq_arm() unmasks after init */
    d->vectors = 1;
    d->is_intx = true;
    *is_intx = true;
    kprintf("harness: irq_setup(want=%u): INTx pin %u -> GIC SPI %u (INTID %u), level, group 1\n",
            want, d->intx_pin, id - 32, id);
    return 1;
}

/* Every vector writes its EventID to the ITS's GITS_TRANSLATER. */
static struct msix_msg its_msg(unsigned i) { return (struct msix_msg){its + GITS_TRANSLATER, i}; }

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
    if (!its_ok || !d->msix_cap) {
        kprintf("harness: irq=msix asked but no %s: polling\n",
                its_ok ? "MSI-X capability" : "ITS");
        return 0;
    }
    unsigned n = msix_grant(d, want, IRQ_DEVICE_VECTORS);
    uint32_t devid = pci_requester_id(d->pci);
    if (!events_mapped) {
        /* MAPD: DeviceID -> ITT, 5 EventID bits (32 events) */
        clean(its_itt, sizeof(its_itt));
        if (!its_cmd(0x08 | ((uint64_t)devid << 32), 4, (1ull << 63) | (uint64_t)(uintptr_t)its_itt,
                     0))
            return 0;
    }
    /* MAPC: collection c -> CPU c's redistributor (cpus=N) */
    for (; colls_mapped < smp_cpus(); colls_mapped++)
        if (!its_cmd(0x09, 0, (1ull << 63) | (rdbase_of[colls_mapped] << 16) | colls_mapped, 0))
            return 0;
    for (unsigned i = events_mapped; i < n; i++) {
        lpi_prop[i] = 0xa0 | 1; /* priority 0xa0, enabled */
        clean(&lpi_prop[i], 1);
        /* MAPTI: (DeviceID, EventID i) -> LPI 8192+i, collection 0 (admin)
         * or (i-1) mod N (I/O queue i's CPU); then INV */
        uint64_t icid = i == 0 ? 0u : (i - 1u) % smp_cpus();
        if (!its_cmd(0x0a | ((uint64_t)devid << 32), i | ((uint64_t)(LPI_BASE + i) << 32), icid,
                     0) ||
            !its_cmd(0x0c | ((uint64_t)devid << 32), i, 0, 0))
            return 0;
        events_mapped = i + 1;
    }
    if (!its_sync())
        return 0;
    msix_program(d, n, its_msg);
    uint64_t addr = its + GITS_TRANSLATER;
    d->vectors = n;
    kprintf("harness: irq_setup(want=%u): MSI-X vectors %u granted: DeviceID 0x%x EventID 0.. -> "
            "ITS 0x%llx -> LPI %u..\n",
            want, n, devid, (unsigned long long)addr, LPI_BASE);
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
    }
    d->vectors = 0;
}
