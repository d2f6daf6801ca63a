// ReverseMap.h: for every frame, the address spaces and virtual pages that map it (a reverse map, "rmap").
//
// The page tables answer "which frame backs this virtual page?"; page replacement needs the opposite question answered:
// once a policy has chosen a victim frame (OSTEP ch. 22, "Beyond Physical Memory: Policies"), every page-table entry
// that names the frame must be made not-present before the frame can be written out and reused (Tanenbaum, "Modern
// Operating Systems", 3.5.5 on shared pages: evicting a page that several processes share must remove it from each of
// their page tables). Without a reverse map that means walking every page table of every process; with it, the victim's
// entries are a short list. A frame shared copy-on-write after fork simply has one mapping per address space that maps
// it.
//
// An address space is named by the physical address of its page directory (what CR3 holds while it runs), so
// an entry can be walked directly (PageTables::walk(ops, directory, vaddr)); the kernel finds the owner from
// the directory when it needs to.
//
// Structure: one slot per frame in [first_pfn, first_pfn + frames) holds the frame's first mapping inline
// (most user frames have exactly one), and further mappings are nodes from a fixed pool, chained from the
// slot. A slot and a node are the same 8 bytes: a directory word and a vaddr word, both 4 KiB aligned, whose
// low 12 bits together carry a 24-bit link (node index + 1; 0 ends the chain). A slot whose directory is 0 is
// empty (no page directory lives at physical 0: the kernel never hands out the low 1 MiB). Free nodes form a
// list through the same link; nodes never used yet come from a watermark, so the pool needs no initialisation.
// The caller supplies all memory (the kernel carves it at boot, kernel/mm/FrameTable.h); nothing here
// allocates, and a full pool is Error::NoMemory, not a panic.
//
// Cost: add is O(1); remove, contains and for_each are O(k) for a frame with k mappings (k is 1 for an
// unshared frame, the number of forked copies for a shared one). Adding and removing a frame's only mapping,
// the case of every demand-zero page, is a few instructions inline; sharing takes a separate, longer path.
//
// Invariants (check_invariants): an empty slot has no chain; every chained node holds a mapping and every
// free node none; chained plus free nodes account for every node taken from the pool; the mapping and
// frame counters match the slots. check_against() compares the whole map with the page tables (see there).
//
// Locking: none inside; the kernel edits page tables (and so this map) with one thread of control at a time.
#pragma once

#include <type_traits>

#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/Invariant.h"
#include "libc/base/MemoryLayout.h"
#include "libc/base/Span.h"
#include "libc/base/Types.h"

// One virtual page that maps a frame.
struct ReverseMapping {
    u32 directory;  // physical address of the address space's page directory
    u32 vaddr;      // page-aligned virtual address
    constexpr bool operator==(const ReverseMapping&) const = default;
};

// What check_against() needs to read the page tables of every live address space:
//   for_each_space(visit)                  visit(u32 directory) once per live address space
//   for_each_mapping(directory, visit)     visit(u32 vaddr, u32 physical) per present page it maps that the
//                                          reverse map should record (the user half)
//   translate(directory, vaddr)         -> ErrorOr<u32>: the frame address a present entry names (NoEntry if none)
template <typename Walker>
concept ReverseMapWalker = requires(Walker& walker, u32 address, void (*visit_space)(u32),
                                    void (*visit_mapping)(u32, u32)) {
    walker.for_each_space(visit_space);
    walker.for_each_mapping(address, visit_mapping);
    requires std::is_same_v<decltype(walker.translate(address, address)), ErrorOr<u32>>;
};

class ReverseMap {
public:
    MNEME_NONCOPYABLE(ReverseMap);

    // A frame's slot, or a pool node: a mapping plus a link, packed (see the top of this file).
    struct Slot {
        u32 directory_word = 0;
        u32 vaddr_word = 0;
    };
    static_assert(sizeof(Slot) == 8);

    static constexpr u32 kLinkBits = 24;
    static constexpr u32 kMaxNodes = (1u << kLinkBits) - 1;

    // Maps nothing and covers no frame.
    constexpr ReverseMap() = default;
    // Covers the frames first_pfn .. first_pfn + slots.size() - 1. `slots` is cleared here; `nodes` (the pool,
    // at most kMaxNodes are used) may hold anything.
    ReverseMap(Span<Slot> slots, Span<Slot> nodes, u32 first_pfn);

    // Records that `directory` maps frame `pfn` at `vaddr`. Error::Invalid (frame not covered, directory 0,
    // unaligned addresses), NoMemory (a second or later mapping of the frame and the pool is empty). Nothing
    // changes on error. A mapping recorded twice is not detected here (check_against() finds it).
    ErrorOr<void> add(u32 pfn, u32 directory, u32 vaddr) {
        if (!covers(pfn) || directory == 0 || ((directory | vaddr) & kLinkMask)) return Error::Invalid;
        Slot& head = m_slots[pfn - m_first_pfn];
        if (!is_empty(head)) return add_shared(head, directory, vaddr);
        head = Slot{directory, vaddr};
        ++m_mappings;
        ++m_mapped_frames;
        return {};
    }

    // Forgets one mapping. Error::NoEntry if it was not recorded (or the frame is not covered).
    ErrorOr<void> remove(u32 pfn, u32 directory, u32 vaddr) {
        if (!covers(pfn)) return Error::NoEntry;
        Slot& head = m_slots[pfn - m_first_pfn];
        // The common case, a frame's only mapping: the words equal the (aligned) mapping exactly when the link
        // is 0.
        if (head.directory_word != directory || head.vaddr_word != vaddr || directory == 0 ||
            ((directory | vaddr) & kLinkMask))
            return remove_other(head, directory, vaddr);
        head = Slot{};
        --m_mappings;
        --m_mapped_frames;
        return {};
    }

    bool contains(u32 pfn, u32 directory, u32 vaddr) const {
        bool found = false;
        for_each(pfn, [&](ReverseMapping m) { found |= m.directory == directory && m.vaddr == vaddr; });
        return found;
    }

    // Frame `pfn` has at least one mapping. O(1).
    bool is_mapped(u32 pfn) const { return covers(pfn) && !is_empty(m_slots[pfn - m_first_pfn]); }
    // Its first mapping (the one for_each() visits first); the frame must be mapped.
    ReverseMapping first(u32 pfn) const {
        VERIFY(is_mapped(pfn));
        return mapping_of(m_slots[pfn - m_first_pfn]);
    }

    // How many mappings frame `pfn` has (0 for a frame not covered).
    u32 count(u32 pfn) const {
        u32 n = 0;
        for_each(pfn, [&](ReverseMapping) { ++n; });
        return n;
    }

    // Calls `callback(ReverseMapping)` for each mapping of frame `pfn`, the first recorded first, then the
    // others newest first. The callback must not change this map.
    template <typename Callback>
    void for_each(u32 pfn, Callback callback) const {
        if (!covers(pfn)) return;
        const Slot& head = m_slots[pfn - m_first_pfn];
        if (is_empty(head)) return;
        callback(mapping_of(head));
        for (u32 node = link(head); node != 0; node = link(m_nodes[node - 1])) callback(mapping_of(m_nodes[node - 1]));
    }

    bool covers(u32 pfn) const { return pfn - m_first_pfn < m_frame_count; }
    u32 first_pfn() const { return m_first_pfn; }
    u32 end_pfn() const { return m_first_pfn + m_frame_count; }
    u32 mappings() const { return m_mappings; }            // in all
    u32 mapped_frames() const { return m_mapped_frames; }  // frames with at least one mapping
    u32 nodes_in_use() const { return m_nodes_in_use; }
    u32 node_capacity() const { return m_node_capacity; }

    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const;

    // The reverse map agrees with the page tables `walker` reads (ReverseMapWalker above): every present page
    // of every live space is recorded under its frame, every recorded mapping names a live space whose entry
    // maps that frame, and there are as many records as entries (so none is recorded twice). Describes the
    // first disagreement to `sink` and returns false. Costs a walk of every space plus one walk per record.
    template <ReverseMapWalker Walker>
    bool check_against(Walker& walker, FormatSink sink = nullptr, void* context = nullptr) const {
        if (!check_invariants(sink, context)) return false;
        bool ok = true;
        u32 entries = 0;
        walker.for_each_space([&](u32 directory) {
            walker.for_each_mapping(directory, [&](u32 vaddr, u32 physical) {
                ++entries;
                if (!ok) return;
                u32 pfn = physical >> kPageShift;
                if (!covers(pfn))
                    ok = invariant_violation(sink, context,
                                             "ReverseMap: directory %#x maps %#x to frame %#x, outside the map",
                                             directory, vaddr, physical);
                else if (!contains(pfn, directory, vaddr))
                    ok = invariant_violation(
                        sink, context, "ReverseMap: directory %#x maps %#x to frame %#x, which does not record it",
                        directory, vaddr, physical);
            });
        });
        if (!ok) return false;
        for (u32 pfn = m_first_pfn; ok && pfn < end_pfn(); ++pfn) {
            for_each(pfn, [&](ReverseMapping m) {
                if (!ok) return;
                bool live = false;
                walker.for_each_space([&](u32 directory) { live |= directory == m.directory; });
                if (!live) {
                    ok = invariant_violation(sink, context,
                                             "ReverseMap: frame %#x records directory %#x at %#x, not a live space",
                                             pfn << kPageShift, m.directory, m.vaddr);
                    return;
                }
                ErrorOr<u32> physical = walker.translate(m.directory, m.vaddr);
                if (physical.is_error() || (physical.value() >> kPageShift) != pfn)
                    ok = invariant_violation(
                        sink, context, "ReverseMap: frame %#x records directory %#x at %#x, which maps %s %#x",
                        pfn << kPageShift, m.directory, m.vaddr, physical.is_error() ? "nothing" : "frame",
                        physical.is_error() ? 0 : physical.value() & ~(kPageSize - 1));
            });
        }
        if (ok && entries != m_mappings)
            ok = invariant_violation(
                sink, context, "ReverseMap: %u mappings recorded but the page tables hold %u (one recorded twice)",
                m_mappings, entries);
        return ok;
    }

private:
    static constexpr u32 kLinkMask = kPageSize - 1;  // the low 12 bits of each word
    static constexpr u32 kHalfBits = 12;

    static bool is_empty(const Slot& slot) { return (slot.directory_word & ~kLinkMask) == 0; }
    static u32 link(const Slot& slot) {
        return ((slot.directory_word & kLinkMask) << kHalfBits) | (slot.vaddr_word & kLinkMask);
    }
    static void set_link(Slot& slot, u32 next) {
        slot.directory_word = (slot.directory_word & ~kLinkMask) | (next >> kHalfBits);
        slot.vaddr_word = (slot.vaddr_word & ~kLinkMask) | (next & kLinkMask);
    }
    static Slot make(u32 directory, u32 vaddr, u32 next) {
        return Slot{directory | (next >> kHalfBits), vaddr | (next & kLinkMask)};
    }
    static bool matches(const Slot& slot, u32 directory, u32 vaddr) {
        return (slot.directory_word & ~kLinkMask) == directory && (slot.vaddr_word & ~kLinkMask) == vaddr;
    }
    static ReverseMapping mapping_of(const Slot& slot) {
        return {slot.directory_word & ~kLinkMask, slot.vaddr_word & ~kLinkMask};
    }

    // add() and remove() beyond a frame's only mapping (below the class), off the path of unshared frames.
    ErrorOr<void> add_shared(Slot& head, u32 directory, u32 vaddr);
    ErrorOr<void> remove_other(Slot& head, u32 directory, u32 vaddr);

    // A node's number (index + 1), from the free list or, when that is empty, the untouched rest of the pool.
    ErrorOr<u32> take_node() {
        u32 node = m_free;
        if (node != 0) {
            m_free = link(m_nodes[node - 1]);
        } else if (m_watermark < m_node_capacity) {
            node = ++m_watermark;
        } else {
            return Error::NoMemory;
        }
        ++m_nodes_in_use;
        return node;
    }
    void give_node(u32 node) {
        m_nodes[node - 1] = make(0, 0, m_free);
        m_free = node;
        --m_nodes_in_use;
    }

    Slot* m_slots = nullptr;
    Slot* m_nodes = nullptr;
    u32 m_first_pfn = 0;
    u32 m_frame_count = 0;
    u32 m_node_capacity = 0;
    u32 m_watermark = 0;  // nodes 1..m_watermark have been handed out at least once
    u32 m_free = 0;       // first free node (its number), 0 when the free list is empty
    u32 m_nodes_in_use = 0;
    u32 m_mappings = 0;
    u32 m_mapped_frames = 0;
};

inline ErrorOr<void> ReverseMap::add_shared(Slot& head, u32 directory, u32 vaddr) {
    u32 node = TRY(take_node());
    m_nodes[node - 1] = make(directory, vaddr, link(head));
    set_link(head, node);
    ++m_mappings;
    return {};
}

inline ErrorOr<void> ReverseMap::remove_other(Slot& head, u32 directory, u32 vaddr) {
    if (is_empty(head)) return Error::NoEntry;
    if (matches(head, directory, vaddr)) {
        // The first chained mapping moves into the slot, with its link.
        u32 next = link(head);
        head = m_nodes[next - 1];
        give_node(next);
        --m_mappings;
        return {};
    }
    Slot* previous = &head;
    for (u32 node = link(head); node != 0; node = link(m_nodes[node - 1])) {
        Slot& current = m_nodes[node - 1];
        if (matches(current, directory, vaddr)) {
            set_link(*previous, link(current));
            give_node(node);
            --m_mappings;
            return {};
        }
        previous = &current;
    }
    return Error::NoEntry;
}
