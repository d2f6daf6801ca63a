// Ata.cpp: the ATA PIO protocols over port I/O (see Ata.h for the design, polling and timeouts).
//
// Protocol references are to ATA/ATAPI-6 (T13 1410D): the "Device selection", "PIO data-in", "PIO
// data-out" and "Non-data" command protocols, the "Software reset" protocol, and the register and command
// descriptions. Port I/O is Intel SDM Vol. 2 (IN, OUT, INS, OUTS).
#include "arch/i386/Ata.h"

#include "arch/i386/Io.h"
#include "arch/i386/Pit.h"

namespace ata {
namespace {

// Command-block register offsets from the channel's base (ATA/ATAPI-6, "I/O register descriptions").
constexpr u16 kData = 0;
constexpr u16 kError = 1;  // read: Error; write: Features
constexpr u16 kSectorCount = 2;
constexpr u16 kLbaLow = 3;
constexpr u16 kLbaMid = 4;
constexpr u16 kLbaHigh = 5;
constexpr u16 kDevice = 6;
constexpr u16 kStatus = 7;  // read: Status (acknowledges the interrupt); write: Command

// Device register: bit 6 selects LBA addressing; bit 4 (DEV) is 0 for the master. Bits 7 and 5 were 1 in
// the CHS days and are obsolete; old drives still expect them set.
constexpr u8 kDeviceMasterLba = 0xE0;
// Device Control register: nIEN (bit 1) masks the drive's interrupt; SRST (bit 2) resets the channel.
constexpr u8 kControlNoInterrupt = 1 << 1;
constexpr u8 kControlReset = 1 << 2;

// A packet (ATAPI) device aborts IDENTIFY DEVICE and leaves this signature in LBA Mid/High (ATA/ATAPI-6,
// "Signature and persistence").
constexpr u8 kAtapiSignatureMid = 0x14;
constexpr u8 kAtapiSignatureHigh = 0xEB;

// The poll count that ends a wait when the timer's clock stands still (interrupts off). A port read under
// QEMU takes well over 100 ns, so this is seconds, the same order as the timeouts.
constexpr u32 kMaxPolls = 1u << 25;
// Read the clock once per this many polls: it takes an interrupt-guarded 64-bit read.
constexpr u32 kPollsPerClockRead = 64;

Status alternate_status(Channel channel) { return Status{inb(channel.control)}; }
Status read_status(Channel channel) { return Status{inb(channel.command_base + kStatus)}; }

// The standard's 400 ns between writing Device or Command and trusting Status: four reads of Alternate
// Status, each at least 100 ns on the ISA-timed bus.
void settle(Channel channel) {
    for (int i = 0; i < 4; ++i) (void)alternate_status(channel);
}

// At least `microseconds` (io_wait takes about 1 us on the ISA bus; under QEMU less, which it does not
// mind).
void delay_us(u32 microseconds) {
    for (u32 i = 0; i < microseconds; ++i) io_wait();
}

class Deadline {
public:
    explicit Deadline(u32 timeout_ms) : m_end_ms(pit::uptime_ms() + timeout_ms) {}
    bool expired() {
        ++m_polls;
        if (m_polls >= kMaxPolls) return true;
        return m_polls % kPollsPerClockRead == 0 && pit::uptime_ms() >= m_end_ms;
    }

private:
    u64 m_end_ms;
    u32 m_polls = 0;
};

// Polls Alternate Status until BSY clears and, if `want_drq`, DRQ or ERR/DF is up. False on timeout, with
// `result` filled in.
bool wait_for(Channel channel, u32 timeout_ms, bool want_drq, Result& result) {
    Deadline deadline(timeout_ms);
    for (;;) {
        Status status = alternate_status(channel);
        if (!status.busy() && (!want_drq || status.data_request() || status.error() || status.fault())) {
            result.status = status;
            return true;
        }
        if (deadline.expired()) {
            result.failure = Failure::Timeout;
            result.status = status;
            result.waiting_for = status.busy() ? "BSY to clear" : "DRQ";
            return false;
        }
    }
}

// After a wait: ERR or DF in the status just read ends the command, with the Error register.
bool check_error(Channel channel, Result& result) {
    if (!result.status.error() && !result.status.fault()) return true;
    result.failure = result.status.fault() ? Failure::DeviceFault : Failure::DeviceError;
    result.error = ErrorBits{inb(channel.command_base + kError)};
    return false;
}

// Device selection protocol: BSY and DRQ clear, write Device, wait 400 ns, BSY clear again.
bool select_master(Channel channel, u8 device_bits, Result& result) {
    if (!wait_for(channel, kCommandTimeoutMs, false, result)) return false;
    if (result.status.data_request()) {
        result.failure = Failure::Protocol;
        result.waiting_for = "DRQ to clear before a new command";
        return false;
    }
    outb(channel.command_base + kDevice, device_bits);
    settle(channel);
    return wait_for(channel, kCommandTimeoutMs, false, result);
}

// Writes the count and address, then the command. LBA48 writes each register twice, the high-order
// ("previous") byte first (ATA/ATAPI-6, "48-bit Address feature set").
void issue(Channel channel, Command command, u64 lba, u32 count, bool lba48) {
    u16 base = channel.command_base;
    if (lba48) {
        outb(base + kSectorCount, static_cast<u8>(count >> 8));
        outb(base + kLbaLow, static_cast<u8>(lba >> 24));
        outb(base + kLbaMid, static_cast<u8>(lba >> 32));
        outb(base + kLbaHigh, static_cast<u8>(lba >> 40));
    }
    outb(base + kSectorCount, static_cast<u8>(count));  // 256 writes 0, which both forms read as 256
    outb(base + kLbaLow, static_cast<u8>(lba));
    outb(base + kLbaMid, static_cast<u8>(lba >> 8));
    outb(base + kLbaHigh, static_cast<u8>(lba >> 16));
    outb(base + kStatus, static_cast<u8>(command));
    settle(channel);
}

// IDENTIFY's strings are ASCII with the two bytes of each word swapped, padded with spaces.
void copy_identify_string(const u16* words, u32 first_word, u32 word_count, char* out) {
    for (u32 i = 0; i < word_count; ++i) {
        u16 word = words[first_word + i];
        out[2 * i] = static_cast<char>(word >> 8);
        out[2 * i + 1] = static_cast<char>(word & 0xFF);
    }
    u32 length = 2 * word_count;
    while (length > 0 && (out[length - 1] == ' ' || out[length - 1] == '\0')) --length;
    out[length] = '\0';
}

Result transfer(Channel channel, Command command, u64 lba, u32 count, u16* buffer, bool writing, bool lba48) {
    Result result;
    result.command = command;
    result.lba = lba;
    if (count == 0 || count > kMaxSectorsPerCommand || (!lba48 && lba + count > kLba28Limit) ||
        lba + count > kLba48Limit) {
        result.failure = Failure::Protocol;
        result.waiting_for = "a sector count and address the command can carry";
        return result;
    }
    u8 device = lba48 ? kDeviceMasterLba : static_cast<u8>(kDeviceMasterLba | ((lba >> 24) & 0x0F));
    if (!select_master(channel, device, result)) return result;
    if (!result.status.ready()) {
        result.failure = Failure::Protocol;
        result.waiting_for = "DRDY (the drive is not ready for commands)";
        return result;
    }
    issue(channel, command, lba, count, lba48);
    for (u32 i = 0; i < count; ++i) {
        result.lba = lba + i;
        // PIO data-in/data-out: per block, wait for BSY to clear, then DRQ means "move 256 words now".
        if (!wait_for(channel, kCommandTimeoutMs, true, result) || !check_error(channel, result)) return result;
        if (!result.status.data_request()) {
            result.failure = Failure::Protocol;
            result.waiting_for = "DRQ for the next sector";
            return result;
        }
        u16* block = buffer + i * (kSectorSize / 2);
        if (writing)
            outsw(channel.command_base + kData, block, kSectorSize / 2);
        else
            insw(channel.command_base + kData, block, kSectorSize / 2);
        settle(channel);
    }
    // After the last block the drive writes it (data-out) or is done (data-in): BSY clears with DRQ down
    // and ERR or DF if the end went wrong. Reading Status (not Alternate) acknowledges the command.
    if (!wait_for(channel, kCommandTimeoutMs, false, result)) return result;
    result.status = read_status(channel);
    if (!check_error(channel, result)) return result;
    result.lba = lba;
    return result;
}

}  // namespace

Probe identify(Channel channel, Identity& identity, Result& result) {
    result = Result{};
    result.command = Command::IdentifyDevice;
    identity = Identity{};
    if (alternate_status(channel).floating()) return Probe::Absent;

    // Software reset: SRST for at least 5 us, then at least 2 ms before BSY means anything, then BSY clear.
    // nIEN stays set from here on: this driver polls.
    outb(channel.control, kControlReset | kControlNoInterrupt);
    delay_us(5);
    outb(channel.control, kControlNoInterrupt);
    delay_us(2000);
    if (!wait_for(channel, kResetTimeoutMs, false, result))
        return result.status.floating() ? Probe::Absent : Probe::Failed;

    outb(channel.command_base + kDevice, kDeviceMasterLba);
    settle(channel);
    for (u16 reg = kSectorCount; reg <= kLbaHigh; ++reg) outb(channel.command_base + reg, 0);
    outb(channel.command_base + kStatus, static_cast<u8>(Command::IdentifyDevice));
    settle(channel);
    // Status 0 (QEMU's empty channel) or all ones (no controller): nobody took the command.
    Status status = alternate_status(channel);
    if (status.bits == 0 || status.floating()) return Probe::Absent;
    if (!wait_for(channel, kCommandTimeoutMs, false, result)) return Probe::Failed;
    if (inb(channel.command_base + kLbaMid) == kAtapiSignatureMid &&
        inb(channel.command_base + kLbaHigh) == kAtapiSignatureHigh) {
        (void)read_status(channel);
        return Probe::Absent;  // a CD-ROM or another packet device, not a disk
    }
    if (!wait_for(channel, kCommandTimeoutMs, true, result)) return Probe::Failed;
    if (!check_error(channel, result)) return Probe::Failed;

    u16 words[256];
    insw(channel.command_base + kData, words, 256);
    result.status = read_status(channel);

    copy_identify_string(words, 10, 10, identity.serial);
    copy_identify_string(words, 23, 4, identity.firmware);
    copy_identify_string(words, 27, 20, identity.model);
    identity.lba28_sectors = static_cast<u32>(words[60]) | (static_cast<u32>(words[61]) << 16);
    // Word 83: bit 14 set and bit 15 clear say the word is valid; bit 10 is the 48-bit Address feature set.
    bool word83_valid = (words[83] & 0xC000) == 0x4000;
    identity.lba48 = word83_valid && (words[83] & (1 << 10));
    if (identity.lba48)
        identity.lba48_sectors = static_cast<u64>(words[100]) | (static_cast<u64>(words[101]) << 16) |
                                 (static_cast<u64>(words[102]) << 32) | (static_cast<u64>(words[103]) << 48);
    return Probe::Present;
}

Result read_sectors(Channel channel, u64 lba, u32 count, void* buffer, bool lba48) {
    return transfer(channel, lba48 ? Command::ReadSectorsExt : Command::ReadSectors, lba, count,
                    static_cast<u16*>(buffer), false, lba48);
}

Result write_sectors(Channel channel, u64 lba, u32 count, const void* buffer, bool lba48) {
    // outsw only reads the buffer; transfer() shares one pointer type for both directions.
    return transfer(channel, lba48 ? Command::WriteSectorsExt : Command::WriteSectors, lba, count,
                    static_cast<u16*>(const_cast<void*>(buffer)), true, lba48);
}

Result flush_cache(Channel channel) {
    // Non-data protocol: select, write the command, wait for BSY to clear, check ERR and DF.
    Result result;
    result.command = Command::FlushCache;
    if (!select_master(channel, kDeviceMasterLba, result)) return result;
    outb(channel.command_base + kStatus, static_cast<u8>(Command::FlushCache));
    settle(channel);
    if (!wait_for(channel, kCommandTimeoutMs, false, result)) return result;
    result.status = read_status(channel);
    (void)check_error(channel, result);
    return result;
}

const char* command_name(Command command) {
    switch (command) {
    case Command::ReadSectors: return "READ SECTORS";
    case Command::ReadSectorsExt: return "READ SECTORS EXT";
    case Command::WriteSectors: return "WRITE SECTORS";
    case Command::WriteSectorsExt: return "WRITE SECTORS EXT";
    case Command::FlushCache: return "FLUSH CACHE";
    case Command::IdentifyDevice: return "IDENTIFY DEVICE";
    }
    return "?";
}

void describe(const Result& result, FormatSink sink, void* context) {
    format(sink, context, "%s", command_name(result.command));
    if (result.command != Command::FlushCache && result.command != Command::IdentifyDevice)
        format(sink, context, " at LBA %llu", static_cast<unsigned long long>(result.lba));
    switch (result.failure) {
    case Failure::None: format(sink, context, ": ok"); break;
    case Failure::NoDevice: format(sink, context, ": no device"); break;
    case Failure::Timeout: format(sink, context, ": timed out waiting for %s", result.waiting_for); break;
    case Failure::DeviceError: format(sink, context, ": the drive reported an error"); break;
    case Failure::DeviceFault: format(sink, context, ": the drive reported a device fault"); break;
    case Failure::Protocol: format(sink, context, ": protocol error: expected %s", result.waiting_for); break;
    }
    static constexpr const char* kStatusNames[8] = {"ERR", "IDX", "CORR", "DRQ", "DSC", "DF", "DRDY", "BSY"};
    format(sink, context, "; status 0x%02x (", result.status.bits);
    bool first = true;
    for (int bit = 7; bit >= 0; --bit) {
        if (!(result.status.bits & (1 << bit))) continue;
        format(sink, context, "%s%s", first ? "" : " ", kStatusNames[bit]);
        first = false;
    }
    format(sink, context, ")");
    if (result.failure != Failure::DeviceError && result.failure != Failure::DeviceFault) return;
    static constexpr const char* kErrorNames[8] = {
        "AMNF: address mark not found", "NM: no media",      "ABRT: command aborted",   "MCR: media change request",
        "IDNF: sector not found",       "MC: media changed", "UNC: uncorrectable data", "ICRC: interface CRC error"};
    format(sink, context, ", error 0x%02x (", result.error.bits);
    first = true;
    for (int bit = 7; bit >= 0; --bit) {
        if (!(result.error.bits & (1 << bit))) continue;
        format(sink, context, "%s%s", first ? "" : ", ", kErrorNames[bit]);
        first = false;
    }
    format(sink, context, ")");
}

}  // namespace ata
