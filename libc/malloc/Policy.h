// Policy.h: the placement policies a Heap can run, and their names.
//
// The name is what a user types: `MNEME_MALLOC=best prog` at the Mneme shell, or
// `MNEME_MALLOC=best LD_PRELOAD=build/host/libmneme_malloc.so prog` on the host.
//
//   segregated  the fast default: size classes, per-class pages with their own free lists (simple
//               segregated storage in Wilson's taxonomy; SegregatedAllocator)
//   first       address-ordered first fit     | boundary tags, splitting and immediate coalescing
//   next        next fit (roving pointer)       | (FitAllocator); the free blocks indexed by balanced trees
//   best        best fit (lowest address wins)  | (FitIndex), so each search is O(log n); while the heap
//   worst       worst fit                       | has few free blocks, over the list (faster there)
//   buddy       binary buddy system (BuddyAllocator)
//   first-list  the same four policies over one address-ordered free list, searched from the start:
//   next-list   O(n), the version a lab writes. They pick exactly the blocks the indexed versions pick
//   best-list   (tests/host/MallocFitEqualityTest.cpp replays traces through both and compares every
//   worst-list  address)
#pragma once

#include "libc/base/Types.h"

namespace Malloc {

enum class Policy : u8 { Segregated, First, Next, Best, Worst, Buddy, FirstList, NextList, BestList, WorstList };

constexpr Policy kDefaultPolicy = Policy::Segregated;
constexpr size_t kPolicyCount = 10;
constexpr Policy kAllPolicies[kPolicyCount] = {
    Policy::Segregated, Policy::First,     Policy::Next,     Policy::Best,     Policy::Worst,
    Policy::Buddy,      Policy::FirstList, Policy::NextList, Policy::BestList, Policy::WorstList};

const char* policy_name(Policy policy);

// First, next, best and worst fit, indexed or over the list: the policies FitAllocator runs.
constexpr bool is_fit_policy(Policy policy) { return policy != Policy::Segregated && policy != Policy::Buddy; }
constexpr bool is_list_policy(Policy policy) { return policy >= Policy::FirstList; }
// first-list -> first: the indexed version of a list policy (any other policy is itself).
constexpr Policy indexed_version(Policy policy) {
    switch (policy) {
    case Policy::FirstList: return Policy::First;
    case Policy::NextList: return Policy::Next;
    case Policy::BestList: return Policy::Best;
    case Policy::WorstList: return Policy::Worst;
    default: return policy;
    }
}
// first -> first-list: the list version of an indexed fit policy (any other policy is itself).
constexpr Policy list_version(Policy policy) {
    switch (policy) {
    case Policy::First: return Policy::FirstList;
    case Policy::Next: return Policy::NextList;
    case Policy::Best: return Policy::BestList;
    case Policy::Worst: return Policy::WorstList;
    default: return policy;
    }
}

// Accepts the names above (and "default" for the default). false: unknown name, `policy` untouched.
bool parse_policy(const char* name, Policy& policy);

// "segregated, first, next, best, worst, buddy, first-list, ...": for the warning about an unknown name.
const char* policy_name_list();

}  // namespace Malloc
