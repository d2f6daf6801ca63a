// SwapTestSupport.h: test-only helpers for mm/swap, shared by the host tests and the fuzzer (no gtest in
// here).
//
// Memory for the classes that take it from the caller, policies that own their memory, reference strings
// from text, and trace(): a run of a policy over a string written as one token per access, so a test can
// compare it with a sequence worked out by hand:
//   h     a hit
//   m     a miss that filled a free frame
//   m4    a miss that evicted page 4
//   m4*   a miss that evicted page 4, which was dirty and written back
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mm/swap/OptimalOracle.h"
#include "mm/swap/Policies.h"
#include "mm/swap/ReferenceString.h"
#include "mm/swap/Simulator.h"
#include "mm/swap/SwapSlotMap.h"

namespace swap_test {

// A FormatSink that appends to a std::string.
inline void string_sink(void* context, const char* text, size_t length) {
    static_cast<std::string*>(context)->append(text, length);
}

// check_invariants() with its message: "" when they hold.
template <typename Checked>
std::string invariants(const Checked& checked) {
    std::string message;
    if (checked.check_invariants(string_sink, &message)) return "";
    return message.empty() ? "check_invariants() failed without a message" : message;
}

// Memory as CallerMemory.h wants it: 8-byte aligned.
class Buffer {
public:
    explicit Buffer(size_t bytes) : m_words(bytes / sizeof(u64) + 1), m_bytes(bytes) {}
    Span<u8> span() { return Span<u8>(reinterpret_cast<u8*>(m_words.data()), m_bytes); }

private:
    std::vector<u64> m_words;
    size_t m_bytes;
};

struct OwnedSlotMap {
    explicit OwnedSlotMap(u32 slots) : buffer(SwapSlotMap::bytes_needed(slots)), map(buffer.span(), slots) {}
    Buffer buffer;
    SwapSlotMap map;
};

// A policy (online or OPT) and the memory it lives in.
class OwnedPolicy {
public:
    static std::unique_ptr<OwnedPolicy> online(PolicyKind kind, u32 frames, u32 seed = 1) {
        auto owned = std::unique_ptr<OwnedPolicy>(new OwnedPolicy(policy_bytes_needed(kind, frames)));
        owned->m_policy = &create_policy(kind, owned->m_buffer.span(), frames, seed);
        return owned;
    }
    // `string` must outlive the policy.
    static std::unique_ptr<OwnedPolicy> optimal(u32 frames, const std::vector<PageAccess>& string) {
        Span<const PageAccess> view(string.data(), string.size());
        auto owned = std::unique_ptr<OwnedPolicy>(new OwnedPolicy(optimal_bytes_needed(frames, view)));
        owned->m_policy = &create_optimal(owned->m_buffer.span(), frames, view);
        return owned;
    }
    ReplacementPolicy& policy() { return *m_policy; }

private:
    explicit OwnedPolicy(size_t bytes) : m_buffer(bytes) {}
    Buffer m_buffer;
    ReplacementPolicy* m_policy = nullptr;
};

// Every online kind, then OPT, for "every policy" loops.
inline std::unique_ptr<OwnedPolicy> make_policy(const std::string& name, u32 frames,
                                                const std::vector<PageAccess>& string, u32 seed = 1) {
    if (name == "opt") return OwnedPolicy::optimal(frames, string);
    auto kind = parse_policy_kind(name.c_str());
    return kind.is_error() ? nullptr : OwnedPolicy::online(kind.value(), frames, seed);
}

inline const std::vector<std::string>& all_policy_names() {
    static const std::vector<std::string> names = {"fifo", "clock", "eclock", "aging", "lru", "random", "opt"};
    return names;
}

// The string's accesses, or an empty vector when it does not parse (message in `error`).
inline std::vector<PageAccess> parse(const char* text, std::string* error = nullptr) {
    std::vector<PageAccess> accesses(count_accesses(text));
    char message[160] = "";
    auto parsed =
        parse_reference_string(text, Span<PageAccess>(accesses.data(), accesses.size()), message, sizeof(message));
    if (parsed.is_error()) {
        if (error) *error = message;
        return {};
    }
    accesses.resize(parsed.value());
    return accesses;
}

inline std::vector<PageAccess> generate(const WorkloadSpec& spec, u32 length) {
    std::vector<PageAccess> accesses(length);
    generate_reference_string(spec, Span<PageAccess>(accesses.data(), accesses.size()));
    return accesses;
}

// Hand-set accessed, dirty and pinned bits, for driving a policy directly (without a Simulator).
class FakeFrames final : public FrameAccessor {
public:
    explicit FakeFrames(u32 frames) : m_accessed(frames), m_dirty(frames), m_pinned(frames) {}
    bool accessed(u32 frame) const override { return m_accessed.at(frame); }
    bool dirty(u32 frame) const override { return m_dirty.at(frame); }
    void clear_accessed(u32 frame) override { m_accessed.at(frame) = false; }
    bool evictable(u32 frame) const override { return !m_pinned.at(frame); }

    void set(u32 frame, bool accessed, bool dirty) {
        m_accessed.at(frame) = accessed;
        m_dirty.at(frame) = dirty;
    }
    void pin(u32 frame, bool pinned) { m_pinned.at(frame) = pinned; }

private:
    std::vector<bool> m_accessed;
    std::vector<bool> m_dirty;
    std::vector<bool> m_pinned;
};

// The simulated machine with its memory.
struct OwnedSimulator {
    OwnedSimulator(ReplacementPolicy& policy, u32 frames, u32 tick_interval = Simulator::kDefaultTickInterval)
        : buffer(Simulator::bytes_needed(frames)), simulator(buffer.span(), frames, policy, tick_interval) {}
    Buffer buffer;
    Simulator simulator;
};

inline std::string token(const SimulatedAccess& access) {
    if (access.hit) return "h";
    if (access.victim_page == SimulatedAccess::kNoPage) return "m";
    return "m" + std::to_string(access.victim_page) + (access.wrote_back ? "*" : "");
}

struct Trace {
    std::string tokens;  // "m m m m1 ..."
    u32 misses = 0;
    u32 write_backs = 0;
    std::string problem;  // "" unless an access failed or an invariant broke
};

// Runs `policy` (new, over `frames` frames) on `string`, checking the invariants after every access.
inline Trace trace(ReplacementPolicy& policy, u32 frames, const std::vector<PageAccess>& string,
                   u32 tick_interval = Simulator::kDefaultTickInterval) {
    OwnedSimulator machine(policy, frames, tick_interval);
    Trace result;
    for (size_t i = 0; i < string.size(); ++i) {
        auto access = machine.simulator.access(string[i]);
        if (access.is_error()) {
            result.problem = "access " + std::to_string(i) + " failed: " + error_string(access.error());
            break;
        }
        result.tokens += (i ? " " : "") + token(access.value());
        std::string broken = invariants(machine.simulator);
        if (!broken.empty()) {
            result.problem = "after access " + std::to_string(i) + ": " + broken;
            break;
        }
    }
    result.misses = machine.simulator.misses();
    result.write_backs = machine.simulator.write_backs();
    return result;
}

// The misses of policy `name` with `frames` frames on `string`, without the per-step checks.
inline u32 faults(const std::string& name, u32 frames, const std::vector<PageAccess>& string, u32 seed = 1) {
    auto owned = make_policy(name, frames, string, seed);
    OwnedSimulator machine(owned->policy(), frames);
    machine.simulator.run(Span<const PageAccess>(string.data(), string.size()));
    return machine.simulator.misses();
}

}  // namespace swap_test
