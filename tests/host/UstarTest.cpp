// UstarTest.cpp: the initrd's archive reader on good archives, real tar output and damaged ones.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "format/Ustar.h"
#include "tests/host/FormatTestSupport.h"

using format_test::TarBuilder;

namespace {

std::vector<UstarMember> all_members(UstarReader& reader) {
    std::vector<UstarMember> members;
    UstarMember m;
    while (reader.next(m)) members.push_back(m);
    return members;
}

TEST(Ustar, ReadsMembersInOrder) {
    TarBuilder tar;
    tar.add("./", "", '5');
    tar.add("./bin/init", std::string(1000, 'i'));
    tar.add("./bin/sh", "shell");
    std::vector<uint8_t> archive = tar.finish();
    UstarReader reader(archive.data(), archive.size());
    auto members = all_members(reader);
    ASSERT_EQ(members.size(), 3u);
    EXPECT_EQ(reader.error(), Error::None);
    EXPECT_TRUE(members[0].is_directory());
    EXPECT_STREQ(members[1].name, "bin/init");
    EXPECT_EQ(members[1].size, 1000u);
    EXPECT_EQ(members[1].data[999], 'i');
    EXPECT_STREQ(members[2].name, "bin/sh");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(members[2].data), members[2].size), "shell");
}

TEST(Ustar, FindAcceptsEquivalentPaths) {
    TarBuilder tar;
    tar.add("./bin/hello", "hi");
    std::vector<uint8_t> archive = tar.finish();
    for (const char* path : {"bin/hello", "/bin/hello", "./bin/hello"}) {
        auto found = UstarReader::find(archive.data(), archive.size(), path);
        ASSERT_FALSE(found.is_error()) << path;
        EXPECT_EQ(found.value().size, 2u);
    }
    auto missing = UstarReader::find(archive.data(), archive.size(), "bin/nope");
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error(), Error::NoEntry);
}

TEST(Ustar, ReadsWhatGnuTarWrites) {
    // The Makefile builds the initrd with GNU tar --format=ustar: read such an archive for real.
    char dir[] = "/tmp/mneme-ustar-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string root = dir;
    ASSERT_EQ(std::system(("mkdir -p " + root + "/in/bin && printf 'abc' > " + root +
                           "/in/bin/a && head -c 5000 "
                           "/dev/zero > " +
                           root + "/in/bin/b")
                              .c_str()),
              0);
    ASSERT_EQ(std::system(("tar --format=ustar -C " + root + "/in -cf " + root + "/x.tar .").c_str()), 0);
    std::ifstream in(root + "/x.tar", std::ios::binary);
    std::vector<uint8_t> archive((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto a = UstarReader::find(archive.data(), archive.size(), "bin/a");
    auto b = UstarReader::find(archive.data(), archive.size(), "/bin/b");
    ASSERT_FALSE(a.is_error());
    ASSERT_FALSE(b.is_error());
    EXPECT_EQ(a.value().size, 3u);
    EXPECT_EQ(b.value().size, 5000u);
    std::system(("rm -rf " + root).c_str());
}

TEST(Ustar, DamagedChecksumIsReportedWithTheMember) {
    TarBuilder tar;
    tar.add("bin/init", "x");
    std::vector<uint8_t> archive = tar.finish();
    archive[0] = 'B';  // the name changes, the stored checksum does not
    UstarReader reader(archive.data(), archive.size());
    UstarMember m;
    EXPECT_FALSE(reader.next(m));
    EXPECT_EQ(reader.error(), Error::Invalid);
    EXPECT_NE(std::string(reader.error_message()).find("checksum"), std::string::npos);
    auto found = UstarReader::find(archive.data(), archive.size(), "bin/init");
    EXPECT_EQ(found.error(), Error::Invalid);
}

TEST(Ustar, SizePastTheEndIsRefused) {
    TarBuilder tar;
    tar.add("big", std::string(3000, 'z'));
    std::vector<uint8_t> archive = tar.bytes;
    archive.resize(512 + 1024);  // cut inside the data
    UstarReader reader(archive.data(), archive.size());
    UstarMember m;
    EXPECT_FALSE(reader.next(m));
    EXPECT_NE(std::string(reader.error_message()).find("runs past the end"), std::string::npos);
}

TEST(Ustar, NotAnArchive) {
    std::vector<uint8_t> junk(2048, 'A');
    UstarReader reader(junk.data(), junk.size());
    UstarMember m;
    EXPECT_FALSE(reader.next(m));
    EXPECT_EQ(reader.error(), Error::Invalid);
    std::vector<uint8_t> tiny(100, 0);
    UstarReader short_reader(tiny.data(), tiny.size());
    EXPECT_FALSE(short_reader.next(m));
    EXPECT_EQ(short_reader.error(), Error::Invalid);
    UstarReader empty(nullptr, 0);
    EXPECT_FALSE(empty.next(m));
    EXPECT_EQ(empty.error(), Error::None);
}

TEST(Ustar, NonOctalSizeIsRefused) {
    TarBuilder tar;
    tar.add("f", "data");
    std::vector<uint8_t> archive = tar.finish();
    archive[124] = '9';
    // Recompute the checksum so only the size field is wrong.
    std::memset(&archive[148], ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i) sum += archive[i];
    std::snprintf(reinterpret_cast<char*>(&archive[148]), 8, "%06o", sum);
    archive[155] = ' ';
    UstarReader reader(archive.data(), archive.size());
    UstarMember m;
    EXPECT_FALSE(reader.next(m));
    EXPECT_NE(std::string(reader.error_message()).find("not octal"), std::string::npos);
}

}  // namespace
