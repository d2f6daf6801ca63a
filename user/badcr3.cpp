// badcr3.cpp: hostile program: loads CR3, the page-directory base. MOV to a control register is a
// privileged instruction (CPL 0 only, Intel SDM vol. 2B, MOV--Move to/from Control Registers); if it
// worked, the process could install its own page tables and reach all of memory. #GP(0), then killed.
// help(hostile): badcr3 | loads CR3: #GP, killed with SIGSEGV
#include "libc/user/Stdio.h"

int main() {
    printf("badcr3: loading cr3 with 0 in ring 3; expect the kernel to kill me (general protection fault)\n");
    asm volatile("movl %0, %%cr3" : : "r"(0));
    printf("badcr3: ERROR: mov to cr3 worked in user mode\n");
    return 1;
}
