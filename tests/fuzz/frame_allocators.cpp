// frame_allocators.cpp: libFuzzer target for the buddy and bitmap frame allocators.
//
// The input is a memory map followed by operations; the same stream drives both allocators, each beside its
// own FrameAllocModel shadow. After every operation: check_invariants(), free_frames() against the model, and
// the model's checks (no overlap, alignment, zone, DMA kept for last, failure only when nothing fits, and for
// the bitmap exactly the first fit). At the end everything is freed and each allocator must be back to its
// initial free blocks (buddy) or runs (bitmap). Any violation aborts with a message.
//
// Layout: byte 0 picks the first pfn (near 0 or just below the 16 MiB DMA limit), bytes 1-2 the frame count
// (1..2048), byte 3 the number of ranges (1..6), then 4 bytes per range (start and length in 512-byte units,
// so edges are unaligned), then 2 bytes per operation.
#include <stdio.h>
#include <stdlib.h>

#include <string>

#include "tests/fuzz/FuzzInput.h"
#include "tests/host/FrameAllocModel.h"

using namespace frame_alloc_test;

namespace {

constexpr size_t kMaxOperations = 1500;

void require(const std::string& problem, const char* allocator, const char* what) {
    if (problem.empty()) return;
    fprintf(stderr, "%s: %s: %s\n", allocator, what, problem.c_str());
    abort();
}

void require_invariants(const FrameAllocator& allocator) {
    require(invariants(allocator), allocator.name(), "check_invariants");
}

void require_equal(u32 actual, u32 expected, const char* allocator, const char* what) {
    if (actual == expected) return;
    fprintf(stderr, "%s: %s: %u, expected %u\n", allocator, what, actual, expected);
    abort();
}

// One allocator and its shadow. Both allocators are driven through the same calls; the bitmap additionally
// gets run allocations and must return exactly the first fit.
template <typename Owned>
struct Subject {
    Owned owned;
    FrameAllocModel model;
    bool is_bitmap;

    Subject(u32 first_pfn, u32 end_pfn, bool bitmap)
        : owned(first_pfn, end_pfn), model(first_pfn, end_pfn), is_bitmap(bitmap) {}
    FrameAllocator& allocator() { return owned.allocator; }

    void add_range(u64 start, u64 end) {
        auto [first, last] = model.frames_in(start, end);
        bool overlaps = false;
        for (u32 pfn = first; pfn < last; ++pfn) overlaps |= model.frame(pfn) != FrameAllocModel::Frame::Unmanaged;
        auto added = allocator().add_free_range(start, end);
        if (overlaps) {
            if (!added.is_error() || added.error() != Error::Exists)
                require("overlap not refused", allocator().name(), "add_free_range");
            return;
        }
        if (added.is_error()) require("refused a fresh range", allocator().name(), "add_free_range");
        require_equal(added.value(), model.add_range(start, end), allocator().name(), "frames added");
    }

    void allocate(u32 count, u32 align, Zone zone, const ErrorOr<u32>& result) {
        require(model.outcome(result, count, align, zone, is_bitmap), allocator().name(), "allocate");
    }

    void check() {
        require_equal(allocator().free_frames(), model.free_frames(), allocator().name(), "free_frames");
        require_equal(allocator().total_frames(), model.total_frames(), allocator().name(), "total_frames");
        require_invariants(allocator());
    }
};

void free_block(Subject<OwnedBuddy>& buddy, u32 pfn, u32 count, u8) {
    buddy.owned.allocator.free(pfn, static_cast<unsigned>(__builtin_ctz(count)));
    require(buddy.model.freed(pfn), "buddy", "free");
}

void free_block(Subject<OwnedBitmap>& bitmap, u32 pfn, u32 count, u8 choice) {
    bool is_block = is_power_of_two(count) && count <= kMaxBlockFrames && pfn % count == 0;
    if (is_block && (choice & 1))
        bitmap.owned.allocator.free(pfn, static_cast<unsigned>(__builtin_ctz(count)));
    else
        bitmap.owned.allocator.free_run(pfn, count);
    require(bitmap.model.freed(pfn), "bitmap", "free");
}

template <typename S>
void free_live(S& subject, u8 choice) {
    if (subject.model.live().empty()) return;
    auto [pfn, count] = subject.model.live_block(choice * 2654435761u);
    free_block(subject, pfn, count, choice);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size) {
    FuzzInput input(data, size);
    u8 base = input.byte();
    u32 first_pfn = base < 128 ? base : kDmaLimitPfn - 1024 + (base - 128) * 8u;
    u32 frame_count = 1 + (input.half() & 2047u);
    u32 end_pfn = first_pfn + frame_count;
    Subject<OwnedBuddy> buddy(first_pfn, end_pfn, false);
    Subject<OwnedBitmap> bitmap(first_pfn, end_pfn, true);

    unsigned range_count = 1 + input.byte() % 6;
    u64 origin = first_pfn >= 16 ? pfn_to_address(first_pfn - 16) : 0;
    for (unsigned i = 0; i < range_count; ++i) {
        u64 start = origin + static_cast<u64>(input.half()) * 512;
        u64 end = start + static_cast<u64>(input.half()) * 512;
        buddy.add_range(start, end);
        bitmap.add_range(start, end);
    }
    buddy.check();
    bitmap.check();
    const std::vector<std::pair<u32, unsigned>> initial_blocks = free_blocks_of(buddy.owned.allocator);
    const std::vector<std::pair<u32, u32>> initial_runs = free_runs_of(bitmap.owned.allocator);

    for (size_t step = 0; step < kMaxOperations && !input.empty(); ++step) {
        u8 op = input.byte();
        u8 argument = input.byte();
        Zone zone = (op & 0x80) ? Zone::Dma : Zone::Any;
        switch (op & 3) {
        case 0:
        case 1: {
            // Orders from the argument's trailing zeros: small orders are the common case.
            unsigned order = argument == 0 ? kMaxOrder : static_cast<unsigned>(__builtin_ctz(argument));
            if ((op & 0x40) && argument != 0) order = argument % (kMaxOrder + 2);  // up to kMaxOrder + 1: invalid
            if (order > kMaxOrder) {
                if (buddy.owned.allocator.allocate(order, zone).error() != Error::Invalid)
                    require("accepted", "buddy", "order 11");
                if (bitmap.owned.allocator.allocate(order, zone).error() != Error::Invalid)
                    require("accepted", "bitmap", "order 11");
                break;
            }
            buddy.allocate(1u << order, 1u << order, zone, buddy.owned.allocator.allocate(order, zone));
            bitmap.allocate(1u << order, 1u << order, zone, bitmap.owned.allocator.allocate(order, zone));
            break;
        }
        case 2:
            free_live(buddy, argument);
            free_live(bitmap, argument);
            break;
        case 3: {
            u32 count = 1 + argument % 96;
            bitmap.allocate(count, 1, zone, bitmap.owned.allocator.allocate_run(count, zone));
            break;
        }
        }
        buddy.check();
        bitmap.check();
    }

    while (!buddy.model.live().empty()) free_live(buddy, 0);
    while (!bitmap.model.live().empty()) free_live(bitmap, 1);
    buddy.check();
    bitmap.check();
    if (free_blocks_of(buddy.owned.allocator) != initial_blocks)
        require("blocks differ from the start", "buddy", "free all");
    if (free_runs_of(bitmap.owned.allocator) != initial_runs)
        require("runs differ from the start", "bitmap", "free all");
    return 0;
}
