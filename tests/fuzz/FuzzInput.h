// FuzzInput.h: the fuzzers' view of libFuzzer's byte string: a cursor that reads bytes and 16-bit values and
// yields zeros once the data runs out, so a target never needs to check lengths (a short input simply ends
// in zeros, which every target reads as harmless operations).
#pragma once

#include <stddef.h>

#include "libc/base/Types.h"

class FuzzInput {
public:
    FuzzInput(const u8* data, size_t size) : m_data(data), m_size(size) {}
    bool empty() const { return m_position >= m_size; }
    u8 byte() { return m_position < m_size ? m_data[m_position++] : 0; }
    u16 half() { return static_cast<u16>(byte() | (byte() << 8)); }

private:
    const u8* m_data;
    size_t m_size;
    size_t m_position = 0;
};
