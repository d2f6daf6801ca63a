// Panic.h: stopping the kernel when an invariant breaks.
//
// mneme_panic (libc/base/Assert.h) is the entry for VERIFY failures anywhere in the kernel, including mm/
// code: it prints the message and a backtrace, then stops the machine. By default the machine leaves QEMU
// through isa-debug-exit with the "panic" status, so a test run can never mistake a panic for success and
// never hangs; `panic=halt` on the command line keeps it halted on screen instead.
#pragma once

#include "libc/base/Types.h"

namespace panic {

enum class Action { Exit, Halt };
void set_action(Action action);

// Stops the machine. The caller has already printed the report (message, registers, backtrace); this adds
// the failing test's line (if a test was running) and how the machine stops.
[[noreturn]] void stop(const char* reason);

// A hook the in-kernel test runner sets, so a panic in the middle of a test names it.
void set_current_test(const char* suite, const char* name);

bool in_progress();

}  // namespace panic
