// Statistics.cpp: malloc_stats() output.
#include "libc/malloc/Statistics.h"

namespace Malloc {

void print_statistics(const Statistics& s, FormatSink sink, void* context) {
    u32 fragmentation = s.fragmentation_permille();
    format(sink, context, "mneme malloc: policy %s\n", policy_name(s.policy));
    format(sink, context, "  heap           %12zu bytes\n", s.heap_bytes);
    format(sink, context, "  live           %12zu bytes in %zu blocks%s\n", s.live_bytes, s.live_blocks,
           s.live_bytes_exact ? "" : " (usable bytes: no per-block sizes)");
    format(sink, context, "  free           %12zu bytes in %zu blocks, largest %zu\n", s.free_bytes, s.free_blocks,
           s.largest_free_block);
    format(sink, context, "  fragmentation  %10u.%u%% external (1 - largest free / free)\n", fragmentation / 10,
           fragmentation % 10);
    format(sink, context, "  overhead       %12zu bytes headers, %zu alignment, %zu metadata\n", s.header_bytes,
           s.alignment_bytes, s.metadata_bytes);
    format(sink, context, "  mapped         %12zu bytes (%zu requested), %zu cached for reuse\n", s.mapped_bytes,
           s.mapped_live_bytes, s.cached_mapped_bytes);
}

}  // namespace Malloc
