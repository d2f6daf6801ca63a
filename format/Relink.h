// Relink.h: where a program linked for paging goes under the memory models before paging, and what each of
// its absolute addresses becomes there. Pure and allocation-free, like format/Elf32.h: the kernel's loader
// (kernel/proc/ExecArena.cpp) and the host tests (tests/host/RelinkTest.cpp) use this same code.
//
// Every program is linked once, at 0x00400000 (user/user.ld), with its relocations kept (ld -q), so the
// loader knows every 32-bit word that holds an absolute address (format/Elf32Relocations.h). Two layouts:
//
//   one block (static, base-bounds)   offset 0 .. kStackReserve: the stack; then every PT_LOAD as linked,
//                                     gaps included: link address V is at block offset V - first +
//                                     kStackReserve, `first` being the lowest p_vaddr
//   split (segments)                  the executable PT_LOAD alone in a code block: V is at code offset
//                                     V - code.vaddr; every other PT_LOAD in the data block as above, from
//                                     the lowest non-executable p_vaddr on
//
// An absolute address W found in the image becomes, in one block, W - first + kStackReserve (plus the
// block's linear address under static relocation, which then runs on flat segments); under split, a code
// offset if W is in the code, a data offset if it is in the data (data first: when the code ends exactly
// where the data starts, an address equal to both is far likelier the data's first byte than the code's
// end). An address in neither has no meaning in two spaces: the program cannot run split, and says so.
#pragma once

#include "format/Elf32.h"
#include "libc/base/Error.h"
#include "libc/base/MemoryLayout.h"

struct RelinkLayout {
    // The stack below the program in its (data) block: offsets 0 .. 0x10000, growing down toward 0.
    static constexpr u32 kStackReserve = 0x10000;

    bool split = false;
    ElfSegment code{};      // split only: the executable PT_LOAD
    u32 first = ~0u;        // the lowest link address in the (data) block
    u32 end = 0;            // the end of the last segment there (bss included), rounded up to a page: the
                            // linker's `_end` (user/user.ld), where the heap starts under paging

    // The block offset of link address v (in [first, end]).
    u32 block_offset(u32 v) const { return v - first + kStackReserve; }
    // The block's size up to the end of the image: where the heap starts.
    u32 image_end() const { return block_offset(end); }
    // Whether [v, v + bytes) lies in the block's part of the image (bytes 0: v may be its end, as `_end` is).
    bool in_block(u32 v, u32 bytes) const { return v >= first && v <= end && end - v >= bytes; }
    bool in_code(u32 v, u32 bytes) const {
        u32 code_end = code.vaddr + code.memory_size;
        return split && v >= code.vaddr && v <= code_end && code_end - v >= bytes;
    }
    // What absolute address `word` becomes; `load_address` is added in one block (static relocation).
    ErrorOr<u32> relink(u32 word, u32 load_address) const {
        if (!split) return word - first + kStackReserve + load_address;
        if (in_block(word, 0)) return block_offset(word);
        if (in_code(word, 0)) return word - code.vaddr;
        return Error::BadExecutable;
    }
};

// The layout of `image` in one block (split false) or in a code and a data block (split true). An error says
// why the program cannot be laid out so ("more than one executable segment").
inline ErrorOr<RelinkLayout, ExplainedError> plan_relink(const ElfImage& image, bool split) {
    using Result = ErrorOr<RelinkLayout, ExplainedError>;
    RelinkLayout layout;
    layout.split = split;
    bool have_code = false;
    for (u32 i = 0; i < image.segment_count; ++i) {
        const ElfSegment& s = image.segments[i];
        if (split && s.executable) {
            if (have_code) return Result(Error::BadExecutable, "more than one executable segment");
            if (s.writable) return Result(Error::BadExecutable, "its code segment is writable");
            if (s.file_size != s.memory_size) return Result(Error::BadExecutable, "its code segment has bss");
            layout.code = s;
            have_code = true;
            continue;
        }
        if (s.vaddr < layout.first) layout.first = s.vaddr;
        if (s.vaddr + s.memory_size > layout.end) layout.end = s.vaddr + s.memory_size;
    }
    if (split && !have_code) return Result(Error::BadExecutable, "no executable segment");
    if (layout.end == 0) return Result(Error::BadExecutable, "no data segment");
    layout.end = align_up<u32>(layout.end, kPageSize);
    if (split && (layout.in_code(layout.first, 1) || layout.in_block(layout.code.vaddr, 1)))
        return Result(Error::BadExecutable, "its code and data overlap");
    return layout;
}
