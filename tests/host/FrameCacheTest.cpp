// FrameCacheTest.cpp: the per-CPU frame caches (mm/frame/FrameCache.h, FrameCacheFront.h) in front of a
// real buddy allocator: refill a batch when empty, give back half when full, drain everything on a shortage
// and for the counts, higher orders and the DMA zone straight to the buddy, no frame lost or counted twice,
// double frees caught. The threaded runs are in FrameCacheThreadTest.cpp (also built under TSan).
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "mm/frame/BuddyAllocator.h"
#include "mm/frame/FrameCacheFront.h"

namespace {

struct NoLock {
    void lock() {}
    void unlock() {}
};

// A buddy over `frames` frames from pfn 0 (the DMA zone), with two CPU caches in front.
struct Fixture {
    explicit Fixture(u32 frames) : descriptors(frames), buddy(Span<FrameDescriptor>(descriptors.data(), frames), 0) {
        EXPECT_EQ(front.add_free_range(0, u64(frames) * kFrameSize).value(),
                  frames);  // through the front, which counts them
    }
    std::vector<FrameDescriptor> descriptors;
    BuddyAllocator buddy;
    NoLock lock;
    FrameCache caches[2];
    FrameCacheFront<NoLock> front{buddy, lock, Span<FrameCache>(caches, 2)};
};

TEST(FrameCache, AnEmptyCacheRefillsABatchAndServesTheRestFromItself) {
    Fixture f(1024);
    u32 first = f.front.allocate(f.caches[0], 0).value();
    EXPECT_EQ(f.caches[0].count(), FrameCache::kBatch - 1);
    EXPECT_EQ(f.caches[0].counters().refills, 1u);
    EXPECT_EQ(f.buddy.free_frames(), 1024 - FrameCache::kBatch);
    // The cached frames still count as free; only the one handed out does not.
    EXPECT_EQ(f.front.free_frames(), 1023u);
    std::set<u32> seen = {first};
    for (u32 i = 1; i < FrameCache::kBatch; ++i)
        EXPECT_TRUE(seen.insert(f.front.allocate(f.caches[0], 0).value()).second);
    EXPECT_EQ(f.caches[0].counters().hits, FrameCache::kBatch - 1);
    EXPECT_EQ(f.caches[0].counters().refills, 1u);
    EXPECT_TRUE(f.caches[0].is_empty());
    f.front.allocate(f.caches[0], 0).value();
    EXPECT_EQ(f.caches[0].counters().refills, 2u);
    EXPECT_TRUE(f.buddy.check_invariants());
}

TEST(FrameCache, AFullCacheGivesTheOldestHalfBack) {
    Fixture f(1024);
    std::vector<u32> frames;
    // Frames from CPU 0's side (the front is the only way in and out of the buddy once it stands before it).
    for (u32 i = 0; i < FrameCache::kCapacity + 1; ++i) frames.push_back(f.front.allocate(f.caches[0], 0).value());
    for (u32 i = 0; i < FrameCache::kCapacity; ++i) f.front.free(f.caches[1], frames[i], 0);
    EXPECT_TRUE(f.caches[1].is_full());
    EXPECT_EQ(f.caches[1].counters().drains, 0u);
    u32 buddy_free = f.buddy.free_frames();
    f.front.free(f.caches[1], frames.back(), 0);
    EXPECT_EQ(f.caches[1].count(), FrameCache::kCapacity - FrameCache::kBatch + 1);
    EXPECT_EQ(f.caches[1].counters().drains, 1u);
    EXPECT_EQ(f.buddy.free_frames(), buddy_free + FrameCache::kBatch);
    // The oldest went back: the first frames freed are free in the buddy, the last one is on top.
    // (the head of a free block, or a tail of one if it merged with its buddy: only single frames were taken)
    FrameState oldest = f.buddy.descriptor(frames[0]).state;
    EXPECT_TRUE(oldest == FrameState::Free || oldest == FrameState::Tail);
    EXPECT_FALSE(f.caches[1].contains(frames[0]));
    EXPECT_EQ(f.caches[1].top(), frames.back());
    EXPECT_EQ(f.front.free_frames(), 1024u);
    EXPECT_TRUE(f.buddy.check_invariants());
}

TEST(FrameCache, DrainAllReturnsEveryCachedFrameAndTheBuddyCoalescesBack) {
    Fixture f(1024);
    std::vector<u32> frames;
    for (int i = 0; i < 40; ++i) frames.push_back(f.front.allocate(f.caches[i % 2], 0).value());
    for (u32 pfn : frames) f.front.free(f.caches[pfn % 2], pfn, 0);
    EXPECT_GT(f.front.cached_frames(), 0u);
    EXPECT_EQ(f.front.free_frames(), 1024u);
    u32 cached = f.front.cached_frames();
    EXPECT_EQ(f.front.drain_all(), cached);
    EXPECT_EQ(f.front.cached_frames(), 0u);
    EXPECT_EQ(f.buddy.free_frames(), 1024u);
    EXPECT_EQ(f.buddy.free_blocks(10), 1u);  // one 4 MiB block again: nothing lost, nothing split
    EXPECT_TRUE(f.buddy.check_invariants());
}

TEST(FrameCache, HigherOrdersAndTheDmaZoneBypassTheCache) {
    Fixture f(1024);
    u32 block = f.front.allocate(f.caches[0], 3).value();
    EXPECT_EQ(block % 8, 0u);
    u32 dma = f.front.allocate(f.caches[0], 0, Zone::Dma).value();
    EXPECT_TRUE(f.caches[0].is_empty());
    EXPECT_EQ(f.buddy.free_frames(), 1024u - 9);
    f.front.free(f.caches[0], block, 3);
    EXPECT_TRUE(f.caches[0].is_empty());
    EXPECT_EQ(f.buddy.free_frames(), 1024u - 1);
    f.front.free(f.caches[0], dma, 0);  // a single frame goes to the cache, whichever zone it came from
    EXPECT_EQ(f.caches[0].count(), 1u);
    EXPECT_EQ(f.front.allocate(f.caches[0], kMaxOrder + 1).error(), Error::Invalid);
}

TEST(FrameCache, AShortageDrainsEveryCacheFirst) {
    Fixture f(64);
    // CPU 1 hoards frames in its cache; CPU 0 then takes everything else.
    std::vector<u32> hoard;
    for (int i = 0; i < 4; ++i) hoard.push_back(f.front.allocate(f.caches[1], 0).value());
    for (u32 pfn : hoard) f.front.free(f.caches[1], pfn, 0);
    EXPECT_EQ(f.caches[1].count(), FrameCache::kBatch);
    std::vector<u32> taken;
    while (true) {
        auto frame = f.front.allocate(f.caches[0], 0);
        if (frame.is_error()) {
            EXPECT_EQ(frame.error(), Error::NoMemory);
            break;
        }
        taken.push_back(frame.value());
    }
    EXPECT_EQ(taken.size(), 64u);  // every frame, CPU 1's cached ones included
    EXPECT_EQ(f.front.free_frames(), 0u);
    // A larger block after a shortage of single frames: CPU 0's cache is drained for it too.
    for (u32 pfn : taken) f.front.free(f.caches[0], pfn, 0);
    EXPECT_GT(f.caches[0].count(), 0u);
    EXPECT_EQ(f.front.allocate(f.caches[1], 6).value(), 0u);  // the whole 64-frame block
    EXPECT_EQ(f.front.cached_frames(), 0u);
    f.front.free(f.caches[1], 0, 6);
    EXPECT_EQ(f.buddy.free_frames(), 64u);
}

TEST(FrameCache, RandomTrafficOnTwoCachesNeverLosesOrDuplicatesAFrame) {
    Fixture f(512);
    std::set<u32> live;
    u32 seed = 12345;
    auto next = [&] { return seed = seed * 1103515245 + 12345, (seed >> 16) & 0x7fff; };
    for (int step = 0; step < 20000; ++step) {
        FrameCache& cache = f.caches[next() % 2];
        if (live.empty() || (next() % 3 != 0 && live.size() < 500)) {
            auto frame = f.front.allocate(cache, 0);
            if (frame.is_error()) continue;
            ASSERT_TRUE(live.insert(frame.value()).second) << "frame handed out twice";
        } else {
            auto it = live.begin();
            std::advance(it, next() % live.size());
            f.front.free(cache, *it, 0);
            live.erase(it);
        }
        ASSERT_EQ(f.front.free_frames() + live.size(), 512u);
        ASSERT_TRUE(f.front.shared_count_agrees());
    }
    for (u32 pfn : live) f.front.free(f.caches[0], pfn, 0);
    f.front.drain_all();
    EXPECT_EQ(f.buddy.free_frames(), 512u);
    EXPECT_TRUE(f.buddy.check_invariants());
}

// free_frames() reads the shared allocator's count as the front keeps it, without the lock and without
// asking the buddy: every path that moves frames in or out of the buddy must keep that count right.
TEST(FrameCache, TheFrontsCountOfTheSharedFramesFollowsEveryPath) {
    Fixture f(256);
    auto agrees = [&] {
        return f.front.shared_count_agrees() &&
               f.front.free_frames() == f.buddy.free_frames() + f.front.cached_frames();
    };
    u32 single = f.front.allocate(f.caches[0], 0).value();  // a refill
    EXPECT_TRUE(agrees());
    u32 block = f.front.allocate(f.caches[0], 3).value();  // straight from the buddy
    EXPECT_TRUE(agrees());
    u32 dma = f.front.allocate(f.caches[1], 0, Zone::Dma).value();
    EXPECT_TRUE(agrees());
    f.front.free(f.caches[0], block, 3);
    f.front.free(f.caches[1], dma, 0);
    f.front.free(f.caches[0], single, 0);
    EXPECT_TRUE(agrees());
    std::vector<u32> frames;  // enough to fill a cache and give half back
    for (u32 i = 0; i < FrameCache::kCapacity + 4; ++i) frames.push_back(f.front.allocate(f.caches[0], 0).value());
    for (u32 pfn : frames) f.front.free(f.caches[1], pfn, 0);
    EXPECT_GT(f.caches[1].counters().drains, 0u);
    EXPECT_TRUE(agrees());
    f.front.drain_all();
    EXPECT_TRUE(agrees());
    EXPECT_EQ(f.front.free_frames(), 256u);
    frames.clear();  // a shortage: every cache drained on the way
    while (true) {
        auto frame = f.front.allocate(f.caches[frames.size() % 2], 0);
        if (frame.is_error()) break;
        frames.push_back(frame.value());
    }
    EXPECT_TRUE(agrees());
    EXPECT_EQ(f.front.free_frames(), 0u);
    for (u32 pfn : frames) f.front.free(f.caches[0], pfn, 0);
    EXPECT_TRUE(agrees());
    EXPECT_EQ(f.front.free_frames(), 256u);
}

TEST(FrameCacheDeathTest, ADoubleFreeIntoTheCacheIsCaught) {
    Fixture f(64);
    u32 a = f.front.allocate(f.caches[0], 0).value();
    u32 b = f.front.allocate(f.caches[0], 0).value();
    f.front.free(f.caches[0], a, 0);
    // The same frame twice in a row: it is on top of the stack.
    EXPECT_DEATH(f.front.free(f.caches[0], a, 0), "bad free of frame 0x[0-9a-f]+: already free \\(double free");
    // Deeper in the cache the fast path does not look (it would cost a scan per free); the slow path, taken
    // when the cache is full, scans it.
    f.front.free(f.caches[0], b, 0);
    while (!f.caches[0].is_full()) f.front.free(f.caches[0], f.front.allocate(f.caches[1], 0).value(), 0);
    EXPECT_DEATH(f.front.free(f.caches[0], a, 0), "already free \\(double free: it is in this CPU's frame cache");
}

TEST(FrameCacheDeathTest, ADoubleFreeThatReachesTheBuddyIsCaughtThere) {
    Fixture f(64);
    u32 a = f.front.allocate(f.caches[0], 0).value();
    f.front.free(f.caches[0], a, 0);
    f.front.drain_all();
    EXPECT_DEATH(
        {
            f.front.free(f.caches[0], a, 0);
            f.front.drain_all();
        },
        "bad free of frame 0x[0-9a-f]+: .*double free");
}

}  // namespace
