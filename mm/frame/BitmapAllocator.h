// BitmapAllocator.h: the course notes' page allocator, one bit per frame, kept as the simple baseline to the buddy.
//
// Bit i of the used map is 1 when frame first_pfn + i is allocated or not usable (a hole, reserved memory), 0
// when it is free. Allocation is first fit: scan for the lowest run of n zero bits (word at a time, skipping
// full words), optionally starting at a multiple of an alignment; free clears the bits again.
//
// The price of one bit per frame is the adjacency problem: two allocations that happen to be adjacent look
// like one run of 1 bits, so the map cannot say where a block ends. free_run() must therefore be told the
// count, and a free with too large a count silently frees the neighbour's frames; the allocator cannot tell.
// (The buddy allocator records each block's order in its head and so detects a wrong order.)
//
// A second map of the same size records which frames were ever handed over (the managed map), so that a free
// of a hole is reported instead of conjuring memory that does not exist. Metadata: 2 bits per 4 KiB frame.
//
// Per zone, a search hint remembers the lowest possibly free frame, so a first-fit scan does not re-read the
// full prefix of memory every time; first fit is unchanged because nothing below the hint is free.
//
// Invariants (check_invariants()): unmanaged frames and the padding bits past the last frame are used;
// free_frames() equals the number of zero bits, total_frames() the number of managed frames; no free frame
// lies below its zone's hint.
#pragma once

#include "libc/base/Span.h"
#include "mm/frame/FrameAllocator.h"

class BitmapAllocator final : public FrameAllocator {
    MNEME_NONCOPYABLE(BitmapAllocator);
    MNEME_NONMOVABLE(BitmapAllocator);

public:
    // The bitmaps cover pfns [first_pfn, first_pfn + frame_count); `words` must hold words_needed(frame_count).
    BitmapAllocator(Span<u32> words, u32 first_pfn, u32 frame_count);

    // Both maps, 32 frames per word each.
    static constexpr size_t words_needed(u32 frame_count) { return 2 * ((static_cast<size_t>(frame_count) + 31) / 32); }

    const char* name() const override { return "bitmap"; }
    ErrorOr<u32> add_free_range(u64 start, u64 end) override;

    // allocate(order) is a run of 2^order frames starting at a multiple of 2^order, as the buddy's blocks are.
    ErrorOr<u32> allocate(unsigned order, Zone zone = Zone::Any) override;
    // Panics if pfn is not aligned to the order (it cannot have come from allocate(order)); otherwise the
    // same as free_run(pfn, 2^order), with the same blind spot for a wrong order.
    void free(u32 pfn, unsigned order) override;

    // The lowest run of `count` free frames (first fit, no alignment). With Zone::Any, runs above 16 MiB are
    // tried first; the fallback may return a run that crosses the DMA limit.
    ErrorOr<u32> allocate_run(u32 count, Zone zone = Zone::Any);
    // Panics, naming the first offending frame, if any frame of the run is free or unmanaged.
    void free_run(u32 pfn, u32 count);

    u32 free_frames() const override { return m_free_frames; }
    u32 total_frames() const override { return m_total_frames; }
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const override;
    // Totals and the first free runs (the monitor's `meminfo` with pmm=bitmap).
    void dump(FormatSink sink, void* context) const override;

    u32 first_pfn() const { return m_first_pfn; }
    u32 end_pfn() const { return m_first_pfn + m_frame_count; }
    bool is_free(u32 pfn) const;
    bool is_managed(u32 pfn) const;

    // Calls callback(first_pfn, count) for every maximal run of free frames, in address order.
    template <typename Callback>
    void for_each_free_run(Callback callback) const {
        for (u32 index = next_free(0, m_frame_count); index < m_frame_count;) {
            u32 end = next_used(index, m_frame_count);
            callback(m_first_pfn + index, end - index);
            index = next_free(end, m_frame_count);
        }
    }

private:
    static constexpr unsigned kZoneCount = 2;  // 0: below 16 MiB, 1: above
    enum class BitValue { Zero, One };

    bool bit(const u32* map, u32 index) const { return (map[index / 32] >> (index % 32)) & 1; }
    // The first index in [from, limit) whose used bit is 0 (next_free) or 1 (next_used), or limit.
    u32 next_free(u32 from, u32 limit) const;
    u32 next_used(u32 from, u32 limit) const;
    // Sets (One) or clears (Zero) bits [from, from + count) of `map`, a word at a time.
    static void fill(u32* map, u32 from, u32 count, BitValue value);
    // First fit in [m_hint[zone], limit): `count` zero bits starting at an index whose pfn is a multiple of
    // `align`; limit if there is none. Moves the zone's hint up to the first free frame it meets.
    u32 find_run(u32 count, u32 align, unsigned zone, u32 limit);
    ErrorOr<u32> allocate_aligned(u32 count, u32 align, Zone zone);
    void take(u32 index, u32 count);
    u32 zone_start(unsigned zone) const { return zone == 0 ? 0 : m_dma_end; }
    u32 zone_end(unsigned zone) const { return zone == 0 ? m_dma_end : m_frame_count; }
    [[noreturn]] void panic_bad_free(u32 pfn, u32 count, const char* reason) const;

    u32* m_used;
    u32* m_managed;
    u32 m_word_count;  // per map
    u32 m_first_pfn;
    u32 m_frame_count;
    u32 m_dma_end;  // index of the first frame at or above 16 MiB, clamped to [0, m_frame_count]
    u32 m_free_frames = 0;
    u32 m_total_frames = 0;
    // No frame in [zone_start(z), m_hint[z]) is free.
    u32 m_hint[kZoneCount];
};
