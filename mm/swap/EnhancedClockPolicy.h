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
// Everything but the sweep is ClockPolicy's, which this class extends.
//
// Invariants (check_invariants): those of ClockRing, whose frames are exactly the resident ones.
#pragma once

#include "mm/swap/ClockPolicy.h"

class EnhancedClockPolicy final : public ClockPolicy {
    MNEME_NONCOPYABLE(EnhancedClockPolicy);
    MNEME_NONMOVABLE(EnhancedClockPolicy);

public:
    // The ring, the hand and where a new page goes are the clock's.
    using ClockPolicy::ClockPolicy;

    const char* name() const override { return "eclock"; }
    ErrorOr<u32> choose_victim(FrameAccessor& frames) override;

private:
    // One lap of the hand looking for an evictable frame with (A, D) = (0, dirty); with `clear_passed`, the A
    // bit of each evictable frame passed over is cleared. Returns the frame (the hand stops past it) or kNone
    // after a full lap. Sets `first_evictable`, if it is still kNone, to the first evictable frame it meets.
    u32 sweep(FrameAccessor& frames, bool dirty, bool clear_passed, u32& first_evictable);
};
