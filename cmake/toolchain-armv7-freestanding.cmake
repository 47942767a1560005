# Freestanding build of libnvme-core for 32-bit ARM (ARMv7-A, ARM state,
# soft float as kernels build) with Debian's cross gcc (package
# gcc-arm-linux-gnueabihf): no libc, no startup files, no libgcc.  Plain
# -march=armv7-a has no divide instruction (Cortex-A8, A9): the core's
# divides then go through nvme_div32/nvme_mod32, never __aeabi_uidiv.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_AR arm-linux-gnueabihf-ar)
set(CMAKE_RANLIB arm-linux-gnueabihf-ranlib)
set(NVME_NM arm-linux-gnueabihf-nm CACHE STRING "nm for the archive check")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-ffreestanding -nostdlib -fno-builtin -fno-stack-protector -fno-pic -O2 -march=armv7-a -marm -mfloat-abi=soft")
# CMake's Release appends -O3 after these flags: keep the -O2 above, what
# kernels build with and what the freestanding checks state (a -D on the
# command line still chooses another).
set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Release flags: -O2, as kernels build")
