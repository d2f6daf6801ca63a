// badout.cpp: hostile program: writes an I/O port. OUT at CPL 3 needs IOPL >= 3 or permission in the
// TSS's I/O bitmap (Intel SDM vol. 1, 19.5 "Protected-mode I/O"); Mneme gives neither, so it raises #GP(0)
// and the kernel kills the process. The port is 0x80, the POST diagnostic port, harmless if it got through.
// help(hostile): badout | writes an I/O port: #GP, killed with SIGSEGV
#include "libc/user/Stdio.h"

int main() {
    printf("badout: writing I/O port 0x80 in ring 3; expect the kernel to kill me (general protection fault)\n");
    asm volatile("outb %%al, $0x80" : : "a"(0));
    printf("badout: ERROR: out worked in user mode\n");
    return 1;
}
