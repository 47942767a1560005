# Freestanding build of libnvme-core for 64-bit little-endian POWER
# (ELFv2) with clang, which targets any ISA it knows without a cross gcc;
# binutils' ar and nm read its little-endian ELF objects.  The core has no
# barrier of its own for POWER: its C11 fences (lwsync, sync) are the
# ones Linux's dma_rmb/dma_wmb/mb use there.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR ppc64le)
set(CMAKE_C_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET powerpc64le-unknown-none-elf)
set(NVME_NM nm CACHE STRING "nm for the archive check")
# The TOC base the ELFv2 code addresses its data from: the linker defines it.
set(NVME_LINKER_DEFINED "^[.]TOC[.]$" CACHE STRING "outside symbols the linker defines")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-ffreestanding -nostdlib -fno-builtin -fno-stack-protector -O2 -msoft-float")
# CMake's Release appends -O3 after these flags: keep the -O2 above, what
# kernels build with and what the freestanding checks state (a -D on the
# command line still chooses another).
set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Release flags: -O2, as kernels build")
