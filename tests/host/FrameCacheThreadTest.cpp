// FrameCacheThreadTest.cpp: the per-CPU frame caches on real threads, one cache per thread (a thread plays
// a CPU) in front of one buddy allocator under a std::mutex, as the kernel puts them in front of the buddy
// under a spinlock. Frames also move between threads and are freed on another "CPU" than the one that
// allocated them. Built into build/host/mneme-tests (ASan) and, alone, under ThreadSanitizer
// (`make tsan-tests`), which checks that the caches need no lock: each is touched by its own thread only.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "mm/frame/BuddyAllocator.h"
#include "mm/frame/FrameCacheFront.h"

namespace {

constexpr u32 kFrames = 2048;
constexpr unsigned kThreads = 4;

TEST(FrameCacheThreads, FourCpusAllocateAndFreeAcrossEachOtherWithoutLosingAFrame) {
    std::vector<FrameDescriptor> descriptors(kFrames);
    BuddyAllocator buddy(Span<FrameDescriptor>(descriptors.data(), kFrames), 0);
    ASSERT_EQ(buddy.add_free_range(0, u64(kFrames) * kFrameSize).value(), kFrames);
    std::mutex lock;
    FrameCache caches[kThreads];
    FrameCacheFront<std::mutex> front(buddy, lock, Span<FrameCache>(caches, kThreads));

    // Who holds each frame: a frame handed to two threads at once would be caught by the exchange.
    std::vector<std::atomic<int>> owner(kFrames);
    for (auto& o : owner) o.store(-1);
    std::atomic<u32> duplicates{0};
    // Frames passed from one thread to the next, to be freed there.
    std::mutex handoff_lock;
    std::vector<u32> handoff;

    auto cpu = [&](unsigned id) {
        FrameCache& cache = caches[id];
        std::vector<u32> mine;
        u32 seed = 7 + id;
        auto next = [&] { return seed = seed * 1103515245 + 12345, (seed >> 16) & 0x7fff; };
        auto release = [&](u32 pfn) {
            owner[pfn].store(-1);
            front.free(cache, pfn, 0);
        };
        for (int step = 0; step < 20000; ++step) {
            unsigned action = next() % 8;
            if (action < 4 && mine.size() < 200) {
                auto frame = front.allocate(cache, 0);
                if (frame.is_error()) continue;
                if (owner[frame.value()].exchange(static_cast<int>(id)) != -1) ++duplicates;
                mine.push_back(frame.value());
            } else if (action < 6 && !mine.empty()) {
                release(mine.back());
                mine.pop_back();
            } else if (action == 6 && !mine.empty()) {
                std::lock_guard<std::mutex> guard(handoff_lock);
                handoff.push_back(mine.back());
                mine.pop_back();
            } else {
                u32 pfn = kNoFrame;
                {
                    std::lock_guard<std::mutex> guard(handoff_lock);
                    if (!handoff.empty()) {
                        pfn = handoff.back();
                        handoff.pop_back();
                    }
                }
                if (pfn != kNoFrame) release(pfn);  // freed on another CPU than the one that allocated it
            }
        }
        for (u32 pfn : mine) release(pfn);
    };
    std::vector<std::thread> threads;
    for (unsigned id = 0; id < kThreads; ++id) threads.emplace_back(cpu, id);
    for (auto& t : threads) t.join();

    EXPECT_EQ(duplicates.load(), 0u);
    for (u32 pfn : handoff) front.free(caches[0], pfn, 0);
    EXPECT_EQ(front.free_frames(), kFrames);  // the cached frames count as free
    EXPECT_TRUE(front.shared_count_agrees());  // the count free_frames() reads without the lock
    front.drain_all();
    EXPECT_EQ(front.cached_frames(), 0u);
    EXPECT_EQ(buddy.free_frames(), kFrames);
    EXPECT_TRUE(buddy.check_invariants());
    u32 refills = 0;
    for (const FrameCache& cache : caches) refills += cache.counters().refills;
    EXPECT_GT(refills, 0u);
}

}  // namespace
