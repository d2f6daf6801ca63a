// BigKernelLock.cpp: see BigKernelLock.h.
#include "kernel/sync/BigKernelLock.h"

#include "arch/i386/Atomic.h"
#include "arch/i386/Cpu.h"
#include "libc/base/Assert.h"
#include "kernel/mm/Tlb.h"
#include "kernel/smp/PerCpu.h"
#include "libc/base/LockCore.h"

namespace big_lock {
namespace {

// The kernel's atomics, whose round of waiting also serves this CPU's TLB shootdown requests and counts.
struct WaitingAtomics : atomic::KernelAtomics {
    static void relax() {
        atomic::pause();
        tlb::serve_request();
        ++per_cpu::this_cpu()->big_lock_spins;
    }
};

TicketLockCore<WaitingAtomics> g_lock;
u32 g_owner = 0;  // index + 1 of the holder; written by the holder only

void acquire(PerCpu* cpu) {
    u64 spins = cpu->big_lock_spins;
    g_lock.lock();
    atomic::store_release(g_owner, cpu->index + 1);
    ++cpu->big_lock_acquisitions;
    if (cpu->big_lock_spins != spins) ++cpu->big_lock_contended;
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
    Counts total{};
    for (u32 mask = per_cpu::online_mask(); mask; mask &= mask - 1) {
        const PerCpu& cpu = per_cpu::area(__builtin_ctz(mask));
        total.acquisitions += cpu.big_lock_acquisitions;
        total.contended += cpu.big_lock_contended;
        total.spins += cpu.big_lock_spins;
    }
    return total;
}

}  // namespace big_lock

extern "C" void big_lock_first_return() {
    big_lock::set_depth(1);
    big_lock::leave();
}
