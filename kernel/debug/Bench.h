// Bench.h: in-kernel benchmarks, counted in instructions.
//
// `bench=kernel` or `bench=all` on the command line runs them after boot. Under QEMU's `-icount shift=0`
// every guest instruction advances the virtual clock by one nanosecond, and the TSC follows that clock, so
// an RDTSC difference counts the instructions executed, the same on every run and every host
// (tests/bench/qemu-instructions.sh checks the calibration). `bench=all` then runs /bin/ubench for the
// user-level figures (system calls, context switches, faults). Each figure is one line:
//   bench: buddy order-0 allocate+free pair: 62 instructions (10000 iterations)
#pragma once

namespace bench {
// Runs the kernel part; returns true when /bin/ubench should run next.
bool run_kernel(const char* selection);
// The program to run alone afterwards when run_kernel returned true, as its argv: ubench, or `spin -t 4 150`
// for bench=smp.
const char* const* user_program(const char* selection);
}  // namespace bench
