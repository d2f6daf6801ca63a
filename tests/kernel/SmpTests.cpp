// SmpTests.cpp: the application processors came up (kernel/smp/), and what bring-up leaves behind is right.
// With -smp 1 there is one CPU and the tests check just that; tests/scripts/smp.sh boots -smp 2 and 4.
#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Pit.h"
#include "kernel/debug/KTest.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/smp/Smp.h"
#include "kernel/smp/SmpInternal.h"

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

KTEST(pit, stopwatch_agrees_with_the_tick_count) {
    // The ticks need interrupts on; the tests may run with them off.
    u32 flags = cpu::read_eflags();
    cpu::enable_interrupts();
    u64 start = pit::ticks();
    pit::delay_us(50000);
    u64 ticks = pit::ticks() - start;
    cpu::write_eflags(flags);
    u64 expected = 50 * pit::frequency() / 1000;
    // Ticks can only be lost (an emulator that runs the CPU late merges timer interrupts, e.g. -cpu 486 with a
    // second CPU spinning), never gained: the upper bound is strict, the lower one only says time passed.
    EXPECT(ticks >= 1);
    EXPECT(ticks <= expected * 4 + 2);
}
