// CpuCommands.cpp: the monitor's `cpus` view (docs/multicore.md): each processor the kernel found, whether it
// is online, what it runs, the timer ticks it took, the locks it holds now and how many it took and had to
// wait for (kernel/smp/Smp.h, kernel/smp/PerCpu.h); then each registered lock with its counts
// (kernel/sync/LockRegistry.h).
//
// The counts are read without the locks, while other CPUs may be counting: each is an aligned 32-bit word,
// so a value may be one behind but never torn (Intel SDM Vol. 3A 8.1.1).
#include "arch/i386/Pit.h"
#include "kernel/debug/Monitor.h"
#include "kernel/dev/Console.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/smp/Smp.h"
#include "kernel/sync/LockRegistry.h"

namespace {

u32 read_count(const u32& counter) { return __atomic_load_n(&counter, __ATOMIC_RELAXED); }

// Every registered lock, in rank order (the kernel's lock order, kernel/sync/LockRanks.h); equal ranks in
// link order. A handful of locks: a quadratic pass is plenty.
void print_locks() {
    Span<const sync::RegisteredLock* const> locks = sync::registered_locks();
    kprintf("lock                  rank  acquisitions   contended       spins\n");
    for (size_t position = 0; position < locks.size(); ++position) {
        for (size_t i = 0; i < locks.size(); ++i) {
            size_t before = 0;
            for (size_t j = 0; j < locks.size(); ++j) {
                u32 rank_i = locks[i]->lock_class->rank, rank_j = locks[j]->lock_class->rank;
                if (rank_j < rank_i || (rank_j == rank_i && j < i)) ++before;
            }
            if (before != position) continue;
            const LockCounters& c = *locks[i]->counters;
            kprintf("%-20s %5u  %12u  %10u  %10u\n", locks[i]->lock_class->name, locks[i]->lock_class->rank,
                    read_count(c.acquisitions), read_count(c.contended), read_count(c.spins));
        }
    }
}

}  // namespace

MONITOR_COMMAND(cpus, "cpus", "", "each CPU: APIC id, state, what it runs, timer ticks, switches, locks held and contended") {
    u32 count = smp::cpu_count();
    if (count == 0) count = 1;  // discovery found no table: the one CPU running this
    kprintf(
        "CPU  APIC  state                          runs                   locks held      ticks  switches"
        "  shootdowns  locks taken  contended\n");
    for (u32 i = 0; i < count; ++i) {
        const smp::Cpu* cpu = smp::cpu_count() ? &smp::cpu(i) : nullptr;
        const PerCpu& area = per_cpu::area(i);
        bool bootstrap = !cpu || cpu->bootstrap;
        bool online = bootstrap || __atomic_load_n(&cpu->online, __ATOMIC_ACQUIRE) != 0;
        char state[40], runs[32];
        if (bootstrap)
            format_to_buffer(state, sizeof(state), "online, bootstrap processor");
        else if (online)
            format_to_buffer(state, sizeof(state), "online");  // its start time: the boot log
        else
            format_to_buffer(state, sizeof(state), "%s", cpu->started ? "did not answer" : "not started (cpus=)");
        // Read without the big kernel lock's help for the others: a CPU may switch meanwhile, so the pid is
        // what it ran a moment ago (the control block stays while it runs there).
        Process* current = online ? __atomic_load_n(&area.current, __ATOMIC_ACQUIRE) : nullptr;
        if (current)
            format_to_buffer(runs, sizeof(runs), "pid %d (%s)", current->pid, current->name);
        else
            format_to_buffer(runs, sizeof(runs), "%s",
                             !online ? "-" : i == per_cpu::this_cpu()->index ? "the monitor" : "idle (halted)");
        char locks[64] = "none";
        if (online && area.held_locks.count()) {
            u32 used = 0;
            for (u32 l = 0; l < area.held_locks.count() && used < sizeof(locks); ++l)
                used += format_to_buffer(locks + used, sizeof(locks) - used, "%s%s", l ? ", " : "",
                                         area.held_locks.held(l).name);
        }
        kprintf("%3u  %4u  %-29s  %-21s  %-14s %6llu  %8u  %10u  %11u  %9u\n", i, cpu ? cpu->apic_id : 0, state, runs,
                locks, static_cast<unsigned long long>(area.timer_ticks + area.idle_ticks),
                online ? read_count(area.context_switches) : 0, online ? read_count(area.tlb_flushes) : 0,
                online ? read_count(area.lock_acquisitions) : 0, online ? read_count(area.lock_contended) : 0);
    }
    kprintf("(ticks: CPU 0's PIT, the others' local APIC timers; shootdowns: flush requests it served; the big\n"
            " kernel lock is held by one CPU at a time, so \"contended\" counts entries that waited for another)\n\n");
    print_locks();
}
