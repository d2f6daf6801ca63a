// SlabLayout.h: how a SlabCache (mm/heap/SlabCache.h) carves a slab, as pure computations on sizes: where an
// object's free-list link (and in debug mode its trailer) goes, the stride, the slab order, how many objects
// fit and how much room is left for colouring. Nothing here touches memory but link_at()/trailer_at(), which
// only compute an address; tests/host/SlabLayoutTest.cpp checks the figures directly.
//
// One object slot, `stride` bytes (each shape rounded up to the alignment, at least pointer alignment):
//
//   release, no constructor   | object (at least a pointer) |             the link is the object's first word
//   release, constructor      | object | link |                          the link must not clobber its state
//   debug                     | object | red zone (>= 8 bytes) | trailer: link, caller, state, requested |
//
// One slab, 2^order pages, naturally aligned:
//
//   | header | colour | obj 0 | obj 1 | ... | obj capacity-1 | leftover |
//
// The header is the cache's Slab struct rounded up to the alignment. colour + leftover = colour_max, the
// bytes the objects leave; successive slabs shift their objects by one more colour step (the alignment, at
// least 8 bytes), wrapping to 0 past colour_max, so objects at the same index in different slabs fall on
// different cache lines (Bonwick, "The Slab Allocator", USENIX Summer 1994, section 4.1).
//
// The slab order is the smallest (up to SlabDetail::kMaxOrder) that wastes at most 1/16 of the slab, Linux
// SLUB's default fraction; failing that, the least wasteful.
#pragma once

#include "libc/base/Assert.h"
#include "libc/base/MemoryLayout.h"
#include "libc/base/Types.h"
#include "mm/heap/SlabConfig.h"

namespace SlabDetail {
// Debug mode only: after the object and its red zone (mm/heap/SlabDebug.h fills and checks it).
struct Trailer {
    void* link;
    const void* caller;  // last allocate() or free() caller
    u32 state;           // kStateAllocated or kStateFree
    u32 requested;       // bytes asked for (kmalloc); the red zone starts there
};
}  // namespace SlabDetail

struct SlabLayout {
    size_t object_size = 0;
    size_t link_offset = 0;     // where a free object holds the next free object's address
    size_t trailer_offset = 0;  // debug: where the trailer starts (the red zone ends); 0 otherwise
    size_t stride = 0;          // bytes per object slot
    size_t header_size = 0;     // the slab header, rounded up to the alignment
    unsigned order = 0;         // the slab is 2^order pages
    size_t slab_bytes = 0;
    size_t capacity = 0;  // objects per slab
    size_t colour_step = 0;
    size_t colour_max = 0;  // the largest colour offset: the bytes no object uses

    // The layout of objects of `object_size` bytes aligned to `alignment` (a power of two, at most
    // SlabDetail::kMaxAlignment) in slabs whose header struct takes `header_bytes`. `debug`: red zone and
    // trailer after each object; `constructed`: the cache has a constructor, so the link follows the object.
    static constexpr SlabLayout compute(size_t object_size, size_t alignment, size_t header_bytes, bool debug,
                                        bool constructed) {
        SlabLayout layout;
        size_t align = alignment < alignof(void*) ? alignof(void*) : alignment;
        layout.object_size = object_size;
        if (debug) {
            // object | red zone (>= 8 bytes) | trailer, the whole rounded up to the alignment.
            layout.trailer_offset = align_up(object_size + SlabDetail::kMinRedZone, alignof(SlabDetail::Trailer));
            layout.link_offset = layout.trailer_offset + __builtin_offsetof(SlabDetail::Trailer, link);
            layout.stride = align_up(layout.trailer_offset + sizeof(SlabDetail::Trailer), align);
        } else if (constructed) {
            // Keep the constructed state intact: the link goes after the object.
            layout.link_offset = align_up(object_size, alignof(void*));
            layout.stride = align_up(layout.link_offset + sizeof(void*), align);
        } else {
            layout.link_offset = 0;
            layout.stride = align_up(object_size < sizeof(void*) ? sizeof(void*) : object_size, align);
        }
        layout.header_size = align_up(header_bytes, align);
        // Smallest order wasting at most 1/16 of the slab; else the least wasteful one.
        unsigned best_order = 0;
        size_t best_waste = 0, best_bytes = 0;
        bool have_best = false;
        for (unsigned order = 0; order <= SlabDetail::kMaxOrder; ++order) {
            size_t bytes = size_t(kPageSize) << order;
            if (bytes < layout.header_size + layout.stride) continue;
            size_t capacity = (bytes - layout.header_size) / layout.stride;
            size_t waste = bytes - capacity * layout.stride;
            if (!have_best || u64(waste) * best_bytes < u64(best_waste) * bytes) {
                best_order = order;
                best_waste = waste;
                best_bytes = bytes;
                have_best = true;
            }
            if (waste * SlabDetail::kWasteFraction <= bytes) break;
        }
        VERIFY(have_best);
        layout.order = best_order;
        layout.slab_bytes = size_t(kPageSize) << best_order;
        layout.capacity = (layout.slab_bytes - layout.header_size) / layout.stride;
        layout.colour_step = align < SlabDetail::kMinColourStep ? SlabDetail::kMinColourStep : align;
        layout.colour_max = layout.slab_bytes - layout.header_size - layout.capacity * layout.stride;
        return layout;
    }

    constexpr bool operator==(const SlabLayout&) const = default;
};

namespace SlabDetail {
// The colour offset of the slab after one with colour `colour`.
constexpr size_t next_colour(size_t colour, size_t step, size_t max) {
    colour += step;
    return colour > max ? 0 : colour;
}

// True if `address` is the start of one of the `capacity` objects of `stride` bytes from `objects` on.
inline bool is_object_start(const u8* objects, size_t stride, size_t capacity, const void* address) {
    const u8* bytes = static_cast<const u8*>(address);
    uptr offset = reinterpret_cast<uptr>(bytes) - reinterpret_cast<uptr>(objects);
    return !(bytes < objects || offset % stride != 0 || offset / stride >= capacity);
}

// A free object's free-list link, and (debug mode) an object's trailer.
inline void*& link_at(void* object, size_t link_offset) {
    return *reinterpret_cast<void**>(static_cast<u8*>(object) + link_offset);
}
inline Trailer& trailer_at(const void* object, size_t trailer_offset) {
    return *reinterpret_cast<Trailer*>(const_cast<u8*>(static_cast<const u8*>(object)) + trailer_offset);
}
}  // namespace SlabDetail
