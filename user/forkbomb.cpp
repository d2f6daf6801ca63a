// forkbomb.cpp: hostile program: forks until the kernel refuses. Each child only sleeps, so the
// processes pile up; the kernel must answer fork with -EAGAIN (process table full) or -ENOMEM (no memory
// for another address space) instead of running out of memory itself or panicking. Then the parent kills
// its children (SIGTERM), reaps them all and checks that the memory came back.
//
// Linear, not exponential: only the first process forks, so the count is exact and the run is bounded.
// Exit status 0 when fork failed cleanly and every child was reaped; 1 otherwise.
// help(hostile): forkbomb | forks until refused (-EAGAIN or -ENOMEM), then cleans up
#include "libc/base/Error.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace {

constexpr int kMaxChildren = 8192;  // beyond this the kernel has no limit at all: report it
int g_children[kMaxChildren];

}  // namespace

int main() {
    u32 before = free_frames();
    printf("forkbomb: forking until the kernel refuses (%u frames free)\n", before);
    int count = 0;
    int failure = 0;
    while (count < kMaxChildren) {
        int pid = fork();
        if (pid == 0) {
            for (;;) sleep_ms(1000);  // wait to be killed
        }
        if (pid < 0) {
            failure = pid;
            break;
        }
        g_children[count++] = pid;
        if (count % 64 == 0) printf("forkbomb: %d children, %u frames free\n", count, free_frames());
    }
    u32 at_peak = free_frames();
    bool clean = failure == -static_cast<int>(Error::TryAgain) || failure == -static_cast<int>(Error::NoMemory);
    if (failure != 0)
        printf("forkbomb: fork number %d failed with %d (%s)%s; %u frames free\n", count + 1, failure,
               strerror(failure), clean ? "" : " -- ERROR: expected EAGAIN or ENOMEM", at_peak);
    else
        printf("forkbomb: ERROR: %d forks and the kernel never refused\n", count);

    for (int i = 0; i < count; ++i) sys_kill(g_children[i], kSignalTerm);
    int reaped = 0;
    for (int i = 0; i < count; ++i) {
        int status = 0;
        if (wait_for(g_children[i], &status) == g_children[i]) ++reaped;
    }
    u32 after = free_frames();
    printf("forkbomb: killed and reaped %d of %d children; %u frames free (%u before)\n", reaped, count, after, before);
    return clean && reaped == count ? 0 : 1;
}
