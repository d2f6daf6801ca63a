// Compute.cpp: eight `compute` processes at once (user/compute.cpp), each with the right checksum.
#include "user/Compute.h"
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"

namespace usertests {

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

}  // namespace usertests
