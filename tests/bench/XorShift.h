// XorShift.h: the benchmarks' random numbers: a small fast generator (Marsaglia's xorshift64), seeded, so
// every allocator and policy gets the very same sequence of sizes and choices.
#pragma once

#include <cstddef>
#include <cstdint>

struct XorShift {
    uint64_t state;
    explicit XorShift(uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};
