// LocalApic.h: just enough of the local APIC to let the 8259 PIC's interrupts through.
//
// Mneme takes its interrupts from the two 8259s. On a CPU with a local APIC those arrive on the APIC's
// LINT0 pin, and they reach the core only if LINT0 is programmed as ExtINT ("virtual wire mode", Intel
// MultiProcessor Specification 1.4, 3.6.2.2; SDM Vol. 3A 10.5.1). SeaBIOS programs it so; qboot leaves LINT0
// masked, and every IRQ would be lost. route_pic_interrupts() does it itself.
#pragma once

#include "libc/base/Types.h"

namespace local_apic {

constexpr u32 kDefaultPhysicalBase = 0xFEE00000;

// `registers` is the virtual address of the APIC's 4 KiB register page, mapped uncached.
void route_pic_interrupts(uptr registers);

}  // namespace local_apic
