// PhysicalMemory.cpp: from the multiboot memory map to a running page allocator.
#include "kernel/mm/PhysicalMemory.h"

#include <new>

#include "kernel/boot/Layout.h"
#include "kernel/boot/Multiboot.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/FrameTable.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/smp/Smp.h"
#include "kernel/sync/LockRanks.h"
#include "kernel/sync/LockRegistry.h"
#include "kernel/sync/SpinLock.h"
#include "libc/base/Assert.h"
#include "mm/frame/FrameCacheFront.h"
#include "mm/frame/RangeSet.h"

namespace pmm {

unsigned order_for(u64 bytes) {
    unsigned order = 0;
    while ((u64(kPageSize) << order) < bytes) ++order;
    return order;
}

namespace {

constexpr u32 kMaxRanges = 64;
constexpr u32 kMaxReserved = 24;

PhysicalRange g_range_storage[kMaxRanges];
RangeSet g_usable(Span<PhysicalRange>(g_range_storage, kMaxRanges));
ReservedRegion g_reserved[kMaxReserved];
u32 g_reserved_count = 0;
u64 g_available = 0;
u64 g_unused_above_limit = 0;

Kind g_kind = Kind::Buddy;
FrameAllocator* g_allocator = nullptr;
alignas(BuddyAllocator) u8 g_buddy_storage[sizeof(BuddyAllocator)];
alignas(BitmapAllocator) u8 g_bitmap_storage[sizeof(BitmapAllocator)];
BuddyAllocator* g_buddy = nullptr;
BitmapAllocator* g_bitmap = nullptr;
u16* g_references = nullptr;
u32 g_first_pfn = 0, g_end_pfn = 0;

// The per-CPU frame caches in front of the allocator (mm/frame/FrameCacheFront.h; docs/multicore.md,
// "Per-CPU allocator caches"), whichever allocator pmm= chose. Each CPU uses the cache of its index, with
// interrupts off; the shared allocator is under a spinlock, taken once per batch of frames.
// The rank: above anything that may allocate frames while holding its own lock (the heap's caches take
// frames for slabs), below the console (kernel/sync/LockRanks.h lists the ranks; this one is to join it).
sync::SpinLock g_shared_lock("page allocator", lock_rank::kPageAllocator);
MNEME_REGISTER_LOCK(g_shared_lock);
FrameCache g_frame_caches[per_cpu::kMaxCpus];
using Front = FrameCacheFront<sync::SpinLock>;
alignas(Front) u8 g_front_storage[sizeof(Front)];
Front* g_front = nullptr;

[[gnu::always_inline]] inline FrameCache& this_cpus_cache() { return g_frame_caches[per_cpu::this_cpu()->index]; }

// What the rest of the kernel sees as "the allocator" (pmm::allocator()): single frames through this CPU's
// cache, everything else straight through; free_frames() counts the cached frames as free, so every figure
// and check built on it (the swapper's watermarks, sysinfo, the no-leak checks) is unchanged by the caches.
class CachedAllocator final : public FrameAllocator {
public:
    const char* name() const override { return g_front->shared().name(); }
    ErrorOr<u32> add_free_range(u64 start, u64 end) override {
        return g_front->add_free_range(start, end);
    }
    ErrorOr<u32> allocate(unsigned order, Zone zone) override { return pmm::allocate(order, zone); }
    void free(u32 pfn, unsigned order) override { pmm::free(pfn, order); }
    u32 free_frames() const override { return g_front->free_frames(); }
    u32 total_frames() const override { return g_front->shared().total_frames(); }
    bool check_invariants(FormatSink sink, void* context) const override {
        sync::Locker<sync::SpinLock> locker(g_shared_lock);
        return g_front->shared().check_invariants(sink, context);
    }
    // The caches first (what each holds now), then the shared allocator's exact picture once they are
    // drained into it.
    void dump(FormatSink sink, void* context) const override {
        print_frame_caches();
        drain_frame_caches();
        sync::Locker<sync::SpinLock> locker(g_shared_lock);
        g_front->shared().dump(sink, context);
    }
};
CachedAllocator g_cached;

void reserve(const char* name, u64 start, u64 end) {
    if (end <= start) return;
    VERIFY(g_usable.subtract(start, end).is_error() == false);
    // Keep the list short for the reader: a region of the same name that overlaps or touches one already
    // listed extends it.
    for (u32 i = 0; i < g_reserved_count; ++i) {
        ReservedRegion& r = g_reserved[i];
        if (r.name == name && start <= r.end && end >= r.start) {
            if (start < r.start) r.start = start;
            if (end > r.end) r.end = end;
            return;
        }
    }
    if (g_reserved_count < kMaxReserved) g_reserved[g_reserved_count++] = ReservedRegion{name, start, end};
}

void print_bytes(u64 bytes) {
    if (bytes >= 10 * static_cast<u64>(MiB))
        kprintf("%u MiB", static_cast<unsigned>(bytes / MiB));
    else
        kprintf("%u KiB", static_cast<unsigned>((bytes + KiB - 1) / KiB));
}

}  // namespace

void begin() {
    g_usable.clear();
    g_reserved_count = 0;
    g_available = 0;
    g_unused_above_limit = 0;
    multiboot::for_each_region([](const multiboot::MemoryMapEntry& e) {
        if (e.type != static_cast<u32>(multiboot::RegionType::Available)) return;
        g_available += e.length;
        u64 start = e.base, end = e.base + e.length;
        if (end > layout::kDirectMapLimit) {
            u64 above_start = start > layout::kDirectMapLimit ? start : layout::kDirectMapLimit;
            g_unused_above_limit += end - above_start;
            end = layout::kDirectMapLimit;
        }
        if (start < end && g_usable.add(start, end).is_error())
            kwarn("pmm", "memory map has more than %u ranges; ignoring 0x%llx-0x%llx", kMaxRanges,
                  static_cast<unsigned long long>(start), static_cast<unsigned long long>(end));
    });

    // Page 0: the real-mode interrupt table and the BIOS data area (0x000-0x4ff), and the frame a null
    // physical address would name. The rest of the low 640 KiB is ordinary memory once the loader is done
    // (what the loader left there, the multiboot information, is reserved below); the memory map itself marks
    // the EBDA, video memory and ROMs as not available. On an 8 MiB machine those 636 KiB are a tenth of what
    // the page allocator gets.
    reserve("page 0 (real-mode interrupt table, BIOS data)", 0, kFrameSize);
    reserve("kernel image", layout::virtual_to_physical(reinterpret_cast<uptr>(__kernel_start)),
            layout::virtual_to_physical(reinterpret_cast<uptr>(__kernel_end)));
    multiboot::PhysicalExtent extents[16];
    u32 n = multiboot::loader_data_extents(extents, 16);
    for (u32 i = 0; i < n; ++i)
        reserve("multiboot information", align_down<u64>(extents[i].start, kFrameSize),
                align_up<u64>(extents[i].end, kFrameSize));
    for (u32 i = 0; i < multiboot::module_count(); ++i) {
        const multiboot::Module& m = multiboot::module(i);
        reserve("module (initrd)", align_down<u64>(m.start, kFrameSize), align_up<u64>(m.end, kFrameSize));
    }
}

ErrorOr<u64> boot_allocate(u64 bytes, u64 limit, const char* name) {
    VERIFY(!g_allocator);
    bytes = align_up<u64>(bytes, kFrameSize);
    for (const PhysicalRange& range : g_usable) {
        u64 start = align_up<u64>(range.start, kFrameSize);
        if (start + bytes <= range.end && start + bytes <= limit) {
            reserve(name, start, start + bytes);
            return start;
        }
    }
    return Error::NoMemory;
}

void finish(Kind kind) {
    VERIFY(!g_allocator);
    g_kind = kind;
    if (g_usable.is_empty()) mneme_panic("pmm: no usable memory above 1 MiB besides the kernel and modules");
    u32 first_pfn = static_cast<u32>(g_usable[0].start >> kFrameShift);
    u32 end_pfn = static_cast<u32>((g_usable[g_usable.count() - 1].end + kFrameSize - 1) >> kFrameShift);

    // The metadata covers the span of usable memory; it is carved from that memory itself (and excluded from
    // the allocator by being reserved first).
    u64 bytes = kind == Kind::Buddy ? BuddyAllocator::descriptors_needed(first_pfn, end_pfn) * sizeof(FrameDescriptor)
                                    : BitmapAllocator::words_needed(end_pfn - first_pfn) * sizeof(u32);
    auto metadata = boot_allocate(bytes, layout::kDirectMapLimit, "page allocator metadata");
    if (metadata.is_error())
        mneme_panic("pmm: no room for %llu KiB of allocator metadata", static_cast<unsigned long long>(bytes / KiB));
    void* storage = layout::physical_pointer<void>(static_cast<uptr>(metadata.value()));
    u64 reference_bytes = static_cast<u64>(end_pfn - first_pfn) * sizeof(u16);
    auto references = boot_allocate(reference_bytes, layout::kDirectMapLimit, "frame reference counts");
    if (references.is_error()) mneme_panic("pmm: no room for the frame reference counts");
    g_references = layout::physical_pointer<u16>(static_cast<uptr>(references.value()));
    __builtin_memset(g_references, 0, reference_bytes);
    g_first_pfn = first_pfn;
    g_end_pfn = end_pfn;
    // The frame table (who maps each frame), over the same span.
    auto frame_table_storage =
        boot_allocate(frame_table::bytes_needed(end_pfn - first_pfn), layout::kDirectMapLimit, "frame table");
    if (frame_table_storage.is_error()) mneme_panic("pmm: no room for the frame table");
    frame_table::initialize(layout::physical_pointer<void>(static_cast<uptr>(frame_table_storage.value())), first_pfn,
                            end_pfn - first_pfn);

    if (kind == Kind::Buddy) {
        g_buddy = new (g_buddy_storage) BuddyAllocator(
            Span<FrameDescriptor>(static_cast<FrameDescriptor*>(storage), end_pfn - first_pfn), first_pfn);
        g_allocator = g_buddy;
    } else {
        size_t words = BitmapAllocator::words_needed(end_pfn - first_pfn);
        g_bitmap = new (g_bitmap_storage)
            BitmapAllocator(Span<u32>(static_cast<u32*>(storage), words), first_pfn, end_pfn - first_pfn);
        g_allocator = g_bitmap;
    }
    for (const PhysicalRange& range : g_usable) {
        auto added = g_allocator->add_free_range(range.start, range.end);
        VERIFY(!added.is_error());
    }
    VERIFY(g_allocator->check_invariants(console::sink, nullptr));
    // One cache for each CPU smp::discover found (it ran before): free_frames() adds up only those.
    g_front = new (g_front_storage) Front(*g_allocator, g_shared_lock, Span<FrameCache>(g_frame_caches, smp::cpu_count()));
    g_allocator = &g_cached;

    u64 managed = static_cast<u64>(g_allocator->total_frames()) * kFrameSize;
    u64 reserved = 0;
    for (u32 i = 0; i < g_reserved_count; ++i) reserved += g_reserved[i].end - g_reserved[i].start;
    klog("pmm",
         "memory: %u KiB available in the map, %u KiB reserved (page 0, kernel, initrd, page tables, "
         "metadata), %u KiB free",
         static_cast<unsigned>(g_available / KiB), static_cast<unsigned>(reserved / KiB),
         static_cast<unsigned>(managed / KiB));
    // Metadata per managed memory, in thousandths of a percent (the bitmap's is below 0.01%).
    u64 milli_percent = bytes * 100000 / managed;
    klog("pmm", "%s allocator: %u frames free; metadata %u KiB (%u.%03u%% of managed memory)", g_allocator->name(),
         g_allocator->free_frames(), static_cast<unsigned>((bytes + KiB - 1) / KiB),
         static_cast<unsigned>(milli_percent / 1000), static_cast<unsigned>(milli_percent % 1000));
    if (g_unused_above_limit)
        kwarn("pmm", "%u MiB above the 960 MiB direct map are not used (no high-memory support)",
              static_cast<unsigned>(g_unused_above_limit / MiB));
}

bool is_ready() { return g_allocator != nullptr; }
FrameAllocator& allocator() { return *g_allocator; }
Kind kind() { return g_kind; }
BuddyAllocator* buddy() { return g_buddy; }
BitmapAllocator* bitmap() { return g_bitmap; }

// The cache belongs to this CPU and is touched with interrupts off: an interrupt handler that took a frame
// in the middle of a push or pop would otherwise find the stack half updated.
ErrorOr<u32> allocate(unsigned order, Zone zone) {
    cpu::InterruptGuard guard;
    return g_front->allocate(this_cpus_cache(), order, zone);
}
void free(u32 pfn, unsigned order) {
    cpu::InterruptGuard guard;
    g_front->free(this_cpus_cache(), pfn, order);
}

u32 drain_frame_caches() {
    cpu::InterruptGuard guard;
    return g_front->drain_all();
}

void print_frame_caches() {
    kprintf("per-CPU frame caches (up to %u single frames each, moved %u at a time; counted as free):\n",
            FrameCache::kCapacity, FrameCache::kBatch);
    kprintf("CPU  frames        hits   refills    drains\n");
    u32 cpus = smp::cpu_count() ? smp::cpu_count() : 1;
    for (u32 i = 0; i < cpus && i < per_cpu::kMaxCpus; ++i) {
        const FrameCache& cache = g_frame_caches[i];
        const FrameCacheCounters& c = cache.counters();
        kprintf("%3u  %6u  %10u  %8u  %8u\n", i, cache.count(), c.hits, c.refills, c.drains);
    }
}

void* frame_pointer(u32 pfn) { return layout::physical_pointer<void>(static_cast<uptr>(pfn) << kFrameShift); }
u32 pfn_of(const void* direct_mapped) {
    return static_cast<u32>(layout::virtual_to_physical(reinterpret_cast<uptr>(direct_mapped)) >> kFrameShift);
}

void share_frame(u32 pfn) {
    VERIFY(pfn >= g_first_pfn && pfn < g_end_pfn);
    u16& count = g_references[pfn - g_first_pfn];
    VERIFY(count > 0 && count < 0xFFFF);
    ++count;
}

void set_frame_references(u32 pfn, u32 count) {
    VERIFY(pfn >= g_first_pfn && pfn < g_end_pfn && count <= 0xFFFF);
    g_references[pfn - g_first_pfn] = static_cast<u16>(count);
}

u32 frame_references(u32 pfn) {
    if (pfn < g_first_pfn || pfn >= g_end_pfn) return 0;
    return g_references[pfn - g_first_pfn];
}

void release_frame(u32 pfn) {
    VERIFY(pfn >= g_first_pfn && pfn < g_end_pfn);
    u16& count = g_references[pfn - g_first_pfn];
    if (count == 0)
        mneme_panic("pmm: frame 0x%08llx released with no reference left",
                    static_cast<unsigned long long>(pfn_to_address(pfn)));
    if (--count == 0) free(pfn, 0);
}

u32 first_managed_pfn() { return g_first_pfn; }
u32 end_managed_pfn() { return g_end_pfn; }

u32 reserved_region_count() { return g_reserved_count; }
const ReservedRegion& reserved_region(u32 index) { return g_reserved[index]; }
bool is_reserved(u64 physical) {
    for (u32 i = 0; i < g_reserved_count; ++i)
        if (physical >= g_reserved[i].start && physical < g_reserved[i].end) return true;
    return false;
}

u64 available_bytes() { return g_available; }
u64 unused_above_limit() { return g_unused_above_limit; }

void print_summary() {
    kprintf("Reserved physical memory:\n");
    for (u32 i = 0; i < g_reserved_count; ++i) {
        const ReservedRegion& r = g_reserved[i];
        kprintf("    0x%08llx-0x%08llx  ", static_cast<unsigned long long>(r.start),
                static_cast<unsigned long long>(r.end - 1));
        print_bytes(r.end - r.start);
        kprintf("  %s\n", r.name);
    }
    if (!g_allocator) return;
    u64 total = static_cast<u64>(g_allocator->total_frames()) * kFrameSize;
    u64 free_bytes = static_cast<u64>(g_allocator->free_frames()) * kFrameSize;
    kprintf("Page allocator (pmm=%s): ", g_allocator->name());
    print_bytes(total);
    kprintf(" managed, ");
    print_bytes(free_bytes);
    kprintf(" free (%u of %u frames), ", g_allocator->free_frames(), g_allocator->total_frames());
    print_bytes(total - free_bytes);
    kprintf(" in use\n");
    g_allocator->dump(console::sink, nullptr);
}

}  // namespace pmm
