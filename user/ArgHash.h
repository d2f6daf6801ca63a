// ArgHash.h: a hash of an argument list and an environment (FNV-1a over each string and its NUL, with the
// counts), computed by usertests before execve and by argcheck after it: equal hashes mean the kernel copied
// every byte of every string, in order, and lost or added none.
#pragma once

#include "libc/base/Types.h"

inline u32 argv_hash(int count, const char* const* arguments, const char* const* environment) {
    u32 hash = 2166136261u;
    auto mix = [&hash](u8 byte) { hash = (hash ^ byte) * 16777619u; };
    auto mix_string = [&mix](const char* text) {
        for (; *text; ++text) mix(static_cast<u8>(*text));
        mix(0);
    };
    mix(static_cast<u8>(count));
    for (int i = 0; i < count; ++i) mix_string(arguments[i]);
    int environment_count = 0;
    for (; environment && environment[environment_count]; ++environment_count)
        mix_string(environment[environment_count]);
    mix(static_cast<u8>(environment_count));
    return hash;
}
