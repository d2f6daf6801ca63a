// MemorySource.h: where a malloc Heap gets its memory, and the only way the allocator core reaches the OS.
//
// Two kinds of memory, as in Unix since V7: one contiguous heap that grows and shrinks at its top
// (brk/sbrk), and independent page-aligned mappings for large blocks (mmap/munmap). A Heap owns its source
// exclusively: nobody else moves the heap's break.
//
// A reservation is not a commitment. extend() hands out memory ready to use, which a kernel that keeps its
// promises (Mneme's commit rule, Linux with overcommit off) counts against a limit at once. reserve() grows
// the heap just the same but hands out address space only; commit() then makes the parts about to be used
// readable and writable. The segregated policy reserves 1 MiB segments and commits them 16 KiB slices at a
// time as it carves pages out of them, so a small machine is not asked to promise 1 MiB for a few blocks.
// Where the platform has it, a reservation is an inaccessible PROT_NONE mapping that no limit counts, and a
// commit is mprotect (OSTEP ch. 23 on the VAX/VMS and Linux address spaces; Linux's own malloc arenas and
// mimalloc's segments do the same).
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

    // Grows the heap by `bytes` like extend(), but the new bytes are only reserved: none may be touched before
    // commit() made it usable. nullptr when refused (the heap is unchanged). Default: extend() (a source
    // whose memory is usable as soon as it is had, such as brk: commit() then has nothing to do).
    virtual void* reserve(size_t bytes);

    // Makes the whole pages holding [address, address + bytes), inside the heap, readable and writable; pages
    // never committed before read as zeros. A source may commit more than asked (up to the same end). false:
    // refused (over the platform's limit); nothing changed, and the caller must not touch those pages.
    // Default: true (memory from extend() needs no commitment).
    virtual bool commit(void* address, size_t bytes);

    // Returns committed whole pages inside the heap to the reserved state: their memory is freed and no longer
    // counts, and they must be committed again before use. false: not supported (nothing changed).
    virtual bool decommit(void* address, size_t bytes);

    // Gives the top `bytes` of the heap back, committed or only reserved; committed pages stop counting. false: not
    // done (not supported, or refused); the heap is unchanged and the caller keeps using the memory.
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
// and stores the padding used in `padding`; nullptr when the source is exhausted (nothing kept). With
// `reserve_only`, the bytes are reserved (MemorySource::reserve), not committed.
void* extend_aligned(MemorySource& source, size_t bytes, size_t alignment, size_t& padding, bool reserve_only = false);

}  // namespace Malloc
