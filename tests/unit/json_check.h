/* SPDX-License-Identifier: MIT */
/*
 * json_check.h - a small JSON validator for the tests of nvmectl's -o json
 * (test_nvmectl_parity.c, tests/fuzz/fuzz_nvmectl.c): one value as RFC
 * 8259 writes it (strings closed and escaped, members "key": value
 * separated by commas, brackets matched).  Each json_* returns the first
 * character past what it read, or NULL.
 */
#ifndef NVME_TEST_JSON_CHECK_H
#define NVME_TEST_JSON_CHECK_H

#include <stdbool.h>
#include <string.h>

static inline const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static inline const char *json_string(const char *p)
{
    if (*p != '"')
        return NULL;
    for (p++; *p != '"'; p++) {
        if (*p == '\0' || (unsigned char)*p < 0x20)
            return NULL;
        if (*p != '\\')
            continue;
        p++;
        if (*p == 'u') {
            for (int i = 1; i <= 4; i++)
                if (p[i] == '\0' || strchr("0123456789abcdefABCDEF", p[i]) == NULL)
                    return NULL;
            p += 4;
        } else if (*p == '\0' || strchr("\"\\/bfnrt", *p) == NULL) {
            return NULL;
        }
    }
    return p + 1;
}

/* One value, nested at most 64 deep (the fuzzer's inputs may nest more). */
static inline const char *json_value(const char *p, unsigned depth)
{
    p = json_ws(p);
    if (depth > 64)
        return NULL;
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = json_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                p = json_string(json_ws(p));
                if (p == NULL)
                    return NULL;
                p = json_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            p = json_value(p, depth + 1);
            if (p == NULL)
                return NULL;
            p = json_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (*p == '"')
        return json_string(p);
    if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    const char *s = p;
    if (*p == '-')
        p++;
    while (*p >= '0' && *p <= '9')
        p++;
    return p == s ? NULL : p;
}

/* Whether `text` is exactly one JSON value. */
static inline bool json_one_value(const char *text)
{
    const char *end = json_value(text, 0);
    return end != NULL && *json_ws(end) == '\0';
}

#endif
