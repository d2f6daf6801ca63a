// UserLayout.h: where a paged process's memory lives in its half of the address space.
//
//   0x00000000-0x003FFFFF  never mapped: a null pointer (or a small offset from one) faults
//   0x00400000-            the program (ELF segments), then the heap that brk moves, growing up
//   0x40000000-0xB6FFFFFF  anonymous mmap regions, placed first fit
//   0xB7000000-0xB77FFFFF  a 16 MiB gap: nothing is placed here, so a runaway stack faults
//   0xB7800000-0xBFFFFFFF  the stack, growing down from 0xC0000000, at most 8 MiB
//
// A process of an older memory model (static relocation, base and bounds, segmentation:
// kernel/memmodel/SegmentedMemory.h) has no paged regions at all: its page directory maps only its segments,
// which live in the arena (one contiguous run of physical memory), at kArenaWindow + (where in the arena).
// A segment's base is therefore a linear address in that window.
//
// Everything from kKernelBase (0xC0000000) up is the kernel's (libc/base/MemoryLayout.h).
#pragma once

#include "libc/base/MemoryLayout.h"

namespace user_layout {

constexpr u32 kProgramBase = 0x00400000;
constexpr u32 kMappingBase = 0x40000000;
constexpr u32 kArenaWindow = 0x10000000;
constexpr u32 kStackTop = kKernelBase;
constexpr u32 kStackLimit = 8 * 1024 * 1024;
constexpr u32 kStackBottom = kStackTop - kStackLimit;
constexpr u32 kMappingTop = kStackBottom - 16 * 1024 * 1024;  // the gap below the stack
// A fault this far below the stack's limit is reported as a stack overflow rather than a wild pointer.
constexpr u32 kStackOverflowReach = 64 * 1024;

}  // namespace user_layout
