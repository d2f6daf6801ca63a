// Multiboot.h: the information a multiboot v1 loader hands the kernel (Multiboot Specification 0.6.96,
// section 3.3 "Boot information format"): memory map, command line, modules, loader name.
//
// All addresses inside are physical. The kernel reads them through the direct map, so they must lie in
// mapped memory: the first 16 MiB early in boot (where GRUB and QEMU put them), all of low memory later.
#pragma once

#include "libc/base/Types.h"

namespace multiboot {

constexpr u32 kBootloaderMagic = 0x2BADB002;

struct [[gnu::packed]] Info {
    u32 flags;
    u32 mem_lower;  // KiB below 1 MiB            (flags bit 0)
    u32 mem_upper;  // KiB above 1 MiB            (flags bit 0)
    u32 boot_device;
    u32 cmdline;     // physical address of a C string (flags bit 2)
    u32 mods_count;  // (flags bit 3)
    u32 mods_addr;
    u32 syms[4];
    u32 mmap_length;  // (flags bit 6)
    u32 mmap_addr;
    u32 drives_length;
    u32 drives_addr;
    u32 config_table;
    u32 boot_loader_name;  // (flags bit 9)
};

constexpr u32 kFlagMemory = 1u << 0;
constexpr u32 kFlagCommandLine = 1u << 2;
constexpr u32 kFlagModules = 1u << 3;
constexpr u32 kFlagMemoryMap = 1u << 6;
constexpr u32 kFlagLoaderName = 1u << 9;

// One memory-map entry; `size` counts the bytes after itself, so entries are walked by size + 4.
struct [[gnu::packed]] MemoryMapEntry {
    u32 size;
    u64 base;
    u64 length;
    u32 type;  // 1 available, 3 ACPI reclaimable, 4 ACPI NVS, 5 bad RAM, other reserved
};

struct [[gnu::packed]] Module {
    u32 start;
    u32 end;  // one past the last byte
    u32 string;
    u32 reserved;
};

enum class RegionType : u32 { Available = 1, Reserved = 2, AcpiReclaimable = 3, AcpiNvs = 4, BadMemory = 5 };
const char* region_type_name(u32 type);

// Validates the magic and remembers the info block. Returns false (and says why) if the loader was not
// multiboot-compliant.
bool initialize(u32 magic, u32 info_physical);
const Info& info();
// Physical extent of the info block and everything it points to, for the page allocator to reserve.
struct PhysicalExtent {
    u64 start;
    u64 end;
};

const char* command_line();  // null when the loader gave none
const char* loader_name();   // null when the loader gave none
u32 module_count();
const Module& module(u32 index);
const char* module_name(u32 index);

// Calls `visit` for each non-empty memory-map entry, in the loader's order. Entries of length zero (qboot
// ends its map with one) are skipped.
template <typename Visitor>
void for_each_region(Visitor visit);

// Prints the memory map as a table with totals.
void print_memory_map();
u64 total_available_bytes();
// Every range of physical memory the loader's data lives in (info, mmap, cmdline, module list and names).
u32 loader_data_extents(PhysicalExtent* out, u32 capacity);

// -- template implementation --
const MemoryMapEntry* first_entry();
const MemoryMapEntry* next_entry(const MemoryMapEntry* entry);

template <typename Visitor>
void for_each_region(Visitor visit) {
    for (const MemoryMapEntry* e = first_entry(); e; e = next_entry(e))
        if (e->length != 0) visit(*e);
}

}  // namespace multiboot
