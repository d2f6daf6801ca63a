// HostMemorySource.cpp: a reserved-range brk plus mmap (see HostMemorySource.h).
#include "libc/malloc/host/HostMemorySource.h"

#include <sys/mman.h>

namespace Malloc {

namespace {

constexpr size_t kSegmentAlignment = 4 << 20;  // the segregated policy's segments: no padding needed

}  // namespace

bool HostMemorySource::initialize(size_t bytes) {
    for (; bytes >= (size_t(64) << 20); bytes /= 2) {
        void* range =
            mmap(nullptr, bytes + kSegmentAlignment, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (range == MAP_FAILED) continue;
        // Start on a segment boundary and give the slack at both ends back.
        uptr raw = reinterpret_cast<uptr>(range);
        uptr start = align_up<uptr>(raw, kSegmentAlignment);
        if (start > raw) munmap(range, start - raw);
        uptr tail = raw + bytes + kSegmentAlignment - (start + bytes);
        if (tail > 0) munmap(reinterpret_cast<void*>(start + bytes), tail);
        m_start = reinterpret_cast<char*>(start);
        m_reserved = bytes;
        return true;
    }
    return false;
}

void* HostMemorySource::extend(size_t bytes) {
    if (bytes > m_reserved - m_break) return nullptr;
    if (!commit(m_start + m_break, bytes)) return nullptr;
    return reserve(bytes);
}

void* HostMemorySource::reserve(size_t bytes) {
    if (bytes > m_reserved - m_break) return nullptr;
    size_t new_break = m_break + bytes;
    char* old_break = m_start + m_break;
    m_break = new_break;
    if (m_break > m_peak_break) m_peak_break = m_break;
    return old_break;
}

bool HostMemorySource::commit(void* address, size_t bytes) {
    size_t offset = static_cast<size_t>(static_cast<char*>(address) - m_start);
    size_t begin = offset & ~(kPageBytes - 1), end = align_up(offset + bytes, kPageBytes);
    if (end > m_reserved || mprotect(m_start + begin, end - begin, PROT_READ | PROT_WRITE) != 0) return false;
    if (end > m_committed) m_committed = end;
    return true;
}

bool HostMemorySource::decommit(void* address, size_t bytes) {
    // Fresh PROT_NONE pages over them: frees them (and Linux stops counting them), and a stray access faults.
    return mmap(address, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) !=
           MAP_FAILED;
}

bool HostMemorySource::shrink(size_t bytes) {
    if (bytes > m_break) return false;
    m_break -= bytes;
    size_t committed = align_up(m_break, kPageBytes);
    if (committed < m_committed) {
        // Fresh PROT_NONE pages over the released ones: frees them, and a stray access faults.
        void* result = mmap(m_start + committed, m_committed - committed, PROT_NONE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        if (result != MAP_FAILED) m_committed = committed;
    }
    return true;
}

void* HostMemorySource::map(size_t bytes) {
    void* address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return address == MAP_FAILED ? nullptr : address;
}

void HostMemorySource::unmap(void* address, size_t bytes) { munmap(address, bytes); }

void* HostMemorySource::remap(void* address, size_t old_bytes, size_t new_bytes) {
    void* moved = mremap(address, old_bytes, new_bytes, MREMAP_MAYMOVE);
    return moved == MAP_FAILED ? nullptr : moved;
}

void HostMemorySource::discard(void* address, size_t bytes) { madvise(address, bytes, MADV_DONTNEED); }

}  // namespace Malloc
