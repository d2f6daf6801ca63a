// SlabCache.h: an object cache in the style of Bonwick's slab allocator (USENIX Summer 1994, "The Slab
// Allocator: An Object-Caching Kernel Memory Allocator"), for one object size.
//
// Algorithm: a slab is 2^order contiguous pages from the page source, naturally aligned (the buddy
// allocator hands out blocks aligned to their size), starting with a Slab header followed by a colour
// offset and `capacity` objects of `stride` bytes. Each slab keeps its own free list, threaded through
// the free objects, so an object's slab is found by aligning its address down to the slab size: no search,
// no hash. Slabs sit on one of three lists: full (no free object), partial (some) and empty (all free).
// Allocation pops from the first partial slab, else reuses an empty one, else gets a new slab; free pushes
// onto the object's slab. More than `empty_slab_limit` empty slabs go back to the page source. A slab
// that empties while it is the only partial slab stays there as the current slab (not counted against the
// limit), so alternating allocate/free on an idle cache moves no slab between lists.
//
//   slab (order 0, 4096 bytes, naturally aligned)
//   +--------+--------+-------+-------+-------+-----+-------+----------+
//   | Slab   | colour | obj 0 | obj 1 | obj 2 | ... | obj n | leftover |
//   +--------+--------+-------+-------+-------+-----+-------+----------+
//   colour + leftover is constant; successive slabs shift their objects by one more colour step so objects
//   at the same index in different slabs fall on different cache lines (Bonwick, section 4.1).
//
// The slab order is the smallest (up to 3) that wastes at most 1/16 of the slab, Linux SLUB's default
// fraction; failing that, the least wasteful.
//
// Constructor: as in Bonwick's paper, objects are constructed once, when their slab is created, and must be
// freed in their constructed state; the free-list link then lives after the object so it does not overwrite
// that state. (In debug mode freed objects are poisoned, so they are constructed again on allocation.)
//
// Debug mode (SlabCacheConfig::debug, default from -DMNEME_SLAB_DEBUG=1): each object is followed by a red
// zone and a trailer (free-list link, state, caller, requested size). Freed objects are filled with 0x6b and
// red zones with 0xbb (the bytes Linux uses, include/linux/poison.h, so dumps look familiar). free() checks
// the pointer is an object start, the state (double free), the red zone (a write past the end; for kmalloc,
// past the requested size); allocate() checks the poison (a write after free). Each report is a
// mneme_panic naming the cache and the caller's address. Release mode still catches a foreign pointer
// (slab magic and owner) and the common double free (the object is the slab's free-list head).
//
// Invariants (check_invariants): every slab on the full/partial/empty list has in_use == capacity /
// 0 < in_use < capacity (0 allowed for the only partial slab) / in_use == 0; its free list has exactly capacity -
// in_use entries, each an object start in that slab; list lengths match the counters; the in_use sum is objects_in_use;
// at most empty_slab_limit empty slabs; in debug mode every free object is poisoned and every red zone intact.
//
// Lock order: the cache lock, then the page source's own lock (allocate_pages/free_pages are called with
// the cache lock held). Nothing is called with the page source's lock held, so there is no cycle.
#pragma once

#include <new>
#include <type_traits>

#include "libc/base/Assert.h"
#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/Invariant.h"
#include "libc/base/Types.h"

#ifndef MNEME_SLAB_DEBUG
#define MNEME_SLAB_DEBUG 0
#endif
constexpr bool kSlabDebugDefault = MNEME_SLAB_DEBUG != 0;

// Where slabs come from: 2^order pages aligned to their size, and back.
template <typename Source>
concept SlabPageSource = requires(Source& source, void* pages, unsigned order) {
    requires std::is_same_v<decltype(source.allocate_pages(order)), ErrorOr<void*>>;
    source.free_pages(pages, order);
};

// A page source that also keeps one tag word per page (see mm/heap/SlabPageTags.h). SlabCache tags every page
// of its slabs with its own address when the source can, so KernelHeap can route any pointer.
template <typename Source>
concept TaggedPageSource = SlabPageSource<Source> &&
    requires(Source& source, void* page, const void* address, size_t count, uptr tag) {
    source.set_page_tags(page, count, tag);
    requires std::is_same_v<decltype(source.page_tag(address)), uptr>;
};

// lock()/unlock(): interrupts off (and a spinlock on SMP) in the kernel; a no-op or std::mutex on the host.
template <typename L>
concept SlabLock = requires(L& lock) {
    lock.lock();
    lock.unlock();
};

template <typename L>
class SlabLocker {
public:
    explicit SlabLocker(L& lock) : m_lock(lock) { m_lock.lock(); }
    ~SlabLocker() { m_lock.unlock(); }
    MNEME_NONCOPYABLE(SlabLocker);

private:
    L& m_lock;
};

struct SlabCacheConfig {
    const char* name = "unnamed";
    size_t object_size = 0;
    size_t alignment = 8;                         // a power of two; at least pointer alignment is used
    void (*constructor)(void* object) = nullptr;  // optional, see the top of this file
    bool debug = kSlabDebugDefault;
    unsigned empty_slab_limit = 2;  // empty slabs kept for reuse; more go back to the page source
};

// One cache's figures, for the monitor's `slabinfo`.
struct SlabStatistics {
    const char* name;
    size_t object_size;
    size_t stride;  // bytes per object in the slab, with alignment (and red zone and trailer when debugging)
    size_t objects_per_slab;
    unsigned slab_order;
    size_t objects_in_use;
    size_t objects_total;
    size_t slabs_full;
    size_t slabs_partial;
    size_t slabs_empty;
    size_t memory_bytes;  // slab memory taken from the page source
    size_t live_bytes;    // objects_in_use * object_size
    bool debug;

    // live_bytes / memory_bytes in thousandths (integers only: the kernel has no FPU code).
    u32 efficiency_permille() const {
        size_t live = live_bytes, total = memory_bytes;
        while (total > 0xFFFFFFFFu / 1000) {  // keep live * 1000 within 32 bits on i386
            live >>= 1;
            total >>= 1;
        }
        return total == 0 ? 0 : u32(live * 1000 / total);
    }
};

namespace SlabDetail {
struct ListNode {
    ListNode* prev;
    ListNode* next;
};
inline void list_init(ListNode& head) { head.prev = head.next = &head; }
inline bool list_empty(const ListNode& head) { return head.next == &head; }
inline void list_remove(ListNode& node) {
    node.prev->next = node.next;
    node.next->prev = node.prev;
}
inline void list_push_front(ListNode& head, ListNode& node) {
    node.next = head.next;
    node.prev = &head;
    head.next->prev = &node;
    head.next = &node;
}

constexpr u8 kPoisonFree = 0x6b;  // Linux POISON_FREE
constexpr u8 kRedZone = 0xbb;     // Linux SLUB_RED_INACTIVE
constexpr u32 kSlabMagic = 0x51AB51AB;
constexpr u32 kStateAllocated = 0xA110CA7E;
constexpr u32 kStateFree = 0xF4EEF4EE;
constexpr size_t kMinRedZone = 8;
}  // namespace SlabDetail

// alignas(16): the page tag of a slab page is the cache's address with the slab order in bits 2:1 and a
// "plain cache" flag in bit 3 (bit 0 is left to the tag's user: KernelHeap marks large blocks with it).
template <SlabPageSource PageSource, SlabLock Lock>
class alignas(16) SlabCache {
    struct Slab;

public:
    MNEME_NONCOPYABLE(SlabCache);
    MNEME_NONMOVABLE(SlabCache);

    static constexpr size_t kPageSize = 4096;
    static constexpr unsigned kMaxOrder = 3;
    static constexpr size_t kMaxObjectSize = 8 * 1024;
    static constexpr size_t kMaxAlignment = 4096;
    static constexpr size_t kNameLength = 32;

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
        compute_layout(config.object_size, config.alignment);
    }

    // Every object must have been freed (a panic names the cache otherwise); all slabs go back.
    ~SlabCache() {
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
        uptr slab_bytes = kPageSize << ((tag & kTagOrderMask) >> 1);
        Slab* slab = reinterpret_cast<Slab*>(reinterpret_cast<uptr>(object) & ~(slab_bytes - 1));
        cache_of_tag(tag)->deallocate_in_slab(slab, object, caller);
    }

private:
    // Fast path: check for the common double free, push the object, and leave the lists alone unless the
    // slab was full or becomes empty (then a call in tail position, as is debug mode's). kPlain: the
    // caller knows the cache is plain, so neither the debug flag nor the link offset is read.
    template <bool kPlain = false>
    [[gnu::always_inline]] void deallocate_in_slab(Slab* slab, void* object, const void* caller) {
        SlabLocker<Lock> locker(m_lock);
        if (!kPlain && m_debug) [[unlikely]]
            return deallocate_debug_locked(slab, object, caller);
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

    SlabStatistics statistics() const {
        SlabLocker<Lock> locker(m_lock);
        size_t slabs = m_full_count + m_partial_count + m_empty_count;
        size_t idle = idle_current_slab() ? 1 : 0;  // an empty current slab counts as empty
        return {.name = m_name,
                .object_size = m_object_size,
                .stride = m_stride,
                .objects_per_slab = m_capacity,
                .slab_order = m_order,
                .objects_in_use = m_objects_in_use,
                .objects_total = slabs * m_capacity,
                .slabs_full = m_full_count,
                .slabs_partial = m_partial_count - idle,
                .slabs_empty = m_empty_count + idle,
                .memory_bytes = slabs * m_slab_bytes,
                .live_bytes = m_objects_in_use * m_object_size,
                .debug = m_debug};
    }

    // True if every invariant at the top of this file holds; otherwise describes the first broken one to
    // `sink` (when given) and returns false.
    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const {
        SlabLocker<Lock> locker(m_lock);
        size_t in_use_sum = 0;
        struct ListCheck {
            const SlabDetail::ListNode* head;
            size_t count;
            const char* what;
        };
        const ListCheck lists[] = {{&m_full, m_full_count, "full"},
                                   {&m_partial, m_partial_count, "partial"},
                                   {&m_empty, m_empty_count, "empty"}};
        for (const ListCheck& list : lists) {
            size_t length = 0;
            for (const SlabDetail::ListNode* node = list.head->next; node != list.head; node = node->next) {
                if (node->next->prev != node)
                    return invariant_violation(sink, context, "slab %s: %s list links broken at %p", m_name, list.what,
                                               node);
                const Slab* slab = as_slab(const_cast<SlabDetail::ListNode*>(node));
                if (++length > list.count)
                    return invariant_violation(sink, context, "slab %s: %s list longer than its count %zu", m_name,
                                               list.what, list.count);
                if (!check_slab(slab, list.head, sink, context)) return false;
                in_use_sum += slab->in_use;
            }
            if (length != list.count)
                return invariant_violation(sink, context, "slab %s: %s list has %zu slabs, count says %zu", m_name,
                                           list.what, length, list.count);
        }
        if (in_use_sum != m_objects_in_use)
            return invariant_violation(sink, context, "slab %s: slabs hold %zu objects, counter says %zu", m_name,
                                       in_use_sum, m_objects_in_use);
        if (m_empty_count > m_empty_limit)
            return invariant_violation(sink, context, "slab %s: %zu empty slabs kept, limit %u", m_name, m_empty_count,
                                       m_empty_limit);
        return true;
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
    // Debug mode only: after the object and its red zone.
    struct Trailer {
        void* link;
        const void* caller;  // last allocate() or free() caller
        u32 state;           // kStateAllocated or kStateFree
        u32 requested;       // bytes asked for (kmalloc); the red zone starts there
    };

    static Slab* as_slab(SlabDetail::ListNode* node) { return reinterpret_cast<Slab*>(node); }
    static const Slab* as_slab(const SlabDetail::ListNode* node) { return reinterpret_cast<const Slab*>(node); }
    Slab* slab_of(const void* object) const {
        return reinterpret_cast<Slab*>(reinterpret_cast<uptr>(object) & ~uptr(m_slab_bytes - 1));
    }
    void*& link_of(void* object) const { return *reinterpret_cast<void**>(static_cast<u8*>(object) + m_link_offset); }
    Trailer& trailer_of(const void* object) const {
        return *reinterpret_cast<Trailer*>(const_cast<u8*>(static_cast<const u8*>(object)) + m_trailer_offset);
    }

    void compute_layout(size_t size, size_t alignment) {
        size_t align = alignment < alignof(void*) ? alignof(void*) : alignment;
        m_object_size = size;
        if (m_debug) {
            // object | red zone (>= 8 bytes) | trailer, the whole rounded up to the alignment.
            m_trailer_offset = align_up(size + SlabDetail::kMinRedZone, alignof(Trailer));
            m_link_offset = m_trailer_offset + __builtin_offsetof(Trailer, link);
            m_stride = align_up(m_trailer_offset + sizeof(Trailer), align);
        } else if (m_constructor) {
            // Keep the constructed state intact: the link goes after the object.
            m_link_offset = align_up(size, alignof(void*));
            m_stride = align_up(m_link_offset + sizeof(void*), align);
        } else {
            m_link_offset = 0;
            m_stride = align_up(size < sizeof(void*) ? sizeof(void*) : size, align);
        }
        m_header_size = align_up(sizeof(Slab), align);
        // Smallest order wasting at most 1/16 of the slab; else the least wasteful one.
        unsigned best_order = 0;
        size_t best_waste = 0, best_bytes = 0;
        bool have_best = false;
        for (unsigned order = 0; order <= kMaxOrder; ++order) {
            size_t bytes = kPageSize << order;
            if (bytes < m_header_size + m_stride) continue;
            size_t capacity = (bytes - m_header_size) / m_stride;
            size_t waste = bytes - capacity * m_stride;
            if (!have_best || u64(waste) * best_bytes < u64(best_waste) * bytes) {
                best_order = order;
                best_waste = waste;
                best_bytes = bytes;
                have_best = true;
            }
            if (waste * 16 <= bytes) break;
        }
        VERIFY(have_best);
        m_order = best_order;
        m_slab_bytes = kPageSize << best_order;
        m_capacity = (m_slab_bytes - m_header_size) / m_stride;
        m_colour_step = align < 8 ? 8 : align;
        m_colour_max = m_slab_bytes - m_header_size - m_capacity * m_stride;
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
        SlabDetail::list_remove(slab->node);
        SlabDetail::list_push_front(m_full, slab->node);
        --m_partial_count;
        ++m_full_count;
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
        SlabDetail::list_remove(slab->node);
        SlabDetail::list_push_front(m_partial, slab->node);
        --m_full_count;
        ++m_partial_count;
    }

    bool is_plain() const { return m_order == 0 && m_link_offset == 0 && !m_debug; }
    bool is_only_partial(const Slab* slab) const {
        return m_partial.next == &slab->node && m_partial.prev == &slab->node;
    }
    // The only partial slab, if it has no object in use; else null.
    Slab* idle_current_slab() const {
        if (SlabDetail::list_empty(m_partial) || m_partial.next != m_partial.prev) return nullptr;
        Slab* slab = as_slab(m_partial.next);
        return slab->in_use == 0 ? slab : nullptr;
    }

    // Partial list empty: reuse an empty slab, else make one. Null when the page source fails.
    [[gnu::noinline]] Slab* refill_locked() {
        Slab* slab;
        if (!SlabDetail::list_empty(m_empty)) {
            slab = as_slab(m_empty.next);
            SlabDetail::list_remove(slab->node);
            --m_empty_count;
        } else {
            slab = grow_locked();
            if (!slab) return nullptr;
        }
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
        m_next_colour += m_colour_step;
        if (m_next_colour > m_colour_max) m_next_colour = 0;
        // Thread the free list in address order, so objects are handed out lowest first.
        void* next = nullptr;
        for (size_t i = m_capacity; i-- > 0;) {
            u8* object = slab->objects + i * m_stride;
            if (m_debug) {
                __builtin_memset(object, SlabDetail::kPoisonFree, m_object_size);
                __builtin_memset(object + m_object_size, SlabDetail::kRedZone, m_trailer_offset - m_object_size);
                Trailer& trailer = trailer_of(object);
                trailer.state = SlabDetail::kStateFree;
                trailer.caller = nullptr;
                trailer.requested = 0;
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
        SlabDetail::list_remove(slab->node);
        --m_partial_count;
        SlabDetail::list_push_front(m_empty, slab->node);
        ++m_empty_count;
        // Over the limit: return the coldest empty slab (the tail), keeping the one just touched.
        if (m_empty_count > m_empty_limit) {
            --m_empty_count;
            release_slab_locked(as_slab(m_empty.prev));
        }
    }

    // Unlink and give back to the page source; the caller adjusts that list's counter.
    void release_slab_locked(Slab* slab) {
        VERIFY(slab->in_use == 0);
        if (m_debug) {
            for (size_t i = 0; i < m_capacity; ++i) {
                u8* object = slab->objects + i * m_stride;
                check_poison(object, trailer_of(object).caller);
                check_red_zone(object, m_object_size, trailer_of(object).caller);
            }
        }
        SlabDetail::list_remove(slab->node);
        slab->magic = 0;
        if constexpr (TaggedPageSource<PageSource>) m_source.set_page_tags(slab, size_t(1) << m_order, 0);
        m_source.free_pages(slab, m_order);
    }

    // --- debug mode -------------------------------------------------------------------------------------

    // The first byte in [from, to) of `bytes` that is not `value`, or `to`: eight bytes at a time once
    // aligned, so the checks cost a few instructions per word rather than per byte.
    static size_t first_mismatch(const u8* bytes, size_t from, size_t to, u8 value) {
        size_t i = from;
        for (; i < to && (reinterpret_cast<uptr>(bytes + i) & 7) != 0; ++i)
            if (bytes[i] != value) return i;
        const u64 pattern = 0x0101010101010101ull * value;
        for (; i + 8 <= to; i += 8) {
            u64 word;
            __builtin_memcpy(&word, bytes + i, sizeof(word));
            if (word != pattern) break;
        }
        for (; i < to; ++i)
            if (bytes[i] != value) return i;
        return to;
    }
    void check_poison(const u8* object, const void* caller) const {
        size_t i = first_mismatch(object, 0, m_object_size, SlabDetail::kPoisonFree);
        if (i != m_object_size) [[unlikely]]
            mneme_panic("slab %s: %p written after free (byte %zu is %#04x; caller %p)", m_name, object, i, object[i],
                        caller);
    }
    void check_red_zone(const u8* object, size_t from, const void* caller) const {
        size_t i = first_mismatch(object, from, m_trailer_offset, SlabDetail::kRedZone);
        if (i != m_trailer_offset) [[unlikely]]
            mneme_panic("slab %s: write past the end of %p (%zu-byte object, byte %zu is %#04x; caller %p)", m_name,
                        object, from, i, object[i], caller);
    }

    [[gnu::noinline]] void debug_on_allocate(void* object, size_t requested, const void* caller) {
        u8* bytes = static_cast<u8*>(object);
        Trailer& trailer = trailer_of(object);
        if (trailer.state != SlabDetail::kStateFree)
            mneme_panic("slab %s: free list holds %p in state %#x (caller %p)", m_name, object, trailer.state, caller);
        check_poison(bytes, caller);
        check_red_zone(bytes, m_object_size, caller);
        trailer.state = SlabDetail::kStateAllocated;
        trailer.caller = caller;
        trailer.requested = u32(requested);
        // The bytes between the requested size and the object size belong to the red zone for now.
        __builtin_memset(bytes + requested, SlabDetail::kRedZone, m_object_size - requested);
        if (m_constructor) m_constructor(object);
    }

    [[gnu::noinline]] void debug_on_free(Slab* slab, void* object, const void* caller) {
        u8* bytes = static_cast<u8*>(object);
        uptr offset = reinterpret_cast<uptr>(bytes) - reinterpret_cast<uptr>(slab->objects);
        if (bytes < slab->objects || offset % m_stride != 0 || offset / m_stride >= m_capacity)
            mneme_panic("slab %s: %p is not the start of an object (caller %p)", m_name, object, caller);
        Trailer& trailer = trailer_of(object);
        if (trailer.state == SlabDetail::kStateFree)
            mneme_panic("slab %s: double free of %p (caller %p, first freed by %p)", m_name, object, caller,
                        trailer.caller);
        if (trailer.state != SlabDetail::kStateAllocated)
            mneme_panic("slab %s: trailer of %p overwritten (state %#x; caller %p)", m_name, object, trailer.state,
                        caller);
        check_red_zone(bytes, trailer.requested, caller);
        __builtin_memset(bytes, SlabDetail::kPoisonFree, m_object_size);
        __builtin_memset(bytes + m_object_size, SlabDetail::kRedZone, m_trailer_offset - m_object_size);
        trailer.state = SlabDetail::kStateFree;
        trailer.caller = caller;
        trailer.requested = 0;
    }

    // --- invariants ---------------------------------------------------------------------------------------

    bool check_slab(const Slab* slab, const SlabDetail::ListNode* list, FormatSink sink, void* context) const {
        if (reinterpret_cast<uptr>(slab) & (m_slab_bytes - 1))
            return invariant_violation(sink, context, "slab %s: slab %p is not aligned to %zu", m_name, slab,
                                       m_slab_bytes);
        if (slab->magic != SlabDetail::kSlabMagic || slab->cache != this)
            return invariant_violation(sink, context, "slab %s: slab %p has magic %#x, owner %p", m_name, slab,
                                       slab->magic, static_cast<const void*>(slab->cache));
        size_t colour = size_t(slab->objects - reinterpret_cast<const u8*>(slab)) - m_header_size;
        if (colour > m_colour_max || colour % m_colour_step != 0)
            return invariant_violation(sink, context, "slab %s: slab %p has colour %zu (max %zu)", m_name, slab, colour,
                                       m_colour_max);
        bool in_use_ok = list == &m_full      ? slab->in_use == m_capacity
                         : list == &m_partial ? (slab->in_use > 0 || is_only_partial(slab)) && slab->in_use < m_capacity
                                              : slab->in_use == 0;
        if (!in_use_ok)
            return invariant_violation(sink, context, "slab %s: slab %p with %u/%zu in use is on the wrong list",
                                       m_name, slab, slab->in_use, m_capacity);
        size_t expected_free = m_capacity - slab->in_use, free_count = 0;
        for (void* object = slab->free; object; object = link_of(object)) {
            uptr offset = reinterpret_cast<uptr>(object) - reinterpret_cast<uptr>(slab->objects);
            if (object < slab->objects || offset % m_stride != 0 || offset / m_stride >= m_capacity)
                return invariant_violation(sink, context, "slab %s: free list of slab %p holds %p, not an object",
                                           m_name, slab, object);
            if (++free_count > expected_free)
                return invariant_violation(sink, context, "slab %s: free list of slab %p is longer than %zu (a cycle?)",
                                           m_name, slab, expected_free);
            if (m_debug) {
                const u8* bytes = static_cast<const u8*>(object);
                if (trailer_of(object).state != SlabDetail::kStateFree)
                    return invariant_violation(sink, context, "slab %s: free object %p is not marked free", m_name,
                                               object);
                for (size_t i = 0; i < m_object_size; ++i)
                    if (bytes[i] != SlabDetail::kPoisonFree)
                        return invariant_violation(
                            sink, context, "slab %s: free object %p written after free (byte %zu)", m_name, object, i);
            }
        }
        if (free_count != expected_free)
            return invariant_violation(sink, context, "slab %s: slab %p has %zu free objects, expected %zu", m_name,
                                       slab, free_count, expected_free);
        if (m_debug) {
            for (size_t i = 0; i < m_capacity; ++i) {
                const u8* bytes = slab->objects + i * m_stride;
                const Trailer& trailer = trailer_of(bytes);
                size_t from = trailer.state == SlabDetail::kStateAllocated && trailer.requested ? trailer.requested
                                                                                                : m_object_size;
                for (size_t j = from; j < m_trailer_offset; ++j)
                    if (bytes[j] != SlabDetail::kRedZone)
                        return invariant_violation(sink, context, "slab %s: red zone of %p broken at byte %zu", m_name,
                                                   bytes, j);
            }
        }
        return true;
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
    char m_name[kNameLength] = {};
};
