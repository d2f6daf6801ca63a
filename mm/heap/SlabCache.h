// SlabCache.h: an object cache in the style of Bonwick's slab allocator (USENIX Summer 1994, "The Slab
// Allocator: An Object-Caching Kernel Memory Allocator"), for one object size.
//
// Algorithm: a slab is 2^order contiguous pages from the page source, naturally aligned (the buddy
// allocator hands out blocks aligned to their size), starting with a Slab header followed by a colour
// offset and `capacity` objects of `stride` bytes (mm/heap/SlabLayout.h computes these). Each slab keeps its
// own free list, threaded through the free objects, so an object's slab is found by aligning its address
// down to the slab size: no search, no hash. Slabs sit on one of three lists (mm/heap/SlabList.h): full (no
// free object), partial (some) and empty (all free). Allocation pops from the first partial slab, else
// reuses an empty one, else gets a new slab; free pushes onto the object's slab. More than
// `empty_slab_limit` empty slabs go back to the page source. A slab that empties while it is the only partial
// slab stays there as the current slab (not counted against the limit), so alternating allocate/free on an
// idle cache moves no slab between lists.
//
// Constructor: as in Bonwick's paper, objects are constructed once, when their slab is created, and must be
// freed in their constructed state; the free-list link then lives after the object so it does not overwrite
// that state. (In debug mode freed objects are poisoned, so they are constructed again on allocation.)
//
// Debug mode (SlabCacheConfig::debug): red zones, poisoning and the checks on allocate and free, in
// mm/heap/SlabDebug.h. Release mode still catches a foreign pointer (slab magic and owner) and the common
// double free (the object is the slab's free-list head).
//
// Invariants: check_invariants() re-derives them from the lists and slabs; they are listed, and checked, in
// mm/heap/SlabInvariants.h. Configuration, limits and magic numbers: mm/heap/SlabConfig.h.
//
// Per-CPU magazines (mm/heap/SlabMagazine.h; docs/slab.md, "Per-CPU magazines"): once attach_magazines()
// gave a release-mode cache one magazine per CPU, the *_on(cpu, ...) entry points serve allocations and
// frees from that CPU's magazine without the lock, and take the lock once per batch of SlabMagazine::kBatch
// objects. The caller owns magazine `cpu` for the call (the kernel: interrupts off on that CPU; the host
// tests: one CPU index per thread). A debug cache never gets magazines, so its checks see every free.
// shrink(), flush_magazines(), statistics() and the destructor reach into every CPU's magazine: the other
// CPUs must be out of them (the kernel: under the big kernel lock).
//
// Lock order: the cache lock, then the page source's own lock (allocate_pages/free_pages are called with
// the cache lock held). Nothing is called with the page source's lock held, so there is no cycle.
#pragma once

#include <new>

#include "libc/base/Assert.h"
#include "libc/base/Format.h"
#include "libc/base/MemoryLayout.h"
#include "libc/base/Types.h"
#include "mm/heap/SlabConfig.h"
#include "mm/heap/SlabDebug.h"
#include "mm/heap/SlabInvariants.h"
#include "mm/heap/SlabLayout.h"
#include "mm/heap/SlabList.h"
#include "mm/heap/SlabMagazine.h"

// alignas(16): the page tag of a slab page is the cache's address with the slab order in bits 2:1 and a
// "plain cache" flag in bit 3 (bit 0 is left to the tag's user: KernelHeap marks large blocks with it).
template <SlabPageSource PageSource, SlabLock Lock>
class alignas(16) SlabCache {
    struct Slab;

public:
    MNEME_NONCOPYABLE(SlabCache);
    MNEME_NONMOVABLE(SlabCache);

    static constexpr unsigned kMaxOrder = SlabDetail::kMaxOrder;
    static constexpr size_t kMaxObjectSize = SlabDetail::kMaxObjectSize;
    static constexpr size_t kMaxAlignment = SlabDetail::kMaxAlignment;
    static constexpr size_t kNameLength = SlabDetail::kNameLength;

    // Validates the configuration (VERIFY: a bad one is a programming error; KernelHeap::create_cache
    // checks first and returns Error::Invalid). No memory is taken until the first allocation.
    SlabCache(PageSource& source, const SlabCacheConfig& config)
        : m_debug(config.debug),
          m_source(source),
          m_constructor(config.constructor),
          m_empty_limit(config.empty_slab_limit) {
        VERIFY(is_valid(config));
        size_t i = 0;
        for (; config.name && config.name[i] && i + 1 < kNameLength; ++i) m_name[i] = config.name[i];
        m_name[i] = '\0';
        SlabDetail::list_init(m_full);
        SlabDetail::list_init(m_partial);
        SlabDetail::list_init(m_empty);
        set_layout(
            SlabLayout::compute(config.object_size, config.alignment, sizeof(Slab), m_debug, m_constructor != nullptr));
    }

    // Every object must have been freed (a panic names the cache otherwise); all slabs go back.
    ~SlabCache() {
        flush_magazines();
        if (m_objects_in_use != 0) mneme_panic("slab %s: destroyed with %zu objects in use", m_name, m_objects_in_use);
        shrink();
        VERIFY(SlabDetail::list_empty(m_partial) && SlabDetail::list_empty(m_full) && SlabDetail::list_empty(m_empty));
    }

    static bool is_valid(const SlabCacheConfig& config) {
        return config.object_size > 0 && config.object_size <= kMaxObjectSize && is_power_of_two(config.alignment) &&
               config.alignment <= kMaxAlignment;
    }

    // An object, or nullptr when the page source is out of memory. The caller's address is recorded for
    // debug reports; KernelHeap passes its own caller and the size it was asked for (kmalloc red zones).
    [[gnu::noinline]] void* allocate() { return allocate(__builtin_return_address(0)); }

    // Fast path, about 15 instructions plus the lock: take the first partial slab and pop its free list.
    // Everything else (no partial slab, the slab becoming full, debug mode) is a call in tail position,
    // so the fast path saves no registers.
    [[gnu::always_inline]] void* allocate(const void* caller, size_t requested_size = 0) {
        return allocate(caller, requested_size, [this](const void* c, size_t size) { return allocate_slow(c, size); });
    }

    // The same with the caller's slow path: `refill(caller, requested_size)` runs, without the lock held,
    // when no partial slab has a free object; it normally returns allocate_slow(caller, requested_size).
    // KernelHeap passes one that shrinks every cache and retries when the page source fails.
    template <typename Refill>
    [[gnu::always_inline]] void* allocate(const void* caller, size_t requested_size, Refill refill) {
        {
            SlabLocker<Lock> locker(m_lock);
            if (!SlabDetail::list_empty(m_partial)) [[likely]] {
                Slab* slab = as_slab(m_partial.next);
                void* object = slab->free;
                slab->free = link_of(object);
                ++m_objects_in_use;
                if (++slab->in_use == m_capacity || m_debug) [[unlikely]]
                    return allocated_locked(slab, object, caller, requested_size);
                return object;
            }
        }
        return refill(caller, requested_size);
    }

    // allocate() when the partial list may be empty: reuse an empty slab or make one; nullptr when the page
    // source fails.
    [[gnu::noinline]] void* allocate_slow(const void* caller, size_t requested_size) {
        SlabLocker<Lock> locker(m_lock);
        Slab* slab = SlabDetail::list_empty(m_partial) ? refill_locked() : as_slab(m_partial.next);
        if (!slab) return nullptr;
        void* object = slab->free;
        slab->free = link_of(object);
        ++m_objects_in_use;
        ++slab->in_use;
        return allocated_locked(slab, object, caller, requested_size);
    }

    // nullptr is a no-op. Panics on a pointer that is not an object of this cache, and on a double free.
    [[gnu::noinline]] void deallocate(void* object) { deallocate(object, __builtin_return_address(0)); }

    // Fast path, about 20 instructions plus the lock: find the slab by alignment, check its magic and
    // owner, push the object; list moves only when the slab was full or becomes empty.
    [[gnu::always_inline]] void deallocate(void* object, const void* caller) {
        if (!object) return;
        Slab* slab = slab_of(object);
        if (slab->magic != SlabDetail::kSlabMagic || slab->cache != this) [[unlikely]]
            panic_foreign(object, caller);
        deallocate_in_slab(slab, object, caller);
    }

    // The tag SlabCache gives every page of its slabs when the page source keeps tags: this cache's
    // address | kTagPlain if the cache is plain (see below) | (slab order << 1). Bit 0 is always 0.
    static constexpr uptr kTagOrderMask = 6;  // bits 2:1: the slab order (kMaxOrder is 3)
    static constexpr uptr kTagPlain = 8;      // order 0, free-list link in the object's first word, not debug
    static constexpr uptr kTagCacheMask = ~uptr(15);
    uptr page_tag() const { return reinterpret_cast<uptr>(this) | (is_plain() ? kTagPlain : 0) | (uptr(m_order) << 1); }
    static SlabCache* cache_of_tag(uptr tag) { return reinterpret_cast<SlabCache*>(tag & kTagCacheMask); }

    // A tag whose cache is plain: order 0, the free-list link in the object's first word, not debug (every
    // kmalloc class up to 256 bytes in release mode). Tag 0 and KernelHeap's large-block tags (bit 0) are not.
    static bool is_plain_tag(uptr tag) { return (tag & 15) == kTagPlain; }

    // For KernelHeap, whose page tag proved that `object` lies in a live slab of a plain cache: free it
    // without reading the cache first. The slab header is the object's page and the link its first word, so
    // no address this free writes waits on the tag load (the slab's, for one, comes straight from `object`):
    // the tag feeds only predicted branches and the cache's counter.
    [[gnu::always_inline]] static void deallocate_plain(uptr tag, void* object, const void* caller) {
        Slab* slab = reinterpret_cast<Slab*>(reinterpret_cast<uptr>(object) & ~uptr(kPageSize - 1));
        // tag - kTagPlain, not cache_of_tag(tag): the subtraction folds into the field offsets.
        reinterpret_cast<SlabCache*>(tag - kTagPlain)->template deallocate_in_slab<true>(slab, object, caller);
    }

    // The same for any slab tag (non-zero, bit 0 clear): the slab size comes from the order in the tag.
    [[gnu::noinline]] static void deallocate_tagged(uptr tag, void* object, const void* caller) {
        uptr slab_bytes = uptr(kPageSize) << ((tag & kTagOrderMask) >> 1);
        Slab* slab = reinterpret_cast<Slab*>(reinterpret_cast<uptr>(object) & ~(slab_bytes - 1));
        cache_of_tag(tag)->deallocate_in_slab(slab, object, caller);
    }

    // --- Per-CPU magazines (see the top of this file) ---

    // Gives this cache `cpus` magazines (zero-initialised, kept by the caller for the cache's life). A debug
    // cache keeps none: its checks must see every allocation and free.
    void attach_magazines(SlabMagazine* magazines, u32 cpus) {
        if (m_debug) return;
        m_magazines = magazines;
        m_magazine_cpus = cpus;
    }
    bool has_magazines() const { return m_magazines != nullptr; }
    u32 magazine_cpus() const { return m_magazine_cpus; }
    const SlabMagazine& magazine(u32 cpu) const { return m_magazines[cpu]; }

    // allocate() through CPU `cpu`'s magazine: a pop when it has an object; else one batch from the slabs
    // under the lock (refill_magazine); else, the page source having failed, the caller's `refill`, as for
    // allocate(). Without magazines, allocate() itself.
    template <typename Refill>
    [[gnu::always_inline]] void* allocate_on(u32 cpu, const void* caller, size_t requested_size, Refill refill) {
        if (m_magazines) [[likely]] {
            void* object;
            if (m_magazines[cpu].pop(object)) [[likely]]
                return object;
            if (void* refilled = refill_magazine(m_magazines[cpu], caller)) return refilled;
        }
        return refill(caller, requested_size);  // also the path of a cache without magazines: all slow
    }
    [[gnu::always_inline]] void* allocate_on(u32 cpu, const void* caller) {
        return allocate_on(cpu, caller, 0, [this](const void* c, size_t size) { return allocate_slow(c, size); });
    }

    // deallocate() through CPU `cpu`'s magazine (the foreign-pointer check first, as deallocate's).
    [[gnu::always_inline]] void deallocate_on(u32 cpu, void* object, const void* caller) {
        if (!object) return;
        Slab* slab = slab_of(object);
        if (slab->magic != SlabDetail::kSlabMagic || slab->cache != this) [[unlikely]]
            panic_foreign(object, caller);
        if (m_magazines) [[likely]]
            return deallocate_to_magazine(cpu, slab, object, caller);
        deallocate_in_slab(slab, object, caller);
    }

    // deallocate_plain and deallocate_tagged through CPU `cpu`'s magazine, for KernelHeap's kfree.
    [[gnu::always_inline]] static void deallocate_plain_on(u32 cpu, uptr tag, void* object, const void* caller) {
        Slab* slab = reinterpret_cast<Slab*>(reinterpret_cast<uptr>(object) & ~uptr(kPageSize - 1));
        SlabCache* cache = reinterpret_cast<SlabCache*>(tag - kTagPlain);
        if (cache->m_magazines) [[likely]]
            return cache->deallocate_to_magazine(cpu, slab, object, caller);
        deallocate_tagged(tag, object, caller);  // a plain cache without magazines: out of line
    }
    [[gnu::noinline]] static void deallocate_tagged_on(u32 cpu, uptr tag, void* object, const void* caller) {
        uptr slab_bytes = uptr(kPageSize) << ((tag & kTagOrderMask) >> 1);
        Slab* slab = reinterpret_cast<Slab*>(reinterpret_cast<uptr>(object) & ~(slab_bytes - 1));
        SlabCache* cache = cache_of_tag(tag);
        if (cache->m_magazines) return cache->deallocate_to_magazine(cpu, slab, object, caller);
        cache->deallocate_in_slab(slab, object, caller);
    }

    // Every CPU's magazine back to the slabs (a shrink, an out-of-memory retry, a destroy, a test). Returns
    // how many objects went back. The other CPUs must be out of their magazines.
    size_t flush_magazines() {
        size_t flushed = 0;
        for (u32 cpu = 0; cpu < m_magazine_cpus; ++cpu) {
            SlabMagazine& magazine = m_magazines[cpu];
            if (magazine.is_empty()) continue;
            flushed += magazine.count();
            SlabLocker<Lock> locker(m_lock);
            give_back_locked(magazine, magazine.count());
            magazine.count_flush();
        }
        return flushed;
    }
    // Objects sitting in the magazines: allocated as far as the slabs know, free as far as callers know.
    size_t objects_in_magazines() const {
        size_t total = 0;
        for (u32 cpu = 0; cpu < m_magazine_cpus; ++cpu) total += m_magazines[cpu].count();
        return total;
    }

private:
    // The magazine fast path of a free: the cheap double-free check (the object is already on top of this
    // CPU's magazine), then a push; full: flush_and_push. The slab header is not read here: it is shared
    // with the other CPUs and guarded by the lock, so release mode's slab checks (the object is its slab's
    // free-list head, or the slab has nothing in use) run when the object is flushed, under the lock.
    [[gnu::always_inline]] void deallocate_to_magazine(u32 cpu, Slab* slab, void* object, const void* caller) {
        (void)slab;
        SlabMagazine& magazine = m_magazines[cpu];
        if (object == magazine.top()) [[unlikely]]
            panic_double_free(object, caller);
        if (!magazine.push(object)) [[unlikely]]
            flush_and_push(magazine, object, caller);
    }

    // A full magazine: the object must not be in it already (a scan, affordable once per kBatch frees); the
    // oldest batch goes back to the slabs under one lock, the warm half stays, the object goes on top.
    [[gnu::noinline]] void flush_and_push(SlabMagazine& magazine, void* object, const void* caller) {
        if (magazine.contains(object)) panic_double_free(object, caller);
        {
            SlabLocker<Lock> locker(m_lock);
            give_back_locked(magazine, SlabMagazine::kBatch);
        }
        magazine.count_flush();
        magazine.put(object);
    }

    // The magazine's `n` oldest objects back onto their slabs' free lists (each checked again there).
    void give_back_locked(SlabMagazine& magazine, u32 n) {
        void** objects = magazine.objects();
        for (u32 i = 0; i < n; ++i) deallocate_locked(slab_of(objects[i]), objects[i], nullptr);
        magazine.drop_oldest(n);
    }

    // An empty magazine: up to kBatch objects from the slabs under one lock, and one of them for the caller.
    // Null when the page source failed before the first object.
    [[gnu::noinline]] void* refill_magazine(SlabMagazine& magazine, const void* caller) {
        SlabLocker<Lock> locker(m_lock);
        while (magazine.count() < SlabMagazine::kBatch) {
            Slab* slab = SlabDetail::list_empty(m_partial) ? refill_locked() : as_slab(m_partial.next);
            if (!slab) break;
            void* object = slab->free;
            slab->free = link_of(object);
            ++m_objects_in_use;
            if (++slab->in_use == m_capacity) slab_became_full_locked(slab);
            magazine.put(object);
        }
        (void)caller;  // recorded only in debug mode, which has no magazines
        if (magazine.is_empty()) return nullptr;
        magazine.count_refill();
        return magazine.take_newest();
    }

    // Fast path: check for the common double free, push the object, and leave the lists alone unless the
    // slab was full or becomes empty (then a call in tail position, as is debug mode's). kPlain: the
    // caller knows the cache is plain, so neither the debug flag nor the link offset is read.
    template <bool kPlain = false>
    [[gnu::always_inline]] void deallocate_in_slab(Slab* slab, void* object, const void* caller) {
        SlabLocker<Lock> locker(m_lock);
        if (!kPlain && m_debug) [[unlikely]]
            return deallocate_debug_locked(slab, object, caller);
        deallocate_locked<kPlain>(slab, object, caller);
    }

    // The push onto the slab's free list itself, with the lock held and the cache not in debug mode (the
    // fast path above, and a magazine's flush).
    template <bool kPlain = false>
    [[gnu::always_inline]] void deallocate_locked(Slab* slab, void* object, const void* caller) {
        void* head = slab->free;
        u32 in_use = slab->in_use;
        if (object == head || in_use == 0) [[unlikely]]
            panic_double_free(object, caller);
        if constexpr (kPlain)
            *static_cast<void**>(object) = head;
        else
            link_of(object) = head;
        slab->free = object;
        slab->in_use = in_use - 1;
        --m_objects_in_use;
        // A slab that empties moves to the empty list, unless it is the only partial slab: then it stays as
        // the current slab, so an allocate/free pair on an otherwise idle cache touches no list. (A slab
        // with 0 < in_use < capacity is on the partial list, so "only partial" is m_partial_count == 1.)
        if (in_use == m_capacity || (in_use == 1 && m_partial_count != 1)) [[unlikely]]
            return slab_lists_after_free_locked(slab);
    }

public:
    // The bytes the caller may use: the object size (the requested size for a debug kmalloc object, so a
    // caller that trusts it never writes into the red zone).
    size_t usable_size(const void* object) const {
        if (m_debug) {
            u32 requested = trailer_of(object).requested;
            return requested ? requested : m_object_size;
        }
        return m_object_size;
    }

    // Give every empty slab back to the page source (memory pressure); returns how many.
    size_t shrink() {
        flush_magazines();  // objects hoarded by CPUs may be all that keeps a slab from being empty
        SlabLocker<Lock> locker(m_lock);
        size_t released = 0;
        while (!SlabDetail::list_empty(m_empty)) {
            --m_empty_count;
            release_slab_locked(as_slab(m_empty.prev));
            ++released;
        }
        if (Slab* current = idle_current_slab()) {
            --m_partial_count;
            release_slab_locked(current);
            ++released;
        }
        return released;
    }

    const char* name() const { return m_name; }
    size_t object_size() const { return m_object_size; }
    size_t stride() const { return m_stride; }
    size_t objects_per_slab() const { return m_capacity; }
    unsigned slab_order() const { return m_order; }
    bool is_debug() const { return m_debug; }
    // The layout computed for this cache (mm/heap/SlabLayout.h), from the fields that keep it.
    SlabLayout layout() const {
        return {.object_size = m_object_size,
                .link_offset = m_link_offset,
                .trailer_offset = m_trailer_offset,
                .stride = m_stride,
                .header_size = m_header_size,
                .order = m_order,
                .slab_bytes = m_slab_bytes,
                .capacity = m_capacity,
                .colour_step = m_colour_step,
                .colour_max = m_colour_max};
    }

    SlabStatistics statistics() const {
        size_t cached = objects_in_magazines();
        SlabLocker<Lock> locker(m_lock);
        size_t slabs = m_full_count + m_partial_count + m_empty_count;
        size_t idle = idle_current_slab() ? 1 : 0;  // an empty current slab counts as empty
        return {.name = m_name,
                .object_size = m_object_size,
                .stride = m_stride,
                .objects_per_slab = m_capacity,
                .slab_order = m_order,
                .objects_in_use = m_objects_in_use - cached,
                .objects_in_magazines = cached,
                .objects_total = slabs * m_capacity,
                .slabs_full = m_full_count,
                .slabs_partial = m_partial_count - idle,
                .slabs_empty = m_empty_count + idle,
                .memory_bytes = slabs * m_slab_bytes,
                .live_bytes = (m_objects_in_use - cached) * m_object_size,
                .debug = m_debug};
    }

    // True if every invariant listed in mm/heap/SlabInvariants.h holds; otherwise describes the first broken
    // one to `sink` (when given) and returns false.
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const {
        SlabLocker<Lock> locker(m_lock);
        SlabInvariantChecker<Slab> checker(m_name, layout(), m_debug, this, sink, context);
        size_t in_use = 0;
        return checker.check_list(m_full, m_full_count, SlabListKind::Full, in_use) &&
               checker.check_list(m_partial, m_partial_count, SlabListKind::Partial, in_use) &&
               checker.check_list(m_empty, m_empty_count, SlabListKind::Empty, in_use) &&
               checker.check_totals(in_use, m_objects_in_use, m_empty_count, m_empty_limit) &&
               checker.check_magazines(objects_in_magazines(), m_objects_in_use);
    }

    // A summary line, then one line per slab: address, list, objects in use, colour.
    void dump(FormatSink sink, void* context) const {
        SlabStatistics s = statistics();
        format(sink, context,
               "cache %s: object %zu, stride %zu, %zu per order-%u slab, %zu/%zu in use, slabs %zu full %zu "
               "partial %zu empty, %zu bytes, efficiency %u.%u%%%s\n",
               s.name, s.object_size, s.stride, s.objects_per_slab, s.slab_order, s.objects_in_use, s.objects_total,
               s.slabs_full, s.slabs_partial, s.slabs_empty, s.memory_bytes, s.efficiency_permille() / 10,
               s.efficiency_permille() % 10, s.debug ? ", debug" : "");
        SlabLocker<Lock> locker(m_lock);
        const SlabDetail::ListNode* heads[] = {&m_full, &m_partial, &m_empty};
        const char* names[] = {"full", "partial", "empty"};
        for (int i = 0; i < 3; ++i)
            for (const SlabDetail::ListNode* node = heads[i]->next; node != heads[i]; node = node->next) {
                const Slab* slab = as_slab(const_cast<SlabDetail::ListNode*>(node));
                format(sink, context, "  slab %p %-7s %u/%zu in use, colour %zu\n", static_cast<const void*>(slab),
                       names[i], slab->in_use, m_capacity,
                       size_t(slab->objects - reinterpret_cast<const u8*>(slab) - m_header_size));
            }
    }

private:
    struct Slab {
        SlabDetail::ListNode node;  // first, so a list node is its slab
        u32 magic;
        u32 in_use;
        void* free;        // head of this slab's free list, threaded through the free objects
        SlabCache* cache;  // owner, checked on every free
        u8* objects;       // object 0 (after the colour offset)
    };

    static Slab* as_slab(SlabDetail::ListNode* node) { return reinterpret_cast<Slab*>(node); }
    static const Slab* as_slab(const SlabDetail::ListNode* node) { return reinterpret_cast<const Slab*>(node); }
    Slab* slab_of(const void* object) const {
        return reinterpret_cast<Slab*>(reinterpret_cast<uptr>(object) & ~uptr(m_slab_bytes - 1));
    }
    void*& link_of(void* object) const { return SlabDetail::link_at(object, m_link_offset); }
    SlabDetail::Trailer& trailer_of(const void* object) const {
        return SlabDetail::trailer_at(object, m_trailer_offset);
    }

    // The cache keeps its layout in separate fields, hot ones first (see the fields at the end).
    void set_layout(const SlabLayout& layout) {
        m_object_size = layout.object_size;
        m_link_offset = layout.link_offset;
        m_trailer_offset = layout.trailer_offset;
        m_stride = layout.stride;
        m_header_size = layout.header_size;
        m_order = layout.order;
        m_slab_bytes = layout.slab_bytes;
        m_capacity = layout.capacity;
        m_colour_step = layout.colour_step;
        m_colour_max = layout.colour_max;
    }
    SlabDetail::DebugShape debug_shape() const {
        return {m_name, m_object_size, m_trailer_offset, m_stride, m_capacity};
    }

    // The slow paths are out of line, so the inlined fast paths stay small.
    [[gnu::noinline, gnu::cold]] void panic_foreign(const void* object, const void* caller) const {
        mneme_panic("slab %s: %p is not an object of this cache (caller %p)", m_name, object, caller);
    }
    [[gnu::noinline, gnu::cold]] void panic_double_free(const void* object, const void* caller) const {
        mneme_panic("slab %s: double free of %p (caller %p)", m_name, object, caller);
    }
    // The rest of an allocation whose slab just became full, or in debug mode.
    [[gnu::noinline]] void* allocated_locked(Slab* slab, void* object, const void* caller, size_t requested_size) {
        if (slab->in_use == m_capacity) slab_became_full_locked(slab);
        if (m_debug) debug_on_allocate(object, requested_size ? requested_size : m_object_size, caller);
        return object;
    }
    void slab_became_full_locked(Slab* slab) {
        SlabDetail::list_move(slab->node, m_partial_count, m_full, m_full_count);
    }
    // A free that made a full slab partial, or emptied a slab: move it.
    [[gnu::noinline]] void slab_lists_after_free_locked(Slab* slab) {
        if (slab->in_use + 1 == m_capacity) slab_was_full_locked(slab);
        if (slab->in_use == 0 && !is_only_partial(slab)) slab_became_empty_locked(slab);
    }
    [[gnu::noinline]] void deallocate_debug_locked(Slab* slab, void* object, const void* caller) {
        debug_on_free(slab, object, caller);
        link_of(object) = slab->free;
        slab->free = object;
        --slab->in_use;
        --m_objects_in_use;
        slab_lists_after_free_locked(slab);
    }
    void slab_was_full_locked(Slab* slab) {
        // An idle current slab may stay on the partial list only while it is alone there.
        if (Slab* current = idle_current_slab()) slab_became_empty_locked(current);
        SlabDetail::list_move(slab->node, m_full_count, m_partial, m_partial_count);
    }

    bool is_plain() const { return m_order == 0 && m_link_offset == 0 && !m_debug; }
    bool is_only_partial(const Slab* slab) const { return SlabDetail::list_is_only(m_partial, slab->node); }
    // The only partial slab, if it has no object in use; else null.
    Slab* idle_current_slab() const {
        if (SlabDetail::list_empty(m_partial) || m_partial.next != m_partial.prev) return nullptr;
        Slab* slab = as_slab(m_partial.next);
        return slab->in_use == 0 ? slab : nullptr;
    }

    // Partial list empty: reuse an empty slab, else make one. Null when the page source fails.
    [[gnu::noinline]] Slab* refill_locked() {
        if (!SlabDetail::list_empty(m_empty)) {
            Slab* slab = as_slab(m_empty.next);
            SlabDetail::list_move(slab->node, m_empty_count, m_partial, m_partial_count);
            return slab;
        }
        Slab* slab = grow_locked();
        if (!slab) return nullptr;
        SlabDetail::list_push_front(m_partial, slab->node);
        ++m_partial_count;
        return slab;
    }

    Slab* grow_locked() {
        auto pages = m_source.allocate_pages(m_order);
        if (pages.is_error()) return nullptr;
        void* memory = pages.value();
        VERIFY((reinterpret_cast<uptr>(memory) & (m_slab_bytes - 1)) == 0);  // natural alignment
        VERIFY(memory != nullptr);  // page 0 never gets a tag: KernelHeap reads the tag of nullptr
        Slab* slab = new (memory) Slab;
        slab->magic = SlabDetail::kSlabMagic;
        slab->in_use = 0;
        slab->cache = this;
        slab->objects = static_cast<u8*>(memory) + m_header_size + m_next_colour;
        m_next_colour = SlabDetail::next_colour(m_next_colour, m_colour_step, m_colour_max);
        // Thread the free list in address order, so objects are handed out lowest first.
        void* next = nullptr;
        for (size_t i = m_capacity; i-- > 0;) {
            u8* object = slab->objects + i * m_stride;
            if (m_debug) {
                SlabDetail::mark_free(debug_shape(), object, nullptr);
            } else if (m_constructor) {
                m_constructor(object);
            }
            link_of(object) = next;
            next = object;
        }
        slab->free = next;
        if constexpr (TaggedPageSource<PageSource>) m_source.set_page_tags(memory, size_t(1) << m_order, page_tag());
        return slab;
    }

    [[gnu::noinline]] void slab_became_empty_locked(Slab* slab) {
        SlabDetail::list_move(slab->node, m_partial_count, m_empty, m_empty_count);
        // Over the limit: return the coldest empty slab (the tail), keeping the one just touched.
        if (m_empty_count > m_empty_limit) {
            --m_empty_count;
            release_slab_locked(as_slab(m_empty.prev));
        }
    }

    // Unlink and give back to the page source; the caller adjusts that list's counter.
    void release_slab_locked(Slab* slab) {
        VERIFY(slab->in_use == 0);
        if (m_debug)
            for (size_t i = 0; i < m_capacity; ++i)
                SlabDetail::check_free_object(debug_shape(), slab->objects + i * m_stride);
        SlabDetail::list_remove(slab->node);
        slab->magic = 0;
        if constexpr (TaggedPageSource<PageSource>) m_source.set_page_tags(slab, size_t(1) << m_order, 0);
        m_source.free_pages(slab, m_order);
    }

    // Debug mode: the checks themselves are mm/heap/SlabDebug.h's.
    [[gnu::noinline]] void debug_on_allocate(void* object, size_t requested, const void* caller) {
        SlabDetail::check_allocate(debug_shape(), object, requested, caller);
        if (m_constructor) m_constructor(object);
    }
    [[gnu::noinline]] void debug_on_free(Slab* slab, void* object, const void* caller) {
        SlabDetail::check_free(debug_shape(), slab->objects, object, caller);
    }

    // Hot fields first: the fast paths read m_partial, m_capacity, m_link_offset, m_slab_bytes,
    // m_objects_in_use, m_partial_count, m_debug (56 bytes on the host, 32 on i386).
    SlabDetail::ListNode m_partial;
    size_t m_capacity = 0;
    size_t m_link_offset = 0;
    size_t m_slab_bytes = 0;
    size_t m_objects_in_use = 0;
    size_t m_partial_count = 0;
    mutable Lock m_lock;
    bool m_debug;
    SlabDetail::ListNode m_full;
    SlabDetail::ListNode m_empty;
    size_t m_full_count = 0;
    size_t m_empty_count = 0;
    PageSource& m_source;
    void (*m_constructor)(void*);
    unsigned m_empty_limit;
    unsigned m_order = 0;
    size_t m_object_size = 0;
    size_t m_stride = 0;
    size_t m_header_size = 0;
    size_t m_trailer_offset = 0;  // debug: where the trailer starts (the red zone ends)
    size_t m_colour_step = 8;
    size_t m_colour_max = 0;
    size_t m_next_colour = 0;
    SlabMagazine* m_magazines = nullptr;  // one per CPU (attach_magazines), or none
    u32 m_magazine_cpus = 0;
    char m_name[kNameLength] = {};
};
