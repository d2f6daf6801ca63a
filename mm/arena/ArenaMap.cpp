// ArenaMap.cpp: placement, release and resizing over the sorted block array (see ArenaMap.h for the
// representation, the next-fit rover and the invariants).
#include "mm/arena/ArenaMap.h"

#include "libc/base/Invariant.h"

u32 fragmentation_per_mille(const ArenaStatistics& statistics) {
    if (statistics.free_bytes == 0) return 0;
    u64 scattered = statistics.free_bytes - statistics.largest_hole;
    return static_cast<u32>(scattered * 1000 / statistics.free_bytes);
}

ArenaMap::ArenaMap(u32 base, u32 size, u32 granule, FitPolicy policy, ArenaBlock* storage, u32 capacity)
    : m_base(base),
      m_size(size),
      m_granule(granule),
      m_policy(policy),
      m_blocks(storage),
      m_capacity(capacity),
      m_rover(base) {
    VERIFY(is_power_of_two(granule));
    VERIFY(size > 0 && size % granule == 0 && base % granule == 0);
    VERIFY(size <= 0xffffffffu - base);
    VERIFY(storage != nullptr || capacity == 0);
}

u32 ArenaMap::rounded(u32 bytes) const { return static_cast<u32>(align_up<u64>(bytes, m_granule)); }

u32 ArenaMap::index_of(u32 address) const {
    u32 index = lower_bound(address);
    return index < m_count && m_blocks[index].address == address ? index : m_count;
}

u32 ArenaMap::lower_bound(u32 address) const {
    u32 index = 0;
    while (index < m_count && m_blocks[index].address < address) ++index;
    return index;
}

u32 ArenaMap::limit_after(u32 index) const { return index + 1 < m_count ? m_blocks[index + 1].address : end(); }

void ArenaMap::insert(const ArenaBlock& block) {
    VERIFY(m_count < m_capacity);
    u32 index = lower_bound(block.address);
    for (u32 i = m_count; i > index; --i) m_blocks[i] = m_blocks[i - 1];
    m_blocks[index] = block;
    ++m_count;
}

ArenaMap::Hole ArenaMap::choose_hole(u32 size) const {
    Hole chosen{0, 0};
    // Next fit's second choice: the lowest hole that fits, taken when none above the rover does.
    Hole wrapped{0, 0};
    FitPolicy policy = m_policy;
    u32 rover = m_rover;
    for_each_hole([&](u32 address, u32 hole_size) {
        if (hole_size < size) return;
        switch (policy) {
        case FitPolicy::First:
            if (chosen.size == 0) chosen = {address, hole_size};
            break;
        case FitPolicy::Next:
            if (chosen.size == 0 && address + hole_size > rover) chosen = {address, hole_size};
            if (wrapped.size == 0) wrapped = {address, hole_size};
            break;
        case FitPolicy::Best:
            // Strictly smaller: among equals the first seen, the lowest address, stays.
            if (chosen.size == 0 || hole_size < chosen.size) chosen = {address, hole_size};
            break;
        case FitPolicy::Worst:
            if (hole_size > chosen.size) chosen = {address, hole_size};
            break;
        }
    });
    return chosen.size != 0 ? chosen : wrapped;
}

ErrorOr<u32> ArenaMap::allocate(u32 bytes, u32 owner) {
    if (bytes == 0) return Error::Invalid;
    if (bytes > m_size) return Error::NoMemory;
    u32 size = rounded(bytes);
    Hole hole = choose_hole(size);
    if (hole.size == 0) return Error::NoMemory;
    if (m_count == m_capacity) return Error::NoSpace;
    insert({hole.address, size, owner});
    m_rover = hole.address + size;
    return hole.address;
}

ErrorOr<void> ArenaMap::allocate_at(u32 address, u32 bytes, u32 owner) {
    if (bytes == 0 || address % m_granule != 0) return Error::Invalid;
    if (address < m_base || address >= end() || bytes > end() - address) return Error::OutOfRange;
    u32 size = rounded(bytes);
    if (size > end() - address) return Error::OutOfRange;
    u32 index = lower_bound(address);
    bool overlaps_left = index > 0 && m_blocks[index - 1].address + m_blocks[index - 1].size > address;
    bool overlaps_right = index < m_count && m_blocks[index].address < address + size;
    if (overlaps_left || overlaps_right) return Error::Busy;
    if (m_count == m_capacity) return Error::NoSpace;
    insert({address, size, owner});
    return {};
}

bool ArenaMap::try_release(u32 address) {
    u32 index = index_of(address);
    if (index == m_count) return false;
    for (u32 i = index; i + 1 < m_count; ++i) m_blocks[i] = m_blocks[i + 1];
    --m_count;
    return true;
}

void ArenaMap::release(u32 address) {
    if (!try_release(address)) mneme_panic("arena: release of %#x, where no block starts", address);
}

bool ArenaMap::resize_in_place(u32 address, u32 new_bytes) {
    u32 index = index_of(address);
    if (index == m_count) mneme_panic("arena: resize of %#x, where no block starts", address);
    if (new_bytes == 0) return false;
    u32 room = limit_after(index) - address;  // the block and the hole right after it
    if (new_bytes > room || rounded(new_bytes) > room) return false;
    m_blocks[index].size = rounded(new_bytes);
    return true;
}

const ArenaBlock* ArenaMap::find(u32 address) const {
    u32 index = index_of(address);
    return index < m_count ? &m_blocks[index] : nullptr;
}

const ArenaBlock* ArenaMap::block_containing(u32 address) const {
    for (u32 i = 0; i < m_count; ++i) {
        const ArenaBlock& block = m_blocks[i];
        if (address >= block.address && address - block.address < block.size) return &block;
    }
    return nullptr;
}

ArenaStatistics ArenaMap::statistics() const {
    ArenaStatistics statistics{0, 0, 0, 0, m_count};
    for_each_block([&](const ArenaBlock& block) { statistics.used_bytes += block.size; });
    for_each_hole([&](u32, u32 size) {
        statistics.free_bytes += size;
        ++statistics.holes;
        if (size > statistics.largest_hole) statistics.largest_hole = size;
    });
    return statistics;
}

u32 ArenaMap::compaction_cost() const {
    u32 cursor = m_base;
    u32 moved = 0;
    for_each_block([&](const ArenaBlock& block) {
        if (block.address != cursor) moved += block.size;
        cursor += block.size;
    });
    return moved;
}

bool ArenaMap::check_invariants(FormatSink sink, void* context) const {
    if (!is_power_of_two(m_granule))
        return invariant_violation(sink, context, "arena: granule %#x is not a power of two", m_granule);
    if (m_base % m_granule != 0 || m_size % m_granule != 0 || m_size == 0)
        return invariant_violation(sink, context, "arena: [%#x, +%#x) does not suit granule %#x", m_base, m_size,
                                   m_granule);
    if (m_count > m_capacity)
        return invariant_violation(sink, context, "arena: %u blocks in a table of %u", m_count, m_capacity);
    u32 previous_end = m_base;
    for (u32 i = 0; i < m_count; ++i) {
        const ArenaBlock& block = m_blocks[i];
        if (block.size == 0)
            return invariant_violation(sink, context, "arena: block %u at %#x has size 0", i, block.address);
        if (block.address % m_granule != 0 || block.size % m_granule != 0)
            return invariant_violation(sink, context, "arena: block %u [%#x, +%#x) is not granule-aligned", i,
                                       block.address, block.size);
        if (block.address < previous_end)
            return invariant_violation(sink, context,
                                       "arena: block %u at %#x starts below %#x (unsorted, overlapping or "
                                       "below the base)",
                                       i, block.address, previous_end);
        if (block.address >= end() || block.size > end() - block.address)
            return invariant_violation(sink, context, "arena: block %u [%#x, +%#x) leaves the arena's end %#x", i,
                                       block.address, block.size, end());
        previous_end = block.address + block.size;
    }
    if (m_rover < m_base || m_rover > end())
        return invariant_violation(sink, context, "arena: rover %#x outside [%#x, %#x]", m_rover, m_base, end());
    return true;
}
