// slab.cpp: Google Benchmark figures for mm/heap/SlabCache and mm/heap/KernelHeap against the system allocator.
//
// tools/bench-allocators.sh runs this binary once per allocator (glibc, jemalloc, mimalloc, tcmalloc,
// mneme) under LD_PRELOAD with MNEME_BENCH_ALLOCATOR=<name>. In the glibc run (or with the variable unset)
// every benchmark runs: the slab ones and malloc/free on the same patterns; any other run measures only
// malloc/free, labelled with the allocator's name, since the slab code does not change with LD_PRELOAD.
// The glibc run ends with the target ratios against glibc (docs/slab.md lists them).
//
// The slab side uses ArenaPageSource (naturally aligned blocks and a flat page-tag array, like the
// kernel's buddy allocator plus tag table) and NoLock (one thread, as glibc's per-thread tcache path).
#include <benchmark/benchmark.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "mm/heap/KernelHeap.h"
#include "tests/bench/MedianReporter.h"
#include "tests/host/SlabTestSupport.h"

namespace {

using Heap = KernelHeap<ArenaPageSource, NoLock>;
using Cache = SlabCache<ArenaPageSource, NoLock>;

constexpr size_t kObjectSize = 64;
constexpr int kBatch = 1000;
constexpr int kMixedSlots = 256;
constexpr int kMixedOperations = 4096;

ArenaPageSource& arena() {
    static ArenaPageSource source(512 * 1024 * 1024);
    return source;
}

// One fixed sequence for the mixed benchmark: (slot, size) pairs; sizes are mostly small, with the 96- and
// 192-byte cases and a tail up to 2048, roughly the shape of a kernel's kmalloc traffic.
struct MixedOperation {
    u16 slot;
    u16 size;
};
const std::vector<MixedOperation>& mixed_operations() {
    static std::vector<MixedOperation> operations = [] {
        std::mt19937 random(2024);
        std::vector<MixedOperation> result;
        for (int i = 0; i < kMixedOperations; ++i) {
            u32 r = random() % 100;
            u16 size = r < 40   ? u16(8 + random() % 57)
                       : r < 60 ? u16(65 + random() % 64)
                       : r < 75 ? u16(129 + random() % 128)
                       : r < 92 ? u16(257 + random() % 256)
                                : u16(513 + random() % 1536);
            result.push_back({u16(random() % kMixedSlots), size});
        }
        return result;
    }();
    return operations;
}

// --- slab ---------------------------------------------------------------------------------------------

void BM_SlabCachePair(benchmark::State& state) {
    Cache cache(arena(), {.name = "bench-64", .object_size = kObjectSize, .debug = false});
    for (auto _ : state) {
        void* object = cache.allocate();
        benchmark::DoNotOptimize(object);
        cache.deallocate(object);
    }
}

void BM_KmallocPair(benchmark::State& state, size_t size) {
    Heap heap(arena(), false);
    for (auto _ : state) {
        void* object = heap.allocate(size);
        benchmark::DoNotOptimize(object);
        heap.deallocate(object);
    }
}

void BM_SlabCacheBatch(benchmark::State& state) {
    Cache cache(arena(), {.name = "bench-64", .object_size = kObjectSize, .debug = false});
    void* objects[kBatch];
    for (auto _ : state) {
        for (int i = 0; i < kBatch; ++i) objects[i] = cache.allocate();
        benchmark::DoNotOptimize(objects);
        for (int i = 0; i < kBatch; ++i) cache.deallocate(objects[i]);
    }
}

void BM_KmallocBatch(benchmark::State& state) {
    Heap heap(arena(), false);
    void* objects[kBatch];
    for (auto _ : state) {
        for (int i = 0; i < kBatch; ++i) objects[i] = heap.allocate(kObjectSize);
        benchmark::DoNotOptimize(objects);
        for (int i = 0; i < kBatch; ++i) heap.deallocate(objects[i]);
    }
}

void BM_KmallocMixed(benchmark::State& state) {
    Heap heap(arena(), false);
    const auto& operations = mixed_operations();
    void* slots[kMixedSlots] = {};
    for (auto _ : state) {
        for (const MixedOperation& operation : operations) {
            heap.deallocate(slots[operation.slot]);
            slots[operation.slot] = heap.allocate(operation.size);
            benchmark::DoNotOptimize(slots[operation.slot]);
        }
    }
    for (void*& slot : slots) heap.deallocate(std::exchange(slot, nullptr));
}

// Debug mode, for the cost of red zones and poisoning (not a target).
void BM_KmallocPairDebug(benchmark::State& state) {
    Heap heap(arena(), true);
    for (auto _ : state) {
        void* object = heap.allocate(kObjectSize);
        benchmark::DoNotOptimize(object);
        heap.deallocate(object);
    }
}

// --- the system allocator (whatever LD_PRELOAD put behind malloc) ----------------------------------------

void BM_MallocPair(benchmark::State& state, size_t size) {
    for (auto _ : state) {
        void* object = malloc(size);
        benchmark::DoNotOptimize(object);
        free(object);
    }
}

void BM_MallocBatch(benchmark::State& state) {
    void* objects[kBatch];
    for (auto _ : state) {
        for (int i = 0; i < kBatch; ++i) objects[i] = malloc(kObjectSize);
        benchmark::DoNotOptimize(objects);
        for (int i = 0; i < kBatch; ++i) free(objects[i]);
    }
}

void BM_MallocMixed(benchmark::State& state) {
    const auto& operations = mixed_operations();
    void* slots[kMixedSlots] = {};
    for (auto _ : state) {
        for (const MixedOperation& operation : operations) {
            free(slots[operation.slot]);
            slots[operation.slot] = malloc(operation.size);
            benchmark::DoNotOptimize(slots[operation.slot]);
        }
    }
    for (void*& slot : slots) free(std::exchange(slot, nullptr));
}

void print_targets(const MedianReporter& reporter, const std::string& allocator) {
    auto time = [&](const std::string& name) { return reporter.time(name); };
    auto line = [](const char* what, double ratio, double target) { print_target(what, ratio, target, "x"); };
    double cache_pair = time("slab_cache_pair/64");
    double kmalloc_pair = time("kmalloc_pair/64");
    double malloc_pair = time("malloc_pair/" + allocator + "/64");
    double cache_batch = time("slab_cache_batch/1000x64");
    double malloc_batch = time("malloc_batch/" + allocator + "/1000x64");
    double kmalloc_mixed = time("kmalloc_mixed/4096ops");
    double malloc_mixed = time("malloc_mixed/" + allocator + "/4096ops");
    printf("\nslab targets (CPU time per iteration, ns): cache pair %.2f, kmalloc(64) pair %.2f, %s pair %.2f\n",
           cache_pair, kmalloc_pair, allocator.c_str(), malloc_pair);
    if (malloc_pair > 0) line("cache alloc+free pair / glibc malloc+free", cache_pair / malloc_pair, 1.0);
    if (cache_pair > 0) line("kmalloc(64)+kfree pair / cache pair", kmalloc_pair / cache_pair, 1.25);
    if (malloc_batch > 0) line("cache 1000 allocs + 1000 frees / glibc", cache_batch / malloc_batch, 1.0);
    if (malloc_mixed > 0)
        printf("  %-44s %7.2f x  (no target)\n", "kmalloc mixed sizes / glibc", kmalloc_mixed / malloc_mixed);
    // Memory overhead of a full slab of 64-byte objects.
    HostPageSource source;
    SlabCache<HostPageSource, NoLock> cache(source, {.name = "overhead-64", .object_size = 64, .debug = false});
    std::vector<void*> objects;
    for (size_t i = 0; i < cache.objects_per_slab(); ++i) objects.push_back(cache.allocate());
    SlabStatistics s = cache.statistics();
    double overhead = 100.0 * double(s.memory_bytes - s.live_bytes) / double(s.memory_bytes);
    print_target("slab memory overhead, 64-byte objects", overhead, 3.0, "%");
    printf("  (%zu objects per %zu-byte slab)\n", s.objects_per_slab, s.memory_bytes);
    for (void* object : objects) cache.deallocate(object);
}

}  // namespace

int main(int argc, char** argv) {
    const char* name = getenv("MNEME_BENCH_ALLOCATOR");
    std::string allocator = name && *name ? name : "glibc";
    bool slab = allocator == "glibc";
    auto unit = benchmark::kNanosecond;
    if (slab) {
        benchmark::RegisterBenchmark("slab_cache_pair/64", BM_SlabCachePair)->Unit(unit);
        for (size_t size : {64, 96, 4096})
            benchmark::RegisterBenchmark(("kmalloc_pair/" + std::to_string(size)).c_str(), BM_KmallocPair, size)
                ->Unit(unit);
        benchmark::RegisterBenchmark("kmalloc_pair_debug/64", BM_KmallocPairDebug)->Unit(unit);
        benchmark::RegisterBenchmark("slab_cache_batch/1000x64", BM_SlabCacheBatch)->Unit(unit);
        benchmark::RegisterBenchmark("kmalloc_batch/1000x64", BM_KmallocBatch)->Unit(unit);
        benchmark::RegisterBenchmark("kmalloc_mixed/4096ops", BM_KmallocMixed)->Unit(unit);
    }
    std::string prefix = "malloc_pair/" + allocator + "/";
    for (size_t size : {64, 96, 4096})
        benchmark::RegisterBenchmark((prefix + std::to_string(size)).c_str(), BM_MallocPair, size)->Unit(unit);
    benchmark::RegisterBenchmark(("malloc_batch/" + allocator + "/1000x64").c_str(), BM_MallocBatch)->Unit(unit);
    benchmark::RegisterBenchmark(("malloc_mixed/" + allocator + "/4096ops").c_str(), BM_MallocMixed)->Unit(unit);

    benchmark::Initialize(&argc, argv);
    MedianReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    if (slab) print_targets(reporter, allocator);
    benchmark::Shutdown();
    return 0;
}
