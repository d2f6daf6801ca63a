// ClockPolicy.h: the clock algorithm, also called second chance (Corbató, "A Paging Experiment with the
// Multics System", 1968; OSTEP ch. 22, 22.8; Tanenbaum, Modern Operating Systems, 3.4.4-3.4.5).
//
// FIFO that looks at the accessed bit before it evicts. The resident frames form a circle (ClockRing); the
// hand sweeps it. At each frame: a pinned frame is passed over; a frame whose A bit is set was used since
// the hand last came by, so the hand clears the bit (the page's second chance) and moves on; the first
// evictable frame with A clear is the victim, and the hand stops just past it. A page used between two
// sweeps is never evicted, so clock approximates LRU with one bit per page that the hardware keeps for free.
//
// The scan ends within two laps: the first clears every evictable frame's A bit, so the second finds one
// (unless another CPU sets the bit again meanwhile; then the first frame given a second chance is taken).
//
// EnhancedClockPolicy is this class with another sweep: it inherits the ring and overrides choose_victim().
//
// Invariants (check_invariants): those of ClockRing, whose frames are exactly the resident ones.
#pragma once

#include "mm/swap/ClockRing.h"
#include "mm/swap/ReplacementPolicy.h"

class ClockPolicy : public ReplacementPolicy {
    MNEME_NONCOPYABLE(ClockPolicy);
    MNEME_NONMOVABLE(ClockPolicy);

public:
    static constexpr size_t bytes_needed(u32 frame_count) { return ClockRing::bytes_needed(frame_count); }
    ClockPolicy(Span<u8> memory, u32 frame_count) : m_ring(memory, frame_count) {}

    const char* name() const override { return "clock"; }
    u32 frame_count() const override { return m_ring.frame_count(); }
    void page_in(u32 frame) override;
    void removed(u32 frame) override;
    ErrorOr<u32> choose_victim(FrameAccessor& frames) override;
    bool is_resident(u32 frame) const override { return m_ring.contains(frame); }
    u32 resident_count() const override { return m_ring.size(); }
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const override;

    u32 hand() const { return m_ring.hand(); }

protected:
    ClockRing m_ring;
};
