// MallocThreadTest.cpp: one Heap shared by threads -- the SpinLock, and ThreadCaches in front of the
// segregated policy -- the way libmneme_malloc.so uses them in threaded programs.
//
// Threads allocate, fill, check and free blocks, and hand a share of them to the next thread, which frees
// them (so blocks cached by one thread go back through another's cache). At the end every cache is
// flushed and the heap must be empty and consistent.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "libc/malloc/Heap.h"
#include "libc/malloc/SpinLock.h"
#include "libc/malloc/ThreadCache.h"
#include "tests/host/MallocTestSupport.h"

using Malloc::Heap;
using Malloc::HeapOptions;
using Malloc::Policy;
using Malloc::SpinLock;
using Malloc::ThreadCache;

namespace {

constexpr int kThreads = 4;

struct Shared {
    Heap& heap;
    SpinLock lock;
    bool use_caches;
    std::mutex handoff_lock;
    std::vector<std::pair<unsigned char*, size_t>> handoff[kThreads];
    std::atomic<int> errors{0};
};

void* allocate(Shared& shared, ThreadCache& cache, size_t size) {
    return ThreadCache::allocate_shared(shared.heap, shared.lock, shared.use_caches ? &cache : nullptr, size);
}

void release(Shared& shared, ThreadCache& cache, void* block) {
    ThreadCache::free_shared(shared.heap, shared.lock, shared.use_caches ? &cache : nullptr, block);
}

void check_and_free(Shared& shared, ThreadCache& cache, unsigned char* block, size_t size) {
    for (size_t i = 0; i < size; ++i)
        if (block[i] != static_cast<unsigned char>(size + i)) {
            ++shared.errors;
            break;
        }
    release(shared, cache, block);
}

void worker(Shared& shared, int index) {
    ThreadCache cache{};
    std::mt19937 random(1000 + index);
    std::vector<std::pair<unsigned char*, size_t>> mine;
    for (int step = 0; step < 20000; ++step) {
        if (mine.size() < 200 && random() % 3 != 0) {
            size_t size = random() % 4 == 0 ? random() % 5000 : random() % 300;
            auto* block = static_cast<unsigned char*>(allocate(shared, cache, size));
            if (!block) {
                ++shared.errors;
                continue;
            }
            for (size_t i = 0; i < size; ++i) block[i] = static_cast<unsigned char>(size + i);
            mine.emplace_back(block, size);
        } else if (!mine.empty()) {
            size_t pick = random() % mine.size();
            auto [block, size] = mine[pick];
            mine[pick] = mine.back();
            mine.pop_back();
            if (random() % 4 == 0) {  // the next thread frees this one
                std::lock_guard guard(shared.handoff_lock);
                shared.handoff[(index + 1) % kThreads].emplace_back(block, size);
            } else {
                check_and_free(shared, cache, block, size);
            }
        }
        if (step % 64 == 0) {
            std::vector<std::pair<unsigned char*, size_t>> received;
            {
                std::lock_guard guard(shared.handoff_lock);
                received.swap(shared.handoff[index]);
            }
            for (auto [block, size] : received) check_and_free(shared, cache, block, size);
        }
    }
    for (auto [block, size] : mine) check_and_free(shared, cache, block, size);
    cache.flush(shared.heap, shared.lock);
}

void run_threads(Policy policy, bool use_caches) {
    MallocTest::TestMemorySource source;
    HeapOptions options;
    options.policy = policy;
    Heap heap(source, options);
    Shared shared{heap, {}, use_caches, {}, {}, {}};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) threads.emplace_back(worker, std::ref(shared), i);
    for (auto& thread : threads) thread.join();
    // Whatever is still in a handoff queue is freed here.
    ThreadCache cache{};
    for (auto& queue : shared.handoff)
        for (auto [block, size] : queue) check_and_free(shared, cache, block, size);
    cache.flush(heap, shared.lock);
    EXPECT_EQ(shared.errors.load(), 0);
    heap.check_invariants();
    EXPECT_EQ(heap.statistics().live_blocks, 0u);
}

}  // namespace

TEST(MallocThreads, SegregatedWithThreadCaches) { run_threads(Policy::Segregated, true); }
TEST(MallocThreads, SegregatedWithTheLockOnly) { run_threads(Policy::Segregated, false); }
TEST(MallocThreads, BestFitWithTheLock) { run_threads(Policy::Best, false); }
TEST(MallocThreads, BuddyWithTheLock) { run_threads(Policy::Buddy, false); }

TEST(MallocThreads, ThreadCacheCatchesDoubleFreeOfACachedBlock) {
    MallocTest::TestMemorySource source;
    Heap heap(source, HeapOptions{});
    SpinLock lock;
    ThreadCache cache{};
    void* block = cache.allocate(64, heap, lock);
    ASSERT_NE(block, nullptr);
    ASSERT_TRUE(cache.free(block, heap, lock));
    EXPECT_DEATH(cache.free(block, heap, lock), "malloc: free\\(0x[0-9a-f]+\\): double free");
}

TEST(MallocThreads, ThreadCacheRefusesWhatItCannotCache) {
    MallocTest::TestMemorySource source;
    Heap heap(source, HeapOptions{});
    SpinLock lock;
    ThreadCache cache{};
    EXPECT_EQ(cache.allocate(5000, heap, lock), nullptr);  // above 1 KiB: the caller locks the heap
    void* large = heap.allocate(5000);
    EXPECT_FALSE(cache.free(large, heap, lock));
    char foreign[64];
    EXPECT_FALSE(cache.free(foreign + 16, heap, lock));  // not a heap block: the locked path reports it
    heap.free(large);
    // Cached blocks count as in use until flushed.
    void* small = cache.allocate(100, heap, lock);
    ASSERT_TRUE(cache.free(small, heap, lock));
    EXPECT_GT(heap.statistics().live_blocks, 0u);
    cache.flush(heap, lock);
    EXPECT_EQ(heap.statistics().live_blocks, 0u);
    heap.check_invariants();
}
