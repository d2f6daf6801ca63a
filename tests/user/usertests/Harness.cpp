// Harness.cpp: the verdict, the selection, and the helpers of Harness.h.
#include "tests/user/usertests/Harness.h"

#include "libc/base/Error.h"
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace usertests {
namespace {

struct TestState {
    const char* name = nullptr;
    bool failed = false;
    char reason[200] = "";
};

TestState g_test;
const char* g_selection = nullptr;
bool g_counting = false;
u32 g_passed = 0;
u32 g_failed = 0;
u32 g_selected = 0;

bool selected(const char* name) {
    if (!g_selection || !*g_selection) return true;
    const char* part = g_selection;
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

char g_child_message[160];

}  // namespace

void fail(const char* format, ...) {
    if (g_test.failed) return;  // the first reason is the one that explains the rest
    g_test.failed = true;
    va_list args;
    va_start(args, format);
    vsnprintf(g_test.reason, sizeof(g_test.reason), format, args);
    va_end(args);
}

const char* current_test() { return g_test.name ? g_test.name : "?"; }

void select_tests(const char* names) { g_selection = names; }
bool is_selected(const char* name) { return selected(name); }
void set_counting(bool counting) { g_counting = counting; }
u32 tests_passed() { return g_passed; }
u32 tests_failed() { return g_failed; }
u32 tests_selected() { return g_selected; }

void run_test(const char* name, void (*test)()) {
    if (!selected(name)) return;
    ++g_selected;
    if (g_counting) return;
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

// Polls with WNOHANG so a kernel bug that never ends the child fails one test instead of hanging the run.
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

int reap_zombies() {
    int count = 0, status;
    while (sys_waitpid(-1, &status, kWaitNoHang) > 0) ++count;
    return count;
}

bool run_program(const char* const* argv, const char* const* envp, int& status, u32 timeout_ms) {
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

bool find_process(int pid, MnemeProcInfo& info) {
    for (u32 index = 0; index < 1000; ++index) {
        if (sys_mneme_procinfo(index, &info) != 0) break;
        if (info.pid == pid) return true;
    }
    return false;
}

MnemeProcInfo my_procinfo() {
    MnemeProcInfo info;
    return find_process(sys_getpid(), info) ? info : MnemeProcInfo{};
}

int frames_since(u32 before) { return static_cast<int>(free_pages()) - static_cast<int>(before); }

bool wait_until_parent_waits(u32 timeout_ms) {
    int parent = sys_getppid();
    for (u32 waited = 0; waited <= timeout_ms; waited += kPollMs) {
        MnemeProcInfo info;
        if (!find_process(parent, info)) return false;
        if (info.state == ProcessState::Waiting) return true;
        sleep_ms(kPollMs);
    }
    return false;
}

void run_in_child(ChildBody body, u32 timeout_ms) {
    int pid = fork();
    if (pid == 0) {
        const char* problem = body();
        if (problem) printf("  user.%s: %s\n", current_test(), problem);
        sys_exit(problem ? 1 : 0);
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    int status;
    if (!wait_with_timeout(pid, status, timeout_ms)) return fail("the test child did not end");
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0,
           "the test child ended with %s (its reason is printed above)", describe(status));
}

const char* child_fail(const char* format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(g_child_message, sizeof(g_child_message), format, args);
    va_end(args);
    return g_child_message;
}

}  // namespace usertests
