// CxxRuntime.cpp: the C++ runtime hooks a freestanding user program needs: operator new/delete on malloc
// and __cxa_pure_virtual.
//
// Built with -fno-exceptions, so a failing throwing `new` cannot throw std::bad_alloc: it reports and ends
// the program (status 134, like an uncaught exception's abort). The nothrow forms return nullptr.
#include <new>

#include "libc/base/Assert.h"
#include "libc/user/Malloc.h"

namespace {

void* allocate_or_die(size_t size) {
    void* block = malloc(size);
    if (!block) mneme_panic("operator new(%zu): out of memory", size);
    return block;
}

void* allocate_aligned_or_die(size_t size, std::align_val_t alignment) {
    void* block = aligned_alloc(static_cast<size_t>(alignment), size);
    if (!block) mneme_panic("operator new(%zu, align %zu): out of memory", size, static_cast<size_t>(alignment));
    return block;
}

}  // namespace

void* operator new(size_t size) { return allocate_or_die(size); }
void* operator new[](size_t size) { return allocate_or_die(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return malloc(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return malloc(size); }
void* operator new(size_t size, std::align_val_t alignment) { return allocate_aligned_or_die(size, alignment); }
void* operator new[](size_t size, std::align_val_t alignment) { return allocate_aligned_or_die(size, alignment); }

void operator delete(void* pointer) noexcept { free(pointer); }
void operator delete[](void* pointer) noexcept { free(pointer); }
void operator delete(void* pointer, size_t) noexcept { free(pointer); }
void operator delete[](void* pointer, size_t) noexcept { free(pointer); }
void operator delete(void* pointer, std::align_val_t) noexcept { free(pointer); }
void operator delete[](void* pointer, std::align_val_t) noexcept { free(pointer); }
void operator delete(void* pointer, size_t, std::align_val_t) noexcept { free(pointer); }
void operator delete[](void* pointer, size_t, std::align_val_t) noexcept { free(pointer); }

extern "C" void __cxa_pure_virtual() { mneme_panic("pure virtual function called"); }
