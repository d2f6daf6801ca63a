// Division.cpp: 64-bit division helpers that GCC calls on i386 (GCC internals manual, "Integer library
// routines": __udivdi3, __umoddi3, __divdi3, __moddi3).
//
// Mneme links without libgcc: Debian's i686 libgcc may use CMOV, which a 486 (-cpu 486) lacks. Binary long
// division, one quotient bit per step: at most 64 iterations, only for the rare 64-bit divide (uptime,
// statistics), never on a hot path.
#include "libc/base/Types.h"

namespace {

u64 divide(u64 numerator, u64 denominator, u64* remainder) {
    if (denominator == 0) {
        // Match the hardware: a divide by zero traps (#DE) instead of returning garbage.
        volatile u32 zero = 0;
        return static_cast<u32>(numerator) / zero;
    }
    u64 quotient = 0;
    u64 rest = 0;
    for (int bit = 63; bit >= 0; --bit) {
        rest = (rest << 1) | ((numerator >> bit) & 1);
        if (rest >= denominator) {
            rest -= denominator;
            quotient |= 1ull << bit;
        }
    }
    if (remainder) *remainder = rest;
    return quotient;
}

}  // namespace

extern "C" {

u64 __udivdi3(u64 n, u64 d) { return divide(n, d, nullptr); }

u64 __umoddi3(u64 n, u64 d) {
    u64 r = 0;
    divide(n, d, &r);
    return r;
}

i64 __divdi3(i64 n, i64 d) {
    bool negative = (n < 0) != (d < 0);
    u64 q = divide(n < 0 ? -static_cast<u64>(n) : static_cast<u64>(n),
                   d < 0 ? -static_cast<u64>(d) : static_cast<u64>(d), nullptr);
    return negative ? -static_cast<i64>(q) : static_cast<i64>(q);
}

i64 __moddi3(i64 n, i64 d) {
    u64 r = 0;
    divide(n < 0 ? -static_cast<u64>(n) : static_cast<u64>(n), d < 0 ? -static_cast<u64>(d) : static_cast<u64>(d), &r);
    return n < 0 ? -static_cast<i64>(r) : static_cast<i64>(r);
}

u64 __udivmoddi4(u64 n, u64 d, u64* r) { return divide(n, d, r); }

}  // extern "C"
