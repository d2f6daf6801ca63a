// LockOrder.cpp: see LockOrder.h.
#include "libc/base/LockOrder.h"

#include "libc/base/Assert.h"
#include "libc/base/Format.h"

bool HeldLocks::holds(const LockClass& lock) const {
    for (u32 i = 0; i < m_count; ++i)
        if (m_held[i] == &lock) return true;
    return false;
}

HeldLocks::Decision HeldLocks::check_acquire(const LockClass& lock) const {
    if (holds(lock)) return {Verdict::AlreadyHeld, &lock};
    // The most recently taken lock is normally the highest, but a lock may be released out of order, so
    // every held one is compared.
    for (u32 i = 0; i < m_count; ++i)
        if (m_held[i]->rank >= lock.rank) return {Verdict::WrongOrder, m_held[i]};
    if (m_count == kMaxHeld) return {Verdict::TooMany, nullptr};
    return {Verdict::Ok, nullptr};
}

HeldLocks::Decision HeldLocks::check_release(const LockClass& lock) const {
    return holds(lock) ? Decision{Verdict::Ok, nullptr} : Decision{Verdict::NotHeld, nullptr};
}

void HeldLocks::acquired(const LockClass& lock) {
    VERIFY(check_acquire(lock).ok());
    m_held[m_count++] = &lock;
}

void HeldLocks::released(const LockClass& lock) {
    for (u32 i = 0; i < m_count; ++i) {
        if (m_held[i] != &lock) continue;
        for (u32 j = i + 1; j < m_count; ++j) m_held[j - 1] = m_held[j];
        m_held[--m_count] = nullptr;
        return;
    }
    VERIFY_NOT_REACHED();
}

int describe(const HeldLocks::Decision& decision, const LockClass& lock, const char* who, char* buffer, size_t size) {
    switch (decision.verdict) {
    case HeldLocks::Verdict::Ok:
        return format_to_buffer(buffer, size, "%s may take \"%s\" (rank %u)", who, lock.name, lock.rank);
    case HeldLocks::Verdict::AlreadyHeld:
        return format_to_buffer(buffer, size, "lock \"%s\" (rank %u) taken twice by %s: it would wait for itself",
                                lock.name, lock.rank, who);
    case HeldLocks::Verdict::WrongOrder:
        return format_to_buffer(buffer, size,
                                "lock order: %s takes \"%s\" (rank %u) while holding \"%s\" (rank %u); ranks must "
                                "increase",
                                who, lock.name, lock.rank, decision.other->name, decision.other->rank);
    case HeldLocks::Verdict::TooMany:
        return format_to_buffer(buffer, size, "%s takes \"%s\" while holding %u locks already", who, lock.name,
                                HeldLocks::kMaxHeld);
    case HeldLocks::Verdict::NotHeld:
        return format_to_buffer(buffer, size, "%s releases \"%s\" (rank %u), which it does not hold", who, lock.name,
                                lock.rank);
    }
    return 0;
}
