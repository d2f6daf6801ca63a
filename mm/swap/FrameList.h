// FrameList.h: an ordered set of frame indices, as an intrusive doubly linked list over one link pair per
// frame: the queue or ring every replacement policy keeps its resident frames in.
//
// FIFO keeps its frames in arrival order, the clocks treat the list as a ring with a hand (next_cyclic),
// LRU moves a frame to the back on every reference, aging and OPT use the order to break ties (the page
// loaded first goes first). Every operation but the scans is O(1); no frame is ever searched for.
//
// Links are frame indices, not pointers, so the layout is the same in the kernel and on the host.
//
// Invariants (check_invariants): walking from the front reaches exactly size() linked frames, each frame's
// prev is the one before it, the last one is back(); no unlinked frame has links.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/Span.h"
#include "libc/base/Types.h"
#include "mm/swap/CallerMemory.h"
#include "mm/swap/ReplacementPolicy.h"

class FrameList {
    MNEME_NONCOPYABLE(FrameList);
    MNEME_NONMOVABLE(FrameList);

public:
    static constexpr u32 kNone = 0xffffffffu;

    static constexpr size_t bytes_needed(u32 frame_count) { return array_bytes<Links>(frame_count); }
    // Takes bytes_needed(frame_count) bytes from the front of `memory` (see CallerMemory.h). Empty.
    FrameList(Span<u8>& memory, u32 frame_count);

    u32 frame_count() const { return static_cast<u32>(m_links.size()); }
    u32 size() const { return m_size; }
    bool contains(u32 frame) const { return m_links[frame].linked; }

    u32 front() const { return m_front; }  // kNone when empty
    u32 back() const { return m_back; }
    u32 next(u32 frame) const { return m_links[frame].next; }  // kNone after the back
    // The frame after `frame`, the front after the back: the list as a ring, for a clock hand.
    u32 next_cyclic(u32 frame) const { return next(frame) != kNone ? next(frame) : m_front; }

    // Each panics if `frame` is (push_back, insert_before) or is not (the others) already in the list.
    void push_back(u32 frame);
    // Links `frame` just before `position`, which is in the list.
    void insert_before(u32 frame, u32 position);
    void remove(u32 frame);
    void move_to_back(u32 frame);

    // `owner` names the policy in the message ("clock: ...").
    bool check_invariants(const char* owner, FormatSink sink, void* context) const;

private:
    struct Links {
        u32 prev = kNone;
        u32 next = kNone;
        bool linked = false;
    };

    Span<Links> m_links;
    u32 m_front = kNone;
    u32 m_back = kNone;
    u32 m_size = 0;
};

// The first frame in the list's order that the accessor says is evictable: FIFO's and LRU's victim.
// Error::NoEntry for an empty list, Error::Busy when every frame in it is pinned.
ErrorOr<u32> first_evictable(const FrameList& frames, const FrameAccessor& accessor);
