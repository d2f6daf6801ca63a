// TraceRecord.h: the allocation trace written by libmneme_malloc_trace.so and read by tools/malloc/replay.
//
// A trace file is the 8-byte magic "MNEMETR1" followed by fixed-size records in call order, one per call
// of the program (calls made while recording are not recorded). Pointers are the addresses the program saw;
// the replayer maps them to its own blocks, so the trace is independent of where memory was.
#pragma once

#include <stdint.h>

namespace Malloc {

enum class TraceOperation : uint32_t {
    Malloc = 'm',   // size -> result
    Free = 'f',     // pointer
    Calloc = 'c',   // size (count * size) -> result
    Realloc = 'r',  // pointer, size -> result
    Aligned = 'a',  // alignment, size -> result (memalign, aligned_alloc, posix_memalign, valloc)
};

struct TraceRecord {
    TraceOperation operation;
    uint32_t alignment;
    uint64_t pointer;
    uint64_t size;
    uint64_t result;
};
static_assert(sizeof(TraceRecord) == 32);

constexpr char kTraceMagic[8] = {'M', 'N', 'E', 'M', 'E', 'T', 'R', '1'};

}  // namespace Malloc
