// hello.cpp: prints its arguments and its environment: the first program to try, and a check that execve
// passed argv and envp through the stack the way crt0 expects (docs/user-space.md).
// help(program): hello [ARGS...] | prints its arguments and environment: the first program to try
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

int main(int argc, char** argv) {
    printf("Hello from user space! I am pid %d (parent %d).\n", sys_getpid(), sys_getppid());
    printf("argc = %d\n", argc);
    for (int i = 0; i < argc; ++i) printf("argv[%d] = \"%s\"\n", i, argv[i]);
    int count = 0;
    for (char** entry = environ; entry && *entry; ++entry, ++count) printf("env: %s\n", *entry);
    if (count == 0) printf("env: (empty)\n");
    return 0;
}
