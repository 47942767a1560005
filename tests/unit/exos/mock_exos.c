/* SPDX-License-Identifier: MIT */
/* mock_exos.c - see mock_exos.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_exos.h"
#include "nvme_exos.h" /* the EXOS calls only the glue uses */

struct mock_exos mock_exos;

static LIST disk_list;
static LIST fs_lists[2];
static struct mock_fs {
    LISTNODE_FIELDS
    LPSTORAGE_UNIT disk;
} fs_objects[8];
MUTEX KernelMutex;

void mock_exos_reset(void)
{
    memset(&mock_exos, 0, sizeof(mock_exos));
    memset(&disk_list, 0, sizeof(disk_list));
    memset(fs_lists, 0, sizeof(fs_lists));
    memset(fs_objects, 0, sizeof(fs_objects));
    memset(&KernelMutex, 0, sizeof(KernelMutex));
    mock_exos.eflags = 0x200;
    mock_exos.apic_id = 0;
    for (unsigned i = 0; i < 6; i++)
        mock_exos.bar_mask[i] = ~(U32)(0x4000u - 1u);
}

static void log_cfg_write(U16 off, U8 width, U32 value)
{
    if (mock_exos.cfg_write_count < sizeof(mock_exos.cfg_writes) / sizeof(mock_exos.cfg_writes[0]))
        mock_exos.cfg_writes[mock_exos.cfg_write_count++] = (struct mock_cfg_write){off, width,
                                                                                    value};
}

/* PCI: a flat little-endian config space */
static void note_cfg_read(U16 off)
{
    if ((off & 0xfc) == PCI_CFG_COMMAND)
        mock_exos.cmd_read_preemptible = (mock_exos.eflags & 0x200u) != 0;
}
U32 PCI_Read32(U8 bus, U8 dev, U8 func, U16 off)
{
    U32 v;
    (void)bus, (void)dev, (void)func;
    note_cfg_read(off);
    memcpy(&v, &mock_exos.cfg[off & 0xfc], 4);
    return v;
}
void PCI_Write32(U8 bus, U8 dev, U8 func, U16 off, U32 value)
{
    (void)bus, (void)dev, (void)func;
    off &= 0xfc;
    log_cfg_write(off, 4, value);
    if (off >= PCI_CFG_BAR0 && off < PCI_CFG_BAR0 + 24) {
        U32 m = mock_exos.bar_mask[(off - PCI_CFG_BAR0) / 4], old;
        U16 cmd;
        memcpy(&cmd, &mock_exos.cfg[PCI_CFG_COMMAND], 2);
        if (value == 0xFFFFFFFFu && (cmd & 0x3u) != 0)
            mock_exos.bar_sized_decoding++;
        memcpy(&old, &mock_exos.cfg[off], 4);
        value = (value & m) | (old & ~m);
    }
    if (off == PCI_CFG_COMMAND) {
        /* Status (upper half): RW1C error bits, the rest read-only (PCI
         * 3.0 §6.2.3) */
        U16 status;
        memcpy(&status, &mock_exos.cfg[PCI_CFG_COMMAND + 2], 2);
        status = (U16)(status & ~((value >> 16) & 0xF900u));
        value = (value & 0xFFFFu) | ((U32)status << 16);
        if (mock_exos.cmd_read_preemptible || (mock_exos.eflags & 0x200u) != 0)
            mock_exos.cmd_rmw_preemptible++;
    }
    memcpy(&mock_exos.cfg[off], &value, 4);
}
U16 PCI_Read16(U8 bus, U8 dev, U8 func, U16 off)
{
    U16 v;
    (void)bus, (void)dev, (void)func;
    note_cfg_read(off);
    memcpy(&v, &mock_exos.cfg[off & 0xfe], 2);
    return v;
}
/* As EXOS's (PCI.c): the dword read, the half replaced, the dword
 * written (so a Command write writes back the Status it read). */
void PCI_Write16(U8 bus, U8 dev, U8 func, U16 off, U16 value)
{
    U32 v = PCI_Read32(bus, dev, func, (U16)(off & 0xfc));
    unsigned shift = (off & 2u) * 8u;
    v = (v & ~((U32)0xFFFFu << shift)) | ((U32)value << shift);
    PCI_Write32(bus, dev, func, (U16)(off & 0xfc), v);
}
U16 PCI_EnableBusMaster(U8 bus, U8 dev, U8 func, BOOL enable)
{
    U16 cmd = PCI_Read16(bus, dev, func, PCI_CFG_COMMAND);
    PCI_Write16(bus, dev, func, PCI_CFG_COMMAND,
                (U16)(enable ? cmd | PCI_CMD_BUSMASTER : cmd & ~PCI_CMD_BUSMASTER));
    return cmd;
}
U32 PCI_GetBARBase(U8 bus, U8 dev, U8 func, U8 barIndex)
{
    return PCI_Read32(bus, dev, func, (U16)(PCI_CFG_BAR0 + 4 * barIndex)) & PCI_BAR_MEM_MASK;
}
/* As EXOS's (PCI.c): all ones written with decode left on, and of a
 * 64-bit BAR only the low 32 bits of the size. */
U32 PCI_GetBARSize(U8 bus, U8 dev, U8 func, U8 barIndex)
{
    U16 off = (U16)(PCI_CFG_BAR0 + 4 * barIndex);
    U32 orig = PCI_Read32(bus, dev, func, off), probed, mask;
    PCI_Write32(bus, dev, func, off, 0xFFFFFFFFu);
    probed = PCI_Read32(bus, dev, func, off);
    PCI_Write32(bus, dev, func, off, orig);
    if (PCI_BAR_IS_IO(orig))
        return 0;
    mask = probed & PCI_BAR_MEM_MASK;
    if (((orig >> 1) & 3u) == 2u) {
        U32 hi = PCI_Read32(bus, dev, func, (U16)(off + 4));
        PCI_Write32(bus, dev, func, (U16)(off + 4), 0xFFFFFFFFu);
        (void)PCI_Read32(bus, dev, func, (U16)(off + 4));
        PCI_Write32(bus, dev, func, (U16)(off + 4), hi);
    }
    return mask != 0 ? ~mask + 1u : 0;
}
U8 PCI_FindCapability(U8 bus, U8 dev, U8 func, U8 capId)
{
    (void)bus, (void)dev, (void)func;
    return capId == PCI_CAP_ID_MSIX ? mock_exos.msix_cap : capId == 0x05 ? mock_exos.msi_cap : 0;
}

/* Memory */
LINEAR MapIOMemory(PHYSICAL PhysicalBase, UINT Size)
{
    /* EXOS's AllocRegion may wait for MUTEX_MEMORY: never with
     * interrupts off */
    if ((mock_exos.eflags & 0x200u) == 0)
        mock_exos.ioremaps_irq_off++;
    mock_exos.ioremap_phys = PhysicalBase;
    mock_exos.ioremap_size = Size;
    mock_exos.ioremaps++;
    return mock_exos.ioremap_base;
}
BOOL UnMapIOMemory(LINEAR LinearBase, UINT Size)
{
    (void)LinearBase, (void)Size;
    if ((mock_exos.eflags & 0x200u) == 0)
        mock_exos.ioremaps_irq_off++;
    mock_exos.iounmaps++;
    return TRUE;
}
PHYSICAL MapLinearToPhysical(LINEAR Address)
{
    check_expected(Address);
    return mock_type(PHYSICAL);
}
LPVOID KernelHeapAlloc(UINT Size)
{
    if (mock_exos.heap_alloc_hook != NULL)
        mock_exos.heap_alloc_hook(Size);
    void *p = mock_exos.heap_fail_from != 0 && Size >= mock_exos.heap_fail_from ? NULL
                                                                                : malloc(Size);
    if (p != NULL)
        mock_exos.heap_live++;
    return p;
}
void KernelHeapFree(LPVOID Pointer)
{
    if (Pointer != NULL)
        mock_exos.heap_live--;
    free(Pointer);
}

/* DMA buffers */
BOOL DMABufferAllocate(LPDMA_BUFFER Buffer, UINT Size, BOOL RequireContiguous, LPCSTR Tag)
{
    UINT alloc = (Size + 4095u) & ~(UINT)4095u;
    assert_non_null(Tag);
    assert_true(Tag[0] != 0);
    check_expected(Size);
    check_expected(RequireContiguous);
    memset(Buffer, 0, sizeof(*Buffer));
    if (!mock_type(BOOL))
        return FALSE;
    Buffer->LinearBase = (LINEAR)aligned_alloc(4096, alloc);
    memset((void *)Buffer->LinearBase, 0, alloc);
    Buffer->PhysicalBase = mock_type(PHYSICAL);
    Buffer->Size = Size;
    Buffer->AllocatedSize = alloc;
    Buffer->IsContiguous = RequireContiguous;
    mock_exos.dma_live++;
    return TRUE;
}
void DMABufferRelease(LPDMA_BUFFER Buffer)
{
    mock_exos.dma_released++;
    mock_exos.last_released_phys = Buffer->PhysicalBase;
    if (Buffer->LinearBase != 0) {
        free((void *)Buffer->LinearBase);
        mock_exos.dma_live--;
    }
    memset(Buffer, 0, sizeof(*Buffer));
}

/* Interrupts */
U8 DeviceInterruptGetSlotCount(void) { return 32; }
BOOL DeviceInterruptRegister(const DEVICE_INTERRUPT_REGISTRATION *Registration, U8 *AssignedSlot)
{
    assert_non_null(Registration);
    assert_non_null(Registration->InterruptHandler);
    if ((mock_exos.eflags & 0x200u) != 0 && mock_exos.irq_register_hook != NULL)
        mock_exos.irq_register_hook();
    if (!mock_type(BOOL))
        return FALSE;
    *AssignedSlot = mock_type(U8);
    if (mock_exos.reg_count < MOCK_MAX_REG)
        mock_exos.reg[mock_exos.reg_count++] = *Registration;
    return TRUE;
}
BOOL DeviceInterruptUnregister(U8 Slot)
{
    (void)Slot;
    mock_exos.unregistered++;
    return TRUE;
}
U8 GetLocalAPICId(void) { return mock_exos.apic_id; }
BOOL DeferredWorkIsPollingMode(void) { return mock_exos.polling_mode; }
U32 DeferredWorkRegisterPollOnly(DEFERRED_WORK_POLL_CALLBACK PollCallback, LPVOID Context,
                                 LPCSTR Name)
{
    (void)Name;
    if (mock_exos.deferred_refused)
        return DEFERRED_WORK_INVALID_HANDLE;
    mock_exos.deferred_poll = PollCallback;
    mock_exos.deferred_ctx = Context;
    return 3;
}

/* Flags */
void ExosTestSaveFlags(UINT *Flags) { *Flags = mock_exos.eflags; }
void ExosTestRestoreFlags(UINT *Flags)
{
    mock_exos.eflags = *Flags;
    if ((mock_exos.eflags & 0x200u) != 0)
        mock_exos.cmd_read_preemptible = true;
}
void ExosTestDisableInterrupts(void) { mock_exos.eflags &= ~(UINT)0x200; }

/* Time */
UINT GetSystemTime(void) { return mock_exos.sys_ms; }
BOOL GetLocalTime(LPDATETIME Time)
{
    if (mock_exos.local_time_fails)
        return FALSE;
    *Time = mock_exos.local_time;
    return TRUE;
}
void BusyWaitMilliseconds(UINT Milliseconds)
{
    mock_exos.busy_ms += Milliseconds;
    if (mock_exos.busy_ms_limit != 0 && mock_exos.busy_ms > mock_exos.busy_ms_limit)
        fail_msg("busy-waited %llu ms: a wait that does not end",
                 (unsigned long long)mock_exos.busy_ms);
}
UINT BusyWaitGetLoopsPerMillisecond(void) { return 10; }

/* Mutex */
void InitMutex(LPMUTEX Mutex)
{
    memset(Mutex, 0, sizeof(*Mutex));
    Mutex->TypeID = KOID_MUTEX;
    mock_exos.mutex_inits++;
}
UINT LockMutex(LPMUTEX Mutex, UINT Timeout)
{
    /* A test sets Mutex->Task for a mutex another task holds: a bounded
     * wait then times out (0), as EXOS's; an INFINITY one would never
     * return there, the fake returns. */
    if (Timeout != INFINITY && mock_exos.timed_lock_hook != NULL)
        mock_exos.timed_lock_hook(Mutex, Timeout);
    if (Mutex->Task != NULL && Timeout > mock_exos.longest_held_wait)
        mock_exos.longest_held_wait = Timeout;
    if (Timeout != INFINITY && Mutex->Task != NULL)
        return 0;
    if (Timeout == INFINITY && mock_exos.lock_hook != NULL)
        mock_exos.lock_hook(Mutex);
    if (Mutex == &KernelMutex)
        mock_exos.kernel_mutex_held++;
    if (mock_exos.current_task != NULL) {
        Mutex->Task = (LPTASK)mock_exos.current_task;
        Mutex->Lock++;
    }
    return ++mock_exos.mutex_locks;
}
BOOL GetTaskSchedulerState(LPTASK Task, LPTASK_SCHEDULER_STATE State)
{
    if (Task == NULL)
        return FALSE;
    if ((mock_exos.eflags & 0x200u) != 0 && mock_exos.task_state_hook != NULL)
        mock_exos.task_state_hook(Task);
    memset(State, 0, sizeof(*State));
    State->Status = Task == mock_exos.live_task ? 1u : TASK_STATUS_DEAD;
    return TRUE;
}
void Sleep(U32 MilliSeconds)
{
    mock_exos.slept_ms += MilliSeconds;
    if (mock_exos.sleep_hook != NULL)
        mock_exos.sleep_hook();
}
BOOL UnlockMutex(LPMUTEX Mutex)
{
    if (Mutex == &KernelMutex)
        mock_exos.kernel_mutex_held--;
    mock_exos.mutex_unlocks++;
    if (mock_exos.current_task != NULL && Mutex->Task == mock_exos.current_task &&
        --Mutex->Lock == 0)
        Mutex->Task = NULL;
    if (mock_exos.unlock_hook != NULL)
        mock_exos.unlock_hook(Mutex);
    return TRUE;
}

/* Log, console */
/* EXOS's formatter (kernel/source/text/CoreString.c) reads a UINT or INT
 * for %d %i %u %x %X %o %b %c and a '*', a U32 with the 'l' qualifier, a
 * U64 with 'll', a pointer for %s %p.  The classes of the arguments
 * (exos_api.h, NVME_EXOS_LOG_CLASS) must be those; the text is then made
 * with the host's vsnprintf, its conversions told the same widths. */
static void exos_format(const char *Classes, LPCSTR Format, char *host, size_t host_len)
{
    const char *f = (const char *)Format;
    size_t o = 0;
    unsigned arg = 1;

    while (*f != 0 && o + 4 < host_len) {
        char want, conv;
        unsigned qual = 0; /* 1: h, 2: l, 3: ll */
        if (*f != '%' || f[1] == '%') {
            if (*f == '%')
                host[o++] = *f++;
            host[o++] = *f++;
            continue;
        }
        host[o++] = *f++;
        while (*f == '-' || *f == '+' || *f == ' ' || *f == '#' || *f == '0')
            host[o++] = *f++;
        while (*f == '*' || (*f >= '0' && *f <= '9') || *f == '.') {
            if (*f == '*') /* EXOS reads an INT: not used by the shim */
                fail_msg("KernelLogText/ConsolePrint(\"%s\"): '*' not modelled",
                         (const char *)Format);
            host[o++] = *f++;
        }
        if (*f == 'h') {
            qual = 1;
            f++;
        } else if (*f == 'l' || *f == 'L') {
            qual = 2;
            f++;
            if (*f == 'l') {
                qual = 3;
                f++;
            }
        }
        conv = *f++;
        switch (conv) {
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'o':
        case 'b':
        case 'c':
            want = qual == 2 ? 'I' : qual == 3 ? 'Q' : 'W';
            if (qual == 3 && Classes[arg] == 'W')
                want = 'W';               /* a uint64_t */
            if (conv != 'c' && qual != 2) /* a UINT or a U64: a long here */
                host[o++] = 'l';
            host[o++] = conv == 'b' ? 'x' : conv;
            break;
        case 's':
        case 'p':
            want = 'P';
            host[o++] = conv;
            break;
        default:
            fail_msg("KernelLogText/ConsolePrint(\"%s\"): conversion %c not modelled",
                     (const char *)Format, conv);
            return;
        }
        if (Classes[arg] != want)
            fail_msg("KernelLogText/ConsolePrint(\"%s\"): argument %u (%%%c) is of class %c, EXOS "
                     "reads %s",
                     (const char *)Format, arg, conv, Classes[arg] != 0 ? Classes[arg] : '-',
                     want == 'W'   ? "a UINT/INT (64 bits on x86-64): cast it"
                     : want == 'I' ? "a U32"
                     : want == 'Q' ? "a U64"
                                   : "a pointer");
        arg++;
    }
    host[o] = 0;
    if (Classes[arg] != 0)
        fail_msg("KernelLogText/ConsolePrint(\"%s\"): %u argument(s) for fewer conversions",
                 (const char *)Format, (unsigned)strlen(Classes) - 1u);
}

void ExosTestLogText(U32 Type, const char *Classes, LPCSTR Format, ...)
{
    char host[512];
    va_list ap;
    int len;
    exos_format(Classes, Format, host, sizeof(host));
    va_start(ap, Format);
    len = vsnprintf(mock_exos.last_log, sizeof(mock_exos.last_log), host, ap);
    va_end(ap);
    if (len >= MAX_STRING_BUFFER) /* EXOS's TextBuffer, as ConsolePrint's */
        fail_msg("KernelLogText(\"%s\"): %d bytes, more than EXOS's %d-byte buffer holds",
                 (const char *)Format, len, MAX_STRING_BUFFER);
    mock_exos.last_log_type = Type;
    mock_exos.log_count++;
    size_t used = strlen(mock_exos.warnings);
    if ((Type == LOG_WARNING || Type == LOG_ERROR) && used < sizeof(mock_exos.warnings) - 1)
        snprintf(mock_exos.warnings + used, sizeof(mock_exos.warnings) - used, "%s\n",
                 mock_exos.last_log);
}

BOOL ConsoleGetPagingActive(void) { return mock_exos.paging_active; }

/* ConsolePrint formats with the same function as KernelLogText. */
void ExosTestConsolePrint(const char *Classes, LPCSTR Format, ...)
{
    char host[512];
    size_t used = strlen(mock_exos.console);
    va_list ap;
    int len;
    exos_format(Classes, Format, host, sizeof(host));
    if (mock_exos.mutex_locks != mock_exos.mutex_unlocks)
        mock_exos.console_prints_locked++;
    va_start(ap, Format);
    /* EXOS formats into MAX_STRING_BUFFER bytes of its stack, unbounded */
    len = vsnprintf(NULL, 0, host, ap);
    va_end(ap);
    if (len >= MAX_STRING_BUFFER)
        fail_msg("ConsolePrint(\"%s\"): %d bytes, more than EXOS's %d-byte buffer holds",
                 (const char *)Format, len, MAX_STRING_BUFFER);
    mock_exos.console_bytes += (size_t)len;
    va_start(ap, Format);
    vsnprintf(mock_exos.console + used, sizeof(mock_exos.console) - used, host, ap);
    va_end(ap);
}

/* Strings */
void MemorySet(LPVOID Destination, UINT What, UINT Size) { memset(Destination, (int)What, Size); }
void MemoryCopy(LPVOID Destination, LPCVOID Source, UINT Size)
{
    memmove(Destination, Source, Size);
}
void StringCopy(LPSTR Dst, LPCSTR Src) { strcpy((char *)Dst, (const char *)Src); }

/* Kernel objects, disks */
LPVOID CreateKernelObject(UINT Size, U32 ObjectTypeID)
{
    LPLISTNODE node = calloc(1, Size);
    if (node == NULL)
        return NULL;
    node->TypeID = ObjectTypeID;
    node->References = 1;
    mock_exos.heap_live++;
    return node;
}
void ReleaseKernelObject(LPVOID Object)
{
    if (Object != NULL)
        mock_exos.heap_live--;
    free(Object);
}
/* EXOS's disk list: linked as EXOS's (List.c), mirrored in
 * mock_exos.disks[] in list order. */
LPLIST GetDiskList(void) { return &disk_list; }
static void list_link(LPLIST list, LPLISTNODE node)
{
    node->Next = NULL;
    node->Prev = list->Last;
    if (list->Last != NULL)
        list->Last->Next = node;
    else
        list->First = node;
    list->Last = node;
    list->NumItems++;
}
static void list_unlink(LPLIST list, LPLISTNODE node)
{
    if (node->Prev != NULL)
        node->Prev->Next = node->Next;
    else
        list->First = node->Next;
    if (node->Next != NULL)
        node->Next->Prev = node->Prev;
    else
        list->Last = node->Prev;
    node->Next = node->Prev = NULL;
    list->NumItems--;
}
U32 ListAddItem(LPLIST List, LPVOID Item)
{
    if (mock_exos.disk_count >= MOCK_MAX_DISKS)
        return 0;
    mock_exos.disks[mock_exos.disk_count++] = Item;
    list_link(List, (LPLISTNODE)Item);
    return 1;
}
LPVOID ListRemove(LPLIST List, LPVOID Item)
{
    unsigned i, k = 0;
    assert_ptr_equal(List, &disk_list);           /* the only list the glue edits */
    assert_true(mock_exos.kernel_mutex_held > 0); /* as DeleteUnreferencedObjects */
    for (i = 0; i < mock_exos.disk_count; i++)
        if (mock_exos.disks[i] != Item)
            mock_exos.disks[k++] = mock_exos.disks[i];
    assert_int_equal(k + 1, mock_exos.disk_count);
    mock_exos.disk_count = k;
    mock_exos.disks_removed++;
    list_unlink(List, (LPLISTNODE)Item);
    return Item;
}

/* File systems: the mounted and the unused list, of mock_fs objects. */
LPLIST GetFileSystemList(void) { return &fs_lists[0]; }
LPLIST GetUnusedFileSystemList(void) { return &fs_lists[1]; }
LPSTORAGE_UNIT FileSystemGetStorageUnit(LPFILESYSTEM FileSystem)
{
    return ((struct mock_fs *)(LPVOID)FileSystem)->disk;
}
void mock_exos_mount(LPVOID disk, bool unused)
{
    for (unsigned i = 0; i < 8; i++)
        if (fs_objects[i].disk == NULL) {
            fs_objects[i].disk = (LPSTORAGE_UNIT)disk;
            list_link(&fs_lists[unused ? 1 : 0], (LPLISTNODE)&fs_objects[i]);
            return;
        }
    fail_msg("mock_exos_mount: too many file systems");
}
void mock_exos_unmount(LPVOID disk)
{
    for (unsigned i = 0; i < 8; i++)
        if (fs_objects[i].disk == (LPSTORAGE_UNIT)disk) {
            LPLIST l = &fs_lists[0];
            for (LPLISTNODE n = fs_lists[1].First; n != NULL; n = n->Next)
                if (n == (LPLISTNODE)&fs_objects[i])
                    l = &fs_lists[1];
            list_unlink(l, (LPLISTNODE)&fs_objects[i]);
            fs_objects[i].disk = NULL;
        }
}
BOOL FileSystemReady(void) { return mock_exos.fs_ready; }
BOOL MountDiskPartitions(LPSTORAGE_UNIT Disk, LPBOOT_PARTITION Partition, U32 Index)
{
    (void)Partition, (void)Index;
    mock_exos.mounts++;
    if (mock_exos.mutex_locks != mock_exos.mutex_unlocks)
        mock_exos.mounts_locked++;
    if (mock_exos.mount_reads) { /* as EXOS's (FileSystem.c): sector 0 */
        static U8 mbr[4096] __attribute__((aligned(4096)));
        IOCONTROL c;
        memset(&c, 0, sizeof(c));
        c.Disk = Disk;
        c.NumSectors = 1;
        c.Buffer = mbr;
        c.BufferSize = sizeof(mbr);
        mock_exos.mount_read_result = Disk->Driver->Command(DF_DISK_READ, (UINT)&c);
        return mock_exos.mount_read_result == DF_RETURN_SUCCESS;
    }
    return TRUE;
}
