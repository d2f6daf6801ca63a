// Swapper.cpp: page-level swapping (see Swapper.h).
#include "kernel/swap/Swapper.h"

#include "kernel/mm/Tlb.h"

#include <new>

#include "arch/i386/Cpu.h"
#include "arch/i386/Pit.h"
#include "kernel/boot/BootOptions.h"
#include "kernel/dev/AtaDisk.h"
#include "kernel/dev/Console.h"
#include "kernel/memmodel/PagedMemory.h"
#include "kernel/mm/FrameTable.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/swap/PageBits.h"
#include "kernel/swap/SwapArea.h"
#include "libc/base/Assert.h"
#include "libc/base/Invariant.h"
#include "libc/rt/String.h"
#include "mm/swap/AgingPolicy.h"
#include "mm/swap/ClockPolicy.h"

namespace swapper {
namespace {

// Frames kept free for what is not a user page (page tables, kernel stacks, the kernel heap): below this,
// user pages are evicted before another user frame is handed out.
constexpr u32 kLowWatermark = 64;
// A cap below this would let one instruction need more pages than may be resident (a `movs` touches code,
// source and destination, each maybe across a page boundary): replacement would livelock.
constexpr u32 kMinimumCap = 16;
// Slots tried for one eviction before giving up on the disk.
constexpr u32 kWriteAttempts = 4;

Mode g_mode = Mode::Off;
bool g_active = false;
PolicyKind g_kind = PolicyKind::Clock;
ReplacementPolicy* g_policy = nullptr;
u32 g_first_pfn = 0;
u32 g_frames = 0;
u32* g_slot_of = nullptr;  // per frame: the slot holding a clean copy of its page, 0 if none
alignas(PageBits) u8 g_bits_storage[sizeof(PageBits)];
PageBits* g_bits = nullptr;
u32 g_cap = 0;
Statistics g_statistics;
bool g_reported_full = false;


void* boot_block(u64 bytes) {
    auto block = pmm::allocate(pmm::order_for(bytes));
    if (block.is_error()) return nullptr;
    void* memory = pmm::frame_pointer(block.value());
    memset(memory, 0, kPageSize << pmm::order_for(bytes));
    return memory;
}

u32 index_of(u32 pfn) { return pfn - g_first_pfn; }

// Frames whose page also has a clean copy in a slot (g_slot_of non-zero): the slots in use less these are
// the pages that live only on the disk.
u32 g_clean_copies = 0;

void set_clean_copy(u32 index, u32 slot) {
    g_clean_copies += (slot != 0) - (g_slot_of[index] != 0);
    g_slot_of[index] = slot;
}

bool (*g_out_of_memory)() = nullptr;
u64 g_read_tsc = 0;  // time-stamp counter ticks spent in swap-in reads (the benchmark subtracts them)
bool (*g_roll_out_handler)() = nullptr;

// swap=process: the process layer rolls a whole process out. False when it found none to roll out, or none
// of its pages could go (then single pages are evicted instead).
bool roll_out_one() { return g_mode == Mode::Process && g_roll_out_handler && g_roll_out_handler(); }

ErrorOr<void> evict_one() {
    auto victim = g_policy->choose_victim(*g_bits);
    if (victim.is_error()) return Error::NoMemory;
    auto evicted = evict(g_first_pfn + victim.value());
    if (evicted.is_error()) return Error::NoMemory;
    return {};
}

}  // namespace

const char* mode_name(Mode mode) {
    switch (mode) {
    case Mode::Off: return "off";
    case Mode::Page: return "page";
    case Mode::Process: return "process";
    }
    return "?";
}

void initialize(const BootOptions& options) {
    g_mode = static_cast<Mode>(options.swap_mode);
    g_kind = static_cast<PolicyKind>(options.swap_policy);
    if (g_mode == Mode::Off) {
        klog("swap", "off (swap=off): a process that does not fit in memory is killed");
        return;
    }
    AtaDisk& disk = ata_disk::primary();
    if (!disk.present()) {
        klog("swap", "off: no disk on ide0 (make run attaches build/disk.img; with QEMU alone add "
                     "-drive file=disk.img,format=raw,if=ide,index=0)");
        g_mode = Mode::Off;
        return;
    }
    if (swap_area::initialize(disk).is_error()) {
        kwarn("swap", "off: %s", swap_area::last_error());
        g_mode = Mode::Off;
        return;
    }
    g_first_pfn = frame_table::reverse_map().first_pfn();
    g_frames = frame_table::reverse_map().end_pfn() - g_first_pfn;
    void* policy_memory = boot_block(policy_bytes_needed(g_kind, g_frames));
    g_slot_of = static_cast<u32*>(boot_block(u64(g_frames) * sizeof(u32)));
    if (!policy_memory || !g_slot_of) {
        kwarn("swap", "off: no memory for the policy's state of %u frames", g_frames);
        g_mode = Mode::Off;
        return;
    }
    g_policy = &create_policy(g_kind, Span<u8>(static_cast<u8*>(policy_memory), policy_bytes_needed(g_kind, g_frames)),
                              g_frames, 1);
    g_bits = new (g_bits_storage) PageBits(g_first_pfn, g_slot_of);
    u32 total = pmm::allocator().total_frames();
    u32 most = total > 2 * kLowWatermark ? total - 2 * kLowWatermark : kMinimumCap;
    g_cap = options.user_frames ? options.user_frames : most;
    if (g_cap < kMinimumCap) {
        kwarn("swap", "userframes=%u is below the minimum of %u (one instruction may need that many): using %u",
              g_cap, kMinimumCap, kMinimumCap);
        g_cap = kMinimumCap;
    }
    if (g_cap > most) g_cap = most;
    // Frames mapped before now (none outside the in-kernel tests) join the policy as they are.
    for (u32 index = 0; index < g_frames; ++index)
        if (frame_table::reverse_map().is_mapped(g_first_pfn + index)) g_policy->page_in(index);
    g_active = true;
    frame_table::start_swapping();
    if (g_mode == Mode::Process) pit::tsc_per_ms();  // calibrated now, while the timer ticks
    const SwapSlotMap& slots = swap_area::slots();
    klog("swap", "%s swapping on %s: %u slots (%u MiB), policy %s, user frames capped at %u of %u", mode_name(g_mode),
         disk.name(), slots.slot_count() - 1, (slots.slot_count() - 1) / 256, g_policy->name(), g_cap, total);
}

Mode mode() { return g_mode; }
bool active() { return g_active; }
PolicyKind policy_kind() { return g_kind; }
ReplacementPolicy& policy() { return *g_policy; }
u32 frame_cap() { return g_cap; }
u32 resident_frames() { return g_active ? g_policy->resident_count() : 0; }
const Statistics& statistics() { return g_statistics; }
u32 first_pfn() { return g_first_pfn; }
u32 swapped_pages() { return g_active ? swap_area::slots().used_slots() - g_clean_copies : 0; }

void page_in(u32 pfn) { g_policy->page_in(index_of(pfn)); }

void removed(u32 pfn) {
    u32 index = index_of(pfn);
    g_policy->removed(index);
    if (u32 slot = g_slot_of[index]) {
        swap_area::release(slot);
        set_clean_copy(index, 0);
    }
}

ErrorOr<void> make_room() {
    if (!g_active) return {};
    while (g_policy->resident_count() >= g_cap || pmm::allocator().free_frames() < kLowWatermark) {
        if (g_policy->resident_count() == 0) return {};  // nothing to evict: the allocation decides
        if (roll_out_one()) continue;
        if (!evict_one().is_error()) continue;
        if (g_out_of_memory && g_out_of_memory()) continue;  // a process was ended: its frames are free now
        return Error::NoMemory;
    }
    return {};
}

ErrorOr<void> evict(u32 pfn) {
    if (!g_active || !frame_table::reverse_map().is_mapped(pfn)) return Error::Invalid;
    u32 index = index_of(pfn);
    u32 slot = g_slot_of[index];
    // A process using the page may be running on another CPU: stop it in the kernel first (it waits there
    // for the big lock, which this CPU holds until the page is gone), or it could write to the page after D
    // was read as clear, or while the copy goes to the disk, and that write would be lost (docs/multicore.md,
    // "TLB shootdown").
    frame_table::reverse_map().for_each(pfn, [](ReverseMapping m) { tlb::quiesce(m.directory); });
    bool clean = slot != 0 && !g_bits->written(index);
    if (!clean) {
        for (u32 attempt = 1;; ++attempt) {
            if (slot == 0) {
                auto fresh = swap_area::allocate();
                if (fresh.is_error()) {
                    ++g_statistics.out_of_swap;
                    if (!g_reported_full)
                        kwarn("swap", "swap space exhausted: all %u slots in use; pages cannot be evicted",
                              swap_area::slots().slot_count() - 1);
                    g_reported_full = true;
                    return Error::NoSpace;
                }
                slot = fresh.value();
                set_clean_copy(index, slot);
            }
            if (!swap_area::write(slot, pmm::frame_pointer(pfn)).is_error()) break;
            ++g_statistics.write_errors;
            kwarn("swap", "%s; the slot is retired%s", swap_area::last_error(),
                  attempt < kWriteAttempts ? ", trying another" : "");
            swap_area::release(slot);  // marked bad by write(): retired now
            set_clean_copy(index, 0);
            slot = 0;
            if (attempt == kWriteAttempts) return Error::IO;
        }
        ++g_statistics.pages_out;
    }
    g_reported_full = false;
    if (frame_table::reverse_map().count(pfn) > 1) ++g_statistics.shared_evictions;
    // Every entry takes the slot. The last one's release (the frame table's removed()) gives back the frame's
    // own reference to the slot, and the frame goes back to the allocator.
    while (frame_table::reverse_map().is_mapped(pfn)) {
        ReverseMapping mapping = frame_table::reverse_map().first(pfn);
        VERIFY(!swap_area::add_reference(slot).is_error());  // at most one reference per process
        PagedMemory* memory = PagedMemory::find(mapping.directory);
        VERIFY(memory);
        VERIFY(!memory->space().tables().swap_out(mapping.vaddr, slot).is_error());
    }
    ++g_statistics.evictions;
    if (clean) ++g_statistics.clean_evictions;
    return {};
}

ErrorOr<u32> swap_in(u32 slot) {
    if (!g_active) return Error::IO;
    if (make_room().is_error()) return Error::NoMemory;
    u32 pfn = TRY(pmm::allocate(0));
    u64 started = cpu::read_tsc();
    auto read = swap_area::read(slot, pmm::frame_pointer(pfn));
    g_read_tsc += cpu::read_tsc() - started;
    if (read.is_error()) {
        pmm::free(pfn);
        ++g_statistics.read_errors;
        kwarn("swap", "%s: the page is lost", swap_area::last_error());
        return Error::IO;
    }
    pmm::set_frame_references(pfn, 1);
    ++g_statistics.major_faults;
    return pfn << kPageShift;
}

void swapped_in(u32 slot, u32 physical) {
    // The entry's reference moves to the frame when no one else names the slot: the slot is a clean copy.
    u32 index = index_of(physical >> kPageShift);
    if (swap_area::references(slot) == 1 && g_slot_of[index] == 0) {
        set_clean_copy(index, slot);
    } else {
        swap_area::release(slot);
    }
}

ErrorOr<void> duplicate_slot(u32 slot) { return swap_area::add_reference(slot); }

void release_slot(u32 slot) {
    if (g_active) swap_area::release(slot);
}

void shared_dirty(u32 physical) {
    if (!g_active) return;
    u32 index = index_of(physical >> kPageShift);
    if (u32 slot = g_slot_of[index]) {
        swap_area::release(slot);
        set_clean_copy(index, 0);
    }
}

void pin(u32 physical) {
    if (g_active) g_bits->pin(index_of(physical >> kPageShift));
}
void unpin() {
    if (g_active) g_bits->pin(PageBits::kNone);
}

void set_out_of_memory_handler(bool (*handler)()) { g_out_of_memory = handler; }
u64 swap_in_read_tsc() { return g_read_tsc; }
void set_roll_out_handler(bool (*handler)()) { g_roll_out_handler = handler; }

namespace {

// Up to `capacity` user addresses of `memory` whose entries satisfy `wanted(entry)`, into `out`.
template <typename Wanted>
u32 collect(PagedMemory& memory, u32* out, u32 capacity, Wanted wanted) {
    u32 count = 0;
    memory.space().tables().for_each_entry(0, kKernelBase / kPageSize, [&](u32 vaddr, PageTableEntry& entry) {
        if (count < capacity && wanted(entry)) out[count++] = vaddr;
    });
    return count;
}

// Microseconds since the time-stamp counter read `start` (roll-ins run with interrupts off, when the timer
// stands still; the counter is calibrated against the timer at boot, pit::tsc_per_ms).
u32 elapsed_us(u64 start) {
    u64 per_ms = pit::tsc_per_ms();
    return per_ms ? static_cast<u32>((cpu::read_tsc() - start) * 1000 / per_ms) : 0;
}

// A page of user addresses from the page allocator, for one roll-out or roll-in: page tables are not edited
// while they are walked, so the addresses are collected first, a page of them at a time.
class AddressBatch {
public:
    static constexpr u32 kCapacity = kPageSize / sizeof(u32);
    AddressBatch() {
        if (auto frame = pmm::allocate(0); !frame.is_error()) {
            m_pfn = frame.value();
            m_addresses = static_cast<u32*>(pmm::frame_pointer(m_pfn));
        }
    }
    ~AddressBatch() {
        if (m_addresses) pmm::free(m_pfn);
    }
    MNEME_NONCOPYABLE(AddressBatch);
    u32* addresses() const { return m_addresses; }

private:
    u32 m_pfn = 0;
    u32* m_addresses = nullptr;
};

}  // namespace

RollResult roll_out(PagedMemory& memory) {
    RollResult result;
    AddressBatch addresses;
    u32* batch = addresses.addresses();
    if (!g_active || !batch) return result;
    u64 start = cpu::read_tsc();
    u32 written_before = g_statistics.pages_out;
    for (;;) {
        // A frame another process maps too (copy-on-write after fork) stays: it is not this process's alone
        // to take out, and each process faulting it back would get its own copy (as shared text stayed in
        // memory on the swapping Unix systems while any process used it).
        u32 n = collect(memory, batch, AddressBatch::kCapacity, [](PageTableEntry& entry) {
            if (!entry.is_present()) return false;
            u32 pfn = entry.physical_address() >> kPageShift;
            return g_bits->evictable(index_of(pfn)) && frame_table::reverse_map().count(pfn) == 1;
        });
        u32 moved = 0;
        for (u32 i = 0; i < n; ++i) {
            PageTableEntry* entry = memory.space().tables().lookup(batch[i]);
            if (!entry || !entry->is_present()) continue;
            if (evict(entry->physical_address() >> kPageShift).is_error()) break;  // no slot: stop here
            ++moved;
        }
        result.pages += moved;
        if (n < AddressBatch::kCapacity || moved < n) break;
    }
    result.writes = g_statistics.pages_out - written_before;
    result.us = elapsed_us(start);
    if (result.pages) ++g_statistics.roll_outs;
    return result;
}

RollResult roll_in(PagedMemory& memory) {
    RollResult result;
    AddressBatch addresses;
    u32* batch = addresses.addresses();
    if (!g_active || !batch) return result;
    u64 start = cpu::read_tsc();
    // A process larger than the cap comes back in part; the rest follows by page faults.
    u32 room = g_cap > kMinimumCap ? g_cap - kMinimumCap : 0;
    const u32 slots = swap_area::slots().slot_count();
    u32 capacity = AddressBatch::kCapacity < room ? AddressBatch::kCapacity : room;
    u32 n = collect(memory, batch, capacity, [&](PageTableEntry& entry) {
        return !entry.is_present() && entry.not_present_payload() < slots;
    });
    for (u32 i = 0; i < n; ++i) {
        if (memory.fault_in(batch[i], false).is_error()) break;  // lost or no memory: the fault will say so
        ++result.pages;
    }
    result.us = elapsed_us(start);
    if (result.pages) ++g_statistics.roll_ins;
    return result;
}

void tick() {
    if (g_active) g_policy->tick(*g_bits);
}

void print_state() {
    if (!g_active) {
        kprintf("Swapping is off (mode %s).\n", mode_name(g_mode));
        swap_area::print_summary();
        return;
    }
    const Statistics& s = g_statistics;
    kprintf("Swapping: %s, policy %s; user frames %u resident, cap %u; %u free frames (watermark %u)\n",
            mode_name(g_mode), g_policy->name(), g_policy->resident_count(), g_cap, pmm::allocator().free_frames(),
            kLowWatermark);
    kprintf("  major faults %u, pages out %u, evictions %u (%u clean, %u shared), write errors %u, read errors %u, "
            "refused for want of a slot %u\n",
            s.major_faults, s.pages_out, s.evictions, s.clean_evictions, s.shared_evictions, s.write_errors,
            s.read_errors, s.out_of_swap);
    swap_area::print_summary();
    // The policy's own state: where the clock's hand is; aging's counters are shown per frame below.
    bool clock = g_kind == PolicyKind::Clock || g_kind == PolicyKind::EnhancedClock;
    bool aging = g_kind == PolicyKind::Aging;
    if (clock) {
        u32 hand = static_cast<const ClockPolicy&>(*g_policy).hand();
        if (hand != FrameList::kNone)
            kprintf("  clock hand at frame %#07x (the next sweep starts there)\n", (g_first_pfn + hand) << kPageShift);
    }
    // The policy's view of the first resident frames: A and D as the hardware shows them now.
    constexpr u32 kShown = 16;
    u32 shown = 0;
    kprintf("  first resident frames (A: accessed, D: written since loaded; slot: its clean copy%s):\n",
            aging ? "; age: aging's 8-bit register, most recent tick leftmost" : "");
    for (u32 index = 0; index < g_frames && shown < kShown; ++index) {
        if (!g_policy->is_resident(index)) continue;
        ++shown;
        kprintf("    frame %#07x  %s %s  slot %-5u mappings %u", (g_first_pfn + index) << kPageShift,
                g_bits->accessed(index) ? "A" : "-", g_bits->written(index) ? "D" : "-", g_slot_of[index],
                frame_table::reverse_map().count(g_first_pfn + index));
        if (aging) {
            u8 age = static_cast<const AgingPolicy&>(*g_policy).counter(index);
            char bits[9];
            for (int bit = 0; bit < 8; ++bit) bits[bit] = (age & (0x80 >> bit)) ? '1' : '0';
            bits[8] = '\0';
            kprintf("  age %s", bits);
        }
        if (clock && index == static_cast<const ClockPolicy&>(*g_policy).hand()) kprintf("  <- hand");
        kprintf("\n");
    }
}

bool check(FormatSink sink, void* context) {
    if (!g_active) return true;
    const ReverseMap& map = frame_table::reverse_map();
    for (u32 index = 0; index < g_frames; ++index) {
        bool mapped = map.is_mapped(g_first_pfn + index);
        if (mapped != g_policy->is_resident(index))
            return invariant_violation(sink, context, "swap: frame %#x is %s but the policy has it %s",
                                       (g_first_pfn + index) << kPageShift, mapped ? "mapped" : "not mapped",
                                       mapped ? "not resident" : "resident");
        if (!mapped && g_slot_of[index])
            return invariant_violation(sink, context, "swap: free frame %#x still names slot %u",
                                       (g_first_pfn + index) << kPageShift, g_slot_of[index]);
    }
    u32 copies = 0;
    for (u32 index = 0; index < g_frames; ++index) copies += g_slot_of[index] != 0;
    if (copies != g_clean_copies)
        return invariant_violation(sink, context, "swap: %u frames name a clean copy but the count says %u", copies,
                                   g_clean_copies);
    // Count the references to each slot: entries in every live space, and the frames' clean copies.
    const SwapSlotMap& slots = swap_area::slots();
    u64 bytes = u64(slots.slot_count()) * sizeof(u16);
    auto block = pmm::allocate(pmm::order_for(bytes));
    if (block.is_error()) return true;  // no memory to check with: say nothing
    u16* counts = static_cast<u16*>(pmm::frame_pointer(block.value()));
    memset(counts, 0, bytes);
    for (u32 index = 0; index < g_frames; ++index)
        if (g_slot_of[index]) ++counts[g_slot_of[index]];
    PagedMemory::for_each([&](PagedMemory& memory) {
        memory.space().tables().for_each_entry(0, kKernelBase / kPageSize, [&](u32, PageTableEntry& entry) {
            if (!entry.is_present() && entry.not_present_payload() < slots.slot_count())
                ++counts[entry.not_present_payload()];
        });
    });
    bool ok = true;
    for (u32 slot = 1; ok && slot < slots.slot_count(); ++slot)
        if (counts[slot] != slots.references(slot))
            ok = invariant_violation(sink, context, "swap: slot %u has %u references but %u entries and frames name it",
                                     slot, slots.references(slot), counts[slot]);
    pmm::free(block.value(), pmm::order_for(bytes));
    return ok;
}

}  // namespace swapper
