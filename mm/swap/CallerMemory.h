// CallerMemory.h: how the classes in mm/swap take their arrays from memory the caller hands them.
//
// mm/ has no heap (docs/style.md), so a class that needs an array per slot or per frame says how many bytes
// it wants (a static bytes_needed(...) built from array_bytes<T>()) and its constructor carves the arrays, in
// the same order, from the front of a Span<u8> with take_array<T>(). In the kernel that memory is a page from
// the frame allocator or a static buffer; on the host a std::vector<u64> or an alignas buffer.
//
// Each array starts on a kCallerMemoryAlignment boundary, so the caller's memory must start on one too
// (take_array VERIFYs it) and array_bytes() rounds every array up to that alignment.
#pragma once

#include <new>

#include "libc/base/Assert.h"
#include "libc/base/Span.h"
#include "libc/base/Types.h"

constexpr size_t kCallerMemoryAlignment = 8;

// The bytes an array of `count` T's takes, rounded up so the next array is aligned too. Saturates (to a size
// no caller can provide) instead of wrapping, so an absurd count fails the size check in take_array().
template <typename T>
constexpr size_t array_bytes(size_t count) {
    static_assert(alignof(T) <= kCallerMemoryAlignment);
    constexpr size_t kLimit = (static_cast<size_t>(-1) - kCallerMemoryAlignment) / sizeof(T);
    if (count > kLimit) return static_cast<size_t>(-1);
    return align_up(count * sizeof(T), kCallerMemoryAlignment);
}

// a + b, saturating like array_bytes(), for bytes_needed() functions that add several arrays.
constexpr size_t add_bytes(size_t a, size_t b) {
    return a > static_cast<size_t>(-1) - b ? static_cast<size_t>(-1) : a + b;
}

// Takes an array of `count` value-initialised T's from the front of `memory` and advances `memory` past it.
// Panics when the memory is misaligned or too small: the caller sized it with bytes_needed(), so either is a
// bug.
template <typename T>
Span<T> take_array(Span<u8>& memory, size_t count) {
    size_t bytes = array_bytes<T>(count);
    VERIFY(reinterpret_cast<uptr>(memory.data()) % kCallerMemoryAlignment == 0);
    VERIFY(bytes <= memory.size());
    T* array = reinterpret_cast<T*>(memory.data());
    for (size_t i = 0; i < count; ++i) new (&array[i]) T{};
    memory = memory.subspan(bytes, memory.size() - bytes);
    return Span<T>(array, count);
}
