// RecoveryPoint.h: a place in the kernel that a fault handler can resume at (RecoveryPoint.asm).
//
// The same idea as C's setjmp/longjmp and as the exception fix-ups kernels use for faults on user copies (the
// handler of a fault at a known instruction resumes at a known "fix-up" address instead of stopping): set
// saves the callee-saved registers (System V i386 psABI 2.2.1: EBX, ESI, EDI, EBP), the stack pointer, the
// return address and EFLAGS, and returns 0. resume, called later from deeper on the same stack (a trap
// handler running on top of the frame that faulted), restores them and makes set return a second time, with
// 1. Everything pushed since set (the faulting function's frames, the trap frame, the handler's frames) is
// abandoned, so this is only for code that holds no lock and changed nothing it must undo: the monitor's
// fault demonstrations.
//
// EFLAGS is restored because an interrupt gate cleared IF on the way into the handler (SDM Vol. 3A
// 6.12.1.2); CR3 is kept so a fault delivered through a task gate (the double fault, SDM Vol. 3A 7.3) can
// hand the interrupted task back its address space.
#pragma once

#include "libc/base/Types.h"

struct RecoveryPoint {
    u32 ebx, esi, edi, ebp;
    u32 esp;  // the stack pointer set's caller had after the call returned
    u32 eip;  // set's return address
    u32 eflags;
    u32 cr3;
};

extern "C" {
// Returns 0 when it saves the point, 1 when resume comes back to it.
[[gnu::returns_twice]] u32 recovery_point_set(RecoveryPoint* point);
// Restores the registers of `point`, which must belong to a function that has not returned yet.
[[noreturn]] void recovery_point_resume(const RecoveryPoint* point);
}
