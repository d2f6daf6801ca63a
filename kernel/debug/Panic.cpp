// Panic.cpp: the kernel's mneme_panic and the machine stop.
#include "kernel/debug/Panic.h"

#include "arch/i386/Cpu.h"
#include "arch/i386/Power.h"
#include "kernel/debug/Symbols.h"
#include "kernel/debug/Traps.h"
#include "kernel/dev/Console.h"
#include "libc/base/Assert.h"

namespace panic {
namespace {
Action g_action = Action::Exit;
bool g_in_progress = false;
const char* g_test_suite = nullptr;
const char* g_test_name = nullptr;
}  // namespace

void set_action(Action action) { g_action = action; }
bool in_progress() { return g_in_progress; }

void set_current_test(const char* suite, const char* name) {
    g_test_suite = suite;
    g_test_name = name;
}

void stop(const char* reason) {
    cpu::disable_interrupts();
    // A fault the monitor raised on purpose has had its report; it resumes at its recovery point instead
    // (traps::run_recoverable), leaving no panic in progress behind.
    g_in_progress = false;
    traps::resume_if_recoverable();
    g_in_progress = true;
    if (g_test_name) kprintf("FAIL %s.%s: kernel panic: %s\n", g_test_suite, g_test_name, reason);
    if (g_action == Action::Exit) {
        kprintf(
            "*** The machine is stopped (QEMU exits with status 37; boot with panic=halt to keep it "
            "on screen).\n");
        power::qemu_exit(power::ExitCode::Panic);
        power::bochs_shutdown();  // no isa-debug-exit: end a Bochs run too (the message above is its verdict)
    }
    kprintf("*** The machine is halted.\n");
    power::halt_forever();
}

}  // namespace panic

void mneme_panic(const char* format, ...) {
    cpu::disable_interrupts();
    char message[256];
    va_list args;
    va_start(args, format);
    vformat_to_buffer(message, sizeof(message), format, args);
    va_end(args);
    if (panic::g_in_progress) {
        // A panic while panicking (e.g. a fault during the backtrace): stop without more output.
        kprintf("*** Nested panic: %s\n", message);
        panic::stop(message);
    }
    panic::g_in_progress = true;
    kprintf("\n*** Kernel panic: %s\n", message);
    // Start at our caller: [ebp] is its frame, [ebp+4] the return address into it.
    const u32* frame = reinterpret_cast<const u32*>(cpu::read_ebp());
    symbols::print_backtrace(frame[1], frame[0]);
    panic::stop(message);
}
