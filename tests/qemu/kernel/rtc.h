/* SPDX-License-Identifier: MIT */
/*
 * rtc.h - the time of day for the harness's struct nvme_osal wall_clock_ms
 * (the core sets the controller's Timestamp feature from it): the real-time
 * clock QEMU emulates on each ISA, read directly.
 *   x86 (pc, q35):      the MC146818 CMOS RTC, ports 70h/71h
 *   aarch64, armv7:     the PL031 ("arm,pl031" in the device tree), RTCDR
 *                       at offset 0: seconds since 1970
 *   riscv64:            the Goldfish RTC ("google,goldfish-rtc"), TIME_LOW
 *                       (latches TIME_HIGH) then TIME_HIGH: ns since 1970
 * QEMU starts all three from the host's UTC time (-rtc base=utc, its
 * default).
 */
#ifndef HARNESS_RTC_H
#define HARNESS_RTC_H

#include <stdint.h>

/* Finds the RTC (the device tree on the virt machines), reads it once and
 * prints "harness: rtc <kind> at <addr>: <ms> ms since 1970". */
void rtc_init(void);
/* Milliseconds since 1970-01-01 00:00 UTC; 0 when there is no RTC or it
 * reads nonsense (a date before 2000, a field out of range). */
uint64_t rtc_wall_clock_ms(void);

#endif
