// ThreadCache.cpp: refilling and flushing per-thread bins under the heap's lock (see ThreadCache.h).
#include "libc/malloc/ThreadCache.h"

#include "libc/malloc/Integrity.h"

namespace Malloc {

void* ThreadCache::refill(Bin& bin, unsigned size_class, Heap& heap, SpinLock& lock) {
    SegregatedAllocator::FreeBlock* list;
    size_t taken;
    {
        SpinLockGuard guard(lock);
        taken = heap.segregated().allocate_batch(size_class, list, limit(size_class) / 2);
    }
    if (taken == 0) return nullptr;
    SegregatedAllocator::FreeBlock* first = list;
    // The rest go in the bin, marked free so that a double free of one of them is caught.
    for (SegregatedAllocator::FreeBlock* block = first->next; block; block = block->next)
        block->canary = heap.segregated().canary_for(block);
    bin.head = first->next;
    bin.count = static_cast<u32>(taken - 1);
    first->canary = 0;
    return first;
}

bool ThreadCache::free(void* pointer, Heap& heap, SpinLock& lock) {
    SegregatedAllocator& segregated = heap.segregated();
    unsigned size_class = segregated.peek_class(pointer);
    if (size_class >= kClasses) return false;
    Bin& bin = m_bins[size_class];
    auto* block = static_cast<SegregatedAllocator::FreeBlock*>(pointer);
    uptr canary = segregated.canary_for(pointer);
    if (block->canary == canary) {
        for (SegregatedAllocator::FreeBlock* entry = bin.head; entry; entry = entry->next)
            if (entry == block) report_misuse("free", pointer, "double free: the block is already free");
        return false;  // maybe free in its page: the locked path searches there
    }
    block->next = bin.head;
    block->canary = canary;
    bin.head = block;
    if (++bin.count > limit(size_class)) {
        SpinLockGuard guard(lock);
        flush_bin(bin, limit(size_class) / 2, heap);
    }
    return true;
}

void ThreadCache::flush_bin(Bin& bin, u32 keep, Heap& heap) {
    while (bin.count > keep) {
        SegregatedAllocator::FreeBlock* block = bin.head;
        bin.head = block->next;
        --bin.count;
        heap.segregated().free_block(block);
    }
}

void* ThreadCache::allocate_shared(Heap& heap, SpinLock& lock, ThreadCache* cache, size_t size) {
    if (cache)
        if (void* block = cache->allocate(size, heap, lock)) return block;
    SpinLockGuard guard(lock);
    return heap.allocate(size);
}

void ThreadCache::free_shared(Heap& heap, SpinLock& lock, ThreadCache* cache, void* pointer) {
    if (!pointer) return;
    if (cache && cache->free(pointer, heap, lock)) return;
    SpinLockGuard guard(lock);
    heap.free(pointer);
}

void ThreadCache::flush(Heap& heap, SpinLock& lock) {
    SpinLockGuard guard(lock);
    for (Bin& bin : m_bins) flush_bin(bin, 0, heap);
}

}  // namespace Malloc
