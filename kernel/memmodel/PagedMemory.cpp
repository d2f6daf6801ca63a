// PagedMemory.cpp: the paged model's glue (see PagedMemory.h): frames from the page allocator, CR3 through
// the TLB point.
#include "kernel/memmodel/PagedMemory.h"

#include <new>

#include "arch/i386/Gdt.h"
#include "kernel/boot/Layout.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/FrameTable.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/mm/Tlb.h"
#include "kernel/swap/SwapArea.h"
#include "kernel/swap/Swapper.h"
#include "libc/rt/String.h"

namespace {
// Frames kept back for the kernel when brk/mmap decide whether a request can be met: page tables, kernel
// stacks and copy-on-write copies need some even when a process has taken everything else.
constexpr u32 kKernelReserveFrames = 128;
UserFrames g_frames;

// A frame for a user page. When none is free, the kernel heap first gives back its empty slabs (with the
// objects the CPUs' magazines hold, which keep slabs alive: docs/slab.md) before the page is refused.
ErrorOr<u32> user_frame() {
    auto frame = pmm::allocate(0);
    if (!frame.is_error() || kernel_heap::shrink() == 0) return frame;
    return pmm::allocate(0);
}
}  // namespace

// Each allocation first lets the swapper evict down to its cap (it does nothing when swapping is off).
ErrorOr<u32> UserFrames::allocate_zeroed() {
    TRY(swapper::make_room());
    u32 pfn = TRY(user_frame());
    __builtin_memset(pmm::frame_pointer(pfn), 0, kPageSize);
    pmm::set_frame_references(pfn, 1);
    return pfn << kPageShift;
}

ErrorOr<u32> UserFrames::allocate_copy(u32 source) {
    swapper::pin(source);  // making room must not evict the page being copied
    auto room = swapper::make_room();
    swapper::unpin();
    TRY(room);
    u32 pfn = TRY(user_frame());
    memcpy(pmm::frame_pointer(pfn), pmm::frame_pointer(source >> kPageShift), kPageSize);
    pmm::set_frame_references(pfn, 1);
    return pfn << kPageShift;
}

void UserFrames::share(u32 physical) { pmm::share_frame(physical >> kPageShift); }
u32 UserFrames::references(u32 physical) { return pmm::frame_references(physical >> kPageShift); }
void UserFrames::release(u32 physical) { pmm::release_frame(physical >> kPageShift); }

void UserFrames::write(u32 physical, u32 offset, const void* data, u32 length) {
    memcpy(layout::physical_pointer<u8>(physical) + offset, data, length);
}

// With swapping, the slots on the disk count too: a process may reserve what memory and swap can hold.
u32 UserFrames::commit_limit() {
    u32 total = pmm::allocator().total_frames();
    u32 limit = total > kKernelReserveFrames ? total - kKernelReserveFrames : 0;
    if (swapper::active()) limit += swap_area::slots().slot_count() - 1;
    return limit;
}

ErrorOr<u32> UserFrames::swap_in(u32 slot) { return swapper::swap_in(slot); }
void UserFrames::swapped_in(u32 slot, u32 physical) { swapper::swapped_in(slot, physical); }
ErrorOr<void> UserFrames::duplicate_payload(u32 slot) { return swapper::duplicate_slot(slot); }
void UserFrames::shared_dirty(u32 physical) { swapper::shared_dirty(physical); }

PagedMemory* PagedMemory::s_first = nullptr;
u32 PagedMemory::s_gone_page_faults = 0;
u32 PagedMemory::s_gone_major_faults = 0;

PagedMemory::PagedMemory(UserAddressSpace&& space) : m_space(static_cast<UserAddressSpace&&>(space)) {
    m_next = s_first;
    if (s_first) s_first->m_previous = this;
    s_first = this;
}

PagedMemory::~PagedMemory() {
    s_gone_page_faults += m_space.page_faults();
    s_gone_major_faults += m_space.major_faults();
    if (m_previous)
        m_previous->m_next = m_next;
    else
        s_first = m_next;
    if (m_next) m_next->m_previous = m_previous;
}  // then m_space's destructor gives every frame back (and the frame table forgets each mapping)

u32 PagedMemory::total_page_faults() {
    u32 total = s_gone_page_faults;
    for_each([&](PagedMemory& memory) { total += memory.m_space.page_faults(); });
    return total;
}

u32 PagedMemory::total_major_faults() {
    u32 total = s_gone_major_faults;
    for_each([&](PagedMemory& memory) { total += memory.m_space.major_faults(); });
    return total;
}

PagedMemory* PagedMemory::find(u32 directory) {
    PagedMemory* found = nullptr;
    for_each([&](PagedMemory& memory) {
        if (memory.directory() == directory) found = &memory;
    });
    return found;
}

namespace {
// How ReverseMap::check_against reads the page tables of every live PagedMemory.
struct LiveSpaces {
    void for_each_space(auto visit) {
        PagedMemory::for_each([&](PagedMemory& memory) { visit(memory.directory()); });
    }
    void for_each_mapping(u32 directory, auto visit) {
        PagedMemory* memory = PagedMemory::find(directory);
        VERIFY(memory);
        memory->space().tables().for_each_mapping(0, kKernelBase / kPageSize, [&](u32 vaddr, PageTableEntry& entry) {
            visit(vaddr, entry.physical_address());
        });
    }
    ErrorOr<u32> translate(u32 directory, u32 vaddr) {
        auto walk = KernelPageTables::walk(page_tables::ops(), directory, vaddr);
        if (!walk.mapped || walk.large) return Error::NoEntry;
        return walk.pte.physical_address();
    }
};
}  // namespace

bool PagedMemory::check_frame_table(FormatSink sink, void* context) {
    LiveSpaces walker;
    const ReverseMap& map = frame_table::reverse_map();
    if (!map.check_against(walker, sink, context)) return false;
    // Every reference to a user frame is a mapping (UserFrames hands a frame out with one reference, which the
    // mapping made right after takes over; fork's share() comes with the child's mapping).
    for (u32 pfn = map.first_pfn(); pfn < map.end_pfn(); ++pfn) {
        u32 mappings = map.count(pfn), references = pmm::frame_references(pfn);
        if (mappings != references)
            return invariant_violation(sink, context, "frame table: frame %#x has %u mappings but %u references",
                                       pfn << kPageShift, mappings, references);
    }
    return true;
}

ErrorOr<PagedMemory*> PagedMemory::create() {
    auto space = UserAddressSpace::create(page_tables::ops(), page_tables::kernel_tables(), g_frames);
    if (space.is_error()) return space.error();
    void* storage = kmalloc(sizeof(PagedMemory));
    if (!storage) return Error::NoMemory;  // the space's destructor gives its directory back
    return new (storage) PagedMemory(space.release_value());
}

ErrorOr<void> PagedMemory::fault_in(u32 address, bool write) {
    auto resident = m_space.fault_in(address, write);
    if (resident.is_error() && resident.error() == Error::IO) m_page_lost = true;
    return resident;
}

void PagedMemory::activate() {
    tlb::load_directory(m_space.directory());
    gdt::clear_ldt();  // no way back to the descriptors of a process of an older model that ran before
}

ErrorOr<MemoryModel*> PagedMemory::fork() {
    PagedMemory* child = TRY(create());
    if (auto copied = m_space.fork_into(child->m_space); copied.is_error()) {
        delete child;
        return copied.error();
    }
    return child;
}

bool PagedMemory::check_invariants() const { return m_space.check_invariants(console::sink, nullptr); }
