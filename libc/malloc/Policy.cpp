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
    case Policy::FirstList: return "first-list";
    case Policy::NextList: return "next-list";
    case Policy::BestList: return "best-list";
    case Policy::WorstList: return "worst-list";
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

const char* policy_name_list() {
    return "segregated, first, next, best, worst, buddy, first-list, next-list, best-list, worst-list";
}

}  // namespace Malloc
