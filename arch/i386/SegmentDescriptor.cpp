// SegmentDescriptor.cpp: human-readable descriptor types for the monitor.
#include "arch/i386/SegmentDescriptor.h"

const char* SegmentDescriptor::type_name() const {
    if (is_null()) return "null";
    if (is_code_or_data()) {
        static const char* const kNames[8] = {
            "data R", "data RW", "data R expand-down", "data RW expand-down",
            "code X", "code RX", "code X conforming",  "code RX conforming",
        };
        return kNames[(type() >> 1) & 7];
    }
    switch (type()) {
    case 0x1: return "TSS (16-bit, available)";
    case 0x2: return "LDT";
    case 0x3: return "TSS (16-bit, busy)";
    case 0x4: return "call gate (16-bit)";
    case 0x5: return "task gate";
    case 0x9: return "TSS (32-bit, available)";
    case 0xB: return "TSS (32-bit, busy)";
    case 0xC: return "call gate (32-bit)";
    case 0xE: return "interrupt gate (32-bit)";
    case 0xF: return "trap gate (32-bit)";
    }
    return "reserved";
}
