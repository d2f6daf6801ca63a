// Idt.cpp: building the IDT (Intel SDM Vol. 3A 6.10-6.11) and dispatching traps.
#include "arch/i386/Idt.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Pic.h"

extern "C" const u32 interrupt_stub_table[idt::kApicVectorEnd];
extern "C" const u32 syscall_stub;
extern "C" const u32 spurious_stub;

namespace idt {
namespace detail {
Handler g_handlers[kVectors];
Handler g_default_exception_handler;
}  // namespace detail
using detail::g_default_exception_handler;
using detail::g_handlers;
namespace {

// An IDT gate descriptor (SDM Vol. 3A 6.11, Figure 6-2).
struct [[gnu::packed]] Gate {
    u16 offset_low;
    u16 selector;
    u8 zero;
    u8 attributes;  // P(7) DPL(6:5) 0(4) type(3:0)
    u16 offset_high;
};
static_assert(sizeof(Gate) == 8);

// Gate types (SDM Vol. 3A 6.11, Figure 6-2): an interrupt gate clears IF on entry, a trap gate leaves it.
constexpr u8 kInterruptGate32 = 0xE;
constexpr u8 kTrapGate32 = 0xF;
constexpr u8 kTaskGate = 0x5;

// One table per CPU (see Idt.h): the same gates in each, but for gate 8. CPU 0's is static; an application
// processor's comes from the kernel heap when it is started (adopt_table), so a one-CPU machine pays 2 KiB,
// not 32. A CPU without a table of its own reads CPU 0's.
alignas(8) Gate g_bootstrap_table[kVectors];
Gate* g_idt[kMaxTables] = {g_bootstrap_table};

Gate* table_of(u32 cpu) {
    Gate* table = g_idt[cpu % kMaxTables];
    return table ? table : g_bootstrap_table;
}


Gate make_gate(u32 offset, u16 selector, u8 type, u8 dpl) {
    return Gate{static_cast<u16>(offset & 0xFFFF), selector, 0, static_cast<u8>(0x80 | (dpl << 5) | type),
                static_cast<u16>(offset >> 16)};
}

// Every CPU's table gets the gate: the tables differ only where set_double_fault_task says.
void set_gate(u16 vector, u32 offset, u16 selector, u8 type, u8 dpl) {
    for (Gate* table : g_idt)
        if (table) table[vector] = make_gate(offset, selector, type, dpl);
}

GateInfo decode(const Gate& g) {
    return GateInfo{(g.attributes & 0x80) != 0, g.offset_low | (static_cast<u32>(g.offset_high) << 16), g.selector,
                    static_cast<u8>(g.attributes & 0xF), static_cast<u8>((g.attributes >> 5) & 3)};
}

const char* const kExceptionNames[32] = {
    "Divide error",
    "Debug",
    "Non-maskable interrupt",
    "Breakpoint",
    "Overflow",
    "BOUND range exceeded",
    "Invalid opcode",
    "Device not available",
    "Double fault",
    "Coprocessor segment overrun",
    "Invalid TSS",
    "Segment not present",
    "Stack-segment fault",
    "General protection fault",
    "Page fault",
    "Reserved (15)",
    "x87 floating-point error",
    "Alignment check",
    "Machine check",
    "SIMD floating-point exception",
    "Virtualization exception",
    "Control protection exception",
    "Reserved (22)",
    "Reserved (23)",
    "Reserved (24)",
    "Reserved (25)",
    "Reserved (26)",
    "Reserved (27)",
    "Hypervisor injection exception",
    "VMM communication exception",
    "Security exception",
    "Reserved (31)",
};
const char* const kMnemonics[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "-",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "-",   "-",   "-",   "-",   "-",   "-",   "#HV", "#VC", "#SX", "-",
};

}  // namespace

void initialize() {
    for (u16 v = 0; v < kApicVectorEnd; ++v)
        set_gate(v, interrupt_stub_table[v], gdt::kKernelCode, kInterruptGate32, 0);
    set_gate(kSyscallVector, syscall_stub, gdt::kKernelCode, kTrapGate32, 3);
    set_gate(kSpuriousVector, spurious_stub, gdt::kKernelCode, kInterruptGate32, 0);
    // Double fault through a task gate: the offset is unused, the selector names the TSS (SDM 6.11). CPU
    // 0's until set_double_fault_task gives another CPU's table its own.
    set_gate(kDoubleFault, 0, gdt::kDoubleFaultTss, kTaskGate, 0);
    load_on_this_cpu(0);
}

void adopt_table(u32 cpu, void* storage) {
    auto* table = static_cast<Gate*>(storage);
    __builtin_memcpy(table, g_bootstrap_table, sizeof(g_bootstrap_table));
    g_idt[cpu % kMaxTables] = table;
}

void set_double_fault_task(u32 cpu, u16 tss_selector) {
    table_of(cpu)[kDoubleFault] = make_gate(0, tss_selector, kTaskGate, 0);
}

void load_on_this_cpu(u32 cpu) {
    cpu::DescriptorTablePointer pointer{sizeof(g_bootstrap_table) - 1, reinterpret_cast<u32>(table_of(cpu))};
    asm volatile("lidt %0" : : "m"(pointer));
}

void set_handler(u8 vector, Handler handler) { g_handlers[vector] = handler; }
Handler handler(u8 vector) { return g_handlers[vector]; }
void set_default_exception_handler(Handler handler) { g_default_exception_handler = handler; }

GateInfo gate(u16 vector) {
    cpu::DescriptorTablePointer loaded;
    asm volatile("sidt %0" : "=m"(loaded));
    return decode(reinterpret_cast<const Gate*>(loaded.base)[vector % kVectors]);
}

GateInfo gate_of_cpu(u32 cpu, u16 vector) { return decode(table_of(cpu)[vector % kVectors]); }

const char* vector_name(u32 vector) {
    if (vector < 32) return kExceptionNames[vector];
    if (vector >= kIrqBase && vector < kIrqBase + 16) return pic::irq_name(vector - kIrqBase);
    if (vector == kSyscallVector) return "System call";
    if (vector == kApicTimerVector) return "APIC timer";
    if (vector == kWakeVector) return "Wake-up IPI";
    if (vector == kTlbShootdownVector) return "TLB shootdown IPI";
    if (vector == kSpuriousVector) return "APIC spurious";
    return "Unknown vector";
}

const char* vector_mnemonic(u32 vector) { return vector < 32 ? kMnemonics[vector] : "IRQ"; }

}  // namespace idt

