// RegionMap.h: the regions of a process's address space (what Linux calls VMAs), with no page tables.
//
// A region says what *may* be mapped at an address and how: the program's ELF segments, the heap that brk
// moves, anonymous mmap mappings and the stack. Whether a page *is* mapped is the page tables' business
// (mm/vm/PageTables.h); mm/vm/AddressSpace.h joins the two. Regions are page-aligned, half-open
// [start, end), never overlap, and number at most kMaxRegions (a fixed array: a region table never
// allocates, so a process cannot exhaust the kernel heap by mapping many small regions).
//
// Invariants (check_invariants): every region is page-aligned, start <= end, below the kernel base; no two
// overlap; at most one heap region.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Format.h"
#include "libc/base/MemoryLayout.h"
#include "libc/base/Types.h"

enum class RegionKind : u8 { Program, Heap, Mapping, Stack };
const char* region_kind_name(RegionKind kind);

// The rights mmap's and mprotect's `prot` argument asks for (PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4, as in
// Linux; 0 is PROT_NONE). 32-bit paging cannot refuse a read of a present page or an instruction fetch from
// it (Intel SDM Vol. 3A, 4.6), so any of the three makes a range accessible, and only PROT_WRITE adds write.
struct RegionAccess {
    bool writable;
    bool accessible;
};
// Error::Invalid when `prot` has a bit other than those three.
ErrorOr<RegionAccess> region_access(u32 prot);

struct MemoryRegion {
    u32 start;  // page-aligned
    u32 end;    // page-aligned, exclusive
    RegionKind kind;
    bool writable;
    // false for PROT_NONE: the range is reserved but no access is allowed, so no page is ever mapped there
    // (32-bit paging cannot express a present page that cannot be read; Intel SDM Vol. 3A, 4.6).
    bool accessible = true;
    bool contains(u32 address) const { return address >= start && address < end; }
    u32 pages() const { return (end - start) / kPageSize; }
};

class RegionMap {
public:
    static constexpr u32 kMaxRegions = 64;

    // Error::Invalid (unaligned, reversed, reaching the kernel half), Exists (overlaps), NoMemory (table full).
    ErrorOr<void> add(u32 start, u32 end, RegionKind kind, bool writable, bool accessible = true);
    const MemoryRegion* find(u32 address) const;
    MemoryRegion* heap();
    bool overlaps(u32 start, u32 end, const MemoryRegion* except = nullptr) const;

    // The lowest address >= `from` where `size` bytes fit below `limit` without touching a region (first
    // fit), or Error::NoMemory.
    ErrorOr<u32> find_hole(u32 from, u32 limit, u32 size) const;
    // The Mapping region with these rights that ends exactly at `address`, if any (mmap extends it, as
    // Linux merges adjacent anonymous VMAs, so many mappings do not use up the table).
    MemoryRegion* mapping_ending_at(u32 address, bool writable, bool accessible = true);
    // Cuts [start, end) out of the Mapping regions: removes, shrinks or splits them. Error::NoMemory (and
    // nothing changed) if a split needs a slot and the table is full.
    ErrorOr<void> remove_mappings(u32 start, u32 end);
    // mprotect's part: gives every Mapping region in [start, end) the rights `writable` and `accessible`,
    // splitting the regions cut by the range's ends and merging neighbours that end up with equal rights
    // (so a reservation committed piece by piece stays a few regions). Errors, with nothing changed:
    // NoMemory (part of the range is in no region, or the table has no slot for a split), Invalid (part of
    // it is the program, heap or stack, whose rights do not change).
    ErrorOr<void> protect_mappings(u32 start, u32 end, bool writable, bool accessible);
    // The same checks alone: whether protect_mappings would succeed.
    ErrorOr<void> check_protect(u32 start, u32 end, bool writable, bool accessible) const;

    // Pages of demand-zero memory promised to the heap and the mappings (what the commit rule counts). A
    // PROT_NONE mapping is a reservation, not a promise: it is not counted.
    u32 reserved_pages() const;
    u32 count() const { return m_count; }
    const MemoryRegion& operator[](u32 index) const { return m_regions[index]; }
    void clear() { m_count = 0; }

    bool check_invariants(FormatSink sink = nullptr, void* context = nullptr) const;

private:
    MemoryRegion m_regions[kMaxRegions];
    u32 m_count = 0;
};
