/* SPDX-License-Identifier: MIT */
/*
 * A program outside the tree that uses an installed nvme-core: the core's
 * error and status names and formatter, and nvmectl's usage through a
 * print callback.  Built by run.sh twice, once with find_package(nvme-core)
 * and once with pkg-config, against a temporary install prefix.
 */
#include <stdio.h>
#include <string.h>

#include <nvme/nvme.h>
#include <nvme/nvme_fmt.h>
#include <nvme/nvmectl.h>

struct capture {
    char text[4096];
    size_t len;
};

static void print_cb(void *arg, const char *text)
{
    struct capture *c = arg;
    size_t n = strlen(text);
    if (c->len + n < sizeof(c->text)) {
        memcpy(c->text + c->len, text, n + 1);
        c->len += n;
    }
    fputs(text, stdout);
}

static int check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    return ok ? 0 : 1;
}

/* argv[1]: the name expected for status SCT 0 SC 80h, "LBA Out of Range"
 * with the status tables, "SCT 0 SC 80" when built without them. */
int main(int argc, char **argv)
{
    const char *want = argc > 1 ? argv[1] : "LBA Out of Range";
    int failures = 0;
    char buf[64];

    failures += check(strcmp(nvme_strerror(NVME_ERR_TIMEOUT), "timeout") == 0,
                      "nvme_strerror(NVME_ERR_TIMEOUT) is \"timeout\"");
    const char *lba = nvme_status_name(NVME_SF(NVME_SCT_GENERIC, 0x80));
    printf("nvme_status_name(SCT 0 SC 80) = \"%s\"\n", lba);
    failures += check(strcmp(lba, want) == 0, want);
    nvme_snprintf(buf, sizeof(buf), "%s %05u 0x%llx", "fmt", 42u, 0xabcdefULL);
    failures += check(strcmp(buf, "fmt 00042 0xabcdef") == 0, "nvme_snprintf formats");

    uint64_t v = 0;
    failures += check(nvmectl_parse_u64("0x1000", &v) && v == 4096,
                      "nvmectl_parse_u64(\"0x1000\")");

    struct capture cap = {.len = 0};
    struct nvmectl_io io = {.print = print_cb, .arg = &cap};
    nvmectl_usage(&io);
    failures += check(strstr(cap.text, "read") != NULL && strstr(cap.text, "smart") != NULL,
                      "nvmectl_usage printed the commands through the callback");

    printf("consumer: %s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
