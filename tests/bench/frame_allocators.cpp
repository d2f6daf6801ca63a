// frame_allocators.cpp: Google Benchmark figures for the buddy and bitmap frame allocators (make bench).
//
// Every figure is the time of one allocate + free pair on 256 MiB of managed memory (65536 frames):
//   - warm: order 0 from a populated order-0 list (every other frame allocated, so nothing coalesces);
//   - occupancy 25% / 75%: memory filled with single frames, then a random 75% / 25% of them freed; each
//     iteration frees a random live frame and allocates a new one, so the occupancy stays put (the buddy soon
//     settles into handing back the frame just freed, its buddy in use: no merge, no split, so this measures a
//     warm pair on a descriptor that is usually not in the cache);
//   - worst case (buddy): all memory free as 4 MiB blocks, so an order-0 pair splits 10 times and merges
//     10 times;
//   - one split (buddy): only order-1 blocks are free, each with its buddy in use, so an order-0 pair splits
//     one and merges it back: the cost of one level of splitting and merging;
//   - order 3 (8 frames, 32 KiB) from a warm list;
//   - a 4 MiB block when every other frame is allocated except in the top 4 MiB: O(1) for the buddy; the
//     bitmap's aligned search skips 1024 frames per candidate, its unaligned run search tries every free
//     frame, O(memory);
//   - the physical limit: an intrusive singly linked free list threaded through real 4 KiB frames, which is
//     what xv6's kalloc does: one load and one store each way, and nothing to check.
// The metadata overhead of each allocator is printed before the runs. Figures only; nothing here fails on time.
#include <benchmark/benchmark.h>

#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "mm/frame/BitmapAllocator.h"
#include "mm/frame/BuddyAllocator.h"
#include "tests/bench/MedianReporter.h"

namespace {

constexpr u32 kFrames = 65536;  // 256 MiB
constexpr u64 kBytes = static_cast<u64>(kFrames) * kFrameSize;

class Random {
public:
    u32 next() {
        m_state ^= m_state << 13;
        m_state ^= m_state >> 17;
        m_state ^= m_state << 5;
        return m_state;
    }

private:
    u32 m_state = 2463534242u;
};

struct Buddy {
    std::vector<FrameDescriptor> storage{kFrames};
    BuddyAllocator allocator{Span<FrameDescriptor>(storage.data(), storage.size()), 0};
    Buddy() { (void)allocator.add_free_range(0, kBytes); }
};

struct Bitmap {
    std::vector<u32> words = std::vector<u32>(BitmapAllocator::words_needed(kFrames));
    BitmapAllocator allocator{Span<u32>(words.data(), words.size()), 0, kFrames};
    Bitmap() { (void)allocator.add_free_range(0, kBytes); }
};

// Fills memory with blocks of `order`, then frees every other one: the order's free list is full of blocks
// whose buddies are allocated, so a pair neither splits nor merges.
template <typename Allocator>
void make_warm(Allocator& allocator, unsigned order) {
    std::vector<u32> blocks;
    for (;;) {
        auto result = allocator.allocate(order);
        if (result.is_error()) break;
        blocks.push_back(result.value());
    }
    std::sort(blocks.begin(), blocks.end());
    for (size_t i = 0; i < blocks.size(); i += 2) allocator.free(blocks[i], order);
}

// Allocates all of memory as single frames; returns them in address order.
template <typename Allocator>
std::vector<u32> allocate_every_frame(Allocator& allocator) {
    std::vector<u32> frames;
    for (u32 i = 0; i < kFrames; ++i) frames.push_back(allocator.allocate(0).value());
    std::sort(frames.begin(), frames.end());
    return frames;
}

// Every other frame in use, except the top 4 MiB, which is free: the only place a 4 MiB block fits.
template <typename Allocator>
void fragment_all_but_the_top(Allocator& allocator) {
    for (u32 pfn : allocate_every_frame(allocator))
        if (pfn >= kFrames - kMaxBlockFrames || pfn % 2 == 0) allocator.free(pfn, 0);
}

template <typename Allocator>
void pair_loop(benchmark::State& state, Allocator& allocator, unsigned order) {
    for (auto _ : state) {
        auto result = allocator.allocate(order);
        if (result.is_error()) {
            state.SkipWithError("allocation failed");
            break;
        }
        benchmark::DoNotOptimize(result.value());
        allocator.free(result.value(), order);
    }
}

template <typename Owner>
void BM_WarmPair(benchmark::State& state) {
    auto owner = std::make_unique<Owner>();
    unsigned order = static_cast<unsigned>(state.range(0));
    make_warm(owner->allocator, order);
    pair_loop(state, owner->allocator, order);
}

template <typename Owner>
void BM_OccupancyPair(benchmark::State& state) {
    auto owner = std::make_unique<Owner>();
    auto& allocator = owner->allocator;
    std::vector<u32> live = allocate_every_frame(allocator);
    Random random;
    // Free a random subset (Fisher-Yates shuffle) until the occupancy is reached.
    for (size_t i = live.size() - 1; i > 0; --i) std::swap(live[i], live[random.next() % (i + 1)]);
    size_t keep = static_cast<size_t>(kFrames) * static_cast<size_t>(state.range(0)) / 100;
    for (size_t i = keep; i < live.size(); ++i) allocator.free(live[i], 0);
    live.resize(keep);
    for (auto _ : state) {
        u32& slot = live[random.next() % keep];
        allocator.free(slot, 0);
        auto result = allocator.allocate(0);
        benchmark::DoNotOptimize(result.value());
        slot = result.value();
    }
}

void BM_BuddyWorstCase(benchmark::State& state) {
    // Everything free: only order-10 blocks exist.
    auto owner = std::make_unique<Buddy>();
    pair_loop(state, owner->allocator, 0);
}

void BM_BuddySplitOnce(benchmark::State& state) {
    auto owner = std::make_unique<Buddy>();
    make_warm(owner->allocator, 1);
    pair_loop(state, owner->allocator, 0);
}

template <typename Owner>
void BM_LargeBlockFragmented(benchmark::State& state) {
    auto owner = std::make_unique<Owner>();
    fragment_all_but_the_top(owner->allocator);
    pair_loop(state, owner->allocator, kMaxOrder);
}

// The bitmap's real worst case: an unaligned first-fit run, where every free frame is a candidate.
void BM_BitmapRunFragmented(benchmark::State& state) {
    auto owner = std::make_unique<Bitmap>();
    auto& allocator = owner->allocator;
    fragment_all_but_the_top(allocator);
    for (auto _ : state) {
        auto result = allocator.allocate_run(kMaxBlockFrames);
        benchmark::DoNotOptimize(result.value());
        allocator.free_run(result.value(), kMaxBlockFrames);
    }
}

// The physical limit: free frames linked through their own first word (xv6's kalloc), behind the same
// interface as the allocators (out of line, ErrorOr<u32> pfns) so the comparison is of the algorithm, not of
// calling conventions. A second variant inlines the list into the loop: the floor of the floor.
class IntrusiveFreeList {
public:
    explicit IntrusiveFreeList(u32 frames)
        : m_memory(static_cast<u8*>(aligned_alloc(kFrameSize, static_cast<size_t>(frames) * kFrameSize))) {
        for (u32 pfn = 0; pfn < frames; ++pfn) free(pfn, 0);
    }
    ~IntrusiveFreeList() { ::free(m_memory); }
    [[gnu::noinline]] ErrorOr<u32> allocate(unsigned, Zone = Zone::Any) {
        FreeFrame* frame = m_head;
        if (frame == nullptr) return Error::NoMemory;
        m_head = frame->next;
        return static_cast<u32>((reinterpret_cast<u8*>(frame) - m_memory) >> kFrameShift);
    }
    [[gnu::noinline]] void free(u32 pfn, unsigned) {
        auto* frame = reinterpret_cast<FreeFrame*>(m_memory + (static_cast<size_t>(pfn) << kFrameShift));
        frame->next = m_head;
        m_head = frame;
    }

private:
    struct FreeFrame {
        FreeFrame* next;
    };
    u8* m_memory;
    FreeFrame* m_head = nullptr;
};

void BM_IntrusiveFreeList(benchmark::State& state) {
    IntrusiveFreeList list(4096);  // 16 MiB of real memory
    pair_loop(state, list, 0);
}

void BM_IntrusiveFreeListInlined(benchmark::State& state) {
    constexpr u32 kListFrames = 4096;
    struct FreeFrame {
        FreeFrame* next;
    };
    auto* memory = static_cast<u8*>(aligned_alloc(kFrameSize, static_cast<size_t>(kListFrames) * kFrameSize));
    FreeFrame* head = nullptr;
    for (u32 i = 0; i < kListFrames; ++i) {
        auto* frame = reinterpret_cast<FreeFrame*>(memory + static_cast<size_t>(i) * kFrameSize);
        frame->next = head;
        head = frame;
    }
    for (auto _ : state) {
        FreeFrame* frame = head;  // allocate
        head = frame->next;
        benchmark::DoNotOptimize(frame);
        frame->next = head;  // free
        head = frame;
        benchmark::ClobberMemory();
    }
    free(memory);
}

BENCHMARK(BM_IntrusiveFreeList)->Name("free_list/order0_pair");
BENCHMARK(BM_IntrusiveFreeListInlined)->Name("free_list/order0_pair_inlined");
BENCHMARK(BM_WarmPair<Buddy>)->Name("buddy/order0_pair_warm")->Arg(0);
BENCHMARK(BM_OccupancyPair<Buddy>)->Name("buddy/order0_pair_occupancy")->Arg(25)->Arg(75);
BENCHMARK(BM_BuddyWorstCase)->Name("buddy/order0_pair_worst_case_split10_merge10");
BENCHMARK(BM_BuddySplitOnce)->Name("buddy/order0_pair_split1_merge1");
BENCHMARK(BM_WarmPair<Buddy>)->Name("buddy/order3_pair_warm")->Arg(3);
BENCHMARK(BM_LargeBlockFragmented<Buddy>)->Name("buddy/order10_pair_fragmented");
BENCHMARK(BM_WarmPair<Bitmap>)->Name("bitmap/order0_pair_warm")->Arg(0);
BENCHMARK(BM_OccupancyPair<Bitmap>)->Name("bitmap/order0_pair_occupancy")->Arg(25)->Arg(75);
BENCHMARK(BM_WarmPair<Bitmap>)->Name("bitmap/order3_pair_warm")->Arg(3);
BENCHMARK(BM_LargeBlockFragmented<Bitmap>)->Name("bitmap/order10_pair_fragmented");
BENCHMARK(BM_BitmapRunFragmented)->Name("bitmap/run1024_pair_fragmented");

double buddy_metadata_percent() {
    const double buddy_bytes = static_cast<double>(sizeof(FrameDescriptor)) * kFrames + sizeof(BuddyAllocator);
    return 100.0 * buddy_bytes / static_cast<double>(kBytes);
}

// The physical-memory targets (docs/physical-memory.md), from this run's (median) times.
void print_targets(const MedianReporter& reporter) {
    double warm = reporter.time("buddy/order0_pair_warm/0");
    double free_list = reporter.time("free_list/order0_pair");
    printf("\nbuddy targets (CPU time per allocate+free pair):\n");
    print_target("order-0 pair, warm lists", warm, 15, "ns");
    if (free_list > 0) print_target("order-0 pair / intrusive free list pair", warm / free_list, 3, "x");
    print_target("worst case (split 10, merge 10)", reporter.time("buddy/order0_pair_worst_case_split10_merge10"), 100,
                 "ns");
    print_target("order-0 pair at 25% occupancy", reporter.time("buddy/order0_pair_occupancy/25"), 25, "ns");
    print_target("metadata, % of managed memory", buddy_metadata_percent(), 0.4, "%");
}

void print_metadata() {
    const double managed = static_cast<double>(kBytes);
    const double buddy_bytes = static_cast<double>(sizeof(FrameDescriptor)) * kFrames + sizeof(BuddyAllocator);
    const double bitmap_bytes =
        static_cast<double>(BitmapAllocator::words_needed(kFrames) * sizeof(u32)) + sizeof(BitmapAllocator);
    printf("metadata for %u MiB (%u frames):\n", static_cast<unsigned>(kBytes / MiB), kFrames);
    printf("  buddy:  %zu bytes per frame + %zu-byte allocator = %.0f bytes, %.3f%% of managed memory\n",
           sizeof(FrameDescriptor), sizeof(BuddyAllocator), buddy_bytes, 100.0 * buddy_bytes / managed);
    printf("  bitmap: 2 bits per frame + %zu-byte allocator = %.0f bytes, %.4f%% of managed memory\n",
           sizeof(BitmapAllocator), bitmap_bytes, 100.0 * bitmap_bytes / managed);
}

}  // namespace

int main(int argc, char** argv) {
    print_metadata();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    MedianReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    print_targets(reporter);
    benchmark::Shutdown();
    return 0;
}
