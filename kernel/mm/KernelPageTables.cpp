// PageTables.cpp: KernelPageTableOps and the adopted kernel space.
#include "kernel/mm/KernelPageTables.h"

#include <new>

#include "kernel/boot/Layout.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/mm/Tlb.h"
#include "kernel/swap/Swapper.h"
#include "libc/base/MemoryLayout.h"

ErrorOr<u32> KernelPageTableOps::allocate_table() {
    u32 pfn = TRY(pmm::allocate(0));
    __builtin_memset(pmm::frame_pointer(pfn), 0, kPageSize);
    return pfn << kPageShift;
}

void KernelPageTableOps::free_table(u32 physical) { pmm::free(physical >> 12, 0); }

void KernelPageTableOps::release_not_present(u32, PageTableEntry entry) {
    swapper::release_slot(entry.not_present_payload());
}

// INVLPG works on the current address space only; for another one the entry cannot be cached (its CR3 is
// not loaded, and user pages are never global), so the extra flush is harmless.
void KernelPageTableOps::invalidate(u32 vaddr) { tlb::invalidate_page(vaddr); }

namespace page_tables {
namespace {
KernelPageTableOps g_ops;
alignas(KernelPageTables) u8 g_kernel_space_storage[sizeof(KernelPageTables)];
KernelPageTables* g_kernel_space = nullptr;
}  // namespace

void initialize() {
    // Never destroyed: placement-new into static storage with no destructor call.
    g_kernel_space = new (g_kernel_space_storage)
        KernelPageTables(KernelPageTables::adopt_kernel(g_ops, paging::kernel_directory()));
}

KernelPageTableOps& ops() { return g_ops; }
const KernelPageTables& kernel_tables() { return *g_kernel_space; }

}  // namespace page_tables
