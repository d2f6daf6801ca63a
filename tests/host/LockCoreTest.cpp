// LockCoreTest.cpp: the kernel's lock cores (libc/base/LockCore.h) on std::atomic with real threads, the
// ticket arithmetic at the wrap-around, and the lock debugger's decisions (libc/base/LockOrder.h).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "libc/base/LockCore.h"
#include "libc/base/LockOrder.h"

namespace {

// The host policy: std::atomic with the orderings the kernel's instructions give (a locked instruction is a
// full barrier on x86; here acquire/release is all the lock needs). Waiting yields, as the host may have
// fewer cores than threads.
struct HostAtomics {
    using Word = std::atomic<u32>;
    static u32 fetch_add(Word& w, u32 v) { return w.fetch_add(v, std::memory_order_acq_rel); }
    static u32 exchange(Word& w, u32 v) { return w.exchange(v, std::memory_order_acquire); }
    static bool compare_exchange(Word& w, u32 expected, u32 desired) {
        return w.compare_exchange_strong(expected, desired, std::memory_order_acquire);
    }
    static u32 load(const Word& w) { return w.load(std::memory_order_acquire); }
    static void store(Word& w, u32 v) { w.store(v, std::memory_order_release); }
    static void relax() { std::this_thread::yield(); }
};

using HostTicketLock = TicketLockCore<HostAtomics>;
using HostSpinLock = SpinLockCore<HostAtomics>;

// Each thread enters the critical section `rounds` times. Inside: a plain (non-atomic) counter is bumped
// with a read, a yield and a write, so two threads inside at once would lose updates; `inside` counts the
// threads in the section, and any value but 1 there is a failure.
template <typename Lock>
void hammer(Lock& lock, int threads, int rounds) {
    u64 counter = 0;
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int r = 0; r < rounds; ++r) {
                lock.lock();
                if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
                u64 seen = counter;
                if (r % 16 == 0) std::this_thread::yield();
                counter = seen + 1;
                inside.fetch_sub(1);
                lock.unlock();
            }
        });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(overlaps.load(), 0);
    EXPECT_EQ(counter, static_cast<u64>(threads) * rounds);
}

TEST(TicketArithmetic, DistancesSurviveTheWrapAround) {
    EXPECT_EQ(ticket::queued(5, 5), 0u);
    EXPECT_EQ(ticket::queued(7, 5), 2u);
    EXPECT_EQ(ticket::queued(1, 0xFFFFFFFEu), 3u);  // next wrapped, serving not yet
    EXPECT_EQ(ticket::ahead_of(0xFFFFFFFFu, 0xFFFFFFFFu), 0u);
    EXPECT_EQ(ticket::ahead_of(0, 0xFFFFFFFFu), 1u);
    EXPECT_EQ(ticket::ahead_of(2, 0xFFFFFFFEu), 4u);
}

TEST(TicketLockCore, TicketsAreHandedOutInOrder) {
    HostTicketLock lock;
    EXPECT_FALSE(lock.is_locked());
    EXPECT_FALSE(lock.lock());  // nobody ahead: not contended
    EXPECT_EQ(lock.serving(), 0u);
    EXPECT_TRUE(lock.is_locked());
    EXPECT_EQ(lock.queued(), 1u);
    lock.unlock();
    EXPECT_FALSE(lock.is_locked());
    EXPECT_FALSE(lock.lock());
    EXPECT_EQ(lock.serving(), 1u);
    lock.unlock();
    EXPECT_EQ(lock.serving(), 2u);
}

TEST(TicketLockCore, CrossesTheWrapAroundAlone) {
    HostTicketLock lock(0xFFFFFFFEu);
    EXPECT_FALSE(lock.lock());
    EXPECT_EQ(lock.serving(), 0xFFFFFFFEu);
    lock.unlock();
    EXPECT_FALSE(lock.lock());
    EXPECT_EQ(lock.serving(), 0xFFFFFFFFu);
    lock.unlock();
    EXPECT_FALSE(lock.lock());
    EXPECT_EQ(lock.serving(), 0u);
    EXPECT_EQ(lock.queued(), 1u);
    lock.unlock();
    EXPECT_FALSE(lock.is_locked());
}

TEST(TicketLockCore, MutualExclusionAcrossThreads) {
    HostTicketLock lock;
    hammer(lock, 4, 20000);
    EXPECT_FALSE(lock.is_locked());
    EXPECT_EQ(lock.serving(), 4u * 20000u);
}

TEST(TicketLockCore, MutualExclusionAcrossTheWrapAround) {
    HostTicketLock lock(0xFFFFFFFFu - 1000);
    hammer(lock, 4, 5000);
    EXPECT_FALSE(lock.is_locked());
}

TEST(TicketLockCore, WaitersAreServedInArrivalOrder) {
    // The main thread holds the lock while three threads draw tickets one after another; once released,
    // they must get the lock in the order they arrived.
    HostTicketLock lock;
    lock.lock();
    std::vector<int> order;
    std::vector<std::thread> workers;
    for (int t = 0; t < 3; ++t) {
        workers.emplace_back([&, t] {
            lock.lock();
            order.push_back(t);
            lock.unlock();
        });
        // Wait until thread t has drawn its ticket (holder + t + 1 queued) before starting the next.
        while (lock.queued() != static_cast<u32>(t + 2)) std::this_thread::yield();
    }
    lock.unlock();
    for (auto& w : workers) w.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

// try_lock takes a free lock and never a held one, nor one with a waiter queued (it would jump the queue),
// at the wrap-around too.
TEST(TicketLockCore, TryLockTakesOnlyAFreeLock) {
    HostTicketLock lock(0xFFFFFFFFu);
    EXPECT_TRUE(lock.try_lock());  // draws 0xFFFFFFFF; the next number wraps to 0
    EXPECT_FALSE(lock.try_lock());
    EXPECT_EQ(lock.queued(), 1u);  // a failed try draws nothing
    std::thread waiter([&] {
        lock.lock();
        lock.unlock();
    });
    while (lock.queued() != 2) std::this_thread::yield();
    lock.unlock();  // the waiter's turn now: it holds the lock, or is about to
    waiter.join();
    EXPECT_FALSE(lock.is_locked());
    EXPECT_TRUE(lock.try_lock());
    lock.unlock();
    EXPECT_EQ(lock.counters().acquisitions, 3u);
}

TEST(SpinLockCore, TryLockAndMutualExclusion) {
    HostSpinLock lock;
    EXPECT_TRUE(lock.try_lock());
    EXPECT_FALSE(lock.try_lock());
    lock.unlock();
    EXPECT_FALSE(lock.is_locked());
    hammer(lock, 4, 20000);
    EXPECT_FALSE(lock.is_locked());
}

// The counters (LockCounters): acquisitions, contended ones, rounds spun.

TEST(LockCounters, AnUncontendedLockCountsAcquisitionsOnly) {
    HostSpinLock spin;
    HostTicketLock ticket;
    for (int i = 0; i < 5; ++i) {
        EXPECT_FALSE(spin.lock());
        spin.unlock();
        EXPECT_FALSE(ticket.lock());
        ticket.unlock();
    }
    EXPECT_TRUE(spin.try_lock());
    EXPECT_FALSE(spin.try_lock());  // failed: not an acquisition
    spin.unlock();
    EXPECT_EQ(spin.counters().acquisitions, 6u);
    EXPECT_EQ(ticket.counters().acquisitions, 5u);
    for (const LockCounters* c : {&spin.counters(), &ticket.counters()}) {
        EXPECT_EQ(c->contended, 0u);
        EXPECT_EQ(c->spins, 0u);
    }
}

// One waiter, for certain: the main thread holds the lock until the other thread has spun three rounds on
// it, seen through a relax hook that counts them.
struct CountingAtomics : HostAtomics {
    static inline std::atomic<u32> rounds{0};
    static void relax() {
        rounds.fetch_add(1);
        std::this_thread::yield();
    }
};

template <typename Lock>
void one_certain_waiter(Lock& lock) {
    CountingAtomics::rounds = 0;
    EXPECT_FALSE(lock.lock());
    bool waited = false;
    std::thread waiter([&] {
        waited = lock.lock();
        lock.unlock();
    });
    while (CountingAtomics::rounds.load() < 3) std::this_thread::yield();
    lock.unlock();
    waiter.join();
    EXPECT_TRUE(waited);
    EXPECT_EQ(lock.counters().acquisitions, 2u);
    EXPECT_EQ(lock.counters().contended, 1u);
    // Every round the waiter spun is counted, and nobody else relaxed.
    EXPECT_GE(lock.counters().spins, 3u);
    EXPECT_EQ(lock.counters().spins, CountingAtomics::rounds.load());
}

TEST(LockCounters, AWaiterCountsOneContendedAcquisitionAndItsRounds) {
    TicketLockCore<CountingAtomics> ticket;
    one_certain_waiter(ticket);
    SpinLockCore<CountingAtomics> spin;
    one_certain_waiter(spin);
}

// Four threads hammer each lock: every acquisition is counted once, no matter how they interleave (the
// holder's increments are ordered by the lock itself; TSan checks that in make tsan-tests), and each thread's
// own tally of the times lock() said it waited adds up to the lock's contended count.
template <typename Lock>
void count_under_contention(Lock& lock) {
    constexpr int kThreads = 4, kRounds = 20000;
    std::atomic<u32> waited{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
        workers.emplace_back([&] {
            u32 mine = 0;
            for (int r = 0; r < kRounds; ++r) {
                if (lock.lock()) ++mine;
                if (r % 16 == 0) std::this_thread::yield();  // hold it a while now and then: waiters pile up
                lock.unlock();
            }
            waited.fetch_add(mine);
        });
    }
    for (auto& w : workers) w.join();
    const LockCounters& c = lock.counters();
    EXPECT_EQ(c.acquisitions, static_cast<u32>(kThreads * kRounds));
    EXPECT_EQ(c.contended, waited.load());
    EXPECT_LE(c.contended, c.acquisitions);
    std::printf("  %u acquisitions, %u contended, %u rounds spun\n", c.acquisitions, c.contended, c.spins);
}

TEST(LockCounters, ThreadsContendingForATicketLock) {
    HostTicketLock lock;
    count_under_contention(lock);
}

TEST(LockCounters, ThreadsContendingForASpinLock) {
    HostSpinLock lock;
    count_under_contention(lock);
}

// The lock debugger.

LockClass g_low{"low", 10};
LockClass g_middle{"middle", 20};
LockClass g_middle_twin{"middle twin", 20};
LockClass g_high{"high", 30};

std::string sentence(const HeldLocks::Decision& d, const LockClass& lock) {
    char buffer[192];
    describe(d, lock, "cpu1", buffer, sizeof(buffer));
    return buffer;
}

TEST(LockOrder, IncreasingRanksAreFine) {
    HeldLocks held;
    EXPECT_TRUE(held.check_acquire(g_low).ok());
    held.acquired(g_low);
    EXPECT_TRUE(held.check_acquire(g_middle).ok());
    held.acquired(g_middle);
    EXPECT_TRUE(held.check_acquire(g_high).ok());
    held.acquired(g_high);
    EXPECT_EQ(held.count(), 3u);
    held.released(g_high);
    held.released(g_middle);
    held.released(g_low);
    EXPECT_EQ(held.count(), 0u);
}

TEST(LockOrder, CatchesADoubleAcquire) {
    HeldLocks held;
    held.acquired(g_middle);
    HeldLocks::Decision d = held.check_acquire(g_middle);
    EXPECT_EQ(d.verdict, HeldLocks::Verdict::AlreadyHeld);
    EXPECT_EQ(sentence(d, g_middle), "lock \"middle\" (rank 20) taken twice by cpu1: it would wait for itself");
}

TEST(LockOrder, CatchesALowerRankUnderAHigherOne) {
    HeldLocks held;
    held.acquired(g_low);
    held.acquired(g_high);
    HeldLocks::Decision d = held.check_acquire(g_middle);
    EXPECT_EQ(d.verdict, HeldLocks::Verdict::WrongOrder);
    EXPECT_EQ(d.other, &g_high);
    EXPECT_EQ(sentence(d, g_middle),
              "lock order: cpu1 takes \"middle\" (rank 20) while holding \"high\" (rank 30); ranks must increase");
}

TEST(LockOrder, TwoLocksOfOneRankAreNeverHeldTogether) {
    HeldLocks held;
    held.acquired(g_middle);
    HeldLocks::Decision d = held.check_acquire(g_middle_twin);
    EXPECT_EQ(d.verdict, HeldLocks::Verdict::WrongOrder);
    EXPECT_EQ(d.other, &g_middle);
}

TEST(LockOrder, OutOfOrderReleaseKeepsTheOthers) {
    HeldLocks held;
    held.acquired(g_low);
    held.acquired(g_middle);
    held.released(g_low);
    EXPECT_EQ(held.count(), 1u);
    EXPECT_TRUE(held.holds(g_middle));
    EXPECT_FALSE(held.holds(g_low));
    // The middle one is still held: low may not come back under it.
    EXPECT_EQ(held.check_acquire(g_low).verdict, HeldLocks::Verdict::WrongOrder);
    EXPECT_TRUE(held.check_acquire(g_high).ok());
}

TEST(LockOrder, ReleasingALockNotHeld) {
    HeldLocks held;
    held.acquired(g_low);
    HeldLocks::Decision d = held.check_release(g_middle);
    EXPECT_EQ(d.verdict, HeldLocks::Verdict::NotHeld);
    EXPECT_EQ(sentence(d, g_middle), "cpu1 releases \"middle\" (rank 20), which it does not hold");
    EXPECT_TRUE(held.check_release(g_low).ok());
}

TEST(LockOrder, TooManyAtOnce) {
    HeldLocks held;
    std::vector<LockClass> locks;
    for (u32 i = 0; i <= HeldLocks::kMaxHeld; ++i) locks.push_back(LockClass{"nested", 100 + i});
    for (u32 i = 0; i < HeldLocks::kMaxHeld; ++i) held.acquired(locks[i]);
    EXPECT_EQ(held.check_acquire(locks[HeldLocks::kMaxHeld]).verdict, HeldLocks::Verdict::TooMany);
}

TEST(LockOrderDeathTest, RecordingAForbiddenAcquirePanics) {
    HeldLocks held;
    held.acquired(g_high);
    EXPECT_DEATH(held.acquired(g_low), "VERIFY");
    EXPECT_DEATH(held.released(g_low), "VERIFY_NOT_REACHED");
}

}  // namespace
