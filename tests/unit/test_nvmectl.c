/* SPDX-License-Identifier: MIT */
/* The shared nvmectl front end, against the seed's success criteria:
 * info prints version and max queue depth (step 1), ready (step 2), list
 * every namespace with its capacity (steps 3 and 7), read returns the MBR
 * bytes (step 5), write + read back a signature (step 6), smart (step 10). */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

static struct fx_out out;

static void expect(const char *needle)
{
    if (strstr(out.text, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%s", needle, out.text);
}

static void start_two_namespaces(struct fx *f)
{
    fx_config(f);
    f->cfg.mqes = 255;
    f->cfg.dstrd = 1;
    f->cfg.to = 30;
    f->cfg.mdts = 3;
    f->cfg.serial = "SN-TEST-42";
    f->cfg.model = "Test Model X";
    f->cfg.firmware = "FW9.1";
    f->ns[0].nsid = 1;
    f->ns[0].blocks = 262144; /* 128 MiB of 512 */
    f->ns[1].nsid = 4;        /* not contiguous */
    f->ns[1].blocks = 16384;  /* 64 MiB of 4096 */
    f->ns[1].lba_size = 4096;
    f->cfg.ns_count = 2;
    fx_start(f);
}

static void info_prints_version_queue_depth_and_identity(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "nvmectl info"), 0);
    expect("version         : 1.4.0");
    expect("max queue depth 256");
    expect("doorbell stride 8 bytes");
    expect("timeout 15000 ms");
    expect("mdts            : 32768 bytes");
    expect("sn              : SN-TEST-42");
    expect("mn              : Test Model X");
    expect("fr              : FW9.1");
    expect("(active namespaces: 2)");
    fx_stop(&f);
}

static void ready_reports_the_controller_up(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "ready"), 0);
    expect("nvme0: controller is up (CSTS=0x00000001: RDY=1 CFS=0");
    nvme_sim_set_cfs(f.sim, true);
    assert_int_not_equal(fx_nvmectl(&f, &out, "ready"), 0);
    expect("controller is NOT ready");
    nvme_sim_set_cfs(f.sim, false);
    fx_stop(&f);
}

static void list_shows_every_namespace_with_its_capacity(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "list"), 0);
    expect("nvme0n1      1      262144             512    134217728 bytes (128.0 MiB)");
    expect("nvme0n4      4      16384              4096   67108864 bytes (64.0 MiB)");
    expect("2 namespace(s)");
    fx_stop(&f);
}

static void read_dumps_the_mbr_with_its_signature(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    uint8_t mbr[512] = {0xeb, 0x63, 0x90};
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    assert_int_equal(nvme_sim_ns_write(f.sim, 1, 0, 1, mbr), 0);
    assert_int_equal(fx_nvmectl(&f, &out, "read -n 1 -s 0"), 0);
    expect("nvme0n1: read 1 block(s) at LBA 0 (512 bytes)");
    expect("00000000  eb 63 90 00 00 00 00 00  00 00 00 00 00 00 00 00  |.c..............|");
    expect("*\n");
    expect("000001f0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 55 aa  |..............U.|");
    fx_stop(&f);
}

static void write_a_signature_flush_and_read_it_back(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "write -n 4 -s 7 -t NVMECORE-SIG"), 0);
    expect("nvme0n4: wrote 1 block(s) at LBA 7 (4096 bytes)");
    assert_int_equal(fx_nvmectl(&f, &out, "flush -n 4"), 0);
    expect("nvme0n4: flush complete");
    uint8_t media[4096];
    assert_int_equal(nvme_sim_ns_read(f.sim, 4, 7, 1, media), 0);
    assert_memory_equal(media, "NVMECORE-SIG", 12);
    assert_int_equal(media[12], 0);
    assert_int_equal(fx_nvmectl(&f, &out, "read -n 4 -s 7"), 0);
    expect("|NVMECORE-SIG....|");
    /* A byte pattern over several blocks. */
    assert_int_equal(fx_nvmectl(&f, &out, "write --namespace-id=1 --start-block=100 -c 3 -p 0xa5"),
                     0);
    uint8_t m[1536];
    assert_int_equal(nvme_sim_ns_read(f.sim, 1, 100, 3, m), 0);
    for (unsigned i = 0; i < sizeof(m); i++)
        assert_int_equal(m[i], 0xa5);
    fx_stop(&f);
}

static void verify_writes_reads_and_compares(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    uint64_t w0 = nvme_sim_stats(f.sim)->writes;
    assert_int_equal(fx_nvmectl(&f, &out, "verify -n 1 -s 1000 -c 200 -k 9 -o 12"), 0);
    expect("nvme0n1: verify ok: 200 block(s) at LBA 1000, 102400 bytes, buffer offset 12");
    /* 100 KiB with 32 KiB MDTS from offset 12: split into 4 commands. */
    assert_int_equal(nvme_sim_stats(f.sim)->writes - w0, 4);
    fx_stop(&f);
}

static void smart_prints_health_fields(void **state)
{
    (void)state;
    struct fx f;
    fx_config(&f);
    f.cfg.smart.critical_warning = NVME_SMART_CRIT_READ_ONLY;
    f.cfg.smart.temperature = 308;
    f.cfg.smart.avail_spare = 100;
    f.cfg.smart.spare_thresh = 10;
    f.cfg.smart.percent_used = 3;
    f.cfg.smart.power_cycles = (struct nvme_u128){10, 1};
    f.cfg.smart.power_on_hours = (struct nvme_u128){1234, 0};
    f.cfg.smart.unsafe_shutdowns = (struct nvme_u128){2, 0};
    f.cfg.smart.media_errors = (struct nvme_u128){0, 0};
    f.cfg.smart.err_log_entries = (struct nvme_u128){6, 0};
    fx_start(&f);
    assert_int_equal(fx_nvmectl(&f, &out, "smart"), 0);
    expect("critical_warning                    : 0x8");
    expect("media placed in read-only mode");
    expect("temperature                         : 35 C (308 Kelvin)");
    expect("available_spare                     : 100%");
    expect("available_spare_threshold           : 10%");
    expect("percentage_used                     : 3%");
    expect("power_cycles                        : 18446744073709551626");
    expect("power_on_hours                      : 1234");
    expect("unsafe_shutdowns                    : 2");
    expect("media_errors                        : 0");
    expect("num_err_log_entries                 : 6");
    expect("data_units_read");
    expect("host_write_commands");
    fx_stop(&f);
}

static void usage_errors_are_reported(void **state)
{
    (void)state;
    struct fx f;
    start_two_namespaces(&f);
    assert_int_not_equal(fx_nvmectl(&f, &out, "frobnicate"), 0);
    expect("unknown command 'frobnicate'");
    expect("usage: nvmectl");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -s 0"), 0);
    expect("-n NSID and -s LBA are required");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 3 -s 0"), 0);
    expect("no active namespace 3");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 262144"), 0);
    expect("read: LBA out of range");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 0 -c 4096"), 0);
    expect("do not fit");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 0x"), 0);
    expect("bad number '0x'");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n 1 -s 99999999999999999999"), 0);
    expect("bad number");
    assert_int_not_equal(fx_nvmectl(&f, &out, "write -n 1 -s 0"), 0);
    expect("write needs one of");
    assert_int_not_equal(fx_nvmectl(&f, &out, "write -n 1 -s 0 -f /etc/hostname"), 0);
    expect("cannot read files");
    assert_int_not_equal(fx_nvmectl(&f, &out, "read -n"), 0);
    expect("needs a value");
    assert_int_not_equal(fx_nvmectl(&f, &out, "verify -n 1 -s 0 -o 3"), 0);
    expect("multiple of 4");
    assert_int_equal(fx_nvmectl(&f, &out, "help"), 0);
    expect("verify -n NSID");
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(info_prints_version_queue_depth_and_identity),
        cmocka_unit_test(ready_reports_the_controller_up),
        cmocka_unit_test(list_shows_every_namespace_with_its_capacity),
        cmocka_unit_test(read_dumps_the_mbr_with_its_signature),
        cmocka_unit_test(write_a_signature_flush_and_read_it_back),
        cmocka_unit_test(verify_writes_reads_and_compares),
        cmocka_unit_test(smart_prints_health_fields),
        cmocka_unit_test(usage_errors_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
