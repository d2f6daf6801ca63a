// Types.h: the fixed-width integer types and small helpers every Mneme layer uses.
//
// Freestanding: only compiler-provided headers (<stddef.h>, <stdint.h>), so the same header serves the
// kernel, user programs and the host build.
#pragma once

#include <stddef.h>
#include <stdint.h>

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i8 = int8_t;
using i16 = int16_t;
using i32 = int32_t;
using i64 = int64_t;
using uptr = uintptr_t;

constexpr size_t KiB = 1024;
constexpr size_t MiB = 1024 * KiB;

// Round `value` down/up to a multiple of `align`, which must be a power of two.
template <typename T>
constexpr T align_down(T value, T align) {
    return value & ~(align - 1);
}
template <typename T>
constexpr T align_up(T value, T align) {
    return (value + align - 1) & ~(align - 1);
}
template <typename T>
constexpr bool is_power_of_two(T value) {
    return value != 0 && (value & (value - 1)) == 0;
}

#define MNEME_NONCOPYABLE(Class)  \
    Class(const Class&) = delete; \
    Class& operator=(const Class&) = delete

#define MNEME_NONMOVABLE(Class) \
    Class(Class&&) = delete;    \
    Class& operator=(Class&&) = delete
