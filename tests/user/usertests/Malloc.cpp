// Malloc.cpp: malloctest (user/malloctest.cpp) under every MNEME_MALLOC policy and the default, and heap
// misuse ending the program through the user-space panic.
#include "libc/malloc/Policy.h"
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"

namespace usertests {
namespace {

const char* g_policy = nullptr;  // nullptr: no MNEME_MALLOC, the default

void test_malloctest() {
    char variable[40];
    const char* envp[] = {variable, nullptr};
    snprintf(variable, sizeof(variable), "MNEME_MALLOC=%s", g_policy ? g_policy : "");
    const char* argv[] = {"malloctest", nullptr};
    int status;
    if (!run_program(argv, g_policy ? envp : nullptr, status, 60000)) return;
    // malloctest exits 1 when a check failed (its output says which) and 134 (kAbortStatus) when a VERIFY or a
    // heap invariant stopped it.
    bool exited = wait_exited(status);
    int code = exited ? wait_exit_status(status) : -1;
    EXPECT(exited && code == 0, "malloctest (%s) ended with %s (%s)", g_policy ? g_policy : "default", describe(status),
           code == kAbortStatus ? "a heap invariant broke or a VERIFY failed"
           : code == 1          ? "one of its checks failed: see its FAIL lines above"
                                : "it did not finish normally");
}

}  // namespace

void run_malloctest_tests() {
    struct Policy {
        const char* test;
        const char* policy;
    };
    static const Policy kPolicies[] = {
        {"malloctest.default", nullptr}, {"malloctest.segregated", "segregated"},
        {"malloctest.first", "first"},   {"malloctest.next", "next"},
        {"malloctest.best", "best"},     {"malloctest.worst", "worst"},
        {"malloctest.buddy", "buddy"},
    };
    for (const Policy& policy : kPolicies) {
        g_policy = policy.policy;
        run_test(policy.test, test_malloctest);
    }
}

// Heap misuse must end the program through the user-space mneme_panic (status 134), under every policy
// the library accepts (Malloc::kAllPolicies: the indexed fit policies and their list versions too). The
// segregated policy keeps no per-block headers, so an overrun into a neighbour is not detectable there.
void test_malloc_misuse() {
    static const char* const kKinds[] = {"double-free", "bad-pointer", "overrun"};
    for (Malloc::Policy each : Malloc::kAllPolicies) {
        const char* policy = Malloc::policy_name(each);
        for (const char* kind : kKinds) {
            if (each == Malloc::Policy::Segregated && strcmp(kind, "overrun") == 0) continue;
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

}  // namespace usertests
