/* SPDX-License-Identifier: MIT */
/*
 * fixture.h - shared setup for the core's unit tests: a simulated
 * controller, the core brought up on it, and the checks every test ends
 * with (no DMA outside what the OSAL handed out, nothing leaked).
 */
#ifndef NVME_TEST_FIXTURE_H
#define NVME_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nvme/nvme.h"
#include "nvme/nvmectl.h"
#include "nvme_sim.h"

struct fx {
    struct nvme_sim_config cfg;
    struct nvme_sim_ns_config ns[8];
    struct nvme_sim *sim;
    struct nvme_osal osal;
    struct nvme_ctrl *ctrl;
    struct nvme_ctrl_opts opts;
};

/* Defaults: one namespace (NSID 1, 8192 blocks of 512), immediate completions;
 * non-coherent DMA when the environment asks (fx_noncoherent). */
void fx_config(struct fx *f);
/* Sets cfg->noncoherent (and bounce_unaligned, cache_line) from
 * NVME_TEST_NONCOHERENT=1|strict and NVME_TEST_CACHE_LINE; with
 * NVME_TEST_DBBUF=1 also offers Doorbell Buffer Config (OACS bit 8). */
void fx_noncoherent(struct nvme_sim_config *cfg);
/* Creates the simulator from f->cfg and brings the core up with f->opts;
 * asserts success. */
void fx_start(struct fx *f);
/* Same, returning nvme_ctrl_init's result (controller may be NULL). */
int fx_try_start(struct fx *f);
/* fx_try_start in two halves, for a test that hooks an OSAL call or arms
 * a simulator fault before bring-up: fx_create makes the simulator from
 * f->cfg and its OSAL in f->osal; fx_init brings the core up on f->osal
 * with f->opts, routes the simulator's interrupts to it, and returns
 * nvme_ctrl_init's result. */
void fx_create(struct fx *f);
int fx_init(struct fx *f);
/* nvme_ctrl_fini, asserting it returned 0 (a clean shutdown), then asserts
 * no DMA violation, no host error, no coherency violation, no live DMA
 * memory; destroys the simulator. */
void fx_stop(struct fx *f);
/* fx_stop for a test that stops in a bad state on purpose: nvme_ctrl_fini
 * must return fini_rc (e.g. NVME_ERR_TIMEOUT: the shutdown did not complete). */
void fx_stop_expect(struct fx *f, int fini_rc);

/* nvmectl output captured in a buffer: text (print) and binary
 * (write_raw, -b) each in order. */
struct fx_out {
    char text[65536];
    size_t len;
    uint8_t bin[65536];
    size_t bin_len;
};
void fx_print(void *arg, const char *s);
void fx_write_raw(void *arg, const void *data, size_t len);
/* Runs an nvmectl command line (at most 511 characters) with a 1 MiB
 * scratch buffer, output in o.  Output beyond o's buffers or a longer line
 * fails the test (never cut). */
int fx_nvmectl(struct fx *f, struct fx_out *o, const char *line);

/* Fills buf with bytes that depend on seed and position. */
void fx_pattern(void *buf, size_t len, uint32_t seed);

/* Helpers of the fault and lifecycle tests. */
/* Page-aligned, zeroed memory of len bytes (free()). */
uint8_t *fx_xalloc(size_t len);
/* Like fx_start, with the simulator's and the core's log captured from
 * the first command on (fx_log_has). */
void fx_start_captured(struct fx *f);
/* Arms one simulator fault on every matching command. */
void fx_inject(struct fx *f, enum nvme_sim_fault_kind kind, int qid, int opcode, uint32_t value,
               unsigned count);
/* The next Set Features is refused once (Internal Error, DNR): bring-up's
 * or a reset's first one, Number of Queues, which leaves the controller
 * admin-only. */
void fx_refuse_queues(struct fx *f);
/* Brings an fx_create'd f up admin-only (fx_refuse_queues, fx_init). */
void fx_init_admin_only(struct fx *f);
bool fx_log_has(struct fx *f, const char *s);
/* A completion callback that counts its calls and keeps the result. */
struct fx_rec {
    int calls;
    int result;
};
void fx_rec_cb(void *arg, int result, uint32_t dw0);
/* Polls queue qid every simulated millisecond until r was called; fails
 * the test when max_us simulated microseconds pass without the call. */
void fx_poll_until(struct fx *f, uint16_t qid, const struct fx_rec *r, uint64_t max_us);

#endif
