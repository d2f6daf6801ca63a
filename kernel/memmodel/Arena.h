// Arena.h: the arena, one contiguous run of physical memory where the older memory models place their
// segments (static relocation, base and bounds; kernel/memmodel/SegmentedMemory.h).
//
// Before paging, a process's memory was one (or a few) contiguous pieces of physical memory: the loader
// or the operating system found a hole big enough, and when processes ended the holes between the survivors
// made external fragmentation (OSTEP ch. 16-17, "Segmentation" and "Free-Space Management"; Tanenbaum,
// "Modern Operating Systems", 3.2 "Swapping" and "Memory Management with Bitmaps/Linked Lists"). Mneme keeps
// that memory apart from the page allocator: at boot it takes `arena=` bytes (2 MiB by default) as one
// reserved range, and places segments in it with mm/arena/ArenaMap (first, next, best or worst fit: the
// `fit=` boot option). Offsets here are bytes from the arena's start; the kernel reaches them through the
// direct map (kernel_pointer), a process through its page tables at user_layout::kArenaWindow + offset.
//
// When a request fails although enough bytes are free in total, the arena says so with the figures (free
// total, largest hole, number of holes) and compacts: it slides every movable segment down towards offset 0,
// copying its bytes and telling its owner the new offset (the owner rewrites its segment base and its page
// tables), and reports what moved. A segment placed by static relocation cannot move (its absolute addresses
// were patched for where it is): compaction slides the others around it.
//
// Locking: none. The arena is changed only by process context in the kernel, which is not preemptible.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Types.h"
#include "mm/arena/ArenaMap.h"

// What the arena tells a segment's owner (SegmentedMemory).
class ArenaClient {
public:
    // The segment's bytes were copied from `old_offset` to `new_offset`: rewrite the base and the mappings.
    virtual void arena_moved(u32 old_offset, u32 new_offset) = 0;
    // False for a segment that must stay where it is (static relocation patched its addresses).
    virtual bool arena_movable() const = 0;
    // For the `arena` view: who owns it ("pid 7 hello, base-bounds").
    virtual void arena_describe(char* buffer, u32 size) const = 0;
    // The owner's process id (a digit in the one-line map), 0 if it has none yet.
    virtual i32 arena_pid() const = 0;

protected:
    ~ArenaClient() = default;
};

namespace arena {

constexpr u32 kDefaultBytes = 2 * 1024 * 1024;

// At boot, between pmm::begin() and pmm::finish(): takes `bytes` (a multiple of the page size; 0: no arena)
// from the usable memory. Prints one line; on failure says why and leaves the arena off.
void reserve(u32 bytes, FitPolicy policy);
bool is_ready();
u32 size();
u32 physical_base();
FitPolicy policy();
void set_policy(FitPolicy policy);
// Boot option arenalog=1: one machine-readable line per arena event (tools/arena/report.sh reads them):
//   arenalog: seq=N op=OP off=OFFSET size=BYTES pid=P ... free=F largest=L holes=H used=U frag=PER_MILLE
// OP is place, fail (no room: size is the request), free, resize (old=BYTES), move (from=OFFSET; one per
// segment a compaction or a rotation moves), compact (moved=BYTES moves=N, after its moves) or rotate
// (moved=BYTES). Numbers are decimal; the figures after the event are the arena's totals once it is done.
void set_logging(bool on);

// The kernel's pointer to arena offset `offset` (the direct map).
u8* kernel_pointer(u32 offset);
// The linear address a process sees arena offset `offset` at.
u32 linear(u32 offset);

// Places `bytes` (rounded up to pages) for `client` and zeroes them. When no hole is big enough but the free
// total is, prints the figures and compacts first; when even that cannot make room, rolls other processes
// out to the swap disk one at a time (the roll-out handler) until it can. The error's reason gives the
// figures in words, and why nothing could be rolled out.
// `may_roll_out` false: compaction only (a segment that grows tries rotation before the disk).
ErrorOr<u32, ExplainedError> allocate(u32 bytes, ArenaClient* client, bool may_roll_out = true);
// Rolls one process out of the arena to make room for `bytes` and returns true; or returns false and sets
// `why_not` ("there is no swap disk"). Set by kernel/proc/Process.cpp, which knows the processes.
using RollOutHandler = bool (*)(u32 bytes, const char** why_not);
void set_roll_out_handler(RollOutHandler handler);
// Grows or shrinks the segment at `offset` in place (only into the hole right after it); zeroes what it adds.
bool resize_in_place(u32 offset, u32 new_bytes);
void release(u32 offset);
// Slides every movable segment down, telling each owner; prints each move and the total (unless `report` is
// false: the benchmark times the moves without the console). Returns bytes moved.
u32 compact(bool report = true);

// For a segment that must grow to `needed` bytes and has no room: when the free total (its own bytes
// included) holds it, compacts, then moves it above the segments after it, so all free space follows it.
// False when that cannot make room (too little free, or a static segment in the way).
bool move_to_top(ArenaClient* client, u32 needed);

ArenaStatistics statistics();
// The `arena` view: a one-line map (each page a character: the owner's pid digit, '.' free), the segments
// with their owners, and the totals with the fragmentation figure.
void print();
// The map agrees with itself (mm/arena/ArenaMap::check_invariants).
bool check();

}  // namespace arena
