// SlabTestSupport.h: host page sources and locks for mm/heap/SlabCache and mm/heap/KernelHeap, shared by the host
// tests, the fuzzer and the benchmark.
//
//   HostPageSource   each allocation is its own aligned_alloc block (so ASan sees any overrun past a slab),
//                    with bookkeeping that catches a wrong free, page tags in a hash map, and failure on
//                    demand (fail_after / fail_all) for out-of-memory tests.
//   ArenaPageSource  one big arena cut into naturally aligned blocks with per-order free lists and flat
//                    page tags (mm/heap/SlabPageTags.h): close to the kernel's buddy + tag array, and cheap
//                    enough for benchmarks.
//   NoLock, MutexLock (std::mutex)
#pragma once

#include <stdlib.h>

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "libc/base/Assert.h"
#include "libc/base/Error.h"
#include "mm/heap/SlabPageTags.h"

struct NoLock {
    void lock() {}
    void unlock() {}
};

using MutexLock = std::mutex;

class HostPageSource {
public:
    static constexpr size_t kPageSize = 4096;

    ~HostPageSource() {
        for (auto& [pointer, order] : m_blocks) free(pointer);
    }

    ErrorOr<void*> allocate_pages(unsigned order) {
        std::lock_guard guard(m_mutex);
        if (m_fail_all || m_fail_after == 0) {
            ++m_failures;
            return Error::NoMemory;
        }
        if (m_fail_after > 0) --m_fail_after;
        size_t bytes = kPageSize << order;
        void* pointer = aligned_alloc(bytes, bytes);
        VERIFY(pointer);
        m_blocks[pointer] = order;
        m_pages_in_use += size_t(1) << order;
        ++m_allocations;
        return pointer;
    }

    void free_pages(void* pointer, unsigned order) {
        std::lock_guard guard(m_mutex);
        auto it = m_blocks.find(pointer);
        if (it == m_blocks.end()) mneme_panic("HostPageSource: free_pages(%p) of a block it never gave", pointer);
        if (it->second != order)
            mneme_panic("HostPageSource: free_pages(%p, %u) of an order-%u block", pointer, order, it->second);
        for (size_t i = 0; i < (size_t(1) << order); ++i)
            if (m_tags.count(reinterpret_cast<uptr>(pointer) + i * kPageSize))
                mneme_panic("HostPageSource: freed page %p still tagged", pointer);
        m_blocks.erase(it);
        m_pages_in_use -= size_t(1) << order;
        ++m_frees;
        free(pointer);
    }

    void set_page_tags(void* first, size_t count, uptr tag) {
        std::lock_guard guard(m_mutex);
        for (size_t i = 0; i < count; ++i) {
            uptr page = reinterpret_cast<uptr>(first) + i * kPageSize;
            if (tag)
                m_tags[page] = tag;
            else
                m_tags.erase(page);
        }
    }
    uptr page_tag(const void* address) {
        std::lock_guard guard(m_mutex);
        auto it = m_tags.find(reinterpret_cast<uptr>(address) & ~uptr(kPageSize - 1));
        return it == m_tags.end() ? 0 : it->second;
    }

    // The next `count` allocations succeed, then all fail until fail_after(-1).
    void fail_after(long count) { m_fail_after = count; }
    void fail_all(bool on) { m_fail_all = on; }

    size_t pages_in_use() const { return m_pages_in_use; }
    size_t blocks_in_use() const { return m_blocks.size(); }
    size_t allocations() const { return m_allocations; }
    size_t frees() const { return m_frees; }
    size_t failures() const { return m_failures; }

private:
    std::mutex m_mutex;
    std::map<void*, unsigned> m_blocks;
    std::unordered_map<uptr, uptr> m_tags;
    long m_fail_after = -1;
    bool m_fail_all = false;
    size_t m_pages_in_use = 0;
    size_t m_allocations = 0;
    size_t m_frees = 0;
    size_t m_failures = 0;
};

class ArenaPageSource {
public:
    static constexpr size_t kPageSize = 4096;
    static constexpr unsigned kMaxOrder = 10;

    explicit ArenaPageSource(size_t bytes = 256 * 1024 * 1024) : m_bytes(bytes), m_tag_storage(bytes / kPageSize, 0) {
        m_base = static_cast<u8*>(aligned_alloc(kPageSize << kMaxOrder, bytes));
        VERIFY(m_base);
        m_tags = SlabPageTags(Span<uptr>(m_tag_storage.data(), m_tag_storage.size()), reinterpret_cast<uptr>(m_base));
    }
    ~ArenaPageSource() { free(m_base); }
    ArenaPageSource(const ArenaPageSource&) = delete;
    ArenaPageSource& operator=(const ArenaPageSource&) = delete;

    // Per-order LIFO free lists, else carve from the untouched end (aligned to the block size).
    ErrorOr<void*> allocate_pages(unsigned order) {
        if (order > kMaxOrder) return Error::NoMemory;
        if (void* block = m_free[order]) {
            m_free[order] = *static_cast<void**>(block);
            return block;
        }
        size_t bytes = kPageSize << order;
        size_t start = align_up(m_used, bytes);
        if (start + bytes > m_bytes) return Error::NoMemory;
        m_used = start + bytes;
        return static_cast<void*>(m_base + start);
    }
    void free_pages(void* block, unsigned order) {
        *static_cast<void**>(block) = m_free[order];
        m_free[order] = block;
    }
    void set_page_tags(void* first, size_t count, uptr tag) { m_tags.set(first, count, tag); }
    uptr page_tag(const void* address) const { return m_tags.get(address); }
    const SlabPageTags& page_tags() const { return m_tags; }

    size_t bytes_carved() const { return m_used; }

private:
    u8* m_base = nullptr;
    size_t m_bytes;
    size_t m_used = 0;
    void* m_free[kMaxOrder + 1] = {};
    std::vector<uptr> m_tag_storage;
    SlabPageTags m_tags;
};
