// Layout.h: where things are in the kernel's virtual address space (docs/architecture.md has the map).
//
//   0x00000000-0x00000FFF  never mapped: a null pointer faults
//   0x00400000-0xBFFFFFFF  user space (program, heap, mmap area, stack)
//   0xC0000000-...         the kernel image at 0xC0100000, inside the direct map of physical memory:
//                          physical address p is visible at 0xC0000000 + p
#pragma once

#include "libc/base/Types.h"

namespace layout {

constexpr uptr kKernelBase = 0xC0000000;
constexpr uptr kUserTop = kKernelBase;

constexpr uptr physical_to_virtual(uptr physical) { return physical + kKernelBase; }
constexpr uptr virtual_to_physical(uptr address) { return address - kKernelBase; }
template <typename T>
T* physical_pointer(uptr physical) {
    return reinterpret_cast<T*>(physical_to_virtual(physical));
}

}  // namespace layout

// Linker-script symbols (linker.ld): their addresses are the boundaries.
extern "C" char __kernel_start[], __kernel_end[], __text_start[], __text_end[], __rodata_start[],
    __rodata_end[], __data_start[], __data_end[], __bss_start[], __bss_end[];
