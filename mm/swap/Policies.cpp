// Policies.cpp: the policies by name (see Policies.h).
#include "mm/swap/Policies.h"

#include <new>

#include "libc/base/Assert.h"
#include "mm/swap/AgingPolicy.h"
#include "mm/swap/ClockPolicy.h"
#include "mm/swap/EnhancedClockPolicy.h"
#include "mm/swap/FifoPolicy.h"
#include "mm/swap/LruPolicy.h"
#include "mm/swap/OptimalOracle.h"
#include "mm/swap/RandomPolicy.h"

namespace {

// The object first, then what its constructor takes from the rest of the memory.
template <typename Policy, typename... Extra>
size_t bytes_for(u32 frame_count, Extra... extra) {
    return add_bytes(array_bytes<Policy>(1), Policy::bytes_needed(frame_count, extra...));
}

template <typename Policy, typename... Extra>
ReplacementPolicy& build(Span<u8> memory, u32 frame_count, Extra... extra) {
    VERIFY(reinterpret_cast<uptr>(memory.data()) % kCallerMemoryAlignment == 0);
    size_t object = array_bytes<Policy>(1);
    VERIFY(object <= memory.size());
    Span<u8> state = memory.subspan(object, memory.size() - object);
    return *new (memory.data()) Policy(state, frame_count, extra...);
}

}  // namespace

const char* policy_name(PolicyKind kind) {
    switch (kind) {
    case PolicyKind::Fifo: return "fifo";
    case PolicyKind::Clock: return "clock";
    case PolicyKind::EnhancedClock: return "eclock";
    case PolicyKind::Aging: return "aging";
    case PolicyKind::Lru: return "lru";
    case PolicyKind::Random: return "random";
    }
    return "?";
}

ErrorOr<PolicyKind> parse_policy_kind(const char* name) {
    for (PolicyKind kind : kPolicyKinds)
        if (__builtin_strcmp(name, policy_name(kind)) == 0) return kind;
    return Error::Invalid;
}

size_t policy_bytes_needed(PolicyKind kind, u32 frame_count) {
    switch (kind) {
    case PolicyKind::Fifo: return bytes_for<FifoPolicy>(frame_count);
    case PolicyKind::Clock: return bytes_for<ClockPolicy>(frame_count);
    case PolicyKind::EnhancedClock: return bytes_for<EnhancedClockPolicy>(frame_count);
    case PolicyKind::Aging: return bytes_for<AgingPolicy>(frame_count);
    case PolicyKind::Lru: return bytes_for<LruPolicy>(frame_count);
    case PolicyKind::Random: return bytes_for<RandomPolicy>(frame_count);
    }
    VERIFY_NOT_REACHED();
}

ReplacementPolicy& create_policy(PolicyKind kind, Span<u8> memory, u32 frame_count, u32 seed) {
    switch (kind) {
    case PolicyKind::Fifo: return build<FifoPolicy>(memory, frame_count);
    case PolicyKind::Clock: return build<ClockPolicy>(memory, frame_count);
    case PolicyKind::EnhancedClock: return build<EnhancedClockPolicy>(memory, frame_count);
    case PolicyKind::Aging: return build<AgingPolicy>(memory, frame_count);
    case PolicyKind::Lru: return build<LruPolicy>(memory, frame_count);
    case PolicyKind::Random: return build<RandomPolicy>(memory, frame_count, seed);
    }
    VERIFY_NOT_REACHED();
}

size_t optimal_bytes_needed(u32 frame_count, Span<const PageAccess> string) {
    return bytes_for<OptimalOracle>(frame_count, string);
}

ReplacementPolicy& create_optimal(Span<u8> memory, u32 frame_count, Span<const PageAccess> string) {
    return build<OptimalOracle>(memory, frame_count, string);
}
