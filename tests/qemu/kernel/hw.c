/* SPDX-License-Identifier: MIT */
/* hw.c - serial, PCI, clock, IDT, local APIC, IOAPIC for the harness kernel. */
#include "hw.h"

/* --- COM1 ------------------------------------------------------------------- */
#define COM1 0x3f8

void serial_init(void)
{
    outb(COM1 + 1, 0x00); /* no UART interrupts */
    outb(COM1 + 3, 0x80); /* DLAB */
    outb(COM1 + 0, 0x01); /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
    outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void serial_putc(char c)
{
    for (unsigned i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        cpu_relax();
    outb(COM1, (uint8_t)c);
}

void serial_write(const char *s)
{
    /* One writer at a time, interrupt handlers included (log() may be
     * called from an interrupt). */
    unsigned long f = irq_save();
    while (*s)
        serial_putc(*s++);
    irq_restore(f);
}

bool serial_getc(char *c)
{
    if (!(inb(COM1 + 5) & 1))
        return false;
    *c = (char)inb(COM1);
    return true;
}

/* --- isa-debug-exit ------------------------------------------------------------ */
void qemu_exit(uint8_t code)
{
    outb(0xf4, code); /* -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
    serial_write("harness: isa-debug-exit did not stop QEMU (device missing?); halting\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* --- PCI configuration mechanism #1 ---------------------------------------------- */
static uint32_t pci_cfg_addr(struct pci_addr a, uint8_t off)
{
    return 0x80000000u | ((uint32_t)a.bus << 16) | ((uint32_t)a.dev << 11) | ((uint32_t)a.fn << 8) |
           (off & 0xfcu);
}

/* A configuration access is two, the address to CONFIG_ADDRESS (CF8h) and
 * the data at CONFIG_DATA (CFCh), and the address is the host bridge's
 * one latch for every CPU (PCI Local Bus 3.0 3.2.2.3.2): another CPU's
 * address written between them, or an interrupt handler's on this CPU
 * (removed() in main.c reads the vendor ID from the core's MMIO reads,
 * nvme_ctrl_handle_irq's too), sends the data access to that register.
 * So the pair runs under one spinlock with interrupts off: on one CPU an
 * uncontended exchange next to the two port accesses QEMU emulates.  The
 * spin is bounded: a holder runs two port accesses with interrupts off,
 * so a lock still held 10 s later is a harness bug (a crash). */
static volatile uint32_t pci_cfg_held;

static unsigned long pci_cfg_begin(struct pci_addr a, uint8_t off)
{
    unsigned long f = irq_save();
    uint64_t until = 0;
    while (__atomic_exchange_n(&pci_cfg_held, 1u, __ATOMIC_ACQUIRE)) {
        if (!until)
            until = clock_now_us() + 10000000u;
        while (__atomic_load_n(&pci_cfg_held, __ATOMIC_RELAXED)) {
            cpu_relax();
            if (clock_now_us() > until) {
                serial_write("harness: PCI configuration lock held for 10 s\n");
                qemu_exit(EXIT_CRASH);
            }
        }
    }
    barrier();
    outl(0xcf8, pci_cfg_addr(a, off));
    return f;
}
static void pci_cfg_end(unsigned long f)
{
    barrier();
    __atomic_store_n(&pci_cfg_held, 0u, __ATOMIC_RELEASE);
    irq_restore(f);
}

uint32_t pci_read32(struct pci_addr a, uint8_t off)
{
    unsigned long f = pci_cfg_begin(a, off);
    uint32_t v = inl(0xcfc);
    pci_cfg_end(f);
    return v;
}
uint16_t pci_read16(struct pci_addr a, uint8_t off)
{
    unsigned long f = pci_cfg_begin(a, off);
    uint16_t v = inw((uint16_t)(0xcfc + (off & 2)));
    pci_cfg_end(f);
    return v;
}
uint8_t pci_read8(struct pci_addr a, uint8_t off)
{
    unsigned long f = pci_cfg_begin(a, off);
    uint8_t v = inb((uint16_t)(0xcfc + (off & 3)));
    pci_cfg_end(f);
    return v;
}
void pci_write32(struct pci_addr a, uint8_t off, uint32_t v)
{
    unsigned long f = pci_cfg_begin(a, off);
    outl(0xcfc, v);
    pci_cfg_end(f);
}
/* 16-bit writes so that RW1C bits of a neighbouring register (Status next
 * to Command) are never written back. */
void pci_write16(struct pci_addr a, uint8_t off, uint16_t v)
{
    unsigned long f = pci_cfg_begin(a, off);
    outw((uint16_t)(0xcfc + (off & 2)), v);
    pci_cfg_end(f);
}

/* The first 4 GiB: what x86-32 addresses and x86-64's boot code maps. */
bool pci_mmio_reachable(uint64_t addr, uint64_t len)
{
    return len && addr < (1ull << 32) && len <= (1ull << 32) - addr;
}

/* --- clock: TSC calibrated against PIT channel 2 ------------------------------------
 * Under TCG a vCPU is a host thread, and the guest's TSC (the host's) and
 * the PIT (QEMU's virtual clock) both follow the host's time: a host that
 * preempts the vCPU stretches whatever the guest times by the time it lost.
 * One 20 ms window timed to the PIT's OUT edge read 2313 to 4557 MHz on a
 * 2096 MHz host at load 17, every later deadline of the boot off by that.
 * So the count itself is read (counter latch, 8254 data sheet), each read
 * between two TSC reads, which bound when the count was latched: a read
 * the host preempted has a wide bracket.  A window counts 65535 ticks
 * (55 ms) in mode 0; the narrowest bracket of its first quarter and that
 * of its last quarter give the rate, wrong by at most their widths over
 * the ~27 ms between them.  Reads end at OUT's rise (the count wrapped),
 * so a preemption past the window's end reads no wrapped count.  A window
 * with no read in a quarter (preempted through it) is tried again, up to
 * CLOCK_WINDOWS; the one whose brackets are the narrowest for its span
 * wins, and one within 0.1 % ends the search.  Bounded: 10^7 reads in all, then the 1 GHz
 * fallback (a machine without a PIT). */
#define CLOCK_WINDOWS 8
#define PIT_HZ 1193182u

static uint64_t tsc_per_us = 1;

struct pit_read {
    uint64_t tsc;   /* the bracket's middle */
    uint64_t width; /* its width in TSC ticks */
    uint32_t ticks; /* PIT ticks since the window's start */
};

/* Reads channel 2's count; false once OUT rose (the count passed 0). */
static bool pit_read(struct pit_read *r)
{
    uint64_t ta = rdtsc();
    outb(0x43, 0x80); /* counter latch, channel 2 */
    uint8_t lo = inb(0x42), hi = inb(0x42);
    uint64_t tb = rdtsc();
    if (inb(0x61) & 0x20)
        return false;
    r->tsc = ta + ((tb - ta) >> 1);
    r->width = tb - ta;
    r->ticks = 0xffffu - (uint32_t)(lo | hi << 8);
    return true;
}

/* One window: the narrowest bracketed read of its first quarter and that of
 * its last; false if a quarter had none. */
static bool pit_window(unsigned i, void (*disturb)(unsigned window), uint32_t *budget,
                       struct pit_read *first, struct pit_read *last)
{
    outb(0x43, 0xb0); /* ch2, lo/hi, mode 0: OUT low until the count passes 0 */
    outb(0x42, 0xff);
    outb(0x42, 0xff);
    if (disturb)
        disturb(i);
    struct pit_read r;
    first->width = last->width = ~0ull;
    while (*budget && pit_read(&r)) {
        --*budget;
        if (r.ticks < 0x4000u && r.width < first->width)
            *first = r;
        if (r.ticks >= 0xc000u && r.width <= last->width)
            *last = r;
    }
    return first->width != ~0ull && last->width != ~0ull && last->tsc > first->tsc;
}

uint64_t clock_calibrate(void (*disturb)(unsigned window))
{
    uint32_t budget = 10000000u;
    uint64_t best = 0, best_width = 1, best_span = 0; /* the error bound: width / span */
    uint8_t p61 = inb(0x61);
    outb(0x61, (uint8_t)((p61 & ~0x02) | 0x01)); /* gate on, speaker off */
    for (unsigned i = 0; i < CLOCK_WINDOWS && budget; i++) {
        struct pit_read f = {0, 0, 0}, l = {0, 0, 0};
        if (!pit_window(i, disturb, &budget, &f, &l))
            continue;
        uint64_t width = f.width + l.width, span = l.tsc - f.tsc;
        if (width * best_span < best_width * span) {
            best = span * PIT_HZ / ((uint64_t)(l.ticks - f.ticks) * 1000000u);
            best_width = width;
            best_span = span;
        }
        if (best && best_width * 1000u < best_span) /* within 0.1 % */
            break;
    }
    outb(0x61, p61);
    return best ? best : 1000; /* no PIT or never a read at both ends: 1 GHz */
}

uint64_t clock_init(void)
{
    tsc_per_us = clock_calibrate(NULL);
    return tsc_per_us;
}

uint64_t clock_now_us(void) { return rdtsc() / tsc_per_us; }

void clock_sleep_us(uint32_t us)
{
    uint64_t end = rdtsc() + (uint64_t)us * tsc_per_us;
    while (rdtsc() < end)
        cpu_relax();
}

/* --- IDT -------------------------------------------------------------------------------- */
#ifdef __x86_64__
struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));
struct isr_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error, ip, cs, flags;
};
#else
struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t zero, type;
    uint16_t off_hi;
} __attribute__((packed));
struct isr_frame {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, error, ip, cs, flags;
};
#endif
struct idt_ptr {
    uint16_t limit;
    uintptr_t base;
} __attribute__((packed));

extern char isr_stubs[]; /* 256 stubs, 16 bytes apart (isr*.S) */
static struct idt_entry idt[256] __attribute__((aligned(16)));
static irq_handler_fn irq_handler;
volatile uint32_t irq_delivered[IRQ_VECTOR_MAX];
static volatile uint32_t spurious_count;

void isr_dispatch(struct isr_frame *f);

void irq_set_handler(irq_handler_fn fn) { irq_handler = fn; }

static uintptr_t read_cr2(void)
{
    uintptr_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

void isr_dispatch(struct isr_frame *f)
{
    unsigned v = (unsigned)f->vector;
    if (v >= IRQ_VECTOR_BASE && v < IRQ_VECTOR_BASE + IRQ_VECTOR_MAX) {
        unsigned i = v - IRQ_VECTOR_BASE;
        irq_delivered[i]++;
        if (irq_handler)
            irq_handler(i);
        lapic_eoi();
        return;
    }
    if (v == LAPIC_SPURIOUS_VECTOR || (v >= 0x20 && v < 0x30)) {
        spurious_count++; /* spurious LAPIC / 8259 (all 8259 lines are masked) */
        return;
    }
    kprintf("\nharness: CPU exception %u error=0x%lx ip=0x%lx cs=0x%lx flags=0x%lx cr2=0x%lx\n", v,
            (unsigned long)f->error, (unsigned long)f->ip, (unsigned long)f->cs,
            (unsigned long)f->flags, (unsigned long)read_cr2());
    kprintf("harness: RESULT CRASH\n");
    qemu_exit(EXIT_CRASH);
}

void idt_init(void)
{
    /* 8259s: remap to 0x20..0x2f (away from the exception vectors) and
     * mask every line; INTx goes through the IOAPIC. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);

    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (unsigned i = 0; i < 256; i++) {
        uintptr_t h = (uintptr_t)isr_stubs + 16u * i;
        struct idt_entry *e = &idt[i];
        memset(e, 0, sizeof(*e));
        e->off_lo = (uint16_t)h;
        e->sel = cs;
        e->type = 0x8e; /* present, DPL0, interrupt gate */
#ifdef __x86_64__
        e->off_mid = (uint16_t)(h >> 16);
        e->off_hi = (uint32_t)(h >> 32);
#else
        e->off_hi = (uint16_t)(h >> 16);
#endif
    }
    struct idt_ptr p = {sizeof(idt) - 1, (uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(p));
}

/* --- local APIC ------------------------------------------------------------------------ */
#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360

static uintptr_t lapic;

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

uint32_t lapic_init(void)
{
    uint64_t base = rdmsr(0x1b);
    if (!(base & (1u << 11)))
        wrmsr(0x1b, base | (1u << 11)); /* global enable */
    lapic = (uintptr_t)(base & 0xfffff000u);
    mmio_wr32(lapic + LAPIC_TPR, 0);
    mmio_wr32(lapic + LAPIC_SVR, (1u << 8) | LAPIC_SPURIOUS_VECTOR);
    return lapic_id();
}

uintptr_t lapic_base(void) { return lapic; }
uint32_t lapic_id(void) { return mmio_rd32(lapic + LAPIC_ID) >> 24; }
void lapic_eoi(void) { mmio_wr32(lapic + LAPIC_EOI, 0); }

void lapic_self_ipi(uint8_t vector)
{
    mmio_wr32(lapic + LAPIC_ICR_HI, 0);
    mmio_wr32(lapic + LAPIC_ICR_LO, (1u << 18) | (1u << 14) | vector); /* self, assert, fixed */
    for (unsigned i = 0; i < 100000 && (mmio_rd32(lapic + LAPIC_ICR_LO) & (1u << 12)); i++)
        cpu_relax();
}

/* --- IOAPIC (QEMU pc: 0xfec00000, PCI INTx on the pin = interrupt line) ---------------- */
#define IOAPIC_BASE 0xfec00000u

static uint32_t ioapic_read(uint32_t reg)
{
    mmio_wr32(IOAPIC_BASE, reg);
    return mmio_rd32(IOAPIC_BASE + 0x10);
}
static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_wr32(IOAPIC_BASE, reg);
    mmio_wr32(IOAPIC_BASE + 0x10, v);
}

unsigned ioapic_pins(void) { return ((ioapic_read(1) >> 16) & 0xff) + 1; }

void ioapic_route(unsigned pin, uint8_t vector, bool level, bool masked)
{
    uint32_t lo = vector | (level ? (1u << 15) : 0) |
                  (masked ? (1u << 16) : 0);  /* fixed, physical, active high */
    ioapic_write(0x10 + 2 * pin, (1u << 16)); /* mask while changing */
    ioapic_write(0x11 + 2 * pin, lapic_id() << 24);
    ioapic_write(0x10 + 2 * pin, lo);
}

void ioapic_mask(unsigned pin, bool masked)
{
    uint32_t lo = ioapic_read(0x10 + 2 * pin);
    lo = masked ? (lo | (1u << 16)) : (lo & ~(1u << 16));
    ioapic_write(0x10 + 2 * pin, lo);
}
