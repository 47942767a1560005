# Warning flags shared by every C target of the project (errors as
# NVME_WERROR says: NvmeCoreFlags.cmake).
include(NvmeCoreFlags)
set(NVME_WARNING_FLAGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wcast-align -Wno-unused-parameter)
if(NVME_WERROR)
  list(APPEND NVME_WARNING_FLAGS -Werror)
endif()
