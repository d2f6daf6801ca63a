// Initrd.cpp: locating, validating and searching the initrd archive.
#include "kernel/proc/Initrd.h"

#include "kernel/boot/Layout.h"
#include "kernel/boot/Multiboot.h"
#include "kernel/debug/Monitor.h"
#include "kernel/dev/Console.h"
#include "libc/rt/String.h"

namespace initrd {
namespace {
const u8* g_archive = nullptr;
size_t g_size = 0;
}  // namespace

void initialize() {
    if (multiboot::module_count() == 0) {
        kwarn("initrd", "no initrd module: no programs to run (QEMU: -initrd build/initrd.tar; GRUB: module line)");
        return;
    }
    const multiboot::Module& m = multiboot::module(0);
    if (m.end <= m.start || m.end > layout::kDirectMapLimit) {
        kwarn("initrd", "module 0 at 0x%08x-0x%08x is empty or outside the direct map; ignored", m.start, m.end);
        return;
    }
    const u8* archive = layout::physical_pointer<const u8>(m.start);
    size_t size = m.end - m.start;
    UstarReader reader(archive, size);
    UstarMember member;
    u32 files = 0, bytes = 0;
    while (reader.next(member)) {
        if (!member.is_file()) continue;
        ++files;
        bytes += member.size;
    }
    if (reader.error() != Error::None) {
        kwarn("initrd", "the archive is damaged: %s. No programs can be started from it.", reader.error_message());
        return;
    }
    g_archive = archive;
    g_size = size;
    klog("initrd", "ustar archive at 0x%08x: %u files, %u KiB", m.start, files, bytes / 1024);
}

bool present() { return g_archive != nullptr; }

ErrorOr<UstarMember> find_program(const char* path) {
    if (!g_archive || !*path) return Error::NoEntry;
    char full[128];
    if (!strchr(path, '/'))
        format_to_buffer(full, sizeof(full), "bin/%s", path);
    else
        format_to_buffer(full, sizeof(full), "%s", path);
    auto member = UstarReader::find(g_archive, g_size, full);
    if (member.is_error()) return member.error();
    if (!member.value().is_file()) return Error::AccessDenied;
    return member;
}

void list() {
    if (!g_archive) {
        kprintf("no initrd\n");
        return;
    }
    UstarReader reader(g_archive, g_size);
    UstarMember member;
    while (reader.next(member)) kprintf("  %c %8u  %s\n", member.is_directory() ? 'd' : '-', member.size, member.name);
}

}  // namespace initrd

MONITOR_COMMAND(ls, "ls", "", "the files in the initrd") { initrd::list(); }
