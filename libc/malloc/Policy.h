// Policy.h: the placement policies a Heap can run, and their names.
//
// The name is what a user types: `MNEME_MALLOC=best prog` at the Mneme shell, or
// `MNEME_MALLOC=best LD_PRELOAD=build/host/libmneme_malloc.so prog` on the host.
//
//   segregated  the fast default: size classes, per-class pages with their own free lists (simple
//               segregated storage in Wilson's taxonomy; SegregatedAllocator)
//   first       address-ordered first fit     |
//   next        next fit (roving pointer)       | one free list embedded in the free blocks, boundary tags,
//   best        best fit (lowest address wins)  | splitting and immediate coalescing (FitAllocator)
//   worst       worst fit                       |
//   buddy       binary buddy system (BuddyAllocator)
#pragma once

#include "libc/base/Types.h"

namespace Malloc {

enum class Policy : u8 { Segregated, First, Next, Best, Worst, Buddy };

constexpr Policy kDefaultPolicy = Policy::Segregated;
constexpr size_t kPolicyCount = 6;
constexpr Policy kAllPolicies[kPolicyCount] = {Policy::Segregated, Policy::First, Policy::Next,
                                               Policy::Best,       Policy::Worst, Policy::Buddy};

const char* policy_name(Policy policy);

// Accepts the names above (and "default" for the default). false: unknown name, `policy` untouched.
bool parse_policy(const char* name, Policy& policy);

// "segregated, first, next, best, worst, buddy": for the warning about an unknown name.
const char* policy_name_list();

}  // namespace Malloc
