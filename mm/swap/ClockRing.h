// ClockRing.h: the resident frames arranged in a circle with a hand, as the clock algorithms see them
// (Corbató, "A Paging Experiment with the Multics System", 1968; OSTEP ch. 22, 22.8; Tanenbaum, Modern
// Operating Systems, 3.4.5).
//
// The hand points at the frame the next scan looks at first. A page that comes in is placed just behind the
// hand, so the hand reaches it last: in a clock over a fixed array of frames the new page fills the frame the
// hand just left, and this is the same place. Removing the frame under the hand moves the hand on to the next
// one. ClockPolicy and EnhancedClockPolicy differ only in what the hand does at each frame.
//
// Invariants (check_invariants): the ring is a well-formed FrameList; the hand is kNone exactly when the
// ring is empty, and a frame on the ring otherwise.
#pragma once

#include "mm/swap/FrameList.h"

class ClockRing {
    MNEME_NONCOPYABLE(ClockRing);
    MNEME_NONMOVABLE(ClockRing);

public:
    static constexpr size_t bytes_needed(u32 frame_count) { return FrameList::bytes_needed(frame_count); }
    ClockRing(Span<u8>& memory, u32 frame_count) : m_ring(memory, frame_count) {}

    u32 frame_count() const { return m_ring.frame_count(); }
    u32 size() const { return m_ring.size(); }
    bool contains(u32 frame) const { return m_ring.contains(frame); }

    u32 hand() const { return m_hand; }  // FrameList::kNone when the ring is empty
    // Moves the hand one frame on and returns the frame it was at.
    u32 advance();
    // Puts the hand on `frame`, which is on the ring.
    void move_hand_to(u32 frame);

    void insert_behind_hand(u32 frame);
    void remove(u32 frame);

    bool check_invariants(const char* owner, FormatSink sink, void* context) const;

private:
    FrameList m_ring;
    u32 m_hand = FrameList::kNone;
};
