/* SPDX-License-Identifier: MIT */
/* smp.h - application processors for the QEMU harness (smp.c, trampoline.S
 * on x86; kernel/arch/<isa>/smp.c on aarch64, armv7 and riscv64). */
#ifndef HARNESS_SMP_H
#define HARNESS_SMP_H

#include "hw.h"

#ifndef HARNESS_NO_CORE
#include "nvme/nvme.h"
#endif

#define SMP_MAX_CPUS 8

/* Finds the CPUs (x86: ACPI MADT, else the MP table; else the device
 * tree), starts up to want-1 application processors (INIT-SIPI-SIPI,
 * PSCI CPU_ON, a parked hart's release) and parks them waiting for
 * work.  Returns how many CPUs run (the BSP included, at least 1). */
unsigned smp_init(unsigned want);
/* CPUs running (1 before smp_init). */
unsigned smp_cpus(void);
/* Index of the running CPU, 0 .. smp_cpus()-1 (0 is the BSP); cheap,
 * callable from interrupt context. */
unsigned smp_cpu_id(void);
uint32_t smp_apic_id(unsigned cpu);
/* The running CPU's hardware ID: local APIC ID (x86), MPIDR affinity
 * (aarch64, armv7), hart ID (riscv64). */
uint32_t smp_hwid(void);
/* Runs fn(cpu, arg) on every running CPU at once (the BSP too) and
 * returns when all of them returned. */
void smp_run(void (*fn)(unsigned cpu, void *arg), void *arg);
/* Ends a hlt on CPU cpu: a fixed IPI on the wake-up vector, which the
 * handler ignores. */
void smp_kick(unsigned cpu);
/* Interrupts of device vector v taken on CPU c (smp_osal_fill's handler). */
uint32_t smp_irq_count(unsigned cpu, unsigned v);
/* Local APIC ID that MSI-X vector v is sent to: vector 0 (admin) to the
 * BSP, vector q (I/O queue q) to CPU q-1 (nvme_osal.h, cpu_id). */
uint32_t harness_msix_dest(unsigned vector);

#if !HARNESS_X86
/* kernel/arch/<isa>/smp.c (the ISAs whose arch_hw.h defines
 * HARNESS_ARCH_SMP): CPUs the device tree lists; this CPU's hardware ID;
 * start the CPU with hardware ID hw on the stack ending at stack_top,
 * where it sets itself up and calls smp_ap_main() (0 or the firmware's
 * error); end the arch_smp_idle() of the CPU with hardware ID hw;
 * wait, interrupts off, for arch_smp_kick() or an interrupt. */
unsigned arch_smp_cpus(void);
uint32_t arch_smp_hwid(void);
int arch_smp_start(uint32_t hw, uintptr_t stack_top);
void arch_smp_kick(uint32_t hw);
void arch_smp_idle(void);
__attribute__((noreturn)) void smp_ap_main(void);
#endif

/* main.c: the per-block patterns of wpat/rpat (check.py's pat_word()). */
uint32_t pat_word(uint32_t key, uint64_t lba, uint32_t j);
void pat_fill(uint32_t *w, uint32_t key, uint64_t lba, uint32_t count, uint32_t lbs);

#ifndef HARNESS_NO_CORE
/* Spinlocks with interrupts off, cpu_id, per-CPU interrupt counts. */
void smp_osal_fill(struct nvme_osal *o);
/* `smp-io NSID LBA SPAN ROUNDS` (see smp.c). */
int smp_io(struct nvme_ctrl *ctrl, char *args);
#endif

#endif
