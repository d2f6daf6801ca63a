// Arena.cpp: the arena's memory, its map, compaction with the owners told, and the `arena` view.
#include "kernel/memmodel/Arena.h"

#include <new>

#include "kernel/boot/BootOptions.h"
#include "kernel/boot/Layout.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/PhysicalMemory.h"
#include "libc/base/Format.h"
#include "libc/base/MemoryLayout.h"
#include "libc/rt/String.h"
#include "mm/vm/UserLayout.h"

namespace arena {
namespace {

// Up to kMaxProcesses processes with a few segments each.
constexpr u32 kCapacity = 192;
// The memory a machine needs to get an arena (kDefaultBytes) when the boot options do not size it.
constexpr u64 kDefaultMinimumMemory = 12ull * 1024 * 1024;
ArenaBlock g_storage[kCapacity];
alignas(ArenaMap) u8 g_map_storage[sizeof(ArenaMap)];
ArenaMap* g_map = nullptr;
u32 g_physical = 0;
bool g_logging = false;
u32 g_sequence = 0;
RollOutHandler g_roll_out = nullptr;

ArenaClient* client_of(u32 owner) { return reinterpret_cast<ArenaClient*>(static_cast<uptr>(owner)); }
u32 owner_of(ArenaClient* client) { return static_cast<u32>(reinterpret_cast<uptr>(client)); }

void kib(char* buffer, u32 size, u32 bytes) {
    if (bytes % 1024 == 0)
        format_to_buffer(buffer, size, "%u KiB", bytes / 1024);
    else
        format_to_buffer(buffer, size, "%u bytes", bytes);
}

// arenalog=1: one line per event, key=value, decimal, so a script can read it with awk alone (Arena.h).
// `what` is the event's own fields ("off=... size=..."); the totals after it follow.
void log_event(const char* op, const char* what) {
    if (!g_logging) return;
    ArenaStatistics s = g_map->statistics();
    kprintf("arenalog: seq=%u op=%s %s free=%u largest=%u holes=%u used=%u frag=%u\n", g_sequence++, op, what,
            s.free_bytes, s.largest_hole, s.holes, s.used_bytes, fragmentation_per_mille(s));
}

i32 pid_of(u32 owner) { return owner ? client_of(owner)->arena_pid() : 0; }

void log_move(u32 from, u32 to, u32 size, u32 owner) {
    if (!g_logging) return;
    char what[80];
    format_to_buffer(what, sizeof(what), "off=%u size=%u pid=%d from=%u", to, size, pid_of(owner), from);
    log_event("move", what);
}

// Moves one segment down to `to`: copies its bytes, tells its owner, records it in the map.
void move_segment(const ArenaBlock& block, u32 to, bool report) {
    ArenaBlock copy = block;
    memmove(kernel_pointer(to), kernel_pointer(copy.address), copy.size);
    g_map->release(copy.address);
    auto placed = g_map->allocate_at(to, copy.size, copy.owner);
    VERIFY(!placed.is_error());  // [to, to + size) was the hole below it plus its own old bytes
    client_of(copy.owner)->arena_moved(copy.address, to);
    log_move(copy.address, to, copy.size, copy.owner);
    if (!report) return;
    char who[64];
    client_of(copy.owner)->arena_describe(who, sizeof(who));
    char bytes[24];
    kib(bytes, sizeof(bytes), copy.size);
    kprintf("[arena] compaction: %s moved from offset 0x%06x to 0x%06x (%s copied)\n", who, copy.address, to, bytes);
}

}  // namespace

void reserve(u32 bytes, FitPolicy policy) {
    if (bytes == BootOptions::kArenaDefault) {
        // A small machine keeps its memory for paged processes (the user tests at 8 MiB need every frame);
        // there, the older models are one boot option away.
        u64 memory = pmm::available_bytes();
        if (memory < kDefaultMinimumMemory) {
            klog("arena", "none by default with %u MiB of memory (under %u MiB, paging needs it all); boot with "
                 "arena=1M or more to run the older memory models", static_cast<u32>(memory >> 20),
                 static_cast<u32>(kDefaultMinimumMemory >> 20));
            return;
        }
        bytes = kDefaultBytes;
    }
    if (bytes == 0) {
        klog("arena", "off (arena=0): the older memory models (static, base-bounds, segments) cannot run");
        return;
    }
    auto physical = pmm::boot_allocate(bytes, layout::kDirectMapLimit, "arena (older memory models)");
    if (physical.is_error()) {
        kwarn("arena", "cannot take %u KiB of contiguous memory (%s); the older memory models cannot run. "
              "Boot with a smaller arena= or more memory", bytes / 1024, error_string(physical.error()));
        return;
    }
    g_physical = static_cast<u32>(physical.value());
    g_map = new (g_map_storage) ArenaMap(0, bytes, kPageSize, policy, g_storage, kCapacity);
    memset(kernel_pointer(0), 0, bytes);
    klog("arena", "%u KiB at physical 0x%08x, seen by its processes at 0x%08x; placement: %s fit", bytes / 1024,
         g_physical, user_layout::kArenaWindow, fit_policy_name(policy));
}

bool is_ready() { return g_map != nullptr; }
void set_roll_out_handler(RollOutHandler handler) { g_roll_out = handler; }
u32 size() { return g_map ? g_map->size() : 0; }
u32 physical_base() { return g_physical; }
FitPolicy policy() { return g_map ? g_map->policy() : FitPolicy::First; }
void set_policy(FitPolicy policy) {
    if (g_map) g_map->set_policy(policy);
}
void set_logging(bool on) { g_logging = on; }

u8* kernel_pointer(u32 offset) { return layout::physical_pointer<u8>(g_physical + offset); }
u32 linear(u32 offset) { return user_layout::kArenaWindow + offset; }

ErrorOr<u32, ExplainedError> allocate(u32 bytes, ArenaClient* client, bool may_roll_out) {
    using Result = ErrorOr<u32, ExplainedError>;
    if (!g_map) return Result(Error::NoMemory, "there is no arena (arena=0, under 12 MiB of memory by default, or no room for it: boot with arena=SIZE)");
    u32 rounded = align_up<u32>(bytes, kPageSize);
    if (rounded == 0 || rounded > g_map->size())
        return Result(Error::NoMemory, "%u KiB is more than the whole arena (%u KiB; boot option arena=)",
                      rounded / 1024, g_map->size() / 1024);
    auto try_place = [&]() -> ErrorOr<u32> {
        auto placed = g_map->allocate(rounded, owner_of(client));
        if (!placed.is_error() || placed.error() != Error::NoMemory) return placed;
        ArenaStatistics s = g_map->statistics();
        if (s.free_bytes < rounded) return placed;
        kprintf("[arena] no hole holds %u KiB although %u KiB are free (largest hole %u KiB, %u holes, "
                    "fragmentation %u.%u%%): compacting\n",
                    rounded / 1024, s.free_bytes / 1024, s.largest_hole / 1024, s.holes,
                    fragmentation_per_mille(s) / 10, fragmentation_per_mille(s) % 10);
        compact();
        return g_map->allocate(rounded, owner_of(client));
    };
    // When compaction cannot make room: roll processes out, one at a time, until a hole holds the request.
    const char* why_not = "nothing rolls processes out";
    auto place_rolling_out = [&]() -> ErrorOr<u32> {
        for (;;) {
            auto placed = try_place();
            if (!placed.is_error() || placed.error() != Error::NoMemory || !g_roll_out || !may_roll_out) {
                if (!may_roll_out) why_not = "not tried";
                return placed;
            }
            if (!g_roll_out(rounded, &why_not)) return placed;
        }
    };
    auto placed = place_rolling_out();
    char what[80];
    if (placed.is_error()) {
        format_to_buffer(what, sizeof(what), "off=none size=%u pid=%d", rounded, client->arena_pid());
        log_event("fail", what);
        ArenaStatistics s = g_map->statistics();
        if (placed.error() != Error::NoMemory)
            return Result(placed.error(), "the arena's table of segments is full (%u)", kCapacity);
        return Result(Error::NoMemory,
                      "no room in the arena for %u KiB: %u KiB free in %u hole%s, the largest %u KiB, after "
                      "compaction; no process can be rolled out: %s",
                      rounded / 1024, s.free_bytes / 1024, s.holes, s.holes == 1 ? "" : "s", s.largest_hole / 1024,
                      why_not);
    }
    format_to_buffer(what, sizeof(what), "off=%u size=%u pid=%d", placed.value(), rounded, client->arena_pid());
    log_event("place", what);
    memset(kernel_pointer(placed.value()), 0, rounded);
    return placed.value();
}

bool resize_in_place(u32 offset, u32 new_bytes) {
    const ArenaBlock* block = g_map->find(offset);
    VERIFY(block);
    u32 old_size = block->size;
    u32 rounded = align_up<u32>(new_bytes, kPageSize);
    if (!g_map->resize_in_place(offset, rounded)) return false;
    if (rounded > old_size) memset(kernel_pointer(offset + old_size), 0, rounded - old_size);
    if (g_logging && rounded != old_size) {
        char what[80];
        format_to_buffer(what, sizeof(what), "off=%u size=%u pid=%d old=%u", offset, rounded,
                         pid_of(g_map->find(offset)->owner), old_size);
        log_event("resize", what);
    }
    return true;
}

void release(u32 offset) {
    // The block's size and owner for the log, read before it goes.
    const ArenaBlock* block = g_map->find(offset);
    u32 size = block ? block->size : 0;
    i32 pid = block ? pid_of(block->owner) : 0;
    g_map->release(offset);
    if (g_logging) {
        char what[80];
        format_to_buffer(what, sizeof(what), "off=%u size=%u pid=%d", offset, size, pid);
        log_event("free", what);
    }
}

u32 compact(bool report) {
    if (!g_map) return 0;
    // A copy of the block list: moving a block changes the map under the loop.
    ArenaBlock blocks[kCapacity];
    u32 count = g_map->block_count();
    for (u32 i = 0; i < count; ++i) blocks[i] = g_map->block(i);
    u32 cursor = 0, moved = 0, pinned = 0, moves = 0;
    for (u32 i = 0; i < count; ++i) {
        if (!client_of(blocks[i].owner)->arena_movable()) {
            // Static relocation: it stays, and the next segment slides down to just above it.
            ++pinned;
            cursor = blocks[i].address + blocks[i].size;
            continue;
        }
        if (blocks[i].address != cursor) {
            move_segment(blocks[i], cursor, report);
            moved += blocks[i].size;
            ++moves;
        }
        cursor += blocks[i].size;
    }
    if (g_logging) {
        char what[48];
        format_to_buffer(what, sizeof(what), "moved=%u moves=%u", moved, moves);
        log_event("compact", what);
    }
    if (!report) return moved;
    ArenaStatistics s = g_map->statistics();
    char bytes[24];
    kib(bytes, sizeof(bytes), moved);
    kprintf("[arena] compaction copied %s; now %u KiB free in %u hole%s, the largest %u KiB%s\n", bytes,
            s.free_bytes / 1024, s.holes, s.holes == 1 ? "" : "s", s.largest_hole / 1024,
            pinned ? " (segments placed by static relocation cannot move)" : "");
    return moved;
}

namespace {

void reverse_bytes(u32 from, u32 to) {
    u8* a = kernel_pointer(from);
    u8* b = kernel_pointer(to) - 1;
    while (a < b) {
        u8 t = *a;
        *a++ = *b;
        *b-- = t;
    }
}

}  // namespace

bool move_to_top(ArenaClient* client, u32 needed) {
    ArenaStatistics s = g_map->statistics();
    const ArenaBlock* own = nullptr;
    g_map->for_each_block([&](const ArenaBlock& b) {
        if (b.owner == owner_of(client)) own = &b;
    });
    VERIFY(own);
    if (s.free_bytes + own->size < needed) return false;
    kprintf("[arena] a segment must grow to %u KiB: %u KiB free in %u hole(s), the largest %u KiB: compacting\n",
            needed / 1024, s.free_bytes / 1024, s.holes, s.largest_hole / 1024);
    compact();
    // After compaction the used space is one run from offset 0 (static segments aside). Rotate the part from
    // the growing segment to the end of the run so that it comes last, with all free space after it: reverse
    // each part, then the whole (the three-reversal rotation, Bentley, "Programming Pearls", column 2).
    ArenaBlock blocks[kCapacity];
    u32 count = g_map->block_count(), index = count;
    for (u32 i = 0; i < count; ++i) {
        blocks[i] = g_map->block(i);
        if (blocks[i].owner == owner_of(client)) index = i;
    }
    VERIFY(index < count);
    for (u32 i = index; i < count; ++i)
        if (!client_of(blocks[i].owner)->arena_movable() || (i > index && blocks[i].address != blocks[i - 1].address +
                                                                                            blocks[i - 1].size))
            return false;  // a static segment (or a gap) in the way
    if (index == count - 1) return true;  // last already
    u32 start = blocks[index].address, middle = start + blocks[index].size;
    u32 end = blocks[count - 1].address + blocks[count - 1].size;
    reverse_bytes(start, middle);
    reverse_bytes(middle, end);
    reverse_bytes(start, end);
    for (u32 i = index; i < count; ++i) g_map->release(blocks[i].address);
    u32 cursor = start;
    for (u32 i = index + 1; i < count; ++i) {
        VERIFY(!g_map->allocate_at(cursor, blocks[i].size, blocks[i].owner).is_error());
        client_of(blocks[i].owner)->arena_moved(blocks[i].address, cursor);
        cursor += blocks[i].size;
    }
    VERIFY(!g_map->allocate_at(cursor, blocks[index].size, blocks[index].owner).is_error());
    client_of(blocks[index].owner)->arena_moved(blocks[index].address, cursor);
    if (g_logging) {
        // Logged once all are back in the map, so each line's totals are the arena's after the rotation.
        u32 to = start;
        for (u32 i = index + 1; i < count; ++i) {
            log_move(blocks[i].address, to, blocks[i].size, blocks[i].owner);
            to += blocks[i].size;
        }
        log_move(blocks[index].address, to, blocks[index].size, blocks[index].owner);
        char what[32];
        format_to_buffer(what, sizeof(what), "moved=%u", end - start);
        log_event("rotate", what);
    }
    char who[64];
    client->arena_describe(who, sizeof(who));
    kprintf("[arena] %s moved above the %u segment%s after it (offset 0x%06x to 0x%06x; %u KiB rotated) so it can "
            "grow in place\n",
            who, count - 1 - index, count - 1 - index == 1 ? "" : "s", start, cursor, (end - start) / 1024);
    return true;
}

ArenaStatistics statistics() { return g_map ? g_map->statistics() : ArenaStatistics{}; }

void print() {
    if (!g_map) {
        kprintf("no arena (boot option arena=0, or no memory for it)\n");
        return;
    }
    // One character per page, up to 128 per line.
    u32 pages = g_map->size() / kPageSize;
    u32 per_char = (pages + 127) / 128;
    kprintf("arena: %u KiB at physical 0x%08x, linear 0x%08x, %s fit; one character = %u KiB\n  |",
            g_map->size() / 1024, g_physical, user_layout::kArenaWindow, fit_policy_name(g_map->policy()),
            per_char * kPageSize / 1024);
    for (u32 page = 0; page < pages; page += per_char) {
        const ArenaBlock* block = g_map->block_containing(page * kPageSize);
        char c = '.';
        if (block) {
            i32 pid = client_of(block->owner)->arena_pid();
            c = pid > 0 ? static_cast<char>('0' + pid % 10) : '#';
        }
        kprintf("%c", c);
    }
    kprintf("|\n");
    g_map->for_each_block([](const ArenaBlock& block) {
        char who[64];
        client_of(block.owner)->arena_describe(who, sizeof(who));
        kprintf("  0x%06x-0x%06x  %5u KiB  %s\n", block.address, block.address + block.size, block.size / 1024, who);
    });
    ArenaStatistics s = g_map->statistics();
    u32 f = fragmentation_per_mille(s);
    kprintf("  used %u KiB in %u segment%s; free %u KiB in %u hole%s, the largest %u KiB; fragmentation %u.%u%% "
            "(1 - largest hole / free)\n",
            s.used_bytes / 1024, s.blocks, s.blocks == 1 ? "" : "s", s.free_bytes / 1024, s.holes,
            s.holes == 1 ? "" : "s", s.largest_hole / 1024, f / 10, f % 10);
}

bool check() { return !g_map || g_map->check_invariants(); }

}  // namespace arena
