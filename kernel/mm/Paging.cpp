// Paging.cpp: building the kernel page directory, and walking page tables for the monitor.
#include "kernel/mm/Paging.h"

#include "kernel/mm/Tlb.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Cpuid.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/LocalApic.h"
#include "kernel/boot/Layout.h"
#include "kernel/boot/Multiboot.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/PhysicalMemory.h"
#include "libc/base/Assert.h"
#include "libc/rt/String.h"

extern "C" char boot_stack_guard[];

namespace paging {
namespace {

constexpr u32 kApicRegisters = 0xFFFFF000;
u32 g_directory = 0;  // physical
u64 g_direct_map_bytes = 0;
bool g_apic_mapped = false;
bool g_large = false;
bool g_global = false;

PageDirectoryEntry* directory_at(u32 physical) { return layout::physical_pointer<PageDirectoryEntry>(physical); }
PageTableEntry* table_at(u32 physical) { return layout::physical_pointer<PageTableEntry>(physical); }

u32 allocate_table(const char* name) {
    // The early mapping covers 16 MiB: the new tables must lie there so they can be filled before the switch.
    auto table = pmm::boot_allocate(kPageSize, layout::kEarlyMappedLimit, name);
    if (table.is_error()) mneme_panic("paging: no memory below 16 MiB for the kernel page tables");
    u32 physical = static_cast<u32>(table.value());
    memset(table_at(physical), 0, kPageSize);
    return physical;
}

PageDirectoryEntry table_entry_for(u32 table_physical) {
    PageDirectoryEntry pde;
    pde.set_physical_address(table_physical);
    pde.set_present(true);
    pde.set_writable(true);  // the PTEs decide (SDM 4.6: the stricter of both levels applies)
    return pde;
}

bool in(uptr address, const char* start, const char* end) {
    return address >= reinterpret_cast<uptr>(start) && address < reinterpret_cast<uptr>(end);
}

// The protection of the kernel-image page at `address`; false when it must stay unmapped.
bool kernel_page_protection(uptr address, bool& writable) {
    uptr guard = reinterpret_cast<uptr>(boot_stack_guard);
    if (address >= guard && address < guard + kPageSize) return false;
    writable = !(in(address, __text_start, __text_end) || in(address, __rodata_start, __rodata_end) ||
                 address >= reinterpret_cast<uptr>(__bss_end));  // .ksyms follows .bss
    // The low boot segment (header and _start, linked at 1 MiB physical) sits just below .text: read-only.
    if (address < reinterpret_cast<uptr>(__text_start)) writable = false;
    return true;
}

// Maps the local APIC's register page, uncached (SDM Vol. 3A 10.4.1: "strong uncacheable"), at the top of the
// kernel area; returns its virtual address.
uptr map_apic_page() {
    auto mapped = map_kernel_page(kApicRegisters, local_apic::kDefaultPhysicalBase, true);
    VERIFY(!mapped.is_error());  // a page of the kernel area nothing else uses: failing is a bug
    PageTableEntry* pte = kernel_area_entry(kApicRegisters);
    pte->set_cache_disabled(true);
    pte->set_write_through(true);
    tlb::invalidate_kernel_page(kApicRegisters);
    return kApicRegisters;
}

}  // namespace

void initialize() {
    g_large = cpuid::has(cpuid::kPse);
    g_global = cpuid::has(cpuid::kPge);

    // How much physical memory the direct map covers: up to the end of the highest usable byte.
    u64 top = 0;
    multiboot::for_each_region([&](const multiboot::MemoryMapEntry& e) {
        if (e.type == static_cast<u32>(multiboot::RegionType::Available) && e.base + e.length > top)
            top = e.base + e.length;
    });
    if (top > layout::kDirectMapLimit) top = layout::kDirectMapLimit;
    top = align_up<u64>(top, kLargePageSize);
    u32 direct_pdes = static_cast<u32>(top / kLargePageSize);
    g_direct_map_bytes = top;

    g_directory = allocate_table("kernel page directory");
    PageDirectoryEntry* directory = directory_at(g_directory);
    u32 kernel_image_end = static_cast<u32>(layout::virtual_to_physical(reinterpret_cast<uptr>(__kernel_end)));
    u32 tables = 0;

    for (u32 pde_index = 0; pde_index < direct_pdes; ++pde_index) {
        u32 physical_base = pde_index * kLargePageSize;
        u32 virtual_base = static_cast<u32>(layout::physical_to_virtual(physical_base));
        PageDirectoryEntry& pde = directory[page_directory_index(virtual_base)];
        bool holds_kernel = physical_base < kernel_image_end;
        if (g_large && !holds_kernel) {
            pde.set_physical_address(physical_base);  // bits 31:22 for a 4 MiB page (SDM Table 4-4)
            pde.set_large(true);
            pde.set_present(true);
            pde.set_writable(true);
            pde.set_global(g_global);
            continue;
        }
        u32 table_physical = allocate_table("kernel page tables");
        ++tables;
        PageTableEntry* table = table_at(table_physical);
        for (u32 i = 0; i < kEntriesPerTable; ++i) {
            u32 physical = physical_base + i * kPageSize;
            uptr address = layout::physical_to_virtual(physical);
            bool writable = true;
            if (holds_kernel && address >= reinterpret_cast<uptr>(__kernel_start) &&
                address < reinterpret_cast<uptr>(__kernel_end) && !kernel_page_protection(address, writable))
                continue;
            PageTableEntry& pte = table[i];
            pte.set_physical_address(physical);
            pte.set_present(true);
            pte.set_writable(writable);
            pte.set_global(g_global);
        }
        pde = table_entry_for(table_physical);
    }

    // The kernel area: empty tables, present from the start so their PDEs can be shared.
    for (u64 address = layout::kKernelAreaBase; address < layout::kKernelAreaEnd; address += kLargePageSize) {
        directory[page_directory_index(static_cast<u32>(address))] =
            table_entry_for(allocate_table("kernel area page tables"));
        ++tables;
    }

    u32 cr4 = 0;
    if (g_large || g_global) {
        cr4 = cpu::read_cr4();
        if (g_large) cr4 |= cpu::kCr4PageSizeExtensions;
        if (g_global) cr4 |= cpu::kCr4PageGlobalEnable;
        cpu::write_cr4(cr4);
    }
    tlb::load_directory(g_directory);
    gdt::double_fault_tss().cr3 = g_directory;

    // The local APIC's registers, uncached, at the top of the kernel area, so the PIC's interrupts can be
    // routed through it (arch/i386/LocalApic.h).
    if (cpuid::has(cpuid::kApic)) {
        local_apic::route_pic_interrupts(map_apic_page());
        g_apic_mapped = true;
    }

    klog("paging", "kernel page directory at 0x%08x: direct map of %u MiB with %s pages, %u page tables", g_directory,
         static_cast<unsigned>(top / MiB), g_large ? "4 MiB" : "4 KiB", tables);
    klog("paging", "kernel text and rodata read-only, guard page under the boot stack at 0x%08x%s",
         reinterpret_cast<u32>(boot_stack_guard), g_global ? ", kernel pages global (PGE)" : "");
}

u32 kernel_directory() { return g_directory; }
bool uses_large_pages() { return g_large; }
u64 direct_map_bytes() { return g_direct_map_bytes; }
uptr local_apic_registers() { return g_apic_mapped ? kApicRegisters : 0; }
uptr map_undeclared_local_apic() { return map_apic_page(); }
bool uses_global_pages() { return g_global; }

const PageDirectoryEntry* kernel_directory_entries() {
    return directory_at(g_directory) + page_directory_index(static_cast<u32>(layout::kKernelBase));
}

ErrorOr<void> map_kernel_page(u32 vaddr, u32 physical, bool writable) {
    if (vaddr < layout::kKernelAreaBase || (vaddr & (kPageSize - 1)) || (physical & (kPageSize - 1)))
        return Error::Invalid;
    PageDirectoryEntry pde = directory_at(g_directory)[page_directory_index(vaddr)];
    VERIFY(pde.is_present() && !pde.is_large());
    PageTableEntry& pte = table_at(pde.physical_address())[page_table_index(vaddr)];
    if (!pte.is_null()) return Error::Exists;
    PageTableEntry entry;
    entry.set_physical_address(physical);
    entry.set_present(true);
    entry.set_writable(writable);
    entry.set_global(g_global);
    pte = entry;  // a not-present entry is never cached, so no INVLPG (SDM 4.10.2.3)
    return {};
}

u32 unmap_kernel_page(u32 vaddr) {
    PageDirectoryEntry pde = directory_at(g_directory)[page_directory_index(vaddr)];
    if (vaddr < layout::kKernelAreaBase || !pde.is_present() || pde.is_large()) return 0;
    PageTableEntry& pte = table_at(pde.physical_address())[page_table_index(vaddr)];
    if (!pte.is_present()) return 0;
    u32 physical = pte.physical_address();
    pte.clear();
    tlb::invalidate_kernel_page(vaddr);  // global entries survive CR3 loads: only INVLPG removes them (SDM 4.10.4.1)
    return physical;
}

PageTableEntry* kernel_area_entry(u32 vaddr) {
    if (vaddr < layout::kKernelAreaBase) return nullptr;
    PageDirectoryEntry pde = directory_at(g_directory)[page_directory_index(vaddr)];
    if (!pde.is_present() || pde.is_large()) return nullptr;
    return &table_at(pde.physical_address())[page_table_index(vaddr)];
}

Walk walk(u32 cr3, u32 vaddr) {
    return KernelPageTables::walk(page_tables::ops(), cr3 & PagingBits::kFrameMask, vaddr);
}

void print_walk(u32 cr3, u32 vaddr) {
    Walk w = walk(cr3, vaddr);
    char bits[96];
    kprintf("  virtual 0x%08x = directory index %u (bits 31:22), table index %u (21:12), offset 0x%03x (11:0)\n", vaddr,
            w.directory_index, w.table_index, page_offset(vaddr));
    kprintf("  CR3 0x%08x -> page directory at physical 0x%08x\n", cr3, cr3 & PagingBits::kFrameMask);
    w.pde.describe(bits, sizeof(bits));
    kprintf("  PDE[%4u] at 0x%08x = 0x%08x  %s\n", w.directory_index,
            (cr3 & PagingBits::kFrameMask) + w.directory_index * 4, w.pde.raw(), bits);
    if (!w.pde.is_present()) {
        kprintf("  -> not present: no page table covers 0x%08x-0x%08x; an access page-faults\n",
                vaddr & ~(kLargePageSize - 1), (vaddr & ~(kLargePageSize - 1)) + kLargePageSize - 1);
        return;
    }
    if (w.pde.is_large()) {
        kprintf("  -> 4 MiB page at physical 0x%08x; physical address 0x%08x\n", w.pde.large_physical_address(),
                w.physical);
        return;
    }
    w.pte.describe(bits, sizeof(bits));
    kprintf("  PTE[%4u] at 0x%08x = 0x%08x  %s\n", w.table_index, w.pde.physical_address() + w.table_index * 4,
            w.pte.raw(), bits);
    if (!w.pte.is_present()) {
        if (!w.pte.is_null())
            kprintf("  -> not present, but the OS keeps 0x%08x in it (e.g. a swap slot)\n",
                    w.pte.not_present_payload());
        else
            kprintf("  -> not present: an access page-faults\n");
        return;
    }
    kprintf("  -> frame 0x%08x + offset 0x%03x = physical address 0x%08x\n", w.pte.physical_address(),
            page_offset(vaddr), w.physical);
}

void print_mappings(u32 cr3, u64 start, u64 end) {
    struct Run {
        bool open = false;
        u64 start = 0, end = 0;
        u32 physical = 0;
        bool writable = false, user = false, global = false, large = false;
    } run;
    u64 mapped_bytes = 0;
    auto flush = [&]() {
        if (!run.open) return;
        kprintf("  0x%08llx-0x%08llx  -> 0x%08x  %7u KiB  %s %s%s%s\n", static_cast<unsigned long long>(run.start),
                static_cast<unsigned long long>(run.end - 1), run.physical,
                static_cast<unsigned>((run.end - run.start) / KiB), run.writable ? "rw" : "r-",
                run.user ? "user" : "kernel", run.global ? " global" : "", run.large ? " 4M-pages" : "");
        run.open = false;
    };
    auto add = [&](u64 address, u64 size, u32 physical, bool writable, bool user, bool global, bool large) {
        mapped_bytes += size;
        if (run.open && run.end == address && run.writable == writable && run.user == user && run.global == global &&
            run.large == large && run.physical + (address - run.start) == physical) {
            run.end += size;
            return;
        }
        flush();
        run = Run{true, address, address + size, physical, writable, user, global, large};
    };
    const PageDirectoryEntry* directory = directory_at(cr3 & PagingBits::kFrameMask);
    for (u64 address = start & ~static_cast<u64>(kLargePageSize - 1); address < end; address += kLargePageSize) {
        PageDirectoryEntry pde = directory[page_directory_index(static_cast<u32>(address))];
        if (!pde.is_present()) {
            flush();
            continue;
        }
        if (pde.is_large()) {
            add(address, kLargePageSize, pde.large_physical_address(), pde.is_writable(), pde.is_user(),
                pde.is_global(), true);
            continue;
        }
        const PageTableEntry* table = table_at(pde.physical_address());
        for (u32 i = 0; i < kEntriesPerTable; ++i) {
            const PageTableEntry& pte = table[i];
            u64 page = address + static_cast<u64>(i) * kPageSize;
            if (page < start || page >= end) continue;
            if (!pte.is_present()) {
                flush();
                continue;
            }
            add(page, kPageSize, pte.physical_address(), pte.is_writable() && pde.is_writable(),
                pte.is_user() && pde.is_user(), pte.is_global(), false);
        }
    }
    flush();
    kprintf("  %u MiB mapped\n", static_cast<unsigned>(mapped_bytes / MiB));
}

}  // namespace paging
