// LockRanks.h: the kernel's lock order, in one place.
//
// Every lock declares a rank; a CPU may take a lock only if its rank is greater than that of every lock it
// already holds (libc/base/LockOrder.h, checked on every acquire by kernel/sync/SpinLock.cpp). Nested locks
// are therefore always taken in the order of this list, top to bottom, and two CPUs can never each hold a
// lock the other waits for. Leave gaps, so a new lock can be slotted in between.
#pragma once

#include "libc/base/Types.h"

namespace lock_rank {

constexpr u32 kBigKernelLock = 10;    // kernel/sync/BigKernelLock.cpp: first, around all kernel code (not
                                      // checked by the debugger: it nests on one CPU by design)
constexpr u32 kSmpCheckIn = 100;      // kernel/smp/ApStartup.cpp: the APs' check-in list
constexpr u32 kTestOuter = 500;       // tests/kernel/SyncTests.cpp
constexpr u32 kTestInner = 510;       // tests/kernel/SyncTests.cpp
constexpr u32 kBench = 520;           // kernel/debug/Bench.cpp: the uncontended lock benchmarks
constexpr u32 kPageAllocator = 900;  // kernel/mm/PhysicalMemory.cpp: the shared part behind the per-CPU caches
constexpr u32 kConsoleOutput = 1000;  // kernel/dev/Console.cpp: last, since anything may print while locked

}  // namespace lock_rank
