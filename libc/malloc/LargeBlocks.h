// LargeBlocks.h: blocks above the mmap threshold, each in a mapping of its own (MemorySource::map).
//
// A large block gives its pages back to the system the moment it is freed, instead of leaving a hole in the
// heap. The header sits just below the payload:
//
//     mapping start                       payload (aligned)
//     | ...alignment gap... | mapping bytes  offset  requested  check | data ............ |
//
// Hysteresis: freeing a mapping and mapping it again costs two system calls plus a page fault and a zeroed
// page for every 4 KiB touched, so a program that allocates and frees a 1 MiB buffer in a loop would fault
// all the time (a "trim-and-refault storm"). A small cache keeps up to kCacheEntries recently freed
// mappings (at most half the live large blocks' bytes, 4 MiB at least and cache_limit at most) and hands
// one out again when it fits a request within 25% (or, for a buffer that realloc is growing, within 8x:
// a program that builds a large buffer, frees it and builds the next reuses the resident pages instead of
// faulting in new ones at every step); the oldest is unmapped first when the cache is full.
//
// Invariants: every live block's header check is valid; the counters equal the sums over live blocks; the
// cache holds at most kCacheEntries mappings and cache_limit bytes (the budget can shrink below what it
// holds; the excess goes at the next free).
#pragma once

#include "libc/base/Types.h"
#include "libc/malloc/MemorySource.h"
#include "libc/malloc/Statistics.h"

namespace Malloc {

class LargeBlocks {
public:
    static constexpr size_t kCacheEntries = 8;
    static constexpr size_t kAlignment = 16;

    LargeBlocks(MemorySource& source, size_t cache_limit, uptr secret);
    MNEME_NONCOPYABLE(LargeBlocks);
    MNEME_NONMOVABLE(LargeBlocks);

    // What a new block is for: Growing is a buffer realloc is enlarging, which may take a cached mapping
    // up to kGrowingReuse times its size (it will likely grow into it) instead of a quarter larger.
    enum class Use : u8 { Plain, Growing };
    static constexpr size_t kGrowingReuse = 8;

    // nullptr when the source cannot map. `zeroed` tells whether the payload is known to be all zeros (a
    // fresh mapping) so calloc can skip clearing it.
    void* allocate(size_t size, size_t alignment, bool& zeroed, Use use = Use::Plain);
    void free(void* pointer, const char* operation = "free");
    // Resizes within the mapping or by remapping it. nullptr: cannot, the block is unchanged.
    void* reallocate(void* pointer, size_t size);
    size_t usable_size(const void* pointer, const char* operation) const;
    size_t requested_size(const void* pointer) const;
    // Whether `pointer` carries a valid large-block header. Reads the bytes below it: call it only for a
    // pointer that is not in the heap (a pointer that is neither may fault, like any bad free()).
    bool is_large(const void* pointer) const;

    void release_cache();
    size_t cached_bytes() const { return m_cache_bytes; }
    void add_statistics(Statistics& statistics) const;
    void check_invariants() const;

private:
    struct Header {
        size_t mapping_bytes;
        size_t offset;     // from the mapping start to the payload
        size_t requested;  // kFreed once freed (for the double-free report of a cached block)
        uptr check;
    };
    static_assert(sizeof(Header) % kAlignment == 0);
    static constexpr size_t kFreed = ~size_t(0);

    static Header* header_of(const void* pointer) {
        return reinterpret_cast<Header*>(reinterpret_cast<uptr>(pointer) - sizeof(Header));
    }
    uptr check_of(const Header* header) const;
    void set_header(Header* header, size_t mapping_bytes, size_t offset, size_t requested);
    Header* validate(const void* pointer, const char* operation) const;
    void* take_cached(size_t& bytes, Use use);
    void* map(size_t& bytes, bool& zeroed, Use use);
    size_t cache_budget() const;
    static constexpr size_t kCacheFloor = 4 * MiB;
    void unmap(void* mapping, size_t bytes);

    struct CacheEntry {
        void* mapping;
        size_t bytes;
    };

    MemorySource& m_source;
    size_t m_cache_limit;
    uptr m_secret;
    CacheEntry m_cache[kCacheEntries] = {};
    size_t m_cache_count = 0;  // entries [0, count) in age order, oldest first
    size_t m_cache_bytes = 0;
    size_t m_live_blocks = 0;
    size_t m_live_mapped = 0;
    size_t m_live_requested = 0;
};

}  // namespace Malloc
