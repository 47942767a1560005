/* SPDX-License-Identifier: MIT */
/*
 * test_exos_list.c - `nvmectl list` in the EXOS shell with two
 * controllers: the shell command (nvme_exos_shell.c) with the real front
 * end and the core on two simulated controllers.  nvme-cli's `nvme list`
 * lists every namespace of every controller in one table; `nvmectl nvmeN
 * list` lists one controller's.
 */
#include "fixture.h"
#include "mock_exos.h"
#include "nvme_exos.h"

#include <stdlib.h>
#include <string.h>

static uint8_t scratch[2][NVME_EXOS_BOUNCE_BYTES] __attribute__((aligned(4096)));
static NVME_CORE_DEVICE devs[2];
static unsigned ndevs;
static struct fx fxs[2];

LPNVME_CORE_DEVICE nvme_exos_controller(unsigned idx) { return idx < ndevs ? &devs[idx] : NULL; }

unsigned nvme_exos_controller_count(void) { return ndevs; }

/* nvme0: NSID 1 (262144 x 512) and 4 (16384 x 4096); nvme1: NSID 2
 * (8192 x 512).  Each is an EXOS controller object as Attach makes it. */
static int setup(void **state)
{
    (void)state;
    mock_exos_reset();
    memset(devs, 0, sizeof(devs));
    fx_config(&fxs[0]);
    fxs[0].ns[0].nsid = 1;
    fxs[0].ns[0].blocks = 262144;
    fxs[0].ns[1].nsid = 4;
    fxs[0].ns[1].blocks = 16384;
    fxs[0].ns[1].lba_size = 4096;
    fxs[0].cfg.ns_count = 2;
    fx_start(&fxs[0]);
    fx_config(&fxs[1]);
    fxs[1].ns[0].nsid = 2;
    fxs[1].ns[0].blocks = 8192;
    fxs[1].cfg.ns_count = 1;
    fx_start(&fxs[1]);
    for (unsigned i = 0; i < 2; i++) {
        devs[i].Ctrl = fxs[i].ctrl;
        devs[i].Index = i;
        nvme_exos_blk_init(&devs[i].Blk, &nvme_exos_core_ops, fxs[i].ctrl, scratch[i],
                           sizeof(scratch[i]), false);
    }
    ndevs = 2;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_stop(&fxs[0]);
    fx_stop(&fxs[1]);
    return 0;
}

/* The glue's block ops bound to the core are nvme_exos_pci.c's: the list
 * needs none of them (not linked here). */
static int no_read(void *h, uint32_t nsid, uint64_t lba, uint32_t count, void *buf)
{
    (void)h, (void)nsid, (void)lba, (void)count, (void)buf;
    fail_msg("list read a block");
    return NVME_ERR_INVAL;
}
static int no_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h, (void)nsid, (void)lba, (void)count, (void)buf;
    fail_msg("list wrote a block");
    return NVME_ERR_INVAL;
}
const struct nvme_exos_blk_ops nvme_exos_core_ops = {.read = no_read, .write = no_write};

static unsigned count_of(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = strstr(text, what); p != NULL; p = strstr(p + 1, what))
        n++;
    return n;
}

static void test_list_without_device_lists_every_controller(void **state)
{
    long heap_before = mock_exos.heap_live;
    (void)state;
    assert_int_equal(nvme_exos_shell_run(TEXT("list")), DF_RETURN_SUCCESS);
    /* one table: one header, the rows of both, one total */
    assert_int_equal(count_of(mock_exos.console, "Node "), 1);
    assert_non_null(
        strstr(mock_exos.console, "nvme0n1      1      262144             512    134217728 bytes"));
    assert_non_null(
        strstr(mock_exos.console, "nvme0n4      4      16384              4096   67108864 bytes"));
    assert_non_null(
        strstr(mock_exos.console, "nvme1n2      2      8192               512    4194304 bytes"));
    assert_non_null(strstr(mock_exos.console, "3 namespace(s)"));
    assert_int_equal(count_of(mock_exos.console, "namespace(s)"), 1);
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] list : OK");
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
    assert_int_equal(mock_exos.console_prints_locked, 0); /* printed after the unlock */
    assert_int_equal(mock_exos.heap_live, heap_before);
}

static void test_list_json_without_device_is_one_array(void **state)
{
    (void)state;
    assert_int_equal(nvme_exos_shell_run(TEXT("list -o json")), DF_RETURN_SUCCESS);
    assert_int_equal(count_of(mock_exos.console, "\"Devices\""), 1);
    assert_non_null(strstr(mock_exos.console, "\"nvme0n1\""));
    assert_non_null(strstr(mock_exos.console, "\"nvme0n4\""));
    assert_non_null(strstr(mock_exos.console, "\"nvme1n2\""));
}

static void test_list_with_device_lists_that_one(void **state)
{
    (void)state;
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme1 list")), DF_RETURN_SUCCESS);
    assert_non_null(strstr(mock_exos.console, "nvme1n2 "));
    assert_null(strstr(mock_exos.console, "nvme0n"));
    assert_non_null(strstr(mock_exos.console, "1 namespace(s)"));
    mock_exos.console[0] = 0;
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme0 list")), DF_RETURN_SUCCESS);
    assert_null(strstr(mock_exos.console, "nvme1n"));
    assert_non_null(strstr(mock_exos.console, "2 namespace(s)"));
}

/* A controller shut down (EXOS's DF_UNLOAD) has no rows; the others do. */
static void test_list_skips_a_shut_down_controller(void **state)
{
    (void)state;
    devs[0].Blk.stopped = true;
    assert_int_equal(nvme_exos_shell_run(TEXT("list")), DF_RETURN_SUCCESS);
    assert_null(strstr(mock_exos.console, "nvme0n"));
    assert_non_null(strstr(mock_exos.console, "nvme1n2 "));
    assert_non_null(strstr(mock_exos.console, "1 namespace(s)"));
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
    devs[1].Blk.stopped = true;
    mock_exos.console[0] = 0;
    assert_int_equal(nvme_exos_shell_run(TEXT("list")), DF_RETURN_HARDWARE_ABSENT);
    assert_non_null(strstr(mock_exos.console, "nvmectl list: no NVMe controller"));
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] list : KO");
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_without_device_lists_every_controller, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_json_without_device_is_one_array, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_with_device_lists_that_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_skips_a_shut_down_controller, setup, teardown),
    };
    return cmocka_run_group_tests_name("exos_list", tests, NULL, NULL);
}
