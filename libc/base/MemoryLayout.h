// MemoryLayout.h: the two numbers every layer of Mneme agrees on, defined once.
//
// The page size is the i386's 4 KiB page (Intel SDM Vol. 3A 4.3, Figure 4-2: bits 11:0 of a linear address are
// the offset in the page). The kernel base is where Mneme's higher half starts: user space is everything
// below it, the kernel (its image and the direct map of physical memory) everything above it, and every page
// directory shares the kernel's entries 768..1023 (docs/architecture.md has the whole map). The user-space
// layout (program, heap, mmap area, stack) is mm/vm/UserLayout.h's.
//
// Header-only and freestanding: arch/, mm/, kernel/, user programs and the host build include it.
#pragma once

#include "libc/base/Types.h"

constexpr u32 kPageSize = 4096;
constexpr u32 kPageShift = 12;
constexpr u32 kKernelBase = 0xC0000000;
static_assert(kPageSize == 1u << kPageShift);
static_assert(kKernelBase % (4 * 1024 * 1024) == 0, "the kernel half starts at a page-directory boundary");
