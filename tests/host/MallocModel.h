// MallocModel.h: a reference model of what a correct malloc must preserve, for randomized tests and the
// fuzzer.
//
// The model remembers every live block (address, requested size, alignment, a fill seed) and checks, after
// each operation: the result is aligned; it overlaps no other live block (usable ranges); its usable size
// covers the request; contents written earlier are intact (whole block on free/realloc, the ends of
// every block in check_all); calloc memory is zero; realloc kept the common prefix. check_all also runs
// the heap's own check_invariants and the statistics accounting identity.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "libc/malloc/Heap.h"

namespace MallocTest {

class HeapModel {
public:
    explicit HeapModel(Malloc::Heap& heap) : m_heap(heap) {}

    bool ok() const { return m_error.empty(); }
    const std::string& error() const { return m_error; }
    size_t live_count() const { return m_blocks.size(); }
    size_t live_bytes() const { return m_live_bytes; }

    // The n-th live block (n taken modulo the count), or nullptr when none is live.
    void* pick(uint64_t n) const {
        if (m_blocks.empty()) return nullptr;
        // Walk from a position derived from n; std::map has no random access, and the test sizes are
        // small enough for this to be cheap.
        auto it = m_blocks.begin();
        std::advance(it, static_cast<long>(n % m_blocks.size()));
        return reinterpret_cast<void*>(it->first);
    }
    size_t size_of(void* pointer) const { return m_blocks.at(reinterpret_cast<uintptr_t>(pointer)).size; }

    void* allocate(size_t size) {
        void* pointer = m_heap.allocate(size);
        if (pointer) admit(pointer, size, 16, "malloc");
        return pointer;
    }
    void* allocate_zeroed(size_t count, size_t size) {
        void* pointer = m_heap.allocate_zeroed(count, size);
        if (!pointer) return nullptr;
        size_t total = count * size;
        static const unsigned char zeros[kChunk] = {};
        for (size_t offset = 0; offset < total; offset += kChunk)
            if (memcmp(static_cast<unsigned char*>(pointer) + offset, zeros, std::min(kChunk, total - offset)) != 0)
                return fail("calloc memory not zero", pointer), nullptr;
        admit(pointer, total, 16, "calloc");
        return pointer;
    }
    void* allocate_aligned(size_t alignment, size_t size) {
        void* pointer = m_heap.allocate_aligned(alignment, size);
        if (pointer) admit(pointer, size, alignment, "aligned_alloc");
        return pointer;
    }
    void free(void* pointer) {
        if (pointer) {
            auto it = m_blocks.find(reinterpret_cast<uintptr_t>(pointer));
            if (it == m_blocks.end()) return fail("model: free of unknown block", pointer);
            verify_whole(pointer, it->second);
            m_live_bytes -= it->second.size;
            m_blocks.erase(it);
        }
        m_heap.free(pointer);
    }
    void* reallocate(void* pointer, size_t size) {
        Block old{};
        if (pointer) {
            auto it = m_blocks.find(reinterpret_cast<uintptr_t>(pointer));
            if (it == m_blocks.end()) return fail("model: realloc of unknown block", pointer), nullptr;
            old = it->second;
            verify_whole(pointer, old);
        }
        void* moved = m_heap.reallocate(pointer, size);
        if (!moved) {
            if (pointer && size != 0)
                verify_whole(pointer, old);  // failure leaves the block intact
            else if (pointer)
                forget(pointer);  // realloc(p, 0) freed it
            return nullptr;
        }
        if (pointer) {
            // The common prefix survived the move; then the new block gets a fresh fill.
            size_t common = old.size < size ? old.size : size;
            if (!matches(static_cast<unsigned char*>(moved), old.seed, 0, common))
                return fail("realloc lost contents", moved), nullptr;
            forget(pointer);
        }
        admit(moved, size, 16, "realloc");  // realloc keeps only the fundamental alignment
        return moved;
    }

    // Everything: the heap's own invariants, the ends of every live block, the statistics.
    void check_all() {
        m_heap.check_invariants();
        for (auto& [address, block] : m_blocks) verify_ends(reinterpret_cast<void*>(address), block);
        Malloc::Statistics s = m_heap.statistics();
        size_t accounted = s.live_bytes + s.header_bytes + s.alignment_bytes + s.free_bytes + s.metadata_bytes;
        if (accounted != s.heap_bytes) {
            char message[200];
            snprintf(message, sizeof(message),
                     "statistics: heap %zu != live %zu + headers %zu + alignment %zu + "
                     "free %zu + metadata %zu",
                     s.heap_bytes, s.live_bytes, s.header_bytes, s.alignment_bytes, s.free_bytes, s.metadata_bytes);
            return fail(message, nullptr);
        }
        if (s.live_blocks != m_blocks.size()) return fail("statistics: live block count", nullptr);
        if (s.live_bytes_exact && s.live_bytes + s.mapped_live_bytes != m_live_bytes)
            return fail("statistics: live bytes differ from the requested total", nullptr);
        if (!s.live_bytes_exact && s.live_bytes + s.mapped_live_bytes < m_live_bytes)
            return fail("statistics: usable bytes below the requested total", nullptr);
        if (s.largest_free_block > s.free_bytes) return fail("statistics: largest free block > free bytes", nullptr);
    }

    // Frees everything still live.
    void free_all() {
        while (!m_blocks.empty() && ok()) free(reinterpret_cast<void*>(m_blocks.begin()->first));
    }

private:
    struct Block {
        size_t size;
        size_t alignment;
        uint8_t seed;
    };

    // Block contents: a period-251 byte sequence starting at `seed`, written and compared with memcpy and
    // memcmp in 4 KiB chunks (fast, and not instrumented per byte in the fuzzer).
    static constexpr size_t kPeriod = 251;
    static constexpr size_t kChunk = 4096;
    static const uint8_t* pattern_table() {
        static uint8_t table[kPeriod + kChunk];
        static bool ready = false;
        if (!ready) {
            for (size_t k = 0; k < sizeof(table); ++k) table[k] = static_cast<uint8_t>((k % kPeriod) * 7 + 3);
            ready = true;
        }
        return table;
    }
    static uint8_t pattern(uint8_t seed, size_t i) { return pattern_table()[(seed + i) % kPeriod]; }
    static void fill(unsigned char* bytes, uint8_t seed, size_t size) {
        for (size_t offset = 0; offset < size; offset += kChunk)
            memcpy(bytes + offset, pattern_table() + (seed + offset) % kPeriod, std::min(kChunk, size - offset));
    }
    // Whether bytes [from, to) hold the pattern.
    static bool matches(const unsigned char* bytes, uint8_t seed, size_t from, size_t to) {
        for (size_t offset = from; offset < to; offset += kChunk)
            if (memcmp(bytes + offset, pattern_table() + (seed + offset) % kPeriod, std::min(kChunk, to - offset)) != 0)
                return false;
        return true;
    }

    void fail(const std::string& what, const void* pointer) {
        if (!m_error.empty()) return;
        char address[32];
        snprintf(address, sizeof(address), " at %p", pointer);
        m_error = what + address;
    }
    void forget(void* pointer) {
        auto it = m_blocks.find(reinterpret_cast<uintptr_t>(pointer));
        m_live_bytes -= it->second.size;
        m_blocks.erase(it);
    }
    void admit(void* pointer, size_t size, size_t alignment, const char* operation) {
        uintptr_t address = reinterpret_cast<uintptr_t>(pointer);
        if (address % (alignment < 16 ? 16 : alignment) != 0)
            return fail(std::string(operation) + ": misaligned", pointer);
        size_t usable = m_heap.usable_size(pointer);
        if (usable < size) return fail(std::string(operation) + ": usable size below the request", pointer);
        // No overlap with the neighbours on either side (usable ranges).
        auto next = m_blocks.lower_bound(address);
        if (next != m_blocks.end() && next->first < address + (usable ? usable : 1))
            return fail(std::string(operation) + ": overlaps a live block", pointer);
        if (next != m_blocks.begin()) {
            auto previous = std::prev(next);
            size_t previous_usable = m_heap.usable_size(reinterpret_cast<void*>(previous->first));
            if (previous->first + previous_usable > address)
                return fail(std::string(operation) + ": overlaps a live block", pointer);
        }
        uint8_t seed = static_cast<uint8_t>(++m_counter * 37);
        fill(static_cast<unsigned char*>(pointer), seed, size);
        m_blocks[address] = Block{size, alignment, seed};
        m_live_bytes += size;
    }
    void verify_whole(void* pointer, const Block& block) {
        if (!matches(static_cast<unsigned char*>(pointer), block.seed, 0, block.size))
            fail("block contents changed", pointer);
    }
    void verify_ends(void* pointer, const Block& block) {
        unsigned char* bytes = static_cast<unsigned char*>(pointer);
        if (!matches(bytes, block.seed, 0, block.size < 32 ? block.size : 32))
            return fail("block head changed", pointer);
        if (!matches(bytes, block.seed, block.size > 32 ? block.size - 32 : 0, block.size))
            fail("block tail changed", pointer);
    }

    Malloc::Heap& m_heap;
    std::map<uintptr_t, Block> m_blocks;
    size_t m_live_bytes = 0;
    uint64_t m_counter = 0;
    std::string m_error;
};

}  // namespace MallocTest
