// PageFault.cpp: the page-fault handler (vector 14).
//
// The CPU reports the faulting linear address in CR2 and why in the error code (Intel SDM Vol. 3A 4.7):
// bit 0 P (0: the page was not present, 1: a protection violation), bit 1 W/R (write), bit 2 U/S (CPL 3),
// bit 3 RSVD (a reserved bit was set in a paging entry), bit 4 I/D (instruction fetch).
//
// A fault in user mode goes to the process layer (demand paging, copy-on-write, or killing the process),
// with interrupts enabled once CR2 is read: the gate is an interrupt gate (IF cleared on entry, Intel SDM
// Vol. 3A 6.12.1.2), so nothing can run between the fault and the read, and afterwards a nested page fault
// (in an interrupt handler, a bug) could overwrite CR2 without harm to this one (SDM Vol. 3A 4.7: CR2 holds
// the address of the latest page fault). A fault in the kernel is a bug (system calls check user pointers
// before touching them, so the kernel never faults on user memory): the report shows the registers, the
// backtrace and the page-table walk for CR2, then the kernel panics, with interrupts still off.
#include "kernel/mm/PageFault.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Idt.h"
#include "kernel/debug/Panic.h"
#include "kernel/debug/Traps.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/Paging.h"

namespace page_fault {
namespace {

UserHandler g_user_handler = nullptr;

void on_page_fault(TrapFrame& frame) {
    if (frame.from_user() && g_user_handler) {
        u32 address = cpu::read_cr2();
        cpu::enable_interrupts();
        g_user_handler(frame, address);
        return;
    }
    u32 address = cpu::read_cr2();
    traps::print_report(frame);
    kprintf("Page-table walk for CR2 0x%08x:\n", address);
    paging::print_walk(cpu::read_cr3(), address);
    char reason[160];
    char detail[96];
    traps::describe_page_fault_error(frame.error_code, detail, sizeof(detail));
    format_to_buffer(reason, sizeof(reason), "page fault at 0x%08x in %s mode (%s)", address,
                     frame.from_user() ? "user" : "kernel", detail);
    panic::stop(reason);
}

}  // namespace

void initialize() { idt::set_handler(14, on_page_fault); }
void set_user_handler(UserHandler handler) { g_user_handler = handler; }

}  // namespace page_fault
