// MallocCommitBudgetTest.cpp: the default malloc under a kernel's commit rule, on a machine without swap.
//
// Mneme promises every accessible page of a process's heap and mappings against its free frames (and swap
// slots), so on an 8 MiB machine with no swap disk a process may commit about 4.7 MiB
// (UserFrames::commit_limit: 1342 managed frames less a reserve of 128). TestMemorySource::commit_budget
// plays that rule, and regions() counts the ranges the kernel would keep (its region table holds 64). The
// workload is malloctest's randomized section (user/malloctest.cpp: same generator, seed and size mix), which
// once failed at -m 8 with "allocation of 353655 bytes failed at step 809": every size class had committed
// whole 64 KiB slices for a block or two (docs/malloc.md, "Reserving is not committing").
#include <gtest/gtest.h>

#include <cstring>

#include "libc/malloc/Heap.h"
#include "libc/user/Random.h"
#include "tests/host/MallocTestSupport.h"

using Malloc::Heap;
using Malloc::HeapOptions;
using Malloc::Policy;
using MallocTest::TestMemorySource;

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kEightMiBLimit = (1342 - 128) * kPage;  // the commit limit of a process at -m 8, no swap
constexpr size_t kRegionLimit = 64;                      // RegionMap::kMaxRegions

// malloctest's size mix: mostly small, a few above the 128 KiB mmap threshold.
size_t random_size(Random& random) {
    u32 roll = random.below(100);
    if (roll < 60) return random.below(129);
    if (roll < 85) return random.below(2048);
    if (roll < 98) return random.below(32 * 1024);
    return random.below(400 * 1024);
}

struct Slot {
    unsigned char* block = nullptr;
    size_t size = 0;
    unsigned char seed = 0;
};

// A block's first and last bytes carry its seed: enough to notice two blocks sharing memory.
void mark(const Slot& slot) {
    if (slot.size < 2) return;
    slot.block[0] = slot.seed;
    slot.block[slot.size - 1] = static_cast<unsigned char>(slot.seed ^ 0x5A);
}
bool marked(const Slot& slot) {
    return slot.size < 2 || (slot.block[0] == slot.seed && slot.block[slot.size - 1] == (slot.seed ^ 0x5A));
}

struct Replay {
    size_t failures = 0;
    int first_failure = -1;
    size_t peak_commit_bytes = 0;
    size_t peak_regions = 0;
    size_t peak_live_bytes = 0;
};

// malloctest's randomized section, step for step; every allocation that fails is counted.
Replay replay_malloctest(Heap& heap, TestMemorySource& source) {
    static constexpr int kSlots = 256, kSteps = 6000;
    Slot slots[kSlots];
    Random random(20260101);
    Replay result;
    unsigned char next_seed = 1;
    size_t live_bytes = 0;
    auto note_failure = [&](int step) {
        if (result.failures++ == 0) result.first_failure = step;
    };
    for (int step = 0; step < kSteps; ++step) {
        Slot& slot = slots[random.below(kSlots)];
        u32 roll = random.below(100);
        if (!slot.block) {
            size_t size = random_size(random);
            if (roll < 10) {
                size_t alignment = size_t(32) << random.below(8);
                slot.block = static_cast<unsigned char*>(heap.allocate_aligned(alignment, size));
            } else if (roll < 20) {
                size_t count = 1 + random.below(8);
                size /= count;
                slot.block = static_cast<unsigned char*>(heap.allocate_zeroed(count, size));
                size *= count;
            } else {
                slot.block = static_cast<unsigned char*>(heap.allocate(size));
            }
            if (!slot.block) {
                note_failure(step);
                continue;
            }
            slot.size = size;
            slot.seed = next_seed++;
            live_bytes += size;
            mark(slot);
        } else {
            EXPECT_TRUE(marked(slot)) << "step " << step << ": a live block changed";
            if (roll < 60) {
                heap.free(slot.block);
                live_bytes -= slot.size;
                slot = {};
            } else {
                size_t size = random_size(random);
                unsigned char* moved = static_cast<unsigned char*>(heap.reallocate(slot.block, size));
                if (size == 0) {
                    live_bytes -= slot.size;
                    slot = {};
                    continue;
                }
                if (!moved) {
                    note_failure(step);
                    continue;
                }
                live_bytes = live_bytes - slot.size + size;
                slot.block = moved;
                slot.size = size;
                slot.seed = next_seed++;
                mark(slot);
            }
        }
        if (source.commit_pages() * kPage > result.peak_commit_bytes) result.peak_commit_bytes = source.commit_pages() * kPage;
        if (live_bytes > result.peak_live_bytes) result.peak_live_bytes = live_bytes;
        if (step % 16 == 0 && source.regions() > result.peak_regions) result.peak_regions = source.regions();
    }
    heap.check_invariants();
    for (Slot& slot : slots) {
        if (!slot.block) continue;
        EXPECT_TRUE(marked(slot));
        heap.free(slot.block);
    }
    return result;
}

HeapOptions default_options() {
    HeapOptions options;
    options.secret = 0x1234567;
    return options;
}

}  // namespace

// Measured without a limit: what the workload commits at its peak, against its live data.
TEST(MallocCommitBudget, MalloctestFootprint) {
    TestMemorySource source;
    Heap heap{source, default_options()};
    Replay replay = replay_malloctest(heap, source);
    EXPECT_EQ(replay.failures, 0u);
    printf("  peak live %zu KiB, peak committed %zu KiB, peak regions %zu\n", replay.peak_live_bytes / 1024,
           replay.peak_commit_bytes / 1024, replay.peak_regions);
}

// The machine that failed: every allocation must succeed within the limit, in few regions.
TEST(MallocCommitBudget, MalloctestFitsAnEightMiBMachineWithoutSwap) {
    TestMemorySource source;
    source.commit_budget = kEightMiBLimit;
    Heap heap{source, default_options()};
    Replay replay = replay_malloctest(heap, source);
    EXPECT_EQ(replay.failures, 0u) << "first at step " << replay.first_failure;
    EXPECT_LE(replay.peak_commit_bytes, kEightMiBLimit);
    EXPECT_LT(replay.peak_regions, kRegionLimit / 2);
    printf("  peak live %zu KiB, peak committed %zu KiB, peak regions %zu\n", replay.peak_live_bytes / 1024,
           replay.peak_commit_bytes / 1024, replay.peak_regions);
}
