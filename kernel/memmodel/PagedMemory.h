// PagedMemory.h: a process's address space as regions of virtual memory, and the page faults that fill them.
//
// A process's memory is a list of regions (Linux calls them VMAs): the program's segments, the heap that
// brk moves, anonymous mmap mappings and the stack. A region says what *may* be mapped and how; the page
// tables (an PageTables) say what *is* mapped. Most pages start out not present: the first touch raises a
// page fault, and handle_fault() maps a zeroed frame if the address lies in a region (demand-zero paging).
// After fork, parent and child share their frames read-only with the copy-on-write mark in the PTE; the
// first write faults and handle_fault() copies the frame (or, when no one else uses it any more, simply makes
// it writable again).
//
// Layout (kernel/boot/Layout.h): the program at 0x00400000, the heap from the end of its last segment up, mmap
// regions from 0x40000000 up, the stack below 0xC0000000, at most 8 MiB.
#pragma once

#include "kernel/mm/KernelPageTables.h"
#include "libc/base/Error.h"

enum class RegionKind : u8 { Program, Heap, Mapping, Stack };

struct MemoryRegion {
    u32 start;  // page-aligned
    u32 end;    // page-aligned, exclusive
    RegionKind kind;
    bool writable;
    bool contains(u32 address) const { return address >= start && address < end; }
};

// What handle_fault() decided.
enum class FaultResult {
    Resolved,         // a page was mapped (demand-zero) or copied (copy-on-write): retry the instruction
    NotInRegion,      // no region covers the address: a wild pointer
    StackOverflow,    // just below the stack's 8 MiB limit
    ProtectionFault,  // the region or page forbids the access (write to code, user access to the kernel)
    OutOfMemory,      // no frame for the page
};
const char* fault_result_name(FaultResult result);

struct MemoryStatistics {
    u32 resident_pages;  // present user pages
    u32 shared_pages;    // present pages whose frame is shared (reference count > 1)
    u32 heap_bytes;
    u32 mapped_bytes;
    u32 stack_bytes;  // present stack pages, in bytes
};

class PagedMemory {
public:
    static constexpr u32 kProgramBase = 0x00400000;
    static constexpr u32 kMappingBase = 0x40000000;
    static constexpr u32 kStackTop = 0xC0000000;
    static constexpr u32 kStackLimit = 8 * 1024 * 1024;
    static constexpr u32 kStackBottom = kStackTop - kStackLimit;
    static constexpr u32 kMappingTop = kStackBottom - 16 * 1024 * 1024;  // a gap below the stack
    static constexpr u32 kMaxRegions = 64;
    static constexpr u32 kPage = 4096;

    PagedMemory() = default;
    MNEME_NONCOPYABLE(PagedMemory);
    ~PagedMemory() { release(); }

    // A fresh, empty space (kernel half shared). Error::NoMemory if no page directory.
    ErrorOr<void> create();
    // Gives back every frame and page table.
    void release();
    // Replaces this space by `other`'s (execve's switch to the new image); `other` is left empty.
    void take_from(PagedMemory& other);
    bool exists() const { return m_has_space; }
    u32 directory() const;
    KernelPageTables& space();

    // -- building an image (exec) ------------------------------------------------------------------------
    ErrorOr<void> add_region(u32 start, u32 end, RegionKind kind, bool writable);
    // Maps `pages` zeroed frames at `address` with the region's rights (for segments and the initial stack).
    ErrorOr<void> populate(u32 address, u32 pages);
    // Writes into this space through the direct map (it need not be the current one).
    ErrorOr<void> write(u32 address, const void* data, u32 length);
    void set_heap_start(u32 address);

    // -- faults --------------------------------------------------------------------------------------------
    FaultResult handle_fault(u32 address, bool write, bool present);
    u32 page_faults() const { return m_page_faults; }

    // -- system calls ----------------------------------------------------------------------------------------
    // brk(0) asks; brk(address) moves the break (Linux semantics: returns the new break, or the old one when
    // refused).
    u32 brk(u32 address);
    ErrorOr<u32> map_anonymous(u32 length, bool writable);
    ErrorOr<void> unmap(u32 address, u32 length);
    // Copies this space into `child` for fork: regions copied, frames shared copy-on-write.
    ErrorOr<void> fork_into(PagedMemory& child);

    // Checks that [address, address+length) is user memory the process may read (or write), faulting in
    // pages (demand-zero, copy-on-write) so the kernel can then touch it without faulting. This space must
    // be the current one. Error::BadAddress otherwise.
    ErrorOr<void> check_user_range(u32 address, u32 length, bool write);
    ErrorOr<void> copy_from_user(void* destination, u32 source, u32 length);
    ErrorOr<void> copy_to_user(u32 destination, const void* source, u32 length);
    // Copies a NUL-terminated string of at most capacity-1 characters; Error::TooBig if longer.
    ErrorOr<u32> copy_string_from_user(char* destination, u32 source, u32 capacity);

    // The physical address mapped at `address` (for mneme_frame_of), or BadAddress.
    ErrorOr<u32> translate(u32 address);
    MemoryStatistics statistics();
    const MemoryRegion* find_region(u32 address) const;
    u32 region_count() const { return m_region_count; }
    const MemoryRegion& region(u32 index) const { return m_regions[index]; }

private:
    ErrorOr<void> map_zeroed(u32 page, bool writable);
    bool overlaps(u32 start, u32 end) const;
    void remove_region_range(u32 start, u32 end);
    // May this process reserve `pages` more of demand-zero memory (heap and mappings)? See brk().
    bool can_commit(u32 pages) const;
    u32 reserved_pages() const;

    alignas(KernelPageTables) u8 m_space_storage[sizeof(KernelPageTables)];
    bool m_has_space = false;
    MemoryRegion m_regions[kMaxRegions];
    u32 m_region_count = 0;
    u32 m_heap_start = 0;
    u32 m_brk = 0;
    u32 m_page_faults = 0;
};
