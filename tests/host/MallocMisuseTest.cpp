// MallocMisuseTest.cpp: misuse is reported with a clear message and aborts, never corrupts silently.
//
// Death tests, for every policy: free of a pointer malloc never returned (inside a block, misaligned, in
// foreign memory), double free (small, aligned and large blocks), realloc and malloc_usable_size of a
// freed block, a block header overwritten by a buffer overrun, and (segregated) a use-after-free write to
// a free block's link.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "libc/malloc/Heap.h"
#include "tests/host/MallocTestSupport.h"

using Malloc::Heap;
using Malloc::HeapOptions;
using Malloc::Policy;
using MallocTest::TestMemorySource;

namespace {

// "first-list" -> "first_list": a test name is letters, digits and underscores.
std::string test_name(const testing::TestParamInfo<Policy>& info) {
    std::string name = Malloc::policy_name(info.param);
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

class MallocMisuseTest : public testing::TestWithParam<Policy> {
protected:
    MallocMisuseTest() {
        HeapOptions options;
        options.policy = GetParam();
        options.secret = 0xC0FFEE;
        heap = std::make_unique<Heap>(source, options);
    }
    TestMemorySource source;
    std::unique_ptr<Heap> heap;
};

INSTANTIATE_TEST_SUITE_P(Malloc, MallocMisuseTest, testing::ValuesIn(Malloc::kAllPolicies),
                         test_name);

}  // namespace

TEST_P(MallocMisuseTest, FreeInsideABlockIsReported) {
    char* block = static_cast<char*>(heap->allocate(200));
    EXPECT_DEATH(heap->free(block + 64), "malloc: free\\(0x[0-9a-f]+\\): invalid pointer");
}

TEST_P(MallocMisuseTest, MisalignedFreeIsReported) {
    char* block = static_cast<char*>(heap->allocate(200));
    EXPECT_DEATH(heap->free(block + 1), "malloc: free\\(0x[0-9a-f]+\\): invalid pointer");
}

TEST_P(MallocMisuseTest, FreeOfForeignMemoryIsReported) {
    heap->allocate(100);  // the heap exists
    std::vector<char> foreign(1 << 16, 0);
    char* pointer = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(foreign.data()) + 8192) & ~uintptr_t(15));
    EXPECT_DEATH(heap->free(pointer), "malloc: free\\(0x[0-9a-f]+\\): invalid pointer: not returned by malloc");
}

TEST_P(MallocMisuseTest, DoubleFreeIsReported) {
    void* keep = heap->allocate(100);
    void* block = heap->allocate(100);
    void* after = heap->allocate(100);
    heap->free(block);
    EXPECT_DEATH(heap->free(block), "malloc: free\\(0x[0-9a-f]+\\): double free");
    (void)keep;
    (void)after;
}

TEST_P(MallocMisuseTest, DoubleFreeAfterCoalescingIsReported) {
    // The freed block melts into free neighbours on both sides (fit, buddy): still caught.
    void* a = heap->allocate(100);
    void* b = heap->allocate(100);
    void* c = heap->allocate(100);
    void* guard = heap->allocate(100);
    heap->free(a);
    heap->free(c);
    heap->free(b);
    EXPECT_DEATH(heap->free(b), "malloc: free\\(0x[0-9a-f]+\\): double free");
    (void)guard;
}

TEST_P(MallocMisuseTest, DoubleFreeOfAlignedBlockIsReported) {
    void* block = heap->allocate_aligned(256, 1000);
    ASSERT_NE(block, nullptr);
    heap->allocate(100);
    heap->free(block);
    EXPECT_DEATH(heap->free(block), "malloc: free\\(0x[0-9a-f]+\\): (double free|invalid pointer)");
}

TEST_P(MallocMisuseTest, DoubleFreeOfLargeBlockIsReported) {
    void* block = heap->allocate(1 << 20);
    heap->free(block);  // the mapping is cached, its header marked free
    EXPECT_DEATH(heap->free(block), "malloc: free\\(0x[0-9a-f]+\\): double free");
}

TEST_P(MallocMisuseTest, ReallocOfFreedBlockIsReported) {
    void* block = heap->allocate(100);
    heap->allocate(100);
    heap->free(block);
    EXPECT_DEATH(heap->reallocate(block, 300), "malloc: realloc\\(0x[0-9a-f]+\\): (use after free|.*free)");
}

TEST_P(MallocMisuseTest, UsableSizeOfInvalidPointerIsReported) {
    char* block = static_cast<char*>(heap->allocate(100));
    EXPECT_DEATH(heap->usable_size(block + 32), "malloc: malloc_usable_size\\(0x[0-9a-f]+\\): invalid pointer");
}

// The policies whose blocks carry headers (the segregated policy's blocks have none).
class MallocHeaderMisuseTest : public MallocMisuseTest {};
INSTANTIATE_TEST_SUITE_P(Malloc, MallocHeaderMisuseTest,
                         testing::Values(Policy::First, Policy::Next, Policy::Best, Policy::Worst, Policy::Buddy,
                                         Policy::FirstList, Policy::NextList, Policy::BestList, Policy::WorstList),
                         test_name);

TEST_P(MallocHeaderMisuseTest, OverwrittenHeaderIsReported) {
    char* first = static_cast<char*>(heap->allocate(100));
    char* second = static_cast<char*>(heap->allocate(100));
    ASSERT_GT(second, first);
    // An overrun of the first block runs into the second block's header.
    memset(first, 'A', static_cast<size_t>(second - first));
    EXPECT_DEATH(heap->free(second), "malloc: free\\(0x[0-9a-f]+\\): .*overwritten");
}

TEST(MallocBuddyMisuse, OverrunIntoFreeBuddyIsCaughtWhenMerging) {
    // A buddy's header is always at a known address, so merging checks it.
    TestMemorySource source;
    HeapOptions options;
    options.policy = Policy::Buddy;
    Heap heap(source, options);
    char* first = static_cast<char*>(heap.allocate(100));   // a 128-byte block ...
    char* second = static_cast<char*>(heap.allocate(100));  // ... and its buddy
    ASSERT_EQ(second, first + 128);
    heap.free(second);
    memset(first, 'B', 140);  // past the end of the first block, over the free buddy's header
    EXPECT_DEATH(heap.free(first), "malloc: heap corruption at 0x[0-9a-f]+: block header overwritten");
}

TEST(MallocSegregatedMisuse, UseAfterFreeWriteIsCaught) {
    // Free blocks link to each other through their first word.
    TestMemorySource source;
    Heap heap(source, HeapOptions{});
    void* a = heap.allocate(64);
    void* b = heap.allocate(64);
    heap.free(a);
    heap.free(b);
    memset(b, 0x41, 16);  // the program writes to a block it freed: its link is now garbage
    EXPECT_DEATH(heap.allocate(64), "malloc: heap corruption at 0x[0-9a-f]+: a free block's link points outside");
}

TEST(MallocSegregatedMisuse, OverwrittenSegmentHeaderIsCaught) {
    TestMemorySource source;
    Heap heap(source, HeapOptions{});
    char* block = static_cast<char*>(heap.allocate(64));
    char* segment = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(block) & ~uintptr_t((4 << 20) - 1));
    memset(segment, 0, 8);  // a stray write over the segment's magic
    EXPECT_DEATH(heap.usable_size(block), "malloc: heap corruption at 0x[0-9a-f]+: segment header overwritten");
}

TEST_P(MallocMisuseTest, CorrectProgramsAreNotReported) {
    // The checks must not fire on legal but unusual use: blocks that look like free blocks, zero sizes,
    // writes up to the usable size.
    std::vector<void*> blocks;
    for (int i = 0; i < 1000; ++i) {
        size_t size = static_cast<size_t>(i * 37 % 3000);
        char* block = static_cast<char*>(heap->allocate(size));
        ASSERT_NE(block, nullptr);
        memset(block, 0, heap->usable_size(block));  // zeros everywhere, including where links would go
        blocks.push_back(block);
    }
    for (size_t i = 0; i < blocks.size(); i += 2) heap->free(blocks[i]);
    for (size_t i = 1; i < blocks.size(); i += 2) heap->free(blocks[i]);
    heap->check_invariants();
}
