// spin.cpp: computes forever, with CHILDREN more processes doing the same, until something ends them.
//
//   mneme$ spin 2            three processes take turns on the CPU until Ctrl-C, which ends spin and both
//                            children (the foreground program and what it started)
//   mneme$ spin &            one process in the background, while the shell still answers; `kill PID`
//
// It shows preemption (the shell stays responsive while a background spin runs: the timer takes the CPU
// back from a process that never makes a system call) and Ctrl-C ending a whole job.
// help(program): spin [CHILDREN] | computes forever, with CHILDREN more processes, until Ctrl-C or kill
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace {

// A little arithmetic the compiler cannot drop: the loop never makes a system call.
[[noreturn]] void spin_forever() {
    volatile u32 state = 1;
    for (;;) state = state * 1103515245u + 12345u;
}

}  // namespace

int main(int argc, char** argv) {
    int children = argc > 1 ? atoi(argv[1]) : 0;
    if (children < 0 || children > 16) {
        fprintf(stderr, "usage: spin [CHILDREN]   (0 to 16 more processes)\n");
        return 2;
    }
    for (int i = 0; i < children; ++i) {
        int pid = fork();
        if (pid < 0) {
            fprintf(stderr, "spin: fork: %s\n", strerror(pid));
            return 1;
        }
        if (pid == 0) spin_forever();
    }
    printf("spin: pid %d and %d children spinning\n", sys_getpid(), children);
    fflush(stdout);
    spin_forever();
}
