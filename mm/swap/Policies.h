// Policies.h: every online replacement policy by name, built in memory the caller provides, for a boot
// option (`swap=clock`), the replay tool and the tests.
//
//   fifo     FifoPolicy           first in, first out
//   clock    ClockPolicy          second chance (Corbató's clock)
//   eclock   EnhancedClockPolicy  second chance over the (A, D) classes: clean pages first
//   aging    AgingPolicy          8-bit counters fed by the A bit on every tick
//   lru      LruPolicy            exact LRU (needs every reference: recorded strings only)
//   random   RandomPolicy         seeded random choice
//
// and Belady's OPT (OptimalOracle), which is built from the whole reference string, with its own pair of
// functions at the end.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Span.h"
#include "libc/base/Types.h"
#include "mm/swap/ReferenceString.h"
#include "mm/swap/ReplacementPolicy.h"

enum class PolicyKind : u8 { Fifo, Clock, EnhancedClock, Aging, Lru, Random };
constexpr PolicyKind kPolicyKinds[] = {PolicyKind::Fifo,  PolicyKind::Clock, PolicyKind::EnhancedClock,
                                       PolicyKind::Aging, PolicyKind::Lru,   PolicyKind::Random};

// The policy's name(): "fifo", "clock", "eclock", "aging", "lru", "random".
const char* policy_name(PolicyKind kind);
// The kind with that name, or Error::Invalid.
ErrorOr<PolicyKind> parse_policy_kind(const char* name);

// The bytes create_policy() needs: the policy object and its per-frame state.
size_t policy_bytes_needed(PolicyKind kind, u32 frame_count);
// Builds the policy at the start of `memory` (8-byte aligned, policy_bytes_needed() bytes), its state after
// it. `seed` is used by the random policy only. The policy lives as long as the memory; nothing to destroy.
ReplacementPolicy& create_policy(PolicyKind kind, Span<u8> memory, u32 frame_count, u32 seed);

// The same for OPT over `string`, which must outlive the oracle.
size_t optimal_bytes_needed(u32 frame_count, Span<const PageAccess> string);
ReplacementPolicy& create_optimal(Span<u8> memory, u32 frame_count, Span<const PageAccess> string);
