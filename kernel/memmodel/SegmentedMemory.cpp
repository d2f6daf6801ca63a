// SegmentedMemory.cpp: static relocation and base and bounds on the arena (the header says how each works).
#include "kernel/memmodel/SegmentedMemory.h"

#include <new>

#include "arch/i386/Cpu.h"
#include "arch/i386/Gdt.h"
#include "arch/i386/Pit.h"
#include "kernel/dev/Console.h"
#include "kernel/mm/KernelHeapGlue.h"
#include "kernel/mm/Tlb.h"
#include "kernel/swap/SwapArea.h"
#include "libc/base/Format.h"
#include "libc/base/MemoryLayout.h"
#include "libc/rt/String.h"
#include "mm/vm/UserLayout.h"

namespace {

// LDT selectors (SDM Vol. 3A 3.4.2): index 1 and 2, TI=1, RPL 3. The same values Linux 0.11 used.
constexpr u16 kLdtCode = make_selector(1, true, 3);  // 0x0F
constexpr u16 kLdtData = make_selector(2, true, 3);  // 0x17

// Base and bounds grows its block by 64 KiB more than asked, so a heap growing by small brk steps moves now
// and then, not on every step, without wasting much of a small arena.
constexpr u32 kGrowthSlack = 64 * 1024;

}  // namespace

ErrorOr<SegmentedMemory*, ExplainedError> SegmentedMemory::create(MemoryModelKind model, u32 bytes) {
    using Result = ErrorOr<SegmentedMemory*, ExplainedError>;
    VERIFY(model != MemoryModelKind::Paging);
    auto tables = ArenaPageTables::create(arena_page_tables::ops(), arena_page_tables::kernel_tables());
    if (tables.is_error()) return Result(tables.error(), "%s for a page directory", error_string(tables.error()));
    void* storage = kmalloc(sizeof(SegmentedMemory));
    if (!storage) return Result(Error::NoMemory, "out of kernel memory for a process's memory");
    auto* memory = new (storage) SegmentedMemory(model, std::move(tables.value()));
    auto offset = arena::allocate(bytes, memory);
    if (offset.is_error()) {
        delete memory;
        return offset.error();
    }
    memory->m_offset = offset.value();
    memory->m_size = align_up<u32>(bytes, kPageSize);
    if (auto mapped = memory->map_block(); mapped.is_error()) {
        delete memory;
        return Result(mapped.error(), "%s mapping the arena", error_string(mapped.error()));
    }
    memory->build_ldt();
    return memory;
}

SegmentedMemory::SegmentedMemory(MemoryModelKind model, ArenaPageTables&& tables)
    : m_model(model), m_tables(std::move(tables)) {}

SegmentedMemory::~SegmentedMemory() {
    // The CPU may still hold this LDT (a process ending in its own system call, or the idle loop running after
    // it): nothing will load one of its selectors again, so LDTR can simply go null.
    if (gdt::current_ldt() == m_ldt) gdt::clear_ldt();
    if (m_code) m_code->release(this);
    if (m_slots) {
        for (u32 i = 0; i < m_size / kPageSize; ++i) swap_area::release(m_slots[i]);
        kfree(m_slots);
    } else if (m_size) {
        arena::release(m_offset);
    }
}

namespace {
u32 microseconds_since(u64 start) {
    u64 per_ms = pit::tsc_per_ms();
    return per_ms ? static_cast<u32>((cpu::read_tsc() - start) * 1000 / per_ms) : 0;
}
}  // namespace

// The block, page by page, to slots of the swap disk; then out of the arena. A failure gives back the slots
// taken so far and leaves the process where it was.
ErrorOr<SegmentedMemory::RollResult, ExplainedError> SegmentedMemory::roll_out() {
    using Result = ErrorOr<RollResult, ExplainedError>;
    VERIFY(can_roll_out());
    if (!swap_area::ready()) return Result(Error::Invalid, "no swap disk to roll it out to");
    u64 start = cpu::read_tsc();
    u32 pages = m_size / kPageSize;
    auto* slots = static_cast<u32*>(kmalloc(pages * sizeof(u32)));
    if (!slots) return Result(Error::NoMemory, "out of kernel memory for its list of slots");
    for (u32 i = 0; i < pages; ++i) {
        auto slot = swap_area::allocate();
        Error failed = slot.is_error() ? slot.error() : Error::None;
        if (!slot.is_error()) {
            if (swap_area::write(slot.value(), arena::kernel_pointer(m_offset + i * kPageSize)).is_error()) {
                swap_area::release(slot.value());
                failed = Error::IO;
            }
        }
        if (failed != Error::None) {
            for (u32 j = 0; j < i; ++j) swap_area::release(slots[j]);
            kfree(slots);
            return Result(failed, "%s", failed == Error::IO ? swap_area::last_error() : "the swap slots ran out");
        }
        slots[i] = slot.value();
    }
    expose(m_offset, m_size, false);
    arena::release(m_offset);
    m_slots = slots;
    return RollResult{m_size, microseconds_since(start)};
}

// Back into a block wherever the arena finds room (the placement policy, compaction and rolling others out
// included), then the base follows. The slots are freed either way once read.
ErrorOr<SegmentedMemory::RollResult, ExplainedError> SegmentedMemory::roll_in() {
    using Result = ErrorOr<RollResult, ExplainedError>;
    VERIFY(m_slots);
    u64 start = cpu::read_tsc();
    auto offset = arena::allocate(m_size, this);
    if (offset.is_error()) return Result(offset.error().code, "%s", offset.error().what());
    bool lost = false;
    u32 pages = m_size / kPageSize;
    for (u32 i = 0; i < pages; ++i) {
        if (swap_area::read(m_slots[i], arena::kernel_pointer(offset.value() + i * kPageSize)).is_error())
            lost = true;
        swap_area::release(m_slots[i]);
    }
    kfree(m_slots);
    m_slots = nullptr;
    m_offset = offset.value();
    expose(m_offset, m_size, true);
    build_ldt();
    ++m_moves;
    if (lost) return Result(Error::IO, "%s", swap_area::last_error());
    return RollResult{m_size, microseconds_since(start)};
}

void SegmentedMemory::set_owner(i32 pid, const char* name) {
    m_pid = pid;
    strncpy(m_name, name, sizeof(m_name) - 1);
    m_name[sizeof(m_name) - 1] = '\0';
}

// Every directory of these models maps the whole arena at the same place (linear kArenaWindow + offset is
// physical arena + offset), so a move never allocates or frees a page table: only the U/S bit differs. Under
// static relocation every page is user-accessible (no protection between its processes); under base and
// bounds only the process's own block is, so paging catches what QEMU's segments let through.
ErrorOr<void> SegmentedMemory::map_block() {
    Protection rights{.writable = true, .user = m_model == MemoryModelKind::Static};
    TRY(m_tables.map_range(arena::linear(0), arena::physical_base(), arena::size() / kPageSize, rights));
    expose(m_offset, m_size, true);
    return {};
}

void SegmentedMemory::expose(u32 offset, u32 bytes, bool user, bool writable) {
    if (m_model == MemoryModelKind::Static || bytes == 0) return;
    Protection rights{.writable = writable, .user = user};
    VERIFY(!m_tables.protect_range(arena::linear(offset), bytes / kPageSize, rights).is_error());
}

void SegmentedMemory::build_ldt() {
    m_ldt[0] = SegmentDescriptor();
    if (m_model == MemoryModelKind::Static) return;
    using P = SegmentDescriptor::Privilege;
    // Base and bounds: code and data are one segment. Segments: the code descriptor covers the shared code
    // block (execute/read: a write through CS is impossible, and DS never points at it), the data descriptor
    // the process's own data, heap and stack.
    if (m_model == MemoryModelKind::Segments && m_code)
        m_ldt[1] = SegmentDescriptor::code(m_code->base(), m_code->size() - 1, P::User);
    else
        m_ldt[1] = SegmentDescriptor::code(base(), m_size - 1, P::User);
    m_ldt[2] = SegmentDescriptor::data(base(), m_size - 1, P::User);
}

ErrorOr<u8*, ExplainedError> SegmentedMemory::attach_code(const char* name, const u8* text, u32 bytes) {
    VERIFY(m_model == MemoryModelKind::Segments && !m_code);
    m_code = TRY(CodeSegment::acquire(name, text, bytes, this));
    expose(m_code->offset(), m_code->size(), true, false);
    build_ldt();
    // Its only sharer is this process: the block is new, and the caller re-links the code in it.
    return m_code->sharers() == 1 ? static_cast<u8*>(arena::kernel_pointer(m_code->offset())) : nullptr;
}

void SegmentedMemory::code_moved(u32 old_offset) {
    expose(old_offset, m_code->size(), false);
    expose(m_code->offset(), m_code->size(), true, false);
    build_ldt();
}

ErrorOr<void> SegmentedMemory::add_region(u32 start, u32 end, RegionKind, bool) {
    u32 offset;
    if (end < start || !arena_offset_of(start, end - start, offset)) return Error::Invalid;
    return {};
}

ErrorOr<void> SegmentedMemory::write(u32 address, const void* data, u32 length) {
    u32 offset;
    if (!arena_offset_of(address, length, offset)) return Error::BadAddress;
    memcpy(arena::kernel_pointer(offset), data, length);
    return {};
}

ErrorOr<void> SegmentedMemory::set_heap_start(u32 address) {
    u32 offset;
    if (!arena_offset_of(address, 0, offset)) return Error::Invalid;
    m_heap_start = m_break = address;
    return {};
}

void SegmentedMemory::activate() {
    tlb::load_directory(m_tables.directory_physical_address());
    if (m_model == MemoryModelKind::Static)
        gdt::clear_ldt();
    else
        gdt::load_ldt(m_ldt, kLdtEntries);
}

FaultResult SegmentedMemory::handle_fault(u32, bool, bool) {
    // Every page the process may touch is mapped from the start: a fault is always an access outside it.
    return FaultResult::ProtectionFault;
}

bool SegmentedMemory::explain_fault(u32 address, bool write, u32 eip, char* buffer, u32 size) const {
    if (m_model == MemoryModelKind::Static) {
        format_to_buffer(buffer, size,
                         "address 0x%08x is outside the arena (0x%08x-0x%08x); static relocation protects nothing "
                         "inside the arena, but paging still guards the rest",
                         address, arena::linear(0), arena::linear(arena::size()));
        return true;
    }
    if (m_model == MemoryModelKind::Segments && m_code) {
        u32 code_offset = address - m_code->base();
        if (code_offset < m_code->size() && write) {
            format_to_buffer(buffer, size,
                             "a write to offset 0x%x of its code segment, which is execute/read only (shared by %u "
                             "process%s); caught by paging, since QEMU does not check segment types",
                             code_offset, m_code->sharers(), m_code->sharers() == 1 ? "" : "es");
            return true;
        }
        if (code_offset == eip) {
            format_to_buffer(buffer, size,
                             "a jump to offset 0x%x beyond the limit 0x%x of its code segment; caught by paging, since "
                             "QEMU does not check segment limits",
                             code_offset, m_code->size() - 1);
            return true;
        }
    }
    u32 offset = address - base();  // modulo 2^32, as the CPU adds the base
    u32 limit = m_size - 1;
    if (offset >= 0x80000000u)
        format_to_buffer(buffer, size,
                         "offset 0x%08x (%u bytes below offset 0: the stack ran off the bottom of its segment) "
                         "is beyond the limit 0x%x of its segment; caught by paging, since QEMU does not check "
                         "segment limits",
                         offset, 0u - offset, limit);
    else
        format_to_buffer(buffer, size,
                         "offset 0x%x beyond the limit 0x%x of its segment; caught by paging, since QEMU does not "
                         "check segment limits",
                         offset, limit);
    return true;
}

void SegmentedMemory::describe_segments(char* buffer, u32 size) const {
    if (m_slots)
        format_to_buffer(buffer, size, "rolled out: %u KiB in %u slots of the swap disk (%s)", m_size / 1024,
                         m_size / kPageSize, name());
    else if (m_model == MemoryModelKind::Static)
        format_to_buffer(buffer, size, "flat segments (static relocation), image at 0x%08x", base());
    else if (m_model == MemoryModelKind::Segments && m_code)
        format_to_buffer(buffer, size, "code base 0x%08x limit 0x%x shared by %u, data base 0x%08x limit 0x%x",
                         m_code->base(), m_code->size() - 1, m_code->sharers(), base(), m_size - 1);
    else
        format_to_buffer(buffer, size, "segment base 0x%08x, limit 0x%x (%s)", base(), m_size - 1, name());
}

u32 SegmentedMemory::brk(u32 address) {
    if (address == 0 || address < m_heap_start) return m_break;
    u32 end_offset = address - image_address(0);
    if (end_offset > m_size && (m_model == MemoryModelKind::Static || !grow(end_offset))) return m_break;
    m_break = address;
    return m_break;
}

bool SegmentedMemory::grow(u32 bytes) {
    u32 wanted = align_up<u32>(bytes, kPageSize);
    u32 generous = wanted + kGrowthSlack;
    for (u32 target : {generous, wanted}) {
        u32 old_size = m_size;
        if (arena::resize_in_place(m_offset, target)) {
            m_size = target;
            expose(m_offset + old_size, target - old_size, true);
            build_ldt();
            return true;
        }
    }
    // No room right after it, from the cheapest way to the dearest: move the whole process to a hole that
    // holds the bigger block (the arena may compact first, which can move this process too: m_offset is read
    // after the allocation); let compaction put it last, so all free space follows it (move_to_top tells us
    // the moves through arena_moved); roll other processes out to the swap disk and move it.
    char why[320] = "";
    if (move_elsewhere(generous, wanted, false, why, sizeof(why))) return true;
    if (arena::move_to_top(this, wanted)) {
        for (u32 target : {generous, wanted}) {
            u32 old_size = m_size;
            if (!arena::resize_in_place(m_offset, target)) continue;
            m_size = target;
            expose(m_offset + old_size, target - old_size, true);
            build_ldt();
            return true;
        }
    }
    if (move_elsewhere(generous, wanted, true, why, sizeof(why))) return true;
    kprintf("[arena] pid %d (%s) cannot grow its segment to %u KiB: %s\n", m_pid, m_name, wanted / 1024, why);
    return false;
}

bool SegmentedMemory::move_elsewhere(u32 generous, u32 wanted, bool may_roll_out, char* why, u32 why_size) {
    for (u32 target : {generous, wanted}) {
        auto placed = arena::allocate(target, this, may_roll_out);
        if (placed.is_error()) {
            format_to_buffer(why, why_size, "%s", placed.error().what());
            continue;
        }
        u32 from = m_offset;
        memcpy(arena::kernel_pointer(placed.value()), arena::kernel_pointer(from), m_size);
        expose(from, m_size, false);
        arena::release(from);
        m_offset = placed.value();
        u32 old_size = m_size;
        m_size = target;
        ++m_moves;
        expose(m_offset, m_size, true);
        build_ldt();
        kprintf("[arena] pid %d (%s) grows its segment from %u to %u KiB: moved from offset 0x%06x to 0x%06x "
                "(copied %u KiB, new base 0x%08x)\n",
                m_pid, m_name, old_size / 1024, m_size / 1024, from, m_offset, old_size / 1024, base());
        return true;
    }
    return false;
}

ErrorOr<MemoryModel*> SegmentedMemory::fork() {
    if (m_model == MemoryModelKind::Static) {
        kprintf("[kernel] fork: pid %d (%s) runs under static relocation; a copy placed elsewhere would still "
                "hold the addresses patched for the original's place\n",
                m_pid, m_name);
        return Error::NotPermitted;
    }
    auto created = create(m_model, m_size);
    if (created.is_error()) {
        kprintf("[kernel] fork: pid %d (%s): %s\n", m_pid, m_name, created.error().what());
        return created.error().code;
    }
    SegmentedMemory* child = created.value();
    memcpy(arena::kernel_pointer(child->m_offset), arena::kernel_pointer(m_offset), m_size);
    if (m_code) {
        // The child shares the parent's code segment: one more reference, the same block in its tables.
        child->m_code = m_code;
        m_code->share(child);
        child->expose(m_code->offset(), m_code->size(), true, false);
        child->build_ldt();
    }
    child->m_heap_start = m_heap_start;
    child->m_break = m_break;
    return child;
}

bool SegmentedMemory::read_code(u32 eip, u8* out, u32 bytes) const {
    if (m_slots) return false;
    u32 start = 0, limit = 0;  // arena offsets of the code's first byte and end
    if (m_model == MemoryModelKind::Static) {
        start = 0, limit = arena::size();
        eip -= arena::linear(0);  // flat: the instruction pointer is a linear address
    } else if (m_model == MemoryModelKind::Segments && m_code) {
        start = m_code->offset(), limit = m_code->offset() + m_code->size();
    } else {
        start = m_offset, limit = m_offset + m_size;
    }
    if (u64(start) + eip + bytes > limit) return false;
    memcpy(out, arena::kernel_pointer(start + eip), bytes);
    return true;
}

bool SegmentedMemory::arena_offset_of(u32 address, u32 length, u32& offset) const {
    if (m_slots) return false;  // rolled out: nothing of it is in the arena (a killed process ending so)
    u32 first = 0, limit = 0;
    if (m_model == MemoryModelKind::Static) {
        // Flat: anything in the arena window (the whole arena is this process's to scribble on).
        first = address - arena::linear(0);
        limit = arena::size();
        if (address < arena::linear(0)) return false;
    } else {
        first = m_offset + address;
        limit = m_offset + m_size;
        if (address >= m_size) return false;
    }
    u64 end = u64(first) + length;
    if (end > limit) return false;
    offset = first;
    return true;
}

ErrorOr<void> SegmentedMemory::validate_user_range(u32 address, u32 length, bool) {
    u32 offset;
    if (length == 0) return {};
    if (!arena_offset_of(address, length, offset)) return Error::BadAddress;
    return {};
}

void* SegmentedMemory::user_pointer(u32 address) {
    u32 offset;
    VERIFY(arena_offset_of(address, 0, offset));
    return arena::kernel_pointer(offset);
}

u16 SegmentedMemory::user_code_selector() const {
    return m_model == MemoryModelKind::Static ? MemoryModel::user_code_selector() : kLdtCode;
}
u16 SegmentedMemory::user_data_selector() const {
    return m_model == MemoryModelKind::Static ? MemoryModel::user_data_selector() : kLdtData;
}

ErrorOr<u32> SegmentedMemory::translate(u32 address) {
    u32 offset;
    if (!arena_offset_of(address, 1, offset)) return Error::BadAddress;
    return arena::physical_base() + offset;
}

MemoryStatistics SegmentedMemory::statistics() {
    MemoryStatistics s{};
    (m_slots ? s.swapped_pages : s.resident_pages) = m_size / kPageSize;
    s.heap_bytes = m_break - m_heap_start;
    s.stack_bytes = kStackReserve;
    return s;
}

bool SegmentedMemory::check_invariants() const {
    if (m_slots) return m_size != 0 && m_size % kPageSize == 0 && m_model != MemoryModelKind::Static;
    if (m_size == 0 || m_size % kPageSize != 0 || u64(m_offset) + m_size > arena::size()) return false;
    if (m_model == MemoryModelKind::Segments) {
        if (!m_code || m_ldt[1].base() != m_code->base() || m_ldt[1].limit() != m_code->size() - 1) return false;
        if (m_ldt[2].base() != base() || m_ldt[2].limit() != m_size - 1) return false;
    } else if (m_model != MemoryModelKind::Static) {
        if (m_ldt[1].base() != base() || m_ldt[1].limit() != m_size - 1) return false;
        if (m_ldt[2].base() != base() || m_ldt[2].limit() != m_size - 1) return false;
    }
    return m_break >= m_heap_start;
}

void SegmentedMemory::arena_moved(u32 old_offset, u32 new_offset) {
    VERIFY(old_offset == m_offset);
    expose(old_offset, m_size, false);
    m_offset = new_offset;
    expose(new_offset, m_size, true);
    build_ldt();
    ++m_moves;
}

void SegmentedMemory::arena_describe(char* buffer, u32 size) const {
    if (m_pid)
        format_to_buffer(buffer, size, "pid %d %s%s (%s)", m_pid, m_name,
                         m_model == MemoryModelKind::Segments ? ", data" : "", name());
    else
        format_to_buffer(buffer, size, "a %s process being loaded", name());
}
