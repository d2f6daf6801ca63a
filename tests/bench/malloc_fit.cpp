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
// Workloads (fixed seeds, the same calls for every policy):
//   small      300 live blocks of 16-512 bytes, one replaced at random per step: a small heap
//   shortlived 2000 live blocks of skewed sizes (most 16-128 bytes, some up to 4 KiB), the oldest replaced
//   hash       a hash table built from 100 000 keys: a node and a string per key, the bucket array doubled
//              by realloc (a perl or python dictionary being filled)
//   compiler   5 phases of 30 000 allocations of mixed sizes; each phase frees two in three of its blocks,
//              in random order, and keeps the rest (a compiler's passes over a growing set of trees)
#include <sys/mman.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "libc/malloc/Heap.h"

namespace {

using Malloc::Policy;

// A brk-like heap in one reserved range, and plain mmap for large blocks. Counts the break's high-water
// mark.
class BenchSource final : public Malloc::MemorySource {
public:
    BenchSource() {
        void* range = mmap(nullptr, kReserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (range == MAP_FAILED) abort();
        m_start = m_break = static_cast<char*>(range);
    }
    ~BenchSource() { munmap(m_start, kReserve); }
    void* extend(size_t bytes) override {
        if (bytes > kReserve - static_cast<size_t>(m_break - m_start)) return nullptr;
        char* old = m_break;
        m_break += bytes;
        if (static_cast<size_t>(m_break - m_start) > peak) peak = m_break - m_start;
        return old;
    }
    bool shrink(size_t bytes) override {
        m_break -= bytes;
        madvise(m_break, bytes, MADV_DONTNEED);
        return true;
    }
    void* map(size_t bytes) override {
        void* address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return address == MAP_FAILED ? nullptr : address;
    }
    void unmap(void* address, size_t bytes) override { munmap(address, bytes); }
    void discard(void* address, size_t bytes) override { madvise(address, bytes, MADV_DONTNEED); }
    size_t peak = 0;

private:
    static constexpr size_t kReserve = size_t(8) << 30;
    char* m_start;
    char* m_break;
};

struct Random {
    uint64_t state;
    explicit Random(uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

size_t skewed_size(Random& random) {
    unsigned roll = static_cast<unsigned>(random.below(100));
    if (roll < 70) return 16 + random.below(113);
    if (roll < 95) return 128 + random.below(897);
    return 1024 + random.below(3073);
}

// Tracks the live bytes' peak; every call goes through here.
struct Calls {
    Malloc::Heap& heap;
    size_t live = 0, peak_live = 0;
    void* allocate(size_t size) {
        void* block = heap.allocate(size);
        if (!block) abort();
        static_cast<char*>(block)[0] = 1;  // touched, as a program would
        live += size;
        if (live > peak_live) peak_live = live;
        return block;
    }
    void free(void* block, size_t size) {
        heap.free(block);
        live -= size;
    }
    void* reallocate(void* block, size_t old_size, size_t size) {
        void* moved = heap.reallocate(block, size);
        if (!moved) abort();
        live += size - old_size;
        if (live > peak_live) peak_live = live;
        return moved;
    }
};

struct Sized {
    void* block;
    size_t size;
};

void small(Calls& calls) {
    Random random(3);
    std::vector<Sized> live(300);
    for (Sized& slot : live) slot = {nullptr, 0};
    for (int step = 0; step < 1'500'000; ++step) {
        Sized& slot = live[random.below(live.size())];
        if (slot.block) calls.free(slot.block, slot.size);
        slot.size = 16 + random.below(497);
        slot.block = calls.allocate(slot.size);
    }
    for (Sized& slot : live) calls.free(slot.block, slot.size);
}

void shortlived(Calls& calls) {
    Random random(1);
    std::vector<Sized> ring(2000, Sized{nullptr, 0});
    for (int step = 0; step < 1'500'000; ++step) {
        Sized& slot = ring[step % ring.size()];
        if (slot.block) calls.free(slot.block, slot.size);
        slot.size = skewed_size(random);
        slot.block = calls.allocate(slot.size);
    }
    for (Sized& slot : ring) calls.free(slot.block, slot.size);
}

void hash(Calls& calls) {
    Random random(5);
    const size_t keys = 100'000;
    size_t buckets = 8;
    void** table = static_cast<void**>(calls.allocate(buckets * sizeof(void*)));
    std::vector<Sized> blocks;
    blocks.reserve(2 * keys);
    for (size_t key = 0; key < keys; ++key) {
        if (key == buckets) {
            table = static_cast<void**>(calls.reallocate(table, buckets * sizeof(void*), 2 * buckets * sizeof(void*)));
            buckets *= 2;
        }
        blocks.push_back({calls.allocate(48), 48});                        // the entry
        size_t length = 8 + random.below(24);                              // the key string
        blocks.push_back({calls.allocate(length), length});
        if (key % 16 == 0) {                                               // a temporary
            size_t size = 16 + random.below(200);
            calls.free(calls.allocate(size), size);
        }
    }
    for (Sized& sized : blocks) calls.free(sized.block, sized.size);
    calls.free(table, buckets * sizeof(void*));
}

void compiler(Calls& calls) {
    Random random(9);
    std::vector<Sized> kept;
    for (int phase = 0; phase < 5; ++phase) {
        std::vector<Sized> fresh;
        for (int i = 0; i < 30'000; ++i) {
            size_t size = skewed_size(random);
            fresh.push_back({calls.allocate(size), size});
        }
        for (size_t i = fresh.size(); i > 1; --i) std::swap(fresh[i - 1], fresh[random.below(i)]);
        for (size_t i = 0; i < fresh.size(); ++i) {
            if (i % 3 == 0) kept.push_back(fresh[i]);
            else calls.free(fresh[i].block, fresh[i].size);
        }
    }
    for (Sized& sized : kept) calls.free(sized.block, sized.size);
}

struct Workload {
    const char* name;
    void (*run)(Calls&);
    bool small_heap;
};
constexpr Workload kWorkloads[] = {
    {"small", small, true}, {"shortlived", shortlived, false}, {"hash", hash, false}, {"compiler", compiler, false}};

struct Figures {
    double seconds = 1e30;
    size_t peak_heap = 0;
    size_t peak_live = 0;
};

// One run of `workload` under `policy`; `figures` keeps the best time.
void measure_once(const Workload& workload, Policy policy, Figures& figures) {
    BenchSource source;
    Malloc::HeapOptions options;
    options.policy = policy;
    Malloc::Heap heap(source, options);
    Calls calls{heap};
    auto start = std::chrono::steady_clock::now();
    workload.run(calls);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds < figures.seconds) figures.seconds = seconds;
    figures.peak_heap = source.peak;
    figures.peak_live = calls.peak_live;
}

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
