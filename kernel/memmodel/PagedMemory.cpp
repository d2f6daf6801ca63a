// PagedMemory.cpp: the paged model's glue (see PagedMemory.h): frames from the page allocator, CR3 through
// the TLB point.
#include "kernel/memmodel/PagedMemory.h"

#include <new>

#include "kernel/boot/Layout.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/mm/Tlb.h"
#include "libc/rt/String.h"

namespace {
// Frames kept back for the kernel when brk/mmap decide whether a request can be met: page tables, kernel
// stacks and copy-on-write copies need some even when a process has taken everything else.
constexpr u32 kKernelReserveFrames = 128;
UserFrames g_frames;
}  // namespace

ErrorOr<u32> UserFrames::allocate_zeroed() {
    u32 pfn = TRY(pmm::allocate(0));
    __builtin_memset(pmm::frame_pointer(pfn), 0, kPageSize);
    pmm::set_frame_references(pfn, 1);
    return pfn << kPageShift;
}

ErrorOr<u32> UserFrames::allocate_copy(u32 source) {
    u32 pfn = TRY(pmm::allocate(0));
    memcpy(pmm::frame_pointer(pfn), pmm::frame_pointer(source >> kPageShift), kPageSize);
    pmm::set_frame_references(pfn, 1);
    return pfn << kPageShift;
}

void UserFrames::share(u32 physical) { pmm::share_frame(physical >> kPageShift); }
u32 UserFrames::references(u32 physical) { return pmm::frame_references(physical >> kPageShift); }
void UserFrames::release(u32 physical) { pmm::release_frame(physical >> kPageShift); }

void UserFrames::write(u32 physical, u32 offset, const void* data, u32 length) {
    memcpy(layout::physical_pointer<u8>(physical) + offset, data, length);
}

u32 UserFrames::commit_limit() {
    u32 total = pmm::allocator().total_frames();
    return total > kKernelReserveFrames ? total - kKernelReserveFrames : 0;
}

ErrorOr<PagedMemory*> PagedMemory::create() {
    auto space = UserAddressSpace::create(page_tables::ops(), page_tables::kernel_tables(), g_frames);
    if (space.is_error()) return space.error();
    void* storage = kmalloc(sizeof(PagedMemory));
    if (!storage) return Error::NoMemory;  // the space's destructor gives its directory back
    return new (storage) PagedMemory(space.release_value());
}

void PagedMemory::activate() { tlb::load_directory(m_space.directory()); }

ErrorOr<MemoryModel*> PagedMemory::fork() {
    PagedMemory* child = TRY(create());
    if (auto copied = m_space.fork_into(child->m_space); copied.is_error()) {
        delete child;
        return copied.error();
    }
    return child;
}

bool PagedMemory::check_invariants() const {
    return m_space.check_invariants(console::sink, nullptr);
}
