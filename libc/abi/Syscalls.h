// Syscalls.h: Mneme's system-call interface, shared by the kernel (kernel/proc/Syscalls.cpp) and the user C
// library (libc/user). docs/syscalls.md explains each call.
//
// Convention (Linux i386): `int 0x80` with the call number in EAX and arguments in EBX, ECX, EDX, ESI, EDI,
// EBP; the result comes back in EAX, a negative value being -errno (libc/base/Error.h's numbers). Calls that
// exist in Linux keep Linux's i386 numbers; Mneme's own calls live from 0x1000 up.
#pragma once

#include "libc/base/Types.h"

namespace syscall_number {
constexpr u32 kExit = 1;
constexpr u32 kFork = 2;
constexpr u32 kRead = 3;
constexpr u32 kWrite = 4;
constexpr u32 kWaitPid = 7;
constexpr u32 kExecve = 11;
constexpr u32 kGetPid = 20;
constexpr u32 kKill = 37;
constexpr u32 kBrk = 45;
constexpr u32 kGetPpid = 64;
constexpr u32 kMunmap = 91;
constexpr u32 kMprotect = 125;
constexpr u32 kSchedYield = 158;
constexpr u32 kNanosleep = 162;
constexpr u32 kMmap2 = 192;  // offset in pages; only anonymous private mappings

// Mneme's own.
constexpr u32 kMnemeMemInfo = 0x1000;   // (MnemeMemInfo*) -> 0
constexpr u32 kMnemeProcInfo = 0x1001;  // (u32 index, MnemeProcInfo*) -> 0, or -ESRCH past the last process
constexpr u32 kMnemeMonitor = 0x1002;   // () -> 0: the kernel monitor on the console until its `exit`
constexpr u32 kMnemeTestExit = 0x1003;  // (u32 passed, u32 failed): init in test mode ends the run (pid 1 only)
constexpr u32 kMnemeFrameOf = 0x1004;   // (const void* address) -> physical frame number mapped there, or -EFAULT
// (i32 pid) -> 0: Ctrl-C on the console now ends that process and its descendants; 0 clears it. -ESRCH if pid
// is neither the caller nor one of its children.
constexpr u32 kMnemeSetForeground = 0x1005;
// (char* buffer, u32 size) -> the error code (positive) of the caller's last failed call, 0 if none; its reason
// ("not a program Mneme can run: not an ELF file ...") into buffer, cut to size bytes with the NUL.
constexpr u32 kMnemeLastError = 0x1006;
constexpr u32 kMnemeVmStat = 0x1007;  // (MnemeVmStat*) -> 0: faults and swapping since boot
}  // namespace syscall_number

// waitpid options and status encoding (Linux's).
constexpr u32 kWaitNoHang = 1;
constexpr int wait_exit_status(int status) { return (status >> 8) & 0xFF; }
constexpr bool wait_exited(int status) { return (status & 0x7F) == 0; }
constexpr bool wait_signaled(int status) { return (status & 0x7F) != 0; }
constexpr int wait_term_signal(int status) { return status & 0x7F; }

// kill signals Mneme knows: both end the process.
constexpr int kSignalKill = 9;
constexpr int kSignalTerm = 15;
// What a process ended by Ctrl-C on the console reports (SIGINT, as in Linux).
constexpr int kSignalInt = 2;
// The signal number a process killed by the kernel for a fault reports (SIGSEGV, SIGILL, SIGFPE as in Linux).
constexpr int kSignalSegv = 11;
constexpr int kSignalIll = 4;
constexpr int kSignalFpe = 8;

// mmap2 and mprotect arguments (mm/vm/RegionMap.h's region_access decodes the protection).
constexpr u32 kProtNone = 0, kProtRead = 1, kProtWrite = 2, kProtExec = 4;
constexpr u32 kMapPrivate = 0x02, kMapFixed = 0x10, kMapAnonymous = 0x20;

struct NanoTime {
    i32 seconds;
    i32 nanoseconds;
};

struct MnemeMemInfo {
    u32 total_frames;  // managed by the page allocator
    u32 free_frames;
    u32 page_size;
    char allocator[16];     // "buddy" or "bitmap"
    u32 kernel_heap_bytes;  // slab caches and large kmalloc blocks
    u32 process_count;
    u32 uptime_ms;  // since boot, counted in timer ticks (so in steps of 1000/hz ms)
    // Pages whose only copy is in a swap slot (0 without swapping). A page of a process lives in a frame or
    // in a slot, so free_frames - swapped_pages goes down by one for every page a process touches.
    u32 swapped_pages;
    // The arena of the older memory models (kernel/memmodel/Arena.h): its size, what is free, in how many holes.
    u32 arena_bytes;
    u32 arena_free_bytes;
    u32 arena_holes;
};

// Faults and swapping since boot (the shell's `vmstat`; docs/swapping.md).
struct MnemeVmStat {
    char mode[8];      // swapping: "off", "page" or "process"
    char policy[8];    // the replacement policy: "fifo", "clock", "eclock", "aging", "random"
    u32 page_faults;   // resolved faults of every process since boot: demand-zero, copy-on-write and major
    u32 major_faults;  // of those, pages read back from swap
    u32 pages_out;     // pages written to a slot
    u32 evictions;     // frames taken from a page by replacement
    u32 clean_evictions;   // of those, dropped without a write (a clean copy was in its slot)
    u32 shared_evictions;  // of those, frames shared copy-on-write by several processes
    u32 user_frames;       // frames mapped into user space now (the policy's resident set)
    u32 frame_cap;         // user frames allowed before replacement starts (`userframes=`)
    u32 swapped_pages;     // pages whose only copy is in a slot
    u32 slots_total;       // 4 KiB slots in the swap area
    u32 slots_used;        // in use (swapped pages and clean copies)
    u32 slots_bad;         // retired after a disk error
    u32 read_errors;
    u32 write_errors;
    u32 out_of_swap;  // evictions refused because no slot was free
    u32 roll_outs;    // whole processes swapped out (swap=process)
    u32 roll_ins;     // and brought back
    u32 cpus;             // CPUs running processes
    u32 tlb_shootdowns;   // page-table changes another CPU had to flush (docs/multicore.md)
    u32 tlb_ipis;         // shootdown IPIs sent (one per CPU told)
    u32 tlb_flushes;      // INVLPGs and CR3 reloads for changed entries, on the CPU that made the change
};

enum class ProcessState : u32 { Running = 0, Ready = 1, Sleeping = 2, Waiting = 3, Zombie = 4 };

struct MnemeProcInfo {
    i32 pid;
    i32 parent;
    ProcessState state;
    char name[32];
    u32 resident_pages;  // present user pages (shared copy-on-write pages count in each process)
    u32 shared_pages;    // of those, frames shared copy-on-write with another process
    u32 heap_bytes;      // brk - start of heap
    u32 mapped_bytes;    // anonymous mmap regions that are accessible (PROT_NONE reservations are not memory)
    u32 stack_bytes;     // stack pages in use (resident or swapped out)
    u32 page_faults;     // handled (demand-zero and copy-on-write)
    u32 cpu_ms;          // time in user mode, counted in timer ticks (so in steps of 1000/hz ms)
    u32 sys_ms;          // time the kernel worked for it (system calls, page faults), counted the same way
    u32 swapped_pages;   // pages out on the swap disk (not resident; ps's SWAP column)
    u32 major_faults;    // of page_faults, those that read a page back from swap
    char memory_model[12];  // "paging", "static", "base-bounds" (empty for a zombie)
    char segments[96];      // the older models: "segment base 0x10012000, limit 0x2ffff (base-bounds)"
    u32 cpu;                // the CPU it runs on, or last ran on (0 with one CPU)
};
