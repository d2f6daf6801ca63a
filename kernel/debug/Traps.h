// Traps.h: what the kernel does with CPU exceptions.
//
// Every exception without a dedicated handler ends in a report: the exception's name, its error code
// decoded, CR2 for a page fault, all registers and a symbolized backtrace. In kernel mode the report ends
// in a panic (unless a demonstration armed a recovery point: run_recoverable). Faults in user mode go to the handler
// the process layer installs (it kills the process).
#pragma once

#include "arch/i386/TrapFrame.h"

namespace traps {

void initialize();

// Prints the full report for `frame` (used by the page-fault handler too).
void print_report(const TrapFrame& frame);
// Decodes a page-fault error code into `buffer`: "not-present page, write access, user mode".
void describe_page_fault_error(u32 error_code, char* buffer, size_t size);
// Decodes a selector error code (SDM Vol. 3A 6.13): "GDT index 5 (selector 0x28)".
void describe_selector_error(u32 error_code, char* buffer, size_t size);
// One line naming the fault, for a killed process: "Page fault (#PF) at 0x00000000: not-present page,
// read access, user mode".
void describe_fault(const TrapFrame& frame, char* buffer, size_t size);

// Report and panic; for kernel-mode faults.
[[noreturn]] void kernel_fault(const TrapFrame& frame);

// -- Recovering from a fault on purpose (the monitor's `fault` demonstrations) ----------------------------
// Runs `demonstration` with interrupts disabled and a recovery point armed. A kernel fault inside it gets its
// full report as usual; then, where the machine would stop (panic::stop, or the double-fault task), the
// handler resumes at the recovery point instead and this returns false. Returns true when `demonstration`
// returns by itself. A fault outside such a call (a real kernel bug) still stops the machine.
// `demonstration` must hold no lock and leave nothing half done: its frames are abandoned, not unwound.
bool run_recoverable(void (*demonstration)());
// For panic::stop: when a recovery point is armed and the stack pointer is the demonstration's (below the
// point, on the same stack), announces the recovery and resumes there (does not return). Otherwise returns.
void resume_if_recoverable();

// Recurses without end, 256 bytes a frame, into the guard page under the running stack: a page fault that
// cannot push its frame, hence a double fault. Only under run_recoverable (the monitor's `fault df`, apdf=1).
void overflow_kernel_stack();

// The last double fault the double-fault task reported (for the tests): which CPU (from its GS), its
// double-fault TSS and the TSS it interrupted (the back link). count 0: none yet.
struct DoubleFaultRecord {
    u32 count;
    u32 cpu;
    u16 task;
    u16 interrupted;
};
DoubleFaultRecord last_double_fault();

// Installed by the process layer: handles an exception raised in ring 3.
using UserFaultHandler = void (*)(TrapFrame&);
void set_user_fault_handler(UserFaultHandler handler);

}  // namespace traps
