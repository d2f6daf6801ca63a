// MallocFitEqualityTest.cpp: the indexed fit policies choose exactly the blocks the list versions choose.
//
// Each test drives first, next, best and worst fit twice at once (FitTwins.h): over the free list (the
// readable O(n) version) and over FitIndex (the O(log n) one), and requires the same address, relative to
// the heap's start, from every call. The indexed twin runs with three list limits (FitAllocator's hybrid):
// the index nearly always, a switch between list and index every few calls, and the policy's own. Random traces with a fixed seed (small, mixed and large sizes, heaps
// that run out, aligned requests, realloc in place and moving, malloc_trim), a recorded trace of a real
// program (tests/host/data/awk.trace: awk building strings, recorded with libmneme_malloc_trace.so), and
// any traces in $MNEME_FIT_TRACES (a directory, e.g. build/malloc-report/traces after make malloc-report).
#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "libc/malloc/Heap.h"
#include "libc/malloc/host/TraceRecord.h"
#include "tests/host/FitTwins.h"

namespace {

using Malloc::Policy;
using MallocTest::FitTwins;

constexpr Policy kListPolicies[] = {Policy::FirstList, Policy::NextList, Policy::BestList, Policy::WorstList};

std::string test_name(const testing::TestParamInfo<Policy>& info) {
    return Malloc::policy_name(Malloc::indexed_version(info.param));
}

class MallocFitEqualityTest : public testing::TestWithParam<Policy> {};
INSTANTIATE_TEST_SUITE_P(Malloc, MallocFitEqualityTest, testing::ValuesIn(kListPolicies), test_name);

// The indexed twin's list limits: the index nearly always, a switch between list and index every few
// calls, and the policy's own limit (the list on small heaps, the index on large ones).
constexpr size_t kListLimits[] = {0, 8, Malloc::FitAllocator::kPolicyListLimit};

enum class Sizes { Small, Mixed, Large };

size_t random_size(std::mt19937_64& random, Sizes sizes) {
    uint64_t roll = random() % 100;
    switch (sizes) {
    case Sizes::Small: return roll < 50 ? random() % 64 : random() % 300;
    case Sizes::Mixed: return roll < 70 ? random() % 128 : roll < 95 ? random() % 4096 : random() % 40000;
    case Sizes::Large: return roll < 40 ? random() % 256 : random() % 300000;
    }
    return 0;
}

// `steps` random calls; returns the twins' verdict.
std::string run_random(Policy policy, uint64_t seed, int steps, Sizes sizes, size_t capacity, bool heap_only,
                       size_t list_limit) {
    FitTwins twins(policy, capacity, heap_only, list_limit);
    std::mt19937_64 random(seed);
    std::vector<FitTwins::Pair> live;
    for (int step = 0; step < steps && twins.ok(); ++step) {
        uint64_t roll = random() % 100;
        if (roll < 45 || live.empty()) {
            FitTwins::Pair block = twins.allocate(random_size(random, sizes));
            if (block.list && block.indexed) live.push_back(block);
        } else if (roll < 80) {
            size_t index = random() % live.size();
            twins.free(live[index]);
            live[index] = live.back();
            live.pop_back();
        } else if (roll < 92) {
            size_t index = random() % live.size();
            size_t size = random_size(random, sizes);
            FitTwins::Pair moved = twins.reallocate(live[index], size);
            if (moved.list && moved.indexed) {
                live[index] = moved;
            } else if (size == 0) {  // realloc(p, 0) frees p
                live[index] = live.back();
                live.pop_back();
            }
        } else if (roll < 96) {
            // With mappings, an aligned large block's place in its mapping is the system's choice (where
            // mmap put it), and so is whether realloc can keep it: only heap blocks are aligned then.
            size_t size = random_size(random, sizes);
            if (!heap_only) size %= 65536;
            FitTwins::Pair block = twins.allocate_aligned(size_t(32) << (random() % 8), size);
            if (block.list && block.indexed) live.push_back(block);
        } else if (roll < 99) {
            FitTwins::Pair block = twins.allocate_zeroed(1 + random() % 4, random_size(random, sizes) / 4);
            if (block.list && block.indexed) live.push_back(block);
        } else {
            twins.release_free_memory();
        }
        if (step % 64 == 0) twins.check();
        // Now and then free two blocks in three at once: long runs of frees, in and out of address order.
        if (step % 5000 == 4999) {
            std::vector<FitTwins::Pair> kept;
            for (size_t i = 0; i < live.size(); ++i) {
                if (i % 3 == 1) kept.push_back(live[i]);
                else twins.free(live[i]);
            }
            live = kept;
        }
    }
    for (FitTwins::Pair block : live) twins.free(block);
    twins.check();
    return twins.ok() ? "" : twins.error();
}

TEST_P(MallocFitEqualityTest, SmallBlocksInTheHeap) {
    for (size_t limit : kListLimits)
        for (uint64_t seed : {1, 2, 3})
            EXPECT_EQ(run_random(GetParam(), seed, 30000, Sizes::Small, 256 << 20, true, limit), "")
                << "seed " << seed << ", list limit " << limit;
}

TEST_P(MallocFitEqualityTest, MixedSizesInTheHeap) {
    for (size_t limit : kListLimits)
        for (uint64_t seed : {11, 12, 13})
            EXPECT_EQ(run_random(GetParam(), seed, 30000, Sizes::Mixed, 256 << 20, true, limit), "")
                << "seed " << seed << ", list limit " << limit;
}

TEST_P(MallocFitEqualityTest, LargeBlocksWithMappings) {
    // Few free blocks at a time here, so the policy's own limit would compare the list with itself.
    for (size_t limit : {size_t(0), size_t(8)})
        EXPECT_EQ(run_random(GetParam(), 21, 20000, Sizes::Large, 256 << 20, false, limit), "")
            << "list limit " << limit;
}

TEST_P(MallocFitEqualityTest, AHeapThatRunsOut) {
    // 2 MiB: growth fails, and the policy must fail (or succeed) on both versions alike.
    for (size_t limit : kListLimits)
        for (uint64_t seed : {31, 32})
            EXPECT_EQ(run_random(GetParam(), seed, 20000, Sizes::Mixed, 2 << 20, true, limit), "")
                << "seed " << seed << ", list limit " << limit;
}

// Replays one recorded trace through the twins; "" when they agreed throughout.
std::string replay(Policy policy, const std::string& path, size_t list_limit) {
    std::ifstream file(path, std::ios::binary);
    char magic[8];
    if (!file.read(magic, 8) || memcmp(magic, Malloc::kTraceMagic, 8) != 0) return path + ": not a trace";
    FitTwins twins(policy, size_t(1) << 32, false, list_limit);
    std::unordered_map<uint64_t, FitTwins::Pair> blocks;  // the program's pointer -> our two blocks
    Malloc::TraceRecord record;
    size_t calls = 0;
    while (file.read(reinterpret_cast<char*>(&record), sizeof record) && twins.ok()) {
        FitTwins::Pair result{nullptr, nullptr};
        switch (record.operation) {
        case Malloc::TraceOperation::Malloc: result = twins.allocate(record.size); break;
        case Malloc::TraceOperation::Calloc: result = twins.allocate_zeroed(1, record.size); break;
        case Malloc::TraceOperation::Aligned: result = twins.allocate_aligned(record.alignment, record.size); break;
        case Malloc::TraceOperation::Free: {
            auto found = blocks.find(record.pointer);
            if (found != blocks.end()) {
                twins.free(found->second);
                blocks.erase(found);
            }
            break;
        }
        case Malloc::TraceOperation::Realloc: {
            auto found = blocks.find(record.pointer);
            if (found == blocks.end()) {
                result = twins.allocate(record.size);
            } else {
                result = twins.reallocate(found->second, record.size);
                if (result.list || record.size == 0) blocks.erase(found);
            }
            break;
        }
        }
        if (result.list && record.result) blocks[record.result] = result;
        if (++calls % 1024 == 0) twins.check();
    }
    for (auto& [pointer, block] : blocks) twins.free(block);
    twins.check();
    return twins.ok() ? "" : path + ": " + twins.error();
}

// The repository's copy of `relative`, found from the working directory or upwards of the test binary.
std::string repository_file(const std::string& relative) {
    if (FILE* file = fopen(relative.c_str(), "rb")) {
        fclose(file);
        return relative;
    }
    char executable[4096];
    ssize_t length = readlink("/proc/self/exe", executable, sizeof executable - 1);
    std::string directory(executable, length > 0 ? static_cast<size_t>(length) : 0);
    while (directory.find('/') != std::string::npos) {
        directory.erase(directory.rfind('/'));
        std::string candidate = directory + "/" + relative;
        if (FILE* file = fopen(candidate.c_str(), "rb")) {
            fclose(file);
            return candidate;
        }
    }
    return relative;
}

TEST_P(MallocFitEqualityTest, RecordedTraceOfAwk) {
    for (size_t limit : kListLimits)
        EXPECT_EQ(replay(GetParam(), repository_file("tests/host/data/awk.trace"), limit), "") << "list limit " << limit;
}

TEST_P(MallocFitEqualityTest, RecordedTracesFromTheEnvironment) {
    const char* directory = getenv("MNEME_FIT_TRACES");
    if (!directory) GTEST_SKIP() << "MNEME_FIT_TRACES=DIR replays the traces in DIR";
    DIR* listing = opendir(directory);
    ASSERT_NE(listing, nullptr) << directory;
    while (dirent* entry = readdir(listing)) {
        if (entry->d_name[0] == '.') continue;
        for (size_t limit : kListLimits)
            EXPECT_EQ(replay(GetParam(), std::string(directory) + "/" + entry->d_name, limit), "")
                << "list limit " << limit;
    }
    closedir(listing);
}

}  // namespace
