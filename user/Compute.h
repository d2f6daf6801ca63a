// Compute.h: the work `compute` does and the answer it must give, shared by user/compute.cpp (which does
// it in memory) and tests/user/usertests/Compute.cpp (which computes the expected checksum without the buffer).
//
// A buffer of kComputeWords 32-bit words is filled from the xorshift sequence seeded with the seed + the
// round, and folded into a checksum; after kComputeRounds rounds the checksums are combined. If another
// process's writes ever landed in this one's memory, or a page were lost on a context switch, the
// second pass over the buffer and the expected value would disagree.
#pragma once

#include "libc/base/Types.h"
#include "libc/user/Random.h"

constexpr u32 kComputeWords = 256 * 1024;  // 1 MiB
constexpr u32 kComputeRounds = 12;

inline u32 compute_fold(u32 checksum, u32 word) {
    checksum = (checksum << 5 | checksum >> 27) ^ word;
    return checksum * 0x01000193u;
}

inline u32 compute_round_seed(u32 seed, u32 round) { return seed * 0x9E3779B1u + round + 1; }

// The checksum `compute SEED` must print, computed without a buffer.
inline u32 compute_expected(u32 seed) {
    u32 total = 0;
    for (u32 round = 0; round < kComputeRounds; ++round) {
        Random random(compute_round_seed(seed, round));
        u32 checksum = 0;
        for (u32 i = 0; i < kComputeWords; ++i) checksum = compute_fold(checksum, random.next());
        total ^= checksum + round;
    }
    return total;
}
