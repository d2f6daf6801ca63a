// parallel.cpp: WORKERS processes computing at once, timed: how much faster several CPUs finish the same work.
//
//   parallel [WORKERS [MILLIONS]]   WORKERS processes (default 4), each MILLIONS million rounds of arithmetic
//                                   (default 150); prints the wall time from the first fork to the last exit
//
// The work is pure computation (no system call, no memory beyond the stack), so with N CPUs and at least N
// workers the ideal is N times faster than with one. `make bench` runs it under QEMU's multi-threaded TCG at
// 1, 2 and 4 CPUs (tests/bench/qemu-smp.sh, boot option bench=smp) and prints the speed-ups. The time comes
// from the kernel's uptime (mneme_meminfo), counted in timer ticks of 1000/hz ms.
// help(program): parallel [WORKERS [MILLIONS]] | times WORKERS computing processes: the multi-core speed-up
#include "libc/abi/Syscalls.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "libc/user/Syscall.h"

namespace {

// Arithmetic the compiler cannot drop or shorten: a linear congruential sequence, folded.
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

}  // namespace

int main(int argc, char** argv) {
    int workers = argc > 1 ? atoi(argv[1]) : 4;
    int millions = argc > 2 ? atoi(argv[2]) : 150;
    if (workers < 1 || workers > 32 || millions < 1 || millions > 10000) {
        fprintf(stderr, "usage: parallel [WORKERS [MILLIONS]]   (1 to 32 workers, 1 to 10000 million rounds each)\n");
        return 2;
    }
    MnemeVmStat vm{};
    sys_mneme_vmstat(&vm);
    u32 start = uptime_ms();
    int pids[32];
    for (int i = 0; i < workers; ++i) {
        pids[i] = fork();
        if (pids[i] == 0) return static_cast<int>(compute(static_cast<u32>(i) + 1, static_cast<u32>(millions)) & 1);
        if (pids[i] < 0) {
            fprintf(stderr, "parallel: fork: %s\n", strerror(pids[i]));
            return 1;
        }
    }
    for (int i = 0; i < workers; ++i) {
        int status;
        sys_waitpid(pids[i], &status, 0);
    }
    u32 elapsed = uptime_ms() - start;
    printf("parallel: %d workers x %d million rounds on %u CPU%s: %u.%02u s\n", workers, millions, vm.cpus,
           vm.cpus == 1 ? "" : "s", elapsed / 1000, elapsed % 1000 / 10);
    return 0;
}
