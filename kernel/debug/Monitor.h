// Monitor.h: the kernel monitor, Mneme's first interactive shell, on the serial console.
//
// Commands register themselves next to the code they show, with MONITOR_COMMAND; like KTEST, each puts a
// pointer in a linker section (.monitor_commands), so `help` lists whatever the kernel was built with:
//
//   MONITOR_COMMAND(gdt, "gdt", "", "the live GDT decoded") { ... argc, argv ... }
#pragma once

#include "libc/base/Types.h"

struct MonitorCommand {
    const char* name;
    const char* usage;  // arguments, e.g. "VADDR"
    const char* help;   // one line
    void (*run)(int argc, char** argv);
};

namespace monitor {

// Reads and executes commands forever.
[[noreturn]] void run();
// The monitor entered from a process (the mneme_monitor system call): returns after `exit`.
void run_until_exit();
// `exit`: true if a nested monitor will return.
bool request_exit();
// Executes one command line (modified in place while splitting into words).
void execute(char* line);
// Parses "123", "0x1c0", "0xC0100000" into `out`; false if malformed.
bool parse_number(const char* text, u32& out);

}  // namespace monitor

#define MONITOR_COMMAND(identifier, name, usage, help)                                                             \
    static void monitor_fn_##identifier(int argc, char** argv);                                                    \
    static const MonitorCommand monitor_cmd_##identifier = {name, usage, help, monitor_fn_##identifier};           \
    [[gnu::used, gnu::section(".monitor_commands")]] static const MonitorCommand* const monitor_ptr_##identifier = \
        &monitor_cmd_##identifier;                                                                                 \
    static void monitor_fn_##identifier([[maybe_unused]] int argc, [[maybe_unused]] char** argv)
