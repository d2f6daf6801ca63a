// Elf32.cpp: the ELF32 validator (see Elf32.h). Field layouts: System V gABI, "ELF Header" and "Program
// Header"; e_machine EM_386 = 3; p_type PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3; p_flags PF_X = 1, PF_W = 2.
#include "format/Elf32.h"

namespace {

struct [[gnu::packed]] Header {
    u8 ident[16];
    u16 type;
    u16 machine;
    u32 version;
    u32 entry;
    u32 phoff;
    u32 shoff;
    u32 flags;
    u16 ehsize;
    u16 phentsize;
    u16 phnum;
    u16 shentsize;
    u16 shnum;
    u16 shstrndx;
};
static_assert(sizeof(Header) == 52);

struct [[gnu::packed]] ProgramHeader {
    u32 type;
    u32 offset;
    u32 vaddr;
    u32 paddr;
    u32 filesz;
    u32 memsz;
    u32 flags;
    u32 align;
};
static_assert(sizeof(ProgramHeader) == 32);

constexpr u16 kTypeExecutable = 2;
constexpr u16 kMachine386 = 3;
constexpr u32 kLoad = 1, kDynamic = 2, kInterp = 3;
constexpr u32 kFlagExecute = 1, kFlagWrite = 2;
constexpr u32 kPage = kPageSize;

template <typename T>
T read(const u8* at) {
    T value;
    __builtin_memcpy(&value, at, sizeof(T));
    return value;
}

}  // namespace

ErrorOr<ElfImage, ExplainedError> parse_elf32(const u8* file, size_t size, ElfLimits limits) {
    using Result = ErrorOr<ElfImage, ExplainedError>;  // Result(code, format, ...): the reason made in place
    const Error bad = Error::BadExecutable;
    if (size < sizeof(Header)) return Result(bad, "file too short for an ELF header (%zu bytes)", size);
    Header h = read<Header>(file);
    if (h.ident[0] != 0x7F || h.ident[1] != 'E' || h.ident[2] != 'L' || h.ident[3] != 'F')
        return Result(bad, "not an ELF file (no \\x7fELF magic)");
    if (h.ident[4] != 1)
        return Result(bad, "ELF class %u, not 32-bit (ELFCLASS32 = 1)%s", h.ident[4],
                      h.ident[4] == 2 ? ": a 64-bit program" : "");
    if (h.ident[5] != 1) return Result(bad, "not little-endian (EI_DATA %u)", h.ident[5]);
    if (h.type != kTypeExecutable)
        return Result(bad, "ELF type %u is not an executable (ET_EXEC = 2)%s", h.type,
                      h.type == 3 ? ": a position-independent executable or shared object" : "");
    if (h.machine != kMachine386) return Result(bad, "machine %u is not i386 (EM_386 = 3)", h.machine);
    if (h.phentsize != sizeof(ProgramHeader))
        return Result(bad, "program header size %u, expected %zu", h.phentsize, sizeof(ProgramHeader));
    if (h.phnum == 0) return Result(bad, "no program headers: nothing to load");
    if (h.phoff > size || static_cast<u64>(h.phnum) * sizeof(ProgramHeader) > size - h.phoff)
        return Result(bad, "program header table (%u entries at offset %u) runs past the end of the %zu-byte file",
                      h.phnum, h.phoff, size);

    ElfImage image;
    image.entry = h.entry;
    bool entry_ok = false;
    for (u32 i = 0; i < h.phnum; ++i) {
        ProgramHeader p = read<ProgramHeader>(file + h.phoff + i * sizeof(ProgramHeader));
        if (p.type == kInterp || p.type == kDynamic)
            return Result(bad, "a dynamically linked program (segment %u is %s): Mneme runs only static executables", i,
                          p.type == kInterp ? "PT_INTERP" : "PT_DYNAMIC");
        if (p.type != kLoad) continue;
        if (p.memsz == 0) continue;
        if (p.filesz > p.memsz)
            return Result(bad, "segment %u: file size %u exceeds memory size %u", i, p.filesz, p.memsz);
        if (p.offset > size || p.filesz > size - p.offset)
            return Result(bad, "segment %u: %u bytes at offset %u run past the %zu-byte file (truncated?)", i, p.filesz,
                          p.offset, size);
        u64 end = static_cast<u64>(p.vaddr) + p.memsz;
        if (p.vaddr < limits.lowest)
            return Result(bad, "segment %u at 0x%08x lies below 0x%08x (page 0 stays unmapped)", i, p.vaddr,
                          limits.lowest);
        if (end > limits.highest)
            return Result(bad, "segment %u (vaddr 0x%08x, %u bytes) reaches the kernel half at 0x%08x", i, p.vaddr,
                          p.memsz, limits.highest);
        if ((p.vaddr % kPage) != (p.offset % kPage))
            return Result(bad, "segment %u: vaddr 0x%08x and offset 0x%x disagree modulo the page size", i, p.vaddr,
                          p.offset);
        u32 first_page = p.vaddr & ~(kPage - 1);
        u64 last_page_end = (end + kPage - 1) & ~static_cast<u64>(kPage - 1);
        for (u32 j = 0; j < image.segment_count; ++j) {
            const ElfSegment& other = image.segments[j];
            u32 other_first = other.vaddr & ~(kPage - 1);
            u64 other_end =
                (static_cast<u64>(other.vaddr) + other.memory_size + kPage - 1) & ~static_cast<u64>(kPage - 1);
            if (first_page < other_end && last_page_end > other_first)
                return Result(bad, "segments overlap (pages of 0x%08x and 0x%08x)", p.vaddr, other.vaddr);
        }
        if (image.segment_count == ElfImage::kMaxSegments)
            return Result(bad, "more than %u loadable segments", ElfImage::kMaxSegments);
        image.segments[image.segment_count++] = ElfSegment{
            p.vaddr, p.memsz, p.offset, p.filesz, (p.flags & kFlagWrite) != 0, (p.flags & kFlagExecute) != 0};
        if ((p.flags & kFlagExecute) && h.entry >= p.vaddr && h.entry < end) entry_ok = true;
        if (last_page_end > image.end) image.end = static_cast<u32>(last_page_end);
    }
    if (image.segment_count == 0) return Result(bad, "no loadable (PT_LOAD) segment");
    if (!entry_ok) return Result(bad, "entry point 0x%08x is not inside an executable segment", h.entry);
    return image;
}
