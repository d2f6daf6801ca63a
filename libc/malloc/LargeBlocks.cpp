// LargeBlocks.cpp: mapped large blocks and the mapping cache (see LargeBlocks.h).
#include "libc/malloc/LargeBlocks.h"

#include "libc/base/Assert.h"
#include "libc/malloc/Integrity.h"

namespace Malloc {

LargeBlocks::LargeBlocks(MemorySource& source, size_t cache_limit, uptr secret)
    : m_source(source), m_cache_limit(cache_limit), m_secret(secret) {}

uptr LargeBlocks::check_of(const Header* header) const {
    uptr contents = header->mapping_bytes ^ (header->offset << 7) ^ (header->requested * 31) ^ 0x4C41u;
    return header_check(reinterpret_cast<uptr>(header), contents, m_secret);
}

void LargeBlocks::set_header(Header* header, size_t mapping_bytes, size_t offset, size_t requested) {
    header->mapping_bytes = mapping_bytes;
    header->offset = offset;
    header->requested = requested;
    header->check = check_of(header);
}

bool LargeBlocks::is_large(const void* pointer) const {
    uptr address = reinterpret_cast<uptr>(pointer);
    if ((address & (kAlignment - 1)) != 0 || address < sizeof(Header) + 4096) return false;
    return header_of(pointer)->check == check_of(header_of(pointer));
}

LargeBlocks::Header* LargeBlocks::validate(const void* pointer, const char* operation) const {
    if (!is_large(pointer)) report_misuse(operation, pointer, "invalid pointer: not returned by malloc");
    Header* header = header_of(pointer);
    if (header->requested == kFreed) report_misuse(operation, pointer, "double free: the block is already free");
    return header;
}

// Takes the smallest cached mapping that holds `bytes` and is at most a quarter larger (updating `bytes`
// to its real size); nullptr when there is none. A larger one would pin resident pages the new block does
// not need -- unless the block is a buffer being grown, which will likely need them.
void* LargeBlocks::take_cached(size_t& bytes, Use use) {
    size_t best = m_cache_count;
    size_t slack_limit = use == Use::Growing ? bytes * (kGrowingReuse - 1) : bytes / 4;
    for (size_t i = 0; i < m_cache_count; ++i) {
        size_t cached = m_cache[i].bytes;
        if (cached >= bytes && cached - bytes <= slack_limit && (best == m_cache_count || cached < m_cache[best].bytes))
            best = i;
    }
    if (best == m_cache_count) return nullptr;
    void* mapping = m_cache[best].mapping;
    bytes = m_cache[best].bytes;
    m_cache_bytes -= bytes;
    for (size_t i = best; i + 1 < m_cache_count; ++i) m_cache[i] = m_cache[i + 1];
    --m_cache_count;
    return mapping;
}

void* LargeBlocks::map(size_t& bytes, bool& zeroed, Use use) {
    if (void* mapping = take_cached(bytes, use)) {
        zeroed = false;
        return mapping;
    }
    zeroed = true;
    void* mapping = m_source.map(bytes);
    if (!mapping && m_cache_count != 0) {
        // Out of memory, maybe because of what the cache keeps (a commit limit counts cached mappings too).
        release_cache();
        mapping = m_source.map(bytes);
    }
    return mapping;
}

// The cache may hold half as much as the live large blocks, at least kCacheFloor and at most cache_limit:
// enough to absorb a program's churn, not so much that it doubles the resident size of one that has
// stopped using large blocks.
size_t LargeBlocks::cache_budget() const {
    size_t budget = m_live_mapped / 2;
    if (budget < kCacheFloor) budget = kCacheFloor;
    return budget < m_cache_limit ? budget : m_cache_limit;
}

void LargeBlocks::unmap(void* mapping, size_t bytes) {
    size_t budget = cache_budget();
    if (bytes > budget) {
        m_source.unmap(mapping, bytes);
        return;
    }
    while (m_cache_count == kCacheEntries || m_cache_bytes + bytes > budget) {
        m_source.unmap(m_cache[0].mapping, m_cache[0].bytes);
        m_cache_bytes -= m_cache[0].bytes;
        for (size_t i = 0; i + 1 < m_cache_count; ++i) m_cache[i] = m_cache[i + 1];
        --m_cache_count;
    }
    m_cache[m_cache_count++] = {mapping, bytes};
    m_cache_bytes += bytes;
}

void LargeBlocks::release_cache() {
    for (size_t i = 0; i < m_cache_count; ++i) m_source.unmap(m_cache[i].mapping, m_cache[i].bytes);
    m_cache_count = 0;
    m_cache_bytes = 0;
}

void* LargeBlocks::allocate(size_t size, size_t alignment, bool& zeroed, Use use) {
    if (alignment < kAlignment) alignment = kAlignment;
    size_t page = m_source.page_size();
    // The payload offset: the header, rounded up to the alignment. A mapping is page aligned, so for
    // alignments above a page the mapping is over-sized by the alignment and the payload placed inside.
    size_t offset = align_up(sizeof(Header), alignment);
    size_t slack = alignment > page ? alignment : 0;
    if (size > SIZE_MAX / 2 - offset - slack - page) return nullptr;
    size_t bytes = align_up(offset + size + slack, page);
    char* mapping = static_cast<char*>(map(bytes, zeroed, use));
    if (!mapping) return nullptr;
    uptr payload = align_up(reinterpret_cast<uptr>(mapping) + sizeof(Header), alignment);
    set_header(header_of(reinterpret_cast<void*>(payload)), bytes, payload - reinterpret_cast<uptr>(mapping), size);
    ++m_live_blocks;
    m_live_mapped += bytes;
    m_live_requested += size;
    return reinterpret_cast<void*>(payload);
}

void LargeBlocks::free(void* pointer, const char* operation) {
    Header* header = validate(pointer, operation);
    size_t bytes = header->mapping_bytes;
    --m_live_blocks;
    m_live_mapped -= bytes;
    m_live_requested -= header->requested;
    char* mapping = static_cast<char*>(pointer) - header->offset;
    // Cached mappings keep a "freed" header, so freeing the pointer again reports a double free. An
    // unmapped one cannot be checked: a second free() faults, as with any malloc.
    set_header(header, bytes, header->offset, kFreed);
    unmap(mapping, bytes);
}

void* LargeBlocks::reallocate(void* pointer, size_t size) {
    Header* header = validate(pointer, "realloc");
    size_t page = m_source.page_size();
    size_t offset = header->offset;
    if (size > SIZE_MAX / 2 - offset - page) return nullptr;
    size_t bytes = header->mapping_bytes;
    size_t needed = align_up(offset + size, page);
    size_t old_requested = header->requested;  // the header moves with the mapping
    bool shrinking_much = size < old_requested && needed < bytes / 2;
    if (needed <= bytes && !shrinking_much) {
        m_live_requested += size - old_requested;
        set_header(header, bytes, offset, size);
        return pointer;
    }
    // remap keeps the offset within a page-aligned mapping, so only alignments up to a page survive it.
    if (offset > page) return nullptr;
    char* mapping = static_cast<char*>(pointer) - offset;
    // Growing: by half again at least, so that a buffer growing in small steps is remapped O(log n) times.
    size_t target = needed;
    if (needed > bytes && needed < bytes + bytes / 2) target = align_up(bytes + bytes / 2, page);
    char* moved = static_cast<char*>(m_source.remap(mapping, bytes, target));
    if (!moved && target != needed) moved = static_cast<char*>(m_source.remap(mapping, bytes, target = needed));
    if (!moved) return nullptr;
    m_live_mapped += target - bytes;
    m_live_requested += size - old_requested;
    void* payload = moved + offset;
    set_header(header_of(payload), target, offset, size);
    return payload;
}

size_t LargeBlocks::usable_size(const void* pointer, const char* operation) const {
    Header* header = validate(pointer, operation);
    return header->mapping_bytes - header->offset;
}

size_t LargeBlocks::requested_size(const void* pointer) const { return header_of(pointer)->requested; }

void LargeBlocks::add_statistics(Statistics& s) const {
    s.mapped_bytes += m_live_mapped;
    s.mapped_live_bytes += m_live_requested;
    s.cached_mapped_bytes += m_cache_bytes;
    s.live_blocks += m_live_blocks;
}

void LargeBlocks::check_invariants() const {
    VERIFY(m_cache_count <= kCacheEntries);
    size_t total = 0;
    for (size_t i = 0; i < m_cache_count; ++i) total += m_cache[i].bytes;
    VERIFY(total == m_cache_bytes && total <= m_cache_limit);
    VERIFY((m_live_blocks == 0) == (m_live_mapped == 0));
}

}  // namespace Malloc
