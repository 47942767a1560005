# Freestanding build of libnvme-core for x86_64 with Debian's cross gcc
# (package gcc, native on x86-64 hosts; x86_64-linux-gnu-gcc): no libc, no startup files, no libgcc.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-linux-gnu-gcc)
set(CMAKE_AR x86_64-linux-gnu-ar)
set(CMAKE_RANLIB x86_64-linux-gnu-ranlib)
set(NVME_NM x86_64-linux-gnu-nm CACHE STRING "nm for the archive check")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-ffreestanding -nostdlib -fno-builtin -fno-stack-protector -fno-pic -O2 -m64 -mno-red-zone -mgeneral-regs-only -mcmodel=kernel")
# CMake's Release appends -O3 after these flags: keep the -O2 above, what
# kernels build with and what the freestanding checks state (a -D on the
# command line still chooses another).
set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Release flags: -O2, as kernels build")
