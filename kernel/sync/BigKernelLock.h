// BigKernelLock.h: one lock for the whole kernel, the first step of running on several CPUs.
//
// Mneme's kernel was written for one CPU: its shared structures (the run queue, the process table, the
// frame table, the page tables, the swap area, the arena) are kept consistent by "interrupts off" and by
// the kernel not being preemptible (docs/processes.md, "Interrupts in the kernel"). Interrupts off on one
// CPU stops nothing on another. Rather than give each structure its own lock at once, every entry into the
// kernel takes this one, as Linux 2.0 and FreeBSD 3 did in their first SMP releases: at most one CPU runs
// kernel code at a time, so every rule the one-CPU kernel relied on still holds, while user code runs on
// all CPUs in parallel (which is where a CPU-bound program spends its time: docs/multicore.md has the
// speed-up). Finer locks can then be carved out of it one structure at a time.
//
// Who takes it: the trap entry (trap_dispatch, kernel/proc/TrapEntry.cpp) for every exception, IRQ and
// system call, except the IPIs that need none (the TLB shootdown, a wake-up of an idle CPU); the idle loop
// while it looks for work; the boot code on the bootstrap processor, from kmain's start. It is recursive on
// one CPU (an interrupt in the kernel nests: depth), is held across a context switch (the next process
// continues in the kernel, holding it, and lets go when it returns to user mode; a new process's first
// return lets go in first_return_to_user, arch/i386/Context.asm), and is released by the idle loop before
// HLT. It is a ticket lock (libc/base/LockCore.h): CPUs enter the kernel in the order they arrived.
//
// Waiting is done with interrupts off (a ticket taken with interrupts on could be overtaken by a nested
// entry on the same CPU drawing a later ticket: a deadlock), but the wait serves TLB shootdown requests
// (kernel/mm/Tlb.h), since the holder may be waiting for this very CPU to flush.
#pragma once

#include "arch/i386/Cpu.h"
#include "kernel/smp/PerCpu.h"
#include "libc/base/Types.h"

namespace big_lock {

namespace detail {
// False until a second CPU can enter the kernel: with one CPU there is nothing to exclude, so `-smp 1` pays
// a test of this flag per kernel entry and exit, and keeps no depth either (start_locking turns it on, and
// sets CPU 0's depth to the one entry it is inside: kmain's).
extern bool g_locking;
void acquire(PerCpu* cpu);
bool try_acquire(PerCpu* cpu);
void release(PerCpu* cpu);
[[noreturn]] void unbalanced(PerCpu* cpu);
}  // namespace detail

// On entry to the kernel, with interrupts off: takes the lock, or nests if this CPU holds it.
[[gnu::always_inline]] inline void enter_interrupts_off() {
    if (!detail::g_locking) return;
    PerCpu* cpu = per_cpu::this_cpu();
    if (cpu->big_lock_depth++ == 0) detail::acquire(cpu);
}
// The same, but only if the lock is free or this CPU's already (interrupts off): false, and nothing taken,
// when another CPU holds it or waits for it. For CPU 0's clock tick, which must not wait (TrapEntry.cpp).
[[gnu::always_inline]] inline bool try_enter_interrupts_off() {
    if (!detail::g_locking) return true;
    PerCpu* cpu = per_cpu::this_cpu();
    if (cpu->big_lock_depth == 0 && !detail::try_acquire(cpu)) return false;
    ++cpu->big_lock_depth;
    return true;
}
// For CPU 0's idle loop, which must never wait for the lock with interrupts off: its clock would stop, and
// an application processor may hold the lock for long, halting for ticks (testcpu=N). Tries as above; while
// another CPU holds the lock, waits with interrupts on (a tick meanwhile is counted, a shootdown served)
// for up to `spins` rounds, trying again whenever the lock looks free. Called and returns with interrupts
// off; false, and nothing taken, if it is held still.
bool try_enter_waiting_interrupts_on(u32 spins);
// The same from any interrupt state; returns with the interrupt flag as it found it.
inline void enter() {
    u32 flags = cpu::read_eflags();
    cpu::disable_interrupts();
    enter_interrupts_off();
    if (flags & cpu::kEflagsInterrupt) cpu::enable_interrupts();
}
// The matching exit, with interrupts off: the outermost one lets go.
[[gnu::always_inline]] inline void leave() {
    if (!detail::g_locking) return;
    PerCpu* cpu = per_cpu::this_cpu();
    if (cpu->big_lock_depth == 0) [[unlikely]]
        detail::unbalanced(cpu);
    if (--cpu->big_lock_depth == 0) detail::release(cpu);
}
// On CPU 0, in kmain, before the first application processor starts: from now on the lock is taken (CPU 0
// takes it here, for kmain).
void start_locking();
bool locking();
// This CPU holds the lock (or, with one CPU, needs none).
bool held_by_this_cpu();
// A lock break, at a point where the caller holds nothing (a preempt point, scheduler::preempt_point): if
// another CPU waits for the lock and this context holds it once, let it go and queue for it again, so one
// long system call (a 2 MiB console write) does not keep the other CPUs out of the kernel, or CPU 0 from
// its clock tick, for its whole length. Returns true if another CPU had the lock meanwhile: like a context
// switch, the kernel's state may have changed (the caller's user pages among it).
bool let_waiters_in();
// The nesting depth belongs to the kernel context (a process's kernel stack), not to the CPU: the scheduler
// saves it before switch_context and restores it after (on whichever CPU the context resumes).
inline u32 depth() { return per_cpu::this_cpu()->big_lock_depth; }
inline void set_depth(u32 depth) { per_cpu::this_cpu()->big_lock_depth = depth; }

struct Counts {
    u64 acquisitions;  // outermost entries
    u64 contended;     // of them, how many found it held and waited
    u64 spins;         // rounds of waiting, all CPUs together
};
Counts counts();
// The CPU holding it (index + 1), 0 if none (or while one CPU runs without it).
u32 owner();

}  // namespace big_lock

// A new process's first return to user mode lets go of the lock the switch to it was made under.
extern "C" void big_lock_first_return();
