/* SPDX-License-Identifier: MIT */
/*
 * test_harness_fdt.c - the harness's device tree walker (kernel/fdt.c),
 * built for the host: a device tree is input the harness does not
 * control, so a malformed one ends a walk, it never hangs or reads past
 * the structure block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdt.h"
#include "virt.h"

/* What pci_ecam.c needs besides fdt.c; never reached by these tests. */
void kprintf(const char *fmt, ...) { (void)fmt; }
uint8_t pci_find_cap(struct pci_addr a, uint8_t id) { return (void)a, (void)id, 0; }
uint64_t pci_bar_size(struct pci_addr a, unsigned bar) { return (void)a, (void)bar, 0; }

/* A blob: header (40 bytes), structure block, strings "compatible\0". */
static uint8_t blob[512] __attribute__((aligned(8)));
static uint32_t pos;

static void put32(uint32_t at, uint32_t v)
{
    blob[at] = (uint8_t)(v >> 24);
    blob[at + 1] = (uint8_t)(v >> 16);
    blob[at + 2] = (uint8_t)(v >> 8);
    blob[at + 3] = (uint8_t)v;
}
static void tok(uint32_t v) { put32(pos, v), pos += 4; }

/* / { compatible = <len bytes claimed> "a"; }; */
static void build(uint32_t prop_len)
{
    memset(blob, 0, sizeof(blob));
    pos = 40;
    tok(1); /* BEGIN_NODE "" */
    tok(0);
    tok(3); /* PROP */
    tok(prop_len);
    tok(0); /* nameoff: "compatible" */
    tok(0x61000000u);
    tok(2); /* END_NODE */
    tok(9); /* END */
    uint32_t ssize = pos - 40;
    memcpy(blob + pos, "compatible", 11);
    put32(0, 0xd00dfeedu);
    put32(4, pos + 11); /* totalsize */
    put32(8, 40);       /* off_dt_struct */
    put32(12, pos);     /* off_dt_strings */
    put32(16, 40);      /* off_mem_rsvmap (empty: none read) */
    put32(20, 17);      /* version */
    put32(24, 16);      /* last compatible version */
    put32(32, 11);      /* size_dt_strings */
    put32(36, ssize);   /* size_dt_struct */
}

/* A property length that wraps the walk's offset back onto itself (or
 * before it): the walk ends with "not found" (before: it looped for good). */
static void a_property_length_that_wraps_ends_the_walk(void **state)
{
    (void)state;
    static const uint32_t lens[] = {0xfffffff4u, 0xfffffff0u, 0xffffffe0u};
    for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        build(lens[i]);
        assert_true(fdt_init(blob));
        struct fdt_node n;
        alarm(5); /* a hang fails the test */
        assert_false(fdt_by_compat("x", &n));
        assert_int_equal(fdt_count_device_type("cpu"), 0);
        alarm(0);
    }
}

/* A property that claims more bytes than the structure block holds is
 * not read as one (its value would run past the block). */
static void a_property_past_the_structure_block_is_not_matched(void **state)
{
    (void)state;
    build(64);
    assert_true(fdt_init(blob));
    struct fdt_node n;
    alarm(5);
    assert_false(fdt_by_compat("a", &n));
    alarm(0);
    build(1); /* the same blob, well formed: found */
    assert_true(fdt_init(blob));
    assert_true(fdt_by_compat("a", &n));
}

/* A general blob: nodes and properties of cells, strings appended. */
static char strs[128];
static uint32_t strs_len;
static void begin(const char *name)
{
    tok(1);
    size_t n = strlen(name) + 1;
    memcpy(blob + pos, name, n);
    pos += (uint32_t)(n + 3) & ~3u;
}
static void prop(const char *name, unsigned ncells, const uint32_t *cells)
{
    uint32_t nameoff = strs_len;
    memcpy(strs + strs_len, name, strlen(name) + 1);
    strs_len += (uint32_t)strlen(name) + 1;
    tok(3);
    tok(4 * ncells);
    tok(nameoff);
    for (unsigned i = 0; i < ncells; i++)
        tok(cells[i]);
}
static void finish(void)
{
    tok(9);
    uint32_t ssize = pos - 40;
    memcpy(blob + pos, strs, strs_len);
    put32(0, 0xd00dfeedu);
    put32(4, pos + strs_len);
    put32(8, 40);
    put32(12, pos);
    put32(16, 40);
    put32(20, 17);
    put32(24, 16);
    put32(32, strs_len);
    put32(36, ssize);
}

/* interrupt-map whose parent claims #interrupt-cells of 2^30 - 5: an
 * entry's stride, 4 * (3 + 1 + 1 + 0 + that), is 2^32, which wraps to 0.
 * The lookup of a pin no entry maps ends with "no entry" (before: it
 * stood on the same entry for good). */
static void interrupt_map_cells_from_the_parent_are_bounded(void **state)
{
    (void)state;
    static const uint32_t one = 1, bad = 0x3ffffffbu, mask[4] = {0xf800, 0, 0, 7};
    static const uint32_t map[6] = {0x800, 0, 0, 1, 1, 5}; /* device 1 INTA -> <1> 5 */
    memset(blob, 0, sizeof(blob));
    strs_len = 0;
    pos = 40;
    begin("");
    begin("ic");
    prop("phandle", 1, &one);
    prop("#interrupt-cells", 1, &bad);
    tok(2);
    begin("pcie@0");
    prop("interrupt-map-mask", 4, mask);
    prop("interrupt-map", 6, map);
    tok(2);
    tok(2);
    finish();
    assert_true(fdt_init(blob));
    struct pci_host h = {0};
    assert_true(fdt_by_name("pcie", &h.node));
    uint32_t parent;
    const uint8_t *spec;
    unsigned cells;
    struct pci_addr dev0 = {0, 0, 0};
    alarm(5); /* a hang fails the test */
    assert_false(pci_intx_map(&h, dev0, 1, &parent, &spec, &cells));
    /* device 1's entry: its parent cells run past the map, not used */
    struct pci_addr dev1 = {0, 1, 0};
    assert_false(pci_intx_map(&h, dev1, 1, &parent, &spec, &cells));
    alarm(0);
}

/* / { #address-cells = <2>; #size-cells = <2>;
 *     pcie@0 { compatible = "pci-host-ecam-generic"; reg = <0 0x40000000 0 ecam>;
 *              bus-range = <lo hi>;
 *              ranges = <32-bit memory 0x10000000+256 MiB, 64-bit memory 512 GiB+512 GiB>; }; } */
static bool pci_host(uint32_t ecam, uint32_t lo, uint32_t hi, struct pci_host *h)
{
    static const uint32_t two = 2;
    static const uint32_t ranges[14] = {
        0x02000000u, 0,    0x10000000u, 0,    0x10000000u, 0,    0x10000000u, /* 32-bit */
        0x03000000u, 0x80, 0,           0x80, 0,           0x80, 0};          /* 64-bit */
    const uint32_t reg[4] = {0, 0x40000000u, 0, ecam}, br[2] = {lo, hi};
    uint32_t compat[6] = {0};
    memcpy(compat, "pci-host-ecam-generic", 22);
    for (unsigned i = 0; i < 6; i++) /* prop() writes cells big-endian */
        compat[i] = __builtin_bswap32(compat[i]);
    memset(blob, 0, sizeof(blob));
    strs_len = 0;
    pos = 40;
    begin("");
    prop("#address-cells", 1, &two);
    prop("#size-cells", 1, &two);
    begin("pcie@0");
    prop("compatible", 6, compat);
    prop("reg", 4, reg);
    prop("bus-range", 2, br);
    prop("ranges", 14, ranges);
    tok(2);
    tok(2);
    finish();
    assert_true(fdt_init(blob));
    return pci_host_init(h);
}

/* bus-range past 255, or an ECAM window larger than 256 buses need: at
 * most bus 255 (PCIe base 7.2.2: 8-bit bus numbers; before: bus 511,
 * and a bridge numbering bus 256 wrote past pci_ecam.c's per-bus
 * tables); a range that ends before it starts, or an ECAM under 1 MiB,
 * is refused (before: buses up to 516, or bus_lo - 1 wrapped). */
static void bus_range_is_clamped_to_255_and_the_ecam_size(void **state)
{
    (void)state;
    struct pci_host h;
    assert_true(pci_host(0x20000000u, 0, 0x1000, &h)); /* 512 MiB of ECAM */
    assert_int_equal(h.bus_lo, 0);
    assert_int_equal(h.bus_hi, 255);
    assert_true(pci_host(0x20000000u, 0x10, 0x1000, &h));
    assert_int_equal(h.bus_hi, 255);
    assert_true(pci_host(0x1000000u, 0x10, 0xff, &h)); /* 16 MiB: 16 buses */
    assert_int_equal(h.bus_hi, 0x1f);
    assert_false(pci_host(0x20000000u, 5, 2, &h));
    assert_false(pci_host(0x80000u, 0, 0xff, &h));
}

/* The window a BAR was assigned in is reachable; a BAR left outside
 * every window for want of room (at the top of its address space) is
 * not, nor one straddling the window's end, nor one above 4 GiB, in the
 * 64-bit window (armv7's pointers, aarch64's map: before, the MSI-X
 * table's address was cut to a pointer there). */
static void mmio_is_reachable_in_a_window_only(void **state)
{
    (void)state;
    struct pci_host h;
    assert_true(pci_host(0x10000000u, 0, 0xff, &h));
    assert_true(pci_mmio_reachable(0x10000000u, 0x4000));
    assert_true(pci_mmio_reachable(0x1fffc000u, 0x4000));
    assert_false(pci_mmio_reachable(0x1fffc000u, 0x4001));
    assert_false(pci_mmio_reachable(0xffffc000u, 0x400));
    assert_false(pci_mmio_reachable(0xffffffffffffc000ull, 0x400));
    assert_false(pci_mmio_reachable(0x0fffc000u, 0x400));
    assert_false(pci_mmio_reachable(0x8000000000ull, 0x400));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_property_length_that_wraps_ends_the_walk),
        cmocka_unit_test(a_property_past_the_structure_block_is_not_matched),
        cmocka_unit_test(interrupt_map_cells_from_the_parent_are_bounded),
        cmocka_unit_test(bus_range_is_clamped_to_255_and_the_ecam_size),
        cmocka_unit_test(mmio_is_reachable_in_a_window_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
