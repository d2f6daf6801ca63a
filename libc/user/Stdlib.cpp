// Stdlib.cpp: exit, abort, atexit, the environment, number parsing, strerror, and the user-space panic hook.
#include "libc/user/Stdlib.h"

#include <limits.h>

#include "libc/base/Assert.h"
#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/user/Stdio.h"
#include "libc/user/Syscall.h"

char** environ = nullptr;

namespace {

constexpr int kMaxExitHandlers = 32;
void (*g_exit_handlers[kMaxExitHandlers])();
int g_exit_handler_count = 0;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

// The common part of strtol/strtoul: sign, base prefix, digits. `magnitude` saturates at `limit`.
const char* parse_unsigned(const char* text, int base, unsigned long limit, unsigned long& magnitude, bool& negative,
                           bool& any_digits) {
    while (is_space(*text)) ++text;
    negative = false;
    if (*text == '+' || *text == '-') negative = *text++ == '-';
    if ((base == 0 || base == 16) && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') &&
        digit_value(text[2]) < 16) {
        text += 2;
        base = 16;
    } else if (base == 0) {
        base = text[0] == '0' ? 8 : 10;
    }
    magnitude = 0;
    any_digits = false;
    for (;; ++text) {
        int digit = digit_value(*text);
        if (digit >= base) break;
        any_digits = true;
        unsigned long next;
        if (__builtin_mul_overflow(magnitude, static_cast<unsigned long>(base), &next) ||
            __builtin_add_overflow(next, static_cast<unsigned long>(digit), &next) || next > limit)
            magnitude = limit;
        else
            magnitude = next;
    }
    return text;
}

}  // namespace

int atexit(void (*function)()) {
    if (g_exit_handler_count == kMaxExitHandlers) return -1;
    g_exit_handlers[g_exit_handler_count++] = function;
    return 0;
}

void exit(int status) {
    // Last registered runs first (C17 7.22.4.4); a handler that calls exit does not rerun the others.
    while (g_exit_handler_count > 0) g_exit_handlers[--g_exit_handler_count]();
    flush_all_streams();
    sys_exit(status);
}

void abort() {
    flush_all_streams();
    sys_exit(kAbortStatus);
}

const char* find_in_environment(const char* const* environment, const char* name) {
    if (!environment || !name) return nullptr;
    size_t length = strlen(name);
    for (; *environment; ++environment) {
        if (strncmp(*environment, name, length) == 0 && (*environment)[length] == '=') return *environment + length + 1;
    }
    return nullptr;
}

char* getenv(const char* name) {
    return const_cast<char*>(find_in_environment(const_cast<const char* const*>(environ), name));
}

long strtol(const char* text, char** end, int base) {
    unsigned long magnitude;
    bool negative, any_digits;
    // One more for the negative side: LONG_MIN's magnitude is LONG_MAX + 1.
    unsigned long limit = static_cast<unsigned long>(LONG_MAX) + 1;
    const char* stop = parse_unsigned(text, base, limit, magnitude, negative, any_digits);
    if (end) *end = const_cast<char*>(any_digits ? stop : text);
    if (negative) return magnitude == limit ? LONG_MIN : -static_cast<long>(magnitude);
    return magnitude >= limit ? LONG_MAX : static_cast<long>(magnitude);
}

unsigned long strtoul(const char* text, char** end, int base) {
    unsigned long magnitude;
    bool negative, any_digits;
    const char* stop = parse_unsigned(text, base, ULONG_MAX, magnitude, negative, any_digits);
    if (end) *end = const_cast<char*>(any_digits ? stop : text);
    return negative ? -magnitude : magnitude;
}

int atoi(const char* text) { return static_cast<int>(strtol(text, nullptr, 10)); }

bool parse_decimal(const char* text, u32 low, u32 high, u32* value) {
    if (digit_value(*text) >= 10) return false;  // no sign, no space: the word is the number
    unsigned long magnitude;
    bool negative, any_digits;
    const char* stop = parse_unsigned(text, 10, ULONG_MAX, magnitude, negative, any_digits);
    if (*stop != '\0' || magnitude < low || magnitude > high) return false;
    *value = static_cast<u32>(magnitude);
    return true;
}

const char* strerror(int error) { return error_string(static_cast<Error>(error < 0 ? -error : error)); }

// The user-space half of VERIFY (libc/base/Assert.h): the message on stderr in one write, then the same
// status as abort().
void mneme_panic(const char* format, ...) {
    char message[256];
    int length = format_to_buffer(message, sizeof(message), "panic: ");
    va_list args;
    va_start(args, format);
    vformat_to_buffer(message + length, sizeof(message) - static_cast<size_t>(length) - 1, format, args);
    va_end(args);
    fflush(stdout);
    fprintf(stderr, "%s\n", message);
    sys_exit(kAbortStatus);
}
