// ArenaPicture.h: the arena drawn on one line, for the kernel's `arena` view and the trace replayer.
//
//     |0000....11......222.| used 36864 in 3 blocks, free 45056 in 3 holes (largest 24576), fragmentation 454/1000
//
// The picture has `width` cells; cell c stands for the bytes [base + size*c/width, base + size*(c+1)/width).
// A cell shows whatever holds most of its bytes: a block (drawn with its owner's symbol) or free space
// ('.'). A tie goes to the block, and among blocks to the lower address, so a block smaller than a cell
// still shows when it is the cell's largest part. The owner's symbol is one of 0-9, A-Z, a-z: owner % 62,
// so owners 0-9 (the replayer's first allocations, the first pids) read as themselves.
//
// Pure: the text goes into the caller's buffer, snprintf-style (always NUL-terminated when buffer_size > 0,
// cut to fit); nothing is printed.
#pragma once

#include "libc/base/Types.h"
#include "mm/arena/ArenaMap.h"

// The symbol a block of `owner` is drawn with.
char arena_owner_symbol(u32 owner);

// Writes the picture alone, "|" + `width` cells + "|" (width >= 1). Returns the length of the whole picture,
// which is more than was written when the buffer is too small.
u32 draw_arena(const ArenaMap& arena, u32 width, char* buffer, u32 buffer_size);

// Writes the picture, then the totals and the fragmentation figure (see the example above). Returns the
// length of the whole line, like draw_arena().
u32 describe_arena(const ArenaMap& arena, u32 width, char* buffer, u32 buffer_size);
