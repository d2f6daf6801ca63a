// FitTwins.h: one fit policy run twice side by side -- over its free list and over its index -- with every
// call made on both and every answer compared, for MallocFitEqualityTest and the malloc_fit fuzzer.
//
// The two heaps have memory sources made alike (same capacity, same start offset), so a block's offset from
// its heap's start is the placement decision; the indexed version must make the list version's decision at
// every step: the same offset, or both nullptr. (The heaps start at the same offset in a page, so aligned
// requests compare up to page alignment; beyond it, the place depends on the absolute address.) Large mappings (map()) land wherever the system puts them,
// so for those only the kind of answer is compared; with `heap_only` the sources refuse to map and every
// request is placed in the heap.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "libc/malloc/Heap.h"
#include "tests/host/MallocTestSupport.h"

namespace MallocTest {

class FitTwins {
public:
    // `policy` is the list version (first-list, ...); its twin is the indexed one, which searches its own
    // list up to `list_limit` free blocks and its index above (0: the index nearly always; a small limit
    // switches between the two often).
    FitTwins(Malloc::Policy list_policy, size_t capacity, bool heap_only,
             size_t list_limit = Malloc::FitAllocator::kPolicyListLimit)
        : m_list_source(capacity), m_index_source(capacity), m_list(m_list_source, options(list_policy, list_limit)),
          m_indexed(m_index_source, options(Malloc::indexed_version(list_policy), list_limit)) {
        m_list_source.fail_map = m_index_source.fail_map = heap_only;
    }

    struct Pair {
        void* list;
        void* indexed;
    };

    Pair allocate(size_t size) { return record(m_list.allocate(size), m_indexed.allocate(size), "malloc"); }
    Pair allocate_zeroed(size_t count, size_t size) {
        return record(m_list.allocate_zeroed(count, size), m_indexed.allocate_zeroed(count, size), "calloc");
    }
    Pair allocate_aligned(size_t alignment, size_t size) {
        return record(m_list.allocate_aligned(alignment, size), m_indexed.allocate_aligned(alignment, size),
                      "aligned_alloc");
    }
    Pair reallocate(Pair block, size_t size) {
        return record(m_list.reallocate(block.list, size), m_indexed.reallocate(block.indexed, size), "realloc");
    }
    void free(Pair block) {
        m_list.free(block.list);
        m_indexed.free(block.indexed);
        ++m_step;
    }
    void release_free_memory() {
        m_list.release_free_memory();
        m_indexed.release_free_memory();
    }
    // Both heaps' invariants, and the same statistics (the same blocks, so the same figures).
    void check() {
        m_list.check_invariants();
        m_indexed.check_invariants();
        Malloc::Statistics a = m_list.statistics(), b = m_indexed.statistics();
        if (a.heap_bytes != b.heap_bytes || a.free_blocks != b.free_blocks || a.free_bytes != b.free_bytes ||
            a.largest_free_block != b.largest_free_block || a.live_blocks != b.live_blocks)
            fail("statistics differ");
    }

    bool ok() const { return m_error.empty(); }
    const std::string& error() const { return m_error; }
    size_t steps() const { return m_step; }
    Malloc::Heap& indexed() { return m_indexed; }

private:
    static Malloc::HeapOptions options(Malloc::Policy policy, size_t list_limit) {
        Malloc::HeapOptions options;
        options.policy = policy;
        options.fit_list_limit = list_limit;
        options.secret = 0xF17;
        return options;
    }

    // The offset of `pointer` in its heap, or a mark for nullptr and for a block outside the heap.
    static intptr_t place(Malloc::Heap& heap, const TestMemorySource& source, void* pointer) {
        if (!pointer) return -1;
        if (!heap.owned_by_policy(pointer)) return -2;  // a mapping of its own
        return static_cast<const char*>(pointer) - source.heap_start();
    }

    Pair record(void* list, void* indexed, const char* operation) {
        intptr_t a = place(m_list, m_list_source, list), b = place(m_indexed, m_index_source, indexed);
        if (a != b && m_error.empty())
            fail(std::string(operation) + ": the list version placed the block at " + std::to_string(a) +
                 ", the indexed one at " + std::to_string(b) + " (-1: none, -2: mapped)");
        ++m_step;
        return {list, indexed};
    }
    void fail(const std::string& what) {
        if (m_error.empty()) m_error = "step " + std::to_string(m_step) + ": " + what;
    }

    TestMemorySource m_list_source;
    TestMemorySource m_index_source;
    Malloc::Heap m_list;
    Malloc::Heap m_indexed;
    size_t m_step = 0;
    std::string m_error;
};

}  // namespace MallocTest
