// malloc_fit.cpp (fuzz target): a byte stream becomes calls on one fit policy run twice, over its free list
// and over its index (tests/host/FitTwins.h); any placement the two versions do not share is a crash.
//
// Byte 0 picks the policy (low 2 bits: first, next, best, worst), bit 2 a small heap (exhaustion) and bits
// 3-4 the indexed twin's list limit (0, 4 or 16 free blocks: list and index in turn, or the policy's). No
// mappings: every block is placed in the heap (where a mapping lands, and so how an aligned block sits in
// it and whether realloc can keep it, is the system's choice, not the policy's). Each following operation takes 4 bytes: opcode,
// two size bytes, a block index. Both heaps' invariants are checked every 32 operations and at the end.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tests/host/FitTwins.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    using Malloc::Policy;
    constexpr Policy kPolicies[] = {Policy::FirstList, Policy::NextList, Policy::BestList, Policy::WorstList};
    uint8_t setup = data[0];
    Policy policy = kPolicies[setup & 3];
    constexpr size_t kListLimits[] = {0, 4, 16, Malloc::FitAllocator::kPolicyListLimit};
    MallocTest::FitTwins twins(policy, (setup & 4) ? (1 << 20) : (64 << 20), true, kListLimits[(setup >> 3) & 3]);
    std::vector<MallocTest::FitTwins::Pair> live;
    size_t operations = 0;
    for (size_t at = 1; at + 4 <= size && operations < 3000 && twins.ok(); at += 4, ++operations) {
        uint8_t opcode = data[at];
        size_t value = (size_t(data[at + 1]) << 8) | data[at + 2];
        // Mostly small blocks, where the placements differ most; a few up to 512 KiB.
        size_t request = (opcode >> 3) % 4 == 3 ? value * 8 : (opcode >> 3) % 4 == 2 ? value % 4097 : value % 257;
        uint8_t index = data[at + 3];
        size_t pick = live.empty() ? 0 : index % live.size();
        switch (opcode % 8) {
        case 0:
        case 1:
        case 2: {
            auto block = twins.allocate(request);
            if (block.list && block.indexed) live.push_back(block);
            break;
        }
        case 3:
        case 4:
            if (!live.empty()) {
                twins.free(live[pick]);
                live[pick] = live.back();
                live.pop_back();
            }
            break;
        case 5:
            if (!live.empty()) {
                auto moved = twins.reallocate(live[pick], request);
                if (moved.list && moved.indexed) {
                    live[pick] = moved;
                } else if (request == 0) {
                    live[pick] = live.back();
                    live.pop_back();
                }
            }
            break;
        case 6: {
            // At most a page: both heaps start at the same offset in a page, not of a larger power of two.
            auto block = twins.allocate_aligned(size_t(32) << (index % 8), request);
            if (block.list && block.indexed) live.push_back(block);
            break;
        }
        default:
            if (index % 8 == 0) twins.release_free_memory();
            break;
        }
        if (operations % 32 == 0) twins.check();
    }
    for (auto block : live) twins.free(block);
    twins.check();
    if (!twins.ok()) {
        fprintf(stderr, "malloc_fit fuzz (%s): %s\n", Malloc::policy_name(policy), twins.error().c_str());
        abort();
    }
    return 0;
}
