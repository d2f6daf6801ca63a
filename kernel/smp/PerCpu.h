// PerCpu.h: each processor's own data, reached through GS (docs/multicore.md, "Per-CPU data").
//
// Every CPU runs the same kernel code, so "this CPU's X" cannot be a global variable. Each CPU gets a PerCpu
// area and a GDT data descriptor whose base is that area (arch/i386/Gdt.h: CPU 0's in slot 8, each AP's in
// a run-time slot); each CPU loads its own selector into GS, so a GS-relative access lands in its own area
// (Intel SDM Vol. 3A 3.4.3, "Segment Registers": the base comes from the hidden part loaded with the
// selector). The first field points at the area itself: this_cpu() is one `mov %gs:0, reg`, and the rest
// is ordinary C++ through that pointer.
//
// An area belongs to its CPU: only that CPU writes it, with interrupts off where a handler could also touch
// it (the interrupt nesting count and the held locks are changed with interrupts off by construction).
#pragma once

#include "arch/i386/Cpu.h"
#include "libc/base/LockOrder.h"
#include "libc/base/Types.h"

struct Process;
struct TaskStateSegment;

struct PerCpu {
    PerCpu* self;      // %gs:0, checked by static_assert below
    u32 index;         // 0 for the bootstrap processor, then in the order they were started
    u32 apic_id;       // its local APIC id (0 without an APIC)
    Process* current;  // the process this CPU runs; null while it idles (kernel/proc/Scheduler.cpp)
    TaskStateSegment* tss;  // its own TSS: esp0 is the running process's kernel stack
    // The scheduler's per-CPU part: the idle context's stack pointer, "the quantum ended while the kernel
    // worked" (acted on at the return to user mode), whether it sits in HLT with nothing to run (a wake-up
    // IPI is then worth sending), and its counts.
    u32 idle_esp;
    bool reschedule_pending;
    u32 idle;  // read by other CPUs: __atomic builtins
    u64 timer_ticks;
    u64 idle_ticks;
    u32 deferred_ticks;  // CPU 0: PIT ticks counted while another CPU held the big lock (TrapEntry.cpp)
    u32 context_switches;
    // The big kernel lock (kernel/sync/BigKernelLock.h): how many kernel entries deep this CPU holds it.
    u32 big_lock_depth;
    // TLB shootdown (kernel/mm/Tlb.cpp): the page directory CR3 holds, and the request flag, set by the CPU
    // that asks and cleared by this one once it has flushed.
    u32 directory;
    u32 tlb_request;
    u32 tlb_flushes;  // requests served
    // Wake-up IPIs taken (kernel/proc/TrapEntry.cpp); with echo_wakeups set (the cross-CPU benchmark,
    // kernel/debug/Bench.cpp), each one taken while idle is answered with one to CPU 0.
    u32 wakeups;
    u32 echo_wakeups;
    // A function CPU 0 asked this CPU to run under the big lock (smp::run_on), its argument, and whether it
    // has returned.
    void (*call)(void*);
    void* call_argument;
    u32 call_done;
    // Interrupt-disable nesting (kernel/sync/Interrupts.h): the depth of nested "interrupts off" sections,
    // and whether interrupts were on when the outermost one began.
    u32 interrupts_off_depth;
    bool interrupts_were_on;
    HeldLocks held_locks;  // the lock debugger's view (libc/base/LockOrder.h)
    char name[8];          // "cpu0", for messages
    // Lock contention (kernel/sync/SpinLock.h): the locks this CPU took, and how many of them it found taken
    // and had to wait for. Written by this CPU with interrupts off; the monitor's `cpus` reads them.
    u32 lock_acquisitions;
    u32 lock_contended;
};
static_assert(__builtin_offsetof(PerCpu, self) == 0, "this_cpu() reads the self pointer at %gs:0");

namespace per_cpu {

constexpr u32 kMaxCpus = 16;  // as many as CpuList keeps (format/CpuTables.h)

// The running CPU's area. Valid from the first line of kmain (initialize_bootstrap) on the BSP, and from
// ap_main's GDT load on an AP.
inline PerCpu* this_cpu() { return reinterpret_cast<PerCpu*>(cpu::read_gs_dword(0)); }

// Sets up CPU 0's area and its GDT slot, and loads GS. Right after gdt::initialize, before any lock is taken.
void initialize_bootstrap();
// Fills in CPU `index`'s area (before it starts); its GDT descriptor is added with the AP's TSS.
PerCpu& prepare(u32 index, u32 apic_id);
PerCpu& area(u32 index);
// The CPUs running the kernel: bit i for CPU i (the bootstrap processor from the start, each application
// processor once it has loaded its GS). Read without a lock by the TLB shootdown and the wake-ups.
u32 online_mask();
void mark_online(u32 index);
// More than one CPU online: the cheap test that keeps one CPU's paths as they were.
inline bool several_online() { return (online_mask() & (online_mask() - 1)) != 0; }

}  // namespace per_cpu
