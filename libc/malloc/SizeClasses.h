// SizeClasses.h: the block sizes of the segregated allocator, computed at compile time.
//
//   16 .. 256 bytes       steps of 16                       16 classes
//   256 .. 2 KiB          eight classes per doubling         24 classes (288, 320, ..., 512, 576, ...)
//   2 KiB .. 128 KiB      four classes per doubling          24 classes (2560, 3072, ...)
//
// 64 classes. Rounding a request up to its class wastes at most 1/8 of the block up to 2 KiB (where most
// objects are, so this is what the resident size feels) and 1/4 above. Every class size is a multiple of
// 16, so every block is 16-byte aligned; a power-of-two class of size s is aligned to min(s, 16 KiB)
// because pages start on 16 KiB (slice) boundaries.
//
// class_of is the fast path's first step: for requests up to 1024 bytes one load from a 65-entry table;
// above, a bit scan and a few shifts.
#pragma once

#include "libc/base/Types.h"

namespace Malloc {

struct SizeClasses {
    static constexpr unsigned kCount = 64;
    static constexpr size_t kMaxSize = 128 * KiB;
    static constexpr size_t kTableMax = 1024;  // class_of uses the table up to here
    static constexpr unsigned kFineEnd = 40;   // classes below this have eight per doubling (or steps of 16)

    u32 size[kCount] = {};
    // ceil(2^40 / size): the index of the block at byte offset o is (o * reciprocal) >> 40, exact for
    // o < 2^23 (a page is at most 512 KiB), without a division on the free path.
    u64 reciprocal[kCount] = {};
    u8 table[kTableMax / 16 + 1] = {};

    constexpr SizeClasses() {
        for (unsigned c = 0; c < 16; ++c) size[c] = 16 * (c + 1);
        unsigned c = 16;
        for (u32 base = 256; base < 2048; base *= 2)
            for (u32 step = 1; step <= 8; ++step) size[c++] = base + step * (base / 8);
        for (u32 base = 2048; base < kMaxSize; base *= 2)
            for (u32 step = 1; step <= 4; ++step) size[c++] = base + step * (base / 4);
        for (unsigned i = 0; i < kCount; ++i) reciprocal[i] = ((u64(1) << 40) + size[i] - 1) / size[i];
        for (unsigned i = 0; i <= kTableMax / 16; ++i) table[i] = static_cast<u8>(compute_class(i * 16));
    }

    static constexpr unsigned class_above_256(size_t top, unsigned bit) {
        // top = bytes - 1 >= 256, bit = floor(log2(top)).
        if (bit < 11) return 16 + (bit - 8) * 8 + static_cast<unsigned>((top >> (bit - 3)) & 7);
        return kFineEnd + (bit - 11) * 4 + static_cast<unsigned>((top >> (bit - 2)) & 3);
    }

    // The smallest class holding `bytes` (bytes <= kMaxSize).
    static constexpr unsigned compute_class(size_t bytes) {
        if (bytes <= 256) return bytes == 0 ? 0 : static_cast<unsigned>((bytes + 15) / 16 - 1);
        size_t top = bytes - 1;
        unsigned bit = 0;
        while ((top >> bit) > 1) ++bit;
        return class_above_256(top, bit);
    }

    unsigned class_of(size_t bytes) const {
        if (bytes <= kTableMax) return table[(bytes + 15) >> 4];
        size_t top = bytes - 1;
        return class_above_256(top, static_cast<unsigned>(sizeof(unsigned long) * 8 - 1) - __builtin_clzl(top));
    }
};

inline constexpr SizeClasses kSizeClasses{};

static_assert(kSizeClasses.size[SizeClasses::kCount - 1] == SizeClasses::kMaxSize);
static_assert(kSizeClasses.size[16] == 288 && kSizeClasses.size[23] == 512 && kSizeClasses.size[39] == 2048);
static_assert(kSizeClasses.size[40] == 2560);
static_assert(SizeClasses::compute_class(257) == 16 && SizeClasses::compute_class(512) == 23);
static_assert(SizeClasses::compute_class(513) == 24 && SizeClasses::compute_class(2048) == 39);
static_assert(SizeClasses::compute_class(2049) == 40 && SizeClasses::compute_class(128 * KiB) == 63);

}  // namespace Malloc
