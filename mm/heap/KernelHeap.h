// KernelHeap.h: kmalloc/kfree as an object: size-class slab caches plus page-sized large blocks, and the
// registry of named caches (kmem_cache_create in Bonwick's terms) for the monitor's `slabinfo`.
//
// Size classes: 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048 bytes. Powers of two alone waste up to
// half of each object; 96 and 192 split the two gaps where common kernel objects fall (between 64 and 128,
// and 128 and 256), as Linux's kmalloc-96/-192 do, and both tile a 4 KiB slab almost exactly (42 x 96 and
// 21 x 192 = 4032 bytes). Requests above 2048 bytes are large blocks: 2^order whole pages straight from
// the page source, order = ceil(log2(pages)).
//
// kfree lookup: every page the heap hands out carries a tag word kept by the page source (see
// mm/heap/SlabPageTags.h; Linux keeps the same in struct page):
//   - slab pages: the owning SlabCache's address with its slab order in bits 2:1 and, in bit 3, whether the
//     cache is plain (order 0, link in the object's first word, not debug: SlabCache::page_tag()); the slab
//     header is the pointer aligned down to that slab size;
//   - the first page of a large block: (order << 1) | 1; other pages of a large block: 0;
//   - pages the heap does not own (and address 0): 0, so kfree of a stack, static or interior pointer
//     panics instead of corrupting memory.
// This costs one load per kfree, no header in large blocks (kmalloc(4096) takes exactly one page) and lets
// each cache pick its best slab order. A self-contained alternative (a header at a fixed alignment) forces
// one slab size on every class or a header page per large block; see docs/slab.md.
//
// Fast paths: kmalloc is one compare and one load (m_table_caches) to find the class, then SlabCache's
// allocate fast path; kfree reads the tag (from the heap's own copy of the source's table when the source
// is a PageTagTableSource: no load of the source first), and a plain tag goes straight to the free-list
// push, whose stores all have addresses computed from the pointer alone, so they never wait for the tag.
// Anything else (nullptr, other tags, misuse, debug mode) is one call in tail position.
//
// Alignment: 8 bytes for the 8-byte class, 16 for every other class (max_align_t on both i386 and x86-64),
// 4096 for large blocks.
//
// Per-CPU magazines (kCpus > 0; mm/heap/SlabMagazine.h, docs/slab.md "Per-CPU magazines"): every release-mode
// cache gets one magazine per CPU (the size classes' in the heap itself, a named cache's in its descriptor),
// and the entry points that take a `cpu` serve from that CPU's magazine. The caller owns magazine `cpu` for
// the call (the kernel: interrupts off on that CPU). With kCpus == 0 (the default, and most host tests) there
// are none and the heap is what it was. Out of memory, shrink() flushes every magazine before giving empty
// slabs back, so objects hoarded by CPUs never cause a failure.
//
// Lock order: the heap lock (registry of named caches, large-block counters), then a cache's lock, then
// the page source's. The fast paths take only the cache lock; large blocks take the heap lock only for
// the counters.
#pragma once

#include <new>

#include "libc/base/Assert.h"
#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/MemoryLayout.h"
#include "libc/base/Types.h"
#include "mm/heap/SlabCache.h"
#include "mm/heap/SlabPageTags.h"

// A tagged page source whose tags live in a SlabPageTags table it exposes: KernelHeap then keeps its own
// copy of the table's three words (the view, not the tags), so kfree reads a tag without going through
// the page source. The table must be in place before the heap is built and never replaced afterwards.
template <typename Source>
concept PageTagTableSource = TaggedPageSource<Source> && requires(const Source& source) {
    requires std::is_same_v<decltype(source.page_tags()), const SlabPageTags&>;
};

template <TaggedPageSource PageSource, SlabLock Lock, u32 kCpus = 0>
class KernelHeap {
public:
    MNEME_NONCOPYABLE(KernelHeap);
    MNEME_NONMOVABLE(KernelHeap);

    using Cache = SlabCache<PageSource, Lock>;
    static constexpr size_t kClassCount = 11;
    static constexpr size_t kClassSizes[kClassCount] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048};
    static constexpr size_t kMaxSmallSize = 2048;
    static constexpr unsigned kMaxLargeOrder = 20;  // 4 GiB: anything larger fails before the page source

    // `debug` turns on red zones and poisoning for the size classes and every cache created later.
    explicit KernelHeap(PageSource& source, bool debug = kSlabDebugDefault)
        : m_source(source),
          m_tags(tag_table(source)),
          m_debug(debug),
          m_cache_cache(source, {.name = "slab-caches",
                                 .object_size = sizeof(NamedCache),
                                 .alignment = alignof(NamedCache),
                                 .debug = debug}) {
        for (size_t i = 0; i < kClassCount; ++i)
            new (&m_class_storage[i * sizeof(Cache)])
                Cache(source, {.name = kClassNames[i],
                               .object_size = kClassSizes[i],
                               .alignment = kClassSizes[i] < 16 ? kClassSizes[i] : 16,
                               .debug = debug});
        for (size_t i = 0; i <= kMaxTableSize / 8; ++i) m_table_caches[i] = &class_cache(kSmallIndex[i]);
        if constexpr (kCpus > 0)
            for (size_t i = 0; i < kClassCount; ++i) class_cache(i).attach_magazines(&m_magazines[i * kCpus], kCpus);
        m_named.prev = m_named.next = &m_named;
    }

    // Tests only: every object must have been freed (a SlabCache panics otherwise).
    ~KernelHeap() {
        while (m_named.next != &m_named) destroy_cache(&static_cast<NamedCache*>(m_named.next)->cache);
        if (m_large_blocks != 0) mneme_panic("kernel heap: destroyed with %zu large blocks", m_large_blocks);
        for (size_t i = 0; i < kClassCount; ++i) class_cache(i).~Cache();
    }

    // kmalloc: at least `size` bytes, or nullptr when memory is exhausted (after one shrink and retry).
    // kmalloc(0) returns a distinct 8-byte object.
    [[gnu::noinline]] void* allocate(size_t size) { return allocate(size, __builtin_return_address(0)); }

    // The size class serving `size`: one table load up to 256 bytes; null for a large block (whole pages).
    [[gnu::always_inline]] Cache* cache_for(size_t size) {
        if (size <= kMaxTableSize) [[likely]]
            return m_table_caches[(size + 7) >> 3];
        if (size <= kMaxSmallSize) return &class_cache(class_index(size));
        return nullptr;
    }

    // Fast path: the class's cache (cache_for), then SlabCache::allocate (see there).
    [[gnu::always_inline]] void* allocate(size_t size, const void* caller) {
        Cache* cache = cache_for(size);
        if (!cache) return allocate_large(size);
        return cache->allocate(caller, size,
                               [this, cache](const void* c, size_t s) { return allocate_slow(*cache, s, c); });
    }

    // kmalloc through CPU `cpu`'s magazines (kCpus > 0; the caller owns magazine `cpu` for the call).
    [[gnu::always_inline]] void* allocate(size_t size, const void* caller, u32 cpu) {
        if constexpr (kCpus == 0) return allocate(size, caller);
        Cache* cache = cache_for(size);
        if (!cache) return allocate_large(size);
        return cache->allocate_on(cpu, caller, size,
                                  [this, cache](const void* c, size_t s) { return allocate_slow(*cache, s, c); });
    }

    // kfree through CPU `cpu`'s magazines: the tag lookup as below, then a push onto the magazine.
    [[gnu::always_inline]] void deallocate(void* pointer, const void* caller, u32 cpu) {
        if constexpr (kCpus == 0) return deallocate(pointer, caller);
        uptr tag = page_tag(pointer);
        if (Cache::is_plain_tag(tag)) [[likely]]
            return Cache::deallocate_plain_on(cpu, tag, pointer, caller);
        deallocate_other_on(cpu, pointer, tag, caller);
    }

    // kmem_cache_alloc/free of a named cache through CPU `cpu`'s magazine; out of memory, the heap flushes
    // every magazine and gives empty slabs back before failing, as kmalloc does.
    [[gnu::always_inline]] void* cache_allocate(Cache& cache, const void* caller, u32 cpu) {
        return cache.allocate_on(cpu, caller, 0,
                                 [this, &cache](const void* c, size_t s) { return allocate_slow(cache, s, c); });
    }
    [[gnu::always_inline]] void cache_deallocate(Cache& cache, void* object, const void* caller, u32 cpu) {
        cache.deallocate_on(cpu, object, caller);
    }

    // kfree: nullptr is a no-op; anything not from this heap panics with the caller's address.
    [[gnu::noinline]] void deallocate(void* pointer) { deallocate(pointer, __builtin_return_address(0)); }

    // Fast path: one page-tag load; a plain cache's tag goes straight to SlabCache::deallocate_plain.
    // Everything else (nullptr, whose page has no tag, large blocks, other slabs, misuse) is a call.
    [[gnu::always_inline]] void deallocate(void* pointer, const void* caller) {
        uptr tag = page_tag(pointer);
        if (Cache::is_plain_tag(tag)) [[likely]]
            return Cache::deallocate_plain(tag, pointer, caller);
        deallocate_other(pointer, tag, caller);
    }

    // kmalloc_usable_size: the bytes the caller may use (0 for nullptr).
    size_t usable_size(const void* pointer) const {
        if (!pointer) return 0;
        uptr tag = page_tag(pointer);
        if (tag == 0) mneme_panic("kmalloc_usable_size: %p was not allocated by kmalloc", pointer);
        if (tag & 1) return size_t(kPageSize) << (tag >> 1);
        return Cache::cache_of_tag(tag)->usable_size(pointer);
    }

    // kmem_cache_create: a named cache whose objects come from this heap's page source and appear in
    // for_each_cache(). Error::Invalid for a bad configuration, Error::NoMemory if its descriptor cannot
    // be allocated. The heap's debug flag applies too.
    ErrorOr<Cache*> create_cache(const SlabCacheConfig& config) {
        if (!Cache::is_valid(config)) return Error::Invalid;
        void* memory = m_cache_cache.allocate(__builtin_return_address(0));
        if (!memory) return Error::NoMemory;
        SlabCacheConfig effective = config;
        effective.debug = config.debug || m_debug;
        NamedCache* named = new (memory) NamedCache(m_source, effective);
        if constexpr (kCpus > 0) named->cache.attach_magazines(named->magazines, kCpus);
        SlabLocker<Lock> locker(m_lock);
        named->next = m_named.next;
        named->prev = &m_named;
        m_named.next->prev = named;
        m_named.next = named;
        return &named->cache;
    }

    // kmem_cache_destroy: every object must have been freed.
    void destroy_cache(Cache* cache) {
        NamedCache* found = nullptr;
        {
            SlabLocker<Lock> locker(m_lock);
            for (Link* link = m_named.next; link != &m_named; link = link->next)
                if (&static_cast<NamedCache*>(link)->cache == cache) found = static_cast<NamedCache*>(link);
            if (!found)
                mneme_panic("kernel heap: destroy_cache(%p): not a cache of this heap", static_cast<void*>(cache));
            found->prev->next = found->next;
            found->next->prev = found->prev;
        }
        found->~NamedCache();
        m_cache_cache.deallocate(found, __builtin_return_address(0));
    }

    // Calls `callback(Cache&)` for the size classes, then the named caches, then the cache of cache
    // descriptors. Holds the heap lock, so the callback must not create or destroy caches.
    template <typename Callback>
    void for_each_cache(Callback callback) {
        SlabLocker<Lock> locker(m_lock);
        for (size_t i = 0; i < kClassCount; ++i) callback(class_cache(i));
        for (Link* link = m_named.next; link != &m_named; link = link->next)
            callback(static_cast<NamedCache*>(link)->cache);
        callback(m_cache_cache);
    }

    // Every CPU's magazine of every cache back to the slabs; returns how many objects went back. The other
    // CPUs must be out of their magazines (the kernel: under the big kernel lock).
    size_t flush_magazines() {
        size_t flushed = 0;
        for_each_cache([&](Cache& cache) { flushed += cache.flush_magazines(); });
        return flushed;
    }

    // Return every empty slab of every cache to the page source, after flushing the magazines (each cache's
    // shrink does); returns how many slabs.
    size_t shrink() {
        size_t released = 0;
        for_each_cache([&](Cache& cache) { released += cache.shrink(); });
        return released;
    }

    size_t large_blocks() const {
        SlabLocker<Lock> locker(m_lock);
        return m_large_blocks;
    }
    size_t large_bytes() const {
        SlabLocker<Lock> locker(m_lock);
        return m_large_bytes;
    }
    bool is_debug() const { return m_debug; }

    // The class cache serving `size` (<= kMaxSmallSize), e.g. for statistics in tests.
    Cache& cache_for_size(size_t size) {
        VERIFY(size <= kMaxSmallSize);
        return class_cache(class_index(size));
    }

    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) {
        bool ok = true;
        for_each_cache([&](Cache& cache) { ok = ok && cache.check_invariants(sink, context); });
        if (!ok) return false;
        SlabLocker<Lock> locker(m_lock);
        for (Link* link = m_named.next; link != &m_named; link = link->next)
            if (link->next->prev != link) return invariant_violation(sink, context, "kernel heap: cache list broken");
        return true;
    }

    // `slabinfo`: one line per cache, then the large blocks.
    void dump(FormatSink sink, void* context) {
        format(sink, context, "%-16s %7s %7s %5s %9s %5s %5s %5s %10s %6s\n", "cache", "size", "in use", "cpu",
               "total", "full", "part", "empty", "bytes", "eff");
        for_each_cache([&](Cache& cache) {
            SlabStatistics s = cache.statistics();
            format(sink, context, "%-16s %7zu %7zu %5zu %9zu %5zu %5zu %5zu %10zu %4u.%u%%\n", s.name, s.object_size,
                   s.objects_in_use, s.objects_in_magazines, s.objects_total, s.slabs_full, s.slabs_partial,
                   s.slabs_empty, s.memory_bytes, s.efficiency_permille() / 10, s.efficiency_permille() % 10);
        });
        format(sink, context, "large blocks: %zu, %zu bytes\n", large_blocks(), large_bytes());
        if constexpr (kCpus > 0) dump_magazines(sink, context);
    }

    // The per-CPU part of `slabinfo`: for each cache a magazine has served, one line per CPU that used it:
    // the objects it holds now, and its hits, refills and flushes since boot.
    void dump_magazines(FormatSink sink, void* context) {
        format(sink, context, "per-CPU magazines (up to %u objects each, moved %u at a time; \"cpu\" above):\n",
               SlabMagazine::kCapacity, SlabMagazine::kBatch);
        format(sink, context, "%-16s %3s %7s %10s %8s %8s\n", "cache", "CPU", "objects", "hits", "refills", "flushes");
        for_each_cache([&](Cache& cache) {
            for (u32 cpu = 0; cpu < cache.magazine_cpus(); ++cpu) {
                const SlabMagazine& magazine = cache.magazine(cpu);
                const SlabMagazineCounters& c = magazine.counters();
                if (magazine.count() == 0 && c.hits == 0 && c.refills == 0 && c.flushes == 0) continue;
                format(sink, context, "%-16s %3u %7u %10u %8u %8u\n", cache.name(), cpu, magazine.count(), c.hits,
                       c.refills, c.flushes);
            }
        });
    }

    // The class index for `size` <= 2048: a 33-entry table up to 256 bytes, then three compares.
    static size_t class_index(size_t size) {
        if (size <= kMaxTableSize) return kSmallIndex[(size + 7) >> 3];
        return size <= 512 ? 8 : size <= 1024 ? 9 : 10;
    }

private:
    struct Link {
        Link* prev;
        Link* next;
    };
    static constexpr u32 kMagazineSlots = kCpus > 0 ? kCpus : 1;  // no zero-length arrays
    struct NamedCache : Link {
        NamedCache(PageSource& source, const SlabCacheConfig& config) : cache(source, config) {}
        Cache cache;
        SlabMagazine magazines[kMagazineSlots] = {};  // the cache's, one per CPU (unused when kCpus == 0)
    };

    // kSmallIndex[(size + 7) / 8]: the smallest class holding `size` bytes, for size <= 256.
    static constexpr u8 kSmallIndex[33] = {0, 0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5,
                                           6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7};
    static constexpr size_t kMaxTableSize = 256;
    static constexpr const char* kClassNames[kClassCount] = {
        "kmalloc-8",   "kmalloc-16",  "kmalloc-32",  "kmalloc-64",   "kmalloc-96",  "kmalloc-128",
        "kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048"};

    static SlabPageTags tag_table(const PageSource& source) {
        if constexpr (PageTagTableSource<PageSource>)
            return source.page_tags();
        else
            return {};
    }
    uptr page_tag(const void* pointer) const {
        if constexpr (PageTagTableSource<PageSource>)
            return m_tags.get(pointer);
        else
            return m_source.page_tag(pointer);
    }

    Cache& class_cache(size_t index) {
        return *std::launder(reinterpret_cast<Cache*>(&m_class_storage[index * sizeof(Cache)]));
    }

    [[gnu::noinline, gnu::cold]] static void panic_not_allocated(const void* pointer, const void* caller) {
        mneme_panic("kfree: %p was not allocated by kmalloc (caller %p)", pointer, caller);
    }

    // No partial slab: refill; if the page source fails, give back every empty slab and try once more.
    [[gnu::noinline]] void* allocate_slow(Cache& cache, size_t size, const void* caller) {
        if (void* object = cache.allocate_slow(caller, size)) return object;
        shrink();
        return cache.allocate_slow(caller, size);
    }

    [[gnu::noinline]] void* allocate_large(size_t size) {
        if (size > (size_t(kPageSize) << kMaxLargeOrder) - kPageSize) return nullptr;
        size_t pages = (size + kPageSize - 1) / kPageSize;
        unsigned order = 0;
        while ((size_t(1) << order) < pages) ++order;
        auto memory = m_source.allocate_pages(order);
        if (memory.is_error()) {
            shrink();
            auto retry = m_source.allocate_pages(order);
            if (retry.is_error()) return nullptr;
            return adopt_large(retry.value(), order);
        }
        return adopt_large(memory.value(), order);
    }

    void* adopt_large(void* pages, unsigned order) {
        VERIFY(pages != nullptr);  // page 0 never gets a tag: deallocate() reads the tag of nullptr
        m_source.set_page_tags(pages, 1, (uptr(order) << 1) | 1);
        SlabLocker<Lock> locker(m_lock);
        ++m_large_blocks;
        m_large_bytes += size_t(kPageSize) << order;
        return pages;
    }

    [[gnu::noinline]] void deallocate_other(void* pointer, uptr tag, const void* caller) {
        if (!pointer) return;
        if (tag == 0) [[unlikely]]
            panic_not_allocated(pointer, caller);
        if (tag & 1) return deallocate_large(pointer, tag, caller);
        Cache::deallocate_tagged(tag, pointer, caller);
    }

    [[gnu::noinline]] void deallocate_other_on(u32 cpu, void* pointer, uptr tag, const void* caller) {
        if (!pointer) return;
        if (tag == 0) [[unlikely]]
            panic_not_allocated(pointer, caller);
        if (tag & 1) return deallocate_large(pointer, tag, caller);
        Cache::deallocate_tagged_on(cpu, tag, pointer, caller);
    }

    void deallocate_large(void* pointer, uptr tag, const void* caller) {
        if (reinterpret_cast<uptr>(pointer) % kPageSize != 0)
            mneme_panic("kfree: %p is inside a large block, not its start (caller %p)", pointer, caller);
        unsigned order = unsigned(tag >> 1);
        // Clearing the tag first turns a second kfree of this block into a "not allocated" panic.
        m_source.set_page_tags(pointer, 1, 0);
        {
            SlabLocker<Lock> locker(m_lock);
            --m_large_blocks;
            m_large_bytes -= size_t(kPageSize) << order;
        }
        m_source.free_pages(pointer, order);
    }

    PageSource& m_source;
    const SlabPageTags m_tags;  // a copy of the source's table view, if it has one (PageTagTableSource)
    Cache* m_table_caches[kMaxTableSize / 8 + 1];  // &class_cache(kSmallIndex[i]): kmalloc's lookup is one load
    bool m_debug;
    mutable Lock m_lock;
    alignas(Cache) unsigned char m_class_storage[kClassCount * sizeof(Cache)];
    Cache m_cache_cache;  // descriptors of the named caches
    Link m_named;         // circular list of NamedCache
    size_t m_large_blocks = 0;
    size_t m_large_bytes = 0;
    SlabMagazine m_magazines[kClassCount * kMagazineSlots] = {};  // the size classes', kCpus per class
};
