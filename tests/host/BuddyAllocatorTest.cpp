// BuddyAllocatorTest.cpp: the buddy allocator on hand-made memory maps, a worked split/coalesce example,
// exhaustion and zones, every misuse as a death test, corruption caught by check_invariants(), and the
// kernel's path from a RangeSet. The randomized model-based runs are in FrameAllocatorContractTest.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "mm/frame/BuddyAllocator.h"
#include "mm/frame/RangeSet.h"
#include "tests/host/FrameAllocModel.h"

using namespace frame_alloc_test;

namespace {

constexpr u64 kPage = kFrameSize;
using Blocks = std::vector<std::pair<u32, unsigned>>;

TEST(BuddyAllocator, MetadataFitsTheBudget) {
    // 16 bytes per 4096-byte frame is 0.39%; the metadata budget is 0.4%.
    EXPECT_EQ(sizeof(FrameDescriptor), 16u);
    EXPECT_LE(sizeof(FrameDescriptor) * 1000, kFrameSize * 4);
    EXPECT_EQ(BuddyAllocator::descriptors_needed(256, 1280), 1024u);
    EXPECT_EQ(BuddyAllocator::descriptors_needed(5, 5), 0u);
}

struct InitCase {
    const char* name;
    u32 first_pfn;
    u32 end_pfn;
    std::vector<std::pair<u64, u64>> ranges;  // byte addresses, added in this order
    Blocks expected;                          // (pfn, order), sorted
};

TEST(BuddyAllocator, InitializationFreesMaximalAlignedBlocks) {
    const InitCase cases[] = {
        {"one 4 MiB block", 0, 1024, {{0, 4 * MiB}}, {{0, 10}}},
        {"unaligned byte addresses round inward", 0, 64, {{0x1234, 0x9000}}, {{2, 1}, {4, 2}, {8, 0}}},
        {"odd run of frames", 0, 64, {{1 * kPage, 7 * kPage}}, {{1, 0}, {2, 1}, {4, 1}, {6, 0}}},
        {"less than a frame", 0, 64, {{0x1001, 0x2fff}}, {}},
        {"exactly one frame", 0, 64, {{0x5000, 0x6000}}, {{5, 0}}},
        {"empty and reversed ranges", 0, 64, {{0x5000, 0x5000}, {0x9000, 0x8000}}, {}},
        {"PC map: 639 KiB low memory, then 1 MiB to 8 MiB",
         0,
         2048,
         {{0, 0x9fc00}, {0x100000, 0x800000}},
         {{0, 7}, {128, 4}, {144, 3}, {152, 2}, {156, 1}, {158, 0}, {256, 8}, {512, 9}, {1024, 10}}},
        {"adjacent ranges added one by one coalesce", 0, 1024, {{0, 2 * MiB}, {2 * MiB, 4 * MiB}}, {{0, 10}}},
        {"adjacent ranges in reverse order coalesce", 0, 1024, {{2 * MiB, 4 * MiB}, {0, 2 * MiB}}, {{0, 10}}},
        {"frames added singly coalesce",
         0,
         8,
         {{0, kPage}, {2 * kPage, 3 * kPage}, {kPage, 2 * kPage}, {3 * kPage, 8 * kPage}},
         {{0, 3}}},
        {"holes between tiny ranges",
         0,
         16,
         {{0, kPage}, {2 * kPage, 3 * kPage}, {5 * kPage, 8 * kPage}},
         {{0, 0}, {2, 0}, {5, 0}, {6, 1}}},
        {"15 MiB to 17 MiB: the blocks stop at the DMA limit",
         3072,
         5120,
         {{15 * MiB, 17 * MiB}},
         {{3840, 8}, {4096, 8}}},
        {"64 MiB: sixteen maximal blocks",
         0,
         16384,
         {{0, 64 * MiB}},
         {{0, 10},
          {1024, 10},
          {2048, 10},
          {3072, 10},
          {4096, 10},
          {5120, 10},
          {6144, 10},
          {7168, 10},
          {8192, 10},
          {9216, 10},
          {10240, 10},
          {11264, 10},
          {12288, 10},
          {13312, 10},
          {14336, 10},
          {15360, 10}}},
        {"a range larger than the descriptors is clipped", 256, 512, {{0, 4 * MiB}}, {{256, 8}}},
        {"descriptors starting at an odd pfn", 3, 20, {{0, 1 * MiB}}, {{3, 0}, {4, 2}, {8, 3}, {16, 2}}},
        {"memory far above 4 GiB (PAE)", 0x100000, 0x100400, {{0x100000000ull, 0x100400000ull}}, {{0x100000, 10}}},
    };
    for (const InitCase& c : cases) {
        SCOPED_TRACE(c.name);
        OwnedBuddy buddy(c.first_pfn, c.end_pfn);
        FrameAllocModel model(c.first_pfn, c.end_pfn);
        for (auto [start, end] : c.ranges) {
            auto added = buddy.allocator.add_free_range(start, end);
            ASSERT_FALSE(added.is_error());
            EXPECT_EQ(added.value(), model.add_range(start, end));
        }
        EXPECT_EQ(free_blocks_of(buddy.allocator), c.expected);
        u32 expected_frames = 0;
        for (auto [pfn, order] : c.expected) expected_frames += 1u << order;
        EXPECT_EQ(buddy.allocator.total_frames(), expected_frames);
        EXPECT_EQ(buddy.allocator.free_frames(), expected_frames);
        EXPECT_EQ(invariants(buddy.allocator), "");
    }
}

// The example drawn in docs/physical-memory.md: 16 frames, one block of order 4.
TEST(BuddyAllocator, SplitAndCoalesceWorkedExample) {
    OwnedBuddy buddy(0, 16);
    BuddyAllocator& allocator = buddy.allocator;
    ASSERT_FALSE(allocator.add_free_range(0, 16 * kPage).is_error());
    EXPECT_EQ(free_blocks_of(allocator), (Blocks{{0, 4}}));

    // Order 0 from an order-4 block: four splits, the upper halves 8, 4, 2, 1 stay free.
    EXPECT_EQ(allocator.allocate(0).value(), 0u);
    EXPECT_EQ(free_blocks_of(allocator), (Blocks{{1, 0}, {2, 1}, {4, 2}, {8, 3}}));
    // Order 1: the order-1 list has a block; no split.
    EXPECT_EQ(allocator.allocate(1).value(), 2u);
    EXPECT_EQ(free_blocks_of(allocator), (Blocks{{1, 0}, {4, 2}, {8, 3}}));
    // Order 0 again takes frame 1, the buddy of frame 0.
    EXPECT_EQ(allocator.allocate(0).value(), 1u);
    EXPECT_EQ(free_blocks_of(allocator), (Blocks{{4, 2}, {8, 3}}));
    EXPECT_EQ(invariants(allocator), "");

    // Free 0: its buddy 1 is allocated, no merge.
    allocator.free(0, 0);
    EXPECT_EQ(free_blocks_of(allocator), (Blocks{{0, 0}, {4, 2}, {8, 3}}));
    // Free 1: merges with 0 into order 1 at 0; its buddy 2 is allocated, stop.
    allocator.free(1, 0);
    EXPECT_EQ(free_blocks_of(allocator), (Blocks{{0, 1}, {4, 2}, {8, 3}}));
    // Free 2: merges with 0 (order 2), then 4 (order 3), then 8 (order 4).
    allocator.free(2, 1);
    EXPECT_EQ(free_blocks_of(allocator), (Blocks{{0, 4}}));
    EXPECT_EQ(invariants(allocator), "");
}

TEST(BuddyAllocator, AllocationSetsAndFreeClearsTheReferenceCount) {
    OwnedBuddy buddy(0, 64);
    ASSERT_FALSE(buddy.allocator.add_free_range(0, 64 * kPage).is_error());
    u32 pfn = buddy.allocator.allocate(2).value();
    EXPECT_EQ(buddy.allocator.descriptor(pfn).ref_count, 1u);
    EXPECT_EQ(buddy.allocator.descriptor(pfn).state, FrameState::Allocated);
    EXPECT_EQ(buddy.allocator.descriptor(pfn).order, 2u);
    EXPECT_EQ(buddy.allocator.descriptor(pfn + 1).state, FrameState::Tail);
    buddy.allocator.descriptor(pfn).ref_count = 3;  // the process layer shares the frame...
    buddy.allocator.descriptor(pfn).ref_count = 1;  // ...and drops the sharers again
    buddy.allocator.free(pfn, 2);
    EXPECT_EQ(buddy.allocator.descriptor(pfn).ref_count, 0u);
    EXPECT_EQ(invariants(buddy.allocator), "");
}

TEST(BuddyAllocator, ExhaustionIsAnErrorNotACrash) {
    OwnedBuddy buddy(0, 64);
    BuddyAllocator& allocator = buddy.allocator;
    ASSERT_FALSE(allocator.add_free_range(0, 64 * kPage).is_error());
    std::vector<u32> frames;
    for (int i = 0; i < 64; ++i) frames.push_back(allocator.allocate(0).value());
    EXPECT_EQ(allocator.free_frames(), 0u);
    for (unsigned order = 0; order <= kMaxOrder; ++order) {
        auto result = allocator.allocate(order);
        ASSERT_TRUE(result.is_error());
        EXPECT_EQ(result.error(), Error::NoMemory);
    }
    EXPECT_EQ(invariants(allocator), "");

    // External fragmentation: every other frame free is half of memory, yet no order-1 block.
    for (size_t i = 0; i < frames.size(); i += 2) allocator.free(frames[i], 0);
    EXPECT_EQ(allocator.free_frames(), 32u);
    EXPECT_EQ(allocator.free_blocks(0), 32u);
    EXPECT_EQ(allocator.allocate(1).error(), Error::NoMemory);
    EXPECT_FALSE(allocator.allocate(0).is_error());
    EXPECT_EQ(invariants(allocator), "");
}

TEST(BuddyAllocator, OrderAboveTheMaximumIsInvalid) {
    OwnedBuddy buddy(0, 2048);
    ASSERT_FALSE(buddy.allocator.add_free_range(0, 8 * MiB).is_error());
    auto result = buddy.allocator.allocate(kMaxOrder + 1);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error(), Error::Invalid);
    EXPECT_EQ(buddy.allocator.free_frames(), 2048u);
    EXPECT_EQ(buddy.allocator.allocate(kMaxOrder).value() % 1024, 0u);
}

TEST(BuddyAllocator, ZonesPreferHighMemoryAndKeepDmaForLast) {
    // 8 MiB to 24 MiB: 2048 frames below 16 MiB, 2048 above.
    OwnedBuddy buddy(2048, 6144);
    BuddyAllocator& allocator = buddy.allocator;
    ASSERT_FALSE(allocator.add_free_range(8 * MiB, 24 * MiB).is_error());
    EXPECT_EQ(allocator.free_dma_frames(), 2048u);
    EXPECT_EQ(allocator.free_dma_blocks(10), 2u);
    EXPECT_EQ(allocator.free_blocks(10), 4u);

    u32 high = allocator.allocate(0).value();
    EXPECT_GE(high, kDmaLimitPfn);
    EXPECT_LT(allocator.allocate(0, Zone::Dma).value(), kDmaLimitPfn);
    // Use up the rest above 16 MiB: 1023 order-1 blocks and the odd frame left by the first split.
    for (int i = 0; i < 1023; ++i) EXPECT_GE(allocator.allocate(1).value(), kDmaLimitPfn);
    EXPECT_GE(allocator.allocate(0).value(), kDmaLimitPfn);
    EXPECT_EQ(allocator.free_frames(), allocator.free_dma_frames());
    // Now Zone::Any falls back to DMA memory.
    EXPECT_LT(allocator.allocate(3).value(), kDmaLimitPfn);
    // Exhaust the DMA zone: Zone::Dma fails even after memory above is freed.
    while (!allocator.allocate(0, Zone::Dma).is_error()) {
    }
    EXPECT_EQ(allocator.free_frames(), 0u);
    allocator.free(high, 0);
    EXPECT_EQ(allocator.allocate(0, Zone::Dma).error(), Error::NoMemory);
    EXPECT_EQ(allocator.allocate(0).value(), high);
    EXPECT_EQ(invariants(allocator), "");
}

TEST(BuddyAllocator, OnlyHighMemoryMeansNoDma) {
    OwnedBuddy buddy(4096, 5120);
    ASSERT_FALSE(buddy.allocator.add_free_range(16 * MiB, 20 * MiB).is_error());
    EXPECT_EQ(buddy.allocator.allocate(0, Zone::Dma).error(), Error::NoMemory);
    EXPECT_EQ(buddy.allocator.allocate(0, Zone::Any).value(), 4096u);
}

TEST(BuddyAllocator, AddingMemoryLaterCoalescesWithFreeBuddies) {
    // The kernel may release reserved memory (an unpacked initrd module) after boot.
    OwnedBuddy buddy(0, 16);
    ASSERT_FALSE(buddy.allocator.add_free_range(0, 8 * kPage).is_error());
    u32 pfn = buddy.allocator.allocate(1).value();
    EXPECT_EQ(pfn, 0u);
    ASSERT_FALSE(buddy.allocator.add_free_range(8 * kPage, 16 * kPage).is_error());
    EXPECT_EQ(free_blocks_of(buddy.allocator), (Blocks{{2, 1}, {4, 2}, {8, 3}}));
    buddy.allocator.free(pfn, 1);
    EXPECT_EQ(free_blocks_of(buddy.allocator), (Blocks{{0, 4}}));
    EXPECT_EQ(invariants(buddy.allocator), "");
}

TEST(BuddyAllocator, DumpShowsOrdersAndFreeLists) {
    OwnedBuddy buddy(0, 2048);
    ASSERT_FALSE(buddy.allocator.add_free_range(0x1000, 8 * MiB).is_error());
    std::string text;
    buddy.allocator.dump(string_sink, &text);
    EXPECT_NE(text.find("buddy: 2047 of 2047 frames free (8188 of 8188 KiB), 2047 free below 16 MiB"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("   10     4 MiB           1                 0         1024"), std::string::npos) << text;
    EXPECT_NE(text.find("    0     4 KiB           1                 0            1"), std::string::npos) << text;

    text.clear();
    buddy.allocator.dump_free_lists(string_sink, &text, 2);
    EXPECT_NE(text.find("[ 0]    4 KiB dma    -> 0x00001000\n"), std::string::npos) << text;
    EXPECT_NE(text.find("[10]    4 MiB dma    -> 0x00400000\n"), std::string::npos) << text;
    EXPECT_NE(text.find("normal (empty)"), std::string::npos) << text;
}

TEST(BuddyAllocator, DumpFreeListsElidesLongLists) {
    OwnedBuddy buddy(0, 64);
    ASSERT_FALSE(buddy.allocator.add_free_range(0, 64 * kPage).is_error());
    std::vector<u32> frames;
    for (int i = 0; i < 64; ++i) frames.push_back(buddy.allocator.allocate(0).value());
    for (size_t i = 0; i < frames.size(); i += 2) buddy.allocator.free(frames[i], 0);
    std::string text;
    buddy.allocator.dump_free_lists(string_sink, &text, 3);
    EXPECT_NE(text.find("-> ... (29 more)"), std::string::npos) << text;
}

// Every misuse of free() panics and names the frame's address.
using BuddyAllocatorDeathTest = ::testing::Test;

struct MisuseSetup {
    // Descriptors for 64 frames, but only 0..31 managed: 32..63 are a hole.
    OwnedBuddy buddy{0, 64};
    u32 order0;  // frame 0, allocated with order 0
    u32 order2;  // frames 4..7, allocated with order 2; free: 1, 2..3, 8..15, 16..31
    MisuseSetup() {
        VERIFY(!buddy.allocator.add_free_range(0, 32 * kPage).is_error());
        order0 = buddy.allocator.allocate(0).value();
        order2 = buddy.allocator.allocate(2).value();
        VERIFY(order0 == 0 && order2 == 4);
    }
};

TEST(BuddyAllocatorDeathTest, DoubleFree) {
    MisuseSetup s;
    s.buddy.allocator.free(s.order0, 0);
    EXPECT_DEATH(s.buddy.allocator.free(s.order0, 0), "bad free of frame 0x0: already free \\(double free");
}

TEST(BuddyAllocatorDeathTest, DoubleFreeOfAMergedBlock) {
    MisuseSetup s;
    // Freeing 0 merges it with 1 and 2..3 into the free block 0..3; a second free of 0 hits a free head, a
    // free of 2 (once an order-1 block there) lands inside that free block.
    s.buddy.allocator.free(s.order0, 0);
    EXPECT_DEATH(
        s.buddy.allocator.free(2, 1),
        "bad free of frame 0x2000: inside the free block 0x0 of order 2 \\(double free, or never allocated\\)");
}

TEST(BuddyAllocatorDeathTest, FreeOfAFrameNeverAllocated) {
    MisuseSetup s;
    // Frame 20 lies inside the free block 16..31.
    EXPECT_DEATH(
        s.buddy.allocator.free(20, 0),
        "bad free of frame 0x14000: inside the free block 0x10000 of order 4 \\(double free, or never allocated\\)");
    // Frame 16 is the head of that free block.
    EXPECT_DEATH(s.buddy.allocator.free(16, 0), "bad free of frame 0x10000: already free");
}

TEST(BuddyAllocatorDeathTest, FreeOfAHole) {
    MisuseSetup s;
    EXPECT_DEATH(s.buddy.allocator.free(33, 0), "bad free of frame 0x21000: never handed to the allocator");
}

TEST(BuddyAllocatorDeathTest, FreeOutsideTheAllocator) {
    MisuseSetup s;
    EXPECT_DEATH(s.buddy.allocator.free(64, 0), "bad free of frame 0x40000: outside the managed frames");
    EXPECT_DEATH(s.buddy.allocator.free(0xfffff, 0),
                 "bad free of frame 0xfffff000: outside the managed frames 0x0-0x40000");
}

TEST(BuddyAllocatorDeathTest, FreeWithTheWrongOrder) {
    MisuseSetup s;
    EXPECT_DEATH(s.buddy.allocator.free(s.order2, 1),
                 "bad free of frame 0x4000: wrong order: allocated as order 2, freed as order 1");
    EXPECT_DEATH(s.buddy.allocator.free(s.order2, 3),
                 "bad free of frame 0x4000: wrong order: allocated as order 2, freed as order 3");
    EXPECT_DEATH(s.buddy.allocator.free(s.order0, 11), "bad free of frame 0x0: order 11 is above the maximum 10");
}

TEST(BuddyAllocatorDeathTest, FreeOfAFrameInsideAnAllocatedBlock) {
    MisuseSetup s;
    EXPECT_DEATH(s.buddy.allocator.free(s.order2 + 2, 0),
                 "bad free of frame 0x6000: inside the allocated block 0x4000 of order 2 \\(wrong address or order\\)");
}

// check_invariants() must notice each kind of corruption (else the randomized tests prove little).
TEST(BuddyAllocator, CheckInvariantsCatchesCorruption) {
    struct Corruption {
        const char* name;
        void (*corrupt)(BuddyAllocator&);
        const char* message;
    };
    const Corruption corruptions[] = {
        {"a tail claims to be a free head",
         [](BuddyAllocator& a) {
             a.descriptor(17).state = FrameState::Free;
             a.descriptor(17).order = 0;
         },
         "is not a Tail"},
        {"a free head changes order", [](BuddyAllocator& a) { a.descriptor(16).order = 3; }, "not a Free head of it"},
        {"a free head is forgotten", [](BuddyAllocator& a) { a.descriptor(16).state = FrameState::Allocated; },
         "not a Free head of it"},
        {"an allocated block is marked free",
         [](BuddyAllocator& a) {
             a.descriptor(4).state = FrameState::Free;
             a.descriptor(4).ref_count = 0;
         },
         "Free heads of zone 0 order 2, but"},
        {"a free block holds a reference", [](BuddyAllocator& a) { a.descriptor(16).ref_count = 1; }, "ref_count 1"},
        {"a link is cut", [](BuddyAllocator& a) { a.descriptor(16).prev = 8; }, "wrong prev link"},
        {"a list loops", [](BuddyAllocator& a) { a.descriptor(8).next = 8; }, "longer than its count"},
        {"an allocated head claims a larger order", [](BuddyAllocator& a) { a.descriptor(4).order = 3; },
         "not aligned"},
        {"an orphan tail", [](BuddyAllocator& a) { a.descriptor(0).state = FrameState::Tail; },
         "Tail outside any block"},
    };
    for (const Corruption& c : corruptions) {
        SCOPED_TRACE(c.name);
        // 32 frames: after allocate(0) and allocate(2): allocated 0 and 4..7; free 1, 2..3, 8..15, 16..31.
        OwnedBuddy buddy(0, 32);
        ASSERT_FALSE(buddy.allocator.add_free_range(0, 32 * kPage).is_error());
        ASSERT_EQ(buddy.allocator.allocate(0).value(), 0u);
        ASSERT_EQ(buddy.allocator.allocate(2).value(), 4u);
        ASSERT_EQ(invariants(buddy.allocator), "");
        c.corrupt(buddy.allocator);
        std::string message = invariants(buddy.allocator);
        EXPECT_NE(message.find(c.message), std::string::npos) << message;
        EXPECT_FALSE(buddy.allocator.check_invariants());
    }
}

TEST(BuddyAllocator, CheckInvariantsCatchesAnUnmergedPair) {
    OwnedBuddy buddy(0, 4);
    ASSERT_FALSE(buddy.allocator.add_free_range(0, 4 * kPage).is_error());
    u32 a = buddy.allocator.allocate(1).value();
    u32 b = buddy.allocator.allocate(1).value();
    buddy.allocator.free(a, 1);
    // Pretend b was freed without merging with its free buddy a.
    buddy.allocator.descriptor(b).state = FrameState::Free;
    buddy.allocator.descriptor(b).ref_count = 0;
    std::string message = invariants(buddy.allocator);
    EXPECT_NE(message.find("free block 0x0 (order 1) and its free buddy 0x2000 are not merged"), std::string::npos)
        << message;
}

// The kernel's path: a firmware map into a RangeSet, reservations subtracted, the rest into the allocator.
TEST(BuddyAllocator, BuiltFromARangeSet) {
    PhysicalRange storage[8];
    RangeSet ranges(storage);
    // QEMU's map for 32 MiB, with an overlapping duplicate entry.
    ASSERT_FALSE(ranges.add(0, 0x9fc00).is_error());
    ASSERT_FALSE(ranges.add(0x100000, 0x1fe0000).is_error());
    ASSERT_FALSE(ranges.add(0x1000000, 0x1200000).is_error());
    ASSERT_FALSE(ranges.subtract(0, 0x100000).is_error());         // low 1 MiB
    ASSERT_FALSE(ranges.subtract(0x100000, 0x180000).is_error());  // kernel image
    ASSERT_FALSE(ranges.subtract(0x400000, 0x480123).is_error());  // a module
    u32 end_pfn = static_cast<u32>(ranges[ranges.count() - 1].end >> kFrameShift);
    OwnedBuddy buddy(0, end_pfn);
    u32 added = 0;
    for (const PhysicalRange& range : ranges) added += buddy.allocator.add_free_range(range.start, range.end).value();
    // 0x180000..0x400000 is 640 frames, 0x481000..0x1fe0000 is 7007 frames (0x480123 rounds up).
    EXPECT_EQ(added, 640u + 7007u);
    EXPECT_EQ(buddy.allocator.total_frames(), added);
    EXPECT_EQ(invariants(buddy.allocator), "");
}

}  // namespace
