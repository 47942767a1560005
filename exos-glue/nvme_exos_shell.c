/* SPDX-License-Identifier: MIT */
/*
 * nvme_exos_shell.c - `nvmectl` in the EXOS shell, through the shared
 * front end (nvmectl_run_line).
 *
 *   nvmectl [nvmeN] info|ready|list|smart|read -n NSID [-s LBA] [-c N]|...
 *   nvmectl <command> nvmeN|/dev/nvmeN [options]     (nvme-cli's order)
 *   nvmectl <command> nvmeNnM [options]      (a namespace device: NSID M
 *                                             where nvme-cli takes it)
 *   nvmectl <command> [options] nvmeN|nvmeNnM  (after the options too)
 *
 * Without nvmeN a command goes to nvme0, except `list`: every
 * controller's namespaces in one table, as nvme-cli's `nvme list`
 * (nvmectl_list_all).
 * The arguments are taken raw from the command line: EXOS's own parser
 * (ParseNextCommandLineComponent) would collect "-n 1" as shell options.
 * Its quotes are taken out as it takes them ("a" is a; unquote), a word
 * with a blank refused (nvmectl splits at blanks).
 * Output goes to ConsolePrint, after the block locks are released
 * (shell_out: EXOS's pager waits for a key).  A failure returns a
 * DF_RETURN_* code other than success, so EXOS's shell reports it
 * ("Error: Command failed"), after a line "nvmectl <command>: failed (<reason>)"; each
 * command also logs "[CMD_nvmectl] <command> : OK|KO" (LOG_TEST) for
 * scripts reading COM2.  Bare `nvmectl` prints the usage (success).
 */
#include "nvme_exos.h"
#include "nvme/nvme_fmt.h"
#include "nvme/nvmectl.h"

/* The functions marked noinline are ones gcc -Os copied into two callers,
 * or whose copy made the one caller larger: out of line, the shell is
 * 187 bytes smaller in EXOS's x86-64 kernel (as measured at fb90fa7). */

#define SHELL_LINE_MAX 256u
/* Room for the longest command name nvmectl knows ("persistent-event-log",
 * 20 characters) with some to spare: the name is kept whole for the
 * messages and for leaves_namespace_data_alone (cut to 15, as it was,
 * "changed-ns-list-log" never matched there). */
#define SHELL_COMMAND_MAX 32u

/* Output kept while block locks are held: EXOS's console pager waits
 * for a key once a screen is full, and a disk request of another task
 * would wait for the locks as long.  The text is printed after the
 * unlock.  The buffer starts at SHELL_OUT_FIRST bytes and doubles as
 * needed up to SHELL_OUT_MAX: a hex dump of the whole scratch buffer
 * (NVME_EXOS_BOUNCE_BYTES: 16 bytes a line of at most 103 characters,
 * with a 32-digit address) fits.  Past that, or when the heap has no
 * room, the text goes to the console as it comes, after what was
 * kept. */
#define SHELL_OUT_FIRST (64u * 1024u)
#define SHELL_OUT_MAX (8u * NVME_EXOS_BOUNCE_BYTES)

struct shell_out {
    char *text; /* NULL: straight to the console */
    UINT used, size;
    UINT column; /* of the next character on its line, for shell_print's tabs */
};

static __attribute__((noinline)) void shell_out_begin(struct shell_out *o)
{
    o->text = (char *)KernelHeapAlloc(SHELL_OUT_FIRST);
    o->used = 0;
    o->size = o->text != NULL ? SHELL_OUT_FIRST : 0;
    o->column = 0;
}

/* n bytes of text to the console, in pieces: ConsolePrint formats into
 * MAX_STRING_BUFFER bytes of its stack, unbounded. */
static void console_text(const char *text, UINT n)
{
    char piece[MAX_STRING_BUFFER / 4u + 1u];
    while (n != 0) {
        UINT k = n < sizeof(piece) - 1u ? n : (UINT)sizeof(piece) - 1u;
        MemoryCopy(piece, text, k);
        piece[k] = 0;
        ConsolePrint(TEXT("%s"), (LPCSTR)piece);
        text += k;
        n -= k;
    }
}

/* After the unlock: what was kept, then the heap back. */
static void shell_out_end(struct shell_out *o)
{
    if (o->text != NULL) {
        console_text(o->text, o->used);
        KernelHeapFree(o->text);
        o->text = NULL;
    }
}

/* Room for n more bytes: the buffer doubled (EXOS's heap has no
 * realloc) while it stays within SHELL_OUT_MAX; false when it cannot. */
static bool shell_out_room(struct shell_out *o, UINT n)
{
    UINT size = o->size;
    char *text;
    if (n > SHELL_OUT_MAX - o->used)
        return false;
    while (n > size - o->used)
        size *= 2u;
    if (size == o->size)
        return true;
    text = (char *)KernelHeapAlloc(size);
    if (text == NULL)
        return false;
    MemoryCopy(text, o->text, o->used);
    KernelHeapFree(o->text);
    o->text = text;
    o->size = size;
    return true;
}

/* n bytes of text kept, or to the console when they cannot be. */
static void shell_emit(struct shell_out *o, const char *text, UINT n)
{
    if (o->text != NULL && shell_out_room(o, n)) {
        MemoryCopy(o->text + o->used, text, n);
        o->used += n;
        return;
    }
    shell_out_end(o); /* too much to keep: the rest as it comes */
    console_text(text, n);
}

/* The front end's text, its tabs as spaces to the next multiple of 8
 * columns: nvme-cli's output lines up on those stops (a terminal's), and
 * EXOS's console moves a tab 4 columns on from wherever it is. */
static void shell_print(void *arg, const char *text)
{
    static const char spaces[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    struct shell_out *o = (struct shell_out *)arg;
    while (*text != 0) {
        UINT n = 0;
        while (text[n] != 0 && text[n] != '\t') {
            o->column = text[n] == '\n' ? 0 : o->column + 1u;
            n++;
        }
        if (n != 0)
            shell_emit(o, text, n);
        text += n;
        if (*text == '\t') {
            UINT pad = 8u - (o->column & 7u);
            shell_emit(o, spaces, pad);
            o->column += pad;
            text++;
        }
    }
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* The controller of a line that names none: the first one up, nvme0
 * unless EXOS shut it down (DF_UNLOAD leaves its entry without a
 * controller), so that a command that needs no device (usage, help, a
 * bad option) is not refused for a controller the user never named;
 * 0 when none is up, which is then refused by name. */
static unsigned first_controller_up(void)
{
    for (unsigned i = 0; i < nvme_exos_controller_count(); i++) {
        LPNVME_CORE_DEVICE d = nvme_exos_controller(i);
        if (d != NULL && d->Ctrl != NULL)
            return i;
    }
    return 0;
}

/* "nvme<digits>" or "/dev/nvme<digits>" -> index; -1 when the word is
 * something else.  *nsid set: the word is a namespace device, nvme<N>n...
 * (nvme-cli's nvme0n1), whose index is N's; *nsid points past the n, at
 * its NSID: nvmectl takes the word and refuses it when that is not one. */
static int controller_word(const char *w, unsigned len, const char **nsid)
{
    unsigned i, v = 0;
    if (len > 5 && w[0] == '/' && w[1] == 'd' && w[2] == 'e' && w[3] == 'v' && w[4] == '/') {
        w += 5;
        len -= 5;
    }
    if (len < 5 || w[0] != 'n' || w[1] != 'v' || w[2] != 'm' || w[3] != 'e')
        return -1;
    for (i = 4; i < len && w[i] >= '0' && w[i] <= '9'; i++) {
        v = v * 10u + (unsigned)(w[i] - '0');
        if (v > 99u)
            return -1;
    }
    if (i == 4)
        return -1;
    if (i < len && w[i] == 'n') /* nvmectl checks the rest */
        *nsid = w + i + 1u;
    return i == len || *nsid != NULL ? (int)v : -1;
}

/* What a failed nvmectl returned, in words. */
static __attribute__((noinline)) const char *failure_text(int rc)
{
    if (rc < 0)
        return nvme_strerror(rc);
    return nvme_status_name((uint16_t)rc);
}

/* Whether `command` is one of the n names. */
static bool names_it(const char *const *names, unsigned n, const char *command)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned k = 0;
        while (names[i][k] != 0 && names[i][k] == command[k])
            k++;
        if (names[i][k] == 0 && command[k] == 0)
            return true;
    }
    return false;
}

/* Whether an nvmectl command only looks at the controller (identify data,
 * logs, features) and neither reads nor writes a namespace's blocks.
 * Only those run while the block cache holds writes it could not write
 * back: a block nvmectl wrote would be overwritten by the cache's later
 * write-back, one it read would not be what EXOS was told is there. */
static const char *const looks[] = {
    /* nvmectl's usage, asked for (nvmectl_main): no controller needed */
    "help", "--help", "-h",
    /* the rest look at the controller */
    "usage", "info", "ready", "list", "smart", "smart-log", "id-ctrl", "id-ns", "ns-descs",
    "list-ns", "list-ctrl", "get-feature", "error-log", "fw-log", "changed-ns-list-log",
    "effects-log", "self-test-log", "sanitize-log", "get-log", "report-zones",
    /* Identify (CNS 14h, 15h, 1Ch, 06h/CSI 00h, 05h/CSI 00h) and log
     * pages (07h/08h, 00h, 09h, 0Ch, 0Dh): controller data only */
    "primary-ctrl-caps", "list-secondary", "id-iocs", "nvm-id-ctrl", "nvm-id-ns", "telemetry-log",
    "supported-log-pages", "endurance-log", "ana-log", "persistent-event-log",
    /* the controller's registers, read only */
    "show-regs",
    /* Identify (CNS 06h/05h, CSI 02h), Report Zones, the active NSIDs */
    "zns-id-ctrl", "zns-id-ns", "zns-report-zones", "get-ns-id",
    /* a Controller Reset (§7.3.2) leaves the namespaces' data as they
     * are, and is what brings back a dead controller (and the cache's
     * owed writes with it) */
    "reset"};

static bool leaves_namespace_data_alone(const char *command)
{
    return names_it(looks, sizeof(looks) / sizeof(looks[0]), command);
}

/* Commands that reach the blocks of the namespace their -n names, and
 * of no other (NVMe 1.4 §6: an NVM command acts on the namespace in its
 * NSID; NSID FFFFFFFFh, all of them, is refused below).  While another
 * namespace of the controller owes writes they run: its cached blocks
 * are not theirs, as nvme-cli on Linux is never kept from a namespace
 * by another one's page cache.  Format, Sanitize and namespace
 * management may reach other namespaces (Format NVM attributes, FNA),
 * io-passthru any command: they stay refused. */
static bool reaches_one_namespace(const char *command)
{
    static const char *const one[] = {
        "read", "write", "flush", "write-verify", "verify", "nvm-verify", "compare", "dsm", "copy",
        "write-zeroes", "write-uncor", "zone-append", "zone-mgmt-send",
        /* nvme-cli's "zns ..." (Zone Management Send on one namespace) */
        "zns-zone-append", "zns-zone-mgmt-send", "zns-open-zone", "zns-close-zone",
        "zns-finish-zone", "zns-reset-zone", "zns-offline-zone"};
    return names_it(one, sizeof(one) / sizeof(one[0]), command);
}

/* Up to k bytes of s (a NUL ends them) at line[n] (SHELL_LINE_MAX bytes,
 * its NUL included); returns the new n, SHELL_LINE_MAX once a byte did
 * not fit. */
static unsigned put(char *line, unsigned n, const char *s, unsigned k)
{
    for (; k != 0 && *s != 0; k--) {
        if (n + 1u >= SHELL_LINE_MAX)
            return SHELL_LINE_MAX;
        line[n++] = *s++;
    }
    return n;
}

static bool is_word_end(char c)
{
    return c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* An NSID as nvmectl reads numbers (nvmectl_parse_u64: hexadecimal
 * after 0x, octal after a leading 0, "010" is 8, else decimal): 0 for
 * anything else or above FFFFFFFFh. */
static __attribute__((noinline)) U32 nsid_value(const char *v, unsigned n)
{
    char word[24];
    uint64_t x;

    if (n >= sizeof(word))
        return 0;
    MemoryCopy(word, v, n);
    word[n] = 0;
    return nvmectl_parse_u64(word, &x) && x <= 0xffffffffu ? (U32)x : 0;
}

/* Quotes as EXOS's shell and nvme-cli's take them ("a", 'a' are a): taken
 * out of line, in place.  False when what they hold cannot be one word of
 * nvmectl's line, split at blanks (nvmectl_run_line): a blank ("-t \"a -n
 * 2\"" would give -n 2), nothing at all, or no closing quote. */
static bool unquote(char *line)
{
    char *o = line, quote = 0;
    for (const char *i = line; *i != 0; i++) {
        if (quote == 0 && (*i == '"' || *i == '\'')) {
            quote = *i;
            if (i[1] == quote)
                return false;
        } else if (*i == quote) {
            quote = 0;
        } else if (quote != 0 && is_word_end(*i)) {
            return false;
        } else {
            *o++ = *i;
        }
    }
    *o = 0;
    return quote == 0;
}

/* Whether the NSID of the command in `line` is known to owe no writes in
 * the cache.  Every word nvmectl could take its NSID from is checked: an
 * option word of one dash with an n in it, its value after the n or the
 * next word ("-n V", "-nV", "-ln V": getopt's group of a flag and -n,
 * "-namespace-id V"), one of two dashes that starts with n, its value
 * after '=' or the next word ("--namespace-id=V", "--namespace V": getopt
 * takes a long option's unique abbreviation), and a namespace device,
 * nvme0n<V>, which gives it when -n is left out.  A value of another
 * option that reads like one counts too (write nvme0n2 -t -n1 writes
 * "-n1" to namespace 2): a command runs only if each of them is an NSID,
 * none FFFFFFFFh, none owed. */
static bool namespace_owes_nothing(const struct nvme_exos_blk *blk, const char *line)
{
    const char *p = line, *v;
    unsigned found = 0, n;
    U32 nsid;

    while (*p != 0) {
        while (*p != 0 && is_word_end(*p))
            p++;
        v = NULL;
        /* Not a word of -o's ("-ojson"): -o takes a value in every
         * command (the output format), the rest of the
         * word, and no long option starts with o and holds an n. */
        if (p[0] == '-' && (p[1] == '-' ? p[2] == 'n' : p[1] != 'o')) {
            char stop = p[1] == '-' ? '=' : 'n'; /* where the value starts */
            for (v = p + 1; !is_word_end(*v) && *v != stop; v++)
                ;
            if (*v == stop)
                v++;
            else if (stop == 'n')
                v = NULL; /* "-s 0": no n */
        }
        for (n = 0; !is_word_end(p[n]); n++)
            ;
        if (v == NULL)
            controller_word(p, n, &v);
        p += n;
        if (v == NULL)
            continue;
        if (is_word_end(*v)) { /* the value is the next word */
            while (*v != 0 && is_word_end(*v))
                v++;
        }
        for (n = 0; !is_word_end(v[n]); n++)
            ;
        nsid = nsid_value(v, n);
        if (nsid == 0 || nsid == NVME_NSID_ALL || nvme_exos_blk_owes(blk, nsid))
            return false;
        found++;
    }
    return found != 0;
}

/* Ends a command: the shell sees DF_RETURN_SUCCESS or a failure code
 * (EXOS then prints "Error: Command failed"), the console a line naming
 * the command, COM2 "[CMD_nvmectl] <command> : OK|KO". */
static U32 finish(const char *command, int rc, U32 df)
{
    if (rc != 0)
        ConsolePrint(TEXT("nvmectl %s: failed (%s)\n"), (LPCSTR)command, (LPCSTR)failure_text(rc));
    KernelLogText(LOG_TEST, TEXT("[CMD_nvmectl] %s : %s"), (LPCSTR)command,
                  rc == 0 ? TEXT("OK") : TEXT("KO"));
    return rc == 0 ? DF_RETURN_SUCCESS : df;
}

/* "nvme<idx>" into name (8 bytes), as the glue names its controllers. */
static __attribute__((noinline)) void controller_name(unsigned idx, char *name)
{
    name[0] = 'n';
    name[1] = 'v';
    name[2] = 'm';
    name[3] = 'e';
    if (idx >= 10) {
        name[4] = (char)('0' + idx / 10u % 10u);
        name[5] = (char)('0' + idx % 10u);
        name[6] = 0;
    } else {
        name[4] = (char)('0' + idx);
        name[5] = 0;
    }
}

/* `nvmectl list` without a controller: the namespaces of every controller
 * the glue drives in one table, each row named nvme<N>n<NSID>, as
 * nvme-cli's `nvme list` lists every NVMe namespace.  Each controller's
 * lock is held while its rows are read (a rescan under it changes its
 * namespace table); taken in index order, the only order in which any
 * task waits for two of them.  list reads the core's namespace table
 * only: the block cache is left as it is.  Shut down controllers have no
 * rows. */
static __attribute__((noinline)) U32 list_all(char *line)
{
    struct nvme_ctrl *ctrls[NVME_EXOS_MAX_CTRL];
    const char *names[NVME_EXOS_MAX_CTRL];
    char name_buf[NVME_EXOS_MAX_CTRL][8];
    LPNVME_CORE_DEVICE held[NVME_EXOS_MAX_CTRL];
    unsigned i, n = nvme_exos_controller_count(), live = 0;
    struct nvmectl_io io;
    struct shell_out out = {NULL, 0, 0, 0};
    int rc;

    if (n > NVME_EXOS_MAX_CTRL)
        n = NVME_EXOS_MAX_CTRL;
    for (i = 0; i < n; i++) {
        LPNVME_CORE_DEVICE d = nvme_exos_controller(i);
        held[i] = NULL;
        ctrls[i] = NULL;
        controller_name(i, name_buf[i]);
        names[i] = name_buf[i];
        if (d == NULL || d->Ctrl == NULL || !nvme_exos_blk_lock(&d->Blk))
            continue; /* a lock held past its bound: no rows */
        held[i] = d;
        if (!d->Blk.stopped && d->Ctrl != NULL) {
            ctrls[i] = d->Ctrl;
            live++;
        }
    }
    if (live == 0) {
        for (i = n; i-- != 0;)
            if (held[i] != NULL)
                nvme_exos_blk_unlock(&held[i]->Blk);
        ConsolePrint(TEXT("nvmectl list: no NVMe controller (nvme-core has %u%s)\n"),
                     (UINT)nvme_exos_controller_count(),
                     n != 0 ? TEXT(", all shut down") : TEXT(""));
        KernelLogText(LOG_TEST, TEXT("[CMD_nvmectl] list : KO"));
        return DF_RETURN_HARDWARE_ABSENT;
    }
    MemorySet(&io, 0, sizeof(io));
    io.print = shell_print;
    io.arg = &out;
    io.dev_name = names[0];
    shell_out_begin(&out);
    rc = nvmectl_list_all(ctrls, names, n, &io, line);
    for (i = n; i-- != 0;)
        if (held[i] != NULL)
            nvme_exos_blk_unlock(&held[i]->Blk);
    shell_out_end(&out);
    return finish("list", rc, nvme_exos_df_result(rc));
}

static void unlock_paths(LPNVME_CORE_DEVICE *held, unsigned n)
{
    while (n-- != 0)
        nvme_exos_blk_unlock(&held[n]->Blk);
}

/* d and the other controllers of its NVM subsystem (nvme_exos_same_subsystem)
 * into held[], their blk locks taken in index order; returns how many, 0
 * (none held) when one was not had within NVME_EXOS_BLK_LOCK_MS.  d is
 * among them: it came from the same table (nvme_exos_controller). */
static unsigned lock_paths(LPNVME_CORE_DEVICE d, LPNVME_CORE_DEVICE *held)
{
    unsigned i, n = nvme_exos_controller_count(), k = 0;
    if (n > NVME_EXOS_MAX_CTRL)
        n = NVME_EXOS_MAX_CTRL;
    for (i = 0; i < n; i++) {
        LPNVME_CORE_DEVICE o = nvme_exos_controller(i);
        if (o == NULL || (o != d && !nvme_exos_same_subsystem(d->SubNqn, d->Serial, d->Cntlid,
                                                              o->SubNqn, o->Serial, o->Cntlid)))
            continue;
        if (!nvme_exos_blk_lock(&o->Blk)) {
            unlock_paths(held, k);
            return 0;
        }
        held[k++] = o;
    }
    return k;
}

/* namespace_owes_nothing in every cache of the paths held. */
static bool paths_owe_nothing(LPNVME_CORE_DEVICE *held, unsigned n, const char *line)
{
    for (unsigned i = 0; i < n; i++)
        if (!namespace_owes_nothing(&held[i]->Blk, line))
            return false;
    return true;
}

U32 nvme_exos_shell_run(LPCSTR arguments)
{
    char line[SHELL_LINE_MAX];
    char command[SHELL_COMMAND_MAX];
    char name[8];
    const char *p = (const char *)arguments, *q, *nsw = NULL, *dw;
    unsigned len = 0, idx, n, nsl = 0;
    size_t dl;
    LPNVME_CORE_DEVICE d, held[NVME_EXOS_MAX_CTRL];
    unsigned nheld;
    struct nvmectl_io io;
    struct shell_out out = {NULL, 0, 0, 0};
    int word, rc, wb;
    const char *ns = NULL;
    bool cut, refused;
    LPCSTR why;

    if (p == NULL)
        p = "";
    while (is_blank(*p))
        p++;
    /* Optional controller selector as the first word. */
    while (p[len] != 0 && !is_blank(p[len]))
        len++;
    word = controller_word(p, len, &ns);
    if (word >= 0) {
        if (ns != NULL) { /* a namespace device: nvmectl's too, after the command */
            nsw = p;
            nsl = len;
        }
        p += len;
        while (is_blank(*p))
            p++;
    }
    /* The command's name, for messages: its first word, "usage" when
     * there is none. */
    for (len = 0; p[len] != 0 && !is_blank(p[len]) && len + 1 < sizeof(command); len++)
        command[len] = p[len];
    command[len] = 0;
    if (len == 0)
        StringCopy((LPSTR)command, TEXT("usage"));
    while (p[len] != 0 && !is_blank(p[len]))
        len++;
    /* nvme-cli's zoned commands are two words ("zns id-ns", "zns
     * reset-zone"): named zns-<second word> here, as nvmectl runs them,
     * and the controller looked for after both. */
    if (nvme_streq(command, "zns")) {
        unsigned at = len, k = 3;
        while (is_blank(p[at]))
            at++;
        command[k++] = '-';
        for (n = at; p[n] != 0 && !is_blank(p[n]); n++)
            if (k + 1 < sizeof(command))
                command[k++] = p[n];
        command[n > at ? k : 3] = 0;
        if (n > at)
            len = n;
    }

    /* The line nvmectl parses: the command and its options, without a
     * controller named first.  When none was, the device word of nvme-cli's
     * order selects the controller: the first word that is no option nor
     * an option's value (`nvme <command> <device> ...`, or after the
     * options: getopt_long_only moves such words last), as nvmectl reads
     * the command's options (nvmectl_device_word: `id-ctrl -H nvme1` is
     * nvme1's, `read -s nvme1` no device).  The word stays, where nvmectl
     * takes it: a namespace device's NSID where nvme-cli's asks the device
     * for one, and a second device word is nvmectl's "unexpected
     * argument" after a controller as after a namespace (nvme-cli opens
     * the first).  No device word, an unknown option or command: the
     * first controller up says what is wrong. */
    n = put(line, 0, p, len);
    q = p + len;
    if (nsw != NULL && n != 0) /* named first: " nvme0n1" after the command */
        n = put(line, put(line, n, " ", 1), nsw, nsl);
    n = put(line, n, q, ~0u);
    cut = n == SHELL_LINE_MAX;
    line[cut ? n - 1u : n] = 0;
    why = cut              ? TEXT("too long (over 255 characters)")
          : !unquote(line) ? TEXT("with a blank or nothing between quotes, or a quote left open")
                           : NULL;
    if (word < 0 && why == NULL && (dw = nvmectl_device_word(line, &dl)) != NULL)
        word = controller_word(dw, (unsigned)dl, &ns);
    idx = word >= 0 ? (unsigned)word : first_controller_up();
    /* No controller named: `list` is every controller's (list_all). */
    if (word < 0 && why == NULL && nvme_streq(command, "list"))
        return list_all(line);

    d = nvme_exos_controller(idx);
    controller_name(idx, name);
    MemorySet(&io, 0, sizeof(io));
    io.print = shell_print;
    io.arg = &out;
    io.read_file = NULL; /* no files here: usage leaves write -f out */
    io.dev_name = name;
    io.write_raw = NULL; /* the shell takes text: -b is refused */
    /* Bare nvmectl, help, --help, -h: the usage (nvmectl_main's for
     * help), which needs no controller, up or not (nvme-cli prints it
     * with no device), nor the cache written back; straight to the
     * console, no lock held. */
    if (why == NULL && (line[0] == 0 || names_it(looks, 3, command))) {
        nvmectl_usage(&io);
        return finish(command, 0, DF_RETURN_SUCCESS);
    }
    if (d == NULL || d->Ctrl == NULL) {
        ConsolePrint(TEXT("nvmectl %s: no NVMe controller nvme%u (nvme-core has %u%s)\n"),
                     (LPCSTR)command, (UINT)idx, (UINT)nvme_exos_controller_count(),
                     d != NULL ? TEXT(", this one is shut down") : TEXT(""));
        KernelLogText(LOG_TEST, TEXT("[CMD_nvmectl] %s : KO"), (LPCSTR)command);
        return DF_RETURN_HARDWARE_ABSENT;
    }
    if (why != NULL) { /* it could mean another command ("-n 12" as "-n 1") */
        ConsolePrint(TEXT("nvmectl %s: command line %s, not run\n"), (LPCSTR)command, why);
        return finish(command, NVME_ERR_INVAL, DF_RETURN_BAD_PARAMETER);
    }
    io.buf = d->Blk.bounce;
    io.buf_len = d->Blk.bounce_bytes;

    /* The scratch buffer is the bounce buffer: d's lock.  The other
     * controllers of d's NVM subsystem reach its shared namespaces too
     * (multipath: the disk of one is published through one of them), and
     * their block caches hold its blocks: locked as well, in index order
     * (list_all's), so that their caches are written back and dropped
     * with d's.  Nothing reaches the console under them (shell_out). */
    nheld = lock_paths(d, held);
    if (nheld == 0) /* a lock held past NVME_EXOS_BLK_LOCK_MS */
        return finish(command, NVME_ERR_TIMEOUT, DF_RETURN_INPUT_OUTPUT);
    if (d->Blk.stopped) {
        /* Shut down (DF_UNLOAD) while this waited for the lock: the
         * controller is torn down (or being torn down). */
        unlock_paths(held, nheld);
        ConsolePrint(TEXT("nvmectl %s: nvme%u is shut down\n"), (LPCSTR)command, (UINT)idx);
        return finish(command, NVME_ERR_GONE, DF_RETURN_HARDWARE_ABSENT);
    }
    /* nvmectl reaches the device behind the block cache: write the cache
     * back (and Flush) before, and drop it, so both agree afterwards.  A
     * write-back that fails (a device that refuses writes) keeps those
     * blocks cached and owed, and does not keep nvmectl from the device:
     * it is how one looks at such a device (error-log, smart-log). */
    wb = 0;
    for (n = 0; n < nheld; n++) {
        int r = held[n]->Blk.stopped ? 0 : nvme_exos_blk_invalidate(&held[n]->Blk);
        if (wb == 0)
            wb = r;
    }
    refused = wb != 0 && !leaves_namespace_data_alone(command) &&
              !(reaches_one_namespace(command) && paths_owe_nothing(held, nheld, line));
    shell_out_begin(&out);
    rc = refused ? wb : nvmectl_run_line(d->Ctrl, &io, line);
    unlock_paths(held, nheld);
    if (wb != 0)
        ConsolePrint(TEXT("nvmectl: cached writes could not be written back (%s): they stay "
                          "cached\n"),
                     (LPCSTR)failure_text(wb));
    if (refused)
        ConsolePrint(TEXT("nvmectl %s: not run while the cache owes writes (only identify, log, "
                          "get-feature, show-regs and reset commands run, and I/O to a namespace "
                          "that owes none)\n"),
                     (LPCSTR)command);
    shell_out_end(&out);
    return finish(command, rc, nvme_exos_df_result(rc));
}

U32 CMD_nvmectl(LPSHELLCONTEXT Context)
{
    if (Context == NULL)
        return DF_RETURN_BAD_PARAMETER;
    return nvme_exos_shell_run(TEXT(&Context->Input.CommandLine[Context->CommandChar]));
}
