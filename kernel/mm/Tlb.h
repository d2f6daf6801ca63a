// Tlb.h: the one place where the kernel tells the CPU that a translation changed.
//
// The TLB caches translations; the CPU does not notice when software edits a page-table entry, so every
// change to a present entry (unmap, a narrower protection, a new frame, clearing A or D) must be followed by
// an invalidation before the old frame is reused (Intel SDM Vol. 3A 4.10.4). Loading CR3 switches address
// spaces and flushes every non-global translation (4.10.4.1). Every INVLPG and every CR3 load of the kernel
// goes through this file (boot.asm's early tables and the AP trampoline's first CR3 aside), so that a TLB
// shootdown for several CPUs hooks in at one place: `grep -rn invlpg` and `write_cr3` find only this file and
// arch/i386/Cpu.h.
#pragma once

#include "libc/base/Types.h"

namespace tlb {

// Drop the translation of the page holding `vaddr` (INVLPG; also global pages and the paging-structure
// caches for that address, SDM 4.10.4.1).
void invalidate_page(u32 vaddr);
// Load `directory` (physical address of a page directory) into CR3, unless it is already loaded: switching
// address spaces flushes all non-global translations.
void load_directory(u32 directory);
// Flush every non-global translation of the current address space (reload CR3).
void flush_all();
// The directory CR3 holds.
u32 current_directory();
// How many invalidations and CR3 loads the kernel has made since boot (the monitor's `tlb` figures).
u32 invalidations();
u32 directory_loads();

}  // namespace tlb
