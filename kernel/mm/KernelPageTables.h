// PageTables.h: the kernel's PageTables instantiation (mm/vm/PageTables.h over real page tables).
//
// The ops back the policy with the page allocator (tables are zeroed frames), the direct map (how the kernel
// reads and writes a table by physical address), INVLPG, the frame table's reverse map (every user page
// mapped or unmapped is recorded there, kernel/mm/FrameTable.h), and the frame reference counts (a user frame
// is freed when its last mapping goes: copy-on-write sharing is counted in kernel/mm/PhysicalMemory).
#pragma once

#include "arch/i386/PageTableEntry.h"
#include "kernel/boot/Layout.h"
#include "kernel/mm/FrameTable.h"
#include "kernel/mm/PhysicalMemory.h"
#include "mm/vm/PageTables.h"

struct KernelPageTableOps {
    using DirectoryEntry = PageDirectoryEntry;
    using TableEntry = PageTableEntry;

    ErrorOr<u32> allocate_table();
    void free_table(u32 physical);
    // Through the direct map; inline, since every walk reads each directory and table through them.
    DirectoryEntry* directory(u32 physical) { return layout::physical_pointer<PageDirectoryEntry>(physical); }
    TableEntry* table(u32 physical) { return layout::physical_pointer<PageTableEntry>(physical); }
    void invalidate(u32 directory, u32 vaddr);
    // The frame-table hooks, inline: every demand-zero and copy-on-write fault and every page of fork and exit
    // passes through them.
    ErrorOr<void> frame_mapped(u32 directory, u32 vaddr, u32 physical) {
        return frame_table::record(physical >> kPageShift, directory, vaddr);
    }
    void frame_mapping_undone(u32 directory, u32 vaddr, u32 physical) {
        frame_table::forget(physical >> kPageShift, directory, vaddr);
    }
    // The mapping is forgotten before the reference goes, so a frame that reaches the allocator has none left.
    void release_frame(u32 directory, u32 vaddr, u32 physical) {
        frame_table::forget(physical >> kPageShift, directory, vaddr);
        pmm::release_frame(physical >> kPageShift);
    }
    // An entry that held a swap slot is gone (exit, munmap, brk): the slot loses a reference.
    void release_not_present(u32 vaddr, PageTableEntry entry);
};

using KernelPageTables = PageTables<KernelPageTableOps>;

namespace page_tables {

// Call once paging::initialize() has built the kernel directory.
void initialize();
KernelPageTableOps& ops();
// The kernel's space (adopted from paging::kernel_directory()): what user spaces copy their kernel half from.
const KernelPageTables& kernel_tables();

}  // namespace page_tables
