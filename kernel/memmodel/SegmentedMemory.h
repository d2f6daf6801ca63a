// SegmentedMemory.h: the memory models that came before paging, on x86's own segments: static relocation,
// base and bounds, and segmentation. A process of these models is one contiguous block of the arena
// (kernel/memmodel/Arena.h), plus, under segments, a code block it shares (kernel/memmodel/CodeSegment.h).
//
// The block's layout, offsets from 0 (kernel/proc/ExecArena.cpp re-links /bin/NAME for it):
//
//   0x00000 .. 0x0FFFF  the stack (64 KiB), growing down towards offset 0; the arguments sit at its top
//   0x10000 ..          the program as linked for paging, from its first segment on (under segments: from its
//                       first data segment on, the code being in its own block): text, rodata, data, bss
//   image end ..        the heap, grown by brk up to the block's end (and, under base and bounds, beyond,
//                       by moving the whole process to a bigger hole)
//
// static       The loader copies the image into a hole and adds the hole's linear address to every absolute
//              address in it (the R_386_32 relocations the link kept). The process runs on the flat user
//              segments of the GDT (base 0, limit 4 GiB), and its page tables map the whole arena
//              user-writable: nothing stops it from writing over its neighbours (user/scribble shows it).
//              It can neither grow past its hole nor move: its patched addresses name where it is.
// base-bounds  The process sees offsets from 0. Its LDT holds a code and a data descriptor with the same base
//              (the block's linear address) and limit (size - 1): the hardware adds the base to every
//              address and checks the limit (Intel SDM Vol. 3A 3.4.5 "Segment Descriptors", 5.3 "Limit
//              Checking"). Moving it is copying the block and changing the base: the process does not
//              notice. An access past the limit raises #GP (#SS for the stack) on a CPU that checks limits;
//              QEMU's TCG does not (it only adds the base), so the page tables map only the process's own
//              block and the page fault an out-of-bounds access raises is reported as the segment violation
//              it is.
//
// segments     Like base and bounds for data, heap and stack (one data descriptor, DS = SS = ES), and a
//              second descriptor, execute/read, for the code block, shared by every process running the
//              program; its pages are mapped read-only for QEMU's sake.
//
// In all three, paging stays on: the kernel half of every directory is supervisor-only, which the machines of
// that era did not have, so a process of an older model can damage other processes (static) but never the
// kernel.
#pragma once

#include "arch/i386/SegmentDescriptor.h"
#include "format/Relink.h"
#include "kernel/memmodel/Arena.h"
#include "kernel/memmodel/ArenaPageTables.h"
#include "kernel/memmodel/CodeSegment.h"
#include "kernel/memmodel/MemoryModel.h"

class SegmentedMemory final : public MemoryModel, private ArenaClient {
public:
    // The stack below the program: offsets 0 .. 0x10000 of the (data) segment, growing down toward 0.
    static constexpr u32 kStackReserve = RelinkLayout::kStackReserve;

    // A process of `model` (Static, BaseBounds or Segments) with a zeroed block of `bytes` in the arena (under
    // Segments, its data segment; attach_code() adds the code).
    static ErrorOr<SegmentedMemory*, ExplainedError> create(MemoryModelKind model, u32 bytes);
    ~SegmentedMemory() override;

    const char* name() const override { return memory_model_name(m_model); }
    SegmentedMemory* as_segmented() override { return this; }
    MemoryModelKind model() const override { return m_model; }
    void set_owner(i32 pid, const char* name) override;

    // Segments: the program's code segment, shared with the other processes running `name`. Returns the
    // kernel's pointer to the code when this process loaded it (the caller then re-links it), null when the
    // code was loaded already and is shared as it is.
    ErrorOr<u8*, ExplainedError> attach_code(const char* name, const u8* text, u32 bytes);
    // The shared code block moved (from `old_offset`; CodeSegment tells every sharer).
    void code_moved(u32 old_offset);
    i32 owner_pid() const { return m_pid; }
    const CodeSegment* code() const { return m_code; }

    // Where image offset `offset` is, as the process sees it: the linear address under static relocation,
    // the offset itself under base and bounds.
    u32 image_address(u32 offset) const { return m_model == MemoryModelKind::Static ? base() + offset : offset; }
    // The segment's base (a linear address) and size; the limit is size - 1.
    u32 base() const { return arena::linear(m_offset); }
    u32 size() const { return m_size; }

    ErrorOr<void> add_region(u32 start, u32 end, RegionKind kind, bool writable) override;
    ErrorOr<void> populate(u32, u32) override { return {}; }  // the block is resident and zeroed already
    ErrorOr<void> write(u32 address, const void* data, u32 length) override;
    ErrorOr<void> set_heap_start(u32 address) override;

    void activate() override;
    FaultResult handle_fault(u32 address, bool write, bool fault_on_present) override;
    bool explain_fault(u32 address, bool write, u32 eip, char* buffer, u32 size) const override;
    void describe_segments(char* buffer, u32 size) const override;
    u32 brk(u32 address) override;
    // No mmap area: a block has no room for mappings apart from its heap (the C library's malloc then uses brk).
    ErrorOr<u32> map_anonymous(u32, bool, bool) override { return Error::NoMemory; }
    ErrorOr<void> unmap(u32, u32) override { return Error::Invalid; }
    ErrorOr<void> protect(u32, u32, u32) override { return Error::Invalid; }
    ErrorOr<MemoryModel*> fork() override;

    ErrorOr<void> validate_user_range(u32 address, u32 length, bool write) override;
    ErrorOr<void> fault_in(u32, bool) override { return {}; }  // always resident
    void* user_pointer(u32 address) override;
    u16 user_code_selector() const override;
    u16 user_data_selector() const override;

    ErrorOr<u32> translate(u32 address) override;
    MemoryStatistics statistics() override;
    u32 page_faults() const override { return 0; }
    bool check_invariants() const override;

    // The LDT (for the monitor's `ldt` and the tests): entry 0 null, 1 code, 2 data; empty under static.
    const SegmentDescriptor* ldt() const { return m_ldt; }
    u32 ldt_entries() const { return m_model == MemoryModelKind::Static ? 0 : kLdtEntries; }
    bool has_ldt() const { return m_model != MemoryModelKind::Static; }
    u32 arena_offset() const { return m_offset; }
    u32 program_break() const { return m_break; }
    u32 moves() const { return m_moves; }
    // The first `bytes` bytes of the instruction at code offset `eip` (through CS, as the CPU fetched it),
    // for a fault's message; false when they are not in the process's code.
    bool read_code(u32 eip, u8* out, u32 bytes) const;

    // Roll-out and roll-in of the whole process (base-bounds and segments; static relocation cannot move):
    // its block goes to slots of the swap disk (kernel/swap/SwapArea.h) and leaves the arena; it comes back
    // to wherever the arena finds room, and only the base changes. Under segments the shared code stays.
    // The caller (kernel/proc/Process.cpp) chooses whom and when: never the process on the CPU.
    struct RollResult {
        u32 bytes = 0;
        u32 us = 0;  // time taken, from the time-stamp counter
    };
    bool can_roll_out() const { return m_model != MemoryModelKind::Static && !m_slots; }
    bool rolled_out() const { return m_slots != nullptr; }
    // Error::NoSpace (the swap slots ran out), IO (the disk failed; the block stays), Invalid (no swap disk).
    ErrorOr<RollResult, ExplainedError> roll_out();
    // Error::NoMemory: no room in the arena even after compaction and rolling others out (it stays out);
    // Error::IO: a slot could not be read: the process is back but its memory is damaged (the caller kills it).
    ErrorOr<RollResult, ExplainedError> roll_in();

private:
    static constexpr u32 kLdtEntries = 3;

    SegmentedMemory(MemoryModelKind model, ArenaPageTables&& tables);
    // The arena offset of user address `address`, if it lies in what this process may reach.
    bool arena_offset_of(u32 address, u32 length, u32& offset) const;
    ErrorOr<void> map_block();
    // Makes the arena pages [offset, offset + bytes) reachable from user mode or not (base and bounds).
    void expose(u32 offset, u32 bytes, bool user, bool writable = true);
    void build_ldt();
    // Base and bounds: the block grows to at least `bytes`, in place or by moving the process.
    bool grow(u32 bytes);
    // grow()'s move to a bigger block elsewhere (generous, else wanted bytes); `why` gets the last refusal.
    bool move_elsewhere(u32 generous, u32 wanted, bool may_roll_out, char* why, u32 why_size);

    // ArenaClient
    void arena_moved(u32 old_offset, u32 new_offset) override;
    bool arena_movable() const override { return m_model != MemoryModelKind::Static; }
    void arena_describe(char* buffer, u32 size) const override;
    i32 arena_pid() const override { return m_pid; }

    MemoryModelKind m_model;
    ArenaPageTables m_tables;
    CodeSegment* m_code = nullptr;  // Segments only
    alignas(8) SegmentDescriptor m_ldt[kLdtEntries];
    u32 m_offset = 0;  // in the arena
    u32 m_size = 0;
    u32 m_heap_start = 0;  // user addresses
    u32 m_break = 0;
    u32 m_moves = 0;
    u32* m_slots = nullptr;  // rolled out: the swap slot of each page of the block, in order
    i32 m_pid = 0;
    char m_name[16] = "";
};
