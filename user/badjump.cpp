// badjump.cpp: hostile program: calls into the kernel's code at 0xC0100000. Fetching an instruction from a
// supervisor-only page raises a page fault (with 32-bit paging and no NX the error code cannot say
// "instruction fetch", so it reads "protection violation, read access, user mode", with CR2 = EIP) and the
// kernel kills the process with SIGSEGV: ring 3 enters the kernel only through the gate it set up, int 0x80.
// help(hostile): badjump | calls into kernel code: killed with SIGSEGV
#include "libc/user/Stdio.h"

int main() {
    using Function = void (*)();
    auto kernel_code = reinterpret_cast<Function>(0xC0100000);
    printf("badjump: calling into the kernel at %p; expect SIGSEGV\n", reinterpret_cast<void*>(kernel_code));
    kernel_code();
    printf("badjump: ERROR: returned from kernel code\n");
    return 1;
}
