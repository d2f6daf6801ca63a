// LruPolicy.h: exact least recently used: the victim is the page whose last use lies furthest in the past
// (OSTEP ch. 22, 22.6; Tanenbaum, Modern Operating Systems, 3.4.6).
//
// LRU bets that the recent past predicts the near future, and on programs with locality it comes close to
// OPT. It is a stack algorithm (Mattson, Gecsei, Slutz and Traiger, 1970): the pages it holds with F frames
// are always among those it holds with F + 1, so more memory never costs it a fault, and Belady's anomaly
// cannot happen to it.
//
// Exact LRU needs to hear of every access: referenced(frame). Paging hardware does not report accesses one
// by one (it sets the accessed bit), so the kernel cannot run this policy; clock and aging are how a kernel
// approximates it. Here it runs on recorded reference strings, as the yardstick those approximations are
// measured against.
//
// Algorithm: the resident frames in recency order, least recent at the front; page_in and referenced move a
// frame to the back; the victim is the first evictable frame from the front.
//
// Invariants (check_invariants): the recency list is a well-formed FrameList holding exactly the resident
// frames.
#pragma once

#include "mm/swap/FrameList.h"
#include "mm/swap/ReplacementPolicy.h"

class LruPolicy final : public ReplacementPolicy {
    MNEME_NONCOPYABLE(LruPolicy);
    MNEME_NONMOVABLE(LruPolicy);

public:
    static constexpr size_t bytes_needed(u32 frame_count) { return FrameList::bytes_needed(frame_count); }
    LruPolicy(Span<u8> memory, u32 frame_count) : m_recency(memory, frame_count) {}

    const char* name() const override { return "lru"; }
    u32 frame_count() const override { return m_recency.frame_count(); }
    void page_in(u32 frame) override;
    void removed(u32 frame) override;
    void referenced(u32 frame) override;
    ErrorOr<u32> choose_victim(FrameAccessor& frames) override;
    bool is_resident(u32 frame) const override { return m_recency.contains(frame); }
    u32 resident_count() const override { return m_recency.size(); }
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const override;

private:
    FrameList m_recency;  // least recently used first
};
