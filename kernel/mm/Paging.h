// Paging.h: the kernel's page directory and what the monitor shows of paging.
//
// initialize() replaces the 16 MiB early mapping of boot.asm with the kernel's own page directory:
//   - the direct map: physical 0..top of usable memory (at most 960 MiB) at 0xC0000000, with 4 MiB pages
//     where the CPU has PSE and 4 KiB pages otherwise (-cpu 486);
//   - inside it, the kernel image with 4 KiB pages: text, rodata and the symbol table read-only, data and
//     bss writable, and the page under the boot stack left unmapped as a guard;
//   - the kernel area 0xFC000000-0xFFFFFFFF with its 16 page tables allocated up front and empty, so that
//     a mapping made there later (kernel stacks) is seen by every address space that copied the PDEs;
//   - every kernel mapping global (G) where the CPU has PGE, so CR3 loads keep them in the TLB.
// Page tables come from pmm::boot_allocate, so initialize() runs between pmm::begin() and pmm::finish().
#pragma once

#include "arch/i386/PageTableEntry.h"
#include "kernel/mm/KernelPageTables.h"
#include "libc/base/Error.h"
#include "libc/base/Types.h"

namespace paging {

void initialize();
u32 kernel_directory();  // physical address, what CR3 holds for the kernel
bool uses_large_pages();
bool uses_global_pages();
// Physical memory 0..direct_map_bytes() is mapped at 0xC0000000 (holes and firmware areas included).
u64 direct_map_bytes();
// The virtual address of the local APIC's registers (mapped uncached at kDefaultPhysicalBase, the same
// address on every CPU, each reaching its own APIC), or 0 when the CPU has none.
uptr local_apic_registers();
// Maps the local APIC's registers as above for a CPU whose CPUID does not report an APIC, though the machine
// has one (smp::discover decides); returns their virtual address. local_apic_registers() stays 0: only the
// PIC's routing uses such an APIC.
uptr map_undeclared_local_apic();

// The PDEs of the kernel half (768..1023), for copying into a new address space.
const PageDirectoryEntry* kernel_directory_entries();

// Maps/unmaps one 4 KiB page in the kernel area (0xFC000000 up), whose tables always exist.
ErrorOr<void> map_kernel_page(u32 vaddr, u32 physical, bool writable);
// Returns the physical address that was mapped (0 if none).
u32 unmap_kernel_page(u32 vaddr);
// The PTE of a kernel-area page, for code that changes it in place (and must INVLPG itself).
PageTableEntry* kernel_area_entry(u32 vaddr);

// Where `vaddr` leads under the directory at `cr3`: the PDE, the PTE (if any) and the physical address. The
// same walk as every PageTables' (mm/vm/PageTables.h), over the directory CR3 names.
using Walk = KernelPageTables::Walk;
Walk walk(u32 cr3, u32 vaddr);
// Prints the walk CR3 -> PDE -> PTE -> frame with every bit decoded (the monitor's `pt`).
void print_walk(u32 cr3, u32 vaddr);
// Lists the mapped ranges of the directory at `cr3` (coalesced, with permissions) from `start` to `end`.
void print_mappings(u32 cr3, u64 start, u64 end);

}  // namespace paging
