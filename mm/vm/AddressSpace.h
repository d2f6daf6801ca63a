// AddressSpace.h: a paged process's memory: its regions, its page tables, and every decision about them.
//
// This is the policy of process memory, pure and host-tested: which region covers an address, what a page
// fault means (mm/vm/FaultDecision.h) and how it is carried out, brk, mmap and mprotect with the commit rule,
// what fork copies, and the check of a user range before the kernel touches it. It runs over two small
// interfaces the caller supplies, so the kernel backs it with real page tables and the frame allocator
// (kernel/memmodel/PagedMemory.h) and a host test with tables in plain memory and a frame source that fails
// on demand (tests/host/AddressSpaceTest.cpp):
//   Ops    - mm/vm/PageTables.h's PageTableOps (tables, TLB invalidation, frame release)
//   Frames - where frames come from (the FrameSource concept below)
//
// Every mapping goes through the page tables' map/unmap/replace, whose Ops hooks keep the kernel's frame table
// (reverse map) exact; so fork, exit and copy-on-write need no extra bookkeeping here. Fork is the one place a
// frame gains a second mapping, so it is where a full reverse map shows up: fork_into fails with NoMemory.
//
// Demand-zero paging: regions start with no pages; the first touch faults and a zeroed frame is mapped.
// Copy-on-write: fork_into() maps every page of the parent into the child read-only, marked copy-on-write
// (Protection::copy_on_write) in both, and shares the frame (its reference count goes up); the first write
// faults and the writer gets a copy, or, when no one else uses the frame any more, simply write access.
// Not-present entries that carry a payload (a swap slot) are copied into the child too.
//
// The commit rule: the heap and the mappings of one process may together reserve at most the machine's
// managed memory less a reserve for the kernel (Frames::commit_limit()). Demand-zero pages are only
// promised, not taken, so several processes can still promise more than exists between them; then the
// fault path runs out of frames and reports OutOfMemory, and the kernel kills the process that touched it.
// A PROT_NONE mapping is a reservation, not a promise: it counts only once protect() (mprotect) makes pages
// of it accessible, and stops counting when they become PROT_NONE again.
//
// Invariants (check_invariants): the region map's, the page tables', and every present user page lies in
// a region.
//
// Locking: none inside; one address space is changed by one thread of control at a time (its process, or
// the kernel with that process stopped).
#pragma once

#include <utility>

#include "libc/base/Assert.h"
#include "libc/base/Error.h"
#include "libc/base/Invariant.h"
#include "libc/base/MemoryLayout.h"
#include "mm/vm/FaultDecision.h"
#include "mm/vm/PageTables.h"
#include "mm/vm/RegionMap.h"
#include "mm/vm/UserLayout.h"

// What an AddressSpace needs to get frames. Physical addresses throughout.
//   allocate_zeroed()     -> ErrorOr<u32>: a zeroed frame with one reference
//   allocate_copy(phys)   -> ErrorOr<u32>: a new frame with one reference holding a copy of `phys`
//   share(phys)              one more mapping uses `phys` (fork)
//   references(phys)      -> u32: how many mappings use `phys`
//   release(phys)            drop one reference (a frame that could not be mapped after all)
//   write(phys, offset, data, length)  copy bytes into a frame (building an exec image)
//   commit_limit()        -> u32: pages one process may reserve for heap and mappings
// Optional, for swapping (kernel/swap/Swapper.h; the host tests' frame source has them too):
//   swap_in(slot)         -> ErrorOr<u32>: a frame with one reference holding the page swapped out to `slot`
//                            (Error::IO when the disk could not read it: the page is lost)
//   swapped_in(slot, phys)   that frame is now mapped where the entry held `slot` (which lets go of it)
//   duplicate_payload(p)  -> ErrorOr<void>: fork copied a not-present entry holding swap slot `p` (one more
//                            reference to the slot)
//   shared_dirty(phys)       fork is about to share a frame whose entry is dirty: a copy of it kept in swap is
//                            stale (after fork the other entry's D bit no longer tells)
template <typename Frames>
concept FrameSource = requires(Frames& frames, u32 physical, const void* data) {
    requires std::is_same_v<decltype(frames.allocate_zeroed()), ErrorOr<u32>>;
    requires std::is_same_v<decltype(frames.allocate_copy(physical)), ErrorOr<u32>>;
    frames.share(physical);
    requires std::is_same_v<decltype(frames.references(physical)), u32>;
    frames.release(physical);
    frames.write(physical, physical, data, physical);
    requires std::is_same_v<decltype(frames.commit_limit()), u32>;
};

// How much of a process's memory is resident (for ps and mneme_procinfo).
struct MemoryStatistics {
    u32 resident_pages;  // present user pages
    u32 shared_pages;    // present pages whose frame is shared (reference count > 1)
    u32 heap_bytes;
    u32 mapped_bytes;
    u32 stack_bytes;  // stack pages in use (resident or swapped out), in bytes
    u32 swapped_pages;  // pages swapped out (not-present entries holding a swap slot)
    u32 major_faults;   // faults that read a page back from swap
};

template <PageTableOps Ops, FrameSource Frames>
class AddressSpace {
public:
    using Tables = PageTables<Ops>;

    MNEME_NONCOPYABLE(AddressSpace);

    // A fresh, empty space whose kernel half is `kernel`'s. Error::NoMemory if no page directory.
    static ErrorOr<AddressSpace> create(Ops& ops, const Tables& kernel, Frames& frames) {
        Tables tables = TRY(Tables::create(ops, kernel));
        return AddressSpace(std::move(tables), kernel, frames);
    }
    AddressSpace(AddressSpace&& other)
        : m_tables(std::move(other.m_tables)),
          m_kernel(other.m_kernel),
          m_frames(other.m_frames),
          m_regions(other.m_regions),
          m_heap_start(other.m_heap_start),
          m_brk(other.m_brk),
          m_page_faults(other.m_page_faults),
          m_major_faults(other.m_major_faults) {
        other.m_regions.clear();
    }
    AddressSpace& operator=(AddressSpace&&) = delete;
    ~AddressSpace() = default;  // the page tables give every frame back

    Tables& tables() { return m_tables; }
    const Tables& tables() const { return m_tables; }
    const RegionMap& regions() const { return m_regions; }
    u32 directory() const { return m_tables.directory_physical_address(); }
    u32 page_faults() const { return m_page_faults; }
    u32 major_faults() const { return m_major_faults; }  // of those, pages read back from swap
    u32 heap_start() const { return m_heap_start; }
    u32 current_break() const { return m_brk; }

    // -- building an image (exec) ------------------------------------------------------------------------
    ErrorOr<void> add_region(u32 start, u32 end, RegionKind kind, bool writable) {
        return m_regions.add(start, end, kind, writable);
    }
    // The heap region exists from the start, empty, at `address`; brk() grows it.
    ErrorOr<void> set_heap_start(u32 address) {
        TRY(m_regions.add(address, address, RegionKind::Heap, true));
        m_heap_start = m_brk = address;
        return {};
    }
    // Maps `pages` zeroed frames at `address` with its region's rights (segments and the initial stack).
    ErrorOr<void> populate(u32 address, u32 pages) {
        const MemoryRegion* region = m_regions.find(address);
        if (!region || address % kPageSize) return Error::Invalid;
        for (u32 i = 0; i < pages; ++i) {
            u32 page = address + i * kPageSize;
            if (m_tables.walk(page).mapped) continue;
            TRY(map_zeroed(page, region->writable));
        }
        return {};
    }
    // Copies into this space's pages, whichever space is current, and marks them dirty. A page of the image
    // that was swapped out meanwhile (building a large image can evict its first pages) is read back first.
    ErrorOr<void> write(u32 address, const void* data, u32 length) {
        const u8* bytes = static_cast<const u8*>(data);
        while (length > 0) {
            if (!m_tables.walk(address & ~(kPageSize - 1)).mapped &&
                handle_fault(address, false, false) != FaultResult::Resolved)
                return Error::BadAddress;
            u32 physical = TRY(translate(address));
            u32 chunk = kPageSize - (address % kPageSize);
            if (chunk > length) chunk = length;
            m_frames->write(physical & ~(kPageSize - 1), physical % kPageSize, bytes, chunk);
            // The copy went through the kernel's view of the frame, so the CPU did not set D in this entry; a
            // page read back from swap keeps its slot as a clean copy until D says otherwise, so say it here.
            m_tables.lookup(address & ~(kPageSize - 1))->set_dirty(true);
            address += chunk;
            bytes += chunk;
            length -= chunk;
        }
        return {};
    }

    // -- faults --------------------------------------------------------------------------------------------
    // `fault_on_present` is the error code's P bit. Resolved means: retry the instruction.
    FaultResult handle_fault(u32 address, bool write, bool fault_on_present) {
        u32 page = address & ~(kPageSize - 1);
        const MemoryRegion* region = address < kKernelBase ? m_regions.find(address) : nullptr;
        PageState state = page_state(page);
        FaultDecision decision = decide_fault(region, address, write, fault_on_present, state);
        switch (decision.action) {
        case FaultAction::Kill: return decision.reason;
        case FaultAction::Retry: return FaultResult::Resolved;
        case FaultAction::MapZeroed:
            if (map_zeroed(page, region->writable).is_error()) return FaultResult::OutOfMemory;
            break;
        case FaultAction::SwapIn:
            if (FaultResult result = swap_in(page, state.swap_slot, region->writable); result != FaultResult::Resolved)
                return result;
            ++m_major_faults;
            break;
        case FaultAction::CopyPage: {
            auto copy = m_frames->allocate_copy(state.frame);
            if (copy.is_error()) return FaultResult::OutOfMemory;
            // replace() invalidates the TLB entry before it releases the parent's reference to the old frame. It
            // fails only when the frame table has no room to record the copy (it is a fresh frame, so it has).
            if (m_tables.replace(page, copy.value(), user_protection(true)).is_error()) {
                m_frames->release(copy.value());
                return FaultResult::OutOfMemory;
            }
            break;
        }
        case FaultAction::MakeWritable: VERIFY(!m_tables.protect(page, user_protection(true)).is_error()); break;
        }
        ++m_page_faults;
        return FaultResult::Resolved;
    }

    // Checks that [address, address+length) lies in the process's regions with the rights asked (readable,
    // or writable). Touches no page: a bad range costs no memory. Error::BadAddress otherwise.
    ErrorOr<void> validate_user_range(u32 address, u32 length, bool write) const {
        if (length == 0) return {};
        if (address >= kKernelBase || length > kKernelBase - address) return Error::BadAddress;
        u32 end = address + length;
        for (u32 at = address; at < end;) {
            const MemoryRegion* region = m_regions.find(at);
            if (!region || !region->accessible || (write && !region->writable)) return Error::BadAddress;
            at = region->end;
        }
        return {};
    }

    // Makes the page holding `address` present with the rights asked (a demand-zero, copy-on-write or major
    // fault, as if the process had touched it), so the kernel can then touch it without faulting. The caller
    // has validated the range. Error::IO when the page was swapped out and could not be read back (its data
    // is lost), BadAddress for anything else (no frame, no memory).
    ErrorOr<void> fault_in(u32 address, bool write) {
        u32 page = address & ~(kPageSize - 1);
        Walk w = m_tables.walk(page);
        if (w.mapped && w.pte.is_user() && (!write || w.pte.is_writable())) return {};
        FaultResult result = handle_fault(page, write, w.mapped);
        if (result == FaultResult::Resolved) return {};
        return result == FaultResult::SwapInFailed ? Error::IO : Error::BadAddress;
    }

    // validate_user_range(), then fault_in() every page of the range. With swapping, faulting in a later page
    // may evict an earlier one: a kernel that copies must fault in and copy one page at a time
    // (kernel/memmodel/MemoryModel.cpp does).
    ErrorOr<void> check_user_range(u32 address, u32 length, bool write) {
        TRY(validate_user_range(address, length, write));
        if (length == 0) return {};
        for (u32 page = address & ~(kPageSize - 1); page < address + length; page += kPageSize)
            TRY(fault_in(page, write));
        return {};
    }

    // The physical address mapped at `address`, or BadAddress.
    ErrorOr<u32> translate(u32 address) const {
        if (address >= kKernelBase) return Error::BadAddress;
        Walk w = m_tables.walk(address);
        if (!w.mapped) return Error::BadAddress;
        return w.physical;
    }

    // -- brk and mmap ----------------------------------------------------------------------------------------
    // brk(0) asks; brk(address) moves the break (Linux semantics: returns the new break, or the old one when
    // refused). Growing only promises pages (the commit rule); shrinking gives them back at once.
    u32 brk(u32 address) {
        if (address == 0 || address < m_heap_start) return m_brk;
        MemoryRegion* heap = m_regions.heap();
        if (!heap) return m_brk;
        u32 new_end = (address + kPageSize - 1) & ~(kPageSize - 1);
        if (address > user_layout::kMappingBase || new_end < address) return m_brk;  // would reach the mmap area
        u32 old_end = heap->end;
        if (new_end > old_end) {
            if (m_regions.overlaps(old_end, new_end, heap)) return m_brk;
            if (!can_commit((new_end - old_end) / kPageSize)) return m_brk;
            heap->end = new_end;
        } else if (new_end < old_end) {
            unmap_pages(new_end, (old_end - new_end) / kPageSize);
            heap->end = new_end;
        }
        m_brk = address;
        return m_brk;
    }

    // An anonymous mapping of `length` bytes, first fit above the mmap base. Error::Invalid (empty or too
    // big), NoMemory (the commit rule, or no room). An inaccessible one (PROT_NONE) reserves the range
    // without promising memory, so the commit rule does not count it.
    ErrorOr<u32> map_anonymous(u32 length, bool writable, bool accessible = true) {
        using namespace user_layout;
        if (length == 0 || length > kMappingTop - kMappingBase) return Error::Invalid;
        u32 size = (length + kPageSize - 1) & ~(kPageSize - 1);
        if (accessible && !can_commit(size / kPageSize)) return Error::NoMemory;
        u32 start = TRY(m_regions.find_hole(kMappingBase, kMappingTop, size));
        if (MemoryRegion* before = m_regions.mapping_ending_at(start, writable, accessible)) {
            before->end = start + size;
            return start;
        }
        TRY(m_regions.add(start, start + size, RegionKind::Mapping, writable, accessible));
        return start;
    }

    // munmap: only mmap regions may be unmapped (the program, heap and stack have their own calls).
    ErrorOr<void> unmap(u32 address, u32 length) {
        if (address % kPageSize || length == 0 || address >= kKernelBase || length > kKernelBase - address)
            return Error::Invalid;
        u32 end = (address + length + kPageSize - 1) & ~(kPageSize - 1);
        for (u32 i = 0; i < m_regions.count(); ++i) {
            const MemoryRegion& r = m_regions[i];
            if (r.kind != RegionKind::Mapping && address < r.end && end > r.start) return Error::Invalid;
        }
        TRY(m_regions.remove_mappings(address, end));
        unmap_pages(address, (end - address) / kPageSize);
        return {};
    }

    // mprotect: gives the mmap pages in [address, address + length) the rights `prot` asks for
    // (region_access: PROT_READ, PROT_WRITE, PROT_EXEC, or PROT_NONE). Pages that become accessible are a new
    // promise, counted by the commit rule; pages that become PROT_NONE stop counting and give their frames
    // (and swap slots) back at once, so they read as zeros when made accessible again. Present pages that
    // become read-only lose write access now; those that become writable are marked copy-on-write, so the
    // first write faults and gets its frame to itself (a copy while another process still shares it).
    // Errors, nothing changed: Invalid (unaligned address, bad prot, the range reaches the program, heap or
    // stack), NoMemory (part of the range is not mapped, the commit rule, or no region slot for a split).
    ErrorOr<void> protect(u32 address, u32 length, u32 prot) {
        RegionAccess access = TRY(region_access(prot));
        if (address % kPageSize) return Error::Invalid;
        if (length == 0) return {};
        if (address >= kKernelBase || length > kKernelBase - address) return Error::NoMemory;
        u32 end = (address + length + kPageSize - 1) & ~(kPageSize - 1);
        TRY(m_regions.check_protect(address, end, access.writable, access.accessible));
        auto for_each_piece = [&](auto visit) {  // visit(piece start, pages, the region's rights until now)
            for (u32 i = 0; i < m_regions.count(); ++i) {
                const MemoryRegion& r = m_regions[i];
                if (end <= r.start || address >= r.end || r.start == r.end) continue;
                u32 from = r.start > address ? r.start : address, to = r.end < end ? r.end : end;
                visit(from, (to - from) / kPageSize, r);
            }
        };
        u32 promised = 0;
        for_each_piece([&](u32, u32 pages, const MemoryRegion& r) {
            if (!r.accessible && access.accessible) promised += pages;
        });
        if (promised != 0 && !can_commit(promised)) return Error::NoMemory;
        // The page tables first, while the regions still hold the old rights; then the regions, which
        // check_protect has vouched for.
        Protection changed = user_protection(false);
        changed.copy_on_write = access.writable;
        for_each_piece([&](u32 from, u32 pages, const MemoryRegion& r) {
            if (r.accessible && !access.accessible) {
                unmap_pages(from, pages);
            } else if (access.accessible && r.writable != access.writable) {
                m_tables.for_each_mapping(from, pages, [&](u32 vaddr, TableEntry&) {
                    VERIFY(!m_tables.protect(vaddr, changed).is_error());  // invalidates the TLB entry
                });
            }
        });
        VERIFY(!m_regions.protect_mappings(address, end, access.writable, access.accessible).is_error());
        return {};
    }

    // -- fork ------------------------------------------------------------------------------------------------
    // Copies this space into `child` (fresh from create()): the regions, every present page shared
    // copy-on-write (writable pages become read-only in both), every not-present entry with a payload. On
    // failure `child` may hold part of the copy; the caller destroys it.
    ErrorOr<void> fork_into(AddressSpace& child) {
        child.m_regions = m_regions;
        child.m_heap_start = m_heap_start;
        child.m_brk = m_brk;
        bool failed = false;
        m_tables.for_each_entry(0, kKernelBase / kPageSize, [&](u32 vaddr, TableEntry& entry) {
            if (failed) return;
            if (!entry.is_present()) {
                if (child.m_tables.set_not_present(vaddr, entry.not_present_payload()).is_error()) {
                    failed = true;
                    return;
                }
                if constexpr (requires { m_frames->duplicate_payload(0u); }) {
                    if (m_frames->duplicate_payload(entry.not_present_payload()).is_error()) {
                        // The child's entry is not counted: take it out again before the child is destroyed.
                        *child.m_tables.lookup(vaddr) = TableEntry{};
                        failed = true;
                    }
                }
                return;
            }
            Protection protection = Tables::protection_of(entry);
            if constexpr (requires { m_frames->shared_dirty(0u); }) {
                if (entry.is_dirty()) m_frames->shared_dirty(entry.physical_address());
            }
            if (protection.writable || protection.copy_on_write) {
                protection.writable = false;
                protection.copy_on_write = true;
                // The parent loses write access: protect() invalidates its TLB entry (SDM 4.10.4.2).
                VERIFY(!m_tables.protect(vaddr, protection).is_error());
            }
            u32 physical = entry.physical_address();
            if (child.m_tables.map(vaddr, physical, protection).is_error()) {
                failed = true;
                return;
            }
            m_frames->share(physical);
        });
        if (failed) return Error::NoMemory;
        return {};
    }

    // -- inspection ------------------------------------------------------------------------------------------
    MemoryStatistics statistics() {
        MemoryStatistics s{};
        m_tables.for_each_mapping(0, kKernelBase / kPageSize, [&](u32 vaddr, TableEntry& entry) {
            ++s.resident_pages;
            if (m_frames->references(entry.physical_address()) > 1) ++s.shared_pages;
            if (vaddr >= user_layout::kStackBottom) s.stack_bytes += kPageSize;
        });
        m_tables.for_each_entry(0, kKernelBase / kPageSize, [&](u32 vaddr, TableEntry& entry) {
            if (entry.is_present()) return;
            ++s.swapped_pages;
            if (vaddr >= user_layout::kStackBottom) s.stack_bytes += kPageSize;
        });
        for (u32 i = 0; i < m_regions.count(); ++i)  // a PROT_NONE reservation is no memory: not counted
            if (m_regions[i].kind == RegionKind::Mapping && m_regions[i].accessible)
                s.mapped_bytes += m_regions[i].end - m_regions[i].start;
        s.heap_bytes = m_brk - m_heap_start;
        s.major_faults = m_major_faults;
        return s;
    }

    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const {
        if (!m_regions.check_invariants(sink, context)) return false;
        if (!m_tables.check_invariants(m_kernel, sink, context)) return false;
        bool ok = true;
        const_cast<Tables&>(m_tables).for_each_mapping(0, kKernelBase / kPageSize, [&](u32 vaddr, TableEntry&) {
            if (ok && !m_regions.find(vaddr))
                ok = invariant_violation(sink, context, "AddressSpace: page %#x is mapped outside every region", vaddr);
        });
        return ok;
    }

private:
    using TableEntry = typename Tables::TableEntry;
    using Walk = typename Tables::Walk;

    AddressSpace(Tables&& tables, const Tables& kernel, Frames& frames)
        : m_tables(std::move(tables)), m_kernel(&kernel), m_frames(&frames) {}

    static Protection user_protection(bool writable) { return {.writable = writable, .user = true}; }

    PageState page_state(u32 page) {
        Walk w = m_tables.walk(page);
        if (!w.mapped) {
            const TableEntry* entry = m_tables.lookup(page);
            return {.swap_slot = entry ? entry->not_present_payload() : 0};
        }
        Protection p = Tables::protection_of(w.pte);
        return {.present = true,
                .copy_on_write = p.copy_on_write,
                .shared = m_frames->references(w.pte.physical_address()) > 1,
                .frame = w.pte.physical_address()};
    }

    // A major fault: the page's entry holds `slot`; read it back into a fresh frame and map it. Each space that
    // faults on a slot gets its own frame (a page shared copy-on-write before it was swapped out comes back
    // private to each: the same data, and a write no longer needs a copy).
    FaultResult swap_in(u32 page, u32 slot, bool writable) {
        if constexpr (requires { m_frames->swap_in(0u); }) {
            auto frame = m_frames->swap_in(slot);
            if (frame.is_error())
                return frame.error() == Error::IO ? FaultResult::SwapInFailed : FaultResult::OutOfMemory;
            TableEntry* entry = m_tables.lookup(page);
            *entry = TableEntry{};  // map() refuses an entry in use; the slot is handed on below
            if (m_tables.map(page, frame.value(), user_protection(writable)).is_error()) {
                *entry = TableEntry::make_not_present(slot);
                m_frames->release(frame.value());
                return FaultResult::OutOfMemory;
            }
            m_frames->swapped_in(slot, frame.value());
            return FaultResult::Resolved;
        } else {
            (void)page, (void)slot, (void)writable;
            return FaultResult::SwapInFailed;  // a frame source without swap never writes a slot to an entry
        }
    }

    ErrorOr<void> map_zeroed(u32 page, bool writable) {
        u32 frame = TRY(m_frames->allocate_zeroed());
        auto mapped = m_tables.map(page, frame, user_protection(writable));
        if (mapped.is_error()) {
            m_frames->release(frame);
            return mapped.error();
        }
        return {};
    }

    void unmap_pages(u32 address, u32 pages) {
        // Holes are skipped; the range lies in this space's own half, so unmap_range cannot refuse it.
        VERIFY(!m_tables.unmap_range(address, pages).is_error());
    }

    bool can_commit(u32 pages) const {
        u32 limit = m_frames->commit_limit();
        u32 reserved = m_regions.reserved_pages();
        return reserved <= limit && pages <= limit - reserved;
    }

    Tables m_tables;
    const Tables* m_kernel;
    Frames* m_frames;
    RegionMap m_regions;
    u32 m_heap_start = 0;
    u32 m_brk = 0;
    u32 m_page_faults = 0;
    u32 m_major_faults = 0;
};
