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
#pragma once

#include "arch/i386/TrapFrame.h"
#include "libc/base/Types.h"

namespace idt {

constexpr u8 kIrqBase = 32;
constexpr u8 kSyscallVector = 0x80;
constexpr u16 kVectors = 256;

using Handler = void (*)(TrapFrame&);

void initialize();
// LIDT of the one table: each CPU has its own IDTR, all of them point at the same gates.
void load_on_this_cpu();
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
GateInfo gate(u16 vector);

// Names of the exceptions, "Page fault" for 14 etc.; "IRQ n" / "vector n" beyond.
const char* vector_name(u32 vector);
// Short mnemonics: "#PF", "#GP", ...
const char* vector_mnemonic(u32 vector);

}  // namespace idt
