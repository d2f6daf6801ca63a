// FrameAllocModel.h: test-only helpers for the frame allocators, shared by the host tests and the fuzzer.
//
// FrameAllocModel is a shadow of physical memory, one byte per frame (unmanaged, free or live), kept beside
// an allocator under test (no gtest in here: the fuzzer uses it too). It knows nothing about buddies or bitmaps; it
// checks what any correct allocator must do: a returned block lies in free managed memory (so no two live blocks
// overlap), is aligned, is in the requested zone, and is taken below 16 MiB only when no block above was free; an
// allocation fails only when no suitable block is free. Checks return "" when they pass, else a description, so a gtest
// can EXPECT on them and a fuzzer can abort.
#pragma once

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mm/frame/BitmapAllocator.h"
#include "mm/frame/BuddyAllocator.h"

namespace frame_alloc_test {

// A FormatSink that appends to a std::string.
inline void string_sink(void* context, const char* text, size_t length) {
    static_cast<std::string*>(context)->append(text, length);
}

inline std::string hex(u64 value) {
    char buffer[32];
    snprintf(buffer, sizeof(buffer), "%#llx", static_cast<unsigned long long>(value));
    return buffer;
}

// check_invariants() with its message, for `EXPECT_EQ(invariants(a), "")`.
inline std::string invariants(const FrameAllocator& allocator) {
    std::string message;
    if (allocator.check_invariants(string_sink, &message)) return "";
    return message.empty() ? "check_invariants() failed without a message" : message;
}

// Allocators that own their metadata (the kernel passes a static array instead).
struct OwnedBuddy {
    OwnedBuddy(u32 first_pfn, u32 end_pfn)
        : storage(BuddyAllocator::descriptors_needed(first_pfn, end_pfn)),
          allocator(Span<FrameDescriptor>(storage.data(), storage.size()), first_pfn) {}
    std::vector<FrameDescriptor> storage;
    BuddyAllocator allocator;
};

struct OwnedBitmap {
    OwnedBitmap(u32 first_pfn, u32 end_pfn)
        : words(BitmapAllocator::words_needed(end_pfn - first_pfn)),
          allocator(Span<u32>(words.data(), words.size()), first_pfn, end_pfn - first_pfn) {}
    std::vector<u32> words;
    BitmapAllocator allocator;
};

class FrameAllocModel {
public:
    enum class Frame : u8 { Unmanaged, Free, Live };

    FrameAllocModel(u32 first_pfn, u32 end_pfn)
        : m_first(first_pfn), m_end(end_pfn), m_frames(end_pfn - first_pfn, Frame::Unmanaged) {}

    // The frames wholly inside [start, end), computed independently of the allocators' own rounding.
    std::pair<u32, u32> frames_in(u64 start, u64 end) const {
        u64 first = (start + kFrameSize - 1) / kFrameSize;
        u64 last = end / kFrameSize;
        first = std::max<u64>(first, m_first);
        last = std::min<u64>(last, m_end);
        if (end <= start || first >= last) return {0, 0};
        return {static_cast<u32>(first), static_cast<u32>(last)};
    }
    u32 add_range(u64 start, u64 end) {
        auto [first, last] = frames_in(start, end);
        for (u32 pfn = first; pfn < last; ++pfn) at(pfn) = Frame::Free;
        m_total += last - first;
        m_free += last - first;
        return last - first;
    }

    u32 first_pfn() const { return m_first; }
    u32 end_pfn() const { return m_end; }
    u32 free_frames() const { return m_free; }
    u32 total_frames() const { return m_total; }
    const std::map<u32, u32>& live() const { return m_live; }
    Frame frame(u32 pfn) const { return at(pfn); }

    bool is_free_run(u32 pfn, u32 count) const {
        if (pfn < m_first || pfn > m_end || count > m_end - pfn) return false;
        for (u32 i = 0; i < count; ++i)
            if (at(pfn + i) != Frame::Free) return false;
        return true;
    }
    // The lowest pfn in [low, high) that is a multiple of align and starts `count` free frames ending by high.
    // Linear: after a frame that is not free, the next candidate is the next aligned pfn beyond it.
    std::optional<u32> first_free_run(u32 count, u32 align, u32 low, u32 high) const {
        low = std::max(low, m_first);
        high = std::min(high, m_end);
        u64 pfn = (static_cast<u64>(low) + align - 1) / align * align;
        while (pfn + count <= high) {
            u64 blocked = pfn;
            while (blocked < pfn + count && at(static_cast<u32>(blocked)) == Frame::Free) ++blocked;
            if (blocked == pfn + count) return static_cast<u32>(pfn);
            pfn = (blocked + align) / align * align;
        }
        return std::nullopt;
    }

    // The limits a request of `zone` may use: Zone::Dma ends at 16 MiB.
    u32 zone_high(Zone zone) const { return zone == Zone::Dma ? std::min(m_end, kDmaLimitPfn) : m_end; }

    // What a first-fit allocator must return for `count` frames aligned to `align`: Zone::Any tries above
    // 16 MiB first, then any run that starts below (and may straddle the limit); Zone::Dma only below.
    std::optional<u32> first_fit(u32 count, u32 align, Zone zone) const {
        if (zone == Zone::Dma) return first_free_run(count, align, m_first, kDmaLimitPfn);
        if (auto above = first_free_run(count, align, kDmaLimitPfn, m_end)) return above;
        return first_free_run(count, align, m_first, kDmaLimitPfn + count - 1);
    }

    // Checks a successful allocation of `count` frames aligned to `align` at `pfn`, then records it as live.
    std::string allocated(u32 pfn, u32 count, u32 align, Zone zone) {
        std::string where = "allocation of " + std::to_string(count) + " frames at " + hex(pfn_to_address(pfn));
        if (pfn % align != 0) return where + ": not aligned to " + std::to_string(align) + " frames";
        if (zone == Zone::Dma && (pfn >= kDmaLimitPfn || count > kDmaLimitPfn - pfn))
            return where + ": Zone::Dma but not below 16 MiB";
        if (!is_free_run(pfn, count)) return where + ": overlaps a live block, a hole or the end of memory";
        if (zone == Zone::Any && pfn < kDmaLimitPfn) {
            if (auto above = first_free_run(count, align, kDmaLimitPfn, m_end))
                return where + ": took DMA memory although " + hex(pfn_to_address(*above)) + " above 16 MiB was free";
        }
        for (u32 i = 0; i < count; ++i) at(pfn + i) = Frame::Live;
        m_live[pfn] = count;
        m_free -= count;
        return "";
    }

    // Checks that a failed allocation had no choice.
    std::string failed(u32 count, u32 align, Zone zone) const {
        if (auto block = first_free_run(count, align, m_first, zone_high(zone)))
            return "allocation of " + std::to_string(count) + " frames failed although " + hex(pfn_to_address(*block)) +
                   " was free";
        return "";
    }

    // Checks the outcome of a request for `count` frames aligned to `align` (an error, or a block that is then
    // recorded as live); `first_fit` demands exactly the first fit, as the bitmap promises.
    std::string outcome(const ErrorOr<u32>& result, u32 count, u32 align, Zone zone, bool first_fit) {
        if (result.is_error()) {
            if (result.error() != Error::NoMemory)
                return std::string("unexpected error: ") + error_string(result.error());
            return failed(count, align, zone);
        }
        if (first_fit && this->first_fit(count, align, zone) != result.value())
            return "allocation of " + std::to_string(count) + " frames at " + hex(pfn_to_address(result.value())) +
                   " is not the first fit";
        return allocated(result.value(), count, align, zone);
    }

    // Records the free of the live block at pfn.
    std::string freed(u32 pfn) {
        auto it = m_live.find(pfn);
        if (it == m_live.end()) return "model: no live block at " + hex(pfn_to_address(pfn));
        for (u32 i = 0; i < it->second; ++i) at(pfn + i) = Frame::Free;
        m_free += it->second;
        m_live.erase(it);
        return "";
    }

    // Any live block (by a random number), for frees.
    std::pair<u32, u32> live_block(u32 random) const {
        auto it = m_live.begin();
        std::advance(it, random % m_live.size());
        return *it;
    }

    // The maximal runs of free frames, in address order.
    std::vector<std::pair<u32, u32>> free_runs() const {
        std::vector<std::pair<u32, u32>> runs;
        for (u32 pfn = m_first; pfn < m_end;) {
            if (at(pfn) != Frame::Free) {
                ++pfn;
                continue;
            }
            u32 start = pfn;
            while (pfn < m_end && at(pfn) == Frame::Free) ++pfn;
            runs.push_back({start, pfn - start});
        }
        return runs;
    }

private:
    Frame& at(u32 pfn) { return m_frames[pfn - m_first]; }
    Frame at(u32 pfn) const { return m_frames[pfn - m_first]; }

    u32 m_first;
    u32 m_end;
    std::vector<Frame> m_frames;
    std::map<u32, u32> m_live;  // first pfn -> frames
    u32 m_free = 0;
    u32 m_total = 0;
};

// The free blocks of a buddy allocator as sorted (pfn, order) pairs.
inline std::vector<std::pair<u32, unsigned>> free_blocks_of(const BuddyAllocator& buddy) {
    std::vector<std::pair<u32, unsigned>> blocks;
    buddy.for_each_free_block([&](u32 pfn, unsigned order) { blocks.push_back({pfn, order}); });
    std::sort(blocks.begin(), blocks.end());
    return blocks;
}

inline std::vector<std::pair<u32, u32>> free_runs_of(const BitmapAllocator& bitmap) {
    std::vector<std::pair<u32, u32>> runs;
    bitmap.for_each_free_run([&](u32 pfn, u32 count) { runs.push_back({pfn, count}); });
    return runs;
}

// A small deterministic generator (xorshift32), the same on every platform.
class Random {
public:
    explicit Random(u32 seed) : m_state(seed ? seed : 1) {}
    u32 next() {
        m_state ^= m_state << 13;
        m_state ^= m_state >> 17;
        m_state ^= m_state << 5;
        return m_state;
    }
    u32 below(u32 bound) { return next() % bound; }
    // An order from 0 to kMaxOrder, order k with probability about 2^-(k+1): small blocks are the common case.
    unsigned order() {
        unsigned zeros = static_cast<unsigned>(__builtin_ctz(next() | (1u << kMaxOrder)));
        return zeros < kMaxOrder ? zeros : kMaxOrder;
    }

private:
    u32 m_state;
};

}  // namespace frame_alloc_test
