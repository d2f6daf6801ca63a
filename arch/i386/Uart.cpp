// Uart.cpp: 16550 programming (National Semiconductor PC16550D datasheet; OSDev "Serial Ports").
#include "arch/i386/Uart.h"

#include "arch/i386/Idt.h"
#include "arch/i386/Io.h"
#include "arch/i386/Pic.h"

namespace uart {
namespace {

constexpr u16 kBase = 0x3F8;
constexpr u16 kData = kBase + 0;             // DLAB=0: RBR/THR; DLAB=1: divisor low
constexpr u16 kInterruptEnable = kBase + 1;  // DLAB=1: divisor high
constexpr u16 kFifoControl = kBase + 2;
constexpr u16 kLineControl = kBase + 3;
constexpr u16 kModemControl = kBase + 4;
constexpr u16 kLineStatus = kBase + 5;
constexpr u8 kLineStatusDataReady = 0x01;
constexpr u8 kLineStatusTransmitEmpty = 0x20;
constexpr u8 kInterruptReceivedData = 0x01;  // IER bit 0, ERBFI: received data available
constexpr u8 kModemNormal = 0x0F;            // DTR, RTS, OUT1, OUT2 (OUT2 gates the IRQ line)
constexpr u8 kModemRequestToSend = 0x02;     // MCR bit 1, RTS

bool g_present = false;
void (*g_on_receive)(u8) = nullptr;
volatile bool g_receiving = true;  // false while paused: bytes stay in the UART

void on_interrupt(TrapFrame&) {
    while (g_receiving && (inb(kLineStatus) & kLineStatusDataReady)) {
        u8 byte = inb(kData);
        if (g_on_receive) g_on_receive(byte);
    }
}

}  // namespace

bool initialize() {
    outb(kInterruptEnable, 0x00);
    outb(kLineControl, 0x80);  // DLAB on
    outb(kData, 1);            // divisor 1: 115200 baud
    outb(kInterruptEnable, 0);
    outb(kLineControl, 0x03);   // 8 data bits, no parity, 1 stop bit; DLAB off
    outb(kFifoControl, 0xC7);   // FIFO on, cleared, 14-byte threshold
    outb(kModemControl, 0x1E);  // loopback mode for the self-test
    outb(kData, 0xAE);
    if (inb(kData) != 0xAE) return g_present = false;
    outb(kModemControl, kModemNormal);
    return g_present = true;
}

bool present() { return g_present; }

void write_byte(u8 byte) {
    if (!g_present) return;
    while (!(inb(kLineStatus) & kLineStatusTransmitEmpty)) {
    }
    outb(kData, byte);
}

void write(const char* text, size_t length) {
    for (size_t i = 0; i < length; ++i) {
        // A terminal wants CR LF.
        if (text[i] == '\n') write_byte('\r');
        write_byte(static_cast<u8>(text[i]));
    }
}

void enable_receive_interrupt(void (*on_receive)(u8)) {
    if (!g_present) return;
    g_on_receive = on_receive;
    idt::set_handler(idt::kIrqBase + pic::kIrqCom1, on_interrupt);
    g_receiving = true;
    outb(kInterruptEnable, kInterruptReceivedData);
    pic::unmask(pic::kIrqCom1);
}

// PC16550D datasheet, "Interrupt Enable Register" and "Modem Control Register": clearing ERBFI lowers the
// receive interrupt while data waits in the FIFO; setting it again raises the interrupt at once if data is
// there. Dropping RTS asks a sender with hardware flow control to stop; QEMU's serial device stops
// reading its character device once the FIFO is full, so nothing typed is lost there either.
void pause_receive() {
    if (!g_present) return;
    g_receiving = false;
    outb(kInterruptEnable, 0);
    outb(kModemControl, kModemNormal & ~kModemRequestToSend);
}

void resume_receive() {
    if (!g_present || g_receiving || !g_on_receive) return;
    g_receiving = true;
    outb(kModemControl, kModemNormal);
    outb(kInterruptEnable, kInterruptReceivedData);
}

bool receive_paused() { return g_present && !g_receiving; }

int poll_byte() {
    if (!g_present || !(inb(kLineStatus) & kLineStatusDataReady)) return -1;
    return inb(kData);
}

}  // namespace uart
