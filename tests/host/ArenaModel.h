// ArenaModel.h: a naive reference for ArenaMap (mm/arena/ArenaMap.h), for the model-based test
// (ArenaMapTest.cpp) and the fuzz target (tests/fuzz/arena.cpp).
//
// The model keeps one bool per granule ("in use") and a std::map of blocks, and states each policy in the
// plainest way: scan the bitmap for maximal runs of free granules (the holes) and pick one:
//   first  the first run that fits;  best  the shortest that fits, the first among equals;
//   worst  the longest, the first among equals, if it fits;
//   next   the first run that fits among those ending above the rover, else the first run that fits.
// None of ArenaMap's code is shared, so a mistake in one shows as a difference: compare() lists the first.
#pragma once

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mm/arena/ArenaMap.h"

namespace ArenaTest {

class ArenaModel {
public:
    struct Result {
        bool ok;
        u32 address;  // when ok
        Error error;  // when not ok
    };
    struct Move {
        u32 from, to, size, owner;
    };

    ArenaModel(u32 base, u32 size, u32 granule, FitPolicy policy, u32 capacity)
        : m_base(base),
          m_granule(granule),
          m_policy(policy),
          m_capacity(capacity),
          m_rover(base),
          m_used(size / granule, 0) {}

    void set_policy(FitPolicy policy) { m_policy = policy; }
    const std::map<u32, std::pair<u32, u32>>& blocks() const { return m_blocks; }  // address -> (size, owner)

    Result allocate(u32 bytes, u32 owner) {
        if (bytes == 0) return {false, 0, Error::Invalid};
        u64 granules = (u64(bytes) + m_granule - 1) / m_granule;
        std::vector<std::pair<u32, u32>> runs = free_runs();  // (first granule, count)
        const std::pair<u32, u32>* pick = nullptr;
        for (const auto& run : runs) {
            if (run.second < granules) continue;
            switch (m_policy) {
            case FitPolicy::First:
                if (!pick) pick = &run;
                break;
            case FitPolicy::Best:
                if (!pick || run.second < pick->second) pick = &run;
                break;
            case FitPolicy::Worst:
                if (!pick || run.second > pick->second) pick = &run;
                break;
            case FitPolicy::Next:
                if (!pick && address_of(run.first + run.second) > m_rover) pick = &run;
                break;
            }
        }
        if (!pick && m_policy == FitPolicy::Next) {
            for (const auto& run : runs) {
                if (run.second >= granules) {
                    pick = &run;
                    break;
                }
            }
        }
        if (!pick) return {false, 0, Error::NoMemory};
        if (m_blocks.size() == m_capacity) return {false, 0, Error::NoSpace};
        u32 address = address_of(pick->first);
        place(address, static_cast<u32>(granules), owner);
        m_rover = address + static_cast<u32>(granules) * m_granule;
        return {true, address, Error::None};
    }

    Result allocate_at(u32 address, u32 bytes, u32 owner) {
        if (bytes == 0 || address % m_granule != 0) return {false, 0, Error::Invalid};
        u64 granules = (u64(bytes) + m_granule - 1) / m_granule;
        if (address < m_base || (u64(address) - m_base) / m_granule + granules > m_used.size())
            return {false, 0, Error::OutOfRange};
        u32 first = (address - m_base) / m_granule;
        for (u64 g = first; g < first + granules; ++g)
            if (m_used[g]) return {false, 0, Error::Busy};
        if (m_blocks.size() == m_capacity) return {false, 0, Error::NoSpace};
        place(address, static_cast<u32>(granules), owner);
        return {true, address, Error::None};
    }

    bool release(u32 address) {
        auto it = m_blocks.find(address);
        if (it == m_blocks.end()) return false;
        mark(address, it->second.first / m_granule, false);
        m_blocks.erase(it);
        return true;
    }

    bool resize(u32 address, u32 new_bytes) {
        auto it = m_blocks.find(address);
        if (it == m_blocks.end() || new_bytes == 0) return false;
        u64 granules = (u64(new_bytes) + m_granule - 1) / m_granule;
        u32 first = (address - m_base) / m_granule;
        u32 old_granules = it->second.first / m_granule;
        if (first + granules > m_used.size()) return false;
        for (u64 g = first + old_granules; g < first + granules; ++g)
            if (m_used[g]) return false;
        mark(address, old_granules, false);
        mark(address, static_cast<u32>(granules), true);
        it->second.first = static_cast<u32>(granules) * m_granule;
        return true;
    }

    // Slides every block down, lowest first; returns what moved.
    std::vector<Move> compact() {
        std::vector<Move> moves;
        std::map<u32, std::pair<u32, u32>> moved;
        u32 cursor = m_base;
        for (const auto& [address, block] : m_blocks) {
            if (address != cursor) moves.push_back({address, cursor, block.first, block.second});
            moved[cursor] = block;
            cursor += block.first;
        }
        m_blocks = moved;
        std::fill(m_used.begin(), m_used.end(), u8(0));
        for (const auto& [address, block] : m_blocks) mark(address, block.first / m_granule, true);
        m_rover = cursor;
        return moves;
    }

    // The holes as (address, size), from the bitmap.
    std::vector<std::pair<u32, u32>> holes() const {
        std::vector<std::pair<u32, u32>> result;
        for (const auto& run : free_runs()) result.push_back({address_of(run.first), run.second * m_granule});
        return result;
    }

    // "" when `arena` holds the same blocks, holes and rover; otherwise the first difference.
    std::string compare(const ArenaMap& arena) const {
        char text[200];
        if (arena.block_count() != m_blocks.size()) {
            snprintf(text, sizeof text, "%u blocks, the model has %zu", arena.block_count(), m_blocks.size());
            return text;
        }
        u32 index = 0;
        for (const auto& [address, block] : m_blocks) {
            const ArenaBlock& actual = arena.block(index++);
            if (actual.address != address || actual.size != block.first || actual.owner != block.second) {
                snprintf(text, sizeof text, "block %u is [%#x, +%#x) owner %u, the model's [%#x, +%#x) owner %u",
                         index - 1, actual.address, actual.size, actual.owner, address, block.first, block.second);
                return text;
            }
        }
        std::vector<std::pair<u32, u32>> actual_holes;
        arena.for_each_hole([&](u32 address, u32 size) { actual_holes.push_back({address, size}); });
        if (actual_holes != holes()) return "the holes differ from the model's";
        if (arena.rover() != m_rover) {
            snprintf(text, sizeof text, "rover %#x, the model's %#x", arena.rover(), m_rover);
            return text;
        }
        return "";
    }

private:
    u32 address_of(u64 granule) const { return static_cast<u32>(m_base + granule * m_granule); }

    std::vector<std::pair<u32, u32>> free_runs() const {
        std::vector<std::pair<u32, u32>> runs;
        for (u32 g = 0; g < m_used.size();) {
            if (m_used[g]) {
                ++g;
                continue;
            }
            u32 start = g;
            while (g < m_used.size() && !m_used[g]) ++g;
            runs.push_back({start, g - start});
        }
        return runs;
    }

    void mark(u32 address, u32 granules, bool used) {
        u32 first = (address - m_base) / m_granule;
        for (u32 g = first; g < first + granules; ++g) m_used[g] = used ? 1 : 0;
    }

    void place(u32 address, u32 granules, u32 owner) {
        mark(address, granules, true);
        m_blocks[address] = {granules * m_granule, owner};
    }

    u32 m_base;
    u32 m_granule;
    FitPolicy m_policy;
    size_t m_capacity;
    u32 m_rover;
    std::vector<u8> m_used;  // 1: the granule is in use
    std::map<u32, std::pair<u32, u32>> m_blocks;
};

}  // namespace ArenaTest
