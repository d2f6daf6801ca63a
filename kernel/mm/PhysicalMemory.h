// PhysicalMemory.h: the kernel's physical page allocator, built from the multiboot memory map.
//
// Boot happens in two steps. begin() turns the loader's memory map into the set of usable physical
// ranges: every "available" entry, clipped to what the direct map covers (960 MiB), minus page 0
// (the real-mode interrupt table, BIOS data), the kernel image, the multiboot data and the modules. Until finish(),
// boot_allocate() carves permanent allocations (the kernel page tables) out of that set. finish() carves
// the allocator's own metadata, the frame reference counts and the frame table (kernel/mm/FrameTable.h),
// builds the allocator chosen with `pmm=buddy|bitmap` and hands it everything that is left. From then on
// frames come from allocate()/free().
//
// Every carve-out is recorded as a named reserved region, which the boot log, the monitor's `meminfo`
// and the in-kernel tests (no reserved frame is ever handed out) all use.
#pragma once

#include "libc/base/Error.h"
#include "mm/frame/BitmapAllocator.h"
#include "mm/frame/BuddyAllocator.h"
#include "mm/frame/FrameAllocator.h"

namespace pmm {

enum class Kind { Buddy, Bitmap };

struct ReservedRegion {
    const char* name;
    u64 start;
    u64 end;  // exclusive
};

void begin();
// Takes `bytes` (rounded up to frames) from the usable set, page-aligned, below `limit`, and records it
// as reserved under `name`. For permanent boot-time structures only.
ErrorOr<u64> boot_allocate(u64 bytes, u64 limit, const char* name);
void finish(Kind kind);
bool is_ready();

// The allocator pmm= chose, behind the per-CPU frame caches: allocate/free are pmm::allocate/free, and
// free_frames() counts the cached frames as free. buddy() and bitmap() are the allocator itself.
FrameAllocator& allocator();
Kind kind();
BuddyAllocator* buddy();    // null unless pmm=buddy
BitmapAllocator* bitmap();  // null unless pmm=bitmap

// The smallest order whose block of 2^order frames holds `bytes`.
unsigned order_for(u64 bytes);
// A block of 2^order frames; returns its first pfn. Never panics on exhaustion. Single frames go through
// this CPU's frame cache (mm/frame/FrameCacheFront.h); an allocation that fails drains every cache first.
ErrorOr<u32> allocate(unsigned order = 0, Zone zone = Zone::Any);
void free(u32 pfn, unsigned order = 0);
// Every per-CPU frame cache back to the allocator (for a view of its exact state); the frames moved.
u32 drain_frame_caches();
// Each CPU's cache: the frames it holds, and its hit, refill and drain counts (`buddy`, `meminfo`).
void print_frame_caches();
// The frame's bytes through the direct map.
void* frame_pointer(u32 pfn);
// The span of frame numbers the allocator covers (holes included).
u32 first_managed_pfn();
u32 end_managed_pfn();
u32 pfn_of(const void* direct_mapped);

// Reference counts of frames mapped into user address spaces: fork shares a frame copy-on-write by taking
// a reference; unmapping drops one, and the last drop frees the frame. The counts are a u16 array carved at
// boot next to the allocator's metadata (whichever allocator runs), 2 bytes per frame.
void share_frame(u32 pfn);  // +1
void set_frame_references(u32 pfn, u32 count);
u32 frame_references(u32 pfn);
void release_frame(u32 pfn);  // -1, frees at 0

u32 reserved_region_count();
const ReservedRegion& reserved_region(u32 index);
bool is_reserved(u64 physical);

u64 available_bytes();     // "available" in the memory map
u64 unused_above_limit();  // available, but above the direct map
// Memory map, reserved regions and the allocator's view, for `meminfo`.
void print_summary();

}  // namespace pmm
