// Traps.cpp: exception reports and the double-fault task.
#include "kernel/debug/Traps.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Idt.h"
#include "arch/i386/RecoveryPoint.h"
#include "kernel/sync/BigKernelLock.h"
#include "arch/i386/Tss.h"
#include "kernel/debug/Panic.h"
#include "kernel/debug/Symbols.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/KernelStack.h"
#include "kernel/smp/PerCpu.h"
#include "libc/base/MemoryLayout.h"

extern "C" char boot_stack_guard[];

namespace traps {
namespace {

UserFaultHandler g_user_fault_handler = nullptr;
DoubleFaultRecord g_last_double_fault{};

// The armed recovery point of run_recoverable, or null. A fault resumes at it only when its stack pointer
// lies below the point's and within kRecoverableStackSpan of it: on the demonstration's own stack (a kernel
// stack is at most 16 KiB, its guard page below it included; the boot stack too).
// It belongs to the CPU that armed it: a fault on another CPU whose stack happens to lie just below is not
// the demonstration's (kernel stacks are 16 KiB slots side by side).
RecoveryPoint* g_recovery = nullptr;
u32 g_recovery_cpu = 0;
constexpr u32 kRecoverableStackSpan = 32 * 1024;

bool is_recoverable(u32 faulting_esp) {
    return g_recovery && g_recovery_cpu == per_cpu::this_cpu()->index && faulting_esp < g_recovery->esp &&
           g_recovery->esp - faulting_esp <= kRecoverableStackSpan;
}

void announce_recovery() {
    kprintf(
        "*** This fault was raised on purpose: its recovery point takes over and the monitor carries on\n"
        "    (the same fault anywhere else stops the machine).\n");
}

bool has_error_code(u32 vector) {
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

bool is_selector_error(u32 vector) { return vector >= 10 && vector <= 13; }

void on_exception(TrapFrame& frame) {
    if (frame.from_user() && g_user_fault_handler) {
        g_user_fault_handler(frame);
        return;
    }
    kernel_fault(frame);
}

struct Appender {
    char* buffer;
    size_t size;
    size_t used = 0;
    void add(const char* text) {
        while (*text && used + 1 < size) buffer[used++] = *text++;
        buffer[used] = '\0';
    }
};

// For the double-fault task: the interrupted task's state is in the main TSS (SDM Vol. 3A 7.3), and the
// task's IRET (NT is set) reloads it from there. Pointing that state at the recovery point makes the IRET
// return a second time from recovery_point_set, as recovery_point_resume would: the same callee-saved
// registers, stack pointer, return address and EFLAGS (NT clear), EAX 1, and the point's CR3 (a static TSS
// field: the switch into the double-fault task did not save it). Returns false, changing nothing, when no recovery
// point covers the overflowed stack. `task` is the faulting CPU's main TSS (the double-fault task's back link).
bool resume_interrupted_task_if_recoverable(TaskStateSegment& task) {
    if (!is_recoverable(task.esp)) return false;
    announce_recovery();
    const RecoveryPoint& point = *g_recovery;
    g_recovery = nullptr;
    task.ebx = point.ebx;
    task.esi = point.esi;
    task.edi = point.edi;
    task.ebp = point.ebp;
    task.esp = point.esp;
    task.eip = point.eip;
    task.eflags = point.eflags & ~cpu::kEflagsNestedTask;
    task.eax = 1;
    task.cr3 = point.cr3;
    return true;
}

}  // namespace

void describe_page_fault_error(u32 error_code, char* buffer, size_t size) {
    // SDM Vol. 3A 4.7, Figure 4-12 "Page-Fault Error Code".
    Appender out{buffer, size};
    out.add(error_code & 0x1 ? "protection violation" : "not-present page");
    out.add(error_code & 0x2 ? ", write access" : ", read access");
    out.add(error_code & 0x4 ? ", user mode" : ", supervisor mode");
    if (error_code & 0x8) out.add(", reserved bit set in a paging entry");
    if (error_code & 0x10) out.add(", instruction fetch");
}

void describe_selector_error(u32 error_code, char* buffer, size_t size) {
    // SDM Vol. 3A 6.13, Figure 6-7 "Error Code": EXT(0) IDT(1) TI(2) index(15:3).
    u32 index = (error_code >> 3) & 0x1FFF;
    const char* table = (error_code & 0x2) ? "IDT" : ((error_code & 0x4) ? "LDT" : "GDT");
    if (error_code == 0) {
        format_to_buffer(buffer, size, "0 (no selector involved)");
        return;
    }
    format_to_buffer(buffer, size, "%s index %u (selector 0x%04x)%s", table, index, error_code & 0xFFFC,
                     (error_code & 0x1) ? ", raised by an external event" : "");
}

void describe_fault(const TrapFrame& frame, char* buffer, size_t size) {
    char detail[128] = "";
    if (frame.vector == 14) {
        describe_page_fault_error(frame.error_code, detail, sizeof(detail));
        format_to_buffer(buffer, size, "%s (%s) at address 0x%08x (%s), eip 0x%08x", idt::vector_name(14),
                         idt::vector_mnemonic(14), cpu::read_cr2(), detail, frame.eip);
        return;
    }
    if (is_selector_error(frame.vector)) {
        describe_selector_error(frame.error_code, detail, sizeof(detail));
        format_to_buffer(buffer, size, "%s (%s) at eip 0x%08x, error code %s", idt::vector_name(frame.vector),
                         idt::vector_mnemonic(frame.vector), frame.eip, detail);
        return;
    }
    format_to_buffer(buffer, size, "%s (%s) at eip 0x%08x", idt::vector_name(frame.vector),
                     idt::vector_mnemonic(frame.vector), frame.eip);
}

void print_report(const TrapFrame& frame) {
    kprintf("\n*** CPU exception %u: %s (%s) in %s mode\n", frame.vector, idt::vector_name(frame.vector),
            idt::vector_mnemonic(frame.vector), frame.from_user() ? "user" : "kernel");
    char detail[128];
    if (frame.vector == 14) {
        describe_page_fault_error(frame.error_code, detail, sizeof(detail));
        kprintf("    error code 0x%08x: %s\n", frame.error_code, detail);
        kprintf("    CR2 0x%08x (the address that faulted)\n", cpu::read_cr2());
    } else if (is_selector_error(frame.vector)) {
        describe_selector_error(frame.error_code, detail, sizeof(detail));
        kprintf("    error code 0x%08x: %s\n", frame.error_code, detail);
    } else if (has_error_code(frame.vector)) {
        kprintf("    error code 0x%08x\n", frame.error_code);
    }
    kprintf("    EIP ");
    symbols::print_address(frame.eip);
    kprintf("\n    CS  0x%04x  EFLAGS 0x%08x\n", frame.cs & 0xFFFF, frame.eflags);
    kprintf("    EAX 0x%08x  EBX 0x%08x  ECX 0x%08x  EDX 0x%08x\n", frame.eax, frame.ebx, frame.ecx, frame.edx);
    kprintf("    ESI 0x%08x  EDI 0x%08x  EBP 0x%08x  ESP 0x%08x\n", frame.esi, frame.edi, frame.ebp,
            frame.interrupted_esp());
    kprintf("    DS  0x%04x  ES 0x%04x  FS 0x%04x  GS 0x%04x  SS 0x%04x\n", frame.ds & 0xFFFF, frame.es & 0xFFFF,
            frame.fs & 0xFFFF, frame.gs & 0xFFFF, frame.from_user() ? frame.user_ss & 0xFFFF : gdt::kKernelData);
    kprintf("    CR0 0x%08x  CR2 0x%08x  CR3 0x%08x\n", cpu::read_cr0(), cpu::read_cr2(), cpu::read_cr3());
    if (!frame.from_user()) symbols::print_backtrace(frame.eip, frame.ebp);
}

void kernel_fault(const TrapFrame& frame) {
    print_report(frame);
    char reason[160];
    format_to_buffer(reason, sizeof(reason), "unhandled %s (%s) in kernel mode", idt::vector_name(frame.vector),
                     idt::vector_mnemonic(frame.vector));
    panic::stop(reason);
}

bool run_recoverable(void (*demonstration)()) {
    RecoveryPoint point;
    // Interrupts off: no other process runs (and faults) while the point is armed, and the timer cannot
    // switch away from the demonstration; recovery_point_resume restores the caller's IF with EFLAGS.
    u32 flags = cpu::read_eflags();
    cpu::disable_interrupts();
    // The fault's trap_dispatch took the big kernel lock once more and is abandoned with its frame.
    u32 lock_depth = big_lock::depth();
    if (recovery_point_set(&point) != 0) {
        big_lock::set_depth(lock_depth);
        g_recovery = nullptr;  // resumed: the fault's handler has already printed the report
        if (flags & cpu::kEflagsInterrupt) cpu::enable_interrupts();
        return false;
    }
    g_recovery_cpu = per_cpu::this_cpu()->index;
    g_recovery = &point;
    demonstration();
    g_recovery = nullptr;
    if (flags & cpu::kEflagsInterrupt) cpu::enable_interrupts();
    return true;
}

void resume_if_recoverable() {
    if (!is_recoverable(cpu::read_esp())) return;
    announce_recovery();
    RecoveryPoint* point = g_recovery;
    g_recovery = nullptr;
    recovery_point_resume(point);
}

namespace {

volatile bool g_keep_recursing = true;  // never cleared: volatile, so the recursion is not optimized away

[[gnu::noinline]] u32 recurse_deeply(u32 depth) {
    volatile u8 frame[256];
    frame[0] = static_cast<u8>(depth);
    if (!g_keep_recursing) return frame[0];
    return recurse_deeply(depth + 1) + frame[0];
}

}  // namespace

void overflow_kernel_stack() { recurse_deeply(0); }

DoubleFaultRecord last_double_fault() { return g_last_double_fault; }

void set_user_fault_handler(UserFaultHandler handler) { g_user_fault_handler = handler; }

void initialize() { idt::set_default_exception_handler(on_exception); }

}  // namespace traps

// Runs as its own task (IDT slot 8 is a task gate) on a fresh stack: the interrupted state is in the main
// TSS, where the hardware task switch saved it (SDM Vol. 3A 7.3). The usual cause is a kernel stack
// overflow into a guard page: the page fault itself could not push its frame.
//
// Each CPU has its own double-fault task (its IDT's gate 8 names it, arch/i386/Idt.h), so the task switch
// loaded this CPU's GS from the task's TSS: this_cpu() names the CPU that faulted. The switch also wrote
// the interrupted task's selector into this task's previous-task link and set NT (SDM Vol. 3A 7.4): the
// link leads to the faulting CPU's own main TSS, whichever CPU that is.
extern "C" void double_fault_handler() {
    const PerCpu* cpu = per_cpu::this_cpu();
    const TaskStateSegment* self = gdt::task_state(cpu::store_task_register());
    TaskStateSegment* interrupted = self ? gdt::task_state(self->previous_task) : nullptr;
    if (!interrupted) panic::stop("double fault: no interrupted TSS behind the double-fault task's back link");
    const TaskStateSegment& saved = *interrupted;
    u32 cr2 = cpu::read_cr2();
    traps::g_last_double_fault = {traps::g_last_double_fault.count + 1, cpu->index, cpu::store_task_register(),
                                  self->previous_task};
    kprintf("\n*** CPU exception 8: Double fault (#DF) in kernel mode on %s\n", cpu->name);
    kprintf("    A fault happened while the CPU was delivering another one (SDM Vol. 3A 6.15, Interrupt 8).\n");
    kprintf(
        "    %s's double-fault task (TSS 0x%02x) runs on its own stack; the interrupted state is in its TSS 0x%02x.\n",
        cpu->name, cpu::store_task_register(), self->previous_task);
    u32 guard = reinterpret_cast<u32>(boot_stack_guard);
    const char* which = nullptr;
    if (cr2 >= guard && cr2 < guard + kPageSize)
        which = "the boot stack";
    else if (KernelStack::is_guard_address(cr2))
        which = "a kernel stack";
    if (which)
        kprintf(
            "    CR2 0x%08x lies in the unmapped guard page under %s: a kernel stack overflow.\n"
            "    The page fault could not push its frame onto that stack, so it became a double fault.\n",
            cr2, which);
    kprintf("    EIP ");
    symbols::print_address(saved.eip);
    kprintf("\n    EAX 0x%08x  EBX 0x%08x  ECX 0x%08x  EDX 0x%08x\n", saved.eax, saved.ebx, saved.ecx, saved.edx);
    kprintf("    ESI 0x%08x  EDI 0x%08x  EBP 0x%08x  ESP 0x%08x\n", saved.esi, saved.edi, saved.ebp, saved.esp);
    kprintf("    CR2 0x%08x  CR3 0x%08x\n", cr2, cpu::read_cr3());
    symbols::print_backtrace(saved.eip, saved.ebp);
    if (!traps::resume_interrupted_task_if_recoverable(*interrupted)) panic::stop("double fault");
    // Returning makes double_fault_task_entry IRET back to the interrupted task, now at its recovery point.
}
