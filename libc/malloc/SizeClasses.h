// SizeClasses.h: the block sizes of the segregated allocator, computed at compile time.
//
// 16 to 256 bytes in steps of 16, then four classes per doubling (320, 384, 448, 512, 640, ...) up to
// 128 KiB: 52 classes. Rounding a request up to its class wastes at most 1/8 of the block on average and
// 1/4 at worst (mimalloc and jemalloc use the same spacing). Every class size is a multiple of 16, so
// every block is 16-byte aligned; a power-of-two class of size s is aligned to min(s, 64 KiB) because
// pages start on 64 KiB boundaries.
//
// class_of is the fast path's first step: for requests up to 1024 bytes one load from a 65-entry table;
// above, a bit scan and a few shifts.
#pragma once

#include "libc/base/Types.h"

namespace Malloc {

struct SizeClasses {
    static constexpr unsigned kCount = 52;
    static constexpr size_t kMaxSize = 128 * KiB;
    static constexpr size_t kTableMax = 1024;  // class_of uses the table up to here

    u32 size[kCount] = {};
    // ceil(2^40 / size): the index of the block at byte offset o is (o * reciprocal) >> 40, exact for
    // o < 2^23 (a page is at most 512 KiB), without a division on the free path.
    u64 reciprocal[kCount] = {};
    u8 table[kTableMax / 16 + 1] = {};

    constexpr SizeClasses() {
        for (unsigned c = 0; c < 16; ++c) size[c] = 16 * (c + 1);
        unsigned c = 16;
        for (u32 base = 256; base < kMaxSize; base *= 2)
            for (u32 step = 1; step <= 4; ++step) size[c++] = base + step * (base / 4);
        for (unsigned i = 0; i < kCount; ++i) reciprocal[i] = ((u64(1) << 40) + size[i] - 1) / size[i];
        for (unsigned i = 0; i <= kTableMax / 16; ++i) table[i] = static_cast<u8>(compute_class(i * 16));
    }

    // The smallest class holding `bytes` (bytes <= kMaxSize).
    static constexpr unsigned compute_class(size_t bytes) {
        if (bytes <= 256) return bytes == 0 ? 0 : static_cast<unsigned>((bytes + 15) / 16 - 1);
        size_t top = bytes - 1;
        unsigned bit = 0;
        while ((top >> bit) > 1) ++bit;  // floor(log2(bytes - 1)), >= 8
        return 16 + (bit - 8) * 4 + static_cast<unsigned>((top >> (bit - 2)) & 3);
    }

    unsigned class_of(size_t bytes) const {
        if (bytes <= kTableMax) return table[(bytes + 15) >> 4];
        size_t top = bytes - 1;
        unsigned bit = static_cast<unsigned>(sizeof(unsigned long) * 8 - 1) - __builtin_clzl(top);
        return 16 + (bit - 8) * 4 + static_cast<unsigned>((top >> (bit - 2)) & 3);
    }
};

inline constexpr SizeClasses kSizeClasses{};

static_assert(kSizeClasses.size[SizeClasses::kCount - 1] == SizeClasses::kMaxSize);
static_assert(kSizeClasses.size[16] == 320 && kSizeClasses.size[19] == 512 && kSizeClasses.size[20] == 640);
static_assert(SizeClasses::compute_class(257) == 16 && SizeClasses::compute_class(512) == 19);
static_assert(SizeClasses::compute_class(513) == 20 && SizeClasses::compute_class(128 * KiB) == 51);

}  // namespace Malloc
