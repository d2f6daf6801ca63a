// badcli.cpp: hostile program: executes `cli` (clear the interrupt flag). At CPL 3 with IOPL 0, CLI is
// privileged and raises #GP(0) (Intel SDM vol. 2A, CLI); if it worked, this process could stop the timer
// and keep the CPU forever. The kernel kills it instead.
// help(hostile): badcli | executes CLI: #GP, killed with SIGSEGV
#include "libc/user/Stdio.h"

int main() {
    printf("badcli: executing cli in ring 3; expect the kernel to kill me (general protection fault)\n");
    asm volatile("cli");
    printf("badcli: ERROR: cli worked in user mode\n");
    return 1;
}
