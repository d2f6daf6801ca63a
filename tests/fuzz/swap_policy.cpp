// swap_policy.cpp: libFuzzer target for the replacement policies (mm/swap).
//
// Byte 0 picks the mode, byte 1 the frame count (1..16).
//
// Mode "operations" (byte 0 even): one online policy (byte 2), driven directly through its interface beside
// a shadow of which frames are resident and of their A, D and pinned bits (FakeFrames). Operations, two
// bytes each: page in a free frame, remove a resident one, reference it, set its A/D bits, pin or unpin it,
// tick, choose a victim, evict (choose, then remove). After every operation: check_invariants(), and the
// policy's resident set equals the shadow's. A victim must be resident and not pinned; NoEntry only when
// nothing is resident, Busy only when every resident frame is pinned. Any violation aborts.
//
// Mode "strings" (byte 0 odd): the rest of the input is a reference string (page = byte % 24, a write when
// bit 7 is set). Every policy and OPT run it in the Simulator, which panics on a pinned or empty victim, with
// the invariants checked after every access; OPT must fault no more than any policy, and LRU no more with one
// frame more. Then one policy runs it again with frames pinned and unpinned along the way (an access that
// finds every frame pinned must fail with Busy; it is then run again with nothing pinned).
#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "tests/fuzz/FuzzInput.h"
#include "tests/host/SwapTestSupport.h"

using namespace swap_test;

namespace {

constexpr size_t kMaxOperations = 2000;
constexpr size_t kMaxStringLength = 600;

[[noreturn]] void fail(const std::string& what) {
    fprintf(stderr, "swap_policy: %s\n", what.c_str());
    abort();
}

void require_invariants(const std::string& problem, const char* policy) {
    if (!problem.empty()) fail(std::string(policy) + ": " + problem);
}

void run_operations(FuzzInput& input, u32 frames) {
    PolicyKind kind = kPolicyKinds[input.byte() % (sizeof(kPolicyKinds) / sizeof(kPolicyKinds[0]))];
    auto owned = OwnedPolicy::online(kind, frames, input.half());
    ReplacementPolicy& policy = owned->policy();
    FakeFrames bits(frames);
    std::vector<bool> resident(frames), pinned(frames);

    auto check_victim = [&](const ErrorOr<u32>& victim) {
        u32 resident_count = 0, evictable = 0;
        for (u32 frame = 0; frame < frames; ++frame) {
            resident_count += resident[frame];
            evictable += resident[frame] && !pinned[frame];
        }
        if (victim.is_error()) {
            Error expected = resident_count == 0 ? Error::NoEntry : Error::Busy;
            if (evictable != 0 || victim.error() != expected)
                fail(std::string(policy.name()) + ": choose_victim failed with " + error_string(victim.error()) +
                     " but " + std::to_string(evictable) + " frames were evictable");
            return false;
        }
        u32 frame = victim.value();
        if (frame >= frames || !resident[frame]) fail(std::string(policy.name()) + ": chose a frame not resident");
        if (pinned[frame]) fail(std::string(policy.name()) + ": chose a pinned frame");
        return true;
    };

    for (size_t step = 0; step < kMaxOperations && !input.empty(); ++step) {
        u8 op = input.byte();
        u32 frame = input.byte() % frames;
        switch (op % 8) {
        case 0:
            if (resident[frame]) break;
            policy.page_in(frame);
            resident[frame] = true;
            bits.set(frame, true, (op & 0x80) != 0);  // the access that faulted sets A, and D on a write
            break;
        case 1:
            if (!resident[frame]) break;
            policy.removed(frame);
            resident[frame] = false;
            bits.set(frame, false, false);
            break;
        case 2:
            if (!resident[frame]) break;
            policy.referenced(frame);
            bits.set(frame, true, bits.dirty(frame) || (op & 0x80) != 0);
            break;
        case 3: bits.set(frame, (op & 0x40) != 0, (op & 0x80) != 0); break;
        case 4:
            pinned[frame] = (op & 0x80) != 0;
            bits.pin(frame, pinned[frame]);
            break;
        case 5: policy.tick(bits); break;
        case 6: check_victim(policy.choose_victim(bits)); break;
        case 7: {
            auto victim = policy.choose_victim(bits);
            if (!check_victim(victim)) break;
            policy.removed(victim.value());
            resident[victim.value()] = false;
            bits.set(victim.value(), false, false);
            break;
        }
        }
        require_invariants(invariants(policy), policy.name());
        u32 count = 0;
        for (u32 f = 0; f < frames; ++f) {
            count += resident[f];
            if (policy.is_resident(f) != resident[f])
                fail(std::string(policy.name()) + ": is_resident(" + std::to_string(f) + ") disagrees");
        }
        if (policy.resident_count() != count) fail(std::string(policy.name()) + ": resident_count disagrees");
    }
}

void run_strings(FuzzInput& input, u32 frames) {
    std::vector<PageAccess> string;
    while (!input.empty() && string.size() < kMaxStringLength) {
        u8 byte = input.byte();
        string.push_back(PageAccess{byte % 24u, (byte & 0x80) != 0});
    }
    if (string.empty()) return;
    std::vector<u32> misses;
    for (const std::string& name : all_policy_names()) {
        auto owned = make_policy(name, frames, string, 5);
        Trace result = trace(owned->policy(), frames, string, 1 + frames % 4);
        require_invariants(result.problem, name.c_str());
        misses.push_back(result.misses);
    }
    u32 optimal = misses.back();  // "opt" comes last
    for (size_t i = 0; i < misses.size(); ++i)
        if (misses[i] < optimal)
            fail(all_policy_names()[i] + " faulted " + std::to_string(misses[i]) + " times, less than OPT's " +
                 std::to_string(optimal));
    if (faults("lru", frames + 1, string) > faults("lru", frames, string)) fail("lru faulted more with one more frame");

    // Again with pins: a frame is pinned or unpinned every few accesses, by the string's own bytes.
    const std::string& name = all_policy_names()[string[0].page % all_policy_names().size()];
    auto owned = make_policy(name, frames, string, 7);
    OwnedSimulator machine(owned->policy(), frames, 2);
    for (size_t i = 0; i < string.size(); ++i) {
        if (i % 3 == 0) machine.simulator.pin(string[i].page % frames, string[i].write);
        auto access = machine.simulator.access(string[i]);
        if (access.is_error()) {
            if (access.error() != Error::Busy) fail(name + ": access failed with " + error_string(access.error()));
            // Every frame pinned: unpin them and run the access after all (OPT must see every access).
            for (u32 frame = 0; frame < frames; ++frame) machine.simulator.pin(frame, false);
            if (machine.simulator.access(string[i]).is_error()) fail(name + ": access failed with nothing pinned");
        }
        require_invariants(invariants(machine.simulator), name.c_str());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size) {
    FuzzInput input(data, size);
    u8 mode = input.byte();
    u32 frames = 1 + input.byte() % 16;
    if (mode % 2 == 0)
        run_operations(input, frames);
    else
        run_strings(input, frames);
    return 0;
}
