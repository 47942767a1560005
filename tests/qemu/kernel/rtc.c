/* SPDX-License-Identifier: MIT */
/* rtc.c - see rtc.h. */
#include "rtc.h"

#include "hw.h"
#if !HARNESS_X86
#include "fdt.h"
#endif

/* 2000-01-01 00:00:00 UTC: anything earlier is an RTC nobody set. */
#define RTC_MIN_SECS 946684800ull

enum rtc_kind { RTC_NONE, RTC_CMOS, RTC_PL031, RTC_GOLDFISH };
static const char *const rtc_names[] = {"none", "cmos", "pl031", "goldfish"};
static enum rtc_kind rtc_kind;
static uintptr_t rtc_base; /* MMIO base (PL031, Goldfish); the index port (CMOS) */

/* The CMOS index/data pair and the Goldfish TIME_LOW/TIME_HIGH pair are
 * two accesses each: one CPU at a time, interrupts off. */
static volatile uint32_t rtc_busy;

static unsigned long rtc_lock(void)
{
    unsigned long f = irq_save();
    while (__atomic_exchange_n(&rtc_busy, 1u, __ATOMIC_ACQUIRE))
        cpu_relax();
    return f;
}

static void rtc_unlock(unsigned long f)
{
    __atomic_store_n(&rtc_busy, 0u, __ATOMIC_RELEASE);
    irq_restore(f);
}

#if HARNESS_X86
/* A broken-down UTC date, as the CMOS RTC keeps it. */
struct civil {
    unsigned year, mon, day, hour, min, sec;
};

/* Days from 1970-01-01 to year-mon-day in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil, in unsigned arithmetic since the year is
 * at least 2000 here).  The year is counted from March 1st, so the leap
 * day, when there is one, is the last day of the (shifted) year:
 *   y   = year - (mon <= 2)        the March-based year
 *   era = y / 400, yoe = y % 400   400-year eras of 146097 days each
 *   mp  = (mon + 9) % 12           months since March (0 = Mar .. 11 = Feb)
 *   doy = (153 * mp + 2) / 5 + day - 1
 *                                  day of the March-based year: Mar..Jul and
 *                                  Aug..Dec are both 31 30 31 30 31 (153
 *                                  days per 5 months), which the linear
 *                                  formula reproduces with its rounding
 *   doe = 365 * yoe + yoe / 4 - yoe / 100 + doy
 *                                  day of the era (leap years: every 4th,
 *                                  not every 100th; yoe < 400 so the 400th
 *                                  rule is the era itself)
 *   days = 146097 * era + doe - 719468
 *                                  719468: days from 0000-03-01 to 1970-01-01
 * Checked: 1970-01-01 -> 0, 2000-03-01 -> 11017.  Only 32-bit divides by
 * constants (armv7 has no divide instruction: aeabi.c's helpers or a
 * multiplication by GCC). */
static uint32_t days_from_civil(unsigned year, unsigned mon, unsigned day)
{
    uint32_t y = year - (mon <= 2 ? 1u : 0u);
    uint32_t era = y / 400, yoe = y % 400;
    uint32_t mp = (mon + 9) % 12;
    uint32_t doy = (153 * mp + 2) / 5 + day - 1;
    uint32_t doe = 365 * yoe + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool civil_valid(const struct civil *c)
{
    return c->year >= 2000 && c->year <= 2999 && c->mon >= 1 && c->mon <= 12 && c->day >= 1 &&
           c->day <= 31 && c->hour <= 23 && c->min <= 59 && c->sec <= 59;
}

static uint64_t civil_to_secs(const struct civil *c)
{
    return (uint64_t)days_from_civil(c->year, c->mon, c->day) * 86400u + c->hour * 3600u +
           c->min * 60u + c->sec;
}

/* --- the MC146818 CMOS RTC (pc and q35 both have it at 70h/71h) ------------ */
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_SEC 0x00
#define CMOS_MIN 0x02
#define CMOS_HOUR 0x04
#define CMOS_DAY 0x07
#define CMOS_MON 0x08
#define CMOS_YEAR 0x09
#define CMOS_REG_A 0x0a /* bit 7: Update In Progress */
#define CMOS_REG_B 0x0b /* bit 2: binary (else BCD), bit 1: 24-hour (else 12) */
#define CMOS_REG_D 0x0d /* bit 7: Valid RAM and Time */
#define CMOS_CENTURY 0x32

struct cmos_raw {
    uint8_t sec, min, hour, day, mon, year, century, regb;
};

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg); /* bit 7 clear: NMIs stay enabled */
    return inb(CMOS_DATA);
}

/* All the time registers outside an update: false when Update In
 * Progress does not clear (the update takes ~2 ms at most; each port
 * read is an exit to QEMU, so 1e6 of them are far more). */
static bool cmos_snapshot(struct cmos_raw *r)
{
    for (unsigned spins = 0; cmos_read(CMOS_REG_A) & 0x80; spins++)
        if (spins > 1000000)
            return false;
    r->sec = cmos_read(CMOS_SEC);
    r->min = cmos_read(CMOS_MIN);
    r->hour = cmos_read(CMOS_HOUR);
    r->day = cmos_read(CMOS_DAY);
    r->mon = cmos_read(CMOS_MON);
    r->year = cmos_read(CMOS_YEAR);
    r->century = cmos_read(CMOS_CENTURY);
    r->regb = cmos_read(CMOS_REG_B);
    return true;
}

static uint8_t cmos_regb; /* register B at the last read, for rtc_init's line */

static unsigned cmos_num(uint8_t v, bool bcd) { return bcd ? (v >> 4) * 10u + (v & 0x0fu) : v; }

/* The date the RTC holds: two equal snapshots in a row (an update that
 * began right after the UIP check changes the second one), up to 5 tries. */
static bool cmos_time(struct civil *c)
{
    struct cmos_raw a, b;
    unsigned long f = rtc_lock();
    bool ok = cmos_snapshot(&a), same = false;
    for (unsigned tries = 0; ok && !same && tries < 5; tries++) {
        ok = cmos_snapshot(&b);
        same = ok && !memcmp(&a, &b, sizeof(a));
        a = b;
    }
    rtc_unlock(f);
    if (!ok || !same)
        return false;
    cmos_regb = a.regb;
    bool bcd = !(a.regb & 0x04);
    c->sec = cmos_num(a.sec, bcd);
    c->min = cmos_num(a.min, bcd);
    c->hour = cmos_num(a.hour & 0x7f, bcd);
    if (!(a.regb & 0x02)) { /* 12-hour: 12 AM is 0 h, bit 7 PM */
        if (c->hour == 12)
            c->hour = 0;
        if (a.hour & 0x80)
            c->hour += 12;
    }
    c->day = cmos_num(a.day, bcd);
    c->mon = cmos_num(a.mon, bcd);
    /* the century register (32h, where ACPI's FADT usually points and
     * QEMU keeps it) when it holds something plausible, else 20xx */
    unsigned cent = cmos_num(a.century, bcd);
    c->year = (cent >= 19 && cent <= 29 ? cent : 20) * 100 + cmos_num(a.year, bcd);
    return true;
}

static bool rtc_find(void)
{
    /* register D bit 7 (VRT) reads 1 on a working MC146818 */
    unsigned long f = rtc_lock();
    uint8_t d = cmos_read(CMOS_REG_D);
    rtc_unlock(f);
    if (d == 0xff || !(d & 0x80))
        return false;
    rtc_kind = RTC_CMOS;
    rtc_base = CMOS_INDEX;
    return true;
}

uint64_t rtc_wall_clock_ms(void)
{
    struct civil c;
    if (rtc_kind != RTC_CMOS || !cmos_time(&c) || !civil_valid(&c))
        return 0;
    return civil_to_secs(&c) * 1000u;
}

/* rtc_init's line: the date as read and the register format. */
static void rtc_detail(char *buf, size_t len)
{
    struct civil c;
    if (!cmos_time(&c)) {
        snprintf(buf, len, " (update in progress never cleared)");
        return;
    }
    snprintf(buf, len, " (%04u-%02u-%02u %02u:%02u:%02u, %s, %s)", c.year, c.mon, c.day, c.hour,
             c.min, c.sec, cmos_regb & 0x04 ? "binary" : "BCD",
             cmos_regb & 0x02 ? "24-hour" : "12-hour");
}

#else
/* --- the virt machines: PL031 (Arm), Goldfish (RISC-V) --------------------- */
#define PL031_DR 0x000         /* data register: seconds since 1970 */
#define PL031_PERIPH_ID0 0xfe0 /* 0x31 */
#define GOLDFISH_TIME_LOW 0x00 /* reading it latches TIME_HIGH */
#define GOLDFISH_TIME_HIGH 0x04

/* The first node with `compat` whose registers the harness can reach
 * (below 4 GiB on the 32-bit ISA).  Every address that is not RAM is
 * mapped as device memory on aarch64 (1 GiB blocks) and armv7 (1 MiB
 * sections); riscv64 runs in M-mode without paging. */
static bool rtc_node(const char *compat, uintptr_t *base)
{
    struct fdt_node n;
    uint64_t b, size;
    if (!fdt_by_compat(compat, &n) || !fdt_reg(&n, 0, &b, &size) || !b ||
        (uint64_t)(uintptr_t)b != b)
        return false;
    *base = (uintptr_t)b;
    return true;
}

static bool rtc_find(void)
{
    if (rtc_node("arm,pl031", &rtc_base)) {
        if (mmio_rd32(rtc_base + PL031_PERIPH_ID0) != 0x31) {
            kprintf("harness: rtc: pl031 at 0x%lx has PeriphID0 0x%x, not 0x31: ignored\n",
                    (unsigned long)rtc_base, mmio_rd32(rtc_base + PL031_PERIPH_ID0));
            return false;
        }
        rtc_kind = RTC_PL031;
        return true;
    }
    if (rtc_node("google,goldfish-rtc", &rtc_base)) {
        rtc_kind = RTC_GOLDFISH;
        return true;
    }
    return false;
}

uint64_t rtc_wall_clock_ms(void)
{
    uint64_t ms = 0;
    if (rtc_kind == RTC_PL031) {
        uint32_t s = mmio_rd32(rtc_base + PL031_DR);
        ms = (uint64_t)s * 1000u;
    } else if (rtc_kind == RTC_GOLDFISH) {
        unsigned long f = rtc_lock();
        uint32_t lo = mmio_rd32(rtc_base + GOLDFISH_TIME_LOW);
        uint32_t hi = mmio_rd32(rtc_base + GOLDFISH_TIME_HIGH);
        rtc_unlock(f);
        /* ns -> ms: a 64-bit divide, native on riscv64 (aeabi.c's
         * __aeabi_uldivmod should a 32-bit Arm board have one) */
        ms = (((uint64_t)hi << 32) | lo) / 1000000u;
    }
    return ms >= RTC_MIN_SECS * 1000u ? ms : 0;
}

static void rtc_detail(char *buf, size_t len) { buf[0] = 0; }
#endif

void rtc_init(void)
{
    if (!rtc_find()) {
        kprintf("harness: rtc: none found (wall_clock_ms gives 0)\n");
        return;
    }
    char detail[64];
    uint64_t ms = rtc_wall_clock_ms();
    rtc_detail(detail, sizeof(detail));
    kprintf("harness: rtc %s at %s0x%lx: %llu ms since 1970%s%s\n", rtc_names[rtc_kind],
            HARNESS_X86 ? "port " : "", (unsigned long)rtc_base, (unsigned long long)ms, detail,
            ms ? "" : " (unset or nonsense: wall_clock_ms gives 0)");
}
