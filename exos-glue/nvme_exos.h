/* SPDX-License-Identifier: MIT */
/*
 * nvme_exos.h - exos-glue: nvme-core as EXOS's NVMe driver.
 *
 *   nvme_exos_pci.c    PCI driver (class 01h/08h/02h): Attach brings the
 *                      controller up with the core and publishes one EXOS
 *                      disk per usable namespace.
 *   nvme_exos_disk.c   the disk DRIVER: DF_DISK_* translated to block calls
 *                      through `struct nvme_exos_blk_ops` (the core in the
 *                      kernel, a mock in the unit tests).
 *   nvme_exos_shell.c  the `nvmectl` shell command (shared front end).
 *
 * Registration in EXOS (see README): NVMeCorePCIDriver in PCI.c's driver
 * list, NVMeCoreGetDriver() in KernelData.c, CMD_nvmectl in COMMANDS[].
 */
#ifndef NVME_EXOS_H
#define NVME_EXOS_H

#include "nvme/nvme.h"
#include "exos_api.h"
#include "nvme_osal_exos.h"

#define NVME_EXOS_VER_MAJOR 2
#define NVME_EXOS_VER_MINOR 0

/* Controllers handled at most (the shell command looks them up here). */
#define NVME_EXOS_MAX_CTRL 4u
/* Bounce buffer for buffers the core cannot take directly (not dword
 * aligned or not mappable) and scratch buffer of nvmectl. */
#define NVME_EXOS_BOUNCE_BYTES (64u * 1024u)

/* What the disk layer needs from a block device: the core's calls, or a
 * mock.  Return values follow nvme.h (0, < 0 enum nvme_err, > 0 status). */
struct nvme_exos_blk_ops {
    int (*read)(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf);
    int (*write)(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf);
    int (*flush)(void *h, uint32_t nsid);
    int (*reset)(void *h);
    int (*set_read_only)(void *h, uint32_t nsid, bool ro);
};

/* One block device (a controller) as the disk layer sees it. */
struct nvme_exos_blk {
    const struct nvme_exos_blk_ops *ops;
    void *h;                 /* passed to ops (struct nvme_ctrl *) */
    bool write_through;      /* flush after each DF_DISK_WRITE (volatile cache present) */
    void *bounce;            /* NVME_EXOS_BOUNCE_BYTES, dword aligned */
    UINT bounce_bytes;
    MUTEX bounce_mutex;      /* one user of `bounce` at a time (tasks) */
    DRIVER driver;           /* the disk DRIVER shared by its disks */
};

/* EXOS disk object of one namespace. */
typedef struct tag_NVME_CORE_DISK {
    STORAGE_UNIT Header;
    struct nvme_exos_blk *Blk;
    U32 NamespaceId;
    U32 BytesPerSector;
    uint64_t NumSectors;
    U32 Access; /* DISK_ACCESS_* */
} NVME_CORE_DISK, *LPNVME_CORE_DISK;

/* Controller object handed back to EXOS's PCI layer.  PCI_DEVICE first, so
 * EXOS sees a PCI_DEVICE (its KOID, its list node). */
typedef struct tag_NVME_CORE_DEVICE {
    PCI_DEVICE Pci;
    struct nvme_exos_osal Osal;
    struct nvme_osal OsalOps;
    struct nvme_ctrl *Ctrl;
    struct nvme_exos_blk Blk;
    DMA_BUFFER Bounce;
    unsigned Index;  /* nvme<Index> */
    unsigned Disks;
} NVME_CORE_DEVICE, *LPNVME_CORE_DEVICE;

/* --- nvme_exos_disk.c ------------------------------------------------------ */

/* Fills blk->driver (DRIVER_TYPE_NVME_STORAGE, Command = NVMeCoreDiskCommands). */
void nvme_exos_blk_init(struct nvme_exos_blk *blk, const struct nvme_exos_blk_ops *ops, void *h,
                        void *bounce, UINT bounce_bytes, bool write_through);
/* Creates the disk object of one namespace (not yet listed). */
LPNVME_CORE_DISK nvme_exos_disk_create(struct nvme_exos_blk *blk, U32 nsid, U32 lba_size,
                                       uint64_t nsze, bool read_only);
/* DRVFUNC of the disks. */
UINT NVMeCoreDiskCommands(UINT Function, UINT Parameter);
/* nvme.h result -> DF_RETURN_*. */
UINT nvme_exos_df_result(int rc);
/* Serialises the users of a blk's bounce/scratch buffer. */
void nvme_exos_blk_lock(struct nvme_exos_blk *blk);
void nvme_exos_blk_unlock(struct nvme_exos_blk *blk);

/* --- nvme_exos_pci.c ---------------------------------------------------------- */

/* The block ops bound to the core (nvme_read, nvme_write, ...). */
extern const struct nvme_exos_blk_ops nvme_exos_core_ops;
extern PCI_DRIVER NVMeCorePCIDriver;
LPDRIVER NVMeCoreGetDriver(void);
/* Controller number `idx` (nvme<idx>), NULL when absent. */
LPNVME_CORE_DEVICE nvme_exos_controller(unsigned idx);
unsigned nvme_exos_controller_count(void);

/* --- nvme_exos_shell.c ----------------------------------------------------------- */

/* Shell entry: `nvmectl [nvmeN] <subcommand> [args]`. */
U32 CMD_nvmectl(LPSHELLCONTEXT Context);
/* The same with the argument text (what follows "nvmectl"). */
U32 nvme_exos_shell_run(LPCSTR arguments);

#endif /* NVME_EXOS_H */
