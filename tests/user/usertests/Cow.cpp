// Cow.cpp: copy-on-write after fork, seen through the frame numbers mneme_frame_of reports.
#include "libc/base/Error.h"
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"

namespace usertests {
namespace {

constexpr int kCowPages = 4;
alignas(4096) char g_cow_pages[kCowPages][4096];

// What the child found, as bits of its exit status.
enum CowProblem : int {
    kNotShared = 1,          // a page had another frame right after fork
    kWriteNotCopied = 2,     // its write kept the shared frame
    kOwnWriteLost = 4,       // it did not read back its own write
    kSawParentWrite = 8,     // the parent's write showed through
    kFrameMoved = 16,        // the parent's write moved the child's frame
    kNoSharedPages = 32,     // mneme_procinfo counted fewer than 2 shared pages
    kParentNeverWaited = 64  // the parent never blocked in waitpid, so its write was not known to be done
};

// Pages written to the swap disk since boot, by every process. A frame number means something only while no
// page moved: a page swapped out and read back lands in whatever frame is free (the swap scenarios run this
// test with 64 user frames, where the suite's own pages are evicted under it). So the frame checks hold
// while this count stands still, and only the contents are checked once it has moved.
u32 pages_out() {
    MnemeVmStat vm{};
    sys_mneme_vmstat(&vm);
    return vm.pages_out;
}

}  // namespace

// Page 0: written by the child. Page 1: written by the parent while the child lives. Pages 2, 3: nobody.
// Whoever writes a shared page gets a new frame; a page nobody wrote keeps the frame it had before fork.
//
// The child checks page 1 only once the parent has written it. The parent writes, then blocks in waitpid;
// the child waits until mneme_procinfo shows its parent in that state (wait_until_parent_waits). No sleep
// decides the order, so the test means the same however the scheduler interleaves the two.
void test_cow() {
    for (int i = 0; i < kCowPages; ++i) snprintf(g_cow_pages[i], 64, "original %d", i);
    u32 out_before = pages_out();
    long before[kCowPages];
    for (int i = 0; i < kCowPages; ++i) before[i] = sys_mneme_frame_of(g_cow_pages[i]);
    for (int i = 0; i < kCowPages; ++i)
        if (is_error_result(before[i])) return fail("mneme_frame_of(%p) = %ld", g_cow_pages[i], before[i]);

    int pid = fork();
    if (pid == 0) {
        int code = 0;
        for (int i = 0; i < kCowPages; ++i)  // page 1 is checked below, once the parent has written it
            if (i != 1 && sys_mneme_frame_of(g_cow_pages[i]) != before[i] && pages_out() == out_before)
                code |= kNotShared;
        strcpy(g_cow_pages[0], "child");
        if (sys_mneme_frame_of(g_cow_pages[0]) == before[0] && pages_out() == out_before) code |= kWriteNotCopied;
        if (strcmp(g_cow_pages[0], "child") != 0) code |= kOwnWriteLost;
        if (!wait_until_parent_waits()) code |= kParentNeverWaited;
        if (strcmp(g_cow_pages[1], "original 1") != 0) code |= kSawParentWrite;
        bool frames_stood = pages_out() == out_before;
        if (sys_mneme_frame_of(g_cow_pages[1]) != before[1] && frames_stood) code |= kFrameMoved;
        if (sys_mneme_frame_of(g_cow_pages[2]) != before[2] && frames_stood) code |= kNotShared;
        if (my_procinfo().shared_pages < 2) code |= kNoSharedPages;  // pages 2 and 3 at least
        sys_exit(code);
    }
    if (pid < 0) return fail("fork: %s", strerror(pid));
    strcpy(g_cow_pages[1], "parent");
    long parent_page1 = sys_mneme_frame_of(g_cow_pages[1]);
    EXPECT(parent_page1 != before[1] || pages_out() != out_before, "the parent's write to a shared page kept frame %#lx",
           parent_page1);
    // Blocking, not wait_with_timeout (which sleeps between polls): this state is the child's signal. The
    // child's own wait is bounded, so this cannot hang.
    int status;
    if (wait_for(pid, &status) != pid) return fail("waitpid for the child failed");
    int code = wait_exited(status) ? wait_exit_status(status) : -1;
    EXPECT(code == 0, "child: %s%s%s%s%s%s%s(%s)", code & kNotShared ? "pages not shared after fork; " : "",
           code & kWriteNotCopied ? "its write did not get a new frame; " : "",
           code & kOwnWriteLost ? "it did not see its own write; " : "",
           code & kSawParentWrite ? "it saw the parent's write; " : "",
           code & kFrameMoved ? "the parent's write moved its frame; " : "",
           code & kNoSharedPages ? "procinfo shows no shared pages; " : "",
           code & kParentNeverWaited ? "it never saw the parent waiting; " : "", describe(status));
    EXPECT(strcmp(g_cow_pages[0], "original 0") == 0, "the parent sees \"%s\" in the page the child wrote",
           g_cow_pages[0]);
    EXPECT(strcmp(g_cow_pages[1], "parent") == 0, "the parent lost its own write");
    EXPECT(strcmp(g_cow_pages[3], "original 3") == 0, "an untouched page reads \"%s\"", g_cow_pages[3]);
    if (pages_out() != out_before) {
        printf("  user.cow: %u pages went to the swap disk meanwhile: frames not compared, contents checked\n",
               pages_out() - out_before);
        return;
    }
    EXPECT(sys_mneme_frame_of(g_cow_pages[0]) == before[0], "the child's write moved the parent's frame");
    EXPECT(sys_mneme_frame_of(g_cow_pages[3]) == before[3], "an untouched page changed frame");
}

}  // namespace usertests
