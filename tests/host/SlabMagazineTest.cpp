// SlabMagazineTest.cpp: the per-CPU magazines in front of the slab caches (mm/heap/SlabMagazine.h, the
// magazine parts of mm/heap/SlabCache.h and mm/heap/KernelHeap.h; docs/slab.md, "Per-CPU magazines"): the
// stack itself; a refill of one batch when empty and a flush of the oldest batch when full; statistics that
// count magazine objects apart; every CPU's magazines flushed on a shrink, an out-of-memory retry, a destroy;
// debug caches without magazines; the double frees caught on the way in. One thread plays every CPU here
// (the CPU is an argument); SlabMagazineThreadTest.cpp runs them on threads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mm/heap/KernelHeap.h"
#include "tests/host/SlabTestSupport.h"

namespace {

constexpr u32 kCpus = 2;
using Heap = KernelHeap<HostPageSource, NoLock, kCpus>;
using Cache = Heap::Cache;
constexpr u32 kBatch = SlabMagazine::kBatch;
constexpr u32 kCapacity = SlabMagazine::kCapacity;

template <typename Checked>
std::string invariant_message(Checked& checked) {
    std::string text;
    checked.check_invariants([](void* c, const char* s, size_t n) { static_cast<std::string*>(c)->append(s, n); },
                             &text);
    return text;
}

int g_objects[40];

TEST(SlabMagazine, IsALastInFirstOutStackOfBoundedSize) {
    SlabMagazine magazine;
    void* object = nullptr;
    EXPECT_FALSE(magazine.pop(object));
    EXPECT_EQ(magazine.top(), nullptr);
    for (u32 i = 0; i < kCapacity; ++i) EXPECT_TRUE(magazine.push(&g_objects[i]));
    EXPECT_FALSE(magazine.push(&g_objects[kCapacity])) << "full";
    EXPECT_EQ(magazine.top(), &g_objects[kCapacity - 1]);
    EXPECT_TRUE(magazine.contains(&g_objects[0]));
    EXPECT_FALSE(magazine.contains(&g_objects[kCapacity]));
    magazine.drop_oldest(kBatch);
    EXPECT_EQ(magazine.count(), kCapacity - kBatch);
    EXPECT_EQ(magazine.objects()[0], &g_objects[kBatch]) << "the oldest went, the warm rest moved down";
    ASSERT_TRUE(magazine.pop(object));
    EXPECT_EQ(object, &g_objects[kCapacity - 1]);
    EXPECT_EQ(magazine.counters().hits, kCapacity + 1);
}

TEST(SlabMagazine, AnEmptyMagazineRefillsOneBatchUnderTheLock) {
    HostPageSource source;
    Heap heap(source, false);
    Cache& cache = heap.cache_for_size(64);
    ASSERT_TRUE(cache.has_magazines());
    std::vector<void*> objects{heap.allocate(64, nullptr, 0)};
    ASSERT_NE(objects[0], nullptr);
    SlabStatistics s = cache.statistics();
    EXPECT_EQ(s.objects_in_use, 1u);
    EXPECT_EQ(s.objects_in_magazines, kBatch - 1);
    EXPECT_EQ(cache.magazine(0).counters().refills, 1u);
    for (u32 i = 1; i < kBatch; ++i) objects.push_back(heap.allocate(64, nullptr, 0));
    EXPECT_EQ(cache.magazine(0).counters().refills, 1u) << "the batch served the next allocations";
    EXPECT_EQ(cache.magazine(0).counters().hits, kBatch - 1);
    EXPECT_EQ(cache.magazine(1).count(), 0u) << "the other CPU's magazine is untouched";
    EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);
    EXPECT_EQ(cache.statistics().objects_in_magazines, 0u);
    for (void* object : objects) heap.deallocate(object, nullptr, 0);
}

TEST(SlabMagazine, AFullMagazineFlushesItsOldestBatchAndKeepsTheWarmHalf) {
    HostPageSource source;
    Heap heap(source, false);
    Cache& cache = heap.cache_for_size(32);
    std::vector<void*> objects;
    for (u32 i = 0; i < kCapacity + 1; ++i) objects.push_back(heap.allocate(32, nullptr, 1));
    heap.flush_magazines();
    EXPECT_EQ(cache.statistics().objects_in_magazines, 0u);
    for (u32 i = 0; i < kCapacity; ++i) heap.deallocate(objects[i], nullptr, 1);
    EXPECT_EQ(cache.magazine(1).count(), kCapacity);
    EXPECT_EQ(cache.statistics().objects_in_use, 1u);
    heap.deallocate(objects[kCapacity], nullptr, 1);  // the one too many
    EXPECT_EQ(cache.magazine(1).count(), kCapacity - kBatch + 1);
    EXPECT_EQ(cache.magazine(1).counters().flushes, 2u);  // flush_magazines above, and this one
    EXPECT_EQ(cache.magazine(1).top(), objects[kCapacity]);
    EXPECT_FALSE(cache.magazine(1).contains(objects[0])) << "the oldest went back to its slab";
    EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);
    EXPECT_EQ(heap.allocate(32, nullptr, 1), objects[kCapacity]) << "last in, first out";
    heap.deallocate(objects[kCapacity], nullptr, 1);
}

TEST(SlabMagazine, ObjectsMoveBetweenCpusAndAllComeBack) {
    HostPageSource source;
    {
        Heap heap(source, false);
        std::vector<void*> objects;
        for (u32 i = 0; i < 300; ++i) objects.push_back(heap.allocate(8 + (i % 200), nullptr, i % kCpus));
        // Freed on the other CPU: each ends in that CPU's magazine or, flushed, on its slab.
        for (u32 i = 0; i < objects.size(); ++i) heap.deallocate(objects[i], nullptr, (i + 1) % kCpus);
        EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);
        size_t in_use = 0, cached = 0;
        heap.for_each_cache([&](Cache& cache) {
            in_use += cache.statistics().objects_in_use;
            cached += cache.statistics().objects_in_magazines;
        });
        EXPECT_EQ(in_use, 0u) << "objects in magazines are not in use";
        EXPECT_GT(cached, 0u);
        EXPECT_EQ(heap.flush_magazines(), cached);
        heap.shrink();
        EXPECT_EQ(source.pages_in_use(), 0u) << "every slab went back once the magazines were flushed";
    }
    EXPECT_EQ(source.pages_in_use(), 0u);
}

TEST(SlabMagazine, ShrinkFlushesEveryCpusMagazines) {
    HostPageSource source;
    Heap heap(source, false);
    void* object = heap.allocate(128, nullptr, 1);
    heap.deallocate(object, nullptr, 1);
    EXPECT_EQ(heap.cache_for_size(128).statistics().objects_in_magazines, kBatch);
    EXPECT_EQ(source.pages_in_use(), 1u);
    heap.shrink();
    EXPECT_EQ(heap.cache_for_size(128).statistics().objects_in_magazines, 0u);
    EXPECT_EQ(source.pages_in_use(), 0u);
}

TEST(SlabMagazine, OutOfMemoryFlushesAnotherCpusMagazineBeforeFailing) {
    // One page in all: CPU 1's magazine of kmalloc-32 keeps that page's slab alive until it is flushed.
    struct OnePageSource : HostPageSource {
        ErrorOr<void*> allocate_pages(unsigned order) {
            if (pages_in_use() + (size_t(1) << order) > 1) return Error::NoMemory;
            return HostPageSource::allocate_pages(order);
        }
    };
    OnePageSource source;
    KernelHeap<OnePageSource, NoLock, kCpus> heap(source, false);
    heap.deallocate(heap.allocate(32, nullptr, 1), nullptr, 1);
    EXPECT_EQ(heap.cache_for_size(32).statistics().objects_in_magazines, kBatch);
    void* other = heap.allocate(64, nullptr, 0);
    EXPECT_NE(other, nullptr) << "the page held through CPU 1's magazine should have been reclaimed";
    EXPECT_EQ(heap.cache_for_size(32).statistics().memory_bytes, 0u);
    heap.deallocate(other, nullptr, 0);
}

TEST(SlabMagazine, NamedCachesHaveMagazinesAndADestroyFlushesThem) {
    HostPageSource source;
    Heap heap(source, false);
    Cache* cache = heap.create_cache({.name = "task", .object_size = 300, .alignment = 64}).value();
    ASSERT_TRUE(cache->has_magazines());
    void* a = heap.cache_allocate(*cache, nullptr, 0);
    void* b = heap.cache_allocate(*cache, nullptr, 1);
    heap.cache_deallocate(*cache, a, nullptr, 1);
    heap.cache_deallocate(*cache, b, nullptr, 0);
    EXPECT_EQ(cache->statistics().objects_in_use, 0u);
    EXPECT_EQ(cache->statistics().objects_in_magazines, 2 * kBatch);
    heap.destroy_cache(cache);  // would panic if the magazines' objects still counted as in use
    heap.shrink();
    EXPECT_EQ(source.pages_in_use(), 0u);
}

TEST(SlabMagazine, DebugCachesHaveNoMagazines) {
    HostPageSource source;
    Heap heap(source, true);
    EXPECT_FALSE(heap.cache_for_size(64).has_magazines());
    void* object = heap.allocate(50, nullptr, 0);
    EXPECT_EQ(heap.usable_size(object), 50u) << "the debug path recorded the requested size";
    heap.deallocate(object, nullptr, 0);
    EXPECT_EQ(heap.cache_for_size(64).statistics().objects_in_magazines, 0u);
    Cache* named = heap.create_cache({.name = "dbg", .object_size = 40}).value();
    EXPECT_FALSE(named->has_magazines());
    heap.destroy_cache(named);
}

TEST(SlabMagazine, SlabinfoShowsEachCpusMagazines) {
    HostPageSource source;
    Heap heap(source, false);
    heap.deallocate(heap.allocate(64, nullptr, 1), nullptr, 1);
    std::string text;
    heap.dump([](void* c, const char* s, size_t n) { static_cast<std::string*>(c)->append(s, n); }, &text);
    EXPECT_NE(text.find("per-CPU magazines"), std::string::npos) << text;
    std::string per_cpu = text.substr(text.find("per-CPU magazines"));
    // CPU 1 holds 8 objects; one hit (the free: the allocation was served by the refill), one refill.
    EXPECT_NE(per_cpu.find("kmalloc-64         1       8          1        1        0"), std::string::npos) << text;
    EXPECT_EQ(per_cpu.find("kmalloc-32"), std::string::npos) << "unused magazines are not listed";
}

TEST(SlabMagazineDeathTest, TheSameObjectFreedTwiceInARow) {
    HostPageSource source;
    Heap heap(source, false);
    void* object = heap.allocate(64, nullptr, 0);
    heap.deallocate(object, nullptr, 0);
    EXPECT_DEATH(heap.deallocate(object, nullptr, 0), "slab kmalloc-64: double free of");
}

TEST(SlabMagazineDeathTest, AnObjectFreedAgainAfterItsSlabGotItBackIsCaughtWhenFlushed) {
    HostPageSource source;
    Heap heap(source, false);
    void* object = heap.allocate(64, nullptr, 0);
    heap.deallocate(object, nullptr, 0);
    heap.flush_magazines();  // now the head of its slab's free list
    // The second free lands in CPU 1's magazine (the slab is not read without the lock); the slab's own
    // check catches it when that magazine goes back.
    EXPECT_DEATH(
        {
            heap.deallocate(object, nullptr, 1);
            heap.flush_magazines();
        },
        "slab kmalloc-64: double free of");
}

TEST(SlabMagazineDeathTest, AnObjectDeeperInAFullMagazineIsFoundByTheScan) {
    HostPageSource source;
    Heap heap(source, false);
    std::vector<void*> objects;
    for (u32 i = 0; i < kCapacity; ++i) objects.push_back(heap.allocate(64, nullptr, 0));
    heap.flush_magazines();
    for (u32 i = 0; i < kCapacity; ++i) heap.deallocate(objects[i], nullptr, 0);
    EXPECT_DEATH(heap.deallocate(objects[3], nullptr, 0), "slab kmalloc-64: double free of");
}

TEST(SlabMagazineDeathTest, ANamedCacheStillRejectsAForeignPointer) {
    HostPageSource source;
    Heap heap(source, false);
    Cache* a = heap.create_cache({.name = "a", .object_size = 40}).value();
    Cache* b = heap.create_cache({.name = "b", .object_size = 40}).value();
    void* object = heap.cache_allocate(*a, nullptr, 0);
    EXPECT_DEATH(heap.cache_deallocate(*b, object, nullptr, 0), "slab b: .* is not an object of this cache");
    heap.cache_deallocate(*a, object, nullptr, 0);
}

TEST(SlabMagazineDeathTest, DebugModeStillCatchesAWriteAfterFree) {
    HostPageSource source;
    Heap heap(source, true);
    char* object = static_cast<char*>(heap.allocate(64, nullptr, 0));
    heap.deallocate(object, nullptr, 0);
    object[10] = 1;  // the object went back to its slab, poisoned, not to a magazine
    EXPECT_DEATH(heap.allocate(64, nullptr, 0), "slab kmalloc-64: .* written after free");
    object[10] = 0x6b;  // the poison back, so the heap's destructor finds the slab intact
}

}  // namespace
