// Interrupts.h: interrupts off, nesting, counted per CPU.
//
// A spinlock must turn interrupts off on its CPU before it takes the lock: an interrupt handler that wanted
// the same lock would otherwise spin forever on a lock its own CPU holds. Locks nest, and the first one may
// be taken with interrupts on or off, so "off" is counted: the outermost disable() remembers whether they
// were on (PerCpu::interrupts_were_on) and only the matching outermost restore() turns them back on. An
// inner lock's release thus never enables interrupts under an outer lock.
//
// cpu::InterruptGuard (arch/i386/Cpu.h) saves EFLAGS on its own stack instead; the two mix: a guard inside
// a lock finds interrupts off and leaves them off, a lock inside a guard records "were off".
#pragma once

#include "arch/i386/Cpu.h"
#include "kernel/smp/PerCpu.h"

namespace sync {

inline void disable_interrupts_nested() {
    u32 flags = cpu::read_eflags();
    cpu::disable_interrupts();
    PerCpu* cpu = per_cpu::this_cpu();
    if (cpu->interrupts_off_depth++ == 0) cpu->interrupts_were_on = flags & cpu::kEflagsInterrupt;
}

// VERIFY: interrupts are still off (nobody enabled them inside) and there is a section to close.
void restore_interrupts_nested();

class InterruptsOff {
public:
    InterruptsOff() { disable_interrupts_nested(); }
    ~InterruptsOff() { restore_interrupts_nested(); }
    InterruptsOff(const InterruptsOff&) = delete;
    InterruptsOff& operator=(const InterruptsOff&) = delete;
};

}  // namespace sync
