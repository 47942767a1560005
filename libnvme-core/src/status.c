/* SPDX-License-Identifier: MIT */
/*
 * status.c - names for completion statuses (NVMe 1.4 §4.6.1.2, Figures
 * 126-131; NVMe 2.0 Figures 94-99, the NVM, Zoned Namespace and Key
 * Value command set specifications) and for the core's own error values.
 *
 * Kernels that count bytes build with -DNVME_NO_STATUS_NAMES (CMake
 * NVME_STATUS_NAMES=OFF, make NVME_STATUS_NAMES=0): the name tables (about
 * 5 KB of rodata) are left out and nvme_status_name() returns generic text
 * such as "SCT 0 SC 02".  Everything else here is the same in both builds.
 */
#include "nvme_internal.h"

#ifndef NVME_NO_STATUS_NAMES

struct nvme_status_entry {
    uint8_t sc;
    const char *name;
};

/* Generic Command Status, SCT 0h (Figure 126) and its NVM command set
 * values 80h-84h (Figure 127). */
static const struct nvme_status_entry nvme_generic[] = {
    {0x00, "Successful Completion"},
    {0x01, "Invalid Command Opcode"},
    {0x02, "Invalid Field in Command"},
    {0x03, "Command ID Conflict"},
    {0x04, "Data Transfer Error"},
    {0x05, "Commands Aborted due to Power Loss Notification"},
    {0x06, "Internal Error"},
    {0x07, "Command Abort Requested"},
    {0x08, "Command Aborted due to SQ Deletion"},
    {0x09, "Command Aborted due to Failed Fused Command"},
    {0x0a, "Command Aborted due to Missing Fused Command"},
    {0x0b, "Invalid Namespace or Format"},
    {0x0c, "Command Sequence Error"},
    {0x0d, "Invalid SGL Segment Descriptor"},
    {0x0e, "Invalid Number of SGL Descriptors"},
    {0x0f, "Data SGL Length Invalid"},
    {0x10, "Metadata SGL Length Invalid"},
    {0x11, "SGL Descriptor Type Invalid"},
    {0x12, "Invalid Use of Controller Memory Buffer"},
    {0x13, "PRP Offset Invalid"},
    {0x14, "Atomic Write Unit Exceeded"},
    {0x15, "Operation Denied"},
    {0x16, "SGL Offset Invalid"},
    {0x18, "Host Identifier Inconsistent Format"},
    {0x19, "Keep Alive Timer Expired"},
    {0x1a, "Keep Alive Timeout Invalid"},
    {0x1b, "Command Aborted due to Preempt and Abort"},
    {0x1c, "Sanitize Failed"},
    {0x1d, "Sanitize In Progress"},
    {0x1e, "SGL Data Block Granularity Invalid"},
    {0x1f, "Command Not Supported for Queue in CMB"},
    {0x20, "Namespace is Write Protected"},
    {0x21, "Command Interrupted"},
    {0x22, "Transient Transport Error"},
    /* NVMe 2.0 (Figure 94) */
    {0x23, "Command Prohibited by Command and Feature Lockdown"},
    {0x24, "Admin Command Media Not Ready"},
    {0x2c, "Invalid I/O Command Set"},
    {0x80, "LBA Out of Range"},
    {0x81, "Capacity Exceeded"},
    {0x82, "Namespace Not Ready"},
    {0x83, "Reservation Conflict"},
    {0x84, "Format In Progress"},
    /* Key Value Command Set 1.0 (Figure 4), same SCT 0h space */
    {0x85, "Invalid Value Size"},
    {0x86, "Invalid Key Size"},
    {0x87, "KV Key Does Not Exist"},
    {0x88, "Unrecovered Error"},
    {0x89, "Key Exists"},
};

/* Command Specific Status, SCT 1h (Figure 128) and NVM values (Figure 129). */
static const struct nvme_status_entry nvme_cmd_specific[] = {
    {0x00, "Completion Queue Invalid"},
    {0x01, "Invalid Queue Identifier"},
    {0x02, "Invalid Queue Size"},
    {0x03, "Abort Command Limit Exceeded"},
    {0x05, "Asynchronous Event Request Limit Exceeded"},
    {0x06, "Invalid Firmware Slot"},
    {0x07, "Invalid Firmware Image"},
    {0x08, "Invalid Interrupt Vector"},
    {0x09, "Invalid Log Page"},
    {0x0a, "Invalid Format"},
    {0x0b, "Firmware Activation Requires Conventional Reset"},
    {0x0c, "Invalid Queue Deletion"},
    {0x0d, "Feature Identifier Not Saveable"},
    {0x0e, "Feature Not Changeable"},
    {0x0f, "Feature Not Namespace Specific"},
    {0x10, "Firmware Activation Requires NVM Subsystem Reset"},
    {0x11, "Firmware Activation Requires Controller Level Reset"},
    {0x12, "Firmware Activation Requires Maximum Time Violation"},
    {0x13, "Firmware Activation Prohibited"},
    {0x14, "Overlapping Range"},
    {0x15, "Namespace Insufficient Capacity"},
    {0x16, "Namespace Identifier Unavailable"},
    {0x18, "Namespace Already Attached"},
    {0x19, "Namespace Is Private"},
    {0x1a, "Namespace Not Attached"},
    {0x1b, "Thin Provisioning Not Supported"},
    {0x1c, "Controller List Invalid"},
    {0x1d, "Device Self-test In Progress"},
    {0x1e, "Boot Partition Write Prohibited"},
    {0x1f, "Invalid Controller Identifier"},
    {0x20, "Invalid Secondary Controller State"},
    {0x21, "Invalid Number of Controller Resources"},
    {0x22, "Invalid Resource Identifier"},
    {0x23, "Sanitize Prohibited While Persistent Memory Region is Enabled"},
    {0x24, "ANA Group Identifier Invalid"},
    {0x25, "ANA Attach Failed"},
    /* NVMe 2.0 (Figure 95) */
    {0x26, "Insufficient Capacity"},
    {0x27, "Namespace Attachment Limit Exceeded"},
    {0x28, "Prohibition of Command Execution Not Supported"},
    {0x29, "I/O Command Set Not Supported"},
    {0x2a, "I/O Command Set Not Enabled"},
    {0x2b, "I/O Command Set Combination Rejected"},
    {0x2c, "Invalid I/O Command Set"},
    {0x2d, "Identifier Unavailable"},
    {0x80, "Conflicting Attributes"},
    {0x81, "Invalid Protection Information"},
    {0x82, "Attempted Write to Read Only Range"},
    {0x83, "Command Size Limit Exceeded"},
    /* the Copy command's (NVM Command Set 1.1) */
    {0x85, "Incompatible Namespace or Format"},
    {0x86, "Fast Copy Not Possible"},
    {0x87, "Overlapping I/O Range"},
    {0x89, "Insufficient Resources"},
    /* Zoned Namespace Command Set 1.1 (Figure 11; B6h-B7h: the Zone
     * Random Write Area's) */
    {0xb6, "Invalid Zone Operation Request"},
    {0xb7, "ZRWA Resources Unavailable"},
    {0xb8, "Zone Boundary Error"},
    {0xb9, "Zone Is Full"},
    {0xba, "Zone Is Read Only"},
    {0xbb, "Zone Is Offline"},
    {0xbc, "Zone Invalid Write"},
    {0xbd, "Too Many Active Zones"},
    {0xbe, "Too Many Open Zones"},
    {0xbf, "Invalid Zone State Transition"},
};

/* Media and Data Integrity Errors, SCT 2h (Figures 130-131). */
static const struct nvme_status_entry nvme_media[] = {
    {0x80, "Write Fault"},
    {0x81, "Unrecovered Read Error"},
    {0x82, "End-to-end Guard Check Error"},
    {0x83, "End-to-end Application Tag Check Error"},
    {0x84, "End-to-end Reference Tag Check Error"},
    {0x85, "Compare Failure"},
    {0x86, "Access Denied"},
    {0x87, "Deallocated or Unwritten Logical Block"},
    {0x88, "End-to-End Storage Tag Check Error"}, /* NVMe 2.0 Figure 98 */
};

/* Path Related Status, SCT 3h (Figure 132). */
static const struct nvme_status_entry nvme_path[] = {
    {0x00, "Internal Path Error"},
    {0x01, "Asymmetric Access Persistent Loss"},
    {0x02, "Asymmetric Access Inaccessible"},
    {0x03, "Asymmetric Access Transition"},
    {0x60, "Controller Pathing Error"},
    {0x70, "Host Pathing Error"},
    {0x71, "Command Aborted By Host"},
};

#define NVME_TABLE(t) t, sizeof(t) / sizeof((t)[0])

static const char *nvme_lookup(const struct nvme_status_entry *t, size_t n, uint8_t sc)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].sc == sc)
            return t[i].name;
    return NULL;
}

const char *nvme_status_name(uint16_t sf)
{
    uint8_t sc = (uint8_t)NVME_SF_SC(sf);
    const char *name = NULL;

    switch (NVME_SF_SCT(sf)) {
    case NVME_SCT_GENERIC:
        name = nvme_lookup(NVME_TABLE(nvme_generic), sc);
        break;
    case NVME_SCT_COMMAND_SPECIFIC:
        name = nvme_lookup(NVME_TABLE(nvme_cmd_specific), sc);
        break;
    case NVME_SCT_MEDIA:
        name = nvme_lookup(NVME_TABLE(nvme_media), sc);
        break;
    case NVME_SCT_PATH:
        name = nvme_lookup(NVME_TABLE(nvme_path), sc);
        break;
    case NVME_SCT_VENDOR:
        return "Vendor Specific";
    default: /* 4h-6h reserved (§4.2.3.1): their codes too, C0h-FFh included */
        return "Reserved";
    }
    if (name == NULL)
        return sc >= 0xc0 ? "Vendor Specific" : "Reserved";
    return name;
}

#else /* NVME_NO_STATUS_NAMES */

/* "SCT x SC yy" (hexadecimal).  One static buffer, rewritten by each call:
 * callers print the name before asking for another one (nvmectl, logs). */
const char *nvme_status_name(uint16_t sf)
{
    static const char hex[] = "0123456789abcdef";
    static char name[] = "SCT x SC yy";
    unsigned sc = NVME_SF_SC(sf);

    name[4] = hex[NVME_SF_SCT(sf) & 0xfu];
    name[9] = hex[(sc >> 4) & 0xfu];
    name[10] = hex[sc & 0xfu];
    return name;
}

#endif /* NVME_NO_STATUS_NAMES */

const char *nvme_sct_name(uint16_t sct)
{
    switch (sct) {
    case NVME_SCT_GENERIC:
        return "Generic Command Status";
    case NVME_SCT_COMMAND_SPECIFIC:
        return "Command Specific Status";
    case NVME_SCT_MEDIA:
        return "Media and Data Integrity Errors";
    case NVME_SCT_PATH:
        return "Path Related Status";
    case NVME_SCT_VENDOR:
        return "Vendor Specific";
    default:
        return "Reserved";
    }
}

/* Worth retrying when the controller did not say Do Not Retry and the
 * status is about the moment, not the command (§4.6.1.2.1 notes). */
bool nvme_status_retryable(uint16_t sf)
{
    if (NVME_SF_DNR(sf) || sf == 0)
        return false;
    if (NVME_SF_SCT(sf) == NVME_SCT_GENERIC) {
        switch (NVME_SF_SC(sf)) {
        case NVME_SC_DATA_XFER_ERROR:
        case NVME_SC_INTERNAL:
        case NVME_SC_ABORT_REQ:
        case NVME_SC_ABORT_SQ_DELETION:
        case NVME_SC_NS_NOT_READY:
        case 0x21: /* Command Interrupted */
        case 0x22: /* Transient Transport Error */
            return true;
        default:
            return false;
        }
    }
    if (NVME_SF_SCT(sf) == NVME_SCT_MEDIA) {
        /* Answers, not failures: the data differs (Compare Failure 85h),
         * the host may not (Access Denied 86h), the block holds nothing
         * (Deallocated or Unwritten Logical Block 87h, with DULBE). */
        uint8_t sc = NVME_SF_SC(sf);
        return sc != NVME_SC_COMPARE_FAILED && sc != NVME_SC_ACCESS_DENIED &&
               sc != NVME_SC_DEALLOCATED_BLOCK;
    }
    return NVME_SF_SCT(sf) == NVME_SCT_PATH;
}

const char *nvme_strerror(int err)
{
    if (err > 0)
        return nvme_status_name((uint16_t)err);
    switch (err) {
    case NVME_OK:
        return "ok";
    case NVME_ERR_INVAL:
        return "invalid argument";
    case NVME_ERR_NOMEM:
        return "out of memory";
    case NVME_ERR_TIMEOUT:
        return "timeout";
    case NVME_ERR_FATAL:
        return "controller fatal status";
    case NVME_ERR_GONE:
        return "device gone";
    case NVME_ERR_RANGE:
        return "LBA out of range";
    case NVME_ERR_NOENT:
        return "no such namespace";
    case NVME_ERR_ALIGN:
        return "buffer not aligned";
    case NVME_ERR_BUSY:
        return "queue full";
    case NVME_ERR_PROTO:
        return "invalid data from device";
    case NVME_ERR_UNSUPPORTED:
        return "unsupported";
    case NVME_ERR_DMA:
        return "DMA mapping failed";
    case NVME_ERR_ABORTED:
        return "aborted";
    case NVME_ERR_RDONLY:
        return "read-only";
    case NVME_ERR_STATE:
        return "controller not ready";
    default:
        return "unknown error";
    }
}
