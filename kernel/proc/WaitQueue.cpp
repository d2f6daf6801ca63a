// WaitQueue.cpp: sleeping on an event and waking (see WaitQueue.h).
//
// Every list operation runs with interrupts disabled (an InterruptGuard, or the caller's disabled section in
// sleep()): interrupt handlers wake queues, so a list half-changed by process context must never be seen by
// one. On several CPUs this disabled section becomes the scheduler lock (docs/processes.md, lock order).
#include "kernel/proc/WaitQueue.h"

#include "kernel/sync/BigKernelLock.h"

#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"

void WaitQueue::append(Waiter* waiter) {
    waiter->next = nullptr;
    if (m_tail)
        m_tail->next = waiter;
    else
        m_head = waiter;
    m_tail = waiter;
}

void WaitQueue::unlink(Waiter* previous, Waiter* waiter) {
    if (previous)
        previous->next = waiter->next;
    else
        m_head = waiter->next;
    if (m_tail == waiter) m_tail = previous;
    waiter->next = nullptr;
}

void WaitQueue::wake(Waiter* previous, Waiter* waiter) {
    unlink(previous, waiter);
    waiter->woken = true;
    if (Process* p = waiter->process) {
        p->waiting_on = nullptr;
        scheduler::make_ready(p);
    }
}

// The queue links a Waiter on the sleeper's stack: it is unlinked (wake() or remove()) before sleep()
// returns, or its process never runs again and its stack stays until the process is reaped.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
void WaitQueue::sleep(ProcessState state, u64 deadline) {
    VERIFY(!cpu::interrupts_enabled());
    Process* self = scheduler::current();
    Waiter waiter{self, nullptr, deadline, false};
    append(&waiter);
    if (!self) {
        // The boot context has nothing to switch to: halt until an interrupt handler wakes this queue. STI;HLT
        // is atomic (Cpu.h), so a wake-up cannot slip in between and leave the CPU halted past it. The big
        // kernel lock is let go meanwhile, as the idle loop does, so the other CPUs can run processes.
        VERIFY(!big_lock::locking() || big_lock::depth() == 1);
        while (!waiter.woken) {
            big_lock::leave();
            cpu::enable_interrupts_and_halt();
            cpu::disable_interrupts();
            big_lock::enter();
        }
        return;
    }
    self->state = state;
    self->waiting_on = this;
    // Off the run queue until wake() puts it back: schedule() returns only after that.
    scheduler::schedule();
    VERIFY(waiter.woken);
}
#pragma GCC diagnostic pop

bool WaitQueue::wake_one() {
    cpu::InterruptGuard guard;
    if (!m_head) return false;
    wake(nullptr, m_head);
    return true;
}

u32 WaitQueue::wake_all() {
    cpu::InterruptGuard guard;
    u32 woken = 0;
    while (m_head) {
        wake(nullptr, m_head);
        ++woken;
    }
    return woken;
}

void WaitQueue::remove(Process* process) {
    cpu::InterruptGuard guard;
    Waiter* previous = nullptr;
    for (Waiter* w = m_head; w; previous = w, w = w->next) {
        if (w->process != process) continue;
        unlink(previous, w);
        process->waiting_on = nullptr;
        return;
    }
}

u32 WaitQueue::size() const {
    cpu::InterruptGuard guard;
    u32 n = 0;
    for (const Waiter* w = m_head; w; w = w->next) ++n;
    return n;
}
