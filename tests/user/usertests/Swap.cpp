// Swap.cpp: page swapping seen from user space (user.swap.*): every page comes back as it was written, with
// one process larger than the memory it may keep, with four at once, and across fork. Each test runs under
// every boot (swapping off, every policy): without swapping nothing leaves memory and they check the same
// data on a smaller array; with swapping (`swap=page userframes=N`, tests/scripts/swap.sh) the arrays are a
// multiple of the frame cap, so most pages go to the disk and back on every pass.
#include "libc/rt/String.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"

namespace usertests {
namespace {

// Swapping by PIO under TCG moves a few hundred pages a second on a busy machine: generous limits.
constexpr u32 kSwapTimeoutMs = 300000;

MnemeVmStat vmstat() {
    MnemeVmStat stat{};
    if (int result = sys_mneme_vmstat(&stat); result != 0) fail("mneme_vmstat: %s", strerror(result));
    return stat;
}

// Swapping with a cap small enough that a test's arrays (a few times the cap) are quick to walk: the swap
// scenarios boot with userframes=64. With the default cap (all of memory) the same tests run on arrays that
// fit, checking the data without sending it to the disk.
constexpr u32 kLargestTestCap = 1024;

bool swapping(const MnemeVmStat& stat) { return stat.slots_total != 0 && stat.frame_cap <= kLargestTestCap; }

// Pages for one worker: `multiple` times the frame cap when swapping() says so, `otherwise` if not.
u32 pages_for(const MnemeVmStat& stat, u32 multiple, u32 otherwise) {
    return swapping(stat) ? multiple * stat.frame_cap : otherwise;
}

void expect_clean_exit(const char* what, int status) {
    EXPECT(wait_exited(status) && wait_exit_status(status) == 0, "%s ended with %s (1: corrupted pages, named above)",
           what, describe(status));
}

}  // namespace

void test_swap_integrity() {
    MnemeVmStat before = vmstat();
    char pages[12];
    snprintf(pages, sizeof(pages), "%u", pages_for(before, 3, 256));
    const char* argv[] = {"swapdemo", pages, "3", "--quiet", nullptr};
    int status;
    if (!run_program(argv, nullptr, status, kSwapTimeoutMs)) return;
    expect_clean_exit("swapdemo", status);
    MnemeVmStat after = vmstat();
    printf("  user.swap.integrity: %s pages x 3 passes; %u pages written out, %u read back, %u evictions\n", pages,
           after.pages_out - before.pages_out, after.major_faults - before.major_faults,
           after.evictions - before.evictions);
    if (swapping(before)) {
        // Three times the cap cannot stay resident: most of each pass comes back from the disk.
        u32 array = 3 * before.frame_cap;
        EXPECT(after.major_faults - before.major_faults >= array, "only %u major faults for %u pages x 3 passes",
               after.major_faults - before.major_faults, array);
        EXPECT(after.pages_out - before.pages_out >= array, "only %u pages written out", after.pages_out - before.pages_out);
    }
}

void test_swap_four_at_once() {
    MnemeVmStat before = vmstat();
    constexpr int kWorkers = 4;
    char pages[12], seeds[kWorkers][12];
    // Together four times the cap; each alone would fit.
    snprintf(pages, sizeof(pages), "%u", pages_for(before, 1, 128));
    int pids[kWorkers];
    for (int i = 0; i < kWorkers; ++i) {
        snprintf(seeds[i], sizeof(seeds[i]), "%d", 17 + i);
        const char* argv[] = {"swapdemo", pages, "2", "--seed", seeds[i], "--quiet", nullptr};
        pids[i] = spawn("swapdemo", argv, nullptr);
        if (pids[i] < 0) fail("starting swapdemo %d: %s", i, strerror(pids[i]));
    }
    for (int i = 0; i < kWorkers; ++i) {
        if (pids[i] < 0) continue;
        int status;
        if (!wait_with_timeout(pids[i], status, kSwapTimeoutMs)) {
            fail("swapdemo --seed %s did not finish", seeds[i]);
            continue;
        }
        expect_clean_exit("swapdemo", status);
    }
    MnemeVmStat after = vmstat();
    printf("  user.swap.four_at_once: 4 x %s pages; %u pages written out, %u read back\n", pages,
           after.pages_out - before.pages_out, after.major_faults - before.major_faults);
    if (swapping(before))
        EXPECT(after.major_faults > before.major_faults, "four workers of the cap each, and no page came back from swap");
}

namespace {

u32 g_fork_pages;
u32* g_fork_array;

u32 word_for(u32 page, u32 who) { return page * 2654435761u ^ who; }

// Every page's first and last word hold word_for(page, who).
const char* check_pages(u32 who, const char* side) {
    for (u32 page = 0; page < g_fork_pages; ++page) {
        u32* words = g_fork_array + page * 1024;
        if (words[0] != word_for(page, who) || words[1023] != word_for(page, who))
            return child_fail("%s: page %u holds %#x, expected %#x", side, page, words[0], word_for(page, who));
    }
    return nullptr;
}

void fill_pages(u32 who) {
    for (u32 page = 0; page < g_fork_pages; ++page) {
        u32* words = g_fork_array + page * 1024;
        words[0] = words[1023] = word_for(page, who);
    }
}

const char* fork_body() {
    MnemeVmStat stat{};
    sys_mneme_vmstat(&stat);
    bool small_cap = stat.slots_total && stat.frame_cap <= kLargestTestCap;
    g_fork_pages = small_cap ? 2 * stat.frame_cap : 128;
    g_fork_array = static_cast<u32*>(malloc(g_fork_pages * 4096));
    if (!g_fork_array) return child_fail("malloc(%u pages) failed", g_fork_pages);
    fill_pages(1);
    MnemeProcInfo me = my_procinfo();
    if (small_cap && me.swapped_pages == 0)
        return child_fail("%u pages written with a cap of %u frames, and none is swapped out", g_fork_pages,
                          stat.frame_cap);
    int pid = fork();
    if (pid < 0) return child_fail("fork: %s", strerror(pid));
    if (pid == 0) {
        // The child sees the parent's pages (swapped-out ones included), then makes them its own.
        const char* problem = check_pages(1, "child, before writing");
        if (!problem) {
            fill_pages(2);
            problem = check_pages(2, "child, after writing");
        }
        if (problem) printf("  user.swap.fork: %s\n", problem);
        sys_exit(problem ? 1 : 0);
    }
    int status;
    if (!wait_with_timeout(pid, status, kSwapTimeoutMs)) return child_fail("the forked child did not end");
    if (!wait_exited(status) || wait_exit_status(status) != 0)
        return child_fail("the forked child ended with %s", describe(status));
    // The child's writes went to its own copies.
    return check_pages(1, "parent, after the child wrote");
}

}  // namespace

void test_swap_fork() { run_in_child(fork_body, kSwapTimeoutMs); }

}  // namespace usertests

namespace usertests {
namespace {

// Starts swapdemo with PAGES pages, PASSES passes and SEED, quietly. Returns the pid (negative: -errno).
int start_swapdemo(u32 pages, u32 passes, u32 seed) {
    char pages_text[12], passes_text[12], seed_text[12];
    snprintf(pages_text, sizeof(pages_text), "%u", pages);
    snprintf(passes_text, sizeof(passes_text), "%u", passes);
    snprintf(seed_text, sizeof(seed_text), "%u", seed);
    const char* argv[] = {"swapdemo", pages_text, passes_text, "--seed", seed_text, "--quiet", nullptr};
    return spawn("swapdemo", argv, nullptr);
}

int finish(int pid, const char* what) {
    int status = -1;
    if (pid < 0) {
        fail("starting the %s: %s", what, strerror(pid));
    } else if (!wait_with_timeout(pid, status, kSwapTimeoutMs)) {
        fail("the %s did not finish", what);
    }
    return status;
}

bool killed(int status) { return status >= 0 && wait_signaled(status); }

}  // namespace

// Swap space runs out: one process asks for more than memory and swap hold together while a small one works
// beside it. The kernel says so, ends the largest process (or refuses the page to the one asking), and the
// small one finishes with every page intact. It needs a swap area small enough to fill quickly: the swap
// tier boots with a 1 MiB disk for it (tools/run-tests.sh, scenario swap-exhausted).
void test_swap_exhausted() {
    MnemeVmStat stat = vmstat();
    if (!swapping(stat) || stat.slots_total > 2048) {
        printf("  user.swap.exhausted: skipped: needs swapping with a cap of at most %u frames and at most 2048 slots "
               "(this boot: %s, cap %u, %u slots)\n",
               kLargestTestCap, stat.mode, stat.frame_cap, stat.slots_total);
        return;
    }
    u32 hog_pages = stat.slots_total + 2 * stat.frame_cap;
    int hog = start_swapdemo(hog_pages, 1, 5);
    int worker = start_swapdemo(stat.frame_cap / 2, 4, 6);
    int worker_status = finish(worker, "small worker");
    int hog_status = finish(hog, "hog");
    MnemeVmStat after = vmstat();
    char hog_end[40];
    describe_status(hog_status, hog_end, sizeof(hog_end));
    printf("  user.swap.exhausted: hog of %u pages (%u slots, cap %u) ended with %s; the worker with %s; %u evictions "
           "refused for want of a slot\n",
           hog_pages, stat.slots_total, stat.frame_cap, hog_end, describe(worker_status),
           after.out_of_swap - stat.out_of_swap);
    EXPECT(killed(hog_status), "the hog, larger than memory and swap together, was not killed (%s)", describe(hog_status));
    EXPECT(wait_exited(worker_status) && wait_exit_status(worker_status) == 0,
           "the small worker beside it ended with %s", describe(worker_status));
    EXPECT(after.out_of_swap > stat.out_of_swap, "swap never ran out");
    expect_system_alive("swap ran out");
}

// A disk read fails on a swap-in (injected with QEMU's blkdebug in the swap-read-error scenario): the page is
// lost, so the process it belonged to is killed with a message, and only that one: the other worker and the
// system go on. Without an injected error both workers finish.
void test_swap_read_error() {
    MnemeVmStat before = vmstat();
    int big = start_swapdemo(pages_for(before, 3, 128), 2, 7);
    int small = start_swapdemo(pages_for(before, 1, 32) / 2, 3, 8);
    int big_status = finish(big, "large worker");
    int small_status = finish(small, "small worker");
    MnemeVmStat after = vmstat();
    u32 errors = after.read_errors - before.read_errors;
    char big_end[40];
    describe_status(big_status, big_end, sizeof(big_end));
    printf("  user.swap.read_error: %u read errors; the large worker ended with %s, the small one with %s\n", errors,
           big_end, describe(small_status));
    int clean = (wait_exited(big_status) && wait_exit_status(big_status) == 0) +
                (wait_exited(small_status) && wait_exit_status(small_status) == 0);
    if (errors == 0) {
        EXPECT(clean == 2, "no read failed, yet a worker did not finish cleanly");
    } else {
        // Each failed read loses one page of one process; with one injected error, exactly one worker dies, of
        // SIGSEGV, and none reports a corrupted page (exit 1).
        EXPECT(clean == 1 && (killed(big_status) || killed(small_status)),
               "after %u failed read, expected one worker killed and the other clean", errors);
    }
    expect_system_alive("a swap read error");
}

}  // namespace usertests
