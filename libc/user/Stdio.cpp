// Stdio.cpp: buffered console streams over read(0) and write(1/2); see Stdio.h for the buffering rules.
#include "libc/user/Stdio.h"

#include "libc/base/Format.h"
#include "libc/rt/String.h"
#include "libc/user/Syscall.h"

namespace {

FILE g_stdin{0, false, false, false, 0, 0, {}};
FILE g_stdout{1, true, false, false, 0, 0, {}};
FILE g_stderr{2, false, true, false, 0, 0, {}};

// Writes all of `length` bytes (the kernel may take fewer per call); false when it reports an error.
bool write_all(int fd, const char* data, size_t length) {
    while (length > 0) {
        int written = sys_write(fd, data, length);
        if (written <= 0) return false;
        data += written;
        length -= static_cast<size_t>(written);
    }
    return true;
}

void flush_stream(FILE* stream) {
    if (stream->length == 0) return;
    if (!write_all(stream->fd, stream->buffer, stream->length)) stream->error = true;
    stream->length = 0;
}

// Appends to the buffer, flushing whenever it fills. Text larger than the buffer goes out directly.
void append(FILE* stream, const char* text, size_t length) {
    if (length >= sizeof(stream->buffer)) {
        flush_stream(stream);
        if (!write_all(stream->fd, text, length)) stream->error = true;
        return;
    }
    if (stream->length + length > sizeof(stream->buffer)) flush_stream(stream);
    memcpy(stream->buffer + stream->length, text, length);
    stream->length += length;
}

bool contains_newline(const char* text, size_t length) {
    for (size_t i = 0; i < length; ++i)
        if (text[i] == '\n') return true;
    return false;
}

// Ends one output call: the buffering rule of the stream decides whether the bytes go out now.
void finish_call(FILE* stream, bool wrote_newline) {
    if (stream->unbuffered || (stream->line_buffered && wrote_newline)) flush_stream(stream);
}

struct SinkState {
    FILE* stream;
    bool wrote_newline;
};

void stream_sink(void* context, const char* text, size_t length) {
    auto* state = static_cast<SinkState*>(context);
    append(state->stream, text, length);
    if (!state->wrote_newline && contains_newline(text, length)) state->wrote_newline = true;
}

void put_text(FILE* stream, const char* text, size_t length) {
    append(stream, text, length);
    finish_call(stream, contains_newline(text, length));
}

}  // namespace

FILE* const stdin = &g_stdin;
FILE* const stdout = &g_stdout;
FILE* const stderr = &g_stderr;

int vfprintf(FILE* stream, const char* format, va_list args) {
    SinkState state{stream, false};
    int length = vformat(stream_sink, &state, format, args);
    finish_call(stream, state.wrote_newline);
    return length;
}

int fprintf(FILE* stream, const char* format, ...) {
    va_list args;
    va_start(args, format);
    int length = vfprintf(stream, format, args);
    va_end(args);
    return length;
}

int vprintf(const char* format, va_list args) { return vfprintf(stdout, format, args); }

int printf(const char* format, ...) {
    va_list args;
    va_start(args, format);
    int length = vfprintf(stdout, format, args);
    va_end(args);
    return length;
}

int vsnprintf(char* buffer, size_t size, const char* format, va_list args) {
    return vformat_to_buffer(buffer, size, format, args);
}

int snprintf(char* buffer, size_t size, const char* format, ...) {
    va_list args;
    va_start(args, format);
    int length = vformat_to_buffer(buffer, size, format, args);
    va_end(args);
    return length;
}

int fputc(int c, FILE* stream) {
    char byte = static_cast<char>(c);
    put_text(stream, &byte, 1);
    return stream->error ? EOF : static_cast<unsigned char>(byte);
}

int putchar(int c) { return fputc(c, stdout); }

int fputs(const char* text, FILE* stream) {
    put_text(stream, text, strlen(text));
    return stream->error ? EOF : 0;
}

int puts(const char* text) {
    append(stdout, text, strlen(text));
    put_text(stdout, "\n", 1);
    return stdout->error ? EOF : 0;
}

size_t fwrite(const void* data, size_t size, size_t count, FILE* stream) {
    size_t total;
    if (__builtin_mul_overflow(size, count, &total)) return 0;
    put_text(stream, static_cast<const char*>(data), total);
    return stream->error ? 0 : count;
}

int fflush(FILE* stream) {
    if (!stream) {
        flush_all_streams();
        return 0;
    }
    flush_stream(stream);
    return stream->error ? EOF : 0;
}

void flush_all_streams() {
    flush_stream(stdout);
    flush_stream(stderr);
}

int getchar() {
    // What the program printed (a prompt without a newline) must be visible before it waits for input.
    flush_stream(stdout);
    if (g_stdin.position >= g_stdin.length) {
        int count = sys_read(0, g_stdin.buffer, sizeof(g_stdin.buffer));
        if (count <= 0) return EOF;
        g_stdin.length = static_cast<size_t>(count);
        g_stdin.position = 0;
    }
    return static_cast<unsigned char>(g_stdin.buffer[g_stdin.position++]);
}

namespace {
bool g_last_was_cr = false;
}  // namespace

int read_line(char* buffer, size_t size) {
    if (size == 0) return -1;
    size_t length = 0;
    for (;;) {
        int c = getchar();
        // A terminal that sends CR LF for Enter must not end the next line at once.
        bool after_cr = g_last_was_cr;
        g_last_was_cr = c == '\r';
        if (c == '\n' && after_cr) continue;
        if (c == EOF) {
            if (length == 0) return -1;
            break;
        }
        if (c == '\r' || c == '\n') {
            fputs("\n", stdout);
            break;
        }
        if (c == 0x7f || c == '\b') {
            if (length > 0) {
                --length;
                fputs("\b \b", stdout);  // back over the character, blank it, back again
            }
        } else if (c == 0x15) {  // Ctrl-U: erase the whole line
            for (; length > 0; --length) fputs("\b \b", stdout);
        } else if (c >= ' ' && c < 0x7f && length + 1 < size) {
            buffer[length++] = static_cast<char>(c);
            fputc(c, stdout);
        }
        fflush(stdout);
    }
    buffer[length] = '\0';
    return static_cast<int>(length);
}
