/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nvmectl.c - libFuzzer target over libnvmectl: the fake controller
 * of fuzz_device.c (included below, same header and device stream, same
 * traps), but between nvme_ctrl_init and nvme_ctrl_fini the harness runs
 * 1-4 nvmectl command lines built from the workload stream, so what the
 * device returns (Identify data, log pages, features, zone reports, CQE
 * Dword 0) goes through nvmectl's printers, and the command lines are
 * hostile too (numbers of every width, hex, missing values, repeated and
 * unknown options, lists, huge counts).
 *
 * Workload stream (read backwards, as fuzz_device.c's), per command line:
 *   byte  command (table cmds[] below, modulo its size)
 *   byte  [2:0] options 0-7, [3] "-o json", [4] a stray word, [6:5]
 *         scratch buffer: 64 KiB, 4 KiB, 1 MiB, 256 bytes; [7] buffer
 *         start 4 bytes into its page
 *   per option: a byte (option of that command, modulo), then for options
 *         with a value a kind byte and its bytes (value() below).
 *
 * Besides fuzz_device.c's traps and ASan/UBSan, a bug here is: printed
 * text with a byte that is neither printable ASCII nor '\n' / '\t'
 * (device text must be sanitised, strings terminated), a printed piece
 * longer than 64 KiB, -o json output that is not balanced JSON (strings
 * closed, brackets matched), or nvmectl returning 0 for a line it should
 * have refused (unknown command or option).
 */
#pragma GCC diagnostic ignored "-Wunused-function" /* run_workload: not used here */
#define FUZZ_WORKLOAD nvmectl_workload
#include "fuzz_device.c"

#include "nvme/nvmectl.h"
#include "../unit/json_check.h"

/* Options: "-x" takes a value, "-x!" is a flag. */
static const struct {
    const char *cmd;
    const char *opts;
} cmds[] = {
    {"info", ""},
    {"ready", ""},
    {"list", ""},
    {"smart-log", "-n -H! -b!"},
    {"id-ctrl", "-H!"},
    {"id-ns", "-n -H!"},
    {"ns-descs", "-n"},
    {"list-ns", "-n -a! -y"},
    {"list-ctrl", "-n -c"},
    {"ns-rescan", ""},
    {"get-feature", "-f -s -c -n -l -H!"},
    {"set-feature", "-f -v --cdw12 --save! -n -p -t -l"},
    {"error-log", "-e -b!"},
    {"fw-log", "-b!"},
    {"changed-ns-list-log", "-b!"},
    {"effects-log", "-c -b!"},
    {"self-test-log", "-b!"},
    {"sanitize-log", "-b!"},
    {"get-log", "-i -l --lpo --lsp --lsi --csi --rae! -n -b!"},
    {"persistent-event-log", "-a -l -b!"},
    {"read", "-n -s -c --fua! -l!"},
    {"write", "-n -s -c -p -t --fua!"},
    {"flush", "-n"},
    {"write-verify", "-n -s -c -k -o"},
    {"verify", "-n -s -c -l!"}, /* nvm-verify, its other name, as verify */
    {"compare", "-n -s -c -p -t"},
    {"dsm", "-n -s -b --ad! --idr! --idw!"},
    {"copy", "-n -d -s -b -f! -l!"},
    {"write-zeroes", "-n -s -c --deac! --fua!"},
    {"format", "-n --lbaf --ses --pi --pil --ms --force!"},
    {"device-self-test", "-n -s"},
    {"sanitize", "-a --ause! -p -i! -D! --ovrpat --force!"},
    {"fw-download", "-o -x --pattern -l -t"}, /* -p: --progress, a flag */
    {"fw-commit", "-s -a -b --force!"},
    {"reset", ""},
    {"subsystem-reset", "--force!"},
    {"create-ns", "-s -c -f -b -d -m -y"},
    {"delete-ns", "-n --force!"},
    {"attach-ns", "-n -c"},
    {"detach-ns", "-n -c"},
    {"admin-passthru", "-O -n -l -r! -w! -p -2 -3 -4 -5 -6 -7 -8 -9 -s! -d! -b!"},
    {"io-passthru", "-O -n -l -r! -w! -p -2 -3 -4 -5 -6 -7 -8 -9 -s! -d! -b!"},
    {"resv-register", "-n -c -k -r -p -i!"},
    {"resv-acquire", "-n -c -p -t -a -i!"},
    {"resv-release", "-n -c -t -a -i!"},
    {"resv-report", "-n -d -e! -b!"},
    {"report-zones", "-n -s -d"},
    {"zone-mgmt-send", "-n -s -z -a!"},
    {"zone-append", "-n -s -c -p -t"},
    {"help", ""},
    /* Appended, so that the seeds' indices above stay as they were. */
    {"telemetry-log", "-g -c! -d -r! -b!"},
    {"supported-log-pages", "-v! -b!"},
    {"endurance-log", "-g -b!"},
    {"ana-log", "-g! -b!"},
    {"primary-ctrl-caps", "-c -H! -b!"},
    {"list-secondary", "-c -e -b!"},
    {"id-iocs", "-c -v! -b!"},
    {"nvm-id-ctrl", "-b!"},
    {"nvm-id-ns", "-n -v! -H! -b!"},
    {"show-regs", "-H!"},
    {"write-uncor", "-n -s -c"},
    {"zns-id-ctrl", "-b!"},
    {"zns-id-ns", "-n -v! -b!"},
    {"zns-open-zone", "-n -s -a!"},
    {"zns-close-zone", "-n -s -a!"},
    {"zns-finish-zone", "-n -s -a!"},
    {"zns-reset-zone", "-n -s -a!"},
    {"zns-offline-zone", "-n -s -a!"},
    {"get-ns-id", ""},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const char *const words[] = {
    "json",  "normal", "current",  "default", "saved",  "supported", "short", "extended",
    "abort", "vendor", "block",    "crypto",  "open",   "close",     "reset", "finish",
    "-",     "--",     "",         "x",       "0x",     "-1",        "1,2,3", "0,0xffffffff",
    "1,,2",  "1,2,",   "AAAAAAAA", "0xg",     "offline"};

static const uint64_t interesting[] = {0,
                                       1,
                                       2,
                                       3,
                                       4,
                                       7,
                                       8,
                                       15,
                                       16,
                                       63,
                                       64,
                                       255,
                                       256,
                                       511,
                                       4096,
                                       65535,
                                       65536,
                                       0x7fffffffu,
                                       0xfffffffeu,
                                       0xffffffffu,
                                       0x100000000ull,
                                       0x7fffffffffffffffull,
                                       0xffffffffffffffffull};

/* One value word from the stream into b. */
static void value(char *b, size_t n)
{
    uint8_t k = wl_u8();
    switch (k % 8u) {
    case 0: /* small decimal */
        snprintf(b, n, "%u", wl_u8());
        break;
    case 1: { /* 32-bit hex */
        uint32_t v = (uint32_t)wl_u8() | (uint32_t)wl_u8() << 8 | (uint32_t)wl_u8() << 16 |
                     (uint32_t)wl_u8() << 24;
        snprintf(b, n, "0x%x", v);
        break;
    }
    case 2: /* an interesting number, decimal or hex */
        snprintf(b, n, (k & 8u) ? "0x%llx" : "%llu",
                 (unsigned long long)interesting[(k >> 4) % (sizeof(interesting) / 8)]);
        break;
    case 3: { /* an NSID the controller has, or near it */
        const struct nvme_ns_info *ns = pick_ns(k >> 3);
        snprintf(b, n, "%u", ns != NULL ? ns->nsid + ((k >> 6) == 3 ? 1u : 0u) : 1u);
        break;
    }
    case 4: /* a word */
        snprintf(b, n, "%s", words[(k >> 3) % (sizeof(words) / sizeof(words[0]))]);
        break;
    case 5: { /* a list of small numbers */
        unsigned m = 1u + (k >> 3) % 4u;
        size_t len = 0;
        b[0] = '\0';
        for (unsigned i = 0; i < m && len + 8 < n; i++)
            len += (size_t)snprintf(b + len, n - len, i ? ",%u" : "%u", wl_u8());
        break;
    }
    case 6: /* a number just past a width */
        snprintf(b, n, "%llu", (unsigned long long)((1ull << ((k >> 3) % 32u * 2u)) + wl_u8()));
        break;
    default: { /* 64-bit decimal */
        uint64_t v = 0;
        for (unsigned i = 0; i < 8; i++)
            v = v << 8 | wl_u8();
        snprintf(b, n, "%llu", (unsigned long long)v);
        break;
    }
    }
}

/* What nvmectl printed, checked as it arrives. */
static struct {
    char *text; /* -o json: the whole output */
    size_t len, cap;
    bool json;
} O;

static void ctl_print(void *arg, const char *s)
{
    (void)arg;
    size_t n = strlen(s); /* ASan: an unterminated string reads past its buffer */
    if (log_on())
        fputs(s, stderr);
    if (n > 65536)
        TRAP("nvmectl printed a piece longer than 64 KiB");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 0x20 && ch < 0x7f) || ch == '\n' || ch == '\t')) {
            if (log_on())
                fprintf(stderr, "nvmectl printed byte %02x in \"%s\"\n", ch, s);
            TRAP("nvmectl printed a non-printable byte (device text not sanitised?)");
        }
    }
    if (!O.json)
        return;
    if (O.len + n + 1 > O.cap) {
        O.cap = (O.len + n + 1) * 2;
        O.text = realloc(O.text, O.cap);
    }
    memcpy(O.text + O.len, s, n + 1);
    O.len += n;
}

static void ctl_raw(void *arg, const void *p, size_t len)
{
    (void)arg;
    if (len > 16u * 1024 * 1024)
        TRAP("nvmectl wrote more than 16 MiB raw");
    volatile uint8_t x = 0;
    for (size_t i = 0; i < len; i++) /* ASan: the whole range must be readable */
        x ^= ((const uint8_t *)p)[i];
    (void)x;
}

/* A device word nvmectl takes with io.dev_name "nvme0": nvme0 or
 * nvme0n<NSID>, NSID 1..FFFFFFFEh in decimal, /dev/ optional. */
static bool is_device_word(const char *w)
{
    if (strncmp(w, "/dev/", 5) == 0)
        w += 5;
    if (strncmp(w, "nvme0", 5) != 0)
        return false;
    w += 5;
    if (*w == '\0')
        return true;
    if (w[0] != 'n' || w[1] < '1' || w[1] > '9' || strlen(w + 1) > 10)
        return false;
    for (const char *d = w + 1; *d != '\0'; d++)
        if (*d < '0' || *d > '9')
            return false;
    return strtoull(w + 1, NULL, 10) < 0xffffffffull;
}

/* -o json that succeeded: exactly one JSON value (RFC 8259: strings
 * closed and escaped, members "key": value separated by commas, brackets
 * matched); -b/--raw-binary writes the raw page instead. */
static void check_json(int rc, bool not_json)
{
    if (rc != NVME_OK || not_json)
        return;
    if (!json_one_value(O.text != NULL ? O.text : "")) {
        if (log_on())
            fprintf(stderr, "json:\n%s\n", O.text != NULL ? O.text : "");
        TRAP("nvmectl -o json printed something that is not one JSON value");
    }
}

static void nvmectl_workload(void)
{
    unsigned nlines = 1u + (F.h[FH_MISC] & 3u);
    for (unsigned l = 0; l < nlines; l++) {
        uint8_t cb = wl_more() ? wl_u8() : (uint8_t)l;
        uint8_t ob = wl_u8();
        unsigned ci = cb % NCMDS;
        char line[1024], v[128];
        size_t len = (size_t)snprintf(line, sizeof(line), "%s%s", (cb & 0x80u) ? "nvmectl " : "",
                                      cmds[ci].cmd);
        /* The command's option words. */
        const char *opts[16];
        unsigned nopt = 0;
        static char optbuf[256];
        snprintf(optbuf, sizeof(optbuf), "%s", cmds[ci].opts);
        for (char *p = strtok(optbuf, " "); p != NULL && nopt < 16; p = strtok(NULL, " "))
            opts[nopt++] = p;
        unsigned want = ob & 7u;
        bool unknown = false;
        for (unsigned i = 0; i < want && len + 200 < sizeof(line); i++) {
            uint8_t sel = wl_u8();
            if (nopt == 0 || sel >= 0xf0) { /* an option no command has */
                len += (size_t)snprintf(line + len, sizeof(line) - len, " --no-such-option");
                unknown = true;
                continue;
            }
            const char *o = opts[sel % nopt];
            size_t ol = strlen(o);
            if (o[ol - 1] == '!') {
                len += (size_t)snprintf(line + len, sizeof(line) - len, " %.*s", (int)(ol - 1), o);
                continue;
            }
            value(v, sizeof(v));
            if (v[0] == '\0' || (sel & 0x40u) == 0) /* missing values too, at the end */
                len += (size_t)snprintf(line + len, sizeof(line) - len, " %s %s", o, v);
            else if (o[1] == '-') /* --long=value */
                len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%s", o, v);
            else /* -xVALUE */
                len += (size_t)snprintf(line + len, sizeof(line) - len, " %s%s", o, v);
        }
        O.json = (ob & 8u) != 0;
        O.len = 0;
        if (O.text != NULL)
            O.text[0] = '\0';
        if (O.json)
            len += (size_t)snprintf(line + len, sizeof(line) - len, " -o json");
        if (ob & 0x10u) {
            value(v, sizeof(v));
            len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", v);
        }
        static const size_t bufs[] = {65536, 4096, 1u << 20, 256};
        struct nvmectl_io io;
        memset(&io, 0, sizeof(io));
        io.print = ctl_print;
        io.write_raw = (cb & 0x40u) ? NULL : ctl_raw;
        /* The scratch buffer exactly as large as nvmectl is told (at an
         * 8-byte boundary or 4 bytes past one): AddressSanitizer sees any
         * byte it touches past buf_len. */
        size_t skew = (ob & 0x80u) ? 4u : 0u;
        io.buf_len = bufs[(ob >> 5) & 3u];
        uint8_t *mem = malloc(io.buf_len + skew);
        if (mem == NULL)
            abort();
        io.buf = mem + skew;
        io.dev_name = "nvme0";
        if (log_on())
            fprintf(stderr, "[%llu] nvmectl line: %s\n", (unsigned long long)F.now, line);
        /* (the line is split in place: look at it first) -b: the raw
         * page, it wins over json - only where -b is that flag (dsm,
         * copy, fw-commit and create-ns take -b with a value) */
        bool not_json = strstr(cmds[ci].opts, "-b!") != NULL && strstr(line, " -b") != NULL;
        /* ready reads CSTS for show (nvme_ctrl_read_csts), show-regs every
         * register (nvme_ctrl_regs_read: a snapshot that returns GONE on
         * all ones and marks nothing, nvme.h): as run_workload's op 10, an
         * all-ones value there is not the core's own look. */
        F.diag_read = ci == 1 || strcmp(cmds[ci].cmd, "show-regs") == 0;
        /* The device word a shell would pick the controller by
         * (nvmectl_device_word): one whole word of the line, and, when
         * nvmectl then runs the line, one it took for its device. */
        char dev[sizeof(line)] = "";
        size_t dl = 0;
        const char *dw = nvmectl_device_word(line, &dl);
        if (dw != NULL) {
            if (dw < line || dl == 0 || dw + dl > line + len || (dw > line && dw[-1] != ' ') ||
                (dw[dl] != '\0' && dw[dl] != ' '))
                TRAP("nvmectl_device_word: not a word of the line");
            memcpy(dev, dw, dl);
            dev[dl] = '\0';
        }
        int rc = nvmectl_run_line(F.ctrl, &io, line);
        if (rc == NVME_OK && dw != NULL && !is_device_word(dev))
            TRAP("nvmectl ran a line whose device word it could not take");
        F.diag_read = false;
        free(mem);
        if (log_on())
            fprintf(stderr, "[%llu] nvmectl: %d\n", (unsigned long long)F.now, rc);
        if (unknown && rc == NVME_OK && strcmp(cmds[ci].cmd, "help") != 0)
            TRAP("nvmectl accepted an unknown option");
        if (O.json && strcmp(cmds[ci].cmd, "help") != 0) /* usage text is not JSON */
            check_json(rc, not_json);
        check_ns_table();
        o_sleep_us(NULL, 200);
    }
}
