/* SPDX-License-Identifier: MIT */
/*
 * main.c - the QEMU harness kernel: boots from multiboot, finds the NVMe
 * controller, brings it up with libnvme-core and runs the nvmectl
 * commands given on the kernel command line, then ends QEMU through
 * isa-debug-exit with a pass/fail status.
 *
 * Command line (QEMU -append): items separated by ';'.
 *   Options (anywhere, applied before bring-up):
 *     irq=msix|intx|poll   interrupt mode (default msix)
 *     ioq=N                I/O queue pairs wanted (default 1)
 *     qdepth=N             I/O queue entries (default: the core's)
 *     admq=N               admin queue entries (default: the core's)
 *     trace=MASK           enum nvme_trace_mask bits
 *     timeout=MS           per-command timeout
 *     fini=0|1             shut the controller down at the end (default 1)
 *   Commands, in order:
 *     any nvmectl command  (info, ready, list, smart, read, write, flush, verify)
 *     irqs                 interrupt counters
 *     check-irqs           irqs, and fail unless they match the mode:
 *                          count > 0 with interrupts, == 0 when polling
 *     regs                 raw CAP/VS/CC/CSTS/AQA
 *     reset                nvme_ctrl_reset()
 *     echo TEXT            print TEXT
 *     !COMMAND             COMMAND must fail
 * Output lines starting "harness: " are the harness's own; the last one is
 * "harness: RESULT PASS" or "harness: RESULT FAIL ...".
 */
#include "osal.h"

#ifndef HARNESS_NO_CORE
#include "nvme/nvmectl.h"
#endif

#ifdef __x86_64__
#define ARCH_NAME "x86-64"
#else
#define ARCH_NAME "x86-32"
#endif

#define MB_BOOT_MAGIC 0x2BADB002u

struct multiboot_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

static char cmdline[4096];
static unsigned failures;

struct options {
    enum irq_mode irq;
    uint16_t ioq, qdepth, admq;
    uint32_t trace, timeout_ms;
    bool fini;
};

static const char *irq_mode_name(enum irq_mode m)
{
    return m == IRQ_MODE_MSIX ? "msix" : m == IRQ_MODE_INTX ? "intx" : "poll";
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* Splits the command line at ';' in place; returns the number of items. */
static unsigned split_items(char *line, char **items, unsigned max)
{
    unsigned n = 0;
    char *p = line;
    while (p && n < max) {
        char *semi = p;
        while (*semi && *semi != ';')
            semi++;
        char *next = *semi ? semi + 1 : NULL;
        *semi = 0;
        char *t = trim(p);
        if (*t)
            items[n++] = t;
        p = next;
    }
    return n;
}

/* "key=value" with no blank and a known key; -1 junk value, 0 not an option. */
static int parse_option(const char *item, struct options *o)
{
    const char *eq = item;
    while (*eq && *eq != '=' && *eq != ' ')
        eq++;
    if (*eq != '=')
        return 0;
    for (const char *c = eq; *c; c++)
        if (*c == ' ')
            return 0;
    size_t kl = (size_t)(eq - item);
    const char *v = eq + 1;
    uint64_t n = 0;
    bool num = parse_u64(v, &n);
#define KEY(k) (kl == sizeof(k) - 1 && !strncmp(item, k, kl))
    if (KEY("irq")) {
        if (!strcmp(v, "msix"))
            o->irq = IRQ_MODE_MSIX;
        else if (!strcmp(v, "intx"))
            o->irq = IRQ_MODE_INTX;
        else if (!strcmp(v, "poll"))
            o->irq = IRQ_MODE_POLL;
        else
            return -1;
    } else if (KEY("ioq") && num) {
        o->ioq = (uint16_t)n;
    } else if (KEY("qdepth") && num) {
        o->qdepth = (uint16_t)n;
    } else if (KEY("admq") && num) {
        o->admq = (uint16_t)n;
    } else if (KEY("trace") && num) {
        o->trace = (uint32_t)n;
    } else if (KEY("timeout") && num) {
        o->timeout_ms = (uint32_t)n;
    } else if (KEY("fini") && num) {
        o->fini = n != 0;
    } else {
        return kl && (KEY("irq") || KEY("ioq") || KEY("qdepth") || KEY("admq") || KEY("trace") ||
                      KEY("timeout") || KEY("fini"))
                   ? -1
                   : 0;
    }
#undef KEY
    return 1;
}

static void fail(const char *why)
{
    failures++;
    kprintf("harness: FAILED: %s\n", why);
}

static __attribute__((noreturn)) void finish(void)
{
    if (failures)
        kprintf("harness: RESULT FAIL (%u failure%s)\n", failures, failures == 1 ? "" : "s");
    else
        kprintf("harness: RESULT PASS\n");
    qemu_exit(failures ? EXIT_FAIL : EXIT_PASS);
}

static void print_regs(const struct harness_dev *d, const char *when)
{
    uintptr_t b = d->bar0;
    uint32_t cap_lo = mmio_rd32(b + 0x00), cap_hi = mmio_rd32(b + 0x04);
    uint32_t vs = mmio_rd32(b + 0x08), cc = mmio_rd32(b + 0x14), csts = mmio_rd32(b + 0x1c);
    uint32_t aqa = mmio_rd32(b + 0x24);
    kprintf("harness: %s: CAP=0x%08x%08x VS=0x%08x (%u.%u.%u) CC=0x%08x CSTS=0x%08x AQA=0x%08x "
            "MQES+1=%u CC.EN=%u CSTS.RDY=%u\n",
            when, cap_hi, cap_lo, vs, vs >> 16, (vs >> 8) & 0xff, vs & 0xff, cc, csts, aqa,
            (cap_lo & 0xffff) + 1, cc & 1, csts & 1);
}

/* The interrupt plumbing without a device: a self IPI through the LAPIC. */
static void self_test_ipi(void)
{
    unsigned v = IRQ_VECTOR_MAX - 1;
    uint32_t before = irq_delivered[v];
    lapic_self_ipi((uint8_t)(IRQ_VECTOR_BASE + v));
    for (unsigned i = 0; i < 1000000 && irq_delivered[v] == before; i++)
        cpu_relax();
    if (irq_delivered[v] == before)
        fail("LAPIC self IPI was not delivered");
    else
        kprintf("harness: LAPIC self IPI delivered on vector 0x%x\n", IRQ_VECTOR_BASE + v);
    irq_delivered[v] = 0;
}

#ifndef HARNESS_NO_CORE

static void io_print(void *arg, const char *text) { serial_write(text); }

static void print_irqs(struct nvme_ctrl *ctrl, const struct options *o, bool check)
{
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(ctrl);
    uint64_t count = nvme_ctrl_irq_count(ctrl);
    char per[160];
    size_t pos = 0;
    per[0] = 0;
    for (unsigned i = 0; i < IRQ_VECTOR_MAX && pos < sizeof(per) - 16; i++)
        if (irq_delivered[i])
            pos += (size_t)snprintf(per + pos, sizeof(per) - pos, " v%u=%u", i, irq_delivered[i]);
    kprintf("irqs: mode=%s vectors=%u intx=%u nvme_ctrl_irq_count=%llu delivered:%s early=%u\n",
            irq_mode_name(o->irq), info->irq_vectors, info->irq_is_intx ? 1u : 0u,
            (unsigned long long)count, pos ? per : " none", g_dev.early_irqs);
    if (!check)
        return;
    if (o->irq == IRQ_MODE_POLL) {
        if (count != 0 || info->irq_vectors != 0)
            fail("polling mode, yet interrupts were handled");
    } else {
        if (info->irq_vectors == 0)
            fail("no interrupt vector granted");
        else if ((o->irq == IRQ_MODE_INTX) != info->irq_is_intx)
            fail("interrupt type differs from the mode asked for");
        else if (count == 0)
            fail("nvme_ctrl_irq_count() is 0: no interrupt reached the core");
    }
}

static void run_item(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, const struct options *o,
                     char *item)
{
    bool expect_fail = false;
    char shown[256];
    if (item[0] == '!') {
        expect_fail = true;
        item = trim(item + 1);
    }
    snprintf(shown, sizeof(shown), "%s", item);
    kprintf("nvmectl> %s%s\n", expect_fail ? "(must fail) " : "", shown);
    int rc;
    if (!strcmp(item, "irqs")) {
        print_irqs(ctrl, o, false);
        rc = 0;
    } else if (!strcmp(item, "check-irqs")) {
        unsigned before = failures;
        print_irqs(ctrl, o, true);
        rc = failures != before ? -1 : 0;
        failures = before;
    } else if (!strcmp(item, "regs")) {
        print_regs(&g_dev, "registers");
        rc = 0;
    } else if (!strcmp(item, "reset")) {
        rc = nvme_ctrl_reset(ctrl);
    } else if (!strncmp(item, "echo ", 5) || !strcmp(item, "echo")) {
        kprintf("%s\n", item[4] ? item + 5 : "");
        rc = 0;
    } else {
        rc = nvmectl_run_line(ctrl, io, item);
    }
    char why[320];
    if (expect_fail && rc == 0) {
        snprintf(why, sizeof(why), "'%s' succeeded but must fail", shown);
        fail(why);
    } else if (!expect_fail && rc != 0) {
        snprintf(why, sizeof(why), "'%s' returned %d (%s)", shown, rc,
                 rc < 0 ? nvme_strerror(rc) : nvme_status_name((uint16_t)rc));
        fail(why);
    } else if (expect_fail) {
        kprintf("harness: '%s' failed as expected: %d\n", shown, rc);
    }
}

#endif /* !HARNESS_NO_CORE */

void kmain(uint32_t magic, uint32_t mbi_addr);

void kmain(uint32_t magic, uint32_t mbi_addr)
{
    serial_init();
    kprintf("\nharness: nvme-core QEMU harness, %s\n", ARCH_NAME);
    if (magic != MB_BOOT_MAGIC) {
        kprintf("harness: not booted by a multiboot loader (magic 0x%x)\n", magic);
        failures++;
        finish();
    }
    const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbi_addr;
    const char *args = "";
    if (mbi->flags & (1u << 2)) {
        const char *src = (const char *)(uintptr_t)mbi->cmdline;
        size_t n = 0;
        while (src[n] && n + 1 < sizeof(cmdline)) {
            cmdline[n] = src[n];
            n++;
        }
        cmdline[n] = 0;
        /* QEMU passes "<kernel path> <-append text>": skip the path */
        char *p = cmdline;
        while (*p && *p != ' ')
            p++;
        args = trim(p);
    }
    kprintf("harness: memory %u KiB, command line: ",
            (mbi->flags & 1u) ? mbi->mem_lower + mbi->mem_upper : 0);
    serial_write(args);
    serial_write("\n");

    idt_init();
    uint32_t apic = lapic_init();
    uint64_t tsc_mhz = clock_init();
    irq_enable();
    kprintf("harness: LAPIC id %u at 0x%lx, IOAPIC %u pins, TSC %llu MHz\n", apic,
            (unsigned long)lapic_base(), ioapic_pins(), (unsigned long long)tsc_mhz);
    self_test_ipi();

    static char line[sizeof(cmdline)];
    static char *items[128];
    memcpy(line, args, strlen(args) + 1);
    unsigned nitems = split_items(line, items, 128);
    struct options opt = { .irq = IRQ_MODE_MSIX, .fini = true };
    char *cmds[128];
    unsigned ncmds = 0;
    for (unsigned i = 0; i < nitems; i++) {
        int r = parse_option(items[i], &opt);
        if (r < 0) {
            kprintf("harness: bad option '%s'\n", items[i]);
            failures++;
        } else if (r == 0) {
            cmds[ncmds++] = items[i];
        }
    }
    kprintf("harness: irq=%s, %u command%s\n", irq_mode_name(opt.irq), ncmds, ncmds == 1 ? "" : "s");

    struct harness_dev *d = &g_dev;
    d->mode = opt.irq;
    if (!dev_probe(d)) {
        failures++;
        finish();
    }
    print_regs(d, "left by firmware");

#ifdef HARNESS_NO_CORE
    (void)cmds;
    kprintf("harness: built without libnvme-core (stand-in): %u command%s not run\n", ncmds,
            ncmds == 1 ? "" : "s");
    finish();
#else
    struct nvme_osal osal;
    osal_fill(&osal, d);
    struct nvme_ctrl_opts copts;
    memset(&copts, 0, sizeof(copts));
    copts.pci_vendor = d->vendor;
    copts.pci_device = d->device;
    copts.io_queues = opt.ioq;
    copts.io_queue_entries = opt.qdepth;
    copts.admin_queue_entries = opt.admq;
    copts.trace = opt.trace;
    copts.command_timeout_ms = opt.timeout_ms;
    copts.polling = opt.irq == IRQ_MODE_POLL;

    uint64_t t0 = clock_now_us();
    struct nvme_ctrl *ctrl = NULL;
    int rc = nvme_ctrl_init(&ctrl, &osal, &copts);
    uint64_t t1 = clock_now_us();
    if (rc != 0 || !ctrl) {
        kprintf("harness: nvme_ctrl_init failed: %d (%s)\n", rc,
                rc < 0 ? nvme_strerror(rc) : nvme_status_name((uint16_t)rc));
        print_regs(d, "after failed init");
        kprintf("harness: after failed init: dma in use %lu bytes, heap in use %lu bytes\n",
                (unsigned long)dma_bytes_in_use(), (unsigned long)heap_bytes_in_use());
        failures++;
        finish();
    }
    d->ctrl = ctrl;
    dev_irq_arm(d);
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(ctrl);
    kprintf("harness: nvme_ctrl_init ok in %llu ms: enabled_at_start=%u (CC.EN was %u at start) "
            "irq_vectors=%u intx=%u io_queues=%u x %u entries\n",
            (unsigned long long)((t1 - t0) / 1000), info->enabled_at_start ? 1u : 0u,
            info->enabled_at_start ? 1u : 0u, info->irq_vectors, info->irq_is_intx ? 1u : 0u,
            info->io_queues, info->io_queue_entries);

    struct nvmectl_io io;
    memset(&io, 0, sizeof(io));
    io.print = io_print;
    io.buf = harness_buffer(&io.buf_len);
    io.dev_name = "nvme0";
    for (unsigned i = 0; i < ncmds; i++)
        run_item(ctrl, &io, &opt, cmds[i]);

    if (opt.fini) {
        nvme_ctrl_fini(ctrl);
        d->ctrl = NULL;
        size_t dma = dma_bytes_in_use(), heap = heap_bytes_in_use();
        uint32_t cc = mmio_rd32(d->bar0 + 0x14), csts = mmio_rd32(d->bar0 + 0x1c);
        kprintf("harness: after nvme_ctrl_fini: CC=0x%08x CSTS=0x%08x (SHST=%u) dma in use %lu, "
                "heap in use %lu\n",
                cc, csts, (csts >> 2) & 3, (unsigned long)dma, (unsigned long)heap);
        if (dma || heap)
            fail("nvme_ctrl_fini left memory allocated");
    }
    finish();
#endif
}
