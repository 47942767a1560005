/* SPDX-License-Identifier: MIT */
/*
 * nvme_exos_pcicfg.c - PCI config space on EXOS: BAR sizing and the
 * Command register (nvme_exos_pcicfg.h).
 *
 * PCI Local Bus 3.0 §6.2.5.1: software sizes a BAR by writing all ones to
 * it and reading back which address bits stuck; decode must be off in the
 * Command register (Memory Space, I/O Space: bits 1 and 0) while it does,
 * or the device answers at whatever address the all-ones pattern names,
 * over memory or another device's registers.  EXOS's PCI_GetBARSize
 * leaves decode on (and gives only the low 32 bits of a 64-bit BAR's
 * size), so this file sizes BARs itself.
 *
 * Interrupts stay off for the whole sequence.  EXOS runs on one CPU and
 * its PCI_Read32/PCI_Write32 write CF8h then touch CFCh with nothing held
 * (PCI.c): a task switched to in between that reads config space moves
 * CF8h under us.  And with decode off, nothing may touch the BAR: our own
 * MSI-X top half reads BAR0 (nvme_osal_exos.c).
 *
 * The same goes for a read-modify-write of the Command register.  MSI-X
 * Message Control is written without that care (nvme_osal_exos.c): its
 * writable bits are Enable and Function Mask, which nothing in EXOS but
 * the driver that owns the function touches.  EXOS's own config accesses
 * (the PCI scan, XHCI, the system data view) are not protected against
 * preemption; one of them preempted between CF8h and CFCh by our code,
 * which runs in a task too (the deferred-work poll), reads the address we
 * left: a race EXOS's helpers have, which the glue cannot close.
 */
#include "nvme_exos_pcicfg.h"

#define BAR_REG(bir) ((U16)(PCI_CFG_BAR0 + 4u * (bir)))
#define BAR_TYPE_64 0x2u /* Type field, bits 2:1 (PCI 3.0 §6.2.5.1) */

/* The Command register, with the Status register's half zero: writing 0 to
 * Status leaves its bits (RW1C or read-only, PCI 3.0 §6.2.3). */
static void write_command(U8 bus, U8 dev, U8 func, U16 cmd)
{
    PCI_Write32(bus, dev, func, PCI_CFG_COMMAND, (U32)cmd);
}

U16 nvme_exos_pci_command_update(U8 bus, U8 dev, U8 func, U16 set, U16 clear)
{
    UINT flags;
    U16 cmd, want;

    SaveFlags(&flags);
    DisableInterrupts();
    cmd = PCI_Read16(bus, dev, func, PCI_CFG_COMMAND);
    want = (U16)((cmd & ~clear) | set);
    if (want != cmd)
        write_command(bus, dev, func, want);
    RestoreFlags(&flags);
    return cmd;
}

static U32 size_one(U8 bus, U8 dev, U8 func, U16 reg, U32 *original)
{
    U32 probed;
    *original = PCI_Read32(bus, dev, func, reg);
    PCI_Write32(bus, dev, func, reg, 0xFFFFFFFFu);
    probed = PCI_Read32(bus, dev, func, reg);
    PCI_Write32(bus, dev, func, reg, *original);
    return probed;
}

bool nvme_exos_bar_probe(U8 bus, U8 dev, U8 func, unsigned bir, struct nvme_exos_bar *out)
{
    UINT flags;
    U16 cmd;
    U32 low, high = 0, probed_low, probed_high = 0;
    uint64_t mask;

    out->base = 0;
    out->size = 0;
    out->io = false;
    out->is64 = false;
    if (bir > 5)
        return false;
    low = PCI_Read32(bus, dev, func, BAR_REG(bir));
    if (PCI_BAR_IS_IO(low)) {
        out->io = true;
        return false;
    }
    out->is64 = ((low >> 1) & 0x3u) == BAR_TYPE_64;
    if (out->is64 && bir == 5)
        return false;

    SaveFlags(&flags);
    DisableInterrupts();
    cmd = PCI_Read16(bus, dev, func, PCI_CFG_COMMAND);
    if ((cmd & (NVME_PCI_CMD_IO | NVME_PCI_CMD_MEM)) != 0)
        write_command(bus, dev, func, (U16)(cmd & ~(NVME_PCI_CMD_IO | NVME_PCI_CMD_MEM)));
    probed_low = size_one(bus, dev, func, BAR_REG(bir), &low);
    if (out->is64)
        probed_high = size_one(bus, dev, func, BAR_REG(bir + 1u), &high);
    if ((cmd & (NVME_PCI_CMD_IO | NVME_PCI_CMD_MEM)) != 0)
        write_command(bus, dev, func, cmd);
    RestoreFlags(&flags);

    out->base = ((uint64_t)high << 32) | (uint64_t)(low & PCI_BAR_MEM_MASK);
    if (out->is64)
        mask = ((uint64_t)probed_high << 32) | (uint64_t)(probed_low & PCI_BAR_MEM_MASK);
    else
        mask = (uint64_t)(probed_low & PCI_BAR_MEM_MASK);
    /* The size is the lowest address bit that stuck (device input: a mask
     * with holes still gets its lowest, power-of-two, span); none: no BAR. */
    out->size = mask & (~mask + 1u);
    return out->size != 0;
}

/* Message Control (16 bits at capability + 2) with `enable` cleared, when
 * set.  A capability whose Message Control lies past config space (EXOS:
 * 256 bytes, CF8h/CFCh) is left alone. */
static void msi_enable_off(U8 bus, U8 dev, U8 func, U8 cap, U16 enable)
{
    U16 ctrl;
    if (cap == 0 || cap > 0xFCu)
        return;
    ctrl = PCI_Read16(bus, dev, func, (U16)(cap + 2u));
    if ((ctrl & enable) != 0)
        PCI_Write16(bus, dev, func, (U16)(cap + 2u), (U16)(ctrl & ~enable));
}

void nvme_exos_pci_msi_off(U8 bus, U8 dev, U8 func)
{
    msi_enable_off(bus, dev, func, PCI_FindCapability(bus, dev, func, NVME_PCI_CAP_ID_MSI),
                   NVME_PCI_MSI_ENABLE);
    msi_enable_off(bus, dev, func, PCI_FindCapability(bus, dev, func, PCI_CAP_ID_MSIX),
                   NVME_PCI_MSIX_ENABLE);
}
