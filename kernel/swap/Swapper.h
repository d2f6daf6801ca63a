// Swapper.h: page-level swapping: when user frames run short, a replacement policy picks a resident page,
// the page goes to a swap slot, and a later fault on it reads it back (OSTEP ch. 21, "Beyond Physical
// Memory: Mechanisms", and ch. 22, "Policies"; Tanenbaum, Modern Operating Systems, 3.4 and 3.6).
//
// Who does what:
//   - mm/swap's ReplacementPolicy (fifo, clock, eclock, aging, lru, random; `policy=` at boot) watches the
//     user frames and chooses the victim. Frame i of the policy is the frame table's frame first_pfn + i.
//   - the frame table (kernel/mm/FrameTable.h) tells the swapper when a frame gains its first mapping
//     (page_in) and loses its last (removed), and its reverse map finds every page-table entry of a victim,
//     so a frame shared copy-on-write by several processes is evicted from all of them at once: each entry
//     gets the same slot, which counts one reference per entry (see docs/swapping.md, "shared pages").
//   - kernel/swap/PageBits.h is the policy's view of the hardware: the accessed and dirty bits of every
//     entry that maps a frame, ORed, and cleared with INVLPG (Intel SDM Vol. 3A 4.8, 4.10.4.1).
//   - kernel/swap/SwapArea.h holds the slots on the disk.
//   - mm/vm/AddressSpace.h decides that a fault on an entry holding a slot is a major fault and calls
//     swap_in()/swapped_in() (through kernel/memmodel/PagedMemory's frame source).
//
// When: before a user frame is allocated (make_room()), while the user frames in use reach the cap
// (`userframes=N`, default: all but a reserve) or the free frames fall below a low watermark that keeps page
// tables, kernel stacks and the kernel heap supplied. Only frames mapped into user space are ever victims:
// page tables, kernel stacks and a frame being read from the disk are not in the policy.
//
// Clean pages cost no I/O: after a swap-in the frame remembers its slot (when no other entry still names
// it), so if it is chosen again and no entry's D bit is set, its entries simply take the slot back. A write
// sets D, and then the page is written to the same slot. Fork sharing a dirty frame forgets the slot (after
// fork the other entry's D bit would not show the write).
//
// Errors: a failed write marks the slot bad and tries another (up to kWriteAttempts); a failed read loses the
// page and kills only the process that faulted (mm/vm: FaultResult::SwapInFailed); no slot left is out of
// memory for the process that needed the frame. Each is counted and reported in words.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Types.h"
#include "mm/swap/Policies.h"

struct BootOptions;
class PagedMemory;

namespace swapper {

enum class Mode : u8 { Off, Page, Process };
const char* mode_name(Mode mode);

struct Statistics {
    u32 major_faults = 0;      // pages read back from swap
    u32 pages_out = 0;         // pages written to a slot
    u32 evictions = 0;         // frames freed by replacement
    u32 clean_evictions = 0;   // of those, dropped without I/O (a clean copy was already in its slot)
    u32 shared_evictions = 0;  // of those, frames mapped by more than one process
    u32 write_errors = 0;
    u32 read_errors = 0;
    u32 out_of_swap = 0;  // evictions refused: no slot left
    u32 roll_outs = 0;    // whole processes swapped out (swap=process)
    u32 roll_ins = 0;
};

// After pmm::finish() and the disk probe: the boot line saying whether and how the kernel swaps.
void initialize(const BootOptions& options);
Mode mode();
bool active();  // swapping pages (swap=page or process with a swap area)
PolicyKind policy_kind();
ReplacementPolicy& policy();
u32 frame_cap();       // user frames allowed before eviction
u32 resident_frames();  // user frames in the policy now
const Statistics& statistics();
u32 first_pfn();
// Pages whose only copy is in a slot (slots in use less the frames' clean copies): with the frames in use,
// the memory the processes hold.
u32 swapped_pages();

// -- the frame table's hooks (only while active()) ---------------------------------------------------------
void page_in(u32 pfn);
void removed(u32 pfn);

// -- the paged memory model's frame source ---------------------------------------------------------------
// Evicts until a user frame may be allocated: below the cap and above the watermark. Error::NoMemory when no
// page could be evicted (nothing resident, no slot left, every write failed).
ErrorOr<void> make_room();
// A frame holding the page in `slot` (Error::IO: the read failed, the page is lost; NoMemory: no frame).
ErrorOr<u32> swap_in(u32 slot);
// The frame from swap_in() is now mapped in place of one entry naming `slot`.
void swapped_in(u32 slot, u32 physical);
ErrorOr<void> duplicate_slot(u32 slot);
void release_slot(u32 slot);
void shared_dirty(u32 physical);
// Keep the frame at `physical` from being chosen while a copy-on-write copy of it is being made (the
// allocation of the copy may evict). One pin at a time.
void pin(u32 physical);
void unpin();

// Evicts the page in frame `pfn` from every space that maps it. For the in-kernel tests and the roll-out of
// whole processes. Error::NoSpace (no slot), IO (every attempt to write failed).
ErrorOr<void> evict(u32 pfn);

// When no page can be evicted (no slot left, the disk failing) before a frame is handed out, make_room()
// calls `handler` (kernel/proc: process::kill_largest_for_memory) and tries again while it returns true.
void set_out_of_memory_handler(bool (*handler)());

// -- whole-process swapping (swap=process) ---------------------------------------------------------------
// In swap=process, make_room() first calls `handler` (kernel/proc: process::roll_out_one), which chooses a
// whole process and calls roll_out() on it; only when it finds none (no other process has a page in memory:
// one process larger than the cap) does make_room() fall back to evicting single pages with the policy.
void set_roll_out_handler(bool (*handler)());
struct RollResult {
    u32 pages = 0;   // pages moved
    u32 writes = 0;  // of those, written to the disk (roll-out: the rest had clean copies in their slots)
    u32 us = 0;      // time taken, in microseconds (by the time-stamp counter)
};
// Every resident page of `memory` that no other process maps to the disk (a frame shared copy-on-write
// stays). Counted in statistics().roll_outs.
RollResult roll_out(PagedMemory& memory);
// Every page of `memory` that is out on the disk read back. Counted in statistics().roll_ins.
RollResult roll_in(PagedMemory& memory);

// Time-stamp counter ticks spent in the disk reads of swap_in() since boot (instructions under -icount):
// the benchmark of a major fault subtracts them to count the kernel's own work.
u64 swap_in_read_tsc();

// The timer's sample for aging (called when a tick interrupted user mode: no page-table edit is half done).
void tick();

// The monitor's `swap` view: mode, policy, cap, counters, the slot map, the policy's state.
void print_state();
// Every slot reference is an entry or a frame's remembered copy, and every policy frame is mapped.
bool check(FormatSink sink, void* context);

}  // namespace swapper
