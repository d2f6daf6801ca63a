// DiskTests.cpp: the IDE disk (ide0) through the BlockDevice interface, on QEMU's emulated drive.
//
// Without a disk every test prints a note and passes: "no disk" is a normal configuration, covered by the
// scenarios that boot without one. With a disk (tools/run-tests.sh gives the main run a fresh image) the
// tests write patterns to a scratch area, read them back, and restore what was there, so running them from
// the monitor (`ktest disk`) leaves a disk as it found it.
//
// disk_fault runs only with diskfault=LBA on the command line, in the scenario whose QEMU fails one read
// of that sector through blkdebug (tools/run-tests.sh).
#include "kernel/boot/BootOptions.h"
#include "kernel/debug/KTest.h"
#include "kernel/dev/AtaDisk.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "libc/base/Assert.h"
#include "libc/base/Format.h"
#include "libc/rt/String.h"

namespace {

constexpr u32 kSector = ata::kSectorSize;
constexpr u64 kScratchLba = 2048;  // 1 MiB into the disk, clear of anything a boot sector would hold
constexpr u32 kLongRun = 300;      // more than one command's 256 sectors

// The test's buffers, from the kernel heap (450 KiB of .bss would be taken from every machine, 8 MiB ones
// too, whether or not a disk is attached).
struct Buffers {
    Buffers()
        : saved(static_cast<u8*>(kmalloc(kLongRun * kSector))),
          pattern(static_cast<u8*>(kmalloc(kLongRun * kSector))),
          readback(static_cast<u8*>(kmalloc(kLongRun * kSector))) {}
    ~Buffers() {
        kfree(saved);
        kfree(pattern);
        kfree(readback);
    }
    bool ok() const { return saved && pattern && readback; }
    MNEME_NONCOPYABLE(Buffers);

    u8* saved;  // what was in the scratch area
    u8* pattern;
    u8* readback;
};

#define FAIL_WITH(what) ktest::report_failure(what, __FILE__, __LINE__)

AtaDisk* disk_or_note(const char* test) {
    AtaDisk& disk = ata_disk::primary();
    if (disk.present()) return &disk;
    kprintf("     disk.%s: skipped: no disk attached (tools/qemu.sh --disk IMAGE)\n", test);
    return nullptr;
}

// A pattern that differs in every sector and every byte position, and between calls (`seed`), so a
// sector written to the wrong place or a stale read cannot match.
void fill_pattern(u8* buffer, u64 lba, u32 count, u32 seed) {
    for (u32 s = 0; s < count; ++s)
        for (u32 i = 0; i < kSector; ++i)
            buffer[s * kSector + i] = static_cast<u8>((lba + s) * 31 + i * 7 + seed * 13 + (i >> 8));
}

// Writes a fresh pattern to `count` sectors at `lba`, reads them back and compares; restores the old
// contents. Returns false (with the failure recorded) on any mismatch or error.
bool round_trip(AtaDisk& disk, u64 lba, u32 count, u32 seed) {
    VERIFY(count <= kLongRun);
    Buffers b;
    if (!b.ok()) {
        FAIL_WITH("kmalloc of the test buffers");
        return false;
    }
    size_t bytes = count * kSector;
    if (disk.read(lba, count, b.saved).is_error()) {
        FAIL_WITH("reading the scratch area");
        return false;
    }
    fill_pattern(b.pattern, lba, count, seed);
    memset(b.readback, 0, bytes);
    bool ok = true;
    if (disk.write(lba, count, b.pattern).is_error()) {
        FAIL_WITH("writing the pattern");
        ok = false;
    } else if (disk.flush().is_error()) {
        FAIL_WITH("flushing the drive's cache (FLUSH CACHE)");
        ok = false;
    } else if (disk.read(lba, count, b.readback).is_error()) {
        FAIL_WITH("reading the pattern back");
        ok = false;
    } else if (memcmp(b.pattern, b.readback, bytes) != 0) {
        FAIL_WITH("the pattern read back equals the pattern written");
        for (u32 s = 0; s < count; ++s)
            if (memcmp(b.pattern + s * kSector, b.readback + s * kSector, kSector) != 0) {
                kprintf("     first sector that came back different: LBA %llu\n",
                        static_cast<unsigned long long>(lba + s));
                break;
            }
        ok = false;
    }
    if (disk.write(lba, count, b.saved).is_error()) {
        FAIL_WITH("restoring the scratch area");
        ok = false;
    }
    return ok;
}

}  // namespace

KTEST(disk, identify_is_sane) {
    AtaDisk* disk = disk_or_note("identify_is_sane");
    if (!disk) return;
    const ata::Identity& id = disk->identity();
    EXPECT_GT(strlen(id.model), 0u);
    EXPECT(id.model[strlen(id.model) - 1] != ' ');  // trailing padding trimmed
    EXPECT_EQ(disk->sector_size(), 512u);
    EXPECT_GT(disk->sector_count(), 0u);
    // The LBA28 count saturates at 2^28 - 1; below that both counts describe the same disk.
    EXPECT_LE(u64{id.lba28_sectors}, disk->sector_count());
    EXPECT_LT(disk->sector_count(), ata::kLba48Limit);
    if (id.lba48 && id.lba48_sectors < ata::kLba28Limit) EXPECT_EQ(u64{id.lba28_sectors}, id.lba48_sectors);
    // QEMU's emulated drive, which the test scripts attach.
    EXPECT_EQ(strncmp(id.model, "QEMU HARDDISK", 13), 0);
}

KTEST(disk, single_sector_round_trip) {
    AtaDisk* disk = disk_or_note("single_sector_round_trip");
    if (!disk) return;
    u64 reads = disk->statistics().reads;
    EXPECT(round_trip(*disk, kScratchLba, 1, 1));
    EXPECT(round_trip(*disk, disk->sector_count() - 1, 1, 2));  // the last sector
    EXPECT_EQ(disk->statistics().reads, reads + 4);             // each round trip: save, read back
}

KTEST(disk, page_sized_round_trip) {
    AtaDisk* disk = disk_or_note("page_sized_round_trip");
    if (!disk) return;
    EXPECT(round_trip(*disk, kScratchLba + 8, 8, 3));  // one 4 KiB page: what swap will move
}

KTEST(disk, run_longer_than_one_command) {
    AtaDisk* disk = disk_or_note("run_longer_than_one_command");
    if (!disk) return;
    // 300 sectors go out as 256 + 44: the split must not shift or drop a sector.
    EXPECT(round_trip(*disk, kScratchLba + 100, kLongRun, 4));
}

KTEST(disk, lba48_commands_address_the_same_sectors) {
    AtaDisk* disk = disk_or_note("lba48_commands_address_the_same_sectors");
    if (!disk) return;
    if (!disk->identity().lba48) {
        kprintf("     disk.lba48_commands_address_the_same_sectors: skipped: the disk has no 48-bit commands\n");
        return;
    }
    // The disk is far below 2^28 sectors, so force the EXT commands on a small LBA. An LBA whose bits
    // spread over all three low address registers catches a register written in the wrong order.
    constexpr u64 kLba = 0x10203;
    ASSERT_LT(kLba + 8, disk->sector_count());
    EXPECT(!disk->uses_lba48(kLba, 8));
    bool was = disk->force_lba48(true);
    EXPECT(disk->uses_lba48(kLba, 8));
    EXPECT(round_trip(*disk, kLba, 8, 5));
    // Written with WRITE SECTORS EXT, read with READ SECTORS: the same place.
    Buffers b;
    ASSERT(b.ok());
    fill_pattern(b.pattern, kLba, 2, 6);
    ASSERT(!disk->read(kLba, 2, b.saved).is_error());
    EXPECT(!disk->write(kLba, 2, b.pattern).is_error());
    disk->force_lba48(false);
    EXPECT(!disk->read(kLba, 2, b.readback).is_error());
    EXPECT_EQ(memcmp(b.pattern, b.readback, 2 * kSector), 0);
    disk->force_lba48(true);
    EXPECT(!disk->read(kLba, 2, b.readback).is_error());  // and READ SECTORS EXT agrees
    EXPECT_EQ(memcmp(b.pattern, b.readback, 2 * kSector), 0);
    EXPECT(!disk->write(kLba, 2, b.saved).is_error());
    disk->force_lba48(was);
}

KTEST(disk, out_of_range_is_refused_without_io) {
    AtaDisk* disk = disk_or_note("out_of_range_is_refused_without_io");
    if (!disk) return;
    Buffers b;
    ASSERT(b.ok());
    BlockDevice::Statistics before = disk->statistics();
    u64 end = disk->sector_count();
    auto past_end = disk->read(end, 1, b.readback);
    ASSERT(past_end.is_error());
    EXPECT_EQ(static_cast<int>(past_end.error()), static_cast<int>(Error::OutOfRange));
    EXPECT(strstr(disk->last_error(), "refused") != nullptr);
    auto straddling = disk->write(end - 1, 2, b.pattern);  // the first sector exists, the second does not
    ASSERT(straddling.is_error());
    EXPECT_EQ(static_cast<int>(straddling.error()), static_cast<int>(Error::OutOfRange));
    auto wrapping = disk->read(~u64{0}, 2, b.readback);  // lba + count wraps around 2^64
    EXPECT(wrapping.is_error());
    EXPECT_EQ(disk->statistics().reads, before.reads);
    EXPECT_EQ(disk->statistics().writes, before.writes);
    EXPECT_EQ(disk->statistics().refused, before.refused + 3);
}

KTEST(disk, zero_count_is_refused) {
    AtaDisk* disk = disk_or_note("zero_count_is_refused");
    if (!disk) return;
    Buffers b;
    ASSERT(b.ok());
    u64 reads = disk->statistics().reads;
    auto result = disk->read(kScratchLba, 0, b.readback);
    ASSERT(result.is_error());
    EXPECT_EQ(static_cast<int>(result.error()), static_cast<int>(Error::Invalid));
    EXPECT(disk->write(kScratchLba, 0, b.pattern).is_error());
    EXPECT_EQ(disk->statistics().reads, reads);
}

KTEST(disk_fault, read_error_is_reported_then_cleared) {
    u32 fault_lba = boot_options::get().disk_fault_lba;
    if (fault_lba == BootOptions::kNoDiskFault) {
        kprintf(
            "     disk_fault.read_error_is_reported_then_cleared: skipped: boot with diskfault=LBA under "
            "blkdebug\n");
        return;
    }
    AtaDisk& disk = ata_disk::primary();
    ASSERT(disk.present());
    Buffers b;
    ASSERT(b.ok());
    u64 errors = disk.statistics().errors;
    // A run that contains the failing sector: the error names it, the command and the drive's registers.
    auto failed = disk.read(fault_lba - 2, 4, b.readback);
    ASSERT(failed.is_error());
    EXPECT_EQ(static_cast<int>(failed.error()), static_cast<int>(Error::IO));
    EXPECT_EQ(disk.statistics().errors, errors + 1);
    char expected[32];
    format_to_buffer(expected, sizeof(expected), "at LBA %u:", fault_lba);
    EXPECT(strstr(disk.last_error(), expected) != nullptr);
    EXPECT(strstr(disk.last_error(), "READ SECTORS") != nullptr);
    EXPECT(strstr(disk.last_error(), "ERR") != nullptr);
    EXPECT(strstr(disk.last_error(), "ABRT") != nullptr);
    // blkdebug fails the sector once: the drive has recovered and the same read now succeeds.
    EXPECT(!disk.read(fault_lba - 2, 4, b.readback).is_error());
    EXPECT(round_trip(disk, fault_lba, 1, 7));
}
