// malloc_fit_floor.cpp (benchmark): the floor of the fit policies -- their time when finding a block costs
// nothing -- beside the default allocator's and the indexed policies' on the same workloads.
//
//   build/bench/malloc_fit_floor [WORKLOAD...]
//
// For each workload (FitWorkloads.h) and fit policy: a run of the indexed policy records every block it
// chooses (libc/malloc/FitFloor.h); a run of the list version replays those choices without searching and
// with its free list unordered (a free inserts in O(1)). The replay makes the same decisions, so it writes
// the same headers, splits, coalesces and grows the heap alike; it leaves out only what a search structure
// does. So its time is a lower bound for every search mechanism over this heap layout, list, array or tree:
// where floor / default exceeds 2, "within 2x of the default" is out of reach of any of them, and the cost
// is in the boundary tags themselves (headers with check words, footers, splitting, coalescing), not in the
// search. Best of five rounds; each round runs the default, then each policy indexed and replayed in turn.
// Figures only: never a failure.
#include <cstdio>
#include <string>
#include <vector>

#include "libc/malloc/FitFloor.h"
#include "tests/bench/FitWorkloads.h"

namespace {

using namespace FitBench;
using Malloc::Policy;
namespace Floor = Malloc::FitFloor;

constexpr int kRounds = 5;
constexpr double kVsDefault = 2.0;  // the target of malloc_fit: indexed time / the default's

struct Recording {
    std::vector<intptr_t> offsets;
    size_t count = 0;
};

// Runs `policy` once with the probe in `mode` over `recording`; returns the figures of that one run.
Figures run_probed(const Workload& workload, Policy policy, Floor::Mode mode, Recording& recording) {
    Floor::script.mode = mode;
    Floor::script.offsets = recording.offsets.data();
    Floor::script.capacity = recording.offsets.size();
    Floor::script.next = 0;
    Figures figures;
    measure_once(workload, policy, figures);
    if (mode == Floor::Mode::Record) recording.count = Floor::script.next;
    if (mode == Floor::Mode::Replay && Floor::script.next != recording.count) {
        fprintf(stderr, "malloc_fit_floor: %s replayed %zu of %zu choices\n", workload.name, Floor::script.next,
                recording.count);
        exit(1);
    }
    Floor::script.mode = Floor::Mode::Off;
    return figures;
}

}  // namespace

int main(int argc, char** argv) {
    setvbuf(stdout, nullptr, _IOLBF, 0);
    constexpr Policy kIndexed[] = {Policy::First, Policy::Next, Policy::Best, Policy::Worst};
    printf(
        "The fit policies' floor: each indexed policy's choices replayed by its list version with no search\n"
        "and an unordered free list, so finding a block costs nothing (libc/malloc/FitFloor.h). No search\n"
        "structure can beat the floor on this heap layout. Best of %d rounds, seconds.\n\n",
        kRounds);
    printf("%-11s %-6s %8s %8s %8s %9s %9s  %s\n", "workload", "policy", "default", "indexed", "floor", "idx/def",
           "floor/def", "2x the default");
    int below_floor = 0, rows = 0;
    for (const Workload& workload : kWorkloads) {
        bool wanted = argc == 1;
        for (int i = 1; i < argc; ++i) wanted |= workload.name == std::string(argv[i]);
        if (!wanted) continue;
        Figures base, indexed[4], floor[4];
        Recording recordings[4];
        for (int round = 0; round < kRounds; ++round) {
            measure_once(workload, Malloc::kDefaultPolicy, base);
            for (int p = 0; p < 4; ++p) {
                Recording& recording = recordings[p];
                if (round == 0) {
                    recording.offsets.resize(4'000'000);
                    Figures recorded = run_probed(workload, kIndexed[p], Floor::Mode::Record, recording);
                    indexed[p].peak_heap = recorded.peak_heap;
                }
                Figures once;
                measure_once(workload, kIndexed[p], once);
                if (once.seconds < indexed[p].seconds) indexed[p].seconds = once.seconds;
                Figures replayed =
                    run_probed(workload, Malloc::list_version(kIndexed[p]), Floor::Mode::Replay, recording);
                if (replayed.seconds < floor[p].seconds) floor[p].seconds = replayed.seconds;
                floor[p].peak_heap = replayed.peak_heap;
            }
        }
        for (int p = 0; p < 4; ++p) {
            double vs_default = indexed[p].seconds / base.seconds, floor_vs_default = floor[p].seconds / base.seconds;
            const char* verdict = floor_vs_default > kVsDefault ? "below the floor: no search can meet it"
                                  : vs_default <= kVsDefault    ? "met"
                                                                : "within reach: the search is the gap";
            if (floor_vs_default > kVsDefault) ++below_floor;
            ++rows;
            printf("%-11s %-6s %8.4f %8.4f %8.4f %8.2fx %8.2fx  %s%s\n", p == 0 ? workload.name : "",
                   Malloc::policy_name(kIndexed[p]), base.seconds, indexed[p].seconds, floor[p].seconds, vs_default,
                   floor_vs_default, verdict,
                   floor[p].peak_heap == indexed[p].peak_heap ? "" : "  (peak heap DIFFERS)");
        }
    }
    printf("\n%d of %d policy-workload pairs have their floor above 2x the default.\n", below_floor, rows);
    return 0;
}
