// CpuTablesTest.cpp: the MADT and MP table parsers on hand-built tables: good ones, bad checksums, cut-off
// tables, disabled CPUs and entries that lie about their length.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "format/CpuTables.h"

namespace {

using Bytes = std::vector<uint8_t>;

void put32(Bytes& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = static_cast<uint8_t>(v);
    b[at + 1] = static_cast<uint8_t>(v >> 8);
}
// Sets b[at] so that bytes [from, from + length) sum to 0.
void fix_checksum(Bytes& b, size_t at, size_t from, size_t length) {
    b[at] = 0;
    b[at] = static_cast<uint8_t>(-cpu_tables::checksum(b.data() + from, static_cast<u32>(length)));
}

// An MADT with one type 0 entry per (APIC id, enabled) pair, then whatever `extra` holds.
Bytes madt(const std::vector<std::pair<uint8_t, bool>>& cpus, const Bytes& extra = {}) {
    Bytes b(44);
    memcpy(b.data(), "APIC", 4);
    b[8] = 4;  // revision
    put32(b, 36, 0xFEE00000);
    put32(b, 40, 1);  // PCAT_COMPAT
    uint8_t uid = 0;
    for (auto [id, enabled] : cpus) {
        Bytes e = {0, 8, uid++, id, static_cast<uint8_t>(enabled ? 1 : 0), 0, 0, 0};
        b.insert(b.end(), e.begin(), e.end());
    }
    b.insert(b.end(), extra.begin(), extra.end());
    put32(b, 4, static_cast<uint32_t>(b.size()));
    fix_checksum(b, 9, 0, b.size());
    return b;
}

// An MP configuration table with one processor entry per (APIC id, flags) and a bus entry between.
Bytes mp_table(const std::vector<std::pair<uint8_t, uint8_t>>& cpus) {
    Bytes b(44);
    memcpy(b.data(), "PCMP", 4);
    b[6] = 4;
    put32(b, 36, 0xFEE00000);
    uint16_t entries = 0;
    for (auto [id, flags] : cpus) {
        Bytes e(20, 0);
        e[1] = id;
        e[2] = 0x14;
        e[3] = flags;
        b.insert(b.end(), e.begin(), e.end());
        Bytes bus = {1, 0, 'I', 'S', 'A', ' ', ' ', ' '};
        b.insert(b.end(), bus.begin(), bus.end());
        entries += 2;
    }
    put16(b, 4, static_cast<uint16_t>(b.size()));
    put16(b, 34, entries);
    fix_checksum(b, 7, 0, b.size());
    return b;
}

TEST(CpuTables, FindsTheRsdpOnASixteenByteBoundary) {
    Bytes area(4096, 0xAA);
    Bytes rsdp(20, 0);
    memcpy(rsdp.data(), "RSD PTR ", 8);
    memcpy(rsdp.data() + 9, "BOCHS ", 6);
    put32(rsdp, 16, 0x07FE1234);
    fix_checksum(rsdp, 8, 0, 20);
    std::copy(rsdp.begin(), rsdp.end(), area.begin() + 0x230);
    auto found = cpu_tables::find_rsdp(area.data(), static_cast<u32>(area.size()));
    ASSERT_FALSE(found.is_error()) << found.error().what();
    EXPECT_EQ(found.value(), 0x07FE1234u);

    // Off the 16-byte grid it is not an RSDP (ACPI 5.2.5.1).
    Bytes shifted(4096, 0);
    std::copy(rsdp.begin(), rsdp.end(), shifted.begin() + 0x238);
    EXPECT_EQ(cpu_tables::find_rsdp(shifted.data(), 4096).error().code, Error::NoEntry);
}

TEST(CpuTables, RsdpWithABadChecksumIsReportedAndIgnored) {
    Bytes area(256, 0);
    memcpy(area.data() + 32, "RSD PTR ", 8);
    put32(area, 48, 0x1000);
    auto found = cpu_tables::find_rsdp(area.data(), 256);
    ASSERT_TRUE(found.is_error());
    EXPECT_NE(strstr(found.error().what(), "bad checksum"), nullptr) << found.error().what();
    // A signature that starts near the end, without its 20 bytes, is never read past the buffer.
    Bytes tail(24, 0);
    memcpy(tail.data() + 16, "RSD PTR ", 8);
    EXPECT_TRUE(cpu_tables::find_rsdp(tail.data(), 24).is_error());
}

TEST(CpuTables, ReadsEveryProcessorOfAGoodMadt) {
    Bytes t = madt({{0, true}, {1, true}, {2, false}, {7, true}});
    auto length = cpu_tables::check_table(t.data(), static_cast<u32>(t.size()), "APIC");
    ASSERT_FALSE(length.is_error()) << length.error().what();
    CpuList list;
    auto parsed = cpu_tables::parse_madt(t.data(), length.value(), list);
    ASSERT_FALSE(parsed.is_error()) << parsed.error().what();
    EXPECT_EQ(list.local_apic_address, 0xFEE00000u);
    ASSERT_EQ(list.count, 4u);
    EXPECT_EQ(list.enabled_count(), 3u);
    EXPECT_EQ(list.cpus[2].apic_id, 2);
    EXPECT_FALSE(list.cpus[2].enabled);
    EXPECT_EQ(list.cpus[3].apic_id, 7);
}

TEST(CpuTables, SkipsOtherMadtEntriesAndHonoursTheAddressOverride) {
    Bytes io_apic = {1, 12, 0, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0};
    Bytes override_entry = {5, 12, 0, 0, 0, 0, 0xD0, 0xFE, 0, 0, 0, 0};
    Bytes extra = io_apic;
    extra.insert(extra.end(), override_entry.begin(), override_entry.end());
    Bytes t = madt({{0, true}, {1, true}}, extra);
    CpuList list;
    ASSERT_FALSE(cpu_tables::parse_madt(t.data(), static_cast<u32>(t.size()), list).is_error());
    EXPECT_EQ(list.count, 2u);
    EXPECT_EQ(list.local_apic_address, 0xFED00000u);
}

TEST(CpuTables, MadtWithABadChecksumIsRefused) {
    Bytes t = madt({{0, true}, {1, true}});
    t[t.size() - 1] ^= 1;
    auto length = cpu_tables::check_table(t.data(), static_cast<u32>(t.size()), "APIC");
    ASSERT_TRUE(length.is_error());
    EXPECT_NE(strstr(length.error().what(), "checksum"), nullptr) << length.error().what();
}

TEST(CpuTables, TruncatedTablesAreRefusedWithoutReadingPastThem) {
    Bytes t = madt({{0, true}, {1, true}});
    // The header claims more bytes than there are.
    auto cut = cpu_tables::check_table(t.data(), static_cast<u32>(t.size() - 4), "APIC");
    ASSERT_TRUE(cut.is_error());
    EXPECT_NE(strstr(cut.error().what(), "runs past"), nullptr) << cut.error().what();
    // Fewer bytes than a header.
    EXPECT_TRUE(cpu_tables::table_length(t.data(), 20, "APIC").is_error());
    // The wrong table.
    EXPECT_TRUE(cpu_tables::table_length(t.data(), static_cast<u32>(t.size()), "FACP").is_error());
    // A length below the header's own.
    Bytes short_length = t;
    put32(short_length, 4, 10);
    EXPECT_TRUE(cpu_tables::table_length(short_length.data(), static_cast<u32>(t.size()), "APIC").is_error());
}

TEST(CpuTables, MadtEntriesThatLieAboutTheirLengthStopTheParse) {
    // An entry of length 0 would loop forever if believed; one of length 200 would run past the table.
    for (uint8_t bad_length : {0, 1, 200}) {
        Bytes extra = {0, bad_length, 9, 9, 1, 0, 0, 0};
        Bytes t = madt({{0, true}}, extra);
        CpuList list;
        auto parsed = cpu_tables::parse_madt(t.data(), static_cast<u32>(t.size()), list);
        EXPECT_TRUE(parsed.is_error()) << "length " << int(bad_length);
        EXPECT_EQ(list.count, 1u);  // what came before the bad entry is kept
    }
    // A processor entry too short for its fields.
    Bytes extra = {0, 4, 1, 1};
    Bytes t = madt({}, extra);
    CpuList list;
    EXPECT_TRUE(cpu_tables::parse_madt(t.data(), static_cast<u32>(t.size()), list).is_error());
    EXPECT_EQ(list.count, 0u);
}

TEST(CpuTables, MoreCpusThanTheListHoldsAreCounted) {
    std::vector<std::pair<uint8_t, bool>> cpus;
    for (uint8_t i = 0; i < CpuList::kMaxCpus + 3; ++i) cpus.push_back({i, true});
    Bytes t = madt(cpus);
    CpuList list;
    ASSERT_FALSE(cpu_tables::parse_madt(t.data(), static_cast<u32>(t.size()), list).is_error());
    EXPECT_EQ(list.count, CpuList::kMaxCpus);
    EXPECT_EQ(list.dropped, 3u);
}

TEST(CpuTables, RsdtEntries) {
    Bytes t(44, 0);
    memcpy(t.data(), "RSDT", 4);
    put32(t, 4, 44);
    put32(t, 36, 0x07FE0100);
    put32(t, 40, 0x07FE0200);
    fix_checksum(t, 9, 0, 44);
    auto length = cpu_tables::check_table(t.data(), 44, "RSDT");
    ASSERT_FALSE(length.is_error()) << length.error().what();
    ASSERT_EQ(cpu_tables::rsdt_entry_count(t.data(), length.value()), 2u);
    EXPECT_EQ(cpu_tables::rsdt_entry(t.data(), 1), 0x07FE0200u);
}

TEST(CpuTables, MpFloatingPointerAndTable) {
    Bytes area(1024, 0);
    uint8_t* fp = area.data() + 0x40;
    memcpy(fp, "_MP_", 4);
    Bytes fpb(16, 0);
    memcpy(fpb.data(), "_MP_", 4);
    put32(fpb, 4, 0x000F1000);
    fpb[8] = 1;
    fpb[9] = 4;
    fix_checksum(fpb, 10, 0, 16);
    memcpy(fp, fpb.data(), 16);
    auto found = cpu_tables::find_mp_floating_pointer(area.data(), 1024);
    ASSERT_FALSE(found.is_error()) << found.error().what();
    EXPECT_EQ(found.value(), 0x000F1000u);

    Bytes t = mp_table({{0, 3}, {1, 1}, {2, 0}});
    CpuList list;
    auto parsed = cpu_tables::parse_mp_table(t.data(), static_cast<u32>(t.size()), list);
    ASSERT_FALSE(parsed.is_error()) << parsed.error().what();
    ASSERT_EQ(list.count, 3u);
    EXPECT_TRUE(list.cpus[0].bootstrap);
    EXPECT_FALSE(list.cpus[1].bootstrap);
    EXPECT_EQ(list.enabled_count(), 2u);
    EXPECT_EQ(list.local_apic_address, 0xFEE00000u);
}

TEST(CpuTables, BadMpTablesAreRefused) {
    Bytes t = mp_table({{0, 3}, {1, 1}});
    CpuList list;
    Bytes bad_sum = t;
    bad_sum[50] ^= 0x10;
    EXPECT_TRUE(cpu_tables::parse_mp_table(bad_sum.data(), static_cast<u32>(t.size()), list).is_error());
    EXPECT_TRUE(cpu_tables::parse_mp_table(t.data(), static_cast<u32>(t.size() - 1), list).is_error());
    // An entry count beyond the table's length.
    Bytes too_many = t;
    put16(too_many, 34, 9);
    fix_checksum(too_many, 7, 0, too_many.size());
    EXPECT_TRUE(cpu_tables::parse_mp_table(too_many.data(), static_cast<u32>(t.size()), list).is_error());
    // An unknown entry type: its length is unknown, so the parse stops.
    Bytes unknown = t;
    unknown[44] = 9;
    fix_checksum(unknown, 7, 0, unknown.size());
    EXPECT_TRUE(cpu_tables::parse_mp_table(unknown.data(), static_cast<u32>(t.size()), list).is_error());
    // A default configuration (no table) is not supported.
    Bytes fpb(16, 0);
    memcpy(fpb.data(), "_MP_", 4);
    fpb[8] = 1;
    fpb[11] = 5;
    fix_checksum(fpb, 10, 0, 16);
    EXPECT_EQ(cpu_tables::find_mp_floating_pointer(fpb.data(), 16).error().code, Error::NotImplemented);
}

}  // namespace
