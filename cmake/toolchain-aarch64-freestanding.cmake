# Freestanding build of libnvme-core for aarch64 with Debian's cross gcc
# (package gcc-aarch64-linux-gnu): no libc, no startup files, no libgcc.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_AR aarch64-linux-gnu-ar)
set(CMAKE_RANLIB aarch64-linux-gnu-ranlib)
set(NVME_NM aarch64-linux-gnu-nm CACHE STRING "nm for the archive check")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-ffreestanding -nostdlib -fno-builtin -fno-stack-protector -fno-pic -O2 -mgeneral-regs-only")
# CMake's Release appends -O3 after these flags: keep the -O2 above, what
# kernels build with and what the freestanding checks state (a -D on the
# command line still chooses another).
set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Release flags: -O2, as kernels build")
