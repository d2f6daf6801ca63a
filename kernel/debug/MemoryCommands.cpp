// MemoryCommands.cpp: the monitor commands that show physical memory and paging: meminfo, buddy, pt, vmmap,
// rmap.
#include "arch/i386/Cpu.h"
#include "kernel/boot/Layout.h"
#include "kernel/boot/Multiboot.h"
#include "kernel/debug/Monitor.h"
#include "kernel/dev/Console.h"
#include "kernel/memmodel/PagedMemory.h"
#include "kernel/mm/FrameTable.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/proc/Process.h"
#include "libc/rt/String.h"

MONITOR_COMMAND(meminfo, "meminfo", "", "the memory map, reserved regions and the page allocator's free memory") {
    kprintf("Physical memory map (BIOS E820, passed on by the multiboot loader):\n");
    multiboot::print_memory_map();
    pmm::print_summary();
}

MONITOR_COMMAND(buddy, "buddy", "[N]", "the per-CPU frame caches, then the buddy allocator's free lists, N blocks per list (default 8)") {
    BuddyAllocator* buddy = pmm::buddy();
    if (!buddy) {
        kprintf("The kernel runs the bitmap allocator (pmm=bitmap): there are no free lists. Its free runs:\n");
        pmm::allocator().dump(console::sink, nullptr);
        return;
    }
    u32 per_list = 8;
    if (argc > 1 && !monitor::parse_number(argv[1], per_list)) {
        kprintf("usage: buddy [N]\n");
        return;
    }
    // What each CPU's cache holds now; then the caches go back, so the lists below are every free frame.
    pmm::print_frame_caches();
    pmm::drain_frame_caches();
    buddy->dump_free_lists(console::sink, nullptr, per_list);
}

namespace {
// The monitor reads a page directory, and the tables its entries name, only when it is one the kernel owns:
// the kernel's own or a live process's (any other number is just memory, and a walk through it would read
// whatever its "entries" point at, possibly unmapped memory, and panic the kernel). Says why when it is not.
bool known_directory(u32 cr3) {
    u32 directory = cr3 & PagingBits::kFrameMask;
    if (directory == paging::kernel_directory() || PagedMemory::find(directory)) return true;
    kprintf("0x%08x is not a page directory the kernel knows: give the CR3 of a live process (`rmap`, or the\n"
            "current one with no CR3 argument), or 0x%08x for the kernel's own\n",
            cr3, paging::kernel_directory());
    return false;
}
}  // namespace

MONITOR_COMMAND(pt, "pt", "VADDR [CR3]", "walk the page tables for VADDR: CR3 -> PDE -> PTE -> frame, bits decoded") {
    u32 address, cr3 = cpu::read_cr3();
    if (argc < 2 || !monitor::parse_number(argv[1], address) || (argc > 2 && !monitor::parse_number(argv[2], cr3))) {
        kprintf("usage: pt VADDR [CR3]   e.g. pt 0xc0100000, pt 0\n");
        return;
    }
    if (!known_directory(cr3)) return;
    paging::print_walk(cr3, address);
}

MONITOR_COMMAND(vmmap, "vmmap", "[CR3]", "the mapped ranges of an address space with their permissions") {
    u32 cr3 = cpu::read_cr3();
    if (argc > 1 && !monitor::parse_number(argv[1], cr3)) {
        kprintf("usage: vmmap [CR3]\n");
        return;
    }
    if (!known_directory(cr3)) return;
    kprintf("Mapped ranges under CR3 0x%08x (virtual -> physical, size, permissions):\n", cr3);
    paging::print_mappings(cr3, 0, layout::kKernelAreaEnd);
}

namespace {
// Who owns the address space whose page directory is at `directory`: "pid 3 (sh)", or a PagedMemory no
// process owns (an in-kernel test's), or nothing live at all (the frame table would be wrong).
void print_owner(u32 directory) {
    PagedMemory* memory = PagedMemory::find(directory);
    if (!memory) {
        kprintf("no live address space!");
        return;
    }
    for (u32 i = 0; i < process::kMaxProcesses; ++i) {
        Process* p = process::slot(i);
        if (p && p->memory == memory) {
            kprintf("pid %d (%s)", p->pid, p->name);
            return;
        }
    }
    kprintf("no process");
}
}  // namespace

MONITOR_COMMAND(
    rmap, "rmap", "[PFN | check]",
    "who maps physical frame PFN (the frame table's reverse map); 'check' compares it with every page table") {
    const ReverseMap& map = frame_table::reverse_map();
    if (argc < 2) {
        frame_table::print_summary();
        // The frames worth a look: shared ones (copy-on-write after fork), the first few.
        constexpr u32 kShown = 12;
        u32 shared = 0;
        for (u32 pfn = map.first_pfn(); pfn < map.end_pfn(); ++pfn) {
            u32 count = map.count(pfn);
            if (count < 2) continue;
            if (shared < kShown) kprintf("%s0x%x (%u)", shared == 0 ? "Shared frames (mappings): " : ", ", pfn, count);
            ++shared;
        }
        if (shared > kShown) kprintf(", ... %u in all", shared);
        if (shared) kprintf("\n");
        kprintf("usage: rmap PFN (a frame number: physical address >> 12), rmap check\n");
        return;
    }
    if (strcmp(argv[1], "check") == 0) {
        u32 spaces = 0;
        PagedMemory::for_each([&](PagedMemory&) { ++spaces; });
        if (PagedMemory::check_frame_table(console::sink, nullptr))
            kprintf("frame table agrees with the page tables of %u address spaces (%u mappings)\n", spaces,
                    frame_table::reverse_map().mappings());
        return;
    }
    u32 pfn;
    if (!monitor::parse_number(argv[1], pfn)) {
        kprintf("usage: rmap [PFN | check]\n");
        return;
    }
    if (!map.covers(pfn)) {
        kprintf("frame 0x%x is outside the frame table (frames 0x%x-0x%x)\n", pfn, map.first_pfn(), map.end_pfn() - 1);
        return;
    }
    u32 count = map.count(pfn);
    kprintf("frame 0x%x (physical 0x%08x): %u mapping%s, reference count %u\n", pfn, pfn << 12, count,
            count == 1 ? "" : "s", pmm::frame_references(pfn));
    map.for_each(pfn, [](ReverseMapping m) {
        paging::Walk w = paging::walk(m.directory, m.vaddr);
        char bits[96];
        w.pte.describe(bits, sizeof(bits));
        bool cow = (w.pte.available() & KernelPageTables::kAvailableCopyOnWrite) != 0;
        kprintf("  directory 0x%08x  virtual 0x%08x  PTE 0x%08x %-12s %-5s ", m.directory, m.vaddr, w.pte.raw(), bits,
                cow ? "COW" : "");
        print_owner(m.directory);
        kprintf("\n");
    });
}
