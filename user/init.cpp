// init.cpp: process 1. The kernel starts /bin/init with
//
//   ["init"]                        start the shell (and start it again whenever it exits)
//   ["init", "--run", "hello,forkdemo"]  (boot option init=hello,forkdemo) run those programs one after the
//                                   other, then the shell; names may also come as separate words, with or
//                                   without --run
//   ["init", "--test[=NAMES]"]      (boot option test=user, test=all, test=user.cow) run the user-level test
//                                   suite, /bin/usertests (tests/user/usertests/), and report its result to
//                                   the kernel: mneme_test_exit ends the QEMU run
//
// Whatever it does, init also reaps orphans: the kernel gives it every process whose parent died, and a
// zombie nobody waits for would keep its process-table slot forever.
// help(program): init | process 1, started by the kernel; typed here it only says so
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace {

const char* describe(int status) {
    static char text[40];
    describe_status(status, text, sizeof(text));
    return text;
}

// Starts `argv[0]` and waits for it, reaping any orphan that ends meanwhile. Returns its status, or -1 when
// it could not be started.
int run_and_wait(const char* const* argv) {
    int pid = spawn(argv[0], argv, const_cast<const char* const*>(environ));
    if (pid < 0) {
        printf("[init] cannot start %s: %s\n", argv[0], strerror(pid));
        return -1;
    }
    for (;;) {
        int status = 0;
        int reaped = wait_for(-1, &status);
        if (reaped < 0) return -1;
        if (reaped == pid) return status;
        printf("[init] reaped orphan pid %d (%s)\n", reaped, describe(status));
    }
}

// usertests' exit status is how many tests failed (at most 125); with --count, how many NAMES selects.
constexpr int kMostFailuresReported = 125;

// `names` is null for the whole suite. Returns init's exit status (when the kernel did not end the run).
int run_user_tests(const char* names) {
    const char* count_argv[] = {"usertests", "--count", names, nullptr};
    const char* run_argv[] = {"usertests", names, nullptr};
    int counted = run_and_wait(count_argv);
    int ran = run_and_wait(run_argv);
    u32 passed = 0, failed = 1;
    if (counted < 0 || ran < 0 || !wait_exited(counted) || !wait_exited(ran) ||
        wait_exit_status(ran) > kMostFailuresReported) {
        // Its lines so far still count; this one makes sure the run fails.
        printf("FAIL user: usertests ended with %s before reporting\n", ran < 0 ? "an error" : describe(ran));
    } else {
        u32 selected = static_cast<u32>(wait_exit_status(counted));
        failed = static_cast<u32>(wait_exit_status(ran));
        passed = selected > failed ? selected - failed : 0;
    }
    int result = sys_mneme_test_exit(passed, failed);  // ends the run when we are pid 1 in test mode
    if (result != 0) printf("[init] mneme_test_exit returned %d (%s)\n", result, strerror(result));
    return failed == 0 && passed > 0 ? 0 : 1;
}

void run_boot_programs(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--run") == 0) continue;
        // "hello,forkdemo" or separate words: each comma-separated name is one program, without arguments.
        char names[128];
        strncpy(names, argv[i], sizeof(names) - 1);
        names[sizeof(names) - 1] = '\0';
        for (char* name = names; name && *name;) {
            char* comma = strchr(name, ',');
            if (comma) *comma = '\0';
            if (*name) {
                printf("[init] running %s\n", name);
                const char* program_argv[] = {name, nullptr};
                int status = run_and_wait(program_argv);
                if (status >= 0) printf("[init] %s: %s\n", name, describe(status));
            }
            name = comma ? comma + 1 : nullptr;
        }
    }
}

[[noreturn]] void run_shell_forever() {
    for (;;) {
        const char* argv[] = {"sh", nullptr};
        int status = run_and_wait(argv);
        if (status < 0) {
            printf("[init] no shell; only reaping orphans now\n");
            for (;;) {
                int orphan_status;
                if (wait_for(-1, &orphan_status) < 0) sleep_ms(1000);
            }
        }
        printf("[init] the shell ended (%s); starting a new one\n", describe(status));
    }
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--test") == 0) return run_user_tests(nullptr);
        if (strncmp(argv[i], "--test=", 7) == 0) return run_user_tests(argv[i] + 7);
    }
    // Only the kernel starts init. A second one (typed at the shell) would start a shell of its own and start
    // it again whenever it exits: the user could never get back to the shell they typed `init` in.
    if (sys_getpid() != 1) {
        printf("init: init is process 1, started by the kernel at boot; this is pid %d, so it does nothing.\n",
               sys_getpid());
        printf("init: a second shell is `sh` (its `exit` comes back here).\n");
        return 1;
    }
    run_boot_programs(argc, argv);
    run_shell_forever();
}
