// ClockPolicy.cpp: the hand's sweep (see ClockPolicy.h).
#include "mm/swap/ClockPolicy.h"

void ClockPolicy::page_in(u32 frame) { m_ring.insert_behind_hand(frame); }

void ClockPolicy::removed(u32 frame) { m_ring.remove(frame); }

ErrorOr<u32> ClockPolicy::choose_victim(FrameAccessor& frames) {
    if (m_ring.size() == 0) return Error::NoEntry;
    u32 first_spared = FrameList::kNone;
    for (u32 step = 0; step < 2 * m_ring.size(); ++step) {
        u32 frame = m_ring.advance();
        if (!frames.evictable(frame)) continue;
        if (!frames.accessed(frame)) return frame;
        frames.clear_accessed(frame);  // its second chance
        if (first_spared == FrameList::kNone) first_spared = frame;
    }
    if (first_spared == FrameList::kNone) return Error::Busy;
    // Two laps and every evictable frame was used again meanwhile: take the first one spared, as FIFO would.
    m_ring.move_hand_to(first_spared);
    return m_ring.advance();
}

bool ClockPolicy::check_invariants(FormatSink sink, void* context) const {
    return m_ring.check_invariants(name(), sink, context);
}
