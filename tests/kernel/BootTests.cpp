// BootTests.cpp: in-kernel tests of the foundation: descriptor tables as loaded, exception delivery and
// decoding, the timer, the command-line parser, the loader's information and the symbol table.
#include "arch/i386/Cpu.h"
#include "arch/i386/Cpuid.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Idt.h"
#include "arch/i386/Pit.h"
#include "kernel/boot/BootOptions.h"
#include "kernel/boot/Multiboot.h"
#include "kernel/debug/KTest.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/debug/Symbols.h"
#include "kernel/debug/Traps.h"
#include "libc/base/Format.h"
#include "libc/rt/String.h"

extern "C" void kmain(u32, u32);

namespace {

// -- A fault that comes back ----------------------------------------------------------------------------
// The handler records what the CPU delivered and resumes at a recovery address the test set just before
// the faulting instruction.
struct SeenFault {
    u32 vector, error_code, cr2, eip, cs;
};
volatile u32 g_recovery_eip;
SeenFault g_seen;

void record_and_recover(TrapFrame& frame) {
    g_seen = SeenFault{frame.vector, frame.error_code, cpu::read_cr2(), frame.eip, frame.cs};
    frame.eip = g_recovery_eip;
}

class HandlerOverride {
public:
    explicit HandlerOverride(u8 vector) : m_vector(vector), m_previous(idt::handler(vector)) {
        idt::set_handler(vector, record_and_recover);
        g_seen = SeenFault{};
    }
    ~HandlerOverride() { idt::set_handler(m_vector, m_previous); }

private:
    u8 m_vector;
    idt::Handler m_previous;
};

}  // namespace

KTEST(gdt, flat_kernel_and_user_segments) {
    cpu::DescriptorTablePointer gdtr = cpu::store_gdtr();
    const auto* table = reinterpret_cast<const SegmentDescriptor*>(gdtr.base);
    EXPECT_EQ(gdtr.limit, gdt::kEntries * 8u - 1);
    EXPECT(table[0].is_null());
    for (u16 index = 1; index <= 4; ++index) {
        EXPECT_EQ(table[index].base(), 0u);
        EXPECT_EQ(table[index].limit(), 0xFFFFFFFFu);
        EXPECT(table[index].is_present());
        EXPECT(table[index].is_32bit());
    }
    EXPECT(table[1].is_code());
    EXPECT(table[2].is_data());
    EXPECT_EQ(table[1].dpl(), 0u);
    EXPECT_EQ(table[3].dpl(), 3u);
    EXPECT_EQ(table[4].dpl(), 3u);
}

KTEST(gdt, segment_registers_hold_kernel_selectors) {
    u16 cs, ds, ss;
    asm volatile("mov %%cs, %0; mov %%ds, %1; mov %%ss, %2" : "=r"(cs), "=r"(ds), "=r"(ss));
    EXPECT_EQ(cs, gdt::kKernelCode);
    EXPECT_EQ(ds, gdt::kKernelData);
    EXPECT_EQ(ss, gdt::kKernelData);
}

// This CPU's TSS (CPU 0's is gdt::tss(), in slot kTss; an application processor's has a run-time slot, and
// the in-kernel tests run on one with testcpu=N).
KTEST(gdt, task_register_holds_tss) {
    const TaskStateSegment& own = *per_cpu::this_cpu()->tss;
    u16 selector = cpu::store_task_register();
    if (per_cpu::this_cpu()->index == 0) EXPECT_EQ(selector, gdt::kTss);
    const SegmentDescriptor& tss = gdt::entry(selector >> 3);
    // LTR marks the descriptor busy (SDM Vol. 3A 7.2.4).
    EXPECT_EQ(tss.type(), SegmentDescriptor::kSystemTssBusy);
    EXPECT_EQ(tss.base(), reinterpret_cast<u32>(&own));
    EXPECT_EQ(own.ss0, gdt::kKernelData);
    EXPECT_EQ(own.io_map_base, sizeof(TaskStateSegment));
}

KTEST(gdt, descriptor_round_trips_base_and_limit) {
    using P = SegmentDescriptor::Privilege;
    SegmentDescriptor small = SegmentDescriptor::data(0x12345678, 0xABCDE, P::User, false, true);
    EXPECT_EQ(small.base(), 0x12345678u);
    EXPECT_EQ(small.limit(), 0xABCDEu);
    EXPECT(!small.granularity_4k());
    EXPECT_EQ(small.dpl(), 3u);
    EXPECT(small.type() & SegmentDescriptor::kTypeExpandDown);
    EXPECT(!(small.type() & SegmentDescriptor::kTypeWritable));
    SegmentDescriptor big = SegmentDescriptor::code(0x00400000, 0x3FFFFFFF, P::User);
    EXPECT(big.granularity_4k());
    EXPECT_EQ(big.limit(), 0x3FFFFFFFu);
    big.set_base(0x00800000);
    EXPECT_EQ(big.base(), 0x00800000u);
    EXPECT_EQ(big.limit(), 0x3FFFFFFFu);
}

KTEST(idt, gates_for_exceptions_irqs_and_syscall) {
    for (u16 v = 0; v < 48; ++v) {
        idt::GateInfo g = idt::gate(v);
        EXPECT(g.present);
        if (v == 8) {
            EXPECT_EQ(g.type, 0x5u);  // task gate: CPU 0's double-fault TSS, or this application processor's own
            if (per_cpu::this_cpu()->index == 0) EXPECT_EQ(g.selector, gdt::kDoubleFaultTss);
            else EXPECT(g.selector != gdt::kDoubleFaultTss);
        } else {
            EXPECT_EQ(g.type, 0xEu);
            EXPECT_EQ(g.selector, gdt::kKernelCode);
            EXPECT_EQ(g.dpl, 0u);
        }
    }
    idt::GateInfo syscall = idt::gate(idt::kSyscallVector);
    EXPECT(syscall.present);
    EXPECT_EQ(syscall.dpl, 3u);
    EXPECT_EQ(syscall.type, 0xFu);  // a trap gate: system calls run with interrupts on
    EXPECT(!idt::gate(0x81).present);
}

KTEST(traps, page_fault_delivers_error_code_and_cr2) {
    HandlerOverride override(14);
    asm volatile(
        "movl $1f, %0\n\t"
        "movl $0x5a5a, 0x1234\n\t"  // write to an unmapped page
        "1:"
        : "=m"(g_recovery_eip)
        :
        : "memory");
    EXPECT_EQ(g_seen.vector, 14u);
    EXPECT_EQ(g_seen.cr2, 0x1234u);
    EXPECT_EQ(g_seen.error_code, 0x2u);  // not present, write, supervisor
    EXPECT_EQ(g_seen.cs, gdt::kKernelCode);
}

KTEST(traps, invalid_opcode_and_divide_error_reach_handlers) {
    {
        HandlerOverride override(6);
        asm volatile("movl $1f, %0\n\tud2\n\t1:" : "=m"(g_recovery_eip) : : "memory");
        EXPECT_EQ(g_seen.vector, 6u);
    }
    {
        HandlerOverride override(0);
        asm volatile(
            "movl $1f, %0\n\t"
            "xorl %%edx, %%edx\n\t"
            "movl $1, %%eax\n\t"
            "xorl %%ecx, %%ecx\n\t"
            "divl %%ecx\n\t"
            "1:"
            : "=m"(g_recovery_eip)
            :
            : "eax", "ecx", "edx", "memory");
        EXPECT_EQ(g_seen.vector, 0u);
    }
}

namespace {
volatile u32 g_demonstration_steps;
[[gnu::noinline]] void demonstration_without_fault() { g_demonstration_steps = g_demonstration_steps + 1; }
[[gnu::noinline]] void demonstration_with_fault() {
    g_demonstration_steps = g_demonstration_steps + 1;
    asm volatile("ud2");
    g_demonstration_steps = g_demonstration_steps + 100;  // never: the fault does not come back here
}
}  // namespace

// The monitor's `fault` demonstrations: the fault's report, then the recovery point resumes the caller, with
// its registers and its interrupt flag; once the call is over nothing is armed, so a later kernel fault
// would stop the machine (resume_if_recoverable, which panic::stop calls, returns).
KTEST(traps, recovery_point_resumes_a_demonstration_only_while_armed) {
    g_demonstration_steps = 0;
    u32 kept = g_demonstration_steps + 0x5a5a;  // lives in a callee-saved register or this frame
    bool interrupts = cpu::interrupts_enabled();
    EXPECT(traps::run_recoverable(demonstration_without_fault));
    EXPECT(!traps::run_recoverable(demonstration_with_fault));
    EXPECT_EQ(g_demonstration_steps, 2u);
    EXPECT_EQ(kept, 0x5a5au);
    EXPECT_EQ(cpu::interrupts_enabled(), interrupts);
    traps::resume_if_recoverable();  // nothing armed: returns
    EXPECT_EQ(g_demonstration_steps, 2u);
}

KTEST(traps, general_protection_names_the_selector) {
    HandlerOverride override(13);
    asm volatile(
        "movl $1f, %0\n\t"
        "movw $0x1230, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "1:\n\t"
        "movw %1, %%ax\n\t"
        "movw %%ax, %%ds"
        : "=m"(g_recovery_eip)
        : "i"(gdt::kKernelData)
        : "eax", "memory");
    EXPECT_EQ(g_seen.vector, 13u);
    EXPECT_EQ(g_seen.error_code, 0x1230u);
    char text[96];
    traps::describe_selector_error(g_seen.error_code, text, sizeof(text));
    EXPECT_EQ(strcmp(text, "GDT index 582 (selector 0x1230)"), 0);
}

KTEST(traps, page_fault_error_code_decoding) {
    char text[128];
    traps::describe_page_fault_error(0x7, text, sizeof(text));
    EXPECT_EQ(strcmp(text, "protection violation, write access, user mode"), 0);
    traps::describe_page_fault_error(0x10, text, sizeof(text));
    EXPECT_EQ(strcmp(text, "not-present page, read access, supervisor mode, instruction fetch"), 0);
    traps::describe_page_fault_error(0x8, text, sizeof(text));
    EXPECT(strstr(text, "reserved bit") != nullptr);
}

KTEST(timer, ticks_advance_with_interrupts_on) {
    EXPECT(cpu::interrupts_enabled());
    u64 start = pit::ticks();
    // Each HLT ends at the next interrupt; a handful of them must include timer ticks.
    for (int i = 0; i < 10 && pit::ticks() < start + 3; ++i) cpu::halt();
    EXPECT_GE(pit::ticks(), start + 3);
}

KTEST(cmdline, options_parse_and_bad_values_keep_defaults) {
    BootOptions options;
    EXPECT_EQ(boot_options::parse_into("/boot/kernel.elf hz=250 test=gdt,idt panic=halt", options), 0u);
    EXPECT_EQ(options.hz, 250u);
    EXPECT_EQ(strcmp(options.test, "gdt,idt"), 0);
    EXPECT(options.panic_halt);
    // Each rejected word is counted and leaves the default in place.
    EXPECT_EQ(boot_options::parse_into("kernel hz=5 hz=abc panic=maybe color=blue loose", options), 5u);
    EXPECT_EQ(options.hz, 100u);
    EXPECT(!options.panic_halt);
    EXPECT_EQ(options.test[0], '\0');
    EXPECT_EQ(boot_options::parse_into(nullptr, options), 0u);
}

KTEST(boot, multiboot_memory_map_has_usable_memory) {
    u64 available = multiboot::total_available_bytes();
    EXPECT_GE(available, 4ull * MiB);
    u32 regions = 0;
    bool low_memory_available = false;
    multiboot::for_each_region([&](const multiboot::MemoryMapEntry& e) {
        ++regions;
        EXPECT_NE(e.length, 0ull);  // zero-length entries are skipped
        if (e.base == 0 && e.type == 1) low_memory_available = true;
    });
    EXPECT_GE(regions, 2u);
    EXPECT(low_memory_available);
}

KTEST(boot, kernel_symbols_name_functions) {
    symbols::Lookup lookup = symbols::find(reinterpret_cast<u32>(&kmain) + 4);
    ASSERT(lookup.name != nullptr);
    EXPECT_EQ(strcmp(lookup.name, "kmain"), 0);
    EXPECT_EQ(lookup.offset, 4u);
    EXPECT(symbols::find(0x1000).name == nullptr);
    EXPECT_GT(symbols::count(), 100u);
}

KTEST(boot, cpuid_reports_a_vendor) {
    const cpuid::Info& info = cpuid::detect();
    // QEMU's 486 model answers CPUID too; a CPU without it would report supported == false.
    if (!info.supported) return;
    EXPECT_EQ(strlen(info.vendor), 12u);
}

KTEST(format, kernel_formatter_matches_expectations) {
    char buffer[64];
    format_to_buffer(buffer, sizeof(buffer), "%08x|%-4d|%s|%llu", 0xBEEFu, -7, "ok", 1ull << 40);
    EXPECT_EQ(strcmp(buffer, "0000beef|-7  |ok|1099511627776"), 0);
}
