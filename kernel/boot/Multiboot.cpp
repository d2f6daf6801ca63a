// Multiboot.cpp: reading and printing the multiboot information.
#include "kernel/boot/Multiboot.h"

#include "kernel/boot/Layout.h"
#include "kernel/dev/Console.h"
#include "libc/rt/String.h"

namespace multiboot {
namespace {

const Info* g_info = nullptr;

// The early page tables map the first 16 MiB; the loader's data must be there until the direct map of
// all memory exists.
constexpr u32 kEarlyMappedLimit = 16 * MiB;

template <typename T>
const T* at(u32 physical) {
    return layout::physical_pointer<const T>(physical);
}

void print_size(u64 bytes) {
    if (bytes >= 10 * static_cast<u64>(MiB))
        kprintf("%6u MiB", static_cast<unsigned>(bytes / MiB));
    else
        kprintf("%6u KiB", static_cast<unsigned>(bytes / KiB));
}

}  // namespace

const char* region_type_name(u32 type) {
    switch (static_cast<RegionType>(type)) {
    case RegionType::Available: return "available";
    case RegionType::Reserved: return "reserved";
    case RegionType::AcpiReclaimable: return "ACPI reclaimable";
    case RegionType::AcpiNvs: return "ACPI NVS";
    case RegionType::BadMemory: return "bad memory";
    }
    return "reserved (other)";
}

bool initialize(u32 magic, u32 info_physical) {
    if (magic != kBootloaderMagic) {
        kwarn("boot",
              "not started by a multiboot loader (EAX = 0x%08x, expected 0x%08x): no memory map, "
              "no command line, no modules",
              magic, kBootloaderMagic);
        return false;
    }
    if (info_physical >= kEarlyMappedLimit - sizeof(Info)) {
        kwarn("boot", "multiboot information at 0x%08x lies above the early-mapped 16 MiB; ignored", info_physical);
        return false;
    }
    g_info = at<Info>(info_physical);
    return true;
}

const Info& info() { return *g_info; }

const char* command_line() {
    if (!g_info || !(g_info->flags & kFlagCommandLine) || g_info->cmdline >= kEarlyMappedLimit) return nullptr;
    return at<char>(g_info->cmdline);
}

const char* loader_name() {
    if (!g_info || !(g_info->flags & kFlagLoaderName) || g_info->boot_loader_name >= kEarlyMappedLimit) return nullptr;
    return at<char>(g_info->boot_loader_name);
}

u32 module_count() {
    if (!g_info || !(g_info->flags & kFlagModules)) return 0;
    return g_info->mods_count;
}

const Module& module(u32 index) { return at<Module>(g_info->mods_addr)[index]; }

const char* module_name(u32 index) {
    u32 string = module(index).string;
    return string ? at<char>(string) : "";
}

const MemoryMapEntry* first_entry() {
    if (!g_info || !(g_info->flags & kFlagMemoryMap) || g_info->mmap_length == 0) return nullptr;
    return at<MemoryMapEntry>(g_info->mmap_addr);
}

const MemoryMapEntry* next_entry(const MemoryMapEntry* entry) {
    uptr next = reinterpret_cast<uptr>(entry) + entry->size + sizeof(entry->size);
    uptr end = layout::physical_to_virtual(g_info->mmap_addr) + g_info->mmap_length;
    return next + sizeof(MemoryMapEntry) <= end ? reinterpret_cast<const MemoryMapEntry*>(next) : nullptr;
}

u64 total_available_bytes() {
    u64 total = 0;
    for_each_region([&](const MemoryMapEntry& e) {
        if (e.type == static_cast<u32>(RegionType::Available)) total += e.length;
    });
    return total;
}

void print_memory_map() {
    if (!first_entry()) {
        kprintf("    (the loader gave no memory map)\n");
        return;
    }
    kprintf("    %-18s  %-18s  %10s  %s\n", "start", "end (inclusive)", "size", "type");
    u64 available = 0, reserved = 0;
    for_each_region([&](const MemoryMapEntry& e) {
        kprintf("    0x%016llx  0x%016llx  ", static_cast<unsigned long long>(e.base),
                static_cast<unsigned long long>(e.base + e.length - 1));
        print_size(e.length);
        kprintf("  %s\n", region_type_name(e.type));
        if (e.type == static_cast<u32>(RegionType::Available))
            available += e.length;
        else
            reserved += e.length;
    });
    kprintf("    total: %u KiB available, %u KiB reserved\n", static_cast<unsigned>(available / KiB),
            static_cast<unsigned>(reserved / KiB));
}

u32 loader_data_extents(PhysicalExtent* out, u32 capacity) {
    if (!g_info) return 0;
    u32 n = 0;
    auto add = [&](u64 start, u64 length) {
        if (length && n < capacity) out[n++] = PhysicalExtent{start, start + length};
    };
    u32 info_physical = static_cast<u32>(layout::virtual_to_physical(reinterpret_cast<uptr>(g_info)));
    add(info_physical, sizeof(Info));
    if (g_info->flags & kFlagMemoryMap) add(g_info->mmap_addr, g_info->mmap_length);
    if (const char* c = command_line()) add(g_info->cmdline, strlen(c) + 1);
    if (const char* l = loader_name()) add(g_info->boot_loader_name, strlen(l) + 1);
    if (module_count()) {
        add(g_info->mods_addr, module_count() * sizeof(Module));
        for (u32 i = 0; i < module_count(); ++i)
            if (module(i).string) add(module(i).string, strlen(module_name(i)) + 1);
    }
    return n;
}

}  // namespace multiboot
