// SegregatedAllocator.cpp: size-class pages in aligned segments (see SegregatedAllocator.h).
#include "libc/malloc/SegregatedAllocator.h"

#include "libc/base/Assert.h"
#include "libc/malloc/Integrity.h"

namespace Malloc {

namespace {

unsigned lowest_bit(u64 value) {
    u32 low = static_cast<u32>(value);
    if (low != 0) return static_cast<unsigned>(__builtin_ctz(low));
    return 32 + static_cast<unsigned>(__builtin_ctz(static_cast<u32>(value >> 32)));
}

unsigned highest_bit(u64 value) {
    u32 high = static_cast<u32>(value >> 32);
    if (high != 0) return 63 - static_cast<unsigned>(__builtin_clz(high));
    return 31 - static_cast<unsigned>(__builtin_clz(static_cast<u32>(value)));
}

// Bit i of the result is set when bits i .. i+count-1 of `bits` all are: where a run of `count` free
// slices starts.
u64 run_starts(u64 bits, unsigned count) {
    u64 runs = bits;
    for (unsigned k = 1; k < count; ++k) runs &= bits >> k;
    return runs;
}

u64 slice_bits(unsigned first, unsigned count) {
    u64 ones = count == 64 ? ~u64(0) : (u64(1) << count) - 1;
    return ones << first;
}

}  // namespace

SegregatedAllocator::SegregatedAllocator(MemorySource& source, const Options& options)
    : m_source(source), m_options(options) {
    m_empty_page = {};
    m_empty_page.kind = PageKind::Free;
    for (unsigned c = 0; c < SizeClasses::kCount; ++c) {
        m_current[c] = &m_empty_page;
        m_queue_tail[c] = nullptr;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Segments and pages
// ---------------------------------------------------------------------------------------------------------

// Commits the slices [first, first + count) of `seg` that are not committed yet, in one call from the lowest
// to the highest of them (committing a committed slice again is harmless). false: refused, nothing changed.
bool SegregatedAllocator::commit_slices(Segment* seg, unsigned first, unsigned count) {
    u64 missing = slice_bits(first, count) & ~seg->committed_slices;
    if (missing == 0) return true;
    unsigned low = lowest_bit(missing), high = highest_bit(missing);
    if (!m_source.commit(slice_address(seg, low), (high + 1 - low) * kSliceBytes)) return false;
    seg->committed_slices |= slice_bits(low, high + 1 - low);
    return true;
}

// Gives every committed free slice back to the source (MemorySource::decommit), run by run; its touched bytes
// go with it. Returns the bytes decommitted (0 when the source cannot decommit).
size_t SegregatedAllocator::decommit_free_slices() {
    size_t decommitted = 0;
    for (size_t s = 0; s < m_segments; ++s) {
        Segment* seg = segment(s);
        for (u64 pending = seg->free_slices & seg->committed_slices; pending;) {
            unsigned first = lowest_bit(pending), count = 0;
            while (first + count < kSlicesPerSegment && (pending >> (first + count)) & 1) ++count;
            u64 bits = slice_bits(first, count);
            pending &= ~bits;
            if (!m_source.decommit(slice_address(seg, first), count * kSliceBytes)) return decommitted;
            for (unsigned i = first; i < first + count; ++i) {
                m_resident_free_bytes -= seg->pages[i].area_bytes;
                seg->pages[i].area_bytes = 0;
            }
            seg->committed_slices &= ~bits;
            seg->clean_slices |= bits;
            decommitted += count * kSliceBytes;
        }
    }
    return decommitted;
}

// A segment is reserved (address space only) and just its header committed; pages commit the rest as they
// are made (new_page).
bool SegregatedAllocator::add_segment() {
    char* start;
    if (m_unready_segment) {
        start = m_unready_segment;  // reserved by an earlier call whose commit was refused
        m_unready_segment = nullptr;
    } else if (m_segments == 0) {
        start = static_cast<char*>(extend_aligned(m_source, kSegmentBytes, kSegmentBytes, m_padding, true));
        if (!start) return false;
        m_base = reinterpret_cast<uptr>(start);
    } else {
        start = static_cast<char*>(m_source.reserve(kSegmentBytes));
        if (!start) return false;
        VERIFY(reinterpret_cast<uptr>(start) == m_base + m_segments * kSegmentBytes);  // grows without gaps
    }
    // The whole header slice, though the header needs a few pages: the committed part of a segment is then one
    // range from its start as pages are made, which keeps the kernel's regions few.
    if (!m_source.commit(start, kSliceBytes)) {
        size_t padding = m_segments == 0 ? m_padding : 0;
        if (!m_source.shrink(kSegmentBytes + padding))
            m_unready_segment = start;  // the source keeps it: the next add_segment tries to commit it again
        else if (m_segments == 0)
            m_base = m_padding = 0;
        return false;
    }
    Segment* fresh = reinterpret_cast<Segment*>(start);
    fresh->magic = kSegmentMagic;
    fresh->free_since = m_release_clock;
    fresh->free_slices = kAllSlices;
    fresh->clean_slices = kAllSlices;  // never touched: not resident
    fresh->committed_slices = 1;       // the header
    for (Page& page : fresh->pages) page = {};
    fresh->pages[0].kind = PageKind::SegmentHeader;
    ++m_segments;
    m_heap_bytes = m_segments * kSegmentBytes;
    return true;
}

SegregatedAllocator::Page* SegregatedAllocator::new_page(unsigned size_class) {
    collect_retired();
    unsigned count = slices_for(size_class);
    Segment* chosen = nullptr;
    unsigned first = 0;
    // Prefer free slices that are still resident (no page faults), then any; lowest address first, which
    // keeps the top segments empty so they can be given back.
    for (int pass = 0; pass < 2 && !chosen; ++pass) {
        for (size_t s = 0; s < m_segments; ++s) {
            Segment* candidate = segment(s);
            u64 usable = candidate->free_slices & (pass == 0 ? ~candidate->clean_slices : ~u64(0));
            u64 runs = run_starts(usable, count);
            if (runs) {
                chosen = candidate;
                first = lowest_bit(runs);
                break;
            }
        }
    }
    if (!chosen) {
        if (!add_segment()) return nullptr;
        chosen = segment(m_segments - 1);
        first = 1;
    }
    if (!commit_slices(chosen, first, count)) return nullptr;
    u64 bits = slice_bits(first, count);
    // Earlier pages may have touched more of these slices than this one will: remember how far, so that
    // release_page accounts for (and discards) all of it.
    size_t touched_before = 0;
    for (unsigned k = 0; k < count; ++k) {
        size_t resident = chosen->pages[first + k].area_bytes;
        if (resident) touched_before = k * kSliceBytes + resident;
        m_resident_free_bytes -= resident;
    }
    chosen->free_slices &= ~bits;
    chosen->clean_slices &= ~bits;

    Page* page = &chosen->pages[first];
    for (unsigned k = 1; k < count; ++k) {
        chosen->pages[first + k] = {};
        chosen->pages[first + k].kind = PageKind::Tail;
        chosen->pages[first + k].head_distance = static_cast<u8>(k);
    }
    u32 size = kSizeClasses.size[size_class];
    u32 capacity = static_cast<u32>((count * kSliceBytes) / size);
    *page = {};
    page->area = slice_address(chosen, first);
    page->area_bytes = capacity * size;
    page->bump = page->area;
    page->reciprocal = kSizeClasses.reciprocal[size_class];
    page->touched_pages = static_cast<u16>(touched_before / m_source.page_size());
    page->block_size = size;
    page->size_class = static_cast<u8>(size_class);
    page->kind = PageKind::Small;
    enqueue(page);
    return page;
}

void SegregatedAllocator::enqueue(Page* page) {
    unsigned c = page->size_class;
    page->next = nullptr;
    page->prev = m_queue_tail[c];
    if (m_queue_tail[c])
        m_queue_tail[c]->next = page;
    else
        m_current[c] = page;
    m_queue_tail[c] = page;
    page->flags |= kQueued;
}

void SegregatedAllocator::move_to_front(Page* page) {
    unsigned c = page->size_class;
    if (m_current[c] == page) return;
    dequeue(page);
    page->next = m_current[c];
    page->prev = nullptr;
    m_current[c]->prev = page;
    m_current[c] = page;
    page->flags |= kQueued;
}

SegregatedAllocator::Page* SegregatedAllocator::queued_page_with_free_blocks(Page* head) {
    for (Page* page = head->next; page; page = page->next)
        if (page->free) return page;
    return nullptr;
}

void SegregatedAllocator::dequeue(Page* page) {
    unsigned c = page->size_class;
    if (page->prev)
        page->prev->next = page->next;
    else
        m_current[c] = page->next ? page->next : &m_empty_page;
    if (page->next)
        page->next->prev = page->prev;
    else
        m_queue_tail[c] = page->prev;
    page->next = page->prev = nullptr;
    page->flags &= static_cast<u8>(~kQueued);
}

// After a free: a page that was full rejoins its queue; an empty page goes back to its segment unless it
// is its class's only page, which retires instead: pinned (its count holds one extra, so it never reads
// empty on the fast path) for kRetireTicks slow-path events (hysteresis: one object allocated and freed in
// a loop must not create and destroy a page every time).
void SegregatedAllocator::page_changed_state(Page* page) {
    if (!(page->flags & kQueued)) enqueue(page);
    collect_retired();
    if (page->used != 0) return;
    unsigned c = page->size_class;
    if (m_current[c] == page && m_queue_tail[c] == page && !m_retired[c]) {
        page->used = 1;
        page->flags |= kPinned;
        m_retired[c] = page;
        m_retire_ticks[c] = kRetireTicks;
        m_retired_classes |= u64(1) << c;
        return;
    }
    dequeue(page);
    release_page(page);
}

void SegregatedAllocator::unpin(Page* page) {
    unsigned c = page->size_class;
    --page->used;
    page->flags &= static_cast<u8>(~kPinned);
    m_retired[c] = nullptr;
    m_retired_classes &= ~(u64(1) << c);
}

// One slow-path event for every retiring page: a page in use again is unpinned and carries on, one whose
// ticks ran out goes back to its segment. Cost: a loop over the set bits, usually none.
void SegregatedAllocator::collect_retired() {
    for (u64 pending = m_retired_classes; pending; pending &= pending - 1) {
        unsigned c = lowest_bit(pending);
        Page* page = m_retired[c];
        if (page->used > 1) {
            unpin(page);
        } else if (--m_retire_ticks[c] == 0) {
            unpin(page);
            if (page->flags & kQueued) dequeue(page);
            release_page(page);
        }
    }
}

// A free slice's descriptor keeps, in area_bytes, how many of its bytes (from its start) were touched and
// not discarded since: what it adds to the process's resident size while free.
void SegregatedAllocator::release_page(Page* page) {
    Segment* owner = segment_of(reinterpret_cast<uptr>(page));
    unsigned first = slice_index(page);
    unsigned count = slices_for(page->size_class);
    char* area = page->area;
    // Only the part below the bump pointer was touched, or below what earlier pages here touched.
    size_t page_bytes = m_source.page_size();
    size_t carved = static_cast<size_t>(page->bump - area);  // read now: the loop below clears *page
    size_t touched = align_up<size_t>(carved, page_bytes);
    if (touched < page->touched_pages * page_bytes) touched = page->touched_pages * page_bytes;
    u64 bits = slice_bits(first, count);
    owner->free_slices |= bits;
    ++m_release_clock;
    if (owner->free_slices == kAllSlices) owner->free_since = m_release_clock;
    for (unsigned k = 0; k < count; ++k) {
        size_t below = touched > k * kSliceBytes ? touched - k * kSliceBytes : 0;
        owner->pages[first + k] = {};
        owner->pages[first + k].area_bytes = static_cast<u32>(below < kSliceBytes ? below : kSliceBytes);
        owner->pages[first + k].block_size = m_release_clock;  // a free slice's release time
        if (below == 0) owner->clean_slices |= u64(1) << (first + k);
    }
    m_resident_free_bytes += touched;
    m_touched_in_pages -= carved;
    // Free memory stays resident for the next pages, so a program that frees and allocates in waves does
    // not discard and refault (madvise + page faults) each time. Two limits: retain_bytes at once, and
    // memory that stayed free for kDecayReleases releases goes once it is above a share of the live pages.
    if (m_resident_free_bytes > m_options.retain_bytes && touched != 0) {
        m_source.discard(area, touched);
        for (unsigned k = 0; k < count; ++k) owner->pages[first + k].area_bytes = 0;
        owner->clean_slices |= bits;
        m_resident_free_bytes -= touched;
    }
    if (m_release_clock % kDecayInterval == 0) decay_free_memory();
    maybe_trim_segments();
}

// Discards free slices that were released more than kDecayReleases releases ago, highest address first,
// until what stays is a quarter of what the pages in use have touched (at least kRetainFloor).
void SegregatedAllocator::decay_free_memory() {
    size_t budget = m_touched_in_pages / 4;
    if (budget < kRetainFloor) budget = kRetainFloor;
    for (size_t s = m_segments; s > 0 && m_resident_free_bytes > budget; --s) {
        Segment* seg = segment(s - 1);
        for (unsigned i = kSlicesPerSegment - 1; i > 0 && m_resident_free_bytes > budget; --i) {
            Page& slice = seg->pages[i];
            if (slice.kind != PageKind::Free || slice.area_bytes == 0) continue;
            if (m_release_clock - slice.block_size < kDecayReleases) continue;
            m_source.discard(slice_address(seg, i), slice.area_bytes);
            m_resident_free_bytes -= slice.area_bytes;
            slice.area_bytes = 0;
            seg->clean_slices |= u64(1) << i;
        }
    }
}

// A wholly free segment at the top goes back to the source once it has been free for kDecayReleases page
// releases and spare_segments more wholly free ones sit below it (hysteresis: a program that frees and
// allocates a few MiB in waves must not shrink and extend the heap every wave).
void SegregatedAllocator::maybe_trim_segments() {
    if (m_unready_segment) {  // it sits at the top of the source's heap: it goes first
        if (!m_source.shrink(kSegmentBytes)) return;
        m_unready_segment = nullptr;
    }
    while (m_segments > 1) {
        size_t empty_top = 0;
        for (size_t s = m_segments; s > 0 && empty_top <= m_options.spare_segments; --s) {
            if (segment(s - 1)->free_slices != kAllSlices) break;
            ++empty_top;
        }
        if (empty_top <= m_options.spare_segments) return;
        Segment* top = segment(m_segments - 1);
        if (m_release_clock - top->free_since < kDecayReleases) return;
        size_t resident = 0;
        for (unsigned i = 1; i < kSlicesPerSegment; ++i) resident += top->pages[i].area_bytes;
        if (!m_source.shrink(kSegmentBytes)) return;
        m_resident_free_bytes -= resident;
        --m_segments;
        m_heap_bytes = m_segments * kSegmentBytes;
    }
}

size_t SegregatedAllocator::committed_bytes() const {
    size_t slices = 0;  // counted bit by bit: the freestanding build has no libgcc for popcount (i486)
    for (size_t s = 0; s < m_segments; ++s)
        for (u64 bits = segment(s)->committed_slices; bits; bits &= bits - 1) ++slices;
    return slices * kSliceBytes;
}

void SegregatedAllocator::release_free_memory() {
    // Empty pages kept for hysteresis go back to their segments, free slices are decommitted (or discarded,
    // where the source cannot decommit), and wholly free top segments are returned.
    for (u64 pending = m_retired_classes; pending; pending &= pending - 1) {
        Page* page = m_retired[lowest_bit(pending)];
        unpin(page);
        if (page->used == 0) {
            if (page->flags & kQueued) dequeue(page);
            release_page(page);
        }
    }
    decommit_free_slices();
    for (size_t s = 0; s < m_segments; ++s) {
        Segment* seg = segment(s);
        for (unsigned i = 1; i < kSlicesPerSegment; ++i) {
            Page& slice = seg->pages[i];
            if (slice.kind != PageKind::Free || slice.area_bytes == 0) continue;
            m_source.discard(slice_address(seg, i), slice.area_bytes);
            m_resident_free_bytes -= slice.area_bytes;
            slice.area_bytes = 0;
        }
        seg->clean_slices |= seg->free_slices;
    }
    size_t saved = m_options.spare_segments;
    m_options.spare_segments = 0;
    m_release_clock += kDecayReleases;  // everything free counts as old now
    maybe_trim_segments();
    m_options.spare_segments = saved;
}

// ---------------------------------------------------------------------------------------------------------
// Allocation
// ---------------------------------------------------------------------------------------------------------

void SegregatedAllocator::report_bad_link(const Page* page, const FreeBlock* block) const {
    (void)page;
    report_corruption("a free block's link points outside its page (written after free?)", block);
}

// Hands out the next never-used block, and threads the following blocks that lie wholly within the same
// memory pages onto the free list, so the next allocations take the fast path. Those pages are resident
// from the moment the block is written, so the blocks threaded with it cost nothing; a block reaching into
// the next page is left for the next carve, and a class touches no page before it needs one.
void* SegregatedAllocator::carve(Page* page) {
    char* end = page->area + page->area_bytes;
    if (page->bump == end) return nullptr;
    size_t size = page->block_size;
    FreeBlock* result = reinterpret_cast<FreeBlock*>(page->bump);
    char* batch_start = page->bump + size;
    uptr resident_end = align_up<uptr>(reinterpret_cast<uptr>(batch_start), m_source.page_size());
    size_t batch = resident_end >= reinterpret_cast<uptr>(end)
                       ? static_cast<size_t>(end - batch_start) / size
                       : static_cast<size_t>(resident_end - reinterpret_cast<uptr>(batch_start)) / size;
    FreeBlock* list = page->free;
    for (size_t i = batch; i > 0; --i) {
        FreeBlock* block = reinterpret_cast<FreeBlock*>(batch_start + (i - 1) * size);
        block->next = list;
        block->canary = reinterpret_cast<uptr>(block) ^ m_options.secret;
        list = block;
    }
    page->free = list;
    page->bump = batch_start + batch * size;
    m_touched_in_pages += static_cast<size_t>(page->bump - reinterpret_cast<char*>(result));
    ++page->used;
    result->canary = 0;
    return result;
}

void* SegregatedAllocator::allocate_slow(size_t size) {
    if (size > kMaxSize) return nullptr;
    return allocate_in_class(kSizeClasses.class_of(size), kBorrowFactor * size);
}

// Borrowing. If a class whose free blocks ran out always grew into fresh memory, every class would grow to
// its own high-water mark, and the resident size would be the sum of the classes' peaks rather than the
// peak of their sum: with a few dozen classes whose populations rise and fall independently, that sum is
// far above the live data. A free block on a larger class's current page is resident memory; handing it
// out costs at most kBorrowFactor - 1 times the request in rounding, and lets neighbouring classes share
// their peaks. The lender keeps a memory page's worth of free blocks for itself: a class that is about to use
// its free blocks (as in a program allocating all its sizes in the same burst) must not be the one made
// to grow instead. The block stays its page's: free() returns it there.
void* SegregatedAllocator::borrow(unsigned size_class, size_t largest) {
    for (unsigned c = size_class + 1; c < SizeClasses::kCount && kSizeClasses.size[c] <= largest; ++c) {
        Page* page = m_current[c];
        size_t spare = static_cast<size_t>(page->bump - page->area) - size_t(page->used) * page->block_size;
        if (page->free && spare > m_source.page_size()) return pop(page);
    }
    return nullptr;
}

// Whether carving the next block of `page` writes only memory pages that are already resident: the one
// the bump pointer is in (an earlier block touched it), or those an earlier page on these slices touched.
bool SegregatedAllocator::carve_is_resident(const Page* page) const {
    uptr bump = reinterpret_cast<uptr>(page->bump);
    uptr area = reinterpret_cast<uptr>(page->area);
    size_t page_bytes = m_source.page_size();
    uptr resident_end = align_up<uptr>(bump, page_bytes);
    uptr touched_before = area + size_t(page->touched_pages) * page_bytes;
    if (touched_before > resident_end) resident_end = touched_before;
    return bump + page->block_size <= resident_end;
}

bool SegregatedAllocator::has_resident_free_slice() const {
    for (size_t s = 0; s < m_segments; ++s) {
        const Segment* seg = segment(s);
        if (seg->free_slices & ~seg->clean_slices) return true;
    }
    return false;
}

void* SegregatedAllocator::allocate_in_class(unsigned size_class, size_t borrow_limit) {
    for (;;) {
        Page* page = m_current[size_class];
        if (page->free) return pop(page);
        // Blocks freed to another page of this class are resident: use them before anything else.
        if (Page* other = queued_page_with_free_blocks(page)) {
            move_to_front(other);
            return pop(other);
        }
        // The class must grow. Memory already resident comes first (the rest of a touched memory page, or a
        // free slice an earlier page touched); before touching fresh memory, a larger class's spare block.
        bool resident = page == &m_empty_page ? has_resident_free_slice() : carve_is_resident(page);
        if (!resident && borrow_limit != 0) {
            if (void* block = borrow(size_class, borrow_limit)) return block;
        }
        if (page == &m_empty_page) {
            page = new_page(size_class);
            if (!page) return nullptr;
        }
        if (void* block = carve(page)) return block;
        dequeue(page);  // full: it rejoins the queue when one of its blocks is freed
    }
}

void* SegregatedAllocator::allocate_aligned(size_t alignment, size_t size) {
    if (alignment <= 16) return allocate(size);
    if (alignment > kSliceBytes || size > kMaxSize) return nullptr;
    // Blocks of a class whose size is a multiple of the alignment are all aligned: pages start on slice (16 KiB)
    // boundaries and blocks sit at multiples of the size.
    unsigned c = kSizeClasses.class_of(size < alignment ? alignment : size);
    while (c < SizeClasses::kCount && kSizeClasses.size[c] % alignment != 0) ++c;
    if (c == SizeClasses::kCount) return nullptr;
    return allocate_in_class(c, 0);  // no borrowing: a larger class's blocks need not be aligned
}

size_t SegregatedAllocator::allocate_batch(unsigned size_class, FreeBlock*& list, size_t count) {
    size_t size = kSizeClasses.size[size_class];
    size_t taken = 0;
    list = nullptr;
    while (taken < count) {
        void* block = allocate(size);
        if (!block) break;
        FreeBlock* entry = static_cast<FreeBlock*>(block);
        entry->next = list;
        list = entry;
        ++taken;
    }
    return taken;
}

// ---------------------------------------------------------------------------------------------------------
// Free
// ---------------------------------------------------------------------------------------------------------

SegregatedAllocator::Page* SegregatedAllocator::validated_page(const void* pointer, const char* operation) const {
    uptr address = reinterpret_cast<uptr>(pointer);
    if (!contains(pointer)) report_misuse(operation, pointer, "invalid pointer: not returned by malloc");
    Segment* owner = segment_of(address);
    if (owner->magic != kSegmentMagic)
        report_corruption("segment header overwritten (a write past the end of a block?)", owner);
    unsigned index = (address >> kSliceShift) & (kSlicesPerSegment - 1);
    unsigned distance = owner->pages[index].head_distance;
    if (distance >= index && index != 0) report_corruption("page descriptor overwritten", &owner->pages[index]);
    Page* page = &owner->pages[index - distance];
    if (page->kind != PageKind::Small)
        report_misuse(operation, pointer, "invalid pointer: not returned by malloc (no block there)");
    uptr offset = address - reinterpret_cast<uptr>(page->area);
    if ((u64(offset) * page->reciprocal >> 40) * page->block_size != offset || offset >= page->area_bytes)
        report_misuse(operation, pointer, "invalid pointer: not the start of a block (not returned by malloc)");
    if (address >= reinterpret_cast<uptr>(page->bump))
        report_misuse(operation, pointer, "invalid pointer: not returned by malloc (block never allocated)");
    return page;
}

void SegregatedAllocator::free_block(void* pointer) {
    Page* page = validated_page(pointer, "free");
    FreeBlock* block = static_cast<FreeBlock*>(pointer);
    block->next = page->free;
    block->canary = reinterpret_cast<uptr>(pointer) ^ m_options.secret;
    page->free = block;
    if (--page->used == 0 || !(page->flags & kQueued)) page_changed_state(page);
}

void SegregatedAllocator::free_slow(void* pointer) {
    Page* page = validated_page(pointer, "free");
    FreeBlock* block = static_cast<FreeBlock*>(pointer);
    if (block->canary == (reinterpret_cast<uptr>(pointer) ^ m_options.secret)) {
        // The canary says "free"; it could also be the program's data. The free list decides.
        for (FreeBlock* entry = page->free; entry; entry = entry->next)
            if (entry == block) report_misuse("free", pointer, "double free: the block is already free");
    }
    free_block(pointer);
}

size_t SegregatedAllocator::usable_size(const void* pointer, const char* operation) const {
    Page* page = validated_page(pointer, operation);
    const FreeBlock* block = static_cast<const FreeBlock*>(pointer);
    if (block->canary == (reinterpret_cast<uptr>(pointer) ^ m_options.secret)) {
        for (FreeBlock* entry = page->free; entry; entry = entry->next)
            if (entry == block) report_misuse(operation, pointer, "the block is free (used after free)");
    }
    return page->block_size;
}

// ---------------------------------------------------------------------------------------------------------
// Statistics, invariants, dump
// ---------------------------------------------------------------------------------------------------------

void SegregatedAllocator::add_statistics(Statistics& s) const {
    s.live_bytes_exact = false;
    if (m_segments == 0) return;
    s.heap_bytes += m_segments * kSegmentBytes + m_padding;
    s.metadata_bytes += m_padding + m_segments * kSliceBytes;  // the header slices
    for (size_t index = 0; index < m_segments; ++index) {
        Segment* seg = segment(index);
        size_t run = 0;
        for (unsigned i = 1; i <= kSlicesPerSegment; ++i) {
            bool is_free = i < kSlicesPerSegment && (seg->free_slices & (u64(1) << i));
            if (is_free) {
                ++run;
                continue;
            }
            if (run) {
                ++s.free_blocks;
                s.free_bytes += run * kSliceBytes;
                if (run * kSliceBytes > s.largest_free_block) s.largest_free_block = run * kSliceBytes;
                run = 0;
            }
            if (i == kSlicesPerSegment) break;
            const Page& page = seg->pages[i];
            if (page.kind != PageKind::Small) continue;
            size_t used = page.used - ((page.flags & kPinned) ? 1 : 0);
            s.live_blocks += used;
            s.live_bytes += used * page.block_size;
            size_t unused = capacity_of(page) - used;
            s.free_blocks += unused;
            s.free_bytes += unused * page.block_size;
            if (unused && page.block_size > s.largest_free_block) s.largest_free_block = page.block_size;
            // The tail of the page no block fits in.
            s.metadata_bytes += slices_for(page.size_class) * kSliceBytes - page.area_bytes;
        }
    }
}

void SegregatedAllocator::check_invariants() const {
    VERIFY(m_empty_page.free == nullptr && m_empty_page.bump == m_empty_page.area);
    size_t resident = 0;
    size_t carved = 0;
    for (size_t index = 0; index < m_segments; ++index) {
        Segment* seg = segment(index);
        VERIFY(seg->magic == kSegmentMagic);
        VERIFY((seg->free_slices & 1) == 0 && (seg->clean_slices & ~seg->free_slices) == 0);
        VERIFY(seg->pages[0].kind == PageKind::SegmentHeader);
        // Nothing the allocator touches is only reserved: the header, pages, and free slices' touched bytes.
        VERIFY((seg->committed_slices & 1) && ((~seg->committed_slices & ~seg->free_slices) & ~u64(1)) == 0);
        for (unsigned i = 1; i < kSlicesPerSegment; ++i) {
            const Page& page = seg->pages[i];
            bool is_free = seg->free_slices & (u64(1) << i);
            VERIFY(is_free == (page.kind == PageKind::Free));
            if (is_free) {
                VERIFY(page.area_bytes <= kSliceBytes);
                VERIFY(((seg->clean_slices >> i) & 1) == (page.area_bytes == 0));
                VERIFY(page.area_bytes == 0 || ((seg->committed_slices >> i) & 1));
                resident += page.area_bytes;
            }
            if (page.kind == PageKind::Tail) {
                VERIFY(page.head_distance > 0 && page.head_distance < i);
                const Page& head = seg->pages[i - page.head_distance];
                VERIFY(head.kind == PageKind::Small && slices_for(head.size_class) > page.head_distance);
                continue;
            }
            if (page.kind != PageKind::Small) continue;
            VERIFY(page.head_distance == 0 && page.size_class < SizeClasses::kCount);
            VERIFY(i + slices_for(page.size_class) <= kSlicesPerSegment);
            VERIFY(page.block_size == kSizeClasses.size[page.size_class]);
            VERIFY(page.area == slice_address(seg, i));
            VERIFY(page.area_bytes % page.block_size == 0 && capacity_of(page) <= 0xFFFF);
            VERIFY(page.area_bytes <= slices_for(page.size_class) * kSliceBytes);
            VERIFY(page.bump >= page.area && page.bump <= page.area + page.area_bytes);
            carved += static_cast<size_t>(page.bump - page.area);
            size_t listed = 0;
            for (FreeBlock* block = page.free; block; block = block->next) {
                uptr offset = reinterpret_cast<uptr>(block) - reinterpret_cast<uptr>(page.area);
                VERIFY(reinterpret_cast<char*>(block) < page.bump && offset % page.block_size == 0);
                VERIFY(block->canary == (reinterpret_cast<uptr>(block) ^ m_options.secret));
                VERIFY(++listed <= capacity_of(page));
            }
            size_t never_used = static_cast<size_t>(page.area + page.area_bytes - page.bump) / page.block_size;
            bool pinned = page.flags & kPinned;
            VERIFY(pinned == (m_retired[page.size_class] == &page));
            VERIFY(page.used - (pinned ? 1 : 0) + listed + never_used == capacity_of(page));
            if (listed + never_used > 0) VERIFY(page.flags & kQueued);
        }
    }
    VERIFY(resident == m_resident_free_bytes);
    VERIFY(carved == m_touched_in_pages);
    for (unsigned c = 0; c < SizeClasses::kCount; ++c) {
        const Page* previous = nullptr;
        for (Page* page = m_current[c] == &m_empty_page ? nullptr : m_current[c]; page; page = page->next) {
            VERIFY(contains(page) && page->kind == PageKind::Small && page->size_class == c && (page->flags & kQueued));
            VERIFY(page->prev == previous);
            previous = page;
        }
        VERIFY(m_queue_tail[c] == previous);
    }
}

void SegregatedAllocator::dump(FormatSink sink, void* context) const {
    format(sink, context,
           "segregated heap at %p: %zu segments (%zu bytes committed), %zu touched bytes in free slices, %zu in "
           "pages\n",
           reinterpret_cast<void*>(m_base), m_segments, committed_bytes(), m_resident_free_bytes, m_touched_in_pages);
    for (size_t index = 0; index < m_segments; ++index) {
        Segment* seg = segment(index);
        for (unsigned i = 1; i < kSlicesPerSegment; ++i) {
            const Page& page = seg->pages[i];
            if (page.kind == PageKind::Free && page.area_bytes != 0)
                format(sink, context, "  free slice %p: %u bytes still resident\n",
                       static_cast<void*>(slice_address(seg, i)), page.area_bytes);
            if (page.kind != PageKind::Small) continue;
            format(sink, context, "  page %p: class %2u (%6u bytes) %u/%u used, %zu bytes touched%s\n",
                   static_cast<void*>(page.area), page.size_class, page.block_size, page.used, capacity_of(page),
                   static_cast<size_t>(page.bump - page.area),
                   (page.flags & kQueued) ? ((page.flags & kPinned) ? " (retiring)" : "") : " (full)");
        }
    }
}

}  // namespace Malloc
