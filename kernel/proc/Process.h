// Process.h: the process control block and the process table.
//
// A process is what the course notes call a PCB: its identity (pid, parent, name), its state, its saved kernel
// context (a kernel stack whose top holds the user registers while it is in the kernel), its memory (a page
// directory with the kernel half shared, and its regions), and how it ended. The table is a fixed array of
// kMaxProcesses slots pointing at control blocks from the "process" slab cache (`slabinfo` shows it); a fork
// bomb finds the table full (fork returns -EAGAIN).
//
// Life cycle: Ready <-> Running (the scheduler), Running -> Sleeping (nanosleep) / Waiting (waitpid, console
// read: asleep on a WaitQueue) -> Ready (woken), Running -> Zombie (exit or killed: memory freed at once, the
// slot kept until the parent's waitpid reaps it; orphans are given to init, pid 1).
//
// Locking: there is no lock per process. The table, the control blocks and each process's memory are
// changed only in process context by the kernel that runs non-preemptively (or by the timer tick when it
// interrupts user mode, when no kernel code is half-way through). The fields the interrupt handlers touch
// (state, waiting_on, the run-queue links, the tick counts, quantum_left) change with interrupts disabled:
// see "Interrupts in the kernel" in docs/processes.md.
#pragma once

#include "arch/i386/TrapFrame.h"
#include "kernel/memmodel/MemoryModel.h"
#include "kernel/mm/KernelStack.h"
#include "kernel/proc/Exec.h"
#include "kernel/proc/WaitQueue.h"
#include "libc/abi/Syscalls.h"

struct Process {
    i32 pid = 0;
    i32 parent = 0;
    ProcessState state = ProcessState::Ready;
    char name[32] = "";

    KernelStack kernel_stack;
    u32 saved_esp = 0;                // the kernel context while not running (switch_context)
    TrapFrame* trap_frame = nullptr;  // the user registers of the current system call or fault
    MemoryModel* memory = nullptr;    // owned; null once the process has ended (a zombie)
    u32 page_faults_at_exit = 0;      // what `memory` counted, kept for ps once it is gone

    WaitQueue* waiting_on = nullptr;     // Sleeping/Waiting: the queue it sleeps on (kill takes it off)
    WaitQueue child_exit{"child exit"};  // waitpid sleeps here; a child's exit (or adoption) wakes it
    i32 wait_status = 0;                 // Zombie: Linux-encoded status for waitpid
    bool kill_pending = false;
    bool rolled_out = false;  // swap=process: its pages went to the disk; rolled in before it runs again
    u64 rolled_out_at = 0;    // the tick it went (it stays out a while if others can run: Scheduler.cpp)
    u64 last_ran = 0;         // timer tick when it last lost the CPU (the roll-out rule's tie-break)
    int kill_signal = 0;

    // The last system call that failed: its code and, where the kernel explained it, why (mneme_last_error).
    ExplainedError last_error;
    bool last_error_explained = false;  // set by a call that failed with a reason, for on_syscall to keep it

    u32 ticks_used = 0;    // timer ticks that found it in user mode
    u32 system_ticks = 0;  // timer ticks that found the kernel working for it (a system call, a page fault)
    u32 quantum_left = 0;
    u32 cpu = 0;  // the CPU it runs on, or last ran on (ps's CPU column)

    // The scheduler's run queue (FIFO of Ready processes): intrusive, so queueing never allocates.
    Process* ready_next = nullptr;
    Process* ready_prev = nullptr;
    bool queued = false;

    Process() = default;
    MNEME_NONCOPYABLE(Process);
    ~Process() { delete memory; }
};

namespace process {

constexpr u32 kMaxProcesses = 64;
constexpr i32 kInitPid = 1;

// Creates the "process" slab cache the control blocks come from.
void initialize();
Process* current();
Process* find(i32 pid);
// Iterates the slots in use (for ps and the scheduler).
Process* slot(u32 index);
u32 count();

// A new process running the program at `path` from the initrd, child of `parent` (0 for init). On failure
// nothing is left behind and the error's reason says why.
ErrorOr<Process*, ExplainedError> spawn(const char* path, const char* const* argv, const char* const* envp, i32 parent);

// fork(): a copy of the current process (memory shared copy-on-write), returning 0 in the child.
ErrorOr<i32, ExplainedError> fork();
// Ends the current process with a Linux-encoded wait status. Never returns.
[[noreturn]] void exit_current(i32 wait_status);
// Ends another process, or marks the current one to end when its system call finishes.
ErrorOr<void> kill(i32 pid, int signal);
// waitpid(pid, options): reaps a zombie child (pid -1: any); returns its pid and status, 0 with WNOHANG
// when none has ended, Error::NoChild when there is no such child.
ErrorOr<i32> wait(i32 pid, u32 options, i32& status);

// execve in the current process: on success its image is replaced and its TrapFrame points at the new
// program; on failure it is unchanged and the error's reason says why.
ErrorOr<void, ExplainedError> exec_current(const char* path, const exec::Arguments& arguments);
// Frees the slots of zombies nobody will reap (their parent is gone); run by the idle loop.
void collect_orphans();

// Ctrl-C: ends process `leader` and every process descending from it (as a terminal's SIGINT to the
// foreground job would), each reporting SIGINT to its parent. Call only where ending processes is safe: the
// timer interrupting user mode, or the idle loop. Does not return if the current process is among them.
void interrupt_job(i32 leader);

// Kills the current process for a fault it caused in user mode, after printing one line that names the
// process, the fault and the address.
[[noreturn]] void kill_current_for_fault(const char* what, int signal);

// Memory and swap are both full: ends the process holding the most pages (resident and swapped; never init),
// with a line saying so, as a Unix out-of-memory killer does. Returns false, killing nobody, when that
// process is the current one (its own allocation then fails, and it is killed for it) or there is none.
bool kill_largest_for_memory();

// swap=process (kernel/swap/Swapper.h): rolls out one whole process, chosen by the rule in Process.cpp, with
// a line saying which, how many pages and how long it took. False when no process can go.
bool roll_out_one();
// Called by the scheduler before `p` runs: a rolled-out process is rolled back in first, with a line.
void roll_in_if_out(Process* p);

// The older memory models (kernel/memmodel/Arena.h's roll-out handler): rolls out of the arena one process of
// base-bounds or segments, chosen by the same rule, with a line saying which, how many KiB and how long it
// took. False, with the reason, when none can go (no swap disk, no such process, the disk full).
bool roll_out_of_arena(u32 bytes, const char** why_not);
// Called by the scheduler before `p` runs, before the switch: a process rolled out of the arena comes back
// (with a line). False when no room can be made for it: it stays out and waits for another turn. A killed
// process needs no memory to end: it runs without it.
bool roll_into_arena(Process* p);

}  // namespace process
