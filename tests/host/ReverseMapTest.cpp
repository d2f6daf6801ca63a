// ReverseMapTest.cpp: mm/vm/ReverseMap on the host: recording and forgetting mappings, the inline first
// mapping and the node pool (exhaustion, reuse, links that need all 24 bits), the internal invariants, and
// check_against() finding each kind of disagreement with a set of fake page tables. A fixed-seed random walk
// compares the map with a plain multimap after every step.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "mm/vm/ReverseMap.h"

namespace {

constexpr u32 kFirst = 0x100;  // first frame covered
constexpr u32 kDirA = 0x00800000, kDirB = 0x00801000, kDirC = 0xFFFFF000;

// A reverse map over `frames` frames from kFirst with `nodes` pool nodes, and its storage.
struct Fixture {
    std::vector<ReverseMap::Slot> slots, nodes;
    ReverseMap map;
    Fixture(u32 frames, u32 node_count)
        : slots(frames, ReverseMap::Slot{0xFFFFFFFF, 0xFFFFFFFF}),      // garbage: the constructor clears slots
          nodes(node_count, ReverseMap::Slot{0xDEADBEEF, 0xDEADBEEF}),  // and never needs the pool cleared
          map(Span<ReverseMap::Slot>(slots.data(), slots.size()), Span<ReverseMap::Slot>(nodes.data(), nodes.size()),
              kFirst) {}
};

std::string invariant_text(const ReverseMap& map) {
    std::string text;
    map.check_invariants([](void* c, const char* p, size_t n) { static_cast<std::string*>(c)->append(p, n); }, &text);
    return text;
}

std::vector<ReverseMapping> mappings_of(const ReverseMap& map, u32 pfn) {
    std::vector<ReverseMapping> out;
    map.for_each(pfn, [&](ReverseMapping m) { out.push_back(m); });
    return out;
}

bool same_set(std::vector<ReverseMapping> a, std::vector<ReverseMapping> b) {
    return a.size() == b.size() && std::is_permutation(a.begin(), a.end(), b.begin());
}

TEST(ReverseMapTest, RecordsCountsAndForgetsMappings) {
    Fixture f(16, 8);
    ReverseMap& map = f.map;
    EXPECT_EQ(map.first_pfn(), kFirst);
    EXPECT_EQ(map.end_pfn(), kFirst + 16);
    EXPECT_EQ(map.count(kFirst), 0u);
    ASSERT_FALSE(map.add(kFirst + 3, kDirA, 0x00400000).is_error());
    EXPECT_EQ(map.nodes_in_use(), 0u) << "a frame's first mapping lives in its slot";
    ASSERT_FALSE(map.add(kFirst + 3, kDirB, 0x00400000).is_error());
    ASSERT_FALSE(map.add(kFirst + 3, kDirC, 0xBFFFF000).is_error());
    ASSERT_FALSE(map.add(kFirst + 4, kDirA, 0x00401000).is_error());
    EXPECT_EQ(map.count(kFirst + 3), 3u);
    EXPECT_EQ(map.count(kFirst + 4), 1u);
    EXPECT_EQ(map.mappings(), 4u);
    EXPECT_EQ(map.mapped_frames(), 2u);
    EXPECT_EQ(map.nodes_in_use(), 2u);
    EXPECT_TRUE(
        same_set(mappings_of(map, kFirst + 3), {{kDirA, 0x00400000}, {kDirB, 0x00400000}, {kDirC, 0xBFFFF000}}));
    EXPECT_TRUE(map.contains(kFirst + 3, kDirC, 0xBFFFF000));
    EXPECT_FALSE(map.contains(kFirst + 3, kDirC, 0x00400000));
    EXPECT_FALSE(map.contains(kFirst + 4, kDirB, 0x00401000));
    EXPECT_EQ(invariant_text(map), "");

    // Forgetting the inline mapping moves a chained one into the slot and frees its node.
    ASSERT_FALSE(map.remove(kFirst + 3, kDirA, 0x00400000).is_error());
    EXPECT_EQ(map.nodes_in_use(), 1u);
    EXPECT_TRUE(same_set(mappings_of(map, kFirst + 3), {{kDirB, 0x00400000}, {kDirC, 0xBFFFF000}}));
    EXPECT_EQ(map.remove(kFirst + 3, kDirA, 0x00400000).error(), Error::NoEntry) << "already forgotten";
    ASSERT_FALSE(map.remove(kFirst + 3, kDirC, 0xBFFFF000).is_error());  // a chained one
    ASSERT_FALSE(map.remove(kFirst + 3, kDirB, 0x00400000).is_error());
    EXPECT_EQ(map.count(kFirst + 3), 0u);
    EXPECT_EQ(map.mapped_frames(), 1u);
    EXPECT_EQ(map.nodes_in_use(), 0u);
    EXPECT_EQ(invariant_text(map), "");
}

TEST(ReverseMapTest, RefusesWhatItCannotRecord) {
    Fixture f(4, 4);
    ReverseMap& map = f.map;
    EXPECT_EQ(map.add(kFirst - 1, kDirA, 0).error(), Error::Invalid) << "below the covered frames";
    EXPECT_EQ(map.add(kFirst + 4, kDirA, 0).error(), Error::Invalid) << "above them";
    EXPECT_EQ(map.add(kFirst, 0, 0x1000).error(), Error::Invalid) << "directory 0 marks an empty slot";
    EXPECT_EQ(map.add(kFirst, kDirA + 4, 0x1000).error(), Error::Invalid);
    EXPECT_EQ(map.add(kFirst, kDirA, 0x1004).error(), Error::Invalid);
    EXPECT_EQ(map.remove(kFirst + 9, kDirA, 0).error(), Error::NoEntry);
    EXPECT_EQ(map.remove(kFirst, kDirA, 0).error(), Error::NoEntry);
    EXPECT_EQ(map.count(kFirst + 9), 0u);
    EXPECT_FALSE(map.covers(kFirst - 1));
    EXPECT_EQ(map.mappings(), 0u);
    ReverseMap empty;
    EXPECT_EQ(empty.add(0, kDirA, 0).error(), Error::Invalid);
    EXPECT_EQ(invariant_text(empty), "");
}

TEST(ReverseMapTest, AFullPoolIsNoMemoryAndFreedNodesAreReused) {
    Fixture f(4, 2);
    ReverseMap& map = f.map;
    for (u32 d : {kDirA, kDirB, kDirC}) ASSERT_FALSE(map.add(kFirst, d, 0x1000).is_error());
    EXPECT_EQ(map.add(kFirst, 0x00900000, 0x1000).error(), Error::NoMemory);
    EXPECT_EQ(map.count(kFirst), 3u) << "nothing changed";
    EXPECT_FALSE(map.add(kFirst + 1, kDirA, 0x2000).is_error()) << "a frame's first mapping needs no node";
    ASSERT_FALSE(map.remove(kFirst, kDirB, 0x1000).is_error());
    EXPECT_FALSE(map.add(kFirst + 1, kDirB, 0x2000).is_error()) << "the freed node serves again";
    EXPECT_EQ(map.add(kFirst + 1, kDirC, 0x2000).error(), Error::NoMemory);
    EXPECT_EQ(map.node_capacity(), 2u);
    EXPECT_EQ(invariant_text(map), "");
}

TEST(ReverseMapTest, LinksUseAllTwentyFourBits) {
    // 6000 mappings of one frame: node numbers above 4095 need the link's high half (the directory word).
    Fixture f(2, 6000);
    ReverseMap& map = f.map;
    for (u32 i = 0; i < 6000; ++i) ASSERT_FALSE(map.add(kFirst, 0x01000000 + i * kPageSize, 0xBFFFF000).is_error());
    ASSERT_FALSE(map.add(kFirst + 1, kDirA, 0).is_error());
    EXPECT_EQ(map.count(kFirst), 6000u);
    EXPECT_EQ(map.nodes_in_use(), 5999u);
    EXPECT_EQ(invariant_text(map), "");
    std::set<u32> directories;
    map.for_each(kFirst, [&](ReverseMapping m) {
        EXPECT_EQ(m.vaddr, 0xBFFFF000u);
        directories.insert(m.directory);
    });
    EXPECT_EQ(directories.size(), 6000u);
    // Forget every other one, then the rest, front and back mixed.
    for (u32 i = 0; i < 6000; i += 2)
        ASSERT_FALSE(map.remove(kFirst, 0x01000000 + i * kPageSize, 0xBFFFF000).is_error());
    EXPECT_EQ(invariant_text(map), "");
    for (u32 i = 5999; i < 6000; i -= 2)
        ASSERT_FALSE(map.remove(kFirst, 0x01000000 + i * kPageSize, 0xBFFFF000).is_error());
    EXPECT_EQ(map.count(kFirst), 0u);
    EXPECT_EQ(map.nodes_in_use(), 0u);
    EXPECT_EQ(map.mappings(), 1u);
    EXPECT_EQ(invariant_text(map), "");
}

TEST(ReverseMapTest, InvariantCheckFindsCorruptLinks) {
    Fixture f(4, 4);
    ASSERT_FALSE(f.map.add(kFirst, kDirA, 0x1000).is_error());
    ASSERT_FALSE(f.map.add(kFirst, kDirB, 0x1000).is_error());
    EXPECT_EQ(invariant_text(f.map), "");
    f.slots[2].vaddr_word = 1;  // an empty slot with a link
    EXPECT_NE(invariant_text(f.map).find("has no mapping but a link"), std::string::npos) << invariant_text(f.map);
    f.slots[2] = {};
    f.nodes[0].vaddr_word |= 1;  // the chained node links to itself
    EXPECT_NE(invariant_text(f.map).find("loops"), std::string::npos) << invariant_text(f.map);
    f.nodes[0].vaddr_word &= ~1u;
    f.slots[0].vaddr_word = (f.slots[0].vaddr_word & ~0xFFFu) | 3;  // a link past what was handed out
    EXPECT_NE(invariant_text(f.map).find("never handed out"), std::string::npos) << invariant_text(f.map);
}

// Fake page tables for check_against: directory -> vaddr -> frame address.
struct FakeTables {
    std::map<u32, std::map<u32, u32>> spaces;
    void for_each_space(auto visit) {
        for (auto& [directory, pages] : spaces) visit(directory);
    }
    void for_each_mapping(u32 directory, auto visit) {
        for (auto& [vaddr, physical] : spaces.at(directory)) visit(vaddr, physical);
    }
    ErrorOr<u32> translate(u32 directory, u32 vaddr) {
        auto& pages = spaces.at(directory);  // throws for a dead directory: check_against must not ask
        auto it = pages.find(vaddr);
        if (it == pages.end()) return Error::NoEntry;
        return it->second;
    }
};

std::string check_text(const ReverseMap& map, FakeTables& tables) {
    std::string text;
    map.check_against(
        tables, [](void* c, const char* p, size_t n) { static_cast<std::string*>(c)->append(p, n); }, &text);
    return text;
}

TEST(ReverseMapTest, CheckAgainstThePageTablesFindsEachDisagreement) {
    Fixture f(16, 16);
    ReverseMap& map = f.map;
    FakeTables tables;
    u32 frame = (kFirst + 2) << kPageShift;
    // A frame shared by two spaces, and one of A's own.
    tables.spaces[kDirA] = {{0x1000, frame}, {0x2000, frame + kPageSize}};
    tables.spaces[kDirB] = {{0x1000, frame}};
    ASSERT_FALSE(map.add(kFirst + 2, kDirA, 0x1000).is_error());
    ASSERT_FALSE(map.add(kFirst + 2, kDirB, 0x1000).is_error());
    ASSERT_FALSE(map.add(kFirst + 3, kDirA, 0x2000).is_error());
    EXPECT_EQ(check_text(map, tables), "");

    // A PTE the map does not record.
    tables.spaces[kDirB][0x5000] = frame + kPageSize;
    EXPECT_NE(check_text(map, tables).find("directory 0x801000 maps 0x5000 to frame 0x103000, which does not record"),
              std::string::npos)
        << check_text(map, tables);
    tables.spaces[kDirB].erase(0x5000);
    // A PTE naming a frame outside the map.
    tables.spaces[kDirB][0x6000] = 0x00010000;
    EXPECT_NE(check_text(map, tables).find("outside the map"), std::string::npos) << check_text(map, tables);
    tables.spaces[kDirB].erase(0x6000);
    // A record whose address space is gone.
    ASSERT_FALSE(map.add(kFirst + 3, kDirC, 0x2000).is_error());
    EXPECT_NE(check_text(map, tables).find("records directory 0xfffff000 at 0x2000, not a live space"),
              std::string::npos)
        << check_text(map, tables);
    ASSERT_FALSE(map.remove(kFirst + 3, kDirC, 0x2000).is_error());
    // A record whose PTE names another frame (recorded there too), or nothing.
    tables.spaces[kDirB][0x1000] = frame + 5 * kPageSize;
    ASSERT_FALSE(map.add(kFirst + 7, kDirB, 0x1000).is_error());
    EXPECT_NE(check_text(map, tables).find("records directory 0x801000 at 0x1000, which maps frame 0x107000"),
              std::string::npos)
        << check_text(map, tables);
    ASSERT_FALSE(map.remove(kFirst + 7, kDirB, 0x1000).is_error());
    tables.spaces[kDirB].erase(0x1000);
    EXPECT_NE(check_text(map, tables).find("records directory 0x801000 at 0x1000, which maps nothing"),
              std::string::npos)
        << check_text(map, tables);
    tables.spaces[kDirB][0x1000] = frame;
    EXPECT_EQ(check_text(map, tables), "");
    // The same mapping recorded twice: only the counts show it.
    ASSERT_FALSE(map.add(kFirst + 2, kDirB, 0x1000).is_error());
    EXPECT_NE(check_text(map, tables).find("4 mappings recorded but the page tables hold 3"), std::string::npos)
        << check_text(map, tables);
}

TEST(ReverseMapTest, RandomAddsAndRemovesAgreeWithAMultimap) {
    std::mt19937 rng(20261206);
    Fixture f(32, 40);
    ReverseMap& map = f.map;
    std::multimap<u32, ReverseMapping> model;
    auto random_mapping = [&] {
        return ReverseMapping{u32(0x00800000 + (rng() % 6) * kPageSize), u32((rng() % 4) * kPageSize)};
    };
    for (int step = 0; step < 20000; ++step) {
        u32 pfn = kFirst + rng() % 32;
        if (rng() % 100 < 55) {
            ReverseMapping m = random_mapping();
            bool present = false;
            auto [first, last] = model.equal_range(pfn);
            for (auto it = first; it != last; ++it) present |= it->second == m;
            if (present) continue;  // the page tables never map one page twice
            bool had_one = first != last;
            auto added = map.add(pfn, m.directory, m.vaddr);
            if (added.is_error()) {
                ASSERT_EQ(added.error(), Error::NoMemory);
                ASSERT_TRUE(had_one) << "a first mapping never needs a node";
                ASSERT_EQ(map.nodes_in_use(), map.node_capacity());
            } else {
                model.insert({pfn, m});
            }
        } else {
            auto [first, last] = model.equal_range(pfn);
            if (first == last || rng() % 10 == 0) {
                ReverseMapping m = random_mapping();
                bool present = false;
                for (auto it = first; it != last; ++it) present |= it->second == m;
                if (!present) {
                    ASSERT_EQ(map.remove(pfn, m.directory, m.vaddr).error(), Error::NoEntry);
                }
                continue;
            }
            auto victim = std::next(first, rng() % std::distance(first, last));
            ASSERT_FALSE(map.remove(pfn, victim->second.directory, victim->second.vaddr).is_error());
            model.erase(victim);
        }
        ASSERT_EQ(invariant_text(map), "") << "step " << step;
        ASSERT_EQ(map.mappings(), model.size());
        std::vector<ReverseMapping> expected;
        auto [first, last] = model.equal_range(pfn);
        for (auto it = first; it != last; ++it) expected.push_back(it->second);
        ASSERT_TRUE(same_set(mappings_of(map, pfn), expected)) << "step " << step;
    }
}

}  // namespace
