// MemorySource.h: where a malloc Heap gets its memory, and the only way the allocator core reaches the OS.
//
// Two kinds of memory, as in Unix since V7: one contiguous heap that grows and shrinks at its top
// (brk/sbrk), and independent page-aligned mappings for large blocks (mmap/munmap). A Heap owns its source
// exclusively: nobody else moves the heap's break.
//
//   host:        libc/malloc/host/HostMemorySource (a PROT_NONE reservation grown with mprotect, and mmap)
//   Mneme user:  the brk and mmap system calls (libc/user)
//   tests:       a fixed buffer that fails on demand (tests/host/MallocTestSupport.h)
//
// Every operation has a harmless default (fail, or do nothing), so a source implements only what its
// platform has; the allocators cope with each missing piece (no shrink: memory is kept; no map: large blocks
// come from the heap; no remap: realloc copies). No pure virtuals, so freestanding builds need no
// __cxa_pure_virtual.
#pragma once

#include "libc/base/Types.h"

namespace Malloc {

class MemorySource {
public:
    // Grows the heap by `bytes` and returns the old break: the first of the new bytes, which follow the
    // previous extension without a gap. nullptr when no memory is left (the heap is unchanged).
    virtual void* extend(size_t bytes);

    // Gives the top `bytes` of the heap back. false: not done (not supported, or refused); the heap is
    // unchanged and the caller keeps using the memory.
    virtual bool shrink(size_t bytes);

    // A new mapping of `bytes` (a multiple of page_size()), page aligned and zero-filled; nullptr on failure.
    virtual void* map(size_t bytes);

    // Returns a whole mapping made by map() (or remap()), with the size it was made with.
    virtual void unmap(void* address, size_t bytes);

    // Resizes a mapping, moving it if needed (mremap with MREMAP_MAYMOVE); the contents are kept and new
    // bytes are zero. nullptr: not supported or failed, the old mapping is intact and the caller copies.
    virtual void* remap(void* address, size_t old_bytes, size_t new_bytes);

    // The contents of these whole pages inside the heap are no longer needed: the source may drop them
    // (madvise MADV_DONTNEED) so they stop counting as resident. They stay usable; a later read returns
    // zeros or the old bytes, so callers must not rely on either.
    virtual void discard(void* address, size_t bytes);

    virtual size_t page_size() const { return 4096; }

protected:
    MemorySource() = default;
    // Not virtual: a source is never deleted through this interface.
    ~MemorySource() = default;
};

// Extends the heap by `bytes` plus the padding that makes the new region start at a multiple of `alignment`
// (a power of two), for allocators whose blocks must sit on aligned boundaries. Returns the aligned start
// and stores the padding used in `padding`; nullptr when the source is exhausted (nothing kept).
void* extend_aligned(MemorySource& source, size_t bytes, size_t alignment, size_t& padding);

}  // namespace Malloc
