// Smp.h: finding the other processors and starting them (docs/multicore.md).
//
// Boot runs on one CPU, the bootstrap processor (BSP); the firmware leaves the others, the application
// processors (APs), waiting for a STARTUP IPI. This first step of multi-core support finds them in the ACPI
// MADT (the MP table as a fallback, format/CpuTables.h), starts each with INIT-SIPI-SIPI through a real-mode
// trampoline (arch/i386/Trampoline.asm), and parks it: the AP loads the kernel's page directory, GDT, its own
// TSS, its per-CPU GS (kernel/smp/PerCpu.h) and its own IDT (whose double-fault gate names its own task),
// says it is online and halts with interrupts off.
// Nothing runs on it yet.
//
// With one CPU (or `cpus=1`) nothing is reserved and nothing is started: boot is as before, plus one line.
#pragma once

#include "kernel/boot/BootOptions.h"
#include "libc/base/Types.h"

namespace smp {

struct Cpu {
    u8 apic_id;
    bool bootstrap;
    bool started;  // INIT-SIPI-SIPI sent
    u32 online;    // set by the CPU itself once it runs the kernel (read and written with __atomic builtins)
    u32 start_us;  // from the first STARTUP IPI until it was seen online
    // What the AP read through its own GS (kernel/smp/PerCpu.h) before it halted, and its APIC's ID
    // register, for the tests: index and APIC id must match this entry's.
    u32 gs_index;
    u32 gs_apic_id;
    u32 apic_id_register;
    // apdf=1: the double fault the AP raised on purpose before it came online, as the double-fault task
    // reported it (traps::last_double_fault): the CPU its GS named, its task and the task it interrupted.
    bool drill_recovered = false;
    u32 drill_cpu = 0;
    u16 drill_task = 0;
    u16 drill_interrupted = 0;
};

// The APs, in the order they checked in under a ticket lock (each appends its index before it halts).
u32 check_in_count();
u32 checked_in(u32 position);

// After paging::initialize() (the firmware's tables are read through the direct map) and before
// pmm::finish() (the trampoline's page below 1 MiB is reserved then, when an AP will be started).
void discover(const BootOptions& options);
// Once kernel stacks can be allocated: starts every AP found (up to `cpus=`), one at a time.
void start_application_processors();

// From CPU 0 (the boot context, holding the big lock): runs fn(argument) on CPU `index` under the big lock
// and returns when it has; CPU 0 runs processes meanwhile. false if that CPU is not online. With `index` 0,
// runs it here. The in-kernel tests use it to run on an application processor (boot option testcpu=N).
bool run_on(u32 index, void (*fn)(void*), void* argument);
// On the CPU asked, from its idle loop with the lock held: runs the call and says it is done.
void run_requested_call();

u32 cpu_count();  // the BSP and the APs that will be (or were) started
const Cpu& cpu(u32 index);
u32 online_count();
// CPU `index`'s main TSS and double-fault TSS (GDT selectors; CPU 0's are the fixed gdt::kTss and
// gdt::kDoubleFaultTss). Meaningful for online CPUs.
u16 tss_selector(u32 index);
u16 double_fault_tss_selector(u32 index);

}  // namespace smp
