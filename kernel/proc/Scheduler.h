// Scheduler.h: preemptive round-robin scheduling of processes on the one CPU.
//
// The timer interrupt (IRQ 0) takes one tick off the running process's quantum (`quantum=` ticks, boot
// option); when it reaches zero, the next Ready process in table order runs. A process also gives up the CPU
// when it blocks (waitpid, console read, nanosleep) or calls sched_yield. With nothing to run, the CPU
// idles in HLT on the boot stack.
//
// The kernel itself is not preemptible: system calls and faults run with interrupts disabled (the IDT has
// only interrupt gates), so kernel data needs no locks beyond that. A switch happens only in schedule().
#pragma once

#include "arch/i386/TrapFrame.h"
#include "kernel/proc/Process.h"

namespace scheduler {

void initialize(u32 quantum_ticks);
u32 quantum();
// The running process; null while the CPU idles (or runs the monitor).
Process* current();

// Picks the next process to run and switches to it (or to the idle loop). Interrupts must be disabled.
// Returns when the calling process runs again.
void schedule();
void yield();
// The current process waits until `tick` (nanosleep).
void sleep_until(u64 tick);
// The current process waits for `reason`; wake() or wake_all() ends the wait.
void block(WaitReason reason);
void wake(Process* process);
void wake_all(WaitReason reason);
// A new or woken process joins the end of the run queue.
void make_ready(Process* process);
// A process leaving for good (killed while Ready) leaves the run queue.
void remove(Process* process);

// Turns the boot context into the idle loop; returns only when no process is left (e.g. init exited), so
// kmain can fall back to the kernel monitor.
void run_idle();
u64 context_switches();

}  // namespace scheduler
