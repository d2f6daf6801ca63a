// LocalApic.h: the local APIC, for the 8259 PIC's interrupts and for starting the other processors.
//
// Mneme takes its interrupts from the two 8259s. On a CPU with a local APIC those arrive on the APIC's
// LINT0 pin, and they reach the core only if LINT0 is programmed as ExtINT ("virtual wire mode", Intel
// MultiProcessor Specification 1.4, 3.6.2.2; SDM Vol. 3A 10.5.1). SeaBIOS programs it so; qboot leaves LINT0
// masked, and every IRQ would be lost. route_pic_interrupts() does it itself.
//
// Every CPU has its own local APIC at the same physical address (SDM Vol. 3A 10.4.1): a CPU reaching the
// register page always reaches its own. The interrupt command register (ICR, 10.6.1) sends inter-processor
// interrupts, INIT and STARTUP among them, which is how the bootstrap processor wakes the others (8.4.4.1).
#pragma once

#include "libc/base/Types.h"

namespace local_apic {

constexpr u32 kDefaultPhysicalBase = 0xFEE00000;

// `registers` is the virtual address of the APIC's 4 KiB register page, mapped uncached.
void route_pic_interrupts(uptr registers);

// The APIC id of the CPU that reads it (ID register bits 31:24, SDM Vol. 3A 10.4.6).
u8 id(uptr registers);
// The version register (10.4.8): bits 7:0 the version (0x0X a discrete 82489DX, 0x1X an APIC on the chip),
// bits 23:16 the number of LVT entries minus one. Whether `value` reads like an APIC's rather than like
// nothing at that address (all ones on a real bus, zero in QEMU).
u32 version(uptr registers);
constexpr bool looks_like_an_apic(u32 value) {
    u32 last_lvt = (value >> 16) & 0xFF;
    return (value & 0xFF) <= 0x1F && last_lvt >= 2 && last_lvt <= 7;
}
// Software-enables this CPU's APIC (spurious-interrupt vector register = 0x1FF, 10.9) and masks its timer,
// LINT0 and LINT1: an application processor takes no interrupt from them.
void enable_quietly(uptr registers);

// INIT to one APIC id (ICR 0x00004500: delivery mode INIT, level assert, physical destination, 10.6.1).
// Returns false if the APIC still showed "send pending" after `spins` polls.
bool send_init(uptr registers, u8 apic_id, u32 spins);
// STARTUP (SIPI) to one APIC id: the target starts in real mode at vector * 4 KiB (ICR 0x000046VV, 8.4.4.1).
bool send_startup(uptr registers, u8 apic_id, u8 vector, u32 spins);

// A fixed-delivery interrupt with `vector` to one APIC id (ICR 0x000040VV: delivery mode 000b, physical
// destination, edge; SDM Vol. 3A 10.6.1): how one CPU interrupts another (a wake-up, a TLB shootdown).
bool send_ipi(uptr registers, u8 apic_id, u8 vector, u32 spins);
// End of interrupt for a vector the local APIC delivered (its timer, an IPI): write 0 to the EOI register
// (10.8.5). The 8259's IRQs, which arrive through LINT0 as ExtINT, are acknowledged at the PIC instead.
void end_of_interrupt(uptr registers);

// The APIC timer (10.5.4) counts its current-count register down from the initial count at the bus clock
// divided by 16. start_timer_counting() sets it counting down once from 0xFFFFFFFF, masked, so the caller
// can measure how far it runs in a known time (timer_counted() after); start_periodic_timer() makes it
// interrupt with `vector` every `initial_count` counts.
void start_timer_counting(uptr registers);
u32 timer_counted(uptr registers);
void start_periodic_timer(uptr registers, u8 vector, u32 initial_count);

}  // namespace local_apic
