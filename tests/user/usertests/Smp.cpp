// Smp.cpp: many processes on every CPU at once (docs/multicore.md, "What the tests check").
//
// user.smp_stress: four workers per CPU, started together. Each fills blocks from malloc with a pattern of
// its own, forks a child that checks the copy it inherited and then scribbles over it (copy-on-write must
// keep the parent's intact), waits for it, checks its own blocks again, frees them and faults in fresh
// pages of a growing array on the way. With several CPUs the workers and their children run in parallel
// and move between CPUs, so each page-table change must reach every CPU that may cache it. The whole round
// runs twice: after each, every worker is gone and the free frames and the kernel heap's bytes are read;
// the second round must end with the same figures as the first (nothing leaks per round), and both within
// the usual slack of the start.
#include "libc/rt/String.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "libc/user/Syscall.h"
#include "tests/user/usertests/Harness.h"
#include "tests/user/usertests/Tests.h"

namespace usertests {
namespace {

constexpr int kRounds = 6;    // malloc-fork-check rounds per worker
constexpr int kBlocks = 24;   // blocks per round
constexpr u32 kArrayPages = 48;

u32 pattern(u32 seed, u32 block, u32 word) { return (seed * 2654435761u) ^ (block * 40503u) ^ (word * 97u); }

bool check(u32** blocks, const u32* words, u32 seed) {
    for (int b = 0; b < kBlocks; ++b)
        for (u32 w = 0; w < words[b]; ++w)
            if (blocks[b][w] != pattern(seed, static_cast<u32>(b), w)) return false;
    return true;
}

// A worker's life; returns its exit status (0: every check held).
int work(u32 seed) {
    static char array[kArrayPages * 4096];  // bss: each page faults in on first touch
    u32* blocks[kBlocks];
    u32 words[kBlocks];
    for (int round = 0; round < kRounds; ++round) {
        for (int b = 0; b < kBlocks; ++b) {
            words[b] = 4 + (seed + static_cast<u32>(b) * 131 + static_cast<u32>(round) * 17) % 1500;
            blocks[b] = static_cast<u32*>(malloc(words[b] * sizeof(u32)));
            if (!blocks[b]) return 3;
            for (u32 w = 0; w < words[b]; ++w) blocks[b][w] = pattern(seed, static_cast<u32>(b), w);
        }
        int child = fork();
        if (child < 0) return 4;
        if (child == 0) {
            if (!check(blocks, words, seed)) sys_exit(1);
            for (int b = 0; b < kBlocks; ++b) memset(blocks[b], 0xEE, words[b] * sizeof(u32));
            sys_exit(0);
        }
        for (u32 page = 0; page < kArrayPages / kRounds; ++page)
            array[(static_cast<u32>(round) * (kArrayPages / kRounds) + page) * 4096] = static_cast<char>(seed);
        int status;
        if (sys_waitpid(child, &status, 0) != child || !wait_exited(status)) return 5;
        if (wait_exit_status(status) != 0) return 6;   // the child saw a wrong copy
        if (!check(blocks, words, seed)) return 2;      // the child's writes reached the parent
        for (int b = 0; b < kBlocks; ++b) free(blocks[b]);
    }
    for (u32 page = 0; page < kArrayPages; ++page)
        if (array[page * 4096] != static_cast<char>(seed) && page < (kArrayPages / kRounds) * kRounds) return 7;
    return 0;
}

struct Figures {
    u32 free_pages;  // free frames less swapped pages: a page is in one or the other
    u32 heap_bytes;
};

Figures figures() {
    reap_zombies();
    MnemeMemInfo m = meminfo();
    return {m.free_frames - m.swapped_pages, m.kernel_heap_bytes};
}

bool run_round(int workers, int round) {
    int pids[64];
    for (int i = 0; i < workers; ++i) {
        pids[i] = fork();
        if (pids[i] == 0) sys_exit(work(static_cast<u32>(round * 100 + i + 1)));
        if (pids[i] < 0) {
            fail("round %d: fork of worker %d: %s", round, i, strerror(pids[i]));
            return false;
        }
    }
    bool ok = true;
    for (int i = 0; i < workers; ++i) {
        int status;
        if (!wait_with_timeout(pids[i], status, 120000)) {
            fail("round %d: worker %d did not finish", round, i);
            ok = false;
        } else if (!wait_exited(status) || wait_exit_status(status) != 0) {
            fail("round %d: worker %d ended with %s (2: its blocks changed under it, 1 or 6: its child saw a wrong "
                 "copy, 7: a page of its array lost)",
                 round, i, describe(status));
            ok = false;
        }
    }
    return ok;
}

}  // namespace

void test_smp_stress() {
    MnemeVmStat vm{};
    sys_mneme_vmstat(&vm);
    u32 cpus = vm.cpus ? vm.cpus : 1;
    int workers = static_cast<int>(cpus * 4 < 32 ? cpus * 4 : 32);
    u32 shootdowns_before = vm.tlb_shootdowns;
    Figures start = figures();
    if (!run_round(workers, 1)) return;
    Figures first = figures();
    if (!run_round(workers, 2)) return;
    Figures second = figures();
    sys_mneme_vmstat(&vm);
    printf("  user.smp_stress: %d workers on %u CPU%s, twice; free pages %u -> %u -> %u, kernel heap %u -> %u -> %u "
           "bytes; %u TLB shootdowns\n",
           workers, cpus, cpus == 1 ? "" : "s", start.free_pages, first.free_pages, second.free_pages, start.heap_bytes, first.heap_bytes,
           second.heap_bytes, vm.tlb_shootdowns - shootdowns_before);
    EXPECT(second.free_pages == first.free_pages && second.heap_bytes == first.heap_bytes,
           "the second round ended with %u free pages and %u heap bytes, the first with %u and %u", second.free_pages,
           second.heap_bytes, first.free_pages, first.heap_bytes);
    EXPECT(first.free_pages + kSlackFrames >= start.free_pages, "%u free pages before, %u after the first round",
           start.free_pages, first.free_pages);
}

}  // namespace usertests
