// ArenaPageTables.h: page tables for the processes of the older memory models, whose pages are arena memory.
//
// The same mm/vm/PageTables as paged processes, with other hooks: arena frames are not the page allocator's
// (the arena is one reserved range, kernel/memmodel/Arena.h), so mapping or unmapping one records nothing in
// the frame table and frees nothing. The directory and the tables themselves come from the page allocator,
// like every page table's, and the kernel half is shared the same way.
#pragma once

#include "kernel/mm/KernelPageTables.h"

struct ArenaPageTableOps {
    using DirectoryEntry = PageDirectoryEntry;
    using TableEntry = PageTableEntry;

    ErrorOr<u32> allocate_table() { return page_tables::ops().allocate_table(); }
    void free_table(u32 physical) { page_tables::ops().free_table(physical); }
    DirectoryEntry* directory(u32 physical) { return layout::physical_pointer<PageDirectoryEntry>(physical); }
    TableEntry* table(u32 physical) { return layout::physical_pointer<PageTableEntry>(physical); }
    void invalidate(u32 directory, u32 vaddr) { page_tables::ops().invalidate(directory, vaddr); }
    ErrorOr<void> frame_mapped(u32, u32, u32) { return {}; }
    void frame_mapping_undone(u32, u32, u32) {}
    void release_frame(u32, u32, u32) {}
};

using ArenaPageTables = PageTables<ArenaPageTableOps>;

namespace arena_page_tables {

ArenaPageTableOps& ops();
// The kernel's directory seen through these ops: what create() copies the kernel half from.
const ArenaPageTables& kernel_tables();

}  // namespace arena_page_tables
