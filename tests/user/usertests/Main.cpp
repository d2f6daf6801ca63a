// usertests: the user-level test suite, a program like any other in /bin (xv6 has one by the same name).
//
//   usertests [NAMES]          run the tests NAMES selects (all without it): one line per test, "ok   user.NAME"
//                              or "FAIL user.NAME: reason", then "user: N passed, M failed". Exit status: the
//                              number of failed tests (at most 125), so 0 when all passed
//   usertests --count [NAMES]  run nothing; the exit status is how many tests NAMES selects (at most 255)
//
// NAMES is a comma-separated list of name prefixes, "user." optional: `cow,user.hostile` runs user.cow and
// every user.hostile.*; `user` runs everything. init runs this program when the kernel command line asks for
// tests (test=all, test=user, test=user.cow): first with --count, then for real, and turns the two statuses
// into the passed and failed counts it reports to the kernel (mneme_test_exit). From the shell it runs like
// any program, and orphans it makes go to init as they would from anywhere.
//
// Each test needs real processes: fork/exec/wait, exit statuses, copy-on-write (frame numbers from
// mneme_frame_of), brk and mmap growth and release (free frames from mneme_meminfo), argv and environment
// passing, every hostile program (the signal that killed it, then a check that the system still runs),
// 8 compute processes at once, malloctest under every policy, and at the end that no physical frame leaked.
//
// To add a test: write `void test_NAME()` in the file of its topic (Tests.h lists them), declare it in
// Tests.h, and add a run_test line below, before no_frame_leak.
// help(test): usertests [NAMES] | the user-level test suite (boot with test=user to run it as `make test` does)
#include "libc/rt/String.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"

// user/user.ld: where the program's pages begin and end.
extern "C" char __executable_start[], __data_start[], _end[];

namespace usertests {
namespace {

constexpr int kInitPid = 1;

struct Baseline {
    MnemeMemInfo memory;
    u32 init_pages;  // init's resident pages: init may touch new pages while it reaps orphans for us
};

Baseline g_baseline;

u32 init_pages() {
    MnemeProcInfo init;
    return find_process(kInitPid, init) ? init.resident_pages : 0;
}

void test_no_frame_leak() {
    reap_zombies();
    MnemeMemInfo now = meminfo();
    // A page lives in a frame or, swapped out, in a slot: free frames less swapped pages counts both.
    u32 free_before = g_baseline.memory.free_frames - g_baseline.memory.swapped_pages;
    u32 free_now = now.free_frames - now.swapped_pages;
    int lost = static_cast<int>(free_before) - static_cast<int>(free_now);
    // The kernel heap's slab caches may keep a few more pages than at the start (a cache grown by a test
    // keeps its empty slab); those are not leaked, and they are visible in kernel_heap_bytes. Neither are
    // pages init touched for the first time (printing about an orphan it reaped, say).
    int heap_growth =
        (static_cast<int>(now.kernel_heap_bytes) - static_cast<int>(g_baseline.memory.kernel_heap_bytes) + 4095) / 4096;
    int init_growth = static_cast<int>(init_pages()) - static_cast<int>(g_baseline.init_pages);
    int allowed = (heap_growth > 0 ? heap_growth : 0) + (init_growth > 0 ? init_growth : 0);
    printf(
        "  user.no_frame_leak: %u pages free before the tests, %u after (free frames less swapped pages); kernel "
        "heap %u -> %u bytes; init %+d pages; %u processes\n",
        free_before, free_now, g_baseline.memory.kernel_heap_bytes, now.kernel_heap_bytes,
        init_growth, now.process_count);
    EXPECT(now.process_count == g_baseline.memory.process_count, "%u processes before, %u after",
           g_baseline.memory.process_count, now.process_count);
    EXPECT(lost <= allowed, "%d frames lost (the kernel heap grew by %d pages, init by %d)", lost, heap_growth,
           init_growth);
}

// Pages this program will touch during the tests are touched before the baseline, so only leaks change the
// count: the program is demand-paged, so a page of code, constants or data first used by a late test would
// otherwise take its frame after the baseline. Every page is read; data and bss pages are also written
// (a write is what gives a process its own copy of a data page), and 64 KiB of stack are touched. Only
// no_frame_leak compares with the baseline: a selection without it leaves the program demand-paged, so a
// small machine keeps its frames for the tests that run (malloctest at 8 MiB needs nearly all of them).
void prepare_baseline() {
    if (!is_selected("no_frame_leak")) return;
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
    g_baseline.memory = meminfo();
    g_baseline.init_pages = init_pages();
}

// The suite, in order. A name is the test's name without "user.".
void run_all() {
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
    run_test("mprotect", test_mprotect);
    run_test("stack_growth", test_stack_growth);
    run_hostile_tests();
    if (segments_have_an_arena()) {
        run_test("segments.hello", test_segments_hello);
        run_test("segments.static_scribbles", test_segments_static_scribbles);
        run_test("segments.bounds_protect", test_segments_bounds_protect);
        run_test("segments.limits", test_segments_limits);
        run_test("segments.move", test_segments_move);
        run_test("segments.compaction", test_segments_compaction);
        run_test("segments.shared_code", test_segments_shared_code);
        run_test("segments.code_write", test_segments_code_write);
        run_test("segments.roll_out", test_segments_roll_out);
        run_test("segments.arena_free", test_segments_arena_free);
    } else {
        printf("  user.segments: this boot has no arena (arena=0, or under 12 MiB of memory by default), so the "
               "older models' tests cannot run; checking that each model is refused instead\n");
        run_test("segments.no_arena", test_segments_no_arena);
    }
    run_test("compute_parallel", test_compute_parallel);
    run_test("smp_stress", test_smp_stress);
    run_test("big_write_keeps_the_clock", test_big_write_keeps_the_clock);
    run_test("swap.integrity", test_swap_integrity);
    run_test("swap.four_at_once", test_swap_four_at_once);
    run_test("swap.fork", test_swap_fork);
    run_test("swap.exhausted", test_swap_exhausted);
    run_test("swap.read_error", test_swap_read_error);
    run_malloctest_tests();
    run_test("malloc_misuse", test_malloc_misuse);
    run_test("no_frame_leak", test_no_frame_leak);  // last: it compares with the state before the first
}

}  // namespace
}  // namespace usertests

int main(int argc, char** argv) {
    using namespace usertests;
    bool counting = false;
    const char* names = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--count") == 0)
            counting = true;
        else
            names = argv[i];
    }
    select_tests(names);
    set_counting(counting);
    if (counting) {
        run_all();
        return tests_selected() < 255 ? static_cast<int>(tests_selected()) : 255;
    }
    printf("user: running the user-level tests%s%s\n", names ? " matching " : "", names ? names : "");
    prepare_baseline();
    run_all();
    printf("user: %u passed, %u failed\n", tests_passed(), tests_failed());
    return tests_failed() < 125 ? static_cast<int>(tests_failed()) : 125;
}
