// nullderef.cpp: hostile program: dereferences a null pointer. Page 0 is never mapped in a Mneme process
// (user programs start at 0x00400000), so the read is a page fault on a not-present page at address 0,
// and the kernel answers SIGSEGV.
// help(hostile): nullderef | dereferences a null pointer: killed with SIGSEGV
#include "libc/user/Stdio.h"

int main() {
    volatile int* null = nullptr;
    // Through an asm barrier, so the compiler cannot prove the pointer null and drop the access.
    asm volatile("" : "+r"(null));
    printf("nullderef: reading through a null pointer; expect SIGSEGV\n");
    int value = *null;
    printf("nullderef: ERROR: read %d at address 0 and survived\n", value);
    return 1;
}
