// init.cpp: process 1. The kernel starts /bin/init with
//
//   ["init"]                        start the shell (and start it again whenever it exits)
//   ["init", "--run", "hello,forkdemo"]  (boot option init=hello,forkdemo) run those programs one after the
//                                   other, then the shell; names may also come as separate words, with or
//                                   without --run
//   ["init", "--test[=SUITES]"]     (boot option test=user or test=all) run the user-level test suite: one line
//                                   per test, "ok   user.NAME" or "FAIL user.NAME: reason", then
//                                   "user: N passed, M failed", then mneme_test_exit ends the QEMU run
//
// Whatever it does, init also reaps orphans: the kernel gives it every process whose parent died, and a
// zombie nobody waits for would keep its process-table slot forever.
//
// The test suite (run_tests below) runs every check that needs real processes: fork/exec/wait, exit statuses,
// copy-on-write (frame numbers from mneme_frame_of), brk and mmap growth and release (free frames from
// mneme_meminfo), argv and environment passing, every hostile program (the signal that killed it, then a
// check that the system still runs), 8 compute processes at once, malloctest under every policy, and at the
// end that no physical frame leaked.
#include "libc/base/Error.h"
#include "libc/rt/String.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "user/ArgHash.h"
#include "user/Compute.h"

// user/user.ld: where the program's pages begin and end.
extern "C" char __executable_start[], __data_start[], _end[];

namespace {

// -------------------------------------------------------------------------------------------------------
// Waiting, with a watchdog
// -------------------------------------------------------------------------------------------------------

constexpr u32 kPollMs = 10;

// Waits for `pid` at most `timeout_ms`; on timeout kills it (SIGKILL), reaps it and returns false. Polls
// with WNOHANG so a kernel bug that never ends the child fails one test instead of hanging the whole run.
bool wait_with_timeout(int pid, int& status, u32 timeout_ms) {
    for (u32 waited = 0;; waited += kPollMs) {
        int result = sys_waitpid(pid, &status, kWaitNoHang);
        if (result == pid) return true;
        if (result < 0 && result != -static_cast<int>(Error::Interrupted)) {
            status = -1;
            return false;
        }
        if (waited >= timeout_ms) {
            sys_kill(pid, kSignalKill);
            wait_for(pid, &status);
            status = -2;
            return false;
        }
        sleep_ms(kPollMs);
    }
}

// Reaps every zombie child without blocking; returns how many.
int reap_zombies() {
    int count = 0, status;
    while (sys_waitpid(-1, &status, kWaitNoHang) > 0) ++count;
    return count;
}

// -------------------------------------------------------------------------------------------------------
// The test harness: one line per test in the in-kernel format (kernel/debug/KTest.cpp)
// -------------------------------------------------------------------------------------------------------

struct TestState {
    const char* name = nullptr;
    bool failed = false;
    char reason[200] = "";
};

TestState g_test;
const char* g_filter = nullptr;  // --test=SUITES: comma-separated name prefixes; null runs everything
u32 g_passed = 0;
u32 g_failed = 0;

void fail(const char* format, ...) __attribute__((format(printf, 1, 2)));
void fail(const char* format, ...) {
    if (g_test.failed) return;  // the first reason is the one that explains the rest
    g_test.failed = true;
    va_list args;
    va_start(args, format);
    vsnprintf(g_test.reason, sizeof(g_test.reason), format, args);
    va_end(args);
}

#define EXPECT(condition, ...)               \
    do {                                     \
        if (!(condition)) fail(__VA_ARGS__); \
    } while (0)

bool selected(const char* name) {
    if (!g_filter || !*g_filter) return true;
    const char* part = g_filter;
    while (*part) {
        const char* end = strchr(part, ',');
        size_t length = end ? static_cast<size_t>(end - part) : strlen(part);
        if (length > 5 && strncmp(part, "user.", 5) == 0) {  // "user.fork" selects like "fork"
            part += 5;
            length -= 5;
        }
        if ((length == 4 && strncmp(part, "user", 4) == 0) || strncmp(name, part, length) == 0) return true;
        if (!end) break;
        part = end + 1;
    }
    return false;
}

void run_test(const char* name, void (*test)()) {
    if (!selected(name)) return;
    g_test = TestState{};
    g_test.name = name;
    test();
    reap_zombies();  // whatever a failed test left behind must not confuse the next one
    if (g_test.failed) {
        ++g_failed;
        printf("FAIL user.%s: %s\n", name, g_test.reason);
    } else {
        ++g_passed;
        printf("ok   user.%s\n", name);
    }
}

// Runs /bin/NAME with `args` (argv[0] is NAME) and `envp`; returns false (and fails the test) when it could
// not be started or did not end within the timeout.
bool run_program(const char* const* argv, const char* const* envp, int& status, u32 timeout_ms = 30000) {
    int pid = spawn(argv[0], argv, envp);
    if (pid < 0) {
        fail("cannot start %s: %s", argv[0], strerror(pid));
        return false;
    }
    if (!wait_with_timeout(pid, status, timeout_ms)) {
        fail("%s did not end within %u ms (killed)", argv[0], timeout_ms);
        return false;
    }
    return true;
}

const char* describe(int status) {
    static char text[40];
    describe_status(status, text, sizeof(text));
    return text;
}

// The system still runs: a fresh process can be started and ends normally.
void expect_system_alive(const char* after) {
    const char* argv[] = {"hello", "still", "alive", nullptr};
    int status;
    if (!run_program(argv, nullptr, status)) return;
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0, "after %s, hello ended with %s", after,
           describe(status));
}

MnemeMemInfo meminfo() {
    MnemeMemInfo info{};
    sys_mneme_meminfo(&info);
    return info;
}

// This process's entry in mneme_procinfo (pid 0 when it is missing).
MnemeProcInfo my_procinfo() {
    for (u32 index = 0; index < 1000; ++index) {
        MnemeProcInfo info;
        if (sys_mneme_procinfo(index, &info) != 0) break;
        if (info.pid == sys_getpid()) return info;
    }
    return MnemeProcInfo{};
}

// -------------------------------------------------------------------------------------------------------
// Processes: fork, exec, wait, exit status, kill
// -------------------------------------------------------------------------------------------------------

void test_exec_hello() {
    const char* argv[] = {"/bin/hello", "from", "init", nullptr};
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

void test_fork_exit_status() {
    const int codes[] = {0, 1, 42, 255, 256 + 7};  // only the low 8 bits of exit's argument survive
    for (int code : codes) {
        int pid = fork();
        if (pid == 0) sys_exit(code);
        if (pid < 0) return fail("fork: %s", strerror(pid));
        int status = 0;
        int reaped = sys_waitpid(pid, &status, 0);
        EXPECT(reaped == pid, "waitpid(%d) returned %d", pid, reaped);
        EXPECT(wait_exited(status) && wait_exit_status(status) == (code & 0xFF), "exit(%d) seen as %s (status %#x)",
               code, describe(status), status);
    }
}

void test_fork_returns_pids() {
    int parent = sys_getpid();
    int pid = fork();
    if (pid == 0) {
        // The child reports what it sees through its exit status: 1 bad parent, else the low bits of its pid.
        if (sys_getppid() != parent) sys_exit(1);
        sys_exit(2 + (sys_getpid() & 0x7F));
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    EXPECT(pid != parent && pid > 0, "fork returned %d in the parent (pid %d)", pid, parent);
    int status;
    wait_for(pid, &status);
    EXPECT(wait_exited(status), "child ended with %s", describe(status));
    EXPECT(wait_exit_status(status) != 1, "the child's getppid() was not the parent's pid %d", parent);
    EXPECT(wait_exit_status(status) == 2 + (pid & 0x7F), "the child's getpid() is not %d (exit %d)", pid,
           wait_exit_status(status));
}

void test_waitpid_semantics() {
    int status = 0;
    EXPECT(sys_waitpid(-1, &status, 0) == -static_cast<int>(Error::NoChild), "waitpid(-1) without children");
    EXPECT(sys_waitpid(12345, &status, 0) == -static_cast<int>(Error::NoChild), "waitpid of a non-child");
    int pid = fork();
    if (pid == 0) {
        sleep_ms(100);
        sys_exit(9);
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    int early = sys_waitpid(pid, &status, kWaitNoHang);
    EXPECT(early == 0, "waitpid(WNOHANG) on a sleeping child returned %d", early);
    int reaped = sys_waitpid(-1, &status, 0);
    EXPECT(reaped == pid && wait_exited(status) && wait_exit_status(status) == 9, "waitpid(-1) returned %d with %s",
           reaped, describe(status));
    EXPECT(sys_waitpid(pid, &status, 0) == -static_cast<int>(Error::NoChild), "a child was reaped twice");
    // A null status pointer is allowed: the caller does not want it.
    pid = fork();
    if (pid == 0) sys_exit(0);
    EXPECT(sys_waitpid(pid, nullptr, 0) == pid, "waitpid(pid, NULL, 0)");
}

// A process whose parent ends is given to init (pid 1), which must be able to reap it.
void test_orphan_reparenting() {
    if (sys_getpid() != 1) {
        printf("  user.orphan_reparenting: not pid 1, orphans go to the real init: nothing to check\n");
        return;
    }
    int middle = fork();
    if (middle == 0) {
        int grandchild = fork();
        if (grandchild == 0) {
            sleep_ms(60);  // outlive the middle process
            sys_exit(sys_getppid() == 1 ? 5 : 6);
        }
        sys_exit(grandchild > 0 ? 0 : 1);
    }
    if (middle < 0) return fail("fork: %s", strerror(middle));
    int status;
    wait_for(middle, &status);
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0, "the middle process ended with %s", describe(status));
    // The grandchild is now init's child: waitpid(-1) must find it.
    int reaped = 0;
    for (int tries = 0; tries < 300 && reaped <= 0; ++tries) {
        reaped = sys_waitpid(-1, &status, kWaitNoHang);
        if (reaped == 0) sleep_ms(kPollMs);
    }
    EXPECT(reaped > 0, "init never got the orphan (waitpid returned %d)", reaped);
    if (reaped > 0)
        EXPECT(wait_exited(status) && wait_exit_status(status) == 5,
               "the orphan ended with %s (exit 6: its getppid() was not 1)", describe(status));
}

// A process that has exited but is not yet reaped is a zombie: listed, but its memory already freed.
void test_zombie() {
    u32 before = free_frames();
    int pid = fork();
    if (pid == 0) {
        char* heap = static_cast<char*>(sbrk(256 * 4096));
        if (heap != reinterpret_cast<char*>(-1))
            for (u32 page = 0; page < 256; ++page) heap[page * 4096] = 1;
        sys_exit(3);
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    // Wait (up to 3 s) until the child has exited; it stays a zombie because nobody reaps it yet.
    MnemeProcInfo child{};
    bool listed = false;
    for (int tries = 0; tries < 300; ++tries) {
        listed = false;
        for (u32 index = 0;; ++index) {
            MnemeProcInfo info;
            if (sys_mneme_procinfo(index, &info) != 0) break;
            if (info.pid == pid) {
                child = info;
                listed = true;
            }
        }
        if (!listed || child.state == ProcessState::Zombie) break;
        sleep_ms(kPollMs);
    }
    if (listed) {
        EXPECT(child.state == ProcessState::Zombie, "the exited child is in state %u, not zombie",
               static_cast<u32>(child.state));
        EXPECT(child.resident_pages == 0, "the zombie still holds %u pages", child.resident_pages);
    }
    EXPECT(listed, "the exited, unreaped child is not listed");
    int lost = static_cast<int>(before) - static_cast<int>(free_frames());
    EXPECT(lost <= 8, "%d frames still gone while the child is a zombie", lost);
    int status;
    wait_for(pid, &status);
    EXPECT(wait_exited(status) && wait_exit_status(status) == 3, "the zombie reported %s", describe(status));
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
// the program's environment after the shell's own (init's, here), and the exit status comes back.
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
        {"exit 7", 7}, {"nullderef", 128 + kSignalSegv}, {"nonexistent", kExecFailedStatus}, {"hello \"unclosed", 2}};
    for (const Case& c : cases) {
        const char* case_argv[] = {"sh", "-c", c.line, nullptr};
        if (!run_program(case_argv, nullptr, status)) return;
        EXPECT(wait_exited(status) && wait_exit_status(status) == c.status,
               "sh -c '%s' ended with %s, expected exit %d", c.line, describe(status), c.status);
    }
}

void test_kill() {
    const int signals[] = {kSignalKill, kSignalTerm};
    for (int signal : signals) {
        int pid = fork();
        if (pid == 0) {
            for (;;) sleep_ms(50);
        }
        if (pid < 0) return fail("fork: %s", strerror(pid));
        sleep_ms(20);
        int result = sys_kill(pid, signal);
        EXPECT(result == 0, "kill(%d, %d) returned %d", pid, signal, result);
        int status;
        if (!wait_with_timeout(pid, status, 5000)) return fail("the killed child did not end");
        EXPECT(wait_signaled(status) && wait_term_signal(status) == signal, "kill(%s) ended the child with %s",
               signal_name(signal), describe(status));
    }
    // A busy child (never in a system call) must be killable too: the kill takes effect at the next tick.
    int pid = fork();
    if (pid == 0) {
        for (;;) asm volatile("");  // spin without ever entering the kernel
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    sleep_ms(20);
    sys_kill(pid, kSignalKill);
    int status;
    if (!wait_with_timeout(pid, status, 5000)) return fail("a spinning child survived SIGKILL");
    EXPECT(wait_signaled(status) && wait_term_signal(status) == kSignalKill, "spinning child: %s", describe(status));
    EXPECT(sys_kill(23456, kSignalKill) == -static_cast<int>(Error::NoProcess), "kill of a missing pid");
}

void test_procinfo() {
    bool found_self = false;
    u32 count = 0;
    for (u32 index = 0; index < 1000; ++index) {
        MnemeProcInfo info;
        int result = sys_mneme_procinfo(index, &info);
        if (result == -static_cast<int>(Error::NoProcess)) break;
        if (result != 0) return fail("mneme_procinfo(%u) returned %d", index, result);
        ++count;
        if (info.pid == sys_getpid()) {
            found_self = true;
            EXPECT(strcmp(info.name, "init") == 0, "my name is \"%s\"", info.name);
            EXPECT(info.state == ProcessState::Running, "my state is %u", static_cast<u32>(info.state));
            EXPECT(info.resident_pages > 0 && info.stack_bytes > 0, "%u resident pages, %u stack bytes",
                   info.resident_pages, info.stack_bytes);
        }
    }
    EXPECT(found_self, "mneme_procinfo never listed pid %d", sys_getpid());
    EXPECT(count == meminfo().process_count, "procinfo lists %u processes, meminfo counts %u", count,
           meminfo().process_count);
}

// -------------------------------------------------------------------------------------------------------
// Memory: copy-on-write, brk, mmap, the stack
// -------------------------------------------------------------------------------------------------------

constexpr int kCowPages = 4;
alignas(4096) char g_cow_pages[kCowPages][4096];

void test_cow() {
    for (int i = 0; i < kCowPages; ++i) snprintf(g_cow_pages[i], 64, "original %d", i);
    long before[kCowPages];
    for (int i = 0; i < kCowPages; ++i) before[i] = sys_mneme_frame_of(g_cow_pages[i]);
    for (int i = 0; i < kCowPages; ++i)
        if (is_error_result(before[i])) return fail("mneme_frame_of(%p) = %ld", g_cow_pages[i], before[i]);

    // Page 0: written by the child. Page 1: written by the parent while the child lives. Pages 2, 3: nobody.
    // Whoever writes a shared page gets a new frame; a page nobody wrote keeps the frame it had before fork.
    int pid = fork();
    if (pid == 0) {
        int code = 0;
        for (int i = 0; i < kCowPages; ++i)
            if (i != 1 && sys_mneme_frame_of(g_cow_pages[i]) != before[i]) code |= 1;  // not shared after fork
        strcpy(g_cow_pages[0], "child");
        if (sys_mneme_frame_of(g_cow_pages[0]) == before[0]) code |= 2;  // the write did not copy
        if (strcmp(g_cow_pages[0], "child") != 0) code |= 4;
        sleep_ms(100);  // the parent writes page 1 meanwhile: the child must not see it
        if (strcmp(g_cow_pages[1], "original 1") != 0) code |= 8;
        if (sys_mneme_frame_of(g_cow_pages[1]) != before[1]) code |= 16;  // the parent's write moved my frame
        if (sys_mneme_frame_of(g_cow_pages[2]) != before[2]) code |= 1;
        if (my_procinfo().shared_pages < 2) code |= 32;  // pages 2 and 3 at least are still shared
        sys_exit(code);
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    strcpy(g_cow_pages[1], "parent");
    long parent_page1 = sys_mneme_frame_of(g_cow_pages[1]);
    EXPECT(parent_page1 != before[1], "the parent's write to a shared page kept frame %#lx", parent_page1);
    int status;
    if (!wait_with_timeout(pid, status, 10000)) return fail("the child did not end");
    int code = wait_exited(status) ? wait_exit_status(status) : -1;
    EXPECT(code == 0, "child: %s%s%s%s%s%s(%s)", code & 1 ? "pages not shared after fork; " : "",
           code & 2 ? "its write did not get a new frame; " : "", code & 4 ? "it did not see its own write; " : "",
           code & 8 ? "it saw the parent's write; " : "", code & 16 ? "the parent's write moved its frame; " : "",
           code & 32 ? "procinfo shows no shared pages; " : "", describe(status));
    EXPECT(strcmp(g_cow_pages[0], "original 0") == 0, "the parent sees \"%s\" in the page the child wrote",
           g_cow_pages[0]);
    EXPECT(strcmp(g_cow_pages[1], "parent") == 0, "the parent lost its own write");
    EXPECT(sys_mneme_frame_of(g_cow_pages[0]) == before[0], "the child's write moved the parent's frame");
    EXPECT(sys_mneme_frame_of(g_cow_pages[3]) == before[3], "an untouched page changed frame");
}

// How many more frames are free now than `before` (negative: fewer).
int frames_since(u32 before) { return static_cast<int>(free_frames()) - static_cast<int>(before); }

// Lets a test run its body in a child, so that what it does to the address space (brk, mmap, deep stack)
// does not stay with init. The child returns a message (failure) or nullptr, passed back through a status
// code and printed by the child itself.
using ChildBody = const char* (*)();

void run_in_child(ChildBody body) {
    int pid = fork();
    if (pid == 0) {
        const char* problem = body();
        if (problem) printf("  user.%s: %s\n", g_test.name, problem);
        sys_exit(problem ? 1 : 0);
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    int status;
    if (!wait_with_timeout(pid, status, 20000)) return fail("the test child did not end");
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0,
           "the test child ended with %s (its reason is "
           "printed above)",
           describe(status));
}

char g_child_message[160];

const char* child_fail(const char* format, ...) __attribute__((format(printf, 1, 2)));
const char* child_fail(const char* format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(g_child_message, sizeof(g_child_message), format, args);
    va_end(args);
    return g_child_message;
}

constexpr u32 kGrowPages = 1024;  // 4 MiB
constexpr u32 kSlackFrames = 24;  // page tables and kernel bookkeeping that may come and go with a region

const char* brk_body() {
    u32 start = free_frames();
    char* base = static_cast<char*>(sbrk(0));
    if (sbrk(kGrowPages * 4096) != base) return child_fail("sbrk(4 MiB) failed");
    if (sbrk(0) != base + kGrowPages * 4096) return child_fail("the break did not move by 4 MiB");
    // Demand paging: growing the heap reserves addresses; frames come only with the first touch.
    int reserved = -frames_since(start);
    if (reserved > static_cast<int>(kSlackFrames))
        return child_fail("sbrk(4 MiB) took %d frames before any page was touched", reserved);
    for (u32 page = 0; page < kGrowPages; ++page) {
        if (base[page * 4096] != 0) return child_fail("new heap page %u is not zero", page);
        base[page * 4096] = static_cast<char>(page);
    }
    int touched = -frames_since(start);
    if (touched < static_cast<int>(kGrowPages))
        return child_fail("touching 1024 heap pages took only %d frames", touched);
    MnemeProcInfo info = my_procinfo();
    if (info.heap_bytes < kGrowPages * 4096 || info.resident_pages < kGrowPages)
        return child_fail("procinfo: heap %u bytes, %u resident pages after a 4 MiB heap was touched", info.heap_bytes,
                          info.resident_pages);
    if (sbrk(-static_cast<long>(kGrowPages * 4096)) == reinterpret_cast<void*>(-1)) return child_fail("sbrk(-4 MiB)");
    if (sbrk(0) != base) return child_fail("the break did not come back");
    int left = -frames_since(start);
    if (left > static_cast<int>(kSlackFrames))
        return child_fail("after shrinking the heap %d frames are still gone (%d were taken)", left, touched);
    // Growing again must give zeroed pages, not the old contents.
    if (sbrk(4096) != base) return child_fail("sbrk(4096) after the shrink");
    if (base[0] != 0) return child_fail("a page given back and taken again kept its old contents");
    sbrk(-4096);
    return nullptr;
}

void test_brk() { run_in_child(brk_body); }

const char* mmap_body() {
    u32 start = free_frames();
    constexpr size_t kBytes = kGrowPages * 4096;
    long result = sys_mmap2(nullptr, kBytes, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(result)) return child_fail("mmap2(4 MiB) failed: %s", strerror(static_cast<int>(result)));
    char* region = reinterpret_cast<char*>(result);
    if (reinterpret_cast<uptr>(region) % 4096 != 0 || reinterpret_cast<uptr>(region) < 0x40000000u ||
        reinterpret_cast<uptr>(region) + kBytes > 0xC0000000u - 8 * MiB)
        return child_fail("mmap2 returned %p, not a page in the mmap area", region);
    if (-frames_since(start) > static_cast<int>(kSlackFrames))
        return child_fail("mmap2 took %d frames before any page was touched", -frames_since(start));
    for (u32 page = 0; page < kGrowPages; ++page) {
        if (region[page * 4096 + 123] != 0) return child_fail("mapped page %u is not zero", page);
        region[page * 4096] = 1;
    }
    int touched = -frames_since(start);
    if (touched < static_cast<int>(kGrowPages)) return child_fail("touching 1024 mapped pages took %d frames", touched);
    if (my_procinfo().mapped_bytes < kBytes) return child_fail("procinfo: %u mapped bytes", my_procinfo().mapped_bytes);
    // A second mapping must not overlap the first.
    long second = sys_mmap2(nullptr, 8192, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(second)) return child_fail("a second mmap2 failed");
    uptr s = static_cast<uptr>(second);
    if (s < reinterpret_cast<uptr>(region) + kBytes && s + 8192 > reinterpret_cast<uptr>(region))
        return child_fail("the second mapping %#lx overlaps the first %p", second, region);
    if (sys_munmap(reinterpret_cast<void*>(second), 8192) != 0) return child_fail("munmap of the second mapping");
    int unmapped = sys_munmap(region, kBytes);
    if (unmapped != 0) return child_fail("munmap returned %d", unmapped);
    int left = -frames_since(start);
    if (left > static_cast<int>(kSlackFrames))
        return child_fail("after munmap %d frames are still gone (%d were taken)", left, touched);
    // A bad length or address is an error, not a crash.
    if (sys_mmap2(nullptr, 0, kProtRead, kMapPrivate | kMapAnonymous, -1, 0) >= 0)
        return child_fail("mmap2 of 0 bytes succeeded");
    // The unmapped region must be gone: touching it now is a segmentation fault (in a grandchild).
    int pid = sys_fork();
    if (pid == 0) {
        volatile char* gone = region;
        gone[0] = 1;
        sys_exit(0);
    }
    int status;
    wait_for(pid, &status);
    if (!wait_signaled(status) || wait_term_signal(status) != kSignalSegv)
        return child_fail("writing an unmapped region ended with %s, not SIGSEGV", describe(status));
    return nullptr;
}

void test_mmap() { run_in_child(mmap_body); }

// Recursion 1 MiB deep: the stack grows page by page on demand far beyond what exec mapped.
u32 descend(u32 depth, volatile char* caller) {
    volatile char frame[4000];
    frame[0] = static_cast<char>(depth);
    frame[3999] = caller ? caller[0] : 0;
    if (depth == 0) return frame[0];
    return descend(depth - 1, frame) + frame[1];
}

const char* stack_body() {
    u32 start = free_frames();
    descend(270, nullptr);  // 270 x 4000 bytes: a little more than 1 MiB
    int taken = -frames_since(start);
    if (taken < 256) return child_fail("a 1 MiB deep recursion took only %d frames", taken);
    MnemeProcInfo info = my_procinfo();
    if (info.pid == 0) return child_fail("my pid is not in mneme_procinfo");
    if (info.stack_bytes < 1 * MiB) return child_fail("procinfo says %u stack bytes", info.stack_bytes);
    return nullptr;
}

void test_stack_growth() { run_in_child(stack_body); }

// -------------------------------------------------------------------------------------------------------
// Hostile programs: each must end the way the kernel promises, and leave the system running
// -------------------------------------------------------------------------------------------------------

struct Hostile {
    const char* test;
    const char* program;
    int signal;  // the signal that must end it; 0: must exit with status 0
};

// The kernel's mapping (kernel/debug/Traps.cpp, like Linux): page faults and general-protection faults are
// SIGSEGV -- cli, hlt, out and mov to cr3 in ring 3 all raise #GP -- the invalid opcode SIGILL, the divide
// error SIGFPE.
constexpr Hostile kHostile[] = {
    {"hostile.badread", "badread", kSignalSegv},
    {"hostile.badwrite", "badwrite", kSignalSegv},
    {"hostile.nullderef", "nullderef", kSignalSegv},
    {"hostile.badjump", "badjump", kSignalSegv},
    {"hostile.badcli", "badcli", kSignalSegv},
    {"hostile.badhlt", "badhlt", kSignalSegv},
    {"hostile.badout", "badout", kSignalSegv},
    {"hostile.badcr3", "badcr3", kSignalSegv},
    {"hostile.divzero", "divzero", kSignalFpe},
    {"hostile.badopcode", "badopcode", kSignalIll},
    {"hostile.stackbomb", "stackbomb", kSignalSegv},
    {"hostile.badsyscall", "badsyscall", 0},
    {"hostile.forkbomb", "forkbomb", 0},
};

const Hostile* g_hostile = nullptr;

void test_hostile() {
    const char* argv[] = {g_hostile->program, nullptr};
    int status;
    if (!run_program(argv, nullptr, status, 60000)) return;
    if (g_hostile->signal != 0) {
        EXPECT(wait_signaled(status) && wait_term_signal(status) == g_hostile->signal,
               "%s ended with %s, expected "
               "killed by %s",
               g_hostile->program, describe(status), signal_name(g_hostile->signal));
    } else {
        EXPECT(wait_exited(status) && wait_exit_status(status) == 0, "%s ended with %s, expected exit 0",
               g_hostile->program, describe(status));
    }
    expect_system_alive(g_hostile->program);
}

// allocbomb may end either way (allocbomb.cpp): a clean exit 0 when every allocation was refused, or
// killed by the kernel when a page fault found no free frame. Not acceptable: exit 1 (an allocation
// misbehaved) or any other ending.
void test_allocbomb() {
    const char* argv[] = {"allocbomb", nullptr};
    u32 before = free_frames();
    int status;
    if (!run_program(argv, nullptr, status, 60000)) return;
    printf("  user.allocbomb: allocbomb ended with %s\n", describe(status));
    EXPECT((wait_exited(status) && wait_exit_status(status) == 0) || wait_signaled(status), "allocbomb ended with %s",
           describe(status));
    int lost = -frames_since(before);
    EXPECT(lost <= static_cast<int>(kSlackFrames), "%d frames did not come back after allocbomb", lost);
    expect_system_alive("allocbomb");
}

// -------------------------------------------------------------------------------------------------------
// Many processes at once, and malloc inside Mneme
// -------------------------------------------------------------------------------------------------------

void test_compute_parallel() {
    constexpr int kWorkers = 8;
    int pids[kWorkers];
    char seeds[kWorkers][12], expected[kWorkers][12];
    for (int i = 0; i < kWorkers; ++i) {
        u32 seed = 1000 + static_cast<u32>(i) * 7919;
        snprintf(seeds[i], sizeof(seeds[i]), "%u", seed);
        snprintf(expected[i], sizeof(expected[i]), "%08x", compute_expected(seed));
        const char* argv[] = {"compute", seeds[i], expected[i], nullptr};
        pids[i] = spawn("compute", argv, nullptr);
        if (pids[i] < 0) fail("starting compute %d: %s", i, strerror(pids[i]));
    }
    int running = 0;
    for (u32 index = 0;; ++index) {
        MnemeProcInfo info;
        if (sys_mneme_procinfo(index, &info) != 0) break;
        running += strcmp(info.name, "compute") == 0 && info.state != ProcessState::Zombie;
    }
    printf("  user.compute_parallel: %d compute processes alive together\n", running);
    // They run long enough (several time slices each) that a preemptive scheduler has them all alive at once.
    EXPECT(running >= 2, "only %d compute processes were alive at the same time", running);
    for (int i = 0; i < kWorkers; ++i) {
        if (pids[i] < 0) continue;
        int status;
        if (!wait_with_timeout(pids[i], status, 60000)) {
            fail("compute %s did not finish", seeds[i]);
            continue;
        }
        EXPECT(wait_exited(status) && wait_exit_status(status) == 0,
               "compute %s ended with %s (1: wrong checksum, 2: memory changed under it)", seeds[i], describe(status));
    }
}

const char* g_policy = nullptr;  // nullptr: no MNEME_MALLOC, the default

void test_malloctest() {
    char variable[40];
    const char* envp[] = {variable, nullptr};
    snprintf(variable, sizeof(variable), "MNEME_MALLOC=%s", g_policy ? g_policy : "");
    const char* argv[] = {"malloctest", nullptr};
    int status;
    if (!run_program(argv, g_policy ? envp : nullptr, status, 60000)) return;
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0,
           "malloctest (%s) ended with %s (134: a heap "
           "invariant broke)",
           g_policy ? g_policy : "default", describe(status));
}

// Heap misuse must end the program through the user-space mneme_panic (status 134), under every policy.
// The segregated policy keeps no per-block headers, so an overrun into a neighbour is not detectable there.
void test_malloc_misuse() {
    static const char* const kPolicies[] = {"segregated", "first", "next", "best", "worst", "buddy"};
    static const char* const kKinds[] = {"double-free", "bad-pointer", "overrun"};
    for (const char* policy : kPolicies) {
        for (const char* kind : kKinds) {
            if (strcmp(policy, "segregated") == 0 && strcmp(kind, "overrun") == 0) continue;
            char variable[40];
            snprintf(variable, sizeof(variable), "MNEME_MALLOC=%s", policy);
            const char* envp[] = {variable, nullptr};
            const char* argv[] = {"malloctest", "--misuse", kind, nullptr};
            int status;
            if (!run_program(argv, envp, status)) return;
            EXPECT(wait_exited(status) && wait_exit_status(status) == kAbortStatus,
                   "%s with policy %s ended with %s, expected exit %d (panic)", kind, policy, describe(status),
                   kAbortStatus);
        }
    }
}

// -------------------------------------------------------------------------------------------------------
// The suite
// -------------------------------------------------------------------------------------------------------

MnemeMemInfo g_baseline;

void test_no_frame_leak() {
    reap_zombies();
    MnemeMemInfo now = meminfo();
    int lost = static_cast<int>(g_baseline.free_frames) - static_cast<int>(now.free_frames);
    // The kernel heap's slab caches may keep a few more pages than at the start (a cache grown by a test
    // keeps its empty slab); those are not leaked, and they are visible in kernel_heap_bytes.
    int heap_growth =
        (static_cast<int>(now.kernel_heap_bytes) - static_cast<int>(g_baseline.kernel_heap_bytes) + 4095) / 4096;
    printf(
        "  user.no_frame_leak: %u frames free before the tests, %u after; kernel heap %u -> %u bytes; %u processes\n",
        g_baseline.free_frames, now.free_frames, g_baseline.kernel_heap_bytes, now.kernel_heap_bytes,
        now.process_count);
    EXPECT(now.process_count == g_baseline.process_count, "%u processes before, %u after", g_baseline.process_count,
           now.process_count);
    EXPECT(lost <= (heap_growth > 0 ? heap_growth : 0), "%d frames lost (the kernel heap grew by %d pages)", lost,
           heap_growth);
}

// Pages init will touch during the tests are touched before the baseline, so only leaks change the count:
// the program is demand-paged, so a page of code, constants or data first used by a late test would
// otherwise take its frame after the baseline. Every page is read; data and bss pages are also written
// (a write is what gives a process its own copy of a data page), and 64 KiB of stack are touched.
void prepare_baseline() {
    volatile char stack[64 * 1024];
    for (u32 i = 0; i < sizeof(stack); i += 4096) stack[i] = 0;
    for (uptr page = reinterpret_cast<uptr>(__executable_start); page < reinterpret_cast<uptr>(__data_start);
         page += 4096)
        (void)*reinterpret_cast<volatile const char*>(page);
    for (uptr page = reinterpret_cast<uptr>(__data_start); page < reinterpret_cast<uptr>(_end); page += 4096) {
        volatile char* byte = reinterpret_cast<volatile char*>(page);
        *byte = *byte;
    }
    // One process started and reaped: kernel caches (process slots, slabs) reach their working size.
    const char* argv[] = {"hello", "warm-up", nullptr};
    int pid = spawn("hello", argv, nullptr);
    if (pid > 0) wait_for(pid, nullptr);
    g_baseline = meminfo();
}

int run_tests(const char* filter) {
    g_filter = filter;
    printf("user: running the user-level tests%s%s\n", filter ? " matching " : "", filter ? filter : "");
    prepare_baseline();

    run_test("exec_hello", test_exec_hello);
    run_test("exec_bare_name", test_exec_bare_name);
    run_test("exec_failures", test_exec_failures);
    run_test("exec_reason", test_exec_reason);
    run_test("fork_exit_status", test_fork_exit_status);
    run_test("fork_returns_pids", test_fork_returns_pids);
    run_test("waitpid_semantics", test_waitpid_semantics);
    run_test("orphan_reparenting", test_orphan_reparenting);
    run_test("zombie", test_zombie);
    run_test("argv_env", test_argv_env);
    run_test("shell_command", test_shell_command);
    run_test("kill", test_kill);
    run_test("procinfo", test_procinfo);
    run_test("cow", test_cow);
    run_test("brk", test_brk);
    run_test("mmap", test_mmap);
    run_test("stack_growth", test_stack_growth);
    for (const Hostile& hostile : kHostile) {
        g_hostile = &hostile;
        run_test(hostile.test, test_hostile);
    }
    run_test("hostile.allocbomb", test_allocbomb);
    run_test("compute_parallel", test_compute_parallel);
    static const char* const kPolicies[] = {nullptr, "segregated", "first", "next", "best", "worst", "buddy"};
    static const char* const kPolicyTests[] = {"malloctest.default", "malloctest.segregated", "malloctest.first",
                                               "malloctest.next",    "malloctest.best",       "malloctest.worst",
                                               "malloctest.buddy"};
    for (size_t i = 0; i < sizeof(kPolicies) / sizeof(kPolicies[0]); ++i) {
        g_policy = kPolicies[i];
        run_test(kPolicyTests[i], test_malloctest);
    }
    run_test("malloc_misuse", test_malloc_misuse);
    run_test("no_frame_leak", test_no_frame_leak);

    printf("user: %u passed, %u failed\n", g_passed, g_failed);
    int result = sys_mneme_test_exit(g_passed, g_failed);  // ends the run when we are pid 1 in test mode
    if (result != 0) printf("user: mneme_test_exit returned %d (%s)\n", result, strerror(result));
    return g_failed == 0 && g_passed > 0 ? 0 : 1;
}

// -------------------------------------------------------------------------------------------------------
// Normal boot: programs from init=, then the shell, forever
// -------------------------------------------------------------------------------------------------------

// Starts `name` and waits for it, reaping any orphan that ends meanwhile. Returns its status.
int run_and_wait(const char* name, const char* const* argv) {
    int pid = spawn(name, argv, const_cast<const char* const*>(environ));
    if (pid < 0) {
        printf("[init] cannot start %s: %s\n", name, strerror(pid));
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
                int status = run_and_wait(name, program_argv);
                if (status >= 0) printf("[init] %s: %s\n", name, describe(status));
            }
            name = comma ? comma + 1 : nullptr;
        }
    }
}

[[noreturn]] void run_shell_forever() {
    for (;;) {
        const char* argv[] = {"sh", nullptr};
        int status = run_and_wait("sh", argv);
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
        if (strcmp(argv[i], "--test") == 0) return run_tests(nullptr);
        if (strncmp(argv[i], "--test=", 7) == 0) return run_tests(argv[i] + 7);
    }
    if (sys_getpid() != 1) printf("init: note: I am pid %d, not 1; orphans go to the real init\n", sys_getpid());
    run_boot_programs(argc, argv);
    run_shell_forever();
}
