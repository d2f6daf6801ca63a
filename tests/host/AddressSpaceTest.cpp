// AddressSpaceTest.cpp: the decisions of process memory (mm/vm/AddressSpace.h, FaultDecision.h, RegionMap.h)
// on the host: demand-zero and copy-on-write faults, brk, mmap and mprotect with the commit rule, fork's sharing
// (not-present entries with a payload included), user-range checks, out-of-memory, and a fixed-seed random
// walk of faults, writes, forks, brk, mmap and mprotect against a model of every page's contents.
//
// The page tables live in plain memory (the same ops as PageTablesTest.cpp) and the frames come from a
// HostFrames source whose frames are real 4 KiB buffers with reference counts, so a copy-on-write copy
// can be checked byte for byte and a leaked frame shows up as a live buffer at the end. The ops keep a
// reverse map (mm/vm/ReverseMap.h) through the frame-table hooks, as the kernel's do, and the tests check it
// against every live space's page tables: after fork (shared copy-on-write frames), copy-on-write breaks,
// exit, and after every step of the random walk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "arch/i386/PageTableEntry.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/ReverseMap.h"

namespace {

struct HostFrames;

// Page tables in plain memory; a released frame goes back to HostFrames (as the kernel's ops drop a
// reference in the frame allocator), and every mapping is recorded in a reverse map (as the kernel's frame
// table does).
struct HostOps {
    using DirectoryEntry = PageDirectoryEntry;
    using TableEntry = PageTableEntry;
    struct Page {
        u32 words[1024];
    };
    std::map<u32, std::unique_ptr<Page>> tables;
    u32 next_table = 0x10000000;
    HostFrames* frames = nullptr;
    std::vector<u32> invalidations;
    std::vector<u32> released_payloads;

    long table_fail_after = -1;  // table allocations that still succeed; -1 = never fail

    ErrorOr<u32> allocate_table() {
        if (table_fail_after == 0) return Error::NoMemory;
        if (table_fail_after > 0) --table_fail_after;
        u32 address = next_table;
        next_table += kPageSize;
        tables[address] = std::make_unique<Page>();
        return address;
    }
    void free_table(u32 address) { tables.erase(address); }
    PageDirectoryEntry* directory(u32 address) {
        return reinterpret_cast<PageDirectoryEntry*>(tables.at(address)->words);
    }
    PageTableEntry* table(u32 address) { return reinterpret_cast<PageTableEntry*>(tables.at(address)->words); }
    void invalidate(u32, u32 vaddr) { invalidations.push_back(vaddr); }
    ErrorOr<void> frame_mapped(u32 directory, u32 vaddr, u32 physical) {
        return reverse_map->add(physical >> kPageShift, directory, vaddr);
    }
    void frame_mapping_undone(u32 directory, u32 vaddr, u32 physical) {
        EXPECT_FALSE(reverse_map->remove(physical >> kPageShift, directory, vaddr).is_error());
    }
    void release_frame(u32 directory, u32 vaddr, u32 physical);
    void release_not_present(u32, PageTableEntry entry) { released_payloads.push_back(entry.not_present_payload()); }

    // The reverse map over frames kFirstFrame.. (HostFrames hands them out from there), with `nodes` nodes.
    static constexpr u32 kFirstFrame = 0x00100000;
    static constexpr u32 kFrames = 0x1000;
    std::vector<ReverseMap::Slot> reverse_slots, reverse_nodes;
    std::unique_ptr<ReverseMap> reverse_map;
    void make_reverse_map(u32 nodes) {
        reverse_slots.assign(kFrames, {});
        reverse_nodes.assign(nodes, {});
        reverse_map = std::make_unique<ReverseMap>(Span<ReverseMap::Slot>(reverse_slots.data(), kFrames),
                                                   Span<ReverseMap::Slot>(reverse_nodes.data(), nodes),
                                                   kFirstFrame >> kPageShift);
    }
};

// Frames as real buffers with reference counts. `fail_after` makes allocation fail on demand.
struct HostFrames {
    struct Frame {
        u32 references = 0;
        std::vector<u8> bytes = std::vector<u8>(kPageSize, 0);
    };
    std::map<u32, Frame> frames;
    u32 next = 0x00100000;
    long fail_after = -1;  // allocations that still succeed; -1 = never fail
    u32 limit = 1024;      // commit limit in pages
    std::vector<u32> duplicated_payloads;

    ErrorOr<u32> take() {
        if (fail_after == 0) return Error::NoMemory;
        if (fail_after > 0) --fail_after;
        VERIFY(next < HostOps::kFirstFrame + HostOps::kFrames * kPageSize);  // the reverse map covers it
        u32 address = next;
        next += kPageSize;
        frames[address].references = 1;
        return address;
    }
    ErrorOr<u32> allocate_zeroed() { return take(); }
    ErrorOr<u32> allocate_copy(u32 source) {
        u32 address = TRY(take());
        frames[address].bytes = frames.at(source).bytes;
        return address;
    }
    void share(u32 physical) { ++frames.at(physical).references; }
    u32 references(u32 physical) { return frames.at(physical).references; }
    void release(u32 physical) {
        Frame& frame = frames.at(physical);
        EXPECT_GT(frame.references, 0u);
        if (--frame.references == 0) frames.erase(physical);
    }
    void write(u32 physical, u32 offset, const void* data, u32 length) {
        ASSERT_LE(offset + length, kPageSize);
        memcpy(frames.at(physical).bytes.data() + offset, data, length);
    }
    u32 commit_limit() { return limit; }
    ErrorOr<void> duplicate_payload(u32 payload) {
        if (fail_duplicate) return Error::OutOfRange;
        duplicated_payloads.push_back(payload);
        return {};
    }
    u8* bytes(u32 physical) { return frames.at(physical).bytes.data(); }

    // A swap device in memory: slot -> page. swap_in() fails with IO for the slots in `unreadable`.
    std::map<u32, std::vector<u8>> slots;
    std::vector<u32> unreadable;
    std::vector<std::pair<u32, u32>> swapped_in_calls;  // (slot, frame)
    std::vector<u32> dirty_shares;
    bool fail_duplicate = false;
    ErrorOr<u32> swap_in(u32 slot) {
        for (u32 bad : unreadable)
            if (bad == slot) return Error::IO;
        u32 address = TRY(take());
        frames[address].bytes = slots.at(slot);
        return address;
    }
    void swapped_in(u32 slot, u32 physical) { swapped_in_calls.emplace_back(slot, physical); }
    void shared_dirty(u32 physical) { dirty_shares.push_back(physical); }
};

void HostOps::release_frame(u32 directory, u32 vaddr, u32 physical) {
    EXPECT_FALSE(reverse_map->remove(physical >> kPageShift, directory, vaddr).is_error())
        << std::hex << "directory " << directory << " released " << vaddr << " -> " << physical << " unrecorded";
    frames->release(physical);
}

using Tables = PageTables<HostOps>;
using Space = AddressSpace<HostOps, HostFrames>;
using namespace user_layout;

// How ReverseMap::check_against reads the page tables of a set of live spaces.
struct LiveSpaces {
    HostOps* ops;
    std::vector<Space*> spaces;
    void for_each_space(auto visit) {
        for (Space* space : spaces) visit(space->directory());
    }
    void for_each_mapping(u32 directory, auto visit) {
        for (Space* space : spaces) {
            if (space->directory() != directory) continue;
            space->tables().for_each_mapping(0, kKernelBase / kPageSize, [&](u32 vaddr, PageTableEntry& entry) {
                visit(vaddr, entry.physical_address());
            });
        }
    }
    ErrorOr<u32> translate(u32 directory, u32 vaddr) {
        auto walk = Tables::walk(*ops, directory, vaddr);
        if (!walk.mapped) return Error::NoEntry;
        return walk.pte.physical_address();
    }
};

// "" when the reverse map is exactly the page tables of `spaces`, and every live frame has one reference per
// mapping; otherwise what disagrees.
std::string reverse_map_text(HostOps& ops, HostFrames& frames, std::vector<Space*> spaces) {
    std::string text;
    LiveSpaces walker{&ops, std::move(spaces)};
    ops.reverse_map->check_against(
        walker, [](void* c, const char* p, size_t n) { static_cast<std::string*>(c)->append(p, n); }, &text);
    if (!text.empty()) return text;
    for (const auto& [physical, frame] : frames.frames) {
        u32 mappings = ops.reverse_map->count(physical >> kPageShift);
        if (mappings != frame.references)
            return "frame " + std::to_string(physical) + " has " + std::to_string(mappings) + " mappings but " +
                   std::to_string(frame.references) + " references";
    }
    if (ops.reverse_map->mapped_frames() != frames.frames.size()) return "the reverse map records a freed frame";
    return text;
}
#define EXPECT_REVERSE_MAP_OK(...) EXPECT_EQ(reverse_map_text(ops, frames, {__VA_ARGS__}), "")

std::string invariant_text(const Space& space) {
    std::string text;
    space.check_invariants([](void* c, const char* p, size_t n) { static_cast<std::string*>(c)->append(p, n); }, &text);
    return text;
}
#define EXPECT_SPACE_OK(space) EXPECT_EQ(invariant_text(space), "")

class AddressSpaceTest : public ::testing::Test {
protected:
    void SetUp() override {
        ops.frames = &frames;
        ops.make_reverse_map(HostOps::kFrames);
        auto kernel = Tables::create_kernel(ops);
        ASSERT_FALSE(kernel.is_error());
        m_kernel = std::make_unique<Tables>(kernel.release_value());
    }
    std::unique_ptr<Space> make_space() {
        auto space = Space::create(ops, *m_kernel, frames);
        VERIFY(!space.is_error());
        return std::make_unique<Space>(space.release_value());
    }
    // The frame behind `address`, whose bytes the test may read.
    u8* page_bytes(Space& space, u32 address) {
        auto physical = space.translate(address);
        VERIFY(!physical.is_error());
        return frames.bytes(physical.value() & ~(kPageSize - 1)) + (physical.value() % kPageSize);
    }
    Protection protection_at(Space& space, u32 address) {
        return Tables::protection_of(space.tables().walk(address).pte);
    }
    // The user frames still alive: the kernel's own tables hold none.
    size_t live_frames() const { return frames.frames.size(); }

    HostFrames frames;
    HostOps ops;
    std::unique_ptr<Tables> m_kernel;
};

constexpr u32 kData = 0x00800000;

// ---------------------------------------------------------------------------------------------------------
// The decision table, case by case
// ---------------------------------------------------------------------------------------------------------

TEST(FaultDecisionTest, EveryRowOfTheTable) {
    MemoryRegion rw{kData, kData + kPageSize, RegionKind::Heap, true};
    MemoryRegion ro{kProgramBase, kProgramBase + kPageSize, RegionKind::Program, false};
    PageState absent{};
    PageState cow_shared{.present = true, .copy_on_write = true, .shared = true};
    PageState cow_alone{.present = true, .copy_on_write = true, .shared = false};
    PageState plain{.present = true};
    PageState swapped{.swap_slot = 7};
    MemoryRegion none{kMappingBase, kMappingBase + kPageSize, RegionKind::Mapping, false, false};  // PROT_NONE
    struct Row {
        const MemoryRegion* region;
        u32 address;
        bool write, on_present;
        PageState page;
        FaultAction action;
        FaultResult reason;
    } rows[] = {
        {nullptr, 0xC0100000, false, true, plain, FaultAction::Kill, FaultResult::ProtectionFault},
        {nullptr, 0x00001000, false, false, absent, FaultAction::Kill, FaultResult::NotInRegion},
        {nullptr, kStackBottom - 4, true, false, absent, FaultAction::Kill, FaultResult::StackOverflow},
        {nullptr, kStackBottom - kStackOverflowReach - 4, true, false, absent, FaultAction::Kill,
         FaultResult::NotInRegion},
        {&rw, kData, true, false, absent, FaultAction::MapZeroed, FaultResult::Resolved},
        {&ro, kProgramBase, false, false, absent, FaultAction::MapZeroed, FaultResult::Resolved},
        {&ro, kProgramBase, true, false, absent, FaultAction::Kill, FaultResult::ProtectionFault},
        {&rw, kData, true, false, plain, FaultAction::Retry, FaultResult::Resolved},
        {&rw, kData, true, true, cow_shared, FaultAction::CopyPage, FaultResult::Resolved},
        {&rw, kData, true, true, cow_alone, FaultAction::MakeWritable, FaultResult::Resolved},
        {&rw, kData, false, true, cow_shared, FaultAction::Kill, FaultResult::ProtectionFault},
        {&ro, kProgramBase, true, true, cow_shared, FaultAction::Kill, FaultResult::ProtectionFault},
        {&rw, kData, true, true, plain, FaultAction::Kill, FaultResult::ProtectionFault},
        {&rw, kData, true, true, absent, FaultAction::Kill, FaultResult::ProtectionFault},
        {&none, kMappingBase, false, false, absent, FaultAction::Kill, FaultResult::ProtectionFault},
        {&none, kMappingBase, true, false, absent, FaultAction::Kill, FaultResult::ProtectionFault},
        {&rw, kData, false, false, swapped, FaultAction::SwapIn, FaultResult::Resolved},
        {&rw, kData, true, false, swapped, FaultAction::SwapIn, FaultResult::Resolved},
        {&ro, kProgramBase, false, false, swapped, FaultAction::SwapIn, FaultResult::Resolved},
        {&ro, kProgramBase, true, false, swapped, FaultAction::Kill, FaultResult::ProtectionFault},
        {nullptr, 0x00001000, false, false, swapped, FaultAction::Kill, FaultResult::NotInRegion},
    };
    for (const Row& row : rows) {
        FaultDecision d = decide_fault(row.region, row.address, row.write, row.on_present, row.page);
        EXPECT_EQ(int(d.action), int(row.action)) << std::hex << row.address << " write " << row.write;
        EXPECT_EQ(int(d.reason), int(row.reason)) << std::hex << row.address << " write " << row.write;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Regions
// ---------------------------------------------------------------------------------------------------------

TEST(RegionMapTest, AddFindOverlapAndHoles) {
    RegionMap map;
    EXPECT_FALSE(map.add(0x1000, 0x3000, RegionKind::Program, false).is_error());
    EXPECT_EQ(map.add(0x2000, 0x4000, RegionKind::Heap, true).error(), Error::Exists);
    EXPECT_EQ(map.add(0x1001, 0x4000, RegionKind::Heap, true).error(), Error::Invalid);
    EXPECT_EQ(map.add(0xBFFFF000, 0xC0001000, RegionKind::Heap, true).error(), Error::Invalid);
    EXPECT_FALSE(map.add(0x5000, 0x6000, RegionKind::Mapping, true).is_error());
    EXPECT_EQ(map.find(0x2fff)->kind, RegionKind::Program);
    EXPECT_EQ(map.find(0x3000), nullptr);
    EXPECT_EQ(map.find_hole(0x1000, 0x10000, 0x2000).value(), 0x3000u);  // between the two
    EXPECT_EQ(map.find_hole(0x1000, 0x10000, 0x3000).value(), 0x6000u);  // too big for the gap
    EXPECT_EQ(map.find_hole(0x1000, 0x7000, 0x3000).error(), Error::NoMemory);
    EXPECT_EQ(map.reserved_pages(), 1u);  // the mapping; program regions are not counted
    EXPECT_TRUE(map.check_invariants());
}

TEST(RegionMapTest, RemoveMappingsSplitsShrinksAndRefusesWhenFull) {
    RegionMap map;
    ASSERT_FALSE(map.add(0x10000, 0x20000, RegionKind::Mapping, true).is_error());
    ASSERT_FALSE(map.remove_mappings(0x14000, 0x16000).is_error());  // a hole in the middle
    EXPECT_EQ(map.count(), 2u);
    EXPECT_NE(map.find(0x13000), nullptr);
    EXPECT_EQ(map.find(0x14000), nullptr);
    EXPECT_NE(map.find(0x16000), nullptr);
    ASSERT_FALSE(map.remove_mappings(0x0, 0x12000).is_error());  // the front
    EXPECT_EQ(map.find(0x11000), nullptr);
    EXPECT_NE(map.find(0x12000), nullptr);
    // Fill the table, then ask for a split: refused, nothing changed.
    for (u32 i = map.count(); i < RegionMap::kMaxRegions; ++i)
        ASSERT_FALSE(
            map.add(0x100000 + i * 0x10000, 0x100000 + i * 0x10000 + 0x3000, RegionKind::Mapping, true).is_error());
    u32 count = map.count();
    EXPECT_EQ(map.remove_mappings(0x101000 + 0x10000 * 10, 0x102000 + 0x10000 * 10).error(), Error::NoMemory);
    EXPECT_EQ(map.count(), count);
    EXPECT_TRUE(map.check_invariants());
}

// ---------------------------------------------------------------------------------------------------------
// Demand-zero, copy-on-write, fork
// ---------------------------------------------------------------------------------------------------------

TEST_F(AddressSpaceTest, DemandZeroMapsAZeroedFrameOnFirstTouch) {
    auto space = make_space();
    ASSERT_FALSE(space->add_region(kData, kData + 4 * kPageSize, RegionKind::Mapping, true).is_error());
    EXPECT_TRUE(space->translate(kData + 0x10).is_error());
    EXPECT_EQ(space->handle_fault(kData + 0x1234, false, false), FaultResult::Resolved);
    EXPECT_EQ(space->page_faults(), 1u);
    EXPECT_EQ(live_frames(), 1u);
    u8* page = page_bytes(*space, kData + 0x1000);
    for (u32 i = 0; i < kPageSize; ++i) ASSERT_EQ(page[i], 0) << i;
    Protection p = protection_at(*space, kData + 0x1000);
    EXPECT_TRUE(p.writable && p.user && !p.copy_on_write);
    // A second fault on the same page (another path mapped it) is resolved without a new frame.
    EXPECT_EQ(space->handle_fault(kData + 0x1000, true, false), FaultResult::Resolved);
    EXPECT_EQ(live_frames(), 1u);
    EXPECT_SPACE_OK(*space);
    space.reset();
    EXPECT_EQ(live_frames(), 0u) << "destroying the space gives every frame back";
}

TEST_F(AddressSpaceTest, FaultsThatKill) {
    auto space = make_space();
    ASSERT_FALSE(space->add_region(kProgramBase, kProgramBase + kPageSize, RegionKind::Program, false).is_error());
    EXPECT_EQ(space->handle_fault(0x00001000, false, false), FaultResult::NotInRegion);
    EXPECT_EQ(space->handle_fault(kStackBottom - 8, true, false), FaultResult::StackOverflow);
    EXPECT_EQ(space->handle_fault(0xC0000000, false, true), FaultResult::ProtectionFault);
    EXPECT_EQ(space->handle_fault(kProgramBase, true, false), FaultResult::ProtectionFault);
    // Read it in, then write it: a protection violation on a present page not marked copy-on-write.
    EXPECT_EQ(space->handle_fault(kProgramBase, false, false), FaultResult::Resolved);
    EXPECT_EQ(space->handle_fault(kProgramBase, true, true), FaultResult::ProtectionFault);
    EXPECT_EQ(live_frames(), 1u);
}

TEST_F(AddressSpaceTest, CopyOnWriteCopiesForTheWriterAndHandsTheLastUserItsFrame) {
    auto parent = make_space();
    ASSERT_FALSE(parent->add_region(kData, kData + 2 * kPageSize, RegionKind::Heap, true).is_error());
    ASSERT_FALSE(parent->populate(kData, 2).is_error());
    const char text[] = "written before fork";
    ASSERT_FALSE(parent->write(kData + 100, text, sizeof(text)).is_error());
    u32 frame = parent->translate(kData).value() & ~(kPageSize - 1);

    auto child = make_space();
    ASSERT_FALSE(parent->fork_into(*child).is_error());
    EXPECT_EQ(frames.references(frame), 2u);
    EXPECT_EQ(child->translate(kData).value() & ~(kPageSize - 1), frame);
    for (Space* s : {parent.get(), child.get()}) {
        Protection p = protection_at(*s, kData);
        EXPECT_TRUE(p.copy_on_write && !p.writable && p.user);
    }
    EXPECT_NE(std::find(ops.invalidations.begin(), ops.invalidations.end(), kData), ops.invalidations.end())
        << "the parent's writable entry became read-only: its TLB entry must go";

    // The child writes: it gets a copy with the same bytes; the parent keeps the original.
    EXPECT_EQ(child->handle_fault(kData + 100, true, true), FaultResult::Resolved);
    u32 copy = child->translate(kData).value() & ~(kPageSize - 1);
    EXPECT_NE(copy, frame);
    EXPECT_STREQ(reinterpret_cast<const char*>(page_bytes(*child, kData + 100)), text);
    EXPECT_EQ(frames.references(frame), 1u);
    Protection after = protection_at(*child, kData);
    EXPECT_TRUE(after.writable && !after.copy_on_write);
    page_bytes(*child, kData + 100)[0] = 'W';
    EXPECT_EQ(page_bytes(*parent, kData + 100)[0], 'w');

    // The parent writes: it is the frame's last user, so it simply gets write access back.
    EXPECT_EQ(parent->handle_fault(kData, true, true), FaultResult::Resolved);
    EXPECT_EQ(parent->translate(kData).value() & ~(kPageSize - 1), frame);
    EXPECT_TRUE(protection_at(*parent, kData).writable);
    EXPECT_SPACE_OK(*parent);
    EXPECT_SPACE_OK(*child);
    child.reset();
    parent.reset();
    EXPECT_EQ(live_frames(), 0u);
}

TEST_F(AddressSpaceTest, ReverseMapFollowsForkCopyOnWriteAndExit) {
    auto parent = make_space();
    ASSERT_FALSE(parent->add_region(kData, kData + 3 * kPageSize, RegionKind::Heap, true).is_error());
    ASSERT_FALSE(parent->populate(kData, 3).is_error());
    const ReverseMap& map = *ops.reverse_map;
    u32 frame = parent->translate(kData).value() >> kPageShift;
    EXPECT_EQ(map.count(frame), 1u);
    EXPECT_TRUE(map.contains(frame, parent->directory(), kData));
    EXPECT_REVERSE_MAP_OK(parent.get());

    // Fork twice: every frame is shared three ways, one mapping per address space, all at the same address.
    auto child = make_space();
    ASSERT_FALSE(parent->fork_into(*child).is_error());
    auto grandchild = make_space();
    ASSERT_FALSE(child->fork_into(*grandchild).is_error());
    std::vector<ReverseMapping> seen;
    map.for_each(frame, [&](ReverseMapping m) { seen.push_back(m); });
    std::vector<ReverseMapping> expected{
        {parent->directory(), kData}, {child->directory(), kData}, {grandchild->directory(), kData}};
    EXPECT_TRUE(std::is_permutation(seen.begin(), seen.end(), expected.begin(), expected.end()));
    EXPECT_EQ(map.mappings(), 9u);
    EXPECT_EQ(map.mapped_frames(), 3u);
    EXPECT_EQ(map.nodes_in_use(), 6u) << "the first mapping of a frame is inline, the others take nodes";
    EXPECT_REVERSE_MAP_OK(parent.get(), child.get(), grandchild.get());

    // The child breaks copy-on-write: the shared frame loses its mapping, the copy gains it.
    EXPECT_EQ(child->handle_fault(kData, true, true), FaultResult::Resolved);
    u32 copy = child->translate(kData).value() >> kPageShift;
    EXPECT_EQ(map.count(frame), 2u);
    EXPECT_FALSE(map.contains(frame, child->directory(), kData));
    EXPECT_EQ(map.count(copy), 1u);
    EXPECT_TRUE(map.contains(copy, child->directory(), kData));
    EXPECT_REVERSE_MAP_OK(parent.get(), child.get(), grandchild.get());

    // The middle process exits: its mappings go, the others' stay.
    child.reset();
    EXPECT_EQ(map.count(copy), 0u);
    EXPECT_EQ(map.count(frame), 2u);
    EXPECT_REVERSE_MAP_OK(parent.get(), grandchild.get());
    // Then the others exit: nothing is left.
    grandchild.reset();
    EXPECT_EQ(map.mappings(), 3u);
    EXPECT_EQ(map.nodes_in_use(), 0u);
    EXPECT_REVERSE_MAP_OK(parent.get());
    parent.reset();
    EXPECT_EQ(map.mappings(), 0u);
    EXPECT_EQ(map.mapped_frames(), 0u);
    EXPECT_REVERSE_MAP_OK();
    EXPECT_EQ(live_frames(), 0u);
}

TEST_F(AddressSpaceTest, ForkThatRunsOutOfReverseMapNodesFailsAndLeavesTheMapExact) {
    ops.make_reverse_map(2);  // room for two shared mappings
    auto parent = make_space();
    ASSERT_FALSE(parent->add_region(kData, kData + 4 * kPageSize, RegionKind::Heap, true).is_error());
    ASSERT_FALSE(parent->populate(kData, 4).is_error());
    auto child = make_space();
    EXPECT_EQ(parent->fork_into(*child).error(), Error::NoMemory);
    child.reset();
    EXPECT_EQ(ops.reverse_map->nodes_in_use(), 0u);
    EXPECT_EQ(ops.reverse_map->mappings(), 4u);
    EXPECT_REVERSE_MAP_OK(parent.get());
    // Demand-zero and copy-on-write copies map fresh frames, which never need a node: they still work.
    ASSERT_FALSE(parent->add_region(kMappingBase, kMappingBase + kPageSize, RegionKind::Mapping, true).is_error());
    EXPECT_EQ(parent->handle_fault(kMappingBase, true, false), FaultResult::Resolved);
    EXPECT_EQ(parent->handle_fault(kData, true, true), FaultResult::Resolved);
    EXPECT_REVERSE_MAP_OK(parent.get());
    EXPECT_SPACE_OK(*parent);
}

TEST_F(AddressSpaceTest, ForkCopiesNotPresentEntriesThatCarryAPayload) {
    auto parent = make_space();
    ASSERT_FALSE(parent->add_region(kData, kData + 4 * kPageSize, RegionKind::Heap, true).is_error());
    ASSERT_FALSE(parent->tables().set_not_present(kData + kPageSize, 0x1234).is_error());
    auto child = make_space();
    ASSERT_FALSE(parent->fork_into(*child).is_error());
    const PageTableEntry* entry = child->tables().lookup(kData + kPageSize);
    ASSERT_NE(entry, nullptr);
    EXPECT_FALSE(entry->is_present());
    EXPECT_EQ(entry->not_present_payload(), 0x1234u);
    EXPECT_EQ(frames.duplicated_payloads, std::vector<u32>{0x1234u});
    child.reset();
    EXPECT_EQ(ops.released_payloads, std::vector<u32>{0x1234u}) << "the child's copy is released with it";
}

TEST_F(AddressSpaceTest, AFaultOnASwappedOutPageReadsItBackAndMapsItWithTheRegionsRights) {
    auto space = make_space();
    ASSERT_FALSE(space->add_region(kData, kData + 2 * kPageSize, RegionKind::Heap, true).is_error());
    std::vector<u8> page(kPageSize, 0x5A);
    frames.slots[9] = page;
    ASSERT_FALSE(space->tables().set_not_present(kData, 9).is_error());
    EXPECT_EQ(space->statistics().swapped_pages, 1u);
    EXPECT_EQ(space->handle_fault(kData + 12, false, false), FaultResult::Resolved);
    auto walk = space->tables().walk(kData);
    ASSERT_TRUE(walk.mapped);
    EXPECT_TRUE(walk.pte.is_writable()) << "the heap is writable: no second fault for the first write";
    EXPECT_EQ(frames.bytes(walk.physical)[12], 0x5A);
    ASSERT_EQ(frames.swapped_in_calls.size(), 1u);
    EXPECT_EQ(frames.swapped_in_calls[0], std::make_pair(9u, walk.physical));
    EXPECT_EQ(space->major_faults(), 1u);
    EXPECT_EQ(space->statistics().swapped_pages, 0u);
    EXPECT_TRUE(ops.released_payloads.empty()) << "the slot is handed on through swapped_in, not released";
    EXPECT_REVERSE_MAP_OK(space.get());
    EXPECT_SPACE_OK(*space);
}

TEST_F(AddressSpaceTest, AnUnreadableSlotKillsWithSwapInFailedAndKeepsTheEntry) {
    auto space = make_space();
    ASSERT_FALSE(space->add_region(kData, kData + kPageSize, RegionKind::Heap, true).is_error());
    frames.unreadable.push_back(3);
    ASSERT_FALSE(space->tables().set_not_present(kData, 3).is_error());
    EXPECT_EQ(space->handle_fault(kData, true, false), FaultResult::SwapInFailed);
    EXPECT_EQ(space->tables().lookup(kData)->not_present_payload(), 3u) << "the slot stays, to be released at exit";
    // A system call that needs the page learns it was lost (Error::IO, not a bad pointer): the kernel then
    // kills the process (MemoryModel::page_lost). Validating the range alone touches no page and succeeds.
    EXPECT_FALSE(space->validate_user_range(kData, 4, false).is_error());
    EXPECT_EQ(space->fault_in(kData, false).error(), Error::IO);
    EXPECT_EQ(space->check_user_range(kData, 4, false).error(), Error::IO);
    EXPECT_TRUE(frames.swapped_in_calls.empty());
}

TEST_F(AddressSpaceTest, CheckUserRangeAndWriteBringSwappedPagesBack) {
    auto space = make_space();
    ASSERT_FALSE(space->add_region(kData, kData + 2 * kPageSize, RegionKind::Heap, true).is_error());
    frames.slots[4] = std::vector<u8>(kPageSize, 1);
    frames.slots[5] = std::vector<u8>(kPageSize, 2);
    ASSERT_FALSE(space->tables().set_not_present(kData, 4).is_error());
    ASSERT_FALSE(space->tables().set_not_present(kData + kPageSize, 5).is_error());
    EXPECT_FALSE(space->check_user_range(kData, 8, true).is_error());
    EXPECT_TRUE(space->tables().walk(kData).mapped);
    u8 byte = 9;
    EXPECT_FALSE(space->write(kData + kPageSize + 1, &byte, 1).is_error());
    u32 physical = space->translate(kData + kPageSize).value();
    EXPECT_EQ(frames.bytes(physical)[0], 2) << "the rest of the page came back from the slot";
    EXPECT_EQ(frames.bytes(physical)[1], 9);
}

TEST_F(AddressSpaceTest, ForkReportsDirtySharedFramesAndFailsCleanlyWhenASlotCannotBeShared) {
    auto parent = make_space();
    ASSERT_FALSE(parent->add_region(kData, kData + 4 * kPageSize, RegionKind::Heap, true).is_error());
    ASSERT_EQ(parent->handle_fault(kData, true, false), FaultResult::Resolved);
    parent->tables().lookup(kData)->set_dirty(true);  // the CPU's mark of a write
    ASSERT_FALSE(parent->tables().set_not_present(kData + kPageSize, 0x44).is_error());
    {
        auto child = make_space();
        ASSERT_FALSE(parent->fork_into(*child).is_error());
        EXPECT_EQ(frames.dirty_shares, std::vector<u32>{parent->translate(kData).value()});
    }
    ops.released_payloads.clear();
    frames.fail_duplicate = true;
    auto child = make_space();
    EXPECT_EQ(parent->fork_into(*child).error(), Error::NoMemory);
    child.reset();
    EXPECT_TRUE(ops.released_payloads.empty()) << "the entry whose slot reference was refused is not released";
    EXPECT_SPACE_OK(*parent);
}

TEST_F(AddressSpaceTest, ForkThatRunsOutOfTablesLeavesTheParentWhole) {
    auto parent = make_space();
    // Pages in two 4 MiB regions: the child needs two page tables.
    ASSERT_FALSE(parent->add_region(kData, kData + kPageSize, RegionKind::Heap, true).is_error());
    ASSERT_FALSE(parent->add_region(kMappingBase, kMappingBase + kPageSize, RegionKind::Mapping, true).is_error());
    ASSERT_FALSE(parent->populate(kData, 1).is_error());
    ASSERT_FALSE(parent->populate(kMappingBase, 1).is_error());
    page_bytes(*parent, kMappingBase)[0] = 42;
    auto child = make_space();
    ops.table_fail_after = 1;
    EXPECT_EQ(parent->fork_into(*child).error(), Error::NoMemory);
    ops.table_fail_after = -1;
    child.reset();
    EXPECT_EQ(live_frames(), 2u);
    EXPECT_EQ(frames.references(parent->translate(kData).value()), 1u) << "the child's share was given back";
    // The parent's pages were made copy-on-write before the failure; a write takes them back without a copy.
    EXPECT_EQ(parent->handle_fault(kData, true, true), FaultResult::Resolved);
    EXPECT_TRUE(protection_at(*parent, kData).writable);
    EXPECT_EQ(page_bytes(*parent, kMappingBase)[0], 42);
    EXPECT_SPACE_OK(*parent);
}

// ---------------------------------------------------------------------------------------------------------
// brk, mmap, munmap and the commit rule
// ---------------------------------------------------------------------------------------------------------

TEST_F(AddressSpaceTest, BrkGrowsWithinTheCommitLimitAndShrinkingFreesPages) {
    frames.limit = 8;
    auto space = make_space();
    ASSERT_FALSE(space->set_heap_start(kData).is_error());
    EXPECT_EQ(space->brk(0), kData);
    EXPECT_EQ(space->brk(kData + 3 * kPageSize + 1), kData + 3 * kPageSize + 1);
    EXPECT_EQ(space->regions().find(kData + 3 * kPageSize)->kind, RegionKind::Heap);
    EXPECT_EQ(live_frames(), 0u) << "growing only promises pages";
    EXPECT_EQ(space->brk(kData + 9 * kPageSize), kData + 3 * kPageSize + 1) << "over the commit limit: refused";
    ASSERT_FALSE(space->check_user_range(kData, 4 * kPageSize, true).is_error());
    EXPECT_EQ(live_frames(), 4u);
    EXPECT_EQ(space->brk(kData + kPageSize), kData + kPageSize);
    EXPECT_EQ(live_frames(), 1u) << "shrinking gives the pages back at once";
    EXPECT_EQ(space->brk(kData - kPageSize), kData + kPageSize) << "below the heap's start: refused";
    EXPECT_EQ(space->brk(kMappingBase + 1), kData + kPageSize) << "into the mmap area: refused";
    EXPECT_SPACE_OK(*space);
}

TEST_F(AddressSpaceTest, MmapPlacesFirstFitMergesAndMunmapSplits) {
    auto space = make_space();
    u32 a = space->map_anonymous(3 * kPageSize, true).value();
    EXPECT_EQ(a, kMappingBase);
    u32 b = space->map_anonymous(kPageSize, true).value();
    EXPECT_EQ(b, a + 3 * kPageSize);
    EXPECT_EQ(space->regions().count(), 1u) << "adjacent mappings with the same rights merge";
    u32 c = space->map_anonymous(kPageSize, false).value();
    EXPECT_EQ(space->regions().count(), 2u);
    ASSERT_FALSE(space->check_user_range(a, 4 * kPageSize, true).is_error());
    EXPECT_EQ(live_frames(), 4u);
    ASSERT_FALSE(space->unmap(a + kPageSize, kPageSize).is_error());
    EXPECT_EQ(live_frames(), 3u);
    EXPECT_EQ(space->regions().count(), 3u) << "a hole in the middle splits the region";
    EXPECT_EQ(space->map_anonymous(kPageSize, true).value(), a + kPageSize) << "first fit reuses the hole";
    EXPECT_EQ(space->map_anonymous(0, true).error(), Error::Invalid);
    frames.limit = 6;
    EXPECT_EQ(space->map_anonymous(2 * kPageSize, true).error(), Error::NoMemory) << "commit rule";
    ASSERT_FALSE(space->add_region(kProgramBase, kProgramBase + kPageSize, RegionKind::Program, false).is_error());
    EXPECT_EQ(space->unmap(kProgramBase, kPageSize).error(), Error::Invalid) << "only mmap regions unmap";
    EXPECT_EQ(space->unmap(a + 1, kPageSize).error(), Error::Invalid);
    (void)c;
    EXPECT_SPACE_OK(*space);
}

// PROT_NONE: the range is reserved (mmap places nothing else there) but every access kills, no frame is
// ever mapped, the kernel refuses it as a user buffer, and the reservation is not a commitment.
TEST_F(AddressSpaceTest, ProtNoneReservesWithoutAccessOrCommitment) {
    frames.limit = 4;
    auto space = make_space();
    u32 none = space->map_anonymous(64 * kPageSize, false, false).value();  // far beyond the commit limit
    EXPECT_EQ(none, kMappingBase);
    EXPECT_EQ(space->regions().reserved_pages(), 0u);
    EXPECT_EQ(space->handle_fault(none, false, false), FaultResult::ProtectionFault);
    EXPECT_EQ(space->handle_fault(none + kPageSize, true, false), FaultResult::ProtectionFault);
    EXPECT_EQ(space->check_user_range(none, 4, false).error(), Error::BadAddress);
    EXPECT_EQ(live_frames(), 0u);
    u32 rw = space->map_anonymous(kPageSize, true).value();
    EXPECT_EQ(rw, none + 64 * kPageSize) << "the reservation keeps its range";
    EXPECT_EQ(space->regions().count(), 2u) << "an accessible mapping does not merge into a PROT_NONE one";
    ASSERT_FALSE(space->unmap(none, 64 * kPageSize).is_error());
    EXPECT_SPACE_OK(*space);
}

// mprotect (AddressSpace::protect): rights change in place, the regions split and merge, and the commit rule
// counts exactly the pages that are accessible.
constexpr u32 kRead = 1, kWrite = 2, kExec = 4, kNone = 0;

TEST(RegionMapTest, ProtectMappingsSplitsMergesAndRefuses) {
    EXPECT_EQ(region_access(8).error(), Error::Invalid);
    EXPECT_TRUE(region_access(kRead | kWrite).value().writable);
    EXPECT_TRUE(region_access(kExec).value().accessible);
    EXPECT_FALSE(region_access(kNone).value().accessible);

    RegionMap map;
    ASSERT_FALSE(map.add(0x10000, 0x20000, RegionKind::Mapping, false, false).is_error());
    ASSERT_FALSE(map.protect_mappings(0x12000, 0x14000, true, true).is_error());
    EXPECT_EQ(map.count(), 3u) << "a range inside a region splits it in three";
    EXPECT_TRUE(map.find(0x13fff)->writable);
    EXPECT_FALSE(map.find(0x14000)->accessible);
    EXPECT_EQ(map.reserved_pages(), 2u);
    ASSERT_FALSE(map.protect_mappings(0x14000, 0x16000, true, true).is_error());
    EXPECT_EQ(map.count(), 3u) << "the next piece merges into its neighbour with the same rights";
    EXPECT_EQ(map.find(0x12000)->end, 0x16000u);
    ASSERT_FALSE(map.protect_mappings(0x12000, 0x16000, false, true).is_error());
    EXPECT_FALSE(map.find(0x12000)->writable);
    EXPECT_EQ(map.count(), 3u);
    ASSERT_FALSE(map.protect_mappings(0x10000, 0x20000, false, false).is_error());
    EXPECT_EQ(map.count(), 1u) << "back to one reservation";
    EXPECT_EQ(map.reserved_pages(), 0u);
    EXPECT_TRUE(map.check_invariants());

    EXPECT_EQ(map.protect_mappings(0x10800, 0x12000, true, true).error(), Error::Invalid) << "unaligned";
    EXPECT_EQ(map.protect_mappings(0x1f000, 0x21000, true, true).error(), Error::NoMemory) << "runs past the region";
    ASSERT_FALSE(map.add(0x20000, 0x22000, RegionKind::Heap, true).is_error());
    EXPECT_EQ(map.protect_mappings(0x1f000, 0x21000, true, true).error(), Error::Invalid) << "reaches the heap";
    EXPECT_FALSE(map.find(0x1f000)->accessible) << "nothing changed";
    // A table with no free slot refuses a split, but not a change that needs none.
    for (u32 i = map.count(); i < RegionMap::kMaxRegions; ++i)
        ASSERT_FALSE(
            map.add(0x100000 + i * 0x10000, 0x100000 + i * 0x10000 + 0x3000, RegionKind::Mapping, true).is_error());
    EXPECT_EQ(map.protect_mappings(0x12000, 0x13000, true, true).error(), Error::NoMemory);
    EXPECT_FALSE(map.protect_mappings(0x10000, 0x20000, false, false).is_error()) << "no change, no split";
    EXPECT_FALSE(map.protect_mappings(0x10000, 0x20000, true, true).is_error()) << "the whole region: no split";
    EXPECT_TRUE(map.check_invariants());
}

TEST_F(AddressSpaceTest, MprotectCommitsWhatBecomesAccessibleAndFreesWhatBecomesNone) {
    frames.limit = 8;
    auto space = make_space();
    u32 base = space->map_anonymous(64 * kPageSize, false, false).value();  // a reservation: counts nothing
    ASSERT_FALSE(space->protect(base, 4 * kPageSize, kRead | kWrite).is_error());
    EXPECT_EQ(space->regions().reserved_pages(), 4u);
    EXPECT_EQ(space->regions().count(), 2u);
    ASSERT_FALSE(space->check_user_range(base, 4 * kPageSize, true).is_error());
    EXPECT_EQ(live_frames(), 4u);
    page_bytes(*space, base)[0] = 'x';
    EXPECT_EQ(space->protect(base + 4 * kPageSize, 5 * kPageSize, kRead | kWrite).error(), Error::NoMemory)
        << "4 + 5 pages: over the commit limit of 8";
    EXPECT_EQ(space->regions().reserved_pages(), 4u) << "nothing changed";
    EXPECT_EQ(space->regions().count(), 2u);
    ASSERT_FALSE(space->protect(base + 4 * kPageSize, 4 * kPageSize, kRead | kWrite).is_error());
    EXPECT_EQ(space->regions().count(), 2u) << "committed piece by piece, still one accessible region";
    // Already accessible pages are not promised twice.
    ASSERT_FALSE(space->protect(base, 8 * kPageSize, kRead | kWrite).is_error());
    EXPECT_EQ(space->regions().reserved_pages(), 8u);

    // Back to PROT_NONE: the frames go at once (through the edit path: TLB entries invalidated), the pages no
    // longer count, and a touch kills.
    ops.invalidations.clear();
    ASSERT_FALSE(space->protect(base, 2 * kPageSize, kNone).is_error());
    EXPECT_EQ(live_frames(), 2u);
    EXPECT_EQ(space->regions().reserved_pages(), 6u);
    EXPECT_NE(std::find(ops.invalidations.begin(), ops.invalidations.end(), base), ops.invalidations.end());
    EXPECT_EQ(space->handle_fault(base, false, false), FaultResult::ProtectionFault);
    EXPECT_EQ(space->regions().count(), 3u);
    ASSERT_FALSE(space->protect(base, kPageSize, kRead).is_error());
    EXPECT_EQ(space->handle_fault(base, false, false), FaultResult::Resolved);
    EXPECT_EQ(page_bytes(*space, base)[0], 0) << "made accessible again, the page is a fresh zero page";
    EXPECT_EQ(live_frames(), 3u);

    // Errors change nothing.
    EXPECT_EQ(space->protect(base + 1, kPageSize, kRead).error(), Error::Invalid) << "unaligned";
    EXPECT_EQ(space->protect(base, kPageSize, 8).error(), Error::Invalid) << "bad prot";
    EXPECT_EQ(space->protect(base + 60 * kPageSize, 8 * kPageSize, kNone).error(), Error::NoMemory)
        << "runs past the mapping";
    EXPECT_EQ(space->protect(0x20000000, kPageSize, kRead).error(), Error::NoMemory) << "nothing mapped there";
    EXPECT_EQ(space->protect(0xBFFFF000, 0x2000, kRead).error(), Error::NoMemory) << "reaches the kernel half";
    ASSERT_FALSE(space->add_region(kProgramBase, kProgramBase + kPageSize, RegionKind::Program, false).is_error());
    EXPECT_EQ(space->protect(kProgramBase, kPageSize, kRead | kWrite).error(), Error::Invalid) << "not an mmap region";
    EXPECT_FALSE(space->protect(base + 1234 * kPageSize, 0, kRead).is_error()) << "an empty range: nothing to do";
    EXPECT_EQ(live_frames(), 3u);
    EXPECT_EQ(space->regions().reserved_pages(), 7u);
    EXPECT_SPACE_OK(*space);
    ASSERT_FALSE(space->unmap(base, 64 * kPageSize).is_error());
    EXPECT_EQ(live_frames(), 0u);
    EXPECT_REVERSE_MAP_OK(space.get());
}

TEST_F(AddressSpaceTest, MprotectReadOnlyRefusesWritesAndWritableAgainRespectsCopyOnWrite) {
    auto parent = make_space();
    u32 a = parent->map_anonymous(2 * kPageSize, true).value();
    const char text[] = "before mprotect";
    ASSERT_FALSE(parent->write(a, text, sizeof(text)).is_error());
    ASSERT_FALSE(parent->check_user_range(a + kPageSize, 4, true).is_error());
    u32 frame = parent->translate(a).value();

    ops.invalidations.clear();
    ASSERT_FALSE(parent->protect(a, kPageSize, kRead).is_error());
    EXPECT_FALSE(protection_at(*parent, a).writable);
    EXPECT_NE(std::find(ops.invalidations.begin(), ops.invalidations.end(), a), ops.invalidations.end())
        << "a present page lost write access: its TLB entry must go";
    EXPECT_EQ(parent->handle_fault(a, true, true), FaultResult::ProtectionFault);
    EXPECT_EQ(parent->check_user_range(a, 4, true).error(), Error::BadAddress);
    EXPECT_FALSE(parent->check_user_range(a, 4, false).is_error());
    EXPECT_TRUE(protection_at(*parent, a + kPageSize).writable) << "the rest of the mapping keeps its rights";

    // Writable again: the first write faults and, the frame being unshared, keeps it.
    ASSERT_FALSE(parent->protect(a, kPageSize, kRead | kWrite).is_error());
    EXPECT_EQ(parent->regions().count(), 1u);
    EXPECT_EQ(parent->handle_fault(a, true, true), FaultResult::Resolved);
    EXPECT_EQ(parent->translate(a).value(), frame);
    EXPECT_TRUE(protection_at(*parent, a).writable);

    // Read-only, then fork: the page is shared without copy-on-write. When the child makes it writable its
    // first write gets a copy; the parent's page keeps its bytes.
    ASSERT_FALSE(parent->protect(a, 2 * kPageSize, kRead).is_error());
    auto child = make_space();
    ASSERT_FALSE(parent->fork_into(*child).is_error());
    EXPECT_EQ(frames.references(frame), 2u);
    ASSERT_FALSE(child->protect(a, 2 * kPageSize, kRead | kWrite).is_error());
    EXPECT_EQ(child->handle_fault(a, true, true), FaultResult::Resolved);
    EXPECT_NE(child->translate(a).value(), frame);
    page_bytes(*child, a)[0] = 'B';
    EXPECT_EQ(page_bytes(*parent, a)[0], 'b');
    EXPECT_EQ(frames.references(frame), 1u);
    // The child's PROT_NONE drops its pages, not the parent's.
    ASSERT_FALSE(child->protect(a, 2 * kPageSize, kNone).is_error());
    EXPECT_EQ(page_bytes(*parent, a)[0], 'b');
    EXPECT_SPACE_OK(*parent);
    EXPECT_SPACE_OK(*child);
    EXPECT_REVERSE_MAP_OK(parent.get(), child.get());
    child.reset();
    parent.reset();
    EXPECT_EQ(live_frames(), 0u);
}

// ---------------------------------------------------------------------------------------------------------
// User ranges and out-of-memory
// ---------------------------------------------------------------------------------------------------------

TEST_F(AddressSpaceTest, ABadUserRangeCostsNoMemory) {
    frames.limit = 32 * 1024 * 1024 / kPageSize;  // the commit rule lets the 32 MiB mapping through
    auto space = make_space();
    u32 a = space->map_anonymous(32 * 1024 * 1024, true).value();
    // 32 MiB of valid memory followed by an address no region covers: refused before any page is touched.
    EXPECT_EQ(space->check_user_range(a, 32 * 1024 * 1024 + kPageSize, false).error(), Error::BadAddress);
    EXPECT_EQ(live_frames(), 0u);
    EXPECT_EQ(space->check_user_range(0xBFFFF000, 0x2000, false).error(), Error::BadAddress);
    EXPECT_EQ(space->check_user_range(0xFFFFF000, 0x2000, false).error(), Error::BadAddress);
    ASSERT_FALSE(space->add_region(kProgramBase, kProgramBase + kPageSize, RegionKind::Program, false).is_error());
    EXPECT_EQ(space->check_user_range(kProgramBase, 4, true).error(), Error::BadAddress) << "write to code";
    EXPECT_FALSE(space->check_user_range(kProgramBase, 4, false).is_error());
    EXPECT_FALSE(space->check_user_range(a + 10, 0, true).is_error()) << "an empty range is always fine";
}

TEST_F(AddressSpaceTest, OutOfFramesIsReportedAndLeaksNothing) {
    auto space = make_space();
    ASSERT_FALSE(space->add_region(kData, kData + 4 * kPageSize, RegionKind::Heap, true).is_error());
    frames.fail_after = 1;
    EXPECT_EQ(space->handle_fault(kData, true, false), FaultResult::Resolved);
    EXPECT_EQ(space->handle_fault(kData + kPageSize, true, false), FaultResult::OutOfMemory);
    EXPECT_EQ(live_frames(), 1u);
    EXPECT_EQ(space->check_user_range(kData, 3 * kPageSize, true).error(), Error::BadAddress);
    // Copy-on-write with no frame for the copy: the fault reports it and both sides keep the shared frame.
    frames.fail_after = -1;
    auto child = make_space();
    ASSERT_FALSE(space->fork_into(*child).is_error());
    frames.fail_after = 0;
    EXPECT_EQ(child->handle_fault(kData, true, true), FaultResult::OutOfMemory);
    EXPECT_EQ(frames.references(space->translate(kData).value()), 2u);
    EXPECT_SPACE_OK(*child);
}

// ---------------------------------------------------------------------------------------------------------
// A random walk against a model of every page's contents
// ---------------------------------------------------------------------------------------------------------

TEST_F(AddressSpaceTest, RandomFaultsForksBrkMmapAndMprotectAgreeWithAModel) {
    std::mt19937 rng(20261205);
    struct Process {
        std::unique_ptr<Space> space;
        std::map<u32, u8> model;  // page -> the byte each of its first 16 bytes holds (absent: 0)
    };
    std::vector<Process> processes;
    auto spawn = [&] {
        Process p{make_space(), {}};
        VERIFY(!p.space->add_region(kProgramBase, kProgramBase + 16 * kPageSize, RegionKind::Program, true).is_error());
        VERIFY(!p.space->set_heap_start(kData).is_error());
        processes.push_back(std::move(p));
    };
    spawn();
    // Where a process may read (write): its program pages, its heap below the break, its mappings that are
    // not PROT_NONE (and not read-only).
    auto touchable = [&](Process& p, bool write = false) {
        std::vector<u32> pages;
        for (u32 i = 0; i < p.space->regions().count(); ++i) {
            const MemoryRegion& r = p.space->regions()[i];
            if (!r.accessible || (write && !r.writable)) continue;
            for (u32 page = r.start; page < r.end; page += kPageSize) pages.push_back(page);
        }
        return pages;
    };
    auto check_reverse_map = [&](int step) {
        std::vector<Space*> spaces;
        for (Process& q : processes) spaces.push_back(q.space.get());
        ASSERT_EQ(reverse_map_text(ops, frames, spaces), "") << "step " << step;
    };
    auto check = [&](Process& p) {
        EXPECT_SPACE_OK(*p.space);
        for (u32 page : touchable(p)) {
            u8 expected = p.model.count(page) ? p.model[page] : 0;
            auto physical = p.space->translate(page);
            if (physical.is_error()) {
                ASSERT_EQ(expected, 0) << std::hex << page << " lost its contents";
                continue;
            }
            ASSERT_EQ(frames.bytes(physical.value())[0], expected) << std::hex << page;
        }
        for (u32 i = 0; i < p.space->regions().count(); ++i) {
            const MemoryRegion& r = p.space->regions()[i];
            for (u32 page = r.start; page < r.end && !r.accessible; page += kPageSize)
                ASSERT_TRUE(p.space->translate(page).is_error() && !p.model.count(page)) << std::hex << page;
        }
    };
    for (int step = 0; step < 3000; ++step) {
        size_t index = rng() % processes.size();
        Process& p = processes[index];
        int op = static_cast<int>(rng() % 100);
        std::vector<u32> pages = touchable(p), writable_pages = touchable(p, true);
        if (op < 50 && !writable_pages.empty()) {
            // A user write: check the range (faults in, copies on write), then store through the frame.
            u32 page = writable_pages[rng() % writable_pages.size()];
            u8 value = static_cast<u8>(rng() % 255 + 1);
            ASSERT_FALSE(p.space->check_user_range(page, 16, true).is_error());
            u32 physical = p.space->translate(page).value();
            ASSERT_EQ(frames.references(physical), 1u) << "a writable page is never shared";
            memset(frames.bytes(physical), value, 16);
            p.model[page] = value;
        } else if (op < 70 && !pages.empty()) {
            u32 page = pages[rng() % pages.size()];
            ASSERT_FALSE(p.space->check_user_range(page, 16, false).is_error());
        } else if (op < 78 && processes.size() < 6) {
            Process child{make_space(), p.model};
            ASSERT_FALSE(p.space->fork_into(*child.space).is_error());
            processes.push_back(std::move(child));  // `p` may have moved: check through the index
            check(processes[index]);
            check_reverse_map(step);
            continue;
        } else if (op < 84 && processes.size() > 1) {
            processes.erase(processes.begin() + (rng() % processes.size()));
            check_reverse_map(step);
            continue;
        } else if (op < 90) {
            u32 target = kData + (rng() % 12) * kPageSize + (rng() % 2) * 100;
            p.space->brk(target);
            // Pages the heap no longer covers are gone from the model.
            for (auto it = p.model.begin(); it != p.model.end();) {
                const MemoryRegion* r = p.space->regions().find(it->first);
                it = r ? std::next(it) : p.model.erase(it);
            }
        } else if (op < 95) {
            (void)p.space->map_anonymous((rng() % 4 + 1) * kPageSize, true);
        } else if (op < 98) {
            u32 start = kMappingBase + (rng() % 8) * kPageSize;
            if (!p.space->unmap(start, (rng() % 3 + 1) * kPageSize).is_error()) {
                for (auto it = p.model.begin(); it != p.model.end();) {
                    it = p.space->regions().find(it->first) ? std::next(it) : p.model.erase(it);
                }
            }
        } else {
            // mprotect to PROT_NONE, read-only or read-write: PROT_NONE drops the pages' contents.
            static constexpr u32 kProts[] = {kNone, kRead, kRead | kWrite};
            u32 start = kMappingBase + (rng() % 8) * kPageSize, length = (rng() % 3 + 1) * kPageSize;
            u32 prot = kProts[rng() % 3];
            if (!p.space->protect(start, length, prot).is_error() && prot == kNone)
                for (u32 page = start; page < start + length; page += kPageSize) p.model.erase(page);
        }
        check(p);
        check_reverse_map(step);
    }
    for (Process& p : processes) check(p);
    processes.clear();
    EXPECT_EQ(live_frames(), 0u) << "every frame came back";
    EXPECT_EQ(ops.reverse_map->mappings(), 0u) << "and the reverse map is empty";
    EXPECT_EQ(ops.reverse_map->nodes_in_use(), 0u);
}

}  // namespace
