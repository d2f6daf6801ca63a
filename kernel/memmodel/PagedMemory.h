// PagedMemory.h: the paged memory model: a process's memory is an mm/vm/AddressSpace over the real page
// tables and the frame allocator.
//
// Everything that decides (regions, demand-zero and copy-on-write faults, brk and mmap with the commit rule,
// fork's sharing) is mm/vm/AddressSpace.h's, host-tested; this class is the glue: it supplies the frames
// (UserFrames: the page allocator and the frames' reference counts), reaches user memory through the
// active page directory, and loads CR3 through kernel/mm/Tlb.h.
#pragma once

#include "kernel/memmodel/MemoryModel.h"
#include "kernel/mm/KernelPageTables.h"

// Frames for user pages, from kernel/mm/PhysicalMemory (mm/vm/AddressSpace.h's FrameSource).
struct UserFrames {
    ErrorOr<u32> allocate_zeroed();
    ErrorOr<u32> allocate_copy(u32 source);
    void share(u32 physical);
    u32 references(u32 physical);
    void release(u32 physical);
    void write(u32 physical, u32 offset, const void* data, u32 length);
    u32 commit_limit();
    // Swapping (kernel/swap/Swapper.h).
    ErrorOr<u32> swap_in(u32 slot);
    void swapped_in(u32 slot, u32 physical);
    ErrorOr<void> duplicate_payload(u32 slot);
    void shared_dirty(u32 physical);
};

using UserAddressSpace = AddressSpace<KernelPageTableOps, UserFrames>;

class PagedMemory final : public MemoryModel {
public:
    // A fresh, empty paged memory (kernel half shared). Error::NoMemory if no page directory or no heap.
    static ErrorOr<PagedMemory*> create();
    ~PagedMemory() override;

    const char* name() const override { return "paging"; }
    PagedMemory* as_paged() override { return this; }
    ErrorOr<void> add_region(u32 start, u32 end, RegionKind kind, bool writable) override {
        return m_space.add_region(start, end, kind, writable);
    }
    ErrorOr<void> populate(u32 address, u32 pages) override { return m_space.populate(address, pages); }
    ErrorOr<void> write(u32 address, const void* data, u32 length) override {
        return m_space.write(address, data, length);
    }
    ErrorOr<void> set_heap_start(u32 address) override { return m_space.set_heap_start(address); }

    void activate() override;
    FaultResult handle_fault(u32 address, bool write, bool fault_on_present) override {
        return m_space.handle_fault(address, write, fault_on_present);
    }
    u32 brk(u32 address) override { return m_space.brk(address); }
    ErrorOr<u32> map_anonymous(u32 length, bool writable, bool accessible) override {
        return m_space.map_anonymous(length, writable, accessible);
    }
    ErrorOr<void> unmap(u32 address, u32 length) override { return m_space.unmap(address, length); }
    ErrorOr<void> protect(u32 address, u32 length, u32 prot) override { return m_space.protect(address, length, prot); }
    ErrorOr<MemoryModel*> fork() override;

    ErrorOr<void> validate_user_range(u32 address, u32 length, bool write) override {
        return m_space.validate_user_range(address, length, write);
    }
    ErrorOr<void> fault_in(u32 address, bool write) override;
    // The active directory maps user addresses where the process sees them.
    void* user_pointer(u32 address) override { return reinterpret_cast<void*>(address); }

    ErrorOr<u32> translate(u32 address) override { return m_space.translate(address); }
    MemoryStatistics statistics() override { return m_space.statistics(); }
    u32 page_faults() const override { return m_space.page_faults(); }
    u32 major_faults() const override { return m_space.major_faults(); }
    bool check_invariants() const override;

    // For the monitor and the in-kernel tests.
    UserAddressSpace& space() { return m_space; }
    u32 directory() const { return m_space.directory(); }

    // Every live PagedMemory (processes' and the in-kernel tests' alike), newest first: `callback(PagedMemory&)`.
    template <typename Callback>
    static void for_each(Callback callback) {
        for (PagedMemory* memory = s_first; memory; memory = memory->m_next) callback(*memory);
    }
    // The live PagedMemory whose page directory is at `directory`, or null.
    static PagedMemory* find(u32 directory);
    // The frame table agrees with the page tables of every live PagedMemory (mm/vm/ReverseMap.h's
    // check_against), and each mapped frame's reference count is its number of mappings. Describes the first
    // disagreement to `sink`.
    static bool check_frame_table(FormatSink sink, void* context);
    // Faults resolved since boot in every paged memory, live or gone (vmstat), and of those the major ones.
    static u32 total_page_faults();
    static u32 total_major_faults();

private:
    explicit PagedMemory(UserAddressSpace&& space);
    UserAddressSpace m_space;
    // The list of live PagedMemory objects (a process's memory is freed while others run, so the list is
    // changed only by create and the destructor).
    PagedMemory* m_next = nullptr;
    PagedMemory* m_previous = nullptr;
    static PagedMemory* s_first;
    static u32 s_gone_page_faults;  // of the paged memories destroyed so far
    static u32 s_gone_major_faults;
};
