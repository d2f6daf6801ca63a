// Scheduler.cpp: the round-robin scheduler, the idle loop and the timer tick.
#include "kernel/proc/Scheduler.h"

#include "kernel/mm/Tlb.h"

#include "arch/i386/Context.h"
#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Idt.h"
#include "arch/i386/Pic.h"
#include "arch/i386/Pit.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/Paging.h"

namespace scheduler {
namespace {

u32 g_quantum = 5;
u32 g_idle_esp = 0;
Process* g_current = nullptr;
u64 g_switches = 0;

// The run queue: Ready processes in the order they became ready. Taking the head and appending the
// preempted process at the tail is round robin, in O(1) per switch.
Process* g_head = nullptr;
Process* g_tail = nullptr;

void enqueue(Process* p) {
    if (p->queued) return;
    p->queued = true;
    p->ready_next = nullptr;
    p->ready_prev = g_tail;
    if (g_tail)
        g_tail->ready_next = p;
    else
        g_head = p;
    g_tail = p;
}

void dequeue(Process* p) {
    if (!p->queued) return;
    if (p->ready_prev)
        p->ready_prev->ready_next = p->ready_next;
    else
        g_head = p->ready_next;
    if (p->ready_next)
        p->ready_next->ready_prev = p->ready_prev;
    else
        g_tail = p->ready_prev;
    p->ready_next = p->ready_prev = nullptr;
    p->queued = false;
}

Process* pick_next() {
    Process* p = g_head;
    if (p) dequeue(p);
    return p;
}

bool any_ready() { return g_head != nullptr; }

void switch_address_space(Process* next) {
    if (next && next->memory)
        next->memory->activate();
    else
        tlb::load_directory(paging::kernel_directory());
}

void on_timer(TrapFrame& frame) {
    pit::tick();
    u64 now = pit::ticks();
    for (u32 i = 0; i < process::kMaxProcesses; ++i) {
        Process* p = process::slot(i);
        if (p && p->state == ProcessState::Sleeping && p->wake_tick <= now) make_ready(p);
    }
    // Preempt only a process interrupted in user mode; the kernel is not preemptible, and the idle loop
    // schedules by itself after each HLT. The same holds for a Ctrl-C: processes end only here or there.
    if (!g_current || !frame.from_user()) return;
    if (i32 leader = console::take_interrupt_request()) process::interrupt_job(leader);
    ++g_current->ticks_used;
    if (g_current->quantum_left > 0) --g_current->quantum_left;
    if (g_current->quantum_left == 0) schedule();
}

}  // namespace

void initialize(u32 quantum_ticks) {
    g_quantum = quantum_ticks;
    idt::set_handler(idt::kIrqBase + pic::kIrqTimer, on_timer);
}

u32 quantum() { return g_quantum; }
Process* current() { return g_current; }
u64 context_switches() { return g_switches; }

void schedule() {
    Process* previous = g_current;
    if (previous && previous->state == ProcessState::Running) make_ready(previous);
    Process* next = pick_next();
    if (next == previous && next) {
        next->state = ProcessState::Running;
        next->quantum_left = g_quantum;
        return;
    }
    ++g_switches;
    g_current = next;
    u32* save = previous ? &previous->saved_esp : &g_idle_esp;
    if (!next) {
        // Nothing to run: back to the idle loop on the boot stack.
        switch_address_space(nullptr);
        switch_context(save, g_idle_esp);
        return;
    }
    next->state = ProcessState::Running;
    next->quantum_left = g_quantum;
    // Interrupts from ring 3 arrive on this process's kernel stack (SDM Vol. 3A 6.12.1).
    gdt::tss().esp0 = next->kernel_stack.top();
    switch_address_space(next);
    switch_context(save, next->saved_esp);
}

void yield() { schedule(); }

void sleep_until(u64 tick) {
    g_current->wake_tick = tick;
    g_current->state = ProcessState::Sleeping;
    schedule();
}

void block(WaitReason reason) {
    g_current->wait_reason = reason;
    g_current->state = ProcessState::Waiting;
    schedule();
    g_current->wait_reason = WaitReason::None;
}

void make_ready(Process* p) {
    p->state = ProcessState::Ready;
    enqueue(p);
}

void remove(Process* p) { dequeue(p); }

void wake(Process* p) {
    if (p && p->state == ProcessState::Waiting) make_ready(p);
}

void wake_all(WaitReason reason) {
    for (u32 i = 0; i < process::kMaxProcesses; ++i) {
        Process* p = process::slot(i);
        if (p && p->state == ProcessState::Waiting && p->wait_reason == reason) make_ready(p);
    }
}

void run_idle() {
    for (;;) {
        cpu::disable_interrupts();
        if (i32 leader = console::take_interrupt_request()) process::interrupt_job(leader);
        process::collect_orphans();
        if (process::count() == 0) {
            cpu::enable_interrupts();
            return;
        }
        if (any_ready()) schedule();
        cpu::enable_interrupts_and_halt();
    }
}

}  // namespace scheduler
