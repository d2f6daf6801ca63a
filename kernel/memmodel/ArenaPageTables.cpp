// ArenaPageTables.cpp: the ops and the kernel directory as the older memory models' page tables see it.
#include "kernel/memmodel/ArenaPageTables.h"

#include <new>

#include "kernel/mm/Paging.h"

namespace arena_page_tables {
namespace {
ArenaPageTableOps g_ops;
alignas(ArenaPageTables) u8 g_kernel_storage[sizeof(ArenaPageTables)];
ArenaPageTables* g_kernel = nullptr;
}  // namespace

ArenaPageTableOps& ops() { return g_ops; }

const ArenaPageTables& kernel_tables() {
    // Adopted on first use and never destroyed (no destructor call on the static storage).
    if (!g_kernel) g_kernel = new (g_kernel_storage) ArenaPageTables(ArenaPageTables::adopt_kernel(g_ops, paging::kernel_directory()));
    return *g_kernel;
}

}  // namespace arena_page_tables
