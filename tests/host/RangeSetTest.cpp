// RangeSetTest.cpp: RangeSet on table-driven sequences (overlap, adjacency, containment, subtraction across
// several ranges, splits), capacity exhaustion leaving the set unchanged, and a randomized run against a
// bit-per-byte model over a small address space.
#include <gtest/gtest.h>

#include <bitset>
#include <string>
#include <vector>

#include "mm/frame/RangeSet.h"
#include "tests/host/FrameAllocModel.h"

using frame_alloc_test::Random;
using frame_alloc_test::string_sink;

namespace {

struct Op {
    enum Kind { Add, Subtract } kind;
    u64 start;
    u64 end;
};
using Ranges = std::vector<PhysicalRange>;

Ranges contents(const RangeSet& set) { return Ranges(set.begin(), set.end()); }

std::string describe(const Ranges& ranges) {
    std::string text;
    for (const PhysicalRange& r : ranges) text += "[" + std::to_string(r.start) + "," + std::to_string(r.end) + ") ";
    return text;
}

struct Case {
    const char* name;
    std::vector<Op> ops;
    Ranges expected;
};

TEST(RangeSet, TableOfOperations) {
    constexpr u64 kTop = ~0ull;
    const Case cases[] = {
        {"empty", {}, {}},
        {"one range", {{Op::Add, 10, 20}}, {{10, 20}}},
        {"unsorted input comes out sorted",
         {{Op::Add, 50, 60}, {Op::Add, 10, 20}, {Op::Add, 30, 40}},
         {{10, 20}, {30, 40}, {50, 60}}},
        {"overlap merges", {{Op::Add, 10, 20}, {Op::Add, 15, 30}}, {{10, 30}}},
        {"overlap on the left merges", {{Op::Add, 10, 20}, {Op::Add, 5, 12}}, {{5, 20}}},
        {"adjacent ranges merge", {{Op::Add, 10, 20}, {Op::Add, 20, 30}, {Op::Add, 5, 10}}, {{5, 30}}},
        {"contained range changes nothing", {{Op::Add, 10, 40}, {Op::Add, 15, 20}}, {{10, 40}}},
        {"containing range swallows several",
         {{Op::Add, 10, 20}, {Op::Add, 30, 40}, {Op::Add, 50, 60}, {Op::Add, 5, 55}},
         {{5, 60}}},
        {"a range bridging two merges all three",
         {{Op::Add, 10, 20}, {Op::Add, 30, 40}, {Op::Add, 20, 30}},
         {{10, 40}}},
        {"empty range is a no-op", {{Op::Add, 10, 20}, {Op::Add, 30, 30}, {Op::Subtract, 15, 15}}, {{10, 20}}},
        {"subtract the middle splits", {{Op::Add, 10, 40}, {Op::Subtract, 20, 30}}, {{10, 20}, {30, 40}}},
        {"subtract the start", {{Op::Add, 10, 40}, {Op::Subtract, 0, 20}}, {{20, 40}}},
        {"subtract the end", {{Op::Add, 10, 40}, {Op::Subtract, 30, 50}}, {{10, 30}}},
        {"subtract everything", {{Op::Add, 10, 40}, {Op::Subtract, 10, 40}}, {}},
        {"subtract across several ranges",
         {{Op::Add, 10, 20}, {Op::Add, 30, 40}, {Op::Add, 50, 60}, {Op::Add, 70, 80}, {Op::Subtract, 15, 55}},
         {{10, 15}, {55, 60}, {70, 80}}},
        {"subtract only touching changes nothing",
         {{Op::Add, 10, 20}, {Op::Add, 30, 40}, {Op::Subtract, 20, 30}},
         {{10, 20}, {30, 40}}},
        {"subtract from nothing", {{Op::Subtract, 10, 20}}, {}},
        {"the top of the 64-bit space",
         {{Op::Add, kTop - 100, kTop}, {Op::Subtract, kTop - 50, kTop - 40}},
         {{kTop - 100, kTop - 50}, {kTop - 40, kTop}}},
        {"a PC memory map",
         {{Op::Add, 0, 0x9fc00},
          {Op::Add, 0x100000, 0x7fe0000},
          {Op::Add, 0x9fc00, 0xa0000},  // firmware reports the EBDA separately; it touches, so merges
          {Op::Subtract, 0, 0x100000},
          {Op::Subtract, 0x100000, 0x1a3000},
          {Op::Subtract, 0x1a3000, 0x1a4000},
          {Op::Subtract, 0x200000, 0x280000}},
         {{0x1a4000, 0x200000}, {0x280000, 0x7fe0000}}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        PhysicalRange storage[8];
        RangeSet set(storage);
        for (const Op& op : c.ops) {
            auto result = op.kind == Op::Add ? set.add(op.start, op.end) : set.subtract(op.start, op.end);
            ASSERT_FALSE(result.is_error());
        }
        EXPECT_EQ(contents(set), c.expected) << describe(contents(set));
    }
}

TEST(RangeSet, ReversedRangeIsInvalid) {
    PhysicalRange storage[4];
    RangeSet set(storage);
    ASSERT_FALSE(set.add(10, 20).is_error());
    EXPECT_EQ(set.add(30, 25).error(), Error::Invalid);
    EXPECT_EQ(set.subtract(15, 12).error(), Error::Invalid);
    EXPECT_EQ(contents(set), (Ranges{{10, 20}}));
}

TEST(RangeSet, CapacityExhaustionIsReportedAndChangesNothing) {
    PhysicalRange storage[3];
    RangeSet set(storage);
    ASSERT_FALSE(set.add(10, 20).is_error());
    ASSERT_FALSE(set.add(30, 40).is_error());
    ASSERT_FALSE(set.add(50, 60).is_error());
    const Ranges full = {{10, 20}, {30, 40}, {50, 60}};

    auto result = set.add(70, 80);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error(), Error::NoSpace);
    EXPECT_EQ(contents(set), full);
    // Splitting a range needs one more entry.
    EXPECT_EQ(set.subtract(33, 36).error(), Error::NoSpace);
    EXPECT_EQ(contents(set), full);

    // Operations that do not grow the set still work when it is full.
    ASSERT_FALSE(set.add(15, 32).is_error());  // merges two
    EXPECT_EQ(contents(set), (Ranges{{10, 40}, {50, 60}}));
    ASSERT_FALSE(set.add(70, 80).is_error());
    ASSERT_FALSE(set.add(60, 62).is_error());       // adjacent: extends
    ASSERT_FALSE(set.subtract(35, 55).is_error());  // trims two
    EXPECT_EQ(contents(set), (Ranges{{10, 35}, {55, 62}, {70, 80}}));
    EXPECT_EQ(set.count(), set.capacity());
}

TEST(RangeSet, ZeroCapacity) {
    RangeSet set(Span<PhysicalRange>{});
    EXPECT_EQ(set.add(1, 2).error(), Error::NoSpace);
    EXPECT_FALSE(set.subtract(1, 2).is_error());
    EXPECT_TRUE(set.is_empty());
}

TEST(RangeSet, QueriesAndDump) {
    PhysicalRange storage[4];
    RangeSet set(storage);
    ASSERT_FALSE(set.add(0x100000, 0x200000).is_error());
    ASSERT_FALSE(set.add(0x300000, 0x300400).is_error());
    EXPECT_EQ(set.total_size(), 0x100400u);
    EXPECT_EQ(set.count(), 2u);
    EXPECT_EQ(set[1], (PhysicalRange{0x300000, 0x300400}));
    EXPECT_FALSE(set.contains(0xfffff));
    EXPECT_TRUE(set.contains(0x100000));
    EXPECT_TRUE(set.contains(0x1fffff));
    EXPECT_FALSE(set.contains(0x200000));  // the end is exclusive
    EXPECT_FALSE(set.contains(0x2fffff));
    EXPECT_TRUE(set.contains(0x3003ff));
    EXPECT_FALSE(set.contains(~0ull));
    std::string text;
    set.dump(string_sink, &text);
    EXPECT_EQ(text, "  0x00100000-0x001fffff (1024 KiB)\n  0x00300000-0x003003ff (1 KiB)\n");
    set.clear();
    EXPECT_TRUE(set.is_empty());
}

// Random adds and subtracts over [0, 256) against a bitset; with a small capacity, an operation must fail
// with NoSpace exactly when its result would need more ranges than the storage holds, and then change nothing.
TEST(RangeSet, RandomizedAgainstBitsetModel) {
    constexpr u64 kSpace = 256;
    for (size_t capacity : {4u, 16u, 128u}) {
        SCOPED_TRACE("capacity " + std::to_string(capacity));
        std::vector<PhysicalRange> storage(capacity);
        RangeSet set(Span<PhysicalRange>(storage.data(), storage.size()));
        std::bitset<kSpace> model;
        Random random(static_cast<u32>(capacity));
        int refused = 0;
        for (int step = 0; step < 20000; ++step) {
            u64 a = random.below(kSpace + 1);
            u64 b = a + random.below(static_cast<u32>(random.below(4) == 0 ? kSpace : 12));
            if (b > kSpace) b = kSpace;
            bool add = random.below(2) == 0;
            std::bitset<kSpace> next = model;
            for (u64 i = a; i < b; ++i) next[i] = add;
            Ranges expected;
            for (u64 i = 0; i < kSpace;) {
                if (!next[i]) {
                    ++i;
                    continue;
                }
                u64 start = i;
                while (i < kSpace && next[i]) ++i;
                expected.push_back({start, i});
            }
            Ranges before = contents(set);
            auto result = add ? set.add(a, b) : set.subtract(a, b);
            if (expected.size() > capacity) {
                ++refused;
                ASSERT_TRUE(result.is_error());
                ASSERT_EQ(result.error(), Error::NoSpace);
                ASSERT_EQ(contents(set), before);
            } else {
                ASSERT_FALSE(result.is_error());
                model = next;
                ASSERT_EQ(contents(set), expected) << "step " << step;
                ASSERT_EQ(set.total_size(), model.count());
                u64 probe = random.below(kSpace);
                ASSERT_EQ(set.contains(probe), model[probe]);
            }
        }
        if (capacity < 16) {
            EXPECT_GT(refused, 0);
        }
    }
}

}  // namespace
