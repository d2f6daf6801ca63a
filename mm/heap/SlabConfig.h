// SlabConfig.h: what a SlabCache (mm/heap/SlabCache.h) is built from and what it reports: the page source
// and lock it is instantiated with, the configuration it is given, its statistics, its limits, and the
// numbers its slab headers and debug objects carry.
//
// The limits follow from the slab layout (mm/heap/SlabLayout.h): a slab is 2^order pages with order 0..3,
// because a slab page's tag keeps the order in two bits (SlabCache::page_tag); an object must fit in a slab
// with its header; alignment is at most a page, the alignment of an order-0 slab.
#pragma once

#include <type_traits>

#include "libc/base/Error.h"
#include "libc/base/MemoryLayout.h"
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
    void (*constructor)(void* object) = nullptr;  // optional, see the top of mm/heap/SlabCache.h
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
    size_t objects_in_use;        // held by callers (not counting objects_in_magazines)
    size_t objects_in_magazines;  // free objects held by the CPUs' magazines: allocated, as the slabs see it
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
// Limits (SlabCache re-exports the first four as SlabCache::kMaxOrder and so on).
constexpr unsigned kMaxOrder = 3;            // slabs of 1, 2, 4 or 8 pages
constexpr size_t kMaxObjectSize = 8 * 1024;  // fits an order-3 slab with its header, even in debug mode
constexpr size_t kMaxAlignment = kPageSize;  // an order-0 slab is only page-aligned
constexpr size_t kNameLength = 32;           // with the terminating NUL; longer names are cut
constexpr size_t kWasteFraction = 16;        // a slab order is good enough once it wastes at most 1/16
constexpr size_t kMinColourStep = 8;         // colour offsets move by the alignment, and by at least this

// The slab header's magic, checked on every free (a foreign pointer) and cleared when the slab goes back.
constexpr u32 kSlabMagic = 0x51AB51AB;

// Debug mode (mm/heap/SlabDebug.h): the bytes Linux uses (include/linux/poison.h), so dumps look familiar,
// the states an object's trailer records, and the smallest red zone after an object.
constexpr u8 kPoisonFree = 0x6b;  // Linux POISON_FREE
constexpr u8 kRedZone = 0xbb;     // Linux SLUB_RED_INACTIVE
constexpr u32 kStateAllocated = 0xA110CA7E;
constexpr u32 kStateFree = 0xF4EEF4EE;
constexpr size_t kMinRedZone = 8;
}  // namespace SlabDetail
