// BuddyAndBitmapAllocatorTest.cpp: what every FrameAllocator promises, checked on the buddy and the bitmap
// allocator alike (typed tests): use through the interface, refusal of a range added twice, and long
// model-based randomized runs with a fixed seed.
//
// The randomized run: on a memory map, allocate blocks of every order (and, on the bitmap, runs of any
// length) in both zones, free at random, in phases that fill memory to exhaustion and drain it again. After
// every step the FrameAllocModel shadow checks the result (no overlap, alignment, zone, DMA kept for last,
// failure only when nothing fits, the bitmap's exact first fit) and check_invariants() must hold. At the end
// everything is freed and the allocator must be back to its initial free blocks (buddy) or runs (bitmap).
#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tests/host/FrameAllocModel.h"

using namespace frame_alloc_test;

namespace {

constexpr u64 kPage = kFrameSize;

template <typename Owned>
class BuddyAndBitmapAllocator : public ::testing::Test {
protected:
    static constexpr bool kIsBitmap = std::is_same_v<Owned, OwnedBitmap>;
};
using Allocators = ::testing::Types<OwnedBuddy, OwnedBitmap>;
TYPED_TEST_SUITE(BuddyAndBitmapAllocator, Allocators);

TYPED_TEST(BuddyAndBitmapAllocator, WorksThroughTheInterface) {
    TypeParam owned(0, 1024);
    FrameAllocator& allocator = owned.allocator;
    EXPECT_STREQ(allocator.name(), TestFixture::kIsBitmap ? "bitmap" : "buddy");
    ASSERT_EQ(allocator.add_free_range(0, 4 * MiB).value(), 1024u);
    u32 pfn = allocator.allocate(5, Zone::Dma).value();
    EXPECT_EQ(pfn % 32, 0u);
    EXPECT_EQ(allocator.free_frames(), 1024u - 32u);
    allocator.free(pfn, 5);
    EXPECT_EQ(allocator.free_frames(), allocator.total_frames());
    EXPECT_TRUE(allocator.check_invariants());
    std::string text;
    allocator.dump(string_sink, &text);
    EXPECT_EQ(text.rfind(allocator.name(), 0), 0u) << text;  // the dump starts with the allocator's name
}

TYPED_TEST(BuddyAndBitmapAllocator, AddingAManagedFrameAgainIsAnError) {
    TypeParam owned(0, 64);
    FrameAllocator& allocator = owned.allocator;
    ASSERT_FALSE(allocator.add_free_range(0, 16 * kPage).is_error());
    auto again = allocator.add_free_range(15 * kPage, 20 * kPage);
    ASSERT_TRUE(again.is_error());
    EXPECT_EQ(again.error(), Error::Exists);
    EXPECT_EQ(allocator.total_frames(), 16u);  // nothing of the refused range was added
    EXPECT_EQ(allocator.free_frames(), 16u);
    EXPECT_EQ(invariants(allocator), "");
    EXPECT_EQ(allocator.add_free_range(16 * kPage, 20 * kPage).value(), 4u);
}

struct MemoryMap {
    const char* name;
    u32 first_pfn;
    u32 end_pfn;
    std::vector<std::pair<u64, u64>> ranges;
};

const MemoryMap kMemoryMaps[] = {
    {"one 8 MiB range", 0, 2048, {{0, 8 * MiB}}},
    {"holes and unaligned edges", 0, 1024, {{0x1800, 0x9fc00}, {0xa1000, 0x1a3456}, {0x200000, 0x3ff000}}},
    {"across the DMA limit, odd first pfn", 3581, 4611, {{0, 32 * MiB}}},
    {"many tiny ranges", 100, 400, {{0x64000, 0x65000}, {0x67000, 0x6b000}, {0x70000, 0x90000}, {0x91000, 0x190000}}},
};

template <typename Owned>
auto free_state(const Owned& owned) {
    if constexpr (std::is_same_v<Owned, OwnedBitmap>)
        return free_runs_of(owned.allocator);
    else
        return free_blocks_of(owned.allocator);
}

template <typename Owned>
void run_randomized(const MemoryMap& map, u32 seed, int steps) {
    constexpr bool kIsBitmap = std::is_same_v<Owned, OwnedBitmap>;
    SCOPED_TRACE(map.name);
    Owned owned(map.first_pfn, map.end_pfn);
    FrameAllocModel model(map.first_pfn, map.end_pfn);
    for (auto [start, end] : map.ranges) {
        ASSERT_EQ(owned.allocator.add_free_range(start, end).value(), model.add_range(start, end));
    }
    const auto initial = free_state(owned);
    Random random(seed);
    int failures = 0;
    for (int step = 0; step < steps; ++step) {
        SCOPED_TRACE("step " + std::to_string(step));
        // Phases of 400 steps, filling (90% allocations) then draining (10%), so the run visits both nearly
        // empty and exhausted memory.
        bool filling = (step / 400) % 2 == 0;
        if (model.live().empty() || random.below(10) < (filling ? 9u : 1u)) {
            Zone zone = random.below(4) == 0 ? Zone::Dma : Zone::Any;
            std::string problem;
            bool as_run = false;
            if constexpr (kIsBitmap) {
                as_run = random.below(2) == 0;
                if (as_run) {
                    u32 count = 1 + random.below(random.below(2) == 0 ? 4 : 64);
                    auto result = owned.allocator.allocate_run(count, zone);
                    failures += result.is_error();
                    problem = model.outcome(result, count, 1, zone, true);
                }
            }
            if (!as_run) {
                unsigned order = random.order();
                auto result = owned.allocator.allocate(order, zone);
                failures += result.is_error();
                problem = model.outcome(result, 1u << order, 1u << order, zone, kIsBitmap);
            }
            ASSERT_EQ(problem, "");
        } else {
            auto [pfn, count] = model.live_block(random.next());
            bool is_block = is_power_of_two(count) && count <= kMaxBlockFrames && pfn % count == 0;
            if constexpr (kIsBitmap) {
                if (!is_block || random.below(2) == 0)
                    owned.allocator.free_run(pfn, count);
                else
                    owned.allocator.free(pfn, static_cast<unsigned>(__builtin_ctz(count)));
            } else {
                ASSERT_TRUE(is_block);
                owned.allocator.free(pfn, static_cast<unsigned>(__builtin_ctz(count)));
            }
            ASSERT_EQ(model.freed(pfn), "");
        }
        ASSERT_EQ(owned.allocator.free_frames(), model.free_frames());
        ASSERT_EQ(invariants(owned.allocator), "");
    }
    EXPECT_GT(failures, 0) << "the run never reached exhaustion; the test is too gentle";
    if constexpr (kIsBitmap) {
        EXPECT_EQ(free_runs_of(owned.allocator), model.free_runs());
    }
    while (!model.live().empty()) {
        auto [pfn, count] = model.live_block(random.next());
        if constexpr (kIsBitmap)
            owned.allocator.free_run(pfn, count);
        else
            owned.allocator.free(pfn, static_cast<unsigned>(__builtin_ctz(count)));
        ASSERT_EQ(model.freed(pfn), "");
        ASSERT_EQ(invariants(owned.allocator), "");
    }
    EXPECT_EQ(owned.allocator.free_frames(), owned.allocator.total_frames());
    EXPECT_EQ(free_state(owned), initial);
}

TYPED_TEST(BuddyAndBitmapAllocator, RandomizedAgainstShadowModel) {
    u32 seed = 1;
    for (const MemoryMap& map : kMemoryMaps) run_randomized<TypeParam>(map, seed++, 20000);
}

}  // namespace
