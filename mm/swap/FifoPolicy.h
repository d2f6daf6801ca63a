// FifoPolicy.h: first in, first out: the victim is the page that has been in memory longest (OSTEP ch. 22,
// 22.5; Tanenbaum, Modern Operating Systems, 3.4.3).
//
// Cheap and blind: a page used on every access is evicted as soon as it is the oldest. FIFO is also the
// policy of Belady's anomaly (Belady, Nelson and Shedler, 1969): on 1,2,3,4,1,2,5,1,2,3,4,5 it faults 9
// times with 3 frames and 10 times with 4 (docs/swapping.md).
//
// Algorithm: the resident frames in a queue in page-in order; the victim is the first evictable frame from
// the front. A pinned frame keeps its place, so it goes first once it is unpinned.
//
// Invariants (check_invariants): the queue is a well-formed FrameList holding exactly the resident frames.
#pragma once

#include "mm/swap/FrameList.h"
#include "mm/swap/ReplacementPolicy.h"

class FifoPolicy final : public ReplacementPolicy {
    MNEME_NONCOPYABLE(FifoPolicy);
    MNEME_NONMOVABLE(FifoPolicy);

public:
    static constexpr size_t bytes_needed(u32 frame_count) { return FrameList::bytes_needed(frame_count); }
    FifoPolicy(Span<u8> memory, u32 frame_count) : m_queue(memory, frame_count) {}

    const char* name() const override { return "fifo"; }
    u32 frame_count() const override { return m_queue.frame_count(); }
    void page_in(u32 frame) override;
    void removed(u32 frame) override;
    ErrorOr<u32> choose_victim(FrameAccessor& frames) override;
    bool is_resident(u32 frame) const override { return m_queue.contains(frame); }
    u32 resident_count() const override { return m_queue.size(); }
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const override;

private:
    FrameList m_queue;
};
