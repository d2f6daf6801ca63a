// FitWorkloads.h: the workloads of the fit-policy benchmarks (malloc_fit.cpp, malloc_fit_floor.cpp), the
// memory source they run on and the measurement of one run. Fixed seeds: every policy gets the same calls.
//
//   small      300 live blocks of 16-512 bytes, one replaced at random per step: a small heap
//   shortlived 2000 live blocks of skewed sizes (most 16-128 bytes, some up to 4 KiB), the oldest replaced
//   hash       a hash table built from 100 000 keys: a node and a string per key, the bucket array doubled
//              by realloc (a perl or python dictionary being filled)
//   compiler   5 phases of 30 000 allocations of mixed sizes; each phase frees two in three of its blocks,
//              in random order, and keeps the rest (a compiler's passes over a growing set of trees)
#pragma once

#include <sys/mman.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "libc/malloc/Heap.h"
#include "tests/bench/XorShift.h"

namespace FitBench {

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

using Random = XorShift;  // tests/bench/XorShift.h

inline size_t skewed_size(Random& random) {
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

inline void small(Calls& calls) {
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

inline void shortlived(Calls& calls) {
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

inline void hash(Calls& calls) {
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

inline void compiler(Calls& calls) {
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
inline void measure_once(const Workload& workload, Malloc::Policy policy, Figures& figures) {
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

}  // namespace FitBench
