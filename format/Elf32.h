// Elf32.h: validating a static ELF32 i386 executable and describing what to map (System V ABI, "ELF"
// chapter; Intel386 psABI supplement).
//
// The loader maps each PT_LOAD segment at its p_vaddr: p_filesz bytes from the file at p_offset, the rest
// up to p_memsz zero (.bss). Everything the kernel will rely on is checked here first, since a program file
// is input: the identification bytes, class, byte order, machine, type, the program-header table and every
// segment inside the file, segments inside user space (a segment reaching into the kernel half is refused),
// no overlapping segments, the entry point inside an executable segment. Dynamic executables (PT_INTERP,
// PT_DYNAMIC) are refused: Mneme has no dynamic linker. Pure and allocation-free.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/MemoryLayout.h"
#include "libc/base/Types.h"

struct ElfSegment {
    u32 vaddr;
    u32 memory_size;
    u32 file_offset;
    u32 file_size;
    bool writable;
    bool executable;
};

struct ElfImage {
    static constexpr u32 kMaxSegments = 8;
    u32 entry = 0;
    u32 segment_count = 0;
    ElfSegment segments[kMaxSegments];
    // The end of the highest segment, page-aligned: where the heap (brk) starts.
    u32 end = 0;
};

struct ElfLimits {
    u32 lowest = 0x1000;        // nothing may be mapped below (page 0 stays empty: null pointers fault)
    u32 highest = kKernelBase;  // exclusive: the kernel half
};

// Parses `file` (size bytes). An error is Error::BadExecutable with the reason in words ("segment 1 (vaddr
// 0xc0000000, 4096 bytes) reaches into the kernel half at 0xc0000000").
ErrorOr<ElfImage, ExplainedError> parse_elf32(const u8* file, size_t size, ElfLimits limits);
