// Tlb.h: the one place where the kernel tells the CPUs that a translation changed.
//
// The TLB caches translations; the CPU does not notice when software edits a page-table entry, so every
// change to a present entry (unmap, a narrower protection, a new frame, clearing A or D) must be followed by
// an invalidation before the old frame is reused (Intel SDM Vol. 3A 4.10.4). Loading CR3 switches address
// spaces and flushes every non-global translation (4.10.4.1). Every INVLPG and every CR3 load of the kernel
// goes through this file (boot.asm's early tables and the AP trampoline's first CR3 aside): `grep -rn
// invlpg` and `write_cr3` find only this file and arch/i386/Cpu.h.
//
// With several CPUs an INVLPG is not enough: it flushes only the CPU that runs it (SDM 4.10.5, "Propagation
// of Paging-Structure Changes to Multiple Processors"). The others that may hold the translation must be
// told, and the change is complete only when every one of them has flushed: a *TLB shootdown*. Which CPUs
// may hold it: for a page of the kernel half (global, the same on every CPU), all of them; for a user page,
// those whose CR3 holds that address space (each CPU's loaded directory is recorded here; there is no PCID,
// so a CR3 load drops the rest). The initiator writes the request, raises each target's flag, sends it an IPI
// (vector idt::kTlbShootdownVector) and waits with interrupts off until every flag is down again. It holds
// the big kernel lock, so it is the only initiator; a target that is itself waiting for that lock (with
// interrupts off) serves requests from its spin loop, so nobody waits for someone who waits for them.
// docs/multicore.md, "TLB shootdown", has the diagram.
#pragma once

#include "libc/base/Types.h"

namespace tlb {

// A page-table entry of the address space whose page directory is at physical `directory` changed at
// `vaddr`: flush it here if that space is loaded here (or the page is the kernel's), and on every other
// CPU that has it loaded, waiting for them.
void invalidate(u32 directory, u32 vaddr);
// A kernel-half page changed (a global translation): every CPU flushes it.
void invalidate_kernel_page(u32 vaddr);
// Makes every other CPU running the address space at `directory` flush all of its translations and stop in
// the kernel until the caller lets go of the big kernel lock: after it returns no other CPU reads or writes
// that space's pages (the swapper calls it before it decides whether a page is clean).
void quiesce(u32 directory);
// Load `directory` (physical address of a page directory) into CR3, unless it is already loaded: switching
// address spaces flushes all non-global translations.
void load_directory(u32 directory);
// Flush every non-global translation of the current address space (reload CR3).
void flush_all();
// The directory CR3 holds.
u32 current_directory();
// On a CPU asked to flush (the shootdown IPI's handler; a CPU spinning for the big kernel lock): does it
// and acknowledges. Cheap when nothing was asked.
void serve_request();

// How many invalidations and CR3 loads the kernel has made since boot (the monitor's `tlb` figures), and
// how many shootdowns it sent (one per change that another CPU had to flush; `ipis` counts the targets).
u32 invalidations();
u32 directory_loads();
u32 shootdowns();
u32 shootdown_ipis();

}  // namespace tlb
