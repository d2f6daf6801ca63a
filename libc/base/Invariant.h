// Invariant.h: reporting a broken invariant from a check_invariants() function.
//
// Every allocator and table in mm/ has a check_invariants(FormatSink sink, void* context) that re-derives
// its invariants from scratch and returns false at the first violation, printing one line through the sink
// when there is one. This is the line: "invariant violated: <message>". A check reads
//   if (...) return invariant_violation(sink, context, "buddy: frame %#x ...", ...);
#pragma once

#include <stdarg.h>

#include "libc/base/Format.h"

__attribute__((format(printf, 3, 4))) inline bool invariant_violation(FormatSink sink, void* context,
                                                                      const char* format_string, ...) {
    if (sink == nullptr) return false;
    va_list args;
    va_start(args, format_string);
    ::format(sink, context, "invariant violated: ");
    vformat(sink, context, format_string, args);
    ::format(sink, context, "\n");
    va_end(args);
    return false;
}
