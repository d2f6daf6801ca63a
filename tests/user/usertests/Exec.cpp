// Exec.cpp: starting programs (execve, bare names, failures), argv and the environment, and the shell's
// parsing through `sh -c`.
#include "libc/base/Error.h"
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"
#include "user/ArgHash.h"

namespace usertests {

void test_exec_hello() {
    const char* argv[] = {"/bin/hello", "from", "usertests", nullptr};
    int status;
    if (!run_program(argv, nullptr, status)) return;
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0, "hello ended with %s", describe(status));
}

void test_exec_bare_name() {
    const char* argv[] = {"hello", nullptr};  // the kernel resolves a bare name to /bin/NAME
    int status;
    if (!run_program(argv, nullptr, status)) return;
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0, "hello ended with %s", describe(status));
}

void test_exec_failures() {
    const char* argv[] = {"nonexistent", nullptr};
    int result = sys_execve("/bin/nonexistent", argv, nullptr);
    EXPECT(result == -static_cast<int>(Error::NoEntry), "execve of a missing program returned %d", result);
    result = sys_execve("", argv, nullptr);
    EXPECT(result == -static_cast<int>(Error::NoEntry), "execve(\"\") returned %d", result);
    int status;
    if (!run_program(argv, nullptr, status)) return;
    EXPECT(wait_exited(status) && wait_exit_status(status) == kExecFailedStatus,
           "the child of a failed exec ended with %s", describe(status));
}

// The one error channel (docs/syscalls.md, "Errors"): exec of a file that is not a program fails with
// -ENOEXEC and mneme_last_error gives the kernel's reason in words, cut to the buffer; a failure the kernel
// does not explain replaces it with the code's description; a bad buffer is -EFAULT.
void test_exec_reason() {
    const char* argv[] = {"notelf", nullptr};
    char reason[ExplainedError::kReasonSize] = "";
    int result = sys_execve("/bin/notelf", argv, nullptr);
    int code = sys_mneme_last_error(reason, sizeof(reason));
    EXPECT(result == -static_cast<int>(Error::BadExecutable), "execve of a text file returned %d", result);
    EXPECT(code == static_cast<int>(Error::BadExecutable), "mneme_last_error returned %d after ENOEXEC", code);
    EXPECT(strcmp(reason, "not a program Mneme can run: not an ELF file (no \\x7fELF magic)") == 0,
           "the reason for notelf is \"%s\"", reason);
    result = sys_execve("/bin/nonexistent", argv, nullptr);
    code = sys_mneme_last_error(reason, sizeof(reason));
    EXPECT(result == -static_cast<int>(Error::NoEntry) && code == static_cast<int>(Error::NoEntry) &&
               strcmp(reason, "no such program in the initrd") == 0,
           "a missing program: execve %d, mneme_last_error %d, \"%s\"", result, code, reason);
    char small[8];
    code = sys_mneme_last_error(small, sizeof(small));
    EXPECT(code == static_cast<int>(Error::NoEntry) && strcmp(small, "no such") == 0,
           "cut to 8 bytes the reason is \"%s\" (code %d)", small, code);
    result = sys_kill(1000000, 0);
    code = sys_mneme_last_error(reason, sizeof(reason));
    EXPECT(code == static_cast<int>(Error::NoProcess) && strcmp(reason, error_string(Error::NoProcess)) == 0,
           "after kill of no process: code %d, \"%s\"", code, reason);
    result = sys_mneme_last_error(reinterpret_cast<char*>(0xC0000000), sizeof(reason));
    EXPECT(result == -static_cast<int>(Error::BadAddress), "mneme_last_error into the kernel half returned %d", result);
}

void test_argv_env() {
    char long_argument[301];
    for (int i = 0; i < 300; ++i) long_argument[i] = static_cast<char>('a' + i % 26);
    long_argument[300] = '\0';
    const char* args[] = {"alpha", "", "with spaces", "\"quotes\"", long_argument, "last"};
    const char* envp[] = {"A=1", "MNEME_TEST=hello world", "EMPTY=", nullptr};
    constexpr int kArgs = sizeof(args) / sizeof(args[0]);
    char hash[12];
    snprintf(hash, sizeof(hash), "%08x", argv_hash(kArgs, args, envp));
    const char* argv[kArgs + 3] = {"argcheck", hash};
    for (int i = 0; i < kArgs; ++i) argv[2 + i] = args[i];
    argv[kArgs + 2] = nullptr;
    int status;
    if (!run_program(argv, envp, status)) return;
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0,
           "argcheck ended with %s (1: strings differ, 2: stack layout)", describe(status));
    // And with no environment at all.
    const char* bare[] = {"argcheck", nullptr, nullptr};
    snprintf(hash, sizeof(hash), "%08x", argv_hash(0, nullptr, nullptr));
    bare[1] = hash;
    if (!run_program(bare, nullptr, status)) return;
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0, "argcheck without environment ended with %s",
           describe(status));
}

// The shell's parsing and environment, through `sh -c LINE`: quotes group words, NAME=value words go into
// the program's environment after the shell's own (this program's, here), and the exit status comes back.
void test_shell_command() {
    const char* args[] = {"a b", "c", ""};
    const char* added = "MNEME_X=x y";
    const char* environment[64];
    int count = 0;
    for (char** entry = environ; entry && *entry && count < 60; ++entry) environment[count++] = *entry;
    environment[count++] = added;
    environment[count] = nullptr;
    char line[120];
    snprintf(line, sizeof(line), "MNEME_X=\"x y\" argcheck %08x \"a b\"   c \"\"", argv_hash(3, args, environment));
    const char* argv[] = {"sh", "-c", line, nullptr};
    int status;
    if (!run_program(argv, const_cast<const char* const*>(environ), status)) return;
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0, "sh -c '%s' ended with %s", line, describe(status));

    struct Case {
        const char* line;
        int status;
    };
    const Case cases[] = {
        {"exit 7", 7}, {"nullderef", 128 + kSignalSegv}, {"nonexistent", kExecFailedStatus}, {"hello \"unclosed", 2},
        // Words that are not what a builtin or program takes are refused with its usage (64), not guessed at:
        // atoi made "kill abc" a kill of pid 0, "spin abc" spin with no children, and "boundsdemo foo" ran
        // as "read".
        {"kill abc", 64}, {"kill 12x", 64}, {"kill -x 5", 64}, {"boundsdemo foo", 64}, {"holder -5", 64},
        {"holder 4 abc", 64}, {"compute abc", 64}, {"spin abc", 64}, {"spin 17", 64}, {"swapdemo abc", 64},
        {"vmstat abc", 64}, {"arenaload abc", 64}, {"swapload scan abc", 64}, {"memhog 5x", 64},
        {"victim abc", 64}};
    for (const Case& c : cases) {
        const char* case_argv[] = {"sh", "-c", c.line, nullptr};
        if (!run_program(case_argv, nullptr, status)) return;
        EXPECT(wait_exited(status) && wait_exit_status(status) == c.status,
               "sh -c '%s' ended with %s, expected exit %d", c.line, describe(status), c.status);
    }
}

}  // namespace usertests
