// MemoryModel.h: what a process's memory is, behind one interface.
//
// The course notes build memory management up in generations (static relocation, base and bounds,
// segmentation, paging); in Mneme each generation is a way a process's memory can work, chosen when the
// process starts. Everything the rest of the kernel does with a process's memory goes through this
// interface: exec builds the image with add_region/populate/write, the scheduler calls activate() on every
// switch, the fault handler calls handle_fault(), the system calls check and copy user pointers and call
// brk/mmap/munmap/mprotect, fork calls fork(). The paged model (kernel/memmodel/PagedMemory.h) is the first
// implementation; its decisions are mm/vm/AddressSpace.h's.
//
// A model is created by its own factory (PagedMemory::create), owned by its process, and deleted when the
// process ends or execs (after another model was activated: a model never deletes the memory the CPU is
// using).
#pragma once

#include "libc/base/Error.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultDecision.h"
#include "mm/vm/RegionMap.h"

// The generations of the course notes, as a process can run under them (boot option memory=, or
// MNEME_MEMORY=NAME in the program's environment).
enum class MemoryModelKind : u8 { Paging, Static, BaseBounds, Segments };
// "paging", "static", "base-bounds", "segments".
const char* memory_model_name(MemoryModelKind model);
bool parse_memory_model(const char* name, MemoryModelKind& out);

class MemoryModel {
public:
    virtual ~MemoryModel() = default;
    // "paging", "static", "base-bounds" (ps shows it).
    virtual const char* name() const = 0;
    virtual MemoryModelKind model() const { return MemoryModelKind::Paging; }
    // Which process this memory is (for the models' own messages and views).
    virtual void set_owner(i32, const char*) {}
    // This model as paged memory (page tables, swappable), or null for a model without pages.
    virtual class PagedMemory* as_paged() { return nullptr; }
    // This model as one of the older ones, on the arena (static, base-bounds, segments), or null.
    virtual class SegmentedMemory* as_segmented() { return nullptr; }

    // -- building an image (exec) -----------------------------------------------------------------------------
    virtual ErrorOr<void> add_region(u32 start, u32 end, RegionKind kind, bool writable) = 0;
    // Makes `pages` pages at `address` resident (zeroed), with their region's rights.
    virtual ErrorOr<void> populate(u32 address, u32 pages) = 0;
    // Writes into this model's memory, whichever model is active.
    virtual ErrorOr<void> write(u32 address, const void* data, u32 length) = 0;
    virtual ErrorOr<void> set_heap_start(u32 address) = 0;

    // -- running -------------------------------------------------------------------------------------------
    // Makes this the memory the CPU translates user addresses with (the scheduler calls it on every switch).
    virtual void activate() = 0;
    // A page fault at `address` in user mode; `fault_on_present` is the error code's P bit.
    virtual FaultResult handle_fault(u32 address, bool write, bool fault_on_present) = 0;
    // A fault handle_fault() did not resolve, at linear `address` (a write or not, the instruction at `eip`), in
    // this model's words ("offset 0x30010 beyond the limit 0x2ffff of its segment; ..."); false to let the caller
    // describe it as a page fault.
    virtual bool explain_fault(u32, bool, u32, char*, u32) const { return false; }
    // "base 0x10012000, limit 0x2ffff" for a #GP or #SS report; empty for paging.
    virtual void describe_segments(char* buffer, u32 size) const {
        if (size) buffer[0] = '\0';
    }
    virtual u32 brk(u32 address) = 0;
    // `accessible` false is PROT_NONE: the range is reserved, and every access to it faults.
    virtual ErrorOr<u32> map_anonymous(u32 length, bool writable, bool accessible) = 0;
    virtual ErrorOr<void> unmap(u32 address, u32 length) = 0;
    // mprotect: new rights (`prot`, PROT_* bits) for the mapped pages in the range; pages made accessible are
    // promised (the commit rule), pages made PROT_NONE are given back.
    virtual ErrorOr<void> protect(u32 address, u32 length, u32 prot) = 0;
    // A copy of this memory for a forked child (shared copy-on-write where the model can).
    virtual ErrorOr<MemoryModel*> fork() = 0;

    // -- user pointers ---------------------------------------------------------------------------------------
    // The kernel reaches user memory in two steps: the whole range is validated first (it lies in the
    // process's memory with the rights asked; Error::BadAddress, and no page is touched), then each page is
    // made resident just before the kernel copies that page (fault_in: Error::IO when the page was lost to a
    // disk error, BadAddress otherwise). One page at a time, because with swapping, making a later page
    // resident may evict an earlier one: nothing else runs between a page's fault_in and its copy (the kernel
    // is not preempted in a copy). The copies below do both; this model must be the active one.
    virtual ErrorOr<void> validate_user_range(u32 address, u32 length, bool write) = 0;
    virtual ErrorOr<void> fault_in(u32 address, bool write) = 0;
    // A fault_in() found the page lost (Error::IO): the system call returns, then the process is killed, as
    // it would have been had it touched the page itself (kernel/proc/Syscalls.cpp).
    bool page_lost() const { return m_page_lost; }
    // Where the kernel reaches user address `address` of the active model.
    virtual void* user_pointer(u32 address) = 0;
    // The selectors the process runs with (the flat user segments of the GDT unless the model has an LDT).
    virtual u16 user_code_selector() const;
    virtual u16 user_data_selector() const;
    ErrorOr<void> copy_from_user(void* destination, u32 source, u32 length);
    ErrorOr<void> copy_to_user(u32 destination, const void* source, u32 length);
    // Copies a NUL-terminated string of at most capacity-1 characters; Error::TooBig if longer.
    ErrorOr<u32> copy_string_from_user(char* destination, u32 source, u32 capacity);

    // -- inspection ------------------------------------------------------------------------------------------
    // The physical address behind user address `address`, or BadAddress (mneme_frame_of).
    virtual ErrorOr<u32> translate(u32 address) = 0;
    virtual MemoryStatistics statistics() = 0;
    virtual u32 page_faults() const = 0;
    virtual u32 major_faults() const { return 0; }  // of those, pages read back from swap
    virtual bool check_invariants() const = 0;

protected:
    bool m_page_lost = false;
};
