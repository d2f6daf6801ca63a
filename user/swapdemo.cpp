// swapdemo.cpp: walks an array larger than the memory it may keep, writing a checksum into every page and
// checking every page on each later pass, and prints what the kernel did meanwhile: faults, pages read back
// from swap (major faults), pages written out, evictions.
//
//   swapdemo [PAGES [PASSES]] [--seed N] [--quiet]
//     PAGES   the array's size in 4 KiB pages (default: three times the user frames the kernel allows, from
//             mneme_vmstat, when that cap is at most 1024 frames; 256 otherwise)
//     PASSES  how many times it walks the array (default 3)
//     --seed  a different seed gives every page different contents (four workers at once use four seeds)
//
// Page i holds, in each of its 1024 words, a value derived from (seed, i, pass, word); a pass first checks
// what the previous pass wrote, then writes its own. A page that comes back from the disk with other
// contents is counted as corrupted and named. Exit status: 0 when no page was corrupted, 1 when any was, 2
// when the array could not be allocated. The in-kernel user suite runs it as its swap integrity test
// (tests/user/usertests/Swap.cpp); docs/swapping.md shows a run.
// help(program): swapdemo [PAGES [PASSES]] [--seed N] | walks an array larger than memory: faults, swap in/out
#include "libc/rt/String.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace {

constexpr u32 kWordsPerPage = 4096 / sizeof(u32);
// Above this cap the default array (three times the cap) would take minutes to walk through the disk.
constexpr u32 kLargestDefaultCap = 1024;

// A word's expected value: a cheap hash of where it is and when it was written (pass 0 is "never").
u32 expected(u32 seed, u32 page, u32 pass, u32 word) {
    u32 x = seed * 0x9E3779B1u ^ page * 0x85EBCA77u ^ pass * 0xC2B2AE3Du ^ word * 0x27D4EB2Fu;
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 12;
    return x;
}

MnemeVmStat vmstat() {
    MnemeVmStat stat{};
    sys_mneme_vmstat(&stat);
    return stat;
}

}  // namespace

int main(int argc, char** argv) {
    u32 pages = 0, passes = 3, seed = 1;
    bool quiet = false;
    int numbers = 0;
    bool usable = true;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            usable &= parse_decimal(argv[++i], 0, 0xFFFFFFFF, &seed);
        else if (numbers++ == 0)
            usable &= parse_decimal(argv[i], 1, 256 * 1024, &pages);
        else
            usable &= numbers == 2 && parse_decimal(argv[i], 1, 1000000, &passes);
    }
    if (!usable) {
        fprintf(stderr, "usage: swapdemo [PAGES [PASSES]] [--seed N] [--quiet]   (PAGES 1 to 262144)\n");
        return 64;
    }
    MnemeVmStat start = vmstat();
    start.mode[sizeof(start.mode) - 1] = '\0';
    start.policy[sizeof(start.policy) - 1] = '\0';
    // Three times the cap, when that is quick to walk (boot with userframes=64 to see it); otherwise 1 MiB.
    bool small_cap = start.slots_total && start.frame_cap <= kLargestDefaultCap;
    if (pages == 0) pages = small_cap ? 3 * start.frame_cap : 256;
    if (!quiet && !small_cap && pages <= start.frame_cap)
        printf("swapdemo: memory holds all %u pages, so nothing will be swapped; boot with swap=page userframes=64 "
               "(and a disk) to see pages go to the disk and back\n",
               pages);
    if (passes == 0 || pages > 256 * 1024) {
        fprintf(stderr, "usage: swapdemo [PAGES [PASSES]] [--seed N] [--quiet]  (PAGES up to 262144, PASSES > 0)\n");
        return 64;
    }
    u32* array = static_cast<u32*>(malloc(static_cast<size_t>(pages) * 4096));
    if (!array) {
        fprintf(stderr, "swapdemo: no memory for %u pages (%u KiB)\n", pages, pages * 4);
        return 2;
    }
    if (!quiet) {
        printf("swapdemo: %u pages (%u KiB), %u passes; swapping %s", pages, pages * 4, passes, start.mode);
        if (start.slots_total)
            printf(", policy %s, user frames capped at %u (%u%% of the array fits)", start.policy, start.frame_cap,
                   start.frame_cap >= pages ? 100 : start.frame_cap * 100 / pages);
        printf("\n  pass  corrupted  my faults  major  pages out  evictions  swapped now\n");
    }
    u32 corrupted = 0;
    MnemeProcInfo before = {};
    for (u32 index = 0; sys_mneme_procinfo(index, &before) == 0; ++index)
        if (before.pid == sys_getpid()) break;
    for (u32 pass = 1; pass <= passes; ++pass) {
        MnemeVmStat at_start = vmstat();
        u32 bad_this_pass = 0;
        for (u32 page = 0; page < pages; ++page) {
            u32* words = array + page * kWordsPerPage;
            for (u32 word = 0; word < kWordsPerPage; ++word) {
                // malloc's large blocks are fresh mappings: pass 1 finds zeros.
                u32 want = pass == 1 ? 0 : expected(seed, page, pass - 1, word);
                if (words[word] != want) {
                    if (bad_this_pass < 4)
                        fprintf(stderr, "swapdemo: page %u word %u is %#x, expected %#x (pass %u)\n", page, word,
                                words[word], want, pass);
                    ++bad_this_pass;
                    break;  // one line per bad page
                }
            }
            for (u32 word = 0; word < kWordsPerPage; ++word) words[word] = expected(seed, page, pass, word);
        }
        corrupted += bad_this_pass;
        MnemeVmStat now = vmstat();
        MnemeProcInfo me = {};
        for (u32 index = 0; sys_mneme_procinfo(index, &me) == 0; ++index)
            if (me.pid == sys_getpid()) break;
        if (!quiet)
            printf("  %4u  %9u  %9u  %5u  %9u  %9u  %11u\n", pass, bad_this_pass, me.page_faults - before.page_faults,
                   me.major_faults - before.major_faults, now.pages_out - at_start.pages_out,
                   now.evictions - at_start.evictions, me.swapped_pages);
        before = me;
    }
    free(array);
    if (!quiet || corrupted)
        printf("swapdemo: %u pages x %u passes, %u corrupted pages%s\n", pages, passes, corrupted,
               corrupted ? "" : ": every page came back as written");
    return corrupted ? 1 : 0;
}
