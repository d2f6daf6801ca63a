// RunOn.cpp: CPU 0 asks an application processor to run a function (see Smp.h).
//
// The request is three fields of the target's PerCpu area: the function, its argument, and "done". CPU 0
// writes them with the big lock held, then wakes the target with an IPI (it may be halted in its idle loop)
// and waits in its own idle loop, running processes, until "done" is set. The target's idle loop sees the
// request once it holds the lock, runs the function there, with the lock held as any kernel code, then sets
// "done" and wakes CPU 0.
#include "arch/i386/Atomic.h"
#include "arch/i386/Cpu.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/smp/Smp.h"

namespace smp {

bool run_on(u32 index, void (*fn)(void*), void* argument) {
    if (index == per_cpu::this_cpu()->index) {
        fn(argument);
        return true;
    }
    if (index >= per_cpu::kMaxCpus || !(per_cpu::online_mask() & (1u << index))) return false;
    PerCpu& target = per_cpu::area(index);
    target.call_argument = argument;
    atomic::store_release(target.call_done, 0);
    __atomic_store_n(&target.call, fn, __ATOMIC_RELEASE);
    scheduler::kick(index);
    u32 flags = cpu::read_eflags();
    scheduler::run_idle(&target.call_done);
    cpu::write_eflags(flags);
    return true;
}

void run_requested_call() {
    PerCpu* self = per_cpu::this_cpu();
    void (*fn)(void*) = self->call;
    // With interrupts on, as kmain runs the boot's work (a nested interrupt takes the lock one deeper).
    cpu::enable_interrupts();
    fn(self->call_argument);
    cpu::disable_interrupts();
    self->call = nullptr;
    atomic::store_release(self->call_done, 1);
    scheduler::kick(0);
}

}  // namespace smp
