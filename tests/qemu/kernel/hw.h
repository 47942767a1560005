/* SPDX-License-Identifier: MIT */
/*
 * hw.h - the bare-metal x86 pieces of the QEMU harness kernel: port I/O,
 * COM1, PCI configuration mechanism #1, PIT/TSC clock, IDT, local APIC,
 * IOAPIC, isa-debug-exit.  Same source for x86-32 (no paging, physical
 * addresses are virtual addresses) and x86-64 (the boot code identity
 * maps the first 4 GiB with 2 MiB pages), so a pointer's value is always
 * its physical (bus) address.  The aarch64, riscv64 and armv7 builds implement
 * the same interface (console, exit, PCI through ECAM, clock, interrupt
 * handler) in kernel/arch/<isa>/, pci_ecam.c and fdt.c, also identity
 * mapped.
 */
#ifndef HARNESS_HW_H
#define HARNESS_HW_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define HARNESS_X86 1
/* --- port I/O ------------------------------------------------------------ */
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

/* Interrupt flag save/restore (the OSAL's locks). */
static inline unsigned long irq_save(void)
{
    unsigned long f;
    __asm__ volatile("pushf\n\tpop %0\n\tcli" : "=r"(f) : : "memory");
    return f;
}
static inline void irq_restore(unsigned long f)
{
    if (f & (1ul << 9))
        __asm__ volatile("sti" ::: "memory");
}
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
/* Whether irq_save's flags had interrupts on (EFLAGS.IF). */
static inline bool irq_flags_on(unsigned long f) { return (f & (1ul << 9)) != 0; }

/* Uncached MMIO on identity-mapped addresses. */
static inline uint32_t mmio_rd32(uintptr_t a)
{
    uint32_t v = *(volatile uint32_t *)a;
    barrier();
    return v;
}
static inline void mmio_wr32(uintptr_t a, uint32_t v)
{
    barrier();
    *(volatile uint32_t *)a = v;
}
#else
/* aarch64, riscv64, armv7: kernel/arch/<isa>/arch_hw.h (the Makefile puts that
 * directory on the include path) gives cpu_relax, barrier, irq_save/
 * irq_restore/irq_enable and mmio_rd32/mmio_wr32 with the ISA's writel/
 * readl barriers, and arch_init(). */
#define HARNESS_X86 0
#include "arch_hw.h"
#endif

/* --- lib.c --------------------------------------------------------------- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Parses a decimal or 0x-prefixed number; returns false on junk. */
bool parse_u64(const char *s, uint64_t *out);

/* --- console (COM1) ------------------------------------------------------ */
void serial_init(void);
void serial_write(const char *s);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One character from the console's input if one is waiting (host hooks). */
bool serial_getc(char *c);

/* --- isa-debug-exit ------------------------------------------------------- */
#define EXIT_PASS 0  /* QEMU exits with status 1 */
#define EXIT_FAIL 1  /* status 3 */
#define EXIT_CRASH 2 /* status 5: exception in the harness */
__attribute__((noreturn)) void qemu_exit(uint8_t code);

/* --- PCI configuration space (mechanism #1) ------------------------------- */
struct pci_addr {
    uint8_t bus, dev, fn;
};
uint32_t pci_read32(struct pci_addr a, uint8_t off);
uint16_t pci_read16(struct pci_addr a, uint8_t off);
uint8_t pci_read8(struct pci_addr a, uint8_t off);
void pci_write32(struct pci_addr a, uint8_t off, uint32_t v);
void pci_write16(struct pci_addr a, uint8_t off, uint16_t v);
/* Finds the first function with class/subclass/prog-if; false if none. */
/* The nth function (0 = first, in bus:device.function order) of the class. */
bool pci_find_class(uint8_t cls, uint8_t sub, uint8_t progif, unsigned nth, struct pci_addr *out);
/* Offset of capability `id` in the capability list, 0 if absent. */
uint8_t pci_find_cap(struct pci_addr a, uint8_t id);
/* Base address of memory BAR `bar` (64-bit BARs aware), 0 if unusable. */
uint64_t pci_bar_base(struct pci_addr a, unsigned bar, bool *is64);
/* Size of memory BAR `bar` (its lowest implemented address bit, as
 * Linux's pci_size()), sized with memory decode off (PCI 3.0 6.2.5.1) and
 * the BAR restored; 0 for an I/O or unimplemented BAR. */
uint64_t pci_bar_size(struct pci_addr a, unsigned bar);
/* The CPU address of bytes [off, off + len) of memory BAR `bar`, 0 when
 * they are not usable: a BAR index past 5 (an MSI-X BIR of 6 or 7, PCI 3.0
 * 6.8.2.4), an I/O, unassigned or 64-bit BAR5, a range past the BAR's size,
 * or one the CPU does not reach (pci_mmio_reachable). */
uintptr_t pci_bar_map(struct pci_addr a, unsigned bar, uint64_t off, uint64_t len);
/* Whether the CPU reaches [addr, addr + len) as MMIO: below 4 GiB (what
 * x86-32 and armv7 pointers hold, x86-64's and aarch64's maps cover), and
 * off x86 in a device tree window (pci_ecam.c: not a BAR left outside them
 * for want of room). */
bool pci_mmio_reachable(uint64_t addr, uint64_t len);

#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_CMD_INTX_DISABLE (1u << 10)
#define PCI_CAP_MSI 0x05
#define PCI_CAP_MSIX 0x11

/* --- clock ------------------------------------------------------------------ */
/* Calibrates the TSC against PIT channel 2 (its count read between TSC
 * reads, hw.c); returns TSC ticks per us. */
uint64_t clock_init(void);
/* The same calibration, returned, not used; disturb (NULL at boot) runs at
 * the start of each window, as a host's preemption of the vCPU would. */
uint64_t clock_calibrate(void (*disturb)(unsigned window));
uint64_t clock_now_us(void);
void clock_sleep_us(uint32_t us);

/* --- interrupts --------------------------------------------------------------- */
#define IRQ_VECTOR_BASE 0x40 /* device vectors 0x40.. */
#define IRQ_VECTOR_MAX 16
/* Device vector indices granted to the controller: the last two are the
 * harness's own on x86, the local APIC timer (HARNESS_TICK_IDX) and the
 * SMP wake-up IPI (smp.c's SMP_WAKE_IDX, an index its handler drops on
 * every ISA).  Granting them made queues on vectors 14 and 15 share the
 * tick and lose their interrupts to the wake-up's filter. */
#define IRQ_DEVICE_VECTORS (IRQ_VECTOR_MAX - 2)
#define LAPIC_SPURIOUS_VECTOR 0xff

struct isr_frame;
typedef void (*irq_handler_fn)(unsigned vector_index);
/* IDT with exception reporting, 8259 remapped to 0x20 and masked. */
void idt_init(void);
/* Enables the local APIC (MMIO at its MSR base); returns its APIC ID. */
uint32_t lapic_init(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
uintptr_t lapic_base(void);
/* Sends `vector` to this CPU (self IPI), for the plumbing self test. */
void lapic_self_ipi(uint8_t vector);
/* IOAPIC redirection entry `pin` -> `vector`, level/active-high for PCI. */
void ioapic_route(unsigned pin, uint8_t vector, bool level, bool masked);
void ioapic_mask(unsigned pin, bool masked);
unsigned ioapic_pins(void);
/* Handler for device vectors IRQ_VECTOR_BASE + i; gets i. */
void irq_set_handler(irq_handler_fn fn);
/* How many times each device vector was delivered. */
extern volatile uint32_t irq_delivered[IRQ_VECTOR_MAX];

#endif /* HARNESS_HW_H */
