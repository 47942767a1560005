/* SPDX-License-Identifier: MIT */
/*
 * nvme_exos_shell.c - `nvmectl` in the EXOS shell, through the shared
 * front end (nvmectl_run_line).
 *
 *   nvmectl [nvmeN] info|ready|list|smart|read -n NSID -s LBA [-c N]|...
 *
 * The arguments are taken raw from the command line: EXOS's own parser
 * (ParseNextCommandLineComponent) would collect "-n 1" as shell options.
 * Output goes to ConsolePrint; each command also logs
 * "[CMD_nvmectl] <subcommand> : OK|KO" (LOG_TEST) for scripts reading COM2.
 */
#include "nvme_exos.h"
#include "nvme/nvmectl.h"

#define SHELL_LINE_MAX 256u

static void shell_print(void *arg, const char *text)
{
    (void)arg;
    ConsolePrint(TEXT("%s"), (LPCSTR)text);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* "nvme<digits>" -> index; -1 when the word is something else. */
static int controller_word(const char *w, unsigned len)
{
    unsigned i, v = 0;
    if (len < 5 || w[0] != 'n' || w[1] != 'v' || w[2] != 'm' || w[3] != 'e')
        return -1;
    for (i = 4; i < len; i++) {
        if (w[i] < '0' || w[i] > '9')
            return -1;
        v = v * 10u + (unsigned)(w[i] - '0');
        if (v > 99u)
            return -1;
    }
    return (int)v;
}

U32 nvme_exos_shell_run(LPCSTR arguments)
{
    char line[SHELL_LINE_MAX];
    char name[8] = {'n', 'v', 'm', 'e', '0', 0, 0, 0};
    const char *p = (const char *)arguments;
    const char *sub;
    unsigned len = 0, idx = 0;
    LPNVME_CORE_DEVICE d;
    struct nvmectl_io io;
    int word, rc;

    if (p == NULL)
        p = "";
    while (is_blank(*p))
        p++;
    /* Optional controller selector as the first word. */
    while (p[len] != 0 && !is_blank(p[len]))
        len++;
    word = controller_word(p, len);
    if (word >= 0) {
        idx = (unsigned)word;
        p += len;
        while (is_blank(*p))
            p++;
    }
    d = nvme_exos_controller(idx);
    if (d == NULL || d->Ctrl == NULL) {
        ConsolePrint(TEXT("nvmectl: no NVMe controller nvme%u (nvme-core found %u)\n"), (U32)idx,
                     (U32)nvme_exos_controller_count());
        return DF_RETURN_HARDWARE_ABSENT;
    }
    for (len = 0; p[len] != 0 && len + 1 < sizeof(line); len++)
        line[len] = p[len];
    line[len] = 0;
    if (idx >= 10) {
        name[4] = (char)('0' + idx / 10);
        name[5] = (char)('0' + idx % 10);
    } else {
        name[4] = (char)('0' + idx);
    }

    MemorySet(&io, 0, sizeof(io));
    io.print = shell_print;
    io.arg = NULL;
    io.buf = d->Blk.bounce;
    io.buf_len = d->Blk.bounce_bytes;
    io.read_file = NULL;
    io.dev_name = name;

    sub = p;
    nvme_exos_blk_lock(&d->Blk); /* the scratch buffer is the bounce buffer */
    rc = nvmectl_run_line(d->Ctrl, &io, line);
    nvme_exos_blk_unlock(&d->Blk);

    for (len = 0; sub[len] != 0 && !is_blank(sub[len]) && len + 1 < sizeof(line); len++)
        line[len] = sub[len];
    line[len] = 0;
    KernelLogText(LOG_TEST, TEXT("[CMD_nvmectl] %s : %s"), (LPCSTR)line,
                  rc == 0 ? TEXT("OK") : TEXT("KO"));
    return rc == 0 ? DF_RETURN_SUCCESS : nvme_exos_df_result(rc);
}

U32 CMD_nvmectl(LPSHELLCONTEXT Context)
{
    if (Context == NULL)
        return DF_RETURN_BAD_PARAMETER;
    return nvme_exos_shell_run(TEXT(&Context->Input.CommandLine[Context->CommandChar]));
}
