// SwapSlotMapTest.cpp: the swap slot map: next-fit order, exhaustion, reference counts for slots shared
// after fork, bad slots, misuse as death tests, corruption caught by check_invariants(), and a randomized
// run against a simple model (fixed seed) with the invariants checked after every step.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "tests/host/SwapTestSupport.h"

using namespace swap_test;

namespace {

TEST(SwapSlotMap, SizesItsMemoryAndStartsFree) {
    EXPECT_EQ(SwapSlotMap::bytes_needed(1), 8u);  // one 16-bit entry, rounded up to the alignment
    EXPECT_EQ(SwapSlotMap::bytes_needed(16384), 32768u);
    OwnedSlotMap owned(16);
    const SwapSlotMap& map = owned.map;
    EXPECT_EQ(map.slot_count(), 16u);
    EXPECT_EQ(map.free_slots(), 15u);  // slot 0 is the header
    EXPECT_EQ(map.used_slots(), 0u);
    EXPECT_EQ(map.bad_slots(), 0u);
    EXPECT_EQ(invariants(map), "");
}

TEST(SwapSlotMap, AllocatesNextFitAndNeverSlotZero) {
    OwnedSlotMap owned(6);  // usable slots 1..5
    SwapSlotMap& map = owned.map;
    // Consecutive allocations take consecutive slots, starting at 1.
    for (u32 expected = 1; expected <= 5; ++expected) EXPECT_EQ(map.allocate().value(), expected);
    auto full = map.allocate();
    ASSERT_TRUE(full.is_error());
    EXPECT_EQ(full.error(), Error::NoSpace);
    // Freed slots 2 and 4; the cursor is back at 1 after the wrap, so the scan meets 2 first, then 4.
    map.free(2);
    map.free(4);
    EXPECT_EQ(map.allocate().value(), 2u);
    EXPECT_EQ(map.allocate().value(), 4u);
    // Next fit goes on from the last slot handed out: with 1 and 5 free, after 4 comes 5, then 1.
    map.free(1);
    map.free(5);
    EXPECT_EQ(map.allocate().value(), 5u);
    EXPECT_EQ(map.allocate().value(), 1u);
    EXPECT_EQ(map.free_slots(), 0u);
    EXPECT_EQ(invariants(map), "");
}

TEST(SwapSlotMap, OneSlotMapHasNothingToGive) {
    OwnedSlotMap owned(1);
    EXPECT_EQ(owned.map.free_slots(), 0u);
    EXPECT_EQ(owned.map.allocate().error(), Error::NoSpace);
    EXPECT_EQ(invariants(owned.map), "");
}

TEST(SwapSlotMap, SharedSlotIsFreeAfterTheLastRelease) {
    OwnedSlotMap owned(4);
    SwapSlotMap& map = owned.map;
    u32 slot = map.allocate().value();
    // fork: parent and two children name the same swapped-out page.
    ASSERT_FALSE(map.add_reference(slot).is_error());
    ASSERT_FALSE(map.add_reference(slot).is_error());
    EXPECT_EQ(map.references(slot), 3u);
    EXPECT_EQ(map.release(slot), 2u);
    EXPECT_EQ(map.release(slot), 1u);
    EXPECT_FALSE(map.is_free(slot));
    EXPECT_EQ(map.used_slots(), 1u);
    EXPECT_EQ(map.release(slot), 0u);
    EXPECT_TRUE(map.is_free(slot));
    EXPECT_EQ(map.free_slots(), 3u);
    EXPECT_EQ(invariants(map), "");
}

TEST(SwapSlotMap, ReferenceCountSaturatesWithAnError) {
    OwnedSlotMap owned(2);
    SwapSlotMap& map = owned.map;
    u32 slot = map.allocate().value();
    for (u32 count = 1; count < SwapSlotMap::kMaxReferences; ++count) ASSERT_FALSE(map.add_reference(slot).is_error());
    auto overflow = map.add_reference(slot);
    ASSERT_TRUE(overflow.is_error());
    EXPECT_EQ(overflow.error(), Error::OutOfRange);
    EXPECT_EQ(map.references(slot), SwapSlotMap::kMaxReferences);
    EXPECT_EQ(invariants(map), "");
}

TEST(SwapSlotMap, BadSlotIsNeverHandedOutAgain) {
    OwnedSlotMap owned(4);  // slots 1..3
    SwapSlotMap& map = owned.map;
    map.mark_bad(2);  // free and bad: retired at once
    EXPECT_EQ(map.bad_slots(), 1u);
    EXPECT_EQ(map.free_slots(), 2u);
    map.mark_bad(2);  // again: nothing changes
    EXPECT_EQ(map.bad_slots(), 1u);
    EXPECT_EQ(map.allocate().value(), 1u);
    EXPECT_EQ(map.allocate().value(), 3u);  // 2 is skipped
    EXPECT_EQ(map.allocate().error(), Error::NoSpace);
    // A slot in use whose write failed: it stays with its owners and is retired when they let go.
    ASSERT_FALSE(map.add_reference(3).is_error());
    map.mark_bad(3);
    EXPECT_TRUE(map.is_bad(3));
    EXPECT_EQ(map.references(3), 2u);
    EXPECT_EQ(map.used_slots(), 2u);
    EXPECT_EQ(map.bad_slots(), 1u);
    EXPECT_EQ(map.release(3), 1u);
    EXPECT_EQ(map.release(3), 0u);
    EXPECT_EQ(map.bad_slots(), 2u);
    EXPECT_EQ(map.used_slots(), 1u);
    map.free(1);
    EXPECT_EQ(map.allocate().value(), 1u);  // only slot 1 ever comes back
    EXPECT_EQ(map.allocate().error(), Error::NoSpace);
    EXPECT_EQ(invariants(map), "");
}

TEST(SwapSlotMap, DumpShowsCountsAndBadSlots) {
    OwnedSlotMap owned(12);
    for (u32 slot = 1; slot <= 10; ++slot) owned.map.mark_bad(slot);
    std::string text;
    owned.map.dump(string_sink, &text);
    EXPECT_EQ(text,
              "swap: 12 slots (slot 0 is the header): 1 free, 0 used, 10 bad\n"
              "bad slots: 1, 2, 3, 4, 5, 6, 7, 8, ... (10 in all)\n");
}

TEST(SwapSlotMapDeathTest, MisuseStopsTheMachine) {
    OwnedSlotMap owned(4);
    SwapSlotMap& map = owned.map;
    EXPECT_DEATH(map.free(1), "free of slot 1, which is free");
    EXPECT_DEATH(map.release(2), "release of slot 2, which is free");
    EXPECT_DEATH(map.free(0), "slot 0 is not a usable slot");
    EXPECT_DEATH(map.mark_bad(4), "slot 4 is not a usable slot");
    u32 slot = map.allocate().value();
    ASSERT_FALSE(map.add_reference(slot).is_error());
    EXPECT_DEATH(map.free(slot), "is shared");
    map.mark_bad(2);
    EXPECT_DEATH((void)map.add_reference(2), "add_reference of slot 2, which is bad");
    alignas(8) u8 small[8];
    EXPECT_DEATH(SwapSlotMap(Span<u8>(small, sizeof(small)), 5), "VERIFY");
}

TEST(SwapSlotMap, CheckInvariantsCatchesCorruption) {
    OwnedSlotMap owned(8);
    u32 slot = owned.map.allocate().value();
    // The entries live in the caller's memory: one 16-bit entry per slot. A stray write frees slot 1 behind
    // the counters' back.
    u16* entries = reinterpret_cast<u16*>(owned.buffer.span().data());
    entries[slot] = 0;
    EXPECT_EQ(invariants(owned.map),
              "invariant violated: swap: entries say 7 free, 0 used, 0 bad; counters say 6, 1, 0\n");
    entries[slot] = 1;
    EXPECT_EQ(invariants(owned.map), "");
    entries[0] = 0;  // the header slot made allocatable
    EXPECT_NE(invariants(owned.map).find("header slot 0"), std::string::npos);
}

// The model: the reference count of each usable slot, and the set of bad ones.
struct SlotModel {
    std::map<u32, u32> references;  // slots in use
    std::set<u32> bad;              // marked bad (retired, or in use and to be retired)
    std::set<u32> retired;
};

TEST(SwapSlotMap, RandomOperationsMatchTheModel) {
    constexpr u32 kSlots = 64;
    OwnedSlotMap owned(kSlots);
    SwapSlotMap& map = owned.map;
    SlotModel model;
    std::mt19937 random(20240611);
    auto pick = [&](u32 bound) { return static_cast<u32>(random() % bound); };
    auto some_used = [&]() {
        auto it = model.references.begin();
        std::advance(it, pick(static_cast<u32>(model.references.size())));
        return it->first;
    };
    u32 exhausted = 0;
    for (int step = 0; step < 20000; ++step) {
        switch (pick(6)) {
        case 0:
        case 1: {  // allocate
            auto slot = map.allocate();
            u32 available = kSlots - 1 - static_cast<u32>(model.references.size() + model.retired.size());
            if (available == 0) {
                ++exhausted;
                ASSERT_TRUE(slot.is_error());
                ASSERT_EQ(slot.error(), Error::NoSpace);
                break;
            }
            ASSERT_FALSE(slot.is_error()) << "step " << step;
            ASSERT_NE(slot.value(), 0u);
            ASSERT_EQ(model.references.count(slot.value()), 0u) << "handed out a slot in use";
            ASSERT_EQ(model.bad.count(slot.value()), 0u) << "handed out a bad slot";
            model.references[slot.value()] = 1;
            break;
        }
        case 2:  // fork shares a slot
            if (!model.references.empty()) {
                u32 slot = some_used();
                ASSERT_FALSE(map.add_reference(slot).is_error());
                ++model.references[slot];
            }
            break;
        case 3:  // a PTE lets go
            if (!model.references.empty()) {
                u32 slot = some_used();
                u32 left = --model.references[slot];
                ASSERT_EQ(map.release(slot), left);
                if (left == 0) {
                    model.references.erase(slot);
                    if (model.bad.count(slot)) model.retired.insert(slot);
                }
            }
            break;
        case 4:  // the sole owner frees
            if (!model.references.empty()) {
                u32 slot = some_used();
                if (model.references[slot] != 1 || model.bad.count(slot)) break;
                map.free(slot);
                model.references.erase(slot);
            }
            break;
        case 5:  // an I/O error, rarely
            if (pick(100) == 0) {
                u32 slot = 1 + pick(kSlots - 1);
                map.mark_bad(slot);
                model.bad.insert(slot);
                if (!model.references.count(slot)) model.retired.insert(slot);
            }
            break;
        }
        ASSERT_EQ(invariants(map), "") << "step " << step;
        ASSERT_EQ(map.used_slots(), model.references.size());
        ASSERT_EQ(map.bad_slots(), model.retired.size());
        ASSERT_EQ(map.free_slots(), kSlots - 1 - model.references.size() - model.retired.size());
    }
    for (u32 slot = 1; slot < kSlots; ++slot) {
        auto it = model.references.find(slot);
        EXPECT_EQ(map.references(slot), it == model.references.end() ? 0u : it->second) << "slot " << slot;
        EXPECT_EQ(map.is_bad(slot), model.bad.count(slot) == 1) << "slot " << slot;
    }
    // The run went through exhaustion and retired slots, so those paths were taken.
    EXPECT_GT(exhausted, 100u);
    EXPECT_GT(model.retired.size(), 5u);
}

}  // namespace
