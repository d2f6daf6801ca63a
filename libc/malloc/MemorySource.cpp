// MemorySource.cpp: the defaults a source inherits for what its platform does not have.
#include "libc/malloc/MemorySource.h"

#include "libc/base/Assert.h"

namespace Malloc {

void* MemorySource::extend(size_t) { return nullptr; }
void* MemorySource::reserve(size_t bytes) { return extend(bytes); }
bool MemorySource::commit(void*, size_t) { return true; }
bool MemorySource::decommit(void*, size_t) { return false; }
bool MemorySource::shrink(size_t) { return false; }
void* MemorySource::map(size_t) { return nullptr; }
void MemorySource::unmap(void*, size_t) {}
void* MemorySource::remap(void*, size_t, size_t) { return nullptr; }
void MemorySource::discard(void*, size_t) {}

void* extend_aligned(MemorySource& source, size_t bytes, size_t alignment, size_t& padding, bool reserve_only) {
    auto grow = [&](size_t amount) {
        return static_cast<char*>(reserve_only ? source.reserve(amount) : source.extend(amount));
    };
    char* start = grow(bytes);
    if (!start) return nullptr;
    uptr misalignment = reinterpret_cast<uptr>(start) & (alignment - 1);
    padding = misalignment == 0 ? 0 : alignment - misalignment;
    if (padding != 0) {
        char* more = grow(padding);
        if (!more) {
            source.shrink(bytes);
            return nullptr;
        }
        VERIFY(more == start + bytes);  // the heap grows without gaps
    }
    return start + padding;
}

}  // namespace Malloc
