/* SPDX-License-Identifier: MIT */
/*
 * nvme_spec.h - on-the-wire structures and constants of NVM Express: the
 * NVMe Base 1.4 layouts, with what NVMe Base 2.0 and the NVM Command Set
 * 1.0 added to them (Identify Controller fields marked "NVMe 2.0";
 * Identify Namespace bytes 74-80 and LBA formats 16-63 are NVM CS 1.0),
 * then ("Beyond the core's first needs") NVMe 2.0, NVM CS and ZNS.
 *
 * Names follow the specifications so that the spec is the documentation.
 * Spec citations in the core (src and include): a bare "§x" or
 * "Figure n" is NVM Express Base Specification revision 1.4 (June 2019;
 * 1.4c keeps its section numbers).  Any other document is named:
 * "NVMe 2.0" (Base Specification 2.0), "NVM CS" (NVM Command Set
 * Specification 1.0), "ZNS" (Zoned Namespace Command Set 1.1), and the
 * name covers the citations after it in the same parentheses.  Every
 * structure has a static assertion on its size and on the offsets that
 * matter; the compiler checks the layouts, not hope.
 *
 * Multi-byte fields are little-endian on the wire.  The core targets
 * little-endian hosts only (x86, aarch64 and riscv64 as configured by
 * every mainstream kernel); a static assertion below says so.
 *
 * Freestanding: only <stdint.h> and <stddef.h>.
 */
#ifndef NVME_SPEC_H
#define NVME_SPEC_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nvme-core assumes a little-endian host"
#endif

#ifdef __cplusplus /* a C++ kernel may include the headers */
#define NVME_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define NVME_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* ------------------------------------------------------------------ */
/* Controller registers (NVMe 1.4 §3.1, Register Definition)          */
/* ------------------------------------------------------------------ */

#define NVME_REG_CAP 0x00   /* Controller Capabilities, 64-bit */
#define NVME_REG_VS 0x08    /* Version */
#define NVME_REG_INTMS 0x0c /* Interrupt Mask Set */
#define NVME_REG_INTMC 0x10 /* Interrupt Mask Clear */
#define NVME_REG_CC 0x14    /* Controller Configuration */
#define NVME_REG_CSTS 0x1c  /* Controller Status */
#define NVME_REG_NSSR 0x20  /* NVM Subsystem Reset */
#define NVME_REG_AQA 0x24   /* Admin Queue Attributes */
#define NVME_REG_ASQ 0x28   /* Admin Submission Queue Base, 64-bit */
#define NVME_REG_ACQ 0x30   /* Admin Completion Queue Base, 64-bit */
#define NVME_REG_CRTO 0x68  /* Controller Ready Timeouts (NVMe 2.0) */
#define NVME_REG_DBS 0x1000 /* first doorbell (§3.1.24) */

/* The others of NVMe 2.0 §3.1.3 Figure 35 (read by nvme_ctrl_regs_read). */
#define NVME_REG_CMBLOC 0x38   /* Controller Memory Buffer Location */
#define NVME_REG_CMBSZ 0x3c    /* Controller Memory Buffer Size */
#define NVME_REG_BPINFO 0x40   /* Boot Partition Information */
#define NVME_REG_BPRSEL 0x44   /* Boot Partition Read Select */
#define NVME_REG_BPMBL 0x48    /* Boot Partition Memory Buffer Location, 64-bit */
#define NVME_REG_CMBMSC 0x50   /* CMB Memory Space Control, 64-bit */
#define NVME_REG_CMBSTS 0x58   /* CMB Status */
#define NVME_REG_CMBEBS 0x5c   /* CMB Elasticity Buffer Size (NVMe 2.0) */
#define NVME_REG_CMBSWTP 0x60  /* CMB Sustained Write Throughput (NVMe 2.0) */
#define NVME_REG_NSSD 0x64     /* NVM Subsystem Shutdown (NVMe 2.0): a write shuts down */
#define NVME_REG_PMRCAP 0xe00  /* Persistent Memory Capabilities */
#define NVME_REG_PMRCTL 0xe04  /* Persistent Memory Region Control */
#define NVME_REG_PMRSTS 0xe08  /* Persistent Memory Region Status */
#define NVME_REG_PMREBS 0xe0c  /* PMR Elasticity Buffer Size */
#define NVME_REG_PMRSWTP 0xe10 /* PMR Sustained Write Throughput */
#define NVME_REG_PMRMSCL 0xe14 /* PMR Memory Space Control Lower */
#define NVME_REG_PMRMSCU 0xe18 /* PMR Memory Space Control Upper */

/* CAP (§3.1.1) */
#define NVME_CAP_MQES(cap) ((uint32_t)((cap)&0xffff)) /* 0-based */
#define NVME_CAP_CQR(cap) ((uint32_t)(((cap) >> 16) & 0x1))
#define NVME_CAP_AMS(cap) ((uint32_t)(((cap) >> 17) & 0x3))
#define NVME_CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xff)) /* 500 ms units */
#define NVME_CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xf))
#define NVME_CAP_NSSRS(cap) ((uint32_t)(((cap) >> 36) & 0x1))
#define NVME_CAP_CSS(cap) ((uint32_t)(((cap) >> 37) & 0xff))
#define NVME_CAP_BPS(cap) ((uint32_t)(((cap) >> 45) & 0x1))
#define NVME_CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xf)) /* 2^(12+n) */
#define NVME_CAP_MPSMAX(cap) ((uint32_t)(((cap) >> 52) & 0xf))
#define NVME_CAP_CSS_NVM 0x01 /* NVM command set supported */
#define NVME_CAP_TO_UNIT_MS 500u
/* NVMe 2.0 CAP.CRMS: Controller Ready With Media / Independent of Media
 * Support; with CRWMS, CRTO.CRWMT (bits 15:0, 500 ms units) is the ready
 * timeout and CAP.TO holds at most FFh of it. */
#define NVME_CAP_CRMS_CRWMS (1ull << 59)
#define NVME_CAP_CRMS_CRIMS (1ull << 60)
#define NVME_CRTO_CRWMT(crto) ((crto)&0xffffu)

/* VS (§3.1.2) */
#define NVME_VS_MJR(vs) (((vs) >> 16) & 0xffff)
#define NVME_VS_MNR(vs) (((vs) >> 8) & 0xff)
#define NVME_VS_TER(vs) ((vs)&0xff)
#define NVME_VS(mjr, mnr, ter) (((uint32_t)(mjr) << 16) | ((uint32_t)(mnr) << 8) | (uint32_t)(ter))

/* CC (§3.1.5) */
#define NVME_CC_EN (1u << 0)
#define NVME_CC_CSS_SHIFT 4
#define NVME_CC_CSS_MASK (0x7u << 4)
#define NVME_CC_CSS_NVM (0u << 4)
#define NVME_CC_MPS_SHIFT 7
#define NVME_CC_MPS_MASK (0xfu << 7)
#define NVME_CC_AMS_SHIFT 11
#define NVME_CC_AMS_MASK (0x7u << 11)
#define NVME_CC_SHN_SHIFT 14
#define NVME_CC_SHN_MASK (0x3u << 14)
#define NVME_CC_SHN_NONE (0u << 14)
#define NVME_CC_SHN_NORMAL (1u << 14)
#define NVME_CC_SHN_ABRUPT (2u << 14)
#define NVME_CC_IOSQES_SHIFT 16
#define NVME_CC_IOSQES_MASK (0xfu << 16)
#define NVME_CC_IOCQES_SHIFT 20
#define NVME_CC_IOCQES_MASK (0xfu << 20)

/* CSTS (§3.1.6) */
#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1)
#define NVME_CSTS_SHST_SHIFT 2
#define NVME_CSTS_SHST_MASK (0x3u << 2)
#define NVME_CSTS_SHST_NORMAL (0u << 2)
#define NVME_CSTS_SHST_OCCURRING (1u << 2)
#define NVME_CSTS_SHST_COMPLETE (2u << 2)
#define NVME_CSTS_NSSRO (1u << 4)
#define NVME_CSTS_PP (1u << 5)

/* AQA (§3.1.8): both sizes 0-based, 12 bits each */
#define NVME_AQA_ASQS_MASK 0xfffu
#define NVME_AQA_ACQS_SHIFT 16
#define NVME_AQA_MAX_ENTRIES 4096u

/* Doorbells (§3.1.24, §3.1.25): stride is (4 << CAP.DSTRD) bytes. */
#define NVME_SQ_TDBL(qid, dstrd) (NVME_REG_DBS + ((2u * (qid)) * (4u << (dstrd))))
#define NVME_CQ_HDBL(qid, dstrd) (NVME_REG_DBS + ((2u * (qid) + 1u) * (4u << (dstrd))))

/* Queue entry sizes as log2 (§4.2, §4.6); required values for NVM. */
#define NVME_SQES_LOG2 6 /* 64-byte SQE */
#define NVME_CQES_LOG2 4 /* 16-byte CQE */

/* ------------------------------------------------------------------ */
/* Submission Queue Entry (§4.2, Figure 105)                            */
/* ------------------------------------------------------------------ */

struct nvme_sqe {
    uint8_t opc;   /* CDW0 [7:0] opcode */
    uint8_t flags; /* CDW0 [9:8] FUSE, [15:14] PSDT (0 = PRPs) */
    uint16_t cid;  /* CDW0 [31:16] command identifier */
    uint32_t nsid; /* CDW1 */
    uint32_t cdw2; /* CDW2 */
    uint32_t cdw3; /* CDW3 */
    uint64_t mptr; /* CDW4-5 metadata pointer */
    uint64_t prp1; /* CDW6-7 data pointer, PRP entry 1 */
    uint64_t prp2; /* CDW8-9 data pointer, PRP entry 2 */
    uint32_t cdw10;
    uint32_t cdw11;
    uint32_t cdw12;
    uint32_t cdw13;
    uint32_t cdw14;
    uint32_t cdw15;
};
NVME_STATIC_ASSERT(sizeof(struct nvme_sqe) == 64, "SQE is 64 bytes");
NVME_STATIC_ASSERT(offsetof(struct nvme_sqe, cid) == 2, "CID in CDW0[31:16]");
NVME_STATIC_ASSERT(offsetof(struct nvme_sqe, nsid) == 4, "NSID is CDW1");
NVME_STATIC_ASSERT(offsetof(struct nvme_sqe, mptr) == 16, "MPTR is CDW4");
NVME_STATIC_ASSERT(offsetof(struct nvme_sqe, prp1) == 24, "PRP1 is CDW6");
NVME_STATIC_ASSERT(offsetof(struct nvme_sqe, prp2) == 32, "PRP2 is CDW8");
NVME_STATIC_ASSERT(offsetof(struct nvme_sqe, cdw10) == 40, "CDW10 offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_sqe, cdw15) == 60, "CDW15 offset");

/* ------------------------------------------------------------------ */
/* Completion Queue Entry (NVMe 1.4 §4.6, Completion Queue Entry)     */
/* ------------------------------------------------------------------ */

struct nvme_cqe {
    uint32_t dw0;    /* command specific */
    uint32_t dw1;    /* reserved */
    uint16_t sqhd;   /* SQ head pointer */
    uint16_t sqid;   /* SQ identifier */
    uint16_t cid;    /* command identifier */
    uint16_t status; /* [0] phase tag P, [15:1] status field */
};
NVME_STATIC_ASSERT(sizeof(struct nvme_cqe) == 16, "CQE is 16 bytes");
NVME_STATIC_ASSERT(offsetof(struct nvme_cqe, sqhd) == 8, "SQHD in DW2");
NVME_STATIC_ASSERT(offsetof(struct nvme_cqe, cid) == 12, "CID in DW3[15:0]");
NVME_STATIC_ASSERT(offsetof(struct nvme_cqe, status) == 14, "status in DW3[31:16]");

/*
 * Status field (§4.6.1, Figure 124), as the 15 bits above the phase tag.
 * The core reports a device status as this 15-bit value ("sf").
 */
#define NVME_CQE_PHASE(st) ((st)&0x1u)
#define NVME_CQE_SF(st) ((uint16_t)((st) >> 1))
#define NVME_SF_SC(sf) ((sf)&0xffu)            /* Status Code */
#define NVME_SF_SCT(sf) (((sf) >> 8) & 0x7u)   /* Status Code Type */
#define NVME_SF_CRD(sf) (((sf) >> 11) & 0x3u)  /* Command Retry Delay */
#define NVME_SF_MORE(sf) (((sf) >> 13) & 0x1u) /* More */
#define NVME_SF_DNR(sf) (((sf) >> 14) & 0x1u)  /* Do Not Retry */
#define NVME_SF(sct, sc) ((uint16_t)((((sct)&0x7u) << 8) | ((sc)&0xffu)))
#define NVME_SF_DNR_BIT (1u << 14)
#define NVME_SF_MORE_BIT (1u << 13)

/* Status Code Types (§4.6.1.1, Figure 125) */
#define NVME_SCT_GENERIC 0x0
#define NVME_SCT_COMMAND_SPECIFIC 0x1
#define NVME_SCT_MEDIA 0x2
#define NVME_SCT_PATH 0x3
#define NVME_SCT_VENDOR 0x7

/* Generic status codes used by the core and the simulator (§4.6.1.2.1) */
#define NVME_SC_SUCCESS 0x00
#define NVME_SC_INVALID_OPCODE 0x01
#define NVME_SC_INVALID_FIELD 0x02
#define NVME_SC_CID_CONFLICT 0x03
#define NVME_SC_DATA_XFER_ERROR 0x04
#define NVME_SC_INTERNAL 0x06
#define NVME_SC_ABORT_REQ 0x07
#define NVME_SC_ABORT_SQ_DELETION 0x08
#define NVME_SC_INVALID_NS 0x0b
#define NVME_SC_CMD_SEQ_ERROR 0x0c
#define NVME_SC_PRP_OFFSET_INVALID 0x13
#define NVME_SC_NS_WRITE_PROTECTED 0x20 /* Namespace is Write Protected (NVMe 1.4 Figure 126) */
#define NVME_SC_LBA_RANGE 0x80
#define NVME_SC_CAP_EXCEEDED 0x81
#define NVME_SC_NS_NOT_READY 0x82
/* Command specific status codes (§4.6.1.2.2) */
#define NVME_SC_CQ_INVALID 0x00
#define NVME_SC_QID_INVALID 0x01
#define NVME_SC_QUEUE_SIZE 0x02
#define NVME_SC_INVALID_VECTOR 0x08
#define NVME_SC_INVALID_LOG_PAGE 0x09
#define NVME_SC_INVALID_QUEUE_DELETION 0x0c
/* Media and data integrity errors (§4.6.1.2.3) */
#define NVME_SC_WRITE_FAULT 0x80
#define NVME_SC_UNRECOVERED_READ 0x81

/* ------------------------------------------------------------------ */
/* Opcodes                                                              */
/* ------------------------------------------------------------------ */

/* Admin command set (§5, Figure 139) */
#define NVME_ADMIN_DELETE_SQ 0x00
#define NVME_ADMIN_CREATE_SQ 0x01
#define NVME_ADMIN_GET_LOG_PAGE 0x02
#define NVME_ADMIN_DELETE_CQ 0x04
#define NVME_ADMIN_CREATE_CQ 0x05
#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_ADMIN_ABORT 0x08
#define NVME_ADMIN_SET_FEATURES 0x09
#define NVME_ADMIN_GET_FEATURES 0x0a
#define NVME_ADMIN_ASYNC_EVENT 0x0c
#define NVME_ADMIN_NS_MGMT 0x0d
#define NVME_ADMIN_DEVICE_SELF_TEST 0x14
#define NVME_ADMIN_NS_ATTACH 0x15
#define NVME_ADMIN_KEEP_ALIVE 0x18
#define NVME_ADMIN_DIRECTIVE_SEND 0x19
#define NVME_ADMIN_DIRECTIVE_RECV 0x1a
#define NVME_ADMIN_VIRT_MGMT 0x1c
#define NVME_ADMIN_CTRL_DATA_QUEUE 0x45 /* NVMe 2.1 */
#define NVME_ADMIN_DBBUF_CONFIG 0x7c
#define NVME_ADMIN_FORMAT_NVM 0x80
#define NVME_ADMIN_SECURITY_SEND 0x81
#define NVME_ADMIN_SECURITY_RECV 0x82
#define NVME_ADMIN_SANITIZE 0x84
#define NVME_ADMIN_GET_LBA_STATUS 0x86

/* NVM command set (NVMe 1.4 §6, Figure 346) */
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02
#define NVME_CMD_WRITE_UNCOR 0x04 /* Write Uncorrectable (NVM CS 1.0 §3.2.7) */
#define NVME_CMD_WRITE_ZEROES 0x08
#define NVME_CMD_DSM 0x09

/* Create I/O Completion Queue, CDW11 (§5.3) */
#define NVME_CREATE_CQ_PC (1u << 0)  /* physically contiguous */
#define NVME_CREATE_CQ_IEN (1u << 1) /* interrupts enabled */
/* Create I/O Submission Queue, CDW11 (§5.4) */
#define NVME_CREATE_SQ_PC (1u << 0)

/* Identify CNS values (§5.15.1, Figure 244) */
#define NVME_CNS_NS 0x00
#define NVME_CNS_CTRL 0x01
#define NVME_CNS_ACTIVE_NS_LIST 0x02
#define NVME_IDENTIFY_DATA_SIZE 4096u
#define NVME_ACTIVE_NS_LIST_ENTRIES 1024u

/* Feature identifiers (§5.21.1, Figure 271) */
#define NVME_FEAT_ARBITRATION 0x01
#define NVME_FEAT_POWER_MGMT 0x02
#define NVME_FEAT_TEMP_THRESH 0x04
#define NVME_FEAT_ERROR_RECOVERY 0x05
#define NVME_FEAT_VOLATILE_WC 0x06
#define NVME_FEAT_NUM_QUEUES 0x07
#define NVME_FEAT_IRQ_COALESCE 0x08
#define NVME_FEAT_IRQ_CONFIG 0x09
#define NVME_FEAT_ASYNC_EVENT 0x0b
#define NVME_FEAT_KEEP_ALIVE 0x0f    /* Keep Alive Timer: CDW11 KATO, ms (§5.21.1.15) */
#define NVME_FEAT_HOST_BEHAVIOR 0x16 /* Host Behavior Support (NVMe 1.4 §5.21.1.22) */
/* Features with a data structure in memory beside those above (Set and
 * Get Features move it through PRP1): Predictable Latency Mode Config,
 * 512 bytes (NVMe 1.4); FDP Events, at most 255 descriptors of 2 bytes
 * (NVMe 2.0, FDP); Enhanced Controller, Controller and Namespace
 * Metadata, the 4 KiB Host Metadata structure (NVMe 1.4). */
#define NVME_FEAT_PLM_CONFIG 0x13
#define NVME_FEAT_FDP_EVENTS 0x1e
#define NVME_FEAT_ENH_CTRL_METADATA 0x7d
#define NVME_FEAT_CTRL_METADATA 0x7e
#define NVME_FEAT_NS_METADATA 0x7f

/* Log page identifiers (§5.14.1, Figure 191) */
#define NVME_LID_ERROR 0x01
#define NVME_LID_SMART 0x02
#define NVME_LID_FW_SLOT 0x03
#define NVME_LID_CHANGED_NS 0x04 /* Changed Namespace List (§5.14.1.4) */

/* Asynchronous Event Request: Completion Queue Entry Dword 0 (NVMe 1.4 §5.2.1) */
#define NVME_AER_TYPE(dw0) ((dw0)&0x7u)
#define NVME_AER_INFO(dw0) (((dw0) >> 8) & 0xffu)
#define NVME_AER_LID(dw0) (((dw0) >> 16) & 0xffu)
#define NVME_AER_TYPE_ERROR 0u
#define NVME_AER_ERROR_PERSISTENT 3u /* Persistent Internal Error: reset (§5.2.1) */
#define NVME_AER_TYPE_SMART 1u
#define NVME_AER_TYPE_NOTICE 2u
#define NVME_AER_NOTICE_NS_CHANGED 0u
#define NVME_AER_NOTICE_FW_ACT 1u /* Firmware Activation Starting */
#define NVME_AER_TYPE_IO_CMD 6u   /* I/O Command specific status */
#define NVME_AER_IO_RESV_LOG 0u   /* Reservation Log Page Available */
#define NVME_NSID_ALL 0xffffffffu /* "all namespaces"/controller scope */

/* ------------------------------------------------------------------ */
/* Identify Controller data structure (§5.15.2.2, Figure 247)           */
/* ------------------------------------------------------------------ */

struct nvme_id_psd { /* Power State Descriptor (Figure 248) */
    uint8_t raw[32];
};

struct nvme_id_ctrl {
    uint16_t vid;       /* 0: PCI Vendor ID */
    uint16_t ssvid;     /* 2: PCI Subsystem Vendor ID */
    char sn[20];        /* 4: Serial Number, ASCII, space padded */
    char mn[40];        /* 24: Model Number */
    char fr[8];         /* 64: Firmware Revision */
    uint8_t rab;        /* 72: Recommended Arbitration Burst */
    uint8_t ieee[3];    /* 73 */
    uint8_t cmic;       /* 76 */
    uint8_t mdts;       /* 77: Maximum Data Transfer Size, 2^n * MPSMIN, 0 = none */
    uint16_t cntlid;    /* 78 */
    uint32_t ver;       /* 80 */
    uint32_t rtd3r;     /* 84 */
    uint32_t rtd3e;     /* 88 */
    uint32_t oaes;      /* 92 */
    uint32_t ctratt;    /* 96 */
    uint16_t rrls;      /* 100 */
    uint8_t rsvd102[9]; /* 102 */
    uint8_t cntrltype;  /* 111 */
    uint8_t fguid[16];  /* 112 */
    uint16_t crdt1;     /* 128 */
    uint16_t crdt2;     /* 130 */
    uint16_t crdt3;     /* 132 */
    uint8_t rsvd134[106];
    uint8_t nvmmi[13];   /* 240: NVMe-MI */
    uint8_t nvmsr;       /* 253: NVM Subsystem Report (NVMe 2.0) */
    uint8_t vwci;        /* 254: VPD Write Cycle Information (NVMe 2.0) */
    uint8_t mec;         /* 255: Management Endpoint Capabilities (NVMe 2.0) */
    uint16_t oacs;       /* 256: Optional Admin Command Support */
    uint8_t acl;         /* 258 */
    uint8_t aerl;        /* 259 */
    uint8_t frmw;        /* 260 */
    uint8_t lpa;         /* 261: Log Page Attributes */
    uint8_t elpe;        /* 262 */
    uint8_t npss;        /* 263 */
    uint8_t avscc;       /* 264 */
    uint8_t apsta;       /* 265 */
    uint16_t wctemp;     /* 266: Warning Composite Temperature Threshold, K */
    uint16_t cctemp;     /* 268: Critical Composite Temperature Threshold, K */
    uint16_t mtfa;       /* 270 */
    uint32_t hmpre;      /* 272 */
    uint32_t hmmin;      /* 276 */
    uint8_t tnvmcap[16]; /* 280 */
    uint8_t unvmcap[16]; /* 296 */
    uint32_t rpmbs;      /* 312 */
    uint16_t edstt;      /* 316 */
    uint8_t dsto;        /* 318 */
    uint8_t fwug;        /* 319 */
    uint16_t kas;        /* 320 */
    uint16_t hctma;      /* 322 */
    uint16_t mntmt;      /* 324 */
    uint16_t mxtmt;      /* 326 */
    uint32_t sanicap;    /* 328 */
    uint32_t hmminds;    /* 332 */
    uint16_t hmmaxd;     /* 336 */
    uint16_t nsetidmax;  /* 338 */
    uint16_t endgidmax;  /* 340 */
    uint8_t anatt;       /* 342 */
    uint8_t anacap;      /* 343 */
    uint32_t anagrpmax;  /* 344 */
    uint32_t nanagrpid;  /* 348 */
    uint32_t pels;       /* 352 */
    uint16_t domainid;   /* 356: Domain Identifier (NVMe 2.0) */
    uint8_t rsvd358[10];
    uint8_t megcap[16]; /* 368: Max Endurance Group Capacity (NVMe 2.0) */
    uint8_t rsvd384[128];
    uint8_t sqes;       /* 512: [3:0] required, [7:4] maximum, log2 */
    uint8_t cqes;       /* 513 */
    uint16_t maxcmd;    /* 514 */
    uint32_t nn;        /* 516: Number of Namespaces (highest valid NSID) */
    uint16_t oncs;      /* 520: Optional NVM Command Support */
    uint16_t fuses;     /* 522 */
    uint8_t fna;        /* 524 */
    uint8_t vwc;        /* 525: Volatile Write Cache, bit 0 present */
    uint16_t awun;      /* 526 */
    uint16_t awupf;     /* 528 */
    uint8_t nvscc;      /* 530 */
    uint8_t nwpc;       /* 531 */
    uint16_t acwu;      /* 532 */
    uint16_t ocfs;      /* 534: Optional Copy Formats Supported (NVMe 2.0) */
    uint32_t sgls;      /* 536 */
    uint32_t mnan;      /* 540 */
    uint8_t maxdna[16]; /* 544: Max Domain Namespace Attachments (NVMe 2.0) */
    uint32_t maxcna;    /* 560: Max I/O Controller Namespace Attachments (NVMe 2.0) */
    uint8_t rsvd564[204];
    char subnqn[256]; /* 768 */
    uint8_t rsvd1024[768];
    uint8_t nvmof[256];         /* 1792 */
    struct nvme_id_psd psd[32]; /* 2048 */
    uint8_t vs[1024];           /* 3072 */
};
NVME_STATIC_ASSERT(sizeof(struct nvme_id_ctrl) == 4096, "Identify Controller is 4096 bytes");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, sn) == 4, "SN offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, mn) == 24, "MN offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, fr) == 64, "FR offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, mdts) == 77, "MDTS offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, ver) == 80, "VER offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, crdt1) == 128, "CRDT1 offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, oacs) == 256, "OACS offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, lpa) == 261, "LPA offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, wctemp) == 266, "WCTEMP offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, tnvmcap) == 280, "TNVMCAP offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, pels) == 352, "PELS offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, sqes) == 512, "SQES offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, nn) == 516, "NN offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, oncs) == 520, "ONCS offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, vwc) == 525, "VWC offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, sgls) == 536, "SGLS offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, subnqn) == 768, "SUBNQN offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl, psd) == 2048, "PSD offset");

/* OACS bits (§5.15.2.2) */
#define NVME_OACS_SECURITY (1u << 0)
#define NVME_OACS_FORMAT (1u << 1)
#define NVME_OACS_FW (1u << 2)
#define NVME_OACS_NS_MGMT (1u << 3)
#define NVME_OACS_DBBUF (1u << 8) /* Doorbell Buffer Config (§5.7) */
/* ONCS bits */
#define NVME_ONCS_COMPARE (1u << 0)
#define NVME_ONCS_WRITE_UNC (1u << 1)
#define NVME_ONCS_DSM (1u << 2)
#define NVME_ONCS_WRITE_ZEROES (1u << 3)
/* LPA bits */
#define NVME_LPA_SMART_PER_NS (1u << 0)
/* VWC bits */
#define NVME_VWC_PRESENT (1u << 0)

/* ------------------------------------------------------------------ */
/* Identify Namespace data structure (NVMe 1.4 §5.15.2.1, Figure 245)   */
/* ------------------------------------------------------------------ */

struct nvme_lbaf { /* LBA Format Data Structure (NVMe 1.4 §5.15.2.1) */
    uint16_t ms;   /* [15:0]  Metadata Size, bytes */
    uint8_t lbads; /* [23:16] LBA Data Size, 2^n bytes; 0 = format unavailable */
    uint8_t rp;    /* [25:24] Relative Performance */
};
NVME_STATIC_ASSERT(sizeof(struct nvme_lbaf) == 4, "LBA format is 4 bytes");

struct nvme_id_ns {
    uint64_t nsze;      /* 0: Namespace Size, in logical blocks */
    uint64_t ncap;      /* 8: Namespace Capacity */
    uint64_t nuse;      /* 16: Namespace Utilization */
    uint8_t nsfeat;     /* 24 */
    uint8_t nlbaf;      /* 25: Number of LBA Formats, 0-based */
    uint8_t flbas;      /* 26: Formatted LBA Size, [3:0] index, [4] extended */
    uint8_t mc;         /* 27 */
    uint8_t dpc;        /* 28 */
    uint8_t dps;        /* 29 */
    uint8_t nmic;       /* 30 */
    uint8_t rescap;     /* 31 */
    uint8_t fpi;        /* 32 */
    uint8_t dlfeat;     /* 33 */
    uint16_t nawun;     /* 34 */
    uint16_t nawupf;    /* 36 */
    uint16_t nacwu;     /* 38 */
    uint16_t nabsn;     /* 40 */
    uint16_t nabo;      /* 42 */
    uint16_t nabspf;    /* 44 */
    uint16_t noiob;     /* 46 */
    uint8_t nvmcap[16]; /* 48 */
    uint16_t npwg;      /* 64 */
    uint16_t npwa;      /* 66 */
    uint16_t npdg;      /* 68 */
    uint16_t npda;      /* 70 */
    uint16_t nows;      /* 72 */
    uint16_t mssrl;     /* 74: Maximum Single Source Range Length (Copy), blocks */
    uint32_t mcl;       /* 76: Maximum Copy Length, blocks */
    uint8_t msrc;       /* 80: Maximum Source Range Count, 0-based */
    uint8_t rsvd81;
    uint8_t nulbaf; /* 82: Number of Unique Capability LBA Formats, a count */
    uint8_t rsvd83[9];
    uint32_t anagrpid; /* 92 */
    uint8_t rsvd96[3];
    uint8_t nsattr;    /* 99 */
    uint16_t nvmsetid; /* 100 */
    uint16_t endgid;   /* 102 */
    uint8_t nguid[16]; /* 104 */
    uint8_t eui64[8];  /* 120 */
    /* 128: LBA Format 0..63.  NVMe 1.4 defines 16 (bytes 128-191, the
     * rest reserved); NVMe 2.0 (NVM Command Set Specification 1.0 §4.1.5.1,
     * Figure 97) up to 64, at byte 128 + 4 * index. */
    struct nvme_lbaf lbaf[64];
    uint8_t vs[3712]; /* 384 */
};
NVME_STATIC_ASSERT(sizeof(struct nvme_id_ns) == 4096, "Identify Namespace is 4096 bytes");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, nsze) == 0, "NSZE offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, ncap) == 8, "NCAP offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, nuse) == 16, "NUSE offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, nlbaf) == 25, "NLBAF offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, flbas) == 26, "FLBAS offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, nvmcap) == 48, "NVMCAP offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, mcl) == 76, "MCL offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, msrc) == 80, "MSRC offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, nulbaf) == 82, "NULBAF offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, anagrpid) == 92, "ANAGRPID offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, nguid) == 104, "NGUID offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, eui64) == 120, "EUI64 offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns, lbaf) == 128, "LBAF offset");

#define NVME_FLBAS_INDEX(flbas) ((flbas)&0xfu)
#define NVME_FLBAS_EXTENDED (1u << 4)
/* NVMe 2.0 (NVM Command Set 1.0 Figure 97, FLBAS): bits 6:5 are the two
 * most significant bits of the format index when NLBAF > 16. */
#define NVME_FLBAS_INDEX_V2(flbas) (((flbas)&0xfu) | ((((flbas) >> 5) & 0x3u) << 4))
#define NVME_NLBAF_MAX 15u    /* 16 formats in NVMe 1.4 */
#define NVME_NLBAF_MAX_V2 63u /* 64 formats in NVMe 2.0 */
#define NVME_LBAF_COUNT 64u
/* DPS (End-to-end Data Protection Type Settings, byte 29) */
#define NVME_DPS_PI_TYPE(dps) ((dps)&0x7u) /* 0 none, 1..3 Type 1..3 */
#define NVME_DPS_PI_FIRST (1u << 3)        /* PI in the first 8 bytes of metadata */
/* NSATTR (Namespace Attributes, byte 99; NVMe 1.4 Figure 245, NVM CS 1.0
 * Figure 97): bit 0 Write Protected, the namespace is write protected now
 * and every write to it fails (Namespace is Write Protected, below). */
#define NVME_NSATTR_WRITE_PROTECTED (1u << 0)
/* DLFEAT (byte 33): bits 2:0 value read from a deallocated block (1: zeros),
 * bit 3 Write Zeroes supports DEAC. */
#define NVME_DLFEAT_READ_MASK 0x7u
#define NVME_DLFEAT_READ_ZEROES 0x1u
#define NVME_DLFEAT_WZ_DEAC (1u << 3)
/* NSFEAT (byte 24) bit 2: deallocated/unwritten block error supported */

/* ------------------------------------------------------------------ */
/* SMART / Health Information log page, LID 02h (§5.14.1.2, Fig. 194)   */
/* ------------------------------------------------------------------ */

struct __attribute__((packed)) nvme_smart_log {
    uint8_t critical_warning;    /* 0 */
    uint16_t composite_temp;     /* 1: Kelvin */
    uint8_t avail_spare;         /* 3: percent */
    uint8_t avail_spare_thresh;  /* 4: percent */
    uint8_t percent_used;        /* 5 */
    uint8_t endgrp_crit_warning; /* 6 */
    uint8_t rsvd7[25];
    uint8_t data_units_read[16];     /* 32: 1000 x 512 bytes, 128-bit LE */
    uint8_t data_units_written[16];  /* 48 */
    uint8_t host_reads[16];          /* 64: Host Read Commands */
    uint8_t host_writes[16];         /* 80: Host Write Commands */
    uint8_t ctrl_busy_time[16];      /* 96: minutes */
    uint8_t power_cycles[16];        /* 112 */
    uint8_t power_on_hours[16];      /* 128 */
    uint8_t unsafe_shutdowns[16];    /* 144 */
    uint8_t media_errors[16];        /* 160 */
    uint8_t num_err_log_entries[16]; /* 176 */
    uint32_t warning_temp_time;      /* 192: minutes */
    uint32_t critical_comp_time;     /* 196: minutes */
    uint16_t temp_sensor[8];         /* 200: Kelvin, 0 = not implemented */
    uint32_t thm_temp1_trans_count;  /* 216 */
    uint32_t thm_temp2_trans_count;  /* 220 */
    uint32_t thm_temp1_total_time;   /* 224 */
    uint32_t thm_temp2_total_time;   /* 228 */
    uint8_t rsvd232[280];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_smart_log) == 512, "SMART log is 512 bytes");
NVME_STATIC_ASSERT(offsetof(struct nvme_smart_log, composite_temp) == 1, "temperature offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_smart_log, data_units_read) == 32, "DUR offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_smart_log, power_cycles) == 112, "power cycles offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_smart_log, num_err_log_entries) == 176,
                   "error entries offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_smart_log, temp_sensor) == 200, "sensors offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_smart_log, thm_temp2_total_time) == 228,
                   "TMT2 time offset");

/* Critical Warning bits (Figure 194, byte 0) */
#define NVME_SMART_CRIT_SPARE (1u << 0)
#define NVME_SMART_CRIT_TEMPERATURE (1u << 1)
#define NVME_SMART_CRIT_RELIABILITY (1u << 2)
#define NVME_SMART_CRIT_READ_ONLY (1u << 3)
#define NVME_SMART_CRIT_VOLATILE_MEMORY (1u << 4)
#define NVME_SMART_CRIT_PMR_READ_ONLY (1u << 5)

/* ================================================================== */
/* Beyond the core's first needs: identify, features, logs, NVM and     */
/* management commands, NVMe 2.0 and the Zoned Namespace Command Set    */
/* (NVM Express Base Specification 2.0, "NVMe 2.0"; NVM Command Set     */
/* Specification 1.0, "NVM CS"; Zoned Namespace Command Set             */
/* Specification 1.1, "ZNS").                                           */
/* ================================================================== */

/* CAP.CSS bits (NVMe 2.0 §3.1.3.1): bit 0 NVM, bit 6 one or more I/O
 * Command Sets (CC.CSS = 110b allowed), bit 7 admin only. */
#define NVME_CAP_CSS_IOCS 0x40
#define NVME_CAP_CSS_NOIO 0x80
/* CC.CSS (NVMe 2.0 §3.1.3.5): 110b all supported I/O Command Sets,
 * chosen per namespace through the I/O Command Set Profile feature. */
#define NVME_CC_CSS_IOCS (6u << 4)
#define NVME_CC_CSS_ADMIN (7u << 4)
/* NSSR (§3.1.7): writing "NVMe" (4E564D65h) starts an NVM Subsystem
 * Reset when CAP.NSSRS is 1. */
#define NVME_NSSR_VALUE 0x4e564d65u

/* Admin opcodes (NVMe 2.0 Figure 138) */
#define NVME_ADMIN_FW_COMMIT 0x10
#define NVME_ADMIN_FW_DOWNLOAD 0x11
/* OACS bits beyond the first four */
#define NVME_OACS_SELF_TEST (1u << 4)
/* SANICAP (bytes 328-331, NVMe 2.0 §5.17.2.1 Figure 275) */
#define NVME_SANICAP_CRYPTO (1u << 0)
#define NVME_SANICAP_BLOCK (1u << 1)
#define NVME_SANICAP_OVERWRITE (1u << 2)
/* FNA (byte 524) */
#define NVME_FNA_FORMAT_ALL (1u << 0)
#define NVME_FNA_SECURE_ALL (1u << 1)
#define NVME_FNA_CRYPTO (1u << 2)
/* LPA (byte 261) bits beyond SMART per namespace */
#define NVME_LPA_EFFECTS (1u << 1)
#define NVME_LPA_EXTENDED (1u << 2)         /* NUMDU, LPOL/LPOU supported */
#define NVME_LPA_TELEMETRY (1u << 3)        /* Telemetry Host-/Controller-Initiated logs */
#define NVME_LPA_PERSISTENT_EVENT (1u << 4) /* Persistent Event log (NVMe 1.4 §5.14.1.13) */
#define NVME_LPA_TELEMETRY_DA4 (1u << 6)    /* Telemetry Data Area 4 (NVMe 2.0), with ETDAS */
/* FRMW (byte 260): bit 0 slot 1 read only, bits 3:1 number of slots,
 * bit 4 activation without reset */
#define NVME_FRMW_SLOT1_RO (1u << 0)
#define NVME_FRMW_SLOTS(frmw) (((frmw) >> 1) & 0x7u)
#define NVME_FRMW_NO_RESET (1u << 4)

/* NVM command set opcodes (NVM CS Figure 18; ZNS Figure 12) */
#define NVME_CMD_COMPARE 0x05
#define NVME_CMD_VERIFY 0x0c
/* I/O Management Receive (NVMe 2.0c, Flexible Data Placement): CDW10 MO
 * 7:0 and MOS 31:16, CDW11 NUMD (0-based dwords) the controller returns */
#define NVME_CMD_IO_MGMT_RECV 0x12
#define NVME_CMD_ZONE_MGMT_SEND 0x79
#define NVME_CMD_ZONE_MGMT_RECV 0x7a
#define NVME_CMD_ZONE_APPEND 0x7d
/* ONCS bits beyond the first four (NVMe 2.0 Figure 275, byte 520) */
#define NVME_ONCS_FEATURES_SAVE (1u << 4)
#define NVME_ONCS_RESERVATIONS (1u << 5)
#define NVME_ONCS_TIMESTAMP (1u << 6)
#define NVME_ONCS_VERIFY (1u << 7)
#define NVME_ONCS_COPY (1u << 8)
/* OCFS (Identify Controller byte 534): Copy Descriptor Formats 0h, 1h */
#define NVME_OCFS_FORMAT0 (1u << 0)
#define NVME_OCFS_FORMAT1 (1u << 1)

/* Copy (NVM CS 1.0 §3.2.2): CDW10-11 SDLBA, CDW12 bits 7:0 NR (0-based),
 * 11:8 Descriptor Format, 30 FUA, 31 LR; the data are NR + 1 Source
 * Range Entries, Format 0h (NVM CS Figure 34): 32 bytes each. */
#define NVME_CMD_COPY 0x19
struct nvme_copy_range {
    uint8_t rsvd0[8];
    uint64_t slba;
    uint16_t nlb; /* 0-based */
    uint8_t rsvd18[6];
    uint32_t eilbrt;
    uint16_t elbat;
    uint16_t elbatm;
};
NVME_STATIC_ASSERT(sizeof(struct nvme_copy_range) == 32, "Copy range is 32 bytes");
/* Format 1h, for the 32b and 64b Guard PI formats: 40 bytes, the same
 * SLBA and NLB, then an 80-bit Expected Logical Block Storage Tag and
 * Initial Reference Tag (bytes 35:26), ELBAT and ELBATM. */
struct nvme_copy_range_f1 {
    uint8_t rsvd0[8];
    uint64_t slba;
    uint16_t nlb; /* 0-based */
    uint8_t rsvd18[8];
    uint8_t elbt[10];
    uint16_t elbat;
    uint16_t elbatm;
};
NVME_STATIC_ASSERT(sizeof(struct nvme_copy_range_f1) == 40, "Copy range format 1h is 40 bytes");
#define NVME_COPY_FORMAT_SHIFT 8 /* CDW12 bits 11:8 */

/* Read/Write/Compare/Verify/Write Zeroes CDW12 (NVM CS §3.2.6 Figure 63) */
#define NVME_RW_LR (1u << 31)    /* Limited Retry */
#define NVME_RW_FUA (1u << 30)   /* Force Unit Access */
#define NVME_RW_PRACT (1u << 29) /* PRINFO: Protection Information Action */
#define NVME_RW_PRCHK_GUARD (1u << 28)
#define NVME_RW_PRCHK_APP (1u << 27)
#define NVME_RW_PRCHK_REF (1u << 26)
#define NVME_WZ_DEAC (1u << 25) /* Write Zeroes: deallocate (NVM CS §3.2.8) */

/* Dataset Management (NVM CS §3.2.3): CDW10 NR (0-based ranges) bits 7:0,
 * CDW11 attributes; 16-byte range entries (NVM CS Figure 41). */
#define NVME_DSM_IDR (1u << 0)
#define NVME_DSM_IDW (1u << 1)
#define NVME_DSM_AD (1u << 2) /* deallocate */
#define NVME_DSM_MAX_RANGES 256u
struct nvme_dsm_range {
    uint32_t cattr; /* context attributes */
    uint32_t nlb;   /* length in logical blocks (1-based) */
    uint64_t slba;
};
NVME_STATIC_ASSERT(sizeof(struct nvme_dsm_range) == 16, "DSM range is 16 bytes");

/* Identify CNS values (NVMe 2.0 Figure 273) */
#define NVME_CNS_NS_DESC_LIST 0x03
#define NVME_CNS_CS_NS 0x05   /* I/O Command Set specific Identify Namespace */
#define NVME_CNS_CS_CTRL 0x06 /* I/O Command Set specific Identify Controller */
#define NVME_CNS_CS_ACTIVE_NS_LIST 0x07
/* allocated NSIDs, attached or not (Namespace Management, OACS bit 3) */
#define NVME_CNS_ALLOCATED_NS_LIST 0x10
#define NVME_CNS_ALLOCATED_NS 0x11         /* Identify Namespace of an allocated NSID */
#define NVME_CNS_NS_CTRL_LIST 0x12         /* controllers attached to NSID */
#define NVME_CNS_CTRL_LIST 0x13            /* controllers in the NVM subsystem */
#define NVME_CNS_CS_ALLOCATED_NS_LIST 0x1a /* allocated NSIDs of one I/O Command Set */
#define NVME_CNS_IOCS 0x1c                 /* I/O Command Set data structure */
/* Command Set Identifiers (NVMe 2.0 Figure 274), CDW11 bits 31:24 */
#define NVME_CSI_NVM 0x00
#define NVME_CSI_KV 0x01
#define NVME_CSI_ZNS 0x02
/* Namespace Identification Descriptor types, NIDT (Identify CNS 03h, NVMe 2.0) */
#define NVME_NIDT_EUI64 0x01
#define NVME_NIDT_NGUID 0x02
#define NVME_NIDT_UUID 0x03
#define NVME_NIDT_CSI 0x04
/* Controller list (NVMe 2.0 §4.4.1): a count then up to 2047 CNTIDs. */
#define NVME_CTRL_LIST_MAX 2047u
/* I/O Command Set data structure (CNS 1Ch, NVMe 2.0 §5.17.2.21, Figure
 * 289): 512 vectors of 8 bytes, bit n = command set n. */
#define NVME_IOCS_VECTORS 512u

/* Features (NVMe 2.0 Figure 316) */
#define NVME_FEAT_LBA_RANGE 0x03 /* LBA Range Type: Get returns 4096 bytes (64 entries) */
#define NVME_FEAT_APST 0x0c      /* Autonomous Power State Transition, 256-byte data */
/* Host Memory Buffer (FID 0Dh, §5.21.1.13; §8, Host Memory Buffer): Set
 * takes no data (CDW11 EHM bit 0, MR bit 1; CDW12 HSIZE in memory pages;
 * CDW13/14 the descriptor list's address; CDW15 its entry count); Get
 * returns a 4096-byte attributes structure. */
#define NVME_FEAT_HOST_MEM_BUF 0x0d
#define NVME_HMB_EHM (1u << 0) /* enable host memory */
#define NVME_HMB_MR (1u << 1)  /* memory return: the buffer as it was before a reset */
struct nvme_hmb_desc {         /* Host Memory Buffer Descriptor Entry */
    uint64_t badd;             /* buffer address, memory page aligned */
    uint32_t bsize;            /* buffer size in memory pages */
    uint32_t rsvd;
};
NVME_STATIC_ASSERT(sizeof(struct nvme_hmb_desc) == 16, "HMB descriptor is 16 bytes");
#define NVME_FEAT_TIMESTAMP 0x0e /* 8-byte data (NVMe 2.0 §5.27.1.11) */
#define NVME_FEAT_IOCS_PROFILE 0x19
#define NVME_FEAT_APST_DATA_SIZE 256u
#define NVME_FEAT_TIMESTAMP_DATA_SIZE 8u
#define NVME_FEAT_HOST_BEHAVIOR_DATA_SIZE 512u
/* Host Identifier (FID 81h, with reservations: ONCS bit 5): a data
 * structure of 8 bytes, or 16 with EXHID (CDW11 bit 0) (NVMe 2.0 §5.27.1.25). */
#define NVME_FEAT_HOST_ID 0x81
#define NVME_FEAT_HOST_ID_EXHID (1u << 0)
#define NVME_FEAT_HOST_ID_DATA_SIZE 16u
/* C0h-FFh: vendor specific (NVMe 2.0 Figure 316). */
#define NVME_FEAT_VENDOR_FIRST 0xc0
/* Get Features SEL (CDW10 bits 10:8, NVMe 2.0 §5.15) and Set Features SV
 * (CDW10 bit 31, NVMe 2.0 §5.27). */
#define NVME_FEAT_SEL_SHIFT 8
#define NVME_FEAT_SEL_CURRENT 0u
#define NVME_FEAT_SEL_DEFAULT 1u
#define NVME_FEAT_SEL_SAVED 2u
#define NVME_FEAT_SEL_SUPPORTED 3u
#define NVME_FEAT_SV (1u << 31)
/* Capabilities returned with SEL = 011b (NVMe 2.0 Figure 195) */
#define NVME_FEAT_CAP_SAVEABLE (1u << 0)
#define NVME_FEAT_CAP_NS_SPECIFIC (1u << 1)
#define NVME_FEAT_CAP_CHANGEABLE (1u << 2)

/* Log pages (NVMe 2.0 Figure 202) */
#define NVME_LID_EFFECTS 0x05
#define NVME_LID_SELF_TEST 0x06
#define NVME_LID_TELEMETRY_HOST 0x07        /* Telemetry Host-Initiated (NVMe 2.0 §5.16.1.8) */
#define NVME_LOG_LSP_TELEMETRY_CREATE 0x01u /* LSP bit 0: capture the data now */
#define NVME_LID_TELEMETRY_CTRL 0x08        /* Telemetry Ctrl-Initiated (NVMe 2.0 §5.16.1.9) */
/* Persistent Event Log (NVMe 1.4 §5.14.1.13, NVMe 2.0 §5.16.1.14): LSP
 * bits 1:0 are the Action on the reporting context, a snapshot of the log
 * that Read Log Data reads; establishing one while one exists, or reading
 * without one, is a Command Sequence Error.  Release Context reads no log
 * data: the host releases the context after reading the log. */
#define NVME_LID_PERSISTENT_EVENT 0x0d
#define NVME_LOG_LSP_PEL_ACTION_MASK 0x03u
#define NVME_LOG_LSP_PEL_READ 0x00u      /* Read Log Data */
#define NVME_LOG_LSP_PEL_ESTABLISH 0x01u /* Establish Context and Read Log Data */
#define NVME_LOG_LSP_PEL_RELEASE 0x02u   /* Release Context */
/* Establish Context and Read 512 Bytes of Header (NVMe 2.0; Supported Log
 * Pages LID Specific Parameter bit 0, ECRH) */
#define NVME_LOG_LSP_PEL_ESTABLISH_HEADER 0x03u
/* Reservation Notification (NVMe 2.0 §5.16.1.24): one 64-byte page per
 * read, the oldest, which the read removes; Log Page Count 0 is empty. */
#define NVME_LID_RESV_NOTIF 0x80
#define NVME_LID_SANITIZE 0x81
/* Get Log Page CDW10: LID 7:0, LSP 14:8, RAE 15, NUMDL 31:16; CDW11
 * NUMDU 15:0, LSI 31:16; CDW12/13 LPOL/LPOU; CDW14 CSI 31:24. */
#define NVME_LOG_RAE (1u << 15)
/* Without extended data (Identify LPA bit 2) only NUMDL bits 27:16 count:
 * at most 4096 dwords in one command, no NUMDU, no offset. */
#define NVME_LOG_NOEXT_MAX_BYTES 16384u

/* Error Information log entry (NVMe 2.0 §5.16.1.2, Figure 206) */
struct __attribute__((packed)) nvme_error_log_entry {
    uint64_t error_count;
    uint16_t sqid;
    uint16_t cid;
    uint16_t status; /* bit 0 phase tag, 15:1 status field */
    uint16_t param_loc;
    uint64_t lba;
    uint32_t nsid;
    uint8_t vs;
    uint8_t trtype;
    uint8_t csi;    /* Command Set Indicator (NVMe 2.0) */
    uint8_t opcode; /* of the command that failed (NVMe 2.0) */
    uint64_t cs;
    uint16_t trtype_spec;
    uint8_t rsvd42[21];
    uint8_t log_page_version; /* byte 63 */
};
NVME_STATIC_ASSERT(sizeof(struct nvme_error_log_entry) == 64, "error entry is 64 bytes");

/* Firmware Slot Information (NVMe 2.0 §5.16.1.4, Figure 209) */
struct nvme_fw_slot_log {
    uint8_t afi; /* bits 2:0 active slot, 6:4 slot at next reset */
    uint8_t rsvd1[7];
    char frs[7][8]; /* revision in slot 1..7 */
    uint8_t rsvd64[448];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_fw_slot_log) == 512, "firmware slot log is 512 bytes");

/* Commands Supported and Effects (NVMe 2.0 §5.16.1.6, Figure 210/211) */
struct nvme_effects_log {
    uint32_t acs[256];  /* admin opcodes */
    uint32_t iocs[256]; /* I/O opcodes */
    uint8_t rsvd[2048];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_effects_log) == 4096, "effects log is 4096 bytes");
#define NVME_EFFECTS_CSUPP (1u << 0) /* command supported */
#define NVME_EFFECTS_LBCC (1u << 1)  /* logical block content change */
#define NVME_EFFECTS_NCC (1u << 2)   /* namespace capability change */
#define NVME_EFFECTS_NIC (1u << 3)   /* namespace inventory change */
#define NVME_EFFECTS_CCC (1u << 4)   /* controller capability change */
/* Command Submission and Execution, bits 18:16: 0 no restriction, 1 no
 * other command to the same namespace, 2 to any namespace */
#define NVME_EFFECTS_CSE_MASK (7u << 16)

/* Device Self-test (NVMe 2.0 §5.9, CDW10 STC bits 3:0) and its log
 * (NVMe 2.0 §5.16.1.7, Figures 212/213): 20 results of 28 bytes, newest first. */
#define NVME_DST_SHORT 0x1u
#define NVME_DST_EXTENDED 0x2u
#define NVME_DST_VENDOR 0xeu
#define NVME_DST_ABORT 0xfu
struct __attribute__((packed)) nvme_self_test_result {
    uint8_t status; /* 3:0 result (0 ok, Fh unused entry), 7:4 STC */
    uint8_t segment;
    uint8_t valid; /* bit 0 NSID, 1 FLBA, 2 SCT, 3 SC */
    uint8_t rsvd3;
    uint64_t poh; /* power on hours */
    uint32_t nsid;
    uint64_t flba;
    uint8_t sct;
    uint8_t sc;
    uint16_t vs;
};
NVME_STATIC_ASSERT(sizeof(struct nvme_self_test_result) == 28, "self-test result is 28 bytes");
struct __attribute__((packed)) nvme_self_test_log {
    uint8_t current;    /* bits 3:0 operation in progress (0: none) */
    uint8_t completion; /* bits 6:0 percent */
    uint8_t rsvd2[2];
    struct nvme_self_test_result result[20];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_self_test_log) == 564, "self-test log is 564 bytes");
#define NVME_DST_RESULT_UNUSED 0xfu

/* Sanitize (§5.24, CDW10): SANACT 2:0, AUSE 3, OWPASS 7:4, OIPBP 8,
 * NDAS 9; CDW11 overwrite pattern.  Status log LID 81h (NVMe 2.0 §5.16.1.25). */
#define NVME_SANACT_EXIT_FAILURE 0x1u
#define NVME_SANACT_BLOCK 0x2u
#define NVME_SANACT_OVERWRITE 0x3u
#define NVME_SANACT_CRYPTO 0x4u
struct nvme_sanitize_log {
    uint16_t sprog;  /* progress, n/65536 */
    uint16_t sstat;  /* bits 2:0: 0 never, 1 completed, 2 in progress, 3 failed */
    uint32_t scdw10; /* CDW10 of the last Sanitize */
    uint32_t eto;    /* estimated times, seconds (FFFFFFFFh: none) */
    uint32_t etbe;
    uint32_t etce;
    uint32_t etond;
    uint32_t etbend;
    uint32_t etcend;
    uint8_t rsvd32[480];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_sanitize_log) == 512, "sanitize log is 512 bytes");

/* Format NVM (§5.23, CDW10): LBAF 3:0, MSET 4, PI 7:5, PIL 8, SES 11:9,
 * LBAFU 13:12 (NVMe 2.0: format index bits 5:4). */
#define NVME_FORMAT_SES_NONE 0u
#define NVME_FORMAT_SES_USER 1u
#define NVME_FORMAT_SES_CRYPTO 2u

/* Firmware Commit (§5.11, CDW10): FS 2:0, CA 5:3, BPID 31. */
#define NVME_FW_CA_REPLACE 0u
#define NVME_FW_CA_REPLACE_ACTIVATE 1u /* activate at next reset */
#define NVME_FW_CA_ACTIVATE 2u         /* slot FS at next reset */
#define NVME_FW_CA_ACTIVATE_NOW 3u     /* without reset */

/* Zoned Namespace Command Set (ZNS 1.1) */
/* Zone Management Send actions (ZNS Figure 39, CDW13 ZSA 7:0; CDW13 bit 8 Select All) */
#define NVME_ZSA_CLOSE 0x01u
#define NVME_ZSA_FINISH 0x02u
#define NVME_ZSA_OPEN 0x03u
#define NVME_ZSA_RESET 0x04u
#define NVME_ZSA_OFFLINE 0x05u
#define NVME_ZSA_SET_ZDE 0x10u /* Set Zone Descriptor Extension (ZNS 1.1 §3.4.3) */
#define NVME_ZSA_SELECT_ALL (1u << 8)
/* Zone Management Receive (ZNS Figures 33-34): CDW12 NUMD (0-based dwords), CDW13
 * ZRA 7:0 (00h Report Zones), ZRASF 15:8 (00h all), bit 16 Partial Report. */
#define NVME_ZRA_REPORT 0x00u
#define NVME_ZRASF_ALL 0x00u
#define NVME_ZRA_PARTIAL (1u << 16)
/* Zone Append CDW12 bit 25 (ZNS §3.4.1): Protection Information Remap, the
 * reference tags counted from the ZSLBA's (ILBRT) moved to where the data
 * lands; required with Type 1 PI, reserved with Type 3. */
#define NVME_ZA_PIREMAP (1u << 25)
/* Zone states (ZNS Figure 7, zone descriptor ZS bits 7:4) */
#define NVME_ZS_EMPTY 0x1u
#define NVME_ZS_IMPLICIT_OPEN 0x2u
#define NVME_ZS_EXPLICIT_OPEN 0x3u
#define NVME_ZS_CLOSED 0x4u
#define NVME_ZS_READ_ONLY 0xdu
#define NVME_ZS_FULL 0xeu
#define NVME_ZS_OFFLINE 0xfu
#define NVME_ZT_SEQ_WRITE 0x2u
struct nvme_zone_desc { /* ZNS Figure 37 */
    uint8_t zt;         /* bits 3:0 zone type */
    uint8_t zs;         /* bits 7:4 zone state */
    uint8_t za;         /* zone attributes */
    uint8_t zai;
    uint8_t rsvd4[4];
    uint64_t zcap; /* zone capacity, blocks */
    uint64_t zslba;
    uint64_t wp; /* write pointer */
    uint8_t rsvd32[32];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_zone_desc) == 64, "zone descriptor is 64 bytes");
struct nvme_zone_report { /* ZNS Figure 35: header, then descriptors */
    uint64_t nr_zones;
    uint8_t rsvd8[56];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_zone_report) == 64, "zone report header is 64 bytes");
/* I/O Command Set specific Identify Namespace for ZNS (CNS 05h CSI 02h, ZNS Figure 48) */
struct nvme_zns_lbafe {
    uint64_t zsze; /* zone size, blocks */
    uint8_t zdes;  /* zone descriptor extension size, 64-byte units */
    uint8_t rsvd9[7];
};
struct nvme_id_ns_zns {
    uint16_t zoc;  /* 0: zone operation characteristics */
    uint16_t ozcs; /* 2: optional zoned command support */
    uint32_t mar;  /* 4: max active resources, 0-based, FFFFFFFFh none */
    uint32_t mor;  /* 8: max open resources, 0-based */
    uint32_t rrl;  /* 12 */
    uint32_t frl;  /* 16 */
    uint8_t rsvd20[2796];
    struct nvme_zns_lbafe lbafe[64]; /* 2816 */
    uint8_t vs[256];                 /* 3840 */
};
NVME_STATIC_ASSERT(sizeof(struct nvme_id_ns_zns) == 4096, "ZNS Identify Namespace is 4096 bytes");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns_zns, lbafe) == 2816, "LBAFE offset");
/* I/O Command Set specific Identify Namespace for the NVM Command Set
 * (CNS 05h CSI 00h, NVM CS 1.0 §4.1.5.3, Figures 100-101): the Extended
 * LBA Formats, read when CTRATT.ELBAS says the controller has them.
 * ELBAF n goes with LBA format n: bits 6:0 Storage Tag Size (STS), 8:7
 * Protection Information Format (PIF: 00b 16b Guard, 01b 32b Guard, 10b
 * 64b Guard). */
struct nvme_id_ns_nvm {
    uint64_t lbstm;     /* 0: Logical Block Storage Tag Mask */
    uint8_t pic;        /* 8: Protection Information Capabilities */
    uint8_t rsvd9[3];   /* 9 */
    uint32_t elbaf[64]; /* 12 */
    uint8_t rsvd268[3828];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_id_ns_nvm) == 4096, "NVM Identify Namespace is 4096 bytes");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ns_nvm, elbaf) == 12, "ELBAF offset");
#define NVME_ELBAF_STS(e) ((e)&0x7fu)
#define NVME_ELBAF_PIF(e) (((e) >> 7) & 0x3u)
#define NVME_PIF_16B_GUARD 0u
#define NVME_PIF_32B_GUARD 1u
#define NVME_PIF_64B_GUARD 2u
#define NVME_CTRATT_ELBAS (1u << 15) /* Extended LBA Formats Supported (NVMe 2.0 Figure 275) */
/* I/O Command Set Specific Identify Controller for the NVM Command Set
 * (CNS 06h CSI 00h, NVM CS 1.0 §4.1.5.4, Figure 102): limits of the
 * commands that move no data; 0 = no limit. */
struct nvme_id_ctrl_nvm {
    uint8_t vsl;        /* 0: Verify Size Limit, 2^n * MPSMIN */
    uint8_t wzsl;       /* 1: Write Zeroes Size Limit, 2^n * MPSMIN */
    uint8_t wusl;       /* 2: Write Uncorrectable Size Limit, 2^n * MPSMIN */
    uint8_t dmrl;       /* 3: DSM (deallocate) Ranges Limit */
    uint32_t dmrsl;     /* 4: DSM (deallocate) Range Size Limit, blocks */
    uint64_t dmsl;      /* 8: DSM (deallocate) Size Limit, blocks in all */
    uint8_t rsvd[4080]; /* 16 */
};
NVME_STATIC_ASSERT(sizeof(struct nvme_id_ctrl_nvm) == 4096,
                   "NVM Identify Controller is 4096 bytes");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl_nvm, dmrsl) == 4, "DMRSL offset");
NVME_STATIC_ASSERT(offsetof(struct nvme_id_ctrl_nvm, dmsl) == 8, "DMSL offset");
/* ZNS Identify Controller (CNS 06h CSI 02h, ZNS Figure 50): byte 0 ZASL,
 * zone append size limit, 2^n * MPSMIN, 0 = MDTS. */

/* Status codes of NVMe 2.0 and ZNS the core names (status.c) */
#define NVME_SC_CMD_SIZE_LIMIT 0x83        /* SCT 1: Command Size Limit Exceeded */
#define NVME_SC_COMPARE_FAILED 0x85        /* SCT 2 */
#define NVME_SC_ACCESS_DENIED 0x86         /* SCT 2 */
#define NVME_SC_DEALLOCATED_BLOCK 0x87     /* SCT 2: Deallocated or Unwritten Logical Block */
#define NVME_SC_INVALID_FORMAT 0x0a        /* SCT 1 */
#define NVME_SC_INVALID_FW_SLOT 0x06       /* SCT 1 */
#define NVME_SC_INVALID_FW_IMAGE 0x07      /* SCT 1 */
#define NVME_SC_FW_NEEDS_CONV_RESET 0x0b   /* SCT 1 */
#define NVME_SC_FEAT_NOT_SAVEABLE 0x0d     /* SCT 1 */
#define NVME_SC_FEAT_NOT_CHANGEABLE 0x0e   /* SCT 1 */
#define NVME_SC_SELF_TEST_IN_PROGRESS 0x1d /* SCT 1 */
#define NVME_SC_SANITIZE_IN_PROGRESS 0x1d  /* SCT 0 */
#define NVME_SC_ZONE_BOUNDARY 0xb8         /* SCT 1, ZNS Figure 11 */
#define NVME_SC_ZONE_FULL 0xb9
#define NVME_SC_ZONE_READ_ONLY 0xba
#define NVME_SC_ZONE_OFFLINE 0xbb
#define NVME_SC_ZONE_INVALID_WRITE 0xbc
#define NVME_SC_ZONE_TOO_MANY_ACTIVE 0xbd
#define NVME_SC_ZONE_TOO_MANY_OPEN 0xbe
#define NVME_SC_ZONE_INVALID_TRANSITION 0xbf
#define NVME_SC_GUARD_CHECK 0x82  /* SCT 2 */
#define NVME_SC_REFTAG_CHECK 0x84 /* SCT 2 */
#define NVME_SC_INVALID_PI 0x81   /* SCT 1: Invalid Protection Information */

/* Reservations (NVMe 1.4 §6.10-6.13; §8, Reservations), with ONCS bit 5.
 * I/O opcodes: */
#define NVME_CMD_RESV_REGISTER 0x0d /* data: CRKEY, NRKEY (16 bytes) */
#define NVME_CMD_RESV_REPORT 0x0e   /* CDW10 NUMD (0-based dwords), CDW11 bit 0 EDS */
#define NVME_CMD_RESV_ACQUIRE 0x11  /* data: CRKEY, PRKEY (16 bytes) */
#define NVME_CMD_RESV_RELEASE 0x15  /* data: CRKEY (8 bytes) */
/* CDW10: the action in bits 2:0 (RREGA, RACQA, RRELA), IEKEY bit 3, RTYPE
 * bits 15:8 (Acquire, Release), CPTPL bits 31:30 (Register). */
#define NVME_RESV_ACTION(cdw10) ((cdw10)&0x7u)
#define NVME_RESV_IEKEY (1u << 3)
#define NVME_RESV_RTYPE_SHIFT 8
#define NVME_RESV_CPTPL_SHIFT 30
#define NVME_RESV_REPORT_EDS (1u << 0)
#define NVME_RREGA_REGISTER 0u
#define NVME_RREGA_UNREGISTER 1u
#define NVME_RREGA_REPLACE 2u
#define NVME_RACQA_ACQUIRE 0u
#define NVME_RACQA_PREEMPT 1u
#define NVME_RACQA_PREEMPT_ABORT 2u
#define NVME_RRELA_RELEASE 0u
#define NVME_RRELA_CLEAR 1u
#define NVME_CPTPL_CLEAR 2u /* Persist Through Power Loss state to 0 */
#define NVME_CPTPL_SET 3u   /* ... to 1 */
/* Reservation types (§6.10, Reservation Acquire RTYPE) */
#define NVME_RTYPE_WRITE_EXCLUSIVE 1u
#define NVME_RTYPE_EXCLUSIVE_ACCESS 2u
#define NVME_RTYPE_WE_REGISTRANTS_ONLY 3u
#define NVME_RTYPE_EA_REGISTRANTS_ONLY 4u
#define NVME_RTYPE_WE_ALL_REGISTRANTS 5u
#define NVME_RTYPE_EA_ALL_REGISTRANTS 6u
/* Identify Namespace RESCAP (byte 31): bit 0 Persist Through Power Loss,
 * bit n (1..6) reservation type n, bit 7 IEKEY as in NVMe 1.3 and later. */
#define NVME_RESCAP_PTPL (1u << 0)
#define NVME_RESCAP_IEKEY (1u << 7)
#define NVME_SC_RESERVATION_CONFLICT 0x83 /* SCT 0 */
/* Reservation Status data structure (§6.13): a 24-byte header, then one
 * 24-byte Registered Controller data structure per registrant; with EDS a
 * 64-byte header and 64-byte Registered Controller Extended data
 * structures, which carry 128-bit host identifiers.
 * REGCTL is unaligned (bytes 6:5) and counts every registrant, also those
 * the transfer (NUMD) cut off. */
struct nvme_resv_status {
    uint32_t gen;      /* 0: generation, bumped by Register, Preempt, Clear */
    uint8_t rtype;     /* 4: 0 = no reservation */
    uint8_t regctl[2]; /* 5: Number of Registered Controllers, little endian */
    uint8_t rsvd7[2];
    uint8_t ptpls; /* 9: Persist Through Power Loss State */
    uint8_t rsvd10[14];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_resv_status) == 24, "Reservation Status header is 24 bytes");
NVME_STATIC_ASSERT(offsetof(struct nvme_resv_status, ptpls) == 9, "PTPLS is byte 9");
#define NVME_RESV_STATUS_EXT_HDR 64u
struct nvme_resv_ctrl {
    uint16_t cntlid;
    uint8_t rcsts; /* bit 0: holds the reservation */
    uint8_t rsvd3[5];
    uint64_t hostid;
    uint64_t rkey;
};
NVME_STATIC_ASSERT(sizeof(struct nvme_resv_ctrl) == 24, "Registered Controller is 24 bytes");
struct nvme_resv_ctrl_ext {
    uint16_t cntlid;
    uint8_t rcsts;
    uint8_t rsvd3[5];
    uint64_t rkey;
    uint8_t hostid[16];
    uint8_t rsvd32[32];
};
NVME_STATIC_ASSERT(sizeof(struct nvme_resv_ctrl_ext) == 64, "Registered Controller Extended is 64");
NVME_STATIC_ASSERT(offsetof(struct nvme_resv_ctrl_ext, hostid) == 16, "extended HOSTID at 16");
#define NVME_RESV_RCSTS_HOLDER (1u << 0)

#endif /* NVME_SPEC_H */
