// ClockRing.cpp: a FrameList read as a circle, and its hand (see ClockRing.h).
#include "mm/swap/ClockRing.h"

#include "libc/base/Assert.h"
#include "libc/base/Invariant.h"

u32 ClockRing::advance() {
    VERIFY(m_hand != FrameList::kNone);
    u32 frame = m_hand;
    m_hand = m_ring.next_cyclic(frame);
    return frame;
}

void ClockRing::move_hand_to(u32 frame) {
    VERIFY(m_ring.contains(frame));
    m_hand = frame;
}

void ClockRing::insert_behind_hand(u32 frame) {
    if (m_hand == FrameList::kNone) {
        m_ring.push_back(frame);
        m_hand = frame;
        return;
    }
    // In a list read as a circle, "just before the hand" is the last place the hand comes to.
    m_ring.insert_before(frame, m_hand);
}

void ClockRing::remove(u32 frame) {
    if (frame == m_hand) m_hand = m_ring.size() == 1 ? FrameList::kNone : m_ring.next_cyclic(frame);
    m_ring.remove(frame);
}

bool ClockRing::check_invariants(const char* owner, FormatSink sink, void* context) const {
    if (!m_ring.check_invariants(owner, sink, context)) return false;
    if (m_ring.size() == 0 && m_hand != FrameList::kNone)
        return invariant_violation(sink, context, "%s: the ring is empty but the hand is at frame %u", owner, m_hand);
    if (m_ring.size() != 0 && (m_hand >= m_ring.frame_count() || !m_ring.contains(m_hand)))
        return invariant_violation(sink, context, "%s: the hand is at frame %u, which is not on the ring", owner,
                                   m_hand);
    return true;
}
