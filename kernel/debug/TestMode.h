// TestMode.h: `test=...` on the command line: run the in-kernel tests, then the user-level suite (init
// --test, which runs /bin/usertests), and leave QEMU with one verdict for both (arch/i386/Power.h's exit codes).
//
// The selection is a comma-separated list: `all` (everything); `kernel` (every in-kernel suite); kernel
// suites or suite.test names (kernel/debug/KTest.h); `user` or `user.NAME` for the user-level suite
// (tests/user/usertests/).
#pragma once

#include "libc/base/Types.h"

namespace test_mode {

// Runs the kernel part now; returns true when init must be started in test mode (the caller does that and
// runs the scheduler). When the run is already over it does not return: QEMU has been told to exit (or,
// without isa-debug-exit, the verdict is printed, Bochs is told to shut down and the CPU halts).
bool run_kernel_part(const char* selection);
// The argv word init gets: "--test" or "--test=user.a,user.b".
const char* init_argument();
// Called by init (mneme_test_exit): prints the combined summary and exits QEMU; without an isa-debug-exit
// device, prints the verdict, ends Bochs or halts.
[[noreturn]] void finish_user_tests(u32 passed, u32 failed);
// Called when the scheduler ran out of processes before init reported.
[[noreturn]] void user_tests_vanished();

}  // namespace test_mode
