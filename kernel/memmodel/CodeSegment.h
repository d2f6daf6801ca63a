// CodeSegment.h: a program's code, one arena block shared by every process of the segmentation model running
// that program (the course notes' "sharing": the same code segment in several segment tables; Minix did it
// with separate instruction and data spaces).
//
// The first process that runs a program under `segments` loads its text (the executable PT_LOAD of
// /bin/NAME, re-linked by kernel/proc/ExecArena.cpp) into a block of the arena; later ones find it by name and take a reference. Each sharer maps
// the block user-readable but not writable and has an execute/read code descriptor for it in its LDT, so a
// write to its code is refused twice over: by the segment's type on a CPU that checks it (#GP), and by the
// page's R/W bit (#PF) on QEMU, which does not. When compaction moves the block, every sharer's descriptor and
// mappings follow. The last reference frees it.
//
// Locking: none; changed only by process context in the non-preemptible kernel.
#pragma once

#include "kernel/memmodel/Arena.h"
#include "libc/base/Error.h"

class SegmentedMemory;

class CodeSegment final : private ArenaClient {
public:
    // The code of `name`: shared if one is loaded already (then `text` is not read), else a new block holding
    // the `bytes` of `text` (zero-padded to pages). `sharer` is added to its sharers.
    static ErrorOr<CodeSegment*, ExplainedError> acquire(const char* name, const u8* text, u32 bytes,
                                                         SegmentedMemory* sharer);
    // `sharer` is gone; the last one frees the block.
    void release(SegmentedMemory* sharer);
    // A fork: one more sharer of the same code.
    void share(SegmentedMemory* sharer);

    u32 offset() const { return m_offset; }
    u32 size() const { return m_size; }
    u32 base() const { return arena::linear(m_offset); }
    u32 sharers() const { return m_count; }
    const char* name() const { return m_name; }

private:
    static constexpr u32 kMaxSharers = 64;  // process::kMaxProcesses

    CodeSegment() = default;
    void arena_moved(u32 old_offset, u32 new_offset) override;
    bool arena_movable() const override { return true; }
    void arena_describe(char* buffer, u32 size) const override;
    i32 arena_pid() const override;

    char m_name[16] = "";
    u32 m_offset = 0;
    u32 m_size = 0;
    SegmentedMemory* m_sharers[kMaxSharers] = {};
    u32 m_count = 0;
};
