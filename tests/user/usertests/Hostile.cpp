// Hostile.cpp: programs that misbehave on purpose (user/bad*.cpp, the bombs). Each must end the way the
// kernel promises, and leave the system running.
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"

namespace usertests {
namespace {

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
               "%s ended with %s, expected killed by %s", g_hostile->program, describe(status),
               signal_name(g_hostile->signal));
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
    u32 before = free_pages();
    int status;
    if (!run_program(argv, nullptr, status, 60000)) return;
    printf("  user.allocbomb: allocbomb ended with %s\n", describe(status));
    EXPECT((wait_exited(status) && wait_exit_status(status) == 0) || wait_signaled(status), "allocbomb ended with %s",
           describe(status));
    int lost = -frames_since(before);
    EXPECT(lost <= static_cast<int>(kSlackFrames), "%d frames did not come back after allocbomb", lost);
    expect_system_alive("allocbomb");
}

}  // namespace

void run_hostile_tests() {
    for (const Hostile& hostile : kHostile) {
        g_hostile = &hostile;
        run_test(hostile.test, test_hostile);
    }
    run_test("hostile.allocbomb", test_allocbomb);
}

}  // namespace usertests
