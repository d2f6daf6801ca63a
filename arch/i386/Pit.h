// Pit.h: the 8253/8254 programmable interval timer, channel 0 on IRQ 0: the kernel's clock tick.
#pragma once

#include "libc/base/Types.h"

namespace pit {

constexpr u32 kInputHz = 1193182;  // the PIT's crystal: 14.31818 MHz / 12
constexpr u32 kMinHz = 19;         // the 16-bit divisor's limit (1193182 / 65536 rounds up to 19)
constexpr u32 kMaxHz = 10000;      // faster ticks only burn time in an emulator

// Programs channel 0 as a rate generator (mode 2) at `hz`, which the caller has validated.
void initialize(u32 hz);
u32 frequency();
// Called by the IRQ 0 handler.
void tick();
u64 ticks();
u64 uptime_ms();
// Time-stamp counter ticks per millisecond, measured against two timer ticks on the first call (interrupts
// must be on then; 0 if they are off). For timing work done with interrupts off, when ticks stand still.
u64 tsc_per_ms();

// Microseconds from the PIT's own count, for delays shorter than a tick and on CPUs without a TSC (-cpu 486):
// channel 0 counts the 1.193182 MHz input down from its divisor and reloads (mode 2); a Stopwatch latches
// the count (8254 "Counter Latch Command") and adds up how far it moved. It works with interrupts on or
// off, but must be read at least once per tick period (1/hz), or a whole period goes unseen.
class Stopwatch {
public:
    Stopwatch();
    u32 elapsed_us();

private:
    u32 m_last;
    u64 m_counts = 0;
};
// Busy-waits `us` microseconds by a Stopwatch.
void delay_us(u32 us);

}  // namespace pit
