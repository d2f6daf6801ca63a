// AtaDisk.h: the BlockDevice over an ATA disk (arch/i386/Ata.h), and the kernel's one such disk, ide0,
// the primary channel's master.
//
// probe() runs IDENTIFY once at boot; a missing drive is a normal outcome (no swapping), not an error.
// Requests are split into runs of at most ata::kMaxSectorsPerCommand sectors; a run uses the LBA48
// commands when the disk has them and the run reaches past LBA28's 2^28 sectors (or when
// force_lba48 is set, which the tests use to exercise the 48-bit path on a small disk). A write
// returning means the drive has the data (a later read returns it), perhaps only in its cache; flush()
// (FLUSH CACHE) puts it on the medium. Swap does not flush: its contents need not outlive the boot, and
// under QEMU each flush is a host fsync, which made a swapped page cost about 4 ms.
#pragma once

#include "arch/i386/Ata.h"
#include "kernel/dev/BlockDevice.h"

class AtaDisk final : public BlockDevice {
public:
    AtaDisk(ata::Channel channel, const char* name) : m_channel(channel), m_name(name) {}

    // Resets the channel and identifies the master drive. Present: the disk is usable.
    ata::Probe probe();
    bool present() const { return m_present; }
    const ata::Identity& identity() const { return m_identity; }
    // What the probe ran into when it returned Failed.
    const ata::Result& probe_result() const { return m_probe_result; }

    // Use the 48-bit commands for every request (only when the disk supports them). Returns the old value.
    bool force_lba48(bool on);
    // Would a run of `count` sectors at `lba` go out as LBA48?
    bool uses_lba48(u64 lba, u32 count) const;

    const char* name() const override { return m_name; }
    u32 sector_size() const override { return ata::kSectorSize; }
    u64 sector_count() const override { return m_present ? m_identity.sectors() : 0; }
    ErrorOr<void> flush() override;

private:
    ErrorOr<void> read_sectors(u64 lba, u32 count, void* buffer) override;
    ErrorOr<void> write_sectors(u64 lba, u32 count, const void* buffer) override;
    Error fail_with(const char* operation, u64 lba, u32 count, const ata::Result& result);

    ata::Channel m_channel;
    const char* m_name;
    ata::Identity m_identity;
    ata::Result m_probe_result;
    bool m_present = false;
    bool m_force_lba48 = false;
};

namespace ata_disk {

// Probes the primary master and prints the boot line ("ide0: QEMU HARDDISK, 64 MiB, LBA48").
void initialize();
// ide0 (its present() says whether a disk answered).
AtaDisk& primary();

}  // namespace ata_disk
