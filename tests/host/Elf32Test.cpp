// Elf32Test.cpp: the executable validator accepts what the loader can map and refuses, in words, the rest.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "format/Elf32.h"
#include "tests/host/FormatTestSupport.h"

using format_test::make_elf;
using format_test::Segment;

namespace {

std::string error_of(const std::vector<uint8_t>& file) {
    auto result = parse_elf32(file.data(), file.size(), ElfLimits{});
    EXPECT_TRUE(result.is_error());
    if (!result.is_error()) return "";
    EXPECT_EQ(result.error().code, Error::BadExecutable);
    return result.error().reason;
}

TEST(Elf32, TypicalProgramParses) {
    auto file = make_elf({{1, 0x400000, 0x1234, 0x1234, 5}, {1, 0x402000, 0x3000, 0x100, 6}}, 0x400010);
    auto image = parse_elf32(file.data(), file.size(), ElfLimits{});
    ASSERT_FALSE(image.is_error()) << image.error().what();
    EXPECT_EQ(image.value().entry, 0x400010u);
    ASSERT_EQ(image.value().segment_count, 2u);
    EXPECT_TRUE(image.value().segments[0].executable);
    EXPECT_FALSE(image.value().segments[0].writable);
    EXPECT_TRUE(image.value().segments[1].writable);
    EXPECT_EQ(image.value().segments[1].file_size, 0x100u);
    EXPECT_EQ(image.value().segments[1].memory_size, 0x3000u);
    EXPECT_EQ(image.value().end, 0x405000u);
}

TEST(Elf32, WrongMagicClassMachineAndType) {
    auto good = make_elf({{1, 0x400000, 0x1000, 0x1000, 5}}, 0x400000);
    auto file = good;
    file[1] = 'X';
    EXPECT_NE(error_of(file).find("not an ELF"), std::string::npos);
    file = good;
    file[4] = 2;
    EXPECT_NE(error_of(file).find("64-bit"), std::string::npos);
    file = good;
    file[18] = 62;  // EM_X86_64
    EXPECT_NE(error_of(file).find("not i386"), std::string::npos);
    file = good;
    file[16] = 3;  // ET_DYN
    EXPECT_NE(error_of(file).find("position-independent"), std::string::npos);
}

TEST(Elf32, TruncatedFilesAreRefused) {
    auto good = make_elf({{1, 0x400000, 0x2000, 0x2000, 5}}, 0x400000);
    for (size_t cut : {size_t(0), size_t(10), size_t(60), good.size() - 1}) {
        std::vector<uint8_t> file(good.begin(), good.begin() + cut);
        EXPECT_FALSE(error_of(file).empty()) << "cut at " << cut;
    }
    EXPECT_NE(error_of(std::vector<uint8_t>(good.begin(), good.end() - 1)).find("truncated"), std::string::npos);
}

TEST(Elf32, SegmentsInTheKernelHalfOrPageZeroAreRefused) {
    EXPECT_NE(error_of(make_elf({{1, 0xBFFFF000, 0x2000, 0x10, 5}}, 0xBFFFF000)).find("kernel half"),
              std::string::npos);
    EXPECT_NE(error_of(make_elf({{1, 0xC0100000, 0x1000, 0x10, 5}}, 0xC0100000)).find("kernel half"),
              std::string::npos);
    EXPECT_NE(error_of(make_elf({{1, 0x0, 0x1000, 0x10, 5}}, 0x0)).find("below"), std::string::npos);
    // vaddr + memsz wrapping around 4 GiB.
    EXPECT_NE(error_of(make_elf({{1, 0x400000, 0xFFFFF000, 0x10, 5}}, 0x400000)).find("kernel half"),
              std::string::npos);
}

TEST(Elf32, OverlapsBadSizesAndEntryAreRefused) {
    EXPECT_NE(
        error_of(make_elf({{1, 0x400000, 0x2000, 0x10, 5}, {1, 0x401000, 0x1000, 0x10, 6}}, 0x400000)).find("overlap"),
        std::string::npos);
    auto file = make_elf({{1, 0x400000, 0x1000, 0x1000, 5}}, 0x400000);
    uint32_t filesz = 0x2000;  // larger than memsz
    std::memcpy(&file[52 + 16], &filesz, 4);
    EXPECT_NE(error_of(file).find("exceeds memory size"), std::string::npos);
    EXPECT_NE(error_of(make_elf({{1, 0x400000, 0x1000, 0x10, 6}}, 0x400000)).find("entry point"), std::string::npos);
    EXPECT_NE(error_of(make_elf({{1, 0x400000, 0x1000, 0x10, 5}}, 0x500000)).find("entry point"), std::string::npos);
}

TEST(Elf32, DynamicProgramsAreRefused) {
    EXPECT_NE(error_of(make_elf({{3, 0x400000, 0x20, 0x20, 4}, {1, 0x400000, 0x1000, 0x10, 5}}, 0x400000))
                  .find("dynamically linked"),
              std::string::npos);
}

TEST(Elf32, HostBinaryIsA64BitProgram) {
    std::ifstream in("/bin/sh", std::ios::binary);
    std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(file.size(), 64u);
    EXPECT_NE(error_of(file).find("64-bit"), std::string::npos);
}

}  // namespace
