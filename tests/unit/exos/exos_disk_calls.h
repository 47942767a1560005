/* SPDX-License-Identifier: MIT */
/*
 * exos_disk_calls.h - the calls EXOS makes to a published disk's driver,
 * as the EXOS shim's tests make them (test_exos_disk.c, test_exos_pci.c,
 * test_exos_nvmectl.c).
 */
#ifndef EXOS_DISK_CALLS_H
#define EXOS_DISK_CALLS_H

#include <string.h>

#include "nvme_exos.h"

/* DF_DISK_SETACCESS: `access` (DISK_ACCESS_*) asked for `disk`. */
static inline UINT set_access(LPVOID disk, U32 access)
{
    DISKACCESS a;
    memset(&a, 0, sizeof(a));
    a.Disk = (LPSTORAGE_UNIT)disk;
    a.Access = access;
    return NVMeCoreDiskCommands(DF_DISK_SETACCESS, (UINT)&a);
}

/* DF_DISK_GETINFO of `disk` into *info. */
static inline UINT get_info(LPVOID disk, DISKINFO *info)
{
    memset(info, 0, sizeof(*info));
    info->Disk = (LPSTORAGE_UNIT)disk;
    return NVMeCoreDiskCommands(DF_DISK_GETINFO, (UINT)info);
}

#endif
