// Power.cpp: isa-debug-exit (QEMU docs, "-device isa-debug-exit"), ACPI power-off on QEMU's i440FX/PIIX4
// (PM1a control at 0x604, SLP_TYPa=0 | SLP_EN; OSDev "Shutdown"), and the 8042 reset pulse (command 0xFE).
#include "arch/i386/Power.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Io.h"

namespace power {

void qemu_exit(ExitCode code) { outl(0xF4, static_cast<u32>(code)); }

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
