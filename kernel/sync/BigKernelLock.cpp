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

}  // namespace

namespace detail {
bool g_locking = false;

// The lock is this CPU's now.
void took(PerCpu* cpu) {
    atomic::store_release(g_owner, cpu->index + 1);
    ++cpu->lock_acquisitions;  // the cpus view's per-CPU columns (kernel/sync/SpinLock.cpp counts the others)
}

void acquire(PerCpu* cpu) {
    bool waited = g_lock.lock();
    took(cpu);
    if (waited) ++cpu->lock_contended;
}

bool try_acquire(PerCpu* cpu) {
    if (!g_lock.try_lock()) return false;
    took(cpu);
    return true;
}

void release(PerCpu*) {
    atomic::store_release(g_owner, 0);
    g_lock.unlock();
}

void unbalanced(PerCpu* cpu) { mneme_panic("big kernel lock: %s leaves it without holding it", cpu->name); }
}  // namespace detail

void start_locking() {
    VERIFY(!detail::g_locking);
    set_depth(1);
    detail::acquire(per_cpu::this_cpu());
    detail::g_locking = true;
}

bool locking() { return detail::g_locking; }

bool let_waiters_in() {
    if (!detail::g_locking || depth() != 1 || g_lock.queued() < 2) return false;
    u32 flags = cpu::read_eflags();
    cpu::disable_interrupts();
    leave();
    enter_interrupts_off();
    if (flags & cpu::kEflagsInterrupt) cpu::enable_interrupts();
    return true;
}

bool try_enter_waiting_interrupts_on(u32 spins) {
    for (;;) {
        if (try_enter_interrupts_off()) return true;
        if (spins == 0) return false;
        // Interrupts are taken at an instruction boundary after the one that follows STI (Intel SDM Vol. 2B,
        // STI), so the PAUSE opens the window even when the lock is seen free at once. The first try's
        // LOCK CMPXCHG is not repeated while the lock is held: the loop only reads the owner.
        cpu::enable_interrupts();
        do {
            atomic::pause();
        } while (--spins > 0 && owner() != 0);
        cpu::disable_interrupts();
    }
}

bool held_by_this_cpu() { return !detail::g_locking || depth() > 0; }
u32 owner() { return atomic::load_acquire(g_owner); }

Counts counts() {
    const LockCounters& c = g_lock.counters();
    return {c.acquisitions, c.contended, c.spins};
}

}  // namespace big_lock

extern "C" void big_lock_first_return() {
    if (!big_lock::locking()) return;
    big_lock::set_depth(1);
    big_lock::leave();
}
