// Io.h: x86 port I/O (IN/OUT, Intel SDM Vol. 2A/2B). The only way Mneme talks to the PIC, PIT, UART, IDE
// controller and QEMU's debug-exit device.
#pragma once

#include "libc/base/Types.h"

inline void outb(u16 port, u8 value) { asm volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
inline void outw(u16 port, u16 value) { asm volatile("outw %0, %1" : : "a"(value), "Nd"(port)); }
inline void outl(u16 port, u32 value) { asm volatile("outl %0, %1" : : "a"(value), "Nd"(port)); }
inline u8 inb(u16 port) {
    u8 value;
    asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
inline u16 inw(u16 port) {
    u16 value;
    asm volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
inline u32 inl(u16 port) {
    u32 value;
    asm volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
// A write to an unused port takes about 1 us on the ISA bus: the classic delay between PIC commands.
inline void io_wait() { outb(0x80, 0); }

// REP INSW / REP OUTSW (Intel SDM Vol. 2A/2B, "INS" and "OUTS"): `count` 16-bit words between a port and
// memory, the way an ATA PIO data block moves. The kernel keeps EFLAGS.DF clear, so the string goes up.
inline void insw(u16 port, void* buffer, u32 count) {
    asm volatile("rep insw" : "+D"(buffer), "+c"(count) : "d"(port) : "memory");
}
inline void outsw(u16 port, const void* buffer, u32 count) {
    asm volatile("rep outsw" : "+S"(buffer), "+c"(count) : "d"(port) : "memory");
}
