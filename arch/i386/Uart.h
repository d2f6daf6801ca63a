// Uart.h: the 16550 UART on COM1 (I/O 0x3F8, IRQ 4): Mneme's console, 115200 baud, 8N1.
//
// Output is polled (wait for the transmit holding register to empty). Input arrives by interrupt
// (received-data-available) and is handed to a callback, so a waiting reader can halt the CPU. A reader
// whose buffer is full pauses receiving rather than drop a byte.
#pragma once

#include "libc/base/Types.h"

namespace uart {

// Programs COM1; returns false if no UART answers (its loopback test fails), in which case every other
// call is a no-op.
bool initialize();
bool present();
void write_byte(u8 byte);
void write(const char* text, size_t length);
// Enables the receive interrupt; each received byte is passed to `on_receive` in interrupt context.
void enable_receive_interrupt(void (*on_receive)(u8));
// Flow control for a reader that has no room: pause_receive() leaves further bytes in the UART (and the
// sender's hands) instead of taking them; resume_receive() takes them again. Pausing is safe in the
// receive callback: the interrupt handler stops before the next byte.
void pause_receive();
void resume_receive();
bool receive_paused();
// Reads a pending byte without interrupts (for panics and early boot); -1 when none.
int poll_byte();

}  // namespace uart
