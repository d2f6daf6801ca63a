// SlabMagazineThreadTest.cpp: the kernel heap's per-CPU magazines on real threads, one CPU index per thread,
// in front of slab caches under a std::mutex (the kernel: interrupts off, under the big kernel lock). Objects
// also move between threads and are freed on another "CPU" than the one that allocated them. Built into
// build/host/mneme-tests (ASan) and, with the frame caches' thread test, under ThreadSanitizer
// (`make tsan-tests`), which checks that the magazines need no lock: each is touched by its own thread only.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "mm/heap/KernelHeap.h"
#include "tests/host/SlabTestSupport.h"

namespace {

constexpr u32 kThreads = 4;
using Heap = KernelHeap<HostPageSource, MutexLock, kThreads>;

// An object as handed out: its first word says which thread holds it and the rest carry a pattern, so an
// object handed to two threads at once, or written by the heap while held, shows up.
struct Held {
    u32* object;
    u32 words;
    u32 stamp;
    bool named;  // from the named cache, not kmalloc
};

void stamp(const Held& held) {
    for (u32 i = 0; i < held.words; ++i) held.object[i] = held.stamp + i;
}
bool intact(const Held& held) {
    for (u32 i = 0; i < held.words; ++i)
        if (held.object[i] != held.stamp + i) return false;
    return true;
}

TEST(SlabMagazineThreads, FourCpusAllocateAndFreeAcrossEachOtherWithoutLosingAnObject) {
    HostPageSource source;
    Heap heap(source, false);
    Heap::Cache* named = heap.create_cache({.name = "thread-objects", .object_size = 48}).value();
    std::atomic<u32> corrupted{0};
    std::mutex handoff_lock;
    std::vector<Held> handoff;  // objects passed on, to be freed by whichever thread takes them
    std::atomic<u32> next_stamp{1};

    auto cpu = [&](u32 id) {
        std::vector<Held> mine;
        u32 seed = 11 + id;
        auto next = [&] { return seed = seed * 1103515245 + 12345, (seed >> 16) & 0x7fff; };
        auto release = [&](const Held& held) {
            if (!intact(held)) ++corrupted;
            if (held.named)
                heap.cache_deallocate(*named, held.object, nullptr, id);
            else
                heap.deallocate(held.object, nullptr, id);
        };
        for (int step = 0; step < 20000; ++step) {
            u32 action = next() % 8;
            if (action < 4 && mine.size() < 300) {
                bool from_named = next() % 4 == 0;
                u32 bytes = from_named ? 48 : 8 + next() % 300;
                void* object = from_named ? heap.cache_allocate(*named, nullptr, id) : heap.allocate(bytes, nullptr, id);
                ASSERT_NE(object, nullptr);
                Held held{static_cast<u32*>(object), from_named ? 12 : bytes / 4, next_stamp.fetch_add(1000), from_named};
                stamp(held);
                mine.push_back(held);
            } else if (action < 6 && !mine.empty()) {
                release(mine.back());
                mine.pop_back();
            } else if (action == 6 && !mine.empty()) {
                std::lock_guard<std::mutex> guard(handoff_lock);
                handoff.push_back(mine.back());
                mine.pop_back();
            } else {
                Held taken{};
                {
                    std::lock_guard<std::mutex> guard(handoff_lock);
                    if (handoff.empty()) continue;
                    taken = handoff.back();
                    handoff.pop_back();
                }
                release(taken);
            }
        }
        for (const Held& held : mine) release(held);
    };

    std::vector<std::thread> threads;
    for (u32 id = 0; id < kThreads; ++id) threads.emplace_back(cpu, id);
    for (std::thread& thread : threads) thread.join();
    for (const Held& held : handoff) {
        if (!intact(held)) ++corrupted;
        if (held.named)
            heap.cache_deallocate(*named, held.object, nullptr, 0);
        else
            heap.deallocate(held.object, nullptr, 0);
    }

    EXPECT_EQ(corrupted.load(), 0u) << "an object was handed out twice, or written while held";
    EXPECT_TRUE(heap.check_invariants());
    heap.destroy_cache(named);  // after which not even its descriptor is in use
    size_t in_use = 0;
    heap.for_each_cache([&](Heap::Cache& cache) { in_use += cache.statistics().objects_in_use; });
    EXPECT_EQ(in_use, 0u);
    heap.shrink();
    EXPECT_EQ(source.pages_in_use(), 0u) << "every slab went back once every CPU's magazines were flushed";
}

}  // namespace
