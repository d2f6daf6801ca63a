// Stdlib.h: the parts of C's <stdlib.h> and <string.h> a Mneme program needs beyond libc/rt/String.h.
//
// exit() flushes the stdio buffers and runs atexit handlers before the exit system call; abort() and a
// failed VERIFY (mneme_panic) end the program with status 134, the shell's 128 + SIGABRT, because Mneme has
// no signal a process can send itself that carries that meaning.
#pragma once

#include "libc/base/Types.h"
#include "libc/rt/String.h"

constexpr int kAbortStatus = 134;

extern "C" {

// The environment: "NAME=value" strings, NULL-terminated, as execve passed it (crt0 stores it).
extern char** environ;

[[noreturn]] void exit(int status);
[[noreturn]] void abort();
int atexit(void (*function)());

// The value of NAME in the environment, or nullptr.
char* getenv(const char* name);
// The value of NAME in an explicit environment array (for a shell building one), or nullptr.
const char* find_in_environment(const char* const* environment, const char* name);

// Decimal, or hexadecimal with 0x, or octal with 0 when base is 0; leading spaces and a sign allowed.
// *end (if not null) points after the last digit used. Overflow saturates at LONG_MAX/LONG_MIN.
long strtol(const char* text, char** end, int base);
unsigned long strtoul(const char* text, char** end, int base);
int atoi(const char* text);
// For a program's arguments: a whole decimal number from low to high into *value, or false (and *value
// untouched) for "", "12x", "-5", " 5" or one out of range, where atoi would read "abc" as 0 and go on.
bool parse_decimal(const char* text, u32 low, u32 high, u32* value);

// A short description of an errno value (positive, e.g. 14) or of a negative system-call result (-14).
const char* strerror(int error);

}  // extern "C"
