// malloc_fit.cpp (benchmark): the fit policies' list and indexed versions, side by side, on the same calls.
//
//   build/bench/malloc_fit [WORKLOAD...]
//
// Each workload runs in this process on a fresh Malloc::Heap over a memory source of its own (no LD_PRELOAD:
// the figures are the allocator's, not the program's), under the default policy and under first, next,
// best and worst fit, indexed and over the list; best of five rounds, each running every policy in turn,
// so the load of a busy machine falls on all of them alike (a run over a second is not repeated). Each row
// gives the indexed policy's time against its list version's and the default's, each with its verdict,
// and beside them the peak heap (the break's high-water mark) and the fragmentation (peak heap / peak live
// bytes - 1), which must be the same for both versions of a policy since they place every block alike (the
// equality tests check it call by call). The targets (figures only: never a failure):
//
//   every indexed policy within 2x of the default's time on every workload
//   no indexed policy more than 10% slower than its list version on a small heap (a few hundred blocks)
//   peak heap and fragmentation identical to the list version's
//
// The workloads (the same calls for every policy) are in FitWorkloads.h; malloc_fit_floor.cpp measures
// what the policies would cost if finding a block were free.
#include <cstdio>
#include <string>
#include <vector>

#include "tests/bench/FitWorkloads.h"

namespace {

using namespace FitBench;
using Malloc::Policy;

double fragmentation(const Figures& figures) {
    return figures.peak_live ? 100.0 * (double(figures.peak_heap) / double(figures.peak_live) - 1) : 0;
}

constexpr int kRounds = 5;
constexpr double kVsDefault = 2.0;  // indexed time / the default's, every workload
constexpr double kVsList = 1.1;     // indexed time / the list version's, small heaps

void target(const char* what, double value, double limit) {
    printf("  %-54s %6.2f x  (target <= %g x) %s\n", what, value, limit, value <= limit ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
    setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it is measured: the list versions take a while
    std::vector<const Workload*> chosen;
    for (const Workload& workload : kWorkloads) {
        bool wanted = argc == 1;
        for (int i = 1; i < argc; ++i) wanted |= workload.name == std::string(argv[i]);
        if (wanted) chosen.push_back(&workload);
    }
    constexpr Policy kIndexed[] = {Policy::First, Policy::Next, Policy::Best, Policy::Worst};
    double worst_vs_default[4] = {}, worst_vs_list_small[4] = {};
    const char* worst_workload[4] = {};
    bool identical[4] = {true, true, true, true};
    printf("Fit policies, indexed and list, in-process: best of %d rounds, seconds (one round for a run over a\n"
           "second); in a round the default, each indexed policy and its list version run in turn, so load on\n"
           "the machine falls on all of them alike. Peak heap: the break's high-water mark, KiB (what the fit\n"
           "heap can have resident); frag: peak heap / peak live bytes - 1.\n\n",
           kRounds);
    printf("%-11s %-6s %8s %8s %8s %7s %-7s %8s %-6s %9s %9s %7s %7s\n", "workload", "policy", "indexed", "list",
           "default", "/list", "", "/default", "", "heap idx", "heap list", "frag i.", "frag l.");
    for (const Workload* workload : chosen) {
        Figures base, indexed[4], list[4];
        for (int round = 0; round < kRounds; ++round) {
            // Runs over a second are not repeated (the list versions on the larger heaps).
            if (round == 0 || base.seconds < 1.0) measure_once(*workload, Malloc::kDefaultPolicy, base);
            for (int p = 0; p < 4; ++p) {
                if (round == 0 || indexed[p].seconds < 1.0) measure_once(*workload, kIndexed[p], indexed[p]);
                if (round == 0 || list[p].seconds < 1.0)
                    measure_once(*workload, Malloc::list_version(kIndexed[p]), list[p]);
            }
        }
        for (int p = 0; p < 4; ++p) {
            double vs_list = indexed[p].seconds / list[p].seconds, vs_default = indexed[p].seconds / base.seconds;
            if (vs_default > worst_vs_default[p]) {
                worst_vs_default[p] = vs_default;
                worst_workload[p] = workload->name;
            }
            if (workload->small_heap && vs_list > worst_vs_list_small[p]) worst_vs_list_small[p] = vs_list;
            bool same = indexed[p].peak_heap == list[p].peak_heap && indexed[p].peak_live == list[p].peak_live;
            if (!same) identical[p] = false;
            printf("%-11s %-6s %8.4f %8.4f %8.4f %6.2fx %-7s %7.2fx %-6s %9zu %9zu %6.1f%% %6.1f%%%s\n",
                   p == 0 ? workload->name : "", Malloc::policy_name(kIndexed[p]), indexed[p].seconds,
                   list[p].seconds, base.seconds, vs_list,
                   workload->small_heap ? (vs_list <= kVsList ? "met" : "MISSED") : "", vs_default,
                   vs_default <= kVsDefault ? "met" : "MISSED", indexed[p].peak_heap / 1024, list[p].peak_heap / 1024,
                   fragmentation(indexed[p]), fragmentation(list[p]), same ? "" : "  DIFFER");
        }
    }
    printf("\nmalloc fit targets (indexed policies):\n");
    for (int p = 0; p < 4; ++p) {
        if (!worst_workload[p]) break;
        char what[96];
        snprintf(what, sizeof what, "%s: time / default, worst workload (%s)", Malloc::policy_name(kIndexed[p]),
                 worst_workload[p]);
        target(what, worst_vs_default[p], kVsDefault);
        if (worst_vs_list_small[p] > 0) {
            snprintf(what, sizeof what, "%s: time / %s, small heap", Malloc::policy_name(kIndexed[p]),
                     Malloc::policy_name(Malloc::list_version(kIndexed[p])));
            target(what, worst_vs_list_small[p], kVsList);
        }
        printf("  %-54s %s\n",
               (std::string(Malloc::policy_name(kIndexed[p])) + ": peak heap and fragmentation = list version").c_str(),
               identical[p] ? "identical  met" : "differ  MISSED");
    }
    return 0;
}
