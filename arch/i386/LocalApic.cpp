// LocalApic.cpp: virtual-wire mode and inter-processor interrupts (see LocalApic.h). Register offsets:
// SDM Vol. 3A Table 10-1; the ICR: 10.6.1, Figure 10-12.
#include "arch/i386/LocalApic.h"

namespace local_apic {
namespace {
constexpr u32 kId = 0x020;
constexpr u32 kVersion = 0x030;
constexpr u32 kSpuriousVector = 0x0F0;  // bit 8: APIC software enable; bits 7:0: the spurious vector
constexpr u32 kIcrLow = 0x300;          // writing it sends the interrupt
constexpr u32 kIcrHigh = 0x310;         // bits 31:24: the destination APIC id
constexpr u32 kEoi = 0x0B0;
constexpr u32 kLvtTimer = 0x320;
constexpr u32 kTimerInitialCount = 0x380;
constexpr u32 kTimerCurrentCount = 0x390;
constexpr u32 kTimerDivide = 0x3E0;
constexpr u32 kDivideBy16 = 0x3;           // divide configuration 0011b (SDM Vol. 3A Figure 10-10)
constexpr u32 kTimerPeriodic = 1u << 17;  // LVT timer mode 01b (Figure 10-8)
constexpr u32 kLvtLint0 = 0x350;
constexpr u32 kLvtLint1 = 0x360;
constexpr u32 kDeliveryExtInt = 0x700;  // LVT delivery mode 111b, unmasked, edge
constexpr u32 kDeliveryNmi = 0x400;     // LVT delivery mode 100b
constexpr u32 kLvtMasked = 1u << 16;
constexpr u32 kIcrInit = 0x00004500;     // delivery mode 101b (INIT), level assert (bit 14), edge
constexpr u32 kIcrStartup = 0x00004600;  // delivery mode 110b (STARTUP), level assert; bits 7:0 the vector
constexpr u32 kIcrFixed = 0x00004000;    // delivery mode 000b (fixed), level assert; bits 7:0 the vector
constexpr u32 kIcrSendPending = 1u << 12;

void write(uptr registers, u32 offset, u32 value) { *reinterpret_cast<volatile u32*>(registers + offset) = value; }
u32 read(uptr registers, u32 offset) { return *reinterpret_cast<volatile u32*>(registers + offset); }

bool send(uptr registers, u8 apic_id, u32 command, u32 spins) {
    write(registers, kIcrHigh, u32{apic_id} << 24);
    write(registers, kIcrLow, command);
    for (u32 i = 0; i < spins; ++i)
        if (!(read(registers, kIcrLow) & kIcrSendPending)) return true;
    return false;
}
}  // namespace

void route_pic_interrupts(uptr registers) {
    write(registers, kSpuriousVector, 0x100 | 0xFF);
    write(registers, kLvtLint0, kDeliveryExtInt);
    write(registers, kLvtLint1, kDeliveryNmi);
}

u8 id(uptr registers) { return static_cast<u8>(read(registers, kId) >> 24); }

u32 version(uptr registers) { return read(registers, kVersion); }

// QEMU's APIC reads 0x00050014 (version 0x14, six LVT entries); an APIC on the chip has a version 0x1X and an
// 82489DX 0x0X, each with at least three LVT entries. Nothing there reads as all ones on a real bus and as zero
// in QEMU.
static_assert(looks_like_an_apic(0x00050014) && looks_like_an_apic(0x00040011) && looks_like_an_apic(0x00020003));
static_assert(!looks_like_an_apic(0xFFFFFFFF) && !looks_like_an_apic(0));

void enable_quietly(uptr registers) {
    write(registers, kSpuriousVector, 0x100 | 0xFF);
    write(registers, kLvtTimer, kLvtMasked);
    write(registers, kLvtLint0, kLvtMasked);
    write(registers, kLvtLint1, kLvtMasked);
}

bool send_init(uptr registers, u8 apic_id, u32 spins) { return send(registers, apic_id, kIcrInit, spins); }

bool send_startup(uptr registers, u8 apic_id, u8 vector, u32 spins) {
    return send(registers, apic_id, kIcrStartup | vector, spins);
}

bool send_ipi(uptr registers, u8 apic_id, u8 vector, u32 spins) {
    return send(registers, apic_id, kIcrFixed | vector, spins);
}

void end_of_interrupt(uptr registers) { write(registers, kEoi, 0); }

void start_timer_counting(uptr registers) {
    write(registers, kTimerDivide, kDivideBy16);
    write(registers, kLvtTimer, kLvtMasked);
    write(registers, kTimerInitialCount, 0xFFFFFFFF);
}

u32 timer_counted(uptr registers) { return 0xFFFFFFFF - read(registers, kTimerCurrentCount); }

void start_periodic_timer(uptr registers, u8 vector, u32 initial_count) {
    write(registers, kTimerDivide, kDivideBy16);
    write(registers, kLvtTimer, kTimerPeriodic | vector);
    write(registers, kTimerInitialCount, initial_count);
}

}  // namespace local_apic
