// Format.h: the printf-style formatter shared by the kernel, user programs and the host tests.
//
// One engine, `vformat`, walks the format string and hands finished pieces of text to a sink callback, so
// the kernel console, a user program's stdout and a fixed buffer all print the same way. No floating
// point (the kernel builds with -mgeneral-regs-only) and no allocation.
//
// Conversions: %d %i %u %x %X %o %b (binary) %c %s %p %%.
// Flags: '-' (left-justify), '0' (zero-pad), '+', ' ', '#' (0x/0 prefix). Width and precision, also as '*'.
// Length modifiers: hh h l ll z t j.
#pragma once

#include <stdarg.h>

#include "libc/base/Types.h"

// Receives `length` bytes of output (not NUL-terminated). `context` is the caller's.
using FormatSink = void (*)(void* context, const char* text, size_t length);

// Returns the number of characters produced.
int vformat(FormatSink sink, void* context, const char* format, va_list args);
int format(FormatSink sink, void* context, const char* format, ...) __attribute__((format(printf, 3, 4)));

// snprintf semantics: writes at most size-1 characters plus a NUL (when size > 0) and returns the length
// the full output would have had.
int vformat_to_buffer(char* buffer, size_t size, const char* format, va_list args);
int format_to_buffer(char* buffer, size_t size, const char* format, ...) __attribute__((format(printf, 3, 4)));
