/* SPDX-License-Identifier: MIT */
/*
 * nvme_exos_disk.c - EXOS disk DRIVER of the nvme-core namespaces.
 *
 * DF_DISK_READ/WRITE reach the block ops with the namespace, the LBA
 * (SectorHigh:SectorLow) and the block count of the request.  The core
 * maps caller buffers itself, page by page (no size or contiguity limit),
 * but PRP entries must be dword aligned (NVMe 1.4 §4.3): a buffer that is
 * not, or that the OSAL cannot map, goes through the controller's bounce
 * buffer in pieces of NVME_EXOS_BOUNCE_BYTES.
 *
 * Access: DISK_ACCESS_DISABLE refuses reads and writes, DISK_ACCESS_READONLY
 * refuses writes (here, before the core, and in the core through
 * nvme_ns_set_read_only()).
 *
 * EXOS has no flush request and no shutdown hook for these drivers, so
 * with a volatile write cache each DF_DISK_WRITE ends with a Flush
 * (write_through): what the file system wrote survives a power cut.
 */
#include "nvme_exos.h"

/* Generic and command specific status codes the mapping distinguishes
 * (NVMe 1.4 Figures 126/127). */
#define SC_GENERIC_INVALID_NS 0x0b
#define SC_GENERIC_LBA_RANGE 0x80
#define SC_GENERIC_WRITE_PROTECTED 0x20
#define SC_CMD_READ_ONLY_RANGE 0x82
/* Retries of a command failed back by a controller reset or reported as
 * transient by the device. */

UINT nvme_exos_df_result(int rc)
{
    if (rc == 0)
        return DF_RETURN_SUCCESS;
    if (rc > 0) {
        unsigned sc = NVME_SF_SC((unsigned)rc), sct = NVME_SF_SCT((unsigned)rc);
        if (sct == NVME_SCT_GENERIC && (sc == SC_GENERIC_LBA_RANGE || sc == SC_GENERIC_INVALID_NS))
            return DF_RETURN_BAD_PARAMETER;
        if ((sct == NVME_SCT_GENERIC && sc == SC_GENERIC_WRITE_PROTECTED) ||
            (sct == NVME_SCT_COMMAND_SPECIFIC && sc == SC_CMD_READ_ONLY_RANGE))
            return DF_RETURN_NO_PERMISSION;
        return DF_RETURN_INPUT_OUTPUT;
    }
    switch (rc) {
    case NVME_ERR_INVAL:
    case NVME_ERR_RANGE:
    case NVME_ERR_NOENT:
    case NVME_ERR_ALIGN:
        return DF_RETURN_BAD_PARAMETER;
    case NVME_ERR_NOMEM:
        return DF_RETURN_NO_MEMORY;
    case NVME_ERR_RDONLY:
        return DF_RETURN_NO_PERMISSION;
    case NVME_ERR_GONE:
        return DF_RETURN_HARDWARE_ABSENT;
    case NVME_ERR_UNSUPPORTED:
        return DF_RETURN_NOT_IMPLEMENTED;
    default: /* timeout, fatal, busy, proto, dma, aborted, state */
        return DF_RETURN_INPUT_OUTPUT;
    }
}


void nvme_exos_blk_lock(struct nvme_exos_blk *blk)
{
    LockMutex(&blk->bounce_mutex, INFINITY);
}

void nvme_exos_blk_unlock(struct nvme_exos_blk *blk)
{
    UnlockMutex(&blk->bounce_mutex);
}

void nvme_exos_blk_init(struct nvme_exos_blk *blk, const struct nvme_exos_blk_ops *ops, void *h,
                        void *bounce, UINT bounce_bytes, bool write_through)
{
    MemorySet(blk, 0, sizeof(*blk));
    blk->ops = ops;
    blk->h = h;
    blk->bounce = bounce;
    blk->bounce_bytes = bounce_bytes;
    blk->write_through = write_through;
    InitMutex(&blk->bounce_mutex);

    blk->driver.TypeID = KOID_DRIVER;
    blk->driver.References = 1;
    blk->driver.Type = DRIVER_TYPE_NVME_STORAGE;
    blk->driver.VersionMajor = NVME_EXOS_VER_MAJOR;
    blk->driver.VersionMinor = NVME_EXOS_VER_MINOR;
    StringCopy(blk->driver.Designer, TEXT("nvme-core"));
    StringCopy(blk->driver.Manufacturer, TEXT("NVMe"));
    StringCopy(blk->driver.Product, TEXT("NVMe Disk (nvme-core)"));
    StringCopy(blk->driver.Alias, TEXT("nvme-disk"));
    blk->driver.Command = NVMeCoreDiskCommands;
    blk->driver.EnumDomainCount = 0;
}

LPNVME_CORE_DISK nvme_exos_disk_create(struct nvme_exos_blk *blk, U32 nsid, U32 lba_size,
                                       uint64_t nsze, bool read_only)
{
    LPNVME_CORE_DISK disk;

    if (blk == NULL || nsid == 0 || lba_size == 0 || nsze == 0)
        return NULL;
    disk = (LPNVME_CORE_DISK)CreateKernelObject(sizeof(NVME_CORE_DISK), KOID_DISK);
    if (disk == NULL)
        return NULL;
    disk->Header.Driver = &blk->driver;
    disk->Blk = blk;
    disk->NamespaceId = nsid;
    disk->BytesPerSector = lba_size;
    disk->NumSectors = nsze;
    disk->Access = read_only ? DISK_ACCESS_READONLY : 0;
    return disk;
}

/* The unit is ours only if its driver is: check that through the common
 * STORAGE_UNIT header before reading any field of NVME_CORE_DISK (a disk
 * of another driver is smaller). */
static LPNVME_CORE_DISK disk_of(LPSTORAGE_UNIT unit)
{
    if (unit == NULL || unit->TypeID != KOID_DISK || unit->Driver == NULL ||
        unit->Driver->Command != NVMeCoreDiskCommands)
        return NULL;
    LPNVME_CORE_DISK disk = (LPNVME_CORE_DISK)unit;
    return disk->Blk != NULL ? disk : NULL;
}

/* One block-ops call.  No retry here: the core already retried what may
 * be retried (statuses with DNR clear, replays after a reset) within its
 * budget; retrying again would multiply it (nvme.h, lifecycle rule 5). */
static int blk_xfer(LPNVME_CORE_DISK disk, bool write, uint64_t lba, U32 count, void *buf)
{
    const struct nvme_exos_blk_ops *ops = disk->Blk->ops;
    return write ? ops->write(disk->Blk->h, disk->NamespaceId, lba, count, buf)
                 : ops->read(disk->Blk->h, disk->NamespaceId, lba, count, buf);
}

/* Through the bounce buffer, in pieces. */
static int xfer_bounced(LPNVME_CORE_DISK disk, bool write, uint64_t lba, U32 count, U8 *buf)
{
    struct nvme_exos_blk *blk = disk->Blk;
    U32 per = (U32)(blk->bounce_bytes / disk->BytesPerSector);
    int rc = 0;

    if (blk->bounce == NULL || per == 0)
        return NVME_ERR_NOMEM;
    nvme_exos_blk_lock(blk);
    while (count != 0) {
        U32 n = count < per ? count : per;
        UINT bytes = (UINT)n * disk->BytesPerSector;
        if (write)
            MemoryCopy(blk->bounce, buf, bytes);
        rc = blk_xfer(disk, write, lba, n, blk->bounce);
        if (rc != 0)
            break;
        if (!write)
            MemoryCopy(buf, blk->bounce, bytes);
        buf += bytes;
        lba += n;
        count -= n;
    }
    nvme_exos_blk_unlock(blk);
    return rc;
}

static UINT disk_rw(LPIOCONTROL control, bool write)
{
    LPNVME_CORE_DISK disk;
    uint64_t lba;
    U32 count;
    int rc;

    if (control == NULL || control->Buffer == NULL)
        return DF_RETURN_BAD_PARAMETER;
    disk = disk_of(control->Disk);
    if (disk == NULL)
        return DF_RETURN_BAD_PARAMETER;
    count = control->NumSectors;
    lba = ((uint64_t)control->SectorHigh << 32) | control->SectorLow;
    if (count == 0 || (uint64_t)count * disk->BytesPerSector > control->BufferSize)
        return DF_RETURN_BAD_PARAMETER;
    if (lba >= disk->NumSectors || count > disk->NumSectors - lba)
        return DF_RETURN_BAD_PARAMETER;
    if ((disk->Access & DISK_ACCESS_DISABLE) != 0)
        return DF_RETURN_NO_PERMISSION;
    if (write && (disk->Access & DISK_ACCESS_READONLY) != 0)
        return DF_RETURN_NO_PERMISSION;

    if (((LINEAR)control->Buffer & 3u) == 0) {
        /* Zero copy: the core maps the caller's pages. */
        rc = blk_xfer(disk, write, lba, count, control->Buffer);
        if (rc == NVME_ERR_DMA || rc == NVME_ERR_ALIGN)
            rc = xfer_bounced(disk, write, lba, count, (U8 *)control->Buffer);
    } else {
        rc = xfer_bounced(disk, write, lba, count, (U8 *)control->Buffer);
    }
    if (rc == 0 && write && disk->Blk->write_through && disk->Blk->ops->flush != NULL)
        rc = disk->Blk->ops->flush(disk->Blk->h, disk->NamespaceId);
    if (rc != 0)
        KernelLogText(LOG_WARNING,
                      TEXT("[NVMeCoreDiskCommands] %s failed NSID=%u LBA=%x:%x count=%u rc=%d"),
                      write ? TEXT("Write") : TEXT("Read"), disk->NamespaceId,
                      (U32)(lba >> 32), (U32)lba, count, rc);
    return nvme_exos_df_result(rc);
}

static UINT disk_get_info(LPDISKINFO info)
{
    LPNVME_CORE_DISK disk;

    if (info == NULL)
        return DF_RETURN_BAD_PARAMETER;
    disk = disk_of(info->Disk);
    if (disk == NULL)
        return DF_RETURN_BAD_PARAMETER;
    info->Type = DRIVER_TYPE_NVME_STORAGE;
    info->Removable = 0;
    info->BytesPerSector = disk->BytesPerSector;
    info->NumSectors = U64_Make((U32)(disk->NumSectors >> 32), (U32)disk->NumSectors);
    info->Access = disk->Access;
    return DF_RETURN_SUCCESS;
}

static UINT disk_set_access(LPDISKACCESS access)
{
    LPNVME_CORE_DISK disk;
    int rc = 0;

    if (access == NULL)
        return DF_RETURN_BAD_PARAMETER;
    disk = disk_of(access->Disk);
    if (disk == NULL)
        return DF_RETURN_BAD_PARAMETER;
    if (disk->Blk->ops->set_read_only != NULL)
        rc = disk->Blk->ops->set_read_only(disk->Blk->h, disk->NamespaceId,
                                           (access->Access & DISK_ACCESS_READONLY) != 0);
    if (rc != 0)
        return nvme_exos_df_result(rc);
    disk->Access = access->Access;
    return DF_RETURN_SUCCESS;
}

static UINT disk_reset(LPSTORAGE_UNIT unit)
{
    LPNVME_CORE_DISK disk = disk_of(unit);
    if (disk == NULL)
        return DF_RETURN_BAD_PARAMETER;
    if (disk->Blk->ops->reset == NULL)
        return DF_RETURN_SUCCESS;
    return nvme_exos_df_result(disk->Blk->ops->reset(disk->Blk->h));
}

UINT NVMeCoreDiskCommands(UINT Function, UINT Parameter)
{
    switch (Function) {
    case DF_LOAD:
    case DF_UNLOAD:
        return DF_RETURN_SUCCESS;
    case DF_GET_VERSION:
        return MAKE_VERSION(NVME_EXOS_VER_MAJOR, NVME_EXOS_VER_MINOR);
    case DF_DISK_RESET:
        /* Parameter: the disk (as USBStorage.c takes it); resets the
         * controller behind it (nvme_ctrl_reset). */
        return disk_reset((LPSTORAGE_UNIT)Parameter);
    case DF_DISK_READ:
        return disk_rw((LPIOCONTROL)Parameter, false);
    case DF_DISK_WRITE:
        return disk_rw((LPIOCONTROL)Parameter, true);
    case DF_DISK_GETINFO:
        return disk_get_info((LPDISKINFO)Parameter);
    case DF_DISK_SETACCESS:
        return disk_set_access((LPDISKACCESS)Parameter);
    default:
        return DF_RETURN_NOT_IMPLEMENTED;
    }
}
