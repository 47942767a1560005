/*
 * size_min.c - the entry point of a kernel that uses only the block-I/O
 * API, for bench/size.sh: linked against the core with --gc-sections, it
 * keeps exactly the code such a kernel pulls in.  Never run; the values
 * passed are placeholders (the OSAL is NULL).
 */
#include <nvme/nvme.h>

void nvme_size_min_entry(void);

static void size_min_cb(void *arg, int result, uint32_t dw0)
{
    (void)arg;
    (void)result;
    (void)dw0;
}

void nvme_size_min_entry(void)
{
    static char buf[4096] __attribute__((aligned(4096)));
    struct nvme_ctrl *ctrl;

    if (nvme_ctrl_init(&ctrl, (const struct nvme_osal *)0, (const struct nvme_ctrl_opts *)0) != 0)
        return;
    const struct nvme_ns_info *ns = nvme_ns_count(ctrl) ? nvme_ns_at(ctrl, 0) : 0;
    uint32_t nsid = ns ? ns->nsid : 1;
    nvme_read(ctrl, nsid, 0, 1, buf);
    nvme_write(ctrl, nsid, 0, 1, buf);
    nvme_flush(ctrl, nsid);
    nvme_submit_rw(ctrl, 1, NVME_CMD_READ, nsid, 0, 1, buf, NVME_SUBMIT_NO_DOORBELL, size_min_cb,
                   0);
    nvme_qpair_ring(ctrl, 1);
    nvme_qpair_poll(ctrl, 1, 0);
    nvme_ctrl_handle_irq(ctrl, 0);
    nvme_ctrl_service(ctrl);
    nvme_ctrl_fini(ctrl);
}
