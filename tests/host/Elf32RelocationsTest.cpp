// Elf32RelocationsTest.cpp: the relocation reader reports exactly the words a static-relocation loader must
// patch, refuses damaged tables and types it cannot apply in words, and on a real program (build/user/bin/
// hello, linked with --emit-relocs by user/user.ld) patching at two load addresses changes exactly the
// reported words, by the difference of the addresses.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "format/Elf32.h"
#include "format/Elf32Relocations.h"
#include "tests/host/BuiltFile.h"

namespace {

constexpr uint32_t kR32 = 1, kPc32 = 2, kPlt32 = 4, kGotPc = 10;

// A hand-built executable: one PT_LOAD at 0x10000 holding .text (0x20 bytes) and .data (0x20 bytes), a .bss,
// the relocations for .text (the caller's entries), a non-loaded .debug_info with a relocation of a type the
// reader must never look at, and the section names. Offsets are fixed so a test can break one field.
struct TinyElf {
    static constexpr uint32_t kPhoff = 52, kText = 0x100, kData = 0x120, kRelText = 0x200, kDebug = 0x280,
                              kRelDebug = 0x2a0, kStrings = 0x300, kShoff = 0x400;
    static constexpr uint32_t kTextAddr = 0x10000, kDataAddr = 0x10020;
    static constexpr uint32_t kRelTextIndex = 3;
    std::vector<uint8_t> file;

    explicit TinyElf(const std::vector<std::pair<uint32_t, uint32_t>>& text_relocations, bool with_rel_text = true) {
        const uint32_t sections = 9;
        file.assign(kShoff + 40 * sections, 0);
        const uint8_t ident[] = {0x7F, 'E', 'L', 'F', 1, 1, 1};
        std::memcpy(file.data(), ident, sizeof(ident));
        put16(16, 2);  // ET_EXEC
        put16(18, 3);  // EM_386
        put32(20, 1);
        put32(24, kTextAddr);
        put32(28, kPhoff);
        put32(32, kShoff);
        put16(40, 52);
        put16(42, 32);
        put16(44, 1);
        put16(46, 40);
        put16(48, sections);
        put16(50, 8);  // .shstrtab
        // PT_LOAD: file 0x100..0x140 at 0x10000, memory up to 0x10080 (.bss).
        put32(kPhoff + 0, 1);
        put32(kPhoff + 4, kText);
        put32(kPhoff + 8, kTextAddr);
        put32(kPhoff + 12, kTextAddr);
        put32(kPhoff + 16, 0x40);
        put32(kPhoff + 20, 0x80);
        put32(kPhoff + 24, 7);
        put32(kPhoff + 28, 0x1000);
        for (uint32_t i = 0; i < 0x40; i += 4) put32(kText + i, 0x100 * i + 0x10000);
        for (size_t i = 0; i < text_relocations.size(); ++i) {
            put32(kRelText + 8 * i, text_relocations[i].first);
            put32(kRelText + 8 * i + 4, text_relocations[i].second);
        }
        put32(kRelDebug, 0);
        put32(kRelDebug + 4, kGotPc);
        const char names[] = "\0.text\0.data\0.bss\0.rel.text\0.debug_info\0.rel.debug_info\0.shstrtab\0";
        std::memcpy(&file[kStrings], names, sizeof(names));
        auto name = [&](const char* n) { return uint32_t(std::string(names, sizeof(names)).find(n)); };
        // name, type, flags, addr, offset, size, link, info, addralign, entsize
        section(1, {name(".text"), 1, 6, kTextAddr, kText, 0x20, 0, 0, 16, 0});
        section(2, {name(".data"), 1, 3, kDataAddr, kData, 0x20, 0, 0, 16, 0});
        section(3, {name(".rel.text"), with_rel_text ? 9u : 0u, 0x40, 0, kRelText,
                    uint32_t(8 * text_relocations.size()), 0, 1, 4, 8});
        section(4, {name(".bss"), 8, 3, 0x10040, kData + 0x20, 0x40, 0, 0, 16, 0});
        section(5, {name(".debug_info"), 1, 0, 0, kDebug, 0x10, 0, 0, 1, 0});
        section(6, {name(".rel.debug_info"), 9, 0x40, 0, kRelDebug, 8, 0, 5, 4, 8});
        section(7, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        section(8, {name(".shstrtab"), 3, 0, 0, kStrings, sizeof(names), 0, 0, 1, 0});
    }
    void put16(size_t at, uint16_t v) { std::memcpy(&file[at], &v, 2); }
    void put32(size_t at, uint32_t v) { std::memcpy(&file[at], &v, 4); }
    uint32_t get32(size_t at) const {
        uint32_t v;
        std::memcpy(&v, &file[at], 4);
        return v;
    }
    void section(uint32_t index, std::vector<uint32_t> fields) {
        for (size_t i = 0; i < fields.size(); ++i) put32(kShoff + 40 * index + 4 * i, fields[i]);
    }
    // Field `field` (0 name .. 9 entsize) of section `index`.
    void set_section_field(uint32_t index, uint32_t field, uint32_t value) {
        put32(kShoff + 40 * index + 4 * field, value);
    }
};

Span<const u8> span_of(const std::vector<uint8_t>& file) { return Span<const u8>(file.data(), file.size()); }

std::vector<RelocationSite> sites_of(const std::vector<uint8_t>& file, RelocationSummary* summary = nullptr) {
    std::vector<RelocationSite> sites;
    auto result = for_each_absolute_relocation(span_of(file), [&](RelocationSite site) { sites.push_back(site); });
    EXPECT_FALSE(result.is_error()) << result.error().what();
    if (!result.is_error() && summary) *summary = result.value();
    return sites;
}

// The reason of the error the reader must return; no callback may have run.
std::string error_of(const std::vector<uint8_t>& file) {
    int calls = 0;
    auto result = for_each_absolute_relocation(span_of(file), [&](RelocationSite) { ++calls; });
    EXPECT_TRUE(result.is_error());
    EXPECT_EQ(calls, 0);
    if (!result.is_error()) return "";
    EXPECT_EQ(result.error().code, Error::BadExecutable);
    return result.error().reason;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Elf32Relocations, ReportsAbsoluteSitesAndCountsTheRest) {
    TinyElf elf({{0x10004, kR32}, {0x10008, kPc32}, {0x1000c, kPlt32}, {0x10010, 0}, {0x1001c, kR32}});
    RelocationSummary summary;
    auto sites = sites_of(elf.file, &summary);
    ASSERT_EQ(sites.size(), 2u);
    EXPECT_EQ(sites[0].offset, 0x10004u);
    EXPECT_EQ(sites[0].file_offset, TinyElf::kText + 4);
    EXPECT_EQ(sites[1].offset, 0x1001cu);  // the last word of .text
    EXPECT_EQ(sites[1].file_offset, TinyElf::kText + 0x1c);
    EXPECT_EQ(summary.relocation_sections, 1u);  // .rel.debug_info (type 10) is not looked at
    EXPECT_EQ(summary.absolute, 2u);
    EXPECT_EQ(summary.pc_relative, 1u);
    EXPECT_EQ(summary.plt, 1u);
    EXPECT_EQ(summary.none, 1u);
    EXPECT_TRUE(summary.carries_relocations());
    auto counted = summarize_relocations(span_of(elf.file));
    ASSERT_FALSE(counted.is_error());
    EXPECT_EQ(counted.value().absolute, 2u);
}

TEST(Elf32Relocations, AProgramWithoutRelocationsSaysSo) {
    TinyElf without_rel_text({{0x10004, kR32}}, false);
    auto summary = summarize_relocations(span_of(without_rel_text.file));
    ASSERT_FALSE(summary.is_error()) << summary.error().what();
    EXPECT_FALSE(summary.value().carries_relocations());
    EXPECT_TRUE(sites_of(without_rel_text.file).empty());

    TinyElf no_section_table({{0x10004, kR32}});
    no_section_table.put32(32, 0);  // e_shoff
    auto without_table = summarize_relocations(span_of(no_section_table.file));
    ASSERT_FALSE(without_table.is_error()) << without_table.error().what();
    EXPECT_FALSE(without_table.value().carries_relocations());
}

TEST(Elf32Relocations, TypesALoaderCannotApplyAreNamed) {
    // The good R_386_32 entry comes first: still no callback, since the table is checked before reporting.
    std::string reason = error_of(TinyElf({{0x10004, kR32}, {0x10008, kGotPc}}).file);
    EXPECT_TRUE(contains(reason, "type 10 (R_386_GOTPC)")) << reason;
    EXPECT_TRUE(contains(reason, ".rel.text, entry 1")) << reason;
    reason = error_of(TinyElf({{0x10004, 200}}).file);
    EXPECT_TRUE(contains(reason, "type 200 (unknown)")) << reason;
    TinyElf rela({{0x10004, kR32}});
    rela.set_section_field(TinyElf::kRelTextIndex, 1, 4);  // SHT_RELA
    rela.set_section_field(TinyElf::kRelTextIndex, 9, 12);
    EXPECT_TRUE(contains(error_of(rela.file), "SHT_RELA"));
}

TEST(Elf32Relocations, TruncatedFilesAreRefused) {
    TinyElf elf({{0x10004, kR32}, {0x10008, kPc32}});
    for (size_t cut = 0; cut < elf.file.size(); cut += (cut < 64 ? 1 : 7)) {
        std::vector<uint8_t> file(elf.file.begin(), elf.file.begin() + cut);
        EXPECT_FALSE(error_of(file).empty()) << "cut at " << cut;
    }
    EXPECT_TRUE(contains(error_of(std::vector<uint8_t>(elf.file.begin(), elf.file.end() - 1)), "runs past"));
}

TEST(Elf32Relocations, SitesOutsideTheirSectionOrSegmentAreRefused) {
    // Straddling the end of .text, below it, and wrapping around 4 GiB.
    for (uint32_t site : {0x1001eu, 0xfffcu, 0xfffffffeu})
        EXPECT_TRUE(contains(error_of(TinyElf({{site, kR32}}).file), "outside its section")) << std::hex << site;
    // .text larger than the PT_LOAD's file bytes: the site lies in no loadable segment.
    TinyElf short_segment({{0x1001c, kR32}});
    short_segment.put32(TinyElf::kPhoff + 16, 0x10);
    EXPECT_TRUE(contains(error_of(short_segment.file), "loadable segment"));
    // A PT_LOAD at the right address but a file offset that disagrees with the section's.
    TinyElf moved_segment({{0x10004, kR32}});
    moved_segment.put32(TinyElf::kPhoff + 4, TinyElf::kText + 0x10);
    EXPECT_TRUE(contains(error_of(moved_segment.file), "loadable segment"));
}

TEST(Elf32Relocations, DamagedTablesAreRefused) {
    auto broken = [](uint32_t index, uint32_t field, uint32_t value) {
        TinyElf elf({{0x10004, kR32}});
        elf.set_section_field(index, field, value);
        return error_of(elf.file);
    };
    EXPECT_TRUE(contains(broken(TinyElf::kRelTextIndex, 9, 12), "entry size 12"));
    EXPECT_TRUE(contains(broken(TinyElf::kRelTextIndex, 9, 0), "entry size 0"));
    EXPECT_TRUE(contains(broken(TinyElf::kRelTextIndex, 5, 0xFFFFFFF8), "run past"));  // sh_size overflow
    EXPECT_TRUE(contains(broken(TinyElf::kRelTextIndex, 4, 0xFFFFFFFC), "run past"));  // sh_offset overflow
    EXPECT_TRUE(contains(broken(TinyElf::kRelTextIndex, 4, TinyElf::kRelText + 2), "misaligned"));
    EXPECT_TRUE(contains(broken(TinyElf::kRelTextIndex, 5, 12), "misaligned"));  // not a whole entry
    EXPECT_TRUE(contains(broken(TinyElf::kRelTextIndex, 7, 9), "target"));       // sh_info past the table
    EXPECT_TRUE(contains(broken(TinyElf::kRelTextIndex, 7, 0), "target"));
    EXPECT_TRUE(contains(broken(TinyElf::kRelTextIndex, 7, 4), "no file bytes"));  // patching .bss
    EXPECT_TRUE(contains(broken(1, 4, 0xFFFFFFF0), "runs past the end"));          // the target section
    // A damaged name table costs the names, not the check.
    TinyElf bad_names({{0x10004, kGotPc}});
    bad_names.set_section_field(8, 5, 0xFFFFFFFF);
    EXPECT_TRUE(contains(error_of(bad_names.file), "type 10"));

    TinyElf header({{0x10004, kR32}});
    header.put32(32, 0xFFFFFFF0);  // e_shoff near 4 GiB
    EXPECT_TRUE(contains(error_of(header.file), "runs past"));
    header = TinyElf({{0x10004, kR32}});
    header.put32(32, TinyElf::kShoff + 2);
    EXPECT_TRUE(contains(error_of(header.file), "aligned"));
    header = TinyElf({{0x10004, kR32}});
    header.put16(46, 64);  // e_shentsize
    EXPECT_TRUE(contains(error_of(header.file), "section header size"));
    header = TinyElf({{0x10004, kR32}});
    header.put16(48, 0);  // e_shnum 0 with a table: extended numbering
    EXPECT_TRUE(contains(error_of(header.file), "extended"));
    header = TinyElf({{0x10004, kR32}});
    header.put16(16, 1);  // ET_REL: r_offset would be section-relative
    EXPECT_TRUE(contains(error_of(header.file), "not an executable"));
}

// ---- The real programs -------------------------------------------------------------------------------------

uint32_t word_at(const std::vector<uint8_t>& file, uint32_t at) {
    uint32_t v;
    std::memcpy(&v, &file[at], 4);
    return v;
}

// What a static-relocation loader does to the file's bytes for load address `base`.
std::vector<uint8_t> patched(std::vector<uint8_t> file, const std::vector<RelocationSite>& sites, uint32_t base) {
    for (const RelocationSite& site : sites) {
        uint32_t value = word_at(file, site.file_offset) + base;
        std::memcpy(&file[site.file_offset], &value, 4);
    }
    return file;
}

TEST(Elf32Relocations, HelloPatchedAtTwoAddressesDiffersExactlyAtTheSites) {
    auto file = built_file("build/user/bin/hello");
    ASSERT_GT(file.size(), 1000u);
    RelocationSummary summary;
    auto sites = sites_of(file, &summary);
    // hello with the C library: string and data addresses in .text, switch tables in .rodata.
    EXPECT_GE(summary.absolute, 200u);
    EXPECT_GE(summary.pc_relative, 20u);
    ASSERT_EQ(sites.size(), summary.absolute);

    // Sites do not overlap (each word is patched once).
    std::vector<uint32_t> offsets;
    for (const RelocationSite& site : sites) offsets.push_back(site.file_offset);
    std::sort(offsets.begin(), offsets.end());
    for (size_t i = 1; i < offsets.size(); ++i) EXPECT_GE(offsets[i] - offsets[i - 1], 4u) << "site " << offsets[i];

    // Every site in the file bytes of one PT_LOAD, at the matching file offset; every word an address of the
    // image (or its page-aligned end, `_end`).
    auto image = parse_elf32(file.data(), file.size(), ElfLimits{});
    ASSERT_FALSE(image.is_error()) << image.error().what();
    ASSERT_EQ(image.value().segment_count, 3u);  // user/user.ld: text, rodata, data
    const uint32_t first = image.value().segments[0].vaddr;
    EXPECT_EQ(first, 0x00400000u);
    for (const RelocationSite& site : sites) {
        bool found = false;
        for (uint32_t i = 0; i < image.value().segment_count; ++i) {
            const ElfSegment& segment = image.value().segments[i];
            if (site.offset < segment.vaddr || site.offset + 4 > segment.vaddr + segment.file_size) continue;
            ASSERT_EQ(site.file_offset, segment.file_offset + (site.offset - segment.vaddr));
            found = true;
        }
        ASSERT_TRUE(found) << "site 0x" << std::hex << site.offset;
        EXPECT_GE(word_at(file, site.file_offset), first) << "site 0x" << std::hex << site.offset;
        EXPECT_LE(word_at(file, site.file_offset), image.value().end) << "site 0x" << std::hex << site.offset;
    }

    const uint32_t low = 0x00123450, high = 0x08765430;
    auto at_low = patched(file, sites, low), at_high = patched(file, sites, high);
    std::vector<bool> is_site(file.size(), false);
    for (uint32_t offset : offsets)
        for (uint32_t b = 0; b < 4; ++b) is_site[offset + b] = true;
    for (size_t i = 0; i < file.size(); ++i) {
        if (!is_site[i]) {
            ASSERT_EQ(at_low[i], at_high[i]) << "byte " << i << " changed but is no site";
        }
    }
    for (uint32_t offset : offsets) {
        EXPECT_EQ(word_at(at_high, offset) - word_at(at_low, offset), high - low) << "site at file offset " << offset;
        EXPECT_EQ(word_at(at_low, offset) - word_at(file, offset), low);
    }
}

TEST(Elf32Relocations, TheInitrdCopyKeepsEverySite) {
    // strip --strip-debug --strip-unneeded drops .rel.debug_* and the unused symbols but keeps .rel.text,
    // .rel.rodata and .rel.data.
    auto linked = built_file("build/user/bin/hello");
    auto stripped = built_file("build/initrd/bin/hello");
    ASSERT_LT(stripped.size(), linked.size());
    auto linked_sites = sites_of(linked), stripped_sites = sites_of(stripped);
    ASSERT_EQ(linked_sites.size(), stripped_sites.size());
    ASSERT_FALSE(stripped_sites.empty());
    for (size_t i = 0; i < linked_sites.size(); ++i) {
        EXPECT_EQ(linked_sites[i].offset, stripped_sites[i].offset);
        EXPECT_EQ(word_at(linked, linked_sites[i].file_offset), word_at(stripped, stripped_sites[i].file_offset));
    }
}

}  // namespace
