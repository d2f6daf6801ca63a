// Integrity.cpp: misuse reports.
#include "libc/malloc/Integrity.h"

#include "libc/base/Assert.h"

namespace Malloc {

void report_misuse(const char* operation, const void* pointer, const char* problem) {
    mneme_panic("malloc: %s(%p): %s", operation, pointer, problem);
}

void report_corruption(const char* what, const void* where) {
    mneme_panic("malloc: heap corruption at %p: %s", where, what);
}

}  // namespace Malloc
