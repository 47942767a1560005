/* SPDX-License-Identifier: MIT */
/*
 * nvme_osal.h - everything the core needs from the machine, in one struct.
 *
 * A port fills a `struct nvme_osal` and hands it to nvme_ctrl_init().  The
 * core calls nothing else: no libc, no OS header.  Each field states what
 * it does, its units, from which context the core calls it, and what a
 * failure return means.  Fields marked OPTIONAL may be NULL.
 *
 * Calling context.  The core calls the OSAL only from the thread that
 * called into the core (nvme_ctrl_init, nvme_read, nvme_qpair_poll, ...)
 * or from nvme_ctrl_handle_irq() when the port calls that from its
 * interrupt handler.  From interrupt context the core calls only
 * mmio_read32/mmio_write32, dma_sync, dma_unmap, lock/unlock, wake, log
 * and cpu_id (which CPU runs a completion callback), and never sleeps
 * (tests/unit/test_osal_contract.c).  With a queue pair's lock held (a
 * spinlock with interrupts off, in most ports) it calls the same ones
 * plus dma_map (a submission maps its buffer under the lock), never an
 * allocator: none of them may sleep or block.
 *
 * Memory ordering (where the barriers live).  "Memory" below is normal
 * (cacheable or not) RAM the device reaches by DMA; "register" is BAR0,
 * mapped as device memory (arm64 Device-nGnRE, riscv an I/O region, x86
 * UC).  Each rule names what must be ordered and the instruction that
 * does it where the ISA needs one (the same as Linux's writel()/readl():
 * arm64 __iowmb/__iormb, riscv __io_bw/__io_ar):
 *  - mmio_write32/64: every memory store the CPU issued before the call
 *    (SQEs, PRP lists, a zeroed buffer) is visible to the device before
 *    the register store reaches it, and the register store itself is one
 *    single access, never merged, split or repeated.  x86: a volatile
 *    store behind a compiler barrier; arm64: "dmb oshst" then the store
 *    (or "dsb st": heavier); 32-bit ARM: "dsb st" (Linux's wmb(), with
 *    the outer cache's sync where there is one, e.g. PL310) then the
 *    store; riscv64: "fence w,o" then the store.
 *  - mmio_read32/64: the register load completes before any later memory
 *    load is performed, so a CQE or data buffer read after a register
 *    (CSTS, INTMS) is no older than it.  x86: compiler barrier; arm64: the
 *    load then "dmb oshld"; 32-bit ARM: the load then "dsb"; riscv64:
 *    the load then "fence i,ir" (Linux's readl).
 *  - Register accesses stay in program order among themselves (device
 *    memory keeps them in order on arm64 and riscv; a port that maps
 *    BAR0 otherwise must keep it so).  Nothing is asked about the order
 *    of register accesses against another CPU: the core's locks do that.
 *  - Inside the core, between reading a CQE's phase tag and its other
 *    fields, nvme_dma_rmb() (src/nvme_internal.h) orders the two memory
 *    loads as the device wrote them: arm64 "dmb oshld", riscv64 "fence
 *    r,r", x86 a compiler barrier, the C11 acquire fence elsewhere; and
 *    nvme_dma_wmb() ("dmb oshst", "fence w,w") orders SQE stores before
 *    the doorbell value is handed to mmio_write32; nvme_dma_mb() ("dmb
 *    osh", "fence iorw,iorw", x86 mfence) orders a shadow doorbell store
 *    before the event index load, and the INTMS register store before
 *    the memory load that follows it; nvme_dma_ldst() ("dmb oshld",
 *    "fence r,ow") orders the loads of the CQEs a batch consumed before
 *    the CQ head store that hands their slots back.  The port need not
 *    do anything for these; one that must choose another instruction
 *    defines NVME_PORT_DMA_RMB() / _WMB() / _MB() / _LDST() when
 *    compiling the core.
 *  - lock/unlock order the core's memory accesses between CPUs (acquire
 *    and release at least, as any spinlock does).
 *
 * Non-coherent DMA (many ARM and RISC-V boards: the device does not snoop
 * the CPU's data cache).  "Clean" writes dirty cache lines back to memory
 * (arm64 DC CVAC, the device then reads what the CPU wrote); "invalidate"
 * drops lines from the cache (DC IVAC, the CPU then reads what the device
 * wrote).  On x86 and other coherent machines all of it is a no-op:
 * dma_sync NULL, dma_align 0.  The rules:
 *  1. Who: the core syncs the memory it allocated (dma_alloc: queues, PRP
 *     list pages, identify/log/feature bounce buffers) with dma_sync; the
 *     port maintains caller buffers inside dma_map/dma_unmap.  When the
 *     core maps its own dma_alloc memory (bounce buffers) it has already
 *     synced it, and the port may skip or repeat maintenance there.
 *  2. Clean before the device reads: after the CPU's last write to an
 *     SQE, a PRP list or a TO_DEVICE bounce buffer, and before the doorbell
 *     write that lets the device fetch it (dma_sync TO_DEVICE; dma_map in
 *     every direction for caller buffers).  The SQ entries queued since the
 *     last doorbell are cleaned together just before the next one: one
 *     range, or two where the batch wraps the ring's end.
 *  3. Clean before the device writes: memory the CPU wrote (a bounce
 *     buffer zeroed, a completion queue cleared) is cleaned before the
 *     command that lets the device write it is submitted, so no dirty
 *     line is left whose later eviction would overwrite the device's
 *     data.  Hence dma_map cleans FROM_DEVICE caller buffers too (what
 *     Linux's arm64 arch_sync_dma_for_device does for every direction).
 *  4. Invalidate before the CPU reads what the device wrote: each CQE
 *     before its phase tag is read (the core syncs the 16-byte entry at
 *     the head, or, reaping a batch, the entries from the head that the
 *     commands in flight may have filled, in one range, and the entry it
 *     stops at once more on its own), a FROM_DEVICE bounce buffer once
 *     its command completed and before the core copies it out, a caller
 *     buffer in dma_unmap of a FROM_DEVICE or BIDIRECTIONAL mapping
 *     (nothing for TO_DEVICE).  The
 *     core also invalidates device-written memory before the CPU writes it
 *     again (the completion queue at reset), so no stale line is written
 *     back with the CPU's stores.
 *  5. Hands off: between submitting a command and consuming its
 *     completion the CPU never writes memory the device may write (the
 *     command's data buffer, the completion queue) nor a byte sharing a
 *     cache line with it, and reads it only after an invalidate (polling
 *     the head CQE is such a read).  The core never writes a live CQ, so
 *     invalidating a CQ line while the device fills its other entries
 *     loses nothing.
 *  6. Rounding: the core passes exact byte ranges, down to one 16-byte CQE
 *     or an 8-byte PRP entry; the port rounds every clean and invalidate
 *     out to whole cache lines (start down, end up).  Rounding is safe
 *     because of 7 and 8.  Every clean and invalidate (dma_sync, dma_map,
 *     dma_unmap) has completed when the call returns: the core follows
 *     them with the DMB-class barriers above, which order accesses but
 *     wait for no cache maintenance (arm64: the DC CVAC/IVAC loop, then
 *     "dsb sy", as Linux's dcache_clean_poc and dcache_inval_poc end).
 *  7. What the core allocates: dma_alloc memory is aligned as asked
 *     (queues, PRP list pages and bounce buffers: the controller memory
 *     page, 4 KiB or more; a separate-metadata bounce: 4 bytes) and the
 *     port places every block on whole cache lines of its own (starting
 *     on a line boundary, its size rounded up), so no block shares a
 *     line with other memory; a fresh
 *     block holds no dirty line (the port cleans and invalidates it, or
 *     hands out uncached memory, where dma_sync may do nothing).
 *  8. Caller buffers: a buffer the device writes (a read command) must
 *     start and end on a cache line boundary, or an invalidate rounded
 *     out would drop the CPU's stores to its neighbours (and their
 *     write-back could land over the device's data).  A port either
 *     declares its line size in dma_align, and the core then refuses such
 *     a read with NVME_ERR_ALIGN before anything reaches the device, or
 *     leaves dma_align 0 and bounces those pieces itself in
 *     dma_map/dma_unmap.  Buffers the device only reads (writes) need no
 *     alignment beyond the dword PRP rule: cleaning a neighbour is harmless.
 *
 * Freestanding: only <stdint.h>, <stddef.h> and <stdbool.h>.
 */
#ifndef NVME_OSAL_H
#define NVME_OSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Direction of a data transfer, seen from the host memory. */
enum nvme_dma_dir {
    NVME_DMA_TO_DEVICE = 1,   /* device reads host memory (write command) */
    NVME_DMA_FROM_DEVICE = 2, /* device writes host memory (read command) */
    NVME_DMA_BIDIRECTIONAL = 3
};

/* Log levels passed to nvme_osal.log. */
enum nvme_log_level {
    NVME_LOG_ERROR = 0,
    NVME_LOG_WARN = 1,
    NVME_LOG_INFO = 2,
    NVME_LOG_TRACE = 3 /* register accesses, SQEs, CQEs (see nvme_trace_mask) */
};

struct nvme_osal {
    /* Opaque pointer passed back as the first argument of every call. */
    void *ctx;

    /* --- MMIO: BAR0 of the controller ---------------------------------
     * `off` is a byte offset into BAR0, 4-byte aligned (8 for 64-bit).
     * The port maps BAR0 uncached before nvme_ctrl_init().  Ordering
     * rules above.  Reads of a device that is gone return all ones; the
     * core checks for that, the port need not.  Never fail. */
    uint32_t (*mmio_read32)(void *ctx, uint32_t off);
    void (*mmio_write32)(void *ctx, uint32_t off, uint32_t val);
    /* OPTIONAL: one 64-bit access.  When NULL the core uses two 32-bit
     * accesses, low half first (NVMe 1.4 §3.1 allows that, and some
     * controllers and 32-bit hosts need it). */
    uint64_t (*mmio_read64)(void *ctx, uint32_t off);
    void (*mmio_write64)(void *ctx, uint32_t off, uint64_t val);

    /* --- DMA memory owned by the core ---------------------------------
     * Allocate `size` bytes of physically contiguous memory aligned to
     * `align` (a power of two, at most 4096 unless the controller memory
     * page size is larger; the core asks for the controller page for
     * queues, PRP list pages and data bounce buffers, 4 for a metadata
     * bounce), usable by the device for
     * DMA.  Stores the device (bus) address of the first byte in *bus,
     * aligned to `align` as well (what the device sees: the core refuses
     * queue and PRP list memory whose bus address is not, NVME_ERR_DMA).  The
     * core initializes what it uses itself (and cleans it, rules 2-3).
     * Non-coherent platforms (rule 7): the block spans whole cache lines of
     * its own and holds no dirty line when returned.  Returns NULL when no
     * memory is available; the core then fails the operation with
     * NVME_ERR_NOMEM.  Used for queues, PRP list pages, the Host Memory
     * Buffer, and per call for the buffers of commands whose data the core
     * builds or copies: admin commands (Identify, logs, features),
     * Dataset Management, Copy, a separate metadata buffer
     * (nvme_read_ext/nvme_write_ext), zone reports, passthrough data.
     * Plain block I/O (nvme_read, nvme_write, nvme_flush,
     * nvme_write_zeroes, nvme_submit_rw/flush) never calls it once the
     * controller is up, but for a reset that its wait runs (recovery:
     * the restart's Identify, queues it may create). */
    void *(*dma_alloc)(void *ctx, size_t size, size_t align, uint64_t *bus);
    /* Free what dma_alloc returned; `size` is the size asked for. */
    void (*dma_free)(void *ctx, void *va, size_t size);

    /* --- Caller buffers for one transfer ------------------------------
     * Map `len` bytes at `va` so the device may access them in direction
     * `dir`, and store the bus address of `va` in *bus.  The core calls
     * this once per piece of a buffer that does not cross a boundary of
     * the controller memory page size (4 KiB unless CAP.MPSMIN asks for
     * more, up to 64 KiB), so a port whose pages are at least that large
     * can translate one address; one with smaller pages checks that all
     * of them in the piece are contiguous (or bounces it).  *bus must keep
     * va's offset within the controller memory page (bus % page == va %
     * page, as a PRP entry needs): a bounce buffer sits at the same offset
     * in its page; else the core unmaps it and fails the request with
     * NVME_ERR_DMA.  Called before the command is submitted.
     * Returns 0, or a negative value when the memory cannot be reached by
     * the device (the core fails the request with NVME_ERR_DMA and unmaps
     * what it already mapped).  Non-coherent platforms: clean [va, va+len)
     * rounded out to cache lines, in every direction (rules 2, 3, 6);
     * with dma_align 0, a FROM_DEVICE/BIDIRECTIONAL piece that does not
     * start and end on a line boundary is bounced (rule 8). */
    int (*dma_map)(void *ctx, void *va, size_t len, enum nvme_dma_dir dir, uint64_t *bus);
    /* OPTIONAL: undo one dma_map with the same arguments once the command
     * completed (or failed, or the controller was stopped), before the
     * core hands the buffer back to its caller.  Non-coherent platforms:
     * for FROM_DEVICE and BIDIRECTIONAL invalidate [va, va+len) rounded
     * out to cache lines (copy a bounced piece back); nothing for
     * TO_DEVICE (rule 4).  A non-coherent port must fill it. */
    void (*dma_unmap)(void *ctx, void *va, size_t len, enum nvme_dma_dir dir);
    /* OPTIONAL: cache maintenance of core-owned DMA memory (from
     * dma_alloc only: queues, PRP lists, bounce buffers); never called on
     * caller buffers.  [va, va+len) is exact (as small as one 16-byte CQE);
     * the port rounds it out to cache lines (rule 6).  TO_DEVICE: clean,
     * called after the CPU wrote memory the device will read or write
     * (SQEs, PRP lists, bounce buffers, a cleared CQ) and before the
     * doorbell or submission that lets the device at it.  FROM_DEVICE:
     * invalidate, called before the CPU reads memory the device wrote
     * (each CQE before its phase tag, identify/log data) or writes it
     * again.  BIDIRECTIONAL: clean, then invalidate.  May run in interrupt
     * context.  NULL on coherent platforms. */
    void (*dma_sync)(void *ctx, void *va, size_t len, enum nvme_dma_dir dir);
    /* OPTIONAL (0 = none): the CPU's data cache line size in bytes, a
     * power of two (else nvme_ctrl_init returns NVME_ERR_INVAL), on a
     * non-coherent platform whose port does not bounce unaligned caller
     * buffers.  The core then refuses a read (device to
     * memory) whose buffer address or length is not a multiple of it with
     * NVME_ERR_ALIGN, before anything reaches the device (rule 8).  Leave
     * 0 on coherent platforms. */
    size_t dma_align;

    /* --- Bookkeeping memory --------------------------------------------
     * Ordinary kernel memory for the core's own structures (never given
     * to the device), aligned as malloc's (8 bytes at least: the core
     * makes 64-bit atomic accesses there, which fault when misaligned on
     * arm64 and riscv64).  Returns NULL on failure.  Called at init, when
     * namespaces are rescanned, by admin and namespace management calls,
     * by nvme_ctrl_service (a page while it handles an asynchronous event)
     * by the first nvme_zns_append and by resets; never on plain block
     * I/O (as dma_alloc: but for a reset its wait runs). */
    void *(*mem_alloc)(void *ctx, size_t size);
    void (*mem_free)(void *ctx, void *p, size_t size);

    /* --- Interrupts (OPTIONAL: NULL means the core polls) --------------
     * Ask for up to `want` interrupt vectors (MSI-X first, else MSI, else
     * one INTx).  Returns how many were granted, 0 for none (the core
     * then polls; nothing breaks).  Vector numbers the core uses are
     * 0 .. granted-1 and are the MSI-X table entries the core puts in the
     * Create I/O Completion Queue command.  When vector v fires, the port
     * calls nvme_ctrl_handle_irq(ctrl, v) (interrupt or deferred context).
     * *is_intx tells the core the one vector is a shared INTx line, so it
     * masks with INTMS/INTMC around completion processing (§7.5.1.1). */
    int (*irq_setup)(void *ctx, unsigned want, bool *is_intx);
    /* Frees the vectors (required with irq_setup: nvme_ctrl_init refuses
     * one without the other).  Called once, by nvme_ctrl_fini (or a failed
     * nvme_ctrl_init), and only when irq_setup granted vectors: one that
     * returned 0 or less leaves nothing to free.  Once it returns no handler calls
     * nvme_ctrl_handle_irq() again, and none still runs on another CPU
     * (wait for those, as Linux's free_irq does): nvme_ctrl_fini frees the
     * queues next. */
    void (*irq_teardown)(void *ctx);

    /* --- Time ------------------------------------------------------------
     * Monotonic time in microseconds since any origin, 64 bits that never
     * wrap (extend a narrower counter): the core's deadlines (CAP.TO,
     * per-command timeouts) are now_us() + a timeout, compared with >=.
     * It must advance by itself, with interrupts off too (early boot): a
     * free-running counter.  Counting only the time sleep_us() waited is
     * a poor clock: a blocking call polls its queue without sleeping for
     * its first millisecond, and sleeps 1 us per look only after 256 looks
     * found the clock standing still (so that its deadline still comes). */
    uint64_t (*now_us)(void *ctx);
    /* Wait about `us` microseconds (busy wait or yield, port's choice).
     * The core never asks for more than 10 ms at a time. */
    void (*sleep_us)(void *ctx, uint32_t us);

    /* --- Logging (OPTIONAL) ---------------------------------------------
     * One complete line without its newline, already formatted by the
     * core.  May be called from interrupt context. */
    void (*log)(void *ctx, enum nvme_log_level level, const char *line);

    /* --- Locks (OPTIONAL: NULL when one thread drives the controller) ----
     * All four set or all NULL (nvme_ctrl_init: NVME_ERR_INVAL otherwise).
     * lock_create returns an opaque lock or NULL on failure.  The core
     * holds a queue pair's lock while it touches that queue's ring, CID
     * table and doorbells, never across a sleep.  If the port calls
     * nvme_ctrl_handle_irq from interrupt context, lock() must exclude
     * that context too (spinlock with interrupts off). */
    void *(*lock_create)(void *ctx);
    void (*lock_destroy)(void *ctx, void *lock);
    void (*lock)(void *ctx, void *lock);
    void (*unlock)(void *ctx, void *lock);

    /* --- Waiting for a completion (OPTIONAL: both NULL or both set) -------
     * wait() blocks the calling thread until wake() is called or `us`
     * microseconds pass.  A wake() while nobody waits must make the next
     * wait() return at once (not a bare condition variable), and one
     * wake() releases every waiting thread (a wake counter, not a binary
     * semaphore: it is called once per finished blocking command, and a
     * waiter it did not release sleeps out its `us`);
     * early returns are harmless, the core looks again.  wake() may be
     * called from interrupt context (inside nvme_ctrl_handle_irq).  The core
     * calls wait() only while it has interrupts and a blocking call is
     * waiting, never with a lock held.  Without them a blocking call polls
     * its completion queue: without pause for the first millisecond, then
     * with sleep_us() of a sixteenth of the time waited (at most 1 ms). */
    void (*wait)(void *ctx, uint32_t us);
    void (*wake)(void *ctx);

    /* --- Last resort (OPTIONAL) ------------------------------------------
     * Stop the device from reaching memory at all, for example by clearing
     * Bus Master Enable in its PCI Command register.  Called only when the
     * controller does not stop (CSTS.RDY still 1 a CAP.TO after CC.EN=0),
     * before the core hands the buffers of commands in flight back to
     * their callers; when its registers read all ones (removed, or only
     * reads failing while it still masters the bus), before everything
     * fails with NVME_ERR_GONE; and by nvme_ctrl_fini after a completed shutdown
     * while the controller still holds Asynchronous Event Requests (a
     * shutdown does not end them; without dma_stop the core resets the
     * controller instead).  Without it the core hands them back anyway and logs
     * that the device might still write them: real PCI ports should fill
     * it. */
    void (*dma_stop)(void *ctx);
    /* Undo dma_stop (Bus Master Enable set again).  OPTIONAL.  Called
     * before the core sets CC.EN=1 on a controller it cut off, at a reset
     * that found it stopped or answering again (as Linux's reset work
     * calls pci_set_master), and before bring-up's first CC.EN=1, after
     * the controller was found stopped (an earlier nvme_ctrl_fini may
     * have cut it off).  Without it a cut-off controller stays so: the
     * reset fails with NVME_ERR_FATAL and CC.EN is not set. */
    void (*dma_resume)(void *ctx);

    /* --- CPUs (OPTIONAL) ----------------------------------------------------
     * The index (0 .. nvme_ctrl_opts.cpus-1) of the CPU running the caller,
     * so submissions go to that CPU's I/O queue.  Cheap and callable from
     * any context.  NULL: every submission counts as CPU 0.  Interrupt
     * vectors: vector 0 serves the admin queue and vector q serves I/O
     * queue q, which belongs to CPUs q-1, q-1+n, ... (n queues created);
     * a port routes vector q's MSI-X message to CPU q-1.  With g < n + 1
     * vectors granted, vector v (1 .. g-1) serves I/O queues v, v+g-1,
     * v+2(g-1), ... (one vector: everything).  With cpus > 1
     * it also tells "called from a completion callback" (refused) from
     * "another CPU runs a callback" (fine), and lets a blocking call on
     * another CPU wait out a reset instead of getting NVME_ERR_STATE. */
    unsigned (*cpu_id)(void *ctx);

    /* --- BAR0's size (OPTIONAL) -------------------------------------------
     * Bytes of BAR0 the port mapped (the BAR's size, from PCI).  Queue q's
     * doorbells are at 1000h + 2q * (4 << CAP.DSTRD) and the next stride
     * (§3.1.24-25), the stride a device's choice: the core creates only as
     * many I/O queues as have their doorbells inside, and refuses a
     * controller whose admin queue doorbells are not (device input; Linux
     * does the same).  0: 16 KiB, the least PORTING.md asks to map. */
    uint32_t mmio_size;

    /* --- Time of day (OPTIONAL) -------------------------------------------
     * Milliseconds since 1970-01-01 00:00 UTC, or 0 when the port does not
     * know the date (an RTC never set).  At every start of a controller
     * with the Timestamp feature (ONCS bit 6) the core gives it this time
     * (Set Features 0Eh, NVMe 1.4 §5.21.1.14), as Linux does, so that the
     * device's logs (Error Information, Persistent Event, telemetry) carry
     * dates.  Called from the start and reset paths only.  NULL: no
     * Timestamp is set (the controller counts from 0 at each reset). */
    uint64_t (*wall_clock_ms)(void *ctx);
};

#endif /* NVME_OSAL_H */
