// HostMemorySource.h: the MemorySource of a Linux process, for the LD_PRELOAD malloc and the replay tool.
//
// The heap is a private brk of our own: one large PROT_NONE reservation (MAP_NORESERVE, so it costs
// address space only) whose bottom part is made read-write as the heap extends, and turned back into fresh
// PROT_NONE pages as it shrinks (which also frees them). reserve() moves the break without making anything
// read-write; commit() then does (mprotect) and decommit() undoes it (fresh PROT_NONE pages): the segregated
// policy's segments cost address space only until pages are carved out of them. Using our own range instead of the real
// brk means no other code in the process can move our break. Large blocks are plain anonymous mmaps; discard is
// madvise(MADV_DONTNEED), which frees the pages and reads back zeros.
//
// Allocates nothing itself: it runs inside malloc.
#pragma once

#include "libc/malloc/MemorySource.h"

namespace Malloc {

class HostMemorySource final : public MemorySource {
public:
    HostMemorySource() = default;
    MNEME_NONCOPYABLE(HostMemorySource);
    MNEME_NONMOVABLE(HostMemorySource);

    // Reserves the heap range: `bytes`, or less when the address space is limited (RLIMIT_AS). false when
    // not even 64 MiB can be reserved.
    bool initialize(size_t bytes = size_t(64) << 30);

    void* extend(size_t bytes) override;
    void* reserve(size_t bytes) override;
    bool commit(void* address, size_t bytes) override;
    bool decommit(void* address, size_t bytes) override;
    bool shrink(size_t bytes) override;
    void* map(size_t bytes) override;
    void unmap(void* address, size_t bytes) override;
    void* remap(void* address, size_t old_bytes, size_t new_bytes) override;
    void discard(void* address, size_t bytes) override;
    size_t page_size() const override { return kPageBytes; }

    size_t reserved_bytes() const { return m_reserved; }
    // The heap range [heap_start, heap_start + heap_bytes), and the most it ever held (for tools/malloc).
    const void* heap_start() const { return m_start; }
    size_t heap_bytes() const { return m_break; }
    size_t peak_heap_bytes() const { return m_peak_break; }

private:
    static constexpr size_t kPageBytes = 4096;
    char* m_start = nullptr;
    size_t m_reserved = 0;
    size_t m_break = 0;      // bytes in use from m_start
    size_t m_committed = 0;  // bytes from m_start that may be read-write: a page multiple, above none are
    size_t m_peak_break = 0;
};

}  // namespace Malloc
