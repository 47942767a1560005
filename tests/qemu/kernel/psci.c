/* SPDX-License-Identifier: MIT */
/* psci.c - see psci.h. */
#include "psci.h"

#include "fdt.h"
#include "hw.h"

unsigned psci_probe(struct psci *p, uint32_t cpu_on_default)
{
    struct fdt_node n;
    p->found = p->smc = false;
    p->cpu_on = cpu_on_default;
    if (fdt_by_name("psci", &n)) {
        uint32_t len;
        const char *m = fdt_prop(&n, "method", &len);
        p->found = m != NULL;
        p->smc = m && len >= 3 && !memcmp(m, "smc", 3);
        p->cpu_on = fdt_u32(&n, "cpu_on", cpu_on_default);
    }
    kprintf("harness: smp: PSCI %s, CPU_ON 0x%x\n",
            !p->found ? "absent"
            : p->smc  ? "smc"
                      : "hvc",
            (unsigned)p->cpu_on);
    return p->found ? fdt_count_device_type("cpu") : 1u;
}
