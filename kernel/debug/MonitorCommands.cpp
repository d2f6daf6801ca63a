// MonitorCommands.cpp: the monitor commands that show the CPU's own tables and let a student raise each
// exception on purpose. Commands about memory live beside the memory code.
#include "arch/i386/Cpu.h"
#include "arch/i386/Cpuid.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Idt.h"
#include "arch/i386/Pit.h"
#include "arch/i386/Power.h"
#include "kernel/boot/BootOptions.h"
#include "kernel/boot/Multiboot.h"
#include "kernel/debug/KTest.h"
#include "kernel/debug/Monitor.h"
#include "kernel/debug/Symbols.h"
#include "kernel/debug/Traps.h"
#include "kernel/dev/Console.h"
#include "libc/rt/String.h"

namespace {

void print_descriptor(u32 index, const SegmentDescriptor& d) {
    u16 selector = static_cast<u16>(index << 3);
    if (d.is_null()) {
        kprintf("  %2u  0x%02x  %-10s  %-10s  %-24s\n", index, selector, "-", "-", "null");
        return;
    }
    kprintf("  %2u  0x%02x  0x%08x  0x%08x  %-24s  %u    %s%s%s%s\n", index, selector, d.base(), d.limit(),
            d.type_name(), d.dpl(), d.is_present() ? "present" : "NOT present",
            d.is_code_or_data() ? (d.is_32bit() ? ", 32-bit" : ", 16-bit") : "",
            d.granularity_4k() ? ", 4 KiB granular" : "",
            (d.is_code_or_data() && (d.type() & SegmentDescriptor::kTypeAccessed)) ? ", accessed" : "");
}

}  // namespace

MONITOR_COMMAND(gdt, "gdt", "", "the live GDT decoded: base, limit, type, DPL of each entry") {
    cpu::DescriptorTablePointer gdtr = cpu::store_gdtr();
    u32 entries = (gdtr.limit + 1u) / 8;
    kprintf("GDTR: base 0x%08x, limit 0x%04x (%u entries); task register 0x%02x\n", gdtr.base, gdtr.limit, entries,
            cpu::store_task_register());
    kprintf("  %2s  %-4s  %-10s  %-10s  %-24s  %s  %s\n", "#", "sel", "base", "limit", "type", "DPL", "flags");
    const auto* table = reinterpret_cast<const SegmentDescriptor*>(gdtr.base);
    u32 shown = 0;
    for (u32 i = 0; i < entries; ++i) {
        // Trailing unused slots (reserved for run-time descriptors) are summarized, not listed.
        if (i >= gdt::kFirstDynamic && table[i].is_null()) continue;
        print_descriptor(i, table[i]);
        ++shown;
    }
    if (shown < entries) kprintf("  (%u unused slots not shown)\n", entries - shown);
    kprintf(
        "Selectors in use: CS 0x%02x (kernel code), DS/ES/SS 0x%02x (kernel data), GS 0x%02x (this CPU's "
        "per-CPU data); user code 0x%02x and user data 0x%02x carry RPL 3.\n",
        gdt::kKernelCode, gdt::kKernelData, cpu::read_gs(), gdt::kUserCode, gdt::kUserData);
}

MONITOR_COMMAND(idt, "idt", "", "the IDT's present gates and their handlers") {
    cpu::DescriptorTablePointer idtr = cpu::store_idtr();
    kprintf("IDTR: base 0x%08x, limit 0x%04x (%u gates)\n", idtr.base, idtr.limit, (idtr.limit + 1u) / 8);
    kprintf("  vec   %-30s %-16s DPL  handler\n", "name", "gate");
    for (u16 v = 0; v < idt::kVectors; ++v) {
        idt::GateInfo g = idt::gate(v);
        if (!g.present) continue;
        const char* type = g.type == 0x5 ? "task gate" : (g.type == 0xE ? "interrupt gate" : "trap gate");
        kprintf("  0x%02x  %-30s %-16s %u    ", v, idt::vector_name(v), type, g.dpl);
        if (g.type == 0x5)
            kprintf("TSS selector 0x%02x (runs on its own stack)\n", g.selector);
        else {
            symbols::print_address(g.offset);
            kprintf("\n");
        }
    }
}

MONITOR_COMMAND(cpuid, "cpuid", "", "processor vendor, model and features") {
    const cpuid::Info& info = cpuid::detect();
    if (!info.supported) {
        kprintf("This processor has no CPUID instruction (EFLAGS.ID cannot be toggled): an early 486.\n");
        return;
    }
    kprintf("  vendor:   %s\n", info.vendor);
    if (info.brand[0]) kprintf("  brand:    %s\n", info.brand);
    kprintf("  family %u, model %u, stepping %u; highest leaf %u\n", info.family, info.model, info.stepping,
            info.max_leaf);
    cpuid::print_features(console::sink, nullptr);
    kprintf("  paging:   4 MiB pages (PSE) %s, global pages (PGE) %s, PAE %s\n", cpuid::has(cpuid::kPse) ? "yes" : "no",
            cpuid::has(cpuid::kPge) ? "yes" : "no", cpuid::has(cpuid::kPae) ? "yes" : "no");
}

MONITOR_COMMAND(options, "options", "", "boot options: the command line and every accepted key") {
    kprintf("Command line: %s\n", boot_options::raw()[0] ? boot_options::raw() : "(empty)");
    boot_options::print_help();
}

MONITOR_COMMAND(uptime, "uptime", "", "time since boot and timer ticks") {
    u64 ms = pit::uptime_ms();
    kprintf("up %u.%03u s, %llu ticks at %u Hz\n", static_cast<unsigned>(ms / 1000), static_cast<unsigned>(ms % 1000),
            static_cast<unsigned long long>(pit::ticks()), pit::frequency());
}

MONITOR_COMMAND(ktest, "ktest", "[all|SUITE...]", "run in-kernel tests here (no QEMU exit); no argument lists suites") {
    if (argc < 2) {
        ktest::list();
        return;
    }
    char selection[96] = "";
    for (int i = 1; i < argc; ++i) {
        if (i > 1) strcat(selection, ",");
        if (strlen(selection) + strlen(argv[i]) + 2 > sizeof(selection)) break;
        strcat(selection, argv[i]);
    }
    ktest::run(selection);
}

// -- Exceptions on purpose --------------------------------------------------------------------------------
// Each is its own non-inlined function so the backtrace names it.

[[gnu::noinline]] void fault_page_fault() {
    kprintf("Reading from address 0x00000000 (a null pointer): nothing is mapped in the first page.\n");
    volatile u32* null_pointer = nullptr;
    u32 value = *null_pointer;
    kprintf("read 0x%x (unexpected)\n", value);
}

[[gnu::noinline]] void fault_general_protection() {
    kprintf("Loading selector 0x1230 into DS: GDT index 582 lies beyond the GDT's limit.\n");
    asm volatile("mov $0x1230, %%ax; mov %%ax, %%ds" ::: "eax", "memory");
}

[[gnu::noinline]] void fault_invalid_opcode() {
    kprintf("Executing UD2, the instruction defined to be invalid.\n");
    asm volatile("ud2");
}

[[gnu::noinline]] void fault_divide_error() {
    kprintf("Dividing 1 by 0 with DIV.\n");
    // In asm: for C++'s 1 / x the compiler may legally emit (x == 1) instead of a division.
    asm volatile("xorl %%edx, %%edx; movl $1, %%eax; xorl %%ecx, %%ecx; divl %%ecx" ::: "eax", "ecx", "edx");
}

[[gnu::noinline]] void fault_write_read_only() {
    kprintf(
        "Writing to the kernel's own code at 0x%08x: the page is mapped read-only (and CR0.WP makes the\n"
        "kernel obey that too).\n",
        reinterpret_cast<u32>(&fault_write_read_only));
    *reinterpret_cast<volatile u8*>(&fault_write_read_only) = 0xC3;
}

[[gnu::noinline]] void fault_stack_overflow() {
    kprintf(
        "Recursing without end on this kernel stack. Below it lies an unmapped guard page: the page fault\n"
        "cannot push its frame there, so the CPU raises a double fault, which runs on a stack of its own.\n");
    traps::overflow_kernel_stack();
}

MONITOR_COMMAND(fault, "fault", "pf|ro|gp|ud|de|df", "raise an exception on purpose to see its report, then carry on") {
    struct Kind {
        const char* name;
        const char* what;
        void (*raise)();
    };
    static const Kind kKinds[] = {
        {"pf", "page fault: read a null pointer", fault_page_fault},
        {"ro", "page fault: write to read-only kernel code", fault_write_read_only},
        {"gp", "general protection fault", fault_general_protection},
        {"ud", "invalid opcode", fault_invalid_opcode},
        {"de", "divide error", fault_divide_error},
        {"df", "double fault: overflow the kernel stack into its guard page", fault_stack_overflow},
    };
    if (argc == 2) {
        for (const Kind& kind : kKinds) {
            if (strcmp(argv[1], kind.name) == 0) {
                // A recovery point brings the fault's handler back here after the report, where a fault
                // anywhere else stops the machine (kernel/debug/Traps.h).
                if (traps::run_recoverable(kind.raise)) kprintf("fault %s: no exception happened\n", kind.name);
                return;
            }
        }
    }
    kprintf("usage: fault KIND, where KIND is one of:\n");
    for (const Kind& kind : kKinds) kprintf("  %-4s %s\n", kind.name, kind.what);
}

MONITOR_COMMAND(reboot, "reboot", "", "reset the machine") {
    kprintf("Rebooting.\n");
    power::reboot();
}

MONITOR_COMMAND(halt, "halt", "", "power off (QEMU exits)") {
    kprintf("Powering off.\n");
    power::power_off();
    // QEMU acts on the request from its main loop, a moment later: give it a second before giving up.
    u64 deadline = pit::ticks() + pit::frequency();
    while (pit::ticks() < deadline) cpu::halt();
    kprintf("Power-off did not take effect (no ACPI power management here); halting the CPU.\n");
    power::halt_forever();
}
