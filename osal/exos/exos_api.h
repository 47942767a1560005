/* SPDX-License-Identifier: MIT */
/*
 * exos_api.h - the part of the EXOS kernel API that osal/exos and
 * exos-glue use, and nothing more.
 *
 * Two modes, chosen by one macro:
 *
 *  - NVME_EXOS_NATIVE defined (set by exos-glue/nvme-core.mk inside EXOS's
 *    kernel build): EXOS's own headers are included.  The prototypes and
 *    constant checks at the end of this file are then compiled against the
 *    real declarations, so a change on the EXOS side (a parameter type, a
 *    DF_* value, a field) is a compile error in the EXOS build instead of a
 *    silent mismatch.
 *
 *  - otherwise (host unit tests, ctest compile checks, no EXOS sources at
 *    hand): the types, structures and constants below mirror EXOS's
 *    declarations (snapshot aac7ac84, 2026-04-08) as far as the shim uses
 *    them.  Structures EXOS packs are packed here too; fields the shim never
 *    touches are kept only where they change the layout.
 *
 * With NVME_EXOS_UNIT_TEST also defined, the x86 flag helpers (SaveFlags,
 * RestoreFlags, DisableInterrupts) become functions the tests provide.
 *
 * Include <stdint.h>/<stddef.h>/<stdbool.h> (nvme/nvme.h) before this
 * header: EXOS defines NULL as 0 when nobody did before.
 */
#ifndef NVME_EXOS_API_H
#define NVME_EXOS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef NVME_EXOS_NATIVE
/* ------------------------------------------------------------------ */
/* Inside EXOS: the real thing                                          */
/* ------------------------------------------------------------------ */
#include "Base.h"
#include "User.h"
#include "Arch.h"
#include "console/Console.h"
#include "core/Device.h"
#include "core/Driver.h"
#include "core/ID.h"
#include "core/Kernel.h"
#include "core/KernelData.h"
#include "drivers/bus/PCI.h"
#include "drivers/interrupts/DeviceInterrupt.h"
#include "drivers/interrupts/LocalAPIC.h"
#include "fs/Disk.h"
#include "fs/FileSystem.h"
#include "log/Log.h"
#include "memory/Heap.h"
#include "memory/Memory.h"
#include "process/Process.h"
#include "process/Task.h"
/* Shell-Shared.h pulls EXOS's built-in NVMe driver header, whose NVME_REG_*
 * and NVME_CC_* macros clash with nvme_spec.h: keep it out. */
#ifndef DRIVERS_NVME_CORE_H_INCLUDED
#define DRIVERS_NVME_CORE_H_INCLUDED
#endif
#include "shell/Shell-Shared.h"
#include "sync/DeferredWork.h"
#include "sync/Mutex.h"
#include "system/Clock.h"
#include "text/CoreString.h"
#include "utils/BusyWait.h"
#include "utils/DMABuffer.h"
#include "utils/List.h"

#else /* !NVME_EXOS_NATIVE */
/* ------------------------------------------------------------------ */
/* Outside EXOS: mirror of the declarations used                        */
/* ------------------------------------------------------------------ */

#if defined(__i386__)
#define __EXOS_32__
#elif defined(__x86_64__)
#define __EXOS_64__
#else
#error "EXOS runs on x86-32 and x86-64 only"
#endif

/* include/Base.h */
typedef unsigned char U8;
typedef signed char I8;
typedef unsigned short U16;
typedef signed short I16;
typedef unsigned int U32;
typedef signed int I32;
typedef unsigned long UINT;
typedef signed long INT;
#ifdef __EXOS_32__
typedef struct __attribute__((packed)) tag_U64 {
    U32 LO;
    U32 HI;
} U64;
static inline U64 U64_Make(U32 hi, U32 lo)
{
    U64 v;
    v.HI = hi;
    v.LO = lo;
    return v;
}
#else
typedef unsigned long long U64;
static inline U64 U64_Make(U32 hi, U32 lo) { return ((U64)hi << 32) | (U64)lo; }
#endif
typedef UINT LINEAR;
typedef UINT PHYSICAL;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef UINT BOOL;
typedef UINT HANDLE;
typedef U8 STR;
typedef const STR CSTR;
typedef STR *LPSTR;
typedef const STR *LPCSTR;
#define CONST const
#define PACKED __attribute__((packed))
#define DATA_SECTION __attribute__((section(".data")))
#define TEXT(a) ((LPCSTR)a)
#define FALSE ((BOOL)0)
#define TRUE ((BOOL)1)
#define UNUSED(x) (void)(x)
#define MAX_U32 ((U32)0xFFFFFFFF)
#define INFINITY MAX_U32
#define N_4KB ((UINT)0x00001000)
#define MAX_NAME 128
#define MAX_FS_LOGICAL_NAME 64
#define MAX_STRING_BUFFER 1024
#define MAX_PATH_NAME MAX_STRING_BUFFER
#define MAKE_VERSION(maj, min) ((U32)(((((U32)maj) & 0xFFFF) << 16) | (((U32)min) & 0xFFFF)))

#pragma pack(push, 1)

typedef struct tag_PROCESS PROCESS, *LPPROCESS;
typedef struct tag_TASK TASK, *LPTASK;

#define OBJECT_FIELDS                                                                              \
    UINT TypeID;                                                                                   \
    UINT References;                                                                               \
    U64 ID;                                                                                        \
    LPPROCESS OwnerProcess;

/* include/utils/List.h */
#define LISTNODE_FIELDS                                                                            \
    OBJECT_FIELDS                                                                                  \
    LPLISTNODE Next;                                                                               \
    LPLISTNODE Prev;                                                                               \
    LPLISTNODE Parent;
typedef struct tag_LISTNODE LISTNODE, *LPLISTNODE;
struct tag_LISTNODE {
    LISTNODE_FIELDS
};
typedef LPVOID (*MEMALLOCFUNC)(UINT);
typedef void (*MEMFREEFUNC)(LPVOID);
typedef LPVOID (*MEMALLOCCONTEXTFUNC)(LPVOID, UINT);
typedef void (*MEMFREECONTEXTFUNC)(LPVOID, LPVOID);
typedef void (*LISTITEMDESTRUCTOR)(LPVOID);
typedef struct tag_LIST {
    LPLISTNODE First;
    LPLISTNODE Last;
    LPLISTNODE Current;
    UINT NumItems;
    LPVOID MemoryContext;
    MEMALLOCFUNC MemAllocFunc;
    MEMFREEFUNC MemFreeFunc;
    MEMALLOCCONTEXTFUNC MemAllocContextFunc;
    MEMFREECONTEXTFUNC MemFreeContextFunc;
    LISTITEMDESTRUCTOR Destructor;
} LIST, *LPLIST;

/* include/core/ID.h */
#define KOID_MUTEX 0x4D555458
#define KOID_DRIVER 0x52565244
#define KOID_PCIDEVICE 0x44494350
#define KOID_DISK 0x4B534944

/* include/sync/Mutex.h */
struct tag_MUTEX {
    LISTNODE_FIELDS
    LPPROCESS Owner;
    LPPROCESS Process;
    LPTASK Task;
    U32 DebugClass;
    LPCSTR DebugName;
    UINT Lock;
};
typedef struct tag_MUTEX MUTEX, *LPMUTEX;

/* include/process/Task.h, Process.h */
typedef struct tag_TASK_SCHEDULER_STATE {
    U32 Status;
    UINT WakeUpTime;
    BOOL Suspended;
} TASK_SCHEDULER_STATE, *LPTASK_SCHEDULER_STATE;
#define TASK_STATUS_DEAD 0xFF

/* include/Base.h */
typedef struct tag_DATETIME {
    U32 Year : 26;
    U32 Month : 4;
    U32 Day : 6;
    U32 Hour : 6;
    U32 Minute : 6;
    U32 Second : 6;
    U32 Milli : 10;
} DATETIME, *LPDATETIME;

/* include/core/DriverEnum.h */
#define DRIVER_ENUM_MAX_DOMAINS 8

/* include/core/Driver.h */
#define DRIVER_TYPE_NVME_STORAGE 0x00000019
typedef UINT (*DRVFUNC)(UINT Function, UINT Parameter);
#define DRIVER_FIELDS                                                                              \
    U32 Type;                                                                                      \
    U32 VersionMajor;                                                                              \
    U32 VersionMinor;                                                                              \
    STR Designer[MAX_NAME];                                                                        \
    STR Manufacturer[MAX_NAME];                                                                    \
    STR Product[MAX_NAME];                                                                         \
    STR Alias[MAX_NAME];                                                                           \
    U32 Flags;                                                                                     \
    DRVFUNC Command;                                                                               \
    LPVOID CustomData;                                                                             \
    UINT EnumDomainCount;                                                                          \
    UINT EnumDomains[DRIVER_ENUM_MAX_DOMAINS];
typedef struct tag_DRIVER {
    LISTNODE_FIELDS
    DRIVER_FIELDS
} DRIVER, *LPDRIVER;

/* include/core/Device.h */
#define DEVICE_FIELDS                                                                              \
    LISTNODE_FIELDS                                                                                \
    MUTEX Mutex;                                                                                   \
    LPDRIVER Driver;                                                                               \
    LIST Contexts;                                                                                 \
    STR Name[MAX_FS_LOGICAL_NAME];
typedef struct tag_DEVICE {
    DEVICE_FIELDS
} DEVICE, *LPDEVICE;

/* include/User.h */
#define DF_LOAD 0x0000
#define DF_UNLOAD 0x0001
#define DF_GET_VERSION 0x0002
#define DF_GET_LAST_FUNCTION 0x0004
#define DF_PROBE 0x0005
#define DF_FIRST_FUNCTION 0x1000
#define DF_RETURN_SUCCESS 0x00000000
#define DF_RETURN_NOT_IMPLEMENTED 0x00000001
#define DF_RETURN_BAD_PARAMETER 0x00000002
#define DF_RETURN_NO_MEMORY 0x00000003
#define DF_RETURN_UNEXPECTED 0x00000004
#define DF_RETURN_INPUT_OUTPUT 0x00000005
#define DF_RETURN_NO_PERMISSION 0x00000006
#define DF_RETURN_HARDWARE_ABSENT 0x00000008

/* include/drivers/bus/PCI.h */
#define PCI_ANY_ID 0xFFFF
#define PCI_ANY_CLASS 0xFF
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_BAR0 0x10
#define PCI_CFG_BAR1 0x14
#define PCI_CMD_MEM 0x0002
#define PCI_CMD_BUSMASTER 0x0004
#define PCI_CMD_INT_DISABLE 0x0400
#define PCI_BAR_MEM_MASK 0xFFFFFFF0U
#define PCI_BAR_IS_IO(bar) (((bar)&0x1U) != 0)
#define PCI_CAP_ID_MSIX 0x11
typedef struct tag_DRIVER_MATCH {
    U16 VendorID;
    U16 DeviceID;
    U8 BaseClass;
    U8 SubClass;
    U8 ProgIF;
} DRIVER_MATCH, *LPDRIVER_MATCH;
typedef struct tag_PCI_INFO {
    U8 Bus;
    U8 Dev;
    U8 Func;
    U16 VendorID;
    U16 DeviceID;
    U8 BaseClass;
    U8 SubClass;
    U8 ProgIF;
    U8 Revision;
    U32 BAR[6];
    U8 IRQLine;
    U8 IRQLegacyPin;
} PCI_INFO, *LPPCI_INFO;
#define PCI_DEVICE_FIELDS                                                                          \
    DEVICE_FIELDS                                                                                  \
    PCI_INFO Info;                                                                                 \
    U32 BARPhys[6];                                                                                \
    volatile LPVOID BARMapped[6];
typedef struct tag_PCI_DEVICE {
    PCI_DEVICE_FIELDS
} PCI_DEVICE, *LPPCI_DEVICE;
typedef struct tag_PCI_DRIVER {
    LISTNODE_FIELDS
    DRIVER_FIELDS
    const DRIVER_MATCH *Matches;
    U32 MatchCount;
    LPPCI_DEVICE (*Attach)(LPPCI_DEVICE PciDevice);
} PCI_DRIVER, *LPPCI_DRIVER;

/* include/fs/Disk.h */
#define DF_DISK_RESET (DF_FIRST_FUNCTION + 0)
#define DF_DISK_READ (DF_FIRST_FUNCTION + 1)
#define DF_DISK_WRITE (DF_FIRST_FUNCTION + 2)
#define DF_DISK_GETINFO (DF_FIRST_FUNCTION + 3)
#define DF_DISK_SETACCESS (DF_FIRST_FUNCTION + 4)
#define DISK_ACCESS_DISABLE 0x0001
#define DISK_ACCESS_READONLY 0x0002
typedef struct tag_STORAGE_UNIT {
    LISTNODE_FIELDS
    LPDRIVER Driver;
} STORAGE_UNIT, *LPSTORAGE_UNIT;
typedef struct tag_IOCONTROL {
    LISTNODE_FIELDS
    LPSTORAGE_UNIT Disk;
    U32 SectorLow;
    U32 SectorHigh;
    U32 NumSectors;
    LPVOID Buffer;
    U32 BufferSize;
} IOCONTROL, *LPIOCONTROL;
typedef struct tag_DISKINFO {
    LISTNODE_FIELDS
    LPSTORAGE_UNIT Disk;
    U32 Type;
    U32 Removable;
    U32 BytesPerSector;
    U64 NumSectors;
    U32 Access;
} DISKINFO, *LPDISKINFO;
typedef struct tag_DISKACCESS {
    LISTNODE_FIELDS
    LPSTORAGE_UNIT Disk;
    U32 Access;
} DISKACCESS, *LPDISKACCESS;

/* include/fs/FileSystem.h (opaque here) */
typedef struct tag_BOOT_PARTITION BOOT_PARTITION, *LPBOOT_PARTITION;

/* include/utils/DMABuffer.h */
typedef struct tag_DMA_BUFFER {
    LINEAR LinearBase;
    PHYSICAL PhysicalBase;
    UINT Size;
    UINT AllocatedSize;
    BOOL IsContiguous;
} DMA_BUFFER, *LPDMA_BUFFER;

#pragma pack(pop)

/* include/log/Log.h */
#define LOG_DEBUG 0x0001
#define LOG_VERBOSE 0x0002
#define LOG_WARNING 0x0004
#define LOG_ERROR 0x0008
#define LOG_TEST 0x0010

/* include/drivers/interrupts/DeviceInterrupt.h (not packed) */
#define DEVICE_INTERRUPT_VECTOR_BASE 48
#define DEVICE_INTERRUPT_INVALID_SLOT 0xFFU
typedef BOOL (*DEVICE_INTERRUPT_ISR)(LPDEVICE Device, LPVOID Context);
typedef void (*DEVICE_INTERRUPT_BOTTOM_HALF)(LPDEVICE Device, LPVOID Context);
typedef void (*DEVICE_INTERRUPT_POLL)(LPDEVICE Device, LPVOID Context);
typedef struct tag_DEVICE_INTERRUPT_REGISTRATION {
    LPDEVICE Device;
    U8 LegacyIRQ;
    U8 TargetCPU;
    DEVICE_INTERRUPT_ISR InterruptHandler;
    DEVICE_INTERRUPT_BOTTOM_HALF DeferredCallback;
    DEVICE_INTERRUPT_POLL PollCallback;
    LPVOID Context;
    LPCSTR Name;
} DEVICE_INTERRUPT_REGISTRATION, *LPDEVICE_INTERRUPT_REGISTRATION;
U8 DeviceInterruptGetSlotCount(void);
/* EXOS defines this one inline the same way: vector 48 + slot, slot
 * clamped to the slot count. */
static inline U8 GetDeviceInterruptVector(U8 Slot)
{
    U8 count = DeviceInterruptGetSlotCount();
    if (count == 0U)
        count = 1U;
    if (Slot >= count)
        Slot = (U8)(count - 1U);
    return (U8)(DEVICE_INTERRUPT_VECTOR_BASE + Slot);
}

/* include/sync/DeferredWork.h: registration returns a U32 handle up to
 * aac7ac84, a token after it (dev/next 00ac5475); NVME_EXOS_MIRROR_TOKEN
 * mirrors the latter (ctest exos_compile_shim_*_token). */
typedef void (*DEFERRED_WORK_POLL_CALLBACK)(LPVOID Context);
#ifdef NVME_EXOS_MIRROR_TOKEN
typedef struct tag_DEFERRED_WORK_TOKEN {
    U32 QueueID;
    U32 SlotID;
} DEFERRED_WORK_TOKEN;
#else
#define DEFERRED_WORK_INVALID_HANDLE 0xFFFFFFFFU
#endif

/* include/core/Driver.h */
#define DRIVER_FLAG_READY 0x00000001

/* include/shell/Shell-Shared.h: only the leading fields the shim reads
 * (the command line and the parse position); the real structure goes on. */
typedef struct tag_SHELLINPUTSTATE {
    STR CommandLine[MAX_PATH_NAME];
} SHELLINPUTSTATE, *LPSHELLINPUTSTATE;
typedef struct tag_SHELLCONTEXT {
    U32 Component;
    U32 CommandChar;
    SHELLINPUTSTATE Input;
} SHELLCONTEXT, *LPSHELLCONTEXT;

/* include/arch/x86-32/x86-32.h and x86-64/x86-64.h: flag helpers (macros in EXOS) */
#ifdef NVME_EXOS_UNIT_TEST
void ExosTestSaveFlags(UINT *Flags);
void ExosTestRestoreFlags(UINT *Flags);
void ExosTestDisableInterrupts(void);
#define SaveFlags(Flags) ExosTestSaveFlags(Flags)
#define RestoreFlags(Flags) ExosTestRestoreFlags(Flags)
#define DisableInterrupts() ExosTestDisableInterrupts()
#else
#define DisableInterrupts() __asm__ __volatile__("cli" : : : "memory")
#define SaveFlags(Flags)                                                                           \
    do {                                                                                           \
        UINT saved_flags_;                                                                         \
        __asm__ __volatile__("pushf\n\tpop %0" : "=r"(saved_flags_) : : "memory");                 \
        *(Flags) = saved_flags_;                                                                   \
    } while (0)
#define RestoreFlags(Flags)                                                                        \
    do {                                                                                           \
        UINT restored_flags_ = *(Flags);                                                           \
        __asm__ __volatile__("push %0\n\tpopf" : : "r"(restored_flags_) : "memory", "cc");         \
    } while (0)
#endif

/* include/Base.h (kernel part) */
void ConsolePrint(LPCSTR Format, ...);

/* fs/FileSystem.h, core/KernelData.h: a file system is opaque to the glue
 * (it only asks which disk one uses); the kernel's mutex guards the disk
 * list. */
typedef struct tag_FILESYSTEM FILESYSTEM, *LPFILESYSTEM;
extern MUTEX KernelMutex;
#define MUTEX_KERNEL (&KernelMutex)

#endif /* NVME_EXOS_NATIVE */

/* ------------------------------------------------------------------ */
/* Both modes: every EXOS function the shim calls, with EXOS's exact    */
/* prototype.  In a native build these redeclare EXOS's own; a drift is */
/* a "conflicting types" error there.                                   */
/* ------------------------------------------------------------------ */

/* drivers/bus/PCI.h */
U32 PCI_Read32(U8 bus, U8 dev, U8 func, U16 off);
void PCI_Write32(U8 bus, U8 dev, U8 func, U16 off, U32 value);
U16 PCI_Read16(U8 bus, U8 dev, U8 func, U16 off);
void PCI_Write16(U8 bus, U8 dev, U8 func, U16 off, U16 value);
U16 PCI_EnableBusMaster(U8 bus, U8 dev, U8 func, BOOL enable);
U32 PCI_GetBARBase(U8 bus, U8 dev, U8 func, U8 barIndex);
U32 PCI_GetBARSize(U8 bus, U8 dev, U8 func, U8 barIndex);
U8 PCI_FindCapability(U8 bus, U8 dev, U8 func, U8 capId);
/* memory/Memory.h, memory/Heap.h */
LINEAR MapIOMemory(PHYSICAL PhysicalBase, UINT Size);
BOOL UnMapIOMemory(LINEAR LinearBase, UINT Size);
PHYSICAL MapLinearToPhysical(LINEAR Address);
LPVOID KernelHeapAlloc(UINT Size);
void KernelHeapFree(LPVOID Pointer);
/* utils/DMABuffer.h */
BOOL DMABufferAllocate(LPDMA_BUFFER Buffer, UINT Size, BOOL RequireContiguous, LPCSTR Tag);
void DMABufferRelease(LPDMA_BUFFER Buffer);
/* drivers/interrupts/DeviceInterrupt.h, LocalAPIC.h, sync/DeferredWork.h */
BOOL DeviceInterruptRegister(const DEVICE_INTERRUPT_REGISTRATION *Registration, U8 *AssignedSlot);
BOOL DeviceInterruptUnregister(U8 Slot);
U8 GetLocalAPICId(void);
BOOL DeferredWorkIsPollingMode(void);
/* EXOS after aac7ac84 (dev/next 00ac5475, 2026-04-17) returns a
 * DEFERRED_WORK_TOKEN {QueueID, SlotID} instead of a U32 handle and has no
 * DEFERRED_WORK_INVALID_HANDLE any more (DeferredWorkTokenIsValid instead).
 * NVME_EXOS_DEFERRED_TOKEN says which of the two the headers declare. */
#ifndef DEFERRED_WORK_INVALID_HANDLE
#define NVME_EXOS_DEFERRED_TOKEN 1
DEFERRED_WORK_TOKEN DeferredWorkRegisterPollOnly(DEFERRED_WORK_POLL_CALLBACK PollCallback,
                                                 LPVOID Context, LPCSTR Name);
BOOL DeferredWorkTokenIsValid(DEFERRED_WORK_TOKEN Token);
#else
#define NVME_EXOS_DEFERRED_TOKEN 0
U32 DeferredWorkRegisterPollOnly(DEFERRED_WORK_POLL_CALLBACK PollCallback, LPVOID Context,
                                 LPCSTR Name);
#endif
/* system/Clock.h, utils/BusyWait.h */
UINT GetSystemTime(void);
BOOL GetLocalTime(LPDATETIME Time);
void BusyWaitMilliseconds(UINT Milliseconds);
UINT BusyWaitGetLoopsPerMillisecond(void);
/* sync/Mutex.h */
void InitMutex(LPMUTEX Mutex);
UINT LockMutex(LPMUTEX Mutex, UINT Timeout);
BOOL UnlockMutex(LPMUTEX Mutex);
/* process/Task.h: a task's state without taking its mutex (FALSE: no
 * task there) */
BOOL GetTaskSchedulerState(LPTASK Task, LPTASK_SCHEDULER_STATE State);
/* process/Task.h: the calling task sleeps (others run) */
void Sleep(U32 MilliSeconds);
/* log/Log.h.  Its %d and %i read an INT (64 bits on x86-64), %u and %x
 * a UINT: pass (INT) for a signed value, or a negative int prints as
 * 4294967285. */
void KernelLogText(U32, LPCSTR, ...);
/* text/CoreString.h */
void MemorySet(LPVOID Destination, UINT What, UINT Size);
void MemoryCopy(LPVOID Destination, LPCVOID Source, UINT Size);
void StringCopy(LPSTR Dst, LPCSTR Src);
/* core/Kernel.h, core/KernelData.h, utils/List.h */
LPVOID CreateKernelObject(UINT Size, U32 ObjectTypeID);
void ReleaseKernelObject(LPVOID Object);
LPLIST GetDiskList(void);
U32 ListAddItem(LPLIST List, LPVOID Item);
LPVOID ListRemove(LPLIST List, LPVOID Item);
/* fs/FileSystem.h (the last three: a retired disk withdrawn from the disk
 * list once no file system uses it, nvme_exos_pci.c) */
BOOL MountDiskPartitions(LPSTORAGE_UNIT, LPBOOT_PARTITION, U32);
BOOL FileSystemReady(void);
LPLIST GetFileSystemList(void);
LPLIST GetUnusedFileSystemList(void);
LPSTORAGE_UNIT FileSystemGetStorageUnit(LPFILESYSTEM FileSystem);
/* console/Console.h */
void ConsolePrint(LPCSTR Format, ...);
BOOL ConsoleGetPagingActive(void);

/* Constants the shim depends on: checked against EXOS's values in a
 * native build (and trivially true in the mirror). */
_Static_assert(DF_DISK_READ == 0x1001 && DF_DISK_WRITE == 0x1002 && DF_DISK_GETINFO == 0x1003 &&
                   DF_DISK_SETACCESS == 0x1004 && DF_DISK_RESET == 0x1000,
               "EXOS disk function codes moved");
_Static_assert(DF_RETURN_SUCCESS == 0 && DF_RETURN_BAD_PARAMETER == 2 && DF_RETURN_NO_MEMORY == 3 &&
                   DF_RETURN_INPUT_OUTPUT == 5 && DF_RETURN_NO_PERMISSION == 6 &&
                   DF_RETURN_HARDWARE_ABSENT == 8 && DF_RETURN_NOT_IMPLEMENTED == 1,
               "EXOS return codes moved");
_Static_assert(DISK_ACCESS_DISABLE == 1 && DISK_ACCESS_READONLY == 2,
               "EXOS disk access bits moved");
_Static_assert(DEVICE_INTERRUPT_INVALID_SLOT == 0xFF, "EXOS invalid slot moved");
_Static_assert(DRIVER_FLAG_READY == 1, "EXOS driver flag moved");
_Static_assert(TASK_STATUS_DEAD == 0xFF, "EXOS dead task status moved");
#if !NVME_EXOS_DEFERRED_TOKEN
_Static_assert(DEFERRED_WORK_INVALID_HANDLE == 0xFFFFFFFFU, "EXOS deferred-work handle moved");
#endif
_Static_assert(sizeof(((IOCONTROL *)0)->SectorLow) == 4 &&
                   sizeof(((IOCONTROL *)0)->NumSectors) == 4,
               "EXOS IOCONTROL fields changed");
_Static_assert(sizeof(PHYSICAL) == sizeof(void *), "PHYSICAL is pointer sized");

#if defined(NVME_EXOS_UNIT_TEST) && !defined(NVME_EXOS_NATIVE)
/* Unit tests: KernelLogText and ConsolePrint pass the mock the class of each argument
 * (the format first), so that it checks them against what EXOS's
 * formatter reads (kernel/source/text/CoreString.c): a UINT or INT ('W')
 * for %d %i %u %x %X %o %b %c and a '*' width or precision, a U32 ('I')
 * with the 'l' qualifier, a pointer ('P') for %s and %p.  A U32 given for
 * %u is read as 64 bits on x86-64: right while in a register, garbage in
 * its upper half once on the stack (past the sixth argument).  A uint64_t
 * is an unsigned long here too: not told from a UINT. */
void ExosTestLogText(U32 Type, const char *Classes, LPCSTR Format, ...);
#define NVME_EXOS_LOG_CLASS(x)                                                                     \
    _Generic((x), unsigned long                                                                    \
             : 'W', long                                                                           \
             : 'W', unsigned long long                                                             \
             : 'Q', long long                                                                      \
             : 'Q', unsigned int                                                                   \
             : 'I', int                                                                            \
             : 'I', _Bool                                                                          \
             : 's', char                                                                           \
             : 's', signed char                                                                    \
             : 's', unsigned char                                                                  \
             : 's', short                                                                          \
             : 's', unsigned short                                                                 \
             : 's', default                                                                        \
             : 'P')
#define NVME_EXOS_LC_N(...)                                                                        \
    NVME_EXOS_LC_N_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define NVME_EXOS_LC_N_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, n,  \
                        ...)                                                                       \
    n
#define NVME_EXOS_LC_CAT(a, b) NVME_EXOS_LC_CAT_(a, b)
#define NVME_EXOS_LC_CAT_(a, b) a##b
#define NVME_EXOS_LC_1(x) NVME_EXOS_LOG_CLASS(x)
#define NVME_EXOS_LC_2(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_1(__VA_ARGS__)
#define NVME_EXOS_LC_3(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_2(__VA_ARGS__)
#define NVME_EXOS_LC_4(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_3(__VA_ARGS__)
#define NVME_EXOS_LC_5(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_4(__VA_ARGS__)
#define NVME_EXOS_LC_6(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_5(__VA_ARGS__)
#define NVME_EXOS_LC_7(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_6(__VA_ARGS__)
#define NVME_EXOS_LC_8(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_7(__VA_ARGS__)
#define NVME_EXOS_LC_9(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_8(__VA_ARGS__)
#define NVME_EXOS_LC_10(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_9(__VA_ARGS__)
#define NVME_EXOS_LC_11(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_10(__VA_ARGS__)
#define NVME_EXOS_LC_12(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_11(__VA_ARGS__)
#define NVME_EXOS_LC_13(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_12(__VA_ARGS__)
#define NVME_EXOS_LC_14(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_13(__VA_ARGS__)
#define NVME_EXOS_LC_15(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_14(__VA_ARGS__)
#define NVME_EXOS_LC_16(x, ...) NVME_EXOS_LOG_CLASS(x), NVME_EXOS_LC_15(__VA_ARGS__)
#define KernelLogText(Type, ...)                                                                   \
    ExosTestLogText(                                                                               \
        (Type),                                                                                    \
        (const char[]){NVME_EXOS_LC_CAT(NVME_EXOS_LC_, NVME_EXOS_LC_N(__VA_ARGS__))(__VA_ARGS__),  \
                       0},                                                                         \
        __VA_ARGS__)
void ExosTestConsolePrint(const char *Classes, LPCSTR Format, ...);
#define ConsolePrint(...)                                                                          \
    ExosTestConsolePrint(                                                                          \
        (const char[]){NVME_EXOS_LC_CAT(NVME_EXOS_LC_, NVME_EXOS_LC_N(__VA_ARGS__))(__VA_ARGS__),  \
                       0},                                                                         \
        __VA_ARGS__)
#endif

#endif /* NVME_EXOS_API_H */
