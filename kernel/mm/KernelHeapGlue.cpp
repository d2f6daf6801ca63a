// KernelHeapGlue.cpp: the kernel heap: mm/heap/KernelHeap.h over the page allocator, with interrupts off as its
// lock, plus kmalloc/kfree, C++ new/delete, and the monitor's `slabinfo`.
//
// Per-CPU magazines (docs/slab.md, "Per-CPU magazines"): the heap keeps one magazine per CPU and cache, and
// every allocation and free goes through the running CPU's (per_cpu::this_cpu()->index), with interrupts off
// for the call: an interrupt handler on the same CPU may kmalloc, and would otherwise find the magazine half
// updated. Another CPU's magazine is touched only by a flush of all of them (shrink, destroy_cache), which
// runs under the big kernel lock while every other CPU is in user mode or waiting for the lock, never inside
// the heap.
//
// The page source hands out frames through the direct map and keeps KernelHeap's per-page tag words in an
// array indexed by frame number (mm/heap/SlabPageTags.h), 4 bytes per managed frame, allocated from the page
// allocator at boot, before the heap is built (the heap keeps a copy of the table's view).
#include "kernel/mm/KernelHeapGlue.h"

#include <new>

#include "arch/i386/Cpu.h"
#include "kernel/boot/Layout.h"
#include "kernel/debug/Monitor.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/smp/PerCpu.h"
#include "libc/base/MemoryLayout.h"
#include "mm/heap/KernelHeap.h"
#include "mm/heap/SlabPageTags.h"

namespace {

class KernelPageSource {
public:
    ErrorOr<void*> allocate_pages(unsigned order) {
        u32 pfn = TRY(pmm::allocate(order));
        return pmm::frame_pointer(pfn);
    }
    void free_pages(void* pages, unsigned order) { pmm::free(pmm::pfn_of(pages), order); }
    void set_page_tags(void* page, size_t count, uptr tag) { m_tags.set(page, count, tag); }
    uptr page_tag(const void* address) const { return m_tags.get(address); }
    // KernelHeap copies the table's view when it is built (PageTagTableSource), so kfree reads a tag
    // without going through the page source: m_tags is set before the heap and never replaced.
    const SlabPageTags& page_tags() const { return m_tags; }

    SlabPageTags m_tags;
};

// The kernel is single-CPU and not preemptible: turning interrupts off is the whole lock. Each lock object
// remembers the interrupt flag it found, so locks nest (heap lock, then a cache's).
class InterruptLock {
public:
    void lock() {
        u32 flags = cpu::read_eflags();
        cpu::disable_interrupts();
        m_saved = flags;
    }
    void unlock() {
        if (m_saved & cpu::kEflagsInterrupt) cpu::enable_interrupts();
    }

private:
    u32 m_saved = 0;
};

using Heap = KernelHeap<KernelPageSource, InterruptLock, per_cpu::kMaxCpus>;

// The running CPU's magazines; called with interrupts off, so the CPU cannot change under the caller.
[[gnu::always_inline]] inline u32 this_cpu_index() { return per_cpu::this_cpu()->index; }

KernelPageSource g_source;
alignas(Heap) u8 g_heap_storage[sizeof(Heap)];
Heap* g_heap = nullptr;

}  // namespace

namespace kernel_heap {

void initialize() {
    FrameAllocator& allocator = pmm::allocator();
    (void)allocator;
    // Tags for every frame the direct map can reach that the allocator manages.
    u32 first = pmm::first_managed_pfn(), end = pmm::end_managed_pfn();
    u32 bytes = (end - first) * static_cast<u32>(sizeof(uptr));
    unsigned order = 0;
    while ((kPageSize << order) < bytes) ++order;
    auto block = pmm::allocate(order);
    if (block.is_error()) mneme_panic("kernel heap: no %u KiB block for the page tags", bytes / 1024);
    void* storage = pmm::frame_pointer(block.value());
    __builtin_memset(storage, 0, kPageSize << order);
    g_source.m_tags = SlabPageTags(Span<uptr>(static_cast<uptr*>(storage), end - first),
                                   layout::physical_to_virtual(static_cast<uptr>(first) << kPageShift));
    g_heap = new (g_heap_storage) Heap(g_source);
    klog("heap", "slab kernel heap: %u size classes (8 to 2048 bytes)%s; page tags %u KiB",
         static_cast<unsigned>(Heap::kClassCount), g_heap->is_debug() ? ", DEBUG: red zones and poisoning" : "",
         (kPageSize << order) / 1024);
}

// Slab memory, with the slabs that objects in magazines keep: those objects are allocated as far as the slabs
// know, and their pages are the heap's (the user suite's no-leak check allows for heap growth it can see
// here). Not flushed first: sys_meminfo reads the free frames before this figure, and a flush between the
// two would make them disagree.
u32 bytes_in_use() {
    if (!g_heap) return 0;
    u32 total = static_cast<u32>(g_heap->large_bytes());
    g_heap->for_each_cache([&](Heap::Cache& cache) { total += static_cast<u32>(cache.statistics().memory_bytes); });
    return total;
}

bool check_invariants() { return g_heap->check_invariants(console::sink, nullptr); }
// Every CPU's magazines flushed, then every empty slab back (this CPU's magazine with interrupts off).
u32 shrink() {
    cpu::InterruptGuard guard;
    return static_cast<u32>(g_heap->shrink());
}

// ObjectCache is an opaque name for Heap::Cache, so callers need not see the template.
namespace {
Heap::Cache* real(ObjectCache* cache) { return reinterpret_cast<Heap::Cache*>(cache); }
}  // namespace

ObjectCache* create_cache(const SlabCacheConfig& config) {
    auto cache = g_heap->create_cache(config);
    return cache.is_error() ? nullptr : reinterpret_cast<ObjectCache*>(cache.value());
}
void destroy_cache(ObjectCache* cache) {
    cpu::InterruptGuard guard;  // the cache's magazines are flushed, this CPU's among them
    g_heap->destroy_cache(real(cache));
}
void* cache_allocate(ObjectCache* cache) {
    cpu::InterruptGuard guard;
    return g_heap->cache_allocate(*real(cache), __builtin_return_address(0), this_cpu_index());
}
void cache_free(ObjectCache* cache, void* object) {
    cpu::InterruptGuard guard;
    g_heap->cache_deallocate(*real(cache), object, __builtin_return_address(0), this_cpu_index());
}
SlabStatistics cache_statistics(ObjectCache* cache) { return real(cache)->statistics(); }

}  // namespace kernel_heap

void* kmalloc(size_t size) {
    cpu::InterruptGuard guard;
    return g_heap->allocate(size, __builtin_return_address(0), this_cpu_index());
}
void kfree(void* pointer) {
    cpu::InterruptGuard guard;
    g_heap->deallocate(pointer, __builtin_return_address(0), this_cpu_index());
}
size_t kmalloc_usable_size(const void* pointer) { return g_heap->usable_size(pointer); }

// C++ allocation in the kernel goes to kmalloc. A failed `new` is a panic: kernel code that can run out of
// memory calls kmalloc and handles nullptr.
void* operator new(size_t size) {
    void* p;
    {
        cpu::InterruptGuard guard;
        p = g_heap->allocate(size, __builtin_return_address(0), this_cpu_index());
    }
    if (!p) mneme_panic("operator new(%zu): out of memory", size);
    return p;
}
void* operator new[](size_t size) { return operator new(size); }
namespace {
[[gnu::always_inline]] inline void delete_object(void* pointer, const void* caller) {
    cpu::InterruptGuard guard;
    g_heap->deallocate(pointer, caller, this_cpu_index());
}
}  // namespace
void operator delete(void* pointer) noexcept { delete_object(pointer, __builtin_return_address(0)); }
void operator delete[](void* pointer) noexcept { delete_object(pointer, __builtin_return_address(0)); }
void operator delete(void* pointer, size_t) noexcept { delete_object(pointer, __builtin_return_address(0)); }
void operator delete[](void* pointer, size_t) noexcept { delete_object(pointer, __builtin_return_address(0)); }

MONITOR_COMMAND(slabinfo, "slabinfo", "",
                "the kernel heap's slab caches: objects, slabs, memory, efficiency; each CPU's magazines") {
    g_heap->dump(console::sink, nullptr);
}
