// MedianReporter.h: a Google Benchmark console reporter that keeps each benchmark's CPU time per iteration,
// so a benchmark binary can print its target ratios after the runs (make bench).
//
// Run with --benchmark_repetitions=N (N > 1), it shows two lines per benchmark, the median and the minimum
// over the repetitions, and hides the single repetitions and the other aggregates. The targets use the
// minimum: on a shared 2-vCPU VM the same loop measures at two levels (for example 4.5 ns and 7 ns)
// depending on what the neighbours do, and noise only ever adds time, so the fastest of several repetitions
// is the steadiest estimate of what the code costs. The median is printed next to it so the spread stays
// visible.
#pragma once

#include <benchmark/benchmark.h>
#include <stdio.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

class MedianReporter : public benchmark::ConsoleReporter {
public:
    // Colour only on a terminal, so `make bench` logs stay plain text.
    MedianReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        std::vector<Run> shown;
        for (const Run& run : runs) {
            if (run.error_occurred) {
                shown.push_back(run);
                continue;
            }
            std::string name = run.run_name.str();
            if (run.run_type == Run::RT_Iteration) {
                double time = run.GetAdjustedCPUTime();
                auto best = m_best.find(name);
                if (best == m_best.end() || time < best->second.GetAdjustedCPUTime()) m_best[name] = run;
                if (run.repetitions <= 1) shown.push_back(run);
            } else if (run.aggregate_name == "median") {
                shown.push_back(run);
                auto best = m_best.find(name);
                if (best != m_best.end()) {
                    Run minimum = best->second;
                    minimum.run_type = Run::RT_Aggregate;
                    minimum.aggregate_name = "min";
                    shown.push_back(minimum);
                }
            }
        }
        if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
    }

    // The fastest repetition's time of the named benchmark, or 0 when it did not run (filtered out).
    double time(const std::string& name) const {
        auto it = m_best.find(name);
        return it == m_best.end() ? 0.0 : it->second.GetAdjustedCPUTime();
    }

private:
    std::map<std::string, Run> m_best;
};

// One line of a targets summary: "what  value unit  (target <= limit unit) met|MISSED"; skipped when value is
// 0 (the benchmark was filtered out).
inline void print_target(const char* what, double value, double limit, const char* unit) {
    if (value <= 0) return;
    printf("  %-44s %7.2f %-2s (target <= %g %s) %s\n", what, value, unit, limit, unit,
           value <= limit ? "met" : "MISSED");
}
