// SyncTests.cpp: per-CPU data through GS (kernel/smp/PerCpu.h) and the spinlocks (kernel/sync/). They pass
// with one CPU and with several: each AP records what it read through its own GS before it halts.
//
// Lock order in this file: test outer (lock_rank::kTestOuter), then test inner (kTestInner).
#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "kernel/debug/KTest.h"
#include "kernel/dev/Console.h"
#include "kernel/smp/PerCpu.h"
#include "libc/base/Format.h"
#include "kernel/smp/Smp.h"
#include "kernel/sync/Interrupts.h"
#include "kernel/sync/LockRanks.h"
#include "kernel/sync/LockRegistry.h"
#include "kernel/sync/SpinLock.h"

namespace {

sync::SpinLock g_outer("test outer", lock_rank::kTestOuter);
sync::TicketLock g_inner("test inner", lock_rank::kTestInner);

}  // namespace

KTEST(per_cpu, the_bootstrap_processor_reaches_its_area_through_gs) {
    PerCpu* self = per_cpu::this_cpu();
    if (self->index != 0) {  // testcpu=N: each_application_processor_read_its_own_area_through_gs covers this CPU
        kprintf("     per_cpu.the_bootstrap_processor_reaches_its_area_through_gs: skipped: running on %s\n", self->name);
        return;
    }
    EXPECT_EQ(self, &per_cpu::area(0));
    EXPECT_EQ(self->self, self);
    EXPECT_EQ(self->index, 0u);
    EXPECT_EQ(self->apic_id, static_cast<u32>(smp::cpu(0).apic_id));
    EXPECT_EQ(cpu::read_gs(), gdt::kCpuData);
    // The descriptor: a DPL 0 data segment whose base is the area and whose limit ends with it.
    const SegmentDescriptor& d = gdt::entry(gdt::kCpuData >> 3);
    EXPECT(d.is_data());
    EXPECT_EQ(d.dpl(), 0u);
    EXPECT_EQ(d.base(), reinterpret_cast<u32>(self));
    EXPECT_EQ(d.limit(), sizeof(PerCpu) - 1);
}

KTEST(per_cpu, each_application_processor_read_its_own_area_through_gs) {
    for (u32 i = 1; i < smp::cpu_count(); ++i) {
        const smp::Cpu& cpu = smp::cpu(i);
        if (!cpu.online) continue;
        EXPECT_EQ(cpu.gs_index, i);
        EXPECT_EQ(cpu.gs_apic_id, static_cast<u32>(cpu.apic_id));
        EXPECT_EQ(cpu.apic_id_register, static_cast<u32>(cpu.apic_id));  // the area matches the hardware
        EXPECT_EQ(per_cpu::area(i).self, &per_cpu::area(i));
    }
    // Each AP took the check-in ticket lock once, in start order (they start one at a time).
    ASSERT_EQ(smp::check_in_count(), smp::online_count() - 1);
    for (u32 position = 0; position < smp::check_in_count(); ++position)
        EXPECT_EQ(smp::checked_in(position), position + 1);
}

KTEST(per_cpu, the_trap_entry_finds_this_cpus_gs_from_the_task_register) {
    u16 own = gdt::cpu_data_for_task(cpu::store_task_register());
    EXPECT_EQ(own, cpu::read_gs());
    // Spoil GS, take a timer interrupt: the entry loads this CPU's segment, and the return to ring 0 keeps
    // it. Nothing between the two may use this_cpu() (it would read through the flat segment).
    u32 flags = cpu::read_eflags();
    cpu::disable_interrupts();
    cpu::load_gs(gdt::kKernelData);
    cpu::enable_interrupts_and_halt();  // the next tick (or any IRQ) wakes it, through trap_common
    cpu::disable_interrupts();
    u16 after = cpu::read_gs();
    cpu::load_gs(own);  // in case the test fails: the rest of the kernel needs it
    cpu::write_eflags(flags);
    EXPECT_EQ(after, own);
    if (per_cpu::this_cpu()->index == 0) EXPECT_EQ(own, gdt::kCpuData);
}

KTEST(sync, nested_locks_restore_the_interrupt_flag_at_the_outermost_release) {
    u32 flags = cpu::read_eflags();
    PerCpu* self = per_cpu::this_cpu();
    cpu::enable_interrupts();
    g_outer.lock();
    EXPECT(!cpu::interrupts_enabled());
    EXPECT_EQ(self->interrupts_off_depth, 1u);
    g_inner.lock();
    EXPECT_EQ(self->interrupts_off_depth, 2u);
    EXPECT(g_inner.held_by_this_cpu() && g_outer.held_by_this_cpu());
    EXPECT_EQ(self->held_locks.count(), 2u);
    g_inner.unlock();
    EXPECT(!cpu::interrupts_enabled());  // the inner release must not turn them on under the outer lock
    g_outer.unlock();
    EXPECT(cpu::interrupts_enabled());
    EXPECT_EQ(self->interrupts_off_depth, 0u);
    EXPECT_EQ(self->held_locks.count(), 0u);

    // Taken with interrupts off, released with them still off.
    cpu::disable_interrupts();
    {
        sync::Locker locker(g_inner);
        EXPECT(g_inner.is_locked());
    }
    EXPECT(!cpu::interrupts_enabled());
    EXPECT(!g_inner.is_locked());
    cpu::write_eflags(flags);
}

KTEST(sync, interrupts_off_sections_nest_with_interrupt_guards) {
    u32 flags = cpu::read_eflags();
    cpu::enable_interrupts();
    {
        sync::InterruptsOff off;
        {
            cpu::InterruptGuard guard;  // finds them off, leaves them off
        }
        EXPECT(!cpu::interrupts_enabled());
    }
    EXPECT(cpu::interrupts_enabled());
    cpu::write_eflags(flags);
}

KTEST(sync, the_lock_debugger_catches_a_double_acquire_and_the_wrong_order) {
    // The decision the lock would panic on, asked of this CPU's real held-lock list while it holds a lock.
    PerCpu* self = per_cpu::this_cpu();
    g_inner.lock();
    HeldLocks::Decision twice = self->held_locks.check_acquire(g_inner.lock_class());
    EXPECT(twice.verdict == HeldLocks::Verdict::AlreadyHeld);
    HeldLocks::Decision order = self->held_locks.check_acquire(g_outer.lock_class());
    EXPECT(order.verdict == HeldLocks::Verdict::WrongOrder);
    EXPECT_EQ(order.other, &g_inner.lock_class());
    char message[160];
    describe(order, g_outer.lock_class(), self->name, message, sizeof(message));
    g_inner.unlock();
    EXPECT(self->held_locks.check_acquire(g_outer.lock_class()).ok());
    EXPECT(self->held_locks.check_release(g_outer.lock_class()).verdict == HeldLocks::Verdict::NotHeld);
    // The sentence names the CPU and both locks.
    char expected[160];
    format_to_buffer(expected, sizeof(expected),
                     "lock order: %s takes \"test outer\" (rank 500) while holding \"test inner\" (rank 510); "
                     "ranks must increase",
                     self->name);
    EXPECT_EQ(__builtin_strcmp(message, expected), 0);
}

KTEST(sync, a_lock_counts_its_acquisitions_and_so_does_the_cpu) {
    // Nothing else takes the test locks, and the other CPUs are parked: nothing here is contended.
    PerCpu* self = per_cpu::this_cpu();
    LockCounters outer = g_outer.counters(), inner = g_inner.counters();
    u32 taken = self->lock_acquisitions, contended = self->lock_contended;
    for (int i = 0; i < 3; ++i) {
        sync::Locker a(g_outer);
        sync::Locker b(g_inner);
    }
    EXPECT_EQ(g_outer.counters().acquisitions, outer.acquisitions + 3);
    EXPECT_EQ(g_inner.counters().acquisitions, inner.acquisitions + 3);
    EXPECT_EQ(g_outer.counters().contended, outer.contended);
    EXPECT_EQ(g_inner.counters().spins, inner.spins);
    EXPECT_EQ(self->lock_acquisitions, taken + 6);
    EXPECT_EQ(self->lock_contended, contended);
}

KTEST(sync, the_registry_lists_the_kernels_locks_with_their_counts) {
    const sync::RegisteredLock* console = nullptr;
    const sync::RegisteredLock* check_in = nullptr;
    for (const sync::RegisteredLock* lock : sync::registered_locks()) {
        if (__builtin_strcmp(lock->lock_class->name, "console output") == 0) console = lock;
        if (__builtin_strcmp(lock->lock_class->name, "smp check-in") == 0) check_in = lock;
    }
    ASSERT(console && check_in);
    EXPECT_EQ(console->lock_class->rank, lock_rank::kConsoleOutput);
    EXPECT_EQ(check_in->lock_class->rank, lock_rank::kSmpCheckIn);
    EXPECT(console->counters->acquisitions > 0);  // every line printed so far
    // Each AP took the check-in lock once, and so did each CPU's own count.
    EXPECT(check_in->counters->acquisitions >= smp::online_count() - 1);
    for (u32 i = 1; i < smp::online_count(); ++i) EXPECT(per_cpu::area(i).lock_acquisitions >= 1);
}
