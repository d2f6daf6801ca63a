// Ustar.h: reading a POSIX ustar archive in memory (POSIX.1-2017, pax "ustar Interchange Format"), the
// format of Mneme's initrd.
//
// An archive is a sequence of 512-byte blocks: each member is a header block followed by its data rounded
// up to whole blocks; two zero blocks end the archive. A header holds the name (100 bytes, plus a 155-byte
// prefix), the size in octal ASCII, a type flag and a checksum over the header itself.
//
// Every field is checked before it is trusted, because the initrd is input: a bad checksum, a size that
// runs past the end, a non-octal digit or a missing terminator is an error naming the member, never a read
// outside the buffer. Pure and allocation-free: compiled into the kernel and into the host tests/fuzzers.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Types.h"

struct UstarMember {
    char name[256];  // prefix + "/" + name, NUL-terminated, leading "./" removed
    const u8* data;  // inside the archive
    u32 size;
    char type;  // '0' or '\0' regular file, '5' directory, others kept as is
    bool is_file() const { return type == '0' || type == '\0'; }
    bool is_directory() const { return type == '5'; }
};

class UstarReader {
public:
    UstarReader(const u8* archive, size_t size) : m_archive(archive), m_size(size) {}

    // Advances to the next member. Returns false at the end of the archive (zero block or end of buffer);
    // sets error() and returns false on malformed input.
    bool next(UstarMember& member);
    Error error() const { return m_error; }
    // What was wrong, for the message: "member 3 (bin/sh): header checksum 0x1234, computed 0x1235".
    const char* error_message() const { return m_message; }

    // Finds `path` ("bin/init", "/bin/init" and "./bin/init" are the same). Error::NoEntry if absent,
    // Error::Invalid if the archive is malformed before it is found.
    static ErrorOr<UstarMember> find(const u8* archive, size_t size, const char* path);

private:
    bool fail(const char* format, ...) __attribute__((format(printf, 2, 3)));

    const u8* m_archive;
    size_t m_size;
    size_t m_offset = 0;
    u32 m_index = 0;
    Error m_error = Error::None;
    char m_message[160] = "";
};
