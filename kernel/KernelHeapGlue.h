// KernelHeapGlue.h: the kernel heap's public face (kmalloc/kfree and statistics); see KernelHeapGlue.cpp.
#pragma once

#include "libc/base/Types.h"

namespace kernel_heap {
void initialize();
u32 bytes_in_use();
}  // namespace kernel_heap

void* kmalloc(size_t size);
void kfree(void* pointer);
size_t kmalloc_usable_size(const void* pointer);
