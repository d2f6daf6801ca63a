// BlockDevice.cpp: the checks every block device shares, its counters and its error sentences.
#include "kernel/dev/BlockDevice.h"

#include <stdarg.h>

#include "kernel/dev/Console.h"
#include "libc/base/Format.h"

ErrorOr<void> BlockDevice::check(const char* operation, u64 lba, u32 count) {
    if (count == 0) {
        ++m_statistics.refused;
        return fail(Error::Invalid, "%s of 0 sectors at LBA %llu refused", operation,
                    static_cast<unsigned long long>(lba));
    }
    if (sector_count() == 0) {
        ++m_statistics.refused;
        return fail(Error::NoDevice, "%s refused: no disk", operation);
    }
    // Written so no sum can wrap: lba + count > sector_count() with lba near 2^64 would.
    if (lba >= sector_count() || count > sector_count() - lba) {
        ++m_statistics.refused;
        return fail(Error::OutOfRange, "%s of %u sector%s at LBA %llu refused: the disk has sectors 0-%llu", operation,
                    count, count == 1 ? "" : "s", static_cast<unsigned long long>(lba),
                    static_cast<unsigned long long>(sector_count() - 1));
    }
    return {};
}

ErrorOr<void> BlockDevice::read(u64 lba, u32 count, void* buffer) {
    TRY(check("read", lba, count));
    ++m_statistics.reads;
    auto result = read_sectors(lba, count, buffer);
    if (result.is_error())
        ++m_statistics.errors;
    else
        m_statistics.sectors_read += count;
    return result;
}

ErrorOr<void> BlockDevice::write(u64 lba, u32 count, const void* buffer) {
    TRY(check("write", lba, count));
    ++m_statistics.writes;
    auto result = write_sectors(lba, count, buffer);
    if (result.is_error())
        ++m_statistics.errors;
    else
        m_statistics.sectors_written += count;
    return result;
}

Error BlockDevice::fail(Error error, const char* format, ...) {
    va_list args;
    va_start(args, format);
    vformat_to_buffer(m_last_error, sizeof(m_last_error), format, args);
    va_end(args);
    kwarn(name(), "%s (%s)", m_last_error, error_string(error));
    return error;
}
