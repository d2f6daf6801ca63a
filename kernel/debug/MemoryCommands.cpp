// MemoryCommands.cpp: the monitor commands that show physical memory and paging: meminfo, buddy, pt, vmmap.
#include "arch/i386/Cpu.h"
#include "kernel/dev/Console.h"
#include "kernel/boot/Layout.h"
#include "kernel/debug/Monitor.h"
#include "kernel/boot/Multiboot.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/PhysicalMemory.h"
#include "libc/rt/String.h"

MONITOR_COMMAND(meminfo, "meminfo", "", "the memory map, reserved regions and the page allocator's free memory") {
    kprintf("Physical memory map (BIOS E820, passed on by the multiboot loader):\n");
    multiboot::print_memory_map();
    pmm::print_summary();
}

MONITOR_COMMAND(buddy, "buddy", "[N]", "the buddy allocator's free lists, N blocks per list (default 8)") {
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
    buddy->dump_free_lists(console::sink, nullptr, per_list);
}

MONITOR_COMMAND(pt, "pt", "VADDR [CR3]", "walk the page tables for VADDR: CR3 -> PDE -> PTE -> frame, bits decoded") {
    u32 address, cr3 = cpu::read_cr3();
    if (argc < 2 || !monitor::parse_number(argv[1], address) || (argc > 2 && !monitor::parse_number(argv[2], cr3))) {
        kprintf("usage: pt VADDR [CR3]   e.g. pt 0xc0100000, pt 0\n");
        return;
    }
    paging::print_walk(cr3, address);
}

MONITOR_COMMAND(vmmap, "vmmap", "[CR3]", "the mapped ranges of an address space with their permissions") {
    u32 cr3 = cpu::read_cr3();
    if (argc > 1 && !monitor::parse_number(argv[1], cr3)) {
        kprintf("usage: vmmap [CR3]\n");
        return;
    }
    kprintf("Mapped ranges under CR3 0x%08x (virtual -> physical, size, permissions):\n", cr3);
    paging::print_mappings(cr3, 0, layout::kKernelAreaEnd);
}
