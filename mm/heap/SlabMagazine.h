// SlabMagazine.h: one CPU's magazine for one slab cache: a bounded stack of free object pointers that the
// CPU allocates from and frees into without the cache's lock (docs/slab.md, "Per-CPU magazines";
// docs/multicore.md, "Per-CPU allocator caches").
//
// The idea is Bonwick and Adams's magazine layer ("Magazines and Vmem: Extending the Slab Allocator to Many
// CPUs and Arbitrary Resources", USENIX 2001): a CPU keeps a few objects of each cache to itself, so most
// allocations and frees touch nothing shared, and the cache's lock is taken once per batch of objects.
// Mneme keeps the simpler shape of its per-CPU frame caches (mm/frame/FrameCache.h) rather than the paper's
// two magazines swapped whole with a depot: one stack per CPU, refilled with kBatch objects when empty, and
// flushed of its kBatch oldest objects when full, so a CPU that alternates allocations and frees around the
// boundary still goes to the cache only once per kBatch operations (the paper's reason for keeping two
// magazines is the same hysteresis).
//
// The magazine has no lock: it belongs to one CPU, which touches it with interrupts off (an interrupt
// handler may kmalloc). The policy (when to refill and flush, the double-free checks) is SlabCache's; this
// class is only the stack and its counters.
//
// Objects in a magazine are allocated as far as their slab knows (they are off its free list); the cache's
// statistics count them apart (SlabStatistics::objects_in_magazines), as free objects held by a CPU.
#pragma once

#include "libc/base/BoundedStack.h"
#include "libc/base/Types.h"

// What `slabinfo` prints per CPU: how the magazine has been used since boot.
struct SlabMagazineCounters {
    u32 hits;     // allocations and frees served by the magazine alone
    u32 refills;  // it was empty: a batch came from the slabs
    u32 flushes;  // it was full (the oldest batch went back), or was emptied for a shrink or a destroy
};

class SlabMagazine {
public:
    static constexpr u32 kCapacity = 16;  // objects held at most
    static constexpr u32 kBatch = 8;      // objects moved per refill or flush: half the capacity

    u32 count() const { return m_objects.count(); }
    bool is_empty() const { return m_objects.is_empty(); }
    const SlabMagazineCounters& counters() const { return m_counters; }

    // The fast paths: a pop or push and a counter. False when empty or full: the caller goes to the slabs.
    [[gnu::always_inline]] bool pop(void*& object) {
        if (!m_objects.pop(object)) [[unlikely]]
            return false;
        ++m_counters.hits;
        return true;
    }
    [[gnu::always_inline]] bool push(void* object) {
        if (!m_objects.push(object)) [[unlikely]]
            return false;
        ++m_counters.hits;
        return true;
    }

    // The object a push would sit on (null when empty), for the cheap double-free check.
    const void* top() const { return m_objects.top(); }
    // Whether the object is in the magazine: a scan of at most kCapacity entries, for the slow paths.
    bool contains(const void* object) const { return m_objects.contains(const_cast<void*>(object)); }

    // For SlabCache's refill and flush, which keep the capacity themselves.
    void put(void* object) { m_objects.put(object); }
    void* take_newest() { return m_objects.take_newest(); }
    // The objects, oldest first (count() of them).
    void** objects() { return m_objects.oldest(); }
    // Drops the n oldest objects (the bottom of the stack, the coldest, already given back by the caller),
    // keeping the warm rest.
    void drop_oldest(u32 n) { m_objects.drop_oldest(n); }

    void count_refill() { ++m_counters.refills; }
    void count_flush() { ++m_counters.flushes; }

private:
    BoundedStack<void*, kCapacity, nullptr> m_objects;
    SlabMagazineCounters m_counters = {};
};
