/* SPDX-License-Identifier: MIT */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fx_config(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    nvme_sim_config_init(&f->cfg);
    f->cfg.quiet = true;
    f->cfg.log_level = -1;
    f->ns[0].nsid = 1;
    f->ns[0].blocks = 8192;
    f->ns[0].lba_size = 512;
    f->cfg.ns = f->ns;
    f->cfg.ns_count = 1;
    f->opts.command_timeout_ms = 2000;
}

int fx_try_start(struct fx *f)
{
    f->sim = nvme_sim_create(&f->cfg);
    assert_non_null(f->sim);
    nvme_sim_osal(f->sim, &f->osal);
    int rc = nvme_ctrl_init(&f->ctrl, &f->osal, &f->opts);
    if (rc == 0)
        nvme_sim_set_irq_handler(f->sim, nvme_ctrl_handle_irq, f->ctrl);
    return rc;
}

void fx_start(struct fx *f)
{
    int rc = fx_try_start(f);
    if (rc != 0)
        fail_msg("nvme_ctrl_init: %d (%s)", rc, nvme_strerror(rc));
    assert_non_null(f->ctrl);
}

void fx_stop(struct fx *f)
{
    nvme_ctrl_fini(f->ctrl);
    f->ctrl = NULL;
    assert_int_equal(nvme_sim_dma_violations(f->sim), 0);
    /* Lifecycle rule 1: the device never touched memory handed back. */
    assert_int_equal(nvme_sim_dma_after_return(f->sim), 0);
    assert_int_equal(nvme_sim_host_errors(f->sim), 0);
    assert_int_equal(nvme_sim_dma_live(f->sim), 0);
    nvme_sim_destroy(f->sim);
    f->sim = NULL;
}

void fx_print(void *arg, const char *s)
{
    struct fx_out *o = arg;
    size_t n = strlen(s);
    if (o->len + n >= sizeof(o->text))
        n = sizeof(o->text) - 1 - o->len;
    memcpy(o->text + o->len, s, n);
    o->len += n;
    o->text[o->len] = '\0';
}

int fx_nvmectl(struct fx *f, struct fx_out *o, const char *line)
{
    static char buf[1u << 20] __attribute__((aligned(4096)));
    char copy[512];
    struct nvmectl_io io = {fx_print, o, buf, sizeof(buf), NULL, "nvme0"};
    o->len = 0;
    o->text[0] = '\0';
    snprintf(copy, sizeof(copy), "%s", line);
    return nvmectl_run_line(f->ctrl, &io, copy);
}

void fx_pattern(void *buf, size_t len, uint32_t seed)
{
    uint8_t *b = buf;
    uint32_t x = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
}
