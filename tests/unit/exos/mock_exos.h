/* SPDX-License-Identifier: MIT */
/*
 * mock_exos.h - the EXOS kernel calls of exos_api.h, faked for host tests.
 * Most are plain fakes with inspectable state (mock_exos); the ones a
 * test wants to steer use cmocka's mock()/check_expected():
 *   MapLinearToPhysical   check_expected(Address), returns mock()
 *   DMABufferAllocate     check_expected(Size, RequireContiguous), returns
 *                         mock() (BOOL) then, on TRUE, mock() = PhysicalBase
 *   DeviceInterruptRegister  returns mock() (BOOL) then, on TRUE, mock() = slot
 */
#ifndef MOCK_EXOS_H
#define MOCK_EXOS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nvme/nvme.h"
#include "exos_api.h"

#define MOCK_MAX_REG 8
#define MOCK_MAX_DISKS 8

struct mock_exos {
    /* PCI config space of the one device under test */
    uint8_t cfg[256];
    uint8_t msix_cap; /* what PCI_FindCapability(MSIX) returns */
    uint8_t msi_cap;  /* what PCI_FindCapability(MSI, 05h) returns */
    /* BARs: the address bits each BAR register lets software write (the
     * rest read back as stored: type bits, and zeros below the size);
     * 16 KiB 32-bit BARs unless a test says otherwise (the upper half of
     * a 64-bit BAR: 0xFFFFFFFF). */
    U32 bar_mask[6];
    unsigned bar_sized_decoding; /* all ones written to a BAR with decode on (Command bits 0/1) */
    /* every config-space write, in order */
    struct mock_cfg_write {
        U16 off;
        U8 width;
        U32 value;
    } cfg_writes[64];
    unsigned cfg_write_count;
    /* Command register writes whose value was read with interrupts on in
     * between: EXOS (one CPU) could have switched to a task that changed
     * the register, and the write undid that change. */
    unsigned cmd_rmw_preemptible;
    bool cmd_read_preemptible; /* interrupts on since the last Command read */
    /* interrupts */
    DEVICE_INTERRUPT_REGISTRATION reg[MOCK_MAX_REG];
    unsigned reg_count;
    /* Called by DeviceInterruptRegister when interrupts are on (NULL:
     * none): EXOS (one CPU) may switch to another task there (a test runs
     * that task's work there). */
    void (*irq_register_hook)(void);
    unsigned unregistered;
    U8 apic_id;
    BOOL polling_mode;
    BOOL deferred_refused;                     /* DeferredWorkRegisterPollOnly finds no slot */
    DEFERRED_WORK_POLL_CALLBACK deferred_poll; /* DeferredWorkRegisterPollOnly */
    LPVOID deferred_ctx;
    /* flags (SaveFlags & co) */
    UINT eflags; /* 0x200: interrupts enabled */
    /* time */
    UINT sys_ms;
    DATETIME local_time; /* GetLocalTime's answer */
    BOOL local_time_fails;
    uint64_t busy_ms;
    uint64_t busy_ms_limit; /* BusyWaitMilliseconds past this many ms in all fails (0: none) */
    /* memory */
    long heap_live;
    UINT heap_fail_from; /* KernelHeapAlloc of this many bytes or more: NULL (0: never) */
    /* Called by KernelHeapAlloc before it allocates (NULL: none): where EXOS
     * could switch to another task (a test runs that task's work there). */
    void (*heap_alloc_hook)(UINT size);
    unsigned dma_released;
    PHYSICAL last_released_phys;
    long dma_live;
    /* mutexes */
    unsigned mutex_locks, mutex_unlocks, mutex_inits;
    /* Called by LockMutex with INFINITY before it takes Mutex (NULL:
     * none): the task may wait there and another task run first (a test
     * runs that task's work there). */
    void (*lock_hook)(LPMUTEX Mutex);
    /* Called by LockMutex with a bounded Timeout before it looks at
     * Mutex->Task (NULL: none): the holder may let go during the wait (a
     * test clears Task there). */
    void (*timed_lock_hook)(LPMUTEX Mutex, UINT Timeout);
    /* Called by UnlockMutex once it has freed Mutex (NULL: none): a task
     * EXOS switched to while the caller held it, and that waited for it,
     * runs from there (a test runs that task's work there). */
    void (*unlock_hook)(LPMUTEX Mutex);
    int kernel_mutex_held; /* LockMutex(MUTEX_KERNEL) not yet unlocked */
    /* GetTaskSchedulerState: the task a test sets here runs (RUNNING);
     * every other one is dead, as EXOS leaves every task but the caller
     * of a shutdown (TASK_STATUS_DEAD). */
    LPVOID live_task;
    /* The task that calls (NULL: none said): when set, a LockMutex that
     * gives a mutex makes it the mutex's Task, and UnlockMutex clears
     * Task once its Lock count is back to 0, as EXOS's. */
    LPVOID current_task;
    /* Called by GetTaskSchedulerState before it answers, when interrupts
     * are on (NULL: none): EXOS (one CPU) may switch to another task
     * there (a test runs that task's work there: the holder lets go). */
    void (*task_state_hook)(LPTASK Task);
    UINT longest_held_wait; /* longest Timeout of a LockMutex on a held mutex */
    /* Sleep: every call's milliseconds added up; the hook (NULL: none)
     * runs after each, as another task would while the caller sleeps. */
    uint64_t slept_ms;
    void (*sleep_hook)(void);
    /* log and console */
    U32 last_log_type;
    char last_log[512];
    char warnings[2048]; /* every LOG_WARNING and LOG_ERROR line, one after the other */
    unsigned log_count;
    char console[8192];
    unsigned console_prints_locked; /* ConsolePrint with a mutex held */
    size_t console_bytes;           /* every ConsolePrint's, also past console[] */
    BOOL paging_active;             /* ConsoleGetPagingActive: the console pages (after boot) */
    /* disks */
    LPVOID disks[MOCK_MAX_DISKS];
    unsigned disk_count;
    unsigned disks_removed; /* ListRemove of the disk list */
    BOOL fs_ready;
    unsigned mounts;
    unsigned mounts_locked; /* MountDiskPartitions with a mutex held */
    BOOL mount_reads;       /* MountDiskPartitions reads the MBR through the disk's driver */
    U32 mount_read_result;  /* what that read returned, the last time */
    /* MapIOMemory: where "mapped" MMIO lands */
    LINEAR ioremap_base;
    unsigned ioremaps, iounmaps;
    unsigned ioremaps_irq_off; /* MapIOMemory or UnMapIOMemory with interrupts off */
    PHYSICAL ioremap_phys;     /* the last MapIOMemory's request */
    UINT ioremap_size;
};

extern struct mock_exos mock_exos;
void mock_exos_reset(void);
/* A file system on `disk` in EXOS's mounted list (or its unused list);
 * unmount takes every one of the disk out. */
void mock_exos_mount(LPVOID disk, bool unused);
void mock_exos_unmount(LPVOID disk);

#endif
