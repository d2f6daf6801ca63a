// Stdio.h: console input and output for user programs, a small subset of C's <stdio.h>.
//
// Three streams on the console file descriptors: stdin (fd 0), stdout (fd 1), stderr (fd 2). Output goes
// through the shared printf engine (libc/base/Format.h: %d %u %x %s %c %p, widths, no floating point).
//
// Buffering, and why:
//   stdout  line buffered: a line is one write system call (one kernel entry instead of one per piece),
//           and it is flushed before reading stdin, before fork and at exit, so prompts appear and no
//           buffered text is printed twice by a parent and its child;
//   stderr  one write per call: each message arrives whole and at once, even if the program dies next.
//   stdin   reads what the console has (at least one byte: the kernel blocks until one arrives) into a
//           buffer, and hands it out a byte at a time. Bytes come raw from the serial port: Enter is '\r',
//           Backspace is 0x7f; read_line() does the minimal line editing a program needs.
#pragma once

#include <stdarg.h>

#include "libc/base/Types.h"

struct FILE {
    int fd;
    bool line_buffered;  // flush when a call wrote a newline (stdout)
    bool unbuffered;     // flush at the end of every call (stderr)
    bool error;          // a write failed
    size_t length;       // output bytes waiting, or input bytes buffered
    size_t position;     // input: next byte to hand out
    char buffer[512];
};

extern FILE* const stdin;
extern FILE* const stdout;
extern FILE* const stderr;

constexpr int EOF = -1;

extern "C" {

int printf(const char* format, ...) __attribute__((format(printf, 1, 2)));
int fprintf(FILE* stream, const char* format, ...) __attribute__((format(printf, 2, 3)));
int vprintf(const char* format, va_list args);
int vfprintf(FILE* stream, const char* format, va_list args);
int snprintf(char* buffer, size_t size, const char* format, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char* buffer, size_t size, const char* format, va_list args);

int putchar(int c);
int fputc(int c, FILE* stream);
int puts(const char* text);  // text and a newline
int fputs(const char* text, FILE* stream);
size_t fwrite(const void* data, size_t size, size_t count, FILE* stream);
int fflush(FILE* stream);  // nullptr: every output stream
void flush_all_streams();

// One byte from the console (blocks until there is one); EOF when read fails or returns nothing.
int getchar();

// Reads a line from stdin into `buffer` with echo, Backspace/Delete and Ctrl-U; Enter ('\r' or '\n') ends
// it. The line is NUL-terminated without its newline. Returns its length, or -1 at end of input.
int read_line(char* buffer, size_t size);

}  // extern "C"
