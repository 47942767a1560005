# Freestanding build of libnvme-core for 32-bit RISC-V (RV32IMAC, soft
# float) with clang, which targets any ISA it knows without a cross gcc;
# binutils' ar and nm read its little-endian ELF objects.  At -Os, clang
# turns a struct assignment into a memcpy call here where gcc on the
# other 32-bit ISAs copies inline (ctest freestanding-riscv32-Os).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET riscv32-unknown-none-elf)
set(NVME_NM nm CACHE STRING "nm for the archive check")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-ffreestanding -nostdlib -fno-builtin -fno-stack-protector -fno-pic -O2 -march=rv32imac -mabi=ilp32")
# CMake's Release appends -O3 after these flags: keep the -O2 above, what
# kernels build with and what the freestanding checks state (a -D on the
# command line still chooses another).
set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Release flags: -O2, as kernels build")
