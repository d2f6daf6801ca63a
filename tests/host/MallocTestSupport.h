// MallocTestSupport.h: memory sources and helpers for the malloc tests and the fuzzer.
//
// TestMemorySource is a MemorySource over one reserved range (the heap) plus real mappings, that:
//   - fails on demand (a heap capacity, a mapping budget, or map() switched off), so exhaustion paths run;
//   - protects what it takes back (PROT_NONE above the break after shrink, munmap for unmap), so an
//     allocator that touches returned memory faults at once;
//   - keeps what reserve() gives PROT_NONE until commit() (which can be refused on demand), and what
//     decommit() takes back PROT_NONE again, so an allocator that touches memory it has not committed faults;
//   - fills discarded pages with junk, so an allocator that relies on their contents is caught;
//   - checks that unmap() gets exactly what map() gave; counts every call, for hysteresis tests;
//   - can play a kernel with a commit rule (Mneme's, Linux's with overcommit off): commit_budget caps the
//     heap pages committed (extended, or committed and not decommitted since) plus the mapped bytes, and
//     regions() counts the ranges the kernel would keep for them (runs of committed heap pages and
//     mappings; Mneme's region table holds 64).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "libc/malloc/MemorySource.h"

namespace MallocTest {

class TestMemorySource final : public Malloc::MemorySource {
public:
    // `start_offset` shifts the first break off page alignment, to exercise alignment padding.
    explicit TestMemorySource(size_t heap_capacity = 256 << 20, size_t start_offset = 3 * 4096)
        : m_capacity(heap_capacity) {
        m_reservation_bytes = heap_capacity + start_offset + 4096;
        void* reservation =
            mmap(nullptr, m_reservation_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (reservation == MAP_FAILED) abort();
        m_reservation = static_cast<char*>(reservation);
        m_start = m_reservation + start_offset;
        m_break = m_start;
        m_protected_from = m_reservation + (start_offset & ~size_t(4095));
    }
    ~TestMemorySource() {
        munmap(m_reservation, m_reservation_bytes);
        for (auto& [address, bytes] : m_mappings) munmap(address, bytes);
    }
    TestMemorySource(const TestMemorySource&) = delete;
    TestMemorySource& operator=(const TestMemorySource&) = delete;

    void* extend(size_t bytes) override {
        ++extend_calls;
        if (fail_extend || bytes > m_capacity - heap_bytes()) return nullptr;
        if (!mark_committed(m_break, m_break + bytes)) return nullptr;
        char* old_break = m_break;
        m_break += bytes;
        make_accessible(m_break);
        return old_break;
    }
    void* reserve(size_t bytes) override {
        ++reserve_calls;
        if (fail_extend || bytes > m_capacity - heap_bytes()) return nullptr;
        char* old_break = m_break;
        m_break += bytes;
        return old_break;
    }
    bool commit(void* address, size_t bytes) override {
        ++commit_calls;
        char* start = static_cast<char*>(address);
        if (start < m_start || start + bytes > m_break) abort();  // not heap memory
        if (fail_commit) return false;
        if (!mark_committed(start, start + bytes)) return false;
        committed_bytes += bytes;
        uintptr_t page = page_size();
        char* first = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(start) & ~(page - 1));
        char* end = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(start + bytes) + page - 1) & ~(page - 1));
        mprotect(first, end - first, PROT_READ | PROT_WRITE);
        if (end > m_protected_from) m_protected_from = end;
        return true;
    }
    bool decommit(void* address, size_t bytes) override {
        ++decommit_calls;
        char* start = static_cast<char*>(address);
        if (start < m_start || start + bytes > m_break || (reinterpret_cast<uintptr_t>(start) | bytes) % page_size())
            abort();  // not whole heap pages
        if (!allow_decommit) return false;
        mark_decommitted(start, start + bytes);
        decommitted_bytes += bytes;
        mmap(start, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
        return true;
    }
    bool shrink(size_t bytes) override {
        ++shrink_calls;
        if (refuse_shrink) return false;
        if (bytes > heap_bytes()) abort();  // an allocator bug: it never had that much
        char* old_break = m_break;
        m_break -= bytes;
        // The pages wholly above the new break stop counting (a page the new break cuts stays).
        mark_decommitted(reinterpret_cast<char*>(align_page(reinterpret_cast<uintptr_t>(m_break))), old_break);
        uintptr_t page = page_size();
        char* accessible_end = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(m_break) + page - 1) & ~(page - 1));
        if (accessible_end < m_protected_from) {
            // Fresh pages again on the next extend, like a real shrink.
            mmap(accessible_end, m_protected_from - accessible_end, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
            m_protected_from = accessible_end;
        }
        return true;
    }
    void* map(size_t bytes) override {
        ++map_calls;
        if (bytes % page_size() != 0) abort();
        if (fail_map || bytes > map_budget - mapped_bytes()) return nullptr;
        if (bytes > commit_budget || commit_pages() * page_size() > commit_budget - bytes) return nullptr;
        void* address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (address == MAP_FAILED) return nullptr;
        m_mappings[address] = bytes;
        return address;
    }
    void unmap(void* address, size_t bytes) override {
        ++unmap_calls;
        auto it = m_mappings.find(address);
        if (it == m_mappings.end() || it->second != bytes) abort();  // not what map() gave
        munmap(address, bytes);
        m_mappings.erase(it);
    }
    void* remap(void* address, size_t old_bytes, size_t new_bytes) override {
        ++remap_calls;
        if (!allow_remap) return nullptr;
        auto it = m_mappings.find(address);
        if (it == m_mappings.end() || it->second != old_bytes || new_bytes % page_size() != 0) abort();
        if (new_bytes > old_bytes && new_bytes - old_bytes > map_budget - mapped_bytes()) return nullptr;
        if (new_bytes > old_bytes &&
            (new_bytes - old_bytes > commit_budget || commit_pages() * page_size() > commit_budget - (new_bytes - old_bytes)))
            return nullptr;
        void* moved = mremap(address, old_bytes, new_bytes, MREMAP_MAYMOVE);
        if (moved == MAP_FAILED) return nullptr;
        m_mappings.erase(it);
        m_mappings[moved] = new_bytes;
        return moved;
    }
    void discard(void* address, size_t bytes) override {
        ++discard_calls;
        char* start = static_cast<char*>(address);
        if (start < m_start || start + bytes > m_break) abort();  // not heap memory
        if (junk_on_discard)
            memset(start, 0xDD, bytes);  // catches an allocator relying on the contents
        else
            madvise(start, bytes, MADV_DONTNEED);  // really not resident any more
    }

    size_t heap_bytes() const { return static_cast<size_t>(m_break - m_start); }
    size_t mapped_bytes() const {
        size_t total = 0;
        for (auto& [address, bytes] : m_mappings) total += bytes;
        return total;
    }
    size_t mapping_count() const { return m_mappings.size(); }
    // What the commit rule counts, in pages: committed heap pages and mapped pages.
    size_t commit_pages() const { return m_committed_heap_pages + mapped_bytes() / page_size(); }
    // The regions a kernel that merges neighbours with equal rights keeps: one per run of committed heap pages,
    // one per mapping (two mappings are not assumed adjacent).
    size_t regions() const {
        size_t runs = 0;
        for (size_t i = 0; i < m_committed.size(); ++i) runs += m_committed[i] && (i == 0 || !m_committed[i - 1]);
        return runs + m_mappings.size();
    }
    // Heap pages the kernel holds in memory (mincore), what RSS would count.
    size_t resident_heap_bytes() const {
        uintptr_t page = page_size();
        char* first = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(m_start) & ~(page - 1));
        size_t length = static_cast<size_t>(m_break - first);
        std::vector<unsigned char> in_core((length + page - 1) / page);
        if (length == 0 || mincore(first, length, in_core.data()) != 0) return 0;
        size_t resident = 0;
        for (unsigned char flag : in_core) resident += (flag & 1) ? page : 0;
        return resident;
    }
    void set_capacity(size_t capacity) { m_capacity = capacity; }
    bool owns_heap_address(const void* pointer) const { return pointer >= m_start && pointer < m_break; }
    // Where the heap starts: two sources made alike give two heaps whose offsets from here can be compared.
    const char* heap_start() const { return m_start; }

    bool fail_extend = false;  // extend() and reserve()
    bool fail_commit = false;
    bool allow_decommit = true;
    size_t committed_bytes = 0, decommitted_bytes = 0;  // asked for by commit() and decommit() so far
    bool junk_on_discard = false;
    bool refuse_shrink = false;
    bool fail_map = false;
    bool allow_remap = true;
    size_t map_budget = SIZE_MAX / 4;
    size_t commit_budget = SIZE_MAX / 4;  // bytes: committed heap pages plus mapped bytes (see commit_pages)
    size_t extend_calls = 0, reserve_calls = 0, commit_calls = 0, decommit_calls = 0, shrink_calls = 0, map_calls = 0,
           unmap_calls = 0, remap_calls = 0, discard_calls = 0;

private:
    static uintptr_t align_page(uintptr_t value) { return (value + 4095) & ~uintptr_t(4095); }
    size_t page_index(const char* address) const {
        return static_cast<size_t>(address - m_reservation) / 4096;
    }
    // Counts the whole pages touching [start, end) as committed; false (nothing changed) when the new ones
    // would go over commit_budget.
    bool mark_committed(char* start, char* end) {
        if (start >= end) return true;
        size_t first = page_index(start), last = page_index(end - 1);
        if (m_committed.size() <= last) m_committed.resize(last + 1, false);
        size_t fresh = 0;
        for (size_t i = first; i <= last; ++i) fresh += !m_committed[i];
        if (fresh * page_size() > commit_budget || commit_pages() * page_size() > commit_budget - fresh * page_size())
            return false;
        for (size_t i = first; i <= last; ++i) m_committed[i] = true;
        m_committed_heap_pages += fresh;
        return true;
    }
    // [start, end) is page aligned.
    void mark_decommitted(char* start, char* end) {
        for (size_t i = page_index(start); start < end && i <= page_index(end - 1) && i < m_committed.size(); ++i) {
            m_committed_heap_pages -= m_committed[i];
            m_committed[i] = false;
        }
    }

    // Makes the heap read-write from its start up to `end` (rounded up to a page). Pages above stay PROT_NONE:
    // above the break, or reserved and not committed yet.
    void make_accessible(char* end) {
        uintptr_t page = page_size();
        char* accessible_end = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(end) + page - 1) & ~(page - 1));
        if (accessible_end <= m_protected_from) return;
        mprotect(m_protected_from, accessible_end - m_protected_from, PROT_READ | PROT_WRITE);
        m_protected_from = accessible_end;
    }

    size_t m_capacity;
    size_t m_reservation_bytes;
    char* m_reservation;
    char* m_start;
    char* m_break;
    char* m_protected_from;  // pages from here up are PROT_NONE (above the break, or not committed); below, pages
                             // reserved and not committed (or decommitted) are too
    std::map<void*, size_t> m_mappings;
    std::vector<bool> m_committed;  // per page of the reservation: counted by the commit rule
    size_t m_committed_heap_pages = 0;
};

}  // namespace MallocTest
