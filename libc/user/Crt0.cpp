// Crt0.cpp: where every user program starts.
//
// The kernel enters `_start` (the ELF entry, first in .text via .text.start) in ring 3 with all general
// registers zero and ESP pointing at the Linux i386 start block:
//
//     ESP ->  argc
//             argv[0] ... argv[argc-1], NULL
//             envp[0] ... envp[n-1], NULL
//             (the strings themselves, higher up, below 0xC0000000)
//
// `_start` computes argv and envp from ESP, aligns the stack to 16 bytes (what GCC's code assumes at each
// call), lets the C library set itself up (environ, constructors), calls main(argc, argv, envp) and passes
// main's result to exit(), which flushes stdout. EBP is zero so a backtrace stops here.
//
// It is written in assembly because only assembly sees ESP as the kernel left it, and because C++ forbids
// calling main from the program.
#include "libc/user/Process.h"
#include "libc/user/Stdlib.h"

asm(R"(
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp
    movl (%esp), %esi              # argc
    leal 4(%esp), %ebx             # argv
    leal 8(%esp,%esi,4), %edi      # envp = argv + argc + 1
    andl $-16, %esp
    subl $4, %esp                  # 4 + three pushes = 16: the stack is aligned at each call
    pushl %edi
    pushl %ebx
    pushl %esi
    call mneme_libc_start          # cdecl keeps EBX, ESI, EDI; the argument slots may be reused, so push again
    addl $16, %esp
    subl $4, %esp
    pushl %edi
    pushl %ebx
    pushl %esi
    call main
    addl $16, %esp
    subl $12, %esp
    pushl %eax
    call exit
    ud2
    .size _start, . - _start
    .text
)");

using Constructor = void (*)();
extern "C" Constructor __init_array_start[];
extern "C" Constructor __init_array_end[];

extern "C" void mneme_libc_start(int argc, char** argv, char** envp) {
    (void)argc;
    (void)argv;
    environ = envp;
    // Global constructors, in link order (user/user.ld collects .init_array).
    for (Constructor* constructor = __init_array_start; constructor != __init_array_end; ++constructor)
        (*constructor)();
}
