// FaultTrace.h: the reference string of a run, as the kernel sees it: the pages processes fault on.
//
// Every resolved user page fault (demand-zero, copy-on-write, major) is recorded in a ring of the last
// kCapacity: the process, the page number, whether it was a write and whether the page came from swap. The
// monitor's `faults [PID]` prints them oldest first as a string `mneme-replay` takes (`12,13w,12`), so a
// run's faults can be replayed through every policy and OPT on the host (docs/swapping.md). A fault string
// is not the full reference string (hits are invisible to the kernel: that is why exact LRU cannot run in
// it); for an exact one, user/swapload runs a seeded string the host regenerates.
#pragma once

#include "libc/base/Types.h"

namespace fault_trace {

constexpr u32 kCapacity = 4096;

// 8 bytes, so the ring is 32 KiB of the kernel's memory (an 8 MiB machine counts every page): the page
// number takes 20 bits of a word, the two flags two more.
struct Fault {
    i32 pid;
    u32 page : 20;  // virtual address >> 12
    u32 write : 1;
    u32 major : 1;
};
static_assert(sizeof(Fault) == 8);

void record(i32 pid, u32 address, bool write, bool major);
// The recorded faults, oldest first; `pid` 0 means every process. Returns how many were visited.
u32 for_each(i32 pid, void (*visit)(const Fault&, void*), void* context);
u32 recorded();  // since boot

}  // namespace fault_trace
