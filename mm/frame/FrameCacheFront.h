// FrameCacheFront.h: per-CPU frame caches (mm/frame/FrameCache.h) in front of one shared page allocator
// (the buddy or the bitmap: any FrameAllocator), and the policy that moves frames between them
// (docs/multicore.md, "Per-CPU allocator caches").
//
//   - allocate(cache, 0): pop from the caller's CPU's cache. Empty: take the shared lock once and refill a
//     batch of kBatch frames, then pop.
//   - free(cache, pfn, 0): push. Full: take the lock once and give the oldest half back, then push.
//   - any other order, and the DMA zone, go straight to the shared allocator under its lock (a cache of
//     single frames cannot serve them, and DMA memory is scarce).
//   - a shared allocation that fails drains every cache and tries once more, so a shortage is never caused
//     by frames hoarded in caches (the out-of-memory paths and the swapper's watermarks see the truth).
//   - free_frames() counts cached frames as free, so every free-frame figure the kernel reports (and the
//     no-leak checks) is unchanged by the caches. It keeps its own count of the shared allocator's free
//     frames for that, so once a front stands before an allocator, frames go in and out of it only through
//     the front (add_free_range included).
//
// The caller passes its own CPU's cache and keeps it to itself for the call (in the kernel: interrupts off;
// in the host tests: one cache per thread). The caches are never locked. drain_all() and free_frames() reach
// into every cache, so they need the other CPUs out of their caches: today the application processors do
// not allocate, and under a big kernel lock only its holder does. Once CPUs allocate concurrently, a drain of
// another CPU's cache must become a request that CPU serves (an IPI), as Linux's drain_all_pages does.
//
// Double free: a frame freed into a cache is not seen by the shared allocator until it is drained, so the
// front checks the cache itself: a free of the frame on top of the stack (the common case: the same frame
// twice in a row) costs one compare on the fast path, and the slow path scans the whole cache. A double free
// that slips past both is still caught by the shared allocator when the cache is drained.
//
// Lock: a SlabLock-like object with lock()/unlock() (a spinlock in the kernel, std::mutex on the host). It
// guards the shared allocator only. Nothing is called with it held but the shared allocator.
#pragma once

#include "libc/base/Assert.h"
#include "libc/base/Error.h"
#include "libc/base/Span.h"
#include "mm/frame/FrameAllocator.h"
#include "mm/frame/FrameCache.h"

template <typename Lock>
class FrameCacheFront {
public:
    MNEME_NONCOPYABLE(FrameCacheFront);
    MNEME_NONMOVABLE(FrameCacheFront);

    FrameCacheFront(FrameAllocator& shared, Lock& lock, Span<FrameCache> caches)
        : m_shared(shared), m_lock(lock), m_caches(caches), m_shared_free(shared.free_frames()) {}

    // Frames added to the shared allocator (what FrameAllocator::add_free_range does, under the lock).
    ErrorOr<u32> add_free_range(u64 start, u64 end) {
        Guard guard(m_lock);
        auto added = m_shared.add_free_range(start, end);
        if (!added.is_error()) changed_shared(static_cast<i32>(added.value()));
        return added;
    }

    FrameAllocator& shared() { return m_shared; }
    const FrameAllocator& shared() const { return m_shared; }
    u32 cache_count() const { return static_cast<u32>(m_caches.size()); }
    FrameCache& cache(u32 index) { return m_caches[index]; }
    const FrameCache& cache(u32 index) const { return m_caches[index]; }

    [[gnu::always_inline]] ErrorOr<u32> allocate(FrameCache& cache, unsigned order, Zone zone = Zone::Any) {
        u32 pfn;
        if (order == 0 && zone == Zone::Any && cache.pop(pfn)) [[likely]]
            return pfn;
        return allocate_slow(cache, order, zone);
    }

    [[gnu::always_inline]] void free(FrameCache& cache, u32 pfn, unsigned order) {
        if (order == 0 && pfn != cache.top() && cache.push(pfn)) [[likely]]
            return;
        free_slow(cache, pfn, order);
    }

    // Free memory: the shared allocator's, plus every cached frame. It is asked on every user page a
    // swapping kernel maps (the swapper's low watermark), so it takes no lock and adds no lists: the shared
    // allocator's count is kept here, updated under the lock by each call that moves frames in or out of it
    // (the buddy allocator itself keeps none, to keep its own paths short), and read as one word. With
    // other CPUs allocating it is a snapshot, as any count of free memory is the moment after.
    u32 free_frames() const { return __atomic_load_n(&m_shared_free, __ATOMIC_RELAXED) + cached_frames(); }
    // The shared allocator's count as the front keeps it equals the allocator's own (for the tests).
    bool shared_count_agrees() const {
        Guard guard(m_lock);
        return m_shared_free == m_shared.free_frames();
    }
    u32 cached_frames() const {
        u32 total = 0;
        for (const FrameCache& cache : m_caches) total += cache.count();
        return total;
    }

    // Every cached frame back to the shared allocator (a shortage, a view that wants the shared allocator's
    // exact state, a test). Returns how many frames went back.
    u32 drain_all() {
        u32 drained = 0;
        for (FrameCache& cache : m_caches) drained += drain(cache);
        return drained;
    }
    u32 drain(FrameCache& cache) {
        if (cache.is_empty()) return 0;
        Guard guard(m_lock);
        u32 drained = cache.count();
        while (!cache.is_empty()) m_shared.free(cache.take_newest(), 0);
        changed_shared(static_cast<i32>(drained));
        cache.count_drain();
        return drained;
    }

private:
    class Guard {
    public:
        explicit Guard(Lock& lock) : m_lock(lock) { m_lock.lock(); }
        ~Guard() { m_lock.unlock(); }
        MNEME_NONCOPYABLE(Guard);

    private:
        Lock& m_lock;
    };

    // Under the lock: the shared allocator gained (or lost) `frames`.
    void changed_shared(i32 frames) { __atomic_store_n(&m_shared_free, m_shared_free + frames, __ATOMIC_RELAXED); }
    ErrorOr<u32> allocate_shared(unsigned order, Zone zone) {
        auto block = m_shared.allocate(order, zone);
        if (!block.is_error()) changed_shared(-(i32{1} << order));
        return block;
    }

    [[gnu::noinline]] ErrorOr<u32> allocate_slow(FrameCache& cache, unsigned order, Zone zone) {
        if (order == 0 && zone == Zone::Any) {
            if (refill(cache)) return cache.take_newest();
        } else {
            Guard guard(m_lock);
            auto block = allocate_shared(order, zone);
            if (!block.is_error() || block.error() != Error::NoMemory) return block;
        }
        // A shortage: the frames sitting in caches are free memory too.
        drain_all();
        Guard guard(m_lock);
        return allocate_shared(order, zone);
    }

    // Up to kBatch frames under one lock; false if the shared allocator had none.
    bool refill(FrameCache& cache) {
        Guard guard(m_lock);
        while (cache.count() < FrameCache::kBatch) {
            auto frame = allocate_shared(0, Zone::Any);
            if (frame.is_error()) break;
            cache.put(frame.value());
        }
        if (cache.is_empty()) return false;
        cache.count_refill();
        return true;
    }

    [[gnu::noinline]] void free_slow(FrameCache& cache, u32 pfn, unsigned order) {
        if (order != 0) {
            Guard guard(m_lock);
            m_shared.free(pfn, order);
            changed_shared(i32{1} << order);
            return;
        }
        if (cache.contains(pfn))
            mneme_panic("bad free of frame 0x%llx: already free (double free: it is in this CPU's frame cache)",
                        static_cast<unsigned long long>(pfn_to_address(pfn)));
        // Full: the oldest half goes back, the warm half stays.
        {
            Guard guard(m_lock);
            cache.remove_oldest(FrameCache::kBatch, [&](u32 old) {
                m_shared.free(old, 0);
                changed_shared(1);
            });
        }
        cache.count_drain();
        cache.put(pfn);
    }

    FrameAllocator& m_shared;
    Lock& m_lock;
    Span<FrameCache> m_caches;
    u32 m_shared_free;  // m_shared.free_frames(), kept by the calls above (written under m_lock)
};
