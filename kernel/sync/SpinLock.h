// SpinLock.h: the kernel's two spinlocks, with interrupts off while held and the lock debugger always on.
//
//   sync::SpinLock    test-and-test-and-set on XCHG: cheapest, unfair (libc/base/LockCore.h)
//   sync::TicketLock  LOCK XADD takes a number, FIFO: fair when several CPUs wait
//
// Both, on lock(): turn interrupts off on this CPU (nesting, kernel/sync/Interrupts.h), ask the lock
// debugger (every lock has a name and a rank from kernel/sync/LockRanks.h), then spin with PAUSE
// (Intel SDM Vol. 3A 8.10.6.1). unlock() is the reverse. The debugger is always on: Mneme is a teaching
// kernel, and a deadlock found by a panic message naming both locks is worth a few instructions per lock.
// It panics when
//   - a CPU takes a lock it already holds (on one CPU a spinlock would wait for itself forever; typically
//     an interrupt handler taking a lock the code it interrupted holds, which interrupts-off prevents);
//   - a CPU takes a lock whose rank is not greater than that of every lock it holds (lock order);
//   - a CPU releases a lock it does not hold.
// Each lock counts its acquisitions, the contended ones and the rounds it spun (in the core, LockCounters),
// each CPU its acquisitions and contended ones (PerCpu); MNEME_REGISTER_LOCK lists a lock in the monitor's
// `cpus` view (kernel/sync/LockRegistry.h).
// Rules: hold a spinlock briefly; never sleep, switch processes or turn interrupts on while holding one;
// a file that takes more than one lock says their order at its top.
#pragma once

#include "arch/i386/Atomic.h"
#include "libc/base/LockCore.h"
#include "libc/base/LockOrder.h"

namespace sync {

// The debugger's hooks (SpinLock.cpp), for both kinds. acquire: interrupts off, the checks, the lock
// recorded as held (then the caller spins). release: the check, the record removed (then the caller
// releases and calls restore_interrupts_nested).
void lock_debug_acquire(const LockClass& lock);
void lock_debug_release(const LockClass& lock);
void restore_interrupts_nested();
// The slow path of lock(): the core had to wait, counted in this CPU's PerCpu::lock_contended.
void count_contended_on_this_cpu();
// Whether the running CPU holds `lock` (for VERIFYs and tests).
bool held_by_this_cpu(const LockClass& lock);

template <typename Core>
class BasicLock {
public:
    constexpr BasicLock(const char* name, u32 rank) : m_class{name, rank} {}
    BasicLock(const BasicLock&) = delete;
    BasicLock& operator=(const BasicLock&) = delete;

    void lock() {
        lock_debug_acquire(m_class);
        if (m_core.lock()) [[unlikely]]
            count_contended_on_this_cpu();
    }
    void unlock() {
        lock_debug_release(m_class);  // panics before touching a lock this CPU does not hold
        m_core.unlock();
        restore_interrupts_nested();
    }
    bool is_locked() const { return m_core.is_locked(); }
    bool held_by_this_cpu() const { return sync::held_by_this_cpu(m_class); }
    constexpr const LockClass& lock_class() const { return m_class; }
    // Acquisitions, contended ones, rounds spun (libc/base/LockCore.h); listed by the monitor's `cpus`
    // once the lock is registered (kernel/sync/LockRegistry.h).
    constexpr const LockCounters& counters() const { return m_core.counters(); }

private:
    LockClass m_class;
    Core m_core;
};

using SpinLock = BasicLock<SpinLockCore<atomic::KernelAtomics>>;
using TicketLock = BasicLock<TicketLockCore<atomic::KernelAtomics>>;

template <typename Lock>
class Locker {
public:
    explicit Locker(Lock& lock) : m_lock(lock) { m_lock.lock(); }
    ~Locker() { m_lock.unlock(); }
    Locker(const Locker&) = delete;
    Locker& operator=(const Locker&) = delete;

private:
    Lock& m_lock;
};

}  // namespace sync
