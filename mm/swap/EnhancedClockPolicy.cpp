// EnhancedClockPolicy.cpp: the four-lap sweep over (A, D) classes (see EnhancedClockPolicy.h).
#include "mm/swap/EnhancedClockPolicy.h"

u32 EnhancedClockPolicy::sweep(FrameAccessor& frames, bool dirty, bool clear_passed, u32& first_evictable) {
    for (u32 step = 0; step < m_ring.size(); ++step) {
        u32 frame = m_ring.advance();
        if (!frames.evictable(frame)) continue;
        if (first_evictable == FrameList::kNone) first_evictable = frame;
        bool accessed = frames.accessed(frame);
        if (!accessed && frames.dirty(frame) == dirty) return frame;
        if (accessed && clear_passed) frames.clear_accessed(frame);
    }
    return FrameList::kNone;
}

ErrorOr<u32> EnhancedClockPolicy::choose_victim(FrameAccessor& frames) {
    if (m_ring.size() == 0) return Error::NoEntry;
    u32 first_evictable = FrameList::kNone;
    for (int round = 0; round < 2; ++round) {
        u32 victim = sweep(frames, false, false, first_evictable);
        if (victim != FrameList::kNone) return victim;
        if (first_evictable == FrameList::kNone) return Error::Busy;  // a whole lap and every frame pinned
        victim = sweep(frames, true, true, first_evictable);
        if (victim != FrameList::kNone) return victim;
    }
    // Four laps and the A bits were set again meanwhile (another CPU): take the first evictable frame.
    m_ring.move_hand_to(first_evictable);
    return m_ring.advance();
}
