// argcheck.cpp: checks that execve delivered argv and envp intact; used by usertests' user.argv_env and
// user.shell_command (tests/user/usertests/Exec.cpp).
//
//   argcheck HASH ARG... (with an environment)
//
// HASH (hexadecimal) is what argv_hash() in user/ArgHash.h computes over ARG... and the environment; the
// parent computes it before execve, this program after, from what crt0 found on its stack. It also checks
// the layout: argv[argc] and the end of envp are NULL, environ is envp, and every string lies in the stack
// area just below 0xC0000000. Exit status 0 when all agree; 1 hash mismatch; 2 layout; 64 usage.
// help(test): argcheck | checks the argv and environment usertests passes it (fails when run by hand)
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "user/ArgHash.h"

int main(int argc, char** argv, char** envp) {
    if (argc < 2) return 64;
    if (argv[argc] != nullptr || envp != environ) {
        printf("argcheck: ERROR: argv[argc] = %p, envp %p, environ %p\n", static_cast<void*>(argv[argc]),
               static_cast<void*>(envp), static_cast<void*>(environ));
        return 2;
    }
    auto on_stack = [](const void* pointer) {
        uptr address = reinterpret_cast<uptr>(pointer);
        return address >= 0xC0000000u - 8 * MiB && address < 0xC0000000u;
    };
    for (int i = 0; i < argc; ++i) {
        if (!on_stack(argv[i])) {
            printf("argcheck: ERROR: argv[%d] at %p is not on the stack\n", i, static_cast<void*>(argv[i]));
            return 2;
        }
    }
    for (char** entry = envp; *entry; ++entry) {
        if (!on_stack(*entry)) return 2;
    }
    u32 expected = static_cast<u32>(strtoul(argv[1], nullptr, 16));
    u32 actual = argv_hash(argc - 2, argv + 2, envp);
    if (actual != expected) {
        printf("argcheck: ERROR: hash %08x, expected %08x (argc %d)\n", actual, expected, argc);
        return 1;
    }
    return 0;
}
