// Context.h: the kernel-stack switch (Context.asm) and the entry into user mode.
#pragma once

#include "libc/base/Types.h"

extern "C" {
// Saves the current kernel context, stores its stack pointer in *save_esp, resumes the context whose stack
// pointer is next_esp. Returns when some other context switches back to this one.
void switch_context(u32* save_esp, u32 next_esp);
// The tail of the interrupt path (Isr.asm): pops a TrapFrame and IRETs. A new process's first context
// "returns" here.
void trap_return();
// A new process's first context returns here: it lets go of the big kernel lock and jumps to trap_return.
void first_return_to_user();
}

// The words switch_context pops from a context that never ran: EDI, ESI, EBX, EBP, then the return address.
struct InitialContext {
    u32 edi, esi, ebx, ebp;
    u32 return_address;
};
