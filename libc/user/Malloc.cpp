// Malloc.cpp: malloc and friends for Mneme user programs: a Malloc::Heap over the brk and mmap2 calls.
//
// The heap and its memory source live in static storage and are constructed at the first call (not by a
// global constructor), because that is when the environment decides the policy, and because malloc may
// be called from other constructors before ours would run. Programs are single-threaded, so there is no
// lock; a fork()ed child gets its own copy of the whole heap, copy-on-write.
#include "libc/user/Malloc.h"

#include <new>

#include "libc/base/Error.h"
#include "libc/malloc/Heap.h"
#include "libc/malloc/MemorySource.h"
#include "libc/malloc/Policy.h"
#include "libc/user/Stdio.h"
#include "libc/user/Stdlib.h"
#include "libc/rt/String.h"
#include "libc/user/Syscall.h"

namespace {

// The Mneme side of MemorySource: one heap, anonymous private mappings. No remap or discard (Mneme has no
// mremap or madvise), so realloc of a large block copies and freed heap pages stay resident until the top of
// the heap is trimmed.
//
// Where the heap lives depends on how it first grows. The fit and buddy policies extend() it and use what
// they take: it is the brk heap. The segregated policy reserve()s 1 MiB segments it fills slowly, which brk
// cannot do without promising all of it (the kernel's commit rule counts every byte below the break), so its
// heap is a PROT_NONE mapping, which reserves address space without promising memory, made read-write by
// mprotect as it is committed and PROT_NONE again as it shrinks (docs/malloc.md, "Reserving is not
// committing").
class UserMemorySource final : public Malloc::MemorySource {
public:
    void* extend(size_t bytes) override {
        if (m_reservation) {
            void* start = reserve(bytes);
            if (start && !commit(start, bytes)) {
                m_reserved -= bytes;
                return nullptr;
            }
            return start;
        }
        if (!sync_break()) return nullptr;
        uptr target;
        if (__builtin_add_overflow(m_break, bytes, &target)) return nullptr;
        if (!move_break(target)) return nullptr;
        uptr old_break = m_break;
        m_break = target;
        return reinterpret_cast<void*>(old_break);
    }

    void* reserve(size_t bytes) override {
        if (m_break != 0) return extend(bytes);  // a brk heap already: it stays one
        if (!m_reservation && !make_reservation()) return nullptr;
        if (bytes > m_reservation_bytes - m_reserved) return nullptr;
        char* old_top = m_reservation + m_reserved;
        m_reserved += bytes;
        return old_top;
    }

    bool commit(void* address, size_t bytes) override {
        if (!m_reservation) return true;  // memory below the break is committed already
        uptr start = reinterpret_cast<uptr>(address) & ~uptr(kPageBytes - 1);
        uptr end = align_up<uptr>(reinterpret_cast<uptr>(address) + bytes, kPageBytes);
        return sys_mprotect(reinterpret_cast<void*>(start), end - start, kProtRead | kProtWrite) == 0;
    }

    bool decommit(void* address, size_t bytes) override {
        if (!m_reservation) return false;                     // brk memory cannot be decommitted in the middle
        return sys_mprotect(address, bytes, kProtNone) == 0;  // the frames are freed, the pages no longer count
    }

    bool shrink(size_t bytes) override {
        if (m_reservation) {
            if (bytes > m_reserved) return false;
            // The whole pages above the new top go back to PROT_NONE: their frames are freed and they stop
            // counting. A page below the new top is left alone even if the new top cuts it.
            size_t old_end = align_up(m_reserved, kPageBytes);
            m_reserved -= bytes;
            size_t new_end = align_up(m_reserved, kPageBytes);
            if (old_end > new_end) sys_mprotect(m_reservation + new_end, old_end - new_end, kProtNone);
            return true;
        }
        if (!sync_break() || bytes > m_break) return false;
        uptr target = m_break - bytes;
        if (!move_break(target)) return false;
        m_break = target;
        return true;
    }

    void* map(size_t bytes) override {
        long result = sys_mmap2(nullptr, bytes, kProtRead | kProtWrite, kMapPrivate | kMapAnonymous, -1, 0);
        if (is_error_result(result)) return nullptr;
        return reinterpret_cast<void*>(result);
    }

    void unmap(void* address, size_t bytes) override { sys_munmap(address, bytes); }

private:
    static constexpr size_t kPageBytes = 4096;
    // The most address space a reserved heap asks for; less where the mmap area has no such hole.
    static constexpr size_t kMaxReservation = 1024 * MiB, kMinReservation = 16 * MiB;

    bool make_reservation() {
        for (size_t bytes = kMaxReservation; bytes >= kMinReservation; bytes /= 2) {
            long result = sys_mmap2(nullptr, bytes, kProtNone, kMapPrivate | kMapAnonymous, -1, 0);
            if (is_error_result(result)) continue;
            m_reservation = reinterpret_cast<char*>(result);
            m_reservation_bytes = bytes;
            return true;
        }
        return false;
    }

    // The heap must grow without gaps (MemorySource's contract), so the break has to be where we left it.
    // If the program moved it behind our back (sbrk), refuse to grow instead of corrupting the heap.
    bool sync_break() {
        long current = sys_brk(nullptr);
        if (is_error_result(current)) return false;
        if (m_break == 0) m_break = static_cast<uptr>(current);
        if (static_cast<uptr>(current) != m_break) {
            if (!m_warned)
                fputs("malloc: the program break was moved by someone else; the heap stops growing\n", stderr);
            m_warned = true;
            return false;
        }
        return true;
    }

    // brk returns the new break on success; on failure Linux returns the old break and other kernels
    // -ENOMEM: either way, not the target.
    static bool move_break(uptr target) {
        long result = sys_brk(reinterpret_cast<void*>(target));
        return !is_error_result(result) && static_cast<uptr>(result) == target;
    }

    uptr m_break = 0;  // the brk heap's top; 0 until extend() first moves it
    bool m_warned = false;
    char* m_reservation = nullptr;  // the reserved heap, once reserve() made it
    size_t m_reservation_bytes = 0;
    size_t m_reserved = 0;  // its bytes handed out (the reserved heap's break)
};

alignas(UserMemorySource) unsigned char g_source_storage[sizeof(UserMemorySource)];
alignas(Malloc::Heap) unsigned char g_heap_storage[sizeof(Malloc::Heap)];
Malloc::Heap* g_heap = nullptr;

// Under the older memory models (MNEME_MEMORY=static or base-bounds, which the kernel puts in the
// environment) there is no mmap area: the heap is the block's brk heap, which first fit grows as it is used.
// The default allocator's 4 MiB reservations would not even fit the arena.
Malloc::Policy default_policy() {
    const char* model = getenv("MNEME_MEMORY");
    if (model && strcmp(model, "paging") != 0) return Malloc::Policy::First;
    return Malloc::kDefaultPolicy;
}

Malloc::Policy policy_from_environment() {
    Malloc::Policy policy = default_policy();
    const char* name = getenv("MNEME_MALLOC");
    if (name && !Malloc::parse_policy(name, policy)) {
        fprintf(stderr, "malloc: unknown MNEME_MALLOC=%s (accepted: %s, default); using %s\n", name,
                Malloc::policy_name_list(), Malloc::policy_name(policy));
    }
    return policy;
}

Malloc::Heap& heap() {
    if (!g_heap) [[unlikely]] {
        Malloc::HeapOptions options;
        options.policy = policy_from_environment();
        // A Mneme machine has tens of MiB, not GiB: keep less free memory back than the host defaults, so a
        // program that frees its memory shows it going back to the kernel (memhog, the user tests).
        options.mapping_cache_bytes = 2 * MiB;
        options.retain_bytes = 256 * KiB;
        options.trim_threshold = 256 * KiB;
        options.trim_keep = 64 * KiB;
        auto* source = new (g_source_storage) UserMemorySource;
        g_heap = new (g_heap_storage) Malloc::Heap(*source, options);
    }
    return *g_heap;
}

void stderr_sink(void*, const char* text, size_t length) { fwrite(text, 1, length, stderr); }

}  // namespace

extern "C" {

void* malloc(size_t size) { return heap().allocate(size); }
void free(void* pointer) {
    if (pointer) heap().free(pointer);
}
void* calloc(size_t count, size_t size) { return heap().allocate_zeroed(count, size); }
void* realloc(void* pointer, size_t size) { return heap().reallocate(pointer, size); }
void* aligned_alloc(size_t alignment, size_t size) { return heap().allocate_aligned(alignment, size); }
void* memalign(size_t alignment, size_t size) { return heap().allocate_aligned(alignment, size); }

int posix_memalign(void** result, size_t alignment, size_t size) {
    if (!is_power_of_two(alignment) || alignment % sizeof(void*) != 0) return static_cast<int>(Error::Invalid);
    void* block = heap().allocate_aligned(alignment, size);
    if (!block) return static_cast<int>(Error::NoMemory);
    *result = block;
    return 0;
}

size_t malloc_usable_size(const void* pointer) { return pointer ? heap().usable_size(pointer) : 0; }

void malloc_stats() {
    fflush(stdout);
    heap().print_statistics(stderr_sink, nullptr);
    fflush(stderr);
}

int malloc_trim(size_t) {
    heap().release_free_memory();
    return 1;
}

}  // extern "C"

Malloc::Statistics mneme_malloc_statistics() { return heap().statistics(); }
const char* mneme_malloc_policy_name() { return Malloc::policy_name(heap().policy()); }
void mneme_malloc_check() { heap().check_invariants(); }

void* sbrk(long increment) {
    long current = sys_brk(nullptr);
    if (is_error_result(current)) return reinterpret_cast<void*>(-1);
    if (increment == 0) return reinterpret_cast<void*>(current);
    uptr target = static_cast<uptr>(current) + static_cast<uptr>(increment);
    // Wrapping around either end of the address space is a refusal, not a move.
    if ((increment > 0 && target < static_cast<uptr>(current)) ||
        (increment < 0 && target > static_cast<uptr>(current)))
        return reinterpret_cast<void*>(-1);
    long result = sys_brk(reinterpret_cast<void*>(target));
    if (is_error_result(result) || static_cast<uptr>(result) != target) return reinterpret_cast<void*>(-1);
    return reinterpret_cast<void*>(current);
}
