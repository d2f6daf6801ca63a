// BitmapAllocatorTest.cpp: the bitmap allocator on hand-made memory maps, first fit and alignment, the
// adjacency problem it cannot see, exhaustion and zones, every misuse it can detect as a death test,
// corruption caught by check_invariants(). The randomized model-based runs, which demand exactly the first
// fit, are in FrameAllocatorContractTest.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mm/frame/BitmapAllocator.h"
#include "tests/host/FrameAllocModel.h"

using namespace frame_alloc_test;

namespace {

constexpr u64 kPage = kFrameSize;
using Runs = std::vector<std::pair<u32, u32>>;

TEST(BitmapAllocator, TwoBitsPerFrame) {
    EXPECT_EQ(BitmapAllocator::words_needed(0), 0u);
    EXPECT_EQ(BitmapAllocator::words_needed(1), 2u);
    EXPECT_EQ(BitmapAllocator::words_needed(32), 2u);
    EXPECT_EQ(BitmapAllocator::words_needed(33), 4u);
}

struct InitCase {
    const char* name;
    u32 first_pfn;
    u32 end_pfn;
    std::vector<std::pair<u64, u64>> ranges;
    Runs expected;  // (pfn, count)
};

TEST(BitmapAllocator, AddFreeRangeRoundsInwardAndClips) {
    const InitCase cases[] = {
        {"one range", 0, 1024, {{0, 4 * MiB}}, {{0, 1024}}},
        {"unaligned byte addresses round inward", 0, 64, {{0x1234, 0x9000}}, {{2, 7}}},
        {"less than a frame", 0, 64, {{0x1001, 0x2fff}}, {}},
        {"empty and reversed ranges", 0, 64, {{0x5000, 0x5000}, {0x9000, 0x8000}}, {}},
        {"holes", 0, 2048, {{0, 0x9fc00}, {0x100000, 0x800000}}, {{0, 159}, {256, 1792}}},
        {"adjacent ranges form one run", 0, 64, {{0, 5 * kPage}, {5 * kPage, 9 * kPage}}, {{0, 9}}},
        {"clipped to the bitmap", 256, 300, {{0, 4 * MiB}}, {{256, 44}}},
        {"odd first pfn, frame count not a multiple of 32", 3, 70, {{0, 1 * MiB}}, {{3, 67}}},
    };
    for (const InitCase& c : cases) {
        SCOPED_TRACE(c.name);
        OwnedBitmap bitmap(c.first_pfn, c.end_pfn);
        u32 added = 0;
        for (auto [start, end] : c.ranges) added += bitmap.allocator.add_free_range(start, end).value();
        EXPECT_EQ(free_runs_of(bitmap.allocator), c.expected);
        u32 expected_frames = 0;
        for (auto [pfn, count] : c.expected) expected_frames += count;
        EXPECT_EQ(added, expected_frames);
        EXPECT_EQ(bitmap.allocator.total_frames(), expected_frames);
        EXPECT_EQ(bitmap.allocator.free_frames(), expected_frames);
        EXPECT_EQ(invariants(bitmap.allocator), "");
    }
}

TEST(BitmapAllocator, FirstFitWithAlignmentForOrders) {
    OwnedBitmap bitmap(0, 64);
    BitmapAllocator& allocator = bitmap.allocator;
    ASSERT_FALSE(allocator.add_free_range(0, 64 * kPage).is_error());
    EXPECT_EQ(allocator.allocate_run(3).value(), 0u);   // 0..2
    EXPECT_EQ(allocator.allocate(0).value(), 3u);       // 3
    EXPECT_EQ(allocator.allocate(2).value(), 4u);       // 4..7, aligned to 4
    EXPECT_EQ(allocator.allocate_run(1).value(), 8u);   // 8
    EXPECT_EQ(allocator.allocate(3).value(), 16u);      // 16..23: 8 is taken, so the next multiple of 8
    EXPECT_EQ(allocator.allocate_run(5).value(), 9u);   // 9..13: first fit goes back to the hole
    EXPECT_EQ(allocator.allocate_run(3).value(), 24u);  // 14..15 is too small
    EXPECT_EQ(allocator.allocate(1).value(), 14u);      // but fits an aligned order-1 block
    allocator.free_run(0, 3);
    EXPECT_EQ(allocator.allocate(1).value(), 0u);  // the hint went back down
    EXPECT_EQ(allocator.allocate_run(1).value(), 2u);
    EXPECT_EQ(allocator.free_frames(), 64u - 27u);
    EXPECT_EQ(invariants(allocator), "");
}

// The adjacency problem: two adjacent allocations are one run of 1 bits, so a free with too large a count
// releases the neighbour's frames and nothing notices. This test pins the weakness down as documented.
TEST(BitmapAllocator, AdjacencyProblemIsUndetectable) {
    OwnedBitmap bitmap(0, 64);
    BitmapAllocator& allocator = bitmap.allocator;
    ASSERT_FALSE(allocator.add_free_range(0, 64 * kPage).is_error());
    u32 a = allocator.allocate_run(2).value();
    u32 b = allocator.allocate_run(2).value();
    ASSERT_EQ(b, a + 2);
    allocator.free_run(a, 4);  // wrong count: should be 2
    EXPECT_TRUE(allocator.is_free(b));
    EXPECT_TRUE(allocator.is_free(b + 1));
    EXPECT_EQ(invariants(allocator), "");  // the map is consistent, just wrong
    // The owner of b finds out only when it frees, and the panic blames b's innocent owner.
    EXPECT_DEATH(allocator.free_run(b, 2), "bad free of frame 0x2000 \\(run of 2 frames\\): already free");
}

TEST(BitmapAllocator, ExhaustionIsAnErrorNotACrash) {
    OwnedBitmap bitmap(0, 64);
    BitmapAllocator& allocator = bitmap.allocator;
    ASSERT_FALSE(allocator.add_free_range(0, 64 * kPage).is_error());
    EXPECT_EQ(allocator.allocate_run(65).error(), Error::NoMemory);
    EXPECT_EQ(allocator.allocate_run(0).error(), Error::Invalid);
    EXPECT_EQ(allocator.allocate(kMaxOrder + 1).error(), Error::Invalid);
    EXPECT_EQ(allocator.allocate(7).error(), Error::NoMemory);  // 128 frames > 64
    for (u32 pfn = 0; pfn < 64; ++pfn) EXPECT_EQ(allocator.allocate(0).value(), pfn);
    EXPECT_EQ(allocator.allocate(0).error(), Error::NoMemory);
    EXPECT_EQ(allocator.allocate_run(1).error(), Error::NoMemory);
    for (u32 pfn = 0; pfn < 64; pfn += 2) allocator.free(pfn, 0);
    EXPECT_EQ(allocator.free_frames(), 32u);
    EXPECT_EQ(allocator.allocate_run(2).error(), Error::NoMemory);  // external fragmentation
    EXPECT_EQ(allocator.allocate(0).value(), 0u);
    EXPECT_EQ(invariants(allocator), "");
}

TEST(BitmapAllocator, ZonesPreferHighMemory) {
    // 15 MiB to 17 MiB: 256 frames on each side of the DMA limit.
    OwnedBitmap bitmap(3840, 4352);
    BitmapAllocator& allocator = bitmap.allocator;
    ASSERT_FALSE(allocator.add_free_range(15 * MiB, 17 * MiB).is_error());
    EXPECT_EQ(allocator.allocate(0).value(), kDmaLimitPfn);
    EXPECT_EQ(allocator.allocate(0, Zone::Dma).value(), 3840u);
    EXPECT_EQ(allocator.allocate_run(300, Zone::Dma).error(), Error::NoMemory);
    // 300 frames fit neither above 16 MiB (256 frames) nor below (255 free); the only run straddles the
    // limit, which Zone::Any accepts for runs.
    allocator.free(kDmaLimitPfn, 0);
    EXPECT_EQ(allocator.allocate_run(300).value(), 3841u);
    EXPECT_EQ(allocator.allocate(8, Zone::Any).error(), Error::NoMemory);
    EXPECT_EQ(invariants(allocator), "");
}

TEST(BitmapAllocator, DumpListsFreeRuns) {
    OwnedBitmap bitmap(0, 64);
    ASSERT_FALSE(bitmap.allocator.add_free_range(0, 64 * kPage).is_error());
    ASSERT_EQ(bitmap.allocator.allocate_run(4).value(), 0u);
    std::string text;
    bitmap.allocator.dump(string_sink, &text);
    EXPECT_NE(text.find("bitmap: 60 of 64 frames free (240 of 256 KiB) in 1 runs, the largest 60 frames"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("  0x00004000-0x0003ffff       60 frames"), std::string::npos) << text;
}

struct MisuseSetup {
    // Descriptors for 64 frames, only 0..31 managed; 0..3 allocated as order 2.
    OwnedBitmap bitmap{0, 64};
    MisuseSetup() {
        VERIFY(!bitmap.allocator.add_free_range(0, 32 * kPage).is_error());
        VERIFY(bitmap.allocator.allocate(2).value() == 0);
    }
};

TEST(BitmapAllocatorDeathTest, DoubleFree) {
    MisuseSetup s;
    s.bitmap.allocator.free(0, 2);
    EXPECT_DEATH(s.bitmap.allocator.free(0, 2), "bad free of frame 0x0 \\(run of 4 frames\\): already free");
}

TEST(BitmapAllocatorDeathTest, FreeOfAFrameNeverAllocated) {
    MisuseSetup s;
    EXPECT_DEATH(s.bitmap.allocator.free(9, 0), "bad free of frame 0x9000 \\(run of 1 frames\\): already free");
    // A run that is partly allocated names its first free frame.
    EXPECT_DEATH(s.bitmap.allocator.free_run(2, 5), "bad free of frame 0x4000 \\(run of 5 frames\\): already free");
}

TEST(BitmapAllocatorDeathTest, FreeOfAHole) {
    MisuseSetup s;
    EXPECT_DEATH(s.bitmap.allocator.free_run(40, 1), "bad free of frame 0x28000 \\(run of 1 frames\\): never handed");
}

TEST(BitmapAllocatorDeathTest, FreeOutsideTheAllocator) {
    MisuseSetup s;
    EXPECT_DEATH(s.bitmap.allocator.free_run(64, 1), "bad free of frame 0x40000 .*: outside");
    EXPECT_DEATH(s.bitmap.allocator.free_run(60, 8), "bad free of frame 0x3c000 .*: outside");
}

TEST(BitmapAllocatorDeathTest, WrongOrderOrCount) {
    MisuseSetup s;
    // Order 2 at frame 2 cannot have come from allocate(2): not aligned.
    EXPECT_DEATH(s.bitmap.allocator.free(2, 2), "bad free of frame 0x2000 .*: not aligned to its order");
    EXPECT_DEATH(s.bitmap.allocator.free(0, 11), "bad free of frame 0x0 .*: order above the maximum");
    EXPECT_DEATH(s.bitmap.allocator.free_run(0, 0), "bad free of frame 0x0 .*: empty run");
    // Too large an order is caught here only because the frames beyond are free (see the adjacency test).
    EXPECT_DEATH(s.bitmap.allocator.free(0, 3), "bad free of frame 0x4000 .*: already free");
}

TEST(BitmapAllocator, CheckInvariantsCatchesCorruption) {
    struct Corruption {
        const char* name;
        void (*corrupt)(std::vector<u32>& words);  // words[0..1]: used map, words[2..3]: managed map
        const char* message;
    };
    const Corruption corruptions[] = {
        {"a hole is marked free", [](std::vector<u32>& w) { w[1] &= ~1u; }, "unmanaged frame near pfn 0x20"},
        {"an allocated frame is marked free", [](std::vector<u32>& w) { w[0] &= ~1u; },
         "zero bits, free_frames() says"},
        {"a hole is marked managed", [](std::vector<u32>& w) { w[3] |= 1u; }, "managed frames, total_frames() says"},
        {"a free frame appears below the hint",
         [](std::vector<u32>& w) {
             w[0] &= ~(1u << 3);  // frame 3 becomes free, below the hint (10)...
             w[0] |= 1u << 20;    // ...and frame 20 used, so the counts still agree
         },
         "free frame 0x3000 lies below the hint"},
    };
    for (const Corruption& c : corruptions) {
        SCOPED_TRACE(c.name);
        OwnedBitmap bitmap(0, 64);
        ASSERT_EQ(bitmap.words.size(), 4u);
        ASSERT_FALSE(bitmap.allocator.add_free_range(0, 32 * kPage).is_error());
        ASSERT_EQ(bitmap.allocator.allocate_run(10).value(), 0u);
        ASSERT_EQ(invariants(bitmap.allocator), "");
        c.corrupt(bitmap.words);
        std::string message = invariants(bitmap.allocator);
        EXPECT_NE(message.find(c.message), std::string::npos) << message;
    }
}

TEST(BitmapAllocator, CheckInvariantsCatchesFreedPadding) {
    OwnedBitmap bitmap(0, 40);  // frames 40..63 of the second word are padding
    ASSERT_FALSE(bitmap.allocator.add_free_range(0, 40 * kPage).is_error());
    bitmap.words[1] &= ~(1u << 31);  // padding marked free
    std::string message = invariants(bitmap.allocator);
    EXPECT_NE(message.find("unmanaged frame near pfn 0x20"), std::string::npos) << message;
    bitmap.words[1] |= 1u << 31;
    bitmap.words[3] |= 1u << 31;  // padding marked managed
    message = invariants(bitmap.allocator);
    EXPECT_NE(message.find("padding bits past the last frame"), std::string::npos) << message;
}

}  // namespace
