// DiskCommands.cpp: the monitor's view of the swap disk: `disk` (what IDENTIFY said, the counters) and
// `disk read LBA` (one sector as hex and ASCII).
#include "kernel/debug/Monitor.h"
#include "kernel/dev/AtaDisk.h"
#include "kernel/dev/Console.h"
#include "libc/rt/String.h"

namespace {

void show_disk(AtaDisk& disk) {
    const ata::Identity& id = disk.identity();
    kprintf("%s: primary channel master (ports 0x%03x-0x%03x, control 0x%03x), PIO with polling\n", disk.name(),
            ata::kPrimary.command_base, ata::kPrimary.command_base + 7, ata::kPrimary.control);
    kprintf("  model      %s\n  serial     %s\n  firmware   %s\n", id.model, id.serial, id.firmware);
    kprintf("  size       %llu sectors of %u bytes (%llu MiB)\n", static_cast<unsigned long long>(id.sectors()),
            disk.sector_size(), static_cast<unsigned long long>(id.sectors() * disk.sector_size() / MiB));
    kprintf("  addressing %s (%u sectors reachable with LBA28%s)\n", id.lba48 ? "LBA48" : "LBA28", id.lba28_sectors,
            id.lba48 ? "; 48-bit commands past them" : "");
    const BlockDevice::Statistics& s = disk.statistics();
    kprintf("  reads      %llu requests, %llu sectors\n", static_cast<unsigned long long>(s.reads),
            static_cast<unsigned long long>(s.sectors_read));
    kprintf("  writes     %llu requests, %llu sectors\n",
            static_cast<unsigned long long>(s.writes), static_cast<unsigned long long>(s.sectors_written));
    kprintf("  errors     %llu failed, %llu refused before any I/O\n", static_cast<unsigned long long>(s.errors),
            static_cast<unsigned long long>(s.refused));
    if (disk.last_error()[0]) kprintf("  last error %s\n", disk.last_error());
}

void dump_sector(const u8* data, u32 size, u64 lba) {
    for (u32 offset = 0; offset < size; offset += 16) {
        kprintf("%08llx ", static_cast<unsigned long long>(lba * size + offset));
        for (u32 i = 0; i < 16; ++i) kprintf("%s%02x", i == 8 ? "  " : " ", data[offset + i]);
        kprintf("  |");
        for (u32 i = 0; i < 16; ++i) {
            u8 c = data[offset + i];
            kprintf("%c", c >= 0x20 && c < 0x7F ? c : '.');
        }
        kprintf("|\n");
    }
}

}  // namespace

MONITOR_COMMAND(disk, "disk", "[read LBA]", "the IDE disk: model, size, addressing, counters; or one sector in hex") {
    AtaDisk& disk = ata_disk::primary();
    if (!disk.present()) {
        kprintf("%s: no disk on the primary channel (boot QEMU with tools/qemu.sh --disk IMAGE)\n", disk.name());
        return;
    }
    if (argc == 1) {
        show_disk(disk);
        return;
    }
    u32 lba = 0;
    if (argc != 3 || strcmp(argv[1], "read") != 0 || !monitor::parse_number(argv[2], lba)) {
        kprintf("usage: disk [read LBA]\n");
        return;
    }
    static u8 sector[ata::kSectorSize];
    auto result = disk.read(lba, 1, sector);
    if (result.is_error()) return;  // the device has logged the sentence
    kprintf("%s sector %u (byte offset 0x%llx):\n", disk.name(), lba,
            static_cast<unsigned long long>(u64{lba} * ata::kSectorSize));
    dump_sector(sector, ata::kSectorSize, lba);
}
