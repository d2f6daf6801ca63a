// KernelStack.cpp: slot allocation in the kernel area and the mapping of each stack's pages.
#include "kernel/mm/KernelStack.h"

#include "kernel/boot/Layout.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/PhysicalMemory.h"

namespace {

constexpr u32 kSlots = 1024;  // 16 MiB of the kernel area's 64 MiB
constexpr u32 kAreaBase = static_cast<u32>(layout::kKernelAreaBase);
bool g_used[kSlots];
u32 g_in_use = 0;

}  // namespace

ErrorOr<KernelStack> KernelStack::allocate() {
    u32 slot = 0;
    while (slot < kSlots && g_used[slot]) ++slot;
    if (slot == kSlots) return Error::NoMemory;
    u32 base = kAreaBase + slot * kSlotSize + kGuardSize;
    for (u32 page = 0; page < kSize / kPageSize; ++page) {
        auto frame = pmm::allocate(0);
        if (!frame.is_error()) {
            auto mapped = paging::map_kernel_page(base + page * kPageSize, frame.value() << kPageShift, true);
            if (!mapped.is_error()) continue;
            pmm::free(frame.value(), 0);
        }
        // Undo the pages mapped so far.
        for (u32 undo = 0; undo < page; ++undo) {
            u32 physical = paging::unmap_kernel_page(base + undo * kPageSize);
            pmm::free(physical >> 12, 0);
        }
        return Error::NoMemory;
    }
    g_used[slot] = true;
    ++g_in_use;
    return KernelStack(base);
}

void KernelStack::release() {
    if (!m_base) return;
    for (u32 page = 0; page < kSize / kPageSize; ++page) {
        u32 physical = paging::unmap_kernel_page(m_base + page * kPageSize);
        if (physical) pmm::free(physical >> 12, 0);
    }
    g_used[(m_base - kGuardSize - kAreaBase) / kSlotSize] = false;
    --g_in_use;
    m_base = 0;
}

bool KernelStack::is_guard_address(u32 address) {
    if (address < kAreaBase || address >= kAreaBase + kSlots * kSlotSize) return false;
    u32 slot = (address - kAreaBase) / kSlotSize;
    return g_used[slot] && (address - kAreaBase) % kSlotSize < kGuardSize;
}

u32 KernelStack::in_use() { return g_in_use; }
