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
