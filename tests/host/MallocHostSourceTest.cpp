// MallocHostSourceTest.cpp: HostMemorySource, the memory the LD_PRELOAD malloc runs on, and a Heap over it.
//
// The host source is not part of the shared core (mk/malloc.mk builds it only into the preload library
// and the replay tool), so this test compiles it in directly.
#include <gtest/gtest.h>

#include <cstring>

#include "libc/malloc/Heap.h"
#include "libc/malloc/host/HostMemorySource.cpp"  // NOLINT: not in the Makefile's shared sources
#include "tests/host/MallocModel.h"

using Malloc::HostMemorySource;

TEST(MallocHostSource, ExtendsContiguouslyAndShrinksToFreshPages) {
    HostMemorySource source;
    ASSERT_TRUE(source.initialize(size_t(1) << 30));
    char* first = static_cast<char*>(source.extend(10000));
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % (4 << 20), 0u);  // segment aligned: no padding needed
    char* second = static_cast<char*>(source.extend(5000));
    EXPECT_EQ(second, first + 10000);
    memset(first, 0x5A, 15000);
    ASSERT_TRUE(source.shrink(15000 - 100));
    char* again = static_cast<char*>(source.extend(8192));
    EXPECT_EQ(again, first + 100);
    EXPECT_EQ(first[99], 0x5A);                          // kept
    EXPECT_EQ(first[4096 + 1], 0);                       // the released pages came back zeroed
    EXPECT_EQ(source.extend(size_t(1) << 31), nullptr);  // beyond the reservation
    EXPECT_FALSE(source.shrink(size_t(1) << 31));
}

TEST(MallocHostSource, MapsRemapsAndDiscards) {
    HostMemorySource source;
    ASSERT_TRUE(source.initialize(size_t(1) << 30));
    char* mapping = static_cast<char*>(source.map(8192));
    ASSERT_NE(mapping, nullptr);
    EXPECT_EQ(mapping[100], 0);
    strcpy(mapping, "kept across remap");
    char* moved = static_cast<char*>(source.remap(mapping, 8192, 1 << 20));
    ASSERT_NE(moved, nullptr);
    EXPECT_STREQ(moved, "kept across remap");
    source.unmap(moved, 1 << 20);
    char* heap = static_cast<char*>(source.extend(1 << 16));
    memset(heap, 1, 1 << 16);
    source.discard(heap + 4096, 8192);
    EXPECT_EQ(heap[4096], 0);
    EXPECT_EQ(heap[0], 1);
}

TEST(MallocHostSource, HeapsOfEveryPolicyRunOnIt) {
    for (Malloc::Policy policy : Malloc::kAllPolicies) {
        HostMemorySource source;
        ASSERT_TRUE(source.initialize(size_t(1) << 32));
        Malloc::HeapOptions options;
        options.policy = policy;
        Malloc::Heap heap(source, options);
        MallocTest::HeapModel model(heap);
        for (int i = 0; i < 3000 && model.ok(); ++i) {
            void* block = model.allocate(static_cast<size_t>((i * 7919) % 70000));
            if (i % 3 == 0) model.free(block);
            if (i % 5 == 0) model.reallocate(model.pick(static_cast<uint64_t>(i)), static_cast<size_t>(i * 13 % 9000));
        }
        model.check_all();
        model.free_all();
        model.check_all();
        ASSERT_TRUE(model.ok()) << Malloc::policy_name(policy) << ": " << model.error();
        heap.release_free_memory();
    }
}
