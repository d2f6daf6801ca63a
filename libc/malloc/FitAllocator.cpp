// FitAllocator.cpp: first/next/best/worst fit with boundary tags (see FitAllocator.h for the layout).
#include "libc/malloc/FitAllocator.h"

#include "libc/base/Assert.h"
#include "libc/malloc/Integrity.h"
#ifdef MNEME_FIT_FLOOR
#include "libc/malloc/FitFloor.h"
#endif

namespace Malloc {

#ifdef MNEME_FIT_FLOOR
FitFloor::Script FitFloor::script;
#endif

FitAllocator::FitAllocator(MemorySource& source, FitStrategy strategy, const Options& options)
    : m_source(source), m_strategy(strategy), m_options(options), m_index(strategy) {
    if (m_options.list_limit == kPolicyListLimit) m_options.list_limit = default_list_limit(strategy);
    links(sentinel())->next = sentinel();
    links(sentinel())->prev = sentinel();
    m_sentinel.header.size_and_flags = kInUse;  // never picked: a search stops before it
    m_rover = sentinel();
    m_insert_hint = sentinel();
}

[[gnu::always_inline]] inline u32 FitAllocator::check_of(const Header* header) const {
    return header_check(reinterpret_cast<uptr>(header), header->size_and_flags ^ header->slack, m_options.secret);
}

[[gnu::always_inline]] inline void FitAllocator::set_header(Header* header, size_t size, bool used, bool previous_used, u32 slack) {
    header->size_and_flags = size | (used ? kInUse : 0) | (previous_used ? kPreviousInUse : 0);
    header->slack = slack;
    header->check = check_of(header);
}

[[gnu::always_inline]] inline void FitAllocator::set_previous_in_use(Header* header, bool previous_used) {
    header->size_and_flags = (header->size_and_flags & ~kPreviousInUse) | (previous_used ? kPreviousInUse : 0);
    header->check = check_of(header);
}

[[gnu::always_inline]] inline void FitAllocator::make_free(Header* header, size_t size) {
    set_header(header, size, false, previous_in_use(header));
    set_footer(header, size);
}

// ---------------------------------------------------------------------------------------------------------
// The free list: circular, doubly linked, in address order.
// ---------------------------------------------------------------------------------------------------------

void FitAllocator::list_insert_ordered(Header* block) {
#ifdef MNEME_FIT_FLOOR
    if (FitFloor::script.mode == FitFloor::Mode::Replay) {  // the floor: no order, no walk (FitFloor.h)
        Header* after = links(sentinel())->next;
        links(block)->prev = sentinel();
        links(block)->next = after;
        links(sentinel())->next = block;
        links(after)->prev = block;
        return;
    }
#endif
    // Start from the hint when it lies below the block: frees often come in address order (a structure
    // torn down in the order it was built), and then each insertion is O(1).
    Header* before = m_insert_hint;
    if (before == sentinel() || before > block) before = sentinel();
    Header* last = links(sentinel())->prev;
    if (last != sentinel() && last < block) before = last;  // the top of the heap: O(1)
    while (links(before)->next != sentinel() && links(before)->next < block) before = links(before)->next;
    Header* after = links(before)->next;
    links(block)->prev = before;
    links(block)->next = after;
    links(before)->next = block;
    links(after)->prev = block;
    m_insert_hint = block;
}

void FitAllocator::list_unlink(Header* block) {
    Header* before = links(block)->prev;
    Header* after = links(block)->next;
    links(before)->next = after;
    links(after)->prev = before;
    if (m_rover == block) m_rover = after;
    if (m_insert_hint == block) m_insert_hint = before;
}

// `new_block` takes `old_block`'s place; the caller guarantees it sorts in the same position.
void FitAllocator::list_replace(Header* old_block, Header* new_block) {
    Header* before = links(old_block)->prev;
    Header* after = links(old_block)->next;
    links(new_block)->prev = before;
    links(new_block)->next = after;
    links(before)->next = new_block;
    links(after)->prev = new_block;
    if (m_rover == old_block) m_rover = new_block;
    if (m_insert_hint == old_block) m_insert_hint = new_block;
}

// ---------------------------------------------------------------------------------------------------------
// The free-block set: the list above, or the index (FitIndex.h) for the indexed policies. Either way the
// rover moves the same: to a block's replacement, or to its successor when it leaves the set.
// ---------------------------------------------------------------------------------------------------------

void FitAllocator::free_insert(Header* block) {
    ++m_free_blocks;
    if (!m_indexed) return list_insert_ordered(block);
    m_index.insert(block);
}

void FitAllocator::free_remove(Header* block) {
    --m_free_blocks;
    if (!m_indexed) return list_unlink(block);
    if (m_rover == block) {
        Header* after = static_cast<Header*>(m_index.successor(block));
        m_rover = after ? after : sentinel();
    }
    m_index.remove(block);
}

// The index needs free_resizing(old_block) first, before anything is written over it.
void FitAllocator::free_replace(Header* old_block, Header* new_block) {
    if (!m_indexed) return list_replace(old_block, new_block);
    m_index.replace(old_block, new_block);
    if (m_rover == old_block) m_rover = new_block;
}

void FitAllocator::free_resizing(Header* block) {
    if (m_indexed) m_index.resizing(block);
}

// make_free for a block in the set: the list keeps its place, the index re-sorts it by size.
void FitAllocator::free_resize(Header* block, size_t size) {
    if (m_indexed) m_index.resizing(block);
    make_free(block, size);
    if (m_indexed) m_index.resized(block);
}

// Moves the free blocks from the list into the index or back (choose_search says when). Both keep them in
// address order, the rover stays on its block, and the insert hint only speeds the list up.
void FitAllocator::switch_search() {
    Header* end = sentinel();
    if (!m_indexed) {
        Header* block = links(end)->next;
        while (block != end) {
            Header* next = links(block)->next;  // read before the index writes its node over the links
            m_index.insert(block);
            block = next;
        }
        links(end)->next = end;
        links(end)->prev = end;
        m_insert_hint = end;
        m_indexed = true;
        return;
    }
    Header* last = end;
    m_index.drain(
        [](void* block, void* context) {
            Header*& last = *static_cast<Header**>(context);
            auto* header = static_cast<Header*>(block);
            links(last)->next = header;
            links(header)->prev = last;
            last = header;
        },
        &last);
    links(last)->next = end;
    links(end)->prev = last;
    m_insert_hint = end;
    m_indexed = false;
}

// ---------------------------------------------------------------------------------------------------------
// Allocation
// ---------------------------------------------------------------------------------------------------------

FitAllocator::Header* FitAllocator::find_fit(size_t size) {
    Header* end = sentinel();
    if (m_indexed)
        return static_cast<Header*>(m_index.find(m_strategy, size, m_rover == end ? nullptr : m_rover));
    switch (m_strategy) {
    case FitStrategy::First:
        for (Header* block = links(end)->next; block != end; block = links(block)->next)
            if (size_of(block) >= size) return block;
        return nullptr;
    case FitStrategy::Next: {
        // One lap of the circle from the rover, skipping the sentinel.
        Header* start = m_rover == end ? links(end)->next : m_rover;
        if (start == end) return nullptr;
        Header* block = start;
        do {
            if (size_of(block) >= size) return block;
            block = links(block)->next;
            if (block == end) block = links(end)->next;
        } while (block != start);
        return nullptr;
    }
    case FitStrategy::Best: {
        Header* best = nullptr;
        for (Header* block = links(end)->next; block != end; block = links(block)->next) {
            size_t block_size = size_of(block);
            if (block_size < size || (best && block_size >= size_of(best))) continue;
            best = block;
            if (block_size == size) break;  // cannot do better; keeps the lowest address among equals
        }
        return best;
    }
    case FitStrategy::Worst: {
        Header* worst = nullptr;
        for (Header* block = links(end)->next; block != end; block = links(block)->next)
            if (!worst || size_of(block) > size_of(worst)) worst = block;
        return worst && size_of(worst) >= size ? worst : nullptr;
    }
    }
    return nullptr;
}

// Grows the heap so that its last block is free and at least `size` bytes; returns that block.
FitAllocator::Header* FitAllocator::grow(size_t size) {
    size_t page = m_source.page_size();
    if (!m_epilogue) {
        size_t bytes =
            align_up(size + kHeaderBytes > m_options.growth_bytes ? size + kHeaderBytes : m_options.growth_bytes, page);
        char* start = static_cast<char*>(extend_aligned(m_source, bytes, kAlignment, m_padding));
        if (!start) return nullptr;
        m_start = reinterpret_cast<uptr>(start);
        m_end = m_start + bytes;
        Header* first = reinterpret_cast<Header*>(m_start);
        set_header(first, bytes - kHeaderBytes, false, true);
        make_free(first, bytes - kHeaderBytes);
        m_epilogue = reinterpret_cast<Header*>(m_end - kHeaderBytes);
        set_header(m_epilogue, 0, true, false);
        free_insert(first);
        return first;
    }
    Header* last_free = previous_in_use(m_epilogue) ? nullptr : previous_block(m_epilogue);
    size_t have = last_free ? size_of(last_free) : 0;
    size_t missing = size - have;
    size_t bytes = align_up(missing > m_options.growth_bytes ? missing : m_options.growth_bytes, page);
    char* more = static_cast<char*>(m_source.extend(bytes));
    if (!more) return nullptr;
    VERIFY(reinterpret_cast<uptr>(more) == m_end);  // MemorySource::extend grows without gaps
    // The old epilogue becomes the header of the new space; a new epilogue closes the heap.
    Header* block = m_epilogue;
    bool previous_used = previous_in_use(block);
    m_end += bytes;
    m_epilogue = reinterpret_cast<Header*>(m_end - kHeaderBytes);
    set_header(m_epilogue, 0, true, false);
    if (last_free) {
        free_resize(last_free, have + bytes);  // still the highest free block: its list place is right
        return last_free;
    }
    set_header(block, bytes, false, previous_used);
    make_free(block, bytes);
    free_insert(block);
    return block;
}

// Marks the front `size` bytes of free `block` in use; the rest, if big enough, stays free in its place.
void* FitAllocator::take(Header* block, size_t size, size_t request) {
    size_t block_size = size_of(block);
    if (block_size - size >= kMinimumBlock) {
        free_resizing(block);
        Header* rest = reinterpret_cast<Header*>(reinterpret_cast<char*>(block) + size);
        set_header(rest, block_size - size, false, true);
        set_footer(rest, block_size - size);
        free_replace(block, rest);
    } else {
        size = block_size;
        free_remove(block);
        set_previous_in_use(next_block(block), true);
    }
    set_header(block, size, true, true, static_cast<u32>(size - kHeaderBytes - request));
    return payload(block);
}

void* FitAllocator::allocate(size_t request) {
    if (request > (SIZE_MAX >> 2)) return nullptr;
    size_t size = block_size_for(request);
#ifdef MNEME_FIT_FLOOR
    // The floor (FitFloor.h): take the recorded run's block instead of searching, or record the search's.
    FitFloor::Script& script = FitFloor::script;
    Header* block;
    if (script.mode == FitFloor::Mode::Replay) {
        VERIFY(script.next < script.capacity);
        intptr_t offset = script.offsets[script.next++];
        block = offset < 0 ? nullptr : reinterpret_cast<Header*>(m_start + offset);
    } else {
        block = find_fit(size);
        if (script.mode == FitFloor::Mode::Record) {
            VERIFY(script.next < script.capacity);
            script.offsets[script.next++] = block ? static_cast<intptr_t>(reinterpret_cast<uptr>(block) - m_start) : -1;
        }
    }
#else
    Header* block = find_fit(size);
#endif
    if (!block) block = grow(size);
    if (!block) return nullptr;
    // Next fit: the next search starts here -- at the remainder of the block (take() moves the rover
    // with it), or at its successor when it is used whole.
    if (m_strategy == FitStrategy::Next) m_rover = block;
    void* pointer = take(block, size, request);
    choose_search();
    return pointer;
}

void* FitAllocator::allocate_aligned(size_t alignment, size_t request) {
    if (alignment <= kAlignment) return allocate(request);
    if (request > (SIZE_MAX >> 2) || alignment > (SIZE_MAX >> 2)) return nullptr;
    // Over-allocate so that an aligned payload exists whose leading gap can become a free block.
    // The aligned block keeps at least max(request, kMinimumBlock) + 32 bytes (see below).
    size_t padded = (request > kMinimumBlock ? request : kMinimumBlock) + alignment + kMinimumBlock;
    char* pointer = static_cast<char*>(allocate(padded));
    if (!pointer) return nullptr;
    Header* block = header_of(pointer);
    uptr address = reinterpret_cast<uptr>(pointer);
    if ((address & (alignment - 1)) != 0) {
        // lead = aligned - address is at least kMinimumBlock and at most kMinimumBlock + alignment - 16.
        uptr aligned = align_up<uptr>(address + kMinimumBlock, alignment);
        Header* aligned_block = header_of(reinterpret_cast<void*>(aligned));
        size_t lead = reinterpret_cast<char*>(aligned_block) - reinterpret_cast<char*>(block);
        size_t total = size_of(block);
        // The block came off the front of a free block, so its left neighbour is in use: the lead
        // becomes a free block that cannot coalesce to the left, and its right neighbour is in use.
        set_header(block, lead, false, true);
        make_free(block, lead);
        free_insert(block);
        set_header(aligned_block, total - lead, true, false, 0);
        block = aligned_block;
        pointer = payload(block);
    }
    split_tail(block, block_size_for(request));
    size_t size = size_of(block);
    set_header(block, size, true, previous_in_use(block), static_cast<u32>(size - kHeaderBytes - request));
    choose_search();
    return pointer;
}

// ---------------------------------------------------------------------------------------------------------
// Free and coalescing
// ---------------------------------------------------------------------------------------------------------

void FitAllocator::report_bad_header(const void* pointer, const char* operation) const {
    // Walk the heap from its start: if the header sits on a block boundary, the program wrote over it;
    // otherwise the pointer never came from malloc. Only reached on the way to abort, so cost is no issue.
    Header* target = header_of(pointer);
    Header* block = reinterpret_cast<Header*>(m_start);
    while (block < target && block != m_epilogue) {
        if (check_of(block) != block->check || size_of(block) < kMinimumBlock) break;
        block = next_block(block);
    }
    if (block == target)
        report_misuse(operation, pointer,
                      "block header overwritten (heap corruption: a write past the end "
                      "of the block before it?)");
    report_misuse(operation, pointer, "invalid pointer: not returned by malloc (no block header there)");
}

FitAllocator::Header* FitAllocator::validate(const void* pointer, const char* operation) const {
    uptr address = reinterpret_cast<uptr>(pointer);
    if ((address & (kAlignment - 1)) != 0 || !contains(pointer) || address < m_start + kHeaderBytes)
        report_misuse(operation, pointer, "invalid pointer: not returned by malloc");
    Header* header = header_of(pointer);
    if (header->check != check_of(header)) report_bad_header(pointer, operation);
    if (!in_use(header))
        report_misuse(
            operation, pointer,
            operation[0] == 'f' ? "double free: the block is already free" : "use after free: the block is free");
    return header;
}

// Joins a block that just became free with its free neighbours and lists the result.
FitAllocator::Header* FitAllocator::release_block(Header* block) {
    size_t size = size_of(block);
    Header* next = next_block(block);
    bool next_free = !in_use(next);
    if (next_free) size += size_of(next);
    Header* result;
    if (!previous_in_use(block)) {
        // Leave a free-marked header behind even though the block melts into its left neighbour, so a
        // second free() of the same pointer still reads "already free" as long as nothing reused the bytes.
        set_header(block, size_of(block), false, false);
        result = previous_block(block);
        if (next_free) free_remove(next);
        free_resize(result, size_of(result) + size);
    } else {
        if (next_free) free_resizing(next);
        make_free(block, size);
        if (next_free)
            free_replace(next, block);
        else
            free_insert(block);
        result = block;
    }
    set_previous_in_use(next_block(result), false);
    return result;
}

void FitAllocator::free(void* pointer) {
    Header* block = validate(pointer, "free");
    Header* released = release_block(block);
    if (m_strategy == FitStrategy::Next && m_rover == sentinel()) m_rover = released;
    maybe_trim();
    choose_search();
}

// Shrinks an in-use block to `keep` bytes if the tail is big enough to be a block of its own.
void FitAllocator::split_tail(Header* block, size_t keep) {
    size_t size = size_of(block);
    if (size - keep < kMinimumBlock) return;
    set_header(block, keep, true, previous_in_use(block), block->slack);
    Header* tail = reinterpret_cast<Header*>(reinterpret_cast<char*>(block) + keep);
    set_header(tail, size - keep, true, true);
    release_block(tail);
}

// Hysteresis: give memory back only when the free top block exceeds trim_threshold, and keep trim_keep of
// it, so a program that frees and reallocates a few hundred KiB in a loop does not shrink and refault.
void FitAllocator::maybe_trim() {
    if (!m_epilogue || previous_in_use(m_epilogue)) return;
    Header* last = previous_block(m_epilogue);
    size_t size = size_of(last);
    if (size < m_options.trim_threshold || size <= m_options.trim_keep) return;
    size_t release = align_down(size - m_options.trim_keep, m_source.page_size());
    if (size - release < kMinimumBlock || release == 0) return;
    if (!m_source.shrink(release)) return;
    m_end -= release;
    free_resize(last, size - release);
    m_epilogue = reinterpret_cast<Header*>(m_end - kHeaderBytes);
    set_header(m_epilogue, 0, true, false);
}

void FitAllocator::release_free_memory() {
    Options saved = m_options;
    m_options.trim_threshold = 0;
    m_options.trim_keep = m_source.page_size();
    maybe_trim();
    m_options = saved;
    // Whole pages inside free blocks go too (what glibc's malloc_trim does); the header and links (or index
    // nodes) at the start of each free block and the footer at its end stay.
    if (m_indexed) {
        m_index.for_each([](void* block, void* self) { static_cast<FitAllocator*>(self)->discard_inside(block); },
                         this);
        return;
    }
    Header* end = sentinel();
    for (Header* block = links(end)->next; block != end; block = links(block)->next) discard_inside(block);
}

void FitAllocator::discard_inside(void* free_block) {
    uptr page = m_source.page_size();
    uptr block = reinterpret_cast<uptr>(free_block);
    size_t kept = m_indexed ? FitIndex::kNodeBytes : sizeof(Links);
    uptr first = align_up<uptr>(block + kHeaderBytes + kept, page);
    uptr last = align_down<uptr>(block + size_of(static_cast<Header*>(free_block)) - sizeof(uptr), page);
    if (last > first) m_source.discard(reinterpret_cast<void*>(first), last - first);
}

// ---------------------------------------------------------------------------------------------------------
// realloc support
// ---------------------------------------------------------------------------------------------------------

size_t FitAllocator::usable_size(const void* pointer, const char* operation) const {
    return size_of(validate(pointer, operation)) - kHeaderBytes;
}

bool FitAllocator::resize_in_place(void* pointer, size_t request) {
    Header* block = validate(pointer, "realloc");
    if (request > (SIZE_MAX >> 2)) return false;
    size_t size = block_size_for(request);
    size_t current = size_of(block);
    if (size > current) {
        Header* next = next_block(block);
        bool next_free = !in_use(next);
        size_t available = current + (next_free ? size_of(next) : 0);
        if (available < size) {
            // The last block (or the last one before the free top) can grow with the heap.
            bool at_top = next == m_epilogue || (next_free && next_block(next) == m_epilogue);
            if (!at_top || !grow(size - current)) return false;
            next = next_block(block);
            next_free = true;
            available = current + size_of(next);
        }
        // Absorb the free neighbour; what is left over goes back in its list place.
        size_t rest = available - size;
        if (rest >= kMinimumBlock) {
            // Relink before writing the remainder's header: it may lie on top of next's list links (or
            // index node, so the index takes next out first and the remainder in after).
            Header* remainder = reinterpret_cast<Header*>(reinterpret_cast<char*>(block) + size);
            bool rover_here = m_rover == next;
            if (m_indexed) m_index.remove(next);
            else list_replace(next, remainder);
            set_header(remainder, rest, false, true);
            set_footer(remainder, rest);
            if (m_indexed) {
                m_index.insert(remainder);
                if (rover_here) m_rover = remainder;
            }
            current = size;
        } else {
            free_remove(next);
            current = available;
            set_previous_in_use(next_block(next), true);
        }
        set_header(block, current, true, previous_in_use(block), 0);
    } else {
        split_tail(block, size);
    }
    current = size_of(block);
    set_header(block, current, true, previous_in_use(block), static_cast<u32>(current - kHeaderBytes - request));
    maybe_trim();
    choose_search();
    return true;
}

// ---------------------------------------------------------------------------------------------------------
// Statistics, invariants, dump
// ---------------------------------------------------------------------------------------------------------

void FitAllocator::add_statistics(Statistics& s) const {
    if (!m_epilogue) return;
    s.heap_bytes += m_end - m_start + m_padding;
    s.metadata_bytes += m_padding + kHeaderBytes;  // alignment of the first extension, the epilogue
    for (Header* block = reinterpret_cast<Header*>(m_start); block != m_epilogue; block = next_block(block)) {
        size_t size = size_of(block);
        if (in_use(block)) {
            ++s.live_blocks;
            s.live_bytes += size - kHeaderBytes - block->slack;
            s.header_bytes += kHeaderBytes;
            s.alignment_bytes += block->slack;
        } else {
            ++s.free_blocks;
            s.free_bytes += size;
            if (size > s.largest_free_block) s.largest_free_block = size;
        }
    }
}

void FitAllocator::check_invariants() const {
    if (!m_epilogue) {
        VERIFY(links(const_cast<Header*>(sentinel()))->next == sentinel());
        return;
    }
    size_t free_count = 0, larger_free_count = 0;
    bool previous_used = true;
    Header* block = reinterpret_cast<Header*>(m_start);
    while (block != m_epilogue) {
        VERIFY(reinterpret_cast<uptr>(block) < reinterpret_cast<uptr>(m_epilogue));
        VERIFY(block->check == check_of(block));
        size_t size = size_of(block);
        VERIFY(size >= kMinimumBlock && size % kAlignment == 0);
        VERIFY(previous_in_use(block) == previous_used);
        if (!in_use(block)) {
            VERIFY(previous_used);  // immediate coalescing: never two free blocks side by side
            VERIFY(reinterpret_cast<uptr*>(reinterpret_cast<char*>(block) + size)[-1] == size);
            ++free_count;
            if (size > kMinimumBlock) ++larger_free_count;
        } else {
            VERIFY(block->slack <= size - kHeaderBytes);
        }
        previous_used = in_use(block);
        block = next_block(block);
    }
    VERIFY(reinterpret_cast<uptr>(m_epilogue) == m_end - kHeaderBytes);
    VERIFY(m_epilogue->check == check_of(m_epilogue) && size_of(m_epilogue) == 0 && in_use(m_epilogue));
    VERIFY(previous_in_use(m_epilogue) == previous_used);
    VERIFY(m_free_blocks == free_count);
    if (m_options.indexed)  // the search in use is the one choose_search asks for after each call
        VERIFY(m_indexed ? free_count > m_options.list_limit / 4 : free_count <= m_options.list_limit);
    if (m_indexed) return check_index(free_count, larger_free_count);
    m_index.check(0, 0);  // the index stays empty while the list serves

    size_t listed = 0;
    bool rover_found = m_rover == sentinel();
    bool hint_found = m_insert_hint == sentinel();
    Header* end = const_cast<Header*>(sentinel());
    for (Header* node = links(end)->next; node != end; node = links(node)->next) {
        VERIFY(contains(node) && !in_use(node));
        VERIFY(links(links(node)->next)->prev == node);
        if (links(node)->next != end) VERIFY(links(node)->next > node);  // address order
        if (node == m_rover) rover_found = true;
        if (node == m_insert_hint) hint_found = true;
        VERIFY(++listed <= free_count);
    }
    VERIFY(listed == free_count);
    VERIFY(rover_found && hint_found);
}

void FitAllocator::check_index(size_t free_count, size_t larger_free_count) const {
    VERIFY(links(const_cast<Header*>(sentinel()))->next == sentinel());  // the list stays empty
    m_index.check(free_count, larger_free_count);
    struct Walk {
        const FitAllocator* self;
        Header* previous;
        bool rover_found;
    } walk{this, nullptr, m_rover == sentinel()};
    m_index.for_each(
        [](void* block, void* context) {
            auto* walk = static_cast<Walk*>(context);
            auto* header = static_cast<Header*>(block);
            VERIFY(walk->self->contains(header) && !in_use(header));
            if (walk->self->m_index.in_address_order()) VERIFY(header > walk->previous);
            if (header == walk->self->m_rover) walk->rover_found = true;
            walk->previous = header;
        },
        &walk);
    VERIFY(walk.rover_found);
}

void FitAllocator::dump(FormatSink sink, void* context) const {
    format(sink, context, "fit heap [%p, %p), epilogue %p\n", reinterpret_cast<void*>(m_start),
           reinterpret_cast<void*>(m_end), static_cast<void*>(m_epilogue));
    if (!m_epilogue) return;
    for (Header* block = reinterpret_cast<Header*>(m_start); block != m_epilogue; block = next_block(block))
        format(sink, context, "  %p %8zu %s%s slack %u\n", static_cast<void*>(block), size_of(block),
               in_use(block) ? "used" : "FREE", previous_in_use(block) ? "" : " (prev free)", block->slack);
}

}  // namespace Malloc
