// ArenaMapTest.cpp: the arena's placement policy (mm/arena/ArenaMap.h): each fit policy on a trace worked
// out by hand, coalescing with each neighbour, allocate_at, resize_in_place, next fit's rover and its
// wrap-around, ties, the errors, the picture, compaction over a simulated arena whose bytes must survive,
// and a randomized run against a naive bitmap model (ArenaModel.h, fixed seed) with check_invariants() after
// every step.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mm/arena/ArenaMap.h"
#include "mm/arena/ArenaPicture.h"
#include "tests/host/ArenaModel.h"

using ArenaTest::ArenaModel;

namespace {

// An arena with its block table, checked after every step by the tests that use `check()`.
struct Arena {
    std::vector<ArenaBlock> storage;
    ArenaMap map;
    Arena(u32 base, u32 size, u32 granule, FitPolicy policy, u32 capacity = 64)
        : storage(capacity), map(base, size, granule, policy, storage.data(), capacity) {}
};

std::string invariants(const ArenaMap& map) {
    std::string text;
    map.check_invariants(
        [](void* context, const char* t, size_t n) { static_cast<std::string*>(context)->append(t, n); }, &text);
    return text;
}

// The holes as "[0xa,0x1e) [0x28,0x46)".
std::string holes(const ArenaMap& map) {
    std::string text;
    map.for_each_hole([&](u32 address, u32 size) {
        char piece[40];
        snprintf(piece, sizeof piece, "%s[0x%x,0x%x)", text.empty() ? "" : " ", address, address + size);
        text += piece;
    });
    return text;
}

// The address allocate() returns, or -1 for any error (the replayer's notation).
i64 place(ArenaMap& map, u32 bytes, u32 owner = 0) {
    auto result = map.allocate(bytes, owner);
    return result.is_error() ? -1 : i64(result.value());
}

// The trace the policies are compared on (docs/arena.md shows the replayer's output for it). A 100-byte
// arena, granule 1. Allocations 0-4 fill it from the bottom under every policy (there is one hole), #1
// and #3 are freed:
//     #0 [0,10)  hole [10,30)=20  #2 [30,40)  hole [40,70)=30  #4 [70,80)  hole [80,100)=20; rover 80
// Then +15, +20, +25, by hand:
//   first  +15: lowest fitting hole [10,30) -> 10.  holes 5@25 30@40 20@80
//          +20: [25,30) is too small, [40,70) -> 40. holes 5@25 10@60 20@80
//          +25: no hole of 25 (35 bytes free in all) -> -1
//   next   +15: holes ending above the rover 80: [80,100) -> 80; rover 95.  holes 20@10 30@40 5@95
//          +20: above 95 only [95,100) (5): wrap, lowest fitting [10,30) -> 10; rover 30
//          +25: above 30: [40,70) -> 40
//   best   +15: 20@10 and 20@80 tie, 30@40 larger: the lower address -> 10.  holes 5@25 30@40 20@80
//          +20: 20@80 fits exactly -> 80.  holes 5@25 30@40
//          +25: -> 40
//   worst  +15: largest 30@40 -> 40.  holes 20@10 15@55 20@80
//          +20: 20@10 and 20@80 tie: -> 10.  holes 15@55 20@80
//          +25: largest hole 20 -> -1
void build_policy_trace(ArenaMap& map) {
    for (u32 size : {10u, 20u, 10u, 30u, 10u}) place(map, size);
    map.release(10);
    map.release(40);
    ASSERT_EQ(holes(map), "[0xa,0x1e) [0x28,0x46) [0x50,0x64)");
}

struct TraceCase {
    FitPolicy policy;
    i64 expected[3];
};

TEST(ArenaMap, PoliciesPlaceTheTraceAsWorkedOutByHand) {
    const TraceCase cases[] = {
        {FitPolicy::First, {10, 40, -1}},
        {FitPolicy::Next, {80, 10, 40}},
        {FitPolicy::Best, {10, 80, 40}},
        {FitPolicy::Worst, {40, 10, -1}},
    };
    for (const TraceCase& c : cases) {
        SCOPED_TRACE(fit_policy_name(c.policy));
        Arena arena(0, 100, 1, c.policy);
        build_policy_trace(arena.map);
        EXPECT_EQ(arena.map.rover(), 80u);
        EXPECT_EQ(place(arena.map, 15), c.expected[0]);
        EXPECT_EQ(place(arena.map, 20), c.expected[1]);
        EXPECT_EQ(place(arena.map, 25), c.expected[2]);
        EXPECT_EQ(invariants(arena.map), "");
    }
}

TEST(ArenaMap, FailsWithNoMemoryWhenNoHoleFitsThoughTheFreeTotalWould) {
    Arena arena(0, 100, 1, FitPolicy::First);
    build_policy_trace(arena.map);
    ASSERT_EQ(place(arena.map, 15), 10);
    ASSERT_EQ(place(arena.map, 20), 40);
    ArenaStatistics statistics = arena.map.statistics();
    EXPECT_EQ(statistics.free_bytes, 35u);
    EXPECT_EQ(statistics.largest_hole, 20u);
    EXPECT_EQ(statistics.holes, 3u);
    EXPECT_EQ(statistics.used_bytes, 65u);
    EXPECT_EQ(statistics.blocks, 5u);
    EXPECT_EQ(fragmentation_per_mille(statistics), 428u);  // 1 - 20/35 = 0.4285...
    auto result = arena.map.allocate(25, 9);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error(), Error::NoMemory);
    EXPECT_EQ(arena.map.statistics().blocks, 5u);  // nothing changed
}

TEST(ArenaMap, RefusesZeroBytesAndAFullTable) {
    Arena arena(0, 100, 1, FitPolicy::First, 2);
    EXPECT_EQ(arena.map.allocate(0, 0).error(), Error::Invalid);
    EXPECT_EQ(arena.map.allocate(101, 0).error(), Error::NoMemory);
    EXPECT_EQ(place(arena.map, 10), 0);
    EXPECT_EQ(place(arena.map, 10), 10);
    EXPECT_EQ(arena.map.allocate(10, 0).error(), Error::NoSpace);  // a hole fits; the table is full
    EXPECT_EQ(arena.map.allocate(200, 0).error(), Error::NoMemory);
    EXPECT_TRUE(arena.map.allocate_at(50, 10, 0).error() == Error::NoSpace);
    EXPECT_EQ(invariants(arena.map), "");
}

TEST(ArenaMap, RoundsSizesUpToTheGranule) {
    Arena arena(0x100000, 0x10000, 0x1000, FitPolicy::First);
    EXPECT_EQ(place(arena.map, 1), 0x100000);
    EXPECT_EQ(arena.map.find(0x100000)->size, 0x1000u);
    EXPECT_EQ(place(arena.map, 0x1001), 0x101000);
    EXPECT_EQ(arena.map.find(0x101000)->size, 0x2000u);
    EXPECT_EQ(place(arena.map, 0xd000), 0x103000);  // exactly the rest
    EXPECT_EQ(place(arena.map, 1), -1);
    EXPECT_EQ(holes(arena.map), "");
    EXPECT_EQ(invariants(arena.map), "");
}

TEST(ArenaMap, CoalescesWithTheLeftTheRightAndBothNeighbours) {
    // A [0,10) B [10,20) C [20,30) D [30,40) E [40,50), hole [50,100).
    Arena arena(0, 100, 1, FitPolicy::First);
    for (u32 owner = 0; owner < 5; ++owner) place(arena.map, 10, owner);
    arena.map.release(10);  // B: both neighbours in use, a hole of its own
    EXPECT_EQ(holes(arena.map), "[0xa,0x14) [0x32,0x64)");
    arena.map.release(20);  // C: joins the hole on its left
    EXPECT_EQ(holes(arena.map), "[0xa,0x1e) [0x32,0x64)");
    arena.map.release(40);  // E: joins the hole on its right
    EXPECT_EQ(holes(arena.map), "[0xa,0x1e) [0x28,0x64)");
    arena.map.release(30);  // D: joins both
    EXPECT_EQ(holes(arena.map), "[0xa,0x64)");
    EXPECT_EQ(arena.map.statistics().holes, 1u);
    arena.map.release(0);  // A: the arena is one hole again
    EXPECT_EQ(holes(arena.map), "[0x0,0x64)");
    EXPECT_EQ(invariants(arena.map), "");
    EXPECT_FALSE(arena.map.try_release(0));
}

TEST(ArenaMap, ReleaseOfAnAddressWithoutABlockPanics) {
    Arena arena(0, 100, 1, FitPolicy::First);
    place(arena.map, 10);
    EXPECT_FALSE(arena.map.try_release(5));  // inside a block, not its start
    EXPECT_DEATH(arena.map.release(5), "arena: release of 0x5, where no block starts");
    EXPECT_DEATH((void)arena.map.resize_in_place(50, 10), "arena: resize of 0x32, where no block starts");
}

TEST(ArenaMap, AllocateAtPlacesExactlyOrSaysWhy) {
    Arena arena(0x1000, 0x1000, 0x10, FitPolicy::First);
    ASSERT_FALSE(arena.map.allocate_at(0x1400, 0x100, 7).is_error());
    EXPECT_EQ(arena.map.find(0x1400)->owner, 7u);
    EXPECT_EQ(arena.map.rover(), 0x1000u);                                        // allocate_at does not move the rover
    EXPECT_EQ(arena.map.allocate_at(0x1408, 0x10, 0).error(), Error::Invalid);    // not granule-aligned
    EXPECT_EQ(arena.map.allocate_at(0x1400, 0, 0).error(), Error::Invalid);       // no bytes
    EXPECT_EQ(arena.map.allocate_at(0x1300, 0x101, 0).error(), Error::Busy);      // rounds to 0x110: overlaps
    EXPECT_EQ(arena.map.allocate_at(0x14f0, 0x10, 0).error(), Error::Busy);       // inside the block
    EXPECT_EQ(arena.map.allocate_at(0xff0, 0x10, 0).error(), Error::OutOfRange);  // below the base
    EXPECT_EQ(arena.map.allocate_at(0x1ff0, 0x11, 0).error(), Error::OutOfRange);  // past the end
    EXPECT_EQ(arena.map.allocate_at(0x2000, 0x10, 0).error(), Error::OutOfRange);
    ASSERT_FALSE(arena.map.allocate_at(0x1300, 0x100, 1).is_error());  // touches the block on its left side
    ASSERT_FALSE(arena.map.allocate_at(0x1500, 0x100, 2).is_error());  // and on its right
    ASSERT_FALSE(arena.map.allocate_at(0x1ff0, 0x10, 3).is_error());   // the last granule
    EXPECT_EQ(holes(arena.map), "[0x1000,0x1300) [0x1600,0x1ff0)");
    EXPECT_EQ(invariants(arena.map), "");
}

TEST(ArenaMap, ResizesInPlaceBothWays) {
    Arena arena(0, 100, 1, FitPolicy::First);
    place(arena.map, 10);   // [0,10)
    place(arena.map, 10);   // [10,20)
    arena.map.release(10);  // hole [10,100)
    place(arena.map, 10);   // [10,20) again
    ASSERT_EQ(place(arena.map, 10), 20);
    arena.map.release(10);                          // [0,10), hole [10,20), [20,30), hole [30,100)
    EXPECT_TRUE(arena.map.resize_in_place(0, 20));  // grows into the whole hole after it
    EXPECT_EQ(holes(arena.map), "[0x1e,0x64)");
    EXPECT_FALSE(arena.map.resize_in_place(0, 21));  // the block at 20 is in the way
    EXPECT_EQ(arena.map.find(0)->size, 20u);         // unchanged
    EXPECT_TRUE(arena.map.resize_in_place(0, 5));    // shrinking always works
    EXPECT_EQ(holes(arena.map), "[0x5,0x14) [0x1e,0x64)");
    EXPECT_TRUE(arena.map.resize_in_place(20, 80));   // up to the arena's end
    EXPECT_FALSE(arena.map.resize_in_place(20, 81));  // past it
    EXPECT_FALSE(arena.map.resize_in_place(20, 0));
    EXPECT_EQ(holes(arena.map), "[0x5,0x14)");
    EXPECT_EQ(invariants(arena.map), "");
}

TEST(ArenaMap, ResizeRoundsToTheGranule) {
    Arena arena(0, 0x4000, 0x1000, FitPolicy::First);
    place(arena.map, 0x1000);
    place(arena.map, 0x1000);
    arena.map.release(0x1000);
    place(arena.map, 0x1000);  // [0x0,0x1000), [0x1000,0x2000) hole [0x2000,0x4000)
    EXPECT_TRUE(arena.map.resize_in_place(0x1000, 0x2001));
    EXPECT_EQ(arena.map.find(0x1000)->size, 0x3000u);
    EXPECT_FALSE(arena.map.resize_in_place(0x0, 0x1001));  // rounds to 0x2000: the block at 0x1000 is in the way
    EXPECT_EQ(invariants(arena.map), "");
}

TEST(ArenaMap, NextFitWrapsAroundToTheLowestHole) {
    Arena arena(0, 100, 1, FitPolicy::Next);
    EXPECT_EQ(place(arena.map, 40), 0);
    EXPECT_EQ(place(arena.map, 40), 40);
    EXPECT_EQ(arena.map.rover(), 80u);
    arena.map.release(0);                // holes [0,40) [80,100)
    EXPECT_EQ(place(arena.map, 30), 0);  // [80,100) is too small: wrap around
    EXPECT_EQ(arena.map.rover(), 30u);
    EXPECT_EQ(place(arena.map, 5), 30);   // the search starts at the rover ...
    EXPECT_EQ(place(arena.map, 10), 80);  // ... so [35,40) is passed over, where first fit would not
    EXPECT_EQ(place(arena.map, 10), 90);
    EXPECT_EQ(arena.map.rover(), 100u);  // at the top: the next search wraps at once
    EXPECT_EQ(place(arena.map, 5), 35);
    EXPECT_EQ(place(arena.map, 1), -1);
    EXPECT_EQ(invariants(arena.map), "");
}

TEST(ArenaMap, NextFitTakesAHoleTheRoverPointsIntoFromItsStart) {
    Arena arena(0, 100, 1, FitPolicy::Next);
    place(arena.map, 10);
    place(arena.map, 10);
    EXPECT_EQ(arena.map.rover(), 20u);
    arena.map.release(10);  // the hole [10,100) now reaches below the rover
    EXPECT_EQ(place(arena.map, 5), 10);
}

TEST(ArenaMap, BestAndWorstBreakTiesTowardTheLowestAddress) {
    for (FitPolicy policy : {FitPolicy::Best, FitPolicy::Worst}) {
        SCOPED_TRACE(fit_policy_name(policy));
        // Holes of 10 at 10, 30 and 50 (and none at the top).
        Arena arena(0, 70, 1, policy);
        for (u32 at : {0u, 20u, 40u, 60u}) ASSERT_FALSE(arena.map.allocate_at(at, 10, 0).is_error());
        EXPECT_EQ(place(arena.map, 10), 10);
        EXPECT_EQ(place(arena.map, 5), 30);
        // Best: 5@35 is now the smallest; worst: 10@50 the largest.
        EXPECT_EQ(place(arena.map, 5), policy == FitPolicy::Best ? 35 : 50);
    }
}

TEST(ArenaMap, BestFitTakesAnExactFitOverAnEarlierLargerHole) {
    Arena arena(0, 100, 1, FitPolicy::Best);
    ASSERT_FALSE(arena.map.allocate_at(30, 10, 0).is_error());
    ASSERT_FALSE(arena.map.allocate_at(50, 50, 0).is_error());  // holes 30@0, 10@40
    EXPECT_EQ(place(arena.map, 10), 40);
}

TEST(ArenaMap, NamesItsPolicies) {
    for (FitPolicy policy : kAllFitPolicies) {
        FitPolicy parsed = FitPolicy::Worst == policy ? FitPolicy::First : FitPolicy::Worst;
        ASSERT_TRUE(parse_fit_policy(fit_policy_name(policy), parsed));
        EXPECT_EQ(parsed, policy);
    }
    EXPECT_STREQ(fit_policy_name(FitPolicy::Next), "next");
    FitPolicy untouched = FitPolicy::Best;
    for (const char* bad : {"", "firs", "first ", "First", "all", "buddy"})
        EXPECT_FALSE(parse_fit_policy(bad, untouched)) << bad;
    EXPECT_FALSE(parse_fit_policy(nullptr, untouched));
    EXPECT_EQ(untouched, FitPolicy::Best);
}

TEST(ArenaMap, FragmentationIsZeroForOneHoleOrNone) {
    EXPECT_EQ(fragmentation_per_mille({0, 0, 0, 100, 1}), 0u);
    EXPECT_EQ(fragmentation_per_mille({64, 64, 1, 0, 0}), 0u);
    EXPECT_EQ(fragmentation_per_mille({100, 25, 4, 0, 3}), 750u);
}

TEST(ArenaMap, CheckInvariantsCatchesABrokenTable) {
    Arena arena(0, 100, 1, FitPolicy::First);
    place(arena.map, 10, 0);
    place(arena.map, 10, 1);
    EXPECT_EQ(invariants(arena.map), "");
    arena.storage[1].address = 5;  // overlaps the first block
    EXPECT_NE(invariants(arena.map).find("starts below"), std::string::npos) << invariants(arena.map);
    arena.storage[1].address = 95;  // leaves the arena
    EXPECT_NE(invariants(arena.map).find("leaves the arena"), std::string::npos);
    arena.storage[1] = {10, 0, 1};
    EXPECT_NE(invariants(arena.map).find("size 0"), std::string::npos);
}

TEST(ArenaPicture, DrawsOwnersAndHolesScaledToTheWidth) {
    Arena arena(0, 100, 1, FitPolicy::First);
    build_policy_trace(arena.map);  // #0 [0,10) #2 [30,40) #4 [70,80), owners 0
    char text[200];
    EXPECT_EQ(draw_arena(arena.map, 10, text, sizeof text), 12u);
    EXPECT_STREQ(text, "|0..0...0..|");
    ASSERT_FALSE(arena.map.allocate_at(40, 2, 11).is_error());  // 2 of the 10 bytes of cell 4: free wins
    ASSERT_FALSE(arena.map.allocate_at(52, 3, 12).is_error());  // 3 of cell 5's 10 bytes: free wins
    ASSERT_FALSE(arena.map.allocate_at(80, 5, 61).is_error());  // half of cell 8: the tie goes to the block
    draw_arena(arena.map, 10, text, sizeof text);
    EXPECT_STREQ(text, "|0..0...0z.|");
    u32 length = describe_arena(arena.map, 10, text, sizeof text);
    EXPECT_EQ(length, strlen(text));
    EXPECT_STREQ(text, "|0..0...0z.| used 40 in 6 blocks, free 60 in 4 holes (largest 20), fragmentation 666/1000");
    EXPECT_EQ(arena_owner_symbol(10), 'A');
    EXPECT_EQ(arena_owner_symbol(62 + 3), '3');
}

TEST(ArenaPicture, CutsToTheBufferAndDrawsTinyArenas) {
    Arena arena(0, 4, 1, FitPolicy::First);
    place(arena.map, 1, 1);
    char text[8];
    EXPECT_EQ(draw_arena(arena.map, 8, text, sizeof text), 10u);  // two cells a byte: "|11......|"
    EXPECT_STREQ(text, "|11....");
    char big[20];
    draw_arena(arena.map, 8, big, sizeof big);
    EXPECT_STREQ(big, "|11......|");
    EXPECT_EQ(draw_arena(arena.map, 8, nullptr, 0), 10u);
}

// compact() over a simulated arena: the mover memmoves in `memory`; every block's bytes must survive.
TEST(ArenaMap, CompactionLeavesOneHoleAtTheTopAndKeepsTheContents) {
    constexpr u32 kBase = 0x40000, kSize = 0x10000, kGranule = 16;
    std::mt19937 random(20261206);
    for (int round = 0; round < 20; ++round) {
        Arena arena(kBase, kSize, kGranule, FitPolicy::First, 256);
        std::vector<u8> memory(kSize);
        for (u32 owner = 0; owner < 120; ++owner) {
            u32 bytes = 1 + random() % 1024;
            auto placed = arena.map.allocate(bytes, owner);
            if (placed.is_error()) break;
            const ArenaBlock* block = arena.map.find(placed.value());
            for (u32 i = 0; i < block->size; ++i) memory[block->address - kBase + i] = u8(owner * 7 + i);
        }
        // Free about half, at random.
        std::vector<u32> addresses;
        arena.map.for_each_block([&](const ArenaBlock& block) { addresses.push_back(block.address); });
        for (u32 address : addresses)
            if (random() % 2) arena.map.release(address);
        std::vector<ArenaBlock> before;
        arena.map.for_each_block([&](const ArenaBlock& block) { before.push_back(block); });
        u32 cost = arena.map.compaction_cost();

        std::vector<ArenaBlock> moves;
        u32 moved = arena.map.compact([&](u32 from, u32 to, u32 size, u32 owner) {
            ASSERT_NE(arena.map.find(from), nullptr);  // not yet recorded
            moves.push_back({from, size, owner});
            memmove(&memory[to - kBase], &memory[from - kBase], size);
        });
        EXPECT_EQ(invariants(arena.map), "");
        EXPECT_EQ(moved, cost);
        u32 sum = 0;
        for (size_t i = 0; i < moves.size(); ++i) {
            sum += moves[i].size;
            if (i > 0) {
                EXPECT_GT(moves[i].address, moves[i - 1].address);  // increasing address order
            }
        }
        EXPECT_EQ(moved, sum);
        // Same blocks, same order, packed from the base; one hole at the top.
        ASSERT_EQ(arena.map.block_count(), before.size());
        u32 cursor = kBase;
        for (u32 i = 0; i < before.size(); ++i) {
            const ArenaBlock& block = arena.map.block(i);
            EXPECT_EQ(block.owner, before[i].owner);
            EXPECT_EQ(block.size, before[i].size);
            EXPECT_EQ(block.address, cursor);
            for (u32 b = 0; b < block.size; ++b)
                ASSERT_EQ(memory[block.address - kBase + b], u8(block.owner * 7 + b)) << "owner " << block.owner;
            cursor += block.size;
        }
        ArenaStatistics statistics = arena.map.statistics();
        EXPECT_LE(statistics.holes, 1u);
        arena.map.for_each_hole([&](u32 address, u32 size) {
            EXPECT_EQ(address, cursor);
            EXPECT_EQ(address + size, kBase + kSize);
        });
        EXPECT_EQ(statistics.largest_hole, kBase + kSize - cursor);
        EXPECT_EQ(fragmentation_per_mille(statistics), 0u);
        EXPECT_EQ(arena.map.rover(), cursor);
        EXPECT_EQ(arena.map.compact([](u32, u32, u32, u32) { FAIL() << "nothing should move twice"; }), 0u);
    }
}

// Thousands of random operations on ArenaMap and on the bitmap model: the same answer at every step.
void run_against_model(FitPolicy policy, u32 base, u32 size, u32 granule, u32 capacity, u32 seed,
                       bool expect_full_table) {
    SCOPED_TRACE(std::string(fit_policy_name(policy)) + " granule " + std::to_string(granule));
    Arena arena(base, size, granule, policy, capacity);
    ArenaModel model(base, size, granule, policy, capacity);
    std::mt19937 random(seed);
    std::vector<u32> live;
    std::map<Error, u32> outcomes;  // of allocate(): each kind of answer must come up
    auto some_size = [&]() -> u32 {
        switch (random() % 8) {
        case 0: return random() % (size / 4) + 1;     // large
        case 1: return granule * (1 + random() % 4);  // exact granules
        default: return random() % (size / 32) + 1;   // small
        }
    };
    for (u32 step = 0; step < 4000; ++step) {
        u32 operation = random() % 16;
        u32 owner = step;
        if (operation < 7) {
            u32 bytes = random() % 50 == 0 ? 0 : some_size();
            auto actual = arena.map.allocate(bytes, owner);
            auto expected = model.allocate(bytes, owner);
            ASSERT_EQ(!actual.is_error(), expected.ok) << "step " << step << " +" << bytes;
            ++outcomes[expected.ok ? Error::None : expected.error];
            if (expected.ok) {
                ASSERT_EQ(actual.value(), expected.address) << "step " << step << " +" << bytes;
                live.push_back(expected.address);
            } else {
                ASSERT_EQ(actual.error(), expected.error) << "step " << step;
            }
        } else if (operation < 12) {
            if (live.empty()) continue;
            size_t pick = random() % live.size();
            ASSERT_TRUE(arena.map.try_release(live[pick]));
            ASSERT_TRUE(model.release(live[pick]));
            live[pick] = live.back();
            live.pop_back();
        } else if (operation < 13) {
            u32 address = base + (random() % (size / granule)) * granule;
            if (random() % 8 == 0) address += 1;  // misaligned (when the granule allows)
            u32 bytes = some_size();
            auto actual = arena.map.allocate_at(address, bytes, owner);
            auto expected = model.allocate_at(address, bytes, owner);
            ASSERT_EQ(!actual.is_error(), expected.ok) << "step " << step << " at " << address;
            if (expected.ok)
                live.push_back(address);
            else
                ASSERT_EQ(actual.error(), expected.error) << "step " << step;
        } else if (operation < 15) {
            if (live.empty()) continue;
            u32 address = live[random() % live.size()];
            u32 bytes = random() % 3 == 0 ? arena.map.find(address)->size / 2 : some_size();
            ASSERT_EQ(arena.map.resize_in_place(address, bytes), model.resize(address, bytes))
                << "step " << step << " resize " << address << " to " << bytes;
        } else if (random() % 8 == 0) {
            std::vector<ArenaModel::Move> expected = model.compact();
            size_t index = 0;
            arena.map.compact([&](u32 from, u32 to, u32 bytes, u32 block_owner) {
                ASSERT_LT(index, expected.size());
                EXPECT_EQ(from, expected[index].from);
                EXPECT_EQ(to, expected[index].to);
                EXPECT_EQ(bytes, expected[index].size);
                EXPECT_EQ(block_owner, expected[index].owner);
                ++index;
            });
            EXPECT_EQ(index, expected.size());
            live.clear();
            for (const auto& entry : model.blocks()) live.push_back(entry.first);
        }
        ASSERT_EQ(invariants(arena.map), "") << "step " << step;
        ASSERT_EQ(model.compare(arena.map), "") << "step " << step;
    }
    EXPECT_GT(outcomes[Error::None], 500u);
    EXPECT_GT(outcomes[Error::NoMemory], 10u);
    EXPECT_GT(outcomes[Error::Invalid], 10u);
    if (expect_full_table) {
        EXPECT_GT(outcomes[Error::NoSpace], 10u);
    }
}

TEST(ArenaMap, AgreesWithTheBitmapModelUnderEveryPolicy) {
    for (FitPolicy policy : kAllFitPolicies) {
        run_against_model(policy, 0, 4096, 1, 200, 1, false);               // byte-exact, as in OSTEP's simulator
        run_against_model(policy, 0x100000, 0x40000, 0x1000, 24, 2, true);  // page granules; the table fills up
        run_against_model(policy, 0x2000, 0x8000, 16, 300, 3, false);
    }
}

}  // namespace
