// PagedMemory.cpp: regions, demand-zero and copy-on-write faults, brk, mmap, fork's sharing, user copies.
#include "kernel/memmodel/PagedMemory.h"

#include <new>

#include "arch/i386/Cpu.h"
#include "kernel/boot/Layout.h"
#include "kernel/mm/PhysicalMemory.h"
#include "libc/rt/String.h"

namespace {
// Frames kept back for the kernel when brk/mmap decide whether a request can be met: page tables, kernel
// stacks and copy-on-write copies need some even when a process has taken everything else.
constexpr u32 kKernelReserveFrames = 128;

Protection user_protection(bool writable) {
    Protection p;
    p.writable = writable;
    p.user = true;
    return p;
}
}  // namespace

const char* fault_result_name(FaultResult result) {
    switch (result) {
    case FaultResult::Resolved: return "resolved";
    case FaultResult::NotInRegion: return "no memory is mapped there";
    case FaultResult::StackOverflow: return "stack overflow (the stack is limited to 8 MiB)";
    case FaultResult::ProtectionFault: return "access not allowed by the page's protection";
    case FaultResult::OutOfMemory: return "out of memory: no free frame for the page";
    }
    return "?";
}

ErrorOr<void> PagedMemory::create() {
    VERIFY(!m_has_space);
    auto space = KernelPageTables::create(page_tables::ops(), page_tables::kernel_tables());
    if (space.is_error()) return space.error();
    new (m_space_storage) KernelPageTables(space.release_value());
    m_has_space = true;
    m_region_count = 0;
    m_heap_start = m_brk = 0;
    m_page_faults = 0;
    return {};
}

void PagedMemory::release() {
    if (!m_has_space) return;
    space().~KernelPageTables();  // destroy(): every frame released (by reference), every table freed
    m_has_space = false;
    m_region_count = 0;
}

void PagedMemory::take_from(PagedMemory& other) {
    release();
    if (!other.m_has_space) return;
    new (m_space_storage) KernelPageTables(static_cast<KernelPageTables&&>(other.space()));
    other.space().~KernelPageTables();  // moved from: owns nothing any more
    other.m_has_space = false;
    m_has_space = true;
    for (u32 i = 0; i < other.m_region_count; ++i) m_regions[i] = other.m_regions[i];
    m_region_count = other.m_region_count;
    m_heap_start = other.m_heap_start;
    m_brk = other.m_brk;
    m_page_faults = 0;
    other.m_region_count = 0;
}

KernelPageTables& PagedMemory::space() { return *reinterpret_cast<KernelPageTables*>(m_space_storage); }
u32 PagedMemory::directory() const {
    return reinterpret_cast<const KernelPageTables*>(m_space_storage)->directory_physical_address();
}

bool PagedMemory::overlaps(u32 start, u32 end) const {
    for (u32 i = 0; i < m_region_count; ++i)
        if (start < m_regions[i].end && end > m_regions[i].start) return true;
    return false;
}

ErrorOr<void> PagedMemory::add_region(u32 start, u32 end, RegionKind kind, bool writable) {
    if (start % kPage || end % kPage || end < start || end > kStackTop) return Error::Invalid;
    if (overlaps(start, end)) return Error::Exists;
    if (m_region_count == kMaxRegions) return Error::NoMemory;
    m_regions[m_region_count++] = MemoryRegion{start, end, kind, writable};
    return {};
}

const MemoryRegion* PagedMemory::find_region(u32 address) const {
    for (u32 i = 0; i < m_region_count; ++i)
        if (m_regions[i].contains(address)) return &m_regions[i];
    return nullptr;
}

void PagedMemory::set_heap_start(u32 address) {
    m_heap_start = m_brk = address;
    // The heap region exists from the start, empty; brk() grows it.
    (void)add_region(address, address, RegionKind::Heap, true);
}

ErrorOr<void> PagedMemory::map_zeroed(u32 page, bool writable) {
    u32 pfn = TRY(pmm::allocate(0));
    __builtin_memset(pmm::frame_pointer(pfn), 0, kPage);
    pmm::set_frame_references(pfn, 1);
    auto mapped = space().map(page, pfn << 12, user_protection(writable));
    if (mapped.is_error()) {
        pmm::release_frame(pfn);
        return mapped.error();
    }
    return {};
}

ErrorOr<void> PagedMemory::populate(u32 address, u32 pages) {
    const MemoryRegion* region = find_region(address);
    if (!region) return Error::Invalid;
    for (u32 i = 0; i < pages; ++i) {
        u32 page = address + i * kPage;
        PageTableEntry* entry = space().lookup(page);
        if (entry && entry->is_present()) continue;
        TRY(map_zeroed(page, region->writable));
    }
    return {};
}

ErrorOr<void> PagedMemory::write(u32 address, const void* data, u32 length) {
    const u8* bytes = static_cast<const u8*>(data);
    while (length > 0) {
        u32 physical = TRY(translate(address));
        u32 chunk = kPage - (address % kPage);
        if (chunk > length) chunk = length;
        memcpy(layout::physical_pointer<void>(physical), bytes, chunk);
        address += chunk;
        bytes += chunk;
        length -= chunk;
    }
    return {};
}

ErrorOr<u32> PagedMemory::translate(u32 address) {
    if (address >= kStackTop) return Error::BadAddress;
    PageTableEntry* entry = space().lookup(address & ~(kPage - 1));
    if (!entry || !entry->is_present()) return Error::BadAddress;
    return entry->physical_address() + (address % kPage);
}

FaultResult PagedMemory::handle_fault(u32 address, bool write, bool present) {
    if (address >= kStackTop) return FaultResult::ProtectionFault;  // the kernel half
    u32 page = address & ~(kPage - 1);
    const MemoryRegion* region = find_region(address);
    if (!region) {
        if (address < kStackBottom && address >= kStackBottom - 64 * 1024) return FaultResult::StackOverflow;
        return FaultResult::NotInRegion;
    }
    PageTableEntry* entry = space().lookup(page);
    if (!present) {
        if (entry && entry->is_present()) return FaultResult::Resolved;  // mapped meanwhile
        if (write && !region->writable) return FaultResult::ProtectionFault;
        if (map_zeroed(page, region->writable).is_error()) return FaultResult::OutOfMemory;
        ++m_page_faults;
        return FaultResult::Resolved;
    }
    // A protection violation on a present page: only a write to a copy-on-write page is legitimate.
    if (!write || !region->writable || !entry || !entry->is_present() || !(entry->available() & kPteCopyOnWrite))
        return FaultResult::ProtectionFault;
    u32 pfn = entry->physical_address() >> 12;
    PageTableEntry updated = *entry;
    updated.set_available(updated.available() & ~kPteCopyOnWrite);
    updated.set_writable(true);
    if (pmm::frame_references(pfn) > 1) {
        // Still shared: copy the frame and map the copy; the others keep the original.
        auto copy = pmm::allocate(0);
        if (copy.is_error()) return FaultResult::OutOfMemory;
        memcpy(pmm::frame_pointer(copy.value()), pmm::frame_pointer(pfn), kPage);
        pmm::set_frame_references(copy.value(), 1);
        updated.set_physical_address(copy.value() << 12);
        *entry = updated;
        cpu::invlpg(page);
        pmm::release_frame(pfn);
    } else {
        // The last user of the frame: no copy needed, it becomes writable again.
        *entry = updated;
        cpu::invlpg(page);
    }
    ++m_page_faults;
    return FaultResult::Resolved;
}

// The commit rule: the heap and the mappings of one process may together reserve at most the machine's
// managed memory less a reserve for the kernel. Demand-zero pages are only promised, not taken, so several
// processes can still promise more than exists between them; then the page-fault path runs out of frames
// and kills the process that touched the page, with a message saying so.
bool PagedMemory::can_commit(u32 pages) const {
    u32 total = pmm::allocator().total_frames();
    if (total <= kKernelReserveFrames) return false;
    u32 limit = total - kKernelReserveFrames;
    u32 reserved = reserved_pages();
    return reserved <= limit && pages <= limit - reserved;
}

u32 PagedMemory::reserved_pages() const {
    u32 pages = 0;
    for (u32 i = 0; i < m_region_count; ++i)
        if (m_regions[i].kind == RegionKind::Heap || m_regions[i].kind == RegionKind::Mapping)
            pages += (m_regions[i].end - m_regions[i].start) / kPage;
    return pages;
}

u32 PagedMemory::brk(u32 address) {
    if (address == 0 || address < m_heap_start) return m_brk;
    MemoryRegion* heap = nullptr;
    for (u32 i = 0; i < m_region_count; ++i)
        if (m_regions[i].kind == RegionKind::Heap) heap = &m_regions[i];
    if (!heap) return m_brk;
    u32 new_end = (address + kPage - 1) & ~(kPage - 1);
    if (address > kMappingBase || new_end < address) return m_brk;  // refuse: would reach the mmap area
    u32 old_end = heap->end;
    if (new_end > old_end) {
        for (u32 i = 0; i < m_region_count; ++i)
            if (&m_regions[i] != heap && old_end < m_regions[i].end && new_end > m_regions[i].start) return m_brk;
        if (!can_commit((new_end - old_end) / kPage)) return m_brk;
        heap->end = new_end;
    } else if (new_end < old_end) {
        // Shrinking gives the pages back at once.
        (void)space().unmap_range(new_end, (old_end - new_end) / kPage);
        heap->end = new_end;
    }
    m_brk = address;
    return m_brk;
}

ErrorOr<u32> PagedMemory::map_anonymous(u32 length, bool writable) {
    if (length == 0 || length > kMappingTop - kMappingBase) return Error::Invalid;
    u32 size = (length + kPage - 1) & ~(kPage - 1);
    if (!can_commit(size / kPage)) return Error::NoMemory;
    // First fit above kMappingBase, among the regions already there.
    u32 candidate = kMappingBase;
    for (bool moved = true; moved;) {
        moved = false;
        for (u32 i = 0; i < m_region_count; ++i) {
            const MemoryRegion& r = m_regions[i];
            if (candidate < r.end && candidate + size > r.start) {
                candidate = r.end;
                moved = true;
            }
        }
        if (candidate + size > kMappingTop || candidate + size < candidate) return Error::NoMemory;
    }
    // A mapping that starts where another with the same rights ends extends it (as Linux merges adjacent
    // anonymous VMAs), so many mappings do not use up the region table; munmap splits them again.
    for (u32 i = 0; i < m_region_count; ++i) {
        MemoryRegion& r = m_regions[i];
        if (r.kind == RegionKind::Mapping && r.writable == writable && r.end == candidate) {
            r.end = candidate + size;
            return candidate;
        }
    }
    TRY(add_region(candidate, candidate + size, RegionKind::Mapping, writable));
    return candidate;
}

void PagedMemory::remove_region_range(u32 start, u32 end) {
    for (u32 i = 0; i < m_region_count;) {
        MemoryRegion& r = m_regions[i];
        if (r.kind != RegionKind::Mapping || end <= r.start || start >= r.end) {
            ++i;
            continue;
        }
        if (start <= r.start && end >= r.end) {
            m_regions[i] = m_regions[--m_region_count];  // wholly inside: remove
            continue;
        }
        if (start > r.start && end < r.end) {
            // A hole in the middle: split in two (the second half goes at the end of the list).
            if (m_region_count < kMaxRegions)
                m_regions[m_region_count++] = MemoryRegion{end, r.end, r.kind, r.writable};
            r.end = start;
        } else if (start <= r.start) {
            r.start = end;
        } else {
            r.end = start;
        }
        ++i;
    }
}

ErrorOr<void> PagedMemory::unmap(u32 address, u32 length) {
    if (address % kPage || length == 0 || address >= kStackTop || length > kStackTop - address) return Error::Invalid;
    u32 end = (address + length + kPage - 1) & ~(kPage - 1);
    // Only mmap regions may be unmapped; the program, heap and stack have their own calls.
    for (u32 i = 0; i < m_region_count; ++i) {
        const MemoryRegion& r = m_regions[i];
        if (r.kind != RegionKind::Mapping && address < r.end && end > r.start) return Error::Invalid;
    }
    if (m_region_count == kMaxRegions) {
        // A split needs a free slot; refuse rather than lose track of pages.
        for (u32 i = 0; i < m_region_count; ++i)
            if (address > m_regions[i].start && end < m_regions[i].end) return Error::NoMemory;
    }
    remove_region_range(address, end);
    (void)space().unmap_range(address, (end - address) / kPage);
    return {};
}

ErrorOr<void> PagedMemory::fork_into(PagedMemory& child) {
    TRY(child.create());
    for (u32 i = 0; i < m_region_count; ++i) child.m_regions[i] = m_regions[i];
    child.m_region_count = m_region_count;
    child.m_heap_start = m_heap_start;
    child.m_brk = m_brk;
    bool failed = false;
    space().for_each_mapping(0, kStackTop / kPage, [&](u32 vaddr, PageTableEntry& entry) {
        if (failed) return;
        bool copy_on_write = entry.is_writable() || (entry.available() & kPteCopyOnWrite);
        if (copy_on_write) {
            entry.set_writable(false);
            entry.set_available(entry.available() | kPteCopyOnWrite);
        }
        u32 physical = entry.physical_address();
        if (child.space().map(vaddr, physical, user_protection(false)).is_error()) {
            failed = true;
            return;
        }
        pmm::share_frame(physical >> 12);
        if (copy_on_write) {
            PageTableEntry* child_entry = child.space().lookup(vaddr);
            child_entry->set_available(child_entry->available() | kPteCopyOnWrite);
        }
    });
    // The parent's writable entries became read-only: drop its cached translations (user pages are never
    // global, so reloading CR3 flushes them all).
    cpu::write_cr3(cpu::read_cr3());
    if (failed) {
        child.release();
        return Error::NoMemory;
    }
    return {};
}

ErrorOr<void> PagedMemory::check_user_range(u32 address, u32 length, bool write) {
    if (length == 0) return {};
    if (address >= kStackTop || length > kStackTop - address) return Error::BadAddress;
    u32 end = address + length;
    for (u32 page = address & ~(kPage - 1); page < end; page += kPage) {
        PageTableEntry* entry = space().lookup(page);
        if (entry && entry->is_present() && entry->is_user() && (!write || entry->is_writable())) continue;
        FaultResult result = handle_fault(page, write, entry && entry->is_present());
        if (result != FaultResult::Resolved) return Error::BadAddress;
        if (page + kPage < page) break;  // the last page of the address space
    }
    return {};
}

ErrorOr<void> PagedMemory::copy_from_user(void* destination, u32 source, u32 length) {
    TRY(check_user_range(source, length, false));
    memcpy(destination, reinterpret_cast<const void*>(source), length);
    return {};
}

ErrorOr<void> PagedMemory::copy_to_user(u32 destination, const void* source, u32 length) {
    TRY(check_user_range(destination, length, true));
    memcpy(reinterpret_cast<void*>(destination), source, length);
    return {};
}

ErrorOr<u32> PagedMemory::copy_string_from_user(char* destination, u32 source, u32 capacity) {
    for (u32 i = 0; i < capacity; ++i) {
        if ((source + i) % kPage == 0 || i == 0) TRY(check_user_range(source + i, 1, false));
        char c = *reinterpret_cast<const char*>(source + i);
        destination[i] = c;
        if (c == '\0') return i;
    }
    return Error::TooBig;
}

MemoryStatistics PagedMemory::statistics() {
    MemoryStatistics s{};
    if (!m_has_space) return s;
    space().for_each_mapping(0, kStackTop / kPage, [&](u32 vaddr, PageTableEntry& entry) {
        ++s.resident_pages;
        if (pmm::frame_references(entry.physical_address() >> 12) > 1) ++s.shared_pages;
        if (vaddr >= kStackBottom) s.stack_bytes += kPage;
    });
    for (u32 i = 0; i < m_region_count; ++i) {
        const MemoryRegion& r = m_regions[i];
        if (r.kind == RegionKind::Mapping) s.mapped_bytes += r.end - r.start;
    }
    s.heap_bytes = m_brk - m_heap_start;
    return s;
}
