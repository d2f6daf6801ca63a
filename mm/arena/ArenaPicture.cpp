// ArenaPicture.cpp: the one-line picture of the arena (see ArenaPicture.h for the cell rule).
#include "mm/arena/ArenaPicture.h"

#include "libc/base/Assert.h"
#include "libc/base/Format.h"

char arena_owner_symbol(u32 owner) {
    constexpr char kSymbols[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    return kSymbols[owner % (sizeof(kSymbols) - 1)];
}

// What cell [start, end) shows: the owner symbol of the block holding most of it, or '.'.
static char cell_symbol(const ArenaMap& arena, u64 start, u64 end) {
    u64 best_overlap = 0;
    u64 used = 0;
    char symbol = '.';
    arena.for_each_block([&](const ArenaBlock& block) {
        u64 from = block.address > start ? block.address : start;
        u64 block_end = u64(block.address) + block.size;
        u64 to = block_end < end ? block_end : end;
        if (to <= from) return;
        used += to - from;
        if (to - from > best_overlap) {
            best_overlap = to - from;
            symbol = arena_owner_symbol(block.owner);
        }
    });
    u64 free = (end - start) - used;
    return best_overlap >= free && best_overlap > 0 ? symbol : '.';
}

// Appends one character at `length` if it fits, keeping room for the NUL.
static void put(char* buffer, u32 buffer_size, u32 length, char c) {
    if (length + 1 < buffer_size) buffer[length] = c;
}

u32 draw_arena(const ArenaMap& arena, u32 width, char* buffer, u32 buffer_size) {
    VERIFY(width >= 1);
    u32 length = 0;
    put(buffer, buffer_size, length++, '|');
    for (u32 cell = 0; cell < width; ++cell) {
        u64 start = arena.base() + u64(arena.size()) * cell / width;
        u64 end = arena.base() + u64(arena.size()) * (cell + 1) / width;
        if (end == start) end = start + 1;  // more cells than bytes: a cell shows the byte it starts at
        put(buffer, buffer_size, length++, cell_symbol(arena, start, end));
    }
    put(buffer, buffer_size, length++, '|');
    if (buffer_size > 0) buffer[length < buffer_size ? length : buffer_size - 1] = '\0';
    return length;
}

u32 describe_arena(const ArenaMap& arena, u32 width, char* buffer, u32 buffer_size) {
    u32 picture = draw_arena(arena, width, buffer, buffer_size);
    ArenaStatistics statistics = arena.statistics();
    u32 written = picture < buffer_size ? picture : (buffer_size > 0 ? buffer_size - 1 : 0);
    int totals = format_to_buffer(buffer + written, buffer_size - written,
                                  " used %u in %u block%s, free %u in %u hole%s (largest %u), fragmentation %u/1000",
                                  statistics.used_bytes, statistics.blocks, statistics.blocks == 1 ? "" : "s",
                                  statistics.free_bytes, statistics.holes, statistics.holes == 1 ? "" : "s",
                                  statistics.largest_hole, fragmentation_per_mille(statistics));
    return picture + static_cast<u32>(totals);
}
