// Scheduler.cpp: the round-robin scheduler, the idle loops and the timer ticks, on every CPU.
//
// Locking: everything here runs under the big kernel lock (kernel/sync/BigKernelLock.h), which the trap
// entry and the idle loops take, so no other CPU changes the run queue, the sleepers' queue or a process's
// state meanwhile. On its own CPU the rules of one CPU still apply: the run queue, each CPU's current
// process, the sleepers' queue and the reschedule flag are read and changed by the timer handlers (and woken
// processes are queued by every interrupt handler that wakes a WaitQueue), so process context touches them
// only with interrupts disabled: schedule(), make_ready() and remove() take an InterruptGuard. Interrupt
// handlers run with interrupts disabled (the IRQ gates are interrupt gates, Intel SDM Vol. 3A 6.12.1.2).
//
// One run queue for all CPUs, under the one lock: with every kernel entry serialised by the big lock,
// per-CPU queues would add work stealing and buy nothing (docs/multicore.md has the measurements). A CPU
// takes the first process it may run: processes of the older memory models (static relocation, base and
// bounds, segments) run on CPU 0 only, since compaction and roll-out move their memory while they are not
// running, which another CPU could not know (the course notes' "some work may stay on one core").
#include "kernel/proc/Scheduler.h"

#include "kernel/mm/Tlb.h"

#include "arch/i386/Context.h"
#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Idt.h"
#include "arch/i386/Pic.h"
#include "arch/i386/Pit.h"
#include "kernel/dev/Console.h"
#include "arch/i386/LocalApic.h"
#include "arch/i386/Tss.h"
#include "kernel/mm/Paging.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/smp/Smp.h"
#include "kernel/swap/Swapper.h"
#include "kernel/sync/BigKernelLock.h"

namespace scheduler {
namespace {

u32 g_quantum = 5;
u64 g_switches = 0;
u64 g_wakeups = 0;

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

// CPU 0 runs every process; the others only those of the paging model (see the top of this file).
bool may_run_on(const Process* p, u32 cpu) { return cpu == 0 || (p->memory && p->memory->as_paged()); }

[[gnu::always_inline]] inline Process* pick_next(u32 cpu) {
    Process* first_here = nullptr;
    Process* p = g_head;
    for (; p; p = p->ready_next) {
        if (!may_run_on(p, cpu)) continue;
        if (!first_here) first_here = p;
        if (may_run_now(p)) break;
    }
    if (!p) p = first_here;  // every ready process is out: the first in the queue comes back
    if (p) dequeue(p);
    return p;
}

bool any_ready() { return g_head != nullptr; }
// For an idle CPU deciding, without the lock, whether to take it and look: a hint, checked under the lock.
bool ready_hint() { return __atomic_load_n(&g_head, __ATOMIC_RELAXED) != nullptr; }

// A process became ready: if a CPU that may run it is halted in its idle loop, wake it with an IPI (the
// idle loop then looks at the run queue) instead of leaving it asleep until its next timer tick.
void wake_an_idle_cpu(const Process* p) {
    if (!per_cpu::several_online()) return;
    u32 candidates = per_cpu::online_mask() & ~(1u << per_cpu::this_cpu()->index);
    if (!may_run_on(p, 1)) candidates &= 1u;  // CPU 0 only
    for (; candidates; candidates &= candidates - 1) {
        PerCpu& cpu = per_cpu::area(__builtin_ctz(candidates));
        if (!__atomic_load_n(&cpu.idle, __ATOMIC_ACQUIRE)) continue;
        ++g_wakeups;
        local_apic::send_ipi(paging::local_apic_registers(), static_cast<u8>(cpu.apic_id), idt::kWakeVector, 100000);
        return;
    }
}

void switch_address_space(Process* next) {
    if (next && next->memory)
        next->memory->activate();
    else
        tlb::load_directory(paging::kernel_directory());
}

// A tick of this CPU's clock (the PIT on CPU 0, the local APIC timer on the others) charged to the process
// it runs.
void charge_tick(TrapFrame& frame, bool keeps_time) {
    Process* current = per_cpu::this_cpu()->current;
    if (!current) return;  // the idle loop schedules by itself after each HLT
    bool user = frame.from_user();
    // Ending processes (Ctrl-C, a kill from another CPU) is safe only when the tick interrupted user mode:
    // then no kernel code is half-way through anything. In the kernel the request waits for a preempt point
    // or a later tick.
    if (user) {
        if (keeps_time) {
            if (i32 leader = console::take_interrupt_request()) process::interrupt_job(leader);
            swapper::tick();  // aging samples the accessed bits (no page-table edit is half done in user mode)
        }
        if (current->kill_pending) process::exit_current(current->kill_signal);
        ++current->ticks_used;
    } else {
        ++current->system_ticks;
    }
    if (current->quantum_left > 0) --current->quantum_left;
    if (current->quantum_left > 0) return;
    // The kernel is not preemptible: in a system call or a fault the switch waits for return_to_user() or a
    // preempt point.
    if (user)
        schedule();
    else
        per_cpu::this_cpu()->reschedule_pending = true;
}

// IRQ 0, the PIT, on CPU 0: the sleepers' alarm and the quantum (trap_dispatch has counted the tick itself,
// before it waited for the big lock).
void on_timer(TrapFrame& frame) {
    ++per_cpu::this_cpu()->timer_ticks;
    u64 now = pit::ticks();
    g_sleepers.wake_if([now](const WaitQueue::Waiter& w) { return w.deadline <= now; });
    charge_tick(frame, true);
}

// The local APIC timer on the other CPUs: their quantum (trap_dispatch counts an idle CPU's ticks itself).
void on_apic_timer(TrapFrame& frame) {
    ++per_cpu::this_cpu()->timer_ticks;
    charge_tick(frame, false);
}

// The wake-up IPI when it interrupts user mode: another CPU ended (kill) or preempted this CPU's process.
void on_wake(TrapFrame&) {
    Process* current = per_cpu::this_cpu()->current;
    if (current && current->kill_pending) process::exit_current(current->kill_signal);
    if (per_cpu::this_cpu()->reschedule_pending) schedule();
}

}  // namespace

void initialize(u32 quantum_ticks) {
    g_quantum = quantum_ticks;
    idt::set_handler(idt::kIrqBase + pic::kIrqTimer, on_timer);
    idt::set_handler(idt::kApicTimerVector, on_apic_timer);
    idt::set_handler(idt::kWakeVector, on_wake);
}

u32 quantum() { return g_quantum; }
u64 context_switches() { return g_switches; }
u64 wakeups() { return g_wakeups; }

void kick(u32 cpu) {
    if (cpu == per_cpu::this_cpu()->index) return;
    const PerCpu& target = per_cpu::area(cpu);
    local_apic::send_ipi(paging::local_apic_registers(), static_cast<u8>(target.apic_id), idt::kWakeVector, 100000);
}

// The older memory models: a process rolled out of the arena comes back before it runs. When no room can be
// made for it (static segments in the way), it stays out and waits for its next turn while another runs;
// each queued process gets one try per switch. Out of line: the common switch never comes here.
[[gnu::noinline]] static Process* bring_in_or_pass(Process* next, u32 cpu) {
    for (u32 tries = 1; next && next->rolled_out && !process::roll_into_arena(next); ++tries) {
        enqueue(next);
        next = tries < process::kMaxProcesses ? pick_next(cpu) : nullptr;
    }
    return next;
}

// schedule() with interrupts already disabled.
static void switch_to_next() {
    PerCpu* cpu = per_cpu::this_cpu();
    cpu->reschedule_pending = false;
    Process* previous = cpu->current;
    if (previous && previous->state == ProcessState::Running) {
        previous->state = ProcessState::Ready;
        enqueue(previous);
    }
    Process* next = pick_next(cpu->index);
    if (next && next != previous && next->rolled_out) next = bring_in_or_pass(next, cpu->index);
    if (next == previous) {  // the same process again, or still nothing this CPU may run
        if (next) {
            next->state = ProcessState::Running;
            next->quantum_left = g_quantum;
        }
        return;
    }
    ++g_switches;
    ++cpu->context_switches;
    cpu->current = next;
    u32* save = previous ? &previous->saved_esp : &cpu->idle_esp;
    // The big lock's depth belongs to the context being left; the one resumed brings back its own.
    u32 lock_depth = big_lock::depth();
    if (!next) {
        // Nothing to run: back to this CPU's idle loop.
        switch_address_space(nullptr);
        switch_context(save, cpu->idle_esp);
    } else {
        if (previous) previous->last_ran = pit::ticks();
        // swap=process: a process rolled out while it waited comes back before it runs (in the context of the
        // one leaving the CPU; the disk is polled, so the CPU is simply busy meanwhile).
        process::roll_in_if_out(next);
        next->state = ProcessState::Running;
        next->quantum_left = g_quantum;
        next->cpu = cpu->index;
        // Interrupts from ring 3 arrive on this process's kernel stack (SDM Vol. 3A 6.12.1).
        cpu->tss->esp0 = next->kernel_stack.top();
        switch_address_space(next);
        switch_context(save, next->saved_esp);
    }
    big_lock::set_depth(lock_depth);  // on whichever CPU this context resumed
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
    bool others_ran = big_lock::let_waiters_in();
    Process* self = per_cpu::this_cpu()->current;
    if (self && self->kill_pending) process::exit_current(self->kill_signal);  // ended meanwhile by another CPU
    if (i32 leader = console::take_interrupt_request()) process::interrupt_job(leader);
    if (!per_cpu::this_cpu()->reschedule_pending) return others_ran;
    u64 switches = g_switches;
    schedule();
    return others_ran || g_switches != switches;
}

void make_ready(Process* p) {
    cpu::InterruptGuard guard;
    p->state = ProcessState::Ready;
    enqueue(p);
    wake_an_idle_cpu(p);
}

void remove(Process* p) {
    cpu::InterruptGuard guard;
    dequeue(p);
    if (p->waiting_on) p->waiting_on->remove(p);
}

// CPU 0 enters with the big lock held (kmain), the others without (ap_main: they start asleep, so that they
// do not wait for the lock while CPU 0 boots). The lock is let go for the HLT: a halted CPU holds nothing,
// and every interrupt that wakes it takes the lock in trap_dispatch. CPU 0 wakes at each PIT tick (it also
// collects orphans and acts on Ctrl-C); the others go back to sleep at once unless something looks ready or
// CPU 0 asked them to run a function (smp::run_on), so an idle CPU costs the others nothing.
// How long CPU 0's idle loop waits for a held lock before it halts again: rounds of PAUSE, a fraction of a
// 10 ms tick under QEMU, far longer than a system call holds the lock.
constexpr u32 kBootstrapLockSpins = 1u << 14;

void run_idle(const u32* until) {
    PerCpu* cpu = per_cpu::this_cpu();
    bool bootstrap = cpu->index == 0;
    bool holding = big_lock::held_by_this_cpu();
    for (;;) {
        cpu::disable_interrupts();
        if (holding) {
            if (cpu->call) smp::run_requested_call();
            if (bootstrap) {
                if (i32 leader = console::take_interrupt_request()) process::interrupt_job(leader);
                process::collect_orphans();
                if (!until && process::count() == 0) {
                    cpu::enable_interrupts();
                    return;
                }
            }
            if (any_ready()) schedule();
            if (until && __atomic_load_n(until, __ATOMIC_ACQUIRE)) return;
            __atomic_store_n(&cpu->idle, 1, __ATOMIC_RELEASE);
            if (big_lock::locking() && big_lock::depth() != 1)
                mneme_panic("%s: idle with the big lock %u deep", cpu->name, big_lock::depth());
            big_lock::leave();
        }
        // CPU 0 keeps halting while another CPU holds the lock, unless woken by an IPI (a process made ready
        // for it), and never waits for the lock with interrupts off: that would stop its clock (an
        // application processor may hold the lock for long: testcpu=N). Looking at the owner and then
        // waiting for a ticket was not enough: the processor could take the lock in between, and CPU 0's
        // clock then stopped while the in-kernel tests on cpu1 halted for ticks (kernel-on-cpu1 failed its
        // timer test in about 1 run of 20 on a loaded host). So CPU 0 tries, waits a little with interrupts
        // on (the sender of a wake-up IPI lets go soon), and otherwise goes back to halting until the next
        // tick. The others wait for the lock as any kernel entry does.
        for (;;) {
            u32 wakeups = cpu->wakeups;
            do {
                cpu::enable_interrupts_and_halt();
                cpu::disable_interrupts();
            } while (bootstrap ? big_lock::owner() != 0 && cpu->wakeups == wakeups
                               : !ready_hint() && !__atomic_load_n(&cpu->call, __ATOMIC_ACQUIRE));
            if (!bootstrap) {
                big_lock::enter_interrupts_off();
                break;
            }
            if (big_lock::try_enter_waiting_interrupts_on(kBootstrapLockSpins)) break;
        }
        __atomic_store_n(&cpu->idle, 0, __ATOMIC_RELEASE);
        holding = true;
    }
}

}  // namespace scheduler
