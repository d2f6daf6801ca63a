// SpinLock.cpp: the lock debugger's glue to the per-CPU area, and the nesting of interrupts off.
//
// The decisions are libc/base/LockOrder.cpp's (pure, host-tested); here they are applied to the running
// CPU's held-lock list with interrupts already off, so nothing on this CPU can change the list meanwhile.
#include "kernel/sync/SpinLock.h"

#include "kernel/smp/PerCpu.h"
#include "kernel/sync/Interrupts.h"
#include "libc/base/Assert.h"

namespace sync {
namespace {

[[noreturn]] void report(const HeldLocks::Decision& decision, const LockClass& lock, const PerCpu& cpu) {
    char message[192];
    describe(decision, lock, cpu.name, message, sizeof(message));
    mneme_panic("%s", message);
}

}  // namespace

void restore_interrupts_nested() {
    PerCpu* cpu = per_cpu::this_cpu();
    VERIFY(!cpu::interrupts_enabled());  // something turned them on inside a lock
    VERIFY(cpu->interrupts_off_depth > 0);
    if (--cpu->interrupts_off_depth == 0 && cpu->interrupts_were_on) cpu::enable_interrupts();
}

void lock_debug_acquire(const LockClass& lock) {
    disable_interrupts_nested();
    PerCpu* cpu = per_cpu::this_cpu();
    HeldLocks::Decision decision = cpu->held_locks.check_acquire(lock);
    if (!decision.ok()) report(decision, lock, *cpu);
    // Recorded before the spin: nothing else runs on this CPU until the lock is ours (interrupts are off).
    cpu->held_locks.acquired(lock);
    ++cpu->lock_acquisitions;
}

// Interrupts are still off (the lock is held): nothing else on this CPU writes the count meanwhile.
void count_contended_on_this_cpu() { ++per_cpu::this_cpu()->lock_contended; }

void lock_debug_release(const LockClass& lock) {
    PerCpu* cpu = per_cpu::this_cpu();
    HeldLocks::Decision decision = cpu->held_locks.check_release(lock);
    if (!decision.ok()) report(decision, lock, *cpu);
    cpu->held_locks.released(lock);
}

bool held_by_this_cpu(const LockClass& lock) { return per_cpu::this_cpu()->held_locks.holds(lock); }

}  // namespace sync
