// malloc.cpp (benchmark): allocation workloads for comparing whole allocators under LD_PRELOAD.
//
//   build/bench/malloc WORKLOAD      runs one workload once and prints one line:
//   <workload> <allocator> <seconds> <operations> <peak RSS KiB> <RSS before the workload KiB>
//
// The allocator is whatever malloc the process has (tools/bench-allocators.sh swaps glibc, jemalloc,
// mimalloc, tcmalloc and libmneme_malloc.so in with LD_PRELOAD and names it in MNEME_BENCH_ALLOCATOR), so
// the same machine code runs against each. One workload per process, because peak RSS (getrusage's
// ru_maxrss) is per process. tests/bench/malloc.sh runs the grid and prints the table.
//
// Workloads, in the spirit of mimalloc-bench:
//   pair64        malloc(64) + free, back to back: the fast path
//   pair4k        malloc(4096) + free
//   batch64       1000 x malloc(64), then free them all
//   shortlived    many small short-lived objects (cfrac/espresso-like): a ring of live objects, each step
//                 frees the oldest and allocates a new one of a skewed random size
//   larson        Larson's server pattern on two threads: slots replaced at random; each round the threads
//                 swap their slot arrays, so objects are freed by a thread that did not allocate them
//   sh6bench      sh6bench-like: batches of mixed sizes, half freed LIFO at once, half FIFO a batch later
//   realloc       mixed sizes with realloc: string builders growing by random steps up to 1 MiB, amid
//                 small allocations
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/XorShift.h"

namespace {

using Random = XorShift;  // tests/bench/XorShift.h

// Sizes skewed to small, like real programs: 16..128 most of the time, sometimes up to 4 KiB.
size_t skewed_size(Random& random) {
    unsigned roll = static_cast<unsigned>(random.below(100));
    if (roll < 70) return 16 + random.below(113);
    if (roll < 95) return 128 + random.below(897);
    return 1024 + random.below(3073);
}

void touch(void* block, size_t size) {
    auto* bytes = static_cast<unsigned char*>(block);
    bytes[0] = 1;
    bytes[size - 1] = 2;
}

uint64_t pair(size_t size) {
    const uint64_t n = 30'000'000;
    for (uint64_t i = 0; i < n; ++i) {
        void* block = malloc(size);
        benchmark::DoNotOptimize(block);
        free(block);
    }
    return n;
}

uint64_t batch64() {
    const int rounds = 40'000;
    void* blocks[1000];
    for (int round = 0; round < rounds; ++round) {
        for (void*& block : blocks) {
            block = malloc(64);
            benchmark::DoNotOptimize(block);
        }
        for (void* block : blocks) free(block);
    }
    return uint64_t(rounds) * 1000;
}

uint64_t shortlived() {
    const uint64_t steps = 20'000'000;
    constexpr size_t kLive = 2000;
    struct Slot {
        void* block;
        size_t size;
    };
    std::vector<Slot> ring(kLive, Slot{nullptr, 0});
    Random random(1);
    for (uint64_t i = 0; i < steps; ++i) {
        Slot& slot = ring[i % kLive];
        free(slot.block);
        slot.size = skewed_size(random);
        slot.block = malloc(slot.size);
        touch(slot.block, slot.size);
    }
    for (Slot& slot : ring) free(slot.block);
    return steps;
}

uint64_t larson() {
    constexpr int kThreads = 2;
    constexpr size_t kSlots = 1000;
    const int rounds = 200;
    const int steps_per_round = 25'000;
    std::vector<void*> arrays[kThreads];
    for (auto& array : arrays) array.assign(kSlots, nullptr);
    // Round r: thread t works on array (t + r) % kThreads, so arrays, and the objects in them, move
    // between threads every round. A round ends when both threads reach it (a spinning barrier).
    std::atomic<int> arrived{0};
    auto work = [&](int thread) {
        Random random(100 + thread);
        for (int round = 0; round < rounds; ++round) {
            std::vector<void*>& slots = arrays[(thread + round) % kThreads];
            for (int step = 0; step < steps_per_round; ++step) {
                size_t index = random.below(kSlots);
                free(slots[index]);
                size_t size = 16 + random.below(1009);
                slots[index] = malloc(size);
                touch(slots[index], size);
            }
            arrived.fetch_add(1);
            while (arrived.load() < (round + 1) * kThreads) std::this_thread::yield();
        }
    };
    std::thread other(work, 1);
    work(0);
    other.join();
    for (auto& array : arrays)
        for (void* block : array) free(block);
    return uint64_t(rounds) * steps_per_round * kThreads;
}

uint64_t sh6bench() {
    const int iterations = 6'000;
    constexpr size_t kBatch = 2000;
    std::vector<void*> previous_half;
    std::vector<void*> batch(kBatch);
    uint64_t operations = 0;
    for (int iteration = 0; iteration < iterations; ++iteration) {
        for (size_t i = 0; i < kBatch; ++i) {
            size_t size = 1 + (i * 17 + static_cast<size_t>(iteration) * 31) % 1000;
            batch[i] = malloc(size);
            touch(batch[i], size);
        }
        // The first half goes at once, newest first (LIFO) ...
        for (size_t i = kBatch / 2; i > 0; --i) free(batch[i - 1]);
        // ... the previous batch's second half now, oldest first (FIFO).
        for (void* block : previous_half) free(block);
        previous_half.assign(batch.begin() + kBatch / 2, batch.end());
        operations += kBatch;
    }
    for (void* block : previous_half) free(block);
    return operations;
}

uint64_t realloc_mixed() {
    const int documents = 3'000;
    constexpr int kBuilders = 16;
    Random random(7);
    uint64_t operations = 0;
    std::vector<void*> small;
    for (int document = 0; document < documents; ++document) {
        char* builders[kBuilders];
        size_t sizes[kBuilders];
        size_t limits[kBuilders];
        for (int b = 0; b < kBuilders; ++b) {
            sizes[b] = 16;
            builders[b] = static_cast<char*>(malloc(sizes[b]));
            limits[b] = random.below(8) == 0 ? 256 * 1024 + random.below(768 * 1024) : 64 + random.below(16 * 1024);
        }
        bool growing = true;
        while (growing) {
            growing = false;
            for (int b = 0; b < kBuilders; ++b) {
                if (sizes[b] >= limits[b]) continue;
                growing = true;
                // Append a random amount; sometimes double (amortised vectors), mostly small steps.
                size_t grown = random.below(4) == 0 ? sizes[b] * 2 : sizes[b] + 16 + random.below(400);
                builders[b] = static_cast<char*>(realloc(builders[b], grown));
                builders[b][grown - 1] = 1;
                sizes[b] = grown;
                ++operations;
                void* other = malloc(skewed_size(random));
                benchmark::DoNotOptimize(other);
                small.push_back(other);
                if (small.size() > 256) {
                    size_t victim = random.below(small.size());
                    free(small[victim]);
                    small[victim] = small.back();
                    small.pop_back();
                }
            }
        }
        for (char* builder : builders) free(builder);
    }
    for (void* block : small) free(block);
    return operations;
}

long resident_kib() {
    FILE* statm = fopen("/proc/self/statm", "r");
    if (!statm) return 0;
    long size = 0, resident = 0;
    if (fscanf(statm, "%ld %ld", &size, &resident) != 2) resident = 0;
    fclose(statm);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s pair64|pair4k|batch64|shortlived|larson|sh6bench|realloc\n", argv[0]);
        return 2;
    }
    std::string workload = argv[1];
    const char* allocator = getenv("MNEME_BENCH_ALLOCATOR");
    long before = resident_kib();
    auto start = std::chrono::steady_clock::now();
    uint64_t operations;
    if (workload == "pair64")
        operations = pair(64);
    else if (workload == "pair4k")
        operations = pair(4096);
    else if (workload == "batch64")
        operations = batch64();
    else if (workload == "shortlived")
        operations = shortlived();
    else if (workload == "larson")
        operations = larson();
    else if (workload == "sh6bench")
        operations = sh6bench();
    else if (workload == "realloc")
        operations = realloc_mixed();
    else {
        fprintf(stderr, "unknown workload %s\n", workload.c_str());
        return 2;
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    printf("%s %s %.4f %llu %ld %ld\n", workload.c_str(), allocator ? allocator : "system", seconds,
           static_cast<unsigned long long>(operations), usage.ru_maxrss, before);
    return 0;
}
