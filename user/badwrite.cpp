// badwrite.cpp: hostile program: writes kernel memory. Like badread, but a write: the page fault's error
// code says "write, protection violation, user mode", and the kernel must kill the process before the
// byte lands (a kernel that let it through would be corrupted from user space).
// help(hostile): badwrite | writes kernel memory: killed with SIGSEGV
#include "libc/user/Stdio.h"

int main() {
    volatile u32* kernel_data = reinterpret_cast<u32*>(0xC0100000);
    printf("badwrite: writing 0xdeadbeef to kernel memory at %p; expect SIGSEGV\n", const_cast<u32*>(kernel_data));
    *kernel_data = 0xDEADBEEF;
    printf("badwrite: ERROR: wrote to kernel memory and survived\n");
    return 1;
}
