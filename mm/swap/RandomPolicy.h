// RandomPolicy.h: the victim is a resident, evictable frame picked at random (OSTEP ch. 22, 22.5;
// Tanenbaum, Modern Operating Systems, 3.4).
//
// The baseline any policy should beat: it uses no information at all, yet it has no pathological string
// either. On a loop one page larger than memory FIFO, LRU and clock fault on every access, while random
// keeps some of the loop by luck. The generator is seeded (XorShift32), so a run replays exactly.
//
// Algorithm: the resident frames in a FrameList; count the evictable ones, draw k below that count, and
// take the k-th evictable frame in list order. O(resident frames) per choice.
//
// Invariants (check_invariants): the resident frames form a well-formed FrameList.
#pragma once

#include "mm/swap/FrameList.h"
#include "mm/swap/ReplacementPolicy.h"
#include "mm/swap/XorShift.h"

class RandomPolicy final : public ReplacementPolicy {
    MNEME_NONCOPYABLE(RandomPolicy);
    MNEME_NONMOVABLE(RandomPolicy);

public:
    static constexpr size_t bytes_needed(u32 frame_count) { return FrameList::bytes_needed(frame_count); }
    RandomPolicy(Span<u8> memory, u32 frame_count, u32 seed) : m_resident(memory, frame_count), m_random(seed) {}

    const char* name() const override { return "random"; }
    u32 frame_count() const override { return m_resident.frame_count(); }
    void page_in(u32 frame) override;
    void removed(u32 frame) override;
    ErrorOr<u32> choose_victim(FrameAccessor& frames) override;
    bool is_resident(u32 frame) const override { return m_resident.contains(frame); }
    u32 resident_count() const override { return m_resident.size(); }
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const override;

private:
    FrameList m_resident;
    XorShift32 m_random;
};
