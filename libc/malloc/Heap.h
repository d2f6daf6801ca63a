// Heap.h: one malloc heap -- the C allocation functions over a policy, large mappings and a MemorySource.
//
// The Heap is what a C library instantiates once (libc/malloc/host/PreloadShim.cpp on the host,
// libc/user in Mneme) and what tests instantiate many times over their own memory sources. It does not
// define malloc/free symbols and holds no globals.
//
//   request > mmap threshold  ->  LargeBlocks (one mapping each, cached with hysteresis)
//   otherwise                 ->  the policy: SegregatedAllocator (default), FitAllocator (first, next,
//                                 best, worst) or BuddyAllocator
//
// A pointer belongs to the policy when it lies in the policy's heap range, else it must carry a valid
// large-block header; anything else is reported as misuse.
//
// Not synchronised: the caller serialises calls (the host shim takes a SpinLock once the process has
// threads, and gives each thread a ThreadCache in front of the segregated policy).
#pragma once

#include "libc/base/Format.h"
#include "libc/base/Types.h"
#include "libc/malloc/BuddyAllocator.h"
#include "libc/malloc/FitAllocator.h"
#include "libc/malloc/LargeBlocks.h"
#include "libc/malloc/MemorySource.h"
#include "libc/malloc/Policy.h"
#include "libc/malloc/SegregatedAllocator.h"
#include "libc/malloc/Statistics.h"

namespace Malloc {

struct HeapOptions {
    Policy policy = kDefaultPolicy;
    size_t mmap_threshold = 128 * KiB;      // larger requests get a mapping of their own
    size_t growth_bytes = 64 * KiB;         // fit policies: the least the heap grows by
    size_t trim_threshold = 512 * KiB;      // fit policies: free top bytes that trigger a shrink ...
    size_t trim_keep = 128 * KiB;           // ... which keeps this much (hysteresis)
    // first/next/best/worst: the free list serves up to this many free blocks, the index above
    // (FitAllocator.h; kPolicyListLimit: each strategy's measured default)
    size_t fit_list_limit = FitAllocator::kPolicyListLimit;
    size_t retain_bytes = 4 * MiB;          // segregated: touched free memory kept resident
    size_t mapping_cache_bytes = 32 * MiB;  // freed large mappings kept for reuse
    uptr secret = 0;                        // for header checks and canaries; 0: derived from `this`
};

class Heap {
public:
    // Requests above this fail at once: no object may exceed PTRDIFF_MAX (C17 7.22.3 via 6.5.6).
    static constexpr size_t kMaxRequest = SIZE_MAX / 2 - 64 * KiB;
    static constexpr size_t kAlignment = 16;

    explicit Heap(MemorySource& source, const HeapOptions& options = {});
    MNEME_NONCOPYABLE(Heap);
    MNEME_NONMOVABLE(Heap);

    // malloc: a block of at least `size` bytes aligned to 16, or nullptr (out of memory). size 0 gives a
    // unique minimum-size block.
    void* allocate(size_t size) {
        if (m_policy == Policy::Segregated) [[likely]] {
            if (void* block = m_segregated.allocate_fast(size)) return block;
        }
        return allocate_slow(size);
    }
    // free: nullptr is ignored; a pointer this heap did not hand out, or handed out and took back, is
    // reported and aborts.
    void free(void* pointer) {
        if (m_policy == Policy::Segregated && m_segregated.free_fast(pointer)) [[likely]]
            return;
        free_slow(pointer);
    }
    // calloc: nullptr when count * size overflows or memory runs out.
    void* allocate_zeroed(size_t count, size_t size);
    // realloc: grows or shrinks in place when the policy can, else moves. realloc(nullptr, n) is
    // malloc(n); realloc(p, 0) frees p and returns nullptr (as glibc does). On failure p is untouched.
    void* reallocate(void* pointer, size_t size);
    // aligned_alloc/memalign: `alignment` must be a power of two (else nullptr).
    void* allocate_aligned(size_t alignment, size_t size);
    // malloc_usable_size: bytes the program may use at `pointer` (at least what it asked for); 0 for null.
    size_t usable_size(const void* pointer) const;
    // malloc_trim: gives back everything the hysteresis was keeping.
    void release_free_memory();

    Policy policy() const { return m_policy; }
    Statistics statistics() const;
    void print_statistics(FormatSink sink, void* context) const;
    void check_invariants() const;
    void dump(FormatSink sink, void* context) const;

    // For ThreadCache, which fronts the segregated policy in threaded programs.
    SegregatedAllocator& segregated() { return m_segregated; }
    bool owned_by_policy(const void* pointer) const;

private:
    static uptr default_secret(const void* self);
    void* allocate_slow(size_t size, LargeBlocks::Use use = LargeBlocks::Use::Plain);
    void free_slow(void* pointer);
    void* policy_allocate(size_t size);
    bool release_for_retry();
    void* policy_allocate_aligned(size_t alignment, size_t size);
    void policy_free(void* pointer);
    size_t policy_usable_size(const void* pointer, const char* operation) const;
    bool policy_resize_in_place(void* pointer, size_t size);
    void* move(void* pointer, size_t old_usable, size_t size, LargeBlocks::Use use = LargeBlocks::Use::Plain);

    HeapOptions m_options;
    Policy m_policy;
    size_t m_mmap_threshold;  // the option, capped at what the policy can hold
    uptr m_secret;
    LargeBlocks m_large;
    SegregatedAllocator m_segregated;
    FitAllocator m_fit;
    BuddyAllocator m_buddy;
};

}  // namespace Malloc
