// Monitor.cpp: the monitor's read-eval loop, line editing and command lookup.
//
// Line editing understands what a terminal sends over a serial line: Enter (CR), Backspace (DEL or BS),
// Ctrl-U (erase the line), Ctrl-C (abandon the line) and the up/down arrows (ESC [ A / ESC [ B) for the
// last few commands.
#include "kernel/debug/Monitor.h"

#include "arch/i386/Cpu.h"
#include "kernel/dev/Console.h"
#include "libc/rt/String.h"

extern "C" const MonitorCommand* const __monitor_commands_start[];
extern "C" const MonitorCommand* const __monitor_commands_end[];

namespace monitor {
namespace {

constexpr size_t kLineCapacity = 128;
constexpr size_t kHistory = 8;
constexpr int kMaxWords = 16;

char g_history[kHistory][kLineCapacity];
size_t g_history_count = 0;

void redraw(const char* line, size_t old_length) {
    kprintf("\r> %s", line);
    size_t length = strlen(line);
    for (size_t i = length; i < old_length; ++i) kprintf(" ");
    for (size_t i = length; i < old_length; ++i) kprintf("\b");
}

// Reads one line with echo. Returns false if the line was abandoned with Ctrl-C, or refused as longer than
// the monitor takes: as the shell does, it is refused whole at Enter rather than run cut short (a cut
// `rmap 0x12345` could name another frame).
bool read_line(char* line) {
    size_t length = 0;
    size_t dropped = 0;  // characters typed past the end of a full line
    size_t history_index = g_history_count;  // one past the newest
    line[0] = '\0';
    for (;;) {
        char c = console::read_char();
        if (c == '\r' || c == '\n') {
            kprintf("\n");
            if (dropped == 0) return true;
            kprintf("monitor: line too long: %u characters past the limit of %u were not taken; nothing was run\n",
                    static_cast<unsigned>(dropped), static_cast<unsigned>(kLineCapacity - 1));
            return false;
        }
        if (c == 0x03) {  // Ctrl-C
            kprintf("^C\n");
            return false;
        }
        if (c == 0x7F || c == '\b') {
            if (length > 0) {
                line[--length] = '\0';
                kprintf("\b \b");
            }
            continue;
        }
        if (c == 0x15) {  // Ctrl-U
            size_t old = length;
            length = 0;
            dropped = 0;
            line[0] = '\0';
            redraw(line, old);
            continue;
        }
        if (c == 0x1B) {  // ESC [ A/B: history
            if (console::read_char() != '[') continue;
            char arrow = console::read_char();
            size_t old = length;
            size_t oldest = g_history_count > kHistory ? g_history_count - kHistory : 0;
            if (arrow == 'A' && history_index > oldest) {
                --history_index;
            } else if (arrow == 'B' && history_index < g_history_count) {
                ++history_index;
            } else {
                continue;
            }
            if (history_index == g_history_count)
                line[0] = '\0';
            else
                strcpy(line, g_history[history_index % kHistory]);
            length = strlen(line);
            redraw(line, old);
            continue;
        }
        if (c >= ' ' && c < 0x7F && length + 1 < kLineCapacity) {
            line[length++] = c;
            line[length] = '\0';
            kprintf("%c", c);
        } else if (c >= ' ' && c < 0x7F && dropped++ == 0) {
            kprintf("\a");  // the line is full: ring once, refuse it at Enter
        }
    }
}

void remember(const char* line) {
    if (!*line) return;
    if (g_history_count > 0 && strcmp(g_history[(g_history_count - 1) % kHistory], line) == 0) return;
    strcpy(g_history[g_history_count % kHistory], line);
    ++g_history_count;
}

const MonitorCommand* find(const char* name) {
    for (const MonitorCommand* const* c = __monitor_commands_start; c < __monitor_commands_end; ++c)
        if (strcmp((*c)->name, name) == 0) return *c;
    return nullptr;
}

}  // namespace

bool parse_number(const char* text, u32& out) {
    u32 base = 10;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
    }
    if (!*text) return false;
    u64 value = 0;
    for (; *text; ++text) {
        u32 digit;
        if (*text >= '0' && *text <= '9')
            digit = static_cast<u32>(*text - '0');
        else if (base == 16 && *text >= 'a' && *text <= 'f')
            digit = static_cast<u32>(*text - 'a' + 10);
        else if (base == 16 && *text >= 'A' && *text <= 'F')
            digit = static_cast<u32>(*text - 'A' + 10);
        else if (*text == '_')
            continue;
        else
            return false;
        value = value * base + digit;
        if (value > 0xFFFFFFFFull) return false;
    }
    out = static_cast<u32>(value);
    return true;
}

void execute(char* line) {
    char* words[kMaxWords];
    int count = 0;
    for (char* p = line; *p && count < kMaxWords;) {
        while (*p == ' ') ++p;
        if (!*p) break;
        words[count++] = p;
        while (*p && *p != ' ') ++p;
        if (*p) *p++ = '\0';
    }
    if (count == 0) return;
    const MonitorCommand* command = find(words[0]);
    if (!command) {
        kprintf("unknown command '%s': type 'help' for the list of commands\n", words[0]);
        return;
    }
    command->run(count, words);
}

namespace {
bool g_nested = false;
bool g_exit_requested = false;

void loop() {
    char line[kLineCapacity];
    while (!g_exit_requested) {
        kprintf("> ");
        if (!read_line(line)) continue;
        remember(line);
        execute(line);
    }
}
}  // namespace

void run() {
    kprintf("\nMneme kernel monitor. Type 'help' for commands.\n");
    loop();
    for (;;) cpu::halt();  // not reached: `exit` only ends a nested monitor
}

void run_until_exit() {
    kprintf("\nMneme kernel monitor (entered from a process; every process is paused). 'exit' returns.\n");
    g_nested = true;
    g_exit_requested = false;
    loop();
    g_nested = false;
    g_exit_requested = false;
}

bool request_exit() {
    if (!g_nested) return false;
    g_exit_requested = true;
    return true;
}

}  // namespace monitor

MONITOR_COMMAND(exit, "exit", "", "leave the monitor (when entered from the shell's `monitor`)") {
    if (!monitor::request_exit())
        kprintf("exit: this monitor is the system's console (no process to go back to); 'halt' powers off\n");
}

MONITOR_COMMAND(help, "help", "", "list the monitor's commands") {
    kprintf("Commands:\n");
    for (const MonitorCommand* const* c = __monitor_commands_start; c < __monitor_commands_end; ++c) {
        char left[40];
        format_to_buffer(left, sizeof(left), "%s %s", (*c)->name, (*c)->usage);
        kprintf("  %-24s %s\n", left, (*c)->help);
    }
    kprintf("Keys: Backspace, Ctrl-U (erase line), Ctrl-C (cancel), Up/Down (history). Ctrl-A X quits QEMU.\n");
}
