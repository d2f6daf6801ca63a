// malloc.cpp (fuzz target): a byte stream becomes malloc/free/realloc/calloc/aligned_alloc calls on a
// Malloc::Heap of any policy, checked against the reference model (tests/host/MallocModel.h).
//
// Byte 0 picks the policy (low 3 bits: kAllPolicies[0..7]; the equality fuzzer malloc_fit covers the fit
// policies' list and indexed versions against each other) and the memory source's behaviour: bit 3 switches
// map() off, bit 4 gives a small heap (exhaustion), bit 5 makes discarded pages junk. Each following
// operation takes 4 bytes: opcode, two size bytes, a block index. Any difference from the model, any broken
// invariant (check_invariants after each operation) or any sanitizer report is a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "libc/malloc/Heap.h"
#include "tests/host/MallocModel.h"
#include "tests/host/MallocTestSupport.h"

namespace {

size_t decode_size(uint8_t kind, uint8_t high, uint8_t low) {
    size_t value = (size_t(high) << 8) | low;
    switch (kind % 8) {
    case 0:
    case 1:
    case 2: return value % 257;  // small, including 0
    case 3:
    case 4: return value % 4097;                                 // medium
    case 5: return value * 4;                                    // up to 256 KiB: around the mmap threshold
    case 6: return value * 8;                                    // up to 512 KiB: mapped
    default: return value == 0xFFFF ? SIZE_MAX - value : value;  // occasionally absurd
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    uint8_t setup = data[0];
    MallocTest::TestMemorySource source((setup & 0x10) ? (6 << 20) : (128 << 20), (setup & 0x40) ? 4096 + 8 : 4096);
    source.fail_map = setup & 0x08;
    source.junk_on_discard = setup & 0x20;
    Malloc::HeapOptions options;
    options.policy = Malloc::kAllPolicies[(setup & 7) % Malloc::kPolicyCount];
    options.secret = 0xF022;
    Malloc::Heap heap(source, options);
    MallocTest::HeapModel model(heap);

    size_t operations = 0;
    for (size_t at = 1; at + 4 <= size && operations < 1500; at += 4, ++operations) {
        uint8_t opcode = data[at];
        size_t request = decode_size(opcode >> 3, data[at + 1], data[at + 2]);
        uint8_t index = data[at + 3];
        switch (opcode % 7) {
        case 0:
        case 1: model.allocate(request); break;
        case 2: model.free(model.pick(index)); break;
        case 3: model.reallocate(index % 8 == 0 ? nullptr : model.pick(index), index % 16 == 1 ? 0 : request); break;
        case 4: model.allocate_zeroed(1 + index % 4, request / (1 + index % 4)); break;
        case 5: model.allocate_aligned(size_t(1) << (index % 18), request); break;
        default:
            if (index % 4 == 0) heap.release_free_memory();
            break;
        }
        heap.check_invariants();
        if (operations % 16 == 0) model.check_all();
        if (!model.ok()) {
            fprintf(stderr, "malloc fuzz (%s): %s\n", Malloc::policy_name(options.policy), model.error().c_str());
            abort();
        }
    }
    model.check_all();
    model.free_all();
    model.check_all();
    if (!model.ok()) {
        fprintf(stderr, "malloc fuzz (%s): %s\n", Malloc::policy_name(options.policy), model.error().c_str());
        abort();
    }
    return 0;
}
