/* SPDX-License-Identifier: MIT */
/*
 * fixture_selftest.c - the fixture's own checks can fail: each case of
 * "must fail" breaks one rule of fixture.h and must end the test (cmocka
 * counts it failed, ctest fixture-selftest checks each message); the
 * cases of "must pass" are the limits just inside.  Exits 0 only when
 * every "must fail" case failed and no "must pass" case did.
 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000u

static struct fx g_f;
static struct fx_out g_o;

/* After a case that failed midway: whatever it left running is stopped. */
static int teardown(void **state)
{
    (void)state;
    if (g_f.ctrl != NULL)
        (void)nvme_ctrl_fini(g_f.ctrl);
    g_f.ctrl = NULL;
    if (g_f.sim != NULL)
        nvme_sim_destroy(g_f.sim);
    g_f.sim = NULL;
    return 0;
}

/* A shutdown notification that never completes (§7.6.2): nvme_ctrl_fini
 * frees everything and returns NVME_ERR_TIMEOUT. */
static void start_with_a_shutdown_that_never_completes(void)
{
    fx_config(&g_f);
    g_f.cfg.to = 2;                          /* CAP.TO 1 s */
    g_f.cfg.rtd3e = 1000000;                 /* RTD3E 1 s (clamped to 5 s) */
    g_f.cfg.shutdown_delay_us = 4000000000u; /* ~67 min: never */
    fx_start(&g_f);
}

static void output_beyond_the_text_buffer_fails(void **state)
{
    (void)state;
    static char half[sizeof(g_o.text) / 2 + 1];
    memset(half, 'x', sizeof(half) - 1);
    g_o.len = 0;
    fx_print(&g_o, half);
    fx_print(&g_o, half); /* one byte too many: was cut */
}

static void command_line_longer_than_511_fails(void **state)
{
    (void)state;
    char line[600];
    int n = snprintf(line, sizeof(line), "write -n 1 -s 0 -t ");
    memset(line + n, 'A', sizeof(line) - 1 - (size_t)n);
    line[sizeof(line) - 1] = '\0';
    fx_config(&g_f);
    fx_start(&g_f);
    (void)fx_nvmectl(&g_f, &g_o, line); /* was cut at 511 and ran */
}

static void fini_whose_shutdown_does_not_complete_fails_fx_stop(void **state)
{
    (void)state;
    start_with_a_shutdown_that_never_completes();
    fx_stop(&g_f); /* nvme_ctrl_fini: NVME_ERR_TIMEOUT, was ignored */
}

static void poll_until_a_completion_that_never_comes_fails(void **state)
{
    (void)state;
    struct fx_rec r = {0, 0};
    fx_config(&g_f);
    fx_start(&g_f);
    fx_poll_until(&g_f, 1, &r, 10 * MS); /* nothing submitted: was a silent return */
}

static void output_up_to_the_text_buffer_passes(void **state)
{
    (void)state;
    static char all[sizeof(g_o.text)];
    memset(all, 'y', sizeof(all) - 1);
    g_o.len = 0;
    fx_print(&g_o, all);
    assert_int_equal(g_o.len, sizeof(g_o.text) - 1);
    assert_int_equal(g_o.text[g_o.len], '\0');
}

static void command_line_of_511_runs_whole(void **state)
{
    (void)state;
    char line[512];
    int n = snprintf(line, sizeof(line), "write -n 1 -s 0 -t ");
    memset(line + n, 'A', sizeof(line) - 1 - (size_t)n);
    line[sizeof(line) - 2] = 'Z'; /* the last character */
    line[sizeof(line) - 1] = '\0';
    fx_config(&g_f);
    fx_start(&g_f);
    assert_int_equal(fx_nvmectl(&g_f, &g_o, line), 0);
    uint8_t *b = fx_xalloc(512);
    assert_int_equal(nvme_read(g_f.ctrl, 1, 0, 1, b), 0);
    assert_int_equal(b[sizeof(line) - 2 - (size_t)n], 'Z');
    free(b);
    fx_stop(&g_f);
}

static void fini_whose_shutdown_does_not_complete_passes_fx_stop_expect(void **state)
{
    (void)state;
    start_with_a_shutdown_that_never_completes();
    fx_stop_expect(&g_f, NVME_ERR_TIMEOUT);
}

static void poll_until_a_completion_that_comes_passes(void **state)
{
    (void)state;
    struct fx_rec r = {0, 0};
    uint8_t *b = fx_xalloc(512);
    fx_config(&g_f);
    fx_start(&g_f);
    assert_int_equal(nvme_submit_rw(g_f.ctrl, 1, NVME_CMD_READ, 1, 0, 1, b, 0, fx_rec_cb, &r), 0);
    fx_poll_until(&g_f, 1, &r, 1000 * MS);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.result, 0);
    fx_stop(&g_f);
    free(b);
}

int main(void)
{
    const struct CMUnitTest must_fail[] = {
        cmocka_unit_test_teardown(output_beyond_the_text_buffer_fails, teardown),
        cmocka_unit_test_teardown(command_line_longer_than_511_fails, teardown),
        cmocka_unit_test_teardown(fini_whose_shutdown_does_not_complete_fails_fx_stop, teardown),
        cmocka_unit_test_teardown(poll_until_a_completion_that_never_comes_fails, teardown),
    };
    const struct CMUnitTest must_pass[] = {
        cmocka_unit_test_teardown(output_up_to_the_text_buffer_passes, teardown),
        cmocka_unit_test_teardown(command_line_of_511_runs_whole, teardown),
        cmocka_unit_test_teardown(fini_whose_shutdown_does_not_complete_passes_fx_stop_expect,
                                  teardown),
        cmocka_unit_test_teardown(poll_until_a_completion_that_comes_passes, teardown),
    };
    int failed = cmocka_run_group_tests_name("must fail", must_fail, NULL, NULL);
    int wrong = cmocka_run_group_tests_name("must pass", must_pass, NULL, NULL);
    int want = (int)(sizeof(must_fail) / sizeof(must_fail[0]));
    printf("fixture_selftest: %d of %d \"must fail\" cases failed, %d \"must pass\" cases failed\n",
           failed, want, wrong);
    return failed == want && wrong == 0 ? 0 : 1;
}
