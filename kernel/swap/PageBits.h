// PageBits.h: what a replacement policy sees of the hardware: the accessed (A) and dirty (D) bits of the
// page-table entries that map a user frame (mm/swap/ReplacementPolicy.h's FrameAccessor).
//
// The CPU sets A in an entry when it uses it for a translation and D on the first write through it (Intel
// SDM Vol. 3A 4.8). A frame shared copy-on-write after fork has one entry per process; the reverse map
// (kernel/mm/FrameTable.h) lists them, and the bits are ORed: the page was used if any process used it.
//
// Clearing A must be followed by INVLPG when the entry's address space is the one loaded in CR3: the TLB
// keeps the translation with A already set, and the CPU sets A again only when it walks the tables anew
// (SDM 4.8: the processor "may cache" the entry and need not set the bit for a cached translation; 4.10.4.1
// for INVLPG). Other address spaces have nothing in the TLB (loading CR3 flushed it, and user pages are
// never global), so their entries need no invalidation. D is never cleared here: a page whose D is cleared
// without being written out would lose its last writes.
//
// "Dirty" for a policy means "evicting it costs a write": a D bit in any entry, or no clean copy of the page
// in a swap slot yet (kernel/swap/Swapper.h remembers which frames have one).
#pragma once

#include "arch/i386/PageTableEntry.h"
#include "libc/base/Types.h"
#include "mm/swap/ReplacementPolicy.h"

class PageBits final : public FrameAccessor {
public:
    // Frame i is pfn first_pfn + i; slot_of[i] != 0 when the frame's page has a clean copy in that slot.
    PageBits(u32 first_pfn, const u32* slot_of) : m_first_pfn(first_pfn), m_slot_of(slot_of) {}

    bool accessed(u32 frame) const override;
    bool dirty(u32 frame) const override;
    void clear_accessed(u32 frame) override;
    bool evictable(u32 frame) const override { return frame != m_pinned; }

    // Any entry that maps the frame has D set.
    bool written(u32 frame) const;
    // Keep `frame` from being chosen (the one being brought in); kNone pins nothing.
    static constexpr u32 kNone = 0xFFFFFFFF;
    void pin(u32 frame) { m_pinned = frame; }

    // The entry of `vaddr` in the page directory at physical `directory`, through the direct map; null when
    // no page table covers it.
    static PageTableEntry* entry_of(u32 directory, u32 vaddr);

private:
    u32 m_first_pfn;
    const u32* m_slot_of;
    u32 m_pinned = kNone;
};
