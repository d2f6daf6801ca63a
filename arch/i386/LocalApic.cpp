// LocalApic.cpp: virtual-wire mode (see LocalApic.h). Register offsets: SDM Vol. 3A Table 10-1.
#include "arch/i386/LocalApic.h"

namespace local_apic {
namespace {
constexpr u32 kSpuriousVector = 0xF0;  // bit 8: APIC software enable; bits 7:0: the spurious vector
constexpr u32 kLvtLint0 = 0x350;
constexpr u32 kLvtLint1 = 0x360;
constexpr u32 kDeliveryExtInt = 0x700;  // LVT delivery mode 111b, unmasked, edge
constexpr u32 kDeliveryNmi = 0x400;     // LVT delivery mode 100b

void write(uptr registers, u32 offset, u32 value) { *reinterpret_cast<volatile u32*>(registers + offset) = value; }
}  // namespace

void route_pic_interrupts(uptr registers) {
    write(registers, kSpuriousVector, 0x100 | 0xFF);
    write(registers, kLvtLint0, kDeliveryExtInt);
    write(registers, kLvtLint1, kDeliveryNmi);
}

}  // namespace local_apic
