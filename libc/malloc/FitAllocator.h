// FitAllocator.h: the classic sequential-fit policies over one free list: first, next, best and worst fit.
//
// The heap is one contiguous run of blocks from MemorySource::extend, ended by an epilogue header. Every
// block starts with a 16-byte header (Knuth's boundary-tag method, TAOCP vol. 1, 2.5; dlmalloc's layout):
//
//     in use:  | size|P|A  check  slack | payload ...................................... |
//     free:    | size|P|0  check  0     | next | prev | ...unused...           | size   |
//                                                                    footer: ^^^^^^^^
//
// A = this block is in use, P = the previous block is in use. Only free blocks carry a footer (their size
// in their last word), so an allocated block pays 16 bytes and free() still finds its left neighbour in
// O(1): when P is clear the word just before the header is the neighbour's footer.
//
// The free blocks form one doubly-linked list embedded in their own payloads, kept in address order, which
// is what makes first fit "address-ordered first fit" (Wilson et al. 1995: with best fit, the policies with
// the least fragmentation). Policies differ only in which free block they pick:
//
//   first   the lowest-addressed block that fits
//   next    the first that fits at or after the roving pointer, wrapping (Knuth's Algorithm A variant)
//   best    the smallest that fits; the lowest address among equals (an exact fit stops the search)
//   worst   the largest
//
// Invariants (check_invariants): blocks tile [start, epilogue) exactly; sizes are multiples of 16 and at
// least kMinimumBlock; every check word is right; P matches the previous block; no two free blocks are
// adjacent (immediate coalescing); the list holds exactly the free blocks, in increasing address order.
//
// Cost: allocate is O(free blocks) for the search; free is O(1) for the coalescing and O(free blocks) to
// find the list position when neither neighbour is free (a hint makes runs of frees cheap).
//
// With Options::indexed the free blocks are kept in a FitIndex instead of the list once there are more
// than Options::list_limit of them: the same policies, choosing the same block in every situation (the
// equality tests replay traces through both and compare every address), with each search and update
// O(log n). Splitting, coalescing and the rover's moves are this file's code either way;
// free_insert/free_remove/free_replace/free_resize pick the structure.
//
// The hybrid: on a small heap the list is faster than the tree (its first few blocks usually fit, and an
// update is two links where the tree walks and rebalances a path), so an indexed heap keeps the list while
// it has at most list_limit free blocks, moves them into the index when it has more, and back to the list
// when they fall to a quarter of the limit. Both structures hold the same blocks in the same address order
// and answer every search alike, so the switch changes no decision, only the cost; it happens between
// calls (choose_search), never inside one; with the hysteresis the free set changes by 3/4 of the limit
// between two switches (a call changes it by two blocks at most), which pays for each switch: O(n log n)
// to build the index, O(n) to drain it.
#pragma once

#include "libc/base/Format.h"
#include "libc/base/Types.h"
#include "libc/malloc/FitIndex.h"
#include "libc/malloc/FitLayout.h"
#include "libc/malloc/MemorySource.h"
#include "libc/malloc/Statistics.h"

namespace Malloc {

class FitAllocator {
public:
    struct Options {
        size_t growth_bytes = 64 * KiB;     // the least the heap grows by
        size_t trim_threshold = 512 * KiB;  // a free top block this large is given back ...
        size_t trim_keep = 128 * KiB;       // ... down to this much (the hysteresis)
        uptr secret = 0;
        bool indexed = false;  // search a FitIndex (O(log n)) rather than the list (O(n)): the same choices
        // Indexed only: the list serves while the heap has at most this many free blocks, the index above;
        // back to the list at a quarter of it (see "The hybrid" above). 0: the index whenever a block is
        // free; kPolicyListLimit: the strategy's own, default_list_limit.
        size_t list_limit = kPolicyListLimit;
    };
    static constexpr size_t kPolicyListLimit = SIZE_MAX;
    // About where the index starts to beat the list, in free blocks (docs/malloc.md, "The hybrid"): first
    // fit's list search stops at the first block that fits, next fit's usually sooner still, best fit's
    // only at an exact fit and worst fit's never, while every index update walks a path of the tree.
    static constexpr size_t default_list_limit(FitStrategy strategy) {
        switch (strategy) {
        case FitStrategy::First: return 256;
        case FitStrategy::Next: return 512;
        case FitStrategy::Best: return 128;
        case FitStrategy::Worst: return 32;
        }
        return 0;
    }

    static constexpr size_t kAlignment = 16;
    static constexpr size_t kHeaderBytes = 16;
    // Header, two list links and a footer, rounded up: 48 bytes on x86-64, 32 on i386.
    static constexpr size_t kMinimumBlock = align_up<size_t>(kHeaderBytes + 3 * sizeof(void*), kAlignment);
    static_assert(kAlignment == FitLayout::kAlignment && kHeaderBytes == FitLayout::kHeaderBytes &&
                  kMinimumBlock == FitLayout::kMinimumBlock);

    FitAllocator(MemorySource& source, FitStrategy strategy, const Options& options);
    MNEME_NONCOPYABLE(FitAllocator);
    MNEME_NONMOVABLE(FitAllocator);

    // nullptr when the source has no more memory.
    void* allocate(size_t size);
    void* allocate_aligned(size_t alignment, size_t size);
    void free(void* pointer);
    // Grows or shrinks the block where it is (absorbing a free neighbour, or growing the heap when the
    // block is the last one). false: it cannot, nothing changed.
    bool resize_in_place(void* pointer, size_t size);
    size_t usable_size(const void* pointer, const char* operation = "malloc_usable_size") const;

    bool contains(const void* pointer) const { return reinterpret_cast<uptr>(pointer) - m_start < m_end - m_start; }
    // Gives back every free byte at the top beyond one page (malloc_trim).
    void release_free_memory();

    void add_statistics(Statistics& statistics) const;
    void check_invariants() const;
    void dump(FormatSink sink, void* context) const;

private:
    struct alignas(kAlignment) Header {
        uptr size_and_flags;  // block bytes including the header | kPreviousInUse | kInUse
        u32 check;            // header_check(address, size_and_flags ^ slack)
        u32 slack;            // in use: usable bytes the program did not ask for
    };
    static_assert(sizeof(Header) == kHeaderBytes && __builtin_offsetof(Header, size_and_flags) == 0);
    struct Links {
        Header* next;
        Header* prev;
    };
    static constexpr uptr kInUse = 1;
    static constexpr uptr kPreviousInUse = 2;
    static constexpr uptr kFlags = kInUse | kPreviousInUse;
    static_assert(kFlags < kAlignment);  // FitLayout::size_of_block masks the flags off

    static char* payload(Header* header) { return reinterpret_cast<char*>(header) + kHeaderBytes; }
    static Header* header_of(const void* pointer) {
        return reinterpret_cast<Header*>(reinterpret_cast<uptr>(pointer) - kHeaderBytes);
    }
    static size_t size_of(const Header* header) { return header->size_and_flags & ~kFlags; }
    static bool in_use(const Header* header) { return header->size_and_flags & kInUse; }
    static bool previous_in_use(const Header* header) { return header->size_and_flags & kPreviousInUse; }
    static Header* next_block(Header* header) {
        return reinterpret_cast<Header*>(reinterpret_cast<char*>(header) + size_of(header));
    }
    static Header* previous_block(Header* header) {
        uptr previous_size = reinterpret_cast<uptr*>(header)[-1];  // the free neighbour's footer
        return reinterpret_cast<Header*>(reinterpret_cast<char*>(header) - previous_size);
    }
    static Links* links(Header* header) { return reinterpret_cast<Links*>(payload(header)); }
    static size_t block_size_for(size_t request) {
        size_t size = align_up(request + kHeaderBytes, kAlignment);
        return size < kMinimumBlock ? kMinimumBlock : size;
    }

    u32 check_of(const Header* header) const;
    void set_header(Header* header, size_t size, bool used, bool previous_used, u32 slack = 0);
    void set_previous_in_use(Header* header, bool previous_used);
    void make_free(Header* header, size_t size);  // header (P kept) and footer
    static void set_footer(Header* header, size_t size) {
        reinterpret_cast<uptr*>(reinterpret_cast<char*>(header) + size)[-1] = size;
    }
    Header* validate(const void* pointer, const char* operation) const;
    [[noreturn]] void report_bad_header(const void* pointer, const char* operation) const;

    Header* find_fit(size_t size);
    Header* grow(size_t size);
    void* take(Header* block, size_t size, size_t request);
    void split_tail(Header* block, size_t keep);
    Header* release_block(Header* block);  // coalesce and insert; returns the resulting free block
    void maybe_trim();
    void discard_inside(void* free_block);

    void choose_search() {
        if (m_options.indexed &&
            (m_indexed ? m_free_blocks <= m_options.list_limit / 4 : m_free_blocks > m_options.list_limit)) [[unlikely]]
            switch_search();
    }
    void switch_search();

    void free_insert(Header* block);
    void free_remove(Header* block);
    void free_replace(Header* old_block, Header* new_block);
    void free_resizing(Header* block);
    void free_resize(Header* block, size_t size);
    void check_index(size_t free_count, size_t larger_free_count) const;

    void list_insert_ordered(Header* block);
    void list_unlink(Header* block);
    void list_replace(Header* old_block, Header* new_block);
    Header* sentinel() { return &m_sentinel.header; }
    const Header* sentinel() const { return &m_sentinel.header; }

    MemorySource& m_source;
    FitStrategy m_strategy;
    Options m_options;
    uptr m_start = 0;      // first block
    uptr m_end = 0;        // end of the heap; the epilogue header is its last 16 bytes
    size_t m_padding = 0;  // bytes below m_start that aligned the first extension
    Header* m_epilogue = nullptr;
    // The list is circular through this sentinel, whose header is never read as a block.
    struct {
        Header header;
        Links links;
    } m_sentinel;
    Header* m_rover;        // next fit: where the next search starts (a free block or the sentinel)
    Header* m_insert_hint;  // a listed free block (or the sentinel) below recent frees
    FitIndex m_index;       // the free blocks while m_indexed (always empty for the list versions)
    bool m_indexed = false;  // the free blocks are in m_index, not on the list
    size_t m_free_blocks = 0;
};

}  // namespace Malloc
