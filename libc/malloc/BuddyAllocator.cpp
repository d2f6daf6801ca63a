// BuddyAllocator.cpp: binary buddy blocks with headers (see BuddyAllocator.h).
#include "libc/malloc/BuddyAllocator.h"

#include "libc/base/Assert.h"
#include "libc/malloc/Integrity.h"

namespace Malloc {

BuddyAllocator::BuddyAllocator(MemorySource& source, const Options& options) : m_source(source), m_options(options) {
    for (auto& head : m_free) head.links.next = head.links.prev = &head.header;
}

unsigned BuddyAllocator::order_for(size_t bytes) {
    if (bytes <= block_bytes(kMinOrder)) return kMinOrder;
    unsigned order = static_cast<unsigned>(sizeof(unsigned long) * 8) - __builtin_clzl(bytes - 1);
    return order;
}

u32 BuddyAllocator::check_of(const Header* header) const {
    uptr contents =
        header->order | (uptr(header->state) << 8) | (uptr(header->slack) << 16) | (uptr(header->offset) << 5);
    if constexpr (sizeof(uptr) > 4) contents ^= uptr(header->slack) << 32;
    return header_check(reinterpret_cast<uptr>(header), contents, m_options.secret);
}

void BuddyAllocator::set_header(Header* header, unsigned order, State state, u32 slack, u32 offset) {
    header->order = static_cast<u8>(order);
    header->state = state;
    header->reserved = 0;
    header->slack = slack;
    header->offset = offset;
    header->check = check_of(header);
}

void BuddyAllocator::push(Header* block, unsigned order) {
    set_header(block, order, State::Free);
    Header* head = &m_free[order].header;
    Header* first = links(head)->next;
    links(block)->next = first;
    links(block)->prev = head;
    links(first)->prev = block;
    links(head)->next = block;
    ++m_free_count[order];
}

void BuddyAllocator::unlink(Header* block) {
    Header* before = links(block)->prev;
    Header* after = links(block)->next;
    links(before)->next = after;
    links(after)->prev = before;
    --m_free_count[block->order];
}

BuddyAllocator::Header* BuddyAllocator::pop(unsigned order) {
    Header* head = &m_free[order].header;
    Header* block = links(head)->next;
    if (block == head) return nullptr;
    unlink(block);
    return block;
}

bool BuddyAllocator::add_arena() {
    char* arena;
    if (m_arenas == 0) {
        // The first arena is aligned to its size so that buddy addresses are a plain XOR.
        arena = static_cast<char*>(extend_aligned(m_source, kArenaBytes, kArenaBytes, m_padding));
        if (!arena) return false;
        m_base = reinterpret_cast<uptr>(arena);
    } else {
        arena = static_cast<char*>(m_source.extend(kArenaBytes));
        if (!arena) return false;
        // The heap grows without gaps.
        VERIFY(reinterpret_cast<uptr>(arena) == m_base + m_arenas * kArenaBytes);
    }
    ++m_arenas;
    push(reinterpret_cast<Header*>(arena), kMaxOrder);
    return true;
}

// Algorithm R: find the smallest free block of order >= `order` and split it down.
BuddyAllocator::Header* BuddyAllocator::take(unsigned order) {
    unsigned found = order;
    while (found <= kMaxOrder && m_free_count[found] == 0) ++found;
    if (found > kMaxOrder) {
        if (!add_arena()) return nullptr;
        found = kMaxOrder;
    }
    Header* block = pop(found);
    while (found > order) {
        --found;
        push(reinterpret_cast<Header*>(reinterpret_cast<char*>(block) + block_bytes(found)), found);
    }
    return block;
}

void* BuddyAllocator::allocate(size_t request) {
    if (request > kMaxRequest) return nullptr;
    unsigned order = order_for(request + kHeaderBytes);
    Header* block = take(order);
    if (!block) return nullptr;
    set_header(block, order, State::InUse, static_cast<u32>(block_bytes(order) - kHeaderBytes - request), kHeaderBytes);
    return reinterpret_cast<char*>(block) + kHeaderBytes;
}

// A block of order k is aligned to 2^k, so for alignment A the payload goes at block + A (A >= 32 > the
// header), and an alias header just below the payload points back to the real one.
void* BuddyAllocator::allocate_aligned(size_t alignment, size_t request) {
    if (alignment <= kAlignment) return allocate(request);
    // At least one usable byte after the payload start, so that even a zero-size block lies inside its block.
    size_t needed = request == 0 ? 1 : request;
    if (request > kMaxRequest || alignment > kArenaBytes / 2 || needed + alignment > kArenaBytes) return nullptr;
    unsigned order = order_for(needed + alignment);
    Header* block = take(order);
    if (!block) return nullptr;
    set_header(block, order, State::InUse, static_cast<u32>(block_bytes(order) - alignment - request),
               static_cast<u32>(alignment));
    Header* alias = reinterpret_cast<Header*>(reinterpret_cast<char*>(block) + alignment - kHeaderBytes);
    set_header(alias, order, State::Alias, static_cast<u32>(alignment - kHeaderBytes));
    return reinterpret_cast<char*>(block) + alignment;
}

BuddyAllocator::Header* BuddyAllocator::block_of(const void* pointer, const char* operation) const {
    uptr address = reinterpret_cast<uptr>(pointer);
    if ((address & (kAlignment - 1)) != 0 || !contains(pointer) || address - m_base < kHeaderBytes)
        report_misuse(operation, pointer, "invalid pointer: not returned by malloc");
    Header* header = reinterpret_cast<Header*>(address - kHeaderBytes);
    if (header->check != check_of(header))
        report_misuse(operation, pointer, "invalid pointer or overwritten block header (heap corruption)");
    if (header->state == State::Alias) {
        header = reinterpret_cast<Header*>(reinterpret_cast<char*>(header) - header->slack);
        if (header->check != check_of(header) || !contains(header))
            report_misuse(operation, pointer, "overwritten block header (heap corruption)");
    }
    if (header->state == State::Free)
        report_misuse(
            operation, pointer,
            operation[0] == 'f' ? "double free: the block is already free" : "use after free: the block is free");
    if (header->state != State::InUse || header->order < kMinOrder || header->order > kMaxOrder)
        report_misuse(operation, pointer, "invalid pointer: not returned by malloc");
    return header;
}

// Algorithm S: merge with the buddy while it is free and whole.
void BuddyAllocator::release(Header* block, unsigned order) {
    while (order < kMaxOrder) {
        Header* buddy = buddy_of(block, order);
        // A buddy address is always the start of a block, so its header must be valid.
        if (buddy->check != check_of(buddy))
            report_corruption("block header overwritten (a write past the end of the block before it?)", buddy);
        if (buddy->state != State::Free || buddy->order != order) break;
        unlink(buddy);
        if (buddy < block) block = buddy;
        ++order;
    }
    push(block, order);
}

void BuddyAllocator::free(void* pointer) {
    Header* block = block_of(pointer, "free");
    if (block->offset != kHeaderBytes) {
        // Mark the alias free too, so that a second free() of the aligned pointer reads "already free".
        // Written before release(): for alignment 32 the alias sits where the list links go.
        Header* alias = reinterpret_cast<Header*>(reinterpret_cast<uptr>(pointer) - kHeaderBytes);
        set_header(alias, block->order, State::Free);
    }
    // Mark the block free before merging: if it melts into its lower buddy its header stays behind as
    // "free", so a second free() of the pointer is reported instead of freeing a block twice.
    unsigned order = block->order;
    set_header(block, order, State::Free);
    release(block, order);
    maybe_shrink();
}

// Hysteresis: an empty arena at the top is given back only when `spare_arenas` more empty ones sit below
// it, so a program hovering around an arena boundary does not extend and shrink on every call.
void BuddyAllocator::maybe_shrink() {
    while (m_arenas > 1) {
        size_t empty_top = 0;
        for (size_t i = m_arenas; i > 0 && empty_top <= m_options.spare_arenas; --i) {
            Header* arena = reinterpret_cast<Header*>(m_base + (i - 1) * kArenaBytes);
            if (arena->state != State::Free || arena->order != kMaxOrder) break;
            ++empty_top;
        }
        if (empty_top <= m_options.spare_arenas) return;
        Header* top = reinterpret_cast<Header*>(m_base + (m_arenas - 1) * kArenaBytes);
        unlink(top);
        if (!m_source.shrink(kArenaBytes)) {
            push(top, kMaxOrder);
            return;
        }
        --m_arenas;
    }
}

void BuddyAllocator::release_free_memory() {
    size_t saved = m_options.spare_arenas;
    m_options.spare_arenas = 0;
    maybe_shrink();
    m_options.spare_arenas = saved;
    // Free blocks that remain keep their first page (header and links) and drop the rest.
    size_t page = m_source.page_size();
    for (unsigned order = kMaxOrder; order > 0 && block_bytes(order) > page; --order) {
        Header* head = &m_free[order].header;
        for (Header* block = links(head)->next; block != head; block = links(block)->next)
            m_source.discard(reinterpret_cast<char*>(block) + page, block_bytes(order) - page);
    }
}

size_t BuddyAllocator::usable_size(const void* pointer, const char* operation) const {
    Header* block = block_of(pointer, operation);
    return reinterpret_cast<uptr>(block) + block_bytes(block->order) - reinterpret_cast<uptr>(pointer);
}

bool BuddyAllocator::resize_in_place(void* pointer, size_t request) {
    Header* block = block_of(pointer, "realloc");
    if (request > kMaxRequest) return false;
    size_t offset = block->offset;  // 16, or the alignment of an aligned block
    unsigned order = block->order;
    unsigned wanted = order_for(request + offset);
    if (wanted > order) {
        // Growing works only while the block is the lower half and its upper buddy is free and whole;
        // check the whole way up before changing anything.
        for (unsigned k = order; k < wanted; ++k) {
            if (((reinterpret_cast<uptr>(block) - m_base) & block_bytes(k)) != 0) return false;
            Header* buddy = buddy_of(block, k);
            if (buddy->state != State::Free || buddy->order != k) return false;
        }
        for (unsigned k = order; k < wanted; ++k) unlink(buddy_of(block, k));
        order = wanted;
    } else {
        // Shrinking gives the upper halves back; each one's buddy is the lower half we keep, so none merges.
        while (order > wanted) {
            --order;
            push(reinterpret_cast<Header*>(reinterpret_cast<char*>(block) + block_bytes(order)), order);
        }
    }
    set_header(block, order, State::InUse, static_cast<u32>(block_bytes(order) - offset - request),
               static_cast<u32>(offset));
    if (offset != kHeaderBytes) {
        Header* alias = reinterpret_cast<Header*>(reinterpret_cast<char*>(pointer) - kHeaderBytes);
        set_header(alias, order, State::Alias, static_cast<u32>(offset - kHeaderBytes));
    }
    return true;
}

void BuddyAllocator::add_statistics(Statistics& s) const {
    if (m_arenas == 0) return;
    s.heap_bytes += m_arenas * kArenaBytes + m_padding;
    s.metadata_bytes += m_padding;
    for (size_t a = 0; a < m_arenas; ++a) {
        uptr end = m_base + (a + 1) * kArenaBytes;
        for (uptr at = m_base + a * kArenaBytes; at < end;) {
            Header* block = reinterpret_cast<Header*>(at);
            size_t bytes = block_bytes(block->order);
            if (block->state == State::InUse) {
                ++s.live_blocks;
                s.header_bytes += kHeaderBytes;
                // Rounding up to a power of two, and for an aligned block the gap before its payload.
                s.live_bytes += bytes - block->offset - block->slack;
                s.alignment_bytes += block->slack + block->offset - kHeaderBytes;
            } else {
                ++s.free_blocks;
                s.free_bytes += bytes;
                if (bytes > s.largest_free_block) s.largest_free_block = bytes;
            }
            at += bytes;
        }
    }
}

void BuddyAllocator::check_invariants() const {
    size_t free_by_order[kMaxOrder + 1] = {};
    for (size_t a = 0; a < m_arenas; ++a) {
        uptr end = m_base + (a + 1) * kArenaBytes;
        for (uptr at = m_base + a * kArenaBytes; at < end;) {
            Header* block = reinterpret_cast<Header*>(at);
            VERIFY(block->check == check_of(block));
            VERIFY(block->order >= kMinOrder && block->order <= kMaxOrder);
            VERIFY(((at - m_base) & (block_bytes(block->order) - 1)) == 0);
            VERIFY(block->state == State::Free || block->state == State::InUse);
            if (block->state == State::Free) {
                ++free_by_order[block->order];
                if (block->order < kMaxOrder) {
                    Header* buddy = buddy_of(block, block->order);
                    VERIFY(!(buddy->state == State::Free && buddy->order == block->order));
                }
            } else {
                VERIFY(block->offset >= kHeaderBytes && block->slack + block->offset <= block_bytes(block->order));
            }
            at += block_bytes(block->order);
            VERIFY(at <= end);
        }
    }
    for (unsigned order = 0; order <= kMaxOrder; ++order) {
        size_t listed = 0;
        Header* head = const_cast<Header*>(&m_free[order].header);
        for (Header* node = links(head)->next; node != head; node = links(node)->next) {
            VERIFY(contains(node) && node->state == State::Free && node->order == order);
            VERIFY(links(links(node)->next)->prev == node);
            VERIFY(++listed <= free_by_order[order]);
        }
        VERIFY(listed == free_by_order[order] && listed == m_free_count[order]);
    }
}

void BuddyAllocator::dump(FormatSink sink, void* context) const {
    format(sink, context, "buddy heap at %p, %zu arenas of %zu bytes\n", reinterpret_cast<void*>(m_base), m_arenas,
           kArenaBytes);
    for (size_t a = 0; a < m_arenas; ++a) {
        uptr end = m_base + (a + 1) * kArenaBytes;
        for (uptr at = m_base + a * kArenaBytes; at < end;) {
            Header* block = reinterpret_cast<Header*>(at);
            format(sink, context, "  %p order %2u %s\n", static_cast<void*>(block), block->order,
                   block->state == State::Free ? "FREE" : "used");
            at += block_bytes(block->order);
        }
    }
}

}  // namespace Malloc
