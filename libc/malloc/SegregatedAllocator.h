// SegregatedAllocator.h: the fast default policy -- size classes, each served from pages of its own.
//
// Simple segregated storage (Wilson et al. 1995), organised like mimalloc (Leijen, Zorn, de Moura 2019):
//
//   segment (1 MiB, aligned to 1 MiB, reserved with MemorySource::reserve, committed as pages are made)
//   +----------+----------+----------+----------+----- ... -----+----------+
//   | header   | page     | page     |  free    |               | page     |    64 slices of 16 KiB
//   | slice 0  | class 64 | class 16 |  slice   |               | (8 sl.)  |
//   +----------+----------+----------+----------+----- ... -----+----------+
//     `-- the Segment: free-slice bitmap and one Page descriptor per slice
//
// A page is 1 slice (classes up to 4 KiB), or 2 to 32 slices for larger classes (up to 128 KiB): enough
// for at least 4 blocks. It holds blocks of one size only, so blocks need no header: free() finds the page
// descriptor from the address alone (mask to the segment, shift to the slice). Each page keeps its own LIFO
// free list, threaded through the free blocks, and a bump pointer for blocks never handed out, so a new
// page is touched only as it fills.
// Pages of a class with free blocks form the class queue; the head is where allocation happens.
//
// Growing a class (the slow path, when the head page's free list is empty) takes, in order: free blocks
// on another queued page of the class; the rest of a memory page the class has already touched; a free
// slice an earlier page touched; a spare free block of a larger class (at most kBorrowFactor times the
// request, see borrow: it keeps classes from each growing to their own peak); and only then memory never
// touched before. Resident memory is thus reused before the process's resident size grows.
//
// Fast paths (inline, the single-threaded common case):
//   allocate: class table lookup, load the class's current page, pop its free list -- about 12
//             instructions with two well-predicted branches.
//   free:     range check, mask and shift to the page, block-boundary check (one multiply), double-free
//             canary test, push -- about 20 instructions.
//
// Returning memory, with hysteresis: an empty page goes back to its segment at once unless it is its
// class's only page; that one is "retired" and kept for kRetireTicks more slow-path events (so a loop that
// allocates and frees one object does not create and destroy a page each time), then released. A retiring
// page is pinned -- its use count holds one extra -- so frees to it stay on the fast path meanwhile. Free
// slices stay resident up to retain_bytes and are discarded (MADV_DONTNEED) beyond; a wholly free segment at
// the top is given back to the source when another wholly free one sits below it. Free slices stay resident
// (up to retain_bytes) until they have been free for kDecayReleases page releases, then are discarded
// (MADV_DONTNEED) down to a quarter of the memory the live pages use. The accounting counts bytes that were
// really touched (below a page's bump pointer), not whole slices.
//
// A reservation is not a commitment: a segment is only address space until used. Its header slice is
// committed when it is added, and a new page commits its own slices (MemorySource::commit: mprotect in Mneme
// and on the host), a 16 KiB slice at a time and on the slow path only. Free slices stay committed (with the
// hysteresis above) until memory runs out: then the Heap, before failing an allocation, has them decommitted
// (decommit_free_slices) and tries again, as malloc_trim does. A top segment given back goes whole. A refused
// commit is out of memory (allocate returns nullptr). In Mneme this is what lets an 8 MiB machine run the
// default malloc: the commit rule counts committed slices, not a whole segment.
//
// Why 16 KiB slices in 1 MiB segments: the slice is the unit of commitment, and every size class in use
// commits at least one page. A program with some forty classes live, each holding a few blocks, commits
// forty slices whatever its live data: with 64 KiB slices that was 2.5 MiB, and malloctest's randomized
// section (tests/host/MallocCommitBudgetTest.cpp replays it) committed 7.9 MiB at its peak for 2.3 MiB live,
// beyond the 4.7 MiB an 8 MiB machine without swap lets a process commit. With 16 KiB slices it commits
// 6.7 MiB unbounded and fits that limit once a refused commit has the caches given back. Keeping 64 slices
// a segment keeps the bitmaps one u64 each; the header (64 descriptors of 64 bytes) still fits in a slice.
// Committed slices stay one range per segment (pages are made at the lowest free slices), so the kernel's
// regions stay few: finer commits inside a page would leave a hole after each class's page, two regions
// a class, and Mneme's region table holds 64.
//
// Misuse: free() of an address inside a page that is not a block start, or of a never-handed-out block, or
// of a free slice, is reported; a freed block carries a canary (address ^ secret) in its second word, so a
// second free() of it is caught and confirmed by searching the page's free list. Popping checks that the
// next pointer stays inside the page, so a use-after-free write to a free block is caught when it is used.
//
// Invariants (check_invariants): per page, used + free-list length + never-used blocks == capacity; every
// free-list entry is a block start below the bump pointer; pages with free blocks are queued; slice kinds
// match the free bitmap; the count of resident free slices matches the bitmaps.
#pragma once

#include "libc/base/Format.h"
#include "libc/base/Types.h"
#include "libc/malloc/MemorySource.h"
#include "libc/malloc/SizeClasses.h"
#include "libc/malloc/Statistics.h"

namespace Malloc {

class SegregatedAllocator {
public:
    static constexpr unsigned kSliceShift = 14;
    static constexpr size_t kSliceBytes = size_t(1) << kSliceShift;
    static constexpr unsigned kSegmentShift = 20;
    static constexpr size_t kSegmentBytes = size_t(1) << kSegmentShift;
    static constexpr unsigned kSlicesPerSegment = kSegmentBytes / kSliceBytes;
    static constexpr size_t kMaxSize = SizeClasses::kMaxSize;
    // A page holds at least kMinBlocksPerPage blocks: 1 slice for classes up to 4 KiB, then 2 to 32.
    static constexpr unsigned kMinBlocksPerPage = 4;
    static constexpr unsigned kMaxPageSlices = 32;
    // The fewest slices, a power of two, that hold kMinBlocksPerPage blocks of the class. Pages no larger
    // than that keep what a program commits small (in Mneme the commit limit counts every committed slice).
    static constexpr unsigned compute_slices(u32 block_size) {
        unsigned count = 1;
        while (count < kMaxPageSlices && count * kSliceBytes < kMinBlocksPerPage * size_t(block_size)) count *= 2;
        return count;
    }
    static_assert(kSlicesPerSegment == 64);

    struct Options {
        // The most touched free-slice memory kept (hysteresis); see release_page.
        size_t retain_bytes = 4 * MiB;
        size_t spare_segments = 1;  // wholly free segments kept below a free top segment
        uptr secret = 0x5EC2E7;
    };

    SegregatedAllocator(MemorySource& source, const Options& options);
    MNEME_NONCOPYABLE(SegregatedAllocator);
    MNEME_NONMOVABLE(SegregatedAllocator);

    struct FreeBlock {
        FreeBlock* next;
        uptr canary;  // address ^ secret while free; 0 once handed out
    };

    // The fast path. nullptr: not handled here (too large, or the class's current page has no free block
    // on its list) -- call allocate_slow, which gives the final answer.
    void* allocate_fast(size_t size) {
        if (size > SizeClasses::kTableMax) return nullptr;
        Page* page = m_current[kSizeClasses.table[(size + 15) >> 4]];
        if (!page->free) return nullptr;
        return pop(page);
    }
    // nullptr: out of memory, or size > kMaxSize.
    void* allocate_slow(size_t size);
    void* allocate(size_t size) {
        void* block = allocate_fast(size);
        return block ? block : allocate_slow(size);
    }
    // Aligned blocks come from the smallest class whose size is a multiple of the alignment (its blocks
    // are all aligned); nullptr when there is none.
    void* allocate_aligned(size_t alignment, size_t size);

    bool contains(const void* pointer) const { return reinterpret_cast<uptr>(pointer) - m_base < m_heap_bytes; }

    // The fast path. false: not handled (pointer outside the heap, a page's first or last block left or
    // entered its class queue, or something suspicious) -- call free_slow.
    bool free_fast(void* pointer) {
        uptr address = reinterpret_cast<uptr>(pointer);
        if (address - m_base >= m_heap_bytes) return false;
        Page* page = page_at(address);
        if (page->kind != PageKind::Small) return false;
        uptr offset = address - reinterpret_cast<uptr>(page->area);
        u64 index = (u64(offset) * page->reciprocal) >> 40;
        if (index * page->block_size != offset || address >= reinterpret_cast<uptr>(page->bump)) return false;
        FreeBlock* block = static_cast<FreeBlock*>(pointer);
        uptr canary = address ^ m_options.secret;
        if (block->canary == canary) return false;  // maybe a double free: free_slow makes sure
        block->next = page->free;
        block->canary = canary;
        page->free = block;
        if (--page->used == 0 || !(page->flags & kQueued)) [[unlikely]]
            page_changed_state(page);
        return true;
    }
    // Frees `pointer`, which must be in the heap (contains), reporting misuse.
    void free_slow(void* pointer);

    // The usable size (the class size), reporting misuse.
    size_t usable_size(const void* pointer, const char* operation) const;

    void release_free_memory();
    // Gives the committed free slices back (MemorySource::decommit): what malloc_trim and an allocation that
    // ran out of memory do. Returns the bytes given back.
    size_t decommit_free_slices();
    size_t committed_bytes() const;
    void add_statistics(Statistics& statistics) const;
    void check_invariants() const;
    void dump(FormatSink sink, void* context) const;

    // For thread caches (ThreadCache), which read page descriptors without the heap's lock (a page with a
    // live block on it is stable). The class of a plausible live block, or kNoClass when the pointer is
    // anything else (then a locked free() reports it). Same checks as free_fast.
    static constexpr unsigned kNoClass = ~0u;
    unsigned peek_class(const void* pointer) const {
        uptr address = reinterpret_cast<uptr>(pointer);
        if (address - m_base >= m_heap_bytes) return kNoClass;
        Page* page = page_at(address);
        if (page->kind != PageKind::Small) return kNoClass;
        uptr offset = address - reinterpret_cast<uptr>(page->area);
        if (((u64(offset) * page->reciprocal) >> 40) * page->block_size != offset) return kNoClass;
        if (address >= reinterpret_cast<uptr>(__atomic_load_n(&page->bump, __ATOMIC_RELAXED))) return kNoClass;
        return page->size_class;
    }
    // What a free block carries in FreeBlock::canary.
    uptr canary_for(const void* pointer) const { return reinterpret_cast<uptr>(pointer) ^ m_options.secret; }
    // Takes up to `count` blocks of class `size_class`, linked through FreeBlock::next; returns how many.
    size_t allocate_batch(unsigned size_class, FreeBlock*& list, size_t count);
    void free_block(void* pointer);  // a validated block, canary already set or not

private:
    enum class PageKind : u8 { Free = 0, Small = 1, Tail = 2, SegmentHeader = 3 };
    // One per slice, 64 bytes so that finding it from an address is a shift, not a multiply. The fields
    // the fast paths touch come first.
    struct alignas(64) Page {
        FreeBlock* free;  // LIFO free list
        char* area;       // first block
        char* bump;       // blocks in [bump, area + area_bytes) were never handed out
        u64 reciprocal;   // see SizeClasses
        Page* next;       // class queue
        Page* prev;
        u32 area_bytes;     // capacity * block_size; in a free slice: its touched bytes (release_page)
        u32 block_size;     // in a free slice: when it was released (m_release_clock)
        u16 used;           // blocks handed out (including those sitting in thread caches)
        u16 touched_pages;  // pages from `area` that earlier pages on these slices touched (not discarded)
        u8 size_class;
        PageKind kind;
        u8 head_distance;  // slices back to the page head (0 for the head itself)
        u8 flags;          // kQueued, kPinned
    };
    static_assert(sizeof(Page) == 64);
    static constexpr u8 kQueued = 1;  // in its class queue
    static constexpr u8 kPinned = 2;  // retiring: `used` holds one extra count so that frees never see 0
    struct Segment {
        u32 magic;
        u32 free_since;                 // m_release_clock when the segment last became wholly free
        u64 free_slices;                // bit i: slice i is free (bit 0, the header, never is)
        u64 clean_slices;               // free slices whose memory is discarded or was never touched
        u64 committed_slices;           // slices committed (MemorySource::commit); the rest only reserved
        Page pages[kSlicesPerSegment];  // pages[0] describes the header slice itself
    };
    static_assert(sizeof(Segment) <= kSliceBytes);
    static constexpr u32 kSegmentMagic = 0x5E6D3E47;
    static constexpr u64 kAllSlices = ~u64(1);  // every slice but the header

    static Segment* segment_of(uptr address) { return reinterpret_cast<Segment*>(address & ~(kSegmentBytes - 1)); }
    static Page* page_at(uptr address) {
        Page* page = &segment_of(address)->pages[(address >> kSliceShift) & (kSlicesPerSegment - 1)];
        return page - page->head_distance;
    }
    static unsigned slice_index(const Page* page) {
        return static_cast<unsigned>(page - segment_of(reinterpret_cast<uptr>(page))->pages);
    }
    static char* slice_address(Segment* segment, unsigned index) {
        return reinterpret_cast<char*>(segment) + (size_t(index) << kSliceShift);
    }
    static u32 capacity_of(const Page& page) { return page.area_bytes / page.block_size; }  // slow paths only
    static unsigned slices_for(unsigned size_class) { return compute_slices(kSizeClasses.size[size_class]); }
    Segment* segment(size_t index) const { return reinterpret_cast<Segment*>(m_base + index * kSegmentBytes); }

    [[noreturn]] void report_bad_link(const Page* page, const FreeBlock* block) const;
    Page* validated_page(const void* pointer, const char* operation) const;
    void* carve(Page* page);
    // Takes the first block of page->free, which must not be empty.
    void* pop(Page* page) {
        FreeBlock* block = page->free;
        FreeBlock* next = block->next;
        // A free block's link must stay in its page; anything else is a use-after-free write.
        uptr offset = reinterpret_cast<uptr>(next) - reinterpret_cast<uptr>(page->area);
        if (offset >= page->area_bytes && next) [[unlikely]] {
            report_bad_link(page, block);
        }
        page->free = next;
        ++page->used;
        block->canary = 0;
        return block;
    }
    void* allocate_in_class(unsigned size_class, size_t borrow_limit);
    void* borrow(unsigned size_class, size_t largest);
    bool carve_is_resident(const Page* page) const;
    bool has_resident_free_slice() const;
    Page* new_page(unsigned size_class);
    bool add_segment();
    bool commit_slices(Segment* seg, unsigned first, unsigned count);
    void enqueue(Page* page);
    void dequeue(Page* page);
    void move_to_front(Page* page);  // a queued page that is not the only one
    static Page* queued_page_with_free_blocks(Page* head);
    void page_changed_state(Page* page);
    void release_page(Page* page);
    void collect_retired();
    void decay_free_memory();
    void unpin(Page* page);
    void maybe_trim_segments();

    MemorySource& m_source;
    Options m_options;
    uptr m_base = 0;
    size_t m_segments = 0;
    size_t m_heap_bytes = 0;  // m_segments * kSegmentBytes, for the fast paths' range check
    size_t m_padding = 0;
    char* m_unready_segment = nullptr;  // reserved above the last segment, its header not committed yet
    size_t m_resident_free_bytes = 0;   // touched, not discarded bytes in free slices
    size_t m_touched_in_pages = 0;      // bytes below the bump pointers of the pages in use
    u32 m_release_clock = 0;            // counts page releases: the age of free slices
    static constexpr size_t kRetainFloor = 256 * KiB;
    // Ages are counted in page releases, so they must be scaled with the slice: a free slice may go once 2 MiB
    // of pages (128 one-slice pages) were released after it, checked every quarter of that. They were 32 and 8
    // releases, set when a slice was 64 KiB; when slices became 16 KiB the same program released four times as
    // many pages for the same memory, free slices aged four times as fast, and sh6bench discarded and refaulted
    // them 100 000 times (madvise), 1.1 s against 0.15 s.
    static constexpr u32 kDecayReleases = static_cast<u32>(2 * MiB / kSliceBytes);  // before a free slice may go
    static constexpr u32 kDecayInterval = kDecayReleases / 4;                        // releases between passes
    // Retiring pages (hysteresis, see page_changed_state): at most one per class, pinned.
    u64 m_retired_classes = 0;  // bit c: m_retired[c] is set
    Page* m_retired[SizeClasses::kCount] = {};
    u8 m_retire_ticks[SizeClasses::kCount] = {};  // slow-path events left before it goes
    static constexpr u8 kRetireTicks = 16;
    // A request may be served by a larger class's spare block of at most kBorrowFactor times its size (see
    // borrow).
    static constexpr size_t kBorrowFactor = 2;
    static_assert(SizeClasses::kCount <= 64);
    Page* m_current[SizeClasses::kCount];  // the queue head, or &m_empty_page
    Page* m_queue_tail[SizeClasses::kCount];
    Page m_empty_page;  // no free blocks, nothing to carve: sends the fast path to the slow
};

static_assert(SegregatedAllocator::compute_slices(4 * KiB) == 1 && SegregatedAllocator::compute_slices(8 * KiB) == 2);
static_assert(SegregatedAllocator::compute_slices(5 * KiB) == 2 && SegregatedAllocator::compute_slices(64 * KiB) == 16);
static_assert(SegregatedAllocator::compute_slices(SizeClasses::kMaxSize) == SegregatedAllocator::kMaxPageSlices);

}  // namespace Malloc
