/* SPDX-License-Identifier: MIT */
/* The core's 32-bit divides on CPUs without a divide instruction
 * (ARMv7-A without the divide extension: NVME_SOFT_DIVIDE, set here as
 * such a build sets it): the same quotient and remainder as the
 * compiler's division, around the shortcuts (n < d, n == d) and at the
 * ends of the range.  And the lock of handle.c's live list (NVME_DEBUG). */
#include "fixture.h"

#define NVME_SOFT_DIVIDE 1
/* handle.c's list of live controllers (NVME_DEBUG), its own copy here
 * under other names, so that a case can hold its lock as another CPU. */
#define NVME_DEBUG 1
#define nvme_handle_register handle_copy_register
#define nvme_handle_ok handle_copy_ok
#include "../../libnvme-core/src/nvme_internal.h"
#include "../../libnvme-core/src/handle.c"

#include <pthread.h>
#include <time.h>

static void soft_divides_match_the_instruction(void **state)
{
    (void)state;
    const uint32_t n[] = {0,    1,     2,           3,           7,           4095,       4096,
                          4097, 65535, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
    const uint32_t d[] = {1, 2, 3, 7, 10, 16, 4096, 4097, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
        for (size_t j = 0; j < sizeof(d) / sizeof(d[0]); j++) {
            assert_true(nvme_div32(n[i], d[j]) == n[i] / d[j]);
            assert_true(nvme_mod32(n[i], d[j]) == n[i] % d[j]);
        }
    }
}

static struct nvme_ctrl handle_a, handle_b;

static void *handle_change(void *arg)
{
    handle_copy_register(&handle_a, arg != NULL);
    return NULL;
}

static void handle_sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Another CPU holds the live list's lock (its walk, a preempted thread):
 * a bring-up's registration and a fini's unlink wait for it, however
 * long, and change the list only once it is given back.  Before, each
 * went on without the lock after NVME_LIVE_SPINS (about a millisecond),
 * beside the holder's walk or change: a registration lost (every call on
 * a live controller NVME_ERR_STATE), or an unlink a walk missed, which
 * then read the freed controller. */
static void handle_list_changes_wait_for_its_lock(void **state)
{
    (void)state;
    handle_a.magic = handle_b.magic = NVME_CTRL_MAGIC;
    handle_copy_register(&handle_b, true);
    for (int live = 1; live >= 0; live--) {
        __atomic_store_n(&nvme_live_lock, 1u, __ATOMIC_RELEASE); /* the other CPU's */
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, handle_change, live ? &handle_a : NULL), 0);
        handle_sleep_ms(300); /* hundreds of NVME_LIVE_SPINS */
        /* Untouched while held: b alone, then a and b. */
        assert_ptr_equal(nvme_live_ctrls, &handle_b);
        assert_ptr_equal(handle_b.live_next, live ? NULL : &handle_a);
        __atomic_store_n(&nvme_live_lock, 0u, __ATOMIC_RELEASE);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_true(handle_copy_ok(&handle_a) == (live != 0));
        assert_true(handle_copy_ok(&handle_b));
    }
    handle_copy_register(&handle_b, false);
    assert_null(nvme_live_ctrls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(soft_divides_match_the_instruction),
        cmocka_unit_test(handle_list_changes_wait_for_its_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
