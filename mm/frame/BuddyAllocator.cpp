// BuddyAllocator.cpp: split on allocation, coalesce on free (see BuddyAllocator.h for the invariants).
//
// Why the Tail state: frames inside a block are marked once, when the frame is added, and never touched
// again, because splitting only turns the upper half's first frame from Tail into a Free head and merging
// turns it back. That keeps allocate and free O(kMaxOrder) while free() can still tell a block's head from a
// frame in its middle, and report the misuse with the containing block.
#include "mm/frame/BuddyAllocator.h"

#include "libc/base/Assert.h"

// Speed: when the list of the requested order is not empty and the freed block's buddy is in use, an allocate +
// free pair is one pop, one push and the checks, so those paths do nothing else: one 16-bit access reads or
// writes a head's order and state, no running total of free frames is kept (free_frames() adds up the list
// lengths instead), and splitting, merging and the misuse reports are out of line. free() compares the head
// with the expected value and then uses only its arguments, so when the descriptor is not in the cache the rest
// of free() need not wait for it (docs/physical-memory.md, "Measured figures").

namespace {

// A head's order and state, as one 16-bit value: the bytes are adjacent (static_assert in the header), so one
// load checks both and one store sets both. On a little-endian machine (x86, host and kernel) the order is the
// low byte.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "head_tag() puts the order in the first byte");
constexpr u16 head_tag(FrameState state, unsigned order) {
    return static_cast<u16>(order | static_cast<unsigned>(state) << 8);
}

inline u16 tag_of(const FrameDescriptor& descriptor) {
    u16 tag;
    __builtin_memcpy(&tag, &descriptor.order, sizeof(tag));
    return tag;
}

inline void set_tag(FrameDescriptor& descriptor, FrameState state, unsigned order) {
    u16 tag = head_tag(state, order);
    __builtin_memcpy(&descriptor.order, &tag, sizeof(tag));
}

}  // namespace

BuddyAllocator::BuddyAllocator(Span<FrameDescriptor> storage, u32 first_pfn)
    : m_descriptors(storage.data()), m_first_pfn(first_pfn), m_end_pfn(first_pfn + static_cast<u32>(storage.size())) {
    // kNoFrame ends the lists, so it must never be a managed pfn; the end must not wrap either.
    VERIFY(storage.size() <= static_cast<size_t>(kNoFrame - first_pfn));
    for (FrameDescriptor& descriptor : storage) descriptor = FrameDescriptor{};
    for (auto& lists : m_lists)
        for (FreeList& list : lists) list = FreeList{kNoFrame, 0};
}

// Inlined: these are most of the work of allocate() and free(), and a call would cost as much as they do.
[[gnu::always_inline]] inline void BuddyAllocator::push_free(unsigned zone, u32 pfn, unsigned order) {
    FrameDescriptor& descriptor = at(pfn);
    FreeList& list = m_lists[order][zone];
    u32 head = list.head;
    set_tag(descriptor, FrameState::Free, order);
    descriptor.prev = kNoFrame;
    descriptor.next = head;
    if (head != kNoFrame) [[likely]]
        at(head).prev = pfn;
    else
        m_nonempty_orders[zone] |= 1u << order;
    list.head = pfn;
    ++list.count;
}

// Takes the first block off the list (which must not be empty) and marks it allocated.
[[gnu::always_inline]] inline u32 BuddyAllocator::pop_free(unsigned zone, unsigned order) {
    FreeList& list = m_lists[order][zone];
    u32 pfn = list.head;
    FrameDescriptor& descriptor = at(pfn);
    u32 next = descriptor.next;
    list.head = next;
    if (next != kNoFrame) [[likely]]
        at(next).prev = kNoFrame;
    else
        m_nonempty_orders[zone] &= ~(1u << order);
    --list.count;
    set_tag(descriptor, FrameState::Allocated, order);
    descriptor.ref_count = 1;
    return pfn;
}

[[gnu::always_inline]] inline void BuddyAllocator::unlink_free(unsigned zone, u32 pfn, unsigned order) {
    FrameDescriptor& descriptor = at(pfn);
    FreeList& list = m_lists[order][zone];
    u32 prev = descriptor.prev;
    u32 next = descriptor.next;
    if (next != kNoFrame) at(next).prev = prev;
    if (prev != kNoFrame) {
        at(prev).next = next;
    } else {
        list.head = next;
        if (next == kNoFrame) m_nonempty_orders[zone] &= ~(1u << order);
    }
    --list.count;
}

[[gnu::always_inline]] inline bool BuddyAllocator::buddy_is_free(u32 pfn, unsigned order) const {
    u32 buddy = pfn ^ frames_in_order(order);
    return order < kMaxOrder && covers(buddy) && tag_of(at(buddy)) == head_tag(FrameState::Free, order);
}

ErrorOr<u32> BuddyAllocator::add_free_range(u64 start, u64 end) {
    auto [first_pfn, end_pfn] = frames_inside(start, end, m_first_pfn, m_end_pfn);
    for (u32 pfn = first_pfn; pfn < end_pfn; ++pfn)
        if (at(pfn).state != FrameState::Unmanaged) return Error::Exists;
    for (u32 pfn = first_pfn; pfn < end_pfn; ++pfn) at(pfn).state = FrameState::Tail;

    // Tile the range with maximal aligned blocks: at each step the largest order that both the alignment of
    // pfn and the room left allow. release() also merges them with free neighbours added earlier.
    for (u32 pfn = first_pfn; pfn < end_pfn;) {
        unsigned order = pfn == 0 ? kMaxOrder : static_cast<unsigned>(__builtin_ctz(pfn));
        if (order > kMaxOrder) order = kMaxOrder;
        while (frames_in_order(order) > end_pfn - pfn) --order;
        m_total_frames += frames_in_order(order);
        release(pfn, order);
        pfn += frames_in_order(order);
    }
    return end_pfn - first_pfn;
}

ErrorOr<u32> BuddyAllocator::allocate(unsigned order, Zone zone) {
    if (order > kMaxOrder) [[unlikely]]
        return Error::Invalid;
    // Zone::Any uses memory above 16 MiB whenever a large enough block is there, else the DMA zone. The masks
    // answer "is there a block of exactly / at least this order" without touching a list.
    if (zone == Zone::Any) [[likely]] {
        u32 usable = m_nonempty_orders[kNormalZone] >> order;
        if ((usable & 1) != 0) [[likely]]
            return pop_free(kNormalZone, order);
        if (usable != 0) return allocate_by_splitting(kNormalZone, order);
    }
    if (((m_nonempty_orders[kDmaZone] >> order) & 1) != 0) return pop_free(kDmaZone, order);
    return allocate_by_splitting(kDmaZone, order);
}

// The list of this order is empty: split the smallest larger block, if there is one.
ErrorOr<u32> BuddyAllocator::allocate_by_splitting(unsigned zone, unsigned order) {
    u32 usable = m_nonempty_orders[zone] >> order;
    if (usable == 0) return Error::NoMemory;
    unsigned found = order + static_cast<unsigned>(__builtin_ctz(usable));
    u32 pfn = m_lists[found][zone].head;
    unlink_free(zone, pfn, found);
    // Keep the lower half, free the upper half, until the block has the requested order. Every list from
    // `order` to `found - 1` was empty (found is the smallest usable order), so each upper half becomes the
    // only block on its list: no old head to link to, and the mask bits can be set all at once.
    m_nonempty_orders[zone] |= frames_in_order(found) - frames_in_order(order);
    while (found > order) {
        --found;
        u32 half = pfn + frames_in_order(found);
        FrameDescriptor& descriptor = at(half);
        set_tag(descriptor, FrameState::Free, found);
        descriptor.prev = kNoFrame;
        descriptor.next = kNoFrame;
        m_lists[found][zone] = FreeList{half, 1};
    }
    FrameDescriptor& head = at(pfn);
    set_tag(head, FrameState::Allocated, order);
    head.ref_count = 1;
    return pfn;
}

void BuddyAllocator::free(u32 pfn, unsigned order) {
    // One comparison of the head's tag catches every misuse the range checks leave: a Free head (double free),
    // a Tail (a frame inside a block), an Unmanaged frame (a hole), an Allocated head of another order. The
    // out-of-line panic_bad_free() then works out which one it was.
    if (order > kMaxOrder || !covers(pfn)) [[unlikely]]
        panic_bad_free(pfn, order);
    FrameDescriptor& head = at(pfn);
    if (tag_of(head) != head_tag(FrameState::Allocated, order)) [[unlikely]]
        panic_bad_free(pfn, order);
    head.ref_count = 0;
    release(pfn, order);
}

// The common case, the buddy still in use, pushes the block without entering the merge loop.
[[gnu::always_inline]] inline void BuddyAllocator::release(u32 pfn, unsigned order) {
    if (buddy_is_free(pfn, order)) [[unlikely]]
        merge_and_push(pfn, order);
    else
        push_free(zone_of(pfn), pfn, order);
}

void BuddyAllocator::merge_and_push(u32 pfn, unsigned order) {
    unsigned zone = zone_of(pfn);  // a merge never crosses the DMA limit (FrameAllocator.h)
    while (buddy_is_free(pfn, order)) {
        u32 size = frames_in_order(order);
        unlink_free(zone, pfn ^ size, order);
        // Of the two halves, the upper one's head becomes a Tail of the merged block. The lower one's head is the
        // merged block's head, whose order and state push_free() writes once the merging stops (the loop never
        // reads them), so neither needs a branch on which half was freed.
        at(pfn | size).state = FrameState::Tail;
        pfn &= ~size;
        ++order;
    }
    push_free(zone, pfn, order);
}

u32 BuddyAllocator::head_of_block_containing(u32 pfn) const {
    if (!covers(pfn) || at(pfn).state == FrameState::Unmanaged) return kNoFrame;
    // The containing block of order k starts at pfn rounded down to 2^k; every smaller rounding lands on one
    // of its Tails or on the head itself, so the first head met going up is the one.
    for (unsigned order = 0; order < kOrderCount; ++order) {
        u32 candidate = align_down(pfn, frames_in_order(order));
        if (!covers(candidate)) break;
        FrameState state = at(candidate).state;
        if (state == FrameState::Free || state == FrameState::Allocated) return candidate;
    }
    return kNoFrame;
}

void BuddyAllocator::panic_bad_free(u32 pfn, unsigned order) const {
    unsigned long long address = pfn_to_address(pfn);
    if (order > kMaxOrder)
        mneme_panic("BuddyAllocator: bad free of frame 0x%llx: order %u is above the maximum %u", address, order,
                    kMaxOrder);
    if (!covers(pfn))
        mneme_panic("BuddyAllocator: bad free of frame 0x%llx: outside the managed frames 0x%llx-0x%llx", address,
                    static_cast<unsigned long long>(pfn_to_address(m_first_pfn)),
                    static_cast<unsigned long long>(pfn_to_address(m_end_pfn)));
    const FrameDescriptor& descriptor = at(pfn);
    switch (descriptor.state) {
    case FrameState::Unmanaged:
        mneme_panic("BuddyAllocator: bad free of frame 0x%llx: never handed to the allocator (a hole or reserved)",
                    address);
    case FrameState::Free:
        mneme_panic("BuddyAllocator: bad free of frame 0x%llx: already free (double free, or never allocated)",
                    address);
    case FrameState::Allocated:
        mneme_panic("BuddyAllocator: bad free of frame 0x%llx: wrong order: allocated as order %u, freed as order %u",
                    address, descriptor.order, order);
    case FrameState::Tail: {
        u32 head = head_of_block_containing(pfn);
        if (head == kNoFrame) break;
        bool is_free = at(head).state == FrameState::Free;
        mneme_panic("BuddyAllocator: bad free of frame 0x%llx: inside the %s block 0x%llx of order %u (%s)", address,
                    is_free ? "free" : "allocated", static_cast<unsigned long long>(pfn_to_address(head)),
                    at(head).order, is_free ? "double free, or never allocated" : "wrong address or order");
    }
    }
    mneme_panic("BuddyAllocator: bad free of frame 0x%llx: its descriptor is corrupt", address);
}

FrameDescriptor& BuddyAllocator::descriptor(u32 pfn) {
    VERIFY(covers(pfn));
    return at(pfn);
}

const FrameDescriptor& BuddyAllocator::descriptor(u32 pfn) const {
    VERIFY(covers(pfn));
    return at(pfn);
}

u32 BuddyAllocator::free_blocks(unsigned order) const {
    VERIFY(order <= kMaxOrder);
    return m_lists[order][kDmaZone].count + m_lists[order][kNormalZone].count;
}

u32 BuddyAllocator::free_dma_blocks(unsigned order) const {
    VERIFY(order <= kMaxOrder);
    return m_lists[order][kDmaZone].count;
}

u32 BuddyAllocator::free_frames() const {
    u32 frames = 0;
    for (unsigned order = 0; order < kOrderCount; ++order)
        frames += (m_lists[order][kDmaZone].count + m_lists[order][kNormalZone].count) << order;
    return frames;
}

u32 BuddyAllocator::free_dma_frames() const {
    u32 frames = 0;
    for (unsigned order = 0; order < kOrderCount; ++order) frames += m_lists[order][kDmaZone].count << order;
    return frames;
}

bool BuddyAllocator::check_invariants(FormatSink sink, void* context) const {
    // 1. Each list is well formed and holds only Free heads of its zone and order. The walk is bounded by the
    //    list's count, so a cycle (which any repeated entry would cause) is caught rather than looped on.
    for (unsigned zone = 0; zone < kZoneCount; ++zone) {
        for (unsigned order = 0; order < kOrderCount; ++order) {
            u32 head = m_lists[order][zone].head;
            if (((m_nonempty_orders[zone] >> order) & 1) != (head != kNoFrame ? 1u : 0u))
                return invariant_violation(sink, context, "buddy: non-empty mask disagrees with list zone %u order %u",
                                           zone, order);
            u32 count = 0;
            u32 previous = kNoFrame;
            for (u32 pfn = head; pfn != kNoFrame; pfn = at(pfn).next) {
                if (!covers(pfn))
                    return invariant_violation(sink, context, "buddy: list zone %u order %u links to pfn 0x%x outside",
                                               zone, order, pfn);
                if (++count > m_lists[order][zone].count)
                    return invariant_violation(sink, context,
                                               "buddy: list zone %u order %u is longer than its count %u", zone, order,
                                               m_lists[order][zone].count);
                const FrameDescriptor& descriptor = at(pfn);
                if (descriptor.state != FrameState::Free || descriptor.order != order || zone_of(pfn) != zone)
                    return invariant_violation(sink, context,
                                               "buddy: frame 0x%llx on list zone %u order %u is not a Free head of it",
                                               static_cast<unsigned long long>(pfn_to_address(pfn)), zone, order);
                if (descriptor.prev != previous)
                    return invariant_violation(sink, context, "buddy: frame 0x%llx has a wrong prev link",
                                               static_cast<unsigned long long>(pfn_to_address(pfn)));
                previous = pfn;
            }
            if (count != m_lists[order][zone].count)
                return invariant_violation(sink, context, "buddy: list zone %u order %u has %u blocks, count says %u",
                                           zone, order, count, m_lists[order][zone].count);
        }
    }

    // 2. Walk the frames block by block: heads aligned, their frames Tails, free blocks fully coalesced. Counting
    //    Free heads per list and comparing with the list lengths shows every Free head is on its list.
    u32 free_heads[kZoneCount][kOrderCount] = {};
    u32 frames_in_free_blocks = 0;
    u32 total_frames = 0;
    for (u32 pfn = m_first_pfn; pfn < m_end_pfn;) {
        const FrameDescriptor& descriptor = at(pfn);
        unsigned long long address = pfn_to_address(pfn);
        if (descriptor.state == FrameState::Unmanaged) {
            ++pfn;
            continue;
        }
        if (descriptor.state != FrameState::Free && descriptor.state != FrameState::Allocated)
            return invariant_violation(sink, context, "buddy: frame 0x%llx is a Tail outside any block", address);
        unsigned order = descriptor.order;
        if (order > kMaxOrder)
            return invariant_violation(sink, context, "buddy: block 0x%llx has order %u", address, order);
        u32 size = frames_in_order(order);
        if ((pfn & (size - 1)) != 0)
            return invariant_violation(sink, context, "buddy: block 0x%llx is not aligned to its order %u", address,
                                       order);
        if (size > m_end_pfn - pfn)
            return invariant_violation(sink, context, "buddy: block 0x%llx of order %u runs past the end", address,
                                       order);
        for (u32 tail = pfn + 1; tail < pfn + size; ++tail)
            if (at(tail).state != FrameState::Tail)
                return invariant_violation(sink, context,
                                           "buddy: frame 0x%llx inside block 0x%llx (order %u) is not a Tail",
                                           static_cast<unsigned long long>(pfn_to_address(tail)), address, order);
        total_frames += size;
        if (descriptor.state == FrameState::Free) {
            ++free_heads[zone_of(pfn)][order];
            frames_in_free_blocks += size;
            if (descriptor.ref_count != 0)
                return invariant_violation(sink, context, "buddy: free block 0x%llx has ref_count %u", address,
                                           descriptor.ref_count);
            u32 buddy = pfn ^ size;
            if (order < kMaxOrder && covers(buddy) && at(buddy).state == FrameState::Free && at(buddy).order == order)
                return invariant_violation(
                    sink, context, "buddy: free block 0x%llx (order %u) and its free buddy 0x%llx are not merged",
                    address, order, static_cast<unsigned long long>(pfn_to_address(buddy)));
        }
        pfn += size;
    }
    for (unsigned zone = 0; zone < kZoneCount; ++zone)
        for (unsigned order = 0; order < kOrderCount; ++order)
            if (free_heads[zone][order] != m_lists[order][zone].count)
                return invariant_violation(sink, context,
                                           "buddy: %u Free heads of zone %u order %u, but %u on the list",
                                           free_heads[zone][order], zone, order, m_lists[order][zone].count);
    if (frames_in_free_blocks != free_frames())
        return invariant_violation(sink, context, "buddy: free blocks hold %u frames, free_frames() says %u",
                                   frames_in_free_blocks, free_frames());
    if (total_frames != m_total_frames)
        return invariant_violation(sink, context, "buddy: blocks hold %u frames, total_frames() says %u", total_frames,
                                   m_total_frames);
    return true;
}

namespace {

// "  4 KiB" .. "  4 MiB": the size of a block of the given order.
void print_block_size(FormatSink sink, void* context, unsigned order) {
    u32 kib = (kFrameSize / KiB) << order;
    if (kib < 1024)
        format(sink, context, "%4u KiB", kib);
    else
        format(sink, context, "%4u MiB", kib / 1024);
}

}  // namespace

void BuddyAllocator::dump(FormatSink sink, void* context) const {
    u32 free_now = free_frames();
    format(sink, context, "buddy: %u of %u frames free (%llu of %llu KiB), %u free below 16 MiB\n", free_now,
           m_total_frames, static_cast<unsigned long long>(free_now) * (kFrameSize / KiB),
           static_cast<unsigned long long>(m_total_frames) * (kFrameSize / KiB), free_dma_frames());
    format(sink, context, "order     size  dma blocks  blocks above 16M  free frames\n");
    for (unsigned order = 0; order < kOrderCount; ++order) {
        format(sink, context, "%5u  ", order);
        print_block_size(sink, context, order);
        format(sink, context, "  %10u  %16u  %11u\n", m_lists[order][kDmaZone].count, m_lists[order][kNormalZone].count,
               free_blocks(order) << order);
    }
}

void BuddyAllocator::dump_free_lists(FormatSink sink, void* context, u32 max_per_list) const {
    static constexpr const char* zone_names[kZoneCount] = {"dma   ", "normal"};
    format(sink, context, "buddy free lists, newest block first:\n");
    for (unsigned order = 0; order < kOrderCount; ++order) {
        for (unsigned zone = 0; zone < kZoneCount; ++zone) {
            if (zone == kDmaZone) {
                format(sink, context, "[%2u] ", order);
                print_block_size(sink, context, order);
            } else {
                format(sink, context, "             ");
            }
            format(sink, context, " %s", zone_names[zone]);
            u32 shown = 0;
            u32 pfn = m_lists[order][zone].head;
            for (; pfn != kNoFrame && shown < max_per_list; pfn = at(pfn).next, ++shown)
                format(sink, context, " -> 0x%08llx", static_cast<unsigned long long>(pfn_to_address(pfn)));
            if (pfn != kNoFrame)
                format(sink, context, " -> ... (%u more)", m_lists[order][zone].count - shown);
            else if (shown == 0)
                format(sink, context, " (empty)");
            format(sink, context, "\n");
        }
    }
}
