// SpinLock.h: the lock that makes one Heap safe to share between threads.
//
// Test-and-test-and-set on a 32-bit word with GCC __atomic builtins, so it works on the host and in i386
// user space (xchg exists on every x86; no cmpxchg8b needed). A waiter spins on a plain load, so it does not
// bounce the cache line while the owner works, and after kSpinsBeforeYield rounds it calls the yield hook
// (sched_yield on the host), because on a machine with few cores the owner may be the thread it waits for.
//
// Uncontended cost: one locked xchg to take it, one plain store to release it.
#pragma once

#include "libc/base/Types.h"

namespace Malloc {

class SpinLock {
public:
    using YieldFunction = void (*)();

    constexpr SpinLock() = default;
    MNEME_NONCOPYABLE(SpinLock);
    MNEME_NONMOVABLE(SpinLock);

    void set_yield(YieldFunction yield) { m_yield = yield; }

    void lock() {
        while (__atomic_exchange_n(&m_locked, 1u, __ATOMIC_ACQUIRE) != 0) {
            u32 spins = 0;
            while (__atomic_load_n(&m_locked, __ATOMIC_RELAXED) != 0) {
                __builtin_ia32_pause();
                if (++spins >= kSpinsBeforeYield && m_yield) {
                    m_yield();
                    spins = 0;
                }
            }
        }
    }

    bool try_lock() { return __atomic_exchange_n(&m_locked, 1u, __ATOMIC_ACQUIRE) == 0; }
    void unlock() { __atomic_store_n(&m_locked, 0u, __ATOMIC_RELEASE); }
    bool is_locked() const { return __atomic_load_n(&m_locked, __ATOMIC_RELAXED) != 0; }

    // After fork() the child has one thread; a lock held by a thread that no longer exists is released.
    void reset_after_fork() { m_locked = 0; }

private:
    static constexpr u32 kSpinsBeforeYield = 64;
    u32 m_locked = 0;
    YieldFunction m_yield = nullptr;
};

class SpinLockGuard {
public:
    explicit SpinLockGuard(SpinLock& lock) : m_lock(lock) { m_lock.lock(); }
    ~SpinLockGuard() { m_lock.unlock(); }
    MNEME_NONCOPYABLE(SpinLockGuard);
    MNEME_NONMOVABLE(SpinLockGuard);

private:
    SpinLock& m_lock;
};

}  // namespace Malloc
