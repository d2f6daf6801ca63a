// Policy.cpp: policy names.
#include "libc/malloc/Policy.h"

namespace Malloc {

namespace {

bool equal(const char* a, const char* b) {
    while (*a && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

}  // namespace

const char* policy_name(Policy policy) {
    switch (policy) {
    case Policy::Segregated: return "segregated";
    case Policy::First: return "first";
    case Policy::Next: return "next";
    case Policy::Best: return "best";
    case Policy::Worst: return "worst";
    case Policy::Buddy: return "buddy";
    }
    return "?";
}

bool parse_policy(const char* name, Policy& policy) {
    if (!name) return false;
    if (equal(name, "default")) {
        policy = kDefaultPolicy;
        return true;
    }
    for (Policy candidate : kAllPolicies) {
        if (equal(name, policy_name(candidate))) {
            policy = candidate;
            return true;
        }
    }
    return false;
}

const char* policy_name_list() { return "segregated, first, next, best, worst, buddy"; }

}  // namespace Malloc
