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
 *     batch-ms=MS          "wpat/rpat ... batch" fails after MS (default 10000)
 *     fini=0|1             shut the controller down at the end (default 1)
 *     unplug-ones=0|1      loop-io makes MMIO reads all ones once the
 *                          controller left PCI config space (default 1)
 *     reset-hook=NAME      at the first NVME_EVENT_RESET, run "hook NAME"
 *                          from the event callback (e.g. lift a throttle)
 *     reset-start-hook=NAME  the same at the first reset's start (the
 *                          core's "controller reset after:" warning)
 *     wait=0|1             with interrupts: give the core the OSAL's
 *                          wait/wake (default 1; 0: blocking calls poll)
 *     wait-spin=US         a wait spins this long before it halts
 *                          (default WAIT_SPIN_DEFAULT_US; 0: halt at once)
 *     cpus=N               start N-1 application processors (smp.c; x86,
 *                          aarch64, armv7, riscv64) and pass
 *                          N in nvme_ctrl_opts.cpus: a queue pair per CPU
 *     pci=BB:DD.F          drive the NVMe controller at this PCI address
 *     serial=S             drive the NVMe controller whose Identify
 *                          Controller serial number (SN, trailing blanks
 *                          removed) is S; with pci= as well, both must hold.
 *                          Without either: the first controller in PCI order
 *     rawbench=IOS         x86: no core at all; drive the controller with a
 *                          minimal polled loop (rawbench.c) at QD1/32/128 and
 *                          exit: the device model's ceiling for bench/
 *   Commands, in order:
 *     any nvmectl command  (info, ready, list, smart, read, write, flush, write-verify)
 *     irqs                 interrupt counters
 *     check-irqs           irqs, and fail unless they match the mode:
 *                          count > 0 with interrupts, == 0 when polling
 *     irq-flush            an asynchronous Flush of namespace 1 on the CPU's
 *                          queue, left for the interrupt handler to reap
 *                          (no polling for 2 s): fails unless it does.  A
 *                          blocking call may reap before its interrupt is
 *                          taken, and its CQ head doorbell then lowers a
 *                          level INTx line the CPU never saw raised
 *     regs                 raw CAP/VS/CC/CSTS/AQA
 *     reset                nvme_ctrl_reset()
 *     echo TEXT            print TEXT
 *     !COMMAND             COMMAND must fail
 *     ?COMMAND             COMMAND may fail: "harness: try 'COMMAND' -> RC"
 *                          (soak.py judges the outcome)
 *     expect-err SPEC CMD  CMD must fail as SPEC says: alternatives joined by
 *                          '|', each "media" (SCT 2), "internal" (Internal
 *                          Error), "status" (any device status), a status
 *                          field number (SCT/SC compared), or an nvme_err
 *                          name: gone timeout aborted noent range fatal
 *                          state busy inval rdonly unsupported
 *     stats                nvme_ctrl_get_stats()
 *     service [N]          nvme_ctrl_service() N times (default 1), 10 ms apart
 *     wait-event EV MS     call nvme_ctrl_service() every 10 ms until event_cb
 *                          reported EV (gone reset dead ns-changed smart error
 *                          notice) since the last wait for it; fail after MS
 *     ns-attach NSID       Namespace Attachment (15h) attach / detach of NSID
 *     ns-detach NSID       to/from this controller (Identify CNTLID)
 *     hook NAME            print "harness: HOOK NAME", wait (20 s) for the
 *                          host's "ACK ok" on COM1 (run.sh --hook NAME=...)
 *     kill-point           print "harness: KILL-POINT" and spin (20 s, then
 *                          fail) for the host to SIGKILL QEMU: no shutdown,
 *                          no flush, the image as a crash leaves it
 *     wpat NSID LBA N KEY  write N blocks of the pattern KEY (every block
 *                          unique: see pat_word(), check.py recomputes it)
 *     rpat NSID LBA N KEY  read N blocks and compare with the pattern KEY
 *                          (either with the word "batch" after KEY: through
 *                          nvme_submit_rw_batch() in one-page requests on
 *                          the CPU's queue, polled, instead of the blocking
 *                          call)
 *     cmpx NSID LBA N [KEY] nvme_read_ext N blocks with their metadata (PI
 *                          included), then nvme_compare_ext them back: equal;
 *                          again with the last metadata byte flipped, then a
 *                          data byte: both Compare Failure.  With KEY, first
 *                          nvme_write_ext bytes of KEY's pattern (no PI
 *                          check) and check that the read gives them back
 *     bench NSID IOS [MODE...]
 *                          IOS (1..100000000) commands per CPU and mode on
 *                          every CPU at once:
 *                          4 KiB random reads QD1 blocking, QD1 async, QD32,
 *                          QD128, 128 KiB sequential reads QD8, 4 KiB random
 *                          writes QD32; IOPS, p50/p99 latency (bench.c)
 *     smp-gone NSID LBA SPAN HOOK
 *                          every CPU but 0 writes on its own queue (the last
 *                          of 3 or more with blocking calls, the others
 *                          asynchronously); CPU 0 runs "hook HOOK" (run.sh:
 *                          device_del) and powers the slot off: every write
 *                          must come back, GONE after the removal, within 3 s
 *     smp-io NSID LBA SPAN ROUNDS [RESETS [NSCHG [VERIFY]]]
 *                          every CPU writes and verifies its own SPAN blocks
 *                          through the blocking calls and asynchronously on
 *                          its own queue; per CPU/queue/vector counts (smp.c);
 *                          RESETS: CPU 0 resets the controller before rounds
 *                          1..RESETS while the others do I/O; NSCHG: CPU 0
 *                          detaches namespace NSCHG before odd rounds and
 *                          attaches it before even ones (needs run.sh --subsys);
 *                          VERIFY 1: reads and compares only, writing nothing
 *                          (what smp-io with the same arguments wrote)
 *     smp-pcicfg ROUNDS    every CPU reads its own configuration register
 *                          ROUNDS times at once; each must read its value
 *     clock-calib MS       (x86) the TSC calibration twice, then with its
 *                          first window stretched by MS ms: within 1 %
 *     loop-io NSID LBA SPAN BOUND_MS HOOK
 *                          asynchronous 8-block writes of unique patterns over
 *                          SPAN blocks, 16 in flight; after 100 completions
 *                          runs "hook HOOK" (run.sh: device_del) with the I/O
 *                          still in flight, powers the slot off in the PCIe
 *                          root port once QEMU pressed its attention button,
 *                          then wants every command back, NVME_ERR_GONE within
 *                          BOUND_MS of the power-off, and nvme_read() failing
 *                          with NVME_ERR_GONE at once
 * Output lines starting "harness: " are the harness's own; the last one is
 * "harness: RESULT PASS" or "harness: RESULT FAIL ...".
 */
#include "bench.h"
#include "rawbench.h"
#include "osal.h"
#include "rtc.h"
#include "smp.h"

#ifndef HARNESS_NO_CORE
#include "nvme/nvmectl.h"
#endif

#ifdef __x86_64__
#define ARCH_NAME "x86-64"
#elif defined(__aarch64__) /* kernel/arch/aarch64 */
#define ARCH_NAME "aarch64"
#elif defined(__riscv) /* kernel/arch/riscv64 */
#define ARCH_NAME "riscv64"
#elif defined(__arm__) /* kernel/arch/armv7 */
#define ARCH_NAME "armv7"
#else
#define ARCH_NAME "x86-32"
#endif

#define MB_BOOT_MAGIC 0x2BADB002u

struct multiboot_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

static char cmdline[4096];
static bool cmdline_cut; /* x86: the loader's command line did not fit */
static unsigned failures;

struct options {
    enum irq_mode irq;
    uint16_t ioq, qdepth, admq;
    uint32_t trace, timeout_ms;
    uint32_t batch_ms; /* batch-ms=MS */
    bool fini;
    bool unplug_ones;
    char reset_hook[32];
    char reset_start_hook[32];
    uint16_t cpus; /* SMP: cpus=N */
    bool wait;     /* wait=0|1 */
    uint32_t wait_spin_us;
    bool want_pci; /* pci=BB:DD.F */
    struct pci_addr pci;
    char serial[21];   /* serial=S: Identify Controller SN is 20 bytes */
    uint32_t rawbench; /* rawbench=IOS: the device without the core (rawbench.c) */
};

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* "BB:DD.F" in hex, as lspci prints it: bus <= ff, device <= 1f, function <= 7. */
static bool parse_pci_addr(const char *v, struct pci_addr *a)
{
    unsigned part[3] = {0, 0, 0}, digits = 0, i = 0;
    for (; *v; v++) {
        int x = hex_digit(*v);
        if (x >= 0 && digits < 2) {
            part[i] = part[i] * 16 + (unsigned)x;
            digits++;
        } else if (digits && ((i == 0 && *v == ':') || (i == 1 && *v == '.'))) {
            i++;
            digits = 0;
        } else {
            return false;
        }
    }
    if (i != 2 || !digits || part[1] > 31 || part[2] > 7)
        return false;
    *a = (struct pci_addr){(uint8_t)part[0], (uint8_t)part[1], (uint8_t)part[2]};
    return true;
}

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
    while (p) { /* counts the items past max too: the caller refuses them */
        char *semi = p;
        while (*semi && *semi != ';')
            semi++;
        char *next = *semi ? semi + 1 : NULL;
        *semi = 0;
        char *t = trim(p);
        if (*t && n++ < max)
            items[n - 1] = t;
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
    } else if (KEY("batch-ms") && num && n >= 1 && n <= 600000) {
        o->batch_ms = (uint32_t)n;
    } else if (KEY("fini") && num) {
        o->fini = n != 0;
    } else if (KEY("unplug-ones") && num) {
        o->unplug_ones = n != 0;
    } else if (KEY("wait") && num) {
        o->wait = n != 0;
    } else if (KEY("wait-spin") && num && n <= 1000000) {
        o->wait_spin_us = (uint32_t)n;
    } else if (KEY("cpus") && num && n >= 1 && n <= SMP_MAX_CPUS) { /* SMP */
        o->cpus = (uint16_t)n;
    } else if (KEY("reset-hook") && *v && strlen(v) < sizeof(o->reset_hook)) {
        memcpy(o->reset_hook, v, strlen(v) + 1);
    } else if (KEY("reset-start-hook") && *v && strlen(v) < sizeof(o->reset_start_hook)) {
        memcpy(o->reset_start_hook, v, strlen(v) + 1);
    } else if (KEY("pci") && parse_pci_addr(v, &o->pci)) {
        o->want_pci = true;
    } else if (KEY("serial") && *v && strlen(v) < sizeof(o->serial)) {
        memcpy(o->serial, v, strlen(v) + 1);
    } else if (KEY("rawbench") && num && n >= 1 && n <= 100000000u) {
        o->rawbench = (uint32_t)n;
    } else {
        return kl && (KEY("irq") || KEY("ioq") || KEY("qdepth") || KEY("admq") || KEY("trace") ||
                      KEY("timeout") || KEY("batch-ms") || KEY("fini") || KEY("reset-hook") ||
                      KEY("reset-start-hook") || KEY("unplug-ones") || KEY("cpus") || KEY("pci") ||
                      KEY("serial") || KEY("wait") || KEY("wait-spin") || KEY("rawbench"))
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

#if HARNESS_X86
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
#endif /* HARNESS_X86 */

#ifndef HARNESS_NO_CORE

static void io_print(void *arg, const char *text) { serial_write(text); }

/* Interrupts on the controller's vector indices only: x86's last two are
 * the harness's own (the LAPIC timer that bounds a wait's halt, the SMP
 * wake-up IPI), which dev_irq drops; counted, a wait's timer made
 * check-irqs pass with no interrupt ever reaching nvme_ctrl_handle_irq. */
static uint32_t irqs_delivered(void)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < IRQ_DEVICE_VECTORS; i++)
        n += irq_delivered[i];
    return n;
}

static void print_irqs(struct nvme_ctrl *ctrl, const struct options *o, bool check)
{
    const struct nvme_ctrl_info *info = nvme_ctrl_get_info(ctrl);
    uint64_t count = nvme_ctrl_irq_count(ctrl);
    char per[160];
    size_t pos = 0;
    per[0] = 0;
    uint32_t delivered = irqs_delivered();
    for (unsigned i = 0; i < IRQ_VECTOR_MAX && pos < sizeof(per) - 16; i++)
        if (irq_delivered[i])
            pos += (size_t)snprintf(per + pos, sizeof(per) - pos, " v%u=%u", i, irq_delivered[i]);
    kprintf("irqs: mode=%s vectors=%u intx=%u nvme_ctrl_irq_count=%llu delivered:%s early=%u\n",
            irq_mode_name(o->irq), info->irq_vectors, info->irq_is_intx ? 1u : 0u,
            (unsigned long long)count, pos ? per : " none", g_dev.early_irqs);
    if (g_dev.wait && o->irq != IRQ_MODE_POLL) {
        char w[SMP_MAX_CPUS * 80];
        harness_wait_stats(w, sizeof(w));
        kprintf("irqs: wait/wake (spin %u us):%s\n", g_dev.wait_spin_us, w);
    }
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
        else if (delivered == 0)
            fail("no interrupt reached nvme_ctrl_handle_irq()");
        /* nvme_ctrl_irq_count() counts interrupts that found completions:
         * a blocking call polls for its first millisecond and may reap
         * before its interrupt is taken, so 0 there is no failure. */
    }
}

/* An interrupt must carry a completion to nvme_ctrl_handle_irq(): the
 * Flush is submitted and nothing polls its queue, so only the handler can
 * reap it (within 2 s; after that the queue is polled, so the buffer-free
 * command is not left behind, and the step fails). */
static volatile bool irq_flush_done_flag;
static volatile int irq_flush_result;
static void irq_flush_done(void *arg, int result, uint32_t dw0)
{
    (void)arg;
    (void)dw0;
    irq_flush_result = result;
    irq_flush_done_flag = true;
}

static int irq_flush(struct nvme_ctrl *ctrl, const struct options *o)
{
    if (o->irq == IRQ_MODE_POLL) {
        kprintf("irq-flush: polling mode, no interrupt to wait for\n");
        return NVME_ERR_INVAL;
    }
    uint32_t before = irqs_delivered();
    irq_flush_done_flag = false;
    int rc = nvme_submit_flush(ctrl, NVME_QID_CPU, 1, 0, irq_flush_done, NULL);
    if (rc != NVME_OK)
        return rc;
    uint64_t t0 = clock_now_us();
    while (!irq_flush_done_flag && clock_now_us() - t0 < 2000000u)
        cpu_relax();
    if (!irq_flush_done_flag) {
        fail("irq-flush: no interrupt reaped the Flush in 2 s");
        for (unsigned i = 0; i < 2000 && !irq_flush_done_flag; i++) {
            nvme_qpair_poll(ctrl, NVME_QID_CPU, 0);
            clock_sleep_us(1000);
        }
        return NVME_ERR_TIMEOUT;
    }
    kprintf("irq-flush: reaped by the interrupt handler (result %d, %u interrupt(s))\n",
            irq_flush_result, (unsigned)(irqs_delivered() - before));
    return irq_flush_result;
}

/* --- words of a command ----------------------------------------------------- */
static char *next_word(char **p)
{
    char *s = *p;
    while (*s == ' ')
        s++;
    if (!*s) {
        *p = s;
        return NULL;
    }
    char *w = s;
    while (*s && *s != ' ')
        s++;
    if (*s)
        *s++ = 0;
    *p = s;
    return w;
}

static bool next_num(char **p, uint64_t *v)
{
    char *w = next_word(p);
    return w && parse_u64(w, v);
}

/* --- host hooks: "harness: HOOK NAME", then a line "ACK ok|fail|none" on
 * COM1 from run.sh once it ran the monitor commands given for NAME. ----- */
static int host_hook(const char *name)
{
    char line[64];
    unsigned n = 0;
    /* drop anything stale */
    char c;
    while (serial_getc(&c))
        ;
    kprintf("harness: HOOK %s\n", name);
    uint64_t t0 = clock_now_us(), deadline = t0 + 20000000ull;
    for (;;) {
        if (serial_getc(&c)) {
            if (c == '\n') {
                line[n] = 0;
                if (!strncmp(line, "ACK ", 4))
                    break;
                n = 0;
            } else if (c != '\r' && n + 1 < sizeof(line)) {
                line[n++] = c;
            }
            continue;
        }
        if (clock_now_us() > deadline) {
            kprintf("harness: hook %s: no answer from the host in 20 s\n", name);
            return NVME_ERR_TIMEOUT;
        }
        cpu_relax();
    }
    kprintf("harness: hook %s: host answered '%s' after %llu ms\n", name, line,
            (unsigned long long)((clock_now_us() - t0) / 1000));
    return strcmp(line, "ACK ok") ? NVME_ERR_STATE : 0;
}

/* "kill-point": the host SIGKILLs QEMU on this line (check.py's durability
 * boot); no nvme_ctrl_fini, so no shutdown (CC.SHN) flushes the cache. */
static int cmd_kill_point(void)
{
    kprintf("harness: KILL-POINT\n");
    uint64_t deadline = clock_now_us() + 20000000ull;
    while (clock_now_us() < deadline)
        cpu_relax();
    kprintf("harness: kill-point: QEMU still running after 20 s\n");
    return NVME_ERR_TIMEOUT;
}

/* --- events ------------------------------------------------------------------ */
#define EV_MAX 8
static const char *const ev_names[EV_MAX] = {"?",          "gone",  "reset", "dead",
                                             "ns-changed", "smart", "error", "notice"};
static volatile uint32_t ev_count[EV_MAX];
static uint32_t ev_seen[EV_MAX];
static struct options *g_opt;
static bool reset_hook_done;

static void harness_event(void *arg, enum nvme_event ev, uint32_t detail)
{
    unsigned e = (unsigned)ev < EV_MAX ? (unsigned)ev : 0;
    ev_count[e]++;
    kprintf("harness: event %s (%u) detail=0x%x at %llu ms\n", ev_names[e], (unsigned)ev, detail,
            (unsigned long long)(clock_now_us() / 1000));
    if (ev == NVME_EVENT_RESET && g_opt && g_opt->reset_hook[0] && !reset_hook_done) {
        reset_hook_done = true;
        if (host_hook(g_opt->reset_hook) != 0)
            fail("reset-hook: the host did not carry it out");
    }
}

/* reset-start-hook=NAME: the hook at a reset's start, from the warning
 * nvme_recovery_run logs before it stops the controller.  With INTx that
 * reset deletes the I/O queues first (row 35ab), and QEMU 7.2's Delete I/O
 * SQ cancels each command it holds by waiting for it (blk_aio_cancel) in
 * its main loop, the global lock held: a throttle still on freezes the
 * machine, vCPU and QMP monitor too, until the throttled writes drain
 * (116 s for batch-timeout's 15 pages at 512 bytes/s). */
static void (*real_log)(void *ctx, enum nvme_log_level level, const char *line);
static bool reset_start_hook_done;

static void hook_log(void *ctx, enum nvme_log_level level, const char *line)
{
    static const char what[] = "controller reset after: ";
    real_log(ctx, level, line);
    if (level != NVME_LOG_WARN || reset_start_hook_done || g_opt == NULL)
        return;
    for (const char *p = line; *p; p++) {
        if (!strncmp(p, what, sizeof(what) - 1)) {
            reset_start_hook_done = true;
            if (host_hook(g_opt->reset_start_hook) != 0)
                fail("reset-start-hook: the host did not carry it out");
            return;
        }
    }
}

static int ev_lookup(const char *name)
{
    for (unsigned i = 1; i < EV_MAX; i++)
        if (!strcmp(name, ev_names[i]))
            return (int)i;
    return -1;
}

/* --- stats, service ---------------------------------------------------------- */
static int cmd_stats(struct nvme_ctrl *ctrl)
{
    const struct nvme_ctrl_stats *st = nvme_ctrl_get_stats(ctrl);
    kprintf("stats: timeouts=%llu aborts_sent=%llu aborts_done=%llu resets=%llu replays=%llu "
            "retries=%llu async_events=%llu rescans=%llu ns_generation=%u\n",
            (unsigned long long)st->timeouts, (unsigned long long)st->aborts_sent,
            (unsigned long long)st->aborts_done, (unsigned long long)st->resets,
            (unsigned long long)st->replays, (unsigned long long)st->retries,
            (unsigned long long)st->async_events, (unsigned long long)st->rescans,
            nvme_ns_generation(ctrl));
    return 0;
}

static int cmd_service(struct nvme_ctrl *ctrl, char *args)
{
    uint64_t n = 1;
    if (*args && !next_num(&args, &n))
        return NVME_ERR_INVAL;
    int last = 0;
    for (uint64_t i = 0; i < n; i++) {
        int rc = nvme_ctrl_service(ctrl);
        if (rc != last)
            kprintf("service: call %llu returned %d (%s)\n", (unsigned long long)i + 1, rc,
                    nvme_strerror(rc));
        last = rc;
        if (i + 1 < n)
            clock_sleep_us(10000);
    }
    kprintf("service: %llu call(s), last returned %d\n", (unsigned long long)n, last);
    return last;
}

static int cmd_wait_event(struct nvme_ctrl *ctrl, char *args)
{
    char *name = next_word(&args);
    uint64_t ms;
    int e = name ? ev_lookup(name) : -1;
    if (e < 0 || !next_num(&args, &ms))
        return NVME_ERR_INVAL;
    uint64_t t0 = clock_now_us();
    unsigned calls = 0;
    while (ev_count[e] == ev_seen[e] && clock_now_us() - t0 < ms * 1000) {
        nvme_ctrl_service(ctrl);
        calls++;
        if (ev_count[e] == ev_seen[e])
            clock_sleep_us(10000);
    }
    uint64_t took = (clock_now_us() - t0) / 1000;
    if (ev_count[e] == ev_seen[e]) {
        kprintf("wait-event: no %s event in %llu ms (%u service calls)\n", name,
                (unsigned long long)took, calls);
        return NVME_ERR_TIMEOUT;
    }
    kprintf("wait-event: %s seen after %llu ms (%u service calls, %u new)\n", name,
            (unsigned long long)took, calls, ev_count[e] - ev_seen[e]);
    ev_seen[e] = ev_count[e];
    return 0;
}

/* --- Namespace Attachment (admin 15h) ----------------------------------------- */
static uint8_t admin_buf[4096] __attribute__((aligned(4096)));

static int cmd_ns_attach(struct nvme_ctrl *ctrl, char *args, bool attach)
{
    uint64_t nsid;
    if (!next_num(&args, &nsid) || !nsid || nsid >= NVME_NSID_ALL)
        return NVME_ERR_INVAL;
    int rc = nvme_identify(ctrl, 0x01, 0, admin_buf);
    if (rc)
        return rc;
    uint16_t cntlid = (uint16_t)(admin_buf[78] | (admin_buf[79] << 8));
    memset(admin_buf, 0, sizeof(admin_buf));
    admin_buf[0] = 1; /* number of identifiers */
    admin_buf[2] = (uint8_t)cntlid;
    admin_buf[3] = (uint8_t)(cntlid >> 8);
    struct nvme_sqe sqe;
    memset(&sqe, 0, sizeof(sqe));
    sqe.opc = 0x15;
    sqe.nsid = (uint32_t)nsid;
    sqe.cdw10 = attach ? 0 : 1; /* SEL: 0 attach, 1 detach */
    uint32_t dw0 = 0;
    rc = nvme_admin_passthru(ctrl, &sqe, admin_buf, sizeof(admin_buf), NVME_DMA_TO_DEVICE, &dw0);
    kprintf("ns-%s: nsid %u controller %u: %d (%s)\n", attach ? "attach" : "detach", (unsigned)nsid,
            cntlid, rc, nvme_strerror(rc));
    return rc;
}

/* --- patterns: every 32-bit word of every block depends on key, LBA and
 * its index; words 0..3 are "NVMP", key, LBA low, LBA high.  check.py's
 * pat_word() is the same function. ----------------------------------------- */
uint32_t pat_word(uint32_t key, uint64_t lba, uint32_t j)
{
    if (j == 0)
        return 0x504d564eu; /* "NVMP" */
    if (j == 1)
        return key;
    if (j == 2)
        return (uint32_t)lba;
    if (j == 3)
        return (uint32_t)(lba >> 32);
    uint32_t x = key * 0x9e3779b1u ^ (uint32_t)lba * 0x85ebca77u ^
                 (uint32_t)(lba >> 32) * 0xc2b2ae3du ^ j * 0x27d4eb2fu;
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 12;
    x *= 0x297a2d39u;
    x ^= x >> 15;
    return x;
}

void pat_fill(uint32_t *w, uint32_t key, uint64_t lba, uint32_t count, uint32_t lbs)
{
    for (uint32_t b = 0; b < count; b++)
        for (uint32_t j = 0; j < lbs / 4; j++)
            w[(size_t)b * (lbs / 4) + j] = pat_word(key, lba + b, j);
}

/* "wpat/rpat ... batch": the range as one-page requests (one memory page
 * of the buffer each, the core's fast path), PAT_BATCH per
 * nvme_submit_rw_batch() call; a call the queue cannot take whole is
 * continued after polling.  Every callback checked; bounded by batch-ms
 * (10 s), and then it waits for what is in flight. */
#define PAT_BATCH 64u
struct pat_batch {
    unsigned done;
    int err;
};

static void pat_batch_cb(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    struct pat_batch *b = arg;
    if (result != 0 && b->err == 0)
        b->err = result;
    __atomic_store_n(&b->done, b->done + 1u, __ATOMIC_RELEASE);
}

static int pat_io_batch(struct nvme_ctrl *ctrl, uint32_t nsid, uint64_t lba, uint32_t count,
                        uint32_t lbs, uint8_t *buf, bool write)
{
    static struct nvme_rw_req reqs[PAT_BATCH];
    struct pat_batch b = {0, 0};
    uint32_t per = lbs >= 4096u ? 1u : 4096u / lbs; /* blocks per request */
    unsigned total = (count + per - 1u) / per, queued = 0;
    uint16_t qid = nvme_ctrl_cpu_qid(ctrl, 0);
    uint64_t until = clock_now_us() + g_opt->batch_ms * 1000ull;
    bool late = false;
    while (__atomic_load_n(&b.done, __ATOMIC_ACQUIRE) < total) {
        unsigned n = 0;
        while (n < PAT_BATCH && queued + n < total && b.err == 0) {
            uint32_t first = (queued + n) * per;
            uint32_t c = count - first < per ? count - first : per;
            reqs[n] = (struct nvme_rw_req){.lba = lba + first,
                                           .buf = buf + (size_t)first * lbs,
                                           .cb = pat_batch_cb,
                                           .arg = &b,
                                           .count = c,
                                           .opc = write ? NVME_CMD_WRITE : NVME_CMD_READ};
            n++;
        }
        unsigned in = 0;
        int rc = n ? nvme_submit_rw_batch(ctrl, qid, nsid, reqs, n, 0, &in) : 0;
        queued += in;
        if (rc != 0 && rc != NVME_ERR_BUSY)
            b.err = rc;
        if (b.err != 0 && b.done >= queued)
            break;
        int pr = nvme_qpair_poll(ctrl, qid, 0);
        if (pr < 0) { /* gone or dead: stopped, every callback ran (nvme.h rules 1, 6) */
            if (b.err == 0)
                b.err = pr;
            break;
        }
        if (clock_now_us() > until && b.err == 0) {
            kprintf("pat: batch: %u of %u requests done after %u ms, %u in flight\n", b.done, total,
                    g_opt->batch_ms, queued - b.done);
            b.err = NVME_ERR_TIMEOUT; /* no more submitted; the loop reaps what is in flight */
            late = true;
        }
    }
    /* The buffer is the device's until every request's callback ran (nvme.h
     * rule 1), not only until batch-ms passed: the next command refills it.
     * The core's deadlines (Abort, reset) bound this wait. */
    if (late)
        kprintf("pat: batch: every request back %llu ms after that\n",
                (unsigned long long)((clock_now_us() - until) / 1000));
    return b.err;
}

/* "cmpx": Compare with the caller's metadata (nvme_compare_ext) against
 * the device's own model; 0 when each of the three compares answers as
 * it should. */
static int cmd_cmpx(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, char *args)
{
    uint64_t nsid, lba, count, key = 0;
    if (!next_num(&args, &nsid) || !next_num(&args, &lba) || !next_num(&args, &count) || !count ||
        count > 0xffffffffu || (*args && !next_num(&args, &key)) || *args)
        return NVME_ERR_INVAL;
    const struct nvme_ns_info *ns = nvme_ns_find(ctrl, (uint32_t)nsid);
    if (!ns)
        return NVME_ERR_NOENT;
    uint64_t dlen = nvme_ns_data_bytes(ns, (uint32_t)count);
    uint64_t mlen = nvme_ns_md_bytes(ns, (uint32_t)count);
    uint64_t moff = (dlen + 63u) & ~(uint64_t)63u;
    if (ns->ms == 0 || moff + mlen > io->buf_len) {
        kprintf("cmpx: needs a format with metadata and %llu bytes of buffer\n",
                (unsigned long long)(moff + mlen));
        return NVME_ERR_INVAL;
    }
    uint8_t *d = io->buf, *md = mlen ? d + moff : NULL;
    int rc;
    if (key) {
        for (uint64_t i = 0; i < moff + mlen; i++)
            d[i] = (uint8_t)(key * 131u + i * 7u + (i >> 9));
        rc = nvme_write_ext(ctrl, (uint32_t)nsid, lba, (uint32_t)count, d, md, 0);
        if (rc) {
            kprintf("cmpx: nvme_write_ext returned %d (%s)\n", rc, nvme_strerror(rc));
            return rc;
        }
        memset(d, 0, (size_t)(moff + mlen));
    }
    rc = nvme_read_ext(ctrl, (uint32_t)nsid, lba, (uint32_t)count, d, md, 0);
    if (rc) {
        kprintf("cmpx: nvme_read_ext returned %d (%s)\n", rc, nvme_strerror(rc));
        return rc;
    }
    for (uint64_t i = 0; key && i < moff + mlen; i++)
        if ((i < dlen || i >= moff) && d[i] != (uint8_t)(key * 131u + i * 7u + (i >> 9))) {
            kprintf("cmpx: MISMATCH at byte %llu of the %s read back: %02x, not %02x\n",
                    (unsigned long long)(i < dlen ? i : i - moff), i < dlen ? "data" : "metadata",
                    d[i], (uint8_t)(key * 131u + i * 7u + (i >> 9)));
            return NVME_ERR_PROTO;
        }
    /* The last metadata byte: separate, or after the last block's data. */
    uint8_t *last_md = md ? md + mlen - 1u : d + dlen - 1u;
    uint8_t *a_data = d + (ns->md_extended ? ns->lba_size + ns->ms : ns->lba_size) / 2u;
    static const char *const what[3] = {"as read", "last metadata byte flipped",
                                        "a data byte flipped"};
    for (int i = 0; i < 3; i++) {
        uint8_t *flip = i == 1 ? last_md : i == 2 ? a_data : NULL;
        if (flip)
            *flip ^= 0x40u;
        rc = nvme_compare_ext(ctrl, (uint32_t)nsid, lba, (uint32_t)count, d, md, 0);
        if (flip)
            *flip ^= 0x40u;
        kprintf("cmpx: %s: %d (%s)\n", what[i], rc, nvme_strerror(rc));
        bool ok = i == 0 ? rc == 0
                         : rc > 0 && NVME_SF_SCT((unsigned)rc) == NVME_SCT_MEDIA &&
                               NVME_SF_SC((unsigned)rc) == NVME_SC_COMPARE_FAILED;
        if (!ok)
            return rc ? rc : NVME_ERR_PROTO;
    }
    kprintf("cmpx ok: nsid %u, %llu block(s) at LBA %llu with %u metadata bytes each\n",
            (unsigned)nsid, (unsigned long long)count, (unsigned long long)lba, ns->ms);
    return 0;
}

static int cmd_pat(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, char *args, bool write)
{
    uint64_t nsid, lba, count, key;
    if (!next_num(&args, &nsid) || !next_num(&args, &lba) || !next_num(&args, &count) ||
        !next_num(&args, &key) || !count)
        return NVME_ERR_INVAL;
    const char *how = next_word(&args);
    bool batch = how != NULL && !strcmp(how, "batch");
    if (how != NULL && !batch)
        return NVME_ERR_INVAL;
    const struct nvme_ns_info *ns = nvme_ns_find(ctrl, (uint32_t)nsid);
    if (!ns)
        return NVME_ERR_NOENT;
    if (count > io->buf_len / ns->lba_size) { /* count * lba_size may wrap */
        kprintf("%s: %llu block(s) of %u bytes do not fit the harness's I/O buffer (%llu bytes)\n",
                write ? "wpat" : "rpat", (unsigned long long)count, ns->lba_size,
                (unsigned long long)io->buf_len);
        return NVME_ERR_INVAL;
    }
    uint32_t *w = io->buf;
    uint64_t t0 = clock_now_us();
    int rc;
    if (write) {
        pat_fill(w, (uint32_t)key, lba, (uint32_t)count, ns->lba_size);
        rc = batch ? pat_io_batch(ctrl, (uint32_t)nsid, lba, (uint32_t)count, ns->lba_size,
                                  (uint8_t *)w, true)
                   : nvme_write(ctrl, (uint32_t)nsid, lba, (uint32_t)count, w);
    } else {
        memset(w, 0, (size_t)count * ns->lba_size);
        rc = batch ? pat_io_batch(ctrl, (uint32_t)nsid, lba, (uint32_t)count, ns->lba_size,
                                  (uint8_t *)w, false)
                   : nvme_read(ctrl, (uint32_t)nsid, lba, (uint32_t)count, w);
    }
    uint64_t ms = (clock_now_us() - t0) / 1000;
    if (rc) {
        kprintf("%s: %s returned %d (%s) after %llu ms\n", write ? "wpat" : "rpat",
                batch   ? "nvme_submit_rw_batch"
                : write ? "nvme_write"
                        : "nvme_read",
                rc, nvme_strerror(rc), (unsigned long long)ms);
        return rc;
    }
    if (!write) {
        for (uint32_t b = 0; b < count; b++)
            for (uint32_t j = 0; j < ns->lba_size / 4; j++) {
                uint32_t want = pat_word((uint32_t)key, lba + b, j);
                uint32_t got = w[(size_t)b * (ns->lba_size / 4) + j];
                if (got != want) {
                    kprintf(
                        "rpat: MISMATCH nsid %u LBA %llu word %u: read 0x%08x, pattern 0x%08x\n",
                        (unsigned)nsid, (unsigned long long)(lba + b), j, got, want);
                    return NVME_ERR_PROTO;
                }
            }
    }
    kprintf("%s ok: nsid %u, %llu block(s) at LBA %llu, key %llu, %llu ms\n",
            write ? "wpat" : "rpat", (unsigned)nsid, (unsigned long long)count,
            (unsigned long long)lba, (unsigned long long)key, (unsigned long long)ms);
    return 0;
}

/* --- hot unplug under I/O ------------------------------------------------------ */
/* The PCIe port above the controller: a type 1 header whose secondary bus
 * is the controller's bus, with a PCI Express capability. */
static bool find_port(const struct harness_dev *d, struct pci_addr *port, uint8_t *cap)
{
    for (unsigned bus = 0; bus < 256; bus++)
        for (unsigned dev = 0; dev < 32; dev++)
            for (unsigned fn = 0; fn < 8; fn++) {
                struct pci_addr a = {(uint8_t)bus, (uint8_t)dev, (uint8_t)fn};
                if (pci_read16(a, 0x00) == 0xffff) {
                    if (fn == 0)
                        break;
                    continue;
                }
                if ((pci_read8(a, 0x0e) & 0x7f) == 1 && pci_read8(a, 0x19) == d->pci.bus) {
                    *port = a;
                    *cap = pci_find_cap(a, 0x10);
                    return *cap != 0;
                }
                if (fn == 0 && !(pci_read8(a, 0x0e) & 0x80))
                    break;
            }
    return false;
}

/* PCIe reads of a removed device complete as Unsupported Request: all
 * ones, which is how the core notices removal (lifecycle rule 6).  QEMU
 * 7.2 returns 0 for reads of the unassigned window left behind by a hot
 * unplug, so loop-io arms this: from then on an MMIO read gives all ones
 * once the controller's config space does (vendor ID 0xffff). */
static uint32_t (*real_mmio_read32)(void *ctx, uint32_t off);
static uint64_t (*real_mmio_read64)(void *ctx, uint32_t off);
static volatile bool removal_ones;

static bool removed(void) { return removal_ones && pci_read16(g_dev.pci, 0x00) == 0xffff; }
static uint32_t ones_mmio_read32(void *ctx, uint32_t off)
{
    uint32_t v = real_mmio_read32(ctx, off);
    return removed() ? 0xffffffffu : v;
}
static uint64_t ones_mmio_read64(void *ctx, uint32_t off)
{
    uint64_t v = real_mmio_read64(ctx, off);
    return removed() ? ~0ull : v;
}
static void osal_wrap_removal(struct nvme_osal *o)
{
    real_mmio_read32 = o->mmio_read32;
    o->mmio_read32 = ones_mmio_read32;
    if (o->mmio_read64) {
        real_mmio_read64 = o->mmio_read64;
        o->mmio_read64 = ones_mmio_read64;
    }
}

#define LIO_SLOTS 16
#define LIO_BLOCKS 8
struct lio_slot {
    volatile bool busy, done;
    volatile int result;
    uint32_t key;
    uint64_t lba;
    uint32_t *buf;
};
static struct lio_slot lio[LIO_SLOTS];

static void lio_cb(void *arg, int result, uint32_t dw0)
{
    struct lio_slot *s = arg;
    s->result = result;
    s->done = true;
}

struct lio_tally {
    unsigned long ok, gone, other;
    int first_other;
    uint64_t gone_at;
    bool stop;
};

/* Takes in the commands whose callback ran. */
static void lio_collect(struct lio_tally *t, uint64_t now)
{
    for (unsigned i = 0; i < LIO_SLOTS; i++) {
        struct lio_slot *s = &lio[i];
        if (!s->busy || !s->done)
            continue;
        s->busy = false;
        if (s->result == 0) {
            t->ok++;
        } else if (s->result == NVME_ERR_GONE) {
            t->gone++;
            if (!t->gone_at)
                t->gone_at = now;
            t->stop = true;
        } else {
            if (!t->other++)
                t->first_other = s->result;
            t->stop = true;
        }
    }
}

/* What an OS's pciehp does once QEMU presses the slot's attention button
 * (after device_del), without the 5 s grace period: power indicator off,
 * power off.  True when it did (the button was pressed); *ctl gets the
 * slot control value before.  pcap: the port's PCIe capability. */
static bool slot_power_off_on_button(struct pci_addr port, uint8_t pcap, uint16_t *ctl)
{
    uint8_t sltctl = (uint8_t)(pcap + 0x18), sltsta = (uint8_t)(pcap + 0x1a);
    if (!(pci_read16(port, sltsta) & 1))
        return false;
    *ctl = pci_read16(port, sltctl);
    pci_write16(port, sltsta, 1); /* clear Attention Button Pressed */
    pci_write16(port, sltctl, (uint16_t)((*ctl & ~0x0700u) | 0x0300u | 0x0400u));
    return true;
}

static int cmd_loop_io(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, char *args)
{
    uint64_t nsid, lba0, span, bound_ms;
    char *hook;
    if (!next_num(&args, &nsid) || !next_num(&args, &lba0) || !next_num(&args, &span) ||
        !next_num(&args, &bound_ms) || !(hook = next_word(&args)) || span < LIO_BLOCKS)
        return NVME_ERR_INVAL;
    const struct nvme_ns_info *ns = nvme_ns_find(ctrl, (uint32_t)nsid);
    if (!ns)
        return NVME_ERR_NOENT;
    if ((size_t)LIO_SLOTS * LIO_BLOCKS * ns->lba_size > io->buf_len)
        return NVME_ERR_INVAL;
    struct pci_addr port;
    uint8_t pcap = 0;
    if (!find_port(&g_dev, &port, &pcap)) {
        kprintf("loop-io: no PCIe port above the controller (run.sh --hotplug)\n");
        return NVME_ERR_UNSUPPORTED;
    }
    uint8_t sltctl = (uint8_t)(pcap + 0x18), sltsta = (uint8_t)(pcap + 0x1a);
    kprintf("loop-io: port %02x:%02x.%u, slot control 0x%04x status 0x%04x\n", port.bus, port.dev,
            port.fn, pci_read16(port, sltctl), pci_read16(port, sltsta));
    if (g_opt->unplug_ones) {
        removal_ones = true;
        kprintf("loop-io: MMIO reads give all ones once the controller's config space does "
                "(QEMU 7.2 reads 0 from a removed device's BAR; unplug-ones=0 to see that)\n");
    }
    for (unsigned i = 0; i < LIO_SLOTS; i++) {
        memset(&lio[i], 0, sizeof(lio[i]));
        lio[i].buf = (uint32_t *)((uint8_t *)io->buf + (size_t)i * LIO_BLOCKS * ns->lba_size);
    }
    uint64_t slots = span / LIO_BLOCKS, next = 0;
    struct lio_tally t;
    memset(&t, 0, sizeof(t));
    unsigned long submitted = 0;
    int submit_rc = 0, poll_rc = 0;
    bool hooked = false;
    uint64_t t0 = clock_now_us(), off_at = 0, hard_deadline = t0 + 30000000ull;
    int rc = 0;
    for (;;) {
        lio_collect(&t, clock_now_us());
        /* submit */
        for (unsigned i = 0; i < LIO_SLOTS && !t.stop; i++) {
            struct lio_slot *s = &lio[i];
            if (s->busy)
                continue;
            s->key = (uint32_t)(0x10000 + next);
            s->lba = lba0 + (next % slots) * LIO_BLOCKS;
            pat_fill(s->buf, s->key, s->lba, LIO_BLOCKS, ns->lba_size);
            s->done = false;
            s->busy = true;
            int r = nvme_submit_rw(ctrl, 1, 0x01, (uint32_t)nsid, s->lba, LIO_BLOCKS, s->buf, 0,
                                   lio_cb, s);
            if (r != 0) {
                s->busy = false;
                if (r == NVME_ERR_BUSY)
                    break;
                submit_rc = r;
                if (r == NVME_ERR_GONE && !t.gone_at)
                    t.gone_at = clock_now_us();
                t.stop = true;
                break;
            }
            next++;
            submitted++;
        }
        uint16_t ctl;
        if (hooked && !off_at && slot_power_off_on_button(port, pcap, &ctl)) {
            off_at = clock_now_us();
            unsigned busy = 0;
            for (unsigned i = 0; i < LIO_SLOTS; i++)
                busy += lio[i].busy && !lio[i].done;
            kprintf("loop-io: attention button pressed: slot powered off at +%llu ms with %u "
                    "writes in flight (core: %u outstanding); slot control 0x%04x -> 0x%04x, "
                    "status now 0x%04x\n",
                    (unsigned long long)((off_at - t0) / 1000), busy,
                    nvme_qpair_outstanding(ctrl, 1), ctl, pci_read16(port, sltctl),
                    pci_read16(port, sltsta));
        }
        /* reap (and let the core look at CSTS and deadlines) */
        int pr = nvme_qpair_poll(ctrl, 1, 0);
        if (pr < 0 && !poll_rc) {
            poll_rc = pr;
            if (pr == NVME_ERR_GONE && !t.gone_at)
                t.gone_at = clock_now_us();
            t.stop = true;
        }
        if (!hooked && t.ok >= 100) {
            hooked = true;
            unsigned busy = 0;
            for (unsigned i = 0; i < LIO_SLOTS; i++)
                busy += lio[i].busy && !lio[i].done;
            kprintf("loop-io: %lu writes done, %u in flight: asking the host for '%s'\n", t.ok,
                    busy, hook);
            if (host_hook(hook) != 0) {
                rc = NVME_ERR_STATE;
                t.stop = true;
            }
        }
        lio_collect(&t, clock_now_us()); /* what the poll or an interrupt completed */
        unsigned busy = 0;
        for (unsigned i = 0; i < LIO_SLOTS; i++)
            busy += lio[i].busy;
        if (t.stop && !busy)
            break;
        if (clock_now_us() > hard_deadline) {
            kprintf("loop-io: HANG: %u command(s) never came back, 30 s after the start\n", busy);
            rc = NVME_ERR_TIMEOUT;
            break;
        }
        if (off_at && clock_now_us() - off_at > bound_ms * 1000 + 10000000ull) {
            kprintf("loop-io: HANG: %u command(s) not back %llu s after the power-off\n", busy,
                    (unsigned long long)(bound_ms / 1000 + 10));
            rc = NVME_ERR_TIMEOUT;
            break;
        }
    }
    uint64_t end = clock_now_us();
    kprintf("loop-io: %lu submitted, %lu ok, %lu NVME_ERR_GONE, %lu other (first %d), submit "
            "returned %d, poll returned %d\n",
            submitted, t.ok, t.gone, t.other, t.first_other, submit_rc, poll_rc);
    if (rc)
        return rc;
    if (!off_at) {
        kprintf("loop-io: the attention button was never pressed (device_del?)\n");
        return NVME_ERR_STATE;
    }
    if (!t.gone_at) {
        kprintf("loop-io: I/O ended without NVME_ERR_GONE\n");
        return NVME_ERR_STATE;
    }
    kprintf(
        "loop-io: NVME_ERR_GONE %llu ms after the power-off, all commands back %llu ms after it "
        "(bound %llu ms)\n",
        (unsigned long long)((t.gone_at - off_at) / 1000),
        (unsigned long long)((end - off_at) / 1000), (unsigned long long)bound_ms);
    if (t.other) {
        kprintf("loop-io: %lu command(s) failed otherwise, first with %d (%s)\n", t.other,
                t.first_other, nvme_strerror(t.first_other));
        return t.first_other;
    }
    if (end - off_at > bound_ms * 1000)
        return NVME_ERR_TIMEOUT;
    uint64_t t1 = clock_now_us();
    int r = nvme_read(ctrl, (uint32_t)nsid, lba0, 1, io->buf);
    kprintf("loop-io: nvme_read afterwards returned %d (%s) in %llu us; CSTS reads 0x%08x\n", r,
            nvme_strerror(r), (unsigned long long)(clock_now_us() - t1),
            mmio_rd32(g_dev.bar0 + 0x1c));
    if (r != NVME_ERR_GONE)
        return r ? r : NVME_ERR_STATE;
    return 0;
}

#if HARNESS_X86 || HARNESS_ARCH_SMP /* smp_run */
/* --- smp-gone NSID LBA SPAN HOOK: hot removal while every CPU writes -------
 * CPUs 1..n-1 keep 8-block asynchronous writes SGO_SLOTS deep on their own
 * queue (NVME_QID_CPU) over their own SPAN blocks and poll that queue;
 * with 3 CPUs or more the last one writes with blocking nvme_write calls
 * instead, one after the other.  CPU 0 waits until each has enough writes
 * done (50 asynchronous, SGO_BLOCKING_OK blocking), asks the host for HOOK
 * (run.sh: device_del), powers the slot off when the attention button is
 * pressed (as loop-io).  Every CPU stops at its first NVME_ERR_GONE (a
 * write's, a submission's or its poll's: a CPU may have none in flight at
 * that moment) and waits for its writes: each must come back (done before
 * the removal, NVME_ERR_GONE after), all within BOUND after the power-off;
 * no other error.  The blocking writer also counts the calls that were
 * running when the slot powered off. */
#define SGO_SLOTS 16
#define SGO_BLOCKS 8
#define SGO_BOUND_US 3000000ull
#define SGO_BLOCKING_OK 3 /* its writes queue behind the others' 48 */
struct sgo_slot {
    volatile bool busy;
    volatile int result;
};
struct sgo_cpu {
    struct sgo_slot slot[SGO_SLOTS];
    volatile unsigned long ok;
    unsigned long gone, other, submitted;
    int first_other;
    int stop_rc; /* what ended its I/O: a write's result, a submission's or a poll's */
    uint64_t last_back;
    bool hang;
    bool blocking;            /* writes with nvme_write (the last CPU of 3 or more) */
    unsigned long across_off; /* blocking: calls running when the slot powered off */
};
static struct {
    struct nvme_ctrl *ctrl;
    uint32_t nsid;
    uint64_t lba0, span;
    const char *hook;
    volatile bool off; /* CPU 0 powered the slot off (or gave up) at off_at */
    volatile uint64_t off_at;
    int hook_rc;
    struct sgo_cpu cpu[SMP_MAX_CPUS];
} sgo;
static uint8_t sgo_buf[SMP_MAX_CPUS][SGO_SLOTS * SGO_BLOCKS * 512]
    __attribute__((section(".bss.pool"), aligned(4096)));

static void sgo_cb(void *arg, int result, uint32_t dw0)
{
    struct sgo_slot *s = arg;
    s->result = result;
    __atomic_store_n(&s->busy, false, __ATOMIC_RELEASE);
}

static void sgo_tally(struct sgo_cpu *c, struct sgo_slot *s, bool *stop)
{
    if (s->result == 0) {
        c->ok++;
    } else {
        if (s->result == NVME_ERR_GONE) {
            c->gone++;
        } else if (!c->other++) {
            c->first_other = s->result;
        }
        if (!*stop)
            c->stop_rc = s->result;
        *stop = true;
    }
    c->last_back = clock_now_us();
}

static void sgo_writer(unsigned cpu, struct sgo_cpu *c)
{
    uint16_t qid = nvme_ctrl_cpu_qid(sgo.ctrl, cpu);
    uint64_t base = sgo.lba0 + (uint64_t)cpu * sgo.span, next = 0;
    bool was_busy[SGO_SLOTS] = {false};
    bool stop = false;
    uint64_t hard = clock_now_us() + 30000000ull;
    for (;;) {
        for (unsigned i = 0; i < SGO_SLOTS; i++) { /* take in what came back */
            struct sgo_slot *s = &c->slot[i];
            if (was_busy[i] && !__atomic_load_n(&s->busy, __ATOMIC_ACQUIRE)) {
                was_busy[i] = false;
                sgo_tally(c, s, &stop);
            }
        }
        for (unsigned i = 0; i < SGO_SLOTS && !stop; i++) {
            struct sgo_slot *s = &c->slot[i];
            if (was_busy[i])
                continue;
            uint8_t *b = sgo_buf[cpu] + (size_t)i * SGO_BLOCKS * 512;
            uint64_t lba = base + (next % (sgo.span / SGO_BLOCKS)) * SGO_BLOCKS;
            pat_fill((uint32_t *)b, 0x60000000u | cpu << 16, lba, SGO_BLOCKS, 512);
            s->busy = true;
            int r = nvme_submit_rw(sgo.ctrl, NVME_QID_CPU, NVME_CMD_WRITE, sgo.nsid, lba,
                                   SGO_BLOCKS, b, 0, sgo_cb, s);
            if (r != 0) {
                s->busy = false;
                if (r == NVME_ERR_BUSY)
                    break;
                s->result = r;
                sgo_tally(c, s, &stop); /* GONE: the removal was noticed */
                break;
            }
            was_busy[i] = true;
            next++;
            c->submitted++;
        }
        int pr = nvme_qpair_poll(sgo.ctrl, qid, 0); /* also the core's CSTS look */
        if (pr < 0 && !stop) {
            c->stop_rc = pr;
            stop = true;
        }
        unsigned busy = 0;
        for (unsigned i = 0; i < SGO_SLOTS; i++)
            busy += was_busy[i];
        if (stop && busy == 0)
            return;
        uint64_t now = clock_now_us();
        if (now > hard || (sgo.off && now > sgo.off_at + SGO_BOUND_US + 10000000ull)) {
            c->hang = true;
            return;
        }
    }
}

/* The blocking writer: nvme_write after nvme_write on its own blocks (the
 * core picks its CPU's queue), until one fails; each call must return by
 * itself, the core's waits being bounded. */
static void sgo_blocking_writer(unsigned cpu, struct sgo_cpu *c)
{
    uint64_t base = sgo.lba0 + (uint64_t)cpu * sgo.span;
    uint8_t *b = sgo_buf[cpu];
    bool stop = false;
    for (uint64_t next = 0; !stop; next++) {
        uint64_t lba = base + (next % (sgo.span / SGO_BLOCKS)) * SGO_BLOCKS;
        pat_fill((uint32_t *)b, 0x60000000u | cpu << 16, lba, SGO_BLOCKS, 512);
        bool before = !sgo.off;
        c->submitted++;
        struct sgo_slot s = {.result = nvme_write(sgo.ctrl, sgo.nsid, lba, SGO_BLOCKS, b)};
        c->across_off += before && sgo.off;
        sgo_tally(c, &s, &stop);
    }
}

static void sgo_worker(unsigned cpu, void *arg)
{
    (void)arg;
    struct sgo_cpu *c = &sgo.cpu[cpu];
    if (cpu != 0) {
        if (c->blocking)
            sgo_blocking_writer(cpu, c);
        else
            sgo_writer(cpu, c);
        return;
    }
    /* CPU 0: the removal */
    struct pci_addr port;
    uint8_t pcap = 0;
    if (!find_port(&g_dev, &port, &pcap)) {
        sgo.hook_rc = NVME_ERR_UNSUPPORTED;
        sgo.off = true; /* lets the writers give up */
        sgo.off_at = clock_now_us();
        return;
    }
    uint64_t until = clock_now_us() + 10000000ull;
    for (;;) { /* each writer has 50 done */
        unsigned ready = 0;
        for (unsigned k = 1; k < smp_cpus(); k++)
            ready += sgo.cpu[k].ok >= (sgo.cpu[k].blocking ? SGO_BLOCKING_OK : 50);
        if (ready == smp_cpus() - 1 || clock_now_us() > until)
            break;
        cpu_relax();
    }
    sgo.hook_rc = host_hook(sgo.hook);
    until = clock_now_us() + 10000000ull;
    uint16_t ctl;
    while (!sgo.off && clock_now_us() < until) {
        if (slot_power_off_on_button(port, pcap, &ctl)) {
            sgo.off_at = clock_now_us();
            sgo.off = true;
        }
        cpu_relax();
    }
    if (!sgo.off) {
        sgo.off_at = clock_now_us();
        sgo.off = true;
    }
}

static int cmd_smp_gone(struct nvme_ctrl *ctrl, char *args)
{
    uint64_t nsid, lba0, span;
    char *hook;
    if (!next_num(&args, &nsid) || !next_num(&args, &lba0) || !next_num(&args, &span) ||
        !(hook = next_word(&args)) || span < SGO_BLOCKS)
        return NVME_ERR_INVAL;
    const struct nvme_ns_info *ns = nvme_ns_find(ctrl, (uint32_t)nsid);
    if (!ns || ns->lba_size != 512 || lba0 + span * smp_cpus() > ns->nsze)
        return NVME_ERR_INVAL;
    if (smp_cpus() < 2) {
        kprintf("smp-gone: needs cpus=N with N > 1\n");
        return NVME_ERR_INVAL;
    }
    memset(&sgo, 0, sizeof(sgo));
    sgo.ctrl = ctrl;
    sgo.nsid = (uint32_t)nsid;
    sgo.lba0 = lba0;
    sgo.span = span;
    sgo.hook = hook;
    removal_ones = true; /* QEMU 7.2 reads 0 from the removed BAR: see removed() */
    if (smp_cpus() >= 3)
        sgo.cpu[smp_cpus() - 1].blocking = true;
    uint64_t t0 = clock_now_us();
    smp_run(sgo_worker, NULL);
    int rc = sgo.hook_rc;
    kprintf("smp-gone: slot powered off at +%llu ms; hook '%s' returned %d\n",
            (unsigned long long)((sgo.off_at - t0) / 1000), hook, sgo.hook_rc);
    for (unsigned k = 1; k < smp_cpus(); k++) {
        struct sgo_cpu *c = &sgo.cpu[k];
        uint64_t back = c->last_back > sgo.off_at ? c->last_back - sgo.off_at : 0;
        kprintf("smp-gone: cpu=%u %s submitted=%lu ok=%lu gone=%lu other=%lu first_other=%d "
                "stopped_by=%d last_back_ms=%llu hang=%d",
                k, c->blocking ? "blocking" : "async", c->submitted, c->ok, c->gone, c->other,
                c->first_other, c->stop_rc, (unsigned long long)(back / 1000), c->hang);
        if (c->blocking)
            kprintf(" across_off=%lu", c->across_off);
        kprintf("\n");
        if (c->hang || c->other || c->ok < (c->blocking ? SGO_BLOCKING_OK : 50) ||
            c->stop_rc != NVME_ERR_GONE || back > SGO_BOUND_US) {
            kprintf("smp-gone: CPU %u failed\n", k);
            rc = rc ? rc : c->other ? c->first_other : NVME_ERR_TIMEOUT;
        }
    }
    return rc;
}

/* --- smp-pcicfg ROUNDS: configuration reads on every CPU at once ----------
 * CPU k reads its own dword of configuration space (the controller's IDs,
 * class, subsystem IDs, interrupt pin/line and BAR0, the host bridge's IDs
 * and class: eight values that must differ) ROUNDS times, 32-bit and
 * 16-bit reads in turn, each against what CPU 0 read before; any other
 * value is another CPU's register (x86: an address written to CF8h
 * between another CPU's two accesses, hw.c). */
static const struct pcicfg_reg {
    bool host_bridge;
    uint8_t off;
} pcicfg_regs[SMP_MAX_CPUS] = {{false, 0x00}, {true, 0x00},  {false, 0x08}, {true, 0x08},
                               {false, 0x2c}, {false, 0x3c}, {false, 0x10}, {true, 0x2c}};
static struct {
    uint64_t rounds;
    struct pci_addr a[SMP_MAX_CPUS];
    uint32_t want[SMP_MAX_CPUS], first_wrong[SMP_MAX_CPUS];
    unsigned long wrong[SMP_MAX_CPUS];
} pcc;

static void pcicfg_worker(unsigned cpu, void *arg)
{
    (void)arg;
    struct pci_addr a = pcc.a[cpu];
    uint8_t off = pcicfg_regs[cpu].off;
    for (uint64_t r = 0; r < pcc.rounds; r++) {
        uint32_t v = (r & 1) ? (uint32_t)pci_read16(a, (uint8_t)(off + 2)) << 16 |
                                   (pcc.want[cpu] & 0xffffu)
                             : pci_read32(a, off);
        if (v != pcc.want[cpu] && !pcc.wrong[cpu]++)
            pcc.first_wrong[cpu] = v;
    }
}

static int cmd_smp_pcicfg(char *args)
{
    unsigned n = smp_cpus();
    if (!next_num(&args, &pcc.rounds) || pcc.rounds > 100000000u || n < 2)
        return NVME_ERR_INVAL;
    for (unsigned k = 0; k < n; k++) {
        pcc.a[k] = pcicfg_regs[k].host_bridge ? (struct pci_addr){0, 0, 0} : g_dev.pci;
        pcc.want[k] = pci_read32(pcc.a[k], pcicfg_regs[k].off);
        pcc.wrong[k] = 0;
        for (unsigned j = 0; j < k; j++)
            if (pcc.want[j] == pcc.want[k]) {
                kprintf("smp-pcicfg: CPUs %u and %u would read the same value 0x%08x\n", j, k,
                        pcc.want[k]);
                return NVME_ERR_UNSUPPORTED;
            }
    }
    uint64_t t0 = clock_now_us();
    smp_run(pcicfg_worker, NULL);
    int rc = 0;
    for (unsigned k = 0; k < n; k++) {
        kprintf(
            "smp-pcicfg: cpu=%u reg %02x:%02x.%u+0x%02x=0x%08x reads=%llu wrong=%lu first=0x%08x\n",
            k, pcc.a[k].bus, pcc.a[k].dev, pcc.a[k].fn, pcicfg_regs[k].off, pcc.want[k],
            (unsigned long long)pcc.rounds, pcc.wrong[k], pcc.first_wrong[k]);
        rc = pcc.wrong[k] ? NVME_ERR_PROTO : rc;
    }
    kprintf("smp-pcicfg: %u CPUs, %llu ms\n", n,
            (unsigned long long)((clock_now_us() - t0) / 1000));
    return rc;
}
#endif

#if HARNESS_X86
/* --- clock-calib MS: the TSC calibration against a preemption ---------------
 * clock_calibrate() (hw.c) three times with interrupts off: twice as at
 * boot, then with its first window's start stretched by MS ms (a spin, as
 * a host that preempts the vCPU there): all three within 1 % of the
 * first.  MS past the window's first quarter (14 ms) leaves it no read
 * there, so the next window is taken. */
static uint32_t calib_stretch_us;
static void calib_stretch(unsigned window)
{
    if (window == 0)
        clock_sleep_us(calib_stretch_us);
}

static int cmd_clock_calib(char *args)
{
    uint64_t ms, v[3];
    if (!next_num(&args, &ms) || ms > 1000)
        return NVME_ERR_INVAL;
    calib_stretch_us = (uint32_t)ms * 1000u;
    unsigned long f = irq_save();
    for (unsigned i = 0; i < 3; i++)
        v[i] = clock_calibrate(i == 2 ? calib_stretch : NULL);
    irq_restore(f);
    int rc = 0;
    for (unsigned i = 1; i < 3; i++) {
        uint64_t apart = v[i] > v[0] ? v[i] - v[0] : v[0] - v[i];
        rc = apart * 100u <= v[0] ? rc : NVME_ERR_PROTO;
    }
    kprintf("clock-calib: %llu MHz, again %llu MHz, first window stretched by %llu ms %llu MHz%s\n",
            (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)ms,
            (unsigned long long)v[2], rc ? " (more than 1 % apart)" : "");
    return rc;
}
#endif

/* --- expect-err --------------------------------------------------------------- */
static const struct {
    const char *name;
    int err;
} err_names[] = {
    {"gone", NVME_ERR_GONE},
    {"timeout", NVME_ERR_TIMEOUT},
    {"aborted", NVME_ERR_ABORTED},
    {"noent", NVME_ERR_NOENT},
    {"range", NVME_ERR_RANGE},
    {"fatal", NVME_ERR_FATAL},
    {"state", NVME_ERR_STATE},
    {"busy", NVME_ERR_BUSY},
    {"inval", NVME_ERR_INVAL},
    {"rdonly", NVME_ERR_RDONLY},
    {"unsupported", NVME_ERR_UNSUPPORTED},
};

static bool err_matches(const char *alt, size_t len, int rc)
{
    char a[32];
    if (!len || len >= sizeof(a))
        return false;
    memcpy(a, alt, len);
    a[len] = 0;
    if (!strcmp(a, "media"))
        return rc > 0 && NVME_SF_SCT(rc) == NVME_SCT_MEDIA;
    if (!strcmp(a, "internal"))
        return rc > 0 && NVME_SF_SCT(rc) == NVME_SCT_GENERIC && NVME_SF_SC(rc) == 0x06;
    if (!strcmp(a, "status"))
        return rc > 0;
    for (unsigned i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
        if (!strcmp(a, err_names[i].name))
            return rc == err_names[i].err;
    uint64_t n;
    if (a[0] == '-')
        return parse_u64(a + 1, &n) && rc == -(int)n;
    return parse_u64(a, &n) && rc > 0 && (rc & 0x7ff) == (int)(n & 0x7ff);
}

static bool spec_matches(const char *spec, int rc)
{
    const char *p = spec;
    for (;;) {
        const char *bar = p;
        while (*bar && *bar != '|')
            bar++;
        if (err_matches(p, (size_t)(bar - p), rc))
            return true;
        if (!*bar)
            return false;
        p = bar + 1;
    }
}

/* --- commands ----------------------------------------------------------------------- */
static int exec_cmd(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, const struct options *o,
                    char *item)
{
    if (!strcmp(item, "irqs")) {
        print_irqs(ctrl, o, false);
        return 0;
    }
    if (!strcmp(item, "check-irqs")) {
        unsigned before = failures;
        print_irqs(ctrl, o, true);
        int rc = failures != before ? -1 : 0;
        failures = before;
        return rc;
    }
    if (!strcmp(item, "irq-flush"))
        return irq_flush(ctrl, o);
    if (!strcmp(item, "regs")) {
        print_regs(&g_dev, "registers");
        return 0;
    }
    if (!strcmp(item, "reset"))
        return nvme_ctrl_reset(ctrl);
    if (!strncmp(item, "echo ", 5) || !strcmp(item, "echo")) {
        kprintf("%s\n", item[4] ? item + 5 : "");
        return 0;
    }
    /* harness commands with arguments: a copy to cut into words */
    static char buf[256];
    snprintf(buf, sizeof(buf), "%s", item);
    char *args = buf;
    char *w = next_word(&args);
    if (!w)
        return NVME_ERR_INVAL;
    if (!strcmp(w, "stats") && !*args)
        return cmd_stats(ctrl);
    if (!strcmp(w, "service"))
        return cmd_service(ctrl, args);
    if (!strcmp(w, "wait-event"))
        return cmd_wait_event(ctrl, args);
    if (!strcmp(w, "ns-attach") || !strcmp(w, "ns-detach"))
        return cmd_ns_attach(ctrl, args, !strcmp(w, "ns-attach"));
    if (!strcmp(w, "hook")) {
        char *name = next_word(&args);
        return name ? host_hook(name) : NVME_ERR_INVAL;
    }
    if (!strcmp(w, "kill-point") && !*args)
        return cmd_kill_point();
#if HARNESS_X86
    /* Every command below may use the I/O buffer: none while a failed
     * bench run's commands are in flight there (nvme.h rule 1). */
    if (harness_bench_owed(ctrl))
        return NVME_ERR_BUSY;
#endif
    if (!strcmp(w, "wpat") || !strcmp(w, "rpat"))
        return cmd_pat(ctrl, io, args, !strcmp(w, "wpat"));
    if (!strcmp(w, "cmpx"))
        return cmd_cmpx(ctrl, io, args);
    if (!strcmp(w, "loop-io"))
        return cmd_loop_io(ctrl, io, args);
#if HARNESS_X86 /* bench.c: TSC, local APIC, SMP */
    if (!strcmp(w, "bench")) {
        uint64_t nsid, ios;
        if (!next_num(&args, &nsid) || !next_num(&args, &ios))
            return NVME_ERR_INVAL;
        if (nsid > 0xffffffffu) { /* never cast to another namespace */
            kprintf("bench: NSID %llu is out of range\n", (unsigned long long)nsid);
            return NVME_ERR_INVAL;
        }
        if (ios < 1 || ios > 100000000u) { /* as rawbench=; never wrapped */
            kprintf("bench: IOS %llu is out of range (1..100000000)\n", (unsigned long long)ios);
            return NVME_ERR_INVAL;
        }
        return harness_bench(ctrl, io->buf, io->buf_len, (uint32_t)nsid, (unsigned)ios, args);
    }
#endif
#if HARNESS_X86 || HARNESS_ARCH_SMP
    if (!strcmp(w, "smp-io")) /* SMP */
        return smp_io(ctrl, args);
#endif
#if HARNESS_X86 || HARNESS_ARCH_SMP
    if (!strcmp(w, "smp-gone"))
        return cmd_smp_gone(ctrl, args);
    if (!strcmp(w, "smp-pcicfg"))
        return cmd_smp_pcicfg(args);
#endif
#if HARNESS_X86
    if (!strcmp(w, "clock-calib"))
        return cmd_clock_calib(args);
#endif
    return nvmectl_run_line(ctrl, io, item);
}

static void run_item(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, const struct options *o,
                     char *item)
{
    bool expect_fail = false;
    char spec[64];
    char shown[256];
    spec[0] = 0;
    if (item[0] == '?') { /* soak.py: either outcome, the host judges it */
        item = trim(item + 1);
        snprintf(shown, sizeof(shown), "%s", item);
        kprintf("nvmectl> (try) %s\n", shown);
        uint64_t t0 = clock_now_us();
        int rc = exec_cmd(ctrl, io, o, item);
        kprintf("harness: try '%s' -> %d (%s) %llu ms\n", shown, rc,
                rc <= 0 ? nvme_strerror(rc) : nvme_status_name((uint16_t)rc),
                (unsigned long long)((clock_now_us() - t0) / 1000));
        return;
    }
    if (item[0] == '!') {
        expect_fail = true;
        item = trim(item + 1);
    } else if (!strncmp(item, "expect-err ", 11)) {
        char *p = trim(item + 11);
        size_t n = 0;
        while (p[n] && p[n] != ' ')
            n++;
        if (n == 0 || n >= sizeof(spec) || !p[n]) {
            snprintf(shown, sizeof(shown), "bad expect-err '%s' (expect-err SPEC COMMAND)", item);
            fail(shown);
            return;
        }
        memcpy(spec, p, n);
        spec[n] = 0;
        expect_fail = true;
        item = trim(p + n);
    }
    snprintf(shown, sizeof(shown), "%s", item);
    if (spec[0])
        kprintf("nvmectl> (must fail: %s) %s\n", spec, shown);
    else
        kprintf("nvmectl> %s%s\n", expect_fail ? "(must fail) " : "", shown);
    int rc = exec_cmd(ctrl, io, o, item);
    char why[320];
    if (expect_fail && rc == 0) {
        snprintf(why, sizeof(why), "'%s' succeeded but must fail", shown);
        fail(why);
    } else if (!expect_fail && rc != 0) {
        snprintf(why, sizeof(why), "'%s' returned %d (%s)", shown, rc,
                 rc < 0 ? nvme_strerror(rc) : nvme_status_name((uint16_t)rc));
        fail(why);
    } else if (spec[0] && !spec_matches(spec, rc)) {
        snprintf(why, sizeof(why), "'%s' failed with %d (%s), not as '%s'", shown, rc,
                 nvme_strerror(rc), spec);
        fail(why);
    } else if (expect_fail) {
        kprintf("harness: '%s' failed as expected: %d (%s)\n", shown, rc, nvme_strerror(rc));
    }
}

#endif /* !HARNESS_NO_CORE */

/* --- which controller: pci= and serial= ---------------------------------------------- */
#ifndef HARNESS_NO_CORE
/* The controller's serial number, read the way nvmectl shows it: a polled
 * bring-up (no interrupt set up), Identify Controller, shutdown. */
static bool read_serial(struct harness_dev *d, char *sn, size_t len)
{
    enum irq_mode mode = d->mode;
    d->mode = IRQ_MODE_POLL;
    struct nvme_osal osal;
    osal_fill(&osal, d);
    struct nvme_ctrl_opts o;
    memset(&o, 0, sizeof(o));
    o.pci_vendor = d->vendor;
    o.pci_device = d->device;
    o.polling = true;
    o.io_queues = 1;
    struct nvme_ctrl *c = NULL;
    int rc = nvme_ctrl_init(&c, &osal, &o);
    bool ok = rc == 0 && c;
    if (ok)
        snprintf(sn, len, "%s", nvme_ctrl_get_info(c)->serial);
    else
        kprintf("harness: pci %02x:%02x.%u: bring-up for its serial failed: %d\n", d->pci.bus,
                d->pci.dev, d->pci.fn, rc);
    if (c)
        (void)nvme_ctrl_fini(c); /* a probe: the bring-up that follows shows a failed shutdown */
    /* nvme_ctrl_fini may have cut the controller off the bus (dma_stop,
     * as Linux's pci_disable_device): on again, for the bring-up that
     * follows when this is the controller asked for. */
    pci_write16(d->pci, PCI_COMMAND, (uint16_t)(pci_read16(d->pci, PCI_COMMAND) | PCI_CMD_MASTER));
    d->mode = mode;
    return ok;
}
#endif

/* Walks the NVMe functions in PCI order and keeps the first that matches
 * pci= and serial= (the first of all without either).  Each candidate that
 * serial= rules out is brought up once, polled, and shut down again. */
static bool select_controller(struct harness_dev *d, const struct options *o)
{
    for (unsigned nth = 0; nth < 64; nth++) {
        if (!dev_probe(d, nth))
            break;
        if (o->want_pci &&
            (d->pci.bus != o->pci.bus || d->pci.dev != o->pci.dev || d->pci.fn != o->pci.fn))
            continue;
        if (!o->serial[0])
            return true;
#ifdef HARNESS_NO_CORE
        kprintf("harness: serial= needs libnvme-core (stand-in build)\n");
        return false;
#else
        char sn[sizeof(o->serial)] = "";
        bool match = read_serial(d, sn, sizeof(sn)) && !strcmp(sn, o->serial);
        kprintf("harness: pci %02x:%02x.%u serial '%s': %s\n", d->pci.bus, d->pci.dev, d->pci.fn,
                sn, match ? "selected" : "not the one asked for");
        if (match)
            return true;
#endif
    }
    if (o->want_pci)
        kprintf("harness: no NVMe controller at pci %02x:%02x.%u%s\n", o->pci.bus, o->pci.dev,
                o->pci.fn, o->serial[0] ? " with that serial" : "");
    else if (o->serial[0])
        kprintf("harness: no NVMe controller with serial '%s'\n", o->serial);
    return false;
}

void kmain(uint32_t magic, uint32_t mbi_addr);

void kmain(uint32_t magic, uint32_t mbi_addr)
{
    serial_init();
    kprintf("\nharness: nvme-core QEMU harness, %s\n", ARCH_NAME);
#if HARNESS_X86
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
        cmdline_cut = src[n] != 0;
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
#else
    /* kernel/arch/<isa>: device tree, exceptions, interrupt controller,
     * clock, PCI BARs; the command line is /chosen/bootargs. */
    (void)magic;
    (void)mbi_addr;
    const char *args = arch_init();
#endif
    /* the time of day the OSAL's wall_clock_ms gives the core (rtc.c) */
    rtc_init();

    static char line[sizeof(cmdline)];
    static char *items[128];
    /* A command line the harness would cut (4095 characters or more,
     * including the kernel path on x86) or more than 128 items: commands
     * left out, or cut short, would never run and the boot pass. */
    size_t alen = strlen(args);
    if (cmdline_cut || alen + 1 >= sizeof(cmdline)) {
        kprintf("harness: command line cut at %u characters: longer than the harness takes\n",
                (unsigned)alen);
        failures++;
    }
    memcpy(line, args, alen + 1);
    unsigned nitems = split_items(line, items, 128);
    if (nitems > 128) {
        kprintf("harness: %u items on the command line, more than the 128 the harness takes\n",
                nitems);
        failures++;
        nitems = 128;
    }
    struct options opt = {.irq = IRQ_MODE_MSIX,
                          .batch_ms = 10000,
                          .fini = true,
                          .unplug_ones = true,
                          .wait = true,
                          .wait_spin_us = WAIT_SPIN_DEFAULT_US};
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
    kprintf("harness: irq=%s, %u command%s\n", irq_mode_name(opt.irq), ncmds,
            ncmds == 1 ? "" : "s");

    struct harness_dev *d = &g_dev;
    d->mode = opt.irq;
    d->wait = opt.wait;
    d->wait_spin_us = opt.wait_spin_us;
    if (!select_controller(d, &opt)) {
        failures++;
        finish();
    }
    print_regs(d, opt.serial[0] ? "left by the serial check" : "left by firmware");

#ifdef HARNESS_NO_CORE
    (void)cmds;
    kprintf("harness: built without libnvme-core (stand-in): %u command%s not run\n", ncmds,
            ncmds == 1 ? "" : "s");
    finish();
#else
    struct nvme_osal osal;
    osal_fill(&osal, d);
    osal_wrap_removal(&osal);
    if (opt.reset_start_hook[0] && osal.log != NULL) {
        real_log = osal.log;
        osal.log = hook_log;
    }
#if HARNESS_X86
    if (opt.rawbench) { /* the device's ceiling, without the core */
        if (!rawbench_run(d, &osal, opt.rawbench))
            fail("rawbench failed");
        finish();
    }
#endif
#if HARNESS_X86 || HARNESS_ARCH_SMP
    /* SMP: application processors, spinlocks, cpu_id (smp.c: x86,
     * aarch64, armv7, riscv64) */
    if (opt.cpus > 1) {
        opt.cpus = (uint16_t)smp_init(opt.cpus);
        smp_osal_fill(&osal);
    }
#else
    opt.cpus = 1;
#endif
    struct nvme_ctrl_opts copts;
    memset(&copts, 0, sizeof(copts));
    copts.pci_vendor = d->vendor;
    copts.pci_device = d->device;
    copts.io_queues = opt.ioq;
    copts.cpus = opt.cpus;
    copts.io_queue_entries = opt.qdepth;
    copts.admin_queue_entries = opt.admq;
    copts.trace = opt.trace;
    copts.command_timeout_ms = opt.timeout_ms;
    copts.polling = opt.irq == IRQ_MODE_POLL;
    copts.event_cb = harness_event;
    copts.event_arg = NULL;
    g_opt = &opt;

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
        int frc = nvme_ctrl_fini(ctrl); /* not 0: the shutdown did not complete */
        d->ctrl = NULL;
        if (frc != 0)
            kprintf("harness: nvme_ctrl_fini: %d (%s)\n", frc, nvme_strerror(frc));
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
