/* SPDX-License-Identifier: MIT */
/*
 * nvme_exos_pcicfg.h - PCI configuration space on EXOS: sizing a BAR the
 * way the PCI Local Bus spec asks, which EXOS's PCI_GetBARSize does not.
 */
#ifndef NVME_EXOS_PCICFG_H
#define NVME_EXOS_PCICFG_H

#include <stdbool.h>
#include <stdint.h>

#include "exos_api.h"

/* Command register bits (PCI 3.0 §6.2.2) EXOS's headers may not name. */
#define NVME_PCI_CMD_IO 0x0001u
#define NVME_PCI_CMD_MEM 0x0002u
/* MSI capability (PCI 3.0 §6.8.1) and its Message Control's MSI Enable. */
#define NVME_PCI_CAP_ID_MSI 0x05u
#define NVME_PCI_MSI_ENABLE 0x0001u
#define NVME_PCI_MSIX_ENABLE 0x8000u

/* One BAR as the device reports it (PCI 3.0 §6.2.5.1). */
struct nvme_exos_bar {
    uint64_t base; /* address bits, both halves of a 64-bit BAR */
    uint64_t size; /* 0: not implemented */
    bool io;       /* I/O space: not sized, base and size 0 */
    bool is64;     /* 64-bit memory BAR: takes registers bir and bir + 1 */
};

/* Reads and sizes BAR `bir` (0-5) of bus/dev/func.  False when the BAR
 * cannot be used for memory: I/O space, a 64-bit BAR in BAR5 (no upper
 * register), or no size.  Memory and I/O decode are off while the BAR
 * holds all ones, then restored, with interrupts off throughout. */
bool nvme_exos_bar_probe(U8 bus, U8 dev, U8 func, unsigned bir, struct nvme_exos_bar *out);

/* Command register read-modify-write (PCI 3.0 §6.2.2): clears `clear`,
 * sets `set`, returns the value found.  Interrupts are off from the read
 * to the write, so no task EXOS switches to (one CPU) changes the register
 * in between and has its change undone, and the write goes as a dword
 * with the Status half zero: EXOS's PCI_Write16 writes back the Status it
 * read, and so clears the error bits the device set (RW1C, §6.2.3). */
U16 nvme_exos_pci_command_update(U8 bus, U8 dev, U8 func, U16 set, U16 clear);

/* Turns off MSI and MSI-X (their Message Control's Enable bit, PCI 3.0
 * §6.8.1.3, §6.8.2.3) where a previous owner of the function left them
 * on, as Linux does when it finds a device (pci_msi_init, pci_msix_init):
 * its messages would name that owner's address and vectors, which EXOS
 * may have given another device since.  The OSAL enables MSI-X again for
 * the vectors it grants (nvme_osal_exos.c). */
void nvme_exos_pci_msi_off(U8 bus, U8 dev, U8 func);

#endif /* NVME_EXOS_PCICFG_H */
