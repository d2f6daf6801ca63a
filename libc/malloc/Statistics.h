// Statistics.h: what a Heap can say about its memory, the same fields for every policy.
//
// Accounting identity, checked by the tests after every step for every policy:
//
//   heap_bytes == live_bytes + header_bytes + alignment_bytes + free_bytes + metadata_bytes
//
// (mapped large blocks are counted apart, in mapped_bytes). External fragmentation follows the usual
// definition, 1 - largest free block / total free: 0 when all free memory is one block, near 1 when it is
// shattered into pieces no larger request can use.
#pragma once

#include "libc/base/Format.h"
#include "libc/base/Types.h"
#include "libc/malloc/Policy.h"

namespace Malloc {

struct Statistics {
    Policy policy = kDefaultPolicy;

    size_t heap_bytes = 0;           // obtained with MemorySource::extend and not given back
    size_t mapped_bytes = 0;         // mappings holding live large blocks
    size_t cached_mapped_bytes = 0;  // freed mappings kept for reuse (hysteresis), not in mapped_bytes

    size_t live_blocks = 0;        // in the heap and mapped
    size_t live_bytes = 0;         // in the heap: bytes requested by the program, or usable bytes when
    bool live_bytes_exact = true;  //   exact is false (a policy without per-block headers cannot know)
    size_t mapped_live_bytes = 0;  // requested bytes of mapped blocks

    size_t free_bytes = 0;  // in free blocks of the heap, usable by a later allocation
    size_t free_blocks = 0;
    size_t largest_free_block = 0;

    size_t header_bytes = 0;     // per-block headers of live heap blocks
    size_t alignment_bytes = 0;  // rounding up and alignment padding inside live heap blocks
    size_t metadata_bytes = 0;   // bookkeeping and unusable bytes in the heap (page descriptors, sentinels)

    // 1000 * (1 - largest_free_block / free_bytes); 0 when nothing is free.
    u32 fragmentation_permille() const {
        if (free_bytes == 0) return 0;
        // Scale both down until the product fits in 32 bits: i386 freestanding code has no 64-bit
        // division (__udivdi3), and three digits need only 22 bits of precision.
        size_t largest = largest_free_block;
        size_t total = free_bytes;
        while (total >= (size_t(1) << 22)) {
            total >>= 1;
            largest >>= 1;
        }
        size_t scaled = total == 0 ? 1000 : largest * 1000 / total;
        return scaled >= 1000 ? 0 : static_cast<u32>(1000 - scaled);
    }
};

// Prints `statistics` as a short table (what malloc_stats() shows), through `sink`.
void print_statistics(const Statistics& statistics, FormatSink sink, void* context);

}  // namespace Malloc
