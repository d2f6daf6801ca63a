// Tss.h: the 32-bit task-state segment (Intel SDM Vol. 3A 7.2.1, Figure 7-2).
//
// Mneme does not switch tasks in hardware; it uses the TSS for two things only:
//  - ss0:esp0, the stack the CPU switches to when an interrupt arrives in ring 3 (SDM 6.12.1); the
//    scheduler points it at the running process's kernel stack;
//  - a second TSS for the double-fault task gate, so a kernel stack overflow lands on a fresh stack and is
//    reported instead of escalating to a triple fault (SDM 6.15, "Interrupt 8").
// io_map_base points past the segment's limit: there is no I/O permission bitmap, so with IOPL 0 every
// IN/OUT from ring 3 raises #GP (SDM 18.5.2).
#pragma once

#include "libc/base/Types.h"

struct [[gnu::packed]] TaskStateSegment {
    u16 previous_task, reserved0;
    u32 esp0;
    u16 ss0, reserved1;
    u32 esp1;
    u16 ss1, reserved2;
    u32 esp2;
    u16 ss2, reserved3;
    u32 cr3;
    u32 eip;
    u32 eflags;
    u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
    u16 es, reserved4;
    u16 cs, reserved5;
    u16 ss, reserved6;
    u16 ds, reserved7;
    u16 fs, reserved8;
    u16 gs, reserved9;
    u16 ldt_selector, reserved10;
    u16 debug_trap;
    u16 io_map_base;
};
static_assert(sizeof(TaskStateSegment) == 104);
