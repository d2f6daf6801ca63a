// PageTables.h: the kernel's PageTables instantiation (mm/vm/PageTables.h over real page tables).
//
// The ops back the policy with the page allocator (tables are zeroed frames), the direct map (how the kernel
// reads and writes a table by physical address), INVLPG, the frame table's reverse map (every user page
// mapped or unmapped is recorded there, kernel/mm/FrameTable.h), and the frame reference counts (a user frame
// is freed when its last mapping goes: copy-on-write sharing is counted in kernel/mm/PhysicalMemory).
#pragma once

#include "arch/i386/PageTableEntry.h"
#include "mm/vm/PageTables.h"

struct KernelPageTableOps {
    using DirectoryEntry = PageDirectoryEntry;
    using TableEntry = PageTableEntry;

    ErrorOr<u32> allocate_table();
    void free_table(u32 physical);
    DirectoryEntry* directory(u32 physical);
    TableEntry* table(u32 physical);
    void invalidate(u32 vaddr);
    ErrorOr<void> frame_mapped(u32 directory, u32 vaddr, u32 physical);
    void frame_mapping_undone(u32 directory, u32 vaddr, u32 physical);
    void release_frame(u32 directory, u32 vaddr, u32 physical);
};

using KernelPageTables = PageTables<KernelPageTableOps>;

namespace page_tables {

// Call once paging::initialize() has built the kernel directory.
void initialize();
KernelPageTableOps& ops();
// The kernel's space (adopted from paging::kernel_directory()): what user spaces copy their kernel half from.
const KernelPageTables& kernel_tables();

}  // namespace page_tables
