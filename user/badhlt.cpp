// badhlt.cpp: hostile program: executes `hlt`. HLT is a privileged instruction (CPL 0 only, Intel SDM
// vol. 2A, HLT): at CPL 3 it raises #GP(0), and the kernel kills the process.
// help(hostile): badhlt | executes HLT: #GP, killed with SIGSEGV
#include "libc/user/Stdio.h"

int main() {
    printf("badhlt: executing hlt in ring 3; expect the kernel to kill me (general protection fault)\n");
    asm volatile("hlt");
    printf("badhlt: ERROR: hlt worked in user mode\n");
    return 1;
}
