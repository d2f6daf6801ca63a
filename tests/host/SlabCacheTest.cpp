// SlabCacheTest.cpp: mm/heap/SlabCache against host page sources: layout and slab orders, list transitions,
// colouring, the empty-slab limit, constructors, out-of-memory, misuse (death tests) in release and debug
// mode, and a fixed-seed model-based random walk with contents checks and invariants after every step.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mm/heap/SlabCache.h"
#include "tests/host/SlabTestSupport.h"

namespace {

using Cache = SlabCache<HostPageSource, NoLock>;

std::string invariant_message(const Cache& cache) {
    std::string text;
    cache.check_invariants(
        [](void* context, const char* s, size_t n) { static_cast<std::string*>(context)->append(s, n); }, &text);
    return text;
}
#define EXPECT_INVARIANTS(cache) EXPECT_TRUE((cache).check_invariants()) << invariant_message(cache)

void fill(void* object, size_t size, u8 seed) {
    for (size_t i = 0; i < size; ++i) static_cast<u8*>(object)[i] = u8(seed + i * 7);
}
bool holds(const void* object, size_t size, u8 seed) {
    for (size_t i = 0; i < size; ++i)
        if (static_cast<const u8*>(object)[i] != u8(seed + i * 7)) return false;
    return true;
}

TEST(SlabCache, SixtyFourByteObjectsWasteLessThanThreePercent) {
    HostPageSource source;
    Cache cache(source, {.name = "obj64", .object_size = 64});
    EXPECT_EQ(cache.slab_order(), 0u);
    EXPECT_EQ(cache.stride(), 64u);
    EXPECT_EQ(cache.objects_per_slab(), 63u);  // one slot's worth of room goes to the header (and colour)
    std::vector<void*> objects;
    for (size_t i = 0; i < cache.objects_per_slab(); ++i) objects.push_back(cache.allocate());
    SlabStatistics s = cache.statistics();
    EXPECT_EQ(s.slabs_full, 1u);
    EXPECT_EQ(s.memory_bytes, 4096u);
    EXPECT_EQ(s.live_bytes, 63u * 64u);
    EXPECT_GE(s.efficiency_permille(), 970u) << "overhead above 3%";
    for (void* object : objects) cache.deallocate(object);
}

TEST(SlabCache, SlabOrderKeepsWasteWithinOneSixteenth) {
    HostPageSource source;
    for (size_t size : {8, 24, 64, 96, 100, 192, 256, 500, 512, 1000, 1024, 2048, 3000, 4096, 8192}) {
        Cache cache(source, {.name = "sized", .object_size = size});
        size_t slab = 4096u << cache.slab_order();
        size_t waste = slab - cache.objects_per_slab() * cache.stride();
        EXPECT_GE(cache.objects_per_slab(), 1u) << size;
        if (size <= 2048) {
            EXPECT_LE(waste * 16, slab) << size << " bytes in an order-" << cache.slab_order() << " slab";
        }
        EXPECT_LE(cache.slab_order(), Cache::kMaxOrder);
    }
    Cache c512(source, {.name = "c512", .object_size = 512});
    EXPECT_EQ(c512.slab_order(), 1u);
    Cache c2048(source, {.name = "c2048", .object_size = 2048});
    EXPECT_EQ(c2048.slab_order(), 3u);
    EXPECT_EQ(c2048.objects_per_slab(), 15u);
}

TEST(SlabCache, ObjectsAreAlignedDistinctAndInsideTheirSlab) {
    HostPageSource source;
    for (size_t alignment : {8, 16, 64, 256}) {
        Cache cache(source, {.name = "aligned", .object_size = 40, .alignment = alignment});
        std::set<uptr> seen;
        std::vector<void*> objects;
        for (int i = 0; i < 300; ++i) {
            void* object = cache.allocate();
            ASSERT_NE(object, nullptr);
            EXPECT_EQ(reinterpret_cast<uptr>(object) % alignment, 0u);
            EXPECT_TRUE(seen.insert(reinterpret_cast<uptr>(object)).second);
            objects.push_back(object);
        }
        // Objects never overlap: consecutive addresses are at least a stride apart.
        uptr previous = 0;
        for (uptr address : seen) {
            if (previous) {
                EXPECT_GE(address - previous, cache.stride());
            }
            previous = address;
        }
        for (void* object : objects) cache.deallocate(object);
        EXPECT_INVARIANTS(cache);
    }
}

TEST(SlabCache, SlabsMoveBetweenFullPartialAndEmptyLists) {
    HostPageSource source;
    Cache cache(source, {.name = "lists", .object_size = 512, .empty_slab_limit = 1});
    size_t per_slab = cache.objects_per_slab();
    std::vector<void*> objects;
    for (size_t i = 0; i < per_slab + 1; ++i) objects.push_back(cache.allocate());
    SlabStatistics s = cache.statistics();
    EXPECT_EQ(s.slabs_full, 1u);
    EXPECT_EQ(s.slabs_partial, 1u);
    EXPECT_EQ(s.objects_in_use, per_slab + 1);
    EXPECT_EQ(s.objects_total, 2 * per_slab);
    EXPECT_INVARIANTS(cache);
    cache.deallocate(objects[0]);  // the full slab becomes partial
    s = cache.statistics();
    EXPECT_EQ(s.slabs_full, 0u);
    EXPECT_EQ(s.slabs_partial, 2u);
    cache.deallocate(objects.back());  // the second slab becomes empty and is kept (limit 1)
    s = cache.statistics();
    EXPECT_EQ(s.slabs_partial, 1u);
    EXPECT_EQ(s.slabs_empty, 1u);
    EXPECT_EQ(source.blocks_in_use(), 2u);
    for (size_t i = 1; i < per_slab; ++i) cache.deallocate(objects[i]);
    s = cache.statistics();
    // The first slab emptied as the only partial slab: it stays as the current slab, beside the one kept
    // on the empty list.
    EXPECT_EQ(s.slabs_empty, 2u);
    EXPECT_EQ(s.slabs_partial, 0u);
    EXPECT_EQ(source.blocks_in_use(), 2u);
    EXPECT_EQ(s.objects_in_use, 0u);
    EXPECT_INVARIANTS(cache);
    // A full slab turning partial retires the idle current slab to the empty list, over the limit: freed.
    for (size_t i = 0; i < 2 * per_slab; ++i) objects.push_back(cache.allocate());  // fill both slabs...
    objects.erase(objects.begin(), objects.begin() + long(per_slab + 1));
    objects.push_back(cache.allocate());  // ...and start a third
    EXPECT_EQ(cache.statistics().slabs_full, 2u);
    for (void* object : objects) cache.deallocate(object);
    s = cache.statistics();
    EXPECT_EQ(s.slabs_empty, 2u);
    EXPECT_EQ(source.blocks_in_use(), 2u) << "one of the three slabs went back to the page source";
    EXPECT_INVARIANTS(cache);
    EXPECT_EQ(cache.shrink(), 2u);
    EXPECT_EQ(source.blocks_in_use(), 0u);
}

TEST(SlabCache, EmptySlabIsReusedBeforeAskingThePageSource) {
    HostPageSource source;
    Cache cache(source, {.name = "reuse", .object_size = 100});
    void* object = cache.allocate();
    cache.deallocate(object);
    size_t allocations = source.allocations();
    void* again = cache.allocate();
    EXPECT_EQ(again, object) << "LIFO reuse of a hot object";
    EXPECT_EQ(source.allocations(), allocations);
    cache.deallocate(again);
}

TEST(SlabCache, SuccessiveSlabsAreColoured) {
    HostPageSource source;
    Cache cache(source, {.name = "colour", .object_size = 200, .alignment = 8, .empty_slab_limit = 100});
    // 4096 - header (48) = 4048 = 20 * 200 + 48: colours 0, 8, ..., 48, then wrap to 0.
    std::vector<void*> firsts;
    std::vector<void*> all;
    for (int slab = 0; slab < 9; ++slab) {
        for (size_t i = 0; i < cache.objects_per_slab(); ++i) {
            void* object = cache.allocate();
            if (i == 0) firsts.push_back(object);
            all.push_back(object);
        }
    }
    std::vector<size_t> offsets;
    for (void* first : firsts) offsets.push_back(reinterpret_cast<uptr>(first) % 4096);
    size_t leftover = 4096 - cache.objects_per_slab() * cache.stride() - offsets[0];
    for (size_t i = 1; i < offsets.size(); ++i) {
        size_t expected = offsets[0] + (i * 8) % (leftover + 8);
        EXPECT_EQ(offsets[i], expected) << "slab " << i;
    }
    std::set<size_t> distinct(offsets.begin(), offsets.end());
    EXPECT_GE(distinct.size(), 7u);
    EXPECT_INVARIANTS(cache);
    for (void* object : all) cache.deallocate(object);
}

int g_constructed = 0;
struct Counter {
    u32 magic;
    u32 uses;
};
void construct_counter(void* memory) {
    ++g_constructed;
    new (memory) Counter{0xC0FFEE, 0};
}

TEST(SlabCache, ConstructorRunsOncePerObjectAndStateSurvivesFree) {
    g_constructed = 0;
    HostPageSource source;
    Cache cache(source, {.name = "ctor", .object_size = sizeof(Counter), .constructor = construct_counter});
    auto* counter = static_cast<Counter*>(cache.allocate());
    EXPECT_EQ(size_t(g_constructed), cache.objects_per_slab()) << "the whole slab is constructed at once";
    EXPECT_EQ(counter->magic, 0xC0FFEEu);
    counter->uses = 41;
    cache.deallocate(counter);  // freed in its constructed state
    auto* again = static_cast<Counter*>(cache.allocate());
    ASSERT_EQ(again, counter);
    EXPECT_EQ(again->uses, 41u) << "the free-list link must not overwrite the object";
    EXPECT_EQ(again->magic, 0xC0FFEEu);
    EXPECT_EQ(size_t(g_constructed), cache.objects_per_slab());
    cache.deallocate(again);
}

TEST(SlabCache, DebugModeConstructsOnEveryAllocation) {
    g_constructed = 0;
    HostPageSource source;
    Cache cache(
        source,
        {.name = "ctor-debug", .object_size = sizeof(Counter), .constructor = construct_counter, .debug = true});
    auto* counter = static_cast<Counter*>(cache.allocate());
    EXPECT_EQ(g_constructed, 1);
    EXPECT_EQ(counter->magic, 0xC0FFEEu);
    cache.deallocate(counter);
    counter = static_cast<Counter*>(cache.allocate());
    EXPECT_EQ(g_constructed, 2) << "poisoned on free, so constructed again";
    EXPECT_EQ(counter->magic, 0xC0FFEEu);
    cache.deallocate(counter);
}

TEST(SlabCache, OutOfMemoryReturnsNullAndChangesNothing) {
    HostPageSource source;
    Cache cache(source, {.name = "oom", .object_size = 256});
    std::vector<void*> objects;
    for (size_t i = 0; i < cache.objects_per_slab(); ++i) objects.push_back(cache.allocate());
    source.fail_all(true);
    SlabStatistics before = cache.statistics();
    EXPECT_EQ(cache.allocate(), nullptr);
    EXPECT_EQ(cache.allocate(), nullptr);
    SlabStatistics after = cache.statistics();
    EXPECT_EQ(after.objects_in_use, before.objects_in_use);
    EXPECT_EQ(after.memory_bytes, before.memory_bytes);
    EXPECT_EQ(source.failures(), 2u);
    EXPECT_INVARIANTS(cache);
    // Freeing one makes room without the page source.
    cache.deallocate(objects.back());
    objects.back() = cache.allocate();
    EXPECT_NE(objects.back(), nullptr);
    source.fail_all(false);
    objects.push_back(cache.allocate());
    EXPECT_NE(objects.back(), nullptr);
    for (void* object : objects) cache.deallocate(object);
    EXPECT_INVARIANTS(cache);
}

TEST(SlabCache, StatisticsAndDump) {
    HostPageSource source;
    Cache cache(source, {.name = "dumped", .object_size = 96});
    void* a = cache.allocate();
    void* b = cache.allocate();
    SlabStatistics s = cache.statistics();
    EXPECT_STREQ(s.name, "dumped");
    EXPECT_EQ(s.objects_in_use, 2u);
    EXPECT_EQ(s.objects_total, 42u);
    EXPECT_EQ(s.slabs_partial, 1u);
    EXPECT_EQ(s.efficiency_permille(), 2u * 96u * 1000u / 4096u);
    std::string text;
    cache.dump([](void* context, const char* p, size_t n) { static_cast<std::string*>(context)->append(p, n); }, &text);
    EXPECT_NE(text.find("cache dumped: object 96"), std::string::npos) << text;
    EXPECT_NE(text.find("partial 2/42 in use"), std::string::npos) << text;
    cache.deallocate(a);
    cache.deallocate(b);
}

TEST(SlabCache, InvariantCheckCatchesACorruptedFreeList) {
    HostPageSource source;
    Cache cache(source, {.name = "corrupt", .object_size = 64});
    void* a = cache.allocate();
    void* b = cache.allocate();
    cache.deallocate(a);
    // a is the free-list head; point its link at itself (a cycle), as a use-after-free write would.
    *static_cast<void**>(a) = a;
    EXPECT_FALSE(cache.check_invariants());
    EXPECT_NE(invariant_message(cache).find("free list of slab"), std::string::npos) << invariant_message(cache);
    *static_cast<void**>(a) = static_cast<char*>(b) + 64;  // restore: the next free object after b
    EXPECT_INVARIANTS(cache);
    cache.deallocate(b);
}

// --- misuse ---------------------------------------------------------------------------------------------

TEST(SlabCacheDeathTest, ForeignPointerIsRejected) {
    HostPageSource source;
    Cache cache(source, {.name = "owner", .object_size = 32});
    Cache other(source, {.name = "other", .object_size = 32});
    void* object = other.allocate();
    EXPECT_DEATH(cache.deallocate(object), "slab owner: 0x[0-9a-f]+ is not an object of this cache \\(caller 0x");
    other.deallocate(object);
}

TEST(SlabCacheDeathTest, ReleaseModeCatchesTheCommonDoubleFree) {
    HostPageSource source;
    Cache cache(source, {.name = "twice", .object_size = 32});
    void* object = cache.allocate();
    void* keep = cache.allocate();
    cache.deallocate(object);
    EXPECT_DEATH(cache.deallocate(object), "slab twice: double free of 0x[0-9a-f]+ \\(caller 0x[0-9a-f]+\\)");
    cache.deallocate(keep);
}

TEST(SlabCacheDeathTest, DebugModeCatchesADoubleFreeAnywhereInTheList) {
    HostPageSource source;
    Cache cache(source, {.name = "twice-debug", .object_size = 32, .debug = true});
    void* a = cache.allocate();
    void* b = cache.allocate();
    cache.deallocate(a);
    cache.deallocate(b);  // a is no longer the head
    EXPECT_DEATH(cache.deallocate(a),
                 "slab twice-debug: double free of 0x[0-9a-f]+ \\(caller 0x[0-9a-f]+, first freed");
}

TEST(SlabCacheDeathTest, DebugModeCatchesAWritePastTheEnd) {
    HostPageSource source;
    Cache cache(source, {.name = "overrun", .object_size = 60, .debug = true});
    auto* object = static_cast<u8*>(cache.allocate());
    fill(object, 60, 1);
    object[60] = 0;  // one byte past the end
    EXPECT_DEATH(cache.deallocate(object),
                 "slab overrun: write past the end of 0x[0-9a-f]+ \\(60-byte object, byte 60");
    object[60] = 0xbb;
    cache.deallocate(object);
}

TEST(SlabCacheDeathTest, DebugModeCatchesAWriteAfterFree) {
    HostPageSource source;
    Cache cache(source, {.name = "stale", .object_size = 48, .debug = true});
    auto* object = static_cast<u8*>(cache.allocate());
    cache.deallocate(object);
    object[10] = 1;  // through a dangling pointer
    EXPECT_FALSE(cache.check_invariants());
    EXPECT_DEATH(cache.allocate(), "slab stale: 0x[0-9a-f]+ written after free \\(byte 10 is 0x01");
    object[10] = 0x6b;
}

TEST(SlabCacheDeathTest, DebugChecksReportTheFirstBadByteAtAnyOffset) {
    // The poison and red-zone checks compare eight bytes at a time once aligned: whatever the offset, the
    // report names the first bad byte. 45-byte objects: an odd tail, and a red zone from byte 45 to 56.
    HostPageSource source;
    Cache cache(source, {.name = "offsets", .object_size = 45, .debug = true});
    auto* object = static_cast<u8*>(cache.allocate());
    cache.deallocate(object);
    for (size_t byte : {0, 1, 7, 8, 9, 15, 16, 39, 40, 44}) {
        object[byte] = 1;
        object[44] = byte == 44 ? 1 : 2;  // a later bad byte must not hide the first
        std::string message =
            "slab offsets: 0x[0-9a-f]+ written after free \\(byte " + std::to_string(byte) + " is 0x01";
        EXPECT_DEATH(cache.allocate(), message) << byte;
        object[byte] = object[44] = 0x6b;
    }
    object = static_cast<u8*>(cache.allocate());
    for (size_t byte : {45, 46, 47, 48, 55}) {
        object[byte] = 7;
        object[55] = byte == 55 ? 7 : 8;
        std::string message = "slab offsets: write past the end of 0x[0-9a-f]+ \\(45-byte object, byte " +
                              std::to_string(byte) + " is 0x07";
        EXPECT_DEATH(cache.deallocate(object), message) << byte;
        object[byte] = object[55] = 0xbb;
    }
    cache.deallocate(object);
    EXPECT_TRUE(cache.check_invariants());
}

TEST(SlabCacheDeathTest, DebugModeCatchesAnInteriorPointer) {
    HostPageSource source;
    Cache cache(source, {.name = "inside", .object_size = 64, .debug = true});
    auto* object = static_cast<u8*>(cache.allocate());
    EXPECT_DEATH(cache.deallocate(object + 8), "slab inside: 0x[0-9a-f]+ is not the start of an object");
    cache.deallocate(object);
}

TEST(SlabCacheDeathTest, DestroyingACacheWithLiveObjectsPanics) {
    HostPageSource source;
    EXPECT_DEATH(
        {
            Cache cache(source, {.name = "leaky", .object_size = 64});
            (void)cache.allocate();
        },
        "slab leaky: destroyed with 1 objects in use");
}

TEST(SlabCacheDeathTest, BadConfigurationPanics) {
    HostPageSource source;
    EXPECT_DEATH(Cache(source, {.name = "zero", .object_size = 0}), "VERIFY\\(is_valid\\(config\\)\\)");
    EXPECT_DEATH(Cache(source, {.name = "odd", .object_size = 8, .alignment = 12}), "VERIFY");
    EXPECT_FALSE(Cache::is_valid({.object_size = Cache::kMaxObjectSize + 1}));
}

// --- model-based ----------------------------------------------------------------------------------------

void random_walk(bool debug, u32 seed) {
    std::mt19937 random(seed);
    HostPageSource source;
    {
        Cache small(source, {.name = "walk-small", .object_size = 24, .debug = debug, .empty_slab_limit = 1});
        Cache big(source, {.name = "walk-big", .object_size = 1000, .alignment = 32, .debug = debug});
        Cache* caches[] = {&small, &big};
        struct Live {
            Cache* cache;
            u8 seed;
        };
        std::map<void*, Live> model;
        std::vector<void*> order;  // for picking a random live object
        size_t expected_in_use[2] = {0, 0};
        for (int step = 0; step < 6000; ++step) {
            source.fail_after(random() % 16 == 0 ? long(random() % 2) : -1);
            int which = random() % 2;
            Cache& cache = *caches[which];
            bool do_allocate = order.empty() || random() % 100 < (step < 3000 ? 60 : 40);
            if (do_allocate) {
                void* object = cache.allocate();
                if (!object) {
                    EXPECT_GT(source.failures(), 0u);
                } else {
                    ASSERT_EQ(model.count(object), 0u) << "handed out twice";
                    ASSERT_EQ(reinterpret_cast<uptr>(object) % (which ? 32 : 8), 0u);
                    u8 pattern = u8(random());
                    fill(object, cache.object_size(), pattern);
                    model[object] = {&cache, pattern};
                    order.push_back(object);
                    ++expected_in_use[which];
                }
            } else {
                size_t index = random() % order.size();
                void* object = order[index];
                order[index] = order.back();
                order.pop_back();
                Live live = model[object];
                ASSERT_TRUE(holds(object, live.cache->object_size(), live.seed)) << "contents changed, step " << step;
                model.erase(object);
                live.cache->deallocate(object);
                --expected_in_use[live.cache == &small ? 0 : 1];
            }
            source.fail_after(-1);
            for (int i = 0; i < 2; ++i) {
                ASSERT_TRUE(caches[i]->check_invariants()) << invariant_message(*caches[i]) << " step " << step;
                ASSERT_EQ(caches[i]->statistics().objects_in_use, expected_in_use[i]);
            }
        }
        for (auto& [object, live] : model) {
            ASSERT_TRUE(holds(object, live.cache->object_size(), live.seed));
            live.cache->deallocate(object);
        }
        for (Cache* cache : caches) {
            EXPECT_INVARIANTS(*cache);
            EXPECT_LE(cache->statistics().slabs_empty, cache == &small ? 2u : 3u) << "limit plus the current slab";
        }
    }
    EXPECT_EQ(source.pages_in_use(), 0u) << "destroying the caches returns every slab";
}

TEST(SlabCache, RandomWalkMatchesModelRelease) { random_walk(false, 12345); }
TEST(SlabCache, RandomWalkMatchesModelDebug) { random_walk(true, 6789); }

TEST(SlabCache, MutexLockedCacheSurvivesConcurrentUse) {
    HostPageSource source;
    SlabCache<HostPageSource, MutexLock> cache(source, {.name = "shared", .object_size = 128});
    auto worker = [&](u8 seed) {
        std::vector<void*> mine;
        for (int round = 0; round < 2000; ++round) {
            void* object = cache.allocate();
            ASSERT_NE(object, nullptr);
            fill(object, 128, seed);
            mine.push_back(object);
            if (mine.size() > 50) {
                for (void* o : mine) {
                    ASSERT_TRUE(holds(o, 128, seed));
                    cache.deallocate(o);
                }
                mine.clear();
            }
        }
        for (void* o : mine) cache.deallocate(o);
    };
    std::thread a(worker, 1), b(worker, 2), c(worker, 3);
    a.join();
    b.join();
    c.join();
    EXPECT_TRUE(cache.check_invariants());
    EXPECT_EQ(cache.statistics().objects_in_use, 0u);
}

}  // namespace
