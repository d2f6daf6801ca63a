// Elf32Relocations.h: reading the relocations an ELF32 i386 executable kept from its link (ld --emit-relocs),
// so a loader can place the image at any address: static relocation (OSTEP, "Address Translation", "Static
// Relocation"; Tanenbaum, "Modern Operating Systems", "Relocation and protection"; System V gABI,
// "Relocation"; Intel386 psABI supplement, "Relocation Types").
//
// A program linked at address A and copied to address L runs if every 32-bit word that holds an absolute
// address of the image gets L - A added (format/Relink.h has the rules of Mneme's older memory models). Those
// words are exactly the R_386_32 sites: in an executable linked with --emit-relocs, r_offset is the final
// address of the site, and the linker already stored the resolved value, so the loader adds L - A and needs no
// symbol table. R_386_PC32 and
// R_386_PLT32 sites (calls, PC-relative jumps) hold the distance from the site to its target; both move by L
// together, so the distance and the site stay as they are. R_386_NONE is nothing. Any other type (GOT, TLS,
// 16-bit, ...) is something a static non-PIE link should not contain and this loader cannot apply: an error
// naming the type and the section.
//
// Only SHT_REL sections whose sh_info names a loaded (SHF_ALLOC) section count; the debug sections'
// relocations (.rel.debug_*) are skipped. The input is untrusted: the ELF header, the section-header table,
// each relocation section and its target, and each patched site are checked against the buffer (bounds, 4-byte
// alignment of the tables, sh_entsize, no arithmetic overflow). Each R_386_32 site lies inside its target
// section and inside the file bytes of one PT_LOAD whose p_vaddr and p_offset agree with the section's
// (split images have two PT_LOADs overlapping in p_vaddr, so the file offset decides which). The whole table
// is checked before the first callback runs, so a loader never half-patches a program it then refuses.
// Pure and allocation-free, like format/Elf32.h.
#pragma once

#include "libc/base/Error.h"
#include "libc/base/Span.h"
#include "libc/base/Types.h"

// One 32-bit word to patch: at image offset `offset` (its r_offset, the address the program was linked to
// see), stored in the file at `file_offset`. A loader that copied the image to L adds L to the word at L +
// offset.
struct RelocationSite {
    u32 offset;
    u32 file_offset;
};

struct RelocationSummary {
    u32 relocation_sections = 0;  // SHT_REL sections for loaded sections
    u32 absolute = 0;             // R_386_32: patched (reported to the callback)
    u32 pc_relative = 0;          // R_386_PC32: no patch
    u32 plt = 0;                  // R_386_PLT32: no patch (a static link resolves it like PC32)
    u32 none = 0;                 // R_386_NONE

    // False for a program linked without --emit-relocs: it can run only where it was linked.
    bool carries_relocations() const { return relocation_sections != 0; }
};

namespace elf32_relocations {
using SiteVisitor = void (*)(void* context, RelocationSite site);
// The walk behind the template below: checks everything, then calls visit for each R_386_32 site in table
// order (visit may be null).
ErrorOr<RelocationSummary, ExplainedError> walk(Span<const u8> image, SiteVisitor visit, void* context);
}  // namespace elf32_relocations

// Calls callback(RelocationSite) for each R_386_32 site of `image` and returns the counts. An error is
// Error::BadExecutable with the reason in words ("relocation type 10 (R_386_GOTPC) in .rel.text, entry 3:
// not a type a static loader can apply"); then no callback has run.
template <typename F>
ErrorOr<RelocationSummary, ExplainedError> for_each_absolute_relocation(Span<const u8> image, F&& callback) {
    using Callback = std::remove_reference_t<F>;
    return elf32_relocations::walk(
        image, [](void* context, RelocationSite site) { (*static_cast<Callback*>(context))(site); },
        const_cast<void*>(static_cast<const void*>(&callback)));
}

// The counts alone: whether the image carries relocations at all (summary.carries_relocations()), and how
// many sites a loader will patch.
inline ErrorOr<RelocationSummary, ExplainedError> summarize_relocations(Span<const u8> image) {
    return elf32_relocations::walk(image, nullptr, nullptr);
}
