// replay.cpp: mneme-replay, the page replacement policies of mm/swap run on a reference string, on the host.
//
//   mneme-replay [--policy NAME|all] [--frames N|FIRST-LAST] [--tick K] [--seed S] [--summary] [--bits]
//                (STRING | --workload scan|uniform|80-20|loop [--pages N] [--length L] [--writes PERCENT])
//
// One policy and one frame count: every access (hit or miss, the victim, the frames afterwards), then a last
// line with the hits and misses. --policy all: every policy and Belady's OPT side by side. A range of frame
// counts (--frames 1-16): a table of faults per frame count. See docs/swapping.md, "Trying it on the host".
//
// Runs the very sources the kernel compiles (mm/swap), in the Simulator: A is set on every access, D on
// every write, and tick() is called every K accesses (Simulator.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "mm/swap/Policies.h"
#include "mm/swap/ReferenceString.h"
#include "mm/swap/Simulator.h"

namespace {

const char kUsage[] =
    "usage: mneme-replay [--policy NAME|all] [--frames N|FIRST-LAST] [--tick K] [--seed S] [--summary] [--bits]\n"
    "                    (STRING | --workload scan|uniform|80-20|loop [--pages N] [--length L] [--writes PERCENT])\n"
    "\n"
    "  STRING         pages separated by commas, 'w' after a page for a write: 1,2,3w,4,1,2\n"
    "  --policy       fifo, clock, eclock, aging, lru, random, opt, or all (the default)\n"
    "  --frames       memory size in page frames (default 3), or a range for a table of faults\n"
    "  --tick         aging's sampling period: a tick every K accesses (default 4; 0 never)\n"
    "  --seed         seeds the workload and the random policy (default 1)\n"
    "  --summary      totals only, not every access\n"
    "  --bits         one policy: show each frame as page/AD, its accessed and dirty bits after the access\n"
    "  --workload     a generated string instead: scan (pages 0..N-1 in a cycle), uniform, 80-20 (80% of the\n"
    "                 accesses to 20% of the pages), loop (frames + 1 pages in a cycle)\n"
    "  --pages        distinct pages of the workload (default 100; scan: twice the frames)\n"
    "  --length       accesses of the workload (default 1000)\n"
    "  --writes       percent of the workload's accesses that write (default 25)\n";

constexpr u32 kMaxFrames = 4096;
constexpr u32 kMaxLength = 10000000;

[[noreturn]] void usage_error(const std::string& problem) {
    fprintf(stderr, "mneme-replay: %s\n\n%s", problem.c_str(), kUsage);
    exit(2);
}

bool parse_number(const char* text, u32 limit, u32& value) {
    if (*text < '0' || *text > '9') return false;
    char* end;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (*end != '\0' || parsed > limit) return false;
    value = static_cast<u32>(parsed);
    return true;
}

struct Options {
    std::vector<std::string> policies;
    u32 first_frames = 3;
    u32 last_frames = 3;
    u32 tick = Simulator::kDefaultTickInterval;
    u32 seed = 1;
    bool summary = false;
    bool bits = false;
    const char* string = nullptr;
    bool generated = false;
    WorkloadSpec workload;
    bool pages_given = false;
    u32 length = 1000;
};

const std::vector<std::string> kAllPolicies = {"fifo", "clock", "eclock", "aging", "lru", "random", "opt"};

Options parse_options(int argc, char** argv) {
    Options options;
    std::string policy = "all";
    auto value_of = [&](int& i) -> const char* {
        if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    auto number = [&](int& i, u32 limit) {
        const char* name = argv[i];
        const char* text = value_of(i);
        u32 value;
        if (!parse_number(text, limit, value))
            usage_error(std::string(name) + " wants a number up to " + std::to_string(limit) + ", not '" + text + "'");
        return value;
    };
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            fputs(kUsage, stdout);
            exit(0);
        } else if (arg == "--policy") {
            policy = value_of(i);
        } else if (arg == "--frames") {
            std::string text = value_of(i);
            size_t dash = text.find('-');
            std::string first = text.substr(0, dash), last = dash == std::string::npos ? first : text.substr(dash + 1);
            if (!parse_number(first.c_str(), kMaxFrames, options.first_frames) ||
                !parse_number(last.c_str(), kMaxFrames, options.last_frames) || options.first_frames == 0 ||
                options.last_frames < options.first_frames)
                usage_error("--frames wants N or FIRST-LAST with 1 <= FIRST <= LAST <= " + std::to_string(kMaxFrames) +
                            ", not '" + text + "'");
        } else if (arg == "--tick") {
            options.tick = number(i, kMaxLength);
        } else if (arg == "--seed") {
            options.seed = number(i, 0xffffffffu);
        } else if (arg == "--summary") {
            options.summary = true;
        } else if (arg == "--bits") {
            options.bits = true;
        } else if (arg == "--workload") {
            const char* name = value_of(i);
            auto workload = parse_workload(name);
            if (workload.is_error())
                usage_error(std::string("unknown workload '") + name + "': scan, uniform, 80-20 or loop");
            options.workload.kind = workload.value();
            options.generated = true;
        } else if (arg == "--pages") {
            options.workload.pages = number(i, kMaxReferencePage - 1);
            if (options.workload.pages == 0) usage_error("--pages wants at least 1 page");
            options.pages_given = true;
        } else if (arg == "--length") {
            options.length = number(i, kMaxLength);
            if (options.length == 0) usage_error("--length wants at least 1 access");
        } else if (arg == "--writes") {
            options.workload.write_percent = number(i, 100);
        } else if (arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9')) {
            usage_error("unknown option '" + arg + "'");
        } else if (options.string != nullptr) {
            usage_error("one reference string only (got '" + std::string(options.string) + "' and '" + arg +
                        "'); separate pages with commas");
        } else {
            options.string = argv[i];
        }
    }
    if (options.generated && options.string != nullptr) usage_error("give a reference string or --workload, not both");
    if (!options.generated && options.string == nullptr) usage_error("no reference string (or --workload) given");
    if (!options.generated && options.pages_given) usage_error("--pages applies to --workload only");
    if (options.generated && options.pages_given && options.workload.kind == Workload::Loop)
        usage_error("the loop has frames + 1 pages; --pages does not apply");
    if (policy == "all") {
        options.policies = kAllPolicies;
    } else if (policy == "opt" || !parse_policy_kind(policy.c_str()).is_error()) {
        options.policies = {policy};
    } else {
        usage_error("unknown policy '" + policy + "': fifo, clock, eclock, aging, lru, random, opt or all");
    }
    if (options.bits &&
        (options.policies.size() != 1 || options.first_frames != options.last_frames || options.summary))
        usage_error("--bits shows the frames of one run: one --policy, one --frames count, no --summary");
    return options;
}

std::vector<PageAccess> reference_string(Options& options) {
    if (!options.generated) {
        std::vector<PageAccess> string(count_accesses(options.string));
        char message[200];
        auto parsed = parse_reference_string(options.string, Span<PageAccess>(string.data(), string.size()), message,
                                             sizeof(message));
        if (parsed.is_error()) usage_error(std::string("bad reference string: ") + message);
        string.resize(parsed.value());
        return string;
    }
    WorkloadSpec& spec = options.workload;
    spec.seed = options.seed;
    spec.frames = options.last_frames;
    if (spec.kind == Workload::Scan && !options.pages_given) spec.pages = 2 * options.last_frames;
    if (workload_pages(spec) >= kMaxReferencePage) usage_error("the workload has too many pages");
    std::vector<PageAccess> string(options.length);
    generate_reference_string(spec, Span<PageAccess>(string.data(), string.size()));
    return string;
}

// One policy run over the string with a frame count: every access and the final counts.
struct Run {
    std::vector<SimulatedAccess> accesses;
    std::vector<std::string> frames_after;  // kept for single runs only: "4 2 3", or "4/10 2/11 3/00" with --bits
    u32 hits = 0, misses = 0, write_backs = 0;
};

Run simulate(const std::string& name, u32 frames, const std::vector<PageAccess>& string, const Options& options,
             bool keep_frames) {
    Span<const PageAccess> view(string.data(), string.size());
    bool optimal = name == "opt";
    PolicyKind kind = optimal ? PolicyKind::Fifo : parse_policy_kind(name.c_str()).value();
    size_t policy_bytes = optimal ? optimal_bytes_needed(frames, view) : policy_bytes_needed(kind, frames);
    std::vector<u64> policy_memory(policy_bytes / 8 + 1);
    std::vector<u64> simulator_memory(Simulator::bytes_needed(frames) / 8 + 1);
    Span<u8> policy_span(reinterpret_cast<u8*>(policy_memory.data()), policy_bytes);
    ReplacementPolicy& policy =
        optimal ? create_optimal(policy_span, frames, view) : create_policy(kind, policy_span, frames, options.seed);
    Simulator simulator(Span<u8>(reinterpret_cast<u8*>(simulator_memory.data()), Simulator::bytes_needed(frames)),
                        frames, policy, options.tick);
    Run run;
    for (const PageAccess& access : string) {
        auto result = simulator.access(access);
        if (result.is_error()) {  // cannot happen: nothing is pinned
            fprintf(stderr, "mneme-replay: %s: access failed: %s\n", name.c_str(), error_string(result.error()));
            exit(1);
        }
        if (!options.summary) run.accesses.push_back(result.value());
        if (keep_frames) {
            std::string contents;
            for (u32 frame = 0; frame < frames; ++frame) {
                u32 page = simulator.page_in_frame(frame);
                contents += frame == 0 ? "" : " ";
                if (page == Simulator::kNoPage) {
                    contents += ".";
                    continue;
                }
                contents += std::to_string(page);
                if (options.bits)
                    contents += std::string("/") + (simulator.accessed(frame) ? "1" : "0") +
                                (simulator.dirty(frame) ? "1" : "0");
            }
            run.frames_after.push_back(contents);
        }
    }
    run.hits = simulator.hits();
    run.misses = simulator.misses();
    run.write_backs = simulator.write_backs();
    return run;
}

// "1 hit", "9 misses".
std::string counted(u32 count, const char* one, const char* many) {
    return std::to_string(count) + " " + (count == 1 ? one : many);
}

std::string access_text(const PageAccess& access) { return std::to_string(access.page) + (access.write ? "w" : ""); }

// h, m, m4, m4*: the compact form for side-by-side columns.
std::string outcome_token(const SimulatedAccess& access) {
    if (access.hit) return "h";
    if (access.victim_page == Simulator::kNoPage) return "m";
    return "m" + std::to_string(access.victim_page) + (access.wrote_back ? "*" : "");
}

void describe_string(const Options& options, const std::vector<PageAccess>& string) {
    if (options.generated) {
        const WorkloadSpec& spec = options.workload;
        printf("%s workload: %u pages, %zu accesses, seed %u, %u%% writes\n", workload_name(spec.kind),
               workload_pages(spec), string.size(), spec.seed, spec.write_percent);
    }
}

void print_single(const std::string& name, u32 frames, const std::vector<PageAccess>& string, const Options& options) {
    Run run = simulate(name, frames, string, options, !options.summary);
    printf("%s, %u frame%s, %zu accesses", name.c_str(), frames, frames == 1 ? "" : "s", string.size());
    if (name == "aging") printf(", a tick every %u accesses", options.tick);
    printf("\n");
    if (!options.summary) {
        printf("%6s  %-7s %-6s %-15s %s\n", "#", "access", "result", "victim",
               options.bits ? "frames after (page/AD)" : "frames after");
        for (size_t i = 0; i < run.accesses.size(); ++i) {
            const SimulatedAccess& access = run.accesses[i];
            std::string victim;
            if (access.victim_page != Simulator::kNoPage)
                victim = std::to_string(access.victim_page) + (access.wrote_back ? " (written)" : "");
            printf("%6zu  %-7s %-6s %-15s %s\n", i + 1, access_text(string[i]).c_str(), access.hit ? "hit" : "miss",
                   victim.c_str(), run.frames_after[i].c_str());
        }
    }
    printf("%s: %s, %s, %s\n", name.c_str(), counted(run.hits, "hit", "hits").c_str(),
           counted(run.misses, "miss", "misses").c_str(),
           counted(run.write_backs, "write-back", "write-backs").c_str());
}

void print_side_by_side(u32 frames, const std::vector<PageAccess>& string, const Options& options) {
    std::vector<Run> runs;
    for (const std::string& name : options.policies) runs.push_back(simulate(name, frames, string, options, false));
    printf("%u frame%s, %zu accesses, aging ticks every %u accesses", frames, frames == 1 ? "" : "s", string.size(),
           options.tick);
    printf(options.summary ? "\n" : "; h hit, m miss, m4 miss evicting page 4, * written back\n");
    if (options.summary)
        printf("%-15s", "");
    else
        printf("%6s  %-7s", "#", "access");
    for (const std::string& name : options.policies) printf(" %7s", name.c_str());
    printf("\n");
    if (!options.summary) {
        for (size_t i = 0; i < string.size(); ++i) {
            printf("%6zu  %-7s", i + 1, access_text(string[i]).c_str());
            for (const Run& run : runs) printf(" %7s", outcome_token(run.accesses[i]).c_str());
            printf("\n");
        }
    }
    const struct {
        const char* label;
        u32 Run::*count;
    } rows[] = {{"write-backs", &Run::write_backs}, {"hits", &Run::hits}, {"misses", &Run::misses}};
    for (const auto& row : rows) {
        printf("%-15s", row.label);
        for (const Run& run : runs) printf(" %7u", run.*row.count);
        printf("\n");
    }
}

void print_table(const std::vector<PageAccess>& string, Options options) {
    options.summary = true;
    printf("faults (misses) of %zu accesses per frame count%s\n", string.size(),
           options.policies.size() > 1 || options.policies[0] == "aging"
               ? (", aging ticks every " + std::to_string(options.tick) + " accesses").c_str()
               : "");
    printf("%6s", "frames");
    for (const std::string& name : options.policies) printf(" %7s", name.c_str());
    printf("\n");
    for (u32 frames = options.first_frames; frames <= options.last_frames; ++frames) {
        printf("%6u", frames);
        for (const std::string& name : options.policies)
            printf(" %7u", simulate(name, frames, string, options, false).misses);
        printf("\n");
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options options = parse_options(argc, argv);
    std::vector<PageAccess> string = reference_string(options);
    describe_string(options, string);
    if (options.first_frames != options.last_frames)
        print_table(string, options);
    else if (options.policies.size() == 1)
        print_single(options.policies[0], options.first_frames, string, options);
    else
        print_side_by_side(options.first_frames, string, options);
    return 0;
}
