// SwapArea.cpp: the swap space on a block device (see SwapArea.h).
#include "kernel/swap/SwapArea.h"

#include <new>
#include <stdarg.h>

#include "kernel/dev/Console.h"
#include "kernel/mm/PhysicalMemory.h"
#include "libc/base/Format.h"
#include "libc/base/MemoryLayout.h"
#include "libc/rt/String.h"

namespace swap_area {
namespace {

BlockDevice* g_disk = nullptr;
SwapSlotMap* g_slots = nullptr;
alignas(SwapSlotMap) u8 g_slots_storage[sizeof(SwapSlotMap)];
char g_last_error[240] = "";

// The header in slot 0: what `xxd -l 64 build/disk.img` shows after a boot with swapping on.
struct Header {
    char magic[10];  // "MNEMESWAP\0"
    u16 version;
    u32 slot_count;
    u32 page_size;
};

__attribute__((format(printf, 1, 2))) void remember(const char* format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vformat_to_buffer(g_last_error, sizeof(g_last_error), format, arguments);
    va_end(arguments);
}


}  // namespace

ErrorOr<void> initialize(BlockDevice& disk) {
    u64 slots64 = disk.sector_count() / kSectorsPerSlot;
    if (slots64 < 2) {
        remember("%s holds %llu sectors, too few for one 4 KiB slot beside the header", disk.name(),
                 static_cast<unsigned long long>(disk.sector_count()));
        return Error::Invalid;
    }
    // Slot numbers live in the 31 payload bits of a not-present entry; the map's u16 counts cap the rest.
    u32 slot_count = slots64 > SwapSlotMap::kMaxSlots ? SwapSlotMap::kMaxSlots : static_cast<u32>(slots64);
    size_t bytes = SwapSlotMap::bytes_needed(slot_count);
    auto block = pmm::allocate(pmm::order_for(bytes));
    if (block.is_error()) {
        remember("no %zu KiB of memory for the slot map of %u slots", bytes / KiB, slot_count);
        return Error::NoMemory;
    }
    auto* memory = static_cast<u8*>(pmm::frame_pointer(block.value()));
    g_slots = new (g_slots_storage) SwapSlotMap(Span<u8>(memory, bytes), slot_count);

    alignas(4) static u8 page[kPageSize];
    memset(page, 0, sizeof(page));
    Header header{};
    memcpy(header.magic, "MNEMESWAP", 10);
    header.version = 1;
    header.slot_count = slot_count;
    header.page_size = kPageSize;
    memcpy(page, &header, sizeof(header));
    g_disk = &disk;
    if (disk.write(0, kSectorsPerSlot, page).is_error()) {
        remember("the header could not be written: %s", disk.last_error());
        g_disk = nullptr;
        pmm::free(block.value(), pmm::order_for(bytes));
        g_slots = nullptr;
        return Error::IO;
    }
    return {};
}

bool ready() { return g_disk != nullptr; }

ErrorOr<u32> allocate() { return g_slots->allocate(); }
ErrorOr<void> add_reference(u32 slot) { return g_slots->add_reference(slot); }
u32 release(u32 slot) { return g_slots->release(slot); }
u32 references(u32 slot) { return g_slots->references(slot); }

ErrorOr<void> write(u32 slot, const void* page) {
    if (g_disk->write(u64(slot) * kSectorsPerSlot, kSectorsPerSlot, page).is_error()) {
        remember("writing swap slot %u failed: %s", slot, g_disk->last_error());
        g_slots->mark_bad(slot);
        return Error::IO;
    }
    return {};
}

ErrorOr<void> read(u32 slot, void* page) {
    if (g_disk->read(u64(slot) * kSectorsPerSlot, kSectorsPerSlot, page).is_error()) {
        remember("reading swap slot %u failed: %s", slot, g_disk->last_error());
        g_slots->mark_bad(slot);
        return Error::IO;
    }
    return {};
}

const SwapSlotMap& slots() { return *g_slots; }
BlockDevice& device() { return *g_disk; }
const char* last_error() { return g_last_error; }

void print_summary() {
    if (!ready()) {
        kprintf("Swap area: none (%s)\n", g_last_error[0] ? g_last_error : "no disk");
        return;
    }
    const SwapSlotMap& map = *g_slots;
    kprintf("Swap area on %s: %u slots of 4 KiB (%u MiB), %u in use, %u free, %u bad\n", g_disk->name(),
            map.slot_count() - 1, (map.slot_count() - 1) / 256, map.used_slots(), map.free_slots(), map.bad_slots());
    map.dump(console::sink, nullptr);
    const BlockDevice::Statistics& io = g_disk->statistics();
    kprintf("Disk I/O: %llu reads (%llu sectors), %llu writes (%llu sectors), %llu errors\n",
            static_cast<unsigned long long>(io.reads), static_cast<unsigned long long>(io.sectors_read),
            static_cast<unsigned long long>(io.writes), static_cast<unsigned long long>(io.sectors_written),
            static_cast<unsigned long long>(io.errors));
}

}  // namespace swap_area
