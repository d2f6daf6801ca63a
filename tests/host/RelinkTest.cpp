// RelinkTest.cpp: format/Relink.h, the layouts of the memory models before paging and what each absolute
// address of a program becomes in them: on hand-made images with hand-computed answers, on the refusals,
// and on a real program (build/user/bin/hello), where every absolute address must have a place under
// segments and some of them are code addresses stored in data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "format/Elf32.h"
#include "format/Elf32Relocations.h"
#include "format/Relink.h"
#include "tests/host/BuiltFile.h"

namespace {

// A program as user/user.ld links it: code at 0x400000 (0x2345 bytes), rodata at 0x403000, data and bss
// at 0x404000 up to 0x405100.
ElfImage linked_image() {
    ElfImage image;
    image.entry = 0x400010;
    image.segment_count = 3;
    image.segments[0] = ElfSegment{0x400000, 0x2345, 0x1000, 0x2345, false, true};
    image.segments[1] = ElfSegment{0x403000, 0x800, 0x4000, 0x800, false, false};
    image.segments[2] = ElfSegment{0x404000, 0x1100, 0x5000, 0x200, true, false};
    image.end = 0x406000;
    return image;
}

TEST(Relink, OneBlockShiftsEveryAddressBelowTheStackReserve) {
    auto planned = plan_relink(linked_image(), false);
    ASSERT_FALSE(planned.is_error()) << planned.error().what();
    const RelinkLayout& layout = planned.value();
    EXPECT_EQ(layout.first, 0x400000u);
    EXPECT_EQ(layout.end, 0x406000u);  // 0x405100 rounded up to the page: `_end`
    EXPECT_EQ(layout.block_offset(0x400000), 0x10000u);
    EXPECT_EQ(layout.image_end(), 0x16000u);
    // Base and bounds: offsets in the segment. Static relocation: the block's linear address on top.
    EXPECT_EQ(layout.relink(0x400010, 0).value(), 0x10010u);
    EXPECT_EQ(layout.relink(0x404abc, 0).value(), 0x14abcu);
    EXPECT_EQ(layout.relink(0x404abc, 0x10035000).value(), 0x10049abcu);
    EXPECT_EQ(layout.relink(0x406000, 0).value(), 0x16000u);
    // Code and data are one space: a site in the code is in the block.
    EXPECT_TRUE(layout.in_block(0x400100, 4));
    EXPECT_FALSE(layout.in_code(0x400100, 4));
}

TEST(Relink, SplitMakesCodeAddressesCodeOffsetsAndDataAddressesDataOffsets) {
    auto planned = plan_relink(linked_image(), true);
    ASSERT_FALSE(planned.is_error()) << planned.error().what();
    const RelinkLayout& layout = planned.value();
    EXPECT_EQ(layout.code.vaddr, 0x400000u);
    EXPECT_EQ(layout.first, 0x403000u);  // the data block starts with rodata
    EXPECT_EQ(layout.block_offset(0x403000), 0x10000u);
    EXPECT_EQ(layout.image_end(), 0x13000u);
    EXPECT_EQ(layout.relink(0x400000, 0).value(), 0u);          // a function: a code offset
    EXPECT_EQ(layout.relink(0x402345, 0).value(), 0x2345u);     // the end of the code
    EXPECT_EQ(layout.relink(0x403010, 0).value(), 0x10010u);    // a string: a data offset
    EXPECT_EQ(layout.relink(0x405000, 0).value(), 0x12000u);    // bss
    EXPECT_EQ(layout.relink(0x406000, 0).value(), 0x13000u);    // `_end`
    // Between the code and the data (the padding to rodata's page), past `_end`, below the code: no place.
    EXPECT_TRUE(layout.relink(0x402800, 0).is_error());
    EXPECT_TRUE(layout.relink(0x406004, 0).is_error());
    EXPECT_TRUE(layout.relink(0x3ffffc, 0).is_error());
    // Where a site is: the code block or the data block.
    EXPECT_TRUE(layout.in_code(0x400100, 4));
    EXPECT_FALSE(layout.in_block(0x400100, 4));
    EXPECT_FALSE(layout.in_code(0x402344, 4));  // the last 4 bytes would run past the code
    EXPECT_TRUE(layout.in_block(0x404ffc, 4));
}

TEST(Relink, AnAddressThatIsBothTheCodesEndAndTheDatasStartIsData) {
    ElfImage image = linked_image();
    image.segments[0].memory_size = image.segments[0].file_size = 0x3000;  // code up to rodata's first byte
    auto planned = plan_relink(image, true);
    ASSERT_FALSE(planned.is_error()) << planned.error().what();
    EXPECT_EQ(planned.value().relink(0x403000, 0).value(), 0x10000u);
}

TEST(Relink, RefusesWhatCannotBeSplit) {
    auto reason = [](const ElfImage& image) {
        auto planned = plan_relink(image, true);
        return planned.is_error() ? std::string(planned.error().what()) : std::string("accepted");
    };
    ElfImage two_codes = linked_image();
    two_codes.segments[1].executable = true;
    EXPECT_NE(reason(two_codes).find("more than one executable"), std::string::npos);
    ElfImage writable_code = linked_image();
    writable_code.segments[0].writable = true;
    EXPECT_NE(reason(writable_code).find("writable"), std::string::npos);
    ElfImage code_bss = linked_image();
    code_bss.segments[0].memory_size += 0x100;
    EXPECT_NE(reason(code_bss).find("bss"), std::string::npos);
    ElfImage no_code = linked_image();
    no_code.segments[0].executable = false;
    EXPECT_NE(reason(no_code).find("no executable"), std::string::npos);
    ElfImage code_only = linked_image();
    code_only.segment_count = 1;
    EXPECT_NE(reason(code_only).find("no data"), std::string::npos);
    ElfImage overlapping = linked_image();
    overlapping.segments[1].vaddr = 0x402000;
    EXPECT_NE(reason(overlapping).find("overlap"), std::string::npos);
    // One block takes all of these but the last two (it has no code of its own).
    EXPECT_FALSE(plan_relink(two_codes, false).is_error());
}

// ---- A real program ------------------------------------------------------------------------------------------

TEST(Relink, EveryAbsoluteAddressOfHelloHasAPlaceUnderEachLayout) {
    auto file = built_file("build/initrd/bin/hello");
    ASSERT_GT(file.size(), 1000u);
    auto image = parse_elf32(file.data(), file.size(), ElfLimits{});
    ASSERT_FALSE(image.is_error()) << image.error().what();
    auto one = plan_relink(image.value(), false), split = plan_relink(image.value(), true);
    ASSERT_FALSE(one.is_error()) << one.error().what();
    ASSERT_FALSE(split.is_error()) << split.error().what();
    uint32_t sites = 0, code_in_data = 0, unplaced = 0;
    auto walked = for_each_absolute_relocation(Span<const u8>(file.data(), file.size()), [&](RelocationSite site) {
        ++sites;
        uint32_t word;
        std::memcpy(&word, &file[site.file_offset], 4);
        // Every site lies in the code or the data block, and its word has a place in both layouts.
        bool in_code = split.value().in_code(site.offset, 4), in_data = split.value().in_block(site.offset, 4);
        if (in_code == in_data || one.value().relink(word, 0).is_error()) ++unplaced;
        auto relinked = split.value().relink(word, 0);
        if (relinked.is_error()) {
            ++unplaced;
            return;
        }
        // A code address kept in data (a switch table, a function pointer) became a code offset.
        if (in_data && split.value().in_code(word, 0) && !split.value().in_block(word, 0)) {
            ++code_in_data;
            EXPECT_LT(relinked.value(), split.value().code.memory_size + 1);
        }
    });
    ASSERT_FALSE(walked.is_error()) << walked.error().what();
    EXPECT_GE(sites, 200u);
    EXPECT_EQ(unplaced, 0u);
    EXPECT_GT(code_in_data, 0u) << "hello keeps no code address in its data: the split is not exercised";
}

}  // namespace
