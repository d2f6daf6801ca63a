// CpuCommands.cpp: the monitor's `cpus` view (docs/multicore.md): each processor the kernel found, whether it
// is online, what it runs, the timer ticks it took and the locks it holds now (kernel/smp/Smp.h,
// kernel/smp/PerCpu.h).
#include "arch/i386/Pit.h"
#include "kernel/debug/Monitor.h"
#include "kernel/dev/Console.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/smp/Smp.h"

MONITOR_COMMAND(cpus, "cpus", "", "each CPU: APIC id, state, what it runs, timer ticks, the locks it holds") {
    u32 count = smp::cpu_count();
    if (count == 0) count = 1;  // discovery found no table: the one CPU running this
    kprintf("CPU  APIC  state                                   runs                      locks held      ticks\n");
    for (u32 i = 0; i < count; ++i) {
        const smp::Cpu* cpu = smp::cpu_count() ? &smp::cpu(i) : nullptr;
        const PerCpu& area = per_cpu::area(i);
        bool bootstrap = !cpu || cpu->bootstrap;
        bool online = bootstrap || __atomic_load_n(&cpu->online, __ATOMIC_ACQUIRE) != 0;
        char state[48], runs[32];
        if (bootstrap)
            format_to_buffer(state, sizeof(state), "online, the bootstrap processor");
        else if (online)
            format_to_buffer(state, sizeof(state), "online, parked (halted)");  // its start time: the boot log
        else
            format_to_buffer(state, sizeof(state), "%s", cpu->started ? "did not answer" : "not started (cpus=)");
        // Only the bootstrap processor runs processes and takes the timer interrupt so far.
        Process* current = bootstrap ? scheduler::current() : nullptr;
        if (current)
            format_to_buffer(runs, sizeof(runs), "pid %d (%s)", current->pid, current->name);
        else
            format_to_buffer(runs, sizeof(runs), "%s", bootstrap ? "the monitor (idle)" : "nothing");
        char locks[64] = "none";
        if (online && area.held_locks.count()) {
            u32 used = 0;
            for (u32 l = 0; l < area.held_locks.count() && used < sizeof(locks); ++l)
                used += format_to_buffer(locks + used, sizeof(locks) - used, "%s%s", l ? ", " : "",
                                         area.held_locks.held(l).name);
        }
        kprintf("%3u  %4u  %-38s  %-24s  %-14s %6llu\n", i, cpu ? cpu->apic_id : 0, state, runs, locks,
                bootstrap ? static_cast<unsigned long long>(pit::ticks()) : 0ull);
    }
    kprintf("(processes run on the bootstrap processor only; the others halt until the scheduler uses them)\n");
}
