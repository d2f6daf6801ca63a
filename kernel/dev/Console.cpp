// Console.cpp: the kernel console. Output goes to COM1 and the VGA text buffer; input is a ring buffer
// filled by the COM1 receive interrupt and drained by read_char(). When the ring is full the UART is paused
// (flow control, arch/i386/Uart.h): keystrokes wait rather than being lost.
//
// Interrupt rules: the receive interrupt is the ring's only producer and writes g_interrupt_request; process
// context reads the ring and changes the foreground with interrupts disabled (InterruptGuard).
//
// Output goes under one spinlock, g_output_lock (kernel/sync/SpinLock.h), so that lines from different CPUs
// never interleave mid-line: kprintf holds it for its whole text, klog and kwarn for the whole line (prefix,
// message, newline), write() for each line of what it is given (a long write from a process lets interrupts
// in between lines). With one CPU it changes nothing but keeping interrupts off while a line is printed;
// interrupt handlers print nothing anyway (a trap or panic report aside). It ranks last (kernel/sync/
// LockRanks.h): any code may print while holding another lock. While a panic is in progress the lock is not
// taken: the CPU that panicked may hold it already, and its report must come out regardless.
//
// Lock order in this file: g_output_lock only (input uses InterruptGuard).
#include "kernel/dev/Console.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Pit.h"
#include "arch/i386/Uart.h"
#include "arch/i386/Vga.h"
#include "kernel/boot/Layout.h"
#include "kernel/debug/Panic.h"
#include "kernel/sync/LockRanks.h"
#include "kernel/sync/LockRegistry.h"
#include "kernel/sync/SpinLock.h"

namespace console {
namespace {

constexpr size_t kInputCapacity = 256;
char g_input[kInputCapacity];
volatile size_t g_input_head = 0;  // next byte to read
volatile size_t g_input_tail = 0;  // next slot to fill
void (*g_listener)() = nullptr;
i32 g_foreground = 0;
volatile i32 g_interrupt_request = 0;

constexpr u8 kCtrlC = 0x03;

sync::SpinLock g_output_lock("console output", lock_rank::kConsoleOutput);
MNEME_REGISTER_LOCK(g_output_lock);

void write_unlocked(const char* text, size_t length) {
    uart::write(text, length);
    vga::write(text, length);
}

void unlocked_sink(void*, const char* text, size_t length) { write_unlocked(text, length); }

}  // namespace

// Holds the output lock for its lifetime, unless a panic is in progress (see the top of the file) or this
// CPU holds it already: klog's line section encloses the kprintf calls that print its pieces.
class OutputSection {
public:
    OutputSection() : m_locked(!panic::in_progress() && !g_output_lock.held_by_this_cpu()) {
        if (m_locked) g_output_lock.lock();
    }
    ~OutputSection() {
        if (m_locked) g_output_lock.unlock();
    }
    OutputSection(const OutputSection&) = delete;
    OutputSection& operator=(const OutputSection&) = delete;

private:
    bool m_locked;
};

namespace {

void on_receive(u8 byte) {
    if (byte == kCtrlC && g_foreground > 0) {
        g_interrupt_request = g_foreground;
        if (g_listener) g_listener();  // whoever waits gets to run, so the request is seen soon
        return;
    }
    // The ring has room: it pauses the UART when it fills (below), and the UART hands over nothing while
    // paused.
    g_input[g_input_tail] = static_cast<char>(byte);
    g_input_tail = (g_input_tail + 1) % kInputCapacity;
    // Full now: the next keystrokes wait in the UART (and in QEMU) until the reader makes room, rather
    // than being dropped. A dropped Enter would leave the shell waiting on a line the user thinks is sent.
    if ((g_input_tail + 1) % kInputCapacity == g_input_head) uart::pause_receive();
    if (g_listener) g_listener();
}

// Takes the next byte from the ring, or -1 if it is empty; interrupts must be off. Taking makes room, so a
// paused UART receives again.
int take_input() {
    int c = -1;
    if (g_input_head != g_input_tail) {
        c = static_cast<unsigned char>(g_input[g_input_head]);
        g_input_head = (g_input_head + 1) % kInputCapacity;
    }
    if (uart::receive_paused()) uart::resume_receive();
    return c;
}

}  // namespace

void initialize() {
    uart::initialize();
    vga::initialize(layout::physical_to_virtual(0xB8000));
}

void write(const char* text, size_t length) {
    while (length > 0) {
        size_t line = 0;
        while (line < length && text[line++] != '\n') {
        }
        OutputSection section;
        write_unlocked(text, line);
        text += line;
        length -= line;
    }
}

void write(const char* text) {
    size_t n = 0;
    while (text[n]) ++n;
    write(text, n);
}

void sink(void*, const char* text, size_t length) { write(text, length); }

void enable_input() { uart::enable_receive_interrupt(on_receive); }
void set_input_listener(void (*listener)()) { g_listener = listener; }

void set_foreground(i32 pid) {
    cpu::InterruptGuard guard;
    g_foreground = pid;
    g_interrupt_request = 0;  // a Ctrl-C meant for the previous foreground process is void
}

i32 foreground() { return g_foreground; }

i32 take_interrupt_request() {
    cpu::InterruptGuard guard;
    i32 pid = g_interrupt_request;
    g_interrupt_request = 0;
    return pid;
}

int try_read_char() {
    cpu::InterruptGuard guard;
    int c = take_input();
    // Before interrupts are on (or with the IRQ masked) fall back to polling the UART.
    return c >= 0 ? c : uart::poll_byte();
}

char read_char() {
    for (;;) {
        cpu::disable_interrupts();
        int c = take_input();
        if (c >= 0) {
            cpu::enable_interrupts();
            return static_cast<char>(c);
        }
        int polled = uart::poll_byte();
        if (polled >= 0) {
            cpu::enable_interrupts();
            return static_cast<char>(polled);
        }
        // Atomically re-enable interrupts and wait: the next keystroke (or tick) wakes us.
        cpu::enable_interrupts_and_halt();
    }
}

}  // namespace console

int kvprintf(const char* format, va_list args) {
    console::OutputSection section;
    return vformat(console::unlocked_sink, nullptr, format, args);
}

int kprintf(const char* format, ...) {
    va_list args;
    va_start(args, format);
    int n = kvprintf(format, args);
    va_end(args);
    return n;
}

namespace {
void log_prefix(const char* subsystem) {
    u64 ms = pit::uptime_ms();
    kprintf("[%5u.%03u] %s: ", static_cast<unsigned>(ms / 1000), static_cast<unsigned>(ms % 1000), subsystem);
}
}  // namespace

void klog(const char* subsystem, const char* format, ...) {
    console::OutputSection section;  // the whole line; kprintf's sections inside take nothing more
    log_prefix(subsystem);
    va_list args;
    va_start(args, format);
    kvprintf(format, args);
    va_end(args);
    kprintf("\n");
}

void kwarn(const char* subsystem, const char* format, ...) {
    console::OutputSection section;
    log_prefix(subsystem);
    kprintf("warning: ");
    va_list args;
    va_start(args, format);
    kvprintf(format, args);
    va_end(args);
    kprintf("\n");
}
