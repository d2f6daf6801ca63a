// LockCore.h: the waiting part of the kernel's two spinlocks, with the atomic operations as a parameter.
//
// The cores know nothing of interrupts, CPUs or lock order (kernel/sync/ adds those); they are templates
// over a policy `A` with
//     using Word = ...;                            a 32-bit word the operations below act on
//     static u32  fetch_add(Word&, u32);           atomically add, return the old value
//     static u32  exchange(Word&, u32);            atomically swap, return the old value
//     static bool compare_exchange(Word&, u32 expected, u32 desired)
//                                                  atomically: if it holds `expected`, store `desired`
//                                                  (TicketLockCore::try_lock only)
//     static u32  load(const Word&);               acquire load
//     static void store(Word&, u32);               release store
//     static void relax();                         what to do once per round of spinning
// so the very code the kernel runs (with arch/i386/Atomic.h: LOCK XADD, XCHG, PAUSE) runs on the host with
// std::atomic and real threads (tests/host/LockCoreTest.cpp).
//
// Each core counts its acquisitions, the contended ones (the first attempt failed and it had to wait) and
// the rounds it spun while waiting (LockCounters). Only the holder writes the counters, after it holds the
// lock, so they need no atomic operation of their own: the lock orders the writes like any data it guards.
// The uncontended path pays one increment; the contended one adds its count of rounds after the wait.
// lock() returns whether it had to wait, so the kernel can also count contention per CPU.
#pragma once

#include "libc/base/Types.h"

// Read by the monitor without the lock (kernel/sync/LockRegistry.h): a reader may see a count one behind,
// never a torn 32-bit value (aligned 32-bit accesses are atomic, Intel SDM Vol. 3A 8.1.1). They wrap at
// 2^32, far beyond what a boot of a teaching kernel reaches.
struct LockCounters {
    u32 acquisitions = 0;
    u32 contended = 0;  // acquisitions that found the lock taken and waited
    u32 spins = 0;      // rounds of the wait loop (one PAUSE each in the kernel), over all contended ones

    // By the holder, once the lock is its own.
    void waited(u32 rounds) {
        ++contended;
        spins += rounds;
    }
};

// Test-and-test-and-set: XCHG 1 into the word until the old value was 0. A waiter spins on a plain load, so
// it reads its cached copy instead of locking the bus on every round; only when the lock looks free does it
// try the exchange again. Unfair: whichever CPU's exchange lands first wins.
template <typename A>
class SpinLockCore {
public:
    constexpr SpinLockCore() = default;
    SpinLockCore(const SpinLockCore&) = delete;
    SpinLockCore& operator=(const SpinLockCore&) = delete;

    // Returns true when the lock was taken and it had to wait.
    bool lock() {
        bool waited = A::exchange(m_locked, 1) != 0;
        if (waited) [[unlikely]]
            wait();
        ++m_counters.acquisitions;
        return waited;
    }
    bool try_lock() {
        if (A::exchange(m_locked, 1) != 0) return false;
        ++m_counters.acquisitions;
        return true;
    }
    void unlock() { A::store(m_locked, 0); }
    bool is_locked() const { return A::load(m_locked) != 0; }
    constexpr const LockCounters& counters() const { return m_counters; }

private:
    // Out of line: the uncontended path stays a few instructions.
    [[gnu::noinline]] void wait() {
        u32 rounds = 0;
        do {
            while (A::load(m_locked) != 0) {
                A::relax();
                ++rounds;
            }
        } while (A::exchange(m_locked, 1) != 0);
        m_counters.waited(rounds);
    }

    typename A::Word m_locked{0};
    LockCounters m_counters;
};

// The ticket arithmetic, kept apart so the host tests can check it at the wrap-around. `next` is the number
// the next arrival draws, `serving` the one that holds the lock; both only grow, modulo 2^32, so the
// distance is a u32 subtraction that stays right when `next` has wrapped and `serving` not yet.
namespace ticket {
// CPUs holding or waiting for the lock.
constexpr u32 queued(u32 next, u32 serving) { return next - serving; }
// How many are ahead of the holder of `mine` (0: it holds the lock).
constexpr u32 ahead_of(u32 mine, u32 serving) { return mine - serving; }
}  // namespace ticket

// A ticket lock: fair, first come first served. Each arrival draws a number with one atomic fetch-and-add
// on `next` and waits until `serving` shows it; unlock passes the lock to the next number. Only the holder
// writes `serving`, so unlock is a plain load and a release store. With N CPUs there are at most N numbers
// out at once, far from the 2^32 the counters wrap at.
template <typename A>
class TicketLockCore {
public:
    constexpr TicketLockCore() = default;
    // For tests: both counters start at `first` (near 2^32 to cross the wrap-around).
    explicit constexpr TicketLockCore(u32 first) : m_next(first), m_serving(first) {}
    TicketLockCore(const TicketLockCore&) = delete;
    TicketLockCore& operator=(const TicketLockCore&) = delete;

    // Returns true when another CPU held or waited for the lock when this one drew its number.
    bool lock() {
        u32 mine = A::fetch_add(m_next, 1);
        bool waited = ticket::ahead_of(mine, A::load(m_serving)) != 0;
        if (waited) [[unlikely]]
            wait(mine);
        ++m_counters.acquisitions;
        return waited;
    }
    // Takes the lock only if nobody holds or waits for it: draws the next number only if it is the one being
    // served (a compare-and-exchange, so a CPU that drew a number meanwhile keeps its turn). Never waits.
    bool try_lock() {
        u32 serving = A::load(m_serving);
        if (!A::compare_exchange(m_next, serving, serving + 1)) return false;
        ++m_counters.acquisitions;
        return true;
    }
    void unlock() { A::store(m_serving, A::load(m_serving) + 1); }
    bool is_locked() const { return queued() != 0; }
    u32 queued() const { return ticket::queued(A::load(m_next), A::load(m_serving)); }
    u32 serving() const { return A::load(m_serving); }
    constexpr const LockCounters& counters() const { return m_counters; }

private:
    [[gnu::noinline]] void wait(u32 mine) {
        u32 rounds = 0;
        while (ticket::ahead_of(mine, A::load(m_serving)) != 0) {
            A::relax();
            ++rounds;
        }
        m_counters.waited(rounds);
    }

    typename A::Word m_next{0};
    typename A::Word m_serving{0};
    LockCounters m_counters;
};
