// ArenaMap.h: where the segments of the pre-paging memory models live in the arena, one contiguous region
// of physical memory: the allocated blocks, the holes between them, the placement policy that picks a hole
// (first, next, best or worst fit, FitPolicy.h), and compaction.
//
// Before paging, a process's memory (its whole image under static relocation or base and bounds, each of
// its segments under segmentation) must be one contiguous range of physical memory. Processes come and go,
// so the arena becomes a checkerboard of blocks and holes (external fragmentation): a request can fail
// although the free total would hold it, because no single hole does. Compaction slides every block down so
// the free space becomes one hole at the top (OSTEP, "Segmentation" 16.6 and "Free-Space Management" 17;
// Tanenbaum, "Modern Operating Systems", 3.2.2 "Swapping" and 3.2.3 "Managing Free Memory").
//
// Representation: a fixed array of blocks sorted by address, in memory the caller provides (mm/ has no
// heap). Holes are not stored: a hole is the gap between two neighbouring blocks (or between the arena's
// ends and the first or last block). So coalescing is free: releasing a block removes it from the array
// and the gaps on its left and right are one gap from then on. Every operation is O(blocks): arenas hold a
// few hundred blocks at most, where a scan of a small array is both fast and easy to read. (The user malloc
// indexes its free blocks in trees, libc/malloc/FitIndex.h, because a heap may hold millions; that code is
// not reused here because mm/ may include only libc/base/, and because a sorted array needs none of it.)
//
// Sizes are rounded up to the granule (a power of two: 4096 for page-sized segments, 1 for the byte-exact
// traces of OSTEP's free-space simulator), and the base, the size and every block address are multiples of
// it, so no hole is ever smaller than a granule.
//
// Next fit keeps a roving pointer: the address where the last placement by allocate() ended (the arena's
// base at first). Its search takes the first hole that fits among the holes that end above the rover, in
// address order, and wraps around to the lowest hole when none of those fits. A hole is the unit of choice
// under every policy, and the block goes at the hole's lowest address (so a hole the rover points into,
// which a release may have grown downwards, is used from its start).
//
// Invariants (check_invariants): the granule is a power of two; base and size are multiples of it; at most
// `capacity` blocks; every block has a size > 0, a granule-aligned address and size, and lies inside
// [base, base + size); blocks are sorted by address and do not overlap; the rover lies in [base, base + size].
#pragma once

#include "libc/base/Assert.h"
#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/Types.h"
#include "mm/arena/FitPolicy.h"

// An allocated block. `owner` is the caller's tag (a pid, a segment number, a trace's allocation number).
struct ArenaBlock {
    u32 address;
    u32 size;
    u32 owner;
};

struct ArenaStatistics {
    u32 free_bytes;
    u32 largest_hole;
    u32 holes;
    u32 used_bytes;
    u32 blocks;
};

// The fragmentation figure 1 - largest_hole / free_bytes, in thousandths (rounded down), so freestanding
// code prints it without floating point: 0 when all free space is one hole (or there is none), near 1000
// when it is scattered in many small holes.
u32 fragmentation_per_mille(const ArenaStatistics& statistics);

class ArenaMap {
    MNEME_NONCOPYABLE(ArenaMap);
    MNEME_NONMOVABLE(ArenaMap);

public:
    // Manages [base, base + size), which must not wrap around the 32-bit address space. `granule` is a power
    // of two and base and size are multiples of it (size > 0). `storage` holds at most `capacity` blocks and
    // belongs to the caller for the map's lifetime. Panics on arguments that break these rules.
    ArenaMap(u32 base, u32 size, u32 granule, FitPolicy policy, ArenaBlock* storage, u32 capacity);

    void set_policy(FitPolicy policy) { m_policy = policy; }
    FitPolicy policy() const { return m_policy; }
    u32 base() const { return m_base; }
    u32 size() const { return m_size; }
    u32 end() const { return m_base + m_size; }
    u32 granule() const { return m_granule; }
    u32 capacity() const { return m_capacity; }
    // Where next fit's search starts (see above).
    u32 rover() const { return m_rover; }

    // Places `bytes` (rounded up to the granule) in a hole the policy picks, at the hole's lowest address, and
    // returns that address. Errors: Invalid when bytes is 0; NoMemory when no hole is big enough (even if the
    // free total would be: that is external fragmentation); NoSpace when a hole fits but the block table
    // already holds `capacity` blocks.
    ErrorOr<u32> allocate(u32 bytes, u32 owner);
    // Places a block at exactly `address` (roll-in puts a segment back where it was; tests build maps). The
    // rover does not move: the caller chose the place, not the policy. Errors: Invalid when bytes is 0 or the
    // address is not granule-aligned; OutOfRange when the range leaves the arena; Busy when it overlaps a
    // block; NoSpace when the block table is full.
    ErrorOr<void> allocate_at(u32 address, u32 bytes, u32 owner);
    // Frees the block that starts at `address`; its hole joins the free neighbours. Panics when no block
    // starts there (the kernel frees only what it placed).
    void release(u32 address);
    // release() for callers that may name a wrong address (tests, the trace replayer): false, and nothing
    // changes, when no block starts at `address`.
    bool try_release(u32 address);
    // Grows or shrinks the block at `address` in place to `new_bytes` (rounded up). Shrinking always works;
    // growing works only when the hole right after the block is big enough. Returns false, changing nothing,
    // when it does not fit or new_bytes is 0. Panics when no block starts at `address`.
    bool resize_in_place(u32 address, u32 new_bytes);

    // The block that starts at `address`, or null.
    const ArenaBlock* find(u32 address) const;
    // The block that contains `address` (anywhere inside it), or null.
    const ArenaBlock* block_containing(u32 address) const;
    u32 block_count() const { return m_count; }
    // The index-th block in address order (index < block_count()).
    const ArenaBlock& block(u32 index) const {
        VERIFY(index < m_count);
        return m_blocks[index];
    }
    ArenaStatistics statistics() const;

    // f(const ArenaBlock&) for every block, in address order.
    template <typename F>
    void for_each_block(F f) const {
        for (u32 i = 0; i < m_count; ++i) f(static_cast<const ArenaBlock&>(m_blocks[i]));
    }
    // f(u32 address, u32 size) for every hole, in address order. Holes are maximal: two are never adjacent.
    template <typename F>
    void for_each_hole(F f) const {
        u32 cursor = m_base;
        for (u32 i = 0; i < m_count; ++i) {
            if (m_blocks[i].address > cursor) f(cursor, m_blocks[i].address - cursor);
            cursor = m_blocks[i].address + m_blocks[i].size;
        }
        if (cursor < end()) f(cursor, end() - cursor);
    }

    // Compaction: slides every block down to the lowest address it can take, in address order, so that all
    // the free space ends as one hole at the top. For each block that moves, calls
    // mover(old_address, new_address, size, owner) before the map records the move (find(old_address) still
    // finds it). Blocks are processed in increasing address order and a block only moves down, to the end
    // of the block before it, so copying (memmove) each block from old to new overwrites only free space and
    // the block's own old bytes, never a block not yet moved. The rover moves to the start of the top hole.
    // Returns the number of bytes moved (the sum of the moved blocks' sizes).
    template <typename Mover>
    u32 compact(Mover mover) {
        u32 cursor = m_base;
        u32 moved = 0;
        for (u32 i = 0; i < m_count; ++i) {
            ArenaBlock& block = m_blocks[i];
            if (block.address != cursor) {
                VERIFY(block.address > cursor);
                mover(block.address, cursor, block.size, block.owner);
                block.address = cursor;
                moved += block.size;
            }
            cursor += block.size;
        }
        m_rover = cursor;
        return moved;
    }
    // The bytes compact() would move now, without moving anything.
    u32 compaction_cost() const;

    // Re-derives the invariants above; false at the first violation, printed through `sink` if given
    // (libc/base/Invariant.h).
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const;

private:
    struct Hole {
        u32 address;
        u32 size;  // 0: no hole
    };
    // The hole the policy picks for `size` (already rounded) bytes, or one of size 0.
    Hole choose_hole(u32 size) const;
    // `bytes` rounded up to the granule; bytes <= m_size, so the result fits too.
    u32 rounded(u32 bytes) const;
    // The index of the block starting at `address`, or m_count.
    u32 index_of(u32 address) const;
    // The index of the first block at or above `address` (m_count when there is none).
    u32 lower_bound(u32 address) const;
    // The first address after block `index`'s that is not free: the next block's, or the arena's end.
    u32 limit_after(u32 index) const;
    void insert(const ArenaBlock& block);

    u32 m_base;
    u32 m_size;
    u32 m_granule;
    FitPolicy m_policy;
    ArenaBlock* m_blocks;
    u32 m_capacity;
    u32 m_count = 0;
    u32 m_rover;
};
