# Warning flags shared by every C target of the project.
set(NVME_WARNING_FLAGS -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wpointer-arith -Wcast-align -Wno-unused-parameter)
