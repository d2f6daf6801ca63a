// RandomPolicy.cpp: a seeded draw among the evictable frames (see RandomPolicy.h).
#include "mm/swap/RandomPolicy.h"

void RandomPolicy::page_in(u32 frame) { m_resident.push_back(frame); }

void RandomPolicy::removed(u32 frame) { m_resident.remove(frame); }

ErrorOr<u32> RandomPolicy::choose_victim(FrameAccessor& frames) {
    if (m_resident.size() == 0) return Error::NoEntry;
    u32 evictable = 0;
    for (u32 frame = m_resident.front(); frame != FrameList::kNone; frame = m_resident.next(frame))
        if (frames.evictable(frame)) ++evictable;
    if (evictable == 0) return Error::Busy;
    // Drawn among the evictable frames only, so pinning some frames does not skew the choice among the rest.
    u32 pick = m_random.below(evictable);
    for (u32 frame = m_resident.front();; frame = m_resident.next(frame))
        if (frames.evictable(frame) && pick-- == 0) return frame;
}

bool RandomPolicy::check_invariants(FormatSink sink, void* context) const {
    return m_resident.check_invariants(name(), sink, context);
}
