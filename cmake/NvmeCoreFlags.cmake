# Flags of the freestanding libraries (libnvme-core, libnvmectl), shared by
# their CMakeLists.txt.  libnvme-core/nvme-core-sources.mk states the same
# for make-based kernels (ctest fragment-matches-cmake compares the lists).
include_guard(GLOBAL)
# Freestanding everywhere, host builds included: the core must never lean
# on libc.  -fno-tree-loop-distribute-patterns (GCC only; clang has no
# such pass) stops GCC from turning byte loops back into memset/memcpy calls.
set(NVME_CORE_REQUIRED_FLAGS -ffreestanding -fno-builtin)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  list(APPEND NVME_CORE_REQUIRED_FLAGS -fno-tree-loop-distribute-patterns)
endif()
# aarch64: GCC >= 10 (and clang) turn atomic read-modify-writes into calls
# to libgcc's __aarch64_ldadd4_* helpers by default; inline them instead.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  list(APPEND NVME_CORE_REQUIRED_FLAGS -mno-outline-atomics)
endif()
# An instrumented build (NVME_SANITIZE, NVME_TSAN, NVME_COVERAGE) calls its
# instrumentation's runtime (__asan_*, __ubsan_*, __tsan_*, __gcov_*): a test build,
# not the freestanding core, so its libraries are never archived.  They are
# object libraries, whose objects go straight into each test program (all
# of which link nvme-core, and nvmectl-lib where they use it).
if(NVME_SANITIZE OR NVME_TSAN OR NVME_COVERAGE)
  set(NVME_CORE_LIBRARY_TYPE OBJECT)
else()
  set(NVME_CORE_LIBRARY_TYPE STATIC)
endif()
# Warnings are errors where this tree is the project being built (CI, the
# freestanding proofs); a kernel that add_subdirectory()s it gets them as
# warnings, so a newer compiler's new warning does not stop its build.
get_filename_component(_nvme_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
string(FIND "${CMAKE_SOURCE_DIR}/" "${_nvme_root}/" _nvme_top)
if(_nvme_top EQUAL 0)
  set(_nvme_werror_default ON)
else()
  set(_nvme_werror_default OFF)
endif()
option(NVME_WERROR "Treat warnings as errors in the core and nvmectl" ${_nvme_werror_default})
set(NVME_CORE_WARNING_FLAGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wcast-align -Wvla -Wconversion -Wno-sign-conversion)
if(NVME_WERROR)
  list(APPEND NVME_CORE_WARNING_FLAGS -Werror)
endif()
