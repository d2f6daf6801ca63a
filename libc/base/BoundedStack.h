// BoundedStack.h: a fixed-capacity LIFO stack, the storage of the allocators' per-CPU caches (the frame
// caches, mm/frame/FrameCache.h, and the slab magazines, mm/heap/SlabMagazine.h).
//
// Slots 1..count hold the values, oldest first; slot 0 holds `kEmpty` for good, so top() of an empty stack
// is kEmpty without a test (the caches compare a freed value with the top for a cheap double-free check).
// pop and push are the fast paths and say false when the stack is empty or full; put and take_newest are
// for callers that keep the capacity themselves (a refill, a drain).
#pragma once

#include "libc/base/Types.h"

template <typename T, u32 kCapacity, T kEmpty>
class BoundedStack {
public:
    u32 count() const { return m_count; }
    bool is_empty() const { return m_count == 0; }
    bool is_full() const { return m_count == kCapacity; }

    [[gnu::always_inline]] bool pop(T& value) {
        if (m_count == 0) [[unlikely]]
            return false;
        value = m_slots[m_count--];
        return true;
    }
    [[gnu::always_inline]] bool push(T value) {
        if (m_count == kCapacity) [[unlikely]]
            return false;
        m_slots[++m_count] = value;
        return true;
    }

    // The value a push would sit on (kEmpty when the stack is empty).
    T top() const { return m_slots[m_count]; }
    // A scan of at most kCapacity slots, for the slow paths' checks.
    bool contains(T value) const {
        for (u32 i = 1; i <= m_count; ++i)
            if (m_slots[i] == value) return true;
        return false;
    }

    void put(T value) { m_slots[++m_count] = value; }
    T take_newest() { return m_slots[m_count--]; }
    // The values, oldest first (count() of them), and dropping the n oldest (the bottom of the stack, the
    // coldest) once the caller has given them back, keeping the warm rest.
    T* oldest() { return m_slots + 1; }
    void drop_oldest(u32 n) {
        if (n > m_count) n = m_count;
        for (u32 i = n + 1; i <= m_count; ++i) m_slots[i - n] = m_slots[i];
        m_count -= n;
    }

private:
    u32 m_count = 0;
    T m_slots[kCapacity + 1] = {kEmpty};
};
