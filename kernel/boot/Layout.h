// Layout.h: where things are in the kernel's virtual address space (docs/architecture.md has the map).
//
//   0x00000000-0x00000FFF  never mapped: a null pointer faults
//   0x00400000-0xBFFFFFFF  user space (program, heap, mmap area, stack)
//   0xC0000000-0xFBFFFFFF  the direct map of physical memory 0-960 MiB: physical p is at 0xC0000000 + p.
//                          The kernel image sits in it at 0xC0100000 (physical 1 MiB).
//   0xFC000000-0xFFFFFFFF  the kernel area: mappings made at run time (kernel stacks with guard pages);
//                          its page tables exist from boot on, so every address space shares them
//
// Physical memory above 960 MiB is not used: Mneme has no "high memory" mappings.
#pragma once

#include "libc/base/MemoryLayout.h"
#include "libc/base/Types.h"

namespace layout {

constexpr uptr kKernelBase = ::kKernelBase;
constexpr uptr kUserTop = kKernelBase;
constexpr uptr kDirectMapEnd = 0xFC000000;
constexpr u64 kDirectMapLimit = kDirectMapEnd - kKernelBase;  // physical bytes the direct map covers
constexpr uptr kKernelAreaBase = kDirectMapEnd;
constexpr u64 kKernelAreaEnd = 0x100000000ull;
// The early page tables (boot.asm) map this much; the direct map replaces them.
constexpr u64 kEarlyMappedLimit = 16 * MiB;

constexpr uptr physical_to_virtual(uptr physical) { return physical + kKernelBase; }
constexpr uptr virtual_to_physical(uptr address) { return address - kKernelBase; }
template <typename T>
T* physical_pointer(uptr physical) {
    return reinterpret_cast<T*>(physical_to_virtual(physical));
}

}  // namespace layout

// Linker-script symbols (linker.ld): their addresses are the boundaries.
extern "C" char __kernel_start[], __kernel_end[], __text_start[], __text_end[], __rodata_start[], __rodata_end[],
    __data_start[], __data_end[], __bss_start[], __bss_end[];
