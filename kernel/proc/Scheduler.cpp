// Scheduler.cpp: the round-robin scheduler, the idle loop and the timer tick.
//
// Interrupt rules for this file: the run queue, g_current, the sleepers' queue and the reschedule flag are
// read and changed by the timer handler (and woken processes are queued by every interrupt handler that
// wakes a WaitQueue), so process context touches them only with interrupts disabled: schedule(),
// make_ready() and remove() take an InterruptGuard. Interrupt handlers run with interrupts disabled (the
// IRQ gates are interrupt gates, Intel SDM Vol. 3A 6.12.1.2), so they need nothing more.
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
#include "kernel/swap/Swapper.h"

namespace scheduler {
namespace detail {
bool g_reschedule_pending = false;
}
namespace {

using detail::g_reschedule_pending;

u32 g_quantum = 5;
u32 g_idle_esp = 0;
Process* g_current = nullptr;
u64 g_switches = 0;

// The run queue: Ready processes in the order they became ready. Taking the head and appending the
// preempted process at the tail is round robin, in O(1) per switch.
Process* g_head = nullptr;
Process* g_tail = nullptr;

// Processes (or the boot context) in nanosleep; each Waiter's deadline is its wake-up tick.
WaitQueue g_sleepers("timer");

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

// swap=process: a process rolled out stays out at least this long while processes in memory are ready to
// run, as the swapping schedulers of early Unix kept it (Tanenbaum, Modern Operating Systems 3.2.2): rolling
// it straight back in at its next turn would move every process through the disk at every round of the
// queue. With nothing in memory ready, the oldest rolled-out one runs at once.
constexpr u64 kStayOutSeconds = 1;

bool may_run_now(const Process* p) {
    return !p->rolled_out || pit::ticks() - p->rolled_out_at >= kStayOutSeconds * pit::frequency();
}

[[gnu::always_inline]] inline Process* pick_next() {
    Process* p = g_head;
    while (p && !may_run_now(p)) p = p->ready_next;
    if (!p) p = g_head;  // every ready process is out: the first in the queue comes back
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
    g_sleepers.wake_if([now](const WaitQueue::Waiter& w) { return w.deadline <= now; });
    if (!g_current) return;  // the idle loop schedules by itself after each HLT
    bool user = frame.from_user();
    // Ending processes (Ctrl-C) is safe only when the tick interrupted user mode: then no kernel code is
    // half-way through anything. In the kernel the request waits for a preempt point or a later tick.
    if (user) {
        if (i32 leader = console::take_interrupt_request()) process::interrupt_job(leader);
        ++g_current->ticks_used;
        swapper::tick();  // aging samples the accessed bits (no page-table edit is half done in user mode)
    } else {
        ++g_current->system_ticks;
    }
    if (g_current->quantum_left > 0) --g_current->quantum_left;
    if (g_current->quantum_left > 0) return;
    // The kernel is not preemptible: in a system call or a fault the switch waits for return_to_user() or a
    // preempt point.
    if (user)
        schedule();
    else
        g_reschedule_pending = true;
}

}  // namespace

void initialize(u32 quantum_ticks) {
    g_quantum = quantum_ticks;
    idt::set_handler(idt::kIrqBase + pic::kIrqTimer, on_timer);
}

u32 quantum() { return g_quantum; }
Process* current() { return g_current; }
u64 context_switches() { return g_switches; }

// The older memory models: a process rolled out of the arena comes back before it runs. When no room can be
// made for it (static segments in the way), it stays out and waits for its next turn while another runs;
// each queued process gets one try per switch. Out of line: the common switch never comes here.
[[gnu::noinline]] static Process* bring_in_or_pass(Process* next) {
    for (u32 tries = 1; next && next->rolled_out && !process::roll_into_arena(next); ++tries) {
        enqueue(next);
        next = tries < process::kMaxProcesses ? pick_next() : nullptr;
    }
    return next;
}

// schedule() with interrupts already disabled.
static void switch_to_next() {
    g_reschedule_pending = false;
    Process* previous = g_current;
    if (previous && previous->state == ProcessState::Running) {
        previous->state = ProcessState::Ready;
        enqueue(previous);
    }
    Process* next = pick_next();
    if (next && next != previous && next->rolled_out) next = bring_in_or_pass(next);
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
    if (previous) previous->last_ran = pit::ticks();
    // swap=process: a process rolled out while it waited comes back before it runs (in the context of the one
    // leaving the CPU; the disk is polled, so the CPU is simply busy meanwhile).
    process::roll_in_if_out(next);
    next->state = ProcessState::Running;
    next->quantum_left = g_quantum;
    // Interrupts from ring 3 arrive on this process's kernel stack (SDM Vol. 3A 6.12.1).
    gdt::tss().esp0 = next->kernel_stack.top();
    switch_address_space(next);
    switch_context(save, next->saved_esp);
}

void schedule() {
    cpu::InterruptGuard guard;  // each process keeps its own saved flags on its own stack across the switch
    switch_to_next();
}

// sched_yield returns to user mode right after, where IRET restores the interrupt flag: no guard needed.
void yield() {
    cpu::disable_interrupts();
    switch_to_next();
}

void sleep_until(u64 tick) {
    cpu::InterruptGuard guard;  // the check and the sleep are one step (WaitQueue.h)
    while (pit::ticks() < tick) g_sleepers.sleep(ProcessState::Sleeping, tick);
}

bool preempt_point() {
    if (i32 leader = console::take_interrupt_request()) process::interrupt_job(leader);
    if (!g_reschedule_pending) return false;
    u64 switches = g_switches;
    schedule();
    return g_switches != switches;
}

void make_ready(Process* p) {
    cpu::InterruptGuard guard;
    p->state = ProcessState::Ready;
    enqueue(p);
}

void remove(Process* p) {
    cpu::InterruptGuard guard;
    dequeue(p);
    if (p->waiting_on) p->waiting_on->remove(p);
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
