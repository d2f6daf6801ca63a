// ReferenceString.h: the page reference strings that replacement policies are run on: parsed from text or
// generated from a seed (OSTEP ch. 22, 22.3 and 22.7, "Workload Examples"; Tanenbaum, Modern Operating
// Systems, 3.5.1; Belady, "A Study of Replacement Algorithms for a Virtual-Storage Computer", IBM Systems
// Journal 5(2), 1966).
//
// Text: page numbers separated by commas and/or spaces, each optionally followed by 'w' for a write:
// "1,2,3,4,1,2,5,1,2,3,4,5" or "7 0w 1 2w". A write is what sets the dirty bit, so it decides which victims
// must be written back.
//
// Generated workloads, all reproducible from their seed:
//   scan      0, 1, ..., pages - 1, and again: a sequential scan; larger than memory, every page is gone
//             by the time the scan comes back to it (under FIFO, LRU and clock)
//   uniform   each access to a page drawn uniformly from 0 .. pages - 1: no locality at all, so every
//             policy but OPT does about as well as random
//   80-20     80% of the accesses go to the first 20% of the pages (the hot set), the rest to the others:
//             the locality real programs show, where policies that watch use pull ahead
//   loop      a scan of exactly frames + 1 pages: the worst case of FIFO, LRU and clock (every access
//             misses), while OPT misses about once per `frames` accesses
// Each access is a write with probability write_percent.
//
// Pure: the caller provides the arrays; nothing allocates.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Span.h"
#include "libc/base/Types.h"

struct PageAccess {
    u32 page;
    bool write;
};

// Pages are 0 .. kMaxReferencePage - 1, so a table indexed by page (OptimalOracle's) stays small.
constexpr u32 kMaxReferencePage = 1u << 20;

// The number of accesses in `text` (runs of characters between separators), to size the array for
// parse_reference_string().
u32 count_accesses(const char* text);

// Parses `text` into `out`; returns the number of accesses. On Error::Invalid, `message` says what is wrong
// and where ("unexpected 'x' at character 5: expected a page number"): an empty string, a character that is
// neither a digit, a separator nor a 'w' after a number, a page of kMaxReferencePage or more, more accesses
// than `out` holds.
ErrorOr<u32> parse_reference_string(const char* text, Span<PageAccess> out, char* message, size_t message_size);

enum class Workload : u8 { Scan, Uniform, HotSet, Loop };
constexpr Workload kWorkloads[] = {Workload::Scan, Workload::Uniform, Workload::HotSet, Workload::Loop};

// "scan", "uniform", "80-20", "loop".
const char* workload_name(Workload workload);
// The workload with that name, or Error::Invalid.
ErrorOr<Workload> parse_workload(const char* name);

struct WorkloadSpec {
    Workload kind = Workload::HotSet;
    u32 pages = 100;  // distinct pages (scan, uniform, 80-20); 1 .. kMaxReferencePage
    u32 frames = 3;   // loop: the loop has frames + 1 pages
    u32 seed = 1;
    u32 write_percent = 25;
};

// The number of distinct pages the workload uses: spec.pages, or frames + 1 for the loop.
u32 workload_pages(const WorkloadSpec& spec);

// Fills all of `out` with the workload's accesses. Panics if workload_pages() is 0 or kMaxReferencePage or
// more.
void generate_reference_string(const WorkloadSpec& spec, Span<PageAccess> out);

// One more than the largest page in `string` (0 for an empty string): the size of a table indexed by page.
u32 page_limit(Span<const PageAccess> string);
