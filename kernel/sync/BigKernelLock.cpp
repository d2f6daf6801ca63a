// BigKernelLock.cpp: see BigKernelLock.h.
#include "kernel/sync/BigKernelLock.h"

#include "arch/i386/Atomic.h"
#include "arch/i386/Cpu.h"
#include "libc/base/Assert.h"
#include "kernel/mm/Tlb.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/sync/LockRanks.h"
#include "kernel/sync/LockRegistry.h"
#include "libc/base/LockCore.h"

namespace big_lock {
namespace {

// The kernel's atomics, whose round of waiting also serves this CPU's TLB shootdown requests.
struct WaitingAtomics : atomic::KernelAtomics {
    static void relax() {
        atomic::pause();
        tlb::serve_request();
    }
};

constexpr LockClass kClass{"big kernel lock", lock_rank::kBigKernelLock};
TicketLockCore<WaitingAtomics> g_lock;
MNEME_REGISTER_LOCK_PARTS(big_kernel_lock, kClass, g_lock.counters());
u32 g_owner = 0;  // index + 1 of the holder; written by the holder only

void acquire(PerCpu* cpu) {
    bool waited = g_lock.lock();
    atomic::store_release(g_owner, cpu->index + 1);
    ++cpu->lock_acquisitions;  // the cpus view's per-CPU columns (kernel/sync/SpinLock.cpp counts the others)
    if (waited) ++cpu->lock_contended;
}

}  // namespace

void enter() {
    u32 flags = cpu::read_eflags();
    cpu::disable_interrupts();
    PerCpu* cpu = per_cpu::this_cpu();
    if (cpu->big_lock_depth++ == 0) acquire(cpu);
    if (flags & cpu::kEflagsInterrupt) cpu::enable_interrupts();
}

void leave() {
    PerCpu* cpu = per_cpu::this_cpu();
    if (cpu->big_lock_depth == 0) mneme_panic("big kernel lock: %s leaves it without holding it", cpu->name);
    if (--cpu->big_lock_depth > 0) return;
    atomic::store_release(g_owner, 0);
    g_lock.unlock();
}

bool let_waiters_in() {
    if (depth() != 1 || g_lock.queued() < 2) return false;
    u32 flags = cpu::read_eflags();
    cpu::disable_interrupts();
    leave();
    enter();
    if (flags & cpu::kEflagsInterrupt) cpu::enable_interrupts();
    return true;
}

bool held_by_this_cpu() { return per_cpu::this_cpu()->big_lock_depth > 0; }
u32 depth() { return per_cpu::this_cpu()->big_lock_depth; }
void set_depth(u32 depth) { per_cpu::this_cpu()->big_lock_depth = depth; }
u32 owner() { return atomic::load_acquire(g_owner); }

Counts counts() {
    const LockCounters& c = g_lock.counters();
    return {c.acquisitions, c.contended, c.spins};
}

}  // namespace big_lock

extern "C" void big_lock_first_return() {
    big_lock::set_depth(1);
    big_lock::leave();
}
