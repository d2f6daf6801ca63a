// HostPanic.cpp: the host build's mneme_panic (see libc/base/Assert.h).
//
// Formats into a stack buffer and writes with write(2): no malloc, so it is safe inside an allocator, in
// the LD_PRELOAD malloc and in death tests. Ends with abort() so a death test sees SIGABRT.
#include <stdlib.h>
#include <unistd.h>

#include "libc/base/Assert.h"
#include "libc/base/Format.h"

void mneme_panic(const char* fmt, ...) {
    char message[512];
    va_list args;
    va_start(args, fmt);
    int n = vformat_to_buffer(message, sizeof(message) - 1, fmt, args);
    va_end(args);
    size_t length =
        n < 0 ? 0 : (static_cast<size_t>(n) < sizeof(message) - 2 ? static_cast<size_t>(n) : sizeof(message) - 2);
    message[length++] = '\n';
    static const char prefix[] = "mneme: panic: ";
    ssize_t ignored = write(2, prefix, sizeof(prefix) - 1);
    ignored = write(2, message, length);
    (void)ignored;
    abort();
}
