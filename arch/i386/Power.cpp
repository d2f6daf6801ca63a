// Power.cpp: isa-debug-exit (QEMU docs, "-device isa-debug-exit"), Bochs' shutdown port, ACPI power-off on
// QEMU's i440FX/PIIX4 (PM1a control at 0x604, SLP_TYPa=0 | SLP_EN; OSDev "Shutdown"), and the 8042 reset
// pulse (command 0xFE).
//
// Bochs' shutdown port: Bochs' "unmapped" I/O device (iodev/unmapped.cc in the Bochs sources; the Bochs
// user documentation lists port 0x8900 among the ports it answers) watches byte writes to port 0x8900 and,
// once they spell "Shutdown", ends the simulation. On QEMU's PC machine nothing is mapped at 0x8900 (a
// write to an unassigned port is dropped; QEMU versions that still emulated the Bochs BIOS ports shut down
// the same way, which is what the caller wants anyway), and on a real PC the port is unassigned on the ISA
// bus, so the write is harmless. Callers reach it only after qemu_exit returned: no isa-debug-exit device.
#include "arch/i386/Power.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Io.h"

namespace power {

void qemu_exit(ExitCode code) { outl(0xF4, static_cast<u32>(code)); }

void bochs_shutdown() {
    for (const char* c = "Shutdown"; *c; ++c) outb(0x8900, static_cast<u8>(*c));
}

void power_off() {
    outw(0x604, 0x2000);   // QEMU >= 2.0 PIIX4 PM
    outw(0xB004, 0x2000);  // older QEMU and Bochs
}

void reboot() {
    cpu::disable_interrupts();
    // Wait for the controller's input buffer to drain, then pulse reset.
    for (int i = 0; i < 100000 && (inb(0x64) & 0x02); ++i) {
    }
    outb(0x64, 0xFE);
    // Still here: load an empty IDT and raise an exception, which triple-faults into a reset.
    cpu::DescriptorTablePointer empty{0, 0};
    asm volatile("lidt %0; int3" : : "m"(empty));
    halt_forever();
}

void halt_forever() {
    for (;;) {
        cpu::disable_interrupts();
        cpu::halt();
    }
}

}  // namespace power
