// Console.h: kernel output (serial COM1, mirrored to VGA text mode) and line input from the serial port.
//
// kprintf formats with the shared formatter (libc/base/Format.h). klog prefixes a line with the uptime
// and a subsystem tag, the shape of every boot message:
//   [    0.012] pmm: 126.4 MiB free in 32358 frames
#pragma once

#include <stdarg.h>

#include "libc/base/Format.h"
#include "libc/base/Types.h"

namespace console {

void initialize();
void write(const char* text, size_t length);
void write(const char* text);
// Starts receiving keystrokes (interrupt-driven) once the IDT and PIC are up.
void enable_input();
// Called (in interrupt context) after each received byte: the scheduler wakes processes reading the console.
void set_input_listener(void (*listener)());

// Ctrl-C (byte 0x03) while a foreground process is set is not input: it asks for that process to be ended.
// The receive interrupt only records the request; take_interrupt_request() hands it to the caller (the
// scheduler, at a point where ending processes is safe) and clears it: the foreground pid, or 0 if none.
void set_foreground(i32 pid);
i32 foreground();
i32 take_interrupt_request();
// Blocks (halting the CPU between interrupts) until a byte arrives.
char read_char();
// Returns a pending byte without blocking, or -1.
int try_read_char();
// The FormatSink for dump() functions that print through the console.
void sink(void* context, const char* text, size_t length);

}  // namespace console

int kprintf(const char* format, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char* format, va_list args);
void klog(const char* subsystem, const char* format, ...) __attribute__((format(printf, 2, 3)));
void kwarn(const char* subsystem, const char* format, ...) __attribute__((format(printf, 2, 3)));
