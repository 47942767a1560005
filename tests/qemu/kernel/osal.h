/* SPDX-License-Identifier: MIT */
/* osal.h - the harness kernel's NVMe controller glue and struct nvme_osal. */
#ifndef HARNESS_OSAL_H
#define HARNESS_OSAL_H

#include "hw.h"

#ifndef HARNESS_NO_CORE
#include "nvme/nvme.h"
#endif

enum irq_mode { IRQ_MODE_MSIX, IRQ_MODE_INTX, IRQ_MODE_POLL };

/* wait-spin= default (osal.c's wait()) */
#define WAIT_SPIN_DEFAULT_US 100u

struct harness_dev {
    struct pci_addr pci;
    uint16_t vendor, device;
    uintptr_t bar0;
    uint64_t bar0_phys;
    bool bar0_64;
    /* MSI-X capability (0 when absent) */
    uint8_t msix_cap;
    unsigned msix_entries;
    uintptr_t msix_table;
    /* INTx */
    uint8_t intx_pin;  /* 1 = INTA# */
    uint8_t intx_line; /* IOAPIC pin, as SeaBIOS routed it */
    /* interrupt mode asked for on the command line, and what was granted */
    enum irq_mode mode;
    unsigned vectors;
    bool is_intx;
    unsigned early_irqs; /* delivered before nvme_ctrl_init returned */
    /* wait/wake in the OSAL (with interrupts; wait=0 leaves them out:
     * blocking calls poll), and how long a wait spins before it halts
     * (wait-spin=US) */
    bool wait;
    uint32_t wait_spin_us;
#ifndef HARNESS_NO_CORE
    struct nvme_ctrl *ctrl;
#endif
};

extern struct harness_dev g_dev;

/* Finds the nth controller (class 01h/08h/02h; 0 = the first in PCI
 * order), enables memory decode and bus mastering, reads BAR0 and the
 * MSI-X capability.  Prints what it found. */
bool dev_probe(struct harness_dev *d, unsigned nth);
/* MSI-X (PCI Local Bus 3.0 §6.8.2), every ISA's: how many of `want`
 * vectors the function's table, `limit` (the interrupt controller's) and
 * IRQ_DEVICE_VECTORS allow; entries 0..n-1 written with msg(i) (the
 * address the vector's write goes to and its data), the rest masked, the
 * function masked meanwhile, then MSI-X on and INTx off; and off again
 * (teardown). */
struct msix_msg {
    uint64_t addr;
    uint32_t data;
};
unsigned msix_grant(const struct harness_dev *d, unsigned want, unsigned limit);
void msix_program(struct harness_dev *d, unsigned n, struct msix_msg (*msg)(unsigned i));
void msix_off(struct harness_dev *d);
/* After nvme_ctrl_init(): lets INTx through (it stays masked at the
 * IOAPIC until the harness knows the controller). */
void dev_irq_arm(struct harness_dev *d);
/* The device interrupt handler (device vector index i); smp.c wraps it. */
void dev_irq(unsigned i);

/* osal_min.c: memory accounting, for the leak check after nvme_ctrl_fini(). */
size_t dma_bytes_in_use(void);
size_t heap_bytes_in_use(void);
void *harness_buffer(size_t *len); /* nvmectl's scratch buffer */
/* Zeroed bookkeeping memory (whole pages), counted in heap_bytes_in_use(). */
void *harness_mem_alloc(size_t size);
void harness_mem_free(void *p, size_t size);

#ifndef HARNESS_NO_CORE
/* osal_min.c: the minimal polled OSAL (MMIO, DMA pages, clock, dma_stop). */
void osal_min_fill(struct nvme_osal *o, struct harness_dev *d);
/* osal.c: the harness's OSAL, osal_min_fill() plus interrupts and locks
 * unless d->mode is IRQ_MODE_POLL. */
void osal_fill(struct nvme_osal *o, struct harness_dev *d);
#if HARNESS_X86
/* Device vector index of the local APIC timer (harness_tick, the wait's
 * bound); dev_irq() ignores it. */
#define HARNESS_TICK_IDX (IRQ_VECTOR_MAX - 2u)
/* This CPU's local APIC timer as a 1 ms periodic tick (on) or off; while
 * it ticks, wait() relies on it instead of arming a one-shot. */
void harness_tick(bool on);
/* TSC when wake() last ran on this CPU (0: never). */
uint64_t harness_woken_tsc(void);
#endif
/* Per CPU wait/wake counts, " cpuN: waits=.. halts=.. ..." (the irqs command). */
void harness_wait_stats(char *buf, size_t len);
#if !HARNESS_X86
/* kernel/arch/<isa>/irq.c: the interrupt part of the OSAL off x86. */
int arch_irq_setup(void *ctx, unsigned want, bool *is_intx);
void arch_irq_teardown(void *ctx);
void arch_dev_irq(unsigned vector_index);
#endif
#endif

#endif /* HARNESS_OSAL_H */
