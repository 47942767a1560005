# SPDX-License-Identifier: MIT
# nvme-core-sources.mk - what a make-based kernel build needs to compile
# nvme-core: the source lists, the include directories and the flags the
# core depends on.  It defines variables only (no rules, no goals), so it
# can be included anywhere in a kernel Makefile:
#
#     include /path/to/nvme-core/libnvme-core/nvme-core-sources.mk
#     NVME_OBJS := $(patsubst $(NVME_CORE_ROOT)/%.c,$(BUILD)/nvme/%.o,$(NVME_CORE_SOURCES) $(NVMECTL_SOURCES))
#     $(BUILD)/nvme/%.o: $(NVME_CORE_ROOT)/%.c
#             @mkdir -p $(@D)
#             $(CC) $(KERNEL_CFLAGS) $(NVME_CORE_REQUIRED_CFLAGS) $(NVME_CORE_CPPFLAGS) -c -o $@ $<
#
# Defines (all paths absolute):
#   NVME_CORE_ROOT          root of the nvme-core tree
#   NVME_CORE_SOURCES       libnvme-core/src/*.c, the driver core
#   NVME_CORE_INCLUDE_DIRS  its public include directory (nvme/nvme.h,
#                           nvme/nvme_osal.h, nvme/nvme_spec.h, nvme/nvme_fmt.h)
#   NVMECTL_SOURCES         libnvmectl/src/*.c, the nvmectl front end
#                           (optional; needs the core)
#   NVMECTL_INCLUDE_DIRS    its include directories (nvme/nvmectl.h + the core's)
#   NVME_CORE_REQUIRED_CFLAGS
#                           flags the sources need beside the kernel's own:
#                           freestanding, no builtins, and for GCC no
#                           loop-to-memset/memcpy rewriting (the core links
#                           without libc); on aarch64 inline atomics (no
#                           libgcc __aarch64_* helpers).  The sources are C11 with GNU
#                           attributes: GCC's and clang's default -std
#                           (gnu17) is right, -std=gnu11 or later works.
#   NVME_CORE_CPPFLAGS      -I for both include lists, plus
#                           -DNVME_NO_STATUS_NAMES when NVME_STATUS_NAMES=0,
#                           -DNVME_NO_LOG when NVME_LOG=0,
#                           -DNVMECTL_NO_<GROUP>=1 for each group of
#                           NVMECTL_LEAVE_OUT
#
# Knob (set before including):
#   NVME_STATUS_NAMES       1 (default): nvme_status_name() names every
#                           status; 0 drops the tables (about 5 KB) and
#                           returns "SCT x SC yy"
#   NVME_LOG                1 (default): the core formats its messages for
#                           the OSAL's log(); 0 sends none (about 6 KB of
#                           code and 6 KB of text less; errors are still
#                           returned, without their text)
#   NVMECTL_LEAVE_OUT       empty (default), or groups of nvmectl commands
#                           to leave out of NVMECTL_SOURCES, e.g. "zns resv":
#                             zns        report-zones, zone-mgmt-send,
#                                        zone-append, zns id-ctrl/id-ns/
#                                        open-zone .. offline-zone
#                             resv       resv-register .. resv-report
#                             telemetry  telemetry-log
#                             nvme2      supported-log-pages, endurance-log,
#                                        ana-log, primary-ctrl-caps,
#                                        list-secondary, id-iocs,
#                                        nvm-id-ctrl, nvm-id-ns
#                             passthru   admin-passthru, io-passthru
#                             mgmt       format, device-self-test, sanitize,
#                                        fw-download, fw-commit,
#                                        subsystem-reset, create-ns,
#                                        delete-ns, attach-ns, detach-ns
#                             regs       show-regs
#                           nvmectl still knows their names and answers
#                           "nvmectl zns-id-ns: not built in
#                           (NVMECTL_LEAVE_OUT zns)" with a failure
#   NVME_CORE_TARGET_CFLAGS flags that choose the compiler's target, e.g.
#                           clang's --target=aarch64-none-elf, when they
#                           are not in CC or CFLAGS
#
# Include it after CC and CFLAGS are set (the flags depend on the compiler
# and its target).  The core also wants a little-endian CPU and, in the
# kernel, an OSAL (struct nvme_osal): see PORTING.md.  The lists match
# libnvme-core/CMakeLists.txt and libnvmectl/CMakeLists.txt (ctest
# fragment-matches-cmake).

NVME_CORE_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
NVME_STATUS_NAMES ?= 1
NVME_LOG ?= 1
NVMECTL_LEAVE_OUT ?=

NVME_CORE_SOURCES := \
	$(NVME_CORE_ROOT)/libnvme-core/src/ctrl.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/handle.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/regs.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/cmd.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/recovery.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/aer.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/admin.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/hmb.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/qpair.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/prp.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/ns.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/io.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/nvm_cmds.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/identify.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/mgmt.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/status.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/trace.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/util.c \
	$(NVME_CORE_ROOT)/libnvme-core/src/fmt.c
NVME_CORE_INCLUDE_DIRS := $(NVME_CORE_ROOT)/libnvme-core/include

NVMECTL_SOURCES := \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_main.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_num.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_out.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_json.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_identify.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_logs.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_features.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_io.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_mgmt.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_passthru.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_resv.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_telemetry.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_nvme2_logs.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_nvme2_identify.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_regs.c \
	$(NVME_CORE_ROOT)/libnvmectl/src/ctl_zns.c
# The groups NVMECTL_LEAVE_OUT may name: NVMECTL_NO_<the first word>,
# then the group's files (libnvmectl/CMakeLists.txt has the same table).
NVMECTL_GROUPS := zns resv telemetry nvme2 passthru mgmt regs
NVMECTL_GROUP_zns := ZNS ctl_zns.c
NVMECTL_GROUP_resv := RESV ctl_resv.c
NVMECTL_GROUP_telemetry := TELEMETRY ctl_telemetry.c
NVMECTL_GROUP_nvme2 := NVME2 ctl_nvme2_logs.c ctl_nvme2_identify.c
NVMECTL_GROUP_passthru := PASSTHRU ctl_passthru.c
NVMECTL_GROUP_mgmt := MGMT ctl_mgmt.c
NVMECTL_GROUP_regs := REGS ctl_regs.c
ifneq ($(filter-out $(NVMECTL_GROUPS),$(NVMECTL_LEAVE_OUT)),)
$(error NVMECTL_LEAVE_OUT: no group $(filter-out $(NVMECTL_GROUPS),$(NVMECTL_LEAVE_OUT)) (groups: $(NVMECTL_GROUPS)))
endif
NVMECTL_SOURCES := $(filter-out \
	$(foreach g,$(NVMECTL_LEAVE_OUT),$(addprefix $(NVME_CORE_ROOT)/libnvmectl/src/,$(wordlist 2,9,$(NVMECTL_GROUP_$(g))))), \
	$(NVMECTL_SOURCES))
NVMECTL_INCLUDE_DIRS := $(NVME_CORE_ROOT)/libnvmectl/include $(NVME_CORE_INCLUDE_DIRS)

# clang has no -ftree-loop-distribute-patterns (and warns about it).
NVME_CORE_CC_IS_CLANG := $(findstring clang,$(shell $(CC) --version 2>/dev/null | head -n 1))
# aarch64: atomics inline, not calls to libgcc's __aarch64_* helpers.  The
# target is the compiler's with the flags that may choose it (clang's
# --target=), as they are where this file is included.
NVME_CORE_TARGET_CFLAGS ?=
NVME_CORE_CC_IS_AARCH64 := $(findstring aarch64,$(shell \
	$(CC) $(NVME_CORE_TARGET_CFLAGS) $(CFLAGS) -dumpmachine 2>/dev/null))
NVME_CORE_REQUIRED_CFLAGS := -ffreestanding -fno-builtin \
	$(if $(NVME_CORE_CC_IS_CLANG),,-fno-tree-loop-distribute-patterns) \
	$(if $(NVME_CORE_CC_IS_AARCH64),-mno-outline-atomics)
NVME_CORE_CPPFLAGS := $(addprefix -I,$(NVMECTL_INCLUDE_DIRS)) \
	$(if $(filter 0,$(NVME_STATUS_NAMES)),-DNVME_NO_STATUS_NAMES) \
	$(if $(filter 0,$(NVME_LOG)),-DNVME_NO_LOG) \
	$(foreach g,$(NVMECTL_LEAVE_OUT),-DNVMECTL_NO_$(firstword $(NVMECTL_GROUP_$(g)))=1)
