// Gdt.h: Mneme's global descriptor table.
//
// Flat 4 GiB segments (base 0) for kernel and user code and data, so segmentation adds nothing to a linear
// address and paging does the protecting; the user segments differ only in their DPL of 3. Then the TSS
// and the double-fault TSS, then the bootstrap processor's per-CPU data segment. Slots from kFirstDynamic on
// are handed out at run time (per-process LDT descriptors for the segmentation demos, each application
// processor's TSS and per-CPU data segment).
//
//   index  selector  use
//   0      0x00      null (the CPU requires it; loading it into DS is allowed, using it faults)
//   1      0x08      kernel code  DPL 0
//   2      0x10      kernel data  DPL 0
//   3      0x1B      user code    DPL 3 (selector RPL 3)
//   4      0x23      user data    DPL 3
//   5      0x28      TSS
//   6      0x30      double-fault TSS
//   7      0x38      the running process's LDT (older memory models; rewritten on every switch to one)
//   8      0x40      CPU 0's per-CPU data, loaded into GS (kernel/smp/PerCpu.h); base = its area, DPL 0
//   9...             run-time slots: each application processor's TSS (add_cpu_tss), per-CPU data
//                    segment (add_cpu_data) and double-fault TSS (add_double_fault_tss)
//
// GS in the kernel is always the running CPU's per-CPU segment. The trap entry (Isr.asm) finds it from the
// task register, which is per CPU: cpu_data_for_task maps each TSS's GDT index to the data selector of the
// same CPU (each CPU's double-fault TSS too: CPU 0's in slot 6, each AP's in a run-time slot).
#pragma once

#include "arch/i386/SegmentDescriptor.h"
#include "arch/i386/Tss.h"
#include "libc/base/Error.h"

namespace gdt {

constexpr u16 kKernelCode = make_selector(1, false, 0);
constexpr u16 kKernelData = make_selector(2, false, 0);
constexpr u16 kUserCode = make_selector(3, false, 3);
constexpr u16 kUserData = make_selector(4, false, 3);
constexpr u16 kTss = make_selector(5, false, 0);
constexpr u16 kDoubleFaultTss = make_selector(6, false, 0);
constexpr u16 kLdt = make_selector(7, false, 0);
constexpr u16 kCpuData = make_selector(8, false, 0);
constexpr u16 kFirstDynamic = 9;
constexpr u16 kEntries = 64;  // the 15 APs of 16 CPUs take 3 run-time slots each (TSS, per-CPU data, double fault)

// Builds the table, loads it with LGDT, reloads every segment register (a far jump for CS) and loads
// the task register.
void initialize(u32 double_fault_stack_top, void (*double_fault_entry)());

// The running TSS: the scheduler sets esp0 when it switches processes.
TaskStateSegment& tss();
TaskStateSegment& double_fault_tss();

// Makes `table` (`entries` descriptors, in memory that stays put while it is loaded) the LDT: the GDT's LDT
// slot is rewritten and LLDT loads it (SDM Vol. 3A 3.5.1). The segment registers keep their hidden copies
// until reloaded, which the return to user mode does (it pops DS, ES, FS, GS; IRET loads CS and SS).
void load_ldt(const SegmentDescriptor* table, u32 entries);
// No LDT (LDTR null): a process without one cannot reach the previous process's descriptors through a
// selector with TI=1 (it gets #GP instead). Cheap when there is none loaded already.
void clear_ldt();
// The loaded LDT, or null.
const SegmentDescriptor* current_ldt();

// An application processor's TSS: a run-time slot of its own, since LTR marks the descriptor busy and a
// second LTR of a busy TSS faults (SDM Vol. 3A 7.2.4, LTR in Vol. 2A). Returns the selector.
ErrorOr<u16> add_cpu_tss(TaskStateSegment& tss);
// An application processor's double-fault TSS, in a run-time slot: a task gate names one TSS, and a TSS is
// busy while its task runs, so two CPUs cannot share one (SDM Vol. 3A 7.2.2, 7.3). The task starts at the
// entry gdt::initialize was given, on `stack_top`, with `cr3` and the CPU's per-CPU segment `cpu_data` in
// GS (paired with the TSS for the trap entry too). Returns the selector for that CPU's IDT gate 8.
ErrorOr<u16> add_double_fault_tss(TaskStateSegment& tss, u32 stack_top, u32 cr3, u16 cpu_data);
void release_double_fault_tss(u16 selector);
// The TSS a TSS descriptor points at (its base), or null for a selector that is not a 32-bit TSS. The
// double-fault handler follows its own TSS's previous-task link with it to the interrupted CPU's main TSS.
TaskStateSegment* task_state(u16 selector);
// On an application processor: LGDT of the shared table, the kernel segments reloaded, LTR of its own TSS,
// GS loaded with the per-CPU data segment paired with that TSS.
void load_on_application_processor(u16 tss_selector);

// The bootstrap processor's per-CPU data segment: slot kCpuData becomes a DPL 0 data segment over
// [base, base + size), paired with the TSS and the double-fault TSS, and GS is loaded with it.
void set_bootstrap_cpu_data(u32 base, u32 size);
// An application processor's per-CPU data segment in a run-time slot, paired with its TSS so the trap entry
// finds it; returns the selector. load_on_application_processor loads it into GS.
ErrorOr<u16> add_cpu_data(u32 base, u32 size, u16 tss_selector);
void release_cpu_data(u16 selector, u16 tss_selector);
// The data selector paired with a TSS selector (kKernelData for none).
u16 cpu_data_for_task(u16 tss_selector);

// Run-time descriptors: returns the GDT index of a free slot set to `descriptor`.
ErrorOr<u16> allocate(SegmentDescriptor descriptor);
void release(u16 index);
SegmentDescriptor& entry(u16 index);

}  // namespace gdt
