// MallocPlacementTest.cpp: each policy places blocks the way its textbook description says.
//
// The fit policies get the same heap with three holes of different sizes between guard blocks:
//
//   | hole 400 | g | hole 1000 | g | hole 600 | g | ......... free top of the heap ......... |
//
// and must pick: first fit the lowest hole that fits, best fit the smallest, worst fit the largest (the
// top), next fit the first fit after where it stopped last. Then splitting and coalescing, the buddy
// system's rounding and merging, and the segregated policy's classes.
#include <gtest/gtest.h>

#include <vector>

#include "libc/malloc/Heap.h"
#include "tests/host/MallocTestSupport.h"

using Malloc::Heap;
using Malloc::HeapOptions;
using Malloc::Policy;
using MallocTest::TestMemorySource;

namespace {

struct Holes {
    char* small;   // 400 bytes
    char* large;   // 1000
    char* medium;  // 600
    char* last_guard;
};

class MallocPlacementTest : public testing::Test {
protected:
    Heap& make(Policy policy) {
        HeapOptions options;
        options.policy = policy;
        heap = std::make_unique<Heap>(source, options);
        return *heap;
    }
    Holes make_holes() {
        Holes holes;
        holes.small = static_cast<char*>(heap->allocate(400));
        heap->allocate(32);
        holes.large = static_cast<char*>(heap->allocate(1000));
        heap->allocate(32);
        holes.medium = static_cast<char*>(heap->allocate(600));
        holes.last_guard = static_cast<char*>(heap->allocate(32));
        EXPECT_LT(holes.small, holes.large);
        EXPECT_LT(holes.large, holes.medium);
        heap->free(holes.small);
        heap->free(holes.large);
        heap->free(holes.medium);
        heap->check_invariants();
        return holes;
    }
    TestMemorySource source;
    std::unique_ptr<Heap> heap;
};

}  // namespace

TEST_F(MallocPlacementTest, FirstFitTakesTheLowestHoleThatFits) {
    make(Policy::First);
    Holes holes = make_holes();
    EXPECT_EQ(heap->allocate(500), holes.large);  // the 400 hole is too small; 1000 is the first that fits
    EXPECT_EQ(heap->allocate(300), holes.small);
    heap->check_invariants();
}

TEST_F(MallocPlacementTest, BestFitTakesTheSmallestHoleThatFits) {
    make(Policy::Best);
    Holes holes = make_holes();
    EXPECT_EQ(heap->allocate(500), holes.medium);  // 600 is the tightest fit for 500
    EXPECT_EQ(heap->allocate(300), holes.small);
    EXPECT_EQ(heap->allocate(900), holes.large);
    heap->check_invariants();
}

TEST_F(MallocPlacementTest, WorstFitTakesTheLargestFreeBlock) {
    make(Policy::Worst);
    Holes holes = make_holes();
    char* block = static_cast<char*>(heap->allocate(300));
    EXPECT_GT(block, holes.last_guard);  // the free top of the heap is the largest block
    heap->check_invariants();
}

TEST_F(MallocPlacementTest, NextFitContinuesWhereItStopped) {
    make(Policy::Next);
    Holes holes = make_holes();
    // The last allocation (the last guard) was carved from the top of the heap, so the search starts
    // there: the holes below are passed over although the 1000 hole fits.
    char* block = static_cast<char*>(heap->allocate(900));
    EXPECT_GT(block, holes.last_guard);
    // Use up the rest of the top exactly; the search then wraps around to the lowest hole that fits.
    size_t top = heap->statistics().largest_free_block;
    EXPECT_GT(heap->allocate(top - 16), static_cast<void*>(block));
    EXPECT_EQ(heap->allocate(300), holes.small);
    heap->check_invariants();

    make(Policy::First);  // the contrast, on a fresh heap
    Holes first = make_holes();
    EXPECT_EQ(heap->allocate(900), first.large);
}

TEST_F(MallocPlacementTest, SplittingLeavesTheRestFreeInPlace) {
    make(Policy::First);
    Holes holes = make_holes();
    Malloc::Statistics before = heap->statistics();
    // First fit finds the 400 hole (a 416-byte block); 200 bytes need 224 with the header, so the block
    // splits into 224 used and 192 free.
    char* block = static_cast<char*>(heap->allocate(200));
    EXPECT_EQ(block, holes.small);
    Malloc::Statistics after = heap->statistics();
    EXPECT_EQ(after.free_blocks, before.free_blocks);  // the remainder is still a free block
    EXPECT_EQ(after.free_bytes, before.free_bytes - 224);
    // 150 bytes need 176: the 192-byte remainder is used whole (16 bytes could not be a block).
    EXPECT_EQ(heap->allocate(150), holes.small + 224);
    EXPECT_EQ(heap->statistics().free_blocks, before.free_blocks - 1);
    heap->check_invariants();
}

TEST_F(MallocPlacementTest, ImmediateCoalescingJoinsNeighboursInAnyOrder) {
    for (int order = 0; order < 6; ++order) {
        make(Policy::Best);
        char* blocks[5];
        for (char*& block : blocks) block = static_cast<char*>(heap->allocate(100));
        size_t free_blocks = heap->statistics().free_blocks;  // the top
        int sequences[6][3] = {{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}};
        for (int i : sequences[order]) heap->free(blocks[i]);
        Malloc::Statistics s = heap->statistics();
        EXPECT_EQ(s.free_blocks, free_blocks + 1) << "order " << order;  // blocks 1-3 are one free block
        EXPECT_EQ(heap->allocate(3 * 128 - 16), blocks[1]) << "the joined block holds all three";
        heap->check_invariants();
    }
}

TEST_F(MallocPlacementTest, BuddyRoundsUpToPowersOfTwoAndMergesBuddies) {
    make(Policy::Buddy);
    char* a = static_cast<char*>(heap->allocate(100));  // 100 + 16 -> a 128-byte block
    char* b = static_cast<char*>(heap->allocate(100));
    EXPECT_EQ(heap->usable_size(a), 112u);
    EXPECT_EQ(b, a + 128);  // b is a's buddy: the other half of a 256-byte block
    EXPECT_EQ(heap->usable_size(heap->allocate(1000)), 1024u - 16);
    EXPECT_EQ(heap->usable_size(heap->allocate(1009)), 2048u - 16);
    Malloc::Statistics s = heap->statistics();
    EXPECT_EQ(s.alignment_bytes, (112u - 100) * 2 + (1008 - 1000) + (2032 - 1009));
    heap->free(a);
    EXPECT_EQ(heap->statistics().free_blocks, s.free_blocks + 1);  // a cannot merge: b is in use
    heap->free(b);
    // a and b merge into 256 bytes, which merges with its free buddy (256), and that with its buddy (512);
    // the 1024-byte buddy is in use, so the merging stops at one free 1024-byte block: the two free
    // buddies are gone, one block is new.
    EXPECT_EQ(heap->statistics().free_blocks, s.free_blocks - 1);
    EXPECT_EQ(heap->allocate(200), a);  // split again from the merged block
    heap->check_invariants();
}

TEST_F(MallocPlacementTest, BuddyReallocGrowsIntoAFreeBuddyInPlace) {
    make(Policy::Buddy);
    char* a = static_cast<char*>(heap->allocate(100));
    EXPECT_EQ(heap->reallocate(a, 200), a);   // the upper buddy (128 bytes) is free: 256 in place
    EXPECT_EQ(heap->reallocate(a, 1000), a);  // and up to 1024
    EXPECT_EQ(heap->usable_size(a), 1008u);
    EXPECT_EQ(heap->reallocate(a, 50), a);  // shrinking gives the upper halves back
    EXPECT_EQ(heap->usable_size(a), 112u);
    heap->check_invariants();
}

TEST_F(MallocPlacementTest, SegregatedBlocksAreTheirClassSize) {
    make(Policy::Segregated);
    struct {
        size_t request, usable;
    } cases[] = {{0, 16},      {1, 16},      {16, 16},     {17, 32},         {250, 256},      {257, 288},
                 {1000, 1024}, {1025, 1152}, {5000, 5120}, {100000, 114688}, {131072, 131072}};
    for (auto& c : cases) EXPECT_EQ(heap->usable_size(heap->allocate(c.request)), c.usable) << c.request;
    // Same-class blocks sit side by side in a page, power-of-two classes on their own alignment.
    char* first = static_cast<char*>(heap->allocate(64));
    char* second = static_cast<char*>(heap->allocate(64));
    EXPECT_EQ(second, first + 64);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
    // LIFO: a freed block is the next one handed out.
    heap->free(first);
    EXPECT_EQ(heap->allocate(60), first);
    heap->check_invariants();
}

TEST_F(MallocPlacementTest, SegregatedEmptyPagesGoBack) {
    make(Policy::Segregated);
    std::vector<void*> blocks;
    constexpr size_t kSlice = Malloc::SegregatedAllocator::kSliceBytes;
    for (int i = 0; i < 3 * 4096; ++i) blocks.push_back(heap->allocate(48));  // 576 KiB: many pages, one segment
    Malloc::Statistics full = heap->statistics();
    for (void* block : blocks) heap->free(block);
    Malloc::Statistics empty = heap->statistics();
    EXPECT_EQ(empty.live_blocks, 0u);
    // All but the class's last page went back to the segment as free slices; the last one is retired
    // (kept a while for hysteresis) until malloc_trim.
    EXPECT_GE(empty.free_bytes, 62 * kSlice);
    EXPECT_GT(empty.free_bytes, full.free_bytes + 8 * kSlice);
    heap->release_free_memory();
    EXPECT_EQ(heap->statistics().largest_free_block, 63 * kSlice);  // every slice but the header
    heap->check_invariants();
}

// Growing a class: a spare block of a larger class (up to twice the request) comes before memory never
// touched; the lender keeps a memory page's worth of free blocks for itself.
TEST_F(MallocPlacementTest, SegregatedBorrowsASpareLargerBlockBeforeTouchingFreshMemory) {
    make(Policy::Segregated);
    // A 1024-byte page: its first memory page holds four blocks, carved together.
    std::vector<char*> own{static_cast<char*>(heap->allocate(1024))};
    std::vector<char*> lender;
    for (int i = 0; i < 8; ++i) lender.push_back(static_cast<char*>(heap->allocate(2048)));
    for (int i = 2; i < 8; ++i) heap->free(lender[i]);  // six spare 2048-byte blocks: 12 KiB
    for (int i = 1; i < 4; ++i) own.push_back(static_cast<char*>(heap->allocate(1024)));
    for (char* block : own) EXPECT_EQ(heap->usable_size(block), 1024u);
    EXPECT_EQ(own[3], own[0] + 3 * 1024);
    // The fifth would touch a new memory page: it gets the lender's most recently freed block instead,
    // and so on while the lender has more than 4 KiB spare (three more times).
    std::vector<char*> borrowed;
    for (int i = 0; i < 4; ++i) borrowed.push_back(static_cast<char*>(heap->allocate(1024)));
    EXPECT_EQ(borrowed[0], lender[7]);
    for (char* block : borrowed) EXPECT_EQ(heap->usable_size(block), 2048u);
    char* fresh = static_cast<char*>(heap->allocate(1024));  // the lender is down to 4 KiB spare
    EXPECT_EQ(heap->usable_size(fresh), 1024u);
    EXPECT_EQ(fresh, own[0] + 4 * 1024);
    // A borrowed block goes back to its own page.
    heap->free(borrowed[3]);
    EXPECT_EQ(heap->allocate(2048), borrowed[3]);
    // Aligned requests never borrow: a larger class's blocks need not have the alignment.
    heap->free(lender[0]);
    heap->free(lender[1]);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(heap->usable_size(heap->allocate(1024)), 1024u);
    void* aligned = heap->allocate_aligned(1024, 1024);
    EXPECT_EQ(heap->usable_size(aligned), 1024u);
    heap->check_invariants();
}

// Free blocks on another queued page of the class are used before the head page grows.
TEST_F(MallocPlacementTest, SegregatedUsesFreeBlocksOnOtherPagesBeforeGrowing) {
    make(Policy::Segregated);
    constexpr size_t kPerPage = 65536 / 48;
    std::vector<char*> blocks;
    for (size_t i = 0; i < kPerPage + 10; ++i) blocks.push_back(static_cast<char*>(heap->allocate(48)));
    char* first_page = blocks[0];
    char* second_page = blocks[kPerPage];
    ASSERT_NE(reinterpret_cast<uintptr_t>(first_page) >> 16, reinterpret_cast<uintptr_t>(second_page) >> 16);
    heap->free(blocks[5]);  // the full first page rejoins the queue behind the second
    // The second page's touched memory page serves first; then, rather than touch its next memory page,
    // the freed block on the first page comes back.
    char* touched_end = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(blocks.back()) | 4095) + 1);
    for (int i = 0; i < 200; ++i) {
        char* block = static_cast<char*>(heap->allocate(48));
        if (block == blocks[5]) break;
        ASSERT_LE(block + 48, touched_end) << "grew into a new memory page with a free block elsewhere";
    }
    heap->check_invariants();
}

TEST_F(MallocPlacementTest, TheWorkedExampleInDocsMallocMd) {
    // docs/malloc.md, "A worked example": block sizes 128, 320, 128, 224, 128 from the start of the heap.
    for (Policy policy : {Policy::First, Policy::Next, Policy::Best, Policy::Worst}) {
        make(policy);
        char* a = static_cast<char*>(heap->allocate(100));
        char* b = static_cast<char*>(heap->allocate(300));
        char* c = static_cast<char*>(heap->allocate(100));
        char* d = static_cast<char*>(heap->allocate(200));
        char* e = static_cast<char*>(heap->allocate(100));
        ASSERT_EQ(b - a, 128);
        ASSERT_EQ(c - a, 448);
        ASSERT_EQ(d - a, 576);
        ASSERT_EQ(e - a, 800);
        heap->free(b);
        heap->free(d);
        Malloc::Statistics s = heap->statistics();
        EXPECT_EQ(s.free_blocks, 3u);
        EXPECT_EQ(s.largest_free_block, 65536u - 16 - 928);  // the top: 64592
        char* x = static_cast<char*>(heap->allocate(150));   // a 176-byte block
        char* expected = policy == Policy::First ? b : policy == Policy::Best ? d : a + 928;
        EXPECT_EQ(x, expected) << Malloc::policy_name(policy);
        if (policy == Policy::First) {
            // The 320 block split: 176 used, 144 free; freeing C joins 144 + 128 + 224.
            heap->free(c);
            Malloc::Statistics joined = heap->statistics();
            EXPECT_EQ(joined.free_blocks, 2u);
            EXPECT_EQ(joined.free_bytes, 496u + 64592u);
            EXPECT_EQ(heap->allocate(496 - 16), a + 128 + 176);
        }
        heap->check_invariants();
    }
}
