// Heap.cpp: dispatch between the policy, large mappings, and the C semantics of realloc/calloc/memalign.
#include "libc/malloc/Heap.h"

#include "libc/base/Assert.h"
#include "libc/malloc/Integrity.h"

namespace Malloc {

namespace {

FitStrategy fit_strategy(Policy policy) {
    switch (indexed_version(policy)) {
    case Policy::First: return FitStrategy::First;
    case Policy::Next: return FitStrategy::Next;
    case Policy::Best: return FitStrategy::Best;
    case Policy::Worst: return FitStrategy::Worst;
    default: return FitStrategy::First;
    }
}

FitAllocator::Options fit_options(const HeapOptions& options, uptr secret) {
    FitAllocator::Options fit;
    fit.growth_bytes = options.growth_bytes;
    fit.trim_threshold = options.trim_threshold;
    fit.trim_keep = options.trim_keep;
    fit.secret = secret;
    fit.indexed = !is_list_policy(options.policy);
    fit.list_limit = options.fit_list_limit;
    return fit;
}

SegregatedAllocator::Options segregated_options(const HeapOptions& options, uptr secret) {
    SegregatedAllocator::Options segregated;
    segregated.retain_bytes = options.retain_bytes;
    segregated.secret = secret;
    return segregated;
}

BuddyAllocator::Options buddy_options(uptr secret) {
    BuddyAllocator::Options buddy;
    buddy.secret = secret;
    return buddy;
}

size_t policy_limit(Policy policy) {
    switch (policy) {
    case Policy::Segregated: return SegregatedAllocator::kMaxSize;
    case Policy::Buddy: return BuddyAllocator::kMaxRequest;
    default: return Heap::kMaxRequest;
    }
}

}  // namespace

uptr Heap::default_secret(const void* self) {
    // Not a cryptographic secret: it only has to make a stray pointer or an overwritten header fail the
    // check. Callers with a source of randomness (the host shim: AT_RANDOM) pass a better one.
    u64 mixed = static_cast<u64>(reinterpret_cast<uptr>(self)) * 0x9E3779B97F4A7C15ull;
    return static_cast<uptr>(mixed ^ (mixed >> 29) ^ 0x6D6E656D65ull) | 1;
}

Heap::Heap(MemorySource& source, const HeapOptions& options)
    : m_options(options),
      m_policy(options.policy),
      m_mmap_threshold(options.mmap_threshold < policy_limit(options.policy) ? options.mmap_threshold
                                                                             : policy_limit(options.policy)),
      m_secret(options.secret ? options.secret : default_secret(this)),
      m_large(source, options.mapping_cache_bytes, m_secret),
      m_segregated(source, segregated_options(options, m_secret)),
      m_fit(source, fit_strategy(options.policy), fit_options(options, m_secret)),
      m_buddy(source, buddy_options(m_secret)) {}

bool Heap::owned_by_policy(const void* pointer) const {
    switch (m_policy) {
    case Policy::Segregated: return m_segregated.contains(pointer);
    case Policy::Buddy: return m_buddy.contains(pointer);
    default: return m_fit.contains(pointer);
    }
}

void* Heap::policy_allocate(size_t size) {
    for (;;) {
        void* block;
        switch (m_policy) {
        case Policy::Segregated: block = m_segregated.allocate(size); break;
        case Policy::Buddy: block = m_buddy.allocate(size); break;
        default: block = m_fit.allocate(size); break;
        }
        if (block || !release_for_retry()) return block;
    }
}

void* Heap::policy_allocate_aligned(size_t alignment, size_t size) {
    for (;;) {
        void* block;
        switch (m_policy) {
        case Policy::Segregated: block = m_segregated.allocate_aligned(alignment, size); break;
        case Policy::Buddy: block = m_buddy.allocate_aligned(alignment, size); break;
        default: block = m_fit.allocate_aligned(alignment, size); break;
        }
        if (block || !release_for_retry()) return block;
    }
}

// Out of memory: what the hysteresis keeps may be what is missing, since a kernel's commit limit (or a
// source's budget) counts it: the mappings the large-block cache keeps for reuse, and the free slices the
// segregated policy keeps committed. Gives them back; true when there was any, so the caller tries once
// more (and stops when nothing is left to give).
bool Heap::release_for_retry() {
    bool released = false;
    if (m_large.cached_bytes() != 0) {
        m_large.release_cache();
        released = true;
    }
    if (m_policy == Policy::Segregated && m_segregated.decommit_free_slices() != 0) released = true;
    return released;
}

void Heap::policy_free(void* pointer) {
    switch (m_policy) {
    case Policy::Segregated: m_segregated.free_slow(pointer); return;
    case Policy::Buddy: m_buddy.free(pointer); return;
    default: m_fit.free(pointer); return;
    }
}

size_t Heap::policy_usable_size(const void* pointer, const char* operation) const {
    switch (m_policy) {
    case Policy::Segregated: return m_segregated.usable_size(pointer, operation);
    case Policy::Buddy: return m_buddy.usable_size(pointer, operation);
    default: return m_fit.usable_size(pointer, operation);
    }
}

bool Heap::policy_resize_in_place(void* pointer, size_t size) {
    switch (m_policy) {
    case Policy::Segregated: {
        // A block is its class: it can stay if the new size still fits and does not waste half of it.
        size_t usable = m_segregated.usable_size(pointer, "realloc");
        return size <= usable && (size >= usable / 2 || usable <= 32);
    }
    case Policy::Buddy: return m_buddy.resize_in_place(pointer, size);
    default: return m_fit.resize_in_place(pointer, size);
    }
}

void* Heap::allocate_slow(size_t size, LargeBlocks::Use use) {
    if (size > kMaxRequest) return nullptr;
    if (size > m_mmap_threshold) {
        bool zeroed;
        do {
            if (void* block = m_large.allocate(size, kAlignment, zeroed, use)) return block;
            // No mapping (the source cannot map, or is out of memory): the policy may still hold it.
            if (void* block = policy_allocate(size)) return block;
        } while (release_for_retry());
        return nullptr;
    }
    return policy_allocate(size);
}

void Heap::free_slow(void* pointer) {
    if (!pointer) return;
    if (owned_by_policy(pointer))
        policy_free(pointer);
    else
        m_large.free(pointer);
}

void* Heap::allocate_zeroed(size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total) || total > kMaxRequest) return nullptr;
    if (total > m_mmap_threshold) {
        bool zeroed;
        void* block = m_large.allocate(total, kAlignment, zeroed);
        if (!block && release_for_retry()) block = m_large.allocate(total, kAlignment, zeroed);
        if (block) {
            // A fresh mapping is already zero: no need to touch (and fault in) every page.
            if (!zeroed) __builtin_memset(block, 0, total);
            return block;
        }
    }
    void* block = policy_allocate(total);
    if (block) __builtin_memset(block, 0, total);
    return block;
}

void* Heap::allocate_aligned(size_t alignment, size_t size) {
    if (!is_power_of_two(alignment)) return nullptr;
    if (alignment <= kAlignment) return allocate(size);
    if (size > kMaxRequest || alignment > kMaxRequest) return nullptr;
    if (size <= m_mmap_threshold && alignment <= m_mmap_threshold) {
        if (void* block = policy_allocate_aligned(alignment, size)) return block;
    }
    bool zeroed;
    return m_large.allocate(size, alignment, zeroed);
}

void* Heap::move(void* pointer, size_t old_usable, size_t size, LargeBlocks::Use use) {
    void* moved = size > m_mmap_threshold ? allocate_slow(size, use) : allocate(size);
    if (!moved) return nullptr;
    __builtin_memcpy(moved, pointer, old_usable < size ? old_usable : size);
    free(pointer);
    return moved;
}

void* Heap::reallocate(void* pointer, size_t size) {
    if (!pointer) return allocate(size);
    if (size == 0) {
        free(pointer);
        return nullptr;
    }
    if (owned_by_policy(pointer)) {
        size_t usable = policy_usable_size(pointer, "realloc");  // validates
        if (size > kMaxRequest) return nullptr;
        if (size <= m_mmap_threshold || is_fit_policy(m_policy)) {
            // A fit heap grows a block in place even past the threshold (as dlmalloc does): no copy.
            if (size <= policy_limit(m_policy) && policy_resize_in_place(pointer, size)) return pointer;
        }
        // A block that realloc takes past the mmap threshold is a growing buffer (a vector, a string
        // builder): it may take a larger cached mapping, which it is likely to grow into.
        return move(pointer, usable, size, LargeBlocks::Use::Growing);
    }
    size_t usable = m_large.usable_size(pointer, "realloc");  // validates
    if (size > kMaxRequest) return nullptr;
    if (size > m_mmap_threshold / 2) {
        if (void* resized = m_large.reallocate(pointer, size)) return resized;
    }
    return move(pointer, usable, size);
}

size_t Heap::usable_size(const void* pointer) const {
    if (!pointer) return 0;
    if (owned_by_policy(pointer)) return policy_usable_size(pointer, "malloc_usable_size");
    return m_large.usable_size(pointer, "malloc_usable_size");
}

void Heap::release_free_memory() {
    m_large.release_cache();
    switch (m_policy) {
    case Policy::Segregated: m_segregated.release_free_memory(); break;
    case Policy::Buddy: m_buddy.release_free_memory(); break;
    default: m_fit.release_free_memory(); break;
    }
}

Statistics Heap::statistics() const {
    Statistics s;
    s.policy = m_policy;
    switch (m_policy) {
    case Policy::Segregated: m_segregated.add_statistics(s); break;
    case Policy::Buddy: m_buddy.add_statistics(s); break;
    default: m_fit.add_statistics(s); break;
    }
    m_large.add_statistics(s);
    return s;
}

void Heap::print_statistics(FormatSink sink, void* context) const {
    Malloc::print_statistics(statistics(), sink, context);
}

void Heap::check_invariants() const {
    m_large.check_invariants();
    switch (m_policy) {
    case Policy::Segregated: m_segregated.check_invariants(); break;
    case Policy::Buddy: m_buddy.check_invariants(); break;
    default: m_fit.check_invariants(); break;
    }
}

void Heap::dump(FormatSink sink, void* context) const {
    switch (m_policy) {
    case Policy::Segregated: m_segregated.dump(sink, context); break;
    case Policy::Buddy: m_buddy.dump(sink, context); break;
    default: m_fit.dump(sink, context); break;
    }
}

}  // namespace Malloc
