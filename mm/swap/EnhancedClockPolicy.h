// EnhancedClockPolicy.h: the enhanced second-chance algorithm, a clock that prefers clean pages
// (Silberschatz, Galvin and Gagne, Operating System Concepts, "Enhanced Second-Chance Algorithm";
// Tanenbaum, Modern Operating Systems, 3.4.2, "Not Recently Used", for the classes).
//
// Each page falls in one of four classes by its accessed and dirty bits (A, D):
//   class 0  (0, 0)  not used lately, clean: the best victim, it costs no write
//   class 1  (0, 1)  not used lately, but must be written out first
//   class 2  (1, 0)  used lately, clean
//   class 3  (1, 1)  used lately and dirty: the worst victim
// The victim is the first frame, in the hand's order, of the lowest class that has one. The hand sweeps the
// same ring as ClockPolicy's:
//   1. one lap looking for class 0, changing nothing;
//   2. one lap looking for class 1, clearing the A bit of each frame passed over (its second chance);
//   3. if neither lap found one, repeat 1 and 2: every A bit is clear now, so class 0 or 1 is there.
// The hand stops just past the victim. Pinned frames are passed over and keep their bits. (This order of
// laps is the usual textbook one; Stallings, Operating Systems: Internals and Design Principles, spells it
// out the same way.) It costs up to four laps where clock needs two, and saves a write whenever a clean page
// was there to take.
//
// Invariants (check_invariants): those of ClockRing, whose frames are exactly the resident ones.
#pragma once

#include "mm/swap/ClockRing.h"
#include "mm/swap/ReplacementPolicy.h"

class EnhancedClockPolicy final : public ReplacementPolicy {
    MNEME_NONCOPYABLE(EnhancedClockPolicy);
    MNEME_NONMOVABLE(EnhancedClockPolicy);

public:
    static constexpr size_t bytes_needed(u32 frame_count) { return ClockRing::bytes_needed(frame_count); }
    EnhancedClockPolicy(Span<u8> memory, u32 frame_count) : m_ring(memory, frame_count) {}

    const char* name() const override { return "eclock"; }
    u32 frame_count() const override { return m_ring.frame_count(); }
    void page_in(u32 frame) override;
    void removed(u32 frame) override;
    ErrorOr<u32> choose_victim(FrameAccessor& frames) override;
    bool is_resident(u32 frame) const override { return m_ring.contains(frame); }
    u32 resident_count() const override { return m_ring.size(); }
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const override;

    u32 hand() const { return m_ring.hand(); }

private:
    // One lap of the hand looking for an evictable frame with (A, D) = (0, dirty); with `clear_passed`, the A
    // bit of each evictable frame passed over is cleared. Returns the frame (the hand stops past it) or kNone
    // after a full lap. Sets `first_evictable`, if it is still kNone, to the first evictable frame it meets.
    u32 sweep(FrameAccessor& frames, bool dirty, bool clear_passed, u32& first_evictable);

    ClockRing m_ring;
};
