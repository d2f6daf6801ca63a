// Cpu.h: control registers, interrupt flag, TLB and descriptor-table instructions (Intel SDM Vol. 3A
// chapter 2.5 "Control registers", 4.10.4 "Invalidation of TLBs", Vol. 2 for each instruction).
#pragma once

#include "libc/base/Types.h"

namespace cpu {

// CR0 bits (SDM Vol. 3A 2.5).
constexpr u32 kCr0ProtectionEnable = 1u << 0;
constexpr u32 kCr0WriteProtect = 1u << 16;  // ring 0 writes honour read-only pages
constexpr u32 kCr0Paging = 1u << 31;
// CR4 bits (SDM Vol. 3A 2.5).
constexpr u32 kCr4PageSizeExtensions = 1u << 4;  // PSE: 4 MiB pages in 32-bit paging
constexpr u32 kCr4PageGlobalEnable = 1u << 7;    // PGE: global pages survive CR3 loads
// EFLAGS bits (SDM Vol. 1 3.4.3).
constexpr u32 kEflagsInterrupt = 1u << 9;
constexpr u32 kEflagsNestedTask = 1u << 14;  // NT: IRET returns to the task in the TSS's back link
constexpr u32 kEflagsId = 1u << 21;          // toggleable iff CPUID exists

inline u32 read_cr0() {
    u32 v;
    asm volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
inline void write_cr0(u32 v) { asm volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
inline u32 read_cr2() {
    u32 v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
inline u32 read_cr3() {
    u32 v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
inline void write_cr3(u32 v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
// CR4 does not exist on a 486 without CPUID-reported features; callers check cpu features first.
inline u32 read_cr4() {
    u32 v;
    asm volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
inline void write_cr4(u32 v) { asm volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

inline void invlpg(uptr address) { asm volatile("invlpg (%0)" : : "r"(address) : "memory"); }

inline u32 read_eflags() {
    u32 v;
    asm volatile("pushfl; popl %0" : "=r"(v));
    return v;
}
inline void write_eflags(u32 v) { asm volatile("pushl %0; popfl" : : "r"(v) : "memory", "cc"); }
inline void disable_interrupts() { asm volatile("cli" ::: "memory"); }
inline void enable_interrupts() { asm volatile("sti" ::: "memory"); }
inline bool interrupts_enabled() { return read_eflags() & kEflagsInterrupt; }
inline void halt() { asm volatile("hlt" ::: "memory"); }
// The time-stamp counter (SDM Vol. 3B 18.17): counts at a constant rate, with interrupts on or off.
inline u64 read_tsc() {
    u32 low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return (u64{high} << 32) | low;
}
// Enable interrupts and halt atomically: STI delays interrupts by one instruction, so no interrupt can
// slip in between and leave the CPU halted with the event already handled (SDM Vol. 2B, STI).
inline void enable_interrupts_and_halt() { asm volatile("sti; hlt" ::: "memory"); }
inline u32 read_ebp() {
    u32 v;
    asm volatile("mov %%ebp, %0" : "=r"(v));
    return v;
}
inline u32 read_esp() {
    u32 v;
    asm volatile("mov %%esp, %0" : "=r"(v));
    return v;
}

struct [[gnu::packed]] DescriptorTablePointer {
    u16 limit;
    u32 base;
};
static_assert(sizeof(DescriptorTablePointer) == 6);

inline DescriptorTablePointer store_gdtr() {
    DescriptorTablePointer p;
    asm volatile("sgdt %0" : "=m"(p));
    return p;
}
inline DescriptorTablePointer store_idtr() {
    DescriptorTablePointer p;
    asm volatile("sidt %0" : "=m"(p));
    return p;
}
// LLDT (SDM Vol. 3A 3.5.1, "Segment Descriptor Tables"): LDTR takes the LDT descriptor at `selector` in the
// GDT and keeps a hidden copy of its base and limit; selector 0 leaves LDTR null, so any selector with TI=1
// then raises #GP. A segment register loaded from the LDT keeps its own hidden copy too (SDM 3.4.3): changing
// the LDT changes nothing until the register is reloaded.
inline void load_ldt(u16 selector) { asm volatile("lldt %0" : : "r"(selector) : "memory"); }
inline u16 store_ldt() {
    u16 v;
    asm volatile("sldt %0" : "=r"(v));
    return v;
}
// GS holds this CPU's per-CPU data segment in the kernel (kernel/smp/PerCpu.h). Loading a data segment
// register reads the descriptor into the register's hidden part (SDM Vol. 3A 3.4.3); a GS-relative access
// then adds that descriptor's base, so the same instruction reaches each CPU's own area.
inline void load_gs(u16 selector) { asm volatile("mov %0, %%gs" : : "r"(selector) : "memory"); }
inline u16 read_gs() {
    u16 v;
    asm volatile("mov %%gs, %0" : "=r"(v));
    return v;
}
// The 32-bit word at GS:offset.
inline u32 read_gs_dword(u32 offset) {
    u32 v;
    asm volatile("movl %%gs:(%1), %0" : "=r"(v) : "r"(offset) : "memory");
    return v;
}
inline u16 store_task_register() {
    u16 v;
    asm volatile("str %0" : "=r"(v));
    return v;
}

// Saves EFLAGS and disables interrupts; restores the saved interrupt flag on destruction, so guards nest (an
// inner one leaves interrupts off for the outer one). On one CPU this is the lock for data shared with
// interrupt handlers: keep the section short, never sleep in it except through WaitQueue::sleep (which
// switches with the guard's state kept on the sleeper's stack). docs/processes.md, "Interrupts in the kernel",
// lists what it protects and the lock order.
class InterruptGuard {
public:
    InterruptGuard() : m_flags(read_eflags()) { disable_interrupts(); }
    ~InterruptGuard() {
        if (m_flags & kEflagsInterrupt) enable_interrupts();
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

private:
    u32 m_flags;
};

}  // namespace cpu
