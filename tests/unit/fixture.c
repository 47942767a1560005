/* SPDX-License-Identifier: MIT */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NVME_TEST_SKIP=<cmocka glob>: cases a variant of the run cannot apply
 * (set by tests/unit/CMakeLists.txt, with the reason there).  Runs before
 * the test program's main. */
__attribute__((constructor)) static void fx_skip_filter(void)
{
    const char *skip = getenv("NVME_TEST_SKIP");
    if (skip && *skip)
        cmocka_set_skip_filter(skip);
}

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
    fx_noncoherent(&f->cfg);
}

void fx_noncoherent(struct nvme_sim_config *cfg)
{
    /* NVME_TEST_NONCOHERENT=1 (the "-noncoherent" ctest entries) runs every
     * test on a simulated non-coherent machine; =strict also has the OSAL
     * declare dma_align instead of bouncing unaligned reads (test_io reads
     * into buffers at offset 4, which the core would then refuse).
     * NVME_TEST_CACHE_LINE overrides the 64-byte line. */
    if (getenv("NVME_TEST_VERBOSE"))
        cfg->quiet = false; /* the simulator's messages (violations) on stderr */
    /* NVME_TEST_DBBUF=1 (the "-dbbuf" ctest entries): the controller also
     * offers Doorbell Buffer Config, so the core runs its queues with
     * shadow doorbells and EventIdx (OACS bit 8). */
    const char *d = getenv("NVME_TEST_DBBUF");
    if (d && *d && strcmp(d, "0") != 0)
        cfg->oacs |= NVME_OACS_DBBUF;
    /* Late data movement (cfg.dma_timing_seed) on for every test: Reads
     * and Writes move their data at fetch, later and at completion, and
     * complete late and out of order.  NVME_TEST_DMA_SEED picks the seed
     * (0: data and CQE inside the doorbell). */
    const char *t = getenv("NVME_TEST_DMA_SEED");
    cfg->dma_timing_seed = t && *t ? (uint32_t)strtoul(t, NULL, 0) : 1u;
    const char *e = getenv("NVME_TEST_NONCOHERENT");
    if (!e || !*e || !strcmp(e, "0"))
        return;
    cfg->noncoherent = true;
    cfg->bounce_unaligned = strcmp(e, "strict") != 0;
    const char *l = getenv("NVME_TEST_CACHE_LINE");
    if (l && *l)
        cfg->cache_line = (uint32_t)strtoul(l, NULL, 0);
}

void fx_create(struct fx *f)
{
    f->sim = nvme_sim_create(&f->cfg);
    assert_non_null(f->sim);
    nvme_sim_osal(f->sim, &f->osal);
}

int fx_init(struct fx *f)
{
    int rc = nvme_ctrl_init(&f->ctrl, &f->osal, &f->opts);
    if (rc == 0)
        nvme_sim_set_irq_handler(f->sim, nvme_ctrl_handle_irq, f->ctrl);
    return rc;
}

int fx_try_start(struct fx *f)
{
    fx_create(f);
    return fx_init(f);
}

void fx_start(struct fx *f)
{
    int rc = fx_try_start(f);
    if (rc != 0)
        fail_msg("nvme_ctrl_init: %d (%s)", rc, nvme_strerror(rc));
    assert_non_null(f->ctrl);
}

void fx_stop(struct fx *f) { fx_stop_expect(f, 0); }

void fx_stop_expect(struct fx *f, int fini_rc)
{
    /* nvme_ctrl_fini frees everything even when the shutdown did not
     * complete (NVME_ERR_TIMEOUT, NVME_ERR_GONE): its result is the only
     * sign of that, so a test states what it expects. */
    int rc = nvme_ctrl_fini(f->ctrl);
    f->ctrl = NULL;
    if (rc != fini_rc)
        fail_msg("nvme_ctrl_fini: %d (%s), expected %d (%s)", rc, nvme_strerror(rc), fini_rc,
                 nvme_strerror(fini_rc));
    assert_int_equal(nvme_sim_dma_violations(f->sim), 0);
    /* Lifecycle rule 1: the device never touched memory handed back. */
    assert_int_equal(nvme_sim_dma_after_return(f->sim), 0);
    if (nvme_sim_host_errors(f->sim) != 0) /* the simulator's messages say which */
        print_message("%s", nvme_sim_log_text(f->sim));
    assert_int_equal(nvme_sim_host_errors(f->sim), 0);
    /* Non-coherent mode: no missing or misplaced cache clean/invalidate
     * (the simulator's messages say where, also when a test captured them). */
    if (nvme_sim_coherency_violations(f->sim) != 0)
        print_message("%s", nvme_sim_log_text(f->sim));
    assert_int_equal(nvme_sim_coherency_violations(f->sim), 0);
    assert_int_equal(nvme_sim_dma_live(f->sim), 0);
    nvme_sim_destroy(f->sim);
    f->sim = NULL;
}

void fx_print(void *arg, const char *s)
{
    struct fx_out *o = arg;
    size_t n = strlen(s);
    /* Never cut: a test would assert on part of the output. */
    if (o->len + n >= sizeof(o->text))
        fail_msg("text output beyond %zu bytes", sizeof(o->text) - 1);
    memcpy(o->text + o->len, s, n);
    o->len += n;
    o->text[o->len] = '\0';
}

void fx_write_raw(void *arg, const void *data, size_t len)
{
    struct fx_out *o = arg;
    if (o->bin_len + len > sizeof(o->bin))
        fail_msg("binary output beyond %zu bytes", sizeof(o->bin));
    memcpy(o->bin + o->bin_len, data, len);
    o->bin_len += len;
}

int fx_nvmectl(struct fx *f, struct fx_out *o, const char *line)
{
    static char buf[1u << 20] __attribute__((aligned(4096)));
    char copy[512];
    struct nvmectl_io io = {fx_print, o, buf, sizeof(buf), NULL, "nvme0", fx_write_raw, NULL};
    o->len = 0;
    o->text[0] = '\0';
    o->bin_len = 0;
    /* Never cut: a shorter line would run another command than written. */
    if (strlen(line) >= sizeof(copy))
        fail_msg("command line longer than %zu characters: %.60s...", sizeof(copy) - 1, line);
    memcpy(copy, line, strlen(line) + 1);
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

uint8_t *fx_xalloc(size_t len)
{
    uint8_t *p = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);
    assert_non_null(p);
    memset(p, 0, len);
    return p;
}

void fx_start_captured(struct fx *f)
{
    f->sim = nvme_sim_create(&f->cfg);
    assert_non_null(f->sim);
    nvme_sim_log_capture(f->sim, true);
    nvme_sim_osal(f->sim, &f->osal);
    int rc = nvme_ctrl_init(&f->ctrl, &f->osal, &f->opts);
    if (rc != 0)
        fail_msg("nvme_ctrl_init: %d (%s)\n%s", rc, nvme_strerror(rc), nvme_sim_log_text(f->sim));
    nvme_sim_set_irq_handler(f->sim, nvme_ctrl_handle_irq, f->ctrl);
}

void fx_inject(struct fx *f, enum nvme_sim_fault_kind kind, int qid, int opcode, uint32_t value,
               unsigned count)
{
    struct nvme_sim_fault flt = {kind, qid, opcode, NVME_SIM_ANY, value, 0, count};
    assert_int_equal(nvme_sim_inject(f->sim, &flt), 0);
}

void fx_refuse_queues(struct fx *f)
{
    fx_inject(f, NVME_SIM_FAULT_STATUS, 0, NVME_ADMIN_SET_FEATURES,
              NVME_SF(0, NVME_SC_INTERNAL) | NVME_SF_DNR_BIT, 1);
}

void fx_init_admin_only(struct fx *f)
{
    fx_refuse_queues(f);
    assert_int_equal(fx_init(f), 0);
    assert_true(nvme_ctrl_get_info(f->ctrl)->admin_only);
}

bool fx_log_has(struct fx *f, const char *s)
{
    return strstr(nvme_sim_log_text(f->sim), s) != NULL;
}

void fx_rec_cb(void *arg, int result, uint32_t dw0)
{
    (void)dw0;
    struct fx_rec *r = arg;
    r->calls++;
    r->result = result;
}

void fx_poll_until(struct fx *f, uint16_t qid, const struct fx_rec *r, uint64_t max_us)
{
    uint64_t t0 = nvme_sim_now(f->sim);
    while (r->calls == 0 && nvme_sim_now(f->sim) - t0 < max_us) {
        (void)nvme_qpair_poll(f->ctrl, qid, 0);
        nvme_sim_advance(f->sim, 1000);
    }
    (void)nvme_qpair_poll(f->ctrl, qid, 0); /* what the last millisecond brought */
    /* No silent return: a test would go on as if the callback had run
     * (an fx_rec zeroed reads as a success). */
    if (r->calls == 0)
        fail_msg("fx_poll_until: no completion on queue %u within %llu us", qid,
                 (unsigned long long)max_us);
}
