// BlockDevice.h: a disk as the rest of the kernel sees it: numbered sectors of one size, read and written
// in runs. Swap code talks to this interface and never to ports (kernel/dev/AtaDisk.h is the one
// implementation so far).
//
// The public read()/write() check the request before any I/O: a count of zero is Error::Invalid, a run that
// does not fit on the disk Error::OutOfRange. A request that reaches the device and fails is Error::IO.
// Each failure leaves a sentence in last_error() (which operation, which sectors, what the device said) and
// logs it with kwarn: Error codes carry no text yet, so the sentence rides beside the code.
//
// Not reentrant: one request at a time (the kernel has one CPU and the only callers run with the boot
// context or the monitor). A caller from processes will need a lock around the request.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Types.h"

class BlockDevice {
public:
    struct Statistics {
        u64 reads = 0;  // requests that reached the device
        u64 writes = 0;
        u64 sectors_read = 0;
        u64 sectors_written = 0;
        u64 errors = 0;   // requests the device failed
        u64 refused = 0;  // requests refused before any I/O
    };

    virtual const char* name() const = 0;
    virtual u32 sector_size() const = 0;
    virtual u64 sector_count() const = 0;

    // Reads `count` sectors from `lba` into `buffer` (count * sector_size() bytes).
    ErrorOr<void> read(u64 lba, u32 count, void* buffer);
    // Writes `count` sectors from `buffer` at `lba`; returns once they are on the medium (caches flushed).
    ErrorOr<void> write(u64 lba, u32 count, const void* buffer);

    // The sentence describing the last failed or refused request ("" if none).
    const char* last_error() const { return m_last_error; }
    const Statistics& statistics() const { return m_statistics; }

    // Everything written so far onto the medium (a drive may keep writes in its cache). Error::IO.
    virtual ErrorOr<void> flush() = 0;

protected:
    BlockDevice() = default;
    ~BlockDevice() = default;
    MNEME_NONCOPYABLE(BlockDevice);
    MNEME_NONMOVABLE(BlockDevice);

    // The device's own transfer, for a request already checked to lie on the disk. On failure it calls
    // fail() and returns its result.
    virtual ErrorOr<void> read_sectors(u64 lba, u32 count, void* buffer) = 0;
    virtual ErrorOr<void> write_sectors(u64 lba, u32 count, const void* buffer) = 0;

    // Records `error` with a sentence (printf-style), logs it, and returns `error`.
    Error fail(Error error, const char* format, ...) __attribute__((format(printf, 3, 4)));

private:
    static constexpr size_t kErrorLength = 200;

    ErrorOr<void> check(const char* operation, u64 lba, u32 count);

    char m_last_error[kErrorLength] = "";
    Statistics m_statistics;
};
