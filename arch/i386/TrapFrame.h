// TrapFrame.h: the registers saved on the kernel stack when an interrupt or exception arrives.
//
// Built from the top down by the CPU (eflags, cs, eip and, coming from ring 3, user esp and ss; SDM Vol. 3A
// 6.12.1, Figure 6-4), then by the stub in Isr.asm (error code or a dummy 0, the vector, PUSHAD, segment
// registers). The order of the fields is the reverse of the push order.
#pragma once

#include "libc/base/Types.h"

struct TrapFrame {
    u32 gs, fs, es, ds;
    u32 edi, esi, ebp, esp_at_pushad, ebx, edx, ecx, eax;  // PUSHAD order, reversed
    u32 vector;
    u32 error_code;
    u32 eip, cs, eflags;
    u32 user_esp, user_ss;  // valid only when the trap came from ring 3

    bool from_user() const { return (cs & 3) == 3; }
    // The stack pointer the interrupted code had: for a ring-0 trap the CPU pushed nothing more, so it is
    // the address just past eflags.
    u32 interrupted_esp() const { return from_user() ? user_esp : reinterpret_cast<u32>(&user_esp); }
};
static_assert(sizeof(TrapFrame) == 19 * 4);
