// KernelHeapGlue.h: the kernel heap's public face (kmalloc/kfree and statistics); see KernelHeapGlue.cpp.
#pragma once

#include "libc/base/Types.h"

struct SlabCacheConfig;
struct SlabStatistics;

namespace kernel_heap {
void initialize();
u32 bytes_in_use();
bool check_invariants();
// Returns empty slabs to the page allocator; the number of slabs released.
u32 shrink();

// A named object cache (kmem_cache_create): objects of one size, kept ready in slabs.
class ObjectCache;
ObjectCache* create_cache(const SlabCacheConfig& config);
void destroy_cache(ObjectCache* cache);
void* cache_allocate(ObjectCache* cache);
void cache_free(ObjectCache* cache, void* object);
SlabStatistics cache_statistics(ObjectCache* cache);
}  // namespace kernel_heap

void* kmalloc(size_t size);
void kfree(void* pointer);
size_t kmalloc_usable_size(const void* pointer);
