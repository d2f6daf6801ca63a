// Ustar.cpp: the ustar reader (see Ustar.h).
#include "format/Ustar.h"

#include <stdarg.h>

#include "libc/base/Format.h"

namespace {

constexpr size_t kBlock = 512;

// Header field offsets and lengths (POSIX.1-2017, pax, Table "ustar Header Block").
constexpr size_t kNameOffset = 0, kNameLength = 100;
constexpr size_t kSizeOffset = 124, kSizeLength = 12;
constexpr size_t kChecksumOffset = 148, kChecksumLength = 8;
constexpr size_t kTypeOffset = 156;
constexpr size_t kMagicOffset = 257;
constexpr size_t kPrefixOffset = 345, kPrefixLength = 155;

bool is_zero_block(const u8* block) {
    for (size_t i = 0; i < kBlock; ++i)
        if (block[i]) return false;
    return true;
}

// Parses an octal field: digits, optionally surrounded by spaces and ended by NUL or space.
bool parse_octal(const u8* field, size_t length, u64& value) {
    size_t i = 0;
    while (i < length && field[i] == ' ') ++i;
    if (i == length || field[i] < '0' || field[i] > '7') return false;
    value = 0;
    for (; i < length && field[i] >= '0' && field[i] <= '7'; ++i) {
        value = (value << 3) | static_cast<u64>(field[i] - '0');
        if (value > 0xFFFFFFFFull) return false;
    }
    for (; i < length; ++i)
        if (field[i] != ' ' && field[i] != '\0') return false;
    return true;
}

// Copies a field that may fill its whole length without a NUL.
size_t copy_field(char* out, size_t capacity, const u8* field, size_t length) {
    size_t n = 0;
    while (n < length && field[n] && n + 1 < capacity) {
        out[n] = static_cast<char>(field[n]);
        ++n;
    }
    out[n] = '\0';
    return n;
}

const char* skip_dot_slash(const char* path) {
    while (path[0] == '.' && path[1] == '/') path += 2;
    while (path[0] == '/') ++path;
    return path;
}

bool same_path(const char* a, const char* b) {
    a = skip_dot_slash(a);
    b = skip_dot_slash(b);
    while (*a && *a == *b) ++a, ++b;
    // "bin/" and "bin" name the same directory.
    if (*a == '/' && a[1] == '\0' && *b == '\0') return true;
    if (*b == '/' && b[1] == '\0' && *a == '\0') return true;
    return *a == *b;
}

}  // namespace

bool UstarReader::fail(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vformat_to_buffer(m_message, sizeof(m_message), fmt, args);
    va_end(args);
    m_error = Error::Invalid;
    return false;
}

bool UstarReader::next(UstarMember& member) {
    if (m_error != Error::None) return false;
    if (m_offset + kBlock > m_size) {
        // A buffer that ends without the two zero blocks is accepted if it ends on a member boundary:
        // some tools pad differently. A partial block is garbage.
        if (m_offset != m_size && m_offset < m_size)
            return fail("archive ends inside a header block (%zu stray bytes at offset %zu)", m_size - m_offset,
                        m_offset);
        return false;
    }
    const u8* header = m_archive + m_offset;
    if (is_zero_block(header)) return false;

    u64 stored_checksum;
    if (!parse_octal(header + kChecksumOffset, kChecksumLength, stored_checksum))
        return fail("member %u at offset %zu: header checksum field is not octal", m_index, m_offset);
    // The checksum is the sum of the header's bytes with the checksum field counted as spaces.
    u64 computed = 0;
    for (size_t i = 0; i < kBlock; ++i)
        computed += (i >= kChecksumOffset && i < kChecksumOffset + kChecksumLength) ? ' ' : header[i];
    if (computed != stored_checksum)
        return fail(
            "member %u at offset %zu: header checksum 0%llo, computed 0%llo (not a ustar archive, or "
            "damaged)",
            m_index, m_offset, static_cast<unsigned long long>(stored_checksum),
            static_cast<unsigned long long>(computed));
    if (header[kMagicOffset] != 'u' || header[kMagicOffset + 1] != 's' || header[kMagicOffset + 2] != 't' ||
        header[kMagicOffset + 3] != 'a' || header[kMagicOffset + 4] != 'r')
        return fail("member %u at offset %zu: no \"ustar\" magic (an old-style tar archive?)", m_index, m_offset);

    char prefix[kPrefixLength + 1];
    char name[kNameLength + 1];
    copy_field(prefix, sizeof(prefix), header + kPrefixOffset, kPrefixLength);
    copy_field(name, sizeof(name), header + kNameOffset, kNameLength);
    if (prefix[0])
        format_to_buffer(member.name, sizeof(member.name), "%s/%s", prefix, name);
    else
        format_to_buffer(member.name, sizeof(member.name), "%s", name);
    const char* trimmed = skip_dot_slash(member.name);
    if (trimmed != member.name) {
        size_t i = 0;
        for (; trimmed[i]; ++i) member.name[i] = trimmed[i];
        member.name[i] = '\0';
    }

    u64 size;
    if (!parse_octal(header + kSizeOffset, kSizeLength, size))
        return fail("member %u (%s): size field is not octal", m_index, member.name);
    member.type = static_cast<char>(header[kTypeOffset]);
    // Only regular files carry data (links, directories and devices have size 0 or must be ignored).
    u64 data_size = (member.type == '0' || member.type == '\0' || member.type == '7') ? size : 0;
    u64 data_offset = m_offset + kBlock;
    if (data_size > m_size - data_offset)
        return fail("member %u (%s): size %llu runs past the end of the archive (%zu bytes left)", m_index, member.name,
                    static_cast<unsigned long long>(data_size), m_size - static_cast<size_t>(data_offset));
    member.data = m_archive + data_offset;
    member.size = static_cast<u32>(data_size);
    u64 next = data_offset + ((data_size + kBlock - 1) / kBlock) * kBlock;
    m_offset = next > m_size ? m_size : static_cast<size_t>(next);
    ++m_index;
    return true;
}

ErrorOr<UstarMember> UstarReader::find(const u8* archive, size_t size, const char* path) {
    UstarReader reader(archive, size);
    UstarMember member;
    while (reader.next(member))
        if (same_path(member.name, path)) return member;
    return reader.error() != Error::None ? Error::Invalid : Error::NoEntry;
}
