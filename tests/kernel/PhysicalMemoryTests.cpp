// PhysicalMemoryTests.cpp: the page allocator over the real memory map, in the running kernel.
//
// The boot scenarios run these with -m 8 and -m 3500 and with pmm=bitmap, so each allocator is exhausted and
// refilled over several real memory maps.
#include "kernel/boot/Layout.h"
#include "kernel/boot/Multiboot.h"
#include "kernel/debug/KTest.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/PhysicalMemory.h"

namespace {

// A frame's expected contents: a pattern derived from its pfn and the word's index, so a frame that two
// allocations shared (or that aliased another) shows up as a mismatch.
u32 pattern(u32 pfn, u32 word) { return (pfn * 2654435761u) ^ (word * 40503u) ^ 0xA5A5A5A5u; }

bool overlaps_reserved(u32 pfn, u32 frames) {
    for (u32 i = 0; i < frames; ++i)
        if (pmm::is_reserved(pfn_to_address(pfn + i))) return true;
    return false;
}

bool overlaps_kernel_or_modules(u32 pfn, u32 frames) {
    u64 start = pfn_to_address(pfn), end = pfn_to_address(pfn + frames);
    u64 kernel_start = layout::virtual_to_physical(reinterpret_cast<uptr>(__kernel_start));
    u64 kernel_end = layout::virtual_to_physical(reinterpret_cast<uptr>(__kernel_end));
    if (start < kernel_end && end > kernel_start) return true;
    for (u32 i = 0; i < multiboot::module_count(); ++i) {
        const multiboot::Module& m = multiboot::module(i);
        if (start < m.end && end > m.start) return true;
    }
    // Page 0 (the real-mode interrupt table and BIOS data) and whatever the loader left its data in.
    if (start < kFrameSize) return true;
    multiboot::PhysicalExtent extents[16];
    u32 n = multiboot::loader_data_extents(extents, 16);
    for (u32 i = 0; i < n; ++i)
        if (start < extents[i].end && end > extents[i].start) return true;
    return false;
}

// Whether the whole block lies in one "available" entry of the loader's memory map (not in the EBDA, video
// memory, ROMs or ACPI tables, which share the low 1 MiB with ordinary memory).
bool inside_available_memory(u32 pfn, u32 frames) {
    u64 start = pfn_to_address(pfn), end = pfn_to_address(pfn + frames);
    bool inside = false;
    multiboot::for_each_region([&](const multiboot::MemoryMapEntry& e) {
        if (e.type == 1 && start >= e.base && end <= e.base + e.length) inside = true;
    });
    return inside;
}

// Allocates blocks of `order` until the allocator says no, checking each, chaining them through their first
// word; then verifies every pattern and frees them all. Returns the number of blocks.
u32 exhaust_and_refill(unsigned order) {
    FrameAllocator& allocator = pmm::allocator();
    u32 free_before = allocator.free_frames();
    u32 frames = frames_in_order(order);
    u32 head = kNoFrame, count = 0;
    bool all_aligned = true, none_reserved = true;
    for (;;) {
        auto block = allocator.allocate(order);
        if (block.is_error()) {
            EXPECT_EQ(static_cast<int>(block.error()), static_cast<int>(Error::NoMemory));
            break;
        }
        u32 pfn = block.value();
        if (pfn % frames != 0) all_aligned = false;
        if (overlaps_reserved(pfn, frames) || overlaps_kernel_or_modules(pfn, frames) ||
            !inside_available_memory(pfn, frames))
            none_reserved = false;
        u32* words = static_cast<u32*>(pmm::frame_pointer(pfn));
        words[0] = head;
        for (u32 w = 1; w < frames * 1024; ++w) words[w] = pattern(pfn, w);
        head = pfn;
        ++count;
    }
    EXPECT(all_aligned);
    EXPECT(none_reserved);
    // Exhausted at this order: with the buddy allocator, no free block of this order or larger is left
    // (smaller ones may be: the scattered remainders of the memory map).
    if (BuddyAllocator* buddy = pmm::buddy())
        for (unsigned o = order; o <= kMaxOrder; ++o) EXPECT_EQ(buddy->free_blocks(o), 0u);
    u32 mismatches = 0;
    for (u32 pfn = head; pfn != kNoFrame;) {
        u32* words = static_cast<u32*>(pmm::frame_pointer(pfn));
        for (u32 w = 1; w < frames * 1024; ++w)
            if (words[w] != pattern(pfn, w)) ++mismatches;
        u32 next = words[0];
        allocator.free(pfn, order);
        pfn = next;
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_EQ(allocator.free_frames(), free_before);
    EXPECT(allocator.check_invariants(console::sink, nullptr));
    return count;
}

}  // namespace

KTEST(pmm, every_frame_allocated_once_and_returned) {
    u32 free_before = pmm::allocator().free_frames();
    u32 blocks = exhaust_and_refill(0);
    EXPECT_EQ(blocks, free_before);
}

KTEST(pmm, order_3_blocks_aligned_and_disjoint) {
    u32 blocks = exhaust_and_refill(3);
    EXPECT_GT(blocks, 0u);
}

KTEST(pmm, managed_memory_matches_the_map) {
    FrameAllocator& allocator = pmm::allocator();
    u64 managed = pfn_to_address(allocator.total_frames());
    u64 usable = pmm::available_bytes() - pmm::unused_above_limit();
    // Everything usable is managed, except page 0 and what the kernel reserved for itself.
    u64 reserved = 0;
    for (u32 i = 0; i < pmm::reserved_region_count(); ++i)
        reserved += pmm::reserved_region(i).end - pmm::reserved_region(i).start;
    EXPECT_LE(managed, usable);
    EXPECT_GE(managed + reserved + 64 * KiB, usable);
    EXPECT(pmm::is_reserved(layout::virtual_to_physical(reinterpret_cast<uptr>(__text_start))));
    EXPECT(pmm::is_reserved(0));
}

KTEST(pmm, dma_zone_allocations_stay_below_16_mib) {
    auto block = pmm::allocate(0, Zone::Dma);
    ASSERT(!block.is_error());
    EXPECT_LT(block.value(), kDmaLimitPfn);
    pmm::free(block.value(), 0);
}

KTEST(pmm, exhaustion_is_an_error_not_a_crash) {
    auto too_big = pmm::allocate(kMaxOrder + 1);
    EXPECT(too_big.is_error());
    EXPECT_EQ(static_cast<int>(too_big.error()), static_cast<int>(Error::Invalid));
}
