// PageTables.cpp: KernelPageTableOps and the adopted kernel space.
#include "kernel/mm/KernelPageTables.h"

#include <new>

#include "kernel/boot/Layout.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/mm/Tlb.h"
#include "kernel/swap/Swapper.h"
#include "libc/base/MemoryLayout.h"

// None free: the kernel heap gives back its empty slabs first (as for a user page, PagedMemory.cpp).
static ErrorOr<u32> frame_or_reclaim() {
    auto frame = pmm::allocate(0);
    if (!frame.is_error() || kernel_heap::shrink() == 0) return frame;
    return pmm::allocate(0);
}

ErrorOr<u32> KernelPageTableOps::allocate_table() {
    u32 pfn = TRY(frame_or_reclaim());
    __builtin_memset(pmm::frame_pointer(pfn), 0, kPageSize);
    return pfn << kPageShift;
}

void KernelPageTableOps::free_table(u32 physical) { pmm::free(physical >> 12, 0); }

void KernelPageTableOps::release_not_present(u32, PageTableEntry entry) {
    swapper::release_slot(entry.not_present_payload());
}

// tlb::invalidate() flushes this CPU if `directory` is loaded here (or the page is the kernel's, global) and
// asks every other CPU that has it loaded to do the same, waiting for them (kernel/mm/Tlb.h).
void KernelPageTableOps::invalidate(u32 directory, u32 vaddr) { tlb::invalidate(directory, vaddr); }

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
