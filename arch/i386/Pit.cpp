// Pit.cpp: channel 0 programming (Intel 8254 datasheet: control word 0x34 = channel 0, lobyte/hibyte,
// mode 2, binary) and the tick count.
#include "arch/i386/Pit.h"

#include "arch/i386/Atomic.h"
#include "arch/i386/Cpu.h"
#include "arch/i386/Io.h"

namespace pit {
namespace {
constexpr u16 kChannel0 = 0x40;
constexpr u16 kCommand = 0x43;
u32 g_hz = 0;
u32 g_divisor = 65536;
volatile u64 g_ticks = 0;
// Odd while tick() is changing g_ticks (a sequence lock): see ticks().
volatile u32 g_sequence = 0;

// Channel 0's current count: the latch command (channel 0, access 00) freezes it until both bytes are read.
u32 read_count() {
    outb(kCommand, 0x00);
    u32 low = inb(kChannel0);
    u32 high = inb(kChannel0);
    return (high << 8) | low;
}
}  // namespace

void initialize(u32 hz) {
    u32 divisor = (kInputHz + hz / 2) / hz;
    g_divisor = divisor > 65535 ? 65536 : divisor;
    if (divisor > 65535) divisor = 0;  // 0 means 65536
    outb(kCommand, 0x34);
    outb(kChannel0, static_cast<u8>(divisor & 0xFF));
    outb(kChannel0, static_cast<u8>(divisor >> 8));
    g_hz = hz;
}

u32 frequency() { return g_hz; }
// A 64-bit count takes two 32-bit stores and two 32-bit loads (SDM Vol. 3A 8.1.1: only aligned accesses up
// to 32 bits are atomic on a 486), so a reader could see half of an update: at the 2^32nd tick, the new low
// word beside the old high word, a count 2^32 ticks in the past. Disabling interrupts keeps CPU 0's own tick
// out of a read, not the other CPUs' reads out of CPU 0's tick. So the count is guarded by a sequence number
// (a "seqlock", as Linux's jiffies_64 on 32-bit machines): tick() makes it odd, updates the count and makes it
// even again; a reader retries until it read the count between two equal, even readings of the number. Both
// sides need only program order: x86 does not reorder stores with stores nor loads with loads (SDM Vol. 3A
// 8.2.2, as arch/i386/Atomic.h relies on too), and the compiler keeps volatile accesses in order.
void tick() {
    g_sequence = g_sequence + 1;
    g_ticks = g_ticks + 1;
    g_sequence = g_sequence + 1;
}
u64 ticks() {
    for (;;) {
        u32 before = g_sequence;
        u64 value = g_ticks;
        if (!(before & 1) && g_sequence == before) return value;
        atomic::pause();
    }
}
u64 uptime_ms() { return g_hz ? (ticks() * 1000) / g_hz : 0; }

u64 tsc_per_ms() {
    static u64 s_per_ms = 0;
    if (s_per_ms || !g_hz || !cpu::interrupts_enabled()) return s_per_ms;
    constexpr u64 kTicks = 2;
    u64 edge = ticks();
    while (ticks() == edge) cpu::halt();  // start on a tick's edge
    u64 start_tsc = cpu::read_tsc(), start = ticks();
    while (ticks() < start + kTicks) cpu::halt();
    u64 per_ms = (cpu::read_tsc() - start_tsc) * g_hz / (kTicks * 1000);
    s_per_ms = per_ms ? per_ms : 1;
    return s_per_ms;
}

Stopwatch::Stopwatch() : m_last(read_count()) {}

u32 Stopwatch::elapsed_us() {
    u32 now = read_count();
    // Counting down: a count above the last one means it reloaded from the divisor in between.
    m_counts += now <= m_last ? m_last - now : m_last + (g_divisor - now);
    m_last = now;
    return static_cast<u32>(m_counts * 1000000 / kInputHz);
}

void delay_us(u32 us) {
    Stopwatch watch;
    while (watch.elapsed_us() < us) {
    }
}

}  // namespace pit
