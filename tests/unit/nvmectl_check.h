/* SPDX-License-Identifier: MIT */
/*
 * nvmectl_check.h - what the nvmectl test programs share (each includes
 * its own copy): the output of the last command line run (`out`), checks
 * of its text, and the run of a line that must work (one JSON value with
 * -o json, json_check.h) or fail with a given result.
 */
#ifndef NVME_TEST_NVMECTL_CHECK_H
#define NVME_TEST_NVMECTL_CHECK_H

#include "fixture.h"
#include "json_check.h"

#include <string.h>

static struct fx_out out;

static inline void expect(const char *needle)
{
    if (strstr(out.text, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%s", needle, out.text);
}

static inline void expect_not(const char *needle)
{
    if (strstr(out.text, needle) != NULL)
        fail_msg("did not expect \"%s\" in:\n%s", needle, out.text);
}

static inline void ok(struct fx *f, const char *line)
{
    int rc = fx_nvmectl(f, &out, line);
    if (rc != 0)
        fail_msg("'%s' returned %d:\n%s", line, rc, out.text);
    if (strstr(line, "-o json") != NULL && !json_one_value(out.text))
        fail_msg("not one JSON value:\n%s", out.text);
}

/* A line that must fail with rc, sending at most `cmds` admin commands. */
static inline void fails(struct fx *f, const char *line, int rc, uint64_t cmds)
{
    uint64_t before = nvme_sim_stats(f->sim)->admin_cmds;
    int got = fx_nvmectl(f, &out, line);
    if (got != rc)
        fail_msg("'%s' returned %d, not %d:\n%s", line, got, rc, out.text);
    assert_true(nvme_sim_stats(f->sim)->admin_cmds - before <= cmds);
}

#endif
