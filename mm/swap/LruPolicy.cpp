// LruPolicy.cpp: a recency list (see LruPolicy.h).
#include "mm/swap/LruPolicy.h"

void LruPolicy::page_in(u32 frame) { m_recency.push_back(frame); }

void LruPolicy::removed(u32 frame) { m_recency.remove(frame); }

void LruPolicy::referenced(u32 frame) { m_recency.move_to_back(frame); }

ErrorOr<u32> LruPolicy::choose_victim(FrameAccessor& frames) { return first_evictable(m_recency, frames); }

bool LruPolicy::check_invariants(FormatSink sink, void* context) const {
    return m_recency.check_invariants(name(), sink, context);
}
