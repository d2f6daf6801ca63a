// Power.h: leaving the machine: QEMU's isa-debug-exit device, Bochs' shutdown port, ACPI power-off, reset.
#pragma once

#include "libc/base/Types.h"

namespace power {

// Exit codes written to isa-debug-exit (QEMU then exits with status (code << 1) | 1). A triple fault
// under -no-reboot exits with 0 and a timeout with 124, so neither can pass for success.
enum class ExitCode : u8 {
    TestsPassed = 0x10,  // QEMU status 33
    TestsFailed = 0x11,  // QEMU status 35
    Panic = 0x12,        // QEMU status 37
};

// Writes `code` to the isa-debug-exit port. Returns only if the device is absent (real hardware, GRUB
// without QEMU).
void qemu_exit(ExitCode code);
// Writes "Shutdown" to port 0x8900, which ends a Bochs simulation (Bochs has no isa-debug-exit, so a test
// run under Bochs leaves its verdict in the serial log and then calls this). Returns when not under Bochs.
// Callers try qemu_exit first and print what the log must show before calling this.
void bochs_shutdown();
// ACPI S5 through QEMU's PIIX4 power-management port; returns if that does nothing.
void power_off();
// Pulses the CPU reset line through the keyboard controller; falls back to a triple fault.
[[noreturn]] void reboot();
// Interrupts off, halt forever.
[[noreturn]] void halt_forever();

}  // namespace power
