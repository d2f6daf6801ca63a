// FrameTable.h: the kernel's frame table: for every physical frame it manages, who maps it.
//
// One entry per frame of the page allocator's span, carved from boot memory by pmm::finish() next to the
// allocator's metadata and the reference counts (kernel/mm/PhysicalMemory.h). The entries are a reverse map
// (mm/vm/ReverseMap.h): for a user frame, the page directories and virtual pages whose PTEs name it, shared
// copy-on-write frames included (one mapping per address space that shares it). The page tables keep it
// exact: KernelPageTableOps' hooks record and forget a mapping on every map, unmap, replace and destroy
// (mm/vm/PageTables.h), so fork, exit and copy-on-write need no code of their own. Page replacement will use
// it to find every PTE of a victim frame.
//
// Cost: an 8-byte slot per frame (the frame's first mapping, inline) plus a pool of one 8-byte node per frame
// for the second and later mappings of shared frames: 16 bytes per 4 KiB frame, 4 KiB per MiB of managed
// memory (0.39%; 1 MiB for 256 MiB). The pool allows twice as many mappings as there are frames; when heavy
// sharing uses it up, the mapping that needs a node (only fork shares frames) fails with Error::NoMemory and
// fork returns -ENOMEM, nothing else breaks.
//
// Frames outside the allocator's span cannot be recorded (record() says Error::Invalid), so a user mapping of
// such a frame fails; the kernel has none. The kernel's own pages (direct map, kernel area) are not in it:
// they are never mapped through PageTables' edit path.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Types.h"
#include "mm/vm/ReverseMap.h"

namespace frame_table {

// Bytes per frame: a slot and a pool node.
constexpr u32 kBytesPerFrame = 2 * sizeof(ReverseMap::Slot);

// For pmm::finish(): the storage the table needs for `frames` frames, and taking it into use (frames
// first_pfn .. first_pfn + frames - 1).
u64 bytes_needed(u32 frames);
void initialize(void* storage, u32 first_pfn, u32 frames);

namespace detail {
extern ReverseMap g_map;
[[noreturn]] void forget_failed(u32 pfn, u32 directory, u32 vaddr);
extern bool g_swapping;
void first_mapping(u32 pfn);
void last_mapping_gone(u32 pfn);
}  // namespace detail

// The hooks' work: `directory` (a page directory's physical address) now maps frame `pfn` at `vaddr`, or no
// longer does. record() fails when the frame is not covered (Invalid) or the pool is full (NoMemory);
// forget() panics when the mapping was never recorded (the frame table and the page tables disagree).
// Inline: they run on every demand-zero fault, copy-on-write fault, and page of fork and exit.
// While the kernel swaps, a frame's first mapping and its last unmapping are also the replacement policy's
// page-in and removal (kernel/swap/Swapper.h).
inline ErrorOr<void> record(u32 pfn, u32 directory, u32 vaddr) {
    bool first = detail::g_swapping && !detail::g_map.is_mapped(pfn);
    TRY(detail::g_map.add(pfn, directory, vaddr));
    if (first) detail::first_mapping(pfn);
    return {};
}
inline void forget(u32 pfn, u32 directory, u32 vaddr) {
    if (detail::g_map.remove(pfn, directory, vaddr).is_error()) detail::forget_failed(pfn, directory, vaddr);
    if (detail::g_swapping && !detail::g_map.is_mapped(pfn)) detail::last_mapping_gone(pfn);
}
// Called once by the swapper when it starts.
void start_swapping();

inline const ReverseMap& reverse_map() { return detail::g_map; }
// Frames covered, mapped, mappings, pool use and the memory it costs (the monitor's `rmap`).
void print_summary();

}  // namespace frame_table
