// XorShift.h: a small seeded pseudo-random generator (Marsaglia, "Xorshift RNGs", Journal of Statistical
// Software 8(14), 2003: the 32-bit generator with shifts 13, 17, 5).
//
// Used where mm/swap wants randomness that replays: RandomPolicy's victims and ReferenceString's synthetic
// workloads. The same seed gives the same sequence on the host and in the kernel. Not for anything where an
// adversary may guess the next value.
//
// Invariant: the state is never 0 (0 is the generator's only fixed point), so a seed of 0 is replaced.
#pragma once

#include "libc/base/Types.h"

class XorShift32 {
public:
    explicit XorShift32(u32 seed) : m_state(seed != 0 ? seed : kZeroSeedReplacement) {}

    u32 next() {
        m_state ^= m_state << 13;
        m_state ^= m_state >> 17;
        m_state ^= m_state << 5;
        return m_state;
    }

    // A value in [0, bound), bound > 0: the high half of a 32x32 -> 64-bit product (Lemire's multiply-shift),
    // so no division, and no 64-bit division helper in the kernel. The bias is below bound / 2^32.
    u32 below(u32 bound) { return static_cast<u32>((static_cast<u64>(next()) * bound) >> 32); }

    // True `percent` times in a hundred, on average.
    bool chance(u32 percent) { return below(100) < percent; }

private:
    static constexpr u32 kZeroSeedReplacement = 0x9e3779b9u;  // 2^32 / golden ratio: any non-zero value works
    u32 m_state;
};
