// BitmapAllocator.cpp: first fit over a bitmap, a word (32 frames) at a time (see BitmapAllocator.h).
#include "mm/frame/BitmapAllocator.h"

#include "libc/base/Assert.h"

namespace {

constexpr u32 kAllOnes = 0xffffffffu;

// Bits set in a word (no __builtin_popcount: on i486 it becomes a libgcc call the kernel does not link).
unsigned popcount(u32 word) {
    word = word - ((word >> 1) & 0x55555555u);
    word = (word & 0x33333333u) + ((word >> 2) & 0x33333333u);
    word = (word + (word >> 4)) & 0x0f0f0f0fu;
    return (word * 0x01010101u) >> 24;
}

// The first index in [from, limit) whose bit in `map` equals `one`, or limit. Whole words that cannot match
// are skipped with one comparison each.
u32 find_bit(const u32* map, u32 from, u32 limit, bool one) {
    if (from >= limit) return limit;
    u32 flip = one ? 0 : kAllOnes;  // after the XOR, a wanted bit is a 1
    u32 word = from / 32;
    u32 last_word = (limit - 1) / 32;
    u32 bits = (map[word] ^ flip) & (kAllOnes << (from % 32));
    while (bits == 0) {
        if (++word > last_word) return limit;
        bits = map[word] ^ flip;
    }
    u32 index = word * 32 + static_cast<u32>(__builtin_ctz(bits));
    return index < limit ? index : limit;
}

}  // namespace

BitmapAllocator::BitmapAllocator(Span<u32> words, u32 first_pfn, u32 frame_count)
    : m_word_count((frame_count + 31u) / 32u), m_first_pfn(first_pfn), m_frame_count(frame_count) {
    VERIFY(words.size() >= words_needed(frame_count));
    VERIFY(frame_count <= kNoFrame - first_pfn);
    m_used = words.data();
    m_managed = words.data() + m_word_count;
    // Everything starts used and unmanaged, including the padding bits past the last frame, so no search ever
    // returns them.
    for (u32 word = 0; word < m_word_count; ++word) {
        m_used[word] = kAllOnes;
        m_managed[word] = 0;
    }
    m_dma_end = first_pfn >= kDmaLimitPfn ? 0 : kDmaLimitPfn - first_pfn;
    if (m_dma_end > frame_count) m_dma_end = frame_count;
    for (unsigned zone = 0; zone < kZoneCount; ++zone) m_hint[zone] = zone_start(zone);
}

ErrorOr<u32> BitmapAllocator::add_free_range(u64 start, u64 end) {
    auto [first_pfn, end_pfn] = frames_inside(start, end, m_first_pfn, this->end_pfn());
    u32 from = first_pfn - m_first_pfn;
    u32 count = end_pfn - first_pfn;
    if (find_bit(m_managed, from, from + count, true) < from + count) return Error::Exists;
    fill(m_managed, from, count, BitValue::One);
    fill(m_used, from, count, BitValue::Zero);
    m_total_frames += count;
    m_free_frames += count;
    for (unsigned zone = 0; zone < kZoneCount; ++zone)
        if (from < zone_end(zone) && from + count > zone_start(zone) && from < m_hint[zone])
            m_hint[zone] = from > zone_start(zone) ? from : zone_start(zone);
    return count;
}

u32 BitmapAllocator::next_free(u32 from, u32 limit) const { return find_bit(m_used, from, limit, false); }
u32 BitmapAllocator::next_used(u32 from, u32 limit) const { return find_bit(m_used, from, limit, true); }

void BitmapAllocator::fill(u32* map, u32 from, u32 count, BitValue value) {
    for (u32 end = from + count; from < end;) {
        u32 shift = from % 32;
        u32 bits = 32 - shift < end - from ? 32 - shift : end - from;
        u32 mask = (bits == 32 ? kAllOnes : (1u << bits) - 1) << shift;
        if (value == BitValue::One)
            map[from / 32] |= mask;
        else
            map[from / 32] &= ~mask;
        from += bits;
    }
}

u32 BitmapAllocator::find_run(u32 count, u32 align, unsigned zone, u32 limit) {
    u32 index = next_free(m_hint[zone], limit);
    // Nothing in [hint, index) is free, so the next search may start at index.
    m_hint[zone] = index < zone_end(zone) ? index : zone_end(zone);
    while (index < limit) {
        // Round up to the next index whose pfn is a multiple of align (u64: the pfn may be near 2^32).
        u64 pfn = (static_cast<u64>(m_first_pfn) + index + align - 1) & ~static_cast<u64>(align - 1);
        u64 start = pfn - m_first_pfn;
        if (start >= limit || count > limit - start) return limit;
        u32 run_start = static_cast<u32>(start);
        u32 used = next_used(run_start, run_start + count);
        if (used == run_start + count) return run_start;
        index = next_free(used + 1, limit);
    }
    return limit;
}

void BitmapAllocator::take(u32 index, u32 count) {
    fill(m_used, index, count, BitValue::One);
    m_free_frames -= count;
    // A hint inside the run may move past it: its prefix held no free frame and the run is now used.
    for (unsigned zone = 0; zone < kZoneCount; ++zone)
        if (m_hint[zone] >= index && m_hint[zone] - index < count)
            m_hint[zone] = index + count < zone_end(zone) ? index + count : zone_end(zone);
}

ErrorOr<u32> BitmapAllocator::allocate_aligned(u32 count, u32 align, Zone zone) {
    if (count > m_frame_count) return Error::NoMemory;
    u32 index;
    if (zone == Zone::Any) {
        index = find_run(count, align, 1, m_frame_count);
        if (index < m_frame_count) {
            take(index, count);
            return m_first_pfn + index;
        }
    }
    // The DMA zone. For Zone::Any a run may start below 16 MiB and end above it (an aligned block of order
    // <= kMaxOrder cannot, see FrameAllocator.h); for Zone::Dma it must end below.
    u32 limit = m_dma_end;
    if (zone == Zone::Any) limit = count - 1 < m_frame_count - m_dma_end ? m_dma_end + count - 1 : m_frame_count;
    index = find_run(count, align, 0, limit);
    if (index >= limit) return Error::NoMemory;
    take(index, count);
    return m_first_pfn + index;
}

ErrorOr<u32> BitmapAllocator::allocate(unsigned order, Zone zone) {
    if (order > kMaxOrder) return Error::Invalid;
    return allocate_aligned(frames_in_order(order), frames_in_order(order), zone);
}

ErrorOr<u32> BitmapAllocator::allocate_run(u32 count, Zone zone) {
    if (count == 0) return Error::Invalid;
    return allocate_aligned(count, 1, zone);
}

void BitmapAllocator::free(u32 pfn, unsigned order) {
    if (order > kMaxOrder) panic_bad_free(pfn, 0, "order above the maximum");
    if ((pfn & (frames_in_order(order) - 1)) != 0)
        panic_bad_free(pfn, frames_in_order(order), "not aligned to its order (wrong order or address)");
    free_run(pfn, frames_in_order(order));
}

void BitmapAllocator::free_run(u32 pfn, u32 count) {
    u32 index = pfn - m_first_pfn;
    if (count == 0) panic_bad_free(pfn, count, "empty run");
    if (pfn < m_first_pfn || index >= m_frame_count || count > m_frame_count - index)
        panic_bad_free(pfn, count, "outside the frames this allocator covers");
    u32 end = index + count;
    u32 bad = find_bit(m_managed, index, end, false);
    if (bad < end) panic_bad_free(m_first_pfn + bad, count, "never handed to the allocator (a hole or reserved)");
    bad = find_bit(m_used, index, end, false);
    if (bad < end) panic_bad_free(m_first_pfn + bad, count, "already free (double free, or never allocated)");
    fill(m_used, index, count, BitValue::Zero);
    m_free_frames += count;
    for (unsigned zone = 0; zone < kZoneCount; ++zone) {
        if (index >= zone_end(zone) || end <= zone_start(zone)) continue;
        u32 lowest = index > zone_start(zone) ? index : zone_start(zone);
        if (lowest < m_hint[zone]) m_hint[zone] = lowest;
    }
}

void BitmapAllocator::panic_bad_free(u32 pfn, u32 count, const char* reason) const {
    mneme_panic("BitmapAllocator: bad free of frame 0x%llx (run of %u frames): %s",
                static_cast<unsigned long long>(pfn_to_address(pfn)), count, reason);
}

bool BitmapAllocator::is_free(u32 pfn) const {
    u32 index = pfn - m_first_pfn;
    return index < m_frame_count && !bit(m_used, index);
}

bool BitmapAllocator::is_managed(u32 pfn) const {
    u32 index = pfn - m_first_pfn;
    return index < m_frame_count && bit(m_managed, index);
}

bool BitmapAllocator::check_invariants(FormatSink sink, void* context) const {
    u32 free_frames = 0;
    u32 managed_frames = 0;
    for (u32 word = 0; word < m_word_count; ++word) {
        if ((~m_used[word] & ~m_managed[word]) != 0)
            return invariant_violation(sink, context, "bitmap: an unmanaged frame near pfn 0x%x is marked free",
                                       m_first_pfn + word * 32);
        free_frames += popcount(~m_used[word]);
        managed_frames += popcount(m_managed[word]);
    }
    if (m_frame_count % 32 != 0) {
        u32 padding = kAllOnes << (m_frame_count % 32);
        if ((m_used[m_word_count - 1] & padding) != padding || (m_managed[m_word_count - 1] & padding) != 0)
            return invariant_violation(sink, context, "bitmap: padding bits past the last frame are not used");
    }
    if (free_frames != m_free_frames)
        return invariant_violation(sink, context, "bitmap: %u zero bits, free_frames() says %u", free_frames,
                                   m_free_frames);
    if (managed_frames != m_total_frames)
        return invariant_violation(sink, context, "bitmap: %u managed frames, total_frames() says %u", managed_frames,
                                   m_total_frames);
    for (unsigned zone = 0; zone < kZoneCount; ++zone) {
        if (m_hint[zone] < zone_start(zone) || m_hint[zone] > zone_end(zone))
            return invariant_violation(sink, context, "bitmap: hint %u of zone %u is outside the zone", m_hint[zone],
                                       zone);
        u32 free_index = next_free(zone_start(zone), m_hint[zone]);
        if (free_index < m_hint[zone])
            return invariant_violation(sink, context, "bitmap: free frame 0x%llx lies below the hint of zone %u",
                                       static_cast<unsigned long long>(pfn_to_address(m_first_pfn + free_index)), zone);
    }
    return true;
}

void BitmapAllocator::dump(FormatSink sink, void* context) const {
    static constexpr u32 kRunsShown = 16;
    u32 runs = 0;
    u32 largest = 0;
    for_each_free_run([&](u32, u32 count) {
        ++runs;
        if (count > largest) largest = count;
    });
    format(sink, context, "bitmap: %u of %u frames free (%llu of %llu KiB) in %u runs, the largest %u frames\n",
           m_free_frames, m_total_frames, static_cast<unsigned long long>(m_free_frames) * (kFrameSize / KiB),
           static_cast<unsigned long long>(m_total_frames) * (kFrameSize / KiB), runs, largest);
    u32 shown = 0;
    for_each_free_run([&](u32 pfn, u32 count) {
        if (shown++ < kRunsShown)
            format(sink, context, "  0x%08llx-0x%08llx %8u frames\n",
                   static_cast<unsigned long long>(pfn_to_address(pfn)),
                   static_cast<unsigned long long>(pfn_to_address(pfn + count) - 1), count);
    });
    if (runs > kRunsShown) format(sink, context, "  ... %u more runs\n", runs - kRunsShown);
}
