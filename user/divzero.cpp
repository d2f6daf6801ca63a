// divzero.cpp: hostile program: divides by zero. DIV with a zero divisor raises the divide error (#DE,
// vector 0); the kernel kills the process with SIGFPE, as Unix does.
// help(hostile): divzero | divides by zero: killed with SIGFPE
#include "libc/user/Stdio.h"

int main() {
    volatile u32 divisor = 0;
    printf("divzero: dividing 42 by zero; expect SIGFPE\n");
    u32 quotient;
    // In asm, so the compiler cannot fold or drop the division it knows to be undefined.
    asm volatile("xorl %%edx, %%edx\n\tdivl %1" : "=a"(quotient) : "r"(divisor), "a"(42) : "edx");
    printf("divzero: ERROR: 42 / 0 = %u and survived\n", quotient);
    return 1;
}
