// Integrity.h: the cheap checks that turn heap misuse into a clear message instead of silent corruption.
//
// Block headers carry a check word: a hash of the header's own address, its contents and a per-heap
// secret. A header that a buffer overrun rewrote, or a "pointer" that never came from malloc, fails the
// check with probability about 1 - 2^-32; a header is recomputed whenever the allocator changes it.
// Misuse is reported through mneme_panic ("malloc: free(0x...): double free ..."), which prints and aborts.
#pragma once

#include "libc/base/Types.h"

namespace Malloc {

// Cost: a few ALU instructions (xor, fold, one multiply, shift).
inline u32 header_check(uptr address, uptr contents, uptr secret) {
    uptr mixed = address ^ (contents * 0x9E3779B1u) ^ secret;
    u32 value = static_cast<u32>(mixed);
    if constexpr (sizeof(uptr) > 4) value ^= static_cast<u32>(static_cast<u64>(mixed) >> 32);
    value *= 0x85EBCA6Bu;
    value ^= value >> 13;
    return value;
}

// "malloc: free(0x...): <problem>", then abort. `operation` names the C function the program called.
[[noreturn]] void report_misuse(const char* operation, const void* pointer, const char* problem);

// A broken internal structure found by a check (not attributable to one call): "malloc: heap corruption:
// ...".
[[noreturn]] void report_corruption(const char* what, const void* where);

}  // namespace Malloc
