// ubench.cpp: user-level benchmarks, counted in instructions (run by the kernel with `bench=all` under
// QEMU's -icount shift=0, where an RDTSC difference is the number of instructions executed; see
// kernel/debug/Bench.h). Each figure is one line "bench: NAME: N instructions (ITERATIONS iterations)".
//
// Run anywhere else (from the shell, without -icount) an RDTSC difference is TSC ticks: host time, which
// depends on the host and on QEMU's translation, and is no instruction count. So ubench first calibrates,
// the way the kernel's benchmarks do: a loop body of exactly 100 instructions must measure 100 TSC units
// (+-kCalibrationSlack). If it does, the figures are instructions; if not, each figure is labelled "TSC
// ticks" and a note says how to get instruction counts (`make bench`).
//
// What each measures, end to end as a program sees it (user and kernel instructions together):
//   getpid round trip        int 0x80 in, the dispatcher, iret out
//   yield ping-pong          two processes calling sched_yield in turn: per context switch
//   fork+exit+wait           a child created copy-on-write, exiting at once, reaped
//   demand-zero fault        the first write to a fresh mmap page: fault, frame, clear, map, retry
//   copy-on-write fault      the first write to a page shared with a child: fault, frame, copy, remap
// and then, in a copy of itself started under base and bounds (`ubench base-bounds UNIT`, MNEME_MEMORY=base-bounds),
// the getpid round trip and the context switch again: there every switch also loads the next process's LDT
// (and its own page directory, which maps only its block of the arena).
// help(program): ubench | system call, switch, fork and fault costs (instructions only under -icount)
#include "libc/abi/Syscalls.h"
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Syscall.h"

namespace {

inline u64 rdtsc() {
    u32 low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return (static_cast<u64>(high) << 32) | low;
}

// What an RDTSC difference counts here: set by calibrate() before any figure is printed.
const char* g_unit = "instructions";
// Appended to the names of the figures measured again under base and bounds.
const char* g_model = "";
constexpr u32 kCalibrationSlack = 2;

void report(const char* name, u64 elapsed, u32 iterations) {
    printf("bench: %s%s: %u %s (%u iterations)\n", name, g_model, static_cast<unsigned>(elapsed / iterations), g_unit,
           iterations);
}

// Measures a loop body of 100 instructions (50 times `dec; jnz`) against an empty one, 1000 times each.
// Under -icount shift=0 the difference is 100 per iteration: the TSC counts instructions.
bool calibrate() {
    constexpr u32 n = 1000;
    auto loop = [](u32 body) {
        u64 start = rdtsc();
        for (u32 i = 0; i < n; ++i) {
            u32 count = body;
            if (count) asm volatile("1: decl %0; jnz 1b" : "+r"(count) : : "cc");
            asm volatile("" ::: "memory");
        }
        return rdtsc() - start;
    };
    loop(50);  // warm: QEMU translates the code once
    u64 empty = loop(0);
    u64 hundred = loop(50);
    u64 per = hundred > empty ? (hundred - empty) / n : 0;
    bool counts_instructions = per + kCalibrationSlack >= 100 && per <= 100 + kCalibrationSlack;
    printf("bench: calibration: a 100-instruction loop body measures %u TSC units\n", static_cast<unsigned>(per));
    if (!counts_instructions) {
        g_unit = "TSC ticks";
        printf(
            "bench: not under QEMU's -icount shift=0, so the TSC counts host time, not instructions: the figures\n"
            "bench: below are TSC ticks, which vary with the host and between runs. For instruction counts\n"
            "bench: (the figures docs/ quote) run `make bench`.\n");
    }
    return counts_instructions;
}

void bench_getpid() {
    constexpr u32 n = 10000;
    for (u32 i = 0; i < 100; ++i) sys_getpid();
    u64 start = rdtsc();
    for (u32 i = 0; i < n; ++i) sys_getpid();
    report("getpid round trip", rdtsc() - start, n);
}

void bench_yield() {
    constexpr u32 n = 2000;
    int child = sys_fork();
    if (child == 0) {
        for (u32 i = 0; i < n; ++i) sys_sched_yield();
        sys_exit(0);
    }
    sys_sched_yield();  // let the child start
    u64 start = rdtsc();
    for (u32 i = 0; i < n; ++i) sys_sched_yield();
    u64 elapsed = rdtsc() - start;
    int status;
    sys_waitpid(child, &status, 0);
    // Each of our yields switches to the child and its yield switches back: two switches per iteration.
    report("context switch (sched_yield ping-pong, per switch)", elapsed, 2 * n);
}

void bench_fork() {
    constexpr u32 n = 200;
    u64 start = rdtsc();
    for (u32 i = 0; i < n; ++i) {
        int child = sys_fork();
        if (child == 0) sys_exit(0);
        int status;
        sys_waitpid(child, &status, 0);
    }
    report("fork+exit+wait", rdtsc() - start, n);
}

void bench_demand_zero() {
    constexpr u32 pages = 1000;
    long mapped = sys_mmap2(nullptr, pages * 4096, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(mapped)) {
        printf("bench: demand-zero fault: mmap2 failed (%ld)\n", mapped);
        return;
    }
    volatile char* memory = reinterpret_cast<volatile char*>(mapped);
    u64 start = rdtsc();
    for (u32 i = 0; i < pages; ++i) memory[i * 4096] = 1;
    report("demand-zero fault (includes clearing the page)", rdtsc() - start, pages);
    sys_munmap(reinterpret_cast<void*>(mapped), pages * 4096);
}

void bench_copy_on_write() {
    constexpr u32 pages = 500;
    long mapped = sys_mmap2(nullptr, pages * 4096, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(mapped)) return;
    volatile char* memory = reinterpret_cast<volatile char*>(mapped);
    for (u32 i = 0; i < pages; ++i) memory[i * 4096] = 1;
    int child = sys_fork();
    if (child == 0) {
        // Keep the pages shared while the parent writes: sleep, then leave.
        NanoTime t{10, 0};
        sys_nanosleep(&t, nullptr);
        sys_exit(0);
    }
    u64 start = rdtsc();
    for (u32 i = 0; i < pages; ++i) memory[i * 4096] = 2;
    report("copy-on-write fault (includes copying the page)", rdtsc() - start, pages);
    sys_kill(child, kSignalKill);
    int status;
    sys_waitpid(child, &status, 0);
    sys_munmap(reinterpret_cast<void*>(mapped), pages * 4096);
}

// The same program under base and bounds: its getpid and switch figures, named so.
void bench_base_bounds() {
    // The unit goes along (the parent has calibrated): the figures of both runs are in the same unit.
    const char* argv[] = {"ubench", "base-bounds", g_unit, nullptr};
    const char* envp[] = {"MNEME_MEMORY=base-bounds", nullptr};
    int child = spawn("/bin/ubench", argv, envp);
    if (child < 0) {
        printf("bench: base-bounds: cannot start ubench under base and bounds (%d)\n", child);
        return;
    }
    int status;
    sys_waitpid(child, &status, 0);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "base-bounds") == 0) {
        g_unit = strcmp(argv[2], "instructions") == 0 ? "instructions" : "TSC ticks";
        g_model = ", base-bounds";
        bench_getpid();
        g_model = ", base-bounds (LDT load)";
        bench_yield();
        return 0;
    }
    calibrate();
    bench_getpid();
    bench_yield();
    bench_fork();
    bench_demand_zero();
    bench_copy_on_write();
    bench_base_bounds();
    return 0;
}
