// Malloc.h: the C allocation functions of Mneme user programs, and what the allocator can tell about itself.
//
// Behind them is one Malloc::Heap (libc/malloc/Heap.h, the allocator core shared with the host tests)
// over UserMemorySource: the heap grows with brk and large blocks (above 128 KiB) get mmap2 mappings of
// their own. The placement policy is chosen once, at the first call, from the environment:
//
//     mneme$ MNEME_MALLOC=best malloctest
//
// accepts segregated (the default), first, next, best, worst, buddy and "default"; any other value prints
// a one-line warning listing those names and runs the default.
//
// malloc owns the program break: a program that moves it itself with sbrk() while malloc is in use makes
// the heap refuse to grow (malloc returns NULL) rather than hand out memory twice.
#pragma once

#include "libc/base/Types.h"
#include "libc/malloc/Statistics.h"

extern "C" {
void* malloc(size_t size);
void free(void* pointer);
void* calloc(size_t count, size_t size);
void* realloc(void* pointer, size_t size);
void* aligned_alloc(size_t alignment, size_t size);
void* memalign(size_t alignment, size_t size);
// 0, EINVAL (alignment not a power of two multiple of sizeof(void*)) or ENOMEM; *result untouched on error.
int posix_memalign(void** result, size_t alignment, size_t size);
size_t malloc_usable_size(const void* pointer);
// Prints the allocator's statistics on stderr (policy, heap, live, free, fragmentation, overhead, mapped).
void malloc_stats();
// Gives every free page the allocator was keeping back to the kernel. Returns 1.
int malloc_trim(size_t pad);
}

// Mneme's own.
Malloc::Statistics mneme_malloc_statistics();
const char* mneme_malloc_policy_name();
// Walks the heap's structures and panics (status 134) on the first broken invariant.
void mneme_malloc_check();

// sbrk(2) over the brk system call: moves the break by `increment` bytes and returns the old break, or
// (void*)-1 when the kernel refuses. For programs that manage memory themselves (memhog, allocbomb).
void* sbrk(long increment);
