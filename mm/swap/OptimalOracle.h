// OptimalOracle.h: Belady's optimal replacement, MIN or OPT: evict the page whose next use lies furthest in
// the future (Belady, "A Study of Replacement Algorithms for a Virtual-Storage Computer", IBM Systems Journal
// 5(2), 1966; OSTEP ch. 22, 22.2; Tanenbaum, Modern Operating Systems, 3.4.1).
//
// No policy faults less on a given string: any other choice evicts a page needed sooner, and the fault it
// causes comes no later than the one MIN causes. No kernel can run it, since it reads the future; it is the
// yardstick on recorded strings, telling how much better any policy could possibly do. An oracle, not a
// policy, hence the name; it still speaks the ReplacementPolicy interface so the Simulator and the replay
// tool treat it like the others.
//
// It must be fed the string it was built from, access by access and in order: page_in() for a miss,
// referenced() for a hit (the Simulator does exactly that). Each consumes the next access; the oracle panics
// if the page does not match the frame.
//
// Algorithm: the constructor walks the string backwards once, recording for each access the index of the
// next access to the same page (next_use; kNever if none), with a table of the last index seen per page.
// Each frame remembers the next use of the page it holds, updated on every access to it. The victim is the
// evictable frame with the largest next use; among pages never used again (all equally good) the one paged in
// first. O(length + pages) to build, O(frames) per choice.
//
// Invariants (check_invariants): the resident frames form a well-formed FrameList; no page is in two frames;
// each resident frame's next use is kNever or a later access to its page, and no access to its page lies
// between now and then.
#pragma once

#include "mm/swap/FrameList.h"
#include "mm/swap/ReferenceString.h"
#include "mm/swap/ReplacementPolicy.h"

class OptimalOracle final : public ReplacementPolicy {
    MNEME_NONCOPYABLE(OptimalOracle);
    MNEME_NONMOVABLE(OptimalOracle);

public:
    static constexpr u32 kNever = 0xffffffffu;

    static size_t bytes_needed(u32 frame_count, Span<const PageAccess> string);
    // `string` must outlive the oracle (it is read, not copied) and be shorter than kNever accesses.
    OptimalOracle(Span<u8> memory, u32 frame_count, Span<const PageAccess> string);

    const char* name() const override { return "opt"; }
    u32 frame_count() const override { return m_resident.frame_count(); }
    void page_in(u32 frame) override;
    void removed(u32 frame) override;
    void referenced(u32 frame) override;
    ErrorOr<u32> choose_victim(FrameAccessor& frames) override;
    bool is_resident(u32 frame) const override { return m_resident.contains(frame); }
    u32 resident_count() const override { return m_resident.size(); }
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const override;

    // The index of the next access to be fed.
    u32 position() const { return m_position; }
    // When the page in `frame` is next used (an access index), or kNever.
    u32 next_use_of(u32 frame) const { return m_frame_next_use[frame]; }

private:
    // Consumes the next access, which must be to a page now in `frame`.
    void consume(u32 frame);

    Span<const PageAccess> m_string;
    FrameList m_resident;  // in page-in order, for the tie-break
    Span<u32> m_frame_page;
    Span<u32> m_frame_next_use;
    Span<u32> m_next_use;  // per access
    u32 m_position = 0;
};
