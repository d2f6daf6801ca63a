// InterruptTests.cpp: interrupts in the kernel: InterruptGuard nesting, and a WaitQueue whose sleeper is
// woken by an interrupt handler. The kernel tests run in the boot context (no process yet), where sleeping
// on a WaitQueue halts the CPU until an interrupt handler wakes the queue (kernel/proc/WaitQueue.h).
#include "arch/i386/Cpu.h"
#include "arch/i386/Idt.h"
#include "arch/i386/Pic.h"
#include "arch/i386/Pit.h"
#include "kernel/debug/KTest.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/proc/WaitQueue.h"

namespace {

constexpr u8 kTimerVector = idt::kIrqBase + pic::kIrqTimer;

// A timer handler that runs the scheduler's tick and, on the g_wake_after-th tick, makes the event happen
// and wakes g_queue, the way a device's interrupt handler wakes its readers.
WaitQueue g_queue("ktest");
idt::Handler g_scheduler_tick = nullptr;
volatile u32 g_ticks_seen = 0;
u32 g_wake_after = 0;
volatile bool g_event = false;
volatile u32 g_sleepers_at_wake = 0;
volatile u32 g_woken = 0;

void tick_then_wake(TrapFrame& frame) {
    g_scheduler_tick(frame);
    g_ticks_seen = g_ticks_seen + 1;
    if (g_ticks_seen != g_wake_after) return;
    g_sleepers_at_wake = g_queue.size();
    g_event = true;
    g_woken = g_queue.wake_all();
}

// Puts tick_then_wake on the timer for the test's scope.
class TimerWaker {
public:
    explicit TimerWaker(u32 wake_after_ticks) {
        cpu::InterruptGuard guard;
        g_ticks_seen = 0;
        g_wake_after = wake_after_ticks;
        g_event = false;
        g_sleepers_at_wake = 0;
        g_woken = 0;
        g_scheduler_tick = idt::handler(kTimerVector);
        idt::set_handler(kTimerVector, tick_then_wake);
    }
    ~TimerWaker() {
        cpu::InterruptGuard guard;
        idt::set_handler(kTimerVector, g_scheduler_tick);
    }
    MNEME_NONCOPYABLE(TimerWaker);
};

}  // namespace

KTEST(interrupts, guard_nests_and_restores) {
    ASSERT(cpu::interrupts_enabled());
    {
        cpu::InterruptGuard outer;
        EXPECT(!cpu::interrupts_enabled());
        {
            cpu::InterruptGuard inner;
            EXPECT(!cpu::interrupts_enabled());
        }
        // The inner guard found interrupts off and leaves them off for the outer one.
        EXPECT(!cpu::interrupts_enabled());
    }
    EXPECT(cpu::interrupts_enabled());
    // A guard taken with interrupts already off does not turn them on.
    cpu::disable_interrupts();
    { cpu::InterruptGuard guard; }
    EXPECT(!cpu::interrupts_enabled());
    cpu::enable_interrupts();
}

KTEST(interrupts, syscall_gate_keeps_interrupts_on) {
    // Intel SDM Vol. 3A 6.12.1.2: a trap gate (type 0xF) leaves IF alone; the IRQ and exception gates are
    // interrupt gates (0xE), which clear it.
    EXPECT_EQ(idt::gate(idt::kSyscallVector).type, 0xFu);
    EXPECT_EQ(idt::gate(kTimerVector).type, 0xEu);
    EXPECT_EQ(idt::gate(14).type, 0xEu);
}

KTEST(interrupts, tick_count_reads_with_interrupts_on) {
    u64 start = pit::ticks();
    u64 previous = start;
    // Read while ticks arrive: the count never goes back (a torn 64-bit read could).
    for (u32 i = 0; i < 100000 && pit::ticks() < start + 2; ++i) {
        u64 now = pit::ticks();
        EXPECT_GE(now, previous);
        previous = now;
    }
    EXPECT(cpu::interrupts_enabled());
}

KTEST(waitqueue, interrupt_handler_wakes_the_sleeper) {
    // The count is read before the waker is installed: a tick between the two would count for the waker and
    // not for `start`, and three handler calls would then be only two ticks after it (it happened on CPU 1,
    // with CPU 0 taking the ticks).
    u64 start = pit::ticks();
    TimerWaker waker(3);
    u32 checks = 0;
    g_queue.wait_until([&] {
        ++checks;
        return g_event;
    });
    EXPECT(g_event);
    EXPECT_EQ(g_sleepers_at_wake, 1u);  // it was asleep on the queue when the interrupt came
    EXPECT_EQ(g_woken, 1u);
    EXPECT_GE(pit::ticks(), start + 3);
    EXPECT_EQ(checks, 2u);  // once before sleeping, once after the wake-up
    EXPECT(g_queue.empty());
    EXPECT(cpu::interrupts_enabled());  // wait_until's guard restored the flag it found
}

KTEST(waitqueue, no_sleep_when_the_condition_holds) {
    TimerWaker waker(1000000);  // never within the test
    u32 checks = 0;
    g_queue.wait_until([&] {
        ++checks;
        return true;
    });
    EXPECT_EQ(checks, 1u);  // checked once, never asleep
    EXPECT(g_queue.empty());
}

KTEST(waitqueue, waking_an_empty_queue_does_nothing) {
    WaitQueue queue("empty");
    EXPECT(!queue.wake_one());
    EXPECT_EQ(queue.wake_all(), 0u);
    EXPECT_EQ(queue.wake_if([](const WaitQueue::Waiter&) { return true; }), 0u);
    EXPECT_EQ(queue.size(), 0u);
}

KTEST(waitqueue, timed_sleep_ends_at_its_tick) {
    // nanosleep's path: the timer interrupt wakes the sleepers whose tick has come.
    u64 start = pit::ticks();
    scheduler::sleep_until(start + 3);
    EXPECT_GE(pit::ticks(), start + 3);
    EXPECT_LE(pit::ticks(), start + 10);  // woken at its tick, not some later event
    EXPECT(cpu::interrupts_enabled());
}
