// Pic.cpp: 8259A initialization, masking and end-of-interrupt (Intel 8259A datasheet).
#include "arch/i386/Pic.h"

#include "arch/i386/Io.h"

namespace pic {
namespace {

constexpr u16 kMasterCommand = 0x20, kMasterData = 0x21;
constexpr u16 kSlaveCommand = 0xA0, kSlaveData = 0xA1;
constexpr u8 kIcw1Init = 0x10, kIcw1NeedIcw4 = 0x01;
constexpr u8 kIcw4Mode8086 = 0x01;
constexpr u8 kEndOfInterrupt = 0x20;
constexpr u8 kReadIsr = 0x0B;

u16 g_mask = 0xFFFF;

void write_mask() {
    outb(kMasterData, static_cast<u8>(g_mask & 0xFF));
    outb(kSlaveData, static_cast<u8>(g_mask >> 8));
}

}  // namespace

void initialize(u8 vector_base) {
    outb(kMasterCommand, kIcw1Init | kIcw1NeedIcw4);
    io_wait();
    outb(kSlaveCommand, kIcw1Init | kIcw1NeedIcw4);
    io_wait();
    outb(kMasterData, vector_base);  // ICW2: vector offsets
    io_wait();
    outb(kSlaveData, static_cast<u8>(vector_base + 8));
    io_wait();
    outb(kMasterData, 1 << kIrqCascade);  // ICW3: slave on IRQ 2
    io_wait();
    outb(kSlaveData, kIrqCascade);  // ICW3: slave's cascade identity
    io_wait();
    outb(kMasterData, kIcw4Mode8086);
    io_wait();
    outb(kSlaveData, kIcw4Mode8086);
    io_wait();
    g_mask = 0xFFFF & ~(1u << kIrqCascade);
    write_mask();
}

void unmask(u8 irq) {
    g_mask &= static_cast<u16>(~(1u << irq));
    write_mask();
}

void mask(u8 irq) {
    g_mask |= static_cast<u16>(1u << irq);
    write_mask();
}

u16 masked_lines() { return g_mask; }

void end_of_interrupt(u8 irq) {
    if (irq >= 8) outb(kSlaveCommand, kEndOfInterrupt);
    outb(kMasterCommand, kEndOfInterrupt);
}

bool is_spurious(u8 irq) {
    if (irq != 7 && irq != 15) return false;
    u16 port = irq == 7 ? kMasterCommand : kSlaveCommand;
    outb(port, kReadIsr);
    if (inb(port) & 0x80) return false;
    // A spurious IRQ 15 still went through the master's cascade line, which needs its EOI.
    if (irq == 15) outb(kMasterCommand, kEndOfInterrupt);
    return true;
}

const char* irq_name(u8 irq) {
    static const char* const kNames[16] = {
        "IRQ 0 (PIT timer)",
        "IRQ 1 (keyboard)",
        "IRQ 2 (cascade)",
        "IRQ 3 (COM2)",
        "IRQ 4 (COM1)",
        "IRQ 5",
        "IRQ 6 (floppy)",
        "IRQ 7 (LPT1/spurious)",
        "IRQ 8 (RTC)",
        "IRQ 9",
        "IRQ 10",
        "IRQ 11",
        "IRQ 12 (PS/2 mouse)",
        "IRQ 13 (FPU)",
        "IRQ 14 (primary ATA)",
        "IRQ 15 (secondary ATA)",
    };
    return irq < 16 ? kNames[irq] : "IRQ ?";
}

}  // namespace pic
