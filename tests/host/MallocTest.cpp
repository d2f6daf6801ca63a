// MallocTest.cpp: the C allocation semantics of Malloc::Heap, for every policy.
//
// Each test runs once per policy (segregated, first, next, best, worst, buddy) over its own
// TestMemorySource. Model-based randomized runs with a fixed seed check contents, overlap, alignment and
// the heap's invariants after every step; the rest pin down realloc, calloc, zero-size and huge requests,
// exhaustion, hysteresis and the statistics.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "libc/malloc/Heap.h"
#include "tests/host/MallocModel.h"
#include "tests/host/MallocTestSupport.h"

using Malloc::Heap;
using Malloc::HeapOptions;
using Malloc::Policy;
using MallocTest::HeapModel;
using MallocTest::TestMemorySource;

namespace {

HeapOptions options_for(Policy policy) {
    HeapOptions options;
    options.policy = policy;
    options.secret = 0x1234567;
    return options;
}

// "first-list" -> "first_list": a test name is letters, digits and underscores.
std::string policy_test_name(const testing::TestParamInfo<Policy>& info) {
    std::string name = Malloc::policy_name(info.param);
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

class MallocPolicyTest : public testing::TestWithParam<Policy> {
protected:
    TestMemorySource source;
    Heap heap{source, options_for(GetParam())};
    HeapModel model{heap};
};

INSTANTIATE_TEST_SUITE_P(Malloc, MallocPolicyTest, testing::ValuesIn(Malloc::kAllPolicies), policy_test_name);

// A request size: mostly small, some medium, a few above the mmap threshold (128 KiB).
size_t random_size(std::mt19937_64& random) {
    unsigned roll = random() % 100;
    if (roll < 60) return random() % 129;
    if (roll < 85) return random() % 2048;
    if (roll < 97) return random() % (64 * 1024);
    return random() % (600 * 1024);
}

void run_random(HeapModel& model, uint64_t seed, int steps, bool check_every_step) {
    std::mt19937_64 random(seed);
    for (int step = 0; step < steps && model.ok(); ++step) {
        unsigned roll = random() % 100;
        if (roll < 40 || model.live_count() == 0) {
            model.allocate(random_size(random));
        } else if (roll < 70) {
            model.free(model.pick(random()));
        } else if (roll < 85) {
            model.reallocate(model.pick(random()), random_size(random));
        } else if (roll < 92) {
            model.allocate_zeroed(1 + random() % 8, random_size(random) / 8);
        } else {
            size_t alignment = size_t(32) << (random() % 9);                       // 32 .. 8192
            if (random() % 16 == 0) alignment = size_t(1) << (14 + random() % 7);  // up to 1 MiB
            model.allocate_aligned(alignment, random_size(random));
        }
        if (check_every_step || step % 64 == 0) model.check_all();
    }
}

}  // namespace

TEST_P(MallocPolicyTest, SmallRequestsAreAlignedWritableAndDistinct) {
    std::vector<void*> blocks;
    for (size_t size : {0,    1,    8,    15,   16,   17,    24,     100,    255,    256,   257,
                        1000, 1024, 1025, 4096, 5000, 65536, 100000, 131072, 131073, 400000}) {
        void* block = model.allocate(size);
        ASSERT_NE(block, nullptr) << "size " << size;
        EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 16, 0u);
        EXPECT_GE(heap.usable_size(block), size);
        blocks.push_back(block);
    }
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
    for (void* block : blocks) model.free(block);
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
    EXPECT_EQ(heap.statistics().live_blocks, 0u);
}

// A randomized run, then everything freed; the model checks both halves.
void run_and_drain(HeapModel& model, uint64_t seed, int steps, bool check_every_step) {
    run_random(model, seed, steps, check_every_step);
    ASSERT_TRUE(model.ok()) << model.error();
    model.free_all();
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
}

TEST_P(MallocPolicyTest, RandomizedAgainstModelWithInvariantsEveryStep) { run_and_drain(model, 20240601, 6000, true); }

TEST_P(MallocPolicyTest, LongRandomizedRun) { run_and_drain(model, 777, 25000, false); }

TEST_P(MallocPolicyTest, ZeroSizeGivesUniqueBlocks) {
    void* a = heap.allocate(0);
    void* b = heap.allocate(0);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a, b);
    heap.free(a);
    heap.free(b);
    heap.free(nullptr);  // a no-op
    heap.check_invariants();
}

TEST_P(MallocPolicyTest, HugeRequestsFailCleanly) {
    EXPECT_EQ(heap.allocate(SIZE_MAX), nullptr);
    EXPECT_EQ(heap.allocate(SIZE_MAX / 2 + 1), nullptr);
    EXPECT_EQ(heap.allocate(Heap::kMaxRequest + 1), nullptr);
    EXPECT_EQ(heap.allocate_aligned(64, SIZE_MAX - 10), nullptr);
    EXPECT_EQ(heap.allocate_aligned(SIZE_MAX / 2 + 1, 16), nullptr);
    // Larger than the source can ever give: nullptr, and the heap still works.
    EXPECT_EQ(heap.allocate(size_t(1) << 40), nullptr);
    void* small = heap.allocate(32);
    ASSERT_NE(small, nullptr);
    void* grown = heap.reallocate(small, SIZE_MAX - 4096);
    EXPECT_EQ(grown, nullptr);
    EXPECT_GE(heap.usable_size(small), 32u);  // untouched by the failed realloc
    heap.free(small);
    heap.check_invariants();
}

TEST_P(MallocPolicyTest, CallocChecksOverflowAndZeroes) {
    EXPECT_EQ(heap.allocate_zeroed(SIZE_MAX / 2 + 1, 2), nullptr);
    EXPECT_EQ(heap.allocate_zeroed(2, SIZE_MAX / 2 + 1), nullptr);
    EXPECT_EQ(heap.allocate_zeroed(SIZE_MAX, SIZE_MAX), nullptr);
    EXPECT_EQ(heap.allocate_zeroed(size_t(1) << 32, size_t(1) << 32), nullptr);
    void* empty = heap.allocate_zeroed(0, 10);
    EXPECT_NE(empty, nullptr);
    heap.free(empty);
    // Recycled memory is cleared too: dirty a block, free it, calloc the same size.
    for (size_t size : {48, 700, 5000, 200000}) {
        void* dirty = heap.allocate(size);
        ASSERT_NE(dirty, nullptr);
        memset(dirty, 0xAB, size);
        heap.free(dirty);
        unsigned char* clean = static_cast<unsigned char*>(heap.allocate_zeroed(size / 4, 4));
        ASSERT_NE(clean, nullptr);
        for (size_t i = 0; i < size; ++i) ASSERT_EQ(clean[i], 0) << "size " << size << " byte " << i;
        heap.free(clean);
    }
    heap.check_invariants();
}

TEST_P(MallocPolicyTest, ReallocSemantics) {
    // realloc(nullptr, n) is malloc(n).
    char* block = static_cast<char*>(model.reallocate(nullptr, 100));
    ASSERT_NE(block, nullptr);
    // Growing and shrinking keep the contents (the model checks the common prefix every time).
    for (size_t size : {200, 50, 1000, 3000, 17, 70000, 150000, 300000, 40, 1}) {
        block = static_cast<char*>(model.reallocate(block, size));
        ASSERT_NE(block, nullptr) << size;
        model.check_all();
        ASSERT_TRUE(model.ok()) << model.error() << " at size " << size;
    }
    // Shrinking a little stays in place for every policy.
    block = static_cast<char*>(model.reallocate(block, 4000));
    char* same = static_cast<char*>(model.reallocate(block, 3900));
    EXPECT_EQ(same, block);
    // realloc(p, 0) frees p and returns nullptr.
    size_t live = heap.statistics().live_blocks;
    EXPECT_EQ(model.reallocate(same, 0), nullptr);
    EXPECT_EQ(heap.statistics().live_blocks, live - 1);
    ASSERT_TRUE(model.ok()) << model.error();
}

TEST_P(MallocPolicyTest, ReallocFailureLeavesTheBlockIntact) {
    source.fail_map = true;
    void* block = model.allocate(1000);
    ASSERT_NE(block, nullptr);
    // Fill the heap until it runs out, then ask for more than any free block.
    source.set_capacity(source.heap_bytes());
    std::vector<void*> filler;
    while (void* more = model.allocate(1000)) filler.push_back(more);
    EXPECT_EQ(model.reallocate(block, 900000), nullptr);
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
    model.free_all();
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
}

TEST_P(MallocPolicyTest, AlignedAllocationForEveryAlignment) {
    for (size_t alignment = 1; alignment <= (size_t(1) << 21); alignment <<= 1) {
        for (size_t size : {0, 1, 24, 100, 4096, 10000, 300000}) {
            void* block = model.allocate_aligned(alignment, size);
            ASSERT_NE(block, nullptr) << alignment << " " << size;
            EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % alignment, 0u) << alignment << " " << size;
        }
        model.check_all();
        ASSERT_TRUE(model.ok()) << model.error();
    }
    EXPECT_EQ(heap.allocate_aligned(48, 16), nullptr);  // not a power of two
    EXPECT_EQ(heap.allocate_aligned(0, 16), nullptr);
    model.free_all();
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
}

TEST_P(MallocPolicyTest, ExhaustionReturnsNullAndRecovers) {
    source.fail_map = true;
    source.set_capacity(8 << 20);
    std::vector<void*> blocks;
    for (;;) {
        void* block = model.allocate(3000);
        if (!block) break;
        blocks.push_back(block);
        ASSERT_LT(blocks.size(), 100000u);
    }
    EXPECT_GT(blocks.size(), 100u);
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
    // Large requests fail too (no mapping, no heap), cleanly.
    EXPECT_EQ(model.allocate(1 << 20), nullptr);
    // Free half; the freed memory serves new requests.
    for (size_t i = 0; i < blocks.size(); i += 2) model.free(blocks[i]);
    for (size_t i = 0; i < blocks.size() / 4; ++i) EXPECT_NE(model.allocate(3000), nullptr);
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
    model.free_all();
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
}

TEST_P(MallocPolicyTest, LargeBlocksAreMappedAndTheMappingCacheAvoidsRefaultStorms) {
    void* block = heap.allocate(1 << 20);
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(source.map_calls, 1u);
    EXPECT_GE(heap.statistics().mapped_bytes, 1u << 20);
    heap.free(block);
    // Allocating and freeing the same large size again and again reuses one mapping.
    for (int i = 0; i < 100; ++i) {
        void* again = heap.allocate((1 << 20) - i * 64);
        ASSERT_NE(again, nullptr);
        memset(again, i, 4096);
        heap.free(again);
    }
    EXPECT_EQ(source.map_calls, 1u);
    EXPECT_EQ(source.unmap_calls, 0u);
    // A fresh mapping needs no clearing for calloc, a cached one does.
    unsigned char* zeroed = static_cast<unsigned char*>(heap.allocate_zeroed(1, 1 << 20));
    ASSERT_NE(zeroed, nullptr);
    for (size_t i = 0; i < (1 << 20); i += 512) ASSERT_EQ(zeroed[i], 0);
    heap.free(zeroed);
    heap.release_free_memory();
    EXPECT_EQ(source.mapping_count(), 0u);
    heap.check_invariants();
}

// A buffer that realloc grows out of the policy's sizes may take a larger cached mapping (and then grows
// within it, without remapping); a plain malloc of the same size may not (it would pin pages it never uses).
TEST_P(MallocPolicyTest, AGrowingBufferReusesALargerCachedMapping) {
    const size_t threshold = HeapOptions{}.mmap_threshold;
    heap.free(heap.allocate(512 * 1024));  // cached
    size_t maps = source.map_calls;
    heap.free(heap.allocate(threshold + 4096));
    EXPECT_EQ(source.map_calls, maps + 1) << "a plain allocation took a mapping 4x its size";
    heap.release_free_memory();            // the cache is empty again ...
    heap.free(heap.allocate(512 * 1024));  // ... but for one 512 KiB mapping
    maps = source.map_calls;
    char* buffer = static_cast<char*>(heap.allocate(32 * 1024));
    ASSERT_NE(buffer, nullptr);
    memset(buffer, 7, 32 * 1024);
    for (size_t size = 32 * 1024; size < 500 * 1024; size += 4096) {
        buffer = static_cast<char*>(heap.reallocate(buffer, size + 4096));
        ASSERT_NE(buffer, nullptr);
        ASSERT_EQ(buffer[size / 2], 7);
        ASSERT_EQ(buffer[size - 1], 7);
        memset(buffer + size, 7, 4096);
    }
    EXPECT_EQ(source.map_calls, maps) << "the growing buffer mapped instead of reusing the cached 512 KiB";
    EXPECT_EQ(source.remap_calls, 0u);
    heap.free(buffer);
    heap.check_invariants();
}

TEST_P(MallocPolicyTest, MemoryGoesBackWithHysteresis) {
    source.fail_map = true;  // everything in the heap, so the heap has to shrink
    std::vector<void*> blocks;
    // About 20 MB: several segments, arenas or trim thresholds' worth for every policy.
    for (int i = 0; i < 4000; ++i) {
        blocks.push_back(heap.allocate(2000 + (i % 7) * 1000));
        memset(blocks.back(), 1, 2000);
    }
    size_t peak = source.resident_heap_bytes();
    EXPECT_GT(peak, 8u << 20);
    for (void* block : blocks) heap.free(block);
    heap.check_invariants();
    // What stays resident is the hysteresis: bounded, and far below the peak.
    size_t after_free = source.resident_heap_bytes();
    EXPECT_LT(after_free, 4u << 20) << "resident after freeing everything, peak " << peak;
    // Hovering around one size does not extend and shrink each time. (A warm-up first: lazy returns of
    // what was freed above may still happen in it.)
    for (int i = 0; i < 200; ++i) heap.free(heap.allocate(50000));
    size_t extends = source.extend_calls, shrinks = source.shrink_calls;
    for (int i = 0; i < 1000; ++i) {
        void* block = heap.allocate(50000);
        ASSERT_NE(block, nullptr);
        heap.free(block);
    }
    EXPECT_LE(source.extend_calls - extends, 2u);
    EXPECT_LE(source.shrink_calls - shrinks, 2u);
    heap.release_free_memory();
    heap.check_invariants();
    EXPECT_LE(source.resident_heap_bytes(), 256u << 10);
}

TEST_P(MallocPolicyTest, DiscardedMemoryIsNotTrustedToKeepItsContents) {
    source.junk_on_discard = true;
    run_random(model, 31337, 4000, false);
    model.free_all();
    run_random(model, 31338, 4000, false);
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
}

TEST_P(MallocPolicyTest, StatisticsFollowTheProgram) {
    Malloc::Statistics empty = heap.statistics();
    EXPECT_EQ(empty.live_blocks, 0u);
    EXPECT_EQ(empty.policy, GetParam());
    std::vector<void*> blocks;
    for (int i = 0; i < 100; ++i) blocks.push_back(model.allocate(200));
    Malloc::Statistics s = heap.statistics();
    EXPECT_EQ(s.live_blocks, 100u);
    if (s.live_bytes_exact)
        EXPECT_EQ(s.live_bytes, 20000u);
    else
        EXPECT_GE(s.live_bytes, 20000u);
    EXPECT_GT(s.heap_bytes, 20000u);
    // Freeing every other block leaves holes: free memory in more than one piece.
    for (size_t i = 0; i < blocks.size(); i += 2) model.free(blocks[i]);
    s = heap.statistics();
    EXPECT_EQ(s.live_blocks, 50u);
    EXPECT_GT(s.free_blocks, 1u);
    EXPECT_LE(s.largest_free_block, s.free_bytes);
    EXPECT_LT(s.fragmentation_permille(), 1000u);
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
    // malloc_stats output names the policy and the fields.
    std::string text;
    heap.print_statistics([](void* context, const char* piece,
                             size_t length) { static_cast<std::string*>(context)->append(piece, length); },
                          &text);
    EXPECT_NE(text.find(Malloc::policy_name(GetParam())), std::string::npos) << text;
    EXPECT_NE(text.find("fragmentation"), std::string::npos) << text;
    EXPECT_NE(text.find("largest"), std::string::npos) << text;
}

TEST_P(MallocPolicyTest, UnalignedSourceBreakIsHandled) {
    TestMemorySource odd(64 << 20, 4096 + 8);
    Heap odd_heap(odd, options_for(GetParam()));
    HeapModel odd_model(odd_heap);
    run_random(odd_model, 99, 2000, true);
    ASSERT_TRUE(odd_model.ok()) << odd_model.error();
}

TEST_P(MallocPolicyTest, WithoutMapEverythingComesFromTheHeap) {
    source.fail_map = true;
    run_and_drain(model, 4242, 3000, true);
    EXPECT_EQ(source.mapping_count(), 0u);
}

TEST(MallocPolicyNames, ParseAndPrint) {
    for (Policy policy : Malloc::kAllPolicies) {
        Policy parsed = Policy::Buddy;
        ASSERT_TRUE(Malloc::parse_policy(Malloc::policy_name(policy), parsed));
        EXPECT_EQ(parsed, policy);
        EXPECT_NE(std::string(Malloc::policy_name_list()).find(Malloc::policy_name(policy)), std::string::npos);
    }
    Policy policy = Policy::Best;
    EXPECT_TRUE(Malloc::parse_policy("default", policy));
    EXPECT_EQ(policy, Malloc::kDefaultPolicy);
    EXPECT_FALSE(Malloc::parse_policy("bestest", policy));
    EXPECT_FALSE(Malloc::parse_policy("", policy));
    EXPECT_FALSE(Malloc::parse_policy(nullptr, policy));
    EXPECT_EQ(policy, Malloc::kDefaultPolicy);  // untouched by failures
}

// A reservation is not a commitment: the segregated policy reserves 4 MiB segments but commits only what its
// pages use, slice by slice on the slow path (TestMemorySource keeps uncommitted pages PROT_NONE, so touching
// one before committing it would crash this test).
TEST(MallocReservation, SegmentsAreReservedAndCommittedAsPagesAreMade) {
    TestMemorySource source;
    Heap heap{source, options_for(Policy::Segregated)};
    HeapModel model{heap};
    ASSERT_NE(model.allocate(40), nullptr);
    constexpr size_t kSlice = Malloc::SegregatedAllocator::kSliceBytes;
    EXPECT_GE(source.heap_bytes(), Malloc::SegregatedAllocator::kSegmentBytes) << "a whole segment is reserved";
    EXPECT_EQ(source.extend_calls, 0u);
    EXPECT_LE(source.committed_bytes, 2 * kSlice) << "the header and one slice are committed";
    // Four thousand more blocks of the class fill pages: a commit per page (slice), not per block.
    size_t commits = source.commit_calls;
    for (int i = 0; i < 4000; ++i) ASSERT_NE(model.allocate(40), nullptr);
    EXPECT_LE(source.commit_calls - commits, 4000 * 48 / kSlice + 1);
    EXPECT_LE(source.committed_bytes, 256u * 1024);
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
    model.free_all();
}

// A refused commit is out of memory: the allocation fails cleanly, what is live stays intact, and once commits
// succeed again so do allocations.
TEST(MallocReservation, ARefusedCommitFailsTheAllocationAndTheHeapRecovers) {
    TestMemorySource source;
    source.fail_map = true;
    Heap heap{source, options_for(Policy::Segregated)};
    HeapModel model{heap};
    source.fail_commit = true;
    EXPECT_EQ(model.allocate(100), nullptr) << "not even the first segment's header could be committed";
    heap.check_invariants();
    source.fail_commit = false;
    std::vector<void*> blocks;
    for (int i = 0; i < 100; ++i) blocks.push_back(model.allocate(100));
    ASSERT_NE(blocks.back(), nullptr);
    source.fail_commit = true;
    // Blocks of the same class still come from the committed page; a class that needs a new page does not.
    EXPECT_NE(model.allocate(100), nullptr);
    EXPECT_EQ(model.allocate(5000), nullptr);
    // Enough of one class to need a new segment: refused at its header or its first page.
    for (int i = 0; i < 100000 && model.allocate(60000); ++i) {
    }
    EXPECT_EQ(model.allocate(60000), nullptr);
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
    source.fail_commit = false;
    EXPECT_NE(model.allocate(5000), nullptr);
    EXPECT_NE(model.allocate(60000), nullptr);
    model.check_all();
    ASSERT_TRUE(model.ok()) << model.error();
    model.free_all();
    heap.check_invariants();
}
