// vmstat.cpp: faults and swapping since boot (mneme_vmstat), once as a table or as a line every interval.
//
//   vmstat              the counters since boot, the swap area and the user frames
//   vmstat MS [COUNT]   a line of changes every MS milliseconds (COUNT lines, default 10): run a program in
//                       the background (`swapdemo &`) and watch it fault and evict
//
// docs/swapping.md explains each counter and where in the kernel it is counted.
// help(program): vmstat [MS [COUNT]] | page faults, major faults, pages swapped in and out, evictions, slots
#include "libc/user/Process.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"

namespace {

bool read_counters(MnemeVmStat& stat) {
    int result = sys_mneme_vmstat(&stat);
    if (result != 0) {
        fprintf(stderr, "vmstat: mneme_vmstat: %s\n", strerror(result));
        return false;
    }
    stat.mode[sizeof(stat.mode) - 1] = '\0';
    stat.policy[sizeof(stat.policy) - 1] = '\0';
    return true;
}

void print_table(const MnemeVmStat& s) {
    printf("swapping: %s", s.mode);
    if (s.slots_total)
        printf(", policy %s; user frames %u of a cap of %u\n", s.policy, s.user_frames, s.frame_cap);
    else
        printf(" (boot with swap=page and a disk on ide0 to swap)\n");
    printf("  page faults       %8u  (demand-zero, copy-on-write and major, all processes since boot)\n",
           s.page_faults);
    printf("  major faults      %8u  (pages read back from swap)\n", s.major_faults);
    printf("  pages out         %8u  (pages written to a slot)\n", s.pages_out);
    printf("  evictions         %8u  (%u clean: no write needed; %u shared copy-on-write)\n", s.evictions,
           s.clean_evictions, s.shared_evictions);
    printf("  swapped pages     %8u  (only on the disk now)\n", s.swapped_pages);
    if (s.slots_total)
        printf("  slots             %8u  of %u in use (%u KiB), %u bad\n", s.slots_used, s.slots_total,
               s.slots_used * 4, s.slots_bad);
    printf("  disk errors       %8u  reads, %u writes; evictions refused for want of a slot: %u\n", s.read_errors,
           s.write_errors, s.out_of_swap);
    if (s.roll_outs || s.roll_ins)
        printf("  whole processes   %8u  rolled out, %u rolled in\n", s.roll_outs, s.roll_ins);
    printf("  TLB flushes       %8u  (entries changed, flushed on the CPU changing them)\n", s.tlb_flushes);
    if (s.cpus > 1)
        printf("  TLB shootdowns    %8u  (changes another of the %u CPUs had to flush; %u IPIs)\n", s.tlb_shootdowns,
               s.cpus, s.tlb_ipis);
}

}  // namespace

int main(int argc, char** argv) {
    MnemeVmStat before{};
    if (!read_counters(before)) return 1;
    if (argc < 2) {
        print_table(before);
        return 0;
    }
    u32 interval = 0, count = 10;
    if (argc > 3 || !parse_decimal(argv[1], 1, 3600000, &interval) ||
        (argc > 2 && !parse_decimal(argv[2], 1, 1000000, &count))) {
        fprintf(stderr, "usage: vmstat [MS [COUNT]]  (MS and COUNT are positive numbers)\n");
        return 64;
    }
    printf("  faults   major     out  evicted  swapped  frames  (changes every %u ms; swapped and frames: now)\n",
           interval);
    for (u32 line = 0; line < count; ++line) {
        sleep_ms(interval);
        MnemeVmStat now{};
        if (!read_counters(now)) return 1;
        printf("%8u %7u %7u %8u %8u %7u\n", now.page_faults - before.page_faults,
               now.major_faults - before.major_faults, now.pages_out - before.pages_out,
               now.evictions - before.evictions, now.swapped_pages, now.user_frames);
        before = now;
    }
    return 0;
}
