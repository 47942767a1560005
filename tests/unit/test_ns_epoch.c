/* SPDX-License-Identifier: MIT */
/* The namespace epoch of the nvm_cmds.c calls (Write Zeroes, Dataset
 * Management, Copy, Verify, nvme_read_ext/nvme_write_ext, Zone
 * Management, Zone Append, I/O passthrough): their commands must be
 * placed under the epoch their checks (range, status, identity) read, as
 * io.c's nvme_read/nvme_write are.  A rescan on another CPU that lands
 * between the checks and the commands is played here from
 * nvme_reset_waited, which nvm_ns calls right after its checks passed
 * (linked with -Wl,--wrap=nvme_reset_waited: the one call in that
 * window that leaves its object file). */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#include "../../libnvme-core/src/nvme_internal.h"

bool __real_nvme_reset_waited(struct nvme_ctrl *ctrl, int *rc, unsigned *spent);
bool __wrap_nvme_reset_waited(struct nvme_ctrl *ctrl, int *rc, unsigned *spent);

static struct fx *g_f;
static void (*between)(void); /* "another CPU", once, at the next call */

bool __wrap_nvme_reset_waited(struct nvme_ctrl *ctrl, int *rc, unsigned *spent)
{
    void (*f)(void) = between;
    between = NULL;
    if (f != NULL)
        f();
    return __real_nvme_reset_waited(ctrl, rc, spent);
}

/* Namespace 1 resized to 4096 blocks (same identifiers, same format). */
static void shrink_ns1(void)
{
    struct nvme_sim_ns_config small = g_f->ns[0];
    small.blocks = 4096;
    assert_int_equal(nvme_sim_ns_remove(g_f->sim, 1), 0);
    assert_int_equal(nvme_sim_ns_add(g_f->sim, &small), 0);
    assert_int_equal(nvme_ns_rescan(g_f->ctrl), 0);
}

/* Namespace 1 deleted and created again under its NSID: other EUI64 and
 * NGUID, the same size and format. */
static void renew_ns1(void)
{
    struct nvme_sim_ns_config again = g_f->ns[0];
    again.ident = 1;
    assert_int_equal(nvme_sim_ns_remove(g_f->sim, 1), 0);
    assert_int_equal(nvme_sim_ns_add(g_f->sim, &again), 0);
    assert_int_equal(nvme_ns_rescan(g_f->ctrl), 0);
}

/* The fixture started, with dma_alloc hooked when `alloc_hook` (the
 * rescan then played from it: hook_dma_alloc); namespace 1. */
static void *(*real_dma_alloc)(void *ctx, size_t size, size_t align, uint64_t *bus);
static void *hook_dma_alloc(void *ctx, size_t size, size_t align, uint64_t *bus);
static const struct nvme_ns_info *start(struct fx *f, bool alloc_hook)
{
    fx_config(f);
    fx_create(f);
    if (alloc_hook) {
        real_dma_alloc = f->osal.dma_alloc;
        f->osal.dma_alloc = hook_dma_alloc;
    }
    assert_int_equal(fx_init(f), 0);
    g_f = f;
    const struct nvme_ns_info *ns = nvme_ns_find(f->ctrl, 1);
    assert_non_null(ns);
    assert_int_equal(ns->nsze, 8192);
    return ns;
}

/* A call that named blocks past the end of namespace 1 shrunk by the
 * rescan it met: NVME_ERR_RANGE, nothing past NSZE sent (what went
 * past it would come back as the device's LBA Out of Range). */
static void refused_past_the_shrunk_end(const struct nvme_ns_info *ns, int rc, const char *what)
{
    assert_int_equal(ns->nsze, 4096);
    if (rc > 0)
        print_message("device status %04x (%s): %s went past NSZE\n", rc, nvme_strerror(rc), what);
    assert_int_equal(rc, NVME_ERR_RANGE);
}

/* Write Zeroes at the old end of a namespace that a rescan shrank after
 * the call's range check: no command past the new end (the device would
 * fail it LBA Out of Range), but NVME_ERR_RANGE, as nvme_write answers. */
static void write_zeroes_past_a_shrunk_namespace_sends_no_command(void **state)
{
    (void)state;
    struct fx f;
    const struct nvme_ns_info *ns = start(&f, false);
    between = shrink_ns1;
    int rc = nvme_write_zeroes(f.ctrl, 1, 8000, 8, 0);
    assert_null(between); /* the rescan ran inside the call */
    refused_past_the_shrunk_end(ns, rc, "a command");
    fx_stop(&f);
}

/* nvme_write_ext to a namespace deleted and created again (other
 * identifiers) after the call's checks: the data was meant for the old
 * namespace and must not land in the new one; NVME_ERR_BUSY, as
 * nvme_write's pieces answer (nvme_rw_recheck, nvme_ns_renewed_since). */
static void write_ext_to_a_namespace_created_again_is_not_sent(void **state)
{
    (void)state;
    struct fx f;
    const struct nvme_ns_info *ns = start(&f, false);
    uint8_t eui[8];
    memcpy(eui, ns->eui64, sizeof(eui));
    uint8_t *buf = fx_xalloc(4096), *back = fx_xalloc(4096);
    fx_pattern(buf, 512, 77);
    between = renew_ns1;
    int rc = nvme_write_ext(f.ctrl, 1, 0, 1, buf, NULL, 0);
    assert_null(between);
    assert_memory_not_equal(ns->eui64, eui, sizeof(eui)); /* another namespace now */
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, back), 0);
    if (memcmp(back, buf, 512) == 0)
        print_message("the old namespace's data landed in the new namespace (rc %d)\n", rc);
    assert_int_equal(rc, NVME_ERR_BUSY);
    assert_memory_not_equal(back, buf, 512);
    free(buf);
    free(back);
    fx_stop(&f);
}

/* The rescan played from the next dma_alloc instead: the bounce buffer
 * of a command whose checks are done (nvme_exec_bounce), before the
 * command is placed. */
static void (*at_alloc)(void); /* as `between`, from the next dma_alloc */
static void *hook_dma_alloc(void *ctx, size_t size, size_t align, uint64_t *bus)
{
    void *p = real_dma_alloc(ctx, size, align, bus);
    void (*f)(void) = at_alloc;
    at_alloc = NULL;
    if (f != NULL)
        f();
    return p;
}

/* Dataset Management (deallocate) of blocks at the old end of a
 * namespace that a rescan shrank after nvm_dsm checked its ranges and
 * before the command was placed: the placement refuses it (the epoch
 * moved) and the checks that run again cover the ranges themselves, not
 * only the LBA 0 the command names (nvm_exec_built's lba 0, count 1). */
static void deallocate_past_a_shrunk_namespace_sends_no_command(void **state)
{
    (void)state;
    struct fx f;
    const struct nvme_ns_info *ns = start(&f, true);
    struct nvme_dsm_range r = {0, 8, 8000};
    at_alloc = shrink_ns1;
    int rc = nvme_dsm(f.ctrl, 1, NVME_DSM_AD, &r, 1);
    assert_null(at_alloc);
    refused_past_the_shrunk_end(ns, rc, "a range");
    fx_stop(&f);
}

/* Copy from blocks at the old end of a namespace that a rescan shrank
 * after nvme_copy checked its sources, to a destination still inside
 * it: the checks that run again after the refusal cover the sources, not
 * only the destination; no Copy reaches the device. */
static void copy_from_past_a_shrunk_namespace_sends_no_command(void **state)
{
    (void)state;
    struct fx f;
    const struct nvme_ns_info *ns = start(&f, true);
    const struct nvme_copy_src src = {8000, 8};
    at_alloc = shrink_ns1; /* the page of source entries, after their check */
    int rc = nvme_copy(f.ctrl, 1, 0, &src, 1, 0);
    assert_null(at_alloc);
    refused_past_the_shrunk_end(ns, rc, "a source");
    assert_int_equal(nvme_sim_stats(f.sim)->copies, 0);
    fx_stop(&f);
}

/* Namespace 2 (not the call's) grown by a rescan: only the epoch moves
 * for namespace 1. */
static void grow_ns2(void)
{
    struct nvme_sim_ns_config big = g_f->ns[1];
    big.blocks *= 2;
    assert_int_equal(nvme_sim_ns_remove(g_f->sim, 2), 0);
    assert_int_equal(nvme_sim_ns_add(g_f->sim, &big), 0);
    assert_int_equal(nvme_ns_rescan(g_f->ctrl), 0);
}

/* A Zone Append whose checks a rescan of another namespace follows (on
 * another CPU): namespace 1 is what it was, so the append goes on, as
 * nvme_write_ext and nvme_zns_mgmt_send do (nvm_data_recheck); nvme.h
 * keeps NVME_ERR_BUSY for a call whose own namespace changed.  Before:
 * NVME_ERR_BUSY, nothing appended. */
static void a_zone_append_goes_on_after_another_namespace_s_rescan(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[0].zoned = true;
    f.ns[0].zone_size = 64;
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 64, .lba_size = 512};
    f.cfg.ns_count = 2;
    fx_start(&f);
    g_f = &f;
    uint8_t *buf = fx_xalloc(4096);
    fx_pattern(buf, 512, 5);
    uint64_t lba = 0;
    between = grow_ns2;
    int rc = nvme_zns_append(f.ctrl, 1, 128, 1, buf, &lba);
    assert_null(between); /* the rescan ran inside the call */
    assert_int_equal(nvme_ns_find(f.ctrl, 2)->nsze, 128);
    assert_int_equal(rc, NVME_OK);
    assert_int_equal(lba, 128);
    between = grow_ns2; /* Zone Management Send went on already */
    assert_int_equal(nvme_zns_mgmt_send(f.ctrl, 1, 128, NVME_ZSA_FINISH, false), NVME_OK);
    assert_null(between);
    free(buf);
    fx_stop(&f);
}

/* An I/O passthrough Read of namespace 1 whose checks a rescan of
 * namespace 2 follows (on another CPU): namespace 1 is what it was, so
 * the Read goes on, as a Zone Append does above (nvm_data_recheck);
 * NVME_ERR_BUSY is for a call whose own namespace changed (nvme.h). */
static void an_io_passthru_goes_on_after_another_namespace_s_rescan(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 64, .lba_size = 512};
    f.cfg.ns_count = 2;
    fx_start(&f);
    g_f = &f;
    uint8_t *buf = fx_xalloc(4096), *back = fx_xalloc(4096);
    fx_pattern(buf, 512, 9);
    assert_int_equal(nvme_write(f.ctrl, 1, 3, 1, buf), 0);
    struct nvme_sqe sqe = {.opc = NVME_CMD_READ, .nsid = 1, .cdw10 = 3};
    uint32_t dw0 = 1;
    between = grow_ns2;
    int rc = nvme_io_passthru(f.ctrl, &sqe, back, 512, NVME_DMA_FROM_DEVICE, &dw0);
    assert_null(between); /* the rescan ran inside the call */
    assert_int_equal(nvme_ns_find(f.ctrl, 2)->nsze, 128);
    assert_int_equal(rc, NVME_OK);
    assert_memory_equal(back, buf, 512);
    free(buf);
    free(back);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_zeroes_past_a_shrunk_namespace_sends_no_command),
        cmocka_unit_test(write_ext_to_a_namespace_created_again_is_not_sent),
        cmocka_unit_test(deallocate_past_a_shrunk_namespace_sends_no_command),
        cmocka_unit_test(copy_from_past_a_shrunk_namespace_sends_no_command),
        cmocka_unit_test(a_zone_append_goes_on_after_another_namespace_s_rescan),
        cmocka_unit_test(an_io_passthru_goes_on_after_another_namespace_s_rescan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
