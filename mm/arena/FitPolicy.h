// FitPolicy.h: the four placement policies of the arena (ArenaMap) and their names.
//
// Which hole a new segment goes into, when several are big enough (OSTEP, "Free-Space Management", and
// Tanenbaum, "Modern Operating Systems", 3.2.3 "Managing Free Memory"):
//
//   first   the lowest-addressed hole that fits
//   next    the first hole that fits, searching from where the last placement ended and wrapping around at
//           the top of the arena (Knuth's roving pointer, TAOCP vol. 1, 2.5)
//   best    the smallest hole that fits; among equals the lowest address
//   worst   the largest hole; among equals the lowest address
//
// The names and the tie rules are those of the user malloc's fit policies (libc/malloc/Policy.h), so the
// same word means the same choice in both places; the arena's policies are a separate type because mm/ may
// include only libc/base/ (tests/scripts/layers.sh).
#pragma once

#include "libc/base/Types.h"

enum class FitPolicy : u8 { First, Next, Best, Worst };

constexpr u32 kFitPolicyCount = 4;
constexpr FitPolicy kAllFitPolicies[kFitPolicyCount] = {FitPolicy::First, FitPolicy::Next, FitPolicy::Best,
                                                        FitPolicy::Worst};

// "first", "next", "best" or "worst".
const char* fit_policy_name(FitPolicy policy);
// Accepts exactly the names above. false for anything else (null included), and `out` is left untouched.
bool parse_fit_policy(const char* name, FitPolicy& out);
