// Ata.h: an ATA (IDE) disk on a legacy channel, driven by programmed I/O (PIO) with polling.
//
// The standard is ATA/ATAPI-6 (T13 1410D). A channel is eight command-block registers (the primary channel's
// at 0x1F0-0x1F7) and a control-block register (0x3F6: Alternate Status to read, Device Control to write).
// A command is: wait until the drive is not busy, select the drive, write the sector count and address,
// write the command code; then, for each 512-byte sector, wait until the drive sets DRQ and move 256 words
// through the Data register (the "PIO data-in" and "PIO data-out" protocols of the standard).
//
// Polling, not IRQ 14: the simplest correct first step. Every wait reads the Alternate Status register
// (which, unlike Status, does not acknowledge the drive's interrupt) until BSY clears; nIEN in Device
// Control keeps the drive from raising IRQ 14 at all. The CPU spins while the drive works, which under QEMU
// is a few microseconds a sector. Future work: sleep on a WaitQueue woken by the IRQ 14 handler, so another
// process runs while a real disk seeks.
//
// Every wait is bounded (kResetTimeoutMs, kCommandTimeoutMs): on the timer's clock while interrupts are on,
// and by a count of polls as a backstop when they are off and the clock stands still. An expired wait is a
// Result with Failure::Timeout naming what was awaited, never a hang.
//
// Only the master drive and LBA addressing: CHS is obsolete for every disk this kernel will meet. LBA28
// reaches 2^28 sectors (128 GiB); the 48-bit commands (READ/WRITE SECTORS EXT) are used when the LBA or the
// run needs them, or when the caller asks (the tests exercise that path on a small disk).
//
// This file prints nothing (docs/style.md): describe() writes a Result into a FormatSink.
#pragma once

#include "libc/base/Format.h"
#include "libc/base/Types.h"

namespace ata {

constexpr u32 kSectorSize = 512;
constexpr u64 kLba28Limit = u64{1} << 28;  // LBA28 addresses sectors 0 .. 2^28 - 1
constexpr u64 kLba48Limit = u64{1} << 48;
constexpr u32 kMaxSectorsPerCommand = 256;  // a count register of 0 means 256 in LBA28; kept for LBA48 too

constexpr u32 kResetTimeoutMs = 3000;    // the standard allows up to 31 s for a drive spinning up; QEMU: none
constexpr u32 kCommandTimeoutMs = 5000;  // one wait for BSY to clear or DRQ to rise

// A legacy channel: the command block (eight ports) and the control block (one port).
struct Channel {
    u16 command_base;
    u16 control;
};
constexpr Channel kPrimary{0x1F0, 0x3F6};

// The Status register (ATA/ATAPI-6, "Status register"); Alternate Status has the same bits.
struct Status {
    u8 bits = 0;
    static constexpr u8 kErr = 1 << 0;   // the command ended with an error: see the Error register
    static constexpr u8 kDrq = 1 << 3;   // data request: the drive is ready to move a block of data
    static constexpr u8 kDf = 1 << 5;    // device fault
    static constexpr u8 kDrdy = 1 << 6;  // device ready: it accepts commands
    static constexpr u8 kBsy = 1 << 7;   // busy: no other bit is valid while this is set

    bool busy() const { return bits & kBsy; }
    bool ready() const { return bits & kDrdy; }
    bool data_request() const { return bits & kDrq; }
    bool error() const { return bits & kErr; }
    bool fault() const { return bits & kDf; }
    // Nothing drives the bus (no controller or no drive): the pull-ups read as all ones.
    bool floating() const { return bits == 0xFF; }
};
static_assert(sizeof(Status) == 1);

// The Error register, valid when Status.ERR is set (ATA/ATAPI-6, "Error register" and each command's
// "Error outputs").
struct ErrorBits {
    u8 bits = 0;
    static constexpr u8 kAmnf = 1 << 0;  // address mark not found (obsolete since ATA-4)
    static constexpr u8 kNm = 1 << 1;    // no media
    static constexpr u8 kAbrt = 1 << 2;  // command aborted: not supported, or not completed
    static constexpr u8 kMcr = 1 << 3;   // media change request
    static constexpr u8 kIdnf = 1 << 4;  // ID not found: the address is not on the disk
    static constexpr u8 kMc = 1 << 5;    // media changed
    static constexpr u8 kUnc = 1 << 6;   // uncorrectable data error
    static constexpr u8 kIcrc = 1 << 7;  // interface CRC error (a bad block mark before ATA-2)
};
static_assert(sizeof(ErrorBits) == 1);

// Command codes (ATA/ATAPI-6, the command descriptions).
enum class Command : u8 {
    ReadSectors = 0x20,
    ReadSectorsExt = 0x24,
    WriteSectors = 0x30,
    WriteSectorsExt = 0x34,
    FlushCache = 0xE7,
    IdentifyDevice = 0xEC,
};

enum class Failure : u8 {
    None,
    NoDevice,     // nothing answers on the channel
    Timeout,      // a bounded wait expired
    DeviceError,  // Status.ERR: the Error register says why
    DeviceFault,  // Status.DF
    Protocol,     // the drive did not follow the protocol (no DRQ when data was due)
};

// The outcome of one operation, with what the drive said.
struct Result {
    Failure failure = Failure::None;
    Status status;
    ErrorBits error;
    Command command = Command::ReadSectors;
    u64 lba = 0;                   // the sector being moved when it failed
    const char* waiting_for = "";  // for Timeout: "BSY to clear", "DRQ"

    bool ok() const { return failure == Failure::None; }
};

// What IDENTIFY DEVICE tells (ATA/ATAPI-6, "IDENTIFY DEVICE": words 27-46 the model, 60-61 the LBA28
// sector count, 83 bit 10 the 48-bit feature set, 100-103 the LBA48 sector count).
struct Identity {
    char model[41] = "";
    char serial[21] = "";
    char firmware[9] = "";
    u32 lba28_sectors = 0;
    u64 lba48_sectors = 0;
    bool lba48 = false;

    // Every addressable sector: the 48-bit count when the feature set is there.
    u64 sectors() const { return lba48 ? lba48_sectors : lba28_sectors; }
};

enum class Probe : u8 { Present, Absent, Failed };

// Software reset of the channel (SRST), then IDENTIFY DEVICE to its master. Absent: a floating bus, no
// answer to IDENTIFY, or a packet (ATAPI) device, which is not a disk. Failed: something answered but the
// exchange broke; `result` says how.
Probe identify(Channel channel, Identity& identity, Result& result);

// Moves `count` (1 .. kMaxSectorsPerCommand) sectors starting at `lba`, between the disk and `buffer`
// (count * 512 bytes). `lba48` selects the EXT commands; it must be true when lba + count > kLba28Limit.
Result read_sectors(Channel channel, u64 lba, u32 count, void* buffer, bool lba48);
Result write_sectors(Channel channel, u64 lba, u32 count, const void* buffer, bool lba48);
// FLUSH CACHE: returns once the drive's write cache is on the medium.
Result flush_cache(Channel channel);

// Writes a sentence about a failed Result: "READ SECTORS at LBA 100: error: status 0x51 (DRDY ERR), error
// 0x04 (ABRT: command aborted)".
void describe(const Result& result, FormatSink sink, void* context);
const char* command_name(Command command);

}  // namespace ata
