/* SPDX-License-Identifier: MIT */
/* Step 7, namespace model edges: enumeration without the Active
 * Namespace ID list, a namespace whose Identify fails, a namespace the
 * core cannot transfer, and a rescan that finds a new namespace. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

/* Controllers that reject Identify CNS 02h are enumerated 1..NN with
 * Identify Namespace, keeping those with NSZE != 0. */
static void without_the_active_list_namespaces_are_found_one_by_one(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 3, .blocks = 4096, .lba_size = 4096};
    f.cfg.ns_count = 2;
    f.cfg.nn = 4;
    f.sim = nvme_sim_create(&f.cfg);
    assert_non_null(f.sim);
    /* The second Identify of bring-up is CNS 02h: make it fail. */
    struct nvme_sim_fault fault = {NVME_SIM_FAULT_STATUS,
                                   0,
                                   NVME_ADMIN_IDENTIFY,
                                   NVME_SIM_ANY,
                                   NVME_SF(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) |
                                       NVME_SF_DNR_BIT,
                                   1,
                                   1};
    assert_int_equal(nvme_sim_inject(f.sim, &fault), 0);
    nvme_sim_osal(f.sim, &f.osal);
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    assert_int_equal(nvme_sim_fault_hits(f.sim), 1);
    assert_int_equal(nvme_ns_count(f.ctrl), 2);
    assert_int_equal(nvme_ns_at(f.ctrl, 0)->nsid, 1);
    assert_int_equal(nvme_ns_at(f.ctrl, 1)->nsid, 3);
    assert_int_equal(nvme_ns_at(f.ctrl, 1)->lba_size, 4096);
    fx_stop(&f);
}

static void a_namespace_whose_identify_fails_is_unusable_alone(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 4096, .lba_size = 512};
    f.cfg.ns_count = 2;
    f.sim = nvme_sim_create(&f.cfg);
    assert_non_null(f.sim);
    /* Identify: controller, list, ns 1, then ns 2 fails. */
    struct nvme_sim_fault fault = {NVME_SIM_FAULT_STATUS,
                                   0,
                                   NVME_ADMIN_IDENTIFY,
                                   NVME_SIM_ANY,
                                   NVME_SF(NVME_SCT_GENERIC, NVME_SC_INTERNAL) | NVME_SF_DNR_BIT,
                                   3,
                                   1};
    assert_int_equal(nvme_sim_inject(f.sim, &fault), 0);
    nvme_sim_osal(f.sim, &f.osal);
    assert_int_equal(nvme_ctrl_init(&f.ctrl, &f.osal, &f.opts), 0);
    assert_int_equal(nvme_ns_find(f.ctrl, 2)->status, NVME_ERR_PROTO);
    assert_int_equal(nvme_ns_find(f.ctrl, 1)->status, 0);
    uint8_t *buf = aligned_alloc(4096, 4096);
    assert_int_equal(nvme_read(f.ctrl, 2, 0, 1, buf), NVME_ERR_PROTO);
    assert_int_equal(nvme_read(f.ctrl, 1, 0, 1, buf), 0);
    free(buf);
    fx_stop(&f);
}

static void a_block_larger_than_mdts_makes_the_namespace_unsupported(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.mdts = 1; /* 8 KiB per command */
    f.ns[1] = (struct nvme_sim_ns_config){.nsid = 2, .blocks = 64, .lba_size = 16384};
    f.cfg.ns_count = 2;
    fx_start(&f);
    assert_int_equal(nvme_ns_find(f.ctrl, 2)->status, NVME_ERR_UNSUPPORTED);
    assert_int_equal(nvme_ns_find(f.ctrl, 2)->lba_size, 16384);
    assert_int_equal(nvme_flush(f.ctrl, 2), NVME_ERR_UNSUPPORTED);
    struct fx_out o;
    assert_int_equal(fx_nvmectl(&f, &o, "list"), 0);
    assert_non_null(strstr(o.text, "(unusable)"));
    fx_stop(&f);
}

static void rescan_finds_a_namespace_added_later(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    fx_start(&f);
    assert_int_equal(nvme_ns_count(f.ctrl), 1);
    struct nvme_sim_ns_config ns7 = {.nsid = 7, .blocks = 1000, .lba_size = 512};
    assert_int_equal(nvme_sim_ns_add(f.sim, &ns7), 0);
    assert_int_equal(nvme_ns_rescan(f.ctrl), 0);
    assert_int_equal(nvme_ns_count(f.ctrl), 2);
    assert_int_equal(nvme_ns_find(f.ctrl, 7)->nsze, 1000);
    assert_null(nvme_ns_find(f.ctrl, 6));
    assert_null(nvme_ns_at(f.ctrl, 2));
    assert_int_equal(nvme_ns_rescan(NULL), NVME_ERR_INVAL);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_the_active_list_namespaces_are_found_one_by_one),
        cmocka_unit_test(a_namespace_whose_identify_fails_is_unusable_alone),
        cmocka_unit_test(a_block_larger_than_mdts_makes_the_namespace_unsupported),
        cmocka_unit_test(rescan_finds_a_namespace_added_later),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
