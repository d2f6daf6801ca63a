// badopcode.cpp: hostile program: executes UD2, the instruction defined to be invalid (Intel SDM vol. 2B,
// UD2). It raises the invalid-opcode exception (#UD, vector 6); the kernel kills the process with SIGILL.
// help(hostile): badopcode | executes UD2: killed with SIGILL
#include "libc/user/Stdio.h"

int main() {
    printf("badopcode: executing ud2 (an invalid opcode); expect SIGILL\n");
    asm volatile("ud2");
    printf("badopcode: ERROR: survived an invalid opcode\n");
    return 1;
}
