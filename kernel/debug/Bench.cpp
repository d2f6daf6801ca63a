// Bench.cpp: the in-kernel benchmarks (see Bench.h).
#include "kernel/debug/Bench.h"

#include <new>

#include "arch/i386/Atomic.h"
#include "arch/i386/Cpu.h"
#include "arch/i386/Pit.h"
#include "kernel/dev/Console.h"
#include "kernel/memmodel/Arena.h"
#include "kernel/memmodel/PagedMemory.h"
#include "kernel/memmodel/SegmentedMemory.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "kernel/mm/Paging.h"
#include "kernel/mm/Tlb.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/smp/PerCpu.h"
#include "kernel/sync/LockRanks.h"
#include "kernel/sync/SpinLock.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/swap/SwapArea.h"
#include "kernel/swap/Swapper.h"
#include "libc/base/MemoryLayout.h"
#include "libc/rt/String.h"
#include "mm/frame/BitmapAllocator.h"
#include "mm/frame/BuddyAllocator.h"
#include "mm/heap/SlabCache.h"
#include "mm/swap/Policies.h"

namespace bench {
namespace {

inline u64 rdtsc() { return cpu::read_tsc(); }

constexpr u32 kIterations = 10000;

// Runs `body` kIterations times with interrupts off (a timer tick would add its own instructions) and
// prints the instructions per iteration, less the loop's own overhead measured the same way.
template <typename Body>
u32 measure(const char* name, Body body, u32 overhead = 0, u32 iterations = kIterations) {
    cpu::InterruptGuard guard;
    for (u32 i = 0; i < (iterations < 100 ? iterations : 100); ++i) body();  // warm: lists, slabs, tables
    u64 start = rdtsc();
    for (u32 i = 0; i < iterations; ++i) body();
    u64 elapsed = rdtsc() - start;
    u32 per = static_cast<u32>(elapsed / iterations);
    per = per > overhead ? per - overhead : 0;
    if (name) kprintf("bench: %s: %u instructions (%u iterations)\n", name, per, iterations);
    return per;
}

// The policy's view of 1024 frames for the eviction-decision benchmark: A bits set by "references".
class BenchFrames final : public FrameAccessor {
public:
    static constexpr u32 kFrames = 1024;
    bool accessed(u32 frame) const override { return m_accessed[frame]; }
    bool dirty(u32 frame) const override { return frame % 4 == 0; }
    void clear_accessed(u32 frame) override { m_accessed[frame] = false; }
    bool evictable(u32) const override { return true; }
    void reference(u32 frame) { m_accessed[frame] = true; }

private:
    bool m_accessed[kFrames] = {};
};

// Swapping, when a disk is attached (qemu-instructions.sh attaches one): the PIO transfer of a page, a clean
// eviction plus the major fault that brings the page back, and each policy's eviction decision.
void run_swap(u32 empty) {
    if (!swapper::active()) {
        kprintf("bench: swapping is off (no disk on ide0): swap benchmarks skipped\n");
        return;
    }
    constexpr u32 kDiskIterations = 200;  // each one moves 4 KiB through the I/O ports
    auto slot = swap_area::allocate();
    auto buffer = pmm::allocate(0);
    if (slot.is_error() || buffer.is_error()) return;
    void* page = pmm::frame_pointer(buffer.value());
    measure(
        "PIO write of one 4 KiB page to a swap slot", [&] { VERIFY(!swap_area::write(slot.value(), page).is_error()); },
        empty, kDiskIterations);
    measure(
        "PIO read of one 4 KiB page from a swap slot", [&] { VERIFY(!swap_area::read(slot.value(), page).is_error()); },
        empty, kDiskIterations);
    swap_area::release(slot.value());
    pmm::free(buffer.value());

    // One page of a fresh address space, evicted and faulted back in: after the first round its slot holds a
    // clean copy, so each round is a clean eviction (no write) and a major fault (one read).
    if (auto created = PagedMemory::create(); !created.is_error()) {
        PagedMemory* memory = created.value();
        constexpr u32 kBase = 0x00400000;
        if (!memory->add_region(kBase, kBase + kPageSize, RegionKind::Heap, true).is_error() &&
            !memory->populate(kBase, 1).is_error()) {
            // One loop timed by hand rather than by measure(): the reads' own instructions, which the swapper
            // counts, are subtracted from exactly the rounds that were timed.
            auto round = [&] {
                u32 pfn = memory->translate(kBase).value() >> kPageShift;
                VERIFY(!swapper::evict(pfn).is_error());
                VERIFY(memory->handle_fault(kBase, false, false) == FaultResult::Resolved);
            };
            cpu::InterruptGuard guard;
            round();  // the first round writes the page; after it every eviction is clean
            u64 reads_before = swapper::swap_in_read_tsc();
            u64 start = rdtsc();
            for (u32 i = 0; i < kDiskIterations; ++i) round();
            u64 total = rdtsc() - start, reads = swapper::swap_in_read_tsc() - reads_before;
            kprintf("bench: clean eviction + major fault of one page (with its PIO read): %u instructions (%u "
                    "iterations)\n",
                    static_cast<u32>(total / kDiskIterations), kDiskIterations);
            kprintf("bench: clean eviction + major fault without the disk read: %u instructions (%u iterations)\n",
                    static_cast<u32>((total - reads) / kDiskIterations), kDiskIterations);
        }
        delete memory;
    }

    // The decision itself: a reference sets one frame's A bit, then the policy picks a victim among 1024
    // resident frames, and the frame takes a new page.
    static BenchFrames frames;
    constexpr size_t kPolicyBytes = 64 * 1024;
    auto block = pmm::allocate(pmm::order_for(kPolicyBytes));
    if (block.is_error()) return;
    u8* memory = static_cast<u8*>(pmm::frame_pointer(block.value()));
    for (PolicyKind kind : kPolicyKinds) {
        size_t bytes = policy_bytes_needed(kind, BenchFrames::kFrames);
        if (bytes > kPolicyBytes) continue;
        ReplacementPolicy& policy = create_policy(kind, Span<u8>(memory, bytes), BenchFrames::kFrames, 1);
        for (u32 frame = 0; frame < BenchFrames::kFrames; ++frame) policy.page_in(frame);
        u32 state = 12345;
        char name[80];
        format_to_buffer(name, sizeof(name), "eviction decision, %s, 1024 frames", policy.name());
        measure(
            name,
            [&] {
                state = state * 1103515245u + 12345u;
                u32 touched = (state >> 8) % BenchFrames::kFrames;
                frames.reference(touched);
                policy.referenced(touched);
                u32 victim = policy.choose_victim(frames).value();
                policy.removed(victim);
                policy.page_in(victim);
            },
            empty);
    }
    pmm::free(block.value(), pmm::order_for(kPolicyBytes));
}

// bench=swap, without -icount: how long whole processes take to roll out and in, by size, in wall time
// (the time-stamp counter calibrated against the timer), and the pages per second that makes.
void run_swap_timing() {
    u64 per_ms = pit::tsc_per_ms();
    if (!swapper::active() || per_ms == 0) {
        kprintf("bench: swap timing needs swapping (a disk on ide0) and the timer; skipped\n");
        return;
    }
    kprintf("bench: swap timing (wall time under TCG, the TSC at %u kHz)\n", static_cast<u32>(per_ms));
    for (u32 pages : {16u, 64u, 256u, 1024u}) {
        auto created = PagedMemory::create();
        if (created.is_error()) return;
        PagedMemory* memory = created.value();
        constexpr u32 kBase = 0x00400000;
        if (!memory->add_region(kBase, kBase + pages * kPageSize, RegionKind::Heap, true).is_error() &&
            !memory->populate(kBase, pages).is_error()) {
            swapper::RollResult out = swapper::roll_out(*memory);
            swapper::RollResult in = swapper::roll_in(*memory);
            auto rate = [](u32 moved, u32 us) { return us ? static_cast<u32>(u64(moved) * 1000000 / us) : 0; };
            kprintf("bench: roll-out of %u pages: %u us (%u written, %u pages/s); roll-in: %u pages, %u us (%u "
                    "pages/s)\n",
                    pages, out.us, out.writes, rate(out.pages, out.us), in.pages, in.us, rate(in.pages, in.us));
        }
        delete memory;
    }
}

// Compaction of a fragmented arena, as the older memory models pay for it: the arena filled with 64 KiB
// base-and-bounds segments (real ones: each move rewrites the owner's page tables and LDT), every other one
// freed, then one compaction slides the rest down. Timed without the console (compact(false)); the freeing
// and refilling between rounds is not timed. Beside it, the bare copy of one segment, so the remapping's
// share shows in the instructions per KiB.
void run_compaction(u32 empty) {
    constexpr u32 kSegment = 64 * 1024, kMaxSegments = 32, kRounds = 10;
    if (!arena::is_ready() || arena::statistics().used_bytes != 0) {
        kprintf("bench: no empty arena (boot option arena=): compaction benchmark skipped\n");
        return;
    }
    u32 count = arena::size() / kSegment;
    if (count > kMaxSegments) count = kMaxSegments;
    SegmentedMemory* segments[kMaxSegments];
    u64 elapsed = 0, moved = 0;
    for (u32 round = 0; round < kRounds; ++round) {
        for (u32 i = 0; i < count; ++i) {
            auto created = SegmentedMemory::create(MemoryModelKind::BaseBounds, kSegment);
            VERIFY(!created.is_error());  // the arena is empty and holds `count` of them
            segments[i] = created.value();
            segments[i]->set_owner(0, "bench");
        }
        for (u32 i = 0; i < count; i += 2) delete segments[i];
        {
            cpu::InterruptGuard guard;
            u64 start = rdtsc();
            moved += arena::compact(false);
            elapsed += rdtsc() - start;
        }
        for (u32 i = 1; i < count; i += 2) delete segments[i];
    }
    u32 per = static_cast<u32>(elapsed / kRounds);
    u32 kib = static_cast<u32>(moved / kRounds / 1024);
    kprintf("bench: arena compaction, %u of %u 64-KiB base-and-bounds segments freed (%u KiB moved): %u instructions "
            "(%u iterations)\n",
            count / 2 + count % 2, count, kib, per, kRounds);
    kprintf("bench: arena compaction per KiB moved: %u instructions (%u iterations)\n", kib ? per / kib : 0, kRounds);
    measure(
        "memmove of one 64 KiB segment within the arena (no remapping)",
        [&] { memmove(arena::kernel_pointer(0), arena::kernel_pointer(kSegment), kSegment); }, empty, 100);
}

// Roll-out and roll-in of a whole base-and-bounds process (the older models' swapping): one 256 KiB segment
// to the swap disk and back, each timed apart, per KiB. The disk is QEMU's IDE by PIO: under -icount every
// `rep insw/outsw` iteration counts, so this is the instruction count of the transfer, which -icount shift=0
// also makes its (virtual) time in ns.
void run_roll(void) {
    constexpr u32 kSegment = 256 * 1024, kRounds = 4;
    if (!arena::is_ready() || !swap_area::ready()) {
        kprintf("bench: roll-out needs an arena and a swap disk: skipped\n");
        return;
    }
    auto created = SegmentedMemory::create(MemoryModelKind::BaseBounds, kSegment);
    if (created.is_error()) {
        kprintf("bench: no room for a %u KiB segment: roll-out benchmark skipped\n", kSegment / 1024);
        return;
    }
    SegmentedMemory* memory = created.value();
    memory->set_owner(0, "bench");
    u64 out = 0, in = 0;
    for (u32 round = 0; round < kRounds; ++round) {
        cpu::InterruptGuard guard;
        u64 start = rdtsc();
        bool rolled_out = !memory->roll_out().is_error();
        u64 middle = rdtsc();
        bool rolled_in = rolled_out && !memory->roll_in().is_error();
        u64 end = rdtsc();
        if (!rolled_in) {
            kprintf("bench: a roll-out or roll-in failed: benchmark skipped\n");
            if (!memory->rolled_out()) delete memory;
            return;
        }
        out += middle - start;
        in += end - middle;
    }
    delete memory;
    u32 kib = kSegment / 1024;
    kprintf("bench: roll-out of a %u KiB base-and-bounds segment to the swap disk: %u instructions per KiB "
            "(%u iterations)\n", kib, static_cast<u32>(out / kRounds / kib), kRounds);
    kprintf("bench: roll-in of a %u KiB base-and-bounds segment from the swap disk: %u instructions per KiB "
            "(%u iterations)\n", kib, static_cast<u32>(in / kRounds / kib), kRounds);
}

}  // namespace

// With several CPUs (-smp 2 or more): what crossing to another CPU costs. Under -icount the CPUs take turns
// and RDTSC counts every CPU's instructions, so each figure includes the other CPU's part and the waiting.
void run_cross_cpu(u32 empty) {
    if (!per_cpu::several_online()) return;  // tests/bench/qemu-smp.sh boots -smp 2 for these
    static u32 scratch;
    measure(
        "TLB shootdown round trip (a kernel page: every other CPU flushes and answers)",
        [] { tlb::invalidate_kernel_page(reinterpret_cast<u32>(&scratch)); }, empty, 1000);
    // CPU 0 wakes a halted CPU with an IPI and halts itself; the woken CPU sends an IPI back (its
    // echo_wakeups field), which wakes CPU 0: two wake-ups per round trip.
    u32 target = __builtin_ctz(per_cpu::online_mask() & ~1u);
    PerCpu& other = per_cpu::area(target);
    constexpr u32 kRounds = 200;
    atomic::store_release(other.echo_wakeups, 1);
    cpu::InterruptGuard guard;
    u64 start = rdtsc();
    for (u32 i = 0; i < kRounds; ++i) {
        u32 seen = atomic::load_acquire(per_cpu::this_cpu()->wakeups);
        scheduler::kick(target);
        while (atomic::load_acquire(per_cpu::this_cpu()->wakeups) == seen) {
            cpu::enable_interrupts_and_halt();
            cpu::disable_interrupts();
        }
    }
    u64 elapsed = rdtsc() - start;
    atomic::store_release(other.echo_wakeups, 0);
    kprintf("bench: cross-CPU wake-up (IPI to a halted CPU, which wakes and answers with one): %u instructions per "
            "wake-up (%u round trips)\n",
            static_cast<u32>(elapsed / (2 * kRounds)), kRounds);
}

const char* const* user_program(const char* selection) {
    static const char* const ubench[] = {"ubench", nullptr};
    static const char* const timed_spin[] = {"spin", "-t", "4", "150", nullptr};
    return strcmp(selection, "smp") == 0 ? timed_spin : ubench;
}

bool run_kernel(const char* selection) {
    if (strcmp(selection, "smp") == 0) return true;  // `spin -t 4 150` alone: the speed-up (tests/bench/qemu-smp.sh)
    if (strcmp(selection, "swap") == 0) {
        run_swap_timing();
        return false;
    }
    kprintf("bench: instruction counts under -icount shift=0 (RDTSC differences; see kernel/debug/Bench.h)\n");
    // Calibration: a loop of known length. `dec; jnz` is 2 instructions per iteration, plus the loop in
    // measure() itself, which the empty body isolates.
    u32 empty = measure(nullptr, [] { asm volatile("" ::: "memory"); });
    u32 hundred = measure(nullptr, [] {
        u32 n = 50;
        asm volatile("1: decl %0; jnz 1b" : "+r"(n) : : "cc");
    });
    kprintf("bench: calibration: a 100-instruction loop body measures %u (loop overhead %u)\n", hundred - empty, empty);

    // The page allocators, each on a private 4 MiB block taken from the running one, so the states are known:
    // "coalesced" is one free 4 MiB block (an order-0 pair splits it ten times and merges it ten times,
    // the buddy's worst case); "warm" holds blocks so that a free buddy waits on that order's list.
    // The private buddy's descriptors (16 KiB) come from the page allocator too, not the kernel's image.
    constexpr u32 kDescriptorOrder = 2;
    static_assert(kMaxBlockFrames * sizeof(FrameDescriptor) <= (kPageSize << kDescriptorOrder));
    auto block = pmm::allocate(kMaxOrder);
    auto metadata = pmm::allocate(kDescriptorOrder);
    if (block.is_error() || metadata.is_error()) {
        kprintf("bench: no free 4 MiB block for the allocator benchmarks; skipped\n");
        if (!block.is_error()) pmm::free(block.value(), kMaxOrder);
        if (!metadata.is_error()) pmm::free(metadata.value(), kDescriptorOrder);
    } else {
        u32 base = block.value();
        u64 start = pfn_to_address(base), end = pfn_to_address(base + kMaxBlockFrames);
        auto* descriptors = static_cast<FrameDescriptor*>(pmm::frame_pointer(metadata.value()));
        for (u32 i = 0; i < kMaxBlockFrames; ++i) new (&descriptors[i]) FrameDescriptor();
        static u32 bitmap_words[BitmapAllocator::words_needed(kMaxBlockFrames)];
        BuddyAllocator buddy(Span<FrameDescriptor>(descriptors, kMaxBlockFrames), base);
        BitmapAllocator bitmap(Span<u32>(bitmap_words, BitmapAllocator::words_needed(kMaxBlockFrames)), base,
                               kMaxBlockFrames);
        auto added_buddy = buddy.add_free_range(start, end);
        auto added_bitmap = bitmap.add_free_range(start, end);
        VERIFY(!added_buddy.is_error() && !added_bitmap.is_error());  // fresh allocators over one free block
        for (FrameAllocator* allocator :
             {static_cast<FrameAllocator*>(&buddy), static_cast<FrameAllocator*>(&bitmap)}) {
            auto pair = [&](unsigned order, const char* lists) {
                char name[96];
                format_to_buffer(name, sizeof(name), "%s order-%u allocate+free pair, %s", allocator->name(), order,
                                 lists);
                measure(
                    name,
                    [&] {
                        auto frame = allocator->allocate(order);
                        allocator->free(frame.value(), order);
                    },
                    empty);
            };
            pair(0, "coalesced 4 MiB (worst case for the buddy)");
            auto held = allocator->allocate(0);
            pair(0, "warm lists");
            // The first order-3 block takes the free one the order-0 split left; the second splits an order-4
            // block and leaves its buddy on the order-3 list.
            auto held3 = allocator->allocate(3);
            auto held3b = allocator->allocate(3);
            pair(3, "warm lists");
            allocator->free(held3b.value(), 3);
            allocator->free(held3.value(), 3);
            allocator->free(held.value(), 0);
        }
        pmm::free(base, kMaxOrder);
        pmm::free(metadata.value(), kDescriptorOrder);
    }

    // The kernel's own path for a single frame (pmm::allocate/pmm::free), as every caller uses it: through
    // this CPU's frame cache when it is on (docs/multicore.md, "Per-CPU allocator caches").
    measure(
        "pmm order-0 allocate+free pair (the kernel's path)",
        [] {
            auto frame = pmm::allocate(0);
            pmm::free(frame.value(), 0);
        },
        empty);
    measure(
        "kmalloc(64)+kfree pair", [] { kfree(kmalloc(64)); }, empty);
    SlabCacheConfig config;
    config.name = "bench-64";
    config.object_size = 64;
    kernel_heap::ObjectCache* cache = kernel_heap::create_cache(config);
    measure(
        "slab cache allocate+free pair (64-byte objects)",
        [&] { kernel_heap::cache_free(cache, kernel_heap::cache_allocate(cache)); }, empty);
    kernel_heap::destroy_cache(cache);

    // An uncontended lock and unlock, with everything a kernel lock does: interrupts off and back (nested),
    // the lock debugger's checks and records, the atomic instruction, and the acquisition counts.
    static sync::SpinLock bench_spin("bench spin", lock_rank::kBench);
    static sync::TicketLock bench_ticket("bench ticket", lock_rank::kBench);
    measure(
        "spinlock lock+unlock, uncontended", [] { sync::Locker locker(bench_spin); }, empty);
    measure(
        "ticket lock lock+unlock, uncontended", [] { sync::Locker locker(bench_ticket); }, empty);

    auto frame = pmm::allocate(0);
    u32 physical = frame.value() << kPageShift;
    constexpr u32 kPage = 0xFF001000;
    measure(
        "page map+unmap (kernel area, with INVLPG)",
        [&] {
            VERIFY(!paging::map_kernel_page(kPage, physical, true).is_error());
            paging::unmap_kernel_page(kPage);
        },
        empty);
    pmm::free(frame.value(), 0);

    // The kernel half of fork and exit for a small process, without the scheduler: every page is shared into
    // the child (protect, map, frame-table record, reference), then the child is destroyed (unmap, frame-table
    // forget, release). Six pages, as a small user program has.
    if (auto parent = PagedMemory::create(); !parent.is_error()) {
        PagedMemory* memory = parent.value();
        constexpr u32 kBase = 0x00400000, kPages = 6;
        if (!memory->add_region(kBase, kBase + kPages * kPageSize, RegionKind::Heap, true).is_error() &&
            !memory->populate(kBase, kPages).is_error()) {
            measure(
                "fork and destroy of a 6-page address space (kernel side)",
                [&] {
                    auto child = memory->fork();
                    if (!child.is_error()) delete child.value();
                },
                empty);
        }
        delete memory;
    }
    run_swap(empty);
    run_compaction(empty);
    run_roll();
    // For the demand-zero figure: what clearing one 4 KiB page costs by itself.
    measure(
        "clearing one 4 KiB page (memset)", [&] { memset(pmm::frame_pointer(frame.value()), 0, kPageSize); }, empty);
    run_cross_cpu(empty);
    return strcmp(selection, "all") == 0;
}

}  // namespace bench
