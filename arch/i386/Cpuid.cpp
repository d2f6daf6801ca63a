// Cpuid.cpp: CPUID detection and decoding.
#include "arch/i386/Cpuid.h"

#include "arch/i386/Cpu.h"

namespace cpuid {
namespace {

Info g_info;
bool g_detected = false;

void query(u32 leaf, u32& a, u32& b, u32& c, u32& d) {
    asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(0));
}

bool cpuid_supported() {
    u32 before = cpu::read_eflags();
    cpu::write_eflags(before ^ cpu::kEflagsId);
    u32 after = cpu::read_eflags();
    cpu::write_eflags(before);
    return ((before ^ after) & cpu::kEflagsId) != 0;
}

void copy_register(char* out, u32 value) {
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

const char* const kEdxNames[32] = {
    "fpu",  "vme",  "de",   "pse", "tsc",  "msr", "pae",   "mce", "cx8",   "apic",  nullptr,
    "sep",  "mtrr", "pge",  "mca", "cmov", "pat", "pse36", "psn", "clfsh", nullptr, "ds",
    "acpi", "mmx",  "fxsr", "sse", "sse2", "ss",  "htt",   "tm",  nullptr, "pbe",
};
const char* const kEcxNames[32] = {
    "sse3",         "pclmulqdq", "dtes64",  "monitor", "ds-cpl", "vmx",    "smx",    "est",
    "tm2",          "ssse3",     "cnxt-id", "sdbg",    "fma",    "cx16",   "xtpr",   "pdcm",
    nullptr,        "pcid",      "dca",     "sse4.1",  "sse4.2", "x2apic", "movbe",  "popcnt",
    "tsc-deadline", "aes",       "xsave",   "osxsave", "avx",    "f16c",   "rdrand", "hypervisor",
};

}  // namespace

const Info& detect() {
    if (g_detected) return g_info;
    g_detected = true;
    g_info.supported = cpuid_supported();
    if (!g_info.supported) return g_info;
    u32 a, b, c, d;
    query(0, a, b, c, d);
    g_info.max_leaf = a;
    copy_register(g_info.vendor, b);
    copy_register(g_info.vendor + 4, d);
    copy_register(g_info.vendor + 8, c);
    g_info.vendor[12] = '\0';
    if (g_info.max_leaf >= 1) {
        query(1, a, b, c, d);
        g_info.stepping = a & 0xF;
        g_info.model = (a >> 4) & 0xF;
        g_info.family = (a >> 8) & 0xF;
        // Extended family/model (SDM Vol. 2A, CPUID "Figure 3-6").
        if (g_info.family == 0xF) g_info.family += (a >> 20) & 0xFF;
        if (g_info.family == 0x6 || g_info.family >= 0xF) g_info.model += ((a >> 16) & 0xF) << 4;
        g_info.features_edx = d;
        g_info.features_ecx = c;
    }
    query(0x80000000, a, b, c, d);
    if (a >= 0x80000004) {
        for (u32 leaf = 0; leaf < 3; ++leaf) {
            query(0x80000002 + leaf, a, b, c, d);
            copy_register(g_info.brand + leaf * 16 + 0, a);
            copy_register(g_info.brand + leaf * 16 + 4, b);
            copy_register(g_info.brand + leaf * 16 + 8, c);
            copy_register(g_info.brand + leaf * 16 + 12, d);
        }
        g_info.brand[48] = '\0';
    }
    return g_info;
}

bool has(u32 edx_feature) { return (detect().features_edx & edx_feature) != 0; }

void print_features(FormatSink sink, void* context) {
    const Info& info = detect();
    format(sink, context, "  features:");
    int column = 12;
    auto print = [&](const char* name) {
        int length = 0;
        while (name[length]) ++length;
        if (column + length + 1 > 100) {
            format(sink, context, "\n            ");
            column = 12;
        }
        format(sink, context, " %s", name);
        column += length + 1;
    };
    for (int bit = 0; bit < 32; ++bit)
        if ((info.features_edx & (1u << bit)) && kEdxNames[bit]) print(kEdxNames[bit]);
    for (int bit = 0; bit < 32; ++bit)
        if ((info.features_ecx & (1u << bit)) && kEcxNames[bit]) print(kEcxNames[bit]);
    format(sink, context, "\n");
}

}  // namespace cpuid
