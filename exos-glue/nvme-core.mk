# SPDX-License-Identifier: MIT
# nvme-core.mk - builds nvme-core into the EXOS kernel.
#
# Include it from EXOS's kernel/Makefile AFTER the line
#     OBJS   = $(OBJ_S) $(OBJ_C)
# and BEFORE the rule "$(KERNEL_ELF): $(OBJS) ..." (make expands a rule's
# prerequisites when it reads the rule), e.g.:
#     NVME_CORE_DIR := /path/to/nvme-core
#     include $(NVME_CORE_DIR)/exos-glue/nvme-core.mk
#
# It compiles the core and the nvmectl front end (the lists, include
# directories and required flags of libnvme-core/nvme-core-sources.mk),
# osal/exos/*.c and exos-glue/*.c with EXOS's own CFLAGS (same compiler,
# -m32/-m64, -mcmodel=large, -ffreestanding, -nostdinc ...), with four
# differences:
#   - the ../third include directories are left out and the compiler's own
#     freestanding headers (stdint.h, stddef.h, stdbool.h) come first:
#     ../third/include/stdint.h lacks the C99 limits and stdbool.h;
#   - -DNVME_EXOS_NATIVE=1, so osal/exos/exos_api.h includes EXOS's real
#     headers and checks its own declarations against them;
#   - NVME_CORE_OPT after them: EXOS builds itself at -O0, which makes our
#     objects a third larger than -O2 and half as large again as -Os;
#   - on x86-64, NVME_CORE_CMODEL (-mcmodel=kernel) after EXOS's
#     -mcmodel=large (see the knob below).
# The objects go to $(BUILD_DIR)/kernel/nvme-core/ and are appended to OBJS.
#
# Knobs:
#   NVME_CORE_DIR              root of the nvme-core tree (default: the
#                              directory above this file)
#   NVME_CORE_EXCLUDE_BUILTIN  1 (default): drop EXOS's own
#                              source/drivers/storage/NVMe-*.c from SRC_C
#   NVME_CORE_DEFINES          extra -D options, e.g. -DNVME_EXOS_WRITE_THROUGH=1
#                              -DNVME_EXOS_FLUSH_MS=500 -DNVME_EXOS_POLLING=1
#                              -DNVME_EXOS_HMB_MAX_MIB=32 (Host Memory Buffer cap
#                              for DRAM-less SSDs; 0: none)
#                              (set it in the environment or on make's command
#                              line; a change rebuilds the nvme-core objects)
#   NVME_STATUS_NAMES          1 (default); 0 leaves the status-name tables
#                              out (see nvme-core-sources.mk)
#   NVME_LOG                   1 (default); 0 leaves the core's messages out
#                              (see nvme-core-sources.mk)
#   NVMECTL_LEAVE_OUT          empty (default); groups of nvmectl commands
#                              to leave out, e.g. "zns resv": zns resv
#                              telemetry nvme2 passthru mgmt regs (see
#                              nvme-core-sources.mk; what each saves on
#                              EXOS x86-64: README, "Known EXOS issue");
#                              the shell still knows their names and says
#                              "not built in"
#   NVME_CORE_OPT              -Os -fno-strict-aliasing -fno-jump-tables
#                              (default; switches as compare chains: 350
#                              bytes less on x86-64, as Linux's retpoline
#                              builds): the
#                              optimisation of our objects only; an x86-64
#                              EXOS kernel past a size does not boot (README,
#                              "Known EXOS issue"); -O2 -fno-strict-aliasing
#                              for speed where it fits; empty keeps EXOS's -O0
#   NVME_CORE_CMODEL           x86-64 (EXOS's -mcmodel=large): -mcmodel=kernel
#                              (default) for our objects; EXOS links its kernel
#                              at 0xffffffffc0000000, in the top 2 GiB, which
#                              gcc's kernel code model reaches with 32-bit
#                              displacements: direct calls and RIP-relative
#                              loads instead of a movabs before each, our
#                              objects a tenth smaller (21 KiB on a --debug
#                              kernel).  A kernel linked elsewhere fails to
#                              link ("relocation truncated to fit"): set it
#                              empty to keep EXOS's model.  x86-32: unused.
#   NVME_CORE_NOFPU            x86 (both): -mno-sse -mno-mmx -mno-80387
#                              (default; as Linux builds its kernel): our
#                              objects never touch the x87, MMX or SSE
#                              registers (EXOS saves x87 state alone, with
#                              fsave; SSE state never), even from an
#                              interrupt (with SSE, gcc's variadic
#                              functions store XMM0-7 when a caller says
#                              so: 183 bytes of .text on x86-64); empty
#                              allows them

NVME_EXOS_MK_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
NVME_CORE_DIR ?= $(abspath $(NVME_EXOS_MK_DIR)..)
NVME_CORE_EXCLUDE_BUILTIN ?= 1
NVME_CORE_DEFINES ?=
NVME_CORE_OPT ?= -Os -fno-strict-aliasing -fno-jump-tables
NVME_CORE_CMODEL ?= $(if $(filter -mcmodel=large,$(CFLAGS) $(ARCH_CFLAGS)),-mcmodel=kernel)
NVME_CORE_NOFPU ?= -mno-sse -mno-mmx -mno-80387
include $(NVME_CORE_DIR)/libnvme-core/nvme-core-sources.mk

ifeq ($(NVME_CORE_EXCLUDE_BUILTIN),1)
SRC_C := $(filter-out source/drivers/storage/NVMe-%.c,$(SRC_C))
endif

# NVME_CORE_ROOT is NVME_CORE_DIR made absolute (nvme-core-sources.mk).
NVME_CORE_SRC := $(NVME_CORE_SOURCES) $(NVMECTL_SOURCES) \
                 $(wildcard $(NVME_CORE_ROOT)/osal/exos/*.c) \
                 $(wildcard $(NVME_CORE_ROOT)/exos-glue/*.c)
NVME_CORE_OBJ := $(patsubst $(NVME_CORE_ROOT)/%.c,$(BUILD_DIR)/kernel/nvme-core/%.o,$(NVME_CORE_SRC))

NVME_CORE_CC_INCLUDE := $(shell $(CC) $(ARCH_CFLAGS) -print-file-name=include)
NVME_CORE_CFLAGS = $(filter-out -I../third%,$(CFLAGS)) \
                   -isystem $(NVME_CORE_CC_INCLUDE) \
                   $(NVME_CORE_REQUIRED_CFLAGS) $(NVME_CORE_OPT) $(NVME_CORE_CMODEL) $(NVME_CORE_NOFPU) \
                   -DNVME_EXOS_NATIVE=1 $(NVME_CORE_DEFINES) \
                   $(NVME_CORE_CPPFLAGS) \
                   -I$(NVME_CORE_ROOT)/osal/exos \
                   -I$(NVME_CORE_ROOT)/exos-glue

# Changing NVME_CORE_DEFINES (or NVME_STATUS_NAMES, NVME_LOG, NVMECTL_LEAVE_OUT, NVME_CORE_OPT,
# NVME_CORE_CMODEL, NVME_CORE_NOFPU)
# rebuilds our objects: they depend on a stamp file rewritten whenever those values change.
NVME_CORE_STAMP := $(BUILD_DIR)/kernel/nvme-core/options.stamp
NVME_CORE_STAMP_TEXT := defines=$(strip $(NVME_CORE_DEFINES)) status_names=$(NVME_STATUS_NAMES) log=$(NVME_LOG) \
                        leave_out=$(strip $(NVMECTL_LEAVE_OUT)) opt=$(strip $(NVME_CORE_OPT)) \
                        cmodel=$(strip $(NVME_CORE_CMODEL)) nofpu=$(strip $(NVME_CORE_NOFPU))
ifneq ($(strip $(file <$(NVME_CORE_STAMP))),$(strip $(NVME_CORE_STAMP_TEXT)))
$(shell mkdir -p $(dir $(NVME_CORE_STAMP)))
$(file >$(NVME_CORE_STAMP),$(NVME_CORE_STAMP_TEXT))
endif

$(BUILD_DIR)/kernel/nvme-core/%.o: $(NVME_CORE_ROOT)/%.c $(NVME_CORE_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(NVME_CORE_CFLAGS) -MMD -MP -c -o $@ $<

# Header dependencies; the included rules must not become the default goal.
NVME_CORE_SAVED_GOAL := $(.DEFAULT_GOAL)
-include $(NVME_CORE_OBJ:.o=.d)
.DEFAULT_GOAL := $(NVME_CORE_SAVED_GOAL)
OBJS += $(NVME_CORE_OBJ)
