// FitPolicy.cpp: the placement policies' names (see FitPolicy.h).
#include "mm/arena/FitPolicy.h"

#include "libc/base/Assert.h"

const char* fit_policy_name(FitPolicy policy) {
    switch (policy) {
    case FitPolicy::First: return "first";
    case FitPolicy::Next: return "next";
    case FitPolicy::Best: return "best";
    case FitPolicy::Worst: return "worst";
    }
    VERIFY_NOT_REACHED();
}

static bool same_text(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

bool parse_fit_policy(const char* name, FitPolicy& out) {
    if (name == nullptr) return false;
    for (FitPolicy policy : kAllFitPolicies) {
        if (same_text(name, fit_policy_name(policy))) {
            out = policy;
            return true;
        }
    }
    return false;
}
