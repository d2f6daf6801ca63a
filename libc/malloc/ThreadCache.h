// ThreadCache.h: a per-thread stash of free small blocks in front of a shared segregated Heap.
//
// With threads, every Heap call must hold the heap's SpinLock. A thread cache keeps free blocks of the
// small size classes (requests up to 1 KiB) in singly-linked bins that only its thread touches, so most
// malloc/free calls take no lock; the lock is taken once per batch to refill an empty bin or to flush half
// of a full one (the scheme of tcmalloc's and glibc's tcache). A bin holds up to kBinBytes (at least
// kMinBlocks, at most kMaxBlocks blocks), so a thread's cache stays under about 32 bins x 24 KiB.
//
// Blocks in a cache count as in use for the heap. free() finds a block's class from its page descriptor
// without the lock: a page with a live block on it cannot change class or be released, so its descriptor
// is stable while we read it. A cached block carries the heap's free canary, so freeing it again is caught
// when the block is still in this thread's cache (a block cached by another thread is beyond a cheap
// check). Used only with the segregated policy; the teaching policies take the lock on every call.
//
// The object is plain data (all zeros is the empty cache), so it can live in a thread_local without a
// constructor; flush() must run before the thread goes away (the host shim uses a pthread key destructor).
#pragma once

#include "libc/base/Types.h"
#include "libc/malloc/Heap.h"
#include "libc/malloc/SizeClasses.h"
#include "libc/malloc/SpinLock.h"

namespace Malloc {

class ThreadCache {
public:
    static constexpr unsigned kClasses = kSizeClasses.table[SizeClasses::kTableMax / 16] + 1;  // up to 1 KiB
    static constexpr u32 kBinBytes = 24 * KiB;
    static constexpr u32 kMinBlocks = 24;
    static constexpr u32 kMaxBlocks = 96;
    static constexpr u32 limit(unsigned size_class) {
        u32 blocks = kBinBytes / kSizeClasses.size[size_class];
        return blocks < kMinBlocks ? kMinBlocks : blocks > kMaxBlocks ? kMaxBlocks : blocks;
    }

    // nullptr: not a cached size, or the heap is out of memory -- the caller then allocates under the lock.
    void* allocate(size_t size, Heap& heap, SpinLock& lock) {
        if (size > SizeClasses::kTableMax) return nullptr;
        Bin& bin = m_bins[kSizeClasses.table[(size + 15) >> 4]];
        SegregatedAllocator::FreeBlock* block = bin.head;
        if (!block) [[unlikely]]
            return refill(bin, kSizeClasses.table[(size + 15) >> 4], heap, lock);
        bin.head = block->next;
        --bin.count;
        block->canary = 0;
        return block;
    }

    // false: not a block of a cached class (or not a heap block at all) -- the caller frees it under the
    // lock, where misuse is reported.
    bool free(void* pointer, Heap& heap, SpinLock& lock);

    // Returns every cached block to the heap (thread exit, malloc_trim, malloc_stats).
    void flush(Heap& heap, SpinLock& lock);

    // malloc and free of a heap shared by threads: through `cache` when the caller has one (nullptr: no
    // cache, e.g. a teaching policy), else under `lock`.
    static void* allocate_shared(Heap& heap, SpinLock& lock, ThreadCache* cache, size_t size);
    static void free_shared(Heap& heap, SpinLock& lock, ThreadCache* cache, void* pointer);

private:
    struct Bin {
        SegregatedAllocator::FreeBlock* head;
        u32 count;
    };
    void* refill(Bin& bin, unsigned size_class, Heap& heap, SpinLock& lock);
    void flush_bin(Bin& bin, u32 keep, Heap& heap);

    Bin m_bins[kClasses];
};

}  // namespace Malloc
