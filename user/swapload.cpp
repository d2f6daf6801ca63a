// swapload.cpp: runs a seeded reference string on real pages, so the host can replay the very same string
// through every policy and OPT (build/host/mneme-replay generates it from the same mm/swap code) and
// compare the simulation with what the kernel did. `make swap-report` runs it in QEMU under each policy and
// several frame caps (tools/swap/report.sh).
//
//   swapload [WORKLOAD [PAGES [LENGTH [WRITES [SEED]]]]]   (default: 80-20 100 5000 25 1)
//
// Page i of the string is page i of an anonymous mapping; an access reads its first byte, a write (the
// string marks WRITES percent of them) writes it. It prints one line: the string, the kernel's swap mode and
// policy, the cap, the frames free under it when the string starts (`free`), the pages this process held
// before it (`own`), the frames the array holds at the end (`held`: what replacement left it, the number of
// frames to compare with a simulation), and the faults the string took: first touches (demand-zero) and
// major faults, which a simulation counts together as misses.
// help(program): swapload [WORKLOAD [PAGES [LENGTH [WRITES [SEED]]]]] | a seeded reference string on real pages
#include "libc/rt/String.h"
#include "libc/user/Malloc.h"
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "mm/swap/ReferenceString.h"

namespace {

MnemeProcInfo me() {
    MnemeProcInfo info{};
    for (u32 index = 0; sys_mneme_procinfo(index, &info) == 0; ++index)
        if (info.pid == sys_getpid()) return info;
    return MnemeProcInfo{};
}

int usage() {
    fprintf(stderr, "usage: swapload [scan|uniform|80-20|loop [PAGES [LENGTH [WRITES [SEED]]]]]\n"
                    "       (default 80-20 100 5000 25 1; PAGES up to 4096, LENGTH up to 100000)\n");
    return 64;
}

}  // namespace

int main(int argc, char** argv) {
    WorkloadSpec spec;
    spec.kind = Workload::HotSet;
    u32 length = 5000;
    if (argc > 1) {
        auto kind = parse_workload(argv[1]);
        if (kind.is_error()) return usage();
        spec.kind = kind.value();
    }
    if (argc > 6 || (argc > 2 && !parse_decimal(argv[2], 1, 4096, &spec.pages)) ||
        (argc > 3 && !parse_decimal(argv[3], 1, 100000, &length)) ||
        (argc > 4 && !parse_decimal(argv[4], 0, 100, &spec.write_percent)) ||
        (argc > 5 && !parse_decimal(argv[5], 0, 0xFFFFFFFF, &spec.seed)))
        return usage();
    spec.frames = spec.pages > 1 ? spec.pages - 1 : 1;  // the loop: `pages` pages in a cycle
    if (spec.pages == 0 || spec.pages > 4096 || length == 0 || length > 100000 || spec.write_percent > 100)
        return usage();

    // The string, then packed into two bytes an access (page and write bit), so it holds few pages itself.
    auto* full = static_cast<PageAccess*>(malloc(length * sizeof(PageAccess)));
    auto* packed = static_cast<u16*>(malloc(length * sizeof(u16)));
    if (!full || !packed) {
        fprintf(stderr, "swapload: no memory for a string of %u accesses\n", length);
        return 2;
    }
    generate_reference_string(spec, Span<PageAccess>(full, length));
    u32 pages = workload_pages(spec);
    for (u32 i = 0; i < length; ++i) packed[i] = static_cast<u16>(full[i].page << 1 | (full[i].write ? 1 : 0));
    free(full);
    malloc_trim(0);

    long mapped = sys_mmap2(nullptr, pages * 4096, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
    if (is_error_result(mapped)) {
        fprintf(stderr, "swapload: mmap of %u pages failed: %s\n", pages, strerror(static_cast<int>(mapped)));
        return 2;
    }
    volatile u8* array = reinterpret_cast<volatile u8*>(mapped);
    // Touch the string once, so its pages are in before the count starts.
    u32 sum = 0;
    for (u32 i = 0; i < length; i += 2048) sum += packed[i];

    MnemeVmStat stat{};
    sys_mneme_vmstat(&stat);
    stat.mode[sizeof(stat.mode) - 1] = stat.policy[sizeof(stat.policy) - 1] = '\0';
    u32 room = stat.frame_cap > stat.user_frames ? stat.frame_cap - stat.user_frames : 0;
    MnemeProcInfo before = me();
    for (u32 i = 0; i < length; ++i) {
        volatile u8* byte = array + (packed[i] >> 1) * 4096;
        if (packed[i] & 1)
            *byte = static_cast<u8>(i);
        else
            sum += *byte;
    }
    MnemeProcInfo after = me();
    // The frames the array holds at the end: what the replacement left it, once the pages nobody used
    // meanwhile (the shell's, init's, this program's start-up code) went first.
    u32 held = 0;
    for (u32 page = 0; page < pages; ++page)
        if (sys_mneme_frame_of(const_cast<u8*>(array + page * 4096)) >= 0) ++held;
    u32 own = before.resident_pages;
    u32 faults = after.page_faults - before.page_faults, major = after.major_faults - before.major_faults;
    printf("swapload: pid=%d %s pages=%u length=%u writes=%u seed=%u swap=%s policy=%s cap=%u free=%u own=%u held=%u "
           "faults=%u major=%u first=%u\n",
           sys_getpid(), workload_name(spec.kind), pages, length, spec.write_percent, spec.seed, stat.mode, stat.policy,
           stat.frame_cap, room, own, held, faults, major, faults - major);
    return sum == 0xFFFFFFFF ? 3 : 0;  // keeps the reads
}
