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
set(NVME_CORE_WARNING_FLAGS -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wpointer-arith -Wcast-align -Wvla -Wconversion -Wno-sign-conversion)
