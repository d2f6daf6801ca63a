// OptimalOracle.cpp: next-use distances and the furthest-first choice (see OptimalOracle.h).
#include "mm/swap/OptimalOracle.h"

#include "libc/base/Assert.h"
#include "libc/base/Invariant.h"

size_t OptimalOracle::bytes_needed(u32 frame_count, Span<const PageAccess> string) {
    size_t bytes = FrameList::bytes_needed(frame_count);
    bytes = add_bytes(bytes, array_bytes<u32>(frame_count));        // the page in each frame
    bytes = add_bytes(bytes, array_bytes<u32>(frame_count));        // its next use
    bytes = add_bytes(bytes, array_bytes<u32>(string.size()));      // next use per access
    return add_bytes(bytes, array_bytes<u32>(page_limit(string)));  // last index seen per page, while building
}

OptimalOracle::OptimalOracle(Span<u8> memory, u32 frame_count, Span<const PageAccess> string)
    : m_string(string),
      m_resident(memory, frame_count),
      m_frame_page(take_array<u32>(memory, frame_count)),
      m_frame_next_use(take_array<u32>(memory, frame_count)),
      m_next_use(take_array<u32>(memory, string.size())) {
    VERIFY(string.size() < kNever);
    Span<u32> last_seen = take_array<u32>(memory, page_limit(string));
    for (u32& index : last_seen) index = kNever;
    for (u32 i = static_cast<u32>(string.size()); i-- > 0;) {
        u32 page = string[i].page;
        m_next_use[i] = last_seen[page];
        last_seen[page] = i;
    }
    for (u32 frame = 0; frame < frame_count; ++frame) m_frame_next_use[frame] = kNever;
}

void OptimalOracle::consume(u32 frame) {
    if (m_position >= m_string.size())
        mneme_panic("opt: access %u to frame %u, but the string has only %zu", m_position, frame, m_string.size());
    m_frame_page[frame] = m_string[m_position].page;
    m_frame_next_use[frame] = m_next_use[m_position];
    ++m_position;
}

void OptimalOracle::page_in(u32 frame) {
    m_resident.push_back(frame);
    consume(frame);
}

void OptimalOracle::referenced(u32 frame) {
    VERIFY(m_resident.contains(frame));
    if (m_position < m_string.size() && m_frame_page[frame] != m_string[m_position].page)
        mneme_panic("opt: access %u is to page %u, but frame %u holds page %u", m_position, m_string[m_position].page,
                    frame, m_frame_page[frame]);
    consume(frame);
}

void OptimalOracle::removed(u32 frame) {
    m_resident.remove(frame);
    m_frame_next_use[frame] = kNever;
}

ErrorOr<u32> OptimalOracle::choose_victim(FrameAccessor& frames) {
    if (m_resident.size() == 0) return Error::NoEntry;
    u32 victim = FrameList::kNone;
    for (u32 frame = m_resident.front(); frame != FrameList::kNone; frame = m_resident.next(frame)) {
        if (!frames.evictable(frame)) continue;
        // Strictly later: among equals (pages never used again) the one paged in first stays the victim.
        if (victim == FrameList::kNone || m_frame_next_use[frame] > m_frame_next_use[victim]) victim = frame;
    }
    if (victim == FrameList::kNone) return Error::Busy;
    return victim;
}

bool OptimalOracle::check_invariants(FormatSink sink, void* context) const {
    if (!m_resident.check_invariants(name(), sink, context)) return false;
    for (u32 frame = m_resident.front(); frame != FrameList::kNone; frame = m_resident.next(frame)) {
        u32 page = m_frame_page[frame];
        for (u32 other = m_resident.next(frame); other != FrameList::kNone; other = m_resident.next(other))
            if (m_frame_page[other] == page)
                return invariant_violation(sink, context, "opt: page %u is in frames %u and %u", page, frame, other);
        u32 next = m_frame_next_use[frame];
        u32 end = next == kNever ? static_cast<u32>(m_string.size()) : next;
        if (next != kNever && (next < m_position || next >= m_string.size() || m_string[next].page != page))
            return invariant_violation(sink, context, "opt: frame %u (page %u) has next use %u, not an access to it",
                                       frame, page, next);
        for (u32 i = m_position; i < end; ++i)
            if (m_string[i].page == page)
                return invariant_violation(sink, context, "opt: frame %u (page %u) says next use %u, but access %u is",
                                           frame, page, next, i);
    }
    return true;
}
