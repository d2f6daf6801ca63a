// Idt.h: the interrupt descriptor table and the dispatch of traps to handlers.
//
// Vectors 0-31 are the CPU's exceptions (SDM Vol. 3A 6.3.1, Table 6-1), 32-47 the 16 legacy IRQs after
// the PIC is remapped, 0x80 the system-call gate (DPL 3, so `int 0x80` is allowed from ring 3).
//
// Exceptions and IRQs come through interrupt gates: the CPU clears IF on entry (SDM Vol. 3A 6.12.1.2), so an
// interrupt handler is never interrupted, and a fault handler runs with interrupts off until it chooses
// otherwise (the page-fault handler enables them for a user fault once CR2 is read). The system-call gate
// is a trap gate: IF stays as it was, set in user mode, so a system call runs with interrupts on and the
// clock ticks through a long one. Vector 8, the double fault, is a task gate: it runs on its own TSS and
// stack (see Tss.h).
//
// One table per CPU. A task gate names a single TSS selector (SDM Vol. 3A 6.11), and a TSS is busy while its
// task runs (7.3): two CPUs double-faulting through one gate would find the TSS busy and shut down, and the
// one task's back link could name only one CPU's interrupted TSS. Each CPU therefore loads its own copy of
// the table (2 KiB), alike but for gate 8, which names that CPU's double-fault TSS. Every set_gate writes
// all copies, so a vector added later reaches every CPU.
#pragma once

#include "arch/i386/Pic.h"
#include "arch/i386/TrapFrame.h"
#include "libc/base/Types.h"

namespace idt {

constexpr u8 kIrqBase = 32;
constexpr u8 kSyscallVector = 0x80;
// The local APIC's own interrupts (docs/multicore.md): each CPU's timer (the application processors' clock;
// the bootstrap processor keeps the PIT), a wake-up for a halted CPU, and the TLB shootdown request. Above
// the PIC's 16 and below 0x80; an APIC interrupt's priority class is its vector's upper four bits (SDM
// Vol. 3A 10.8.3.1), all equal here. The spurious vector's low four bits must be 1s on P6-era APICs (10.9).
constexpr u8 kApicTimerVector = 48;
constexpr u8 kWakeVector = 49;
constexpr u8 kTlbShootdownVector = 50;
constexpr u8 kApicVectorEnd = 51;
constexpr u8 kSpuriousVector = 0xFF;
constexpr u16 kVectors = 256;
constexpr u8 kDoubleFault = 8;
constexpr u32 kMaxTables = 16;  // one per CPU: per_cpu::kMaxCpus (kernel/smp/PerCpu.h)

using Handler = void (*)(TrapFrame&);

void initialize();
// LIDT of CPU `cpu`'s table (each CPU has its own IDTR).
void load_on_this_cpu(u32 cpu);
// CPU `cpu` (an application processor) gets a table of its own in `storage` (kTableBytes, 8-byte aligned,
// kept while the CPU runs): a copy of CPU 0's, which set_gate keeps in step.
constexpr u32 kTableBytes = kVectors * 8;
void adopt_table(u32 cpu, void* storage);
// Gate 8 of CPU `cpu`'s table names `tss_selector`, that CPU's double-fault TSS (gdt::add_double_fault_tss).
void set_double_fault_task(u32 cpu, u16 tss_selector);
// Registers `handler` for `vector`, replacing the previous one.
void set_handler(u8 vector, Handler handler);
Handler handler(u8 vector);
// Called for exceptions without a handler of their own.
void set_default_exception_handler(Handler handler);

// For the monitor: the raw gate of a vector.
struct GateInfo {
    bool present;
    u32 offset;
    u16 selector;
    u8 type;  // 0x5 task, 0xE interrupt, 0xF trap
    u8 dpl;
};
GateInfo gate(u16 vector);                  // in the running CPU's table (SIDT)
GateInfo gate_of_cpu(u32 cpu, u16 vector);  // in CPU `cpu`'s table

// Names of the exceptions, "Page fault" for 14 etc.; "IRQ n" / "vector n" beyond.
const char* vector_name(u32 vector);
// Short mnemonics: "#PF", "#GP", ...
const char* vector_mnemonic(u32 vector);

namespace detail {
extern Handler g_handlers[kVectors];
extern Handler g_default_exception_handler;
}  // namespace detail

// Acknowledges a PIC IRQ and runs the vector's handler (the default one for an exception without one).
// Called by trap_dispatch (kernel/proc/TrapEntry.cpp), with the big kernel lock held; inline, since every
// trap passes here.
[[gnu::always_inline]] inline void dispatch(TrapFrame& frame) {
    u32 vector = frame.vector;
    if (vector >= kIrqBase && vector < kIrqBase + 16) {
        u8 irq = static_cast<u8>(vector - kIrqBase);
        if (pic::is_spurious(irq)) return;
        // Acknowledge first: a handler may switch to another process and not come back here for a while.
        pic::end_of_interrupt(irq);
    }
    Handler handler = detail::g_handlers[vector];
    if (!handler && vector < 32) handler = detail::g_default_exception_handler;
    if (handler) handler(frame);
}

}  // namespace idt
