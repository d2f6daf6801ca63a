// Harness.h: what every user-level test uses: the verdict (fail, EXPECT), running programs with a watchdog,
// and the kernel's own accounts of memory and processes (mneme_meminfo, mneme_procinfo).
//
// A test is a `void test_NAME()` that calls fail() (or EXPECT) for each thing that does not hold; the first
// reason is the one printed. Main.cpp runs the tests in order, one line each in the in-kernel format
// (kernel/debug/KTest.cpp): "ok   user.NAME" or "FAIL user.NAME: reason".
#pragma once

#include "libc/abi/Syscalls.h"
#include "libc/base/Types.h"

namespace usertests {

// How often the polling loops below look again.
constexpr u32 kPollMs = 10;
// Page tables and kernel bookkeeping that may come and go with a region: frames a memory test forgives.
constexpr u32 kSlackFrames = 24;

// Marks the running test failed, with this reason unless it already has one.
void fail(const char* format, ...) __attribute__((format(printf, 1, 2)));

#define EXPECT(condition, ...)                            \
    do {                                                  \
        if (!(condition)) ::usertests::fail(__VA_ARGS__); \
    } while (0)

// The running test's name, without "user.".
const char* current_test();

// The selection (comma-separated name prefixes, "user." optional, "user" for all; null or empty: all).
void select_tests(const char* names);
// Whether the selection names the test `name` (without "user.").
bool is_selected(const char* name);
// In counting mode run_test only counts the selected tests (usertests --count).
void set_counting(bool counting);
// Runs `test` as user.NAME when the selection names it, then reaps whatever children it left.
void run_test(const char* name, void (*test)());
u32 tests_passed();
u32 tests_failed();
u32 tests_selected();

// Waits for `pid` at most `timeout_ms`; on timeout kills it (SIGKILL), reaps it and returns false (status -2).
bool wait_with_timeout(int pid, int& status, u32 timeout_ms);
// Reaps every zombie child without blocking; returns how many.
int reap_zombies();
// Runs /bin/argv[0] with `envp` and waits for it; false (and the test fails) when it could not be started or
// did not end within the timeout.
bool run_program(const char* const* argv, const char* const* envp, int& status, u32 timeout_ms = 30000);
// "exit 3", "killed by SIGSEGV" (a static buffer: one at a time).
const char* describe(int status);
// The system still runs: `hello` starts and exits 0.
void expect_system_alive(const char* after);

MnemeMemInfo meminfo();
// `pid`'s entry in mneme_procinfo; false when it is not listed.
bool find_process(int pid, MnemeProcInfo& info);
// This process's entry (pid 0 when it is missing).
MnemeProcInfo my_procinfo();
// How many more frames are free now than `before` (negative: fewer).
int frames_since(u32 before);

// Returns once this process's parent is blocked in waitpid (mneme_procinfo shows it Waiting), false after
// `timeout_ms`. A parent enters that state only after everything it did before calling waitpid, so a child
// can wait for its parent's writes deterministically, without guessing how long they take.
bool wait_until_parent_waits(u32 timeout_ms = 10000);

// Runs `body` in a child, so that what it does to the address space (brk, mmap, deep stack) does not stay
// with the test process. The body returns nullptr, or a reason (child_fail), which the child prints; the test
// fails when the child does not exit 0.
using ChildBody = const char* (*)();
void run_in_child(ChildBody body, u32 timeout_ms = 20000);
const char* child_fail(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace usertests
