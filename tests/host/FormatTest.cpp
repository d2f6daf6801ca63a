// FormatTest.cpp: the shared printf-style formatter against the C library's printf on the same inputs.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "libc/base/Format.h"

namespace {

template <typename... Args>
std::string mneme(const char* fmt, Args... args) {
    char buffer[256];
    format_to_buffer(buffer, sizeof(buffer), fmt, args...);
    return buffer;
}

template <typename... Args>
std::string libc(const char* fmt, Args... args) {
    char buffer[256];
    snprintf(buffer, sizeof(buffer), fmt, args...);
    return buffer;
}

#define EXPECT_LIKE_LIBC(...) EXPECT_EQ(mneme(__VA_ARGS__), libc(__VA_ARGS__)) << "format: " << #__VA_ARGS__

// The format strings are not literals here, so GCC cannot check them; that is the point of the table.
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

TEST(Format, IntegersMatchLibc) {
    const char* formats[] = {"%d", "%5d", "%-5d|", "%05d", "%+d", "% d", "%.3d", "%8.3d", "%-8.3d|", "%i", "%.0d"};
    int values[] = {0, 1, -1, 42, -42, 123456, -2147483647 - 1, 2147483647};
    for (const char* f : formats)
        for (int v : values) EXPECT_LIKE_LIBC(f, v);
}

TEST(Format, UnsignedHexOctalMatchLibc) {
    const char* formats[] = {"%u", "%x", "%X", "%o", "%#x", "%#X", "%#o", "%08x", "%#010x", "%-8x|", "%.4x", "%#.0o"};
    unsigned values[] = {0, 1, 7, 8, 255, 0xdeadbeef, 4294967295u};
    for (const char* f : formats)
        for (unsigned v : values) EXPECT_LIKE_LIBC(f, v);
}

TEST(Format, LengthModifiers) {
    EXPECT_LIKE_LIBC("%hhd", 300);
    EXPECT_LIKE_LIBC("%hd", 70000);
    EXPECT_LIKE_LIBC("%ld", -1234567890L);
    EXPECT_LIKE_LIBC("%lld", -1234567890123LL);
    EXPECT_LIKE_LIBC("%llx", 0x123456789abcdefULL);
    EXPECT_LIKE_LIBC("%zu", static_cast<size_t>(12345));
    EXPECT_LIKE_LIBC("%td", static_cast<ptrdiff_t>(-5));
    EXPECT_LIKE_LIBC("%jd", static_cast<intmax_t>(-9));
}

TEST(Format, StringsAndChars) {
    EXPECT_LIKE_LIBC("%s", "hello");
    EXPECT_LIKE_LIBC("%10s|", "hi");
    EXPECT_LIKE_LIBC("%-10s|", "hi");
    EXPECT_LIKE_LIBC("%.3s", "abcdef");
    EXPECT_LIKE_LIBC("%*s|", 6, "ab");
    EXPECT_LIKE_LIBC("%-*s|", 6, "ab");
    EXPECT_LIKE_LIBC("%*s|", -6, "ab");
    EXPECT_LIKE_LIBC("%.*s", 2, "abcdef");
    EXPECT_LIKE_LIBC("%c%c%c", 'a', 'b', 'c');
    EXPECT_LIKE_LIBC("%3c|", 'x');
    EXPECT_LIKE_LIBC("100%%");
}

TEST(Format, NullStringPrintsPlaceholder) { EXPECT_EQ(mneme("%s", static_cast<const char*>(nullptr)), "(null)"); }

TEST(Format, PointerIsFullWidthHex) {
    std::string expected = "0x" + std::string(sizeof(void*) * 2 - 4, '0') + "beef";
    EXPECT_EQ(mneme("%p", reinterpret_cast<void*>(0xbeef)), expected);
}

TEST(Format, BinaryExtension) {
    EXPECT_EQ(mneme("%b", 5u), "101");
    EXPECT_EQ(mneme("%08b", 5u), "00000101");
    EXPECT_EQ(mneme("%#b", 5u), "0b101");
}

TEST(Format, TruncatesLikeSnprintf) {
    char buffer[6];
    int n = format_to_buffer(buffer, sizeof(buffer), "%s", "hello world");
    EXPECT_EQ(n, 11);
    EXPECT_STREQ(buffer, "hello");
    n = format_to_buffer(buffer, 0, "%d", 12345);
    EXPECT_EQ(n, 5);
    n = format_to_buffer(buffer, 1, "%d", 12345);
    EXPECT_STREQ(buffer, "");
}

TEST(Format, UnknownConversionIsVisible) { EXPECT_EQ(mneme("a%qb"), "a%qb"); }

TEST(Format, MixedLine) { EXPECT_LIKE_LIBC("%-12s %08x %5u%%  [%c]", "kernel", 0xc0100000u, 42u, 'R'); }

}  // namespace
