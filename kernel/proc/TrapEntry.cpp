// TrapEntry.cpp: trap_dispatch, where every exception, interrupt and system call enters the kernel's C++.
//
// trap_common (arch/i386/Isr.asm) saves the registers as a TrapFrame and calls trap_dispatch. Most vectors
// take the big kernel lock around their handler (kernel/sync/BigKernelLock.h). Three need no lock, and two
// of them must not wait for it:
//   - the TLB shootdown IPI: the CPU that sent it holds the lock and waits for this one to flush. After the
//     flush, a CPU interrupted in user mode passes through the lock before it returns there, so it does not
//     touch user memory again until the sender has left the kernel (the swapper relies on that: tlb::quiesce).
//   - the wake-up IPI to a CPU halted in the idle loop: waking it is all it is for (the idle loop then looks
//     at the run queue). One that interrupts user mode (sent to end the process running there) is handled
//     under the lock like any interrupt.
//   - the APIC timer's tick on an idle CPU: counted, nothing to schedule.
// The local APIC's own interrupts are acknowledged here, first, as the PIC's are in idt::dispatch: a handler
// may switch to another process and not come back for a while. The spurious vector needs no EOI (SDM Vol. 3A
// 10.9).
#include "arch/i386/Cpu.h"
#include "arch/i386/Idt.h"
#include "arch/i386/LocalApic.h"
#include "arch/i386/Pic.h"
#include "arch/i386/Pit.h"
#include "arch/i386/TrapFrame.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/Tlb.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/sync/BigKernelLock.h"

namespace {

// The local APIC's vectors (and its spurious one); returns true when the handler is still to run, under the
// lock. Out of line: the common traps (system calls, faults, the PIC's IRQs) only test the vector.
[[gnu::noinline]] bool apic_vector(TrapFrame& frame) {
    PerCpu* self = per_cpu::this_cpu();
    switch (frame.vector) {
    case idt::kSpuriousVector:
        return false;
    case idt::kTlbShootdownVector:
        tlb::serve_request();
        local_apic::end_of_interrupt(paging::local_apic_registers());
        if (!frame.from_user()) return false;
        big_lock::enter_interrupts_off();  // wait here until the sender is out of the kernel
        big_lock::leave();
        return false;
    case idt::kWakeVector:
        local_apic::end_of_interrupt(paging::local_apic_registers());
        __atomic_store_n(&self->wakeups, self->wakeups + 1, __ATOMIC_RELEASE);
        if (frame.from_user()) return true;
        if (__atomic_load_n(&self->echo_wakeups, __ATOMIC_ACQUIRE) && self->index != 0) scheduler::kick(0);
        return false;
    case idt::kApicTimerVector:
        local_apic::end_of_interrupt(paging::local_apic_registers());
        if (self->current) return true;
        ++self->idle_ticks;
        return false;
    default:
        return true;
    }
}

// IRQ 0, the PIT, on CPU 0: the kernel's clock counts the tick before anything waits for the lock, so time
// goes on while another CPU holds the lock for long (polled disk transfers, the in-kernel tests run on
// another CPU with testcpu=). If another CPU holds it (or waits for it) now, the rest of the tick (waking
// sleepers, the quantum) is left to the next one: the handler would otherwise wait with interrupts off, and
// the ticks meanwhile would be lost. Returns true when the handler is to run: it then holds the lock. The
// test and the taking are one step (a try-lock): when they were two, another CPU could take the lock between
// them, and CPU 0 then waited with interrupts off while that CPU halted in a test waiting for ticks that
// could not come (kernel-on-cpu1's waitqueue test failed so on a loaded host). The idle loop does the same
// (scheduler::run_idle, big_lock::try_enter_waiting_interrupts_on).
// The tick is still charged to the process CPU 0 runs: its tick counts are written only by the CPU running
// it, so that needs no lock (ps would otherwise see a process on CPU 0 run 0 ms while another CPU writes).
[[gnu::noinline]] bool timer_entry(const TrapFrame& frame) {
    PerCpu* self = per_cpu::this_cpu();
    // Counted after the lock is taken, when it is: a CPU holding the lock then sees a tick and its handler
    // both or neither (counted first, a handler could run for a tick an AP had already read).
    if (big_lock::try_enter_interrupts_off()) {
        pit::tick();
        return true;
    }
    pit::tick();
    ++self->deferred_ticks;
    if (Process* current = self->current) {
        if (frame.from_user())
            ++current->ticks_used;
        else
            ++current->system_ticks;
    }
    pic::end_of_interrupt(pic::kIrqTimer);
    return false;
}

}  // namespace

extern "C" void trap_dispatch(TrapFrame* frame) {
    u32 vector = frame->vector;
    if (vector >= idt::kApicTimerVector && vector != idt::kSyscallVector && !apic_vector(*frame)) return;
    if (vector == idt::kIrqBase + pic::kIrqTimer) {
        if (!timer_entry(*frame)) return;  // else it holds the lock (an interrupt gate: interrupts are off)
    } else {
        // Interrupt gates arrive with interrupts off; the system-call gate (a trap gate) with them on, and its
        // handler runs so once it holds the lock.
        cpu::disable_interrupts();
        big_lock::enter_interrupts_off();
        if (vector == idt::kSyscallVector) cpu::enable_interrupts();
    }
    idt::dispatch(*frame);
    cpu::disable_interrupts();  // leave() with interrupts off; IRET restores the interrupted code's flag
    big_lock::leave();
}
