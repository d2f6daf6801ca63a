// AgingPolicy.h: aging, LRU approximated in software from periodic samples of the accessed bit
// (Tanenbaum, Modern Operating Systems, 3.4.7, "Simulating LRU in Software").
//
// Each resident frame has an 8-bit counter. On every tick (a timer interrupt in a kernel; every K accesses in
// the Simulator) each counter is shifted right by one and the frame's A bit enters at the top, then A is
// cleared. A counter is thus the frame's use over the last eight ticks, the most recent tick in the highest
// bit, and read as a number it orders pages by recency: 0b10000000 (used in the last tick only) is more
// recent than 0b01111111 (used in each of the seven before, but not the last). The victim is the evictable
// frame with the smallest counter.
//
// Two things LRU knows and aging does not: the order of uses within one tick, and anything older than eight
// ticks. Ties are broken by load order (the page that came in first goes first). A use since the last tick
// counts as more recent than any tick: the choice compares (A, counter), A first, as if a tick happened now.
//
// Invariants (check_invariants): the resident frames form a well-formed FrameList in page-in order; a frame
// that is not resident has counter 0.
#pragma once

#include "mm/swap/FrameList.h"
#include "mm/swap/ReplacementPolicy.h"

class AgingPolicy final : public ReplacementPolicy {
    MNEME_NONCOPYABLE(AgingPolicy);
    MNEME_NONMOVABLE(AgingPolicy);

public:
    static constexpr size_t bytes_needed(u32 frame_count) {
        return add_bytes(FrameList::bytes_needed(frame_count), array_bytes<u8>(frame_count));
    }
    AgingPolicy(Span<u8> memory, u32 frame_count)
        : m_resident(memory, frame_count), m_counters(take_array<u8>(memory, frame_count)) {}

    const char* name() const override { return "aging"; }
    u32 frame_count() const override { return m_resident.frame_count(); }
    void page_in(u32 frame) override;
    void removed(u32 frame) override;
    void tick(FrameAccessor& frames) override;
    ErrorOr<u32> choose_victim(FrameAccessor& frames) override;
    bool is_resident(u32 frame) const override { return m_resident.contains(frame); }
    u32 resident_count() const override { return m_resident.size(); }
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const override;

    u8 counter(u32 frame) const { return m_counters[frame]; }

private:
    FrameList m_resident;  // in page-in order
    Span<u8> m_counters;
};
