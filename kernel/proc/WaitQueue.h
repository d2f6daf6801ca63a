// WaitQueue.h: a process sleeps until an event happens, and whoever makes the event happen (often an
// interrupt handler) wakes it.
//
//   // the sleeper (process context)            // the waker (an interrupt handler, or another process)
//   g_readers.wait_until([&] {                  push_byte(byte);
//       return (c = try_read_char()) >= 0;      g_readers.wake_all();
//   });
//
// The rules (docs/processes.md, "Interrupts in the kernel"):
// - Checking the condition and going to sleep are one step. wait_until() checks with interrupts disabled and
//   sleep() keeps them disabled until the switch to another process, so a wake-up that an interrupt handler
//   sends between the check and the sleep cannot be lost. sleep() alone must be called that way too: with
//   interrupts disabled, right after the caller checked its condition under the same disabled section.
// - Waking is allowed anywhere: in interrupt handlers (interrupts are off there) and in process context.
//   A woken process becomes Ready and runs when the scheduler picks it (the kernel is not preemptible: the
//   waker is not interrupted for it). It checks its condition again: a wake-up is a hint, not a promise.
// - A process sleeps holding nothing: no InterruptGuard but the one that wait_until() holds for it, no
//   half-done change to a shared structure. Another process may end it while it sleeps (kill, Ctrl-C):
//   process::kill takes it off the queue (remove()) and it never runs again.
// - Without a process (the boot context: kernel tests, the boot monitor) sleeping halts the CPU until an
//   interrupt handler wakes the queue.
//
// A sleeper's entry (a Waiter) lives on its own kernel stack, which stays in place while it sleeps; the queue
// links the entries in the order they came (wake_one() wakes the longest sleeper).
#pragma once

#include "arch/i386/Cpu.h"
#include "libc/abi/Syscalls.h"
#include "libc/base/Types.h"

struct Process;

class WaitQueue {
public:
    struct Waiter {
        Process* process;  // null: the boot context
        Waiter* next;
        u64 deadline;  // for wake_if(): the timer's sleepers keep their wake-up tick here
        volatile bool woken;
    };

    constexpr explicit WaitQueue(const char* name) : m_name(name) {}
    MNEME_NONCOPYABLE(WaitQueue);

    // Sleeps until `done()` is true; `done` runs with interrupts disabled, so it must be short.
    template <typename Condition>
    void wait_until(Condition done) {
        cpu::InterruptGuard guard;
        while (!done()) sleep();
    }
    // Sleeps until woken. Interrupts must be disabled (see above); they are disabled again on return.
    // `state` is what ps shows meanwhile (Waiting, or Sleeping for a timed sleep).
    void sleep(ProcessState state = ProcessState::Waiting, u64 deadline = 0);

    // Wakes the longest sleeper; false if there was none.
    bool wake_one();
    // Wakes every sleeper; returns how many.
    u32 wake_all();
    // Wakes every sleeper for which `should_wake(const Waiter&)` is true; returns how many.
    template <typename Predicate>
    u32 wake_if(Predicate should_wake) {
        cpu::InterruptGuard guard;
        u32 woken = 0;
        Waiter* previous = nullptr;
        for (Waiter* w = m_head; w;) {
            Waiter* next = w->next;
            if (should_wake(static_cast<const Waiter&>(*w))) {
                wake(previous, w);
                ++woken;
            } else {
                previous = w;
            }
            w = next;
        }
        return woken;
    }

    // Takes a process that will never run again (it was killed while asleep) off the queue.
    void remove(Process* process);

    bool empty() const { return m_head == nullptr; }
    u32 size() const;
    const char* name() const { return m_name; }

private:
    void append(Waiter* waiter);
    void unlink(Waiter* previous, Waiter* waiter);
    // Unlinks `waiter` (which follows `previous`, or is the head) and makes its process Ready.
    void wake(Waiter* previous, Waiter* waiter);

    Waiter* m_head = nullptr;
    Waiter* m_tail = nullptr;
    const char* m_name;
};
