// PreloadShim.cpp: the C allocation functions of libmneme_malloc.so, over one Malloc::Heap.
//
//   MNEME_MALLOC=best LD_PRELOAD=build/host/libmneme_malloc.so prog
//
// Defines malloc, free, calloc, realloc, reallocarray, aligned_alloc, posix_memalign, memalign, valloc,
// pvalloc, malloc_usable_size, malloc_stats, malloc_trim, mallopt and mallinfo/mallinfo2 -- the set glibc's
// manual lists for replacing malloc ("Replacing malloc"), so that glibc, libstdc++ and the program all use
// this heap. Built into its own library only (mk/malloc.mk): the core never defines these symbols.
//
// Start-up: the heap is built at the first call, which may come from the dynamic loader before libc has
// run its initialisers, so nothing here allocates, and the environment is read from /proc/self/environ
// when `environ` is not set up yet. MNEME_MALLOC picks the policy (an unknown name prints one warning line
// listing the accepted names and keeps the default); MNEME_MALLOC_STATS=1 prints malloc_stats() at exit, and
// MNEME_MALLOC_STATS=2 also the policy's map of its heap (for the default: every page, its class and use).
//
// Threads: while glibc's __libc_single_threaded is true there is one thread, and calls go straight to the
// heap without a lock (the flag turns false in pthread_create before the second thread exists, so no call
// that started unlocked can overlap one from another thread). Afterwards every call takes the heap's
// SpinLock, except small allocations of the segregated policy, which go through a per-thread ThreadCache.
// fork() takes the lock in its prepare handler so the child never inherits it held.
//
// With -DMNEME_MALLOC_TRACE (libmneme_malloc_trace.so) every call is also appended to the trace file
// $MNEME_MALLOC_TRACE.<program>.<pid> (TraceRecord.h), for tools/malloc/replay.
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include <new>

#include "libc/base/Assert.h"
#include "libc/base/Format.h"
#include "libc/malloc/Heap.h"
#include "libc/malloc/SpinLock.h"
#include "libc/malloc/ThreadCache.h"
#include "libc/malloc/host/HostMemorySource.h"
#include "libc/malloc/host/TraceRecord.h"

#define MNEME_EXPORT extern "C" __attribute__((visibility("default")))

extern char** environ;

namespace {

using Malloc::Heap;
using Malloc::HeapOptions;
using Malloc::Policy;
using Malloc::SpinLock;
using Malloc::SpinLockGuard;
using Malloc::ThreadCache;

// Everything here is constant-initialised (constinit): malloc runs before this library's initialisers.
alignas(64) unsigned char g_source_storage[sizeof(Malloc::HostMemorySource)];
alignas(64) unsigned char g_heap_storage[sizeof(Heap)];
constinit Heap* g_heap = nullptr;
constinit SpinLock g_init_lock;
constinit SpinLock g_heap_lock;
constinit int g_print_statistics_at_exit = 0;  // MNEME_MALLOC_STATS: 1 statistics, 2 and the heap map

pthread_key_t g_cache_key;
constinit bool g_cache_key_ready = false;
enum class CacheState : unsigned char { Unregistered, Active, Dead };
__thread ThreadCache t_cache;
__thread CacheState t_cache_state;

void write_stderr(const char* text, size_t length) {
    while (length > 0) {
        ssize_t written = write(2, text, length);
        if (written <= 0) return;
        text += written;
        length -= static_cast<size_t>(written);
    }
}

void stderr_sink(void*, const char* text, size_t length) { write_stderr(text, length); }

// getenv, or a scan of /proc/self/environ when libc has not set `environ` up yet. Copies at most
// size - 1 bytes of the value; false when the variable is not set.
bool read_environment(const char* name, char* value, size_t size) {
    size_t name_length = strlen(name);
    if (environ) {
        const char* found = getenv(name);
        if (!found) return false;
        size_t n = strlen(found);
        if (n >= size) n = size - 1;
        memcpy(value, found, n);
        value[n] = '\0';
        return true;
    }
    int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    // Entries are NUL-terminated "NAME=value"; match the name at the start of each entry.
    char buffer[4096];
    size_t matched = 0;          // bytes of "NAME=" matched at the start of the current entry
    bool at_entry_start = true;  // no mismatch yet in this entry
    size_t copied = 0;
    bool copying = false, found = false;
    ssize_t got;
    while (!found && (got = read(fd, buffer, sizeof(buffer))) > 0) {
        for (ssize_t i = 0; i < got && !found; ++i) {
            char c = buffer[i];
            if (copying) {
                if (c == '\0')
                    found = true;
                else if (copied + 1 < size)
                    value[copied++] = c;
            } else if (c == '\0') {
                matched = 0;
                at_entry_start = true;
            } else if (at_entry_start) {
                if (matched < name_length && c == name[matched])
                    ++matched;
                else if (matched == name_length && c == '=')
                    copying = true;
                else
                    at_entry_start = false;
            }
        }
    }
    if (copying) found = true;
    close(fd);
    value[copied] = '\0';
    return found;
}

uptr random_secret() {
    // AT_RANDOM: 16 random bytes the kernel puts on every new process's stack.
    const void* bytes = reinterpret_cast<const void*>(getauxval(AT_RANDOM));
    uptr secret = reinterpret_cast<uptr>(&secret);  // at least the stack's randomisation
    if (bytes) memcpy(&secret, bytes, sizeof(secret));
    return secret | 1;
}

#ifdef MNEME_MALLOC_TRACE
void trace_initialize();
#endif

[[gnu::noinline]] Heap& initialize() {
    SpinLockGuard guard(g_init_lock);
    if (g_heap) return *g_heap;
    auto* source = new (g_source_storage) Malloc::HostMemorySource;
    if (!source->initialize()) mneme_panic("malloc: cannot reserve address space for the heap");
    HeapOptions options;
    char value[64];
    if (read_environment("MNEME_MALLOC", value, sizeof(value)) && value[0] != '\0' &&
        !Malloc::parse_policy(value, options.policy)) {
        char message[256];
        int n = format_to_buffer(message, sizeof(message),
                                 "mneme malloc: unknown MNEME_MALLOC=%s (accepted: %s); using %s\n", value,
                                 Malloc::policy_name_list(), Malloc::policy_name(Malloc::kDefaultPolicy));
        write_stderr(message, n < static_cast<int>(sizeof(message)) ? static_cast<size_t>(n) : sizeof(message) - 1);
    }
    if (read_environment("MNEME_MALLOC_STATS", value, sizeof(value)) && (value[0] == '1' || value[0] == '2'))
        g_print_statistics_at_exit = value[0] - '0';
    options.secret = random_secret();
    g_heap_lock.set_yield([] { sched_yield(); });
    Heap* heap = new (g_heap_storage) Heap(*source, options);
    __atomic_store_n(&g_heap, heap, __ATOMIC_RELEASE);
#ifdef MNEME_MALLOC_TRACE
    trace_initialize();
#endif
    return *heap;
}

inline Heap& heap() {
    Heap* heap = __atomic_load_n(&g_heap, __ATOMIC_ACQUIRE);
    if (heap) [[likely]]
        return *heap;
    return initialize();
}

inline bool single_threaded() { return __libc_single_threaded; }

// ---------------------------------------------------------------------------------------------------------
// Threads: the lock, per-thread caches
// ---------------------------------------------------------------------------------------------------------

void destroy_thread_cache(void*) {
    t_cache.flush(*g_heap, g_heap_lock);
    t_cache_state = CacheState::Dead;  // later calls of this exiting thread go to the heap directly
}

// The calling thread's cache, or nullptr when it cannot have one (exiting, or the policy has none).
ThreadCache* thread_cache(Heap& heap) {
    if (t_cache_state == CacheState::Active) [[likely]]
        return &t_cache;
    if (t_cache_state == CacheState::Dead || heap.policy() != Policy::Segregated || !g_cache_key_ready) return nullptr;
    t_cache_state = CacheState::Active;
    pthread_setspecific(g_cache_key, &t_cache);  // a non-null value: the destructor runs at thread exit
    return &t_cache;
}

[[gnu::noinline]] void* allocate_threaded(Heap& heap, size_t size) {
    return ThreadCache::allocate_shared(heap, g_heap_lock, thread_cache(heap), size);
}

[[gnu::noinline]] void free_threaded(Heap& heap, void* pointer) {
    if (pointer) ThreadCache::free_shared(heap, g_heap_lock, thread_cache(heap), pointer);
}

// Runs `operation` on the heap, under the lock when the process has threads.
template <typename Operation>
inline auto with_heap(Operation operation) {
    Heap& h = heap();
    if (single_threaded()) [[likely]]
        return operation(h);
    SpinLockGuard guard(g_heap_lock);
    return operation(h);
}

void fork_prepare() {
    g_init_lock.lock();
    g_heap_lock.lock();
}
void fork_parent() {
    g_heap_lock.unlock();
    g_init_lock.unlock();
}
void fork_child() {
    g_heap_lock.reset_after_fork();
    g_init_lock.reset_after_fork();
}

// ---------------------------------------------------------------------------------------------------------
// Tracing (libmneme_malloc_trace.so only)
// ---------------------------------------------------------------------------------------------------------

#ifdef MNEME_MALLOC_TRACE
struct TraceWriter {
    SpinLock lock;
    bool enabled = false;
    int fd = -1;
    char path[512] = {};
    unsigned count = 0;
    Malloc::TraceRecord records[2048] = {};
};
// constinit: set up before any code runs. A dynamic initialiser would run after the first malloc calls
// (and after setup()), and wipe what they recorded.
constinit TraceWriter g_trace;

void trace_initialize() {
    char prefix[400];
    if (!read_environment("MNEME_MALLOC_TRACE", prefix, sizeof(prefix)) || prefix[0] == '\0') return;
    // <prefix>.<program>.<pid>, the program name from /proc/self/comm.
    char program[32] = "unknown";
    int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, program, sizeof(program) - 1);
        if (got > 0) {
            program[got] = '\0';
            for (ssize_t i = 0; i < got; ++i)
                if (program[i] == '\n' || program[i] == '/' || program[i] == ' ')
                    program[i] = i == got - 1 ? '\0' : '_';
        }
        close(fd);
    }
    format_to_buffer(g_trace.path, sizeof(g_trace.path), "%s.%s.%d", prefix, program, static_cast<int>(getpid()));
    g_trace.enabled = true;
}

void trace_flush_locked() {
    if (g_trace.count == 0) return;
    if (g_trace.fd < 0) {
        g_trace.fd = open(g_trace.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (g_trace.fd < 0) {
            g_trace.enabled = false;
            return;
        }
        write(g_trace.fd, Malloc::kTraceMagic, sizeof(Malloc::kTraceMagic));
    }
    const char* bytes = reinterpret_cast<const char*>(g_trace.records);
    size_t length = g_trace.count * sizeof(Malloc::TraceRecord);
    while (length > 0) {
        ssize_t written = write(g_trace.fd, bytes, length);
        if (written <= 0) break;
        bytes += written;
        length -= static_cast<size_t>(written);
    }
    g_trace.count = 0;
}

void trace(Malloc::TraceOperation operation, const void* pointer, size_t size, const void* result,
           size_t alignment = 0) {
    if (!g_trace.enabled) return;
    SpinLockGuard guard(g_trace.lock);
    g_trace.records[g_trace.count++] = {operation, static_cast<uint32_t>(alignment),
                                        reinterpret_cast<uint64_t>(pointer), size, reinterpret_cast<uint64_t>(result)};
    if (g_trace.count == sizeof(g_trace.records) / sizeof(g_trace.records[0])) trace_flush_locked();
}

void trace_fork_child() {
    // The unwritten records are the parent's, which writes them; the child starts a file of its own.
    g_trace.lock.reset_after_fork();
    g_trace.count = 0;
    if (g_trace.fd >= 0) close(g_trace.fd);
    g_trace.fd = -1;
    if (g_trace.enabled) {
        char* last_dot = strrchr(g_trace.path, '.');
        if (last_dot)
            format_to_buffer(last_dot + 1, sizeof(g_trace.path) - (last_dot + 1 - g_trace.path), "%d",
                             static_cast<int>(getpid()));
    }
}
#define TRACE(...) trace(__VA_ARGS__)
#else
#define TRACE(...) ((void)0)
#endif

__attribute__((constructor(101))) void setup() {
    heap();
    if (pthread_key_create(&g_cache_key, destroy_thread_cache) == 0) g_cache_key_ready = true;
#ifdef MNEME_MALLOC_TRACE
    pthread_atfork(fork_prepare, fork_parent, [] {
        fork_child();
        trace_fork_child();
    });
#else
    pthread_atfork(fork_prepare, fork_parent, fork_child);
#endif
}

__attribute__((destructor)) void teardown() {
#ifdef MNEME_MALLOC_TRACE
    {
        SpinLockGuard guard(g_trace.lock);
        trace_flush_locked();
    }
#endif
    if (g_print_statistics_at_exit) malloc_stats();
    if (g_print_statistics_at_exit == 2) {
        with_heap([](Heap& heap) {
            heap.dump(stderr_sink, nullptr);
            return 0;
        });
    }
}

void* checked(void* block) {
    if (!block) [[unlikely]]
        errno = ENOMEM;
    return block;
}

size_t page_size() { return 4096; }

}  // namespace

// -----------------------------------------------------------------------------------------------------------
// The C functions
// -----------------------------------------------------------------------------------------------------------

MNEME_EXPORT void* malloc(size_t size) noexcept {
    Heap& h = heap();
    void* block = single_threaded() ? h.allocate(size) : allocate_threaded(h, size);
    TRACE(Malloc::TraceOperation::Malloc, nullptr, size, block);
    return checked(block);
}

MNEME_EXPORT void free(void* pointer) noexcept {
    TRACE(Malloc::TraceOperation::Free, pointer, 0, nullptr);
    Heap& h = heap();
    if (single_threaded()) [[likely]]
        h.free(pointer);
    else
        free_threaded(h, pointer);
}

MNEME_EXPORT void* calloc(size_t count, size_t size) noexcept {
    void* block = with_heap([&](Heap& h) { return h.allocate_zeroed(count, size); });
    TRACE(Malloc::TraceOperation::Calloc, nullptr, count * size, block);
    return checked(block);
}

MNEME_EXPORT void* realloc(void* pointer, size_t size) noexcept {
    void* block = with_heap([&](Heap& h) { return h.reallocate(pointer, size); });
    TRACE(Malloc::TraceOperation::Realloc, pointer, size, block);
    if (!block && (size != 0 || !pointer)) errno = ENOMEM;
    return block;
}

MNEME_EXPORT void* reallocarray(void* pointer, size_t count, size_t size) noexcept {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return nullptr;
    }
    return realloc(pointer, total);
}

namespace {
void* aligned(size_t alignment, size_t size) {
    void* block = with_heap([&](Heap& h) { return h.allocate_aligned(alignment, size); });
    TRACE(Malloc::TraceOperation::Aligned, nullptr, size, block, alignment);
    return block;
}
}  // namespace

MNEME_EXPORT void* aligned_alloc(size_t alignment, size_t size) noexcept {
    if (!is_power_of_two(alignment)) {
        errno = EINVAL;
        return nullptr;
    }
    return checked(aligned(alignment, size));
}

MNEME_EXPORT int posix_memalign(void** result, size_t alignment, size_t size) noexcept {
    if (!is_power_of_two(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
    void* block = aligned(alignment, size);
    if (!block) return ENOMEM;
    *result = block;
    return 0;
}

MNEME_EXPORT void* memalign(size_t alignment, size_t size) noexcept {
    // glibc rounds an alignment that is not a power of two up to the next one.
    if (alignment > Heap::kMaxRequest) {
        errno = EINVAL;
        return nullptr;
    }
    size_t rounded = 1;
    while (rounded < alignment) rounded <<= 1;
    return checked(aligned(rounded, size));
}

MNEME_EXPORT void* valloc(size_t size) noexcept { return checked(aligned(page_size(), size)); }

MNEME_EXPORT void* pvalloc(size_t size) noexcept {
    size_t page = page_size();
    if (size > Heap::kMaxRequest) {
        errno = ENOMEM;
        return nullptr;
    }
    size_t rounded = size == 0 ? page : align_up(size, page);
    return checked(aligned(page, rounded));
}

MNEME_EXPORT size_t malloc_usable_size(void* pointer) noexcept {
    return with_heap([&](Heap& h) { return h.usable_size(pointer); });
}

MNEME_EXPORT void malloc_stats() noexcept {
    Heap& h = heap();
    if (!single_threaded() && t_cache_state == CacheState::Active) t_cache.flush(h, g_heap_lock);
    with_heap([](Heap& heap) {
        heap.print_statistics(stderr_sink, nullptr);
        return 0;
    });
}

MNEME_EXPORT int malloc_trim(size_t) noexcept {
    Heap& h = heap();
    if (!single_threaded() && t_cache_state == CacheState::Active) t_cache.flush(h, g_heap_lock);
    with_heap([](Heap& heap) {
        heap.release_free_memory();
        return 0;
    });
    return 1;
}

// No tunables: report "not done", as glibc does for an unknown parameter.
MNEME_EXPORT int mallopt(int, int) noexcept { return 0; }

MNEME_EXPORT struct mallinfo2 mallinfo2() noexcept {
    Malloc::Statistics s = with_heap([](Heap& heap) { return heap.statistics(); });
    struct mallinfo2 info = {};
    info.arena = s.heap_bytes;
    info.ordblks = s.free_blocks;
    info.hblks = 0;
    info.hblkhd = s.mapped_bytes;
    info.uordblks = s.live_bytes + s.header_bytes + s.alignment_bytes;
    info.fordblks = s.free_bytes;
    return info;
}

MNEME_EXPORT struct mallinfo mallinfo() noexcept {
    struct mallinfo2 wide = mallinfo2();
    struct mallinfo info = {};
    info.arena = static_cast<int>(wide.arena);
    info.ordblks = static_cast<int>(wide.ordblks);
    info.hblkhd = static_cast<int>(wide.hblkhd);
    info.uordblks = static_cast<int>(wide.uordblks);
    info.fordblks = static_cast<int>(wide.fordblks);
    return info;
}
