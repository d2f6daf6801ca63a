// BuddyAllocator.h: the binary buddy system (Knowlton 1965; Knuth TAOCP vol. 1, 2.5, Algorithms R and S).
//
// The heap grows in arenas of 2^kMaxOrder bytes aligned to their size. Every block is 2^k bytes
// (kMinOrder <= k <= kMaxOrder) at an address that is a multiple of 2^k, so a block's buddy -- the other
// half of the block it was split from -- is at `address XOR 2^k`, with no search:
//
//     order 20  [                                1 MiB                                       ]
//     order 19  [              512 KiB                ][             512 KiB (buddy)          ]
//     order 18  [   256 KiB (in use) ][ 256 KiB (free)]
//
// allocate(n): the smallest order k with 2^k >= n + header; take a free block of order k, or split a larger
// one in halves, keeping the upper halves free, until it is order k. free: while the buddy is free and of
// the same order, unlink it and merge. Each block starts with a 16-byte header (order, state, check);
// free blocks are on one doubly-linked list per order.
//
// The price is internal fragmentation: a 1025-byte request takes 2 KiB. Statistics count the rounding as
// alignment overhead; external fragmentation stays low because merging is exact.
//
// Invariants (check_invariants): blocks tile every arena; each has a valid header, an order in range and an
// address aligned to its size; a free block's buddy is never a free block of the same order; the lists hold
// exactly the free blocks, each on the list of its order.
#pragma once

#include "libc/base/Format.h"
#include "libc/base/Types.h"
#include "libc/malloc/MemorySource.h"
#include "libc/malloc/Statistics.h"

namespace Malloc {

class BuddyAllocator {
public:
    static constexpr unsigned kMinOrder = 5;   // 32 bytes: a header and two list links
    static constexpr unsigned kMaxOrder = 20;  // 1 MiB arenas
    static constexpr size_t kArenaBytes = size_t(1) << kMaxOrder;
    static constexpr size_t kHeaderBytes = 16;
    static constexpr size_t kAlignment = 16;
    static constexpr size_t kMaxRequest = kArenaBytes - kHeaderBytes;

    struct Options {
        size_t spare_arenas = 1;  // wholly free arenas kept at the top before shrinking (hysteresis)
        uptr secret = 0;
    };

    BuddyAllocator(MemorySource& source, const Options& options);
    MNEME_NONCOPYABLE(BuddyAllocator);
    MNEME_NONMOVABLE(BuddyAllocator);

    // nullptr when the request needs more than an arena or the source is exhausted.
    void* allocate(size_t size);
    void* allocate_aligned(size_t alignment, size_t size);
    void free(void* pointer);
    // Shrinks by freeing upper halves, grows by absorbing free right buddies. false: cannot, unchanged.
    bool resize_in_place(void* pointer, size_t size);
    size_t usable_size(const void* pointer, const char* operation = "malloc_usable_size") const;
    bool contains(const void* pointer) const {
        return reinterpret_cast<uptr>(pointer) - m_base < m_arenas * kArenaBytes;
    }
    void release_free_memory();

    void add_statistics(Statistics& statistics) const;
    void check_invariants() const;
    void dump(FormatSink sink, void* context) const;

private:
    enum class State : u8 { Free = 0x46, InUse = 0x55, Alias = 0x41 };
    struct Header {
        u32 check;
        u8 order;
        State state;
        u16 reserved;
        u32 slack;   // in use: usable bytes after the request; alias: distance back to the block's header
        u32 offset;  // in use: where the payload starts (16, or the alignment of an aligned block)
    };
    static_assert(sizeof(Header) == kHeaderBytes);
    struct Links {
        Header* next;
        Header* prev;
    };

    static Links* links(Header* header) {
        return reinterpret_cast<Links*>(reinterpret_cast<char*>(header) + kHeaderBytes);
    }
    static size_t block_bytes(unsigned order) { return size_t(1) << order; }
    static unsigned order_for(size_t bytes);
    u32 check_of(const Header* header) const;
    void set_header(Header* header, unsigned order, State state, u32 slack = 0, u32 offset = 0);
    Header* buddy_of(Header* block, unsigned order) const {
        return reinterpret_cast<Header*>(m_base + ((reinterpret_cast<uptr>(block) - m_base) ^ block_bytes(order)));
    }
    Header* block_of(const void* pointer, const char* operation) const;  // validates; resolves aliases

    void push(Header* block, unsigned order);
    void unlink(Header* block);
    Header* pop(unsigned order);
    bool add_arena();
    Header* take(unsigned order);
    void release(Header* block, unsigned order);  // free + merge
    void maybe_shrink();

    MemorySource& m_source;
    Options m_options;
    uptr m_base = 0;  // first arena
    size_t m_arenas = 0;
    size_t m_padding = 0;  // bytes below m_base spent aligning the first arena
    struct ListHead {
        Header header;  // unused; lets list code treat the head like a block
        Links links;
    };
    ListHead m_free[kMaxOrder + 1];
    size_t m_free_count[kMaxOrder + 1] = {};
};

}  // namespace Malloc
