// SlabDebug.h: SlabCache's debug mode (SlabCacheConfig::debug, default from -DMNEME_SLAB_DEBUG=1): red zones,
// poisoning and the checks on allocate and free.
//
// Each object is followed by a red zone and a trailer (free-list link, state, caller, requested size; see
// mm/heap/SlabLayout.h). Freed objects are filled with 0x6b and red zones with 0xbb (the bytes Linux uses,
// include/linux/poison.h, so dumps look familiar). Free checks the pointer is an object start, the state
// (double free), the red zone (a write past the end; for kmalloc, past the requested size); allocate checks
// the poison (a write after free). Each report is a mneme_panic naming the cache and the caller's address.
// (Release mode still catches a foreign pointer and the common double free: see mm/heap/SlabCache.h.)
//
// The poison and red-zone checks compare eight bytes at a time once aligned, and name the first bad byte.
#pragma once

#include "libc/base/Assert.h"
#include "libc/base/Types.h"
#include "mm/heap/SlabConfig.h"
#include "mm/heap/SlabLayout.h"

namespace SlabDetail {
// What the checks know of a debug cache: its name, for the reports, and where its objects lie.
struct DebugShape {
    const char* cache;
    size_t object_size;
    size_t trailer_offset;  // the red zone runs from the object's end (or requested size) to here
    size_t stride;
    size_t capacity;
};

// The first byte in [from, to) of `bytes` that is not `value`, or `to`: eight bytes at a time once
// aligned, so the checks cost a few instructions per word rather than per byte.
inline size_t first_mismatch(const u8* bytes, size_t from, size_t to, u8 value) {
    size_t i = from;
    for (; i < to && (reinterpret_cast<uptr>(bytes + i) & 7) != 0; ++i)
        if (bytes[i] != value) return i;
    const u64 pattern = 0x0101010101010101ull * value;
    for (; i + 8 <= to; i += 8) {
        u64 word;
        __builtin_memcpy(&word, bytes + i, sizeof(word));
        if (word != pattern) break;
    }
    for (; i < to; ++i)
        if (bytes[i] != value) return i;
    return to;
}

inline void check_poison(const DebugShape& shape, const u8* object, const void* caller) {
    size_t i = first_mismatch(object, 0, shape.object_size, kPoisonFree);
    if (i != shape.object_size) [[unlikely]]
        mneme_panic("slab %s: %p written after free (byte %zu is %#04x; caller %p)", shape.cache, object, i, object[i],
                    caller);
}

// The red zone of `object` from byte `from` (its size, or for kmalloc the requested size) to the trailer.
inline void check_red_zone(const DebugShape& shape, const u8* object, size_t from, const void* caller) {
    size_t i = first_mismatch(object, from, shape.trailer_offset, kRedZone);
    if (i != shape.trailer_offset) [[unlikely]]
        mneme_panic("slab %s: write past the end of %p (%zu-byte object, byte %zu is %#04x; caller %p)", shape.cache,
                    object, from, i, object[i], caller);
}

// Poison a free object, fill its red zone and mark it free by `caller` (null for a new slab).
inline void mark_free(const DebugShape& shape, u8* object, const void* caller) {
    __builtin_memset(object, kPoisonFree, shape.object_size);
    __builtin_memset(object + shape.object_size, kRedZone, shape.trailer_offset - shape.object_size);
    Trailer& trailer = trailer_at(object, shape.trailer_offset);
    trailer.state = kStateFree;
    trailer.caller = caller;
    trailer.requested = 0;
}

// A free object about to go back to the page source with its slab: still poisoned, red zone intact.
inline void check_free_object(const DebugShape& shape, const u8* object) {
    const void* freed_by = trailer_at(object, shape.trailer_offset).caller;
    check_poison(shape, object, freed_by);
    check_red_zone(shape, object, shape.object_size, freed_by);
}

// allocate(): `object` just came off a free list. It must be marked free, still poisoned, its red zone
// intact; it is then marked allocated by `caller` for `requested` bytes, and the bytes between the requested
// size and the object size belong to the red zone for now.
inline void check_allocate(const DebugShape& shape, void* object, size_t requested, const void* caller) {
    u8* bytes = static_cast<u8*>(object);
    Trailer& trailer = trailer_at(object, shape.trailer_offset);
    if (trailer.state != kStateFree)
        mneme_panic("slab %s: free list holds %p in state %#x (caller %p)", shape.cache, object, trailer.state, caller);
    check_poison(shape, bytes, caller);
    check_red_zone(shape, bytes, shape.object_size, caller);
    trailer.state = kStateAllocated;
    trailer.caller = caller;
    trailer.requested = u32(requested);
    __builtin_memset(bytes + requested, kRedZone, shape.object_size - requested);
}

// free(): `object` lies in the slab whose objects start at `objects`. It must be an object start, allocated
// (not free: a double free; nor anything else: an overwritten trailer) and its red zone intact; it is then
// poisoned and marked free by `caller`.
inline void check_free(const DebugShape& shape, const u8* objects, void* object, const void* caller) {
    u8* bytes = static_cast<u8*>(object);
    if (!is_object_start(objects, shape.stride, shape.capacity, object))
        mneme_panic("slab %s: %p is not the start of an object (caller %p)", shape.cache, object, caller);
    Trailer& trailer = trailer_at(object, shape.trailer_offset);
    if (trailer.state == kStateFree)
        mneme_panic("slab %s: double free of %p (caller %p, first freed by %p)", shape.cache, object, caller,
                    trailer.caller);
    if (trailer.state != kStateAllocated)
        mneme_panic("slab %s: trailer of %p overwritten (state %#x; caller %p)", shape.cache, object, trailer.state,
                    caller);
    check_red_zone(shape, bytes, trailer.requested, caller);
    mark_free(shape, bytes, caller);
}
}  // namespace SlabDetail
