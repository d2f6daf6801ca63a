// SmpTests.cpp: the application processors came up (kernel/smp/), and what bring-up leaves behind is right.
// With -smp 1 there is one CPU and the tests check just that; tests/scripts/smp.sh boots -smp 2 and 4.
#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Idt.h"
#include "arch/i386/Pit.h"
#include "kernel/boot/BootOptions.h"
#include "kernel/debug/KTest.h"
#include "kernel/mm/KernelStack.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/smp/Smp.h"
#include "kernel/smp/SmpInternal.h"
#include "kernel/dev/Console.h"
#include "kernel/memmodel/PagedMemory.h"
#include "kernel/mm/Tlb.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/smp/PerCpu.h"
#include "mm/vm/UserLayout.h"

KTEST(smp, every_started_cpu_is_online) {
    ASSERT(smp::cpu_count() >= 1);
    EXPECT(smp::cpu(0).bootstrap);
    for (u32 i = 0; i < smp::cpu_count(); ++i) EXPECT_EQ(smp::cpu(i).online, 1u);
    EXPECT_EQ(smp::online_count(), smp::cpu_count());
}

KTEST(smp, the_trampoline_page_is_reserved_and_no_longer_mapped) {
    if (smp::cpu_count() == 1) {
        EXPECT_EQ(smp::g_trampoline, 0u);  // one CPU: nothing reserved
        return;
    }
    ASSERT(smp::g_trampoline != 0 && smp::g_trampoline < 0xA0000);
    EXPECT(pmm::is_reserved(smp::g_trampoline));
    // The identity mapping lived in the bring-up directory only: the kernel's never maps low memory.
    paging::Walk walk = paging::walk(paging::kernel_directory(), smp::g_trampoline);
    EXPECT(!walk.pde.is_present());
}

KTEST(smp, each_application_processor_has_its_own_busy_tss) {
    // LTR marks a TSS descriptor busy (type 0xB): the BSP's and each AP's, each in its own slot.
    u32 busy = 0;
    for (u16 index = 1; index < gdt::kEntries; ++index) {
        const SegmentDescriptor& d = gdt::entry(index);
        if (d.is_present() && !d.is_code_or_data() && d.type() == 0xB) ++busy;
    }
    EXPECT_EQ(busy, smp::online_count());
}

KTEST(smp, each_cpu_has_its_own_double_fault_task_and_stack) {
    // CPU 0's table, gate 8, names the fixed double-fault TSS; the running CPU's loaded table is its own.
    EXPECT_EQ(idt::gate_of_cpu(0, idt::kDoubleFault).selector, gdt::kDoubleFaultTss);
    EXPECT_EQ(idt::gate(idt::kDoubleFault).selector,
              idt::gate_of_cpu(per_cpu::this_cpu()->index, idt::kDoubleFault).selector);
    const TaskStateSegment* seen[per_cpu::kMaxCpus] = {};
    for (u32 i = 0; i < smp::cpu_count(); ++i) {
        // Each CPU's own IDT: gate 8 is a task gate naming this CPU's double-fault TSS.
        idt::GateInfo gate = idt::gate_of_cpu(i, idt::kDoubleFault);
        EXPECT(gate.present);
        EXPECT_EQ(gate.type, 0x5u);
        EXPECT_EQ(gate.selector, smp::double_fault_tss_selector(i));
        const TaskStateSegment* task = gdt::task_state(gate.selector);
        ASSERT(task != nullptr);
        EXPECT(task != gdt::task_state(smp::tss_selector(i)));
        // Runs in the kernel's directory, with this CPU's GS, and the trap entry pairs it with the same GS.
        u16 cpu_data = gdt::cpu_data_for_task(smp::tss_selector(i));
        EXPECT_EQ(task->gs, cpu_data);
        EXPECT_EQ(gdt::cpu_data_for_task(gate.selector), cpu_data);
        EXPECT_EQ(task->cr3, paging::kernel_directory());
        EXPECT_EQ(task->cs, gdt::kKernelCode);  // (its EIP moves: a task that ran saves it, just past its IRET)
        // Its own stack: no other CPU's task starts on it, and an AP's is a KernelStack with its guard page
        // just below (CPU 0's is the static one Kmain sets up).
        for (u32 j = 0; j < i; ++j) {
            EXPECT(seen[j] != task);
            EXPECT(seen[j]->esp != task->esp);
            u32 distance = seen[j]->esp > task->esp ? seen[j]->esp - task->esp : task->esp - seen[j]->esp;
            EXPECT(distance >= KernelStack::kSize);
        }
        if (i > 0) EXPECT(KernelStack::is_guard_address(task->esp - KernelStack::kSize - 1));
        seen[i] = task;
    }
}

KTEST(smp, a_double_fault_on_an_application_processor_runs_its_own_task) {
    // Only with apdf=1 (tests/scripts/smp.sh): each AP overflowed its kernel stack before it came online.
    if (!boot_options::get().ap_double_fault) return;
    for (u32 i = 1; i < smp::cpu_count(); ++i) {
        const smp::Cpu& cpu = smp::cpu(i);
        EXPECT(cpu.drill_recovered);
        EXPECT_EQ(cpu.drill_cpu, i);  // the handler's GS named this CPU
        EXPECT_EQ(cpu.drill_task, smp::double_fault_tss_selector(i));
        EXPECT_EQ(cpu.drill_interrupted, smp::tss_selector(i));  // its back link: this CPU's main TSS
    }
}

KTEST(pit, stopwatch_agrees_with_the_tick_count) {
    // The ticks need interrupts on; the tests may run with them off.
    u32 flags = cpu::read_eflags();
    cpu::enable_interrupts();
    // The ticks are CPU 0's. Run on another CPU (testcpu=N), the wait is longer than the 100 ms TCG may run
    // one virtual CPU before it lets the next, halted CPU 0 among them, take its interrupt.
    u32 ms = per_cpu::this_cpu()->index == 0 ? 50 : 300;
    u64 start = pit::ticks();
    pit::delay_us(ms * 1000);
    u64 ticks = pit::ticks() - start;
    cpu::write_eflags(flags);
    u64 expected = ms * pit::frequency() / 1000;
    // Ticks can only be lost (an emulator that runs the CPU late merges timer interrupts, e.g. -cpu 486 with a
    // second CPU spinning), never gained: the upper bound is strict, the lower one only says time passed.
    EXPECT(ticks >= 1);
    EXPECT(ticks <= expected * 4 + 2);
}

// TLB shootdown (kernel/mm/Tlb.h): `spin` writes to its stack in a loop on another CPU, whose TLB holds the
// writable translations. This CPU write-protects those pages (copy-on-write, as fork does): the change must
// reach that CPU before protect() returns, so its next write faults. A stale entry would let it write on
// without a fault, and the fault count would not move.
KTEST(smp, a_write_protect_reaches_the_cpu_running_the_process) {
    if (!per_cpu::several_online()) {
        kprintf("     smp.a_write_protect_reaches_the_cpu_running_the_process: skipped: one CPU\n");
        return;
    }
    const char* argv[] = {"spin", nullptr};
    auto spawned = process::spawn("/bin/spin", argv, nullptr, 0);
    ASSERT(!spawned.is_error());
    Process* p = spawned.value();
    i32 pid = p->pid;
    // This context sleeps with the big lock let go; another CPU picks spin up (this one is not in its idle
    // loop, so it runs nothing meanwhile).
    for (int i = 0; i < 300 && !(p->state == ProcessState::Running && p->ticks_used >= 3); ++i)
        scheduler::sleep_until(pit::ticks() + 1);
    ASSERT(p->state == ProcessState::Running && p->cpu != per_cpu::this_cpu()->index);
    auto& tables = p->memory->as_paged()->space().tables();
    u32 faults = p->memory->page_faults(), shootdowns = tlb::shootdowns(), protected_pages = 0;
    for (u32 page = 1; page <= 4; ++page) {
        u32 vaddr = user_layout::kStackTop - page * kPageSize;
        if (!tables.walk(vaddr).mapped) continue;
        ASSERT(!tables.protect(vaddr, Protection{.writable = false, .user = true, .copy_on_write = true}).is_error());
        ++protected_pages;
    }
    ASSERT(protected_pages > 0);
    EXPECT_EQ(tlb::shootdowns(), shootdowns + protected_pages);
    for (int i = 0; i < 100 && p->memory->page_faults() == faults; ++i) scheduler::sleep_until(pit::ticks() + 1);
    kprintf("     smp.a_write_protect_reaches_the_cpu_running_the_process: spin on cpu%u; %u pages protected, %u "
            "shootdowns, %u faults after\n",
            p->cpu, protected_pages, tlb::shootdowns() - shootdowns, p->memory->page_faults() - faults);
    EXPECT(p->memory->page_faults() > faults);
    // Ended the way a kill from another CPU ends it (process::terminate): marked, and its CPU interrupted by
    // a wake-up IPI, so it ends itself there. (kill() refuses: with no init yet, spin is pid 1.)
    p->kill_signal = kSignalKill;
    p->kill_pending = true;
    scheduler::kick(p->cpu);
    for (int i = 0; i < 200 && p->state != ProcessState::Zombie; ++i) scheduler::sleep_until(pit::ticks() + 1);
    EXPECT(p->state == ProcessState::Zombie);
    process::collect_orphans();  // its slot (nobody waits for it), so the next process is pid 1 again
    EXPECT(!process::find(pid));
}
