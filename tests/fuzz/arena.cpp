// arena.cpp (fuzz target): a byte stream becomes operations on an ArenaMap (mm/arena/ArenaMap.h) and on the
// naive bitmap model of tests/host/ArenaModel.h; check_invariants() runs after every operation, and any
// answer, block, hole or rover the two do not share is a crash.
//
// Byte 0 picks the policy (low 2 bits: first, next, best, worst), bits 2-3 the granule (1, 16, 256, 4096)
// and bits 4-5 the block table's capacity (4, 16, 64, 256: a small table fills up). The arena has 256
// granules at a base of 64 granules. Each following operation takes 4 bytes: opcode, two size bytes, a
// block index (or, for allocate_at, the granule to place at).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tests/host/ArenaModel.h"

namespace {

[[noreturn]] void mismatch(const char* what, size_t operation, const std::string& detail) {
    fprintf(stderr, "arena fuzz: operation %zu (%s): %s\n", operation, what, detail.c_str());
    abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    uint8_t setup = data[0];
    FitPolicy policy = kAllFitPolicies[setup & 3];
    constexpr u32 kGranules[] = {1, 16, 256, 4096};
    constexpr u32 kCapacities[] = {4, 16, 64, 256};
    u32 granule = kGranules[(setup >> 2) & 3];
    u32 capacity = kCapacities[(setup >> 4) & 3];
    u32 base = 64 * granule;
    u32 arena_size = 256 * granule;
    std::vector<ArenaBlock> storage(capacity);
    ArenaMap arena(base, arena_size, granule, policy, storage.data(), capacity);
    ArenaTest::ArenaModel model(base, arena_size, granule, policy, capacity);
    std::vector<u32> live;
    size_t operations = 0;
    for (size_t at = 1; at + 4 <= size && operations < 5000; at += 4, ++operations) {
        uint8_t opcode = data[at];
        u32 value = (u32(data[at + 1]) << 8) | data[at + 2];
        // Sizes from a byte to more than the arena, scaled to the granule so each is a realistic request.
        u32 bytes = (opcode >> 4) % 4 == 0 ? value : u32((u64(value) * granule) >> 6);
        uint8_t index = data[at + 3];
        size_t pick = live.empty() ? 0 : index % live.size();
        const char* what = "";
        switch (opcode % 8) {
        case 0:
        case 1:
        case 2: {
            what = "allocate";
            auto actual = arena.allocate(bytes, u32(operations));
            auto expected = model.allocate(bytes, u32(operations));
            if (actual.is_error() != !expected.ok)
                mismatch(what, operations, "one placed the block, the other did not");
            if (expected.ok && actual.value() != expected.address) mismatch(what, operations, "different addresses");
            if (!expected.ok && actual.error() != expected.error) mismatch(what, operations, "different errors");
            if (expected.ok) live.push_back(expected.address);
            break;
        }
        case 3:
        case 4:
            what = "release";
            if (live.empty()) break;
            if (!arena.try_release(live[pick]) || !model.release(live[pick]))
                mismatch(what, operations, "a live block was not found");
            live[pick] = live.back();
            live.pop_back();
            break;
        case 5: {
            what = "allocate_at";
            u32 address = base + (index % 256) * granule + ((opcode & 0x80) ? 1 : 0);
            auto actual = arena.allocate_at(address, bytes, u32(operations));
            auto expected = model.allocate_at(address, bytes, u32(operations));
            if (actual.is_error() != !expected.ok)
                mismatch(what, operations, "one placed the block, the other did not");
            if (!expected.ok && actual.error() != expected.error) mismatch(what, operations, "different errors");
            if (expected.ok) live.push_back(address);
            break;
        }
        case 6:
            what = "resize_in_place";
            if (live.empty()) break;
            if (arena.resize_in_place(live[pick], bytes) != model.resize(live[pick], bytes))
                mismatch(what, operations, "different answers");
            break;
        default: {
            what = "compact";
            if (index % 4 != 0) break;
            std::vector<ArenaTest::ArenaModel::Move> expected = model.compact();
            size_t moved = 0;
            arena.compact([&](u32 from, u32 to, u32 bytes_moved, u32 owner) {
                if (moved >= expected.size() || expected[moved].from != from || expected[moved].to != to ||
                    expected[moved].size != bytes_moved || expected[moved].owner != owner)
                    mismatch(what, operations, "a different move");
                ++moved;
            });
            if (moved != expected.size()) mismatch(what, operations, "fewer moves than the model");
            live.clear();
            for (const auto& entry : model.blocks()) live.push_back(entry.first);
            break;
        }
        }
        if (!arena.check_invariants()) mismatch(what, operations, "check_invariants failed");
        std::string difference = model.compare(arena);
        if (!difference.empty()) mismatch(what, operations, difference);
    }
    return 0;
}
