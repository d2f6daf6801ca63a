// replay.cpp: mneme-arena, the arena's placement policies (mm/arena/ArenaMap) run on an allocation trace,
// on the host.
//
//   mneme-arena [--policy first|next|best|worst|all] [--base ADDR] [--size BYTES] [--granule BYTES]
//               [--compact] [--map WIDTH] TRACE|-
//
// A trace has one operation a line: `+SIZE` allocates SIZE bytes (allocations are numbered 0, 1, 2, ... in
// the order they appear, failed ones included) and `-K` frees allocation K; `#` starts a comment, blank
// lines are skipped. The whole trace is checked before anything runs: an unknown operation, a bad number, a
// size of 0, or a free of an allocation not yet made or already freed is an error naming the line (exit
// status 2). Freeing an allocation that failed under the policy being run is not an error (it may have
// succeeded under another): the step says there was nothing to free.
//
// For every step: the placement address (hex) or -1, then the free total, the largest hole, the number of
// holes and the holes themselves. At the end a summary line per policy: failed allocations and the final
// fragmentation (ArenaMap.h). --policy all runs the four policies one after the other. --compact: when an
// allocation fails for lack of a big enough hole while the free total would hold it, compact the arena
// (showing every block that moves) and try again, as the kernel does. --map WIDTH draws the arena after each
// step (ArenaPicture.h). Sizes and addresses are decimal or 0x hex, with an optional K or M (KiB, MiB).
//
// The placement is the very code the kernel runs (mm/arena); the defaults (base 0, 1 MiB, granule 1:
// byte-exact) follow OSTEP's free-space simulator. See docs/arena.md.
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "mm/arena/ArenaMap.h"
#include "mm/arena/ArenaPicture.h"

namespace {

const char kUsage[] =
    "usage: mneme-arena [--policy first|next|best|worst|all] [--base ADDR] [--size BYTES] [--granule BYTES]\n"
    "                   [--compact] [--map WIDTH] TRACE|-\n"
    "\n"
    "  TRACE       a file (- for stdin), one operation a line: +SIZE allocates, -K frees allocation K\n"
    "              (numbered from 0 in trace order, failed ones included); # comments\n"
    "  --policy    the placement policy (default first); all runs the four one after the other\n"
    "  --base      the arena's first address (default 0)\n"
    "  --size      the arena's size in bytes (default 1M)\n"
    "  --granule   sizes round up to this power of two, addresses are multiples of it (default 1)\n"
    "  --compact   when no hole fits but the free total would, compact and try again\n"
    "  --map       draw the arena, WIDTH cells wide, after every step\n"
    "Numbers are decimal or 0x hex, optionally followed by K or M.\n";

[[noreturn]] void usage_error(const std::string& problem) {
    fprintf(stderr, "mneme-arena: %s\n\n%s", problem.c_str(), kUsage);
    exit(2);
}

[[noreturn]] void trace_error(const std::string& name, u32 line, const std::string& problem) {
    fprintf(stderr, "mneme-arena: %s:%u: %s\n", name.c_str(), line, problem.c_str());
    exit(2);
}

// Decimal or 0x hex, an optional K or M; false when it is not one or exceeds 32 bits.
bool parse_number(const char* text, u32& value) {
    int base = 10;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
    }
    if (!isxdigit(static_cast<unsigned char>(*text)) || (base == 10 && !isdigit(static_cast<unsigned char>(*text))))
        return false;
    char* end;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, base);
    if (errno != 0) return false;
    if (*end == 'K' || *end == 'M') {
        int shift = *end == 'K' ? 10 : 20;
        if (parsed > (0xffffffffull >> shift)) return false;
        parsed <<= shift;
        ++end;
    }
    if (*end != '\0' || parsed > 0xffffffffull) return false;
    value = static_cast<u32>(parsed);
    return true;
}

struct Operation {
    u32 line;
    bool allocate;
    u32 value;  // the size, or the allocation number to free
};

struct Options {
    std::vector<FitPolicy> policies{FitPolicy::First};
    u32 base = 0;
    u32 size = 1 << 20;
    u32 granule = 1;
    bool compact = false;
    u32 map_width = 0;
    const char* trace = nullptr;
};

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage_error(arg + " needs a value");
            return argv[++i];
        };
        auto number = [&]() -> u32 {
            const char* text = value();
            u32 parsed;
            if (!parse_number(text, parsed)) usage_error(arg + " wants a number, not '" + text + "'");
            return parsed;
        };
        if (arg == "--help" || arg == "-h") {
            fputs(kUsage, stdout);
            exit(0);
        } else if (arg == "--policy") {
            const char* name = value();
            FitPolicy policy;
            if (strcmp(name, "all") == 0)
                options.policies.assign(kAllFitPolicies, kAllFitPolicies + kFitPolicyCount);
            else if (parse_fit_policy(name, policy))
                options.policies = {policy};
            else
                usage_error(std::string("unknown policy '") + name + "': first, next, best, worst or all");
        } else if (arg == "--base") {
            options.base = number();
        } else if (arg == "--size") {
            options.size = number();
        } else if (arg == "--granule") {
            options.granule = number();
        } else if (arg == "--compact") {
            options.compact = true;
        } else if (arg == "--map") {
            options.map_width = number();
            if (options.map_width == 0 || options.map_width > 1000) usage_error("--map wants a width of 1 to 1000");
        } else if (arg.size() > 1 && arg[0] == '-') {
            usage_error("unknown option '" + arg + "'");
        } else if (options.trace != nullptr) {
            usage_error("one trace only (got '" + std::string(options.trace) + "' and '" + arg + "')");
        } else {
            options.trace = argv[i];
        }
    }
    if (options.trace == nullptr) usage_error("no trace given (a file, or - for stdin)");
    if (!is_power_of_two(options.granule)) usage_error("--granule wants a power of two");
    if (options.size == 0 || options.size % options.granule != 0 || options.base % options.granule != 0)
        usage_error("--base and --size must be multiples of the granule, and the size more than 0");
    if (options.size > 0xffffffffu - options.base) usage_error("the arena must end below 4 GiB");
    return options;
}

// Reads and checks the whole trace; exits with status 2 at the first bad line.
std::vector<Operation> read_trace(const char* path) {
    std::string name = strcmp(path, "-") == 0 ? "stdin" : path;
    FILE* file = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (file == nullptr) usage_error("cannot open '" + name + "': " + strerror(errno));
    std::vector<Operation> operations;
    std::vector<bool> freed;  // per allocation number
    char buffer[512];
    for (u32 line = 1; fgets(buffer, sizeof buffer, file) != nullptr; ++line) {
        std::string text = buffer;
        if (text.find('#') != std::string::npos) text.erase(text.find('#'));
        size_t first = text.find_first_not_of(" \t\r\n");
        if (first == std::string::npos) continue;
        text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
        char kind = text[0];
        std::string argument = text.substr(1);
        if (kind != '+' && kind != '-') trace_error(name, line, "unknown operation '" + text + "' (+SIZE or -K)");
        u32 value;
        if (!parse_number(argument.c_str(), value))
            trace_error(name, line, "bad number '" + argument + "' in '" + text + "'");
        if (kind == '+') {
            if (value == 0) trace_error(name, line, "allocation " + std::to_string(freed.size()) + " has size 0");
            freed.push_back(false);
        } else {
            if (value >= freed.size())
                trace_error(name, line,
                            "free of allocation " + argument + ", which is not made yet (" +
                                std::to_string(freed.size()) + " so far)");
            if (freed[value]) trace_error(name, line, "free of allocation " + argument + ", which is already freed");
            freed[value] = true;
        }
        operations.push_back({line, kind == '+', value});
    }
    if (file != stdin) fclose(file);
    return operations;
}

void print_holes(const ArenaMap& arena) {
    ArenaStatistics statistics = arena.statistics();
    printf("free %u, largest %u, %u hole%s:", statistics.free_bytes, statistics.largest_hole, statistics.holes,
           statistics.holes == 1 ? "" : "s");
    arena.for_each_hole([](u32 address, u32 size) { printf(" [0x%x,0x%x)", address, address + size); });
    printf("\n");
}

void print_map(const ArenaMap& arena, u32 width) {
    if (width == 0) return;
    std::string text(width + 2, ' ');
    draw_arena(arena, width, text.data(), static_cast<u32>(text.size() + 1));  // the string's NUL included
    printf("    %s\n", text.c_str());
}

struct Outcome {
    u32 allocations = 0;
    u32 failed = 0;
    u32 compactions = 0;
    u32 bytes_moved = 0;
    ArenaStatistics final{};
};

std::string address_text(i64 address) {
    if (address < 0) return "-1";
    char text[16];
    snprintf(text, sizeof text, "0x%x", static_cast<u32>(address));
    return text;
}

Outcome run(FitPolicy policy, const Options& options, const std::vector<Operation>& operations) {
    u32 allocations = 0;
    for (const Operation& operation : operations) allocations += operation.allocate;
    std::vector<ArenaBlock> storage(allocations + 1);
    ArenaMap arena(options.base, options.size, options.granule, policy, storage.data(),
                   static_cast<u32>(storage.size()));
    std::vector<i64> placed;  // per allocation number: the address, or -1
    Outcome outcome;
    printf("== %s fit: arena [0x%x,0x%x), granule %u\n", fit_policy_name(policy), arena.base(), arena.end(),
           arena.granule());
    for (const Operation& operation : operations) {
        char op[16];
        snprintf(op, sizeof op, "%c%u", operation.allocate ? '+' : '-', operation.value);
        if (!operation.allocate) {
            i64 address = placed[operation.value];
            if (address < 0) {
                printf("%-9s #%-4u (allocation %u failed: nothing to free)\n", op, operation.value, operation.value);
                continue;
            }
            arena.release(static_cast<u32>(address));
            placed[operation.value] = -1;
            printf("%-9s #%-4u <- %-10s ", op, operation.value, address_text(address).c_str());
            print_holes(arena);
            print_map(arena, options.map_width);
            continue;
        }
        u32 number = static_cast<u32>(placed.size());
        auto place = [&]() -> i64 {
            auto result = arena.allocate(operation.value, number);
            return result.is_error() ? -1 : i64(result.value());
        };
        i64 address = place();
        u32 rounded = static_cast<u32>(align_up<u64>(operation.value, arena.granule()));
        if (address < 0 && options.compact && arena.statistics().free_bytes >= rounded &&
            operation.value <= arena.size()) {
            printf("%-9s #%-4u -> %-10s no hole fits: compacting\n", op, number, "-1");
            u32 moved = arena.compact([&](u32 from, u32 to, u32 size, u32 owner) {
                printf("    move #%u [0x%x,0x%x) -> [0x%x,0x%x)\n", owner, from, from + size, to, to + size);
                placed[owner] = to;
            });
            printf("    compacted: %u bytes moved\n", moved);
            ++outcome.compactions;
            outcome.bytes_moved += moved;
            address = place();
        }
        placed.push_back(address);
        ++outcome.allocations;
        if (address < 0) ++outcome.failed;
        printf("%-9s #%-4u -> %-10s ", op, number, address_text(address).c_str());
        print_holes(arena);
        print_map(arena, options.map_width);
    }
    VERIFY(arena.check_invariants());
    outcome.final = arena.statistics();
    return outcome;
}

void print_summary(FitPolicy policy, const Outcome& outcome) {
    u32 fragmentation = fragmentation_per_mille(outcome.final);
    printf("%s: %u of %u allocation%s failed; free %u in %u hole%s, largest %u; fragmentation %u.%u%%",
           fit_policy_name(policy), outcome.failed, outcome.allocations, outcome.allocations == 1 ? "" : "s",
           outcome.final.free_bytes, outcome.final.holes, outcome.final.holes == 1 ? "" : "s",
           outcome.final.largest_hole, fragmentation / 10, fragmentation % 10);
    if (outcome.compactions != 0)
        printf("; %u compaction%s moved %u bytes", outcome.compactions, outcome.compactions == 1 ? "" : "s",
               outcome.bytes_moved);
    printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
    Options options = parse_options(argc, argv);
    std::vector<Operation> operations = read_trace(options.trace);
    std::vector<Outcome> outcomes;
    for (FitPolicy policy : options.policies) {
        if (!outcomes.empty()) printf("\n");
        outcomes.push_back(run(policy, options, operations));
    }
    printf("\n");
    for (size_t i = 0; i < options.policies.size(); ++i) print_summary(options.policies[i], outcomes[i]);
    return 0;
}
