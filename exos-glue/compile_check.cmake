# compile_check.cmake - compiles sources freestanding with EXOS's kernel
# flags, against osal/exos/exos_api.h (no EXOS sources needed).
# cmake -DCC=<compiler> -DARCH_FLAGS=<;-list> -DSOURCES=<;-list> [-DEXTRA_FLAGS=<;-list>]
#       -DINCLUDES=<;-list> -DOUT=<dir> -P compile_check.cmake
# Fails on the first source that does not compile warning-free.
set(EXOS_CFLAGS -D__KERNEL__ -Wall -Wextra -Werror -O0 -falign-functions=16
    -ffreestanding -fno-builtin -nostdinc -fno-pic -fno-pie -fno-stack-protector
    -fno-asynchronous-unwind-tables -fno-exceptions -fno-unwind-tables
    -fvisibility=hidden -mno-red-zone -Werror-implicit-function-declaration
    -Wstrict-prototypes -fno-tree-loop-distribute-patterns)
execute_process(COMMAND ${CC} ${ARCH_FLAGS} -print-file-name=include
                OUTPUT_VARIABLE cc_include OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${CC} not usable")
endif()
set(inc_flags -isystem ${cc_include})
foreach(i ${INCLUDES})
  list(APPEND inc_flags -I${i})
endforeach()
file(MAKE_DIRECTORY ${OUT})
set(n 0)
foreach(src ${SOURCES})
  get_filename_component(name ${src} NAME_WE)
  execute_process(COMMAND ${CC} ${EXOS_CFLAGS} ${ARCH_FLAGS} ${inc_flags} ${EXTRA_FLAGS}
                          -c -o ${OUT}/${name}.o ${src}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${CC} ${ARCH_FLAGS}: ${src} does not compile:\n${out}${err}")
  endif()
  math(EXPR n "${n} + 1")
endforeach()
# EXOS links its kernel without libgcc: 64-bit division helpers on -m32
# would be undefined at link time.
file(GLOB objs ${OUT}/*.o)
execute_process(COMMAND nm -u ${objs} OUTPUT_VARIABLE undef RESULT_VARIABLE rc)
if(rc EQUAL 0 AND undef MATCHES "__(u?div|u?mod)di3")
  message(FATAL_ERROR "libgcc helper referenced (EXOS does not link libgcc):\n${undef}")
endif()
if(n EQUAL 0)
  message(FATAL_ERROR "no sources to check")
endif()
message(STATUS "${n} source(s) compile with ${CC} ${ARCH_FLAGS}")
