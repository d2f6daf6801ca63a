// LockOrder.h: the lock debugger's decisions, kept pure so the host tests can drive them.
//
// Every kernel lock declares a name and a rank. A CPU keeps the locks it holds (HeldLocks, one per CPU in
// its per-CPU area, kernel/smp/PerCpu.h) and, before it takes a lock, asks check_acquire:
//   - the lock is already held by this CPU: it would spin forever on itself (AlreadyHeld);
//   - a held lock has a rank greater than or equal to the new one's: ranks must strictly increase along
//     any chain of nested locks, so no two CPUs can each hold what the other waits for (WrongOrder). Two
//     locks of the same rank are never held together;
//   - more than kMaxHeld locks at once: a runaway nesting (TooMany).
// Releasing a lock this CPU does not hold is NotHeld. The kernel panics on any verdict but Ok, with
// describe()'s sentence naming both locks; the tests call the decision functions directly.
#pragma once

#include "libc/base/Types.h"

struct LockClass {
    const char* name;
    u32 rank;
};

class HeldLocks {
public:
    static constexpr u32 kMaxHeld = 8;

    enum class Verdict : u8 { Ok, AlreadyHeld, WrongOrder, TooMany, NotHeld };
    struct Decision {
        Verdict verdict;
        const LockClass* other;  // WrongOrder: the held lock of higher or equal rank
        bool ok() const { return verdict == Verdict::Ok; }
    };

    Decision check_acquire(const LockClass& lock) const;
    Decision check_release(const LockClass& lock) const;
    // Record the change; both VERIFY what the check above would have said.
    void acquired(const LockClass& lock);
    void released(const LockClass& lock);

    u32 count() const { return m_count; }
    const LockClass& held(u32 i) const { return *m_held[i]; }
    bool holds(const LockClass& lock) const;

private:
    const LockClass* m_held[kMaxHeld] = {};
    u32 m_count = 0;
};

// One sentence for a panic message: "lock order: taking "a" (rank 10) while holding "b" (rank 20); ...".
// `who` names the CPU ("cpu1"). Returns the formatted length, as format_to_buffer does.
int describe(const HeldLocks::Decision& decision, const LockClass& lock, const char* who, char* buffer, size_t size);
