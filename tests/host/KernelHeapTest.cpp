// KernelHeapTest.cpp: mm/heap/KernelHeap (kmalloc/kfree/kmalloc_usable_size and named caches) over host page
// sources: size-class selection, large blocks, the page-tag lookup, misuse, out-of-memory, slabinfo, and a
// model-based random walk over mixed sizes in release and debug mode.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "mm/heap/KernelHeap.h"
#include "tests/host/SlabTestSupport.h"

namespace {

using Heap = KernelHeap<HostPageSource, NoLock>;

template <typename AnyHeap>
std::string invariant_message(AnyHeap& heap) {
    std::string text;
    heap.check_invariants([](void* c, const char* s, size_t n) { static_cast<std::string*>(c)->append(s, n); }, &text);
    return text;
}

void fill(void* object, size_t size, u8 seed) {
    for (size_t i = 0; i < size; ++i) static_cast<u8*>(object)[i] = u8(seed ^ (i * 13));
}
bool holds(const void* object, size_t size, u8 seed) {
    for (size_t i = 0; i < size; ++i)
        if (static_cast<const u8*>(object)[i] != u8(seed ^ (i * 13))) return false;
    return true;
}

TEST(Kmalloc, SizeClassIsTheSmallestThatFits) {
    const size_t* classes = Heap::kClassSizes;
    for (size_t size = 0; size <= Heap::kMaxSmallSize; ++size) {
        size_t index = Heap::class_index(size);
        ASSERT_LT(index, Heap::kClassCount);
        EXPECT_GE(classes[index], size) << size;
        if (index > 0) {
            EXPECT_LT(classes[index - 1], size) << size;
        }
    }
    EXPECT_EQ(classes[Heap::class_index(65)], 96u);
    EXPECT_EQ(classes[Heap::class_index(129)], 192u);
    EXPECT_EQ(classes[Heap::class_index(193)], 256u);
}

TEST(Kmalloc, ObjectsComeFromTheirClassAndAreAligned) {
    HostPageSource source;
    Heap heap(source, false);
    for (size_t size :
         {0, 1, 8, 9, 16, 17, 64, 65, 96, 100, 128, 150, 192, 200, 256, 300, 512, 700, 1024, 1500, 2048}) {
        void* object = heap.allocate(size);
        ASSERT_NE(object, nullptr) << size;
        size_t expected = Heap::kClassSizes[Heap::class_index(size)];
        EXPECT_EQ(heap.usable_size(object), expected) << size;
        EXPECT_EQ(reinterpret_cast<uptr>(object) % (expected < 16 ? 8 : 16), 0u) << size;
        EXPECT_EQ(heap.cache_for_size(size).statistics().objects_in_use, 1u) << size;
        fill(object, heap.usable_size(object), 3);
        heap.deallocate(object);
    }
    EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);
}

TEST(Kmalloc, ZeroAndNull) {
    HostPageSource source;
    Heap heap(source, false);
    void* a = heap.allocate(0);
    void* b = heap.allocate(0);
    EXPECT_NE(a, nullptr);
    EXPECT_NE(a, b);
    heap.deallocate(nullptr);  // no-op
    EXPECT_EQ(heap.usable_size(nullptr), 0u);
    heap.deallocate(a);
    heap.deallocate(b);
}

TEST(Kmalloc, LargeBlocksAreWholePagesWithoutAHeader) {
    HostPageSource source;
    Heap heap(source, false);
    size_t pages_before = source.pages_in_use();
    void* page = heap.allocate(4096);
    ASSERT_NE(page, nullptr);
    EXPECT_EQ(reinterpret_cast<uptr>(page) % 4096, 0u);
    EXPECT_EQ(source.pages_in_use() - pages_before, 1u) << "kmalloc(4096) takes exactly one page";
    EXPECT_EQ(heap.usable_size(page), 4096u);
    void* two = heap.allocate(5000);
    EXPECT_EQ(heap.usable_size(two), 8192u);
    void* three = heap.allocate(2049);
    EXPECT_EQ(heap.usable_size(three), 4096u);
    void* big = heap.allocate(3 * 4096 + 1);
    EXPECT_EQ(heap.usable_size(big), 16384u);
    EXPECT_EQ(heap.large_blocks(), 4u);
    EXPECT_EQ(heap.large_bytes(), 4096u + 8192u + 4096u + 16384u);
    fill(big, 16384, 9);
    for (void* p : {page, two, three, big}) heap.deallocate(p);
    EXPECT_EQ(heap.large_blocks(), 0u);
    EXPECT_EQ(source.pages_in_use(), pages_before);
    EXPECT_EQ(heap.allocate(size_t(-1)), nullptr) << "no overflow on huge requests";
    EXPECT_EQ(heap.allocate(size_t(-1) - 4000), nullptr);
}

TEST(Kmalloc, OutOfMemoryReturnsNullWithoutLeaks) {
    HostPageSource source;
    {
        Heap heap(source, false);
        source.fail_all(true);
        EXPECT_EQ(heap.allocate(64), nullptr);
        EXPECT_EQ(heap.allocate(100000), nullptr);
        EXPECT_EQ(heap.create_cache({.name = "nope", .object_size = 40}).error(), Error::NoMemory);
        EXPECT_EQ(source.pages_in_use(), 0u);
        source.fail_all(false);
        void* object = heap.allocate(64);
        EXPECT_NE(object, nullptr);
        EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);
        heap.deallocate(object);
    }
    EXPECT_EQ(source.pages_in_use(), 0u);
}

TEST(Kmalloc, FailedAllocationShrinksOtherCachesAndRetries) {
    // A page source with exactly one free page: the heap must give back an empty slab of another class
    // before the second class can get its slab.
    struct OnePageSource : HostPageSource {
        ErrorOr<void*> allocate_pages(unsigned order) {
            if (pages_in_use() + (size_t(1) << order) > 1) return Error::NoMemory;
            return HostPageSource::allocate_pages(order);
        }
    };
    OnePageSource source;
    KernelHeap<OnePageSource, NoLock> heap(source, false);
    void* small = heap.allocate(32);
    ASSERT_NE(small, nullptr);
    heap.deallocate(small);  // the kmalloc-32 slab is now empty but kept
    EXPECT_EQ(source.pages_in_use(), 1u);
    void* other = heap.allocate(64);
    EXPECT_NE(other, nullptr) << "the empty kmalloc-32 slab should have been reclaimed";
    EXPECT_EQ(heap.cache_for_size(32).statistics().slabs_empty, 0u);
    heap.deallocate(other);
}

TEST(Kmalloc, NamedCachesAreRegisteredAndListed) {
    HostPageSource source;
    Heap heap(source, false);
    auto task_cache = heap.create_cache({.name = "task", .object_size = 300, .alignment = 64});
    ASSERT_FALSE(task_cache.is_error());
    auto inode_cache = heap.create_cache({.name = "inode", .object_size = 72});
    ASSERT_FALSE(inode_cache.is_error());
    EXPECT_EQ(heap.create_cache({.name = "bad", .object_size = 0}).error(), Error::Invalid);
    EXPECT_EQ(heap.create_cache({.name = "bad", .object_size = 8, .alignment = 3}).error(), Error::Invalid);

    void* task = task_cache.value()->allocate();
    EXPECT_EQ(reinterpret_cast<uptr>(task) % 64, 0u);
    std::vector<std::string> names;
    heap.for_each_cache([&](Heap::Cache& cache) { names.push_back(cache.name()); });
    ASSERT_EQ(names.size(), Heap::kClassCount + 3);
    EXPECT_EQ(names.front(), "kmalloc-8");
    EXPECT_EQ(names[Heap::kClassCount - 1], "kmalloc-2048");
    EXPECT_NE(std::find(names.begin(), names.end(), "task"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "inode"), names.end());
    EXPECT_EQ(names.back(), "slab-caches");

    // kfree of a named cache's object goes back to that cache (the page tag names it).
    EXPECT_EQ(heap.usable_size(task), 300u);
    heap.deallocate(task);
    EXPECT_EQ(task_cache.value()->statistics().objects_in_use, 0u);
    heap.destroy_cache(task_cache.value());
    names.clear();
    heap.for_each_cache([&](Heap::Cache& cache) { names.push_back(cache.name()); });
    EXPECT_EQ(std::find(names.begin(), names.end(), "task"), names.end());
    EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);
    // inode is destroyed with the heap.
}

TEST(Kmalloc, SlabinfoListsEveryCache) {
    HostPageSource source;
    Heap heap(source, false);
    void* a = heap.allocate(90);
    void* b = heap.allocate(10000);
    std::string text;
    heap.dump([](void* c, const char* s, size_t n) { static_cast<std::string*>(c)->append(s, n); }, &text);
    EXPECT_NE(text.find("cache"), std::string::npos);
    EXPECT_NE(text.find("kmalloc-96"), std::string::npos) << text;
    EXPECT_NE(text.find("kmalloc-2048"), std::string::npos) << text;
    EXPECT_NE(text.find("large blocks: 1, 16384 bytes"), std::string::npos) << text;
    heap.deallocate(a);
    heap.deallocate(b);
}

TEST(Kmalloc, DebugModeUsableSizeIsTheRequestedSize) {
    HostPageSource source;
    Heap heap(source, true);
    void* object = heap.allocate(50);
    EXPECT_EQ(heap.usable_size(object), 50u);
    fill(object, 50, 1);
    heap.deallocate(object);
    EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);
}

// --- misuse ---------------------------------------------------------------------------------------------

TEST(KmallocDeathTest, FreeOfAPointerNotFromKmalloc) {
    HostPageSource source;
    Heap heap(source, false);
    int local = 0;
    EXPECT_DEATH(heap.deallocate(&local), "kfree: 0x[0-9a-f]+ was not allocated by kmalloc \\(caller 0x[0-9a-f]+\\)");
}

TEST(KmallocDeathTest, FreeInsideALargeBlock) {
    HostPageSource source;
    Heap heap(source, false);
    char* block = static_cast<char*>(heap.allocate(10000));
    EXPECT_DEATH(heap.deallocate(block + 100), "kfree: 0x[0-9a-f]+ is inside a large block");
    EXPECT_DEATH(heap.deallocate(block + 4096), "was not allocated by kmalloc");
    heap.deallocate(block);
}

TEST(KmallocDeathTest, DoubleFreeOfALargeBlock) {
    HostPageSource source;
    Heap heap(source, false);
    void* block = heap.allocate(3000);
    void* keep = heap.allocate(3000);
    heap.deallocate(block);
    EXPECT_DEATH(heap.deallocate(block), "kfree: 0x[0-9a-f]+ was not allocated by kmalloc");
    heap.deallocate(keep);
}

TEST(KmallocDeathTest, DoubleFreeOfASmallObject) {
    HostPageSource source;
    Heap heap(source, false);
    void* object = heap.allocate(40);
    void* keep = heap.allocate(40);
    heap.deallocate(object);
    EXPECT_DEATH(heap.deallocate(object), "slab kmalloc-64: double free of 0x[0-9a-f]+ \\(caller 0x");
    heap.deallocate(keep);
}

TEST(KmallocDeathTest, DebugModeCatchesAWritePastTheRequestedSize) {
    HostPageSource source;
    Heap heap(source, true);
    auto* object = static_cast<u8*>(heap.allocate(50));  // from kmalloc-64
    object[50] = 7;                                      // inside the 64-byte object, but past what was asked for
    EXPECT_DEATH(heap.deallocate(object),
                 "slab kmalloc-64: write past the end of 0x[0-9a-f]+ \\(50-byte object, byte 50 is 0x07");
    object[50] = 0xbb;
    heap.deallocate(object);
}

TEST(KmallocDeathTest, ReportNamesTheCallerPassedByTheGlue) {
    // The kernel's kfree() glue passes __builtin_return_address(0) of its own caller down.
    HostPageSource source;
    Heap heap(source, true);
    void* object = heap.allocate(16);
    void* keep = heap.allocate(16);
    heap.deallocate(object, reinterpret_cast<const void*>(0xC0101234));
    EXPECT_DEATH(heap.deallocate(object, reinterpret_cast<const void*>(0xC0105678)),
                 "slab kmalloc-16: double free of 0x[0-9a-f]+ \\(caller 0x0*c0105678, first freed by 0x0*c0101234\\)");
    heap.deallocate(keep);
}

// --- model-based ----------------------------------------------------------------------------------------

// Over HostPageSource (page tags in a hash map, failures on demand) or ArenaPageSource (a SlabPageTags
// table, which the heap copies: PageTagTableSource).
template <typename Source = HostPageSource>
void random_walk(bool debug, u32 seed) {
    using Heap = KernelHeap<Source, NoLock>;
    constexpr bool kCanFail = std::is_same_v<Source, HostPageSource>;
    std::mt19937 random(seed);
    Source source;
    {
        Heap heap(source, debug);
        struct Live {
            size_t size;
            u8 seed;
        };
        std::map<void*, Live> model;
        std::vector<void*> order;
        size_t expected_large = 0;
        auto random_size = [&]() -> size_t {
            switch (random() % 8) {
            case 0: return random() % 9;
            case 1: return random() % 129;
            case 2: return 64;
            case 3: return 90 + random() % 110;
            case 4: return random() % 2049;
            case 5: return 2049 + random() % 20000;
            default: return random() % 300;
            }
        };
        for (int step = 0; step < 5000; ++step) {
            if constexpr (kCanFail) source.fail_after(random() % 20 == 0 ? long(random() % 2) : -1);
            if (order.empty() || random() % 100 < 55) {
                size_t size = random_size();
                void* object = heap.allocate(size);
                if (object) {
                    ASSERT_EQ(model.count(object), 0u);
                    ASSERT_GE(heap.usable_size(object), size);
                    if (debug && size <= Heap::kMaxSmallSize) {
                        ASSERT_EQ(heap.usable_size(object), size == 0 ? 8u : size);
                    }
                    u8 pattern = u8(random());
                    fill(object, size, pattern);
                    model[object] = {size, pattern};
                    order.push_back(object);
                    if (size > Heap::kMaxSmallSize) ++expected_large;
                } else if constexpr (kCanFail) {
                    ASSERT_GT(source.failures(), 0u) << "allocation failed without a page-source failure";
                } else {
                    FAIL() << "allocation of " << size << " bytes failed";
                }
            } else {
                size_t index = random() % order.size();
                void* object = order[index];
                order[index] = order.back();
                order.pop_back();
                Live live = model[object];
                ASSERT_TRUE(holds(object, live.size, live.seed)) << "contents changed, step " << step;
                model.erase(object);
                heap.deallocate(object);
                if (live.size > Heap::kMaxSmallSize) --expected_large;
            }
            if constexpr (kCanFail) source.fail_after(-1);
            ASSERT_TRUE(heap.check_invariants()) << invariant_message(heap) << " step " << step;
            ASSERT_EQ(heap.large_blocks(), expected_large);
            size_t in_use = 0;
            heap.for_each_cache([&](typename Heap::Cache& cache) {
                if (std::string(cache.name()).rfind("kmalloc-", 0) == 0) in_use += cache.statistics().objects_in_use;
            });
            ASSERT_EQ(in_use, model.size() - expected_large);
        }
        for (auto& [object, live] : model) {
            ASSERT_TRUE(holds(object, live.size, live.seed));
            heap.deallocate(object);
        }
        EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);
        heap.shrink();
        if constexpr (kCanFail) {
            EXPECT_EQ(source.pages_in_use(), 0u) << "after shrink() only the heap's own caches could hold pages";
        }
    }
    if constexpr (kCanFail) {
        EXPECT_EQ(source.pages_in_use(), 0u);
    }
}

TEST(Kmalloc, RandomWalkMatchesModelRelease) { random_walk(false, 424242); }
TEST(Kmalloc, RandomWalkMatchesModelDebug) { random_walk(true, 97531); }
TEST(Kmalloc, RandomWalkOverATagTableMatchesModelRelease) { random_walk<ArenaPageSource>(false, 8642); }
TEST(Kmalloc, RandomWalkOverATagTableMatchesModelDebug) { random_walk<ArenaPageSource>(true, 1357); }

TEST(Kmalloc, ArenaSourceBehavesLikeTheHostSource) {
    ArenaPageSource source(16 * 1024 * 1024);
    KernelHeap<ArenaPageSource, NoLock> heap(source, false);
    std::vector<void*> objects;
    for (int i = 0; i < 2000; ++i) objects.push_back(heap.allocate(size_t(i % 3000)));
    for (void* object : objects) ASSERT_NE(object, nullptr);
    for (void* object : objects) heap.deallocate(object);
    EXPECT_TRUE(heap.check_invariants());
    int local;
    EXPECT_EQ(source.page_tag(&local), 0u) << "addresses outside the arena have no tag";
}

// --- the page tags and kfree's fast path ------------------------------------------------------------------

using ArenaHeap = KernelHeap<ArenaPageSource, NoLock>;

struct Stamp {
    u32 value;
};
void stamp(void* object) { static_cast<Stamp*>(object)->value = 0x5eed; }

TEST(Kmalloc, PageTagNamesTheCacheItsOrderAndWhetherItIsPlain) {
    static_assert(PageTagTableSource<ArenaPageSource> && !PageTagTableSource<HostPageSource>);
    ArenaPageSource source(16 * 1024 * 1024);
    ArenaHeap heap(source, false);
    auto plain = heap.create_cache({.name = "plain", .object_size = 40});
    auto constructed = heap.create_cache({.name = "constructed", .object_size = 40, .constructor = stamp});
    auto debug = heap.create_cache({.name = "debug", .object_size = 40, .debug = true});
    ASSERT_FALSE(plain.is_error() || constructed.is_error() || debug.is_error());
    struct Case {
        void* object;
        ArenaHeap::Cache* cache;
        bool plain;
    };
    const Case cases[] = {
        {heap.allocate(8), &heap.cache_for_size(8), true},
        {heap.allocate(64), &heap.cache_for_size(64), true},
        {heap.allocate(256), &heap.cache_for_size(256), true},
        {heap.allocate(512), &heap.cache_for_size(512), false},  // 8 KiB slabs
        {heap.allocate(2048), &heap.cache_for_size(2048), false},
        {plain.value()->allocate(), plain.value(), true},
        {constructed.value()->allocate(), constructed.value(), false},  // the link lives after the object
        {debug.value()->allocate(), debug.value(), false},
    };
    for (const Case& c : cases) {
        ASSERT_NE(c.object, nullptr) << c.cache->name();
        uptr tag = source.page_tag(c.object);
        EXPECT_EQ(tag, c.cache->page_tag()) << c.cache->name();
        EXPECT_EQ(ArenaHeap::Cache::cache_of_tag(tag), c.cache) << c.cache->name();
        EXPECT_EQ(tag & 1, 0u) << c.cache->name();
        EXPECT_EQ((tag & ArenaHeap::Cache::kTagOrderMask) >> 1, c.cache->slab_order()) << c.cache->name();
        EXPECT_EQ(ArenaHeap::Cache::is_plain_tag(tag), c.plain) << c.cache->name();
        EXPECT_EQ(c.cache->statistics().objects_in_use, 1u) << c.cache->name();
    }
    EXPECT_EQ(static_cast<Stamp*>(cases[6].object)->value, 0x5eedu);
    // kfree routes every one of them, plain or not, back to its cache.
    for (const Case& c : cases) {
        heap.deallocate(c.object);
        EXPECT_EQ(c.cache->statistics().objects_in_use, 0u) << c.cache->name();
    }
    void* again = constructed.value()->allocate();
    EXPECT_EQ(static_cast<Stamp*>(again)->value, 0x5eedu) << "kfree kept the constructed state";
    heap.deallocate(again);
    EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);

    // A debug heap has no plain cache: its kfree takes the general path with every check.
    ArenaHeap debug_heap(source, true);
    void* object = debug_heap.allocate(64);
    EXPECT_FALSE(ArenaHeap::Cache::is_plain_tag(source.page_tag(object)));
    debug_heap.deallocate(object);
}

TEST(Kmalloc, PlainFreeKeepsTheCurrentSlabAndMovesTheOthers) {
    // kfree's fast path decides list moves from the partial-slab count; check it against the lists.
    ArenaPageSource source(16 * 1024 * 1024);
    ArenaHeap heap(source, false);
    ArenaHeap::Cache& cache = heap.cache_for_size(64);
    size_t per_slab = cache.objects_per_slab();
    std::vector<void*> objects;
    for (size_t i = 0; i < 3 * per_slab + 1; ++i) objects.push_back(heap.allocate(64));
    for (size_t round = 0; round < 3; ++round) {
        // Free one object in each full slab (full -> partial), then everything in slab 1 (partial -> empty).
        for (size_t slab = 0; slab < 3; ++slab) heap.deallocate(std::exchange(objects[slab * per_slab], nullptr));
        ASSERT_TRUE(heap.check_invariants()) << invariant_message(heap);
        for (size_t i = per_slab; i < 2 * per_slab; ++i) heap.deallocate(std::exchange(objects[i], nullptr));
        ASSERT_TRUE(heap.check_invariants()) << invariant_message(heap);
        EXPECT_EQ(cache.statistics().slabs_empty, 1u);
        for (void*& object : objects)
            if (!object) object = heap.allocate(64);
        ASSERT_TRUE(heap.check_invariants()) << invariant_message(heap);
    }
    for (void* object : objects) heap.deallocate(object);
    EXPECT_TRUE(heap.check_invariants()) << invariant_message(heap);
    SlabStatistics s = cache.statistics();
    EXPECT_EQ(s.objects_in_use, 0u);
    EXPECT_EQ(s.slabs_full + s.slabs_partial, 0u);
}

TEST(KmallocDeathTest, TagTableFastPathStillRejectsForeignPointers) {
    ArenaPageSource source(16 * 1024 * 1024);
    ArenaHeap heap(source, false);
    int local = 0;
    static int global = 0;
    heap.deallocate(nullptr);  // no-op: address 0 has no tag
    EXPECT_DEATH(heap.deallocate(&local), "kfree: 0x[0-9a-f]+ was not allocated by kmalloc \\(caller 0x");
    EXPECT_DEATH(heap.deallocate(&global), "kfree: 0x[0-9a-f]+ was not allocated by kmalloc");
    char* block = static_cast<char*>(heap.allocate(10000));
    EXPECT_DEATH(heap.deallocate(block + 4096), "was not allocated by kmalloc");  // untagged page of the arena
    EXPECT_DEATH(heap.deallocate(block + 8), "is inside a large block");
    void* object = heap.allocate(64);
    void* keep = heap.allocate(64);
    heap.deallocate(object);
    EXPECT_DEATH(heap.deallocate(object), "slab kmalloc-64: double free of 0x[0-9a-f]+ \\(caller 0x");
    heap.deallocate(keep);
    heap.deallocate(block);
}

}  // namespace
