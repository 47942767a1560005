// SPDX-License-Identifier: MIT
// The public headers in a C++ translation unit, as a C++ kernel includes
// them: they compile as C++11 and name the libraries' C symbols (extern "C").
#include <nvme/nvme.h>
#include <nvme/nvme_fmt.h>
#include <nvme/nvme_osal.h>
#include <nvme/nvme_spec.h>
#include <nvme/nvmectl.h>

int main()
{
    char b[32];
    nvme_snprintf(b, sizeof b, "%s", nvme_strerror(NVME_ERR_TIMEOUT));
    uint64_t v = 0;
    bool ok = nvme_streq(b, "timeout") && nvmectl_parse_u64("0x1000", &v) && v == 4096;
    return ok ? 0 : 1;
}
