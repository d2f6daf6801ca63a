// AgingPolicy.cpp: shift registers fed by the accessed bit (see AgingPolicy.h).
#include "mm/swap/AgingPolicy.h"

#include "libc/base/Invariant.h"

void AgingPolicy::page_in(u32 frame) {
    m_resident.push_back(frame);
    m_counters[frame] = 0;  // no history yet; the access that brought the page in sets its A bit
}

void AgingPolicy::removed(u32 frame) {
    m_resident.remove(frame);
    m_counters[frame] = 0;
}

void AgingPolicy::tick(FrameAccessor& frames) {
    // Pinned frames are sampled too: a tick evicts nothing, and their history matters once they are unpinned.
    for (u32 frame = m_resident.front(); frame != FrameList::kNone; frame = m_resident.next(frame)) {
        bool accessed = frames.accessed(frame);
        m_counters[frame] = static_cast<u8>((m_counters[frame] >> 1) | (accessed ? 0x80 : 0));
        if (accessed) frames.clear_accessed(frame);
    }
}

ErrorOr<u32> AgingPolicy::choose_victim(FrameAccessor& frames) {
    if (m_resident.size() == 0) return Error::NoEntry;
    u32 victim = FrameList::kNone;
    u32 smallest = 0;
    for (u32 frame = m_resident.front(); frame != FrameList::kNone; frame = m_resident.next(frame)) {
        if (!frames.evictable(frame)) continue;
        u32 age = (frames.accessed(frame) ? 0x100u : 0u) | m_counters[frame];
        // Strictly smaller: on a tie the frame met first, the one paged in earliest, stays the victim.
        if (victim == FrameList::kNone || age < smallest) {
            victim = frame;
            smallest = age;
        }
    }
    if (victim == FrameList::kNone) return Error::Busy;
    return victim;
}

bool AgingPolicy::check_invariants(FormatSink sink, void* context) const {
    if (!m_resident.check_invariants(name(), sink, context)) return false;
    for (u32 frame = 0; frame < m_counters.size(); ++frame)
        if (!m_resident.contains(frame) && m_counters[frame] != 0)
            return invariant_violation(sink, context, "aging: frame %u is not resident but has counter 0x%02x", frame,
                                       m_counters[frame]);
    return true;
}
