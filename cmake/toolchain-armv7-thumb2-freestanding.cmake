# Freestanding build of libnvme-core for 32-bit ARM in Thumb-2 state
# (-mthumb), as many ARMv7 kernels are built: the ARMv7-A toolchain with
# -marm swapped for -mthumb (still no divide instruction, soft float).
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-armv7-freestanding.cmake)
set(NVME_NM arm-linux-gnueabihf-nm CACHE STRING "nm for the archive check")
string(REPLACE "-marm" "-mthumb" CMAKE_C_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
