// FrameTableTests.cpp: the frame table's reverse map (kernel/mm/FrameTable.h) kept exact by the real page
// tables: a process-like address space is forked, its frames shared copy-on-write, one copy broken, then both
// exit; the reverse map is checked against every live address space's page tables at each step.
#include "kernel/debug/KTest.h"
#include "kernel/dev/Console.h"
#include "kernel/memmodel/PagedMemory.h"
#include "kernel/mm/FrameTable.h"
#include "kernel/mm/PhysicalMemory.h"

namespace {

constexpr u32 kHeap = 0x00800000;
constexpr u32 kPages = 4;

u32 pfn_at(PagedMemory& memory, u32 address) {
    auto physical = memory.translate(address);
    return physical.is_error() ? 0 : physical.value() >> 12;
}

bool all_spaces_agree() { return PagedMemory::check_frame_table(console::sink, nullptr); }

}  // namespace

KTEST(frame_table, covers_the_managed_frames) {
    const ReverseMap& map = frame_table::reverse_map();
    EXPECT_EQ(map.first_pfn(), pmm::first_managed_pfn());
    EXPECT_EQ(map.end_pfn(), pmm::end_managed_pfn());
    EXPECT_EQ(map.node_capacity(), map.end_pfn() - map.first_pfn());
    EXPECT(map.check_invariants(console::sink, nullptr));
}

KTEST(frame_table, fork_shares_cow_breaks_and_exit_empties) {
    const ReverseMap& map = frame_table::reverse_map();
    u32 mappings_before = map.mappings();
    u32 nodes_before = map.nodes_in_use();

    auto created = PagedMemory::create();
    ASSERT(!created.is_error());
    PagedMemory* parent = created.value();
    ASSERT(!parent->add_region(kHeap, kHeap + kPages * kPageSize, RegionKind::Heap, true).is_error());
    ASSERT(!parent->populate(kHeap, kPages).is_error());
    const char text[] = "before fork";
    ASSERT(!parent->write(kHeap, text, sizeof(text)).is_error());
    u32 frames[kPages];
    for (u32 i = 0; i < kPages; ++i) {
        frames[i] = pfn_at(*parent, kHeap + i * kPageSize);
        EXPECT_EQ(map.count(frames[i]), 1u);
        EXPECT(map.contains(frames[i], parent->directory(), kHeap + i * kPageSize));
    }
    EXPECT_EQ(map.mappings(), mappings_before + kPages);
    EXPECT(all_spaces_agree());

    // fork: every frame is shared copy-on-write, one mapping per address space.
    auto forked = parent->fork();
    ASSERT(!forked.is_error());
    auto* child = static_cast<PagedMemory*>(forked.value());  // the paged model forks into its own kind
    for (u32 i = 0; i < kPages; ++i) {
        u32 page = kHeap + i * kPageSize;
        EXPECT_EQ(pfn_at(*child, page), frames[i]);
        EXPECT_EQ(map.count(frames[i]), 2u);
        EXPECT(map.contains(frames[i], parent->directory(), page));
        EXPECT(map.contains(frames[i], child->directory(), page));
        EXPECT_EQ(pmm::frame_references(frames[i]), 2u);
    }
    EXPECT_EQ(map.nodes_in_use(), nodes_before + kPages);
    EXPECT(all_spaces_agree());

    // The child writes page 0: it gets a copy; the shared frame keeps only the parent's mapping.
    EXPECT_EQ(child->handle_fault(kHeap, true, true), FaultResult::Resolved);
    u32 copy = pfn_at(*child, kHeap);
    EXPECT_NE(copy, frames[0]);
    EXPECT_EQ(map.count(frames[0]), 1u);
    EXPECT(map.contains(frames[0], parent->directory(), kHeap));
    EXPECT_EQ(map.count(copy), 1u);
    EXPECT(map.contains(copy, child->directory(), kHeap));
    // A demand-zero page of the child's own, then munmap of it.
    auto mapped = child->map_anonymous(kPageSize, true, true);
    ASSERT(!mapped.is_error());
    EXPECT_EQ(child->handle_fault(mapped.value(), true, false), FaultResult::Resolved);
    u32 own = pfn_at(*child, mapped.value());
    EXPECT(map.contains(own, child->directory(), mapped.value()));
    EXPECT(all_spaces_agree());
    ASSERT(!child->unmap(mapped.value(), kPageSize).is_error());
    EXPECT_EQ(map.count(own), 0u);
    EXPECT(all_spaces_agree());

    // The child exits: its mappings go; the parent's frames are its own again.
    delete child;
    EXPECT_EQ(map.count(copy), 0u);
    for (u32 i = 0; i < kPages; ++i) {
        EXPECT_EQ(map.count(frames[i]), 1u);
        EXPECT_EQ(pmm::frame_references(frames[i]), 1u);
    }
    EXPECT_EQ(map.nodes_in_use(), nodes_before);
    EXPECT(all_spaces_agree());

    // The parent exits: the frame table is back where it started.
    delete parent;
    for (u32 i = 0; i < kPages; ++i) EXPECT_EQ(map.count(frames[i]), 0u);
    EXPECT_EQ(map.mappings(), mappings_before);
    EXPECT(all_spaces_agree());
}

KTEST(frame_table, every_live_address_space_agrees) {
    // Whatever runs now (processes, if a shell started them) plus a parent and child made here.
    auto created = PagedMemory::create();
    ASSERT(!created.is_error());
    PagedMemory* parent = created.value();
    ASSERT(!parent->add_region(kHeap, kHeap + kPageSize, RegionKind::Heap, true).is_error());
    ASSERT(!parent->populate(kHeap, 1).is_error());
    auto child = parent->fork();
    ASSERT(!child.is_error());
    u32 spaces = 0;
    PagedMemory::for_each([&](PagedMemory&) { ++spaces; });
    EXPECT(spaces >= 2);
    EXPECT(all_spaces_agree());
    delete child.value();
    delete parent;
    EXPECT(all_spaces_agree());
}
