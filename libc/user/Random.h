// Random.h: a small deterministic pseudo-random generator for tests and demos (xorshift32, Marsaglia 2003).
//
// Deterministic on purpose: a test seeded with a fixed number does the same operations on every run, so a
// failure can be replayed; compute and usertests compute the same sequence from the same seed.
#pragma once

#include "libc/base/Types.h"

class Random {
public:
    explicit constexpr Random(u32 seed) : m_state(seed ? seed : 0x9E3779B9u) {}

    constexpr u32 next() {
        m_state ^= m_state << 13;
        m_state ^= m_state >> 17;
        m_state ^= m_state << 5;
        return m_state;
    }
    // A value in [0, bound) (bound > 0); the slight modulo bias does not matter for tests.
    constexpr u32 below(u32 bound) { return next() % bound; }

private:
    u32 m_state;
};
