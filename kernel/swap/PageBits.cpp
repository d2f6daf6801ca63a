// PageBits.cpp: the policies' view of the A and D bits (see PageBits.h).
#include "kernel/swap/PageBits.h"

#include "kernel/boot/Layout.h"
#include "kernel/mm/FrameTable.h"
#include "kernel/mm/Tlb.h"

PageTableEntry* PageBits::entry_of(u32 directory, u32 vaddr) {
    PageDirectoryEntry pde = layout::physical_pointer<PageDirectoryEntry>(directory)[page_directory_index(vaddr)];
    if (!pde.is_present() || pde.is_large()) return nullptr;
    return &layout::physical_pointer<PageTableEntry>(pde.physical_address())[page_table_index(vaddr)];
}

namespace {
// Whether any entry that maps the frame has the bit `test` reads.
bool any_entry(u32 pfn, bool (PageTableEntry::*test)() const) {
    bool any = false;
    frame_table::reverse_map().for_each(pfn, [&](ReverseMapping m) {
        const PageTableEntry* entry = PageBits::entry_of(m.directory, m.vaddr);
        any |= entry && (entry->*test)();
    });
    return any;
}
}  // namespace

bool PageBits::accessed(u32 frame) const { return any_entry(m_first_pfn + frame, &PageTableEntry::is_accessed); }
bool PageBits::written(u32 frame) const { return any_entry(m_first_pfn + frame, &PageTableEntry::is_dirty); }

bool PageBits::dirty(u32 frame) const { return m_slot_of[frame] == 0 || written(frame); }

void PageBits::clear_accessed(u32 frame) {
    frame_table::reverse_map().for_each(m_first_pfn + frame, [&](ReverseMapping m) {
        PageTableEntry* entry = entry_of(m.directory, m.vaddr);
        if (!entry || !entry->is_accessed()) return;
        // Atomically: the process may be running on another CPU, whose MMU may set D meanwhile.
        entry->clear_bits_atomically(PagingBits::kAccessed);
        tlb::invalidate(m.directory, m.vaddr);  // here if loaded here; on any other CPU that has it loaded
    });
}
