/* SPDX-License-Identifier: MIT */
/*
 * test_exos_shell.c - the `nvmectl` EXOS shell command: arguments taken
 * raw from the shell's command line, controller selection, output through
 * ConsolePrint, the shared front end called with the controller's scratch
 * buffer.  nvmectl_run_line, nvmectl_list_all, nvmectl_usage (through the
 * linker's --wrap: the front end's parsing, nvmectl_device_word, is the
 * real one) and the controller table are mocked.
 */
#include <stdlib.h>
#include <string.h>

#include "mock_exos.h"
#include "nvme_exos.h"
#include "nvme/nvmectl.h"

static NVME_CORE_DEVICE devs[2];
static unsigned ndevs;
static unsigned print_times; /* lines nvmectl_run_line prints */
static const char *print_text;

#define RUN_LINE_TEXT "NSID 1: 262144 blocks of 512 bytes\n100%\n"

LPNVME_CORE_DEVICE nvme_exos_controller(unsigned idx) { return idx < ndevs ? &devs[idx] : NULL; }

unsigned nvme_exos_controller_count(void) { return ndevs; }

int __wrap_nvmectl_run_line(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, char *line);
int __wrap_nvmectl_run_line(struct nvme_ctrl *ctrl, const struct nvmectl_io *io, char *line)
{
    check_expected(ctrl);
    check_expected(line);
    check_expected(io->dev_name);
    assert_ptr_equal(io->buf,
                     devs[0].Blk.bounce == io->buf ? devs[0].Blk.bounce : devs[1].Blk.bounce);
    assert_true(io->buf_len >= 4096);
    assert_int_equal((uintptr_t)io->buf & 3, 0);
    for (unsigned i = 0; i < print_times; i++)
        io->print(io->arg, print_text);
    return mock_type(int);
}

/* `list` without a controller (test_exos_list.c runs it for real). */
int __wrap_nvmectl_list_all(struct nvme_ctrl *const *ctrls, const char *const *names, unsigned n,
                            const struct nvmectl_io *io, char *line);
int __wrap_nvmectl_list_all(struct nvme_ctrl *const *ctrls, const char *const *names, unsigned n,
                            const struct nvmectl_io *io, char *line)
{
    (void)ctrls, (void)names, (void)n, (void)io, (void)line;
    fail_msg("nvmectl_list_all called");
    return NVME_ERR_INVAL;
}

void __wrap_nvmectl_usage(const struct nvmectl_io *io);
void __wrap_nvmectl_usage(const struct nvmectl_io *io)
{
    function_called();
    io->print(io->arg, "usage: nvmectl <command> [options]\n");
}

static uint8_t scratch[2][8192] __attribute__((aligned(4096)));

static int setup(void **state)
{
    (void)state;
    mock_exos_reset();
    memset(devs, 0, sizeof(devs));
    for (unsigned i = 0; i < 2; i++) {
        devs[i].Ctrl = (struct nvme_ctrl *)(uintptr_t)(0x1000 + i);
        devs[i].Blk.bounce = scratch[i];
        devs[i].Blk.bounce_bytes = sizeof(scratch[i]);
        devs[i].Index = i;
    }
    ndevs = 2;
    print_times = 1;
    print_text = RUN_LINE_TEXT;
    return 0;
}

static U32 run_shell(const char *typed, unsigned name_len)
{
    static SHELLCONTEXT ctx;
    memset(&ctx, 0, sizeof(ctx));
    strcpy((char *)ctx.Input.CommandLine, typed);
    ctx.CommandChar = name_len; /* the shell parsed the command name */
    return CMD_nvmectl(&ctx);
}

static void test_arguments_reach_front_end_raw(void **state)
{
    (void)state;
    /* "-n 1" must not be eaten as a shell option */
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "read -n 1 -s 0 -c 1");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(run_shell("nvmectl read -n 1 -s 0 -c 1", 8), DF_RETURN_SUCCESS);
    assert_string_equal(mock_exos.console, "NSID 1: 262144 blocks of 512 bytes\n100%\n");
    assert_int_equal(mock_exos.last_log_type, LOG_TEST);
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] read : OK");
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

static void test_controller_selector(void **state)
{
    (void)state;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "list");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("  nvme1   list")), DF_RETURN_SUCCESS);
}

/* nvme-cli's order, `nvme <command> <device> [options]`: the controller
 * after the command, as nvmeN or /dev/nvmeN, is taken as the selector
 * and stays in the line nvmectl parses, its device word (a namespace device:
 * test_a_namespace_device_selects_its_controller_and_goes_to_nvmectl). */
static void test_controller_after_the_command(void **state)
{
    (void)state;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "reset nvme1");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("reset nvme1")), DF_RETURN_SUCCESS);
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "id-ns /dev/nvme1 -n 1 -o json");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("id-ns /dev/nvme1 -n 1 -o json")), DF_RETURN_SUCCESS);
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "list nvme1");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("list nvme1")), DF_RETURN_SUCCESS);
    /* A controller first keeps the second word as an argument. */
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "reset nvme1");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, NVME_ERR_INVAL);
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme0 reset nvme1")), DF_RETURN_BAD_PARAMETER);
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme7 list")), DF_RETURN_HARDWARE_ABSENT);
    assert_int_equal(nvme_exos_shell_run(TEXT("info nvme7")), DF_RETURN_HARDWARE_ABSENT);
    assert_non_null(strstr(mock_exos.console, "nvmectl info: no NVMe controller nvme7"));
}

/* A namespace device, nvme-cli's nvme1n1 (/dev/ optional), selects its
 * controller as nvme1 does and goes to nvmectl right after the command
 * (after both words of a zns one), where nvmectl takes its NSID (before:
 * refused, "give its controller, nvme1, and -n NSID"). */
static void test_a_namespace_device_selects_its_controller_and_goes_to_nvmectl(void **state)
{
    static const struct {
        const char *typed, *line;
    } cases[] = {
        {"id-ns nvme1n1", "id-ns nvme1n1"},
        {"read /dev/nvme1n2 -s 0 -c 1", "read /dev/nvme1n2 -s 0 -c 1"},
        {"nvme1n1 read -c 1", "read nvme1n1 -c 1"},
        {"  /dev/nvme1n3   get-ns-id  ", "get-ns-id /dev/nvme1n3  "},
        {"zns report-zones nvme1n1 -o json", "zns report-zones nvme1n1 -o json"},
        {"nvme1n1 zns id-ns -o json", "zns id-ns nvme1n1 -o json"},
        /* not an NSID: nvmectl says so ("device 'nvme1nx' is not ...") */
        {"nvme1nx id-ns", "id-ns nvme1nx"},
    };
    (void)state;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
        expect_string(__wrap_nvmectl_run_line, line, cases[i].line);
        expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
        will_return(__wrap_nvmectl_run_line, 0);
        assert_int_equal(nvme_exos_shell_run(TEXT(cases[i].typed)), DF_RETURN_SUCCESS);
    }
    /* A controller first keeps a namespace word as nvmectl's argument,
     * another controller's too (nvmectl refuses that one). */
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "read nvme1n1 -c 1");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, NVME_ERR_INVAL);
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme0 read nvme1n1 -c 1")), DF_RETURN_BAD_PARAMETER);
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] read : KO");
    /* A namespace of a controller the glue does not have. */
    mock_exos.console[0] = 0;
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme7n1 read -c 1")), DF_RETURN_HARDWARE_ABSENT);
    assert_non_null(strstr(mock_exos.console, "nvmectl read: no NVMe controller nvme7"));
    /* Alone, as nvme1 alone: the usage. */
    expect_function_call(__wrap_nvmectl_usage);
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme1n1")), DF_RETURN_SUCCESS);
}

/* After the options, as nvme-cli's (getopt_long_only moves the device
 * last): the first word that is no option nor an option's value, as
 * nvmectl reads the command's options, selects its controller and stays
 * in nvmectl's line.  After an option that takes a value in the next word
 * it is the value (-t nvme1: the text "nvme1"), after a flag (-H,
 * --force) the device (before: the shell knew no flag, so `id-ctrl -H
 * nvme1` went to nvme0, which refused nvme1).  No device word, an unknown
 * option or command: the first controller's nvmectl gets the line as
 * typed, and says what is wrong. */
static void test_a_device_after_the_options_selects_its_controller(void **state)
{
    static const struct {
        const char *typed;
        unsigned ctrl;
    } cases[] = {
        {"smart-log -o json nvme1", 1},
        {"read -s 0 -c 1 /dev/nvme1n2", 1},
        {"zns report-zones -d 1 nvme1n1", 1},
        {"write -c 1 -t hello nvme1n1", 1},
        {"write -c 1 -t nvme1", 0},
        {"id-ctrl -H nvme1", 1},
        {"id-ctrl -H x nvme1", 0},
        {"format -n 1 --force nvme1n1", 1},
        {"smart-log -H -o json nvme1", 1},
        {"read -s nvme1", 0},
        {"read -s 0 -- nvme1n1", 1},
        {"read -- -s nvme1", 0},
        {"smart-log -X nvme1", 0},
        {"no-such-command nvme1", 0},
        /* an option whose value is in its word (-c1, --name=value) takes
         * no other: nvme-cli's `--output-format=json /dev/nvme1` (before:
         * nvme0's nvmectl, which refused nvme1) */
        {"read -c1 nvme1n1", 1},
        {"smart-log --output-format=json /dev/nvme1", 1},
        {"write -c 1 --text=hello nvme1n1", 1},
        {"smart-log -ojson nvme1", 1},
        {"id-ctrl --human-readable nvme1", 1},
        {"get-feature --feature-id 7 nvme1", 1},
        {"read -c 1 nvme1x", 0},
    };
    (void)state;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_value(__wrap_nvmectl_run_line, ctrl, devs[cases[i].ctrl].Ctrl);
        expect_string(__wrap_nvmectl_run_line, line, cases[i].typed);
        expect_string(__wrap_nvmectl_run_line, io->dev_name,
                      cases[i].ctrl != 0 ? "nvme1" : "nvme0");
        will_return(__wrap_nvmectl_run_line, 0);
        assert_int_equal(nvme_exos_shell_run(TEXT(cases[i].typed)), DF_RETURN_SUCCESS);
    }
    /* a controller the glue does not have, after the options */
    mock_exos.console[0] = 0;
    assert_int_equal(nvme_exos_shell_run(TEXT("read -c 1 nvme7n1")), DF_RETURN_HARDWARE_ABSENT);
    assert_non_null(strstr(mock_exos.console, "nvmectl read: no NVMe controller nvme7"));
}

/* The controller after the command is nvme-cli's device word and stays
 * nvmectl's: a second device word, after the options, is then nvmectl's
 * "unexpected argument", as for nvmectl given the line as typed (nvme-cli
 * opens the first, nvme1, and reads no namespace without -n).  Before:
 * nvme1 was dropped, so nvmectl took nvme1n2 for its device and read
 * namespace 2. */
static void test_the_controller_after_the_command_stays_nvmectls_device(void **state)
{
    static const char *const typed[] = {"read nvme1 -s 0 nvme1n2", "write /dev/nvme1 -p 7 nvme1n2",
                                        "zns reset-zone nvme1 -s 0 nvme1n1", "reset nvme1"};
    (void)state;
    for (unsigned i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
        expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
        expect_string(__wrap_nvmectl_run_line, line, typed[i]);
        expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
        will_return(__wrap_nvmectl_run_line, 0);
        assert_int_equal(nvme_exos_shell_run(TEXT(typed[i])), DF_RETURN_SUCCESS);
    }
}

/* A namespace device named first goes after the command: when the line
 * then passes 255 characters it is refused, not cut (a command of 247
 * characters leaves room for "nvme1n1" of "nvme1n12": another
 * namespace); one character less runs. */
static void test_a_namespace_device_first_past_the_line_is_refused(void **state)
{
    (void)state;
    char typed[300], want[300];
    memset(typed, 'x', sizeof(typed));
    memcpy(typed, "nvme1n12 ", 9);
    typed[9 + 247] = 0;
    assert_int_equal(nvme_exos_shell_run(TEXT(typed)), DF_RETURN_BAD_PARAMETER);
    assert_non_null(strstr(mock_exos.console, "too long"));
    typed[9 + 246] = 0;
    memset(want, 'x', 246);
    strcpy(want + 246, " nvme1n12");
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, want);
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT(typed)), DF_RETURN_SUCCESS);
}

static void test_missing_controller(void **state)
{
    (void)state;
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme7 list")), DF_RETURN_HARDWARE_ABSENT);
    assert_non_null(strstr(mock_exos.console, "nvmectl list: no NVMe controller nvme7"));
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] list : KO");
    ndevs = 0;
    mock_exos.console[0] = 0;
    assert_int_equal(nvme_exos_shell_run(TEXT("info")), DF_RETURN_HARDWARE_ABSENT);
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] info : KO");
}

static void test_shut_down_controller_is_reported(void **state)
{
    (void)state;
    devs[1].Ctrl = NULL; /* after EXOS's shutdown path ran */
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme1 info")), DF_RETURN_HARDWARE_ABSENT);
    assert_non_null(strstr(mock_exos.console, "this one is shut down"));
}

/* A line that names no controller goes to the first one up: with nvme0
 * shut down, nvme1 (before: refused, "no NVMe controller nvme0", for a
 * controller the user never named); none up, refused by nvme0's name. */
static void test_no_controller_named_goes_to_the_first_one_up(void **state)
{
    (void)state;
    devs[0].Ctrl = NULL; /* nvme0 shut down */
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "id-ctrl");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("id-ctrl")), DF_RETURN_SUCCESS);
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "read -s 0 -c 1");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("read -s 0 -c 1")), DF_RETURN_SUCCESS);
    /* Named, nvme0 is still refused. */
    mock_exos.console[0] = 0;
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme0 info")), DF_RETURN_HARDWARE_ABSENT);
    assert_non_null(strstr(mock_exos.console, "nvmectl info: no NVMe controller nvme0"));
    devs[1].Ctrl = NULL;
    mock_exos.console[0] = 0;
    assert_int_equal(nvme_exos_shell_run(TEXT("info")), DF_RETURN_HARDWARE_ABSENT);
    assert_non_null(strstr(mock_exos.console, "nvmectl info: no NVMe controller nvme0"));
    assert_non_null(strstr(mock_exos.console, "this one is shut down"));
}

static void test_failure_is_reported(void **state)
{
    (void)state;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "bogus");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, NVME_ERR_INVAL);
    assert_int_equal(nvme_exos_shell_run(TEXT("bogus")), DF_RETURN_BAD_PARAMETER);
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] bogus : KO");
}

/* EXOS's shell reports any return other than DF_RETURN_SUCCESS as a
 * failure; the line before it names the command and the reason. */
static void test_failures_name_the_command(void **state)
{
    (void)state;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "smart");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, NVME_ERR_TIMEOUT);
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme1 smart")), DF_RETURN_INPUT_OUTPUT);
    assert_non_null(strstr(mock_exos.console, "nvmectl smart: failed (timeout)"));
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] smart : KO");
    /* a device status is named too */
    mock_exos.console[0] = 0;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "read -n 1 -s 999999999");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, NVME_SF(0, 0x80) | NVME_SF_DNR_BIT);
    assert_int_equal(nvme_exos_shell_run(TEXT("read -n 1 -s 999999999")), DF_RETURN_BAD_PARAMETER);
    assert_non_null(strstr(mock_exos.console, "nvmectl read: failed (LBA Out of Range)"));
}

static void test_no_arguments_prints_usage_and_succeeds(void **state)
{
    (void)state;
    expect_function_call(__wrap_nvmectl_usage);
    assert_int_equal(run_shell("nvmectl", 7), DF_RETURN_SUCCESS);
    assert_non_null(strstr(mock_exos.console, "usage: nvmectl"));
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] usage : OK");
}

/* A line longer than the glue's copy (255 characters) is refused, not
 * cut: cut, "delete-ns --force ... -n 12" became "... -n 1" and ran on
 * the wrong namespace.  nvmectl_run_line is not called (no expectation
 * queued for it: a call fails the test). */
static void test_a_line_too_long_is_refused_not_cut(void **state)
{
    (void)state;
    char typed[400];
    strcpy(typed, "delete-ns --force");
    size_t n = strlen(typed);
    while (n + 4 < 255)
        typed[n++] = ' ';
    memcpy(typed + n, "-n 12", 6); /* "-n 1" ends at character 255, "2" is the 256th */
    assert_int_equal(strlen(typed), 256);
    assert_int_equal(nvme_exos_shell_run(TEXT(typed)), DF_RETURN_BAD_PARAMETER);
    assert_non_null(strstr(mock_exos.console, "too long"));
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] delete-ns : KO");
}

/* nvmectl reaches the device behind the block cache: what the cache owes
 * is written back and Flushed before the command runs. */
static unsigned flushes;
static int count_flush(void *h, uint32_t nsid)
{
    (void)h;
    assert_int_equal(nsid, 1);
    flushes++;
    return 0;
}
static const struct nvme_exos_blk_ops flush_ops = {.flush = count_flush};

static void test_cache_is_synced_before_nvmectl(void **state)
{
    (void)state;
    flushes = 0;
    devs[0].Blk.ops = &flush_ops;
    devs[0].Blk.volatile_cache = true;
    devs[0].Blk.unflushed = true;
    devs[0].Blk.owed_nsid[0] = 1;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "write -n 1 -s 0 -p 7");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("write -n 1 -s 0 -p 7")), DF_RETURN_SUCCESS);
    assert_int_equal(flushes, 1);
    assert_false(devs[0].Blk.unflushed);
}

/* A device that refuses writes (QEMU -drive readonly=on: Write Fault):
 * the write-back before nvmectl fails.  nvmectl must still reach the
 * device (error-log, smart-log, id-ctrl are how one looks at it), and the
 * blocks that were not written stay owed. */
static int failing_flush(void *h, uint32_t nsid)
{
    (void)h;
    (void)nsid;
    return NVME_SF(2, 0x80); /* Write Fault */
}
static const struct nvme_exos_blk_ops failing_ops = {.flush = failing_flush};

static void test_failed_write_back_does_not_lock_nvmectl_out(void **state)
{
    (void)state;
    devs[0].Blk.ops = &failing_ops;
    devs[0].Blk.volatile_cache = true;
    devs[0].Blk.unflushed = true;
    devs[0].Blk.owed_nsid[0] = 1;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "error-log");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("error-log")), DF_RETURN_SUCCESS);
    /* the warning, then what nvmectl printed, all after the unlock */
    assert_ptr_equal(strstr(mock_exos.console, "nvmectl: cached writes could not be written "
                                               "back (Write Fault)"),
                     mock_exos.console);
    assert_non_null(strstr(mock_exos.console, "stay cached\n" RUN_LINE_TEXT));
    assert_int_equal(mock_exos.console_prints_locked, 0);
    assert_true(devs[0].Blk.unflushed);
    assert_int_equal(devs[0].Blk.owed_nsid[0], 1);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* EXOS's console pager waits for a key once a screen is full: while
 * nvmectl holds the block locks, a disk request of another task would
 * wait as long.  Its output is kept and printed after the unlock. */
static void test_output_reaches_the_console_after_the_block_locks_are_released(void **state)
{
    (void)state;
    print_times = 100; /* four screens */
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "id-ctrl");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme1 id-ctrl")), DF_RETURN_SUCCESS);
    assert_int_equal(mock_exos.console_prints_locked, 0);
    assert_int_equal(strlen(mock_exos.console), 100 * strlen(RUN_LINE_TEXT));
    assert_ptr_equal(strstr(mock_exos.console, RUN_LINE_TEXT), mock_exos.console);
    assert_int_equal(mock_exos.heap_live, 0);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* nvmectl_run_line is called once for `typed` on controller dev (no
 * selector word: nvme0) and succeeds; so does the shell command. */
static void run_once_ok(unsigned dev, const char *typed)
{
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[dev].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, typed);
    expect_string(__wrap_nvmectl_run_line, io->dev_name, dev == 0 ? "nvme0" : "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT(typed)), DF_RETURN_SUCCESS);
}

/* A hex dump of the whole scratch buffer (64 KiB: 4096 lines of up to
 * 103 characters, `read -c 128` of 512-byte blocks) is kept whole, the
 * buffer growing past its first 64 KiB: before, all but its first 64 KiB
 * went to the console while the block locks were held. */
static void test_a_dump_of_the_whole_scratch_buffer_waits_for_the_unlock(void **state)
{
    (void)state;
    static char dump_line[104];
    memset(dump_line, 'd', sizeof(dump_line) - 2);
    dump_line[sizeof(dump_line) - 2] = '\n';
    print_times = NVME_EXOS_BOUNCE_BYTES / 16u;
    print_text = dump_line;
    run_once_ok(0, "read -n 1 -s 0 -c 128");
    assert_int_equal(mock_exos.console_prints_locked, 0);
    assert_int_equal(mock_exos.console_bytes, (size_t)print_times * 103u);
    assert_int_equal(strspn(mock_exos.console, "d\n"), sizeof(mock_exos.console) - 1);
    assert_int_equal(mock_exos.heap_live, 0);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* More than is kept (512 KiB), or no heap to grow into, or none at all:
 * the rest goes out as it comes, in order, nothing lost. */
static void test_output_past_what_is_kept_goes_out_as_it_comes(void **state)
{
    (void)state;
    size_t line = strlen(RUN_LINE_TEXT);
    print_times = 14000; /* 560 KB */
    run_once_ok(0, "read -n 1 -s 0 -c 64");
    assert_true(mock_exos.console_prints_locked > 0);
    assert_int_equal(mock_exos.console_bytes, 14000u * line);
    assert_ptr_equal(strstr(mock_exos.console, RUN_LINE_TEXT), mock_exos.console);
    assert_int_equal(mock_exos.heap_live, 0);

    /* the first 64 KiB, and no heap to grow into */
    mock_exos_reset();
    mock_exos.heap_fail_from = 64u * 1024u + 1u;
    print_times = 2000; /* 82 KB */
    run_once_ok(0, "read -n 1 -s 0 -c 64");
    assert_true(mock_exos.console_prints_locked > 0);
    assert_int_equal(mock_exos.console_bytes, 2000u * line);
    assert_int_equal(strlen(mock_exos.console), sizeof(mock_exos.console) - 1); /* full */
    for (size_t at = 0; at + line < sizeof(mock_exos.console); at += line)
        assert_memory_equal(mock_exos.console + at, RUN_LINE_TEXT, line);
    assert_int_equal(mock_exos.heap_live, 0);

    /* one print longer than ConsolePrint's buffer, with no heap */
    static char long_text[3001];
    memset(long_text, 'x', sizeof(long_text) - 1);
    mock_exos_reset();
    mock_exos.heap_fail_from = 1;
    print_times = 2;
    print_text = long_text;
    run_once_ok(0, "smart-log");
    assert_int_equal(strlen(mock_exos.console), 6000);
    assert_int_equal(strspn(mock_exos.console, "x"), 6000);
    assert_int_equal(mock_exos.heap_live, 0);
}

/* nvme-cli's tab-aligned lines (error-log's "error_count\t: 1") line up
 * on EXOS's console as on a terminal: a tab is spaces to the next
 * multiple of 8 columns, counted across prints and from each new line.
 * EXOS's console itself moves a tab 4 columns on from wherever it is. */
static void test_tabs_are_spaces_to_the_next_stop_of_8(void **state)
{
    (void)state;
    print_times = 2;
    print_text = "error_count\t: 1\nsqid\t\t: 0\n\tx\tabcdefgh\t|\nab\t";
    run_once_ok(0, "error-log");
    assert_string_equal(mock_exos.console, "error_count     : 1\n"
                                           "sqid            : 0\n"
                                           "        x       abcdefgh        |\n"
                                           "ab      error_count     : 1\n"
                                           "sqid            : 0\n"
                                           "        x       abcdefgh        |\n"
                                           "ab      ");
    assert_null(strchr(mock_exos.console, '\t'));

    /* the same, straight to the console (no heap to keep it in) */
    mock_exos_reset();
    mock_exos.heap_fail_from = 1;
    print_times = 1;
    print_text = "a\tb\n1234567\tc\n12345678\td\n";
    run_once_ok(0, "error-log");
    assert_string_equal(mock_exos.console, "a       b\n1234567 c\n12345678        d\n");
    assert_int_equal(mock_exos.heap_live, 0);
}

/* The write-back before nvmectl failed and the blocks stay owed: an
 * nvmectl write to one of them would be overwritten by the cache's later
 * write-back (and a read would show what EXOS was not told is there).
 * Only commands that leave namespace data alone run (error-log above);
 * a write is refused (nvmectl_run_line not called: no expectation queued,
 * a call fails the test). */
static void test_owed_writes_keep_nvmectl_writes_off_the_device(void **state)
{
    (void)state;
    devs[0].Blk.ops = &failing_ops;
    devs[0].Blk.volatile_cache = true;
    devs[0].Blk.unflushed = true;
    devs[0].Blk.owed_nsid[0] = 1;
    assert_int_not_equal(nvme_exos_shell_run(TEXT("write -n 1 -s 0 -p 7")), DF_RETURN_SUCCESS);
    assert_non_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] write : KO");
    assert_true(devs[0].Blk.unflushed);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
    /* Write Uncorrectable destroys the blocks' data as a write does. */
    mock_exos.console[0] = 0;
    assert_int_not_equal(nvme_exos_shell_run(TEXT("write-uncor -n 1 -s 0 -c 7")),
                         DF_RETURN_SUCCESS);
    assert_non_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] write-uncor : KO");
    assert_true(devs[0].Blk.unflushed);
}

/* Namespace 1's write-back fails (Write Fault: a bad sector), namespace
 * 2 owes nothing.  Before, nvmectl refused read, write and verify (write-verify) on
 * every namespace of the controller for as long as namespace 1 owed
 * writes ("not run while the cache owes writes" on nvme0n2, seen on EXOS
 * x86-64); nvme-cli on Linux is never kept from a namespace by another
 * one's page cache.  The refusal keeps nvmectl off the namespace whose
 * cached blocks a later write-back would write over (and off commands
 * that may reach it: no -n, NSID FFFFFFFFh, Format). */
static int write_fault(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h, (void)lba, (void)count, (void)buf;
    assert_int_equal(nsid, 1);
    return NVME_SF(2, 0x80);
}
static int flush_ok(void *h, uint32_t nsid)
{
    (void)h, (void)nsid;
    return 0;
}
static const struct nvme_exos_blk_ops one_ns_fails_ops = {.write = write_fault, .flush = flush_ok};

static void expect_run(const char *line)
{
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, line);
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, 0);
}

/* devs[0]'s cache owing block 5 of namespace `nsid`, one segment, its
 * writes going to `ops`, a Flush owed to `nsid`. */
static void owe_block_5(const struct nvme_exos_blk_ops *ops, U32 nsid)
{
    static uint8_t seg_data[NVME_EXOS_SEG_BYTES] __attribute__((aligned(4096)));
    struct nvme_exos_blk *b = &devs[0].Blk;
    b->ops = ops;
    b->volatile_cache = true;
    b->unflushed = true;
    b->owed_nsid[0] = nsid;
    b->nsegs = 1;
    b->segs[0].data = seg_data;
    b->segs[0].nsid = nsid;
    b->segs[0].first = 0;
    b->segs[0].blocks = 128;
    b->segs[0].block_bytes = 512;
    b->segs[0].valid[0] = b->segs[0].dirty[0] = 1u << 5;
}

static void test_owed_writes_of_one_namespace_leave_the_others_to_nvmectl(void **state)
{
    static const char *const refused[] = {
        "write -n 1 -s 0 -p 7", "read -n 2 -s 0 -n 1", "write-verify -n1 -s 0", "write -s 0 -p 7",
        "flush -n 0xffffffff", "format -n 2 --force", "read -n 2 -s 0 -t -n",
        "read --namespace-id=1 -s 0", "zns reset-zone -n 1 -s 0", "zns offline-zone -a",
        /* a namespace device's NSID is checked as -n's: the owing one's
         * refused, whatever other word reads like an -n (write's text
         * "-n2" went to namespace 1 before, only namespace 2 checked) */
        "write nvme0n1 -s 0 -p 7", "nvme0n1 write -n 0 -p 7", "write nvme0n1 -t -n2",
        "nvme0n1 write -t --namespace-id=2", "read nvme0n2 -n 1", "read nvme0n -c 1",
        /* -n wins in nvmectl (namespace 2), but the check cannot tell it
         * from another option's value (-t -n2): refused */
        "write nvme0n1 -n 2 -p 7"};
    struct nvme_exos_blk *b = &devs[0].Blk;
    (void)state;
    owe_block_5(&one_ns_fails_ops, 1);
    b->owed_nsid[1] = 2;
    expect_run("write -n 2 -s 0 -p 7");
    assert_int_equal(nvme_exos_shell_run(TEXT("write -n 2 -s 0 -p 7")), DF_RETURN_SUCCESS);
    assert_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    expect_run("read --namespace-id=2 -s 0");
    assert_int_equal(nvme_exos_shell_run(TEXT("read --namespace-id=2 -s 0")), DF_RETURN_SUCCESS);
    expect_run("write-verify -n2 -s 0");
    assert_int_equal(nvme_exos_shell_run(TEXT("write-verify -n2 -s 0")), DF_RETURN_SUCCESS);
    expect_run("zns reset-zone -n 2 -s 0"); /* nvme-cli's two-word zoned command */
    assert_int_equal(nvme_exos_shell_run(TEXT("zns reset-zone -n 2 -s 0")), DF_RETURN_SUCCESS);
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] zns-reset-zone : OK");
    /* I/O through the namespace device of one that owes nothing runs (before:
     * refused, though the message says such I/O runs) */
    expect_run("read /dev/nvme0n2 -s 0");
    assert_int_equal(nvme_exos_shell_run(TEXT("read /dev/nvme0n2 -s 0")), DF_RETURN_SUCCESS);
    expect_run("write nvme0n2 -c 1 -p 7");
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme0n2 write -c 1 -p 7")), DF_RETURN_SUCCESS);
    assert_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        mock_exos.console[0] = 0;
        assert_int_not_equal(nvme_exos_shell_run(TEXT(refused[i])), DF_RETURN_SUCCESS);
        assert_non_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    }
    assert_int_equal(b->segs[0].dirty[0], 1u << 5); /* still owed */
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* nvmectl takes its NSID, as nvme-cli's getopt_long_only, from -n in a
 * group after a flag ("-ln1": --limited-retry, then -n 1) and from a
 * unique abbreviation of --namespace-id ("--namespace 1", "--names=1"),
 * -n winning over a namespace device.  Namespace 1 owes a write the
 * device refused: these lines write into (or read) namespace 1 and are
 * refused (before: only nvme0n2 was checked, it owes nothing, and nvmectl
 * wrote namespace 1's owed blocks, which the cache's later write-back
 * would overwrite).  Options without an n still run. */
static void test_an_nsid_in_a_group_or_an_abbreviation_is_checked(void **state)
{
    static const char *const refused[] = {
        "write nvme0n2 -ln1 -s 0 -p 7",          "write nvme0n2 -l -n 1 -s 5 -p 7",
        "write nvme0n2 --namespace 1 -s 5 -p 7", "read nvme0n2 --names=1 -s 5",
        "write-zeroes nvme0n2 -dn 1 -s 5",       "read nvme0n2 -namespace-id 1 -s 5"};
    (void)state;
    owe_block_5(&one_ns_fails_ops, 1);
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        mock_exos.console[0] = 0;
        assert_int_not_equal(nvme_exos_shell_run(TEXT(refused[i])), DF_RETURN_SUCCESS);
        assert_non_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    }
    expect_run("write nvme0n2 -l -s 5 --pattern=7");
    assert_int_equal(nvme_exos_shell_run(TEXT("write nvme0n2 -l -s 5 --pattern=7")),
                     DF_RETURN_SUCCESS);
    expect_run("read --namespace=2 --start-block=5");
    assert_int_equal(nvme_exos_shell_run(TEXT("read --namespace=2 --start-block=5")),
                     DF_RETURN_SUCCESS);
    assert_int_equal(devs[0].Blk.segs[0].dirty[0], 1u << 5); /* still owed */
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* EXOS's shell takes "a" as a (ParseNextCommandLineComponent), nvme-cli's
 * shell "a" and 'a': the quotes are taken out before nvmectl splits the
 * line (before: they went to nvmectl, write -t "HELLO" wrote the quotes
 * with the text, -n "1" was a bad number, "nvme1" selected nvme0).  What
 * nvmectl's line cannot carry as one word (a blank between quotes, which
 * would split into other options, nothing between them, a quote left
 * open) is refused, nvmectl not called. */
static void test_quotes_are_taken_out_and_a_quoted_blank_is_refused(void **state)
{
    static const char *const refused[] = {"write -n 1 -t \"a -n 2\"", "write -n 1 -t \"\" -s 0",
                                          "write -n 1 -t 'abc", "id-ctrl \"nvme1",
                                          "id-ctrl \"nvme1 \""};
    (void)state;
    expect_run("write -n 2 -s 0 -t HELLO");
    assert_int_equal(nvme_exos_shell_run(TEXT("write -n 2 -s 0 -t \"HELLO\"")), DF_RETURN_SUCCESS);
    expect_run("read -n 1 -s 0 -t it's");
    assert_int_equal(nvme_exos_shell_run(TEXT("read -n \"1\" -s '0' -t \"it's\"")),
                     DF_RETURN_SUCCESS);
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "id-ctrl nvme1");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("id-ctrl \"nvme1\"")), DF_RETURN_SUCCESS);
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        mock_exos.console[0] = 0;
        assert_int_equal(nvme_exos_shell_run(TEXT(refused[i])), DF_RETURN_BAD_PARAMETER);
        assert_non_null(strstr(mock_exos.console, "between quotes, or a quote left open, not run"));
    }
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* A command whose name is longer than 15 characters is named in full on
 * the console and in COM2's "[CMD_nvmectl] <command> : OK|KO" (before:
 * cut to 15, "supported-log-p", "primary-ctrl-ca", which no script
 * looking for the command finds). */
static void test_long_command_names_are_named_in_full(void **state)
{
    (void)state;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "supported-log-pages");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line,
                NVME_SF(0, 0x02) | NVME_SF_DNR_BIT); /* QEMU 7.2: no LID 00h */
    assert_int_equal(nvme_exos_shell_run(TEXT("supported-log-pages")), DF_RETURN_INPUT_OUTPUT);
    assert_non_null(strstr(mock_exos.console,
                           "nvmectl supported-log-pages: failed (Invalid Field in Command)"));
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] supported-log-pages : KO");
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "persistent-event-log -a 0");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme1 persistent-event-log -a 0")),
                     DF_RETURN_SUCCESS);
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] persistent-event-log : OK");
}

/* With writes the cache owes, the commands that only look at the
 * controller (Identify, Get Log Page) still run, among them
 * changed-ns-list-log, whose 19-character name was cut to 15 and so never
 * matched the list of those commands: it was refused. */
static void run_while_writes_are_owed(const char *line)
{
    devs[0].Blk.ops = &failing_ops;
    devs[0].Blk.volatile_cache = true;
    devs[0].Blk.unflushed = true;
    devs[0].Blk.owed_nsid[0] = 1;
    mock_exos.console[0] = 0;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, line);
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT(line)), DF_RETURN_SUCCESS);
    assert_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    assert_true(devs[0].Blk.unflushed);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

static void test_owed_writes_leave_changed_ns_list_log_running(void **state)
{
    (void)state;
    run_while_writes_are_owed("changed-ns-list-log");
}

/* A controller that died (NVME_EVENT_DEAD: a recovery reset failed) or
 * went and answers again: the cache owes the writes it could not write
 * back meanwhile, and only a reset that works lets them out
 * (nvme_ctrl_reset brings the controller back).  `nvmectl reset`, a
 * Controller Reset (NVMe 1.4 §7.3.2), leaves the namespaces' data as
 * they are: it runs.  Before, it was refused ("not run while the cache
 * owes writes"), and the writes stayed owed until the shutdown dropped
 * them. */
static void test_owed_writes_leave_reset_running(void **state)
{
    (void)state;
    run_while_writes_are_owed("reset");
}

/* help, --help and -h print nvmectl's usage and send nothing: they run
 * while the cache owes writes, as a bare nvmectl does (before: refused,
 * "not run while the cache owes writes", where the user looks for help). */
static void test_owed_writes_leave_help_running(void **state)
{
    static const char *const helps[] = {"help", "--help", "-h"};
    (void)state;
    devs[0].Blk.ops = &failing_ops;
    devs[0].Blk.volatile_cache = true;
    devs[0].Blk.unflushed = true;
    devs[0].Blk.owed_nsid[0] = 1;
    for (unsigned i = 0; i < 3; i++) {
        mock_exos.console[0] = 0;
        expect_function_call(__wrap_nvmectl_usage);
        assert_int_equal(nvme_exos_shell_run(TEXT(helps[i])), DF_RETURN_SUCCESS);
        assert_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    }
    assert_true(devs[0].Blk.unflushed);
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* nvmectl help, --help, -h and a bare nvmectl with no NVMe controller up
 * (none attached, or all shut down) print the usage, as nvme-cli's help
 * needs no device: it names no controller and reads none.  Before: "no
 * NVMe controller nvme0", a failure, where the user looked for help.  A
 * command that needs one is still refused. */
static void test_help_needs_no_controller_up(void **state)
{
    static const char *const helps[] = {"help", "--help", "-h", "", "nvme1 help"};
    (void)state;
    devs[0].Ctrl = devs[1].Ctrl = NULL; /* both shut down */
    for (unsigned k = 0; k < 2; k++) {
        for (unsigned i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
            mock_exos.console[0] = 0;
            expect_function_call(__wrap_nvmectl_usage);
            assert_int_equal(nvme_exos_shell_run(TEXT(helps[i])), DF_RETURN_SUCCESS);
            assert_non_null(strstr(mock_exos.console, "usage: nvmectl"));
            assert_null(strstr(mock_exos.console, "no NVMe controller"));
            assert_int_equal(mock_exos.last_log_type, LOG_TEST);
        }
        assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] help : OK");
        ndevs = 0; /* then none attached at all */
    }
    assert_int_equal(mock_exos.mutex_locks, 0);
    mock_exos.console[0] = 0;
    assert_int_equal(nvme_exos_shell_run(TEXT("info")), DF_RETURN_HARDWARE_ABSENT);
    assert_non_null(strstr(mock_exos.console, "nvmectl info: no NVMe controller nvme0"));
}

/* -o's value in its word ("-ojson", getopt's -o json) holds an n but names
 * no namespace: with namespace 1 owing a write the device refused, I/O to
 * namespace 2 with -ojson runs (before: refused, the n of json read as
 * -n with no NSID).  An owing namespace is still refused with it. */
static void test_an_output_format_in_one_word_is_no_namespace(void **state)
{
    static const char *const refused[] = {"read nvme0n1 -s 0 -ojson", "read -ojson -n 1 -s 0",
                                          "read -ojson -s 0"};
    (void)state;
    owe_block_5(&one_ns_fails_ops, 1);
    expect_run("read nvme0n2 -s 0 -ojson");
    assert_int_equal(nvme_exos_shell_run(TEXT("read nvme0n2 -s 0 -ojson")), DF_RETURN_SUCCESS);
    expect_run("write-verify -ojson -n 2 -s 0 -onormal");
    assert_int_equal(nvme_exos_shell_run(TEXT("write-verify -ojson -n 2 -s 0 -onormal")),
                     DF_RETURN_SUCCESS);
    assert_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        mock_exos.console[0] = 0;
        assert_int_not_equal(nvme_exos_shell_run(TEXT(refused[i])), DF_RETURN_SUCCESS);
        assert_non_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    }
    assert_int_equal(devs[0].Blk.segs[0].dirty[0], 1u << 5); /* still owed */
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* A controller's blk lock held for good by another task (one stuck in a
 * call): nvmectl waits NVME_EXOS_BLK_LOCK_MS at most for it, for the
 * named controller and for another path of its NVM subsystem, then fails
 * with a timeout, nothing run, the locks it had let go (before:
 * LockMutex(INFINITY), the shell waited for good). */
static void test_a_lock_held_for_good_fails_nvmectl_in_bounded_time(void **state)
{
    static int other_task;
    (void)state;
    for (unsigned i = 0; i < 2; i++) { /* one NVM subsystem, two controllers */
        strcpy(devs[i].SubNqn, "nqn.2019-08.org.qemu:subsys");
        strcpy(devs[i].Serial, "S0");
        devs[i].Cntlid = (U16)(i + 1);
    }
    devs[1].Blk.bounce_mutex.Task = (LPTASK)(void *)&other_task;
    for (unsigned i = 0; i < 2; i++) {
        mock_exos.console[0] = 0;
        const char *line = i == 0 ? "nvme1 id-ctrl" : "nvme0 id-ctrl";
        assert_int_equal(nvme_exos_shell_run(TEXT(line)), DF_RETURN_INPUT_OUTPUT);
        assert_non_null(strstr(mock_exos.console, "id-ctrl: failed (timeout)"));
        assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] id-ctrl : KO");
    }
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
    devs[1].Blk.bounce_mutex.Task = NULL;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "id-ctrl");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("nvme0 id-ctrl")), DF_RETURN_SUCCESS);
}

/* The Identify and log commands added to nvmectl with nvme-cli's names
 * only read the controller's data structures: they run too (before, all
 * of them were refused while the cache owed writes). */
static void test_owed_writes_leave_identify_and_log_commands_running(void **state)
{
    (void)state;
    static const char *const lines[] = {"primary-ctrl-caps",
                                        "list-secondary",
                                        "id-iocs",
                                        "nvm-id-ctrl",
                                        "nvm-id-ns -n 1",
                                        "telemetry-log -g 0",
                                        "supported-log-pages",
                                        "endurance-log -g 1",
                                        "ana-log",
                                        "persistent-event-log -a 0",
                                        "zns id-ctrl",
                                        "zns id-ns -n 1",
                                        "zns report-zones -n 1",
                                        "get-ns-id"};
    for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        run_while_writes_are_owed(lines[i]);
}

/* nvme-cli's zoned commands are two words: "zns id-ns" is one command
 * (zns-id-ns in messages and on COM2), and in nvme-cli's order the
 * controller follows both words (before: "zns" was the command, so
 * "zns id-ctrl nvme1" went to nvme0 with nvme1 as an argument). */
static void test_zns_commands_are_two_words_and_take_the_controller_after_them(void **state)
{
    (void)state;
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "zns id-ctrl nvme1");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("zns id-ctrl nvme1")), DF_RETURN_SUCCESS);
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] zns-id-ctrl : OK");
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[0].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "zns");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme0");
    will_return(__wrap_nvmectl_run_line, NVME_ERR_INVAL);
    assert_int_not_equal(nvme_exos_shell_run(TEXT("zns")), DF_RETURN_SUCCESS);
    assert_string_equal(mock_exos.last_log, "[CMD_nvmectl] zns : KO");
}

/* show-regs reads registers only: it runs too, and it is what one looks
 * at when a device refuses writes (before: refused while writes were
 * owed). */
static void test_owed_writes_leave_show_regs_running(void **state)
{
    (void)state;
    run_while_writes_are_owed("show-regs -H");
}

/* nvme0 and nvme1: two controllers of one NVM subsystem (one SUBNQN and
 * serial number, CNTLIDs 1 and 2), the shared namespace 1 published
 * through nvme0 (its block cache holds a dirty block and a clean one of
 * it).  nvmectl through nvme1 reaches the same blocks (nvme-cli's order:
 * `nvmectl write nvme1 -n 1 ...`): nvme0's cache is written back and
 * dropped first, as nvme1's own; else its later write-back writes an
 * older block over nvmectl's, and its clean copy is served to EXOS after
 * nvmectl changed the block.  Before: nvme0's cache was left alone (0
 * write-backs, the dirty block still owed, the clean one still valid). */
static unsigned path0_writes;
static int path0_write(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h, (void)buf;
    assert_int_equal(nsid, 1);
    assert_int_equal(lba, 5);
    assert_int_equal(count, 1);
    path0_writes++;
    return 0;
}
static const struct nvme_exos_blk_ops path0_ops = {.write = path0_write, .flush = flush_ok};

static void two_paths_one_cached(void)
{
    for (unsigned i = 0; i < 2; i++) {
        strcpy(devs[i].SubNqn, "nqn.2024-01.test:S0");
        strcpy(devs[i].Serial, "S0");
        devs[i].Cntlid = (U16)(i + 1);
    }
    owe_block_5(&path0_ops, 1);
    devs[0].Blk.segs[0].valid[0] |= 1u << 6; /* block 6 cached, clean */
}

static void test_nvmectl_through_another_path_writes_back_the_first_paths_cache(void **state)
{
    (void)state;
    path0_writes = 0;
    two_paths_one_cached();
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "write nvme1 -n 1 -s 6 -p 7");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("write nvme1 -n 1 -s 6 -p 7")), DF_RETURN_SUCCESS);
    assert_int_equal(path0_writes, 1);
    assert_false(devs[0].Blk.unflushed);
    assert_int_equal(devs[0].Blk.segs[0].nsid, 0); /* dropped: nothing stale served */
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
    /* A controller of another subsystem is left alone. */
    path0_writes = 0;
    two_paths_one_cached();
    strcpy(devs[1].Serial, "S1");
    expect_value(__wrap_nvmectl_run_line, ctrl, devs[1].Ctrl);
    expect_string(__wrap_nvmectl_run_line, line, "write nvme1 -n 1 -s 6 -p 7");
    expect_string(__wrap_nvmectl_run_line, io->dev_name, "nvme1");
    will_return(__wrap_nvmectl_run_line, 0);
    assert_int_equal(nvme_exos_shell_run(TEXT("write nvme1 -n 1 -s 6 -p 7")), DF_RETURN_SUCCESS);
    assert_int_equal(path0_writes, 0);
    assert_true(devs[0].Blk.unflushed);
}

/* The same with nvme0's write-back failing (Write Fault): the block stays
 * owed in nvme0's cache, and nvmectl's write to its namespace through
 * nvme1 is refused as through nvme0 (a later write-back would write over
 * it).  Before: run. */
static void test_nvmectl_through_another_path_is_refused_while_the_first_owes(void **state)
{
    (void)state;
    two_paths_one_cached();
    devs[0].Blk.ops = &one_ns_fails_ops;
    assert_int_not_equal(nvme_exos_shell_run(TEXT("write nvme1 -n 1 -s 6 -p 7")),
                         DF_RETURN_SUCCESS);
    assert_non_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    assert_int_equal(devs[0].Blk.segs[0].dirty[0], 1u << 5); /* still owed */
    assert_int_equal(mock_exos.mutex_locks, mock_exos.mutex_unlocks);
}

/* nvmectl reads "-n 010" as octal, NSID 8 (nvmectl_parse_u64, as
 * nvme-cli's strtoull base 0), so the shell's check does too: NSID 8
 * owes a write the device refused, and a write to it under either
 * spelling is refused (before: "010" checked as namespace 10, and
 * nvmectl wrote into namespace 8's owed blocks, which the cache's
 * write-back then overwrote; found by a review helper). */
static int write_fault_any(void *h, uint32_t nsid, uint64_t lba, uint32_t count, const void *buf)
{
    (void)h, (void)nsid, (void)lba, (void)count, (void)buf;
    return NVME_SF(2, 0x80);
}
static const struct nvme_exos_blk_ops ns8_fails_ops = {.write = write_fault_any, .flush = flush_ok};

static void test_an_octal_nsid_of_an_owing_namespace_is_refused(void **state)
{
    (void)state;
    owe_block_5(&ns8_fails_ops, 8);
    /* "-n 8" is refused, as the rows above */
    assert_int_not_equal(nvme_exos_shell_run(TEXT("write -n 8 -s 5 -p 7")), DF_RETURN_SUCCESS);
    assert_non_null(strstr(mock_exos.console, "not run while the cache owes writes"));
    /* "-n 010" too (a call of nvmectl_run_line would fail the test: no
     * expectation is queued) */
    mock_exos.console[0] = 0;
    assert_int_not_equal(nvme_exos_shell_run(TEXT("write -n 010 -s 5 -p 7")), DF_RETURN_SUCCESS);
    assert_non_null(strstr(mock_exos.console, "not run while the cache owes writes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_arguments_reach_front_end_raw, setup),
        cmocka_unit_test_setup(test_controller_selector, setup),
        cmocka_unit_test_setup(test_controller_after_the_command, setup),
        cmocka_unit_test_setup(test_a_namespace_device_selects_its_controller_and_goes_to_nvmectl,
                               setup),
        cmocka_unit_test_setup(test_a_device_after_the_options_selects_its_controller, setup),
        cmocka_unit_test_setup(test_the_controller_after_the_command_stays_nvmectls_device, setup),
        cmocka_unit_test_setup(test_a_namespace_device_first_past_the_line_is_refused, setup),
        cmocka_unit_test_setup(test_missing_controller, setup),
        cmocka_unit_test_setup(test_shut_down_controller_is_reported, setup),
        cmocka_unit_test_setup(test_no_controller_named_goes_to_the_first_one_up, setup),
        cmocka_unit_test_setup(test_failure_is_reported, setup),
        cmocka_unit_test_setup(test_failures_name_the_command, setup),
        cmocka_unit_test_setup(test_no_arguments_prints_usage_and_succeeds, setup),
        cmocka_unit_test_setup(test_cache_is_synced_before_nvmectl, setup),
        cmocka_unit_test_setup(test_failed_write_back_does_not_lock_nvmectl_out, setup),
        cmocka_unit_test_setup(test_output_reaches_the_console_after_the_block_locks_are_released,
                               setup),
        cmocka_unit_test_setup(test_a_dump_of_the_whole_scratch_buffer_waits_for_the_unlock, setup),
        cmocka_unit_test_setup(test_output_past_what_is_kept_goes_out_as_it_comes, setup),
        cmocka_unit_test_setup(test_a_line_too_long_is_refused_not_cut, setup),
        cmocka_unit_test_setup(test_quotes_are_taken_out_and_a_quoted_blank_is_refused, setup),
        cmocka_unit_test_setup(test_tabs_are_spaces_to_the_next_stop_of_8, setup),
        cmocka_unit_test_setup(test_owed_writes_keep_nvmectl_writes_off_the_device, setup),
        cmocka_unit_test_setup(test_owed_writes_of_one_namespace_leave_the_others_to_nvmectl,
                               setup),
        cmocka_unit_test_setup(test_an_nsid_in_a_group_or_an_abbreviation_is_checked, setup),
        cmocka_unit_test_setup(test_long_command_names_are_named_in_full, setup),
        cmocka_unit_test_setup(test_owed_writes_leave_show_regs_running, setup),
        cmocka_unit_test_setup(test_owed_writes_leave_changed_ns_list_log_running, setup),
        cmocka_unit_test_setup(test_owed_writes_leave_reset_running, setup),
        cmocka_unit_test_setup(test_owed_writes_leave_help_running, setup),
        cmocka_unit_test_setup(test_help_needs_no_controller_up, setup),
        cmocka_unit_test_setup(test_an_output_format_in_one_word_is_no_namespace, setup),
        cmocka_unit_test_setup(test_a_lock_held_for_good_fails_nvmectl_in_bounded_time, setup),
        cmocka_unit_test_setup(test_owed_writes_leave_identify_and_log_commands_running, setup),
        cmocka_unit_test_setup(test_zns_commands_are_two_words_and_take_the_controller_after_them,
                               setup),
        cmocka_unit_test_setup(test_nvmectl_through_another_path_writes_back_the_first_paths_cache,
                               setup),
        cmocka_unit_test_setup(test_nvmectl_through_another_path_is_refused_while_the_first_owes,
                               setup),
        cmocka_unit_test_setup(test_an_octal_nsid_of_an_owing_namespace_is_refused, setup),
    };
    return cmocka_run_group_tests_name("exos_shell", tests, NULL, NULL);
}
