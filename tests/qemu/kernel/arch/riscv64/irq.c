/* SPDX-License-Identifier: MIT */
/*
 * irq.c (riscv64) - INTx through the PLIC (RISC-V PLIC specification:
 * priority 4*n, enables 0x2000 + 0x80*context, threshold and
 * claim/complete 0x200000 + 0x1000*context) and the interrupt part of the
 * harness's OSAL.  The context is the one whose "interrupts-extended"
 * entry is hart 0's machine external interrupt (cause 11); the PCI
 * function's PLIC source is what the PCIe node's "interrupt-map" says for
 * its slot and pin (QEMU virt swizzles INTA..D over sources 32..35).
 * QEMU's riscv virt machine has no MSI controller unless "aia=aplic-imsic":
 * no MSI-X here.
 */
#include "../../osal.h"
#include "../../virt.h"

bool plic_init(void);
void plic_handle_irq(void);
uint8_t plic_intx_line(struct pci_addr a, unsigned pin);

static uintptr_t plic;
static unsigned ctx_m;
static uint32_t plic_phandle;

#define PLIC_PRIO(n) (plic + 4u * (n))
#define PLIC_ENABLE(c, n) (plic + 0x2000u + 0x80u * (c) + 4u * ((n) / 32))
#define PLIC_THRESHOLD(c) (plic + 0x200000u + 0x1000u * (c))
#define PLIC_CLAIM(c) (plic + 0x200004u + 0x1000u * (c))

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
    /* pairs <cpu-intc phandle, cause>; hart 0's intc comes first on virt */
    for (uint32_t o = 0; ie && o + 8 <= len; o += 8) {
        if (fdt_cells(ie + o + 4, 1) == 11) {
            ctx_m = o / 8;
            found = true;
            break;
        }
    }
    if (!found)
        return false;
    mmio_wr32(PLIC_THRESHOLD(ctx_m), 0);
    __asm__ volatile("csrs mie, %0" : : "r"(1ul << 11) : "memory"); /* MEIE */
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

static irq_handler_fn handler;
volatile uint32_t irq_delivered[IRQ_VECTOR_MAX];
void irq_set_handler(irq_handler_fn fn) { handler = fn; }

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

/* --- the OSAL's interrupt part ------------------------------------------------------------ */
void arch_dev_irq(unsigned i)
{
    struct harness_dev *d = &g_dev;
    if (!d->ctrl) {
        /* before nvme_ctrl_init returned: a level line would fire again at once */
        d->early_irqs++;
        plic_enable(d->intx_line, false);
        return;
    }
    static unsigned unclaimed;
    if (nvme_ctrl_handle_irq(d->ctrl, i) == 0) {
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
    if (d->mode == IRQ_MODE_MSIX) {
        kprintf(
            "harness: irq=msix: no MSI controller on riscv64 virt (INTx through the PLIC only): "
            "polling\n");
        return 0;
    }
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
    uint16_t cmd = pci_read16(d->pci, PCI_COMMAND);
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(cmd | PCI_CMD_INTX_DISABLE));
    d->vectors = 0;
}
