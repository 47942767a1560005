/* SPDX-License-Identifier: MIT */
/*
 * irq.c (riscv64) - the interrupt part of the harness's OSAL on QEMU's
 * riscv virt machine, which has one of two interrupt controllers:
 *
 * - the PLIC (default machine): INTx only (RISC-V PLIC specification:
 *   priority 4*n, enables 0x2000 + 0x80*context, threshold and
 *   claim/complete 0x200000 + 0x1000*context).  The context is the one
 *   whose "interrupts-extended" entry is hart 0's machine external
 *   interrupt (cause 11); the PCI function's PLIC source is what the PCIe
 *   node's "interrupt-map" says for its slot and pin (QEMU virt swizzles
 *   INTA..D over sources 32..35).
 * - the IMSIC ("-M virt,aia=aplic-imsic", run.sh --irq msix): MSI-X only
 *   (RISC-V Advanced Interrupt Architecture 1.0, chapter 3; the CPU needs
 *   Smaia: x-smaia=true on QEMU 7.2).  Each hart has an M-level interrupt
 *   file, one 4 KiB page in the "riscv,imsics" node whose
 *   "interrupts-extended" names cause 11, in that property's order (hart
 *   0 first on virt); a 32-bit write of identity k to the page's
 *   seteipnum_le register (offset 0) makes k pending there.  The hart's
 *   own registers are reached through miselect/mireg (eidelivery 70h,
 *   eithreshold 72h, eie0 C0h: identities 0-63 on RV64), and mtopei
 *   names and claims the highest pending one.
 *   MSI-X vector i is identity IMSIC_ID_BASE + i, sent to the file of
 *   the hart harness_msix_dest(i) names: vector q (I/O queue q) is taken
 *   on CPU q-1, as on x86 and aarch64.  The machine's wired interrupts
 *   then go through APLICs in MSI mode, which the harness leaves alone:
 *   INTx stays the PLIC machine's.
 */
#include "../../osal.h"
#include "../../smp.h"
#include "../../virt.h"

bool plic_init(void);
void plic_handle_irq(void);
uint8_t plic_intx_line(struct pci_addr a, unsigned pin);
bool imsic_init(void);
bool imsic_cpu_init(void);
void imsic_handle_irq(void);

static irq_handler_fn handler;
volatile uint32_t irq_delivered[IRQ_VECTOR_MAX];
void irq_set_handler(irq_handler_fn fn) { handler = fn; }

static uintptr_t plic;
static unsigned ctx_m;
static uint32_t plic_phandle;

#define PLIC_PRIO(n) (plic + 4u * (n))
#define PLIC_ENABLE(c, n) (plic + 0x2000u + 0x80u * (c) + 4u * ((n) / 32))
#define PLIC_THRESHOLD(c) (plic + 0x200000u + 0x1000u * (c))
#define PLIC_CLAIM(c) (plic + 0x200004u + 0x1000u * (c))

/* The hart of entry k of an "interrupts-extended" (<intc phandle, cause>
 * pairs): the "reg" of the cpu node that holds that interrupt controller;
 * false when the DT does not say. */
static bool intc_hart(const uint8_t *ie, uint32_t k, uint64_t *hart)
{
    struct fdt_node cpu;
    uint64_t size;
    return fdt_parent_of_phandle((uint32_t)fdt_cells(ie + 8u * k, 1), &cpu) &&
           fdt_reg(&cpu, 0, hart, &size);
}

bool plic_init(void)
{
    struct fdt_node n;
    uint64_t b, s;
    if ((!fdt_by_compat("riscv,plic0", &n) && !fdt_by_compat("sifive,plic-1.0.0", &n)) ||
        !fdt_reg(&n, 0, &b, &s))
        return false;
    plic = (uintptr_t)b;
    plic_phandle = fdt_u32(&n, "phandle", 0);
    uint32_t len;
    const uint8_t *ie = fdt_prop(&n, "interrupts-extended", &len);
    bool found = false;
    /* hart 0's (the boot CPU's) context for cause 11, M-mode external;
     * the first such one where the DT names no hart */
    for (uint32_t o = 0; ie && o + 8 <= len; o += 8) {
        uint64_t hart;
        if (fdt_cells(ie + o + 4, 1) == 11 && (!intc_hart(ie, o / 8, &hart) || hart == 0)) {
            ctx_m = o / 8;
            found = true;
            break;
        }
    }
    if (!found)
        return false;
    mmio_wr32(PLIC_THRESHOLD(ctx_m), 0);
    __asm__ volatile("csrs mie, %0" : : "r"(MIE_MEIE) : "memory");
    kprintf("harness: PLIC at 0x%lx, context %u = hart 0 M-mode external interrupts\n",
            (unsigned long)plic, ctx_m);
    return true;
}

uint8_t plic_intx_line(struct pci_addr a, unsigned pin)
{
    uint32_t parent;
    const uint8_t *spec;
    unsigned cells;
    if (!pci_intx_map(&g_pci, a, pin, &parent, &spec, &cells) || parent != plic_phandle ||
        cells != 1)
        return 0xff; /* "unknown" */
    return (uint8_t)fdt_cells(spec, 1);
}

static void plic_enable(unsigned src, bool on)
{
    uint32_t bit = 1u << (src % 32);
    uint32_t v = mmio_rd32(PLIC_ENABLE(ctx_m, src));
    mmio_wr32(PLIC_ENABLE(ctx_m, src), on ? v | bit : v & ~bit);
}

void plic_handle_irq(void)
{
    uint32_t src = mmio_rd32(PLIC_CLAIM(ctx_m));
    if (!src)
        return;
    if (src == g_dev.intx_line) {
        irq_delivered[0]++;
        if (handler)
            handler(0);
    }
    mmio_wr32(PLIC_CLAIM(ctx_m), src); /* complete */
}

/* --- the IMSIC (AIA 1.0 chapter 3) ------------------------------------------------------ */
#define IMSIC_ID_BASE 32u /* identity of MSI-X vector i; 1 is what Linux takes for IPIs */
#define CSR_MISELECT 0x350
#define CSR_MIREG 0x351
#define CSR_MTOPEI 0x35c
#define IMSIC_EIDELIVERY 0x70
#define IMSIC_EITHRESHOLD 0x72
#define IMSIC_EIP0 0x80
#define IMSIC_EIE0 0xc0
#define CSR_STR_(x) #x
#define CSR_STR(x) CSR_STR_(x)

static uintptr_t imsic;     /* hart 0's M-level interrupt file */
static uint32_t imsic_step; /* bytes from one hart's file to the next */
static unsigned imsic_harts;
static uint8_t imsic_file_of[SMP_MAX_CPUS]; /* hart ID -> index of its file */

static void imsic_reg_write(unsigned long reg, unsigned long v)
{
    __asm__ volatile("csrw " CSR_STR(CSR_MISELECT) ", %0\n\tcsrw " CSR_STR(CSR_MIREG) ", %1"
                     :
                     : "r"(reg), "r"(v)
                     : "memory");
}

bool imsic_init(void)
{
    struct fdt_node n;
    uint64_t b, s;
    uint32_t len;
    const uint8_t *ie;
    /* one node per privilege level (the S-level one first on virt) */
    for (unsigned i = 0;; i++) {
        if (!fdt_by_compat_nth("riscv,imsics", i, &n))
            return false;
        ie = fdt_prop(&n, "interrupts-extended", &len);
        if (ie && len >= 8 && fdt_cells(ie + 4, 1) == 11) /* <hart's intc, cause 11> pairs */
            break;
    }
    if (!fdt_reg(&n, 0, &b, &s) || s / (len / 8) < 4096 ||
        fdt_u32(&n, "riscv,num-ids", 0) < IMSIC_ID_BASE + IRQ_VECTOR_MAX)
        return false;
    imsic = (uintptr_t)b;
    imsic_harts = len / 8;
    imsic_step = (uint32_t)(s / imsic_harts);
    /* file k belongs to the hart of entry k (hart h to file h where the DT does not say) */
    for (unsigned h = 0; h < SMP_MAX_CPUS; h++)
        imsic_file_of[h] = (uint8_t)h;
    for (unsigned k = 0; k < imsic_harts; k++) {
        uint64_t hart;
        if (intc_hart(ie, k, &hart) && hart < SMP_MAX_CPUS)
            imsic_file_of[hart] = (uint8_t)k;
    }
    kprintf("harness: IMSIC M-level files at 0x%lx, %u hart(s), %u bytes apart\n",
            (unsigned long)imsic, imsic_harts, imsic_step);
    return imsic_cpu_init();
}

/* This hart's interrupt file: delivery on, no threshold, the MSI-X
 * identities enabled and not pending; then mie.MEIE. */
bool imsic_cpu_init(void)
{
    if (!imsic)
        return false;
    unsigned long ids = ((1ul << IRQ_VECTOR_MAX) - 1u) << IMSIC_ID_BASE;
    imsic_reg_write(IMSIC_EITHRESHOLD, 0);
    imsic_reg_write(IMSIC_EIP0, 0);
    imsic_reg_write(IMSIC_EIE0, ids);
    imsic_reg_write(IMSIC_EIDELIVERY, 1);
    __asm__ volatile("csrs mie, %0" : : "r"(MIE_MEIE) : "memory");
    return true;
}

/* Claims (csrrw mtopei: the read names the identity, the write clears its
 * pending bit) until none is pending. */
void imsic_handle_irq(void)
{
    for (unsigned n = 0; n < 64; n++) {
        unsigned long top;
        __asm__ volatile("csrrw %0, " CSR_STR(CSR_MTOPEI) ", zero" : "=r"(top) : : "memory");
        unsigned id = (unsigned)(top >> 16) & 0x7ffu;
        if (id == 0)
            return;
        if (id >= IMSIC_ID_BASE && id < IMSIC_ID_BASE + IRQ_VECTOR_MAX) {
            unsigned i = id - IMSIC_ID_BASE;
            irq_delivered[i]++;
            if (handler)
                handler(i);
        }
    }
}

/* Vector i: identity IMSIC_ID_BASE + i, written to the seteipnum_le
 * register of its CPU's hart's file. */
static struct msix_msg imsic_msg(unsigned i)
{
    uint32_t hart = harness_msix_dest(i);
    unsigned f = hart < SMP_MAX_CPUS ? imsic_file_of[hart] : 0u;
    return (struct msix_msg){imsic + (uint64_t)(f < imsic_harts ? f : 0u) * imsic_step,
                             IMSIC_ID_BASE + i};
}

static int msix_setup(struct harness_dev *d, unsigned want)
{
    if (!imsic || !d->msix_cap) {
        kprintf("harness: irq=msix asked but no %s: polling\n",
                imsic ? "MSI-X capability" : "IMSIC (QEMU -M virt,aia=aplic-imsic)");
        return 0;
    }
    unsigned n = msix_grant(d, want, IRQ_DEVICE_VECTORS);
    msix_program(d, n, imsic_msg);
    d->vectors = n;
    kprintf("harness: irq_setup(want=%u): MSI-X vectors %u granted: -> IMSIC 0x%lx (vector i: "
            "identity %u+i, in the file of its CPU's hart)\n",
            want, n, (unsigned long)imsic, IMSIC_ID_BASE);
    return (int)n;
}

/* --- the OSAL's interrupt part ------------------------------------------------------------ */
void arch_dev_irq(unsigned i)
{
    struct harness_dev *d = &g_dev;
    if (!d->ctrl) {
        /* before nvme_ctrl_init returned: MSI-X is edge, nothing to mask; a
         * level INTx line would fire again at once */
        d->early_irqs++;
        if (d->is_intx)
            plic_enable(d->intx_line, false);
        return;
    }
    static unsigned unclaimed;
    if (nvme_ctrl_handle_irq(d->ctrl, i) == 0 && d->is_intx) {
        if (++unclaimed == 100000) {
            kprintf("harness: INTx source %u: 100000 interrupts nobody claimed, masking it\n",
                    d->intx_line);
            plic_enable(d->intx_line, false);
        }
    } else {
        unclaimed = 0;
    }
}

void dev_irq_arm(struct harness_dev *d)
{
    if (d->vectors && d->is_intx)
        plic_enable(d->intx_line, true);
}

int arch_irq_setup(void *ctx, unsigned want, bool *is_intx)
{
    struct harness_dev *d = ctx;
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    *is_intx = false;
    d->vectors = 0;
    d->is_intx = false;
    if (d->mode == IRQ_MODE_POLL || want == 0)
        return 0;
    if (d->mode == IRQ_MODE_MSIX)
        return msix_setup(d, want);
    if (!plic || !d->intx_pin || d->intx_line == 0xff || d->intx_line == 0) {
        kprintf("harness: irq=intx asked but no usable INTx source: polling\n");
        return 0;
    }
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd & ~PCI_CMD_INTX_DISABLE));
    mmio_wr32(PLIC_PRIO(d->intx_line), 1);
    plic_enable(d->intx_line, d->ctrl != NULL); /* dev_irq_arm() unmasks after init */
    d->vectors = 1;
    d->is_intx = true;
    *is_intx = true;
    kprintf("harness: irq_setup(want=%u): INTx pin %u -> PLIC source %u (context %u)\n", want,
            d->intx_pin, d->intx_line, ctx_m);
    return 1;
}

void arch_irq_teardown(void *ctx)
{
    struct harness_dev *d = ctx;
    if (d->vectors && d->is_intx)
        plic_enable(d->intx_line, false);
    if (d->vectors && !d->is_intx && d->msix_cap)
        msix_off(d);
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd | PCI_CMD_INTX_DISABLE));
    d->vectors = 0;
}
