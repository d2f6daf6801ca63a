// FrameCache.h: one CPU's cache of free single frames (order 0), the per-CPU part in front of the page
// allocator (docs/multicore.md, "Per-CPU allocator caches").
//
// Why: most frame traffic is single frames (page tables, user pages, slabs of small objects), and a frame
// freed on a CPU is very likely to be wanted again soon on that CPU. A small stack of free frames per CPU
// serves those requests without the shared allocator and without its lock: the shared part is then taken
// once per batch of frames instead of once per frame. Linux does the same with its per-CPU page lists
// ("pcp" lists, Mel Gorman, "Understanding the Linux Virtual Memory Manager", chapter 6); the idea is
// Bonwick's magazine layer applied to pages (Bonwick & Adams, "Magazines and Vmem", USENIX 2001).
//
// The cache is a plain LIFO stack of pfns (the most recently freed frame, the one most likely still in
// the processor's caches, goes out first). It has no lock: it belongs to one CPU, which touches it only
// with interrupts off (an interrupt handler on the same CPU could otherwise interleave with it). The policy
// around it (when to refill, how much to give back) is FrameCacheFront's (mm/frame/FrameCacheFront.h); this
// class is only the stack and its counters.
//
// Frames in a cache are still free memory: the shared allocator sees them as allocated, so every count of
// free frames adds the caches' frames back (FrameCacheFront::free_frames).
#pragma once

#include "libc/base/BoundedStack.h"
#include "libc/base/Types.h"

// What a view prints per CPU (the monitor's `buddy`): how the cache has been used since boot.
struct FrameCacheCounters {
    u32 hits;     // allocations and frees served by the cache alone
    u32 refills;  // the cache was empty: a batch came from the shared allocator
    u32 drains;   // the cache was full (half went back), or was emptied for a count or a shortage
};

class FrameCache {
public:
    static constexpr u32 kCapacity = 32;  // frames held at most (128 KiB per CPU)
    static constexpr u32 kBatch = 16;     // frames moved per refill or drain: half the capacity

    u32 count() const { return m_frames.count(); }
    bool is_empty() const { return m_frames.is_empty(); }
    bool is_full() const { return m_frames.is_full(); }
    const FrameCacheCounters& counters() const { return m_counters; }

    // The fast paths: a pop or push and a counter, nothing else. False when the cache is empty or full,
    // and the caller goes to the shared allocator.
    [[gnu::always_inline]] bool pop(u32& pfn) {
        if (!m_frames.pop(pfn)) [[unlikely]]
            return false;
        ++m_counters.hits;
        return true;
    }
    [[gnu::always_inline]] bool push(u32 pfn) {
        if (!m_frames.push(pfn)) [[unlikely]]
            return false;
        ++m_counters.hits;
        return true;
    }

    // The frame a push would sit on, for the cheap double-free check (0xffffffff, no frame, when empty).
    u32 top() const { return m_frames.top(); }
    // Whether the frame is in the cache (a scan of at most kCapacity entries, for the slow path's checks).
    bool contains(u32 pfn) const { return m_frames.contains(pfn); }

    // For FrameCacheFront's refill and drain, which keep the capacity themselves.
    void put(u32 pfn) { m_frames.put(pfn); }
    u32 take_newest() { return m_frames.take_newest(); }
    // Hands the n oldest frames (the bottom of the stack, the coldest) to `release` and keeps the warm rest.
    template <typename Release>
    void remove_oldest(u32 n, Release release) {
        if (n > count()) n = count();
        for (u32 i = 0; i < n; ++i) release(m_frames.oldest()[i]);
        m_frames.drop_oldest(n);
    }

    void count_refill() { ++m_counters.refills; }
    void count_drain() { ++m_counters.drains; }

private:
    BoundedStack<u32, kCapacity, 0xffffffffu> m_frames;
    FrameCacheCounters m_counters = {};
};
