// Scheduler.h: round-robin scheduling of processes on every CPU.
//
// The run queue holds the Ready processes in the order they became ready (woken, created, or preempted); the
// next one to run is its head. The timer interrupt (IRQ 0) takes one tick off the running process's quantum
// (`quantum=` ticks, boot option); when it reaches zero the process goes to the tail of the queue. A process
// also gives up the CPU when it sleeps on a WaitQueue (waitpid, console read, nanosleep) or calls
// sched_yield. With nothing to run, a CPU idles in HLT (CPU 0 on the boot stack, the others on the stack they
// started on). All CPUs share the one run queue: a CPU takes the first process it may run (the older memory
// models run on CPU 0 only), and a process made ready wakes a halted CPU with an IPI. CPU 0's clock is the
// PIT; each other CPU's quantum is counted by its local APIC timer (docs/multicore.md).
//
// Interrupts are on in the kernel (system calls and user page faults run with IF set), but the kernel is not
// preemptible: a tick that ends the quantum while the kernel works for a process only sets "reschedule
// pending", acted on when that process returns to user mode (return_to_user) or passes a preempt point
// (preempt_point, e.g. between the chunks of a long console write). So kernel code runs undisturbed from
// one sleep or preempt point to the next, except by interrupt handlers, and the scheduler's own state (the
// run queue, the wait queues, each process's state and tick counts) is what those handlers touch: it changes
// only with interrupts disabled. The rules and the lock order: docs/processes.md, "Interrupts in the kernel".
#pragma once

#include "arch/i386/Cpu.h"
#include "arch/i386/TrapFrame.h"
#include "kernel/proc/Process.h"
#include "kernel/smp/PerCpu.h"

namespace scheduler {

void initialize(u32 quantum_ticks);
u32 quantum();
// The process this CPU runs; null while it idles (or runs the boot context: kernel tests, the boot monitor).
inline Process* current() { return per_cpu::this_cpu()->current; }

// Picks the next process to run and switches to it (or to the idle loop); disables interrupts meanwhile.
// Returns when the calling process runs again. A caller that is not Running (asleep on a WaitQueue, or a
// zombie) is not queued again.
void schedule();
// sched_yield: schedule() for a system call about to return to user mode; leaves interrupts disabled.
void yield();
// The current process (or the boot context) sleeps until the timer reaches `tick` (nanosleep).
void sleep_until(u64 tick);
// A new or woken process joins the end of the run queue (callable from interrupt handlers).
void make_ready(Process* process);
// A process leaving for good (killed while Ready or asleep) leaves the run queue and its wait queue.
void remove(Process* process);
// Interrupts CPU `cpu` (a wake-up IPI): a process running there in user mode enters the kernel, where a
// pending kill ends it.
void kick(u32 cpu);
// On the way back to user mode from a system call or a page fault: switch if a tick ended the quantum while
// the kernel ran. Leaves interrupts disabled, so no tick can set the flag unseen before the IRET (which
// restores the user's IF).
inline void return_to_user() {
    cpu::disable_interrupts();
    // Set by the timer interrupt, so read after CLI (its "memory" clobber is the compiler barrier).
    if (per_cpu::this_cpu()->reschedule_pending) schedule();
}
// A place in a long system call where the process holds nothing and may give up the CPU: a pending Ctrl-C
// is acted on (which may end the calling process here) and, if the quantum is over, another process runs.
// Returns true if another process ran meanwhile (the caller's user memory may need checking again).
bool preempt_point();

// Turns the calling context into this CPU's idle loop, with the big kernel lock held. On CPU 0 (the boot
// context) it returns when no process is left (e.g. init exited), so kmain can fall back to the kernel
// monitor, or, given `until`, once *until is set (smp::run_on waits so, running processes meanwhile); on the
// others it never returns.
void run_idle(const u32* until = nullptr);
u64 context_switches();  // all CPUs together (each CPU's own: PerCpu::context_switches)
u64 wakeups();           // wake-up IPIs sent to idle CPUs

}  // namespace scheduler
