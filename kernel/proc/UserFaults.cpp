// UserFaults.cpp: what happens when a process faults in ring 3.
//
// A page fault first goes to the process's memory: demand-zero and copy-on-write faults are resolved and
// the instruction retried. Anything else — a wild pointer, a write to code, a read of kernel memory, a
// privileged instruction (#GP), an invalid opcode (#UD), a divide error (#DE) — kills only that process,
// with one line on the console naming the process, the fault and the address. The kernel and every other
// process go on.
//
// A page fault from user mode is handled with interrupts enabled (kernel/mm/PageFault.cpp enables them once
// CR2 is read): finding, clearing or copying a frame takes thousands of instructions, and later a fault may
// wait for the disk. Like a system call it is not preempted; a quantum that ran out meanwhile is acted on
// as it returns. The other exceptions kill the process and keep interrupts off.
#include "kernel/proc/UserFaults.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Idt.h"
#include "kernel/debug/Traps.h"
#include "kernel/memmodel/SegmentedMemory.h"
#include "kernel/mm/PageFault.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/swap/FaultTrace.h"
#include "libc/abi/Syscalls.h"

namespace user_faults {
namespace {

void on_user_page_fault(TrapFrame& frame, u32 address) {
    Process* p = process::current();
    p->trap_frame = &frame;
    bool write = frame.error_code & 0x2;
    bool present = frame.error_code & 0x1;
    u32 major_before = p->memory->major_faults();
    FaultResult result = p->memory->handle_fault(address, write, present);
    if (result == FaultResult::Resolved) {
        fault_trace::record(p->pid, address, write, p->memory->major_faults() != major_before);
        if (p->kill_pending) process::exit_current(p->kill_signal);  // ended by another CPU meanwhile
        scheduler::return_to_user();
        return;
    }
    char what[400];
    char explained[300];
    if (p->memory->explain_fault(address, write, frame.eip, explained, sizeof(explained))) {
        // An older memory model: the page tables map only the process's own segment, so this is a segment
        // violation the CPU would have raised as #GP or #SS had it checked the limit.
        format_to_buffer(what, sizeof(what), "segment violation at eip 0x%08x (#PF at linear 0x%08x): %s", frame.eip,
                         address, explained);
        process::kill_current_for_fault(what, kSignalSegv);
    }
    char decoded[96];
    traps::describe_page_fault_error(frame.error_code, decoded, sizeof(decoded));
    format_to_buffer(what, sizeof(what), "Page fault (#PF) at address 0x%08x (%s), eip 0x%08x: %s", address, decoded,
                     frame.eip, fault_result_name(result));
    process::kill_current_for_fault(what, kSignalSegv);
}

int signal_for(u32 vector) {
    switch (vector) {
    case 0: return kSignalFpe;    // #DE
    case 6: return kSignalIll;    // #UD
    default: return kSignalSegv;  // #GP, #SS, #NP and the rest
    }
}

// Whether the instruction starting with `code` is one ring 3 may not execute: CLI, STI, HLT, IN, OUT, INS,
// OUTS, a MOV to or from a control or debug register, LGDT/LIDT/LMSW (Intel SDM Vol. 3A 2.8 "System Instruction
// Summary", 5.9 "Privileged Instructions", 18.x I/O privilege). Operand-size, address-size and REP prefixes
// are skipped first.
bool privileged(const u8* code, u32 bytes) {
    u32 i = 0;
    while (i < bytes && (code[i] == 0x66 || code[i] == 0x67 || code[i] == 0xF2 || code[i] == 0xF3)) ++i;
    if (i >= bytes) return false;
    u8 op = code[i];
    if (op == 0xFA || op == 0xFB || op == 0xF4) return true;                    // CLI, STI, HLT
    if ((op >= 0xE4 && op <= 0xE7) || (op >= 0xEC && op <= 0xEF)) return true;  // IN, OUT
    if (op >= 0x6C && op <= 0x6F) return true;                                  // INS, OUTS
    if (op == 0x0F && i + 1 < bytes) {
        u8 second = code[i + 1];
        if (second >= 0x20 && second <= 0x23) return true;  // MOV to/from CRn, DRn
        if (second == 0x01 || second == 0x06 || second == 0x09 || second == 0x08 || second == 0x30 ||
            second == 0x32)
            return true;  // LGDT/LIDT/LMSW group, CLTS, WBINVD, INVD, WRMSR, RDMSR
    }
    return false;
}

void on_user_exception(TrapFrame& frame) {
    Process* p = process::current();
    if (!p) traps::kernel_fault(frame);
    p->trap_frame = &frame;
    char what[256];
    traps::describe_fault(frame, what, sizeof(what));
    char segments[160];
    p->memory->describe_segments(segments, sizeof(segments));
    if (segments[0] && (frame.vector == 11 || frame.vector == 12 || frame.vector == 13)) {
        // A process of an older memory model: the CPU checked its segment's limit or type (a CPU or emulator
        // that checks limits, such as Bochs: QEMU's TCG does not).
        char hint[480];
        // #GP(0) is also what a privileged instruction raises: the instruction itself tells them apart.
        u8 code[4];
        SegmentedMemory* older = p->memory->as_segmented();
        bool instruction = frame.vector == 13 && frame.error_code == 0 && older &&
                           older->read_code(frame.eip, code, sizeof(code)) && privileged(code, sizeof(code));
        const char* why = frame.vector == 12   ? "the stack went beyond its segment's limit"
                          : frame.vector == 11 ? "a segment that is not present"
                          : instruction        ? "a privileged instruction or port access in user mode"
                                               : "an access beyond its segment's limit or against its type "
                                                 "(a write to code or to read-only data)";
        format_to_buffer(hint, sizeof(hint), "%s: %s; %s%s", what, why, segments,
                         instruction ? "" : " (checked by the CPU)");
        process::kill_current_for_fault(hint, signal_for(frame.vector));
    }
    if (frame.vector == 13 && frame.error_code == 0) {
        // The usual ring-3 #GP(0): a privileged instruction (cli, hlt, mov cr3) or I/O without permission.
        char hint[300];
        format_to_buffer(hint, sizeof(hint), "%s (a privileged instruction or port access in user mode)", what);
        process::kill_current_for_fault(hint, signal_for(frame.vector));
    }
    process::kill_current_for_fault(what, signal_for(frame.vector));
}

}  // namespace

void initialize() {
    page_fault::set_user_handler(on_user_page_fault);
    traps::set_user_fault_handler(on_user_exception);
}

}  // namespace user_faults
