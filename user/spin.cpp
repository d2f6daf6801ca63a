// spin.cpp: computes forever, with CHILDREN more processes doing the same, until something ends them; or,
// timed, WORKERS processes computing a fixed amount: how much faster several CPUs finish the same work.
//
//   mneme$ spin 2            three processes take turns on the CPU until Ctrl-C, which ends spin and both
//                            children (the foreground program and what it started)
//   mneme$ spin &            one process in the background, while the shell still answers; `kill PID`
//   mneme$ spin -t 4 150     four processes, each 150 million rounds of arithmetic; prints the wall time
//                            from the first fork to the last exit (docs/multicore.md)
//
// It shows preemption (the shell stays responsive while a background spin runs: the timer takes the CPU
// back from a process that never makes a system call) and Ctrl-C ending a whole job. The timed form is pure
// computation (no system call, no memory beyond the stack), so with N CPUs and at least N workers the ideal
// is N times faster than with one: `make bench` runs it under QEMU's multi-threaded TCG at 1, 2 and 4 CPUs
// (tests/bench/qemu-smp.sh, boot option bench=smp). The time is the kernel's uptime (mneme_meminfo), counted
// in timer ticks of 1000/hz ms.
// help(program): spin [CHILDREN] or -t N M | computes forever, or N processes M million rounds, timed
#include "libc/abi/Syscalls.h"
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "libc/user/Syscall.h"

namespace {

// A little arithmetic the compiler cannot drop: the loop never makes a system call.
[[noreturn]] void spin_forever() {
    volatile u32 state = 1;
    for (;;) state = state * 1103515245u + 12345u;
}

u32 compute(u32 seed, u32 millions) {
    volatile u32 state = seed;
    for (u32 m = 0; m < millions; ++m)
        for (u32 i = 0; i < 1000000; ++i) state = state * 1103515245u + 12345u;
    return state;
}

u32 uptime_ms() {
    MnemeMemInfo info{};
    sys_mneme_meminfo(&info);
    return info.uptime_ms;
}

int timed(int workers, int millions) {
    MnemeVmStat vm{};
    sys_mneme_vmstat(&vm);
    u32 start = uptime_ms();
    int pids[32];
    for (int i = 0; i < workers; ++i) {
        pids[i] = fork();
        if (pids[i] == 0) return static_cast<int>(compute(static_cast<u32>(i) + 1, static_cast<u32>(millions)) & 1);
        if (pids[i] < 0) {
            fprintf(stderr, "spin: fork: %s\n", strerror(pids[i]));
            return 1;
        }
    }
    for (int i = 0; i < workers; ++i) {
        int status;
        sys_waitpid(pids[i], &status, 0);
    }
    u32 elapsed = uptime_ms() - start;
    printf("spin: %d workers x %d million rounds on %u CPU%s: %u.%02u s\n", workers, millions, vm.cpus,
           vm.cpus == 1 ? "" : "s", elapsed / 1000, elapsed % 1000 / 10);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "-t") == 0) {
        u32 workers = 4, millions = 150;
        if (argc > 4 || (argc > 2 && !parse_decimal(argv[2], 1, 32, &workers)) ||
            (argc > 3 && !parse_decimal(argv[3], 1, 10000, &millions))) {
            fprintf(stderr, "usage: spin -t WORKERS MILLIONS   (1 to 32 workers, 1 to 10000 million rounds each)\n");
            return 64;
        }
        return timed(static_cast<int>(workers), static_cast<int>(millions));
    }
    u32 children = 0;
    if (argc > 2 || (argc > 1 && !parse_decimal(argv[1], 0, 16, &children))) {
        fprintf(stderr, "usage: spin [CHILDREN]   (0 to 16 more processes), or spin -t WORKERS MILLIONS\n");
        return 64;
    }
    for (u32 i = 0; i < children; ++i) {
        int pid = fork();
        if (pid < 0) {
            fprintf(stderr, "spin: fork: %s\n", strerror(pid));
            return 1;
        }
        if (pid == 0) spin_forever();
    }
    printf("spin: pid %d and %u children spinning\n", sys_getpid(), children);
    fflush(stdout);
    spin_forever();
}
