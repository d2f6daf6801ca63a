// FrameAllocator.h: what every physical page allocator shares: frame constants, zones, and a small abstract
// interface so the kernel can pick the buddy or the bitmap allocator at boot (`pmm=buddy|bitmap`).
//
// Frames are 4 KiB and named by their physical frame number (pfn = physical address >> 12), a u32: 2^32
// frames cover 16 TiB, more than i386 can address even with PAE. Memory-map ranges are u64 physical byte
// addresses because the multiboot map is 64-bit. A block of order k is 2^k contiguous frames whose first pfn
// is a multiple of 2^k ("naturally aligned"); orders run from 0 (4 KiB) to kMaxOrder (4 MiB, one i386
// page-directory entry's worth).
//
// Zones: ISA DMA can only reach the low 16 MiB, so a caller may ask for Zone::Dma. Zone::Any prefers frames
// above 16 MiB and falls back to the DMA zone, so DMA memory is spent last. 16 MiB is a multiple of the
// largest block, so no naturally aligned block ever straddles the boundary.
//
// The interface is a teaching convenience and costs one indirect call; benchmarks and hot kernel paths that
// know their allocator call the concrete (final) class directly.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/Invariant.h"
#include "libc/base/Types.h"

constexpr u32 kFrameShift = 12;
constexpr u32 kFrameSize = 1u << kFrameShift;
constexpr unsigned kMaxOrder = 10;
constexpr unsigned kOrderCount = kMaxOrder + 1;
constexpr u32 kMaxBlockFrames = 1u << kMaxOrder;

// First pfn above the ISA DMA limit (16 MiB).
constexpr u32 kDmaLimitPfn = static_cast<u32>((16 * MiB) >> kFrameShift);
static_assert(kDmaLimitPfn % kMaxBlockFrames == 0, "a maximal block must never straddle the DMA limit");

// "No frame": the end of an intrusive list. Never a managed pfn (allocators VERIFY their range ends below it).
constexpr u32 kNoFrame = 0xffffffffu;

enum class Zone : u8 {
    Dma,  // below 16 MiB only
    Any,  // above 16 MiB if possible, else below
};

constexpr u64 pfn_to_address(u32 pfn) { return static_cast<u64>(pfn) << kFrameShift; }
constexpr u32 frames_in_order(unsigned order) { return 1u << order; }

// The frames lying wholly inside the byte range [start, end) (rounded inward to 4 KiB), clipped to the pfns
// [first_pfn, end_pfn) an allocator covers; empty (first == end) if none. Shared by add_free_range().
struct PfnRange {
    u32 first;
    u32 end;
};
constexpr PfnRange frames_inside(u64 start, u64 end, u32 first_pfn, u32 end_pfn) {
    if (end <= start) return {first_pfn, first_pfn};
    u64 first = (start >> kFrameShift) + ((start & (kFrameSize - 1)) != 0 ? 1 : 0);
    u64 last = end >> kFrameShift;
    if (first < first_pfn) first = first_pfn;
    if (last > end_pfn) last = end_pfn;
    if (first >= last) return {first_pfn, first_pfn};
    return {static_cast<u32>(first), static_cast<u32>(last)};
}

class FrameAllocator {
public:
    // "buddy" or "bitmap", for messages and the monitor.
    virtual const char* name() const = 0;

    // Hands the frames fully inside [start, end) (byte addresses, rounded inward to 4 KiB) to the allocator.
    // Frames outside the range the allocator was built for are ignored. Returns the number of frames added,
    // or Error::Exists (and adds nothing) if any of them is already managed.
    virtual ErrorOr<u32> add_free_range(u64 start, u64 end) = 0;

    // A naturally aligned block of 2^order frames; returns its first pfn. Error::NoMemory when no such block
    // is free in the zone, Error::Invalid for order > kMaxOrder. Never panics.
    virtual ErrorOr<u32> allocate(unsigned order, Zone zone = Zone::Any) = 0;

    // Returns a block from allocate(order). Panics, naming the frame's address, on a double free, a frame that
    // was never allocated or is outside the allocator, or (as far as the allocator can tell) a wrong order.
    virtual void free(u32 pfn, unsigned order) = 0;

    virtual u32 free_frames() const = 0;
    virtual u32 total_frames() const = 0;  // frames handed over by add_free_range

    // Re-derives every internal invariant from scratch (O(frames)). Returns false at the first violation and,
    // if a sink is given, prints one line naming the invariant and the frame.
    virtual bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const = 0;

    // A summary for the monitor's `meminfo`.
    virtual void dump(FormatSink sink, void* context) const = 0;

protected:
    // Not virtual: nothing deletes an allocator through this interface, and a virtual destructor would make
    // the kernel provide operator delete.
    ~FrameAllocator() = default;
};
