// KernelStack.h: kernel stacks for processes, with a guard page under each.
//
// Each process runs its system calls and interrupts on its own kernel stack. The stacks live in the kernel
// area (0xFC000000 up, kernel/boot/Layout.h) in 16 KiB slots: one unmapped guard page, then 12 KiB of stack. A
// kernel stack overflow runs into the guard page: the page fault cannot be delivered on that stack, so it
// becomes a double fault, which runs on its own TSS and reports it (kernel/debug/Traps.cpp).
#pragma once

#include "libc/base/Error.h"
#include "libc/base/MemoryLayout.h"

class KernelStack {
public:
    static constexpr u32 kSlotSize = 16 * 1024;
    static constexpr u32 kGuardSize = kPageSize;
    static constexpr u32 kSize = kSlotSize - kGuardSize;

    // Maps a new stack; Error::NoMemory if no frame or slot is left.
    static ErrorOr<KernelStack> allocate();
    KernelStack() = default;
    // Unmaps the stack and frees its frames.
    void release();

    bool is_valid() const { return m_base != 0; }
    u32 base() const { return m_base; }  // lowest stack byte (the guard page is just below)
    u32 top() const { return m_base + kSize; }
    u32 guard() const { return m_base - kGuardSize; }

    // Is `address` in the guard page of some kernel stack? (For the double-fault report.)
    static bool is_guard_address(u32 address);
    static u32 in_use();

private:
    explicit KernelStack(u32 base) : m_base(base) {}
    u32 m_base = 0;
};
