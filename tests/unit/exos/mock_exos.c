/* SPDX-License-Identifier: MIT */
/* mock_exos.c - see mock_exos.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_exos.h"

struct mock_exos mock_exos;

void mock_exos_reset(void)
{
    memset(&mock_exos, 0, sizeof(mock_exos));
    mock_exos.eflags = 0x200;
    mock_exos.apic_id = 0;
}

/* PCI: a flat little-endian config space */
U32 PCI_Read32(U8 bus, U8 dev, U8 func, U16 off)
{
    U32 v;
    (void)bus, (void)dev, (void)func;
    memcpy(&v, &mock_exos.cfg[off & 0xfc], 4);
    return v;
}
void PCI_Write32(U8 bus, U8 dev, U8 func, U16 off, U32 value)
{
    (void)bus, (void)dev, (void)func;
    memcpy(&mock_exos.cfg[off & 0xfc], &value, 4);
}
U16 PCI_Read16(U8 bus, U8 dev, U8 func, U16 off)
{
    U16 v;
    (void)bus, (void)dev, (void)func;
    memcpy(&v, &mock_exos.cfg[off & 0xfe], 2);
    return v;
}
void PCI_Write16(U8 bus, U8 dev, U8 func, U16 off, U16 value)
{
    (void)bus, (void)dev, (void)func;
    memcpy(&mock_exos.cfg[off & 0xfe], &value, 2);
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
U32 PCI_GetBARSize(U8 bus, U8 dev, U8 func, U8 barIndex)
{
    (void)bus, (void)dev, (void)func, (void)barIndex;
    return 0x4000;
}
U8 PCI_FindCapability(U8 bus, U8 dev, U8 func, U8 capId)
{
    (void)bus, (void)dev, (void)func;
    return capId == PCI_CAP_ID_MSIX ? mock_exos.msix_cap : 0;
}

/* Memory */
LINEAR MapIOMemory(PHYSICAL PhysicalBase, UINT Size)
{
    (void)PhysicalBase, (void)Size;
    mock_exos.ioremaps++;
    return mock_exos.ioremap_base;
}
BOOL UnMapIOMemory(LINEAR LinearBase, UINT Size)
{
    (void)LinearBase, (void)Size;
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
    void *p = malloc(Size);
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
    mock_exos.deferred_poll = PollCallback;
    mock_exos.deferred_ctx = Context;
    return 3;
}

/* Flags */
void ExosTestSaveFlags(UINT *Flags) { *Flags = mock_exos.eflags; }
void ExosTestRestoreFlags(UINT *Flags) { mock_exos.eflags = *Flags; }
void ExosTestDisableInterrupts(void) { mock_exos.eflags &= ~(UINT)0x200; }

/* Time */
UINT GetSystemTime(void) { return mock_exos.sys_ms; }
void BusyWaitMilliseconds(UINT Milliseconds) { mock_exos.busy_ms += Milliseconds; }
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
    if (Timeout != INFINITY && Mutex->Task != NULL)
        return 0;
    return ++mock_exos.mutex_locks;
}
BOOL UnlockMutex(LPMUTEX Mutex)
{
    (void)Mutex;
    mock_exos.mutex_unlocks++;
    return TRUE;
}

/* Log, console */
void KernelLogText(U32 Type, LPCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    vsnprintf(mock_exos.last_log, sizeof(mock_exos.last_log), (const char *)Format, ap);
    va_end(ap);
    mock_exos.last_log_type = Type;
    mock_exos.log_count++;
}
void ConsolePrint(LPCSTR Format, ...)
{
    size_t used = strlen(mock_exos.console);
    va_list ap;
    va_start(ap, Format);
    vsnprintf(mock_exos.console + used, sizeof(mock_exos.console) - used, (const char *)Format, ap);
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
static LIST disk_list;
LPLIST GetDiskList(void) { return &disk_list; }
U32 ListAddItem(LPLIST List, LPVOID Item)
{
    (void)List;
    if (mock_exos.disk_count >= MOCK_MAX_DISKS)
        return 0;
    mock_exos.disks[mock_exos.disk_count++] = Item;
    return 1;
}
BOOL FileSystemReady(void) { return mock_exos.fs_ready; }
BOOL MountDiskPartitions(LPSTORAGE_UNIT Disk, LPBOOT_PARTITION Partition, U32 Index)
{
    (void)Disk, (void)Partition, (void)Index;
    mock_exos.mounts++;
    return TRUE;
}
