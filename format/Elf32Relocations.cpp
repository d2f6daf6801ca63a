// Elf32Relocations.cpp: the relocation reader (see Elf32Relocations.h). Field layouts: System V gABI,
// "ELF Header", "Sections" (Elf32_Shdr; SHT_RELA 4, SHT_NOBITS 8, SHT_REL 9; SHF_ALLOC 2) and "Relocation"
// (Elf32_Rel: r_offset, r_info = symbol << 8 | type); relocation types: Intel386 psABI supplement, table
// "Relocation Types" (R_386_NONE 0, R_386_32 1, R_386_PC32 2, R_386_PLT32 4).
//
// Two passes over the same tables: the first checks everything and counts, the second (only when the first
// found nothing wrong and a visitor was given) reports the R_386_32 sites. Every size and offset from the file
// is added in 64 bits, so no sum wraps around.
#include "format/Elf32Relocations.h"

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

struct [[gnu::packed]] SectionHeader {
    u32 name;
    u32 type;
    u32 flags;
    u32 addr;
    u32 offset;
    u32 size;
    u32 link;
    u32 info;
    u32 addralign;
    u32 entsize;
};
static_assert(sizeof(SectionHeader) == 40);

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

struct [[gnu::packed]] Rel {
    u32 offset;
    u32 info;
};
static_assert(sizeof(Rel) == 8);

constexpr u16 kTypeExecutable = 2;
constexpr u16 kMachine386 = 3;
constexpr u32 kSectionRela = 4, kSectionNoBits = 8, kSectionRel = 9;
constexpr u32 kFlagAlloc = 2;
constexpr u32 kLoad = 1;
constexpr u32 kNone = 0, kAbsolute32 = 1, kPc32 = 2, kPlt32 = 4;
constexpr u32 kTableAlignment = 4;

using Result = ErrorOr<RelocationSummary, ExplainedError>;
const Error kBad = Error::BadExecutable;

template <typename T>
T read(const u8* at) {
    T value;
    __builtin_memcpy(&value, at, sizeof(T));
    return value;
}

const char* type_name(u32 type) {
    switch (type) {
    case 3: return "R_386_GOT32";
    case 5: return "R_386_COPY";
    case 6: return "R_386_GLOB_DAT";
    case 7: return "R_386_JMP_SLOT";
    case 8: return "R_386_RELATIVE";
    case 9: return "R_386_GOTOFF";
    case 10: return "R_386_GOTPC";
    case 20: return "R_386_16";
    case 21: return "R_386_PC16";
    case 22: return "R_386_8";
    case 23: return "R_386_PC8";
    case 42: return "R_386_IRELATIVE";
    case 43: return "R_386_GOT32X";
    default: return (type >= 14 && type <= 37) ? "a thread-local storage type" : "unknown";
    }
}

// The validated file: its header and where its tables are.
class ElfView {
public:
    ElfView(Span<const u8> image, const Header& header) : m_image(image), m_header(header) {}

    u32 section_count() const { return m_header.shnum; }
    SectionHeader section(u32 index) const {
        return read<SectionHeader>(m_image.data() + m_header.shoff + index * sizeof(SectionHeader));
    }
    u32 segment_count() const { return m_header.phnum; }
    ProgramHeader segment(u32 index) const {
        return read<ProgramHeader>(m_image.data() + m_header.phoff + index * sizeof(ProgramHeader));
    }
    const u8* data() const { return m_image.data(); }

    bool inside(u64 offset, u64 length) const { return offset <= m_image.size() && length <= m_image.size() - offset; }

    // The section's name from the section-name string table, or "" when the table or the name is damaged.
    const char* name_of(const SectionHeader& section) const {
        if (m_header.shstrndx == 0 || m_header.shstrndx >= m_header.shnum) return "";
        SectionHeader strings = this->section(m_header.shstrndx);
        if (strings.type == kSectionNoBits || !inside(strings.offset, strings.size)) return "";
        if (section.name >= strings.size) return "";
        const char* name = reinterpret_cast<const char*>(m_image.data() + strings.offset + section.name);
        for (u32 i = section.name; i < strings.size; ++i)
            if (m_image.data()[strings.offset + i] == '\0') return name;
        return "";
    }

    // Whether [site, site + 4) lies in the file bytes of a PT_LOAD that puts image offset `site` at file offset
    // `file_offset`.
    bool site_is_loaded(u32 site, u64 file_offset) const {
        for (u32 i = 0; i < segment_count(); ++i) {
            ProgramHeader p = segment(i);
            if (p.type != kLoad || site < p.vaddr) continue;
            u64 into = static_cast<u64>(site) - p.vaddr;
            if (into + 4 <= p.filesz && static_cast<u64>(p.offset) + into == file_offset) return true;
        }
        return false;
    }

private:
    Span<const u8> m_image;
    Header m_header;
};

ErrorOr<Header, ExplainedError> read_header(Span<const u8> image) {
    using HeaderResult = ErrorOr<Header, ExplainedError>;
    if (image.size() < sizeof(Header))
        return HeaderResult(kBad, "file too short for an ELF header (%zu bytes)", image.size());
    Header h = read<Header>(image.data());
    if (h.ident[0] != 0x7F || h.ident[1] != 'E' || h.ident[2] != 'L' || h.ident[3] != 'F')
        return HeaderResult(kBad, "not an ELF file (no \\x7fELF magic)");
    if (h.ident[4] != 1 || h.ident[5] != 1 || h.machine != kMachine386)
        return HeaderResult(kBad, "not a little-endian ELF32 i386 file");
    // In a relocatable object r_offset is relative to its section; only in an executable is it the address.
    if (h.type != kTypeExecutable) return HeaderResult(kBad, "ELF type %u is not an executable (ET_EXEC = 2)", h.type);
    u64 size = image.size();
    if (h.phnum != 0) {
        if (h.phentsize != sizeof(ProgramHeader))
            return HeaderResult(kBad, "program header size %u, expected %zu", h.phentsize, sizeof(ProgramHeader));
        if (h.phoff > size || static_cast<u64>(h.phnum) * sizeof(ProgramHeader) > size - h.phoff)
            return HeaderResult(kBad, "program header table (%u entries at offset %u) runs past the end of the file",
                                h.phnum, h.phoff);
    }
    if (h.shoff == 0) {
        h.shnum = 0;  // no section-header table: nothing kept, nothing to relocate
        return h;
    }
    if (h.shnum == 0)
        return HeaderResult(kBad,
                            "extended section numbering (e_shnum 0 with a section-header table) is not supported");
    if (h.shentsize != sizeof(SectionHeader))
        return HeaderResult(kBad, "section header size %u, expected %zu", h.shentsize, sizeof(SectionHeader));
    if (h.shoff % kTableAlignment != 0)
        return HeaderResult(kBad, "section-header table at offset %u is not 4-byte aligned", h.shoff);
    if (h.shoff > size || static_cast<u64>(h.shnum) * sizeof(SectionHeader) > size - h.shoff)
        return HeaderResult(kBad,
                            "section-header table (%u entries at offset %u) runs past the end of the %llu-byte file",
                            h.shnum, h.shoff, static_cast<unsigned long long>(size));
    return h;
}

// Checks relocation section `index` (an SHT_REL for a loaded section) and every entry, adding to `summary`;
// with a visitor, reports the R_386_32 sites instead of checking (the caller checked first).
ErrorOr<void, ExplainedError> walk_section(const ElfView& elf, u32 index, RelocationSummary& summary,
                                           elf32_relocations::SiteVisitor visit, void* context) {
    using SectionResult = ErrorOr<void, ExplainedError>;
    SectionHeader rel = elf.section(index);
    SectionHeader target = elf.section(rel.info);
    const char* name = elf.name_of(rel);
    if (rel.entsize != sizeof(Rel))
        return SectionResult(kBad, "relocation section %u (%s): entry size %u, expected %zu", index, name, rel.entsize,
                             sizeof(Rel));
    if (rel.size % sizeof(Rel) != 0 || rel.offset % kTableAlignment != 0 || !elf.inside(rel.offset, rel.size))
        return SectionResult(kBad,
                             "relocation section %u (%s): %u bytes at offset %u are misaligned or run past the file",
                             index, name, rel.size, rel.offset);
    if (rel.size != 0 && target.type == kSectionNoBits)
        return SectionResult(kBad, "relocation section %u (%s) patches section %u, which has no file bytes", index,
                             name, rel.info);
    if (!elf.inside(target.offset, target.size))
        return SectionResult(kBad, "section %u (%s), patched by %s, runs past the end of the file", rel.info,
                             elf.name_of(target), name);
    u32 count = rel.size / sizeof(Rel);
    for (u32 i = 0; i < count; ++i) {
        Rel entry = read<Rel>(elf.data() + rel.offset + i * sizeof(Rel));
        u32 type = entry.info & 0xFF;
        if (type == kNone) {
            if (!visit) ++summary.none;
            continue;
        }
        if (type != kAbsolute32 && type != kPc32 && type != kPlt32)
            return SectionResult(kBad,
                                 "relocation type %u (%s) in %s, entry %u: not a type a static loader can apply "
                                 "(only R_386_32, R_386_PC32 and R_386_PLT32)",
                                 type, type_name(type), name, i);
        u64 into = static_cast<u64>(entry.offset) - target.addr;  // wraps to a huge value below the section
        if (entry.offset < target.addr || into + 4 > target.size)
            return SectionResult(kBad, "%s, entry %u: site 0x%08x lies outside its section %s (0x%08x, %u bytes)", name,
                                 i, entry.offset, elf.name_of(target), target.addr, target.size);
        if (type != kAbsolute32) {
            if (!visit) ++(type == kPc32 ? summary.pc_relative : summary.plt);
            continue;
        }
        u64 file_offset = target.offset + into;
        if (visit) {
            visit(context, RelocationSite{entry.offset, static_cast<u32>(file_offset)});
            continue;
        }
        if (!elf.site_is_loaded(entry.offset, file_offset))
            return SectionResult(kBad, "%s, entry %u: site 0x%08x is not inside the file bytes of a loadable segment",
                                 name, i, entry.offset);
        ++summary.absolute;
    }
    return {};
}

}  // namespace

namespace elf32_relocations {

ErrorOr<RelocationSummary, ExplainedError> walk(Span<const u8> image, SiteVisitor visit, void* context) {
    Header header = TRY(read_header(image));
    ElfView elf(image, header);
    RelocationSummary summary;
    // Pass 1 checks and counts; pass 2 reports.
    for (int pass = 0; pass < (visit ? 2 : 1); ++pass) {
        for (u32 index = 0; index < elf.section_count(); ++index) {
            SectionHeader section = elf.section(index);
            if (section.type == kSectionRel || section.type == kSectionRela) {
                if (section.info == 0 || section.info >= elf.section_count() || section.info == index)
                    return Result(kBad, "relocation section %u (%s) names section %u as its target, of %u", index,
                                  elf.name_of(section), section.info, elf.section_count());
                if ((elf.section(section.info).flags & kFlagAlloc) == 0) continue;  // debug information
                if (section.type == kSectionRela)
                    return Result(kBad, "relocation section %u (%s) is SHT_RELA: i386 programs use SHT_REL", index,
                                  elf.name_of(section));
                if (pass == 0) ++summary.relocation_sections;
                TRY(walk_section(elf, index, summary, pass == 0 ? nullptr : visit, context));
            }
        }
    }
    return summary;
}

}  // namespace elf32_relocations
