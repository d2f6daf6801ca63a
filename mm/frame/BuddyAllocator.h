// BuddyAllocator.h: the binary buddy page allocator (Knowlton 1965; Knuth, TAOCP vol. 1, 2.5), the kernel's
// default physical memory manager.
//
// Memory is managed as naturally aligned blocks of 2^k frames, k = 0..kMaxOrder. The buddy of the block of
// order k at pfn p is the block at p ^ 2^k: together they form the aligned block of order k+1, so a buddy is
// found by arithmetic, never by searching. There is one intrusive, doubly linked free list per (zone, order);
// allocation takes the smallest non-empty order (a bit mask per zone makes that O(1)) and splits it in half
// until the order is right, putting each upper half back on its list; free merges the block with its buddy for
// as long as the buddy is a whole free block of the same order. Both are O(kMaxOrder) with no scans.
//
// Each frame has a 16-byte FrameDescriptor in an array the caller provides (storage for pfns
// [first_pfn, first_pfn + storage.size())), so a host test can hand the allocator any memory map.
//
// Invariants (check_invariants() re-derives each one):
//   - Every managed frame belongs to exactly one block. A block's first frame is its head (state Free or
//     Allocated, with the block's order); every other frame of it is a Tail. Unmanaged frames are holes.
//   - A block of order k starts at a multiple of 2^k and lies entirely inside managed memory.
//   - A Free head is on the free list of its zone and order, and nothing else is on any list.
//   - Coalescing is complete: no free block of order < kMaxOrder has a free buddy of the same order.
//   - free_frames() is the sum of the free blocks' sizes; a free head has ref_count 0.
#pragma once

#include "libc/base/Span.h"
#include "mm/frame/FrameAllocator.h"

enum class FrameState : u8 {
    Unmanaged = 0,  // never handed to the allocator: a hole, reserved memory, or beyond the memory map
    Free,           // head of a free block; on the free list of its zone and order
    Allocated,      // head of an allocated block
    Tail,           // any other frame of a block (free or allocated); the head is the nearest aligned head below
};

// Per-frame metadata. Links are pfns, not pointers, so the layout (and the 0.39% overhead, 16 bytes per 4 KiB)
// is the same on i386 and on the 64-bit host.
struct FrameDescriptor {
    u32 next = kNoFrame;  // free-list links (heads of Free blocks only)
    u32 prev = kNoFrame;
    // Used by the process layer for copy-on-write reference counts; the allocator sets it to 1 on allocation
    // and 0 on free (on the block's head only).
    u32 ref_count = 0;
    u8 order = 0;  // meaningful in Free and Allocated heads
    FrameState state = FrameState::Unmanaged;
    u16 reserved = 0;  // zero; room for per-frame flags later
};
static_assert(sizeof(FrameDescriptor) == 16, "the design budgets 16 bytes of metadata per 4 KiB frame (0.39%)");
// The allocator reads and writes a head's order and state together, as one 16-bit "tag" (BuddyAllocator.cpp).
static_assert(__builtin_offsetof(FrameDescriptor, state) == __builtin_offsetof(FrameDescriptor, order) + 1,
              "order and state must be adjacent bytes");

class BuddyAllocator final : public FrameAllocator {
    MNEME_NONCOPYABLE(BuddyAllocator);
    MNEME_NONMOVABLE(BuddyAllocator);

public:
    // The descriptors cover pfns [first_pfn, first_pfn + storage.size()); all start Unmanaged.
    BuddyAllocator(Span<FrameDescriptor> storage, u32 first_pfn);

    // How many descriptors the constructor needs to cover pfns [first_pfn, end_pfn).
    static constexpr size_t descriptors_needed(u32 first_pfn, u32 end_pfn) {
        return end_pfn > first_pfn ? end_pfn - first_pfn : 0;
    }

    const char* name() const override { return "buddy"; }

    // Frees the maximal naturally aligned blocks that tile the range, merging them with free buddies already
    // present, so adjacent ranges added one by one coalesce as if added together.
    ErrorOr<u32> add_free_range(u64 start, u64 end) override;

    ErrorOr<u32> allocate(unsigned order, Zone zone = Zone::Any) override;
    void free(u32 pfn, unsigned order) override;

    u32 free_frames() const override;  // sums the per-list counts: O(kOrderCount)
    u32 total_frames() const override { return m_total_frames; }
    u32 free_blocks(unsigned order) const;      // both zones
    u32 free_dma_blocks(unsigned order) const;  // below 16 MiB only
    u32 free_dma_frames() const;

    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const override;

    // One line per order: block count and frames in each zone (the monitor's `meminfo`).
    void dump(FormatSink sink, void* context) const override;
    // The free lists themselves, up to `max_per_list` block addresses each (the monitor's `buddy`).
    void dump_free_lists(FormatSink sink, void* context, u32 max_per_list = 8) const;

    u32 first_pfn() const { return m_first_pfn; }
    u32 end_pfn() const { return m_end_pfn; }
    bool covers(u32 pfn) const { return pfn - m_first_pfn < m_end_pfn - m_first_pfn; }
    FrameDescriptor& descriptor(u32 pfn);
    const FrameDescriptor& descriptor(u32 pfn) const;

    // Calls callback(pfn, order) for every free block, in free-list order: zone DMA first, orders ascending.
    template <typename Callback>
    void for_each_free_block(Callback callback) const {
        for (unsigned zone = 0; zone < kZoneCount; ++zone)
            for (unsigned order = 0; order < kOrderCount; ++order)
                for (u32 pfn = m_lists[order][zone].head; pfn != kNoFrame; pfn = at(pfn).next) callback(pfn, order);
    }

private:
    // Free lists are kept per zone: index 0 is the DMA zone (below kDmaLimitPfn), 1 the rest.
    static constexpr unsigned kZoneCount = 2;
    static constexpr unsigned kDmaZone = 0;
    static constexpr unsigned kNormalZone = 1;
    static unsigned zone_of(u32 pfn) { return pfn < kDmaLimitPfn ? kDmaZone : kNormalZone; }

    FrameDescriptor& at(u32 pfn) { return m_descriptors[pfn - m_first_pfn]; }
    const FrameDescriptor& at(u32 pfn) const { return m_descriptors[pfn - m_first_pfn]; }

    // The buddy of the block of this order at pfn is a free block of the same order, so the two can merge.
    // Anything else (allocated, split into smaller free blocks, a hole, no buddy above kMaxOrder) means they
    // cannot yet.
    bool buddy_is_free(u32 pfn, unsigned order) const;
    // One list operation each, inlined. The slow paths (splitting, merging) are out of line, so that the fast
    // paths of allocate() and free() need few registers.
    u32 pop_free(unsigned zone, unsigned order);
    void push_free(unsigned zone, u32 pfn, unsigned order);
    void unlink_free(unsigned zone, u32 pfn, unsigned order);
    [[gnu::noinline]] ErrorOr<u32> allocate_by_splitting(unsigned zone, unsigned order);
    // Frees the block: merges it with its buddy while the buddy is free, then pushes the result.
    void release(u32 pfn, unsigned order);
    [[gnu::noinline]] void merge_and_push(u32 pfn, unsigned order);
    [[noreturn]] void panic_bad_free(u32 pfn, unsigned order) const;
    // The head of the block containing `pfn` (O(kMaxOrder)), or kNoFrame for an unmanaged frame.
    u32 head_of_block_containing(u32 pfn) const;

    FrameDescriptor* m_descriptors;
    u32 m_first_pfn;
    u32 m_end_pfn;
    u32 m_total_frames = 0;
    // One free list per (zone, order): its first block and its length, side by side. Indexed [order][zone], so
    // finding a list is one shift and add. free_frames() is derived from the lengths rather than kept as one
    // more counter that every allocate and free would have to update.
    struct FreeList {
        u32 head;
        u32 count;
    };
    FreeList m_lists[kOrderCount][kZoneCount];
    // Bit k set <=> m_lists[k][zone] is not empty, so the smallest usable order is one count-trailing-zeros.
    u32 m_nonempty_orders[kZoneCount] = {0, 0};
};
