// FrameTable.cpp: the frame table's storage and hooks (see FrameTable.h).
#include "kernel/mm/FrameTable.h"

#include <new>

#include "kernel/dev/Console.h"
#include "kernel/swap/Swapper.h"
#include "libc/base/Assert.h"

namespace frame_table {
namespace detail {
// Covers no frame until initialize(): record() says Invalid, as for any frame it does not cover.
constinit ReverseMap g_map;
bool g_swapping = false;

void first_mapping(u32 pfn) { swapper::page_in(pfn); }
void last_mapping_gone(u32 pfn) { swapper::removed(pfn); }

void forget_failed(u32 pfn, u32 directory, u32 vaddr) {
    mneme_panic("frame table: directory %#x stops mapping frame %#x at %#x, which it never recorded", directory,
                pfn << kPageShift, vaddr);
}
}  // namespace detail

namespace {
u32 g_bytes = 0;
}  // namespace

void start_swapping() { detail::g_swapping = true; }

u64 bytes_needed(u32 frames) { return static_cast<u64>(frames) * kBytesPerFrame; }

void initialize(void* storage, u32 first_pfn, u32 frames) {
    VERIFY(detail::g_map.end_pfn() == 0);
    auto* slots = static_cast<ReverseMap::Slot*>(storage);
    // ReverseMap is not assignable (it would copy its pointers into the caller's storage); build it in place.
    new (&detail::g_map)
        ReverseMap(Span<ReverseMap::Slot>(slots, frames), Span<ReverseMap::Slot>(slots + frames, frames), first_pfn);
    g_bytes = static_cast<u32>(bytes_needed(frames));
    klog("pmm", "frame table: reverse map of %u frames, %u KiB (%u bytes per frame, %u KiB per MiB)", frames,
         g_bytes / static_cast<u32>(KiB), kBytesPerFrame, kBytesPerFrame * 256 / static_cast<u32>(KiB));
}

void print_summary() {
    const ReverseMap& map = reverse_map();
    kprintf(
        "Frame table: frames 0x%x-0x%x (%u), %u KiB; %u frames mapped by %u mappings; pool %u of %u nodes in "
        "use\n",
        map.first_pfn(), map.end_pfn() - 1, map.end_pfn() - map.first_pfn(), g_bytes / static_cast<u32>(KiB),
        map.mapped_frames(), map.mappings(), map.nodes_in_use(), map.node_capacity());
}

}  // namespace frame_table
