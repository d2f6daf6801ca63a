// FrameList.cpp: the intrusive list of frames (see FrameList.h).
#include "mm/swap/FrameList.h"

#include "libc/base/Assert.h"
#include "libc/base/Invariant.h"

FrameList::FrameList(Span<u8>& memory, u32 frame_count) : m_links(take_array<Links>(memory, frame_count)) {
    VERIFY(frame_count < kNone);
}

void FrameList::push_back(u32 frame) {
    Links& links = m_links[frame];
    VERIFY(!links.linked);
    links = Links{m_back, kNone, true};
    if (m_back != kNone)
        m_links[m_back].next = frame;
    else
        m_front = frame;
    m_back = frame;
    ++m_size;
}

void FrameList::insert_before(u32 frame, u32 position) {
    Links& links = m_links[frame];
    Links& after = m_links[position];
    VERIFY(!links.linked && after.linked);
    links = Links{after.prev, position, true};
    if (after.prev != kNone)
        m_links[after.prev].next = frame;
    else
        m_front = frame;
    after.prev = frame;
    ++m_size;
}

void FrameList::remove(u32 frame) {
    Links& links = m_links[frame];
    VERIFY(links.linked);
    if (links.prev != kNone)
        m_links[links.prev].next = links.next;
    else
        m_front = links.next;
    if (links.next != kNone)
        m_links[links.next].prev = links.prev;
    else
        m_back = links.prev;
    links = Links{};
    --m_size;
}

void FrameList::move_to_back(u32 frame) {
    if (m_back == frame) {
        VERIFY(m_links[frame].linked);
        return;
    }
    remove(frame);
    push_back(frame);
}

bool FrameList::check_invariants(const char* owner, FormatSink sink, void* context) const {
    u32 count = 0;
    u32 previous = kNone;
    for (u32 frame = m_front; frame != kNone; frame = m_links[frame].next) {
        if (frame >= frame_count())
            return invariant_violation(sink, context, "%s: list links to frame %u of %u", owner, frame, frame_count());
        if (++count > m_size)
            return invariant_violation(sink, context, "%s: list is longer than its size %u (a cycle?)", owner, m_size);
        const Links& links = m_links[frame];
        if (!links.linked)
            return invariant_violation(sink, context, "%s: frame %u is on the list but not marked linked", owner,
                                       frame);
        if (links.prev != previous)
            return invariant_violation(sink, context, "%s: frame %u has prev %u, expected %u", owner, frame, links.prev,
                                       previous);
        previous = frame;
    }
    if (count != m_size)
        return invariant_violation(sink, context, "%s: list has %u frames, size says %u", owner, count, m_size);
    if (previous != m_back)
        return invariant_violation(sink, context, "%s: list ends at frame %u, back says %u", owner, previous, m_back);
    u32 linked = 0;
    for (const Links& links : m_links) {
        if (links.linked)
            ++linked;
        else if (links.prev != kNone || links.next != kNone)
            return invariant_violation(sink, context, "%s: a frame off the list keeps links", owner);
    }
    if (linked != m_size)
        return invariant_violation(sink, context, "%s: %u frames marked linked, %u on the list", owner, linked, m_size);
    return true;
}

ErrorOr<u32> first_evictable(const FrameList& frames, const FrameAccessor& accessor) {
    if (frames.size() == 0) return Error::NoEntry;
    for (u32 frame = frames.front(); frame != FrameList::kNone; frame = frames.next(frame))
        if (accessor.evictable(frame)) return frame;
    return Error::Busy;
}
