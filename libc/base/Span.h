// Span.h: a pointer and a length, for handing memory a class does not own (a frame-descriptor array, a
// buffer) across layers without allocating. Bounds are VERIFYed on element access.
#pragma once

#include "libc/base/Assert.h"
#include "libc/base/Types.h"

template <typename T>
class Span {
public:
    constexpr Span() = default;
    constexpr Span(T* data, size_t size) : m_data(data), m_size(size) {}
    template <size_t N>
    constexpr Span(T (&array)[N]) : m_data(array), m_size(N) {}

    constexpr T* data() const { return m_data; }
    constexpr size_t size() const { return m_size; }
    constexpr bool is_empty() const { return m_size == 0; }
    T& operator[](size_t index) const {
        VERIFY(index < m_size);
        return m_data[index];
    }
    constexpr T* begin() const { return m_data; }
    constexpr T* end() const { return m_data + m_size; }
    Span subspan(size_t offset, size_t count) const {
        VERIFY(offset <= m_size && count <= m_size - offset);
        return Span(m_data + offset, count);
    }

private:
    T* m_data = nullptr;
    size_t m_size = 0;
};
