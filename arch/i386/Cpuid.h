// Cpuid.h: what the processor says about itself (Intel SDM Vol. 2A, CPUID; Vol. 3A 2.1 for the feature
// bits that matter to memory management: PSE, PGE, PAE, PAT).
//
// A 486 may lack CPUID altogether: its presence is detected by toggling EFLAGS.ID (SDM Vol. 1 20.1.2).
#pragma once

#include "libc/base/Format.h"
#include "libc/base/Types.h"

namespace cpuid {

struct Info {
    bool supported = false;
    char vendor[13] = "";
    char brand[49] = "";
    u32 max_leaf = 0;
    u32 family = 0, model = 0, stepping = 0;
    u32 features_edx = 0;  // leaf 1 EDX
    u32 features_ecx = 0;  // leaf 1 ECX
};

// Leaf 1 EDX bits (SDM Vol. 2A Table 3-11).
constexpr u32 kFpu = 1u << 0;
constexpr u32 kPse = 1u << 3;  // 4 MiB pages
constexpr u32 kTsc = 1u << 4;
constexpr u32 kPae = 1u << 6;
constexpr u32 kApic = 1u << 9;
constexpr u32 kPge = 1u << 13;  // global pages
constexpr u32 kCmov = 1u << 15;
constexpr u32 kPat = 1u << 16;

const Info& detect();
bool has(u32 edx_feature);
// Prints every leaf-1 EDX/ECX feature the CPU reports, by name.
void print_features(FormatSink sink, void* context);

}  // namespace cpuid
